//! The line scanner: turns a YAML file into the flat event list of [`super::Ev`], or says it
//! cannot.
//!
//! It reads one line at a time and keeps only a stack of open collections, the pending key and
//! the comment lines waiting for their key. It accepts only the layouts listed in
//! [`super`]'s doc and returns `None` for anything else, so the caller can fall back to the
//! lossless path; it must never accept a file the lossless path reads differently or refuses.

use super::super::parse::{Style, MAX_DEPTH};
use super::super::resolve::{resolve_plain, Resolved};
use super::Ev;

/// Longest key (bytes, quotes included) this path reads; YAML's limit is 1024 characters.
const MAX_KEY: usize = 1000;

struct Frame {
    seq: bool,
    indent: usize,
    /// A list written at its parent key's own column (`key:` then `- x` below it).
    same_indent: bool,
    /// The map's number, in the order maps start (for the indentation unit).
    map: u32,
    /// Where this map's keys start on the key stack (duplicate check).
    keys_from: usize,
}

/// A `key:` or `-` whose value is on the following lines (or missing).
#[derive(Clone, Copy)]
struct Pending {
    indent: usize,
    in_map: bool,
}

pub(super) struct Scanner<'a> {
    src: &'a str,
    b: &'a [u8],
    encrypted: bool,
    evs: Vec<Ev>,
    frames: Vec<Frame>,
    pending: Option<Pending>,
    /// The indent of the entry whose value ended the previous line: a deeper next line would
    /// continue that scalar (not handled here).
    after_value: Option<usize>,
    keys: Vec<&'a str>,
    /// Per map, in start order: the first nested map's and nested list's indentation step.
    steps: Vec<(u8, u8)>,
    /// A list just opened at its key's column: (its map, the key's column).
    same_indent_step: Option<(Option<u32>, usize)>,
    /// Comment lines waiting for the key they belong with: text start, end, column.
    comments: Vec<(u32, u32, usize)>,
    sops: Option<(usize, usize)>,
}

type Scanned = (Vec<Ev>, usize, Option<(usize, usize)>);

impl<'a> Scanner<'a> {
    pub(super) fn run(src: &'a str, encrypted: bool) -> Option<Scanned> {
        let b = src.as_bytes();
        if b.last() != Some(&b'\n') || !plain_bytes(b) {
            return None;
        }
        let mut s = Scanner {
            src,
            b,
            encrypted,
            evs: Vec::with_capacity(src.len() / 24),
            frames: Vec::new(),
            pending: None,
            after_value: None,
            keys: Vec::new(),
            steps: Vec::new(),
            same_indent_step: None,
            comments: Vec::new(),
            sops: None,
        };
        let mut pos = 0;
        while pos < b.len() {
            let le = pos + memchr::memchr(b'\n', &b[pos..])?;
            let mut i = pos;
            while i < le && b[i] == b' ' {
                i += 1;
            }
            if i == le {
                pos = le + 1;
                continue;
            }
            if i == pos && (b[i..le].starts_with(b"---") || b[i..le].starts_with(b"...")) {
                return None;
            }
            pos = s.item(pos, i, le)?;
        }
        if !s.comments.is_empty() {
            return None;
        }
        if s.pending.take().is_some() {
            s.evs.push(Ev::Null);
        }
        while !s.frames.is_empty() {
            s.pop()?;
        }
        // A document with nothing but the `sops:` entry decrypts to nothing: the lossless path
        // says what it makes of that.
        if !s.evs.iter().any(|e| matches!(e, Ev::Key { .. })) {
            return None;
        }
        let unit = s.unit();
        s.evs.shrink_to_fit();
        Some((s.evs, unit, s.sops))
    }

    /// The lossless path's indentation unit: the first map (in start order) with a nested map
    /// 2..=9 columns deeper gives it, else the first such nested list, else 4.
    fn unit(&self) -> usize {
        if let Some(&(m, _)) = self.steps.iter().find(|s| s.0 != 0) {
            return m as usize;
        }
        self.steps
            .iter()
            .find(|s| s.1 != 0)
            .map_or(4, |s| s.1 as usize)
    }

