//! HashiCorp Vault / OpenBao transit master keys: two HTTP calls, and a guard on the token.
//!
//! A key is `https://host:port/v1/<engine path…>/keys/<name>` (docs/sops-format.md §4.7). Encrypt is
//! `PUT {addr}/v1/{engine}/encrypt/{name}` with `{"plaintext": base64}`, and the returned
//! `vault:v1:…` ciphertext is stored verbatim; decrypt is the mirror image. The token comes from
//! `VAULT_TOKEN`, else `~/.vault-token`; `VAULT_CACERT`, `VAULT_CAPATH`, `VAULT_NAMESPACE` and
//! `VAULT_SKIP_VERIFY` are honoured. All of them are read when the backend is built (the token
//! file on first use), never per call.
//!
//! **A file's metadata is untrusted**: its `vault_address` could name an attacker's server. This
//! module sends the token only to an address the user allowed. By default that is the
//! `VAULT_ADDR` origin and the addresses the caller names because the user gave them
//! (`--hc-vault-transit`, creation rules) — stricter than sops, whose default is `all`.
//! `SOPS_HC_VAULT_ALLOWLIST`, when set, is sops 3.13's allowlist and decides alone: `all`,
//! `none`, or the list of allowed addresses. Anything not allowed fails before any connection
//! is made. This module must never put the token in a message.

use super::{Backend, KeyRef, Secret};
use crate::env;
use crate::error::{Code, Error, Outcome, Result};
use crate::net::describe_reqwest;
use base64::Engine as _;
use std::cell::OnceCell;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// The Vault token (a secret).
pub const VAULT_TOKEN: &str = "VAULT_TOKEN";
/// The user's Vault server; its origin is always allowed to receive the token.
pub const VAULT_ADDR: &str = "VAULT_ADDR";
/// A PEM file of CA certificates to trust for Vault's TLS.
pub const VAULT_CACERT: &str = "VAULT_CACERT";
/// A directory of PEM CA certificates to trust for Vault's TLS.
pub const VAULT_CAPATH: &str = "VAULT_CAPATH";
/// Sent as `X-Vault-Namespace`.
pub const VAULT_NAMESPACE: &str = "VAULT_NAMESPACE";
/// `true`/`1`: do not verify Vault's TLS certificate (Go `strconv.ParseBool`).
pub const VAULT_SKIP_VERIFY: &str = "VAULT_SKIP_VERIFY";
/// Comma-separated Vault addresses the token may be sent to, or `all` (sops 3.13).
pub const SOPS_HC_VAULT_ALLOWLIST: &str = "SOPS_HC_VAULT_ALLOWLIST";
/// Default transit key URIs for encryption (the default of `--hc-vault-transit`).
pub const SOPS_VAULT_URIS: &str = "SOPS_VAULT_URIS";

/// Vault's answers are small; refuse to read more than this.
pub(crate) const MAX_RESPONSE: u64 = 1 << 20;

