//! The PGP backend against the real gpg, and interop with the real sops in both directions on
//! the same keyring. Each test makes its own throwaway GnuPG home.
#![cfg(feature = "pgp")]

use crate::support::require_peer_path;
use crate::support::servers::*;
use crate::support::sops_json::*;
use veil::error::{Code, Outcome};
use veil::keys::pgp::{keys_from_fingerprints, PgpBackend};
use veil::keys::{Backend, KeyRef, KeyService};

fn pgp_key(fp: &str) -> KeyRef {
    KeyRef::Pgp {
        fingerprint: fp.to_string(),
    }
}

fn service(b: PgpBackend) -> KeyService {
    let mut ks = KeyService::new();
    ks.add(Box::new(b));
    ks
}

#[test]
fn pgp_round_trip_with_sops_style_armor() {
    let Some(gpg) = require_peer_path("gpg") else {
        return;
    };
    let home = GpgHome::new(&gpg, "veil test <pgp-rt@example.invalid>");
    let b = PgpBackend::new(gpg.display().to_string(), Some(home.path().to_path_buf()));
    let secret: Vec<u8> = (0u8..32).collect();
    let enc = b.wrap(&pgp_key(&home.fpr), &secret).unwrap();
    assert!(enc.starts_with("-----BEGIN PGP MESSAGE-----"), "{enc}");
    assert!(
        enc.ends_with("-----END PGP MESSAGE-----"),
        "trimmed like sops: {enc:?}"
    );
    let out = b.unwrap(&pgp_key(&home.fpr), &enc).unwrap();
    assert_eq!(&out[..], &secret[..]);

    // A 33-byte Shamir share goes through the same way.
    let share: Vec<u8> = (0u8..33).collect();
    let enc = b.wrap(&pgp_key(&home.fpr), &share).unwrap();
    assert_eq!(
        &b.unwrap(&pgp_key(&home.fpr), &enc).unwrap()[..],
        &share[..]
    );
}

