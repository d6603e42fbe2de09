//! Azure Key Vault master keys: the data key encrypted by a vault's RSA key, over REST.
//!
//! As sops 3.13 does it: `POST {vault}/keys/{name}/{version}/encrypt` with
//! `{"alg": "RSA-OAEP-256", "value": base64url(data key)}`, and `enc` is the returned ciphertext
//! in base64url **without padding**; decrypt is the mirror image (an `enc` with padding or in
//! standard base64 is refused, as sops refuses it). A key given without a version (`--azure-kv
//! https://v.vault.azure.net/keys/name`, a rule's `version: ""`) is resolved with
//! `GET {vault}/keys/{name}` before the data key is wrapped, and the resolved version is what the
//! file records. Key Vault's authentication is a challenge: the first request to a vault goes
//! without token or body, the `401`'s `WWW-Authenticate` names the resource to get a token for,
//! and — as the Azure SDKs check — that resource's host must be a parent domain of the vault's
//! host, so a vault cannot ask for a token meant for another service. The token comes from
//! [`crate::azure_auth`] (azure-identity's default chain).
//!
//! **A file's metadata is untrusted**: its `vault_url` could name an attacker's server, which
//! would then receive a Key Vault token. By default a token goes only to HTTPS port 443 of a host
//! under Azure's Key Vault DNS suffixes ([`AZURE_SUFFIXES`]), or to a vault URL the user named
//! this run (`--azure-kv`, `SOPS_AZURE_KEYVAULT_URLS`, `.sops.yaml`); `VEIL_AZURE_KEYVAULT_ALLOW`
//! adds hosts (`host`, `host:port`, `https://host:port`, or `all`). Anything else is refused
//! before any connection. sops has no such check. This module never puts a token, a request
//! body or a header into a message.

use super::{Backend, KeyRef, Secret};
use crate::azure_auth::{AccessToken, AuthError, Settings};
use crate::env;
use crate::error::{Code, Error, Outcome, Result};
use crate::net::describe_reqwest;
use base64::Engine as _;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Read;
use std::rc::Rc;
use zeroize::Zeroizing;

/// Default Azure Key Vault key URLs for encryption (the default of `--azure-kv`).
pub const SOPS_AZURE_KEYVAULT_URLS: &str = "SOPS_AZURE_KEYVAULT_URLS";
/// Extra vault hosts a Key Vault token may be sent to (veil's; sops sends it anywhere).
pub const VEIL_AZURE_KEYVAULT_ALLOW: &str = "VEIL_AZURE_KEYVAULT_ALLOW";
/// The Key Vault REST API version veil speaks (the one sops 3.11's Go SDK sends).
pub const API_VERSION: &str = "7.6";
/// The algorithm sops uses.
pub const ALGORITHM: &str = "RSA-OAEP-256";
/// The DNS suffixes of Key Vault and Managed HSM in Azure's clouds (public, China, US
/// Government, Germany).
pub const AZURE_SUFFIXES: &[&str] = &[
    ".vault.azure.net",
    ".vault.azure.cn",
    ".vault.usgovcloudapi.net",
    ".vault.microsoftazure.de",
    ".managedhsm.azure.net",
    ".managedhsm.azure.cn",
    ".managedhsm.usgovcloudapi.net",
    ".managedhsm.microsoftazure.de",
];
/// Key Vault's answers are small; read at most this much.
const MAX_ANSWER: u64 = 1 << 20;

/// A vault URL's authority: lowercase `host[:port]` as written (no port when 443 is implied),
/// and the port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authority {
    pub host: String,
    pub port: u16,
    /// `host` or `host:port`, as in the URL: what the challenge check compares against.
    pub text: String,
}

/// Parse `https://host[:port]` (no path, no userinfo): a vault URL as sops stores it.
pub fn vault_authority(url: &str) -> std::result::Result<Authority, String> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| format!("vault URL {url:?} is not https://"))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    authority_of(rest).ok_or_else(|| format!("vault URL {url:?} is not https://host[:port]"))
}