/// A URL's origin, normalised: lowercase scheme and host, explicit port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// `scheme://[userinfo@]host[:port]` followed by `/`, `?`, `#` or the end. Returns the origin and
/// the rest (path, query, fragment). Userinfo is refused: a token must not travel with a
/// password in the URL.
fn split_origin(url: &str) -> std::result::Result<(Origin, &str), String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        "missing scheme (should look like https://vault.example.com:8200/v1/transit/keys/name)"
            .to_string()
    })?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        other => return Err(format!("unsupported scheme {other:?} (use https or http)")),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return Err("credentials in the URL are not supported".into());
    }
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        // [IPv6]:port
        let (h, after) = inner
            .split_once(']')
            .ok_or_else(|| "unterminated IPv6 address".to_string())?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err("bad characters after the IPv6 address".into()),
        };
        (format!("[{}]", h.to_ascii_lowercase()), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
            None => (authority.to_ascii_lowercase(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err("missing host".into());
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._[]:%".contains(c))
    {
        return Err("invalid host".into());
    }
    let port = match port {
        None | Some("") => default_port,
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| format!("invalid port {p:?}"))?,
    };
    Ok((Origin { scheme, host, port }, tail))
}

/// Split a transit key URI into (address, engine path, key name), as sops does it: the address
/// is `scheme://host[:port]` as written, the path must be `/v1/<engine…>/keys/<name>` with a
/// possibly nested engine path, and a prefix before `/v1/` (Vault behind a path-prefixing proxy)
/// is rejected.
pub fn parse_uri(uri: &str) -> Result<KeyRef> {
    let uri = uri.trim();
    let bad = |why: String| {
        Error::generic(format!("invalid vault transit URI {uri:?}: {why}")).hint(
            "it must look like https://vault.example.com:8200/v1/transit/keys/keyName (the engine path may be nested)",
        )
    };
    let (_, tail) = split_origin(uri).map_err(bad)?;
    let address = &uri[..uri.len() - tail.len()];
    if tail.contains(['?', '#']) {
        return Err(bad("a query or fragment is not allowed".into()));
    }
    let segs: Vec<&str> = tail.trim_matches('/').split('/').collect();
    if segs.iter().any(|s| s.is_empty() || *s == "." || *s == "..") {
        return Err(bad("empty or relative path segment".into()));
    }
    let n = segs.len();
    let version_ok =
        |s: &str| s.len() > 1 && s.starts_with('v') && s[1..].bytes().all(|b| b.is_ascii_digit());
    if n < 4 || !version_ok(segs[0]) {
        if segs.iter().skip(1).any(|s| version_ok(s)) {
            return Err(bad(
                "running Vault with a prefixed URL is not supported".into()
            ));
        }
        return Err(bad("the path is not /v1/<engine path>/keys/<name>".into()));
    }
    if segs[0] != "v1" {
        return Err(bad(format!("unsupported API version {}", segs[0])));
    }
    if segs[n - 2] != "keys" {
        return Err(bad("the path is not /v1/<engine path>/keys/<name>".into()));
    }
    Ok(KeyRef::HcVault {
        address: address.to_string(),
        engine_path: segs[1..n - 2].join("/"),
        key_name: segs[n - 1].to_string(),
    })
}

/// Parse a comma-separated URI list (`--hc-vault-transit`, `SOPS_VAULT_URIS`).
pub fn keys_from_uris(list: &str) -> Result<Vec<KeyRef>> {
    list.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(parse_uri)
        .collect()
}

/// One entry of the allowlist.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Allowed {
    /// `scheme://host[:port]`: exactly that origin.
    Origin(Origin),
    /// `host:port` without a scheme: that host and port over either scheme.
    HostPort(String, u16),
    /// `host` alone: that host on any port.
    Host(String),
}

impl Allowed {
    fn parse(entry: &str) -> Option<Allowed> {
        let e = entry.trim().trim_end_matches('/');
        if e.is_empty() {
            return None;
        }
        if e.contains("://") {
            // sops matches entries as URL prefixes; a vault address is scheme://host[:port],
            // so an entry with a path below the origin matches none.
            return match split_origin(e) {
                Ok((o, tail)) if tail.trim_matches('/').is_empty() => Some(Allowed::Origin(o)),
                _ => None,
            };
        }
        // No scheme: reuse the parser with a placeholder scheme to validate host and port.
        let with_scheme = format!("http://{e}");
        let (o, tail) = split_origin(&with_scheme).ok()?;
        if !tail.is_empty() {
            return None;
        }
        let has_port = if e.starts_with('[') {
            e.contains("]:")
        } else {
            e.contains(':')
        };
        Some(if has_port {
            Allowed::HostPort(o.host, o.port)
        } else {
            Allowed::Host(o.host)
        })
    }

    fn permits(&self, o: &Origin) -> bool {
        match self {
            Allowed::Origin(a) => a == o,
            Allowed::HostPort(h, p) => *h == o.host && *p == o.port,
            Allowed::Host(h) => *h == o.host,
        }
    }
}

/// Where the token may go.
///
/// Unset (or empty) `SOPS_HC_VAULT_ALLOWLIST`: veil's default, stricter than sops's `all` —
/// the `VAULT_ADDR` origin and the addresses the user named this run ([`Allowlist::allow`]).
/// Set, it is sops 3.13's allowlist and says it all: `all` (no check), `none` (no Vault
/// server at all), or a comma-separated list of addresses, which are then the only ones
/// allowed (`VAULT_ADDR` and named addresses are not added). sops refuses a list with an empty
/// entry; so does veil, before any connection.
#[derive(Clone, Debug, Default)]
pub struct Allowlist {
    all: bool,
    /// `SOPS_HC_VAULT_ALLOWLIST` was given: only its entries count.
    explicit: bool,
    entries: Vec<Allowed>,
    /// Why the variable is unusable (an empty entry), as sops words it.
    invalid: Option<String>,
    /// The `VAULT_ADDR` origin, for the advice in refusals.
    vault_addr: Option<Origin>,
}

