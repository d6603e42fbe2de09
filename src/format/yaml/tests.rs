//! Unit tests of the YAML store: lossless round trips, sealing and opening, typing, comment
//! placement, metadata, errors, and fresh emission.

use super::*;
use crate::error::Code;
use crate::format::test_support::{leaves, plain_of};
use crate::tree::{Item, Scalar, Value};

fn doc(src: &str) -> YamlDocument {
    match YamlDocument::parse(src.as_bytes()) {
        Ok(d) => d,
        Err(e) => panic!("parse failed: {e}\n---\n{src}"),
    }
}

fn keep_all(d: &YamlDocument) -> Vec<Edit> {
    vec![Edit::Keep; leaves(d).len()]
}

fn token(i: usize, s: &Scalar) -> String {
    format!(
        "ENC[AES256_GCM,data:d{i}==,iv:i{i}/+=,tag:t{i}==,type:{}]",
        s.type_name()
    )
}

fn seal_all(d: &YamlDocument) -> Vec<Edit> {
    leaves(d)
        .iter()
        .enumerate()
        .map(|(i, (_, s))| Edit::Seal(token(i, s)))
        .collect()
}

fn render(d: &YamlDocument, edits: &[Edit], meta: Option<&Value>) -> String {
    match d.render(edits, meta) {
        Ok(b) => String::from_utf8(b).unwrap(),
        Err(e) => panic!("render failed: {e}"),
    }
}

fn err_code(src: &str) -> Code {
    match YamlDocument::parse(src.as_bytes()) {
        Ok(_) => panic!("expected an error for:\n{src}"),
        Err(e) => e.code,
    }
}

const LAYOUTS: &[&str] = &[
    "a: 1\nb: two\n",
    "a: 1\nb: two",
    "# head\na: 1 # trailing\n\n\n# between\nb:\n    c: x\n    # foot\nd: [1, 'two', \"three\", {k: v}]\n",
    "a:\n  b:\n    - x\n    - y: z\n      w: |\n        lit\n        eral\n    - >-\n      folded\n      text\n",
    "k: |+\n  keep\n\n\nz: 1\n",
    "k: |-\n  strip\nz: |2\n    two-indented\n  x\n",
    "\"quoted key\": 'single'\n'k2': \"double \\\" esc\"\n? complex\n: value\n",
    "a: 1\r\nb:\r\n  - x\r\n  - 'y'\r\nc: |\r\n  l1\r\n  l2\r\n",
    "ü: ñ ✓ 😀\nemoji: \"\\U0001F600\"\n",
    "base: &b\n  x: 1\n  y: [a, b]\nref: *b\ns: &s scalar\nt: *s\n<<: *b\n",
    "---\na: 1\n...\n---\nb: 2\n# tail\n",
    "%YAML 1.2\n---\na: !!str 12\nb: !custom x\nc: !!binary aGk=\n",
    "a: plain\n  continued\n  # not a comment? yes it is\nb: \"multi\n  line\"\n",
    "list:\n- a\n- b   # c\n-   - nested\n    - seq\n",
    "empty_map: {}\nempty_list: []\nnull1:\nnull2: ~\nstr: ''\n",
    "   a: indented root\n   b: 2\n",
    "a: {x: 1, y: [2, 3]}   # flow\nb: [\n  1, # one\n  2\n  ]\n",
    "t: 2024-01-01\nf: 1.50\ni: 0x1F\nb: True\ny: yes\n",
];

#[test]
fn keep_round_trips_byte_for_byte_plus_a_final_line_break() {
    for src in LAYOUTS {
        let d = doc(src);
        assert_eq!(
            render(&d, &keep_all(&d), None),
            plain_of(src),
            "layout:\n{src}"
        );
    }
}

