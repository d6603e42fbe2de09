//! The streaming path for dotenv files (see [`crate::format::stream`] for why it exists).
//!
//! dotenv is simple enough that this path reads every file the lossless path reads, by the same
//! rules (key before the first `=`, `#` comment lines, `\n` escapes, `sops_` metadata lines
//! anywhere); a line without `=`, or metadata where none is expected (or none where it is), gives
//! the text back so that the lossless path reports it. Each leaf line is one unit. A sealed or
//! opened value that would not read back (a literal `\n` in it, a line break in a comment) is
//! refused as the lossless path refuses it (encrypting, by giving the text back to it). The
//! check reads the output line by line with the same rules and compares every key and the span
//! of every value.
//!
//! Decrypting writes the output over the input buffer, from its start: an opened value is
//! shorter than its token, so the output never catches up with the text still to be read (when
//! one is not, the rest goes to a new buffer). The file is then held once, not twice.

use std::sync::RwLock;

use super::{append_meta, check_meta, meta_tree, value_text, DotenvDoc, META_PREFIX};
use crate::error::Result;
use crate::format::flatten::encode_newlines;
use crate::format::stream::{bug, line_at, meta_after, Expect, Flat, Piece, Rendering};
use crate::format::Edit;
use crate::format::{LeafEdit, LeafEditSend};
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
    /// The source; decrypting writes the output over it (see [`Scan::render_in_place`]).
    src: RwLock<String>,
    len: usize,
    lines: Vec<LeafLine>,
    /// The metadata lines, each with its `\n`, in order.
    meta: Vec<(u32, u32)>,
    comments: bool,
    /// Decrypting: a fingerprint of each leaf line's key, for the check of the output written
    /// over the source.
    keys: Vec<u64>,
}

/// One line of `text` from `start`: its end (before `\n`) and where the next one starts.
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
        let keys = if encrypted {
            let k = |l: &LeafLine| match l.eq {
                COMMENT => 0,
                eq => key_hash(&b[l.start as usize..eq as usize]),
            };
            lines.iter().map(k).collect()
        } else {
            Vec::new()
        };
        Ok(Scan {
            len: src.len(),
            src: RwLock::new(src),
            lines,
            meta,
            comments,
            keys,
        })
    }

    pub(crate) fn has_comments(&self) -> bool {
        self.comments
    }

    /// Whether rendering writes over the source (decrypting).
    pub(crate) fn in_place(&self) -> bool {
        !self.meta.is_empty()
    }

    pub(crate) fn into_src(self) -> String {
        self.src.into_inner().unwrap_or_default()
    }

    /// The metadata, read from the `sops_` lines exactly as the lossless path reads them.
    pub(crate) fn metadata(&self) -> Result<Option<Value>> {
        let src = self.src.read().map_err(|_| bug(Self::NAME, "a lock"))?;
        let mut pairs = Vec::with_capacity(self.meta.len());
        for &(s, e) in &self.meta {
            let line = src[s as usize..e as usize].trim_end_matches('\n');
            if let Some((k, v)) = line.split_once('=') {
                let k = k.strip_prefix(META_PREFIX).unwrap_or(k);
                pairs.push((k.to_string(), crate::format::flatten::decode_newlines(v)));
            }
        }
        meta_tree(&pairs)
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

/// Where a rendered stretch goes: a new string (encrypting), or the source's own buffer, over
/// the text already read (decrypting: opened values are shorter than their tokens, so the
/// output never catches up with the input; if one is not, the rest goes to a new buffer).
trait Sink {
    /// Source text not yet overwritten.
    fn text(&self, from: usize, to: usize) -> &str;
    /// Append source bytes `from..to`.
    fn copy(&mut self, from: usize, to: usize);
    /// Append new text; the source from `limit` on is still to be read.
    fn push(&mut self, s: &str, limit: usize);
    /// The output's length so far.
    fn len(&self) -> usize;
}

struct NewString<'a> {
    src: &'a str,
    out: String,
}

