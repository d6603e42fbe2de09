//! The streaming path for dotenv files (see [`crate::format::stream`] for why it exists).
//!
//! dotenv is simple enough that this path reads every file the lossless path reads, by the same
//! rules (key before the first `=`, `#` comment lines, `\n` escapes, `sops_` metadata lines
//! anywhere); a line without `=`, or metadata where none is expected (or none where it is), gives
//! the text back so that the lossless path reports it. Each leaf line is one unit. An opened
//! value that would not read back (a literal `\n` in it, a line break in a comment) also gives
//! the text back, and the lossless path refuses it with its own message. The check reads the
//! output line by line with the same rules and compares every key and the span of every value.

use super::{append_meta, check_meta, meta_tree, value_text, DotenvDoc, META_PREFIX};
use crate::error::Result;
use crate::format::flatten::encode_newlines;
use crate::format::stream::{bug, Flat, Piece};
use crate::format::yaml::LeafEdit;
use crate::format::Edit;
use crate::tree::{Scalar, Value};

/// The `eq` of a comment line.
const COMMENT: u32 = u32::MAX;
/// Expectation tags: a value after `=`, or a comment's text after `#`.
const ENTRY: u8 = 0;
const TEXT: u8 = 1;

/// A line that holds a leaf: where it starts, its `=` (or [`COMMENT`]), where it ends (before
/// its `\n`).
#[derive(Clone, Copy)]
struct LeafLine {
    start: u32,
    eq: u32,
    end: u32,
}

/// A dotenv file scanned for the streaming path.
pub(crate) struct Scan {
    src: String,
    lines: Vec<LeafLine>,
    /// The metadata lines, each with its `\n`, in order.
    meta: Vec<(u32, u32)>,
    comments: bool,
}

/// One line of `text` from `start`: its end (before `\n`) and where the next one starts.
fn line_at(b: &[u8], start: usize) -> (usize, usize) {
    match memchr::memchr(b'\n', &b[start..]) {
        Some(i) => (start + i, start + i + 1),
        None => (b.len(), b.len()),
    }
}

impl Scan {
    /// Scan `src`, or give it back.
    pub(crate) fn run(src: String, encrypted: bool) -> std::result::Result<Scan, String> {
        let mut lines = Vec::with_capacity(src.len() / 48 + 1);
        let mut meta = Vec::new();
        let mut comments = false;
        let b = src.as_bytes();
        let mut pos = 0usize;
        while pos < b.len() {
            let (end, next) = line_at(b, pos);
            let line = &b[pos..end];
            if line.first() == Some(&b'#') {
                comments = true;
                lines.push(LeafLine {
                    start: pos as u32,
                    eq: COMMENT,
                    end: end as u32,
                });
            } else if !line.is_empty() {
                let Some(eq) = memchr::memchr(b'=', line) else {
                    return Err(src);
                };
                if line.starts_with(META_PREFIX.as_bytes()) {
                    if !encrypted {
                        return Err(src);
                    }
                    meta.push((pos as u32, next as u32));
                } else {
                    lines.push(LeafLine {
                        start: pos as u32,
                        eq: (pos + eq) as u32,
                        end: end as u32,
                    });
                }
            }
            pos = next;
        }
        if encrypted && meta.is_empty() {
            return Err(src);
        }
        Ok(Scan {
            src,
            lines,
            meta,
            comments,
        })
    }

    pub(crate) fn has_comments(&self) -> bool {
        self.comments
    }

    pub(crate) fn into_src(self) -> String {
        self.src
    }

    /// The metadata, read from the `sops_` lines exactly as the lossless path reads them.
    pub(crate) fn metadata(&self) -> Result<Option<Value>> {
        let mut pairs = Vec::with_capacity(self.meta.len());
        for &(s, e) in &self.meta {
            let line = self.src[s as usize..e as usize].trim_end_matches('\n');
            if let Some((k, v)) = line.split_once('=') {
                let k = k.strip_prefix(META_PREFIX).unwrap_or(k);
                pairs.push((k.to_string(), crate::format::flatten::decode_newlines(v)));
            }
        }
        meta_tree(&pairs)
    }

    /// Copy source bytes `from..to`, leaving out the metadata lines.
    fn copy_gap(&self, out: &mut String, from: usize, to: usize) {
        let mut pos = from;
        for &(s, e) in &self.meta {
            let (s, e) = (s as usize, e as usize);
            if e <= pos || s >= to {
                continue;
            }
            out.push_str(&self.src[pos..s]);
            pos = e.min(to);
        }
        if pos < to {
            out.push_str(&self.src[pos..to]);
        }
    }
}

/// sops's `DecodeNewLines` (`\n` → line break), written into a reused buffer.
fn decode_into(buf: &mut String, s: &str) {
    buf.clear();
    if memchr::memchr(b'\\', s.as_bytes()).is_none() {
        buf.push_str(s);
        return;
    }
    let mut rest = s;
    while let Some(i) = memchr::memmem::find(rest.as_bytes(), b"\\n") {
        buf.push_str(&rest[..i]);
        buf.push('\n');
        rest = &rest[i + 2..];
    }
    buf.push_str(rest);
}

