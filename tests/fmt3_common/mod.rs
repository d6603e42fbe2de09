//! A minimal stand-in for the engine, shared by the fmt3 tests: AES-256-GCM with a 32-byte IV
//! and the key path as AAD, the SHA-512 MAC, the data key wrapped with the `age` command and the
//! test-only age key in `testdata/keys`; sops is the one `scripts/peers.sh` installs (a missing
//! sops or age fails under `CI=true`). It exists only so that the stores can be checked
//! against the real sops before the engine is merged; it is not the engine.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

use aes_gcm::aead::consts::U32;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::AesGcm;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha512};

use veil::format::{Edit, Store};
use veil::tree::{aad, walk_leaves, Item, Scalar, Value};

#[path = "../common/mod.rs"]
mod common;

pub const LASTMODIFIED: &str = "2026-11-29T00:00:00Z";

/// The real sops binary.
pub fn sops_path() -> String {
    common::peer_path("sops")
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// The test age identity file.
pub fn keys_path() -> String {
    common::testdata("keys/test-age-1.txt")
        .display()
        .to_string()
}

/// The test age recipient, when the real sops and age are installed (`None`: skip, loudly;
/// under `CI=true` a missing peer panics instead).
pub fn peers() -> Option<String> {
    if !common::require_peer("sops") || !common::require_peer("age") {
        return None;
    }
    let r = std::fs::read_to_string(common::testdata("keys/test-age-1.pub")).ok()?;
    Some(r.trim().to_string())
}

pub type Gcm = AesGcm<Aes256, U32>;

pub fn seal(key: &[u8; 32], plaintext: &[u8], aad: &str, type_name: &str) -> String {
    let mut iv = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut iv);
    let cipher = Gcm::new(key.into());
    let out = cipher
        .encrypt(
            (&iv).into(),
            Payload {
                msg: plaintext,
                aad: aad.as_bytes(),
            },
        )
        .expect("seal");
    let (data, tag) = out.split_at(out.len() - 16);
    format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{}]",
        B64.encode(data),
        B64.encode(iv),
        B64.encode(tag),
        type_name
    )
}

pub fn open(key: &[u8; 32], token: &str, aad: &str) -> Scalar {
    let re = regex::Regex::new(r"^ENC\[AES256_GCM,data:(.*),iv:(.+),tag:(.+),type:(.+)\]").unwrap();
    let c = re.captures(token).expect("token");
    let mut msg = B64.decode(&c[1]).unwrap();
    msg.extend(B64.decode(&c[3]).unwrap());
    let iv = B64.decode(&c[2]).unwrap();
    let cipher = Gcm::new(key.into());
    let plain = cipher
        .decrypt(
            iv.as_slice().into(),
            Payload {
                msg: &msg,
                aad: aad.as_bytes(),
            },
        )
        .expect("open");
    Scalar::from_plaintext(&c[4], plain).unwrap()
}

pub fn run(
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
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn mac_of(docs: &[Value]) -> String {
    let mut h = Sha512::new();
    walk_leaves(docs, |_, _, s| h.update(s.mac_bytes()));
    h.finalize().iter().map(|b| format!("{b:02X}")).collect()
}

/// Encrypt the way the engine will: every non-empty leaf sealed, the sops metadata appended.
pub fn veil_encrypt(store: &dyn Store, plain: &[u8], recipient: &str) -> Vec<u8> {
    let doc = store.parse(plain).expect("parse plaintext");
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
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
    let (ok, armored, err) = run("age", &["-r", recipient, "-a"], &key, &[]);
    assert!(ok, "age: {err}");
    let meta = Value::Map(vec![
        Item::Entry(
            "age".into(),
            Value::List(vec![Value::Map(vec![
                Item::Entry("recipient".into(), Value::str(recipient)),
                Item::Entry(
                    "enc".into(),
                    Value::str(String::from_utf8(armored).unwrap()),
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

/// Decrypt the way the engine will, checking the MAC.
pub fn veil_decrypt(store: &dyn Store, enc: &[u8]) -> Vec<u8> {
    let doc = store.parse(enc).expect("parse encrypted");
    let meta = doc.metadata().expect("metadata");
    let Some(Value::List(age)) = meta.get("age") else {
        panic!("no age recipients")
    };
    let armored = age[0].get("enc").and_then(Value::as_str).expect("enc");
    let (ok, key, err) = run("age", &["-d", "-i", &keys_path()], armored.as_bytes(), &[]);
    assert!(ok, "age -d: {err}");
    let key: [u8; 32] = key.try_into().expect("32-byte data key");
    let mut edits = Vec::new();
    let mut opened = doc.docs().to_vec();
    walk_leaves(doc.docs(), |_, path, s| {
        edits.push(match s.as_text() {
            Some(t) if t.starts_with("ENC[") => Edit::Open(open(&key, t, &aad(path))),
            _ => Edit::Keep,
        })
    });
    veil::tree::walk_leaves_mut(&mut opened, |i, _, s| {
        if let Edit::Open(v) = &edits[i] {
            *s = v.clone();
        }
    });
    let lastmodified = meta.get("lastmodified").and_then(Value::as_str).unwrap();
    let stored = open(
        &key,
        meta.get("mac").and_then(Value::as_str).unwrap(),
        lastmodified,
    );
    assert_eq!(stored, Scalar::Str(mac_of(&opened)), "MAC mismatch");
    doc.render(&edits, None).expect("render plaintext")
}
