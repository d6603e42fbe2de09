//! AWS KMS master keys, through the official SDK (aws-config + aws-sdk-kms).
//!
//! As sops does it (docs/sops-format.md §4.4): `Encrypt(KeyId = arn, Plaintext, EncryptionContext)` and `enc` =
//! standard base64 of the ciphertext blob; decrypt passes the same key id and context. The
//! region comes from the ARN; a key's `role` is assumed through STS with the session name
//! `sops@<hostname>`; `aws_profile` selects the shared-config profile. Everything else is the
//! SDK's standard chain, so environment credentials, profiles, SSO, `credential_process`, web
//! identity and instance metadata all work, and `AWS_ENDPOINT_URL(_KMS)` points it elsewhere.
//!
//! The SDK is async; the backend owns one current-thread tokio runtime, made on first use, and
//! one HTTPS client (hyper + rustls with the ring provider). Clients are cached per (region,
//! profile, role), so credentials are resolved once per run, not per key. Errors name the key
//! and the cause; credentials never appear in them.

use super::{Backend, KeyRef, Secret};
use crate::error::{Code, Error, Outcome, Result};
use crate::net::{error_chain, one_line};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_kms::config::ProvideCredentials;
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use base64::Engine as _;
use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeMap, HashMap};
use zeroize::Zeroizing;

/// Default KMS key ARNs for encryption (the default of `--kms`).
pub const SOPS_KMS_ARN: &str = "SOPS_KMS_ARN";

/// sops's ARN pattern; the first group is the region.
const ARN_REGEX: &str = r"^arn:aws[\w-]*:kms:(.+):[0-9]+:(key|alias)/.+$";
/// AWS's limit on a role session name.
const ROLE_SESSION_NAME_LIMIT: usize = 64;

/// The region of a KMS key ARN, or `None` when it is not one.
pub fn region_of(arn: &str) -> Option<String> {
    let re = regex::Regex::new(ARN_REGEX).ok()?;
    re.captures(arn)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str())
        // The region becomes part of the host the signed request goes to: a file must not
        // be able to name another host through it (sops's pattern takes any text there).
        .filter(|r| {
            !r.is_empty()
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        .map(str::to_string)
}

/// Parse `--encryption-context k1:v1,k2:v2` as sops does: every item must split on `:` into
/// exactly two parts. Malformed text is exit 6.
pub fn parse_encryption_context(s: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if s.is_empty() {
        return Ok(out);
    }
    for kv in s.split(',') {
        let parts: Vec<&str> = kv.split(':').collect();
        match parts.as_slice() {
            [k, v] => {
                out.insert(k.to_string(), v.to_string());
            }
            _ => {
                return Err(Error::new(
                    Code::InvalidKmsEncryptionContextFormat,
                    "Invalid KMS encryption context format",
                )
                .hint("give key:value pairs separated by commas, e.g. --encryption-context app:web,env:prod"))
            }
        }
    }
    Ok(out)
}

/// Parse a comma-separated ARN list (`--kms`, `SOPS_KMS_ARN`); `ARN+ROLE_ARN` splits into the
/// key and the role to assume, in any partition (`+arn:` joins them, as in sops 3.12+). Spaces
/// are removed, as sops does.
pub fn keys_from_arns(
    list: &str,
    context: &BTreeMap<String, String>,
    aws_profile: &str,
) -> Vec<KeyRef> {
    list.split(',')
        .map(|s| s.chars().filter(|c| *c != ' ').collect::<String>())
        .filter(|s| !s.is_empty())
        .map(|s| super::kind::kms_from_arn(&s, context, aws_profile))
        .collect()
}

/// `sops@<hostname>`, with the characters sops removes removed (sops keeps `[a-zA-Z0-9=,.@_]`
/// and, through a regex range slip, `[\]^`, which AWS would refuse; veil drops those too), cut
/// to 64 characters.
pub fn session_name(hostname: &str) -> String {
    let clean: String = hostname
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "=,.@_".contains(*c))
        .collect();
    let mut name = format!("sops@{clean}");
    name.truncate(ROLE_SESSION_NAME_LIMIT);
    name
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .or_else(|| crate::env::var("HOSTNAME"))
        .unwrap_or_default()
}

type ClientKey = (String, String, String);

