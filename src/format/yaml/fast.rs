//! The streaming path for the common shape of big YAML files: block maps and lists of
//! one-line scalars, comments after a value or on their own line just before a key in the same
//! column; no anchors, tags, flow collections or block scalars.
//!
//! It exists because the lossless path ([`super::parse`]) keeps a node arena and the whole
//! document tree in memory and re-indexes its output, which costs about 25 bytes of RAM per byte
//! of YAML and most of the run time on a 10 MB file. Here a line scanner records the document as
//! a flat list of events (12 bytes each, spans into the source, no copies), the engine's
//! per-leaf sealer or opener is called leaf by leaf while the output is written, and the output
//! is checked by streaming saphyr-parser's events over it and comparing them, in lockstep, with
//! what was meant. Nothing else is held. A big file is cut at a key near its middle and both
//! halves are written and checked on two threads (see [`FastYaml::finish`] for why checking the
//! halves apart is the same as checking the whole).
//!
//! The scanner accepts only what it understands completely, and says so by giving the text
//! back for anything else (any other comment, `&`, `*`, `!`, `|`, `>`, `[`, `{`, a multi-line or escaped
//! scalar, a non-string or over-long key, tabs, CR, control or Unicode line-break characters,
//! document markers, odd indentation, duplicate keys, a file without a final line break). The
//! caller then uses the lossless path, which handles all of YAML; both see the same leaves and
//! write the same bytes for a file this path accepts (the tests below compare them on fixed and
//! generated documents, and the `yaml_fast` fuzz target on arbitrary input). An opened value
//! this path cannot write in place (several lines, a comment) also sends the caller back.
//! It must never accept a file the lossless path reads differently or refuses.

use saphyr_parser::{Event, Parser};

use super::emit::{meta_block, typed_plain};
use super::parse::{type_scalar, Style, Typed};
use super::render::{seal_text, str_text};
use super::resolve::{resolve_plain, Resolved};
use super::verify::{mismatch, scalar_eq};
use crate::error::Result;
use crate::format::Edit;
use crate::tree::{Item, Scalar, Value};

/// What to do with one leaf, given its key path, AAD and value.
pub type LeafEdit<'f> = dyn FnMut(&[&str], &str, &Scalar) -> Result<Edit> + 'f;

/// A [`LeafEdit`] that may run on another thread.
pub type LeafEditSend<'f> = dyn FnMut(&[&str], &str, &Scalar) -> Result<Edit> + Send + 'f;

/// One structural event of the scanned document, in document order.
#[derive(Clone, Copy, Debug)]
enum Ev {
    MapStart,
    MapEnd,
    SeqStart,
    SeqEnd,
    /// A key; `start..end` is its text (inside the quotes for a quoted key).
    Key {
        start: u32,
        end: u32,
    },
    /// A scalar value token, quotes included.
    Val {
        start: u32,
        end: u32,
        style: Style,
    },
    /// A value left out (`key:` or `-` with nothing under it): null.
    Null,
    /// A comment on its own line, just before the key it belongs with; `start..end` is its
    /// text after the `#`.
    Comment {
        start: u32,
        end: u32,
    },
}

/// A YAML file the streaming path accepts, scanned.
pub struct FastYaml {
    src: String,
    evs: Vec<Ev>,
    /// The indentation unit the lossless path would detect (for the `sops:` block).
    unit: usize,
    /// The top-level `sops:` entry's lines (decrypting): where they start and end.
    sops: Option<(usize, usize)>,
}

/// The output written so far (without the `sops:` block), in one or two parts, and what each
/// leaf should read back as.
pub struct Rendering {
    parts: Vec<Part>,
}

/// One part of the output: events `from..to` of the scan.
struct Part {
    /// For a second part: the lines of its cut key's parent keys first (`header` bytes), which
    /// only give its first line its context when it is re-parsed on its own.
    out: String,
    header: usize,
    from: usize,
    to: usize,
    /// The parent keys (event indices) of the cut key, for a second part.
    parents: Vec<usize>,
    expect: Vec<Expect>,
}

/// What one leaf must read back as. Offsets are into its part's `out`.
enum Expect {
    Keep,
    /// An `ENC[…]` token, written at this range.
    Sealed(u32, u32),
    /// A string written plain at this range, as itself.
    Text(u32, u32),
    Int(i64),
    Bool(bool),
    Opened(Box<Scalar>),
}

/// The checked output: write its parts one after another.
pub struct Output {
    parts: Vec<(String, usize)>,
}

impl Output {
    /// The bytes to write, in order.
    pub fn slices(&self) -> Vec<&[u8]> {
        self.parts
            .iter()
            .map(|(s, h)| &s.as_bytes()[*h..])
            .collect()
    }

    /// The output as one buffer (for tests and small files).
    pub fn to_vec(&self) -> Vec<u8> {
        self.slices().concat()
    }
}

impl FastYaml {
    /// Scan `src`; gives it back when the file is outside what this path handles.
    /// `encrypted`: the file is expected to carry a top-level `sops:` entry (decrypting);
    /// otherwise such an entry sends the file to the lossless path (which refuses it).
    pub fn scan(src: String, encrypted: bool) -> std::result::Result<FastYaml, String> {
        if src.len() >= u32::MAX as usize {
            return Err(src);
        }
        match Scanner::run(&src, encrypted) {
            Some((evs, unit, sops)) if !encrypted || sops.is_some() => Ok(FastYaml {
                evs,
                unit,
                sops,
                src,
            }),
            _ => Err(src),
        }
    }

    /// [`FastYaml::scan`] of bytes (text that is not UTF-8 is given back too).
    pub fn scan_bytes(data: Vec<u8>, encrypted: bool) -> std::result::Result<FastYaml, Vec<u8>> {
        match String::from_utf8(data) {
            Ok(s) => FastYaml::scan(s, encrypted).map_err(String::into_bytes),
            Err(e) => Err(e.into_bytes()),
        }
    }

    /// Whether the file has comments (which take part in sops's comment-regex rules, which
    /// this path does not evaluate).
    pub fn has_comments(&self) -> bool {
        self.evs.iter().any(|e| matches!(e, Ev::Comment { .. }))
    }

    /// The text back, for the lossless path.
    pub fn into_src(self) -> String {
        self.src
    }

    /// The `sops` metadata as a tree, read by the lossless parser from the `sops:` lines.
    pub fn metadata(&self) -> Result<Option<Value>> {
        let Some((s, e)) = self.sops else {
            return Ok(None);
        };
        let ix = super::parse::parse(&self.src[s..e])?;
        Ok(ix.meta)
    }

