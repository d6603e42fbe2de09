//! dotenv files, with sops 3.11's exact rules (docs/sops-format.md §1.7, §3.4, §7.3).
//!
//! A dotenv file is a flat list of `KEY=value` lines and `#` comment lines. sops does no quote
//! processing and no variable expansion: the key is everything before the first `=` (spaces and
//! `export ` included), the value everything after it, and the two characters `\n` stand for a
//! newline. Keys starting with `sops_` hold the flattened metadata ([`super::flatten`]).
//!
//! Unlike sops, which re-emits the file, rendering here is lossless: blank lines, line order and
//! untouched lines are kept byte for byte, and only the sealed or opened lines change. Metadata
//! lines are appended, sorted, after the data (replacing any `sops_` lines, wherever they were).
//! **Round trip rule:** decrypting a file veil encrypted gives back its exact bytes when it is
//! empty or ends with a line break and has no `sops_` lines (a missing final line break is
//! added). This module must not interpret values (no quotes, no `$VAR`), and must never put a
//! value into an error.

use crate::error::{Code, Error, Result};
use crate::format::compare::single_map;
use crate::format::flatten::{decode_newlines, encode_newlines, flatten, unflatten};
use crate::format::{input_error, Edit, EmitOptions, Format, Parsed, Store};
use crate::tree::{walk_leaves, walk_leaves_mut, Item, Scalar, Value};

pub(crate) mod fast;

/// What to say when a value cannot be written as dotenv.
const UNWRITABLE_HINT: &str = "dotenv cannot hold keys with '=' or line breaks, keys starting with '#' or 'sops_', or values with a literal \\n; use another output type";

/// Every key with this prefix is sops metadata, wherever it appears in the file.
const META_PREFIX: &str = "sops_";

pub struct DotenvStore;

impl Store for DotenvStore {
    fn format(&self) -> Format {
        Format::Dotenv
    }

    fn parse(&self, src: &[u8]) -> Result<Box<dyn Parsed>> {
        Ok(Box::new(DotenvDoc::parse(src)?))
    }

    fn emit(&self, docs: &[Value], meta: Option<&Value>, _opts: &EmitOptions) -> Result<Vec<u8>> {
        emit(docs, meta)
    }

    /// sops's dotenv store only emits strings for `--extract`.
    fn emit_value(&self, v: &Value, opts: &EmitOptions) -> Result<Vec<u8>> {
        match v {
            Value::Scalar(Scalar::Str(s)) => Ok(s.clone().into_bytes()),
            Value::Scalar(Scalar::Raw(b)) | Value::Scalar(Scalar::Bytes(b)) => Ok(b.clone()),
            Value::Map(_) => self.emit(std::slice::from_ref(v), None, opts),
            _ => Err(Error::new(
                Code::ErrorDumpingTree,
                "the dotenv store only supports emitting strings",
            )
            .hint("extract a string value, or use --output-type json or yaml")),
        }
    }
}

/// What one line of the file is.
#[derive(Clone, Debug)]
enum Kind {
    /// An empty line (sops skips these; we keep them).
    Blank,
    /// `#text`: a comment leaf.
    Comment,
    /// `KEY=value`; `eq` is the byte offset of the first `=` within the line.
    Entry { eq: usize },
    /// `sops_…=value`: metadata, never a leaf.
    Meta,
}

#[derive(Clone, Debug)]
struct Line {
    /// Byte range of the line in the source, without its `\n`.
    start: usize,
    end: usize,
    /// Whether a `\n` follows the line in the source.
    newline: bool,
    kind: Kind,
}

/// A parsed dotenv file: the source, its lines, and the tree.
pub struct DotenvDoc {
    src: String,
    lines: Vec<Line>,
    docs: Vec<Value>,
    meta: Option<Value>,
    /// The line index of each leaf, in [`walk_leaves`] order.
    leaves: Vec<usize>,
}

