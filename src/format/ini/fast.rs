//! The streaming path for INI files (see [`crate::format::stream`] for why it exists).
//!
//! It reads the usual shape of INI files: `[section]` headers with nothing after the `]`,
//! `key = value` lines (`=` or `:`) whose value is plain or wrapped in `"…"`/`'…'` on the line,
//! comment lines (`;` or `#`) above a key or a header or at the end, blank lines, and a
//! `[sops]` section of such keys at the end of the file. Each key or header line, with the
//! comment lines above it, is one unit. It gives the text back for anything else: a quoted
//! key, a `-` key, a `` ` `` or `"""` value, a continued value, a comment after a value or a
//! header, comments after `[sops]` or data after it, duplicate keys (an error the lossless path
//! reports), carriage returns, a byte order mark. Those files take the lossless path, which
//! reads all of go-ini's syntax; both read the files this path accepts the same way and write
//! the same bytes (the tests compare them). An opened value that would need quotes it does not
//! have also gives the text back.
//!
//! Leaves come in the lossless path's order: a key's value, then the comment block above it
//! (sops stores a comment after the key it precedes); a header's block first in its section.
//! The check reads the output again line by line with the same rules and compares every header
//! name, key, value span and comment block with what was written.

use std::collections::HashSet;

use super::emit::{meta_matches, meta_section};
use super::parse::{has_surrounded_quote, is_marker, marker_run, meta_tree, IniDoc};
use super::render::norm_comment;
use super::{DEFAULT_SECTION, META_SECTION};
use crate::error::Result;
use crate::format::flatten::decode_newlines;
use crate::format::stream::{bug, line_at, meta_after, Expect, Flat, Piece};
use crate::format::{Edit, LeafEdit};
use crate::tree::{Scalar, Value};

/// Expectation tags: a comment block's text, a value, a header's name.
const BLOCK: u8 = 0;
const VALUE: u8 = 1;
const HEADER: u8 = 2;

/// The name index of the implicit `DEFAULT` section.
const DEFAULT: u32 = u32::MAX;

/// A line: where it starts and ends (before its `\n`).
#[derive(Clone, Copy)]
struct Line {
    start: u32,
    end: u32,
}

#[derive(Clone, Copy)]
enum Kind {
    /// A key line: the key's span and the value's (inside any quotes).
    Key {
        line: Line,
        key: (u32, u32),
        value: (u32, u32),
        quote: u8,
    },
    /// A section header, and the span of its name.
    Header { line: Line, name: (u32, u32) },
    /// Comment lines at the end of the file.
    Tail,
}

/// A key or header line with the comment lines above it, or the comments at the end.
#[derive(Clone, Copy)]
struct Unit {
    /// The section its leaves belong to (an index into `sections`, or [`DEFAULT`]).
    section: u32,
    /// Its comment lines: `comments[from..to]`.
    block: (u32, u32),
    kind: Kind,
}

/// An INI file scanned for the streaming path.
pub(crate) struct Scan {
    src: String,
    units: Vec<Unit>,
    comments: Vec<Line>,
    /// Section names (spans), in order.
    sections: Vec<(u32, u32)>,
    /// The `[sops]` section's pairs (key and value spans) and the text that rendering removes.
    meta: Vec<((u32, u32), (u32, u32))>,
    meta_range: Option<(u32, u32)>,
}

/// go-ini's value rules for the simple values this path reads, on the text after the key's
/// delimiter (`vstart`) up to the end of the line: the value's span (inside quotes) and its
/// quote, or `None` for anything else.
fn simple_value(text: &str, vstart: usize, end: usize) -> Option<((u32, u32), u8)> {
    // go-ini looks at the line with its `\n` (`"""` then a line break opens a multi-line value).
    let next = (end + 1).min(text.len());
    let input = &text[vstart..next];
    let lt = input.trim_start();
    if lt.is_empty() {
        let line = &text[vstart..end];
        let p = vstart + (line.len() - line.trim_start_matches([' ', '\t']).len());
        return Some(((p as u32, p as u32), 0));
    }
    if (lt.len() > 3 && lt.starts_with("\"\"\"")) || lt.starts_with('`') {
        return None;
    }
    let t = lt.trim();
    if t.ends_with('\\') || memchr::memchr2(b';', b'#', t.as_bytes()).is_some() {
        return None;
    }
    let vs = vstart + (input.len() - lt.len());
    for q in ['"', '\''] {
        if has_surrounded_quote(t, q) {
            return Some((((vs + 1) as u32, (vs + t.len() - 1) as u32), q as u8));
        }
    }
    Some(((vs as u32, (vs + t.len()) as u32), 0))
}

