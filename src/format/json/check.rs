//! The independent check of every JSON file veil writes: the output is re-read with serde_json
//! (a different parser from veil's own lexer) into a duplicate-preserving tree, and compared
//! with what the caller meant to write — same structure, same keys in the same order, each leaf
//! decoding to the intended value, and the `sops` member present (last) exactly when wanted.
//!
//! It exists so that a splicing bug can never silently write a corrupt or different file. It
//! must not report values in its errors (only key paths) and must not be skipped for speed.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::{Code, Error, Result};
use crate::tree::{parse_go_float, Item, Scalar, Value};

/// A JSON value as serde_json reads it, keeping duplicate keys and their order.
#[derive(Debug)]
enum J {
    Null,
    Bool(bool),
    I(i64),
    U(u64),
    F(f64),
    S(String),
    A(Vec<J>),
    O(Vec<(String, J)>),
}

struct JVisitor;

impl<'de> Visitor<'de> for JVisitor {
    type Value = J;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> std::result::Result<J, E> {
        Ok(J::Null)
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<J, E> {
        Ok(J::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<J, E> {
        Ok(J::I(v))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<J, E> {
        Ok(J::U(v))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<J, E> {
        Ok(J::F(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<J, E> {
        Ok(J::S(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<J, E> {
        Ok(J::S(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<J, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element::<J>()? {
            v.push(x);
        }
        Ok(J::A(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<J, A::Error> {
        let mut v = Vec::new();
        while let Some((k, x)) = map.next_entry::<String, J>()? {
            v.push((k, x));
        }
        Ok(J::O(v))
    }
}

impl<'de> Deserialize<'de> for J {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<J, D::Error> {
        d.deserialize_any(JVisitor)
    }
}

/// What one leaf should read back as.
#[derive(Debug, Clone)]
pub enum Want<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl<'a> Want<'a> {
    /// What a scalar written by [`super::write::scalar_into`] reads back as.
    pub fn of(s: &'a Scalar) -> Want<'a> {
        match s {
            Scalar::Str(t) | Scalar::Comment(t) | Scalar::Time(t) => Want::Str(Cow::Borrowed(t)),
            Scalar::Raw(b) | Scalar::Bytes(b) => Want::Str(String::from_utf8_lossy(b)),
            Scalar::Int(i) => Want::Int(*i),
            Scalar::Bool(b) => Want::Bool(*b),
            Scalar::Float(f) => Want::Float(parse_go_float(f).unwrap_or(f64::NAN)),
        }
    }

    fn matches(&self, j: &J) -> bool {
        match (self, j) {
            (Want::Str(a), J::S(b)) => a == b,
            (Want::Bool(a), J::Bool(b)) => a == b,
            (Want::Int(a), J::I(b)) => a == b,
            (Want::Int(a), J::U(b)) => u64::try_from(*a).is_ok_and(|a| a == *b),
            (Want::Int(a), J::F(b)) => close(*a as f64, *b), // `-0`
            (Want::Float(a), J::I(b)) => close(*a, *b as f64),
            (Want::Float(a), J::U(b)) => close(*a, *b as f64),
            (Want::Float(a), J::F(b)) => close(*a, *b),
            _ => false,
        }
    }
}

/// Float equality up to a few ULPs: serde_json (without `float_roundtrip`) may round the last
/// bit differently from Rust's exact parser.
fn close(a: f64, b: f64) -> bool {
    if a == b {
        return true;
    }
    if !a.is_finite() || !b.is_finite() || a.signum() != b.signum() {
        return false;
    }
    a.to_bits().abs_diff(b.to_bits()) <= 2
}

fn fail(what: &str, path: &[&str]) -> Error {
    let at: String = path.iter().map(|k| format!("[{k:?}]")).collect();
    let at = if at.is_empty() {
        "the top level".to_string()
    } else {
        at
    };
    Error::new(
        Code::ErrorDumpingTree,
        format!("internal error: the JSON veil wrote does not read back as intended ({what} at {at}); nothing was written"),
    )
    .hint("please report this with the file's structure (not its values); sops can still process the file")
}

/// Re-read `out` with serde_json and check it holds `doc` with its leaves replaced by `leaves`
/// (in walk order), plus a last `"sops"` member equal to `meta` when given. Map comments in
/// `doc` are skipped (JSON drops them). Content after the first value is ignored.
pub fn verify(out: &[u8], doc: &Value, leaves: &[Want], meta: Option<&Value>) -> Result<()> {
    let mut de = serde_json::Deserializer::from_slice(out);
    let j = J::deserialize(&mut de).map_err(|e| {
        // serde's message has line/column and a category, never the data.
        fail(&format!("not valid JSON: {}", e.classify_name()), &[])
    })?;
    let J::O(members) = j else {
        return Err(fail("the top level is not an object", &[]));
    };
    let (data, sops): (Vec<_>, Vec<_>) = members.iter().partition(|(k, _)| k != "sops");
    let mut c = Cmp {
        leaves,
        next: 0,
        path: Vec::new(),
    };
    let Value::Map(items) = doc else {
        return Err(fail("the document is not an object", &[]));
    };
    c.map(items, data.into_iter().map(|(k, v)| (k.as_str(), v)))?;
    if c.next != leaves.len() {
        return Err(fail("leaf count differs", &[]));
    }
    match (meta, sops.as_slice()) {
        (None, []) => {}
        (Some(m), [(_, j)]) => {
            if members.last().map(|(k, _)| k.as_str()) != Some("sops") {
                return Err(fail("the sops member is not last", &[]));
            }
            c.path.push("sops");
            c.exact(m, j)?;
        }
        (None, _) => return Err(fail("a sops member remains", &[])),
        (Some(_), _) => return Err(fail("expected exactly one sops member", &[])),
    }
    Ok(())
}

/// The leaves of `v` as a fresh emission writes them: map comments are skipped (JSON drops
/// them), list comments are strings.
pub fn wants_of(v: &Value) -> Vec<Want<'_>> {
    fn go<'a>(v: &'a Value, out: &mut Vec<Want<'a>>) {
        match v {
            Value::Null => {}
            Value::Scalar(s) => out.push(Want::of(s)),
            Value::List(items) => items.iter().for_each(|i| go(i, out)),
            Value::Map(items) => items.iter().for_each(|i| {
                if let Item::Entry(_, v) = i {
                    go(v, out)
                }
            }),
        }
    }
    let mut out = Vec::new();
    go(v, &mut out);
    out
}

/// Check `out` holds exactly `v` (a fresh emission).
pub fn verify_value(out: &[u8], v: &Value) -> Result<()> {
    let mut de = serde_json::Deserializer::from_slice(out);
    let j = J::deserialize(&mut de)
        .map_err(|e| fail(&format!("not valid JSON: {}", e.classify_name()), &[]))?;
    let mut c = Cmp {
        leaves: &[],
        next: 0,
        path: Vec::new(),
    };
    c.exact(v, &j)
}

trait Classify {
    fn classify_name(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        use serde_json::error::Category;
        match self.classify() {
            Category::Io => "io",
            Category::Syntax => "syntax error",
            Category::Data => "data error",
            Category::Eof => "unexpected end",
        }
    }
}

struct Cmp<'w, 'a, 'p> {
    leaves: &'w [Want<'a>],
    next: usize,
    path: Vec<&'p str>,
}

impl<'p> Cmp<'_, '_, 'p> {
    /// Compare a map's entries (comments skipped) with the given JSON members.
    fn map<'j: 'p>(
        &mut self,
        items: &'p [Item],
        mut members: impl Iterator<Item = (&'j str, &'j J)>,
    ) -> Result<()> {
        for it in items {
            let Item::Entry(k, v) = it else { continue };
            let Some((jk, jv)) = members.next() else {
                return Err(fail("a key is missing", &self.path));
            };
            if jk != k {
                return Err(fail("a key differs", &self.path));
            }
            self.path.push(k);
            self.value(v, jv)?;
            self.path.pop();
        }
        if members.next().is_some() {
            return Err(fail("an extra key", &self.path));
        }
        Ok(())
    }

    /// Compare a data value, leaves taken from the wanted list.
    fn value<'j: 'p>(&mut self, v: &'p Value, j: &'j J) -> Result<()> {
        match (v, j) {
            (Value::Null, J::Null) => Ok(()),
            (Value::Scalar(_), j) => {
                let want = self
                    .leaves
                    .get(self.next)
                    .ok_or_else(|| fail("too many leaves", &self.path))?;
                self.next += 1;
                if want.matches(j) {
                    Ok(())
                } else {
                    Err(fail("a value differs", &self.path))
                }
            }
            (Value::List(items), J::A(js)) if items.len() == js.len() => {
                for (v, j) in items.iter().zip(js) {
                    self.value(v, j)?;
                }
                Ok(())
            }
            (Value::Map(items), J::O(js)) => {
                self.map(items, js.iter().map(|(k, v)| (k.as_str(), v)))
            }
            _ => Err(fail("the structure differs", &self.path)),
        }
    }

    /// Compare a value exactly (no leaf substitutions).
    fn exact<'j: 'p>(&mut self, v: &'p Value, j: &'j J) -> Result<()> {
        match (v, j) {
            (Value::Null, J::Null) => Ok(()),
            (Value::Scalar(s), j) => {
                if Want::of(s).matches(j) {
                    Ok(())
                } else {
                    Err(fail("a value differs", &self.path))
                }
            }
            (Value::List(items), J::A(js)) if items.len() == js.len() => {
                for (v, j) in items.iter().zip(js) {
                    self.exact(v, j)?;
                }
                Ok(())
            }
            (Value::Map(items), J::O(js)) => {
                let mut js = js.iter();
                for it in items {
                    let Item::Entry(k, v) = it else { continue };
                    match js.next() {
                        Some((jk, jv)) if jk == k => {
                            self.path.push(k);
                            self.exact(v, jv)?;
                            self.path.pop();
                        }
                        _ => return Err(fail("a key differs", &self.path)),
                    }
                }
                if js.next().is_some() {
                    return Err(fail("an extra key", &self.path));
                }
                Ok(())
            }
            _ => Err(fail("the structure differs", &self.path)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        Value::Map(vec![
            Item::Entry("a".into(), Value::Scalar(Scalar::Int(1))),
            Item::Entry("b".into(), Value::List(vec![Value::str("x"), Value::Null])),
        ])
    }

    #[test]
    fn accepts_the_intended_file() {
        let want = [Want::Str("T".into()), Want::Str("x".into())];
        verify(
            br#"{"a": "T", "b": ["x", null]} trailing"#,
            &doc(),
            &want,
            None,
        )
        .unwrap();
        let meta = Value::Map(vec![Item::Entry("v".into(), Value::str("3"))]);
        verify(
            br#"{"a": "T", "b": ["x", null], "sops": {"v": "3"}}"#,
            &doc(),
            &want,
            Some(&meta),
        )
        .unwrap();
    }

    #[test]
    fn rejects_differences() {
        let want = [Want::Int(1), Want::Str("x".into())];
        let meta = Value::Map(vec![]);
        for (bad, m) in [
            (&br#"{"a": 2, "b": ["x", null]}"#[..], None),
            (br#"{"a": 1, "b": ["y", null]}"#, None),
            (br#"{"a": 1, "b": ["x"]}"#, None),
            (br#"{"b": ["x", null], "a": 1}"#, None),
            (br#"{"a": 1, "b": ["x", null], "c": 1}"#, None),
            (br#"{"a": 1, "b": ["x", null], "sops": {}}"#, None),
            (br#"{"a": 1, "b": ["x", null]}"#, Some(&meta)),
            (br#"{"sops": {}, "a": 1, "b": ["x", null]}"#, Some(&meta)),
            (br#"{"a": 1, "b": ["x", null]"#, None),
            (br#"{"a": "1", "b": ["x", null]}"#, None),
        ] {
            let e = verify(bad, &doc(), &want, m).unwrap_err();
            assert_eq!(
                e.code,
                Code::ErrorDumpingTree,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(Want::Float(100.0).matches(&J::U(100)));
        assert!(Want::Int(0).matches(&J::F(-0.0)));
        assert!(Want::Float(1e300).matches(&J::F(1e300)));
        assert!(!Want::Float(1.5).matches(&J::F(1.25)));
        assert!(!Want::Int(-1).matches(&J::U(u64::MAX)));
    }
}
