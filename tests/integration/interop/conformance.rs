//! The conformance suite, run for every format: the same contract checked against each store
//! through the library API (no CLI, no peers): round trips, losslessness outside the sealed
//! values, tampering, wrong keys, and random trees.

use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::io::Read;
use veil::engine::{self, Context, DecryptOptions, EncryptOptions};
use veil::error::{Code, Outcome};
use veil::format::{EmitOptions, Format};
use veil::keys::{Backend, KeyRef, KeyService, Secret};
use veil::metadata::Rule;
use veil::tree::{walk_leaves, Item, Scalar, Value};

/// An age backend holding in-memory identities (the real one reads the environment).
struct MemAge(Vec<age::x25519::Identity>);

impl Backend for MemAge {
    fn kind(&self) -> &'static str {
        "age"
    }
    fn wrap(&self, key: &KeyRef, secret: &[u8]) -> veil::error::Result<String> {
        let KeyRef::Age { recipient } = key else {
            panic!("not age")
        };
        veil::keys::age::encrypt_to(recipient, secret)
    }
    fn unwrap(&self, _: &KeyRef, enc: &str) -> Result<Secret, Outcome> {
        let d = age::Decryptor::new(age::armor::ArmoredReader::new(enc.as_bytes()))
            .map_err(|e| Outcome::Failed(e.to_string()))?;
        let mut r = d
            .decrypt(self.0.iter().map(|i| i as &dyn age::Identity))
            .map_err(|e| Outcome::NoIdentity(e.to_string()))?;
        let mut out = zeroize::Zeroizing::new(vec![]);
        r.read_to_end(&mut out)
            .map_err(|e| Outcome::Failed(e.to_string()))?;
        Ok(out)
    }
}

struct Fixture {
    id: age::x25519::Identity,
    keys: KeyService,
    ctx: Context,
}

fn fixture() -> Fixture {
    #[allow(deprecated)] // classic X25519: what sops files hold
    let id = age::x25519::Identity::generate();
    let mut keys = KeyService::new();
    keys.add(Box::new(MemAge(vec![id.clone()])));
    Fixture {
        id,
        keys,
        ctx: Context {
            rng: ChaCha20Rng::seed_from_u64(42),
            now: time::OffsetDateTime::UNIX_EPOCH,
        },
    }
}

/// One sample per format, in plain formatting (so decrypting gives back the exact bytes), with
/// comments where the format has them, an `_unencrypted` key, and every type it can hold.
fn samples() -> Vec<(Format, &'static str)> {
    vec![
        (
            Format::Yaml,
            "# top comment\nname: app\ndb:\n    user: admin\n    password: 'hunter2 secret'\n    port: 5432\n    ratio: 1.5\n    on: true\n\n# list\nlist:\n    - a\n    - 1\n    - k: v\nempty: \"\"\nnil: null\nport_unencrypted: 80\n",
        ),
        (
            Format::Json,
            "{\n\t\"name\": \"app\",\n\t\"db\": {\n\t\t\"user\": \"admin\",\n\t\t\"password\": \"hunter2 secret\",\n\t\t\"port\": 5432,\n\t\t\"on\": true\n\t},\n\t\"list\": [\"a\", 1, {\"k\": \"v\"}],\n\t\"empty\": \"\",\n\t\"nil\": null,\n\t\"port_unencrypted\": 80\n}\n",
        ),
        (
            Format::Toml,
            "# top comment\nname = \"app\"\nport_unencrypted = 80\n\n[db]\nuser = \"admin\"\npassword = \"hunter2 secret\"\nport = 5432\nratio = 1.5\non = true\n",
        ),
        (Format::Dotenv, "# comment\nNAME=app\nexport PASSWORD=hunter2 secret\n\nEMPTY=\nURL=postgres://u:p@h/db?x=1\nport_unencrypted=80\n"),
        (Format::Ini, "; comment\n[db]\nuser = admin\npassword = hunter2 secret\n\n[other]\nport_unencrypted = 80\n"),
    ]
}

fn leaves(docs: &[Value]) -> Vec<Scalar> {
    let mut out = Vec::new();
    walk_leaves(docs, |_, _, s| out.push(s.clone()));
    out
}

/// Encrypt `src` as `fmt` and return the encrypted bytes.
fn encrypt(f: &mut Fixture, fmt: Format, src: &[u8]) -> Vec<u8> {
    let store = fmt.store();
    let parsed = store
        .parse(src)
        .unwrap_or_else(|e| panic!("{}: parse: {e}", fmt.name()));
    let opts = EncryptOptions {
        key_groups: vec![vec![KeyRef::Age {
            recipient: f.id.to_public().to_string(),
        }]],
        rule: Rule::UnencryptedSuffix("_unencrypted".into()),
        ..Default::default()
    };
    let enc = engine::encrypt(parsed.as_ref(), &opts, &f.keys, &mut f.ctx)
        .unwrap_or_else(|e| panic!("{}: encrypt: {e}", fmt.name()));
    let meta = enc.metadata.to_tree(fmt == Format::Json);
    parsed
        .render(&enc.edits, Some(&meta))
        .unwrap_or_else(|e| panic!("{}: render: {e}", fmt.name()))
}

