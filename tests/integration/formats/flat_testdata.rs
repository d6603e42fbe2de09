//! The dotenv, INI and TOML fixtures in `testdata/`: files written by sops 3.11 (and an INI file
//! in the 3.13.0/3.13.1 `"""` style) are read, and, when the test-only age key is present,
//! opened to the data sops decrypts them to. See `testdata/*/README.md` for how they were made.

use std::path::Path;

use crate::support::oracle::*;
use veil::format::dotenv::DotenvStore;
use veil::format::flatten::flatten;
use veil::format::ini::IniStore;
use veil::format::toml::TomlStore;
use veil::format::Store;
use veil::tree::{aad, walk_leaves, Value};

fn read(p: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(p),
    )
    .unwrap()
}

/// (AAD, type, first 4 bytes of the plaintext or token) of every leaf.
fn shape(store: &dyn Store, bytes: &[u8]) -> Vec<(String, String, String)> {
    let p = store.parse(bytes).unwrap();
    let mut v = Vec::new();
    walk_leaves(p.docs(), |_, path, s| {
        let t = String::from_utf8_lossy(&s.plaintext()).into_owned();
        v.push((
            aad(path),
            s.type_name().to_string(),
            t.chars().take(4).collect(),
        ))
    });
    v
}

fn meta_of(store: &dyn Store, bytes: &[u8]) -> Value {
    store
        .parse(bytes)
        .unwrap()
        .metadata()
        .cloned()
        .expect("metadata")
}

fn recipient_of(meta: &Value) -> String {
    let Some(Value::List(age)) = meta.get("age") else {
        panic!("no age list")
    };
    age[0]
        .get("recipient")
        .and_then(Value::as_str)
        .unwrap()
        .to_string()
}

#[test]
fn dotenv_sops_file_is_read() {
    let enc = read("dotenv/edge.sops-3.11.env");
    let meta = meta_of(&DotenvStore, &enc);
    assert_eq!(meta.get("version"), Some(&Value::str("3.11.0")));
    assert_eq!(
        meta.get("unencrypted_suffix"),
        Some(&Value::str("_unencrypted"))
    );
    assert!(recipient_of(&meta).starts_with("age1"));
    let leaves = shape(&DotenvStore, &enc);
    let plain = shape(&DotenvStore, &read("dotenv/edge.env"));
    // Same keys in the same order; every value sealed except the empty and _unencrypted ones.
    assert_eq!(
        leaves.iter().map(|l| l.0.clone()).collect::<Vec<_>>(),
        plain.iter().map(|l| l.0.clone()).collect::<Vec<_>>()
    );
    for (l, p) in leaves.iter().zip(&plain) {
        let sealed = l.2 == "ENC[";
        let expect_plain = p.2.is_empty() || l.0.ends_with("_unencrypted:");
        assert_eq!(sealed, !expect_plain, "{l:?}");
    }
}

#[test]
fn ini_sops_files_are_read_in_both_layouts() {
    let a = read("ini/edge.sops-3.11.ini");
    let b = read("ini/edge.sops-3.13-style.ini");
    assert_eq!(
        flatten(&meta_of(&IniStore, &a), ""),
        flatten(&meta_of(&IniStore, &b), "")
    );
    let enc = meta_of(&IniStore, &b);
    let Some(Value::List(age)) = enc.get("age") else {
        panic!("no age list")
    };
    let armor = age[0].get("enc").and_then(Value::as_str).unwrap();
    assert!(
        armor.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n") && armor.ends_with("-----\n")
    );
    assert_eq!(shape(&IniStore, &a), shape(&IniStore, &b));
}

#[test]
fn sops_files_open_to_what_sops_decrypts() {
    if age_peers().is_none() {
        return;
    }
    // dotenv: sops's layout drops blank lines; everything else comes back byte for byte.
    let plain = String::from_utf8(read("dotenv/edge.env")).unwrap();
    let got = decrypt_document(&DotenvStore, &read("dotenv/edge.sops-3.11.env"));
    assert_eq!(String::from_utf8(got).unwrap(), plain.replace("\n\n", "\n"));
    // INI: both layouts open to the same file, holding the plaintext's data.
    let a = decrypt_document(&IniStore, &read("ini/edge.sops-3.11.ini"));
    let b = decrypt_document(&IniStore, &read("ini/edge.sops-3.13-style.ini"));
    assert_eq!(a, b);
    let values = |bytes: &[u8]| {
        shape(&IniStore, bytes)
            .into_iter()
            .filter(|l| l.1 == "str")
            .collect::<Vec<_>>()
    };
    assert_eq!(values(&a), values(&read("ini/edge.ini")));
}

#[test]
fn toml_fixture_opens_to_the_exact_plaintext() {
    let enc = read("toml/vector.enc.toml");
    let text = String::from_utf8(enc.clone()).unwrap();
    assert!(text.contains("birthday = '''ENC[AES256_GCM,"));
    assert!(text.contains("\n[[sops.age]]\n"));
    assert_eq!(
        shape(&TomlStore, &enc).len(),
        shape(&TomlStore, &read("toml/vector.toml")).len()
    );
    if age_peers().is_none() {
        return;
    }
    assert_eq!(decrypt_document(&TomlStore, &enc), read("toml/vector.toml"));
}

/// Writes `testdata/toml/vector.enc.toml`: `cargo test --release --test integration -- --ignored formats::flat_testdata`.
#[test]
#[ignore]
fn regenerate_toml_fixture() {
    let Some(r) = age_peers() else { return };
    let out = encrypt_document(&TomlStore, &read("toml/vector.toml"), &r);
    std::fs::write(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/toml/vector.enc.toml"),
        out,
    )
    .unwrap();
}
