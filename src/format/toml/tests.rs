use super::render::{data_only, meta_matches};
use super::*;
use crate::error::Code;
use crate::format::test_support::{leaves, shown};
use crate::format::Edit;
use crate::tree::{walk_leaves, Item};

fn parse(s: &str) -> Box<dyn Parsed> {
    TomlStore.parse(s.as_bytes()).unwrap()
}

fn seal_all(p: &dyn Parsed) -> Vec<Edit> {
    leaves(p)
        .iter()
        .enumerate()
        .map(|(i, (_, s))| {
            if s.is_empty_text() {
                Edit::Keep
            } else {
                Edit::Seal(format!(
                    "ENC[AES256_GCM,data:T{i}=,iv:x,tag:y,type:{}]",
                    s.type_name()
                ))
            }
        })
        .collect()
}

fn originals(p: &dyn Parsed) -> Vec<Edit> {
    leaves(p).into_iter().map(|(_, s)| Edit::Open(s)).collect()
}

const VECTOR: &str = r#"# Service configuration
title = "example"   # trailing
port = 8080
ratio = 1.50
enabled = true
launched = 1979-05-27T07:32:00Z
birthday = 1979-05-27
alarm = 07:32:00
path = 'C:\Users\app'
quote = "say \"hi\"\tnow"
cert = """
-----BEGIN CERT-----
abc
-----END CERT-----
"""
list = [
  "a", # first
  1,
]
point = { x = 1, y = "two" }
dotted.key = "v"
empty = ""

# database
[database]
password = "hunter2"

[[servers]]
name = "alpha"

[[servers]]
name = "beta"
"#;

#[test]
fn maps_to_the_tree() {
    let p = parse(VECTOR);
    let s = |x: &str| Scalar::Str(x.into());
    let c = |x: &str| Scalar::Comment(x.into());
    assert_eq!(
        shown(leaves(p.as_ref())),
        shown(vec![
            (":".into(), c(" Service configuration")),
            ("title:".into(), s("example")),
            (":".into(), c(" trailing")),
            ("port:".into(), Scalar::Int(8080)),
            ("ratio:".into(), Scalar::Float("1.50".into())),
            ("enabled:".into(), Scalar::Bool(true)),
            (
                "launched:".into(),
                Scalar::Time("1979-05-27T07:32:00Z".into())
            ),
            ("birthday:".into(), s("1979-05-27")),
            ("alarm:".into(), s("07:32:00")),
            ("path:".into(), s("C:\\Users\\app")),
            ("quote:".into(), s("say \"hi\"\tnow")),
            (
                "cert:".into(),
                s("-----BEGIN CERT-----\nabc\n-----END CERT-----\n")
            ),
            ("list:".into(), s("a")),
            ("list:".into(), c(" first")),
            ("list:".into(), Scalar::Int(1)),
            ("point:x:".into(), Scalar::Int(1)),
            ("point:y:".into(), s("two")),
            ("dotted:key:".into(), s("v")),
            ("empty:".into(), s("")),
            (":".into(), c(" database")),
            ("database:password:".into(), s("hunter2")),
            ("servers:name:".into(), s("alpha")),
            ("servers:name:".into(), s("beta")),
        ])
    );
    assert!(p.metadata().is_none());
}

#[test]
fn keep_all_is_lossless() {
    for src in [
        VECTOR,
        "",
        "a = 1",
        "\n\n# only\n",
        "a = [1,2,]\r\n[t]\r\nb = 'x' # c\r\n",
    ] {
        let p = parse(src);
        let edits = vec![Edit::Keep; leaves(p.as_ref()).len()];
        assert_eq!(
            String::from_utf8(p.render(&edits, None).unwrap()).unwrap(),
            src
        );
    }
}

