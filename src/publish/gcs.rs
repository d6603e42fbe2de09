//! Google Cloud Storage destinations: one JSON-API media upload of the (encrypted) file,
//! `POST /upload/storage/v1/b/BUCKET/o?uploadType=media&name=OBJECT`, as sops's `GCSDestination`
//! does through Google's Go client.
//!
//! Against Google, the request carries a bearer token from [`crate::google_auth`] (scope
//! `devstorage.read_write`). With `STORAGE_EMULATOR_HOST` set, requests go to that emulator
//! (`host:port` means `http://host:port`) and carry no credentials at all, exactly as Google's
//! clients behave, so pointing veil at an emulator can never leak a token. The bucket and object
//! names come from `.sops.yaml`: the bucket must be a valid GCS bucket name and both are
//! percent-encoded, so neither can change where the request goes. Redirects are not followed.

use crate::error::{Error, Result};
use crate::net::{client_without_redirects, describe_reqwest, percent_encode};
use std::io::Read;
use std::time::Duration;

/// `host:port` or a URL of a GCS emulator; when set, no credentials are sent.
pub const STORAGE_EMULATOR_HOST: &str = "STORAGE_EMULATOR_HOST";
/// Google's storage endpoint.
pub const GOOGLE_STORAGE: &str = "https://storage.googleapis.com";
/// The OAuth scope an upload needs.
pub const STORAGE_SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_write";
/// Error answers are small JSON documents; read at most this much of one.
const MAX_ERROR_BODY: u64 = 64 << 10;

/// A valid GCS bucket name: 3–63 characters (222 with dots, 63 per dot-separated part) of
/// lowercase letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit.
pub fn check_bucket(bucket: &str) -> Result<()> {
    let ok = (3..=222).contains(&bucket.len())
        && (bucket.len() <= 63 || bucket.contains('.'))
        && bucket.split('.').all(|p| !p.is_empty() && p.len() <= 63)
        && bucket.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' || b == b'.'
        })
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Error::generic(format!("{bucket:?} is not a valid GCS bucket name")).hint(
            "gcs_bucket must be 3-63 lowercase letters, digits, '-', '_' or '.', as GCS requires",
        ))
    }
}

/// GCS object names: 1–1024 bytes of UTF-8, no carriage return or line feed, not `.` or `..`.
pub fn check_object(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 1024
        || name.contains(['\r', '\n'])
        || name == "."
        || name == ".."
    {
        return Err(
            Error::generic(format!("{name:?} is not a valid GCS object name"))
                .hint("gcs_prefix plus the file's path must be 1-1024 bytes without line breaks"),
        );
    }
    Ok(())
}

/// The emulator's base URL, if one is configured.
pub fn emulator_base() -> Option<String> {
    let host = crate::env::var(STORAGE_EMULATOR_HOST)?;
    let host = host.trim_end_matches('/');
    Some(if host.contains("://") {
        host.to_string()
    } else {
        format!("http://{host}")
    })
}

/// The media-upload URL of `bucket/object` under `base`.
pub fn upload_url(base: &str, bucket: &str, object: &str) -> Result<String> {
    check_bucket(bucket)?;
    check_object(object)?;
    Ok(format!(
        "{base}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={}",
        percent_encode(object)
    ))
}

fn fail(bucket: &str, object: &str, why: impl std::fmt::Display) -> Error {
    Error::generic(format!("failed to upload gcs://{bucket}/{object}: {why}"))
}

/// Upload `body` as `gcs://bucket/object`.
pub fn upload(bucket: &str, object: &str, body: &[u8]) -> Result<()> {
    let emulator = emulator_base();
    let url = upload_url(
        emulator.as_deref().unwrap_or(GOOGLE_STORAGE),
        bucket,
        object,
    )?;
    let token = match emulator {
        Some(_) => None,
        None => Some(
            crate::google_auth::access_token(STORAGE_SCOPE)
                .map_err(|e| e.context(format!("failed to upload gcs://{bucket}/{object}")))?,
        ),
    };
    let client = client_without_redirects(Duration::from_secs(120))
        .map_err(|e| fail(bucket, object, e.message))?;
    let mut req = client
        .post(&url)
        .header("Content-Type", "application/octet-stream")
        .body(body.to_vec());
    if let Some(t) = &token {
        req = req.bearer_auth(t.expose());
    }
    let resp = req.send().map_err(|e| {
        fail(bucket, object, describe_reqwest(&e)).hint(if token.is_none() {
            format!("check that the emulator in {STORAGE_EMULATOR_HOST} is running")
        } else {
            "check the network".into()
        })
    })?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let mut text = String::new();
    let _ = resp.take(MAX_ERROR_BODY).read_to_string(&mut text);
    let msg = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|j| j.get("error")?.get("message")?.as_str().map(str::to_string))
        .map(|m| {
            m.chars()
                .filter(|c| !c.is_control())
                .take(300)
                .collect::<String>()
        })
        .unwrap_or_else(|| "no error text".into());
    Err(fail(
        bucket,
        object,
        format!("the server answered {}: {msg}", status.as_u16()),
    )
    .hint("check the bucket name, and that the credentials may create objects there (roles/storage.objectCreator)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_encoded() {
        assert_eq!(
            upload_url("http://127.0.0.1:9023", "my_bucket-1", "pre/a b?.yaml").unwrap(),
            "http://127.0.0.1:9023/upload/storage/v1/b/my_bucket-1/o?uploadType=media&name=pre%2Fa%20b%3F.yaml"
        );
        for bad in [
            "ab",
            "Bucket",
            "evil.com/x",
            "b#",
            "-b",
            "b@h",
            &"a".repeat(64),
        ] {
            assert!(check_bucket(bad).is_err(), "{bad}");
        }
        assert!(check_bucket(&format!("{}.{}", "a".repeat(63), "b".repeat(63))).is_ok());
        assert!(check_object("a\nb").is_err());
        assert!(check_object("..").is_err());
        assert!(check_object("").is_err());
    }
}
