//! TOML documents: veil's own format (sops has no TOML store), defined normatively in
//! `docs/toml-mapping.md`.
//!
//! toml_edit parses the file and gives the span of every value; comments are found with a small
//! lexer that knows TOML's four string forms. Each comment belongs to the innermost array or
//! inline table around it, or else to the table whose header most closely precedes it (the
//! root table before the first header), and sits in that map or list by position. Rendering
//! replaces only the spans of sealed or opened leaves (values, or the text after a `#`), so
//! every other byte — decor, trailing comments, key order, dotted keys, inline tables — is kept.
//!
//! A sealed value is always a TOML string whose delimiters record what it was: `"…"` for basic
//! strings and non-strings, `"""…"""` for multi-line basic strings, `'…'` for literal strings
//! and `'''…'''` for local dates, times and date-times (which are sealed as `type:str` holding
//! their TOML text). Opening writes the value back in that style when it can.
//!
//! The metadata is a `[sops]` table written last (recipients as `[[sops.age]]` arrays of
//! tables). This module must never put a value into an error, and never panic on any input.

use std::collections::HashMap;
use std::ops::Range;

use toml_edit::{Datetime, Document, InlineTable, Table};

use crate::error::{Code, Error, Result};
use crate::format::dotenv::utf8_source;
use crate::format::{input_error, Edit, EmitOptions, Format, Parsed, Store};
use crate::tree::{
    format_time_go, normalize_time, parse_go_float, walk_leaves, walk_leaves_mut, Item, Scalar,
    Value,
};

/// The root key that holds sops's metadata.
const META_KEY: &str = "sops";

pub struct TomlStore;

impl Store for TomlStore {
    fn format(&self) -> Format {
        Format::Toml
    }

    fn parse(&self, src: &[u8]) -> Result<Box<dyn Parsed>> {
        Ok(Box::new(TomlDoc::parse(src)?))
    }

    fn emit(&self, docs: &[Value], meta: Option<&Value>, _opts: &EmitOptions) -> Result<Vec<u8>> {
        emit(docs, meta).map(String::into_bytes)
    }