fn meta() -> Value {
    Value::Map(vec![
        Item::Entry("shamir_threshold".into(), Value::Scalar(Scalar::Int(1))),
        Item::Entry(
            "age".into(),
            Value::List(vec![Value::Map(vec![
                Item::Entry("recipient".into(), Value::str("age1abc")),
                Item::Entry("enc".into(), Value::str("-----BEGIN AGE ENCRYPTED FILE-----\nQUJD\n-----END AGE ENCRYPTED FILE-----\n")),
            ])]),
        ),
        Item::Entry("lastmodified".into(), Value::str("2026-11-29T00:16:37Z")),
        Item::Entry("mac".into(), Value::str("ENC[AES256_GCM,data:M=,iv:x,tag:y,type:str]")),
        Item::Entry("unencrypted_suffix".into(), Value::str("_unencrypted")),
        Item::Entry("mac_only_encrypted".into(), Value::Scalar(Scalar::Bool(true))),
        Item::Entry("version".into(), Value::str("3.11.0")),
    ])
}

#[test]
fn seal_then_open_restores_bytes() {
    let p = parse(VECTOR);
    let seals = seal_all(p.as_ref());
    let enc = String::from_utf8(p.render(&seals, Some(&meta())).unwrap()).unwrap();
    for expect in [
        "#ENC[AES256_GCM,data:T0=,iv:x,tag:y,type:comment]\n",
        "title = \"ENC[AES256_GCM,data:T1=,iv:x,tag:y,type:str]\"   #ENC[AES256_GCM,data:T2=,iv:x,tag:y,type:comment]\n",
        "port = \"ENC[AES256_GCM,data:T3=,iv:x,tag:y,type:int]\"\n",
        "birthday = '''ENC[AES256_GCM,data:T7=,iv:x,tag:y,type:str]'''\n",
        "path = 'ENC[AES256_GCM,data:T9=,iv:x,tag:y,type:str]'\n",
        "cert = \"\"\"ENC[AES256_GCM,data:T11=,iv:x,tag:y,type:str]\"\"\"\n",
        "empty = \"\"\n",
        "\n[sops]\nshamir_threshold = 1\nlastmodified = \"2026-11-29T00:16:37Z\"\n",
        "\n[[sops.age]]\nrecipient = \"age1abc\"\nenc = \"\"\"\n-----BEGIN AGE ENCRYPTED FILE-----\nQUJD\n-----END AGE ENCRYPTED FILE-----\n\"\"\"\n",
    ] {
        assert!(enc.contains(expect), "missing {expect:?} in\n{enc}");
    }
    let q = parse(&enc);
    // The sealed file reads back as the tokens.
    let want: Vec<Scalar> = leaves(p.as_ref())
        .iter()
        .zip(&seals)
        .map(|((_, sc), e)| match e {
            Edit::Seal(t) if sc.is_comment() => Scalar::Comment(t.clone()),
            Edit::Seal(t) => Scalar::Str(t.clone()),
            _ => sc.clone(),
        })
        .collect();
    let got: Vec<Scalar> = leaves(q.as_ref()).into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        shown(got.into_iter().map(|s| (String::new(), s)).collect()),
        shown(want.into_iter().map(|s| (String::new(), s)).collect())
    );
    assert!(meta_matches(q.metadata(), Some(&meta())));
    // Opening with the original values gives back the original bytes.
    let out = String::from_utf8(q.render(&originals(p.as_ref()), None).unwrap()).unwrap();
    assert_eq!(out, VECTOR);
}

#[test]
fn local_date_rule() {
    // A sealed local date comes back bare; the same text in a string stays a string.
    let src = "d = 1979-05-27T07:32:00\nt = 07:32:00.5\ns = \"1979-05-27\"\n";
    let p = parse(src);
    let enc = String::from_utf8(p.render(&seal_all(p.as_ref()), None).unwrap()).unwrap();
    assert_eq!(
        enc,
        "d = '''ENC[AES256_GCM,data:T0=,iv:x,tag:y,type:str]'''\nt = '''ENC[AES256_GCM,data:T1=,iv:x,tag:y,type:str]'''\ns = \"ENC[AES256_GCM,data:T2=,iv:x,tag:y,type:str]\"\n"
    );
    let q = parse(&enc);
    assert_eq!(
        String::from_utf8(q.render(&originals(p.as_ref()), None).unwrap()).unwrap(),
        src
    );
    // A value that is not a date, opened into a date slot, is written as a string.
    let out = q
        .render(
            &[
                Edit::Open(Scalar::Str("not a date".into())),
                Edit::Keep,
                Edit::Keep,
            ],
            None,
        )
        .unwrap();
    assert!(String::from_utf8(out)
        .unwrap()
        .starts_with("d = \"not a date\"\n"));
}