/// go-ini's key rules for an unquoted key: the key's span and the offset after its delimiter.
fn simple_key(text: &str, base: usize, end: usize) -> Option<((u32, u32), usize)> {
    let lt = &text[base..end];
    if lt.starts_with(['"', '`']) {
        return None;
    }
    let d = memchr::memchr2(b'=', b':', lt.as_bytes())?;
    if base + d >= end {
        return None;
    }
    let raw = &lt[..d];
    let key = raw.trim();
    if key.is_empty() || key == "-" {
        return None;
    }
    let ks = base + (raw.len() - raw.trim_start().len());
    Some(((ks as u32, (ks + key.len()) as u32), base + d + 1))
}

/// Whether `v` written at a value's span (with `quote` around it, or none) reads back as
/// itself by go-ini's rules.
fn writes_in_place(v: &str, quote: u8) -> bool {
    let b = v.as_bytes();
    if v.is_empty()
        || memchr::memchr3(b';', b'#', b'\n', b).is_some()
        || memchr::memchr(b'\r', b).is_some()
    {
        return false;
    }
    match quote {
        0 => {
            let special = v.ends_with('\\')
                || (v.len() > 3 && v.starts_with("\"\"\""))
                || v.starts_with('`')
                || has_surrounded_quote(v, '"')
                || has_surrounded_quote(v, '\'');
            v.trim().len() == v.len() && !special
        }
        q => memchr::memchr(q, b).is_none() && !(q == b'"' && v.starts_with("\"\"")),
    }
}

/// What a line is, by go-ini's first look at it.
enum LineKind {
    Blank,
    Comment,
    /// A header and its name's span; `None` when it is not one this path reads.
    Header(Option<(u32, u32)>),
    /// A key line, with the text from its first non-blank byte.
    Key(usize),
}

fn classify(text: &str, start: usize, end: usize) -> LineKind {
    let line = &text[start..(end + 1).min(text.len())];
    let lt = line.trim_start();
    if lt.is_empty() {
        return LineKind::Blank;
    }
    let base = start + (line.len() - lt.len());
    if lt.starts_with(is_marker) {
        return LineKind::Comment;
    }
    if lt.starts_with('[') {
        let name = lt.rfind(']').and_then(|close| {
            let ok = close > 1 && lt[close + 1..].trim().is_empty();
            ok.then_some(((base + 1) as u32, (base + close) as u32))
        });
        return LineKind::Header(name);
    }
    LineKind::Key(base)
}

impl Scan {
    /// Scan `src`, or give it back.
    pub(crate) fn run(src: String, encrypted: bool) -> std::result::Result<Scan, String> {
        match Self::scan(&src, encrypted) {
            Some((units, comments, sections, meta, meta_range)) => Ok(Scan {
                src,
                units,
                comments,
                sections,
                meta,
                meta_range,
            }),
            None => Err(src),
        }
    }