impl Allowlist {
    /// From `VAULT_ADDR` and `SOPS_HC_VAULT_ALLOWLIST` (either may be absent).
    pub fn new(vault_addr: Option<&str>, allowlist: Option<&str>) -> Allowlist {
        let mut a = Allowlist {
            vault_addr: vault_addr.and_then(|v| split_origin(v.trim()).ok().map(|(o, _)| o)),
            ..Allowlist::default()
        };
        let list = allowlist.map(str::trim).filter(|l| !l.is_empty());
        match list {
            None => a.entries.extend(a.vault_addr.clone().map(Allowed::Origin)),
            Some(l) if l.eq_ignore_ascii_case("all") => a.all = true,
            Some(l) if l.eq_ignore_ascii_case("none") => a.explicit = true,
            Some(l) => {
                a.explicit = true;
                for (i, e) in l.split(',').enumerate() {
                    if e.trim().is_empty() {
                        a.invalid = Some(format!(
                            "{SOPS_HC_VAULT_ALLOWLIST}'s entry {} is empty",
                            i + 1
                        ));
                    } else if let Some(x) = Allowed::parse(e) {
                        a.entries.push(x);
                    }
                }
            }
        }
        a
    }

    /// Allow an address the user named (a `--hc-vault-transit` URI, a creation rule). An
    /// explicit `SOPS_HC_VAULT_ALLOWLIST` has the last word, as in sops.
    pub fn allow(&mut self, address: &str) {
        if self.explicit {
            return;
        }
        if let Ok((o, _)) = split_origin(address.trim()) {
            self.entries.push(Allowed::Origin(o));
        }
    }

    pub fn permits(&self, o: &Origin) -> bool {
        self.invalid.is_none() && (self.all || self.entries.iter().any(|e| e.permits(o)))
    }

    /// Why `o` is refused, and what to do if the server is trusted.
    fn refusal(&self, o: &Origin) -> String {
        if let Some(why) = &self.invalid {
            return format!("refusing to send the vault token anywhere: {why}");
        }
        if self.explicit {
            return format!(
                "refusing to send the vault token to {o}: {SOPS_HC_VAULT_ALLOWLIST} does not list it; if you trust this server, add {o} to it"
            );
        }
        let suggestion = match &self.vault_addr {
            Some(v) => format!("{v},{o}"),
            None => o.to_string(),
        };
        format!(
            "refusing to send the vault token to {o}: it is not {VAULT_ADDR}, not named on the command line or in .sops.yaml, and {SOPS_HC_VAULT_ALLOWLIST} is not set; if you trust this server, run with {SOPS_HC_VAULT_ALLOWLIST}={suggestion} (or `all`)"
        )
    }
}

/// Go's `strconv.ParseBool` truthy values (what the Vault client uses for VAULT_SKIP_VERIFY).
fn go_bool(s: &str) -> bool {
    matches!(s, "1" | "t" | "T" | "TRUE" | "true" | "True")
}

/// Where the token comes from.
#[derive(Clone, Debug)]
pub(crate) enum TokenSource {
    Env,
    File(PathBuf),
    None,
}

impl std::fmt::Display for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::Env => write!(f, "token from {VAULT_TOKEN}"),
            TokenSource::File(p) => write!(f, "token from {}", p.display()),
            TokenSource::None => f.write_str("no token"),
        }
    }
}

/// Settings snapshotted from the environment.
#[derive(Clone, Debug, Default)]
pub struct VaultSettings {
    pub cacert: Option<PathBuf>,
    pub capath: Option<PathBuf>,
    pub namespace: Option<String>,
    pub skip_verify: bool,
}

