//! Key backends: the master keys that wrap a file's data key.
//!
//! [`KeyRef`] names a master key by its public identifiers only (a recipient, a fingerprint, an
//! ARN…), never by secret material. A [`Backend`] wraps and unwraps the data key (or a Shamir
//! share) for the keys of its kind; [`KeyService`] holds every backend this build has and is the
//! only thing the engine talks to, so a remote key service can slot in later without touching
//! the core. Everything else veil knows about a kind — its metadata fields, its `.sops.yaml`
//! and flag syntax, its env var, its identity, its report text — is in the registry, [`kind`].
//! Matching on the key kind happens in this module tree (and in building the registry's
//! metadata entries), nowhere else: `metadata`, `config`, `engine` and the commands loop over
//! [`kind::REGISTRY`].
//!
//! # Adding a key backend
//!
//! 1. A [`KeyRef`] variant, and `src/keys/kind/<name>.rs`: a unit struct implementing
//!    [`kind::KeyKind`] (metadata name and field layout, `.sops.yaml` fields and entry syntax,
//!    parsing of one flag value, `SOPS_*` env var, identity), plus its arm in [`kind::of`].
//!    It is always compiled, so files naming the kind stay readable in every build.
//! 2. `src/keys/<backend>.rs`: the [`Backend`] (wrap/unwrap), behind a cargo feature, returned
//!    by the kind's [`kind::KeyKind::backend`].
//! 3. One line in [`kind::REGISTRY`] (with its place in sops's config and flag orders).
//! 4. Its flags in `cli/args.rs` (`--x`, `--add-x`, `--rm-x`) and their slot in
//!    `config::CliKeys`; what the values mean comes from the registry.
//! 5. Tests: metadata round trip, `.sops.yaml` parsing, and the backend against a real peer.

pub mod age;
#[cfg(feature = "aws-kms")]
pub mod aws_kms;
#[cfg(feature = "azure-kv")]
pub mod azure_kv;
#[cfg(feature = "gcp-kms")]
pub mod gcp_kms;
#[cfg(feature = "hckms")]
pub mod hckms;
pub mod kind;
#[cfg(feature = "pgp")]
pub mod pgp;
pub mod unwrap_cache;
#[cfg(feature = "vault")]
pub mod vault;

use crate::error::{Error, Outcome, Result};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// A master key, by its public identifiers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyRef {
    /// An age recipient: `age1…`, an `ssh-ed25519`/`ssh-rsa` public key line (kept verbatim,
    /// comment included, as sops does) or a plugin recipient.
    Age { recipient: String },
    /// A PGP key fingerprint (spaces removed).
    Pgp { fingerprint: String },
    /// AWS KMS: key ARN, optional role to assume, encryption context, profile.
    Kms {
        arn: String,
        role: String,
        context: BTreeMap<String, String>,
        aws_profile: String,
    },
    /// GCP Cloud KMS crypto key resource id.
    GcpKms { resource_id: String },
    /// Azure Key Vault key.
    AzureKv {
        vault_url: String,
        name: String,
        version: String,
    },
    /// HashiCorp Vault / OpenBao transit key.
    HcVault {
        address: String,
        engine_path: String,
        key_name: String,
    },
    /// Huawei Cloud KMS key (`region:uuid`).
    Hckms { key_id: String },
}

impl KeyRef {
    /// The kind's name as in sops's metadata and `--decryption-order` (`age`, `pgp`, `kms`…).
    pub fn kind(&self) -> &'static str {
        kind::of(self).name()
    }

    /// The key's name as sops prints it in a decryption failure report: the recipient,
    /// fingerprint, `ARN[+ROLE][|k:v,…][|PROFILE]`, resource id, or key URL.
    pub fn sops_name(&self) -> String {
        kind::of(self).sops_name(self)
    }

    /// sops's key identity (`MasterKey.ToString()`): what key groups are de-duplicated and
    /// compared by, within one kind.
    pub fn identity(&self) -> String {
        kind::of(self).identity(self)
    }

    /// A one-line public description for reports, e.g. `age age1…`.
    pub fn describe(&self) -> String {
        kind::of(self).describe(self)
    }

    /// Give a kms key the command line's `--encryption-context` (sops does so for the flat
    /// `kms` keys of a creation rule); other kinds have no context.
    pub fn set_encryption_context(&mut self, ctx: &BTreeMap<String, String>) {
        if let KeyRef::Kms { context, .. } = self {
            *context = ctx.clone();
        }
    }
}