    #[allow(clippy::type_complexity)]
    fn scan(
        text: &str,
        encrypted: bool,
    ) -> Option<(
        Vec<Unit>,
        Vec<Line>,
        Vec<(u32, u32)>,
        Vec<((u32, u32), (u32, u32))>,
        Option<(u32, u32)>,
    )> {
        let b = text.as_bytes();
        if text.starts_with('\u{feff}') || memchr::memchr(b'\r', b).is_some() {
            return None;
        }
        let mut units = Vec::with_capacity(b.len() / 40 + 1);
        let mut comments: Vec<Line> = Vec::new();
        let mut sections: Vec<(u32, u32)> = Vec::new();
        let mut meta = Vec::new();
        let mut meta_range: Option<(u32, u32)> = None;
        let mut section = DEFAULT;
        // Seeded at random per process, so a file cannot be written against a known seed;
        // foldhash itself promises only minimal resistance to crafted collisions (it is no
        // keyed hash), which is enough for one short-lived run over one file's key names.
        let mut keys: HashSet<&str, foldhash::fast::RandomState> = HashSet::default();
        let mut block_from = 0u32;
        let mut prev_blank: Option<usize> = None;
        let mut pos = 0usize;
        while pos < b.len() {
            let (start, (end, next)) = (pos, line_at(b, pos));
            pos = next;
            let kind = classify(text, start, end);
            if let Some(range) = meta_range.as_mut() {
                // Inside `[sops]` (the last section): only keys and blank lines.
                match kind {
                    LineKind::Blank => continue,
                    LineKind::Key(base) => {
                        let (key, vstart) = simple_key(text, base, end)?;
                        let (value, _) = simple_value(text, vstart, end)?;
                        meta.push((key, value));
                        range.1 = next as u32;
                        continue;
                    }
                    _ => return None,
                }
            }
            match kind {
                LineKind::Blank => {
                    prev_blank = Some(start);
                    continue;
                }
                LineKind::Comment => comments.push(Line {
                    start: start as u32,
                    end: end as u32,
                }),
                LineKind::Header(name) => {
                    let name = name?;
                    let block = (block_from, comments.len() as u32);
                    if &text[name.0 as usize..name.1 as usize] == META_SECTION {
                        if !encrypted {
                            return None;
                        }
                        // Comments just above `[sops]` end the data (the lossless path moves
                        // them to the end, where they are once the section is removed).
                        if block.0 != block.1 {
                            units.push(Unit {
                                section,
                                block,
                                kind: Kind::Tail,
                            });
                            block_from = comments.len() as u32;
                        }
                        // The blank line just above goes with the section.
                        let from = match prev_blank {
                            Some(p) if line_at(b, p).1 == start => p,
                            _ => start,
                        };
                        meta_range = Some((from as u32, next as u32));
                        continue;
                    }
                    sections.push(name);
                    section = (sections.len() - 1) as u32;
                    keys.clear();
                    units.push(Unit {
                        section,
                        block,
                        kind: Kind::Header {
                            line: Line {
                                start: start as u32,
                                end: end as u32,
                            },
                            name,
                        },
                    });
                    block_from = comments.len() as u32;
                }
                LineKind::Key(base) => {
                    let (key, vstart) = simple_key(text, base, end)?;
                    let (value, quote) = simple_value(text, vstart, end)?;
                    if !keys.insert(&text[key.0 as usize..key.1 as usize]) {
                        return None;
                    }
                    units.push(Unit {
                        section,
                        block: (block_from, comments.len() as u32),
                        kind: Kind::Key {
                            line: Line {
                                start: start as u32,
                                end: end as u32,
                            },
                            key,
                            value,
                            quote,
                        },
                    });
                    block_from = comments.len() as u32;
                }
            }
            prev_blank = None;
        }
        if (block_from as usize) < comments.len() {
            units.push(Unit {
                section,
                block: (block_from, comments.len() as u32),
                kind: Kind::Tail,
            });
        }
        if encrypted != meta_range.is_some() {
            return None;
        }
        Some((units, comments, sections, meta, meta_range))
    }

    pub(crate) fn has_comments(&self) -> bool {
        !self.comments.is_empty()
    }

    pub(crate) fn into_src(self) -> String {
        self.src
    }

    /// The metadata, read from the `[sops]` pairs exactly as the lossless path reads them.
    pub(crate) fn metadata(&self) -> Result<Option<Value>> {
        if self.meta_range.is_none() {
            return Ok(None);
        }
        let s = |r: (u32, u32)| &self.src[r.0 as usize..r.1 as usize];
        let pairs: Vec<(String, String)> = self
            .meta
            .iter()
            .map(|&(k, v)| (s(k).to_string(), decode_newlines(s(v))))
            .collect();
        meta_tree(&pairs).map(Some)
    }

