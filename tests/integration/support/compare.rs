//! Data comparison, as sops 3.11 sees documents: veil must be data-identical to sops, not
//! byte-identical, so two documents are compared after go-yaml v3 scalar resolution (YAML),
//! as float64 numbers (JSON), as ordered pairs (dotenv, INI), and with their comments.

use std::collections::HashMap;

/// A document value as sops sees it. Equality follows sops's semantics: numbers compare by
/// value (so `3.0` equals `3`, which sops itself writes back as `3`, and all JSON numbers are
/// float64), NaN equals NaN, times compare as instants (`2024-01-01` equals
/// `2024-01-01T00:00:00Z`), maps compare in order (sops keeps key order).
#[derive(Clone, Debug)]
pub enum Data {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    /// Nanoseconds since the Unix epoch, UTC.
    Time(i128),
    Seq(Vec<Data>),
    Map(Vec<(String, Data)>),
}

impl PartialEq for Data {
    fn eq(&self, other: &Data) -> bool {
        use Data::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => (a.is_nan() && b.is_nan()) || a == b,
            (Int(a), Float(b)) | (Float(b), Int(a)) => (*a as f64) == *b,
            (Str(a), Str(b)) => a == b,
            (Time(a), Time(b)) => a == b,
            (Seq(a), Seq(b)) => a == b,
            (Map(a), Map(b)) => a == b,
            _ => false,
        }
    }
}

