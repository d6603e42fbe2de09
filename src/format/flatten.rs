//! sops's metadata flattening for the flat formats (dotenv and INI, docs/sops-format.md §3.4 and §3.5).
//!
//! dotenv and INI cannot nest, so sops stores its metadata block as flat `name=value` pairs:
//! a map key becomes `__map_<key>`, a list index `__list_<n>`, and dotenv adds the prefix
//! `sops_` (`sops_age__list_0__map_enc`). This module turns a metadata tree into those pairs
//! and back, with sops's special cases (`mac_only_encrypted`, `shamir_threshold`). It knows
//! nothing about the formats' syntax: escaping newlines as `\n` is a separate helper, and the
//! stores decide where the pairs go. It must never drop a non-null field silently, and never
//! panic on hostile names (huge list indices, conflicting paths): those are errors.

use crate::tree::{Item, Scalar, Value};

/// The separator sops puts before a map key.
pub const MAP_SEPARATOR: &str = "__map_";
/// The separator sops puts before a list index.
pub const LIST_SEPARATOR: &str = "__list_";

/// The largest list index accepted when unflattening. sops files have a handful of recipients;
/// a bigger index is hostile input that would otherwise allocate without bound.
const MAX_LIST_INDEX: usize = 10_000;

/// Flatten a metadata tree (a map) into `(name, value)` pairs, each name prefixed with `prefix`
/// (`"sops_"` for dotenv, `""` for INI), sorted lexicographically by name as sops writes them.
/// Nulls, empty lists and empty maps produce nothing; comments are skipped. Values are raw:
/// the caller escapes newlines with [`encode_newlines`].
pub fn flatten(meta: &Value, prefix: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Value::Map(items) = meta {
        for item in items {
            if let Item::Entry(k, v) = item {
                flatten_into(&format!("{prefix}{k}"), v, &mut out);
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn flatten_into(name: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Null => {}
        Value::Scalar(s) => {
            if !s.is_comment() {
                out.push((name.to_string(), scalar_text(s)));
            }
        }
        Value::Map(items) => {
            for item in items {
                if let Item::Entry(k, v) = item {
                    flatten_into(&format!("{name}{MAP_SEPARATOR}{k}"), v, out);
                }
            }
        }
        Value::List(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten_into(&format!("{name}{LIST_SEPARATOR}{i}"), v, out);
            }
        }
    }
}

/// sops's `EncodeNonStrings` plus plain strings: bools as `true`/`false`, ints in decimal.
fn scalar_text(s: &Scalar) -> String {
    match s {
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        other => other.to_env_string(),
    }
}

/// Write real newlines as the two characters `\n` (sops's `EncodeNewLines`).
pub fn encode_newlines(s: &str) -> String {
    s.replace('\n', "\\n")
}

/// Turn the two characters `\n` into real newlines (sops's `DecodeNewLines`).
pub fn decode_newlines(s: &str) -> String {
    s.replace("\\n", "\n")
}

/// One step of a flattened name.
#[derive(Debug, PartialEq)]
enum Token {
    Key(String),
    Index(usize),
}

/// Split a flattened name (without its prefix) on `__map_` and `__list_`, as sops's `tokenize`
/// does: scanning left to right, a separator ends the token before it.
fn tokenize(name: &str) -> Result<Vec<Token>, String> {
    #[derive(Clone, Copy)]
    enum State {
        Normal,
        Map,
        List,
    }
    let mut tokens = Vec::new();
    let mut state = State::Normal;
    let mut start = 0usize;
    let mut i = 0usize;
    let finish = |state: State, text: &str, tokens: &mut Vec<Token>| -> Result<(), String> {
        match state {
            State::Normal | State::Map => tokens.push(Token::Key(text.to_string())),
            State::List => {
                let n: usize = text
                    .parse()
                    .map_err(|_| format!("metadata key {name:?} has a non-numeric list index"))?;
                if n > MAX_LIST_INDEX {
                    return Err(format!(
                        "metadata key {name:?} has a list index above {MAX_LIST_INDEX}"
                    ));
                }
                tokens.push(Token::Index(n));
            }
        }
        Ok(())
    };
    let bytes = name.as_bytes();
    while i < bytes.len() {
        let rest = &bytes[i..];
        let (sep, next) = if rest.starts_with(MAP_SEPARATOR.as_bytes()) {
            (MAP_SEPARATOR.len(), State::Map)
        } else if rest.starts_with(LIST_SEPARATOR.as_bytes()) {
            (LIST_SEPARATOR.len(), State::List)
        } else {
            i += 1;
            continue;
        };
        // Separators are ASCII, so `start..i` and `i + sep` are char boundaries.
        finish(state, name.get(start..i).unwrap_or(""), &mut tokens)?;
        state = next;
        i += sep;
        start = i;
    }
    finish(state, name.get(start..).unwrap_or(""), &mut tokens)?;
    Ok(tokens)
}

/// Rebuild the metadata tree from flat pairs whose names have had their prefix removed and
/// whose values have had `\n` decoded. Maps keep the order in which their keys first appear;
/// lists are ordered by index, with `Null` in any gap. The top-level `mac_only_encrypted`
/// becomes a bool (true only for the exact text `true`, as sops), `shamir_threshold` an int
/// (integral float text such as `2.0` accepted); every other value stays a string. Errors name
/// the offending key, never a value.
pub fn unflatten(pairs: &[(String, String)]) -> Result<Value, String> {
    let mut root = Value::Map(Vec::new());
    for (name, value) in pairs {
        let tokens = tokenize(name)?;
        let leaf = match (tokens.as_slice(), name.as_str()) {
            ([Token::Key(_)], "mac_only_encrypted") => Value::Scalar(Scalar::Bool(value == "true")),
            ([Token::Key(_)], "shamir_threshold") => {
                Value::Scalar(Scalar::Int(parse_threshold(value)?))
            }
            _ => Value::str(value.clone()),
        };
        insert(&mut root, &tokens, leaf, name)?;
    }
    Ok(root)
}

fn parse_threshold(s: &str) -> Result<i64, String> {
    if let Ok(n) = s.trim().parse::<i64>() {
        return Ok(n);
    }
    match crate::tree::parse_go_float(s.trim()) {
        Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 => Ok(f as i64),
        _ => Err("shamir_threshold is not an integer".to_string()),
    }
}

fn conflict(name: &str) -> String {
    format!("metadata key {name:?} conflicts with another metadata key")
}

fn insert(node: &mut Value, tokens: &[Token], leaf: Value, name: &str) -> Result<(), String> {
    let Some((first, rest)) = tokens.split_first() else {
        return Err(conflict(name));
    };
    // Make sure `node` can hold `first`, then find or create the child slot.
    let child: &mut Value = match first {
        Token::Key(k) => {
            let Value::Map(items) = node else {
                return Err(conflict(name));
            };
            let pos = items
                .iter()
                .position(|i| matches!(i, Item::Entry(key, _) if key == k));
            let pos = match pos {
                Some(p) => p,
                None => {
                    items.push(Item::Entry(k.clone(), Value::Null));
                    items.len() - 1
                }
            };
            match &mut items[pos] {
                Item::Entry(_, v) => v,
                Item::Comment(_) => return Err(conflict(name)),
            }
        }
        Token::Index(n) => {
            let Value::List(items) = node else {
                return Err(conflict(name));
            };
            if items.len() <= *n {
                items.resize(*n + 1, Value::Null);
            }
            &mut items[*n]
        }
    };
    match rest.first() {
        None => {
            // A repeated name replaces the earlier value (sops reads the pairs into a map).
            if matches!(child, Value::Map(_) | Value::List(_)) {
                return Err(conflict(name));
            }
            *child = leaf;
            Ok(())
        }
        Some(next) => {
            match (next, &*child) {
                (_, Value::Null) => {
                    *child = match next {
                        Token::Key(_) => Value::Map(Vec::new()),
                        Token::Index(_) => Value::List(Vec::new()),
                    }
                }
                (Token::Key(_), Value::Map(_)) | (Token::Index(_), Value::List(_)) => {}
                _ => return Err(conflict(name)),
            }
            insert(child, rest, leaf, name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(k: &str, v: Value) -> Item {
        Item::Entry(k.into(), v)
    }

    fn sample_meta() -> Value {
        Value::Map(vec![
            entry("shamir_threshold", Value::Scalar(Scalar::Int(2))),
            entry(
                "key_groups",
                Value::List(vec![
                    Value::Map(vec![
                        entry(
                            "pgp",
                            Value::List(vec![Value::Map(vec![
                                entry("created_at", Value::str("2026-01-01T00:00:00Z")),
                                entry("enc", Value::str("-----BEGIN PGP MESSAGE-----\nabc\n-----END")),
                                entry("fp", Value::str("ABCDEF")),
                            ])]),
                        ),
                        entry("hc_vault", Value::Null),
                        entry("age", Value::List(vec![])),
                    ]),
                    Value::Map(vec![entry(
                        "age",
                        Value::List(vec![Value::Map(vec![
                            entry("recipient", Value::str("age1xyz")),
                            entry("enc", Value::str("-----BEGIN AGE ENCRYPTED FILE-----\nQQ==\n-----END AGE ENCRYPTED FILE-----\n")),
                        ])]),
                    )]),
                ]),
            ),
            entry(
                "kms",
                Value::List(vec![Value::Map(vec![
                    entry("arn", Value::str("arn:aws:kms:x")),
                    entry("context", Value::Map(vec![entry("Env", Value::str("prod"))])),
                    entry("aws_profile", Value::str("")),
                ])]),
            ),
            entry("lastmodified", Value::str("2026-11-29T00:16:37Z")),
            entry("mac", Value::str("ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]")),
            entry("unencrypted_suffix", Value::str("_unencrypted")),
            entry("mac_only_encrypted", Value::Scalar(Scalar::Bool(true))),
            entry("version", Value::str("3.11.0")),
        ])
    }

    #[test]
    fn flatten_names_match_sops() {
        let flat = flatten(&sample_meta(), "sops_");
        let names: Vec<&str> = flat.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "sops_key_groups__list_0__map_pgp__list_0__map_created_at",
                "sops_key_groups__list_0__map_pgp__list_0__map_enc",
                "sops_key_groups__list_0__map_pgp__list_0__map_fp",
                "sops_key_groups__list_1__map_age__list_0__map_enc",
                "sops_key_groups__list_1__map_age__list_0__map_recipient",
                "sops_kms__list_0__map_arn",
                "sops_kms__list_0__map_aws_profile",
                "sops_kms__list_0__map_context__map_Env",
                "sops_lastmodified",
                "sops_mac",
                "sops_mac_only_encrypted",
                "sops_shamir_threshold",
                "sops_unencrypted_suffix",
                "sops_version",
            ]
        );
        let get = |n: &str| flat.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("sops_mac_only_encrypted"), Some("true"));
        assert_eq!(get("sops_shamir_threshold"), Some("2"));
        assert_eq!(get("sops_kms__list_0__map_aws_profile"), Some(""));
    }

    #[test]
    fn round_trip() {
        let meta = sample_meta();
        let flat = flatten(&meta, "");
        let back = unflatten(&flat).unwrap();
        // Same content: compare the flattened forms (unflatten orders keys by name).
        assert_eq!(flatten(&back, ""), flat);
        assert_eq!(
            back.get("mac_only_encrypted"),
            Some(&Value::Scalar(Scalar::Bool(true)))
        );
        assert_eq!(
            back.get("shamir_threshold"),
            Some(&Value::Scalar(Scalar::Int(2)))
        );
        let kg = back.get("key_groups").unwrap();
        let Value::List(groups) = kg else {
            panic!("key_groups not a list")
        };
        assert_eq!(groups.len(), 2);
        let age = groups[1].get("age").unwrap();
        let Value::List(age) = age else {
            panic!("age not a list")
        };
        assert!(age[0]
            .get("enc")
            .unwrap()
            .as_str()
            .unwrap()
            .ends_with("FILE-----\n"));
    }

    #[test]
    fn newline_escapes() {
        assert_eq!(encode_newlines("a\nb\n"), "a\\nb\\n");
        assert_eq!(decode_newlines("a\\nb\\n"), "a\nb\n");
    }

    #[test]
    fn non_strings_decoded_like_sops() {
        let p = |n: &str, v: &str| (n.to_string(), v.to_string());
        let m = unflatten(&[
            p("mac_only_encrypted", "True"),
            p("shamir_threshold", "3.0"),
        ])
        .unwrap();
        assert_eq!(
            m.get("mac_only_encrypted"),
            Some(&Value::Scalar(Scalar::Bool(false)))
        );
        assert_eq!(
            m.get("shamir_threshold"),
            Some(&Value::Scalar(Scalar::Int(3)))
        );
        assert!(unflatten(&[p("shamir_threshold", "2.5")]).is_err());
        // Only the top-level field is special.
        let m = unflatten(&[p("x__map_mac_only_encrypted", "true")]).unwrap();
        assert_eq!(
            m.get("x").unwrap().get("mac_only_encrypted"),
            Some(&Value::str("true"))
        );
    }

    #[test]
    fn list_order_is_numeric_and_gaps_are_null() {
        let p = |n: &str, v: &str| (n.to_string(), v.to_string());
        let m = unflatten(&[p("l__list_10", "ten"), p("l__list_2", "two")]).unwrap();
        let Value::List(items) = m.get("l").unwrap() else {
            panic!("not a list")
        };
        assert_eq!(items.len(), 11);
        assert_eq!(items[2], Value::str("two"));
        assert_eq!(items[10], Value::str("ten"));
        assert_eq!(items[0], Value::Null);
    }

    #[test]
    fn hostile_names_are_errors_not_panics() {
        let p = |n: &str, v: &str| (n.to_string(), v.to_string());
        assert!(unflatten(&[p("a", "1"), p("a__map_b", "2")]).is_err());
        assert!(unflatten(&[p("a__map_b", "2"), p("a", "1")]).is_err());
        assert!(unflatten(&[p("a__list_0", "1"), p("a__map_b", "2")]).is_err());
        assert!(unflatten(&[p("a__list_99999999999", "1")]).is_err());
        assert!(unflatten(&[p("a__list_x", "1")]).is_err());
        let m = unflatten(&[p("a", "1"), p("a", "2")]).unwrap();
        assert_eq!(m.get("a"), Some(&Value::str("2")));
        // Odd but harmless shapes do not panic.
        let _ = unflatten(&[
            p("__map_", "1"),
            p("__list_0", "2"),
            p("", "3"),
            p("é__map_ü", "4"),
        ]);
        let err = unflatten(&[p("a", "secret"), p("a__map_b", "secret")]).unwrap_err();
        assert!(!err.contains("secret"));
    }

    #[test]
    fn tokenize_like_sops() {
        assert_eq!(
            tokenize("key_groups__list_1__map_pgp__list_0__map_fp").unwrap(),
            vec![
                Token::Key("key_groups".into()),
                Token::Index(1),
                Token::Key("pgp".into()),
                Token::Index(0),
                Token::Key("fp".into()),
            ]
        );
        assert_eq!(tokenize("mac").unwrap(), vec![Token::Key("mac".into())]);
    }
}
