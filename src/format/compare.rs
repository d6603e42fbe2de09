//! Equality for the checks that read a rendered file back before it is written, and the other
//! small rules the stores share.
//!
//! Every store re-parses its output and compares it with what it meant to write. A reader may
//! give a value back in another spelling without changing it (a float `1e3` as `1000.0`, a
//! TOML datetime with a space for the `T`, YAML `!!binary` that is UTF-8 as a string); what
//! each format may change is named here once ([`Leeway`]), so the YAML and TOML checks cannot
//! drift apart. These functions only compare: they must not normalise what is written, and
//! must not call two values equal unless sops would read them as the same value.

use crate::error::{Code, Error, Result};
use crate::tree::{normalize_time, parse_go_float, Item, Scalar, Value};

/// What a format's reader may change about a leaf without changing its value (floats are
/// always compared as numbers).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Leeway {
    /// Strings, raw bytes and `type:bytes` compare by their bytes: YAML writes bytes as
    /// `!!binary` or as text, and reads UTF-8 back as a string.
    pub bytes_as_text: bool,
    /// Times compare by their Go text form: TOML writes a datetime in its own spelling.
    pub time_spelling: bool,
}

impl Leeway {
    pub(crate) const YAML: Leeway = Leeway {
        bytes_as_text: true,
        time_spelling: false,
    };
    pub(crate) const TOML: Leeway = Leeway {
        bytes_as_text: false,
        time_spelling: true,
    };
}

/// Two float texts hold the same number: bit for bit (so `-0` is not `0`), or both NaN. Texts
/// that are not Go floats are equal only when they are the same text.
pub(crate) fn floats_eq(x: &str, y: &str) -> bool {
    match (parse_go_float(x), parse_go_float(y)) {
        (Some(p), Some(q)) => p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()),
        _ => x == y,
    }
}

/// Two leaves hold the same value, as a reader of the format allowing `how` sees them.
pub(crate) fn scalar_eq(a: &Scalar, b: &Scalar, how: Leeway) -> bool {
    fn bytes(s: &Scalar) -> Option<&[u8]> {
        match s {
            Scalar::Str(t) => Some(t.as_bytes()),
            Scalar::Raw(b) | Scalar::Bytes(b) => Some(b),
            _ => None,
        }
    }
    match (a, b) {
        (Scalar::Float(x), Scalar::Float(y)) => floats_eq(x, y),
        (Scalar::Time(x), Scalar::Time(y)) => {
            x == y
                || (how.time_spelling
                    && matches!((normalize_time(x), normalize_time(y)), (Some(p), Some(q)) if p == q))
        }
        _ if how.bytes_as_text => match (bytes(a), bytes(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        _ => a == b,
    }
}

/// Two trees are the same: same keys in the same order, same comments, leaves equal by
/// [`scalar_eq`].
pub(crate) fn tree_eq(a: &Value, b: &Value, how: Leeway) -> bool {
    tree_eq_at(a, b, how, &mut Vec::new())
}

/// [`tree_eq`] that, when the trees differ, leaves `path` at the keys of the map entry where
/// they do (for an error message, which names keys, never values).
pub(crate) fn tree_eq_at(a: &Value, b: &Value, how: Leeway, path: &mut Vec<String>) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Scalar(x), Value::Scalar(y)) => scalar_eq(x, y, how),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| tree_eq_at(p, q, how, path))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|(p, q)| match (p, q) {
                    (Item::Comment(c), Item::Comment(d)) => scalar_eq(c, d, how),
                    (Item::Entry(k1, v1), Item::Entry(k2, v2)) => {
                        if k1 != k2 {
                            return false;
                        }
                        path.push(k1.clone());
                        let same = tree_eq_at(v1, v2, how, path);
                        if same {
                            path.pop();
                        }
                        same
                    }
                    _ => false,
                })
        }
        _ => false,
    }
}

/// The label of the first entry of `want` that `got` does not hold at the same place (same
/// label, value equal by `eq`); `None` when `got` holds all of `want`.
pub(crate) fn first_difference<'w, T>(
    want: &'w [(String, T)],
    got: &[(String, T)],
    eq: impl Fn(&T, &T) -> bool,
) -> Option<&'w str> {
    want.iter()
        .enumerate()
        .find_map(|(i, (wl, wv))| match got.get(i) {
            Some((gl, gv)) if gl == wl && eq(wv, gv) => None,
            _ => Some(wl.as_str()),
        })
}

/// The one document of a single-document format (dotenv, INI, TOML) and its map's items: no
/// document is an empty map; several, or one that is not a map, cannot be written.
pub(crate) fn single_map<'a>(docs: &'a [Value], format: &str) -> Result<(&'a Value, &'a [Item])> {
    static EMPTY: Value = Value::Map(Vec::new());
    match docs {
        [] => Ok((&EMPTY, &[])),
        [doc @ Value::Map(items)] => Ok((doc, items)),
        [_] => Err(Error::new(
            Code::ErrorDumpingTree,
            format!("cannot write a non-map document as {format}"),
        )),
        _ => Err(Error::new(
            Code::ErrorDumpingTree,
            format!(
                "cannot write {} documents as {format}, which holds one",
                docs.len()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_compare_as_numbers_and_nan_equals_nan() {
        assert!(floats_eq("1e3", "1000.0"));
        assert!(floats_eq("NaN", "NaN"));
        assert!(!floats_eq("0", "-0"));
        assert!(!floats_eq("1.5", "1.25"));
    }

    #[test]
    fn leeway_is_what_each_format_allows_and_nothing_more() {
        let s = Scalar::Str("a".into());
        let raw = Scalar::Raw(b"a".to_vec());
        assert!(scalar_eq(&s, &raw, Leeway::YAML));
        assert!(!scalar_eq(&s, &raw, Leeway::TOML));
        let t1 = Scalar::Time("1979-05-27T07:32:00.500Z".into());
        let t2 = Scalar::Time("1979-05-27T07:32:00.5Z".into());
        assert!(scalar_eq(&t1, &t2, Leeway::TOML));
        assert!(!scalar_eq(&t1, &t2, Leeway::YAML));
        assert!(!scalar_eq(
            &Scalar::Int(1),
            &Scalar::Bool(true),
            Leeway::YAML
        ));
        assert!(!scalar_eq(&s, &Scalar::Comment("a".into()), Leeway::YAML));
    }

    #[test]
    fn a_differing_tree_leaves_the_path_at_the_difference() {
        let doc = |v: i64| {
            Value::Map(vec![Item::Entry(
                "a".into(),
                Value::Map(vec![Item::Entry("b".into(), Value::Scalar(Scalar::Int(v)))]),
            )])
        };
        let mut path = Vec::new();
        assert!(tree_eq_at(&doc(1), &doc(1), Leeway::YAML, &mut path));
        assert!(path.is_empty());
        assert!(!tree_eq_at(&doc(1), &doc(2), Leeway::YAML, &mut path));
        assert_eq!(path, ["a", "b"]);
    }

    #[test]
    fn first_difference_names_the_first_entry_that_differs() {
        let w = vec![("a".to_string(), 1), ("b".to_string(), 2)];
        assert_eq!(first_difference(&w, &w, |x, y| x == y), None);
        let g = vec![("a".to_string(), 1), ("b".to_string(), 3)];
        assert_eq!(first_difference(&w, &g, |x, y| x == y), Some("b"));
        assert_eq!(first_difference(&w, &g[..1], |x, y| x == y), Some("b"));
    }
}
