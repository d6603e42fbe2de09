//! The `sops` metadata block: the internal [`Metadata`] and its on-disk tree form.
//!
//! The on-disk form is a [`Value`] tree in sops 3.11's field order (docs/sops-format.md §3.1), which each format
//! renders in its own syntax. Reading accepts every order (3.13 sorts alphabetically), old
//! `kms: []` lists and quoted dates. The internal form is separate from the on-disk one (as sops
//! keeps `stores/stores.go` apart), so field-order and quoting rules live here only. Each key
//! kind's own fields come from the key registry ([`crate::keys::kind`]).
//!
//! File metadata is untrusted input: every field is checked for type and size here.

use crate::error::{Code, Error, Result};
use crate::keys::kind::{self, Field, FieldSource, KeyKind};
use crate::keys::WrappedKey;
use crate::tree::{Item, Scalar, Value};
use std::collections::BTreeMap;

pub mod integrity;
mod load_checks;
pub use load_checks::{check_loadable, check_version};

/// The version veil writes into `version`: the sops format version it is compatible with.
pub const SOPS_FORMAT_VERSION: &str = "3.11.0";

/// Which leaves are encrypted (docs/sops-format.md §1.5). At most one rule is set.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Rule {
    /// No rule in the file (binary store): read as `_unencrypted`.
    #[default]
    None,
    UnencryptedSuffix(String),
    EncryptedSuffix(String),
    UnencryptedRegex(String),
    EncryptedRegex(String),
    UnencryptedCommentRegex(String),
    EncryptedCommentRegex(String),
}

impl Rule {
    /// Whether the rule reads comments (sops's comment stack, which only the tree path keeps:
    /// the streaming paths give a file with comments under such a rule to the tree path).
    pub fn reads_comments(&self) -> bool {
        matches!(
            self,
            Rule::UnencryptedCommentRegex(_) | Rule::EncryptedCommentRegex(_)
        )
    }

    /// The metadata field name and value of this rule, if any.
    pub fn field(&self) -> Option<(&'static str, &str)> {
        Some(match self {
            Rule::None => return None,
            Rule::UnencryptedSuffix(s) => ("unencrypted_suffix", s),
            Rule::EncryptedSuffix(s) => ("encrypted_suffix", s),
            Rule::UnencryptedRegex(s) => ("unencrypted_regex", s),
            Rule::EncryptedRegex(s) => ("encrypted_regex", s),
            Rule::UnencryptedCommentRegex(s) => ("unencrypted_comment_regex", s),
            Rule::EncryptedCommentRegex(s) => ("encrypted_comment_regex", s),
        })
    }
}

/// The internal metadata of an encrypted file.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Metadata {
    /// Key groups; one group means the data key itself is wrapped, several mean Shamir shares.
    pub key_groups: Vec<Vec<WrappedKey>>,
    pub shamir_threshold: usize,
    /// RFC 3339 text as stored.
    pub lastmodified: String,
    /// The encrypted MAC (`ENC[…]`), or empty.
    pub mac: String,
    pub rule: Rule,
    pub mac_only_encrypted: bool,
    pub version: String,
    /// veil's opt-in integrity tag (`veil_integrity`, see [`integrity`]); sops ignores it.
    pub integrity: Option<String>,
}

fn s(v: &str) -> Value {
    Value::Scalar(Scalar::Str(v.to_string()))
}

fn entry(k: &str, v: Value) -> Item {
    Item::Entry(k.to_string(), v)
}

fn key_to_tree(k: &WrappedKey) -> Value {
    let items = kind::of(&k.key)
        .layout(&k.key)
        .into_iter()
        .filter_map(|(name, f)| match f {
            Field::Text(v) => Some(entry(name, s(v))),
            Field::TextIfSet(v) => (!v.is_empty()).then(|| entry(name, s(v))),
            Field::Map(m) => (!m.is_empty()).then(|| {
                entry(
                    name,
                    Value::Map(m.iter().map(|(a, b)| entry(a, s(b))).collect()),
                )
            }),
            Field::CreatedAt => Some(entry(name, s(k.created_at.as_deref().unwrap_or("")))),
            Field::Enc => Some(entry(name, s(&k.enc))),
        })
        .collect();
    Value::Map(items)
}

fn keys_of_kind(group: &[WrappedKey], kind: &str) -> Vec<Value> {
    group
        .iter()
        .filter(|k| k.key.kind() == kind)
        .map(key_to_tree)
        .collect()
}

