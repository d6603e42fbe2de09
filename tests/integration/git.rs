//! The git integration in real git repositories (temp dirs, real git, HOME in the sandbox so
//! the user's config is never read or written): the textconv diff driver, the key-level merge
//! driver (checked with the real sops), and `veil check --staged`.

use crate::support::Command;
use crate::support::{require_peer, run, run_ok, text, Sandbox, TestKey};

const PLAIN: &str =
    "db:\n    user: admin\n    pw: old-secret\napi_key: key-one\nport_unencrypted: 80\n";

/// `decrypt` by the real sops when it is installed (in CI it must be), else by veil.
fn decrypter(sb: &Sandbox) -> Command {
    let mut c = if require_peer("sops") {
        sb.sops()
    } else {
        sb.veil()
    };
    c.arg("decrypt");
    c
}

fn git(sb: &Sandbox) -> Command {
    let mut c = Command::new("git");
    sb.isolate(&mut c);
    c.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z");
    c
}

/// A repository with `.sops.yaml` (rule for `*.enc.yaml`), `secrets.enc.yaml` encrypted and
/// committed, and `veil git setup` done.
fn repo() -> Sandbox {
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_veil"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    sb.set_env("PATH", path);
    run_ok(git(&sb).args(["init", "-q", "-b", "main"]), "git init");
    run_ok(git(&sb).args(["config", "user.name", "T"]), "git config");
    run_ok(
        git(&sb).args(["config", "user.email", "t@example.invalid"]),
        "git config",
    );
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: \\.enc\\.(yaml|json)$\n    age: {}\n",
            TestKey::Age1.recipient()
        ),
    );
    sb.write("secrets.enc.yaml", PLAIN);
    run_ok(
        sb.veil().args(["encrypt", "-i", "secrets.enc.yaml"]),
        "encrypt",
    );
    run_ok(sb.veil().args(["git", "setup"]), "git setup");
    let attrs = String::from_utf8(sb.read(".gitattributes")).unwrap();
    assert!(
        attrs.contains("/secrets.enc.yaml diff=veil merge=veil"),
        "{attrs}"
    );
    run_ok(git(&sb).args(["add", "-A"]), "git add");
    run_ok(git(&sb).args(["commit", "-q", "-m", "init"]), "git commit");
    sb
}

fn set(sb: &Sandbox, path: &str, value: &str) {
    run_ok(
        sb.veil().args(["set", "secrets.enc.yaml", path, value]),
        "veil set",
    );
}

fn commit(sb: &Sandbox, msg: &str) {
    run_ok(git(sb).args(["commit", "-q", "-am", msg]), "git commit");
}

#[test]
fn setup_is_idempotent_and_check_reports_nothing_missing() {
    let sb = repo();
    let before = sb.read(".gitattributes");
    run_ok(sb.veil().args(["git", "setup"]), "git setup again");
    assert_eq!(before, sb.read(".gitattributes"));
    run_ok(sb.veil().args(["git", "setup", "--check"]), "setup --check");
    run_ok(
        git(&sb).args(["config", "--unset", "diff.veil.textconv"]),
        "unset",
    );
    let (code, out, _) = run(sb.veil().args(["git", "setup", "--check"]));
    assert_eq!(code, Some(1));
    assert!(text(&out).contains("diff.veil.textconv"), "{}", text(&out));
    // Nothing was cached in git notes: no cachetextconv.
    let (code, _, _) = run(git(&sb).args(["config", "--get", "diff.veil.cachetextconv"]));
    assert_ne!(code, Some(0));
}

