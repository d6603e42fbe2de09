//! Key groups across backends: a file with age + PGP + KMS + Vault groups and
//! `shamir_threshold: 2`, made by the real sops and by veil, must decrypt in the other tool with
//! any two groups' keys, also with the KMS and Vault servers stopped. And a group whose keys all
//! fail gives exit 128 with a per-key report naming each backend and cause, and no token.
#![cfg(all(feature = "pgp", feature = "aws-kms", feature = "vault"))]

use crate::support::servers::*;
use crate::support::sops_json::*;
use crate::support::{require_peer_path, testdata};
use std::collections::BTreeMap;
use std::path::PathBuf;
use veil::error::Code;
use veil::keys::age::AgeBackend;
use veil::keys::aws_kms::KmsBackend;
use veil::keys::pgp::PgpBackend;
use veil::keys::vault::{parse_uri, Allowlist, VaultBackend, VaultSettings};
use veil::keys::{KeyRef, KeyService};

fn age_recipient() -> String {
    std::fs::read_to_string(testdata("keys/test-age-1.pub"))
        .unwrap()
        .trim()
        .to_string()
}

struct Peers {
    gpg_home: GpgHome,
    moto: Moto,
    bao: Bao,
    sops: PathBuf,
}

impl Peers {
    fn start() -> Option<Peers> {
        crate::support::process_env();
        let gpg = require_peer_path("gpg")?;
        let moto = require_peer_path("moto_server")?;
        let bao = require_peer_path("bao")?;
        let sops = require_peer_path("sops")?;
        Some(Peers {
            gpg_home: GpgHome::new(&gpg, "veil groups <groups@example.invalid>"),
            moto: Moto::start(&moto),
            bao: Bao::start(&bao, false),
            sops,
        })
    }

    fn pgp(&self) -> PgpBackend {
        PgpBackend::new(
            self.gpg_home.gpg.display().to_string(),
            Some(self.gpg_home.path().to_path_buf()),
        )
    }

    fn kms(&self) -> KmsBackend {
        KmsBackend::new().with_endpoint_url(&self.moto.server.addr)
    }

    fn vault(&self, token: &str) -> VaultBackend {
        VaultBackend::new(
            Some(token.to_string()),
            None,
            Allowlist::new(Some(&self.bao.server.addr), None),
            VaultSettings::default(),
        )
    }

    /// The four groups, in this order: age, pgp, kms, hc_vault.
    fn groups(&self) -> Vec<Vec<KeyRef>> {
        vec![
            vec![KeyRef::Age {
                recipient: age_recipient(),
            }],
            vec![KeyRef::Pgp {
                fingerprint: self.gpg_home.fpr.clone(),
            }],
            vec![KeyRef::Kms {
                arn: self.moto.arn.clone(),
                role: String::new(),
                context: BTreeMap::new(),
                aws_profile: String::new(),
            }],
            vec![parse_uri(&self.bao.uri("transit")).unwrap()],
        ]
    }

    fn sops_env(&self, with_age: bool) -> Vec<(&'static str, String)> {
        let mut v = vec![
            ("GNUPGHOME", self.gpg_home.path().display().to_string()),
            ("VAULT_TOKEN", ROOT_TOKEN.to_string()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL", self.moto.server.addr.clone()),
        ];
        if with_age {
            v.push((
                "SOPS_AGE_KEY_FILE",
                testdata("keys/test-age-1.txt").display().to_string(),
            ));
        }
        v
    }
}

fn ks(backends: Vec<Box<dyn veil::keys::Backend>>) -> KeyService {
    let mut ks = KeyService::new();
    for b in backends {
        ks.add(b);
    }
    ks
}

#[test]
fn mixed_groups_interop_with_sops_and_survive_stopped_servers() {
    let Some(mut p) = Peers::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plain.json"), sample_plain().to_string()).unwrap();
    std::fs::write(
        dir.path().join(".sops.yaml"),
        format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: ['{}']\n      - pgp: ['{}']\n      - kms:\n          - arn: '{}'\n      - hc_vault: ['{}']\n",
            age_recipient(),
            p.gpg_home.fpr,
            p.moto.arn,
            p.bao.uri("transit")
        ),
    )
    .unwrap();

