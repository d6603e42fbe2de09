//! `veil agent start|run|status|stop`: the command line of the caching agent. The agent itself
//! lives in `crate::keyservice::agent`; this file turns arguments into its options and prints
//! `status`.

use super::args::AgentArgs;
#[cfg(feature = "keyservice")]
use super::args::{AgentCommand, AgentRunArgs};
use crate::error::{Code, Error, Result};

/// `veil agent …`.
pub fn run(a: &AgentArgs) -> Result<i32> {
    #[cfg(feature = "keyservice")]
    {
        use crate::keyservice::agent::{client, daemon, socket_path};
        match &a.command {
            AgentCommand::Start(r) => daemon::start(&options(r)?),
            AgentCommand::Run(r) => daemon::run(&options(r)?),
            AgentCommand::Status => {
                let (path, _) = socket_path();
                let st = client::status(&path)?;
                let mut out = format!(
                    "agent: unix://{}\npid: {}\nttl: {}s\nmax entries: {}\nentries: {}\n",
                    path.display(),
                    st.pid,
                    st.ttl_seconds,
                    st.max_entries,
                    st.entries.len()
                );
                for e in &st.entries {
                    out.push_str(&format!(
                        "  {} {} (expires in {}s)\n",
                        e.kind, e.id, e.expires_in_seconds
                    ));
                }
                super::io::write_stdout(out.as_bytes())?;
                Ok(0)
            }
            AgentCommand::Stop => {
                let (path, _) = socket_path();
                client::stop(&path)?;
                // The agent removes its socket as it ends; wait for that, briefly.
                for _ in 0..100 {
                    if std::fs::symlink_metadata(&path).is_err() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                eprintln!("veil agent: stopped, its cache wiped");
                Ok(0)
            }
        }
    }
    #[cfg(not(feature = "keyservice"))]
    {
        let _ = a;
        Err(Error::new(Code::Generic, "this veil build has no agent")
            .hint("build veil with the `keyservice` feature (on by default)"))
    }
}

#[cfg(feature = "keyservice")]
fn options(r: &AgentRunArgs) -> Result<crate::keyservice::agent::daemon::Options> {
    let ttl = crate::keyservice::agent::parse_ttl(&r.ttl)?;
    if r.max_entries == 0 {
        return Err(
            Error::new(Code::Generic, "--max-entries must be at least 1")
                .hint("the agent caches at most this many keys"),
        );
    }
    Ok(crate::keyservice::agent::daemon::Options {
        ttl,
        max_entries: r.max_entries,
        verbose: super::log::enabled(),
        detached: r.detached,
    })
}
