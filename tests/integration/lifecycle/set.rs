//! `veil set` / `veil unset` and `veil encrypt --reuse-from`: sops's path syntax and semantics,
//! exit codes, veil's int typing (sops makes every JSON number a float), idempotence, what
//! changes in the file, and interop with the real sops in both directions.

use crate::support::{
    assert_data_eq, json_doc, require_peer, run, run_ok, text, yaml_docs, Sandbox, TestKey,
};
use std::path::{Path, PathBuf};

const PLAIN: &str = r#"{
  "a": "secret",
  "n": 5,
  "nested": {"k": "v", "list": ["x", "x", "y"]},
  "port_unencrypted": 80
}
"#;

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

fn dec(sb: &Sandbox, p: &Path) -> serde_json::Value {
    let out = run_ok(sb.veil().arg("decrypt").arg(p), "decrypt");
    serde_json::from_slice(&out).unwrap()
}

fn set(sb: &Sandbox, p: &Path, path: &str, value: &str) {
    run_ok(sb.veil().arg("set").arg(p).args([path, value]), "set");
}

fn lines_changed(a: &[u8], b: &[u8]) -> usize {
    let (a, b) = (text(a), text(b));
    assert_eq!(a.lines().count(), b.lines().count(), "{a}\n---\n{b}");
    a.lines().zip(b.lines()).filter(|(x, y)| x != y).count()
}

