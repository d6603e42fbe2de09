//! age interop with the Go `age` CLI (Debian package `age`, 1.1.1): the data-key stanzas veil
//! writes open with `age -d`, stanzas written by `age -e` open in veil, and identity files made
//! by `age-keygen` work with veil.
//!
//! Needs `age` and `age-keygen` (`scripts/peers.sh install` installs them) and, for some
//! checks, the real sops. Without them the tests SKIP loudly; with `CI=true` they fail.

use crate::support::*;
use std::path::Path;

/// The `sops.age` entries of a YAML document: (recipient, enc armor).
fn age_entries(yaml: &[u8]) -> Vec<(String, String)> {
    let docs = yaml_docs(text(yaml)).expect("encrypted file parses as YAML");
    let doc = docs.first().expect("at least one document");
    let age = doc
        .get("sops")
        .and_then(|s| s.get("age"))
        .and_then(Data::as_seq)
        .expect("sops.age list");
    age.iter()
        .map(|e| {
            let r = e
                .get("recipient")
                .and_then(Data::as_str)
                .expect("recipient");
            let enc = e.get("enc").and_then(Data::as_str).expect("enc");
            (r.to_string(), enc.to_string())
        })
        .collect()
}

/// `age -d -i IDENTITY` of an armored stanza → the unwrapped data key.
fn go_age_decrypt(sb: &Sandbox, armor: &str, identity: &Path, name: &str) -> Vec<u8> {
    let f = sb.write(name, armor);
    run_ok(
        sb.peer("age").arg("-d").arg("-i").arg(identity).arg(&f),
        "age -d",
    )
}

#[test]
fn sops_fixture_stanza_opens_with_go_age() {
    // Checks the fixture and the harness: what sops wrote, the Go age CLI opens.
    if !require_peer("age") {
        return;
    }
    let sb = Sandbox::new();
    let entries = age_entries(&read_testdata("sops/scalars.enc.yaml"));
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, TestKey::Age1.recipient());
    let key = go_age_decrypt(&sb, &entries[0].1, &sb.age_key_file(TestKey::Age1), "f.age");
    assert_eq!(key.len(), 32, "sops wraps the raw 32-byte data key");
}

#[test]
fn veil_stanzas_open_with_go_age() {
    if !require_peer("age") {
        return;
    }
    let sb = Sandbox::new();
    let src = sb.copy_testdata("plain/structure.yaml", "structure.yaml");
    let (r1, r2) = (TestKey::Age1.recipient(), TestKey::Age2.recipient());
    let enc = run_ok(
        sb.veil()
            .args(["encrypt", "--age", &r1, "--age", &r2])
            .arg(&src),
        "veil encrypt",
    );
    let entries = age_entries(&enc);
    let recipients: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(recipients, vec![r1.as_str(), r2.as_str()]);
    let k1 = go_age_decrypt(&sb, &entries[0].1, &sb.age_key_file(TestKey::Age1), "1.age");
    let k2 = go_age_decrypt(&sb, &entries[1].1, &sb.age_key_file(TestKey::Age2), "2.age");
    assert_eq!(
        k1.len(),
        32,
        "one key group: the stanza holds the raw 32-byte data key"
    );
    assert_eq!(k1, k2, "every recipient wraps the same data key");
    // And each stanza is really bound to its own recipient.
    let wrong = sb.age_key_file(TestKey::Age2);
    let f = sb.write("cross.age", &entries[0].1);
    let (code, out, _) = run(sb.peer("age").arg("-d").arg("-i").arg(&wrong).arg(&f));
    assert_ne!(
        code,
        Some(0),
        "age must refuse a stanza for another recipient"
    );
    assert!(out.is_empty());
}

