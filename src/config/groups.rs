//! The keys of one creation rule: the comma strings and lists of the flat fields and the
//! `key_groups` entries (with `merge`), read into [`KeyRef`]s in sops's order, duplicates removed.
//! It names keys only; it never contacts a key service.

use super::*;
use crate::error::Result;
use crate::keys::kind::{self, FieldSource, GroupSyntax, KeyKind, ParseOptions};
use crate::keys::KeyRef;
use std::collections::BTreeMap;

/// The strings of a key field: a comma-separated string or a list of strings (each of which
/// may itself hold commas, as sops joins and re-splits them). Pieces are trimmed; empty ones
/// are dropped.
pub(super) fn key_strings(node: Option<&Node>, field: &str) -> Result<Vec<String>> {
    let bad = |got: &str| {
        config_error(format!(
            "invalid {field} key configuration: expected string, []string, or nil, got {got}"
        ))
        .hint(format!(
            "write {field} as a comma-separated string or a list of strings"
        ))
    };
    let mut raw: Vec<&str> = Vec::new();
    match node {
        None => {}
        Some(n @ Node::Scalar { .. }) => raw.extend(n.text()),
        Some(Node::List(items)) => {
            for i in items {
                match i {
                    Node::Scalar { .. } => raw.extend(i.text()),
                    other => {
                        return Err(config_error(format!(
                            "invalid {field} key configuration: expected string in list, got {}",
                            other.kind()
                        ))
                        .hint(format!(
                            "write {field} as a comma-separated string or a list of strings"
                        )))
                    }
                }
            }
        }
        Some(other) => return Err(bad(other.kind())),
    }
    Ok(raw
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect())
}

/// A node read as named fields, for a kind's `key_groups` map entries.
struct Entry<'a>(&'a Node);

impl FieldSource for Entry<'_> {
    fn text(&self, name: &str) -> String {
        str_field(self.0, name).to_string()
    }
    fn map(&self, name: &str) -> std::result::Result<BTreeMap<String, String>, &'static str> {
        let mut out = BTreeMap::new();
        match self.0.get(name) {
            None => {}
            Some(Node::Map(items)) => {
                for (k, v) in items {
                    out.insert(k.clone(), v.text().unwrap_or("").to_string());
                }
            }
            Some(other) => return Err(other.kind()),
        }
        Ok(out)
    }
}

/// The keys of a kind's strings (flat rule fields and `key_groups` string lists).
pub(super) fn parse_strings(
    kind: &dyn KeyKind,
    node: Option<&Node>,
    field: &str,
    opts: &ParseOptions,
) -> Result<Vec<KeyRef>> {
    key_strings(node, field)?
        .iter()
        .map(|t| kind.parse(t, opts))
        .collect()
}

/// sops de-duplicates a group by key type and `ToString()`.
fn dedupe(group: Vec<KeyRef>) -> Vec<KeyRef> {
    let mut seen = std::collections::HashSet::new();
    group
        .into_iter()
        .filter(|k| seen.insert((k.kind(), k.identity())))
        .collect()
}

pub(super) fn str_field<'a>(m: &'a Node, name: &str) -> &'a str {
    m.get(name).and_then(Node::text).unwrap_or("")
}

fn list_of<'a>(group: &'a Node, field: &str) -> Result<&'a [Node]> {
    match group.get(field) {
        None => Ok(&[]),
        Some(Node::List(items)) => Ok(items),
        Some(other) => Err(config_error(format!(
            "error loading config: key_groups {field} is {}, not a list",
            other.kind()
        ))
        .hint(format!("write {field} inside key_groups as a YAML list"))),
    }
}

fn map_entries<'a>(group: &'a Node, field: &str, example: &str) -> Result<Vec<&'a Node>> {
    list_of(group, field)?
        .iter()
        .map(|n| match n {
            Node::Map(_) => Ok(n),
            other => Err(config_error(format!(
                "error loading config: a key_groups {field} entry is {}, not a map",
                other.kind()
            ))
            .hint(format!("write each {field} entry as a map, e.g. {example}"))),
        })
        .collect()
}

/// sops's `extractMasterKeys`: `merge` first (recursively), then each kind in the config order
/// of the key registry; duplicates removed.
pub(super) fn group_keys(group: &Node, depth: usize) -> Result<Vec<KeyRef>> {
    if depth > MAX_NESTING {
        return Err(config_error(
            "error loading config: key_groups merge is nested too deeply",
        ));
    }
    let mut keys = Vec::new();
    if group.is_null() {
        return Ok(keys);
    }
    if !matches!(group, Node::Map(_)) {
        return Err(config_error(format!(
            "error loading config: a key group is {}, not a map",
            group.kind()
        ))
        .hint("each key_groups entry is a map such as {age: [age1…], pgp: [FINGERPRINT]}"));
    }
    for sub in list_of(group, "merge")? {
        keys.extend(group_keys(sub, depth + 1)?);
    }
    for kind in kind::in_config_order() {
        let field = kind.group_field();
        match kind.group_syntax() {
            GroupSyntax::Strings => keys.extend(parse_strings(
                kind,
                group.get(field),
                field,
                &ParseOptions::default(),
            )?),
            GroupSyntax::Maps(example) => {
                for k in map_entries(group, field, example)? {
                    keys.push(kind.parse_group_entry(&Entry(k))?);
                }
            }
        }
    }
    Ok(dedupe(keys))
}
