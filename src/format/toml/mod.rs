//! TOML documents: veil's own format (sops has no TOML store), defined normatively in
//! `docs/toml-mapping.md`.
//!
//! toml_edit parses the file and gives the span of every value; comments are found with a small
//! lexer that knows TOML's four string forms. Each comment belongs to the innermost array or
//! inline table around it, or else to the table whose header most closely precedes it (the
//! root table before the first header), and sits in that map or list by position. Rendering
//! replaces only the spans of sealed or opened leaves (values, or the text after a `#`), so
//! every other byte — decor, trailing comments, key order, dotted keys, inline tables — is kept.
//!
//! A sealed value is always a TOML string whose delimiters record what it was: `"…"` for basic
//! strings and non-strings, `"""…"""` for multi-line basic strings, `'…'` for literal strings
//! and `'''…'''` for local dates, times and date-times (which are sealed as `type:str` holding
//! their TOML text). Opening writes the value back in that style when it can.
//!
//! The metadata is a `[sops]` table written last (recipients as `[[sops.age]]` arrays of
//! tables). This module must never put a value into an error, and never panic on any input.

mod emit;
pub(crate) mod fast;
mod parse;
mod render;
mod syntax;
#[cfg(test)]
mod tests;

use self::emit::{emit, inline_value};
use self::parse::TomlDoc;
use crate::error::Result;
use crate::format::{EmitOptions, Format, Parsed, Store};
use crate::tree::{Scalar, Value};

/// The root key that holds sops's metadata.
const META_KEY: &str = "sops";

pub struct TomlStore;

impl Store for TomlStore {
    fn format(&self) -> Format {
        Format::Toml
    }

    fn parse(&self, src: &[u8]) -> Result<Box<dyn Parsed>> {
        Ok(Box::new(TomlDoc::parse(src)?))
    }

    fn emit(&self, docs: &[Value], meta: Option<&Value>, _opts: &EmitOptions) -> Result<Vec<u8>> {
        emit(docs, meta).map(String::into_bytes)
    }

    /// A string raw, other scalars and lists as TOML values, maps as documents.
    fn emit_value(&self, v: &Value, opts: &EmitOptions) -> Result<Vec<u8>> {
        match v {
            Value::Scalar(Scalar::Str(s)) => Ok(s.clone().into_bytes()),
            Value::Scalar(Scalar::Raw(b)) | Value::Scalar(Scalar::Bytes(b)) => Ok(b.clone()),
            Value::Map(_) => self.emit(std::slice::from_ref(v), None, opts),
            other => Ok(format!("{}\n", inline_value(other, true, "value")?).into_bytes()),
        }
    }
}
