//! `veil exec-file`: the decrypted file through a FIFO or a 0600 file in a fresh 0700
//! directory, `{}` replacement in both command forms, `--filename`/`--output-type`, and no
//! plaintext left behind after a normal exit, a failing child, or SIGTERM to veil. Side-by-side
//! checks run the real sops 3.11 on the same files (a failure in CI without it).

use crate::support;
use crate::support::exec::*;
use crate::support::{json_doc, require_peer, run, run_ok, text};
use rustix::process::Signal;
use std::path::Path;

/// `veil decrypt FILE`, the reference for what the command must read.
fn decrypted(x: &ExecSandbox, f: &Path, flags: &[&str]) -> Vec<u8> {
    run_ok(x.sb.veil().arg("decrypt").args(flags).arg(f), "decrypt")
}

#[test]
fn fifo_is_read_once_by_the_command() {
    let x = ExecSandbox::new();
    let f = x.fixture("flat.enc.json");
    x.assert_decrypts(&f);
    let info = x.path("info");
    let script = format!(
        "test -p {{}} && stat -c '%a %F' {{}} \"$(dirname {{}})\" > {info} && echo {{}} >> {info} && cat {{}}",
        info = info.display()
    );
    let out = run_ok(
        x.sb.veil().arg("exec-file").arg(&f).arg(&script),
        "exec-file",
    );
    assert_eq!(out, decrypted(&x, &f, &[]));
    let info = std::fs::read_to_string(&info).unwrap();
    let lines: Vec<&str> = info.lines().collect();
    assert_eq!(lines[0], "600 fifo");
    assert_eq!(lines[1], "700 directory");
    let path = Path::new(lines[2]);
    assert_eq!(path.file_name().unwrap(), "tmp-file");
    assert!(path.starts_with(&x.tmp), "the directory is under $TMPDIR");
    assert!(!path.parent().unwrap().exists(), "the directory is removed");
    assert!(x.tmp_entries().is_empty(), "{:?}", x.tmp_entries());
}

#[test]
fn no_fifo_is_a_private_regular_file() {
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    let info = x.path("info");
    let script = format!(
        "test -f {{}} && stat -c '%a %F' {{}} \"$(dirname {{}})\" > {info} && echo {{}} >> {info} && cat {{}} {{}}",
        info = info.display()
    );
    let out = run_ok(
        x.sb.veil()
            .args(["exec-file", "--no-fifo"])
            .arg(&f)
            .arg(&script),
        "exec-file --no-fifo",
    );
    let once = decrypted(&x, &f, &[]);
    assert_eq!(
        out,
        [once.clone(), once].concat(),
        "a regular file can be read twice"
    );
    let info = std::fs::read_to_string(&info).unwrap();
    let lines: Vec<&str> = info.lines().collect();
    assert_eq!(lines[0], "600 regular file");
    assert_eq!(lines[1], "700 directory");
    let name = Path::new(lines[2]).file_name().unwrap().to_string_lossy();
    assert!(name.starts_with("tmp-file") && name.len() > 8, "{name}");
    assert!(x.tmp_entries().is_empty(), "{:?}", x.tmp_entries());
}

#[test]
fn filename_and_output_type_give_the_program_json() {
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    for fifo in [true, false] {
        let mut c = x.sb.veil();
        c.arg("exec-file");
        if !fifo {
            c.arg("--no-fifo");
        }
        let out = run_ok(
            c.args(["--output-type", "json", "--filename", "app.json"])
                .arg(&f)
                .args([
                    "--",
                    "/bin/sh",
                    "-c",
                    "basename \"$1\"; cat \"$1\"",
                    "sh",
                    "{}",
                ]),
            "exec-file --output-type json",
        );
        let out = text(&out);
        let (name, body) = out.split_once('\n').unwrap();
        assert_eq!(name, "app.json");
        let doc = json_doc(body).expect("the program got JSON");
        assert_eq!(
            doc.get("API_KEY").and_then(|v| v.as_str()),
            Some("exec-secret-api-7Qx")
        );
        assert_eq!(
            doc.get("MULTI").and_then(|v| v.as_str()),
            Some("line1\nline2")
        );
    }
    // A --filename that would leave the private directory is refused before anything runs.
    let (code, out, err) = run(x
        .sb
        .veil()
        .args(["exec-file", "--no-fifo", "--filename", "../escape"])
        .arg(&f)
        .arg("echo ran"));
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty());
    assert!(!x.tmp.join("escape").exists() && !x.sb.path().join("escape").exists());
    assert!(x.tmp_entries().is_empty());
}

