//! The engine's side of veil's opt-in integrity field (`metadata::integrity`): checking it
//! when a file is opened, and writing it whenever a file that has it (or must have it) is
//! written. Every write computes the tag over the encrypted documents it intends to write —
//! the same tree a reader parses back, which the writers check before anything is written.
//!
//! Re-authenticating is only ever done after the old tag (or, when a file gains the field,
//! its MAC) verified: a write must never turn tampered metadata into authenticated metadata.

use crate::crypto::data_key::DataKey;
use crate::crypto::integrity::IntegrityKey;
use crate::error::Result;
use crate::format::Edit;
use crate::metadata::{integrity, Metadata};
use crate::tree::Value;

/// Check the integrity field of an opened file (`docs` as parsed from it, sealed leaves as
/// their tokens). See [`integrity::check`].
pub fn check_integrity(
    meta: &Metadata,
    docs: &[Value],
    key: &DataKey,
    required: bool,
) -> Result<()> {
    if meta.integrity.is_none() && !required {
        return Ok(());
    }
    integrity::check(&IntegrityKey::derive(key), docs, meta, required)
}

/// Set `meta`'s integrity field for the encrypted documents `docs` it will be written with.
pub fn reauthenticate(meta: &mut Metadata, docs: &[Value], key: &DataKey) {
    meta.integrity = None;
    meta.integrity = Some(integrity::seal(&IntegrityKey::derive(key), docs, meta));
}

/// Mark `meta` as carrying the integrity field, so that the next write ([`super::reseal`],
/// [`super::rotate`]) computes it. Only for a file whose MAC just verified.
pub fn want_integrity(meta: &mut Metadata) {
    if meta.integrity.is_none() {
        meta.integrity = Some(String::new());
    }
}

/// [`reauthenticate`] for plaintext documents and the edits that seal them, when `meta`
/// carries the field.
pub(super) fn reauthenticate_sealed(
    meta: &mut Metadata,
    plain_docs: &[Value],
    edits: &[Edit],
    key: &DataKey,
) {
    if meta.integrity.is_some() {
        let docs = super::apply_edits(plain_docs, edits);
        reauthenticate(meta, &docs, key);
    }
}
