//! Interop with the real sops binary (installed by `scripts/peers.sh`; a missing sops fails
//! under `CI=true`): the YAML store must give every leaf, comments included, the same key path
//! (AAD) as sops does, in both directions. Values are sealed and opened with the independent
//! oracle ([`crate::support::oracle`]), so the check does not depend on veil's engine.

use crate::support;
use std::process::Command;

use crate::support::oracle;
use veil::format::yaml::YamlStore;
use veil::format::{Edit, Store};
use veil::tree::{aad, walk_leaves, Item, Scalar, Value};

/// The real sops (found by the support module; `available()` checks it is there).
fn sops_bin() -> std::path::PathBuf {
    support::peer_path("sops").expect("checked by available()")
}

/// The age identity and recipient the test files are encrypted for.
fn keys_file() -> std::path::PathBuf {
    support::testdata("keys/test-age-1.txt")
}

fn recipient_file() -> std::path::PathBuf {
    support::testdata("keys/test-age-1.pub")
}

const PLAIN: &str = "# top comment
a: 1 # trailing after scalar
b:
  # head of c
  c: two
  d: [x, y] # after flow list
  e: {k: v} # after flow map
  # foot of b
nested: # after key
  inner: 1.5
list:
  # head of first item
  - item1 # trailing item
  - k: v # in map in list
    # foot in map in list
  # between items
  - [p, q]
# head of last
last: |
  multi
  line
flag: true
when: 2024-01-01
deep:
  a:
    b: 1
    # foot of a
  # foot of deep
# before seqs
seqs:
  - - x # t
    - y
  # after inner
  - # after dash
    k: v
  -
    # head inside item
    m: n
empty: # on empty
tail: x
seq_after:
# at zero
- x
-   # odd indent
    y
flowml: [a, # inside flow
  b]
# final comment
";

const MULTI: &str = "# before the first marker
---
# doc one
a: 1
list:
    - x
    # in list
---
# doc two
b:
    c: [1, 2] # flow
...
---
d: |-
    text
";

const TYPED: &str = "hex: 0x1F
oct: 0o17
old_oct: 0777
under: 1_000
big_float: 99999999999999999999
exp: 1e3
inf: .inf
ninf: -.Inf
nan: .nan
dot: .5
plus: +12
yes_str: yes
on_str: on
bool_caps: TRUE
date: 2024-01-01
space_time: 2025-01-02 03:04:05.123
offset: 2006-01-02T15:04:05+07:06
quoted_date: \"2024-01-01\"
tagged: !!str 12
bin: !!binary aGVsbG8=
custom: !foo bar
eight: 08
merge_base: &b {x: 1}
merged:
  <<: *b
  y: 2
";

/// The real sops is there (in CI its absence is a failure, not a skip).
fn available() -> bool {
    support::require_peer("sops")
}

fn identity() -> age::x25519::Identity {
    let text = std::fs::read_to_string(keys_file()).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap();
    line.parse().unwrap()
}

fn leaves(docs: &[Value]) -> Vec<(String, Scalar)> {
    let mut out = vec![];
    walk_leaves(docs, |_, p, s| out.push((aad(p), s.clone())));
    out
}