#[test]
fn placeholder_is_replaced_in_both_forms() {
    let x = ExecSandbox::new();
    let f = x.fixture("flat.enc.json");
    x.assert_decrypts(&f);
    // sops form: every {} in the string.
    let out = run_ok(
        x.sb.veil()
            .arg("exec-file")
            .arg("--no-fifo")
            .arg(&f)
            .arg("test {} = {} && echo same"),
        "sh form",
    );
    assert_eq!(text(&out), "same\n");
    // argv form: {} inside an argument too, no shell.
    let out = run_ok(
        x.sb.veil()
            .args(["exec-file", "--filename", "s.json"])
            .arg(&f)
            .args(["--", "/bin/echo", "--config={}", "$HOME"]),
        "argv form",
    );
    let out = text(&out);
    assert!(
        out.starts_with("--config=") && out.ends_with("/s.json $HOME\n"),
        "{out}"
    );
}

#[test]
fn exit_statuses_pass_through() {
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    for (cmd, want) in [
        ("cat {} > /dev/null", 0),
        ("exit 1", 1),
        ("cat {} > /dev/null; exit 42", 42),
        ("kill -KILL $$", 137),
    ] {
        let (code, _, err) = run(x.sb.veil().arg("exec-file").arg(&f).arg(cmd));
        assert_eq!(code, Some(want), "{cmd}: {err}");
        assert!(x.tmp_entries().is_empty(), "{cmd}: {:?}", x.tmp_entries());
    }
}

#[test]
fn nothing_is_left_when_the_command_fails_or_never_reads() {
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    for flags in [&[][..], &["--no-fifo"][..]] {
        for cmd in ["exit 3", "true", "echo {} > /dev/null; exit 5"] {
            let (code, _, _) = run(x.sb.veil().arg("exec-file").args(flags).arg(&f).arg(cmd));
            assert!(code.is_some(), "{flags:?} {cmd}");
            assert!(
                x.tmp_entries().is_empty(),
                "{flags:?} {cmd}: {:?}",
                x.tmp_entries()
            );
        }
    }
    // A program that cannot start: still cleaned up.
    let (code, _, _) =
        run(x
            .sb
            .veil()
            .arg("exec-file")
            .arg(&f)
            .args(["--", "veil-no-such-program", "{}"]));
    assert_eq!(code, Some(127));
    assert!(x.tmp_entries().is_empty());
}

#[test]
fn sigterm_to_veil_reaches_the_child_and_removes_the_directory() {
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    for flags in [&[][..], &["--no-fifo"][..]] {
        let ready = x.path("ready");
        let _ = std::fs::remove_file(&ready);
        // Read the file, say where it is, then wait to be killed.
        let script = format!(
            "cat {{}} > /dev/null; echo $$ {{}} > {ready}; exec sleep 1000",
            ready = ready.display()
        );
        let mut child = spawn(
            x.veil_std()
                .arg("exec-file")
                .args(flags)
                .arg(&f)
                .arg(&script),
        );
        let line = wait_for_file(&ready, &mut child);
        let (pid, path) = line.trim().split_once(' ').unwrap();
        let path = Path::new(path);
        assert!(path.exists(), "the file exists while the command runs");
        send_signal(child.id(), Signal::TERM);
        let st = wait_or_fail(&mut child, pid.parse().ok(), "TERM");
        assert_eq!(st.code(), Some(143), "{flags:?}");
        assert!(!path.exists(), "{flags:?}: the file is gone");
        assert!(
            x.tmp_entries().is_empty(),
            "{flags:?}: {:?}",
            x.tmp_entries()
        );
    }
}