#[test]
fn textconv_diff_and_log_show_the_changed_value() {
    let sb = repo();
    set(&sb, r#"["db"]["pw"]"#, r#""new-secret""#);
    let diff = run_ok(git(&sb).args(["diff"]), "git diff");
    let d = text(&diff);
    assert!(d.contains("-    pw: old-secret"), "{d}");
    assert!(d.contains("+    pw: new-secret"), "{d}");
    assert!(
        !d.contains("-api_key") && !d.contains("+api_key"),
        "an unchanged value is not changed in the diff: {d}"
    );
    commit(&sb, "change pw");
    let log = run_ok(git(&sb).args(["log", "-p"]), "git log -p");
    let l = text(&log);
    assert!(l.contains("+    pw: new-secret"), "{l}");
    assert!(
        l.contains("+    pw: old-secret"),
        "the first commit's content: {l}"
    );
    let show = run_ok(git(&sb).args(["show", "HEAD"]), "git show");
    assert!(text(&show).contains("-    pw: old-secret"));
}

#[test]
fn textconv_of_a_file_veil_cannot_decrypt_shows_ciphertext_and_succeeds() {
    let sb = repo();
    // Without the key: the ciphertext, a notice, exit 0.
    let mut c = sb.veil();
    c.env("SOPS_AGE_KEY_FILE", sb.path().join("no-such-key"));
    let (code, out, err) = run(c.args(["git", "textconv", "secrets.enc.yaml"]));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, sb.read("secrets.enc.yaml"));
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // A file that is not sops at all.
    sb.write("junk.enc.yaml", "not: [valid");
    let (code, out, _) = run(sb.veil().args(["git", "textconv", "junk.enc.yaml"]));
    assert_eq!(code, Some(0));
    assert_eq!(out, b"not: [valid");
}

fn lines_differing(a: &[u8], b: &[u8]) -> Vec<String> {
    let (a, b) = (text(a), text(b));
    assert_eq!(a.lines().count(), b.lines().count(), "{a}\n---\n{b}");
    a.lines()
        .zip(b.lines())
        .filter(|(x, y)| x != y)
        .map(|(_, y)| y.split(':').next().unwrap_or("").trim().to_string())
        .collect()
}

