//! Binary files: the whole file is one string leaf `data`, stored in the JSON store (spec 3.6).

use crate::error::{Error, Result};
use crate::format::{EmitOptions, Format, Parsed, Store};
use crate::tree::Value;


pub struct BinaryStore;

impl Store for BinaryStore {
    fn format(&self) -> Format {
        Format::Binary
    }
    fn parse(&self, _src: &[u8]) -> Result<Box<dyn Parsed>> {
        Err(Error::generic("binary is not implemented yet"))
    }
    fn emit(&self, _docs: &[Value], _meta: Option<&Value>, _opts: &EmitOptions) -> Result<Vec<u8>> {
        Err(Error::generic("binary is not implemented yet"))
    }
}
