//! Cutting a big file in two so that its halves are written on two threads.
//!
//! A half must be writable and checkable on its own, so the cut goes before a key that has only
//! block maps above it: the second half then starts with its parent keys' lines as context and
//! reads as the same map at the same column. This module only chooses the cut and runs the two
//! halves; it must not change what either half writes (the output equals the one-thread output).

use super::check::mismatch;
use super::{Ev, FastYaml, LeafEdit, LeafEditSend, Rendering};
use crate::error::Result;
use crate::format::PARALLEL_FROM;

impl FastYaml {
    /// [`FastYaml::render_leaves`] on two threads for a big file: `first` sees the leaves
    /// before a key near the middle, `second` the rest, each in order (a file too small or with
    /// no place to cut goes to `first` alone). The output is the same as with one thread; the
    /// caller combines what its two editors saw (the MAC) in that order.
    pub fn render_leaves_split(
        &self,
        first: &mut LeafEditSend<'_>,
        second: &mut LeafEditSend<'_>,
    ) -> Result<Option<Rendering>> {
        self.render_split_from(PARALLEL_FROM, first, second)
    }

    /// [`FastYaml::render_leaves_split`] for files of at least `min` bytes (tests and the
    /// fuzz target cut small files too).
    #[doc(hidden)]
    pub fn render_split_from(
        &self,
        min: usize,
        first: &mut LeafEditSend<'_>,
        second: &mut LeafEditSend<'_>,
    ) -> Result<Option<Rendering>> {
        let Some((ev, cut, parents)) = self.cut().filter(|_| self.src.len() >= min) else {
            return self.render_leaves(first);
        };
        let n = self.evs.len();
        let (ra, rb) = std::thread::scope(|sc| {
            let h = sc.spawn(|| self.render_part(ev, n, cut, self.src.len(), &parents, second));
            let ra = self.render_part(0, ev, 0, cut, &[], first);
            let rb = h
                .join()
                .unwrap_or_else(|_| Err(mismatch("rendering the second half failed")));
            (ra, rb)
        });
        Ok(match (ra?, rb?) {
            (Some(a), Some(b)) => Some(Rendering { parts: vec![a, b] }),
            _ => None,
        })
    }

    /// Every place the document may be cut: a key that is not the first of its map and has only
    /// maps above it. `at` gets its event index, its source offset, and the open collections
    /// (is a map, its current key's event index, keys seen), outermost first.
    fn cut_points(&self, mut at: impl FnMut(usize, usize, &[(bool, usize, usize)])) {
        let mut open: Vec<(bool, usize, usize)> = Vec::new();
        for (i, ev) in self.evs.iter().enumerate() {
            match *ev {
                Ev::MapStart => open.push((true, 0, 0)),
                Ev::SeqStart => open.push((false, 0, 0)),
                Ev::MapEnd | Ev::SeqEnd => {
                    open.pop();
                }
                Ev::Key { start, .. } => {
                    let Some(top) = open.last_mut() else { continue };
                    top.1 = i;
                    top.2 += 1;
                    if top.2 > 1 && open.iter().all(|o| o.0) {
                        at(i, start as usize, &open);
                    }
                }
                _ => {}
            }
        }
    }

    /// Where to cut the document in two: a key near the middle of the source that is not the
    /// first of its map and has only maps above it. Gives its event index, its line's start,
    /// and the event indices of its parent keys.
    fn cut(&self) -> Option<(usize, usize, Vec<usize>)> {
        let half = self.src.len() / 2;
        let mut best: Option<(usize, usize)> = None;
        self.cut_points(|i, start, _| {
            let ls = self.line_start(start);
            if best.is_none_or(|(_, b)| ls.abs_diff(half) < b.abs_diff(half)) {
                best = Some((i, ls));
            }
        });
        let (ev, ls) = best?;
        // The parent keys: the current key of every map open at the cut, outermost first.
        let mut parents = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        for (i, e) in self.evs[..ev].iter().enumerate() {
            match e {
                Ev::MapStart | Ev::SeqStart => stack.push(usize::MAX),
                Ev::MapEnd | Ev::SeqEnd => {
                    stack.pop();
                }
                Ev::Key { .. } => {
                    if let Some(t) = stack.last_mut() {
                        *t = i;
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        parents.extend(stack);
        if parents.contains(&usize::MAX) {
            return None;
        }
        Some((ev, ls, parents))
    }

    /// The start of the line a key sits on (block maps only: the key starts its line).
    pub(super) fn line_start(&self, at: usize) -> usize {
        let b = self.src.as_bytes();
        let mut i = at;
        while i > 0 && b[i - 1] != b'\n' {
            i -= 1;
        }
        i
    }
}

/// A stretch of the document that is written and checked on its own: events `from..to`,
/// source bytes `src_from..src_to`, and (after the first) the parent keys of its first key.
pub struct Piece {
    from: usize,
    to: usize,
    pub(super) src_from: usize,
    src_to: usize,
    parents: Vec<usize>,
}

impl Piece {
    /// Whether this piece ends the document (it carries the `sops:` block).
    pub fn is_last(&self) -> bool {
        self.to == usize::MAX
    }
}

impl FastYaml {
    /// The document cut into pieces of about `every` source bytes, each starting at a key that
    /// is not the first of its map and has only maps above it (the cut [`FastYaml::cut`] makes
    /// for two threads, made again every `every` bytes). A document with no such key is one
    /// piece.
    pub fn pieces(&self, every: usize) -> Vec<Piece> {
        let every = every.max(1);
        let mut cuts: Vec<(usize, usize, Vec<usize>)> = Vec::new();
        let mut next = every;
        self.cut_points(|i, start, open| {
            if start >= next {
                let ls = self.line_start(start);
                let parents = open[..open.len() - 1].iter().map(|o| o.1).collect();
                cuts.push((i, ls, parents));
                next = ls + every;
            }
        });
        let mut pieces = Vec::with_capacity(cuts.len() + 1);
        let (mut from, mut src_from, mut parents) = (0, 0, Vec::new());
        for (ev, ls, p) in cuts {
            pieces.push(Piece {
                from,
                to: ev,
                src_from,
                src_to: ls,
                parents: std::mem::replace(&mut parents, p),
            });
            (from, src_from) = (ev, ls);
        }
        pieces.push(Piece {
            from,
            to: usize::MAX,
            src_from,
            src_to: self.src.len(),
            parents,
        });
        pieces
    }

    /// Write one piece leaf by leaf with `edit`. `Ok(None)`: an edit this path cannot write in
    /// place (as [`FastYaml::render_leaves`]).
    pub fn render_piece(&self, p: &Piece, edit: &mut LeafEdit<'_>) -> Result<Option<Rendering>> {
        let to = p.to.min(self.evs.len());
        Ok(self
            .render_part(p.from, to, p.src_from, p.src_to, &p.parents, edit)?
            .map(|part| Rendering { parts: vec![part] }))
    }
}
