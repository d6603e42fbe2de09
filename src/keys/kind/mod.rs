//! The key-kind registry: everything veil knows about one kind of master key, in one place.
//!
//! sops spreads a key kind over many places: its metadata list and fields, its `.sops.yaml`
//! fields (flat `age: "a,b"` and `key_groups` entries), its command-line flags and their `SOPS_*`
//! defaults, its identity for de-duplication and `updatekeys` diffs, its `--decryption-order`
//! name, its text in reports, and its backend. Each kind here supplies all of those through
//! [`KeyKind`]; `metadata`, `config`, `engine` and the commands loop over [`REGISTRY`] and never
//! name a kind themselves. A kind's description is always compiled, even when its backend is
//! behind a cargo feature, so files naming any kind stay readable (and re-writable) in every
//! build.
//!
//! sops itself uses three different orders for the kinds — the metadata's (its `KeyGroup`
//! struct), `.sops.yaml`'s (`extractMasterKeys`) and the flags' (`keyGroups` in `main.go`) — and
//! veil reproduces each, because the order decides which error is reported first and how a file
//! is laid out. [`REGISTRY`] is in metadata order and records the other two as ranks.
//!
//! How to add a kind is in the [`crate::keys`] docs.

use super::{Backend, KeyRef, LocalOptions};
use crate::error::Result;
use std::collections::BTreeMap;

mod age;
mod azure_kv;
mod gcp_kms;
mod hc_vault;
mod hckms;
mod kms;
mod pgp;

pub use azure_kv::parse_azure_url;
pub use hc_vault::parse_vault_uri;
pub use hckms::parse_hckms;
pub use kms::{kms_from_arn, split_role};

/// One field of a key's metadata entry, in its on-disk position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field<'a> {
    /// Always written (as `""` when empty).
    Text(&'a str),
    /// Written only when not empty (kms `role`).
    TextIfSet(&'a str),
    /// A map written only when not empty (kms `context`).
    Map(&'a BTreeMap<String, String>),
    /// The key's `created_at`.
    CreatedAt,
    /// The wrapped data key, `enc`.
    Enc,
}

/// Named fields of an entry being read: a metadata key entry or a `.sops.yaml` `key_groups`
/// entry. An absent field reads as `""` / an empty map.
pub trait FieldSource {
    fn text(&self, name: &str) -> String;
    /// The map under `name`; `Err` names what was found instead of a map.
    fn map(&self, name: &str) -> std::result::Result<BTreeMap<String, String>, &'static str>;
}

/// How a kind's keys are written inside a `.sops.yaml` `key_groups` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupSyntax {
    /// A comma string or a list of strings, each read by [`KeyKind::parse`].
    Strings,
    /// A list of maps, each read by [`KeyKind::parse_group_entry`]; the text is an example entry
    /// for error hints.
    Maps(&'static str),
}

/// What a flag value or a flat `.sops.yaml` string needs besides its text (only kms uses it).
#[derive(Clone, Copy, Debug, Default)]
pub struct ParseOptions<'a> {
    /// `--encryption-context` for `--kms` keys.
    pub encryption_context: Option<&'a BTreeMap<String, String>>,
    /// `--aws-profile` (or a rule's `aws_profile`) for kms keys.
    pub aws_profile: &'a str,
}

/// One kind of master key. See the module docs for what it supplies and why.
pub trait KeyKind: Sync {
    /// The name in the metadata, in `--decryption-order` and in [`KeyRef::kind`]: `age`, `kms`…
    fn name(&self) -> &'static str;
    /// The environment variable that is the default of its key flag (`SOPS_AGE_RECIPIENTS`…).
    fn env_var(&self) -> &'static str;
    /// Its field in a flat creation rule (`age`, `azure_keyvault`, `hc_vault_transit_uri`…).
    fn config_field(&self) -> &'static str;
    /// Its field inside a `key_groups` entry (`hc_vault`, `azure_keyvault`…).
    fn group_field(&self) -> &'static str {
        self.config_field()
    }
    /// How its `key_groups` entries are written.
    fn group_syntax(&self) -> GroupSyntax {
        GroupSyntax::Strings
    }
    /// One key from a flag value, a flat `.sops.yaml` string or a `key_groups` string (already
    /// split on commas and trimmed).
    fn parse(&self, text: &str, opts: &ParseOptions) -> Result<KeyRef>;
    /// One key from a `key_groups` map entry (kinds with [`GroupSyntax::Maps`]).
    fn parse_group_entry(&self, entry: &dyn FieldSource) -> Result<KeyRef> {
        let _ = entry;
        Err(crate::error::Error::generic(format!(
            "error loading config: {} keys in key_groups are strings, not maps",
            self.name()
        )))
    }
    /// sops's `MasterKey.ToString()`: what groups are de-duplicated and diffed by.
    fn identity(&self, key: &KeyRef) -> String;
    /// The name sops prints in a decryption failure report.
    fn sops_name(&self, key: &KeyRef) -> String {
        self.identity(key)
    }
    /// A one-line public description for reports and `--verbose`, e.g. `age age1…`.
    fn describe(&self, key: &KeyRef) -> String {
        format!("{} {}", self.name(), self.identity(key))
    }
    /// The fields of its metadata entry, in sops's on-disk order.
    fn layout<'a>(&self, key: &'a KeyRef) -> Vec<(&'static str, Field<'a>)>;
    /// The key of a metadata entry (already checked to be a map).
    fn read_metadata(&self, entry: &dyn FieldSource) -> KeyRef;
    /// Whether its entries carry `created_at` (sops writes none for age).
    fn records_created_at(&self) -> bool {
        true
    }
    /// Written after `mac` in a single-group file rather than before `lastmodified` (sops's
    /// field order puts `pgp` there).
    fn written_after_mac(&self) -> bool {
        false
    }
    /// Written in every `key_groups` entry even when empty (sops's non-`omitempty` fields).
    fn always_in_group(&self) -> bool {
        false
    }
    /// Its backend in this build, if any.
    fn backend(&self, opts: &LocalOptions) -> Option<Box<dyn Backend>> {
        let _ = opts;
        None
    }
}