/// The AWS KMS backend.
pub struct KmsBackend {
    /// An endpoint for KMS and STS instead of AWS's (tests, private deployments); the SDK's
    /// own `AWS_ENDPOINT_URL(_KMS)` variables work without it.
    endpoint_url: Option<String>,
    runtime: OnceCell<std::result::Result<tokio::runtime::Runtime, String>>,
    http: OnceCell<aws_sdk_kms::config::SharedHttpClient>,
    clients: RefCell<HashMap<ClientKey, std::result::Result<aws_sdk_kms::Client, Outcome>>>,
}

impl std::fmt::Debug for KmsBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsBackend")
            .field("endpoint_url", &self.endpoint_url)
            .field("clients", &self.clients.borrow().len())
            .finish_non_exhaustive()
    }
}

impl Default for KmsBackend {
    fn default() -> Self {
        KmsBackend::new()
    }
}

impl KmsBackend {
    /// Nothing is read or started yet: the SDK reads its configuration (environment, shared
    /// config files, SSO cache…) the first time a KMS key is used.
    pub fn new() -> KmsBackend {
        KmsBackend {
            endpoint_url: None,
            runtime: OnceCell::new(),
            http: OnceCell::new(),
            clients: RefCell::new(HashMap::new()),
        }
    }

    /// Send KMS and STS calls to `url` instead of AWS (sops has the same knob for its tests).
    pub fn with_endpoint_url(mut self, url: impl Into<String>) -> KmsBackend {
        self.endpoint_url = Some(url.into());
        self
    }

