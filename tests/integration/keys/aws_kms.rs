//! The AWS KMS backend against a real moto_server (fake credentials, metadata service off, no
//! test ever reaches AWS), and interop with the real sops in both directions, roles and
//! encryption contexts included.
#![cfg(feature = "aws-kms")]

use crate::support::require_peer_path;
use crate::support::servers::*;
use crate::support::sops_json::*;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use veil::error::{Code, Outcome};
use veil::keys::aws_kms::{keys_from_arns, parse_encryption_context, KmsBackend};
use veil::keys::{Backend, KeyRef, KeyService};

const ROLE: &str = "arn:aws:iam::123456789012:role/veil-test-role";

/// One moto_server for the whole test binary (its watchdog kills it when the process exits).
fn moto() -> Option<&'static Moto> {
    static MOTO: OnceLock<Option<Moto>> = OnceLock::new();
    crate::support::process_env();
    let bin = require_peer_path("moto_server")?;
    MOTO.get_or_init(|| Some(Moto::start(&bin))).as_ref()
}

fn kms_key(arn: &str, role: &str, ctx: &[(&str, &str)], profile: &str) -> KeyRef {
    KeyRef::Kms {
        arn: arn.to_string(),
        role: role.to_string(),
        context: ctx
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<BTreeMap<_, _>>(),
        aws_profile: profile.to_string(),
    }
}

fn service(b: KmsBackend) -> KeyService {
    let mut ks = KeyService::new();
    ks.add(Box::new(b));
    ks
}

fn sops_env(m: &Moto) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ENDPOINT_URL", m.server.addr.clone()),
    ]
}

#[test]
fn kms_round_trip_roles_and_profiles() {
    let Some(m) = moto() else {
        return;
    };
    let b = KmsBackend::new().with_endpoint_url(&m.server.addr);
    let secret: Vec<u8> = (0u8..32).collect();
    for key in [
        kms_key(&m.arn, "", &[], ""),
        kms_key(&m.arn, ROLE, &[], ""),
        kms_key(&m.arn, "", &[], "veil-test"),
        kms_key(&m.arn, ROLE, &[("app", "veil")], "veil-test"),
    ] {
        let enc = b.wrap(&key, &secret).unwrap();
        use base64::Engine as _;
        assert!(
            base64::engine::general_purpose::STANDARD
                .decode(&enc)
                .is_ok(),
            "{enc}"
        );
        assert_eq!(&b.unwrap(&key, &enc).unwrap()[..], &secret[..], "{key:?}");
        let share: Vec<u8> = (0u8..33).collect();
        let enc = b.wrap(&key, &share).unwrap();
        assert_eq!(&b.unwrap(&key, &enc).unwrap()[..], &share[..]);
    }
}