/// A master key as stored in a file: which key, the wrapped secret, and when it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedKey {
    pub key: KeyRef,
    /// The wrapped data key (or share) exactly as stored in `enc`.
    pub enc: String,
    /// `created_at` (RFC 3339), absent for age.
    pub created_at: Option<String>,
}

/// The secret a master key wraps: the 32-byte data key, or a 33-byte Shamir share.
pub type Secret = Zeroizing<Vec<u8>>;

/// One kind of master key.
pub trait Backend {
    /// The kind this backend handles (`KeyRef::kind`).
    fn kind(&self) -> &'static str;
    /// Wrap `secret` for `key`; returns the text stored in `enc`.
    fn wrap(&self, key: &KeyRef, secret: &[u8]) -> Result<String>;
    /// Unwrap `enc`: `Ok` holds the secret. `Err(Outcome::NoIdentity)` means "not mine / no
    /// identity or credential here" (the next key is tried, quietly); `Err(Outcome::Failed)`
    /// means the key was ours and failed (wrong key, server error), which the report shows.
    fn unwrap(&self, key: &KeyRef, enc: &str) -> std::result::Result<Secret, Outcome>;
    /// The key as it must be recorded before wrapping, when the user's form is incomplete
    /// (an Azure key without a version is resolved to its newest one, as sops does); `None`
    /// when it is complete.
    fn resolve(&self, key: &KeyRef) -> Result<Option<KeyRef>> {
        let _ = key;
        Ok(None)
    }
    /// Load identities now rather than at the first unwrap (a long-running process, `veil
    /// agent`, does it at its start, while it can still prompt on the terminal).
    fn unlock(&self) {}
}

/// A key service that wraps and unwraps for every kind of key: a remote one (`--keyservice`),
/// which holds the identities and credentials itself.
pub trait Remote {
    /// The service's address, for reports.
    fn name(&self) -> String;
    fn wrap(&self, key: &KeyRef, secret: &[u8]) -> Result<String>;
    fn unwrap(&self, key: &KeyRef, enc: &str) -> std::result::Result<Secret, Outcome>;
}

/// What the caller knows from the user for this run, as opposed to what a file says.
#[derive(Clone, Debug, Default)]
pub struct LocalOptions {
    /// Vault addresses the user named (`--hc-vault-transit`, creation rules): the Vault token
    /// may be sent there, besides `VAULT_ADDR` and `SOPS_HC_VAULT_ALLOWLIST`. Addresses read
    /// from a file's metadata must never be put here.
    pub vault_addresses: Vec<String>,
    /// Azure Key Vault URLs the user named (`--azure-kv`, creation rules): a Key Vault token
    /// may be sent there besides Azure's own domains. Never URLs read from a file.
    pub azure_vault_urls: Vec<String>,
}

impl LocalOptions {
    /// The Vault addresses of the given key groups (built from flags or config, not a file).
    pub fn trusting_groups(groups: &[Vec<KeyRef>]) -> LocalOptions {
        let mut vault_addresses: Vec<String> = Vec::new();
        let mut azure_vault_urls: Vec<String> = Vec::new();
        for k in groups.iter().flatten() {
            if let KeyRef::HcVault { address, .. } = k {
                if !vault_addresses.contains(address) {
                    vault_addresses.push(address.clone());
                }
            }
            if let KeyRef::AzureKv { vault_url, .. } = k {
                if !azure_vault_urls.contains(vault_url) {
                    azure_vault_urls.push(vault_url.clone());
                }
            }
        }
        LocalOptions {
            vault_addresses,
            azure_vault_urls,
        }
    }
}