#[test]
fn a_signal_the_child_handles_keeps_its_exit_code() {
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    let ready = x.path("ready");
    let script = format!(
        "trap 'exit 9' INT; echo $$ > {ready}; while :; do sleep 0.05; done",
        ready = ready.display()
    );
    let mut child = spawn(x.veil_std().arg("exec-file").arg(&f).arg(&script));
    let sh = wait_for_file(&ready, &mut child).trim().parse().ok();
    send_signal(child.id(), Signal::INT);
    assert_eq!(wait_or_fail(&mut child, sh, "INT").code(), Some(9));
    assert!(x.tmp_entries().is_empty(), "{:?}", x.tmp_entries());
}

#[test]
fn secrets_never_reach_any_argv() {
    let x = ExecSandbox::new();
    let f = x.fixture("flat.enc.json");
    x.assert_decrypts(&f);
    let dump = x.path("cmdlines");
    let script = format!(
        "cat {{}} > /dev/null; for c in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $c; echo; done > {dump} 2>/dev/null; \
         tr '\\0' ' ' < /proc/$PPID/cmdline >> {dump}",
        dump = dump.display()
    );
    for flags in [&[][..], &["--no-fifo"][..]] {
        run_ok(
            x.sb.veil()
                .arg("exec-file")
                .args(flags)
                .arg(&f)
                .arg(&script),
            "exec-file",
        );
        let seen = std::fs::read_to_string(&dump).unwrap();
        assert!(seen.contains("exec-file"), "the dump saw veil itself");
        assert_no_secret(&seen, "a /proc/<pid>/cmdline");
    }
}

#[test]
fn user_switch_as_root_can_read_the_fifo() {
    if !is_root() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "user_switch_as_root_can_read_the_fifo needs root, and CI runs as root"
        );
        eprintln!("SKIP user_switch_as_root_can_read_the_fifo: needs root");
        return;
    }
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    // The sandbox is 0700 root: the private directory must sit where the user can reach it.
    let public = tempfile::Builder::new()
        .prefix("veil-exec-user-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o711))
        .tempdir()
        .unwrap();
    for flags in [&[][..], &["--no-fifo"][..]] {
        let out = run_ok(
            x.sb.veil()
                .env("TMPDIR", public.path())
                .args(["exec-file", "--user", "65534:65534"])
                .args(flags)
                .arg(&f)
                .arg("id -u; stat -c %u \"$(dirname {})\"; cat {}"),
            "exec-file --user",
        );
        let expected = [b"65534\n65534\n".to_vec(), decrypted(&x, &f, &[])].concat();
        assert_eq!(text(&out), text(&expected), "{flags:?}");
        assert_eq!(std::fs::read_dir(public.path()).unwrap().count(), 0);
    }
}

#[test]
fn the_fifo_is_never_a_file_on_disk() {
    // While the command runs, the directory holds only a FIFO: no regular file with content.
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    let listing = x.path("listing");
    let script = format!(
        "find \"$(dirname {{}})\" -mindepth 1 -printf '%y %s\\n' > {l}; cat {{}} > /dev/null; \
         find \"$(dirname {{}})\" -mindepth 1 -printf '%y %s\\n' >> {l}",
        l = listing.display()
    );
    run_ok(
        x.sb.veil().arg("exec-file").arg(&f).arg(&script),
        "exec-file",
    );
    assert_eq!(std::fs::read_to_string(&listing).unwrap(), "p 0\np 0\n");
}

// ---------------------------------------------------------------------------------------------
// Side by side with the real sops 3.11.

