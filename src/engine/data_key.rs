//! The data key and the master keys: wrapping it (or its Shamir shares) for every key of every
//! group, unwrapping it with any one key per group, and re-wrapping the same key for new groups.
//! Everything goes through [`KeyService`]; this module never talks to a backend itself, and
//! never prints the key or a share.

use super::Context;
use crate::crypto::data_key::DataKey;
use crate::error::{wrap_words, Code, Error, KeyAttempt, Outcome, Result, EMPTY_KEY_GROUP};
use crate::keys::{KeyRef, KeyService, WrappedKey};
use crate::metadata::Metadata;

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
    let groups = &complete(groups, keys)?;
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

/// The groups as they will be recorded: each key completed by its backend (an Azure key without
/// a version becomes its newest version, as sops resolves it when reading flags and rules). A
/// completed key that is then the same as one already in its group is kept once; other repeats
/// are left as they were given.
fn complete(groups: &[Vec<KeyRef>], keys: &KeyService) -> Result<Vec<Vec<KeyRef>>> {
    let mut out = Vec::new();
    for g in groups {
        let mut done: Vec<KeyRef> = Vec::new();
        for k in g {
            let r = keys.resolve(k)?;
            if r != *k && (done.contains(&r) || g.contains(&r)) {
                continue;
            }
            done.push(r);
        }
        out.push(done);
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
    unwrap_data_key_by(meta, keys, order).map(|(k, _)| k)
}

/// [`unwrap_data_key`], also naming the master keys that unwrapped it (sops's names, one per
/// key group used), for `--verbose` and audit.
pub fn unwrap_data_key_by(
    meta: &Metadata,
    keys: &KeyService,
    order: &[String],
) -> Result<(DataKey, Vec<String>)> {
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
        let by = attempts
            .iter()
            .filter(|a| a.outcome == Outcome::Decrypted)
            .map(|a| a.key.clone())
            .collect();
        if meta.key_groups.len() == 1 {
            return Ok((DataKey::from_slice(&parts[0])?, by));
        }
        let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
        let key = shamir_combine(&refs)?;
        return Ok((DataKey::from_slice(&key)?, by));
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
        return Err(Error::generic(EMPTY_KEY_GROUP).hint(
            "every key group needs at least one key; a file with no keys could never be decrypted",
        ));
    }
    let t = effective_threshold(threshold, groups.len())?;
    // Complete the keys first, so a key the file already holds is recognised and kept.
    let groups = &complete(groups, keys)?;
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
