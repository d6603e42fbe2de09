//! The file MAC: SHA-512 over every leaf's plaintext serialisation, in document order, stored
//! as uppercase hex sealed with `lastmodified` as its AAD (docs/sops-format.md §2).
//!
//! Keys are not hashed (the AAD binds them); comments, nulls and empty strings add nothing. With
//! `mac_only_encrypted` the hash starts with SHA-256("sops") and covers only encrypted leaves.

use crate::tree::{time_seconds_only, Scalar};
use sha2::{Digest, Sha512};

/// SHA-256("sops"), the prefix of the `mac_only_encrypted` hash.
pub const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// A running MAC.
pub struct Mac {
    h: Sha512,
    only_encrypted: bool,
    /// A MAC over a later stretch of leaves, worked out on another thread: it keeps the bytes
    /// it would hash, for [`Mac::append`] to hash after the leaves before them.
    record: Option<zeroize::Zeroizing<Vec<u8>>>,
}

impl Mac {
    pub fn new(only_encrypted: bool) -> Mac {
        let mut h = Sha512::new();
        if only_encrypted {
            h.update(MAC_ONLY_ENCRYPTED_INIT);
        }
        Mac {
            h,
            only_encrypted,
            record: None,
        }
    }

    /// A MAC for leaves that come after this one's: the same rules, recorded, not hashed.
    pub fn later(&self) -> Mac {
        Mac {
            h: Sha512::new(),
            only_encrypted: self.only_encrypted,
            record: Some(zeroize::Zeroizing::new(Vec::new())),
        }
    }

    /// Hash what `later` (made by [`Mac::later`]) recorded, as if its leaves came now.
    pub fn append(&mut self, later: Mac) {
        if let Some(r) = later.record {
            self.update(&r);
        }
    }

    fn update(&mut self, b: &[u8]) {
        match &mut self.record {
            Some(r) => r.extend_from_slice(b),
            None => self.h.update(b),
        }
    }

    /// Add one leaf. `encrypted` says whether it is (or will be) sealed.
    pub fn add(&mut self, value: &Scalar, encrypted: bool) {
        if value.is_comment() || (self.only_encrypted && !encrypted) {
            return;
        }
        // The common types hash their text directly (no copy per leaf).
        match value {
            Scalar::Str(s) | Scalar::Time(s) => self.update(s.as_bytes()),
            Scalar::Raw(b) | Scalar::Bytes(b) => self.update(b),
            Scalar::Bool(true) => self.update(b"True"),
            Scalar::Bool(false) => self.update(b"False"),
            other => self.update(&other.mac_bytes()),
        }
    }

    /// The digest as 128 uppercase hex characters.
    pub fn finish(self) -> String {
        let d = self.h.finalize();
        let mut s = String::with_capacity(128);
        for b in d {
            s.push_str(&format!("{b:02X}"));
        }
        s
    }
}

/// The MAC's AAD: `lastmodified` re-formatted as Go `time.RFC3339` (whole seconds, `Z` for UTC).
pub fn mac_aad(lastmodified: &str) -> String {
    time_seconds_only(lastmodified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Sha256;

    #[test]
    fn init_constant_is_sha256_of_sops() {
        assert_eq!(Sha256::digest(b"sops").as_slice(), &MAC_ONLY_ENCRYPTED_INIT);
    }

    #[test]
    fn mac_hashes_values_without_separators() {
        let mut m = Mac::new(false);
        m.add(&Scalar::Str("a".into()), true);
        m.add(&Scalar::Comment("ignored".into()), true);
        m.add(&Scalar::Bool(true), false);
        m.add(&Scalar::Float("2.50".into()), true);
        let expect: String = Sha512::digest(b"aTrue2.5")
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        assert_eq!(m.finish(), expect);
    }

    #[test]
    fn aad_normalises_time() {
        assert_eq!(
            mac_aad("2026-11-29T00:20:35.999+00:00"),
            "2026-11-29T00:20:35Z"
        );
    }
}
