//! Lossless rendering: the source text with exactly the edited leaves replaced and the `sops:`
//! block appended, replaced or removed, everything else byte for byte.
//!
//! It exists because sops re-emits the whole file (comments moved, quoting and indentation
//! normalised), which makes every encryption a noisy diff. Output is assembled by copying the
//! gaps between sorted, non-overlapping patches, and is then re-parsed and compared leaf by
//! leaf with what was intended; on any mismatch it returns an error rather than corrupt output.
//! It must never put a plaintext value into an error message.

use super::emit::{
    self, analyze, literal_body, literal_header, typed_plain, write_double, write_single,
};
use super::lex::{self, OpenEnd};
use super::parse::{self, CollKind, Indexed, Leaf, Node, NodeId, ScalarNode, Style};
use super::resolve::plain_is_ambiguous;
use super::verify;
use crate::error::{Code, Error, Result};
use crate::format::Edit;
use crate::tree::{walk_leaves_mut, Item, Scalar, Value};
use std::borrow::Cow;

struct Patch<'a> {
    start: usize,
    end: usize,
    /// Borrowed from the edit when the token goes in as it is (the common case).
    text: Cow<'a, str>,
}

pub(crate) fn dump_error(msg: impl Into<String>) -> Error {
    Error::new(Code::ErrorDumpingTree, msg)
}

/// The file's line break: `\r\n` if its first line break is one.
pub(crate) fn detect_newline(src: &str) -> &'static str {
    match src.find('\n') {
        Some(i) if i > 0 && src.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// The file's indentation unit: the first positive step from a block map to a block map (or,
/// failing that, a block sequence) nested in it; 4 (sops's default) if there is none.
pub(crate) fn detect_unit(ix: &Indexed) -> usize {
    let mut seq_step = None;
    for n in &ix.nodes {
        let Node::Map(m) = n else { continue };
        if m.kind != CollKind::Block {
            continue;
        }
        for it in &m.items {
            let parse::MapItem::Entry { value, .. } = it else {
                continue;
            };
            match ix.nodes.get(*value as usize) {
                Some(Node::Map(c)) if c.kind == CollKind::Block && c.indent > m.indent => {
                    let step = c.indent - m.indent;
                    if (2..=9).contains(&step) {
                        return step;
                    }
                }
                Some(Node::Seq(c))
                    if c.kind == CollKind::Block && c.indent > m.indent && seq_step.is_none() =>
                {
                    let step = c.indent - m.indent;
                    if (2..=9).contains(&step) {
                        seq_step = Some(step);
                    }
                }
                _ => {}
            }
        }
    }
    seq_step.unwrap_or(4)
}

struct Renderer<'a> {
    ix: &'a Indexed,
    edits: &'a [Edit],
    b: &'a [u8],
    nl: &'static str,
    unit: usize,
    patches: Vec<Patch<'a>>,
}

pub(crate) fn render(ix: &Indexed, edits: &[Edit], meta: Option<&Value>) -> Result<Vec<u8>> {
    let out = compose(ix, edits, meta, Vec::new())?;
    // The re-parsed index keeps the output text itself (no copy); take it back afterwards.
    let re = parse::index_owned(out).map_err(reparse_error)?;
    let checked = verify::verify_index(ix, edits, meta, &re);
    #[cfg(test)]
    if checked.is_err() {
        eprintln!("---- rendered ----\n{}\n------------------", re.src);
    }
    checked?;
    Ok(re.src.into_bytes())
}

