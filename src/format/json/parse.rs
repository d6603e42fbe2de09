//! An exact JSON lexer and parser that records where every value sits in the source.
//!
//! It exists because lossless editing needs byte spans, and serde_json gives none: this parser
//! builds the format-neutral tree and, beside it, the span of every leaf in
//! [`walk_leaves`](crate::tree::walk_leaves) order, plus the layout of the top-level object
//! (its braces and the span of each member) so that the `sops` member can be removed or
//! appended without touching anything else.
//!
//! It must not be lenient where Go's `encoding/json` is strict (no comments, no trailing
//! commas, no single quotes), must never panic or recurse without bound on hostile input, and
//! must never quote a value in an error message (only line and column).

use crate::error::{Code, Error, Result};
use crate::tree::{Item, Scalar, Value};

/// The deepest nesting of objects and arrays accepted, the top-level object included. It equals
/// the limit of serde_json, the independent parser that checks every rendered file, so that
/// anything veil reads it can also verify.
pub const MAX_DEPTH: usize = 127;

/// One member of the top-level object, as byte offsets into the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Offset of the key's opening quote.
    pub key_start: usize,
    /// Offset of the value's first byte.
    pub value_start: usize,
    /// Offset just past the value's last byte.
    pub value_end: usize,
    /// Whether this is a top-level `"sops"` member (metadata, not data).
    pub is_sops: bool,
}

/// The result of parsing: the data tree, the metadata tree, and the layout.
#[derive(Debug)]
pub struct Parsed {
    /// The top-level object without its `sops` members.
    pub doc: Value,
    /// The value of the (last) top-level `sops` member, if any.
    pub meta: Option<Value>,
    /// Byte span `[start, end)` of every leaf of `doc`, in walk order.
    pub leaves: Vec<(usize, usize)>,
    /// Offset of the top-level `{`.
    pub open: usize,
    /// Offset of the top-level `}`.
    pub close: usize,
    /// The top-level members in source order, `sops` members included.
    pub members: Vec<Member>,
}

