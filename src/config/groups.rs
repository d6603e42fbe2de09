//! The keys of one creation rule: the comma strings and lists of the flat fields and the
//! `key_groups` entries (with `merge`), read into [`KeyRef`]s in sops's order, duplicates removed.
//! It names keys only; it never contacts a key service.

use super::*;
use crate::error::Result;
use crate::keys::KeyRef;
use std::collections::BTreeMap;

/// The strings of a key field: a comma-separated string or a list of strings (each of which
/// may itself hold commas, as sops joins and re-splits them). Pieces are trimmed; empty ones
/// are dropped.
pub(super) fn key_strings(node: Option<&Node>, field: &str) -> Result<Vec<String>> {
    let bad = |got: &str| {
        config_error(format!(
            "invalid {field} key configuration: expected string, []string, or nil, got {got}"
        ))
        .hint(format!(
            "write {field} as a comma-separated string or a list of strings"
        ))
    };
    let mut raw: Vec<&str> = Vec::new();
    match node {
        None => {}
        Some(n @ Node::Scalar { .. }) => raw.extend(n.text()),
        Some(Node::List(items)) => {
            for i in items {
                match i {
                    Node::Scalar { .. } => raw.extend(i.text()),
                    other => {
                        return Err(config_error(format!(
                            "invalid {field} key configuration: expected string in list, got {}",
                            other.kind()
                        ))
                        .hint(format!(
                            "write {field} as a comma-separated string or a list of strings"
                        )))
                    }
                }
            }
        }
        Some(other) => return Err(bad(other.kind())),
    }
    Ok(raw
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect())
}

pub(super) fn age_key(r: &str) -> Result<KeyRef> {
    let r = r.trim();
    crate::keys::age::validate_recipient(r)?;
    Ok(KeyRef::Age {
        recipient: r.to_string(),
    })
}

pub(super) fn pgp_key(fp: &str) -> KeyRef {
    KeyRef::Pgp {
        fingerprint: fp.replace(' ', ""),
    }
}

/// A `--kms`/`kms:` entry: spaces removed, `KEY_ARN+ROLE_ARN` splits off the role. The split
/// is on `+arn:` in any partition (`aws`, `aws-cn`, `aws-us-gov`…), as sops does since 3.12: an
/// ARN may hold `+` in its path but never `:`, so `+arn:` can only join two ARNs.
pub(super) fn kms_from_arn(
    s: &str,
    context: &BTreeMap<String, String>,
    aws_profile: &str,
) -> KeyRef {
    let arn = s.replace(' ', "");
    let (arn, role) = match arn.find("+arn:") {
        Some(i) if i > 0 => (arn[..i].to_string(), arn[i + 1..].to_string()),
        _ => (arn, String::new()),
    };
    KeyRef::Kms {
        arn,
        role,
        context: context.clone(),
        aws_profile: aws_profile.to_string(),
    }
}

pub(super) fn gcp_key(id: &str) -> KeyRef {
    KeyRef::GcpKms {
        resource_id: id.replace(' ', ""),
    }
}

