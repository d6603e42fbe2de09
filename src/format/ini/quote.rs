//! How a key or value is written so that go-ini reads it back as itself: go-ini's own quoting
//! first, then any other form that a re-read confirms.

use super::parse::Parser;
use crate::error::{Code, Error};
use crate::tree::{Item, Scalar, Value};

/// go-ini's way of writing a key.
pub(super) fn goini_key(k: &str) -> String {
    if k.contains('"') || k.contains(['=', ':']) {
        format!("`{k}`")
    } else if k.contains('`') {
        format!("\"\"\"{k}\"\"\"")
    } else {
        k.to_string()
    }
}

/// go-ini's way of quoting a value.
pub(super) fn goini_value(v: &str) -> String {
    if v.contains(['\n', '`']) {
        format!("\"\"\"{v}\"\"\"")
    } else if v.contains(['#', ';']) {
        format!("`{v}`")
    } else if v.trim().len() != v.len() {
        format!("\"{v}\"")
    } else {
        v.to_string()
    }
}

/// Read `line` (a key line, possibly several lines long) as INI: its one value and how many
/// comments it holds, or `None` unless it is exactly one key.
pub(super) fn read_fragment(line: &str) -> Option<(String, usize)> {
    let doc = Parser::new(line).parse().ok()?;
    if doc.meta.is_some() {
        return None;
    }
    let Some(Value::Map(secs)) = doc.docs.first() else {
        return None;
    };
    let mut sections = secs.iter().filter_map(|s| match s {
        Item::Entry(_, Value::Map(items)) if !items.is_empty() => Some(items),
        _ => None,
    });
    let (Some(items), None) = (sections.next(), sections.next()) else {
        return None;
    };
    let mut value = None;
    let mut comments = 0;
    for i in items {
        match i {
            Item::Entry(_, Value::Scalar(Scalar::Str(s))) if value.is_none() => {
                value = Some(s.clone())
            }
            Item::Comment(_) => comments += 1,
            _ => return None,
        }
    }
    Some((value?, comments))
}

/// Does `line` read as exactly one key whose value is `want` (and, if given, with that many
/// comments, so that a rewrite never swallows or drops one)?
pub(super) fn reads_as(line: &str, want: &str, comments: Option<usize>) -> bool {
    matches!(read_fragment(line), Some((v, n)) if v == want && comments.is_none_or(|c| c == n))
}

/// The ways a value can be written, in order of preference: go-ini's own quoting first, then
/// any other quoting that reads back.
pub(super) fn value_forms(v: &str) -> Vec<String> {
    let mut forms = vec![goini_value(v), v.to_string()];
    // go-ini ends a quoted value at the LAST quote of the line where it finds one (its
    // `strings.LastIndex`), reading across lines until then: so a quote is harmless in the
    // value's last line (the whole value, if it has one line) and fatal before it. goini_value
    // does not know that, and a value such as "\na = \"\"\"\na = `" has only this form.
    // (Each form is confirmed by a re-read anyway.)
    let head = v.rsplit_once('\n').map_or("", |(h, _)| h);
    if !head.contains('`') {
        forms.push(format!("`{v}`"));
    }
    if !head.contains("\"\"\"") {
        forms.push(format!("\"\"\"{v}\"\"\""));
    }
    forms.push(format!("\"{v}\""));
    forms.push(format!("'{v}'"));
    forms
}

pub(super) fn cannot_write(label: &str) -> Error {
    Error::new(Code::ErrorDumpingTree, format!("could not write ini: the value of {label} cannot be written so that it reads back the same"))
        .hint("INI cannot hold every string (for example one with both a backtick and three double quotes); use another output type")
}
