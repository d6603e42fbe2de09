//! veil's opt-in integrity field, `veil_integrity` in the `sops` metadata: a tag over what the
//! sops format leaves unauthenticated. (The design, in prose, is in `docs/integrity.md`.)
//!
//! sops's MAC covers the values' plaintexts, in order, and each value's ciphertext is bound to
//! its key path. Nothing covers the recipients (an attacker's key added to the metadata gets
//! the next rotated data key), the `type:` of a sealed value when its text does not change
//! (`5` sealed as `str` instead of `int`), keys holding no value (`extra:`), plaintext comments
//! (injected instructions), or the layout of maps and lists around the values. The integrity
//! tag covers all of that: it is an HMAC, under a subkey derived from the data key
//! ([`IntegrityKey`]), over a canonical *manifest* of the metadata and of the encrypted
//! document exactly as a reader sees it — every map key, list, null, comment, plaintext value
//! (with its type class) and sealed token (which carries its own `type:`), in order.
//!
//! The manifest is built from the parsed file, never from its bytes, so layout that carries no
//! meaning (indentation, quoting, key order within a key group, metadata field order) is free
//! to change. Numbers compare by value, as the MAC compares them. The integrity field itself is
//! the only part of the metadata left out.
//!
//! This module must not print values or the manifest (it holds plaintext values left
//! unencrypted by the rule); errors name no value.

use super::Metadata;
use crate::crypto::integrity::IntegrityKey;
use crate::crypto::value::is_enc;
use crate::error::{Code, Error, Result};
use crate::keys::kind::{self, Field};
use crate::keys::WrappedKey;
use crate::tree::{Item, Scalar, Value};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

/// The field's name in the `sops` metadata (`sops_veil_integrity` in dotenv).
pub const FIELD: &str = "veil_integrity";

/// The version prefix of the stored tag: `v1:<base64 of the 32-byte HMAC>`.
const V1: &str = "v1:";

/// What the manifest starts with: the format name and version.
const DOMAIN: &[u8] = b"veil-integrity-v1\0";

/// A length-prefixed writer, so that no two different manifests encode to the same bytes.
struct Enc(Vec<u8>);

impl Enc {
    fn tag(&mut self, t: u8) {
        self.0.push(t);
    }
    fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(&(b.len() as u64).to_le_bytes());
        self.0.extend_from_slice(b);
    }
    fn num(&mut self, n: usize) {
        self.0.extend_from_slice(&(n as u64).to_le_bytes());
    }
    fn field(&mut self, name: &str, value: &[u8]) {
        self.bytes(name.as_bytes());
        self.bytes(value);
    }
}

/// One wrapped key, every field of it, in a fixed order. `created_at` absent and empty are the
/// same (the on-disk form writes an absent one as `""`).
fn key_bytes(k: &WrappedKey) -> Vec<u8> {
    let mut e = Enc(Vec::new());
    e.bytes(k.key.kind().as_bytes());
    for (name, f) in kind::of(&k.key).layout(&k.key) {
        match f {
            Field::Text(v) | Field::TextIfSet(v) => e.field(name, v.as_bytes()),
            Field::Map(m) => {
                e.num(m.len());
                for (a, b) in m {
                    e.field(a, b.as_bytes());
                }
            }
            Field::CreatedAt | Field::Enc => {}
        }
    }
    e.field("enc", k.enc.as_bytes());
    e.field(
        "created_at",
        k.created_at.as_deref().unwrap_or_default().as_bytes(),
    );
    e.0
}

fn leaf(e: &mut Enc, s: &Scalar) {
    // A sealed value or comment is its token, whatever scalar holds it (a comment sealed in a
    // YAML list is written as a plain list element): the token names its own type.
    if let Some(t) = s.as_text().filter(|t| is_enc(t)) {
        e.tag(b'E');
        e.bytes(t.as_bytes());
        return;
    }
    let (t, b) = match s {
        Scalar::Str(x) => (b's', x.as_bytes().to_vec()),
        Scalar::Raw(x) => (b's', x.clone()),
        Scalar::Int(_) | Scalar::Float(_) => (b'n', s.mac_bytes()),
        Scalar::Bool(_) => (b'b', s.plaintext()),
        Scalar::Time(x) => (b't', x.as_bytes().to_vec()),
        Scalar::Bytes(x) => (b'y', x.clone()),
        Scalar::Comment(x) => (b'c', x.as_bytes().to_vec()),
    };
    e.tag(t);
    e.bytes(&b);
}

