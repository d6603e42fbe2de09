//! Small git diffs, the reason veil keeps a file's layout: in a 1,000-key encrypted file committed to a real git
//! repository, `veil set` of one value, `veil edit` of one value and `veil encrypt --reuse-from`
//! of a working copy with one change each change at most 3 lines (`git diff --numstat`): the
//! value, `mac` and `lastmodified` (one-second resolution, so it may not change).

use crate::support::sandbox::git;
use crate::support::{run_ok, Sandbox, TestKey};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// (added, deleted) lines of `file` in the working tree against HEAD, then commit.
fn numstat_and_commit(sb: &Sandbox, file: &str, msg: &str) -> (usize, usize) {
    let s = git(sb, &["diff", "--numstat", "--", file]);
    let mut it = s.split_whitespace();
    let added = it.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let deleted = it.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    git(sb, &["commit", "-qam", msg]);
    (added, deleted)
}

/// A 1,000-key JSON document with nested maps, lists with repeated values, numbers and bools.
fn big_json() -> String {
    let mut s = String::from("{\n");
    for i in 0..1000 {
        let v = match i % 5 {
            0 => format!("\"value-{i}\""),
            1 => format!("{i}"),
            2 => "[\"same\", \"same\", \"other\"]".to_string(),
            3 => format!("{{\"user\": \"u{i}\", \"password\": \"p{i}\"}}"),
            _ => "true".to_string(),
        };
        let comma = if i < 999 { "," } else { "" };
        s.push_str(&format!("  \"key{i:04}\": {v}{comma}\n"));
    }
    s.push_str("}\n");
    s
}

fn setup(sb: &mut Sandbox, name: &str, plain: &str) -> std::path::PathBuf {
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    let p = sb.encrypt_for_age1(name, plain);
    git(sb, &["init", "-q"]);
    git(sb, &["add", name]);
    git(sb, &["commit", "-qm", "initial"]);
    p
}

fn assert_small(what: &str, (added, deleted): (usize, usize)) {
    eprintln!("{what}: git diff --numstat +{added} -{deleted}");
    assert!(
        added <= 3 && deleted <= 3 && added >= 1,
        "{what}: git diff --numstat gave +{added} -{deleted}"
    );
}

#[test]
fn one_value_changes_at_most_three_lines_in_a_1000_key_file() {
    let mut sb = Sandbox::new();
    let plain = big_json();
    let p = setup(&mut sb, "big.json", &plain);

    // set: a string, a number inside the file, a value in a list of equal values.
    run_ok(
        sb.veil()
            .arg("set")
            .arg(&p)
            .args([r#"["key0500"]"#, r#""changed""#]),
        "set",
    );
    assert_small("set string", numstat_and_commit(&sb, "big.json", "set 1"));
    run_ok(
        sb.veil()
            .arg("set")
            .arg(&p)
            .args([r#"["key0502"][1]"#, r#""x""#]),
        "set list element",
    );
    assert_small(
        "set list element",
        numstat_and_commit(&sb, "big.json", "set 2"),
    );

    // edit with a scripted editor.
    let ed = sb.write(
        "ed.sh",
        "#!/bin/sh\nsed -i 's/\"p503\"/\"edited\"/' \"$1\"\n",
    );
    std::fs::set_permissions(&ed, std::fs::Permissions::from_mode(0o755)).unwrap();
    run_ok(sb.veil().env("EDITOR", &ed).arg("edit").arg(&p), "edit");
    assert_small("edit", numstat_and_commit(&sb, "big.json", "edit"));

    // encrypt --reuse-from with a plaintext working copy.
    let dec = run_ok(sb.veil().arg("decrypt").arg(&p), "decrypt");
    let work = String::from_utf8(dec)
        .unwrap()
        .replace("\"value-700\"", "\"from-working-copy\"");
    let w = sb.write("work.json", work);
    let out = run_ok(
        sb.veil().args(["encrypt", "--reuse-from"]).arg(&p).arg(&w),
        "encrypt --reuse-from",
    );
    std::fs::write(&p, out).unwrap();
    std::fs::remove_file(&w).unwrap();
    assert_small("reuse-from", numstat_and_commit(&sb, "big.json", "reuse"));

    // The result still decrypts to the intended data.
    let out = run_ok(sb.veil().arg("decrypt").arg(&p), "decrypt");
    let got: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(got["key0500"], "changed");
    assert_eq!(got["key0502"], serde_json::json!(["same", "x", "other"]));
    assert_eq!(got["key0503"]["password"], "edited");
    assert_eq!(got["key0700"], "from-working-copy");
    assert_eq!(got["key0001"], 1);
    assert!(Path::new(&p).exists());
}
