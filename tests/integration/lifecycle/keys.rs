//! Key lifecycle: `rotate` (with `--add-age`/`--rm-age`), `groups add`/`delete`, and
//! `updatekeys` on one file (sops's exact diff text and prompt) and on a 200-file tree with
//! `-r` (a recipient added and removed, with and without `--dry-run`, `--rotate` locking the
//! removed key out, a failing file not stopping the others). The real sops reads every result.

use crate::support;
use crate::support::{require_peer, run, run_ok, text, Sandbox, TestKey};
use std::path::{Path, PathBuf};

const PLAIN: &str = r#"{"a": "secret", "n": 5, "l": ["x", "x"], "port_unencrypted": 80}
"#;

fn sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    let both = sb.age_key_file_with(&[TestKey::Age1, TestKey::Age2]);
    sb.set_env("SOPS_AGE_KEY_FILE", &both);
    sb
}

fn encrypt_for(sb: &Sandbox, name: &str, recipients: &str) -> PathBuf {
    let p = sb.write(name, PLAIN);
    run_ok(
        sb.veil()
            .args(["encrypt", "-i", "--age", recipients])
            .arg(&p),
        "encrypt",
    );
    p
}

/// Decrypt with exactly one test key; `None` when that key cannot.
fn decrypt_with(sb: &Sandbox, key: TestKey, p: &Path) -> Option<serde_json::Value> {
    let k = sb.age_key_file(key);
    let (code, out, _) = run(sb.veil().env("SOPS_AGE_KEY_FILE", &k).arg("decrypt").arg(p));
    match code {
        Some(0) => Some(serde_json::from_slice(&out).unwrap()),
        Some(128) => None,
        other => panic!("decrypt exited {other:?}"),
    }
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn recipients(v: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |g: &serde_json::Value| {
        for e in g["age"].as_array().into_iter().flatten() {
            out.push(e["recipient"].as_str().unwrap().to_string());
        }
    };
    match v["sops"]["key_groups"].as_array() {
        Some(groups) => groups.iter().for_each(&mut push),
        None => push(&v["sops"]),
    }
    out
}

fn without_keys(v: &serde_json::Value) -> serde_json::Value {
    let mut v = v.clone();
    let s = v["sops"].as_object_mut().unwrap();
    s.remove("age");
    s.remove("key_groups");
    s.remove("shamir_threshold");
    v
}

#[test]
fn rotate_changes_every_value_and_key_but_not_the_data() {
    let sb = sandbox();
    let (a1, a2) = (TestKey::Age1.recipient(), TestKey::Age2.recipient());
    let p = encrypt_for(&sb, "f.json", &a1);
    let before = json(&p);
    let out = run_ok(sb.veil().arg("rotate").arg(&p), "rotate");
    assert_eq!(json(&p), before, "without -i the file is not written");
    let p2 = sb.write("r.json", &out);
    let after = json(&p2);
    for k in ["a", "n"] {
        assert_ne!(before[k], after[k], "{k} must be re-encrypted");
    }
    assert_eq!(after["port_unencrypted"], 80);
    assert_ne!(before["sops"]["age"], after["sops"]["age"]);
    assert_eq!(
        decrypt_with(&sb, TestKey::Age1, &p2),
        decrypt_with(&sb, TestKey::Age1, &p)
    );
    // --add-age / --rm-age, in place.
    run_ok(
        sb.veil()
            .args(["rotate", "-i", "--add-age", &a2, "--rm-age", &a1])
            .arg(&p),
        "rotate -i --add/--rm",
    );
    assert_eq!(recipients(&json(&p)), vec![a2.clone()]);
    assert!(decrypt_with(&sb, TestKey::Age1, &p).is_none());
    assert_eq!(
        decrypt_with(&sb, TestKey::Age2, &p).unwrap(),
        serde_json::from_str::<serde_json::Value>(PLAIN).unwrap()
    );
    // Removing the last key is refused; keys on a missing file are 49.
    let (code, _, err) = run(sb.veil().args(["rotate", "-i", "--rm-age", &a2]).arg(&p));
    assert_eq!(code, Some(1), "{err}");
    let (code, _, _) = run(sb.veil().args(["rotate", "--add-age", &a1, "nope.json"]));
    assert_eq!(code, Some(49));
    // Legacy -r.
    run_ok(sb.veil().args(["-r", "-i"]).arg(&p), "veil -r -i");
    assert!(decrypt_with(&sb, TestKey::Age2, &p).is_some());
}

#[test]
fn groups_add_and_delete_keep_values_and_respect_the_threshold() {
    let sb = sandbox();
    let (a1, a2, a3) = (
        TestKey::Age1.recipient(),
        TestKey::Age2.recipient(),
        TestKey::AgeUnrelated.recipient(),
    );
    let p = encrypt_for(&sb, "g.json", &a1);
    let before = json(&p);
    let out = run_ok(
        sb.veil()
            .args(["groups", "add", "-f"])
            .arg(&p)
            .args(["--age", &a2]),
        "groups add (stdout)",
    );
    assert_eq!(json(&p), before);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["sops"]["shamir_threshold"], 2);
    assert_eq!(v["sops"]["key_groups"].as_array().unwrap().len(), 2);
    run_ok(
        sb.veil()
            .args(["groups", "add", "-i", "-f"])
            .arg(&p)
            .args(["--age", &a2]),
        "groups add -i",
    );
    let v = json(&p);
    // Values, mac and lastmodified untouched.
    for k in ["a", "n", "l"] {
        assert_eq!(v[k], before[k]);
    }
    assert_eq!(v["sops"]["mac"], before["sops"]["mac"]);
    assert_eq!(v["sops"]["lastmodified"], before["sops"]["lastmodified"]);
    // Both groups are needed now.
    assert!(decrypt_with(&sb, TestKey::Age1, &p).is_none());
    assert!(decrypt_with(&sb, TestKey::Age2, &p).is_none());
    let both = run_ok(sb.veil().arg("decrypt").arg(&p), "decrypt with both");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&both).unwrap(),
        serde_json::from_str::<serde_json::Value>(PLAIN).unwrap()
    );
    // Deleting below the threshold is refused; a bad index is named.
    let (code, _, err) = run(sb
        .veil()
        .args(["groups", "delete", "-i", "-f"])
        .arg(&p)
        .arg("1"));
    assert_eq!(code, Some(1));
    assert!(
        err.contains("Shamir threshold is 2, but we only have 1 key groups"),
        "{err}"
    );
    let (code, _, err) = run(sb.veil().args(["groups", "delete", "-f"]).arg(&p).arg("5"));
    assert_eq!(code, Some(1));
    assert!(err.contains("there is no key group 5"), "{err}");
    // Add a third group, then delete the (unrelated) third: back to two groups.
    run_ok(
        sb.veil()
            .args(["groups", "add", "-i", "-f"])
            .arg(&p)
            .args(["--age", &a3]),
        "groups add third",
    );
    run_ok(
        sb.veil()
            .args(["groups", "delete", "-i", "-f"])
            .arg(&p)
            .arg("2"),
        "groups delete 2",
    );
    assert_eq!(recipients(&json(&p)), vec![a1.clone(), a2.clone()]);
    // With threshold 1 flag, deleting down to one group works and gives a single group.
    run_ok(
        sb.veil()
            .args([
                "groups",
                "delete",
                "-i",
                "--shamir-secret-sharing-threshold",
                "1",
                "-f",
            ])
            .arg(&p)
            .arg("1"),
        "groups delete to one",
    );
    let v = json(&p);
    assert!(v["sops"].get("key_groups").is_none());
    assert_eq!(recipients(&v), vec![a1.clone()]);
    assert!(decrypt_with(&sb, TestKey::Age1, &p).is_some());
    // The only group cannot be deleted.
    let (code, _, err) = run(sb.veil().args(["groups", "delete", "-f"]).arg(&p).arg("0"));
    assert_eq!(code, Some(1));
    assert!(err.contains("only key group"), "{err}");
    if require_peer("sops") {
        run_ok(
            sb.veil()
                .args(["groups", "add", "-i", "-f"])
                .arg(&p)
                .args(["--age", &a2]),
            "groups add",
        );
        let out = run_ok(sb.sops().arg("decrypt").arg(&p), "sops decrypt groups");
        assert_eq!(
            support::json_doc(text(&out)).unwrap(),
            support::json_doc(PLAIN).unwrap()
        );
    }
}