    fn text(&self, r: (u32, u32)) -> &str {
        &self.src[r.0 as usize..r.1 as usize]
    }

    fn section_name(&self, i: u32) -> &str {
        match i {
            DEFAULT => DEFAULT_SECTION,
            i => self.text(self.sections[i as usize]),
        }
    }

    /// The comment lines of unit `u`.
    fn block(&self, u: &Unit) -> &[Line] {
        &self.comments[u.block.0 as usize..u.block.1 as usize]
    }

    /// Where a unit's first line starts.
    fn real_start(&self, u: &Unit) -> usize {
        match (self.block(u).first(), u.kind) {
            (Some(l), _) => l.start as usize,
            (None, Kind::Key { line, .. } | Kind::Header { line, .. }) => line.start as usize,
            (None, Kind::Tail) => self.src.len(),
        }
    }

    /// Where a comment block's text ends (after its last line's `\n`).
    fn unit_end_of_block(&self, block: &[Line]) -> usize {
        block
            .last()
            .map_or(0, |l| (l.end as usize + 1).min(self.src.len()))
    }

    /// Copy source bytes `from..to`, leaving out the `[sops]` section.
    fn copy_gap(&self, out: &mut String, from: usize, to: usize) {
        match self.meta_range {
            Some((s, e)) if (s as usize) < to && (e as usize) > from => {
                out.push_str(&self.src[from..(s as usize).max(from)]);
                if (e as usize) < to {
                    out.push_str(&self.src[e as usize..to]);
                }
            }
            _ => out.push_str(&self.src[from..to]),
        }
    }

    /// A comment line's text span: after its marker run, before its trailing blanks.
    fn comment_text(&self, l: Line) -> (usize, usize) {
        let line = &self.src[l.start as usize..l.end as usize];
        let lt = line.trim_start();
        let base = l.start as usize + (line.len() - lt.len());
        let end = l.start as usize + line.trim_end().len();
        ((base + marker_run(lt)).min(end), end)
    }

    /// A comment block's text as go-ini joins it and sops strips it, into `buf`.
    fn block_text(&self, lines: &[Line], buf: &mut String) {
        buf.clear();
        block_text_of(&self.src, lines, buf);
    }

    /// Write a comment block with its edit: the text from its first line's start to after its
    /// last line's `\n`. `None` when the edit cannot be written.
    fn write_block(&self, p: &mut Piece, lines: &[Line], e: &Edit) -> Option<()> {
        let src = self.src.as_str();
        let next = |l: Line| (l.end as usize + 1).min(src.len());
        let (first, last) = (lines[0], lines[lines.len() - 1]);
        let (ts, te) = self.comment_text(first);
        p.out.push_str(&src[first.start as usize..ts]);
        let at = p.out.len();
        let text = match e {
            Edit::Keep => {
                let le = self.comment_text(last).1;
                p.out.push_str(&src[ts..le]);
                p.expect_from(at, BLOCK);
                p.out.push_str(&src[le..next(last)]);
                return Some(());
            }
            Edit::Seal(t) => t.as_str(),
            Edit::Open(Scalar::Comment(t) | Scalar::Str(t)) => t.as_str(),
            Edit::Open(_) => return None,
        };
        if text.contains('\r') {
            return None;
        }
        for (i, l) in text.split('\n').enumerate() {
            if i > 0 {
                p.out.push('\n');
                if !l.trim_start().starts_with(is_marker) {
                    p.out.push_str("; ");
                }
            }
            p.out.push_str(l);
        }
        p.expect_from(at, BLOCK);
        p.out.push_str(&src[te..next(first)]);
        // The block's other comment lines go; the blank lines between them stay.
        let mut pos = next(first);
        for &l in &lines[1..] {
            p.out.push_str(&src[pos..l.start as usize]);
            pos = next(l);
        }
        Some(())
    }
}

