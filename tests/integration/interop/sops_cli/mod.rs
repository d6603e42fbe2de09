//! Interop with the real sops 3.11 binary, in both directions.
//!
//! (a) veil decrypts every file sops wrote (`testdata/sops/`) to the same data sops decrypts it
//!     to; (b) what `veil encrypt` writes, sops decrypts to the original data, with either of
//!     two recipients. Data-identical is the contract, not byte-identical (sops re-emits whole
//!     files; veil keeps layout), so documents are compared as sops sees them (see
//!     `support::Data`); binary and dotenv output is compared byte for byte.
//!
//! (a) is in [`veil_reads_sops`], (b) in [`sops_reads_veil`]; this module holds the fixture
//! table and the helpers both use.
//!
//! Needs `scripts/peers.sh install` (`.peers/bin/sops`). Without it the tests SKIP loudly;
//! with `CI=true` they fail.

use crate::support::*;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Yaml,
    Json,
    Binary,
    Dotenv,
    Ini,
}

impl Kind {
    fn ext(self) -> &'static str {
        match self {
            Kind::Yaml => "yaml",
            Kind::Json => "json",
            Kind::Binary => "bin",
            Kind::Dotenv => "env",
            Kind::Ini => "ini",
        }
    }
}

/// How the decrypting side finds its identity.
#[derive(Clone, Copy, Debug)]
enum Ident {
    /// `SOPS_AGE_KEY_FILE` = a copy of this test key.
    KeyFile(TestKey),
    /// `SOPS_AGE_SSH_PRIVATE_KEY_FILE` = a copy of the SSH test key.
    SshFile,
}

fn with_ident(sb: &Sandbox, cmd: &mut Command, ident: Ident) {
    match ident {
        Ident::KeyFile(k) => {
            cmd.env("SOPS_AGE_KEY_FILE", sb.age_key_file(k));
        }
        Ident::SshFile => {
            cmd.env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", sb.ssh_key_file());
        }
    }
}

/// Asserts two outputs of `kind` are the same data as sops sees it.
#[track_caller]
fn assert_same(kind: Kind, left: &[u8], right: &[u8], what: &str) {
    match kind {
        Kind::Yaml => {
            let l = yaml_docs(text(left)).unwrap_or_else(|e| panic!("{what}: left: {e}"));
            let r = yaml_docs(text(right)).unwrap_or_else(|e| panic!("{what}: right: {e}"));
            assert_data_eq(&l, &r, what);
        }
        Kind::Json => {
            let l = json_doc(text(left)).unwrap_or_else(|e| panic!("{what}: left: {e}"));
            let r = json_doc(text(right)).unwrap_or_else(|e| panic!("{what}: right: {e}"));
            assert_data_eq(&[l], &[r], what);
        }
        Kind::Binary => {
            assert!(
                left == right,
                "{what}: bytes differ ({} vs {} bytes)",
                left.len(),
                right.len()
            )
        }
        Kind::Dotenv => {
            let l = dotenv_pairs(text(left)).unwrap_or_else(|e| panic!("{what}: left: {e}"));
            let r = dotenv_pairs(text(right)).unwrap_or_else(|e| panic!("{what}: right: {e}"));
            assert_eq!(l, r, "{what}: dotenv data differs");
        }
        Kind::Ini => {
            assert_eq!(
                ini_sections(text(left)),
                ini_sections(text(right)),
                "{what}: ini differs"
            )
        }
    }
}

/// `sops decrypt FILE` with the identity, returning stdout (panics on failure).
fn sops_decrypt(sb: &Sandbox, file: &Path, ident: Ident) -> Vec<u8> {
    let mut cmd = sb.sops();
    cmd.arg("decrypt").arg(file);
    with_ident(sb, &mut cmd, ident);
    run_ok(&mut cmd, &format!("sops decrypt {}", file.display()))
}

/// `veil decrypt FILE` with the identity, returning stdout (panics on failure).
fn veil_decrypt(sb: &Sandbox, file: &Path, ident: Ident) -> Vec<u8> {
    let mut cmd = sb.veil();
    cmd.arg("decrypt").arg(file);
    with_ident(sb, &mut cmd, ident);
    run_ok(&mut cmd, &format!("veil decrypt {}", file.display()))
}

// ---------------------------------------------------------------------------------------------
// The fixtures themselves (these pass without veil: they check the fixtures and comparators)

