//! The key and tag of veil's opt-in integrity field (see `metadata::integrity` for what it
//! covers): a 32-byte subkey derived from the file's data key with HKDF-SHA256, and
//! HMAC-SHA256 tags made with it.
//!
//! It exists so that the integrity tag never shares a key or construction with anything sops
//! does: values and the MAC are AES-GCM under the data key itself, with key paths and
//! `lastmodified` as AAD; the tag is a MAC under a derived key that is used for nothing else.
//! Whoever can decrypt the file can make a valid tag (there is no other secret), which is the
//! point: it proves the metadata was written by someone holding the data key. The subkey is
//! zeroized on drop and never printed.

use crate::crypto::data_key::DataKey;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// HKDF's `info`: names the purpose and the version of the manifest format.
const INFO: &[u8] = b"veil metadata integrity v1";
/// HKDF's salt (fixed: the data key is already uniformly random).
const SALT: &[u8] = b"veil";

/// The integrity subkey of one file.
#[derive(Clone)]
pub struct IntegrityKey(Zeroizing<[u8; 32]>);

impl IntegrityKey {
    /// Derive the subkey from the file's data key.
    pub fn derive(data_key: &DataKey) -> IntegrityKey {
        let hk = Hkdf::<Sha256>::new(Some(SALT), data_key.expose());
        let mut k = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's output limit, so this cannot fail.
        hk.expand(INFO, &mut k[..])
            .expect("HKDF-SHA256 gives 32 bytes");
        IntegrityKey(k)
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0[..]).expect("HMAC takes any key length")
    }

    /// The tag of `message`.
    pub fn tag(&self, message: &[u8]) -> [u8; 32] {
        let mut m = self.mac();
        m.update(message);
        m.finalize().into_bytes().into()
    }

    /// Whether `tag` is the tag of `message` (in constant time).
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        let mut m = self.mac();
        m.update(message);
        m.verify_slice(tag).is_ok()
    }
}

impl std::fmt::Debug for IntegrityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntegrityKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_tags_verify_and_depend_on_key_and_message() {
        let a = IntegrityKey::derive(&DataKey::from_slice(&[1; 32]).unwrap());
        let b = IntegrityKey::derive(&DataKey::from_slice(&[2; 32]).unwrap());
        let t = a.tag(b"manifest");
        assert!(a.verify(b"manifest", &t));
        assert!(!a.verify(b"manifesT", &t));
        assert!(!b.verify(b"manifest", &t));
        assert!(!a.verify(b"manifest", &t[..31]));
        // The subkey is not the data key: a tag under the data key itself differs.
        let raw = <Hmac<Sha256> as Mac>::new_from_slice(&[1; 32])
            .unwrap()
            .chain_update(b"manifest")
            .finalize()
            .into_bytes();
        assert_ne!(raw.as_slice(), &t[..]);
        assert_eq!(format!("{a:?}"), "IntegrityKey(<redacted>)");
    }
}
