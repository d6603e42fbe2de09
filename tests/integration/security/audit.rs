//! The audit trail (`VEIL_AUDIT`): one JSON line per command that reaches a file's data key,
//! never a value; the file opened append-only, created 0600, no symbolic link; concurrent
//! writers never lose or interleave a line; failures logged with their exit code; required
//! mode (`VEIL_AUDIT_REQUIRED=1`) refuses to hand out plaintext it could not log.

use crate::support::{run, run_ok, Sandbox, TestKey};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Distinctive plaintext values: none may ever appear in the log.
const VALUES: &[&str] = &[
    "pw-Zq81-never-logged",
    "tok-Kx77-never-logged",
    "4711093",
    "nested-Vv02-never-logged",
    "list-Aa13-never-logged",
];

fn plain() -> String {
    format!(
        "db:\n    password: {}\n    token: {}\n    port: {}\napi:\n    nested:\n        key: {}\nitems:\n    - {}\n",
        VALUES[0], VALUES[1], VALUES[2], VALUES[3], VALUES[4]
    )
}

/// A sandbox with age key 1, `secrets.yaml` encrypted for it, and VEIL_AUDIT set to
/// `<sandbox>/audit.log`.
fn setup() -> (Sandbox, PathBuf, PathBuf) {
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    let f = sb.encrypt_for_age1("secrets.yaml", &plain());
    let log = sb.path().join("audit.log");
    sb.set_env("VEIL_AUDIT", &log);
    (sb, f, log)
}

fn entries(log: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON line: {e}: {l}")))
        .collect()
}

fn stored_mac(f: &Path) -> String {
    let text = std::fs::read_to_string(f).unwrap();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("mac: "))
        .expect("a mac line");
    line.trim_start()["mac: ".len()..].to_string()
}

#[test]
fn each_command_writes_one_entry_naming_the_file_version_and_the_key() {
    let (sb, f, log) = setup();
    let abs = f.canonicalize().unwrap();
    let mac = stored_mac(&f);
    run_ok(sb.veil().arg("decrypt").arg("secrets.yaml"), "decrypt");
    run_ok(
        sb.veil().args(["exec-env", "secrets.yaml", "--", "true"]),
        "exec-env",
    );
    run_ok(
        sb.veil()
            .args(["exec-file", "--no-fifo", "secrets.yaml", "--", "cat", "{}"]),
        "exec-file",
    );
    let e = entries(&log);
    let commands: Vec<&str> = e.iter().map(|x| x["command"].as_str().unwrap()).collect();
    assert_eq!(commands, ["decrypt", "exec-env", "exec-file"]);
    for x in &e {
        assert_eq!(x["v"], 1);
        assert_eq!(x["outcome"], "ok", "{x}");
        assert_eq!(x["code"], 0);
        assert_eq!(x["file"], abs.to_str().unwrap());
        assert_eq!(
            x["mac"],
            mac.as_str(),
            "the entry ties to the file's version"
        );
        assert_eq!(x["keys"][0]["kind"], "age");
        assert_eq!(x["keys"][0]["id"], TestKey::Age1.recipient());
        assert_eq!(x["uid"], rustix::process::getuid().as_raw());
        let t = x["time"].as_str().unwrap();
        assert!(
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).is_ok()
                && t.ends_with('Z'),
            "{t}"
        );
    }
    // Commands that change the file: each one entry, with the version it opened.
    let before = stored_mac(&f);
    run_ok(
        sb.veil()
            .args(["set", "secrets.yaml", r#"["db"]["extra"]"#, r#""x-new""#]),
        "set",
    );
    run_ok(
        sb.veil()
            .args(["unset", "secrets.yaml", r#"["db"]["extra"]"#]),
        "unset",
    );
    run_ok(sb.veil().args(["rotate", "-i", "secrets.yaml"]), "rotate");
    let ed = sb.write(
        "ed.sh",
        "#!/bin/sh\nsed -i 's/^    port: .*/    port: 5/' \"$1\"\n",
    );
    std::fs::set_permissions(&ed, std::fs::Permissions::from_mode(0o755)).unwrap();
    run_ok(
        sb.veil().env("EDITOR", &ed).args(["edit", "secrets.yaml"]),
        "edit",
    );
    // The legacy form is the same command.
    run_ok(sb.veil().args(["-d", "secrets.yaml"]), "sops -d");
    let e = entries(&log);
    let commands: Vec<&str> = e[3..]
        .iter()
        .map(|x| x["command"].as_str().unwrap())
        .collect();
    assert_eq!(commands, ["set", "unset", "rotate", "edit", "decrypt"]);
    assert_eq!(e[3]["mac"], before.as_str());
    assert!(e[3..].iter().all(|x| x["outcome"] == "ok"));
}

#[test]
fn updatekeys_writes_one_entry_per_file_it_changes() {
    let (sb, _, log) = setup();
    let a1 = TestKey::Age1.recipient();
    let a2 = TestKey::Age2.recipient();
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: secrets\\.yaml$\n    age: {a1},{a2}\n"),
    );
    run_ok(
        sb.veil().args(["updatekeys", "-y", "secrets.yaml"]),
        "updatekeys",
    );
    let e = entries(&log);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0]["command"], "updatekeys");
    assert_eq!(e[0]["outcome"], "ok");
    assert_eq!(e[0]["keys"][0]["id"], a1);
}

