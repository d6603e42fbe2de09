//! go-yaml v3's scalar typing, reimplemented: which plain scalar is a bool, an int, a float, a
//! timestamp, a null or a string, exactly as sops (which decodes through go-yaml v3) sees it.
//!
//! It exists because the type decides the `type:` of an `ENC[…]` value and the MAC bytes, so
//! veil must type `yes`, `0x1F`, `1e3` or `2024-01-01` the way sops does, not the way a YAML 1.2
//! core-schema library would. It only classifies text; it never decides quoting or layout
//! beyond answering "what would this plain text read back as" — for go-yaml, and, in
//! [`plain_is_ambiguous`], for the YAML 1.1 readers that also read sops's output.

use std::sync::LazyLock;

use crate::tree::{format_time_go, go_format_float, parse_go_float};

/// Whether a string written as a plain scalar could read back as anything but that string in
/// one of the readers a decrypted file meets: go-yaml v3 (what sops reads with: the YAML 1.2
/// core schema plus timestamps, and the YAML 1.1 booleans and base-60 numbers its emitter
/// quotes), PyYAML (YAML 1.1: Ansible and most Python tools) or Ruby's Psych. Every place
/// that writes a string (values opened in place, on either YAML path; keys and values of fresh
/// YAML) quotes it when this says so, so `yes`, `n`, `1:20`, `1_000`, `.5`, `~`, `=`, `<<`,
/// `2024-13-45` or `:sym` come back as strings everywhere.
pub(crate) fn plain_is_ambiguous(s: &str) -> bool {
    resolve_plain(s) != Resolved::Str || is_old_bool(s) || is_base60_float(s) || yaml11_other(s)
}

/// The YAML 1.1 readings go-yaml does not have: PyYAML's implicit resolvers (int, float,
/// bool, null, timestamp, merge, value) and Psych's scalar scanner (case-insensitive words,
/// integers with commas, `:symbols`), as one superset: quoting a string needlessly is harmless,
/// leaving one plain that a reader types is not.
fn yaml11_other(s: &str) -> bool {
    const WORDS: [&str; 9] = ["y", "n", "yes", "no", "true", "false", "on", "off", "null"];
    match s.as_bytes().first() {
        None => true,
        Some(b'0'..=b'9' | b'-' | b'+' | b'.') => YAML11_NUMBER.is_match(s),
        // A Ruby symbol (`:name`, also `::1`).
        Some(b':') => s.len() > 1,
        Some(b'<' | b'=') => s == "<<" || s == "=",
        Some(_) => s.len() <= 5 && WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)),
    }
}

/// Numbers and times as PyYAML's and Psych's YAML 1.1 resolvers see them (base 2, 8, 10, 16
/// and 60, `_` and `,` separators, floats with or without digits before the dot, any-case
/// `.inf`/`.nan`, dates and date-times with a space or `T` and an optional zone), widened
/// where that is simpler (a wrongly dated `2024-13-45` matches: PyYAML fails on it).
static YAML11_NUMBER: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"(?x)^(?:
          [-+]?0b[01_,]+
        | [-+]?0x[0-9a-fA-F_,]+
        | [-+]?[0-9][0-9_,]*
        | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
        | [-+]?[0-9][0-9_,]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        | [-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        | [-+]?\.[iI][nN][fF]
        | \.[nN][aA][nN]
        | -?[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}
          (?:(?:[Tt]|[\ 	]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?
             (?:[\ 	]*(?:Z|[-+][0-9]{1,2}(?::?[0-9]{2})?))?)?
        )$",
    )
    .expect("a valid constant regex")
});

/// What a plain scalar resolves to.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX` that fits `u64`: sops fails on it (`unknown type: uint64`).
    Uint,
    /// A float: its value, and the text to store (Go `ParseFloat`-compatible).
    Float(f64, String),
    /// A timestamp, already in Go's `MarshalText` form.
    Time(String),
    Str,
}