    /// One content line: `ls` its start, `at` its first non-blank byte, `le` its end. Returns
    /// where the next line starts.
    fn item(&mut self, ls: usize, at: usize, le: usize) -> Option<usize> {
        let b = self.b;
        let col = at - ls;
        if b[at] == b'#' {
            // A comment on its own line is taken only where go-yaml's placement is plain: just
            // before a key in the same column (it then belongs to that key's map, before it).
            self.comments.push((at as u32 + 1, le as u32, col));
            return Some(le + 1);
        }
        let dash = b[at] == b'-' && (at + 1 == le || b[at + 1] == b' ');
        if !self.comments.is_empty() {
            let pending_here = self.pending.is_some_and(|p| col <= p.indent);
            if dash || pending_here || self.comments.iter().any(|c| c.2 != col) {
                return None;
            }
        }
        if let Some(o) = self.after_value.take() {
            if col > o {
                return None;
            }
        }
        if let Some(p) = self.pending.take() {
            if col > p.indent || (p.in_map && dash && col == p.indent) {
                let parent = self.frames.last().map(|f| f.map);
                let step = col - p.indent;
                if dash {
                    if p.in_map && step > 0 {
                        self.note_step(parent, step, false);
                    } else if p.in_map {
                        // saphyr places a list written at its key's column where its first
                        // item's text starts; the step is measured from there.
                        self.same_indent_step = Some((parent, p.indent));
                    }
                    self.open(true, col, col == p.indent)?;
                } else {
                    if p.in_map {
                        self.note_step(parent, step, true);
                    }
                    self.open(false, col, false)?;
                }
            } else {
                self.evs.push(Ev::Null);
            }
        }
        loop {
            let Some(top) = self.frames.last() else {
                if col != 0 || dash || !self.evs.is_empty() {
                    return None;
                }
                self.open(false, 0, false)?;
                break;
            };
            if top.indent > col {
                self.pop()?;
                continue;
            }
            if top.indent < col {
                return None;
            }
            if top.seq && !dash {
                if top.same_indent {
                    self.pop()?;
                    continue;
                }
                return None;
            }
            if !top.seq && dash {
                return None;
            }
            break;
        }
        if dash {
            let mut p = at + 1;
            while p < le && b[p] == b' ' {
                p += 1;
            }
            if let Some((parent, pind)) = self.same_indent_step.take() {
                if p == le {
                    return None;
                }
                self.note_step(parent, p - ls - pind, false);
            }
            if p == le {
                self.pending = Some(Pending {
                    indent: col,
                    in_map: false,
                });
                return Some(le + 1);
            }
            if b[p] == b'-' && (p + 1 == le || b[p + 1] == b' ') {
                return None;
            }
            match self.key_at(p, le)? {
                Some(k) => {
                    let kcol = p - ls;
                    self.open(false, kcol, false)?;
                    self.entry(k, ls, kcol, le)
                }
                None => {
                    self.value(p, le)?;
                    self.after_value = Some(col);
                    Some(le + 1)
                }
            }
        } else {
            let k = self.key_at(at, le)??;
            self.entry(k, ls, col, le)
        }
    }

    fn note_step(&mut self, parent: Option<u32>, step: usize, map: bool) {
        let Some(s) = parent.and_then(|m| self.steps.get_mut(m as usize)) else {
            return;
        };
        if !(2..=9).contains(&step) {
            return;
        }
        let slot = if map { &mut s.0 } else { &mut s.1 };
        if *slot == 0 {
            *slot = step as u8;
        }
    }

    fn open(&mut self, seq: bool, indent: usize, same_indent: bool) -> Option<()> {
        // The lossless path refuses deeper nesting; so must this one.
        if self.frames.len() >= MAX_DEPTH {
            return None;
        }
        let map = self.steps.len() as u32;
        if !seq {
            self.steps.push((0, 0));
        }
        self.evs.push(if seq { Ev::SeqStart } else { Ev::MapStart });
        self.frames.push(Frame {
            seq,
            indent,
            same_indent,
            map,
            keys_from: self.keys.len(),
        });
        Some(())
    }