#[test]
fn open_restyles_only_when_needed() {
    let p = parse("a = 'x'\nb = \"\"\"y\"\"\"\nc = 1\n");
    let out = p
        .render(
            &[
                Edit::Open(Scalar::Str("it's".into())),
                Edit::Open(Scalar::Str("q\"\"\"q\"".into())),
                Edit::Open(Scalar::Float("3".into())),
            ],
            None,
        )
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "a = \"it's\"\nb = \"\"\"q\"\"\\\"q\\\"\"\"\"\nc = 3.0\n"
    );
}

#[test]
fn metadata_is_read_and_removed() {
    let src = "a = 1 # one\n# tail\n";
    let p = parse(src);
    let enc = p.render(&vec![Edit::Keep; 3], Some(&meta())).unwrap();
    let q = parse(std::str::from_utf8(&enc).unwrap());
    let m = q.metadata().unwrap();
    assert_eq!(
        m.get("shamir_threshold"),
        Some(&Value::Scalar(Scalar::Int(1)))
    );
    assert_eq!(
        m.get("mac_only_encrypted"),
        Some(&Value::Scalar(Scalar::Bool(true)))
    );
    let Some(Value::List(age)) = m.get("age") else {
        panic!("no age")
    };
    assert_eq!(age[0].get("recipient"), Some(&Value::str("age1abc")));
    // The tail comment stays a data leaf, and decrypting removes exactly what was added.
    assert_eq!(leaves(q.as_ref()).len(), 3);
    assert_eq!(leaves(q.as_ref())[2].0, ":");
    assert_eq!(
        q.render(&vec![Edit::Keep; 3], None).unwrap(),
        src.as_bytes()
    );
    // Replacing the metadata replaces the whole block.
    let again = q.render(&vec![Edit::Keep; 3], Some(&meta())).unwrap();
    assert_eq!(again, enc);
}

#[test]
fn errors() {
    let e = TomlStore.parse(b"a = 1\nb = = secret\n").err().unwrap();
    assert_eq!(e.code, Code::CouldNotReadInputFile);
    assert!(e.message.contains("line 2"), "{}", e.message);
    assert!(!e.message.contains("secret"));
    let p = parse("# c\n");
    let e = p
        .render(
            &[Edit::Open(Scalar::Comment("two\nlines secret".into()))],
            None,
        )
        .err()
        .unwrap();
    assert_eq!(e.code, Code::ErrorDumpingTree);
    assert!(!e.message.contains("secret"));
    let p = parse("a = 1\n");
    let e = p
        .render(&[Edit::Open(Scalar::Raw(vec![0xff, 0x00]))], None)
        .err()
        .unwrap();
    assert_eq!(e.code, Code::ErrorDumpingTree);
    assert!(e.message.contains('a'));
}

#[test]
fn emit_layout_keeps_order() {
    let doc = Value::Map(vec![
        Item::Comment(Scalar::Comment(" top".into())),
        Item::Entry(
            "inner".into(),
            Value::Map(vec![Item::Entry("k".into(), Value::str("v"))]),
        ),
        Item::Entry("n".into(), Value::Scalar(Scalar::Int(1))),
        Item::Entry("multi".into(), Value::str("a\nb")),
        Item::Entry("f".into(), Value::Scalar(Scalar::Float("2".into()))),
        Item::Entry("nothing".into(), Value::Null),
        Item::Entry(
            "l".into(),
            Value::List(vec![
                Value::str("x"),
                Value::Scalar(Scalar::Comment(" c".into())),
                Value::Null,
            ]),
        ),
        Item::Entry(
            "sect".into(),
            Value::Map(vec![
                Item::Entry(
                    "with space".into(),
                    Value::Scalar(Scalar::Time("2024-01-01T00:00:00Z".into())),
                ),
                Item::Comment(Scalar::Comment(" in sect".into())),
            ]),
        ),
        Item::Entry(
            "arr".into(),
            Value::List(vec![
                Value::Map(vec![Item::Entry(
                    "a".into(),
                    Value::Scalar(Scalar::Bool(true)),
                )]),
                Value::Map(vec![]),
            ]),
        ),
    ]);
    let out = String::from_utf8(
        TomlStore
            .emit(std::slice::from_ref(&doc), None, &EmitOptions::default())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        out,
        "# top\ninner = { k = \"v\" }\nn = 1\nmulti = \"\"\"\na\nb\"\"\"\nf = 2.0\nl = [\n  \"x\",\n  # c\n]\n\n[sect]\n\"with space\" = 2024-01-01T00:00:00Z\n# in sect\n\n[[arr]]\na = true\n\n[[arr]]\n"
    );
    // Leaf order survives, so a MAC over it does too.
    let p = parse(&out);
    let mut want = Vec::new();
    walk_leaves(&[data_only(&doc)], |_, path, s| {
        want.push((path.join(":"), s.type_name()))
    });
    let mut got = Vec::new();
    walk_leaves(&[data_only(&p.docs()[0])], |_, path, s| {
        got.push((path.join(":"), s.type_name()))
    });
    assert_eq!(got, want);
}

