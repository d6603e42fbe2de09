//! `publish`: send sops files to the places `.sops.yaml` `destination_rules` name — an S3 or GCS
//! bucket (the encrypted file, re-encrypted for the `recreation_rule`'s keys when it has any)
//! or a Vault/OpenBao KV engine (the decrypted top-level map, KV v1 or v2) — as sops 3.13's
//! `sops publish` does.
//!
//! It exists so that teams whose pipelines run `sops publish` keep working with veil. The
//! command (`cli::publish`) decides *what* to send; this module knows *where* and *how*: the rules
//! ([`rules`]), one file per destination ([`s3`], [`gcs`], [`vault`]), and the conversion of a
//! decrypted document to the JSON a KV secret holds ([`kv_data`]).
//!
//! A `.sops.yaml` in a cloned repository is attacker-controlled input, like the files in it: a
//! destination rule must not make veil hand a credential to a server the user did not choose.
//! So the Vault token goes only to an allowed address (the `VAULT_ADDR` origin and
//! `SOPS_HC_VAULT_ALLOWLIST`, as for transit keys; a rule's `vault_address` alone is not
//! enough); S3 requests go to AWS or the endpoint the user set (`AWS_ENDPOINT_URL(_S3)`), with
//! bucket names checked so that they cannot change the host; GCS requests go to Google or to
//! `STORAGE_EMULATOR_HOST` (without credentials, as Google's clients do). Nothing here prints,
//! logs or puts into an error a value, a token or a signature.

pub mod rules;

#[cfg(feature = "gcs")]
pub mod gcs;
#[cfg(feature = "s3")]
pub mod s3;
#[cfg(feature = "vault")]
pub mod vault;

pub use rules::{Destination, DestinationRule, VaultDestination};

use crate::error::{Error, Result};
use crate::tree::{Item, Scalar, Value};
use base64::Engine as _;
use serde_json::{Map, Number, Value as Json};

/// What happened at the destination.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Uploaded {
    /// The KV v2 secret already held exactly this data, so no new version was written.
    pub up_to_date: bool,
    /// Something the user should know that did not stop the upload (sops prints it as a
    /// warning).
    pub warning: Option<String>,
}

#[cfg(not(all(feature = "s3", feature = "gcs", feature = "vault")))]
fn not_built(what: &str, feature: &str) -> Error {
    Error::generic(format!("this veil build has no {what} support")).hint(format!(
        "build veil with the `{feature}` feature (it is on by default)"
    ))
}

/// Upload an encrypted file's bytes to an S3 or GCS destination as `prefix + name`.
pub fn upload_file(dest: &Destination, name: &str, contents: &[u8]) -> Result<Uploaded> {
    let _ = (name, contents);
    match dest {
        #[cfg(feature = "s3")]
        Destination::S3 { bucket, prefix } => {
            s3::put_object(bucket, &format!("{prefix}{name}"), contents)?;
            Ok(Uploaded::default())
        }
        #[cfg(not(feature = "s3"))]
        Destination::S3 { .. } => Err(not_built("S3", "s3")),
        #[cfg(feature = "gcs")]
        Destination::Gcs { bucket, prefix } => {
            gcs::upload(bucket, &format!("{prefix}{name}"), contents)?;
            Ok(Uploaded::default())
        }
        #[cfg(not(feature = "gcs"))]
        Destination::Gcs { .. } => Err(not_built("GCS", "gcs")),
        Destination::Vault(_) => Err(Error::generic(
            "NotImplementedError: Vault does not support uploading encrypted sops files directly.",
        )),
    }
}

/// Write a decrypted top-level map to a Vault KV destination under `name`.
pub fn upload_map(dest: &Destination, name: &str, data: &Map<String, Json>) -> Result<Uploaded> {
    let _ = (name, data);
    match dest {
        #[cfg(feature = "vault")]
        Destination::Vault(v) => vault::write(v, name, data),
        #[cfg(not(feature = "vault"))]
        Destination::Vault(_) => Err(not_built("Vault", "vault")),
        Destination::S3 { .. } => Err(Error::generic(
            "NotImplementedError: S3 does not support uploading the unencrypted file contents.",
        )),
        Destination::Gcs { .. } => Err(Error::generic(
            "NotImplementedError: GCS does not support uploading the unencrypted file contents.",
        )),
    }
}