/// The Vault transit backend.
pub struct VaultBackend {
    /// `VAULT_TOKEN`, kept only in a zeroizing buffer.
    token_env: Option<Zeroizing<String>>,
    token_file: Option<PathBuf>,
    token: OnceCell<(Option<Zeroizing<String>>, TokenSource, Option<String>)>,
    allow: Allowlist,
    pub(crate) settings: VaultSettings,
    client: OnceCell<std::result::Result<reqwest::blocking::Client, String>>,
}

impl std::fmt::Debug for VaultBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultBackend")
            .field("token_env_set", &self.token_env.is_some())
            .field("token_file", &self.token_file)
            .field("allow", &self.allow)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl VaultBackend {
    /// Snapshot the token, TLS settings and allowlist from the environment; `extra_allowed` are
    /// addresses the user named for this run (flags, creation rules), which may receive the
    /// token too.
    pub fn from_env(extra_allowed: &[String]) -> VaultBackend {
        let mut allow = Allowlist::new(
            env::var(VAULT_ADDR).as_deref(),
            env::var(SOPS_HC_VAULT_ALLOWLIST).as_deref(),
        );
        for a in extra_allowed {
            allow.allow(a);
        }
        VaultBackend {
            token_env: env::var(VAULT_TOKEN).map(Zeroizing::new),
            token_file: env::var(env::HOME).map(|h| PathBuf::from(h).join(".vault-token")),
            token: OnceCell::new(),
            allow,
            settings: VaultSettings {
                cacert: env::var(VAULT_CACERT).map(PathBuf::from),
                capath: env::var(VAULT_CAPATH).map(PathBuf::from),
                namespace: env::var(VAULT_NAMESPACE),
                skip_verify: env::var(VAULT_SKIP_VERIFY).is_some_and(|v| go_bool(&v)),
            },
            client: OnceCell::new(),
        }
    }

    /// A backend with explicit settings (tests, embedding).
    pub fn new(
        token: Option<String>,
        token_file: Option<PathBuf>,
        allow: Allowlist,
        settings: VaultSettings,
    ) -> VaultBackend {
        VaultBackend {
            token_env: token.map(Zeroizing::new),
            token_file,
            token: OnceCell::new(),
            allow,
            settings,
            client: OnceCell::new(),
        }
    }

    /// The token, read once: `VAULT_TOKEN`, else `~/.vault-token` (trimmed). The third element
    /// says why there is none.
    pub(crate) fn token(&self) -> &(Option<Zeroizing<String>>, TokenSource, Option<String>) {
        self.token.get_or_init(|| {
            if let Some(t) = &self.token_env {
                return (Some(t.clone()), TokenSource::Env, None);
            }
            let Some(p) = &self.token_file else {
                return (
                    None,
                    TokenSource::None,
                    Some(format!("{VAULT_TOKEN} is not set and HOME is unknown")),
                );
            };
            match std::fs::read(p) {
                Ok(b) => {
                    let b = Zeroizing::new(b);
                    let t = Zeroizing::new(String::from_utf8_lossy(&b).trim().to_string());
                    if t.is_empty() {
                        (
                            None,
                            TokenSource::None,
                            Some(format!(
                                "{VAULT_TOKEN} is not set and {} is empty",
                                p.display()
                            )),
                        )
                    } else {
                        (Some(t), TokenSource::File(p.clone()), None)
                    }
                }
                Err(e) => (
                    None,
                    TokenSource::None,
                    Some(format!(
                        "{VAULT_TOKEN} is not set and {} is {}",
                        p.display(),
                        if e.kind() == std::io::ErrorKind::NotFound {
                            "absent".to_string()
                        } else {
                            format!("unreadable ({})", e.kind())
                        }
                    )),
                ),
            }
        })
    }

    pub(crate) fn client(&self) -> std::result::Result<&reqwest::blocking::Client, String> {
        self.client
            .get_or_init(|| build_client(&self.settings, &self.allow))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Check the address against the allowlist; returns its origin.
    pub(crate) fn check_address(&self, address: &str) -> std::result::Result<Origin, String> {
        let (origin, tail) =
            split_origin(address).map_err(|e| format!("invalid vault address {address:?}: {e}"))?;
        if !tail.trim_matches('/').is_empty() {
            return Err(format!(
                "invalid vault address {address:?}: it must be scheme://host[:port]"
            ));
        }
        if !self.allow.permits(&origin) {
            return Err(self.allow.refusal(&origin));
        }
        Ok(origin)
    }

    /// `PUT {addr}/v1/{engine}/{op}/{name}` with a JSON body; returns `data`.
    fn call(
        &self,
        address: &str,
        engine_path: &str,
        op: &str,
        key_name: &str,
        body: &serde_json::Value,
        token: &str,
    ) -> std::result::Result<serde_json::Map<String, serde_json::Value>, String> {
        // The engine path and key name come from the file: they must stay path segments, so
        // that a crafted file cannot aim the token-bearing request at another Vault endpoint
        // (`..`, a `?query`, an encoded slash).
        for seg in engine_path.split('/').chain(std::iter::once(key_name)) {
            if !safe_segment(seg) {
                return Err(format!(
                    "refusing the vault path {engine_path:?}/{key_name:?}: segments must be non-empty names without '.', '..', '?', '#', '%', '\\' or spaces"
                ));
            }
        }
        let client = self.client()?;
        let base = address.trim_end_matches('/');
        let url = format!("{base}/v1/{engine_path}/{op}/{key_name}");
        let mut req = client
            .put(&url)
            .header("X-Vault-Token", token)
            .header("X-Vault-Request", "true")
            .json(body);
        if let Some(ns) = &self.settings.namespace {
            req = req.header("X-Vault-Namespace", ns);
        }
        let resp = req.send().map_err(|e| describe_reqwest(&e))?;
        let status = resp.status();
        let mut text = String::new();
        {
            use std::io::Read;
            let _ = resp.take(MAX_RESPONSE).read_to_string(&mut text);
        }
        let text = Zeroizing::new(text);
        let json: Option<serde_json::Value> = serde_json::from_str(&text).ok();
        if !status.is_success() {
            return Err(format!(
                "{url} answered {}: {}",
                status.as_u16(),
                error_text(json.as_ref())
            ));
        }
        match json {
            Some(serde_json::Value::Object(mut m)) => match m.remove("data") {
                Some(serde_json::Value::Object(d)) => Ok(d),
                _ => Err(format!("{url} answered without data")),
            },
            _ => Err(format!("{url} answered with something that is not JSON")),
        }
    }
}

/// The `errors` of a Vault error answer on one line (shortened), or "no error text".
pub(crate) fn error_text(json: Option<&serde_json::Value>) -> String {
    let errors = json
        .and_then(|j| j.get("errors"))
        .and_then(|e| e.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str())
                .map(|s| s.trim().replace('\n', " "))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "no error text".into());
    shorten(&errors)
}

