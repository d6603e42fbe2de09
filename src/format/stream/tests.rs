//! The streaming path of each flat format against its lossless path: on every input the
//! streaming scanner accepts, both must see the same leaves (key path, AAD, value, in order)
//! and write the same bytes, sealing and opening, on one thread and cut in two; an input the
//! lossless path refuses must not be accepted.

use super::*;
use crate::format::{Edit, Parsed};
use crate::tree::{walk_leaves_aad, Item, Scalar, Value};
use base64::Engine;
use proptest::prelude::*;
use std::sync::Mutex;

type Leaf = (Vec<String>, String, Scalar);

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// A sealed token that carries its plaintext, so that opening needs no key.
fn token(s: &Scalar) -> String {
    format!(
        "ENC[AES256_GCM,data:{},iv:aXY=,tag:dGFn,type:{}]",
        b64(&s.plaintext()),
        s.type_name()
    )
}

/// What sealing does with a leaf: empty text stays as it is.
fn seal(s: &Scalar) -> Edit {
    if s.is_empty_text() {
        Edit::Keep
    } else {
        Edit::Seal(token(s))
    }
}

/// Open a token written by [`token`]; anything else stays.
fn open(s: &Scalar) -> Edit {
    let Some(t) = s.as_text().filter(|t| t.starts_with("ENC[")) else {
        return Edit::Keep;
    };
    let v = crate::crypto::value::EncValue::parse(t).expect("a test token");
    let kind = if s.is_comment() {
        "comment"
    } else {
        &v.type_name
    };
    Edit::Open(Scalar::from_plaintext(kind, v.data.clone()).expect("a test value"))
}

fn meta() -> Value {
    let e = |k: &str, v: Value| Item::Entry(k.into(), v);
    Value::Map(vec![
        e(
            "age",
            Value::List(vec![Value::Map(vec![
                e("recipient", Value::str("age1qqqq")),
                e(
                    "enc",
                    Value::str("-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\n-----END AGE ENCRYPTED FILE-----\n"),
                ),
            ])]),
        ),
        e("lastmodified", Value::str("2026-11-29T05:00:00Z")),
        e("mac", Value::str("ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]")),
        e("unencrypted_suffix", Value::str("_unencrypted")),
        e("version", Value::str("3.11.0")),
    ])
}

fn lossless_leaves(d: &dyn Parsed) -> Vec<Leaf> {
    let mut v = Vec::new();
    walk_leaves_aad(d.docs(), |_, p, a, s| {
        v.push((
            p.iter().map(|k| k.to_string()).collect(),
            a.to_string(),
            s.clone(),
        ))
    });
    v
}

/// Run the streaming path with one editor function for both halves; the leaves it saw, in
/// order, and what it wrote.
fn fast_run(
    f: &FastFlat,
    min: Option<usize>,
    mk: &(dyn Fn(&Scalar) -> Edit + Sync),
) -> (Vec<Leaf>, Result<Option<Rendering>>) {
    let seen: [Mutex<Vec<Leaf>>; 2] = Default::default();
    let r = {
        let mut first = |p: &[&str], a: &str, s: &Scalar| {
            seen[0].lock().unwrap().push((
                p.iter().map(|k| k.to_string()).collect(),
                a.to_string(),
                s.clone(),
            ));
            Ok(mk(s))
        };
        let mut second = |p: &[&str], a: &str, s: &Scalar| {
            seen[1].lock().unwrap().push((
                p.iter().map(|k| k.to_string()).collect(),
                a.to_string(),
                s.clone(),
            ));
            Ok(mk(s))
        };
        f.render_split_from(min, &mut first, &mut second)
    };
    let [a, b] = seen;
    let mut all = a.into_inner().unwrap();
    all.extend(b.into_inner().unwrap());
    (all, r)
}

