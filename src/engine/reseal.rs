//! Changing an encrypted file: re-sealing new plaintext with the file's own data key, rule and
//! MAC scope (reusing IVs so unchanged values keep their ciphertext), rotating to a new data
//! key, and bumping the file's version. Every re-seal passes the declassification guard here;
//! no other path may re-seal a file.

use super::{effective_threshold, guard, integrity, seal_leaves, wrap_groups, Context, IvStash};
use crate::crypto::data_key::DataKey;
use crate::crypto::value::{Cipher, EncValue};
use crate::error::{Code, Error, Result, EMPTY_KEY_GROUP};
use crate::format::Edit;
use crate::keys::{KeyRef, KeyService};
use crate::metadata::{Metadata, SOPS_FORMAT_VERSION};
use crate::tree::{aad, walk_leaves, walk_leaves_mut, Scalar, Value};

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
        return Err(Error::generic(EMPTY_KEY_GROUP).hint(
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
