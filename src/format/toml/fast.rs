//! The streaming path for TOML files (see [`crate::format::stream`] for why it exists).
//!
//! toml_edit's document model is most of the lossless path's cost: it is built for the input
//! and again for the output, whose every value the check decodes. This path reads the usual
//! shape of config files line by line: `[a.b]` headers of bare keys, `key = value` lines with
//! a bare key and a one-line value (a basic string without escapes, a literal string, a
//! decimal integer, a plain float, `true`/`false`), comments on their own line or after a value
//! or header, blank lines, and (decrypting) the `[sops]` tables at the end. Tables must come in
//! an order where no table is reopened after another one started, so that the file's order is
//! the lossless path's leaf order. Anything else — arrays, inline tables, dotted or quoted
//! keys, multi-line strings, escapes, dates, `[[arrays of tables]]`, a duplicate key or table,
//! a `sops` key among the data, carriage returns, control characters — gives the text back,
//! and the lossless path does the whole job (and reports errors). Each line is one unit.
//!
//! Values are written as the lossless path writes them (a sealed value a string in the slot's
//! quoting; an opened one back in that style), and every opened value is decoded again as
//! written before it is kept. The check runs toml_parser, the parser under toml_edit, over the
//! output and compares every header, key, value span and kind, and comment, in order.

use std::collections::HashSet;

use toml_parser::decoder::{Encoding, ScalarKind};
use toml_parser::parser::EventReceiver;
use toml_parser::{ErrorSink, ParseError, Raw, Source, Span};

use super::emit::meta_toml;
use super::parse::TomlDoc;
use super::render::meta_matches;
use super::syntax::{basic, is_bad_control, literal};
use super::META_KEY;
use crate::error::Result;
use crate::format::stream::{bug, line_at, meta_after, Expect, Flat, Piece};
use crate::format::{Edit, LeafEdit};
use crate::tree::{parse_go_float, Scalar, Value};

/// Expectation tags: what a line's parts must read back as.
const HEADER: u8 = 0;
const COMMENT: u8 = 1;
const BASIC: u8 = 2;
const LITERAL: u8 = 3;
const INT: u8 = 4;
const FLOAT: u8 = 5;
const BOOL: u8 = 6;

/// What a unit (one line) holds besides an optional trailing comment.
#[derive(Clone, Copy)]
enum Kind {
    /// A header: the table it opens (an index into `tables`).
    Header,
    /// `key = value`: the key's span, the value's span (quotes included) and its tag.
    Key {
        key: (u32, u32),
        value: (u32, u32),
        what: u8,
    },
    /// A comment line.
    Comment,
}

#[derive(Clone, Copy)]
struct Unit {
    start: u32,
    end: u32,
    /// The table its leaves belong to (an index into `tables`; 0 is the root).
    table: u32,
    kind: Kind,
    /// The text after `#` of its comment, if it has one.
    comment: Option<(u32, u32)>,
}

/// A TOML file scanned for the streaming path.
pub(crate) struct Scan {
    src: String,
    units: Vec<Unit>,
    /// Each table's key path (spans), in the order their headers come; 0 is the root.
    tables: Vec<Vec<(u32, u32)>>,
    /// Decrypting: where the metadata tables start (removed on rendering), and their tree.
    meta_from: Option<u32>,
    meta: Option<Value>,
}

/// The most parts a dotted key may have: toml_edit's parser refuses more.
const MAX_KEY_PARTS: usize = 80;

