//! Google credentials: an OAuth access token for a scope, found the way Google's client
//! libraries find Application Default Credentials, plus sops's own `GOOGLE_OAUTH_ACCESS_TOKEN`.
//!
//! It exists so that every Google service veil talks to (GCS for `publish`, Cloud KMS keys)
//! shares one credential chain (Cloud KMS puts sops's `GOOGLE_CREDENTIALS` in front of it):
//!
//! 1. `GOOGLE_OAUTH_ACCESS_TOKEN`: a token the user already has (`gcloud auth
//!    print-access-token`), used as it is.
//! 2. `GOOGLE_APPLICATION_CREDENTIALS`: a JSON key file — a `service_account` key signs an RS256
//!    JWT (with `ring`) that the file's `token_uri` exchanges for a token; an `authorized_user`
//!    file's refresh token is exchanged the same way.
//! 3. gcloud's well-known file, `$CLOUDSDK_CONFIG` or `~/.config/gcloud`
//!    `/application_default_credentials.json` (what `gcloud auth application-default login` writes).
//! 4. The metadata server of a Google Cloud VM (`GCE_METADATA_HOST`, else
//!    `metadata.google.internal`), with a short timeout, as the last resort.
//!
//! Tokens, private keys, refresh tokens and client secrets live in zeroizing buffers, are never
//! shown by `Debug`, and never reach an error or a log line: a failed exchange reports the
//! endpoint's `error` and `error_description` only. The token endpoint comes from a credentials
//! file the user pointed at, so it is trusted, but it must be HTTPS (plain HTTP only to a
//! loopback address, for tests). Redirects are never followed.

use crate::error::{Error, Result};
use crate::net::{client_without_redirects, describe_reqwest, percent_encode};
use base64::Engine as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

/// An access token the user already has (sops's variable).
pub const GOOGLE_OAUTH_ACCESS_TOKEN: &str = "GOOGLE_OAUTH_ACCESS_TOKEN";
/// Path of a service-account or authorized-user JSON key file.
pub const GOOGLE_APPLICATION_CREDENTIALS: &str = "GOOGLE_APPLICATION_CREDENTIALS";
/// gcloud's configuration directory (default `~/.config/gcloud`).
pub const CLOUDSDK_CONFIG: &str = "CLOUDSDK_CONFIG";
/// `host[:port]` of the metadata server (default `metadata.google.internal`).
pub const GCE_METADATA_HOST: &str = "GCE_METADATA_HOST";

/// Google's token endpoint, for files that name none.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Token answers are small; read at most this much.
const MAX_ANSWER: u64 = 64 << 10;

/// The token type every credential chain returns (shared with Azure's).
pub use crate::net::AccessToken;

fn auth_error(msg: impl Into<String>) -> Error {
    Error::generic(msg.into()).hint(format!(
        "set {GOOGLE_APPLICATION_CREDENTIALS} to a service-account key file, run `gcloud auth application-default login`, or set {GOOGLE_OAUTH_ACCESS_TOKEN}"
    ))
}

/// A token for `scope`, from the first source of the chain that has one.
pub fn access_token(scope: &str) -> Result<AccessToken> {
    if let Some(t) = crate::env::var(GOOGLE_OAUTH_ACCESS_TOKEN) {
        return Ok(AccessToken {
            token: Zeroizing::new(t),
            source: GOOGLE_OAUTH_ACCESS_TOKEN.into(),
        });
    }
    application_default(scope)
}

/// Application Default Credentials alone (steps 2–4 of the chain): the key file named by
/// `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's well-known file, the metadata server.
pub fn application_default(scope: &str) -> Result<AccessToken> {
    if let Some(p) = crate::env::var(GOOGLE_APPLICATION_CREDENTIALS) {
        return from_file(Path::new(&p), scope);
    }
    if let Some(p) = well_known_file().filter(|p| p.is_file()) {
        return from_file(&p, scope);
    }
    metadata_server(scope)
}

/// A token from an access token the caller already holds (`source` names where it came from).
pub fn given_token(token: Zeroizing<String>, source: &str) -> AccessToken {
    AccessToken {
        token,
        source: source.into(),
    }
}

