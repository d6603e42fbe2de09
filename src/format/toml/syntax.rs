//! TOML string and value syntax: quoting a string in each of TOML's styles, a value's bare
//! text, and reading one value back. Shared by rendering (sealed and opened leaves) and fresh
//! emission; it knows nothing about documents.

use toml_edit::Document;

use crate::error::{Code, Error, Result};

use crate::tree::{parse_go_float, Scalar};

/// How a value slot was written, which decides how a sealed or opened value is written back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Style {
    /// `"…"`, and every non-string value.
    Basic,
    /// `"""…"""`.
    MlBasic,
    /// `'…'` or `'''…'''`.
    Literal,
    /// A local date, time or date-time; sealed as `'''ENC[…]'''`.
    LocalDate,
}

pub(super) fn is_bad_control(c: char) -> bool {
    (c < ' ' && c != '\t') || c == '\u{7f}'
}

/// A basic string with the canonical escapes.
pub(super) fn basic(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            '\u{8}' => o.push_str("\\b"),
            '\u{c}' => o.push_str("\\f"),
            c if is_bad_control(c) => o.push_str(&format!("\\u{:04X}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// A multi-line basic string; a newline follows the opening quotes when the value has one.
pub(super) fn ml_basic(s: &str) -> String {
    let mut o = String::from("\"\"\"");
    if s.contains('\n') {
        o.push('\n');
    }
    let chars: Vec<char> = s.chars().collect();
    let trailing_quotes = chars.iter().rev().take_while(|&&c| c == '"').count();
    let mut run = 0usize;
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '"' => {
                if run == 2 || i >= chars.len() - trailing_quotes {
                    o.push_str("\\\"");
                    run = 0;
                } else {
                    o.push('"');
                    run += 1;
                }
                continue;
            }
            '\\' => o.push_str("\\\\"),
            '\n' | '\t' => o.push(c),
            '\r' if chars.get(i + 1) == Some(&'\n') => o.push('\r'),
            '\r' => o.push_str("\\r"),
            c if is_bad_control(c) => o.push_str(&format!("\\u{:04X}", c as u32)),
            c => o.push(c),
        }
        run = 0;
    }
    o.push_str("\"\"\"");
    o
}

/// The literal form for the literal style: `'…'`, or `'''\n…'''` for text with line breaks.
pub(super) fn literal(s: &str) -> Option<String> {
    if !s.contains(['\'', '\n']) && !s.contains(is_bad_control) {
        return Some(format!("'{s}'"));
    }
    let ok = s.contains('\n')
        && !s.contains("'''")
        && !s.ends_with('\'')
        && !s.contains(|c: char| is_bad_control(c) && c != '\n' && c != '\r')
        && !s.replace("\r\n", "\n").contains('\r');
    ok.then(|| format!("'''\n{s}'''"))
}

/// Parse one TOML value written as `text`.
pub(super) fn parse_value(text: &str) -> Option<toml_edit::Value> {
    let doc = Document::parse(format!("x = {text}\n")).ok()?;
    doc.as_table().get("x")?.as_value().cloned()
}

/// A float's TOML text: its own text when TOML reads it as a float, else Rust's shortest form.
pub(super) fn toml_float(text: &str) -> String {
    if matches!(parse_value(text), Some(toml_edit::Value::Float(_))) {
        return text.to_string();
    }
    match parse_go_float(text) {
        Some(f) if f.is_nan() => "nan".into(),
        Some(f) if f.is_infinite() => if f > 0.0 { "inf" } else { "-inf" }.into(),
        Some(f) => format!("{f:?}"),
        None => "nan".into(),
    }
}

/// Is `s` a TOML local date, time or date-time, written as TOML writes it bare?
pub(super) fn is_local_datetime(s: &str) -> bool {
    matches!(parse_value(s), Some(toml_edit::Value::Datetime(d)) if d.value().offset.is_none())
        && !s.contains(['\n', '#', '"', '\''])
        && s.trim() == s
}

/// Text of a scalar that is written as a string.
pub(super) fn string_text(s: &Scalar, label: &str) -> Result<String> {
    match s {
        Scalar::Str(t) | Scalar::Comment(t) => Ok(t.clone()),
        Scalar::Raw(b) | Scalar::Bytes(b) => String::from_utf8(b.clone()).map_err(|_| {
            Error::new(
                Code::ErrorDumpingTree,
                format!("cannot write the value of {label} as toml: it is not UTF-8 text"),
            )
            .hint("use --output-type json or yaml for binary values")
        }),
        other => Ok(other.to_env_string()),
    }
}

/// A scalar as a bare TOML value (strings in the basic style).
pub(super) fn scalar_text(s: &Scalar, label: &str) -> Result<String> {
    Ok(match s {
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(t) => toml_float(t),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Time(t) => match parse_value(t) {
            Some(toml_edit::Value::Datetime(_)) => t.clone(),
            _ => basic(t),
        },
        other => {
            let t = string_text(other, label)?;
            if t.contains('\n') {
                ml_basic(&t)
            } else {
                basic(&t)
            }
        }
    })
}

/// A TOML key: bare when it can be, else a basic string.
pub(super) fn key_text(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        basic(k)
    }
}