/// Check everything the streaming path promises for one plaintext input; returns whether it
/// took the input.
fn agree(format: Format, src: &str) -> bool {
    let store = format.store();
    let lossless = store.parse(src.as_bytes());
    let fast = match FastFlat::scan(format, src.as_bytes().to_vec(), false) {
        Ok(f) => f,
        Err(back) => {
            assert_eq!(
                back,
                src.as_bytes(),
                "the scan must give the text back unchanged"
            );
            return false;
        }
    };
    let d = match lossless {
        Ok(d) => d,
        Err(e) => panic!("the streaming path accepts what the lossless one refuses ({e}):\n{src}"),
    };
    assert!(d.metadata().is_none());
    let want = lossless_leaves(d.as_ref());
    let edits: Vec<Edit> = want.iter().map(|(_, _, s)| seal(s)).collect();
    let m = meta();
    let expected = d.render(&edits, Some(&m)).expect("lossless render");
    let mut sealed = Vec::new();
    for min in [None, Some(0)] {
        let (seen, r) = fast_run(&fast, min, &seal);
        assert_eq!(seen, want, "leaves differ for:\n{src}");
        let r = r
            .expect("the output checks")
            .expect("sealing is written in place");
        let got = fast.finish(r, Some(&m)).expect("the metadata").to_vec();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "sealed output differs for:\n{src}"
        );
        sealed = got;
    }
    assert!(agree_encrypted(
        format,
        &String::from_utf8(sealed).unwrap(),
        &open
    ));
    true
}

/// The decrypting half: the streaming path must read the file (and its metadata) as the
/// lossless path does and, opening with `mk`, write the same bytes or send the caller back.
fn agree_encrypted(format: Format, enc: &str, mk: &(dyn Fn(&Scalar) -> Edit + Sync)) -> bool {
    let scan = || FastFlat::scan(format, enc.as_bytes().to_vec(), true);
    let Ok(fe) = scan() else {
        return false;
    };
    let de = format
        .store()
        .parse_encrypted(enc.as_bytes())
        .expect("the lossless path reads what the streaming path reads");
    assert_eq!(
        fe.metadata().expect("metadata").as_ref(),
        de.metadata(),
        "{enc}"
    );
    let want = lossless_leaves(de.as_ref());
    let opens: Vec<Edit> = want.iter().map(|(_, _, s)| mk(s)).collect();
    let expected = de.render(&opens, None);
    for min in [None, Some(0)] {
        // Rendering may write over the scanned source (dotenv): scan afresh each time.
        let fe = scan().ok().unwrap();
        let (seen, r) = fast_run(&fe, min, mk);
        let r = match r {
            Ok(r) => r,
            // Refused (dotenv, whose decrypting writes over its source and cannot send the
            // caller back): the lossless path refuses it too, for the same reason.
            Err(e) => {
                let le = expected
                    .as_ref()
                    .expect_err("the lossless path refuses it too");
                assert_eq!(e.code, le.code, "{enc}");
                assert!(e.message.starts_with("could not write dotenv: "), "{e}");
                assert!(le.message.starts_with("could not write dotenv: "), "{le}");
                continue;
            }
        };
        // `None`: sent back; the lossless path writes it or refuses it.
        if let Some(r) = r {
            assert_eq!(seen, want, "{enc}");
            let got = fe.finish(r, None).expect("no metadata").to_vec();
            let expected = expected.as_ref().expect("the lossless path writes it too");
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(expected),
                "opened output differs for:\n{enc}"
            );
        }
    }
    true
}

/// Open every sealed leaf as a value of another kind or shape, chosen by its content.
fn open_as_other(s: &Scalar) -> Edit {
    let Edit::Open(orig) = open(s) else {
        return Edit::Keep;
    };
    if orig.is_comment() {
        return Edit::Open(Scalar::Comment(" two\nlines".into()));
    }
    let n = orig.plaintext().len();
    Edit::Open(match n % 11 {
        0 => Scalar::Int(n as i64 - 3),
        1 => Scalar::Bool(true),
        2 => Scalar::Float("1.50".into()),
        3 => Scalar::Str("needs ; quotes # here".into()),
        4 => Scalar::Str("  padded  ".into()),
        5 => Scalar::Str("line\nbreak".into()),
        6 => Scalar::Str("literal \\n escape".into()),
        7 => Scalar::Str("tab\there".into()),
        8 => Scalar::Str("it's \"quoted\"".into()),
        9 => Scalar::Float("1".into()),
        _ => Scalar::Str("ünïcödé ✓".into()),
    })
}

