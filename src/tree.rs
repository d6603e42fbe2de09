//! Typed scalars, the format-neutral document tree, and key paths.
//!
//! Every format module turns its text into this tree (sops's `TreeBranch`): ordered maps whose
//! items may be comments, lists, and typed scalars. The tree is what the engine seals, opens,
//! hashes and converts between formats. It exists so that crypto and the MAC never look at
//! syntax, and so that formats never look at crypto.
//!
//! **The leaf order is a contract.** [`walk_leaves`] numbers every scalar and comment of the
//! documents depth-first, in document order, skipping nulls. A format module's `render` receives
//! one [`Edit`](crate::format::Edit) per leaf in exactly that order. The MAC is computed in that
//! order too, which is sops's order.
//!
//! Plaintext values are secrets: `Debug` on a [`Scalar`] shows its type, never its content.

use std::fmt;

/// A scalar leaf: the value types sops knows (docs/sops-format.md §1.3) plus comments.
#[derive(Clone, PartialEq)]
pub enum Scalar {
    /// A UTF-8 string (`type:str`).
    Str(String),
    /// Arbitrary bytes sealed as `type:str` (the binary store's `data`).
    Raw(Vec<u8>),
    /// A 64-bit integer (`type:int`).
    Int(i64),
    /// A float (`type:float`), kept as text that Go's `ParseFloat` accepts, so that `1.50` or a
    /// 30-digit JSON number come back exactly as written. The MAC uses Go's canonical form.
    Float(String),
    /// A boolean (`type:bool`, sealed as `True`/`False`).
    Bool(bool),
    /// A timestamp (`type:time`), RFC 3339 as Go's `time.MarshalText` writes it.
    Time(String),
    /// Bytes (`type:bytes`), which sops can read but never writes.
    Bytes(Vec<u8>),
    /// A comment's text after the `#` (leading space included), `type:comment`.
    Comment(String),
}

impl fmt::Debug for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scalar::{}(<redacted>)", self.type_name())
    }
}

impl Scalar {
    /// The `type:` name used in `ENC[…]`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Scalar::Str(_) | Scalar::Raw(_) => "str",
            Scalar::Int(_) => "int",
            Scalar::Float(_) => "float",
            Scalar::Bool(_) => "bool",
            Scalar::Time(_) => "time",
            Scalar::Bytes(_) => "bytes",
            Scalar::Comment(_) => "comment",
        }
    }

    pub fn is_comment(&self) -> bool {
        matches!(self, Scalar::Comment(_))
    }

    /// The string content of a `Str` or `Comment`, if it is one.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) | Scalar::Comment(s) => Some(s),
            _ => None,
        }
    }

    /// Empty strings and empty comments are never encrypted and add nothing to the MAC.
    pub fn is_empty_text(&self) -> bool {
        match self {
            Scalar::Str(s) | Scalar::Comment(s) => s.is_empty(),
            Scalar::Raw(b) => b.is_empty(),
            _ => false,
        }
    }

    /// The bytes that are sealed inside `ENC[…]`.
    pub fn plaintext(&self) -> Vec<u8> {
        match self {
            Scalar::Str(s) | Scalar::Comment(s) | Scalar::Time(s) | Scalar::Float(s) => {
                s.as_bytes().to_vec()
            }
            Scalar::Raw(b) | Scalar::Bytes(b) => b.clone(),
            Scalar::Int(i) => i.to_string().into_bytes(),
            Scalar::Bool(true) => b"True".to_vec(),
            Scalar::Bool(false) => b"False".to_vec(),
        }
    }

    /// The bytes this value adds to the MAC: sops's canonical serialisation (docs/sops-format.md §1.3).
    pub fn mac_bytes(&self) -> Vec<u8> {
        match self {
            Scalar::Float(s) => go_format_float(parse_go_float(s).unwrap_or(f64::NAN)).into_bytes(),
            Scalar::Comment(_) => Vec::new(),
            other => other.plaintext(),
        }
    }

    /// Rebuild a scalar from an opened `ENC[…]` value.
    pub fn from_plaintext(type_name: &str, bytes: Vec<u8>) -> Result<Scalar, String> {
        let text = |b: Vec<u8>| String::from_utf8(b).map_err(|_| "value is not UTF-8".to_string());
        Ok(match type_name {
            "str" => match String::from_utf8(bytes) {
                Ok(s) => Scalar::Str(s),
                Err(e) => Scalar::Raw(e.into_bytes()),
            },
            "int" => {
                let s = text(bytes)?;
                Scalar::Int(
                    s.trim()
                        .parse::<i64>()
                        .map_err(|_| "invalid int value".to_string())?,
                )
            }
            "float" => {
                let s = text(bytes)?;
                if parse_go_float(&s).is_none() {
                    return Err("invalid float value".into());
                }
                Scalar::Float(s)
            }
            "bool" => Scalar::Bool(match text(bytes)?.as_str() {
                "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
                "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
                _ => return Err("invalid bool value".into()),
            }),
            "time" => {
                let s = text(bytes)?;
                Scalar::Time(normalize_time(&s).ok_or("invalid time value")?)
            }
            "bytes" => Scalar::Bytes(bytes),
            "comment" => Scalar::Comment(text(bytes)?),
            other => return Err(format!("Unknown datatype: {other}")),
        })
    }

    /// sops's `ValToString` (docs/sops-format.md §7.5): how dotenv, INI and exec-env render non-strings.
    pub fn to_env_string(&self) -> String {
        match self {
            Scalar::Str(s) | Scalar::Comment(s) => s.clone(),
            Scalar::Raw(b) | Scalar::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Float(s) => go_format_float_g(parse_go_float(s).unwrap_or(f64::NAN)),
            Scalar::Time(t) => time_seconds_only(t),
        }
    }
}

