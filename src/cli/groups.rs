//! `veil groups add` / `veil groups delete`: add or remove a key group, as sops does. The same
//! data key is split into Shamir shares again and every key wraps its group's share; values,
//! `mac` and `lastmodified` are untouched, and the file keeps its own text except the metadata.
//!
//! Unlike sops, it refuses to delete the last group (sops writes a file nobody can decrypt) and
//! names an index that does not exist instead of crashing.

use super::args::{GroupsAddArgs, GroupsDeleteArgs, InputArgs};
use super::lifecycle;
use crate::config::CliKeys;
use crate::engine::{self, Context};
use crate::error::{Code, Error, Result};
use crate::format::Edit;
use crate::keys::{KeyRef, KeyService};
use crate::metadata::Metadata;

/// Unwrap the data key of `file` and write it back with `groups` and `threshold`.
/// `named`: the keys the user gave on the command line (the new group); their Vault servers
/// may receive the token, the file's may not.
fn regroup(
    input_type: Option<&str>,
    file: &str,
    decryption_order: Option<&str>,
    in_place: bool,
    named: &[Vec<KeyRef>],
    change: impl FnOnce(&Metadata) -> Result<(Vec<Vec<KeyRef>>, usize)>,
) -> Result<i32> {
    let input = InputArgs {
        input_type: input_type.map(str::to_string),
        ..InputArgs::default()
    };
    let (inf, outf, parsed) = lifecycle::parse_only(&input, file)?;
    let mut meta = engine::metadata_of(parsed.as_ref())?;
    let (groups, threshold) = change(&meta)?;
    let ks = KeyService::trusting(named);
    let order = engine::parse_decryption_order(decryption_order)?;
    crate::audit::session::unwrapping(parsed.metadata());
    let (key, by) = engine::unwrap_data_key_by(&meta, &ks, &order)?;
    crate::audit::session::unwrapped_by(&by);
    // An integrity field is checked before the new groups are authenticated in its place.
    let required = super::integrity_required(&input, Some(file));
    engine::check_integrity(&meta, parsed.docs(), &key, required)?;
    let mut ctx = Context::system();
    engine::rewrap(&mut meta, &key, &groups, threshold, &ks, &mut ctx)?;
    if meta.integrity.is_some() {
        engine::reauthenticate(&mut meta, parsed.docs(), &key);
    }
    let edits = vec![Edit::Keep; engine::leaf_count(parsed.docs())];
    let (out, _) = lifecycle::render_checked(
        Some(parsed.as_ref()),
        inf,
        parsed.docs(),
        &edits,
        &meta,
        outf,
        &super::layout(),
    )?;
    super::io::emit_output(Some(file), in_place, None, &out)?;
    Ok(0)
}

pub fn run_add(a: &GroupsAddArgs) -> Result<i32> {
    let group = CliKeys {
        age: a.age.clone(),
        pgp: a.pgp.clone(),
        kms: a.kms.clone(),
        aws_profile: a.aws_profile.clone(),
        gcp_kms: a.gcp_kms.clone(),
        azure_kv: a.azure_kv.clone(),
        hc_vault_transit: a.hc_vault_transit.clone(),
        hckms: a.hckms.clone(),
        encryption_context: a.encryption_context.clone(),
        ..CliKeys::default()
    }
    .key_group()?;
    if group.is_empty() {
        return Err(Error::generic("the new key group has no keys")
            .hint("name its keys, e.g. `veil groups add -f FILE --age age1… --age age1…`"));
    }
    let named = [group.clone()];
    regroup(
        a.input_type.as_deref(),
        &a.file,
        a.change.decryption_order.as_deref(),
        a.in_place,
        &named,
        |meta| {
            let mut groups = engine::key_refs(meta);
            groups.push(group);
            let t = if a.shamir_threshold != 0 {
                a.shamir_threshold
            } else {
                meta.shamir_threshold
            };
            Ok((groups, t))
        },
    )
}

pub fn run_delete(a: &GroupsDeleteArgs) -> Result<i32> {
    regroup(
        a.input_type.as_deref(),
        &a.file,
        a.change.decryption_order.as_deref(),
        a.in_place,
        &[],
        |meta| {
            let mut groups = engine::key_refs(meta);
            let n = groups.len();
            if a.index >= n {
                return Err(Error::generic(format!(
                    "there is no key group {}: the file has {n} (numbered from 0)",
                    a.index
                ))
                .hint("list the groups with `veil decrypt` … or look at the sops metadata; indexes start at 0"));
            }
            if n == 1 {
                return Err(Error::new(
                    Code::Generic,
                    "refusing to delete the only key group: nobody could decrypt the file",
                )
                .hint("add another group first (`veil groups add`), or change keys with `veil rotate --add-age/--rm-age`"));
            }
            groups.remove(a.index);
            let t = if a.shamir_threshold != 0 {
                a.shamir_threshold
            } else {
                meta.shamir_threshold
            };
            if groups.len() < t {
                return Err(Error::generic(format!(
                    "removing this key group will make the Shamir threshold impossible to satisfy: \
                     Shamir threshold is {t}, but we only have {} key groups",
                    groups.len()
                ))
                .hint("lower the threshold with --shamir-secret-sharing-threshold, or add a group first"));
            }
            Ok((groups, t))
        },
    )
}