fn is_bare(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// A reader of one line's bytes.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
    end: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        (self.i < self.end).then(|| self.b[self.i])
    }

    fn blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn bare_key(&mut self) -> Option<(u32, u32)> {
        let s = self.i;
        while self.peek().is_some_and(is_bare) {
            self.i += 1;
        }
        (self.i > s).then_some((s as u32, self.i as u32))
    }

    /// The rest of the line: blanks, then nothing or a valid comment (the text after `#`).
    fn rest(&mut self) -> Option<Option<(u32, u32)>> {
        self.blanks();
        match self.peek() {
            None => Some(None),
            Some(b'#') => {
                let s = self.i + 1;
                let text = std::str::from_utf8(&self.b[s..self.end]).ok()?;
                if text.contains(is_bad_control) {
                    return None;
                }
                Some(Some((s as u32, self.end as u32)))
            }
            _ => None,
        }
    }

    /// A value this path reads: its span and tag.
    fn value(&mut self) -> Option<((u32, u32), u8)> {
        let s = self.i;
        let q = self.peek()?;
        if q == b'"' || q == b'\'' {
            let close = s + 1 + memchr::memchr(q, &self.b[s + 1..self.end])?;
            // Multi-line strings, escapes and control characters take the lossless path.
            if close == s + 1 && self.b.get(close + 1) == Some(&q) {
                return None;
            }
            let inner = std::str::from_utf8(&self.b[s + 1..close]).ok()?;
            // A literal string has no escapes: a backslash in it is itself.
            if inner.contains(|c: char| (c == '\\' && q == b'"') || is_bad_control(c)) {
                return None;
            }
            self.i = close + 1;
            return Some((
                (s as u32, self.i as u32),
                if q == b'"' { BASIC } else { LITERAL },
            ));
        }
        while matches!(self.peek(), Some(c) if c != b' ' && c != b'\t' && c != b'#') {
            self.i += 1;
        }
        let t = std::str::from_utf8(&self.b[s..self.i]).ok()?;
        let what = match t {
            "true" | "false" => BOOL,
            _ if is_int(t) => INT,
            _ if is_float(t) => FLOAT,
            _ => return None,
        };
        Some(((s as u32, self.i as u32), what))
    }
}

/// A decimal integer TOML and i64 both read: no `_`, no leading zero.
fn is_int(t: &str) -> bool {
    let d = t.strip_prefix(['+', '-']).unwrap_or(t);
    !d.is_empty()
        && d.bytes().all(|c| c.is_ascii_digit())
        && (d == "0" || !d.starts_with('0'))
        && t.parse::<i64>().is_ok()
}

/// A float written plainly (`1.5`, `-0.25`, `1e6`, `2.5E-3`): no `_`, `inf` or `nan`.
fn is_float(t: &str) -> bool {
    let d = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mant, exp) = match d.find(['e', 'E']) {
        Some(i) => (&d[..i], Some(&d[i + 1..])),
        None => (d, None),
    };
    let (int, frac) = match mant.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mant, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    digits(int)
        && (int == "0" || !int.starts_with('0'))
        && frac.is_none_or(digits)
        && (frac.is_some() || exp.is_some())
        && exp_ok
        && parse_go_float(t).is_some_and(f64::is_finite)
}

/// One open table while scanning: its name and the names defined in it.
struct Frame<'a> {
    name: &'a str,
    names: HashSet<&'a str>,
}

impl Scan {
    /// Scan `src`, or give it back.
    pub(crate) fn run(src: String, encrypted: bool) -> std::result::Result<Scan, String> {
        let Some((units, tables, meta_from)) = Self::scan(&src, encrypted) else {
            return Err(src);
        };
        let meta = match meta_from {
            Some(from) => match Self::read_meta(&src[from as usize..]) {
                Some(m) => Some(m),
                None => return Err(src),
            },
            None => None,
        };
        Ok(Scan {
            src,
            units,
            tables,
            meta_from,
            meta,
        })
    }

    /// The metadata tables, read as the lossless path reads them; `None` if they hold data.
    fn read_meta(text: &str) -> Option<Value> {
        let doc = TomlDoc::parse(text.as_bytes()).ok()?;
        let empty = matches!(doc.docs.as_slice(), [Value::Map(items)] if items.is_empty());
        if !empty || !doc.slots.is_empty() {
            return None;
        }
        doc.meta
    }