#[test]
fn same_content_and_exit_codes_as_sops() {
    if !require_peer("sops") {
        return;
    }
    let x = ExecSandbox::new();
    for (name, extra) in [
        ("flat.enc.json", &[][..]),
        ("app.enc.env", &[][..]),
        ("app.enc.env", &["--output-type", "json"][..]),
        ("nested.enc.yaml", &[][..]),
        ("flat.enc.yaml", &["--output-type", "json"][..]),
        ("app.enc.ini", &[][..]),
    ] {
        let f = x.fixture(name);
        x.assert_decrypts(&f);
        for no_fifo in [false, true] {
            let mut v = x.sb.veil();
            let mut s = x.sb.sops();
            for c in [&mut v, &mut s] {
                c.arg("exec-file");
                if no_fifo {
                    c.arg("--no-fifo");
                }
                c.args(extra).arg(&f).arg("cat {}");
            }
            let vout = run_ok(&mut v, "veil exec-file");
            let sout = run_ok(&mut s, "sops exec-file");
            let what = format!("{name} {extra:?} no_fifo={no_fifo}");
            // Data-identical, not byte-identical (veil renders the file losslessly).
            let out_json = extra.contains(&"json") || name.ends_with(".json");
            if out_json {
                assert_eq!(
                    json_doc(text(&vout)).unwrap(),
                    json_doc(text(&sout)).unwrap(),
                    "{what}"
                );
            } else if name.ends_with(".env") {
                assert_eq!(
                    support::dotenv_pairs(text(&vout)).unwrap(),
                    support::dotenv_pairs(text(&sout)).unwrap(),
                    "{what}"
                );
            } else if name.ends_with(".ini") {
                assert_eq!(
                    support::ini_sections(text(&vout)),
                    support::ini_sections(text(&sout)),
                    "{what}"
                );
            } else {
                support::assert_data_eq(
                    &support::yaml_docs(text(&vout)).unwrap(),
                    &support::yaml_docs(text(&sout)).unwrap(),
                    &what,
                );
            }
        }
    }
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    for cmd in [
        "exit 0",
        "exit 1",
        "cat {} >/dev/null; exit 42",
        "test -p {}",
    ] {
        let (vc, _, _) = run(x.sb.veil().arg("exec-file").arg(&f).arg(cmd));
        let (sc, _, _) = run(x.sb.sops().arg("exec-file").arg(&f).arg(cmd));
        assert_eq!(vc, sc, "{cmd}");
    }
}

/// The examples of sops's README, run by both tools on the same file. Only the private
/// directory's random name differs (`.sops123…` vs `.veilAbC…`, and `--no-fifo`'s random
/// suffix), so those are masked.
#[test]
fn sops_readme_examples_side_by_side() {
    if !require_peer("sops") {
        return;
    }
    let x = ExecSandbox::new();
    let f = x.fixture("flat.enc.json");
    x.assert_decrypts(&f);
    let mask = |out: &[u8]| -> String {
        let dir = regex::Regex::new(r"/\.(sops|veil)[^/]+/").unwrap();
        let suffix = regex::Regex::new(r"tmp-file\S+").unwrap();
        let t = dir.replace_all(text(out), "/.PRIVATE/");
        suffix.replace_all(&t, "tmp-file*").into_owned()
    };
    let examples: &[(&str, &[&str], &str)] = &[
        ("exec-env", &[], "echo secret: $API_KEY"),
        ("exec-file", &[], "echo your temporary file: {}"),
        ("exec-file", &["--no-fifo"], "echo your temporary file: {}"),
        (
            "exec-file",
            &["--output-type", "dotenv"],
            "echo your temporary file: {}",
        ),
        (
            "exec-file",
            &["--filename", "filename.json"],
            "echo your temporary file: {}",
        ),
    ];
    for (cmd, flags, line) in examples {
        let v = run_ok(x.sb.veil().arg(cmd).args(*flags).arg(&f).arg(line), "veil");
        let s = run_ok(x.sb.sops().arg(cmd).args(*flags).arg(&f).arg(line), "sops");
        assert_eq!(mask(&v), mask(&s), "{cmd} {flags:?} {line}");
        if flags.contains(&"--filename") {
            assert!(
                mask(&v).ends_with("/.PRIVATE/filename.json\n"),
                "{}",
                mask(&v)
            );
        }
    }
    assert!(x.tmp_entries().is_empty(), "{:?}", x.tmp_entries());
}