impl Data {
    /// Looks up a key in a map.
    pub fn get(&self, key: &str) -> Option<&Data> {
        match self {
            Data::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Data::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_seq(&self) -> Option<&[Data]> {
        match self {
            Data::Seq(s) => Some(s),
            _ => None,
        }
    }
    /// The same value without the top-level `sops` key (for comparing encrypted files).
    pub fn without_sops(&self) -> Data {
        match self {
            Data::Map(m) => Data::Map(m.iter().filter(|(k, _)| k != "sops").cloned().collect()),
            other => other.clone(),
        }
    }
}

/// Explains the first difference between two values (for assertion messages), or None.
pub fn first_difference(a: &Data, b: &Data, path: &str) -> Option<String> {
    match (a, b) {
        (Data::Map(x), Data::Map(y)) => {
            for (i, ((ka, va), (kb, vb))) in x.iter().zip(y.iter()).enumerate() {
                if ka != kb {
                    return Some(format!("{path}: key #{i} is {ka:?} vs {kb:?}"));
                }
                if let Some(d) = first_difference(va, vb, &format!("{path}[{ka:?}]")) {
                    return Some(d);
                }
            }
            if x.len() != y.len() {
                return Some(format!("{path}: {} keys vs {} keys", x.len(), y.len()));
            }
            None
        }
        (Data::Seq(x), Data::Seq(y)) => {
            for (i, (va, vb)) in x.iter().zip(y.iter()).enumerate() {
                if let Some(d) = first_difference(va, vb, &format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            if x.len() != y.len() {
                return Some(format!("{path}: {} items vs {} items", x.len(), y.len()));
            }
            None
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a:?} vs {b:?}")),
    }
}

/// Asserts two documents are data-equal, with the first difference in the message.
#[track_caller]
pub fn assert_data_eq(left: &[Data], right: &[Data], what: &str) {
    if left.len() != right.len() {
        panic!(
            "{what}: {} documents vs {} documents",
            left.len(),
            right.len()
        );
    }
    for (i, (a, b)) in left.iter().zip(right.iter()).enumerate() {
        if let Some(d) = first_difference(a, b, &format!("doc{i}")) {
            panic!("{what}: data differs at {d}");
        }
    }
}

/// Parses a YAML stream into its documents, resolving plain scalars the way go-yaml v3 does
/// for sops (YAML 1.2 core schema, plus timestamps; `yes`/`no` stay strings), expanding
/// aliases. An empty stream is zero documents.
pub fn yaml_docs(src: &str) -> Result<Vec<Data>, String> {
    use saphyr_parser::{Event, Parser};
    enum Frame {
        Seq(Vec<Data>, usize),
        Map(Vec<(String, Data)>, Option<String>, usize),
    }
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Data> = HashMap::new();
    let mut doc_value: Option<Data> = None;

    // Puts a finished node into its parent (or the document), remembering its anchor.
    fn place(
        stack: &mut [Frame],
        doc_value: &mut Option<Data>,
        anchors: &mut HashMap<usize, Data>,
        v: Data,
        anchor: usize,
    ) -> Result<(), String> {
        if anchor != 0 {
            anchors.insert(anchor, v.clone());
        }
        match stack.last_mut() {
            None => *doc_value = Some(v),
            Some(Frame::Seq(items, _)) => items.push(v),
            Some(Frame::Map(entries, pending, _)) => match pending.take() {
                None => match v {
                    Data::Str(k) => *pending = Some(k),
                    // sops refuses non-string keys; keep their text form for comparison.
                    Data::Int(i) => *pending = Some(i.to_string()),
                    Data::Bool(b) => *pending = Some(b.to_string()),
                    Data::Null => *pending = Some(String::new()),
                    other => return Err(format!("complex map key {other:?}")),
                },
                Some(k) => entries.push((k, v)),
            },
        }
        Ok(())
    }

    for ev in Parser::new_from_str(src) {
        let (ev, _span) = ev.map_err(|e| format!("yaml parse error: {e}"))?;
        match ev {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(_) => doc_value = None,
            Event::DocumentEnd => docs.push(doc_value.take().unwrap_or(Data::Null)),
            Event::Alias(id) => {
                let v = anchors
                    .get(&id)
                    .cloned()
                    .ok_or("alias to an unknown anchor")?;
                place(&mut stack, &mut doc_value, &mut anchors, v, 0)?;
            }
            Event::Scalar(value, style, anchor, tag) => {
                let v = resolve_scalar(
                    &value,
                    style,
                    tag.as_deref().map(|t| (&t.handle, &t.suffix)),
                );
                place(&mut stack, &mut doc_value, &mut anchors, v, anchor)?;
            }
            Event::SequenceStart(anchor, _) => stack.push(Frame::Seq(Vec::new(), anchor)),
            Event::MappingStart(anchor, _) => stack.push(Frame::Map(Vec::new(), None, anchor)),
            Event::SequenceEnd | Event::MappingEnd => {
                let (v, anchor) = match stack.pop() {
                    Some(Frame::Seq(items, a)) => (Data::Seq(items), a),
                    Some(Frame::Map(entries, _, a)) => (Data::Map(entries), a),
                    None => return Err("unbalanced yaml events".into()),
                };
                place(&mut stack, &mut doc_value, &mut anchors, v, anchor)?;
            }
        }
    }
    Ok(docs)
}

fn resolve_scalar(
    value: &str,
    style: saphyr_parser::ScalarStyle,
    tag: Option<(&String, &String)>,
) -> Data {
    use saphyr_parser::ScalarStyle;
    if let Some((handle, suffix)) = tag {
        if handle == "tag:yaml.org,2002:" || handle == "!!" {
            match suffix.as_str() {
                "str" | "binary" => return Data::Str(value.to_string()),
                "int" | "float" | "bool" | "null" | "timestamp" => {
                    return resolve_plain(value);
                }
                _ => {}
            }
        } else if handle == "!" && suffix.is_empty() {
            return Data::Str(value.to_string());
        }
    }
    if style != ScalarStyle::Plain {
        return Data::Str(value.to_string());
    }
    resolve_plain(value)
}

/// go-yaml v3's resolution of an untagged plain scalar (resolve.go), as far as sops sees it.
pub fn resolve_plain(s: &str) -> Data {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Data::Null,
        "true" | "True" | "TRUE" => return Data::Bool(true),
        "false" | "False" | "FALSE" => return Data::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Data::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Data::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Data::Float(f64::NAN),
        _ => {}
    }
    if let Some(i) = parse_go_int(s) {
        return Data::Int(i);
    }
    if is_yaml_float(s) {
        if let Ok(f) = s.parse::<f64>() {
            return Data::Float(f);
        }
    }
    if let Some(t) = parse_yaml_timestamp(s) {
        return Data::Time(t);
    }
    Data::Str(s.to_string())
}

/// Go `strconv.ParseInt(s, 0, 64)` after go-yaml removed underscores: decimal, `0x`, `0o`,
/// `0b`, and a leading `0` meaning octal. Returns None outside int64 (sops refuses those).
pub fn parse_go_int(s: &str) -> Option<i128> {
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    let (neg, body) = match plain.as_bytes().first()? {
        b'-' => (true, &plain[1..]),
        b'+' => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i128::from_str_radix(digits, radix).ok()?;
    let v = if neg { -v } else { v };
    if v < i64::MIN as i128 || v > i64::MAX as i128 {
        return None;
    }
    Some(v)
}

/// go-yaml v3's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
pub fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// go-yaml v3's timestamp formats: `2006-1-2T15:4:5.999999999Z07:00` (also lowercase `t`),
/// `2006-1-2 15:4:5.999999999` (no zone) and `2006-1-2`. Returns UTC nanoseconds.
pub fn parse_yaml_timestamp(s: &str) -> Option<i128> {
    let num = |t: &str, min: usize, max: usize| -> Option<i64> {
        if t.len() < min || t.len() > max || !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (date, rest, sep_t) = if let Some(p) = s.find(['T', 't']) {
        (&s[..p], Some(&s[p + 1..]), true)
    } else if let Some(p) = s.find(' ') {
        (&s[..p], Some(&s[p + 1..]), false)
    } else {
        (s, None, false)
    };
    let mut dp = date.split('-');
    let y = num(dp.next()?, 4, 4)?;
    let mo = num(dp.next()?, 1, 2)?;
    let d = num(dp.next()?, 1, 2)?;
    if dp.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    let mut nanos: i128 = days as i128 * 86_400 * 1_000_000_000;
    let Some(rest) = rest else { return Some(nanos) };
    // Split off the zone (only allowed in the T form).
    let (clock, zone) = if sep_t {
        if let Some(c) = rest.strip_suffix(['Z', 'z']) {
            (c, 0i64)
        } else if let Some(p) = rest.rfind(['+', '-']) {
            let z = &rest[p + 1..];
            let (zh, zm) = z.split_once(':')?;
            let secs = num(zh, 2, 2)? * 3600 + num(zm, 2, 2)? * 60;
            (
                &rest[..p],
                if &rest[p..p + 1] == "-" { -secs } else { secs },
            )
        } else {
            return None;
        }
    } else {
        (rest, 0)
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (clock, None),
    };
    let mut cp = hms.split(':');
    let h = num(cp.next()?, 1, 2)?;
    let mi = num(cp.next()?, 1, 2)?;
    let se = num(cp.next()?, 1, 2)?;
    if cp.next().is_some() || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut frac_nanos: i128 = 0;
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 9 || !f.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        frac_nanos = format!("{f:0<9}").parse().ok()?;
    }
    nanos += ((h * 3600 + mi * 60 + se - zone) as i128) * 1_000_000_000 + frac_nanos;
    Some(nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a JSON document as sops 3.11 sees it: every number is a float64.
pub fn json_doc(src: &str) -> Result<Data, String> {
    let v: serde_json::Value = serde_json::from_str(src).map_err(|e| format!("json: {e}"))?;
    fn conv(v: &serde_json::Value) -> Data {
        match v {
            serde_json::Value::Null => Data::Null,
            serde_json::Value::Bool(b) => Data::Bool(*b),
            serde_json::Value::Number(n) => Data::Float(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Data::Str(s.clone()),
            serde_json::Value::Array(a) => Data::Seq(a.iter().map(conv).collect()),
            serde_json::Value::Object(o) => {
                Data::Map(o.iter().map(|(k, v)| (k.clone(), conv(v))).collect())
            }
        }
    }
    Ok(conv(&v))
}

/// dotenv as sops reads it (`docs/sops-format.md` §7.3): `KEY=value` lines in order, blank
/// lines dropped, `#` lines are comments (returned with key `#`), `\n` in values is a newline.
/// No quote processing.
pub fn dotenv_pairs(src: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (n, line) in src.split('\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            out.push(("#".to_string(), c.to_string()));
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .ok_or(format!("dotenv line {} has no '='", n + 1))?;
        out.push((k.to_string(), v.replace("\\n", "\n")));
    }
    Ok(out)
}

/// INI reduced to data the way go-ini reads it: sections in order (keys before the first
/// section in `DEFAULT`), `key = value` with surrounding whitespace trimmed and one layer of
/// `"`, `'` or backtick quoting removed. Comments and blank lines are ignored.
pub fn ini_sections(src: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = vec![("DEFAULT".into(), Vec::new())];
    for line in src.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with(';') || t.starts_with('#') {
            continue;
        }
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            out.push((name.trim().to_string(), Vec::new()));
            continue;
        }
        let (k, v) = t.split_once('=').unwrap_or((t, ""));
        let v = v.trim();
        let unq = ['"', '\'', '`']
            .iter()
            .find_map(|q| v.strip_prefix(*q).and_then(|r| r.strip_suffix(*q)))
            .unwrap_or(v);
        if let Some(last) = out.last_mut() {
            last.1.push((k.trim().to_string(), unq.to_string()));
        }
    }
    out.retain(|(name, keys)| name != "DEFAULT" || !keys.is_empty());
    out
}

/// The comment texts of a YAML file (text after `#`, trimmed), in order. Line-based: a `#` at
/// the start of a line or after whitespace, outside quotes and outside block scalars. Good
/// enough for the fixtures, which keep `#` out of block scalars.
pub fn yaml_comments(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut block_indent: Option<usize> = None;
    for line in src.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(bi) = block_indent {
            if line.trim().is_empty() || indent > bi {
                continue;
            }
            block_indent = None;
        }
        let (mut in_s, mut in_d, mut prev_ws) = (false, false, true);
        let mut code_end = line.len();
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            match c {
                b'\'' if !in_d => in_s = !in_s,
                b'"' if !in_s => in_d = !in_d,
                b'\\' if in_d => i += 1,
                b'#' if !in_s && !in_d && prev_ws => {
                    out.push(line[i + 1..].trim().to_string());
                    code_end = i;
                    break;
                }
                _ => {}
            }
            prev_ws = c == b' ' || c == b'\t';
            i += 1;
        }
        let code = line[..code_end].trim_end();
        // A block scalar header (`key: |`, `- >-`, `key: |2+`): skip its body.
        if let Some(last) = code.split_whitespace().last() {
            if (last.starts_with('|') || last.starts_with('>'))
                && last[1..]
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '-' || c == '+')
            {
                block_indent = Some(indent);
            }
        }
    }
    out.retain(|c| !c.is_empty());
    out
}

/// Asserts that every comment text in `expected` appears in `actual` (in any place): sops
/// moves comments around, so only presence is compared.
#[track_caller]
pub fn assert_comments_kept(expected: &[String], actual: &[String], what: &str) {
    for c in expected {
        assert!(
            actual.contains(c),
            "{what}: comment {c:?} missing; comments present: {actual:?}"
        );
    }
}
