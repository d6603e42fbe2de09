//! Writing JSON the way Go's `encoding/json` (and so sops) writes it: string escaping, number
//! formatting, and `json.Indent`-style layout, parameterised so that the lossless renderer can
//! reuse it in a file's own style (tab, N spaces, or compact).
//!
//! It exists so that every byte veil writes into a JSON file — a sealed token, an opened value,
//! the metadata block, a fresh document — reads back exactly as intended by sops's Go decoder.
//! It must not write anything JSON cannot hold (`NaN`, infinities) and must not quote values in
//! its errors (only key paths).

use crate::error::{Code, Error, Result};
use crate::tree::{parse_go_float, Item, Scalar, Value};

/// Append `s` as a JSON string literal, escaped like Go's `encoding/json` with HTML escaping:
/// `\"`, `\\`, `\b \f \n \r \t`, `\u003c \u003e \u0026`, `\u2028 \u2029`, other control
/// characters as `\u00XX`; everything else (non-ASCII included) raw.
pub fn escape_into(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    /// Bytes that need a closer look: controls, `"`, `\\`, `<`, `>`, `&`, and 0xE2 (the lead
    /// byte of U+2028/U+2029).
    const SPECIAL: [bool; 256] = {
        let mut t = [false; 256];
        let mut i = 0;
        while i < 0x20 {
            t[i] = true;
            i += 1;
        }
        t[b'"' as usize] = true;
        t[b'\\' as usize] = true;
        t[b'<' as usize] = true;
        t[b'>' as usize] = true;
        t[b'&' as usize] = true;
        t[0xE2] = true;
        t
    };
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !SPECIAL[c as usize] {
            i += 1;
            continue;
        }
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0xE2 => match (b.get(i + 1), b.get(i + 2)) {
                (Some(0x80), Some(0xA8)) => b"\\u2028",
                (Some(0x80), Some(0xA9)) => b"\\u2029",
                _ => {
                    i += 1;
                    continue;
                }
            },
            _ => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(c >> 4) as usize],
                HEX[(c & 15) as usize],
            ],
        };
        out.extend_from_slice(&b[start..i]);
        out.extend_from_slice(esc);
        i += if c == 0xE2 { 3 } else { 1 };
        start = i;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

/// `s` as a JSON string literal, escaped like Go's `encoding/json` (see `escape_into`).
pub fn escape(s: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 2);
    escape_into(&mut v, s);
    v
}

/// Whether `s` is exactly a JSON number literal.
pub fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let st = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - st
    };
    if b.first() == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `encoding/json` float64 encoding: shortest round-trip digits, `'f'` format unless the
/// magnitude is below 1e-6 or at least 1e21, then `'e'` with a one-digit negative exponent
/// (`1e+21`, `1e-7`, `-0`). `None` for NaN and infinities, which JSON cannot hold.
pub fn go_json_float(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = format!("{f:e}");
        let (mant, exp) = e.split_once('e')?;
        let exp: i32 = exp.parse().ok()?;
        Some(if exp < 0 {
            format!("{mant}e-{}", -exp)
        } else {
            format!("{mant}e+{exp:02}")
        })
    } else {
        Some(format!("{f}"))
    }
}

/// The JSON text of a float held as text: the text itself when it is already a JSON number
/// (so `1.50` and 30-digit integers survive), otherwise Go's encoding of its value. `None`
/// when the value is NaN or infinite.
pub fn float_text(s: &str) -> Option<String> {
    if is_json_number(s) {
        Some(s.to_string())
    } else {
        parse_go_float(s).and_then(go_json_float)
    }
}

/// Why a scalar could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotRepresentable;

/// Append a scalar as JSON: strings (and comments, times, bytes) as Go-escaped strings,
/// numbers as numbers, booleans as `true`/`false`.
pub fn scalar_into(out: &mut Vec<u8>, s: &Scalar) -> std::result::Result<(), NotRepresentable> {
    match s {
        Scalar::Str(t) | Scalar::Comment(t) | Scalar::Time(t) => escape_into(out, t),
        Scalar::Raw(b) | Scalar::Bytes(b) => escape_into(out, &String::from_utf8_lossy(b)),
        Scalar::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Scalar::Bool(true) => out.extend_from_slice(b"true"),
        Scalar::Bool(false) => out.extend_from_slice(b"false"),
        Scalar::Float(f) => {
            out.extend_from_slice(float_text(f).ok_or(NotRepresentable)?.as_bytes())
        }
    }
    Ok(())
}

