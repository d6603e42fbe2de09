//! `veil set FILE PATH VALUE` and `veil unset FILE PATH`: change one value of an encrypted file
//! without opening an editor, with sops's path syntax and semantics.
//!
//! VALUE is JSON (objects and arrays become subtrees, a path past the end of a list appends,
//! missing keys are created). Unlike sops, which turns every JSON number into a float, a JSON
//! integer is stored as `type:int` (a number that already holds the same value keeps its stored
//! type, so an unchanged value keeps its ciphertext).
//!
//! Replacing a scalar by a scalar keeps the file's own text: only that value, `mac` and
//! `lastmodified` change. A structural change (a new key, a subtree, an append, an unset) is
//! made in the file's own text too where the format can (YAML block collections: only the
//! lines of what changed); otherwise the file is written in the format's fresh layout, with
//! comments kept where the tree holds them, and veil says so on stderr. It must never print or
//! log the value.

use super::args::{InputArgs, SetArgs, UnsetArgs};
use super::extract::{parse_path, PathComp};
use super::lifecycle::{self, Layout, Opened};
use crate::engine::{self, Context};
use crate::error::{Code, Error, Result};
use crate::format::json::JsonStore;
use crate::format::Store;
use crate::keys::KeyService;
use crate::tree::{Item, Scalar, Value};
use zeroize::Zeroizing;

fn set_format_error(what: &str) -> Error {
    Error::new(
        Code::InvalidSetFormat,
        format!("Invalid {what} index format"),
    )
    .hint(
        r#"write the path as components like ["key"], ['key'] or [0], e.g. '["data"]["password"]'"#,
    )
}

/// The path for set/unset: sops's syntax; bad syntax is exit 7 here (91 for `--extract`).
fn parse_change_path(s: &str, what: &str) -> Result<Vec<PathComp>> {
    parse_path(s).map_err(|_| set_format_error(what))
}

/// Parse VALUE as JSON into a tree, keeping integers as `Int` and other numbers as written.
pub fn parse_json_value(text: &str) -> Result<Value> {
    let invalid = || {
        Error::new(Code::InvalidSetFormat, "Value for --set is not valid JSON").hint(
            r#"VALUE is JSON: quote strings ('"text"'), numbers and true/false as is, objects as '{"k": "v"}'"#,
        )
    };
    // A string (the usual big value: a certificate, a blob) is read straight into the tree:
    // one copy of it, where the general path below would hold four at once.
    if text.trim_start().starts_with('"') {
        let s = serde_json::from_str::<String>(text).map_err(|_| invalid())?;
        return Ok(Value::Scalar(Scalar::Str(s)));
    }
    // serde_json checks the whole text (nothing may follow the value); the JSON store then
    // gives veil's typed tree with exact number text.
    serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|_| invalid())?;
    let wrapped = Zeroizing::new(format!("{{\"v\":\n{text}\n}}"));
    let parsed = JsonStore.parse(wrapped.as_bytes()).map_err(|_| invalid())?;
    parsed
        .docs()
        .first()
        .and_then(|d| d.get("v"))
        .cloned()
        .ok_or_else(invalid)
}

fn is_comment(v: &Value) -> bool {
    matches!(v, Value::Scalar(s) if s.is_comment())
}

/// The value a path creates below a missing component (sops's `valueFromPathAndLeaf`).
fn build(path: &[PathComp], leaf: Value) -> Value {
    path.iter().rev().fold(leaf, |inner, c| match c {
        PathComp::Key(k) => Value::Map(vec![Item::Entry(k.clone(), inner)]),
        PathComp::Index(_) => Value::List(vec![inner]),
    })
}

fn describe(path: &[PathComp]) -> String {
    path.iter()
        .map(|c| match c {
            PathComp::Key(k) => format!("[{k:?}]"),
            PathComp::Index(n) => format!("[{n}]"),
        })
        .collect()
}