#[test]
fn a_wrong_key_is_logged_as_an_error_with_its_exit_code() {
    let (mut sb, f, log) = setup();
    let other = sb.age_key_file(TestKey::AgeUnrelated);
    sb.set_env("SOPS_AGE_KEY_FILE", &other);
    let (code, out, _) = run(sb.veil().arg("decrypt").arg("secrets.yaml"));
    assert_eq!(code, Some(128));
    assert!(out.is_empty());
    let (code, _, _) = run(sb.veil().args(["exec-env", "secrets.yaml", "--", "true"]));
    assert_eq!(code, Some(128));
    // A file that does not exist: logged too, with sops's exit code.
    let (code, _, _) = run(sb.veil().arg("decrypt").arg("missing.yaml"));
    let missing = code.unwrap();
    // The textconv driver shows the ciphertext (git must not fail) and logs the failure.
    run_ok(
        sb.veil().args(["git", "textconv", "secrets.yaml"]),
        "textconv",
    );
    let e = entries(&log);
    assert_eq!(e.len(), 4, "{e:?}");
    let got: Vec<(&str, &str, i64)> = e
        .iter()
        .map(|x| {
            (
                x["command"].as_str().unwrap(),
                x["outcome"].as_str().unwrap(),
                x["code"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("decrypt", "error", 128),
            ("exec-env", "error", 128),
            ("decrypt", "error", missing as i64),
            ("git-textconv", "error", 128),
        ]
    );
    assert_eq!(e[0]["mac"], stored_mac(&f).as_str());
    assert_eq!(e[0]["keys"], serde_json::json!([]));
}

#[test]
fn no_plaintext_value_ever_reaches_the_log() {
    let (sb, _, log) = setup();
    run_ok(sb.veil().arg("decrypt").arg("secrets.yaml"), "decrypt");
    run_ok(
        sb.veil().args([
            "decrypt",
            "--extract",
            r#"["db"]["password"]"#,
            "secrets.yaml",
        ]),
        "extract",
    );
    run_ok(
        sb.veil().args(["exec-env", "secrets.yaml", "--", "env"]),
        "exec-env",
    );
    run_ok(
        sb.veil()
            .args(["exec-file", "--no-fifo", "secrets.yaml", "--", "cat", "{}"]),
        "exec-file",
    );
    run_ok(
        sb.veil().args(["git", "textconv", "secrets.yaml"]),
        "textconv",
    );
    let newval = "set-Pp55-never-logged";
    run_ok(
        sb.veil()
            .args(["set", "secrets.yaml", r#"["db"]["password"]"#])
            .arg(format!("\"{newval}\"")),
        "set",
    );
    run_ok(sb.veil().args(["rotate", "-i", "secrets.yaml"]), "rotate");
    // --verbose logs more to stderr; the audit line must not change with it.
    run_ok(
        sb.veil().args(["--verbose", "decrypt", "secrets.yaml"]),
        "decrypt --verbose",
    );
    let bytes = std::fs::read(&log).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(text.lines().count(), 8);
    for v in VALUES.iter().chain([&newval]) {
        assert!(!text.contains(v), "the value {v} is in the audit log");
    }
    // The values really were handled: a decrypt prints them.
    let out = run_ok(sb.veil().arg("decrypt").arg("secrets.yaml"), "decrypt");
    assert!(String::from_utf8(out).unwrap().contains(newval));
}

#[test]
fn the_log_is_created_0600_and_appended_to() {
    let (sb, _, log) = setup();
    run_ok(sb.veil().arg("decrypt").arg("secrets.yaml"), "decrypt");
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    run_ok(sb.veil().arg("decrypt").arg("secrets.yaml"), "decrypt");
    assert_eq!(entries(&log).len(), 2);
}

#[test]
fn a_symlinked_or_world_writable_log_is_refused() {
    let (mut sb, _, _) = setup();
    let target = sb.write("elsewhere.log", "");
    let link = sb.path().join("link.log");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    sb.set_env("VEIL_AUDIT", &link);
    // Default: a warning, and the command runs unaudited; nothing reaches the link's target.
    let (code, out, err) = run(sb.veil().arg("decrypt").arg("secrets.yaml"));
    assert_eq!(code, Some(0), "{err}");
    assert!(!out.is_empty());
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), b"");
    // Required: refused before anything is decrypted.
    sb.set_env("VEIL_AUDIT_REQUIRED", "1");
    let (code, out, err) = run(sb.veil().arg("decrypt").arg("secrets.yaml"));
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty(), "plaintext released without an audit entry");
    assert!(err.contains("symbolic link"), "{err}");
    // A world-writable file: anyone could rewrite history.
    let ww = sb.write("ww.log", "");
    std::fs::set_permissions(&ww, std::fs::Permissions::from_mode(0o666)).unwrap();
    sb.set_env("VEIL_AUDIT", &ww);
    let (code, out, err) = run(sb.veil().arg("decrypt").arg("secrets.yaml"));
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty());
    assert!(err.contains("writable by everyone"), "{err}");
    assert_eq!(std::fs::read(&ww).unwrap(), b"");
}

