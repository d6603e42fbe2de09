//! GCP Cloud KMS crypto keys, by resource id. The backend is `crate::keys::gcp_kms` (feature
//! `gcp-kms`).

use super::{Field, FieldSource, GroupSyntax, KeyKind, ParseOptions};
use crate::error::Result;
use crate::keys::KeyRef;
use crate::keys::{Backend, LocalOptions};

pub struct GcpKms;

impl KeyKind for GcpKms {
    fn name(&self) -> &'static str {
        "gcp_kms"
    }
    fn env_var(&self) -> &'static str {
        "SOPS_GCP_KMS_IDS"
    }
    fn config_field(&self) -> &'static str {
        "gcp_kms"
    }
    fn group_syntax(&self) -> GroupSyntax {
        GroupSyntax::Maps("{resource_id: projects/…/cryptoKeys/…}")
    }
    fn parse(&self, text: &str, _: &ParseOptions) -> Result<KeyRef> {
        Ok(KeyRef::GcpKms {
            resource_id: text.replace(' ', ""),
        })
    }
    fn parse_group_entry(&self, entry: &dyn FieldSource) -> Result<KeyRef> {
        self.parse(&entry.text("resource_id"), &ParseOptions::default())
    }
    fn identity(&self, key: &KeyRef) -> String {
        match key {
            KeyRef::GcpKms { resource_id } => resource_id.clone(),
            _ => String::new(),
        }
    }
    fn layout<'a>(&self, key: &'a KeyRef) -> Vec<(&'static str, Field<'a>)> {
        match key {
            KeyRef::GcpKms { resource_id } => vec![
                ("resource_id", Field::Text(resource_id)),
                ("created_at", Field::CreatedAt),
                ("enc", Field::Enc),
            ],
            _ => Vec::new(),
        }
    }
    fn read_metadata(&self, entry: &dyn FieldSource) -> KeyRef {
        KeyRef::GcpKms {
            resource_id: entry.text("resource_id"),
        }
    }
    fn backend(&self, _: &LocalOptions) -> Option<Box<dyn Backend>> {
        #[cfg(feature = "gcp-kms")]
        return Some(Box::new(crate::keys::gcp_kms::GcpKmsBackend::from_env()));
        #[cfg(not(feature = "gcp-kms"))]
        None
    }
}
