//! JSON files, edited losslessly: sops's JSON store without sops's re-emission.
//!
//! sops decodes a JSON file and writes it back from scratch, so every encryption reformats the
//! file. This module instead keeps the source bytes and the byte span of every leaf
//! (the `parse` submodule); rendering replaces exactly those spans with `ENC[…]` tokens or
//! opened values and appends, replaces or removes the top-level `"sops"` member in the file's
//! own layout (tab, N spaces, compact, CRLF). Key order, whitespace, duplicate keys and number
//! text (a 30-digit integer, `1.50`) stay byte-for-byte. Fresh documents (format conversion,
//! `--extract`) are written like Go's `encoding/json` + `json.Indent`, as sops writes them.
//!
//! Every rendered or emitted file is re-read by serde_json — an independent parser — and
//! compared with what was meant (the `check` submodule); a mismatch is an error, never a written file.
//! This module must not quote values in errors, must not panic on any input, and must stay
//! linear in the file size (output is built by copying the gaps between sorted spans).

mod check;
mod parse;
mod write;

pub use parse::MAX_DEPTH;
pub use write::{escape as go_json_string, go_json_float};

use crate::error::{Code, Error, Result};
use crate::format::{Edit, EmitOptions, Format, Parsed, Store};
use crate::tree::{walk_leaves, Item, Scalar, Value};

use check::Want;
use parse::Member;
use write::{go_style, Style, Writer};

/// The JSON store.
#[derive(Default)]
pub struct JsonStore;

impl Store for JsonStore {
    fn format(&self) -> Format {
        Format::Json
    }

    fn parse(&self, src: &[u8]) -> Result<Box<dyn Parsed>> {
        Ok(Box::new(JsonDoc::parse(src)?))
    }

    fn emit(&self, docs: &[Value], meta: Option<&Value>, opts: &EmitOptions) -> Result<Vec<u8>> {
        emit(docs.first(), meta, opts)
    }

    /// sops's `--extract` for JSON: strings raw, maps as full documents (final newline), lists
    /// and other scalars as Go's indented JSON without a final newline (`3`, `[\n\t1\n]`).
    fn emit_value(&self, v: &Value, opts: &EmitOptions) -> Result<Vec<u8>> {
        match v {
            Value::Scalar(Scalar::Str(s)) => Ok(s.clone().into_bytes()),
            Value::Scalar(Scalar::Raw(b)) | Value::Scalar(Scalar::Bytes(b)) => Ok(b.clone()),
            Value::Map(_) => emit(Some(v), None, opts),
            other => {
                let unit = indent_unit(opts);
                let mut w = Writer::new(go_style(&unit), 64);
                w.value(other, 0)?;
                check::verify_value(&w.out, other)?;
                Ok(w.out)
            }
        }
    }
}

fn indent_unit(opts: &EmitOptions) -> String {
    match opts.indent {
        None => "\t".to_string(),
        Some(n) => " ".repeat(n),
    }
}

/// Write `doc` (with `meta` as a last `"sops"` member) as sops does: Go's `json.Indent` layout
/// and a final newline. `None` writes an empty object.
pub(crate) fn emit(
    doc: Option<&Value>,
    meta: Option<&Value>,
    opts: &EmitOptions,
) -> Result<Vec<u8>> {
    let unit = indent_unit(opts);
    let mut w = Writer::new(go_style(&unit), 4096);
    let empty = Value::Map(Vec::new());
    let doc = doc.unwrap_or(&empty);
    let extra = meta.map(|m| ("sops", m));
    match doc {
        Value::Map(items) => w.object(items, extra, 0)?,
        _ if meta.is_some() => {
            return Err(Error::new(
                Code::ErrorDumpingTree,
                "cannot add sops metadata to a JSON document whose top level is not an object",
            )
            .hint("JSON files sops can read must have an object at the top level"))
        }
        other => w.value(other, 0)?,
    }
    let mut out = w.out;
    out.push(b'\n');
    match doc {
        Value::Map(_) => {
            let wants = check::wants_of(doc);
            check::verify(&out, doc, &wants, meta)?;
        }
        other => check::verify_value(&out, other)?,
    }
    Ok(out)
}

