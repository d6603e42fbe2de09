//! The key backends through the `veil` binary, as users call it with sops's flags and variables:
//! `veil encrypt --pgp/--kms/--hc-vault-transit FILE`, `veil decrypt FILE`, against real gpg,
//! moto and OpenBao, with the real sops reading what veil wrote and the other way round. Uses
//! JSON files, plus one YAML case for PGP (the stores are covered under `formats`).
#![cfg(all(feature = "pgp", feature = "aws-kms", feature = "vault"))]

use crate::support::require_peer_path;
use crate::support::servers::{Bao, GpgHome, Moto, Recorder, ROOT_TOKEN};
use crate::support::{run, run_ok, text, Sandbox, TestKey};

const PLAIN: &str = r#"{
    "db": {"user": "admin", "password": "hunter2-very-secret"},
    "token": "t-0123456789",
    "note_unencrypted": "visible"
}
"#;

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(bytes)))
}

#[test]
fn cli_pgp_flag_env_and_sops_interop() {
    let (Some(gpg), Some(_)) = (require_peer_path("gpg"), require_peer_path("sops")) else {
        return;
    };
    let home = GpgHome::new(&gpg, "veil cli <pgp-cli@example.invalid>");
    let mut sb = Sandbox::new();
    sb.set_env("GNUPGHOME", home.path());
    let p = sb.write("secrets.json", PLAIN);

    // --pgp with a spaced fingerprint, as gpg prints it.
    let spaced = format!("{} {}", &home.fpr[..20], &home.fpr[20..]);
    let enc = run_ok(
        sb.veil().args(["encrypt", "--pgp", &spaced]).arg(&p),
        "veil encrypt --pgp",
    );
    let v = json(&enc);
    assert_eq!(v["sops"]["pgp"][0]["fp"], home.fpr.as_str());
    assert!(!text(&enc).contains("hunter2"));
    let e = sb.write("a.enc.json", &enc);
    assert_eq!(
        text(&run_ok(sb.veil().arg("decrypt").arg(&e), "veil decrypt")),
        PLAIN
    );
    assert_eq!(
        json(&run_ok(sb.sops().arg("decrypt").arg(&e), "sops decrypt")),
        json(PLAIN.as_bytes())
    );

    // SOPS_PGP_FP and the legacy `-e`/`-d` forms.
    let enc = run_ok(
        sb.veil().env("SOPS_PGP_FP", &home.fpr).arg("-e").arg(&p),
        "veil -e (SOPS_PGP_FP)",
    );
    let e = sb.write("b.enc.json", &enc);
    assert_eq!(text(&run_ok(sb.veil().arg("-d").arg(&e), "veil -d")), PLAIN);

    // sops → veil.
    let enc = run_ok(
        sb.sops().args(["encrypt", "--pgp", &home.fpr]).arg(&p),
        "sops encrypt --pgp",
    );
    let e = sb.write("c.enc.json", &enc);
    assert_eq!(
        json(&run_ok(
            sb.veil().arg("decrypt").arg(&e),
            "veil decrypt (sops file)"
        )),
        json(PLAIN.as_bytes())
    );

    // Another keyring: exit 128, the report names the key and gpg's reason.
    let other = GpgHome::new(&gpg, "other <other@example.invalid>");
    let (code, out, err) = run(sb
        .veil()
        .env("GNUPGHOME", other.path())
        .arg("decrypt")
        .arg(&e));
    assert_eq!(code, Some(128), "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains(&format!("  {}: FAILED", home.fpr)) && err.contains("No secret key"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn cli_kms_role_context_profile_and_sops_interop() {
    let (Some(moto), Some(_)) = (require_peer_path("moto_server"), require_peer_path("sops"))
    else {
        return;
    };
    let mut m = Moto::start(&moto);
    let mut sb = Sandbox::new();
    sb.set_env("AWS_ENDPOINT_URL", &m.server.addr);
    let p = sb.write("secrets.json", PLAIN);
    let spec = format!("{}+arn:aws:iam::123456789012:role/veil-cli", m.arn);

    let enc = run_ok(
        sb.veil()
            .args([
                "encrypt",
                "--kms",
                &spec,
                "--encryption-context",
                "team:veil,app:cli",
            ])
            .arg(&p),
        "veil encrypt --kms",
    );
    let v = json(&enc);
    let k = &v["sops"]["kms"][0];
    assert_eq!(k["arn"], m.arn.as_str());
    assert_eq!(k["role"], "arn:aws:iam::123456789012:role/veil-cli");
    assert_eq!(
        k["context"],
        serde_json::json!({"app": "cli", "team": "veil"})
    );
    assert_eq!(k["aws_profile"], "");
    let e = sb.write("a.enc.json", &enc);
    assert_eq!(
        text(&run_ok(sb.veil().arg("decrypt").arg(&e), "veil decrypt")),
        PLAIN
    );
    assert_eq!(
        json(&run_ok(sb.sops().arg("decrypt").arg(&e), "sops decrypt")),
        json(PLAIN.as_bytes())
    );

    // SOPS_KMS_ARN, and a profile from the shared config files.
    let conf = sb.write("aws-config", "[profile veil-cli]\nregion = us-east-1\n");
    let creds = sb.write(
        "aws-credentials",
        "[veil-cli]\naws_access_key_id = profile-key\naws_secret_access_key = profile-secret\n",
    );
    let enc = run_ok(
        sb.veil()
            .env("SOPS_KMS_ARN", &m.arn)
            .env("AWS_CONFIG_FILE", &conf)
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
            .args(["encrypt", "--aws-profile", "veil-cli"])
            .arg(&p),
        "veil encrypt (SOPS_KMS_ARN, --aws-profile)",
    );
    assert_eq!(json(&enc)["sops"]["kms"][0]["aws_profile"], "veil-cli");
    let e2 = sb.write("b.enc.json", &enc);
    let (code, _, err) = run(sb.veil().arg("decrypt").arg(&e2));
    assert_eq!(
        code,
        Some(128),
        "the profile is not in the default (empty) config: {err}"
    );
    assert!(err.contains("veil-cli"), "{err}");
    run_ok(
        sb.veil()
            .env("AWS_CONFIG_FILE", &conf)
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
            .arg("decrypt")
            .arg(&e2),
        "veil decrypt with the profile",
    );

    // rotate --add-kms takes --encryption-context too, in both the subcommand and legacy form.
    let other = crate::support::servers::moto_create_key(&m.server.addr, "us-east-1");
    for args in [
        vec![
            "rotate",
            "--add-kms",
            other.as_str(),
            "--encryption-context",
            "via:rotate",
        ],
        vec![
            "-r",
            "--add-kms",
            other.as_str(),
            "--encryption-context",
            "via:legacy",
        ],
    ] {
        let out = run_ok(sb.veil().args(&args).arg(&e), "veil rotate --add-kms");
        let v = json(&out);
        let added = v["sops"]["kms"]
            .as_array()
            .and_then(|a| a.iter().find(|k| k["arn"] == other.as_str()))
            .cloned()
            .unwrap_or_else(|| panic!("no added key: {v}"));
        let via = args[4].trim_start_matches("via:");
        assert_eq!(added["context"], serde_json::json!({ "via": via }), "{v}");
        let r = sb.write("rotated.enc.json", &out);
        assert_eq!(
            text(&run_ok(sb.veil().arg("decrypt").arg(&r), "decrypt rotated")),
            PLAIN
        );
    }

    // A malformed context is exit 6, before anything is encrypted.
    let (code, out, err) = run(sb
        .veil()
        .args(["encrypt", "--kms", &m.arn, "--encryption-context", "a:b:c"])
        .arg(&p));
    assert_eq!(code, Some(6), "{err}");
    assert!(out.is_empty());

    // sops → veil.
    let enc = run_ok(
        sb.sops()
            .args([
                "encrypt",
                "--kms",
                &spec,
                "--encryption-context",
                "team:veil",
            ])
            .arg(&p),
        "sops encrypt --kms",
    );
    let e3 = sb.write("c.enc.json", &enc);
    assert_eq!(
        json(&run_ok(
            sb.veil().arg("decrypt").arg(&e3),
            "veil decrypt (sops file)"
        )),
        json(PLAIN.as_bytes())
    );

    // The server stops: exit 128, the report names the key and the cause, not the credentials.
    m.server.stop();
    let (code, _, err) = run(sb
        .veil()
        .env("AWS_MAX_ATTEMPTS", "1")
        .arg("decrypt")
        .arg(&e));
    assert_eq!(code, Some(128), "{err}");
    assert!(
        // sops's name for the key: ARN+ROLE, then the context and profile after `|`; the
        // reason is wrapped at 60 columns behind `| `, as sops wraps it.
        err.contains(&format!(
            "{}+arn:aws:iam::123456789012:role/veil-cli|",
            m.arn
        )) && err
            .replace("\n      | ", " ")
            .contains("Connection refused"),
        "{err}"
    );
    assert!(!err.contains("veil-test-fake"), "{err}");
}

#[test]
fn cli_vault_allowlist_and_sops_interop() {
    let (Some(bao), Some(_)) = (require_peer_path("bao"), require_peer_path("sops")) else {
        return;
    };
    let srv = Bao::start(&bao, false);
    let rec = Recorder::start();
    let uri = srv.uri("transit");
    let mut sb = Sandbox::new();
    sb.set_env("VAULT_TOKEN", ROOT_TOKEN);
    let p = sb.write("secrets.json", PLAIN);

    // The address named with --hc-vault-transit may receive the token (no VAULT_ADDR needed).
    let enc = run_ok(
        sb.veil()
            .args(["encrypt", "--hc-vault-transit", &uri])
            .arg(&p),
        "veil encrypt --hc-vault-transit",
    );
    let v = json(&enc);
    assert_eq!(
        v["sops"]["hc_vault"][0]["vault_address"],
        srv.server.addr.as_str()
    );
    assert!(v["sops"]["hc_vault"][0]["enc"]
        .as_str()
        .unwrap_or("")
        .starts_with("vault:v1:"));
    let e = sb.write("a.enc.json", &enc);

    // Decrypting trusts only VAULT_ADDR and SOPS_HC_VAULT_ALLOWLIST, never the file.
    let (code, _, err) = run(sb.veil().arg("decrypt").arg(&e));
    assert_eq!(code, Some(128), "{err}");
    assert!(
        err.contains("SOPS_HC_VAULT_ALLOWLIST") && err.contains("127.0.0.1"),
        "{err}"
    );
    assert!(!err.contains(ROOT_TOKEN), "{err}");
    assert_eq!(
        text(&run_ok(
            sb.veil()
                .env("VAULT_ADDR", &srv.server.addr)
                .arg("decrypt")
                .arg(&e),
            "decrypt (VAULT_ADDR)"
        )),
        PLAIN
    );
    assert_eq!(
        text(&run_ok(
            sb.veil()
                .env("SOPS_HC_VAULT_ALLOWLIST", &srv.server.addr)
                .arg("decrypt")
                .arg(&e),
            "decrypt (allowlist)"
        )),
        PLAIN
    );

    // A file pointing at another loopback port gets no token there.
    let evil = String::from_utf8(enc.clone())
        .unwrap()
        .replace(&srv.server.addr, &rec.addr);
    let e_evil = sb.write("evil.enc.json", evil);
    let (code, out, err) = run(sb
        .veil()
        .env("VAULT_ADDR", &srv.server.addr)
        .arg("decrypt")
        .arg(&e_evil));
    assert_eq!(code, Some(128), "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains(&rec.addr) && err.contains("refusing to send the vault token"),
        "{err}"
    );
    assert!(!err.contains(ROOT_TOKEN), "{err}");
    assert_eq!(
        *rec.connections.lock().unwrap(),
        0,
        "the recorder was contacted"
    );

    // sops reads veil's file and veil reads sops's.
    assert_eq!(
        json(&run_ok(sb.sops().arg("decrypt").arg(&e), "sops decrypt")),
        json(PLAIN.as_bytes())
    );
    let enc = run_ok(
        sb.sops()
            .args(["encrypt", "--hc-vault-transit", &uri])
            .arg(&p),
        "sops encrypt",
    );
    let e2 = sb.write("b.enc.json", &enc);
    assert_eq!(
        json(&run_ok(
            sb.veil()
                .env("VAULT_ADDR", &srv.server.addr)
                .arg("decrypt")
                .arg(&e2),
            "veil decrypt (sops file)"
        )),
        json(PLAIN.as_bytes())
    );

    // rotate --add-hc-vault-transit names the server too: no VAULT_ADDR needed to add it.
    let age_enc = run_ok(
        sb.veil()
            .args(["encrypt", "--age", &TestKey::Age1.recipient()])
            .arg(&p),
        "veil encrypt --age",
    );
    let a = sb.write("age.enc.json", &age_enc);
    let key = sb.age_key_file(TestKey::Age1);
    let rotated = run_ok(
        sb.veil()
            .env("SOPS_AGE_KEY_FILE", &key)
            .args(["rotate", "--add-hc-vault-transit", &uri])
            .arg(&a),
        "veil rotate --add-hc-vault-transit",
    );
    let r = sb.write("rotated.enc.json", &rotated);
    assert_eq!(
        json(&rotated)["sops"]["hc_vault"][0]["vault_address"],
        srv.server.addr.as_str()
    );
    assert_eq!(
        text(&run_ok(
            sb.veil()
                .env("VAULT_ADDR", &srv.server.addr)
                .arg("decrypt")
                .arg(&r),
            "decrypt rotated"
        )),
        PLAIN
    );

    // groups add --hc-vault-transit names the server too, like encrypt and rotate do: the
    // same path, no VAULT_ADDR or allowlist needed.
    let grouped = run_ok(
        sb.veil()
            .env("SOPS_AGE_KEY_FILE", &key)
            .args(["groups", "add", "--hc-vault-transit", &uri, "-f"])
            .arg(&a),
        "veil groups add --hc-vault-transit",
    );
    let g = json(&grouped);
    assert_eq!(
        g["sops"]["key_groups"][1]["hc_vault"][0]["vault_address"],
        srv.server.addr.as_str(),
        "{g}"
    );
    // An explicit SOPS_HC_VAULT_ALLOWLIST decides alone, as in sops: a named URL it does not
    // list is refused before any connection.
    let (code, _, err) = run(sb
        .veil()
        .env("SOPS_AGE_KEY_FILE", &key)
        .env("SOPS_HC_VAULT_ALLOWLIST", "http://10.255.255.1:8200")
        .args(["groups", "add", "--hc-vault-transit", &uri, "-f"])
        .arg(&a));
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("does not list it"), "{err}");

    // A wrong token: 128, and the token is not in the report.
    let (code, _, err) = run(sb
        .veil()
        .env("VAULT_ADDR", &srv.server.addr)
        .env("VAULT_TOKEN", "s.not-the-token-5e6f")
        .arg("decrypt")
        .arg(&e));
    assert_eq!(code, Some(128), "{err}");
    assert!(
        err.contains("403") && !err.contains("s.not-the-token-5e6f"),
        "{err}"
    );
}

/// The same contract on YAML.
#[test]
fn cli_pgp_yaml() {
    let Some(gpg) = require_peer_path("gpg") else {
        return;
    };
    let home = GpgHome::new(&gpg, "veil yaml <pgp-yaml@example.invalid>");
    let mut sb = Sandbox::new();
    sb.set_env("GNUPGHOME", home.path());
    let p = sb.write("secrets.yaml", "db:\n  password: hunter2-very-secret\n");
    let (code, enc, err) = run(sb.veil().args(["encrypt", "--pgp", &home.fpr]).arg(&p));
    assert_eq!(code, Some(0), "{err}");
    let e = sb.write("secrets.enc.yaml", &enc);
    assert_eq!(
        text(&run_ok(
            sb.veil().arg("decrypt").arg(&e),
            "veil decrypt yaml"
        )),
        "db:\n  password: hunter2-very-secret\n"
    );
}