/// sops's `TreeBranch.Set`: replace, create missing keys, append past the end of a list, and
/// replace a scalar that a longer path goes through. A key into a list or an index into a map
/// is refused (sops panics or does nothing there).
pub fn set_value(cur: &mut Value, path: &[PathComp], new: Value, done: &[PathComp]) -> Result<()> {
    let Some((first, rest)) = path.split_first() else {
        *cur = new;
        return Ok(());
    };
    let here = |d: &[PathComp]| {
        let mut p = d.to_vec();
        p.push(first.clone());
        p
    };
    match (first, &mut *cur) {
        (PathComp::Key(k), Value::Map(items)) => {
            let found = items.iter_mut().find_map(|i| match i {
                Item::Entry(n, v) if n == k => Some(v),
                _ => None,
            });
            match found {
                Some(v) => set_value(v, rest, new, &here(done)),
                None => {
                    items.push(Item::Entry(k.clone(), build(rest, new)));
                    Ok(())
                }
            }
        }
        (PathComp::Index(n), Value::List(items)) => {
            let pos = items
                .iter()
                .enumerate()
                .filter(|(_, v)| !is_comment(v))
                .map(|(i, _)| i)
                .nth(*n);
            match pos {
                Some(i) => set_value(&mut items[i], rest, new, &here(done)),
                None => {
                    items.push(build(rest, new));
                    Ok(())
                }
            }
        }
        (PathComp::Index(n), Value::Map(_)) => Err(Error::new(
            Code::InvalidSetFormat,
            format!("cannot set index [{n}] in {}: it is a map", or_root(done)),
        )
        .hint("use a key component like [\"name\"] there")),
        (PathComp::Key(k), Value::List(_)) => Err(Error::new(
            Code::InvalidSetFormat,
            format!("cannot set key [{k:?}] in {}: it is a list", or_root(done)),
        )
        .hint("use an index component like [0] there")),
        _ => {
            *cur = build(path, new);
            Ok(())
        }
    }
}

fn or_root(done: &[PathComp]) -> String {
    if done.is_empty() {
        "the top level".to_string()
    } else {
        describe(done)
    }
}

/// sops's `TreeBranch.Unset`. A missing key or index is exit 1 with sops's messages.
pub fn unset_value(cur: &mut Value, path: &[PathComp]) -> Result<()> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(());
    };
    match (first, cur) {
        (PathComp::Key(k), Value::Map(items)) => {
            let Some(i) = items
                .iter()
                .position(|i| matches!(i, Item::Entry(n, _) if n == k))
            else {
                return Err(Error::generic(format!("Key not found: {k}"))
                    .hint("check the path against the decrypted file, or pass --idempotent"));
            };
            if rest.is_empty() {
                items.remove(i);
                Ok(())
            } else {
                match &mut items[i] {
                    Item::Entry(_, v) => unset_value(v, rest),
                    Item::Comment(_) => Ok(()),
                }
            }
        }
        (PathComp::Index(n), Value::List(items)) => {
            let Some(i) = items
                .iter()
                .enumerate()
                .filter(|(_, v)| !is_comment(v))
                .map(|(i, _)| i)
                .nth(*n)
            else {
                return Err(Error::generic(format!("Index {n} out of bounds"))
                    .hint("check the path against the decrypted file, or pass --idempotent"));
            };
            if rest.is_empty() {
                items.remove(i);
                Ok(())
            } else {
                unset_value(&mut items[i], rest)
            }
        }
        (c, v) => {
            let kind = match v {
                Value::Map(_) => "a map",
                Value::List(_) => "a list",
                Value::Null => "null",
                Value::Scalar(s) => s.type_name(),
            };
            let name = match c {
                PathComp::Key(k) => format!("{k:?}"),
                PathComp::Index(n) => n.to_string(),
            };
            Err(Error::generic(format!(
                "Key not found: cannot unset {name} from a value of type {kind}"
            ))
            .hint("check the path against the decrypted file, or pass --idempotent"))
        }
    }
}

