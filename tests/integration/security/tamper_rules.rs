//! A file's own encryption rule decides which values are sealed, on every read and every write,
//! exactly as in sops: a rule edited in the `sops` metadata breaks the MAC where sops says so,
//! a plaintext that looks like `ENC[…]` under an unencrypted key stays a plain string, and no
//! change to an encrypted file ever writes a sealed value in plaintext. Also the files sops
//! refuses that veil once accepted. Every case runs against the real sops 3.11 too.

use crate::support::{require_peer, run, run_ok, text, Sandbox, TestKey};
use std::os::unix::fs::PermissionsExt;

const SECRET: &str = "s3cret-VALUE";

/// A sandbox holding the Age1 identity, and `name` (with `plain`) encrypted by veil into `out`.
fn setup(name: &str, plain: &str, out: &str, extra: &[&str]) -> Sandbox {
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    sb.write(name, plain);
    let mut c = sb.veil();
    c.args(["encrypt", "--age", &TestKey::Age1.recipient()])
        .args(extra)
        .arg(name);
    sb.write(out, run_ok(&mut c, "encrypt"));
    sb
}

fn sops_code(sb: &Sandbox, file: &str) -> Option<i32> {
    if !require_peer("sops") {
        return None;
    }
    run(sb.sops().args(["decrypt", file])).0
}

/// veil's exit code for `decrypt` on both YAML paths (they must agree), and its stderr.
fn veil_decrypt(sb: &Sandbox, file: &str) -> (Option<i32>, String) {
    let (fast, _, e1) = run(sb.veil().args(["decrypt", file]).env("VEIL_YAML_FAST", "1"));
    let (slow, _, e2) = run(sb.veil().args(["decrypt", file]).env("VEIL_YAML_FAST", "0"));
    assert_eq!(fast, slow, "the two YAML paths disagree:\n{e1}\n{e2}");
    (fast, e1)
}

