//! An independent implementation of the sops value format and MAC, to check veil against.
//!
//! This is a deliberate second implementation, the only one in the tests. It is written from
//! the format (`docs/sops-format.md` §1 and §2) with the `aes-gcm` and `sha2` crates directly,
//! and must not call `veil::crypto` or `veil::engine`: a test that opens veil's output with it,
//! or hands veil a value it sealed, then checks veil's crypto against something other than
//! itself. It covers only what the tests need: AES-256-GCM with a 32-byte IV, the key path (or
//! `lastmodified`) as additional data, the `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` token, and
//! the MAC (SHA-512 over the leaves' values, upper-case hex).
//!
//! [`encrypt_document`] and [`decrypt_document`] seal and open a whole document with it: they use
//! veil's stores to parse and render (the stores are what those tests check against the real
//! sops) and the real `age` command to wrap the data key. Everything else in the tests runs
//! veil's library or binary.

use std::io::Write;
use std::process::{Command, Stdio};

use aes_gcm::aead::consts::U32;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256, Sha512};

use veil::format::{Edit, Store};
use veil::tree::{aad, walk_leaves, Item, Scalar, Value};

use super::{peer_path, require_peer, testdata};

/// AES-256-GCM with sops's 32-byte nonce.
type Gcm = AesGcm<Aes256, U32>;

/// The `lastmodified` the documents sealed here carry (also the MAC's additional data).
pub const LASTMODIFIED: &str = "2026-11-29T00:00:00Z";

/// A fresh random 32-byte data key.
pub fn data_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    key
}

/// Seals `plaintext` into a sops value token with a random IV and `aad` as additional data.
pub fn seal(key: &[u8], plaintext: &[u8], aad: &str, type_name: &str) -> String {
    let mut iv = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut iv);
    let sealed = Gcm::new_from_slice(key)
        .expect("32-byte data key")
        .encrypt(
            Nonce::<U32>::from_slice(&iv),
            Payload {
                msg: plaintext,
                aad: aad.as_bytes(),
            },
        )
        .expect("seal");
    let (data, tag) = sealed.split_at(sealed.len() - 16);
    format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{type_name}]",
        B64.encode(data),
        B64.encode(iv),
        B64.encode(tag)
    )
}

/// Opens a sops value token: `(type, plaintext)`, or `None` when it is not a well-formed
/// AES-256-GCM token or does not open with `key` and `aad`.
pub fn open(token: &str, key: &[u8], aad: &str) -> Option<(String, Vec<u8>)> {
    let body = token.strip_prefix("ENC[AES256_GCM,")?.strip_suffix(']')?;
    let (mut data, mut iv, mut tag, mut ty) = (None, None, None, None);
    for part in body.split(',') {
        let (k, v) = part.split_once(':')?;
        match k {
            "data" => data = Some(B64.decode(v).ok()?),
            "iv" => iv = Some(B64.decode(v).ok()?),
            "tag" => tag = Some(B64.decode(v).ok()?),
            "type" => ty = Some(v.to_string()),
            _ => {}
        }
    }
    let mut msg = data?;
    msg.extend(tag?);
    let iv = iv?;
    if iv.len() != 32 {
        return None;
    }
    let plain = Gcm::new_from_slice(key)
        .ok()?
        .decrypt(
            Nonce::<U32>::from_slice(&iv),
            Payload {
                msg: &msg,
                aad: aad.as_bytes(),
            },
        )
        .ok()?;
    Some((ty?, plain))
}

/// Opens a token into the typed scalar it holds, panicking (with the path) when it does not open.
pub fn open_scalar(token: &str, key: &[u8], aad: &str) -> Scalar {
    let (ty, plain) = open(token, key, aad).unwrap_or_else(|| panic!("{aad}: token does not open"));
    Scalar::from_plaintext(&ty, plain).expect("a known value type")
}

/// The MAC over the given leaf values (each as sops hashes it), as sops stores it before
/// sealing: upper-case hex SHA-512. With `mac_only_encrypted` the hash starts with
/// SHA-256("sops"), as sops does for that setting.
pub fn mac<I: IntoIterator<Item = Vec<u8>>>(leaves: I, mac_only_encrypted: bool) -> String {
    let mut h = Sha512::new();
    if mac_only_encrypted {
        h.update(Sha256::digest(b"sops"));
    }
    for leaf in leaves {
        h.update(leaf);
    }
    h.finalize().iter().map(|b| format!("{b:02X}")).collect()
}

/// The MAC over every leaf of `docs` (flat documents, where every leaf counts).
pub fn mac_of(docs: &[Value]) -> String {
    let mut leaves = Vec::new();
    walk_leaves(docs, |_, _, s| leaves.push(s.mac_bytes()));
    mac(leaves, false)
}