/// A path segment that means only itself in a URL path.
fn safe_segment(seg: &str) -> bool {
    !seg.is_empty()
        && seg != "."
        && seg != ".."
        && !seg
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "?#%\\".contains(c))
}

fn shorten(s: &str) -> String {
    if s.len() <= 300 {
        return s.to_string();
    }
    let mut cut = 300;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}

fn build_client(
    st: &VaultSettings,
    allow: &Allowlist,
) -> std::result::Result<reqwest::blocking::Client, String> {
    // Vault standby nodes redirect to the active node (307), and the token header goes along:
    // follow a redirect only to an allowed address.
    let allow = allow.clone();
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        let target = attempt.url().clone();
        let permitted = split_origin(target.as_str())
            .map(|(o, _)| allow.permits(&o))
            .unwrap_or(false);
        if attempt.previous().len() >= 5 {
            attempt.error("too many redirects")
        } else if permitted {
            attempt.follow()
        } else {
            attempt.error(format!(
                "refusing to follow a redirect to {}: not an allowed vault address ({SOPS_HC_VAULT_ALLOWLIST})",
                target.origin().ascii_serialization()
            ))
        }
    });
    let mut b = reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(60))
        .redirect(policy);
    let mut pems: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    if let Some(p) = &st.cacert {
        let d = std::fs::read(p)
            .map_err(|e| format!("cannot read {VAULT_CACERT} {}: {e}", p.display()))?;
        pems.push((p.clone(), d));
    }
    if let Some(dir) = &st.capath {
        let rd = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read {VAULT_CAPATH} {}: {e}", dir.display()))?;
        for ent in rd.flatten() {
            let p = ent.path();
            if p.is_file() {
                if let Ok(d) = std::fs::read(&p) {
                    pems.push((p, d));
                }
            }
        }
    }
    for (p, d) in pems {
        let certs = reqwest::Certificate::from_pem_bundle(&d)
            .map_err(|e| format!("cannot parse the CA certificates in {}: {e}", p.display()))?;
        if certs.is_empty() && st.cacert.as_deref() == Some(p.as_path()) {
            return Err(format!(
                "{VAULT_CACERT} {} holds no PEM certificate",
                p.display()
            ));
        }
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    if st.skip_verify {
        b = b.danger_accept_invalid_certs(true);
    }
    b.build()
        .map_err(|e| format!("cannot set up the HTTPS client: {e}"))
}

