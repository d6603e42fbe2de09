//! The JSON store against the fixtures in `testdata/json/` (see its README): lossless
//! round trips, metadata added and removed in each file's layout, sops's encrypted layout
//! reproduced byte-for-byte, and `emit` matching sops's layout.

use std::path::PathBuf;

use veil::format::json::JsonStore;
use veil::format::{Edit, EmitOptions, Parsed, Store};
use veil::tree::{walk_leaves, Item, Scalar, Value};

fn fixture(name: &str) -> Vec<u8> {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "testdata", "json", name]
        .iter()
        .collect();
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn leaves(p: &dyn Parsed) -> Vec<Scalar> {
    let mut v = Vec::new();
    walk_leaves(p.docs(), |_, _, s| v.push(s.clone()));
    v
}

fn meta() -> Value {
    Value::Map(vec![
        Item::Entry("lastmodified".into(), Value::str("2026-11-29T00:16:37Z")),
        Item::Entry(
            "mac".into(),
            Value::str("ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]"),
        ),
        Item::Entry("version".into(), Value::str("3.11.0")),
    ])
}

const PLAIN: &[&str] = &[
    "layout_tab.json",
    "layout_2space_no_final_newline.json",
    "layout_4space_crlf.json",
    "compact.json",
    "compact_spaced.json",
    "unicode_escapes.json",
    "numbers.json",
    "duplicates_nested.json",
    "empty_object.json",
];

/// Files whose values are not all written the way Go writes them (`\u00e9`, `-0`), so opening
/// gives the same values but not the same bytes.
const NON_CANONICAL: &[&str] = &["unicode_escapes.json", "numbers.json"];

#[test]
fn plaintext_fixtures_round_trip() {
    for name in PLAIN {
        let src = fixture(name);
        let p = JsonStore.parse(&src).unwrap();
        assert!(p.metadata().is_none(), "{name}");
        let orig = leaves(p.as_ref());
        // Plaintext ends with a line break, as sops writes it.
        let mut want = src.clone();
        if !want.ends_with(b"\n") {
            want.push(b'\n');
        }
        assert_eq!(
            p.render(&vec![Edit::Keep; orig.len()], None).unwrap(),
            want,
            "{name}"
        );

        let seal: Vec<Edit> = (0..orig.len())
            .map(|i| Edit::Seal(format!("ENC[AES256_GCM,data:{i},type:str]")))
            .collect();
        let enc = p.render(&seal, Some(&meta())).unwrap();
        let e = JsonStore.parse(&enc).unwrap();
        assert_eq!(e.metadata(), Some(&meta()), "{name}");
        // The layout is the file's: CRLF files get CRLF metadata, compact files stay on a line.
        let text = String::from_utf8(enc.clone()).unwrap();
        if text.contains("\r\n") {
            assert!(
                !text.replace("\r\n", "").contains('\n'),
                "{name}: mixed newlines\n{text}"
            );
        }
        if !String::from_utf8_lossy(&src).trim_end().contains('\n') && name != &"empty_object.json"
        {
            assert!(
                !text.trim_end().contains('\n'),
                "{name}: compact file became multi-line\n{text}"
            );
        }

        let open: Vec<Edit> = orig.iter().cloned().map(Edit::Open).collect();
        let dec = e.render(&open, None).unwrap();
        let back = JsonStore.parse(&dec).unwrap();
        assert_eq!(back.docs(), p.docs(), "{name}");
        if !NON_CANONICAL.contains(name) {
            assert_eq!(
                String::from_utf8_lossy(&dec),
                String::from_utf8_lossy(&want),
                "{name}"
            );
        }
    }
}

/// A second object after the first: sops drops it on encrypt (so it would vanish, or stay in
/// plaintext next to encrypted values); veil refuses the file.
#[test]
fn content_after_the_object_is_refused() {
    let e = match JsonStore.parse(&fixture("trailing_content.json")) {
        Err(e) => e,
        Ok(_) => panic!("trailing content was accepted"),
    };
    assert_eq!(e.code.exit_code(), 2);
    assert!(
        e.message.contains("after the top-level object"),
        "{}",
        e.message
    );
}