#[test]
fn kms_context_is_sent_on_both_ways() {
    let Some(m) = moto() else {
        return;
    };
    let b = KmsBackend::new().with_endpoint_url(&m.server.addr);
    let ctx = parse_encryption_context("env:prod,app:web").unwrap();
    let keys = keys_from_arns(&m.arn, &ctx, "");
    let enc = b.wrap(&keys[0], &[4u8; 32]).unwrap();
    assert_eq!(&b.unwrap(&keys[0], &enc).unwrap()[..], &[4u8; 32]);
    // moto enforces the context: another context, or none, fails.
    for other in [
        kms_key(&m.arn, "", &[("env", "dev"), ("app", "web")], ""),
        kms_key(&m.arn, "", &[], ""),
    ] {
        match b.unwrap(&other, &enc) {
            Err(Outcome::Failed(msg)) => assert!(msg.starts_with("kms: "), "{msg}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn kms_wrong_key_missing_profile_and_stopped_server_give_128() {
    let Some(shared) = moto() else {
        return;
    };
    let Some(bin) = require_peer_path("moto_server") else {
        return;
    };
    // Wrong key: the file names key A, the ciphertext is B's.
    let b = KmsBackend::new().with_endpoint_url(&shared.server.addr);
    let other_arn = moto_create_key(&shared.server.addr, "us-east-1");
    let enc = b
        .wrap(&kms_key(&other_arn, "", &[], ""), &[6u8; 32])
        .unwrap();
    match b.unwrap(&kms_key(&shared.arn, "", &[], ""), &enc) {
        // AWS says IncorrectKeyException; moto says AccessDeniedException.
        Err(Outcome::Failed(msg)) => assert!(
            msg.contains("IncorrectKeyException") || msg.contains("AccessDeniedException"),
            "{msg}"
        ),
        other => panic!("{other:?}"),
    }

    // A profile that does not exist.
    let ks = service(KmsBackend::new().with_endpoint_url(&shared.server.addr));
    let file = veil_encrypt_json(
        vec![vec![kms_key(&shared.arn, "", &[], "veil-test")]],
        0,
        &ks,
    )
    .unwrap();
    let missing = file.replace("\"veil-test\"", "\"veil-missing\"");
    let e = veil_decrypt_json(&missing, &ks).expect_err("missing profile");
    assert_eq!(e.code, Code::CouldNotRetrieveKey);
    // sops's layout: the key by sops's name for it (ARN|context|profile), the reason
    // wrapped behind `| ` (unwrapped here).
    let text = e.to_string().replace("\n      | ", " ");
    assert!(
        text.contains(&format!("  {}||veil-missing: FAILED", shared.arn)),
        "{text}"
    );
    assert!(!text.contains("profile-testing"), "{text}");

    // A profile without credentials: "no identity" (not mine to decrypt), still exit 128.
    let b = KmsBackend::new().with_endpoint_url(&shared.server.addr);
    match b.unwrap(&kms_key(&shared.arn, "", &[], "veil-nocreds"), &enc) {
        Err(Outcome::NoIdentity(msg)) => assert!(msg.contains("no AWS credentials found"), "{msg}"),
        other => panic!("{other:?}"),
    }

    // A stopped server.
    let mut own = Moto::start(&bin);
    let ks = service(KmsBackend::new().with_endpoint_url(&own.server.addr));
    let file = veil_encrypt_json(vec![vec![kms_key(&own.arn, "", &[], "")]], 0, &ks).unwrap();
    own.server.stop();
    let ks = service(KmsBackend::new().with_endpoint_url(&own.server.addr));
    let e = veil_decrypt_json(&file, &ks).expect_err("stopped server");
    assert_eq!(e.code, Code::CouldNotRetrieveKey);
    let text = e.to_string();
    assert!(
        text.contains(&format!("  {}: FAILED\n    - | failed: kms: ", own.arn)),
        "{text}"
    );
    assert!(
        !text.contains("testing"),
        "credentials in the report: {text}"
    );
}

#[test]
fn kms_interop_with_sops_both_ways() {
    let Some(m) = moto() else {
        return;
    };
    let Some(sops_bin) = require_peer_path("sops") else {
        return;
    };
    let ks = service(KmsBackend::new().with_endpoint_url(&m.server.addr));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plain.json"), sample_plain().to_string()).unwrap();
    let env = sops_env(m);
    let spec = format!("{}+{ROLE}", m.arn);

    // sops → veil, with a role and a context.
    let out = sops(
        &sops_bin,
        dir.path(),
        &[
            "encrypt",
            "--kms",
            &spec,
            "--encryption-context",
            "team:veil,env:test",
            "plain.json",
        ],
        &env,
    );
    assert!(
        out.status.success(),
        "sops encrypt: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let by_sops = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(&by_sops).unwrap();
    assert_eq!(v["sops"]["kms"][0]["role"], ROLE);
    assert_eq!(v["sops"]["kms"][0]["context"]["team"], "veil");
    let plain = veil_decrypt_json(&by_sops, &ks).unwrap();
    assert!(same_plaintext(&plain, &sample_plain()), "{plain}");

    // veil → sops, same shape.
    let ctx = parse_encryption_context("team:veil,env:test").unwrap();
    let by_veil = veil_encrypt_json(vec![keys_from_arns(&spec, &ctx, "")], 0, &ks).unwrap();
    let v: serde_json::Value = serde_json::from_str(&by_veil).unwrap();
    assert_eq!(v["sops"]["kms"][0]["aws_profile"], "");
    std::fs::write(dir.path().join("veil.json"), &by_veil).unwrap();
    let out = sops(&sops_bin, dir.path(), &["decrypt", "veil.json"], &env);
    assert!(
        out.status.success(),
        "sops decrypt: {}\n{by_veil}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plain: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(same_plaintext(&plain, &sample_plain()), "{plain}");

    // And a plain key, no role, no context.
    let by_veil =
        veil_encrypt_json(vec![keys_from_arns(&m.arn, &BTreeMap::new(), "")], 0, &ks).unwrap();
    std::fs::write(dir.path().join("veil2.json"), &by_veil).unwrap();
    let out = sops(&sops_bin, dir.path(), &["decrypt", "veil2.json"], &env);
    assert!(
        out.status.success(),
        "sops decrypt: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