/// Decode the source as UTF-8, reporting the line of the first bad byte.
pub(crate) fn utf8_source(src: &[u8]) -> Result<&str> {
    std::str::from_utf8(src).map_err(|e| {
        let line = src[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        input_error(format!("invalid UTF-8 at line {line}"))
            .hint("the file must be UTF-8 text; encrypt other files with --input-type binary")
    })
}

impl DotenvDoc {
    fn parse(src: &[u8]) -> Result<DotenvDoc> {
        let text = utf8_source(src)?;
        let mut lines = Vec::new();
        let mut items = Vec::new();
        let mut leaves = Vec::new();
        let mut meta_pairs = Vec::new();
        let mut start = 0usize;
        let mut lineno = 0usize;
        loop {
            lineno += 1;
            let (end, newline) = match text[start..].find('\n') {
                Some(i) => (start + i, true),
                None => (text.len(), false),
            };
            let line = &text[start..end];
            let kind = if line.is_empty() {
                Kind::Blank
            } else if let Some(rest) = line.strip_prefix('#') {
                leaves.push(lines.len());
                items.push(Item::Comment(Scalar::Comment(rest.to_string())));
                Kind::Comment
            } else {
                let Some(eq) = line.find('=') else {
                    return Err(input_error(format!(
                        "invalid dotenv input line {lineno}: no '=' found"
                    ))
                    .hint("every non-empty line must be KEY=value or a # comment"));
                };
                let key = &line[..eq];
                let value = decode_newlines(&line[eq + 1..]);
                if let Some(name) = key.strip_prefix(META_PREFIX) {
                    meta_pairs.push((name.to_string(), value));
                    Kind::Meta
                } else {
                    leaves.push(lines.len());
                    items.push(Item::Entry(key.to_string(), Value::str(value)));
                    Kind::Entry { eq }
                }
            };
            lines.push(Line {
                start,
                end,
                newline,
                kind,
            });
            if !newline {
                break;
            }
            start = end + 1;
        }
        let meta = meta_tree(&meta_pairs)?;
        Ok(DotenvDoc {
            src: text.to_string(),
            lines,
            docs: vec![Value::Map(items)],
            meta,
            leaves,
        })
    }
}

/// The metadata tree from the `sops_` pairs (prefix removed, newlines decoded), if any.
fn meta_tree(pairs: &[(String, String)]) -> Result<Option<Value>> {
    if pairs.is_empty() {
        return Ok(None);
    }
    unflatten(pairs).map(Some).map_err(|e| {
        input_error(format!("invalid sops metadata: {e}"))
            .hint("the sops_… lines of this file are damaged")
    })
}

/// The text a scalar is written as in a dotenv value (sops's `ValToString`).
fn value_text(s: &Scalar) -> String {
    s.to_env_string()
}

/// Append flattened metadata lines (sorted) to `out`.
fn append_meta(out: &mut String, meta: &Value) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    for (name, value) in flatten(meta, META_PREFIX) {
        out.push_str(&name);
        out.push('=');
        out.push_str(&encode_newlines(&value));
        out.push('\n');
    }
}

impl Parsed for DotenvDoc {
    fn docs(&self) -> &[Value] {
        &self.docs
    }

    fn metadata(&self) -> Option<&Value> {
        self.meta.as_ref()
    }

    fn render(&self, edits: &[Edit], meta: Option<&Value>) -> Result<Vec<u8>> {
        crate::format::one_edit_per_leaf(edits, self.leaves.len(), "dotenv")?;
        let mut edit_of_line = vec![None; self.lines.len()];
        for (leaf, &line) in self.leaves.iter().enumerate() {
            edit_of_line[line] = Some(&edits[leaf]);
        }
        let mut out = String::with_capacity(self.src.len() + 1024);
        for (i, line) in self.lines.iter().enumerate() {
            let orig = &self.src[line.start..line.end];
            match (&line.kind, edit_of_line[i]) {
                (Kind::Meta, _) => continue,
                (Kind::Blank, _) | (_, None) | (_, Some(Edit::Keep)) => out.push_str(orig),
                (Kind::Comment, Some(Edit::Seal(token))) => {
                    out.push('#');
                    out.push_str(token);
                }
                (Kind::Comment, Some(Edit::Open(s))) => {
                    out.push('#');
                    out.push_str(&value_text(s));
                }
                (Kind::Entry { eq }, Some(Edit::Seal(token))) => {
                    out.push_str(&orig[..*eq + 1]);
                    out.push_str(token);
                }
                (Kind::Entry { eq }, Some(Edit::Open(s))) => {
                    out.push_str(&orig[..*eq + 1]);
                    out.push_str(&encode_newlines(&value_text(s)));
                }
            }
            if line.newline {
                out.push('\n');
            }
        }
        if let Some(meta) = meta {
            append_meta(&mut out, meta);
        }

        // Check that the result reads back as intended.
        let mut expected = self.docs.clone();
        walk_leaves_mut(&mut expected, |i, _, s| {
            let text = match &edits[i] {
                Edit::Keep => return,
                Edit::Seal(t) => t.clone(),
                Edit::Open(v) => value_text(v),
            };
            *s = if s.is_comment() {
                Scalar::Comment(text)
            } else {
                Scalar::Str(text)
            };
        });
        verify(&out, &expected, meta)?;
        Ok(out.into_bytes())
    }
}