fn comment_texts(l: &[(String, Scalar)]) -> Vec<String> {
    let mut v: Vec<String> = l
        .iter()
        .filter_map(|(_, s)| match s {
            Scalar::Comment(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

/// Non-comment leaves, floats in Go's canonical form (sops stores `1e3` as `1000`).
fn values(l: &[(String, Scalar)]) -> Vec<(String, Scalar)> {
    l.iter()
        .filter(|(_, s)| !s.is_comment())
        .map(|(p, s)| match s {
            Scalar::Float(_) => (
                p.clone(),
                Scalar::Float(String::from_utf8(s.mac_bytes()).unwrap()),
            ),
            other => (p.clone(), other.clone()),
        })
        .collect()
}

#[test]
fn sops_encrypted_yaml_leaves_open_with_our_paths() {
    if !available() {
        return;
    }
    for src in [PLAIN, MULTI, TYPED] {
        sops_encrypts(src);
    }
}

fn sops_encrypts(src: &str) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("plain.yaml");
    std::fs::write(&f, src).unwrap();
    let recipient = std::fs::read_to_string(recipient_file()).unwrap();
    let out = Command::new(sops_bin())
        .args(["encrypt", "--age", recipient.trim()])
        .arg(&f)
        .env("SOPS_DISABLE_VERSION_CHECK", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = YamlStore::default();
    let enc = store.parse(&out.stdout).unwrap();
    let meta = enc.metadata().expect("metadata");
    let armored = meta
        .get("age")
        .and_then(|a| match a {
            Value::List(l) => l.first(),
            _ => None,
        })
        .and_then(|e| e.get("enc"))
        .and_then(Value::as_str)
        .unwrap();
    let key = age::decrypt(&identity(), armored.as_bytes()).unwrap();
    let mut opened = vec![];
    for (path, s) in leaves(enc.docs()) {
        let tok = s
            .as_text()
            .unwrap_or_else(|| panic!("non-text leaf at {path}"));
        let (ty, pt) = oracle::open(tok, &key, &path).unwrap_or_else(|| {
            panic!(
                "leaf at {path} does not open with our path\n{}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        let v = Scalar::from_plaintext(&ty, pt).unwrap();
        opened.push((path, v));
    }
    let plain = leaves(store.parse(src.as_bytes()).unwrap().docs());
    assert_eq!(values(&opened), values(&plain));
    assert_eq!(comment_texts(&opened), comment_texts(&plain));
}

#[test]
fn sops_decrypts_what_we_render() {
    if !available() {
        return;
    }
    for src in [PLAIN, MULTI, TYPED] {
        sops_decrypts(src);
    }
}

fn sops_decrypts(src: &str) {
    let store = YamlStore::default();
    let plain = store.parse(src.as_bytes()).unwrap();
    let key = oracle::data_key();
    let l = leaves(plain.docs());
    let mut in_mac = Vec::new();
    let edits: Vec<Edit> = l
        .iter()
        .map(|(path, s)| {
            if !s.is_comment() {
                in_mac.push(s.mac_bytes());
            }
            if s.is_empty_text() {
                Edit::Keep
            } else {
                Edit::Seal(oracle::seal(&key, &s.plaintext(), path, s.type_name()))
            }
        })
        .collect();
    let lastmodified = "2026-11-29T00:00:00Z";
    let mac_hex = oracle::mac(in_mac, false);
    #[allow(deprecated)] // classic X25519: what sops files hold
    let recipient: age::x25519::Recipient = std::fs::read_to_string(recipient_file())
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let armored = age::encrypt_and_armor(&recipient, &key).unwrap();
    let meta = Value::Map(vec![
        Item::Entry(
            "age".into(),
            Value::List(vec![Value::Map(vec![
                Item::Entry("recipient".into(), Value::str(recipient.to_string())),
                Item::Entry("enc".into(), Value::str(armored)),
            ])]),
        ),
        Item::Entry("lastmodified".into(), Value::str(lastmodified)),
        Item::Entry(
            "mac".into(),
            Value::str(oracle::seal(&key, mac_hex.as_bytes(), lastmodified, "str")),
        ),
        Item::Entry("unencrypted_suffix".into(), Value::str("_unencrypted")),
        Item::Entry("version".into(), Value::str("3.11.0")),
    ]);
    let rendered = plain.render(&edits, Some(&meta)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("enc.yaml");
    std::fs::write(&f, &rendered).unwrap();
    let out = Command::new(sops_bin())
        .args(["decrypt"])
        .arg(&f)
        .env("SOPS_AGE_KEY_FILE", keys_file())
        .env("SOPS_DISABLE_VERSION_CHECK", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&rendered);
    assert!(
        out.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back = leaves(store.parse(&out.stdout).unwrap().docs());
    let dec = String::from_utf8_lossy(&out.stdout);
    assert!(
        !dec.contains("ENC["),
        "sops could not open some comments:\n{dec}\nfrom:\n{text}"
    );
    // sops writes floats that read back as ints (`1e3` → `1000`): compare canonical bytes.
    let canon = |v: &[(String, Scalar)]| -> Vec<(String, Vec<u8>)> {
        v.iter().map(|(p, s)| (p.clone(), s.mac_bytes())).collect()
    };
    assert_eq!(canon(&values(&back)), canon(&values(&l)), "{dec}");
    assert_eq!(comment_texts(&back), comment_texts(&l), "{dec}");
}
