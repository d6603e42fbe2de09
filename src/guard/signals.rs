//! One signal thread for the whole process, so that no signal can end veil while a plaintext
//! file it made still exists, and so that a child veil waits for (a program run by
//! `exec-env`/`exec-file`) gets the signals meant for it.
//!
//! What must be cleaned up is registered here by the code that creates it, *while* it creates it
//! ([`tracked`]): a temporary file or directory, or an editor to stop. The thread is started by
//! the first registration (or the first forwarded child), before the thing exists: a command
//! that never makes one (`decrypt` to stdout, `--version`) has nothing a signal could leave
//! behind, so it ends by the signal's default action at no start-up cost (registering ~48
//! signals with signal-hook, one by one, and a thread cost about as much as a small decrypt). Every catchable signal
//! whose default action ends the process is caught (see [`caught_signals`]); on one of them the
//! thread takes the registry's lock for good, stops the registered children, removes the
//! registered paths, and then ends veil the way the signal would have (same signal, so the
//! parent sees e.g. "terminated by SIGTERM"). Because the lock is never released after that, a
//! temporary file cannot be created or renamed into place once cleanup has begun, and a rename
//! done under the lock ([`critical`]) either happened before cleanup (the target is the new
//! version) or not at all (the target is the old one).
//!
//! While a forwarded child runs ([`run_forwarding`]), signals are passed on to it instead and
//! veil goes on waiting, so the child's exit status becomes veil's and cleanup runs after it.
//!
//! Signals veil was started with ignored (`nohup`, SIGPIPE ignored by the Rust runtime) stay
//! ignored. SIGKILL and SIGSTOP cannot be caught, and SIGSEGV, SIGILL and SIGFPE are left alone
//! (a handler that returns would only re-run the faulting instruction): what such a death
//! leaves behind names its dead owner, and the next run removes it (`guard::temp::sweep`).
//!
//! This module must not print or log anything but the signal's name, and must not block in the
//! signal thread on anything a main thread can hold indefinitely.

use signal_hook::iterator::exfiltrator::origin::WithOrigin;
use signal_hook::iterator::SignalsInfo;
use signal_hook::low_level::siginfo::{Cause, Origin};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rustix::process::{Pid, Signal, WaitId, WaitIdOptions};

/// What a fatal signal must undo.
#[derive(Debug)]
pub enum Cleanup {
    /// A file to unlink.
    File(PathBuf),
    /// A directory to remove with everything in it.
    Dir(PathBuf),
    /// A child to stop (an editor): SIGTERM, or SIGHUP when veil got SIGHUP (editors save
    /// recovery data on it).
    Stop(Pid),
    /// Memory to wipe (the agent's cached keys): a function that must take only locks held
    /// briefly.
    Wipe(fn()),
}

struct State {
    next: u64,
    items: Vec<(u64, Cleanup)>,
    /// The child that gets veil's signals while it runs.
    forward: Option<Pid>,
}

static STATE: Mutex<State> = Mutex::new(State {
    next: 1,
    items: Vec::new(),
    forward: None,
});