    /// Walk the leaves, ask `edit` what to do with each (key path, AAD, value), and write the
    /// output up to (not including) the `sops:` block. `Ok(None)`: an edit this path cannot
    /// write in place; use the lossless path.
    pub fn render_leaves(&self, edit: &mut LeafEdit<'_>) -> Result<Option<Rendering>> {
        Ok(self
            .render_part(0, self.evs.len(), 0, self.src.len(), &[], edit)?
            .map(|p| Rendering { parts: vec![p] }))
    }

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

    /// Where to cut the document in two: a key near the middle of the source that is not the
    /// first of its map and has only maps above it. Gives its event index, its line's start,
    /// and the event indices of its parent keys.
    fn cut(&self) -> Option<(usize, usize, Vec<usize>)> {
        let half = self.src.len() / 2;
        // Open collections: (is a map, its current key's event index, keys seen).
        let mut open: Vec<(bool, usize, usize)> = Vec::new();
        let mut best: Option<(usize, usize)> = None;
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
                        let ls = self.line_start(start as usize);
                        if best.is_none_or(|(_, b)| ls.abs_diff(half) < b.abs_diff(half)) {
                            best = Some((i, ls));
                        }
                    }
                }
                _ => {}
            }
        }
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
    fn line_start(&self, at: usize) -> usize {
        let b = self.src.as_bytes();
        let mut i = at;
        while i > 0 && b[i - 1] != b'\n' {
            i -= 1;
        }
        i
    }

    /// Render events `from..to`, which cover source bytes `src_from..src_to`; `from` is 0 or a
    /// cut key whose parent keys are `parents`.
    fn render_part(
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

/// Longest key (bytes, quotes included) this path reads; YAML's limit is 1024 characters.
const MAX_KEY: usize = 1000;

/// Files from this size on are rendered and re-parsed in two parts in parallel.
const PARALLEL_FROM: usize = 256 * 1024;

fn pop_key(path: &mut Vec<&str>, aad: &mut String, lens: &mut Vec<usize>) {
    path.pop();
    if let Some(l) = lens.pop() {
        aad.truncate(l);
    }
}

/// A scanned value token's typed value (`None` for null), as the lossless parser types it.
fn decode(src: &str, start: u32, end: u32, style: Style) -> Option<Scalar> {
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

/// A saphyr scalar event's typed value: `Some(None)` for null, `None` for anything that is not
/// a plain untagged scalar value.
fn typed(ev: Event<'_>) -> Option<Option<Scalar>> {
    match ev {
        Event::Scalar(value, style, 0, tag) => {
            match type_scalar(value, super::parse::style_of(style), tag.as_deref()) {
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

struct Frame {
    seq: bool,
    indent: usize,
    /// A list written at its parent key's own column (`key:` then `- x` below it).
    same_indent: bool,
    /// The map's number, in the order maps start (for the indentation unit).
    map: u32,
    /// Where this map's keys start on the key stack (duplicate check).
    keys_from: usize,
}

/// A `key:` or `-` whose value is on the following lines (or missing).
#[derive(Clone, Copy)]
struct Pending {
    indent: usize,
    in_map: bool,
}

struct Scanner<'a> {
    src: &'a str,
    b: &'a [u8],
    encrypted: bool,
    evs: Vec<Ev>,
    frames: Vec<Frame>,
    pending: Option<Pending>,
    /// The indent of the entry whose value ended the previous line: a deeper next line would
    /// continue that scalar (not handled here).
    after_value: Option<usize>,
    keys: Vec<&'a str>,
    /// Per map, in start order: the first nested map's and nested list's indentation step.
    steps: Vec<(u8, u8)>,
    /// A list just opened at its key's column: (its map, the key's column).
    same_indent_step: Option<(Option<u32>, usize)>,
    /// Comment lines waiting for the key they belong with: text start, end, column.
    comments: Vec<(u32, u32, usize)>,
    sops: Option<(usize, usize)>,
}

type Scanned = (Vec<Ev>, usize, Option<(usize, usize)>);

impl<'a> Scanner<'a> {
    fn run(src: &'a str, encrypted: bool) -> Option<Scanned> {
        let b = src.as_bytes();
        if b.last() != Some(&b'\n') || !plain_bytes(b) {
            return None;
        }
        let mut s = Scanner {
            src,
            b,
            encrypted,
            evs: Vec::with_capacity(src.len() / 24),
            frames: Vec::new(),
            pending: None,
            after_value: None,
            keys: Vec::new(),
            steps: Vec::new(),
            same_indent_step: None,
            comments: Vec::new(),
            sops: None,
        };
        let mut pos = 0;
        while pos < b.len() {
            let le = pos + memchr::memchr(b'\n', &b[pos..])?;
            let mut i = pos;
            while i < le && b[i] == b' ' {
                i += 1;
            }
            if i == le {
                pos = le + 1;
                continue;
            }
            if i == pos && (b[i..le].starts_with(b"---") || b[i..le].starts_with(b"...")) {
                return None;
            }
            pos = s.item(pos, i, le)?;
        }
        if !s.comments.is_empty() {
            return None;
        }
        if s.pending.take().is_some() {
            s.evs.push(Ev::Null);
        }
        while !s.frames.is_empty() {
            s.pop()?;
        }
        // A document with nothing but the `sops:` entry decrypts to nothing: the lossless path
        // says what it makes of that.
        if !s.evs.iter().any(|e| matches!(e, Ev::Key { .. })) {
            return None;
        }
        let unit = s.unit();
        s.evs.shrink_to_fit();
        Some((s.evs, unit, s.sops))
    }

    /// The lossless path's indentation unit: the first map (in start order) with a nested map
    /// 2..=9 columns deeper gives it, else the first such nested list, else 4.
    fn unit(&self) -> usize {
        if let Some(&(m, _)) = self.steps.iter().find(|s| s.0 != 0) {
            return m as usize;
        }
        self.steps
            .iter()
            .find(|s| s.1 != 0)
            .map_or(4, |s| s.1 as usize)
    }

    /// One content line: `ls` its start, `at` its first non-blank byte, `le` its end. Returns
    /// where the next line starts.
    fn item(&mut self, ls: usize, at: usize, le: usize) -> Option<usize> {
        let b = self.b;
        let col = at - ls;
        if b[at] == b'#' {
            // A comment on its own line is taken only where go-yaml's placement is plain: just
            // before a key in the same column (it then belongs to that key's map, before it).
            self.comments.push((at as u32 + 1, le as u32, col));
            return Some(le + 1);
        }
        let dash = b[at] == b'-' && (at + 1 == le || b[at + 1] == b' ');
        if !self.comments.is_empty() {
            let pending_here = self.pending.is_some_and(|p| col <= p.indent);
            if dash || pending_here || self.comments.iter().any(|c| c.2 != col) {
                return None;
            }
        }
        if let Some(o) = self.after_value.take() {
            if col > o {
                return None;
            }
        }
        if let Some(p) = self.pending.take() {
            if col > p.indent || (p.in_map && dash && col == p.indent) {
                let parent = self.frames.last().map(|f| f.map);
                let step = col - p.indent;
                if dash {
                    if p.in_map && step > 0 {
                        self.note_step(parent, step, false);
                    } else if p.in_map {
                        // saphyr places a list written at its key's column where its first
                        // item's text starts; the step is measured from there.
                        self.same_indent_step = Some((parent, p.indent));
                    }
                    self.open(true, col, col == p.indent)?;
                } else {
                    if p.in_map {
                        self.note_step(parent, step, true);
                    }
                    self.open(false, col, false)?;
                }
            } else {
                self.evs.push(Ev::Null);
            }
        }
        loop {
            let Some(top) = self.frames.last() else {
                if col != 0 || dash || !self.evs.is_empty() {
                    return None;
                }
                self.open(false, 0, false)?;
                break;
            };
            if top.indent > col {
                self.pop()?;
                continue;
            }
            if top.indent < col {
                return None;
            }
            if top.seq && !dash {
                if top.same_indent {
                    self.pop()?;
                    continue;
                }
                return None;
            }
            if !top.seq && dash {
                return None;
            }
            break;
        }
        if dash {
            let mut p = at + 1;
            while p < le && b[p] == b' ' {
                p += 1;
            }
            if let Some((parent, pind)) = self.same_indent_step.take() {
                if p == le {
                    return None;
                }
                self.note_step(parent, p - ls - pind, false);
            }
            if p == le {
                self.pending = Some(Pending {
                    indent: col,
                    in_map: false,
                });
                return Some(le + 1);
            }
            if b[p] == b'-' && (p + 1 == le || b[p + 1] == b' ') {
                return None;
            }
            match self.key_at(p, le)? {
                Some(k) => {
                    let kcol = p - ls;
                    self.open(false, kcol, false)?;
                    self.entry(k, ls, kcol, le)
                }
                None => {
                    self.value(p, le)?;
                    self.after_value = Some(col);
                    Some(le + 1)
                }
            }
        } else {
            let k = self.key_at(at, le)??;
            self.entry(k, ls, col, le)
        }
    }

    fn note_step(&mut self, parent: Option<u32>, step: usize, map: bool) {
        let Some(s) = parent.and_then(|m| self.steps.get_mut(m as usize)) else {
            return;
        };
        if !(2..=9).contains(&step) {
            return;
        }
        let slot = if map { &mut s.0 } else { &mut s.1 };
        if *slot == 0 {
            *slot = step as u8;
        }
    }

    fn open(&mut self, seq: bool, indent: usize, same_indent: bool) -> Option<()> {
        // The lossless path refuses deeper nesting; so must this one.
        if self.frames.len() >= super::parse::MAX_DEPTH {
            return None;
        }
        let map = self.steps.len() as u32;
        if !seq {
            self.steps.push((0, 0));
        }
        self.evs.push(if seq { Ev::SeqStart } else { Ev::MapStart });
        self.frames.push(Frame {
            seq,
            indent,
            same_indent,
            map,
            keys_from: self.keys.len(),
        });
        Some(())
    }

    fn pop(&mut self) -> Option<()> {
        let f = self.frames.pop()?;
        if f.seq {
            self.evs.push(Ev::SeqEnd);
            return Some(());
        }
        self.evs.push(Ev::MapEnd);
        let keys = &mut self.keys[f.keys_from..];
        if keys.len() > 1 {
            keys.sort_unstable();
            if keys.windows(2).any(|w| w[0] == w[1]) {
                return None;
            }
        }
        self.keys.truncate(f.keys_from);
        Some(())
    }

    /// A map entry whose key was read: its value on this line, or a pending one.
    fn entry(&mut self, k: Key, ls: usize, kcol: usize, le: usize) -> Option<usize> {
        let b = self.b;
        let key = &self.src[k.start..k.end];
        let mut p = k.next;
        while p < le && b[p] == b' ' {
            p += 1;
        }
        if self.frames.len() == 1 && key == "sops" {
            if !self.encrypted || p != le || self.sops.is_some() || !self.comments.is_empty() {
                return None;
            }
            self.keys.push(key);
            // The entry runs to the next line at column 0.
            let mut q = le + 1;
            let mut end = le + 1;
            while q < b.len() {
                let qe = q + memchr::memchr(b'\n', &b[q..])?;
                let first = b[q..qe].iter().position(|&c| c != b' ');
                match first {
                    None => {}
                    Some(0) => break,
                    Some(_) => end = qe + 1,
                }
                q = qe + 1;
            }
            // A comment there may belong to the document, not to the metadata (go-yaml places
            // it by indentation), and a keep-chomped block scalar (`|+`) owns the blank lines
            // after it: leave such files to the lossless path.
            let region = &b[ls..end];
            if region.contains(&b'#') || region.windows(2).any(|w| w == b"|+" || w == b">+") {
                return None;
            }
            // Lines of blanks after it may still be content of a block scalar it ends with;
            // only empty lines may follow before the next entry.
            if b[end..q].iter().any(|&c| c != b'\n') {
                return None;
            }
            self.sops = Some((ls, end));
            return Some(q);
        }
        self.keys.push(key);
        for (start, end, _) in self.comments.drain(..) {
            self.evs.push(Ev::Comment { start, end });
        }
        self.evs.push(Ev::Key {
            start: k.start as u32,
            end: k.end as u32,
        });
        if p == le {
            self.pending = Some(Pending {
                indent: kcol,
                in_map: true,
            });
        } else {
            self.value(p, le)?;
            self.after_value = Some(kcol);
        }
        Some(le + 1)
    }

    /// A key at `p`: `Some(Some(key))`, `Some(None)` when the text there is not a key (a
    /// list element's scalar), `None` when it is outside this path.
    fn key_at(&self, p: usize, le: usize) -> Option<Option<Key>> {
        let b = self.b;

        match b[p] {
            q @ (b'"' | b'\'') => {
                let close = p + 1 + memchr::memchr(q, &b[p + 1..le])?;
                let inner = &b[p + 1..close];
                if inner.contains(&b'\\') || (q == b'\'' && b.get(close + 1) == Some(&b'\'')) {
                    return None;
                }
                if close + 1 < le
                    && b[close + 1] == b':'
                    && (close + 2 == le || b[close + 2] == b' ')
                {
                    if close + 1 - p > MAX_KEY {
                        return None;
                    }
                    return Some(Some(Key {
                        start: p + 1,
                        end: close,
                        next: close + 2,
                    }));
                }
                Some(None)
            }
            _ => {
                let c = memchr::memchr_iter(b':', &b[p..le])
                    .map(|i| p + i)
                    .find(|&i| i + 1 == le || b[i + 1] == b' ');
                let Some(c) = c else { return Some(None) };
                // YAML allows an implicit key of at most 1024 characters; longer text before
                // `: ` is not a key (saphyr reads the line as a scalar). Leave anything near
                // that limit alone.
                if c - p > MAX_KEY {
                    return None;
                }
                let key = &b[p..c];
                if key.is_empty()
                    || is_indicator(key[0])
                    || key[0] == b'-'
                    || key.last() == Some(&b' ')
                    || key
                        .iter()
                        .any(|&x| matches!(x, b'[' | b']' | b'{' | b'}' | b',' | b'#'))
                    || key == b"<<"
                    || resolve_plain(&self.src[p..c]) != Resolved::Str
                {
                    // go-yaml (and the lossless path) refuse keys that are not strings.
                    return None;
                }
                Some(Some(Key {
                    start: p,
                    end: c,
                    next: c + 1,
                }))
            }
        }
    }

    /// A one-line scalar value at `p`, running to the end of the line or to a comment after it
    /// (` # …`), which then belongs, after the value, to the map or list holding it.
    fn value(&mut self, p: usize, le: usize) -> Option<()> {
        let b = self.b;
        let (end, style, rest) = match b[p] {
            b'"' => {
                let close = p + 1 + memchr::memchr(b'"', &b[p + 1..le])?;
                if b[p + 1..close].contains(&b'\\') {
                    return None;
                }
                (close + 1, Style::Double, close + 1)
            }
            b'\'' => {
                let mut j = p + 1;
                loop {
                    if j >= le {
                        return None;
                    }
                    if b[j] == b'\'' {
                        if j + 1 < le && b[j + 1] == b'\'' {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j += 1;
                }
                (j + 1, Style::Single, j + 1)
            }
            c => {
                if is_indicator(c) || (c == b'-' && (p + 1 == le || b[p + 1] == b' ')) {
                    return None;
                }
                // The value ends at ` #` (a comment) or at the end of the line.
                let mut stop = le;
                for i in memchr::memchr_iter(b' ', &b[p + 1..le]).map(|i| p + 1 + i) {
                    if b[i - 1] == b':' {
                        return None;
                    }
                    if b.get(i + 1) == Some(&b'#') {
                        stop = i;
                        break;
                    }
                }
                let mut e = stop;
                while e > p && b[e - 1] == b' ' {
                    e -= 1;
                }
                if b[e - 1] == b':' {
                    return None;
                }
                (e, Style::Plain, e)
            }
        };
        // After the value: blanks, then the end of the line or a comment after a blank.
        let mut q = rest;
        while q < le && b[q] == b' ' {
            q += 1;
        }
        let comment = if q == le {
            None
        } else if b[q] == b'#' && q > rest {
            Some(q)
        } else {
            return None;
        };
        if let Style::Plain = style {
            if resolve_plain(&self.src[p..end]) == Resolved::Uint {
                return None;
            }
        }
        self.evs.push(Ev::Val {
            start: p as u32,
            end: end as u32,
            style,
        });
        if let Some(h) = comment {
            self.evs.push(Ev::Comment {
                start: h as u32 + 1,
                end: le as u32,
            });
        }
        Some(())
    }
}

struct Key {
    start: usize,
    end: usize,
    /// Just after its `:`.
    next: usize,
}

/// A byte that cannot start a plain scalar here (or starts something this path leaves alone).
fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'[' | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'%'
            | b'@'
            | b'`'
            | b','
            | b'?'
            | b':'
            | b'"'
            | b'\''
    )
}

/// No control characters but line feeds, no CR or tab, no byte-order mark, no C1 controls or
/// Unicode line/paragraph separators (YAML 1.1 line breaks), no non-characters U+FFFE/U+FFFF.
fn plain_bytes(b: &[u8]) -> bool {
    let simple = |c: u8| (0x20..0x7F).contains(&c) || c == b'\n';
    let mut i = 0;
    while i < b.len() {
        let end = (i + 64).min(b.len());
        if b[i..end].iter().all(|&c| simple(c)) {
            i = end;
            continue;
        }
        for j in i..end {
            let c = b[j];
            if simple(c) || c >= 0x80 && !bad_unicode(b, j) {
                continue;
            }
            return false;
        }
        i = end;
    }
    true
}

fn bad_unicode(b: &[u8], j: usize) -> bool {
    let at = |k: usize| b.get(j + k).copied().unwrap_or(0);
    match b[j] {
        0xC2 => (0x80..=0x9F).contains(&at(1)),
        0xE2 => at(1) == 0x80 && matches!(at(2), 0xA8 | 0xA9),
        0xEF => (at(1) == 0xBB && at(2) == 0xBF) || (at(1) == 0xBF && matches!(at(2), 0xBE | 0xBF)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    //! The streaming path against the lossless one: for every file it accepts it must see the
    //! same leaves (paths, AADs, typed values) and write the same bytes for the same edits;
    //! every file the lossless path refuses it must refuse too.

    use super::*;
    use crate::format::yaml::YamlDocument;
    use crate::format::Parsed;
    use crate::tree::walk_leaves_aad;
    use proptest::prelude::*;

    fn meta() -> Value {
        let entry = |k: &str, v: Value| Item::Entry(k.to_string(), v);
        Value::Map(vec![
            entry(
                "age",
                Value::List(vec![Value::Map(vec![
                    entry("recipient", Value::str("age1qqqq")),
                    entry(
                        "enc",
                        Value::str("-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\n-----END AGE ENCRYPTED FILE-----\n"),
                    ),
                ])]),
            ),
            entry("lastmodified", Value::str("2026-11-29T05:00:00Z")),
            entry("mac", Value::str("ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]")),
            entry("unencrypted_suffix", Value::str("_unencrypted")),
            entry("version", Value::str("3.11.0")),
        ])
    }

    fn lossless_leaves(d: &YamlDocument) -> Vec<(String, Scalar)> {
        let mut out = vec![];
        walk_leaves_aad(d.docs(), |_, _, a, s| out.push((a.to_string(), s.clone())));
        out
    }

    /// The leaves the streaming path reports, and its rendering with `edit` applied.
    fn fast_run(
        f: &FastYaml,
        mut edit: impl FnMut(usize, &Scalar) -> Edit,
    ) -> (Vec<(String, Scalar)>, Option<Rendering>) {
        let mut seen = vec![];
        let r = f
            .render_leaves(&mut |_, a, s| {
                let e = edit(seen.len(), s);
                seen.push((a.to_string(), s.clone()));
                Ok(e)
            })
            .expect("render_leaves");
        (seen, r)
    }

    fn token(i: usize, s: &Scalar) -> String {
        format!(
            "ENC[AES256_GCM,data:d{i}==,iv:i{i}/+=,tag:t{i}==,type:{}]",
            s.type_name()
        )
    }

    /// Opened values of every kind, chosen by leaf number.
    fn opened(i: usize) -> Scalar {
        match i % 9 {
            0 => Scalar::Str(format!("plain value {i}")),
            1 => Scalar::Int(i as i64 - 4),
            2 => Scalar::Bool(i % 2 == 0),
            3 => Scalar::Float("1.50".into()),
            4 => Scalar::Str("needs: quotes # here".into()),
            5 => Scalar::Str("it's \"both\"".into()),
            6 => Scalar::Str("true".into()),
            7 => Scalar::Str("ünïcödé ✓".into()),
            _ => Scalar::Time("2026-11-29T05:00:00Z".into()),
        }
    }

    /// An opened value for leaf `i`: a comment for a comment leaf.
    fn open_as(i: usize, s: &Scalar) -> Scalar {
        if s.is_comment() {
            Scalar::Comment(format!(" opened comment {i}"))
        } else {
            opened(i)
        }
    }

    /// Check everything the module promises for one input; returns whether the streaming path
    /// took it.
    fn agree(src: &str) -> bool {
        let lossless = YamlDocument::parse(src.as_bytes());
        let fast = match FastYaml::scan(src.to_string(), false) {
            Ok(f) => f,
            Err(back) => {
                assert_eq!(back, src, "scan must give the text back unchanged");
                return false;
            }
        };
        let d = match lossless {
            Ok(d) => d,
            Err(e) => {
                panic!("the streaming path accepts what the lossless one refuses ({e}):\n{src}")
            }
        };
        assert_eq!(d.docs().len(), 1);
        let want = lossless_leaves(&d);

        // Sealing every leaf (encrypting), with the metadata appended.
        let (seen, r) = fast_run(&fast, |i, s| Edit::Seal(token(i, s)));
        assert_eq!(seen, want, "leaves differ for:\n{src}");
        let edits: Vec<Edit> = want
            .iter()
            .enumerate()
            .map(|(i, (_, s))| Edit::Seal(token(i, s)))
            .collect();
        let m = meta();
        let expected = d.render(&edits, Some(&m)).expect("lossless render");
        let got = fast
            .finish(r.expect("sealing is always written in place"), Some(&m))
            .expect("the streaming output must verify")
            .to_vec();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "sealed output differs for:\n{src}"
        );

        // The same on two threads, cut wherever `cut` finds a place, even in a small file.
        let mut n_first = 0usize;
        let mut n_second = 0usize;
        let split = fast
            .render_split_from(
                0,
                &mut |_, _, s| {
                    n_first += 1;
                    Ok(Edit::Seal(token(n_first - 1, s)))
                },
                &mut |_, _, _| {
                    n_second += 1;
                    Ok(Edit::Seal(format!(
                        "ENC[AES256_GCM,data:b{n_second},iv:x,tag:y,type:str]"
                    )))
                },
            )
            .expect("render")
            .expect("in place");
        let split_edits: Vec<Edit> = want
            .iter()
            .enumerate()
            .map(|(i, (_, s))| {
                Edit::Seal(if i < n_first {
                    token(i, s)
                } else {
                    format!(
                        "ENC[AES256_GCM,data:b{},iv:x,tag:y,type:str]",
                        i - n_first + 1
                    )
                })
            })
            .collect();
        assert_eq!(n_first + n_second, want.len());
        let got = fast
            .finish(split, Some(&m))
            .expect("the two-part output must verify")
            .to_vec();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&d.render(&split_edits, Some(&m)).expect("lossless")),
            "two-part output differs for:\n{src}"
        );

        // Keeping some leaves and sealing others.
        let mixed: Vec<Edit> = want
            .iter()
            .enumerate()
            .map(|(i, (_, s))| {
                if i % 2 == 0 {
                    Edit::Keep
                } else {
                    Edit::Seal(token(i, s))
                }
            })
            .collect();
        let (_, r) = fast_run(&fast, |i, _| mixed[i].clone());
        let got = fast
            .finish(r.expect("in place"), Some(&m))
            .expect("verifies")
            .to_vec();
        assert_eq!(got, d.render(&mixed, Some(&m)).expect("lossless"));

        // Decrypting the sealed file: read its metadata, open every leaf, drop the block.
        let enc = String::from_utf8(expected).expect("utf-8");
        assert!(
            agree_encrypted(&enc),
            "an encrypted file it wrote must scan:\n{enc}"
        );
        true
    }

    const ACCEPTED: &[&str] = &[
        "a: 1\nb: two\n",
        "a: 1\nb:\n  c: x\n  d: 'y'\ne: \"z\"\n",
        "a:\n    b:\n        c: deep\n    d: 4\n",
        "list:\n  - a\n  - b\n  - 3\nnext: x\n",
        "list:\n- a\n- b\nnext: x\n",
        "list:\n  - k: v\n    k2: 2\n  - k: w\n    sub:\n      - 1\n      -\n      - x\n",
        "nulls:\nother: ~\nmore: null\nlist:\n  -\n  - ~\nempty: ''\nq: \"\"\n",
        "t: true\nf: False\ny: yes\nfl: 1.50\ne: 1e3\ninf: .inf\nnan: .NaN\nneg: -5\nhex: 0x1F\noct: 0o17\nts: 2001-12-14t21:59:43.10-05:00\nd: 2002-12-14\n",
        "'quoted key': 1\n\"dq key\": 2\nk: 'it''s'\nk2: \"a 'b' c\"\nk3: 'say \"hi\"'\n",
        "url: https://example.com/a?b=c#frag\npath: a:b:c\nhash: a#b\ndash: -a-\nbr: x[0]{1},y\n",
        "u: ünïcödé ✓ 日本\nk_unencrypted: stays\n",
        "\n\na: 1   \n\n\nb:    x y   \n\n",
        "deep:\n  l1:\n    - l2:\n        - l3: v\n          l3b:\n            x: y\n",
        "top: value\n",
        "ENC: ENC[AES256_GCM\nx: 2\n",
        "a:\n  b: 1\n  c:\n  d: 2\n",
        "root:\n  - a: 1\n  -\n    b: 2\n",
        "# head of a\na: 1\n# head of b\n\n#second line\nb:\n  # head of c\n  c: x\n  #\n  d: y\n# after a nested map\ne: z\n",
        "a:\n  b:\n    c: 1\n  # back in a\n  d: 2\nl:\n  - 1\n# after a list\nm: 3\n",
        "a:\n  # first key of a nested map\n  b: 1\n",
        "a: 1 # one\nb: 'q'   # two # three\nc:\n  d: \"x\" #\n  l:\n    - 1 # item\n    - k: v # in map\n# head\ne: x#y #z\n",
        "a:\n  b: deep # last in its map\nc: 2\n",
    ];

    const REFUSED: &[&str] = &[
        "a: # after a key\n  b: 1\n",
        "l:\n  - # after a dash\n    x\n",
        "a: 'q'# no blank\n",
        "a: 1\n# at the end\n",
        "a: 1\n  # deeper than the next key\nb: 2\n",
        "a:\n  b: 1\n# before a dedent\n  c: 2\n",
        "l:\n  # before a list item\n  - 1\n",
        "a:\n# after a key with no value\nb: 1\n",
        "# before sops\nsops:\n    version: 3.11.0\n",
        "types: [not flow]x\n",
        "a:\n  - :\n",
        "a:\n  - - x\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: |\n  block\n",
        "a: >\n  folded\n",
        "a: [1, 2]\n",
        "a: {b: 1}\n",
        "a: multi\n  line\n",
        "a: \"multi\n  line\"\n",
        "a:\tb\n",
        "a: 1\r\nb: 2\r\n",
        "a: 1\na: 2\n",
        "a: 1",
        "---\na: 1\n",
        "a: 1\n...\n",
        "- a\n- b\n",
        "sops:\n  version: 3.11.0\n",
        "a: 18446744073709551615\n",
        "a: \"esc\\n\"\n",
        "  a: 1\n",
        "a: b: c\n",
        "a: b:\n",
        "? a\n: b\n",
        "a: 1\n  b: 2\n",
        "a:\n  b: 1\n c: 2\n",
        "\u{feff}a: 1\n",
        "a: x\u{2028}y\n",
        "a: @x\n",
        "<<: {a: 1}\n",
        "a:\n  - b\n  c: d\n",
        "",
        "\n\n",
    ];

    #[test]
    fn accepted_layouts_agree_with_the_lossless_path() {
        for src in ACCEPTED {
            assert!(agree(src), "expected the streaming path to take:\n{src}");
        }
    }

    /// Decrypting: the same metadata and the same output as the lossless path, wherever the
    /// `sops:` block sits and however it is indented (files written by other tools).
    fn agree_encrypted(enc: &str) -> bool {
        let Ok(fe) = FastYaml::scan(enc.to_string(), true) else {
            return false;
        };
        let de = YamlDocument::parse(enc.as_bytes()).expect("the lossless path reads it");
        assert_eq!(
            fe.metadata().expect("metadata").as_ref(),
            de.metadata(),
            "{enc}"
        );
        let opens: Vec<Edit> = lossless_leaves(&de)
            .iter()
            .enumerate()
            .map(|(i, (_, s))| Edit::Open(open_as(i, s)))
            .collect();
        let (seen, r) = fast_run(&fe, |i, _| opens[i].clone());
        assert_eq!(seen, lossless_leaves(&de), "{enc}");
        let got = fe
            .finish(r.expect("in place"), None)
            .expect("verifies")
            .to_vec();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&de.render(&opens, None).expect("lossless")),
            "{enc}"
        );
        true
    }

    #[test]
    fn encrypted_layouts_agree_with_the_lossless_path() {
        let block = "sops:\n    age:\n        - recipient: age1qqqq\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            YWJj\n            -----END AGE ENCRYPTED FILE-----\n    lastmodified: \"2026-11-29T05:00:00Z\"\n    mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]\n    version: 3.11.0\n";
        let body = "a: ENC[AES256_GCM,data:YQ==,iv:aXY=,tag:dGFn,type:str]\nb:\n    c: ENC[AES256_GCM,data:Yw==,iv:aXY=,tag:dGFn,type:int]\n    d: plain_unencrypted\n";
        for enc in [
            format!("{body}{block}"),
            format!("{block}{body}"),
            format!("{body}{block}\n\n"),
            format!("{block}\n\n{body}"),
            format!("a: 1\n{block}b: 2\n"),
        ] {
            assert!(
                agree_encrypted(&enc),
                "expected the streaming path to take:\n{enc}"
            );
        }
        // Files written by the real sops 3.11 (see testdata/sops/make.sh).
        for f in [
            "scalars.enc.yaml",
            "structure.enc.yaml",
            "two-recipients.enc.yaml",
        ] {
            let path = format!("{}/testdata/sops/{f}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).expect("fixture");
            agree_encrypted(&text);
        }
        // No metadata, or a `sops` key that is not a block, or comments or a keep-chomped
        // block in the `sops:` lines (a comment there may belong to the document): the
        // lossless path decides.
        let tok = "#ENC[AES256_GCM,data:YQ==,iv:aXY=,tag:dGFn,type:comment]";
        for enc in [
            body.to_string(),
            format!("{body}sops: 1\n"),
            format!("{block}{block}"),
            format!("{body}{block}    \n"),
            block.to_string(),
            "sops:\n".to_string(),
            format!("{body}{block}  {tok}\n"),
            format!("{body}{block}    {tok}\nz: 1\n"),
            format!("{body}{block}    x: |+\n        y\n\n\n"),
        ] {
            assert!(FastYaml::scan(enc.clone(), true).is_err(), "{enc}");
        }
    }

    #[test]
    fn nesting_the_lossless_path_refuses_is_refused() {
        let deep = |n: usize| {
            let mut s = String::new();
            for i in 0..n {
                s.push_str(&" ".repeat(i));
                s.push_str("k:\n");
            }
            s.push_str(&" ".repeat(n));
            s.push_str("v: 1\n");
            s
        };
        assert!(FastYaml::scan(deep(300), false).is_err());
        assert!(YamlDocument::parse(deep(300).as_bytes()).is_err());
        assert!(agree(&deep(100)));
    }

    #[test]
    fn keys_near_yamls_length_limit_are_left_to_the_lossless_path() {
        // saphyr reads text of more than 1024 characters before `: ` as a scalar, not a key.
        let long = format!("k: v\n{}: v\n", "k".repeat(1030));
        assert!(FastYaml::scan(long, false).is_err());
        let colon_early = format!("k: v\nhttp://x{}: v\n", "k".repeat(1030));
        assert!(FastYaml::scan(colon_early, false).is_err());
        let quoted = format!("k: v\n\"{}\": v\n", "k".repeat(1030));
        assert!(FastYaml::scan(quoted, false).is_err());
        assert!(agree(&format!("k: v\n{}: v\n", "k".repeat(900))));
    }

    #[test]
    fn refused_layouts_go_to_the_lossless_path() {
        for src in REFUSED {
            assert!(
                FastYaml::scan(src.to_string(), false).is_err(),
                "expected the streaming path to refuse:\n{src}"
            );
        }
    }

    #[test]
    fn unit_is_the_lossless_paths_unit() {
        // The `sops:` block's indentation follows the file (checked byte for byte in `agree`).
        for (src, unit) in [
            ("a:\n  b: 1\n", 2),
            ("a:\n    b: 1\n", 4),
            ("a:\n   - 1\nb:\n  c: 1\n", 2),
            ("a:\n   - 1\n", 3),
            ("a: 1\n", 4),
            ("l:\n  - k:\n      x: 1\n", 2),
            ("l:\n- 1\n", 2),
            ("l:\n-    1\n", 5),
            ("l:\n- 1\nm:\n   x: 1\n", 3),
        ] {
            assert!(agree(src));
            assert_eq!(
                FastYaml::scan(src.into(), false).map(|f| f.unit).ok(),
                Some(unit),
                "{src}"
            );
        }
    }

    #[test]
    fn multi_line_opened_values_go_back_to_the_lossless_path() {
        let f = FastYaml::scan("a: x\nb: y\n".into(), false).expect("scan");
        let (_, r) = fast_run(&f, |i, _| {
            Edit::Open(if i == 1 {
                Scalar::Str("two\nlines".into())
            } else {
                Scalar::Int(1)
            })
        });
        assert!(r.is_none());
        let (_, r) = fast_run(&f, |_, _| Edit::Open(Scalar::Comment(" c".into())));
        assert!(r.is_none());
    }

    #[test]
    fn a_wrong_expectation_is_refused() {
        // The check compares what saphyr reads with what was meant, not with itself.
        let f = FastYaml::scan("a: x\nb: y\n".into(), false).expect("scan");
        let (_, r) = fast_run(&f, |_, _| Edit::Keep);
        let mut r = r.expect("in place");
        r.parts[0].expect[1] = Expect::Opened(Box::new(Scalar::Str("z".into())));
        let e = f.finish(r, None).err().expect("must refuse");
        assert_eq!(e.code, crate::error::Code::ErrorDumpingTree);
        let (_, r) = fast_run(&f, |_, _| Edit::Keep);
        let mut r = r.expect("in place");
        r.parts[0].out.insert_str(0, "c: 1\n");
        assert!(f.finish(r, None).is_err());
    }

    /// Render on two threads the way the commands do: the same bytes as one thread, the
    /// leaves seen in order across the two editors, and a fault in either part refused.
    fn split_run(f: &FastYaml, meta: Option<&Value>) -> (Vec<(String, Scalar)>, Rendering) {
        let mut a = vec![];
        let mut b = vec![];
        let r = f
            .render_leaves_split(
                &mut |_, aad, s| {
                    a.push((aad.to_string(), s.clone()));
                    Ok(Edit::Seal(token(a.len() - 1, s)))
                },
                &mut |_, aad, s| {
                    b.push((aad.to_string(), s.clone()));
                    Ok(Edit::Seal(format!(
                        "ENC[AES256_GCM,data:b{},iv:x,tag:y,type:str]",
                        b.len()
                    )))
                },
            )
            .expect("render")
            .expect("in place");
        let _ = meta;
        a.extend(b);
        (a, r)
    }

    #[test]
    fn big_files_are_rendered_and_checked_in_two_parts() {
        // Nested maps (the cut can fall inside them), lists, quoted keys.
        let mut src = String::new();
        for i in 0..3 {
            src.push_str(&format!("top{i}:\n  'mid':\n"));
            for j in 0..1500 {
                src.push_str(&format!(
                    "    key{j}:\n      inner: value number {j}\n      list:\n        - {j}\n        - x: y\n    \"q{j}\": z\n"
                ));
            }
        }
        let f = FastYaml::scan(src.clone(), false).expect("scan");
        let (seen, r) = split_run(&f, None);
        assert_eq!(r.parts.len(), 2, "a big file is cut in two");
        assert!(
            !r.parts[1].parents.is_empty(),
            "the cut falls inside nested maps"
        );
        let d = YamlDocument::parse(src.as_bytes()).expect("parse");
        assert_eq!(seen, lossless_leaves(&d));
        // The same bytes as the lossless path with the same tokens.
        let (na, _) = (r.parts[0].expect.len(), 0);
        let edits: Vec<Edit> = seen
            .iter()
            .enumerate()
            .map(|(i, (_, s))| {
                Edit::Seal(if i < na {
                    token(i, s)
                } else {
                    format!("ENC[AES256_GCM,data:b{},iv:x,tag:y,type:str]", i - na + 1)
                })
            })
            .collect();
        let m = meta();
        let out = f.finish(r, Some(&m)).expect("verifies").to_vec();
        assert_eq!(out, d.render(&edits, Some(&m)).expect("lossless"));
        // A fault in the second part is found there; one in the first part too.
        for part in [0, 1] {
            let (_, mut r) = split_run(&f, None);
            let x = &mut r.parts[part].expect;
            let n = x.len();
            x[n / 2] = Expect::Text(0, 1);
            assert!(f.finish(r, Some(&m)).is_err(), "part {part}");
        }
        // A line left unfinished at the end of the first part is found.
        let (_, mut r) = split_run(&f, None);
        r.parts[0].out.push_str("      'open: x\n");
        assert!(f.finish(r, Some(&m)).is_err());
    }

    /// Token pool for generated documents: the tricky bits of YAML's plain-scalar rules.
    const WORDS: &[&str] = &[
        "a",
        "b",
        "key",
        "a b",
        "a:b",
        "a: b",
        "a #b",
        "a#b",
        "-a",
        "- a",
        "-",
        "'x'",
        "\"x\"",
        "'it''s'",
        "\"q\\\"x\"",
        "1",
        "-1",
        "0x1F",
        "0o7",
        "1e3",
        "1.5",
        ".inf",
        "null",
        "~",
        "true",
        "yes",
        "No",
        "2001-12-14",
        "2001-12-14 21:59:43.10 -5",
        "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]",
        "é",
        "[a]",
        "{a}",
        "*x",
        "&x",
        "!t",
        "|",
        ">",
        "%",
        "@",
        "`",
        "?",
        ":",
        "x:",
        "18446744073709551615",
        "sops",
        "<<",
        "a,b",
        "'",
        "\"",
        "a'",
        "...",
        "---",
        "#",
    ];

    /// Mostly values the streaming path takes, sometimes tricky ones.
    const GOOD: &[&str] = &[
        "a",
        "b c",
        "value-1",
        "x_y",
        "1",
        "-1",
        "1.5",
        "1e3",
        "true",
        "no",
        "null",
        "~",
        "2001-12-14",
        "'single'",
        "\"double\"",
        "'it''s'",
        "a:b",
        "a#b",
        "http://x/y?z#f",
        "é ✓",
        "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]",
        "0x1F",
        ".inf",
        "''",
        "\"\"",
        "-",
        "--x",
        "a'b",
        "[x",
        "x]",
        "{x}y",
        "x: ",
        "  spaced  ",
    ];

    fn word() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            8 => prop::sample::select(GOOD),
            2 => prop::sample::select(WORDS),
        ]
    }

    fn key() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            8 => prop::sample::select(&["a", "b", "c", "d", "k_unencrypted", "x y", "é"][..]),
            2 => prop::sample::select(KEYS),
        ]
    }

    fn line() -> impl Strategy<Value = String> {
        (
            prop::sample::select(&[0usize, 0, 2, 2, 4, 1, 3, 6][..]),
            0usize..7,
            key(),
            word(),
        )
            .prop_map(|(ind, form, k, v)| {
                let pad = " ".repeat(ind);
                match form {
                    0 => format!("{pad}{k}: {v}"),
                    1 => format!("{pad}{k}:"),
                    2 => format!("{pad}- {v}"),
                    3 => format!("{pad}- {k}: {v}"),
                    4 => format!("{pad}-"),
                    5 if k.len() % 2 == 0 => format!("{pad}# {v}"),
                    5 => String::new(),
                    _ => format!("{pad}{k}: {v}  "),
                }
            })
    }

    #[derive(Clone, Debug)]
    enum Node {
        Leaf(&'static str),
        Map(Vec<(&'static str, Node)>),
        List(Vec<Node>),
    }

    const KEYS: &[&str] = &[
        "a",
        "b",
        "c d",
        "é",
        "'q k'",
        "\"d k\"",
        "1",
        "true",
        "k_unencrypted",
        "a:b",
        "x#y",
        "-x",
        "sops",
    ];

    /// Well-formed documents from a random tree, so that most cases are accepted.
    fn tree_doc() -> impl Strategy<Value = String> {
        let leaf = word().prop_map(Node::Leaf);
        let node = leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec((key(), inner.clone()), 1..4).prop_map(Node::Map),
                prop::collection::vec(inner, 1..4).prop_map(Node::List),
            ]
        });
        (
            prop::collection::vec((key(), node), 1..4),
            2usize..5,
            any::<bool>(),
        )
            .prop_map(|(top, unit, compact)| {
                let mut out = String::new();
                write_map(&mut out, &top, 0, unit, compact, false);
                out
            })
    }

    /// Write map entries at `col`; `first_inline`: the first key goes right after a `- `.
    fn write_map(
        out: &mut String,
        items: &[(&str, Node)],
        col: usize,
        unit: usize,
        compact: bool,
        first_inline: bool,
    ) {
        let mut seen = std::collections::HashSet::new();
        for (i, (k, v)) in items.iter().enumerate() {
            if !(first_inline && i == 0) {
                if k.len() % 3 == 1 {
                    // A head comment in the key's column (sometimes several, or a blank line).
                    out.push_str(&" ".repeat(col));
                    out.push_str(&format!("# about {k}\n"));
                    if k.len() == 1 {
                        out.push_str(&format!("\n{}#\n", " ".repeat(col)));
                    }
                }
                out.push_str(&" ".repeat(col));
            }
            out.push_str(k);
            // Mostly distinct keys (a repeated quoted key is left, to be refused by both).
            if !seen.insert(*k) && !k.starts_with(['\'', '"']) {
                out.push_str(&format!("_{i}"));
            }
            out.push(':');
            write_value(out, v, col, unit, compact);
        }
    }

    fn write_value(out: &mut String, v: &Node, col: usize, unit: usize, compact: bool) {
        match v {
            Node::Leaf(t) => {
                out.push(' ');
                out.push_str(t);
                if t.len() % 4 == 1 {
                    out.push_str(" # after it");
                }
                out.push('\n');
            }
            Node::Map(items) => {
                out.push('\n');
                write_map(out, items, col + unit, unit, compact, false);
            }
            Node::List(items) => {
                out.push('\n');
                let lc = if compact { col } else { col + unit };
                for it in items {
                    out.push_str(&" ".repeat(lc));
                    out.push('-');
                    match it {
                        Node::Map(m) if compact => {
                            out.push(' ');
                            write_map(out, m, lc + 2, unit, compact, true);
                        }
                        other => write_value(out, other, lc, unit, compact),
                    }
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1500))]

        #[test]
        fn line_soup_agrees(lines in prop::collection::vec(line(), 1..12)) {
            let mut src = lines.join("\n");
            src.push('\n');
            agree(&src);
        }

        #[test]
        fn generated_documents_agree(src in tree_doc()) {
            agree(&src);
        }
    }
}
