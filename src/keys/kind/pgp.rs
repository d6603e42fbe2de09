//! PGP keys, by fingerprint (spaces removed), used through `gpg`.

use super::{Field, FieldSource, KeyKind, ParseOptions};
use crate::error::Result;
use crate::keys::{Backend, KeyRef, LocalOptions};

pub struct Pgp;

impl KeyKind for Pgp {
    fn name(&self) -> &'static str {
        "pgp"
    }
    fn env_var(&self) -> &'static str {
        "SOPS_PGP_FP"
    }
    fn config_field(&self) -> &'static str {
        "pgp"
    }
    fn parse(&self, text: &str, _: &ParseOptions) -> Result<KeyRef> {
        Ok(KeyRef::Pgp {
            fingerprint: text.replace(' ', ""),
        })
    }
    fn identity(&self, key: &KeyRef) -> String {
        match key {
            KeyRef::Pgp { fingerprint } => fingerprint.clone(),
            _ => String::new(),
        }
    }
    fn layout<'a>(&self, key: &'a KeyRef) -> Vec<(&'static str, Field<'a>)> {
        match key {
            KeyRef::Pgp { fingerprint } => vec![
                ("created_at", Field::CreatedAt),
                ("enc", Field::Enc),
                ("fp", Field::Text(fingerprint)),
            ],
            _ => Vec::new(),
        }
    }
    fn read_metadata(&self, entry: &dyn FieldSource) -> KeyRef {
        KeyRef::Pgp {
            fingerprint: entry.text("fp"),
        }
    }
    fn written_after_mac(&self) -> bool {
        true
    }
    fn backend(&self, _: &LocalOptions) -> Option<Box<dyn Backend>> {
        #[cfg(feature = "pgp")]
        return Some(Box::new(crate::keys::pgp::PgpBackend::from_env()));
        #[cfg(not(feature = "pgp"))]
        None
    }
}