    #[allow(clippy::type_complexity)]
    fn scan(text: &str, encrypted: bool) -> Option<(Vec<Unit>, Vec<Vec<(u32, u32)>>, Option<u32>)> {
        let b = text.as_bytes();
        if text.starts_with('\u{feff}') || memchr::memchr(b'\r', b).is_some() {
            return None;
        }
        let mut units = Vec::with_capacity(b.len() / 40 + 1);
        let mut tables: Vec<Vec<(u32, u32)>> = vec![Vec::new()];
        let mut stack: Vec<Frame<'_>> = vec![Frame {
            name: "",
            names: HashSet::new(),
        }];
        let mut table = 0u32;
        let mut prev_blank: Option<usize> = None;
        let mut pos = 0usize;
        while pos < b.len() {
            let (start, (end, next)) = (pos, line_at(b, pos));
            pos = next;
            let mut c = Cursor { b, i: start, end };
            c.blanks();
            let unit = |table, kind, comment| Unit {
                start: start as u32,
                end: end as u32,
                table,
                kind,
                comment,
            };
            match c.peek() {
                None => {
                    prev_blank = Some(start);
                    continue;
                }
                Some(b'#') => {
                    let comment = c.rest()?;
                    units.push(unit(table, Kind::Comment, comment));
                }
                Some(b'[') => {
                    c.i += 1;
                    let mut path = vec![c.bare_key()?];
                    while c.peek() == Some(b'.') {
                        c.i += 1;
                        path.push(c.bare_key()?);
                    }
                    // toml_edit refuses a key of more than 80 parts; such a header is the
                    // lossless path's to refuse.
                    if path.len() > MAX_KEY_PARTS || c.peek() != Some(b']') {
                        return None;
                    }
                    c.i += 1;
                    let comment = c.rest()?;
                    let name = |r: (u32, u32)| &text[r.0 as usize..r.1 as usize];
                    if name(path[0]) == META_KEY {
                        if !encrypted || stack.len() > 1 && stack[1].name == META_KEY {
                            return None;
                        }
                        // The blank line just above goes with the metadata.
                        let from = match prev_blank {
                            Some(p) if line_at(b, p).1 == start => p,
                            _ => start,
                        };
                        // Everything from here on must be metadata: `read_meta` reads it on
                        // its own and refuses data in it.
                        return Some((units, tables, Some(from as u32)));
                    }
                    // Tables open in file order: a header may go deeper or come back up, but
                    // never into a table that was left.
                    let same = stack[1..]
                        .iter()
                        .zip(&path)
                        .take_while(|(f, p)| f.name == name(**p))
                        .count();
                    if same == path.len() {
                        return None;
                    }
                    stack.truncate(same + 1);
                    for p in &path[same..] {
                        let n = name(*p);
                        if !stack.last_mut()?.names.insert(n) {
                            return None;
                        }
                        stack.push(Frame {
                            name: n,
                            names: HashSet::new(),
                        });
                    }
                    tables.push(path);
                    table = (tables.len() - 1) as u32;
                    units.push(unit(table, Kind::Header, comment));
                }
                Some(_) => {
                    let key = c.bare_key()?;
                    c.blanks();
                    if c.peek() != Some(b'=') {
                        return None;
                    }
                    c.i += 1;
                    c.blanks();
                    let (value, what) = c.value()?;
                    let comment = c.rest()?;
                    let k = &text[key.0 as usize..key.1 as usize];
                    if (stack.len() == 1 && k == META_KEY) || !stack.last_mut()?.names.insert(k) {
                        return None;
                    }
                    units.push(unit(table, Kind::Key { key, value, what }, comment));
                }
            }
            prev_blank = None;
        }
        if encrypted {
            return None;
        }
        Some((units, tables, None))
    }

    pub(crate) fn has_comments(&self) -> bool {
        self.units.iter().any(|u| u.comment.is_some())
    }

    pub(crate) fn into_src(self) -> String {
        self.src
    }

    pub(crate) fn metadata(&self) -> Result<Option<Value>> {
        Ok(self.meta.clone())
    }

    fn text(&self, r: (u32, u32)) -> &str {
        &self.src[r.0 as usize..r.1 as usize]
    }

    /// Copy source bytes `from..to`, leaving out the metadata.
    fn copy_gap(&self, out: &mut String, from: usize, to: usize) {
        let to = self.meta_from.map_or(to, |m| to.min(m as usize).max(from));
        out.push_str(&self.src[from..to]);
    }
}

