//! Vault/OpenBao KV destinations: the decrypted top-level map written as one secret, KV v1
//! (`PUT /v1/MOUNT/PATH/NAME` with the map) or v2 (`PUT /v1/MOUNT/data/PATH/NAME` with
//! `{"data": map}`), as sops's `VaultDestination` does. For v2 the current version is read first,
//! and an identical secret is left alone instead of getting a new version.
//!
//! The token, TLS settings and address allowlist are the transit backend's
//! ([`crate::keys::vault`]): `VAULT_TOKEN` (else `~/.vault-token`), `VAULT_CACERT`/`CAPATH`,
//! `VAULT_NAMESPACE`, `VAULT_SKIP_VERIFY`. The token goes only to the `VAULT_ADDR` origin or an
//! address in `SOPS_HC_VAULT_ALLOWLIST`; a rule's `vault_address` is just a request, because
//! `.sops.yaml` comes with the repository. sops's default address (`https://127.0.0.1:8200`) is
//! allowed when neither the rule nor `VAULT_ADDR` names one. The secret path is built from the
//! rule and the file name, so its segments are checked (no `.`/`..`, no empty segment) and
//! percent-encoded, and Vault's own `sys/`, `auth/` and `identity/` endpoints are refused: a
//! rule must not turn a publish into, say, a policy write. The plaintext lives only in the
//! request body, which is zeroized after sending; it never reaches an error or a log line.

use super::rules::{VaultDestination, DEFAULT_VAULT_ADDRESS};
use super::Uploaded;
use crate::error::{Error, Result};
use crate::keys::vault::{self as transit, VaultBackend};
use crate::net::{describe_reqwest, percent_encode};
use serde_json::{Map, Value as Json};
use std::io::Read;
use zeroize::Zeroizing;

/// Mounts that are Vault's own machinery, never a KV engine.
const SYSTEM_MOUNTS: [&str; 3] = ["sys", "auth", "identity"];

/// The secret path (after `/v1/`), checked and percent-encoded segment by segment.
pub fn encoded_secret_path(dest: &VaultDestination, name: &str) -> Result<String> {
    let raw = dest.secret_path(name);
    let bad = |why: &str| {
        Error::generic(format!("refusing the vault secret path {raw:?}: {why}")).hint(
            "vault_kv_mount_name, vault_path and the file's name must form a plain path under a KV mount",
        )
    };
    let segs: Vec<&str> = raw.split('/').collect();
    if SYSTEM_MOUNTS.contains(&segs[0]) {
        return Err(bad("it is one of Vault's system endpoints, not a KV mount"));
    }
    let mut out = Vec::with_capacity(segs.len());
    for seg in segs {
        if seg.is_empty() || seg == "." || seg == ".." {
            return Err(bad("it has an empty, `.` or `..` segment"));
        }
        if seg.chars().any(char::is_control) {
            return Err(bad("it has a control character"));
        }
        out.push(percent_encode(seg));
    }
    Ok(out.join("/"))
}

/// Write `data` as the secret for `name`.
pub fn write(dest: &VaultDestination, name: &str, data: &Map<String, Json>) -> Result<Uploaded> {
    let address = dest.effective_address();
    let path = encoded_secret_path(dest, name)?;
    let defaulted = dest.address.is_empty() && crate::env::var(transit::VAULT_ADDR).is_none();
    let extra: Vec<String> = if defaulted {
        vec![DEFAULT_VAULT_ADDRESS.to_string()]
    } else {
        Vec::new()
    };
    let backend = VaultBackend::from_env(&extra);
    let fail = |why: String| {
        Error::generic(format!(
            "failed to publish to vault at {}/v1/{path}: {why}",
            address.trim_end_matches('/')
        ))
    };
    backend.check_address(&address).map_err(|e| {
        fail(e).hint(format!(
            "a destination rule's vault_address is not trusted by itself; set {} to your Vault, or allow the address with {}",
            transit::VAULT_ADDR,
            transit::SOPS_HC_VAULT_ALLOWLIST
        ))
    })?;
    let (token, src, why) = backend.token();
    let Some(token) = token else {
        return Err(fail(why.clone().unwrap_or_default()).hint(format!(
            "log in (vault login / bao login) or set {}",
            transit::VAULT_TOKEN
        )));
    };
    let client = backend.client().map_err(fail)?;
    let url = format!("{}/v1/{path}", address.trim_end_matches('/'));
    let send = |req: reqwest::blocking::RequestBuilder| {
        let mut req = req
            .header("X-Vault-Token", token.as_str())
            .header("X-Vault-Request", "true");
        if let Some(ns) = &backend.settings.namespace {
            req = req.header("X-Vault-Namespace", ns);
        }
        let resp = req
            .send()
            .map_err(|e| format!("{} ({src})", describe_reqwest(&e)))?;
        let status = resp.status().as_u16();
        let mut text = Zeroizing::new(String::new());
        let _ = resp.take(transit::MAX_RESPONSE).read_to_string(&mut text);
        let json: Option<Json> = serde_json::from_str(&text).ok();
        Ok::<_, String>((status, json))
    };

    let mut outcome = Uploaded::default();
    if dest.kv_version == 2 {
        match send(client.get(&url)) {
            Ok((200, Some(j))) => {
                if j.get("data").and_then(|d| d.get("data")) == Some(&Json::Object(data.clone())) {
                    outcome.up_to_date = true;
                    return Ok(outcome);
                }
            }
            Ok((404, _)) => {}
            _ => {
                outcome.warning = Some(format!(
                    "Cannot check if destination secret already exists in {}. New version will be created even if the data has not been changed.",
                    dest.secret_path(name)
                ));
            }
        }
    }
    let body = if dest.kv_version == 1 {
        serde_json::to_vec(data)
    } else {
        serde_json::to_vec(&serde_json::json!({ "data": data }))
    }
    .map_err(|e| fail(format!("cannot encode the secret as JSON: {e}")))?;
    let body = Zeroizing::new(body);
    let (status, json) = send(
        client
            .put(&url)
            .header("Content-Type", "application/json")
            .body(body.to_vec()),
    )
    .map_err(fail)?;
    if !(200..300).contains(&status) {
        return Err(fail(format!(
            "the server answered {status}: {}",
            transit::error_text(json.as_ref())
        ))
        .hint("check the mount name and KV version, and that the token's policy may write there"));
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_paths_stay_under_the_kv_mount() {
        let d = VaultDestination::new("", "team/", "secret", 2);
        assert_eq!(
            encoded_secret_path(&d, "my app.yaml").unwrap(),
            "secret/data/team/my%20app.yaml"
        );
        assert_eq!(
            encoded_secret_path(&d, "sub/a?b#c%d").unwrap(),
            "secret/data/team/sub/a%3Fb%23c%25d"
        );
        for (mount, path, name) in [
            ("sys/", "policies/acl/", "evil"),
            ("auth/", "token/", "create"),
            ("identity", "entity", "x"),
            ("kv", "../sys/", "x"),
            ("kv", "a//b", "x"),
            ("kv", "a", "."),
            ("kv", "a", "x\ny"),
        ] {
            let d = VaultDestination::new("", path, mount, 1);
            assert!(
                encoded_secret_path(&d, name).is_err(),
                "{mount}{path}{name}"
            );
        }
    }
}
