//! Checking the output before anything is written: saphyr-parser's events over the output are
//! compared, in lockstep, with the scanned events, each leaf's expectation and the metadata.
//!
//! This is what makes the streaming path safe to trust: the writer may be wrong, but a wrong
//! output is refused (exit 7, nothing written) instead of reaching the disk. The check must not
//! trust anything the writer says about the text beyond the offsets it records, and it must
//! not relax a comparison to let an output through.

use saphyr_parser::{Event, Parser};

use super::super::emit::meta_block;
use super::super::parse::{style_of, type_scalar, Typed};
use super::write::decode;
use super::{Ev, Expect, FastYaml, Output, Part, Rendering};
use crate::error::Result;
use crate::tree::{Item, Scalar, Value};

pub(super) use super::super::verify::{mismatch, scalar_eq};

impl FastYaml {
    /// Append the `sops:` block (`meta`, encrypting) and check the output by re-parsing it
    /// with saphyr-parser. Refuses (exit 7, nothing written) on any difference.
    ///
    /// A two-part output is re-parsed as two texts at once. That is the same as parsing it
    /// whole: at the cut key's line every construct of the first part has ended (nothing this
    /// path writes spans lines, and a construct left open by mistake makes the first text fail
    /// to parse or differ), and the second text starts with its parent keys' own lines, which
    /// put its first key in the same map, at the same column, as in the whole file.
    pub fn finish(&self, r: Rendering, meta: Option<&Value>) -> Result<Output> {
        let mut parts = r.parts;
        if let (Some(m), Some(last)) = (meta, parts.last_mut()) {
            last.out.push_str(&meta_block(m, 0, self.unit, "\n"));
        }
        match parts.as_slice() {
            [one] => self.verify(one, meta)?,
            [a, b] => {
                let (ra, rb) = std::thread::scope(|sc| {
                    let h = sc.spawn(|| self.verify(b, meta));
                    let ra = self.verify(a, None);
                    let rb = h
                        .join()
                        .unwrap_or_else(|_| Err(mismatch("the check of the second half failed")));
                    (ra, rb)
                });
                ra?;
                rb?;
            }
            _ => return Err(mismatch("the output has no parts")),
        }
        Ok(Output {
            parts: parts.into_iter().map(|p| (p.out, p.header)).collect(),
        })
    }

