//! Helpers of the signal and concurrent-writer tests (`security::signals`, `security::writers`):
//! a sandbox whose every
//! temporary place (`XDG_RUNTIME_DIR`, `TMPDIR`) is inside it, veil as a plain child process
//! (to signal it), bounded waits for marker files, and searches for leftovers and plaintext.
#![allow(dead_code)]

use super::{run_ok, Sandbox, TestKey};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// The secret in every test file: it must never be found on disk outside the file itself.
pub const SECRET: &str = "hunter2-proc-secret-Vq9";

pub const PLAIN: &str =
    "db:\n    user: admin\n    password: hunter2-proc-secret-Vq9\nother: x\nport: 5432\n";

/// A sandbox with the age key 1 identity, and `run/` (0700) and `tmp/` inside it as
/// `XDG_RUNTIME_DIR` and `TMPDIR`, so that edit's and exec-file's private directories are made
/// here and can be looked at.
pub fn sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    let run = sb.path().join("run");
    let tmp = sb.path().join("tmp");
    for d in [&run, &tmp] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    sb.set_env("XDG_RUNTIME_DIR", &run);
    sb.set_env("TMPDIR", &tmp);
    sb
}

/// veil as a std child (to spawn and signal it), isolated like `Sandbox::veil`.
pub fn veil(sb: &Sandbox) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_veil"));
    sb.isolate_std(&mut c);
    c.stdin(Stdio::null());
    c
}

/// Write `plain` as `name` and encrypt it in place for age key 1.
pub fn encrypted(sb: &Sandbox, name: &str, plain: &str) -> PathBuf {
    sb.encrypt_for_age1(name, plain)
}

/// Start `cmd` (veil) with `VEIL_TEST_HOLD_WRITE` set to `<sandbox>/hold`, and wait until its
/// write is held just before the rename. Returns veil, the marker, and a reaper for veil.
pub fn start_held(sb: &Sandbox, cmd: &mut Command) -> (Child, PathBuf, Reaper) {
    let hold = sb.path().join("hold");
    cmd.env("VEIL_TEST_HOLD_WRITE", &hold)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let reaper = Reaper(vec![child.id()]);
    let held: u32 = wait_for_file(&hold, &mut child).trim().parse().unwrap();
    assert_eq!(held, child.id(), "the marker names veil");
    (child, hold, reaper)
}

pub fn decrypt(sb: &Sandbox, p: &Path) -> String {
    String::from_utf8(run_ok(sb.veil().arg("decrypt").arg(p), "decrypt")).unwrap()
}

/// An executable shell script.
pub fn script(sb: &Sandbox, name: &str, body: &str) -> PathBuf {
    let p = sb.write(name, format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// Wait until `path` exists and is not empty, then return its content. Bounded (two minutes)
/// so that a broken veil fails the test instead of hanging it; not a timing test.
pub fn wait_for_file(path: &Path, child: &mut Child) -> String {
    for _ in 0..12000 {
        if let Ok(s) = std::fs::read_to_string(path) {
            if !s.is_empty() {
                return s;
            }
        }
        if let Ok(Some(st)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            panic!(
                "veil exited ({st}) before {} was written: {err}",
                path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{} was never written", path.display());
}

/// Wait (bounded) for `cond` to hold.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..12000 {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("gave up waiting: {what}");
}

/// Wait (bounded) for veil to exit; kill it and fail if it does not.
pub fn wait_exit(child: &mut Child, what: &str) -> ExitStatus {
    for _ in 0..12000 {
        if let Ok(Some(st)) = child.try_wait() {
            return st;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{what}: veil did not exit");
}

pub fn signal(pid: u32, sig: i32) {
    let p = rustix::process::Pid::from_raw(pid as i32).expect("pid > 0");
    let s = rustix::process::Signal::from_named_raw(sig).expect("a named signal");
    rustix::process::kill_process(p, s).expect("kill");
}

/// Whether a process exists (not yet reaped).
pub fn alive(pid: u32) -> bool {
    let Some(p) = rustix::process::Pid::from_raw(pid as i32) else {
        return false;
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let zombie = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .trim_start()
        .starts_with('Z');
    rustix::process::test_kill_process(p).is_ok() && !zombie
}

/// Kill a leftover process (an orphaned editor or child) and wait until it is gone.
pub fn kill_and_wait(pid: u32) {
    if alive(pid) {
        signal(pid, 9);
    }
    wait_until("the process to end", || !alive(pid));
}

/// Ended by `sig`: killed by it, or (for the signals without a default action veil can
/// re-raise) exited with the shell's 128+N.
pub fn ended_by(st: &ExitStatus, sig: i32) -> bool {
    use std::os::unix::process::ExitStatusExt;
    st.signal() == Some(sig) || st.code() == Some(128 + sig)
}

/// Every path under `dir` (not following symlinks).
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
        out.push(p.clone());
        if is_dir {
            out.extend(walk(&p));
        }
    }
    out
}

/// Files under `dir` whose content holds `needle`.
pub fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| {
            std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file())
                && std::fs::read(p)
                    .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        })
        .collect()
}

/// veil's temporary files and private directories anywhere under `dir`.
pub fn leftovers(dir: &Path) -> Vec<String> {
    walk(dir)
        .into_iter()
        .filter_map(|p| {
            let n = p.file_name()?.to_string_lossy().into_owned();
            (n.starts_with(".veil-") || n.starts_with("veil-edit-")).then_some(n)
        })
        .collect()
}

/// Processes to SIGKILL when a test ends, passed or failed (an editor or a program left
/// running by a veil that a test killed), so that a failing test leaves nothing running.
#[derive(Default)]
pub struct Reaper(pub Vec<u32>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for &pid in &self.0 {
            if alive(pid) {
                signal(pid, 9);
            }
        }
    }
}