impl Flat for Scan {
    const NAME: &'static str = "dotenv";

    fn src(&self) -> &str {
        &self.src
    }

    fn units(&self) -> usize {
        self.lines.len()
    }

    fn unit_start(&self, u: usize) -> usize {
        self.lines[u].start as usize
    }

    fn render(&self, from: usize, to: usize, edit: &mut LeafEdit<'_>) -> Result<Option<Piece>> {
        let src = self.src.as_str();
        let (a, z) = self.stretch(from, to);
        // Sealing makes each value about a hundred bytes longer; opening shortens it.
        let grow = if self.meta.is_empty() { 110 } else { 0 };
        let mut p = Piece::new(from, to, (z - a) + (to - from) * grow, to - from);
        let mut value = Scalar::Str(String::new());
        let mut comment = Scalar::Comment(String::new());
        let mut aad = String::new();
        let mut pos = a;
        for l in &self.lines[from..to] {
            let (start, end) = (l.start as usize, l.end as usize);
            self.copy_gap(&mut p.out, pos, start);
            pos = end;
            if l.eq == COMMENT {
                let text = &src[start + 1..end];
                if let Scalar::Comment(c) = &mut comment {
                    c.clear();
                    c.push_str(text);
                }
                let e = edit(&[], ":", &comment)?;
                p.out.push('#');
                let at = p.out.len();
                match e {
                    Edit::Keep => p.out.push_str(text),
                    Edit::Seal(tok) | Edit::Open(Scalar::Str(tok) | Scalar::Comment(tok)) => {
                        if memchr::memchr(b'\n', tok.as_bytes()).is_some() {
                            return Ok(None);
                        }
                        p.out.push_str(&tok)
                    }
                    Edit::Open(s) => {
                        let t = value_text(&s);
                        if t.contains('\n') {
                            return Ok(None);
                        }
                        p.out.push_str(&t);
                    }
                }
                p.expect_from(at, TEXT);
                continue;
            }
            let eq = l.eq as usize;
            let key = &src[start..eq];
            let raw = &src[eq + 1..end];
            if let Scalar::Str(v) = &mut value {
                decode_into(v, raw);
            }
            aad.clear();
            aad.push_str(key);
            aad.push(':');
            let e = edit(&[key], &aad, &value)?;
            p.out.push_str(&src[start..eq + 1]);
            let at = p.out.len();
            match e {
                Edit::Keep => p.out.push_str(raw),
                // A token is base64 and punctuation, and most values hold no `\`: nothing
                // to escape, nothing that reads back otherwise.
                Edit::Seal(t) | Edit::Open(Scalar::Str(t))
                    if memchr::memchr2(b'\n', b'\\', t.as_bytes()).is_none() =>
                {
                    p.out.push_str(&t);
                }
                Edit::Seal(_) => return Ok(None),
                Edit::Open(s) => {
                    let t = value_text(&s);
                    let enc = encode_newlines(&t);
                    // A literal `\n` in the value would read back as a line break.
                    if enc.matches("\\n").count() != t.matches('\n').count() {
                        return Ok(None);
                    }
                    p.out.push_str(&enc);
                }
            }
            p.expect_from(at, ENTRY);
        }
        self.copy_gap(&mut p.out, pos, z);
        Ok(Some(p))
    }

    fn check(&self, p: &Piece) -> Result<()> {
        let out = p.out.as_bytes();
        let src = self.src.as_bytes();
        let fail = |what: &str| Err(bug(Self::NAME, what));
        let mut k = 0usize;
        let mut pos = 0usize;
        while pos < out.len() {
            let (end, next) = line_at(out, pos);
            let line = &out[pos..end];
            let start = pos;
            pos = next;
            if line.is_empty() {
                continue;
            }
            let Some(x) = p.expect.get(k) else {
                return fail("an extra line");
            };
            let (xs, xe) = (x.start as usize, x.end as usize);
            if line[0] == b'#' {
                if x.what != TEXT || xs != start + 1 || xe != end {
                    return fail("a comment");
                }
            } else {
                let Some(eq) = memchr::memchr(b'=', line) else {
                    return fail("a line without '='");
                };
                let l = self.lines[p.from + k];
                let key = &src[l.start as usize..l.eq as usize];
                if x.what != ENTRY
                    || xs != start + eq + 1
                    || xe != end
                    || &line[..eq] != key
                    || key.starts_with(META_PREFIX.as_bytes())
                {
                    return fail("a key or its value");
                }
            }
            k += 1;
        }
        if k != p.expect.len() || k != p.to - p.from {
            return fail("the number of values");
        }
        Ok(())
    }

    fn meta_block(&self, meta: &Value, before: &str) -> Result<String> {
        let mut out = String::new();
        if !before.is_empty() && !before.ends_with('\n') {
            out.push('\n');
        }
        let at = out.len();
        append_meta(&mut out, meta);
        let back = DotenvDoc::parse(&out.as_bytes()[at..])?;
        check_meta(Some(meta), back.meta.as_ref())?;
        if !back.leaves.is_empty() {
            return Err(bug(Self::NAME, "the metadata"));
        }
        Ok(out)
    }
}