#[test]
fn seal_reads_back_as_tokens_and_open_restores() {
    for src in LAYOUTS {
        let d = doc(src);
        let orig = leaves(&d);
        let sealed = render(&d, &seal_all(&d), None);
        let d2 = doc(&sealed);
        let got = leaves(&d2);
        assert_eq!(got.len(), orig.len(), "layout:\n{src}\nsealed:\n{sealed}");
        for (i, ((p1, s1), (p2, s2))) in orig.iter().zip(&got).enumerate() {
            assert_eq!(p1, p2, "path of leaf {i} in\n{sealed}");
            let t = token(i, s1);
            match s1 {
                Scalar::Comment(_) => assert_eq!(s2, &Scalar::Comment(t)),
                _ => assert_eq!(s2, &Scalar::Str(t)),
            }
        }
        // Open with the original values.
        let opens: Vec<Edit> = orig.iter().map(|(_, s)| Edit::Open(s.clone())).collect();
        let opened = render(&d2, &opens, None);
        let d3 = doc(&opened);
        let back = leaves(&d3);
        assert_eq!(back.len(), orig.len());
        for ((p1, s1), (p2, s2)) in orig.iter().zip(&back) {
            assert_eq!(p1, p2);
            let mut path = vec![];
            assert!(
                verify::value_eq(
                    &Value::Scalar(s1.clone()),
                    &Value::Scalar(s2.clone()),
                    &mut path
                ),
                "{p1} differs after open:\n{opened}"
            );
        }
    }
}

#[test]
fn seal_then_open_restores_plain_and_quoted_lines_exactly() {
    let src = "# c\na: plain\nb: 'single'\nc: \"double\"\nml: \"two\\nlines\\t\"\nd: 12\ne: 1.5\nf: true\ng: 2024-01-01T00:00:00Z\nl:\n    - x # t\n    - \"y\"\nm: {k: v, n: 3}\n";
    let d = doc(src);
    let orig = leaves(&d);
    let sealed = render(&d, &seal_all(&d), None);
    let d2 = doc(&sealed);
    let opens: Vec<Edit> = orig.iter().map(|(_, s)| Edit::Open(s.clone())).collect();
    assert_eq!(render(&d2, &opens, None), src);
}

#[test]
fn sealed_layout_is_natural() {
    let src = "a: x # c\nb: |\n  one\n  two\nc: [p, 'q']\nd: !!int 5\n# own line\n";
    let d = doc(src);
    let out = render(&d, &seal_all(&d), None);
    let l = leaves(&d);
    assert_eq!(l.len(), 7);
    let t = |i: usize| token(i, &l[i].1);
    let expect = format!(
        "a: {} #{}\nb: {}\nc: [\"{}\", '{}']\nd: {}\n#{}\n",
        t(0),
        t(1),
        t(2),
        t(3),
        t(4),
        t(5),
        t(6)
    );
    assert_eq!(out, expect);
}

#[test]
fn typing_matches_go_yaml() {
    let d = doc(
        "b1: true\nb2: FALSE\ns1: yes\ns2: 'true'\ni1: 0x1F\ni2: 0o17\ni3: -12\nf1: .inf\nf2: 1e3\nf3: 1.50\n\
         t1: 2024-01-01\nt2: 2025-01-02 03:04:05.123\nq: \"2024-01-01\"\nn1: null\nn2: ~\nn3:\nst: !!str 12\n",
    );
    let l: Vec<Scalar> = leaves(&d).into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        l,
        vec![
            Scalar::Bool(true),
            Scalar::Bool(false),
            Scalar::Str("yes".into()),
            Scalar::Str("true".into()),
            Scalar::Int(31),
            Scalar::Int(15),
            Scalar::Int(-12),
            Scalar::Float("+Inf".into()),
            Scalar::Float("1e3".into()),
            Scalar::Float("1.50".into()),
            Scalar::Time("2024-01-01T00:00:00Z".into()),
            Scalar::Time("2025-01-02T03:04:05.123Z".into()),
            Scalar::Str("2024-01-01".into()),
            Scalar::Str("12".into()),
        ]
    );
    let Value::Map(items) = &d.docs()[0] else {
        panic!()
    };
    assert_eq!(
        items
            .iter()
            .filter(|i| matches!(i, Item::Entry(_, Value::Null)))
            .count(),
        3
    );
}

