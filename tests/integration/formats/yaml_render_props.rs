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
                let kept = kept.map_err(|e| TestCaseError::fail(format!("keep: {e}\n{src}")))?;
                if src.ends_with(['\n', '\r']) {
                    prop_assert_eq!(kept, src.clone().into_bytes());
                } else {
                    // Plaintext ends with a line break; the values stay (a block scalar that
                    // ended the text may change its chomping indicator to keep its value).
                    prop_assert!(kept.ends_with(b"\n"));
                    let back = store.parse(&kept).map_err(|e| TestCaseError::fail(format!("reparse: {e}\n{src}")))?;
                    prop_assert_eq!(leaves(back.docs()), leaves(d.docs()));
                }
            }
            let l = leaves(d.docs());
            let seals: Vec<Edit> = l.iter().enumerate().map(|(i, s)| Edit::Seal(token(i, s))).collect();
            let _ = d.render(&seals, Some(&meta()));
            let opens: Vec<Edit> = l.iter().map(|s| Edit::Open(s.clone())).collect();
            let _ = d.render(&opens, None);
        }
    }
}

fn line() -> impl Strategy<Value = String> {
    let indent = prop::sample::select(vec!["", "", "  ", "    ", "      "]);
    let head = prop::sample::select(vec![
        "a: ",
        "b: ",
        "k1: ",
        "\"q k\": ",
        "- ",
        "- - ",
        "- x: ",
        "? c\n: ",
        "# note",
        "",
        "c:",
        "-",
    ]);
    let value = prop::sample::select(vec![
        "",
        "v",
        "1",
        "0x1F",
        "1.5",
        "true",
        "yes",
        "~",
        "2024-01-01",
        "'s q'",
        "\"d \\\" q\"",
        "[x, y]",
        "{p: 1, r: [2]}",
        "|\n  lit\n  eral",
        "|-\n    strip",
        ">\n  fold\n  ed",
        "&an val",
        "*an",
        "!!str 5",
        "multi\n  plain",
        "\"multi\n  dq\"",
        "[]",
        "{}",
        "é 😀",
    ]);
    let tail = prop::sample::select(vec!["", "", " # t", "  #x"]);
    (indent, head, value, tail).prop_map(|(i, h, v, t)| format!("{i}{h}{v}{t}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn line_soup_seals_and_opens(lines in prop::collection::vec(line(), 1..12), crlf in any::<bool>()) {
        let nl = if crlf { "\r\n" } else { "\n" };
        let src = lines.join(nl) + nl;
        let store = YamlStore::default();
        let Ok(d) = store.parse(src.as_bytes()) else { return Ok(()) };
        let l = leaves(d.docs());
        let kept = d.render(&vec![Edit::Keep; l.len()], None).unwrap();
        prop_assert_eq!(String::from_utf8(kept).unwrap(), src.clone());
        let seals: Vec<Edit> = l.iter().enumerate().map(|(i, s)| Edit::Seal(token(i, s))).collect();
        let enc = d.render(&seals, Some(&meta())).map_err(|e| TestCaseError::fail(format!("seal: {e}\n{src}")))?;
        let e = store.parse(&enc).unwrap();
        let opens: Vec<Edit> = l.iter().map(|s| Edit::Open(s.clone())).collect();
        let dec = e.render(&opens, None).map_err(|er| TestCaseError::fail(format!("open: {er}\n{src}\n---\n{}", String::from_utf8_lossy(&enc))))?;
        let back = store.parse(&dec).unwrap();
        prop_assert_eq!(leaves(back.docs()).len(), l.len());
    }
}

/// Layout choices for writing a tree in many different (valid) YAML styles.
#[derive(Clone, Debug)]
struct Layout {
    step: usize,
    choices: Vec<u8>,
}

struct Writer<'a> {
    l: &'a Layout,
    k: usize,
    out: String,
    nl: &'a str,
}

