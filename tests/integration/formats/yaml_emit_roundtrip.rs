//! Property test: any tree written by the YAML store's `emit` reads back as the same tree.

use proptest::prelude::*;
use veil::format::yaml::YamlStore;
use veil::format::{EmitOptions, Store};
use veil::tree::{format_time_go, go_format_float, parse_go_float, Item, Scalar, Value};

fn text() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "a",
        "b",
        "Z",
        " ",
        "  ",
        ":",
        ": ",
        "#",
        " #",
        "-",
        "- ",
        "'",
        "\"",
        "\\",
        "\n",
        "\n\n",
        "\t",
        "é",
        "✓",
        "😀",
        "\u{1}",
        "\r",
        "\r\n",
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
        "%",
        "@",
        "`",
        "~",
        "0",
        "7",
        ".",
        "+",
        "e",
        "y",
        "n",
        "true",
        "null",
        "yes",
        "on",
        "123",
        "1.5",
        "0x1F",
        "2024-01-01",
        "<<",
        "---",
        "...",
        "\u{85}",
        "\u{2028}",
        "\u{feff}",
        "\u{7f}",
        "ENC[x]",
        "=",
    ]);
    prop::collection::vec(atoms, 0..6).prop_map(|v| v.concat())
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z_]{1,8}",
        1 => text(),
    ]
}

fn comment() -> impl Strategy<Value = String> {
    "[ a-zA-Z0-9:#'\"-]{0,12}"
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => text().prop_map(Value::str),
        1 => any::<i64>().prop_map(|i| Value::Scalar(Scalar::Int(i))),
        1 => any::<bool>().prop_map(|b| Value::Scalar(Scalar::Bool(b))),
        1 => prop_oneof![
            any::<f64>(),
            Just(0.5),
            Just(3.0),
            Just(-0.0),
            Just(1e21),
            Just(f64::INFINITY),
            Just(f64::NAN)
        ]
        .prop_map(|f| Value::Scalar(Scalar::Float(go_format_float(f)))),
        1 => (0i64..4_000_000_000, 0u32..1_000_000_000, -14i8..=14, prop::sample::select(vec![0i8, 30, 45]))
            .prop_map(|(secs, nanos, h, m)| {
                let off = time::UtcOffset::from_hms(h, if h < 0 { -m } else { m }, 0).unwrap();
                let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap()
                    .replace_nanosecond(nanos).unwrap()
                    .to_offset(off);
                Value::Scalar(Scalar::Time(format_time_go(t)))
            }),
        1 => Just(Value::Null),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            (
                prop::collection::vec((key(), inner.clone()), 0..5),
                prop::collection::vec((0usize..6, comment()), 0..3)
            )
                .prop_map(|(entries, comments)| Value::Map(map_items(entries, comments))),
            (
                prop::collection::vec(inner, 0..5),
                prop::collection::vec((0usize..6, comment()), 0..3)
            )
                .prop_map(|(items, comments)| {
                    let mut items = items;
                    if !items.is_empty() {
                        for (at, c) in comments {
                            let at = at.min(items.len());
                            items.insert(at, Value::Scalar(Scalar::Comment(c)));
                        }
                    }
                    Value::List(items)
                }),
        ]
    })
}

fn map_items(entries: Vec<(String, Value)>, comments: Vec<(usize, String)>) -> Vec<Item> {
    let mut seen = std::collections::HashSet::new();
    let mut items: Vec<Item> = entries
        .into_iter()
        .filter(|(k, _)| seen.insert(k.clone()))
        .map(|(k, v)| Item::Entry(k, v))
        .collect();
    if !items.is_empty() {
        for (at, c) in comments {
            let at = at.min(items.len());
            items.insert(at, Item::Comment(Scalar::Comment(c)));
        }
    }
    items
}

fn doc() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec((key(), tree()), 0..6),
        prop::collection::vec((0usize..6, comment()), 0..3),
    )
        .prop_map(|(entries, comments)| {
            let entries = entries.into_iter().filter(|(k, _)| k != "sops").collect();
            Value::Map(map_items(entries, comments))
        })
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Scalar(Scalar::Float(x)), Value::Scalar(Scalar::Float(y))) => {
            let (x, y) = (parse_go_float(x).unwrap(), parse_go_float(y).unwrap());
            (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|(p, q)| match (p, q) {
                    (Item::Entry(k1, v1), Item::Entry(k2, v2)) => k1 == k2 && same(v1, v2),
                    (p, q) => p == q,
                })
        }
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn emitted_trees_read_back(docs in prop::collection::vec(doc(), 1..3), indent in prop::option::of(0usize..11)) {
        let store = YamlStore::default();
        let out = store.emit(&docs, None, &EmitOptions { indent }).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        let parsed = store.parse(&out).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(parsed.docs().len(), docs.len(), "{}", text);
        for (a, b) in docs.iter().zip(parsed.docs()) {
            prop_assert!(same(a, b), "tree changed:\n{}\n{:?}\n{:?}", text, a, b);
        }
    }
}
