//! INI files, read as sops 3.11 reads them (go-ini v1.67, docs/sops-format.md §1.7, §3.5, §7.4), written
//! losslessly.
//!
//! The tree is section → key → string. Keys before the first header belong to `DEFAULT`, which
//! is always the first section of the tree (go-ini creates it first); duplicate sections stay
//! separate. Values follow go-ini's rules exactly: `=` or `:` ends the key, an unquoted `;` or
//! `#` starts an inline comment, surrounding `"…"`/`'…'` are stripped, `` `…` `` and `"""…"""`
//! quote (and may span lines), a trailing `\` continues the value on the next line.
//!
//! Comments follow go-ini too: every comment line since the previous key or header, plus the
//! inline comment of the key or header line, form **one** comment (a block), which sops stores
//! as an item *after* the key it belongs to (or first in the section, for the header's block)
//! and decrypts as one `; ENC[…]` line. A block at the end of the file, which go-ini drops, is
//! kept here as the last item of the last section; a block just above `[sops]` joins the block
//! of the next header (where it lands once `[sops]` is removed), or else the end of the file.
//!
//! The `[sops]` section holds the flattened metadata ([`super::flatten`]) in any key order,
//! with `\n` escapes or `"""…"""` values. It is not part of the tree and is written last.
//!
//! Rendering replaces only the spans of sealed or opened values and comment blocks, keeping
//! quotes, alignment and every other byte; a block seals to one `; ENC[…]` line in place of its
//! first line (keeping that line's marker and spacing). **Round trip rule:** decrypting a file
//! veil encrypted gives back its exact bytes when it is empty or ends with a line break, has no
//! `[sops]` section, and: no section header carries an inline comment (it comes back on its own
//! line above the header, as sops writes it); no comment block mixes comment lines with a key's
//! inline comment (the inline part comes back last above the key); no value is continued with
//! `\` (it comes back on one line); multi-line values use `"""`, with exactly one space
//! before any comment after their closing quotes; the last line of a comment block has no
//! trailing blanks. Quoted values keep their quotes whenever the value can be read back inside
//! them. This module must never put a value into an error.

mod emit;
pub(crate) mod fast;
mod parse;
mod quote;
mod render;
#[cfg(test)]
mod tests;

use self::emit::emit;
use self::parse::IniDoc;
use crate::error::Result;
use crate::format::{EmitOptions, Format, Parsed, Store};
use crate::tree::{Item, Scalar, Value};

/// The section go-ini gives keys that come before any header.
const DEFAULT_SECTION: &str = "DEFAULT";
/// The section that holds sops's metadata.
const META_SECTION: &str = "sops";

pub struct IniStore;

impl Store for IniStore {
    fn format(&self) -> Format {
        Format::Ini
    }

    fn parse(&self, src: &[u8]) -> Result<Box<dyn Parsed>> {
        Ok(Box::new(IniDoc::parse(src)?))
    }

    fn emit(&self, docs: &[Value], meta: Option<&Value>, _opts: &EmitOptions) -> Result<Vec<u8>> {
        emit(docs, meta).map(String::into_bytes)
    }

    /// A string is written raw; other scalars as text; a section's map as `key = value` lines.
    fn emit_value(&self, v: &Value, opts: &EmitOptions) -> Result<Vec<u8>> {
        match v {
            Value::Scalar(Scalar::Str(s)) => Ok(s.clone().into_bytes()),
            Value::Scalar(Scalar::Raw(b)) | Value::Scalar(Scalar::Bytes(b)) => Ok(b.clone()),
            Value::Scalar(s) => Ok(s.to_env_string().into_bytes()),
            Value::Map(items)
                if items.iter().all(|i| {
                    matches!(
                        i,
                        Item::Comment(_) | Item::Entry(_, Value::Scalar(_) | Value::Null)
                    )
                }) =>
            {
                let doc = Value::Map(vec![Item::Entry(DEFAULT_SECTION.into(), v.clone())]);
                self.emit(&[doc], None, opts)
            }
            _ => self.emit(std::slice::from_ref(v), None, opts),
        }
    }
}
