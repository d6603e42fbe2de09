//! The lifecycle commands on YAML, the format most users edit: edit and set keep the file's own
//! text (comments, indentation, block scalars) and change at most 3 lines in `git diff
//! --numstat` of a 1,000-key file; rotate, updatekeys and groups work on files the real sops
//! wrote, and sops reads every result.

use crate::support;
use crate::support::{require_peer, run, run_ok, text, yaml_docs, Sandbox, TestKey};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const PLAIN: &str = "# top comment
db:
  user: admin   # inline
  password: hunter2
list:
  - same
  - same
  - other
ratio: 3.0
n: 5
multi: |
  line1
  line2
port_unencrypted: 80
";

fn sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    let both = sb.age_key_file_with(&[TestKey::Age1, TestKey::Age2]);
    sb.set_env("SOPS_AGE_KEY_FILE", &both);
    sb
}

fn veil_encrypt(sb: &Sandbox, name: &str, plain: &str) -> PathBuf {
    sb.encrypt_for_age1(name, plain)
}

fn changed(a: &[u8], b: &[u8]) -> usize {
    let (a, b) = (text(a), text(b));
    assert_eq!(a.lines().count(), b.lines().count(), "{a}\n---\n{b}");
    a.lines().zip(b.lines()).filter(|(x, y)| x != y).count()
}