    /// A string raw, other scalars and lists as TOML values, maps as documents.
    fn emit_value(&self, v: &Value, opts: &EmitOptions) -> Result<Vec<u8>> {
        match v {
            Value::Scalar(Scalar::Str(s)) => Ok(s.clone().into_bytes()),
            Value::Scalar(Scalar::Raw(b)) | Value::Scalar(Scalar::Bytes(b)) => Ok(b.clone()),
            Value::Map(_) => self.emit(std::slice::from_ref(v), None, opts),
            other => Ok(format!("{}\n", inline_value(other, true, "value")?).into_bytes()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// String and value syntax

/// How a value slot was written, which decides how a sealed or opened value is written back.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Style {
    /// `"…"`, and every non-string value.
    Basic,
    /// `"""…"""`.
    MlBasic,
    /// `'…'` or `'''…'''`.
    Literal,
    /// A local date, time or date-time; sealed as `'''ENC[…]'''`.
    LocalDate,
}

fn is_bad_control(c: char) -> bool {
    (c < ' ' && c != '\t') || c == '\u{7f}'
}

/// A basic string with the canonical escapes.
fn basic(s: &str) -> String {
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
fn ml_basic(s: &str) -> String {
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
fn literal(s: &str) -> Option<String> {
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
fn parse_value(text: &str) -> Option<toml_edit::Value> {
    let doc = Document::parse(format!("x = {text}\n")).ok()?;
    doc.as_table().get("x")?.as_value().cloned()
}

/// A float's TOML text: its own text when TOML reads it as a float, else Rust's shortest form.
fn toml_float(text: &str) -> String {
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
fn is_local_datetime(s: &str) -> bool {
    matches!(parse_value(s), Some(toml_edit::Value::Datetime(d)) if d.value().offset.is_none())
        && !s.contains(['\n', '#', '"', '\''])
        && s.trim() == s
}

/// Text of a scalar that is written as a string.
fn string_text(s: &Scalar, label: &str) -> Result<String> {
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
fn scalar_text(s: &Scalar, label: &str) -> Result<String> {
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
fn key_text(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        basic(k)
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Where a leaf sits in the source.
#[derive(Clone, Debug)]
enum Slot {
    Value {
        span: Range<usize>,
        style: Style,
        label: String,
    },
    /// The text after `#` up to the end of the line (a `\r` before `\n` excluded).
    Comment { span: Range<usize>, label: String },
}

/// A parsed TOML file.
pub struct TomlDoc {
    src: String,
    docs: Vec<Value>,
    meta: Option<Value>,
    slots: Vec<Slot>,
    /// Byte ranges of the metadata, removed on render.
    meta_ranges: Vec<Range<usize>>,
}

/// A comment found by the lexer: the position of its `#` and the span of its text.
#[derive(Clone, Debug)]
struct Comment {
    pos: usize,
    span: Range<usize>,
}

/// Find every comment outside strings.
fn lex_comments(text: &str) -> Vec<Comment> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < b.len() {
        match b[i] {
            b'#' => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                let text_end = if end > i + 1 && b[end - 1] == b'\r' && end < text.len() {
                    end - 1
                } else {
                    end
                };
                out.push(Comment {
                    pos: i,
                    span: i + 1..text_end.max(i + 1),
                });
                i = end;
            }
            q @ (b'"' | b'\'') => {
                let triple = b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q);
                if triple {
                    i += 3;
                    loop {
                        if i >= b.len() {
                            break;
                        }
                        if q == b'"' && b[i] == b'\\' {
                            i += 2;
                            continue;
                        }
                        if b[i] == q && b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q) {
                            i += 3;
                            // Up to two more quotes belong to the string.
                            let mut extra = 0;
                            while extra < 2 && b.get(i) == Some(&q) {
                                i += 1;
                                extra += 1;
                            }
                            break;
                        }
                        i += 1;
                    }
                } else {
                    i += 1;
                    while i < b.len() && b[i] != q && b[i] != b'\n' {
                        if q == b'"' && b[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// Builds the tree: which comments go where, and the slots in leaf order.
struct Builder<'a> {
    text: &'a str,
    /// Comments by container: `(true, start)` for an array or inline table starting at
    /// `start`, `(false, line start)` for the header table whose header line starts there, and
    /// `(false, usize::MAX)` for the root table.
    by_container: HashMap<(bool, usize), Vec<Comment>>,
}

const ROOT: (bool, usize) = (false, usize::MAX);

fn line_start(text: &str, pos: usize) -> usize {
    text[..pos.min(text.len())].rfind('\n').map_or(0, |i| i + 1)
}

fn line_next(text: &str, pos: usize) -> usize {
    text[pos.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |i| pos + i + 1)
}

/// A header table: one written as `[name]` or `[[name]]`.
fn is_header(t: &Table) -> bool {
    !t.is_implicit() && !t.is_dotted() && t.span().is_some()
}

/// Every header (line start, key path) and every array or inline table span, in the source.
fn collect_containers(
    t: &Table,
    path: &mut Vec<String>,
    headers: &mut Vec<(usize, Vec<String>)>,
    values: &mut Vec<Range<usize>>,
    text: &str,
) {
    for (k, item) in t.iter() {
        path.push(k.to_string());
        match item {
            toml_edit::Item::Table(sub) => {
                if is_header(sub) {
                    if let Some(s) = sub.span() {
                        headers.push((line_start(text, s.start), path.clone()));
                    }
                }
                collect_containers(sub, path, headers, values, text);
            }
            toml_edit::Item::ArrayOfTables(a) => {
                for sub in a.iter() {
                    if let Some(s) = sub.span() {
                        headers.push((line_start(text, s.start), path.clone()));
                    }
                    collect_containers(sub, path, headers, values, text);
                }
            }
            toml_edit::Item::Value(v) => collect_value_containers(v, values),
            toml_edit::Item::None => {}
        }
        path.pop();
    }
}

fn collect_value_containers(v: &toml_edit::Value, values: &mut Vec<Range<usize>>) {
    match v {
        toml_edit::Value::Array(a) => {
            if let Some(s) = a.span() {
                values.push(s);
            }
            for e in a.iter() {
                collect_value_containers(e, values);
            }
        }
        toml_edit::Value::InlineTable(t) => {
            if let Some(s) = t.span() {
                values.push(s);
            }
            for (_, e) in t.iter() {
                collect_value_containers(e, values);
            }
        }
        _ => {}
    }
}

/// One converted item of a map or list, with its position and its slots in leaf order.
struct Part {
    pos: usize,
    item: PartItem,
    slots: Vec<Slot>,
}

enum PartItem {
    Entry(String, Value),
    Element(Value),
    Comment(Scalar),
}

/// Insert comments among parts: each before the first part (in order) that starts after it.
fn merge_comments(
    mut parts: Vec<Part>,
    comments: Vec<Comment>,
    text: &str,
    label: &str,
    in_list: bool,
) -> Vec<Part> {
    for c in comments {
        let at = parts
            .iter()
            .position(|p| p.pos > c.pos)
            .unwrap_or(parts.len());
        let s = Scalar::Comment(text[c.span.clone()].to_string());
        let item = if in_list {
            PartItem::Element(Value::Scalar(s))
        } else {
            PartItem::Comment(s)
        };
        parts.insert(
            at,
            Part {
                pos: c.pos,
                item,
                slots: vec![Slot::Comment {
                    span: c.span,
                    label: label.to_string(),
                }],
            },
        );
    }
    parts
}

/// A map from its parts; the slots come out in leaf order.
fn finish_map(parts: Vec<Part>) -> (Value, Vec<Slot>) {
    let mut items = Vec::new();
    let mut slots = Vec::new();
    for p in parts {
        slots.extend(p.slots);
        items.push(match p.item {
            PartItem::Entry(k, v) => Item::Entry(k, v),
            PartItem::Comment(s) | PartItem::Element(Value::Scalar(s)) => Item::Comment(s),
            PartItem::Element(_) => continue,
        });
    }
    (Value::Map(items), slots)
}

fn label_of(path: &[String]) -> String {
    if path.is_empty() {
        "the top level".to_string()
    } else {
        path.join(".")
    }
}

impl Builder<'_> {
    fn take(&mut self, key: (bool, usize)) -> Vec<Comment> {
        self.by_container.remove(&key).unwrap_or_default()
    }

    /// The position a table entry sorts by.
    fn item_pos(&self, key_span: Option<Range<usize>>, item: &toml_edit::Item) -> usize {
        match item {
            toml_edit::Item::Table(t) if is_header(t) => t.span().map_or(usize::MAX, |s| s.start),
            toml_edit::Item::Table(t) => t
                .iter()
                .map(|(k, i)| self.item_pos(t.key(k).and_then(|k| k.span()), i))
                .min()
                .or(key_span.map(|s| s.start))
                .unwrap_or(usize::MAX),
            toml_edit::Item::ArrayOfTables(a) => a
                .iter()
                .find_map(|t| t.span())
                .map_or(usize::MAX, |s| s.start),
            _ => key_span.map_or(usize::MAX, |s| s.start),
        }
    }

    fn table(
        &mut self,
        t: &Table,
        region: Option<(bool, usize)>,
        path: &mut Vec<String>,
    ) -> (Value, Vec<Slot>) {
        let parts = self.table_parts(t, region, path);
        finish_map(parts)
    }

    /// A table's entries and comments, in order.
    fn table_parts(
        &mut self,
        t: &Table,
        region: Option<(bool, usize)>,
        path: &mut Vec<String>,
    ) -> Vec<Part> {
        let mut parts = Vec::new();
        for (k, item) in t.iter() {
            let pos = self.item_pos(t.key(k).and_then(|k| k.span()), item);
            path.push(k.to_string());
            let (v, slots) = match item {
                toml_edit::Item::Table(sub) => {
                    let region = if is_header(sub) {
                        sub.span().map(|s| (false, line_start(self.text, s.start)))
                    } else {
                        None
                    };
                    self.table(sub, region, path)
                }
                toml_edit::Item::ArrayOfTables(a) => {
                    let mut elems = Vec::new();
                    let mut slots = Vec::new();
                    for sub in a.iter() {
                        let region = sub.span().map(|s| (false, line_start(self.text, s.start)));
                        let (v, s) = self.table(sub, region, path);
                        elems.push(v);
                        slots.extend(s);
                    }
                    (Value::List(elems), slots)
                }
                toml_edit::Item::Value(v) => self.value(v, path),
                toml_edit::Item::None => (Value::Null, Vec::new()),
            };
            path.pop();
            parts.push(Part {
                pos,
                item: PartItem::Entry(k.to_string(), v),
                slots,
            });
        }
        let comments = region.map(|r| self.take(r)).unwrap_or_default();
        merge_comments(parts, comments, self.text, &label_of(path), false)
    }

    fn inline_table(&mut self, t: &InlineTable, path: &mut Vec<String>) -> (Value, Vec<Slot>) {
        let mut parts = Vec::new();
        for (k, v) in t.iter() {
            let pos = t
                .key(k)
                .and_then(|k| k.span())
                .map_or(usize::MAX, |s| s.start);
            path.push(k.to_string());
            let (v, slots) = self.value(v, path);
            path.pop();
            parts.push(Part {
                pos,
                item: PartItem::Entry(k.to_string(), v),
                slots,
            });
        }
        let comments = t
            .span()
            .map(|s| self.take((true, s.start)))
            .unwrap_or_default();
        finish_map(merge_comments(
            parts,
            comments,
            self.text,
            &label_of(path),
            false,
        ))
    }

    fn value(&mut self, v: &toml_edit::Value, path: &mut Vec<String>) -> (Value, Vec<Slot>) {
        let label = label_of(path);
        let span = v.span().unwrap_or(0..0);
        let raw = self.text.get(span.clone()).unwrap_or("");
        let slot = |style| {
            vec![Slot::Value {
                span: span.clone(),
                style,
                label: label.clone(),
            }]
        };
        match v {
            toml_edit::Value::String(s) => {
                let style = if raw.starts_with("\"\"\"") {
                    Style::MlBasic
                } else if raw.starts_with("'''") {
                    // A sealed local date keeps its marker; a plain one is a literal string.
                    if s.value().starts_with("ENC[") {
                        Style::LocalDate
                    } else {
                        Style::Literal
                    }
                } else if raw.starts_with('\'') {
                    Style::Literal
                } else {
                    Style::Basic
                };
                (Value::str(s.value().clone()), slot(style))
            }
            toml_edit::Value::Integer(i) => {
                (Value::Scalar(Scalar::Int(*i.value())), slot(Style::Basic))
            }
            toml_edit::Value::Float(f) => {
                let t = raw.replace('_', "");
                let t = if t.to_ascii_lowercase().contains("nan") || parse_go_float(&t).is_none() {
                    crate::tree::go_format_float(*f.value())
                } else {
                    t
                };
                let t = if t == "NaN" { "nan".to_string() } else { t };
                (Value::Scalar(Scalar::Float(t)), slot(Style::Basic))
            }
            toml_edit::Value::Boolean(b) => {
                (Value::Scalar(Scalar::Bool(*b.value())), slot(Style::Basic))
            }
            toml_edit::Value::Datetime(d) => match offset_time(d.value()) {
                Some(t) => (Value::Scalar(Scalar::Time(t)), slot(Style::Basic)),
                None => (Value::str(raw.to_string()), slot(Style::LocalDate)),
            },
            toml_edit::Value::Array(a) => {
                let mut parts = Vec::new();
                for e in a.iter() {
                    let pos = e.span().map_or(usize::MAX, |s| s.start);
                    let (v, slots) = self.value(e, path);
                    parts.push(Part {
                        pos,
                        item: PartItem::Element(v),
                        slots,
                    });
                }
                let comments = a
                    .span()
                    .map(|s| self.take((true, s.start)))
                    .unwrap_or_default();
                let parts = merge_comments(parts, comments, self.text, &label, true);
                let mut elems = Vec::new();
                let mut slots = Vec::new();
                for p in parts {
                    slots.extend(p.slots);
                    elems.push(match p.item {
                        PartItem::Element(v) | PartItem::Entry(_, v) => v,
                        PartItem::Comment(s) => Value::Scalar(s),
                    });
                }
                (Value::List(elems), slots)
            }
            toml_edit::Value::InlineTable(t) => self.inline_table(t, path),
        }
    }
}

/// An offset date-time as Go's `time.MarshalText` writes it; `None` for local ones.
fn offset_time(d: &Datetime) -> Option<String> {
    let (date, t, off) = (d.date?, d.time?, d.offset?);
    let month = time::Month::try_from(date.month).ok()?;
    let date = time::Date::from_calendar_date(i32::from(date.year), month, date.day).ok()?;
    let tm = time::Time::from_hms_nano(
        t.hour,
        t.minute,
        t.second.unwrap_or(0),
        t.nanosecond.unwrap_or(0),
    )
    .ok()?;
    let offset = match off {
        toml_edit::Offset::Z => time::UtcOffset::UTC,
        toml_edit::Offset::Custom { minutes } => {
            time::UtcOffset::from_whole_seconds(i32::from(minutes) * 60).ok()?
        }
    };
    Some(format_time_go(
        time::PrimitiveDateTime::new(date, tm).assume_offset(offset),
    ))
}

/// Metadata read back: offset date-times become their text (sops keeps them as strings).
fn meta_value(v: Value) -> Value {
    match v {
        Value::Scalar(Scalar::Time(t)) => Value::str(t),
        Value::Map(items) => Value::Map(
            items
                .into_iter()
                .filter_map(|i| match i {
                    Item::Entry(k, v) => Some(Item::Entry(k, meta_value(v))),
                    Item::Comment(_) => None,
                })
                .collect(),
        ),
        Value::List(items) => Value::List(
            items
                .into_iter()
                .filter(|v| !matches!(v, Value::Scalar(Scalar::Comment(_))))
                .map(meta_value)
                .collect(),
        ),
        other => other,
    }
}

impl TomlDoc {
    fn parse(src: &[u8]) -> Result<TomlDoc> {
        let text = utf8_source(src)?;
        let doc = Document::parse(text).map_err(|e| {
            let line = e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            input_error(format!("invalid toml at line {line}"))
                .hint("check the file with a TOML linter")
        })?;

        // Containers, and which one each comment belongs to.
        let mut headers = Vec::new();
        let mut values = Vec::new();
        collect_containers(
            doc.as_table(),
            &mut Vec::new(),
            &mut headers,
            &mut values,
            text,
        );
        headers.sort_by_key(|(start, _)| *start);
        let mut by_container: HashMap<(bool, usize), Vec<Comment>> = HashMap::new();
        for c in lex_comments(text) {
            let inner = values
                .iter()
                .filter(|r| r.start < c.pos && c.pos < r.end)
                .max_by_key(|r| r.start);
            let key = match inner {
                Some(r) => (true, r.start),
                None => match headers.iter().rev().find(|(start, _)| *start <= c.pos) {
                    Some((start, _)) => (false, *start),
                    None => ROOT,
                },
            };
            by_container.entry(key).or_default().push(c);
        }

        let mut b = Builder { text, by_container };
        let parts = b.table_parts(doc.as_table(), Some(ROOT), &mut Vec::new());
        // Set the metadata entry aside; comments inside it go with it.
        let mut meta = None;
        let mut rest = Vec::new();
        for p in parts {
            match p.item {
                PartItem::Entry(k, v) if k == META_KEY && meta.is_none() => {
                    meta = Some(meta_value(v))
                }
                item => rest.push(Part { item, ..p }),
            }
        }
        // Any comment no container claimed (none should be left) still becomes a leaf, at the
        // end of the root table, so that it is never left out of encryption.
        let mut left: Vec<Comment> = b.by_container.drain().flat_map(|(_, v)| v).collect();
        left.sort_by_key(|c| c.pos);
        for c in left {
            let s = Scalar::Comment(text[c.span.clone()].to_string());
            let slots = vec![Slot::Comment {
                span: c.span,
                label: label_of(&[]),
            }];
            rest.push(Part {
                pos: usize::MAX,
                item: PartItem::Comment(s),
                slots,
            });
        }
        let (root, slots) = finish_map(rest);
        let docs = vec![root];

        // The text to drop when rendering: the metadata's header regions and root lines.
        let mut meta_ranges = Vec::new();
        for (i, (start, path)) in headers.iter().enumerate() {
            if path.first().map(String::as_str) != Some(META_KEY) {
                continue;
            }
            let end = headers.get(i + 1).map_or(text.len(), |(s, _)| *s);
            let prev_is_meta =
                i > 0 && headers[i - 1].1.first().map(String::as_str) == Some(META_KEY);
            let mut s = *start;
            if !prev_is_meta && s > 0 {
                let prev = line_start(text, s - 1);
                if text[prev..s].trim().is_empty() {
                    s = prev;
                }
            }
            meta_ranges.push(s..end);
        }
        if let Some((key, item)) = doc.as_table().get_key_value(META_KEY) {
            root_kv_lines(text, key.span(), item, &mut meta_ranges);
        }
        meta_ranges.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::new();
        for r in meta_ranges {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        Ok(TomlDoc {
            src: text.to_string(),
            docs,
            meta,
            slots,
            meta_ranges: merged,
        })
    }
}

/// Lines of root-level key/values under `sops` (`sops.x = …` or `sops = {…}`).
fn root_kv_lines(
    text: &str,
    key_span: Option<Range<usize>>,
    item: &toml_edit::Item,
    out: &mut Vec<Range<usize>>,
) {
    match item {
        toml_edit::Item::Value(v) => {
            if let (Some(k), Some(vs)) = (key_span, v.span()) {
                out.push(line_start(text, k.start)..line_next(text, vs.end));
            }
        }
        toml_edit::Item::Table(t) if t.is_dotted() => {
            for (k, i) in t.iter() {
                root_kv_lines(text, t.key(k).and_then(|k| k.span()), i, out);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Comparing trees (floats by value, times normalised)

fn eq_scalar(a: &Scalar, b: &Scalar) -> bool {
    match (a, b) {
        (Scalar::Float(x), Scalar::Float(y)) => match (parse_go_float(x), parse_go_float(y)) {
            (Some(p), Some(q)) => p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()),
            _ => x == y,
        },
        (Scalar::Time(x), Scalar::Time(y)) => {
            x == y || matches!((normalize_time(x), normalize_time(y)), (Some(p), Some(q)) if p == q)
        }
        _ => a == b,
    }
}

fn eq_tree(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Scalar(x), Value::Scalar(y)) => eq_scalar(x, y),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| eq_tree(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|(p, q)| match (p, q) {
                    (Item::Entry(k1, v1), Item::Entry(k2, v2)) => k1 == k2 && eq_tree(v1, v2),
                    (Item::Comment(c1), Item::Comment(c2)) => c1 == c2,
                    _ => false,
                })
        }
        (Value::Null, Value::Null) => true,
        _ => false,
    }
}

/// The key path of the first leaf that differs, for an error message.
fn first_difference(want: &[Value], got: &[Value]) -> String {
    let mut w = Vec::new();
    walk_leaves(want, |_, p, s| w.push((p.join("."), s.clone())));
    let mut g = Vec::new();
    walk_leaves(got, |_, p, s| g.push((p.join("."), s.clone())));
    for (i, (wp, ws)) in w.iter().enumerate() {
        match g.get(i) {
            Some((gp, gs)) if gp == wp && eq_scalar(ws, gs) => continue,
            _ => {
                return if wp.is_empty() {
                    "the top level".to_string()
                } else {
                    wp.clone()
                }
            }
        }
    }
    "the document structure".to_string()
}

/// The data a fresh emit must keep: no comments, no nulls, bytes as text.
fn data_only(v: &Value) -> Value {
    match v {
        Value::Map(items) => Value::Map(
            items
                .iter()
                .filter_map(|i| match i {
                    Item::Entry(_, Value::Null) | Item::Comment(_) => None,
                    Item::Entry(k, v) => Some(Item::Entry(k.clone(), data_only(v))),
                })
                .collect(),
        ),
        Value::List(items) => Value::List(
            items
                .iter()
                .filter(|v| !matches!(v, Value::Null | Value::Scalar(Scalar::Comment(_))))
                .map(data_only)
                .collect(),
        ),
        Value::Scalar(Scalar::Raw(b)) | Value::Scalar(Scalar::Bytes(b)) => {
            Value::str(String::from_utf8_lossy(b).into_owned())
        }
        other => other.clone(),
    }
}

/// Metadata compared without regard to key order.
fn canon_meta(v: &Value) -> Value {
    match meta_value(data_only(v)) {
        Value::Map(mut items) => {
            items.sort_by(|a, b| match (a, b) {
                (Item::Entry(x, _), Item::Entry(y, _)) => x.cmp(y),
                _ => std::cmp::Ordering::Equal,
            });
            Value::Map(
                items
                    .into_iter()
                    .map(|i| match i {
                        Item::Entry(k, v) => Item::Entry(k, canon_meta(&v)),
                        c => c,
                    })
                    .collect(),
            )
        }
        Value::List(items) => Value::List(items.iter().map(canon_meta).collect()),
        other => other,
    }
}

fn meta_matches(meta: Option<&Value>, back: Option<&Value>) -> bool {
    match (meta, back) {
        (None, None) => true,
        (Some(m), Some(b)) => eq_tree(&canon_meta(m), &canon_meta(b)),
        _ => false,
    }
}

fn dump_error(what: String) -> Error {
    Error::new(
        Code::ErrorDumpingTree,
        format!("could not write toml: {what}"),
    )
}

// ---------------------------------------------------------------------------------------------
// Rendering

/// A sealed token in the slot's style.
fn seal_form(token: &str, style: Style) -> String {
    let plain = !token.contains(['"', '\'', '\\'])
        && !token.contains(is_bad_control)
        && !token.contains('\n');
    if !plain {
        return basic(token);
    }
    match style {
        Style::Basic => format!("\"{token}\""),
        Style::MlBasic => format!("\"\"\"{token}\"\"\""),
        Style::Literal => format!("'{token}'"),
        Style::LocalDate => format!("'''{token}'''"),
    }
}

/// An opened value in the slot's style, and the scalar it reads back as.
fn open_form(s: &Scalar, style: Style, label: &str) -> Result<(String, Scalar)> {
    if matches!(
        s,
        Scalar::Int(_) | Scalar::Float(_) | Scalar::Bool(_) | Scalar::Time(_)
    ) {
        return Ok((scalar_text(s, label)?, s.clone()));
    }
    let t = string_text(s, label)?;
    let form = match style {
        Style::LocalDate if is_local_datetime(&t) => t.clone(),
        Style::Literal => literal(&t).unwrap_or_else(|| basic(&t)),
        Style::MlBasic => ml_basic(&t),
        _ => basic(&t),
    };
    let reads_back = match parse_value(&form) {
        Some(toml_edit::Value::String(v)) => v.value() == &t,
        Some(toml_edit::Value::Datetime(_)) => style == Style::LocalDate,
        _ => false,
    };
    Ok((if reads_back { form } else { basic(&t) }, Scalar::Str(t)))
}

/// The text of a comment leaf, checked to fit on its line.
fn comment_form(s: &Scalar, label: &str) -> Result<String> {
    let t = string_text(s, label)?;
    if t.contains(is_bad_control) {
        return Err(dump_error(format!(
            "a comment in {label} holds a line break or control character"
        ))
        .hint("TOML comments are single lines"));
    }
    Ok(t)
}

impl Parsed for TomlDoc {
    fn docs(&self) -> &[Value] {
        &self.docs
    }

    fn metadata(&self) -> Option<&Value> {
        self.meta.as_ref()
    }

    fn render(&self, edits: &[Edit], meta: Option<&Value>) -> Result<Vec<u8>> {
        if edits.len() != self.slots.len() {
            return Err(Error::generic(format!(
                "internal error: {} edits for {} toml leaves",
                edits.len(),
                self.slots.len()
            )));
        }
        let mut reps: Vec<(Range<usize>, String)> = Vec::new();
        let mut expected_leaves: Vec<Option<Scalar>> = Vec::with_capacity(edits.len());
        for (slot, edit) in self.slots.iter().zip(edits) {
            let exp = match (slot, edit) {
                (_, Edit::Keep) => None,
                (Slot::Value { span, style, .. }, Edit::Seal(token)) => {
                    reps.push((span.clone(), seal_form(token, *style)));
                    Some(Scalar::Str(token.clone()))
                }
                (Slot::Value { span, style, label }, Edit::Open(s)) => {
                    let (form, exp) = open_form(s, *style, label)?;
                    reps.push((span.clone(), form));
                    Some(exp)
                }
                (Slot::Comment { span, label }, Edit::Seal(token)) => {
                    let t = comment_form(&Scalar::Comment(token.clone()), label)?;
                    reps.push((span.clone(), t.clone()));
                    Some(Scalar::Comment(t))
                }
                (Slot::Comment { span, label }, Edit::Open(s)) => {
                    let t = comment_form(s, label)?;
                    reps.push((span.clone(), t.clone()));
                    Some(Scalar::Comment(t))
                }
            };
            expected_leaves.push(exp);
        }
        for r in &self.meta_ranges {
            reps.push((r.clone(), String::new()));
        }
        let mut out = crate::format::splice(&self.src, &mut reps, "toml")?;
        if let Some(meta) = meta {
            if !out.is_empty() {
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push('\n');
            }
            out.push_str(&meta_toml(meta)?);
        }

        // Check that the result reads back as intended.
        let mut expected = self.docs.clone();
        walk_leaves_mut(&mut expected, |i, _, s| {
            if let Some(Some(e)) = expected_leaves.get(i) {
                *s = e.clone();
            }
        });
        let back = TomlDoc::parse(out.as_bytes()).map_err(|e| dump_error(e.message))?;
        if back.docs.len() != expected.len()
            || !back.docs.iter().zip(&expected).all(|(a, b)| eq_tree(a, b))
        {
            let at = first_difference(&expected, &back.docs);
            return Err(dump_error(format!(
                "the leaf at {at} would not read back the same"
            )));
        }
        if !meta_matches(meta, back.meta.as_ref()) {
            return Err(dump_error(
                "the sops metadata would not read back the same".into(),
            ));
        }
        Ok(out.into_bytes())
    }
}

// ---------------------------------------------------------------------------------------------
// Fresh emission

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Data: entries stay in tree order (later sub-tables become headers, earlier ones inline).
    Preserve,
    /// Metadata: values first, then sub-tables and arrays of tables.
    Reorder,
}

fn is_table_like(v: &Value) -> bool {
    match v {
        Value::Map(_) => true,
        Value::List(xs) => {
            xs.iter().any(|x| matches!(x, Value::Map(_)))
                && xs.iter().all(|x| {
                    matches!(
                        x,
                        Value::Map(_) | Value::Null | Value::Scalar(Scalar::Comment(_))
                    )
                })
        }
        _ => false,
    }
}

fn is_flat_map(v: &Value) -> bool {
    matches!(v, Value::Map(items) if items.iter().all(|i| matches!(i, Item::Comment(_) | Item::Entry(_, Value::Scalar(_) | Value::Null))))
}

fn write_comment(out: &mut String, text: &str, indent: &str) {
    for line in text.split('\n') {
        let clean: String = line.chars().filter(|&c| !is_bad_control(c)).collect();
        out.push_str(indent);
        out.push('#');
        out.push_str(&clean);
        out.push('\n');
    }
}

/// A value written inline (after `key = `, or as an array element).
fn inline_value(v: &Value, in_inline: bool, label: &str) -> Result<String> {
    Ok(match v {
        Value::Scalar(s) => scalar_text(s, label)?,
        Value::Null => "\"\"".into(),
        Value::List(xs) => {
            let has_comments = xs
                .iter()
                .any(|x| matches!(x, Value::Scalar(Scalar::Comment(_))));
            if has_comments && !in_inline {
                let mut o = String::from("[\n");
                for x in xs {
                    match x {
                        Value::Null => {}
                        Value::Scalar(Scalar::Comment(c)) => write_comment(&mut o, c, "  "),
                        x => {
                            o.push_str("  ");
                            o.push_str(&inline_value(x, in_inline, label)?);
                            o.push_str(",\n");
                        }
                    }
                }
                o.push(']');
                o
            } else {
                let parts = xs
                    .iter()
                    .filter(|x| !matches!(x, Value::Null | Value::Scalar(Scalar::Comment(_))))
                    .map(|x| inline_value(x, in_inline, label))
                    .collect::<Result<Vec<_>>>()?;
                format!("[{}]", parts.join(", "))
            }
        }
        Value::Map(items) => {
            let mut parts = Vec::new();
            for i in items {
                if let Item::Entry(k, v) = i {
                    if !matches!(v, Value::Null) {
                        let label = format!("{label}.{k}");
                        parts.push(format!(
                            "{} = {}",
                            key_text(k),
                            inline_value(v, true, &label)?
                        ));
                    }
                }
            }
            if parts.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", parts.join(", "))
            }
        }
    })
}

fn header_path(path: &[String]) -> String {
    path.iter()
        .map(|k| key_text(k))
        .collect::<Vec<_>>()
        .join(".")
}

fn write_table(out: &mut String, path: &mut Vec<String>, items: &[Item], mode: Mode) -> Result<()> {
    let goes_below = |i: &Item| match i {
        Item::Entry(_, v) => match mode {
            Mode::Preserve => is_table_like(v),
            Mode::Reorder => is_table_like(v) && !is_flat_map(v),
        },
        Item::Comment(_) => false,
    };
    // In Preserve mode only the tail of table-like entries can become headers.
    let split = match mode {
        Mode::Preserve => items
            .iter()
            .rposition(|i| {
                matches!(i, Item::Entry(_, v) if !matches!(v, Value::Null)) && !goes_below(i)
            })
            .map_or(0, |p| p + 1),
        Mode::Reorder => items.len(),
    };
    let mut below = Vec::new();
    let mut late_comments = Vec::new();
    for (idx, item) in items.iter().enumerate() {
        let tail = idx >= split;
        match item {
            Item::Comment(c) if tail => late_comments.push(c.to_env_string()),
            Item::Comment(c) => write_comment(out, &c.to_env_string(), ""),
            Item::Entry(_, Value::Null) => {}
            i @ Item::Entry(k, v) => {
                let below_here = match mode {
                    Mode::Preserve => tail,
                    Mode::Reorder => goes_below(i),
                };
                if below_here {
                    below.push((k, v));
                    continue;
                }
                path.push(k.clone());
                let text = inline_value(v, false, &label_of(path))?;
                path.pop();
                out.push_str(&key_text(k));
                out.push_str(" = ");
                out.push_str(&text);
                out.push('\n');
            }
        }
    }
    for c in late_comments {
        write_comment(out, &c, "");
    }
    for (k, v) in below {
        path.push(k.clone());
        match v {
            Value::Map(items) => {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&format!("[{}]\n", header_path(path)));
                write_table(out, path, items, mode)?;
            }
            Value::List(xs) => {
                for x in xs {
                    if let Value::Map(items) = x {
                        if !out.is_empty() {
                            out.push('\n');
                        }
                        out.push_str(&format!("[[{}]]\n", header_path(path)));
                        write_table(out, path, items, mode)?;
                    }
                }
            }
            _ => {}
        }
        path.pop();
    }
    Ok(())
}

/// The `[sops]` table.
fn meta_toml(meta: &Value) -> Result<String> {
    let Value::Map(items) = meta else {
        return Err(dump_error("the sops metadata is not a map".into()));
    };
    let mut out = format!("[{META_KEY}]\n");
    write_table(
        &mut out,
        &mut vec![META_KEY.to_string()],
        items,
        Mode::Reorder,
    )?;
    Ok(out)
}

fn emit(docs: &[Value], meta: Option<&Value>) -> Result<String> {
    let empty = Value::Map(Vec::new());
    let doc = match docs {
        [] => &empty,
        [d] => d,
        _ => {
            return Err(dump_error(format!(
                "{} documents cannot go in one toml file",
                docs.len()
            )))
        }
    };
    let Value::Map(items) = doc else {
        return Err(dump_error(
            "a document that is not a map cannot be written as toml".into(),
        ));
    };
    if items
        .iter()
        .any(|i| matches!(i, Item::Entry(k, _) if k == META_KEY))
    {
        return Err(dump_error(
            "the top-level key sops is reserved for the metadata".into(),
        ));
    }
    let mut out = String::new();
    write_table(&mut out, &mut Vec::new(), items, Mode::Preserve)?;
    if let Some(meta) = meta {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&meta_toml(meta)?);
    }
    let back = TomlDoc::parse(out.as_bytes()).map_err(|e| dump_error(e.message))?;
    let want = data_only(doc);
    let got = back.docs.first().map(data_only).unwrap_or(Value::Null);
    if !eq_tree(&want, &got) {
        let at = first_difference(&[want], &[got]);
        return Err(dump_error(format!(
            "the value at {at} would not read back the same"
        )));
    }
    if !meta_matches(meta, back.meta.as_ref()) {
        return Err(dump_error(
            "the sops metadata would not read back the same".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Box<dyn Parsed> {
        TomlStore.parse(s.as_bytes()).unwrap()
    }

    fn leaves(p: &dyn Parsed) -> Vec<(String, Scalar)> {
        let mut v = Vec::new();
        walk_leaves(p.docs(), |_, path, s| {
            v.push((crate::tree::aad(path), s.clone()))
        });
        v
    }

    /// Leaves with their text visible, for readable assertions.
    fn shown(v: Vec<(String, Scalar)>) -> Vec<(String, &'static str, String)> {
        v.into_iter()
            .map(|(p, s)| {
                (
                    p,
                    s.type_name(),
                    String::from_utf8_lossy(&s.plaintext()).into_owned(),
                )
            })
            .collect()
    }

    fn seal_all(p: &dyn Parsed) -> Vec<Edit> {
        leaves(p)
            .iter()
            .enumerate()
            .map(|(i, (_, s))| {
                if s.is_empty_text() {
                    Edit::Keep
                } else {
                    Edit::Seal(format!(
                        "ENC[AES256_GCM,data:T{i}=,iv:x,tag:y,type:{}]",
                        s.type_name()
                    ))
                }
            })
            .collect()
    }

    fn originals(p: &dyn Parsed) -> Vec<Edit> {
        leaves(p).into_iter().map(|(_, s)| Edit::Open(s)).collect()
    }

    const VECTOR: &str = r#"# Service configuration
title = "example"   # trailing
port = 8080
ratio = 1.50
enabled = true
launched = 1979-05-27T07:32:00Z
birthday = 1979-05-27
alarm = 07:32:00
path = 'C:\Users\app'
quote = "say \"hi\"\tnow"
cert = """
-----BEGIN CERT-----
abc
-----END CERT-----
"""
list = [
  "a", # first
  1,
]
point = { x = 1, y = "two" }
dotted.key = "v"
empty = ""

# database
[database]
password = "hunter2"

[[servers]]
name = "alpha"

[[servers]]
name = "beta"
"#;

    #[test]
    fn maps_to_the_tree() {
        let p = parse(VECTOR);
        let s = |x: &str| Scalar::Str(x.into());
        let c = |x: &str| Scalar::Comment(x.into());
        assert_eq!(
            shown(leaves(p.as_ref())),
            shown(vec![
                (":".into(), c(" Service configuration")),
                ("title:".into(), s("example")),
                (":".into(), c(" trailing")),
                ("port:".into(), Scalar::Int(8080)),
                ("ratio:".into(), Scalar::Float("1.50".into())),
                ("enabled:".into(), Scalar::Bool(true)),
                (
                    "launched:".into(),
                    Scalar::Time("1979-05-27T07:32:00Z".into())
                ),
                ("birthday:".into(), s("1979-05-27")),
                ("alarm:".into(), s("07:32:00")),
                ("path:".into(), s("C:\\Users\\app")),
                ("quote:".into(), s("say \"hi\"\tnow")),
                (
                    "cert:".into(),
                    s("-----BEGIN CERT-----\nabc\n-----END CERT-----\n")
                ),
                ("list:".into(), s("a")),
                ("list:".into(), c(" first")),
                ("list:".into(), Scalar::Int(1)),
                ("point:x:".into(), Scalar::Int(1)),
                ("point:y:".into(), s("two")),
                ("dotted:key:".into(), s("v")),
                ("empty:".into(), s("")),
                (":".into(), c(" database")),
                ("database:password:".into(), s("hunter2")),
                ("servers:name:".into(), s("alpha")),
                ("servers:name:".into(), s("beta")),
            ])
        );
        assert!(p.metadata().is_none());
    }

    #[test]
    fn keep_all_is_lossless() {
        for src in [
            VECTOR,
            "",
            "a = 1",
            "\n\n# only\n",
            "a = [1,2,]\r\n[t]\r\nb = 'x' # c\r\n",
        ] {
            let p = parse(src);
            let edits = vec![Edit::Keep; leaves(p.as_ref()).len()];
            assert_eq!(
                String::from_utf8(p.render(&edits, None).unwrap()).unwrap(),
                src
            );
        }
    }

    fn meta() -> Value {
        Value::Map(vec![
            Item::Entry("shamir_threshold".into(), Value::Scalar(Scalar::Int(1))),
            Item::Entry(
                "age".into(),
                Value::List(vec![Value::Map(vec![
                    Item::Entry("recipient".into(), Value::str("age1abc")),
                    Item::Entry("enc".into(), Value::str("-----BEGIN AGE ENCRYPTED FILE-----\nQUJD\n-----END AGE ENCRYPTED FILE-----\n")),
                ])]),
            ),
            Item::Entry("lastmodified".into(), Value::str("2026-11-29T00:16:37Z")),
            Item::Entry("mac".into(), Value::str("ENC[AES256_GCM,data:M=,iv:x,tag:y,type:str]")),
            Item::Entry("unencrypted_suffix".into(), Value::str("_unencrypted")),
            Item::Entry("mac_only_encrypted".into(), Value::Scalar(Scalar::Bool(true))),
            Item::Entry("version".into(), Value::str("3.11.0")),
        ])
    }

    #[test]
    fn seal_then_open_restores_bytes() {
        let p = parse(VECTOR);
        let seals = seal_all(p.as_ref());
        let enc = String::from_utf8(p.render(&seals, Some(&meta())).unwrap()).unwrap();
        for expect in [
            "#ENC[AES256_GCM,data:T0=,iv:x,tag:y,type:comment]\n",
            "title = \"ENC[AES256_GCM,data:T1=,iv:x,tag:y,type:str]\"   #ENC[AES256_GCM,data:T2=,iv:x,tag:y,type:comment]\n",
            "port = \"ENC[AES256_GCM,data:T3=,iv:x,tag:y,type:int]\"\n",
            "birthday = '''ENC[AES256_GCM,data:T7=,iv:x,tag:y,type:str]'''\n",
            "path = 'ENC[AES256_GCM,data:T9=,iv:x,tag:y,type:str]'\n",
            "cert = \"\"\"ENC[AES256_GCM,data:T11=,iv:x,tag:y,type:str]\"\"\"\n",
            "empty = \"\"\n",
            "\n[sops]\nshamir_threshold = 1\nlastmodified = \"2026-11-29T00:16:37Z\"\n",
            "\n[[sops.age]]\nrecipient = \"age1abc\"\nenc = \"\"\"\n-----BEGIN AGE ENCRYPTED FILE-----\nQUJD\n-----END AGE ENCRYPTED FILE-----\n\"\"\"\n",
        ] {
            assert!(enc.contains(expect), "missing {expect:?} in\n{enc}");
        }
        let q = parse(&enc);
        // The sealed file reads back as the tokens.
        let want: Vec<Scalar> = leaves(p.as_ref())
            .iter()
            .zip(&seals)
            .map(|((_, sc), e)| match e {
                Edit::Seal(t) if sc.is_comment() => Scalar::Comment(t.clone()),
                Edit::Seal(t) => Scalar::Str(t.clone()),
                _ => sc.clone(),
            })
            .collect();
        let got: Vec<Scalar> = leaves(q.as_ref()).into_iter().map(|(_, s)| s).collect();
        assert_eq!(
            shown(got.into_iter().map(|s| (String::new(), s)).collect()),
            shown(want.into_iter().map(|s| (String::new(), s)).collect())
        );
        assert!(meta_matches(q.metadata(), Some(&meta())));
        // Opening with the original values gives back the original bytes.
        let out = String::from_utf8(q.render(&originals(p.as_ref()), None).unwrap()).unwrap();
        assert_eq!(out, VECTOR);
    }

    #[test]
    fn local_date_rule() {
        // A sealed local date comes back bare; the same text in a string stays a string.
        let src = "d = 1979-05-27T07:32:00\nt = 07:32:00.5\ns = \"1979-05-27\"\n";
        let p = parse(src);
        let enc = String::from_utf8(p.render(&seal_all(p.as_ref()), None).unwrap()).unwrap();
        assert_eq!(
            enc,
            "d = '''ENC[AES256_GCM,data:T0=,iv:x,tag:y,type:str]'''\nt = '''ENC[AES256_GCM,data:T1=,iv:x,tag:y,type:str]'''\ns = \"ENC[AES256_GCM,data:T2=,iv:x,tag:y,type:str]\"\n"
        );
        let q = parse(&enc);
        assert_eq!(
            String::from_utf8(q.render(&originals(p.as_ref()), None).unwrap()).unwrap(),
            src
        );
        // A value that is not a date, opened into a date slot, is written as a string.
        let out = q
            .render(
                &[
                    Edit::Open(Scalar::Str("not a date".into())),
                    Edit::Keep,
                    Edit::Keep,
                ],
                None,
            )
            .unwrap();
        assert!(String::from_utf8(out)
            .unwrap()
            .starts_with("d = \"not a date\"\n"));
    }

    #[test]
    fn open_restyles_only_when_needed() {
        let p = parse("a = 'x'\nb = \"\"\"y\"\"\"\nc = 1\n");
        let out = p
            .render(
                &[
                    Edit::Open(Scalar::Str("it's".into())),
                    Edit::Open(Scalar::Str("q\"\"\"q\"".into())),
                    Edit::Open(Scalar::Float("3".into())),
                ],
                None,
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a = \"it's\"\nb = \"\"\"q\"\"\\\"q\\\"\"\"\"\nc = 3.0\n"
        );
    }

    #[test]
    fn metadata_is_read_and_removed() {
        let src = "a = 1 # one\n# tail\n";
        let p = parse(src);
        let enc = p.render(&vec![Edit::Keep; 3], Some(&meta())).unwrap();
        let q = parse(std::str::from_utf8(&enc).unwrap());
        let m = q.metadata().unwrap();
        assert_eq!(
            m.get("shamir_threshold"),
            Some(&Value::Scalar(Scalar::Int(1)))
        );
        assert_eq!(
            m.get("mac_only_encrypted"),
            Some(&Value::Scalar(Scalar::Bool(true)))
        );
        let Some(Value::List(age)) = m.get("age") else {
            panic!("no age")
        };
        assert_eq!(age[0].get("recipient"), Some(&Value::str("age1abc")));
        // The tail comment stays a data leaf, and decrypting removes exactly what was added.
        assert_eq!(leaves(q.as_ref()).len(), 3);
        assert_eq!(leaves(q.as_ref())[2].0, ":");
        assert_eq!(
            q.render(&vec![Edit::Keep; 3], None).unwrap(),
            src.as_bytes()
        );
        // Replacing the metadata replaces the whole block.
        let again = q.render(&vec![Edit::Keep; 3], Some(&meta())).unwrap();
        assert_eq!(again, enc);
    }

    #[test]
    fn errors() {
        let e = TomlStore.parse(b"a = 1\nb = = secret\n").err().unwrap();
        assert_eq!(e.code, Code::CouldNotReadInputFile);
        assert!(e.message.contains("line 2"), "{}", e.message);
        assert!(!e.message.contains("secret"));
        let p = parse("# c\n");
        let e = p
            .render(
                &[Edit::Open(Scalar::Comment("two\nlines secret".into()))],
                None,
            )
            .err()
            .unwrap();
        assert_eq!(e.code, Code::ErrorDumpingTree);
        assert!(!e.message.contains("secret"));
        let p = parse("a = 1\n");
        let e = p
            .render(&[Edit::Open(Scalar::Raw(vec![0xff, 0x00]))], None)
            .err()
            .unwrap();
        assert_eq!(e.code, Code::ErrorDumpingTree);
        assert!(e.message.contains('a'));
    }

    #[test]
    fn emit_layout_keeps_order() {
        let doc = Value::Map(vec![
            Item::Comment(Scalar::Comment(" top".into())),
            Item::Entry(
                "inner".into(),
                Value::Map(vec![Item::Entry("k".into(), Value::str("v"))]),
            ),
            Item::Entry("n".into(), Value::Scalar(Scalar::Int(1))),
            Item::Entry("multi".into(), Value::str("a\nb")),
            Item::Entry("f".into(), Value::Scalar(Scalar::Float("2".into()))),
            Item::Entry("nothing".into(), Value::Null),
            Item::Entry(
                "l".into(),
                Value::List(vec![
                    Value::str("x"),
                    Value::Scalar(Scalar::Comment(" c".into())),
                    Value::Null,
                ]),
            ),
            Item::Entry(
                "sect".into(),
                Value::Map(vec![
                    Item::Entry(
                        "with space".into(),
                        Value::Scalar(Scalar::Time("2024-01-01T00:00:00Z".into())),
                    ),
                    Item::Comment(Scalar::Comment(" in sect".into())),
                ]),
            ),
            Item::Entry(
                "arr".into(),
                Value::List(vec![
                    Value::Map(vec![Item::Entry(
                        "a".into(),
                        Value::Scalar(Scalar::Bool(true)),
                    )]),
                    Value::Map(vec![]),
                ]),
            ),
        ]);
        let out = String::from_utf8(
            TomlStore
                .emit(std::slice::from_ref(&doc), None, &EmitOptions::default())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            out,
            "# top\ninner = { k = \"v\" }\nn = 1\nmulti = \"\"\"\na\nb\"\"\"\nf = 2.0\nl = [\n  \"x\",\n  # c\n]\n\n[sect]\n\"with space\" = 2024-01-01T00:00:00Z\n# in sect\n\n[[arr]]\na = true\n\n[[arr]]\n"
        );
        // Leaf order survives, so a MAC over it does too.
        let p = parse(&out);
        let mut want = Vec::new();
        walk_leaves(&[data_only(&doc)], |_, path, s| {
            want.push((path.join(":"), s.type_name()))
        });
        let mut got = Vec::new();
        walk_leaves(&[data_only(&p.docs()[0])], |_, path, s| {
            got.push((path.join(":"), s.type_name()))
        });
        assert_eq!(got, want);
    }

    #[test]
    fn emit_errors_are_code_4() {
        let o = EmitOptions::default();
        assert_eq!(
            TomlStore
                .emit(&[Value::List(vec![])], None, &o)
                .err()
                .unwrap()
                .code,
            Code::ErrorDumpingTree
        );
        let reserved = Value::Map(vec![Item::Entry("sops".into(), Value::str("x"))]);
        assert_eq!(
            TomlStore.emit(&[reserved], None, &o).err().unwrap().code,
            Code::ErrorDumpingTree
        );
        let raw = Value::Map(vec![Item::Entry(
            "k".into(),
            Value::Scalar(Scalar::Raw(vec![0xff])),
        )]);
        assert_eq!(
            TomlStore.emit(&[raw], None, &o).err().unwrap().code,
            Code::ErrorDumpingTree
        );
    }

    #[test]
    fn emit_with_meta_reads_back() {
        let doc = Value::Map(vec![Item::Entry("a".into(), Value::str("ENC[x]"))]);
        let out = TomlStore
            .emit(
                std::slice::from_ref(&doc),
                Some(&meta()),
                &EmitOptions::default(),
            )
            .unwrap();
        let p = parse(std::str::from_utf8(&out).unwrap());
        assert!(meta_matches(p.metadata(), Some(&meta())));
        assert_eq!(leaves(p.as_ref()).len(), 1);
    }

    #[test]
    fn comment_placement_in_nested_containers() {
        let src =
            "a = [ [1, # c\n 2], # d\n  { x = 1 }, # e\n]\n[t]\nd.e = 1 # x\n# between\nd.f = 2\n";
        let p = parse(src);
        let c = |x: &str| Scalar::Comment(x.into());
        assert_eq!(
            shown(leaves(p.as_ref())),
            shown(vec![
                ("a:".into(), Scalar::Int(1)),
                ("a:".into(), c(" c")),
                ("a:".into(), Scalar::Int(2)),
                ("a:".into(), c(" d")),
                ("a:x:".into(), Scalar::Int(1)),
                ("a:".into(), c(" e")),
                ("t:d:e:".into(), Scalar::Int(1)),
                ("t:d:f:".into(), Scalar::Int(2)),
                ("t:".into(), c(" x")),
                ("t:".into(), c(" between")),
            ])
        );
        let enc = p.render(&seal_all(p.as_ref()), None).unwrap();
        let q = parse(std::str::from_utf8(&enc).unwrap());
        assert_eq!(
            q.render(&originals(p.as_ref()), None).unwrap(),
            src.as_bytes()
        );
    }

    #[test]
    fn sops_table_in_the_middle_is_removed_with_its_comments() {
        let src =
            "x = 1\n[sops]\n# in sops\nmac = \"m\"\n[[sops.age]]\nrecipient = \"r\"\n[z]\n# z\n";
        let p = parse(src);
        assert_eq!(leaves(p.as_ref()).len(), 2);
        assert_eq!(p.metadata().unwrap().get("mac"), Some(&Value::str("m")));
        assert_eq!(
            p.render(&[Edit::Keep, Edit::Keep], None).unwrap(),
            b"x = 1\n[z]\n# z\n"
        );
    }
}