/// Empty (and zero) the plaintext of every leaf that was sealed. From here on such a leaf is
/// written, and checked, from its token alone; for a big value its plaintext would be one more
/// copy in memory during rendering and the read-back check.
fn wipe_sealed(docs: &mut [Value], edits: &[crate::format::Edit]) {
    use zeroize::Zeroize;
    crate::tree::walk_leaves_mut(docs, |i, _, s| {
        if !matches!(edits.get(i), Some(crate::format::Edit::Seal(_))) {
            return;
        }
        let blank = if s.is_comment() {
            Scalar::Comment(String::new())
        } else {
            Scalar::Str(String::new())
        };
        match std::mem::replace(s, blank) {
            Scalar::Str(mut t)
            | Scalar::Comment(mut t)
            | Scalar::Float(mut t)
            | Scalar::Time(mut t) => t.zeroize(),
            Scalar::Raw(mut b) | Scalar::Bytes(mut b) => b.zeroize(),
            Scalar::Int(_) | Scalar::Bool(_) => {}
        }
    });
}

/// Re-encrypt the opened file's documents after a change and write it back in place.
fn write_change(mut o: Opened, mut docs: Vec<Value>, file: &str) -> Result<()> {
    let mut ctx = Context::system();
    // Only the re-seal uses the stash (a copy cost a digest map of every leaf).
    let mut stash = std::mem::take(&mut o.dec.stash);
    engine::keep_stored_numbers(&mut docs, &o.dec.docs);
    let r = engine::reseal(
        &docs,
        &o.dec.metadata,
        &o.dec.data_key,
        &mut stash,
        &mut ctx,
    )?;
    wipe_sealed(&mut docs, &r.edits);
    // An explicit --indent asks for the whole file laid out afresh at that indentation.
    let explicit = super::log::globals().indent.is_some();
    let in_place = || match explicit {
        true => Ok(None),
        false => lifecycle::render_in_place(&o, &docs, &r.edits, &r.metadata),
    };
    let out = if engine::same_shape(&o.dec.docs, &docs) {
        lifecycle::render_same_shape(&o, &docs, r.edits, &r.metadata, &super::layout())?
    } else if let Some(out) = in_place()? {
        out
    } else {
        // A fresh layout, indented like the file itself where that can be seen (an explicit
        // --indent wins).
        let emit = super::layout().like(&o.src, o.inf, o.outf)?;
        let (out, layout) = lifecycle::render_checked_with(
            None,
            o.inf,
            &docs,
            r.edits,
            &r.metadata,
            o.outf,
            &emit,
        )?;
        if layout == Layout::Fresh && o.outf == o.inf {
            super::log::advise(format!(
                "note: {file}: keys were added or removed, so the file was written in veil's standard {} layout, with the file's indentation (comments are kept)",
                o.outf.name()
            ));
        }
        out
    };
    super::io::write_atomic(std::path::Path::new(file), &out)
}

fn read_value(a: &SetArgs) -> Result<Zeroizing<String>> {
    use std::io::Read;
    if a.value_stdin {
        if a.value.is_some() {
            return Err(Error::new(
                Code::ConflictingParameters,
                "Error: with --value-stdin, the value is read from stdin; do not pass VALUE",
            )
            .hint("drop VALUE, or drop --value-stdin"));
        }
        let mut s = Zeroizing::new(String::new());
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            Error::new(
                Code::CouldNotReadInputFile,
                format!("could not read stdin: {e}"),
            )
        })?;
        return Ok(s);
    }
    let Some(v) = &a.value else {
        return Err(
            Error::new(Code::InvalidSetFormat, "Error: no value specified")
                .hint("pass VALUE as JSON, or use --value-file FILE / --value-stdin"),
        );
    };
    if a.value_file {
        let bytes = Zeroizing::new(std::fs::read(v).map_err(|e| {
            Error::new(
                Code::CouldNotReadInputFile,
                format!("could not read the value file {v}: {e}"),
            )
        })?);
        let s = std::str::from_utf8(&bytes).map_err(|_| {
            Error::new(Code::InvalidSetFormat, "the value file is not UTF-8 text")
                .hint("the value file must hold a JSON value")
        })?;
        return Ok(Zeroizing::new(s.to_string()));
    }
    Ok(Zeroizing::new(v.clone()))
}