    // sops writes the mixed file.
    let out = sops(
        &p.sops,
        dir.path(),
        &["encrypt", "plain.json"],
        &p.sops_env(true),
    );
    assert!(
        out.status.success(),
        "sops encrypt: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let by_sops = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(&by_sops).unwrap();
    assert_eq!(v["sops"]["shamir_threshold"], 2);
    assert_eq!(v["sops"]["key_groups"].as_array().map(|a| a.len()), Some(4));

    // veil writes the same shape.
    let all = ks(vec![
        Box::new(AgeBackend::from_env()),
        Box::new(p.pgp()),
        Box::new(p.kms()),
        Box::new(p.vault(ROOT_TOKEN)),
    ]);
    let by_veil = veil_encrypt_json(p.groups(), 2, &all).unwrap();
    std::fs::write(dir.path().join("veil.json"), &by_veil).unwrap();
    std::fs::write(dir.path().join("sops.json"), &by_sops).unwrap();

    // Every group alone yields a 33-byte share whose last byte is the group's x (index + 1).
    for text in [&by_sops, &by_veil] {
        let (_, meta) = split_sops_json(text);
        let meta = veil::metadata::Metadata::from_tree(&meta).unwrap();
        assert_eq!(meta.key_groups.len(), 4);
        for (gi, g) in meta.key_groups.iter().enumerate() {
            let share = all.unwrap(&g[0].key, &g[0].enc).unwrap();
            assert_eq!(share.len(), 33, "group {gi}");
            assert_eq!(share[32] as usize, gi + 1, "group {gi}");
        }
    }

    // Both tools read both files with every server up.
    for text in [&by_sops, &by_veil] {
        assert!(same_plaintext(
            &veil_decrypt_json(text, &all).unwrap(),
            &sample_plain()
        ));
    }
    for name in ["veil.json", "sops.json"] {
        let out = sops(&p.sops, dir.path(), &["decrypt", name], &p.sops_env(true));
        assert!(
            out.status.success(),
            "sops decrypt {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let plain: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(same_plaintext(&plain, &sample_plain()));
    }

    // Any two groups are enough: pgp + vault, with no age identity and no KMS backend…
    let pgp_vault = ks(vec![Box::new(p.pgp()), Box::new(p.vault(ROOT_TOKEN))]);
    for text in [&by_sops, &by_veil] {
        assert!(same_plaintext(
            &veil_decrypt_json(text, &pgp_vault).unwrap(),
            &sample_plain()
        ));
    }
    // …and one is not: exit 128 with the per-group report.
    let pgp_only = ks(vec![Box::new(p.pgp())]);
    let e = veil_decrypt_json(&by_sops, &pgp_only).expect_err("one group is not enough");
    assert_eq!(e.code, Code::CouldNotRetrieveKey);
    let text = e.to_string();
    assert!(
        text.contains("Shamir threshold of\n2, but only 1 part(s) were successfully recovered"),
        "{text}"
    );
    assert!(text.contains("Group 1: SUCCESS"), "{text}");

    // Stop KMS and Vault: age + pgp still decrypt, in both tools, for both files.
    p.moto.server.stop();
    p.bao.server.stop();
    let stopped = ks(vec![
        Box::new(AgeBackend::from_env()),
        Box::new(p.pgp()),
        Box::new(p.kms()),
        Box::new(p.vault(ROOT_TOKEN)),
    ]);
    // Try the stopped servers first, so the report path with dead servers is exercised.
    let order: Vec<String> = ["kms", "hc_vault", "age", "pgp"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for text in [&by_sops, &by_veil] {
        let (docs, meta) = split_sops_json(text);
        let dec = veil::engine::decrypt(
            &TreeDoc(docs, Some(meta)),
            &veil::engine::DecryptOptions {
                ignore_mac: false,
                decryption_order: order.clone(),
                require_integrity: false,
            },
            &stopped,
        )
        .unwrap();
        assert!(same_plaintext(
            &value_to_json(&dec.docs[0]),
            &sample_plain()
        ));
    }
    // sops tries every group, the dead servers too; one attempt each instead of the clients'
    // retries.
    let mut env = p.sops_env(true);
    env.push(("AWS_MAX_ATTEMPTS", "1".into()));
    env.push(("VAULT_MAX_RETRIES", "0".into()));
    for name in ["veil.json", "sops.json"] {
        let out = sops(&p.sops, dir.path(), &["decrypt", name], &env);
        assert!(
            out.status.success(),
            "sops decrypt {name} with servers stopped: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Without the age key only pgp is left: both tools refuse.
    let e = veil_decrypt_json(
        &by_veil,
        &ks(vec![
            Box::new(p.pgp()),
            Box::new(p.kms()),
            Box::new(p.vault(ROOT_TOKEN)),
        ]),
    )
    .expect_err("one group left");
    assert_eq!(e.code, Code::CouldNotRetrieveKey);
    let text = e.to_string();
    let reasons: Vec<String> = failed_keys(&text).into_iter().map(|(_, r)| r).collect();
    assert!(
        reasons.iter().any(|r| r.contains("could not connect")),
        "{text}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("dispatch failure")),
        "{text}"
    );
    assert!(!text.contains(ROOT_TOKEN), "{text}");
    let mut env = p.sops_env(false);
    env.push(("AWS_MAX_ATTEMPTS", "1".into()));
    env.push(("VAULT_MAX_RETRIES", "0".into()));
    let out = sops(&p.sops, dir.path(), &["decrypt", "veil.json"], &env);
    assert_eq!(
        out.status.code(),
        Some(128),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_backend_failing_gives_128_and_a_report_without_secrets() {
    let Some(mut p) = Peers::start() else {
        return;
    };
    let good = ks(vec![
        Box::new(p.pgp()),
        Box::new(p.kms()),
        Box::new(p.vault(ROOT_TOKEN)),
    ]);
    let keys: Vec<KeyRef> = p.groups().into_iter().skip(1).flatten().collect();
    let file = veil_encrypt_json(vec![keys], 0, &good).unwrap();
    assert!(same_plaintext(
        &veil_decrypt_json(&file, &good).unwrap(),
        &sample_plain()
    ));

    // A wrong keyring, a stopped KMS, a wrong Vault token.
    let gpg = p.gpg_home.gpg.clone();
    let other = GpgHome::new(&gpg, "someone else <else@example.invalid>");
    p.moto.server.stop();
    let wrong_token = "s.wrong-token-0a9b8c";
    let bad = ks(vec![
        Box::new(PgpBackend::new(
            gpg.display().to_string(),
            Some(other.path().to_path_buf()),
        )),
        Box::new(p.kms()),
        Box::new(p.vault(wrong_token)),
    ]);
    let e = veil_decrypt_json(&file, &bad).expect_err("everything fails");
    assert_eq!(e.code, Code::CouldNotRetrieveKey);
    let text = e.to_string();
    let keys = failed_keys(&text);
    assert_eq!(keys.len(), 3, "{text}");
    let has = |name: &str, why: &str| {
        keys.iter()
            .any(|(k, r)| k.starts_with(name) && r.contains(why))
    };
    assert!(has(&p.gpg_home.fpr, "no secret key"), "{text}");
    assert!(has("arn:aws:kms:", "dispatch failure"), "{text}");
    assert!(has("http://", "403"), "{text}");
    for secret in [wrong_token, ROOT_TOKEN, "testing", "hunter2"] {
        assert!(!text.contains(secret), "{secret:?} in the report: {text}");
    }
}

/// The failed keys of a decryption report in sops's layout: each `  NAME: FAILED` line and its
/// reason (`    - | …`, continued on `      | …` lines), the reason unwrapped.
fn failed_keys(report: &str) -> Vec<(String, String)> {
    let unwrapped = report.replace("\n      | ", " ");
    let lines: Vec<&str> = unwrapped.lines().collect();
    lines
        .windows(2)
        .filter_map(|w| {
            let name = w[0].strip_prefix("  ")?.strip_suffix(": FAILED")?;
            let why = w[1].strip_prefix("    - | ")?;
            Some((name.to_string(), why.to_string()))
        })
        .collect()
}
