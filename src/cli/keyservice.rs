//! `veil keyservice`, and the client-side `--keyservice`/`--enable-local-keyservice` options
//! every command takes (`SOPS_KEYSERVICE`, `SOPS_ENABLE_LOCAL_KEYSERVICE`). The protocol and
//! the server live in `crate::keyservice`; this file only turns the command line into them.

use super::args::{GlobalArgs, KeyserviceArgs};
use crate::error::{Code, Error, Result};

/// Set this run's key services from the global options (before any key is used).
pub fn configure(g: &GlobalArgs) -> Result<()> {
    #[cfg(feature = "keyservice")]
    {
        let mut remote = Vec::new();
        for uri in g.keyservice.iter().filter(|u| !u.trim().is_empty()) {
            let e = crate::keyservice::Endpoint::parse_uri(uri.trim())?;
            super::log::step(format!("key service: {}", e.uri()));
            remote.push(e);
        }
        if !g.enable_local_keyservice {
            super::log::step("local key service: disabled");
        }
        crate::keyservice::configure(crate::keyservice::Services {
            local: g.enable_local_keyservice,
            remote,
        });
        Ok(())
    }
    #[cfg(not(feature = "keyservice"))]
    {
        if !g.keyservice.is_empty() || !g.enable_local_keyservice {
            return Err(not_built());
        }
        Ok(())
    }
}

#[cfg(not(feature = "keyservice"))]
fn not_built() -> Error {
    Error::new(Code::Generic, "this veil build has no key service support")
        .hint("build veil with the `keyservice` feature (on by default)")
}

/// `veil keyservice`.
pub fn run(a: &KeyserviceArgs) -> Result<i32> {
    #[cfg(feature = "keyservice")]
    {
        use crate::keyservice::server::{run, Network, Options};
        let network = match a.network.as_str() {
            "unix" => Network::Unix,
            "tcp" => Network::Tcp,
            n => {
                return Err(Error::new(Code::Generic, format!("unknown network {n:?}"))
                    .hint("use --network unix or --network tcp"))
            }
        };
        run(&Options {
            network,
            address: a.address.clone(),
            allow_remote: a.allow_remote,
            verbose: super::log::enabled(),
        })
    }
    #[cfg(not(feature = "keyservice"))]
    {
        let _ = (a, Code::Generic);
        Err(not_built())
    }
}
