//! Lossless rendering: each sealed or opened leaf replaces its span in the source, then the
//! output is parsed again and compared with the intended tree (floats by value, times
//! normalised) before it is returned.

use std::ops::Range;

use super::emit::meta_toml;
use super::parse::{meta_value, Slot, TomlDoc};
use super::syntax::{
    basic, is_bad_control, is_local_datetime, literal, ml_basic, parse_value, scalar_text,
    string_text, Style,
};
use crate::error::{Code, Error, Result};
use crate::format::compare::{self, Leeway};
use crate::format::{Edit, Parsed};
use crate::tree::{walk_leaves, walk_leaves_mut, Item, Scalar, Value};

/// Two leaves hold the same value as TOML reads them (see [`Leeway::TOML`]).
pub(super) fn eq_scalar(a: &Scalar, b: &Scalar) -> bool {
    compare::scalar_eq(a, b, Leeway::TOML)
}

/// Two trees are the same as TOML reads them.
pub(super) fn eq_tree(a: &Value, b: &Value) -> bool {
    compare::tree_eq(a, b, Leeway::TOML)
}

/// The key path of the first leaf that differs, for an error message.
pub(super) fn first_difference(want: &[Value], got: &[Value]) -> String {
    let leaves = |docs: &[Value]| {
        let mut v = Vec::new();
        walk_leaves(docs, |_, p, s| v.push((p.join("."), s.clone())));
        v
    };
    let (w, g) = (leaves(want), leaves(got));
    match compare::first_difference(&w, &g, eq_scalar) {
        Some("") => "the top level".to_string(),
        Some(p) => p.to_string(),
        None => "the document structure".to_string(),
    }
}

/// The data a fresh emit must keep: no comments, no nulls, bytes as text.
pub(super) fn data_only(v: &Value) -> Value {
    match v {
        Value::Map(items) => Value::Map(
            items
                .iter()
                .filter_map(|i| match i {
                    Item::Entry(_, Value::Null) | Item::Comment(_) => None,
                    Item::Entry(k, v) => Some(Item::Entry(k.clone(), data_only(v))),
                })
                .collect(),
        ),
        Value::List(items) => Value::List(
            items
                .iter()
                .filter(|v| !matches!(v, Value::Null | Value::Scalar(Scalar::Comment(_))))
                .map(data_only)
                .collect(),
        ),
        Value::Scalar(Scalar::Raw(b)) | Value::Scalar(Scalar::Bytes(b)) => {
            Value::str(String::from_utf8_lossy(b).into_owned())
        }
        other => other.clone(),
    }
}

/// Metadata compared without regard to key order.
pub(super) fn canon_meta(v: &Value) -> Value {
    match meta_value(data_only(v)) {
        Value::Map(mut items) => {
            items.sort_by(|a, b| match (a, b) {
                (Item::Entry(x, _), Item::Entry(y, _)) => x.cmp(y),
                _ => std::cmp::Ordering::Equal,
            });
            Value::Map(
                items
                    .into_iter()
                    .map(|i| match i {
                        Item::Entry(k, v) => Item::Entry(k, canon_meta(&v)),
                        c => c,
                    })
                    .collect(),
            )
        }
        Value::List(items) => Value::List(items.iter().map(canon_meta).collect()),
        other => other,
    }
}

pub(super) fn meta_matches(meta: Option<&Value>, back: Option<&Value>) -> bool {
    match (meta, back) {
        (None, None) => true,
        (Some(m), Some(b)) => eq_tree(&canon_meta(m), &canon_meta(b)),
        _ => false,
    }
}

pub(super) fn dump_error(what: String) -> Error {
    Error::new(
        Code::ErrorDumpingTree,
        format!("could not write toml: {what}"),
    )
}

/// A sealed token in the slot's style.
pub(super) fn seal_form(token: &str, style: Style) -> String {
    let plain = !token.contains(['"', '\'', '\\'])
        && !token.contains(is_bad_control)
        && !token.contains('\n');
    if !plain {
        return basic(token);
    }
    match style {
        Style::Basic => format!("\"{token}\""),
        Style::MlBasic => format!("\"\"\"{token}\"\"\""),
        Style::Literal => format!("'{token}'"),
        Style::LocalDate => format!("'''{token}'''"),
    }
}

