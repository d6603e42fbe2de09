//! Edits are how the engine hands results to a format: one per leaf, in walk order (seal,
//! open, keep). These helpers apply them to a tree, move them onto another parse of the same
//! shape, and count the leaves an edit list must cover.

use crate::format::Edit;
use crate::tree::{walk_leaves, walk_leaves_mut, Item, Scalar, Value};

/// Replace every leaf of `docs` by its sealed token (for writing an encrypted file in another
/// format): sealed values become strings, sealed comments stay comments.
pub fn apply_edits(docs: &[Value], edits: &[Edit]) -> Vec<Value> {
    let mut out = docs.to_vec();
    walk_leaves_mut(&mut out, |i, _, s| match edits.get(i) {
        Some(Edit::Seal(t)) => {
            *s = if s.is_comment() {
                Scalar::Comment(t.clone())
            } else {
                Scalar::Str(t.clone())
            };
        }
        Some(Edit::Open(v)) => *s = v.clone(),
        _ => {}
    });
    out
}

/// Whether two document lists have the same structure (maps with the same keys in the same
/// order, lists of the same length, comments and leaves in the same places), whatever the
/// scalar values. Edits computed on one can then be rendered on a parse of the other.
pub fn same_shape(a: &[Value], b: &[Value]) -> bool {
    fn go(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Null, Value::Null) => true,
            (Value::Scalar(x), Value::Scalar(y)) => x.is_comment() == y.is_comment(),
            (Value::List(x), Value::List(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| go(p, q))
            }
            (Value::Map(x), Value::Map(y)) => {
                x.len() == y.len()
                    && x.iter().zip(y).all(|(p, q)| match (p, q) {
                        (Item::Entry(k1, v1), Item::Entry(k2, v2)) => k1 == k2 && go(v1, v2),
                        (Item::Comment(_), Item::Comment(_)) => true,
                        _ => false,
                    })
            }
            _ => false,
        }
    }
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| go(x, y))
}

/// Turn edits made for `new_docs` into edits for a parse whose leaves are `source_docs` (the
/// same shape): a leaf left unencrypted (`Keep`) whose value changed is written as `Open`.
pub fn edits_for_source(source_docs: &[Value], new_docs: &[Value], edits: Vec<Edit>) -> Vec<Edit> {
    let mut src = Vec::new();
    walk_leaves(source_docs, |_, _, s| src.push(s));
    let mut new = Vec::new();
    walk_leaves(new_docs, |_, _, s| new.push(s));
    edits
        .into_iter()
        .enumerate()
        .map(|(i, e)| match e {
            Edit::Keep => match (src.get(i), new.get(i)) {
                (Some(a), Some(b)) if a != b => Edit::Open((*b).clone()),
                _ => Edit::Keep,
            },
            other => other,
        })
        .collect()
}

/// The number of leaves of `docs` (the length an edit list must have).
pub fn leaf_count(docs: &[Value]) -> usize {
    let mut n = 0;
    walk_leaves(docs, |_, _, _| n += 1);
    n
}