impl Backend for VaultBackend {
    fn kind(&self) -> &'static str {
        "hc_vault"
    }

    fn wrap(&self, key: &KeyRef, secret: &[u8]) -> Result<String> {
        let KeyRef::HcVault {
            address,
            engine_path,
            key_name,
        } = key
        else {
            return Err(Error::generic("hc_vault: not a vault key"));
        };
        let what = key.describe();
        let fail = |why: String| {
            Error::new(
                Code::Generic,
                format!("failed to encrypt the data key with {what}: {why}"),
            )
        };
        self.check_address(address).map_err(|e| {
            fail(e).hint(format!(
                "name the server with --hc-vault-transit or in .sops.yaml, or set {VAULT_ADDR}"
            ))
        })?;
        let (token, src, why) = self.token();
        let Some(token) = token else {
            return Err(fail(why.clone().unwrap_or_default()).hint(format!(
                "log in (vault login / bao login) or set {VAULT_TOKEN}"
            )));
        };
        let body = serde_json::json!({
            "plaintext": base64::engine::general_purpose::STANDARD.encode(secret)
        });
        let data = self
            .call(address, engine_path, "encrypt", key_name, &body, token)
            .map_err(|e| {
                fail(format!("{e} ({src})"))
                    .hint("check the address, the token's policy and that the transit key exists")
            })?;
        match data.get("ciphertext").and_then(|c| c.as_str()) {
            Some(c) if !c.is_empty() => Ok(c.to_string()),
            _ => Err(fail("the answer has no ciphertext".into())),
        }
    }

    fn unwrap(&self, key: &KeyRef, enc: &str) -> std::result::Result<Secret, Outcome> {
        let KeyRef::HcVault {
            address,
            engine_path,
            key_name,
        } = key
        else {
            return Err(Outcome::Unsupported);
        };
        self.check_address(address)
            .map_err(|e| Outcome::Failed(format!("hc_vault: {e}")))?;
        let (token, src, why) = self.token();
        let Some(token) = token else {
            return Err(Outcome::NoIdentity(format!(
                "hc_vault: no token ({})",
                why.clone().unwrap_or_default()
            )));
        };
        let body = serde_json::json!({ "ciphertext": enc });
        let data = self
            .call(address, engine_path, "decrypt", key_name, &body, token)
            .map_err(|e| Outcome::Failed(format!("hc_vault: {e} ({src})")))?;
        let Some(pt) = data.get("plaintext").and_then(|p| p.as_str()) else {
            return Err(Outcome::Failed(
                "hc_vault: the answer has no plaintext".into(),
            ));
        };
        let out = base64::engine::general_purpose::STANDARD
            .decode(pt)
            .map_err(|_| Outcome::Failed("hc_vault: the plaintext is not base64".into()))?;
        let out = Zeroizing::new(out);
        if out.is_empty() {
            return Err(Outcome::Failed(
                "hc_vault: vault decrypted the key to zero bytes".into(),
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hv(a: &str, e: &str, k: &str) -> KeyRef {
        KeyRef::HcVault {
            address: a.into(),
            engine_path: e.into(),
            key_name: k.into(),
        }
    }

    #[test]
    fn uris_split_like_sops() {
        assert_eq!(
            parse_uri("https://vault.example.com:8200/v1/transit/keys/sops").unwrap(),
            hv("https://vault.example.com:8200", "transit", "sops")
        );
        assert_eq!(
            parse_uri("http://127.0.0.1:8200/v1/team/a/transit/keys/k1/").unwrap(),
            hv("http://127.0.0.1:8200", "team/a/transit", "k1")
        );
        assert_eq!(
            parse_uri("https://vault.example.com/v1/transit/keys/k").unwrap(),
            hv("https://vault.example.com", "transit", "k")
        );
        for bad in [
            "vault.example.com/v1/transit/keys/k",
            "https://vault.example.com:8200/prefix/v1/transit/keys/k",
            "https://vault.example.com:8200/v1/transit/k",
            "https://vault.example.com:8200/v1/keys/k",
            "https://vault.example.com:8200/v1/transit/nokeys/k",
            "https://vault.example.com:8200/v2/transit/keys/k",
            "https://user:pw@vault.example.com:8200/v1/transit/keys/k",
            "https://vault.example.com:8200/v1/transit//keys/k",
            "https://vault.example.com:8200/v1/../keys/k",
            "https://vault.example.com:99999/v1/transit/keys/k",
            "https://vault.example.com:8200/v1/transit/keys/k?x=1",
            "ftp://vault.example.com:8200/v1/transit/keys/k",
            "https://:8200/v1/transit/keys/k",
        ] {
            assert!(parse_uri(bad).is_err(), "{bad}");
        }
        let e = parse_uri("https://v.example.com/prefix/v1/transit/keys/k")
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(e.contains("prefixed"), "{e}");
        assert_eq!(
            keys_from_uris(" http://a:1/v1/t/keys/x, ,http://b:2/v1/t/keys/y").unwrap(),
            vec![hv("http://a:1", "t", "x"), hv("http://b:2", "t", "y")]
        );
    }

    #[test]
    fn allowlist_matches_origins() {
        let o = |s: &str| split_origin(s).unwrap().0;
        let a = Allowlist::new(Some("https://Vault.example.com:8200/"), None);
        assert!(a.permits(&o("https://vault.example.com:8200")));
        assert!(!a.permits(&o("http://vault.example.com:8200")));
        assert!(!a.permits(&o("https://vault.example.com:8201")));
        assert!(!a.permits(&o("https://evil.example.com:8200")));
        let a = Allowlist::new(
            None,
            Some("https://a.example.com, b.example.com:8200 ,c.example.com"),
        );
        assert!(a.permits(&o("https://a.example.com:443")));
        assert!(a.permits(&o("https://a.example.com")));
        assert!(!a.permits(&o("https://a.example.com:8200")));
        assert!(a.permits(&o("http://b.example.com:8200")));
        assert!(!a.permits(&o("http://b.example.com:8201")));
        assert!(a.permits(&o("https://c.example.com:1234")));
        assert!(!a.permits(&o("https://d.example.com")));
        let a = Allowlist::new(None, Some("ALL"));
        assert!(a.permits(&o("http://anything:1")));
        // An entry with a path below the origin names no vault address.
        let a = Allowlist::new(None, Some("https://a.example.com/some/path"));
        assert!(!a.permits(&o("https://a.example.com")));
        let mut a = Allowlist::new(None, None);
        assert!(!a.permits(&o("http://127.0.0.1:8200")));
        a.allow("http://127.0.0.1:8200");
        assert!(a.permits(&o("http://127.0.0.1:8200")));
        assert!(!a.permits(&o("http://127.0.0.1:8201")));
        // IPv6
        let a = Allowlist::new(Some("http://[::1]:8200"), None);
        assert!(a.permits(&o("http://[::1]:8200")));
        assert!(!a.permits(&o("http://[::2]:8200")));
    }

    #[test]
    fn an_explicit_allowlist_is_the_whole_list_as_in_sops() {
        let o = |s: &str| split_origin(s).unwrap().0;
        // A list: VAULT_ADDR and named addresses are not added.
        let mut a = Allowlist::new(Some("http://127.0.0.1:8200"), Some("http://10.0.0.1:8200"));
        a.allow("http://127.0.0.2:8200");
        assert!(a.permits(&o("http://10.0.0.1:8200")));
        assert!(!a.permits(&o("http://127.0.0.1:8200")));
        assert!(!a.permits(&o("http://127.0.0.2:8200")));
        // `none`: no server at all.
        let mut a = Allowlist::new(Some("http://127.0.0.1:8200"), Some("none"));
        a.allow("http://127.0.0.1:8200");
        assert!(!a.permits(&o("http://127.0.0.1:8200")));
        // An empty entry makes the list unusable, with sops's words.
        let a = Allowlist::new(None, Some("http://10.0.0.1:8200,,http://10.0.0.2:8200"));
        assert!(!a.permits(&o("http://10.0.0.1:8200")));
        assert!(a
            .refusal(&o("http://10.0.0.1:8200"))
            .contains("SOPS_HC_VAULT_ALLOWLIST's entry 2 is empty"));
        // Empty or blank is unset: veil's default.
        let mut a = Allowlist::new(Some("http://127.0.0.1:8200"), Some("  "));
        a.allow("http://127.0.0.2:8200");
        assert!(a.permits(&o("http://127.0.0.1:8200")));
        assert!(a.permits(&o("http://127.0.0.2:8200")));
        assert!(!a.permits(&o("http://127.0.0.3:8200")));
        assert!(a
            .refusal(&o("http://127.0.0.3:8200"))
            .contains("SOPS_HC_VAULT_ALLOWLIST=http://127.0.0.1:8200,http://127.0.0.3:8200"));
    }

    #[test]
    fn not_allowed_fails_without_contacting_anyone() {
        let b = VaultBackend::new(
            Some("s.secret-token-value".into()),
            None,
            Allowlist::new(Some("http://127.0.0.1:1"), None),
            VaultSettings::default(),
        );
        let k = hv("http://127.0.0.1:2", "transit", "k");
        match b.unwrap(&k, "vault:v1:abc") {
            Err(Outcome::Failed(m)) => {
                assert!(m.contains("http://127.0.0.1:2"), "{m}");
                assert!(m.contains(SOPS_HC_VAULT_ALLOWLIST), "{m}");
                assert!(!m.contains("secret-token-value"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        let e = b
            .wrap(&k, &[1u8; 32])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("refusing to send the vault token"), "{e}");
        assert!(!e.contains("secret-token-value"), "{e}");
        assert!(!format!("{b:?}").contains("secret-token-value"));
    }

    #[test]
    fn no_token_is_no_identity() {
        let dir = tempfile::tempdir().unwrap();
        let b = VaultBackend::new(
            None,
            Some(dir.path().join(".vault-token")),
            Allowlist::new(Some("http://127.0.0.1:1"), None),
            VaultSettings::default(),
        );
        let k = hv("http://127.0.0.1:1", "transit", "k");
        assert!(matches!(
            b.unwrap(&k, "vault:v1:abc"),
            Err(Outcome::NoIdentity(_))
        ));
        // The token file is read (trimmed) when VAULT_TOKEN is absent.
        std::fs::write(dir.path().join(".vault-token"), "  tok-from-file\n").unwrap();
        let b = VaultBackend::new(
            None,
            Some(dir.path().join(".vault-token")),
            Allowlist::default(),
            VaultSettings::default(),
        );
        assert_eq!(
            b.token().0.as_ref().map(|t| t.as_str()),
            Some("tok-from-file")
        );
    }

    #[test]
    fn file_paths_cannot_escape_the_transit_endpoint() {
        let b = VaultBackend::new(
            Some("tok".into()),
            None,
            Allowlist::new(Some("http://127.0.0.1:1"), None),
            VaultSettings::default(),
        );
        for (engine, key) in [
            ("auth/token/create?x=", "k"),
            ("transit/..", "k"),
            ("transit", "k#x"),
            ("transit", "%2e%2e"),
            ("", "k"),
            ("a//b", "k"),
            ("transit", ""),
        ] {
            match b.unwrap(&hv("http://127.0.0.1:1", engine, key), "vault:v1:x") {
                Err(Outcome::Failed(m)) => assert!(m.contains("refusing the vault path"), "{m}"),
                other => panic!("{engine} {key}: {other:?}"),
            }
        }
        assert!(safe_segment("team-a_transit.v2"));
    }

    #[test]
    fn skip_verify_parses_like_go() {
        for t in ["1", "t", "T", "true", "TRUE", "True"] {
            assert!(go_bool(t));
        }
        for f in ["0", "false", "yes", "", "on"] {
            assert!(!go_bool(f));
        }
    }
}
