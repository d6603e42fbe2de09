//! The streaming path of the flat formats (dotenv, INI, TOML): what they share.
//!
//! It exists because the lossless path holds the source, a tree with every key and value, one
//! edit per leaf, the output, and for the check a second tree read back from the output: about
//! 25 bytes of RAM per byte of input and most of the run time. On this path a format's scanner
//! records the file as units (a key line with the comment lines that go with it) whose leaves
//! are spans into the source, the engine's sealer or opener is called leaf by leaf while the
//! output is written, and each written part is read again (dotenv and INI by their scanner's
//! rules, TOML by toml_parser) and compared, leaf by leaf, with where each value was written
//! before anything is returned. Nothing else is held; decrypting dotenv even writes its output
//! over the input buffer. A big file is cut between two units near its middle, and both halves
//! are written and checked on two threads; the caller combines what its two editors saw (the
//! MAC) in order.
//!
//! A format's scanner accepts only files whose every line it understands, and reads them
//! exactly as its lossless path does; anything else is given back, and the lossless path does
//! the whole job. An opened value that cannot be written in place sends the caller back too.
//! This module never looks at values: it moves text and counts leaves.

use crate::error::{Code, Error, Result};
use crate::format::{Format, LeafEdit, LeafEditSend, PARALLEL_FROM};
use crate::tree::Value;

/// One line of `b` from `start`: its end (before `\n`) and where the next one starts.
pub(crate) fn line_at(b: &[u8], start: usize) -> (usize, usize) {
    match memchr::memchr(b'\n', &b[start..]) {
        Some(i) => (start + i, start + i + 1),
        None => (b.len(), b.len()),
    }
}

/// What a flat format's streaming scanner provides.
pub(crate) trait Flat: Sync {
    /// The format's name, for messages.
    const NAME: &'static str;
    /// The source's length in bytes.
    fn len(&self) -> usize;
    /// How many units the data has (the metadata is not part of any unit).
    fn units(&self) -> usize;
    /// Where unit `u` (`u < units()`) starts in the source: its first line.
    fn unit_start(&self, u: usize) -> usize;
    /// The source text of units `from..to`: from the start of the file for the first unit,
    /// to the end of the file for the last, so that every byte is in some stretch.
    fn stretch(&self, from: usize, to: usize) -> (usize, usize) {
        let a = if from == 0 { 0 } else { self.unit_start(from) };
        let z = if to >= self.units() {
            self.len()
        } else {
            self.unit_start(to)
        };
        (a, z.max(a))
    }
    /// Write units `from..to` (the source [`Flat::stretch`] gives, less any metadata lines
    /// in it), asking `edit` what to do with each leaf in the lossless
    /// path's leaf order. `Ok(None)`: an edit this path cannot write; use the lossless path.
    fn render(&self, from: usize, to: usize, edit: &mut LeafEdit<'_>) -> Result<Option<Piece>>;
    /// Read a written piece again with the format's reader and compare it with its
    /// expectations; any difference is an error (nothing is written).
    fn check(&self, piece: &Piece) -> Result<()>;
    /// The metadata block to append after `before` (the last non-empty part written, or ""),
    /// already read back and compared.
    fn meta_block(&self, meta: &Value, before: &str) -> Result<String>;
}

/// Where one leaf's value was written in a piece's output, and what it must read back as
/// (`what` is the format's own tag).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Expect {
    pub start: u32,
    pub end: u32,
    pub what: u8,
}

/// One written stretch of units, with one expectation per leaf in output order.
pub struct Piece {
    pub(crate) out: String,
    pub(crate) from: usize,
    pub(crate) to: usize,
    pub(crate) expect: Vec<Expect>,
}

impl Piece {
    pub(crate) fn new(from: usize, to: usize, capacity: usize, leaves: usize) -> Piece {
        Piece {
            out: String::with_capacity(capacity),
            from,
            to,
            expect: Vec::with_capacity(leaves),
        }
    }