/// Whether `t` can be written between `q` quotes as it is: what the lossless path's quoting
/// leaves alone (no quote, no escape, no control character; a literal string keeps tabs).
fn plain(t: &str, q: u8) -> bool {
    let b = t.as_bytes();
    let special = if q == b'"' {
        memchr::memchr2(b'"', b'\\', b)
    } else {
        memchr::memchr(b'\'', b)
    };
    special.is_none()
        && !b
            .iter()
            .any(|&c| c == 0x7f || (c < 0x20 && !(c == b'\t' && q == b'\'')))
}

/// Write a sealed token or opened value into a value slot written with `what`, as the
/// lossless path writes it; the tag it reads back with, or `None` when this path does not
/// write it.
fn write_value(out: &mut String, e: &Edit, what: u8) -> Option<u8> {
    let quoted = |out: &mut String, t: &str, q: char| {
        out.push(q);
        out.push_str(t);
        out.push(q);
    };
    match e {
        Edit::Keep => None,
        Edit::Seal(t) => {
            if !plain(t, b'"') || memchr::memchr(b'\'', t.as_bytes()).is_some() {
                return None;
            }
            let (q, tag) = if what == LITERAL {
                ('\'', LITERAL)
            } else {
                ('"', BASIC)
            };
            quoted(out, t, q);
            Some(tag)
        }
        Edit::Open(Scalar::Str(t)) => {
            if what == LITERAL && plain(t, b'\'') {
                quoted(out, t, '\'');
                return Some(LITERAL);
            }
            if plain(t, b'"') {
                quoted(out, t, '"');
                return Some(BASIC);
            }
            // Escapes or quotes: the lossless path's form, decoded again to be sure.
            let form = match (what, literal(t)) {
                // A multi-line literal string: the lossless path writes it.
                (LITERAL, Some(l)) if l.starts_with("'''") => return None,
                (LITERAL, Some(l)) => (l, LITERAL),
                _ => (basic(t), BASIC),
            };
            if decoded(&form.0, form.1)? != *t {
                return None;
            }
            out.push_str(&form.0);
            Some(form.1)
        }
        Edit::Open(Scalar::Int(i)) => {
            out.push_str(&i.to_string());
            Some(INT)
        }
        Edit::Open(Scalar::Bool(b)) => {
            out.push_str(if *b { "true" } else { "false" });
            Some(BOOL)
        }
        Edit::Open(Scalar::Float(t)) if is_float(t) => {
            out.push_str(t);
            Some(FLOAT)
        }
        Edit::Open(_) => None,
    }
}

/// A one-line string written as `form` read back by toml_parser's decoder.
fn decoded(form: &str, what: u8) -> Option<String> {
    let enc = if what == LITERAL {
        Encoding::LiteralString
    } else {
        Encoding::BasicString
    };
    let raw = Raw::new_unchecked(form, Some(enc), Span::new_unchecked(0, form.len()));
    let mut out = String::new();
    let mut err: Option<ParseError> = None;
    let _ = raw.decode_scalar(&mut out, &mut err);
    err.is_none().then_some(out)
}

impl Flat for Scan {
    const NAME: &'static str = "toml";

    fn len(&self) -> usize {
        self.src.len()
    }

    fn units(&self) -> usize {
        self.units.len()
    }

    fn unit_start(&self, u: usize) -> usize {
        self.units[u].start as usize
    }

