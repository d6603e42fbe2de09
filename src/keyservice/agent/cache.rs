//! The agent's cache of unwrapped data keys (or Shamir shares), in memory only.
//!
//! An entry is found by a SHA-256 of the wrapped key as a request names it: the key's kind,
//! every field of the key (for KMS the ARN, role, each context pair and the profile; for
//! Vault the address, engine path and key name), each length-prefixed, and the wrapped bytes.
//! Not the key's printed name: `ARN|a:b,c:d` is the same text for the context `{a: "b,c:d"}`
//! and `{a: b, c: d}`, and a hit for one must not answer a request for the other (KMS would
//! refuse it). The hash is stored, not the wrapped key. The value is a
//! zeroizing buffer, wiped when the entry expires (the worker's timer), is evicted (the oldest
//! goes when `max_entries` is reached), on `veil agent stop`, and by the signal thread on
//! SIGINT/SIGTERM ([`wipe_all`], registered as a cleanup).
//!
//! Entries expire a fixed TTL after they were unwrapped; a hit does not extend them (unlike
//! gpg-agent's default), so a key revoked in KMS stops working through the agent after at most
//! one TTL. The cache lives in one process-wide lock, held only for lookups and updates (never
//! while a key is being unwrapped), so the signal thread can always take it.

use crate::keys::kind::Field;
use crate::keys::{KeyRef, Secret};
use sha2::{Digest, Sha256};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// One cached secret.
struct Entry {
    hash: [u8; 32],
    kind: &'static str,
    /// The key's public name (status shows it).
    id: String,
    inserted: Instant,
    expires: Instant,
    secret: Secret,
}

/// The cached secrets and their limits.
pub struct Cache {
    entries: Vec<Entry>,
    ttl: Duration,
    max_entries: usize,
}

/// What `status` shows of one entry: never the secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    pub kind: String,
    pub id: String,
    pub expires_in: Duration,
}

static CACHE: Mutex<Cache> = Mutex::new(Cache {
    entries: Vec::new(),
    ttl: Duration::from_secs(900),
    max_entries: 0,
});

/// The process's cache.
pub fn cache() -> MutexGuard<'static, Cache> {
    CACHE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Wipe every entry (a signal cleanup: takes the lock, which is never held for long).
pub fn wipe_all() {
    cache().clear();
}

/// The lookup hash of a wrapped key: its kind, each of its fields by name, and the wrapped
/// bytes, every part length-prefixed so that no two keys share an input.
pub fn hash(key: &KeyRef, wrapped: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut part = |b: &[u8]| {
        h.update((b.len() as u64).to_be_bytes());
        h.update(b);
    };
    part(key.kind().as_bytes());
    for (name, field) in crate::keys::kind::of(key).layout(key) {
        match field {
            Field::Text(v) | Field::TextIfSet(v) => {
                part(name.as_bytes());
                part(v.as_bytes());
            }
            Field::Map(m) => {
                part(name.as_bytes());
                part(&(m.len() as u64).to_be_bytes());
                for (k, v) in m {
                    part(k.as_bytes());
                    part(v.as_bytes());
                }
            }
            // Not part of the key a request names.
            Field::CreatedAt | Field::Enc => {}
        }
    }
    part(wrapped);
    h.finalize().into()
}

impl Cache {
    /// Set the limits (at the agent's start).
    pub fn configure(&mut self, ttl: Duration, max_entries: usize) {
        self.ttl = ttl;
        self.max_entries = max_entries;
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A copy of the secret cached under `hash`, if it has not expired.
    pub fn get(&self, hash: &[u8; 32], now: Instant) -> Option<Secret> {
        self.entries
            .iter()
            .find(|e| &e.hash == hash && e.expires > now)
            .map(|e| e.secret.clone())
    }

    /// Cache a secret (replacing one under the same hash), evicting the oldest entries beyond
    /// the limit.
    pub fn insert(&mut self, hash: [u8; 32], key: &KeyRef, secret: &[u8], now: Instant) {
        if self.max_entries == 0 || self.ttl.is_zero() {
            return;
        }
        // A TTL too long to add to now (the command line caps it well below) caches nothing.
        let Some(expires) = now.checked_add(self.ttl) else {
            return;
        };
        self.entries.retain(|e| e.hash != hash);
        while self.entries.len() >= self.max_entries {
            let oldest = self
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.inserted)
                .map(|(i, _)| i)
                .expect("not empty");
            // Dropping the entry wipes its secret.
            self.entries.swap_remove(oldest);
        }
        let mut value = Secret::new(Vec::with_capacity(secret.len()));
        value.extend_from_slice(secret);
        self.entries.push(Entry {
            hash,
            kind: key.kind(),
            id: key.sops_name(),
            inserted: now,
            expires,
            secret: value,
        });
    }

    /// Drop (and wipe) the entries that have expired; the time of the next expiry.
    pub fn expire(&mut self, now: Instant) -> Option<Instant> {
        self.entries.retain(|e| e.expires > now);
        self.entries.iter().map(|e| e.expires).min()
    }

    /// Drop (and wipe) every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.entries.shrink_to_fit();
    }

    /// The entries as `status` shows them, soonest expiry first.
    pub fn shown(&self, now: Instant) -> Vec<Shown> {
        let mut v: Vec<Shown> = self
            .entries
            .iter()
            .map(|e| Shown {
                kind: e.kind.to_string(),
                id: e.id.clone(),
                expires_in: e.expires.saturating_duration_since(now),
            })
            .collect();
        v.sort_by_key(|s| s.expires_in);
        v
    }
}