/// Replaces the single age stanza of a sops YAML file with one the Go age CLI made for
/// `new_recipient` around the same data key.
fn rewrap_with_go_age(sb: &Sandbox, file_text: &str, new_recipient: &str) -> String {
    let entries = age_entries(file_text.as_bytes());
    assert_eq!(entries.len(), 1, "fixture has one stanza");
    let (old_recipient, old_armor) = &entries[0];
    let data_key = go_age_decrypt(sb, old_armor, &sb.age_key_file(TestKey::Age1), "old.age");
    assert_eq!(data_key.len(), 32);
    let key_file = sb.write_secret("data-key.bin", &data_key);
    let new_armor = run_ok(
        sb.peer("age")
            .args(["-e", "-a", "-r", new_recipient])
            .arg(&key_file),
        "age -e -a",
    );
    let new_armor = String::from_utf8(new_armor).expect("armor is ASCII");
    // sops writes the armor as a literal block indented 12 spaces.
    let indent = |armor: &str| -> String {
        armor
            .lines()
            .map(|l| format!("            {l}\n"))
            .collect()
    };
    let old_block = indent(old_armor);
    assert!(
        file_text.contains(&old_block),
        "armor block not found verbatim in the fixture"
    );
    let out = file_text.replace(&old_block, &indent(&new_armor)).replace(
        &format!("recipient: {old_recipient}\n"),
        &format!("recipient: {new_recipient}\n"),
    );
    assert_ne!(out, file_text);
    out
}

#[test]
fn veil_opens_a_stanza_made_by_go_age() {
    if !require_peer("age") {
        return;
    }
    let sb = Sandbox::new();
    let fixture = String::from_utf8(read_testdata("sops/scalars.enc.yaml")).expect("utf-8");
    let r2 = TestKey::Age2.recipient();
    let rewrapped = rewrap_with_go_age(&sb, &fixture, &r2);
    let file = sb.write("go-age.enc.yaml", &rewrapped);
    let key2 = sb.age_key_file(TestKey::Age2);
    if require_peer("sops") {
        // The construction is a valid sops file: sops itself opens it with key 2.
        run_ok(
            sb.sops()
                .arg("decrypt")
                .arg(&file)
                .env("SOPS_AGE_KEY_FILE", &key2),
            "sops",
        );
    }
    let out = run_ok(
        sb.veil()
            .arg("decrypt")
            .arg(&file)
            .env("SOPS_AGE_KEY_FILE", &key2),
        "veil decrypt of a Go-age stanza",
    );
    let got = yaml_docs(text(&out)).expect("yaml");
    let want = yaml_docs(text(&read_testdata("plain/scalars.yaml"))).expect("yaml");
    assert_data_eq(&got, &want, "veil decrypt of a Go-age stanza");
}

#[test]
fn age_keygen_identity_works_with_veil() {
    if !require_peer("age-keygen") {
        return;
    }
    let sb = Sandbox::new();
    let id = sb.path().join("fresh-keys.txt");
    run_ok(sb.peer("age-keygen").arg("-o").arg(&id), "age-keygen");
    let recipient = run_ok(sb.peer("age-keygen").arg("-y").arg(&id), "age-keygen -y");
    let recipient = text(&recipient).trim().to_string();
    assert!(recipient.starts_with("age1"));

    let plain = read_testdata("plain/nested.json");
    let src = sb.write("fresh.json", &plain);
    let enc = run_ok(
        sb.veil().args(["encrypt", "--age", &recipient]).arg(&src),
        "veil encrypt",
    );
    let file = sb.write("fresh.enc.json", &enc);
    let by_veil = run_ok(
        sb.veil()
            .arg("decrypt")
            .arg(&file)
            .env("SOPS_AGE_KEY_FILE", &id),
        "veil decrypt with an age-keygen identity",
    );
    assert_data_eq(
        &[json_doc(text(&by_veil)).expect("json")],
        &[json_doc(text(&plain)).expect("json")],
        "veil round trip with an age-keygen identity",
    );
    if !require_peer("sops") {
        return;
    }
    // And the other way: sops encrypts to the fresh key, veil decrypts with the same file.
    let by_sops_enc = run_ok(
        sb.sops().args(["encrypt", "--age", &recipient]).arg(&src),
        "sops encrypt to a fresh key",
    );
    let file2 = sb.write("fresh-sops.enc.json", &by_sops_enc);
    let by_veil = run_ok(
        sb.veil()
            .arg("decrypt")
            .arg(&file2)
            .env("SOPS_AGE_KEY_FILE", &id),
        "veil decrypt of sops output with an age-keygen identity",
    );
    assert_data_eq(
        &[json_doc(text(&by_veil)).expect("json")],
        &[json_doc(text(&plain)).expect("json")],
        "sops -> veil with an age-keygen identity",
    );
}