#[test]
fn errors_have_sops_codes() {
    assert_eq!(err_code(""), Code::NeedAtLeastOneDocument);
    assert_eq!(err_code("  \n\n"), Code::NeedAtLeastOneDocument);
    assert_eq!(err_code("# only a comment\n"), Code::CouldNotReadInputFile);
    assert_eq!(err_code("- a\n- b\n"), Code::CouldNotReadInputFile);
    assert_eq!(err_code("just a scalar\n"), Code::CouldNotReadInputFile);
    assert_eq!(err_code("a: 1\na: 2\n"), Code::CouldNotReadInputFile);
    assert_eq!(err_code("a: 1\n\"a\": 2\n"), Code::CouldNotReadInputFile);
    assert_eq!(err_code("1: x\n"), Code::ErrorEncryptingTree);
    assert_eq!(err_code("true: x\n"), Code::ErrorEncryptingTree);
    assert_eq!(
        err_code("a: 18446744073709551615\n"),
        Code::ErrorEncryptingTree
    );
    assert_eq!(err_code("a: [1\n"), Code::CouldNotReadInputFile);
    assert_eq!(err_code("a: *nope\n"), Code::CouldNotReadInputFile);
    let e = YamlDocument::parse(b"a: secretvalue\na: 2\n")
        .err()
        .unwrap();
    assert!(
        e.message
            .contains("mapping key \"a\" already defined at line 1"),
        "{}",
        e.message
    );
    assert!(!e.message.contains("secretvalue"));
    let e = YamlDocument::parse(b"- a\n").err().unwrap();
    assert!(e.message.contains("cannot unmarshal !!seq into map"));
    assert!(e.hint.is_some());
    doc("\"1\": x\n");
}

