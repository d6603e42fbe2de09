//! Fresh YAML in go-yaml v3's layout (the encoder sops uses): for conversions from other
//! formats, for `--extract` of maps and lists, and for the `sops:` metadata block that lossless
//! rendering appends.
//!
//! It follows go-yaml's choices where they matter to readers (indent 4 by default, sequences
//! indented inside maps, literal blocks for multi-line strings, double quotes for strings that
//! would read back as another type, `\U…` for characters outside the BMP) but, unlike sops,
//! it writes floats so that they read back as floats. It never reads input and never fails on
//! a string: every string has a quoted form.

use base64::Engine as _;

use super::resolve::{float_yaml_text, plain_is_ambiguous, resolve_plain, Resolved};
use crate::tree::{Item, Scalar, Value};

/// go-yaml's scalar analysis (`yaml_emitter_analyze_scalar`), reduced to what we use.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Analysis {
    pub multiline: bool,
    pub flow_plain: bool,
    pub block_plain: bool,
    pub single: bool,
    pub block: bool,
}

fn is_printable(c: char) -> bool {
    let v = c as u32;
    v == 0x0A
        || (0x20..=0x7E).contains(&v)
        || (0xA0..=0xD7FF).contains(&v)
        || ((0xE000..=0xFFFD).contains(&v) && v != 0xFEFF)
}