/// Hybrid post-quantum age keys (sops 3.12): veil encrypts for an `age1pq1…` recipient and
/// decrypts with an `AGE-SECRET-KEY-PQ-1…` identity, and the real sops reads veil's file and
/// writes one veil reads.
#[test]
fn post_quantum_keys_interoperate_with_sops_both_ways() {
    if !require_peer("sops") {
        return;
    }
    let mut sb = Sandbox::new();
    let key = testdata("keys/test-age-pq.txt");
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    let recipient = std::fs::read_to_string(testdata("keys/test-age-pq.pub")).expect("pq pub");
    let recipient = recipient.trim();
    assert!(recipient.starts_with("age1pq1"), "{recipient}");
    let plain = "db:\n    password: pq-secret-4f1\n";
    let p = sb.write("p.yaml", plain);
    let by_veil = run_ok(
        sb.veil().args(["encrypt", "--age", recipient]).arg(&p),
        "veil encrypt",
    );
    assert_eq!(age_entries(&by_veil)[0].0, recipient);
    let v = sb.write("v.yaml", &by_veil);
    assert_eq!(
        text(&run_ok(sb.sops().arg("decrypt").arg(&v), "sops decrypt")),
        plain
    );
    let by_sops = run_ok(
        sb.sops().args(["encrypt", "--age", recipient]).arg(&p),
        "sops encrypt",
    );
    let s = sb.write("s.yaml", &by_sops);
    assert_eq!(
        text(&run_ok(sb.veil().arg("decrypt").arg(&s), "veil decrypt")),
        plain
    );
    // The identity can also come as one of several space-separated keys in SOPS_AGE_KEY.
    let id = std::fs::read_to_string(&key).expect("pq key");
    let id = id
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-PQ-1"))
        .expect("pq line");
    let both = format!(
        "{} {id}",
        std::fs::read_to_string(testdata("keys/test-age-2.txt"))
            .unwrap()
            .lines()
            .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
            .unwrap()
    );
    let out = run_ok(
        sb.veil()
            .env_remove("SOPS_AGE_KEY_FILE")
            .env("SOPS_AGE_KEY", both)
            .arg("decrypt")
            .arg(&s),
        "veil decrypt (SOPS_AGE_KEY)",
    );
    assert_eq!(text(&out), plain);
}

/// `SOPS_AGE_SSH_PRIVATE_KEY_CMD` (sops 3.12): the command prints an SSH private key, which
/// decrypts a file encrypted for its public key; the command sees `SOPS_AGE_RECIPIENT`.
#[test]
fn ssh_private_key_command_supplies_the_identity() {
    let mut sb = Sandbox::new();
    let recipient = ssh_recipient();
    let p = sb.write("p.yaml", "a: ssh-cmd-secret\n");
    let enc = run_ok(
        sb.veil().args(["encrypt", "--age", &recipient]).arg(&p),
        "encrypt",
    );
    let e = sb.write("e.yaml", &enc);
    // Without the command (and no default SSH key in the sandbox's HOME): exit 128.
    let (code, _, err) = run(sb.veil().arg("decrypt").arg(&e));
    assert_eq!(code, Some(128), "{err}");
    let seen = sb.path().join("recipient-seen");
    let script = sb.write(
        "print-key.sh",
        format!(
            "#!/bin/sh\nprintf '%s' \"$SOPS_AGE_RECIPIENT\" > '{}'\ncat '{}'\n",
            seen.display(),
            testdata("keys/test-ssh-ed25519").display()
        ),
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    sb.set_env("SOPS_AGE_SSH_PRIVATE_KEY_CMD", &script);
    let out = run_ok(
        sb.veil().arg("decrypt").arg(&e),
        "decrypt with the SSH key command",
    );
    assert_eq!(text(&out), "a: ssh-cmd-secret\n");
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), recipient);
    // A command that fails is reported by name, and nothing is decrypted.
    sb.set_env("SOPS_AGE_SSH_PRIVATE_KEY_CMD", "false");
    let (code, out, err) = run(sb.veil().arg("decrypt").arg(&e));
    assert_eq!(code, Some(128), "{err}");
    assert!(out.is_empty());
    assert!(err.contains("SOPS_AGE_SSH_PRIVATE_KEY_CMD"), "{err}");
}