#[test]
fn comment_placement() {
    let d = doc("# top\na:\n  # head of b\n  b: 1 # line of b\n  # foot of a\n# head of c\nc:\n- x # line of x\n# in list\n- y\n");
    let l = leaves(&d);
    let got: Vec<(String, String)> = l
        .iter()
        .map(|(p, s)| {
            let t = match s {
                Scalar::Comment(c) => format!("#{c}"),
                Scalar::Int(i) => i.to_string(),
                Scalar::Str(s) => s.clone(),
                _ => "?".into(),
            };
            (p.clone(), t)
        })
        .collect();
    let want: Vec<(String, String)> = [
        (":", "# top"),
        ("a:", "# head of b"),
        ("a:b:", "1"),
        ("a:", "# line of b"),
        ("a:", "# foot of a"),
        (":", "# head of c"),
        ("c:", "x"),
        ("c:", "# line of x"),
        ("c:", "# in list"),
        ("c:", "y"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn aliases_expand_and_render_as_flow_copies() {
    let src = "base: &b\n  x: 1\n  y: [a, b]\nref: *b\n";
    let d = doc(src);
    let l = leaves(&d);
    let paths: Vec<&str> = l.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        vec!["base:x:", "base:y:", "base:y:", "ref:x:", "ref:y:", "ref:y:"]
    );
    let out = render(&d, &seal_all(&d), None);
    assert!(out.contains("ref: {x: \"ENC[AES256_GCM,data:d3=="), "{out}");
    assert!(out.starts_with("base: &b\n  x: ENC["), "{out}");
    // Editing only the anchor also expands the alias, so it keeps its old values.
    let mut edits = keep_all(&d);
    edits[0] = Edit::Open(Scalar::Int(7));
    let out = render(&d, &edits, None);
    assert_eq!(
        out,
        // `y` is a boolean to YAML 1.1 readers: written as a key, it is quoted.
        "base: &b\n  x: 7\n  y: [a, b]\nref: {x: 1, \"y\": [a, b]}\n"
    );
}

fn sample_meta() -> Value {
    Value::Map(vec![
        Item::Entry(
            "age".into(),
            Value::List(vec![Value::Map(vec![
                Item::Entry("recipient".into(), Value::str("age1umr8xyz")),
                Item::Entry(
                    "enc".into(),
                    Value::str("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n"),
                ),
            ])]),
        ),
        Item::Entry("lastmodified".into(), Value::str("2026-11-29T00:16:37Z")),
        Item::Entry("mac".into(), Value::str("ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]")),
        Item::Entry("unencrypted_suffix".into(), Value::str("_unencrypted")),
        Item::Entry("version".into(), Value::str("3.11.0")),
    ])
}

const META_4: &str = "sops:
    age:
        - recipient: age1umr8xyz
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            YWdl
            -----END AGE ENCRYPTED FILE-----
    lastmodified: \"2026-11-29T00:16:37Z\"
    mac: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]
    unencrypted_suffix: _unencrypted
    version: 3.11.0
";

#[test]
fn metadata_block_is_rendered_like_sops() {
    let src = "a: 1\n";
    let d = doc(src);
    let m = sample_meta();
    let out = render(&d, &keep_all(&d), Some(&m));
    assert_eq!(out, format!("a: 1\n{META_4}"));
    // Reading it back gives the metadata and removes it from the documents.
    let d2 = doc(&out);
    assert_eq!(d2.metadata(), Some(&m));
    assert_eq!(d2.docs(), d.docs());
    // Removing it gives the original back.
    assert_eq!(render(&d2, &keep_all(&d2), None), src);
    // Replacing it keeps one block.
    let out2 = render(&d2, &keep_all(&d2), Some(&m));
    assert_eq!(out2, out);
}

#[test]
fn metadata_uses_the_file_indent_and_goes_in_every_document() {
    let src = "a:\n  b: 1\n---\nc: 2\n\n";
    let d = doc(src);
    let m = Value::Map(vec![
        Item::Entry("kms".into(), Value::List(vec![])),
        Item::Entry("mac".into(), Value::str("x")),
    ]);
    let out = render(&d, &keep_all(&d), Some(&m));
    assert_eq!(
        out,
        "a:\n  b: 1\nsops:\n  kms: []\n  mac: x\n---\nc: 2\n\nsops:\n  kms: []\n  mac: x\n"
    );
    let d2 = doc(&out);
    assert_eq!(render(&d2, &keep_all(&d2), None), src);
}

#[test]
fn metadata_read_accepts_sops_variants() {
    let src = "sops:\n  version: 3.13.0\n  mac: ENC[x]\n  kms: []\n  lastmodified: '2026-01-01T00:00:00Z'\na: 1\n";
    let d = doc(src);
    let m = d.metadata().unwrap();
    assert_eq!(m.get("version").and_then(Value::as_str), Some("3.13.0"));
    assert_eq!(
        m.get("lastmodified").and_then(Value::as_str),
        Some("2026-01-01T00:00:00Z")
    );
    assert_eq!(m.get("kms"), Some(&Value::List(vec![])));
    assert_eq!(leaves(&d).len(), 1);
    assert_eq!(render(&d, &keep_all(&d), None), "a: 1\n");
}

#[test]
fn crlf_is_kept_in_inserted_text() {
    let src = "a: 1\r\nb: x\r\n";
    let d = doc(src);
    let m = Value::Map(vec![Item::Entry("mac".into(), Value::str("x"))]);
    let mut edits = keep_all(&d);
    edits[1] = Edit::Open(Scalar::Str("l1\nl2".into()));
    let out = render(&d, &edits, Some(&m));
    assert_eq!(
        out,
        "a: 1\r\nb: |-\r\n    l1\r\n    l2\r\nsops:\r\n    mac: x\r\n"
    );
}

#[test]
fn list_comment_elements_become_comment_lines() {
    let src = "l:\n    - ENC[AES256_GCM,data:x,iv:y,tag:z,type:comment]\n    - v\n";
    let d = doc(src);
    let edits = vec![Edit::Open(Scalar::Comment(" hello".into())), Edit::Keep];
    let out = render(&d, &edits, None);
    assert_eq!(out, "l:\n    # hello\n    - v\n");
}

#[test]
fn opened_values_use_natural_styles() {
    let src = "a: x\nb: x\nc: x\nd: x\ne: x\nf: [x]\ng: x\n";
    let d = doc(src);
    let edits = vec![
        Edit::Open(Scalar::Str("true".into())),
        Edit::Open(Scalar::Str("multi\nline\n".into())),
        Edit::Open(Scalar::Float("3".into())),
        Edit::Open(Scalar::Str("a: b".into())),
        Edit::Open(Scalar::Str(" lead\nx".into())),
        Edit::Open(Scalar::Str("p, q".into())),
        Edit::Open(Scalar::Time("2024-01-01T00:00:00Z".into())),
    ];
    let out = render(&d, &edits, None);
    assert_eq!(
        out,
        "a: \"true\"\nb: |\n    multi\n    line\nc: 3.0\nd: 'a: b'\ne: \" lead\\nx\"\nf: ['p, q']\ng: 2024-01-01T00:00:00Z\n"
    );
}

#[test]
fn emit_value_of_scalars() {
    let st = YamlStore::default();
    let o = EmitOptions::default();
    assert_eq!(
        st.emit_value(&Value::Scalar(Scalar::Int(3)), &o).unwrap(),
        b"3\n"
    );
    assert_eq!(st.emit_value(&Value::str("s"), &o).unwrap(), b"s");
    assert_eq!(
        st.emit_value(&Value::Scalar(Scalar::Bool(true)), &o)
            .unwrap(),
        b"true\n"
    );
}

#[test]
fn emit_with_meta_and_indent() {
    let st = YamlStore::default();
    let docs = vec![Value::Map(vec![Item::Entry(
        "a".into(),
        Value::List(vec![Value::str("x")]),
    )])];
    let out = st
        .emit(
            &docs,
            Some(&sample_meta()),
            &EmitOptions { indent: Some(2) },
        )
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with("a:\n  - x\nsops:\n  age:\n    - recipient: age1umr8xyz\n      enc: |\n        -----BEGIN"), "{out}");
    let d = doc(&out);
    assert_eq!(d.docs(), &docs[..]);
    assert_eq!(d.metadata(), Some(&sample_meta()));
}

