//! The node arena → the format-neutral tree ([`Value`]) and the leaf index that rendering uses
//! to find each leaf's bytes.
//!
//! Aliases expand here into comment-free copies of their anchor, bounded by a budget so a
//! file of aliases of aliases cannot exhaust memory. It must not read the source text again
//! (everything comes from the arena) and must not change the arena's spans.

use super::{Indexed, Leaf, MapItem, Node, NodeId, SeqItem, MAX_DEPTH};
use crate::error::{Error, Result};
use crate::format::input_error;
use crate::tree::{walk_leaves, Item, Scalar, Value};

/// A bound on how many values alias expansion may produce.
pub(crate) struct Budget {
    left: usize,
}

impl Budget {
    pub(crate) fn for_source(src: &str) -> Budget {
        Budget {
            left: 4 * src.len() + 100_000,
        }
    }

    fn take(&mut self) -> Result<()> {
        if self.left == 0 {
            return Err(input_error("yaml aliases expand to too many values")
                .hint("the file repeats aliases of aliases (a \"billion laughs\" file?)"));
        }
        self.left -= 1;
        Ok(())
    }
}

pub(super) fn too_deep() -> Error {
    input_error(format!("yaml nesting is deeper than {MAX_DEPTH} levels"))
}

impl Indexed {
    /// The first document's `sops` metadata as a tree.
    pub(crate) fn meta_value(&self, budget: &mut Budget) -> Result<Option<Value>> {
        match self.doc_info.iter().find_map(|d| d.sops.as_ref()) {
            Some(s) => Ok(Some(self.copy_value(s.value, 0, budget)?)),
            None => Ok(None),
        }
    }

    /// Build the tree of one node, recording leaves in walk order.
    pub(super) fn build_value(
        &mut self,
        id: NodeId,
        depth: usize,
        budget: &mut Budget,
    ) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let first = self.leaves.len() as u32;
        let take = self.take;
        let v = match &mut self.nodes[id as usize] {
            Node::Scalar(s) => {
                let v = if take {
                    s.value.take()
                } else {
                    s.value.clone()
                };
                match v {
                    Some(v) => {
                        self.leaves.push(Leaf::Scalar(id));
                        Value::Scalar(v)
                    }
                    None => Value::Null,
                }
            }
            Node::Map(m) => {
                let items: Vec<(Option<String>, u32)> = m
                    .items
                    .iter_mut()
                    .map(|it| match it {
                        MapItem::Entry { key, value, .. } => {
                            let k = if take {
                                std::mem::take(key)
                            } else {
                                key.clone()
                            };
                            (Some(k), *value)
                        }
                        MapItem::Comment(c) => (None, *c),
                    })
                    .collect();
                let mut out = Vec::with_capacity(items.len());
                for (k, n) in items {
                    match k {
                        Some(k) => {
                            out.push(Item::Entry(k, self.build_value(n, depth + 1, budget)?))
                        }
                        None => {
                            self.leaves.push(Leaf::Comment(n));
                            out.push(Item::Comment(Scalar::Comment(
                                self.comment_text(n).to_string(),
                            )));
                        }
                    }
                }
                Value::Map(out)
            }
            Node::Seq(s) => {
                let items: Vec<(bool, u32)> = s
                    .items
                    .iter()
                    .map(|it| match it {
                        SeqItem::Node(n) => (true, *n),
                        SeqItem::Comment(c) => (false, *c),
                    })
                    .collect();
                let mut out = Vec::with_capacity(items.len());
                for (is_node, n) in items {
                    if is_node {
                        out.push(self.build_value(n, depth + 1, budget)?);
                    } else {
                        self.leaves.push(Leaf::Comment(n));
                        out.push(Value::Scalar(Scalar::Comment(
                            self.comment_text(n).to_string(),
                        )));
                    }
                }
                Value::List(out)
            }
            Node::Alias(a) => {
                let target = a.target;
                let v = self.copy_value(target, depth, budget)?;
                let mut n = 0usize;
                walk_leaves(std::slice::from_ref(&v), |_, _, _| n += 1);
                for _ in 0..n {
                    self.leaves.push(Leaf::InAlias(id));
                }
                self.alias_values.insert(id, v.clone());
                v
            }
        };
        if let Some(r) = self.leaf_range.get_mut(id as usize) {
            *r = (first, self.leaves.len() as u32);
        }
        Ok(v)
    }

    /// The value behind a node as an alias sees it: comments left out, aliases expanded.
    pub(crate) fn copy_value(
        &self,
        id: NodeId,
        depth: usize,
        budget: &mut Budget,
    ) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        budget.take()?;
        Ok(match &self.nodes[id as usize] {
            Node::Scalar(s) => s.value.clone().map_or(Value::Null, Value::Scalar),
            Node::Map(m) => {
                let mut out = Vec::with_capacity(m.items.len());
                for it in &m.items {
                    if let MapItem::Entry { key, value, .. } = it {
                        out.push(Item::Entry(
                            key.clone(),
                            self.copy_value(*value, depth + 1, budget)?,
                        ));
                    }
                }
                Value::Map(out)
            }
            Node::Seq(s) => {
                let mut out = Vec::with_capacity(s.items.len());
                for it in &s.items {
                    if let SeqItem::Node(n) = it {
                        out.push(self.copy_value(*n, depth + 1, budget)?);
                    }
                }
                Value::List(out)
            }
            Node::Alias(a) => self.copy_value(a.target, depth, budget)?,
        })
    }
}
