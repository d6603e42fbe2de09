//! Unit tests of `.sops.yaml` parsing and key syntax.

use super::*;
use crate::format::Format;
use crate::keys::kind::kms_from_arn;
use crate::keys::KeyRef;
use crate::metadata::Rule;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const AGE1: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
const AGE2: &str = "age1t9dl5rj5qm78v67sk5zk8k5x5mv8jqdppdayzmkcyn3kwsfkce9q4vwpau";

fn conf(text: &str) -> Config {
    Config::parse(text, Path::new("/proj/.sops.yaml")).unwrap()
}

#[test]
fn vault_uris() {
    assert_eq!(
        parse_vault_uri("https://vault.example.com:8200/v1/transit/keys/k1").unwrap(),
        KeyRef::HcVault {
            address: "https://vault.example.com:8200".into(),
            engine_path: "transit".into(),
            key_name: "k1".into()
        }
    );
    assert_eq!(
        parse_vault_uri("http://127.0.0.1:8200/v1/my/nested/transit/keys/key").unwrap(),
        KeyRef::HcVault {
            address: "http://127.0.0.1:8200".into(),
            engine_path: "my/nested/transit".into(),
            key_name: "key".into()
        }
    );
    let e = parse_vault_uri("https://vault.example.com/prefix/v1/transit/keys/k").unwrap_err();
    assert!(
        e.message
            .starts_with("running Vault with a prefixed URL is not supported!"),
        "{}",
        e.message
    );
    assert!(parse_vault_uri("vault.example.com:8200/v1/transit/keys/k")
        .unwrap_err()
        .message
        .starts_with("missing scheme"));
    assert!(parse_vault_uri("https://vault.example.com:8200/v1/transit")
        .unwrap_err()
        .message
        .starts_with("vault path does not"));
    assert!(parse_vault_uri("https://h/v1/t/keys/k?x=1").is_ok());
}

#[test]
fn azure_urls() {
    assert_eq!(
        parse_azure_url(" https://v.vault.azure.net/keys/name/abc123 ").unwrap(),
        KeyRef::AzureKv {
            vault_url: "https://v.vault.azure.net".into(),
            name: "name".into(),
            version: "abc123".into()
        }
    );
    assert_eq!(
        parse_azure_url("https://v.vault.azure.net/keys/name").unwrap(),
        KeyRef::AzureKv {
            vault_url: "https://v.vault.azure.net".into(),
            name: "name".into(),
            version: "".into()
        }
    );
    assert!(parse_azure_url("https://v.vault.azure.net/keys/name/").is_ok());
    assert!(parse_azure_url("http://v/keys/name").is_err());
    assert!(parse_azure_url("https://v/secrets/name").is_err());
    assert!(parse_azure_url("https://v/keys/a/b/c").is_err());
}

#[test]
fn kms_role_and_spaces() {
    let k = kms_from_arn(
        "arn:aws:kms:us-east-1:1:key/abc + arn:aws:iam::1:role/r",
        &BTreeMap::new(),
        "prof",
    );
    assert_eq!(
        k,
        KeyRef::Kms {
            arn: "arn:aws:kms:us-east-1:1:key/abc".into(),
            role: "arn:aws:iam::1:role/r".into(),
            context: BTreeMap::new(),
            aws_profile: "prof".into()
        }
    );
}

#[test]
fn kms_roles_split_in_every_partition() {
    for (key, role) in [
        (
            "arn:aws-cn:kms:cn-north-1:1:key/abc",
            "arn:aws-cn:iam::1:role/r",
        ),
        (
            "arn:aws-us-gov:kms:us-gov-west-1:1:alias/a",
            "arn:aws-us-gov:iam::1:role/r",
        ),
    ] {
        let k = kms_from_arn(&format!("{key}+{role}"), &BTreeMap::new(), "");
        assert_eq!(
            k,
            KeyRef::Kms {
                arn: key.into(),
                role: role.into(),
                context: BTreeMap::new(),
                aws_profile: String::new()
            }
        );
    }
}

#[test]
fn hckms_ids() {
    assert!(parse_hckms("cn-north-4:0f1e").is_ok());
    assert!(parse_hckms("nocolon")
        .unwrap_err()
        .message
        .starts_with("invalid key ID format"));
    assert!(parse_hckms(":x")
        .unwrap_err()
        .message
        .starts_with("region cannot be empty"));
    assert!(parse_hckms("r: ")
        .unwrap_err()
        .message
        .starts_with("key UUID cannot be empty"));
}

