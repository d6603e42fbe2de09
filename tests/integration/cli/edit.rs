//! `veil edit` driven by scripted editors: where the plaintext copy lives and with which modes
//! while the editor runs, that no plaintext remains after a normal exit, an error, the editor
//! failing and a signal to veil, sops's exit codes (200 unchanged, 201 no editor), a new file
//! from the example template, `--show-master-keys`, the legacy `veil FILE` form, and that the
//! real sops reads what `edit` wrote (and veil edits what sops wrote).

use crate::support;
use crate::support::{require_peer, run, run_ok, text, Sandbox, TestKey};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const PLAIN: &str = r#"{
  "db": {"user": "admin", "password": "hunter2-very-secret"},
  "port": 5432,
  "ratio": 1.5,
  "list": ["same", "same", "other"],
  "note_unencrypted": "visible"
}
"#;

/// A sandbox with the age key 1 identity and a file `f.json` encrypted for it.
fn setup() -> (Sandbox, PathBuf) {
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    let p = sb.write("f.json", PLAIN);
    run_ok(
        sb.veil()
            .args(["encrypt", "-i", "--age", &TestKey::Age1.recipient()])
            .arg(&p),
        "encrypt",
    );
    (sb, p)
}

/// Write an executable editor script; `$1` is the file to edit.
fn editor(sb: &Sandbox, name: &str, body: &str) -> PathBuf {
    let p = sb.write(name, format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// An editor that records where the file is and its modes, then runs `then`.
fn recording_editor(sb: &Sandbox, then: &str) -> PathBuf {
    let log = sb.path().join("editor.log");
    editor(
        sb,
        "rec-editor.sh",
        &format!(
            "d=$(dirname \"$1\")\n\
             {{ echo \"path=$1\"; echo \"dirmode=$(stat -c %a \"$d\")\"; echo \"filemode=$(stat -c %a \"$1\")\"; \
             echo \"entries=$(ls -A \"$d\" | wc -l)\"; echo \"pid=$$\"; }} > {log}.tmp\n\
             mv {log}.tmp {log}\n{then}",
            log = log.display()
        ),
    )
}

fn read_log(sb: &Sandbox) -> std::collections::HashMap<String, String> {
    let t = String::from_utf8(sb.read("editor.log")).unwrap();
    t.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

fn decrypt(sb: &Sandbox, p: &Path) -> String {
    String::from_utf8(run_ok(sb.veil().arg("decrypt").arg(p), "decrypt")).unwrap()
}

/// Lines that differ between two texts of the same line count (a lossless edit never adds or
/// removes lines).
fn changed_lines(a: &str, b: &str) -> Vec<String> {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    assert_eq!(la.len(), lb.len(), "line count changed:\n{a}\n---\n{b}");
    la.iter()
        .zip(lb.iter())
        .filter(|(x, y)| x != y)
        .map(|(_, y)| y.trim().chars().take(30).collect())
        .collect()
}

#[test]
fn edit_changes_one_value_and_keeps_every_other_ciphertext() {
    let (sb, p) = setup();
    let before = String::from_utf8(sb.read("f.json")).unwrap();
    let ed = editor(
        &sb,
        "ed.sh",
        "sed -i 's/hunter2-very-secret/correct-horse/' \"$1\"",
    );
    run_ok(sb.veil().env("EDITOR", &ed).arg("edit").arg(&p), "edit");
    let after = String::from_utf8(sb.read("f.json")).unwrap();
    let changed = changed_lines(&before, &after);
    assert!(
        changed.len() <= 3
            && changed.iter().any(|l| l.starts_with("\"db\""))
            && changed.iter().any(|l| l.starts_with("\"mac\"")),
        "{changed:?}"
    );
    let plain = decrypt(&sb, &p);
    assert_eq!(plain, PLAIN.replace("hunter2-very-secret", "correct-horse"));
}

#[test]
fn sops_editor_wins_over_editor_and_is_shell_split() {
    let (sb, p) = setup();
    let good = editor(
        &sb,
        "good.sh",
        "[ \"$1\" = \"--flag\" ] || exit 9\nsed -i 's/admin/root/' \"$2\"",
    );
    let bad = editor(&sb, "bad.sh", "exit 7");
    run_ok(
        sb.veil()
            .env("EDITOR", &bad)
            .env("SOPS_EDITOR", format!("'{}' --flag", good.display()))
            .arg("edit")
            .arg(&p),
        "edit",
    );
    assert!(decrypt(&sb, &p).contains("\"root\""));
}

#[test]
fn temp_copy_is_private_named_after_the_file_and_removed() {
    let (sb, p) = setup();
    let run_dir = sb.path().join("runtime");
    std::fs::create_dir(&run_dir).unwrap();
    std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let ed = recording_editor(&sb, "sed -i 's/admin/root/' \"$1\"");
    run_ok(
        sb.veil()
            .env("EDITOR", &ed)
            .env("XDG_RUNTIME_DIR", &run_dir)
            .arg("edit")
            .arg(&p),
        "edit",
    );
    let log = read_log(&sb);
    let path = PathBuf::from(&log["path"]);
    assert_eq!(path.parent().unwrap().parent().unwrap(), run_dir);
    assert_eq!(path.file_name().unwrap(), "f.json");
    assert_eq!(log["dirmode"], "700");
    assert_eq!(log["filemode"], "600");
    assert_eq!(log["entries"], "1");
    assert!(!path.parent().unwrap().exists(), "temp dir left behind");
    assert_eq!(std::fs::read_dir(&run_dir).unwrap().count(), 0);
}

#[test]
fn without_xdg_runtime_dir_the_copy_goes_to_ram_or_tmpdir_never_the_working_tree() {
    let (sb, p) = setup();
    let ed = recording_editor(&sb, "sed -i 's/admin/root/' \"$1\"");
    run_ok(sb.veil().env("EDITOR", &ed).arg("edit").arg(&p), "edit");
    let path = PathBuf::from(&read_log(&sb)["path"]);
    let expected_base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    assert_eq!(path.parent().unwrap().parent().unwrap(), expected_base);
    assert!(!path.starts_with(sb.path()));
    assert!(!path.parent().unwrap().exists());
}

#[test]
fn no_plaintext_remains_after_a_parse_error_or_a_failing_editor() {
    let (sb, p) = setup();
    let original = sb.read("f.json");
    // Invalid JSON, stdin not a terminal: the error is final (exit 2), nothing written.
    let ed = recording_editor(&sb, "echo '{broken' > \"$1\"");
    let (code, _, err) = run(sb.veil().env("EDITOR", &ed).arg("edit").arg(&p));
    assert_eq!(code, Some(2), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    let path = PathBuf::from(&read_log(&sb)["path"]);
    assert!(
        !path.parent().unwrap().exists(),
        "temp dir left after an error"
    );
    assert_eq!(sb.read("f.json"), original);
    // The editor fails: sops's 201, nothing written, nothing left.
    let ed = recording_editor(&sb, "sed -i 's/admin/root/' \"$1\"; exit 3");
    let (code, _, err) = run(sb.veil().env("EDITOR", &ed).arg("edit").arg(&p));
    assert_eq!(code, Some(201), "{err}");
    assert!(err.contains("Could not run editor: exit status 3"), "{err}");
    let path = PathBuf::from(&read_log(&sb)["path"]);
    assert!(
        !path.parent().unwrap().exists(),
        "temp dir left after editor failure"
    );
    assert_eq!(sb.read("f.json"), original);
}

/// veil as a std child (assert_cmd cannot spawn), isolated like the harness does it.
fn spawn_veil(sb: &Sandbox, ed: &Path, file: &Path) -> std::process::Child {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_veil"));
    cmd.env_clear();
    for k in support::INHERITED_VARS {
        if let Some(v) = std::env::var_os(k) {
            cmd.env(k, v);
        }
    }
    cmd.current_dir(sb.path())
        .env("HOME", sb.home())
        .env("XDG_CONFIG_HOME", sb.config_home())
        .env("SOPS_AGE_KEY_FILE", sb.path().join("keys-test-age-1.txt"))
        .env("EDITOR", ed)
        .arg("edit")
        .arg(file)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    cmd.spawn().expect("spawn veil")
}

#[test]
fn signals_to_veil_remove_the_plaintext_and_stop_the_editor() {
    use std::os::unix::process::ExitStatusExt;
    for (sig, name) in [(15, "TERM"), (2, "INT"), (1, "HUP")] {
        let (sb, p) = setup();
        let original = sb.read("f.json");
        // The editor records itself, then becomes a long sleep (same pid).
        let ed = recording_editor(&sb, "exec sleep 300");
        let mut child = spawn_veil(&sb, &ed, &p);
        // Wait (bounded) for the editor to be running.
        let log = sb.path().join("editor.log");
        let mut waited = 0;
        while !log.exists() {
            std::thread::sleep(std::time::Duration::from_millis(20));
            waited += 1;
            assert!(waited < 1500, "the editor never started");
        }
        let info = read_log(&sb);
        let path = PathBuf::from(&info["path"]);
        assert!(path.exists());
        let status = std::process::Command::new("kill")
            .args([format!("-{name}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let st = child.wait().unwrap();
        assert_eq!(
            st.signal(),
            Some(sig),
            "veil should end by SIG{name}: {st:?}"
        );
        assert!(
            !path.parent().unwrap().exists(),
            "SIG{name}: the plaintext directory was left behind"
        );
        assert_eq!(sb.read("f.json"), original, "SIG{name}: the file changed");
        // The editor was told to stop too (bounded wait for it to disappear or be a zombie).
        let pid = &info["pid"];
        let mut gone = false;
        for _ in 0..1500 {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .chars()
                .next();
            if stat.is_empty() || state == Some('Z') {
                gone = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(gone, "SIG{name}: the editor is still running");
    }
}

#[test]
fn unchanged_is_200_and_writes_nothing() {
    let (sb, p) = setup();
    let original = sb.read("f.json");
    let mtime = std::fs::metadata(&p).unwrap().modified().unwrap();
    let (code, _, err) = run(sb.veil().env("EDITOR", "true").arg("edit").arg(&p));
    assert_eq!(code, Some(200), "{err}");
    assert_eq!(
        err.lines().next(),
        Some("File has not changed, exiting."),
        "{err}"
    );
    assert!(
        err.trim_end()
            .lines()
            .last()
            .unwrap_or("")
            .starts_with("hint: "),
        "{err}"
    );
    assert_eq!(sb.read("f.json"), original);
    assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), mtime);
}

#[test]
fn no_editor_is_201() {
    let (sb, p) = setup();
    let empty = sb.path().join("empty-bin");
    std::fs::create_dir(&empty).unwrap();
    let (code, _, err) = run(sb.veil().env("PATH", &empty).arg("edit").arg(&p));
    assert_eq!(code, Some(201), "{err}");
    assert!(err.contains("no editor available"), "{err}");
    let (code, _, err) = run(sb
        .veil()
        .env("EDITOR", "\"unterminated")
        .arg("edit")
        .arg(&p));
    assert_eq!(code, Some(201), "{err}");
    assert!(err.contains("invalid $EDITOR"), "{err}");
}

#[test]
fn a_new_file_starts_from_the_example_and_uses_the_creation_rule() {
    let (sb, _) = setup();
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - age: {}\n", TestKey::Age1.recipient()),
    );
    // Unchanged template: 200 and no file.
    let (code, _, err) = run(sb.veil().env("EDITOR", "true").args(["edit", "new.json"]));
    assert_eq!(code, Some(200), "{err}");
    assert!(!sb.path().join("new.json").exists());
    let ed = editor(&sb, "ed.sh", "sed -i 's/example_value\"/changed\"/' \"$1\"");
    run_ok(
        sb.veil().env("EDITOR", &ed).args(["edit", "new.json"]),
        "edit new",
    );
    let plain = decrypt(&sb, &sb.path().join("new.json"));
    assert!(plain.contains("\"example_key\": \"changed\""), "{plain}");
    assert!(plain.contains("\"example_number\": 1234.56789"), "{plain}");
    let mode = std::fs::metadata(sb.path().join("new.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // dotenv template too.
    let ed = editor(
        &sb,
        "ed2.sh",
        "sed -i 's/^example_key=.*/example_key=v2/' \"$1\"",
    );
    run_ok(
        sb.veil().env("EDITOR", &ed).args(["edit", "new.env"]),
        "edit new env",
    );
    let plain = decrypt(&sb, &sb.path().join("new.env"));
    assert!(plain.contains("example_key=v2\n"), "{plain}");
}

#[test]
fn legacy_form_edits() {
    let (sb, p) = setup();
    let ed = editor(&sb, "ed.sh", "sed -i 's/admin/root/' \"$1\"");
    run_ok(sb.veil().env("EDITOR", &ed).arg(&p), "veil FILE");
    assert!(decrypt(&sb, &p).contains("\"root\""));
}

#[test]
fn show_master_keys_lets_the_user_swap_a_recipient() {
    let (sb, p) = setup();
    let (a1, a2) = (TestKey::Age1.recipient(), TestKey::Age2.recipient());
    // The view has the metadata; replace recipient 1 by recipient 2 and change a value.
    let ed = editor(
        &sb,
        "ed.sh",
        &format!(
            "grep -q '\"sops\"' \"$1\" || exit 9\nsed -i -e 's/{a1}/{a2}/' -e 's/admin/root/' \"$1\""
        ),
    );
    run_ok(
        sb.veil().env("EDITOR", &ed).args(["edit", "-s"]).arg(&p),
        "edit -s",
    );
    let k2 = sb.age_key_file(TestKey::Age2);
    let out = run_ok(
        sb.veil()
            .env("SOPS_AGE_KEY_FILE", &k2)
            .arg("decrypt")
            .arg(&p),
        "decrypt with key 2",
    );
    assert!(text(&out).contains("\"root\""));
    let (code, _, _) = run(sb.veil().arg("decrypt").arg(&p));
    assert_eq!(code, Some(128), "key 1 was removed");
}

#[test]
fn sops_reads_what_edit_wrote_and_edit_reads_what_sops_wrote() {
    if !require_peer("sops") {
        return;
    }
    let (sb, p) = setup();
    let ed = editor(&sb, "ed.sh", "sed -i 's/admin/root/' \"$1\"");
    run_ok(sb.veil().env("EDITOR", &ed).arg("edit").arg(&p), "edit");
    let out = run_ok(sb.sops().arg("decrypt").arg(&p), "sops decrypt");
    let want = support::json_doc(&PLAIN.replace("admin", "root")).unwrap();
    assert_eq!(support::json_doc(text(&out)).unwrap(), want);

    // A file sops wrote (every number a float): only the edited value, mac and lastmodified
    // change, although veil reads integers as ints.
    let q = sb.write("s.json", PLAIN);
    run_ok(
        sb.sops()
            .args(["encrypt", "-i", "--age", &TestKey::Age1.recipient()])
            .arg(&q),
        "sops encrypt",
    );
    let before = String::from_utf8(sb.read("s.json")).unwrap();
    let ed = editor(&sb, "ed2.sh", "sed -i 's/\"other\"/\"changed\"/' \"$1\"");
    run_ok(
        sb.veil().env("EDITOR", &ed).arg("edit").arg(&q),
        "edit sops file",
    );
    let after = String::from_utf8(sb.read("s.json")).unwrap();
    let changed = changed_lines(&before, &after);
    assert!(changed.len() <= 3, "{changed:?}");
    let out = run_ok(sb.sops().arg("decrypt").arg(&q), "sops decrypt");
    let want = support::json_doc(&PLAIN.replace("\"other\"", "\"changed\"")).unwrap();
    assert_eq!(support::json_doc(text(&out)).unwrap(), want);
}

#[test]
fn on_a_terminal_a_parse_error_offers_to_reopen_the_editor() {
    // `script` gives veil a terminal; skip where util-linux's script is missing.
    if !Path::new("/usr/bin/script").exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "/usr/bin/script (util-linux) is missing in CI"
        );
        eprintln!("SKIP: /usr/bin/script not installed");
        return;
    }
    let (sb, p) = setup();
    let count = sb.path().join("count");
    let keep = sb.path().join("keep.json");
    // First round: save the text and break it; second round: restore it and change a value.
    let ed = editor(
        &sb,
        "ed.sh",
        &format!(
            "if [ ! -e {c} ]; then touch {c}; cp \"$1\" {k}; echo '{{broken' > \"$1\"; \
             else cp {k} \"$1\"; sed -i 's/admin/root/' \"$1\"; fi",
            c = count.display(),
            k = keep.display()
        ),
    );
    let veil = env!("CARGO_BIN_EXE_veil");
    let out = String::from_utf8(
        std::process::Command::new("/usr/bin/script")
            .current_dir(sb.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", sb.home())
            .env("SOPS_AGE_KEY_FILE", sb.path().join("keys-test-age-1.txt"))
            .env("EDITOR", &ed)
            .args(["-qec", &format!("{veil} edit {}", p.display()), "/dev/null"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(b"\n")?;
                c.wait_with_output()
            })
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(out.contains("Press Enter to reopen the editor"), "{out}");
    assert!(decrypt(&sb, &p).contains("\"root\""), "{out}");
    // The reopen round used the same private copy, and it is gone.
    assert!(!out.contains("hunter2"), "plaintext echoed: {out}");
}
