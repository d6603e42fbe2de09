//! The IV stash: the IVs of the values a file held, so that re-sealing an unchanged value gives
//! the same ciphertext and git shows only the lines that changed. It keeps digests, never
//! plaintext, and carries the [`SealedRecord`] that the re-seal guard checks.

use super::guard::SealedRecord;
use crate::tree::Scalar;

/// sops's IV stash (docs/sops-format.md §1.6), done better: IVs seen while opening, keyed by a digest of
/// (type, AAD, plaintext), kept *in order of occurrence*. Re-sealing an unchanged value reuses
/// its IV, so with the same data key its ciphertext is byte-identical and git shows no change.
/// Unlike sops, two equal values under one path keep their own IVs instead of collapsing onto
/// the last one. Only digests are kept, never plaintext.
///
/// A stash filled by opening a file also carries that file's [`SealedRecord`] (which paths
/// held sealed leaves), so that [`reseal`](super::reseal) — which every change to an encrypted file goes
/// through with that stash — can refuse to write any of them in plaintext.
#[derive(Default, Clone)]
pub struct IvStash {
    map: std::collections::HashMap<[u8; 32], std::collections::VecDeque<Vec<u8>>>,
    pub(super) record: Option<SealedRecord>,
}

impl std::fmt::Debug for IvStash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IvStash({} entries)", self.map.len())
    }
}

impl IvStash {
    fn digest(type_name: &str, aad: &str, plaintext: &[u8]) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [type_name.as_bytes(), aad.as_bytes(), plaintext] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        h.finalize().into()
    }

    /// Remember the IV of an opened value.
    pub fn push(&mut self, type_name: &str, aad: &str, plaintext: &[u8], iv: Vec<u8>) {
        self.map
            .entry(Self::digest(type_name, aad, plaintext))
            .or_default()
            .push_back(iv);
    }

    /// Take the next stashed IV for this value, if any.
    pub fn take(&mut self, type_name: &str, aad: &str, plaintext: &[u8]) -> Option<Vec<u8>> {
        self.map
            .get_mut(&Self::digest(type_name, aad, plaintext))?
            .pop_front()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Note whether a leaf of the file being opened was sealed (see [`SealedRecord`]).
    pub(super) fn note(&mut self, aad: &str, s: &Scalar, sealed: bool) {
        if let Some(r) = &mut self.record {
            r.note(aad, s, sealed);
        }
    }
}