/// A kind and its place in the two orders other than the metadata's.
pub struct Registered {
    pub kind: &'static dyn KeyKind,
    /// Position when a creation rule is read (`extractMasterKeys`: age, pgp, kms, gcp_kms,
    /// hckms, azure_keyvault, hc_vault).
    pub config_rank: u8,
    /// Position among the key flags (`keyGroups`: kms, gcp_kms, hckms, azure_kv, pgp, hc_vault,
    /// age).
    pub flag_rank: u8,
}

/// Every key kind, in sops's metadata order (its `KeyGroup` struct).
#[rustfmt::skip]
pub static REGISTRY: [Registered; 7] = [
    Registered { kind: &pgp::Pgp, config_rank: 1, flag_rank: 4 },
    Registered { kind: &kms::Kms, config_rank: 2, flag_rank: 0 },
    Registered { kind: &gcp_kms::GcpKms, config_rank: 3, flag_rank: 1 },
    Registered { kind: &hckms::Hckms, config_rank: 4, flag_rank: 2 },
    Registered { kind: &azure_kv::AzureKv, config_rank: 5, flag_rank: 3 },
    Registered { kind: &hc_vault::HcVault, config_rank: 6, flag_rank: 5 },
    Registered { kind: &age::Age, config_rank: 0, flag_rank: 6 },
];

/// The kind of `key`.
pub fn of(key: &KeyRef) -> &'static dyn KeyKind {
    match key {
        KeyRef::Age { .. } => &age::Age,
        KeyRef::Pgp { .. } => &pgp::Pgp,
        KeyRef::Kms { .. } => &kms::Kms,
        KeyRef::GcpKms { .. } => &gcp_kms::GcpKms,
        KeyRef::AzureKv { .. } => &azure_kv::AzureKv,
        KeyRef::HcVault { .. } => &hc_vault::HcVault,
        KeyRef::Hckms { .. } => &hckms::Hckms,
    }
}

/// The kind named `name` (metadata / `--decryption-order` name).
pub fn named(name: &str) -> Option<&'static dyn KeyKind> {
    REGISTRY.iter().map(|r| r.kind).find(|k| k.name() == name)
}

/// The kinds in metadata order (the order of a `key_groups` entry on disk).
pub fn in_metadata_order() -> impl Iterator<Item = &'static dyn KeyKind> {
    REGISTRY.iter().map(|r| r.kind)
}

/// The kinds in the order of a single-group file's top-level lists: those written before
/// `lastmodified`, then those written after `mac`. Metadata is read in this order too.
pub fn in_file_order() -> impl Iterator<Item = &'static dyn KeyKind> {
    in_metadata_order()
        .filter(|k| !k.written_after_mac())
        .chain(in_metadata_order().filter(|k| k.written_after_mac()))
}

/// The kinds in the order a creation rule is read.
pub fn in_config_order() -> Vec<&'static dyn KeyKind> {
    let mut v: Vec<&Registered> = REGISTRY.iter().collect();
    v.sort_by_key(|r| r.config_rank);
    v.into_iter().map(|r| r.kind).collect()
}

/// The kinds in the order of the key flags.
pub fn in_flag_order() -> Vec<&'static dyn KeyKind> {
    let mut v: Vec<&Registered> = REGISTRY.iter().collect();
    v.sort_by_key(|r| r.flag_rank);
    v.into_iter().map(|r| r.kind).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_are_sops_orders() {
        let names = |v: Vec<&dyn KeyKind>| v.iter().map(|k| k.name()).collect::<Vec<_>>();
        assert_eq!(
            names(in_metadata_order().collect()),
            ["pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age"]
        );
        assert_eq!(
            names(in_file_order().collect()),
            ["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age", "pgp"]
        );
        assert_eq!(
            names(in_config_order()),
            ["age", "pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault"]
        );
        assert_eq!(
            names(in_flag_order()),
            ["kms", "gcp_kms", "hckms", "azure_kv", "pgp", "hc_vault", "age"]
        );
    }

    #[test]
    fn every_kind_is_registered_once_under_its_own_name() {
        for r in &REGISTRY {
            assert_eq!(named(r.kind.name()).map(|k| k.name()), Some(r.kind.name()));
        }
        let mut ranks: Vec<u8> = REGISTRY.iter().map(|r| r.config_rank).collect();
        ranks.sort();
        assert_eq!(ranks, [0, 1, 2, 3, 4, 5, 6]);
        let mut ranks: Vec<u8> = REGISTRY.iter().map(|r| r.flag_rank).collect();
        ranks.sort();
        assert_eq!(ranks, [0, 1, 2, 3, 4, 5, 6]);
    }
}
