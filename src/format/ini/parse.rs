//! Reading an INI file as go-ini v1.67 reads it (sections, keys, quoted and continued values,
//! comment blocks), keeping the span of every value and comment for lossless rendering, and
//! the `[sops]` section's pairs for the metadata. Never puts a value into an error.

use super::{DEFAULT_SECTION, META_SECTION};
use std::collections::HashSet;
use std::ops::Range;

use crate::error::{Error, Result};
use crate::format::dotenv::utf8_source;
use crate::format::flatten::{decode_newlines, unflatten};
use crate::format::input_error;
use crate::tree::{Item, Scalar, Value};

/// One line of the source: `start..end` without its `\n`; `next` is where the next line starts.
#[derive(Clone, Copy, Debug)]
pub(super) struct Line {
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
pub(super) enum PieceKind {
    /// A whole comment line.
    Line,
    /// A comment after a value, a header, or a multi-line value's closing quote.
    Inline,
}

/// One comment of a block, with the spans rendering needs.
#[derive(Clone, Debug)]
pub(super) struct Piece {
    pub(super) kind: PieceKind,
    /// The comment text after its marker run (`; `, `# `), trailing whitespace excluded.
    pub(super) text: Range<usize>,
    /// What to delete when the block collapses to one line: the whole line for a `Line`
    /// piece, the comment and the blanks before it for an `Inline` one.
    pub(super) extent: Range<usize>,
    /// Start of the line that owns an inline comment (the key or header line).
    pub(super) owner_line_start: usize,
    /// An inline comment that cannot be rewritten in place: the one on a header line, since
    /// go-ini ends a section name at the last `]` of its line and a token holds one.
    pub(super) relocate: bool,
    /// What this piece adds to go-ini's joined comment.
    pub(super) raw: String,
}

#[derive(Clone, Debug)]
pub(super) struct ValueSlot {
    /// The value text inside any quotes.
    pub(super) span: Range<usize>,
    /// The value text including its quotes.
    pub(super) outer: Range<usize>,
    /// Start of the key line and end (after `\n`) of the line where the value ends.
    pub(super) line_start: usize,
    pub(super) line_next: usize,
    /// What a sealed token replaces: the value inside its quotes, or for a value over several
    /// lines the whole of it with its quotes, so that a comment after it is still read.
    pub(super) seal: Range<usize>,
    pub(super) seal_space: bool,
    /// `section:key`, for error messages.
    pub(super) label: String,
}

#[derive(Clone, Debug)]
pub(super) enum Slot {
    Value(ValueSlot),
    Comment(Vec<Piece>),
}

pub(super) struct Section {
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
    pub(super) src: String,
    pub(super) docs: Vec<Value>,
    pub(super) meta: Option<Value>,
    /// One slot per leaf, in [`walk_leaves`] order.
    pub(super) slots: Vec<Slot>,
    /// Byte ranges of the `[sops]` sections, removed on render.
    pub(super) meta_ranges: Vec<Range<usize>>,
}

pub(super) fn is_marker(c: char) -> bool {
    c == '#' || c == ';'
}

/// Go's `strings.TrimLeft(s, "; ")` or `"# "`, chosen by the first character, as sops's
/// `stripCommentChar` does. Returns the number of bytes removed.
pub(super) fn marker_run(s: &str) -> usize {
    let cut: &[char] = match s.chars().next() {
        Some(';') => &[';', ' '],
        Some('#') => &['#', ' '],
        _ => return 0,
    };
    s.len() - s.trim_start_matches(cut).len()
}

/// sops's comment text for a go-ini comment string.
pub(super) fn block_text(pieces: &[Piece]) -> String {
    let joined: String = pieces.iter().map(|p| p.raw.as_str()).collect();
    let t = joined.trim();
    t[marker_run(t)..].to_string()
}

/// go-ini's `hasSurroundedQuote`.
pub(super) fn has_surrounded_quote(s: &str, q: char) -> bool {
    s.len() >= 2 && s.starts_with(q) && s.ends_with(q) && s[1..].find(q) == Some(s.len() - 2)
}

pub(super) struct Parser<'a> {
    text: &'a str,
    lines: Vec<Line>,
    consumed: Vec<bool>,
}

pub(super) fn err_at(line: usize, what: &str) -> Error {
    input_error(format!("invalid ini input at line {}: {what}", line + 1))
}

impl<'a> Parser<'a> {
    pub(super) fn new(text: &'a str) -> Parser<'a> {
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

    pub(super) fn parse(mut self) -> Result<IniDoc> {
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
                Some(meta_tree(&pairs)?)
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

/// The metadata tree from the `[sops]` section's pairs (newlines decoded).
pub(super) fn meta_tree(pairs: &[(String, String)]) -> Result<Value> {
    unflatten(pairs).map_err(|e| {
        input_error(format!("invalid sops metadata: {e}"))
            .hint("the [sops] section of this file is damaged")
    })
}

/// A value as go-ini reads it, with where it sits in the source.
pub(super) struct ReadValue {
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
pub(super) fn push_block(sec: &mut Section, block: Vec<Piece>) {
    if block.is_empty() || sec.meta {
        return;
    }
    sec.items
        .push(Item::Comment(Scalar::Comment(block_text(&block))));
    sec.slots.push(Slot::Comment(block));
}

/// go-ini's `readKeyName` with delimiters `=` and `:`: the key and the offset just after the
/// delimiter, within `line` (which starts at the key).
pub(super) fn read_key_name(line: &str) -> std::result::Result<(String, usize), &'static str> {
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
    pub(super) fn parse(src: &[u8]) -> Result<IniDoc> {
        let text = utf8_source(src)?;
        Parser::new(text).parse()
    }
}
