//! Azure Key Vault keys: vault URL, key name, version. The backend is `keys::azure_kv`.

use super::{Field, FieldSource, GroupSyntax, KeyKind, ParseOptions};
use crate::error::{Error, Result};
use crate::keys::{Backend, KeyRef, LocalOptions};

pub struct AzureKv;

impl KeyKind for AzureKv {
    fn name(&self) -> &'static str {
        "azure_kv"
    }
    fn env_var(&self) -> &'static str {
        "SOPS_AZURE_KEYVAULT_URLS"
    }
    fn config_field(&self) -> &'static str {
        "azure_keyvault"
    }
    fn group_syntax(&self) -> GroupSyntax {
        GroupSyntax::Maps("{vaultUrl: https://…, key: name, version: …}")
    }
    fn parse(&self, text: &str, _: &ParseOptions) -> Result<KeyRef> {
        parse_azure_url(text)
    }
    fn parse_group_entry(&self, entry: &dyn FieldSource) -> Result<KeyRef> {
        Ok(KeyRef::AzureKv {
            vault_url: entry.text("vaultUrl"),
            name: entry.text("key"),
            version: entry.text("version"),
        })
    }
    fn identity(&self, key: &KeyRef) -> String {
        match key {
            KeyRef::AzureKv {
                vault_url,
                name,
                version,
            } => format!("{vault_url}/keys/{name}/{version}"),
            _ => String::new(),
        }
    }
    fn layout<'a>(&self, key: &'a KeyRef) -> Vec<(&'static str, Field<'a>)> {
        match key {
            KeyRef::AzureKv {
                vault_url,
                name,
                version,
            } => vec![
                ("vault_url", Field::Text(vault_url)),
                ("name", Field::Text(name)),
                ("version", Field::Text(version)),
                ("created_at", Field::CreatedAt),
                ("enc", Field::Enc),
            ],
            _ => Vec::new(),
        }
    }
    fn backend(&self, opts: &LocalOptions) -> Option<Box<dyn Backend>> {
        #[cfg(feature = "azure-kv")]
        return Some(Box::new(crate::keys::azure_kv::AzureKvBackend::from_env(
            &opts.azure_vault_urls,
        )));
        #[cfg(not(feature = "azure-kv"))]
        {
            let _ = opts;
            None
        }
    }
    fn read_metadata(&self, entry: &dyn FieldSource) -> KeyRef {
        KeyRef::AzureKv {
            vault_url: entry.text("vault_url"),
            name: entry.text("name"),
            version: entry.text("version"),
        }
    }
}

/// `https://<vault>/keys/<name>[/<version>]`; a missing version is resolved at encryption.
pub fn parse_azure_url(url: &str) -> Result<KeyRef> {
    let url = url.trim();
    let bad = || {
        Error::generic(format!("could not parse {url:?} into a valid Azure Key Vault MasterKey"))
            .hint("Azure Key Vault keys look like https://<vault>.vault.azure.net/keys/<name>[/<version>]")
    };
    let rest = url.strip_prefix("https://").ok_or_else(bad)?;
    let (host, path) = rest.split_once('/').ok_or_else(bad)?;
    let path = path.strip_prefix("keys/").ok_or_else(bad)?;
    let (name, version) = match path.split_once('/') {
        Some((n, v)) => (n, v),
        None => (path, ""),
    };
    if host.is_empty() || name.is_empty() || version.contains('/') {
        return Err(bad());
    }
    Ok(KeyRef::AzureKv {
        vault_url: format!("https://{host}"),
        name: name.to_string(),
        version: version.to_string(),
    })
}