/// The error for a float JSON cannot hold, naming the key path (never the value).
pub fn not_representable(path: &[&str]) -> Error {
    let at = if path.is_empty() {
        "the top level".to_string()
    } else {
        format!("key {}", path_text(path))
    };
    Error::new(
        Code::ErrorDumpingTree,
        format!("cannot write the value at {at} as JSON: infinity and NaN are not JSON numbers"),
    )
    .hint("use another output format (YAML keeps .inf and .nan), or change the value to a string")
}

fn path_text(path: &[&str]) -> String {
    path.iter().map(|k| format!("[{k:?}]")).collect()
}

/// How to lay out containers: Go's `json.Indent` style when `newline` is set, else compact with
/// the given separators.
#[derive(Clone, Copy, Debug)]
pub struct Style<'a> {
    /// The newline sequence (`"\n"` or `"\r\n"`), or `None` for a one-line layout.
    pub newline: Option<&'a str>,
    /// One level of indentation (a tab, N spaces, or nothing).
    pub unit: &'a str,
    /// What goes between a key and its value (`": "` in Go's indented output).
    pub colon: &'a str,
    /// What goes after a `,` in a one-line layout (`""` or `" "`).
    pub after_comma: &'a str,
}

impl Style<'_> {
    /// A newline and `depth` levels of indentation (nothing in a one-line layout).
    pub fn indent(&self, out: &mut Vec<u8>, depth: usize) {
        if let Some(nl) = self.newline {
            out.extend_from_slice(nl.as_bytes());
            for _ in 0..depth {
                out.extend_from_slice(self.unit.as_bytes());
            }
        }
    }

    /// A member separator: `,` (plus the one-line spacing).
    pub fn comma_into(&self, out: &mut Vec<u8>) {
        out.push(b',');
        if self.newline.is_none() {
            out.extend_from_slice(self.after_comma.as_bytes());
        }
    }
}

/// A JSON writer over the tree: map comments are dropped (JSON has no comments, as sops drops
/// them); comments in lists are written as string elements.
pub struct Writer<'a, 'v> {
    pub style: Style<'a>,
    pub out: Vec<u8>,
    path: Vec<&'v str>,
}

impl<'a, 'v> Writer<'a, 'v> {
    pub fn new(style: Style<'a>, capacity: usize) -> Self {
        Writer {
            style,
            out: Vec::with_capacity(capacity),
            path: Vec::new(),
        }
    }

    /// Write `v` whose opening token sits at nesting `depth` (0 = top level).
    pub fn value(&mut self, v: &'v Value, depth: usize) -> Result<()> {
        match v {
            Value::Null => self.out.extend_from_slice(b"null"),
            Value::Scalar(s) => {
                let out = &mut self.out;
                scalar_into(out, s).map_err(|_| not_representable(&self.path))?;
            }
            Value::List(items) => {
                if items.is_empty() {
                    self.out.extend_from_slice(b"[]");
                    return Ok(());
                }
                self.out.push(b'[');
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        self.style.comma_into(&mut self.out);
                    }
                    self.style.indent(&mut self.out, depth + 1);
                    self.value(it, depth + 1)?;
                }
                self.style.indent(&mut self.out, depth);
                self.out.push(b']');
            }
            Value::Map(items) => self.object(items, None, depth)?,
        }
        Ok(())
    }

    /// Write an object from `items`, with `extra` appended as its last member.
    pub fn object(
        &mut self,
        items: &'v [Item],
        extra: Option<(&'v str, &'v Value)>,
        depth: usize,
    ) -> Result<()> {
        let mut entries = items
            .iter()
            .filter_map(|i| match i {
                Item::Entry(k, v) => Some((k.as_str(), v)),
                Item::Comment(_) => None,
            })
            .chain(extra)
            .peekable();
        if entries.peek().is_none() {
            self.out.extend_from_slice(b"{}");
            return Ok(());
        }
        self.out.push(b'{');
        let mut first = true;
        for (k, v) in entries {
            if !first {
                self.style.comma_into(&mut self.out);
            }
            first = false;
            self.member(k, v, depth + 1)?;
        }
        self.style.indent(&mut self.out, depth);
        self.out.push(b'}');
        Ok(())
    }

    /// Write one `"key": value` member (with its leading newline and indentation) at `depth`.
    pub fn member(&mut self, k: &'v str, v: &'v Value, depth: usize) -> Result<()> {
        self.style.indent(&mut self.out, depth);
        escape_into(&mut self.out, k);
        self.out.extend_from_slice(self.style.colon.as_bytes());
        self.path.push(k);
        self.value(v, depth)?;
        self.path.pop();
        Ok(())
    }
}

