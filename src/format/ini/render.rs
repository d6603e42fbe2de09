//! Lossless rendering: sealed or opened values and comment blocks replace their spans, the
//! `[sops]` section is removed or rewritten, and the output is parsed again and compared with
//! the intended tree (comments loosely) before it is returned.

use std::ops::Range;

use super::emit::{meta_matches, meta_section};
use super::parse::{is_marker, IniDoc, Piece, PieceKind, Slot, ValueSlot};
use super::quote::{cannot_write, read_fragment, reads_as, value_forms};
use crate::error::{Code, Error, Result};
use crate::format::compare::first_difference;
use crate::format::{Edit, Parsed};
use crate::tree::{walk_leaves, walk_leaves_mut, Item, Scalar, Value};

/// A comment compared loosely: markers and blanks at line edges do not count.
pub(super) fn norm_comment(s: &str) -> String {
    s.split('\n')
        .map(|l| l.trim().trim_start_matches([';', '#', ' ', '\t']).trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The tree as far as a re-read must match it: comments compared loosely, and comments next
/// to each other merged (go-ini reads adjacent comment lines as one, which happens when the
/// `[sops]` section between two of them is removed).
pub(super) fn norm_tree(docs: &[Value]) -> Vec<Value> {
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
pub(super) fn comment_lines(text: &str) -> Vec<&str> {
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect()
}

pub(super) fn with_marker(line: &str) -> String {
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
        crate::format::one_edit_per_leaf(edits, self.slots.len(), "ini")?;
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
            let at = first_difference(&want, &got, PartialEq::eq).unwrap_or_default();
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
