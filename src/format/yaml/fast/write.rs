//! Writing the output: the scanned events are walked in order, each leaf is handed to the
//! engine's editor, and the source is copied between the tokens that change.
//!
//! Only tokens are replaced, each by one line in the style of the token it replaces; every
//! other byte is copied. For each leaf it records what the output must read back as, so that
//! [`super::check`] can prove it. When an edit cannot be written on one line (an opened value
//! with line breaks, a comment opened as a value) it gives up (`Ok(None)`) and the caller takes
//! the lossless path; it must never write a guess.

use super::super::emit::typed_plain;
use super::super::parse::Style;
use super::super::render::{seal_text, str_text};
use super::super::resolve::{resolve_plain, Resolved};
use super::{Ev, Expect, FastYaml, LeafEdit, Part};
use crate::error::Result;
use crate::format::Edit;
use crate::tree::Scalar;

impl FastYaml {
    /// Render events `from..to`, which cover source bytes `src_from..src_to`; `from` is 0 or a
    /// cut key whose parent keys are `parents`.
    pub(super) fn render_part(
        &self,
        from: usize,
        to: usize,
        src_from: usize,
        src_to: usize,
        parents: &[usize],
        edit: &mut LeafEdit<'_>,
    ) -> Result<Option<Part>> {
        let src = self.src.as_str();
        let evs = &self.evs[from..to];
        let vals = evs.iter().filter(|e| matches!(e, Ev::Val { .. })).count();
        let cap = if self.sops.is_some() {
            src_to - src_from
        } else {
            // Sealing adds about 110 bytes per value plus a third of its length (base64).
            (src_to - src_from) * 4 / 3 + vals * 170 + 65536
        }
        .min(1 << 30);
        let mut out = String::with_capacity(cap);
        let mut expect = Vec::with_capacity(vals);
        let mut path: Vec<&str> = Vec::new();
        let mut aad = String::new();
        let mut aad_lens: Vec<usize> = Vec::new();
        // Whether each open collection is a map (whose current key is on `path`). A second
        // part starts inside its parents' maps: their key lines go first, as context.
        let mut maps: Vec<bool> = vec![true; if from == 0 { 0 } else { parents.len() + 1 }];
        for &pk in parents {
            let Ev::Key { start, end } = self.evs[pk] else {
                return Ok(None);
            };
            let (ls, k) = (
                self.line_start(start as usize),
                &src[start as usize..end as usize],
            );
            let Some(le) = memchr::memchr(b'\n', &src.as_bytes()[ls..]).map(|x| ls + x + 1) else {
                return Ok(None);
            };
            out.push_str(&src[ls..le]);
            path.push(k);
            aad_lens.push(aad.len());
            aad.push_str(k);
            aad.push(':');
        }
        let header = out.len();
        let mut at = src_from;
        for ev in evs {
            match *ev {
                Ev::MapStart => maps.push(true),
                Ev::SeqStart => maps.push(false),
                Ev::MapEnd | Ev::SeqEnd => {
                    maps.pop();
                    // The entry holding this collection ends with it.
                    if maps.last() == Some(&true) {
                        pop_key(&mut path, &mut aad, &mut aad_lens);
                    }
                }
                Ev::Key { start, end } => {
                    let k = &src[start as usize..end as usize];
                    path.push(k);
                    aad_lens.push(aad.len());
                    aad.push_str(k);
                    aad.push(':');
                }
                Ev::Comment { start, end } => {
                    let (s, t) = (start as usize, end as usize);
                    let value = Scalar::Comment(src[s..t].to_string());
                    let a = if path.is_empty() { ":" } else { aad.as_str() };
                    let text = match edit(&path, a, &value)? {
                        Edit::Keep => {
                            expect.push(Expect::Keep);
                            continue;
                        }
                        Edit::Seal(tok) => tok,
                        Edit::Open(Scalar::Comment(c)) => c,
                        // A comment opened as a value: the lossless path says what is wrong.
                        Edit::Open(_) => return Ok(None),
                    };
                    if text.contains(['\n', '\r']) {
                        return Ok(None);
                    }
                    self.copy_gap(&mut out, at, s);
                    let o = out.len();
                    out.push_str(&text);
                    let (Ok(o), Ok(e)) = (u32::try_from(o), u32::try_from(out.len())) else {
                        return Ok(None);
                    };
                    expect.push(Expect::Text(o, e));
                    at = t;
                }
                Ev::Null | Ev::Val { .. } => {
                    if let Ev::Val { start, end, style } = *ev {
                        if let Some(value) = decode(src, start, end, style) {
                            let a = if path.is_empty() { ":" } else { aad.as_str() };
                            let (s, t) = (start as usize, end as usize);
                            match edit(&path, a, &value)? {
                                Edit::Keep => expect.push(Expect::Keep),
                                Edit::Seal(tok) => {
                                    self.copy_gap(&mut out, at, s);
                                    let text = seal_text(&tok, style, false);
                                    // Where the token itself sits in what is written.
                                    let inner = if *text == *tok {
                                        0
                                    } else if text.len() == tok.len() + 2
                                        && text.get(1..text.len() - 1) == Some(tok.as_str())
                                    {
                                        1
                                    } else {
                                        return Ok(None);
                                    };
                                    let (Ok(o), Ok(e)) = (
                                        u32::try_from(out.len() + inner),
                                        u32::try_from(out.len() + inner + tok.len()),
                                    ) else {
                                        return Ok(None);
                                    };
                                    out.push_str(&text);
                                    expect.push(Expect::Sealed(o, e));
                                    at = t;
                                }
                                Edit::Open(v) => {
                                    let Some(text) = open_text(&v, style) else {
                                        return Ok(None);
                                    };
                                    self.copy_gap(&mut out, at, s);
                                    let o = out.len();
                                    out.push_str(&text);
                                    let (Ok(o), Ok(e)) =
                                        (u32::try_from(o), u32::try_from(out.len()))
                                    else {
                                        return Ok(None);
                                    };
                                    expect.push(match v {
                                        Scalar::Str(x) if x == text => Expect::Text(o, e),
                                        Scalar::Int(i) => Expect::Int(i),
                                        Scalar::Bool(b) => Expect::Bool(b),
                                        other => Expect::Opened(Box::new(other)),
                                    });
                                    at = t;
                                }
                            }
                        }
                    }
                    if maps.last() == Some(&true) {
                        pop_key(&mut path, &mut aad, &mut aad_lens);
                    }
                }
            }
        }
        self.copy_gap(&mut out, at, src_to);
        if out.len() > u32::MAX as usize - (1 << 20) {
            return Ok(None);
        }
        Ok(Some(Part {
            out,
            header,
            from,
            to,
            parents: parents.to_vec(),
            expect,
        }))
    }

