//! Exact byte positions in YAML source: where a scalar token really starts and ends, where its
//! properties (`&anchor`, `!tag`) are, where block scalars' headers and content lines are, and
//! where comments sit between tokens.
//!
//! saphyr-parser reports character-indexed markers, and its span ends run past quoted scalars
//! into trailing comments and around block scalars; splicing on them corrupts data. This module
//! turns markers into byte offsets and re-measures every token with a small lexer that knows the
//! token's style. It only measures; it never decides what a value means. Every function is total
//! on arbitrary input (no panics, no slicing off a char boundary).

/// Converts saphyr's character indices to byte offsets, moving a cursor incrementally so a pass
/// over the document in order costs O(length).
pub(crate) struct CharMap<'a> {
    src: &'a str,
    ascii: bool,
    ci: usize,
    bi: usize,
}

impl<'a> CharMap<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        CharMap {
            src,
            ascii: src.is_ascii(),
            ci: 0,
            bi: 0,
        }
    }

    /// The byte offset of character index `ci` (clamped to the end of the text).
    pub(crate) fn byte(&mut self, ci: usize) -> usize {
        let b = self.src.as_bytes();
        if self.ascii {
            return ci.min(b.len());
        }
        while self.ci < ci && self.bi < b.len() {
            self.bi += utf8_len(b[self.bi]);
            self.bi = self.bi.min(b.len());
            self.ci += 1;
        }
        while self.ci > ci && self.bi > 0 {
            self.bi -= 1;
            while self.bi > 0 && !self.src.is_char_boundary(self.bi) {
                self.bi -= 1;
            }
            self.ci -= 1;
        }
        self.bi
    }
}

fn utf8_len(lead: u8) -> usize {
    match lead {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xFF => 4,
        _ => 1,
    }
}

pub(crate) fn is_ws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

pub(crate) fn is_break(c: u8) -> bool {
    c == b'\n' || c == b'\r'
}

pub(crate) fn is_blank_or_break(c: u8) -> bool {
    is_ws(c) || is_break(c)
}

pub(crate) fn is_flow_indicator(c: u8) -> bool {
    matches!(c, b',' | b'[' | b']' | b'{' | b'}')
}

/// Start of the line holding `pos` (a byte order mark opening the file is not part of the
/// first line, so columns and "only blanks before" checks ignore it).
pub(crate) fn line_start(b: &[u8], pos: usize) -> usize {
    let mut i = pos.min(b.len());
    while i > 0 && b[i - 1] != b'\n' && b[i - 1] != b'\r' {
        i -= 1;
    }
    if i == 0 && pos >= 3 && b.starts_with(b"\xEF\xBB\xBF") {
        return 3;
    }
    i
}

/// End of the line holding `pos`: the offset of its line break (or the end of the text).
pub(crate) fn line_end(b: &[u8], pos: usize) -> usize {
    let mut i = pos.min(b.len());
    while i < b.len() && !is_break(b[i]) {
        i += 1;
    }
    i
}

/// The offset just after the line break at `pos` (which must be a line end).
pub(crate) fn after_break(b: &[u8], pos: usize) -> usize {
    if pos < b.len() && b[pos] == b'\r' {
        if pos + 1 < b.len() && b[pos + 1] == b'\n' {
            pos + 2
        } else {
            pos + 1
        }
    } else if pos < b.len() && b[pos] == b'\n' {
        pos + 1
    } else {
        pos
    }
}

/// 1-based line number of `pos`, for error messages only.
pub(crate) fn line_number(b: &[u8], pos: usize) -> usize {
    let end = pos.min(b.len());
    1 + b[..end].iter().filter(|&&c| c == b'\n').count()
}

/// The properties in front of a node: an anchor's byte range and whether there is a tag.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Props {
    /// Where the first property starts (or the node, if none).
    pub start: usize,
    pub anchor: Option<(usize, usize)>,
    pub tag: Option<(usize, usize)>,
}

/// From `pos` (saphyr's start marker of a node, which points at its properties when it has
/// any), skip `&anchor` / `!tag` tokens and the blanks and comments between them. Returns the
/// properties and the offset of the node's own first character.
pub(crate) fn skip_props(b: &[u8], pos: usize) -> (Props, usize) {
    let mut props = Props {
        start: pos,
        anchor: None,
        tag: None,
    };
    let mut i = pos;
    loop {
        match b.get(i) {
            Some(&c @ (b'&' | b'!')) => {
                let s = i;
                i += 1;
                if c == b'!' && b.get(i) == Some(&b'<') {
                    while i < b.len() && b[i] != b'>' && !is_break(b[i]) {
                        i += 1;
                    }
                    if i < b.len() && b[i] == b'>' {
                        i += 1;
                    }
                } else {
                    while i < b.len() && !is_blank_or_break(b[i]) && !is_flow_indicator(b[i]) {
                        i += 1;
                    }
                }
                if c == b'&' {
                    props.anchor = Some((s, i));
                } else {
                    props.tag = Some((s, i));
                }
                let after = skip_blanks_and_comments(b, i);
                if matches!(b.get(after), Some(b'&' | b'!')) {
                    i = after;
                } else {
                    // The node follows (possibly on a later line), or it is empty.
                    return (props, after);
                }
            }
            _ => return (props, i),
        }
    }
}