/// gcloud's application-default credentials file.
pub fn well_known_file() -> Option<PathBuf> {
    let dir = crate::env::var(CLOUDSDK_CONFIG)
        .map(PathBuf::from)
        .or_else(|| {
            crate::env::var(crate::env::HOME).map(|h| Path::new(&h).join(".config/gcloud"))
        })?;
    Some(dir.join("application_default_credentials.json"))
}

/// A token from a JSON credentials file.
pub fn from_file(path: &Path, scope: &str) -> Result<AccessToken> {
    let text = Zeroizing::new(std::fs::read(path).map_err(|e| {
        auth_error(format!(
            "cannot read the Google credentials file {}: {e}",
            path.display()
        ))
    })?);
    from_json(
        &text,
        &format!("the Google credentials file {}", path.display()),
        scope,
    )
}

/// A token from the text of a JSON credentials file; `source` names where the text came from
/// (a file, or a variable holding the JSON itself) and never shows the text.
pub fn from_json(text: &[u8], source: &str, scope: &str) -> Result<AccessToken> {
    let json: serde_json::Value =
        serde_json::from_slice(text).map_err(|_| auth_error(format!("{source} is not JSON")))?;
    let field = |name: &str| json.get(name).and_then(|v| v.as_str()).unwrap_or("");
    let source = source.to_string();
    let token_uri = match field("token_uri") {
        "" => DEFAULT_TOKEN_URI,
        u => u,
    };
    let token = match field("type") {
        "service_account" => {
            check_token_uri(token_uri)?;
            let key = Zeroizing::new(field("private_key").to_string());
            let jwt = signed_jwt(
                field("client_email"),
                field("private_key_id"),
                &key,
                scope,
                token_uri,
                SystemTime::now(),
            )
            .map_err(|e| e.context(&source))?;
            exchange(
                token_uri,
                &[("grant_type", JWT_BEARER), ("assertion", &jwt)],
            )?
        }
        "authorized_user" => {
            check_token_uri(token_uri)?;
            let secret = Zeroizing::new(field("client_secret").to_string());
            let refresh = Zeroizing::new(field("refresh_token").to_string());
            if refresh.is_empty() {
                return Err(auth_error(format!("{source} has no refresh_token")));
            }
            exchange(
                token_uri,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", field("client_id")),
                    ("client_secret", &secret),
                    ("refresh_token", &refresh),
                ],
            )?
        }
        other => {
            return Err(auth_error(format!(
                "{source}: Google credentials of type {other:?} are not supported by veil yet"
            )))
        }
    };
    Ok(AccessToken { token, source })
}

/// Token endpoints must be HTTPS; plain HTTP only to a loopback address.
fn check_token_uri(uri: &str) -> Result<()> {
    // Judged on the parsed URL: a prefix test would let `http://127.0.0.1:@evil.example/` (host
    // `evil.example`) receive a signed assertion or a refresh token over plain HTTP.
    let ok = reqwest::Url::parse(uri).is_ok_and(|u| {
        u.username().is_empty()
            && u.password().is_none()
            && match u.scheme() {
                "https" => u.host_str().is_some(),
                "http" => u.host_str().is_some_and(crate::net::is_loopback),
                _ => false,
            }
    });
    if ok {
        return Ok(());
    }
    Err(auth_error(format!(
        "refusing the token endpoint {uri:?}: it must be an https:// URL"
    )))
}

/// An RS256-signed JWT asserting `email` for `scope`, valid for an hour from `now`, for the
/// `jwt-bearer` grant at `audience` (the token endpoint). `pem` is the service account's
/// PKCS#8 (or PKCS#1) RSA private key.
pub fn signed_jwt(
    email: &str,
    key_id: &str,
    pem: &str,
    scope: &str,
    audience: &str,
    now: SystemTime,
) -> Result<Zeroizing<String>> {
    if email.is_empty() {
        return Err(auth_error("the service-account key has no client_email"));
    }
    let der = pem_body(pem)?;
    let key = ring::signature::RsaKeyPair::from_pkcs8(&der)
        .or_else(|_| ring::signature::RsaKeyPair::from_der(&der))
        .map_err(|e| {
            auth_error(format!(
                "the service-account private key is not usable: {e}"
            ))
        })?;
    let iat = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": key_id});
    let claims = serde_json::json!({
        "iss": email,
        "scope": scope,
        "aud": audience,
        "iat": iat,
        "exp": iat + 3600,
    });
    let mut jwt = Zeroizing::new(format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    ));
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        jwt.as_bytes(),
        &mut sig,
    )
    .map_err(|_| auth_error("signing the service-account assertion failed"))?;
    jwt.push('.');
    jwt.push_str(&b64.encode(&sig));
    Ok(jwt)
}

