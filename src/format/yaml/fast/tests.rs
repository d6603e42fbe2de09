//! The streaming path against the lossless one: for every file it accepts it must see the
//! same leaves (paths, AADs, typed values) and write the same bytes for the same edits;
//! every file the lossless path refuses it must refuse too.

use super::*;
use crate::format::yaml::YamlDocument;
use crate::format::{Edit, Parsed};
use crate::tree::{walk_leaves_aad, Item};
use proptest::prelude::*;

fn meta() -> Value {
    let entry = |k: &str, v: Value| Item::Entry(k.to_string(), v);
    Value::Map(vec![
        entry(
            "age",
            Value::List(vec![Value::Map(vec![
                entry("recipient", Value::str("age1qqqq")),
                entry(
                    "enc",
                    Value::str("-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\n-----END AGE ENCRYPTED FILE-----\n"),
                ),
            ])]),
        ),
        entry("lastmodified", Value::str("2026-11-29T05:00:00Z")),
        entry("mac", Value::str("ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]")),
        entry("unencrypted_suffix", Value::str("_unencrypted")),
        entry("version", Value::str("3.11.0")),
    ])
}

fn lossless_leaves(d: &YamlDocument) -> Vec<(String, Scalar)> {
    let mut out = vec![];
    walk_leaves_aad(d.docs(), |_, _, a, s| out.push((a.to_string(), s.clone())));
    out
}

/// The leaves the streaming path reports, and its rendering with `edit` applied.
fn fast_run(
    f: &FastYaml,
    mut edit: impl FnMut(usize, &Scalar) -> Edit,
) -> (Vec<(String, Scalar)>, Option<Rendering>) {
    let mut seen = vec![];
    let r = f
        .render_leaves(&mut |_, a, s| {
            let e = edit(seen.len(), s);
            seen.push((a.to_string(), s.clone()));
            Ok(e)
        })
        .expect("render_leaves");
    (seen, r)
}

fn token(i: usize, s: &Scalar) -> String {
    format!(
        "ENC[AES256_GCM,data:d{i}==,iv:i{i}/+=,tag:t{i}==,type:{}]",
        s.type_name()
    )
}

/// Opened values of every kind, chosen by leaf number.
fn opened(i: usize) -> Scalar {
    match i % 9 {
        0 => Scalar::Str(format!("plain value {i}")),
        1 => Scalar::Int(i as i64 - 4),
        2 => Scalar::Bool(i % 2 == 0),
        3 => Scalar::Float("1.50".into()),
        4 => Scalar::Str("needs: quotes # here".into()),
        5 => Scalar::Str("it's \"both\"".into()),
        6 => Scalar::Str("true".into()),
        7 => Scalar::Str("ünïcödé ✓".into()),
        _ => Scalar::Time("2026-11-29T05:00:00Z".into()),
    }
}

/// An opened value for leaf `i`: a comment for a comment leaf.
fn open_as(i: usize, s: &Scalar) -> Scalar {
    if s.is_comment() {
        Scalar::Comment(format!(" opened comment {i}"))
    } else {
        opened(i)
    }
}