    /// Copy source bytes `from..to`, leaving out the `sops:` lines.
    fn copy_gap(&self, out: &mut String, from: usize, to: usize) {
        match self.sops {
            Some((s, e)) if from <= s && s < to => {
                out.push_str(&self.src[from..s]);
                out.push_str(&self.src[e.min(to)..to]);
            }
            _ => out.push_str(&self.src[from..to]),
        }
    }
}

fn pop_key(path: &mut Vec<&str>, aad: &mut String, lens: &mut Vec<usize>) {
    path.pop();
    if let Some(l) = lens.pop() {
        aad.truncate(l);
    }
}

/// A scanned value token's typed value (`None` for null), as the lossless parser types it.
pub(super) fn decode(src: &str, start: u32, end: u32, style: Style) -> Option<Scalar> {
    let t = &src[start as usize..end as usize];
    match style {
        Style::Plain => match resolve_plain(t) {
            Resolved::Null => None,
            Resolved::Bool(b) => Some(Scalar::Bool(b)),
            Resolved::Int(i) => Some(Scalar::Int(i)),
            Resolved::Float(_, f) => Some(Scalar::Float(f)),
            Resolved::Time(x) => Some(Scalar::Time(x)),
            // The scanner sends unsigned 64-bit integers to the lossless path.
            Resolved::Uint | Resolved::Str => Some(Scalar::Str(t.to_string())),
        },
        Style::Double => Some(Scalar::Str(t[1..t.len() - 1].to_string())),
        _ => Some(Scalar::Str(t[1..t.len() - 1].replace("''", "'"))),
    }
}

/// An opened value as one line in place of a token of `style`; `None` when it needs the
/// lossless path (several lines, a comment, bytes that are not UTF-8).
fn open_text(v: &Scalar, style: Style) -> Option<String> {
    match v {
        Scalar::Str(t) => (!t.contains(['\n', '\r'])).then(|| str_text(t, style, false)),
        Scalar::Raw(b) | Scalar::Bytes(b) => {
            let t = std::str::from_utf8(b).ok()?;
            (!t.contains(['\n', '\r'])).then(|| str_text(t, style, false))
        }
        Scalar::Comment(_) => None,
        other => typed_plain(other),
    }
}