    fn render(&self, from: usize, to: usize, edit: &mut LeafEdit<'_>) -> Result<Option<Piece>> {
        let src = self.src.as_str();
        let (a, z) = self.stretch(from, to);
        let grow = if self.meta.is_none() { 110 } else { 0 };
        let mut p = Piece::new(from, to, (z - a) + (to - from) * grow, 2 * (to - from));
        let mut string = Scalar::Str(String::new());
        let mut comment = Scalar::Comment(String::new());
        let mut aad = String::new();
        let mut path: Vec<&str> = Vec::new();
        let mut table = u32::MAX;
        let mut pos = a;
        for u in &self.units[from..to] {
            let (start, end) = (u.start as usize, u.end as usize);
            self.copy_gap(&mut p.out, pos, start);
            if u.table != table {
                table = u.table;
                path.clear();
                aad.clear();
                for &seg in &self.tables[table as usize] {
                    path.push(self.text(seg));
                    aad.push_str(self.text(seg));
                    aad.push(':');
                }
            }
            let mut at = start;
            match u.kind {
                Kind::Header => {
                    // The `]` right after the last key.
                    let after = self.tables[table as usize]
                        .last()
                        .map_or(start, |seg| seg.1 as usize);
                    p.out.push_str(&src[start..after]);
                    let w = p.out.len();
                    p.out.push(']');
                    p.expect_from(w, HEADER);
                    at = after + 1;
                }
                Kind::Key { key, value, what } => {
                    let k = self.text(key);
                    let raw = self.text(value);
                    let scalar_owned;
                    let s: &Scalar = match what {
                        BASIC | LITERAL => {
                            if let Scalar::Str(v) = &mut string {
                                v.clear();
                                v.push_str(&raw[1..raw.len() - 1]);
                            }
                            &string
                        }
                        INT => {
                            scalar_owned = Scalar::Int(raw.parse().unwrap_or_default());
                            &scalar_owned
                        }
                        BOOL => {
                            scalar_owned = Scalar::Bool(raw == "true");
                            &scalar_owned
                        }
                        _ => {
                            scalar_owned = Scalar::Float(raw.to_string());
                            &scalar_owned
                        }
                    };
                    let n = aad.len();
                    aad.push_str(k);
                    aad.push(':');
                    path.push(k);
                    let e = edit(&path, &aad, s);
                    path.pop();
                    aad.truncate(n);
                    let e = e?;
                    p.out.push_str(&src[start..value.0 as usize]);
                    let w = p.out.len();
                    let tag = match &e {
                        Edit::Keep => {
                            p.out.push_str(raw);
                            what
                        }
                        e => match write_value(&mut p.out, e, what) {
                            Some(tag) => tag,
                            None => return Ok(None),
                        },
                    };
                    p.expect_from(w, tag);
                    at = value.1 as usize;
                }
                Kind::Comment => {}
            }
            if let Some((cs, ce)) = u.comment {
                let (cs, ce) = (cs as usize, ce as usize);
                if let Scalar::Comment(c) = &mut comment {
                    c.clear();
                    c.push_str(&src[cs..ce]);
                }
                let e = edit(&path, if aad.is_empty() { ":" } else { &aad }, &comment)?;
                p.out.push_str(&src[at..cs - 1]);
                let w = p.out.len();
                p.out.push('#');
                match &e {
                    Edit::Keep => p.out.push_str(&src[cs..ce]),
                    Edit::Seal(t) | Edit::Open(Scalar::Comment(t) | Scalar::Str(t))
                        if !t.contains(is_bad_control) =>
                    {
                        p.out.push_str(t)
                    }
                    _ => return Ok(None),
                }
                p.expect_from(w, COMMENT);
                at = ce;
            }
            p.out.push_str(&src[at..end]);
            pos = end;
        }
        self.copy_gap(&mut p.out, pos, z);
        Ok(Some(p))
    }