/// `https://<vault>/keys/<name>[/<version>]`; a missing version is resolved at encryption.
pub fn parse_azure_url(url: &str) -> Result<KeyRef> {
    let url = url.trim();
    let bad = || {
        config_error(format!("could not parse {url:?} into a valid Azure Key Vault MasterKey"))
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

/// `https://host:8200/v1/<engine path…>/keys/<name>` → address, engine path, key name
/// (spec 4.7). A prefix before `/v1/` is rejected, as sops does.
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
            return Err(config_error(format!(
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
        .map_err(|e| config_error(e.to_string()))?;
    let shaped =
        regex::Regex::new(r"/v[\d]+/[^/]+/[^/]+/[^/]+").map_err(|e| config_error(e.to_string()))?;
    let request_uri = if path_query.starts_with('/') {
        path_query.to_string()
    } else {
        format!("/{path_query}")
    };
    if prefixed.is_match(&request_uri) {
        return Err(config_error(format!(
            "running Vault with a prefixed URL is not supported! (Format has to be like {EXAMPLE})"
        ))
        .hint(hint()));
    }
    if !shaped.is_match(&request_uri) {
        return Err(config_error(format!(
            "vault path does not seem to be formatted correctly: (eg. {EXAMPLE})"
        ))
        .hint(hint()));
    }
    let dirs: Vec<&str> = path.trim_matches('/').split('/').collect();
    if dirs.len() < 3 {
        return Err(config_error(format!(
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

/// Huawei Cloud KMS `region:uuid`.
pub fn parse_hckms(id: &str) -> Result<KeyRef> {
    let id = id.trim();
    let hint = "Huawei Cloud KMS keys are written region:key-uuid, e.g. cn-north-4:0f1e…";
    let Some((region, uuid)) = id.split_once(':') else {
        return Err(config_error(format!(
            "invalid key ID format: expected 'region:key-uuid', got {id:?}"
        ))
        .hint(hint));
    };
    if region.trim().is_empty() {
        return Err(config_error(format!("region cannot be empty in key ID: {id:?}")).hint(hint));
    }
    if uuid.trim().is_empty() {
        return Err(config_error(format!("key UUID cannot be empty in key ID: {id:?}")).hint(hint));
    }
    Ok(KeyRef::Hckms {
        key_id: id.to_string(),
    })
}

/// The identity sops deduplicates a group by (`%T/ToString()`).
fn identity(k: &KeyRef) -> (&'static str, String) {
    let id = match k {
        KeyRef::Age { recipient } => recipient.clone(),
        KeyRef::Pgp { fingerprint } => fingerprint.clone(),
        KeyRef::Kms { arn, .. } => arn.clone(),
        KeyRef::GcpKms { resource_id } => resource_id.clone(),
        KeyRef::AzureKv {
            vault_url,
            name,
            version,
        } => format!("{vault_url}/keys/{name}/{version}"),
        KeyRef::HcVault {
            address,
            engine_path,
            key_name,
        } => format!("{address}/v1/{engine_path}/keys/{key_name}"),
        KeyRef::Hckms { key_id } => key_id.clone(),
    };
    (k.kind(), id)
}

fn dedupe(group: Vec<KeyRef>) -> Vec<KeyRef> {
    let mut seen = std::collections::HashSet::new();
    group
        .into_iter()
        .filter(|k| seen.insert(identity(k)))
        .collect()
}

pub(super) fn str_field<'a>(m: &'a Node, name: &str) -> &'a str {
    m.get(name).and_then(Node::text).unwrap_or("")
}

fn list_of<'a>(group: &'a Node, field: &str) -> Result<&'a [Node]> {
    match group.get(field) {
        None => Ok(&[]),
        Some(Node::List(items)) => Ok(items),
        Some(other) => Err(config_error(format!(
            "error loading config: key_groups {field} is {}, not a list",
            other.kind()
        ))
        .hint(format!("write {field} inside key_groups as a YAML list"))),
    }
}

fn map_entries<'a>(group: &'a Node, field: &str, example: &str) -> Result<Vec<&'a Node>> {
    list_of(group, field)?
        .iter()
        .map(|n| match n {
            Node::Map(_) => Ok(n),
            other => Err(config_error(format!(
                "error loading config: a key_groups {field} entry is {}, not a map",
                other.kind()
            ))
            .hint(format!("write each {field} entry as a map, e.g. {example}"))),
        })
        .collect()
}

/// sops's `extractMasterKeys`: `merge` first (recursively), then age, pgp, kms, gcp_kms,
/// hckms, azure_keyvault, hc_vault; duplicates removed.
pub(super) fn group_keys(group: &Node, depth: usize) -> Result<Vec<KeyRef>> {
    if depth > MAX_NESTING {
        return Err(config_error(
            "error loading config: key_groups merge is nested too deeply",
        ));
    }
    let mut keys = Vec::new();
    if group.is_null() {
        return Ok(keys);
    }
    if !matches!(group, Node::Map(_)) {
        return Err(config_error(format!(
            "error loading config: a key group is {}, not a map",
            group.kind()
        ))
        .hint("each key_groups entry is a map such as {age: [age1…], pgp: [FINGERPRINT]}"));
    }
    for sub in list_of(group, "merge")? {
        keys.extend(group_keys(sub, depth + 1)?);
    }
    for r in key_strings(group.get("age"), "age")? {
        keys.push(age_key(&r)?);
    }
    for fp in key_strings(group.get("pgp"), "pgp")? {
        keys.push(pgp_key(&fp));
    }
    for k in map_entries(
        group,
        "kms",
        "{arn: arn:aws:kms:…, role: …, context: {k: v}}",
    )? {
        let arn = str_field(k, "arn");
        if arn.is_empty() {
            return Err(
                config_error("error loading config: a key_groups kms entry has no arn")
                    .hint("write kms entries as {arn: arn:aws:kms:…}"),
            );
        }
        let mut context = BTreeMap::new();
        match k.get("context") {
            None => {}
            Some(Node::Map(items)) => {
                for (ck, cv) in items {
                    context.insert(ck.clone(), cv.text().unwrap_or("").to_string());
                }
            }
            Some(other) => {
                return Err(config_error(format!(
                    "error loading config: a kms context is {}, not a map",
                    other.kind()
                ))
                .hint("write the encryption context as a map: context: {key: value}"))
            }
        }
        keys.push(KeyRef::Kms {
            arn: arn.to_string(),
            role: str_field(k, "role").to_string(),
            context,
            aws_profile: str_field(k, "aws_profile").to_string(),
        });
    }
    for k in map_entries(group, "gcp_kms", "{resource_id: projects/…/cryptoKeys/…}")? {
        keys.push(gcp_key(str_field(k, "resource_id")));
    }
    for k in map_entries(group, "hckms", "{key_id: region:uuid}")? {
        keys.push(parse_hckms(str_field(k, "key_id"))?);
    }
    for k in map_entries(
        group,
        "azure_keyvault",
        "{vaultUrl: https://…, key: name, version: …}",
    )? {
        keys.push(KeyRef::AzureKv {
            vault_url: str_field(k, "vaultUrl").to_string(),
            name: str_field(k, "key").to_string(),
            version: str_field(k, "version").to_string(),
        });
    }
    for uri in key_strings(group.get("hc_vault"), "hc_vault")? {
        keys.push(parse_vault_uri(&uri)?);
    }
    Ok(dedupe(keys))
}