#[test]
fn typing_of_fixture_values() {
    let p = JsonStore.parse(&fixture("numbers.json")).unwrap();
    let d = &p.docs()[0];
    let s = |k: &str| match d.get(k) {
        Some(Value::Scalar(s)) => s.clone(),
        other => panic!("{k}: {other:?}"),
    };
    assert_eq!(s("int"), Scalar::Int(42));
    assert_eq!(s("negative_zero"), Scalar::Int(0));
    assert_eq!(s("max"), Scalar::Int(i64::MAX));
    assert_eq!(s("beyond_i64"), Scalar::Float("9223372036854775808".into()));
    assert_eq!(
        s("thirty_digits"),
        Scalar::Float("123456789012345678901234567890".into())
    );
    assert_eq!(s("fraction"), Scalar::Float("1.50".into()));
    assert_eq!(s("exponent"), Scalar::Float("1E+21".into()));

    let u = JsonStore.parse(&fixture("unicode_escapes.json")).unwrap();
    assert_eq!(
        u.docs()[0].get("escaped"),
        Some(&Value::str("é😀 \"q\" \\ / \u{8}\u{c}\n\r\t \u{1}"))
    );
    assert_eq!(
        u.docs()[0].get("seps"),
        Some(&Value::str("\u{2028}\u{2029}"))
    );

    let d = JsonStore.parse(&fixture("duplicates_nested.json")).unwrap();
    let Value::Map(items) = &d.docs()[0] else {
        panic!()
    };
    assert_eq!(
        items
            .iter()
            .filter(|i| matches!(i, Item::Entry(k, _) if k == "a"))
            .count(),
        2
    );
}

#[test]
fn sops_layout_is_reproduced_exactly() {
    for name in [
        "encrypted_age_sops_layout.json",
        "encrypted_key_groups_sops_layout.json",
    ] {
        let src = fixture(name);
        let p = JsonStore.parse(&src).unwrap();
        let meta = p.metadata().cloned().expect("metadata");
        let n = leaves(p.as_ref()).len();
        // Re-writing the same metadata (as updatekeys would) changes nothing.
        assert_eq!(
            String::from_utf8_lossy(&p.render(&vec![Edit::Keep; n], Some(&meta)).unwrap()),
            String::from_utf8_lossy(&src),
            "{name}"
        );
        // A fresh emission of the same tree is what sops writes too.
        let fresh = JsonStore
            .emit(p.docs(), Some(&meta), &EmitOptions::default())
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&fresh),
            String::from_utf8_lossy(&src),
            "{name}"
        );
        // Removing it leaves valid JSON with the same data.
        let plain = p.render(&vec![Edit::Keep; n], None).unwrap();
        let back = JsonStore.parse(&plain).unwrap();
        assert!(back.metadata().is_none());
        assert_eq!(back.docs(), p.docs());
    }
    let p = JsonStore
        .parse(&fixture("encrypted_key_groups_sops_layout.json"))
        .unwrap();
    let m = p.metadata().unwrap();
    assert_eq!(
        m.get("shamir_threshold"),
        Some(&Value::Scalar(Scalar::Int(2)))
    );
    assert_eq!(
        m.get("mac_only_encrypted"),
        Some(&Value::Scalar(Scalar::Bool(true)))
    );
    assert_eq!(
        m.get("encrypted_regex"),
        Some(&Value::str("^(secret|data)$&<>"))
    );
    let Some(Value::List(groups)) = m.get("key_groups") else {
        panic!()
    };
    assert_eq!(groups[0].get("age"), Some(&Value::Null));
    // The list comment sops wrote as an element is a plain string to the JSON store.
    let a = JsonStore
        .parse(&fixture("encrypted_age_sops_layout.json"))
        .unwrap();
    let first = leaves(a.as_ref()).into_iter().nth(2).unwrap();
    assert!(matches!(first, Scalar::Str(s) if s.ends_with("type:comment]")));
}

#[test]
fn emit_reproduces_sops_plaintext_layout() {
    let src = fixture("layout_tab.json");
    let p = JsonStore.parse(&src).unwrap();
    let out = JsonStore
        .emit(p.docs(), None, &EmitOptions::default())
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&src));
}