fn rule(sb: &Sandbox, recipients: &str) {
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: ^secrets/.*\\.json$\n    age: {recipients}\n"),
    );
}

#[test]
fn updatekeys_one_file_prints_sops_diff_and_asks() {
    let sb = sandbox();
    let (a1, a2) = (TestKey::Age1.recipient(), TestKey::Age2.recipient());
    let p = encrypt_for(&sb, "secrets/f.json", &a1);
    rule(&sb, &format!("{a1},{a2}"));
    let before = sb.read("secrets/f.json");
    // "n" leaves the file alone.
    let (code, out, err) = run(sb
        .veil()
        .arg("updatekeys")
        .arg("secrets/f.json")
        .write_stdin("n\n"));
    assert_eq!(code, Some(0), "{err}");
    let expected = format!(
        "The following changes will be made to the file's groups:\nGroup 1\n    {a1}\n+++ {a2}\nIs this okay? (y/n):"
    );
    assert_eq!(text(&out), expected);
    assert_eq!(sb.read("secrets/f.json"), before);
    // No answer (stdin closed) changes nothing and fails.
    let (code, _, _) = run(sb.veil().arg("updatekeys").arg("secrets/f.json"));
    assert_ne!(code, Some(0));
    assert_eq!(sb.read("secrets/f.json"), before);
    // "y" applies; values, mac and lastmodified stay; the old wrapped key is kept as is.
    let (code, _, err) = run(sb
        .veil()
        .arg("updatekeys")
        .arg("secrets/f.json")
        .write_stdin("maybe\ny\n"));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("synced with new keys"), "{err}");
    let (old, new) = (
        serde_json::from_slice::<serde_json::Value>(&before).unwrap(),
        json(&p),
    );
    assert_eq!(without_keys(&old), without_keys(&new));
    assert_eq!(recipients(&new), vec![a1.clone(), a2.clone()]);
    assert_eq!(old["sops"]["age"][0], new["sops"]["age"][0]);
    assert!(decrypt_with(&sb, TestKey::Age2, &p).is_some());
    // Up to date now.
    let (code, out, err) = run(sb.veil().args(["updatekeys", "-y", "secrets/f.json"]));
    assert_eq!(code, Some(0));
    assert!(out.is_empty());
    assert!(err.contains("already up to date"), "{err}");
    if require_peer("sops") {
        // Same text as sops for the same change.
        rule(&sb, &a2);
        let q = sb.write("secrets/q.json", sb.read("secrets/f.json"));
        let sops_out = run_ok(
            sb.sops().args(["updatekeys", "-y"]).arg("secrets/q.json"),
            "sops",
        );
        let veil_out = run_ok(
            sb.veil().args(["updatekeys", "-y"]).arg("secrets/f.json"),
            "veil",
        );
        assert_eq!(text(&veil_out), text(&sops_out));
        let out = run_ok(sb.sops().arg("decrypt").arg(&p), "sops decrypt");
        assert_eq!(
            support::json_doc(text(&out)).unwrap(),
            support::json_doc(PLAIN).unwrap()
        );
        let _ = q;
    }
}