const DOTENV: &[&str] = &[
    "",
    "A=1\n",
    "A=1",
    "#c\nA=1\n\n#\nB=\n",
    "export A=x=y\n SPACED =  v  \nQ=\"quoted\"\nML=a\\nb\\\\nc\n",
    "K_unencrypted=plain\nK=secret\n",
    "A=1\r\nB=2\r\n",
    "A=ünï=cödé\n# ✓ comment\n",
    "A=1\nbad line\n",
    "sops_version=1\nA=1\n",
];

const INI: &[&str] = &[
    "",
    "top = 1\n",
    "a=1",
    "; c\n[s]\nk = v\n",
    "[s]\n; about k\nk = v\n# more\n\n; more still\nj: w\n; tail\n",
    "k = \"quoted value\"\nj = 'single'\nempty =\nsp =   \n",
    "[a]\nk=1\n[b]\nk=2\n[a]\nk=3\n",
    "[s]\nk = v ; inline\n",
    "[s] ; header comment\nk = v\n",
    "[s]\nk = `tick`\n",
    "[s]\nk = \"\"\"x\ny\"\"\"\n",
    "[s]\nk = v\\\n  more\n",
    "[s]\nk = 1\nk = 2\n",
    "[s]\n\"q\" = 1\n",
    "[s]\n- = 1\n",
    "[s]\nk = v\r\n",
    "k_unencrypted = plain\n[s]\nx=y\n",
    "[ spaced name ]\nkey with spaces = value with spaces\n",
    "[s]\nk = \"\"\"\n",
    "[]\nk=1\n",
    "[s\nk=1\n",
    "novalue\n",
    "[sops]\nversion = 1\n",
];

const TOML: &[&str] = &[
    "",
    "a = 1\n",
    "a = \"x\"",
    "# top\ntitle = \"example\"   # trailing\nport = 8080\nratio = 1.50\nenabled = true\nlit = 'C:\\path'\nempty = \"\"\n\n# db\n[database]\npassword = \"hunter2\"\n",
    "[a]\nx = 1\n[a.b]\ny = 2\n[a.c] # c\nz = 3\n  [d]\n\tw = 4#c\n#\n",
    "x_unencrypted = \"plain\"\ny = -0\nz = +5\nf = 1e6\ng = -2.5E-3\n[s_unencrypted]\n# kept\nk = 'v'\n",
    "u = \"ünïcödé ✓\" # ✓\n",
    "[a.b]\nx = 1\n[a]\ny = 2\n",
    "[a]\nx = 1\n[b]\ny = 2\n[a.c]\nz = 3\n",
    "key = \"esc\\n\"\n",
    "list = [1, 2]\n",
    "d = 1979-05-27\n",
    "a.b = 1\n",
    "[[x]]\nn = 1\n",
    "a = 1\na = 2\n",
    "[a]\n[a]\n",
    "a = 1\n[a]\n",
    "s = \"\"\"ml\"\"\"\n",
    "bad = \n",
    "c = 'it''s'\n",
    "i = 01\n",
    "big = 99999999999999999999\n",
    "f = 1_000\n",
    "n = nan\n",
    "[ a ]\nk = 1\n",
    "k = \"a\"\r\n",
    "sops = 1\n",
    "[sops]\nversion = \"1\"\n",
];

#[test]
fn toml_agrees_with_the_lossless_path() {
    let mut taken = Vec::new();
    for src in TOML {
        if agree(Format::Toml, src) {
            taken.push(*src);
        }
    }
    assert_eq!(taken.len(), 7, "{taken:#?}");
}