impl Writer<'_> {
    fn pick(&mut self, n: u8) -> u8 {
        let c = self
            .l
            .choices
            .get(self.k % self.l.choices.len().max(1))
            .copied()
            .unwrap_or(0);
        self.k += 1;
        c % n
    }

    fn dq(s: &str) -> String {
        let mut o = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => o.push_str("\\\""),
                '\\' => o.push_str("\\\\"),
                '\n' => o.push_str("\\n"),
                '\r' => o.push_str("\\r"),
                '\t' => o.push_str("\\t"),
                c if (c as u32) < 0x20
                    || c == '\u{7f}'
                    || c == '\u{85}'
                    || c == '\u{feff}'
                    || c == '\u{2028}' =>
                {
                    o.push_str(&format!("\\u{:04X}", c as u32))
                }
                c => o.push(c),
            }
        }
        o.push('"');
        o
    }

    fn scalar(&mut self, s: &Scalar, indent: usize, flow: bool) -> String {
        match s {
            Scalar::Str(t) => {
                let simple = !t.is_empty()
                    && t.chars().all(|c| c.is_ascii_alphabetic())
                    && !["y", "n", "yes", "no", "true", "null", "on", "off"]
                        .contains(&t.to_ascii_lowercase().as_str());
                let choice = self.pick(4);
                if choice == 0 && simple {
                    t.clone()
                } else if choice == 1
                    && !t.contains(['\n', '\r', '\t', '\''])
                    && t.chars().all(|c| {
                        !c.is_control() && c != '\u{feff}' && c != '\u{2028}' && c != '\u{85}'
                    })
                {
                    format!("'{t}'")
                } else if choice == 2
                    && !flow
                    && t.contains('\n')
                    && !t.starts_with([' ', '\n'])
                    && !t.contains(['\r', '\t'])
                    && !t.contains(" \n")
                    && !t.ends_with(' ')
                    && t.chars().all(|c| {
                        c == '\n'
                            || (!c.is_control()
                                && c != '\u{feff}'
                                && c != '\u{2028}'
                                && c != '\u{85}')
                    })
                {
                    let chomp = if !t.ends_with('\n') {
                        "-"
                    } else if t.ends_with("\n\n") {
                        "+"
                    } else {
                        ""
                    };
                    let body = t.strip_suffix('\n').unwrap_or(t);
                    let pad = " ".repeat(indent + self.l.step);
                    let mut o = format!("|{chomp}");
                    for line in body.split('\n') {
                        o.push_str(self.nl);
                        if !line.is_empty() {
                            o.push_str(&pad);
                            o.push_str(line);
                        }
                    }
                    o
                } else {
                    Self::dq(t)
                }
            }
            Scalar::Int(i) => i.to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Float(f) => f.clone(),
            _ => "x".into(),
        }
    }

    fn flow(&mut self, v: &Value) -> String {
        match v {
            Value::Null => "null".into(),
            Value::Scalar(s) => self.scalar(s, 0, true),
            Value::List(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .filter(|i| !matches!(i, Value::Scalar(Scalar::Comment(_))))
                    .map(|i| self.flow(i))
                    .collect();
                format!("[{}]", parts.join(", "))
            }
            Value::Map(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .filter_map(|i| match i {
                        Item::Entry(k, v) => Some(format!("{k}: {}", self.flow(v))),
                        _ => None,
                    })
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
        }
    }

    fn has_comments(v: &Value) -> bool {
        match v {
            Value::Map(items) => items.iter().any(|i| match i {
                Item::Comment(_) => true,
                Item::Entry(_, v) => Self::has_comments(v),
            }),
            Value::List(items) => items.iter().any(Self::has_comments),
            Value::Scalar(Scalar::Comment(_)) => true,
            _ => false,
        }
    }

    fn value_after_key(&mut self, v: &Value, indent: usize) {
        let nl = self.nl;
        match v {
            Value::Map(items)
                if !items.is_empty() && (Self::has_comments(v) || self.pick(3) != 0) =>
            {
                if self.pick(4) == 0 {
                    self.out.push_str(" # after key");
                }
                self.out.push_str(nl);
                self.block_map(items, indent + self.l.step);
            }
            Value::List(items)
                if !items.is_empty() && (Self::has_comments(v) || self.pick(3) != 0) =>
            {
                self.out.push_str(nl);
                let ind = if self.pick(2) == 0 {
                    indent
                } else {
                    indent + self.l.step
                };
                self.block_seq(items, ind);
            }
            _ => {
                let t = if matches!(v, Value::Scalar(_)) {
                    self.scalar_or_flow(v, indent)
                } else {
                    self.flow(v)
                };
                self.out.push(' ');
                self.out.push_str(&t);
                if self.pick(5) == 0 && !t.contains('\n') {
                    self.out.push_str(" # trailing");
                }
                self.out.push_str(nl);
            }
        }
    }

    fn scalar_or_flow(&mut self, v: &Value, indent: usize) -> String {
        match v {
            Value::Scalar(s) => self.scalar(s, indent, false),
            other => self.flow(other),
        }
    }

    fn block_map(&mut self, items: &[Item], indent: usize) {
        let pad = " ".repeat(indent);
        let nl = self.nl;
        for it in items {
            if self.pick(6) == 0 {
                self.out.push_str(nl);
            }
            match it {
                Item::Comment(Scalar::Comment(c)) => {
                    self.out.push_str(&format!("{pad}#{c}{nl}"));
                }
                Item::Entry(k, v) => {
                    self.out.push_str(&format!("{pad}{k}:"));
                    self.value_after_key(v, indent);
                }
                _ => {}
            }
        }
    }

    fn block_seq(&mut self, items: &[Value], indent: usize) {
        let pad = " ".repeat(indent);
        let nl = self.nl;
        for it in items {
            match it {
                Value::Scalar(Scalar::Comment(c)) => self.out.push_str(&format!("{pad}#{c}{nl}")),
                Value::Map(m) if !m.is_empty() && matches!(m.first(), Some(Item::Entry(..))) => {
                    self.out.push_str(&format!("{pad}- "));
                    let inner = indent + 2;
                    // First entry inline after the dash, the rest aligned with it.
                    let mut first = true;
                    for e in m {
                        match e {
                            Item::Entry(k, v) => {
                                if !first {
                                    self.out.push_str(&" ".repeat(inner));
                                }
                                self.out.push_str(&format!("{k}:"));
                                self.value_after_key(v, inner);
                            }
                            Item::Comment(Scalar::Comment(c)) => {
                                if first {
                                    self.out.push_str(&format!("{}{nl}", "z: 0"));
                                }
                                self.out.push_str(&format!("{}#{c}{nl}", " ".repeat(inner)));
                            }
                            _ => {}
                        }
                        first = false;
                    }
                }
                v => {
                    let t = match v {
                        Value::Map(_) | Value::List(_) => self.flow(v),
                        Value::Null => "~".into(),
                        other => self.scalar_or_flow(other, indent),
                    };
                    self.out.push_str(&format!("{pad}- {t}{nl}"));
                }
            }
        }
    }
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        prop::sample::select(vec![2usize, 3, 4]),
        prop::collection::vec(any::<u8>(), 1..64),
    )
        .prop_map(|(step, choices)| Layout { step, choices })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn varied_layouts_seal_and_open(d in doc(), l in layout(), crlf in any::<bool>()) {
        let nl = if crlf { "\r\n" } else { "\n" };
        let mut w = Writer { l: &l, k: 0, out: String::new(), nl };
        let Value::Map(items) = &d else { unreachable!() };
        w.block_map(items, 0);
        let src = w.out;
        let store = YamlStore::default();
        let parsed = match store.parse(src.as_bytes()) {
            Ok(p) => p,
            Err(e) => return Err(TestCaseError::fail(format!("parse: {e}\n{src}"))),
        };
        let l0 = leaves(parsed.docs());
        let kept = parsed.render(&vec![Edit::Keep; l0.len()], None).unwrap();
        prop_assert_eq!(String::from_utf8(kept).unwrap(), src.clone());
        let seals: Vec<Edit> = l0.iter().enumerate().map(|(i, s)| Edit::Seal(token(i, s))).collect();
        let enc = parsed.render(&seals, Some(&meta())).map_err(|e| TestCaseError::fail(format!("seal: {e}\n{src}")))?;
        let e = store.parse(&enc).unwrap();
        let opens: Vec<Edit> = l0.iter().map(|s| Edit::Open(s.clone())).collect();
        let dec = e.render(&opens, None).map_err(|er| TestCaseError::fail(format!("open: {er}\n{src}\n---\n{}", String::from_utf8_lossy(&enc))))?;
        let back = store.parse(&dec).unwrap();
        prop_assert_eq!(leaves(back.docs()), l0);
    }
}
