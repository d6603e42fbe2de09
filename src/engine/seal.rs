//! Sealing: encrypting a plaintext document's selected leaves with the data key, each under its
//! path as AAD, and computing the MAC over every leaf on the way. [`LeafSealer`] is the one
//! place that decides what is sealed and what enters the MAC; the tree walk here and the
//! streaming writers both drive it. It never writes a file and never sees syntax.

use super::{apply_edits, reauthenticate, wrap_groups, Context, IvStash};
use crate::crypto::data_key::DataKey;
use crate::crypto::mac::{mac_aad, Mac};
use crate::crypto::value::{is_enc, Cipher, ValueCipher};
use crate::error::{Code, Error, Result, EMPTY_KEY_GROUP};
use crate::format::{Edit, Parsed};
use crate::keys::{KeyRef, KeyService};
use crate::metadata::{Metadata, Rule, SOPS_FORMAT_VERSION};
use crate::tree::{walk_leaves_aad, Scalar, Value};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// What to encrypt with.
#[derive(Clone, Debug, Default)]
pub struct EncryptOptions {
    pub key_groups: Vec<Vec<KeyRef>>,
    pub shamir_threshold: usize,
    pub rule: Rule,
    pub mac_only_encrypted: bool,
    pub cipher: Cipher,
    /// Write veil's integrity field (`.sops.yaml` `veil_integrity: true` or `--integrity`).
    pub integrity: bool,
}

/// The result of encrypting: one edit per leaf and the metadata to append.
pub struct Encrypted {
    pub edits: Vec<Edit>,
    pub metadata: Metadata,
    /// With [`EncryptOptions::integrity`]: the key to re-tag the file with when it is written
    /// in another format than it was read in (whose reader sees another tree, e.g. no comments).
    pub integrity_key: Option<crate::crypto::integrity::IntegrityKey>,
}

/// sops 3.13's message for encrypting an encrypted file, word for word and wrapped at 75
/// columns as sops wraps it (scripts match its first line; sops's tests compare all of it).
pub const FILE_ALREADY_ENCRYPTED: &str =
    "The file you have provided contains a top-level entry called 'sops', or for
flat file formats top-level entries starting with 'sops_'. This is
generally due to the file already being encrypted. SOPS uses a top-level
entry called 'sops' to store the metadata required to decrypt the file. For
this reason, SOPS can not encrypt files that already contain such an entry.

If this is an unencrypted file, rename the 'sops' entry.

If this is an encrypted file and you want to edit it, use the editor mode,
for example: `sops edit my_file.yaml`";

/// Encrypt a parsed plaintext document.
pub fn encrypt(
    parsed: &dyn Parsed,
    opts: &EncryptOptions,
    keys: &KeyService,
    ctx: &mut Context,
) -> Result<Encrypted> {
    if parsed.metadata().is_some() {
        return Err(already_encrypted());
    }
    check_key_groups(opts)?;
    let docs = parsed.docs();
    let data_key = DataKey::generate(&mut ctx.rng);
    let sealed = seal_leaves(
        docs,
        &opts.rule,
        opts.mac_only_encrypted,
        opts.cipher,
        &data_key,
        &mut IvStash::default(),
        ctx,
    )?;
    let mut metadata = new_metadata(&data_key, opts, keys, ctx, sealed.lastmodified, sealed.mac)?;
    let integrity_key = if opts.integrity {
        let docs = apply_edits(docs, &sealed.edits);
        reauthenticate(&mut metadata, &docs, &data_key);
        Some(crate::crypto::integrity::IntegrityKey::derive(&data_key))
    } else {
        None
    };
    Ok(Encrypted {
        edits: sealed.edits,
        metadata,
        integrity_key,
    })
}

/// The error for encrypting a file that already has sops metadata (exit 203).
pub fn already_encrypted() -> Error {
    Error::new(Code::FileAlreadyEncrypted, FILE_ALREADY_ENCRYPTED)
        .hint("decrypt it first, or use `veil edit`/`veil rotate` to change it")
}