impl Sink for NewString<'_> {
    fn text(&self, from: usize, to: usize) -> &str {
        &self.src[from..to]
    }
    fn copy(&mut self, from: usize, to: usize) {
        self.out.push_str(&self.src[from..to]);
    }
    fn push(&mut self, s: &str, _limit: usize) {
        self.out.push_str(s);
    }
    fn len(&self) -> usize {
        self.out.len()
    }
}

/// A stretch of the source buffer (`base` is its offset in the file), written over from its
/// start; `spill` takes over if the output would overtake what is still to be read.
struct InPlace<'a> {
    buf: &'a mut [u8],
    base: usize,
    w: usize,
    spill: Option<Vec<u8>>,
}

impl Sink for InPlace<'_> {
    fn text(&self, from: usize, to: usize) -> &str {
        // Unread source text: still the valid UTF-8 it was, cut at line or `=` boundaries.
        std::str::from_utf8(&self.buf[from - self.base..to - self.base]).unwrap_or("")
    }
    fn copy(&mut self, from: usize, to: usize) {
        let (from, to) = (from - self.base, to - self.base);
        match &mut self.spill {
            Some(s) => s.extend_from_slice(&self.buf[from..to]),
            None => {
                self.buf.copy_within(from..to, self.w);
                self.w += to - from;
            }
        }
    }
    fn push(&mut self, s: &str, limit: usize) {
        let b = s.as_bytes();
        if self.spill.is_none() && self.w + b.len() > limit - self.base {
            self.spill = Some(self.buf[..self.w].to_vec());
        }
        match &mut self.spill {
            Some(sp) => sp.extend_from_slice(b),
            None => {
                self.buf[self.w..self.w + b.len()].copy_from_slice(b);
                self.w += b.len();
            }
        }
    }
    fn len(&self) -> usize {
        self.spill.as_ref().map_or(self.w, Vec::len)
    }
}

/// What a rendered stretch could not write: a value that would not read back.
enum Unwritable {
    Value(String),
    Comment,
}

impl Scan {
    /// Copy source bytes `from..to` into `out`, leaving out the metadata lines.
    fn copy_gap_to(&self, out: &mut dyn Sink, from: usize, to: usize) {
        let mut pos = from;
        for &(s, e) in &self.meta {
            let (s, e) = (s as usize, e as usize);
            if e <= pos || s >= to {
                continue;
            }
            out.copy(pos, s.max(pos));
            pos = e.min(to);
        }
        if pos < to {
            out.copy(pos, to);
        }
    }

