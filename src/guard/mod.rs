//! Process safety: what keeps a plaintext from outliving veil, from landing in a core dump, and
//! two veil commands from losing each other's changes.
//!
//! - [`harden`]: no core dumps (`PR_SET_DUMPABLE` 0, `RLIMIT_CORE` 0), before any secret is in
//!   memory.
//! - [`signals`]: one signal thread, started by the first registration; everything that may
//!   hold plaintext is registered with it while it is created, and a fatal signal removes it
//!   before veil ends. Children veil waits for get veil's signals.
//! - [`temp`]: private temporary files and directories named after their owner, and the sweep
//!   that removes what a killed veil (SIGKILL cannot be caught) left behind.
//! - [`lock`]: the advisory lock on a file being changed.
//!
//! [`start`] does the first at start-up (the signal thread starts when it is first needed).
//! Nothing here prints a value or a path's content.

pub mod lock;
pub mod signals;
pub mod temp;

/// Turn off core dumps for this process: a crash while a secret is in memory must not write it
/// to disk. `PR_SET_DUMPABLE` 0 (Linux) also keeps other processes of the same user from
/// attaching a debugger or reading `/proc/<pid>/mem`. The soft `RLIMIT_CORE` becomes 0; the hard
/// limit is kept, so a program veil runs inherits "no core" but may raise it again.
///
/// `exec` resets the dumpable flag: the editor and the programs of `exec-env`/`exec-file` are
/// dumpable again (only the inherited `RLIMIT_CORE` 0 stays with them).
pub fn harden() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    let core = rustix::process::getrlimit(rustix::process::Resource::Core);
    let _ = rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit {
            current: Some(0),
            maximum: core.maximum,
        },
    );
}

/// What every veil command does first: [`harden`]. The signal thread is not started here:
/// [`signals::tracked`] and the child runners start it before the first thing it would clean
/// up or forward to exists.
pub fn start() -> std::io::Result<()> {
    harden();
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn harden_turns_off_core_dumps() {
        super::harden();
        let core = rustix::process::getrlimit(rustix::process::Resource::Core);
        assert_eq!(core.current, Some(0));
        #[cfg(target_os = "linux")]
        assert_eq!(
            rustix::process::dumpable_behavior().unwrap(),
            rustix::process::DumpableBehavior::NotDumpable
        );
    }
}