/// The source with each leaf's edit, the `extra` replacements (`start..end` → text, none
/// overlapping an edited leaf or the metadata) and the metadata applied; not yet checked.
pub(crate) fn compose(
    ix: &Indexed,
    edits: &[Edit],
    meta: Option<&Value>,
    extra: Vec<(usize, usize, String)>,
) -> Result<String> {
    crate::format::one_edit_per_leaf(edits, ix.leaves.len(), "yaml")?;
    let mut r = Renderer::new(ix, edits);
    let mut i = 0;
    while i < ix.leaves.len() {
        match ix.leaves[i] {
            Leaf::Scalar(id) => {
                if let Node::Scalar(s) = &ix.nodes[id as usize] {
                    r.scalar(s, &edits[i], i)?;
                }
                i += 1;
            }
            Leaf::Comment(c) => {
                r.comment(c, &edits[i], i)?;
                i += 1;
            }
            Leaf::InAlias(a) => {
                let (f, e) = ix.leaf_range[a as usize];
                let (f, e) = (f as usize, (e as usize).max(f as usize + 1));
                r.alias(a, &edits[f..e.min(edits.len())])?;
                i = e;
            }
        }
    }
    for (start, end, text) in extra {
        r.push(start, end, text);
    }
    for d in 0..ix.doc_info.len() {
        r.meta(d, meta)?;
    }
    let mut out = r.assemble()?;
    if meta.is_none() && !out.is_empty() && !out.ends_with(['\n', '\r']) {
        // Plaintext ends with a line break, as sops writes it, even when the file had none.
        r.close_open_end();
        out = r.assemble()?;
        if !out.ends_with(['\n', '\r']) {
            out.push_str(r.nl);
        }
    }
    Ok(out)
}

pub(crate) fn reparse_error(e: Error) -> Error {
    dump_error(format!(
        "the rendered yaml does not parse back ({})",
        e.message
    ))
    .hint("this is a veil bug; please report it with the file's layout (not its values)")
}

