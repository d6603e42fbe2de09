//! sops's wording for operating-system errors. sops is a Go program: it reports a failed
//! `open` as `open PATH: no such file or directory` (the path as given, the reason in
//! lowercase, no error number). Scripts and sops's own tests compare those lines, so the
//! commands that print them under the `sops` name build them here, in one place.
//!
//! Only public facts go in: a path the user gave and the system's reason. Never file contents.

/// Go's text for an OS error: the system's reason, first letter lowercased, without Rust's
/// ` (os error N)` suffix.
pub fn reason(e: &std::io::Error) -> String {
    let text = match e.raw_os_error() {
        Some(n) => std::io::Error::from_raw_os_error(n).to_string(),
        None => e.to_string(),
    };
    let text = match text.find(" (os error ") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `OP PATH: REASON`, Go's `*os.PathError` text.
pub fn path_error(op: &str, path: &str, e: &std::io::Error) -> String {
    format!("{op} {path}: {}", reason(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_read_as_go_prints_them() {
        let e = std::fs::read("/nonexistent/veil-test").unwrap_err();
        assert_eq!(
            path_error("open", "/nonexistent/veil-test", &e),
            "open /nonexistent/veil-test: no such file or directory"
        );
        let e = std::io::Error::from_raw_os_error(13);
        assert_eq!(reason(&e), "permission denied");
        let e = std::io::Error::other("Custom");
        assert_eq!(reason(&e), "custom");
    }
}
