//! Unit tests of the engine as a whole: round trips, tampering, key reports, IV reuse,
//! Shamir groups.

#![allow(deprecated)] // the tests use classic X25519 keys, what sops files hold
use super::*;
use crate::crypto::value::Cipher;
use crate::error::{Code, Outcome, Result};
use crate::format::{Edit, Parsed};
use crate::keys::{KeyRef, KeyService};
use crate::metadata::{Metadata, Rule};
use crate::tree::{walk_leaves, Item, Scalar, Value};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// A syntax-free document: just a tree and optional metadata.
struct TreeDoc(Vec<Value>, Option<Value>);
impl Parsed for TreeDoc {
    fn docs(&self) -> &[Value] {
        &self.0
    }
    fn metadata(&self) -> Option<&Value> {
        self.1.as_ref()
    }
    fn render(&self, _: &[Edit], _: Option<&Value>) -> Result<Vec<u8>> {
        Ok(vec![])
    }
}

fn sample() -> Vec<Value> {
    vec![Value::Map(vec![
        Item::Comment(Scalar::Comment(" top".into())),
        Item::Entry("a".into(), Value::str("secret")),
        Item::Entry("n".into(), Value::Scalar(Scalar::Int(5))),
        Item::Entry("f".into(), Value::Scalar(Scalar::Float("2.50".into()))),
        Item::Entry("b".into(), Value::Scalar(Scalar::Bool(true))),
        Item::Entry("empty".into(), Value::str("")),
        Item::Entry("nil".into(), Value::Null),
        Item::Entry("port_unencrypted".into(), Value::Scalar(Scalar::Int(80))),
        Item::Entry(
            "l".into(),
            Value::List(vec![Value::str("x"), Value::str("x")]),
        ),
    ])]
}

fn setup() -> (KeyService, age::x25519::Identity, Context) {
    let id = age::x25519::Identity::generate();
    let mut ks = KeyService::new();
    ks.add(Box::new(TestAge(vec![id.clone()])));
    let ctx = Context {
        rng: ChaCha20Rng::seed_from_u64(7),
        now: time::macros::datetime!(2026-11-29 01:02:03.5 UTC),
    };
    (ks, id, ctx)
}

struct TestAge(Vec<age::x25519::Identity>);
impl crate::keys::Backend for TestAge {
    fn kind(&self) -> &'static str {
        "age"
    }
    fn wrap(&self, key: &KeyRef, secret: &[u8]) -> Result<String> {
        let KeyRef::Age { recipient } = key else {
            unreachable!()
        };
        crate::keys::age::encrypt_to(recipient, secret)
    }
    fn unwrap(&self, _: &KeyRef, enc: &str) -> std::result::Result<crate::keys::Secret, Outcome> {
        use std::io::Read;
        let d = age::Decryptor::new(age::armor::ArmoredReader::new(enc.as_bytes()))
            .map_err(|e| Outcome::Failed(e.to_string()))?;
        let mut r = d
            .decrypt(self.0.iter().map(|i| i as &dyn age::Identity))
            .map_err(|e| Outcome::Failed(e.to_string()))?;
        let mut out = zeroize::Zeroizing::new(vec![]);
        r.read_to_end(&mut out).unwrap();
        Ok(out)
    }
}

fn encrypt_sample(
    ctx: &mut Context,
    ks: &KeyService,
    id: &age::x25519::Identity,
) -> (Vec<Value>, Metadata) {
    let docs = sample();
    let opts = EncryptOptions {
        key_groups: vec![vec![KeyRef::Age {
            recipient: id.to_public().to_string(),
        }]],
        rule: Rule::UnencryptedSuffix("_unencrypted".into()),
        ..Default::default()
    };
    let enc = encrypt(&TreeDoc(docs.clone(), None), &opts, ks, ctx).unwrap();
    (apply_edits(&docs, &enc.edits), enc.metadata)
}

