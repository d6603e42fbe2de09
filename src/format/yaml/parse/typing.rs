//! A scalar's value from its text, style and tag, as go-yaml v3 gives it to sops.
//!
//! Plain scalars go through [`super::super::resolve`]; quoted and block scalars are strings;
//! core tags (`!!str`, `!!int`, `!!binary`, …) are honoured and others dropped, as sops does.
//! Both the lossless parser and the streaming path's check type scalars here, so they agree.
//! It must not quote a value in an error.

use std::borrow::Cow;

use base64::Engine as _;
use saphyr_parser::{ScalarStyle, Tag};

use super::super::resolve::{resolve_plain, Resolved};
use super::Style;
use crate::tree::Scalar;

/// How a scalar's text and tag give its value.
pub(crate) enum Typed {
    Value(Option<Scalar>),
    Uint,
    BadTag,
}

/// A scanned scalar's text as an owned string without the scanner's spare capacity (a file's
/// worth of values is held at once, and saphyr grows its buffers by doubling).
fn owned(value: Cow<'_, str>) -> String {
    let mut s = value.into_owned();
    if s.capacity() > s.len() + 8 {
        s.shrink_to_fit();
    }
    s
}

pub(crate) fn type_scalar(value: Cow<'_, str>, style: Style, tag: Option<&Tag>) -> Typed {
    let tag_name = tag.map(|t| format!("{}{}", t.handle, t.suffix));
    let core = tag_name
        .as_deref()
        .and_then(|t| t.strip_prefix("tag:yaml.org,2002:"));
    match (tag_name.as_deref(), core) {
        (None, _) => {
            if style != Style::Plain {
                return Typed::Value(Some(Scalar::Str(owned(value))));
            }
            from_resolved(resolve_plain(&value), value)
        }
        (Some(_), Some("str")) | (Some(_), Some("merge")) => {
            Typed::Value(Some(Scalar::Str(owned(value))))
        }
        (Some(_), Some("binary")) => {
            let clean: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            match base64::engine::general_purpose::STANDARD.decode(clean.as_bytes()) {
                Ok(bytes) => Typed::Value(Some(match String::from_utf8(bytes) {
                    Ok(s) => Scalar::Str(s),
                    Err(e) => Scalar::Raw(e.into_bytes()),
                })),
                Err(_) => Typed::BadTag,
            }
        }
        (Some(_), Some(kind @ ("int" | "float" | "bool" | "null" | "timestamp"))) => {
            let r = resolve_plain(&value);
            match (kind, r) {
                ("int", Resolved::Int(i)) => Typed::Value(Some(Scalar::Int(i))),
                ("int", Resolved::Uint) => Typed::Uint,
                ("float", Resolved::Int(i)) => Typed::Value(Some(Scalar::Float(i.to_string()))),
                ("float", Resolved::Float(_, t)) => Typed::Value(Some(Scalar::Float(t))),
                ("bool", Resolved::Bool(b)) => Typed::Value(Some(Scalar::Bool(b))),
                ("null", Resolved::Null) => Typed::Value(None),
                ("timestamp", Resolved::Time(t)) => Typed::Value(Some(Scalar::Time(t))),
                _ => Typed::BadTag,
            }
        }
        // Custom and other tags are dropped; the value is its text (sops does the same).
        _ => Typed::Value(Some(Scalar::Str(owned(value)))),
    }
}

fn from_resolved(r: Resolved, text: Cow<'_, str>) -> Typed {
    Typed::Value(match r {
        Resolved::Null => None,
        Resolved::Bool(b) => Some(Scalar::Bool(b)),
        Resolved::Int(i) => Some(Scalar::Int(i)),
        Resolved::Uint => return Typed::Uint,
        Resolved::Float(_, t) => Some(Scalar::Float(t)),
        Resolved::Time(t) => Some(Scalar::Time(t)),
        Resolved::Str => Some(Scalar::Str(owned(text))),
    })
}

pub(crate) fn style_of(s: ScalarStyle) -> Style {
    match s {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::Single,
        ScalarStyle::DoubleQuoted => Style::Double,
        ScalarStyle::Literal => Style::Literal,
        ScalarStyle::Folded => Style::Folded,
    }
}