    /// Stream saphyr's events over a part's text and compare them with the scanned events,
    /// the leaves' expectations and (at the end of the document) the metadata.
    fn verify(&self, part: &Part, meta: Option<&Value>) -> Result<()> {
        let src = self.src.as_str();
        let out = part.out.as_str();
        let mut p = Parser::new_from_str(out);
        let mut next = || -> Result<Event<'_>> {
            match p.next_event() {
                Some(Ok((ev, _))) => Ok(ev),
                Some(Err(e)) => Err(mismatch(&format!(
                    "it does not parse: {} at line {}",
                    e.info(),
                    e.marker().line()
                ))),
                None => Err(mismatch("it ends early")),
            }
        };
        let fail = |what: &str| Err(mismatch(what));
        if !matches!(next()?, Event::StreamStart) || !matches!(next()?, Event::DocumentStart(_)) {
            return fail("the document start");
        }
        let key_text = |i: usize| match self.evs[i] {
            Ev::Key { start, end } => &src[start as usize..end as usize],
            _ => "",
        };
        // A second part: its parents' maps and keys, then the cut key's map.
        let mut depth = 0usize;
        if part.from > 0 {
            for &pk in &part.parents {
                if !matches!(next()?, Event::MappingStart(0, None))
                    || !key_is(next()?, key_text(pk))
                {
                    return fail("a parent key");
                }
            }
            if !matches!(next()?, Event::MappingStart(0, None)) {
                return fail("a map");
            }
            depth = part.parents.len() + 1;
        }
        let mut k = 0usize;
        let expect = &part.expect;
        for ev in &self.evs[part.from..part.to] {
            match *ev {
                Ev::MapStart => {
                    if !matches!(next()?, Event::MappingStart(0, None)) {
                        return fail("a map");
                    }
                    depth += 1;
                }
                Ev::SeqStart => {
                    if !matches!(next()?, Event::SequenceStart(0, None)) {
                        return fail("a list");
                    }
                    depth += 1;
                }
                Ev::MapEnd => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        if let Some(m) = meta {
                            if !key_is(next()?, "sops") || !value_is(&mut next, m)? {
                                return fail("the sops metadata");
                            }
                        }
                    }
                    if !matches!(next()?, Event::MappingEnd) {
                        return fail("the end of a map");
                    }
                }
                Ev::SeqEnd => {
                    depth = depth.saturating_sub(1);
                    if !matches!(next()?, Event::SequenceEnd) {
                        return fail("the end of a list");
                    }
                }
                Ev::Key { start, end } => {
                    if !key_is(next()?, &src[start as usize..end as usize]) {
                        return fail("a key");
                    }
                }
                Ev::Null => {
                    if !matches!(typed(next()?), Some(None)) {
                        return fail("a null value");
                    }
                }
                Ev::Comment { .. } => {
                    // saphyr reports no event for a comment: that none came between the events
                    // around it shows the line reads as a comment. Its text must sit right after
                    // a `#` that only blanks precede on its line.
                    let ok = match expect.get(k) {
                        Some(Expect::Keep) => true,
                        Some(Expect::Text(s, _)) => {
                            let s = *s as usize;
                            let b = out.as_bytes();
                            let ls = b[..s]
                                .iter()
                                .rposition(|&c| c == b'\n')
                                .map_or(0, |i| i + 1);
                            s > ls
                                && b[s - 1] == b'#'
                                && (b[ls..s - 1].iter().all(|&c| c == b' ')
                                    || (s >= ls + 2 && b[s - 2] == b' '))
                        }
                        _ => false,
                    };
                    k += 1;
                    if !ok {
                        return fail("a comment");
                    }
                }
                Ev::Val { start, end, style } => {
                    let got = typed(next()?);
                    let Some(orig) = decode(src, start, end, style) else {
                        if matches!(got, Some(None)) {
                            continue;
                        }
                        return fail("a null value");
                    };
                    let Some(Some(got)) = got else {
                        return fail("a value");
                    };
                    let text_at =
                        |s: u32, e: u32| out.get(s as usize..e as usize).unwrap_or("\u{0}");
                    let ok = match (expect.get(k), &got) {
                        (Some(Expect::Keep), g) => scalar_eq(&orig, g),
                        (Some(Expect::Sealed(s, e) | Expect::Text(s, e)), Scalar::Str(t)) => {
                            text_at(*s, *e) == t
                        }
                        (Some(Expect::Int(i)), Scalar::Int(j)) => i == j,
                        (Some(Expect::Bool(b)), Scalar::Bool(c)) => b == c,
                        (Some(Expect::Opened(v)), g) => scalar_eq(v, g),
                        _ => false,
                    };
                    k += 1;
                    if !ok {
                        return fail("a value");
                    }
                }
            }
        }
        if k != expect.len() {
            return fail("the number of values");
        }
        // A first part ends inside the maps that hold the cut key.
        while part.to < self.evs.len() && depth > 0 {
            if !matches!(next()?, Event::MappingEnd) {
                return fail("the end of a map");
            }
            depth -= 1;
        }
        if !matches!(next()?, Event::DocumentEnd) || !matches!(next()?, Event::StreamEnd) {
            return fail("the end of the document");
        }
        Ok(())
    }
}

/// A saphyr scalar event's typed value: `Some(None)` for null, `None` for anything that is not
/// a plain untagged scalar value.
fn typed(ev: Event<'_>) -> Option<Option<Scalar>> {
    match ev {
        Event::Scalar(value, style, 0, tag) => {
            match type_scalar(value, style_of(style), tag.as_deref()) {
                Typed::Value(v) => Some(v),
                _ => None,
            }
        }
        _ => None,
    }
}

fn key_is(ev: Event<'_>, key: &str) -> bool {
    matches!(ev, Event::Scalar(v, _, 0, None) if v == key)
}

/// Do the next events spell `v`?
fn value_is<'a>(next: &mut dyn FnMut() -> Result<Event<'a>>, v: &Value) -> Result<bool> {
    Ok(match v {
        Value::Null => matches!(typed(next()?), Some(None)),
        Value::Scalar(s) => match typed(next()?) {
            Some(Some(g)) => scalar_eq(s, &g),
            _ => false,
        },
        Value::List(items) => {
            if !matches!(next()?, Event::SequenceStart(0, None)) {
                return Ok(false);
            }
            for it in items {
                if !value_is(next, it)? {
                    return Ok(false);
                }
            }
            matches!(next()?, Event::SequenceEnd)
        }
        Value::Map(items) => {
            if !matches!(next()?, Event::MappingStart(0, None)) {
                return Ok(false);
            }
            for it in items {
                if let Item::Entry(k, val) = it {
                    if !key_is(next()?, k) || !value_is(next, val)? {
                        return Ok(false);
                    }
                }
            }
            matches!(next()?, Event::MappingEnd)
        }
    })
}
