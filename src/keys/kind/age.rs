//! age recipients: `age1…`, an `ssh-ed25519`/`ssh-rsa` public key line (kept verbatim, comment
//! included, as sops does) or a plugin recipient. sops writes no `created_at` for them.

use super::{Field, FieldSource, KeyKind, ParseOptions};
use crate::error::Result;
use crate::keys::{Backend, KeyRef, LocalOptions};

pub struct Age;

impl KeyKind for Age {
    fn name(&self) -> &'static str {
        "age"
    }
    fn env_var(&self) -> &'static str {
        crate::env::SOPS_AGE_RECIPIENTS
    }
    fn config_field(&self) -> &'static str {
        "age"
    }
    fn parse(&self, text: &str, _: &ParseOptions) -> Result<KeyRef> {
        let r = text.trim();
        crate::keys::age::validate_recipient(r)?;
        Ok(KeyRef::Age {
            recipient: r.to_string(),
        })
    }
    fn identity(&self, key: &KeyRef) -> String {
        match key {
            KeyRef::Age { recipient } => recipient.clone(),
            _ => String::new(),
        }
    }
    fn layout<'a>(&self, key: &'a KeyRef) -> Vec<(&'static str, Field<'a>)> {
        match key {
            KeyRef::Age { recipient } => {
                vec![("recipient", Field::Text(recipient)), ("enc", Field::Enc)]
            }
            _ => Vec::new(),
        }
    }
    fn read_metadata(&self, entry: &dyn FieldSource) -> KeyRef {
        KeyRef::Age {
            recipient: entry.text("recipient"),
        }
    }
    fn records_created_at(&self) -> bool {
        false
    }
    fn always_in_group(&self) -> bool {
        true
    }
    fn backend(&self, _: &LocalOptions) -> Option<Box<dyn Backend>> {
        Some(Box::new(crate::keys::age::AgeBackend::from_env()))
    }
}