/// Re-parse `out` and compare it with the tree and metadata it should hold.
fn verify(out: &str, expected: &[Value], meta: Option<&Value>) -> Result<()> {
    let back = DotenvDoc::parse(out.as_bytes()).map_err(|e| {
        Error::new(
            Code::ErrorDumpingTree,
            format!("could not write dotenv: {}", e.message),
        )
    })?;
    if back.docs != expected {
        return Err(mismatch(&back.docs, expected));
    }
    check_meta(meta, back.meta.as_ref())
}

/// Refuse metadata that would not read back as `meta`.
fn check_meta(meta: Option<&Value>, back: Option<&Value>) -> Result<()> {
    let meta_ok = match (meta, back) {
        (None, None) => true,
        (Some(m), Some(b)) => flatten(m, "") == flatten(b, ""),
        (Some(m), None) => flatten(m, "").is_empty(),
        (None, Some(_)) => false,
    };
    if !meta_ok {
        return Err(Error::new(
            Code::ErrorDumpingTree,
            "could not write dotenv: the sops metadata would not read back the same",
        ));
    }
    Ok(())
}

/// Name the first leaf (by key) that would not read back the same.
fn mismatch(got: &[Value], want: &[Value]) -> Error {
    let mut want_leaves = Vec::new();
    walk_leaves(want, |_, p, s| want_leaves.push((p.join(":"), s.clone())));
    let mut got_leaves = Vec::new();
    walk_leaves(got, |_, p, s| got_leaves.push((p.join(":"), s.clone())));
    let at = want_leaves
        .iter()
        .zip(got_leaves.iter().chain(std::iter::repeat(&(
            String::new(),
            Scalar::Str(String::new()),
        ))))
        .find(|(w, g)| w != g)
        .map(|(w, _)| w.0.clone());
    let what = match at {
        Some(k) if !k.is_empty() => format!("the value of {k}"),
        Some(_) => "a comment".to_string(),
        None => "the file".to_string(),
    };
    Error::new(
        Code::ErrorDumpingTree,
        format!("could not write dotenv: {what} would not read back the same"),
    )
    .hint(UNWRITABLE_HINT)
}