/// The format-neutral tree of one document.
#[derive(Clone, PartialEq, Debug)]
pub enum Value {
    Map(Vec<Item>),
    List(Vec<Value>),
    Scalar(Scalar),
    Null,
}

/// One item of a map: a key and its value, or a comment line.
#[derive(Clone, PartialEq, Debug)]
pub enum Item {
    Entry(String, Value),
    /// A comment line; always a [`Scalar::Comment`].
    Comment(Scalar),
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Scalar(Scalar::Str(s.into()))
    }

    /// The value under `key` in a map (the first one, as sops reads duplicates).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(items) => items.iter().find_map(|i| match i {
                Item::Entry(k, v) if k == key => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Scalar(Scalar::Str(s)) => Some(s),
            _ => None,
        }
    }
}

/// The additional authenticated data for a leaf: its map keys joined and followed by `:`;
/// list indices never appear; the top level is `":"` (docs/sops-format.md §1.2).
pub fn aad(path: &[String]) -> String {
    if path.is_empty() {
        return ":".to_string();
    }
    let mut s = String::new();
    for p in path {
        s.push_str(p);
        s.push(':');
    }
    s
}

/// Visit every leaf (scalar or comment) of `docs` depth-first in document order, nulls
/// skipped. The callback gets the leaf's index, its key path (the AAD path) and the scalar.
/// This order is the contract between formats, the engine and the MAC.
pub fn walk_leaves<'a>(docs: &'a [Value], mut f: impl FnMut(usize, &[String], &'a Scalar)) {
    fn go<'a>(
        v: &'a Value,
        path: &mut Vec<String>,
        n: &mut usize,
        f: &mut dyn FnMut(usize, &[String], &'a Scalar),
    ) {
        match v {
            Value::Null => {}
            Value::Scalar(s) => {
                f(*n, path, s);
                *n += 1;
            }
            Value::List(items) => {
                for it in items {
                    go(it, path, n, f);
                }
            }
            Value::Map(items) => {
                for it in items {
                    match it {
                        // Comments are leaves with the path of the map holding them.
                        Item::Comment(c) => {
                            f(*n, path, c);
                            *n += 1;
                        }
                        Item::Entry(k, v) => {
                            path.push(k.clone());
                            go(v, path, n, f);
                            path.pop();
                        }
                    }
                }
            }
        }
    }
    let mut n = 0usize;
    for d in docs {
        let mut path = Vec::new();
        go(d, &mut path, &mut n, &mut f);
    }
}

/// Like [`walk_leaves`], without per-key allocations: the callback gets the key path as
/// borrowed parts and the leaf's AAD text (exactly what [`aad`] builds from that path), kept in
/// one buffer that grows and shrinks with the walk. For hot loops over large files.
pub fn walk_leaves_aad<'a>(
    docs: &'a [Value],
    mut f: impl FnMut(usize, &[&'a str], &str, &'a Scalar),
) {
    type Visit<'a, 'f> = dyn FnMut(usize, &[&'a str], &str, &'a Scalar) + 'f;
    struct W<'a, 'f> {
        path: Vec<&'a str>,
        buf: String,
        n: usize,
        f: &'f mut Visit<'a, 'f>,
    }
    impl<'a> W<'a, '_> {
        fn leaf(&mut self, s: &'a Scalar) {
            let a = if self.path.is_empty() { ":" } else { &self.buf };
            (self.f)(self.n, &self.path, a, s);
            self.n += 1;
        }
        fn go(&mut self, v: &'a Value) {
            match v {
                Value::Null => {}
                Value::Scalar(s) => self.leaf(s),
                Value::List(items) => {
                    for it in items {
                        self.go(it);
                    }
                }
                Value::Map(items) => {
                    for it in items {
                        match it {
                            Item::Comment(c) => self.leaf(c),
                            Item::Entry(k, v) => {
                                let len = self.buf.len();
                                self.buf.push_str(k);
                                self.buf.push(':');
                                self.path.push(k);
                                self.go(v);
                                self.path.pop();
                                self.buf.truncate(len);
                            }
                        }
                    }
                }
            }
        }
    }
    let mut w = W {
        path: Vec::new(),
        buf: String::new(),
        n: 0,
        f: &mut f,
    };
    for d in docs {
        w.go(d);
    }
}