#[test]
fn emit_errors_are_code_4() {
    let o = EmitOptions::default();
    assert_eq!(
        TomlStore
            .emit(&[Value::List(vec![])], None, &o)
            .err()
            .unwrap()
            .code,
        Code::ErrorDumpingTree
    );
    let reserved = Value::Map(vec![Item::Entry("sops".into(), Value::str("x"))]);
    assert_eq!(
        TomlStore.emit(&[reserved], None, &o).err().unwrap().code,
        Code::ErrorDumpingTree
    );
    let raw = Value::Map(vec![Item::Entry(
        "k".into(),
        Value::Scalar(Scalar::Raw(vec![0xff])),
    )]);
    assert_eq!(
        TomlStore.emit(&[raw], None, &o).err().unwrap().code,
        Code::ErrorDumpingTree
    );
}

#[test]
fn emit_with_meta_reads_back() {
    let doc = Value::Map(vec![Item::Entry("a".into(), Value::str("ENC[x]"))]);
    let out = TomlStore
        .emit(
            std::slice::from_ref(&doc),
            Some(&meta()),
            &EmitOptions::default(),
        )
        .unwrap();
    let p = parse(std::str::from_utf8(&out).unwrap());
    assert!(meta_matches(p.metadata(), Some(&meta())));
    assert_eq!(leaves(p.as_ref()).len(), 1);
}

#[test]
fn comment_placement_in_nested_containers() {
    let src =
        "a = [ [1, # c\n 2], # d\n  { x = 1 }, # e\n]\n[t]\nd.e = 1 # x\n# between\nd.f = 2\n";
    let p = parse(src);
    let c = |x: &str| Scalar::Comment(x.into());
    assert_eq!(
        shown(leaves(p.as_ref())),
        shown(vec![
            ("a:".into(), Scalar::Int(1)),
            ("a:".into(), c(" c")),
            ("a:".into(), Scalar::Int(2)),
            ("a:".into(), c(" d")),
            ("a:x:".into(), Scalar::Int(1)),
            ("a:".into(), c(" e")),
            ("t:d:e:".into(), Scalar::Int(1)),
            ("t:d:f:".into(), Scalar::Int(2)),
            ("t:".into(), c(" x")),
            ("t:".into(), c(" between")),
        ])
    );
    let enc = p.render(&seal_all(p.as_ref()), None).unwrap();
    let q = parse(std::str::from_utf8(&enc).unwrap());
    assert_eq!(
        q.render(&originals(p.as_ref()), None).unwrap(),
        src.as_bytes()
    );
}

#[test]
fn sops_table_in_the_middle_is_removed_with_its_comments() {
    let src = "x = 1\n[sops]\n# in sops\nmac = \"m\"\n[[sops.age]]\nrecipient = \"r\"\n[z]\n# z\n";
    let p = parse(src);
    assert_eq!(leaves(p.as_ref()).len(), 2);
    assert_eq!(p.metadata().unwrap().get("mac"), Some(&Value::str("m")));
    assert_eq!(
        p.render(&[Edit::Keep, Edit::Keep], None).unwrap(),
        b"x = 1\n[z]\n# z\n"
    );
}
