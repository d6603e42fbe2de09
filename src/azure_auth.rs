//! Azure credentials: a Microsoft Entra access token for a scope, found the way azure-identity's
//! `DefaultAzureCredential` finds one (the chain sops uses for Key Vault).
//!
//! It exists so the Key Vault backend does not know where tokens come from. The chain, in
//! azure-identity's order; the first source that is *configured* decides (its failure is
//! reported, the next source is not tried), an unconfigured one is skipped:
//!
//! 1. Environment: `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` with `AZURE_CLIENT_SECRET` (client
//!    credentials grant) or `AZURE_CLIENT_CERTIFICATE_PATH` (a PEM file with the certificate and
//!    its unencrypted RSA key: an RS256 client assertion signed with `ring`, carrying the
//!    certificate's SHA-1 thumbprint as `x5t`).
//! 2. Workload identity: `AZURE_FEDERATED_TOKEN_FILE` + `AZURE_CLIENT_ID` + `AZURE_TENANT_ID`
//!    (the file's token is the client assertion).
//! 3. Managed identity: `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` (App Service, Functions, Container
//!    Apps), else the instance metadata service (`AZURE_POD_IDENTITY_AUTHORITY_HOST`, default
//!    `http://169.254.169.254`) with a one-second connect timeout; `AZURE_CLIENT_ID` selects a
//!    user-assigned identity.
//! 4. The Azure CLI: `az account get-access-token --output json --resource R [--tenant T]`.
//!
//! Token requests go to `AZURE_AUTHORITY_HOST` (default `https://login.microsoftonline.com`),
//! which must be HTTPS, as MSAL requires. Secrets, assertions and tokens live in zeroizing
//! buffers, are never shown by `Debug`, and never reach an error: a refused request reports the
//! endpoint's `error` / `error_description` (or the CLI's first stderr line) only. Redirects are
//! never followed. This module must not choose *where* a token is used — that is the caller's
//! allowlist.

use crate::env;
use crate::net::{describe_reqwest, percent_encode};
use base64::Engine as _;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

pub const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";
pub const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
pub const AZURE_CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
pub const AZURE_CLIENT_CERTIFICATE_PATH: &str = "AZURE_CLIENT_CERTIFICATE_PATH";
pub const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
pub const AZURE_AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";
pub const IDENTITY_ENDPOINT: &str = "IDENTITY_ENDPOINT";
pub const IDENTITY_HEADER: &str = "IDENTITY_HEADER";
pub const AZURE_POD_IDENTITY_AUTHORITY_HOST: &str = "AZURE_POD_IDENTITY_AUTHORITY_HOST";

/// The public cloud's authority.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
const DEFAULT_IMDS: &str = "http://169.254.169.254";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Token answers are small; read at most this much.
const MAX_ANSWER: u64 = 64 << 10;

/// The token type every credential chain returns (shared with Google's).
pub use crate::net::AccessToken;

/// Why no token: nothing is configured (the key is "not ours"), or a configured source failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthError {
    NotConfigured(String),
    Failed(String),
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthError::NotConfigured(s) | AuthError::Failed(s) => f.write_str(s),
        }
    }
}

/// The credential settings, snapshotted from the environment once. `Debug` shows which
/// variables are set, never a secret.
#[derive(Clone, Default)]
pub struct Settings {
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Zeroizing<String>>,
    pub certificate_path: Option<String>,
    pub federated_token_file: Option<String>,
    pub authority_host: Option<String>,
    pub identity_endpoint: Option<String>,
    pub identity_header: Option<Zeroizing<String>>,
    pub imds_host: Option<String>,
    /// The `az` program (tests put a stub first on PATH).
    pub az: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret_set", &self.client_secret.is_some())
            .field("certificate_path", &self.certificate_path)
            .field("federated_token_file", &self.federated_token_file)
            .field("authority_host", &self.authority_host)
            .field("identity_endpoint", &self.identity_endpoint)
            .field("imds_host", &self.imds_host)
            .finish_non_exhaustive()
    }
}

impl Settings {
    pub fn from_env() -> Settings {
        Settings {
            tenant_id: env::var(AZURE_TENANT_ID),
            client_id: env::var(AZURE_CLIENT_ID),
            client_secret: env::var(AZURE_CLIENT_SECRET).map(Zeroizing::new),
            certificate_path: env::var(AZURE_CLIENT_CERTIFICATE_PATH),
            federated_token_file: env::var(AZURE_FEDERATED_TOKEN_FILE),
            authority_host: env::var(AZURE_AUTHORITY_HOST),
            identity_endpoint: env::var(IDENTITY_ENDPOINT),
            identity_header: env::var(IDENTITY_HEADER).map(Zeroizing::new),
            imds_host: env::var(AZURE_POD_IDENTITY_AUTHORITY_HOST),
            az: "az".into(),
        }
    }

