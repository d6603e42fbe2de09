//! `veil keygen`: create an age identity at sops's default key file path, the first step of a
//! new setup. It never overwrites a key: with `--append` it adds a new identity to the file.
//!
//! The default is a classic X25519 identity, which every sops and age reads. `--pq` makes a
//! hybrid post-quantum one (`AGE-SECRET-KEY-PQ-1…`, recipient `age1pq1…`), which sops 3.12+
//! and age 1.3+ read, but older ones do not.

use crate::error::{Code, Error, Result};
use age::secrecy::ExposeSecret;
use std::io::Write;
use std::path::PathBuf;

pub fn run(output: Option<&str>, append: bool, pq: bool) -> Result<i32> {
    let path = match output {
        Some(p) => PathBuf::from(p),
        None => crate::keys::age::default_key_file().ok_or_else(|| {
            Error::generic("cannot find the default key file location: neither XDG_CONFIG_HOME nor HOME is set")
                .hint("pass --output PATH")
        })?,
    };
    let exists = path.exists();
    if exists && !append {
        return Err(Error::generic(format!(
            "{} already exists; not overwriting a key",
            path.display()
        ))
        .hint("use --append to add another identity to it, or --output to write elsewhere"));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir).map_err(|e| {
            Error::new(
                Code::CouldNotWriteOutputFile,
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
    }
    let (public, secret) = if pq {
        let id = age::pq::Identity::generate();
        (id.to_public().to_string(), id.to_string())
    } else {
        #[allow(deprecated)] // X25519 is what every sops reads
        let id = age::x25519::Identity::generate();
        (id.to_public().to_string(), id.to_string())
    };
    let now = crate::engine::Context::system().timestamp();
    let text = zeroize::Zeroizing::new(format!(
        "# created: {now}\n# public key: {public}\n{}\n",
        secret.expose_secret()
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&path).map_err(|e| {
        Error::new(
            Code::CouldNotWriteOutputFile,
            format!("cannot write {}: {e}", path.display()),
        )
    })?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| {
            Error::new(
                Code::CouldNotWriteOutputFile,
                format!("cannot write {}: {e}", path.display()),
            )
        })?;
    eprintln!(
        "{} age identity {}",
        if exists { "appended" } else { "created" },
        path.display()
    );
    println!("{public}");
    Ok(0)
}
