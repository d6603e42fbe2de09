//! The value-free diff behind `veil diff`: which key paths were added, removed and changed
//! between two versions of an encrypted file, told without any key.
//!
//! It works because veil keeps the exact ciphertext of every value that did not change (the
//! IV stash): two versions are parsed with the format stores, their leaves are matched by key
//! path, and a leaf whose `ENC[…]` token differs has changed. Two cases defeat that and are
//! reported as such instead of as "everything changed": a rotated data key (every value
//! re-encrypted; no wrapped key is the same in both versions), and a file rewritten by a tool
//! that gives every value a fresh IV (sops does on every change; the data key is the same).
//! The recipients and the metadata are compared too, never decrypted.
//!
//! It must never decrypt, print or hash a value: a [`Report`] holds key paths and public key
//! identifiers only. Plaintext (unencrypted) leaves are compared by value but reported by path
//! like the others. The `--values` view, which needs a key, compares opened documents with the
//! same code ([`compare_docs`]) and is the CLI's business.

use crate::error::Result;
use crate::format::Format;
use crate::metadata::Metadata;
use crate::tree::{Item, Scalar, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One step of a key path: a map key or a list index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A key path, e.g. `db.password` or `items[0]`; with several YAML documents the first step
/// is the document's index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyPath(pub Vec<Step>);

impl std::fmt::Display for KeyPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top)");
        }
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Step::Index(n) => write!(f, "[{n}]")?,
                Step::Key(k) => {
                    let plain = !k.is_empty()
                        && k.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                    if plain {
                        if i > 0 {
                            f.write_str(".")?;
                        }
                        f.write_str(k)?;
                    } else {
                        let q = serde_json::to_string(k).map_err(|_| std::fmt::Error)?;
                        write!(f, "[{q}]")?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl KeyPath {
    /// The steps as JSON: strings and integers.
    pub fn to_json(&self) -> serde_json::Value {
        self.0
            .iter()
            .map(|s| match s {
                Step::Key(k) => serde_json::json!(k),
                Step::Index(n) => serde_json::json!(n),
            })
            .collect()
    }
}

/// One leaf of a version: a scalar (an `ENC[…]` token or a plaintext value), a null, or an
/// empty map or list (so adding `x: {}` is seen).
#[derive(Clone, Debug, PartialEq)]
pub enum Leaf {
    Scalar(Scalar),
    Null,
    EmptyMap,
    EmptyList,
}

impl Leaf {
    fn sealed(&self) -> bool {
        matches!(self, Leaf::Scalar(Scalar::Str(s)) if s.starts_with("ENC[") && s.ends_with(']'))
    }
}

/// The leaves of one version's documents by key path (comments left out).
pub fn leaves(docs: &[Value]) -> BTreeMap<KeyPath, Leaf> {
    fn go(v: &Value, path: &mut Vec<Step>, out: &mut BTreeMap<KeyPath, Leaf>) {
        match v {
            Value::Null => {
                out.insert(KeyPath(path.clone()), Leaf::Null);
            }
            Value::Scalar(Scalar::Comment(_)) => {}
            Value::Scalar(s) => {
                out.insert(KeyPath(path.clone()), Leaf::Scalar(s.clone()));
            }
            Value::List(items) if items.is_empty() => {
                out.insert(KeyPath(path.clone()), Leaf::EmptyList);
            }
            Value::List(items) => {
                // Comments sops keeps as list elements do not count as positions.
                let real = items
                    .iter()
                    .filter(|i| !matches!(i, Value::Scalar(Scalar::Comment(_))));
                for (i, it) in real.enumerate() {
                    path.push(Step::Index(i));
                    go(it, path, out);
                    path.pop();
                }
            }
            Value::Map(items) => {
                let mut any = false;
                for it in items {
                    if let Item::Entry(k, v) = it {
                        any = true;
                        path.push(Step::Key(k.clone()));
                        go(v, path, out);
                        path.pop();
                    }
                }
                if !any {
                    out.insert(KeyPath(path.clone()), Leaf::EmptyMap);
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    let several = docs.len() > 1;
    for (i, d) in docs.iter().enumerate() {
        let mut path = if several {
            vec![Step::Index(i)]
        } else {
            Vec::new()
        };
        go(d, &mut path, &mut out);
    }
    out
}

/// One version of an encrypted file, parsed without decrypting.
pub struct Version {
    pub leaves: BTreeMap<KeyPath, Leaf>,
    /// `None`: the file has no sops metadata (not encrypted).
    pub metadata: Option<Metadata>,
    /// The metadata tree as stored, for the field-by-field comparison.
    meta_tree: Option<Value>,
}

impl Version {
    /// The side of a file that does not exist (a new or deleted file).
    pub fn absent() -> Version {
        Version {
            leaves: BTreeMap::new(),
            metadata: None,
            meta_tree: None,
        }
    }

    /// Parse `data` (a file in `format`). An unparsable file is an error; a file without
    /// metadata is a [`Version`] with `metadata: None`.
    pub fn parse(format: Format, data: &[u8]) -> Result<Version> {
        let parsed = format.store().parse_encrypted(data)?;
        let meta_tree = parsed.metadata().cloned();
        let metadata = meta_tree.as_ref().map(Metadata::from_tree).transpose()?;
        Ok(Version {
            leaves: leaves(parsed.docs()),
            metadata,
            meta_tree,
        })
    }
}

/// What can be said about the values as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Nothing differs.
    Unchanged,
    /// Only metadata differs (`mac`, `lastmodified`, recipients, …).
    MetadataOnly,
    /// The listed paths changed.
    Changed,
    /// A new data key: every value was re-encrypted, which changes cannot be told.
    DataKeyRotated,
    /// The same data key, but every value has new ciphertext (a tool that re-encrypts every
    /// value on each change, as sops does): which changed cannot be told without a key.
    AllReencrypted,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Unchanged => "unchanged",
            Status::MetadataOnly => "metadata-only",
            Status::Changed => "changed",
            Status::DataKeyRotated => "data-key-rotated",
            Status::AllReencrypted => "all-reencrypted",
        }
    }
}

/// The comparison of two versions.
#[derive(Clone, Debug)]
pub struct Report {
    pub status: Status,
    pub added: Vec<KeyPath>,
    pub removed: Vec<KeyPath>,
    /// Paths whose value changed (empty when the status says changes cannot be told).
    pub changed: Vec<KeyPath>,
    /// Master keys (`kind identifier`) only in the new version, and only in the old one.
    pub recipients_added: Vec<String>,
    pub recipients_removed: Vec<String>,
    /// Names of the metadata fields that differ (`mac`, `lastmodified`, `age`, …).
    pub metadata: Vec<String>,
}

fn recipients(m: Option<&Metadata>) -> BTreeSet<String> {
    m.map(|m| {
        m.key_groups
            .iter()
            .flatten()
            .map(|k| k.key.describe())
            .collect()
    })
    .unwrap_or_default()
}

/// Whether the two versions provably share their data key: a master key holds the very same
/// wrapped data key (or Shamir share) in both. Wrapping is randomised for every kind veil
/// knows, so an identical `enc` means it was carried over, not made again.
fn same_data_key(old: &Metadata, new: &Metadata) -> bool {
    let old: BTreeMap<String, &str> = old
        .key_groups
        .iter()
        .flatten()
        .map(|k| (k.key.identity(), k.enc.as_str()))
        .collect();
    new.key_groups
        .iter()
        .flatten()
        .any(|k| old.get(&k.key.identity()) == Some(&k.enc.as_str()))
}

/// The metadata fields (top level of the `sops` tree) that differ.
fn metadata_fields(old: Option<&Value>, new: Option<&Value>) -> Vec<String> {
    let fields = |v: Option<&Value>| -> BTreeMap<String, Value> {
        match v {
            Some(Value::Map(items)) => items
                .iter()
                .filter_map(|i| match i {
                    Item::Entry(k, v) => Some((k.clone(), v.clone())),
                    Item::Comment(_) => None,
                })
                .collect(),
            _ => BTreeMap::new(),
        }
    };
    let (o, n) = (fields(old), fields(new));
    let names: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    names
        .into_iter()
        .filter(|k| o.get(*k) != n.get(*k))
        .cloned()
        .collect()
}

/// Compare two versions without a key.
pub fn compare(old: &Version, new: &Version) -> Report {
    let mut r = compare_leaves(&old.leaves, &new.leaves);
    let (ro, rn) = (
        recipients(old.metadata.as_ref()),
        recipients(new.metadata.as_ref()),
    );
    r.recipients_added = rn.difference(&ro).cloned().collect();
    r.recipients_removed = ro.difference(&rn).cloned().collect();
    r.metadata = metadata_fields(old.meta_tree.as_ref(), new.meta_tree.as_ref());
    // Every common sealed value has new ciphertext: that says nothing about which changed.
    let common: Vec<&KeyPath> = old
        .leaves
        .iter()
        .filter(|(p, l)| l.sealed() && new.leaves.get(*p).is_some_and(Leaf::sealed))
        .map(|(p, _)| p)
        .collect();
    let all_new = !common.is_empty() && common.iter().all(|p| r.changed.contains(p));
    if let (true, Some(om), Some(nm)) = (all_new, &old.metadata, &new.metadata) {
        let same = same_data_key(om, nm);
        if !same {
            r.status = Status::DataKeyRotated;
        } else if common.len() > 1 {
            r.status = Status::AllReencrypted;
        }
        if r.status != Status::Changed {
            // Plaintext leaves that changed are still known to have changed.
            r.changed.retain(|p| {
                !(old.leaves.get(p).is_some_and(Leaf::sealed)
                    && new.leaves.get(p).is_some_and(Leaf::sealed))
            });
        }
    }
    if r.status == Status::Unchanged
        && (!r.metadata.is_empty()
            || !r.recipients_added.is_empty()
            || !r.recipients_removed.is_empty())
    {
        r.status = Status::MetadataOnly;
    }
    r
}

/// Compare two sets of leaves by path (ciphertext, or opened values with `--values`).
pub fn compare_leaves(old: &BTreeMap<KeyPath, Leaf>, new: &BTreeMap<KeyPath, Leaf>) -> Report {
    let added: Vec<KeyPath> = new
        .keys()
        .filter(|p| !old.contains_key(*p))
        .cloned()
        .collect();
    let removed: Vec<KeyPath> = old
        .keys()
        .filter(|p| !new.contains_key(*p))
        .cloned()
        .collect();
    let changed: Vec<KeyPath> = old
        .iter()
        .filter(|(p, l)| new.get(*p).is_some_and(|n| n != *l))
        .map(|(p, _)| p.clone())
        .collect();
    let status = if added.is_empty() && removed.is_empty() && changed.is_empty() {
        Status::Unchanged
    } else {
        Status::Changed
    };
    Report {
        status,
        added,
        removed,
        changed,
        recipients_added: Vec::new(),
        recipients_removed: Vec::new(),
        metadata: Vec::new(),
    }
}

/// Compare two sets of opened documents (the `--values` view).
pub fn compare_docs(old: &[Value], new: &[Value]) -> Report {
    compare_leaves(&leaves(old), &leaves(new))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(yaml: &str) -> Version {
        Version::parse(Format::Yaml, yaml.as_bytes()).unwrap()
    }

    fn paths(p: &[KeyPath]) -> Vec<String> {
        p.iter().map(|p| p.to_string()).collect()
    }

    const R1: &str = "age1pn7k6f6t6akcxv3jejfavpvdatyrcy4sftyerwzkchtrh4w8cerqglk7dv";

    /// A file with sealed-looking values `a` and `b`, wrapped key text `enc` for `recipients`.
    fn sealed(a: &str, b: &str, enc: &str, recipients: &[&str], lm: &str) -> Version {
        let mut keys = String::new();
        for r in recipients {
            keys.push_str(&format!(
                "        - recipient: {r}\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            {enc}\n            -----END AGE ENCRYPTED FILE-----\n"
            ));
        }
        v(&format!(
            "a: ENC[AES256_GCM,data:{a},iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]\n\
             b: ENC[AES256_GCM,data:{b},iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]\n\
             plain_unencrypted: 1\n\
             sops:\n    age:\n{keys}    lastmodified: \"{lm}\"\n    mac: ENC[AES256_GCM,data:bWFj,iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]\n    unencrypted_suffix: _unencrypted\n    version: 3.11.0\n"
        ))
    }

    #[test]
    fn every_value_new_under_a_new_data_key_is_a_rotation_not_a_list() {
        let old = sealed("YQ==", "Yg==", "d2sx", &[R1], "2026-01-01T00:00:00Z");
        let new = sealed("eA==", "eQ==", "d2sy", &[R1], "2026-01-02T00:00:00Z");
        let r = compare(&old, &new);
        assert_eq!(r.status, Status::DataKeyRotated);
        assert!(r.changed.is_empty());
        // The same data key (the wrapped key carried over): the tool re-encrypted every value.
        let same = sealed("eA==", "eQ==", "d2sx", &[R1], "2026-01-02T00:00:00Z");
        let r = compare(&old, &same);
        assert_eq!(r.status, Status::AllReencrypted);
        assert!(r.changed.is_empty());
        // One value new under the same key: that one changed.
        let one = sealed("YQ==", "eQ==", "d2sx", &[R1], "2026-01-02T00:00:00Z");
        let r = compare(&old, &one);
        assert_eq!(r.status, Status::Changed);
        assert_eq!(paths(&r.changed), ["b"]);
        assert_eq!(r.metadata, ["lastmodified"]);
    }

    #[test]
    fn a_change_of_metadata_alone_is_metadata_only() {
        let old = sealed("YQ==", "Yg==", "d2sx", &[R1], "2026-01-01T00:00:00Z");
        let new = sealed("YQ==", "Yg==", "d2sx", &[R1], "2026-01-03T00:00:00Z");
        let r = compare(&old, &new);
        assert_eq!(r.status, Status::MetadataOnly);
        assert_eq!(r.metadata, ["lastmodified"]);
        assert_eq!(compare(&old, &old).status, Status::Unchanged);
    }

    #[test]
    fn paths_read_like_extract_paths_where_they_must() {
        let p = KeyPath(vec![
            Step::Key("db".into()),
            Step::Key("pass word".into()),
            Step::Index(2),
            Step::Key("x".into()),
        ]);
        assert_eq!(p.to_string(), r#"db["pass word"][2].x"#);
        assert_eq!(p.to_json(), serde_json::json!(["db", "pass word", 2, "x"]));
    }

    #[test]
    fn added_removed_and_changed_plaintext_leaves_are_told_apart() {
        let r = compare(
            &v("a: 1\nb: {c: 2}\nl: [x, y]\n"),
            &v("a: 1\nb: {c: 3, d: {}}\nl: [x]\n"),
        );
        assert_eq!(r.status, Status::Changed);
        assert_eq!(paths(&r.added), ["b.d"]);
        assert_eq!(paths(&r.removed), ["l[1]"]);
        assert_eq!(paths(&r.changed), ["b.c"]);
    }
}