fn value(e: &mut Enc, v: &Value) {
    match v {
        Value::Null => e.tag(b'N'),
        Value::Scalar(s) => leaf(e, s),
        Value::List(items) => {
            e.tag(b'L');
            e.num(items.len());
            for it in items {
                value(e, it);
            }
        }
        Value::Map(items) => {
            e.tag(b'M');
            e.num(items.len());
            for it in items {
                match it {
                    Item::Entry(k, v) => {
                        e.tag(b'K');
                        e.bytes(k.as_bytes());
                        value(e, v);
                    }
                    Item::Comment(c) => {
                        e.tag(b'#');
                        leaf(e, c);
                    }
                }
            }
        }
    }
}

/// The canonical manifest of an encrypted file: its metadata (all but the integrity field)
/// and its documents as parsed from the file (sealed leaves as their tokens).
pub fn manifest(docs: &[Value], meta: &Metadata) -> Vec<u8> {
    let mut e = Enc(Vec::with_capacity(4096));
    e.0.extend_from_slice(DOMAIN);
    e.field("version", meta.version.as_bytes());
    e.field("lastmodified", meta.lastmodified.as_bytes());
    e.field("mac", meta.mac.as_bytes());
    match meta.rule.field() {
        Some((name, v)) => e.field(name, v.as_bytes()),
        None => e.field("rule", b""),
    }
    e.field(
        "mac_only_encrypted",
        if meta.mac_only_encrypted { b"1" } else { b"0" },
    );
    e.field(
        "shamir_threshold",
        meta.shamir_threshold.to_string().as_bytes(),
    );
    e.num(meta.key_groups.len());
    for g in &meta.key_groups {
        // The on-disk form groups keys by kind, so order within a group carries no meaning.
        let mut keys: Vec<Vec<u8>> = g.iter().map(key_bytes).collect();
        keys.sort();
        e.num(keys.len());
        for k in keys {
            e.bytes(&k);
        }
    }
    e.num(docs.len());
    for d in docs {
        value(&mut e, d);
    }
    e.0
}

/// The integrity field's value for `docs` (the encrypted documents as a reader parses them)
/// and `meta`.
pub fn seal(key: &IntegrityKey, docs: &[Value], meta: &Metadata) -> String {
    format!("{V1}{}", B64.encode(key.tag(&manifest(docs, meta))))
}