impl Scan {
    /// A header or key line read back: the next expectation has tag `what` and the span `at`,
    /// the next unit is of the same sort (`want` gives its name's span), its name reads the
    /// same at `name`, and the line has comments above it exactly when the unit does.
    #[allow(clippy::too_many_arguments)]
    fn line_ok(
        &self,
        out: &str,
        exp: &mut std::slice::Iter<'_, Expect>,
        units: &mut std::slice::Iter<'_, Unit>,
        had_block: bool,
        what: u8,
        at: (u32, u32),
        name: (u32, u32),
        want: impl Fn(&Unit) -> Option<(u32, u32)>,
    ) -> bool {
        let (Some(x), Some(u)) = (exp.next(), units.next()) else {
            return false;
        };
        let Some(w) = want(u) else { return false };
        x.what == what
            && (x.start, x.end) == at
            && &out[name.0 as usize..name.1 as usize] == self.text(w)
            && had_block == (u.block.0 != u.block.1)
    }
}

/// A comment block's text: go-ini's joined comment, trimmed, its first marker run removed.
fn block_text_of(text: &str, lines: &[Line], buf: &mut String) {
    let mut joined = String::new();
    for l in lines {
        let end = (l.end as usize + 1).min(text.len());
        joined.push_str(text[l.start as usize..end].trim_start());
    }
    let t = joined.trim();
    buf.clear();
    buf.push_str(&t[marker_run(t)..]);
}

impl Flat for Scan {
    const NAME: &'static str = "ini";

    fn len(&self) -> usize {
        self.src.len()
    }

    fn units(&self) -> usize {
        self.units.len()
    }

    fn unit_start(&self, u: usize) -> usize {
        self.real_start(&self.units[u])
    }

    fn render(&self, from: usize, to: usize, edit: &mut LeafEdit<'_>) -> Result<Option<Piece>> {
        let src = self.src.as_str();
        let (a, z) = self.stretch(from, to);
        let grow = if self.meta_range.is_none() { 110 } else { 0 };
        let mut p = Piece::new(from, to, (z - a) + (to - from) * grow, to - from);
        let mut value = Scalar::Str(String::new());
        let mut comment = Scalar::Comment(String::new());
        let mut aad = String::new();
        let mut pos = a;
        for u in &self.units[from..to] {
            let start = self.real_start(u).max(pos);
            self.copy_gap(&mut p.out, pos, start);
            let section = self.section_name(u.section);
            aad.clear();
            aad.push_str(section);
            aad.push(':');
            let block = self.block(u);
            // The leaves in the lossless path's order: a key's value before its block.
            let mut value_edit = None;
            if let Kind::Key { key, value: v, .. } = u.kind {
                let key = self.text(key);
                if let Scalar::Str(s) = &mut value {
                    s.clear();
                    s.push_str(self.text(v));
                }
                let n = aad.len();
                aad.push_str(key);
                aad.push(':');
                value_edit = Some(edit(&[section, key], &aad, &value)?);
                aad.truncate(n);
            }
            let mut at_line = start;
            if !block.is_empty() {
                if let Scalar::Comment(c) = &mut comment {
                    self.block_text(block, c);
                }
                let e = edit(&[section], &aad, &comment)?;
                if self.write_block(&mut p, block, &e).is_none() {
                    return Ok(None);
                }
                at_line = self.unit_end_of_block(block);
            }
            pos = match u.kind {
                Kind::Key {
                    line,
                    value: v,
                    quote,
                    ..
                } => {
                    p.out.push_str(&src[at_line..v.0 as usize]);
                    let at = p.out.len();
                    match value_edit {
                        Some(Edit::Keep) | None => p.out.push_str(self.text(v)),
                        Some(Edit::Seal(t) | Edit::Open(Scalar::Str(t)))
                            if writes_in_place(&t, quote) =>
                        {
                            p.out.push_str(&t)
                        }
                        Some(Edit::Open(s @ (Scalar::Int(_) | Scalar::Bool(_))))
                            if writes_in_place(&s.to_env_string(), quote) =>
                        {
                            p.out.push_str(&s.to_env_string())
                        }
                        Some(_) => return Ok(None),
                    }
                    p.expect_from(at, VALUE);
                    let next = (line.end as usize + 1).min(src.len());
                    p.out.push_str(&src[v.1 as usize..next]);
                    next
                }
                Kind::Header { line, name } => {
                    p.out.push_str(&src[at_line..name.0 as usize]);
                    let at = p.out.len();
                    p.out.push_str(self.text(name));
                    p.expect_from(at, HEADER);
                    let next = (line.end as usize + 1).min(src.len());
                    p.out.push_str(&src[name.1 as usize..next]);
                    next
                }
                Kind::Tail => at_line,
            };
        }
        self.copy_gap(&mut p.out, pos, z.max(pos));
        Ok(Some(p))
    }

