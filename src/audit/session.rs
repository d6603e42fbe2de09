//! The audit entry of the one file a CLI command works on (decrypt, edit, set, exec-*, …).
//!
//! The command [`begin`]s it before it reads the file; the pipeline's observer fills in the
//! file's version and the keys that unwrapped its data key ([`unwrapping`], [`unwrapped_by`]);
//! a command that hands plaintext out of veil (to stdout, a child process, an editor, git)
//! calls [`release`] just before, which writes the entry; every command calls [`finish`] with
//! its result, which writes the entry if [`release`] did not (a failure, or a command that only
//! rewrites the file). So a command writes exactly one line, and in required mode the line is
//! on disk before any plaintext leaves veil: if it cannot be written, the plaintext is not
//! released.
//!
//! Process-wide because one command is one process; commands that work on many files
//! (updatekeys) write their entries with [`super::Log::append`] instead.

use super::{Access, Log, Outcome};
use crate::error::Result;
use crate::tree::Value;
use std::sync::Mutex;

enum Session {
    Open(Open),
    /// The log is required and could not be opened: nothing may be released.
    Denied(crate::error::Error),
}

struct Open {
    log: Log,
    access: Access,
    /// The file's master keys by sops name, with their kinds (from the metadata).
    names: Vec<(String, String)>,
    written: bool,
}

static CURRENT: Mutex<Option<Session>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Open) -> R) -> Option<R> {
    let mut g = CURRENT.lock().unwrap_or_else(|p| p.into_inner());
    match g.as_mut() {
        Some(Session::Open(s)) => Some(f(s)),
        _ => None,
    }
}

/// Start the entry of `command` on `file` (`None` or `-` for stdin) when `VEIL_AUDIT` is set,
/// or else `conf` (the `.sops.yaml` in effect, read only then) has `veil.audit`.
/// In required mode an unusable log is an error here, before the file is read.
///
/// After that error, [`release`] refuses too, for a caller that goes on without plaintext
/// (the textconv driver shows the ciphertext rather than make git fail).
pub fn begin(
    command: &str,
    file: Option<&str>,
    conf: impl FnOnce() -> Option<crate::config::Config>,
) -> Result<()> {
    let log = match Log::for_command(conf) {
        Ok(Some(log)) => log,
        Ok(None) => return Ok(()),
        Err(e) => {
            *CURRENT.lock().unwrap_or_else(|p| p.into_inner()) = Some(Session::Denied(e.clone()));
            return Err(e);
        }
    };
    let file = file.filter(|f| *f != "-").map(super::absolute);
    let s = Session::Open(Open {
        log,
        access: Access {
            command: command.to_string(),
            file,
            ..Access::default()
        },
        names: Vec::new(),
        written: false,
    });
    *CURRENT.lock().unwrap_or_else(|p| p.into_inner()) = Some(s);
    Ok(())
}

/// The data key of a file with this metadata is about to be unwrapped.
pub fn unwrapping(meta: Option<&Value>) {
    let Some(meta) = meta else { return };
    with(|s| {
        let (mac, lm) = super::version_of(meta);
        s.access.mac = mac;
        s.access.lastmodified = lm;
        s.names = crate::metadata::Metadata::from_tree(meta)
            .map(|m| {
                m.key_groups
                    .iter()
                    .flatten()
                    .map(|k| (k.key.sops_name(), k.key.kind().to_string()))
                    .collect()
            })
            .unwrap_or_default();
    });
}

/// The master keys (sops's names) that unwrapped the data key.
pub fn unwrapped_by(by: &[String]) {
    with(|s| {
        s.access.keys = by
            .iter()
            .map(|name| super::KeyUse {
                kind: s
                    .names
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or_else(|| "unknown".to_string(), |(_, k)| k.clone()),
                id: name.clone(),
            })
            .collect();
    });
}

/// Plaintext is about to leave veil: write the entry now, with outcome `ok`. An error (in
/// required mode) means the plaintext must not be released.
pub fn release() -> Result<()> {
    if let Some(Session::Denied(e)) = CURRENT.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        return Err(e.clone());
    }
    write(Outcome::Ok)
}

/// The command ended with `r`: write the entry unless [`release`] already did. In required
/// mode a failure to write turns a success into an error.
pub fn finish<T>(r: &Result<T>) -> Result<()> {
    write(Outcome::of(r))
}

/// The command failed at `e` but goes on (the textconv driver shows the ciphertext): write
/// the entry now with that outcome.
pub fn failed(e: &crate::error::Error) {
    let _ = write(Outcome::Error(e.code.exit_code()));
}

fn write(outcome: Outcome) -> Result<()> {
    with(|s| {
        if s.written {
            return Ok(());
        }
        s.written = true;
        s.log.append(&s.access, outcome)
    })
    .unwrap_or(Ok(()))
}
