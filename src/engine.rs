//! The engine: seal and open a parsed document's leaves, compute and check the MAC, wrap and
//! unwrap the data key. It sees only the format-neutral tree and edits, never syntax.
//!
//! Encrypt: select leaves → seal each with its path as AAD → MAC over every leaf → data key
//! wrapped for every master key (Shamir shares for several groups) → metadata.
//! Decrypt: metadata → unwrap the data key (any one key per group; combine groups) → check the
//! integrity field, if any → open every leaf the file's own rule seals (a leaf it leaves plain
//! stays a plain value, whatever it looks like) → recompute and check the MAC.
//! Changing a file: re-seal with the file's rule, never writing in plaintext a leaf the file
//! held sealed (`guard`), and re-authenticate the integrity field (`integrity`).
//!
//! The RNG and the clock come from [`Context`], so tests are deterministic.

use crate::crypto::data_key::DataKey;
use crate::crypto::mac::{mac_aad, Mac};
use crate::crypto::value::{is_enc, Cipher, EncValue, ValueCipher};
use crate::error::{wrap_words, Code, Error, KeyAttempt, Outcome, Result};
use crate::format::{Edit, Parsed};
use crate::keys::{KeyRef, KeyService, WrappedKey};
use crate::metadata::{Metadata, Rule, SOPS_FORMAT_VERSION};
use crate::tree::{aad, walk_leaves, walk_leaves_aad, walk_leaves_mut, Item, Scalar, Value};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

mod guard;
mod integrity;
pub use guard::SealedRecord;
pub use integrity::{check_integrity, reauthenticate, want_integrity};

/// Sources of randomness and time, passed in so that the core never calls a global.
pub struct Context {
    pub rng: ChaCha20Rng,
    pub now: time::OffsetDateTime,
}

impl Context {
    /// The real thing: an OS-seeded CSPRNG and the system clock.
    pub fn system() -> Context {
        Context {
            rng: ChaCha20Rng::from_entropy(),
            now: time::OffsetDateTime::now_utc(),
        }
    }

    /// `lastmodified`: UTC, whole seconds, RFC 3339.
    pub fn timestamp(&self) -> String {
        let t = self.now.to_offset(time::UtcOffset::UTC);
        crate::tree::format_time_go(t.replace_nanosecond(0).unwrap_or(t))
    }
}

/// sops's IV stash (spec 1.6), done better: IVs seen while opening, keyed by a digest of
/// (type, AAD, plaintext), kept *in order of occurrence*. Re-sealing an unchanged value reuses
/// its IV, so with the same data key its ciphertext is byte-identical and git shows no change.
/// Unlike sops, two equal values under one path keep their own IVs instead of collapsing onto
/// the last one. Only digests are kept, never plaintext.
///
/// A stash filled by opening a file also carries that file's [`SealedRecord`] (which paths
/// held sealed leaves), so that [`reseal`] — which every change to an encrypted file goes
/// through with that stash — can refuse to write any of them in plaintext.
#[derive(Default, Clone)]
pub struct IvStash {
    map: std::collections::HashMap<[u8; 32], std::collections::VecDeque<Vec<u8>>>,
    record: Option<SealedRecord>,
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
    fn note(&mut self, aad: &str, s: &Scalar, sealed: bool) {
        if let Some(r) = &mut self.record {
            r.note(aad, s, sealed);
        }
    }
}

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

/// The result of decrypting.
pub struct Decrypted {
    pub edits: Vec<Edit>,
    /// The documents with every leaf opened (for conversions, `--extract`, exec-env).
    pub docs: Vec<Value>,
    pub metadata: Metadata,
    pub data_key: DataKey,
    /// The IVs of every opened value, for stable re-encryption.
    pub stash: IvStash,
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
        return Err(
            Error::generic("Could not generate data key: [empty key group provided]").hint(
                "give at least one key per group, e.g. --age age1…, or a .sops.yaml creation rule",
            ),
        );
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
    let created_at = ctx.timestamp();
    let key_groups = wrap_groups(
        data_key,
        &opts.key_groups,
        opts.shamir_threshold,
        keys,
        &created_at,
        ctx,
    )?;
    Ok(Metadata {
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
    })
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
        let pt = zeroize::Zeroizing::new(s.plaintext());
        let iv = match stash {
            Some(st) if !st.is_empty() => st.take(s.type_name(), aad, &pt),
            _ => None,
        };
        let tok = self
            .cipher
            .seal(&pt, s.type_name(), aad.as_bytes(), iv.as_deref())?;
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

/// Wrap the data key (or its Shamir shares) for every key of every group.
pub fn wrap_groups(
    data_key: &DataKey,
    groups: &[Vec<KeyRef>],
    threshold: usize,
    keys: &KeyService,
    created_at: &str,
    ctx: &mut Context,
) -> Result<Vec<Vec<WrappedKey>>> {
    let shares: Vec<zeroize::Zeroizing<Vec<u8>>> = if groups.len() > 1 {
        let t = if threshold == 0 {
            groups.len()
        } else {
            threshold
        };
        if t > groups.len() {
            return Err(Error::generic(format!(
                "the shamir threshold ({t}) is larger than the number of key groups ({})",
                groups.len()
            )));
        }
        shamir_split(data_key.expose(), groups.len(), t, ctx)?
    } else {
        vec![zeroize::Zeroizing::new(data_key.expose().to_vec())]
    };
    let mut out = Vec::new();
    for (g, share) in groups.iter().zip(shares.iter()) {
        let mut wk = Vec::new();
        for k in g {
            let enc = keys.wrap(k, share)?;
            let created = crate::keys::kind::of(k)
                .records_created_at()
                .then(|| created_at.to_string());
            wk.push(WrappedKey {
                key: k.clone(),
                enc,
                created_at: created,
            });
        }
        out.push(wk);
    }
    Ok(out)
}

fn shamir_split(
    secret: &[u8],
    parts: usize,
    threshold: usize,
    ctx: &mut Context,
) -> Result<Vec<zeroize::Zeroizing<Vec<u8>>>> {
    crate::crypto::shamir::split(secret, parts, threshold, &mut ctx.rng)
}

fn shamir_combine(parts: &[&[u8]]) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    crate::crypto::shamir::combine(parts)
}