    fn authority(&self) -> std::result::Result<String, AuthError> {
        let a = self
            .authority_host
            .as_deref()
            .unwrap_or(DEFAULT_AUTHORITY)
            .trim_end_matches('/');
        if !a.starts_with("https://") {
            return Err(AuthError::Failed(format!(
                "{AZURE_AUTHORITY_HOST} {a:?} is not an https:// URL"
            )));
        }
        Ok(a.to_string())
    }

    /// A token for `scope` (`https://vault.azure.net/.default`), from the first configured
    /// source of the chain.
    pub fn token(&self, scope: &str) -> std::result::Result<AccessToken, AuthError> {
        let tenant = self.tenant_id.as_deref().filter(|t| !t.is_empty());
        let client = self.client_id.as_deref().filter(|c| !c.is_empty());
        if let (Some(t), Some(c)) = (tenant, client) {
            if let Some(secret) = &self.client_secret {
                return self
                    .exchange(
                        t,
                        &[
                            ("grant_type", "client_credentials"),
                            ("client_id", c),
                            ("scope", scope),
                            ("client_secret", secret),
                        ],
                    )
                    .map(|token| AccessToken {
                        token,
                        source: format!("client secret ({AZURE_CLIENT_SECRET})"),
                    });
            }
            if let Some(p) = &self.certificate_path {
                let endpoint = self.token_endpoint(t)?;
                let jwt = certificate_assertion(Path::new(p), c, &endpoint, SystemTime::now())?;
                return self.assertion_grant(t, c, scope, &jwt, format!("client certificate {p}"));
            }
            if let Some(f) = &self.federated_token_file {
                let assertion = std::fs::read(f).map(Zeroizing::new).map_err(|e| {
                    AuthError::Failed(format!("cannot read {AZURE_FEDERATED_TOKEN_FILE} {f}: {e}"))
                })?;
                let assertion =
                    Zeroizing::new(String::from_utf8_lossy(&assertion).trim().to_string());
                return self.assertion_grant(
                    t,
                    c,
                    scope,
                    &assertion,
                    format!("workload identity ({AZURE_FEDERATED_TOKEN_FILE})"),
                );
            }
        }
        let resource = scope.strip_suffix("/.default").unwrap_or(scope);
        match self.managed_identity(resource) {
            Err(AuthError::NotConfigured(_)) => {}
            other => return other,
        }
        self.azure_cli(resource)
    }

