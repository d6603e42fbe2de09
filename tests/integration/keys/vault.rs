//! The Vault transit backend against a real OpenBao dev server (http and https), the token
//! allowlist against a recording listener, and interop with the real sops in both directions.
//! Each test starts its own `bao server -dev` on free loopback ports.
#![cfg(feature = "vault")]

use crate::support::require_peer_path;
use crate::support::servers::*;
use crate::support::sops_json::*;
use veil::error::{Code, Outcome};
use veil::keys::vault::{parse_uri, Allowlist, VaultBackend, VaultSettings};
use veil::keys::{Backend, KeyService};

fn backend(token: &str, allow: Allowlist, settings: VaultSettings) -> VaultBackend {
    VaultBackend::new(Some(token.to_string()), None, allow, settings)
}

fn service(b: VaultBackend) -> KeyService {
    let mut ks = KeyService::new();
    ks.add(Box::new(b));
    ks
}

#[test]
fn vault_round_trip_over_http_and_nested_engines() {
    let Some(bao) = require_peer_path("bao") else {
        return;
    };
    let srv = Bao::start(&bao, false);
    let b = backend(
        ROOT_TOKEN,
        Allowlist::new(Some(&srv.server.addr), None),
        VaultSettings::default(),
    );
    for engine in ["transit", "team/transit"] {
        let key = parse_uri(&srv.uri(engine)).unwrap();
        let secret: Vec<u8> = (0u8..32).collect();
        let enc = b.wrap(&key, &secret).unwrap();
        assert!(enc.starts_with("vault:v1:"), "{enc}");
        assert_eq!(&b.unwrap(&key, &enc).unwrap()[..], &secret[..]);
        let share: Vec<u8> = (0u8..33).collect();
        let enc = b.wrap(&key, &share).unwrap();
        assert_eq!(&b.unwrap(&key, &enc).unwrap()[..], &share[..]);
    }
    // Ciphertext of one key does not open with another: failed, exit 128 through the engine.
    let k1 = parse_uri(&srv.uri("transit")).unwrap();
    let k2 = parse_uri(&srv.uri("team/transit")).unwrap();
    let enc = b.wrap(&k1, &[5u8; 32]).unwrap();
    match b.unwrap(&k2, &enc) {
        Err(Outcome::Failed(m)) => assert!(m.contains("answered 400"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn vault_https_with_cacert_and_skip_verify() {
    let Some(bao) = require_peer_path("bao") else {
        return;
    };
    let srv = Bao::start(&bao, true);
    let key = parse_uri(&srv.uri("transit")).unwrap();
    let allow = || Allowlist::new(Some(&srv.server.addr), None);
    let good = backend(
        ROOT_TOKEN,
        allow(),
        VaultSettings {
            cacert: srv.ca.clone(),
            ..Default::default()
        },
    );
    let enc = good.wrap(&key, &[3u8; 32]).unwrap();
    assert_eq!(&good.unwrap(&key, &enc).unwrap()[..], &[3u8; 32]);
    // Without the CA the certificate is refused…
    let untrusting = backend(ROOT_TOKEN, allow(), VaultSettings::default());
    match untrusting.unwrap(&key, &enc) {
        Err(Outcome::Failed(m)) => {
            assert!(m.to_lowercase().contains("certificate"), "{m}");
            assert!(!m.contains(ROOT_TOKEN), "{m}");
        }
        other => panic!("{other:?}"),
    }
    // …unless VAULT_CAPATH names a directory holding it…
    let capath = backend(
        ROOT_TOKEN,
        allow(),
        VaultSettings {
            capath: srv
                .ca
                .as_ref()
                .and_then(|c| c.parent())
                .map(|d| d.to_path_buf()),
            ..Default::default()
        },
    );
    assert_eq!(&capath.unwrap(&key, &enc).unwrap()[..], &[3u8; 32]);
    // …or VAULT_SKIP_VERIFY says not to check.
    let skipping = backend(
        ROOT_TOKEN,
        allow(),
        VaultSettings {
            skip_verify: true,
            ..Default::default()
        },
    );
    assert_eq!(&skipping.unwrap(&key, &enc).unwrap()[..], &[3u8; 32]);
}

#[test]
fn vault_wrong_token_and_stopped_server_give_128_without_the_token() {
    let Some(bao) = require_peer_path("bao") else {
        return;
    };
    let mut srv = Bao::start(&bao, false);
    let key = parse_uri(&srv.uri("transit")).unwrap();
    let allow = || Allowlist::new(Some(&srv.server.addr), None);
    let ks = service(backend(ROOT_TOKEN, allow(), VaultSettings::default()));
    let file = veil_encrypt_json(vec![vec![key.clone()]], 0, &ks).unwrap();
    assert!(same_plaintext(
        &veil_decrypt_json(&file, &ks).unwrap(),
        &sample_plain()
    ));

    let wrong = "s.wrong-token-7d3e0b";
    let e = veil_decrypt_json(
        &file,
        &service(backend(wrong, allow(), VaultSettings::default())),
    )
    .expect_err("a wrong token fails");
    assert_eq!(e.code, Code::CouldNotRetrieveKey);
    // sops's layout: the key by its URL, the reason wrapped behind `| ` (unwrapped here).
    let text = e.to_string().replace("\n      | ", " ");
    assert!(text.contains("  http://127.0.0.1:"), "{text}");
    assert!(text.contains("answered 403"), "{text}");
    assert!(text.contains("token from VAULT_TOKEN"), "{text}");
    assert!(
        !text.contains(wrong) && !text.contains(ROOT_TOKEN),
        "{text}"
    );

    // No token at all: "no identity".
    let dir = tempfile::tempdir().unwrap();
    let none = VaultBackend::new(
        None,
        Some(dir.path().join(".vault-token")),
        allow(),
        VaultSettings::default(),
    );
    assert!(matches!(
        none.unwrap(&key, "vault:v1:x"),
        Err(Outcome::NoIdentity(_))
    ));

    srv.server.stop();
    let e = veil_decrypt_json(&file, &ks).expect_err("a stopped server fails");
    assert_eq!(e.code, Code::CouldNotRetrieveKey);
    let text = e.to_string().replace("\n      | ", " ");
    assert!(text.contains("could not connect"), "{text}");
    assert!(!text.contains(ROOT_TOKEN), "{text}");
}

/// A file naming a Vault address the user never allowed must not get the token: prove it with
/// a listener that records every byte it receives.
#[test]
fn vault_token_never_goes_to_an_address_the_user_did_not_allow() {
    let Some(bao) = require_peer_path("bao") else {
        return;
    };
    let srv = Bao::start(&bao, false);
    let rec = Recorder::start();
    let good = parse_uri(&srv.uri("transit")).unwrap();
    let ks = service(backend(
        ROOT_TOKEN,
        Allowlist::new(Some(&srv.server.addr), None),
        VaultSettings::default(),
    ));
    let file = veil_encrypt_json(vec![vec![good]], 0, &ks).unwrap();
    // The attacker's edit: same key, but the address points at the recorder.
    let evil = file.replace(&srv.server.addr, &rec.addr);
    assert_ne!(evil, file);
    let e = veil_decrypt_json(&evil, &ks).expect_err("refused");
    assert_eq!(e.code, Code::CouldNotRetrieveKey);
    let text = e.to_string();
    assert!(text.contains("refusing to send the vault token"), "{text}");
    assert!(text.contains(&rec.addr), "{text}");
    assert!(text.contains("SOPS_HC_VAULT_ALLOWLIST"), "{text}");
    assert!(!text.contains(ROOT_TOKEN), "{text}");
    // Encrypting to it is refused as well.
    let k = parse_uri(&format!("{}/v1/transit/keys/sops-key", rec.addr)).unwrap();
    assert!(ks.wrap(&k, &[1u8; 32]).is_err());
    assert_eq!(
        *rec.connections.lock().unwrap(),
        0,
        "the recorder was contacted"
    );
    assert!(rec.seen.lock().unwrap().is_empty());

    // Control: once the user allows the address, the request (with the token and the
    // namespace header) does arrive, so the recorder would have seen a leak.
    let allowing = service(backend(
        ROOT_TOKEN,
        Allowlist::new(
            Some(&srv.server.addr),
            Some(&format!("{}, other:1", rec.addr)),
        ),
        VaultSettings {
            namespace: Some("ns1/team".into()),
            ..Default::default()
        },
    ));
    let _ = veil_decrypt_json(&evil, &allowing);
    let seen = String::from_utf8_lossy(&rec.seen.lock().unwrap()).to_lowercase();
    assert!(seen.contains("put /v1/transit/decrypt/sops-key"), "{seen}");
    assert!(
        seen.contains(&format!("x-vault-token: {ROOT_TOKEN}")),
        "{seen}"
    );
    assert!(seen.contains("x-vault-namespace: ns1/team"), "{seen}");
}

#[test]
fn vault_interop_with_sops_both_ways() {
    let (Some(bao), Some(sops_bin)) = (require_peer_path("bao"), require_peer_path("sops")) else {
        return;
    };
    let srv = Bao::start(&bao, false);
    let uri = srv.uri("team/transit");
    let ks = service(backend(
        ROOT_TOKEN,
        Allowlist::new(Some(&srv.server.addr), None),
        VaultSettings::default(),
    ));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plain.json"), sample_plain().to_string()).unwrap();
    let env = [("VAULT_TOKEN", ROOT_TOKEN.to_string())];

    // sops → veil.
    let out = sops(
        &sops_bin,
        dir.path(),
        &["encrypt", "--hc-vault-transit", &uri, "plain.json"],
        &env,
    );
    assert!(
        out.status.success(),
        "sops encrypt: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let by_sops = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(&by_sops).unwrap();
    assert_eq!(v["sops"]["hc_vault"][0]["engine_path"], "team/transit");
    let plain = veil_decrypt_json(&by_sops, &ks).unwrap();
    assert!(same_plaintext(&plain, &sample_plain()), "{plain}");

    // veil → sops.
    let by_veil = veil_encrypt_json(vec![vec![parse_uri(&uri).unwrap()]], 0, &ks).unwrap();
    std::fs::write(dir.path().join("veil.json"), &by_veil).unwrap();
    let out = sops(&sops_bin, dir.path(), &["decrypt", "veil.json"], &env);
    assert!(
        out.status.success(),
        "sops decrypt: {}\n{by_veil}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plain: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(same_plaintext(&plain, &sample_plain()), "{plain}");
}