#[test]
fn updatekeys_recursive_on_a_200_file_tree() {
    let sb = sandbox();
    let (a1, a2) = (TestKey::Age1.recipient(), TestKey::Age2.recipient());
    // Four distinct encryptions, copied round-robin into 200 files in 10 directories.
    let seeds: Vec<Vec<u8>> = (0..4)
        .map(|i| {
            let p = encrypt_for(&sb, &format!("seed{i}.json"), &a1);
            std::fs::read(p).unwrap()
        })
        .collect();
    let mut files = Vec::new();
    for i in 0..200 {
        let name = format!("secrets/d{}/f{i:03}.json", i % 10);
        files.push(sb.write(&name, &seeds[i % 4]));
    }
    // Files the walk must skip: plaintext under the rule, and an encrypted file no rule matches.
    sb.write("secrets/plain.json", PLAIN);
    sb.write("other/x.json", &seeds[0]);
    let snapshot = |files: &[PathBuf]| -> Vec<Vec<u8>> {
        files.iter().map(|f| std::fs::read(f).unwrap()).collect()
    };

    // Add a recipient: dry run writes nothing.
    rule(&sb, &format!("{a1},{a2}"));
    let before = snapshot(&files);
    let (code, out, err) = run(sb.veil().args(["updatekeys", "--dry-run", "-r", "secrets"]));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(text(&out).matches(&format!("+++ {a2}")).count(), 200);
    assert!(err.contains("200 would change"), "{err}");
    assert_eq!(snapshot(&files), before);
    assert_eq!(sb.read("secrets/plain.json"), PLAIN.as_bytes());

    let (code, _, err) = run(sb
        .veil()
        .args(["updatekeys", "-y", "-j", "3", "-r", "secrets"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("updatekeys: 200 updated, 0 already up to date, 0 failed"),
        "{err}"
    );
    assert_eq!(
        sb.read("other/x.json"),
        seeds[0],
        "a file no rule matches was touched"
    );
    for (f, old) in files.iter().zip(&before) {
        let (o, n) = (
            serde_json::from_slice::<serde_json::Value>(old).unwrap(),
            json(f),
        );
        assert_eq!(without_keys(&o), without_keys(&n), "{}", f.display());
        assert_eq!(recipients(&n), vec![a1.clone(), a2.clone()]);
        assert!(
            decrypt_with(&sb, TestKey::Age2, f).is_some(),
            "{}",
            f.display()
        );
    }

    // Remove recipient 1: dry run first, then with --rotate.
    rule(&sb, &a2);
    let before = snapshot(&files);
    let (code, out, _) = run(sb.veil().args(["updatekeys", "--dry-run", "-r", "secrets"]));
    assert_eq!(code, Some(0));
    assert_eq!(text(&out).matches(&format!("--- {a1}")).count(), 200);
    assert_eq!(snapshot(&files), before);
    let (code, _, err) = run(sb
        .veil()
        .args(["updatekeys", "-y", "--rotate", "-r", "secrets"]));
    assert_eq!(code, Some(0), "{err}");
    let want: serde_json::Value = serde_json::from_str(PLAIN).unwrap();
    for f in &files {
        assert_eq!(recipients(&json(f)), vec![a2.clone()]);
        assert!(
            decrypt_with(&sb, TestKey::Age1, f).is_none(),
            "removed key still decrypts {}",
            f.display()
        );
        assert_eq!(decrypt_with(&sb, TestKey::Age2, f).as_ref(), Some(&want));
    }
    if require_peer("sops") {
        for f in files.iter().step_by(37) {
            let k2 = sb.age_key_file(TestKey::Age2);
            let out = run_ok(
                sb.sops()
                    .env("SOPS_AGE_KEY_FILE", &k2)
                    .arg("decrypt")
                    .arg(f),
                "sops decrypt",
            );
            assert_eq!(
                support::json_doc(text(&out)).unwrap(),
                support::json_doc(PLAIN).unwrap()
            );
        }
    }
}

#[test]
fn updatekeys_failures_do_not_stop_the_other_files() {
    let sb = sandbox();
    let (a1, a2) = (TestKey::Age1.recipient(), TestKey::Age2.recipient());
    let good: Vec<PathBuf> = (0..5)
        .map(|i| encrypt_for(&sb, &format!("secrets/g{i}.json"), &a1))
        .collect();
    // A file nobody here can decrypt.
    let bad = encrypt_for(&sb, "secrets/bad.json", &TestKey::AgeUnrelated.recipient());
    let bad_before = std::fs::read(&bad).unwrap();
    rule(&sb, &format!("{a1},{a2}"));
    let (code, _, err) = run(sb.veil().args(["updatekeys", "-y", "-r", "secrets"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("5 updated, 0 already up to date, 1 failed"),
        "{err}"
    );
    assert!(err.contains("bad.json"), "{err}");
    assert_eq!(std::fs::read(&bad).unwrap(), bad_before);
    for g in &good {
        assert_eq!(recipients(&json(g)), vec![a1.clone(), a2.clone()]);
    }
}