    /// The client-credentials grant with a signed assertion (certificate or federated token).
    fn assertion_grant(
        &self,
        tenant: &str,
        client: &str,
        scope: &str,
        assertion: &str,
        source: String,
    ) -> std::result::Result<AccessToken, AuthError> {
        self.exchange(
            tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client),
                ("scope", scope),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", assertion),
            ],
        )
        .map(|token| AccessToken { token, source })
    }

    fn token_endpoint(&self, tenant: &str) -> std::result::Result<String, AuthError> {
        if tenant.is_empty()
            || !tenant
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
            || tenant.starts_with('.')
        {
            return Err(AuthError::Failed(format!(
                "{AZURE_TENANT_ID} {tenant:?} is not a tenant id or domain"
            )));
        }
        Ok(format!("{}/{tenant}/oauth2/v2.0/token", self.authority()?))
    }

    /// POST a client-credentials form to the tenant's token endpoint.
    fn exchange(
        &self,
        tenant: &str,
        form: &[(&str, &str)],
    ) -> std::result::Result<Zeroizing<String>, AuthError> {
        let endpoint = self.token_endpoint(tenant)?;
        let resp = client(Duration::from_secs(30))?
            .post(&endpoint)
            .form(form)
            .send()
            .map_err(|e| {
                AuthError::Failed(format!(
                    "could not reach the Microsoft Entra token endpoint: {}",
                    describe_reqwest(&e)
                ))
            })?;
        token_from_answer(resp, &endpoint)
    }

    fn managed_identity(&self, resource: &str) -> std::result::Result<AccessToken, AuthError> {
        let client_id = self.client_id.as_deref().filter(|c| !c.is_empty());
        if let (Some(ep), Some(header)) = (&self.identity_endpoint, &self.identity_header) {
            let mut url = format!(
                "{ep}?api-version=2019-08-01&resource={}",
                percent_encode(resource)
            );
            if let Some(c) = client_id {
                url.push_str(&format!("&client_id={}", percent_encode(c)));
            }
            let resp = client(Duration::from_secs(30))?
                .get(&url)
                .header("X-IDENTITY-HEADER", header.as_str())
                .send()
                .map_err(|e| {
                    AuthError::Failed(format!(
                        "could not reach the managed identity endpoint ({IDENTITY_ENDPOINT}): {}",
                        describe_reqwest(&e)
                    ))
                })?;
            return token_from_answer(resp, "the managed identity endpoint").map(|token| {
                AccessToken {
                    token,
                    source: format!("managed identity ({IDENTITY_ENDPOINT})"),
                }
            });
        }
        let host = self
            .imds_host
            .as_deref()
            .unwrap_or(DEFAULT_IMDS)
            .trim_end_matches('/');
        let mut url = format!(
            "{host}/metadata/identity/oauth2/token?api-version=2018-02-01&resource={}",
            percent_encode(resource)
        );
        if let Some(c) = client_id {
            url.push_str(&format!("&client_id={}", percent_encode(c)));
        }
        // Off Azure nothing answers there: a short connect timeout, and "not configured".
        let c = reqwest::blocking::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| AuthError::Failed(format!("cannot set up the HTTP client: {e}")))?;
        let resp = match c.get(&url).header("Metadata", "true").send() {
            Ok(r) => r,
            Err(_) => {
                return Err(AuthError::NotConfigured(
                    "no managed identity endpoint answered".into(),
                ))
            }
        };
        // IMDS without an identity assigned answers 400: not configured here.
        if resp.status().as_u16() == 400 {
            return Err(AuthError::NotConfigured(
                "the instance metadata service has no managed identity".into(),
            ));
        }
        token_from_answer(resp, "the instance metadata service").map(|token| AccessToken {
            token,
            source: "managed identity (instance metadata service)".into(),
        })
    }

    fn azure_cli(&self, resource: &str) -> std::result::Result<AccessToken, AuthError> {
        let none = || {
            AuthError::NotConfigured(format!(
                "no Azure credentials found: set {AZURE_TENANT_ID} and {AZURE_CLIENT_ID} with {AZURE_CLIENT_SECRET} or {AZURE_CLIENT_CERTIFICATE_PATH} (or {AZURE_FEDERATED_TOKEN_FILE}), run on a managed identity, or `az login`"
            ))
        };
        let mut cmd = std::process::Command::new(&self.az);
        cmd.args([
            "account",
            "get-access-token",
            "--output",
            "json",
            "--resource",
            resource,
        ]);
        if let Some(t) = self.tenant_id.as_deref().filter(|t| !t.is_empty()) {
            cmd.args(["--tenant", t]);
        }
        cmd.stdin(std::process::Stdio::null());
        let out = match cmd.output() {
            Ok(o) => o,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(none()),
            Err(e) => return Err(AuthError::Failed(format!("cannot run the Azure CLI: {e}"))),
        };
        let stdout = Zeroizing::new(out.stdout);
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let first = err
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("no error text");
            let first: String = first
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect();
            if err.contains("az login") {
                return Err(AuthError::NotConfigured(format!(
                    "the Azure CLI is not logged in: {first}"
                )));
            }
            return Err(AuthError::Failed(format!(
                "`az account get-access-token` failed: {first}"
            )));
        }
        let json: Option<serde_json::Value> = serde_json::from_slice(&stdout).ok();
        match json
            .as_ref()
            .and_then(|j| j.get("accessToken"))
            .and_then(|t| t.as_str())
        {
            Some(t) if !t.is_empty() => Ok(AccessToken {
                token: Zeroizing::new(t.to_string()),
                source: "Azure CLI (az account get-access-token)".into(),
            }),
            _ => Err(AuthError::Failed(
                "`az account get-access-token` printed no accessToken".into(),
            )),
        }
    }
}

fn client(total: Duration) -> std::result::Result<reqwest::blocking::Client, AuthError> {
    reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .connect_timeout(total.min(Duration::from_secs(10)))
        .timeout(total)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| AuthError::Failed(format!("cannot set up the HTTPS client: {e}")))
}

fn token_from_answer(
    resp: reqwest::blocking::Response,
    from: &str,
) -> std::result::Result<Zeroizing<String>, AuthError> {
    let status = resp.status();
    let mut text = Zeroizing::new(String::new());
    let _ = resp.take(MAX_ANSWER).read_to_string(&mut text);
    let json: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    if !status.is_success() {
        let field = |n: &str| {
            json.as_ref()
                .and_then(|j| j.get(n))
                .and_then(|v| v.as_str())
                .map(|s| {
                    // Entra appends trace and correlation ids on new lines: keep the first.
                    let s = s.lines().next().unwrap_or("");
                    s.chars()
                        .filter(|c| !c.is_control())
                        .take(200)
                        .collect::<String>()
                })
        };
        let why = match (field("error"), field("error_description")) {
            (Some(e), Some(d)) => format!("{e}: {d}"),
            (Some(e), None) => e,
            _ => "no error text".into(),
        };
        return Err(AuthError::Failed(format!(
            "{from} refused to issue a token ({}): {why}",
            status.as_u16()
        )));
    }
    match json
        .as_ref()
        .and_then(|j| j.get("access_token"))
        .and_then(|v| v.as_str())
    {
        Some(t) if !t.is_empty() => Ok(Zeroizing::new(t.to_string())),
        _ => Err(AuthError::Failed(format!(
            "{from} answered without an access_token"
        ))),
    }
}

