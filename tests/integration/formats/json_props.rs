//! Property tests for the JSON and binary stores: random documents in random layouts round-trip
//! byte-for-byte, sealing and opening (with metadata added and removed) gives the file back,
//! and no input — random bytes, truncated or corrupted JSON — makes the parser panic.

use proptest::prelude::*;
use veil::format::binary::BinaryStore;
use veil::format::json::JsonStore;
use veil::format::{Edit, Parsed, Store};
use veil::tree::{walk_leaves, Item, Scalar, Value};

/// How a generated document is laid out.
#[derive(Clone, Debug)]
struct Layout {
    newline: &'static str,
    unit: String,
    colon: &'static str,
    after_comma: &'static str,
    /// Escape every non-ASCII character as `\uXXXX` (not Go's canonical form).
    escape_all: bool,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        prop_oneof![Just("\n"), Just("\r\n"), Just("")],
        prop_oneof![
            Just("\t".to_string()),
            Just("  ".to_string()),
            Just("    ".to_string()),
            Just(String::new())
        ],
        prop_oneof![Just(": "), Just(":"), Just(" : ")],
        prop_oneof![Just(""), Just(" ")],
        prop::bool::weighted(0.2),
    )
        .prop_map(|(newline, unit, colon, after_comma, escape_all)| Layout {
            newline,
            unit,
            colon,
            after_comma,
            escape_all,
        })
}

/// A JSON string literal written independently of veil's writer. With `go` escaping it is the
/// form Go's encoding/json writes (so an opened value comes back byte-identical).
fn quote(s: &str, escape_all: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if escape_all && !c.is_ascii() => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn ser(v: &Value, l: &Layout, depth: usize, out: &mut String) {
    let indent = |out: &mut String, d: usize| {
        if !l.newline.is_empty() {
            out.push_str(l.newline);
            for _ in 0..d {
                out.push_str(&l.unit);
            }
        }
    };
    let comma = |out: &mut String| {
        out.push(',');
        if l.newline.is_empty() {
            out.push_str(l.after_comma);
        }
    };
    match v {
        Value::Null => out.push_str("null"),
        Value::Scalar(Scalar::Str(s)) => quote(s, l.escape_all, out),
        Value::Scalar(Scalar::Int(i)) => out.push_str(&i.to_string()),
        Value::Scalar(Scalar::Float(f)) => out.push_str(f),
        Value::Scalar(Scalar::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        Value::Scalar(_) => unreachable!("not generated"),
        Value::List(items) if items.is_empty() => out.push_str("[]"),
        Value::List(items) => {
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    comma(out);
                }
                indent(out, depth + 1);
                ser(it, l, depth + 1, out);
            }
            indent(out, depth);
            out.push(']');
        }
        Value::Map(items) if items.is_empty() => out.push_str("{}"),
        Value::Map(items) => {
            out.push('{');
            for (i, it) in items.iter().enumerate() {
                let Item::Entry(k, v) = it else {
                    unreachable!()
                };
                if i > 0 {
                    comma(out);
                }
                indent(out, depth + 1);
                quote(k, l.escape_all, out);
                out.push_str(l.colon);
                ser(v, l, depth + 1, out);
            }
            indent(out, depth);
            out.push('}');
        }
    }
}

fn float_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (any::<i32>(), 0..100_000u32).prop_map(|(a, b)| format!("{a}.{b}")),
        (-999..999i32, -30..30i32, any::<bool>())
            .prop_map(|(m, e, big)| format!("{m}{}{e}", if big { "E" } else { "e" })),
        "-?[1-9][0-9]{19,35}",
        (1..9u8, 1..300u32).prop_map(|(m, e)| format!("{m}.5e-{e}")),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-z_]{1,8}", 1 => any::<String>()]
        .prop_filter("not the metadata key", |k| k != "sops")
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => any::<String>().prop_map(Value::str),
        2 => any::<i64>().prop_map(|i| Value::Scalar(Scalar::Int(i))),
        2 => float_text().prop_map(|f| Value::Scalar(Scalar::Float(f))),
        1 => any::<bool>().prop_map(|b| Value::Scalar(Scalar::Bool(b))),
        1 => Just(Value::Null),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::List),
            prop::collection::vec((key(), inner), 0..5).prop_map(|kv| Value::Map(
                kv.into_iter().map(|(k, v)| Item::Entry(k, v)).collect()
            )),
        ]
    })
}

fn top() -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), tree()), 0..6)
        .prop_map(|kv| Value::Map(kv.into_iter().map(|(k, v)| Item::Entry(k, v)).collect()))
}

fn meta() -> Value {
    Value::Map(vec![
        Item::Entry(
            "age".into(),
            Value::List(vec![Value::Map(vec![
                Item::Entry("recipient".into(), Value::str("age1xyz")),
                Item::Entry("enc".into(), Value::str("-----BEGIN AGE ENCRYPTED FILE-----\nAB<&>\n-----END AGE ENCRYPTED FILE-----\n")),
            ])]),
        ),
        Item::Entry("kms".into(), Value::Null),
        Item::Entry("lastmodified".into(), Value::str("2026-11-29T00:16:37Z")),
        Item::Entry("shamir_threshold".into(), Value::Scalar(Scalar::Int(2))),
        Item::Entry("mac_only_encrypted".into(), Value::Scalar(Scalar::Bool(true))),
        Item::Entry("version".into(), Value::str("3.11.0")),
    ])
}

