//! Structural changes made in place: the file's own text re-rendered to hold a changed tree (a
//! key added to or removed from a block map, an item appended to or removed from a block list,
//! a value replaced by a map or a list) by inserting and deleting only the lines of what
//! changed; everything else, comments on their lines included, stays byte for byte.
//!
//! It exists because `set` and `unset` that add or remove keys would otherwise re-lay the whole
//! file out: comments moved off their lines, quoting and indentation normalised, a diff on
//! every line for one new key. New text is written in go-yaml's layout at the indentation of
//! the collection it joins; a comment on a removed line stays, on a line of its own, in the
//! collection it belonged to. Only block collections are edited item by item: a flow
//! collection, an alias or a `- key: …` item whose value changes is written afresh, in block
//! style, in its place. A change it cannot place (at a flow-style root, or a top-level map
//! left empty) gives up (`None`), and the caller lays the file out afresh as before. The
//! output is parsed again and must hold exactly the intended tree and metadata, or nothing is
//! returned. Nothing here puts a value into an error.

use super::emit::{push_spaces, Emitter};
use super::lex;
use super::parse::{self, CollKind, Indexed, MapItem, Node, NodeId, SeqItem};
use super::render::{compose, detect_newline, detect_unit, subtree_end};
use crate::format::compare::{tree_eq, Leeway};
use crate::format::Edit;
use crate::tree::{Item, Scalar, Value};

/// `ix`'s text changed so that it reads as `target` (documents without metadata) with `meta`,
/// or `None` when the change is not one this module makes.
pub(crate) fn render_tree(ix: &Indexed, target: &[Value], meta: Option<&Value>) -> Option<Vec<u8>> {
    if target.len() != ix.docs.len() {
        return None;
    }
    let mut p = Planner {
        ix,
        b: ix.src.as_bytes(),
        nl: detect_newline(&ix.src),
        unit: detect_unit(ix),
        edits: vec![Edit::Keep; ix.leaves.len()],
        opened: Vec::new(),
        patches: Vec::new(),
    };
    for (d, (old, new)) in ix.docs.iter().zip(target).enumerate() {
        if same(old, new) {
            continue;
        }
        let root = ix.doc_info[d].root?;
        match (&ix.nodes[root as usize], old, new) {
            (Node::Map(m), Value::Map(oi), Value::Map(ni)) if m.kind == CollKind::Block => {
                p.map(m, oi, ni)?
            }
            _ => return None,
        }
    }
    let out = compose(ix, &p.edits, meta, p.patches).ok()?;
    let re = parse::parse(&out).ok()?;
    let same_docs =
        re.docs.len() == target.len() && re.docs.iter().zip(target).all(|(a, b)| same(a, b));
    let same_meta = match (&re.meta, meta) {
        (Some(a), Some(b)) => same(a, b),
        (None, None) => true,
        _ => false,
    };
    (same_docs && same_meta).then(|| out.into_bytes())
}

fn same(a: &Value, b: &Value) -> bool {
    tree_eq(a, b, Leeway::YAML)
}

fn has_entries(items: &[Item]) -> bool {
    items.iter().any(|i| matches!(i, Item::Entry(..)))
}

fn is_comment(v: &Value) -> bool {
    matches!(v, Value::Scalar(s) if s.is_comment())
}

struct Planner<'a> {
    ix: &'a Indexed,
    b: &'a [u8],
    nl: &'static str,
    unit: usize,
    /// One per leaf of the source: `Open` for a scalar whose value changed in place.
    edits: Vec<Edit>,
    /// The leaves given an `Open` edit, in order (to undo them).
    opened: Vec<usize>,
    patches: Vec<(usize, usize, String)>,
}