/// Check everything the module promises for one input; returns whether the streaming path
/// took it.
fn agree(src: &str) -> bool {
    let lossless = YamlDocument::parse(src.as_bytes());
    let fast = match FastYaml::scan(src.to_string(), false) {
        Ok(f) => f,
        Err(back) => {
            assert_eq!(back, src, "scan must give the text back unchanged");
            return false;
        }
    };
    let d = match lossless {
        Ok(d) => d,
        Err(e) => {
            panic!("the streaming path accepts what the lossless one refuses ({e}):\n{src}")
        }
    };
    assert_eq!(d.docs().len(), 1);
    let want = lossless_leaves(&d);

    // Sealing every leaf (encrypting), with the metadata appended.
    let (seen, r) = fast_run(&fast, |i, s| Edit::Seal(token(i, s)));
    assert_eq!(seen, want, "leaves differ for:\n{src}");
    let edits: Vec<Edit> = want
        .iter()
        .enumerate()
        .map(|(i, (_, s))| Edit::Seal(token(i, s)))
        .collect();
    let m = meta();
    let expected = d.render(&edits, Some(&m)).expect("lossless render");
    let got = fast
        .finish(r.expect("sealing is always written in place"), Some(&m))
        .expect("the streaming output must verify")
        .to_vec();
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&expected),
        "sealed output differs for:\n{src}"
    );

    // Written and checked piece by piece (as `encrypt` streams a big file), cut as often as
    // the document allows: the pieces one after another are the same bytes.
    for every in [1, 7, 40] {
        assert_eq!(
            String::from_utf8_lossy(&in_pieces(&fast, every, &m)),
            String::from_utf8_lossy(&expected),
            "output in pieces of {every} bytes differs for:\n{src}"
        );
    }

    // The same on two threads, cut wherever `cut` finds a place, even in a small file.
    let mut n_first = 0usize;
    let mut n_second = 0usize;
    let split = fast
        .render_split_from(
            0,
            &mut |_, _, s| {
                n_first += 1;
                Ok(Edit::Seal(token(n_first - 1, s)))
            },
            &mut |_, _, _| {
                n_second += 1;
                Ok(Edit::Seal(format!(
                    "ENC[AES256_GCM,data:b{n_second},iv:x,tag:y,type:str]"
                )))
            },
        )
        .expect("render")
        .expect("in place");
    let split_edits: Vec<Edit> = want
        .iter()
        .enumerate()
        .map(|(i, (_, s))| {
            Edit::Seal(if i < n_first {
                token(i, s)
            } else {
                format!(
                    "ENC[AES256_GCM,data:b{},iv:x,tag:y,type:str]",
                    i - n_first + 1
                )
            })
        })
        .collect();
    assert_eq!(n_first + n_second, want.len());
    let got = fast
        .finish(split, Some(&m))
        .expect("the two-part output must verify")
        .to_vec();
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&d.render(&split_edits, Some(&m)).expect("lossless")),
        "two-part output differs for:\n{src}"
    );

    // Keeping some leaves and sealing others.
    let mixed: Vec<Edit> = want
        .iter()
        .enumerate()
        .map(|(i, (_, s))| {
            if i % 2 == 0 {
                Edit::Keep
            } else {
                Edit::Seal(token(i, s))
            }
        })
        .collect();
    let (_, r) = fast_run(&fast, |i, _| mixed[i].clone());
    let got = fast
        .finish(r.expect("in place"), Some(&m))
        .expect("verifies")
        .to_vec();
    assert_eq!(got, d.render(&mixed, Some(&m)).expect("lossless"));

    // Decrypting the sealed file: read its metadata, open every leaf, drop the block.
    let enc = String::from_utf8(expected).expect("utf-8");
    assert!(
        agree_encrypted(&enc),
        "an encrypted file it wrote must scan:\n{enc}"
    );
    true
}

const ACCEPTED: &[&str] = &[
    "a: 1\nb: two\n",
    "a: 1\nb:\n  c: x\n  d: 'y'\ne: \"z\"\n",
    "a:\n    b:\n        c: deep\n    d: 4\n",
    "list:\n  - a\n  - b\n  - 3\nnext: x\n",
    "list:\n- a\n- b\nnext: x\n",
    "list:\n  - k: v\n    k2: 2\n  - k: w\n    sub:\n      - 1\n      -\n      - x\n",
    "nulls:\nother: ~\nmore: null\nlist:\n  -\n  - ~\nempty: ''\nq: \"\"\n",
    "t: true\nf: False\ny: yes\nfl: 1.50\ne: 1e3\ninf: .inf\nnan: .NaN\nneg: -5\nhex: 0x1F\noct: 0o17\nts: 2001-12-14t21:59:43.10-05:00\nd: 2002-12-14\n",
    "'quoted key': 1\n\"dq key\": 2\nk: 'it''s'\nk2: \"a 'b' c\"\nk3: 'say \"hi\"'\n",
    "url: https://example.com/a?b=c#frag\npath: a:b:c\nhash: a#b\ndash: -a-\nbr: x[0]{1},y\n",
    "u: ünïcödé ✓ 日本\nk_unencrypted: stays\n",
    "\n\na: 1   \n\n\nb:    x y   \n\n",
    "deep:\n  l1:\n    - l2:\n        - l3: v\n          l3b:\n            x: y\n",
    "top: value\n",
    "ENC: ENC[AES256_GCM\nx: 2\n",
    "a:\n  b: 1\n  c:\n  d: 2\n",
    "root:\n  - a: 1\n  -\n    b: 2\n",
    "# head of a\na: 1\n# head of b\n\n#second line\nb:\n  # head of c\n  c: x\n  #\n  d: y\n# after a nested map\ne: z\n",
    "a:\n  b:\n    c: 1\n  # back in a\n  d: 2\nl:\n  - 1\n# after a list\nm: 3\n",
    "a:\n  # first key of a nested map\n  b: 1\n",
    "a: 1 # one\nb: 'q'   # two # three\nc:\n  d: \"x\" #\n  l:\n    - 1 # item\n    - k: v # in map\n# head\ne: x#y #z\n",
    "a:\n  b: deep # last in its map\nc: 2\n",
];

