//! `veil diff` names the key paths that changed between two versions without a key: in a real
//! git history (set, unset, a new key), across a rotation (reported as such, not as "everything
//! changed"), as git's external diff program, and with `--values` when a key is there.

use crate::support::sandbox::git;
use crate::support::{run, run_ok, Sandbox, TestKey};

const PLAIN: &str = "db:\n    password: pw-Qq19-secret\n    user: bob-Zz42\napi:\n    old: old-Hh03-token\nitems:\n    - one-Ll88\n    - two-Mm77\n";

/// A git repo with `secrets.yaml` committed, then changed by set, unset and a new key in a
/// second commit. The sandbox itself has no key: commands that need one get it explicitly.
fn two_commits() -> (Sandbox, std::path::PathBuf) {
    let sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.encrypt_for_age1("secrets.yaml", PLAIN);
    sb.write("notes.txt", "a\n");
    git(&sb, &["init", "-q"]);
    git(&sb, &["add", "."]);
    git(&sb, &["commit", "-qm", "one"]);
    let with_key = |args: &[&str]| {
        run_ok(
            sb.veil().env("SOPS_AGE_KEY_FILE", &key).args(args),
            "change",
        );
    };
    with_key(&[
        "set",
        "secrets.yaml",
        r#"["db"]["password"]"#,
        r#""pw-new""#,
    ]);
    with_key(&["unset", "secrets.yaml", r#"["api"]["old"]"#]);
    with_key(&["set", "secrets.yaml", r#"["api"]["token"]"#, r#""tok-new""#]);
    with_key(&["set", "secrets.yaml", r#"["items"][1]"#, r#""two-new""#]);
    sb.write("notes.txt", "b\n");
    git(&sb, &["commit", "-qam", "two"]);
    (sb, key)
}

#[test]
fn a_two_commit_history_names_exactly_the_changed_paths_without_a_key() {
    let (sb, _) = two_commits();
    let out = run_ok(sb.veil().args(["diff", "HEAD~1..HEAD"]), "diff");
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "secrets.yaml: changed\n  - api.old\n  + api.token\n  ~ db.password\n  ~ items[1]\n"
    );
    let out = run_ok(
        sb.veil()
            .args(["diff", "--json", "HEAD~1..", "secrets.yaml"]),
        "json",
    );
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let f = &v["files"][0];
    assert_eq!(v["version"], 1);
    assert_eq!(f["path"], "secrets.yaml");
    assert_eq!(f["status"], "changed");
    let names = |k: &str| -> Vec<String> {
        f[k].as_array()
            .unwrap()
            .iter()
            .map(|p| p["path"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("added"), ["api.token"]);
    assert_eq!(names("removed"), ["api.old"]);
    assert_eq!(names("changed"), ["db.password", "items[1]"]);
    assert_eq!(f["changed"][1]["keys"], serde_json::json!(["items", 1]));
    // (lastmodified has one-second resolution: it may not have changed.)
    assert!(f["metadata"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("mac")));
    // Unchanged files and plaintext files are not listed; no value is printed.
    let text = String::from_utf8(out).unwrap();
    for v in [
        "pw-Qq19-secret",
        "pw-new",
        "tok-new",
        "bob-Zz42",
        "notes.txt",
    ] {
        assert!(!text.contains(v), "{v} in {text}");
    }
}

#[test]
fn a_rotated_data_key_is_reported_as_such() {
    let (sb, key) = two_commits();
    run_ok(
        sb.veil()
            .env("SOPS_AGE_KEY_FILE", &key)
            .args(["rotate", "-i", "secrets.yaml"]),
        "rotate",
    );
    git(&sb, &["commit", "-qam", "rotate"]);
    let out = run_ok(sb.veil().args(["diff", "HEAD~1..HEAD"]), "diff");
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "secrets.yaml: data key rotated: all values re-encrypted, changes cannot be told without a key\n"
    );
    // With a key, --values tells that no value changed.
    let out = run_ok(
        sb.veil().env("SOPS_AGE_KEY_FILE", &key).args([
            "diff",
            "--json",
            "--values",
            "HEAD~1..HEAD",
        ]),
        "values",
    );
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["files"][0]["status"], "data-key-rotated");
    assert_eq!(v["files"][0]["values"]["changed"], serde_json::json!([]));
    assert_eq!(v["files"][0]["values"]["diff"], serde_json::json!([]));
}

#[test]
fn values_shows_old_and_new_with_a_key_and_fails_without_one() {
    let (mut sb, key) = two_commits();
    let (code, out, _) = run(sb.veil().args(["diff", "--values", "HEAD~1..HEAD"]));
    assert_eq!(code, Some(128));
    assert!(out.is_empty());
    sb.set_env("VEIL_AUDIT", sb.path().join("audit.log"));
    let out = run_ok(
        sb.veil()
            .env("SOPS_AGE_KEY_FILE", &key)
            .args(["diff", "--values", "HEAD~1..HEAD"]),
        "values",
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "secrets.yaml: changed\n  - api.old\n      - old-Hh03-token\n  + api.token\n      + tok-new\n  \
         ~ db.password\n      - pw-Qq19-secret\n      + pw-new\n  ~ items[1]\n      - two-Mm77\n      + two-new\n"
    );
    // Each version decrypted is audited.
    let log = std::fs::read_to_string(sb.path().join("audit.log")).unwrap();
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("\"diff-values\""))
            .count(),
        2
    );
    assert!(!log.contains("pw-new"));
}

#[test]
fn as_gits_external_diff_it_shows_key_paths_and_leaves_other_files_to_git() {
    let (sb, _) = two_commits();
    let veil = std::path::PathBuf::from(env!("CARGO_BIN_EXE_veil"));
    let out = std::process::Command::new("git")
        .current_dir(sb.path())
        .env("HOME", sb.home())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_EXTERNAL_DIFF", format!("{} diff", veil.display()))
        .env_remove("SOPS_AGE_KEY_FILE")
        .args(["log", "-p", "--ext-diff", "-1", "--format="])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "diff --veil a/secrets.yaml b/secrets.yaml\nsecrets.yaml: changed\n  - api.old\n  + api.token\n  ~ db.password\n  ~ items[1]\n"
        ),
        "{text}"
    );
    // The plaintext file gets git's own diff.
    assert!(text.contains("-a\n+b\n"), "{text}");
    assert!(!text.contains("ENC["), "{text}");
}

#[test]
fn two_files_compare_directly_and_plaintext_is_refused() {
    let (sb, _) = two_commits();
    let old = git(&sb, &["show", "HEAD~1:secrets.yaml"]);
    sb.write("old.yaml", old);
    let out = run_ok(
        sb.veil().args(["diff", "old.yaml", "secrets.yaml"]),
        "files",
    );
    assert!(String::from_utf8(out)
        .unwrap()
        .starts_with("secrets.yaml: changed\n  - api.old\n"));
    sb.write("p1.yaml", "a: 1\n");
    sb.write("p2.yaml", "a: 2\n");
    let (code, _, err) = run(sb.veil().args(["diff", "p1.yaml", "p2.yaml"]));
    assert_eq!(code, Some(1));
    assert!(err.contains("is an encrypted file"), "{err}");
}

/// A range side that starts with `-` is refused before git runs: it would reach git as an
/// option (`--output=FILE` makes git write where the caller says).
#[test]
fn a_revision_that_looks_like_an_option_is_refused() {
    let (sb, _) = two_commits();
    let target = sb.path().join("written-by-git");
    for range in [
        format!("--output={}..HEAD", target.display()),
        format!("HEAD..--output={}", target.display()),
    ] {
        let (code, _, err) = run(sb.veil().args(["diff", &range]));
        assert_eq!(code, Some(1), "{range}: {err}");
        assert!(err.contains("is not a revision"), "{err}");
        assert!(!target.exists(), "git wrote {}", target.display());
    }
}