/// The DER bytes inside a PEM block.
fn pem_body(pem: &str) -> Result<Zeroizing<Vec<u8>>> {
    let b64: Zeroizing<String> = Zeroizing::new(
        pem.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("-----"))
            .collect(),
    );
    base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| auth_error("the service-account private_key is not a PEM key"))
}

/// POST a form to a token endpoint; the `access_token` of the answer.
fn exchange(token_uri: &str, form: &[(&str, &str)]) -> Result<Zeroizing<String>> {
    let resp = client_without_redirects(Duration::from_secs(30))?
        .post(token_uri)
        .form(form)
        .send()
        .map_err(|e| {
            auth_error(format!(
                "could not reach the Google token endpoint: {}",
                describe_reqwest(&e)
            ))
        })?;
    token_from_answer(resp, token_uri)
}

fn token_from_answer(resp: reqwest::blocking::Response, from: &str) -> Result<Zeroizing<String>> {
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
        return Err(auth_error(format!(
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
        _ => Err(auth_error(format!(
            "{from} answered without an access_token"
        ))),
    }
}

/// A token from the metadata server of a Google Cloud VM (short timeouts: off Google Cloud the
/// name does not resolve and this fails fast).
fn metadata_server(scope: &str) -> Result<AccessToken> {
    let host =
        crate::env::var(GCE_METADATA_HOST).unwrap_or_else(|| "metadata.google.internal".into());
    let url = format!(
        "http://{host}/computeMetadata/v1/instance/service-accounts/default/token?scopes={}",
        percent_encode(scope)
    );
    let resp = client_without_redirects(Duration::from_secs(3))?
        .get(&url)
        .header("Metadata-Flavor", "Google")
        .send()
        .map_err(|_| {
            auth_error(
                "no Google credentials found (no GOOGLE_OAUTH_ACCESS_TOKEN, no GOOGLE_APPLICATION_CREDENTIALS, no gcloud application-default credentials, and no metadata server)",
            )
        })?;
    let token = token_from_answer(resp, "the metadata server")?;
    Ok(AccessToken {
        token,
        source: format!("metadata server {host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    const SA: &str = include_str!("../testdata/keys/test-gcp-service-account.json");
    const SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_write";

    #[test]
    fn plain_http_token_endpoints_only_on_a_loopback_host() {
        for ok in [
            "https://oauth2.googleapis.com/token",
            "http://127.0.0.1:8080/token",
            "http://localhost/token",
            "http://[::1]:9/t",
        ] {
            assert!(check_token_uri(ok).is_ok(), "{ok}");
        }
        // A loopback-looking prefix with the real host after `@` is not loopback.
        for bad in [
            "http://127.0.0.1:@evil.example/t",
            "http://localhost:x@evil.example/t",
            "http://evil.example/t",
            "https://user:pw@oauth2.googleapis.com/token",
            "ftp://127.0.0.1/t",
            "not a url",
        ] {
            assert!(check_token_uri(bad).is_err(), "{bad}");
        }
    }

    fn sa_field(name: &str) -> String {
        let j: serde_json::Value = serde_json::from_str(SA).unwrap();
        j[name].as_str().unwrap().to_string()
    }

    /// The RSA public key of the test service account, for checking signatures.
    fn public_key() -> Vec<u8> {
        let der = pem_body(&sa_field("private_key")).unwrap();
        let kp = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
        use ring::signature::KeyPair;
        kp.public_key().as_ref().to_vec()
    }

    fn verify(jwt: &str) -> serde_json::Value {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (signed, sig) = jwt.rsplit_once('.').unwrap();
        let pk = public_key();
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, &pk)
            .verify(signed.as_bytes(), &b64.decode(sig).unwrap())
            .expect("the signature verifies with the account's public key");
        let (h, c) = signed.split_once('.').unwrap();
        let header: serde_json::Value = serde_json::from_slice(&b64.decode(h).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], "veil-test-key-id");
        serde_json::from_slice(&b64.decode(c).unwrap()).unwrap()
    }

    #[test]
    fn the_assertion_is_a_verifiable_rs256_jwt() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let jwt = signed_jwt(
            &sa_field("client_email"),
            &sa_field("private_key_id"),
            &sa_field("private_key"),
            SCOPE,
            DEFAULT_TOKEN_URI,
            now,
        )
        .unwrap();
        let claims = verify(&jwt);
        assert_eq!(claims["iss"], "veil-test@veil-test.iam.gserviceaccount.com");
        assert_eq!(claims["scope"], SCOPE);
        assert_eq!(claims["aud"], DEFAULT_TOKEN_URI);
        assert_eq!(claims["iat"], 1_700_000_000u64);
        assert_eq!(claims["exp"], 1_700_003_600u64);
        assert!(signed_jwt("e", "k", "not a key", SCOPE, DEFAULT_TOKEN_URI, now).is_err());
    }

    /// A one-request token endpoint on a loopback port: it checks the jwt-bearer form and the
    /// signature, and answers with `answer` (or a 400 when the request is wrong).
    fn token_endpoint(answer: &'static str) -> (String, std::thread::JoinHandle<String>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/token", l.local_addr().unwrap());
        let h = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut len = 0;
            let mut first = String::new();
            r.read_line(&mut first).unwrap();
            loop {
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let body = String::from_utf8(body).unwrap();
            let mut s = s;
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
            let reply = if answer.starts_with("{\"error\"") {
                reply.replacen("200 OK", "400 Bad Request", 1)
            } else {
                reply
            };
            s.write_all(reply.as_bytes()).unwrap();
            format!("{first}{body}")
        });
        (url, h)
    }

    fn key_file(dir: &Path, token_uri: &str) -> PathBuf {
        let mut j: serde_json::Value = serde_json::from_str(SA).unwrap();
        j["token_uri"] = token_uri.into();
        let p = dir.join("sa.json");
        std::fs::write(&p, j.to_string()).unwrap();
        p
    }

    #[test]
    fn a_service_account_file_is_exchanged_for_a_token() {
        let dir = tempfile::tempdir().unwrap();
        let (url, server) = token_endpoint(
            r#"{"access_token":"ya29.test-token","expires_in":3599,"token_type":"Bearer"}"#,
        );
        let t = from_file(&key_file(dir.path(), &url), SCOPE).unwrap();
        assert_eq!(t.expose(), "ya29.test-token");
        assert!(!format!("{t:?}").contains("ya29"));
        let req = server.join().unwrap();
        assert!(req.starts_with("POST /token "), "{req}");
        let body = req.lines().last().unwrap();
        let form: std::collections::HashMap<&str, &str> = body
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .collect();
        assert_eq!(form["grant_type"], percent_encode(JWT_BEARER));
        // A JWT is base64url and dots: nothing in it needs escaping.
        assert_eq!(verify(form["assertion"])["aud"], url);
    }

    #[test]
    fn a_refused_exchange_names_the_error_but_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let (url, server) = token_endpoint(
            r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
        );
        let e = from_file(&key_file(dir.path(), &url), SCOPE).unwrap_err();
        server.join().unwrap();
        assert!(
            e.message.contains("invalid_grant: Invalid JWT Signature."),
            "{e}"
        );
        assert!(!e.to_string().contains("PRIVATE KEY"));
        // Plain HTTP to anything but loopback is refused before any request.
        let e = from_file(&key_file(dir.path(), "http://token.example.com/t"), SCOPE).unwrap_err();
        assert!(e.message.contains("must be an https:// URL"), "{e}");
    }
}