/// Like [`walk_leaves`], but lets the callback replace each leaf.
pub fn walk_leaves_mut(docs: &mut [Value], mut f: impl FnMut(usize, &[String], &mut Scalar)) {
    fn go(
        v: &mut Value,
        path: &mut Vec<String>,
        n: &mut usize,
        f: &mut dyn FnMut(usize, &[String], &mut Scalar),
    ) {
        match v {
            Value::Null => {}
            Value::Scalar(s) => {
                f(*n, path, s);
                *n += 1;
            }
            Value::List(items) => {
                for it in items {
                    go(it, path, n, f);
                }
            }
            Value::Map(items) => {
                for it in items {
                    match it {
                        Item::Comment(c) => {
                            f(*n, path, c);
                            *n += 1;
                        }
                        Item::Entry(k, v) => {
                            path.push(k.clone());
                            go(v, path, n, f);
                            path.pop();
                        }
                    }
                }
            }
        }
    }
    let mut n = 0usize;
    for d in docs {
        let mut path = Vec::new();
        go(d, &mut path, &mut n, &mut f);
    }
}

/// Lay out the comments that stand as list items the way sops's JSON store does: a sealed one
/// is a string (sops's encryption returns the token as a string), any other is left out (its
/// JSON store skips comments in arrays, so a decrypted file converted to JSON has none).
/// `sealed(i)` says whether leaf `i` (in [`walk_leaves`] order) was sealed.
pub fn list_comments_for_json(docs: &mut [Value], sealed: &dyn Fn(usize) -> bool) {
    fn go(v: &mut Value, n: &mut usize, sealed: &dyn Fn(usize) -> bool) {
        match v {
            Value::Null => {}
            Value::Scalar(_) => *n += 1,
            Value::List(items) => {
                let mut keep = Vec::with_capacity(items.len());
                for it in items.iter_mut() {
                    match it {
                        Value::Scalar(Scalar::Comment(t)) => {
                            let k = sealed(*n);
                            if k {
                                *it = Value::Scalar(Scalar::Str(std::mem::take(t)));
                            }
                            keep.push(k);
                            *n += 1;
                        }
                        _ => {
                            go(it, n, sealed);
                            keep.push(true);
                        }
                    }
                }
                let mut k = keep.into_iter();
                items.retain(|_| k.next().unwrap_or(true));
            }
            Value::Map(items) => {
                for it in items.iter_mut() {
                    match it {
                        Item::Comment(_) => *n += 1,
                        Item::Entry(_, v) => go(v, n, sealed),
                    }
                }
            }
        }
    }
    let mut n = 0usize;
    docs.iter_mut().for_each(|d| go(d, &mut n, sealed));
}

/// Parse a float the way Go's `strconv.ParseFloat(s, 64)` does for the forms sops writes:
/// decimal and exponent notation, `+Inf`/`-Inf`/`Inf`/`NaN` (any case), optional sign.
pub fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.trim_start_matches(['+', '-']);
    let neg = s.starts_with('-');
    let lower = t.to_ascii_lowercase();
    if s.len() - t.len() > 1 {
        return None;
    }
    match lower.as_str() {
        "inf" | "infinity" => {
            return Some(if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    let ok = !t.is_empty()
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && t.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.');
    if !ok {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, never an exponent.
pub fn go_format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        // Rust's Display is shortest-round-trip and never uses an exponent, like Go's 'f'/-1.
        format!("{v}")
    }
}

/// sops's `ValToString` for floats: Go's `'G'` shortest form, with `.0` added to integral
/// results (`2.0` → `2.0`, `1234567.0` → `1.234567E+06`, `1e-05` → `1E-05`).
pub fn go_format_float_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Shortest digits via Rust's exponent formatting: "d.ddde±x".
    let e = format!("{v:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let s = if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}E{}{:02}", mant, sign, exp.abs())
    } else {
        format!("{v}")
    };
    if s.contains('.') || s.contains('E') {
        s
    } else {
        format!("{s}.0")
    }
}