#[test]
fn flow_root_map_is_written_in_block_style_with_metadata() {
    // Tools find a sops file by its top-level `sops:` line; sops writes every document in
    // block style.
    let src = "# head\n{a: 1, b: [x] # t\n}\n";
    let d = doc(src);
    let m = Value::Map(vec![
        Item::Entry("kms".into(), Value::List(vec![])),
        Item::Entry("enc".into(), Value::str("l1\nl2\n")),
    ]);
    let out = render(&d, &seal_all(&d), Some(&m));
    assert!(out.starts_with("#ENC[AES256_GCM,data:d0==,"), "{out}");
    assert!(
        out.contains("\nb:\n    - ENC[AES256_GCM,data:d2==,"),
        "{out}"
    );
    assert!(out.contains("\nsops:\n    kms: []\n    enc: |\n"), "{out}");
    let d2 = doc(&out);
    assert_eq!(d2.metadata(), Some(&m));
    let opens: Vec<Edit> = leaves(&d).into_iter().map(|(_, s)| Edit::Open(s)).collect();
    assert_eq!(
        render(&d2, &opens, None),
        "# head\na: 1\nb:\n    - x\n    # t\n"
    );
    // Text around the root stays; an empty root map becomes the `sops:` entry alone, and
    // decrypting that gives `{}` back (as sops does).
    let out = render(&doc("--- {}\n...\n"), &[], Some(&m));
    assert_eq!(
        out,
        "--- \nsops:\n    kms: []\n    enc: |\n        l1\n        l2\n...\n"
    );
    assert_eq!(render(&doc(&out), &[], None), "--- \n{}\n...\n");
}