/// Resolve an untagged plain scalar like go-yaml v3's `resolve("", s)`.
pub(crate) fn resolve_plain(s: &str) -> Resolved {
    let Some(&first) = s.as_bytes().first() else {
        return Resolved::Null;
    };
    match s {
        "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN, "NaN".into()),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY, "+Inf".into())
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY, "-Inf".into()),
        _ => {}
    }
    match first {
        b'.' => {
            // Go's ParseFloat on the raw text: `.5`, `.5e3`.
            if is_dot_float(s) {
                if let Some(f) = finite_float(s) {
                    return Resolved::Float(f, float_text(s, f));
                }
            }
            Resolved::Str
        }
        b'0'..=b'9' | b'+' | b'-' => {
            if first.is_ascii_digit() {
                if let Some(t) = parse_timestamp(s) {
                    return Resolved::Time(t);
                }
            }
            let plain: std::borrow::Cow<'_, str> = if s.contains('_') {
                s.chars().filter(|&c| c != '_').collect::<String>().into()
            } else {
                s.into()
            };
            if let Some(i) = go_parse_int(&plain) {
                return Resolved::Int(i);
            }
            if go_parse_uint(&plain).is_some() {
                return Resolved::Uint;
            }
            if yaml_style_float(&plain) {
                if let Some(f) = finite_float(&plain) {
                    return Resolved::Float(f, float_text(&plain, f));
                }
            }
            Resolved::Str
        }
        _ => Resolved::Str,
    }
}

/// The float text we store: the source text when Go's `ParseFloat` takes it as written,
/// otherwise Go's canonical form.
fn float_text(text: &str, f: f64) -> String {
    if parse_go_float(text).is_some() {
        text.to_string()
    } else {
        go_format_float(f)
    }
}

/// Parse a decimal float; `None` when it overflows (Go returns `ErrRange`, and go-yaml then
/// keeps the text as a string).
fn finite_float(s: &str) -> Option<f64> {
    let f = s.parse::<f64>().ok()?;
    if f.is_finite() {
        Some(f)
    } else {
        None
    }
}

/// `^\.[0-9]+([eE][-+]?[0-9]+)?$`
fn is_dot_float(s: &str) -> bool {
    let b = s.as_bytes();
    if b.first() != Some(&b'.') {
        return false;
    }
    let mut i = 1;
    let ds = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == ds {
        return false;
    }
    exponent_tail(b, i)
}

/// Matches an optional exponent `([eE][-+]?[0-9]+)?` ending the string at `i`.
fn exponent_tail(b: &[u8], mut i: usize) -> bool {
    if i == b.len() {
        return true;
    }
    if b[i] != b'e' && b[i] != b'E' {
        return false;
    }
    i += 1;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let ds = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    i > ds && i == b.len()
}