impl<'a> Renderer<'a> {
    fn new(ix: &'a Indexed, edits: &'a [Edit]) -> Renderer<'a> {
        Renderer {
            ix,
            edits,
            b: ix.src.as_bytes(),
            nl: detect_newline(&ix.src),
            unit: detect_unit(ix),
            patches: Vec::new(),
        }
    }

    fn push(&mut self, start: usize, end: usize, text: impl Into<Cow<'a, str>>) {
        self.patches.push(Patch {
            start,
            end,
            text: text.into(),
        });
    }

    fn assemble(&mut self) -> Result<String> {
        self.patches.sort_by_key(|p| (p.start, p.end));
        let src = &self.ix.src;
        let mut out = String::with_capacity(
            src.len() + self.patches.iter().map(|p| p.text.len()).sum::<usize>(),
        );
        let mut at = 0;
        for p in &self.patches {
            if p.start < at || p.end < p.start {
                return Err(dump_error("internal error: overlapping yaml edits"));
            }
            out.push_str(
                src.get(at..p.start)
                    .ok_or_else(|| dump_error("internal error: bad yaml edit position"))?,
            );
            out.push_str(&p.text);
            at = p.end;
        }
        out.push_str(src.get(at..).unwrap_or(""));
        Ok(out)
    }

    fn comment(&mut self, c: u32, edit: &'a Edit, leaf: usize) -> Result<()> {
        let cs = self.ix.comments[c as usize];
        let text = match edit {
            Edit::Keep => return Ok(()),
            Edit::Seal(t) => t.as_str(),
            Edit::Open(Scalar::Comment(t)) => t.as_str(),
            Edit::Open(_) => {
                return Err(dump_error(format!(
                    "leaf {leaf} is a yaml comment but was opened as a value"
                )))
            }
        };
        if text.contains(['\n', '\r']) {
            return Err(dump_error(format!(
                "the comment at line {} would span several lines",
                self.line(cs.hash)
            )));
        }
        self.push(cs.hash + 1, cs.end, text);
        Ok(())
    }

    fn line(&self, pos: usize) -> usize {
        lex::line_number(self.b, pos)
    }

    /// Remove a tag (and the blanks after it on its line): sops drops tags, and `!!int` in
    /// front of an `ENC[…]` string would not read back.
    fn drop_tag(&mut self, s: &ScalarNode) {
        if let Some((ts, te)) = s.tag.map(|(a, b)| (a as usize, b as usize)) {
            let mut e = te;
            while e < s.start && lex::is_ws(self.b[e]) {
                e += 1;
            }
            self.push(ts, e, String::new());
        }
    }

    /// Replace a scalar token with one-line `text`.
    fn replace_token(&mut self, s: &ScalarNode, text: impl Into<Cow<'a, str>>) {
        let mut text: Cow<'a, str> = text.into();
        self.drop_tag(s);
        let start = s.start;
        // The byte that will precede the new text once the tag is gone.
        let before = match s.tag.map(|(a, b)| (a as usize, b as usize)) {
            Some((ts, te)) if ts > 0 && self.b[te..start].iter().all(|&c| lex::is_ws(c)) => {
                Some(self.b[ts - 1])
            }
            _ if start > 0 => Some(self.b[start - 1]),
            _ => None,
        };
        if let Some(c) = before {
            if !lex::is_blank_or_break(c) && !matches!(c, b'[' | b'{' | b',') {
                text.to_mut().insert(0, ' ');
            }
        }
        match s.block.as_deref() {
            Some(l) => {
                self.push(l.header_start, l.header_end, text);
                if l.value_end > l.header_line_end {
                    self.push(l.header_line_end, l.value_end, String::new());
                }
            }
            None => self.push(start, s.end, text),
        }
    }

    fn scalar(&mut self, s: &ScalarNode, edit: &'a Edit, leaf: usize) -> Result<()> {
        match edit {
            Edit::Keep => Ok(()),
            Edit::Seal(t) => {
                let text = seal_text(t, s.style, s.ctx.in_flow);
                self.replace_token(s, text);
                Ok(())
            }
            Edit::Open(Scalar::Comment(c)) => self.list_comment(s, c, leaf),
            Edit::Open(v) => self.open(s, v),
        }
    }

    /// `- ENC[…,type:comment]` opened: the list element becomes a comment line again.
    fn list_comment(&mut self, s: &ScalarNode, text: &str, leaf: usize) -> Result<()> {
        let Some(dash) = s
            .ctx
            .dash
            .map(|d| d as usize)
            .filter(|_| s.ctx.in_seq && !s.ctx.in_flow)
        else {
            return Err(dump_error(format!(
                "leaf {leaf} (line {}) is a comment but is not a block list element",
                self.line(s.start)
            )));
        };
        if text.contains(['\n', '\r']) {
            return Err(dump_error(format!(
                "the comment at line {} would span several lines",
                self.line(s.start)
            )));
        }
        let end = s.block.as_ref().map_or(s.end, |l| l.value_end);
        let ls = lex::line_start(self.b, dash);
        if self.b[ls..dash].iter().all(|&c| lex::is_ws(c)) {
            self.push(dash, end, format!("#{text}"));
        } else {
            // `- - ENC[…]`: the comment moves to its own line, in the inner list's column.
            let mut start = dash;
            while start > ls && lex::is_ws(self.b[start - 1]) {
                start -= 1;
            }
            let mut line = String::from(self.nl);
            emit::push_spaces(&mut line, dash - ls);
            line.push('#');
            line.push_str(text);
            self.push(start, end, line);
        }
        Ok(())
    }

    fn open(&mut self, s: &ScalarNode, v: &Scalar) -> Result<()> {
        let text_owned;
        let text: &str = match v {
            Scalar::Str(t) => t,
            Scalar::Raw(b) | Scalar::Bytes(b) => match std::str::from_utf8(b) {
                Ok(t) => t,
                Err(_) => {
                    use base64::Engine as _;
                    text_owned = format!(
                        "!!binary {}",
                        base64::engine::general_purpose::STANDARD.encode(b)
                    );
                    self.replace_token(s, text_owned);
                    return Ok(());
                }
            },
            other => {
                let t = typed_plain(other).ok_or_else(|| {
                    dump_error(format!(
                        "cannot write the {} value at line {}",
                        other.type_name(),
                        self.line(s.start)
                    ))
                })?;
                self.replace_token(s, t);
                return Ok(());
            }
        };
        if let Some((header, body)) = self.literal(s, text) {
            // Header where the token was, content lines after the token's line.
            self.drop_tag(s);
            match s.block.as_deref() {
                Some(l) => {
                    self.push(l.header_start, l.header_end, header);
                    self.push(l.header_line_end, l.value_end.max(l.header_line_end), body);
                }
                None => {
                    self.push(s.start, s.end, header);
                    let le = lex::line_end(self.b, s.end);
                    self.push(le, le, body);
                }
            }
            return Ok(());
        }
        let t = str_text(text, s.style, s.ctx.in_flow);
        self.replace_token(s, t);
        Ok(())
    }

    /// A multi-line string as a `|` block, when the place allows one: block context, a line
    /// break after the token's line, and no leading blank that would need an indicator.
    fn literal(&self, s: &ScalarNode, text: &str) -> Option<(String, String)> {
        if !text.contains('\n') || s.ctx.in_flow || text.starts_with([' ', '\n']) {
            return None;
        }
        if matches!(s.style, Style::Double | Style::Single) {
            // A quoted token stays quoted (a sealed `"a\nb"` opens as it was written).
            return None;
        }
        if !analyze(text).block {
            return None;
        }
        let line_end = match s.block.as_deref() {
            Some(l) => l.value_end.max(l.header_line_end),
            None => lex::line_end(self.b, s.end),
        };
        if line_end >= self.b.len() {
            return None;
        }
        if text.ends_with("\n\n") || text == "\n" {
            // A keep-chomped block would swallow blank lines that follow it.
            let next = lex::after_break(self.b, line_end);
            let ne = lex::line_end(self.b, next);
            if next < self.b.len() && self.b[next..ne].iter().all(|&c| c == b' ') {
                return None;
            }
        }
        let indent = if s.ctx.in_seq {
            match s.ctx.dash.map(|d| d as usize) {
                Some(d) => d - lex::line_start(self.b, d) + 2,
                None => return None,
            }
        } else {
            s.ctx.parent_indent as usize + self.unit
        };
        let header = literal_header(text, 0);
        let mut body = String::new();
        literal_body(&mut body, text, indent, self.nl);
        Some((header, body))
    }

    /// An alias whose copy has edits (or whose anchor has) is replaced by the edited copy.
    fn alias(&mut self, a: NodeId, edits: &[Edit]) -> Result<()> {
        let Node::Alias(al) = &self.ix.nodes[a as usize] else {
            return Ok(());
        };
        let (tf, te) = self
            .ix
            .leaf_range
            .get(al.target as usize)
            .copied()
            .unwrap_or((0, 0));
        let target_edits = self.edits.get(tf as usize..te as usize).unwrap_or(&[]);
        let target_edited = target_edits.iter().any(|e| !matches!(e, Edit::Keep));
        let copy_edited = edits.iter().any(|e| !matches!(e, Edit::Keep));
        if !target_edited && !copy_edited {
            return Ok(());
        }
        let Some(v) = self.ix.alias_values.get(&a) else {
            return Ok(());
        };
        let mut k = 0;
        let text = match (v, edits.first()) {
            // An alias of a scalar, outside flow context: written like that scalar's edit.
            (Value::Scalar(orig), Some(e)) if !al.ctx.in_flow => match e {
                Edit::Seal(t) => seal_text(t, Style::Plain, false).into_owned(),
                Edit::Open(Scalar::Comment(_)) => {
                    return Err(dump_error(
                        "a comment cannot replace a value behind an alias",
                    ))
                }
                Edit::Open(o) => block_scalar_text(o),
                Edit::Keep => block_scalar_text(orig),
            },
            _ => flow_value(v, edits, &mut k)?,
        };
        let (start, end) = (al.start, al.end);
        self.push(start, end, text);
        Ok(())
    }

    /// Append, replace or remove one document's `sops:` block.
    fn meta(&mut self, d: usize, meta: Option<&Value>) -> Result<()> {
        let doc = &self.ix.doc_info[d];
        let root_flow = doc.root.and_then(|r| match &self.ix.nodes[r as usize] {
            Node::Map(m) if m.kind != CollKind::Block => Some(r),
            _ => None,
        });
        if let Some(r) = root_flow {
            return match meta {
                Some(m) => self.block_root(d, r, m),
                None => self.drop_flow_meta(d),
            };
        }
        if let Some(se) = &doc.sops {
            let ls = lex::line_start(self.b, se.key_start);
            if !self.b[ls..se.key_start].iter().all(|&c| lex::is_ws(c)) {
                return Err(dump_error(format!(
                    "cannot rewrite the sops metadata at line {}: it does not start its line",
                    self.line(se.key_start)
                )));
            }
            let last = subtree_end(self.ix, se.value);
            let le = lex::line_end(self.b, last);
            let end = lex::after_break(self.b, le);
            let at_eof_no_break = end == le;
            match meta {
                Some(m) => {
                    let mut block = emit::meta_block(m, se.key_start - ls, self.unit, self.nl);
                    if at_eof_no_break {
                        truncate_nl(&mut block);
                    }
                    self.push(ls, end, block);
                }
                // The line break before it stays: plaintext ends with one. A document that
                // held nothing else is an empty map, as sops writes it.
                None => {
                    let empty = matches!(&self.ix.docs[d], Value::Map(items)
                        if !items.iter().any(|i| matches!(i, Item::Entry(..))));
                    let text = if empty {
                        format!("{{}}{}", self.nl)
                    } else {
                        String::new()
                    };
                    self.push(ls, end, text);
                }
            }
            return Ok(());
        }
        let Some(m) = meta else { return Ok(()) };
        let col = match doc.root.map(|r| &self.ix.nodes[r as usize]) {
            Some(Node::Map(m)) => m.indent,
            _ => 0,
        };
        let pos = doc.end.min(self.b.len());
        let mut block = emit::meta_block(m, col, self.unit, self.nl);
        if pos > 0 && !lex::is_break(self.b[pos - 1]) {
            let at_eof = pos == self.b.len();
            if !(at_eof && self.close_open_end()) {
                block.insert_str(0, self.nl);
            }
            if at_eof {
                truncate_nl(&mut block);
            }
        }
        self.push(pos, pos, block);
        Ok(())
    }

    /// Before a line break goes after the last byte of a text that has none: keep the value of
    /// an unedited block scalar that runs to that end, which the break would change (`|` over
    /// a last line `  a` is "a" without the break, "a\n" with it). Returns whether the text
    /// now ends with a line break (its last line, blanks only, is gone).
    fn close_open_end(&mut self) -> bool {
        let layout = self.ix.leaves.iter().zip(self.edits).find_map(|(leaf, e)| {
            let (Leaf::Scalar(id), Edit::Keep) = (leaf, e) else {
                return None;
            };
            match &self.ix.nodes[*id as usize] {
                Node::Scalar(s) => s.block.as_deref().filter(|l| l.open_end != OpenEnd::Closed),
                _ => None,
            }
        });
        let Some(l) = layout.copied() else {
            return false;
        };
        match l.open_end {
            OpenEnd::Content => {
                // Strip chomping reads the same value with the break: `|+2` becomes `|2-`.
                let mut header: String = self.ix.src[l.header_start..l.header_end]
                    .chars()
                    .filter(|&c| c != '+')
                    .collect();
                header.push('-');
                self.push(l.header_start, l.header_end, header);
                false
            }
            OpenEnd::KeepBlank => {
                let last = lex::line_start(self.b, self.b.len());
                self.push(last, self.b.len(), String::new());
                true
            }
            OpenEnd::Closed => false,
        }
    }

    /// A document whose root is a flow map (`{…}`: a JSON file read as YAML, as `helm secrets`
    /// encrypts `values.json`) is written in block style when it gets metadata, as sops writes
    /// every document: helm-secrets, pre-commit hooks and scripts find a sops file by its
    /// top-level `sops:` line. The map is written afresh (go-yaml's layout, the file's line
    /// breaks), its edits applied; text outside it stays.
    fn block_root(&mut self, d: usize, root: NodeId, meta: &Value) -> Result<()> {
        let Node::Map(m) = &self.ix.nodes[root as usize] else {
            return Ok(());
        };
        let (l0, l1) = self.ix.leaf_range[root as usize];
        let first = l0 as usize;
        let edits = self.edits;
        let mut doc = [self.ix.docs[d].clone()];
        let mut missing = false;
        walk_leaves_mut(&mut doc, |i, _, s| match edits.get(first + i) {
            Some(Edit::Keep) => {}
            Some(Edit::Seal(t)) if s.is_comment() => *s = Scalar::Comment(t.clone()),
            Some(Edit::Seal(t)) => *s = Scalar::Str(t.clone()),
            Some(Edit::Open(v)) => *s = v.clone(),
            None => missing = true,
        });
        if missing {
            return Err(dump_error(
                "internal error: too few edits for a yaml document",
            ));
        }
        let mut e = emit::Emitter {
            out: String::new(),
            unit: self.unit,
            nl: self.nl,
        };
        e.document(&doc[0], Some(meta));
        // The text replaced: the braces and every comment the map holds (a comment on the
        // lines before or after the braces belongs to it too).
        let (mut from, mut to) = (m.start, m.end);
        for leaf in &self.ix.leaves[l0 as usize..l1 as usize] {
            if let Leaf::Comment(c) = leaf {
                let cs = &self.ix.comments[*c as usize];
                from = from.min(cs.hash);
                to = to.max(cs.end);
            }
        }
        let ls = lex::line_start(self.b, from);
        let start = if self.b[ls..from].iter().all(|&c| lex::is_ws(c)) {
            ls
        } else {
            // `--- {…}` or `&anchor {…}`: the block map starts on the next line.
            e.out.insert_str(0, self.nl);
            from
        };
        // The blanks and line break after the closing brace go with it: the block ends with
        // its own line break.
        let le = lex::line_end(self.b, to);
        let end = if self.b[to..le].iter().all(|&c| lex::is_ws(c)) {
            lex::after_break(self.b, le)
        } else {
            to
        };
        self.patches.retain(|p| p.end <= start || p.start >= end);
        self.push(start, end, e.out);
        Ok(())
    }

    /// Remove the `sops` entry of a flow-style (`{…}`) top-level map (as older veil versions
    /// wrote it).
    fn drop_flow_meta(&mut self, d: usize) -> Result<()> {
        let doc = &self.ix.doc_info[d];
        let Some(se) = &doc.sops else {
            return Ok(());
        };
        let vend = subtree_end(self.ix, se.value);
        // Remove `, sops: …` (or `sops: …,` when it comes first).
        let s = se.key_start;
        let mut j = s;
        while j > 0 && lex::is_blank_or_break(self.b[j - 1]) {
            j -= 1;
        }
        if j > 0 && self.b[j - 1] == b',' {
            self.push(j - 1, vend, String::new());
        } else {
            let mut e = vend;
            while e < self.b.len() && lex::is_blank_or_break(self.b[e]) {
                e += 1;
            }
            if e < self.b.len() && self.b[e] == b',' {
                e += 1;
                while e < self.b.len() && lex::is_ws(self.b[e]) {
                    e += 1;
                }
            }
            self.push(s, e, String::new());
        }
        Ok(())
    }
}

