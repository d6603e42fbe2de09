//! INI files, read as sops 3.11 reads them (go-ini v1.67, spec 1.7, 3.5, 7.4), written
//! losslessly.
//!
//! The tree is section → key → string. Keys before the first header belong to `DEFAULT`, which
//! is always the first section of the tree (go-ini creates it first); duplicate sections stay
//! separate. Values follow go-ini's rules exactly: `=` or `:` ends the key, an unquoted `;` or
//! `#` starts an inline comment, surrounding `"…"`/`'…'` are stripped, `` `…` `` and `"""…"""`
//! quote (and may span lines), a trailing `\` continues the value on the next line.
//!
//! Comments follow go-ini too: every comment line since the previous key or header, plus the
//! inline comment of the key or header line, form **one** comment (a block), which sops stores
//! as an item *after* the key it belongs to (or first in the section, for the header's block)
//! and decrypts as one `; ENC[…]` line. A block at the end of the file, which go-ini drops, is
//! kept here as the last item of the last section; a block just above `[sops]` joins the block
//! of the next header (where it lands once `[sops]` is removed), or else the end of the file.
//!
//! The `[sops]` section holds the flattened metadata ([`super::flatten`]) in any key order,
//! with `\n` escapes or `"""…"""` values. It is not part of the tree and is written last.
//!
//! Rendering replaces only the spans of sealed or opened values and comment blocks, keeping
//! quotes, alignment and every other byte; a block seals to one `; ENC[…]` line in place of its
//! first line (keeping that line's marker and spacing). **Round trip rule:** decrypting a file
//! veil encrypted gives back its exact bytes when it is empty or ends with a line break, has no
//! `[sops]` section, and: no section header carries an inline comment (it comes back on its own
//! line above the header, as sops writes it); no comment block mixes comment lines with a key's
//! inline comment (the inline part comes back last above the key); no value is continued with
//! `\` (it comes back on one line); multi-line values use `"""`, with exactly one space
//! before any comment after their closing quotes; the last line of a comment block has no
//! trailing blanks. Quoted values keep their quotes whenever the value can be read back inside
//! them. This module must never put a value into an error.

use std::collections::HashSet;
use std::ops::Range;

use crate::error::{Code, Error, Result};
use crate::format::dotenv::utf8_source;
use crate::format::flatten::{decode_newlines, encode_newlines, flatten, unflatten};
use crate::format::{input_error, Edit, EmitOptions, Format, Parsed, Store};
use crate::tree::{walk_leaves, walk_leaves_mut, Item, Scalar, Value};

/// The section go-ini gives keys that come before any header.
const DEFAULT_SECTION: &str = "DEFAULT";
/// The section that holds sops's metadata.
const META_SECTION: &str = "sops";

pub struct IniStore;

impl Store for IniStore {
    fn format(&self) -> Format {
        Format::Ini
    }

    fn parse(&self, src: &[u8]) -> Result<Box<dyn Parsed>> {
        Ok(Box::new(IniDoc::parse(src)?))
    }

    fn emit(&self, docs: &[Value], meta: Option<&Value>, _opts: &EmitOptions) -> Result<Vec<u8>> {
        emit(docs, meta).map(String::into_bytes)
    }