/// Skip spaces, tabs, line breaks and comments.
pub(crate) fn skip_blanks_and_comments(b: &[u8], mut i: usize) -> usize {
    loop {
        while i < b.len() && is_blank_or_break(b[i]) {
            i += 1;
        }
        if i < b.len() && b[i] == b'#' && (i == 0 || is_blank_or_break(b[i - 1])) {
            i = line_end(b, i);
            continue;
        }
        return i;
    }
}

/// End (exclusive) of a single-quoted scalar starting at `start` (the `'`).
pub(crate) fn single_quoted_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < b.len() {
        if b[i] == b'\'' {
            if b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// End (exclusive) of a double-quoted scalar starting at `start` (the `"`).
pub(crate) fn double_quoted_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// End (exclusive) of a plain scalar starting at `start` whose decoded value is `value`:
/// the source is matched against the value, where a line break with the blanks around it folds
/// to one space (or to `n-1` newlines for `n` breaks).
pub(crate) fn plain_end(b: &[u8], start: usize, value: &str) -> Option<usize> {
    let v = value.as_bytes();
    let (mut i, mut j) = (start, 0);
    while j < v.len() {
        let c = *b.get(i)?;
        if is_blank_or_break(c) {
            // A run of blanks: either literal blanks on one line, or a fold.
            let mut k = i;
            let mut breaks = 0;
            while k < b.len() && is_blank_or_break(b[k]) {
                if b[k] == b'\n' || (b[k] == b'\r' && b.get(k + 1) != Some(&b'\n')) {
                    breaks += 1;
                }
                k += 1;
            }
            if breaks == 0 {
                // Literal blanks: must match the value byte for byte.
                let run = &b[i..k];
                if v.len() >= j + run.len() && &v[j..j + run.len()] == run {
                    i = k;
                    j += run.len();
                    continue;
                }
                return None;
            }
            if breaks == 1 {
                if v[j] != b' ' {
                    return None;
                }
                j += 1;
            } else {
                for _ in 0..breaks - 1 {
                    if v.get(j) != Some(&b'\n') {
                        return None;
                    }
                    j += 1;
                }
            }
            i = k;
        } else if c == v[j] {
            i += 1;
            j += 1;
        } else {
            return None;
        }
    }
    Some(i)
}

/// A block scalar's layout: the header indicator (`|`, `>`, with its chomping/indent chars), and
/// the content lines that follow the header line.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BlockLayout {
    pub header_start: usize,
    pub header_end: usize,
    /// End of the header line (its line break), where the content deletion starts.
    pub header_line_end: usize,
    /// Where the value's text ends (before a line break): the end of its last non-empty content
    /// line, or for `|+`/`>+` (whose trailing blank lines are part of the value) the end of the
    /// last such blank line; `header_line_end` if it has no content.
    pub value_end: usize,
    /// The scalar runs to the end of a file whose last line has no line break, in a way that
    /// makes saphyr-parser end its value with a line break that YAML does not put there (see
    /// [`block_layout`]): the caller drops that `\n`.
    pub eof_newline: bool,
    /// What a line break after the last byte of the text would change in the value, when the
    /// scalar runs to the end of a text without a final line break.
    pub open_end: OpenEnd,
}

/// How a block scalar that runs to the end of a text without a final line break reads once
/// something is appended after a line break: what must change to keep its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpenEnd {
    /// Nothing changes (the scalar ends earlier, the text ends with a line break, or the
    /// scalar is strip-chomped and its last line holds only blanks).
    Closed,
    /// The last line is content: its new line break would join the value unless the header's
    /// chomping becomes strip (`-`), which gives the value YAML reads now.
    Content,
    /// The last line is blank, inside a keep-chomped scalar: its new line break would join the
    /// value unless the blanks of that line go.
    KeepBlank,
}