    fn check(&self, p: &Piece) -> Result<()> {
        let out = p.out.as_str();
        let b = out.as_bytes();
        let fail = |what: &str| Err(bug(Self::NAME, what));
        let mut exp = p.expect.iter();
        let mut units = self.units[p.from..p.to].iter();
        let mut block: Vec<Line> = Vec::new();
        let mut buf = String::new();
        // A pending block is compared with the next expectation, loosely, as the lossless
        // path compares comments.
        let mut flush = |block: &mut Vec<Line>, exp: &mut std::slice::Iter<'_, _>| -> bool {
            if block.is_empty() {
                return true;
            }
            buf.clear();
            block_text_of(out, block, &mut buf);
            block.clear();
            match exp.next() {
                Some(&Expect { start, end, what }) => {
                    what == BLOCK
                        && norm_comment(&buf) == norm_comment(&out[start as usize..end as usize])
                }
                None => false,
            }
        };
        let mut pos = 0usize;
        while pos < b.len() {
            let (start, (end, next)) = (pos, line_at(b, pos));
            pos = next;
            match classify(out, start, end) {
                LineKind::Blank => {}
                LineKind::Comment => block.push(Line {
                    start: start as u32,
                    end: end as u32,
                }),
                LineKind::Header(name) => {
                    let had_block = !block.is_empty();
                    if !flush(&mut block, &mut exp) {
                        return fail("a comment");
                    }
                    let want = |u: &Unit| match u.kind {
                        Kind::Header { name, .. } => Some(name),
                        _ => None,
                    };
                    let ok = name.is_some_and(|n| {
                        self.line_ok(out, &mut exp, &mut units, had_block, HEADER, n, n, want)
                    });
                    if !ok {
                        return fail("a section header");
                    }
                }
                LineKind::Key(base) => {
                    let had_block = !block.is_empty();
                    if !flush(&mut block, &mut exp) {
                        return fail("a comment");
                    }
                    let read = simple_key(out, base, end)
                        .and_then(|(k, vs)| simple_value(out, vs, end).map(|(v, _)| (k, v)));
                    let want = |u: &Unit| match u.kind {
                        Kind::Key { key, .. } => Some(key),
                        _ => None,
                    };
                    let ok = read.is_some_and(|(k, v)| {
                        self.line_ok(out, &mut exp, &mut units, had_block, VALUE, v, k, want)
                    });
                    if !ok {
                        return fail("a key or its value");
                    }
                }
            }
        }
        if !block.is_empty() {
            if !flush(&mut block, &mut exp) {
                return fail("a comment");
            }
            if !matches!(units.next().map(|u| u.kind), Some(Kind::Tail)) {
                return fail("a comment");
            }
        }
        if exp.next().is_some() || units.next().is_some() {
            return fail("the number of values");
        }
        Ok(())
    }

    fn meta_block(&self, meta: &Value, before: &str) -> Result<String> {
        let block = meta_section(meta)?;
        let back = IniDoc::parse(block.as_bytes())?;
        if !meta_matches(Some(meta), back.meta.as_ref()) || !back.slots.is_empty() {
            return Err(bug(Self::NAME, "the metadata"));
        }
        Ok(meta_after(before, true, &block))
    }
}