fn decrypt(f: &Fixture, fmt: Format, enc: &[u8]) -> veil::error::Result<Vec<u8>> {
    let parsed = fmt.store().parse_encrypted(enc)?;
    let dec = engine::decrypt(parsed.as_ref(), &DecryptOptions::default(), &f.keys)?;
    parsed.render(&dec.edits, None)
}

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap()
}

#[test]
fn every_format_round_trips_byte_for_byte() {
    for (fmt, src) in samples() {
        let mut f = fixture();
        let enc = encrypt(&mut f, fmt, src.as_bytes());
        let t = text(&enc);
        assert!(
            !t.contains("hunter2"),
            "{}: plaintext left in the encrypted file:\n{t}",
            fmt.name()
        );
        assert!(t.contains("ENC[AES256_GCM,"), "{}", fmt.name());
        let dec = decrypt(&f, fmt, &enc).unwrap_or_else(|e| panic!("{}: decrypt: {e}", fmt.name()));
        assert_eq!(
            text(&dec),
            src,
            "{}: decrypt must give back the original bytes",
            fmt.name()
        );
    }
}

#[test]
fn every_format_is_lossless_outside_the_sealed_values() {
    for (fmt, src) in samples() {
        let mut f = fixture();
        let enc = encrypt(&mut f, fmt, src.as_bytes());
        // The encrypted body without its metadata block: every line either is the original
        // line or holds a sealed value in place of the original value.
        let parsed = fmt.store().parse_encrypted(&enc).unwrap();
        let n = leaves(parsed.docs()).len();
        let body = parsed
            .render(&vec![veil::format::Edit::Keep; n], None)
            .unwrap();
        let (orig, now): (Vec<&str>, Vec<&str>) =
            (src.lines().collect(), text(&body).lines().collect());
        assert_eq!(
            orig.len(),
            now.len(),
            "{}: the line count changed:\n{}",
            fmt.name(),
            text(&body)
        );
        for (o, b) in orig.iter().zip(&now) {
            if !b.contains("ENC[") {
                assert_eq!(
                    o,
                    b,
                    "{}: a line without a sealed value changed",
                    fmt.name()
                );
            }
        }
    }
}

#[test]
fn every_format_detects_tampering() {
    for (fmt, src) in samples() {
        let mut f = fixture();
        let enc = text(&encrypt(&mut f, fmt, src.as_bytes())).to_string();
        // Two sealed values swapped → authentication fails (25).
        let toks: Vec<&str> = enc
            .match_indices("ENC[AES256_GCM,data:")
            .map(|(i, _)| {
                let end = i + enc[i..].find(']').unwrap() + 1;
                &enc[i..end]
            })
            .collect();
        let (a, b) = (toks[1], toks[2]);
        let swapped = enc
            .replacen(a, "@@A@@", 1)
            .replacen(b, a, 1)
            .replacen("@@A@@", b, 1);
        let e = decrypt(&f, fmt, swapped.as_bytes())
            .err()
            .unwrap_or_else(|| panic!("{}: swap accepted", fmt.name()));
        assert_eq!(e.code, Code::ErrorDecryptingTree, "{}: {e}", fmt.name());
        // The unencrypted value changed → MAC mismatch (51).
        let changed = enc.replacen("80", "81", 1);
        let e = decrypt(&f, fmt, changed.as_bytes())
            .err()
            .unwrap_or_else(|| panic!("{}: change accepted", fmt.name()));
        assert_eq!(e.code, Code::MacMismatch, "{}: {e}", fmt.name());
        // Wrong key → 128.
        let other = fixture();
        let e = decrypt(&other, fmt, enc.as_bytes()).err().unwrap();
        assert_eq!(e.code, Code::CouldNotRetrieveKey, "{}: {e}", fmt.name());
    }
}

#[test]
fn conversions_keep_the_data() {
    // Every format's sample, encrypted into JSON and YAML, decrypts to the same leaves.
    for (fmt, src) in samples() {
        for out in [Format::Json, Format::Yaml] {
            let mut f = fixture();
            let parsed = fmt.store().parse(src.as_bytes()).unwrap();
            let opts = EncryptOptions {
                key_groups: vec![vec![KeyRef::Age {
                    recipient: f.id.to_public().to_string(),
                }]],
                ..Default::default()
            };
            let enc = engine::encrypt(parsed.as_ref(), &opts, &f.keys, &mut f.ctx).unwrap();
            let docs = engine::apply_edits(parsed.docs(), &enc.edits);
            let bytes = out
                .store()
                .emit(
                    &docs,
                    Some(&enc.metadata.to_tree(out == Format::Json)),
                    &EmitOptions::default(),
                )
                .unwrap();
            let back = out.store().parse_encrypted(&bytes).unwrap();
            let dec = engine::decrypt(back.as_ref(), &DecryptOptions::default(), &f.keys)
                .unwrap_or_else(|e| {
                    panic!("{} → {}: {e}\n{}", fmt.name(), out.name(), text(&bytes))
                });
            engine::verify_same_leaves(parsed.docs(), &dec.docs, false)
                .unwrap_or_else(|e| panic!("{} → {}: {e}", fmt.name(), out.name()));
        }
    }
}