/// Find a block scalar's header scanning forward from `cursor` (the end of the previous token):
/// skip blanks, comments, `-`/`?`/`:` indicators and properties. Then measure its content.
/// `parent_indent` is the indentation of the block collection holding the scalar, which an
/// explicit indentation indicator (`|2`) is relative to.
pub(crate) fn block_layout(
    b: &[u8],
    cursor: usize,
    value: &str,
    parent_indent: Option<usize>,
) -> Option<(Props, BlockLayout)> {
    let mut i = cursor;
    let mut props = Props {
        start: 0,
        anchor: None,
        tag: None,
    };
    let mut props_start = None;
    loop {
        i = skip_blanks_and_comments(b, i);
        match *b.get(i)? {
            b'-' | b'?' | b':' if b.get(i + 1).is_none_or(|&c| is_blank_or_break(c)) => i += 1,
            b'&' | b'!' => {
                let (p, next) = skip_props(b, i);
                props_start.get_or_insert(p.start);
                if p.anchor.is_some() {
                    props.anchor = p.anchor;
                }
                if p.tag.is_some() {
                    props.tag = p.tag;
                }
                if next == i {
                    return None;
                }
                i = next;
            }
            b'|' | b'>' => break,
            _ => return None,
        }
    }
    let header_start = i;
    props.start = props_start.unwrap_or(header_start);
    i += 1;
    let mut explicit: Option<usize> = None;
    let mut keep = false;
    let mut strip = false;
    for _ in 0..2 {
        match b.get(i) {
            Some(&d @ b'1'..=b'9') => {
                explicit = Some((d - b'0') as usize);
                i += 1;
            }
            Some(b'+') => {
                keep = true;
                i += 1;
            }
            Some(b'-') => {
                strip = true;
                i += 1;
            }
            _ => {}
        }
    }
    let header_end = i;
    let header_line_end = line_end(b, header_end);
    // Content lines: after the header line, until the first non-empty line indented less than
    // the content indentation.
    let mut indent: Option<usize> = match (explicit, parent_indent) {
        (Some(m), Some(p)) => Some(p + m),
        _ => None,
    };
    let first_line = after_break(b, header_line_end);
    let mut pos = first_line;
    let mut content_end = header_line_end;
    let lead = value.trim_start_matches('\n');
    let lead_spaces = lead.len() - lead.trim_start_matches(' ').len();
    // Whether the scalar runs to the end of the text, and whether saphyr-parser saw a content
    // line in it (a line with more than blanks, or, once the indentation is known, with more
    // spaces than it).
    let mut to_eof = true;
    let mut has_content = false;
    while pos < b.len() {
        let le = line_end(b, pos);
        let line = &b[pos..le];
        let spaces = line.iter().take_while(|&&c| c == b' ').count();
        let empty = spaces == line.len();
        if matches!(indent, Some(n) if spaces > n) {
            has_content = true;
        }
        if !empty {
            let n = match indent {
                Some(n) => n,
                None => {
                    let n = if explicit.is_some() {
                        spaces.saturating_sub(lead_spaces)
                    } else {
                        spaces
                    };
                    indent = Some(n);
                    n
                }
            };
            if spaces < n || n == 0 || is_document_marker(line) {
                to_eof = false;
                break;
            }
            has_content = true;
            content_end = le;
        }
        if le >= b.len() {
            break;
        }
        pos = after_break(b, le);
    }
    let mut value_end = content_end;
    if keep {
        // Trailing blank lines belong to a keep-chomped value.
        let mut pos = lex_next_line(b, content_end);
        while let Some(p) = pos {
            let le = line_end(b, p);
            if !b[p..le].iter().all(|&c| c == b' ') || is_document_marker(&b[p..le]) {
                break;
            }
            value_end = le;
            pos = lex_next_line(b, le);
        }
    }
    // saphyr-parser ends the value with a line break when the scalar's last line runs to the
    // end of the text without one, if that line reaches the content indentation (or, for a
    // keep-chomped scalar with no content, if it is the one line after the header and not
    // empty). go-yaml, PyYAML and the YAML spec add nothing there: `|` over `  a` at the end
    // of a file is "a", and a last line of spaces only adds the break the line before it had.
    let last_line = line_start(b, b.len());
    let cols = b.len() - last_line;
    let n = indent.unwrap_or(0);
    let open_tail =
        to_eof && last_line > header_line_end && !b.last().is_some_and(|&c| is_break(c));
    let tail_is_content = b[last_line..].iter().any(|&c| c != b' ') || (has_content && cols > n);
    let eof_newline = open_tail
        && !strip
        && if has_content {
            cols >= n.max(1)
        } else {
            keep && last_line == first_line && cols > 0
        };
    let open_end = match (open_tail, tail_is_content) {
        (false, _) => OpenEnd::Closed,
        (true, true) if !strip => OpenEnd::Content,
        (true, false) if keep => OpenEnd::KeepBlank,
        (true, _) => OpenEnd::Closed,
    };
    Some((
        props,
        BlockLayout {
            header_start,
            header_end,
            header_line_end,
            value_end,
            eof_newline,
            open_end,
        },
    ))
}