/// Normalise an RFC 3339 timestamp to Go's `time.MarshalText` form (fraction without
/// trailing zeros, `Z` for UTC only when written as `Z`).
pub fn normalize_time(s: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(s, &Rfc3339).ok()?;
    Some(format_time_go(t))
}

/// Format like Go's `time.Time.MarshalText` (RFC3339Nano).
pub fn format_time_go(t: time::OffsetDateTime) -> String {
    let date = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let mut frac = String::new();
    if t.nanosecond() != 0 {
        frac = format!(".{:09}", t.nanosecond());
        while frac.ends_with('0') {
            frac.pop();
        }
    }
    let off = t.offset();
    let zone = if off.is_utc() {
        "Z".to_string()
    } else {
        let (h, m, _) = off.as_hms();
        let sign = if off.is_negative() { '-' } else { '+' };
        format!("{}{:02}:{:02}", sign, h.unsigned_abs(), m.unsigned_abs())
    };
    format!("{date}{frac}{zone}")
}

/// RFC 3339 with whole seconds (Go's `time.RFC3339`), as sops uses for `lastmodified`'s AAD
/// and for `ValToString` of times.
pub fn time_seconds_only(s: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(s, &Rfc3339) {
        Ok(t) => {
            let t = t.replace_nanosecond(0).unwrap_or(t);
            format_time_go(t)
        }
        Err(_) => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aad_rules() {
        assert_eq!(aad(&[]), ":");
        assert_eq!(aad(&["a".into(), "b".into()]), "a:b:");
    }

    #[test]
    fn go_float_formats() {
        assert_eq!(go_format_float(3.0), "3");
        assert_eq!(go_format_float(1.5e10), "15000000000");
        assert_eq!(go_format_float(f64::INFINITY), "+Inf");
        assert_eq!(go_format_float(-0.0), "-0");
        assert_eq!(go_format_float(2.50), "2.5");
        assert_eq!(go_format_float(1e-7), "0.0000001");
        assert_eq!(go_format_float_g(2.0), "2.0");
        assert_eq!(go_format_float_g(100.0), "100.0");
        assert_eq!(go_format_float_g(1234567.0), "1.234567E+06");
        assert_eq!(go_format_float_g(1e-5), "1E-05");
        assert_eq!(go_format_float_g(1e20), "1E+20");
        assert_eq!(go_format_float_g(0.5), "0.5");
    }

    #[test]
    fn times() {
        assert_eq!(
            normalize_time("2025-01-02T03:04:05.120Z").unwrap(),
            "2025-01-02T03:04:05.12Z"
        );
        assert_eq!(
            normalize_time("2006-01-02T15:04:05+07:06").unwrap(),
            "2006-01-02T15:04:05+07:06"
        );
        assert_eq!(
            time_seconds_only("2026-01-01T00:00:00.999+00:00"),
            "2026-01-01T00:00:00Z"
        );
    }

    #[test]
    fn scalar_debug_is_redacted() {
        let s = Scalar::Str("hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn walk_order_includes_comments() {
        let doc = Value::Map(vec![
            Item::Comment(Scalar::Comment(" c".into())),
            Item::Entry("a".into(), Value::List(vec![Value::str("x"), Value::Null])),
            Item::Entry(
                "b".into(),
                Value::Map(vec![Item::Entry("c".into(), Value::str("y"))]),
            ),
        ]);
        let mut seen = vec![];
        walk_leaves(std::slice::from_ref(&doc), |i, p, _| seen.push((i, aad(p))));
        assert_eq!(
            seen,
            vec![(0, ":".into()), (1, "a:".into()), (2, "b:c:".into())]
        );
    }

    #[test]
    fn walk_with_aad_matches_walk_leaves() {
        let doc = Value::Map(vec![
            Item::Comment(Scalar::Comment(" c".into())),
            Item::Entry(
                "a:b".into(),
                Value::List(vec![Value::str("x"), Value::Null]),
            ),
            Item::Entry(
                "b".into(),
                Value::Map(vec![
                    Item::Entry("c".into(), Value::str("y")),
                    Item::Comment(Scalar::Comment(" d".into())),
                ]),
            ),
            Item::Entry("e".into(), Value::str("z")),
        ]);
        let docs = vec![doc, Value::str("top")];
        let mut want = vec![];
        walk_leaves(&docs, |i, p, s| {
            want.push((i, p.to_vec(), aad(p), s.clone()))
        });
        let mut got = vec![];
        walk_leaves_aad(&docs, |i, p, a, s| {
            let p: Vec<String> = p.iter().map(|k| k.to_string()).collect();
            got.push((i, p, a.to_string(), s.clone()))
        });
        assert_eq!(got, want);
        assert_eq!(got.len(), 6);
        assert_eq!(got[3].2, "b:");
        assert_eq!(got[5].2, ":");
    }
}
