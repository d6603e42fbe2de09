//! saphyr-parser's events → the node arena: every node with its exact byte span, its context
//! (what a replacement must respect) and its place among its parent's items.
//!
//! This is where go-yaml's refusals are mirrored (a non-mapping document, a non-string or
//! duplicate key, nesting too deep), each with a one-line cause that names a line, never a
//! value. It must not build the tree (see [`super::tree`]) and must never panic on any input.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Tag};

use super::super::lex::{self, CharMap, CommentSpan, Props};
use super::tree::too_deep;
use super::{
    style_of, type_scalar, AliasNode, Coll, CollKind, Ctx, DocInfo, Indexed, MapItem, Node, NodeId,
    ScalarNode, SeqItem, SopsEntry, Style, Typed, MAX_DEPTH,
};
use crate::error::{Code, Error, Result};
use crate::format::input_error;
use crate::tree::Scalar;

#[derive(Clone, Copy)]
pub(super) enum Owner {
    Node(NodeId),
    Drop,
}

pub(super) struct PendingKey {
    key: String,
    sops: bool,
    start: usize,
}

pub(super) enum Frame {
    Doc,
    Map { id: NodeId, key: Option<PendingKey> },
    Seq { id: NodeId },
}

pub(super) struct Builder<'a> {
    pub(super) src: &'a str,
    pub(super) b: &'a [u8],
    pub(super) cm: CharMap<'a>,
    pub(super) nodes: Vec<Node>,
    pub(super) comments: Vec<CommentSpan>,
    pub(super) frames: Vec<Frame>,
    pub(super) pending: Vec<(u32, usize)>,
    pub(super) anchors: HashMap<usize, NodeId>,
    pub(super) docs: Vec<DocInfo>,
    pub(super) cursor: usize,
    pub(super) scanned: usize,
    pub(super) last_end: [Option<(usize, Owner)>; 2],
    pub(super) scratch: Vec<CommentSpan>,
    pub(super) has_alias: bool,
}

pub(super) fn index_cow(text: Cow<'_, str>) -> Result<Indexed> {
    let src: &str = &text;
    if src.len() >= u32::MAX as usize {
        return Err(input_error("the yaml file is larger than 4 GiB").hint("split the file"));
    }
    let mut bld = Builder {
        src,
        b: src.as_bytes(),
        cm: CharMap::new(src),
        // About one node per 16 bytes, but not gigabytes up front for one huge scalar.
        nodes: Vec::with_capacity((src.len() / 16).min(1 << 20)),
        comments: Vec::new(),
        frames: Vec::new(),
        pending: Vec::new(),
        anchors: HashMap::new(),
        docs: Vec::new(),
        cursor: 0,
        scanned: 0,
        last_end: [None, None],
        scratch: Vec::new(),
        has_alias: false,
    };
    bld.run()?;
    let Builder {
        nodes,
        comments,
        docs: doc_info,
        has_alias,
        ..
    } = bld;
    if doc_info.is_empty() {
        if comments.is_empty() {
            return Err(Error::new(
                Code::NeedAtLeastOneDocument,
                "the yaml file has no documents",
            )
            .hint("add at least one key, e.g. `key: value`"));
        }
        return Err(input_error(
            "error unmarshalling input yaml: EOF (the file holds only comments)",
        )
        .hint("add at least one key, e.g. `key: value`"));
    }
    Ok(Indexed {
        src: text.into_owned(),
        leaf_range: vec![(0, 0); nodes.len()],
        nodes,
        comments,
        doc_info,
        docs: Vec::new(),
        meta: None,
        leaves: Vec::new(),
        alias_values: HashMap::new(),
        take: !has_alias,
    })
}