    fn pop(&mut self) -> Option<()> {
        let f = self.frames.pop()?;
        if f.seq {
            self.evs.push(Ev::SeqEnd);
            return Some(());
        }
        self.evs.push(Ev::MapEnd);
        let keys = &mut self.keys[f.keys_from..];
        if keys.len() > 1 {
            keys.sort_unstable();
            if keys.windows(2).any(|w| w[0] == w[1]) {
                return None;
            }
        }
        self.keys.truncate(f.keys_from);
        Some(())
    }

    /// A map entry whose key was read: its value on this line, or a pending one.
    fn entry(&mut self, k: Key, ls: usize, kcol: usize, le: usize) -> Option<usize> {
        let b = self.b;
        let key = &self.src[k.start..k.end];
        let mut p = k.next;
        while p < le && b[p] == b' ' {
            p += 1;
        }
        if self.frames.len() == 1 && key == "sops" {
            if !self.encrypted || p != le || self.sops.is_some() || !self.comments.is_empty() {
                return None;
            }
            self.keys.push(key);
            // The entry runs to the next line at column 0.
            let mut q = le + 1;
            let mut end = le + 1;
            while q < b.len() {
                let qe = q + memchr::memchr(b'\n', &b[q..])?;
                let first = b[q..qe].iter().position(|&c| c != b' ');
                match first {
                    None => {}
                    Some(0) => break,
                    Some(_) => end = qe + 1,
                }
                q = qe + 1;
            }
            // A comment there may belong to the document, not to the metadata (go-yaml places
            // it by indentation), and a keep-chomped block scalar (`|+`) owns the blank lines
            // after it: leave such files to the lossless path.
            let region = &b[ls..end];
            if region.contains(&b'#') || region.windows(2).any(|w| w == b"|+" || w == b">+") {
                return None;
            }
            // Lines of blanks after it may still be content of a block scalar it ends with;
            // only empty lines may follow before the next entry.
            if b[end..q].iter().any(|&c| c != b'\n') {
                return None;
            }
            self.sops = Some((ls, end));
            return Some(q);
        }
        self.keys.push(key);
        for (start, end, _) in self.comments.drain(..) {
            self.evs.push(Ev::Comment { start, end });
        }
        self.evs.push(Ev::Key {
            start: k.start as u32,
            end: k.end as u32,
        });
        if p == le {
            self.pending = Some(Pending {
                indent: kcol,
                in_map: true,
            });
        } else {
            self.value(p, le)?;
            self.after_value = Some(kcol);
        }
        Some(le + 1)
    }

    /// A key at `p`: `Some(Some(key))`, `Some(None)` when the text there is not a key (a
    /// list element's scalar), `None` when it is outside this path.
    fn key_at(&self, p: usize, le: usize) -> Option<Option<Key>> {
        let b = self.b;

        match b[p] {
            q @ (b'"' | b'\'') => {
                let close = p + 1 + memchr::memchr(q, &b[p + 1..le])?;
                let inner = &b[p + 1..close];
                if inner.contains(&b'\\') || (q == b'\'' && b.get(close + 1) == Some(&b'\'')) {
                    return None;
                }
                if close + 1 < le
                    && b[close + 1] == b':'
                    && (close + 2 == le || b[close + 2] == b' ')
                {
                    if close + 1 - p > MAX_KEY {
                        return None;
                    }
                    return Some(Some(Key {
                        start: p + 1,
                        end: close,
                        next: close + 2,
                    }));
                }
                Some(None)
            }
            _ => {
                let c = memchr::memchr_iter(b':', &b[p..le])
                    .map(|i| p + i)
                    .find(|&i| i + 1 == le || b[i + 1] == b' ');
                let Some(c) = c else { return Some(None) };
                // YAML allows an implicit key of at most 1024 characters; longer text before
                // `: ` is not a key (saphyr reads the line as a scalar). Leave anything near
                // that limit alone.
                if c - p > MAX_KEY {
                    return None;
                }
                let key = &b[p..c];
                if key.is_empty()
                    || is_indicator(key[0])
                    || key[0] == b'-'
                    || key.last() == Some(&b' ')
                    || key
                        .iter()
                        .any(|&x| matches!(x, b'[' | b']' | b'{' | b'}' | b',' | b'#'))
                    || key == b"<<"
                    || resolve_plain(&self.src[p..c]) != Resolved::Str
                {
                    // go-yaml (and the lossless path) refuse keys that are not strings.
                    return None;
                }
                Some(Some(Key {
                    start: p,
                    end: c,
                    next: c + 1,
                }))
            }
        }
    }