/// The limits and each entry's kind, name and expiry: never a secret (nor its hash), so a
/// cache in a debug line or a panic message gives nothing away.
impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("ttl", &self.ttl)
            .field("max_entries", &self.max_entries)
            .field("entries", &self.entries)
            .finish()
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("expires", &self.expires)
            .field("secret", &format_args!("<{} bytes>", self.secret.len()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: &str) -> KeyRef {
        KeyRef::Age {
            recipient: format!("age1{n}"),
        }
    }

    fn fresh(ttl: u64, max: usize) -> Cache {
        let mut c = Cache {
            entries: Vec::new(),
            ttl: Duration::ZERO,
            max_entries: 0,
        };
        c.configure(Duration::from_secs(ttl), max);
        c
    }

    #[test]
    fn the_hash_depends_on_kind_name_and_wrapped_bytes() {
        let a = hash(&key("a"), b"x");
        assert_ne!(a, hash(&key("b"), b"x"));
        assert_ne!(a, hash(&key("a"), b"y"));
        let kms = KeyRef::Kms {
            arn: "age1a".into(),
            role: String::new(),
            context: Default::default(),
            aws_profile: String::new(),
        };
        assert_ne!(a, hash(&kms, b"x"));
        assert_eq!(a, hash(&key("a"), b"x"));
    }

    #[test]
    fn entries_expire_after_the_ttl_and_are_not_returned() {
        let mut c = fresh(10, 8);
        let t0 = Instant::now();
        let h = hash(&key("a"), b"w");
        c.insert(h, &key("a"), &[7; 32], t0);
        assert_eq!(c.get(&h, t0).as_deref().map(|v| v.len()), Some(32));
        assert_eq!(c.expire(t0), Some(t0 + Duration::from_secs(10)));
        let later = t0 + Duration::from_secs(11);
        assert!(c.get(&h, later).is_none());
        assert_eq!(c.expire(later), None);
        assert!(c.is_empty());
    }

    #[test]
    fn the_oldest_entry_is_evicted_at_the_limit() {
        let mut c = fresh(100, 2);
        let t0 = Instant::now();
        let hs: Vec<_> = ["a", "b", "c"]
            .iter()
            .map(|n| hash(&key(n), b"w"))
            .collect();
        for (i, (h, n)) in hs.iter().zip(["a", "b", "c"]).enumerate() {
            c.insert(
                *h,
                &key(n),
                &[i as u8; 32],
                t0 + Duration::from_secs(i as u64),
            );
        }
        assert_eq!(c.len(), 2);
        assert!(c.get(&hs[0], t0).is_none(), "the oldest went");
        assert!(c.get(&hs[2], t0).is_some());
    }

    #[test]
    fn status_shows_kind_name_and_expiry() {
        let mut c = fresh(60, 4);
        let t0 = Instant::now();
        c.insert(hash(&key("a"), b"w"), &key("a"), &[0x5a; 32], t0);
        let shown = c.shown(t0);
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].kind, "age");
        assert_eq!(shown[0].id, "age1a");
        assert_eq!(shown[0].expires_in, Duration::from_secs(60));
    }

    #[test]
    fn debug_of_a_cache_holding_a_key_shows_no_key_bytes() {
        let mut c = fresh(60, 4);
        let secret: Vec<u8> = (0xa0..0xc0).collect();
        c.insert(hash(&key("a"), b"w"), &key("a"), &secret, Instant::now());
        let shown = format!("{c:?}");
        assert!(shown.contains("age1a"), "the entry is listed: {shown}");
        assert!(shown.contains("<32 bytes>"), "{shown}");
        // How a Vec<u8> (or Zeroizing of one) prints: decimal, comma-separated.
        for b in [&secret[..2], &secret[30..]] {
            let form = format!("{}, {}", b[0], b[1]);
            assert!(!shown.contains(&form), "{form} in {shown}");
        }
    }

    fn kms(context: &[(&str, &str)], profile: &str) -> KeyRef {
        KeyRef::Kms {
            arn: "arn:aws:kms:us-east-1:111122223333:key/k".into(),
            role: String::new(),
            context: context
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            aws_profile: profile.into(),
        }
    }

    #[test]
    fn keys_with_the_same_printed_name_do_not_share_a_cache_entry() {
        // A hit for one must not answer a request for the other: KMS would refuse it.
        let pairs = [
            // One context value with a comma, or two pairs.
            (
                kms(&[("a", "b,c:d")], ""),
                kms(&[("a", "b"), ("c", "d")], ""),
            ),
            // A context value ending in `|p`, or a profile `p`.
            (kms(&[("a", "b|p")], ""), kms(&[("a", "b")], "p")),
        ];
        for (x, y) in pairs {
            assert_eq!(x.sops_name(), y.sops_name(), "the names do collide");
            assert_ne!(hash(&x, b"w"), hash(&y, b"w"), "{x:?} / {y:?}");
            let mut c = fresh(60, 4);
            let t0 = Instant::now();
            c.insert(hash(&x, b"w"), &x, &[1; 32], t0);
            assert!(c.get(&hash(&y, b"w"), t0).is_none(), "{y:?}");
        }
        // A role is part of the key too.
        let mut with_role = kms(&[], "");
        if let KeyRef::Kms { role, .. } = &mut with_role {
            *role = "arn:aws:iam::111122223333:role/r".into();
        }
        assert_ne!(hash(&with_role, b"w"), hash(&kms(&[], ""), b"w"));
    }

    #[test]
    fn a_ttl_too_long_to_add_to_now_caches_nothing_and_does_not_panic() {
        let mut c = fresh(60, 4);
        c.configure(Duration::MAX, 4);
        let t0 = Instant::now();
        let h = hash(&key("a"), b"w");
        c.insert(h, &key("a"), &[7; 32], t0);
        assert!(c.is_empty());
        assert_eq!(c.expire(t0), None);
    }
}
