//! sops's tree path syntax for `--extract` (and later `set`/`unset`): `["key"]`, `['key']`, `[N]`.

use crate::error::{Code, Error, Result};
use crate::tree::{Item, Value};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathComp {
    Key(String),
    Index(usize),
}

/// Parse `["a"][0]['b']`. Bad syntax is exit 91.
pub fn parse_path(s: &str) -> Result<Vec<PathComp>> {
    let bad = || {
        let why = sops_reason(s).unwrap_or_else(|| format!("invalid tree path format: {s}"));
        Error::new(Code::InvalidTreePathFormat, why)
            .hint(r#"use components like ["key"], ['key'] or [0], e.g. '["data"]["password"]'"#)
    };
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        rest = rest.strip_prefix('[').ok_or_else(bad)?;
        if let Some(q @ ('"' | '\'')) = rest.chars().next() {
            let body = &rest[1..];
            let end = body.find(q).ok_or_else(bad)?;
            out.push(PathComp::Key(body[..end].to_string()));
            rest = body[end + 1..].strip_prefix(']').ok_or_else(bad)?;
        } else {
            let end = rest.find(']').ok_or_else(bad)?;
            let n = rest[..end].trim().parse::<usize>().map_err(|_| bad())?;
            out.push(PathComp::Index(n));
            rest = &rest[end + 1..];
        }
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

/// Why sops refuses a path, in its words, when it refuses it too: sops cuts the path at every
/// `[`, and each piece must end with `]` and be quoted or a number. Paths sops accepts but
/// veil does not (a `[` inside a quoted key) get veil's own reason.
fn sops_reason(s: &str) -> Option<String> {
    for piece in s.split('[').filter(|p| !p.is_empty()) {
        let Some(body) = piece.strip_suffix(']') else {
            return Some(format!("component {piece} doesn't end with ]"));
        };
        if !body.starts_with(['"', '\'']) && body.parse::<i64>().is_err() {
            let why = if !body.is_empty()
                && body
                    .trim_start_matches(['+', '-'])
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            {
                "value out of range"
            } else {
                "invalid syntax"
            };
            return Some(format!("strconv.Atoi: parsing {body:?}: {why}"));
        }
    }
    None
}

/// Follow a path into a document. A missing component is exit 1, as in sops.
pub fn lookup<'a>(doc: &'a Value, path: &[PathComp]) -> Result<&'a Value> {
    let mut cur = doc;
    for c in path {
        let next = match (c, cur) {
            (PathComp::Key(k), Value::Map(items)) => items.iter().find_map(|i| match i {
                Item::Entry(name, v) if name == k => Some(v),
                _ => None,
            }),
            (PathComp::Index(n), Value::List(items)) => items
                .iter()
                .filter(|v| !matches!(v, Value::Scalar(s) if s.is_comment()))
                .nth(*n),
            _ => None,
        };
        cur = next.ok_or_else(|| {
            let name = match c {
                PathComp::Key(k) => format!("'{k}'"),
                PathComp::Index(n) => n.to_string(),
            };
            Error::generic(format!("component [{name}] not found"))
                .hint("check the path against the decrypted file")
        })?;
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            parse_path(r#"["a"][0]['b c']"#).unwrap(),
            vec![
                PathComp::Key("a".into()),
                PathComp::Index(0),
                PathComp::Key("b c".into())
            ]
        );
        for bad in ["", "a", "[", r#"["a"#, "[x]", r#"["a"]x"#] {
            assert_eq!(
                parse_path(bad).unwrap_err().code,
                Code::InvalidTreePathFormat,
                "{bad}"
            );
        }
    }

    #[test]
    fn bad_paths_get_sops_reasons() {
        let why = |p: &str| parse_path(p).unwrap_err().message;
        assert_eq!(why("zz"), "component zz doesn't end with ]");
        assert_eq!(why(r#"["a"]x"#), "component \"a\"]x doesn't end with ]");
        assert_eq!(why("[x]"), r#"strconv.Atoi: parsing "x": invalid syntax"#);
        assert_eq!(why("[]"), r#"strconv.Atoi: parsing "": invalid syntax"#);
        // sops takes mismatched quotes as a key; veil refuses in its own words.
        assert_eq!(why(r#"['a"]"#), r#"invalid tree path format: ['a"]"#);
    }
}
