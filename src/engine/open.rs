//! Opening: unwrapping the data key from a file's metadata, checking the integrity field, then
//! opening every leaf the file's own rule seals and checking the MAC. [`LeafOpener`] is the one
//! place that decides how a leaf is opened; the tree walk here and the streaming readers both
//! drive it. A value's look never decides whether it is opened: the file's rule does.

use super::guard::SealedRecord;
use super::{
    apply_edits, check_integrity, parse_decryption_order, unwrap_data_key_by, verify_mac, IvStash,
};
use crate::crypto::data_key::DataKey;
use crate::crypto::mac::Mac;
use crate::crypto::value::{is_enc, Cipher, EncValue, ValueCipher};
use crate::error::{Code, Error, Result};
use crate::format::{Edit, Parsed};
use crate::keys::KeyService;
use crate::metadata::Metadata;
use crate::tree::{walk_leaves_aad, Scalar, Value};

/// The result of decrypting.
pub struct Decrypted {
    pub edits: Vec<Edit>,
    /// The documents with every leaf opened (for conversions, `--extract`, exec-env).
    pub docs: Vec<Value>,
    pub metadata: Metadata,
    pub data_key: DataKey,
    /// The IVs of every opened value, for stable re-encryption.
    pub stash: IvStash,
    /// The master keys that unwrapped the data key (sops's names, one per key group used).
    pub unwrapped_by: Vec<String>,
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
    decrypt_known(parsed, opts, keys, want, None)
}

/// [`decrypt_with`], with the data key (and the keys that unwrapped it) already unwrapped from
/// this same file's metadata when `known` is given: a caller that fell back from a streaming
/// path asks no key service (KMS call, passphrase prompt) twice.
pub fn decrypt_known(
    parsed: &dyn Parsed,
    opts: &DecryptOptions,
    keys: &KeyService,
    want: Want,
    known: Option<(DataKey, Vec<String>)>,
) -> Result<Decrypted> {
    let metadata = metadata_of(parsed)?;
    crate::metadata::check_loadable(&metadata)?;
    let (data_key, unwrapped_by) = match known {
        Some(k) => k,
        None => {
            let order = if opts.decryption_order.is_empty() {
                parse_decryption_order(None)?
            } else {
                opts.decryption_order.clone()
            };
            unwrap_data_key_by(&metadata, keys, &order)?
        }
    };
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
        unwrapped_by,
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
            // A string always reads back, so its buffer becomes the value (no copy per
            // leaf); other types are parsed from a copy and the buffer is wiped.
            let bytes = match r.type_name {
                "str" => {
                    let mut pt = pt;
                    std::mem::take(&mut *pt)
                }
                _ => pt.to_vec(),
            };
            Scalar::from_plaintext(r.type_name, bytes).map_err(|e| {
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