/// A parsed JSON file: the source, its tree, and the spans needed to edit it in place.
pub struct JsonDoc {
    src: Vec<u8>,
    docs: Vec<Value>,
    meta: Option<Value>,
    leaves: Vec<(usize, usize)>,
    open: usize,
    close: usize,
    members: Vec<Member>,
}

/// The layout the file uses for its top-level object.
struct Layout {
    newline: Option<&'static str>,
    unit: String,
    colon: String,
    after_comma: String,
}

impl Layout {
    fn style(&self) -> Style<'_> {
        Style {
            newline: self.newline,
            unit: &self.unit,
            colon: &self.colon,
            after_comma: &self.after_comma,
        }
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl JsonDoc {
    /// Parse a JSON file whose top level is an object (docs/sops-format.md §7.2).
    pub fn parse(src: &[u8]) -> Result<JsonDoc> {
        let p = parse::parse(src)?;
        Ok(JsonDoc {
            src: src.to_vec(),
            docs: vec![p.doc],
            meta: p.meta,
            leaves: p.leaves,
            open: p.open,
            close: p.close,
            members: p.members,
        })
    }

    /// The file's own layout, read from the whitespace around its last top-level member; an
    /// object without members gets sops's layout (tab indentation).
    fn layout(&self) -> Layout {
        let src = &self.src;
        let crlf = |s: &[u8]| s.windows(2).any(|w| w == b"\r\n");
        let Some(m) = self.members.last() else {
            let inner = src.get(self.open + 1..self.close).unwrap_or_default();
            let newline = if crlf(inner) { "\r\n" } else { "\n" };
            return Layout {
                newline: Some(newline),
                unit: "\t".into(),
                colon: ": ".into(),
                after_comma: String::new(),
            };
        };
        let mut ws_start = m.key_start;
        while ws_start > 0 && is_ws(src[ws_start - 1]) {
            ws_start -= 1;
        }
        let ws = &src[ws_start..m.key_start];
        // Between the key's closing quote and the value: whitespace, ':', whitespace.
        let mut key_end = m.value_start;
        while key_end > m.key_start && src[key_end - 1] != b'"' {
            key_end -= 1;
        }
        let colon_text = src.get(key_end..m.value_start).unwrap_or_default();
        let colon = if colon_text.contains(&b'\n') || colon_text.contains(&b'\r') {
            ": ".to_string()
        } else {
            String::from_utf8_lossy(colon_text).into_owned()
        };
        let blanks = |s: &[u8]| {
            s.iter()
                .filter(|&&b| b == b' ' || b == b'\t')
                .map(|&b| b as char)
                .collect::<String>()
        };
        match ws.iter().rposition(|&b| b == b'\n') {
            Some(nl) => Layout {
                newline: Some(if crlf(ws) { "\r\n" } else { "\n" }),
                unit: blanks(&ws[nl + 1..]),
                colon,
                after_comma: String::new(),
            },
            None => Layout {
                newline: None,
                unit: String::new(),
                colon,
                after_comma: blanks(ws),
            },
        }
    }

    /// The splices that remove the `sops` members and, with `meta`, add the new one last.
    fn meta_splices(&self, meta: Option<&Value>) -> Result<Vec<(usize, usize, Vec<u8>)>> {
        let ms = &self.members;
        let mut splices = Vec::new();
        let last_kept = ms.iter().rposition(|m| !m.is_sops);
        let layout = self.layout();
        let mut w = Writer::new(layout.style(), 1024);
        let Some(last_kept) = last_kept else {
            // No data members: rewrite the object's interior.
            if ms.is_empty() && meta.is_none() {
                return Ok(splices);
            }
            if let Some(m) = meta {
                w.member("sops", m, 1)?;
                if let Some(nl) = layout.newline {
                    w.out.extend_from_slice(nl.as_bytes());
                }
            }
            splices.push((self.open + 1, self.close, w.out));
            return Ok(splices);
        };
        for (i, m) in ms.iter().enumerate() {
            if !m.is_sops {
                continue;
            }
            if ms[..i].iter().any(|p| !p.is_sops) {
                // Remove the separator before it and the member: `, "sops": {…}`.
                splices.push((ms[i - 1].value_end, m.value_end, Vec::new()));
            } else {
                // Leading member: remove it and the separator after it.
                let next = ms.get(i + 1).map_or(m.value_end, |n| n.key_start);
                splices.push((m.key_start, next, Vec::new()));
            }
        }
        if let Some(m) = meta {
            w.style.comma_into(&mut w.out);
            w.member("sops", m, 1)?;
            let at = ms[last_kept].value_end;
            splices.push((at, at, w.out));
        }
        splices.sort_by_key(|&(s, e, _)| (s, e));
        Ok(splices)
    }

    fn leaf_path(&self, index: usize) -> Vec<String> {
        let mut path = Vec::new();
        walk_leaves(&self.docs, |i, p, _| {
            if i == index {
                path = p.to_vec();
            }
        });
        path
    }

    fn render_json(&self, edits: &[Edit], meta: Option<&Value>) -> Result<Vec<u8>> {
        crate::format::one_edit_per_leaf(edits, self.leaves.len(), "JSON")?;
        let originals = leaves_in_walk_order(&self.docs, self.leaves.len());
        let splices = self.meta_splices(meta)?;
        let src = &self.src;
        // Room for the source, the metadata and (roughly) the tokens' growth over the values.
        let changed = edits.iter().filter(|e| !matches!(e, Edit::Keep)).count();
        let mut out = Vec::with_capacity(
            src.len() + splices.iter().map(|s| s.2.len()).sum::<usize>() + changed * 96,
        );
        let mut wants = Vec::with_capacity(edits.len());
        let mut cursor = 0usize;
        let mut pending = splices.iter().peekable();
        let overlap = || Error::generic("internal error: overlapping JSON edits");
        for (i, edit) in edits.iter().enumerate() {
            let orig = originals.get(i).copied().ok_or_else(overlap)?;
            if let Edit::Keep = edit {
                wants.push(Want::of(orig));
                continue;
            }
            let (start, end) = self.leaves[i];
            while let Some((s, e, text)) = pending.next_if(|sp| sp.0 < start) {
                out.extend_from_slice(src.get(cursor..*s).ok_or_else(overlap)?);
                out.extend_from_slice(text);
                cursor = *e;
            }
            out.extend_from_slice(src.get(cursor..start).ok_or_else(overlap)?);
            match edit {
                Edit::Seal(token) => {
                    write::escape_into(&mut out, token);
                    wants.push(Want::Str(token.as_str().into()));
                }
                Edit::Open(s) => {
                    write::scalar_into(&mut out, s).map_err(|_| {
                        let path = self.leaf_path(i);
                        write::not_representable(
                            &path.iter().map(String::as_str).collect::<Vec<_>>(),
                        )
                    })?;
                    wants.push(Want::of(s));
                }
                Edit::Keep => {}
            }
            cursor = end;
        }
        for (s, e, text) in pending {
            out.extend_from_slice(src.get(cursor..*s).ok_or_else(overlap)?);
            out.extend_from_slice(text);
            cursor = *e;
        }
        out.extend_from_slice(src.get(cursor..).ok_or_else(overlap)?);
        if meta.is_none() && !out.ends_with(b"\n") && !out.ends_with(b"\r") {
            // Plaintext ends with a line break, as sops writes it, even when the file had none.
            let nl = self.layout().newline.unwrap_or("\n");
            out.extend_from_slice(nl.as_bytes());
        }
        check::verify(&out, &self.docs[0], &wants, meta)?;
        Ok(out)
    }
}

/// The leaves of `docs` in [`walk_leaves`] order, without building key paths.
fn leaves_in_walk_order(docs: &[Value], capacity: usize) -> Vec<&Scalar> {
    fn go<'a>(v: &'a Value, out: &mut Vec<&'a Scalar>) {
        match v {
            Value::Null => {}
            Value::Scalar(s) => out.push(s),
            Value::List(items) => items.iter().for_each(|i| go(i, out)),
            Value::Map(items) => items.iter().for_each(|i| match i {
                Item::Comment(c) => out.push(c),
                Item::Entry(_, v) => go(v, out),
            }),
        }
    }
    let mut out = Vec::with_capacity(capacity);
    docs.iter().for_each(|d| go(d, &mut out));
    out
}

impl Parsed for JsonDoc {
    fn docs(&self) -> &[Value] {
        &self.docs
    }

    fn metadata(&self) -> Option<&Value> {
        self.meta.as_ref()
    }

    fn render(&self, edits: &[Edit], meta: Option<&Value>) -> Result<Vec<u8>> {
        self.render_json(edits, meta)
    }
}

#[cfg(test)]
mod tests;