fn is_break_char(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

pub(crate) fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            flow_plain: false,
            block_plain: true,
            single: true,
            block: false,
        };
    }
    let mut flow_ind = false;
    let mut block_ind = false;
    if s.starts_with("---") || s.starts_with("...") {
        flow_ind = true;
        block_ind = true;
    }
    let (mut line_breaks, mut special, mut tabs) = (false, false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_by_ws = true;
    let mut it = s.chars().peekable();
    let mut i = 0usize;
    while let Some(c) = it.next() {
        let next = it.peek().copied();
        let last = next.is_none();
        let followed_by_ws = match next {
            None => true,
            Some(n) => matches!(n, ' ' | '\t') || is_break_char(n),
        };
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_ind = true;
                    block_ind = true;
                }
                '?' | ':' => {
                    flow_ind = true;
                    if followed_by_ws {
                        block_ind = true;
                    }
                }
                '-' if followed_by_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_ind = true,
                ':' => {
                    flow_ind = true;
                    if followed_by_ws {
                        block_ind = true;
                    }
                }
                '#' if preceded_by_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        }
        if c == '\t' {
            tabs = true;
        } else if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if last {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break_char(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if last {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = matches!(c, ' ' | '\t') || is_break_char(c);
        i += 1;
    }
    let mut a = Analysis {
        multiline: line_breaks,
        flow_plain: true,
        block_plain: true,
        single: true,
        block: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.flow_plain = false;
        a.block_plain = false;
        a.single = false;
    }
    if space_break || tabs || special {
        a.flow_plain = false;
        a.block_plain = false;
        a.single = false;
    }
    if space_break || special {
        a.block = false;
    }
    if line_breaks {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if flow_ind {
        a.flow_plain = false;
    }
    if block_ind {
        a.block_plain = false;
    }
    a
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum StrStyle {
    Plain,
    Single,
    Double,
    Literal,
}

/// The style go-yaml v3 picks for a string in block context.
pub(crate) fn goyaml_style(s: &str, is_key: bool) -> StrStyle {
    let a = analyze(s);
    let can_plain = !plain_is_ambiguous(s);
    let mut style = if s.contains('\n') {
        StrStyle::Literal
    } else if can_plain {
        StrStyle::Plain
    } else {
        StrStyle::Double
    };
    if is_key && a.multiline {
        style = StrStyle::Double;
    }
    if style == StrStyle::Plain && !a.block_plain {
        style = StrStyle::Single;
    }
    if style == StrStyle::Single && !a.single {
        style = StrStyle::Double;
    }
    if style == StrStyle::Literal && (!a.block || is_key) {
        style = StrStyle::Double;
    }
    style
}

/// Write `s` double-quoted, with go-yaml's escapes (`non_bmp_escaped`: `\U…` for characters
/// outside the BMP, as go-yaml does; otherwise they stay raw).
pub(crate) fn write_double(out: &mut String, s: &str, non_bmp_escaped: bool) {
    out.push('"');
    // Printable ASCII other than `"` and `\\` needs no escape (the common case).
    if s.bytes()
        .all(|c| (0x20..0x7F).contains(&c) && c != b'"' && c != b'\\')
    {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        let v = c as u32;
        match c {
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            _ if v > 0xFFFF && !non_bmp_escaped => out.push(c),
            _ if !is_printable(c) => {
                if v <= 0xFF {
                    out.push_str(&format!("\\x{v:02X}"));
                } else if v <= 0xFFFF {
                    out.push_str(&format!("\\u{v:04X}"));
                } else {
                    out.push_str(&format!("\\U{v:08X}"));
                }
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}

pub(crate) fn write_single(out: &mut String, s: &str) {
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
}

/// The `|` header for a literal block: chomping indicator, and an indentation indicator when
/// the text starts with a space or a line break.
pub(crate) fn literal_header(s: &str, indent_hint: usize) -> String {
    let mut h = String::from("|");
    if s.starts_with(' ') || s.starts_with('\n') {
        h.push_str(&indent_hint.to_string());
    }
    if !s.ends_with('\n') {
        h.push('-');
    } else if s == "\n" || s.ends_with("\n\n") {
        h.push('+');
    }
    h
}

/// The lines of a literal block after its header, each preceded by `nl`: empty lines stay
/// empty, the last line break is the caller's.
pub(crate) fn literal_body(out: &mut String, s: &str, indent: usize, nl: &str) {
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        out.push_str(nl);
        if !line.is_empty() {
            push_spaces(out, indent);
            out.push_str(line);
        }
    }
}

pub(crate) fn push_spaces(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

/// Text of a non-string scalar, written plain; it reads back as the same type.
pub(crate) fn typed_plain(s: &Scalar) -> Option<String> {
    match s {
        Scalar::Int(i) => Some(i.to_string()),
        Scalar::Bool(b) => Some(b.to_string()),
        Scalar::Float(f) => Some(float_yaml_text(f)),
        Scalar::Time(t) => match resolve_plain(t) {
            Resolved::Time(_) => Some(t.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The go-yaml v3-style writer.
pub(crate) struct Emitter<'a> {
    pub out: String,
    pub unit: usize,
    pub nl: &'a str,
}

impl Emitter<'_> {
    /// go-yaml's indentation for a block child of a map at `indent`: the next multiple of the
    /// unit.
    fn child_indent(&self, indent: usize) -> usize {
        self.unit * ((indent + self.unit) / self.unit)
    }

    fn key(&mut self, k: &str) {
        match goyaml_style(k, true) {
            StrStyle::Plain => self.out.push_str(k),
            StrStyle::Single => write_single(&mut self.out, k),
            _ => write_double(&mut self.out, k, true),
        }
    }

    /// A scalar after `key:` or `- ` (the caller wrote the separator space); handles literal
    /// blocks, whose content goes at `content_indent`.
    fn scalar(&mut self, s: &Scalar, content_indent: usize, hint: Option<usize>) {
        let text: std::borrow::Cow<'_, str> = match s {
            Scalar::Str(t) | Scalar::Comment(t) => t.as_str().into(),
            Scalar::Raw(b) | Scalar::Bytes(b) => match std::str::from_utf8(b) {
                Ok(t) => t.into(),
                Err(_) => {
                    self.out.push_str("!!binary ");
                    self.out
                        .push_str(&base64::engine::general_purpose::STANDARD.encode(b));
                    return;
                }
            },
            other => {
                match typed_plain(other) {
                    Some(t) => self.out.push_str(&t),
                    None => write_double(
                        &mut self.out,
                        &String::from_utf8_lossy(&other.plaintext()),
                        true,
                    ),
                }
                return;
            }
        };
        let mut style = goyaml_style(&text, false);
        if style == StrStyle::Literal
            && (text.starts_with(' ') || text.starts_with('\n'))
            && hint.is_none()
        {
            style = StrStyle::Double;
        }
        match style {
            StrStyle::Plain => self.out.push_str(&text),
            StrStyle::Single => write_single(&mut self.out, &text),
            StrStyle::Double => write_double(&mut self.out, &text, true),
            StrStyle::Literal => {
                let h = literal_header(&text, hint.unwrap_or(0));
                self.out.push_str(&h);
                let nl = self.nl;
                literal_body(&mut self.out, &text, content_indent, nl);
            }
        }
    }

    fn end_line(&mut self) {
        let nl = self.nl;
        self.out.push_str(nl);
    }

    fn comment(&mut self, text: &str) {
        let nl = self.nl;
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.out.push_str(nl);
            }
            self.out.push('#');
            self.out.push_str(line.trim_end_matches('\r'));
        }
    }

    /// One `key: value` entry at `indent` (the caller positioned the cursor).
    pub(crate) fn entry(&mut self, indent: usize, key: &str, v: &Value) {
        self.key(key);
        self.out.push(':');
        let ci = self.child_indent(indent);
        match v {
            Value::Null => {
                self.out.push_str(" null");
                self.end_line();
            }
            Value::Scalar(s) => {
                self.out.push(' ');
                self.scalar(s, ci, Some(ci - indent));
                self.end_line();
            }
            Value::Map(items) if items.is_empty() => {
                self.out.push_str(" {}");
                self.end_line();
            }
            Value::List(items) if items.is_empty() => {
                self.out.push_str(" []");
                self.end_line();
            }
            Value::Map(items) => {
                self.end_line();
                self.map(items, ci, false);
            }
            Value::List(items) => {
                self.end_line();
                self.seq(items, ci, false);
            }
        }
    }

    /// A block map at `indent`; `inline_first`: the first item continues a `- ` line.
    pub(crate) fn map(&mut self, items: &[Item], indent: usize, inline_first: bool) {
        for (i, it) in items.iter().enumerate() {
            if !(i == 0 && inline_first) {
                push_spaces(&mut self.out, indent);
            }
            match it {
                Item::Comment(c) => {
                    self.comment(c.as_text().unwrap_or(""));
                    self.end_line();
                }
                Item::Entry(k, v) => self.entry(indent, k, v),
            }
        }
    }

    fn starts_with_comment(v: &Value) -> bool {
        match v {
            Value::Map(items) => matches!(items.first(), Some(Item::Comment(_))),
            Value::List(items) => matches!(items.first(), Some(Value::Scalar(Scalar::Comment(_)))),
            _ => false,
        }
    }

    /// A block sequence with its `-` at `indent`.
    pub(crate) fn seq(&mut self, items: &[Value], indent: usize, inline_first: bool) {
        for (i, it) in items.iter().enumerate() {
            if !(i == 0 && inline_first) {
                push_spaces(&mut self.out, indent);
            }
            match it {
                Value::Scalar(Scalar::Comment(c)) => {
                    self.comment(c);
                    self.end_line();
                }
                Value::Null => {
                    self.out.push_str("- null");
                    self.end_line();
                }
                Value::Scalar(s) => {
                    self.out.push_str("- ");
                    self.scalar(s, indent + 2, None);
                    self.end_line();
                }
                Value::Map(m) if m.is_empty() => {
                    self.out.push_str("- {}");
                    self.end_line();
                }
                Value::List(l) if l.is_empty() => {
                    self.out.push_str("- []");
                    self.end_line();
                }
                v => {
                    let inline = !Self::starts_with_comment(v);
                    if inline {
                        self.out.push_str("- ");
                    } else {
                        self.out.push('-');
                        self.end_line();
                    }
                    match v {
                        Value::Map(m) => self.map(m, indent + 2, inline),
                        Value::List(l) => self.seq(l, indent + 2, inline),
                        _ => {}
                    }
                }
            }
        }
    }

    /// One document: a map (with the metadata appended), a list, or a scalar.
    pub(crate) fn document(&mut self, v: &Value, meta: Option<&Value>) {
        match v {
            Value::Map(items) => {
                if items.is_empty() && meta.is_none() {
                    self.out.push_str("{}");
                    self.end_line();
                    return;
                }
                self.map(items, 0, false);
                if let Some(m) = meta {
                    self.entry(0, "sops", m);
                }
            }
            Value::List(items) => {
                if items.is_empty() {
                    self.out.push_str("[]");
                } else {
                    self.seq(items, 0, false);
                    return;
                }
                self.end_line();
            }
            Value::Null => {
                self.out.push_str("null");
                self.end_line();
            }
            Value::Scalar(Scalar::Comment(c)) => {
                self.comment(c);
                self.end_line();
            }
            Value::Scalar(s) => {
                let single_line = !matches!(s, Scalar::Str(t) if t.contains('\n'));
                if single_line {
                    self.scalar(s, 0, None);
                } else if let Scalar::Str(t) = s {
                    write_double(&mut self.out, t, true);
                }
                self.end_line();
            }
        }
    }
}

/// go-yaml clamps the indent to 2..=9 (anything else becomes 2).
pub(crate) fn indent_unit(indent: Option<usize>) -> usize {
    match indent.unwrap_or(4) {
        n @ 2..=9 => n,
        _ => 2,
    }
}

/// Write documents separated by `---`.
pub(crate) fn emit_docs(docs: &[Value], meta: Option<&Value>, indent: Option<usize>) -> String {
    let mut e = Emitter {
        out: String::new(),
        unit: indent_unit(indent),
        nl: "\n",
    };
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            e.out.push_str("---\n");
        }
        e.document(d, meta);
    }
    e.out
}

/// The `sops:` block as lines at column `col`, each ending with `nl`.
pub(crate) fn meta_block(meta: &Value, col: usize, unit: usize, nl: &str) -> String {
    let mut e = Emitter {
        out: String::new(),
        unit,
        nl,
    };
    push_spaces(&mut e.out, col);
    e.entry(col, "sops", meta);
    e.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::str(v)
    }

    #[test]
    fn string_styles_follow_go_yaml() {
        assert_eq!(goyaml_style("plain text", false), StrStyle::Plain);
        assert_eq!(goyaml_style("true", false), StrStyle::Double);
        assert_eq!(goyaml_style("y", true), StrStyle::Double);
        assert_eq!(goyaml_style("1", true), StrStyle::Double);
        assert_eq!(
            goyaml_style("2026-01-01T00:00:00Z", false),
            StrStyle::Double
        );
        assert_eq!(goyaml_style("key with: colon", true), StrStyle::Single);
        assert_eq!(goyaml_style("#x", true), StrStyle::Single);
        assert_eq!(goyaml_style(" leading", true), StrStyle::Single);
        assert_eq!(goyaml_style("", false), StrStyle::Double);
        assert_eq!(goyaml_style("a\nb", false), StrStyle::Literal);
        assert_eq!(goyaml_style("a\r\nb", false), StrStyle::Double);
        assert_eq!(goyaml_style("a \nb", false), StrStyle::Double);
        assert_eq!(goyaml_style("tab\there", false), StrStyle::Double);
        assert_eq!(goyaml_style("😀", false), StrStyle::Double);
        assert_eq!(goyaml_style("ünïcode ✓", false), StrStyle::Plain);
        assert_eq!(
            goyaml_style("ENC[AES256_GCM,data:abc=,iv:x,tag:y,type:str]", false),
            StrStyle::Plain
        );
    }

    #[test]
    fn escapes() {
        let mut o = String::new();
        write_double(&mut o, "😀\u{1}\"\\\n", true);
        assert_eq!(o, r#""\U0001F600\x01\"\\\n""#);
    }

    #[test]
    fn emits_go_yaml_layout() {
        let doc = Value::Map(vec![
            Item::Entry("a".into(), s("x")),
            Item::Comment(Scalar::Comment(" note".into())),
            Item::Entry("n".into(), Value::Scalar(Scalar::Int(3))),
            Item::Entry(
                "list".into(),
                Value::List(vec![
                    s("one"),
                    Value::Map(vec![
                        Item::Entry("k".into(), s("v")),
                        Item::Entry("m".into(), s("l1\nl2\n")),
                    ]),
                    Value::Scalar(Scalar::Comment(" c".into())),
                ]),
            ),
            Item::Entry("e".into(), Value::Map(vec![])),
            Item::Entry("y".into(), s("yes")),
        ]);
        let out = emit_docs(&[doc, Value::Map(vec![])], None, None);
        assert_eq!(
            out,
            "a: x\n# note\n\"n\": 3\nlist:\n    - one\n    - k: v\n      m: |\n        l1\n        l2\n    # c\ne: {}\n\"y\": \"yes\"\n---\n{}\n"
        );
    }

    #[test]
    fn literal_headers() {
        assert_eq!(literal_header("a\n", 4), "|");
        assert_eq!(literal_header("a", 4), "|-");
        assert_eq!(literal_header("a\n\n", 4), "|+");
        assert_eq!(literal_header("  a\n", 4), "|4");
        assert_eq!(literal_header("\na", 2), "|2-");
    }
}