fn editor(sb: &Sandbox, body: &str) -> PathBuf {
    let p = sb.write("ed.sh", format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn decrypt(sb: &Sandbox, p: &Path) -> String {
    String::from_utf8(run_ok(sb.veil().arg("decrypt").arg(p), "decrypt")).unwrap()
}

#[test]
fn edit_and_set_keep_the_yaml_text() {
    let sb = sandbox();
    let p = veil_encrypt(&sb, "f.yaml", PLAIN);
    let before = sb.read("f.yaml");
    let ed = editor(&sb, "sed -i 's/line2/line3/' \"$1\"");
    run_ok(sb.veil().env("EDITOR", &ed).arg("edit").arg(&p), "edit");
    let after_edit = sb.read("f.yaml");
    assert!(changed(&before, &after_edit) <= 3);
    // The equal list elements kept their own ciphertexts (sops would collapse them).
    let t = String::from_utf8(after_edit.clone()).unwrap();
    let items: Vec<&str> = t.lines().filter(|l| l.starts_with("  - ENC[")).collect();
    assert_eq!(items.len(), 3);
    assert_ne!(items[0], items[1]);
    run_ok(
        sb.veil()
            .arg("set")
            .arg(&p)
            .args([r#"["db"]["user"]"#, r#""root""#]),
        "set",
    );
    assert!(changed(&after_edit, &sb.read("f.yaml")) <= 3);
    // Decrypting gives the original text with the two changes, comments and layout included.
    assert_eq!(
        decrypt(&sb, &p),
        PLAIN
            .replace("line2", "line3")
            .replace("user: admin", "user: root")
    );
}

#[test]
fn a_structural_set_edits_the_file_in_place_unless_an_indent_asks_for_a_fresh_layout() {
    let sb = sandbox();
    let p = veil_encrypt(&sb, "f.yaml", PLAIN);
    let (code, _, err) = run(sb
        .veil()
        .arg("set")
        .arg(&p)
        .args([r#"["new"]"#, r#"{"a": [1, 2]}"#]));
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("layout"), "{err}");
    // The file's own text, with the new lines in its indentation.
    assert_eq!(
        decrypt(&sb, &p),
        format!("{PLAIN}new:\n  a:\n    - 1\n    - 2\n")
    );
    // An explicit --indent lays the whole file out afresh at that indentation, and says so.
    let (code, _, err) = run(sb
        .veil()
        .args(["--indent", "4", "set"])
        .arg(&p)
        .args([r#"["newer"]"#, "1"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("standard yaml layout"), "{err}");
    let plain = decrypt(&sb, &p);
    let want = yaml_docs(&format!("{PLAIN}new:\n  a: [1, 2]\nnewer: 1\n")).unwrap();
    support::assert_data_eq(&yaml_docs(&plain).unwrap(), &want, "structural set");
    assert!(
        plain.contains("# top comment\ndb:\n    user: admin\n"),
        "{plain}"
    );
}

fn big_yaml() -> String {
    let mut s = String::from("# a large file\n");
    for i in 0..1000 {
        match i % 4 {
            0 => s.push_str(&format!("key{i:04}: value-{i}\n")),
            1 => s.push_str(&format!("key{i:04}: {i}\n")),
            2 => s.push_str(&format!("key{i:04}:\n  - same\n  - same\n")),
            _ => s.push_str(&format!(
                "key{i:04}:\n  user: u{i}  # who\n  password: p{i}\n"
            )),
        }
    }
    s
}

fn git(dir: &Path, args: &[&str]) -> String {
    crate::support::sandbox::git_in(dir, dir, args)
}

fn numstat(dir: &Path) -> (usize, usize) {
    let s = git(dir, &["diff", "--numstat"]);
    let mut it = s.split_whitespace();
    let a = it.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let d = it.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    git(dir, &["commit", "-qam", "step"]);
    (a, d)
}

#[test]
fn one_value_changes_at_most_three_lines_in_a_1000_key_yaml_file() {
    let sb = sandbox();
    let p = veil_encrypt(&sb, "big.yaml", &big_yaml());
    git(sb.path(), &["init", "-q"]);
    git(sb.path(), &["add", "big.yaml"]);
    git(sb.path(), &["commit", "-qm", "initial"]);
    run_ok(
        sb.veil()
            .arg("set")
            .arg(&p)
            .args([r#"["key0500"]"#, r#""changed""#]),
        "set",
    );
    let (a, d) = numstat(sb.path());
    eprintln!("yaml set: git diff --numstat +{a} -{d}");
    assert!((1..=3).contains(&a) && d <= 3, "set: +{a} -{d}");
    let ed = editor(&sb, "sed -i 's/p503$/edited/' \"$1\"");
    run_ok(sb.veil().env("EDITOR", &ed).arg("edit").arg(&p), "edit");
    let (a, d) = numstat(sb.path());
    eprintln!("yaml edit: git diff --numstat +{a} -{d}");
    assert!((1..=3).contains(&a) && d <= 3, "edit: +{a} -{d}");
    run_ok(
        sb.veil()
            .arg("set")
            .arg(&p)
            .args([r#"["key0502"][1]"#, r#""x""#]),
        "set list element",
    );
    let (a, d) = numstat(sb.path());
    eprintln!("yaml set list element: git diff --numstat +{a} -{d}");
    assert!((1..=3).contains(&a) && d <= 3, "list: +{a} -{d}");
    let plain = decrypt(&sb, &p);
    assert!(plain.contains("key0500: changed\n"));
    assert!(plain.contains("  password: edited\n"));
    assert!(plain.contains("key0502:\n  - same\n  - x\n"));
}

#[test]
fn every_command_works_on_files_sops_wrote_and_sops_reads_the_results() {
    if !require_peer("sops") {
        return;
    }
    let sb = sandbox();
    let (a1, a2) = (TestKey::Age1.recipient(), TestKey::Age2.recipient());
    let p = sb.write("secrets/s.yaml", PLAIN);
    run_ok(
        sb.sops().args(["encrypt", "-i", "--age", &a1]).arg(&p),
        "sops encrypt",
    );
    let want = |extra: &[(&str, &str)]| {
        let mut t = PLAIN.to_string();
        for (a, b) in extra {
            t = t.replace(a, b);
        }
        yaml_docs(&t).unwrap()
    };
    let sops_reads = |what: &str, expected: &[support::Data]| {
        let out = run_ok(sb.sops().arg("decrypt").arg(&p), what);
        support::assert_data_eq(&yaml_docs(text(&out)).unwrap(), expected, what);
    };
    // edit: only the value, mac, lastmodified (sops's 4-space layout kept as sops wrote it).
    let before = sb.read("secrets/s.yaml");
    let ed = editor(&sb, "sed -i 's/hunter2/hunter3/' \"$1\"");
    run_ok(sb.veil().env("EDITOR", &ed).arg("edit").arg(&p), "edit");
    assert!(changed(&before, &sb.read("secrets/s.yaml")) <= 3);
    sops_reads("after edit", &want(&[("hunter2", "hunter3")]));
    // set / unset.
    run_ok(sb.veil().arg("set").arg(&p).args([r#"["n"]"#, "6"]), "set");
    sops_reads(
        "after set",
        &want(&[("hunter2", "hunter3"), ("n: 5", "n: 6")]),
    );
    run_ok(
        sb.veil()
            .arg("unset")
            .arg(&p)
            .arg(r#"["port_unencrypted"]"#),
        "unset",
    );
    sops_reads(
        "after unset",
        &want(&[
            ("hunter2", "hunter3"),
            ("n: 5", "n: 6"),
            ("port_unencrypted: 80\n", ""),
        ]),
    );
    let expected = want(&[
        ("hunter2", "hunter3"),
        ("n: 5", "n: 6"),
        ("port_unencrypted: 80\n", ""),
    ]);
    // rotate with a key added.
    run_ok(
        sb.veil().args(["rotate", "-i", "--add-age", &a2]).arg(&p),
        "rotate",
    );
    sops_reads("after rotate", &expected);
    // groups add / delete.
    run_ok(
        sb.veil()
            .args(["groups", "add", "-i", "-f"])
            .arg(&p)
            .args(["--age", &a2]),
        "groups add",
    );
    sops_reads("after groups add", &expected);
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
        "groups delete",
    );
    sops_reads("after groups delete", &expected);
    // updatekeys to key 2 only, with --rotate.
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: ^secrets/\n    age: {a2}\n"),
    );
    run_ok(
        sb.veil()
            .args(["updatekeys", "-y", "--rotate", "secrets/s.yaml"]),
        "updatekeys",
    );
    let k2 = sb.age_key_file(TestKey::Age2);
    let out = run_ok(
        sb.sops()
            .env("SOPS_AGE_KEY_FILE", &k2)
            .arg("decrypt")
            .arg(&p),
        "sops decrypt with key 2",
    );
    support::assert_data_eq(
        &yaml_docs(text(&out)).unwrap(),
        &expected,
        "after updatekeys",
    );
    let k1 = sb.age_key_file(TestKey::Age1);
    let (code, _, _) = run(sb
        .sops()
        .env("SOPS_AGE_KEY_FILE", &k1)
        .arg("decrypt")
        .arg(&p));
    assert_ne!(code, Some(0), "key 1 was removed and the data key rotated");
}
