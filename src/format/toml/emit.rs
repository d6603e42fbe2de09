//! Fresh emission: a tree written in TOML's natural layout (for conversions and
//! `--extract`), read back and compared before it is returned; the `[sops]` table.

use super::META_KEY;

use crate::error::Result;
use crate::format::compare::single_map;

use super::parse::{label_of, TomlDoc};
use super::render::{data_only, dump_error, eq_tree, first_difference, meta_matches};
use super::syntax::{is_bad_control, key_text, scalar_text};
use crate::tree::{Item, Scalar, Value};

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Mode {
    /// Data: entries stay in tree order (later sub-tables become headers, earlier ones inline).
    Preserve,
    /// Metadata: values first, then sub-tables and arrays of tables.
    Reorder,
}

pub(super) fn is_table_like(v: &Value) -> bool {
    match v {
        Value::Map(_) => true,
        Value::List(xs) => {
            xs.iter().any(|x| matches!(x, Value::Map(_)))
                && xs.iter().all(|x| {
                    matches!(
                        x,
                        Value::Map(_) | Value::Null | Value::Scalar(Scalar::Comment(_))
                    )
                })
        }
        _ => false,
    }
}

pub(super) fn is_flat_map(v: &Value) -> bool {
    matches!(v, Value::Map(items) if items.iter().all(|i| matches!(i, Item::Comment(_) | Item::Entry(_, Value::Scalar(_) | Value::Null))))
}

pub(super) fn write_comment(out: &mut String, text: &str, indent: &str) {
    for line in text.split('\n') {
        let clean: String = line.chars().filter(|&c| !is_bad_control(c)).collect();
        out.push_str(indent);
        out.push('#');
        out.push_str(&clean);
        out.push('\n');
    }
}

/// A value written inline (after `key = `, or as an array element).
pub(super) fn inline_value(v: &Value, in_inline: bool, label: &str) -> Result<String> {
    Ok(match v {
        Value::Scalar(s) => scalar_text(s, label)?,
        Value::Null => "\"\"".into(),
        Value::List(xs) => {
            let has_comments = xs
                .iter()
                .any(|x| matches!(x, Value::Scalar(Scalar::Comment(_))));
            if has_comments && !in_inline {
                let mut o = String::from("[\n");
                for x in xs {
                    match x {
                        Value::Null => {}
                        Value::Scalar(Scalar::Comment(c)) => write_comment(&mut o, c, "  "),
                        x => {
                            o.push_str("  ");
                            o.push_str(&inline_value(x, in_inline, label)?);
                            o.push_str(",\n");
                        }
                    }
                }
                o.push(']');
                o
            } else {
                let parts = xs
                    .iter()
                    .filter(|x| !matches!(x, Value::Null | Value::Scalar(Scalar::Comment(_))))
                    .map(|x| inline_value(x, in_inline, label))
                    .collect::<Result<Vec<_>>>()?;
                format!("[{}]", parts.join(", "))
            }
        }
        Value::Map(items) => {
            let mut parts = Vec::new();
            for i in items {
                if let Item::Entry(k, v) = i {
                    if !matches!(v, Value::Null) {
                        let label = format!("{label}.{k}");
                        parts.push(format!(
                            "{} = {}",
                            key_text(k),
                            inline_value(v, true, &label)?
                        ));
                    }
                }
            }
            if parts.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", parts.join(", "))
            }
        }
    })
}

pub(super) fn header_path(path: &[String]) -> String {
    path.iter()
        .map(|k| key_text(k))
        .collect::<Vec<_>>()
        .join(".")
}

pub(super) fn write_table(
    out: &mut String,
    path: &mut Vec<String>,
    items: &[Item],
    mode: Mode,
) -> Result<()> {
    let goes_below = |i: &Item| match i {
        Item::Entry(_, v) => match mode {
            Mode::Preserve => is_table_like(v),
            Mode::Reorder => is_table_like(v) && !is_flat_map(v),
        },
        Item::Comment(_) => false,
    };
    // In Preserve mode only the tail of table-like entries can become headers.
    let split = match mode {
        Mode::Preserve => items
            .iter()
            .rposition(|i| {
                matches!(i, Item::Entry(_, v) if !matches!(v, Value::Null)) && !goes_below(i)
            })
            .map_or(0, |p| p + 1),
        Mode::Reorder => items.len(),
    };
    let mut below = Vec::new();
    let mut late_comments = Vec::new();
    for (idx, item) in items.iter().enumerate() {
        let tail = idx >= split;
        match item {
            Item::Comment(c) if tail => late_comments.push(c.to_env_string()),
            Item::Comment(c) => write_comment(out, &c.to_env_string(), ""),
            Item::Entry(_, Value::Null) => {}
            i @ Item::Entry(k, v) => {
                let below_here = match mode {
                    Mode::Preserve => tail,
                    Mode::Reorder => goes_below(i),
                };
                if below_here {
                    below.push((k, v));
                    continue;
                }
                path.push(k.clone());
                let text = inline_value(v, false, &label_of(path))?;
                path.pop();
                out.push_str(&key_text(k));
                out.push_str(" = ");
                out.push_str(&text);
                out.push('\n');
            }
        }
    }
    for c in late_comments {
        write_comment(out, &c, "");
    }
    for (k, v) in below {
        path.push(k.clone());
        match v {
            Value::Map(items) => {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&format!("[{}]\n", header_path(path)));
                write_table(out, path, items, mode)?;
            }
            Value::List(xs) => {
                for x in xs {
                    if let Value::Map(items) = x {
                        if !out.is_empty() {
                            out.push('\n');
                        }
                        out.push_str(&format!("[[{}]]\n", header_path(path)));
                        write_table(out, path, items, mode)?;
                    }
                }
            }
            _ => {}
        }
        path.pop();
    }
    Ok(())
}

/// The `[sops]` table.
pub(super) fn meta_toml(meta: &Value) -> Result<String> {
    let Value::Map(items) = meta else {
        return Err(dump_error("the sops metadata is not a map".into()));
    };
    let mut out = format!("[{META_KEY}]\n");
    write_table(
        &mut out,
        &mut vec![META_KEY.to_string()],
        items,
        Mode::Reorder,
    )?;
    Ok(out)
}

pub(super) fn emit(docs: &[Value], meta: Option<&Value>) -> Result<String> {
    let (doc, items) = single_map(docs, "toml")?;
    if items
        .iter()
        .any(|i| matches!(i, Item::Entry(k, _) if k == META_KEY))
    {
        return Err(dump_error(
            "the top-level key sops is reserved for the metadata".into(),
        ));
    }
    let mut out = String::new();
    write_table(&mut out, &mut Vec::new(), items, Mode::Preserve)?;
    if let Some(meta) = meta {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&meta_toml(meta)?);
    }
    let back = TomlDoc::parse(out.as_bytes()).map_err(|e| dump_error(e.message))?;
    let want = data_only(doc);
    let got = back.docs.first().map(data_only).unwrap_or(Value::Null);
    if !eq_tree(&want, &got) {
        let at = first_difference(&[want], &[got]);
        return Err(dump_error(format!(
            "the value at {at} would not read back the same"
        )));
    }
    if !meta_matches(meta, back.meta.as_ref()) {
        return Err(dump_error(
            "the sops metadata would not read back the same".into(),
        ));
    }
    Ok(out)
}