#[test]
fn a_rule_edited_in_the_metadata_breaks_the_mac_and_no_write_leaks_the_value() {
    let plain = format!("password: {SECRET}\nport_unencrypted: 8080\n");
    let sb = setup("p.yaml", &plain, "e.yaml", &[]);
    let enc = text(&sb.read("e.yaml")).to_string();
    // Only the rule line changes: now nothing is sealed, so each ENC[…] would be "plaintext".
    let tampered = enc.replace(
        "unencrypted_suffix: _unencrypted",
        "encrypted_regex: ^nothing$",
    );
    assert_ne!(tampered, enc);
    sb.write("t.yaml", &tampered);
    let (code, err) = veil_decrypt(&sb, "t.yaml");
    assert_eq!(code, Some(51), "{err}");
    assert!(err.starts_with("MAC mismatch."), "{err}");
    if let Some(s) = sops_code(&sb, "t.yaml") {
        assert_eq!(s, 51, "sops's exit code");
    }
    // Every write refuses, and with --ignore-mac the sealed value stays sealed: the rule leaves
    // it alone, so it is kept as the opaque string it is.
    let (code, _, _) = run(sb.veil().args(["set", "t.yaml", r#"["x"]"#, "1"]));
    assert_eq!(code, Some(51));
    assert_eq!(text(&sb.read("t.yaml")), tampered, "a refused set wrote");
    for args in [
        vec!["set", "--ignore-mac", "t.yaml", r#"["x"]"#, "1"],
        vec!["rotate", "-i", "--ignore-mac", "t.yaml"],
    ] {
        sb.write("t.yaml", &tampered);
        let (code, _, err) = run(sb.veil().args(&args));
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(
            !text(&sb.read("t.yaml")).contains(SECRET),
            "{args:?} wrote the secret in plaintext"
        );
    }
    // `edit` refuses too (the MAC), and `veil check` fails the file when it has the key.
    sb.write("t.yaml", &tampered);
    let ed = sb.write("ed.sh", "#!/bin/sh\necho 'added: 1' >> \"$1\"\n");
    std::fs::set_permissions(&ed, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, _, err) = run(sb.veil().env("EDITOR", &ed).args(["edit", "t.yaml"]));
    assert_eq!(code, Some(51), "{err}");
    assert_eq!(text(&sb.read("t.yaml")), tampered);
    let (code, out, err) = run(sb.veil().args(["check", "t.yaml"]));
    assert_ne!(
        code,
        Some(0),
        "check passed a tampered file: {}{err}",
        text(&out)
    );
}

#[test]
fn rule_edits_in_every_sops_format_fail_where_sops_fails() {
    // (file, plaintext, the rule's text as written in that format, a replacement, veil's code)
    let cases: &[(&str, &str, &str, &str, i32)] = &[
        (
            "a.json",
            "{\"password\": \"s3cret-VALUE\", \"port_unencrypted\": \"8080\"}",
            "\"unencrypted_suffix\": \"_unencrypted\"",
            "\"unencrypted_suffix\": \"word\"",
            25,
        ),
        (
            "a.json",
            "{\"password\": \"s3cret-VALUE\", \"port_unencrypted\": \"8080\"}",
            "\"unencrypted_suffix\": \"_unencrypted\"",
            "\"encrypted_suffix\": \"_nomatch\"",
            51,
        ),
        (
            "a.env",
            "PASSWORD=s3cret-VALUE\nPORT_unencrypted=8080\n",
            "sops_unencrypted_suffix=_unencrypted",
            "sops_unencrypted_suffix=word",
            25,
        ),
        (
            "a.env",
            "PASSWORD=s3cret-VALUE\nPORT_unencrypted=8080\n",
            "sops_unencrypted_suffix=_unencrypted",
            "sops_encrypted_regex=^NOTHING$",
            51,
        ),
        (
            "a.ini",
            "[s]\npassword = s3cret-VALUE\nport_unencrypted = 8080\n",
            "unencrypted_suffix = _unencrypted",
            "unencrypted_comment_regex = x",
            25,
        ),
        (
            "a.yaml",
            "password: s3cret-VALUE\nport_unencrypted: 8080\n",
            "unencrypted_suffix: _unencrypted",
            "encrypted_comment_regex: x",
            51,
        ),
        (
            "a.yaml",
            "password: s3cret-VALUE\nport_unencrypted: 8080\n",
            "    unencrypted_suffix: _unencrypted\n",
            "    mac_only_encrypted: true\n    unencrypted_suffix: _unencrypted\n",
            51,
        ),
    ];
    let ini_rule = regex::Regex::new(r"(?m)^unencrypted_suffix +=").unwrap();
    for (i, (name, plain, from, to, want)) in cases.iter().enumerate() {
        let enc_name = format!("e-{name}");
        let sb = setup(name, plain, &enc_name, &[]);
        let enc = text(&sb.read(&enc_name)).to_string();
        // INI aligns `=`: match the rule whatever the padding.
        let enc_norm = if name.ends_with(".ini") {
            ini_rule.replace(&enc, "unencrypted_suffix =").into_owned()
        } else {
            enc.clone()
        };
        let tampered = enc_norm.replacen(from, to, 1);
        assert_ne!(tampered, enc_norm, "case {i}: the rule was not found");
        let t = format!("t-{name}");
        sb.write(&t, &tampered);
        let (code, err) = veil_decrypt(&sb, &t);
        assert_eq!(code, Some(*want), "case {i} ({name}): {err}");
        assert!(!err.contains(SECRET), "case {i}: {err}");
        if let Some(s) = sops_code(&sb, &t) {
            assert_eq!(s, *want, "case {i} ({name}): sops's exit code");
        }
    }
}

#[test]
fn a_plaintext_that_looks_encrypted_under_an_unencrypted_key_stays_a_string() {
    let fake = "ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]";
    for (name, plain) in [
        (
            "p.yaml",
            format!("password: {SECRET}\nn_unencrypted: \"{fake}\"\n"),
        ),
        (
            "p.json",
            format!("{{\"password\": \"{SECRET}\", \"n_unencrypted\": \"{fake}\"}}\n"),
        ),
        (
            "p.env",
            format!("PASSWORD={SECRET}\nN_unencrypted={fake}\n"),
        ),
    ] {
        let enc = format!("e-{name}");
        let sb = setup(name, &plain, &enc, &[]);
        // veil reads its own file back, on both YAML paths.
        let (code, err) = veil_decrypt(&sb, &enc);
        assert_eq!(code, Some(0), "{name}: {err}");
        let out = run_ok(sb.veil().args(["decrypt", &enc]), "decrypt");
        assert!(text(&out).contains(fake), "{name}: {}", text(&out));
        assert!(text(&out).contains(SECRET), "{name}");
        // A change keeps it as it is, and sops reads veil's file to the same value.
        let key = if name.ends_with(".env") {
            r#"["OTHER"]"#
        } else {
            r#"["other"]"#
        };
        run_ok(
            sb.veil().args(["set", &enc, key, "\"x\""]),
            "set another key",
        );
        let out = run_ok(sb.veil().args(["decrypt", &enc]), "decrypt after set");
        assert!(text(&out).contains(fake), "{name} after set");
        if require_peer("sops") {
            let s = run_ok(sb.sops().args(["decrypt", &enc]), "sops decrypt");
            assert!(text(&s).contains(fake), "{name}: sops read {}", text(&s));
            assert!(text(&s).contains(SECRET), "{name}: sops");
        }
    }
}

#[test]
fn files_sops_refuses_are_refused_with_its_exit_code() {
    let yaml = format!("password: {SECRET}\nn: 5\nb: true\nport_unencrypted: 80\n");
    let sb = setup("p.yaml", &yaml, "e.yaml", &[]);
    let enc = text(&sb.read("e.yaml")).to_string();
    let re = |r: &str, to: &str| {
        let out = regex::Regex::new(r).unwrap().replace(&enc, to).into_owned();
        assert_ne!(out, enc, "/{r}/ did not apply");
        out
    };
    // (what, tampered text, veil's code, sops 3.11's code)
    let cases = [
        // A sealed int or bool replaced by the same value in plaintext: sops 3.11 crashes on
        // it (a Go panic exits 2); 3.13 says "Expected encrypted value as string" (25).
        (
            "int in plaintext",
            re(r#"(?m)^"?n"?: ENC\[.*$"#, "n: 5"),
            25,
            2,
        ),
        (
            "bool in plaintext",
            re(r"(?m)^b: ENC\[.*$", "b: true"),
            25,
            2,
        ),
        // type:str → type:bytes: sops crashes (exit 2) on a bytes value.
        (
            "type bytes",
            re(r"(?m)^(password: ENC\[.*type:)str\]", "${1}bytes]"),
            2,
            2,
        ),
        // The last bytes cut off, the version lost: sops's semver check (exit 1).
        (
            "version cut off",
            enc[..enc.find("    version:").unwrap()].to_string(),
            1,
            1,
        ),
        ("version cut short", enc[..enc.len() - 5].to_string(), 1, 1),
    ];
    for (what, tampered, want, sops_want) in cases {
        sb.write("t.yaml", &tampered);
        let (code, err) = veil_decrypt(&sb, "t.yaml");
        assert_eq!(code, Some(want), "{what}: {err}");
        assert!(!err.contains(SECRET), "{what}: {err}");
        assert!(err.contains("\nhint: "), "{what}: {err}");
        if let Some(s) = sops_code(&sb, "t.yaml") {
            assert_eq!(s, sops_want, "{what}: sops's exit code");
        }
    }
    // A duplicated `sops` member in JSON: sops crashes (2); veil refuses with 2.
    let sb = setup(
        "p.json",
        &format!("{{\"password\": \"{SECRET}\"}}"),
        "e.json",
        &[],
    );
    let enc = text(&sb.read("e.json")).to_string();
    let dup = enc.replacen(
        "\"sops\": {",
        "\"sops\": {\"version\": \"3.11.0\"}, \"sops\": {",
        1,
    );
    assert_ne!(dup, enc);
    sb.write("t.json", &dup);
    // A load error for veil (exit 1, as sops's load errors); sops itself crashes (exit 2).
    let (code, _, err) = run(sb.veil().args(["decrypt", "t.json"]));
    assert_eq!(code, Some(1), "{err}");
    if let Some(s) = sops_code(&sb, "t.json") {
        assert_eq!(s, 2);
    }
}

#[test]
fn json_content_after_the_object_is_refused_on_encrypt_and_on_decrypt() {
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    let r1 = TestKey::Age1.recipient();
    // Encrypt: sops silently drops the second object; veil refuses (2), writing nothing.
    sb.write(
        "two.json",
        format!("{{\"a\": \"x\"}}\n{{\"password\": \"{SECRET}\"}}\n"),
    );
    let (code, out, err) = run(sb.veil().args(["encrypt", "--age", &r1, "two.json"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty() && !err.contains(SECRET), "{err}");
    let (code, _, err) = run(sb.veil().args(["encrypt", "-i", "--age", &r1, "two.json"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        text(&sb.read("two.json")).contains(SECRET),
        "-i changed the file"
    );
    // Decrypt: an object appended to an encrypted file is refused, as sops refuses it (1).
    sb.write("one.json", "{\"a\": \"x\"}\n");
    let enc = run_ok(sb.veil().args(["encrypt", "--age", &r1, "one.json"]), "enc");
    let mut appended = enc.clone();
    appended.extend_from_slice(format!("{{\"password\": \"{SECRET}\"}}\n").as_bytes());
    sb.write("t.json", &appended);
    let (code, out, err) = run(sb.veil().args(["decrypt", "t.json"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty() && !err.contains(SECRET), "{err}");
    if let Some(s) = sops_code(&sb, "t.json") {
        assert_eq!(s, 1);
    }
    let (code, _, _) = run(sb.veil().args(["filestatus", "t.json"]));
    assert_ne!(code, Some(0), "filestatus accepted the appended object");
}

#[test]
fn removing_a_comment_marker_in_edit_never_writes_the_value_in_plaintext() {
    // Under encrypted_comment_regex, the marker comment is what seals the value below it.
    let plain = format!(
        "# sops:enc\npassword: {SECRET}\nuser: admin\nitems:\n    - plain-one\n    # sops:enc\n    - listed-{SECRET}\n"
    );
    let sb = setup(
        "p.yaml",
        &plain,
        "e.yaml",
        &["--encrypted-comment-regex", "sops:enc"],
    );
    let enc = text(&sb.read("e.yaml")).to_string();
    assert!(!enc.contains(SECRET));
    let ed = sb.write(
        "ed.sh",
        "#!/bin/sh\nsed -i '/sops:enc/d' \"$1\"\necho 'added: 1' >> \"$1\"\n",
    );
    std::fs::set_permissions(&ed, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, out, err) = run(sb.veil().env("EDITOR", &ed).args(["edit", "e.yaml"]));
    assert_eq!(code, Some(23), "{err}");
    assert!(err.contains("password:"), "names the key: {err}");
    assert!(
        !err.contains(SECRET) && !text(&out).contains(SECRET),
        "{err}"
    );
    assert_eq!(text(&sb.read("e.yaml")), enc, "the file was changed");
    // Only the list's marker removed: the sealed element would be plaintext.
    let ed = sb.write("ed1.sh", "#!/bin/sh\nsed -i '/    # sops:enc/d' \"$1\"\n");
    std::fs::set_permissions(&ed, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, _, err) = run(sb.veil().env("EDITOR", &ed).args(["edit", "e.yaml"]));
    assert_eq!(code, Some(23), "{err}");
    assert!(err.contains("items:"), "names the key: {err}");
    assert_eq!(text(&sb.read("e.yaml")), enc, "the file was changed");
    // A plain element added before the sealed one moves it, and declassifies nothing.
    let ed = sb.write(
        "ed3.sh",
        "#!/bin/sh\nsed -i 's/^    - plain-one/    - added\\n    - plain-one/' \"$1\"\n",
    );
    std::fs::set_permissions(&ed, std::fs::Permissions::from_mode(0o755)).unwrap();
    run_ok(
        sb.veil().env("EDITOR", &ed).args(["edit", "e.yaml"]),
        "edit",
    );
    assert!(!text(&sb.read("e.yaml")).contains(SECRET));
    let out = run_ok(sb.veil().args(["decrypt", "e.yaml"]), "decrypt");
    assert!(text(&out).contains("- added"), "{}", text(&out));
    assert!(text(&out).contains(SECRET), "{}", text(&out));
    // Editing something else keeps working.
    let ed2 = sb.write("ed2.sh", "#!/bin/sh\necho 'added: 1' >> \"$1\"\n");
    std::fs::set_permissions(&ed2, std::fs::Permissions::from_mode(0o755)).unwrap();
    run_ok(
        sb.veil().env("EDITOR", &ed2).args(["edit", "e.yaml"]),
        "edit",
    );
    assert!(!text(&sb.read("e.yaml")).contains(SECRET));
}