const REFUSED: &[&str] = &[
    "a: # after a key\n  b: 1\n",
    "l:\n  - # after a dash\n    x\n",
    "a: 'q'# no blank\n",
    "a: 1\n# at the end\n",
    "a: 1\n  # deeper than the next key\nb: 2\n",
    "a:\n  b: 1\n# before a dedent\n  c: 2\n",
    "l:\n  # before a list item\n  - 1\n",
    "a:\n# after a key with no value\nb: 1\n",
    "# before sops\nsops:\n    version: 3.11.0\n",
    "types: [not flow]x\n",
    "a:\n  - :\n",
    "a:\n  - - x\n",
    "a: &x 1\nb: *x\n",
    "a: !!str 1\n",
    "a: |\n  block\n",
    "a: >\n  folded\n",
    "a: [1, 2]\n",
    "a: {b: 1}\n",
    "a: multi\n  line\n",
    "a: \"multi\n  line\"\n",
    "a:\tb\n",
    "a: 1\r\nb: 2\r\n",
    "a: 1\na: 2\n",
    "a: 1",
    "---\na: 1\n",
    "a: 1\n...\n",
    "- a\n- b\n",
    "sops:\n  version: 3.11.0\n",
    "a: 18446744073709551615\n",
    "a: \"esc\\n\"\n",
    "  a: 1\n",
    "a: b: c\n",
    "a: b:\n",
    "? a\n: b\n",
    "a: 1\n  b: 2\n",
    "a:\n  b: 1\n c: 2\n",
    "\u{feff}a: 1\n",
    "a: x\u{2028}y\n",
    "a: @x\n",
    "<<: {a: 1}\n",
    "a:\n  - b\n  c: d\n",
    "",
    "\n\n",
];

#[test]
fn accepted_layouts_agree_with_the_lossless_path() {
    for src in ACCEPTED {
        assert!(agree(src), "expected the streaming path to take:\n{src}");
    }
}

/// Decrypting: the same metadata and the same output as the lossless path, wherever the
/// `sops:` block sits and however it is indented (files written by other tools).
fn agree_encrypted(enc: &str) -> bool {
    let Ok(fe) = FastYaml::scan(enc.to_string(), true) else {
        return false;
    };
    let de = YamlDocument::parse(enc.as_bytes()).expect("the lossless path reads it");
    assert_eq!(
        fe.metadata().expect("metadata").as_ref(),
        de.metadata(),
        "{enc}"
    );
    let opens: Vec<Edit> = lossless_leaves(&de)
        .iter()
        .enumerate()
        .map(|(i, (_, s))| Edit::Open(open_as(i, s)))
        .collect();
    let (seen, r) = fast_run(&fe, |i, _| opens[i].clone());
    assert_eq!(seen, lossless_leaves(&de), "{enc}");
    let got = fe
        .finish(r.expect("in place"), None)
        .expect("verifies")
        .to_vec();
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&de.render(&opens, None).expect("lossless")),
        "{enc}"
    );
    true
}