/// Start of the line after the line break at `le`, if there is one.
fn lex_next_line(b: &[u8], le: usize) -> Option<usize> {
    let n = after_break(b, le);
    if n == le || n >= b.len() {
        None
    } else {
        Some(n)
    }
}

fn is_document_marker(line: &[u8]) -> bool {
    (line.starts_with(b"---") || line.starts_with(b"..."))
        && line.get(3).is_none_or(|&c| is_blank_or_break(c))
}

/// A comment found between tokens.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CommentSpan {
    /// Offset of the `#`.
    pub hash: usize,
    /// End of the comment text (before the line break).
    pub end: usize,
    /// Nothing but blanks before it on its line.
    pub standalone: bool,
    /// Its column in bytes (meaningful for standalone comments, whose prefix is blanks).
    pub col: usize,
}

/// Find the comments in `b[from..to]`, a stretch between tokens. Returns the offset scanning
/// stopped at (a comment may run past `to`).
pub(crate) fn scan_comments(b: &[u8], from: usize, to: usize, out: &mut Vec<CommentSpan>) -> usize {
    let mut i = from;
    let to = to.min(b.len());
    while i < to {
        if b[i] == b'#' && (i == 0 || is_blank_or_break(b[i - 1])) {
            let end = line_end(b, i);
            let ls = line_start(b, i);
            let standalone = b[ls..i].iter().all(|&c| is_ws(c));
            out.push(CommentSpan {
                hash: i,
                end,
                standalone,
                col: i - ls,
            });
            i = end;
        } else {
            i += 1;
        }
    }
    i.max(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_map_moves_both_ways() {
        let s = "aü✓😀b";
        let mut m = CharMap::new(s);
        assert_eq!(m.byte(4), 10);
        assert_eq!(m.byte(1), 1);
        assert_eq!(m.byte(2), 3);
        assert_eq!(m.byte(99), s.len());
        assert_eq!(m.byte(0), 0);
    }

    #[test]
    fn quoted_ends() {
        let b = br#"'it''s' # c"#;
        assert_eq!(single_quoted_end(b, 0), Some(7));
        let b = br#""a\"b\\" # c"#;
        assert_eq!(double_quoted_end(b, 0), Some(8));
        assert_eq!(double_quoted_end(b"\"open", 0), None);
    }

    #[test]
    fn plain_ends() {
        let b = b"a b  c # x";
        assert_eq!(plain_end(b, 0, "a b  c"), Some(6));
        let b = b"one \n   two\n\n   three\nk: v";
        assert_eq!(plain_end(b, 0, "one two\nthree"), Some(21));
        let b = b"x\r\n  y";
        assert_eq!(plain_end(b, 0, "x y"), Some(6));
        assert_eq!(plain_end(b"abc", 0, "abd"), None);
    }

    #[test]
    fn props_are_skipped() {
        let b = b"&a !!str # c\n  value";
        let (p, s) = skip_props(b, 0);
        assert_eq!(p.anchor, Some((0, 2)));
        assert_eq!(p.tag, Some((3, 8)));
        assert_eq!(s, 15);
    }

    #[test]
    fn block_layouts() {
        let b = b"k: |-  # c\n  one\n\n  two\n\nz: 1\n";
        let (_, l) = block_layout(b, 1, "one\n\ntwo", Some(0)).unwrap();
        assert_eq!(&b[l.header_start..l.header_end], b"|-");
        assert_eq!(l.header_line_end, 10);
        assert_eq!(&b[l.value_end - 3..l.value_end], b"two");
        let b = b"k: |\nz: 1\n";
        let (_, l) = block_layout(b, 1, "", Some(0)).unwrap();
        assert_eq!(l.value_end, l.header_line_end);
        let b = b"- &x !!str >2\n    indented\n  more\n- next";
        let (p, l) = block_layout(b, 0, "  indented\nmore\n", None).unwrap();
        assert!(p.anchor.is_some() && p.tag.is_some());
        assert_eq!(&b[l.value_end - 4..l.value_end], b"more");
    }

    #[test]
    fn comments_between_tokens() {
        let b = b"a: 1 # one\n  # two\nb#c: 2";
        let mut out = vec![];
        scan_comments(b, 4, b.len(), &mut out);
        assert_eq!(out.len(), 2);
        assert!(!out[0].standalone);
        assert!(out[1].standalone);
        assert_eq!(out[1].col, 2);
    }
}