#[test]
fn metadata_edge_layouts_round_trip() {
    let m = Value::Map(vec![Item::Entry("mac".into(), Value::str("x"))]);
    for src in [
        "a: 1",
        "a: 1\n\n\n",
        "\u{feff}a: 1\n",
        "a: 1\n---\n",
        "---\n---\na: 1\n",
        "a: 1\n...\n",
        "a: 1\n# tail comment\n",
        "a: |+\n  keep\n\n",
        "# c\n---\nb: 2\n",
        "  a:\n      b: 1\n",
    ] {
        let d = doc(src);
        let out = render(&d, &keep_all(&d), Some(&m));
        let d2 = doc(&out);
        assert_eq!(d2.metadata(), Some(&m), "{out}");
        assert_eq!(d2.docs(), d.docs(), "{out}");
        // A document that held only the metadata decrypts to `{}`, as sops writes it.
        let want = match src {
            "a: 1\n---\n" => "a: 1\n---\n{}\n".to_string(),
            "---\n---\na: 1\n" => "---\n{}\n---\na: 1\n".to_string(),
            _ => plain_of(src),
        };
        assert_eq!(render(&d2, &keep_all(&d2), None), want, "from:\n{out}");
    }
}

#[test]
fn sops_block_anywhere_is_metadata() {
    let src = "sops:\n    mac: x # note\n    # inner\n    version: 3.11.0\n# top comment\na: 1\n";
    let d = doc(src);
    assert_eq!(leaves(&d).len(), 2);
    assert_eq!(
        d.metadata()
            .and_then(|m| m.get("version"))
            .and_then(Value::as_str),
        Some("3.11.0")
    );
    assert_eq!(render(&d, &keep_all(&d), None), "# top comment\na: 1\n");
}

#[test]
fn hostile_inputs_are_errors_not_panics() {
    let laughs = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    assert_eq!(err_code(laughs), Code::CouldNotReadInputFile);
    let deep = format!("a: {}{}\n", "[".repeat(5000), "]".repeat(5000));
    assert_eq!(err_code(&deep), Code::CouldNotReadInputFile);
    assert_eq!(err_code("a: &x [*x]\n"), Code::CouldNotReadInputFile);
    let _ = YamlDocument::parse(b"\xff\xfe");
}

#[test]
fn full_cycle_restores_a_typical_file() {
    let src = "# Database settings\ndatabase:\n  host: db.example.com  # primary\n  port: 5432\n  password: 'hunter2'\n  enabled: true\n  ratio: 0.75\n\n# Keys\nkeys:\n  - id: one\n    secret: \"s3cr3t\"\n  - id: two\n    secret: |\n      multi\n      line\n  # trailing list comment\nexpires: 2030-01-01T00:00:00Z\n";
    let d = doc(src);
    let orig = leaves(&d);
    let m = sample_meta();
    let enc = render(&d, &seal_all(&d), Some(&m));
    let d2 = doc(&enc);
    assert_eq!(d2.metadata(), Some(&m));
    let opens: Vec<Edit> = orig.iter().map(|(_, s)| Edit::Open(s.clone())).collect();
    let dec = render(&d2, &opens, None);
    assert_eq!(dec, src);
}

#[test]
fn verification_rejects_output_that_reads_back_differently() {
    let d = doc("a: 1\nb: [x]\n");
    let keep = keep_all(&d);
    assert!(verify::verify(&d.ix, &keep, None, "a: 1\nb: [x]\n").is_ok());
    for bad in [
        "a: 2\nb: [x]\n",
        "a: 1\nb: [x, y]\n",
        "a: 1\nc: [x]\n",
        "a: '1'\nb: [x]\n",
        "a: 1\nb: [x]\n---\nc: 1\n",
    ] {
        let e = verify::verify(&d.ix, &keep, None, bad).unwrap_err();
        assert_eq!(e.code, Code::ErrorDumpingTree, "{bad}");
        assert!(!e.message.contains('x'.to_string().repeat(2).as_str()));
    }
    let sealed = vec![Edit::Seal("ENC[t]".into()), Edit::Keep];
    assert!(verify::verify(&d.ix, &sealed, None, "a: ENC[t]\nb: [x]\n").is_ok());
    assert!(verify::verify(&d.ix, &sealed, None, "a: ENC[u]\nb: [x]\n").is_err());
    let m = Value::Map(vec![Item::Entry("mac".into(), Value::str("x"))]);
    assert!(verify::verify(&d.ix, &keep, Some(&m), "a: 1\nb: [x]\n").is_err());
    assert!(verify::verify(&d.ix, &keep, Some(&m), "a: 1\nb: [x]\nsops:\n  mac: x\n").is_ok());
}