#[test]
fn encrypted_layouts_agree_with_the_lossless_path() {
    let block = "sops:\n    age:\n        - recipient: age1qqqq\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            YWJj\n            -----END AGE ENCRYPTED FILE-----\n    lastmodified: \"2026-11-29T05:00:00Z\"\n    mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]\n    version: 3.11.0\n";
    let body = "a: ENC[AES256_GCM,data:YQ==,iv:aXY=,tag:dGFn,type:str]\nb:\n    c: ENC[AES256_GCM,data:Yw==,iv:aXY=,tag:dGFn,type:int]\n    d: plain_unencrypted\n";
    for enc in [
        format!("{body}{block}"),
        format!("{block}{body}"),
        format!("{body}{block}\n\n"),
        format!("{block}\n\n{body}"),
        format!("a: 1\n{block}b: 2\n"),
    ] {
        assert!(
            agree_encrypted(&enc),
            "expected the streaming path to take:\n{enc}"
        );
    }
    // Files written by the real sops 3.11 (see testdata/sops/make.sh).
    for f in [
        "scalars.enc.yaml",
        "structure.enc.yaml",
        "two-recipients.enc.yaml",
    ] {
        let path = format!("{}/testdata/sops/{f}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("fixture");
        agree_encrypted(&text);
    }
    // No metadata, or a `sops` key that is not a block, or comments or a keep-chomped
    // block in the `sops:` lines (a comment there may belong to the document): the
    // lossless path decides.
    let tok = "#ENC[AES256_GCM,data:YQ==,iv:aXY=,tag:dGFn,type:comment]";
    for enc in [
        body.to_string(),
        format!("{body}sops: 1\n"),
        format!("{block}{block}"),
        format!("{body}{block}    \n"),
        block.to_string(),
        "sops:\n".to_string(),
        format!("{body}{block}  {tok}\n"),
        format!("{body}{block}    {tok}\nz: 1\n"),
        format!("{body}{block}    x: |+\n        y\n\n\n"),
    ] {
        assert!(FastYaml::scan(enc.clone(), true).is_err(), "{enc}");
    }
}

#[test]
fn nesting_the_lossless_path_refuses_is_refused() {
    let deep = |n: usize| {
        let mut s = String::new();
        for i in 0..n {
            s.push_str(&" ".repeat(i));
            s.push_str("k:\n");
        }
        s.push_str(&" ".repeat(n));
        s.push_str("v: 1\n");
        s
    };
    assert!(FastYaml::scan(deep(300), false).is_err());
    assert!(YamlDocument::parse(deep(300).as_bytes()).is_err());
    assert!(agree(&deep(100)));
}

#[test]
fn keys_near_yamls_length_limit_are_left_to_the_lossless_path() {
    // saphyr reads text of more than 1024 characters before `: ` as a scalar, not a key.
    let long = format!("k: v\n{}: v\n", "k".repeat(1030));
    assert!(FastYaml::scan(long, false).is_err());
    let colon_early = format!("k: v\nhttp://x{}: v\n", "k".repeat(1030));
    assert!(FastYaml::scan(colon_early, false).is_err());
    let quoted = format!("k: v\n\"{}\": v\n", "k".repeat(1030));
    assert!(FastYaml::scan(quoted, false).is_err());
    assert!(agree(&format!("k: v\n{}: v\n", "k".repeat(900))));
}

#[test]
fn refused_layouts_go_to_the_lossless_path() {
    for src in REFUSED {
        assert!(
            FastYaml::scan(src.to_string(), false).is_err(),
            "expected the streaming path to refuse:\n{src}"
        );
    }
}

#[test]
fn unit_is_the_lossless_paths_unit() {
    // The `sops:` block's indentation follows the file (checked byte for byte in `agree`).
    for (src, unit) in [
        ("a:\n  b: 1\n", 2),
        ("a:\n    b: 1\n", 4),
        ("a:\n   - 1\nb:\n  c: 1\n", 2),
        ("a:\n   - 1\n", 3),
        ("a: 1\n", 4),
        ("l:\n  - k:\n      x: 1\n", 2),
        ("l:\n- 1\n", 2),
        ("l:\n-    1\n", 5),
        ("l:\n- 1\nm:\n   x: 1\n", 3),
    ] {
        assert!(agree(src));
        assert_eq!(
            FastYaml::scan(src.into(), false).map(|f| f.unit).ok(),
            Some(unit),
            "{src}"
        );
    }
}

#[test]
fn multi_line_opened_values_go_back_to_the_lossless_path() {
    let f = FastYaml::scan("a: x\nb: y\n".into(), false).expect("scan");
    let (_, r) = fast_run(&f, |i, _| {
        Edit::Open(if i == 1 {
            Scalar::Str("two\nlines".into())
        } else {
            Scalar::Int(1)
        })
    });
    assert!(r.is_none());
    let (_, r) = fast_run(&f, |_, _| Edit::Open(Scalar::Comment(" c".into())));
    assert!(r.is_none());
}

#[test]
fn pieces_start_at_keys_with_only_maps_above() {
    let src = "a: 1\nb: 2\nc:\n  d: 3\n  e:\n    - f: 4\n      g: 5\n  h: 6\ni: 7\n";
    let f = FastYaml::scan(src.into(), false).expect("scan");
    // Not at the first key of a map, never inside a list: b, c, e, h, i.
    let starts: Vec<usize> = f.pieces(1).iter().map(|p| p.src_from).collect();
    let at = |k: &str| src.find(k).unwrap();
    assert_eq!(
        starts,
        [0, at("b:"), at("c:"), at("  e:"), at("  h:"), at("i:")]
    );
    // Pieces of about 20 bytes: each starts at the first such key 20 bytes after the last.
    let starts: Vec<usize> = f.pieces(20).iter().map(|p| p.src_from).collect();
    assert_eq!(starts, [0, at("  e:"), at("  h:")]);
    assert_eq!(f.pieces(1 << 20).len(), 1);
}

#[test]
fn a_wrong_expectation_is_refused() {
    // The check compares what saphyr reads with what was meant, not with itself.
    let f = FastYaml::scan("a: x\nb: y\n".into(), false).expect("scan");
    let (_, r) = fast_run(&f, |_, _| Edit::Keep);
    let mut r = r.expect("in place");
    r.parts[0].expect[1] = Expect::Opened(Box::new(Scalar::Str("z".into())));
    let e = f.finish(r, None).err().expect("must refuse");
    assert_eq!(e.code, crate::error::Code::ErrorDumpingTree);
    let (_, r) = fast_run(&f, |_, _| Edit::Keep);
    let mut r = r.expect("in place");
    r.parts[0].out.insert_str(0, "c: 1\n");
    assert!(f.finish(r, None).is_err());
}

/// Seal every leaf (numbered across the pieces, as [`token`] does in one pass), check each
/// piece on its own and the last with `meta`, and join the checked outputs.
fn in_pieces(f: &FastYaml, every: usize, meta: &Value) -> Vec<u8> {
    let mut n = 0usize;
    let mut out = vec![];
    let pieces = f.pieces(every);
    assert!(pieces.last().is_some_and(Piece::is_last));
    for p in &pieces {
        let r = f
            .render_piece(p, &mut |_, _, s| {
                n += 1;
                Ok(Edit::Seal(token(n - 1, s)))
            })
            .expect("render")
            .expect("sealing is always written in place");
        let m = p.is_last().then_some(meta);
        out.extend(f.finish(r, m).expect("each piece must verify").to_vec());
    }
    out
}

/// Render on two threads the way the commands do: the same bytes as one thread, the
/// leaves seen in order across the two editors, and a fault in either part refused.
fn split_run(f: &FastYaml, meta: Option<&Value>) -> (Vec<(String, Scalar)>, Rendering) {
    let mut a = vec![];
    let mut b = vec![];
    let r = f
        .render_leaves_split(
            &mut |_, aad, s| {
                a.push((aad.to_string(), s.clone()));
                Ok(Edit::Seal(token(a.len() - 1, s)))
            },
            &mut |_, aad, s| {
                b.push((aad.to_string(), s.clone()));
                Ok(Edit::Seal(format!(
                    "ENC[AES256_GCM,data:b{},iv:x,tag:y,type:str]",
                    b.len()
                )))
            },
        )
        .expect("render")
        .expect("in place");
    let _ = meta;
    a.extend(b);
    (a, r)
}

#[test]
fn big_files_are_rendered_and_checked_in_two_parts() {
    // Nested maps (the cut can fall inside them), lists, quoted keys.
    let mut src = String::new();
    for i in 0..3 {
        src.push_str(&format!("top{i}:\n  'mid':\n"));
        for j in 0..1500 {
            src.push_str(&format!(
                "    key{j}:\n      inner: value number {j}\n      list:\n        - {j}\n        - x: y\n    \"q{j}\": z\n"
            ));
        }
    }
    let f = FastYaml::scan(src.clone(), false).expect("scan");
    let (seen, r) = split_run(&f, None);
    assert_eq!(r.parts.len(), 2, "a big file is cut in two");
    assert!(
        !r.parts[1].parents.is_empty(),
        "the cut falls inside nested maps"
    );
    let d = YamlDocument::parse(src.as_bytes()).expect("parse");
    assert_eq!(seen, lossless_leaves(&d));
    // The same bytes as the lossless path with the same tokens.
    let (na, _) = (r.parts[0].expect.len(), 0);
    let edits: Vec<Edit> = seen
        .iter()
        .enumerate()
        .map(|(i, (_, s))| {
            Edit::Seal(if i < na {
                token(i, s)
            } else {
                format!("ENC[AES256_GCM,data:b{},iv:x,tag:y,type:str]", i - na + 1)
            })
        })
        .collect();
    let m = meta();
    let out = f.finish(r, Some(&m)).expect("verifies").to_vec();
    assert_eq!(out, d.render(&edits, Some(&m)).expect("lossless"));
    // A fault in the second part is found there; one in the first part too.
    for part in [0, 1] {
        let (_, mut r) = split_run(&f, None);
        let x = &mut r.parts[part].expect;
        let n = x.len();
        x[n / 2] = Expect::Text(0, 1);
        assert!(f.finish(r, Some(&m)).is_err(), "part {part}");
    }
    // A line left unfinished at the end of the first part is found.
    let (_, mut r) = split_run(&f, None);
    r.parts[0].out.push_str("      'open: x\n");
    assert!(f.finish(r, Some(&m)).is_err());
}

/// Token pool for generated documents: the tricky bits of YAML's plain-scalar rules.
const WORDS: &[&str] = &[
    "a",
    "b",
    "key",
    "a b",
    "a:b",
    "a: b",
    "a #b",
    "a#b",
    "-a",
    "- a",
    "-",
    "'x'",
    "\"x\"",
    "'it''s'",
    "\"q\\\"x\"",
    "1",
    "-1",
    "0x1F",
    "0o7",
    "1e3",
    "1.5",
    ".inf",
    "null",
    "~",
    "true",
    "yes",
    "No",
    "2001-12-14",
    "2001-12-14 21:59:43.10 -5",
    "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]",
    "é",
    "[a]",
    "{a}",
    "*x",
    "&x",
    "!t",
    "|",
    ">",
    "%",
    "@",
    "`",
    "?",
    ":",
    "x:",
    "18446744073709551615",
    "sops",
    "<<",
    "a,b",
    "'",
    "\"",
    "a'",
    "...",
    "---",
    "#",
];

/// Mostly values the streaming path takes, sometimes tricky ones.
const GOOD: &[&str] = &[
    "a",
    "b c",
    "value-1",
    "x_y",
    "1",
    "-1",
    "1.5",
    "1e3",
    "true",
    "no",
    "null",
    "~",
    "2001-12-14",
    "'single'",
    "\"double\"",
    "'it''s'",
    "a:b",
    "a#b",
    "http://x/y?z#f",
    "é ✓",
    "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]",
    "0x1F",
    ".inf",
    "''",
    "\"\"",
    "-",
    "--x",
    "a'b",
    "[x",
    "x]",
    "{x}y",
    "x: ",
    "  spaced  ",
];

fn word() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        8 => prop::sample::select(GOOD),
        2 => prop::sample::select(WORDS),
    ]
}