/// Every backend this build has; the engine's only door to keys.
///
/// Like sops, it tries this machine's backends first (unless `--enable-local-keyservice=false`)
/// and then each `--keyservice`, in order; the first that wraps or unwraps a key wins.
#[derive(Default)]
pub struct KeyService {
    backends: Vec<Box<dyn Backend>>,
    remotes: Vec<Box<dyn Remote>>,
    /// `veil agent`: tried first for unwrapping only (never given a plaintext to wrap).
    agent: Option<Box<dyn Remote>>,
    /// Set by commands that open several files ([`KeyService::with_unwrap_cache`]).
    cache: Option<unwrap_cache::UnwrapCache>,
}

impl KeyService {
    pub fn new() -> KeyService {
        KeyService::default()
    }

    /// The local key service with every backend built in, reading identities from the
    /// environment once, now.
    pub fn local() -> KeyService {
        KeyService::local_with(&LocalOptions::default())
    }

    /// The local key service for a command that wraps the data key for `named`: the key groups
    /// the user gave this run (key flags, `.sops.yaml` rules), never keys read from a file.
    /// Vault servers among them may receive the token. Every command that takes keys from the
    /// user (`encrypt`, `edit` of a new file, `rotate --add-*`, `groups add`, `updatekeys`)
    /// builds its service here, so a URL named on the command line is allowed the same way in
    /// each of them.
    pub fn trusting(named: &[Vec<KeyRef>]) -> KeyService {
        KeyService::local_with(&LocalOptions::trusting_groups(named))
    }

    /// [`KeyService::local`] with options the caller knows from the user (not from a file),
    /// plus the key services the command line named (`--keyservice`, after the local ones).
    pub fn local_with(opts: &LocalOptions) -> KeyService {
        #[cfg(feature = "keyservice")]
        {
            let svcs = crate::keyservice::configured();
            let mut ks = if svcs.local {
                KeyService::backends_only(opts)
            } else {
                KeyService::new()
            };
            for e in svcs.remote {
                ks.add_remote(Box::new(crate::keyservice::client::RemoteKeyService::new(
                    e,
                )));
            }
            // The agent unwraps with this machine's keys, so it goes with the local service.
            if svcs.local {
                if let Some(a) = crate::keyservice::agent::client::from_env() {
                    ks.agent = Some(Box::new(a));
                }
            }
            ks
        }
        #[cfg(not(feature = "keyservice"))]
        KeyService::backends_only(opts)
    }

    /// This machine's backends alone, never a remote key service (what a key service server
    /// answers with).
    pub fn backends_only(opts: &LocalOptions) -> KeyService {
        let mut ks = KeyService::new();
        for r in &kind::REGISTRY {
            if let Some(b) = r.kind.backend(opts) {
                ks.add(b);
            }
        }
        ks
    }

    pub fn add_remote(&mut self, r: Box<dyn Remote>) {
        self.remotes.push(r);
    }

    pub fn add(&mut self, b: Box<dyn Backend>) {
        self.backends.push(b);
    }

    fn backend(&self, kind: &str) -> Option<&dyn Backend> {
        self.backends
            .iter()
            .find(|b| b.kind() == kind)
            .map(|b| b.as_ref())
    }

