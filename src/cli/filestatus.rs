//! `veil filestatus FILE`: `{"encrypted":true}` when the file has metadata with a version and a
//! MAC, as sops decides it.

use crate::error::Result;
use crate::format::Format;

pub fn run(input_type: Option<&str>, file: &str) -> Result<i32> {
    let data = super::io::read_input(Some(file))?;
    let fmt = input_type
        .and_then(Format::from_name)
        .unwrap_or_else(|| Format::from_path(file));
    let encrypted = match fmt.store().parse_encrypted(&data) {
        Ok(p) => match crate::engine::metadata_of(p.as_ref()) {
            Ok(m) => !m.version.is_empty() && !m.mac.is_empty(),
            Err(_) => false,
        },
        Err(_) => false,
    };
    super::io::write_stdout(format!("{{\"encrypted\":{encrypted}}}\n").as_bytes())?;
    Ok(0)
}