#[test]
fn encryption_context() {
    let m = parse_encryption_context(Some("a:b,c:d")).unwrap();
    assert_eq!(m.get("c").map(String::as_str), Some("d"));
    assert!(parse_encryption_context(Some("")).unwrap().is_empty());
    let e = parse_encryption_context(Some("a:b:c")).unwrap_err();
    assert_eq!(e.code, Code::InvalidKmsEncryptionContextFormat);
    assert_eq!(e.message, "Invalid KMS encryption context format");
    assert!(parse_encryption_context(Some("ab")).is_err());
}

#[test]
fn flat_keys_as_string_or_list() {
    let c = conf(&format!(
        "creation_rules:\n  - age: \"{AGE1}, {AGE2},\"\n    pgp: [\"AB CD\", EF]\n    kms: arn1+arn:aws:iam::1:role/r,arn2\n    aws_profile: p\n    gcp_kms: [projects/p/k]\n"
    ));
    let r = c.rule_for(Path::new("/proj/x.yaml")).unwrap().unwrap();
    assert!(r.flat);
    assert_eq!(r.key_groups.len(), 1);
    let kinds: Vec<_> = r.key_groups[0].iter().map(KeyRef::kind).collect();
    assert_eq!(kinds, ["age", "age", "pgp", "pgp", "kms", "kms", "gcp_kms"]);
    assert_eq!(
        r.key_groups[0][2],
        KeyRef::Pgp {
            fingerprint: "ABCD".into()
        }
    );
    assert!(
        matches!(&r.key_groups[0][4], KeyRef::Kms { role, aws_profile, .. } if role == "arn:aws:iam::1:role/r" && aws_profile == "p")
    );
}

#[test]
fn invalid_key_types_are_errors() {
    let c = conf("creation_rules:\n  - age: {a: b}\n");
    let e = c.rule_for(Path::new("/proj/x")).unwrap_err();
    assert!(
        e.message.starts_with("invalid age key configuration"),
        "{}",
        e.message
    );
    let c = conf("creation_rules:\n  - age: not-a-recipient\n");
    assert!(c
        .rule_for(Path::new("/proj/x"))
        .unwrap_err()
        .message
        .starts_with("failed to parse input, unknown recipient type"));
}

#[test]
fn yaml_anchors_and_merge_keys() {
    let c = conf(&format!(
        "keys:\n  - &a {AGE1}\nbase: &base\n  encrypted_regex: ^data$\n  key_groups:\n    - age: [*a]\ncreation_rules:\n  - <<: *base\n    path_regex: x\n"
    ));
    let r = c.rule_for(Path::new("/proj/x")).unwrap().unwrap();
    assert_eq!(r.rule, Rule::EncryptedRegex("^data$".into()));
    assert_eq!(
        r.key_groups,
        vec![vec![KeyRef::Age {
            recipient: AGE1.into()
        }]]
    );
}

#[test]
fn stores_indent() {
    let c = conf("stores:\n  yaml:\n    indent: 2\n  json:\n    indent: 0\n");
    assert_eq!(c.stores.emit_options(Format::Yaml).indent, Some(2));
    assert_eq!(c.stores.emit_options(Format::Json).indent, Some(0));
    assert_eq!(c.stores.emit_options(Format::Binary).indent, None);
    assert!(!c.has_creation_rules());
    assert!(Config::parse("stores:\n  yaml:\n    indent: -1\n", Path::new("/c")).is_err());
    assert!(Config::parse("stores:\n  json:\n    indent: -2\n", Path::new("/c")).is_err());
    assert!(Config::parse("stores:\n  json:\n    indent: -1\n", Path::new("/c")).is_ok());
    assert!(StoresConfig::default().with_indent(-1).is_err());
    assert_eq!(
        StoresConfig::default().emit_options(Format::Yaml).indent,
        None
    );
}

#[test]
fn parse_errors() {
    let e = Config::parse("creation_rules: [\n", Path::new("/c")).unwrap_err();
    assert!(
        e.message
            .starts_with("error loading config: Could not unmarshal config file:"),
        "{}",
        e.message
    );
    assert!(Config::parse("- a\n", Path::new("/c")).is_err());
    assert!(Config::parse("a: 1\na: 2\n", Path::new("/c")).is_err());
    assert!(Config::parse("", Path::new("/c")).is_ok());
    assert!(Config::parse("creation_rules: 5\n", Path::new("/c")).is_err());
}

#[test]
fn absolute_paths_are_cleaned() {
    assert_eq!(
        absolute_clean(Path::new("../a/./b"), Path::new("/x/y")),
        PathBuf::from("/x/a/b")
    );
    assert_eq!(
        absolute_clean(Path::new("/../../a"), Path::new("/")),
        PathBuf::from("/a")
    );
}
