//! Fresh emission: a tree written as go-ini writes it (aligned `key = value` lines, comments
//! above their key, a blank line between sections), read back and compared before it is
//! returned; the `[sops]` section.

use super::{DEFAULT_SECTION, META_SECTION};

use super::parse::{is_marker, IniDoc};
use super::quote::{cannot_write, goini_key, reads_as, value_forms};
use crate::error::{Code, Error, Result};
use crate::format::compare::first_difference;
use crate::format::compare::single_map;
use crate::format::flatten::{encode_newlines, flatten};
use crate::tree::{Item, Value};

/// Write `key = value` lines for one section with go-ini's alignment. Comments listed for a
/// key go above it. Each value uses the first form that reads back.
pub(super) fn write_body(
    out: &mut String,
    section: &str,
    keys: &[(String, String, Vec<String>)],
) -> Result<()> {
    let align = keys
        .iter()
        .map(|(k, _, _)| {
            if k.contains('"') || k.contains(['=', ':']) {
                k.len() + 2
            } else if k.contains('`') {
                k.len() + 6
            } else {
                k.len()
            }
        })
        .max()
        .unwrap_or(0);
    for (k, v, comments) in keys {
        for c in comments {
            write_comment(out, c);
        }
        let kq = goini_key(k);
        let pad = " ".repeat(align.saturating_sub(kq.len()));
        let prefix = format!("{kq}{pad} = ");
        let form = value_forms(v)
            .into_iter()
            .find(|f| reads_as(&format!("{prefix}{f}\n"), v, None))
            .ok_or_else(|| cannot_write(&format!("{section}:{k}")))?;
        out.push_str(&prefix);
        out.push_str(&form);
        out.push('\n');
    }
    Ok(())
}

/// Write a comment's lines as go-ini does (`; text`, or the line's own marker).
pub(super) fn write_comment(out: &mut String, text: &str) {
    if text.is_empty() {
        return;
    }
    for line in text.split('\n') {
        let t = line.trim();
        match t.chars().next() {
            Some(c) if is_marker(c) => {
                out.push(c);
                out.push(' ');
                out.push_str(t[1..].trim());
            }
            _ => {
                out.push_str("; ");
                out.push_str(t);
            }
        }
        out.push('\n');
    }
}

/// The `[sops]` section, keys sorted, newlines escaped.
pub(super) fn meta_section(meta: &Value) -> Result<String> {
    let keys: Vec<(String, String, Vec<String>)> = flatten(meta, "")
        .into_iter()
        .map(|(k, v)| (k, encode_newlines(&v), Vec::new()))
        .collect();
    let mut out = format!("[{META_SECTION}]\n");
    write_body(&mut out, META_SECTION, &keys)?;
    Ok(out)
}

pub(super) fn emit(docs: &[Value], meta: Option<&Value>) -> Result<String> {
    let (doc, sections) = single_map(docs, "ini")?;
    let mut out = String::new();
    let mut first = true;
    for item in sections {
        // sops drops top-level comments when writing INI.
        let Item::Entry(name, v) = item else { continue };
        let Value::Map(items) = v else {
            return Err(Error::new(
                Code::ErrorDumpingTree,
                format!("cannot write a non-section value as ini; offending key {name}"),
            )
            .hint("INI holds sections of key = value pairs; use --output-type json or yaml"));
        };
        if name == META_SECTION {
            return Err(Error::new(
                Code::ErrorDumpingTree,
                "cannot write a section named sops as ini: it holds the metadata",
            ));
        }
        // Leading comments, then keys with the comments that follow them.
        let mut leading = Vec::new();
        let mut keys: Vec<(String, String, Vec<String>)> = Vec::new();
        for it in items {
            match it {
                Item::Comment(c) => {
                    let t = c.to_env_string();
                    match keys.last_mut() {
                        Some(k) => k.2.push(t),
                        None => leading.push(t),
                    }
                }
                Item::Entry(k, v) => {
                    let text = match v {
                        Value::Scalar(s) => s.to_env_string(),
                        Value::Null => String::new(),
                        Value::Map(_) | Value::List(_) => return Err(Error::new(
                            Code::ErrorDumpingTree,
                            format!("cannot write a nested value as ini; offending key {name}:{k}"),
                        )
                        .hint(
                            "INI holds only section → key → value; use --output-type json or yaml",
                        )),
                    };
                    keys.push((k.clone(), text, Vec::new()));
                }
            }
        }
        let headerless = first && name == DEFAULT_SECTION;
        first = false;
        if headerless && keys.is_empty() {
            continue;
        }
        // go-ini puts a blank line between sections, not after the last one.
        if !out.is_empty() {
            out.push('\n');
        }
        for c in &leading {
            write_comment(&mut out, c);
        }
        if !headerless {
            out.push('[');
            out.push_str(name);
            out.push_str("]\n");
        }
        write_body(&mut out, name, &keys)?;
    }
    if let Some(meta) = meta {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&meta_section(meta)?);
    }
    verify_emit(&out, doc, meta)?;
    Ok(out)
}

/// The tree with comments dropped, every value a string, and a leading empty DEFAULT removed:
/// what must survive a fresh emit.
pub(super) fn data_shape(doc: &Value) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    if let Value::Map(secs) = doc {
        for s in secs {
            if let Item::Entry(name, Value::Map(items)) = s {
                let kv = items
                    .iter()
                    .filter_map(|i| match i {
                        Item::Entry(k, Value::Scalar(v)) => Some((k.clone(), v.to_env_string())),
                        Item::Entry(k, Value::Null) => Some((k.clone(), String::new())),
                        _ => None,
                    })
                    .collect::<Vec<_>>();
                out.push((name.clone(), kv));
            }
        }
    }
    if matches!(out.first(), Some((n, kv)) if n == DEFAULT_SECTION && kv.is_empty()) {
        out.remove(0);
    }
    out
}

pub(super) fn meta_matches(meta: Option<&Value>, back: Option<&Value>) -> bool {
    match (meta, back) {
        (None, None) => true,
        (Some(m), Some(b)) => flatten(m, "") == flatten(b, ""),
        (Some(m), None) => flatten(m, "").is_empty(),
        (None, Some(_)) => false,
    }
}

pub(super) fn verify_emit(out: &str, doc: &Value, meta: Option<&Value>) -> Result<()> {
    let back = IniDoc::parse(out.as_bytes()).map_err(|e| {
        Error::new(
            Code::ErrorDumpingTree,
            format!("could not write ini: {}", e.message),
        )
    })?;
    let want = data_shape(doc);
    let got = back.docs.first().map(data_shape).unwrap_or_default();
    if want != got {
        let at = first_difference(&want, &got, PartialEq::eq).unwrap_or_default();
        return Err(Error::new(
            Code::ErrorDumpingTree,
            format!("could not write ini: section {at} would not read back the same"),
        )
        .hint("INI cannot hold section or key names with line breaks, leading ';', '#' or '[', or surrounding spaces"));
    }
    if !meta_matches(meta, back.meta.as_ref()) {
        return Err(Error::new(
            Code::ErrorDumpingTree,
            "could not write ini: the sops metadata would not read back the same",
        ));
    }
    Ok(())
}
