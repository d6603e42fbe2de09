//! Huawei Cloud KMS keys, `region:uuid`; the backend is `crate::keys::hckms` (feature `hckms`).

use super::{Field, FieldSource, GroupSyntax, KeyKind, ParseOptions};
use crate::error::{Error, Result};
use crate::keys::{Backend, KeyRef, LocalOptions};

pub struct Hckms;

impl KeyKind for Hckms {
    fn name(&self) -> &'static str {
        "hckms"
    }
    fn env_var(&self) -> &'static str {
        "SOPS_HUAWEICLOUD_KMS_IDS"
    }
    fn config_field(&self) -> &'static str {
        "hckms"
    }
    fn group_syntax(&self) -> GroupSyntax {
        GroupSyntax::Maps("{key_id: region:uuid}")
    }
    fn parse(&self, text: &str, _: &ParseOptions) -> Result<KeyRef> {
        parse_hckms(text)
    }
    fn parse_group_entry(&self, entry: &dyn FieldSource) -> Result<KeyRef> {
        parse_hckms(&entry.text("key_id"))
    }
    fn identity(&self, key: &KeyRef) -> String {
        match key {
            KeyRef::Hckms { key_id } => key_id.clone(),
            _ => String::new(),
        }
    }
    fn layout<'a>(&self, key: &'a KeyRef) -> Vec<(&'static str, Field<'a>)> {
        match key {
            KeyRef::Hckms { key_id } => vec![
                ("key_id", Field::Text(key_id)),
                ("created_at", Field::CreatedAt),
                ("enc", Field::Enc),
            ],
            _ => Vec::new(),
        }
    }
    fn read_metadata(&self, entry: &dyn FieldSource) -> KeyRef {
        KeyRef::Hckms {
            key_id: entry.text("key_id"),
        }
    }
    fn backend(&self, _: &LocalOptions) -> Option<Box<dyn Backend>> {
        #[cfg(feature = "hckms")]
        return Some(Box::new(crate::keys::hckms::HckmsBackend::new()));
        #[cfg(not(feature = "hckms"))]
        None
    }
}

/// Huawei Cloud KMS `region:uuid`.
pub fn parse_hckms(id: &str) -> Result<KeyRef> {
    let id = id.trim();
    let hint = "Huawei Cloud KMS keys are written region:key-uuid, e.g. cn-north-4:0f1e…";
    let Some((region, uuid)) = id.split_once(':') else {
        return Err(Error::generic(format!(
            "invalid key ID format: expected 'region:key-uuid', got {id:?}"
        ))
        .hint(hint));
    };
    if region.trim().is_empty() {
        return Err(Error::generic(format!("region cannot be empty in key ID: {id:?}")).hint(hint));
    }
    if uuid.trim().is_empty() {
        return Err(
            Error::generic(format!("key UUID cannot be empty in key ID: {id:?}")).hint(hint),
        );
    }
    Ok(KeyRef::Hckms {
        key_id: id.to_string(),
    })
}
