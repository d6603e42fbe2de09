//! `select` against the real sops: for each plaintext in testdata/config/select, sops 3.11
//! encrypted it under one rule (make.sh there). Every leaf of those files sits on its own line,
//! so the lines that carry `ENC[` say which leaves sops sealed, in walk order. The MAC sops
//! stored is opened with the (test-only) data key and must equal the MAC the independent oracle
//! ([`crate::support::oracle`]) computes over the leaves veil's `mac_leaves` picks.

use crate::support::oracle;
use veil::metadata::Rule;
use veil::select::Selector;
use veil::tree::{walk_leaves, Item, Scalar, Value};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/config/select");

fn s(v: &str) -> Value {
    Value::str(v)
}
fn i(v: i64) -> Value {
    Value::Scalar(Scalar::Int(v))
}
fn e(k: &str, v: Value) -> Item {
    Item::Entry(k.into(), v)
}
fn c(t: &str) -> Item {
    Item::Comment(Scalar::Comment(t.into()))
}
fn lc(t: &str) -> Value {
    Value::Scalar(Scalar::Comment(t.into()))
}

/// comments.yaml as sops's YAML store sees it.
fn comments_tree() -> Value {
    Value::Map(vec![
        c(" sops:enc"),
        c(" second"),
        e("a", i(1)),
        c(" orphan"),
        e("b", i(2)),
        c(" sops:enc"),
        c(" sops:enc"),
        e("c", i(3)),
        e("plain", s("a")),
        c(" sops:enc"),
        e(
            "data",
            Value::Map(vec![
                e("x", s("b")),
                c(" note"),
                e("y", Value::List(vec![s("c"), s("d")])),
            ]),
        ),
        e("after", s("e")),
        e(
            "items",
            Value::List(vec![
                s("a"),
                lc(" sops:enc"),
                s("b"),
                s("c"),
                lc(" sops:enc"),
                Value::Map(vec![e("k", s("d"))]),
            ]),
        ),
    ])
}

fn k8s_tree() -> Value {
    Value::Map(vec![
        e("apiVersion", s("v1")),
        e("kind", s("Secret")),
        e(
            "metadata",
            Value::Map(vec![
                e("name", s("db")),
                e("labels", Value::Map(vec![e("data", s("x"))])),
            ]),
        ),
        e("type", s("Opaque")),
        e("data", Value::Map(vec![e("password", s("aHVudGVyMg=="))])),
        e("stringData", Value::Map(vec![e("user", s("admin"))])),
        e("datastore", s("not matched")),
    ])
}

fn suffix_tree() -> Value {
    Value::Map(vec![
        e("a", i(1)),
        e("b_unencrypted", i(2)),
        e(
            "tree_unencrypted",
            Value::Map(vec![e("x", i(3)), e("y", Value::List(vec![i(4), i(5)]))]),
        ),
        e(
            "list",
            Value::List(vec![Value::Map(vec![
                e("k_unencrypted", i(6)),
                e("k", i(7)),
            ])]),
        ),
        e("empty", s("")),
    ])
}

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}")).unwrap_or_else(|err| panic!("{name}: {err}"))
}

/// One flag per leaf line of sops's output: does it carry `ENC[`?
fn sealed_by_sops(case: &str) -> Vec<bool> {
    let text = read(&format!("{case}.sops.yaml"));
    text.lines()
        .take_while(|l| !l.starts_with("sops:"))
        .filter(|l| {
            let t = l.trim();
            let structural = !t.starts_with('#') && t.ends_with(':') && !t.contains(": ");
            !t.is_empty() && !structural
        })
        .map(|l| l.contains("ENC["))
        .collect()
}

/// Open the MAC sops stored for `case` (AAD = lastmodified as stored).
fn sops_mac(case: &str) -> String {
    let text = read(&format!("{case}.sops.yaml"));
    let field = |name: &str| {
        let l = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name}: ")))
            .unwrap();
        l.trim_start()[name.len() + 2..]
            .trim_matches('"')
            .to_string()
    };
    let (lastmodified, enc) = (field("lastmodified"), field("mac"));
    let key = oracle::hex_bytes(&read(&format!("{case}.datakey.hex")));
    let (_, plain) = oracle::open(&enc, &key, &lastmodified).expect("MAC opens with the data key");
    String::from_utf8(plain).unwrap()
}

fn veil_mac(doc: &Value, sel: &Selector) -> String {
    let docs = std::slice::from_ref(doc);
    let in_mac = sel.mac_leaves(docs);
    let mut leaves = Vec::new();
    walk_leaves(docs, |n, _, leaf| {
        if in_mac[n] {
            leaves.push(leaf.mac_bytes());
        }
    });
    oracle::mac(leaves, sel.mac_only_encrypted())
}

fn check(case: &str, doc: Value, rule: Rule, mac_only: bool) {
    let sel = Selector::new(&rule, mac_only).unwrap();
    let ours = sel.encrypted_leaves(std::slice::from_ref(&doc));
    assert_eq!(
        ours,
        sealed_by_sops(case),
        "{case}: sealed leaves differ from sops"
    );
    assert_eq!(
        veil_mac(&doc, &sel),
        sops_mac(case),
        "{case}: MAC coverage differs from sops"
    );
}

#[test]
fn encrypted_comment_regex_matches_sops() {
    check(
        "enc_comment",
        comments_tree(),
        Rule::EncryptedCommentRegex("sops:enc".into()),
        false,
    );
}

#[test]
fn unencrypted_comment_regex_matches_sops() {
    check(
        "unenc_comment",
        comments_tree(),
        Rule::UnencryptedCommentRegex("sops:enc".into()),
        false,
    );
}

#[test]
fn kubernetes_encrypted_regex_matches_sops() {
    check(
        "k8s",
        k8s_tree(),
        Rule::EncryptedRegex("^(data|stringData)$".into()),
        false,
    );
}

#[test]
fn unencrypted_suffix_matches_sops() {
    check(
        "suffix",
        suffix_tree(),
        Rule::UnencryptedSuffix("_unencrypted".into()),
        false,
    );
    // A file with no rule in its metadata reads as `_unencrypted`.
    check("suffix", suffix_tree(), Rule::None, false);
}

#[test]
fn mac_only_encrypted_matches_sops() {
    check(
        "mac_only",
        suffix_tree(),
        Rule::UnencryptedSuffix("_unencrypted".into()),
        true,
    );
    // The same leaves without mac_only_encrypted give a different MAC.
    let sel = Selector::new(&Rule::None, false).unwrap();
    assert_ne!(veil_mac(&suffix_tree(), &sel), sops_mac("mac_only"));
}