/// toml_edit refuses a dotted key of more than 80 parts: such a header goes back to the
/// lossless path (which refuses it), one of 80 parts streams (found by the `flat_fast` target).
#[test]
fn toml_headers_past_tomls_key_depth_go_back() {
    let header = |n: usize| format!("[{}]\na = 1\n", vec!["k"; n].join("."));
    assert!(agree(Format::Toml, &header(80)));
    assert!(!agree(Format::Toml, &header(81)));
    assert!(Format::Toml.store().parse(header(81).as_bytes()).is_err());
}

#[test]
fn dotenv_agrees_with_the_lossless_path() {
    let mut taken = 0;
    for src in DOTENV {
        if agree(Format::Dotenv, src) {
            taken += 1;
        }
    }
    assert_eq!(
        taken,
        DOTENV.len() - 2,
        "only the invalid files are sent back"
    );
}

#[test]
fn ini_agrees_with_the_lossless_path() {
    let mut taken = Vec::new();
    for src in INI {
        if agree(Format::Ini, src) {
            taken.push(*src);
        }
    }
    assert_eq!(taken.len(), 9, "{taken:#?}");
}

/// Seal `src` on the lossless path (with metadata) and check the decrypting half of the
/// streaming path on the result, opening with `mk`; nothing for a file the lossless path
/// refuses.
fn sealed_then_opened(format: Format, src: &str, mk: &(dyn Fn(&Scalar) -> Edit + Sync)) -> bool {
    let Ok(d) = format.store().parse(src.as_bytes()) else {
        return false;
    };
    let edits: Vec<Edit> = lossless_leaves(d.as_ref())
        .iter()
        .map(|(_, _, s)| seal(s))
        .collect();
    let enc = d.render(&edits, Some(&meta())).unwrap();
    agree_encrypted(format, &String::from_utf8(enc).unwrap(), mk)
}

const ALL: [(Format, &[&str]); 3] = [
    (Format::Dotenv, DOTENV),
    (Format::Ini, INI),
    (Format::Toml, TOML),
];

/// Open every sealed leaf to a value much longer than its token.
fn open_long(s: &Scalar) -> Edit {
    match open(s) {
        Edit::Open(Scalar::Comment(_)) => Edit::Open(Scalar::Comment("c".repeat(400))),
        Edit::Open(_) => Edit::Open(Scalar::Str("v".repeat(400))),
        e => e,
    }
}

#[test]
fn opened_values_longer_than_their_tokens_are_written_whole() {
    // Decrypting dotenv writes over its own source; values longer than their tokens make it
    // move the rest of the output to a new buffer.
    for (format, srcs) in ALL {
        for src in srcs {
            sealed_then_opened(format, src, &open_long);
        }
    }
}

#[test]
fn one_half_longer_than_its_tokens() {
    // A value opened as `long` becomes 400 bytes: in the second half only, then the first.
    let lengthen = |s: &Scalar| match open(s) {
        Edit::Open(Scalar::Str(v)) if v == "long" => Edit::Open(Scalar::Str("w".repeat(400))),
        e => e,
    };
    for src in [
        "A=a\nB=b\n#c\nC=long\nD=long\n",
        "A=long\nB=long\nC=c\n\nD=d\n",
    ] {
        assert!(sealed_then_opened(Format::Dotenv, src, &lengthen));
    }
}

#[test]
fn opened_values_of_every_shape_agree_or_go_back() {
    for (format, srcs) in ALL {
        for src in srcs {
            sealed_then_opened(format, src, &open_as_other);
        }
    }
}

