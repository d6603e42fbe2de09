//! The read-back check: before a file is written, what it parses back to must hold the same
//! leaves (paths, values, kinds) as what veil meant to write. A mismatch is a bug in a format
//! module, and the file is then not written. Big values are compared by digest, so the check
//! does not hold them twice more in memory.

use crate::error::{Code, Error, Result};
use crate::format::Edit;
use crate::tree::{aad, walk_leaves, Scalar, Value};

/// One leaf as the read-back checks compare it: its path, its kind (with `strict`: number,
/// bool or text) and its bytes. Past [`PRINT_INLINE`] bytes a SHA-256 stands for them, so that
/// checking a big value does not hold it twice more in memory.
#[derive(PartialEq, Eq)]
pub struct LeafPrint {
    aad: String,
    class: &'static str,
    bytes: Result<Vec<u8>, [u8; 32]>,
}

/// Leaves up to this many bytes are compared byte for byte.
pub const PRINT_INLINE: usize = 64;

fn leaf_print(path: &[String], s: &Scalar, strict: bool) -> Option<LeafPrint> {
    let owned;
    let (class, bytes): (_, &[u8]) = match s {
        Scalar::Comment(_) => return None,
        Scalar::Str(t) | Scalar::Time(t) => ("text", t.as_bytes()),
        Scalar::Raw(b) | Scalar::Bytes(b) => ("text", b),
        Scalar::Int(i) => {
            owned = i.to_string().into_bytes();
            ("num", &owned)
        }
        Scalar::Float(_) => {
            owned = s.mac_bytes();
            ("num", &owned)
        }
        Scalar::Bool(b) => {
            owned = b.to_string().into_bytes();
            ("bool", &owned)
        }
    };
    Some(print(path, class, bytes, strict))
}

fn print(path: &[String], class: &'static str, bytes: &[u8], strict: bool) -> LeafPrint {
    use sha2::Digest;
    LeafPrint {
        aad: aad(path),
        class: if strict { class } else { "" },
        bytes: if bytes.len() <= PRINT_INLINE {
            Ok(bytes.to_vec())
        } else {
            Err(sha2::Sha256::digest(bytes).into())
        },
    }
}

/// The prints of the leaves of `docs` (comments skipped), or, with `edits`, of `docs` as
/// [`apply_edits`](super::apply_edits) would make them (a sealed leaf becomes its token as text), without building
/// those documents.
pub fn leaf_prints(docs: &[Value], edits: Option<&[Edit]>, strict: bool) -> Vec<LeafPrint> {
    let mut out = Vec::new();
    walk_leaves(docs, |i, path, s| match edits.and_then(|e| e.get(i)) {
        Some(Edit::Seal(_)) if s.is_comment() => {}
        Some(Edit::Seal(t)) => out.push(print(path, "text", t.as_bytes(), strict)),
        Some(Edit::Open(v)) => out.extend(leaf_print(path, v, strict)),
        _ => out.extend(leaf_print(path, s, strict)),
    });
    out
}

/// Refuse unless `actual` (what a written file parses back to) has the same leaf prints as
/// `expected`, in the same order. Refusing here means a bug in a format module; the file is
/// not written.
pub fn verify_prints(expected: &[LeafPrint], actual: &[LeafPrint]) -> Result<()> {
    let refuse = |at: String| {
        Err(Error::new(Code::ErrorDumpingTree, format!("refusing to write: the output does not read back as the intended data (at {at})"))
            .hint("this is a veil bug; the original file is untouched; please report the file's structure (not its values)"))
    };
    for (i, (x, y)) in expected.iter().zip(actual.iter()).enumerate() {
        if x != y {
            return refuse(format!("leaf {i}, {}", x.aad));
        }
    }
    if expected.len() != actual.len() {
        return refuse(format!("leaf count {} vs {}", expected.len(), actual.len()));
    }
    Ok(())
}

/// Check that `actual` (what a written file parses back to) holds the same leaves as
/// `expected`: the same values, in the same order, under the same paths. Comments are skipped,
/// since not every format can hold them everywhere. Numbers compare by value (JSON has one
/// number type) and times as their text. With `strict`, the kind (number, bool, text) must match
/// too; conversions to dotenv/INI turn everything into text, so they compare values only.
/// Refusing here means a bug in a format module; the file is not written.
pub fn verify_same_leaves(expected: &[Value], actual: &[Value], strict: bool) -> Result<()> {
    verify_prints(
        &leaf_prints(expected, None, strict),
        &leaf_prints(actual, None, strict),
    )
}