fn state() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A registration; dropping it unregisters (the owner has removed the thing itself, or it has
/// become the target of a rename).
#[derive(Debug)]
pub struct Ticket(u64);

impl Drop for Ticket {
    fn drop(&mut self) {
        state().items.retain(|(id, _)| *id != self.0);
    }
}

/// Run `make` with signal cleanup held off, and register what it returns for cleanup. A fatal
/// signal arriving meanwhile waits until the registration is complete, so it finds the thing.
/// Starts the signal thread first if it is not running yet.
pub fn tracked<T, E: From<std::io::Error>>(
    make: impl FnOnce() -> Result<(T, Cleanup), E>,
) -> Result<(T, Ticket), E> {
    install()?;
    let mut st = state();
    let (value, cleanup) = make()?;
    let id = st.next;
    st.next += 1;
    st.items.push((id, cleanup));
    Ok((value, Ticket(id)))
}

/// Run `f` with signal cleanup held off (a rename into place, and unregistering what it moved).
pub fn critical<R>(f: impl FnOnce() -> R) -> R {
    let _st = state();
    f()
}

/// Start `cmd` (an editor) registered to be stopped on a fatal signal, wait for it, and
/// unregister it before it is reaped (a reaped PID may be reused by anything).
pub fn run_stoppable(cmd: &mut Command) -> std::io::Result<ExitStatus> {
    install()?;
    let (mut child, ticket) = tracked(|| {
        let child = cmd.spawn()?;
        let pid = Pid::from_child(&child);
        Ok::<_, std::io::Error>((child, Cleanup::Stop(pid)))
    })?;
    wait_exited(&child);
    drop(ticket);
    child.wait()
}

/// Start `cmd` and pass it veil's signals until it exits (see [`should_forward`]); return its
/// status. The PID is forgotten before the child is reaped.
pub fn run_forwarding(cmd: &mut Command) -> std::io::Result<ExitStatus> {
    install()?;
    let mut child = {
        let mut st = state();
        let child = cmd.spawn()?;
        st.forward = Some(Pid::from_child(&child));
        child
    };
    wait_exited(&child);
    state().forward = None;
    child.wait()
}

/// Wait until `child` has exited without reaping it (WNOWAIT), so its PID stays its own.
fn wait_exited(child: &Child) {
    let pid = Pid::from_child(child);
    while let Err(rustix::io::Errno::INTR) = rustix::process::waitid(
        WaitId::Pid(pid),
        WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
    ) {}
}

/// Kernel-sent SIGINT, SIGQUIT and SIGHUP come from the terminal and went to the whole
/// foreground process group, the child included: sending them again would deliver them twice
/// (and turn a program's graceful first Ctrl-C into its forced second one). Signals the child
/// sent itself (`kill 0` in a script) are not bounced back either. Everything else is passed on.
pub fn should_forward(origin: &Origin, child: Pid) -> bool {
    use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGQUIT};
    if origin.cause == Cause::Kernel && [SIGINT, SIGQUIT, SIGHUP].contains(&origin.signal) {
        return false;
    }
    match &origin.process {
        Some(p) => p.pid != child.as_raw_nonzero().get(),
        None => true,
    }
}

/// Every signal whose default action ends the process and that a handler may catch: the
/// terminal and job-control ones, the user and timer signals, resource limits, SIGABRT, SIGBUS,
/// SIGSYS, SIGIO, SIGPWR, SIGSTKFLT and the real-time signals. SIGPIPE is in the list but the
/// Rust runtime starts veil with it ignored (a closed pipe is a write error instead), so it
/// stays ignored like every signal ignored at start.
pub fn caught_signals() -> Vec<i32> {
    use signal_hook::consts::signal::*;
    #[allow(unused_mut)]
    let mut sigs = vec![
        SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE, SIGVTALRM, SIGPROF,
        SIGXCPU, SIGXFSZ, SIGABRT, SIGBUS, SIGSYS, SIGIO,
    ];
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        sigs.extend([libc::SIGPWR, libc::SIGSTKFLT]);
        sigs.extend(libc::SIGRTMIN()..=libc::SIGRTMAX());
    }
    sigs
}

/// The signals a process ignores, from the `SigIgn:` mask of Linux's `/proc/<pid>/status`
/// (bit N-1 set = signal N ignored). Empty when the line is missing or malformed.
pub fn ignored_signals(status: &str) -> Vec<i32> {
    let Some(hex) = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .map(str::trim)
    else {
        return Vec::new();
    };
    let Ok(mask) = u64::from_str_radix(hex, 16) else {
        return Vec::new();
    };
    (1..=64).filter(|n| mask & (1u64 << (n - 1)) != 0).collect()
}

/// Whether the signal thread runs. A mutex, not a `OnceLock`: two threads registering their
/// first temporary files at once must not start two signal threads.
static INSTALLED: Mutex<bool> = Mutex::new(false);

