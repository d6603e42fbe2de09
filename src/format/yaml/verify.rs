//! The check behind every lossless write: the rendered text is parsed again and compared, leaf
//! by leaf and comment by comment, with what the edits meant it to hold, and with the metadata.
//!
//! It exists because the renderer splices text into a format with many ways to be misread (a
//! quote lost, a block scalar swallowing the next line); a splice that reads back differently
//! must become an error, never a file. It compares values only and must never put one into an
//! error message: a mismatch names the document and the key path.

use super::parse::{self, Indexed, Node, NodeId};
use super::render::dump_error;
use crate::error::{Error, Result};
use crate::format::compare::{self, Leeway};
use crate::format::Edit;
use crate::tree::{Item, Scalar, Value};

/// Re-parse the output and check every leaf (and the metadata) is what the edits intended.
#[cfg(test)]
pub(crate) fn verify(ix: &Indexed, edits: &[Edit], meta: Option<&Value>, out: &str) -> Result<()> {
    let re = parse::index(out).map_err(super::render::reparse_error)?;
    verify_index(ix, edits, meta, &re)
}

/// [`verify`] against an already re-parsed output.
pub(crate) fn verify_index(
    ix: &Indexed,
    edits: &[Edit],
    meta: Option<&Value>,
    re: &Indexed,
) -> Result<()> {
    let out: &str = &re.src;
    if ix.docs.len() != re.doc_info.len() {
        return Err(mismatch("the document count changed"));
    }
    let mut budget = parse::Budget::for_source(out);
    let mut k = 0;
    for (d, (a, info)) in ix.docs.iter().zip(&re.doc_info).enumerate() {
        let mut path = Vec::new();
        let same = match info.root {
            Some(r) => arena_eq(re, r, a, edits, &mut k, &mut path, &mut budget)?,
            None => matches!(a, Value::Map(items) if items.is_empty()),
        };
        if !same {
            return Err(mismatch(&format!(
                "document {}, at {}",
                d + 1,
                show_path(&path)
            )));
        }
    }
    if k != edits.len() {
        return Err(mismatch("the number of values changed"));
    }
    let re_meta = re.meta_value(&mut budget)?;
    match (meta, &re_meta) {
        (None, None) => {}
        (Some(a), Some(b)) => {
            let mut path = Vec::new();
            if !value_eq(a, b, &mut path) {
                return Err(mismatch(&format!(
                    "the sops metadata, at {}",
                    show_path(&path)
                )));
            }
        }
        _ => return Err(mismatch("the sops metadata")),
    }
    Ok(())
}

/// Compare one leaf of the re-parsed output with the original leaf and its edit.
fn leaf_ok(o: &Scalar, g: &Scalar, edits: &[Edit], k: &mut usize) -> bool {
    let e = edits.get(*k);
    *k += 1;
    match e {
        Some(Edit::Keep) => scalar_eq(o, g),
        Some(Edit::Seal(t)) => match g {
            Scalar::Comment(x) => o.is_comment() && x == t,
            Scalar::Str(x) => !o.is_comment() && x == t,
            _ => false,
        },
        Some(Edit::Open(v)) => scalar_eq(v, g),
        None => false,
    }
}

