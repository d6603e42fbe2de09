//! Unwrapped data keys (or Shamir shares) remembered for the rest of one command, keyed by the
//! master key and the wrapped bytes exactly as stored.
//!
//! A command that opens several files (`decrypt A B C`, `exec-env A B -- …`, `decrypt -r`) often
//! meets the same wrapped data key more than once: copies of a file, or files made with
//! `encrypt --reuse-from`. Asking KMS (or gpg, or a passphrase prompt) again for bytes it has
//! already answered costs a round trip and gains nothing. The cache lives in the process only
//! (never on disk, never shared), holds only what a backend returned for the very same master
//! key and ciphertext, remembers no failure, and wipes every secret when it is dropped
//! ([`Secret`] is zeroizing).
//!
//! It must not widen what a file can open: an entry is found only for an identical master key
//! (kind, identifiers, KMS context, role and profile included) and identical wrapped bytes, so
//! a file gets back exactly what the backend would have answered for it.

use super::{KeyRef, Secret};
use std::sync::Mutex;

/// See the module doc. `Sync`, so a service shared by worker threads can hold one.
#[derive(Default)]
pub struct UnwrapCache {
    entries: Mutex<Vec<(KeyRef, String, Secret)>>,
}

impl UnwrapCache {
    /// The secret unwrapped before for `key` and `enc`, if any.
    pub fn get(&self, key: &KeyRef, enc: &str) -> Option<Secret> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .iter()
            .find(|(k, e, _)| e == enc && k == key)
            .map(|(_, _, s)| s.clone())
    }

    /// Remember what `key` unwrapped `enc` to.
    pub fn put(&self, key: &KeyRef, enc: &str, secret: &Secret) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if !entries.iter().any(|(k, e, _)| e == enc && k == key) {
            entries.push((key.clone(), enc.to_string(), secret.clone()));
        }
    }

    /// How many secrets it holds.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    fn age(r: &str) -> KeyRef {
        KeyRef::Age {
            recipient: r.into(),
        }
    }

    #[test]
    fn found_only_for_the_same_key_and_the_same_bytes() {
        let c = UnwrapCache::default();
        c.put(&age("age1a"), "WRAPPED", &Zeroizing::new(vec![7; 32]));
        assert_eq!(
            c.get(&age("age1a"), "WRAPPED").unwrap().as_slice(),
            &[7; 32]
        );
        assert!(c.get(&age("age1b"), "WRAPPED").is_none());
        assert!(c.get(&age("age1a"), "WRAPPED2").is_none());
        c.put(&age("age1a"), "WRAPPED", &Zeroizing::new(vec![7; 32]));
        assert_eq!(c.len(), 1);
    }
}