    /// Record that the text just written from `start` is a leaf's value.
    pub(crate) fn expect_from(&mut self, start: usize, what: u8) {
        self.expect.push(Expect {
            start: start as u32,
            end: self.out.len() as u32,
            what,
        });
    }
}

/// The output written so far, in one or two checked pieces.
pub struct Rendering {
    pieces: Vec<Piece>,
}

impl Rendering {
    /// Checked output text, in order.
    pub(crate) fn of(parts: Vec<String>) -> Rendering {
        let pieces = parts
            .into_iter()
            .map(|out| Piece {
                out,
                from: 0,
                to: 0,
                expect: Vec::new(),
            })
            .collect();
        Rendering { pieces }
    }
}

/// The checked output: its parts, to be written one after another.
pub struct Output {
    parts: Vec<String>,
}

impl Output {
    /// The bytes to write, in order.
    pub fn slices(&self) -> Vec<&[u8]> {
        self.parts.iter().map(|p| p.as_bytes()).collect()
    }

    /// The output as one buffer (for tests).
    pub fn to_vec(&self) -> Vec<u8> {
        self.slices().concat()
    }
}

/// Sources this path reads: at most 4 GiB, since spans are kept as `u32`.
pub(crate) fn fits(src: &str) -> bool {
    src.len() < u32::MAX as usize / 2
}

/// The share of a cut file's bytes the first thread writes (see [`cut`]).
const FIRST_SHARE_PERCENT: usize = 45;

/// Where to cut a file in two for two threads: the first unit past [`FIRST_SHARE_PERCENT`] of
/// its bytes, for files of at least `min` bytes (default [`PARALLEL_FROM`]).
pub(crate) fn cut<F: Flat>(doc: &F, min: Option<usize>) -> Option<usize> {
    let n = doc.units();
    let len = doc.len();
    if len < min.unwrap_or(PARALLEL_FROM) || n < 2 {
        return None;
    }
    // A little before the middle: the first thread also hashes its leaves into the MAC as it
    // goes, and the second half's leaves are hashed after both halves are written, on the
    // first thread; a first half a little shorter evens out the two threads' work.
    let half = len / 100 * FIRST_SHARE_PERCENT;
    // Unit starts grow with the unit index: find the first one past that point.
    let (mut lo, mut hi) = (1usize, n - 1);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if doc.unit_start(mid) < half {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    (lo > 0 && lo < n).then_some(lo)
}

/// Write and check the whole file on this thread, or in two halves on two threads for a big
/// file (`first` sees the leaves before the cut, `second` the rest, each in order).
pub(crate) fn render_split<F: Flat>(
    doc: &F,
    min: Option<usize>,
    first: &mut LeafEditSend<'_>,
    second: &mut LeafEditSend<'_>,
) -> Result<Option<Rendering>> {
    let n = doc.units();
    let one = |from: usize, to: usize, edit: &mut LeafEdit<'_>| -> Result<Option<Piece>> {
        let Some(p) = doc.render(from, to, edit)? else {
            return Ok(None);
        };
        doc.check(&p)?;
        Ok(Some(p))
    };
    let Some(cut) = cut(doc, min) else {
        return Ok(one(0, n, first)?.map(|p| Rendering { pieces: vec![p] }));
    };
    let (ra, rb) = std::thread::scope(|sc| {
        let h = sc.spawn(|| one(cut, n, second));
        let ra = one(0, cut, first);
        let rb = h
            .join()
            .unwrap_or_else(|_| Err(bug(F::NAME, "the second half failed")));
        (ra, rb)
    });
    Ok(match (ra?, rb?) {
        (Some(a), Some(b)) => Some(Rendering { pieces: vec![a, b] }),
        _ => None,
    })
}

/// Append the metadata block (encrypting) and hand out the checked parts.
pub(crate) fn finish<F: Flat>(doc: &F, r: Rendering, meta: Option<&Value>) -> Result<Output> {
    let mut parts: Vec<String> = r.pieces.into_iter().map(|p| p.out).collect();
    if let Some(m) = meta {
        let before = parts.iter().rev().find(|p| !p.is_empty());
        let block = doc.meta_block(m, before.map_or("", |p| p.as_str()))?;
        parts.push(block);
    }
    Ok(Output { parts })
}