    /// A one-line scalar value at `p`, running to the end of the line or to a comment after it
    /// (` # …`), which then belongs, after the value, to the map or list holding it.
    fn value(&mut self, p: usize, le: usize) -> Option<()> {
        let b = self.b;
        let (end, style, rest) = match b[p] {
            b'"' => {
                let close = p + 1 + memchr::memchr(b'"', &b[p + 1..le])?;
                if b[p + 1..close].contains(&b'\\') {
                    return None;
                }
                (close + 1, Style::Double, close + 1)
            }
            b'\'' => {
                let mut j = p + 1;
                loop {
                    if j >= le {
                        return None;
                    }
                    if b[j] == b'\'' {
                        if j + 1 < le && b[j + 1] == b'\'' {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j += 1;
                }
                (j + 1, Style::Single, j + 1)
            }
            c => {
                if is_indicator(c) || (c == b'-' && (p + 1 == le || b[p + 1] == b' ')) {
                    return None;
                }
                // The value ends at ` #` (a comment) or at the end of the line.
                let mut stop = le;
                for i in memchr::memchr_iter(b' ', &b[p + 1..le]).map(|i| p + 1 + i) {
                    if b[i - 1] == b':' {
                        return None;
                    }
                    if b.get(i + 1) == Some(&b'#') {
                        stop = i;
                        break;
                    }
                }
                let mut e = stop;
                while e > p && b[e - 1] == b' ' {
                    e -= 1;
                }
                if b[e - 1] == b':' {
                    return None;
                }
                (e, Style::Plain, e)
            }
        };
        // After the value: blanks, then the end of the line or a comment after a blank.
        let mut q = rest;
        while q < le && b[q] == b' ' {
            q += 1;
        }
        let comment = if q == le {
            None
        } else if b[q] == b'#' && q > rest {
            Some(q)
        } else {
            return None;
        };
        if let Style::Plain = style {
            if resolve_plain(&self.src[p..end]) == Resolved::Uint {
                return None;
            }
        }
        self.evs.push(Ev::Val {
            start: p as u32,
            end: end as u32,
            style,
        });
        if let Some(h) = comment {
            self.evs.push(Ev::Comment {
                start: h as u32 + 1,
                end: le as u32,
            });
        }
        Some(())
    }
}

struct Key {
    start: usize,
    end: usize,
    /// Just after its `:`.
    next: usize,
}

/// A byte that cannot start a plain scalar here (or starts something this path leaves alone).
fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'[' | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'%'
            | b'@'
            | b'`'
            | b','
            | b'?'
            | b':'
            | b'"'
            | b'\''
    )
}

/// No control characters but line feeds, no CR or tab, no byte-order mark, no C1 controls or
/// Unicode line/paragraph separators (YAML 1.1 line breaks), no non-characters U+FFFE/U+FFFF.
fn plain_bytes(b: &[u8]) -> bool {
    let simple = |c: u8| (0x20..0x7F).contains(&c) || c == b'\n';
    let mut i = 0;
    while i < b.len() {
        let end = (i + 64).min(b.len());
        if b[i..end].iter().all(|&c| simple(c)) {
            i = end;
            continue;
        }
        for j in i..end {
            let c = b[j];
            if simple(c) || c >= 0x80 && !bad_unicode(b, j) {
                continue;
            }
            return false;
        }
        i = end;
    }
    true
}

fn bad_unicode(b: &[u8], j: usize) -> bool {
    let at = |k: usize| b.get(j + k).copied().unwrap_or(0);
    match b[j] {
        0xC2 => (0x80..=0x9F).contains(&at(1)),
        0xE2 => at(1) == 0x80 && matches!(at(2), 0xA8 | 0xA9),
        0xEF => (at(1) == 0xBB && at(2) == 0xBF) || (at(1) == 0xBF && matches!(at(2), 0xBE | 0xBF)),
        _ => false,
    }
}