/// Bytes from a hex string (data keys and Shamir shares in `testdata/`).
pub fn hex_bytes(s: &str) -> Vec<u8> {
    let s = s.trim();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The real sops binary (empty when missing; callers check [`age_peers`] first).
pub fn sops_path() -> String {
    peer_path("sops")
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// The test age identity file.
pub fn age_identity_file() -> String {
    testdata("keys/test-age-1.txt").display().to_string()
}

/// The test age recipient, when the real sops and age are installed (`None`: skip, loudly;
/// under `CI=true` a missing peer panics instead).
pub fn age_peers() -> Option<String> {
    if !require_peer("sops") || !require_peer("age") {
        return None;
    }
    let r = std::fs::read_to_string(testdata("keys/test-age-1.pub")).ok()?;
    Some(r.trim().to_string())
}

/// Runs `cmd args` with `stdin` and extra `env`: (success, stdout, stderr).
pub fn pipe(
    cmd: &str,
    args: &[&str],
    stdin: &[u8],
    env: &[(&str, &str)],
) -> (bool, Vec<u8>, String) {
    let mut c = Command::new(cmd);
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Encrypts `plain` as a sops file for the age `recipient`: `store` parses and renders, this
/// module seals every non-empty leaf (keys ending `_unencrypted` stay plain) and the MAC.
pub fn encrypt_document(store: &dyn Store, plain: &[u8], recipient: &str) -> Vec<u8> {
    let doc = store.parse(plain).expect("parse plaintext");
    let key = data_key();
    let mut edits = Vec::new();
    walk_leaves(doc.docs(), |_, path, s| {
        let plain_by_rule = path.iter().any(|k| k.ends_with("_unencrypted"));
        edits.push(if s.is_empty_text() || plain_by_rule {
            Edit::Keep
        } else {
            Edit::Seal(seal(&key, &s.plaintext(), &aad(path), s.type_name()))
        })
    });
    let mac = seal(&key, mac_of(doc.docs()).as_bytes(), LASTMODIFIED, "str");
    let (ok, armored, err) = pipe("age", &["-r", recipient, "-a"], &key, &[]);
    assert!(ok, "age: {err}");
    let meta = Value::Map(vec![
        Item::Entry(
            "age".into(),
            Value::List(vec![Value::Map(vec![
                Item::Entry("recipient".into(), Value::str(recipient)),
                Item::Entry(
                    "enc".into(),
                    Value::str(String::from_utf8(armored).expect("armored age")),
                ),
            ])]),
        ),
        Item::Entry("lastmodified".into(), Value::str(LASTMODIFIED)),
        Item::Entry("mac".into(), Value::str(mac)),
        Item::Entry("unencrypted_suffix".into(), Value::str("_unencrypted")),
        Item::Entry("version".into(), Value::str("3.11.0")),
    ]);
    doc.render(&edits, Some(&meta)).expect("render encrypted")
}

/// Decrypts a sops file whose data key is wrapped for the test age identity, checking the MAC.
pub fn decrypt_document(store: &dyn Store, enc: &[u8]) -> Vec<u8> {
    let doc = store.parse(enc).expect("parse encrypted");
    let meta = doc.metadata().expect("metadata");
    let Some(Value::List(age)) = meta.get("age") else {
        panic!("no age recipients")
    };
    let armored = age[0].get("enc").and_then(Value::as_str).expect("enc");
    let (ok, key, err) = pipe(
        "age",
        &["-d", "-i", &age_identity_file()],
        armored.as_bytes(),
        &[],
    );
    assert!(ok, "age -d: {err}");
    assert_eq!(key.len(), 32, "32-byte data key");
    let mut edits = Vec::new();
    let mut opened = doc.docs().to_vec();
    walk_leaves(doc.docs(), |_, path, s| {
        edits.push(match s.as_text() {
            Some(t) if t.starts_with("ENC[") => Edit::Open(open_scalar(t, &key, &aad(path))),
            _ => Edit::Keep,
        })
    });
    veil::tree::walk_leaves_mut(&mut opened, |i, _, s| {
        if let Edit::Open(v) = &edits[i] {
            *s = v.clone();
        }
    });
    let lastmodified = meta
        .get("lastmodified")
        .and_then(Value::as_str)
        .expect("lastmodified");
    let stored = open_scalar(
        meta.get("mac").and_then(Value::as_str).expect("mac"),
        &key,
        lastmodified,
    );
    assert_eq!(stored, Scalar::Str(mac_of(&opened)), "MAC mismatch");
    doc.render(&edits, None).expect("render plaintext")
}