/// Parse `src` as a JSON document whose top level is an object.
///
/// Content after that object is refused. sops reads a plaintext file with a streaming decoder
/// that stops after the first value, so it silently drops the rest on encrypt (a second object
/// holding a password would vanish, or — as veil once did — be kept in plaintext next to an
/// encrypted file); it reads an encrypted file with `json.Unmarshal`, which refuses it (exit 1).
/// veil refuses both: exit 1 with sops's prefix for a file with a `sops` member, else exit 2.
/// A second top-level `sops` member is refused too (sops crashes on it, exit 2): which copy
/// is the metadata must never be a guess.
pub fn parse(src: &[u8]) -> Result<Parsed> {
    let mut p = Parser {
        src,
        pos: 0,
        depth: 0,
        leaves: Vec::new(),
    };
    p.skip_ws();
    let open = p.pos;
    match p.peek() {
        None => return Err(read_error("could not parse JSON: unexpected end of input (EOF)")),
        Some(b'{') => {}
        Some(b'[') => {
            return Err(read_error("Expected JSON object start, got delimiter [ instead")
                .hint("veil and sops only read JSON files whose top level is an object: wrap the array, e.g. {\"data\": [...]}"))
        }
        Some(c) => {
            let what = match c {
                b'"' => "a string",
                b't' | b'f' => "a boolean",
                b'n' => "null",
                b'-' | b'0'..=b'9' => "a number",
                _ => "an invalid character",
            };
            return Err(read_error(format!("Expected JSON object start, got {what} instead"))
                .hint("veil and sops only read JSON files whose top level is an object"));
        }
    }
    p.pos += 1;
    p.depth = 1;
    let mut items = Vec::new();
    let mut members = Vec::new();
    let mut meta = None;
    p.skip_ws();
    if p.peek() == Some(b'}') {
        p.pos += 1;
    } else {
        loop {
            p.skip_ws();
            let key_start = p.pos;
            if p.peek() != Some(b'"') {
                return Err(p.error("expected a string key"));
            }
            let key = p.string()?;
            p.skip_ws();
            p.expect(b':', "expected ':' after an object key")?;
            p.skip_ws();
            let value_start = p.pos;
            let is_sops = key == "sops";
            if is_sops && meta.is_some() {
                return Err(p
                    .error_at(key_start, "a second top-level \"sops\" member")
                    .hint("an encrypted file has exactly one `sops` member; the file was edited by hand: restore it from git"));
            }
            if is_sops {
                // The metadata is not data: its leaves get no spans and no edits.
                let mark = p.leaves.len();
                let v = p.value()?;
                p.leaves.truncate(mark);
                meta = Some(v);
            } else {
                let v = p.value()?;
                items.push(Item::Entry(key, v));
            }
            members.push(Member {
                key_start,
                value_start,
                value_end: p.pos,
                is_sops,
            });
            p.skip_ws();
            match p.next() {
                Some(b',') => continue,
                Some(b'}') => break,
                Some(_) => {
                    return Err(p.error_at(p.pos - 1, "expected ',' or '}' after an object member"))
                }
                None => return Err(p.eof()),
            }
        }
    }
    let close = p.pos - 1;
    p.skip_ws();
    if p.pos < src.len() {
        let (line, col) = p.line_col(p.pos);
        return Err(if meta.is_some() {
            Error::new(
                Code::Generic,
                format!("Error unmarshalling input json: content after the top-level value at line {line}, column {col}"),
            )
            .hint("an encrypted file holds one JSON object; something was appended to it: restore the file from git")
        } else {
            read_error(format!(
                "could not parse JSON: content after the top-level object at line {line}, column {col}"
            ))
            .hint("a JSON file holds one object; sops would silently drop the rest, veil refuses so that nothing is lost or left in plaintext: merge it into the object or split the file")
        });
    }
    Ok(Parsed {
        doc: Value::Map(items),
        meta,
        leaves: p.leaves,
        open,
        close,
        members,
    })
}

