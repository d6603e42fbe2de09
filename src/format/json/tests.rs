use super::*;
use crate::format::test_support::plain_of;
use crate::tree::Item;

fn doc(s: &str) -> JsonDoc {
    JsonDoc::parse(s.as_bytes()).unwrap()
}

fn leaves(d: &JsonDoc) -> Vec<Scalar> {
    let mut v = Vec::new();
    walk_leaves(d.docs(), |_, _, s| v.push(s.clone()));
    v
}

fn keep_all(d: &JsonDoc) -> Vec<Edit> {
    vec![Edit::Keep; d.leaves.len()]
}

fn seal_all(d: &JsonDoc) -> Vec<Edit> {
    (0..d.leaves.len())
        .map(|i| Edit::Seal(format!("ENC[AES256_GCM,data:{i},type:x]")))
        .collect()
}

fn open_all(d: &JsonDoc) -> Vec<Edit> {
    leaves(d).into_iter().map(Edit::Open).collect()
}

fn text(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap()
}

fn entry(k: &str, v: Value) -> Item {
    Item::Entry(k.into(), v)
}

/// A metadata tree shaped like the engine's (sops ≤3.12 field order), age `enc` with newlines.
fn meta() -> Value {
    Value::Map(vec![
        entry(
            "age",
            Value::List(vec![Value::Map(vec![
                entry("recipient", Value::str("age1qqqq")),
                entry("enc", Value::str("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n")),
            ])]),
        ),
        entry("lastmodified", Value::str("2026-11-29T00:16:37Z")),
        entry("mac", Value::str("ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]")),
        entry("unencrypted_suffix", Value::str("_unencrypted")),
        entry("version", Value::str("3.11.0")),
    ])
}

fn small_meta() -> Value {
    Value::Map(vec![
        entry("mac", Value::str("M<&>")),
        entry("kms", Value::Null),
        entry("pgp", Value::List(vec![])),
    ])
}

