//! The streaming path for the common shape of big YAML files: block maps and lists of
//! one-line scalars, comments after a value or on their own line just before a key in the same
//! column; no anchors, tags, flow collections or block scalars.
//!
//! It exists because the lossless path ([`super::parse`]) keeps a node arena and the whole
//! document tree in memory and re-indexes its output, which costs about 25 bytes of RAM per byte
//! of YAML and most of the run time on a 10 MB file. Here a line scanner records the document as
//! a flat list of events (12 bytes each, spans into the source, no copies), the engine's
//! per-leaf sealer or opener is called leaf by leaf while the output is written, and the output
//! is checked by streaming saphyr-parser's events over it and comparing them, in lockstep, with
//! what was meant. Nothing else is held. A big file is cut at a key near its middle and both
//! halves are written and checked on two threads (see [`FastYaml::finish`] for why checking the
//! halves apart is the same as checking the whole).
//!
//! The scanner accepts only what it understands completely, and says so by giving the text
//! back for anything else (any other comment, `&`, `*`, `!`, `|`, `>`, `[`, `{`, a multi-line or escaped
//! scalar, a non-string or over-long key, tabs, CR, control or Unicode line-break characters,
//! document markers, odd indentation, duplicate keys, a file without a final line break). The
//! caller then uses the lossless path, which handles all of YAML; both see the same leaves and
//! write the same bytes for a file this path accepts (its tests compare them on fixed and
//! generated documents, and the `yaml_fast` fuzz target on arbitrary input). An opened value
//! this path cannot write in place (several lines, a comment) also sends the caller back.
//! It must never accept a file the lossless path reads differently or refuses.
//!
//! The parts: [`scan`] turns the text into events (or gives it back), [`write`] walks the
//! events and writes the output leaf by leaf, [`check`] re-parses that output and compares it
//! with what was meant, and [`split`] cuts a big file in two for the two threads. This file
//! holds the types they share and the entry points the engine calls.

mod check;
mod scan;
mod split;
mod write;

use super::parse::Style;
use crate::error::Result;
pub use crate::format::{LeafEdit, LeafEditSend};
use crate::tree::{Scalar, Value};
use scan::Scanner;
pub use split::Piece;

/// One structural event of the scanned document, in document order.
#[derive(Clone, Copy, Debug)]
enum Ev {
    MapStart,
    MapEnd,
    SeqStart,
    SeqEnd,
    /// A key; `start..end` is its text (inside the quotes for a quoted key).
    Key {
        start: u32,
        end: u32,
    },
    /// A scalar value token, quotes included.
    Val {
        start: u32,
        end: u32,
        style: Style,
    },
    /// A value left out (`key:` or `-` with nothing under it): null.
    Null,
    /// A comment on its own line, just before the key it belongs with; `start..end` is its
    /// text after the `#`.
    Comment {
        start: u32,
        end: u32,
    },
}

/// A YAML file the streaming path accepts, scanned.
pub struct FastYaml {
    src: String,
    evs: Vec<Ev>,
    /// The indentation unit the lossless path would detect (for the `sops:` block).
    unit: usize,
    /// The top-level `sops:` entry's lines (decrypting): where they start and end.
    sops: Option<(usize, usize)>,
}

/// The output written so far (without the `sops:` block), in one or two parts, and what each
/// leaf should read back as.
pub struct Rendering {
    parts: Vec<Part>,
}

/// One part of the output: events `from..to` of the scan.
struct Part {
    /// For a second part: the lines of its cut key's parent keys first (`header` bytes), which
    /// only give its first line its context when it is re-parsed on its own.
    out: String,
    header: usize,
    from: usize,
    to: usize,
    /// The parent keys (event indices) of the cut key, for a second part.
    parents: Vec<usize>,
    expect: Vec<Expect>,
}

/// What one leaf must read back as. Offsets are into its part's `out`.
enum Expect {
    Keep,
    /// An `ENC[…]` token, written at this range.
    Sealed(u32, u32),
    /// A string written plain at this range, as itself.
    Text(u32, u32),
    Int(i64),
    Bool(bool),
    Opened(Box<Scalar>),
}

/// The checked output: write its parts one after another.
pub struct Output {
    parts: Vec<(String, usize)>,
}

impl Output {
    /// The bytes to write, in order.
    pub fn slices(&self) -> Vec<&[u8]> {
        self.parts
            .iter()
            .map(|(s, h)| &s.as_bytes()[*h..])
            .collect()
    }

    /// The output as one buffer (for tests and small files).
    pub fn to_vec(&self) -> Vec<u8> {
        self.slices().concat()
    }
}

impl FastYaml {
    /// Scan `src`; gives it back when the file is outside what this path handles.
    /// `encrypted`: the file is expected to carry a top-level `sops:` entry (decrypting);
    /// otherwise such an entry sends the file to the lossless path (which refuses it).
    pub fn scan(src: String, encrypted: bool) -> std::result::Result<FastYaml, String> {
        if src.len() >= u32::MAX as usize {
            return Err(src);
        }
        match Scanner::run(&src, encrypted) {
            Some((evs, unit, sops)) if !encrypted || sops.is_some() => Ok(FastYaml {
                evs,
                unit,
                sops,
                src,
            }),
            _ => Err(src),
        }
    }

    /// [`FastYaml::scan`] of bytes (text that is not UTF-8 is given back too).
    pub fn scan_bytes(data: Vec<u8>, encrypted: bool) -> std::result::Result<FastYaml, Vec<u8>> {
        match String::from_utf8(data) {
            Ok(s) => FastYaml::scan(s, encrypted).map_err(String::into_bytes),
            Err(e) => Err(e.into_bytes()),
        }
    }

    /// Whether the file has comments (which take part in sops's comment-regex rules, which
    /// this path does not evaluate).
    pub fn has_comments(&self) -> bool {
        self.evs.iter().any(|e| matches!(e, Ev::Comment { .. }))
    }

    /// The text back, for the lossless path.
    pub fn into_src(self) -> String {
        self.src
    }

    /// The `sops` metadata as a tree, read by the lossless parser from the `sops:` lines.
    pub fn metadata(&self) -> Result<Option<Value>> {
        let Some((s, e)) = self.sops else {
            return Ok(None);
        };
        let ix = super::parse::parse(&self.src[s..e])?;
        Ok(ix.meta)
    }

    /// Walk the leaves, ask `edit` what to do with each (key path, AAD, value), and write the
    /// output up to (not including) the `sops:` block. `Ok(None)`: an edit this path cannot
    /// write in place; use the lossless path.
    pub fn render_leaves(&self, edit: &mut LeafEdit<'_>) -> Result<Option<Rendering>> {
        Ok(self
            .render_part(0, self.evs.len(), 0, self.src.len(), &[], edit)?
            .map(|p| Rendering { parts: vec![p] }))
    }
}

#[cfg(test)]
mod tests;
