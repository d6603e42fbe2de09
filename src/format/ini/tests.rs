use super::*;
use crate::error::Code;
use crate::format::flatten::flatten;
use crate::format::test_support::{leaves, shown};
use crate::format::Edit;

fn parse(s: &str) -> Box<dyn Parsed> {
    IniStore.parse(s.as_bytes()).unwrap()
}

fn s(x: &str) -> Scalar {
    Scalar::Str(x.into())
}

fn c(x: &str) -> Scalar {
    Scalar::Comment(x.into())
}

const SAMPLE: &str = "\
top = 1
; about the section
[server]   ; header note
host     = example.com
; the password
# second line
password = \"quoted value\"
url: http://x.test/a#frag
single = '  padded  '
tick = `a;b`
empty =
multi = \"\"\"line one
line two\"\"\" ; after
cont = one \\
  two
[server]
host = again
";

#[test]
fn parses_like_go_ini() {
    let p = parse(SAMPLE);
    assert_eq!(
        shown(leaves(p.as_ref())),
        shown(vec![
            ("DEFAULT:top:".into(), s("1")),
            ("server:".into(), c("about the section\n; header note")),
            ("server:host:".into(), s("example.com")),
            ("server:password:".into(), s("quoted value")),
            ("server:".into(), c("the password\n# second line")),
            ("server:url:".into(), s("http://x.test/a")),
            ("server:".into(), c("frag")),
            ("server:single:".into(), s("  padded  ")),
            ("server:tick:".into(), s("a;b")),
            ("server:empty:".into(), s("")),
            ("server:multi:".into(), s("line one\nline two")),
            ("server:".into(), c("after")),
            ("server:cont:".into(), s("one two")),
            ("server:host:".into(), s("again")),
        ])
    );
    let Value::Map(secs) = &p.docs()[0] else {
        panic!("not a map")
    };
    let names: Vec<&str> = secs
        .iter()
        .filter_map(|i| match i {
            Item::Entry(k, _) => Some(k.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(names, vec!["DEFAULT", "server", "server"]);
    assert!(p.metadata().is_none());
}

#[test]
fn default_section_is_always_first() {
    let p = parse("[a]\nk = v\n");
    let Value::Map(secs) = &p.docs()[0] else {
        panic!("not a map")
    };
    assert_eq!(secs[0], Item::Entry("DEFAULT".into(), Value::Map(vec![])));
}

#[test]
fn keep_all_is_lossless() {
    for src in [
        SAMPLE,
        "",
        "\n\n",
        "a=1",
        "\u{feff}[x]\r\nk = v ; c\r\n",
        "; only a comment",
    ] {
        let p = parse(src);
        let edits = vec![Edit::Keep; leaves(p.as_ref()).len()];
        assert_eq!(
            String::from_utf8(p.render(&edits, None).unwrap()).unwrap(),
            src
        );
    }
}

fn seal_all(p: &dyn Parsed) -> Vec<Edit> {
    leaves(p)
        .iter()
        .enumerate()
        .map(|(i, (_, sc))| {
            if sc.is_empty_text() {
                Edit::Keep
            } else {
                Edit::Seal(format!("ENC[AES256_GCM,data:T{i}=,type:x]"))
            }
        })
        .collect()
}

fn meta() -> Value {
    Value::Map(vec![
        Item::Entry(
            "age".into(),
            Value::List(vec![Value::Map(vec![
                Item::Entry("recipient".into(), Value::str("age1abc")),
                Item::Entry("enc".into(), Value::str("-----BEGIN AGE ENCRYPTED FILE-----\nQUJD\n-----END AGE ENCRYPTED FILE-----\n")),
            ])]),
        ),
        Item::Entry("lastmodified".into(), Value::str("2026-11-29T00:16:37Z")),
        Item::Entry("mac".into(), Value::str("ENC[AES256_GCM,data:M=,type:str]")),
        Item::Entry("version".into(), Value::str("3.11.0")),
    ])
}

/// go-ini features whose comments and values all come back in place.
const PLAIN: &str = "\
top = 1
; about the section
[server]
host     = example.com
; the password
# second line
password = \"quoted value\"
url: http://x.test/a#frag
single = '  padded  '
tick = `a;b`
empty =
multi = \"\"\"line one\r
line two\"\"\"
[other]
host = again ; inline only
";

fn sealed_tokens(p: &dyn Parsed, seals: &[Edit]) -> Vec<Scalar> {
    leaves(p)
        .iter()
        .zip(seals)
        .map(|((_, sc), e)| match e {
            Edit::Seal(t) if sc.is_comment() => Scalar::Comment(t.clone()),
            Edit::Seal(t) => Scalar::Str(t.clone()),
            _ => sc.clone(),
        })
        .collect()
}

#[test]
fn seal_then_open_restores_bytes() {
    let p = parse(PLAIN);
    let seals = seal_all(p.as_ref());
    let enc = String::from_utf8(p.render(&seals, Some(&meta())).unwrap()).unwrap();
    assert!(
        enc.contains("password = \"ENC[AES256_GCM,data:T3=,type:x]\"\n"),
        "{enc}"
    );
    assert!(
        enc.contains("; ENC[AES256_GCM,data:T1=,type:x]\n[server]\n"),
        "{enc}"
    );
    assert!(
        enc.contains("url: ENC[AES256_GCM,data:T5=,type:x]#ENC[AES256_GCM,data:T6=,type:x]\n"),
        "{enc}"
    );
    assert!(
        enc.contains(
            "host = ENC[AES256_GCM,data:T11=,type:x] ; ENC[AES256_GCM,data:T12=,type:x]\n"
        ),
        "{enc}"
    );
    assert!(enc.ends_with("\n\n[sops]\nage__list_0__map_enc       = -----BEGIN AGE ENCRYPTED FILE-----\\nQUJD\\n-----END AGE ENCRYPTED FILE-----\\n\nage__list_0__map_recipient = age1abc\nlastmodified               = 2026-11-29T00:16:37Z\nmac                        = ENC[AES256_GCM,data:M=,type:str]\nversion                    = 3.11.0\n"), "{enc}");
    let q = parse(&enc);
    // The sealed file reads back as the tokens, and the metadata as given.
    let got: Vec<Scalar> = leaves(q.as_ref()).into_iter().map(|(_, s)| s).collect();
    assert_eq!(got, sealed_tokens(p.as_ref(), &seals));
    assert_eq!(flatten(q.metadata().unwrap(), ""), flatten(&meta(), ""));
    let originals: Vec<Edit> = leaves(p.as_ref())
        .into_iter()
        .map(|(_, s)| Edit::Open(s))
        .collect();
    assert_eq!(
        String::from_utf8(q.render(&originals, None).unwrap()).unwrap(),
        PLAIN
    );
}

#[test]
fn comments_that_move_like_sops() {
    // A header comment, and a value comment in a block with comment lines, come back above
    // their header or key; a continued value comes back on one line.
    let p = parse(SAMPLE);
    let seals = seal_all(p.as_ref());
    let enc = String::from_utf8(p.render(&seals, None).unwrap()).unwrap();
    let q = parse(&enc);
    let got: Vec<Scalar> = leaves(q.as_ref()).into_iter().map(|(_, s)| s).collect();
    assert_eq!(got, sealed_tokens(p.as_ref(), &seals));
    let originals: Vec<Edit> = leaves(p.as_ref())
        .into_iter()
        .map(|(_, s)| Edit::Open(s))
        .collect();
    let out = String::from_utf8(q.render(&originals, None).unwrap()).unwrap();
    assert_eq!(
        out,
        SAMPLE
            .replace(
                "; about the section\n[server]   ; header note",
                "; about the section\n; header note\n[server]"
            )
            .replace("cont = one \\\n  two", "cont = one two")
    );
}

#[test]
fn continuation_opens_on_one_line() {
    let p = parse("[a]\ncont = one \\\n  two\nnext = 1\n");
    let n = leaves(p.as_ref()).len();
    let enc = p.render(&seal_all(p.as_ref()), None).unwrap();
    let enc = String::from_utf8(enc).unwrap();
    assert_eq!(
        enc,
        "[a]\ncont = ENC[AES256_GCM,data:T0=,type:x]\nnext = ENC[AES256_GCM,data:T1=,type:x]\n"
    );
    let q = parse(&enc);
    let opened = q
        .render(&[Edit::Open(s("one two")), Edit::Open(s("1"))], None)
        .unwrap();
    assert_eq!(opened, b"[a]\ncont = one two\nnext = 1\n");
    assert_eq!(n, 2);
}

#[test]
fn reads_sops_written_metadata_in_any_order_and_triple_quotes() {
    let src = "[s]\nk = ENC[AES256_GCM,data:x,type:str]\n\n[sops]\nversion = 3.13.0\nmac = ENC[m]\nage__list_0__map_enc = \"\"\"-----BEGIN AGE ENCRYPTED FILE-----\nQUJD\n-----END AGE ENCRYPTED FILE-----\n\"\"\"\nage__list_0__map_recipient = age1abc\nlastmodified = 2026-11-29T00:16:37Z\nmac_only_encrypted = true\n\n";
    let p = parse(src);
    let m = p.metadata().unwrap();
    assert_eq!(m.get("version"), Some(&Value::str("3.13.0")));
    assert_eq!(
        m.get("mac_only_encrypted"),
        Some(&Value::Scalar(Scalar::Bool(true)))
    );
    let Some(Value::List(age)) = m.get("age") else {
        panic!("no age list")
    };
    assert_eq!(
        age[0].get("enc"),
        Some(&Value::str(
            "-----BEGIN AGE ENCRYPTED FILE-----\nQUJD\n-----END AGE ENCRYPTED FILE-----\n"
        ))
    );
    assert_eq!(
        leaves(p.as_ref()),
        vec![("s:k:".into(), s("ENC[AES256_GCM,data:x,type:str]"))]
    );
    // Decrypting removes the section and the blank line before it.
    let out = p.render(&[Edit::Open(s("v"))], None).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "[s]\nk = v\n\n");
    // A sops 3.11 file with \n escapes.
    let p = parse("[sops]\nage__list_0__map_enc = a\\nb\\n\n");
    let Some(Value::List(age)) = p.metadata().unwrap().get("age") else {
        panic!("no age list")
    };
    assert_eq!(age[0].get("enc"), Some(&Value::str("a\nb\n")));
}

#[test]
fn comments_before_sops_and_at_eof_stay_data() {
    let src = "[a]\nk = v\n; tail\n\n[sops]\nmac = x\n; after\n";
    let p = parse(src);
    assert_eq!(
        shown(leaves(p.as_ref())),
        shown(vec![
            ("a:k:".into(), s("v")),
            ("a:".into(), c("tail\n; after")),
        ])
    );
}

#[test]
fn open_writes_values_that_read_back() {
    let p = parse("[a]\nk = x\nq = \"y\"\n");
    let out = p
        .render(&[Edit::Open(s("has ; semi")), Edit::Open(s(" lead"))], None)
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "[a]\nk = `has ; semi`\nq = \" lead\"\n"
    );
    let out = p
        .render(
            &[Edit::Open(s("two\nlines")), Edit::Open(Scalar::Int(7))],
            None,
        )
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "[a]\nk = \"\"\"two\nlines\"\"\"\nq = \"7\"\n"
    );
    let e = p
        .render(&[Edit::Open(s("`\"\"\"\nsecret")), Edit::Keep], None)
        .err()
        .unwrap();
    assert_eq!(e.code, Code::ErrorDumpingTree);
    assert!(e.message.contains("a:k"));
    assert!(!e.message.contains("secret"));
}

