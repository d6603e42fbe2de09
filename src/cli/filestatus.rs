//! `veil filestatus FILE`: `{"encrypted":true}` when the file has metadata with a version and a
//! MAC, as sops decides it. A file without metadata is `false`; a file sops cannot load at all
//! (unreadable, not valid in its format, broken metadata) is an error, exit 1, as in sops, so a
//! script never takes a damaged file for a plaintext one.

use crate::error::{Error, Result};
use crate::format::Format;

pub fn run(input_type: Option<&str>, file: &str) -> Result<i32> {
    let cannot = |why: String| {
        Error::generic(format!(
            "cannot check file status: cannot load encrypted file: {why}"
        ))
    };
    let data = std::fs::read(file).map_err(|e| {
        cannot(format!(
            "Error reading file: {}",
            super::gotext::path_error("open", file, &e)
        ))
    })?;
    let fmt = input_type
        .and_then(Format::from_name)
        .unwrap_or_else(|| Format::from_path(file));
    if fmt == Format::Yaml && holds_no_yaml_document(&data) {
        // go-yaml reads such a file as no document, hence no metadata.
        super::io::write_stdout(b"{\"encrypted\":false}\n")?;
        return Ok(0);
    }
    let parsed = fmt
        .store()
        .parse_encrypted(&data)
        .map_err(|e| cannot(e.message))?;
    let encrypted = match parsed.metadata() {
        None => false,
        Some(_) => {
            let m = crate::engine::metadata_of(parsed.as_ref()).map_err(|e| cannot(e.message))?;
            !m.version.is_empty() && !m.mac.is_empty()
        }
    };
    super::io::write_stdout(format!("{{\"encrypted\":{encrypted}}}\n").as_bytes())?;
    Ok(0)
}

/// Empty, or nothing but blank lines, comments and document markers.
fn holds_no_yaml_document(data: &[u8]) -> bool {
    data.split(|b| *b == b'\n').all(|line| {
        let l = line.trim_ascii();
        l.is_empty() || l.starts_with(b"#") || l == b"---" || l == b"..."
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn comment_only_yaml_has_no_document() {
        assert!(super::holds_no_yaml_document(b""));
        assert!(super::holds_no_yaml_document(b"# c\n\n---\n  # d\n"));
        assert!(!super::holds_no_yaml_document(b"# c\na: 1\n"));
    }
}