    fn check(&self, p: &Piece) -> Result<()> {
        let out = p.out.as_str();
        let units = &self.units[p.from..p.to];
        let mut r = Checker {
            scan: self,
            out,
            units,
            expect: &p.expect,
            by: 0,
            next: 0,
            k: 0,
            line: None,
            header: None,
            key: None,
            table: units.first().map_or(0, |u| u.table),
            failed: None,
        };
        // toml_parser wants a whole text's tokens: give it a line-aligned chunk at a time
        // (every construct this path reads or writes is on one line).
        let mut pos = 0usize;
        while pos < out.len() && r.failed.is_none() {
            let mut end = (pos + CHUNK).min(out.len());
            if end < out.len() {
                end = out[end..].find('\n').map_or(out.len(), |i| end + i + 1);
            }
            let tokens = Source::new(&out[pos..end]).lex().into_vec();
            let mut errors: Option<ParseError> = None;
            r.by = pos;
            toml_parser::parser::parse_document(&tokens, &mut r, &mut errors);
            if errors.is_some() {
                r.fail("it does not parse");
            }
            pos = end;
        }
        r.end_line();
        if let Some(what) = r.failed {
            return Err(bug(Self::NAME, what));
        }
        if r.k != p.expect.len() || r.next != units.len() {
            return Err(bug(Self::NAME, "the number of values"));
        }
        Ok(())
    }

    fn meta_block(&self, meta: &Value, before: &str) -> Result<String> {
        let block = meta_toml(meta)?;
        let back = TomlDoc::parse(block.as_bytes())?;
        if !meta_matches(Some(meta), back.meta.as_ref()) || !back.slots.is_empty() {
            return Err(bug(Self::NAME, "the metadata"));
        }
        Ok(meta_after(before, true, &block))
    }
}

/// How much output toml_parser reads at a time.
const CHUNK: usize = 1 << 20;

/// Compares toml_parser's events over a written piece, line by line, with its units (one
/// per line) and expectations.
struct Checker<'a> {
    scan: &'a Scan,
    out: &'a str,
    units: &'a [Unit],
    expect: &'a [Expect],
    /// Where the chunk being parsed starts in `out`.
    by: usize,
    /// The next unit and expectation.
    next: usize,
    k: usize,
    /// The unit of the current line, and whether its comment was seen.
    line: Option<(Unit, bool)>,
    /// A header's keys while it is read, and a key/value line's key.
    header: Option<Vec<(usize, usize)>>,
    key: Option<(usize, usize)>,
    /// The table the last header opened.
    table: u32,
    failed: Option<&'static str>,
}

impl Checker<'_> {
    fn fail(&mut self, what: &'static str) {
        self.failed.get_or_insert(what);
    }

    fn span(&self, s: Span) -> (usize, usize) {
        (s.start() + self.by, s.end() + self.by)
    }

    /// Take the next expectation if it has this tag and span.
    fn expect(&mut self, what: u8, span: (usize, usize)) -> bool {
        match self.expect.get(self.k) {
            Some(x) if x.what == what && (x.start as usize, x.end as usize) == span => {
                self.k += 1;
                true
            }
            _ => false,
        }
    }

    /// A line starts: the next unit, which must be of this sort and in the current table.
    fn start_line(&mut self, sort: fn(&Kind) -> bool) -> Option<Unit> {
        if self.line.is_some() {
            self.fail("two things on one line");
            return None;
        }
        let u = self.units.get(self.next).copied();
        self.next += 1;
        match u {
            Some(u) if sort(&u.kind) => {
                self.line = Some((u, false));
                Some(u)
            }
            _ => {
                self.fail("a line of another sort");
                None
            }
        }
    }

    /// A line ends: its unit must be complete.
    fn end_line(&mut self) {
        if let Some((u, seen)) = self.line.take() {
            if u.comment.is_some() != seen || self.key.is_some() || self.header.is_some() {
                self.fail("a line's parts");
            }
        }
    }

    fn text(&self, r: (usize, usize)) -> &str {
        &self.out[r.0..r.1]
    }
}