fn truncate_nl(s: &mut String) {
    if s.ends_with("\r\n") {
        s.truncate(s.len() - 2);
    } else if s.ends_with('\n') {
        s.truncate(s.len() - 1);
    }
}

/// Where a node's text ends, comments it holds included.
pub(crate) fn subtree_end(ix: &Indexed, id: NodeId) -> usize {
    match &ix.nodes[id as usize] {
        Node::Scalar(s) => s
            .block
            .as_ref()
            .map_or(s.end, |l| l.value_end.max(l.header_end)),
        Node::Map(m) => m.end,
        Node::Seq(s) => s.end,
        Node::Alias(a) => a.end,
    }
}

/// An `ENC[…]` token in the style of the value it replaces: quoted as it was, double-quoted in
/// a flow collection, plain otherwise (block scalars collapse to one plain line).
pub(crate) fn seal_text(token: &str, style: Style, in_flow: bool) -> Cow<'_, str> {
    // The common case, an `ENC[…]` token of base64 fields, is a safe plain scalar.
    let simple = token.starts_with("ENC[")
        && token.bytes().all(|c| ENC_CHARS[c as usize])
        && !token.contains(":,")
        && !token.ends_with(':');
    let plain_ok = simple || {
        let a = analyze(token);
        a.block_plain && !plain_is_ambiguous(token)
    };
    let quoted = matches!(style, Style::Single | Style::Double);
    if !quoted && !in_flow && plain_ok {
        return Cow::Borrowed(token);
    }
    let mut out = String::with_capacity(token.len() + 2);
    if analyze_if_quoted(token, style) {
        write_single(&mut out, token);
    } else {
        write_double(&mut out, token, false);
    }
    Cow::Owned(out)
}

