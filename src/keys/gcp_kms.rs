//! GCP Cloud KMS master keys over the public REST API: two calls and a credential chain.
//!
//! A key is a crypto key's resource id, `projects/P/locations/L/keyRings/R/cryptoKeys/K`.
//! Wrapping is `POST {endpoint}/v1/{resource id}:encrypt` with `{"plaintext": base64}`; the
//! answer's `ciphertext` (base64 of the ciphertext bytes) is what `enc` holds, in standard
//! padded base64, as sops writes it. Unwrapping sends `enc` back as `ciphertext` to `:decrypt`
//! and takes `plaintext`. sops 3.13 talks gRPC by default (REST with
//! `SOPS_GCP_KMS_CLIENT_TYPE=rest`); the bytes on either transport are the same, so files are
//! interchangeable. veil always speaks REST.
//!
//! Credentials, in sops's order: `GOOGLE_CREDENTIALS` (a path to a JSON key file, or the JSON
//! itself), then `GOOGLE_OAUTH_ACCESS_TOKEN`, then Google's Application Default Credentials
//! (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud's file, the metadata server), all through
//! [`crate::google_auth`]. The token is fetched once per run, on first use.
//!
//! **Where the token goes.** A file's metadata only names the resource id, which only forms the
//! URL's path, and is refused unless every segment is a plain name (no `..`, `?`, `#`, `%`,
//! slashes beyond the eight segments). The host always comes from the user: the default
//! `https://cloudkms.googleapis.com`, `SOPS_GCP_KMS_ENDPOINT` (a URL, or `host[:port]` for
//! HTTPS, as Google's client libraries read it), or `cloudkms.{SOPS_GCP_KMS_UNIVERSE_DOMAIN}`.
//! Plain HTTP is accepted only to a loopback address. Redirects are never followed. This module
//! must never put the token, a credentials file's content or a response body other than the
//! service's error `status` and `message` into a message.

use super::{Backend, KeyRef, Secret};
use crate::env;
use crate::error::{Code, Error, Outcome, Result};
use crate::google_auth::{self, AccessToken, GOOGLE_APPLICATION_CREDENTIALS};
use crate::net::{client_without_redirects, describe_reqwest, one_line};
use base64::Engine as _;
use std::cell::OnceCell;
use std::io::Read;
use std::path::Path;
use std::time::Duration;
use zeroize::Zeroizing;

/// Default resource ids for encryption (the default of `--gcp-kms`).
pub const SOPS_GCP_KMS_IDS: &str = "SOPS_GCP_KMS_IDS";
/// The Cloud KMS endpoint instead of Google's (sops 3.13): a URL, or `host[:port]` (HTTPS).
pub const SOPS_GCP_KMS_ENDPOINT: &str = "SOPS_GCP_KMS_ENDPOINT";
/// A universe domain (sovereign clouds): the endpoint becomes `https://cloudkms.{domain}`.
pub const SOPS_GCP_KMS_UNIVERSE_DOMAIN: &str = "SOPS_GCP_KMS_UNIVERSE_DOMAIN";
/// sops's transport choice (`grpc`, `rest`); veil always uses REST and ignores it.
pub const SOPS_GCP_KMS_CLIENT_TYPE: &str = "SOPS_GCP_KMS_CLIENT_TYPE";
/// A path to a JSON credentials file, or the JSON itself (sops's variable; checked first).
pub const GOOGLE_CREDENTIALS: &str = "GOOGLE_CREDENTIALS";
/// Google's Cloud KMS endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://cloudkms.googleapis.com";
/// The OAuth scope asked for.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloudkms";
/// Cloud KMS answers are small; read at most this much.
const MAX_RESPONSE: u64 = 1 << 20;

/// The resource id as a URL path, or why it is not one. sops's pattern is
/// `^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$`; veil also refuses
/// segments that would mean something else in a URL path (`.`, `..`, `?`, `#`, `%`, `\`,
/// whitespace, controls), since a file's metadata is untrusted.
pub fn resource_path(id: &str) -> std::result::Result<&str, String> {
    let segs: Vec<&str> = id.split('/').collect();
    let shape_ok = segs.len() == 8
        && segs[0] == "projects"
        && segs[2] == "locations"
        && segs[4] == "keyRings"
        && segs[6] == "cryptoKeys"
        && [1, 3, 5, 7].iter().all(|&i| !segs[i].is_empty());
    if !shape_ok {
        return Err(format!(
            "no valid resource ID found in {id:?} (it must be projects/P/locations/L/keyRings/R/cryptoKeys/K)"
        ));
    }
    let plain = |s: &str| {
        s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:~@".contains(c))
    };
    if let Some(bad) = [1, 3, 5, 7].iter().map(|&i| segs[i]).find(|s| !plain(s)) {
        return Err(format!(
            "refusing the resource ID {id:?}: {bad:?} is not a plain name (letters, digits, - _ . : ~ @)"
        ));
    }
    Ok(id)
}