/// The order key kinds are tried in: `--decryption-order`, default `age,pgp`, then file order.
pub fn parse_decryption_order(s: Option<&str>) -> Result<Vec<String>> {
    let s = s.unwrap_or("age,pgp");
    let mut out: Vec<String> = Vec::new();
    for k in s.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        if out.iter().any(|o| o == k) {
            return Err(Error::new(
                Code::DuplicateDecryptionKeyType,
                format!("Duplicate decryption key type: {k}"),
            ));
        }
        out.push(k.to_string());
    }
    Ok(out)
}

/// Unwrap the data key, trying keys in `order`; on failure, exit 128 with a per-key report.
pub fn unwrap_data_key(meta: &Metadata, keys: &KeyService, order: &[String]) -> Result<DataKey> {
    let mut attempts: Vec<KeyAttempt> = Vec::new();
    let mut parts: Vec<zeroize::Zeroizing<Vec<u8>>> = Vec::new();
    let needed = if meta.key_groups.len() > 1 {
        if meta.shamir_threshold == 0 {
            meta.key_groups.len()
        } else {
            meta.shamir_threshold
        }
    } else {
        1
    };
    for (gi, group) in meta.key_groups.iter().enumerate() {
        if parts.len() >= needed {
            break;
        }
        let mut ordered: Vec<&WrappedKey> = group.iter().collect();
        ordered.sort_by_key(|k| {
            order
                .iter()
                .position(|o| o == k.key.kind())
                .unwrap_or(order.len())
        });
        for k in ordered {
            match keys.unwrap(&k.key, &k.enc) {
                Ok(secret) => {
                    attempts.push(KeyAttempt {
                        group: gi,
                        key: k.key.sops_name(),
                        outcome: Outcome::Decrypted,
                    });
                    parts.push(secret);
                    break;
                }
                Err(o) => attempts.push(KeyAttempt {
                    group: gi,
                    key: k.key.sops_name(),
                    outcome: o,
                }),
            }
        }
    }
    if parts.len() >= needed {
        if meta.key_groups.len() == 1 {
            return DataKey::from_slice(&parts[0]);
        }
        let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
        let key = shamir_combine(&refs)?;
        return DataKey::from_slice(&key);
    }
    Err(report_failure(meta, &attempts, parts.len()))
}

fn report_failure(meta: &Metadata, attempts: &[KeyAttempt], got: usize) -> Error {
    // sops's layout: a header, one block per group (a failed group lists each key it tried
    // and why, the reason wrapped at 60 columns behind `| `), then a trailer wrapped at 75.
    let mut groups = Vec::new();
    for (gi, _) in meta.key_groups.iter().enumerate() {
        let tried: Vec<&KeyAttempt> = attempts.iter().filter(|a| a.group == gi).collect();
        if tried.iter().any(|a| a.outcome == Outcome::Decrypted) {
            groups.push(format!("Group {gi}: SUCCESS"));
            continue;
        }
        let keys: Vec<String> = tried
            .iter()
            .map(|a| {
                let reason = wrap_words(&a.outcome.to_string(), 60).replace('\n', "\n      | ");
                format!("  {}: FAILED\n    - | {reason}", a.key)
            })
            .collect();
        groups.push(format!("Group {gi}: FAILED\n{}", keys.join("\n  \n")));
    }
    let trailer = if meta.shamir_threshold == 0 {
        "Recovery failed because no master key was able to decrypt the file. In order for SOPS to recover the file, at least one key has to be successful, but none were.".to_string()
    } else {
        let t = meta.shamir_threshold;
        format!(
            "Recovery failed because the file was encrypted with a Shamir threshold of {t}, but only {got} part(s) were successfully recovered, one for each successful key group. In order for SOPS to recover the file, at least {t} groups have to be successful. In order for a group to be successful, decryption has to succeed with any of the keys in that key group."
        )
    };
    let msg = format!(
        "Failed to get the data key required to decrypt the SOPS file.\n\n{}\n\n{}",
        groups.join("\n\n"),
        wrap_words(&trailer, 75)
    );
    let recipients: Vec<String> = meta
        .key_groups
        .iter()
        .flatten()
        .filter(|k| k.key.kind() == "age")
        .map(|k| k.key.identity())
        .collect();
    let hint = if recipients.is_empty() {
        "make one of the keys listed above available (credentials, agent or key file)".to_string()
    } else {
        format!(
            "this file is encrypted for {}; put the matching AGE-SECRET-KEY in SOPS_AGE_KEY_FILE, SOPS_AGE_KEY or ~/.config/sops/age/keys.txt",
            recipients.join(", ")
        )
    };
    Error::new(Code::CouldNotRetrieveKey, msg).hint(hint)
}

/// Options for decryption.
#[derive(Clone, Debug, Default)]
pub struct DecryptOptions {
    pub ignore_mac: bool,
    pub decryption_order: Vec<String>,
    /// The file must carry veil's integrity field (its creation rule, or
    /// `VEIL_REQUIRE_INTEGRITY`, says so). A field that is there is always checked.
    pub require_integrity: bool,
}

/// Read the metadata of a parsed encrypted document.
pub fn metadata_of(parsed: &dyn Parsed) -> Result<Metadata> {
    match parsed.metadata() {
        Some(t) => Metadata::from_tree(t),
        None => Err(Error::generic("sops metadata not found")
            .hint("the file is not encrypted; `veil encrypt` it, or check --input-type")),
    }
}

/// Decrypt a parsed encrypted document.
pub fn decrypt(parsed: &dyn Parsed, opts: &DecryptOptions, keys: &KeyService) -> Result<Decrypted> {
    decrypt_with(parsed, opts, keys, Want::ALL)
}

/// [`decrypt`], building only the parts of [`Decrypted`] that `want` asks for.
pub fn decrypt_with(
    parsed: &dyn Parsed,
    opts: &DecryptOptions,
    keys: &KeyService,
    want: Want,
) -> Result<Decrypted> {
    let metadata = metadata_of(parsed)?;
    crate::metadata::check_loadable(&metadata)?;
    let order = if opts.decryption_order.is_empty() {
        parse_decryption_order(None)?
    } else {
        opts.decryption_order.clone()
    };
    let data_key = unwrap_data_key(&metadata, keys, &order)?;
    // The metadata (recipients, rule, types, shape) is checked before any value is used.
    check_integrity(&metadata, parsed.docs(), &data_key, opts.require_integrity)?;
    let (edits, docs, stash) =
        open_leaves_with(parsed.docs(), &data_key, &metadata, opts.ignore_mac, want)?;
    Ok(Decrypted {
        edits,
        docs,
        metadata,
        data_key,
        stash,
    })
}