impl Metadata {
    /// The on-disk tree in sops 3.11's field order (docs/sops-format.md §3.1). `null_empty_lists` gives JSON's
    /// `"hc_vault": null` for empty always-written group lists; YAML writes `[]`.
    pub fn to_tree(&self, null_empty_lists: bool) -> Value {
        let mut items = Vec::new();
        if self.shamir_threshold != 0 && self.key_groups.len() > 1 {
            items.push(entry(
                "shamir_threshold",
                Value::Scalar(Scalar::Int(self.shamir_threshold as i64)),
            ));
        }
        let single = self.key_groups.len() <= 1;
        let empty = Vec::new();
        let g0 = self.key_groups.first().unwrap_or(&empty);
        if !single {
            let groups = self
                .key_groups
                .iter()
                .map(|g| {
                    let mut gi = Vec::new();
                    for kind in kind::in_metadata_order() {
                        let ks = keys_of_kind(g, kind.name());
                        if kind.always_in_group() {
                            let v = if ks.is_empty() && null_empty_lists {
                                Value::Null
                            } else {
                                Value::List(ks)
                            };
                            gi.push(entry(kind.name(), v));
                        } else if !ks.is_empty() {
                            gi.push(entry(kind.name(), Value::List(ks)));
                        }
                    }
                    Value::Map(gi)
                })
                .collect();
            items.push(entry("key_groups", Value::List(groups)));
        } else {
            for kind in kind::in_file_order().filter(|k| !k.written_after_mac()) {
                let ks = keys_of_kind(g0, kind.name());
                if !ks.is_empty() {
                    items.push(entry(kind.name(), Value::List(ks)));
                }
            }
        }
        items.push(entry("lastmodified", s(&self.lastmodified)));
        items.push(entry("mac", s(&self.mac)));
        if single {
            for kind in kind::in_file_order().filter(|k| k.written_after_mac()) {
                let ks = keys_of_kind(g0, kind.name());
                if !ks.is_empty() {
                    items.push(entry(kind.name(), Value::List(ks)));
                }
            }
        }
        if let Some((name, v)) = self.rule.field() {
            items.push(entry(name, s(v)));
        }
        if self.mac_only_encrypted {
            items.push(entry(
                "mac_only_encrypted",
                Value::Scalar(Scalar::Bool(true)),
            ));
        }
        items.push(entry("version", s(&self.version)));
        if let Some(t) = &self.integrity {
            items.push(entry(integrity::FIELD, s(t)));
        }
        Value::Map(items)
    }

    /// Read the on-disk tree, in any field order.
    pub fn from_tree(v: &Value) -> Result<Metadata> {
        let Value::Map(_) = v else {
            return Err(bad("the sops metadata is not a map"));
        };
        let mut m = Metadata {
            lastmodified: text(v.get("lastmodified")).unwrap_or_default(),
            mac: text(v.get("mac")).unwrap_or_default(),
            version: text(v.get("version")).unwrap_or_default(),
            integrity: text(v.get(integrity::FIELD)),
            ..Metadata::default()
        };
        m.mac_only_encrypted = matches!(
            v.get("mac_only_encrypted"),
            Some(Value::Scalar(Scalar::Bool(true)))
        ) || text(v.get("mac_only_encrypted")).as_deref() == Some("true");
        m.shamir_threshold = match v.get("shamir_threshold") {
            Some(Value::Scalar(Scalar::Int(i))) if *i >= 0 && *i <= 255 => *i as usize,
            Some(Value::Scalar(Scalar::Float(f))) => f
                .parse::<f64>()
                .ok()
                .filter(|x| x.fract() == 0.0 && (0.0..=255.0).contains(x))
                .map(|x| x as usize)
                .ok_or_else(|| bad("invalid shamir_threshold"))?,
            Some(Value::Scalar(Scalar::Str(t))) => {
                t.parse().map_err(|_| bad("invalid shamir_threshold"))?
            }
            None | Some(Value::Null) => 0,
            _ => return Err(bad("invalid shamir_threshold")),
        };
        let rules = [
            (
                "unencrypted_suffix",
                Rule::UnencryptedSuffix as fn(String) -> Rule,
            ),
            ("encrypted_suffix", Rule::EncryptedSuffix),
            ("unencrypted_regex", Rule::UnencryptedRegex),
            ("encrypted_regex", Rule::EncryptedRegex),
            ("unencrypted_comment_regex", Rule::UnencryptedCommentRegex),
            ("encrypted_comment_regex", Rule::EncryptedCommentRegex),
        ];
        for (name, mk) in rules {
            if let Some(t) = text(v.get(name)).filter(|t| !t.is_empty()) {
                if m.rule != Rule::None {
                    // sops's load error (exit 1), word for word.
                    return Err(Error::new(
                        Code::Generic,
                        "Cannot use more than one of encrypted_suffix, unencrypted_suffix, \
                         encrypted_regex, unencrypted_regex, encrypted_comment_regex, or \
                         unencrypted_comment_regex in the same file",
                    )
                    .hint("the file's sops metadata was edited by hand: restore it from git"));
                }
                m.rule = mk(t);
            }
        }
        // Flat lists win over key_groups when both are present (docs/sops-format.md §3.1).
        let mut flat = Vec::new();
        for kind in kind::in_file_order() {
            if let Some(list) = v.get(kind.name()) {
                flat.extend(keys_from_list(kind, list)?);
            }
        }
        if !flat.is_empty() {
            m.key_groups = vec![flat];
        } else if let Some(Value::List(groups)) = v.get("key_groups") {
            for g in groups {
                let mut keys = Vec::new();
                for kind in kind::in_file_order() {
                    if let Some(list) = g.get(kind.name()) {
                        keys.extend(keys_from_list(kind, list)?);
                    }
                }
                m.key_groups.push(keys);
            }
        }
        if m.key_groups.iter().all(|g| g.is_empty()) {
            return Err(bad("No keys found in file")
                .hint("the file's sops metadata lists no master keys; it cannot be decrypted"));
        }
        Ok(m)
    }
}