    /// Write units `from..to` into `out`, one expectation per leaf into `expect`.
    fn render_to(
        &self,
        out: &mut dyn Sink,
        expect: &mut Vec<Expect>,
        from: usize,
        to: usize,
        edit: &mut LeafEdit<'_>,
    ) -> Result<std::result::Result<(), Unwritable>> {
        let (a, z) = self.stretch(from, to);
        let mut value = Scalar::Str(String::new());
        let mut comment = Scalar::Comment(String::new());
        let mut key = String::new();
        let mut aad = String::new();
        let mut text: String;
        let mut pos = a;
        let mut expect_from = |out: &dyn Sink, at: usize, what: u8| {
            expect.push(Expect {
                start: at as u32,
                end: out.len() as u32,
                what,
            })
        };
        for l in &self.lines[from..to] {
            let (start, end) = (l.start as usize, l.end as usize);
            self.copy_gap_to(out, pos, start);
            pos = end;
            if l.eq == COMMENT {
                if let Scalar::Comment(c) = &mut comment {
                    c.clear();
                    c.push_str(out.text(start + 1, end));
                }
                let e = edit(&[], ":", &comment)?;
                out.copy(start, start + 1);
                let at = out.len();
                match e {
                    Edit::Keep => out.copy(start + 1, end),
                    e => {
                        let t = match &e {
                            Edit::Seal(t) | Edit::Open(Scalar::Str(t) | Scalar::Comment(t)) => {
                                t.as_str()
                            }
                            Edit::Open(s) => {
                                text = value_text(s);
                                text.as_str()
                            }
                            Edit::Keep => "",
                        };
                        if memchr::memchr(b'\n', t.as_bytes()).is_some() {
                            return Ok(Err(Unwritable::Comment));
                        }
                        out.push(t, end);
                    }
                }
                expect_from(out, at, TEXT);
                continue;
            }
            let eq = l.eq as usize;
            key.clear();
            key.push_str(out.text(start, eq));
            if let Scalar::Str(v) = &mut value {
                decode_into(v, out.text(eq + 1, end));
            }
            aad.clear();
            aad.push_str(&key);
            aad.push(':');
            let e = edit(&[&key], &aad, &value)?;
            out.copy(start, eq + 1);
            let at = out.len();
            match e {
                Edit::Keep => out.copy(eq + 1, end),
                // A token is base64 and punctuation, and most values hold no `\`: nothing
                // to escape, nothing that reads back otherwise.
                Edit::Seal(t) | Edit::Open(Scalar::Str(t))
                    if memchr::memchr2(b'\n', b'\\', t.as_bytes()).is_none() =>
                {
                    out.push(&t, end)
                }
                Edit::Seal(_) => return Ok(Err(Unwritable::Value(key))),
                Edit::Open(s) => {
                    let t = value_text(&s);
                    text = encode_newlines(&t);
                    // A literal `\n` in the value would read back as a line break.
                    if text.matches("\\n").count() != t.matches('\n').count() {
                        return Ok(Err(Unwritable::Value(key)));
                    }
                    out.push(&text, end);
                }
            }
            expect_from(out, at, ENTRY);
        }
        self.copy_gap_to(out, pos, z);
        Ok(Ok(()))
    }

    /// Read a written stretch again and compare every line with what was written: a comment
    /// or `KEY=value` line at each leaf, with its key (`key_ok`) and its value's span.
    fn check_out(
        &self,
        out: &[u8],
        from: usize,
        to: usize,
        expect: &[Expect],
        key_ok: &dyn Fn(usize, &[u8]) -> bool,
    ) -> Result<()> {
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
            let Some(x) = expect.get(k) else {
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
                let key = &line[..eq];
                if x.what != ENTRY
                    || xs != start + eq + 1
                    || xe != end
                    || !key_ok(from + k, key)
                    || key.starts_with(META_PREFIX.as_bytes())
                {
                    return fail("a key or its value");
                }
            }
            k += 1;
        }
        if k != expect.len() || k != to - from {
            return fail("the number of values");
        }
        Ok(())
    }

    /// Decrypting: open every leaf and write the output over the source buffer itself (two
    /// threads for a big file, each over its half), so that the file is held once rather
    /// than twice. Nothing here gives the text back: a value that cannot be written is refused
    /// with the lossless path's message.
    pub(crate) fn render_in_place(
        &self,
        min: Option<usize>,
        first: &mut LeafEditSend<'_>,
        second: &mut LeafEditSend<'_>,
    ) -> Result<Rendering> {
        let mut buf =
            std::mem::take(&mut *self.src.write().map_err(|_| bug(Self::NAME, "a lock"))?)
                .into_bytes();
        let n = self.lines.len();
        let cut = crate::format::stream::cut(self, min).unwrap_or(n);
        let at = if cut < n {
            self.lines[cut].start as usize
        } else {
            buf.len()
        };
        let run =
            |region: &mut [u8], base: usize, from: usize, to: usize, edit: &mut LeafEdit<'_>| {
                let mut sink = InPlace {
                    buf: region,
                    base,
                    w: 0,
                    spill: None,
                };
                let mut expect = Vec::with_capacity(to - from);
                if let Err(why) = self.render_to(&mut sink, &mut expect, from, to, edit)? {
                    return Err(unwritable(why));
                }
                let InPlace { buf, w, spill, .. } = sink;
                let out: &[u8] = spill.as_deref().unwrap_or(&buf[..w]);
                self.check_out(out, from, to, &expect, &|i, k| {
                    self.keys.get(i) == Some(&key_hash(k))
                })?;
                Ok((w, spill))
            };
        let (head, tail) = buf.split_at_mut(at);
        let (ra, rb) = if cut < n {
            std::thread::scope(|sc| {
                let h = sc.spawn(|| run(tail, at, cut, n, second));
                let ra = run(head, 0, 0, cut, first);
                let rb = h
                    .join()
                    .unwrap_or_else(|_| Err(bug(Self::NAME, "the second half failed")));
                (ra, rb)
            })
        } else {
            (run(head, 0, 0, n, first), Ok((0, None)))
        };
        let ((wa, spill_a), (wb, spill_b)) = (ra?, rb?);
        let text = |b: Vec<u8>| String::from_utf8(b).map_err(|_| bug(Self::NAME, "not UTF-8"));
        let pieces = match (spill_a, spill_b) {
            (None, None) => {
                // Move the second half's output up to the first's and keep one buffer.
                buf.copy_within(at..at + wb, wa);
                buf.truncate(wa + wb);
                vec![text(buf)?]
            }
            (a, b) => {
                let second = match b {
                    Some(b) => b,
                    None => buf[at..at + wb].to_vec(),
                };
                let first = match a {
                    Some(a) => a,
                    None => {
                        buf.truncate(wa);
                        buf
                    }
                };
                vec![text(first)?, text(second)?]
            }
        };
        Ok(Rendering::of(pieces))
    }
}

