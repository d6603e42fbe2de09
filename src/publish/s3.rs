//! S3 destinations: one SigV4-signed `PutObject` of the (encrypted) file, as sops's
//! `S3Destination` does through the Go SDK.
//!
//! Credentials come from the AWS SDK's standard chain (`aws-config`: environment, profiles, SSO,
//! `credential_process`, web identity, container and instance metadata), the region from
//! `AWS_REGION`/`AWS_DEFAULT_REGION` or the profile (never from instance metadata, so a
//! workstation without a region fails at once instead of probing a link-local address). The
//! request is signed with `aws-sigv4` — already compiled for AWS KMS — and sent with the
//! HTTPS client veil already has, instead of the whole S3 SDK.
//!
//! The endpoint is AWS's (`https://BUCKET.s3.REGION.amazonaws.com/KEY`, path style for dotted
//! bucket names) or the one the user set in `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL` (path
//! style: `ENDPOINT/BUCKET/KEY`, which moto, MinIO and LocalStack all accept). The bucket comes
//! from `.sops.yaml`, so it must be a valid S3 bucket name before it is put into a host name or a
//! path; the key may not hold `.`/`..` segments, which URL normalisation would resolve into
//! another key or bucket. Redirects are not followed: they would carry the signed headers (and a
//! session token) to another host. No credential, signature or body appears in an error.

use crate::error::{Error, Result};
use crate::net::{
    client_without_redirects, describe_reqwest, error_chain, one_line, percent_encode,
};
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use std::io::Read;
use std::time::{Duration, SystemTime};

/// The S3 endpoint (e.g. moto, MinIO, LocalStack), as the AWS SDKs read it.
pub const AWS_ENDPOINT_URL_S3: &str = "AWS_ENDPOINT_URL_S3";
/// The endpoint for every AWS service, when no service-specific one is set.
pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
/// `true`: ignore the two variables above (the SDKs' switch).
pub const AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: &str = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";

/// S3 error answers are small XML documents; read at most this much of one.
const MAX_ERROR_BODY: u64 = 64 << 10;

/// A valid S3 bucket name (the general-purpose bucket rules): 3–63 characters of lowercase
/// letters, digits, `.` and `-`, starting and ending with a letter or digit, no `..`, not an IP
/// address. Such a name is safe in a host name and in a path.
pub fn check_bucket(bucket: &str) -> Result<()> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !bucket.contains("..")
        && bucket.parse::<std::net::Ipv4Addr>().is_err();
    if ok {
        Ok(())
    } else {
        Err(
            Error::generic(format!("{bucket:?} is not a valid S3 bucket name")).hint(
                "s3_bucket must be 3-63 lowercase letters, digits, '.' or '-', as S3 requires",
            ),
        )
    }
}

/// The object key as a URL path: each `/`-separated segment percent-encoded (RFC 3986
/// unreserved characters kept), `.`/`..` segments refused.
pub fn encode_key(key: &str) -> Result<String> {
    if key.is_empty() || key.len() > 1024 {
        return Err(Error::generic(format!(
            "the S3 object key {key:?} must be 1 to 1024 bytes long"
        ))
        .hint("shorten s3_prefix or the file's path"));
    }
    let mut out = Vec::new();
    for seg in key.split('/') {
        if seg == "." || seg == ".." {
            return Err(Error::generic(format!(
                "refusing the S3 object key {key:?}: it has a `.` or `..` segment"
            ))
            .hint("s3_prefix and the file's path must not contain `.` or `..` segments"));
        }
        out.push(percent_encode(seg));
    }
    Ok(out.join("/"))
}

/// The endpoint the user configured for S3, if any.
pub fn configured_endpoint() -> Option<String> {
    if crate::env::var(AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return None;
    }
    crate::env::var(AWS_ENDPOINT_URL_S3).or_else(|| crate::env::var(AWS_ENDPOINT_URL))
}

/// The URL of `bucket/key`: path style under a configured endpoint, else AWS's virtual-hosted
/// style (path style for dotted bucket names, which AWS's certificate does not cover).
pub fn object_url(bucket: &str, key: &str, region: &str, endpoint: Option<&str>) -> Result<String> {
    check_bucket(bucket)?;
    let path = encode_key(key)?;
    if let Some(ep) = endpoint {
        let ep = ep.trim_end_matches('/');
        if !(ep.starts_with("https://") || ep.starts_with("http://")) || ep.contains(['?', '#']) {
            return Err(
                Error::generic(format!("the S3 endpoint {ep:?} is not an http(s) URL")).hint(
                    format!(
                "set {AWS_ENDPOINT_URL_S3} or {AWS_ENDPOINT_URL} to e.g. http://127.0.0.1:9000"
            ),
                ),
            );
        }
        return Ok(format!("{ep}/{bucket}/{path}"));
    }
    if region.is_empty()
        || region.len() > 64
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(
            Error::generic(format!("{region:?} is not an AWS region")).hint(
                "set AWS_REGION (or the profile's region) to the bucket's region, e.g. eu-west-1",
            ),
        );
    }
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    Ok(if bucket.contains('.') {
        format!("https://s3.{region}.{domain}/{bucket}/{path}")
    } else {
        format!("https://{bucket}.s3.{region}.{domain}/{path}")
    })
}

