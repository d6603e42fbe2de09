//! dotenv (stub; see issue 3).

use crate::error::{Error, Result};
use crate::format::{EmitOptions, Format, Parsed, Store};
use crate::tree::Value;

pub struct DotenvStore;

impl Store for DotenvStore {
    fn format(&self) -> Format {
        Format::Dotenv
    }
    fn parse(&self, _src: &[u8]) -> Result<Box<dyn Parsed>> {
        Err(Error::generic("dotenv is not implemented yet"))
    }
    fn emit(&self, _docs: &[Value], _meta: Option<&Value>, _opts: &EmitOptions) -> Result<Vec<u8>> {
        Err(Error::generic("dotenv is not implemented yet"))
    }
}