/// The bytes of an `ENC[…]` token of base64 fields: letters, digits and `[],:+/=_`.
const ENC_CHARS: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric()
            || matches!(b, b'[' | b']' | b',' | b':' | b'+' | b'/' | b'=' | b'_');
        c += 1;
    }
    t
};

/// Whether a token can keep single quotes (only asked when the original was single-quoted).
fn analyze_if_quoted(token: &str, style: Style) -> bool {
    style == Style::Single && analyze(token).single
}

/// A one-line string in natural YAML: plain when it reads back as the same string, otherwise
/// quoted (keeping the quote style of the token it replaces where it can).
pub(crate) fn str_text(t: &str, style: Style, in_flow: bool) -> String {
    if style == Style::Plain && !in_flow && simple_plain(t) {
        return t.to_string();
    }
    str_text_full(t, style, in_flow)
}

/// A string of letters, digits, inner single spaces and `_.-/@+=`, starting with a letter or
/// digit and reading back as a string: written plain, as the full analysis would (tested
/// against it), without running it. Most values of real files are like this.
fn simple_plain(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1] != b' '
        && b.iter().all(|&c| {
            c.is_ascii_alphanumeric()
                || matches!(c, b' ' | b'_' | b'.' | b'-' | b'/' | b'@' | b'+' | b'=')
        })
        && !plain_is_ambiguous(t)
}