/// `veil set`.
pub fn run_set(a: &SetArgs) -> Result<i32> {
    let path = parse_change_path(&a.path, "set")?;
    let text = read_value(a)?;
    let value = parse_json_value(&text)?;
    drop(text);
    set_in_file(&a.input, &a.change, &a.file, &path, value, a.idempotent)
}

/// Set `path` to `value` in `file` (also the legacy `--set`).
pub fn set_in_file(
    input: &InputArgs,
    change: &super::args::ChangeArgs,
    file: &str,
    path: &[PathComp],
    value: Value,
    idempotent: bool,
) -> Result<i32> {
    let _lock = super::io::lock_for_update(file)?;
    let ks = KeyService::local();
    let o = lifecycle::open(
        input,
        file,
        change.ignore_mac,
        change.decryption_order.as_deref(),
        &ks,
    )?;
    let mut docs = o.dec.docs.clone();
    let Some(doc) = docs.first_mut() else {
        return Err(Error::generic("the file has no documents"));
    };
    set_value(doc, path, value, &[])?;
    engine::keep_stored_numbers(&mut docs, &o.dec.docs);
    if idempotent && docs == o.dec.docs {
        return Ok(0);
    }
    write_change(o, docs, file)?;
    Ok(0)
}

/// The legacy `--set '<path> <json>'`: the path, one space, the JSON value.
pub fn parse_legacy_set(s: &str) -> Result<(Vec<PathComp>, Value)> {
    // The path ends at the last `]` before the first space that follows a `]`.
    let split = s
        .char_indices()
        .find(|&(i, c)| c == ' ' && s[..i].ends_with(']'))
        .map(|(i, _)| i);
    // sops's words for the legacy flag differ from `set`'s ("Invalid set index format").
    let legacy_error = || Error {
        message: "Invalid --set format".into(),
        ..set_format_error("set")
    };
    let (p, v) = s.split_at(split.ok_or_else(legacy_error)?);
    let path = parse_path(p).map_err(|_| legacy_error())?;
    let value = parse_json_value(v.trim_start())?;
    Ok((path, value))
}