fn fail(bucket: &str, key: &str, why: impl std::fmt::Display) -> Error {
    Error::generic(format!("failed to upload s3://{bucket}/{key}: {why}"))
}

/// The region and credentials from the SDK's chains.
fn region_and_credentials() -> Result<(String, aws_credential_types::Credentials)> {
    use aws_config::meta::region::RegionProviderChain;
    use aws_config::{
        environment::EnvironmentVariableRegionProvider, profile::ProfileFileRegionProvider,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::generic(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        let http = {
            use aws_smithy_http_client::tls;
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
                .build_https()
        };
        let region = RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
            .or_else(ProfileFileRegionProvider::builder().build());
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(http)
            .region(region)
            .load()
            .await;
        let region = conf.region().map(|r| r.to_string()).ok_or_else(|| {
            Error::generic("an AWS region is required, but was not found")
                .hint("set AWS_REGION (or AWS_DEFAULT_REGION, or region in the AWS profile)")
        })?;
        let provider = conf.credentials_provider().ok_or_else(|| {
            Error::generic("the AWS SDK found no credentials provider")
                .hint("set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or log in with aws sso login")
        })?;
        let creds = provider.provide_credentials().await.map_err(|e| {
            Error::generic(format!(
                "could not load AWS credentials: {}",
                error_chain(&e)
            ))
            .hint("set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or log in with aws sso login")
        })?;
        Ok((region, creds))
    })
}

/// S3's `<Code>` and `<Message>` from an error answer.
fn s3_error(body: &str) -> String {
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find(&close)? + start;
        Some(body[start..end].trim().to_string())
    };
    match (tag("Code"), tag("Message")) {
        (Some(c), Some(m)) => one_line(&format!("{c}: {m}")),
        (Some(c), None) => c,
        _ => "no error text".into(),
    }
}

/// Upload `body` to `s3://bucket/key`.
pub fn put_object(bucket: &str, key: &str, body: &[u8]) -> Result<()> {
    check_bucket(bucket)?;
    let endpoint = configured_endpoint();
    let (region, creds) = region_and_credentials().map_err(|e| {
        let hint = e.hint.clone();
        let mut f = fail(bucket, key, e.message);
        f.hint = hint;
        f
    })?;
    let url = object_url(bucket, key, &region, endpoint.as_deref())?;
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let identity = creds.into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(&region)
        .name("s3")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| fail(bucket, key, format!("cannot sign the request: {e}")))?
        .into();
    let signable = SignableRequest::new(
        "PUT",
        url.as_str(),
        std::iter::empty(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| fail(bucket, key, format!("cannot sign the request: {e}")))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| fail(bucket, key, format!("cannot sign the request: {e}")))?
        .into_parts();
    let client = client_without_redirects(Duration::from_secs(120))
        .map_err(|e| fail(bucket, key, e.message))?;
    let mut req = client.put(&url).body(body.to_vec());
    for (name, value) in instructions.headers() {
        req = req.header(name, value);
    }
    let resp = req.send().map_err(|e| {
        fail(bucket, key, describe_reqwest(&e)).hint(match &endpoint {
            Some(ep) => format!("check that the S3 endpoint {ep} is reachable"),
            None => "check the network and the bucket's region (AWS_REGION)".into(),
        })
    })?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let mut text = String::new();
    let _ = resp.take(MAX_ERROR_BODY).read_to_string(&mut text);
    Err(fail(
        bucket,
        key,
        format!(
            "the server answered {}: {}",
            status.as_u16(),
            s3_error(&text)
        ),
    )
    .hint("check the bucket name and region, and that the credentials may s3:PutObject there"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_cannot_change_the_host() {
        for ok in ["my-bucket", "a.b.c", "abc", "123bucket"] {
            assert!(check_bucket(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "Upper",
            "under_score",
            "evil.com/x",
            "evil.com#",
            "a..b",
            "-a",
            "a-",
            "192.168.1.1",
            "b@evil.com",
            &"a".repeat(64),
        ] {
            assert!(check_bucket(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_by_endpoint_and_bucket() {
        assert_eq!(
            object_url("b-1", "pre/f.yaml", "eu-west-1", None).unwrap(),
            "https://b-1.s3.eu-west-1.amazonaws.com/pre/f.yaml"
        );
        assert_eq!(
            object_url("b.1", "f", "cn-north-1", None).unwrap(),
            "https://s3.cn-north-1.amazonaws.com.cn/b.1/f"
        );
        assert_eq!(
            object_url(
                "bkt",
                "a b/ü?.yaml",
                "us-east-1",
                Some("http://127.0.0.1:5000/")
            )
            .unwrap(),
            "http://127.0.0.1:5000/bkt/a%20b/%C3%BC%3F.yaml"
        );
        assert!(object_url("bkt", "../other/x", "us-east-1", None).is_err());
        assert!(object_url("bkt", "x", "us-east-1.evil.com/", None).is_err());
        assert!(object_url("bkt", "x", "us-east-1", Some("ftp://h")).is_err());
    }

    #[test]
    fn error_answers_are_summarised() {
        let xml = "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>";
        assert_eq!(
            s3_error(xml),
            "NoSuchBucket: The specified bucket does not exist"
        );
        assert_eq!(s3_error("garbage"), "no error text");
    }
}