/// The decrypted documents as the JSON object a KV secret holds (sops's `EmitAsMap`): the
/// top-level entries of every document (a later document's key wins), comments left out, maps
/// nested as objects — in lists too, where sops would write its internal `{"Key":…,"Value":…}`
/// pairs instead — and scalars as JSON values: integers and floats as numbers, booleans,
/// timestamps as their RFC 3339 text, bytes as base64 (Go's `json.Marshal` of `[]byte`).
pub fn kv_data(docs: &[Value]) -> Result<Map<String, Json>> {
    let mut out = Map::new();
    for doc in docs {
        match doc {
            Value::Map(items) => {
                for (k, v) in map_entries(items)? {
                    out.insert(k, v);
                }
            }
            Value::Null => {}
            _ => {
                return Err(Error::generic(
                    "the file's top level is not a map, so it cannot be written as a Vault secret",
                )
                .hint("publish a file whose top level is a map of keys to values"))
            }
        }
    }
    Ok(out)
}

fn map_entries(items: &[Item]) -> Result<Vec<(String, Json)>> {
    let mut out = Vec::new();
    for it in items {
        if let Item::Entry(k, v) = it {
            if let Some(j) = json_of(v)? {
                out.push((k.clone(), j));
            }
        }
    }
    Ok(out)
}

/// `None` for a comment (which has no place in JSON).
fn json_of(v: &Value) -> Result<Option<Json>> {
    Ok(Some(match v {
        Value::Null => Json::Null,
        Value::Map(items) => Json::Object(map_entries(items)?.into_iter().collect()),
        Value::List(xs) => {
            let mut out = Vec::with_capacity(xs.len());
            for x in xs {
                if let Some(j) = json_of(x)? {
                    out.push(j);
                }
            }
            Json::Array(out)
        }
        Value::Scalar(s) => match s {
            Scalar::Comment(_) => return Ok(None),
            Scalar::Str(t) | Scalar::Time(t) => Json::String(t.clone()),
            Scalar::Raw(b) => Json::String(String::from_utf8_lossy(b).into_owned()),
            Scalar::Bytes(b) => Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
            Scalar::Int(i) => Json::Number(Number::from(*i)),
            Scalar::Bool(b) => Json::Bool(*b),
            Scalar::Float(f) => {
                let n = crate::tree::parse_go_float(f)
                    .and_then(Number::from_f64)
                    .ok_or_else(|| {
                        Error::generic(
                            "a float value is not a finite number, which JSON cannot hold",
                        )
                        .hint("Vault secrets are JSON: use a string for NaN or infinity")
                    })?;
                Json::Number(n)
            }
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Scalar(Scalar::Str(v.into()))
    }

    #[test]
    fn kv_data_is_the_merged_top_level_map() {
        let doc1 = Value::Map(vec![
            Item::Comment(Scalar::Comment(" top".into())),
            Item::Entry("a".into(), Value::Scalar(Scalar::Int(1))),
            Item::Entry(
                "nested".into(),
                Value::Map(vec![Item::Entry("b".into(), s("x"))]),
            ),
            Item::Entry(
                "list".into(),
                Value::List(vec![
                    Value::Scalar(Scalar::Comment(" c".into())),
                    Value::Map(vec![Item::Entry(
                        "k".into(),
                        Value::Scalar(Scalar::Bool(true)),
                    )]),
                    Value::Scalar(Scalar::Float("1.5".into())),
                    Value::Null,
                ]),
            ),
        ]);
        let doc2 = Value::Map(vec![Item::Entry("a".into(), s("second"))]);
        let m = kv_data(&[doc1, doc2]).unwrap();
        assert_eq!(
            Json::Object(m),
            serde_json::json!({
                "a": "second",
                "nested": {"b": "x"},
                "list": [{"k": true}, 1.5, null],
            })
        );
        assert!(kv_data(&[Value::List(vec![])]).is_err());
        let nan = Value::Map(vec![Item::Entry(
            "f".into(),
            Value::Scalar(Scalar::Float("NaN".into())),
        )]);
        assert!(kv_data(&[nan]).is_err());
    }
}