#[test]
fn set_an_existing_scalar_changes_only_that_line_mac_and_lastmodified() {
    let (sb, p) = setup();
    let before = sb.read("f.json");
    set(&sb, &p, r#"["nested"]["k"]"#, r#""w""#);
    let after = sb.read("f.json");
    assert!(lines_changed(&before, &after) <= 3);
    let d = dec(&sb, &p);
    assert_eq!(d["nested"]["k"], "w");
    assert_eq!(d["nested"]["list"], serde_json::json!(["x", "x", "y"]));
    // An unencrypted value is written as plaintext, still in place.
    set(&sb, &p, r#"["port_unencrypted"]"#, "8080");
    let t = String::from_utf8(sb.read("f.json")).unwrap();
    assert!(t.contains(r#""port_unencrypted": 8080"#), "{t}");
}

#[test]
fn json_integers_stay_ints_unlike_sops() {
    let (sb, p) = setup();
    set(&sb, &p, r#"["n"]"#, "7");
    set(&sb, &p, r#"["f"]"#, "2.5");
    let t = String::from_utf8(sb.read("f.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&t).unwrap();
    assert!(v["n"].as_str().unwrap().ends_with("type:int]"), "{t}");
    assert!(v["f"].as_str().unwrap().ends_with("type:float]"), "{t}");
    let d = dec(&sb, &p);
    assert_eq!(d["n"], 7);
    assert_eq!(d["f"], 2.5);
}

#[test]
fn structures_appends_and_missing_keys() {
    let (sb, p) = setup();
    set(&sb, &p, r#"["obj"]"#, r#"{"b": [1, {"c": true}]}"#);
    set(&sb, &p, r#"["nested"]["list"][99]"#, r#""z""#);
    set(&sb, &p, r#"["new"]["deep"][0]"#, r#""d""#);
    set(&sb, &p, r#"["nested"]["list"][0]"#, r#""X""#);
    let d = dec(&sb, &p);
    assert_eq!(d["obj"], serde_json::json!({"b": [1, {"c": true}]}));
    assert_eq!(d["nested"]["list"], serde_json::json!(["X", "x", "y", "z"]));
    assert_eq!(d["new"], serde_json::json!({"deep": ["d"]}));
    assert_eq!(d["a"], "secret");
}

#[test]
fn value_file_and_value_stdin() {
    let (sb, p) = setup();
    let vf = sb.write("value.json", r#""from-file""#);
    run_ok(
        sb.veil()
            .args(["set", "--value-file"])
            .arg(&p)
            .arg(r#"["a"]"#)
            .arg(&vf),
        "set --value-file",
    );
    assert_eq!(dec(&sb, &p)["a"], "from-file");
    run_ok(
        sb.veil()
            .args(["set", "--value-stdin"])
            .arg(&p)
            .arg(r#"["a"]"#)
            .write_stdin(r#""from-stdin""#),
        "set --value-stdin",
    );
    assert_eq!(dec(&sb, &p)["a"], "from-stdin");
    let (code, _, _) = run(sb
        .veil()
        .args(["set", "--value-file", "--value-stdin"])
        .arg(&p)
        .args([r#"["a"]"#, "x"]));
    assert_ne!(code, Some(0));
}

#[test]
fn idempotent_set_and_unset_do_not_write() {
    let (sb, p) = setup();
    let before = sb.read("f.json");
    let mtime = std::fs::metadata(&p).unwrap().modified().unwrap();
    run_ok(
        sb.veil()
            .args(["set", "--idempotent"])
            .arg(&p)
            .args([r#"["a"]"#, r#""secret""#]),
        "set --idempotent",
    );
    run_ok(
        sb.veil()
            .args(["set", "--idempotent"])
            .arg(&p)
            .args([r#"["n"]"#, "5"]),
        "set --idempotent int",
    );
    run_ok(
        sb.veil()
            .args(["unset", "--idempotent"])
            .arg(&p)
            .arg(r#"["missing"]"#),
        "unset --idempotent",
    );
    assert_eq!(sb.read("f.json"), before);
    assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), mtime);
    // Without --idempotent the same value rewrites mac/lastmodified only (at most 2 lines).
    set(&sb, &p, r#"["a"]"#, r#""secret""#);
    assert!(lines_changed(&before, &sb.read("f.json")) <= 2);
}

#[test]
fn unset_removes_and_missing_is_exit_1() {
    let (sb, p) = setup();
    run_ok(
        sb.veil()
            .arg("unset")
            .arg(&p)
            .arg(r#"["nested"]["list"][1]"#),
        "unset index",
    );
    run_ok(sb.veil().arg("unset").arg(&p).arg(r#"["a"]"#), "unset key");
    let d = dec(&sb, &p);
    assert_eq!(d["nested"]["list"], serde_json::json!(["x", "y"]));
    assert!(d.get("a").is_none());
    let (code, _, err) = run(sb.veil().arg("unset").arg(&p).arg(r#"["a"]"#));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.starts_with("Key not found: a"), "{err}");
    let (code, _, err) = run(sb
        .veil()
        .arg("unset")
        .arg(&p)
        .arg(r#"["nested"]["list"][7]"#));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.starts_with("Index 7 out of bounds"), "{err}");
}

#[test]
fn bad_json_and_bad_paths_are_exit_7_without_echoing_the_value() {
    let (sb, p) = setup();
    let original = sb.read("f.json");
    let (code, _, err) = run(sb
        .veil()
        .arg("set")
        .arg(&p)
        .args([r#"["a"]"#, "{not-json-SECRETVALUE"]));
    assert_eq!(code, Some(7), "{err}");
    assert!(
        err.starts_with("Value for --set is not valid JSON"),
        "{err}"
    );
    assert!(!err.contains("SECRETVALUE"), "{err}");
    let (code, _, err) = run(sb.veil().arg("set").arg(&p).args(["bad", "1"]));
    assert_eq!(code, Some(7), "{err}");
    assert!(err.starts_with("Invalid set index format"), "{err}");
    let (code, _, err) = run(sb.veil().arg("unset").arg(&p).arg("bad"));
    assert_eq!(code, Some(7), "{err}");
    assert!(err.starts_with("Invalid unset index format"), "{err}");
    let (code, _, err) = run(sb.veil().arg("set").arg(&p).args([r#"["nested"][0]"#, "1"]));
    assert_eq!(code, Some(7), "{err}");
    assert_eq!(sb.read("f.json"), original);
}

#[test]
fn legacy_set_flag() {
    let (sb, p) = setup();
    run_ok(
        sb.veil().arg("--set").arg(r#"["a"] "legacy""#).arg(&p),
        "veil --set",
    );
    assert_eq!(dec(&sb, &p)["a"], "legacy");
}

#[test]
fn reuse_from_keeps_unchanged_ciphertext_of_a_working_copy() {
    let (sb, p) = setup();
    let before = sb.read("f.json");
    // A plaintext working copy with one change, in the same layout.
    let work = sb.write("work.json", PLAIN.replace("\"secret\"", "\"rotated\""));
    let out = run_ok(
        sb.veil()
            .args(["encrypt", "--reuse-from"])
            .arg(&p)
            .arg(&work),
        "encrypt --reuse-from",
    );
    assert!(lines_changed(&before, &out) <= 3);
    let enc = sb.write("out.json", &out);
    assert_eq!(dec(&sb, &enc)["a"], "rotated");
    // In place on the working copy.
    run_ok(
        sb.veil()
            .args(["encrypt", "-i", "--reuse-from"])
            .arg(&p)
            .arg(&work),
        "encrypt -i --reuse-from",
    );
    // Only the changed value (new IV each time) and the MAC differ between the two runs.
    assert!(lines_changed(&out, &sb.read("work.json")) <= 3);
    assert_eq!(dec(&sb, &work)["a"], "rotated");
    // An encrypted input is refused (203).
    let (code, _, _) = run(sb.veil().args(["encrypt", "--reuse-from"]).arg(&p).arg(&p));
    assert_eq!(code, Some(203));
}

#[test]
fn sops_reads_set_and_unset_results_and_veil_changes_sops_files() {
    if !require_peer("sops") {
        return;
    }
    let (sb, _) = setup();
    let q = sb.write("s.json", PLAIN);
    run_ok(
        sb.sops()
            .args(["encrypt", "-i", "--age", &TestKey::Age1.recipient()])
            .arg(&q),
        "sops encrypt",
    );
    let before = sb.read("s.json");
    set(&sb, &q, r#"["a"]"#, r#""veil-set""#);
    // sops stored n as a float; veil kept it (one value, mac, lastmodified).
    assert!(lines_changed(&before, &sb.read("s.json")) <= 3);
    set(&sb, &q, r#"["added"]"#, r#"{"x": [1, 2]}"#);
    run_ok(
        sb.veil().arg("unset").arg(&q).arg(r#"["nested"]["k"]"#),
        "unset",
    );
    let out = run_ok(sb.sops().arg("decrypt").arg(&q), "sops decrypt");
    let got = json_doc(text(&out)).unwrap();
    let mut want: serde_json::Value = serde_json::from_str(PLAIN).unwrap();
    want["a"] = "veil-set".into();
    want["added"] = serde_json::json!({"x": [1, 2]});
    want["nested"].as_object_mut().unwrap().remove("k");
    assert_eq!(got, json_doc(&want.to_string()).unwrap());
    // And sops can keep changing what veil wrote.
    run_ok(
        sb.sops()
            .arg("set")
            .arg(&q)
            .args([r#"["a"]"#, r#""sops-set""#]),
        "sops set",
    );
    assert_eq!(dec(&sb, &q)["a"], "sops-set");
}

/// A YAML file with comments on the lines of its values, as people write them.
const COMMENTED: &str =
    "# top\na: 1 # one\nb:\n  c: two # two\n  l:\n    - x # ex\n    - w\nd: three # three\n";

#[test]
fn set_and_unset_that_add_or_remove_yaml_keys_keep_comments_on_their_lines() {
    // sops 3.13 keeps a value's line comment on its line when set/unset re-emit the file
    // (3.11 moves it above the key); veil edits the file's own text, so only the lines of what
    // changed change, and an inline comment whose line goes stays in its map.
    if !require_peer("sops") {
        return;
    }
    let cases: &[(&[&str], &str)] = &[
        (
            &["set", r#"["new"]"#, r#""v""#],
            "# top\na: 1 # one\nb:\n  c: two # two\n  l:\n    - x # ex\n    - w\nd: three # three\nnew: v\n",
        ),
        (
            &["set", r#"["b"]["m"]"#, r#"{"k": [1, 2]}"#],
            "# top\na: 1 # one\nb:\n  c: two # two\n  l:\n    - x # ex\n    - w\n  m:\n    k:\n      - 1\n      - 2\nd: three # three\n",
        ),
        (
            &["set", r#"["b"]["l"][9]"#, r#""z""#],
            "# top\na: 1 # one\nb:\n  c: two # two\n  l:\n    - x # ex\n    - w\n    - z\nd: three # three\n",
        ),
        (
            &["unset", r#"["a"]"#],
            "# top\n# one\nb:\n  c: two # two\n  l:\n    - x # ex\n    - w\nd: three # three\n",
        ),
        (
            &["unset", r#"["b"]["l"][0]"#],
            "# top\na: 1 # one\nb:\n  c: two # two\n  l:\n    # ex\n    - w\nd: three # three\n",
        ),
        (
            &["set", r#"["d"]"#, r#"["p"]"#],
            "# top\na: 1 # one\nb:\n  c: two # two\n  l:\n    - x # ex\n    - w\nd:\n  - p\n# three\n",
        ),
    ];
    let (sb, _) = setup();
    for (i, (args, want)) in cases.iter().enumerate() {
        let f = sb.write(&format!("c{i}.yaml"), COMMENTED);
        run_ok(
            sb.veil()
                .args(["encrypt", "-i", "--age", &TestKey::Age1.recipient()])
                .arg(&f),
            "encrypt",
        );
        let before = String::from_utf8(sb.read(&format!("c{i}.yaml"))).unwrap();
        let (code, _, err) = run(sb.veil().arg(args[0]).arg(&f).args(&args[1..]));
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("layout"),
            "{args:?} re-laid the file out: {err}"
        );
        let out = run_ok(sb.veil().arg("decrypt").arg(&f), "decrypt");
        assert_eq!(text(&out), *want, "{args:?}");
        // The encrypted file kept every line it did not have to change.
        let after = String::from_utf8(sb.read(&format!("c{i}.yaml"))).unwrap();
        let unchanged = |l: &&str| !l.contains("lastmodified:") && !l.contains("mac:");
        let kept = before
            .lines()
            .filter(unchanged)
            .filter(|l| after.lines().any(|a| a == *l));
        let lost = before.lines().filter(unchanged).count() - kept.count();
        assert!(
            lost <= 1,
            "{args:?}: {lost} lines changed:\n{before}\n---\n{after}"
        );
        // sops reads the same data.
        let by_sops = run_ok(sb.sops().arg("decrypt").arg(&f), "sops decrypt");
        assert_data_eq(
            &yaml_docs(text(&by_sops)).unwrap(),
            &yaml_docs(want).unwrap(),
            &format!("{args:?}"),
        );
    }
}
