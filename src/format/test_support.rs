//! Helpers the stores' unit tests share: a document's leaves with their AAD paths, in walk
//! order, and a readable form of them for assertions. Test code only; nothing here may be
//! used by a store itself.

use crate::format::Parsed;
use crate::tree::{aad, walk_leaves, Scalar};

/// Every leaf of a parsed document with its AAD path, in the order the engine walks them.
pub(crate) fn leaves<P: Parsed + ?Sized>(p: &P) -> Vec<(String, Scalar)> {
    let mut v = Vec::new();
    walk_leaves(p.docs(), |_, path, s| v.push((aad(path), s.clone())));
    v
}

/// Leaves with their type and text visible, for readable assertions.
pub(crate) fn shown(v: Vec<(String, Scalar)>) -> Vec<(String, &'static str, String)> {
    v.into_iter()
        .map(|(p, s)| {
            (
                p,
                s.type_name(),
                String::from_utf8_lossy(&s.plaintext()).into_owned(),
            )
        })
        .collect()
}

/// What rendering `src` without metadata gives: the same bytes, ending with a line break
/// (sops's plaintext always does).
pub(crate) fn plain_of(src: &str) -> String {
    if src.ends_with('\n') {
        src.to_string()
    } else {
        format!("{src}\n")
    }
}