#[test]
fn metadata_where_none_is_expected_goes_back() {
    assert!(FastFlat::scan(Format::Dotenv, b"A=1\nsops_mac=x\n".to_vec(), false).is_err());
    assert!(FastFlat::scan(Format::Dotenv, b"A=1\n".to_vec(), true).is_err());
    assert!(FastFlat::scan(Format::Ini, b"[sops]\nmac=x\n".to_vec(), false).is_err());
    assert!(FastFlat::scan(Format::Ini, b"[s]\na=1\n".to_vec(), true).is_err());
    // Data or comments after the metadata section take the lossless path.
    assert!(FastFlat::scan(Format::Ini, b"[sops]\nmac=x\n[s]\na=1\n".to_vec(), true).is_err());
    assert!(FastFlat::scan(Format::Ini, b"[sops]\nmac=x\n; c\n".to_vec(), true).is_err());
}

/// Lines that make up generated files: the usual ones and the tricky ones.
fn dotenv_line() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Z_]{1,8}=[a-z0-9 =]{0,12}\n",
        1 => Just("\n".to_string()),
        1 => "#[ a-z#]{0,10}\n",
        1 => "[A-Z]{1,3}=[a-z\\\\n]{0,8}\n",
        1 => Just("K_unencrypted=left\n".to_string()),
        1 => Just("export X=1\n".to_string()),
    ]
}

fn ini_line() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z]{1,6} ?[=:] ?[a-z0-9 ]{0,10}\n",
        2 => "\\[[a-z ]{1,6}\\]\n",
        2 => "[;#] ?[a-z ;#]{0,10}\n",
        1 => Just("\n".to_string()),
        1 => "[a-z]{1,4} = [\"'][a-z ]{0,6}[\"']\n",
        1 => "[a-z]{1,4} = [a-z]{1,4} ; [a-z]{0,4}\n",
        1 => Just("  \n".to_string()),
        1 => Just("k_unencrypted = plain\n".to_string()),
    ]
}

fn toml_line() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("1".to_string()),
        Just("-20".to_string()),
        Just("1.5".to_string()),
        Just("true".to_string()),
        "\"[a-z #]{0,6}\"",
        "'[a-z #]{0,6}'",
        Just("[1]".to_string()),
        Just("\"e\\t\"".to_string()),
    ];
    prop_oneof![
        5 => ("[a-z]{1,4}", " ?= ?", value, "( #[a-z ]{0,4})?").prop_map(|(k, e, v, c)| format!("{k}{e}{v}{c}\n")),
        1 => ("[a-c](\\.[a-z]{1,2}){0,2}", "( # c)?").prop_map(|(h, c)| format!("[{h}]{c}\n")),
        1 => "#[ a-z#]{0,8}\n",
        1 => Just("\n".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn generated_dotenv_files_agree(lines in prop::collection::vec(dotenv_line(), 0..30), cut in any::<bool>()) {
        let mut src: String = lines.concat();
        if cut {
            src.pop();
        }
        agree(Format::Dotenv, &src);
    }

    #[test]
    fn generated_toml_files_agree(lines in prop::collection::vec(toml_line(), 0..24), cut in any::<bool>()) {
        let mut src: String = lines.concat();
        if cut {
            src.pop();
        }
        agree(Format::Toml, &src);
    }

    #[test]
    fn generated_ini_files_agree(lines in prop::collection::vec(ini_line(), 0..30), cut in any::<bool>()) {
        let mut src: String = lines.concat();
        if cut {
            src.pop();
        }
        agree(Format::Ini, &src);
    }
}

/// The generated files above must exercise the streaming path, not only its refusals.
#[test]
fn generated_files_mostly_take_the_streaming_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::deterministic_rng(Config::default().rng_algorithm),
    );
    let gens: [(Format, BoxedStrategy<String>); 3] = [
        (Format::Dotenv, dotenv_line().boxed()),
        (Format::Ini, ini_line().boxed()),
        (Format::Toml, toml_line().boxed()),
    ];
    for (format, line) in gens {
        let doc = prop::collection::vec(line, 0..24);
        let mut taken = 0;
        for _ in 0..200 {
            let src = doc.new_tree(&mut runner).unwrap().current().concat();
            if agree(format, &src) {
                taken += 1;
            }
        }
        assert!(
            taken >= 40,
            "{format:?}: only {taken} of 200 generated files taken"
        );
    }
}