fn read_error(msg: impl Into<String>) -> Error {
    Error::new(Code::CouldNotReadInputFile, msg)
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    depth: usize,
    leaves: Vec<(usize, usize)>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, c: u8, msg: &str) -> Result<()> {
        match self.peek() {
            Some(x) if x == c => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(self.error(msg)),
            None => Err(self.eof()),
        }
    }

    /// Line and column (1-based, column in bytes) of a byte offset.
    fn line_col(&self, at: usize) -> (usize, usize) {
        let at = at.min(self.src.len());
        let before = &self.src[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let col = at
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        (line, col)
    }

    fn error_at(&self, at: usize, msg: &str) -> Error {
        let (line, col) = self.line_col(at);
        read_error(format!(
            "could not parse JSON: {msg} at line {line}, column {col}"
        ))
        .hint(
            "check the file is valid JSON (no comments, no trailing commas, double-quoted strings)",
        )
    }

    fn error(&self, msg: &str) -> Error {
        if self.pos >= self.src.len() {
            return self.eof();
        }
        self.error_at(self.pos, msg)
    }

    fn eof(&self) -> Error {
        read_error("could not parse JSON: unexpected end of input (EOF)")
            .hint("the file looks truncated: check that every '{', '[' and '\"' is closed")
    }

    fn value(&mut self) -> Result<Value> {
        match self.peek() {
            None => Err(self.eof()),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => {
                let start = self.pos;
                let s = self.string()?;
                self.leaves.push((start, self.pos));
                Ok(Value::Scalar(Scalar::Str(s)))
            }
            Some(b't') => self.literal(b"true", Value::Scalar(Scalar::Bool(true))),
            Some(b'f') => self.literal(b"false", Value::Scalar(Scalar::Bool(false))),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("invalid character where a value was expected")),
        }
    }

    fn literal(&mut self, word: &[u8], v: Value) -> Result<Value> {
        let start = self.pos;
        let end = start + word.len();
        match self.src.get(start..end) {
            Some(w) if w == word => {}
            _ => {
                // Truncated literal at the end of input is an EOF, anything else a bad char.
                let avail = &self.src[start..];
                if avail.len() < word.len() && word.starts_with(avail) {
                    return Err(self.eof());
                }
                return Err(self.error("invalid literal"));
            }
        }
        self.pos = end;
        if !matches!(v, Value::Null) {
            self.leaves.push((start, end));
        }
        Ok(v)
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(
                self.pos,
                &format!("objects and arrays nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn object(&mut self) -> Result<Value> {
        self.enter()?;
        self.pos += 1; // '{'
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Map(items));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string key"));
            }
            let key = self.string()?;
            self.skip_ws();
            self.expect(b':', "expected ':' after an object key")?;
            self.skip_ws();
            let v = self.value()?;
            items.push(Item::Entry(key, v));
            self.skip_ws();
            match self.next() {
                Some(b',') => continue,
                Some(b'}') => break,
                Some(_) => {
                    return Err(
                        self.error_at(self.pos - 1, "expected ',' or '}' after an object member")
                    )
                }
                None => return Err(self.eof()),
            }
        }
        self.depth -= 1;
        Ok(Value::Map(items))
    }

    fn array(&mut self) -> Result<Value> {
        self.enter()?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::List(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            match self.next() {
                Some(b',') => continue,
                Some(b']') => break,
                Some(_) => {
                    return Err(
                        self.error_at(self.pos - 1, "expected ',' or ']' after an array element")
                    )
                }
                None => return Err(self.eof()),
            }
        }
        self.depth -= 1;
        Ok(Value::List(items))
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`. Integers that fit in i64 become
    /// `Int`; everything else keeps its exact text as `Float`.
    fn number(&mut self) -> Result<Value> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("invalid number")),
        }
        let mut integral = true;
        if self.peek() == Some(b'.') {
            integral = false;
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error("invalid number: expected digits after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            integral = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number: expected digits in the exponent"));
            }
        }
        let end = self.pos;
        self.leaves.push((start, end));
        // The number is ASCII by construction.
        let text = std::str::from_utf8(&self.src[start..end])
            .map_err(|_| self.error_at(start, "invalid number"))?;
        if integral {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Value::Scalar(Scalar::Int(i)));
            }
        }
        // Go's decoder (and so sops) rejects numbers beyond float64's range; so does serde_json.
        if !text.parse::<f64>().is_ok_and(f64::is_finite) {
            return Err(self.error_at(start, "number out of range"));
        }
        Ok(Value::Scalar(Scalar::Float(text.to_owned())))
    }

    fn hex4(&mut self) -> Result<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.next() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                Some(_) => {
                    return Err(self.error_at(self.pos - 1, "invalid \\u escape in a string"))
                }
                None => return Err(self.eof()),
            };
            v = v * 16 + u32::from(d);
        }
        Ok(v)
    }

    /// A string starting at the current `"`; returns its decoded content. Invalid UTF-8 and
    /// lone surrogate escapes are rejected (Go would turn them into U+FFFD, silently changing
    /// the value; no program that writes JSON properly produces them).
    fn string(&mut self) -> Result<String> {
        let open = self.pos;
        self.pos += 1;
        let mut run_start = self.pos;
        // Decoded bytes, only once an escape has been seen.
        let mut buf: Option<Vec<u8>> = None;
        loop {
            let rest = self.src.get(self.pos..).unwrap_or_default();
            let Some(n) = string_stop(rest) else {
                self.pos = self.src.len();
                return Err(self.eof());
            };
            self.pos += n;
            match self.src[self.pos] {
                b'"' => {
                    let raw = &self.src[run_start..self.pos];
                    self.pos += 1;
                    let bytes = match buf {
                        None => {
                            return std::str::from_utf8(raw)
                                .map(str::to_owned)
                                .map_err(|_| self.error_at(open, "string is not valid UTF-8"))
                        }
                        Some(mut b) => {
                            b.extend_from_slice(raw);
                            b
                        }
                    };
                    return String::from_utf8(bytes)
                        .map_err(|_| self.error_at(open, "string is not valid UTF-8"));
                }
                b'\\' => {
                    let mut b = buf.take().unwrap_or_default();
                    b.extend_from_slice(&self.src[run_start..self.pos]);
                    self.pos += 1;
                    self.escape(&mut b)?;
                    buf = Some(b);
                    run_start = self.pos;
                }
                _ => return Err(self.error("control character inside a string")),
            }
        }
    }

    /// Decode one escape (after its backslash) into `buf`.
    fn escape(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        let c = self.next().ok_or_else(|| self.eof())?;
        match c {
            b'"' => buf.push(b'"'),
            b'\\' => buf.push(b'\\'),
            b'/' => buf.push(b'/'),
            b'b' => buf.push(0x08),
            b'f' => buf.push(0x0c),
            b'n' => buf.push(b'\n'),
            b'r' => buf.push(b'\r'),
            b't' => buf.push(b'\t'),
            b'u' => {
                let at = self.pos - 2;
                let hi = self.hex4()?;
                let cp = if (0xD800..0xDC00).contains(&hi) {
                    if self.src.get(self.pos..self.pos + 2) != Some(b"\\u") {
                        return Err(self.error_at(at, "lone surrogate \\u escape in a string"));
                    }
                    self.pos += 2;
                    let lo = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err(self.error_at(at, "lone surrogate \\u escape in a string"));
                    }
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else if (0xDC00..0xE000).contains(&hi) {
                    return Err(self.error_at(at, "lone surrogate \\u escape in a string"));
                } else {
                    hi
                };
                let ch = char::from_u32(cp)
                    .ok_or_else(|| self.error_at(at, "invalid \\u escape in a string"))?;
                let mut tmp = [0u8; 4];
                buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
            }
            _ => return Err(self.error_at(self.pos - 1, "invalid escape in a string")),
        }
        Ok(())
    }
}