impl Planner<'_> {
    /// A point to go back to when a child cannot be changed in place.
    fn mark(&self) -> (usize, usize) {
        (self.patches.len(), self.opened.len())
    }

    fn rollback(&mut self, (patches, opened): (usize, usize)) {
        self.patches.truncate(patches);
        for leaf in self.opened.drain(opened..) {
            self.edits[leaf] = Edit::Keep;
        }
    }

    /// Change node `id` (holding `old`) in place to hold `new`: a scalar's value, or the
    /// items of a block collection. `None` when the parent must replace it whole.
    fn node(&mut self, id: NodeId, old: &Value, new: &Value) -> Option<()> {
        if same(old, new) {
            return Some(());
        }
        let ix = self.ix;
        match (&ix.nodes[id as usize], old, new) {
            (Node::Scalar(_), Value::Scalar(o), Value::Scalar(n))
                if !o.is_comment() && !n.is_comment() =>
            {
                let leaf = self.ix.leaf_range[id as usize].0 as usize;
                self.edits[leaf] = Edit::Open(n.clone());
                self.opened.push(leaf);
                Some(())
            }
            (Node::Map(m), Value::Map(oi), Value::Map(ni)) if m.kind == CollKind::Block => {
                self.map(m, oi, ni)
            }
            (Node::Seq(q), Value::List(oi), Value::List(ni)) if q.kind == CollKind::Block => {
                self.seq(q, oi, ni)
            }
            _ => None,
        }
    }

    /// A block map: entries changed, removed, or added after its last item (the metadata
    /// entry is not among its items).
    fn map(&mut self, m: &parse::Coll<MapItem>, oi: &[Item], ni: &[Item]) -> Option<()> {
        if !has_entries(ni) {
            // An empty map is written `{}`: its parent replaces it.
            return None;
        }
        let items = &m.items;
        if items.len() != oi.len() {
            return None;
        }
        let mut j = 0;
        let mut last_end = None;
        for (mi, o) in items.iter().zip(oi) {
            match (mi, o) {
                (MapItem::Comment(c), Item::Comment(oc)) => {
                    match ni.get(j) {
                        Some(Item::Comment(nc)) if nc == oc => j += 1,
                        _ => return None,
                    }
                    last_end = Some(self.ix.comments[*c as usize].end);
                }
                // (The node's key text may have moved into the tree: the tree's key counts.)
                (
                    MapItem::Entry {
                        key_start, value, ..
                    },
                    Item::Entry(k, ov),
                ) => {
                    let span = self.entry_lines(*key_start, *value)?;
                    last_end = Some(span.1);
                    match ni.get(j) {
                        Some(Item::Entry(nk, nv)) if nk == k => {
                            j += 1;
                            let at = self.mark();
                            if self.node(*value, ov, nv).is_none() {
                                self.rollback(at);
                                let mut e = self.emitter();
                                push_spaces(&mut e.out, m.indent);
                                e.entry(m.indent, k, nv);
                                let text = e.out;
                                self.replace(
                                    m.items.iter().filter_map(map_comment),
                                    span,
                                    m.indent,
                                    text,
                                );
                            }
                        }
                        _ => {
                            let later = ni[j..]
                                .iter()
                                .any(|i| matches!(i, Item::Entry(nk, _) if nk == k));
                            if later {
                                return None;
                            }
                            self.replace(
                                m.items.iter().filter_map(map_comment),
                                span,
                                m.indent,
                                String::new(),
                            );
                        }
                    }
                }
                _ => return None,
            }
        }
        let added = &ni[j..];
        if !added.is_empty() {
            if added.iter().any(|i| matches!(i, Item::Comment(_))) {
                return None;
            }
            let mut e = self.emitter();
            for it in added {
                if let Item::Entry(k, v) = it {
                    push_spaces(&mut e.out, m.indent);
                    e.entry(m.indent, k, v);
                }
            }
            let text = e.out;
            self.insert_after(last_end?, text);
        }
        Some(())
    }

    /// A block list: items changed, one item removed, or items appended.
    fn seq(&mut self, q: &parse::Coll<SeqItem>, oi: &[Value], ni: &[Value]) -> Option<()> {
        let count = |v: &[Value]| v.iter().filter(|x| !is_comment(x)).count();
        let (n_old, n_new) = (count(oi), count(ni));
        if n_new == 0 || q.items.len() != oi.len() {
            // An empty list is written `[]`: its parent replaces it.
            return None;
        }
        let removing = n_new + 1 == n_old;
        if n_new + 1 < n_old {
            return None;
        }
        let mut removed = false;
        let mut j = 0;
        let mut last_end = None;
        for (qi, o) in q.items.iter().zip(oi) {
            match qi {
                SeqItem::Comment(c) => {
                    match (o, ni.get(j)) {
                        (
                            Value::Scalar(Scalar::Comment(oc)),
                            Some(Value::Scalar(Scalar::Comment(nc))),
                        ) if oc == nc => j += 1,
                        _ => return None,
                    }
                    last_end = Some(self.ix.comments[*c as usize].end);
                }
                SeqItem::Node(id) => {
                    if is_comment(o) {
                        return None;
                    }
                    let span = self.item_lines(q, *id)?;
                    last_end = Some(span.1);
                    let n = ni.get(j);
                    if removing && !removed && n.is_none_or(|n| !same(o, n)) {
                        removed = true;
                        self.replace(
                            q.items.iter().filter_map(seq_comment),
                            span,
                            q.indent,
                            String::new(),
                        );
                        continue;
                    }
                    let n = n?;
                    if is_comment(n) {
                        return None;
                    }
                    j += 1;
                    let at = self.mark();
                    if self.node(*id, o, n).is_none() {
                        self.rollback(at);
                        let mut e = self.emitter();
                        e.seq(std::slice::from_ref(n), q.indent, false);
                        let text = e.out;
                        self.replace(q.items.iter().filter_map(seq_comment), span, q.indent, text);
                    }
                }
            }
        }
        if removing != removed {
            return None;
        }
        let added = &ni[j..];
        if !added.is_empty() {
            if removing || added.iter().any(is_comment) {
                return None;
            }
            let mut e = self.emitter();
            e.seq(added, q.indent, false);
            let text = e.out;
            self.insert_after(last_end?, text);
        }
        Some(())
    }

    fn emitter(&self) -> Emitter<'static> {
        Emitter {
            out: String::new(),
            unit: self.unit,
            nl: self.nl,
        }
    }

    /// The whole lines of a map entry (its key starting its line), line break included, and
    /// where its text ends.
    fn entry_lines(&self, key_start: usize, value: NodeId) -> Option<(usize, usize, usize)> {
        let ls = lex::line_start(self.b, key_start);
        if !self.b[ls..key_start].iter().all(|&c| lex::is_ws(c)) {
            return None;
        }
        let end = subtree_end(self.ix, value).max(key_start);
        Some((
            ls,
            end,
            lex::after_break(self.b, lex::line_end(self.b, end)),
        ))
    }

    /// The whole lines of a list item whose `-` starts its line, and where its text ends.
    fn item_lines(&self, q: &parse::Coll<SeqItem>, id: NodeId) -> Option<(usize, usize, usize)> {
        let start = match &self.ix.nodes[id as usize] {
            Node::Scalar(s) => s.ctx.dash.map(|d| d as usize).unwrap_or(s.start),
            Node::Map(c) => c.start,
            Node::Seq(c) => c.start,
            Node::Alias(a) => a.start,
        };
        // Back over blanks to the item's `-`.
        let mut dash = start;
        while dash > 0 && self.b[dash] != b'-' {
            dash -= 1;
            if !lex::is_blank_or_break(self.b[dash]) && self.b[dash] != b'-' {
                return None;
            }
        }
        let ls = lex::line_start(self.b, dash);
        if self.b[dash] != b'-'
            || dash - ls != q.indent
            || !self.b[ls..dash].iter().all(|&c| lex::is_ws(c))
        {
            return None;
        }
        let end = subtree_end(self.ix, id).max(dash + 1);
        Some((
            ls,
            end,
            lex::after_break(self.b, lex::line_end(self.b, end)),
        ))
    }

    /// Replace the lines `span` with `text`; comments of the enclosing collection that sat on
    /// those lines follow it on lines of their own, at `indent`, so they stay where they were.
    fn replace(
        &mut self,
        comments: impl Iterator<Item = u32>,
        (start, _, stop): (usize, usize, usize),
        indent: usize,
        mut text: String,
    ) {
        for c in comments {
            let cs = &self.ix.comments[c as usize];
            if cs.hash >= start && cs.hash < stop {
                push_spaces(&mut text, indent);
                text.push_str(&self.ix.src[cs.hash..cs.end]);
                text.push_str(self.nl);
            }
        }
        if stop == self.b.len() && !self.b.ends_with(b"\n") && !self.b.ends_with(b"\r") {
            // The last line had no line break: the new text keeps it that way.
            while text.ends_with(['\n', '\r']) {
                text.pop();
            }
        }
        self.patches.push((start, stop, text));
    }

    /// Insert whole lines after the line where `end` is.
    fn insert_after(&mut self, end: usize, mut text: String) {
        let le = lex::line_end(self.b, end);
        let at = lex::after_break(self.b, le);
        if at == le {
            // The file ends on that line without a line break.
            text.insert_str(0, self.nl);
            while text.ends_with(['\n', '\r']) {
                text.pop();
            }
        }
        self.patches.push((at, at, text));
    }
}