struct Fixture {
    enc: &'static str,
    plain: &'static str,
    kind: Kind,
    ident: Ident,
    /// How many age recipients the file must have.
    recipients: usize,
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        enc: "scalars.enc.yaml",
        plain: "scalars.yaml",
        kind: Kind::Yaml,
        ident: Ident::KeyFile(TestKey::Age1),
        recipients: 1,
    },
    Fixture {
        enc: "structure.enc.yaml",
        plain: "structure.yaml",
        kind: Kind::Yaml,
        ident: Ident::KeyFile(TestKey::Age1),
        recipients: 1,
    },
    Fixture {
        enc: "multidoc.enc.yaml",
        plain: "multidoc.yaml",
        kind: Kind::Yaml,
        ident: Ident::KeyFile(TestKey::Age1),
        recipients: 1,
    },
    Fixture {
        enc: "nested.enc.json",
        plain: "nested.json",
        kind: Kind::Json,
        ident: Ident::KeyFile(TestKey::Age1),
        recipients: 1,
    },
    Fixture {
        enc: "blob.enc.bin",
        plain: "blob.bin",
        kind: Kind::Binary,
        ident: Ident::KeyFile(TestKey::Age1),
        recipients: 1,
    },
    Fixture {
        enc: "app.enc.env",
        plain: "app.env",
        kind: Kind::Dotenv,
        ident: Ident::KeyFile(TestKey::Age1),
        recipients: 1,
    },
    Fixture {
        enc: "app.enc.ini",
        plain: "app.ini",
        kind: Kind::Ini,
        ident: Ident::KeyFile(TestKey::Age1),
        recipients: 1,
    },
    Fixture {
        enc: "two-recipients.enc.yaml",
        plain: "structure.yaml",
        kind: Kind::Yaml,
        ident: Ident::KeyFile(TestKey::Age2),
        recipients: 2,
    },
    Fixture {
        enc: "two-recipients.enc.json",
        plain: "nested.json",
        kind: Kind::Json,
        ident: Ident::KeyFile(TestKey::Age2),
        recipients: 2,
    },
    Fixture {
        enc: "ssh-recipient.enc.yaml",
        plain: "structure.yaml",
        kind: Kind::Yaml,
        ident: Ident::SshFile,
        recipients: 1,
    },
];

fn fixture(enc: &str) -> &'static Fixture {
    FIXTURES
        .iter()
        .find(|f| f.enc == enc)
        .unwrap_or_else(|| panic!("no fixture {enc}"))
}

#[test]
fn sops_fixtures_decrypt_to_their_plaintext() {
    if !require_peer("sops") {
        return;
    }
    let sb = Sandbox::new();
    for f in FIXTURES {
        let path = testdata(&format!("sops/{}", f.enc));
        // One "recipient" per age entry in every store's metadata layout; multi-document YAML
        // repeats the metadata in each of its 3 documents.
        let raw = String::from_utf8_lossy(&read_testdata(&format!("sops/{}", f.enc))).into_owned();
        let docs = if f.enc.starts_with("multidoc") { 3 } else { 1 };
        assert_eq!(
            raw.matches("recipient").count(),
            f.recipients * docs,
            "{}: recipients",
            f.enc
        );
        let plain = read_testdata(&format!("plain/{}", f.plain));
        let mut idents = vec![f.ident];
        if f.recipients == 2 {
            idents.push(Ident::KeyFile(TestKey::Age1));
        }
        for ident in idents {
            let out = sops_decrypt(&sb, &path, ident);
            let what = format!("sops decrypt {} ({ident:?}) vs plain/{}", f.enc, f.plain);
            assert_same(f.kind, &out, &plain, &what);
        }
    }
}

#[test]
fn every_fixture_is_listed_and_every_plaintext_used() {
    let mut on_disk: Vec<String> = std::fs::read_dir(testdata("sops"))
        .expect("testdata/sops")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.contains(".enc."))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FIXTURES.iter().map(|f| f.enc.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "testdata/sops and FIXTURES disagree");
    for e in std::fs::read_dir(testdata("plain")).expect("testdata/plain") {
        let name = e
            .expect("dir entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        assert!(
            FIXTURES.iter().any(|f| f.plain == name),
            "plain/{name} has no fixture"
        );
    }
}

mod sops_reads_veil;
mod veil_reads_sops;
