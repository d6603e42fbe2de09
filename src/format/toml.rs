//! TOML (stub; see issue 3).

use crate::error::{Error, Result};
use crate::format::{EmitOptions, Format, Parsed, Store};
use crate::tree::Value;

pub struct TomlStore;

impl Store for TomlStore {
    fn format(&self) -> Format {
        Format::Toml
    }
    fn parse(&self, _src: &[u8]) -> Result<Box<dyn Parsed>> {
        Err(Error::generic("toml is not implemented yet"))
    }
    fn emit(&self, _docs: &[Value], _meta: Option<&Value>, _opts: &EmitOptions) -> Result<Vec<u8>> {
        Err(Error::generic("toml is not implemented yet"))
    }
}