/// `veil unset`.
pub fn run_unset(a: &UnsetArgs) -> Result<i32> {
    let path = parse_change_path(&a.path, "unset")?;
    let _lock = super::io::lock_for_update(&a.file)?;
    let ks = KeyService::local();
    let o = lifecycle::open(
        &a.input,
        &a.file,
        a.change.ignore_mac,
        a.change.decryption_order.as_deref(),
        &ks,
    )?;
    let mut docs = o.dec.docs.clone();
    let Some(doc) = docs.first_mut() else {
        return Err(Error::generic("the file has no documents"));
    };
    match unset_value(doc, &path) {
        Ok(()) => {}
        Err(_) if a.idempotent => return Ok(0),
        Err(e) => return Err(e),
    }
    write_change(o, docs, &a.file)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Scalar;

    fn doc() -> Value {
        Value::Map(vec![
            Item::Entry("a".into(), Value::str("x")),
            Item::Entry(
                "l".into(),
                Value::List(vec![
                    Value::Scalar(Scalar::Comment(" c".into())),
                    Value::str("p"),
                    Value::str("q"),
                ]),
            ),
        ])
    }

    fn p(s: &str) -> Vec<PathComp> {
        parse_path(s).unwrap()
    }

    #[test]
    fn json_values_keep_integers() {
        assert_eq!(
            parse_json_value("5").unwrap(),
            Value::Scalar(Scalar::Int(5))
        );
        assert_eq!(
            parse_json_value("1.50").unwrap(),
            Value::Scalar(Scalar::Float("1.50".into()))
        );
        assert_eq!(parse_json_value("\"s\"").unwrap(), Value::str("s"));
        assert_eq!(parse_json_value("null").unwrap(), Value::Null);
        let obj = parse_json_value(r#"{"b": [1, true]}"#).unwrap();
        assert_eq!(
            obj,
            Value::Map(vec![Item::Entry(
                "b".into(),
                Value::List(vec![
                    Value::Scalar(Scalar::Int(1)),
                    Value::Scalar(Scalar::Bool(true))
                ])
            )])
        );
        for bad in ["", "{bad", "5 6", "1}, \"x\": {2", "'s'"] {
            assert_eq!(
                parse_json_value(bad).unwrap_err().code,
                Code::InvalidSetFormat,
                "{bad}"
            );
        }
    }

    #[test]
    fn set_semantics() {
        let mut d = doc();
        set_value(&mut d, &p(r#"["a"]"#), Value::str("y"), &[]).unwrap();
        assert_eq!(d.get("a"), Some(&Value::str("y")));
        // Index 0 skips the comment element.
        set_value(&mut d, &p(r#"["l"][0]"#), Value::str("P"), &[]).unwrap();
        let l = d.get("l").unwrap().clone();
        assert_eq!(
            l,
            Value::List(vec![
                Value::Scalar(Scalar::Comment(" c".into())),
                Value::str("P"),
                Value::str("q")
            ])
        );
        // Past the end appends.
        set_value(&mut d, &p(r#"["l"][9]"#), Value::str("z"), &[]).unwrap();
        assert!(matches!(d.get("l"), Some(Value::List(v)) if v.len() == 4));
        // Missing keys are created, nested.
        set_value(&mut d, &p(r#"["n"]["m"][0]"#), Value::str("v"), &[]).unwrap();
        assert_eq!(
            d.get("n"),
            Some(&Value::Map(vec![Item::Entry(
                "m".into(),
                Value::List(vec![Value::str("v")])
            )]))
        );
        // A scalar on the way is replaced.
        set_value(&mut d, &p(r#"["a"]["b"]"#), Value::str("w"), &[]).unwrap();
        assert_eq!(
            d.get("a"),
            Some(&Value::Map(vec![Item::Entry("b".into(), Value::str("w"))]))
        );
        // Wrong kinds are refused with exit 7.
        assert_eq!(
            set_value(&mut d, &p("[0]"), Value::str("w"), &[])
                .unwrap_err()
                .code,
            Code::InvalidSetFormat
        );
        assert_eq!(
            set_value(&mut d, &p(r#"["l"]["k"]"#), Value::str("w"), &[])
                .unwrap_err()
                .code,
            Code::InvalidSetFormat
        );
    }

    #[test]
    fn unset_semantics() {
        let mut d = doc();
        unset_value(&mut d, &p(r#"["l"][1]"#)).unwrap();
        assert_eq!(
            d.get("l"),
            Some(&Value::List(vec![
                Value::Scalar(Scalar::Comment(" c".into())),
                Value::str("p")
            ]))
        );
        let e = unset_value(&mut d, &p(r#"["nope"]"#)).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (Code::Generic, "Key not found: nope")
        );
        let e = unset_value(&mut d, &p(r#"["l"][5]"#)).unwrap_err();
        assert_eq!(e.message, "Index 5 out of bounds");
        assert!(unset_value(&mut d, &p(r#"["a"]["b"]"#)).is_err());
        unset_value(&mut d, &p(r#"["a"]"#)).unwrap();
        assert_eq!(d.get("a"), None);
    }

    #[test]
    fn legacy_set_syntax() {
        let (path, v) = parse_legacy_set(r#"["a"][0] {"x": 1}"#).unwrap();
        assert_eq!(path, p(r#"["a"][0]"#));
        assert!(matches!(v, Value::Map(_)));
        let (path, v) = parse_legacy_set(r#"["key with space"] "v""#).unwrap();
        assert_eq!(path, vec![PathComp::Key("key with space".into())]);
        assert_eq!(v, Value::str("v"));
        assert_eq!(
            parse_legacy_set("nope").unwrap_err().code,
            Code::InvalidSetFormat
        );
    }

    #[test]
    fn paths_are_exit_7() {
        assert_eq!(
            parse_change_path("bad", "unset").unwrap_err().message,
            "Invalid unset index format"
        );
    }
}