#[test]
fn errors_are_code_2_and_name_lines() {
    for (src, line) in [
        ("[a]\n[unclosed\n", "line 2"),
        ("[a]\nk = v\nno delimiter secret\n", "line 3"),
        ("[]\n", "line 1"),
        ("[a]\nk = 1\nk = 2\n", "line 3"),
        ("[a]\nk = \"\"\"open\nsecret\n", "line 2"),
        ("= v\n", "line 1"),
        ("\"k = v\n", "line 1"),
    ] {
        let e = IniStore
            .parse(src.as_bytes())
            .err()
            .unwrap_or_else(|| panic!("{src:?} parsed"));
        assert_eq!(e.code, Code::CouldNotReadInputFile, "{src:?}");
        assert!(e.message.contains(line), "{src:?}: {}", e.message);
        assert!(!e.message.contains("secret"));
    }
}

#[test]
fn emit_go_ini_layout() {
    let doc = Value::Map(vec![
        Item::Entry(
            "DEFAULT".into(),
            Value::Map(vec![Item::Entry("d".into(), Value::str("1"))]),
        ),
        Item::Entry(
            "db".into(),
            Value::Map(vec![
                Item::Comment(c(" section note")),
                Item::Entry("user".into(), Value::str("admin")),
                Item::Comment(c(" about user")),
                Item::Entry("password".into(), Value::str("a#b")),
                Item::Entry("padded".into(), Value::str(" x ")),
                Item::Entry("empty".into(), Value::str("")),
                Item::Entry("n".into(), Value::Scalar(Scalar::Float("2.0".into()))),
                Item::Entry("a=b".into(), Value::str("ml\nx")),
            ]),
        ),
    ]);
    let out = IniStore
        .emit(&[doc], None, &EmitOptions::default())
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "d = 1\n\n; section note\n[db]\n; about user\nuser     = admin\npassword = `a#b`\npadded   = \" x \"\nempty    = \nn        = 2.0\n`a=b`    = \"\"\"ml\nx\"\"\"\n"
    );
}

