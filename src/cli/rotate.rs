//! `veil rotate FILE`: a new data key, every value sealed again, every master key wrapped
//! again; `--add-*`/`--rm-*` change the keys at the same time (added to the first key group,
//! removed from every group), as sops does.
//!
//! The file keeps its own text: every `ENC[…]` changes (new key; the IVs are reused, as sops
//! does), plus the wrapped keys, `mac` and `lastmodified`. It must not drop a key group silently:
//! removing the last key of a group is refused.

use super::args::{ChangeArgs, InputArgs, KeyChangeArgs, OutputArgs, RotateArgs};
use super::lifecycle;
use crate::config::CliKeys;
use crate::engine::{self, Context};
use crate::error::{Code, Error, Result};
use crate::keys::{KeyRef, KeyService};

impl KeyChangeArgs {
    /// Whether any `--add-*` or `--rm-*` flag names a key.
    pub fn any(&self) -> bool {
        [
            &self.add_age,
            &self.rm_age,
            &self.add_pgp,
            &self.rm_pgp,
            &self.add_kms,
            &self.rm_kms,
            &self.add_gcp_kms,
            &self.rm_gcp_kms,
            &self.add_azure_kv,
            &self.rm_azure_kv,
            &self.add_hc_vault_transit,
            &self.rm_hc_vault_transit,
            &self.add_hckms,
            &self.rm_hckms,
        ]
        .iter()
        .any(|v| v.iter().any(|s| !s.trim().is_empty()))
    }

    fn added(&self) -> Result<Vec<KeyRef>> {
        CliKeys {
            age: self.add_age.clone(),
            pgp: self.add_pgp.clone(),
            kms: self.add_kms.clone(),
            gcp_kms: self.add_gcp_kms.clone(),
            azure_kv: self.add_azure_kv.clone(),
            hc_vault_transit: self.add_hc_vault_transit.clone(),
            hckms: self.add_hckms.clone(),
            encryption_context: self.encryption_context.clone(),
            ..CliKeys::default()
        }
        .key_group()
    }

    fn removed(&self) -> Result<Vec<KeyRef>> {
        CliKeys {
            age: self.rm_age.clone(),
            pgp: self.rm_pgp.clone(),
            kms: self.rm_kms.clone(),
            gcp_kms: self.rm_gcp_kms.clone(),
            azure_kv: self.rm_azure_kv.clone(),
            hc_vault_transit: self.rm_hc_vault_transit.clone(),
            hckms: self.rm_hckms.clone(),
            ..CliKeys::default()
        }
        .key_group()
    }
}

/// The file's key groups with the flags' keys added to the first group and removed from all.
pub fn changed_groups(groups: &[Vec<KeyRef>], kc: &KeyChangeArgs) -> Result<Vec<Vec<KeyRef>>> {
    let removed: Vec<(&'static str, String)> = kc
        .removed()?
        .iter()
        .map(|k| (k.kind(), engine::key_identity(k)))
        .collect();
    let mut out: Vec<Vec<KeyRef>> = groups
        .iter()
        .map(|g| {
            g.iter()
                .filter(|k| !removed.contains(&(k.kind(), engine::key_identity(k))))
                .cloned()
                .collect()
        })
        .collect();
    let added = kc.added()?;
    if !added.is_empty() {
        if out.is_empty() {
            out.push(Vec::new());
        }
        for k in added {
            if !out[0].contains(&k) {
                out[0].push(k);
            }
        }
    }
    if let Some(i) = out.iter().position(Vec::is_empty) {
        return Err(Error::generic(format!(
            "removing these keys would leave key group {i} empty, and the file could not be decrypted"
        ))
        .hint("keep at least one key in every group, or delete the group with `veil groups delete`"));
    }
    Ok(out)
}

pub fn run(a: &RotateArgs) -> Result<i32> {
    let mut kc = a.key_changes.clone();
    kc.encryption_context = a.encryption_context.clone();
    rotate_file(&a.input, &a.output, &a.change, &kc, &a.file)
}

/// Rotate `file` (also the legacy `-r`).
pub fn rotate_file(
    input: &InputArgs,
    output: &OutputArgs,
    change: &ChangeArgs,
    kc: &KeyChangeArgs,
    file: &str,
) -> Result<i32> {
    if kc.any() && !std::path::Path::new(file).exists() {
        let abs = super::io::go_abs(file);
        return Err(Error::new(
            Code::CannotChangeKeysFromNonExistentFile,
            format!(
                "Error: cannot add or remove keys on non-existent file \"{}\", use the `edit` subcommand instead.",
                abs.display()
            ),
        )
        .hint("check the path; to create a file, use `veil encrypt` or `veil edit`"));
    }
    // Vault servers named by --add-hc-vault-transit may receive the token; the file's may not.
    let ks = KeyService::trusting(&[kc.added().unwrap_or_default()]);
    let o = lifecycle::open(
        input,
        file,
        change.ignore_mac,
        change.decryption_order.as_deref(),
        &ks,
    )?;
    let groups = changed_groups(&engine::key_refs(&o.dec.metadata), kc)?;
    let mut stash = o.dec.stash.clone();
    let mut ctx = Context::system();
    let docs = o.dec.docs.clone();
    let (r, _new_key) = engine::rotate(
        &docs,
        &o.dec.metadata,
        &mut stash,
        &groups,
        o.dec.metadata.shamir_threshold,
        &ks,
        &mut ctx,
    )?;
    let out = lifecycle::render_same_shape(&o, &docs, r.edits, &r.metadata, &super::layout())?;
    super::io::emit_output(Some(file), output.in_place, output.output.as_deref(), &out)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(r: &str) -> KeyRef {
        KeyRef::Age {
            recipient: r.into(),
        }
    }

    const A: &str = "age1pn7k6f6t6akcxv3jejfavpvdatyrcy4sftyerwzkchtrh4w8cerqglk7dv";
    const B: &str = "age12wtyw8k8824e2zgd2famfa8q84ptrcf892vjqfrr6nhy42s0huqs35sryy";

    #[test]
    fn add_to_first_remove_from_all() {
        let groups = vec![vec![age(A)], vec![age(A), age(B)]];
        let kc = KeyChangeArgs {
            rm_age: vec![A.into()],
            add_age: vec![B.into()],
            ..Default::default()
        };
        assert_eq!(
            changed_groups(&groups, &kc).unwrap(),
            vec![vec![age(B)], vec![age(B)]]
        );
        let kc = KeyChangeArgs {
            rm_age: vec![A.into()],
            ..Default::default()
        };
        assert!(
            changed_groups(&groups, &kc).is_err(),
            "group 0 would be empty"
        );
        assert!(!KeyChangeArgs::default().any());
    }
}