/// The base URL requests go to, from `SOPS_GCP_KMS_ENDPOINT` and
/// `SOPS_GCP_KMS_UNIVERSE_DOMAIN` (empty means unset; the endpoint wins, as in sops). An
/// endpoint with a scheme is used as given (a path prefix is kept); `host[:port]` means HTTPS
/// to it, which is how Google's client libraries merge a bare host into their default URL.
pub fn endpoint_from(
    endpoint: Option<&str>,
    universe_domain: Option<&str>,
) -> std::result::Result<String, String> {
    let endpoint = endpoint.map(str::trim).filter(|e| !e.is_empty());
    let universe = universe_domain.map(str::trim).filter(|u| !u.is_empty());
    let Some(e) = endpoint else {
        return match universe {
            None => Ok(DEFAULT_ENDPOINT.to_string()),
            Some(u) => {
                let ok = u.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
                if ok {
                    Ok(format!("https://cloudkms.{}", u.to_ascii_lowercase()))
                } else {
                    Err(format!(
                        "{SOPS_GCP_KMS_UNIVERSE_DOMAIN} {u:?} is not a domain name"
                    ))
                }
            }
        };
    };
    let with_scheme = if e.contains("://") {
        e.to_string()
    } else {
        format!("https://{e}")
    };
    let bad = |why: &str| format!("{SOPS_GCP_KMS_ENDPOINT} {e:?} is not usable: {why}");
    let url = reqwest::Url::parse(&with_scheme).map_err(|err| bad(&err.to_string()))?;
    let host = url.host_str().unwrap_or_default().to_string();
    if host.is_empty() {
        return Err(bad("it names no host"));
    }
    match url.scheme() {
        "https" => {}
        "http" if crate::net::is_loopback(&host) => {}
        "http" => {
            return Err(bad(
                "plain http is only allowed to a loopback address (the access token would travel unencrypted)",
            ))
        }
        other => return Err(bad(&format!("unsupported scheme {other:?}"))),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials in the URL are not supported"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a query or fragment is not allowed"));
    }
    let mut s = url.as_str().to_string();
    while s.ends_with('/') {
        s.pop();
    }
    Ok(s)
}

/// What the backend reads from the environment, snapshotted once.
#[derive(Default)]
pub struct GcpSettings {
    /// `SOPS_GCP_KMS_ENDPOINT`.
    pub endpoint: Option<String>,
    /// `SOPS_GCP_KMS_UNIVERSE_DOMAIN`.
    pub universe_domain: Option<String>,
    /// `GOOGLE_CREDENTIALS`: a path, or the JSON itself (secret).
    pub credentials: Option<Zeroizing<String>>,
    /// `GOOGLE_OAUTH_ACCESS_TOKEN` (secret).
    pub access_token: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for GcpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpSettings")
            .field("endpoint", &self.endpoint)
            .field("universe_domain", &self.universe_domain)
            .field("credentials_set", &self.credentials.is_some())
            .field("access_token_set", &self.access_token.is_some())
            .finish()
    }
}

impl GcpSettings {
    pub fn from_env() -> GcpSettings {
        let nonempty = |k: &str| env::var(k).filter(|v| !v.is_empty());
        GcpSettings {
            endpoint: nonempty(SOPS_GCP_KMS_ENDPOINT),
            universe_domain: nonempty(SOPS_GCP_KMS_UNIVERSE_DOMAIN),
            credentials: nonempty(GOOGLE_CREDENTIALS).map(Zeroizing::new),
            access_token: nonempty(google_auth::GOOGLE_OAUTH_ACCESS_TOKEN).map(Zeroizing::new),
        }
    }
}

/// The GCP Cloud KMS backend.
pub struct GcpKmsBackend {
    settings: GcpSettings,
    endpoint: std::result::Result<String, String>,
    token: OnceCell<std::result::Result<AccessToken, Outcome>>,
    client: OnceCell<std::result::Result<reqwest::blocking::Client, String>>,
}