#[test]
fn branches_editing_different_keys_merge_cleanly_and_sops_reads_the_result() {
    let sb = repo();
    run_ok(git(&sb).args(["checkout", "-q", "-b", "feature"]), "branch");
    set(&sb, r#"["api_key"]"#, r#""key-two""#);
    commit(&sb, "theirs: api_key");
    run_ok(git(&sb).args(["checkout", "-q", "main"]), "checkout main");
    set(&sb, r#"["db"]["pw"]"#, r#""ours-secret""#);
    commit(&sb, "ours: pw");
    let ours = sb.read("secrets.enc.yaml");
    let (code, out, err) = run(git(&sb).args(["merge", "-q", "--no-edit", "feature"]));
    assert_eq!(code, Some(0), "{}\n{err}", text(&out));
    let merged = sb.read("secrets.enc.yaml");
    // Only the changed value, the MAC and lastmodified differ from ours.
    let changed = lines_differing(&ours, &merged);
    assert!(
        changed.contains(&"api_key".to_string()) && changed.contains(&"mac".to_string()),
        "{changed:?}"
    );
    // (lastmodified may keep its text within the same second.)
    assert!(
        changed
            .iter()
            .all(|k| ["api_key", "mac", "lastmodified"].contains(&k.as_str())),
        "{changed:?}\n{}",
        text(&merged)
    );
    let plain = run_ok(decrypter(&sb).arg("secrets.enc.yaml"), "decrypt");
    assert_eq!(
        text(&plain),
        "db:\n    user: admin\n    pw: ours-secret\napi_key: key-two\nport_unencrypted: 80\n"
    );
    // The merge is committed and clean.
    let st = run_ok(git(&sb).args(["status", "--porcelain"]), "status");
    assert!(text(&st).is_empty(), "{}", text(&st));
}

#[test]
fn a_conflicting_edit_leaves_no_plaintext_and_names_the_key() {
    let sb = repo();
    run_ok(git(&sb).args(["checkout", "-q", "-b", "feature"]), "branch");
    set(&sb, r#"["db"]["pw"]"#, r#""theirs-pw""#);
    commit(&sb, "theirs");
    run_ok(git(&sb).args(["checkout", "-q", "main"]), "checkout");
    set(&sb, r#"["db"]["pw"]"#, r#""ours-pw""#);
    commit(&sb, "ours");
    let ours = sb.read("secrets.enc.yaml");
    let (code, out, err) = run(git(&sb).args(["merge", "--no-edit", "feature"]));
    assert_ne!(code, Some(0));
    let all = format!("{}{err}", text(&out));
    assert!(all.contains(r#"["db"]["pw"]"#), "{all}");
    assert!(
        !all.contains("theirs-pw") && !all.contains("ours-pw"),
        "{all}"
    );
    let left = sb.read("secrets.enc.yaml");
    assert_eq!(left, ours, "the work tree keeps ours, encrypted");
    for secret in ["theirs-pw", "ours-pw", "old-secret", "key-one"] {
        assert!(!text(&left).contains(secret));
    }

    // `veil git resolve`: the editor sees base/ours/theirs for the key, the saved choice is
    // sealed and staged, and the merge commits.
    let editor = sb.write(
        "resolve-editor.sh",
        "#!/bin/sh\nset -e\n\
         grep -q '^# veil: conflict at \\[\"db\"\\]\\[\"pw\"\\]' \"$1\"\n\
         grep -q '^# veil:   base  : old-secret$' \"$1\"\n\
         grep -q '^# veil:   theirs: theirs-pw$' \"$1\"\n\
         sed -i 's/^    pw: ours-pw$/    pw: resolved-pw/' \"$1\"\n",
    );
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut c = sb.veil();
    c.env("EDITOR", &editor);
    run_ok(
        c.args(["git", "resolve", "secrets.enc.yaml"]),
        "git resolve",
    );
    let resolved = sb.read("secrets.enc.yaml");
    assert!(!text(&resolved).contains("resolved-pw"));
    let changed = lines_differing(&ours, &resolved);
    assert!(
        changed
            .iter()
            .all(|k| ["pw", "mac", "lastmodified"].contains(&k.as_str())),
        "{changed:?}"
    );
    run_ok(git(&sb).args(["commit", "-q", "--no-edit"]), "commit merge");
    let plain = run_ok(decrypter(&sb).arg("secrets.enc.yaml"), "decrypt");
    assert_eq!(
        text(&plain),
        "db:\n    user: admin\n    pw: resolved-pw\napi_key: key-one\nport_unencrypted: 80\n"
    );
}

#[test]
fn check_staged_refuses_plaintext_and_tampered_files() {
    let sb = repo();
    run_ok(
        sb.veil().args(["check", "--staged"]),
        "check of a clean index",
    );
    // A plaintext file a rule matches.
    sb.write("other.enc.yaml", "token: plain-token\n");
    run_ok(git(&sb).args(["add", "other.enc.yaml"]), "add");
    let (code, out, _) = run(sb.veil().args(["check", "--staged"]));
    assert_eq!(code, Some(1));
    let o = text(&out);
    assert!(o.contains("other.enc.yaml: not encrypted"), "{o}");
    assert!(!o.contains("plain-token"));
    // From a subdirectory, the staged file is still found (and named relative to it).
    std::fs::create_dir_all(sb.path().join("sub")).unwrap();
    let (code, out, _) = run(sb
        .veil()
        .current_dir(sb.path().join("sub"))
        .args(["check", "--staged"]));
    assert_eq!(code, Some(1));
    assert!(
        text(&out).contains("../other.enc.yaml: not encrypted"),
        "{}",
        text(&out)
    );
    // The work tree fixed but not staged: --staged still refuses.
    run_ok(
        sb.veil().args(["encrypt", "-i", "other.enc.yaml"]),
        "encrypt",
    );
    let (code, _, _) = run(sb.veil().args(["check", "--staged"]));
    assert_eq!(code, Some(1));
    run_ok(sb.veil().args(["check", "other.enc.yaml"]), "work tree ok");
    run_ok(git(&sb).args(["add", "other.enc.yaml"]), "add");
    run_ok(sb.veil().args(["check", "--staged"]), "fixed");
    // A tampered encrypted file: a value line removed, so the MAC no longer verifies.
    let t = String::from_utf8(sb.read("secrets.enc.yaml")).unwrap();
    let tampered: String = t
        .lines()
        .filter(|l| !l.starts_with("api_key:"))
        .map(|l| format!("{l}\n"))
        .collect();
    sb.write("secrets.enc.yaml", tampered);
    run_ok(git(&sb).args(["add", "secrets.enc.yaml"]), "add");
    let (code, out, _) = run(sb.veil().args(["check", "--staged", "--json"]));
    assert_eq!(code, Some(1));
    let j: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(j["ok"], false);
    let files = j["files"].as_array().unwrap();
    let bad = files
        .iter()
        .find(|f| f["path"] == "secrets.enc.yaml")
        .expect("the tampered file is listed");
    assert!(bad["reasons"][0].as_str().unwrap().contains("MAC"), "{bad}");
    // --no-mac lets it through (the structure is fine).
    run_ok(
        sb.veil().args(["check", "--staged", "--no-mac"]),
        "check --no-mac",
    );
    // A plaintext leaf inside an encrypted file.
    let t = String::from_utf8(sb.read("other.enc.yaml")).unwrap();
    let leaked: String = t
        .lines()
        .map(|l| {
            if l.starts_with("token:") {
                "token: leaked\n".to_string()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    sb.write("other.enc.yaml", leaked);
    let (code, out, _) = run(sb.veil().args(["check", "--no-mac", "other.enc.yaml"]));
    assert_eq!(code, Some(1));
    assert!(
        text(&out).contains("plaintext value at token:"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("leaked"));
}

#[test]
fn a_recipient_added_on_one_branch_stays_added() {
    let sb = repo();
    run_ok(git(&sb).args(["checkout", "-q", "-b", "feature"]), "branch");
    run_ok(
        sb.veil()
            .args(["rotate", "-i", "--add-age", &TestKey::Age2.recipient()])
            .arg("secrets.enc.yaml"),
        "rotate --add-age",
    );
    commit(&sb, "theirs: add a recipient");
    run_ok(git(&sb).args(["checkout", "-q", "main"]), "checkout");
    set(&sb, r#"["api_key"]"#, r#""key-three""#);
    commit(&sb, "ours: api_key");
    let (code, out, err) = run(git(&sb).args(["merge", "-q", "--no-edit", "feature"]));
    assert_eq!(code, Some(0), "{}\n{err}", text(&out));
    let merged = String::from_utf8(sb.read("secrets.enc.yaml")).unwrap();
    assert!(merged.contains(&TestKey::Age1.recipient()), "{merged}");
    assert!(merged.contains(&TestKey::Age2.recipient()), "{merged}");
    // The added recipient alone can read the merged file, with the real sops when present.
    let key2 = sb.age_key_file(TestKey::Age2);
    let mut c = decrypter(&sb);
    c.env("SOPS_AGE_KEY_FILE", &key2);
    let plain = run_ok(c.arg("secrets.enc.yaml"), "decrypt with the added key");
    assert!(
        text(&plain).contains("api_key: key-three"),
        "{}",
        text(&plain)
    );
}

#[test]
fn json_files_diff_and_merge_structural_changes() {
    let sb = repo();
    sb.write(
        "app.enc.json",
        "{\n  \"a\": \"one\",\n  \"nested\": {\n    \"x\": 1\n  }\n}\n",
    );
    run_ok(
        sb.veil()
            .args(["encrypt", "-i", "--age", &TestKey::Age1.recipient()])
            .arg("app.enc.json"),
        "encrypt",
    );
    run_ok(
        sb.veil().args(["git", "setup", "--pattern", "*.enc.json"]),
        "setup with a pattern",
    );
    let attrs = String::from_utf8(sb.read(".gitattributes")).unwrap();
    assert!(
        attrs.contains("*.enc.json diff=veil merge=veil\n"),
        "{attrs}"
    );
    run_ok(git(&sb).args(["add", "-A"]), "add");
    commit(&sb, "json");
    run_ok(git(&sb).args(["checkout", "-q", "-b", "feature"]), "branch");
    run_ok(
        sb.veil()
            .args(["set", "app.enc.json", r#"["nested"]["added"]"#, r#""new""#]),
        "set (adds a key)",
    );
    commit(&sb, "theirs: add a key");
    run_ok(git(&sb).args(["checkout", "-q", "main"]), "checkout");
    run_ok(
        sb.veil()
            .args(["set", "app.enc.json", r#"["a"]"#, r#""two""#]),
        "set",
    );
    let diff = run_ok(git(&sb).args(["diff"]), "git diff");
    assert!(text(&diff).contains("+  \"a\": \"two\""), "{}", text(&diff));
    commit(&sb, "ours: a");
    let (code, out, err) = run(git(&sb).args(["merge", "-q", "--no-edit", "feature"]));
    assert_eq!(code, Some(0), "{}\n{err}", text(&out));
    let plain = run_ok(decrypter(&sb).arg("app.enc.json"), "decrypt");
    let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"a": "two", "nested": {"x": 1, "added": "new"}})
    );
}

#[test]
fn the_merge_driver_leaves_ours_untouched_when_theirs_adds_nothing_new() {
    let sb = repo();
    let base = sb.write("base.enc.yaml", sb.read("secrets.enc.yaml"));
    set(&sb, r#"["api_key"]"#, r#""key-four""#);
    let ours = sb.read("secrets.enc.yaml");
    let a = sb.write("ours.tmp", &ours);
    // Theirs = base: nothing to take from it.
    let theirs = sb.write("theirs.tmp", sb.read("base.enc.yaml"));
    run_ok(
        sb.veil()
            .args(["git", "merge-driver"])
            .args([&base, &a, &theirs])
            .arg("secrets.enc.yaml"),
        "merge-driver",
    );
    assert_eq!(sb.read("ours.tmp"), ours);
    // Reversed (ours = base, theirs changed): the result takes theirs's value, sealed with
    // ours's key, and verifies.
    let a = sb.write("ours2.tmp", sb.read("base.enc.yaml"));
    let theirs = sb.write("theirs2.tmp", &ours);
    run_ok(
        sb.veil()
            .args(["git", "merge-driver"])
            .args([&base, &a, &theirs])
            .arg("secrets.enc.yaml"),
        "merge-driver",
    );
    let out = run_ok(
        sb.veil()
            .args(["decrypt", "--input-type", "yaml", "--output-type", "yaml"])
            .arg(&a),
        "decrypt the merged file",
    );
    assert!(text(&out).contains("api_key: key-four"), "{}", text(&out));
}

#[test]
fn textconv_works_on_every_format() {
    let sb = repo();
    let files = [
        ("t.enc.yaml", "a: 1\nb: two\n"),
        ("t.enc.json", "{\n  \"a\": 1,\n  \"b\": \"two\"\n}\n"),
        ("t.enc.toml", "a = 1\nb = \"two\"\n"),
        ("t.env", "A=1\nB=two\n"),
        ("t.ini", "[s]\na = 1\nb = two\n"),
        ("t.bin", "raw bytes \u{1}\n"),
    ];
    let conf = sb.write(
        "any-file.sops.yaml",
        format!("creation_rules:\n  - age: {}\n", TestKey::Age1.recipient()),
    );
    for (name, plain) in files {
        sb.write(name, plain);
        run_ok(
            sb.veil()
                .arg("encrypt")
                .arg("--config")
                .arg(&conf)
                .args(["-i", name]),
            name,
        );
        // git passes a temp copy named XXXXXX_<basename>.
        let copy = format!("Ab12Cd_{name}");
        sb.write(&copy, sb.read(name));
        let (code, out, err) = run(sb.veil().args(["git", "textconv", &copy]));
        assert_eq!(code, Some(0), "{name}: {err}");
        assert!(err.is_empty(), "{name}: {err}");
        assert_eq!(text(&out), plain, "{name}");
    }
}

#[test]
fn check_without_a_key_checks_the_structure_and_says_the_mac_was_not_checked() {
    let sb = repo();
    let mut c = sb.veil();
    c.env("SOPS_AGE_KEY_FILE", sb.path().join("no-such-key"));
    let out = run_ok(
        c.args(["check", "--json", "secrets.enc.yaml"]),
        "check without a key",
    );
    let j: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(j["ok"], true, "{j}");
    let note = j["files"][0]["notes"][0].as_str().unwrap_or("");
    assert!(note.contains("mac not checked"), "{j}");
}
