//! Signals and crashes: every writing command stopped by SIGTERM, SIGQUIT or SIGKILL at the
//! worst moment (its temp file complete, just before the rename) leaves the old file and no
//! plaintext anywhere; every catchable fatal signal during `edit` removes the plaintext copy
//! and stops the editor; signals reach the programs of `exec-env`/`exec-file`; a crash writes
//! no core; and what a SIGKILL (or a crash) left behind is removed by the next run once its
//! owner is gone, never while a process may still use it.
//!
//! The moment is reached through `VEIL_TEST_HOLD_WRITE` (veil creates a marker and waits) and
//! marker files written by editors and children: no test sleeps and hopes.

use crate::support::process::*;
use crate::support::{run, Sandbox, TestKey};
use signal_hook::consts::signal::*;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

/// A writing command on a fresh sandbox: its file, and the veil command line.
fn writer(name: &str) -> (Sandbox, PathBuf, std::process::Command) {
    let sb = sandbox();
    let r1 = TestKey::Age1.recipient();
    let r2 = TestKey::Age2.recipient();
    let f = if name == "encrypt -i" {
        sb.write("f.yaml", PLAIN)
    } else {
        encrypted(&sb, "f.yaml", PLAIN)
    };
    let mut cmd = veil(&sb);
    match name {
        "encrypt -i" => cmd.args(["encrypt", "-i", "--age", &r1]).arg(&f),
        "decrypt -i" => cmd.args(["decrypt", "-i"]).arg(&f),
        "set" => cmd
            .arg("set")
            .arg(&f)
            .args([r#"["db"]["password"]"#, r#""changed""#]),
        "unset" => cmd.arg("unset").arg(&f).arg(r#"["other"]"#),
        "rotate -i" => cmd.args(["rotate", "-i"]).arg(&f),
        "groups add -i" => cmd
            .args(["groups", "add", "-i", "--age", &r2, "-f"])
            .arg(&f),
        "updatekeys" => {
            sb.write(
                ".sops.yaml",
                format!("creation_rules:\n  - age: {r1},{r2}\n"),
            );
            cmd.args(["updatekeys", "-y"]).arg(&f)
        }
        "edit" => {
            let ed = script(&sb, "ed.sh", "sed -i 's/admin/root/' \"$1\"");
            cmd.env("EDITOR", ed).arg("edit").arg(&f)
        }
        other => panic!("unknown writer {other}"),
    };
    (sb, f, cmd)
}

const WRITERS: &[&str] = &[
    "encrypt -i",
    "decrypt -i",
    "set",
    "unset",
    "rotate -i",
    "groups add -i",
    "updatekeys",
    "edit",
];

/// Run a writer until its temp file is complete, send `sig`, and check what is left: the
/// original file, no temp file, no plaintext anywhere else. After SIGKILL (which nothing can
/// catch), what remains must name the dead process, and the next run in that directory (and
/// the next `edit`) removes it.
fn stop_while_writing(name: &str, sig: i32) {
    let what = format!("{name} stopped by signal {sig}");
    let (sb, f, mut cmd) = writer(name);
    let before = std::fs::read(&f).unwrap();
    let (mut child, hold, _reap) = start_held(&sb, &mut cmd);
    let pid = child.id();
    signal(pid, sig);
    let st = wait_exit(&mut child, &what);
    let _ = std::fs::remove_file(&hold);
    assert!(ended_by(&st, sig), "{what}: {st:?}");
    assert!(!st.core_dumped(), "{what}: a core was dumped");
    assert_eq!(
        std::fs::read(&f).unwrap(),
        before,
        "{what}: the file changed"
    );
    let plain_elsewhere = |sb: &Sandbox| -> Vec<PathBuf> {
        files_containing(sb.path(), SECRET)
            .into_iter()
            .filter(|p| !(name == "encrypt -i" && p == &f))
            .collect()
    };
    if sig == SIGKILL {
        for l in leftovers(sb.path()) {
            assert!(
                l.contains(&format!("-{pid}-")),
                "{what}: {l} is not the dead veil's"
            );
        }
        // The next runs: a write in that directory and an edit.
        sb.write("next.yaml", "a: 1\n");
        let (code, _, err) = run(sb.veil().args([
            "encrypt",
            "-i",
            "--age",
            &TestKey::Age1.recipient(),
            "next.yaml",
        ]));
        assert_eq!(code, Some(0), "{what}: {err}");
        let unchanged = script(&sb, "same.sh", "true");
        let (code, _, _) = run(sb
            .veil()
            .env("EDITOR", unchanged)
            .args(["edit", "next.yaml"]));
        assert_eq!(code, Some(200), "{what}");
    }
    assert_eq!(leftovers(sb.path()), Vec::<String>::new(), "{what}");
    assert_eq!(plain_elsewhere(&sb), Vec::<PathBuf>::new(), "{what}");
}

/// Every catchable signal whose default action ends a process, but SIGTERM and SIGQUIT (tested
/// with every writer).
const OTHER_FATAL: &[i32] = &[
    SIGINT,
    SIGHUP,
    SIGUSR1,
    SIGUSR2,
    SIGALRM,
    SIGVTALRM,
    SIGPROF,
    SIGXCPU,
    SIGXFSZ,
    SIGABRT,
    SIGBUS,
    SIGSYS,
    SIGIO,
    libc::SIGPWR,
];

#[test]
fn term_quit_and_kill_during_every_write_leave_the_old_file_and_no_plaintext() {
    for name in WRITERS {
        for sig in [SIGTERM, SIGQUIT, SIGKILL] {
            stop_while_writing(name, sig);
        }
    }
}

#[test]
fn every_catchable_fatal_signal_during_decrypt_in_place_leaves_no_plaintext() {
    for &sig in OTHER_FATAL {
        stop_while_writing("decrypt -i", sig);
    }
}

/// Start `veil edit f.yaml` (optionally through `sh -c 'ulimit -c unlimited; exec veil …'`)
/// with an editor that records itself and then sleeps; return veil, the editor's PID and the
/// path of the plaintext copy.
fn edit_with_sleeping_editor(
    sb: &Sandbox,
    f: &Path,
    cores: bool,
) -> (std::process::Child, u32, PathBuf) {
    let info = sb.path().join("editor.info");
    let ed = script(
        sb,
        "sleeper.sh",
        &format!(
            "echo \"$$ $1\" > {i}.tmp; mv {i}.tmp {i}; exec sleep 300",
            i = info.display()
        ),
    );
    let mut cmd = if cores {
        let mut c = std::process::Command::new("/bin/sh");
        sb.isolate_std(&mut c);
        c.args(["-c", "ulimit -c unlimited && exec \"$0\" \"$@\""])
            .arg(env!("CARGO_BIN_EXE_veil"));
        c
    } else {
        veil(sb)
    };
    cmd.env("EDITOR", ed)
        .arg("edit")
        .arg(f)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let line = wait_for_file(&info, &mut child);
    let (pid, path) = line.trim().split_once(' ').unwrap();
    let _ = std::fs::remove_file(&info);
    (child, pid.parse().unwrap(), PathBuf::from(path))
}

#[test]
fn every_catchable_fatal_signal_during_edit_removes_the_copy_and_stops_the_editor() {
    for &sig in [SIGTERM, SIGQUIT].iter().chain(OTHER_FATAL) {
        let sb = sandbox();
        let f = encrypted(&sb, "f.yaml", PLAIN);
        let before = std::fs::read(&f).unwrap();
        let (mut child, editor, copy) = edit_with_sleeping_editor(&sb, &f, false);
        let _reap = Reaper(vec![child.id(), editor]);
        assert!(copy.starts_with(sb.path().join("run")), "{copy:?}");
        assert_eq!(
            files_containing(&sb.path().join("run"), SECRET),
            std::slice::from_ref(&copy)
        );
        signal(child.id(), sig);
        let st = wait_exit(&mut child, "edit");
        assert!(ended_by(&st, sig), "signal {sig}: {st:?}");
        assert!(
            !copy.parent().unwrap().exists(),
            "signal {sig}: the copy is still there"
        );
        assert_eq!(std::fs::read(&f).unwrap(), before, "signal {sig}");
        wait_until("the editor to be stopped", || !alive(editor));
        assert_eq!(leftovers(sb.path()), Vec::<String>::new(), "signal {sig}");
        assert_eq!(files_containing(sb.path(), SECRET), Vec::<PathBuf>::new());
    }
}

/// The soft core limit of a running process, from `/proc/<pid>/limits`.
fn core_limit(pid: u32) -> String {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap()
        .to_string();
    line.split_whitespace().nth(4).unwrap().to_string()
}

/// Send `sig` until veil ends. The Rust runtime's stack-overflow handler swallows the first
/// SIGSEGV that is not a real fault (then restores the default action), so a crash is
/// simulated by sending it again until it takes.
fn crash(child: &mut std::process::Child, sig: i32) -> std::process::ExitStatus {
    for _ in 0..6000 {
        if let Ok(Some(st)) = child.try_wait() {
            return st;
        }
        signal(child.id(), sig);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    panic!("veil survived signal {sig}");
}

fn cores_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n == "core" || n.starts_with("core."))
        .collect()
}

/// With `ulimit -c unlimited`, a crash of `edit` while the plaintext is in memory writes no
/// core (the shell's limit reaches veil, which lowers it and marks itself non-dumpable). What
/// an uncatchable crash or SIGKILL leaves (the copy in the private directory) is removed by the
/// next `edit`, once the editor that could still use it is gone too.
#[test]
fn a_crash_during_edit_dumps_no_core_and_the_next_edit_removes_the_copy() {
    for sig in [SIGSEGV, SIGABRT, SIGQUIT, SIGKILL] {
        let sb = sandbox();
        let f = encrypted(&sb, "f.yaml", PLAIN);
        let before = std::fs::read(&f).unwrap();
        let (mut child, editor, copy) = edit_with_sleeping_editor(&sb, &f, true);
        let _reap = Reaper(vec![child.id(), editor]);
        assert_eq!(core_limit(child.id()), "0", "veil runs with no core dumps");
        let st = if sig == SIGSEGV {
            crash(&mut child, sig)
        } else {
            signal(child.id(), sig);
            wait_exit(&mut child, "edit")
        };
        assert!(ended_by(&st, sig), "signal {sig}: {st:?}");
        assert!(!st.core_dumped(), "signal {sig}: veil dumped a core");
        assert_eq!(cores_in(sb.path()), Vec::<String>::new(), "signal {sig}");
        assert_eq!(std::fs::read(&f).unwrap(), before);
        kill_and_wait(editor);
        if copy.exists() {
            // Not catchable: the next edit removes it.
            let unchanged = script(&sb, "same.sh", "true");
            let (code, _, _) = run(sb.veil().env("EDITOR", unchanged).arg("edit").arg(&f));
            assert_eq!(code, Some(200));
        }
        assert!(!copy.parent().unwrap().exists(), "signal {sig}");
        assert_eq!(files_containing(sb.path(), SECRET), Vec::<PathBuf>::new());
    }
}

/// `exec-env` holds every value in memory while its program runs: a crash then dumps no core.
#[test]
fn a_crash_during_exec_env_dumps_no_core() {
    let sb = sandbox();
    let f = encrypted(&sb, "f.yaml", PLAIN);
    let ready = sb.path().join("ready");
    let mut c = std::process::Command::new("/bin/sh");
    sb.isolate_std(&mut c);
    c.args(["-c", "ulimit -c unlimited && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_veil"))
        .arg("exec-env")
        .arg(&f)
        .arg(format!("echo $$ > {}; exec sleep 300", ready.display()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let sleeper: u32 = wait_for_file(&ready, &mut child).trim().parse().unwrap();
    let _reap = Reaper(vec![child.id(), sleeper]);
    assert_eq!(core_limit(child.id()), "0");
    let st = crash(&mut child, SIGSEGV);
    assert_eq!(st.signal(), Some(SIGSEGV));
    assert!(!st.core_dumped());
    assert_eq!(cores_in(sb.path()), Vec::<String>::new());
    kill_and_wait(sleeper);
}

/// Signals veil did not pass on before (SIGUSR1, SIGALRM…) reach the program too, instead of
/// ending veil and leaving the program and the decrypted file behind.
#[test]
fn more_signals_reach_the_program_of_exec_env_and_exec_file() {
    for (cmd, sig) in [
        ("exec-env", SIGUSR1),
        ("exec-env", SIGALRM),
        ("exec-file", SIGUSR2),
        ("exec-file", SIGPROF),
    ] {
        let sb = sandbox();
        let f = encrypted(&sb, "f.yaml", PLAIN);
        let ready = sb.path().join("ready");
        let line = format!(
            "trap 'exit 7' {sig}; echo $$ > {r}; while :; do sleep 0.05; done",
            r = ready.display()
        );
        let mut c = veil(&sb);
        c.arg(cmd)
            .arg(&f)
            .arg(&line)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        let sh: u32 = wait_for_file(&ready, &mut child).trim().parse().unwrap();
        let _reap = Reaper(vec![child.id(), sh]);
        signal(child.id(), sig);
        let st = wait_exit(&mut child, cmd);
        assert_eq!(st.code(), Some(7), "{cmd} signal {sig}: {st:?}");
        wait_until("the program to end", || !alive(sh));
        assert_eq!(leftovers(sb.path()), Vec::<String>::new(), "{cmd}");
    }
}

/// SIGKILL cannot be caught, so `exec-file --no-fifo` cannot remove its file then. The program
/// keeps the directory's lock while it runs (it may still read the file), so the next runs
/// leave the file alone until the program is gone, and then remove it.
#[test]
fn exec_file_killed_by_sigkill_is_cleaned_by_the_next_run_after_its_program_ends() {
    let sb = sandbox();
    let f = encrypted(&sb, "f.yaml", PLAIN);
    let ready = sb.path().join("ready");
    let go = sb.path().join("go");
    let line = format!(
        "cat {{}} > /dev/null; echo \"$$ {{}}\" > {r}; while [ ! -e {g} ]; do sleep 0.05; done",
        r = ready.display(),
        g = go.display()
    );
    let mut c = veil(&sb);
    c.args(["exec-file", "--no-fifo"])
        .arg(&f)
        .arg(&line)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let info = wait_for_file(&ready, &mut child);
    let (sh, path) = info.trim().split_once(' ').unwrap();
    let (sh, path): (u32, PathBuf) = (sh.parse().unwrap(), path.into());
    let _reap = Reaper(vec![child.id(), sh]);
    signal(child.id(), SIGKILL);
    wait_exit(&mut child, "exec-file");
    assert!(path.exists());
    let next = |sb: &Sandbox| {
        let (code, _, err) = run(sb.veil().arg("exec-file").arg(&f).arg("true"));
        assert_eq!(code, Some(0), "{err}");
    };
    next(&sb);
    assert!(path.exists(), "removed while its program still runs");
    std::fs::write(&go, "").unwrap();
    wait_until("the program to end", || !alive(sh));
    next(&sb);
    assert!(!path.exists(), "left after its program ended");
    assert_eq!(leftovers(sb.path()), Vec::<String>::new());
    assert_eq!(files_containing(sb.path(), SECRET), Vec::<PathBuf>::new());
}

/// The temp files of a dead veil (from a SIGKILL, or a filesystem without unnamed temp files)
/// are removed by the next write in their directory; a file whose owner still holds its lock,
/// and files that merely look similar, are not.
#[test]
fn the_next_write_removes_only_dead_writers_temp_files() {
    let sb = sandbox();
    let f = encrypted(&sb, "f.yaml", PLAIN);
    let mut t = std::process::Command::new("true").spawn().unwrap();
    let dead = t.id();
    t.wait().unwrap();
    let stale = sb.write(&format!(".veil-{dead}-Ab12Cd34.tmp"), PLAIN);
    let live = sb.write(&format!(".veil-{dead}-Live0000.tmp"), "x");
    let held = std::fs::File::open(&live).unwrap();
    rustix::fs::flock(&held, rustix::fs::FlockOperation::LockExclusive).unwrap();
    let similar = sb.write(".veil-notes.tmp", "x");
    let (code, _, err) = run(sb.veil().arg("set").arg(&f).args([r#"["port"]"#, "1"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(!stale.exists());
    assert!(live.exists() && similar.exists());
    drop(held);
}

/// A command that makes no temporary file and runs no program has nothing a signal could leave
/// behind, so it does not start the signal thread (catching ~48 signals and a thread cost about
/// as much as a small decrypt); a fatal signal still ends it as that signal.
#[test]
fn a_read_only_command_starts_no_signal_thread_and_still_dies_by_the_signal() {
    let sb = sandbox();
    let f = encrypted(&sb, "f.yaml", PLAIN);
    for sig in [SIGTERM, SIGINT, SIGQUIT, SIGHUP] {
        // `decrypt -` waits on stdin, a pipe this test holds open.
        let mut child = veil(&sb)
            .args(["decrypt", "--input-type", "yaml", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let _reap = Reaper(vec![child.id()]);
        let pid = child.id();
        // Blocked in read(2) on fd 0: `/proc/PID/syscall` is "NR FD …".
        let read_nr = if cfg!(target_arch = "aarch64") {
            "63"
        } else {
            "0"
        };
        let reading = || {
            std::fs::read_to_string(format!("/proc/{pid}/syscall"))
                .is_ok_and(|s| s.split(' ').take(2).eq([read_nr, "0x0"]))
        };
        wait_until("veil to wait on stdin", reading);
        let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .count();
        assert_eq!(
            threads, 1,
            "signal {sig}: a read-only decrypt runs one thread"
        );
        signal(pid, sig);
        let st = wait_exit(&mut child, "decrypt");
        assert!(ended_by(&st, sig), "signal {sig}: {st:?}");
        assert!(!st.core_dumped(), "signal {sig}: a core was dumped");
    }
    // The same file through a command that writes: the thread is there while it holds the
    // temporary file (`term_quit_and_kill_during_every_write…` checks what it then does).
    let (mut child, hold, _reap) = start_held(&sb, veil(&sb).args(["decrypt", "-i"]).arg(&f));
    let threads = std::fs::read_dir(format!("/proc/{}/task", child.id()))
        .unwrap()
        .count();
    assert!(threads >= 2, "a writing decrypt runs the signal thread");
    signal(child.id(), SIGTERM);
    let st = wait_exit(&mut child, "decrypt -i");
    let _ = std::fs::remove_file(&hold);
    assert!(ended_by(&st, SIGTERM), "{st:?}");
    assert_eq!(leftovers(sb.path()), Vec::<String>::new());
}