impl std::fmt::Debug for GcpKmsBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpKmsBackend")
            .field("settings", &self.settings)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl GcpKmsBackend {
    /// From the environment (nothing is contacted until a key is used).
    pub fn from_env() -> GcpKmsBackend {
        GcpKmsBackend::new(GcpSettings::from_env())
    }

    /// With explicit settings (tests, embedding).
    pub fn new(settings: GcpSettings) -> GcpKmsBackend {
        let endpoint = endpoint_from(
            settings.endpoint.as_deref(),
            settings.universe_domain.as_deref(),
        );
        GcpKmsBackend {
            settings,
            endpoint,
            token: OnceCell::new(),
            client: OnceCell::new(),
        }
    }

    /// The base URL calls go to (or why the configured one is refused).
    pub fn endpoint(&self) -> std::result::Result<&str, String> {
        self.endpoint.as_deref().map_err(Clone::clone)
    }

    /// The access token, found once. `NoIdentity` when no source of credentials exists at all,
    /// `Failed` when one exists and does not work.
    fn token(&self) -> std::result::Result<&AccessToken, Outcome> {
        self.token
            .get_or_init(|| self.find_token())
            .as_ref()
            .map_err(Clone::clone)
    }

    fn find_token(&self) -> std::result::Result<AccessToken, Outcome> {
        let failed = |e: Error| Outcome::Failed(format!("gcp_kms: {}", e.message));
        if let Some(c) = &self.settings.credentials {
            let path = Path::new(c.as_str());
            // As sops: a value naming an existing file is a path, anything else is the JSON.
            return if !c.trim_start().starts_with('{') && path.exists() {
                let text = Zeroizing::new(std::fs::read(path).map_err(|e| {
                    Outcome::Failed(format!(
                        "gcp_kms: cannot read {GOOGLE_CREDENTIALS} file {}: {}",
                        path.display(),
                        e.kind()
                    ))
                })?);
                google_auth::from_json(
                    &text,
                    &format!("the {GOOGLE_CREDENTIALS} file {}", path.display()),
                    SCOPE,
                )
                .map_err(failed)
            } else {
                let what = if c.trim_start().starts_with('{') {
                    format!("the JSON in {GOOGLE_CREDENTIALS}")
                } else {
                    format!("{GOOGLE_CREDENTIALS} (not an existing file, so read as JSON)")
                };
                google_auth::from_json(c.as_bytes(), &what, SCOPE).map_err(failed)
            };
        }
        if let Some(t) = &self.settings.access_token {
            return Ok(google_auth::given_token(
                t.clone(),
                google_auth::GOOGLE_OAUTH_ACCESS_TOKEN,
            ));
        }
        let configured = env::var(google_auth::GOOGLE_APPLICATION_CREDENTIALS).is_some()
            || google_auth::well_known_file().is_some_and(|p| p.is_file());
        google_auth::application_default(SCOPE).map_err(|e| {
            if configured {
                failed(e)
            } else {
                Outcome::NoIdentity(format!("gcp_kms: {}", e.message))
            }
        })
    }

    fn client(&self) -> std::result::Result<&reqwest::blocking::Client, String> {
        self.client
            .get_or_init(|| {
                client_without_redirects(Duration::from_secs(60)).map_err(|e| e.message.clone())
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// `POST {endpoint}/v1/{resource}:{verb}` with `body`; the JSON answer, or one line saying
    /// what went wrong (the service's status and message, never a header or other body text).
    fn call(
        &self,
        resource: &str,
        verb: &str,
        body: &serde_json::Value,
        token: &AccessToken,
    ) -> std::result::Result<serde_json::Value, String> {
        let base = self.endpoint()?;
        let path = resource_path(resource)?;
        let url = format!("{base}/v1/{path}:{verb}");
        let resp = self
            .client()?
            .post(&url)
            .bearer_auth(token.expose())
            .json(body)
            .send()
            .map_err(|e| describe_reqwest(&e))?;
        let status = resp.status();
        let mut text = Zeroizing::new(String::new());
        resp.take(MAX_RESPONSE)
            .read_to_string(&mut text)
            .map_err(|e| format!("{base}: cannot read the answer: {e}"))?;
        let json: Option<serde_json::Value> = serde_json::from_str(&text).ok();
        if !status.is_success() {
            return Err(format!(
                "{base} answered {}: {}",
                status.as_u16(),
                service_error(json.as_ref())
            ));
        }
        json.ok_or_else(|| format!("{base} answered {} without JSON", status.as_u16()))
    }
}

/// Google's error body, `{"error": {"code", "status", "message"}}`, as `STATUS: message`.
fn service_error(json: Option<&serde_json::Value>) -> String {
    let err = json.and_then(|j| j.get("error"));
    let field = |n: &str| {
        err.and_then(|e| e.get(n))
            .and_then(|v| v.as_str())
            .map(|s| s.chars().filter(|c| !c.is_control()).collect::<String>())
            .filter(|s| !s.is_empty())
    };
    let s = match (field("status"), field("message")) {
        (Some(st), Some(m)) => format!("{st}: {m}"),
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => "no error text".into(),
    };
    let s = one_line(&s);
    if s.len() <= 300 {
        return s;
    }
    let mut cut = 300;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}

/// Base64 as the JSON mapping of protobuf `bytes` allows it (standard or URL-safe, padding
/// optional).
fn decode_proto_bytes(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(s).ok())
}

impl Backend for GcpKmsBackend {
    fn kind(&self) -> &'static str {
        "gcp_kms"
    }

    fn wrap(&self, key: &KeyRef, secret: &[u8]) -> Result<String> {
        let KeyRef::GcpKms { resource_id } = key else {
            return Err(Error::generic("gcp_kms: not a GCP KMS key"));
        };
        let fail = |why: String| {
            Error::new(
                Code::Generic,
                format!("failed to encrypt the data key with gcp_kms {resource_id}: {why}"),
            )
        };
        resource_path(resource_id).map_err(|e| {
            fail(e).hint("give the key as projects/P/locations/L/keyRings/R/cryptoKeys/K")
        })?;
        self.endpoint().map_err(|e| {
            fail(e).hint(format!(
                "set {SOPS_GCP_KMS_ENDPOINT} to https://host[:port] (or host[:port]), or unset it"
            ))
        })?;
        let token = self.token().map_err(|o| {
            let (Outcome::NoIdentity(s) | Outcome::Failed(s)) = o else {
                return fail(o.to_string());
            };
            fail(s.trim_start_matches("gcp_kms: ").to_string()).hint(format!(
                "set {GOOGLE_APPLICATION_CREDENTIALS} to a service-account key file, run `gcloud auth application-default login`, or set {} or {GOOGLE_CREDENTIALS}",
                google_auth::GOOGLE_OAUTH_ACCESS_TOKEN
            ))
        })?;
        let body = serde_json::json!({
            "plaintext": base64::engine::general_purpose::STANDARD.encode(secret)
        });
        let answer = self
            .call(resource_id, "encrypt", &body, token)
            .map_err(|e| {
                fail(format!("{e} (credentials: {})", token.source)).hint(
                    "check the resource id, that the key exists and is enabled, and that your account may use it (roles/cloudkms.cryptoKeyEncrypterDecrypter)",
                )
            })?;
        let ct = answer
            .get("ciphertext")
            .and_then(|c| c.as_str())
            .and_then(decode_proto_bytes)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| fail("the answer has no ciphertext".into()))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(ct))
    }

    fn unwrap(&self, key: &KeyRef, enc: &str) -> std::result::Result<Secret, Outcome> {
        let KeyRef::GcpKms { resource_id } = key else {
            return Err(Outcome::Unsupported);
        };
        resource_path(resource_id).map_err(|e| Outcome::Failed(format!("gcp_kms: {e}")))?;
        self.endpoint()
            .map_err(|e| Outcome::Failed(format!("gcp_kms: {e}")))?;
        // sops decodes `enc` as standard base64 before sending the bytes.
        let ct = base64::engine::general_purpose::STANDARD
            .decode(enc)
            .map_err(|_| Outcome::Failed("gcp_kms: enc is not base64".into()))?;
        let token = self.token()?;
        let body = serde_json::json!({
            "ciphertext": base64::engine::general_purpose::STANDARD.encode(&ct)
        });
        let answer = self
            .call(resource_id, "decrypt", &body, token)
            .map_err(|e| {
                Outcome::Failed(format!("gcp_kms: {e} (credentials: {})", token.source))
            })?;
        let pt = answer
            .get("plaintext")
            .and_then(|p| p.as_str())
            .and_then(decode_proto_bytes)
            .map(Zeroizing::new)
            .ok_or_else(|| Outcome::Failed("gcp_kms: the answer has no plaintext".into()))?;
        if pt.is_empty() {
            return Err(Outcome::Failed(
                "gcp_kms: Cloud KMS decrypted the key to zero bytes".into(),
            ));
        }
        Ok(pt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "projects/p-1/locations/global/keyRings/ring_1/cryptoKeys/key-1";

    #[test]
    fn resource_ids_are_checked_like_sops_and_must_be_plain_path_segments() {
        assert_eq!(resource_path(ID), Ok(ID));
        assert!(
            resource_path("projects/example.com:p/locations/us-east1/keyRings/r/cryptoKeys/k")
                .is_ok()
        );
        for bad in [
            "",
            "projects/p/locations/l/keyRings/r",
            "projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
            "projects//locations/l/keyRings/r/cryptoKeys/k",
            "project/p/locations/l/keyRings/r/cryptoKeys/k",
            "/projects/p/locations/l/keyRings/r/cryptoKeys/k",
            "projects/p/locations/l/keyRings/r/cryptoKeys/k?x=1",
            "projects/p/locations/l/keyRings/r/cryptoKeys/k#x",
            "projects/../locations/l/keyRings/r/cryptoKeys/k",
            "projects/p/locations/l/keyRings/r/cryptoKeys/%2e%2e",
            "projects/p/locations/l/keyRings/r/cryptoKeys/k:encrypt?",
            "projects/p/locations/l/keyRings/r/cryptoKeys/a b",
            "projects/p/locations/l/keyRings/r/cryptoKeys/k\\x",
        ] {
            assert!(resource_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_endpoint_comes_from_the_environment_only() {
        assert_eq!(endpoint_from(None, None).unwrap(), DEFAULT_ENDPOINT);
        assert_eq!(
            endpoint_from(Some(" "), Some("")).unwrap(),
            DEFAULT_ENDPOINT
        );
        assert_eq!(
            endpoint_from(None, Some("s3nsapis.fr")).unwrap(),
            "https://cloudkms.s3nsapis.fr"
        );
        // A bare host[:port] is HTTPS to it, as Google's libraries merge it.
        assert_eq!(
            endpoint_from(Some("cloudkms.s3nsapis.fr:443"), Some("ignored.example")).unwrap(),
            "https://cloudkms.s3nsapis.fr"
        );
        assert_eq!(
            endpoint_from(Some("https://kms.example.com:8443/"), None).unwrap(),
            "https://kms.example.com:8443"
        );
        assert_eq!(
            endpoint_from(Some("http://127.0.0.1:9000"), None).unwrap(),
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            endpoint_from(Some("https://proxy.example.com/kms/"), None).unwrap(),
            "https://proxy.example.com/kms"
        );
        for bad in [
            "http://kms.example.com",
            "ftp://kms.example.com",
            "https://user:pw@kms.example.com",
            "https://kms.example.com/?x=1",
            "https://kms.example.com/#f",
            "https://",
        ] {
            assert!(endpoint_from(Some(bad), None).is_err(), "{bad}");
        }
        for bad in ["evil.com/x", "a..b", "a b", "x.com:1"] {
            assert!(endpoint_from(None, Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bad_resource_id_fails_before_any_credential_or_connection() {
        // The endpoint is a port nobody listens on and there are no credentials: the refusal
        // must come first, and must say why.
        let b = GcpKmsBackend::new(GcpSettings {
            endpoint: Some("http://127.0.0.1:1".into()),
            access_token: Some(Zeroizing::new("ya29.sekrit-token".into())),
            ..Default::default()
        });
        let k = KeyRef::GcpKms {
            resource_id: "projects/p/locations/l/keyRings/r/cryptoKeys/../../../../x".into(),
        };
        match b.unwrap(&k, "AAAA") {
            Err(Outcome::Failed(m)) => assert!(m.contains("no valid resource ID"), "{m}"),
            other => panic!("{other:?}"),
        }
        let e = b.wrap(&k, &[1; 32]).unwrap_err().to_string();
        assert!(e.contains("no valid resource ID"), "{e}");
        assert!(!format!("{b:?}").contains("sekrit"));
        assert!(b.token.get().is_none(), "no token was looked for");
    }

    #[test]
    fn service_errors_show_status_and_message_only() {
        let j = serde_json::json!({"error": {"code": 403, "status": "PERMISSION_DENIED",
            "message": "Permission 'cloudkms.cryptoKeyVersions.useToDecrypt' denied\n on resource"}});
        assert_eq!(
            service_error(Some(&j)),
            "PERMISSION_DENIED: Permission 'cloudkms.cryptoKeyVersions.useToDecrypt' denied on resource"
        );
        assert_eq!(service_error(None), "no error text");
        assert_eq!(decode_proto_bytes("-_8").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode_proto_bytes("+/8=").unwrap(), vec![0xfb, 0xff]);
    }
}
