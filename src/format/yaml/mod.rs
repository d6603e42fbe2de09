//! The YAML store: lossless editing of YAML files (every byte but the edited leaves and the
//! `sops:` block stays as written) and fresh go-yaml-style emission for conversions.
//!
//! sops reads YAML through go-yaml v3 and re-emits the whole file; veil must type values the
//! same way (so `ENC[…]` types and the MAC agree) and assign comments to the same maps and lists
//! (so their AAD agrees), while keeping the file's own layout. The work is split:
//! `resolve` types scalars like go-yaml, `lex` measures tokens exactly, `parse` builds the
//! tree and span index, `render` splices edits, `verify` checks the result by re-parsing it, and
//! `emit` writes fresh YAML. Nothing here sees keys or ciphertext semantics, and no error
//! quotes a value.
//!
//! Comment placement (the container decides a comment's AAD):
//! - a comment on its own line goes into the map or list of the next item that follows it, or,
//!   when a block ends first, into the innermost block it is indented into (go-yaml's head and
//!   foot comments);
//! - a trailing comment (`a: 1 # x`, `- x # y`) goes into the map or list holding the value it
//!   follows, after that value in leaf order; after a flow collection that is a map value
//!   (`a: [1, 2] # x`) it goes into that collection, as go-yaml attaches it to the collection;
//! - comments inside the `sops:` block and on its key line are metadata, not leaves;
//! - aliases expand to comment-free copies of their anchor (comments never enter the MAC).
//!
//! Rendering choices:
//! - a sealed value keeps its quoting (`'…'` and `"…"` stay quoted, so opening it restores the
//!   original bytes); plain and block scalars become one plain line; inside flow collections
//!   tokens are double-quoted; a tag in front of an edited value is dropped (sops drops tags);
//! - an opened string is plain when that reads back as the same string in go-yaml, PyYAML and
//!   Ruby alike (`yes`, `1:20`, `=` are quoted; one rule for every string veil writes, keys
//!   included), else quoted in the
//!   style of the token it replaces (or single, then double quotes); a multi-line string that
//!   replaces a plain token becomes a `|` literal block (indented one unit deeper than its map,
//!   or two columns past its `-`) when the place allows it, else a double-quoted string with
//!   `\n` escapes; other types are written plain (`.0` added to floats that would read as ints);
//! - an alias whose copy (or anchor) is edited becomes the edited copy: in place for a scalar,
//!   as a flow collection (`{a: "ENC[…]"}`) for a map or list;
//! - the `sops:` block goes at the end of every document (or where it already is), in
//!   go-yaml's layout with the file's indentation unit and line breaks; a `{…}` top-level map
//!   (a JSON file read as YAML) is written afresh in block style with it, as sops writes it,
//!   since tools find a sops file by its top-level `sops:` line;
//! - text rendered without metadata (plaintext) ends with a line break, as sops's does, and a
//!   document left with nothing but its metadata becomes `{}`;
//! - where a line break goes after a file that had none, a block scalar left as it is that ran
//!   to that end is changed so its value stays (strip chomping, or its blank last line
//!   dropped): YAML reads `|` over a last line `  a` as "a" only without the break.
//!
//! Structural changes (`set` adding a key, `unset` removing one) are made in place too, by
//! [`restructure`]: only the lines of what changed are inserted or deleted.
//!
//! Big files take a second road, [`fast`]: a file made only of block maps, block lists,
//! one-line scalars and comments after values or on their own line before a key (the usual
//! shape of big config) is scanned into a flat event list
//! and sealed or opened leaf by leaf while its output is written, then checked by streaming
//! saphyr-parser over the output, on two threads for a big file. It keeps no tree and no node
//! arena, so it needs about 6 bytes of memory per byte of YAML instead of 25, and writes the
//! same bytes as the lossless road (tested against it). Anything else goes the lossless road.
//!
//! Known limits: saphyr (the parser underneath) rejects a multi-line flow collection whose
//! closing bracket sits in column 0 right after a quoted scalar, so such a file (or its sealed
//! form) is refused rather than misread; an `ENC[…,type:comment]` element of a flow list
//! (`[…]`) cannot become a comment again, and opening it is an error.

mod emit;
mod fast;
mod lex;
mod parse;
mod render;
mod resolve;
mod restructure;
mod verify;

pub use fast::{FastYaml, LeafEdit, LeafEditSend, Output, Piece, Rendering};

use crate::error::Result;
use crate::format::{input_error, Edit, EmitOptions, Format, Parsed, Store};
use crate::tree::Value;

#[derive(Default)]
pub struct YamlStore {
    _private: (),
}

/// A parsed YAML file, ready to be rendered losslessly.
pub struct YamlDocument {
    ix: parse::Indexed,
}

impl Store for YamlStore {
    fn format(&self) -> Format {
        Format::Yaml
    }

    fn parse(&self, src: &[u8]) -> Result<Box<dyn Parsed>> {
        Ok(Box::new(YamlDocument::parse(src)?))
    }

    fn emit(&self, docs: &[Value], meta: Option<&Value>, opts: &EmitOptions) -> Result<Vec<u8>> {
        Ok(emit::emit_docs(docs, meta, opts.indent).into_bytes())
    }
}

impl YamlDocument {
    pub fn parse(src: &[u8]) -> Result<YamlDocument> {
        let text = std::str::from_utf8(src).map_err(|e| {
            input_error(format!(
                "the yaml file is not valid utf-8 (byte {})",
                e.valid_up_to()
            ))
            .hint("save the file as UTF-8")
        })?;
        Ok(YamlDocument {
            ix: parse::parse(text)?,
        })
    }
}

impl Parsed for YamlDocument {
    fn docs(&self) -> &[Value] {
        &self.ix.docs
    }

    fn metadata(&self) -> Option<&Value> {
        self.ix.meta.as_ref()
    }

    fn render(&self, edits: &[Edit], meta: Option<&Value>) -> Result<Vec<u8>> {
        render::render(&self.ix, edits, meta)
    }

    fn render_tree(&self, docs: &[Value], meta: Option<&Value>) -> Result<Option<Vec<u8>>> {
        Ok(restructure::render_tree(&self.ix, docs, meta))
    }
}

#[cfg(test)]
mod tests;