/// Where the run of plain string bytes at the start of `b` stops: the first `"`, `\\` or
/// control character. Eight bytes are tested at a time (most of a sealed file is long tokens
/// with none of them), the rest one by one.
fn string_stop(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte of `x` that is zero has its high bit set in `zero(x)`; the lowest such bit is
    // exact (borrows only run upwards), which is all that is used.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut at = 0;
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        let hit = zero(x ^ (ONES * u64::from(b'"')))
            | zero(x ^ (ONES * u64::from(b'\\')))
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGH);
        if hit != 0 {
            return Some(at + (hit.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|n| at + n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::walk_leaves;

    /// The word-at-a-time search finds the same first stop as a byte-by-byte one, wherever
    /// the stop sits in a word and whatever bytes (high ones, near misses) come before it.
    #[test]
    fn string_stop_agrees_with_a_bytewise_search() {
        let naive = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        let fill = [
            b'a', 0x7f, 0x80, 0xff, b'!', b'#', b'[', b']', 0x20, 0x21, b'E',
        ];
        let stops = [b'"', b'\\', 0x00, 0x1f, b'\n'];
        for len in 0..40 {
            for &f in &fill {
                let mut v = vec![f; len];
                assert_eq!(
                    string_stop(&v),
                    naive(&v),
                    "no stop, fill {f:#x}, len {len}"
                );
                for at in 0..len {
                    for &st in &stops {
                        v[at] = st;
                        // A second stop later must not win.
                        if at + 3 < len {
                            v[at + 3] = b'"';
                        }
                        assert_eq!(string_stop(&v), naive(&v), "stop {st:#x} at {at} of {len}");
                        v.iter_mut().for_each(|c| *c = f);
                    }
                }
            }
        }
    }

    fn leaf_texts(src: &str) -> Vec<String> {
        let p = parse(src.as_bytes()).unwrap();
        p.leaves
            .iter()
            .map(|&(a, b)| src[a..b].to_string())
            .collect()
    }

    #[test]
    fn spans_follow_walk_order() {
        let src = r#"{"a": 1, "b": [true, null, "x", {"c": -2.5e3}], "sops": {"mac": "m"}, "d": "\u00e9"}"#;
        let p = parse(src.as_bytes()).unwrap();
        assert_eq!(
            leaf_texts(src),
            vec!["1", "true", "\"x\"", "-2.5e3", "\"\\u00e9\""]
        );
        let mut n = 0;
        walk_leaves(std::slice::from_ref(&p.doc), |_, _, _| n += 1);
        assert_eq!(n, p.leaves.len());
        assert_eq!(
            p.meta,
            Some(Value::Map(vec![Item::Entry("mac".into(), Value::str("m"))]))
        );
        assert_eq!(p.members.len(), 4);
        assert!(p.members[2].is_sops);
        assert_eq!(p.doc.get("d"), Some(&Value::str("é")));
    }

    #[test]
    fn number_types() {
        let p = parse(br#"{"i": -7, "z": -0, "f": 1.50, "e": 1E3, "big": 123456789012345678901234567890, "u": 9223372036854775808, "m": 9223372036854775807}"#).unwrap();
        let g = |k: &str| p.doc.get(k).cloned();
        assert_eq!(g("i"), Some(Value::Scalar(Scalar::Int(-7))));
        assert_eq!(g("z"), Some(Value::Scalar(Scalar::Int(0))));
        assert_eq!(g("f"), Some(Value::Scalar(Scalar::Float("1.50".into()))));
        assert_eq!(g("e"), Some(Value::Scalar(Scalar::Float("1E3".into()))));
        assert_eq!(
            g("big"),
            Some(Value::Scalar(Scalar::Float(
                "123456789012345678901234567890".into()
            )))
        );
        assert_eq!(
            g("u"),
            Some(Value::Scalar(Scalar::Float("9223372036854775808".into())))
        );
        assert_eq!(g("m"), Some(Value::Scalar(Scalar::Int(i64::MAX))));
    }

    #[test]
    fn numbers_beyond_float64_are_rejected() {
        for bad in [
            "-524587E870379235437",
            "1e309",
            &format!("1{}", "0".repeat(400)),
        ] {
            let src = format!("{{\"a\": {bad}}}");
            assert_eq!(
                parse(src.as_bytes()).unwrap_err().code,
                Code::CouldNotReadInputFile,
                "{bad}"
            );
        }
        // Underflow is not an error (Go gives 0).
        assert!(parse(b"{\"a\": 1e-400}").is_ok());
    }

    #[test]
    fn escapes_and_surrogates() {
        let p = parse(br#"{"s": "a\"b\\c\/d\b\f\n\r\t\u0041\ud83d\ude00"}"#).unwrap();
        assert_eq!(
            p.doc.get("s"),
            Some(&Value::str("a\"b\\c/d\u{8}\u{c}\n\r\tA😀"))
        );
        for bad in [
            r#"{"s": "\ud83d"}"#,
            r#"{"s": "\ude00x"}"#,
            r#"{"s": "\ud83d\u0041"}"#,
            r#"{"s": "\x"}"#,
        ] {
            let e = parse(bad.as_bytes()).unwrap_err();
            assert_eq!(e.code, Code::CouldNotReadInputFile, "{bad}");
        }
    }

    #[test]
    fn duplicates_are_kept() {
        let p = parse(br#"{"a": 1, "a": 2}"#).unwrap();
        assert_eq!(
            p.doc,
            Value::Map(vec![
                Item::Entry("a".into(), Value::Scalar(Scalar::Int(1))),
                Item::Entry("a".into(), Value::Scalar(Scalar::Int(2)))
            ])
        );
    }

    #[test]
    fn errors() {
        let arr = parse(b"  [1, 2]").unwrap_err();
        assert_eq!(arr.code, Code::CouldNotReadInputFile);
        assert_eq!(
            arr.message,
            "Expected JSON object start, got delimiter [ instead"
        );
        let empty = parse(b"").unwrap_err();
        assert_eq!(empty.code, Code::CouldNotReadInputFile);
        assert!(empty.message.contains("EOF"));
        assert!(parse(b" \n\t ").unwrap_err().message.contains("EOF"));
        for bad in [
            "{\"a\": 1,}",
            "{\"a\": 01}",
            "{\"a\": 1.}",
            "{\"a\": .5}",
            "{\"a\": +1}",
            "{\"a\": 1e}",
            "{'a': 1}",
            "{\"a\": tru}",
            "{\"a\": nul",
            "{\"a\" 1}",
            "{\"a\": [1 2]}",
            "{\"a\": \"x\ny\"}",
            "{\"a\": 1} // c",
            "\u{feff}{}",
            "\"secret\"",
            "{\"a\": [}",
            "{\"a\": 1",
        ] {
            match parse(bad.as_bytes()) {
                Err(e) => assert_eq!(e.code, Code::CouldNotReadInputFile, "{bad:?}"),
                Ok(_) => panic!("{bad:?} should fail"),
            }
        }
    }

    #[test]
    fn error_messages_do_not_quote_values() {
        let e = parse(b"{\"password\": \"hunter2\" \"x\"}").unwrap_err();
        assert!(!e.message.contains("hunter2"));
        assert!(e.message.contains("line 1"), "{}", e.message);
        let e = parse(b"\"hunter2\"").unwrap_err();
        assert!(!e.message.contains("hunter2"));
    }

    #[test]
    fn invalid_utf8_is_rejected() {
        let e = parse(b"{\"a\": \"\xff\"}").unwrap_err();
        assert_eq!(e.code, Code::CouldNotReadInputFile);
        let e = parse(b"{\"a\": \xff}").unwrap_err();
        assert_eq!(e.code, Code::CouldNotReadInputFile);
    }

    #[test]
    fn depth_limit() {
        let ok = format!(
            "{{\"a\": {}1{}}}",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert!(parse(ok.as_bytes()).is_ok());
        let deep = format!(
            "{{\"a\": {}1{}}}",
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        );
        assert_eq!(
            parse(deep.as_bytes()).unwrap_err().code,
            Code::CouldNotReadInputFile
        );
        let huge = format!("{{\"a\": {}", "[".repeat(1_000_000));
        assert_eq!(
            parse(huge.as_bytes()).unwrap_err().code,
            Code::CouldNotReadInputFile
        );
    }

    #[test]
    fn content_after_the_object_is_refused() {
        // Plaintext (encrypt): exit 2, and never the content itself.
        let e = parse(b"{\"a\": 1}\n{\"password\": \"hunter2\"}").unwrap_err();
        assert_eq!(e.code, Code::CouldNotReadInputFile);
        assert!(e.message.contains("line 2, column 1"), "{}", e.message);
        assert!(!e.message.contains("hunter2"));
        assert!(parse(b"{\"a\": 1} garbage").is_err());
        // An encrypted file: sops's exit 1 and prefix.
        let e = parse(b"{\"a\": 1, \"sops\": {}}\n{\"b\": 2}").unwrap_err();
        assert_eq!(e.code, Code::Generic);
        assert!(e.message.starts_with("Error unmarshalling input json: "));
        // Whitespace after the object is fine.
        let p = parse(b"{\"a\": 1}\n \r\n\t").unwrap();
        assert_eq!(p.close, 7);
    }

    #[test]
    fn a_second_sops_member_is_refused() {
        let e = parse(b"{\"a\": 1, \"sops\": {\"x\": 1}, \"sops\": {}}").unwrap_err();
        assert_eq!(e.code, Code::CouldNotReadInputFile);
        assert!(
            e.message.contains("second top-level \"sops\""),
            "{}",
            e.message
        );
        // A nested `sops` key is data.
        assert!(parse(b"{\"a\": {\"sops\": 1, \"sops\": 2}, \"sops\": {}}").is_ok());
    }
}