/// go-yaml's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
pub(crate) fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let ds = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == ds {
            return false;
        }
    } else {
        let ds = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == ds {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    exponent_tail(b, i)
}

/// Go's `strconv.ParseInt(s, 0, 64)` (underscores already removed).
pub(crate) fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let mag = go_parse_uint(rest)?;
    if neg {
        if mag <= i64::MAX as u64 {
            Some(-(mag as i64))
        } else if mag == i64::MAX as u64 + 1 {
            Some(i64::MIN)
        } else {
            None
        }
    } else if mag <= i64::MAX as u64 {
        Some(mag as i64)
    } else {
        None
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)`: no sign, `0x`/`0o`/`0b` prefixes, a leading `0` means
/// octal.
pub(crate) fn go_parse_uint(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let (radix, digits) = if b.len() >= 2 && b[0] == b'0' {
        match b[1] {
            b'x' | b'X' => (16, &s[2..]),
            b'o' | b'O' => (8, &s[2..]),
            b'b' | b'B' => (2, &s[2..]),
            _ => (8, &s[1..]),
        }
    } else {
        (10, s)
    };
    if digits.is_empty() || !digits.bytes().all(|c| (c as char).is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// go-yaml's `parseTimestamp`: `YYYY-M-D`, `YYYY-M-DTH:M:S[.frac](Z|±hh:mm)` (also `t`), and
/// `YYYY-M-D H:M:S[.frac]` (UTC). Returns Go's `MarshalText` form.
pub(crate) fn parse_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    // Quick check: all date formats start with YYYY-.
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let mut p = Cursor { b, i: 5 };
    let year: i32 = std::str::from_utf8(&b[..4]).ok()?.parse().ok()?;
    let month = p.num12()?;
    p.expect(b'-')?;
    let day = p.num12()?;
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month as u8).ok()?, day as u8)
            .ok()?;
    if p.i == b.len() {
        let t = date.midnight().assume_utc();
        return Some(format_time_go(t));
    }
    let sep = b[p.i];
    p.i += 1;
    let zoned = match sep {
        b'T' | b't' => true,
        b' ' => false,
        _ => return None,
    };
    let hour = p.num12()?;
    p.expect(b':')?;
    let minute = p.num12()?;
    p.expect(b':')?;
    let second = p.num12()?;
    let mut nanos: u32 = 0;
    if p.i + 1 < b.len() && (b[p.i] == b'.' || b[p.i] == b',') && b[p.i + 1].is_ascii_digit() {
        p.i += 1;
        let start = p.i;
        while p.i < b.len() && b[p.i].is_ascii_digit() {
            p.i += 1;
        }
        let digits = &b[start..p.i];
        let mut n: u32 = 0;
        for k in 0..9 {
            n = n * 10 + digits.get(k).map_or(0, |d| (d - b'0') as u32);
        }
        nanos = n;
    }
    if hour >= 24 || minute >= 60 || second >= 60 {
        return None;
    }
    let tod = time::Time::from_hms_nano(hour as u8, minute as u8, second as u8, nanos).ok()?;
    let offset = if zoned {
        match b.get(p.i)? {
            b'Z' => {
                p.i += 1;
                time::UtcOffset::UTC
            }
            &c @ (b'+' | b'-') => {
                if p.i + 6 > b.len() || b[p.i + 3] != b':' {
                    return None;
                }
                let hh = two_digits(&b[p.i + 1..p.i + 3])?;
                let mm = two_digits(&b[p.i + 4..p.i + 6])?;
                p.i += 6;
                if hh > 24 || mm > 60 {
                    return None;
                }
                let (hh, mm) = (hh as i8, mm as i8);
                let (hh, mm) = if c == b'-' { (-hh, -mm) } else { (hh, mm) };
                time::UtcOffset::from_hms(hh, mm, 0).ok()?
            }
            _ => return None,
        }
    } else {
        time::UtcOffset::UTC
    };
    if p.i != b.len() {
        return None;
    }
    let t = time::PrimitiveDateTime::new(date, tod).assume_offset(offset);
    Some(format_time_go(t))
}

fn two_digits(b: &[u8]) -> Option<u32> {
    if b.len() == 2 && b[0].is_ascii_digit() && b[1].is_ascii_digit() {
        Some(((b[0] - b'0') * 10 + (b[1] - b'0')) as u32)
    } else {
        None
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    /// One or two digits, like Go's non-padded layout fields.
    fn num12(&mut self) -> Option<u32> {
        let d0 = *self.b.get(self.i)?;
        if !d0.is_ascii_digit() {
            return None;
        }
        self.i += 1;
        let mut n = (d0 - b'0') as u32;
        if let Some(&d1) = self.b.get(self.i) {
            if d1.is_ascii_digit() {
                self.i += 1;
                n = n * 10 + (d1 - b'0') as u32;
            }
        }
        Some(n)
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }
}

/// go-yaml's emitter quotes these even though v3 reads them as strings (YAML 1.1 booleans).
pub(crate) fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// go-yaml's `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
pub(crate) fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let ds = i;
        while i < b.len() && b[i].is_ascii_digit() && i - ds < 2 {
            i += 1;
        }
        let n = i - ds;
        if n == 0 || (n == 2 && b[ds] > b'5') {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// The text to write for a float so that it reads back as a float of the same value: its own
/// text when that already resolves to a float, `.inf`/`-.inf`/`.nan` for the specials, and a
/// `.0` appended when the text would read back as an int.
pub(crate) fn float_yaml_text(text: &str) -> String {
    let v = parse_go_float(text).unwrap_or(f64::NAN);
    if v.is_nan() {
        return ".nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    if let Resolved::Float(f, _) = resolve_plain(text) {
        if f == v {
            return text.to_string();
        }
    }
    let canon = go_format_float(v);
    match resolve_plain(&canon) {
        Resolved::Float(..) => canon,
        _ => format!("{canon}.0"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Option<String> {
        match resolve_plain(s) {
            Resolved::Float(_, t) => Some(t),
            _ => None,
        }
    }

    #[test]
    fn go_yaml_typing_table() {
        assert_eq!(resolve_plain(""), Resolved::Null);
        assert_eq!(resolve_plain("~"), Resolved::Null);
        assert_eq!(resolve_plain("NULL"), Resolved::Null);
        assert_eq!(resolve_plain("nULL"), Resolved::Str);
        assert_eq!(resolve_plain("True"), Resolved::Bool(true));
        assert_eq!(resolve_plain("FALSE"), Resolved::Bool(false));
        assert_eq!(resolve_plain("yes"), Resolved::Str);
        assert_eq!(resolve_plain("no"), Resolved::Str);
        assert_eq!(resolve_plain("on"), Resolved::Str);
        assert_eq!(resolve_plain("0x1F"), Resolved::Int(31));
        assert_eq!(resolve_plain("0o17"), Resolved::Int(15));
        assert_eq!(resolve_plain("0777"), Resolved::Int(511));
        assert_eq!(resolve_plain("-0b101"), Resolved::Int(-5));
        assert_eq!(resolve_plain("1_000"), Resolved::Int(1000));
        assert_eq!(resolve_plain("+12"), Resolved::Int(12));
        assert_eq!(
            resolve_plain("-9223372036854775808"),
            Resolved::Int(i64::MIN)
        );
        assert_eq!(resolve_plain("9223372036854775808"), Resolved::Uint);
        assert_eq!(resolve_plain("0xFFFFFFFFFFFFFFFF"), Resolved::Uint);
        assert_eq!(
            f("99999999999999999999").as_deref(),
            Some("99999999999999999999")
        );
        assert_eq!(
            f("-9223372036854775809").as_deref(),
            Some("-9223372036854775809")
        );
        assert_eq!(f("1e3").as_deref(), Some("1e3"));
        assert_eq!(f("1.5").as_deref(), Some("1.5"));
        assert_eq!(f(".5").as_deref(), Some(".5"));
        assert_eq!(f("08").as_deref(), Some("08"));
        assert_eq!(f("1_000.5").as_deref(), Some("1000.5"));
        assert_eq!(f(".inf").as_deref(), Some("+Inf"));
        assert_eq!(f("-.Inf").as_deref(), Some("-Inf"));
        assert_eq!(f(".nan").as_deref(), Some("NaN"));
        assert_eq!(resolve_plain(".iNf"), Resolved::Str);
        assert_eq!(resolve_plain("1e400"), Resolved::Str);
        assert_eq!(resolve_plain("inf"), Resolved::Str);
        assert_eq!(resolve_plain("NaN"), Resolved::Str);
        assert_eq!(resolve_plain("1.2.3"), Resolved::Str);
        assert_eq!(resolve_plain("0x"), Resolved::Str);
        assert_eq!(resolve_plain("<<"), Resolved::Str);
        assert_eq!(resolve_plain("-"), Resolved::Str);
    }

    #[test]
    fn timestamps() {
        let t = |s: &str| match resolve_plain(s) {
            Resolved::Time(t) => Some(t),
            _ => None,
        };
        assert_eq!(t("2024-01-01").as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(t("2024-1-2").as_deref(), Some("2024-01-02T00:00:00Z"));
        assert_eq!(
            t("2025-01-02 03:04:05.123").as_deref(),
            Some("2025-01-02T03:04:05.123Z")
        );
        assert_eq!(
            t("2025-01-02T03:04:05Z").as_deref(),
            Some("2025-01-02T03:04:05Z")
        );
        assert_eq!(
            t("2025-01-02t03:04:05.120Z").as_deref(),
            Some("2025-01-02T03:04:05.12Z")
        );
        assert_eq!(
            t("2006-01-02T15:04:05+07:06").as_deref(),
            Some("2006-01-02T15:04:05+07:06")
        );
        assert_eq!(
            t("2006-01-02T15:04:05+00:00").as_deref(),
            Some("2006-01-02T15:04:05Z")
        );
        assert_eq!(t("2006-01-02T15:04:05"), None);
        assert_eq!(t("2024-13-01"), None);
        assert_eq!(t("2023-02-29"), None);
        assert_eq!(t("2024-01-01x"), None);
        assert_eq!(t("12024-01-01"), None);
        assert_eq!(resolve_plain("2024-01-01 x"), Resolved::Str);
    }

    #[test]
    fn float_text_reads_back_as_float() {
        assert_eq!(float_yaml_text("1.5"), "1.5");
        assert_eq!(float_yaml_text("3"), "3.0");
        assert_eq!(float_yaml_text("1000"), "1000.0");
        assert_eq!(float_yaml_text("1e3"), "1e3");
        assert_eq!(float_yaml_text("+Inf"), ".inf");
        assert_eq!(float_yaml_text("-Inf"), "-.inf");
        assert_eq!(float_yaml_text("NaN"), ".nan");
        assert_eq!(float_yaml_text("-0"), "-0.0");
        assert_eq!(float_yaml_text("1E+06"), "1E+06");
    }

    #[test]
    fn plain_text_any_reader_would_type_is_ambiguous() {
        for s in [
            "",
            "~",
            "null",
            "nULL",
            "true",
            "yes",
            "No",
            "ON",
            "off",
            "y",
            "N",
            "yEs",
            "1:20",
            "-1:30",
            "190:20:30.15",
            "0o17",
            "0777",
            "0_7",
            "1_000",
            "1,000",
            "0b101",
            "0b1_0",
            "0x1F",
            "-0x1f",
            "+1",
            "12",
            ".5",
            "+.5",
            "._5",
            "1.",
            "1e3",
            "1.5E3",
            "1.0e+3",
            ".inf",
            "-.Inf",
            ".iNf",
            ".NaN",
            "2024-01-01",
            "2024-1-5",
            "2024-13-45",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14 21:59:43.10 -5",
            "=",
            "<<",
            ":sym",
            "::1",
        ] {
            assert!(plain_is_ambiguous(s), "{s:?}");
        }
        for s in [
            "plain",
            "yess",
            "nope",
            "ENC[AES256_GCM,data:x,type:str]",
            "1.2.3",
            "10.0.0.1",
            "0o8",
            "0b12",
            "_1",
            "1e",
            "2024-01-01 x",
            "a: b",
            "-",
            ".",
            "+",
            ":",
            "<",
            "==",
            "v1.2",
            "12abc",
            "Yes please",
        ] {
            assert!(!plain_is_ambiguous(s), "{s:?}");
        }
    }

    #[test]
    fn old_bools_and_base60() {
        assert!(is_old_bool("y"));
        assert!(is_old_bool("Off"));
        assert!(!is_old_bool("maybe"));
        assert!(is_base60_float("1:20"));
        assert!(is_base60_float("190:20:30.15"));
        assert!(!is_base60_float("1:70"));
        assert!(!is_base60_float("12"));
    }
}