/// Go's indented layout with the configured indentation: `None` = tab, `Some(n)` = n spaces.
pub fn go_style(unit: &str) -> Style<'_> {
    Style {
        newline: Some("\n"),
        unit,
        colon: ": ",
        after_comma: "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str) -> String {
        String::from_utf8(escape(s)).unwrap()
    }

    #[test]
    fn go_string_escaping() {
        assert_eq!(esc("a<b>&c"), r#""a\u003cb\u003e\u0026c""#);
        assert_eq!(esc("\u{2028}x\u{2029}"), r#""\u2028x\u2029""#);
        assert_eq!(esc("\u{8}\u{c}\n\r\t"), r#""\b\f\n\r\t""#);
        assert_eq!(esc("\u{1}\u{1f}\u{7f}"), "\"\\u0001\\u001f\u{7f}\"");
        assert_eq!(esc("q\"b\\/"), r#""q\"b\\/""#);
        assert_eq!(esc("ünï 😀 ✓ \u{2027}"), "\"ünï 😀 ✓ \u{2027}\"");
        assert_eq!(esc(""), "\"\"");
    }

    #[test]
    fn json_numbers() {
        for ok in [
            "0",
            "-0",
            "1.5",
            "1e3",
            "1E+3",
            "-1.0e-7",
            "123456789012345678901234567890",
        ] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in [
            "", "-", "01", "1.", ".5", "+1", "1e", "1e+", "Inf", "NaN", "0x1", "1.5 ",
        ] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }

    #[test]
    fn go_float_encoding() {
        let f = |x: f64| go_json_float(x).unwrap();
        assert_eq!(f(1e21), "1e+21");
        assert_eq!(f(1e20), "100000000000000000000");
        assert_eq!(f(1e-7), "1e-7");
        assert_eq!(f(1.5e-10), "1.5e-10");
        assert_eq!(f(1e-6), "0.000001");
        assert_eq!(f(-0.0), "-0");
        assert_eq!(f(1000.0), "1000");
        assert_eq!(f(2.5), "2.5");
        assert_eq!(f(-1.25e300), "-1.25e+300");
        assert_eq!(go_json_float(f64::NAN), None);
        assert_eq!(go_json_float(f64::INFINITY), None);
        assert_eq!(float_text("1.50").unwrap(), "1.50");
        assert_eq!(float_text(".5").unwrap(), "0.5");
        assert_eq!(float_text("+1e3").unwrap(), "1000");
        assert_eq!(float_text("+Inf"), None);
        assert_eq!(float_text("NaN"), None);
    }

    #[test]
    fn writer_layouts() {
        let v = Value::Map(vec![
            Item::Entry(
                "a".into(),
                Value::List(vec![Value::Scalar(Scalar::Int(1)), Value::Null]),
            ),
            Item::Comment(Scalar::Comment(" dropped".into())),
            Item::Entry("e".into(), Value::Map(vec![])),
            Item::Entry(
                "l".into(),
                Value::List(vec![Value::Scalar(Scalar::Comment(" c".into()))]),
            ),
        ]);
        let mut w = Writer::new(go_style("\t"), 0);
        w.value(&v, 0).unwrap();
        assert_eq!(
            String::from_utf8(w.out).unwrap(),
            "{\n\t\"a\": [\n\t\t1,\n\t\tnull\n\t],\n\t\"e\": {},\n\t\"l\": [\n\t\t\" c\"\n\t]\n}"
        );
        let mut w = Writer::new(
            Style {
                newline: None,
                unit: "",
                colon: ":",
                after_comma: " ",
            },
            0,
        );
        w.value(&v, 0).unwrap();
        assert_eq!(
            String::from_utf8(w.out).unwrap(),
            r#"{"a":[1, null], "e":{}, "l":[" c"]}"#
        );
    }

    #[test]
    fn nan_names_the_path_not_the_value() {
        let v = Value::Map(vec![Item::Entry(
            "outer".into(),
            Value::Map(vec![Item::Entry(
                "x".into(),
                Value::Scalar(Scalar::Float("+INF".into())),
            )]),
        )]);
        let mut w = Writer::new(go_style("\t"), 0);
        let e = w.value(&v, 0).unwrap_err();
        assert_eq!(e.code, Code::ErrorDumpingTree);
        assert!(e.message.contains(r#"["outer"]["x"]"#), "{}", e.message);
        assert!(!e.message.contains("+INF"));
    }
}