/// Open every `ENC[…]` leaf and check the MAC; returns the edits, the opened documents and
/// the IV stash.
pub fn open_leaves(
    src: &[Value],
    key: &DataKey,
    meta: &Metadata,
    ignore_mac: bool,
) -> Result<(Vec<Edit>, Vec<Value>, IvStash)> {
    open_leaves_with(src, key, meta, ignore_mac, Want::ALL)
}

/// What a caller of [`decrypt_with`] needs besides the edits. Building the opened documents
/// and the IV stash costs memory and time per leaf, so plain `decrypt` to the same format
/// skips both.
#[derive(Clone, Copy, Debug)]
pub struct Want {
    /// The opened documents ([`Decrypted::docs`]); empty when not wanted.
    pub docs: bool,
    /// The IV stash ([`Decrypted::stash`]); empty when not wanted.
    pub stash: bool,
}

impl Want {
    pub const ALL: Want = Want {
        docs: true,
        stash: true,
    };
}

/// [`open_leaves`], building only what `want` asks for.
pub fn open_leaves_with(
    src: &[Value],
    key: &DataKey,
    meta: &Metadata,
    ignore_mac: bool,
    want: Want,
) -> Result<(Vec<Edit>, Vec<Value>, IvStash)> {
    let mut stash = IvStash::default();
    if want.stash {
        stash.record = Some(SealedRecord::new(&meta.rule));
    }
    let mut opener = LeafOpener::new(key, meta, ignore_mac)?;
    // The file's own rule says which leaves are sealed, as in sops: a leaf it leaves in
    // plaintext is a plain value even when it looks like `ENC[…]`, and goes into the MAC as such.
    let sealed = opener.selector().encrypted_leaves(src);
    let mut edits = Vec::new();
    let mut err: Option<Error> = None;
    walk_leaves_aad(src, |i, _, a, s| {
        if err.is_some() {
            return;
        }
        let st = if want.stash { Some(&mut stash) } else { None };
        let enc = sealed.get(i).copied().unwrap_or(false);
        match opener.leaf(a, s, enc, st) {
            Ok(Some(v)) => edits.push(Edit::Open(v)),
            Ok(None) => edits.push(Edit::Keep),
            Err(e) => err = Some(e),
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    opener.finish(meta)?;
    let docs = if want.docs {
        apply_edits(src, &edits)
    } else {
        Vec::new()
    };
    Ok((edits, docs, stash))
}

/// Opens one file's leaves one at a time, in walk order, and checks the MAC at the end. The
/// tree-based [`open_leaves_with`] and the streaming YAML path both go through it. Which leaves
/// are sealed is the file's rule's decision (its [`selector`](LeafOpener::selector)), never
/// what a value looks like.
pub struct LeafOpener {
    selector: crate::select::Selector,
    cipher: ValueCipher,
    mac: Mac,
    ignore_mac: bool,
}

impl LeafOpener {
    /// An opener for a file with metadata `meta`; fails when the file's rule is not a valid
    /// regular expression.
    pub fn new(key: &DataKey, meta: &Metadata, ignore_mac: bool) -> Result<LeafOpener> {
        Ok(LeafOpener {
            selector: crate::select::Selector::new(&meta.rule, meta.mac_only_encrypted)?,
            cipher: ValueCipher::new(key, Cipher::Aes256Gcm),
            mac: Mac::new(meta.mac_only_encrypted),
            ignore_mac,
        })
    }

    /// The file's compiled rule (which leaves are sealed).
    pub fn selector(&self) -> &crate::select::Selector {
        &self.selector
    }

    /// One leaf with its AAD and the rule's decision `sealed` for it: the opened value, or
    /// `None` for a leaf that stays as it is (a plain leaf, a comment left unencrypted, or a
    /// sealed comment kept as it is under `--ignore-mac`). A leaf the rule seals but that holds
    /// a plaintext value is refused, as sops refuses it (exit 25).
    pub fn leaf(
        &mut self,
        a: &str,
        s: &Scalar,
        sealed: bool,
        stash: Option<&mut IvStash>,
    ) -> Result<Option<Scalar>> {
        if !sealed {
            self.mac.add(s, false);
            if let Some(st) = stash {
                st.note(a, s, false);
            }
            return Ok(None);
        }
        let text = match s {
            Scalar::Str(t) if is_enc(t) => t,
            Scalar::Comment(t) if is_enc(t) => t,
            // sops keeps a comment it cannot decrypt (old sops did not encrypt comments).
            Scalar::Comment(_) => {
                if let Some(st) = stash {
                    st.note(a, s, false);
                }
                return Ok(None);
            }
            other => return Err(plaintext_where_sealed(a, other)),
        };
        let cipher = &self.cipher;
        let mut stash = stash;
        let opened = crate::crypto::value::EncRef::parse(text).and_then(|r| {
            if r.type_name == "bytes" {
                return Err(bytes_refused(a));
            }
            let pt = match stash.as_deref_mut() {
                Some(st) => {
                    let v = EncValue::parse(text)?;
                    let pt = cipher.open(&v, a.as_bytes())?;
                    st.push(&v.type_name, a, &pt, v.iv.clone());
                    pt
                }
                // Errors come from the reference parse-then-open, so that messages stay the
                // same whatever the fast decoder stumbled on first.
                None => match cipher.open_ref(&r, a.as_bytes()) {
                    Ok(pt) => pt,
                    Err(_) => cipher.open(&EncValue::parse(text)?, a.as_bytes())?,
                },
            };
            Scalar::from_plaintext(r.type_name, pt.to_vec()).map_err(|e| {
                Error::new(
                    Code::ErrorDecryptingTree,
                    format!("Error decrypting tree: {e}"),
                )
                .hint("the value's `type:` was changed by hand; restore the file from git")
            })
        });
        match opened {
            Ok(v) => {
                self.mac.add(&v, true);
                if let Some(st) = stash {
                    st.note(a, &v, true);
                }
                Ok(Some(v))
            }
            Err(e) if e.code == Code::CouldNotReadInputFile => Err(e),
            // Comments are not covered by the MAC, so a sealed comment that fails to open is
            // the only sign it was tampered with. sops keeps such a comment with a warning (old
            // sops did not encrypt comments); veil refuses, like a value, and `--ignore-mac`
            // keeps it as sops does.
            Err(e) if s.is_comment() && !self.ignore_mac => Err(e
                .context(format!("an encrypted comment at {a}"))
                .hint("the comment was changed or moved; restore the file from git, or use --ignore-mac to keep it as it is")),
            Err(_) if s.is_comment() => {
                eprintln!("warning: could not decrypt a comment under {a}; kept as is");
                Ok(None)
            }
            Err(e) => Err(e.context(format!("at {a}"))),
        }
    }

    /// An opener for a later stretch of the same file's leaves, to run on another thread; its
    /// MAC is recorded for [`LeafOpener::append`].
    pub fn later(&self, key: &DataKey) -> LeafOpener {
        LeafOpener {
            selector: self.selector.clone(),
            cipher: ValueCipher::new(key, Cipher::Aes256Gcm),
            mac: self.mac.later(),
            ignore_mac: self.ignore_mac,
        }
    }

    /// Take in the MAC of a later stretch opened by `later`, once every leaf before it is in.
    pub fn append(&mut self, later: LeafOpener) {
        self.mac.append(later.mac);
    }

    /// Check the MAC over every leaf seen (unless `--ignore-mac`).
    pub fn finish(self, meta: &Metadata) -> Result<()> {
        let computed = self.mac.finish();
        if !self.ignore_mac {
            verify_mac(&self.cipher, meta, &computed)?;
        }
        Ok(())
    }
}

fn verify_mac(cipher: &ValueCipher, meta: &Metadata, computed: &str) -> Result<()> {
    let stored = if meta.mac.is_empty() {
        String::new()
    } else {
        // sops's first words for both (`Cannot decrypt MAC: …`), never the MAC's text.
        let v = EncValue::parse(&meta.mac)
            .map_err(|_| mac_error("Cannot decrypt MAC: it is not an ENC[…] value".into()))?;
        let pt = cipher
            .open(&v, mac_aad(&meta.lastmodified).as_bytes())
            .map_err(|_| {
                mac_error(
                    "Cannot decrypt MAC: the MAC or the file's lastmodified was changed".into(),
                )
            })?;
        String::from_utf8_lossy(&pt).into_owned()
    };
    if stored.is_empty() {
        // sops: `MAC mismatch. File has no MAC, computed <digest>`; the same first words.
        return Err(mac_error("MAC mismatch. The file has no MAC".into()));
    }
    if stored != computed {
        // sops prints both digests here. They are SHA-512 over the plaintext values, the very
        // thing the stored MAC is encrypted to hide (a file holding one PIN could be brute
        // forced offline from them), so veil says what to do instead.
        return Err(mac_error(MAC_MISMATCH.into()));
    }
    Ok(())
}

/// The MAC-mismatch message: sops's first words (scripts match them), then veil's own text,
/// never the digests.
pub const MAC_MISMATCH: &str =
    "MAC mismatch. The file's values, keys or rule do not match its MAC: it was changed outside veil/sops";

/// A leaf the file's rule seals holds a plaintext value (sops 3.13: `Expected encrypted value
/// as string`, or its data-format error for a plain string; 3.11 crashes on a non-string).
fn plaintext_where_sealed(a: &str, s: &Scalar) -> Error {
    let what = match s {
        Scalar::Str(_) | Scalar::Raw(_) => "a plaintext string".to_string(),
        other => format!("a plaintext {}", other.type_name()),
    };
    Error::new(
        Code::ErrorDecryptingTree,
        format!("Error decrypting tree: the value at {a} should be encrypted, but it is {what}"),
    )
    .hint("the file's rule says this value is encrypted; the value or the rule in the sops metadata was changed by hand: restore the file from git")
}

/// `type:bytes`: a type no sops writes and no sops can read (it crashes on it).
fn bytes_refused(a: &str) -> Error {
    Error::new(
        Code::CouldNotReadInputFile,
        format!("Error decrypting tree: the value at {a} has type bytes, which sops cannot read"),
    )
    .hint("no sops or veil writes `type:bytes`; the value's type was changed by hand: restore the file from git")
}

fn mac_error(msg: String) -> Error {
    Error::new(Code::MacMismatch, msg)
        .hint("a value, key or encryption rule was added, removed, moved or edited; see what changed with `git diff` or `git log -p` on the file and restore it from git, or use --ignore-mac to read it anyway")
}

/// Replace every leaf of `docs` by its sealed token (for writing an encrypted file in another
/// format): sealed values become strings, sealed comments stay comments.
pub fn apply_edits(docs: &[Value], edits: &[Edit]) -> Vec<Value> {
    let mut out = docs.to_vec();
    walk_leaves_mut(&mut out, |i, _, s| match edits.get(i) {
        Some(Edit::Seal(t)) => {
            *s = if s.is_comment() {
                Scalar::Comment(t.clone())
            } else {
                Scalar::Str(t.clone())
            };
        }
        Some(Edit::Open(v)) => *s = v.clone(),
        _ => {}
    });
    out
}

/// One leaf as the read-back checks compare it: its path, its kind (with `strict`: number,
/// bool or text) and its bytes. Past [`PRINT_INLINE`] bytes a SHA-256 stands for them, so that
/// checking a big value does not hold it twice more in memory.
#[derive(PartialEq, Eq)]
pub struct LeafPrint {
    aad: String,
    class: &'static str,
    bytes: Result<Vec<u8>, [u8; 32]>,
}

/// Leaves up to this many bytes are compared byte for byte.
pub const PRINT_INLINE: usize = 64;

fn leaf_print(path: &[String], s: &Scalar, strict: bool) -> Option<LeafPrint> {
    let owned;
    let (class, bytes): (_, &[u8]) = match s {
        Scalar::Comment(_) => return None,
        Scalar::Str(t) | Scalar::Time(t) => ("text", t.as_bytes()),
        Scalar::Raw(b) | Scalar::Bytes(b) => ("text", b),
        Scalar::Int(i) => {
            owned = i.to_string().into_bytes();
            ("num", &owned)
        }
        Scalar::Float(_) => {
            owned = s.mac_bytes();
            ("num", &owned)
        }
        Scalar::Bool(b) => {
            owned = b.to_string().into_bytes();
            ("bool", &owned)
        }
    };
    Some(print(path, class, bytes, strict))
}

fn print(path: &[String], class: &'static str, bytes: &[u8], strict: bool) -> LeafPrint {
    use sha2::Digest;
    LeafPrint {
        aad: aad(path),
        class: if strict { class } else { "" },
        bytes: if bytes.len() <= PRINT_INLINE {
            Ok(bytes.to_vec())
        } else {
            Err(sha2::Sha256::digest(bytes).into())
        },
    }
}

/// The prints of the leaves of `docs` (comments skipped), or, with `edits`, of `docs` as
/// [`apply_edits`] would make them (a sealed leaf becomes its token as text), without building
/// those documents.
pub fn leaf_prints(docs: &[Value], edits: Option<&[Edit]>, strict: bool) -> Vec<LeafPrint> {
    let mut out = Vec::new();
    walk_leaves(docs, |i, path, s| match edits.and_then(|e| e.get(i)) {
        Some(Edit::Seal(_)) if s.is_comment() => {}
        Some(Edit::Seal(t)) => out.push(print(path, "text", t.as_bytes(), strict)),
        Some(Edit::Open(v)) => out.extend(leaf_print(path, v, strict)),
        _ => out.extend(leaf_print(path, s, strict)),
    });
    out
}

/// Refuse unless `actual` (what a written file parses back to) has the same leaf prints as
/// `expected`, in the same order. Refusing here means a bug in a format module; the file is
/// not written.
pub fn verify_prints(expected: &[LeafPrint], actual: &[LeafPrint]) -> Result<()> {
    let refuse = |at: String| {
        Err(Error::new(Code::ErrorDumpingTree, format!("refusing to write: the output does not read back as the intended data (at {at})"))
            .hint("this is a veil bug; the original file is untouched; please report the file's structure (not its values)"))
    };
    for (i, (x, y)) in expected.iter().zip(actual.iter()).enumerate() {
        if x != y {
            return refuse(format!("leaf {i}, {}", x.aad));
        }
    }
    if expected.len() != actual.len() {
        return refuse(format!("leaf count {} vs {}", expected.len(), actual.len()));
    }
    Ok(())
}

/// Check that `actual` (what a written file parses back to) holds the same leaves as
/// `expected`: the same values, in the same order, under the same paths. Comments are skipped,
/// since not every format can hold them everywhere. Numbers compare by value (JSON has one
/// number type) and times as their text. With `strict`, the kind (number, bool, text) must match
/// too; conversions to dotenv/INI turn everything into text, so they compare values only.
/// Refusing here means a bug in a format module; the file is not written.
pub fn verify_same_leaves(expected: &[Value], actual: &[Value], strict: bool) -> Result<()> {
    verify_prints(
        &leaf_prints(expected, None, strict),
        &leaf_prints(actual, None, strict),
    )
}

// ---------------------------------------------------------------------------------------------
// Changing an encrypted file: re-sealing new plaintext against it, re-wrapping, rotating.

/// The value cipher a file uses, read from its MAC token (AES-256-GCM when it has none).
pub fn file_cipher(meta: &Metadata) -> Cipher {
    EncValue::parse(&meta.mac)
        .map(|v| v.cipher)
        .unwrap_or_default()
}

/// Keep the stored form of numbers that did not change. sops stores every JSON number (and
/// YAML `3.0`) as `type:float`, whose plaintext (`3`) reads back as an int; without this, the
/// first re-encryption would turn such values into `type:int` and change their ciphertext
/// although nobody touched them. A new number that equals (by value, under the same path, in
/// order of occurrence) a number that was stored as a float takes that stored float back. An
/// old int is never imposed on a new float: writing `3.0` where `3` was is a deliberate change.
pub fn keep_stored_numbers(new_docs: &mut [Value], old_docs: &[Value]) {
    use std::collections::{HashMap, VecDeque};
    let mut old: HashMap<(String, Vec<u8>), VecDeque<Scalar>> = HashMap::new();
    walk_leaves(old_docs, |_, path, s| {
        if let Scalar::Float(_) = s {
            old.entry((aad(path), s.mac_bytes()))
                .or_default()
                .push_back(s.clone());
        }
    });
    if old.is_empty() {
        return;
    }
    walk_leaves_mut(new_docs, |_, path, s| {
        if matches!(s, Scalar::Int(_) | Scalar::Float(_)) {
            if let Some(o) = old
                .get_mut(&(aad(path), s.mac_bytes()))
                .and_then(|q| q.pop_front())
            {
                *s = o;
            }
        }
    });
}

/// Documents re-sealed against an existing file.
pub struct Resealed {
    /// One edit per leaf of the new documents: `Seal` for encrypted leaves, `Keep` for the rest.
    pub edits: Vec<Edit>,
    /// The file's metadata with the new `lastmodified` and MAC.
    pub metadata: Metadata,
}

/// The core of every change to an encrypted file (edit, set, unset, `encrypt --reuse-from`):
/// seal `new_docs` with the file's own data key, rule and MAC scope, reusing the IV of every
/// value whose plaintext and path did not change, so its ciphertext stays byte-identical. Only
/// changed values, `mac` and `lastmodified` differ from the old file. Key groups are kept.
/// A leaf the opened file held sealed (per the stash's record) is never written in plaintext
/// unless `meta`'s rule is not the one the file was opened with.
pub fn reseal(
    new_docs: &[Value],
    meta: &Metadata,
    key: &DataKey,
    stash: &mut IvStash,
    ctx: &mut Context,
) -> Result<Resealed> {
    let sealed = seal_leaves(
        new_docs,
        &meta.rule,
        meta.mac_only_encrypted,
        file_cipher(meta),
        key,
        stash,
        ctx,
    )?;
    if let Some(record) = &stash.record {
        guard::check(record, &meta.rule, new_docs, &sealed.edits)?;
    }
    let mut metadata = meta.clone();
    metadata.lastmodified = sealed.lastmodified;
    metadata.mac = sealed.mac;
    integrity::reauthenticate_sealed(&mut metadata, new_docs, &sealed.edits, key);
    Ok(Resealed {
        edits: sealed.edits,
        metadata,
    })
}

/// sops's key identity string (`MasterKey.ToString()`), used to compare key groups.
pub fn key_identity(k: &KeyRef) -> String {
    k.identity()
}

/// The effective Shamir threshold for `groups` key groups: 0 for one group; the given value,
/// else the number of groups, for several. More than the number of groups is an error.
pub fn effective_threshold(threshold: usize, groups: usize) -> Result<usize> {
    if groups <= 1 {
        return Ok(0);
    }
    let t = if threshold == 0 { groups } else { threshold };
    if t > groups {
        return Err(Error::generic(format!(
            "the Shamir threshold ({t}) is larger than the number of key groups ({groups}), so the file could never be decrypted"
        ))
        .hint("lower --shamir-secret-sharing-threshold, or keep more key groups"));
    }
    if t < 2 {
        return Err(Error::generic(
            "the Shamir threshold must be at least 2 with several key groups",
        )
        .hint("use --shamir-secret-sharing-threshold 2 or more"));
    }
    Ok(t)
}

/// Wrap the same data key for new key groups (updatekeys, groups add/delete, rotate's
/// `--add-*`/`--rm-*`). Values, `mac` and `lastmodified` are untouched. When the file has one
/// group before and after, the wrapped keys that stay keep their `enc` (so git shows only the
/// keys that came and went); otherwise every key wraps its new Shamir share.
pub fn rewrap(
    meta: &mut Metadata,
    key: &DataKey,
    groups: &[Vec<KeyRef>],
    threshold: usize,
    keys: &KeyService,
    ctx: &mut Context,
) -> Result<()> {
    if groups.is_empty() || groups.iter().any(|g| g.is_empty()) {
        return Err(Error::generic(crate::config::EMPTY_KEY_GROUP).hint(
            "every key group needs at least one key; a file with no keys could never be decrypted",
        ));
    }
    let t = effective_threshold(threshold, groups.len())?;
    let created_at = ctx.timestamp();
    let new_groups = if groups.len() == 1 && meta.key_groups.len() == 1 {
        let old = &meta.key_groups[0];
        let mut out = Vec::new();
        for k in &groups[0] {
            match old.iter().find(|o| o.key == *k) {
                Some(o) => out.push(o.clone()),
                None => {
                    let mut w = wrap_groups(key, &[vec![k.clone()]], 0, keys, &created_at, ctx)?;
                    out.append(&mut w[0]);
                }
            }
        }
        vec![out]
    } else {
        wrap_groups(key, groups, t, keys, &created_at, ctx)?
    };
    meta.key_groups = new_groups;
    meta.shamir_threshold = t;
    Ok(())
}

/// The key groups of a file, as references.
pub fn key_refs(meta: &Metadata) -> Vec<Vec<KeyRef>> {
    meta.key_groups
        .iter()
        .map(|g| g.iter().map(|k| k.key.clone()).collect())
        .collect()
}

/// sops's `rotate`: a new data key, every value sealed again (reusing the stashed IVs, as sops
/// does, so only the key differs), every master key wrapped again for `groups`.
pub fn rotate(
    docs: &[Value],
    meta: &Metadata,
    stash: &mut IvStash,
    groups: &[Vec<KeyRef>],
    threshold: usize,
    keys: &KeyService,
    ctx: &mut Context,
) -> Result<(Resealed, DataKey)> {
    let new_key = DataKey::generate(&mut ctx.rng);
    let mut out = reseal(docs, meta, &new_key, stash, ctx)?;
    // Every key wraps the new key: no `enc` may be kept.
    out.metadata.key_groups = vec![];
    let t = effective_threshold(threshold, groups.len())?;
    if groups.is_empty() || groups.iter().any(|g| g.is_empty()) {
        return Err(Error::generic(crate::config::EMPTY_KEY_GROUP).hint(
            "every key group needs at least one key; a file with no keys could never be decrypted",
        ));
    }
    let created_at = ctx.timestamp();
    out.metadata.key_groups = wrap_groups(&new_key, groups, t, keys, &created_at, ctx)?;
    out.metadata.shamir_threshold = t;
    integrity::reauthenticate_sealed(&mut out.metadata, docs, &out.edits, &new_key);
    Ok((out, new_key))
}

/// Compare two sops versions (`3.11.0`, `v3.9.4`, `3.10.0-rc.1`) like semver; `None` when one
/// is not a version (sops then fails an edit with exit 202).
pub fn compare_versions(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    fn parse(v: &str) -> Option<(Vec<u64>, bool)> {
        let v = v.trim().trim_start_matches('v');
        let (core, pre) = match v.split_once('-') {
            Some((c, _)) => (c, true),
            None => (v.split('+').next().unwrap_or(v), false),
        };
        let core = core.split('+').next().unwrap_or(core);
        let mut parts = Vec::new();
        for p in core.split('.') {
            parts.push(p.parse::<u64>().ok()?);
        }
        if parts.is_empty() || parts.len() > 3 {
            return None;
        }
        parts.resize(3, 0);
        Some((parts, pre))
    }
    let (x, xp) = parse(a)?;
    let (y, yp) = parse(b)?;
    Some(x.cmp(&y).then(match (xp, yp) {
        (false, true) => std::cmp::Ordering::Greater,
        (true, false) => std::cmp::Ordering::Less,
        _ => std::cmp::Ordering::Equal,
    }))
}

/// sops's edit bumps `version` to the writer's when the file's is older; a version that is not
/// semver is exit 202.
pub fn bump_version(meta: &mut Metadata) -> Result<()> {
    match compare_versions(SOPS_FORMAT_VERSION, &meta.version) {
        Some(std::cmp::Ordering::Greater) => {
            meta.version = SOPS_FORMAT_VERSION.to_string();
            Ok(())
        }
        Some(_) => Ok(()),
        None => Err(Error::new(
            Code::FailedToCompareVersions,
            format!(
                "Failed to compare document version {:?} with program version {:?}",
                meta.version, SOPS_FORMAT_VERSION
            ),
        )
        .hint(
            "the file's sops `version` field is not a version number; fix it by hand (e.g. 3.11.0)",
        )),
    }
}

/// Whether two document lists have the same structure (maps with the same keys in the same
/// order, lists of the same length, comments and leaves in the same places), whatever the
/// scalar values. Edits computed on one can then be rendered on a parse of the other.
pub fn same_shape(a: &[Value], b: &[Value]) -> bool {
    fn go(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Null, Value::Null) => true,
            (Value::Scalar(x), Value::Scalar(y)) => x.is_comment() == y.is_comment(),
            (Value::List(x), Value::List(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| go(p, q))
            }
            (Value::Map(x), Value::Map(y)) => {
                x.len() == y.len()
                    && x.iter().zip(y).all(|(p, q)| match (p, q) {
                        (Item::Entry(k1, v1), Item::Entry(k2, v2)) => k1 == k2 && go(v1, v2),
                        (Item::Comment(_), Item::Comment(_)) => true,
                        _ => false,
                    })
            }
            _ => false,
        }
    }
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| go(x, y))
}