#[test]
fn required_mode_releases_no_plaintext_it_could_not_log() {
    let (mut sb, _, _) = setup();
    sb.set_env("VEIL_AUDIT", sb.path().join("no-such-dir/audit.log"));
    sb.set_env("VEIL_AUDIT_REQUIRED", "1");
    let (code, out, _) = run(sb.veil().arg("decrypt").arg("secrets.yaml"));
    assert_eq!(code, Some(1));
    assert!(out.is_empty());
    let (code, out, _) = run(sb.veil().args(["exec-env", "secrets.yaml", "--", "env"]));
    assert_eq!(code, Some(1));
    assert!(!String::from_utf8_lossy(&out).contains(VALUES[0]));
    let before = sb.read("secrets.yaml");
    let (code, _, _) = run(sb
        .veil()
        .args(["set", "secrets.yaml", r#"["db"]["port"]"#, "1"]));
    assert_eq!(code, Some(1));
    assert_eq!(
        sb.read("secrets.yaml"),
        before,
        "the file was changed unaudited"
    );
    // The textconv driver never fails git: it shows the ciphertext instead.
    let out = run_ok(
        sb.veil().args(["git", "textconv", "secrets.yaml"]),
        "textconv",
    );
    assert!(!String::from_utf8_lossy(&out).contains(VALUES[0]));
}

#[test]
fn twenty_concurrent_processes_lose_no_line_and_never_interleave() {
    let (sb, _, log) = setup();
    // A long directory name makes each line a few kilobytes, well past any small-write
    // atomicity a pipe would give.
    let deep = "d".repeat(200);
    let mut dir = sb.path().to_path_buf();
    for _ in 0..10 {
        dir = dir.join(&deep);
    }
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(sb.path().join("secrets.yaml"), dir.join("secrets.yaml")).unwrap();
    let file = dir.join("secrets.yaml");
    const PROCS: usize = 20;
    const EACH: usize = 3;
    std::thread::scope(|s| {
        for _ in 0..PROCS {
            s.spawn(|| {
                for _ in 0..EACH {
                    run_ok(sb.veil().arg("decrypt").arg(&file), "decrypt");
                }
            });
        }
    });
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.ends_with('\n'));
    let e = entries(&log);
    assert_eq!(e.len(), PROCS * EACH, "a line was lost");
    assert!(e.iter().all(|x| x["outcome"] == "ok"
        && x["file"] == file.to_str().unwrap()
        && x["command"] == "decrypt"));
    let pids: std::collections::HashSet<i64> =
        e.iter().map(|x| x["pid"].as_i64().unwrap()).collect();
    assert_eq!(pids.len(), PROCS * EACH, "one line per process");
    assert!(text.lines().all(|l| l.len() > 2000));
}

#[test]
fn syslog_gets_one_authpriv_datagram_per_command() {
    let (mut sb, _, _) = setup();
    let sock_path = sb.path().join("log.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    sb.set_env("VEIL_AUDIT", format!("syslog:{}", sock_path.display()));
    run_ok(sb.veil().arg("decrypt").arg("secrets.yaml"), "decrypt");
    let mut buf = vec![0u8; 65536];
    let n = sock.recv(&mut buf).unwrap();
    let msg = String::from_utf8(buf[..n].to_vec()).unwrap();
    assert!(msg.starts_with("<86>"), "{msg}");
    let json = &msg[msg.find("]: ").unwrap() + 3..];
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(v["command"], "decrypt");
    assert_eq!(v["outcome"], "ok");
    for val in VALUES {
        assert!(!msg.contains(val));
    }
}

/// A repository whose `.sops.yaml` encrypts for age key 1 and has `veil:` `extra`, with
/// `secrets.yaml` encrypted under it; the sandbox holds the repository in `repo/` so that a
/// path escaping it stays inside the sandbox.
fn repo_with_audit_policy(extra: &str) -> (Sandbox, PathBuf) {
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    sb.write(
        "repo/.sops.yaml",
        format!(
            "creation_rules:\n  - age: {}\nveil:\n{extra}",
            TestKey::Age1.recipient()
        ),
    );
    let repo = sb.path().join("repo");
    sb.write("repo/secrets.yaml", plain());
    run_ok(
        sb.veil()
            .current_dir(&repo)
            .args(["encrypt", "-i", "secrets.yaml"]),
        "encrypt by the rule",
    );
    (sb, repo)
}

#[test]
fn a_sops_yaml_audit_switch_logs_decrypt_and_the_environment_wins_over_it() {
    let (mut sb, repo) = repo_with_audit_policy("  audit: audit.log\n");
    let log = repo.join("audit.log");
    assert!(!log.exists(), "encrypt opens no secret and logs nothing");
    // Run from a subdirectory: the relative path is the config's, not the working directory's.
    std::fs::create_dir(repo.join("sub")).unwrap();
    run_ok(
        sb.veil()
            .current_dir(repo.join("sub"))
            .args(["decrypt", "../secrets.yaml"]),
        "decrypt",
    );
    let e = entries(&log);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0]["command"], "decrypt");
    assert_eq!(e[0]["outcome"], "ok");
    assert_eq!(e[0]["keys"][0]["id"], TestKey::Age1.recipient().as_str());
    assert!(!std::fs::read_to_string(&log).unwrap().contains(VALUES[0]));
    // VEIL_AUDIT decides alone when it is set.
    let mine = sb.path().join("mine.log");
    sb.set_env("VEIL_AUDIT", &mine);
    run_ok(
        sb.veil()
            .current_dir(&repo)
            .args(["decrypt", "secrets.yaml"]),
        "decrypt",
    );
    assert_eq!(entries(&log).len(), 1, "the config's log was written too");
    assert_eq!(entries(&mine).len(), 1);
}

#[test]
fn a_sops_yaml_cannot_point_the_log_outside_its_directory_or_at_a_non_log_file() {
    let (sb, repo) = repo_with_audit_policy("  audit: ../outside.log\n");
    let outside = sb.path().join("outside.log");
    // Default: a warning, the command runs unaudited, nothing is written outside the repo.
    let (code, out, err) = run(sb
        .veil()
        .current_dir(&repo)
        .args(["decrypt", "secrets.yaml"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(String::from_utf8_lossy(&out).contains(VALUES[0]));
    assert!(err.contains("leaves the directory"), "{err}");
    assert!(!outside.exists());
    // A file of the repository (here the secret itself) is no log either; required: refused.
    let (sb, repo) = repo_with_audit_policy("  audit: secrets.yaml\n  audit_required: true\n");
    let before = std::fs::read(repo.join("secrets.yaml")).unwrap();
    let (code, out, err) = run(sb
        .veil()
        .current_dir(&repo)
        .args(["decrypt", "secrets.yaml"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty(), "plaintext released without an audit entry");
    assert!(err.contains(".log"), "{err}");
    assert_eq!(std::fs::read(repo.join("secrets.yaml")).unwrap(), before);
    // `veil check` names the bad setting.
    let (code, _, err) = run(sb.veil().current_dir(&repo).arg("check"));
    assert_ne!(code, Some(0));
    assert!(err.contains("veil.audit"), "{err}");
}

#[test]
fn sops_reads_a_config_that_switches_auditing_on() {
    if !crate::support::require_peer("sops") {
        return;
    }
    let (sb, repo) = repo_with_audit_policy("  audit: audit.log\n  audit_required: false\n");
    // sops 3.11 ignores the `veil:` map: it decrypts, and encrypts by the rules.
    let out = run_ok(
        sb.sops()
            .current_dir(&repo)
            .args(["decrypt", "secrets.yaml"]),
        "sops decrypt",
    );
    assert!(String::from_utf8_lossy(&out).contains(VALUES[0]));
    sb.write("repo/new.yaml", "k: v\n");
    run_ok(
        sb.sops()
            .current_dir(&repo)
            .args(["encrypt", "-i", "new.yaml"]),
        "sops encrypt",
    );
    let out = run_ok(
        sb.veil().current_dir(&repo).args(["decrypt", "new.yaml"]),
        "veil decrypt",
    );
    assert_eq!(String::from_utf8_lossy(&out), "k: v\n");
    assert_eq!(entries(&repo.join("audit.log")).len(), 1);
}