fn authority_of(a: &str) -> Option<Authority> {
    if a.is_empty() || a.contains(['/', '@', '?', '#', '\\', '[', ']']) {
        return None;
    }
    let a = a.to_ascii_lowercase();
    let (host, port) = match a.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse::<u16>().ok().filter(|p| *p != 0)?),
        None => (a.clone(), 443),
    };
    if host.is_empty()
        || host.starts_with('.')
        || host.ends_with('.')
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return None;
    }
    Some(Authority {
        host,
        port,
        text: a,
    })
}

/// One allowlist entry.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Allowed {
    Host(String),
    HostPort(String, u16),
}

/// Where a Key Vault token may go. See the module docs.
#[derive(Clone, Debug, Default)]
pub struct Allowlist {
    all: bool,
    entries: Vec<Allowed>,
}

impl Allowlist {
    /// From `VEIL_AZURE_KEYVAULT_ALLOW` (absent: Azure's domains only).
    pub fn new(extra: Option<&str>) -> Allowlist {
        let mut a = Allowlist::default();
        for e in extra.unwrap_or("").split(',').map(str::trim) {
            if e.is_empty() {
                continue;
            }
            if e.eq_ignore_ascii_case("all") {
                a.all = true;
                continue;
            }
            let e = e.strip_prefix("https://").unwrap_or(e);
            let e = e.strip_suffix('/').unwrap_or(e);
            if let Some(x) = authority_of(e) {
                a.entries.push(if e.contains(':') {
                    Allowed::HostPort(x.host, x.port)
                } else {
                    Allowed::Host(x.host)
                });
            }
        }
        a
    }

    /// Allow a vault URL the user named this run.
    pub fn allow(&mut self, vault_url: &str) {
        if let Ok(a) = vault_authority(vault_url.trim()) {
            self.entries.push(Allowed::HostPort(a.host, a.port));
        }
    }

    pub fn permits(&self, a: &Authority) -> bool {
        self.all
            || (a.port == 443
                && AZURE_SUFFIXES
                    .iter()
                    .any(|s| a.host.len() > s.len() && a.host.ends_with(s)))
            || self.entries.iter().any(|e| match e {
                Allowed::Host(h) => *h == a.host,
                Allowed::HostPort(h, p) => *h == a.host && *p == a.port,
            })
    }

    fn refusal(&self, a: &Authority) -> String {
        format!(
            "refusing to send an Azure Key Vault token to https://{}: it is not under Azure's Key Vault domains (*.vault.azure.net…), not named on the command line or in .sops.yaml, and {VEIL_AZURE_KEYVAULT_ALLOW} does not list it; if you trust this vault, run with {VEIL_AZURE_KEYVAULT_ALLOW}={}",
            a.text, a.text
        )
    }
}

/// Key names: 1–127 letters, digits and dashes; versions: letters and digits (Key Vault's rules).
/// Both become URL path segments, so nothing else may pass.
fn check_name(name: &str, version: &str) -> std::result::Result<(), String> {
    let ok_name = !name.is_empty()
        && name.len() <= 127
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let ok_version = version.len() <= 64 && version.bytes().all(|b| b.is_ascii_alphanumeric());
    if ok_name && ok_version {
        Ok(())
    } else {
        Err(format!(
            "refusing the key {name:?} version {version:?}: Key Vault key names are letters, digits and dashes, versions letters and digits"
        ))
    }
}

/// Why a call failed: no credentials at all, or anything else.
enum CallError {
    NoCredentials(String),
    Failed(String),
}

impl CallError {
    fn text(self) -> String {
        match self {
            CallError::NoCredentials(s) | CallError::Failed(s) => s,
        }
    }
}

/// The Azure Key Vault backend.
pub struct AzureKvBackend {
    auth: Settings,
    allow: Allowlist,
    client: RefCell<Option<reqwest::blocking::Client>>,
    /// The challenge's scope, per vault authority.
    scopes: RefCell<HashMap<String, String>>,
    /// Tokens (or why none), per scope: credentials are resolved once per run.
    tokens: RefCell<HashMap<String, std::result::Result<Rc<AccessToken>, AuthError>>>,
}

impl std::fmt::Debug for AzureKvBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureKvBackend")
            .field("auth", &self.auth)
            .field("allow", &self.allow)
            .finish_non_exhaustive()
    }
}