/// Turn edits made for `new_docs` into edits for a parse whose leaves are `source_docs` (the
/// same shape): a leaf left unencrypted (`Keep`) whose value changed is written as `Open`.
pub fn edits_for_source(source_docs: &[Value], new_docs: &[Value], edits: Vec<Edit>) -> Vec<Edit> {
    let mut src = Vec::new();
    walk_leaves(source_docs, |_, _, s| src.push(s));
    let mut new = Vec::new();
    walk_leaves(new_docs, |_, _, s| new.push(s));
    edits
        .into_iter()
        .enumerate()
        .map(|(i, e)| match e {
            Edit::Keep => match (src.get(i), new.get(i)) {
                (Some(a), Some(b)) if a != b => Edit::Open((*b).clone()),
                _ => Edit::Keep,
            },
            other => other,
        })
        .collect()
}

/// The number of leaves of `docs` (the length an edit list must have).
pub fn leaf_count(docs: &[Value]) -> usize {
    let mut n = 0;
    walk_leaves(docs, |_, _, _| n += 1);
    n
}

#[cfg(test)]
#[allow(deprecated)] // the tests use classic X25519 keys, what sops files hold
mod tests {
    use super::*;
    use crate::tree::Item;

    /// A syntax-free document: just a tree and optional metadata.
    struct TreeDoc(Vec<Value>, Option<Value>);
    impl Parsed for TreeDoc {
        fn docs(&self) -> &[Value] {
            &self.0
        }
        fn metadata(&self) -> Option<&Value> {
            self.1.as_ref()
        }
        fn render(&self, _: &[Edit], _: Option<&Value>) -> Result<Vec<u8>> {
            Ok(vec![])
        }
    }