impl Builder<'_> {
    fn run(&mut self) -> Result<()> {
        let src = self.src;
        let mut parser = Parser::new_from_str(src);
        loop {
            let (ev, span) = match parser.next_event() {
                None => break,
                Some(Ok(x)) => x,
                Some(Err(e)) => {
                    return Err(input_error(format!(
                        "error unmarshalling input yaml: {} at line {} column {}",
                        e.info(),
                        e.marker().line(),
                        e.marker().col() + 1
                    ))
                    .hint("fix the yaml syntax at that position"))
                }
            };
            let start = self.cm.byte(span.start.index());
            match ev {
                Event::StreamStart | Event::Nothing => {}
                Event::StreamEnd => {
                    self.scan_gap(self.b.len());
                    if let Some(root) = self.docs.last().and_then(|d| d.root) {
                        self.pending_into(root);
                    }
                    self.pending.clear();
                    break;
                }
                Event::DocumentStart(explicit) => {
                    self.scan_gap(start);
                    if explicit {
                        let end = self.cm.byte(span.end.index()).max(start);
                        self.cursor = end;
                        self.scanned = self.scanned.max(end);
                    }
                    self.docs.push(DocInfo {
                        root: None,
                        end: self.b.len(),
                        sops: None,
                    });
                    self.frames.push(Frame::Doc);
                }
                Event::DocumentEnd => {
                    self.scan_gap(start);
                    let d = self.docs.len().saturating_sub(1);
                    if !self.pending.is_empty() {
                        let root = match self.docs.get(d).and_then(|x| x.root) {
                            Some(r) => r,
                            None => {
                                let id = self.new_map(CollKind::Block, start, 0);
                                if let Some(doc) = self.docs.get_mut(d) {
                                    doc.root = Some(id);
                                }
                                id
                            }
                        };
                        self.pending_into(root);
                    }
                    if let Some(doc) = self.docs.get_mut(d) {
                        doc.end = start;
                    }
                    if self.b.get(start..start + 3) == Some(b"...") {
                        self.cursor = start + 3;
                        self.scanned = self.scanned.max(start + 3);
                    }
                    self.frames.pop();
                }
                Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                    let is_map = matches!(ev, Event::MappingStart(..));
                    self.collection_start(is_map, start, anchor)?;
                }
                Event::MappingEnd | Event::SequenceEnd => self.collection_end(start)?,
                Event::Scalar(value, style, anchor, tag) => {
                    self.scalar(value, style_of(style), anchor, tag.as_deref(), start)?
                }
                Event::Alias(anchor) => self.alias(anchor, start)?,
            }
        }
        Ok(())
    }

    fn new_map(&mut self, kind: CollKind, start: usize, indent: usize) -> NodeId {
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node::Map(Coll {
            items: Vec::new(),
            kind,
            indent,
            start,
            end: start,
            closed: false,
            keyed: false,
        }));
        id
    }

    fn col(&self, pos: usize) -> usize {
        pos - lex::line_start(self.b, pos)
    }

    /// Context for a node about to be attached to the top frame.
    fn ctx_here(&self, node_start: usize) -> Ctx {
        match self.frames.last() {
            Some(Frame::Map { id, .. }) => match &self.nodes[*id as usize] {
                Node::Map(m) => Ctx {
                    in_flow: m.kind != CollKind::Block,
                    in_seq: false,
                    parent_indent: m.indent as u32,
                    dash: None,
                },
                _ => Ctx::default(),
            },
            Some(Frame::Seq { id }) => match &self.nodes[*id as usize] {
                Node::Seq(s) => {
                    let mut dash = None;
                    if s.kind == CollKind::Block {
                        let mut i = node_start;
                        while i > 0 && lex::is_ws(self.b[i - 1]) {
                            i -= 1;
                        }
                        if i > 0 && self.b[i - 1] == b'-' {
                            let d = i - 1;
                            let ls = lex::line_start(self.b, d);
                            // The `-` starts its line, or follows other `-`s of compact
                            // nested lists (`- - x`).
                            if self.b[ls..d].iter().all(|&c| lex::is_ws(c) || c == b'-') {
                                dash = Some(d as u32);
                            }
                        }
                    }
                    Ctx {
                        in_flow: s.kind != CollKind::Block,
                        in_seq: true,
                        parent_indent: s.indent as u32,
                        dash,
                    }
                }
                _ => Ctx::default(),
            },
            _ => Ctx::default(),
        }
    }

    fn path(&self) -> String {
        let keys: Vec<&str> = self
            .frames
            .iter()
            .filter_map(|f| match f {
                Frame::Map { key: Some(k), .. } => Some(k.key.as_str()),
                _ => None,
            })
            .collect();
        if keys.is_empty() {
            "the top level".to_string()
        } else {
            format!("key '{}'", keys.join(":"))
        }
    }

    fn line(&self, pos: usize) -> usize {
        lex::line_number(self.b, pos)
    }

    fn non_string_key(&self, pos: usize) -> Error {
        Error::new(
            Code::ErrorEncryptingTree,
            format!("Tree contains a non-string key (line {})", self.line(pos)),
        )
        .hint("quote the key, e.g. \"1\": value")
    }

    /// Is the top frame a map waiting for a key?
    fn expecting_key(&self) -> bool {
        matches!(self.frames.last(), Some(Frame::Map { key: None, .. }))
    }

    /// Record a key for the map on top of the frame stack. (Duplicates are found when the
    /// map closes, see [`Builder::check_duplicates`].)
    fn set_key(&mut self, key: String, start: usize, end: usize) -> Result<()> {
        let depth = self.frames.len();
        let sops = depth == 2 && key == "sops";
        if sops {
            if let Some(first) = self.docs.last().and_then(|d| d.sops.as_ref()) {
                return Err(duplicate_key(self.b, "sops", start, first.key_start));
            }
        }
        let Some(Frame::Map { id, key: slot }) = self.frames.last_mut() else {
            return Ok(());
        };
        let id = *id;
        *slot = Some(PendingKey { key, sops, start });
        // A trailing comment on a key line belongs to this map (none for `sops:`, whose block is
        // metadata and is rewritten as a whole).
        self.note_end(end, if sops { Owner::Drop } else { Owner::Node(id) });
        // A complex key (`? key`) puts the map's column at its `?`.
        let mut at = start;
        while at > 0 && lex::is_ws(self.b[at - 1]) {
            at -= 1;
        }
        let key_col_pos = if at > 0 && self.b[at - 1] == b'?' {
            at - 1
        } else {
            start
        };
        let col = key_col_pos - lex::line_start(self.b, key_col_pos);
        if let Some(Node::Map(m)) = self.nodes.get_mut(id as usize) {
            if m.kind == CollKind::Block && !m.keyed {
                m.indent = col;
            }
            m.keyed = true;
        }
        Ok(())
    }

    /// go-yaml rejects a key defined twice in one map.
    fn check_duplicates(&self, id: NodeId) -> Result<()> {
        let Some(Node::Map(m)) = self.nodes.get(id as usize) else {
            return Ok(());
        };
        let mut keys: Vec<(&str, usize)> = m
            .items
            .iter()
            .filter_map(|i| match i {
                MapItem::Entry { key, key_start, .. } => Some((key.as_str(), *key_start)),
                _ => None,
            })
            .collect();
        if keys.len() < 2 {
            return Ok(());
        }
        keys.sort_unstable();
        for w in keys.windows(2) {
            if w[0].0 == w[1].0 {
                let (first, second) = (w[0].1.min(w[1].1), w[0].1.max(w[1].1));
                return Err(duplicate_key(self.b, w[0].0, second, first));
            }
        }
        Ok(())
    }

    /// Attach a finished or starting value node to the top frame.
    fn attach(&mut self, id: NodeId) -> Result<()> {
        let d = self.docs.len().saturating_sub(1);
        match self.frames.last_mut() {
            Some(Frame::Doc) => {
                if let Some(doc) = self.docs.get_mut(d) {
                    doc.root = Some(id);
                }
            }
            Some(Frame::Map { id: m, key, .. }) => {
                let m = *m;
                if let Some(k) = key.take() {
                    if k.sops {
                        if let Some(doc) = self.docs.get_mut(d) {
                            doc.sops = Some(SopsEntry {
                                key_start: k.start,
                                value: id,
                            });
                        }
                    } else if let Some(Node::Map(map)) = self.nodes.get_mut(m as usize) {
                        map.items.push(MapItem::Entry {
                            key: k.key,
                            key_start: k.start,
                            value: id,
                        });
                    }
                }
            }
            Some(Frame::Seq { id: s }) => {
                let s = *s;
                if let Some(Node::Seq(seq)) = self.nodes.get_mut(s as usize) {
                    seq.items.push(SeqItem::Node(id));
                }
            }
            None => {}
        }
        Ok(())
    }

    fn check_root(&self, is_map: bool, start: usize) -> Result<()> {
        if matches!(self.frames.last(), Some(Frame::Doc)) && !is_map {
            return Err(input_error(format!(
                "error unmarshalling input yaml: the document at line {} is not a mapping: cannot unmarshal !!seq into map",
                self.line(start)
            ))
            .hint("sops files need a mapping at the top level; put the list under a key, e.g. `items:`"));
        }
        Ok(())
    }

    fn collection_start(&mut self, is_map: bool, start: usize, anchor: usize) -> Result<()> {
        if self.expecting_key() {
            return Err(self.non_string_key(start));
        }
        self.check_root(is_map, start)?;
        if self.frames.len() > MAX_DEPTH {
            return Err(too_deep());
        }
        let (props, ns) = lex::skip_props(self.b, start);
        let opener = if is_map { b'{' } else { b'[' };
        let in_flow = self.ctx_here(props.start).in_flow;
        let kind = if self.b.get(ns) == Some(&opener) {
            CollKind::Flow
        } else if in_flow {
            CollKind::FlowPair
        } else {
            CollKind::Block
        };
        let scan_to = if kind == CollKind::Block {
            start
        } else {
            props.start
        };
        self.scan_gap(scan_to);
        self.pending_before_item(true);
        let node_start = if kind == CollKind::Block { start } else { ns };
        let indent = self.col(node_start);
        let id = self.nodes.len() as NodeId;
        let coll_end = node_start;
        if is_map {
            self.nodes.push(Node::Map(Coll {
                items: Vec::new(),
                kind,
                indent,
                start: node_start,
                end: coll_end,
                closed: false,
                keyed: false,
            }));
        } else {
            self.nodes.push(Node::Seq(Coll {
                items: Vec::new(),
                kind,
                indent,
                start: node_start,
                end: coll_end,
                closed: false,
                keyed: false,
            }));
        }
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        self.attach(id)?;
        if kind == CollKind::Flow {
            self.cursor = ns + 1;
            self.scanned = self.scanned.max(ns + 1);
        }
        self.frames.push(if is_map {
            Frame::Map { id, key: None }
        } else {
            Frame::Seq { id }
        });
        Ok(())
    }

    fn collection_end(&mut self, start: usize) -> Result<()> {
        let id = match self.frames.last() {
            Some(Frame::Map { id, .. }) | Some(Frame::Seq { id }) => *id,
            _ => return Ok(()),
        };
        let (kind, indent) = match &self.nodes[id as usize] {
            Node::Map(m) => (m.kind, m.indent),
            Node::Seq(s) => (s.kind, s.indent),
            _ => (CollKind::Block, 0),
        };
        let close = if kind == CollKind::Flow && matches!(self.b.get(start), Some(b']' | b'}')) {
            Some(start)
        } else {
            None
        };
        self.scan_gap(start);
        match kind {
            CollKind::Block => {
                let k = self
                    .pending
                    .iter()
                    .take_while(|(_, col)| *col >= indent)
                    .count();
                let take: Vec<(u32, usize)> = self.pending.drain(..k).collect();
                for (c, _) in take {
                    self.push_comment(id, c);
                }
            }
            _ => self.pending_into(id),
        }
        let mut end = self.cursor;
        if let Some(p) = close {
            end = p + 1;
            self.cursor = end;
            self.scanned = self.scanned.max(end);
        }
        let comments = &self.comments;
        match self.nodes.get_mut(id as usize) {
            Some(Node::Map(m)) => {
                let cmax = m.items.iter().filter_map(|i| match i {
                    MapItem::Comment(c) => comments.get(*c as usize).map(|c| c.end),
                    _ => None,
                });
                m.end = cmax.fold(end, usize::max);
                m.closed = true;
            }
            Some(Node::Seq(s)) => {
                let cmax = s.items.iter().filter_map(|i| match i {
                    SeqItem::Comment(c) => comments.get(*c as usize).map(|c| c.end),
                    _ => None,
                });
                s.end = cmax.fold(end, usize::max);
                s.closed = true;
            }
            _ => {}
        }
        self.check_duplicates(id)?;
        self.frames.pop();
        if kind != CollKind::Block {
            // A trailing comment after a flow collection goes into it when it is a map value,
            // next to it when it is a list item.
            let owner = match self.frames.last() {
                Some(Frame::Seq { id: s }) => Owner::Node(*s),
                Some(Frame::Map { key: Some(k), .. }) if k.sops => Owner::Drop,
                _ => Owner::Node(id),
            };
            self.note_end(end, owner);
        }
        Ok(())
    }

    fn scalar(
        &mut self,
        mut value: Cow<'_, str>,
        style: Style,
        anchor: usize,
        tag: Option<&Tag>,
        start: usize,
    ) -> Result<()> {
        let b = self.b;
        // Measure the token.
        let (props, tok_start, tok_end, block) = match style {
            Style::Literal | Style::Folded => {
                let parent_indent = match self.frames.last() {
                    Some(Frame::Map { id, .. }) | Some(Frame::Seq { id }) => {
                        match &self.nodes[*id as usize] {
                            Node::Map(c) if c.kind == CollKind::Block => Some(c.indent),
                            Node::Seq(c) if c.kind == CollKind::Block => Some(c.indent),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                let (p, l) =
                    lex::block_layout(b, self.cursor, &value, parent_indent).ok_or_else(|| {
                        input_error(format!(
                            "could not locate the block scalar at line {}",
                            self.line(start)
                        ))
                    })?;
                if l.eof_newline && value.ends_with('\n') {
                    value.to_mut().pop();
                }
                (p, l.header_start, l.header_end, Some(l))
            }
            _ => {
                let (p, ns) = lex::skip_props(b, start);
                if value.is_empty() && style == Style::Plain {
                    let after = [p.anchor, p.tag].iter().flatten().map(|r| r.1).max();
                    match after {
                        Some(a) => (p, a, a, None),
                        None => {
                            // An empty plain scalar without properties: a null with no text.
                            let at = self.cursor;
                            (
                                Props {
                                    start: at,
                                    anchor: None,
                                    tag: None,
                                },
                                at,
                                at,
                                None,
                            )
                        }
                    }
                } else {
                    let end = match style {
                        Style::Single => lex::single_quoted_end(b, ns),
                        Style::Double => lex::double_quoted_end(b, ns),
                        _ => lex::plain_end(b, ns, &value),
                    }
                    .ok_or_else(|| {
                        input_error(format!(
                            "could not locate the scalar at line {}",
                            self.line(ns)
                        ))
                    })?;
                    (p, ns, end, None)
                }
            }
        };
        let empty_null = value.is_empty()
            && style == Style::Plain
            && props.anchor.is_none()
            && props.tag.is_none();
        if !empty_null {
            self.scan_gap(props.start);
        }
        let typed = type_scalar(value, style, tag);
        if self.expecting_key() {
            let key = match typed {
                Typed::Value(Some(Scalar::Str(s))) => s,
                _ => return Err(self.non_string_key(tok_start)),
            };
            self.pending_before_item(false);
            self.set_key(key, props.start, tok_end)?;
            self.cursor = tok_end;
            self.scanned = self.scanned.max(tok_end);
            return Ok(());
        }
        let v = match typed {
            Typed::Value(v) => v,
            Typed::Uint => {
                return Err(Error::new(
                    Code::ErrorEncryptingTree,
                    format!("Error walking tree: unknown type: uint64 (integer too large at {})", self.path()),
                )
                .hint("quote the number to keep it as a string"))
            }
            Typed::BadTag => {
                return Err(input_error(format!(
                    "error unmarshalling input yaml: the tagged value at line {} does not match its tag",
                    self.line(tok_start)
                ))
                .hint("remove the tag or fix the value"))
            }
        };
        if matches!(self.frames.last(), Some(Frame::Doc)) && !(empty_null) {
            return Err(input_error(format!(
                "error unmarshalling input yaml: the document at line {} is a scalar, not a mapping",
                self.line(tok_start)
            ))
            .hint("sops files need a mapping at the top level, e.g. `key: value`"));
        }
        if empty_null && matches!(self.frames.last(), Some(Frame::Doc)) {
            // An empty document.
            return Ok(());
        }
        self.pending_before_item(false);
        let ctx = self.ctx_here(props.start);
        let id = self.nodes.len() as NodeId;
        let sops_value =
            matches!(self.frames.last(), Some(Frame::Map { key: Some(k), .. }) if k.sops);
        self.nodes.push(Node::Scalar(ScalarNode {
            value: v,
            style,
            tag: props.tag.map(|(a, b)| (a as u32, b as u32)),
            start: tok_start,
            end: tok_end,
            block: block.map(Box::new),
            ctx,
        }));
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        let owner = if sops_value {
            Owner::Drop
        } else {
            self.owner_here()
        };
        self.attach(id)?;
        if empty_null {
            return Ok(());
        }
        if let Some(l) = block {
            // The header line may carry a comment; then the content lines are the token.
            self.cursor = l.header_end;
            self.scanned = self.scanned.max(l.header_end);
            self.scan_gap(l.header_line_end);
            self.cursor = l.value_end;
            self.scanned = self.scanned.max(l.value_end);
        } else {
            self.cursor = tok_end;
            self.scanned = self.scanned.max(tok_end);
            self.note_end(tok_end, owner);
        }
        Ok(())
    }

    fn alias(&mut self, anchor: usize, start: usize) -> Result<()> {
        let b = self.b;
        let mut end = start + 1;
        while end < b.len() && !lex::is_blank_or_break(b[end]) && !lex::is_flow_indicator(b[end]) {
            end += 1;
        }
        self.has_alias = true;
        let Some(&target) = self.anchors.get(&anchor) else {
            return Err(input_error(format!(
                "unknown anchor in the alias at line {}",
                self.line(start)
            )));
        };
        let open = match &self.nodes[target as usize] {
            Node::Map(m) => !m.closed,
            Node::Seq(s) => !s.closed,
            _ => false,
        };
        if open {
            return Err(input_error(format!(
                "the alias at line {} refers to its own parent",
                self.line(start)
            ))
            .hint("recursive aliases cannot be expanded"));
        }
        self.scan_gap(start);
        if self.expecting_key() {
            let key = match &self.nodes[target as usize] {
                Node::Scalar(ScalarNode {
                    value: Some(Scalar::Str(s)),
                    ..
                }) => s.clone(),
                _ => return Err(self.non_string_key(start)),
            };
            self.pending_before_item(false);
            self.set_key(key, start, end)?;
        } else {
            if matches!(self.frames.last(), Some(Frame::Doc)) {
                return Err(input_error(format!(
                    "error unmarshalling input yaml: the document at line {} is an alias, not a mapping",
                    self.line(start)
                )));
            }
            self.pending_before_item(false);
            let ctx = self.ctx_here(start);
            let sops_value =
                matches!(self.frames.last(), Some(Frame::Map { key: Some(k), .. }) if k.sops);
            let owner = if sops_value {
                Owner::Drop
            } else {
                self.owner_here()
            };
            let id = self.nodes.len() as NodeId;
            self.nodes.push(Node::Alias(AliasNode {
                start,
                end,
                target,
                ctx,
            }));
            self.attach(id)?;
            self.note_end(end, owner);
        }
        self.cursor = end;
        self.scanned = self.scanned.max(end);
        Ok(())
    }
}

fn duplicate_key(b: &[u8], key: &str, at: usize, first: usize) -> Error {
    let line = lex::line_number(b, at);
    let first_line = lex::line_number(b, first);
    input_error(format!(
        "error unmarshalling input yaml: line {line}: mapping key \"{key}\" already defined at line {first_line}"
    ))
    .hint("remove or rename one of the duplicate keys")
}