/// Whether the signal thread has been started in this process.
pub fn installed() -> bool {
    *INSTALLED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Install the signal thread (once; later calls do nothing). [`tracked`], [`run_stoppable`]
/// and [`run_forwarding`] call it before anything that needs cleaning up exists.
pub fn install() -> std::io::Result<()> {
    let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    if *installed {
        return Ok(());
    }
    let ignored = std::fs::read_to_string("/proc/self/status")
        .map(|s| ignored_signals(&s))
        .unwrap_or_default();
    let wanted: Vec<i32> = caught_signals()
        .into_iter()
        .filter(|s| !ignored.contains(s))
        .collect();
    // One by one: a signal the system (or a tool like valgrind) does not let us catch is left
    // alone rather than stopping veil from running.
    let mut signals = SignalsInfo::<WithOrigin>::new(Vec::<i32>::new())?;
    for sig in wanted {
        let _ = signals.add_signal(sig);
    }
    std::thread::Builder::new()
        .name("veil-signals".into())
        .spawn(move || {
            for origin in signals.forever() {
                let st = state();
                if let Some(child) = st.forward {
                    // Real-time signals have no safe name to send them by; they are not passed on.
                    if let Some(sig) = Signal::from_named_raw(origin.signal) {
                        if should_forward(&origin, child) {
                            let _ = rustix::process::kill_process(child, sig);
                        }
                    }
                    continue;
                }
                die(st, origin.signal);
            }
        })?;
    *installed = true;
    Ok(())
}

/// Clean up and end veil by `sig`, never releasing `st`.
fn die(mut st: MutexGuard<'static, State>, sig: i32) -> ! {
    let items = std::mem::take(&mut st.items);
    // Children first: an editor stopped by SIGTERM or SIGHUP may still write its recovery
    // file into the directory about to be removed, so give it a moment to end.
    let fwd = if sig == signal_hook::consts::SIGHUP {
        Signal::HUP
    } else {
        Signal::TERM
    };
    let children: Vec<Pid> = items
        .iter()
        .filter_map(|(_, i)| match i {
            Cleanup::Stop(pid) => Some(*pid),
            _ => None,
        })
        .collect();
    for pid in &children {
        let _ = rustix::process::kill_process(*pid, fwd);
    }
    for pid in &children {
        for _ in 0..300 {
            let exited = rustix::process::waitid(
                WaitId::Pid(*pid),
                WaitIdOptions::EXITED | WaitIdOptions::NOWAIT | WaitIdOptions::NOHANG,
            );
            if !matches!(exited, Ok(None) | Err(rustix::io::Errno::INTR)) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    let mut removed = false;
    for (_, item) in &items {
        match item {
            Cleanup::Stop(_) => {}
            Cleanup::Wipe(f) => f(),
            Cleanup::File(p) => removed |= std::fs::remove_file(p).is_ok(),
            // Retried: something may still be writing into it.
            Cleanup::Dir(p) => removed |= (0..3).any(|_| std::fs::remove_dir_all(p).is_ok()),
        }
    }
    if removed {
        let name = signal_hook::low_level::signal_name(sig)
            .map(str::to_string)
            .unwrap_or_else(|| format!("signal {sig}"));
        eprintln!(
            "veil: stopped by {name}; its temporary files were removed (a file being written keeps its previous content)"
        );
    }
    // Same signal, default action (SIGIO and the signals signal-hook has no table entry for
    // end with the shell's 128+N instead).
    let _ = signal_hook::low_level::emulate_default_handler(sig);
    std::process::exit(128 + sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignored_signals_from_proc_status() {
        let status = "Name:\tveil\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000001006\n";
        // 0x1006: bits 1, 2 and 12 -> SIGINT (2), SIGQUIT (3), SIGPIPE (13).
        assert_eq!(ignored_signals(status), vec![2, 3, 13]);
        assert!(ignored_signals("SigIgn:\tzz\n").is_empty());
        assert!(ignored_signals("").is_empty());
        assert_eq!(ignored_signals("SigIgn: 8000000000000000"), vec![64]);
    }

    #[test]
    fn the_caught_signals_are_catchable_and_terminating() {
        use signal_hook::consts::signal::*;
        let s = caught_signals();
        for must in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM] {
            assert!(s.contains(&must), "{must}");
        }
        for never in [
            SIGKILL, SIGSTOP, SIGSEGV, SIGILL, SIGFPE, SIGCHLD, SIGWINCH, SIGCONT,
        ] {
            assert!(!s.contains(&never), "{never}");
        }
        assert!(s
            .iter()
            .all(|x| !signal_hook::consts::FORBIDDEN.contains(x)));
    }

    #[test]
    fn registrations_come_and_go() {
        let before = state().items.len();
        let ((), t) =
            tracked(|| Ok::<_, std::io::Error>(((), Cleanup::File("/nonexistent/x".into()))))
                .unwrap();
        // The first registration started the signal thread.
        assert!(installed());
        assert_eq!(state().items.len(), before + 1);
        drop(t);
        assert_eq!(state().items.len(), before);
        let failed = tracked(|| Err::<((), Cleanup), _>(std::io::Error::other("no")));
        assert!(failed.is_err());
        assert_eq!(state().items.len(), before);
    }
}