    fn runtime(&self) -> std::result::Result<&tokio::runtime::Runtime, String> {
        self.runtime
            .get_or_init(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the async runtime: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    fn http(&self) -> aws_sdk_kms::config::SharedHttpClient {
        self.http
            .get_or_init(|| {
                use aws_smithy_http_client::tls;
                aws_smithy_http_client::Builder::new()
                    .tls_provider(tls::Provider::Rustls(
                        tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .build_https()
            })
            .clone()
    }

    /// The client for a key: its region, profile and role. Credentials are resolved here, once
    /// per (region, profile, role), so "no credentials" can be told apart from "refused".
    fn client(
        &self,
        arn: &str,
        role: &str,
        profile: &str,
    ) -> std::result::Result<aws_sdk_kms::Client, Outcome> {
        let Some(region) = region_of(arn) else {
            return Err(Outcome::Failed(format!(
                "kms: no valid ARN found in {arn:?}"
            )));
        };
        let ck = (region.clone(), profile.to_string(), role.to_string());
        if let Some(c) = self.clients.borrow().get(&ck) {
            return c.clone();
        }
        let made = self.make_client(&region, role, profile);
        self.clients.borrow_mut().insert(ck, made.clone());
        made
    }

    fn make_client(
        &self,
        region: &str,
        role: &str,
        profile: &str,
    ) -> std::result::Result<aws_sdk_kms::Client, Outcome> {
        let rt = self
            .runtime()
            .map_err(|e| Outcome::Failed(format!("kms: {e}")))?;
        let http = self.http();
        rt.block_on(async {
            let region = aws_sdk_kms::config::Region::new(region.to_string());
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(region.clone())
                .http_client(http.clone());
            if let Some(u) = &self.endpoint_url {
                loader = loader.endpoint_url(u);
            }
            if !profile.is_empty() {
                // As in the Go SDK that sops uses, a profile named by the key wins over
                // credentials in the environment: its credentials come from that profile only.
                let pc = aws_config::provider_config::ProviderConfig::without_region()
                    .with_region(Some(region))
                    .with_http_client(http);
                let creds = aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .configure(&pc)
                    .profile_name(profile)
                    .build();
                loader = loader.profile_name(profile).credentials_provider(creds);
            }
            let mut conf = loader.load().await;
            let base_creds = conf.credentials_provider().ok_or_else(|| {
                Outcome::NoIdentity("kms: the AWS SDK found no credentials provider".into())
            })?;
            let who = if profile.is_empty() {
                String::new()
            } else {
                format!(" (profile {profile})")
            };
            check_credentials(&base_creds, &who).await?;
            if !role.is_empty() {
                let provider = aws_config::sts::AssumeRoleProvider::builder(role)
                    .session_name(session_name(&hostname()))
                    .configure(&conf)
                    .build()
                    .await;
                let provider = aws_sdk_kms::config::SharedCredentialsProvider::new(provider);
                provider.provide_credentials().await.map_err(|e| {
                    Outcome::Failed(format!(
                        "kms: failed to assume role {role:?}{who}: {}",
                        cred_error(&e)
                    ))
                })?;
                conf = conf.into_builder().credentials_provider(provider).build();
            }
            Ok(aws_sdk_kms::Client::new(&conf))
        })
    }
}

async fn check_credentials(
    p: &aws_sdk_kms::config::SharedCredentialsProvider,
    who: &str,
) -> std::result::Result<(), Outcome> {
    match p.provide_credentials().await {
        Ok(_) => Ok(()),
        Err(e @ CredentialsError::CredentialsNotLoaded(_)) => Err(Outcome::NoIdentity(format!(
            "kms: no AWS credentials found{who}: {}",
            cred_error(&e)
        ))),
        Err(e) => Err(Outcome::Failed(format!(
            "kms: could not load AWS credentials{who}: {}",
            cred_error(&e)
        ))),
    }
}

fn cred_error(e: &CredentialsError) -> String {
    error_chain(e)
}

/// One line for an SDK error: the service's code and message, or the transport's chain.
fn sdk_error<E, R>(e: &aws_sdk_kms::error::SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    if let aws_sdk_kms::error::SdkError::ServiceError(se) = e {
        let err = se.err();
        let code = err.code().unwrap_or("unknown error");
        return match err.message() {
            Some(m) => one_line(&format!("{code}: {m}")),
            None => code.to_string(),
        };
    }
    error_chain(e)
}

impl Backend for KmsBackend {
    fn kind(&self) -> &'static str {
        "kms"
    }

    fn wrap(&self, key: &KeyRef, secret: &[u8]) -> Result<String> {
        let KeyRef::Kms {
            arn,
            role,
            context,
            aws_profile,
        } = key
        else {
            return Err(Error::generic("kms: not a kms key"));
        };
        let fail = |why: String| {
            Error::new(
                Code::Generic,
                format!("failed to encrypt the data key with kms {arn}: {why}"),
            )
            .hint("check the ARN, your AWS credentials (AWS_PROFILE, aws sso login…) and the key policy")
        };
        let client = self.client(arn, role, aws_profile).map_err(|o| match o {
            Outcome::NoIdentity(s) | Outcome::Failed(s) => fail(s),
            other => fail(other.to_string()),
        })?;
        let rt = self.runtime().map_err(fail)?;
        let ctx: Option<HashMap<String, String>> = if context.is_empty() {
            None
        } else {
            Some(context.clone().into_iter().collect())
        };
        let out = rt
            .block_on(
                client
                    .encrypt()
                    .key_id(arn)
                    .plaintext(Blob::new(secret.to_vec()))
                    .set_encryption_context(ctx)
                    .send(),
            )
            .map_err(|e| fail(format!("kms: {}", sdk_error(&e))))?;
        let blob = out
            .ciphertext_blob()
            .ok_or_else(|| fail("kms: the answer has no ciphertext".into()))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(blob.as_ref()))
    }

    fn unwrap(&self, key: &KeyRef, enc: &str) -> std::result::Result<Secret, Outcome> {
        let KeyRef::Kms {
            arn,
            role,
            context,
            aws_profile,
        } = key
        else {
            return Err(Outcome::Unsupported);
        };
        let blob = base64::engine::general_purpose::STANDARD
            .decode(enc.trim())
            .map_err(|_| Outcome::Failed("kms: the stored key is not base64".into()))?;
        let client = self.client(arn, role, aws_profile)?;
        let rt = self
            .runtime()
            .map_err(|e| Outcome::Failed(format!("kms: {e}")))?;
        let ctx: Option<HashMap<String, String>> = if context.is_empty() {
            None
        } else {
            Some(context.clone().into_iter().collect())
        };
        let out = rt
            .block_on(
                client
                    .decrypt()
                    .key_id(arn)
                    .ciphertext_blob(Blob::new(blob))
                    .set_encryption_context(ctx)
                    .send(),
            )
            .map_err(|e| Outcome::Failed(format!("kms: {}", sdk_error(&e))))?;
        let pt = out
            .plaintext
            .map(|b| Zeroizing::new(b.into_inner()))
            .ok_or_else(|| Outcome::Failed("kms: the answer has no plaintext".into()))?;
        if pt.is_empty() {
            return Err(Outcome::Failed("kms: decrypted to zero bytes".into()));
        }
        Ok(pt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_comes_from_the_arn() {
        assert_eq!(
            region_of("arn:aws:kms:us-west-2:107501996527:key/612d5f0p-p1l3-45e6").as_deref(),
            Some("us-west-2")
        );
        assert_eq!(
            region_of("arn:aws-us-gov:kms:us-gov-west-1:1:alias/x").as_deref(),
            Some("us-gov-west-1")
        );
        assert_eq!(region_of("alias/foo"), None);
        // A region that is not a host label never reaches the endpoint.
        assert_eq!(region_of("arn:aws:kms:evil.example#:1:key/x"), None);
        assert_eq!(region_of("arn:aws:kms:a/b:1:key/x"), None);
        assert_eq!(region_of("arn:aws:kms:us-east-1:abc:key/x"), None);
    }

    #[test]
    fn arns_split_roles() {
        let ctx: BTreeMap<String, String> = [("a".to_string(), "b".to_string())].into();
        let keys = keys_from_arns(
            "arn:aws:kms:us-east-1:1:key/k1+arn:aws:iam::1:role/r, arn:aws:kms:eu-west-1:1:key/k2,",
            &ctx,
            "prof",
        );
        assert_eq!(
            keys,
            vec![
                KeyRef::Kms {
                    arn: "arn:aws:kms:us-east-1:1:key/k1".into(),
                    role: "arn:aws:iam::1:role/r".into(),
                    context: ctx.clone(),
                    aws_profile: "prof".into()
                },
                KeyRef::Kms {
                    arn: "arn:aws:kms:eu-west-1:1:key/k2".into(),
                    role: String::new(),
                    context: ctx.clone(),
                    aws_profile: "prof".into()
                }
            ]
        );
    }

    #[test]
    fn arns_split_roles_in_other_partitions() {
        let keys = keys_from_arns(
            "arn:aws-cn:kms:cn-north-1:1:key/k+arn:aws-cn:iam::1:role/r,\
             arn:aws-us-gov:kms:us-gov-west-1:1:key/k+arn:aws-us-gov:iam::1:role/g",
            &BTreeMap::new(),
            "",
        );
        let split: Vec<(&str, &str)> = keys
            .iter()
            .map(|k| match k {
                KeyRef::Kms { arn, role, .. } => (arn.as_str(), role.as_str()),
                _ => ("", ""),
            })
            .collect();
        assert_eq!(
            split,
            [
                (
                    "arn:aws-cn:kms:cn-north-1:1:key/k",
                    "arn:aws-cn:iam::1:role/r"
                ),
                (
                    "arn:aws-us-gov:kms:us-gov-west-1:1:key/k",
                    "arn:aws-us-gov:iam::1:role/g"
                )
            ]
        );
    }

    #[test]
    fn encryption_context_parses_like_sops() {
        let c = parse_encryption_context("b:2,a:1").unwrap();
        assert_eq!(
            c.into_iter().collect::<Vec<_>>(),
            vec![("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        assert!(parse_encryption_context("").unwrap().is_empty());
        for bad in ["a", "a:1:2", "a:1,b", "a:1,"] {
            let e = parse_encryption_context(bad).err().map(|e| e.code);
            assert_eq!(e, Some(Code::InvalidKmsEncryptionContextFormat), "{bad}");
        }
    }

    #[test]
    fn session_names_match_sops() {
        assert_eq!(session_name("some-hostname"), "sops@somehostname");
        assert_eq!(
            session_name("Host_1.example.com"),
            "sops@Host_1.example.com"
        );
        let long = session_name(&"a".repeat(100));
        assert_eq!(long.len(), 64);
        assert!(long.starts_with("sops@aaa"));
        assert_eq!(session_name("a[b]^c\\d"), "sops@abcd");
    }

    #[test]
    fn bad_input_fails_without_network() {
        let b = KmsBackend::new();
        let k = KeyRef::Kms {
            arn: "not-an-arn".into(),
            role: String::new(),
            context: BTreeMap::new(),
            aws_profile: String::new(),
        };
        assert!(matches!(b.unwrap(&k, "!!!"), Err(Outcome::Failed(m)) if m.contains("base64")));
        assert!(
            matches!(b.unwrap(&k, "AAAA"), Err(Outcome::Failed(m)) if m.contains("no valid ARN"))
        );
        let e = b
            .wrap(&k, &[0u8; 32])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("no valid ARN"), "{e}");
    }
}