    fn sample() -> Vec<Value> {
        vec![Value::Map(vec![
            Item::Comment(Scalar::Comment(" top".into())),
            Item::Entry("a".into(), Value::str("secret")),
            Item::Entry("n".into(), Value::Scalar(Scalar::Int(5))),
            Item::Entry("f".into(), Value::Scalar(Scalar::Float("2.50".into()))),
            Item::Entry("b".into(), Value::Scalar(Scalar::Bool(true))),
            Item::Entry("empty".into(), Value::str("")),
            Item::Entry("nil".into(), Value::Null),
            Item::Entry("port_unencrypted".into(), Value::Scalar(Scalar::Int(80))),
            Item::Entry(
                "l".into(),
                Value::List(vec![Value::str("x"), Value::str("x")]),
            ),
        ])]
    }

    fn setup() -> (KeyService, age::x25519::Identity, Context) {
        let id = age::x25519::Identity::generate();
        let mut ks = KeyService::new();
        ks.add(Box::new(TestAge(vec![id.clone()])));
        let ctx = Context {
            rng: ChaCha20Rng::seed_from_u64(7),
            now: time::macros::datetime!(2026-11-29 01:02:03.5 UTC),
        };
        (ks, id, ctx)
    }

    struct TestAge(Vec<age::x25519::Identity>);
    impl crate::keys::Backend for TestAge {
        fn kind(&self) -> &'static str {
            "age"
        }
        fn wrap(&self, key: &KeyRef, secret: &[u8]) -> Result<String> {
            let KeyRef::Age { recipient } = key else {
                unreachable!()
            };
            crate::keys::age::encrypt_to(recipient, secret)
        }
        fn unwrap(
            &self,
            _: &KeyRef,
            enc: &str,
        ) -> std::result::Result<crate::keys::Secret, Outcome> {
            use std::io::Read;
            let d = age::Decryptor::new(age::armor::ArmoredReader::new(enc.as_bytes()))
                .map_err(|e| Outcome::Failed(e.to_string()))?;
            let mut r = d
                .decrypt(self.0.iter().map(|i| i as &dyn age::Identity))
                .map_err(|e| Outcome::Failed(e.to_string()))?;
            let mut out = zeroize::Zeroizing::new(vec![]);
            r.read_to_end(&mut out).unwrap();
            Ok(out)
        }
    }

    fn encrypt_sample(
        ctx: &mut Context,
        ks: &KeyService,
        id: &age::x25519::Identity,
    ) -> (Vec<Value>, Metadata) {
        let docs = sample();
        let opts = EncryptOptions {
            key_groups: vec![vec![KeyRef::Age {
                recipient: id.to_public().to_string(),
            }]],
            rule: Rule::UnencryptedSuffix("_unencrypted".into()),
            ..Default::default()
        };
        let enc = encrypt(&TreeDoc(docs.clone(), None), &opts, ks, ctx).unwrap();
        (apply_edits(&docs, &enc.edits), enc.metadata)
    }

    #[test]
    fn round_trip_and_rules() {
        let (ks, id, mut ctx) = setup();
        let (encd, meta) = encrypt_sample(&mut ctx, &ks, &id);
        assert_eq!(meta.lastmodified, "2026-11-29T01:02:03Z");
        let Value::Map(items) = &encd[0] else {
            panic!()
        };
        let get = |k: &str| encd[0].get(k).cloned();
        assert!(
            matches!(&items[0], Item::Comment(Scalar::Comment(t)) if t.starts_with("ENC[AES256_GCM,") && t.ends_with("type:comment]"))
        );
        assert!(get("a").unwrap().as_str().unwrap().ends_with("type:str]"));
        assert!(get("n").unwrap().as_str().unwrap().ends_with("type:int]"));
        assert_eq!(get("empty"), Some(Value::str("")));
        assert_eq!(
            get("port_unencrypted"),
            Some(Value::Scalar(Scalar::Int(80)))
        );
        let doc = TreeDoc(encd, Some(meta.to_tree(false)));
        let dec = decrypt(&doc, &DecryptOptions::default(), &ks).unwrap();
        assert_eq!(dec.docs, sample());
    }

    #[test]
    fn tampering_is_refused() {
        let (ks, id, mut ctx) = setup();
        let (encd, meta) = encrypt_sample(&mut ctx, &ks, &id);
        // Two values swapped: AAD mismatch → 25.
        let mut swapped = encd.clone();
        if let Value::Map(items) = &mut swapped[0] {
            let (Item::Entry(_, a), Item::Entry(_, n)) = (items[1].clone(), items[2].clone())
            else {
                unreachable!()
            };
            items[1] = Item::Entry("a".into(), n);
            items[2] = Item::Entry("n".into(), a);
        }
        let e = decrypt(
            &TreeDoc(swapped, Some(meta.to_tree(false))),
            &DecryptOptions::default(),
            &ks,
        )
        .err()
        .unwrap();
        assert_eq!(e.code, Code::ErrorDecryptingTree);
        // An unencrypted value changed: MAC mismatch → 51; --ignore-mac reads anyway.
        let mut changed = encd.clone();
        if let Value::Map(items) = &mut changed[0] {
            items[7] = Item::Entry("port_unencrypted".into(), Value::Scalar(Scalar::Int(81)));
        }
        let doc = TreeDoc(changed, Some(meta.to_tree(false)));
        let e = decrypt(&doc, &DecryptOptions::default(), &ks)
            .err()
            .unwrap();
        assert_eq!(e.code, Code::MacMismatch);
        assert!(e.message.starts_with("MAC mismatch. "));
        // Never the digests of the plaintext (sops prints both).
        assert!(!e.message.contains("File has"), "{}", e.message);
        let longest_hex_run = e
            .message
            .split(|c: char| !c.is_ascii_hexdigit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(longest_hex_run < 16, "{}", e.message);
        assert!(decrypt(
            &doc,
            &DecryptOptions {
                ignore_mac: true,
                ..Default::default()
            },
            &ks
        )
        .is_ok());
        // A key deleted: MAC mismatch.
        let mut deleted = encd.clone();
        if let Value::Map(items) = &mut deleted[0] {
            items.remove(1);
        }
        let e = decrypt(
            &TreeDoc(deleted, Some(meta.to_tree(false))),
            &DecryptOptions::default(),
            &ks,
        )
        .err()
        .unwrap();
        assert_eq!(e.code, Code::MacMismatch);
    }

    #[test]
    fn wrong_key_reports_every_key() {
        let (ks, id, mut ctx) = setup();
        let (encd, meta) = encrypt_sample(&mut ctx, &ks, &id);
        let (other, _, _) = setup();
        let e = decrypt(
            &TreeDoc(encd, Some(meta.to_tree(false))),
            &DecryptOptions::default(),
            &other,
        )
        .err()
        .unwrap();
        assert_eq!(e.code, Code::CouldNotRetrieveKey);
        let text = e.to_string();
        assert!(text.contains("Group 0: FAILED"), "{text}");
        assert!(text.contains(&id.to_public().to_string()), "{text}");
    }

    #[test]
    fn already_encrypted_is_203() {
        let (ks, id, mut ctx) = setup();
        let (encd, meta) = encrypt_sample(&mut ctx, &ks, &id);
        let opts = EncryptOptions {
            key_groups: vec![vec![KeyRef::Age {
                recipient: id.to_public().to_string(),
            }]],
            ..Default::default()
        };
        let e = encrypt(
            &TreeDoc(encd, Some(meta.to_tree(false))),
            &opts,
            &ks,
            &mut ctx,
        )
        .err()
        .unwrap();
        assert_eq!(e.code, Code::FileAlreadyEncrypted);
    }

    #[test]
    fn stash_keeps_unchanged_ciphertext_even_for_duplicates() {
        let (ks, id, mut ctx) = setup();
        let (encd, meta) = encrypt_sample(&mut ctx, &ks, &id);
        let doc = TreeDoc(encd.clone(), Some(meta.to_tree(false)));
        let mut dec = decrypt(&doc, &DecryptOptions::default(), &ks).unwrap();
        // Change one value; everything else must keep its exact token.
        if let Value::Map(items) = &mut dec.docs[0] {
            items[1] = Item::Entry("a".into(), Value::str("new secret"));
        }
        let rule = Rule::UnencryptedSuffix("_unencrypted".into());
        let sealed = seal_leaves(
            &dec.docs,
            &rule,
            false,
            Cipher::Aes256Gcm,
            &dec.data_key,
            &mut dec.stash,
            &mut ctx,
        )
        .unwrap();
        let mut before = Vec::new();
        walk_leaves(&encd, |_, _, s| {
            before.push(s.as_text().map(str::to_string))
        });
        let mut changed = 0;
        for (i, e) in sealed.edits.iter().enumerate() {
            if let Edit::Seal(t) = e {
                if before[i].as_deref() != Some(t.as_str()) {
                    changed += 1;
                }
            }
        }
        assert_eq!(changed, 1, "only the edited value may change");
        // The two equal list elements kept their own, different ciphertexts.
        let toks: Vec<&String> = sealed
            .edits
            .iter()
            .filter_map(|e| match e {
                Edit::Seal(t) => Some(t),
                _ => None,
            })
            .collect();
        let n = toks.len();
        assert_ne!(toks[n - 1], toks[n - 2]);
    }

    #[test]
    fn three_groups_threshold_two() {
        let ids: Vec<_> = (0..3).map(|_| age::x25519::Identity::generate()).collect();
        let mut all = KeyService::new();
        all.add(Box::new(TestAge(ids.clone())));
        let mut ctx = Context {
            rng: ChaCha20Rng::seed_from_u64(9),
            now: time::OffsetDateTime::UNIX_EPOCH,
        };
        let docs = sample();
        let opts = EncryptOptions {
            key_groups: ids
                .iter()
                .map(|i| {
                    vec![KeyRef::Age {
                        recipient: i.to_public().to_string(),
                    }]
                })
                .collect(),
            shamir_threshold: 2,
            ..Default::default()
        };
        let enc = encrypt(&TreeDoc(docs.clone(), None), &opts, &all, &mut ctx).unwrap();
        assert_eq!(enc.metadata.shamir_threshold, 2);
        let encd = apply_edits(&docs, &enc.edits);
        let tree = enc.metadata.to_tree(false);
        for (a, b) in [(0, 1), (0, 2), (1, 2)] {
            let mut two = KeyService::new();
            two.add(Box::new(TestAge(vec![ids[a].clone(), ids[b].clone()])));
            let dec = decrypt(
                &TreeDoc(encd.clone(), Some(tree.clone())),
                &DecryptOptions::default(),
                &two,
            )
            .unwrap();
            assert_eq!(dec.docs, docs);
        }
        let mut one = KeyService::new();
        one.add(Box::new(TestAge(vec![ids[2].clone()])));
        let e = decrypt(&TreeDoc(encd, Some(tree)), &DecryptOptions::default(), &one)
            .err()
            .unwrap();
        assert_eq!(e.code, Code::CouldNotRetrieveKey);
        // sops's trailer, wrapped at 75 columns as sops wraps it.
        assert!(
            e.message
                .contains("Shamir threshold of\n2, but only 1 part(s) were successfully recovered"),
            "{}",
            e.message
        );
    }
}