fn bad(msg: &str) -> Error {
    Error::new(Code::CouldNotReadInputFile, msg.to_string())
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Scalar(Scalar::Str(s))
        | Value::Scalar(Scalar::Time(s))
        | Value::Scalar(Scalar::Float(s)) => Some(s.clone()),
        Value::Scalar(Scalar::Int(i)) => Some(i.to_string()),
        Value::Scalar(Scalar::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

/// A metadata key entry, read leniently: a missing or mistyped field is empty.
struct Entry<'a>(&'a Value);

impl FieldSource for Entry<'_> {
    fn text(&self, name: &str) -> String {
        text(self.0.get(name)).unwrap_or_default()
    }
    fn map(&self, name: &str) -> std::result::Result<BTreeMap<String, String>, &'static str> {
        let mut out = BTreeMap::new();
        if let Some(Value::Map(c)) = self.0.get(name) {
            for i in c {
                if let Item::Entry(k, v) = i {
                    out.insert(k.clone(), text(Some(v)).unwrap_or_default());
                }
            }
        }
        Ok(out)
    }
}

fn keys_from_list(kind: &dyn KeyKind, list: &Value) -> Result<Vec<WrappedKey>> {
    let items = match list {
        Value::List(items) => items,
        Value::Null => return Ok(Vec::new()),
        _ => return Err(bad("invalid key list in the sops metadata")),
    };
    let mut out = Vec::new();
    for it in items {
        if !matches!(it, Value::Map(_)) {
            return Err(bad("invalid key entry in the sops metadata"));
        }
        let e = Entry(it);
        out.push(WrappedKey {
            key: kind.read_metadata(&e),
            enc: e.text("enc"),
            created_at: if kind.records_created_at() {
                text(it.get("created_at"))
            } else {
                None
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyRef;

    fn age(r: &str) -> WrappedKey {
        WrappedKey {
            key: KeyRef::Age {
                recipient: r.into(),
            },
            enc: "-----BEGIN AGE ENCRYPTED FILE-----\nx\n-----END AGE ENCRYPTED FILE-----\n".into(),
            created_at: None,
        }
    }

    fn names(v: &Value) -> Vec<String> {
        match v {
            Value::Map(items) => items
                .iter()
                .filter_map(|i| match i {
                    Item::Entry(k, _) => Some(k.clone()),
                    _ => None,
                })
                .collect(),
            _ => vec![],
        }
    }

    #[test]
    fn single_group_field_order() {
        let m = Metadata {
            key_groups: vec![vec![age("age1a")]],
            lastmodified: "2026-11-29T00:16:37Z".into(),
            mac: "ENC[x]".into(),
            rule: Rule::UnencryptedSuffix("_unencrypted".into()),
            version: "3.11.0".into(),
            ..Default::default()
        };
        let t = m.to_tree(false);
        assert_eq!(
            names(&t),
            [
                "age",
                "lastmodified",
                "mac",
                "unencrypted_suffix",
                "version"
            ]
        );
        assert_eq!(Metadata::from_tree(&t).unwrap(), m);
    }

    #[test]
    fn groups_always_write_hc_vault_and_age() {
        let m = Metadata {
            key_groups: vec![vec![age("age1a")], vec![age("age1b")]],
            shamir_threshold: 2,
            lastmodified: "t".into(),
            mac: "m".into(),
            version: "3.11.0".into(),
            ..Default::default()
        };
        let t = m.to_tree(true);
        assert_eq!(
            names(&t),
            [
                "shamir_threshold",
                "key_groups",
                "lastmodified",
                "mac",
                "version"
            ]
        );
        let Some(Value::List(g)) = t.get("key_groups") else {
            panic!()
        };
        assert_eq!(names(&g[0]), ["hc_vault", "age"]);
        assert_eq!(g[0].get("hc_vault"), Some(&Value::Null));
        assert_eq!(Metadata::from_tree(&t).unwrap(), m);
    }

    /// One key of every kind in one group: each kind writes sops's fields in sops's order
    /// (taken from the key registry), and reads back to the same keys.
    #[test]
    fn every_kind_writes_sops_fields_and_reads_back() {
        let wk = |key: KeyRef, created: Option<&str>| WrappedKey {
            key,
            enc: "E".into(),
            created_at: created.map(String::from),
        };
        let t = Some("2026-01-01T00:00:00Z");
        let m = Metadata {
            key_groups: vec![vec![
                wk(
                    KeyRef::Kms {
                        arn: "arn:aws:kms:us-east-1:1:key/k".into(),
                        role: "arn:aws:iam::1:role/r".into(),
                        context: [("app".to_string(), "web".to_string())].into(),
                        aws_profile: "p".into(),
                    },
                    t,
                ),
                wk(
                    KeyRef::GcpKms {
                        resource_id: "projects/p/cryptoKeys/k".into(),
                    },
                    t,
                ),
                wk(
                    KeyRef::Hckms {
                        key_id: "cn-north-4:u".into(),
                    },
                    t,
                ),
                wk(
                    KeyRef::AzureKv {
                        vault_url: "https://v.vault.azure.net".into(),
                        name: "n".into(),
                        version: "1".into(),
                    },
                    t,
                ),
                wk(
                    KeyRef::HcVault {
                        address: "https://vault:8200".into(),
                        engine_path: "transit".into(),
                        key_name: "k".into(),
                    },
                    t,
                ),
                wk(
                    KeyRef::Age {
                        recipient: "age1a".into(),
                    },
                    None,
                ),
                wk(
                    KeyRef::Pgp {
                        fingerprint: "FP".into(),
                    },
                    t,
                ),
            ]],
            lastmodified: "t".into(),
            mac: "m".into(),
            version: "3.11.0".into(),
            ..Default::default()
        };
        let tree = m.to_tree(false);
        assert_eq!(
            names(&tree),
            [
                "kms",
                "gcp_kms",
                "hckms",
                "azure_kv",
                "hc_vault",
                "age",
                "lastmodified",
                "mac",
                "pgp",
                "version"
            ]
        );
        let fields = |kind: &str| match tree.get(kind) {
            Some(Value::List(l)) => names(&l[0]),
            _ => vec![],
        };
        assert_eq!(
            fields("kms"),
            ["arn", "role", "context", "created_at", "enc", "aws_profile"]
        );
        assert_eq!(fields("gcp_kms"), ["resource_id", "created_at", "enc"]);
        assert_eq!(fields("hckms"), ["key_id", "created_at", "enc"]);
        assert_eq!(
            fields("azure_kv"),
            ["vault_url", "name", "version", "created_at", "enc"]
        );
        assert_eq!(
            fields("hc_vault"),
            [
                "vault_address",
                "engine_path",
                "key_name",
                "created_at",
                "enc"
            ]
        );
        assert_eq!(fields("age"), ["recipient", "enc"]);
        assert_eq!(fields("pgp"), ["created_at", "enc", "fp"]);
        assert_eq!(Metadata::from_tree(&tree).unwrap(), m);
    }

    #[test]
    fn no_keys_is_an_error() {
        let t = Value::Map(vec![
            entry("mac", s("x")),
            entry("kms", Value::List(vec![])),
        ]);
        assert!(Metadata::from_tree(&t)
            .unwrap_err()
            .message
            .contains("No keys found"));
    }
}