#[test]
fn pgp_fingerprints_with_spaces_and_bang() {
    let Some(gpg) = require_peer_path("gpg") else {
        return;
    };
    let home = GpgHome::new(&gpg, "veil test <pgp-fp@example.invalid>");
    let b = PgpBackend::new(gpg.display().to_string(), Some(home.path().to_path_buf()));
    // Spaces, as gpg prints fingerprints.
    let spaced: String = home
        .fpr
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let keys = keys_from_fingerprints(&spaced);
    assert_eq!(keys, vec![pgp_key(&home.fpr)]);
    let enc = b.wrap(&keys[0], &[9u8; 32]).unwrap();
    assert_eq!(&b.unwrap(&keys[0], &enc).unwrap()[..], &[9u8; 32]);
    // `SUBKEYFPR!`: exactly the encryption subkey.
    let out = home.run(&["--batch", "--with-colons", "--list-keys", &home.fpr]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let sub = text
        .lines()
        .skip_while(|l| !l.starts_with("sub:"))
        .find(|l| l.starts_with("fpr:"))
        .and_then(|l| l.split(':').nth(9))
        .expect("subkey fingerprint")
        .to_string();
    let keys = keys_from_fingerprints(&format!("{sub}!"));
    assert_eq!(keys, vec![pgp_key(&format!("{sub}!"))]);
    let enc = b.wrap(&keys[0], &[8u8; 32]).unwrap();
    assert_eq!(&b.unwrap(&keys[0], &enc).unwrap()[..], &[8u8; 32]);
}

#[test]
fn pgp_runs_gpg_with_sops_arguments_and_never_the_secret() {
    let Some(gpg) = require_peer_path("gpg") else {
        return;
    };
    let home = GpgHome::new(&gpg, "veil test <pgp-argv@example.invalid>");
    // A SOPS_GPG_EXEC-style wrapper that records its arguments and runs the real gpg.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("argv.log");
    let wrapper = dir.path().join("gpg-wrapper");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '{}'; done; printf -- '--\\n' >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            log.display(),
            gpg.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let b = PgpBackend::new(
        wrapper.display().to_string(),
        Some(home.path().to_path_buf()),
    );
    let secret = b"VEILSECRETVEILSECRETVEILSECRET!!".to_vec();
    let enc = b.wrap(&pgp_key(&home.fpr), &secret).unwrap();
    assert_eq!(
        &b.unwrap(&pgp_key(&home.fpr), &enc).unwrap()[..],
        &secret[..]
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        !logged.contains("VEILSECRET"),
        "the secret reached argv: {logged}"
    );
    let calls: Vec<Vec<&str>> = logged
        .split("--\n")
        .filter(|c| !c.is_empty())
        .map(|c| c.lines().collect())
        .collect();
    let homedir = home.path().display().to_string();
    let last16 = &home.fpr[home.fpr.len() - 16..];
    assert_eq!(
        calls,
        vec![
            vec![
                "--homedir",
                homedir.as_str(),
                "--no-default-recipient",
                "--yes",
                "--encrypt",
                "-a",
                "-r",
                home.fpr.as_str(),
                "--trusted-key",
                last16,
                "--no-encrypt-to"
            ],
            vec!["--homedir", homedir.as_str(), "--use-agent", "-d"],
        ]
    );
}

#[test]
fn pgp_zero_bytes_and_failures_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake-gpg");
    // Succeeds and prints nothing: zero bytes of plaintext must be an error.
    crate::support::sandbox::write_file(&fake, b"#!/bin/sh\ncat >/dev/null\nexit 0\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let b = PgpBackend::new(fake.display().to_string(), None);
    match b.unwrap(
        &pgp_key("ABCDEF"),
        "-----BEGIN PGP MESSAGE-----\n\nx\n-----END PGP MESSAGE-----",
    ) {
        Err(Outcome::Failed(m)) => assert!(m.contains("zero bytes"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Encryption output that is not armor is refused too.
    assert!(b.wrap(&pgp_key("ABCDEF"), &[1u8; 32]).is_err());
}

#[test]
fn pgp_wrong_key_gives_128_with_a_per_key_report() {
    let Some(gpg) = require_peer_path("gpg") else {
        return;
    };
    let alice = GpgHome::new(&gpg, "alice <alice@example.invalid>");
    let bob = GpgHome::new(&gpg, "bob <bob@example.invalid>");
    let ks_alice = service(PgpBackend::new(
        gpg.display().to_string(),
        Some(alice.path().to_path_buf()),
    ));
    let ks_bob = service(PgpBackend::new(
        gpg.display().to_string(),
        Some(bob.path().to_path_buf()),
    ));
    let file = veil_encrypt_json(vec![vec![pgp_key(&alice.fpr)]], 0, &ks_alice).unwrap();
    assert!(same_plaintext(
        &veil_decrypt_json(&file, &ks_alice).unwrap(),
        &sample_plain()
    ));
    let e = veil_decrypt_json(&file, &ks_bob).expect_err("bob cannot decrypt");
    assert_eq!(e.code, Code::CouldNotRetrieveKey);
    // sops's layout: the key by its fingerprint, the reason wrapped behind `| ` (unwrapped
    // here).
    let text = e.to_string().replace("\n      | ", " ");
    assert!(text.contains("Group 0: FAILED"), "{text}");
    assert!(text.contains(&format!("  {}: FAILED", alice.fpr)), "{text}");
    assert!(text.contains("no secret key"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn pgp_interop_with_sops_both_ways() {
    let (Some(gpg), Some(sops_bin)) = (require_peer_path("gpg"), require_peer_path("sops")) else {
        return;
    };
    let home = GpgHome::new(&gpg, "veil interop <pgp-interop@example.invalid>");
    let ks = service(PgpBackend::new(
        gpg.display().to_string(),
        Some(home.path().to_path_buf()),
    ));
    let dir = tempfile::tempdir().unwrap();
    let env = [("GNUPGHOME", home.path().display().to_string())];
    std::fs::write(dir.path().join("plain.json"), sample_plain().to_string()).unwrap();

    // sops → veil.
    let out = sops(
        &sops_bin,
        dir.path(),
        &["encrypt", "--pgp", &home.fpr, "plain.json"],
        &env,
    );
    assert!(
        out.status.success(),
        "sops encrypt: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let by_sops = String::from_utf8(out.stdout).unwrap();
    let plain = veil_decrypt_json(&by_sops, &ks).unwrap();
    assert!(same_plaintext(&plain, &sample_plain()), "{plain}");

    // veil → sops.
    let by_veil = veil_encrypt_json(vec![vec![pgp_key(&home.fpr)]], 0, &ks).unwrap();
    let v: serde_json::Value = serde_json::from_str(&by_veil).unwrap();
    let enc = v["sops"]["pgp"][0]["enc"].as_str().unwrap();
    assert!(!enc.ends_with('\n'), "pgp enc is stored trimmed");
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