fn map_comment(it: &MapItem) -> Option<u32> {
    match it {
        MapItem::Comment(c) => Some(*c),
        MapItem::Entry { .. } => None,
    }
}

fn seq_comment(it: &SeqItem) -> Option<u32> {
    match it {
        SeqItem::Comment(c) => Some(*c),
        SeqItem::Node(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `src` changed by `change` to its documents, rendered in place without metadata.
    fn changed(src: &str, change: impl FnOnce(&mut Vec<Item>)) -> Option<String> {
        let ix = parse::parse(src).unwrap();
        let mut docs = ix.docs.clone();
        let Value::Map(items) = &mut docs[0] else {
            panic!("not a map")
        };
        change(items);
        render_tree(&ix, &docs, None).map(|b| String::from_utf8(b).unwrap())
    }

    fn entry(k: &str, v: Value) -> Item {
        Item::Entry(k.into(), v)
    }

    fn get<'a>(items: &'a mut [Item], key: &str) -> &'a mut Value {
        items
            .iter_mut()
            .find_map(|i| match i {
                Item::Entry(k, v) if k == key => Some(v),
                _ => None,
            })
            .unwrap()
    }

    fn remove(items: &mut Vec<Item>, key: &str) {
        items.retain(|i| !matches!(i, Item::Entry(k, _) if k == key));
    }

    #[test]
    fn only_the_changed_lines_change() {
        let src = "a: 1 # one\nb:\n  c: two # two\n  l:\n    - x # ex\n    - y\nd: three\n";
        let out = changed(src, |it| it.push(entry("new", Value::str("v"))));
        assert_eq!(out.unwrap(), format!("{src}new: v\n"));
        let out = changed(src, |it| remove(it, "a"));
        assert_eq!(out.unwrap(), src.replace("a: 1 # one\n", "# one\n"));
        let list = |f: fn(&mut Vec<Value>)| {
            changed(src, |it| {
                let Value::Map(b) = get(it, "b") else {
                    panic!()
                };
                let Value::List(l) = get(b, "l") else {
                    panic!()
                };
                f(l)
            })
            .unwrap()
        };
        assert_eq!(
            list(|l| l.push(Value::str("yes"))),
            src.replace("    - y\n", "    - y\n    - \"yes\"\n")
        );
        assert_eq!(
            list(|l| {
                l.remove(0);
            }),
            src.replace("    - x # ex\n", "    # ex\n")
        );
        // Two changes to one list at once (which set and unset never make): the list is
        // written afresh in its place.
        assert_eq!(
            list(|l| {
                l.remove(0);
                l.push(Value::str("z"));
            }),
            src.replace(
                "    - x # ex\n    - y\n",
                "    # ex\n    - \"y\"\n    - z\n"
            )
        );
        let out = changed(src, |it| {
            *get(it, "d") = Value::Map(vec![entry("k", Value::List(vec![Value::str("v")]))])
        });
        assert_eq!(
            out.unwrap(),
            src.replace("d: three\n", "d:\n  k:\n    - v\n")
        );
    }

    #[test]
    fn line_breaks_and_a_missing_final_one_are_kept() {
        let src = "a: 1\r\nb: 2";
        let out = changed(src, |it| it.push(entry("c", Value::str("x"))));
        // Plaintext (no metadata) ends with a line break.
        assert_eq!(out.unwrap(), "a: 1\r\nb: 2\r\nc: x\r\n");
        let out = changed(src, |it| remove(it, "b"));
        assert_eq!(out.unwrap(), "a: 1\r\n");
    }

    #[test]
    fn changed_aliases_and_flow_collections_are_written_afresh_in_their_place() {
        let src = "x: &x\n  k: 1\ny: *x\nf: [1, 2] # c\n";
        let out = changed(src, |it| {
            let Value::Map(y) = get(it, "y") else {
                panic!()
            };
            y.push(entry("n", Value::Null));
            let Value::List(f) = get(it, "f") else {
                panic!()
            };
            f.push(Value::Scalar(Scalar::Int(3)));
        });
        // (`y` and `n` are booleans to YAML 1.1 readers: written afresh, they are quoted. The
        // comment after the flow list belongs to the list.)
        assert_eq!(
            out.unwrap(),
            "x: &x\n  k: 1\n\"y\":\n  k: 1\n  \"n\": null\nf:\n  - 1\n  - 2\n  # c\n  - 3\n"
        );
        // The first key of a `- key:` line cannot go alone: the item is written afresh.
        let out = changed("l:\n  - a: 1\n    b: 2 # b\n", |it| {
            let Value::List(l) = get(it, "l") else {
                panic!()
            };
            let Value::Map(m) = &mut l[0] else { panic!() };
            remove(m, "a");
        });
        assert_eq!(out.unwrap(), "l:\n  - b: 2\n    # b\n");
    }

    #[test]
    fn changes_it_cannot_make_in_place_give_up() {
        // A flow-style root, and a map left empty at the top level.
        assert!(changed("{a: 1}\n", |it| it.push(entry("b", Value::Null))).is_none());
        assert!(changed("a: 1\n", |it| remove(it, "a")).is_none());
        // A nested map left empty is written `{}` in its place.
        let out = changed("a:\n  b: 1\nc: 2\n", |it| {
            let Value::Map(a) = get(it, "a") else {
                panic!()
            };
            a.clear();
        });
        assert_eq!(out.unwrap(), "a: {}\nc: 2\n");
    }
}