/// The lossless path's refusal of a value or comment that would not read back.
fn unwritable(why: Unwritable) -> crate::error::Error {
    let what = match why {
        Unwritable::Value(k) => format!("the value of {k}"),
        Unwritable::Comment => "a comment".to_string(),
    };
    crate::error::Error::new(
        crate::error::Code::ErrorDumpingTree,
        format!("could not write dotenv: {what} would not read back the same"),
    )
    .hint(super::UNWRITABLE_HINT)
}

/// A key's fingerprint, to check keys written over their own source (64-bit FNV-1a).
fn key_hash(k: &[u8]) -> u64 {
    k.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

impl Flat for Scan {
    const NAME: &'static str = "dotenv";

    fn len(&self) -> usize {
        self.len
    }

    fn units(&self) -> usize {
        self.lines.len()
    }

    fn unit_start(&self, u: usize) -> usize {
        self.lines[u].start as usize
    }

    fn render(&self, from: usize, to: usize, edit: &mut LeafEdit<'_>) -> Result<Option<Piece>> {
        let src = self.src.read().map_err(|_| bug(Self::NAME, "a lock"))?;
        let (a, z) = self.stretch(from, to);
        // Sealing makes each value about a hundred bytes longer; opening shortens it.
        let grow = if self.meta.is_empty() { 110 } else { 0 };
        let mut sink = NewString {
            src: &src,
            out: String::with_capacity((z - a) + (to - from) * grow),
        };
        let mut expect = Vec::with_capacity(to - from);
        if self
            .render_to(&mut sink, &mut expect, from, to, edit)?
            .is_err()
        {
            return Ok(None);
        }
        Ok(Some(Piece {
            out: sink.out,
            from,
            to,
            expect,
        }))
    }

    fn check(&self, p: &Piece) -> Result<()> {
        let src = self.src.read().map_err(|_| bug(Self::NAME, "a lock"))?;
        let src = src.as_bytes();
        let key_ok = |i: usize, k: &[u8]| {
            let l = self.lines[i];
            &src[l.start as usize..l.eq as usize] == k
        };
        self.check_out(p.out.as_bytes(), p.from, p.to, &p.expect, &key_ok)
    }

    fn meta_block(&self, meta: &Value, before: &str) -> Result<String> {
        let mut block = String::new();
        append_meta(&mut block, meta);
        let back = DotenvDoc::parse(block.as_bytes())?;
        check_meta(Some(meta), back.meta.as_ref())?;
        if !back.leaves.is_empty() {
            return Err(bug(Self::NAME, "the metadata"));
        }
        Ok(meta_after(before, false, &block))
    }
}