#[test]
fn sealing_odd_scalars_gives_one_plain_line() {
    let src = "a: !!str\nb: multi\n  line plain\nc: \"multi\n  line quoted\"\nd: >\n  folded\n  text\n\ne: {x: [p, {y: q}]}\n&k key: &v val\nf: *v\n";
    let d = doc(src);
    let l = leaves(&d);
    let out = render(&d, &seal_all(&d), None);
    let t = |i: usize| token(i, &l[i].1);
    let expect = format!(
        "a: {}\nb: {}\nc: \"{}\"\nd: {}\n\ne: {{x: [\"{}\", {{y: \"{}\"}}]}}\n&k key: &v {}\nf: {}\n",
        t(0),
        t(1),
        t(2),
        t(3),
        t(4),
        t(5),
        t(6),
        t(7)
    );
    assert_eq!(out, expect);
    // Only the anchored value sealed: the alias keeps its old value.
    let mut edits = keep_all(&d);
    edits[6] = Edit::Seal("ENC[t]".into());
    let out = render(&d, &edits, None);
    assert!(out.ends_with("&k key: &v ENC[t]\nf: val\n"), "{out}");
    // Opening the folded text gives a literal block.
    let d2 = doc(&render(&d, &seal_all(&d), None));
    let opens: Vec<Edit> = l.iter().map(|(_, s)| Edit::Open(s.clone())).collect();
    let back = render(&d2, &opens, None);
    assert!(back.contains("d: |\n    folded text\n"), "{back}");
    assert!(
        back.starts_with("a: \"\"\nb: multi line plain\nc: \"multi line quoted\"\n"),
        "{back}"
    );
}

#[test]
fn four_space_files_and_tabs_in_values() {
    let src = "top:\n    mid:\n        - a\n        - b: \"t\\tab\"\n    list:\n    -   x\n";
    let d = doc(src);
    assert_eq!(render(&d, &keep_all(&d), None), src);
    assert_eq!(render::detect_unit(&d.ix), 4);
    let sealed = render(&d, &seal_all(&d), None);
    let d2 = doc(&sealed);
    let opens: Vec<Edit> = leaves(&d).into_iter().map(|(_, s)| Edit::Open(s)).collect();
    assert_eq!(render(&d2, &opens, None), src);
}

#[test]
fn scalar_and_alias_roots_are_rejected() {
    assert_eq!(err_code("--- |\n  text\n"), Code::CouldNotReadInputFile);
    assert_eq!(err_code("a: 1\n--- 5\n"), Code::CouldNotReadInputFile);
    assert_eq!(err_code("a: 1\n---\n- x\n"), Code::CouldNotReadInputFile);
    assert_eq!(err_code("? [a]\n: b\n"), Code::ErrorEncryptingTree);
}

#[test]
fn first_comment_of_a_compact_nested_list_opens_on_its_own_line() {
    let src = "a:\n- - ENC[AES256_GCM,data:x,iv:y,tag:z,type:comment]\n  - y\n- z\n";
    let d = doc(src);
    let edits = vec![
        Edit::Open(Scalar::Comment(" c".into())),
        Edit::Keep,
        Edit::Keep,
    ];
    let out = render(&d, &edits, None);
    assert_eq!(out, "a:\n-\n  # c\n  - y\n- z\n");
    let l = leaves(&doc(&out));
    assert_eq!(l[0], ("a:".to_string(), Scalar::Comment(" c".into())));
}