fn arb_key() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,8}"
}

fn arb_scalar(nested: bool) -> BoxedStrategy<Value> {
    let mut s = vec![
        "[ -~]{0,20}".prop_map(Value::str).boxed(),
        "\\PC{1,12}".prop_map(Value::str).boxed(),
    ];
    if nested {
        s.push(
            any::<i64>()
                .prop_map(|i| Value::Scalar(Scalar::Int(i)))
                .boxed(),
        );
        s.push(
            any::<bool>()
                .prop_map(|b| Value::Scalar(Scalar::Bool(b)))
                .boxed(),
        );
        s.push(
            (-1.0e6f64..1.0e6)
                .prop_map(|x| Value::Scalar(Scalar::Float(format!("{x}"))))
                .boxed(),
        );
    }
    proptest::strategy::Union::new(s).boxed()
}

fn arb_tree() -> impl Strategy<Value = Value> {
    let leaf = arb_scalar(true);
    let tree = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Value::List),
            prop::collection::vec((arb_key(), inner), 1..4).prop_map(|kv| Value::Map(dedupe(kv))),
        ]
    });
    prop::collection::vec((arb_key(), tree), 1..5).prop_map(|kv| Value::Map(dedupe(kv)))
}

fn arb_flat() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (
            "[A-Z][A-Z0-9_]{0,8}",
            "[a-zA-Z0-9_.:/@=+,#\"'-]([a-zA-Z0-9 _.:/@=+,#\"'-]{0,18}[a-zA-Z0-9_.:/@=+,#\"'-])?"
                .prop_map(Value::str),
        ),
        1..6,
    )
    .prop_map(|kv| Value::Map(dedupe(kv)))
}

fn arb_ini() -> impl Strategy<Value = Value> {
    prop::collection::vec(("[a-z][a-z0-9]{0,6}", arb_flat()), 1..4)
        .prop_map(|kv| Value::Map(dedupe(kv)))
}

fn dedupe(kv: Vec<(String, Value)>) -> Vec<Item> {
    let mut seen = std::collections::HashSet::new();
    kv.into_iter()
        .filter(|(k, _)| seen.insert(k.clone()) && !k.starts_with("sops"))
        .map(|(k, v)| Item::Entry(k, v))
        .collect()
}

fn round_trip_tree(fmt: Format, tree: Value) -> Result<(), TestCaseError> {
    let store = fmt.store();
    let src = store
        .emit(std::slice::from_ref(&tree), None, &EmitOptions::default())
        .map_err(|e| TestCaseError::fail(format!("emit: {e}")))?;
    let parsed = store.parse(&src).map_err(|e| {
        TestCaseError::fail(format!("parse: {e}\n{}", String::from_utf8_lossy(&src)))
    })?;
    let mut f = fixture();
    let enc = encrypt(&mut f, fmt, &src);
    let dec = decrypt(&f, fmt, &enc).map_err(|e| TestCaseError::fail(format!("decrypt: {e}")))?;
    // The data must come back exactly; the bytes may differ in quoting style only (an emitter
    // escapes what the plaintext renderer writes raw). Byte-exactness is checked on the
    // curated samples above.
    let back = store
        .parse(&dec)
        .map_err(|e| TestCaseError::fail(format!("re-parse: {e}")))?;
    engine::verify_same_leaves(parsed.docs(), back.docs(), true)
        .map_err(|e| TestCaseError::fail(format!("decrypt changed the data: {e}")))?;
    engine::verify_same_leaves(
        std::slice::from_ref(&tree),
        parsed.docs(),
        fmt != Format::Dotenv && fmt != Format::Ini,
    )
    .map_err(|e| TestCaseError::fail(format!("emit/parse changed the data: {e}")))?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_yaml_trees_round_trip(tree in arb_tree()) { round_trip_tree(Format::Yaml, tree)?; }

    #[test]
    fn random_json_trees_round_trip(tree in arb_tree()) { round_trip_tree(Format::Json, tree)?; }

    #[test]
    fn random_toml_trees_round_trip(tree in arb_tree()) { round_trip_tree(Format::Toml, tree)?; }

    #[test]
    fn random_dotenv_round_trip(tree in arb_flat()) { round_trip_tree(Format::Dotenv, tree)?; }

    #[test]
    fn random_ini_round_trip(tree in arb_ini()) { round_trip_tree(Format::Ini, tree)?; }
}
