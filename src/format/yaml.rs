//! YAML (stub; see issue 2).

use crate::error::{Error, Result};
use crate::format::{EmitOptions, Format, Parsed, Store};
use crate::tree::Value;

#[derive(Default)]
pub struct YamlStore;

impl Store for YamlStore {
    fn format(&self) -> Format {
        Format::Yaml
    }
    fn parse(&self, _src: &[u8]) -> Result<Box<dyn Parsed>> {
        Err(Error::generic("yaml is not implemented yet"))
    }
    fn emit(&self, _docs: &[Value], _meta: Option<&Value>, _opts: &EmitOptions) -> Result<Vec<u8>> {
        Err(Error::generic("yaml is not implemented yet"))
    }
}
