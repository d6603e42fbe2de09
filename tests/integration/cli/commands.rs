//! The command line as users and scripts see it: exit codes, where output goes, atomic writes,
//! tampering, and messages that never carry a secret. Uses JSON (and binary) inputs; the
//! conformance suite covers every format.

use crate::support;
use crate::support::{run, run_ok, text, Sandbox, TestKey};
use std::os::unix::fs::PermissionsExt;

const PLAIN: &str = r#"{
    "db": {"user": "admin", "password": "hunter2-very-secret"},
    "port": 5432,
    "ratio": 1.50,
    "on": true,
    "list": ["a", "b"],
    "note_unencrypted": "visible"
}
"#;

fn encrypt(sb: &Sandbox, name: &str, content: &str) -> std::path::PathBuf {
    let p = sb.write(name, content);
    let out = run_ok(
        sb.veil()
            .args(["encrypt", "--age", &TestKey::Age1.recipient()])
            .arg(&p),
        "encrypt",
    );
    sb.write(&format!("{name}.enc.json"), out)
}

#[test]
fn round_trip_keeps_the_file_byte_for_byte() {
    let sb = Sandbox::new();
    let enc = encrypt(&sb, "a.json", PLAIN);
    let key = sb.age_key_file(TestKey::Age1);
    let out = run_ok(
        sb.veil()
            .env("SOPS_AGE_KEY_FILE", &key)
            .arg("decrypt")
            .arg(&enc),
        "decrypt",
    );
    assert_eq!(text(&out), PLAIN);
    let enc_text = String::from_utf8(sb.read("a.json.enc.json")).unwrap();
    assert!(
        !enc_text.contains("hunter2"),
        "plaintext leaked into the encrypted file"
    );
    assert!(enc_text.contains(r#""note_unencrypted": "visible""#));
    assert!(enc_text.contains(r#""port": "ENC[AES256_GCM,"#));
}

#[test]
fn missing_file_is_100_and_conflicting_outputs_are_8() {
    let sb = Sandbox::new();
    let (code, _, err) = run(sb.veil().args(["decrypt", "nope.json"]));
    assert_eq!(code, Some(100), "{err}");
    let p = sb.write("a.json", PLAIN);
    let (code, _, err) = run(sb
        .veil()
        .args([
            "encrypt",
            "-i",
            "--output",
            "x.json",
            "--age",
            &TestKey::Age1.recipient(),
        ])
        .arg(&p));
    assert_eq!(code, Some(8), "{err}");
    assert_eq!(sb.read("a.json"), PLAIN.as_bytes());
}

#[test]
fn extract_paths_and_their_errors() {
    let sb = Sandbox::new();
    let enc = encrypt(&sb, "a.json", PLAIN);
    let key = sb.age_key_file(TestKey::Age1);
    let out = run_ok(
        sb.veil()
            .env("SOPS_AGE_KEY_FILE", &key)
            .args(["decrypt", "--extract", r#"["db"]["password"]"#])
            .arg(&enc),
        "extract",
    );
    assert_eq!(
        text(&out),
        "hunter2-very-secret",
        "a string is printed raw, without a newline"
    );
    let out = run_ok(
        sb.veil()
            .env("SOPS_AGE_KEY_FILE", &key)
            .args(["decrypt", "--extract", r#"["port"]"#])
            .arg(&enc),
        "extract int",
    );
    assert_eq!(text(&out), "5432");
    let (code, _, err) = run(sb
        .veil()
        .env("SOPS_AGE_KEY_FILE", &key)
        .args(["decrypt", "--extract", r#"["nope"]"#])
        .arg(&enc));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("component ['nope'] not found"), "{err}");
    let (code, _, err) = run(sb
        .veil()
        .env("SOPS_AGE_KEY_FILE", &key)
        .args(["decrypt", "--extract", "db.password"])
        .arg(&enc));
    assert_eq!(code, Some(91), "{err}");
}

#[test]
fn encrypting_twice_is_203_and_leaves_the_file() {
    let sb = Sandbox::new();
    let enc = encrypt(&sb, "a.json", PLAIN);
    let before = std::fs::read(&enc).unwrap();
    let (code, _, err) = run(sb
        .veil()
        .args(["encrypt", "-i", "--age", &TestKey::Age1.recipient()])
        .arg(&enc));
    assert_eq!(code, Some(203), "{err}");
    assert_eq!(std::fs::read(&enc).unwrap(), before);
}

#[test]
fn in_place_keeps_mode_and_a_failure_leaves_the_original() {
    let sb = Sandbox::new();
    let p = sb.write("a.json", PLAIN);
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (code, _, err) = run(sb
        .veil()
        .args(["encrypt", "-i", "--age", "age1notarecipient"])
        .arg(&p));
    assert_ne!(code, Some(0), "{err}");
    assert_eq!(
        std::fs::read(&p).unwrap(),
        PLAIN.as_bytes(),
        "a failed command must not touch the file"
    );
    run_ok(
        sb.veil()
            .args(["encrypt", "-i", "--age", &TestKey::Age1.recipient()])
            .arg(&p),
        "encrypt -i",
    );
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o640
    );
    let key = sb.age_key_file(TestKey::Age1);
    run_ok(
        sb.veil()
            .env("SOPS_AGE_KEY_FILE", &key)
            .args(["decrypt", "-i"])
            .arg(&p),
        "decrypt -i",
    );
    assert_eq!(std::fs::read(&p).unwrap(), PLAIN.as_bytes());
    let leftovers: Vec<_> = std::fs::read_dir(sb.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".veil-"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left behind");
}

#[test]
fn tampering_gives_sops_exit_codes_and_no_plaintext_in_messages() {
    let sb = Sandbox::new();
    let enc = encrypt(&sb, "a.json", PLAIN);
    let key = sb.age_key_file(TestKey::Age1);
    let good = String::from_utf8(std::fs::read(&enc).unwrap()).unwrap();
    let decrypt = |content: String| {
        let p = sb.write("t.json", content);
        run(sb
            .veil()
            .env("SOPS_AGE_KEY_FILE", &key)
            .arg("decrypt")
            .arg(&p))
    };
    // A changed byte inside a value's ciphertext: the GCM tag fails (25).
    let at = good.find(r#""password": "ENC[AES256_GCM,data:"#).unwrap()
        + r#""password": "ENC[AES256_GCM,data:"#.len();
    let mut bad = good.clone().into_bytes();
    bad[at] = if bad[at] == b'A' { b'B' } else { b'A' };
    let (code, _, err) = decrypt(String::from_utf8(bad).unwrap());
    assert_eq!(code, Some(25), "{err}");
    // Two values swapped: each is bound to its key path (25).
    let v = |k: &str| {
        let s = good.find(&format!("\"{k}\": \"ENC[")).unwrap() + k.len() + 5;
        let e = s + good[s..].find('"').unwrap();
        good[s..e].to_string()
    };
    let (user, pass) = (v("user"), v("password"));
    let swapped = good
        .replace(&user, "@@U")
        .replace(&pass, &user)
        .replace("@@U", &pass);
    let (code, _, err) = decrypt(swapped);
    assert_eq!(code, Some(25), "{err}");
    // A plaintext (unencrypted) value changed, a key added, a key removed: MAC mismatch (51).
    for changed in [
        good.replace(r#""visible""#, r#""changed""#),
        good.replace(r#""port":"#, r#""extra_unencrypted": 1, "port":"#),
        good.replace(&format!(r#""user": "{user}", "#), ""),
    ] {
        assert_ne!(changed, good);
        let (code, _, err) = decrypt(changed);
        assert_eq!(code, Some(51), "{err}");
        assert!(err.starts_with("MAC mismatch. "), "{err}");
        // sops prints the SHA-512 of the plaintext values here; veil never does.
        assert!(!err.contains("File has"), "digests in the MAC error: {err}");
        assert!(
            !err.contains("hunter2") && !err.contains("admin"),
            "plaintext in an error: {err}"
        );
    }
    // A plaintext value where the rule says encrypted: refused as sops 3.13 refuses it (25;
    // sops 3.11 crashes on a plaintext number there).
    let added = good.replace(r#""port":"#, r#""extra": 1, "port":"#);
    let (code, _, err) = decrypt(added);
    assert_eq!(code, Some(25), "{err}");
    // A changed byte in the MAC itself (51).
    let mac_at = good.find(r#""mac": "ENC[AES256_GCM,data:"#).unwrap()
        + r#""mac": "ENC[AES256_GCM,data:"#.len();
    let mut bad = good.clone().into_bytes();
    bad[mac_at] = if bad[mac_at] == b'A' { b'B' } else { b'A' };
    let (code, _, err) = decrypt(String::from_utf8(bad).unwrap());
    assert_eq!(code, Some(51), "{err}");
}

#[test]
fn wrong_or_missing_key_is_128_with_a_report() {
    let sb = Sandbox::new();
    let enc = encrypt(&sb, "a.json", PLAIN);
    let (code, _, err) = run(sb.veil().arg("decrypt").arg(&enc));
    assert_eq!(code, Some(128), "{err}");
    assert!(
        err.contains("Group 0: FAILED") && err.contains(&TestKey::Age1.recipient()),
        "{err}"
    );
    assert!(
        err.contains("SOPS_AGE_KEY_FILE: not set"),
        "the report says where it looked: {err}"
    );
    let other = sb.age_key_file(TestKey::AgeUnrelated);
    let (code, _, err) = run(sb
        .veil()
        .env("SOPS_AGE_KEY_FILE", &other)
        .arg("decrypt")
        .arg(&enc));
    assert_eq!(code, Some(128), "{err}");
    assert!(
        err.contains("none of the 1 age identities matches"),
        "{err}"
    );
    assert!(
        !err.contains("AGE-SECRET-KEY-1"),
        "a key in an error: {err}"
    );
    // The key is the first failure reported, before any trouble with where the output goes
    // (sops decrypts before it opens the output).
    let nowhere = sb.path().join("missing-dir").join("out.json");
    let (code, _, err) = run(sb
        .veil()
        .env("SOPS_AGE_KEY_FILE", &other)
        .arg("decrypt")
        .arg("--output")
        .arg(&nowhere)
        .arg(&enc));
    assert_eq!(code, Some(128), "{err}");
}

#[test]
fn xchacha_round_trip_and_sops_cannot_read_it() {
    let sb = Sandbox::new();
    let p = sb.write("a.json", PLAIN);
    let out = run_ok(
        sb.veil()
            .args([
                "encrypt",
                "--cipher",
                "xchacha20-poly1305",
                "--age",
                &TestKey::Age1.recipient(),
            ])
            .arg(&p),
        "encrypt",
    );
    assert!(text(&out).contains("ENC[XCHACHA20_POLY1305,data:"));
    let enc = sb.write("x.enc.json", out);
    let key = sb.age_key_file(TestKey::Age1);
    let dec = run_ok(
        sb.veil()
            .env("SOPS_AGE_KEY_FILE", &key)
            .arg("decrypt")
            .arg(&enc),
        "decrypt",
    );
    assert_eq!(text(&dec), PLAIN);
    if support::require_peer("sops") {
        let (code, _, _) = run(sb
            .sops()
            .env("SOPS_AGE_KEY_FILE", &key)
            .arg("decrypt")
            .arg(&enc));
        assert_ne!(code, Some(0), "sops unexpectedly read an XChaCha20 file");
    }
}

#[test]
fn stdin_needs_a_type_and_then_works() {
    let sb = Sandbox::new();
    let (code, _, err) = run(sb
        .veil()
        .args(["encrypt", "--age", &TestKey::Age1.recipient()]));
    assert_eq!(code, Some(8), "{err}");
    let mut cmd = sb.veil();
    cmd.args([
        "encrypt",
        "--filename-override",
        "x.json",
        "--age",
        &TestKey::Age1.recipient(),
    ]);
    let out = cmd.write_stdin(PLAIN).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text(&out.stdout).contains("\"sops\""));
}

#[test]
fn filestatus_and_legacy_decrypt_form() {
    let sb = Sandbox::new();
    let enc = encrypt(&sb, "a.json", PLAIN);
    let plain = sb.write("p.json", PLAIN);
    assert_eq!(
        text(&run_ok(sb.veil().arg("filestatus").arg(&enc), "fs")),
        "{\"encrypted\":true}\n"
    );
    assert_eq!(
        text(&run_ok(sb.veil().arg("filestatus").arg(&plain), "fs")),
        "{\"encrypted\":false}\n"
    );
    let key = sb.age_key_file(TestKey::Age1);
    let out = run_ok(
        sb.veil().env("SOPS_AGE_KEY_FILE", &key).arg("-d").arg(&enc),
        "veil -d",
    );
    assert_eq!(text(&out), PLAIN);
}

#[test]
fn keygen_writes_0600_and_never_overwrites() {
    let sb = Sandbox::new();
    let out = run_ok(sb.veil().arg("keygen"), "keygen");
    let public = text(&out).trim().to_string();
    assert!(public.starts_with("age1"), "{public}");
    let path = sb.config_home().join("sops/age/keys.txt");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let first = std::fs::read(&path).unwrap();
    let (code, _, err) = run(sb.veil().arg("keygen"));
    assert_ne!(code, Some(0), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), first);
    run_ok(sb.veil().args(["keygen", "--append"]), "keygen --append");
    let both = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(both.matches("AGE-SECRET-KEY-1").count(), 2);
    // The new default key decrypts what was encrypted for its public key.
    let p = sb.write("a.json", PLAIN);
    let enc = run_ok(
        sb.veil().args(["encrypt", "--age", &public]).arg(&p),
        "encrypt",
    );
    let enc = sb.write("a.enc.json", enc);
    assert_eq!(
        text(&run_ok(sb.veil().arg("decrypt").arg(&enc), "decrypt")),
        PLAIN
    );
}

#[test]
fn keygen_then_init_then_encrypt_with_the_config() {
    let sb = Sandbox::new();
    let public = text(&run_ok(sb.veil().arg("keygen"), "keygen"))
        .trim()
        .to_string();
    let out = run_ok(sb.veil().arg("init"), "init");
    assert!(text(&out).contains(&public), "{}", text(&out));
    let conf = String::from_utf8(sb.read(".sops.yaml")).unwrap();
    assert!(conf.contains(&public));
    let (code, _, err) = run(sb.veil().arg("init"));
    assert_ne!(code, Some(0), "init must not overwrite: {err}");
    sb.write("secrets.json", PLAIN);
    run_ok(
        sb.veil().args(["encrypt", "-i", "secrets.json"]),
        "encrypt with .sops.yaml",
    );
    let enc = String::from_utf8(sb.read("secrets.json")).unwrap();
    assert!(enc.contains(&public) && !enc.contains("hunter2"));
    assert_eq!(
        text(&run_ok(
            sb.veil().args(["decrypt", "secrets.json"]),
            "decrypt"
        )),
        PLAIN
    );
    // A file no rule matches is refused with sops's message.
    sb.write("other.json", PLAIN);
    let (code, _, err) = run(sb.veil().args(["encrypt", "other.json"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.starts_with("error loading config: no matching creation rules found"),
        "{err}"
    );
}