impl AzureKvBackend {
    /// Credentials and allowlist from the environment; `named` are vault URLs the user gave
    /// this run (flags, `SOPS_AZURE_KEYVAULT_URLS`, creation rules), which may receive a token.
    pub fn from_env(named: &[String]) -> AzureKvBackend {
        let mut allow = Allowlist::new(env::var(VEIL_AZURE_KEYVAULT_ALLOW).as_deref());
        for n in named {
            allow.allow(n);
        }
        AzureKvBackend::new(Settings::from_env(), allow)
    }

    pub fn new(auth: Settings, allow: Allowlist) -> AzureKvBackend {
        AzureKvBackend {
            auth,
            allow,
            client: RefCell::new(None),
            scopes: RefCell::new(HashMap::new()),
            tokens: RefCell::new(HashMap::new()),
        }
    }

    fn client(&self) -> std::result::Result<reqwest::blocking::Client, String> {
        if let Some(c) = self.client.borrow().as_ref() {
            return Ok(c.clone());
        }
        let c = reqwest::blocking::Client::builder()
            .use_rustls_tls()
            .https_only(true)
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot set up the HTTPS client: {e}"))?;
        *self.client.borrow_mut() = Some(c.clone());
        Ok(c)
    }

    fn token(&self, scope: &str) -> std::result::Result<Rc<AccessToken>, AuthError> {
        if let Some(t) = self.tokens.borrow().get(scope) {
            return t.clone();
        }
        let t = self.auth.token(scope).map(Rc::new);
        if let Ok(t) = &t {
            // `--verbose` names where the credential came from (a kind, never a secret).
            crate::cli::log::step(format!(
                "azure_kv: Key Vault token for {scope} from {}",
                t.source
            ));
        }
        self.tokens
            .borrow_mut()
            .insert(scope.to_string(), t.clone());
        t
    }

    /// The scope to ask a token for, from the vault's challenge (once per vault).
    fn scope_for(
        &self,
        client: &reqwest::blocking::Client,
        vault: &Authority,
        method: reqwest::Method,
        url: &str,
    ) -> std::result::Result<String, CallError> {
        if let Some(s) = self.scopes.borrow().get(&vault.text) {
            return Ok(s.clone());
        }
        // The challenge request carries neither token nor body (the data key stays home).
        let resp = client
            .request(method, url)
            .header(reqwest::header::CONTENT_LENGTH, "0")
            .send()
            .map_err(|e| CallError::Failed(describe_reqwest(&e)))?;
        let status = resp.status();
        if status.as_u16() != 401 {
            let (_, why) = read_answer(resp);
            return Err(CallError::Failed(if status.is_success() {
                format!("https://{} answered without asking for a token", vault.text)
            } else {
                format!("{} {why}", status.as_u16())
            }));
        }
        let header = resp
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("")
            .to_string();
        let scope = challenge_scope(&header, vault).map_err(CallError::Failed)?;
        self.scopes
            .borrow_mut()
            .insert(vault.text.clone(), scope.clone());
        Ok(scope)
    }