    /// A string is written raw; other scalars as text; a section's map as `key = value` lines.
    fn emit_value(&self, v: &Value, opts: &EmitOptions) -> Result<Vec<u8>> {
        match v {
            Value::Scalar(Scalar::Str(s)) => Ok(s.clone().into_bytes()),
            Value::Scalar(Scalar::Raw(b)) | Value::Scalar(Scalar::Bytes(b)) => Ok(b.clone()),
            Value::Scalar(s) => Ok(s.to_env_string().into_bytes()),
            Value::Map(items)
                if items.iter().all(|i| {
                    matches!(
                        i,
                        Item::Comment(_) | Item::Entry(_, Value::Scalar(_) | Value::Null)
                    )
                }) =>
            {
                let doc = Value::Map(vec![Item::Entry(DEFAULT_SECTION.into(), v.clone())]);
                self.emit(&[doc], None, opts)
            }
            _ => self.emit(std::slice::from_ref(v), None, opts),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// One line of the source: `start..end` without its `\n`; `next` is where the next line starts.
#[derive(Clone, Copy, Debug)]
struct Line {
    start: usize,
    end: usize,
    next: usize,
}

impl Line {
    fn has_newline(&self) -> bool {
        self.next > self.end
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum PieceKind {
    /// A whole comment line.
    Line,
    /// A comment after a value, a header, or a multi-line value's closing quote.
    Inline,
}

/// One comment of a block, with the spans rendering needs.
#[derive(Clone, Debug)]
struct Piece {
    kind: PieceKind,
    /// The comment text after its marker run (`; `, `# `), trailing whitespace excluded.
    text: Range<usize>,
    /// What to delete when the block collapses to one line: the whole line for a `Line`
    /// piece, the comment and the blanks before it for an `Inline` one.
    extent: Range<usize>,
    /// Start of the line that owns an inline comment (the key or header line).
    owner_line_start: usize,
    /// An inline comment that cannot be rewritten in place: the one on a header line, since
    /// go-ini ends a section name at the last `]` of its line and a token holds one.
    relocate: bool,
    /// What this piece adds to go-ini's joined comment.
    raw: String,
}

#[derive(Clone, Debug)]
struct ValueSlot {
    /// The value text inside any quotes.
    span: Range<usize>,
    /// The value text including its quotes.
    outer: Range<usize>,
    /// Start of the key line and end (after `\n`) of the line where the value ends.
    line_start: usize,
    line_next: usize,
    /// What a sealed token replaces: the value inside its quotes, or for a value over several
    /// lines the whole of it with its quotes, so that a comment after it is still read.
    seal: Range<usize>,
    seal_space: bool,
    /// `section:key`, for error messages.
    label: String,
}

#[derive(Clone, Debug)]
enum Slot {
    Value(ValueSlot),
    Comment(Vec<Piece>),
}

struct Section {
    name: String,
    meta: bool,
    items: Vec<Item>,
    slots: Vec<Slot>,
    keys: HashSet<String>,
    /// Start of the header line (none for the implicit DEFAULT section).
    header_line: Option<usize>,
    /// End (after `\n`) of the last line holding this section's header or keys.
    body_end: usize,
    /// go-ini's counter for `-` keys.
    auto: usize,
}

impl Section {
    fn new(name: String, header_line: Option<usize>, body_end: usize) -> Section {
        Section {
            meta: name == META_SECTION,
            name,
            items: Vec::new(),
            slots: Vec::new(),
            keys: HashSet::new(),
            header_line,
            body_end,
            auto: 1,
        }
    }
}

/// A parsed INI file.
pub struct IniDoc {
    src: String,
    docs: Vec<Value>,
    meta: Option<Value>,
    /// One slot per leaf, in [`walk_leaves`] order.
    slots: Vec<Slot>,
    /// Byte ranges of the `[sops]` sections, removed on render.
    meta_ranges: Vec<Range<usize>>,
}

fn is_marker(c: char) -> bool {
    c == '#' || c == ';'
}

/// Go's `strings.TrimLeft(s, "; ")` or `"# "`, chosen by the first character, as sops's
/// `stripCommentChar` does. Returns the number of bytes removed.
fn marker_run(s: &str) -> usize {
    let cut: &[char] = match s.chars().next() {
        Some(';') => &[';', ' '],
        Some('#') => &['#', ' '],
        _ => return 0,
    };
    s.len() - s.trim_start_matches(cut).len()
}

/// sops's comment text for a go-ini comment string.
fn block_text(pieces: &[Piece]) -> String {
    let joined: String = pieces.iter().map(|p| p.raw.as_str()).collect();
    let t = joined.trim();
    t[marker_run(t)..].to_string()
}

/// go-ini's `hasSurroundedQuote`.
fn has_surrounded_quote(s: &str, q: char) -> bool {
    s.len() >= 2 && s.starts_with(q) && s.ends_with(q) && s[1..].find(q) == Some(s.len() - 2)
}

struct Parser<'a> {
    text: &'a str,
    lines: Vec<Line>,
    consumed: Vec<bool>,
}

fn err_at(line: usize, what: &str) -> Error {
    input_error(format!("invalid ini input at line {}: {what}", line + 1))
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        let mut lines = Vec::new();
        let mut start = 0;
        // go-ini skips a UTF-8 byte order mark.
        if text.starts_with('\u{feff}') {
            start = '\u{feff}'.len_utf8();
        }
        loop {
            match text[start..].find('\n') {
                Some(i) => {
                    lines.push(Line {
                        start,
                        end: start + i,
                        next: start + i + 1,
                    });
                    start += i + 1;
                }
                None => {
                    lines.push(Line {
                        start,
                        end: text.len(),
                        next: text.len(),
                    });
                    break;
                }
            }
        }
        let consumed = vec![false; lines.len()];
        Parser {
            text,
            lines,
            consumed,
        }
    }

    /// The line as go-ini reads it: including its `\n`.
    fn raw(&self, li: usize) -> &'a str {
        let l = self.lines[li];
        &self.text[l.start..l.next]
    }

    fn comment_line_piece(&self, li: usize) -> Piece {
        let l = self.lines[li];
        let raw = self.raw(li);
        let lt = raw.trim_start();
        let base = l.start + (raw.len() - lt.len());
        let content_end = l.start + self.text[l.start..l.end].trim_end().len();
        let text_start = (base + marker_run(lt)).min(content_end);
        Piece {
            kind: PieceKind::Line,
            text: text_start..content_end,
            extent: l.start..l.next,
            owner_line_start: l.start,
            relocate: false,
            raw: lt.to_string(),
        }
    }

    /// An inline comment whose marker is at `m` and whose text runs to `end` (already
    /// trimmed); blanks before the marker, down to `floor`, are part of its extent.
    fn inline_piece(&self, m: usize, end: usize, floor: usize, owner: usize, raw: String) -> Piece {
        let end = end.max(m);
        let s = &self.text[m..end];
        let text_start = (m + marker_run(s)).min(end);
        let before = &self.text[floor..m];
        let ws = floor + before.trim_end_matches([' ', '\t']).len();
        Piece {
            kind: PieceKind::Inline,
            text: text_start..end,
            extent: ws..end,
            owner_line_start: owner,
            relocate: false,
            raw,
        }
    }

    fn parse(mut self) -> Result<IniDoc> {
        let text = self.text;
        let mut sections = vec![Section::new(DEFAULT_SECTION.to_string(), None, 0)];
        let mut cur = 0usize; // current section
        let mut last_data = 0usize; // last non-metadata section
        let mut pending: Vec<Piece> = Vec::new();
        // Comments above a [sops] section, which removing the section joins to what follows.
        let mut carried: Vec<Piece> = Vec::new();
        let mut li = 0usize;
        while li < self.lines.len() {
            let line = self.lines[li];
            let raw = self.raw(li);
            let lt = raw.trim_start();
            let base = line.start + (raw.len() - lt.len());
            if lt.is_empty() {
                li += 1;
                continue;
            }
            if lt.starts_with(is_marker) {
                pending.push(self.comment_line_piece(li));
                li += 1;
                continue;
            }
            if lt.starts_with('[') {
                let Some(close) = lt.rfind(']') else {
                    return Err(err_at(li, "unclosed section header"));
                };
                let name = &lt[1..close];
                if name.is_empty() {
                    return Err(err_at(li, "empty section name"));
                }
                let mut sec = Section::new(name.to_string(), Some(line.start), line.next);
                let after = &lt[close + 1..];
                if let (Some(ci), false) = (after.find(is_marker), sec.meta) {
                    let m = base + close + 1 + ci;
                    let end = line.start + text[line.start..line.end].trim_end().len();
                    let owner = line.start;
                    let mut p =
                        self.inline_piece(m, end, base + close + 1, owner, after[ci..].to_string());
                    // go-ini ends the name at the last ']' of the line, and a token has one.
                    p.relocate = true;
                    pending.push(p);
                }
                if sec.meta {
                    carried.append(&mut pending);
                } else if !pending.is_empty() || !carried.is_empty() {
                    let mut block = std::mem::take(&mut carried);
                    block.append(&mut pending);
                    sec.items
                        .push(Item::Comment(Scalar::Comment(block_text(&block))));
                    sec.slots.push(Slot::Comment(block));
                }
                sections.push(sec);
                cur = sections.len() - 1;
                if !sections[cur].meta {
                    last_data = cur;
                }
                li += 1;
                continue;
            }

            // A key line.
            let (key, offset) = read_key_name(lt).map_err(|what| err_at(li, what))?;
            let key = if key == "-" {
                let n = sections[cur].auto;
                sections[cur].auto += 1;
                format!("#{n}")
            } else {
                key
            };
            if key.is_empty() {
                return Err(err_at(li, "empty key name"));
            }
            let key_li = li;
            let rv = self.read_value(li, base + offset)?;
            let end_li = rv.end_li;
            li = rv.resume_li + 1;
            let sec = &mut sections[cur];
            sec.body_end = self.lines[end_li].next;
            let mut block = std::mem::take(&mut pending);
            block.extend(rv.inline);
            let value = rv.value;
            if sec.meta {
                sec.items.push(Item::Entry(key, Value::str(value)));
                continue;
            }
            if !sec.keys.insert(key.clone()) {
                return Err(err_at(
                    key_li,
                    &format!("duplicate key {key} in section {}", sec.name),
                )
                .hint("sops would keep only the last value; remove the duplicate line"));
            }
            let label = format!("{}:{}", sec.name, key);
            sec.items.push(Item::Entry(key, Value::str(value)));
            sec.slots.push(Slot::Value(ValueSlot {
                span: rv.span,
                outer: rv.outer,
                line_start: self.lines[key_li].start,
                line_next: self.lines[end_li].next,
                seal: rv.seal,
                seal_space: rv.seal_space,
                label,
            }));
            push_block(sec, block);
        }
        // go-ini drops comments at the end of the file; keep them with the last data section.
        carried.append(&mut pending);
        push_block(&mut sections[last_data], carried);

        let mut items = Vec::new();
        let mut slots = Vec::new();
        let mut meta_items = None;
        let mut meta_ranges = Vec::new();
        for sec in sections {
            if sec.meta {
                let header = sec.header_line.unwrap_or(0);
                let hl = self
                    .lines
                    .iter()
                    .position(|l| l.start == header)
                    .unwrap_or(0);
                let mut start = header;
                if hl > 0 {
                    let prev = self.lines[hl - 1];
                    if text[prev.start..prev.end].trim().is_empty() && !self.consumed[hl - 1] {
                        start = prev.start;
                    }
                }
                meta_ranges.push(start..sec.body_end);
                if meta_items.is_none() {
                    meta_items = Some(sec.items);
                }
                continue;
            }
            slots.extend(sec.slots);
            items.push(Item::Entry(sec.name, Value::Map(sec.items)));
        }
        let meta = match meta_items {
            None => None,
            Some(items) => {
                let pairs: Vec<(String, String)> = items
                    .into_iter()
                    .filter_map(|i| match i {
                        Item::Entry(k, Value::Scalar(Scalar::Str(v))) => {
                            Some((k, decode_newlines(&v)))
                        }
                        _ => None,
                    })
                    .collect();
                Some(unflatten(&pairs).map_err(|e| {
                    input_error(format!("invalid sops metadata: {e}"))
                        .hint("the [sops] section of this file is damaged")
                })?)
            }
        };
        Ok(IniDoc {
            src: text.to_string(),
            docs: vec![Value::Map(items)],
            meta,
            slots,
            meta_ranges,
        })
    }

    /// go-ini's `readValue`, starting at `vstart` on line `li`.
    fn read_value(&mut self, li: usize, vstart: usize) -> Result<ReadValue> {
        let text = self.text;
        let line = self.lines[li];
        let input = &text[vstart..line.next];
        let lt = input.trim_start();
        let vs = vstart + (input.len() - lt.len());
        if lt.is_empty() {
            let p = vstart
                + (text[vstart..line.end].len()
                    - text[vstart..line.end].trim_start_matches([' ', '\t']).len());
            return Ok(ReadValue::simple(String::new(), p..p, p..p, None, li));
        }
        let quote = if lt.len() > 3 && lt.starts_with("\"\"\"") {
            Some("\"\"\"")
        } else if lt.starts_with('`') {
            Some("`")
        } else {
            None
        };
        if let Some(q) = quote {
            let ql = q.len();
            let rest = &lt[ql..];
            if let Some(pos) = rest.rfind(q) {
                let span = vs + ql..vs + ql + pos;
                let outer = vs..span.end + ql;
                return Ok(ReadValue::simple(
                    rest[..pos].to_string(),
                    span,
                    outer,
                    None,
                    li,
                ));
            }
            // A value over several lines, up to the last quote on a later line.
            let mut val = rest.to_string();
            let mut cur = li;
            loop {
                if !self.lines[cur].has_newline() {
                    return Err(err_at(li, "missing closing quote of a value"));
                }
                cur += 1;
                if cur >= self.lines.len() {
                    return Err(err_at(li, "missing closing quote of a value"));
                }
                self.consumed[cur] = true;
                let l = self.lines[cur];
                let next = &text[l.start..l.next];
                if let Some(pos) = next.rfind(q) {
                    val.push_str(&next[..pos]);
                    let span = vs + ql..l.start + pos;
                    let after = &next[pos..];
                    let inline = after.find(is_marker).map(|ci| {
                        let m = l.start + pos + ci;
                        let c = after[ci..].trim();
                        // The blanks before it go with a sealed value (see `seal` below).
                        self.inline_piece(m, m + c.len(), m, self.lines[li].start, c.to_string())
                    });
                    let outer = vs..span.end + ql;
                    // A token sealed here has no quotes, so it also replaces any text go-ini
                    // ignores after the closing quotes, up to a comment.
                    let tail_end = match after.find(is_marker) {
                        Some(ci) => l.start + pos + ci,
                        None => (l.start + text[l.start..l.end].trim_end().len()).max(outer.end),
                    };
                    let mut rv = ReadValue::simple(val, span, outer.clone(), inline, cur);
                    rv.seal = outer.start..tail_end;
                    rv.seal_space = rv.inline.is_some();
                    return Ok(rv);
                }
                val.push_str(next);
            }
        }
        let t = lt.trim();
        let t_end = vs + t.len();
        if let Some(first) = t.strip_suffix('\\') {
            // Continuation lines, joined trimmed, until one does not end with a backslash or
            // is empty (go-ini consumes that empty line too).
            let mut val = first.to_string();
            let mut end = t_end;
            let mut end_li = li;
            let mut cur = li;
            while self.lines[cur].has_newline() && cur + 1 < self.lines.len() {
                cur += 1;
                self.consumed[cur] = true;
                let l = self.lines[cur];
                let raw = &text[l.start..l.next];
                let nt = raw.trim();
                if nt.is_empty() {
                    break;
                }
                val.push_str(nt);
                end = l.start + (raw.len() - raw.trim_start().len()) + nt.len();
                end_li = cur;
                if !val.ends_with('\\') {
                    break;
                }
                val.pop();
            }
            return Ok(ReadValue {
                value: val,
                seal: vs..end,
                seal_space: false,
                span: vs..end,
                outer: vs..end,
                inline: None,
                end_li,
                resume_li: cur,
            });
        }
        let (vpart, inline) = match t.find(is_marker) {
            Some(i) => {
                let vp = t[..i].trim();
                let m = vs + i;
                let piece = self.inline_piece(
                    m,
                    t_end,
                    vs + t[..i].trim_end().len(),
                    line.start,
                    t[i..].to_string(),
                );
                (vp, Some(piece))
            }
            None => (t, None),
        };
        let outer = vs..vs + vpart.len();
        if has_surrounded_quote(vpart, '\'') || has_surrounded_quote(vpart, '"') {
            let inner = outer.start + 1..outer.end - 1;
            let v = vpart[1..vpart.len() - 1].to_string();
            return Ok(ReadValue::simple(v, inner, outer, inline, li));
        }
        Ok(ReadValue::simple(
            vpart.to_string(),
            outer.clone(),
            outer,
            inline,
            li,
        ))
    }
}

/// A value as go-ini reads it, with where it sits in the source.
struct ReadValue {
    value: String,
    /// The value text inside any quotes, and with them.
    span: Range<usize>,
    outer: Range<usize>,
    /// What a sealed token replaces, and whether a space must follow it (before a comment).
    seal: Range<usize>,
    seal_space: bool,
    /// An inline comment after the value (or after a multi-line value's closing quote).
    inline: Option<Piece>,
    /// The line where the value ends, and the last line read (a continuation also reads the
    /// empty line that ends it).
    end_li: usize,
    resume_li: usize,
}

impl ReadValue {
    fn simple(
        value: String,
        span: Range<usize>,
        outer: Range<usize>,
        inline: Option<Piece>,
        li: usize,
    ) -> ReadValue {
        ReadValue {
            value,
            seal: span.clone(),
            seal_space: false,
            span,
            outer,
            inline,
            end_li: li,
            resume_li: li,
        }
    }
}

/// Add a comment block as the next item of a section.
fn push_block(sec: &mut Section, block: Vec<Piece>) {
    if block.is_empty() || sec.meta {
        return;
    }
    sec.items
        .push(Item::Comment(Scalar::Comment(block_text(&block))));
    sec.slots.push(Slot::Comment(block));
}

/// go-ini's `readKeyName` with delimiters `=` and `:`: the key and the offset just after the
/// delimiter, within `line` (which starts at the key).
fn read_key_name(line: &str) -> std::result::Result<(String, usize), &'static str> {
    let delims: &[char] = &['=', ':'];
    let key_quote = if line.starts_with('"') {
        if line.len() > 6 && line.starts_with("\"\"\"") {
            Some("\"\"\"")
        } else {
            Some("\"")
        }
    } else if line.starts_with('`') {
        Some("`")
    } else {
        None
    };
    if let Some(q) = key_quote {
        let start = q.len();
        let pos = line[start..].find(q).ok_or("missing closing key quote")? + start;
        let i = line[pos + start..]
            .find(delims)
            .ok_or("no '=' or ':' found")?;
        let end = pos + i;
        return Ok((line[start..pos].trim().to_string(), end + start + 1));
    }
    let end = line.find(delims).ok_or("no '=' or ':' found")?;
    Ok((line[..end].trim().to_string(), end + 1))
}

impl IniDoc {
    fn parse(src: &[u8]) -> Result<IniDoc> {
        let text = utf8_source(src)?;
        Parser::new(text).parse()
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// go-ini's way of writing a key.
fn goini_key(k: &str) -> String {
    if k.contains('"') || k.contains(['=', ':']) {
        format!("`{k}`")
    } else if k.contains('`') {
        format!("\"\"\"{k}\"\"\"")
    } else {
        k.to_string()
    }
}

/// go-ini's way of quoting a value.
fn goini_value(v: &str) -> String {
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
fn read_fragment(line: &str) -> Option<(String, usize)> {
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
fn reads_as(line: &str, want: &str, comments: Option<usize>) -> bool {
    matches!(read_fragment(line), Some((v, n)) if v == want && comments.is_none_or(|c| c == n))
}

/// The ways a value can be written, in order of preference: go-ini's own quoting first, then
/// any other quoting that reads back.
fn value_forms(v: &str) -> Vec<String> {
    let mut forms = vec![goini_value(v), v.to_string()];
    // go-ini reads a backtick-quoted value across lines too, so only a backtick inside the
    // value rules this form out.
    if !v.contains('`') {
        forms.push(format!("`{v}`"));
    }
    if !v.contains("\"\"\"") {
        forms.push(format!("\"\"\"{v}\"\"\""));
    }
    forms.push(format!("\"{v}\""));
    forms.push(format!("'{v}'"));
    forms
}

fn cannot_write(label: &str) -> Error {
    Error::new(Code::ErrorDumpingTree, format!("could not write ini: the value of {label} cannot be written so that it reads back the same"))
        .hint("INI cannot hold every string (for example one with both a backtick and three double quotes); use another output type")
}

/// Write `key = value` lines for one section with go-ini's alignment. Comments listed for a
/// key go above it. Each value uses the first form that reads back.
fn write_body(
    out: &mut String,
    section: &str,
    keys: &[(String, String, Vec<String>)],
) -> Result<()> {
    let align = keys
        .iter()
        .map(|(k, _, _)| {
            if k.contains('"') || k.contains(['=', ':']) {
                k.len() + 2
            } else if k.contains('`') {
                k.len() + 6
            } else {
                k.len()
            }
        })
        .max()
        .unwrap_or(0);
    for (k, v, comments) in keys {
        for c in comments {
            write_comment(out, c);
        }
        let kq = goini_key(k);
        let pad = " ".repeat(align.saturating_sub(kq.len()));
        let prefix = format!("{kq}{pad} = ");
        let form = value_forms(v)
            .into_iter()
            .find(|f| reads_as(&format!("{prefix}{f}\n"), v, None))
            .ok_or_else(|| cannot_write(&format!("{section}:{k}")))?;
        out.push_str(&prefix);
        out.push_str(&form);
        out.push('\n');
    }
    Ok(())
}

/// Write a comment's lines as go-ini does (`; text`, or the line's own marker).
fn write_comment(out: &mut String, text: &str) {
    if text.is_empty() {
        return;
    }
    for line in text.split('\n') {
        let t = line.trim();
        match t.chars().next() {
            Some(c) if is_marker(c) => {
                out.push(c);
                out.push(' ');
                out.push_str(t[1..].trim());
            }
            _ => {
                out.push_str("; ");
                out.push_str(t);
            }
        }
        out.push('\n');
    }
}

/// The `[sops]` section, keys sorted, newlines escaped.
fn meta_section(meta: &Value) -> Result<String> {
    let keys: Vec<(String, String, Vec<String>)> = flatten(meta, "")
        .into_iter()
        .map(|(k, v)| (k, encode_newlines(&v), Vec::new()))
        .collect();
    let mut out = format!("[{META_SECTION}]\n");
    write_body(&mut out, META_SECTION, &keys)?;
    Ok(out)
}

fn emit(docs: &[Value], meta: Option<&Value>) -> Result<String> {
    let empty = Value::Map(Vec::new());
    let doc = match docs {
        [] => &empty,
        [d] => d,
        _ => {
            return Err(Error::new(
                Code::ErrorDumpingTree,
                format!(
                    "cannot write {} documents as ini, which holds one",
                    docs.len()
                ),
            ))
        }
    };
    let Value::Map(sections) = doc else {
        return Err(Error::new(
            Code::ErrorDumpingTree,
            "cannot write a non-map document as ini",
        ));
    };
    let mut out = String::new();
    let mut first = true;
    for item in sections {
        // sops drops top-level comments when writing INI.
        let Item::Entry(name, v) = item else { continue };
        let Value::Map(items) = v else {
            return Err(Error::new(
                Code::ErrorDumpingTree,
                format!("cannot write a non-section value as ini; offending key {name}"),
            )
            .hint("INI holds sections of key = value pairs; use --output-type json or yaml"));
        };
        if name == META_SECTION {
            return Err(Error::new(
                Code::ErrorDumpingTree,
                "cannot write a section named sops as ini: it holds the metadata",
            ));
        }
        // Leading comments, then keys with the comments that follow them.
        let mut leading = Vec::new();
        let mut keys: Vec<(String, String, Vec<String>)> = Vec::new();
        for it in items {
            match it {
                Item::Comment(c) => {
                    let t = c.to_env_string();
                    match keys.last_mut() {
                        Some(k) => k.2.push(t),
                        None => leading.push(t),
                    }
                }
                Item::Entry(k, v) => {
                    let text = match v {
                        Value::Scalar(s) => s.to_env_string(),
                        Value::Null => String::new(),
                        Value::Map(_) | Value::List(_) => return Err(Error::new(
                            Code::ErrorDumpingTree,
                            format!("cannot write a nested value as ini; offending key {name}:{k}"),
                        )
                        .hint(
                            "INI holds only section → key → value; use --output-type json or yaml",
                        )),
                    };
                    keys.push((k.clone(), text, Vec::new()));
                }
            }
        }
        let headerless = first && name == DEFAULT_SECTION;
        first = false;
        if headerless && keys.is_empty() {
            continue;
        }
        // go-ini puts a blank line between sections, not after the last one.
        if !out.is_empty() {
            out.push('\n');
        }
        for c in &leading {
            write_comment(&mut out, c);
        }
        if !headerless {
            out.push('[');
            out.push_str(name);
            out.push_str("]\n");
        }
        write_body(&mut out, name, &keys)?;
    }
    if let Some(meta) = meta {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&meta_section(meta)?);
    }
    verify_emit(&out, doc, meta)?;
    Ok(out)
}

/// The tree with comments dropped, every value a string, and a leading empty DEFAULT removed:
/// what must survive a fresh emit.
fn data_shape(doc: &Value) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    if let Value::Map(secs) = doc {
        for s in secs {
            if let Item::Entry(name, Value::Map(items)) = s {
                let kv = items
                    .iter()
                    .filter_map(|i| match i {
                        Item::Entry(k, Value::Scalar(v)) => Some((k.clone(), v.to_env_string())),
                        Item::Entry(k, Value::Null) => Some((k.clone(), String::new())),
                        _ => None,
                    })
                    .collect::<Vec<_>>();
                out.push((name.clone(), kv));
            }
        }
    }
    if matches!(out.first(), Some((n, kv)) if n == DEFAULT_SECTION && kv.is_empty()) {
        out.remove(0);
    }
    out
}

fn meta_matches(meta: Option<&Value>, back: Option<&Value>) -> bool {
    match (meta, back) {
        (None, None) => true,
        (Some(m), Some(b)) => flatten(m, "") == flatten(b, ""),
        (Some(m), None) => flatten(m, "").is_empty(),
        (None, Some(_)) => false,
    }
}

fn verify_emit(out: &str, doc: &Value, meta: Option<&Value>) -> Result<()> {
    let back = IniDoc::parse(out.as_bytes()).map_err(|e| {
        Error::new(
            Code::ErrorDumpingTree,
            format!("could not write ini: {}", e.message),
        )
    })?;
    let want = data_shape(doc);
    let got = back.docs.first().map(data_shape).unwrap_or_default();
    if want != got {
        let at = want
            .iter()
            .zip(got.iter().map(Some).chain(std::iter::repeat(None)))
            .find(|(w, g)| Some(*w) != *g)
            .map(|(w, _)| w.0.clone())
            .unwrap_or_default();
        return Err(Error::new(
            Code::ErrorDumpingTree,
            format!("could not write ini: section {at} would not read back the same"),
        )
        .hint("INI cannot hold section or key names with line breaks, leading ';', '#' or '[', or surrounding spaces"));
    }
    if !meta_matches(meta, back.meta.as_ref()) {
        return Err(Error::new(
            Code::ErrorDumpingTree,
            "could not write ini: the sops metadata would not read back the same",
        ));
    }
    Ok(())
}

/// A comment compared loosely: markers and blanks at line edges do not count.
fn norm_comment(s: &str) -> String {
    s.split('\n')
        .map(|l| l.trim().trim_start_matches([';', '#', ' ', '\t']).trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The tree as far as a re-read must match it: comments compared loosely, and comments next
/// to each other merged (go-ini reads adjacent comment lines as one, which happens when the
/// `[sops]` section between two of them is removed).
fn norm_tree(docs: &[Value]) -> Vec<Value> {
    fn go(v: &Value) -> Value {
        match v {
            Value::Map(items) => {
                let mut out: Vec<Item> = Vec::new();
                for i in items {
                    match (i, out.last_mut()) {
                        (Item::Comment(c), Some(Item::Comment(Scalar::Comment(prev)))) => {
                            prev.push('\n');
                            prev.push_str(&c.to_env_string());
                        }
                        (Item::Comment(c), _) => {
                            out.push(Item::Comment(Scalar::Comment(c.to_env_string())))
                        }
                        (Item::Entry(k, v), _) => out.push(Item::Entry(k.clone(), go(v))),
                    }
                }
                for i in &mut out {
                    if let Item::Comment(Scalar::Comment(c)) = i {
                        *c = norm_comment(c);
                    }
                }
                Value::Map(out)
            }
            other => other.clone(),
        }
    }
    docs.iter().map(go).collect()
}

/// Split comment text into lines for writing, without carriage returns.
fn comment_lines(text: &str) -> Vec<&str> {
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect()
}

fn with_marker(line: &str) -> String {
    if line.trim_start().starts_with(is_marker) {
        line.to_string()
    } else {
        format!("; {line}")
    }
}

impl IniDoc {
    /// The replacements that write `text` (a token or opened comment) over a comment block.
    fn block_edits(&self, pieces: &[Piece], text: &str, reps: &mut Vec<(Range<usize>, String)>) {
        let Some(first) = pieces.first() else { return };
        let lines = comment_lines(text);
        let src = &self.src;
        match first.kind {
            PieceKind::Line => {
                let line_end = src[first.extent.clone()].trim_end_matches('\n');
                let eol = if line_end.ends_with('\r') {
                    "\r\n"
                } else {
                    "\n"
                };
                let mut rep = lines[0].to_string();
                for l in &lines[1..] {
                    rep.push_str(eol);
                    rep.push_str(&with_marker(l));
                }
                reps.push((first.text.clone(), rep));
            }
            PieceKind::Inline if lines.len() == 1 && !first.relocate => {
                reps.push((first.text.clone(), lines[0].to_string()))
            }
            PieceKind::Inline => {
                // Several lines cannot stay inline: write them above the owning line.
                let mut ins = String::new();
                for (i, l) in lines.iter().enumerate() {
                    ins.push_str(&if i == 0 {
                        format!("; {l}")
                    } else {
                        with_marker(l)
                    });
                    ins.push('\n');
                }
                reps.push((first.owner_line_start..first.owner_line_start, ins));
                reps.push((first.extent.clone(), String::new()));
            }
        }
        for p in &pieces[1..] {
            reps.push((p.extent.clone(), String::new()));
        }
    }

    fn value_edit(&self, slot: &ValueSlot, v: &str) -> Result<(Range<usize>, String)> {
        let src = &self.src;
        let comments = read_fragment(&src[slot.line_start..slot.line_next]).map(|(_, n)| n);
        let try_at = |range: &Range<usize>, form: &str| -> bool {
            let frag = format!(
                "{}{}{}",
                &src[slot.line_start..range.start],
                form,
                &src[range.end..slot.line_next]
            );
            reads_as(&frag, v, comments)
        };
        // In place first (keeps quotes and layout), then go-ini's forms over the quotes.
        if try_at(&slot.span, v) {
            return Ok((slot.span.clone(), v.to_string()));
        }
        for form in value_forms(v) {
            if try_at(&slot.outer, &form) {
                return Ok((slot.outer.clone(), form));
            }
        }
        Err(cannot_write(&slot.label))
    }
}

impl Parsed for IniDoc {
    fn docs(&self) -> &[Value] {
        &self.docs
    }

    fn metadata(&self) -> Option<&Value> {
        self.meta.as_ref()
    }

    fn render(&self, edits: &[Edit], meta: Option<&Value>) -> Result<Vec<u8>> {
        if edits.len() != self.slots.len() {
            return Err(Error::generic(format!(
                "internal error: {} edits for {} ini leaves",
                edits.len(),
                self.slots.len()
            )));
        }
        let mut reps: Vec<(Range<usize>, String)> = Vec::new();
        for (slot, edit) in self.slots.iter().zip(edits) {
            match (slot, edit) {
                (_, Edit::Keep) => {}
                (Slot::Value(s), Edit::Seal(token)) => {
                    let sep = if s.seal_space { " " } else { "" };
                    reps.push((s.seal.clone(), format!("{token}{sep}")))
                }
                (Slot::Value(s), Edit::Open(v)) => {
                    reps.push(self.value_edit(s, &v.to_env_string())?)
                }
                (Slot::Comment(p), Edit::Seal(token)) => self.block_edits(p, token, &mut reps),
                (Slot::Comment(p), Edit::Open(v)) => {
                    self.block_edits(p, &v.to_env_string(), &mut reps)
                }
            }
        }
        for r in &self.meta_ranges {
            reps.push((r.clone(), String::new()));
        }
        let mut out = crate::format::splice(&self.src, &mut reps, "ini")?;
        if let Some(meta) = meta {
            if !out.is_empty() {
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push('\n');
            }
            out.push_str(&meta_section(meta)?);
        }

        // Check that the result reads back as intended.
        let mut expected = self.docs.clone();
        walk_leaves_mut(&mut expected, |i, _, s| {
            let text = match &edits[i] {
                Edit::Keep => return,
                Edit::Seal(t) => t.clone(),
                Edit::Open(v) => v.to_env_string(),
            };
            *s = if s.is_comment() {
                Scalar::Comment(text)
            } else {
                Scalar::Str(text)
            };
        });
        let back = IniDoc::parse(out.as_bytes()).map_err(|e| {
            Error::new(
                Code::ErrorDumpingTree,
                format!("could not write ini: {}", e.message),
            )
        })?;
        if norm_tree(&back.docs) != norm_tree(&expected) {
            let mut want = Vec::new();
            walk_leaves(&norm_tree(&expected), |_, p, s| {
                want.push((p.join(":"), s.clone()))
            });
            let mut got = Vec::new();
            walk_leaves(&norm_tree(&back.docs), |_, p, s| {
                got.push((p.join(":"), s.clone()))
            });
            let at = want
                .iter()
                .zip(got.iter().map(Some).chain(std::iter::repeat(None)))
                .find(|(w, g)| Some(*w) != *g)
                .map(|(w, _)| w.0.clone())
                .unwrap_or_default();
            return Err(Error::new(
                Code::ErrorDumpingTree,
                format!("could not write ini: the leaf at {at} would not read back the same"),
            ));
        }
        if !meta_matches(meta, back.meta.as_ref()) {
            return Err(Error::new(
                Code::ErrorDumpingTree,
                "could not write ini: the sops metadata would not read back the same",
            ));
        }
        Ok(out.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Box<dyn Parsed> {
        IniStore.parse(s.as_bytes()).unwrap()
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

    fn s(x: &str) -> Scalar {
        Scalar::Str(x.into())
    }

    fn c(x: &str) -> Scalar {
        Scalar::Comment(x.into())
    }

    const SAMPLE: &str = "\
top = 1
; about the section
[server]   ; header note
host     = example.com
; the password
# second line
password = \"quoted value\"
url: http://x.test/a#frag
single = '  padded  '
tick = `a;b`
empty =
multi = \"\"\"line one
line two\"\"\" ; after
cont = one \\
  two
[server]
host = again
";

    #[test]
    fn parses_like_go_ini() {
        let p = parse(SAMPLE);
        assert_eq!(
            shown(leaves(p.as_ref())),
            shown(vec![
                ("DEFAULT:top:".into(), s("1")),
                ("server:".into(), c("about the section\n; header note")),
                ("server:host:".into(), s("example.com")),
                ("server:password:".into(), s("quoted value")),
                ("server:".into(), c("the password\n# second line")),
                ("server:url:".into(), s("http://x.test/a")),
                ("server:".into(), c("frag")),
                ("server:single:".into(), s("  padded  ")),
                ("server:tick:".into(), s("a;b")),
                ("server:empty:".into(), s("")),
                ("server:multi:".into(), s("line one\nline two")),
                ("server:".into(), c("after")),
                ("server:cont:".into(), s("one two")),
                ("server:host:".into(), s("again")),
            ])
        );
        let Value::Map(secs) = &p.docs()[0] else {
            panic!("not a map")
        };
        let names: Vec<&str> = secs
            .iter()
            .filter_map(|i| match i {
                Item::Entry(k, _) => Some(k.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(names, vec!["DEFAULT", "server", "server"]);
        assert!(p.metadata().is_none());
    }

    #[test]
    fn default_section_is_always_first() {
        let p = parse("[a]\nk = v\n");
        let Value::Map(secs) = &p.docs()[0] else {
            panic!("not a map")
        };
        assert_eq!(secs[0], Item::Entry("DEFAULT".into(), Value::Map(vec![])));
    }

    #[test]
    fn keep_all_is_lossless() {
        for src in [
            SAMPLE,
            "",
            "\n\n",
            "a=1",
            "\u{feff}[x]\r\nk = v ; c\r\n",
            "; only a comment",
        ] {
            let p = parse(src);
            let edits = vec![Edit::Keep; leaves(p.as_ref()).len()];
            assert_eq!(
                String::from_utf8(p.render(&edits, None).unwrap()).unwrap(),
                src
            );
        }
    }

    fn seal_all(p: &dyn Parsed) -> Vec<Edit> {
        leaves(p)
            .iter()
            .enumerate()
            .map(|(i, (_, sc))| {
                if sc.is_empty_text() {
                    Edit::Keep
                } else {
                    Edit::Seal(format!("ENC[AES256_GCM,data:T{i}=,type:x]"))
                }
            })
            .collect()
    }

    fn meta() -> Value {
        Value::Map(vec![
            Item::Entry(
                "age".into(),
                Value::List(vec![Value::Map(vec![
                    Item::Entry("recipient".into(), Value::str("age1abc")),
                    Item::Entry("enc".into(), Value::str("-----BEGIN AGE ENCRYPTED FILE-----\nQUJD\n-----END AGE ENCRYPTED FILE-----\n")),
                ])]),
            ),
            Item::Entry("lastmodified".into(), Value::str("2026-11-29T00:16:37Z")),
            Item::Entry("mac".into(), Value::str("ENC[AES256_GCM,data:M=,type:str]")),
            Item::Entry("version".into(), Value::str("3.11.0")),
        ])
    }

    /// go-ini features whose comments and values all come back in place.
    const PLAIN: &str = "\
top = 1
; about the section
[server]
host     = example.com
; the password
# second line
password = \"quoted value\"
url: http://x.test/a#frag
single = '  padded  '
tick = `a;b`
empty =
multi = \"\"\"line one\r
line two\"\"\"
[other]
host = again ; inline only
";

    fn sealed_tokens(p: &dyn Parsed, seals: &[Edit]) -> Vec<Scalar> {
        leaves(p)
            .iter()
            .zip(seals)
            .map(|((_, sc), e)| match e {
                Edit::Seal(t) if sc.is_comment() => Scalar::Comment(t.clone()),
                Edit::Seal(t) => Scalar::Str(t.clone()),
                _ => sc.clone(),
            })
            .collect()
    }

    #[test]
    fn seal_then_open_restores_bytes() {
        let p = parse(PLAIN);
        let seals = seal_all(p.as_ref());
        let enc = String::from_utf8(p.render(&seals, Some(&meta())).unwrap()).unwrap();
        assert!(
            enc.contains("password = \"ENC[AES256_GCM,data:T3=,type:x]\"\n"),
            "{enc}"
        );
        assert!(
            enc.contains("; ENC[AES256_GCM,data:T1=,type:x]\n[server]\n"),
            "{enc}"
        );
        assert!(
            enc.contains("url: ENC[AES256_GCM,data:T5=,type:x]#ENC[AES256_GCM,data:T6=,type:x]\n"),
            "{enc}"
        );
        assert!(
            enc.contains(
                "host = ENC[AES256_GCM,data:T11=,type:x] ; ENC[AES256_GCM,data:T12=,type:x]\n"
            ),
            "{enc}"
        );
        assert!(enc.ends_with("\n\n[sops]\nage__list_0__map_enc       = -----BEGIN AGE ENCRYPTED FILE-----\\nQUJD\\n-----END AGE ENCRYPTED FILE-----\\n\nage__list_0__map_recipient = age1abc\nlastmodified               = 2026-11-29T00:16:37Z\nmac                        = ENC[AES256_GCM,data:M=,type:str]\nversion                    = 3.11.0\n"), "{enc}");
        let q = parse(&enc);
        // The sealed file reads back as the tokens, and the metadata as given.
        let got: Vec<Scalar> = leaves(q.as_ref()).into_iter().map(|(_, s)| s).collect();
        assert_eq!(got, sealed_tokens(p.as_ref(), &seals));
        assert_eq!(flatten(q.metadata().unwrap(), ""), flatten(&meta(), ""));
        let originals: Vec<Edit> = leaves(p.as_ref())
            .into_iter()
            .map(|(_, s)| Edit::Open(s))
            .collect();
        assert_eq!(
            String::from_utf8(q.render(&originals, None).unwrap()).unwrap(),
            PLAIN
        );
    }

    #[test]
    fn comments_that_move_like_sops() {
        // A header comment, and a value comment in a block with comment lines, come back above
        // their header or key; a continued value comes back on one line.
        let p = parse(SAMPLE);
        let seals = seal_all(p.as_ref());
        let enc = String::from_utf8(p.render(&seals, None).unwrap()).unwrap();
        let q = parse(&enc);
        let got: Vec<Scalar> = leaves(q.as_ref()).into_iter().map(|(_, s)| s).collect();
        assert_eq!(got, sealed_tokens(p.as_ref(), &seals));
        let originals: Vec<Edit> = leaves(p.as_ref())
            .into_iter()
            .map(|(_, s)| Edit::Open(s))
            .collect();
        let out = String::from_utf8(q.render(&originals, None).unwrap()).unwrap();
        assert_eq!(
            out,
            SAMPLE
                .replace(
                    "; about the section\n[server]   ; header note",
                    "; about the section\n; header note\n[server]"
                )
                .replace("cont = one \\\n  two", "cont = one two")
        );
    }

    #[test]
    fn continuation_opens_on_one_line() {
        let p = parse("[a]\ncont = one \\\n  two\nnext = 1\n");
        let n = leaves(p.as_ref()).len();
        let enc = p.render(&seal_all(p.as_ref()), None).unwrap();
        let enc = String::from_utf8(enc).unwrap();
        assert_eq!(
            enc,
            "[a]\ncont = ENC[AES256_GCM,data:T0=,type:x]\nnext = ENC[AES256_GCM,data:T1=,type:x]\n"
        );
        let q = parse(&enc);
        let opened = q
            .render(&[Edit::Open(s("one two")), Edit::Open(s("1"))], None)
            .unwrap();
        assert_eq!(opened, b"[a]\ncont = one two\nnext = 1\n");
        assert_eq!(n, 2);
    }

    #[test]
    fn reads_sops_written_metadata_in_any_order_and_triple_quotes() {
        let src = "[s]\nk = ENC[AES256_GCM,data:x,type:str]\n\n[sops]\nversion = 3.13.0\nmac = ENC[m]\nage__list_0__map_enc = \"\"\"-----BEGIN AGE ENCRYPTED FILE-----\nQUJD\n-----END AGE ENCRYPTED FILE-----\n\"\"\"\nage__list_0__map_recipient = age1abc\nlastmodified = 2026-11-29T00:16:37Z\nmac_only_encrypted = true\n\n";
        let p = parse(src);
        let m = p.metadata().unwrap();
        assert_eq!(m.get("version"), Some(&Value::str("3.13.0")));
        assert_eq!(
            m.get("mac_only_encrypted"),
            Some(&Value::Scalar(Scalar::Bool(true)))
        );
        let Some(Value::List(age)) = m.get("age") else {
            panic!("no age list")
        };
        assert_eq!(
            age[0].get("enc"),
            Some(&Value::str(
                "-----BEGIN AGE ENCRYPTED FILE-----\nQUJD\n-----END AGE ENCRYPTED FILE-----\n"
            ))
        );
        assert_eq!(
            leaves(p.as_ref()),
            vec![("s:k:".into(), s("ENC[AES256_GCM,data:x,type:str]"))]
        );
        // Decrypting removes the section and the blank line before it.
        let out = p.render(&[Edit::Open(s("v"))], None).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "[s]\nk = v\n\n");
        // A sops 3.11 file with \n escapes.
        let p = parse("[sops]\nage__list_0__map_enc = a\\nb\\n\n");
        let Some(Value::List(age)) = p.metadata().unwrap().get("age") else {
            panic!("no age list")
        };
        assert_eq!(age[0].get("enc"), Some(&Value::str("a\nb\n")));
    }

    #[test]
    fn comments_before_sops_and_at_eof_stay_data() {
        let src = "[a]\nk = v\n; tail\n\n[sops]\nmac = x\n; after\n";
        let p = parse(src);
        assert_eq!(
            shown(leaves(p.as_ref())),
            shown(vec![
                ("a:k:".into(), s("v")),
                ("a:".into(), c("tail\n; after")),
            ])
        );
    }

    #[test]
    fn open_writes_values_that_read_back() {
        let p = parse("[a]\nk = x\nq = \"y\"\n");
        let out = p
            .render(&[Edit::Open(s("has ; semi")), Edit::Open(s(" lead"))], None)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[a]\nk = `has ; semi`\nq = \" lead\"\n"
        );
        let out = p
            .render(
                &[Edit::Open(s("two\nlines")), Edit::Open(Scalar::Int(7))],
                None,
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[a]\nk = \"\"\"two\nlines\"\"\"\nq = \"7\"\n"
        );
        let e = p
            .render(&[Edit::Open(s("`\"\"\"\nsecret")), Edit::Keep], None)
            .err()
            .unwrap();
        assert_eq!(e.code, Code::ErrorDumpingTree);
        assert!(e.message.contains("a:k"));
        assert!(!e.message.contains("secret"));
    }

    #[test]
    fn errors_are_code_2_and_name_lines() {
        for (src, line) in [
            ("[a]\n[unclosed\n", "line 2"),
            ("[a]\nk = v\nno delimiter secret\n", "line 3"),
            ("[]\n", "line 1"),
            ("[a]\nk = 1\nk = 2\n", "line 3"),
            ("[a]\nk = \"\"\"open\nsecret\n", "line 2"),
            ("= v\n", "line 1"),
            ("\"k = v\n", "line 1"),
        ] {
            let e = IniStore
                .parse(src.as_bytes())
                .err()
                .unwrap_or_else(|| panic!("{src:?} parsed"));
            assert_eq!(e.code, Code::CouldNotReadInputFile, "{src:?}");
            assert!(e.message.contains(line), "{src:?}: {}", e.message);
            assert!(!e.message.contains("secret"));
        }
    }

    #[test]
    fn emit_go_ini_layout() {
        let doc = Value::Map(vec![
            Item::Entry(
                "DEFAULT".into(),
                Value::Map(vec![Item::Entry("d".into(), Value::str("1"))]),
            ),
            Item::Entry(
                "db".into(),
                Value::Map(vec![
                    Item::Comment(c(" section note")),
                    Item::Entry("user".into(), Value::str("admin")),
                    Item::Comment(c(" about user")),
                    Item::Entry("password".into(), Value::str("a#b")),
                    Item::Entry("padded".into(), Value::str(" x ")),
                    Item::Entry("empty".into(), Value::str("")),
                    Item::Entry("n".into(), Value::Scalar(Scalar::Float("2.0".into()))),
                    Item::Entry("a=b".into(), Value::str("ml\nx")),
                ]),
            ),
        ]);
        let out = IniStore
            .emit(&[doc], None, &EmitOptions::default())
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "d = 1\n\n; section note\n[db]\n; about user\nuser     = admin\npassword = `a#b`\npadded   = \" x \"\nempty    = \nn        = 2.0\n`a=b`    = \"\"\"ml\nx\"\"\"\n"
        );
    }

    #[test]
    fn emit_errors_are_code_4() {
        let o = EmitOptions::default();
        let nested = Value::Map(vec![Item::Entry(
            "s".into(),
            Value::Map(vec![Item::Entry("k".into(), Value::Map(vec![]))]),
        )]);
        let e = IniStore.emit(&[nested], None, &o).err().unwrap();
        assert_eq!(e.code, Code::ErrorDumpingTree);
        assert!(e.message.contains("s:k"));
        let flat = Value::Map(vec![Item::Entry("k".into(), Value::str("secret"))]);
        let e = IniStore.emit(&[flat], None, &o).err().unwrap();
        assert_eq!(e.code, Code::ErrorDumpingTree);
        assert!(!e.message.contains("secret"));
        assert_eq!(
            IniStore
                .emit(&[Value::List(vec![])], None, &o)
                .err()
                .unwrap()
                .code,
            Code::ErrorDumpingTree
        );
        let badkey = Value::Map(vec![Item::Entry(
            "s".into(),
            Value::Map(vec![Item::Entry("[x".into(), Value::str("v"))]),
        )]);
        assert_eq!(
            IniStore.emit(&[badkey], None, &o).err().unwrap().code,
            Code::ErrorDumpingTree
        );
    }

    #[test]
    fn emit_with_meta_and_out_of_place_default_reads_back() {
        let doc = Value::Map(vec![
            Item::Entry(
                "a".into(),
                Value::Map(vec![Item::Entry("k".into(), Value::str("ENC[x]"))]),
            ),
            Item::Entry(
                "DEFAULT".into(),
                Value::Map(vec![Item::Entry("d".into(), Value::str("ENC[y]"))]),
            ),
        ]);
        let out = IniStore
            .emit(
                std::slice::from_ref(&doc),
                Some(&meta()),
                &EmitOptions::default(),
            )
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("[a]\nk = ENC[x]\n\n[DEFAULT]\nd = ENC[y]\n\n[sops]\n"),
            "{text}"
        );
        let p = parse(&text);
        // Leaf order is kept, so a MAC over it is too.
        assert_eq!(
            leaves(p.as_ref()),
            vec![
                ("a:k:".into(), s("ENC[x]")),
                ("DEFAULT:d:".into(), s("ENC[y]"))
            ]
        );
        assert_eq!(flatten(p.metadata().unwrap(), ""), flatten(&meta(), ""));
    }

    #[test]
    fn multi_line_comment_block_seals_as_one_line() {
        let src = "[a]\n; one\n; two\nk = v ; three\n";
        let p = parse(src);
        assert_eq!(leaves(p.as_ref())[1].1, c("one\n; two\n; three"));
        let enc = String::from_utf8(p.render(&seal_all(p.as_ref()), None).unwrap()).unwrap();
        assert_eq!(
            enc,
            "[a]\n; ENC[AES256_GCM,data:T1=,type:x]\nk = ENC[AES256_GCM,data:T0=,type:x]\n"
        );
        let q = parse(&enc);
        let originals: Vec<Edit> = leaves(p.as_ref())
            .into_iter()
            .map(|(_, s)| Edit::Open(s))
            .collect();
        let out = String::from_utf8(q.render(&originals, None).unwrap()).unwrap();
        // The inline part moves above the key, as with sops.
        assert_eq!(out, "[a]\n; one\n; two\n; three\nk = v\n");
    }
}