/// Does the re-parsed node `id` equal `orig` with the edits applied? Walks the output's span
/// index directly, in the order [`parse::parse`] numbers leaves.
fn arena_eq<'a>(
    re: &Indexed,
    id: NodeId,
    orig: &'a Value,
    edits: &[Edit],
    k: &mut usize,
    path: &mut Vec<&'a str>,
    budget: &mut parse::Budget,
) -> Result<bool> {
    Ok(match (&re.nodes[id as usize], orig) {
        (Node::Scalar(s), Value::Null) => s.value.is_none(),
        (Node::Scalar(s), Value::Scalar(o)) => match &s.value {
            Some(g) => leaf_ok(o, g, edits, k),
            None => false,
        },
        (Node::Map(m), Value::Map(items)) => {
            if m.items.len() != items.len() {
                return Ok(false);
            }
            for (p, q) in m.items.iter().zip(items) {
                match (p, q) {
                    (parse::MapItem::Comment(c), Item::Comment(o)) => {
                        let g = Scalar::Comment(re.comment_text(*c).to_string());
                        if !leaf_ok(o, &g, edits, k) {
                            return Ok(false);
                        }
                    }
                    (parse::MapItem::Entry { key, value, .. }, Item::Entry(k1, v1)) => {
                        if key != k1 {
                            return Ok(false);
                        }
                        path.push(k1);
                        if !arena_eq(re, *value, v1, edits, k, path, budget)? {
                            return Ok(false);
                        }
                        path.pop();
                    }
                    _ => return Ok(false),
                }
            }
            true
        }
        (Node::Seq(sq), Value::List(items)) => {
            if sq.items.len() != items.len() {
                return Ok(false);
            }
            for (p, q) in sq.items.iter().zip(items) {
                match (p, q) {
                    (parse::SeqItem::Comment(c), Value::Scalar(o)) => {
                        let g = Scalar::Comment(re.comment_text(*c).to_string());
                        if !leaf_ok(o, &g, edits, k) {
                            return Ok(false);
                        }
                    }
                    (parse::SeqItem::Node(n), v) => {
                        if !arena_eq(re, *n, v, edits, k, path, budget)? {
                            return Ok(false);
                        }
                    }
                    _ => return Ok(false),
                }
            }
            true
        }
        (Node::Alias(a), v) => {
            let copy = re.copy_value(a.target, 0, budget)?;
            edited_eq(v, &copy, edits, k, path)
        }
        _ => false,
    })
}

/// Does `got` equal `orig` with the edits applied (leaves numbered from `k` in walk order)?
fn edited_eq<'a>(
    orig: &'a Value,
    got: &Value,
    edits: &[Edit],
    k: &mut usize,
    path: &mut Vec<&'a str>,
) -> bool {
    let leaf = |o: &Scalar, g: &Scalar, k: &mut usize| leaf_ok(o, g, edits, k);
    match (orig, got) {
        (Value::Null, Value::Null) => true,
        (Value::Scalar(o), Value::Scalar(g)) => leaf(o, g, k),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| edited_eq(p, q, edits, k, path))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.len() != y.len() {
                return false;
            }
            for (p, q) in x.iter().zip(y) {
                match (p, q) {
                    (Item::Comment(c), Item::Comment(d)) => {
                        if !leaf(c, d, k) {
                            return false;
                        }
                    }
                    (Item::Entry(k1, v1), Item::Entry(k2, v2)) => {
                        if k1 != k2 {
                            return false;
                        }
                        path.push(k1);
                        if !edited_eq(v1, v2, edits, k, path) {
                            return false;
                        }
                        path.pop();
                    }
                    _ => return false,
                }
            }
            true
        }
        _ => false,
    }
}

fn show_path<S: AsRef<str>>(p: &[S]) -> String {
    if p.is_empty() {
        "the top level".into()
    } else {
        let parts: Vec<&str> = p.iter().map(AsRef::as_ref).collect();
        format!("key '{}'", parts.join(":"))
    }
}

pub(crate) fn mismatch(place: &str) -> Error {
    dump_error(format!("the rendered yaml does not read back as intended ({place})"))
        .hint("this is a veil bug; the file was not written; please report it with the file's layout (not its values)")
}

/// Two leaves hold the same value as YAML reads them (see [`Leeway::YAML`]).
pub(crate) fn scalar_eq(a: &Scalar, b: &Scalar) -> bool {
    compare::scalar_eq(a, b, Leeway::YAML)
}

/// Two trees are the same as YAML reads them; when not, `path` is where they differ.
pub(crate) fn value_eq(a: &Value, b: &Value, path: &mut Vec<String>) -> bool {
    compare::tree_eq_at(a, b, Leeway::YAML, path)
}
