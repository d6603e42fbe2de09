//! HashiCorp Vault / OpenBao transit keys: server address, engine path, key name.

use super::{Field, FieldSource, KeyKind, ParseOptions};
use crate::error::{Error, Result};
use crate::keys::{Backend, KeyRef, LocalOptions};

pub struct HcVault;

impl KeyKind for HcVault {
    fn name(&self) -> &'static str {
        "hc_vault"
    }
    fn env_var(&self) -> &'static str {
        "SOPS_VAULT_URIS"
    }
    fn config_field(&self) -> &'static str {
        "hc_vault_transit_uri"
    }
    fn group_field(&self) -> &'static str {
        "hc_vault"
    }
    fn parse(&self, text: &str, _: &ParseOptions) -> Result<KeyRef> {
        parse_vault_uri(text)
    }
    fn identity(&self, key: &KeyRef) -> String {
        match key {
            KeyRef::HcVault {
                address,
                engine_path,
                key_name,
            } => format!("{address}/v1/{engine_path}/keys/{key_name}"),
            _ => String::new(),
        }
    }
    fn layout<'a>(&self, key: &'a KeyRef) -> Vec<(&'static str, Field<'a>)> {
        match key {
            KeyRef::HcVault {
                address,
                engine_path,
                key_name,
            } => vec![
                ("vault_address", Field::Text(address)),
                ("engine_path", Field::Text(engine_path)),
                ("key_name", Field::Text(key_name)),
                ("created_at", Field::CreatedAt),
                ("enc", Field::Enc),
            ],
            _ => Vec::new(),
        }
    }
    fn read_metadata(&self, entry: &dyn FieldSource) -> KeyRef {
        KeyRef::HcVault {
            address: entry.text("vault_address"),
            engine_path: entry.text("engine_path"),
            key_name: entry.text("key_name"),
        }
    }
    fn always_in_group(&self) -> bool {
        true
    }
    fn backend(&self, opts: &LocalOptions) -> Option<Box<dyn Backend>> {
        #[cfg(feature = "vault")]
        return Some(Box::new(crate::keys::vault::VaultBackend::from_env(
            &opts.vault_addresses,
        )));
        #[cfg(not(feature = "vault"))]
        {
            let _ = opts;
            None
        }
    }
}

/// `https://host:8200/v1/<engine path…>/keys/<name>` → address, engine path, key name.
/// A prefix before `/v1/` is rejected, as sops does.
pub fn parse_vault_uri(uri: &str) -> Result<KeyRef> {
    const EXAMPLE: &str = "https://vault.example.com:8200/v1/transit/keys/keyName";
    let hint = || format!("Vault transit keys look like {EXAMPLE}");
    let (scheme, rest) = match uri.split_once("://") {
        Some((s, r))
            if !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) =>
        {
            (s, r)
        }
        _ => {
            return Err(Error::generic(format!(
                "missing scheme in Vault URL (should be like this: {EXAMPLE}), got: {uri}"
            ))
            .hint(hint()))
        }
    };
    let rest = rest.split('#').next().unwrap_or("");
    let (authority, path_query) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = path_query.split('?').next().unwrap_or("");
    // sops runs these two regexes over the request URI (path and query).
    let prefixed = regex::Regex::new(r"/[^/]+/v[\d]+/[^/]+/[^/]+/[^/]+")
        .map_err(|e| Error::generic(e.to_string()))?;
    let shaped = regex::Regex::new(r"/v[\d]+/[^/]+/[^/]+/[^/]+")
        .map_err(|e| Error::generic(e.to_string()))?;
    let request_uri = if path_query.starts_with('/') {
        path_query.to_string()
    } else {
        format!("/{path_query}")
    };
    if prefixed.is_match(&request_uri) {
        return Err(Error::generic(format!(
            "running Vault with a prefixed URL is not supported! (Format has to be like {EXAMPLE})"
        ))
        .hint(hint()));
    }
    if !shaped.is_match(&request_uri) {
        return Err(Error::generic(format!(
            "vault path does not seem to be formatted correctly: (eg. {EXAMPLE})"
        ))
        .hint(hint()));
    }
    let dirs: Vec<&str> = path.trim_matches('/').split('/').collect();
    if dirs.len() < 3 {
        return Err(Error::generic(format!(
            "vault path does not seem to be formatted correctly: (eg. {EXAMPLE})"
        ))
        .hint(hint()));
    }
    let key_name = dirs[dirs.len() - 1].to_string();
    let engine_path = dirs[1..dirs.len() - 2]
        .iter()
        .filter(|d| !d.is_empty() && **d != ".")
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    Ok(KeyRef::HcVault {
        address: format!("{scheme}://{authority}"),
        engine_path,
        key_name,
    })
}