/// An opened value in the slot's style, and the scalar it reads back as.
pub(super) fn open_form(s: &Scalar, style: Style, label: &str) -> Result<(String, Scalar)> {
    if matches!(
        s,
        Scalar::Int(_) | Scalar::Float(_) | Scalar::Bool(_) | Scalar::Time(_)
    ) {
        return Ok((scalar_text(s, label)?, s.clone()));
    }
    let t = string_text(s, label)?;
    let form = match style {
        Style::LocalDate if is_local_datetime(&t) => t.clone(),
        Style::Literal => literal(&t).unwrap_or_else(|| basic(&t)),
        Style::MlBasic => ml_basic(&t),
        _ => basic(&t),
    };
    let reads_back = match parse_value(&form) {
        Some(toml_edit::Value::String(v)) => v.value() == &t,
        Some(toml_edit::Value::Datetime(_)) => style == Style::LocalDate,
        _ => false,
    };
    Ok((if reads_back { form } else { basic(&t) }, Scalar::Str(t)))
}

/// The text of a comment leaf, checked to fit on its line.
pub(super) fn comment_form(s: &Scalar, label: &str) -> Result<String> {
    let t = string_text(s, label)?;
    if t.contains(is_bad_control) {
        return Err(dump_error(format!(
            "a comment in {label} holds a line break or control character"
        ))
        .hint("TOML comments are single lines"));
    }
    Ok(t)
}

impl Parsed for TomlDoc {
    fn docs(&self) -> &[Value] {
        &self.docs
    }

    fn metadata(&self) -> Option<&Value> {
        self.meta.as_ref()
    }

    fn render(&self, edits: &[Edit], meta: Option<&Value>) -> Result<Vec<u8>> {
        crate::format::one_edit_per_leaf(edits, self.slots.len(), "toml")?;
        let mut reps: Vec<(Range<usize>, String)> = Vec::new();
        let mut expected_leaves: Vec<Option<Scalar>> = Vec::with_capacity(edits.len());
        for (slot, edit) in self.slots.iter().zip(edits) {
            let exp = match (slot, edit) {
                (_, Edit::Keep) => None,
                (Slot::Value { span, style, .. }, Edit::Seal(token)) => {
                    reps.push((span.clone(), seal_form(token, *style)));
                    Some(Scalar::Str(token.clone()))
                }
                (Slot::Value { span, style, label }, Edit::Open(s)) => {
                    let (form, exp) = open_form(s, *style, label)?;
                    reps.push((span.clone(), form));
                    Some(exp)
                }
                (Slot::Comment { span, label }, Edit::Seal(token)) => {
                    let t = comment_form(&Scalar::Comment(token.clone()), label)?;
                    reps.push((span.clone(), t.clone()));
                    Some(Scalar::Comment(t))
                }
                (Slot::Comment { span, label }, Edit::Open(s)) => {
                    let t = comment_form(s, label)?;
                    reps.push((span.clone(), t.clone()));
                    Some(Scalar::Comment(t))
                }
            };
            expected_leaves.push(exp);
        }
        for r in &self.meta_ranges {
            reps.push((r.clone(), String::new()));
        }
        let mut out = crate::format::splice(&self.src, &mut reps, "toml")?;
        if let Some(meta) = meta {
            if !out.is_empty() {
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push('\n');
            }
            out.push_str(&meta_toml(meta)?);
        }

        // Check that the result reads back as intended.
        let mut expected = self.docs.clone();
        walk_leaves_mut(&mut expected, |i, _, s| {
            if let Some(Some(e)) = expected_leaves.get(i) {
                *s = e.clone();
            }
        });
        let back = TomlDoc::parse(out.as_bytes()).map_err(|e| dump_error(e.message))?;
        if back.docs.len() != expected.len()
            || !back.docs.iter().zip(&expected).all(|(a, b)| eq_tree(a, b))
        {
            let at = first_difference(&expected, &back.docs);
            return Err(dump_error(format!(
                "the leaf at {at} would not read back the same"
            )));
        }
        if !meta_matches(meta, back.meta.as_ref()) {
            return Err(dump_error(
                "the sops metadata would not read back the same".into(),
            ));
        }
        Ok(out.into_bytes())
    }
}