/// The PEM blocks of a file: (label, DER).
fn pem_blocks(text: &str) -> Vec<(String, Zeroizing<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut label: Option<String> = None;
    let mut body = Zeroizing::new(String::new());
    for line in text.lines().map(str::trim) {
        if let Some(l) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            label = Some(l.to_string());
            body.clear();
        } else if line.starts_with("-----END ") {
            if let Some(l) = label.take() {
                if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(body.as_bytes()) {
                    out.push((l, Zeroizing::new(der)));
                }
            }
        } else if label.is_some() {
            body.push_str(line);
        }
    }
    out
}

/// The client assertion of a certificate credential: an RS256 JWT for `audience` (the token
/// endpoint) issued by and about `client_id`, valid ten minutes from `now`, with the
/// certificate's SHA-1 thumbprint as `x5t` (what Entra matches the uploaded certificate by).
pub fn certificate_assertion(
    path: &Path,
    client_id: &str,
    audience: &str,
    now: SystemTime,
) -> std::result::Result<Zeroizing<String>, AuthError> {
    let bad = |why: &str| {
        AuthError::Failed(format!(
            "{AZURE_CLIENT_CERTIFICATE_PATH} {}: {why}",
            path.display()
        ))
    };
    let text = Zeroizing::new(
        std::fs::read(path).map_err(|e| bad(&format!("cannot read it ({})", e.kind())))?,
    );
    let text = std::str::from_utf8(&text)
        .map_err(|_| bad("not a PEM file (PKCS#12 files are not supported: convert it to PEM)"))?;
    let blocks = pem_blocks(text);
    let cert = blocks
        .iter()
        .find(|(l, _)| l == "CERTIFICATE")
        .ok_or_else(|| bad("no CERTIFICATE block"))?;
    let key = blocks
        .iter()
        .find(|(l, _)| l == "PRIVATE KEY" || l == "RSA PRIVATE KEY")
        .ok_or_else(|| bad("no unencrypted PRIVATE KEY block"))?;
    let kp = ring::signature::RsaKeyPair::from_pkcs8(&key.1)
        .or_else(|_| ring::signature::RsaKeyPair::from_der(&key.1))
        .map_err(|_| bad("the private key is not a usable RSA key"))?;
    let thumb = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &cert.1);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let iat = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut jti = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut jti);
    let header =
        serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": b64.encode(thumb.as_ref())});
    let claims = serde_json::json!({
        "aud": audience,
        "iss": client_id,
        "sub": client_id,
        "jti": hex(&jti),
        "nbf": iat,
        "iat": iat,
        "exp": iat + 600,
    });
    let mut jwt = Zeroizing::new(format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    ));
    let mut sig = vec![0u8; kp.public().modulus_len()];
    kp.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        jwt.as_bytes(),
        &mut sig,
    )
    .map_err(|_| bad("signing the client assertion failed"))?;
    jwt.push('.');
    jwt.push_str(&b64.encode(&sig));
    Ok(jwt)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_secret() {
        let s = Settings {
            client_secret: Some(Zeroizing::new("sekrit-client-secret".into())),
            identity_header: Some(Zeroizing::new("sekrit-header".into())),
            ..Settings::default()
        };
        let d = format!("{s:?}");
        assert!(!d.contains("sekrit"), "{d}");
        let t = AccessToken {
            token: Zeroizing::new("eyJ-sekrit".into()),
            source: "x".into(),
        };
        assert!(!format!("{t:?}").contains("sekrit"));
    }

    #[test]
    fn the_authority_must_be_https_and_the_tenant_a_name() {
        let s = Settings {
            authority_host: Some("http://login.example.com".into()),
            ..Settings::default()
        };
        assert!(matches!(s.token_endpoint("t"), Err(AuthError::Failed(m)) if m.contains("https")));
        let s = Settings::default();
        assert_eq!(
            s.token_endpoint("contoso.onmicrosoft.com").unwrap(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        for bad in ["", "../x", "a/b", "a?b", ".."] {
            assert!(s.token_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_missing_cli_is_not_configured() {
        let s = Settings {
            imds_host: Some("http://127.0.0.1:1".into()),
            az: "/nonexistent/az-veil-test".into(),
            ..Settings::default()
        };
        assert!(matches!(
            s.token("https://vault.azure.net/.default"),
            Err(AuthError::NotConfigured(_))
        ));
    }
}
