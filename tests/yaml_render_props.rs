//! Property tests of lossless rendering: seal/open cycles over emitted layouts, and arbitrary
//! YAML-like text never panics and always round-trips when left unedited.

use proptest::prelude::*;
use veil::format::yaml::YamlStore;
use veil::format::{Edit, EmitOptions, Store};
use veil::tree::{walk_leaves, Item, Scalar, Value};

fn leaves(docs: &[Value]) -> Vec<Scalar> {
    let mut out = vec![];
    walk_leaves(docs, |_, _, s| out.push(s.clone()));
    out
}

fn token(i: usize, s: &Scalar) -> String {
    format!(
        "ENC[AES256_GCM,data:AbC{i}+/=,iv:Iv{i}==,tag:Tg{i}==,type:{}]",
        s.type_name()
    )
}

fn text() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "a",
        "b",
        " ",
        ":",
        ": ",
        "#",
        " #",
        "-",
        "'",
        "\"",
        "\\",
        "\n",
        "\t",
        "é",
        "😀",
        "\u{1}",
        "[",
        "]",
        ",",
        "{",
        "}",
        "!",
        "&",
        "*",
        "?",
        "|",
        ">",
        "~",
        "0",
        "7",
        ".",
        "true",
        "null",
        "yes",
        "123",
        "1.5",
        "2024-01-01",
        "---",
    ]);
    prop::collection::vec(atoms, 0..5).prop_map(|v| v.concat())
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => text().prop_map(Value::str),
        1 => any::<i64>().prop_map(|i| Value::Scalar(Scalar::Int(i))),
        1 => any::<bool>().prop_map(|b| Value::Scalar(Scalar::Bool(b))),
        1 => Just(Value::Scalar(Scalar::Float("1.5".into()))),
        1 => Just(Value::Null),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            (
                prop::collection::vec(("[a-z]{1,4}", inner.clone()), 1..5),
                "[ a-z]{0,6}"
            )
                .prop_map(|(entries, c)| {
                    let mut seen = std::collections::HashSet::new();
                    let mut items: Vec<Item> = entries
                        .into_iter()
                        .filter(|(k, _)| seen.insert(k.clone()))
                        .map(|(k, v)| Item::Entry(k, v))
                        .collect();
                    items.insert(items.len() / 2, Item::Comment(Scalar::Comment(c)));
                    Value::Map(items)
                }),
            prop::collection::vec(inner, 0..5).prop_map(Value::List),
        ]
    })
}

fn doc() -> impl Strategy<Value = Value> {
    prop::collection::vec(("[a-z]{1,5}", tree()), 1..5).prop_map(|entries| {
        let mut seen = std::collections::HashSet::new();
        Value::Map(
            entries
                .into_iter()
                .filter(|(k, _)| k != "sops" && seen.insert(k.clone()))
                .map(|(k, v)| Item::Entry(k, v))
                .collect(),
        )
    })
}

fn meta() -> Value {
    Value::Map(vec![
        Item::Entry("kms".into(), Value::List(vec![])),
        Item::Entry(
            "age".into(),
            Value::List(vec![Value::Map(vec![
                Item::Entry("recipient".into(), Value::str("age1xyz")),
                Item::Entry(
                    "enc".into(),
                    Value::str("-----BEGIN-----\nabc\n-----END-----\n"),
                ),
            ])]),
        ),
        Item::Entry("lastmodified".into(), Value::str("2026-01-01T00:00:00Z")),
        Item::Entry("version".into(), Value::str("3.11.0")),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn seal_and_open_cycle(docs in prop::collection::vec(doc(), 1..3), indent in prop::option::of(2usize..5)) {
        let store = YamlStore::default();
        let src = store.emit(&docs, None, &EmitOptions { indent }).unwrap();
        let text = String::from_utf8(src.clone()).unwrap();
        let plain = store.parse(&src).unwrap();
        let orig = leaves(plain.docs());
        let seals: Vec<Edit> = orig.iter().enumerate().map(|(i, s)| Edit::Seal(token(i, s))).collect();
        let m = meta();
        let enc = plain.render(&seals, Some(&m)).map_err(|e| TestCaseError::fail(format!("seal: {e}\n{text}")))?;
        let enc_doc = store.parse(&enc).unwrap();
        prop_assert_eq!(enc_doc.metadata(), Some(&m));
        let got = leaves(enc_doc.docs());
        prop_assert_eq!(got.len(), orig.len());
        for (i, (g, o)) in got.iter().zip(&orig).enumerate() {
            let want = if o.is_comment() { Scalar::Comment(token(i, o)) } else { Scalar::Str(token(i, o)) };
            prop_assert_eq!(g, &want);
        }
        let opens: Vec<Edit> = orig.iter().map(|s| Edit::Open(s.clone())).collect();
        let dec = enc_doc.render(&opens, None).map_err(|e| TestCaseError::fail(format!("open: {e}\n{text}")))?;
        let back = store.parse(&dec).unwrap();
        prop_assert_eq!(leaves(back.docs()), orig);
        prop_assert!(back.metadata().is_none());
    }

    #[test]
    fn arbitrary_text_never_panics(parts in prop::collection::vec(prop::sample::select(vec![
        "a", "b: ", "c:", "\n", "\r\n", "  ", "- ", "? ", ": ", "#", " # c", "'", "\"", "|", "|-", "|+", ">",
        "&x ", "*x", "!!str ", "!t ", "[", "]", "{", "}", ", ", "---\n", "...\n", "\t", "1", "0x1F", "~",
        "é", "😀", "sops:", "%YAML 1.2\n", "<<: ",
    ]), 0..40)) {
        let src = parts.concat();
        let store = YamlStore::default();
        if let Ok(d) = store.parse(src.as_bytes()) {
            let n = leaves(d.docs()).len();
            let kept = d.render(&vec![Edit::Keep; n], None);
            if d.metadata().is_none() {
                prop_assert_eq!(kept.ok(), Some(src.clone().into_bytes()));
            }
            let l = leaves(d.docs());
            let seals: Vec<Edit> = l.iter().enumerate().map(|(i, s)| Edit::Seal(token(i, s))).collect();
            let _ = d.render(&seals, Some(&meta()));
            let opens: Vec<Edit> = l.iter().map(|s| Edit::Open(s.clone())).collect();
            let _ = d.render(&opens, None);
        }
    }
}