/// The metadata block's text after `before` (the last non-empty part written, or ""): a line
/// break if that part lacks one, then a blank line if `blank`, then `block`.
pub(crate) fn meta_after(before: &str, blank: bool, block: &str) -> String {
    let mut out = String::with_capacity(block.len() + 2);
    if !before.is_empty() {
        if !before.ends_with('\n') {
            out.push('\n');
        }
        if blank {
            out.push('\n');
        }
    }
    out.push_str(block);
    out
}

/// The error for output that does not read back as intended: a bug, never written.
pub(crate) fn bug(format: &str, place: &str) -> Error {
    Error::new(
        Code::ErrorDumpingTree,
        format!("could not write {format}: the output does not read back as intended ({place})"),
    )
    .hint("this is a veil bug; the file was not written; please report it with the file's layout (not its values)")
}

/// A flat file scanned for the streaming path.
pub struct FastFlat {
    doc: Doc,
}

enum Doc {
    Dotenv(super::dotenv::fast::Scan),
    Ini(super::ini::fast::Scan),
    Toml(super::toml::fast::Scan),
}

/// Run `$body` with `$d` bound to the scanned document, whatever its format.
macro_rules! each {
    ($doc:expr, $d:ident => $body:expr) => {
        match $doc {
            Doc::Dotenv($d) => $body,
            Doc::Ini($d) => $body,
            Doc::Toml($d) => $body,
        }
    };
}

impl FastFlat {
    /// Scan `data` as `format`; gives it back when the format has no streaming path or the file
    /// is outside what that path reads. `encrypted`: the file is expected to carry sops
    /// metadata (decrypting); otherwise metadata sends the file to the lossless path (which
    /// refuses it).
    pub fn scan(
        format: Format,
        data: Vec<u8>,
        encrypted: bool,
    ) -> std::result::Result<FastFlat, Vec<u8>> {
        let src = match String::from_utf8(data) {
            Ok(s) if fits(&s) => s,
            Ok(s) => return Err(s.into_bytes()),
            Err(e) => return Err(e.into_bytes()),
        };
        let doc = match format {
            Format::Dotenv => super::dotenv::fast::Scan::run(src, encrypted).map(Doc::Dotenv),
            Format::Ini => super::ini::fast::Scan::run(src, encrypted).map(Doc::Ini),
            Format::Toml => super::toml::fast::Scan::run(src, encrypted).map(Doc::Toml),
            _ => Err(src),
        };
        match doc {
            Ok(doc) => Ok(FastFlat { doc }),
            Err(src) => Err(src.into_bytes()),
        }
    }

    /// Whether the file has comment leaves (comment-regex rules need the lossless path).
    pub fn has_comments(&self) -> bool {
        each!(&self.doc, d => d.has_comments())
    }

    /// The sops metadata as a tree (decrypting), or `None` when the file has none.
    pub fn metadata(&self) -> Result<Option<Value>> {
        each!(&self.doc, d => d.metadata())
    }

    /// Give the source back (for the lossless path).
    pub fn into_src(self) -> Vec<u8> {
        each!(self.doc, d => d.into_src()).into_bytes()
    }

    /// Walk the leaves, ask the editors what to do with each (key path, AAD, value), and write
    /// and check the output up to the metadata; two threads for a big file, `first` seeing the
    /// leaves before the cut and `second` the rest. `Ok(None)`: an edit this path cannot write
    /// in place; use the lossless path.
    pub fn render_leaves_split(
        &self,
        first: &mut LeafEditSend<'_>,
        second: &mut LeafEditSend<'_>,
    ) -> Result<Option<Rendering>> {
        self.render_split_from(None, first, second)
    }