fn key() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        8 => prop::sample::select(&["a", "b", "c", "d", "k_unencrypted", "x y", "é"][..]),
        2 => prop::sample::select(KEYS),
    ]
}

fn line() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&[0usize, 0, 2, 2, 4, 1, 3, 6][..]),
        0usize..7,
        key(),
        word(),
    )
        .prop_map(|(ind, form, k, v)| {
            let pad = " ".repeat(ind);
            match form {
                0 => format!("{pad}{k}: {v}"),
                1 => format!("{pad}{k}:"),
                2 => format!("{pad}- {v}"),
                3 => format!("{pad}- {k}: {v}"),
                4 => format!("{pad}-"),
                5 if k.len() % 2 == 0 => format!("{pad}# {v}"),
                5 => String::new(),
                _ => format!("{pad}{k}: {v}  "),
            }
        })
}

#[derive(Clone, Debug)]
enum Node {
    Leaf(&'static str),
    Map(Vec<(&'static str, Node)>),
    List(Vec<Node>),
}

const KEYS: &[&str] = &[
    "a",
    "b",
    "c d",
    "é",
    "'q k'",
    "\"d k\"",
    "1",
    "true",
    "k_unencrypted",
    "a:b",
    "x#y",
    "-x",
    "sops",
];

/// Well-formed documents from a random tree, so that most cases are accepted.
fn tree_doc() -> impl Strategy<Value = String> {
    let leaf = word().prop_map(Node::Leaf);
    let node = leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec((key(), inner.clone()), 1..4).prop_map(Node::Map),
            prop::collection::vec(inner, 1..4).prop_map(Node::List),
        ]
    });
    (
        prop::collection::vec((key(), node), 1..4),
        2usize..5,
        any::<bool>(),
    )
        .prop_map(|(top, unit, compact)| {
            let mut out = String::new();
            write_map(&mut out, &top, 0, unit, compact, false);
            out
        })
}