const LAYOUTS: &[&str] = &[
    "{\n\t\"a\": 1,\n\t\"b\": {\n\t\t\"c\": [\n\t\t\t\"x\",\n\t\t\ttrue\n\t\t]\n\t}\n}\n",
    "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": [\"x\", true]\n  }\n}",
    "{\n    \"a\": 1,\n    \"b\": {\"c\": [\"x\", true]}\n}\n\n",
    "{\"a\":1,\"b\":{\"c\":[\"x\",true]}}",
    "{ \"a\" : 1 , \"b\" : { \"c\" : [ \"x\" , true ] } }",
    "{\r\n\t\"a\": 1,\r\n\t\"b\": {\r\n\t\t\"c\": [\"x\", true]\r\n\t}\r\n}\r\n",
    "\n\n  {\"a\": 1, \"b\": {\"c\": [\"x\", true]}}",
    "{\"ünï\": \"cödé ✓ 😀\", \"esc\": \"\\u00e9\\ud83d\\ude00\\n\\\"\\/\", \"big\": 123456789012345678901234567890, \"f\": 1.50, \"e\": -1E-7}",
    "{\"a\": 1, \"a\": 2, \"a\": {\"a\": [1, [2, [3, [], {}]], null]}}",
    "{}",
    "{ }\n",
    "{\"only\": null}",
];

#[test]
fn keep_round_trips_byte_for_byte_plus_a_final_line_break() {
    for src in LAYOUTS {
        let d = doc(src);
        assert_eq!(text(d.render(&keep_all(&d), None).unwrap()), plain_of(src));
    }
}

#[test]
fn seal_all_then_reparse_gives_tokens() {
    for src in LAYOUTS {
        let d = doc(src);
        let out = d.render(&seal_all(&d), None).unwrap();
        let d2 = JsonDoc::parse(&out).unwrap();
        let got = leaves(&d2);
        assert_eq!(got.len(), d.leaves.len(), "{src}");
        for (i, s) in got.iter().enumerate() {
            assert_eq!(
                s,
                &Scalar::Str(format!("ENC[AES256_GCM,data:{i},type:x]")),
                "{src}"
            );
        }
        // Only the leaves changed: the rest of the structure is the same.
        assert_eq!(d2.members.len(), d.members.len());
    }
}

#[test]
fn seal_with_meta_then_open_without_gives_back_the_file() {
    // Canonical layouts (values written as Go writes them) come back byte-for-byte.
    for src in LAYOUTS
        .iter()
        .filter(|s| !s.contains("\\u00e9") && !s.contains("{ }"))
    {
        let d = doc(src);
        let enc = d.render(&seal_all(&d), Some(&meta())).unwrap();
        let e = JsonDoc::parse(&enc).unwrap();
        assert_eq!(e.metadata(), Some(&meta()), "{src}");
        let dec = e.render(&open_all(&d), None).unwrap();
        assert_eq!(text(dec), plain_of(src));
    }
}

#[test]
fn non_canonical_escapes_open_to_the_same_values() {
    let src = LAYOUTS[7];
    let d = doc(src);
    let enc = d.render(&seal_all(&d), None).unwrap();
    let e = JsonDoc::parse(&enc).unwrap();
    let dec = e.render(&open_all(&d), None).unwrap();
    assert!(text(dec.clone()).contains("\"é😀\\n\\\"/\""));
    assert_eq!(leaves(&JsonDoc::parse(&dec).unwrap()), leaves(&d));
}

#[test]
fn meta_is_appended_in_the_files_layout() {
    let d = doc("{\n\t\"a\": \"x\",\n\t\"n\": 1\n}\n");
    let out = text(
        d.render(&[Edit::Keep, Edit::Keep], Some(&small_meta()))
            .unwrap(),
    );
    assert_eq!(
        out,
        "{\n\t\"a\": \"x\",\n\t\"n\": 1,\n\t\"sops\": {\n\t\t\"mac\": \"M\\u003c\\u0026\\u003e\",\n\t\t\"kms\": null,\n\t\t\"pgp\": []\n\t}\n}\n"
    );

    let d = doc("{\n  \"a\": \"x\"\n}");
    let out = text(
        d.render(&[Edit::Seal("T".into())], Some(&small_meta()))
            .unwrap(),
    );
    assert_eq!(out, "{\n  \"a\": \"T\",\n  \"sops\": {\n    \"mac\": \"M\\u003c\\u0026\\u003e\",\n    \"kms\": null,\n    \"pgp\": []\n  }\n}");

    let d = doc("{\"a\":\"x\"}");
    let out = text(
        d.render(&[Edit::Seal("T".into())], Some(&small_meta()))
            .unwrap(),
    );
    assert_eq!(
        out,
        r#"{"a":"T","sops":{"mac":"M\u003c\u0026\u003e","kms":null,"pgp":[]}}"#
    );

    let d = doc("{\"a\": \"x\", \"b\": [1, 2]}");
    let out = text(
        d.render(&[Edit::Keep, Edit::Keep, Edit::Keep], Some(&small_meta()))
            .unwrap(),
    );
    assert_eq!(
        out,
        r#"{"a": "x", "b": [1, 2], "sops": {"mac": "M\u003c\u0026\u003e", "kms": null, "pgp": []}}"#
    );

    let d = doc("{\r\n    \"a\": 1\r\n}\r\n");
    let out = text(d.render(&[Edit::Keep], Some(&small_meta())).unwrap());
    assert_eq!(
        out,
        "{\r\n    \"a\": 1,\r\n    \"sops\": {\r\n        \"mac\": \"M\\u003c\\u0026\\u003e\",\r\n        \"kms\": null,\r\n        \"pgp\": []\r\n    }\r\n}\r\n"
    );
}

#[test]
fn meta_in_an_empty_object() {
    for src in ["{}", "{\n}", " { } "] {
        let d = doc(src);
        let out = text(d.render(&[], Some(&small_meta())).unwrap());
        let want = "{\n\t\"sops\": {\n\t\t\"mac\": \"M\\u003c\\u0026\\u003e\",\n\t\t\"kms\": null,\n\t\t\"pgp\": []\n\t}\n}";
        assert!(out.contains(want), "{out}");
        let back = JsonDoc::parse(out.as_bytes()).unwrap();
        assert_eq!(back.metadata(), Some(&small_meta()));
        assert_eq!(back.docs(), &[Value::Map(vec![])]);
        let plain = text(back.render(&[], None).unwrap());
        assert_eq!(plain.trim(), "{}");
    }
}

#[test]
fn meta_is_replaced_and_moved_last() {
    let old = "\"sops\": {\"mac\": \"old\"}";
    for (src, want) in [
        // Last member: replaced in place.
        (
            format!("{{\n\t\"a\": 1,\n\t{old}\n}}\n"),
            "{\n\t\"a\": 1,\n\t\"sops\": {\n\t\t\"mac\": \"new\"\n\t}\n}\n".to_string(),
        ),
        // First member: removed with its comma, appended last.
        (
            format!("{{\n\t{old},\n\t\"a\": 1\n}}\n"),
            "{\n\t\"a\": 1,\n\t\"sops\": {\n\t\t\"mac\": \"new\"\n\t}\n}\n".to_string(),
        ),
        // Middle member.
        (
            format!("{{\n\t\"a\": 1,\n\t{old},\n\t\"b\": 2\n}}\n"),
            "{\n\t\"a\": 1,\n\t\"b\": 2,\n\t\"sops\": {\n\t\t\"mac\": \"new\"\n\t}\n}\n"
                .to_string(),
        ),
    ] {
        let d = doc(&src);
        assert_eq!(
            d.metadata(),
            Some(&Value::Map(vec![entry("mac", Value::str("old"))]))
        );
        assert_eq!(d.docs()[0].get("sops"), None);
        let m = Value::Map(vec![entry("mac", Value::str("new"))]);
        let out = text(d.render(&keep_all(&d), Some(&m)).unwrap());
        assert_eq!(out, want, "{src}");
    }
}

#[test]
fn meta_is_removed_leaving_valid_json() {
    for (src, want) in [
        (
            "{\n\t\"a\": 1,\n\t\"sops\": {\"mac\": \"x\"}\n}\n",
            "{\n\t\"a\": 1\n}\n",
        ),
        ("{\"sops\": {\"mac\": \"x\"}, \"a\": 1}", "{\"a\": 1}"),
        (
            "{\"a\": 1, \"sops\": {\"mac\": \"x\"}, \"b\": 2}",
            "{\"a\": 1, \"b\": 2}",
        ),
        ("{\n\t\"sops\": {\"mac\": \"x\"}\n}\n", "{}\n"),
    ] {
        let d = doc(src);
        let out = text(d.render(&keep_all(&d), None).unwrap());
        assert_eq!(out, plain_of(want), "{src}");
    }
}

#[test]
fn sops_only_at_the_top_level_is_metadata() {
    let d = doc(r#"{"a": {"sops": "x"}, "sops": {"version": "3.11.0"}}"#);
    assert_eq!(
        d.docs()[0].get("a").and_then(|a| a.get("sops")),
        Some(&Value::str("x"))
    );
    assert_eq!(d.leaves.len(), 1);
    assert!(d.metadata().is_some());
}

#[test]
fn opened_values_are_written_as_json() {
    let d = doc(
        r#"{"a": "x", "b": "x", "c": "x", "d": "x", "e": "x", "f": "x", "g": ["x"], "h": "x"}"#,
    );
    let edits = vec![
        Edit::Open(Scalar::Str("<tag> & \u{2028}\u{1}".into())),
        Edit::Open(Scalar::Int(-42)),
        Edit::Open(Scalar::Float("1.5e10".into())),
        Edit::Open(Scalar::Float("+Inf".into()).clone()).clone(),
        Edit::Open(Scalar::Bool(false)),
        Edit::Open(Scalar::Time("2025-01-02T03:04:05Z".into())),
        Edit::Open(Scalar::Comment(" a comment".into())),
        Edit::Open(Scalar::Raw(vec![b'a', 0xff])),
    ];
    let e = d.render(&edits, None).unwrap_err();
    assert_eq!(e.code, Code::ErrorDumpingTree);
    assert!(e.message.contains(r#"["d"]"#), "{}", e.message);
    let mut edits = edits;
    edits[3] = Edit::Open(Scalar::Float(".5".into()));
    let out = text(d.render(&edits, None).unwrap());
    assert_eq!(
        out,
        concat!(
            r#"{"a": "\u003ctag\u003e \u0026 \u2028\u0001", "b": -42, "c": 1.5e10, "d": 0.5, "e": false, "f": "2025-01-02T03:04:05Z", "g": [" a comment"], "h": "a�"}"#,
            "\n"
        )
    );
}

#[test]
fn wrong_edit_count_is_an_error() {
    let d = doc(r#"{"a": 1}"#);
    assert!(d.render(&[], None).is_err());
    assert!(d.render(&[Edit::Keep, Edit::Keep], None).is_err());
}

#[test]
fn store_parse_errors_use_code_2() {
    let s = JsonStore;
    for bad in [&b""[..], b"[1]", b"{\"a\":", b"nul", b"\xff\xfe"] {
        assert_eq!(
            s.parse(bad).err().map(|e| e.code),
            Some(Code::CouldNotReadInputFile)
        );
    }
}

#[test]
fn emit_matches_sops_layout() {
    // The layout sops 3.x writes (Go json.Indent with a tab, `": "`, `null` for empty key-group
    // lists, `\n` escapes in enc, final newline).
    let d = Value::Map(vec![
        entry(
            "foo",
            Value::str("ENC[AES256_GCM,data:fvD/,iv:k3M=,tag:Fez==,type:str]"),
        ),
        Item::Comment(Scalar::Comment(" map comments are dropped".into())),
        entry("n", Value::Scalar(Scalar::Int(3))),
        entry("f", Value::Scalar(Scalar::Float("1e21".into()))),
        entry(
            "list",
            Value::List(vec![
                Value::Scalar(Scalar::Comment(" kept".into())),
                Value::Null,
                Value::List(vec![]),
            ]),
        ),
        entry("empty", Value::Map(vec![])),
    ]);
    let m = Value::Map(vec![
        entry(
            "key_groups",
            Value::List(vec![Value::Map(vec![
                entry("hc_vault", Value::Null),
                entry("age", Value::Null),
            ])]),
        ),
        entry("lastmodified", Value::str("2026-05-22T20:16:18Z")),
        entry("mac", Value::str("ENC[AES256_GCM,data:5IS=,type:str]")),
        entry(
            "pgp",
            Value::List(vec![Value::Map(vec![
                entry("created_at", Value::str("2026-05-22T20:16:08Z")),
                entry(
                    "enc",
                    Value::str(
                        "-----BEGIN PGP MESSAGE-----\n\nwcBM\n=7UUe\n-----END PGP MESSAGE-----",
                    ),
                ),
                entry("fp", Value::str("FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4")),
            ])]),
        ),
        entry("shamir_threshold", Value::Scalar(Scalar::Int(1))),
        entry("version", Value::str("3.11.0")),
    ]);
    let out = text(
        JsonStore
            .emit(&[d], Some(&m), &EmitOptions::default())
            .unwrap(),
    );
    let want = r#"{
	"foo": "ENC[AES256_GCM,data:fvD/,iv:k3M=,tag:Fez==,type:str]",
	"n": 3,
	"f": 1e21,
	"list": [
		" kept",
		null,
		[]
	],
	"empty": {},
	"sops": {
		"key_groups": [
			{
				"hc_vault": null,
				"age": null
			}
		],
		"lastmodified": "2026-05-22T20:16:18Z",
		"mac": "ENC[AES256_GCM,data:5IS=,type:str]",
		"pgp": [
			{
				"created_at": "2026-05-22T20:16:08Z",
				"enc": "-----BEGIN PGP MESSAGE-----\n\nwcBM\n=7UUe\n-----END PGP MESSAGE-----",
				"fp": "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"
			}
		],
		"shamir_threshold": 1,
		"version": "3.11.0"
	}
}
"#;
    assert_eq!(out, want);
    // What veil emits, veil reads back to the same tree.
    let back = JsonDoc::parse(out.as_bytes()).unwrap();
    assert_eq!(back.metadata(), Some(&m));
}

#[test]
fn emit_indent_options_and_floats() {
    let d = Value::Map(vec![
        entry(
            "a",
            Value::List(vec![
                Value::Scalar(Scalar::Float("1e-7".into())),
                Value::Scalar(Scalar::Float("3.0".into())),
            ]),
        ),
        entry("b", Value::Scalar(Scalar::Float(".25".into()))),
        entry("c", Value::Scalar(Scalar::Float("1.5E+21".into()))),
        entry("d", Value::Scalar(Scalar::Float("+1e22".into()))),
    ]);
    let two = text(
        JsonStore
            .emit(
                std::slice::from_ref(&d),
                None,
                &EmitOptions { indent: Some(2) },
            )
            .unwrap(),
    );
    assert_eq!(two, "{\n  \"a\": [\n    1e-7,\n    3.0\n  ],\n  \"b\": 0.25,\n  \"c\": 1.5E+21,\n  \"d\": 1e+22\n}\n");
    let zero = text(
        JsonStore
            .emit(
                std::slice::from_ref(&d),
                None,
                &EmitOptions { indent: Some(0) },
            )
            .unwrap(),
    );
    assert_eq!(
        zero,
        "{\n\"a\": [\n1e-7,\n3.0\n],\n\"b\": 0.25,\n\"c\": 1.5E+21,\n\"d\": 1e+22\n}\n"
    );
    let nan = Value::Map(vec![entry(
        "x",
        Value::Scalar(Scalar::Float(".nan".into())),
    )]);
    assert_eq!(
        JsonStore
            .emit(&[nan], None, &EmitOptions::default())
            .unwrap_err()
            .code,
        Code::ErrorDumpingTree
    );
    assert_eq!(
        text(JsonStore.emit(&[], None, &EmitOptions::default()).unwrap()),
        "{}\n"
    );
    let list = Value::List(vec![]);
    assert_eq!(
        JsonStore
            .emit(&[list], Some(&small_meta()), &EmitOptions::default())
            .unwrap_err()
            .code,
        Code::ErrorDumpingTree
    );
}

#[test]
fn emit_value_like_sops_extract() {
    let o = EmitOptions::default();
    let s = JsonStore;
    assert_eq!(
        s.emit_value(&Value::Scalar(Scalar::Int(3)), &o).unwrap(),
        b"3"
    );
    assert_eq!(
        s.emit_value(&Value::Scalar(Scalar::Bool(true)), &o)
            .unwrap(),
        b"true"
    );
    assert_eq!(s.emit_value(&Value::str("a\"b"), &o).unwrap(), b"a\"b");
    assert_eq!(s.emit_value(&Value::Null, &o).unwrap(), b"null");
    let l = Value::List(vec![Value::Scalar(Scalar::Int(1)), Value::str("x")]);
    assert_eq!(text(s.emit_value(&l, &o).unwrap()), "[\n\t1,\n\t\"x\"\n]");
    let m = Value::Map(vec![entry("k", Value::str("v"))]);
    assert_eq!(
        text(s.emit_value(&m, &o).unwrap()),
        "{\n\t\"k\": \"v\"\n}\n"
    );
}

#[test]
fn many_keys_render_linearly() {
    // Not timed: checks correctness at size (10,000 keys) with every leaf sealed.
    let mut src = String::from("{\n");
    for i in 0..10_000 {
        src.push_str(&format!("\t\"key{i}\": \"value {i}\",\n"));
    }
    src.push_str("\t\"last\": 1\n}\n");
    let d = doc(&src);
    let out = d.render(&seal_all(&d), Some(&meta())).unwrap();
    let back = JsonDoc::parse(&out).unwrap();
    assert_eq!(back.leaves.len(), 10_001);
    assert_eq!(back.metadata(), Some(&meta()));
}

#[test]
fn own_leaf_walk_matches_walk_leaves() {
    let d = Value::Map(vec![
        Item::Comment(Scalar::Comment(" c".into())),
        entry(
            "a",
            Value::List(vec![
                Value::str("x"),
                Value::Null,
                Value::Map(vec![entry("b", Value::Scalar(Scalar::Int(1)))]),
            ]),
        ),
        entry("z", Value::Scalar(Scalar::Bool(true))),
    ]);
    let docs = [d.clone(), d];
    let mut want = Vec::new();
    walk_leaves(&docs, |_, _, s| want.push(s));
    assert_eq!(leaves_in_walk_order(&docs, 0), want);
}

#[test]
fn deepest_accepted_nesting_also_passes_the_check() {
    let depth = MAX_DEPTH - 1;
    let src = format!("{{\"a\": {}\"x\"{}}}", "[".repeat(depth), "]".repeat(depth));
    let d = doc(&src);
    assert_eq!(text(d.render(&keep_all(&d), None).unwrap()), plain_of(&src));
    let out = d.render(&seal_all(&d), Some(&meta())).unwrap();
    assert_eq!(JsonDoc::parse(&out).unwrap().metadata(), Some(&meta()));
}