/// Encryption needs at least one key, and no empty group.
pub fn check_key_groups(opts: &EncryptOptions) -> Result<()> {
    if opts.key_groups.is_empty() || opts.key_groups.iter().any(|g| g.is_empty()) {
        return Err(Error::generic(EMPTY_KEY_GROUP).hint(
            "give at least one key per group, e.g. --age age1…, or a .sops.yaml creation rule",
        ));
    }
    Ok(())
}

/// The metadata of a newly encrypted file: the data key wrapped for every group, the sealed
/// MAC and its `lastmodified`, and the rule it was encrypted with.
pub fn new_metadata(
    data_key: &DataKey,
    opts: &EncryptOptions,
    keys: &KeyService,
    ctx: &mut Context,
    lastmodified: String,
    mac: String,
) -> Result<Metadata> {
    let key_groups = wrap_for(data_key, opts, keys, ctx)?;
    Ok(metadata_with(key_groups, opts, lastmodified, mac))
}

/// The data key wrapped for every group of `opts`: the step of [`new_metadata`] that talks to
/// the key backends, for a caller that must know it succeeded before it writes anything.
pub fn wrap_for(
    data_key: &DataKey,
    opts: &EncryptOptions,
    keys: &KeyService,
    ctx: &mut Context,
) -> Result<Vec<Vec<crate::keys::WrappedKey>>> {
    let created_at = ctx.timestamp();
    wrap_groups(
        data_key,
        &opts.key_groups,
        opts.shamir_threshold,
        keys,
        &created_at,
        ctx,
    )
}

/// The metadata of a newly encrypted file from its already wrapped key groups.
pub fn metadata_with(
    key_groups: Vec<Vec<crate::keys::WrappedKey>>,
    opts: &EncryptOptions,
    lastmodified: String,
    mac: String,
) -> Metadata {
    Metadata {
        shamir_threshold: if key_groups.len() > 1 {
            if opts.shamir_threshold == 0 {
                key_groups.len()
            } else {
                opts.shamir_threshold
            }
        } else {
            0
        },
        key_groups,
        lastmodified,
        mac,
        rule: opts.rule.clone(),
        mac_only_encrypted: opts.mac_only_encrypted,
        version: SOPS_FORMAT_VERSION.to_string(),
        integrity: None,
    }
}

/// Sealed leaves: one edit per leaf, and the new `lastmodified` and sealed MAC.
pub struct Sealed {
    pub edits: Vec<Edit>,
    pub lastmodified: String,
    pub mac: String,
}