/// Check the integrity field of a file (its parsed documents and metadata). `required`: the
/// file's creation rule (or `VEIL_REQUIRE_INTEGRITY`) demands the field, so its absence is a
/// failure — sops drops the field when it rewrites a file, and an attacker can strip it.
pub fn check(key: &IntegrityKey, docs: &[Value], meta: &Metadata, required: bool) -> Result<()> {
    let Some(stored) = meta.integrity.as_deref() else {
        if required {
            return Err(Error::new(
                Code::MacMismatch,
                format!("integrity check failed: the file has no {FIELD} field, which its creation rule (or VEIL_REQUIRE_INTEGRITY) requires"),
            )
            .hint("the field was removed, or the file was last written by sops (which drops it); if `git log -p` shows only changes you expect, `veil updatekeys FILE` adds it back"));
        }
        return Ok(());
    };
    let tag = stored
        .strip_prefix(V1)
        .and_then(|b| B64.decode(b).ok())
        .filter(|t| t.len() == 32);
    let ok = match tag {
        Some(t) => key.verify(&manifest(docs, meta), &t),
        None => false,
    };
    if ok {
        return Ok(());
    }
    Err(Error::new(
        Code::MacMismatch,
        "integrity check failed: the file's recipients, rule, value types, keys or comments were changed outside veil",
    )
    .hint(format!("{FIELD} authenticates everything the sops MAC leaves out; see what changed with `git log -p` on the file and restore it from git")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::data_key::DataKey;
    use crate::keys::KeyRef;
    use crate::metadata::Rule;

    fn meta() -> Metadata {
        Metadata {
            key_groups: vec![vec![WrappedKey {
                key: KeyRef::Age {
                    recipient: "age1a".into(),
                },
                enc: "E".into(),
                created_at: None,
            }]],
            lastmodified: "2026-11-29T00:16:37Z".into(),
            mac: "ENC[m]".into(),
            rule: Rule::UnencryptedSuffix("_unencrypted".into()),
            version: "3.11.0".into(),
            ..Metadata::default()
        }
    }

    fn docs() -> Vec<Value> {
        vec![Value::Map(vec![
            Item::Comment(Scalar::Comment(
                "ENC[AES256_GCM,data:c,type:comment]".into(),
            )),
            Item::Entry(
                "a".into(),
                Value::str("ENC[AES256_GCM,data:x,iv:y,tag:z,type:int]"),
            ),
            Item::Entry("port_unencrypted".into(), Value::Scalar(Scalar::Int(80))),
            Item::Entry("nothing".into(), Value::Null),
        ])]
    }

    fn key() -> IntegrityKey {
        IntegrityKey::derive(&DataKey::from_slice(&[7; 32]).unwrap())
    }

    #[test]
    fn a_sealed_tag_verifies_and_every_change_breaks_it() {
        let mut m = meta();
        m.integrity = Some(seal(&key(), &docs(), &m));
        assert!(check(&key(), &docs(), &m, true).is_ok());
        let other = IntegrityKey::derive(&DataKey::from_slice(&[8; 32]).unwrap());
        assert!(check(&other, &docs(), &m, false).is_err());
        // Changes the sops format does not authenticate.
        let mut recipients = m.clone();
        recipients.key_groups[0].push(WrappedKey {
            key: KeyRef::Age {
                recipient: "age1attacker".into(),
            },
            enc: "x".into(),
            created_at: None,
        });
        let mut rule = m.clone();
        rule.rule = Rule::EncryptedRegex("^a$".into());
        let bad_meta = [recipients, rule];
        for bad in &bad_meta {
            let e = check(&key(), &docs(), bad, false).unwrap_err();
            assert_eq!(e.code, Code::MacMismatch);
        }
        let edit = |f: &dyn Fn(&mut Vec<Item>)| {
            let mut d = docs();
            if let Value::Map(items) = &mut d[0] {
                f(items);
            }
            d
        };
        let bad_docs = [
            // A changed type: inside a token.
            edit(&|i| {
                i[1] = Item::Entry(
                    "a".into(),
                    Value::str("ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]"),
                )
            }),
            // An injected plaintext comment, an added empty key, a deleted comment.
            edit(&|i| i.insert(0, Item::Comment(Scalar::Comment(" run this".into())))),
            edit(&|i| i.push(Item::Entry("extra".into(), Value::Null))),
            edit(&|i| {
                i.remove(0);
            }),
            // A plaintext int turned into a string, null into an empty map.
            edit(&|i| i[2] = Item::Entry("port_unencrypted".into(), Value::str("80"))),
            edit(&|i| i[3] = Item::Entry("nothing".into(), Value::Map(vec![]))),
        ];
        for d in &bad_docs {
            assert!(check(&key(), d, &m, false).is_err());
        }
        // Stripped: fine unless required.
        let mut stripped = m.clone();
        stripped.integrity = None;
        assert!(check(&key(), &docs(), &stripped, false).is_ok());
        assert_eq!(
            check(&key(), &docs(), &stripped, true).unwrap_err().code,
            Code::MacMismatch
        );
        // Garbage in the field.
        let mut garbage = m.clone();
        garbage.integrity = Some("v1:!!".into());
        assert!(check(&key(), &docs(), &garbage, false).is_err());
    }

    #[test]
    fn meaningless_differences_do_not_change_the_manifest() {
        let m = meta();
        // A float and an int of the same value; key order within a group; created_at
        // absent or empty.
        let mut a = docs();
        let mut b = docs();
        if let (Value::Map(x), Value::Map(y)) = (&mut a[0], &mut b[0]) {
            x[2] = Item::Entry("port_unencrypted".into(), Value::Scalar(Scalar::Int(80)));
            y[2] = Item::Entry(
                "port_unencrypted".into(),
                Value::Scalar(Scalar::Float("80.0".into())),
            );
        }
        assert_eq!(manifest(&a, &m), manifest(&b, &m));
        let mut two = m.clone();
        let pgp = WrappedKey {
            key: KeyRef::Pgp {
                fingerprint: "F".into(),
            },
            enc: "P".into(),
            created_at: None,
        };
        two.key_groups[0].push(pgp.clone());
        let mut swapped = m.clone();
        swapped.key_groups[0].insert(
            0,
            WrappedKey {
                created_at: Some(String::new()),
                ..pgp
            },
        );
        assert_eq!(manifest(&a, &two), manifest(&a, &swapped));
        // A sealed comment in a list reads back as a string holding the token.
        let tok = "ENC[AES256_GCM,data:c,iv:i,tag:t,type:comment]";
        let as_comment = vec![Value::List(vec![Value::Scalar(Scalar::Comment(
            tok.into(),
        ))])];
        let as_string = vec![Value::List(vec![Value::str(tok)])];
        assert_eq!(manifest(&as_comment, &m), manifest(&as_string, &m));
    }
}