/// Write map entries at `col`; `first_inline`: the first key goes right after a `- `.
fn write_map(
    out: &mut String,
    items: &[(&str, Node)],
    col: usize,
    unit: usize,
    compact: bool,
    first_inline: bool,
) {
    let mut seen = std::collections::HashSet::new();
    for (i, (k, v)) in items.iter().enumerate() {
        if !(first_inline && i == 0) {
            if k.len() % 3 == 1 {
                // A head comment in the key's column (sometimes several, or a blank line).
                out.push_str(&" ".repeat(col));
                out.push_str(&format!("# about {k}\n"));
                if k.len() == 1 {
                    out.push_str(&format!("\n{}#\n", " ".repeat(col)));
                }
            }
            out.push_str(&" ".repeat(col));
        }
        out.push_str(k);
        // Mostly distinct keys (a repeated quoted key is left, to be refused by both).
        if !seen.insert(*k) && !k.starts_with(['\'', '"']) {
            out.push_str(&format!("_{i}"));
        }
        out.push(':');
        write_value(out, v, col, unit, compact);
    }
}

fn write_value(out: &mut String, v: &Node, col: usize, unit: usize, compact: bool) {
    match v {
        Node::Leaf(t) => {
            out.push(' ');
            out.push_str(t);
            if t.len() % 4 == 1 {
                out.push_str(" # after it");
            }
            out.push('\n');
        }
        Node::Map(items) => {
            out.push('\n');
            write_map(out, items, col + unit, unit, compact, false);
        }
        Node::List(items) => {
            out.push('\n');
            let lc = if compact { col } else { col + unit };
            for it in items {
                out.push_str(&" ".repeat(lc));
                out.push('-');
                match it {
                    Node::Map(m) if compact => {
                        out.push(' ');
                        write_map(out, m, lc + 2, unit, compact, true);
                    }
                    other => write_value(out, other, lc, unit, compact),
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn line_soup_agrees(lines in prop::collection::vec(line(), 1..12)) {
        let mut src = lines.join("\n");
        src.push('\n');
        agree(&src);
    }

    #[test]
    fn generated_documents_agree(src in tree_doc()) {
        agree(&src);
    }
}
