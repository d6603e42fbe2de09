//! Document formats ("stores" in sops): detection by extension or flag, and the interface
//! every format module implements.
//!
//! A format module does two jobs and nothing else:
//! - **lossless editing**: [`Store::parse`] keeps the source text and an index of its leaves,
//!   and [`Parsed::render`] replaces exactly those leaves (and appends or removes the metadata
//!   block) while every other byte stays as it was;
//! - **fresh emission**: [`Store::emit`] writes a tree in the format's natural layout, for
//!   conversions between formats and for `--extract`.
//!
//! Formats never see keys or ciphertext semantics: the engine hands them finished `ENC[…]`
//! tokens or decoded plaintext scalars.

pub mod binary;
pub(crate) mod compare;
pub mod dotenv;
pub mod flatten;
pub mod ini;
pub mod json;
pub mod stream;
#[cfg(test)]
mod test_support;
pub mod toml;
pub mod yaml;

use crate::error::{Code, Error, Result};
use crate::tree::{Scalar, Value};

/// The formats veil reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Toml,
    Dotenv,
    Ini,
    Binary,
}

impl Format {
    /// sops's names for `--input-type`/`--output-type` (plus `toml`). Unknown names give `None`;
    /// sops then silently falls back to the extension rule, and so do we.
    pub fn from_name(s: &str) -> Option<Format> {
        Some(match s {
            "yaml" => Format::Yaml,
            "json" => Format::Json,
            "toml" => Format::Toml,
            "dotenv" => Format::Dotenv,
            "ini" => Format::Ini,
            "binary" => Format::Binary,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Toml => "toml",
            Format::Dotenv => "dotenv",
            Format::Ini => "ini",
            Format::Binary => "binary",
        }
    }

    /// sops's extension rule (docs/sops-format.md §6.1): `.yaml`/`.yml`, `.json`, `.env` (exact suffix), `.ini`;
    /// veil adds `.toml`; anything else is binary.
    pub fn from_path(path: &str) -> Format {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Format::Yaml
        } else if lower.ends_with(".json") {
            Format::Json
        } else if lower.ends_with(".toml") {
            Format::Toml
        } else if path.ends_with(".env") {
            Format::Dotenv
        } else if lower.ends_with(".ini") {
            Format::Ini
        } else {
            Format::Binary
        }
    }

    /// The store implementing this format.
    pub fn store(self) -> Box<dyn Store> {
        match self {
            Format::Yaml => Box::new(yaml::YamlStore::default()),
            Format::Json => Box::new(json::JsonStore),
            Format::Toml => Box::new(toml::TomlStore),
            Format::Dotenv => Box::new(dotenv::DotenvStore),
            Format::Ini => Box::new(ini::IniStore),
            Format::Binary => Box::new(binary::BinaryStore),
        }
    }
}

/// What to do with one leaf when rendering, in [`crate::tree::walk_leaves`] order.
#[derive(Clone, Debug)]
pub enum Edit {
    /// Leave the leaf's source text exactly as it is.
    Keep,
    /// Replace the leaf with this `ENC[…]` token. For a comment leaf the token goes where the
    /// comment text was (`#ENC[…]`); for a value it becomes a string scalar in the format's
    /// syntax (quoted where the context needs it, e.g. inside a YAML flow collection).
    Seal(String),
    /// Replace the leaf with this plaintext scalar, written in the format's natural style so
    /// that it reads back as the same type. A `Scalar::Comment` in a value position (sops writes
    /// YAML list comments as `- ENC[…,type:comment]` elements) becomes a comment line again.
    Open(Scalar),
}

/// What the streaming paths (YAML's and the flat formats') do with one leaf, given its key path,
/// AAD and value: the engine's sealer or opener, called leaf by leaf while the output is written.
pub type LeafEdit<'f> = dyn FnMut(&[&str], &str, &Scalar) -> Result<Edit> + 'f;

/// A [`LeafEdit`] that may run on another thread.
pub type LeafEditSend<'f> = dyn FnMut(&[&str], &str, &Scalar) -> Result<Edit> + Send + 'f;

/// Files from this size on are written and checked by the streaming paths in two halves, on
/// two threads.
pub(crate) const PARALLEL_FROM: usize = 256 * 1024;

/// Output options that come from `.sops.yaml` `stores` or flags, used for fresh layouts only.
#[derive(Clone, Debug, Default)]
pub struct EmitOptions {
    /// YAML: spaces per level (default 4, as sops). JSON: `None` = tab, `Some(n)` = n spaces.
    pub indent: Option<usize>,
}

/// A format: parses bytes into a lossless [`Parsed`] document and emits fresh trees.
pub trait Store {
    fn format(&self) -> Format;

