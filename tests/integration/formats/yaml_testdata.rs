//! The YAML store on files written by the real sops (testdata/yaml).

use veil::format::yaml::YamlStore;
use veil::format::{Edit, Store};
use veil::tree::{aad, walk_leaves, Scalar, Value};

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/testdata/yaml/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn sops_file_reads_and_rerenders_byte_for_byte() {
    let src = read("sops_3.11_age.yaml");
    let store = YamlStore::default();
    let d = store.parse(&src).unwrap();
    let meta = d.metadata().unwrap().clone();
    assert_eq!(meta.get("version").and_then(Value::as_str), Some("3.11.0"));
    assert_eq!(
        meta.get("lastmodified").and_then(Value::as_str),
        Some("2026-11-29T03:08:05Z")
    );
    let mut n = 0;
    let mut paths = vec![];
    walk_leaves(d.docs(), |_, p, s| {
        n += 1;
        paths.push((aad(p), s.type_name()));
    });
    let keep = vec![Edit::Keep; n];
    // Rewriting the metadata we read gives sops's bytes back: our go-yaml layout matches.
    assert_eq!(
        String::from_utf8(d.render(&keep, Some(&meta)).unwrap()).unwrap(),
        String::from_utf8(src.clone()).unwrap()
    );
    // Sealed map comments are comment leaves; sealed list comments are list values.
    assert_eq!(paths[0], (":".to_string(), "comment"));
    assert_eq!(paths[1], ("app:".to_string(), "comment"));
    assert!(paths.contains(&("app:hosts:".to_string(), "str")));
    assert!(paths.contains(&("password_unencrypted:".to_string(), "str")));
}

#[test]
fn opening_a_sops_file_restores_the_plaintext_layout() {
    let src = read("sops_3.11_age.yaml");
    let store = YamlStore::default();
    let d = store.parse(&src).unwrap();
    // The plaintexts, in leaf order, given as opened values: this checks the store's render,
    // not the crypto.
    let plain: Vec<Scalar> = vec![
        Scalar::Comment(" Example plaintext for veil YAML tests".into()),
        Scalar::Comment(" trailing".into()),
        Scalar::Str("demo".into()),
        Scalar::Int(8080),
        Scalar::Float("0.5".into()),
        Scalar::Bool(false),
        Scalar::Time("2024-01-01T10:00:00Z".into()),
        Scalar::Comment(" list with a comment".into()),
        Scalar::Str("a.example.com".into()),
        Scalar::Comment(" between".into()),
        Scalar::Str("b.example.com".into()),
        Scalar::Str("-----BEGIN-----\nabc\n-----END-----\n".into()),
        Scalar::Str("visible".into()),
    ];
    let edits: Vec<Edit> = plain
        .into_iter()
        .enumerate()
        .map(|(i, s)| if i == 12 { Edit::Keep } else { Edit::Open(s) })
        .collect();
    let out = String::from_utf8(d.render(&edits, None).unwrap()).unwrap();
    assert_eq!(
        out,
        "# Example plaintext for veil YAML tests\napp:\n    # trailing\n    name: demo\n    port: 8080\n    ratio: 0.5\n    debug: false\n    started: 2024-01-01T10:00:00Z\n    # list with a comment\n    hosts:\n        - a.example.com\n        # between\n        - b.example.com\n    cert: |\n        -----BEGIN-----\n        abc\n        -----END-----\npassword_unencrypted: visible\n"
    );
}