#[test]
fn emit_errors_are_code_4() {
    let o = EmitOptions::default();
    let nested = Value::Map(vec![Item::Entry(
        "s".into(),
        Value::Map(vec![Item::Entry("k".into(), Value::Map(vec![]))]),
    )]);
    let e = IniStore.emit(&[nested], None, &o).err().unwrap();
    assert_eq!(e.code, Code::ErrorDumpingTree);
    assert!(e.message.contains("s:k"));
    let flat = Value::Map(vec![Item::Entry("k".into(), Value::str("secret"))]);
    let e = IniStore.emit(&[flat], None, &o).err().unwrap();
    assert_eq!(e.code, Code::ErrorDumpingTree);
    assert!(!e.message.contains("secret"));
    assert_eq!(
        IniStore
            .emit(&[Value::List(vec![])], None, &o)
            .err()
            .unwrap()
            .code,
        Code::ErrorDumpingTree
    );
    let badkey = Value::Map(vec![Item::Entry(
        "s".into(),
        Value::Map(vec![Item::Entry("[x".into(), Value::str("v"))]),
    )]);
    assert_eq!(
        IniStore.emit(&[badkey], None, &o).err().unwrap().code,
        Code::ErrorDumpingTree
    );
}

#[test]
fn emit_with_meta_and_out_of_place_default_reads_back() {
    let doc = Value::Map(vec![
        Item::Entry(
            "a".into(),
            Value::Map(vec![Item::Entry("k".into(), Value::str("ENC[x]"))]),
        ),
        Item::Entry(
            "DEFAULT".into(),
            Value::Map(vec![Item::Entry("d".into(), Value::str("ENC[y]"))]),
        ),
    ]);
    let out = IniStore
        .emit(
            std::slice::from_ref(&doc),
            Some(&meta()),
            &EmitOptions::default(),
        )
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("[a]\nk = ENC[x]\n\n[DEFAULT]\nd = ENC[y]\n\n[sops]\n"),
        "{text}"
    );
    let p = parse(&text);
    // Leaf order is kept, so a MAC over it is too.
    assert_eq!(
        leaves(p.as_ref()),
        vec![
            ("a:k:".into(), s("ENC[x]")),
            ("DEFAULT:d:".into(), s("ENC[y]"))
        ]
    );
    assert_eq!(flatten(p.metadata().unwrap(), ""), flatten(&meta(), ""));
}

#[test]
fn multi_line_comment_block_seals_as_one_line() {
    let src = "[a]\n; one\n; two\nk = v ; three\n";
    let p = parse(src);
    assert_eq!(leaves(p.as_ref())[1].1, c("one\n; two\n; three"));
    let enc = String::from_utf8(p.render(&seal_all(p.as_ref()), None).unwrap()).unwrap();
    assert_eq!(
        enc,
        "[a]\n; ENC[AES256_GCM,data:T1=,type:x]\nk = ENC[AES256_GCM,data:T0=,type:x]\n"
    );
    let q = parse(&enc);
    let originals: Vec<Edit> = leaves(p.as_ref())
        .into_iter()
        .map(|(_, s)| Edit::Open(s))
        .collect();
    let out = String::from_utf8(q.render(&originals, None).unwrap()).unwrap();
    // The inline part moves above the key, as with sops.
    assert_eq!(out, "[a]\n; one\n; two\n; three\nk = v\n");
}