#[test]
fn round_trip_and_rules() {
    let (ks, id, mut ctx) = setup();
    let (encd, meta) = encrypt_sample(&mut ctx, &ks, &id);
    assert_eq!(meta.lastmodified, "2026-11-29T01:02:03Z");
    let Value::Map(items) = &encd[0] else {
        panic!()
    };
    let get = |k: &str| encd[0].get(k).cloned();
    assert!(
        matches!(&items[0], Item::Comment(Scalar::Comment(t)) if t.starts_with("ENC[AES256_GCM,") && t.ends_with("type:comment]"))
    );
    assert!(get("a").unwrap().as_str().unwrap().ends_with("type:str]"));
    assert!(get("n").unwrap().as_str().unwrap().ends_with("type:int]"));
    assert_eq!(get("empty"), Some(Value::str("")));
    assert_eq!(
        get("port_unencrypted"),
        Some(Value::Scalar(Scalar::Int(80)))
    );
    let doc = TreeDoc(encd, Some(meta.to_tree(false)));
    let dec = decrypt(&doc, &DecryptOptions::default(), &ks).unwrap();
    assert_eq!(dec.docs, sample());
}

#[test]
fn tampering_is_refused() {
    let (ks, id, mut ctx) = setup();
    let (encd, meta) = encrypt_sample(&mut ctx, &ks, &id);
    // Two values swapped: AAD mismatch → 25.
    let mut swapped = encd.clone();
    if let Value::Map(items) = &mut swapped[0] {
        let (Item::Entry(_, a), Item::Entry(_, n)) = (items[1].clone(), items[2].clone()) else {
            unreachable!()
        };
        items[1] = Item::Entry("a".into(), n);
        items[2] = Item::Entry("n".into(), a);
    }
    let e = decrypt(
        &TreeDoc(swapped, Some(meta.to_tree(false))),
        &DecryptOptions::default(),
        &ks,
    )
    .err()
    .unwrap();
    assert_eq!(e.code, Code::ErrorDecryptingTree);
    // An unencrypted value changed: MAC mismatch → 51; --ignore-mac reads anyway.
    let mut changed = encd.clone();
    if let Value::Map(items) = &mut changed[0] {
        items[7] = Item::Entry("port_unencrypted".into(), Value::Scalar(Scalar::Int(81)));
    }
    let doc = TreeDoc(changed, Some(meta.to_tree(false)));
    let e = decrypt(&doc, &DecryptOptions::default(), &ks)
        .err()
        .unwrap();
    assert_eq!(e.code, Code::MacMismatch);
    assert!(e.message.starts_with("MAC mismatch. "));
    // Never the digests of the plaintext (sops prints both).
    assert!(!e.message.contains("File has"), "{}", e.message);
    let longest_hex_run = e
        .message
        .split(|c: char| !c.is_ascii_hexdigit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(longest_hex_run < 16, "{}", e.message);
    assert!(decrypt(
        &doc,
        &DecryptOptions {
            ignore_mac: true,
            ..Default::default()
        },
        &ks
    )
    .is_ok());
    // A key deleted: MAC mismatch.
    let mut deleted = encd.clone();
    if let Value::Map(items) = &mut deleted[0] {
        items.remove(1);
    }
    let e = decrypt(
        &TreeDoc(deleted, Some(meta.to_tree(false))),
        &DecryptOptions::default(),
        &ks,
    )
    .err()
    .unwrap();
    assert_eq!(e.code, Code::MacMismatch);
}

#[test]
fn wrong_key_reports_every_key() {
    let (ks, id, mut ctx) = setup();
    let (encd, meta) = encrypt_sample(&mut ctx, &ks, &id);
    let (other, _, _) = setup();
    let e = decrypt(
        &TreeDoc(encd, Some(meta.to_tree(false))),
        &DecryptOptions::default(),
        &other,
    )
    .err()
    .unwrap();
    assert_eq!(e.code, Code::CouldNotRetrieveKey);
    let text = e.to_string();
    assert!(text.contains("Group 0: FAILED"), "{text}");
    assert!(text.contains(&id.to_public().to_string()), "{text}");
}

#[test]
fn already_encrypted_is_203() {
    let (ks, id, mut ctx) = setup();
    let (encd, meta) = encrypt_sample(&mut ctx, &ks, &id);
    let opts = EncryptOptions {
        key_groups: vec![vec![KeyRef::Age {
            recipient: id.to_public().to_string(),
        }]],
        ..Default::default()
    };
    let e = encrypt(
        &TreeDoc(encd, Some(meta.to_tree(false))),
        &opts,
        &ks,
        &mut ctx,
    )
    .err()
    .unwrap();
    assert_eq!(e.code, Code::FileAlreadyEncrypted);
}

#[test]
fn stash_keeps_unchanged_ciphertext_even_for_duplicates() {
    let (ks, id, mut ctx) = setup();
    let (encd, meta) = encrypt_sample(&mut ctx, &ks, &id);
    let doc = TreeDoc(encd.clone(), Some(meta.to_tree(false)));
    let mut dec = decrypt(&doc, &DecryptOptions::default(), &ks).unwrap();
    // Change one value; everything else must keep its exact token.
    if let Value::Map(items) = &mut dec.docs[0] {
        items[1] = Item::Entry("a".into(), Value::str("new secret"));
    }
    let rule = Rule::UnencryptedSuffix("_unencrypted".into());
    let sealed = seal_leaves(
        &dec.docs,
        &rule,
        false,
        Cipher::Aes256Gcm,
        &dec.data_key,
        &mut dec.stash,
        &mut ctx,
    )
    .unwrap();
    let mut before = Vec::new();
    walk_leaves(&encd, |_, _, s| {
        before.push(s.as_text().map(str::to_string))
    });
    let mut changed = 0;
    for (i, e) in sealed.edits.iter().enumerate() {
        if let Edit::Seal(t) = e {
            if before[i].as_deref() != Some(t.as_str()) {
                changed += 1;
            }
        }
    }
    assert_eq!(changed, 1, "only the edited value may change");
    // The two equal list elements kept their own, different ciphertexts.
    let toks: Vec<&String> = sealed
        .edits
        .iter()
        .filter_map(|e| match e {
            Edit::Seal(t) => Some(t),
            _ => None,
        })
        .collect();
    let n = toks.len();
    assert_ne!(toks[n - 1], toks[n - 2]);
}

#[test]
fn three_groups_threshold_two() {
    let ids: Vec<_> = (0..3).map(|_| age::x25519::Identity::generate()).collect();
    let mut all = KeyService::new();
    all.add(Box::new(TestAge(ids.clone())));
    let mut ctx = Context {
        rng: ChaCha20Rng::seed_from_u64(9),
        now: time::OffsetDateTime::UNIX_EPOCH,
    };
    let docs = sample();
    let opts = EncryptOptions {
        key_groups: ids
            .iter()
            .map(|i| {
                vec![KeyRef::Age {
                    recipient: i.to_public().to_string(),
                }]
            })
            .collect(),
        shamir_threshold: 2,
        ..Default::default()
    };
    let enc = encrypt(&TreeDoc(docs.clone(), None), &opts, &all, &mut ctx).unwrap();
    assert_eq!(enc.metadata.shamir_threshold, 2);
    let encd = apply_edits(&docs, &enc.edits);
    let tree = enc.metadata.to_tree(false);
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
        let mut two = KeyService::new();
        two.add(Box::new(TestAge(vec![ids[a].clone(), ids[b].clone()])));
        let dec = decrypt(
            &TreeDoc(encd.clone(), Some(tree.clone())),
            &DecryptOptions::default(),
            &two,
        )
        .unwrap();
        assert_eq!(dec.docs, docs);
        // The keys that unwrapped it: one per group used, the first two groups that could.
        let by = |i: usize| ids[i].to_public().to_string();
        assert_eq!(dec.unwrapped_by.len(), 2, "{:?}", dec.unwrapped_by);
        assert!(dec.unwrapped_by.iter().all(|k| *k == by(a) || *k == by(b)));
    }
    let mut one = KeyService::new();
    one.add(Box::new(TestAge(vec![ids[2].clone()])));
    let e = decrypt(&TreeDoc(encd, Some(tree)), &DecryptOptions::default(), &one)
        .err()
        .unwrap();
    assert_eq!(e.code, Code::CouldNotRetrieveKey);
    // sops's trailer, wrapped at 75 columns as sops wraps it.
    assert!(
        e.message
            .contains("Shamir threshold of\n2, but only 1 part(s) were successfully recovered"),
        "{}",
        e.message
    );
}