fn leaves(p: &dyn Parsed) -> Vec<Scalar> {
    let mut v = Vec::new();
    walk_leaves(p.docs(), |_, _, s| v.push(s.clone()));
    v
}

/// `out` is `src` as plaintext: the same bytes, plus a line break when `src` ends without one.
fn is_plain_of(out: &[u8], src: &[u8]) -> bool {
    if src.ends_with(b"\n") || src.ends_with(b"\r") {
        return out == src;
    }
    out.strip_prefix(src)
        .is_some_and(|rest| rest == b"\n" || rest == b"\r\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn documents_round_trip(doc in top(), l in layout(), pad in "[ \t\r\n]{0,3}") {
        let mut text = pad.clone();
        ser(&doc, &l, 0, &mut text);
        text.push_str(&pad);
        let p = JsonStore.parse(text.as_bytes()).unwrap();
        prop_assert_eq!(p.docs(), std::slice::from_ref(&doc));
        prop_assert!(p.metadata().is_none());
        let n = leaves(p.as_ref()).len();

        // Keep everything: byte-for-byte, with a final line break (plaintext ends with one).
        let keep = vec![Edit::Keep; n];
        prop_assert!(is_plain_of(&p.render(&keep, None).unwrap(), text.as_bytes()));

        // Seal everything and add metadata: tokens and metadata read back.
        let seal: Vec<Edit> = (0..n).map(|i| Edit::Seal(format!("ENC[AES256_GCM,data:{i},type:str]"))).collect();
        let enc = p.render(&seal, Some(&meta())).unwrap();
        let e = JsonStore.parse(&enc).unwrap();
        prop_assert_eq!(e.metadata(), Some(&meta()));
        let got = leaves(e.as_ref());
        prop_assert_eq!(got.len(), n);
        for (i, s) in got.iter().enumerate() {
            prop_assert_eq!(s, &Scalar::Str(format!("ENC[AES256_GCM,data:{i},type:str]")));
        }

        // Open with the original values and drop the metadata: the original file (exactly,
        // when its strings were escaped the way Go escapes them).
        let open: Vec<Edit> = leaves(p.as_ref()).into_iter().map(Edit::Open).collect();
        let dec = e.render(&open, None).unwrap();
        let back = JsonStore.parse(&dec).unwrap();
        prop_assert_eq!(back.docs(), p.docs());
        prop_assert!(back.metadata().is_none());
        let object_empty = matches!(&doc, Value::Map(items) if items.is_empty());
        if !l.escape_all && !object_empty {
            prop_assert!(is_plain_of(&dec, text.as_bytes()), "{:?}", String::from_utf8_lossy(&dec));
        }
    }

    #[test]
    fn corrupted_json_never_panics(doc in top(), l in layout(), cut in any::<prop::sample::Index>(),
                                   flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4)) {
        let mut text = String::new();
        ser(&doc, &l, 0, &mut text);
        let mut bytes = text.into_bytes();
        for (at, b) in flips {
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
        }
        let end = cut.index(bytes.len() + 1);
        for input in [&bytes[..], &bytes[..end]] {
            if let Ok(p) = JsonStore.parse(input) {
                let n = leaves(p.as_ref()).len();
                // Whatever veil accepts, it can write back (serde_json agrees it is JSON).
                let out = p.render(&vec![Edit::Keep; n], None).unwrap();
                if p.metadata().is_none() {
                    prop_assert!(is_plain_of(&out, input));
                }
                p.render(&vec![Edit::Seal("T".into()); n], Some(&meta())).unwrap();
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        for store in [&JsonStore as &dyn Store, &BinaryStore] {
            if let Ok(p) = store.parse_encrypted(&bytes) {
                let n = leaves(p.as_ref()).len();
                let _ = p.render(&vec![Edit::Keep; n], None);
            }
        }
        let mut braced = b"{\"k\": ".to_vec();
        braced.extend_from_slice(&bytes);
        let _ = JsonStore.parse(&braced);
    }

    #[test]
    fn binary_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let p = BinaryStore.parse(&bytes).unwrap();
        prop_assert_eq!(p.render(&[Edit::Keep], None).unwrap(), bytes.clone());
        let enc = p.render(&[Edit::Seal("ENC[AES256_GCM,data:x,type:str]".into())], Some(&meta())).unwrap();
        let e = BinaryStore.parse_encrypted(&enc).unwrap();
        prop_assert_eq!(e.metadata(), Some(&meta()));
        let opened = Scalar::from_plaintext("str", bytes.clone()).unwrap();
        prop_assert_eq!(e.render(&[Edit::Open(opened)], None).unwrap(), bytes);
    }
}
