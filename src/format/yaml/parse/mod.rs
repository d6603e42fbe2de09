//! YAML source → an arena of nodes that know their exact byte spans, plus the format-neutral
//! tree ([`Value`]) and the leaf index that [`super::render`] splices on.
//!
//! It exists so that rendering can replace exactly one scalar (or one comment's text) and leave
//! every other byte alone. It reads events from saphyr-parser, re-measures each token with
//! [`super::lex`], types scalars like go-yaml v3 ([`super::resolve`]), and places comments the
//! way sops (go-yaml head/line/foot comments) would assign them to maps and lists, because a
//! comment's container decides its AAD. It must not quote plaintext values in errors, and must
//! never panic, whatever the input.
//!
//! The parts: [`build`] turns saphyr's events into the node arena (and [`comments`] gives each
//! comment its map or list), [`tree`] builds the format-neutral tree and the leaf index from
//! the arena, and [`typing`] types a scalar from its text, style and tag. This file holds the
//! arena's types and the entry points.

mod build;
mod comments;
mod tree;
mod typing;

use std::borrow::Cow;
use std::collections::HashMap;

use super::lex::{BlockLayout, CommentSpan};
use crate::error::Result;
use crate::tree::{Scalar, Value};

pub(crate) use tree::Budget;
pub(crate) use typing::{style_of, type_scalar, Typed};

/// Deepest nesting accepted (collections inside collections), in the source and after alias
/// expansion. Deeper input is rejected rather than risking the stack.
pub(crate) const MAX_DEPTH: usize = 256;

pub(crate) type NodeId = u32;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Style {
    Plain,
    Single,
    Double,
    Literal,
    Folded,
}

/// Where a node sits: what its replacement text must respect.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Ctx {
    /// Inside a flow collection (`[..]`, `{..}`): plain text must avoid `,[]{}`.
    pub in_flow: bool,
    /// An item of a sequence (not a map value).
    pub in_seq: bool,
    /// Indentation (bytes) of the block collection holding the node.
    pub parent_indent: u32,
    /// For a block-sequence item whose `-` starts its line (or follows only other `-`s): the
    /// `-` offset.
    pub dash: Option<u32>,
}

pub(crate) struct ScalarNode {
    /// `None` for null.
    pub value: Option<Scalar>,
    pub style: Style,
    /// Its tag's byte range, if it has one.
    pub tag: Option<(u32, u32)>,
    /// The token itself (for a block scalar: its header indicator, e.g. `|-`).
    pub start: usize,
    pub end: usize,
    pub block: Option<Box<BlockLayout>>,
    pub ctx: Ctx,
}

pub(crate) struct AliasNode {
    pub start: usize,
    pub end: usize,
    pub target: NodeId,
    pub ctx: Ctx,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum CollKind {
    Block,
    /// `[..]` or `{..}`.
    Flow,
    /// A single `k: v` pair written inside a flow sequence (no braces).
    FlowPair,
}

pub(crate) struct Coll<T> {
    pub items: Vec<T>,
    pub kind: CollKind,
    /// Column (bytes) of its first key or `-`; of its bracket for flow collections.
    pub indent: usize,
    pub start: usize,
    /// End of its last token (flow: after the closing bracket), comments it holds included.
    pub end: usize,
    pub closed: bool,
    /// A map has seen its first key (its indent is that key's column).
    pub keyed: bool,
}

pub(crate) enum MapItem {
    Entry {
        key: String,
        key_start: usize,
        value: NodeId,
    },
    Comment(u32),
}

pub(crate) enum SeqItem {
    Node(NodeId),
    Comment(u32),
}

pub(crate) enum Node {
    Scalar(ScalarNode),
    Map(Coll<MapItem>),
    Seq(Coll<SeqItem>),
    Alias(AliasNode),
}

/// The top-level `sops:` entry of one document.
pub(crate) struct SopsEntry {
    pub key_start: usize,
    pub value: NodeId,
}

pub(crate) struct DocInfo {
    pub root: Option<NodeId>,
    /// Where the document's region ends: its `...`, the next `---`, or the end of the text.
    pub end: usize,
    pub sops: Option<SopsEntry>,
}

/// One leaf in [`walk_leaves`] order.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Leaf {
    Scalar(NodeId),
    Comment(u32),
    /// A leaf of the expanded copy behind an alias node.
    InAlias(NodeId),
}

/// A parsed YAML file: its source, span index and tree.
pub(crate) struct Indexed {
    pub src: String,
    pub nodes: Vec<Node>,
    pub comments: Vec<CommentSpan>,
    pub doc_info: Vec<DocInfo>,
    pub docs: Vec<Value>,
    pub meta: Option<Value>,
    pub leaves: Vec<Leaf>,
    /// For every node, the range of leaf indices under it.
    pub leaf_range: Vec<(u32, u32)>,
    /// The expanded (comment-free) copy behind each alias node.
    pub alias_values: HashMap<NodeId, Value>,
    /// Keys and values may be moved out of the nodes into the tree (no alias needs them).
    take: bool,
}

impl Indexed {
    pub(crate) fn comment_text(&self, c: u32) -> &str {
        let c = &self.comments[c as usize];
        self.src.get(c.hash + 1..c.end).unwrap_or("")
    }
}

/// Parse YAML source into the span index and tree.
pub(crate) fn parse(src: &str) -> Result<Indexed> {
    let mut ix = index(src)?;
    let mut budget = Budget::for_source(src);
    let mut docs = Vec::with_capacity(ix.doc_info.len());
    for d in 0..ix.doc_info.len() {
        let v = match ix.doc_info[d].root {
            Some(r) => ix.build_value(r, 0, &mut budget)?,
            None => Value::Map(Vec::new()),
        };
        docs.push(v);
    }
    ix.docs = docs;
    ix.meta = ix.meta_value(&mut budget)?;
    Ok(ix)
}

/// Parse into the span index only (no tree): what verification needs.
pub(crate) fn index(src: &str) -> Result<Indexed> {
    build::index_cow(Cow::Borrowed(src))
}

/// [`index`] of a text the index may keep without copying it (the rendered output).
pub(crate) fn index_owned(src: String) -> Result<Indexed> {
    build::index_cow(Cow::Owned(src))
}
