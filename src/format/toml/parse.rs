//! Reading a TOML file into the tree: toml_edit gives the values and their spans, a small
//! lexer finds the comments, and [`Builder`] places each comment in its container by position.
//! Also finds the metadata's text, which rendering removes. Never puts a value into an error.

use super::META_KEY;
use std::collections::HashMap;
use std::ops::Range;

use toml_edit::{Datetime, Document, InlineTable, Table};

use super::syntax::Style;
use crate::error::Result;
use crate::format::dotenv::utf8_source;
use crate::format::input_error;
use crate::tree::{format_time_go, parse_go_float, Item, Scalar, Value};

/// Where a leaf sits in the source.
#[derive(Clone, Debug)]
pub(super) enum Slot {
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
    pub(super) src: String,
    pub(super) docs: Vec<Value>,
    pub(super) meta: Option<Value>,
    pub(super) slots: Vec<Slot>,
    /// Byte ranges of the metadata, removed on render.
    pub(super) meta_ranges: Vec<Range<usize>>,
}

/// A comment found by the lexer: the position of its `#` and the span of its text.
#[derive(Clone, Debug)]
pub(super) struct Comment {
    pos: usize,
    span: Range<usize>,
}

/// Find every comment outside strings.
pub(super) fn lex_comments(text: &str) -> Vec<Comment> {
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
pub(super) struct Builder<'a> {
    text: &'a str,
    /// Comments by container: `(true, start)` for an array or inline table starting at
    /// `start`, `(false, line start)` for the header table whose header line starts there, and
    /// `(false, usize::MAX)` for the root table.
    by_container: HashMap<(bool, usize), Vec<Comment>>,
}

pub(super) const ROOT: (bool, usize) = (false, usize::MAX);

pub(super) fn line_start(text: &str, pos: usize) -> usize {
    text[..pos.min(text.len())].rfind('\n').map_or(0, |i| i + 1)
}

pub(super) fn line_next(text: &str, pos: usize) -> usize {
    text[pos.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |i| pos + i + 1)
}

/// A header table: one written as `[name]` or `[[name]]`.
pub(super) fn is_header(t: &Table) -> bool {
    !t.is_implicit() && !t.is_dotted() && t.span().is_some()
}

/// Every header (line start, key path) and every array or inline table span, in the source.
pub(super) fn collect_containers(
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

pub(super) fn collect_value_containers(v: &toml_edit::Value, values: &mut Vec<Range<usize>>) {
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
pub(super) struct Part {
    pos: usize,
    item: PartItem,
    slots: Vec<Slot>,
}

pub(super) enum PartItem {
    Entry(String, Value),
    Element(Value),
    Comment(Scalar),
}

/// Insert comments among parts: each before the first part (in order) that starts after it.
pub(super) fn merge_comments(
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
pub(super) fn finish_map(parts: Vec<Part>) -> (Value, Vec<Slot>) {
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

pub(super) fn label_of(path: &[String]) -> String {
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
pub(super) fn offset_time(d: &Datetime) -> Option<String> {
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
pub(super) fn meta_value(v: Value) -> Value {
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
    pub(super) fn parse(src: &[u8]) -> Result<TomlDoc> {
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
pub(super) fn root_kv_lines(
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
