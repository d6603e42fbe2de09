//! `veil filestatus FILE`: `{"encrypted":true}` when the file has metadata with a version and a
//! MAC, as sops decides it.

use crate::error::Result;
use crate::format::Format;

pub fn run(input_type: Option<&str>, file: &str) -> Result<i32> {
    let data = super::io::read_input(Some(file))?;
    let fmt = input_type
        .and_then(Format::from_name)
        .unwrap_or_else(|| Format::from_path(file));
    // As sops: a file without metadata is not encrypted; one that cannot be read as an
    // encrypted file (unparseable, content after a JSON object, broken metadata) is an error
    // (exit 1), never a guess either way.
    let cannot = |e: crate::error::Error| {
        let hint = e.hint.clone();
        let mut out = crate::error::Error::generic(format!(
            "cannot check file status: cannot load encrypted file: {}",
            e.message
        ));
        out.hint = hint;
        out
    };
    let parsed = fmt.store().parse_encrypted(&data).map_err(cannot)?;
    let encrypted = match parsed.metadata() {
        None => false,
        Some(_) => {
            let m = crate::engine::metadata_of(parsed.as_ref()).map_err(cannot)?;
            !m.version.is_empty() && !m.mac.is_empty()
        }
    };
    super::io::write_stdout(format!("{{\"encrypted\":{encrypted}}}\n").as_bytes())?;
    Ok(0)
}