#[test]
fn block_scalars_at_the_end_of_a_file_without_a_line_break_read_as_yaml_says() {
    // Checked against go-yaml (sops 3.11) and PyYAML: the last line adds no line break when
    // the file has none after it (saphyr-parser adds one; the parser takes it back out).
    for (src, want) in [
        ("m: |\n  multi\n  line", "multi\nline"),
        ("m: |+\n  multi\n  line", "multi\nline"),
        ("m: >\n  multi\n  line", "multi line"),
        ("m: |-\n  multi\n  line", "multi\nline"),
        ("m: |\n  multi\n  line\n", "multi\nline\n"),
        ("m: |\n  multi\n  line\n  ", "multi\nline\n"),
        ("m: |+\n  multi\n  line\n  ", "multi\nline\n"),
        ("m: |+\n  multi\n  line\n\n  ", "multi\nline\n\n"),
        ("m: |\n  multi\n  line\n   ", "multi\nline\n "),
        ("m: |+\n  multi\n  line\n ", "multi\nline\n"),
        ("m: >+1\n  multi\n  line", " multi\n line"),
        ("m: |2+\n  multi\n  line\n  ", "multi\nline\n"),
        ("m: |+\n  ", ""),
        ("m: |+\n\n  ", "\n"),
        ("m: |", ""),
        ("l:\n  - |+\n    x\n    ", "x\n"),
        ("a:\n  b: >\n    x\n\n    y", "x\ny"),
    ] {
        let d = doc(src);
        let got = leaves(&d).pop().map(|(_, s)| s);
        assert_eq!(got, Some(Scalar::Str(want.into())), "{src:?}");
    }
}

#[test]
fn an_unsealed_block_scalar_at_the_end_keeps_its_value_when_text_follows() {
    // Metadata goes after it, and decrypted text ends with a line break: a kept block scalar
    // that ran to the end of the file is rewritten so that its value does not change.
    let m = Value::Map(vec![Item::Entry("mac".into(), Value::str("x"))]);
    for (src, header) in [
        ("a: 1\nm: |\n  x\n  y", "m: |-\n"),
        ("a: 1\nm: |+2\n  x\n  y", "m: |2-\n"),
        ("a: 1\nm: >\n  x\n  y", "m: >-\n"),
        ("a: 1\nm: |+\n  x\n  ", "m: |+\n"),
        ("a: 1\nl:\n  - |+\n    x\n   ", "  - |+\n"),
        ("a: 1\nm: |\n  x\n  ", "m: |\n"),
    ] {
        let d = doc(src);
        let want = leaves(&d);
        let out = render(&d, &keep_all(&d), Some(&m));
        assert!(out.contains(header), "{src:?}:\n{out}");
        let d2 = doc(&out);
        assert_eq!(leaves(&d2), want, "{src:?}:\n{out}");
        assert_eq!(d2.metadata(), Some(&m));
        let plain = render(&d, &keep_all(&d), None);
        assert!(plain.ends_with('\n'), "{plain:?}");
        assert_eq!(leaves(&doc(&plain)), want, "{src:?}:\n{plain}");
    }
}

#[test]
fn files_with_metadata_inside_a_flow_root_still_decrypt() {
    // Older veil versions wrote `{…, sops: {…}}` for a flow-style top-level map.
    for (src, want) in [
        ("{a: \"ENC[x]\", sops: {mac: y}}", "{a: \"ENC[x]\"}\n"),
        ("{sops: {mac: y}, a: 1}\n", "{a: 1}\n"),
        ("{\n  a: 1,\n  sops: {mac: y}\n}\n", "{\n  a: 1\n}\n"),
    ] {
        let d = doc(src);
        assert!(d.metadata().is_some(), "{src}");
        assert_eq!(render(&d, &keep_all(&d), None), want, "{src}");
    }
}