impl EventReceiver for Checker<'_> {
    fn std_table_open(&mut self, _span: Span, _error: &mut dyn ErrorSink) {
        if self.start_line(|k| matches!(k, Kind::Header)).is_some() {
            self.header = Some(Vec::new());
        }
    }

    fn std_table_close(&mut self, span: Span, _error: &mut dyn ErrorSink) {
        let (Some(keys), Some((u, _))) = (self.header.take(), self.line) else {
            return self.fail("a header");
        };
        let want = &self.scan.tables[u.table as usize];
        let same = keys.len() == want.len()
            && keys
                .iter()
                .zip(want)
                .all(|(k, w)| self.text(*k) == self.scan.text(*w));
        let span = self.span(span);
        if !same || !self.expect(HEADER, span) {
            return self.fail("a header");
        }
        self.table = u.table;
    }

    fn array_table_open(&mut self, _span: Span, _error: &mut dyn ErrorSink) {
        self.fail("an array of tables");
    }

    fn inline_table_open(&mut self, _span: Span, _error: &mut dyn ErrorSink) -> bool {
        self.fail("an inline table");
        false
    }

    fn array_open(&mut self, _span: Span, _error: &mut dyn ErrorSink) -> bool {
        self.fail("an array");
        false
    }

    fn simple_key(&mut self, span: Span, kind: Option<Encoding>, _error: &mut dyn ErrorSink) {
        let span = self.span(span);
        if kind.is_some() {
            return self.fail("a quoted key");
        }
        if let Some(keys) = self.header.as_mut() {
            keys.push(span);
            return;
        }
        if self.start_line(|k| matches!(k, Kind::Key { .. })).is_some() {
            self.key = Some(span);
        }
    }

    fn key_sep(&mut self, _span: Span, _error: &mut dyn ErrorSink) {
        if self.header.is_none() {
            self.fail("a dotted key");
        }
    }

    fn scalar(&mut self, span: Span, enc: Option<Encoding>, _error: &mut dyn ErrorSink) {
        let (s, e) = self.span(span);
        let (Some(key), Some((u, _))) = (self.key.take(), self.line) else {
            return self.fail("a value without a key");
        };
        let Kind::Key { key: want, .. } = u.kind else {
            return self.fail("a key");
        };
        if self.text(key) != self.scan.text(want) || u.table != self.table {
            return self.fail("a key");
        }
        // Strings are not decoded again: what this path writes in quotes was read (kept
        // values), is a token without escapes, or was decoded as written (opened values).
        // That the lexer sees a string of this kind exactly there is what is checked.
        let mut err: Option<ParseError> = None;
        let what = match enc {
            Some(Encoding::BasicString) => BASIC,
            Some(Encoding::LiteralString) => LITERAL,
            Some(_) => return self.fail("a multi-line string"),
            None => match Raw::new_unchecked(&self.out[s..e], enc, span)
                .decode_scalar(&mut (), &mut err)
            {
                ScalarKind::Integer(toml_parser::decoder::IntegerRadix::Dec) => INT,
                ScalarKind::Float => FLOAT,
                ScalarKind::Boolean(_) => BOOL,
                _ => return self.fail("a value of another kind"),
            },
        };
        if err.is_some() || !self.expect(what, (s, e)) {
            self.fail("a value");
        }
    }

    fn comment(&mut self, span: Span, _error: &mut dyn ErrorSink) {
        let (s, e) = self.span(span);
        let raw = Raw::new_unchecked(&self.out[s..e], None, span);
        let mut err: Option<ParseError> = None;
        raw.decode_comment(&mut err);
        if self.line.is_none() && self.start_line(|k| matches!(k, Kind::Comment)).is_none() {
            return;
        }
        match self.line.as_mut() {
            Some((u, seen)) if !*seen && u.table == self.table => *seen = true,
            _ => return self.fail("a comment"),
        }
        if err.is_some() || !self.expect(COMMENT, (s, e)) {
            self.fail("a comment");
        }
    }

    fn newline(&mut self, _span: Span, _error: &mut dyn ErrorSink) {
        self.end_line();
    }

    fn error(&mut self, _span: Span, _error: &mut dyn ErrorSink) {
        self.fail("it does not parse");
    }
}