fn emit(docs: &[Value], meta: Option<&Value>) -> Result<Vec<u8>> {
    let (_, items) = single_map(docs, "dotenv")?;
    let mut out = String::new();
    let mut expected = Vec::new();
    for item in items {
        match item {
            Item::Comment(c) => {
                let text = value_text(c);
                out.push('#');
                out.push_str(&text);
                out.push('\n');
                expected.push(Item::Comment(Scalar::Comment(text)));
            }
            Item::Entry(k, v) => {
                let text = match v {
                    Value::Scalar(s) => value_text(s),
                    Value::Null => String::new(),
                    Value::Map(_) | Value::List(_) => return Err(Error::new(
                        Code::ErrorDumpingTree,
                        format!("cannot use complex value in dotenv file; offending key {k}"),
                    )
                    .hint(
                        "dotenv holds only flat KEY=value pairs; use --output-type json or yaml",
                    )),
                };
                if k.starts_with(META_PREFIX) {
                    return Err(Error::new(
                        Code::ErrorDumpingTree,
                        format!("cannot write key {k} as dotenv: the sops_ prefix is reserved for metadata"),
                    ));
                }
                out.push_str(k);
                out.push('=');
                out.push_str(&encode_newlines(&text));
                out.push('\n');
                expected.push(Item::Entry(k.clone(), Value::str(text)));
            }
        }
    }
    if let Some(meta) = meta {
        append_meta(&mut out, meta);
    }
    verify(&out, &[Value::Map(expected)], meta)?;
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::test_support::leaves;

    fn parse(s: &str) -> Box<dyn Parsed> {
        DotenvStore.parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn sops_rules() {
        let src =
            "#comment\nexport EXP=1\n SPACE =x\nQ=\"hello world\"\nEQ=a=b\nEMPTY=\nML=a\\nb\n\n";
        let p = parse(src);
        assert_eq!(
            leaves(p.as_ref()),
            vec![
                (":".into(), Scalar::Comment("comment".into())),
                ("export EXP:".into(), Scalar::Str("1".into())),
                (" SPACE :".into(), Scalar::Str("x".into())),
                ("Q:".into(), Scalar::Str("\"hello world\"".into())),
                ("EQ:".into(), Scalar::Str("a=b".into())),
                ("EMPTY:".into(), Scalar::Str("".into())),
                ("ML:".into(), Scalar::Str("a\nb".into())),
            ]
        );
        assert!(p.metadata().is_none());
    }

    #[test]
    fn line_without_equals_is_error_2_without_content() {
        let e = DotenvStore.parse(b"A=1\nsecretvalue\n").err().unwrap();
        assert_eq!(e.code, Code::CouldNotReadInputFile);
        assert!(e.message.contains("line 2"));
        assert!(!e.message.contains("secretvalue"));
    }

    #[test]
    fn invalid_utf8_is_error_2() {
        let e = DotenvStore.parse(b"A=1\nB=\xff\n").err().unwrap();
        assert_eq!(e.code, Code::CouldNotReadInputFile);
        assert!(e.message.contains("line 2"));
    }

    #[test]
    fn keep_all_is_lossless() {
        for src in ["", "\n", "A=1", "A=1\n\n\n#c\r\nB= 2 \r\n", "#\n=x\n"] {
            let p = parse(src);
            let edits = vec![Edit::Keep; leaves(p.as_ref()).len()];
            assert_eq!(p.render(&edits, None).unwrap(), src.as_bytes(), "{src:?}");
        }
    }

    #[test]
    fn seal_and_open_restore_bytes() {
        let src = "# top\nA=1\n\nexport B=x=y\nC=line1\\nline2\n";
        let p = parse(src);
        let n = leaves(p.as_ref()).len();
        let seals: Vec<Edit> = (0..n).map(|i| Edit::Seal(format!("ENC[T{i}]"))).collect();
        let meta = Value::Map(vec![Item::Entry("mac".into(), Value::str("M\nN"))]);
        let enc = String::from_utf8(p.render(&seals, Some(&meta)).unwrap()).unwrap();
        assert_eq!(
            enc,
            "#ENC[T0]\nA=ENC[T1]\n\nexport B=ENC[T2]\nC=ENC[T3]\nsops_mac=M\\nN\n"
        );
        let q = parse(&enc);
        assert_eq!(q.metadata().unwrap().get("mac"), Some(&Value::str("M\nN")));
        let originals: Vec<Edit> = leaves(p.as_ref())
            .into_iter()
            .map(|(_, s)| Edit::Open(s))
            .collect();
        assert_eq!(q.render(&originals, None).unwrap(), src.as_bytes());
    }

    #[test]
    fn meta_lines_anywhere_are_replaced_and_sorted() {
        let src = "sops_version=1\nA=1\nsops_mac=x\nB=2\n";
        let p = parse(src);
        assert_eq!(leaves(p.as_ref()).len(), 2);
        let meta = Value::Map(vec![
            Item::Entry("version".into(), Value::str("3.11.0")),
            Item::Entry("lastmodified".into(), Value::str("t")),
        ]);
        let out = p.render(&[Edit::Keep, Edit::Keep], Some(&meta)).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "A=1\nB=2\nsops_lastmodified=t\nsops_version=3.11.0\n"
        );
        let out = p.render(&[Edit::Keep, Edit::Keep], None).unwrap();
        assert_eq!(out, b"A=1\nB=2\n");
    }

    #[test]
    fn open_non_strings_uses_val_to_string() {
        let p = parse("A=x\nB=y\nC=z\n");
        let out = p
            .render(
                &[
                    Edit::Open(Scalar::Int(5)),
                    Edit::Open(Scalar::Bool(true)),
                    Edit::Open(Scalar::Float("2.0".into())),
                ],
                None,
            )
            .unwrap();
        assert_eq!(out, b"A=5\nB=true\nC=2.0\n");
    }

    #[test]
    fn unrepresentable_value_is_error_4_naming_key() {
        let p = parse("A=x\n");
        let e = p
            .render(&[Edit::Open(Scalar::Str("lit\\nsecret".into()))], None)
            .err()
            .unwrap();
        assert_eq!(e.code, Code::ErrorDumpingTree);
        assert!(e.message.contains("A"));
        assert!(!e.message.contains("secret"));
    }

    #[test]
    fn emit_layout_and_errors() {
        let doc = Value::Map(vec![
            Item::Comment(Scalar::Comment(" c".into())),
            Item::Entry("A".into(), Value::str("a\nb")),
            Item::Entry("N".into(), Value::Scalar(Scalar::Int(3))),
            Item::Entry("F".into(), Value::Scalar(Scalar::Float("1234567.0".into()))),
            Item::Entry("E".into(), Value::str("")),
        ]);
        let out = DotenvStore
            .emit(std::slice::from_ref(&doc), None, &EmitOptions::default())
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# c\nA=a\\nb\nN=3\nF=1.234567E+06\nE=\n"
        );

        let nested = Value::Map(vec![Item::Entry(
            "outer".into(),
            Value::Map(vec![Item::Entry("k".into(), Value::str("secret"))]),
        )]);
        let e = DotenvStore
            .emit(&[nested], None, &EmitOptions::default())
            .err()
            .unwrap();
        assert_eq!(e.code, Code::ErrorDumpingTree);
        assert_eq!(
            e.message,
            "cannot use complex value in dotenv file; offending key outer"
        );

        let list = Value::Map(vec![Item::Entry("l".into(), Value::List(vec![]))]);
        assert_eq!(
            DotenvStore
                .emit(&[list], None, &EmitOptions::default())
                .err()
                .unwrap()
                .code,
            Code::ErrorDumpingTree
        );
        let bad = Value::Map(vec![Item::Entry("a=b".into(), Value::str("secret"))]);
        let e = DotenvStore
            .emit(&[bad], None, &EmitOptions::default())
            .err()
            .unwrap();
        assert_eq!(e.code, Code::ErrorDumpingTree);
        assert!(!e.message.contains("secret"));
        let top = Value::List(vec![]);
        assert_eq!(
            DotenvStore
                .emit(&[top], None, &EmitOptions::default())
                .err()
                .unwrap()
                .code,
            Code::ErrorDumpingTree
        );
    }

    #[test]
    fn emit_with_meta_reads_back() {
        let doc = Value::Map(vec![Item::Entry("A".into(), Value::str("ENC[x]"))]);
        let meta = Value::Map(vec![
            Item::Entry(
                "age".into(),
                Value::List(vec![Value::Map(vec![
                    Item::Entry("recipient".into(), Value::str("age1")),
                    Item::Entry(
                        "enc".into(),
                        Value::str("-----BEGIN-----\nabc\n-----END-----\n"),
                    ),
                ])]),
            ),
            Item::Entry(
                "mac_only_encrypted".into(),
                Value::Scalar(Scalar::Bool(true)),
            ),
        ]);
        let out = DotenvStore
            .emit(&[doc], Some(&meta), &EmitOptions::default())
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "A=ENC[x]\nsops_age__list_0__map_enc=-----BEGIN-----\\nabc\\n-----END-----\\n\nsops_age__list_0__map_recipient=age1\nsops_mac_only_encrypted=true\n"
        );
        let p = parse(&text);
        assert_eq!(
            p.metadata().unwrap().get("mac_only_encrypted"),
            Some(&Value::Scalar(Scalar::Bool(true)))
        );
    }

    #[test]
    fn emit_value_strings_only() {
        let o = EmitOptions::default();
        assert_eq!(DotenvStore.emit_value(&Value::str("x"), &o).unwrap(), b"x");
        assert!(DotenvStore
            .emit_value(&Value::Scalar(Scalar::Int(1)), &o)
            .is_err());
    }
}