fn str_text_full(t: &str, style: Style, in_flow: bool) -> String {
    let a = analyze(t);
    let resolves_str = !plain_is_ambiguous(t);
    let mut out = String::with_capacity(t.len() + 2);
    if !in_flow {
        match style {
            Style::Double => {
                write_double(&mut out, t, false);
                return out;
            }
            Style::Single => {
                if a.single && !a.multiline {
                    write_single(&mut out, t);
                } else {
                    write_double(&mut out, t, false);
                }
                return out;
            }
            _ => {}
        }
    }
    // Inside flow collections only plain text of words is written plain: parsers disagree
    // about indicators there (saphyr rejects `[~ -]`).
    let flow_words = || {
        t.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '_' | '.' | '/' | '@' | '+'))
    };
    let plain_ok = resolves_str
        && if in_flow {
            a.flow_plain && flow_words()
        } else {
            a.block_plain
        };
    if plain_ok {
        out.push_str(t);
    } else if resolves_str && a.single && !a.multiline {
        write_single(&mut out, t);
    } else {
        write_double(&mut out, t, false);
    }
    out
}

/// A value written in flow style, for an alias replaced by its edited copy; `edits` are the
/// copy's leaves in walk order.
fn flow_value(v: &Value, edits: &[Edit], k: &mut usize) -> Result<String> {
    let mut out = String::new();
    match v {
        Value::Null => out.push_str("null"),
        Value::Scalar(s) => {
            let e = edits.get(*k).cloned().unwrap_or(Edit::Keep);
            *k += 1;
            let s = match e {
                Edit::Keep => s.clone(),
                Edit::Seal(t) => {
                    write_double(&mut out, &t, false);
                    return Ok(out);
                }
                Edit::Open(Scalar::Comment(_)) => {
                    return Err(dump_error(
                        "a comment cannot replace a value inside an alias",
                    ))
                }
                Edit::Open(o) => o,
            };
            out.push_str(&flow_scalar(&s, true));
        }
        Value::List(items) => {
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&flow_value(it, edits, k)?);
            }
            out.push(']');
        }
        Value::Map(items) => {
            out.push('{');
            let mut first = true;
            for it in items {
                if let Item::Entry(key, val) = it {
                    if !first {
                        out.push_str(", ");
                    }
                    first = false;
                    out.push_str(&str_text(key, Style::Plain, true));
                    out.push_str(": ");
                    out.push_str(&flow_value(val, edits, k)?);
                }
            }
            out.push('}');
        }
    }
    Ok(out)
}

/// A scalar on one line in block context.
fn block_scalar_text(s: &Scalar) -> String {
    flow_scalar(s, false)
}

fn flow_scalar(s: &Scalar, in_flow: bool) -> String {
    match s {
        Scalar::Str(t) | Scalar::Comment(t) => str_text(t, Style::Plain, in_flow),
        Scalar::Raw(b) | Scalar::Bytes(b) => match std::str::from_utf8(b) {
            Ok(t) => str_text(t, Style::Plain, in_flow),
            Err(_) => {
                use base64::Engine as _;
                format!(
                    "!!binary {}",
                    base64::engine::general_purpose::STANDARD.encode(b)
                )
            }
        },
        other => typed_plain(other).unwrap_or_else(|| {
            let mut o = String::new();
            write_double(&mut o, &String::from_utf8_lossy(&other.plaintext()), false);
            o
        }),
    }
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// The shortcut for simple plain strings gives exactly what the full analysis gives.
        #[test]
        fn simple_plain_matches_the_full_analysis(t in "[a-zA-Z0-9 _.\\-/@+=:#]{0,12}") {
            prop_assert_eq!(str_text(&t, Style::Plain, false), str_text_full(&t, Style::Plain, false));
        }
    }
}