    /// Parse a plaintext or encrypted file. Errors use sops's codes (2 for unreadable input,
    /// 92 for an empty YAML file) and never quote values.
    fn parse(&self, src: &[u8]) -> Result<Box<dyn Parsed>>;

    /// Parse a file that is expected to be encrypted. The same as [`Store::parse`] for every
    /// format except binary, whose encrypted form is a JSON document (`data` + `sops`) while its
    /// plaintext is raw bytes. Rendering such a document with `meta = None` must give back the
    /// store's plaintext form (for binary: the raw bytes of the opened `data` leaf).
    fn parse_encrypted(&self, src: &[u8]) -> Result<Box<dyn Parsed>> {
        self.parse(src)
    }

    /// Write documents in this format's natural layout, with `meta` (the sops metadata as a
    /// tree, already in sops's field order) appended as the format stores it, if given.
    fn emit(&self, docs: &[Value], meta: Option<&Value>, opts: &EmitOptions) -> Result<Vec<u8>>;

    /// Write one extracted value for `decrypt --extract` (docs/sops-format.md §6.3): a string leaf raw with no
    /// newline, other scalars with the store's value emitter, maps/lists as documents.
    fn emit_value(&self, v: &Value, opts: &EmitOptions) -> Result<Vec<u8>> {
        match v {
            Value::Scalar(Scalar::Str(s)) => Ok(s.clone().into_bytes()),
            Value::Scalar(Scalar::Raw(b)) | Value::Scalar(Scalar::Bytes(b)) => Ok(b.clone()),
            _ => self.emit(std::slice::from_ref(v), None, opts),
        }
    }
}

/// A parsed file that can be re-rendered losslessly.
pub trait Parsed {
    /// The documents (YAML may hold several; every other format holds one), *without* the
    /// `sops` metadata entry. Leaves are numbered by [`crate::tree::walk_leaves`].
    fn docs(&self) -> &[Value];

    /// The `sops` metadata as a tree (from the first document in YAML; unflattened from
    /// `sops_…` keys in dotenv and INI), or `None` when the file has none.
    fn metadata(&self) -> Option<&Value>;

    /// Render the source with one [`Edit`] per leaf. `meta = Some(tree)` appends (or replaces)
    /// the metadata block; `None` removes any metadata block, as decryption does, and gives
    /// text that ends with a line break, as sops's plaintext does (binary data stays exact).
    /// Implementations must produce text that parses back to the intended values, and should
    /// check that before returning.
    fn render(&self, edits: &[Edit], meta: Option<&Value>) -> Result<Vec<u8>>;

    /// Render the source changed to hold `docs` (already sealed: tokens where values are
    /// encrypted), whose shape may differ from the source's (keys added or removed), keeping
    /// the text of everything unchanged. `Ok(None)` when this format (or this change) cannot
    /// be made in place; the caller then lays the documents out afresh. Implementations must
    /// check that the result reads back as `docs` and `meta`.
    fn render_tree(&self, docs: &[Value], meta: Option<&Value>) -> Result<Option<Vec<u8>>> {
        let _ = (docs, meta);
        Ok(None)
    }
}

/// Helper for every [`Parsed::render`]: the engine gives one edit per leaf, in walk order; any
/// other count is a bug in the caller and is refused before anything is rendered.
pub(crate) fn one_edit_per_leaf(edits: &[Edit], leaves: usize, format: &str) -> Result<()> {
    if edits.len() != leaves {
        return Err(Error::generic(format!(
            "internal error: {} edits for {leaves} {format} leaves",
            edits.len()
        )));
    }
    Ok(())
}

/// Helper for line- and span-based stores: copy `src` with each `(range, text)` replacement
/// applied (sorted here), the gaps between them verbatim. Overlapping ranges are a bug in the
/// store and are refused rather than guessed at.
pub(crate) fn splice(
    src: &str,
    reps: &mut [(std::ops::Range<usize>, String)],
    what: &str,
) -> Result<String> {
    reps.sort_by_key(|(r, _)| (r.start, r.end));
    let mut out = String::with_capacity(src.len() + 2048);
    let mut pos = 0usize;
    for (r, text) in reps.iter() {
        if r.start < pos || r.end > src.len() {
            return Err(Error::generic(format!(
                "internal error: overlapping {what} edits"
            )));
        }
        out.push_str(&src[pos..r.start]);
        out.push_str(text);
        pos = r.end;
    }
    out.push_str(&src[pos..]);
    Ok(out)
}

/// Helper for format modules: an error reading input (exit 2) without quoting the input.
pub fn input_error(msg: impl Into<String>) -> Error {
    Error::new(Code::CouldNotReadInputFile, msg)
}