    pub fn wrap(&self, key: &KeyRef, secret: &[u8]) -> Result<String> {
        let mut first_err = None;
        if let Some(b) = self.backend(key.kind()) {
            match b.wrap(key, secret) {
                Ok(enc) => return Ok(enc),
                Err(e) if self.remotes.is_empty() => return Err(e),
                Err(e) => first_err = Some(e),
            }
        }
        for r in &self.remotes {
            match r.wrap(key, secret) {
                Ok(enc) => return Ok(enc),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        Err(first_err.unwrap_or_else(|| {
            if self.backends.is_empty() {
                Error::new(
                    crate::error::Code::CouldNotRetrieveKey,
                    format!("no key service to wrap the data key for {}", key.describe()),
                )
                .hint("the local key service is disabled (--enable-local-keyservice=false): name one with --keyservice")
            } else {
                Error::new(
                    crate::error::Code::CouldNotRetrieveKey,
                    format!(
                        "{} keys are not supported by this veil build yet",
                        key.kind()
                    ),
                )
                .hint("use an age key (--age) for now, or a sops build for this key type")
            }
        }))
    }

    /// [`Backend::unlock`] every backend.
    pub fn unlock(&self) {
        for b in &self.backends {
            b.unlock();
        }
    }

    /// The key as it will be recorded (see [`Backend::resolve`]); unchanged when its backend
    /// has nothing to resolve or is not built in (wrapping then reports that).
    pub fn resolve(&self, key: &KeyRef) -> Result<KeyRef> {
        match self.backend(key.kind()) {
            Some(b) => Ok(b.resolve(key)?.unwrap_or_else(|| key.clone())),
            None => Ok(key.clone()),
        }
    }

    /// [`KeyService::resolve`] for every key of some groups.
    pub fn resolve_groups(&self, groups: &[Vec<KeyRef>]) -> Result<Vec<Vec<KeyRef>>> {
        groups
            .iter()
            .map(|g| g.iter().map(|k| self.resolve(k)).collect())
            .collect()
    }

    /// Remember every secret this service unwraps, for the rest of the command, so a wrapped
    /// key met again (copies, `--reuse-from` files) is not sent to its backend twice (see
    /// [`unwrap_cache`]).
    pub fn with_unwrap_cache(mut self) -> KeyService {
        self.cache = Some(unwrap_cache::UnwrapCache::default());
        self
    }

    pub fn unwrap(&self, key: &KeyRef, enc: &str) -> std::result::Result<Secret, Outcome> {
        let Some(cache) = &self.cache else {
            return self.unwrap_uncached(key, enc);
        };
        if let Some(s) = cache.get(key, enc) {
            return Ok(s);
        }
        let s = self.unwrap_uncached(key, enc)?;
        cache.put(key, enc, &s);
        Ok(s)
    }

    fn unwrap_uncached(&self, key: &KeyRef, enc: &str) -> std::result::Result<Secret, Outcome> {
        // The agent first; whatever keeps it from answering, the usual order follows (its
        // reason is a --verbose line, not part of a failure report).
        if let Some(Ok(s)) = self.agent.as_ref().map(|a| a.unwrap(key, enc)) {
            return Ok(s);
        }
        let mut outcome = match self.backend(key.kind()) {
            Some(b) => match b.unwrap(key, enc) {
                Ok(s) => return Ok(s),
                Err(o) => o,
            },
            None if self.backends.is_empty() && self.remotes.is_empty() => Outcome::NoIdentity(
                "the local key service is disabled and no --keyservice was given".into(),
            ),
            None => Outcome::Unsupported,
        };
        for r in &self.remotes {
            match r.unwrap(key, enc) {
                Ok(s) => return Ok(s),
                // A failure says more than "no identity here" or "not built in".
                Err(o @ Outcome::Failed(_)) if !matches!(outcome, Outcome::Failed(_)) => {
                    outcome = o
                }
                Err(_) => {}
            }
        }
        Err(outcome)
    }
}

#[cfg(test)]
mod secret_debug_tests {
    //! docs/architecture.md rule 1: `Debug` of every type that holds key material or credentials shows none.

    #[test]
    fn debug_of_secret_holders_shows_no_material() {
        let key = crate::crypto::data_key::DataKey::from_slice(&[0x5a; 32]).unwrap();
        let cipher =
            crate::crypto::value::ValueCipher::new(&key, crate::crypto::value::Cipher::Aes256Gcm);
        #[cfg_attr(not(feature = "vault"), allow(unused_mut))]
        let mut shown = vec![format!("{key:?}"), format!("{cipher:?}")];
        #[cfg(feature = "vault")]
        {
            let v = super::vault::VaultBackend::new(
                Some("s.sekrit-vault-token-123".into()),
                None,
                Default::default(),
                Default::default(),
            );
            shown.push(format!("{v:?}"));
        }
        for s in &shown {
            assert!(
                !s.contains("5a5a") && !s.contains("90, 90"),
                "key bytes in {s}"
            );
            assert!(!s.contains("sekrit"), "token in {s}");
        }
    }
}