    /// [`FastFlat::render_leaves_split`] that cuts files of at least `min` bytes (tests cut
    /// small files too).
    #[doc(hidden)]
    pub fn render_split_from(
        &self,
        min: Option<usize>,
        first: &mut LeafEditSend<'_>,
        second: &mut LeafEditSend<'_>,
    ) -> Result<Option<Rendering>> {
        match &self.doc {
            Doc::Dotenv(d) if d.in_place() => d.render_in_place(min, first, second).map(Some),
            doc => each!(doc, d => render_split(d, min, first, second)),
        }
    }

    /// Append the metadata block (`meta`, encrypting), read back and compared.
    pub fn finish(&self, r: Rendering, meta: Option<&Value>) -> Result<Output> {
        each!(&self.doc, d => finish(d, r, meta))
    }
}

/// A file scanned for a streaming path (YAML's or a flat format's): what the commands need to
/// seal or open it leaf by leaf without a tree.
pub trait Streaming {
    type Rendering;
    type Output: Slices;
    /// Whether the file has comment leaves (comment-regex rules need the lossless path).
    fn has_comments(&self) -> bool;
    /// The sops metadata as a tree (decrypting), or `None` when the file has none.
    fn metadata(&self) -> Result<Option<Value>>;
    /// Write the output leaf by leaf with two editors (see each type's own method).
    /// `Ok(None)`: an edit this path cannot write; use the lossless path.
    fn render_leaves_split(
        &self,
        first: &mut LeafEditSend<'_>,
        second: &mut LeafEditSend<'_>,
    ) -> Result<Option<Self::Rendering>>;
    /// Append the metadata (encrypting) and check the output.
    fn finish(&self, r: Self::Rendering, meta: Option<&Value>) -> Result<Self::Output>;
    /// Give the source back, for the lossless path.
    fn into_bytes(self) -> Vec<u8>;
}

/// A checked output, written as parts one after another.
pub trait Slices {
    fn slices(&self) -> Vec<&[u8]>;
}

impl Slices for Output {
    fn slices(&self) -> Vec<&[u8]> {
        Output::slices(self)
    }
}

impl Slices for crate::format::yaml::Output {
    fn slices(&self) -> Vec<&[u8]> {
        crate::format::yaml::Output::slices(self)
    }
}

impl Streaming for FastFlat {
    type Rendering = Rendering;
    type Output = Output;
    fn has_comments(&self) -> bool {
        FastFlat::has_comments(self)
    }
    fn metadata(&self) -> Result<Option<Value>> {
        FastFlat::metadata(self)
    }
    fn render_leaves_split(
        &self,
        first: &mut LeafEditSend<'_>,
        second: &mut LeafEditSend<'_>,
    ) -> Result<Option<Rendering>> {
        FastFlat::render_leaves_split(self, first, second)
    }
    fn finish(&self, r: Rendering, meta: Option<&Value>) -> Result<Output> {
        FastFlat::finish(self, r, meta)
    }
    fn into_bytes(self) -> Vec<u8> {
        self.into_src()
    }
}

impl Streaming for crate::format::yaml::FastYaml {
    type Rendering = crate::format::yaml::Rendering;
    type Output = crate::format::yaml::Output;
    fn has_comments(&self) -> bool {
        crate::format::yaml::FastYaml::has_comments(self)
    }
    fn metadata(&self) -> Result<Option<Value>> {
        crate::format::yaml::FastYaml::metadata(self)
    }
    fn render_leaves_split(
        &self,
        first: &mut LeafEditSend<'_>,
        second: &mut LeafEditSend<'_>,
    ) -> Result<Option<Self::Rendering>> {
        crate::format::yaml::FastYaml::render_leaves_split(self, first, second)
    }
    fn finish(&self, r: Self::Rendering, meta: Option<&Value>) -> Result<Self::Output> {
        crate::format::yaml::FastYaml::finish(self, r, meta)
    }
    fn into_bytes(self) -> Vec<u8> {
        self.into_src().into_bytes()
    }
}

#[cfg(test)]
mod tests;