/// Seal the selected leaves of plaintext documents with `key`, reusing stashed IVs for values
/// that did not change, and compute the MAC. Used by encrypt, and by every command that
/// re-encrypts a decrypted file (edit, set, unset, rotate, the merge driver).
pub fn seal_leaves(
    docs: &[Value],
    rule: &Rule,
    mac_only_encrypted: bool,
    cipher_kind: Cipher,
    key: &DataKey,
    stash: &mut IvStash,
    ctx: &mut Context,
) -> Result<Sealed> {
    let mut sealer = LeafSealer::new(key, rule, mac_only_encrypted, cipher_kind, ctx)?;
    let selected = sealer.selector().encrypted_leaves(docs);
    let mut edits = Vec::new();
    let mut err = None;
    walk_leaves_aad(docs, |i, path, a, s| {
        if err.is_some() {
            return;
        }
        let enc = selected.get(i).copied().unwrap_or(false);
        match sealer.leaf(path, a, s, enc, Some(&mut *stash)) {
            Ok(Some(tok)) => edits.push(Edit::Seal(tok)),
            Ok(None) => edits.push(Edit::Keep),
            Err(e) => err = Some(e),
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    let (lastmodified, mac) = sealer.finish(ctx)?;
    Ok(Sealed {
        edits,
        lastmodified,
        mac,
    })
}

/// Seals one file's leaves one at a time, in walk order, and keeps the running MAC. The
/// tree-based [`seal_leaves`] and the streaming YAML path both go through it, so that what is
/// sealed, how, and what enters the MAC is decided in one place.
pub struct LeafSealer {
    selector: crate::select::Selector,
    cipher: ValueCipher,
    mac: Mac,
}

impl LeafSealer {
    pub fn new(
        key: &DataKey,
        rule: &Rule,
        mac_only_encrypted: bool,
        cipher_kind: Cipher,
        ctx: &mut Context,
    ) -> Result<LeafSealer> {
        let selector = crate::select::Selector::new(rule, mac_only_encrypted)?;
        let rng = ChaCha20Rng::from_rng(&mut ctx.rng).map_err(|_| Error::generic("rng failure"))?;
        Ok(LeafSealer {
            selector,
            cipher: ValueCipher::with_rng(key, cipher_kind, rng),
            mac: Mac::new(mac_only_encrypted),
        })
    }

    /// The compiled selection rule (which leaves are sealed).
    pub fn selector(&self) -> &crate::select::Selector {
        &self.selector
    }

    /// One leaf: `enc` is the selector's decision for it. Returns the `ENC[…]` token, or
    /// `None` when the leaf stays as it is. A stashed IV is reused when the value is unchanged.
    pub fn leaf<S: AsRef<str>>(
        &mut self,
        path: &[S],
        aad: &str,
        s: &Scalar,
        enc: bool,
        stash: Option<&mut IvStash>,
    ) -> Result<Option<String>> {
        self.mac.add(s, enc);
        if !enc {
            return Ok(None);
        }
        if let Scalar::Str(t) = s {
            if is_enc(t) {
                return Err(Error::new(
                    Code::ErrorEncryptingTree,
                    format!("the value at {aad} already looks encrypted"),
                )
                .hint("the file seems to hold values copied from an encrypted file; decrypt them first"));
            }
        }
        // Text values are sealed from where they are (no copy per leaf); the others through
        // their plaintext serialisation.
        let owned;
        let pt: &[u8] = match s {
            Scalar::Str(t) | Scalar::Comment(t) | Scalar::Time(t) | Scalar::Float(t) => {
                t.as_bytes()
            }
            _ => {
                owned = zeroize::Zeroizing::new(s.plaintext());
                &owned
            }
        };
        let iv = match stash {
            Some(st) if !st.is_empty() => st.take(s.type_name(), aad, pt),
            _ => None,
        };
        let tok = self
            .cipher
            .seal(pt, s.type_name(), aad.as_bytes(), iv.as_deref())?;
        if s.is_comment() {
            let owned: Vec<String> = path.iter().map(|k| k.as_ref().to_string()).collect();
            self.selector.check_sealed_comment(&tok, &owned)?;
        }
        Ok(Some(tok))
    }

    /// A sealer for a later stretch of the same file's leaves, to run on another thread: the
    /// same rule and key, its own IV stream (drawn from this one's), its MAC recorded for
    /// [`LeafSealer::append`].
    pub fn later(&mut self, key: &DataKey) -> Result<LeafSealer> {
        let rng =
            ChaCha20Rng::from_rng(self.cipher.rng()).map_err(|_| Error::generic("rng failure"))?;
        Ok(LeafSealer {
            selector: self.selector.clone(),
            cipher: ValueCipher::with_rng(key, self.cipher.cipher(), rng),
            mac: self.mac.later(),
        })
    }

    /// Take in the MAC of a later stretch sealed by `later`, once every leaf before it is in.
    pub fn append(&mut self, later: LeafSealer) {
        self.mac.append(later.mac);
    }

    /// The new `lastmodified` and the sealed MAC over every leaf seen.
    pub fn finish(mut self, ctx: &Context) -> Result<(String, String)> {
        let lastmodified = ctx.timestamp();
        let mac = self.cipher.seal(
            self.mac.finish().as_bytes(),
            "str",
            mac_aad(&lastmodified).as_bytes(),
            None,
        )?;
        Ok((lastmodified, mac))
    }
}
