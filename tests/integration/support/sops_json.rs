//! sops JSON files and veil's engine, for the key-backend tests: a JSON file split into the
//! trees the engine takes, the engine's output put back into sops's JSON layout, the real sops
//! run with a clean environment, and the wrapped data keys of a file rewritten (to test what a
//! wrong or foreign key does). These tests exercise the backends through the library, so the
//! documents are built from trees here rather than through a format store.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use veil::tree::{Item, Scalar, Value};

pub fn json_to_value(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Scalar(Scalar::Bool(*b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Scalar(Scalar::Int(i)),
            None => Value::Scalar(Scalar::Float(n.to_string())),
        },
        serde_json::Value::String(s) => Value::Scalar(Scalar::Str(s.clone())),
        serde_json::Value::Array(a) => Value::List(a.iter().map(json_to_value).collect()),
        serde_json::Value::Object(m) => Value::Map(
            m.iter()
                .map(|(k, v)| Item::Entry(k.clone(), json_to_value(v)))
                .collect(),
        ),
    }
}

pub fn value_to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::List(l) => serde_json::Value::Array(l.iter().map(value_to_json).collect()),
        Value::Map(items) => {
            let mut m = serde_json::Map::new();
            for i in items {
                if let Item::Entry(k, v) = i {
                    m.insert(k.clone(), value_to_json(v));
                }
            }
            serde_json::Value::Object(m)
        }
        Value::Scalar(s) => match s {
            Scalar::Str(t) | Scalar::Time(t) => serde_json::Value::String(t.clone()),
            Scalar::Int(i) => serde_json::Value::from(*i),
            Scalar::Float(f) => serde_json::from_str(f).unwrap_or(serde_json::Value::Null),
            Scalar::Bool(b) => serde_json::Value::Bool(*b),
            other => panic!("unexpected scalar {other:?}"),
        },
    }
}

/// A parsed document for the engine, built from trees (what a format module would hand it).
pub struct TreeDoc(pub Vec<Value>, pub Option<Value>);

impl veil::format::Parsed for TreeDoc {
    fn docs(&self) -> &[Value] {
        &self.0
    }
    fn metadata(&self) -> Option<&Value> {
        self.1.as_ref()
    }
    fn render(&self, _: &[veil::format::Edit], _: Option<&Value>) -> veil::error::Result<Vec<u8>> {
        Ok(Vec::new())
    }
}

/// A sops JSON file split into (documents, metadata tree).
pub fn split_sops_json(text: &str) -> (Vec<Value>, Value) {
    let mut j: serde_json::Value = serde_json::from_str(text).expect("sops JSON");
    let meta = j
        .as_object_mut()
        .and_then(|m| m.remove("sops"))
        .expect("sops metadata");
    (vec![json_to_value(&j)], json_to_value(&meta))
}

/// The plaintext every interop test encrypts.
pub fn sample_plain() -> serde_json::Value {
    serde_json::json!({
        "db_password": "hunter2-not-a-real-secret",
        "nested": {"api_key": "k-123", "list": ["a", "b"]},
        "port_unencrypted": "8080"
    })
}

/// Encrypt the sample with veil's engine for the given key groups; returns the sops JSON text.
pub fn veil_encrypt_json(
    groups: Vec<Vec<veil::keys::KeyRef>>,
    threshold: usize,
    ks: &veil::keys::KeyService,
) -> veil::error::Result<String> {
    let doc = json_to_value(&sample_plain());
    let opts = veil::engine::EncryptOptions {
        key_groups: groups,
        shamir_threshold: threshold,
        rule: veil::metadata::Rule::UnencryptedSuffix("_unencrypted".into()),
        ..Default::default()
    };
    let mut ctx = veil::engine::Context::system();
    let enc = veil::engine::encrypt(&TreeDoc(vec![doc.clone()], None), &opts, ks, &mut ctx)?;
    let docs = veil::engine::apply_edits(&[doc], &enc.edits);
    let mut j = value_to_json(&docs[0]);
    if let serde_json::Value::Object(m) = &mut j {
        m.insert("sops".into(), value_to_json(&enc.metadata.to_tree(true)));
    }
    Ok(serde_json::to_string_pretty(&j).expect("json"))
}

/// Decrypt a sops JSON file with veil's engine; returns the plaintext as JSON.
pub fn veil_decrypt_json(
    text: &str,
    ks: &veil::keys::KeyService,
) -> veil::error::Result<serde_json::Value> {
    let (docs, meta) = split_sops_json(text);
    let dec = veil::engine::decrypt(
        &TreeDoc(docs, Some(meta)),
        &veil::engine::DecryptOptions::default(),
        ks,
    )?;
    Ok(value_to_json(&dec.docs[0]))
}

/// The sample's plaintext as sops prints it after a JSON round trip (values compared as text).
pub fn same_plaintext(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    fn norm(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), norm(v))).collect())
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(norm).collect()),
            other => other.clone(),
        }
    }
    norm(a) == norm(b)
}

/// Run the real sops with a clean environment plus `envs`, in `cwd`.
pub fn sops(sops: &Path, cwd: &Path, args: &[&str], envs: &[(&str, String)]) -> Output {
    let mut c = Command::new(sops);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", cwd)
        .env("SOPS_DISABLE_VERSION_CHECK", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .current_dir(cwd)
        .args(args);
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("run sops")
}

/// Replace the `enc` of every key entry (flat lists and key groups) of a sops JSON file with
/// `f(kind, group, entry) → Some(new enc)`.
pub fn rewrite_encs(
    text: &str,
    mut f: impl FnMut(&str, usize, &serde_json::Value) -> Option<String>,
) -> String {
    let mut j: serde_json::Value = serde_json::from_str(text).expect("json");
    let kinds = [
        "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age", "pgp",
    ];
    let meta = j.get_mut("sops").expect("sops");
    let mut fix = |g: usize, group: &mut serde_json::Value| {
        for kind in kinds {
            if let Some(serde_json::Value::Array(list)) = group.get_mut(kind) {
                for e in list.iter_mut() {
                    if let Some(new) = f(kind, g, e) {
                        e["enc"] = serde_json::Value::String(new);
                    }
                }
            }
        }
    };
    if let Some(serde_json::Value::Array(groups)) = meta.get_mut("key_groups").map(|g| g.take()) {
        let mut groups = groups;
        for (i, g) in groups.iter_mut().enumerate() {
            fix(i, g);
        }
        meta["key_groups"] = serde_json::Value::Array(groups);
    } else {
        fix(0, meta);
    }
    serde_json::to_string_pretty(&j).expect("json")
}
