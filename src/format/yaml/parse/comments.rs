//! Which map or list each comment belongs to, as go-yaml assigns head, line and foot comments.
//!
//! A comment's container decides its AAD, so a comment placed differently from sops breaks the
//! MAC. The rules are listed in the YAML store's module doc; this file applies them while the
//! arena is built. It must only place comments: it must not change nodes or spans.

use super::super::lex::{self, CommentSpan};
use super::build::{Builder, Frame, Owner};
use super::{CollKind, MapItem, Node, NodeId, SeqItem};

impl Builder<'_> {
    /// Scan the stretch between the last token and `upto` for comments and place them.
    pub(super) fn scan_gap(&mut self, upto: usize) {
        if upto <= self.scanned {
            return;
        }
        let mut found = std::mem::take(&mut self.scratch);
        found.clear();
        let stop = lex::scan_comments(self.b, self.scanned, upto, &mut found);
        self.scanned = stop.max(upto);
        for c in found.drain(..) {
            self.place_comment(c);
        }
        self.scratch = found;
    }

    pub(super) fn place_comment(&mut self, c: CommentSpan) {
        let id = self.comments.len() as u32;
        self.comments.push(c);
        let ls = lex::line_start(self.b, c.hash);
        if !c.standalone {
            // A trailing comment belongs where the node that ended on its line belongs.
            for le in [self.last_end[1], self.last_end[0]].into_iter().flatten() {
                let (end, owner) = le;
                if end <= c.hash && end >= ls {
                    if let Owner::Node(n) = owner {
                        self.push_comment(n, id);
                    }
                    return;
                }
            }
        }
        let col = if c.standalone {
            c.col
        } else {
            self.b[ls..c.hash]
                .iter()
                .take_while(|&&x| x == b' ')
                .count()
        };
        self.pending.push((id, col));
    }

    pub(super) fn push_comment(&mut self, n: NodeId, c: u32) {
        let cend = self.comments[c as usize].end;
        match self.nodes.get_mut(n as usize) {
            Some(Node::Map(m)) => {
                m.items.push(MapItem::Comment(c));
                if m.closed && m.kind == CollKind::Block {
                    m.end = m.end.max(cend);
                }
            }
            Some(Node::Seq(s)) => {
                s.items.push(SeqItem::Comment(c));
                if s.closed && s.kind == CollKind::Block {
                    s.end = s.end.max(cend);
                }
            }
            _ => {}
        }
    }

    pub(super) fn pending_into(&mut self, n: NodeId) {
        let p = std::mem::take(&mut self.pending);
        for (c, _) in p {
            self.push_comment(n, c);
        }
    }

    pub(super) fn note_end(&mut self, end: usize, owner: Owner) {
        self.last_end[0] = self.last_end[1];
        self.last_end[1] = Some((end, owner));
    }
    /// Place pending comments before a value or item that starts now.
    pub(super) fn pending_before_item(&mut self, is_collection: bool) {
        if self.pending.is_empty() {
            return;
        }
        match self.frames.last() {
            Some(Frame::Map {
                id, key: Some(_), ..
            }) if !is_collection => {
                let id = *id;
                self.pending_into(id);
            }
            Some(Frame::Map { id, key: None, .. }) => {
                let id = *id;
                self.pending_into(id);
            }
            Some(Frame::Seq { id }) => {
                let id = *id;
                if is_collection {
                    // Comments indented past the `-` are inside the item that starts now.
                    let indent = match &self.nodes[id as usize] {
                        Node::Seq(s) if s.kind == CollKind::Block => s.indent,
                        _ => usize::MAX,
                    };
                    let k = self
                        .pending
                        .iter()
                        .take_while(|(_, col)| *col <= indent)
                        .count();
                    let take: Vec<(u32, usize)> = self.pending.drain(..k).collect();
                    for (c, _) in take {
                        self.push_comment(id, c);
                    }
                } else {
                    self.pending_into(id);
                }
            }
            _ => {}
        }
    }

    /// The owner of a trailing comment after a scalar or alias attached to the top frame.
    pub(super) fn owner_here(&self) -> Owner {
        match self.frames.last() {
            Some(Frame::Map { id, .. }) | Some(Frame::Seq { id }) => Owner::Node(*id),
            _ => Owner::Drop,
        }
    }
}
