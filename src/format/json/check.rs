//! The independent check of every JSON file veil writes: the output is re-read with serde_json
//! (a different parser from veil's own lexer) and compared, while it streams, with what the
//! caller meant to write — same structure, same keys in the same order (duplicates included),
//! each leaf decoding to the intended value, and the `sops` member present (last) exactly when
//! wanted.
//!
//! It exists so that a splicing bug can never silently write a corrupt or different file. It
//! must not report values in its errors (only key paths), must not be skipped for speed, and
//! does not build a second tree (strings are compared in place), so it stays cheap on big files.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::{Code, Error, Result};
use crate::tree::{parse_go_float, Item, Scalar, Value};

/// What one leaf should read back as.
#[derive(Debug, Clone)]
pub enum Want<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// A scalar as serde_json read it.
#[derive(Clone, Copy)]
enum Got<'s> {
    Bool(bool),
    I(i64),
    U(u64),
    F(f64),
    S(&'s str),
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

    fn matches(&self, g: Got) -> bool {
        match (self, g) {
            (Want::Str(a), Got::S(b)) => a == b,
            (Want::Bool(a), Got::Bool(b)) => *a == b,
            (Want::Int(a), Got::I(b)) => *a == b,
            (Want::Int(a), Got::U(b)) => u64::try_from(*a).is_ok_and(|a| a == b),
            (Want::Int(a), Got::F(b)) => close(*a as f64, b), // `-0`
            (Want::Float(a), Got::I(b)) => close(*a, b as f64),
            (Want::Float(a), Got::U(b)) => close(*a, b as f64),
            (Want::Float(a), Got::F(b)) => close(*a, b),
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
        format!(
            "internal error: the JSON veil wrote does not read back as intended ({what} at {at}); nothing was written"
        ),
    )
    .hint("please report this with the file's structure (not its values); sops can still process the file")
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

/// Re-read `out` with serde_json and check it holds `doc` with its leaves replaced by `leaves`
/// (in walk order), plus a last `"sops"` member equal to `meta` when given. Map comments in
/// `doc` are skipped (JSON drops them). Content after the first value is ignored.
pub fn verify(out: &[u8], doc: &Value, leaves: &[Want], meta: Option<&Value>) -> Result<()> {
    let Value::Map(items) = doc else {
        return Err(fail("the document is not an object", &[]));
    };
    let mut c = Cmp {
        leaves,
        next: 0,
        path: Vec::new(),
        why: None,
    };
    run(out, &mut c, |c, de| Top { c, items, meta }.deserialize(de))?;
    if c.next != leaves.len() {
        return Err(fail("leaf count differs", &[]));
    }
    Ok(())
}

/// Check `out` holds exactly `v` (a fresh emission whose top level is not an object).
pub fn verify_value(out: &[u8], v: &Value) -> Result<()> {
    let mut c = Cmp {
        leaves: &[],
        next: 0,
        path: Vec::new(),
        why: None,
    };
    run(out, &mut c, |c, de| {
        Seed { c, v, exact: true }.deserialize(de)
    })
}

type De<'o> = serde_json::Deserializer<serde_json::de::SliceRead<'o>>;

/// Deserialize `out` with `go` (a seed over `c`) and turn a stop into veil's error.
fn run<'a, 'w>(
    out: &[u8],
    c: &mut Cmp<'a, 'w>,
    go: impl FnOnce(&mut Cmp<'a, 'w>, &mut De<'_>) -> std::result::Result<(), serde_json::Error>,
) -> Result<()> {
    let mut de = serde_json::Deserializer::from_slice(out);
    let Err(e) = go(c, &mut de) else {
        return Ok(());
    };
    let why = c.why.unwrap_or(match e.classify() {
        // serde's own error: say what kind, never the data.
        serde_json::error::Category::Eof => "not valid JSON: unexpected end",
        serde_json::error::Category::Syntax => "not valid JSON: syntax error",
        _ => "not valid JSON",
    });
    Err(fail(why, &c.path))
}

/// The comparison state: the wanted leaves, how many were consumed, where we are, and why the
/// comparison stopped (if it did).
struct Cmp<'a, 'w> {
    leaves: &'w [Want<'a>],
    next: usize,
    path: Vec<&'a str>,
    why: Option<&'static str>,
}

impl<'a> Cmp<'a, '_> {
    fn stop<E: de::Error>(&mut self, why: &'static str) -> E {
        self.why = Some(why);
        E::custom(why)
    }

    fn scalar<E: de::Error>(
        &mut self,
        v: &'a Value,
        exact: bool,
        got: Got,
    ) -> std::result::Result<(), E> {
        let Value::Scalar(s) = v else {
            return Err(self.stop("the structure differs"));
        };
        let ok = if exact {
            Want::of(s).matches(got)
        } else {
            let Some(want) = self.leaves.get(self.next) else {
                return Err(self.stop("too many leaves"));
            };
            self.next += 1;
            want.matches(got)
        };
        if ok {
            Ok(())
        } else {
            Err(self.stop("a value differs"))
        }
    }
}

/// A map key, borrowed from the output when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Compares one value with `v`: leaves from the wanted list, or (`exact`) with `v`'s own.
struct Seed<'c, 'a, 'w> {
    c: &'c mut Cmp<'a, 'w>,
    v: &'a Value,
    exact: bool,
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the value veil meant to write")
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        match self.v {
            Value::Null => Ok(()),
            _ => Err(self.c.stop("the structure differs")),
        }
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> std::result::Result<(), E> {
        self.c.scalar(self.v, self.exact, Got::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> std::result::Result<(), E> {
        self.c.scalar(self.v, self.exact, Got::I(i))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> std::result::Result<(), E> {
        self.c.scalar(self.v, self.exact, Got::U(u))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> std::result::Result<(), E> {
        self.c.scalar(self.v, self.exact, Got::F(f))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<(), E> {
        self.c.scalar(self.v, self.exact, Got::S(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let Value::List(items) = self.v else {
            return Err(self.c.stop("the structure differs"));
        };
        for it in items {
            let seed = Seed {
                c: &mut *self.c,
                v: it,
                exact: self.exact,
            };
            if seq.next_element_seed(seed)?.is_none() {
                return Err(self.c.stop("a list element is missing"));
            }
        }
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(self.c.stop("an extra list element"));
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let Value::Map(items) = self.v else {
            return Err(self.c.stop("the structure differs"));
        };
        for it in items {
            let Item::Entry(k, v) = it else { continue };
            match map.next_key::<Key>()? {
                Some(Key(got)) if got == k.as_str() => {}
                Some(_) => return Err(self.c.stop("a key differs")),
                None => return Err(self.c.stop("a key is missing")),
            }
            self.c.path.push(k);
            map.next_value_seed(Seed {
                c: &mut *self.c,
                v,
                exact: self.exact,
            })?;
            self.c.path.pop();
        }
        if map.next_key::<IgnoredAny>()?.is_some() {
            return Err(self.c.stop("an extra key"));
        }
        Ok(())
    }
}

/// The top-level object: data members compared with `items`, and the `sops` member(s).
struct Top<'c, 'a, 'w> {
    c: &'c mut Cmp<'a, 'w>,
    items: &'a [Item],
    meta: Option<&'a Value>,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut entries = self.items.iter().filter_map(|i| match i {
            Item::Entry(k, v) => Some((k.as_str(), v)),
            Item::Comment(_) => None,
        });
        let mut sops_seen = false;
        while let Some(Key(key)) = map.next_key::<Key>()? {
            if sops_seen {
                return Err(self.c.stop("the sops member is not last"));
            }
            if key == "sops" {
                let Some(meta) = self.meta else {
                    return Err(self.c.stop("a sops member remains"));
                };
                sops_seen = true;
                self.c.path.push("sops");
                map.next_value_seed(Seed {
                    c: &mut *self.c,
                    v: meta,
                    exact: true,
                })?;
                self.c.path.pop();
                continue;
            }
            let Some((k, v)) = entries.next() else {
                return Err(self.c.stop("an extra key"));
            };
            if key != k {
                return Err(self.c.stop("a key differs"));
            }
            self.c.path.push(k);
            map.next_value_seed(Seed {
                c: &mut *self.c,
                v,
                exact: false,
            })?;
            self.c.path.pop();
        }
        if entries.next().is_some() {
            return Err(self.c.stop("a key is missing"));
        }
        if self.meta.is_some() && !sops_seen {
            return Err(self.c.stop("the sops member is missing"));
        }
        Ok(())
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
        let meta = Value::Map(vec![Item::Entry("v".into(), Value::str("3\n"))]);
        verify(
            br#"{"a": "\u0054", "b": ["x", null], "sops": {"v": "3\n"}}"#,
            &doc(),
            &want,
            Some(&meta),
        )
        .unwrap();
        verify_value(
            b"[1, \"x\", null]",
            &Value::List(vec![
                Value::Scalar(Scalar::Int(1)),
                Value::str("x"),
                Value::Null,
            ]),
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
            (br#"{"a": 1, "b": ["x", null, 1]}"#, None),
            (br#"{"b": ["x", null], "a": 1}"#, None),
            (br#"{"a": 1}"#, None),
            (br#"{"a": 1, "b": ["x", null], "c": 1}"#, None),
            (br#"{"a": 1, "b": ["x", null], "sops": {}}"#, None),
            (br#"{"a": 1, "b": ["x", null]}"#, Some(&meta)),
            (br#"{"sops": {}, "a": 1, "b": ["x", null]}"#, Some(&meta)),
            (
                br#"{"a": 1, "b": ["x", null], "sops": {}, "sops": {}}"#,
                Some(&meta),
            ),
            (
                br#"{"a": 1, "b": ["x", null], "sops": {"k": 1}}"#,
                Some(&meta),
            ),
            (br#"{"a": 1, "b": ["x", null]"#, None),
            (br#"{"a": "1", "b": ["x", null]}"#, None),
            (br#"{"a": 1, "b": {"x": null}}"#, None),
            (br#"["a"]"#, None),
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
    fn errors_name_the_path_not_the_value() {
        let want = [Want::Int(1), Want::Str("secret".into())];
        let e = verify(br#"{"a": 1, "b": ["hunter2", null]}"#, &doc(), &want, None).unwrap_err();
        assert!(e.message.contains(r#"["b"]"#), "{}", e.message);
        assert!(!e.message.contains("hunter2") && !e.message.contains("secret"));
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(Want::Float(100.0).matches(Got::U(100)));
        assert!(Want::Int(0).matches(Got::F(-0.0)));
        assert!(Want::Float(1e300).matches(Got::F(1e300)));
        assert!(!Want::Float(1.5).matches(Got::F(1.25)));
        assert!(!Want::Int(-1).matches(Got::U(u64::MAX)));
    }
}