    /// One Key Vault call: `method {vault}{path}?api-version=…` with a JSON body; the answer.
    fn call(
        &self,
        vault_url: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> std::result::Result<serde_json::Value, CallError> {
        let vault = vault_authority(vault_url).map_err(CallError::Failed)?;
        if !self.allow.permits(&vault) {
            return Err(CallError::Failed(self.allow.refusal(&vault)));
        }
        let client = self.client().map_err(CallError::Failed)?;
        let url = format!("https://{}{path}?api-version={API_VERSION}", vault.text);
        let scope = self.scope_for(&client, &vault, method.clone(), &url)?;
        let token = self.token(&scope).map_err(|e| match e {
            AuthError::NotConfigured(s) => CallError::NoCredentials(s),
            AuthError::Failed(s) => CallError::Failed(s),
        })?;
        let mut req = client.request(method, &url).bearer_auth(token.expose());
        req = match body {
            Some(b) => req.json(b),
            None => req,
        };
        let resp = req
            .send()
            .map_err(|e| CallError::Failed(describe_reqwest(&e)))?;
        let status = resp.status();
        let (json, why) = read_answer(resp);
        if !status.is_success() {
            return Err(CallError::Failed(format!(
                "Key Vault answered {} {why} (token from {})",
                status.as_u16(),
                token.source
            )));
        }
        json.ok_or_else(|| {
            CallError::Failed("Key Vault answered with something that is not JSON".into())
        })
    }

    /// The newest version of a key (`GET {vault}/keys/{name}`), as sops resolves a key given
    /// without one.
    pub fn resolve_version(&self, vault_url: &str, name: &str) -> Result<String> {
        let fail = |why: String| {
            Error::new(
                Code::Generic,
                format!("failed to fetch Azure Key {vault_url}/keys/{name} to retrieve its version: {why}"),
            )
            .hint("check the key URL, your Azure credentials (az login, AZURE_CLIENT_ID…) and the key's get permission")
        };
        check_name(name, "").map_err(fail)?;
        let j = self
            .call(
                vault_url,
                reqwest::Method::GET,
                // sops's Go SDK asks `/keys/{name}/` (an empty version segment).
                &format!("/keys/{name}/"),
                None,
            )
            .map_err(|e| fail(e.text()))?;
        let kid = j
            .get("key")
            .and_then(|k| k.get("kid"))
            .and_then(|k| k.as_str())
            .unwrap_or("");
        let version = kid.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        if version.is_empty() || kid.trim_end_matches('/').split('/').count() < 6 {
            return Err(fail(format!(
                "the answer has no key id with a version ({kid:?})"
            )));
        }
        check_name(name, version).map_err(fail)?;
        Ok(version.to_string())
    }

    fn op_path(name: &str, version: &str, op: &str) -> String {
        if version.is_empty() {
            format!("/keys/{name}/{op}")
        } else {
            format!("/keys/{name}/{version}/{op}")
        }
    }
}

/// The `value` of an encrypt/decrypt answer, decoded (base64url, padding tolerated).
fn result_value(j: &serde_json::Value) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
    let v = j
        .get("value")
        .and_then(|v| v.as_str())
        .ok_or("the answer has no value")?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(v.trim_end_matches('='))
        .map(Zeroizing::new)
        .map_err(|_| "the answer's value is not base64url".to_string())
}

/// The answer as JSON (if it is) and, for errors, Key Vault's `error.code: error.message` on
/// one line. The body may hold key material: it is zeroized and never quoted beyond that.
fn read_answer(resp: reqwest::blocking::Response) -> (Option<serde_json::Value>, String) {
    let mut text = Zeroizing::new(String::new());
    let _ = resp.take(MAX_ANSWER).read_to_string(&mut text);
    let json: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    let field = |n: &str| {
        json.as_ref()
            .and_then(|j| j.get("error"))
            .and_then(|e| e.get(n))
            .and_then(|v| v.as_str())
            .map(|s| {
                s.chars()
                    .filter(|c| !c.is_control())
                    .take(300)
                    .collect::<String>()
            })
    };
    let why = match (field("code"), field("message")) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c,
        (None, Some(m)) => m,
        _ => "(no error text)".into(),
    };
    (json, why)
}

/// The token scope a `WWW-Authenticate: Bearer authorization="…", resource="…"` (or
/// `scope="…"`) challenge asks for, after checking that its host is a parent domain of the
/// vault's (the Azure SDKs' check: a vault must not obtain a token meant for another service).
pub fn challenge_scope(header: &str, vault: &Authority) -> std::result::Result<String, String> {
    let rest = header.trim();
    let rest = rest
        .strip_prefix("Bearer ")
        .or_else(|| rest.strip_prefix("bearer "))
        .ok_or_else(|| "Key Vault's 401 has no Bearer challenge".to_string())?;
    let mut params: HashMap<String, String> = HashMap::new();
    for part in rest
        .split([',', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        if let Some((k, v)) = part.split_once('=') {
            params.insert(k.to_ascii_lowercase(), v.trim_matches('"').to_string());
        }
    }
    let resource = params
        .get("scope")
        .or_else(|| params.get("resource"))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| "Key Vault's challenge names no resource".to_string())?;
    let host = resource
        .strip_prefix("https://")
        .map(|r| r.split('/').next().unwrap_or(""))
        .unwrap_or("")
        .to_ascii_lowercase();
    if host.is_empty() || !vault.text.ends_with(&format!(".{host}")) {
        return Err(format!(
            "the challenge resource {resource:?} does not match the vault https://{}: refusing to ask for a token for it",
            vault.text
        ));
    }
    Ok(if resource.ends_with("/.default") {
        resource.clone()
    } else {
        format!("{}/.default", resource.trim_end_matches('/'))
    })
}

impl Backend for AzureKvBackend {
    fn kind(&self) -> &'static str {
        "azure_kv"
    }

    fn resolve(&self, key: &KeyRef) -> Result<Option<KeyRef>> {
        match key {
            KeyRef::AzureKv {
                vault_url,
                name,
                version,
            } if version.is_empty() => Ok(Some(KeyRef::AzureKv {
                vault_url: vault_url.clone(),
                name: name.clone(),
                version: self.resolve_version(vault_url, name)?,
            })),
            _ => Ok(None),
        }
    }

    fn wrap(&self, key: &KeyRef, secret: &[u8]) -> Result<String> {
        let KeyRef::AzureKv {
            vault_url,
            name,
            version,
        } = key
        else {
            return Err(Error::generic("azure_kv: not an Azure Key Vault key"));
        };
        let id = key.identity();
        let fail = |why: String| {
            Error::new(
                Code::Generic,
                format!("failed to encrypt sops data key with Azure Key Vault key '{id}': {why}"),
            )
            .hint("check the key URL, your Azure credentials (az login, AZURE_CLIENT_ID…) and the key's encrypt permission")
        };
        check_name(name, version).map_err(fail)?;
        let body = serde_json::json!({
            "alg": ALGORITHM,
            "value": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
        });
        let j = self
            .call(
                vault_url,
                reqwest::Method::POST,
                &Self::op_path(name, version, "encrypt"),
                Some(&body),
            )
            .map_err(|e| fail(e.text()))?;
        let ct = result_value(&j).map_err(fail)?;
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&ct[..]))
    }

    fn unwrap(&self, key: &KeyRef, enc: &str) -> std::result::Result<Secret, Outcome> {
        let KeyRef::AzureKv {
            vault_url,
            name,
            version,
        } = key
        else {
            return Err(Outcome::Unsupported);
        };
        let ct = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(enc)
            .map_err(|_| {
                Outcome::Failed(
                    "azure_kv: failed to base64 decode the encrypted key (sops stores base64url without padding)".into(),
                )
            })?;
        check_name(name, version).map_err(|e| Outcome::Failed(format!("azure_kv: {e}")))?;
        let body = serde_json::json!({
            "alg": ALGORITHM,
            "value": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&ct),
        });
        let j = self
            .call(
                vault_url,
                reqwest::Method::POST,
                &Self::op_path(name, version, "decrypt"),
                Some(&body),
            )
            .map_err(|e| match e {
                CallError::NoCredentials(s) => Outcome::NoIdentity(format!("azure_kv: {s}")),
                CallError::Failed(s) => Outcome::Failed(format!("azure_kv: {s}")),
            })?;
        let pt = result_value(&j).map_err(|e| Outcome::Failed(format!("azure_kv: {e}")))?;
        if pt.is_empty() {
            return Err(Outcome::Failed(
                "azure_kv: Key Vault decrypted the key to zero bytes".into(),
            ));
        }
        Ok(pt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(s: &str) -> Authority {
        vault_authority(s).unwrap()
    }

    #[test]
    fn only_azure_domains_or_named_vaults_get_a_token() {
        let a = Allowlist::new(None);
        assert!(a.permits(&auth("https://myvault.vault.azure.net")));
        assert!(a.permits(&auth("https://MyVault.vault.azure.net/")));
        assert!(a.permits(&auth("https://h.managedhsm.azure.net")));
        assert!(a.permits(&auth("https://v.vault.usgovcloudapi.net")));
        assert!(!a.permits(&auth("https://vault.azure.net")));
        assert!(!a.permits(&auth("https://myvault.vault.azure.net:8443")));
        assert!(!a.permits(&auth("https://myvault.vault.azure.net.evil.com")));
        assert!(!a.permits(&auth("https://evilvault.azure.net")));
        assert!(!a.permits(&auth("https://127.0.0.1:8443")));
        let mut a = Allowlist::new(Some("127.0.0.1:8443, https://kv.internal ,,"));
        assert!(a.permits(&auth("https://127.0.0.1:8443")));
        assert!(!a.permits(&auth("https://127.0.0.1:8444")));
        assert!(a.permits(&auth("https://kv.internal:9000")));
        assert!(!a.permits(&auth("https://127.0.0.2:1")));
        a.allow("https://127.0.0.2:1");
        assert!(a.permits(&auth("https://127.0.0.2:1")));
        assert!(Allowlist::new(Some("ALL")).permits(&auth("https://x.example:1")));
        for bad in [
            "http://v.vault.azure.net",
            "https://u@v.vault.azure.net",
            "https://v.vault.azure.net/path",
            "https://v.vault.azure.net:0",
            "https://v.vault.azure.net:99999",
            "https://[::1]:443",
            "https://",
        ] {
            assert!(vault_authority(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_refused_vault_is_never_contacted() {
        let b = AzureKvBackend::new(Settings::default(), Allowlist::new(None));
        let k = KeyRef::AzureKv {
            vault_url: "https://127.0.0.1:1".into(),
            name: "k".into(),
            version: "v1".into(),
        };
        match b.unwrap(&k, "AAAA") {
            Err(Outcome::Failed(m)) => {
                assert!(
                    m.contains("refusing to send an Azure Key Vault token"),
                    "{m}"
                );
                assert!(m.contains(VEIL_AZURE_KEYVAULT_ALLOW), "{m}");
            }
            other => panic!("{other:?}"),
        }
        let e = b.wrap(&k, &[1; 32]).unwrap_err().to_string();
        assert!(e.contains("refusing to send"), "{e}");
    }

    #[test]
    fn enc_must_be_unpadded_base64url_as_sops_writes_it() {
        let b = AzureKvBackend::new(Settings::default(), Allowlist::new(None));
        let k = KeyRef::AzureKv {
            vault_url: "https://v.vault.azure.net".into(),
            name: "k".into(),
            version: "v1".into(),
        };
        for bad in ["AAA=", "AA+/", "not base64!"] {
            assert!(
                matches!(b.unwrap(&k, bad), Err(Outcome::Failed(m)) if m.contains("base64")),
                "{bad}"
            );
        }
    }

    #[test]
    fn key_names_stay_path_segments() {
        assert!(check_name("sops-key-1", "0123abcdef").is_ok());
        assert!(check_name("sops", "").is_ok());
        for (n, v) in [
            ("", ""),
            ("..", ""),
            ("a/b", ""),
            ("a?x", ""),
            ("a", "v/1"),
            ("a", ".."),
        ] {
            assert!(check_name(n, v).is_err(), "{n} {v}");
        }
    }

    #[test]
    fn the_challenge_resource_must_be_a_parent_of_the_vault() {
        let v = auth("https://myvault.vault.azure.net");
        let h = r#"Bearer authorization="https://login.microsoftonline.com/72f988bf", resource="https://vault.azure.net""#;
        assert_eq!(
            challenge_scope(h, &v).unwrap(),
            "https://vault.azure.net/.default"
        );
        let h = r#"Bearer authorization="https://login.microsoftonline.com/t", scope="https://vault.azure.net/.default""#;
        assert_eq!(
            challenge_scope(h, &v).unwrap(),
            "https://vault.azure.net/.default"
        );
        for bad in [
            r#"Bearer authorization="https://login.microsoftonline.com/t", resource="https://management.azure.com""#,
            r#"Bearer authorization="https://login.microsoftonline.com/t""#,
            r#"Basic realm="x""#,
            "",
        ] {
            assert!(challenge_scope(bad, &v).is_err(), "{bad}");
        }
        // The loopback form the test fake uses: `0.0.1:PORT` is a parent "domain" of
        // `127.0.0.1:PORT` by the same suffix rule the SDKs apply.
        let v = auth("https://127.0.0.1:8443");
        let h = r#"Bearer authorization="https://127.0.0.1:8443/tenant", resource="https://0.0.1:8443""#;
        assert_eq!(
            challenge_scope(h, &v).unwrap(),
            "https://0.0.1:8443/.default"
        );
    }
}
