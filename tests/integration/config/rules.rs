//! `.sops.yaml` trees in temporary directories: the search from the working directory, rule
//! matching by path, precedence of flags and env defaults, key groups with merge and dedupe,
//! and sops's exact error texts and exit codes.

use crate::support;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use veil::config::{
    find_config, load_config, resolve, CliKeys, Config, CreationRule, EMPTY_KEY_GROUP,
    NO_CONFIG_NO_KEYS, NO_MATCHING_RULE,
};
use veil::error::{Code, Error};
use veil::keys::KeyRef;
use veil::metadata::Rule;

const AGE1: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
const AGE2: &str = "age1t9dl5rj5qm78v67sk5zk8k5x5mv8jqdppdayzmkcyn3kwsfkce9q4vwpau";
const AGE3: &str = "age1qj7z69awlm5s3t6pqjrtzdcuc4zferqrnk7k64nnlgwgvjx5as7snnsehe";

struct Tree {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Tree {
    fn new() -> Tree {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        Tree { _tmp: tmp, root }
    }
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
        p
    }
    fn dir(&self, rel: &str) -> PathBuf {
        let p = self.root.join(rel);
        fs::create_dir_all(&p).unwrap();
        p
    }
    fn config(&self, rel: &str, text: &str) -> Config {
        Config::load(&self.write(rel, text)).unwrap()
    }
}

fn age(r: &str) -> KeyRef {
    KeyRef::Age {
        recipient: r.into(),
    }
}

fn age_cli(r: &str) -> CliKeys {
    CliKeys {
        age: vec![r.into()],
        ..CliKeys::default()
    }
}

fn err(r: Result<CreationRule, Error>) -> Error {
    r.expect_err("expected an error")
}

#[test]
fn search_starts_at_the_working_directory() {
    let t = Tree::new();
    let conf = t.write("proj/.sops.yaml", "creation_rules: []\n");
    let deep = t.dir("proj/deep/er");
    assert_eq!(find_config(None, &deep).path, Some(conf.clone()));
    assert_eq!(find_config(None, &t.root.join("proj")).path, Some(conf));
    // From outside proj (even for a file inside it) nothing is found.
    assert_eq!(find_config(None, &t.dir("other")).path, None);
    // An explicit path is used as given, without a search.
    let explicit = t.write("elsewhere/my.yaml", "{}\n");
    assert_eq!(
        find_config(Some(Path::new("../elsewhere/my.yaml")), &t.dir("other")).path,
        Some(explicit)
    );
}

#[test]
fn sops_yml_is_ignored_with_sops_warning() {
    let t = Tree::new();
    t.write("a/b/.sops.yml", "creation_rules: []\n");
    let found = find_config(None, &t.dir("a/b/c"));
    assert_eq!(found.path, None);
    assert_eq!(
        found.warning.as_deref(),
        Some(
            r#"ignoring "../.sops.yml" when searching for config file; the config file must be called ".sops.yaml""#
        )
    );
    let conf = t.write("a/.sops.yaml", "creation_rules: []\n");
    let found = find_config(None, &t.root.join("a/b"));
    assert_eq!(found.path, Some(conf));
    assert_eq!(
        found.warning.as_deref(),
        Some(
            r#"ignoring ".sops.yml" when searching for config file; the config file must be called ".sops.yaml"; using "../.sops.yaml" instead"#
        )
    );
    // The real .sops.yaml next to the .sops.yml wins silently.
    t.write("a/b/.sops.yaml", "creation_rules: []\n");
    assert_eq!(find_config(None, &t.root.join("a/b")).warning, None);
}

#[test]
fn load_config_reports_unreadable_explicit_paths() {
    let t = Tree::new();
    let (c, w) = load_config(None, &t.root).unwrap();
    assert!(c.is_none() && w.is_none());
    let e = load_config(Some(Path::new("missing.yaml")), &t.root).unwrap_err();
    assert_eq!(e.code, Code::Generic);
    assert!(
        e.message.starts_with("could not read config file"),
        "{}",
        e.message
    );
}

#[test]
fn rules_match_the_path_relative_to_the_config_dir_first_match_wins() {
    let t = Tree::new();
    let conf = t.config(
        "proj/.sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: ^sub/.*\\.yaml$\n    age: {AGE1}\n  - path_regex: \\.yaml$\n    age: {AGE2}\n  - age: {AGE3}\n"
        ),
    );
    let keys = |rel: &str| {
        resolve(&CliKeys::default(), Some(&conf), &t.root.join(rel))
            .unwrap()
            .key_groups
    };
    assert_eq!(keys("proj/sub/a.yaml"), vec![vec![age(AGE1)]]);
    // Anchored at the config dir: proj/x/sub/a.yaml is "x/sub/a.yaml".
    assert_eq!(keys("proj/x/sub/a.yaml"), vec![vec![age(AGE2)]]);
    assert_eq!(keys("proj/sub/a.json"), vec![vec![age(AGE3)]]);
    // A file outside the config dir is matched on its absolute path.
    let outside = t.root.join("sub/a.yaml");
    assert_eq!(keys("sub/a.yaml"), vec![vec![age(AGE2)]]);
    assert_eq!(conf.match_path(&outside), outside.to_string_lossy());
    // `..` in the target is resolved before matching.
    assert_eq!(keys("proj/other/../sub/b.yaml"), vec![vec![age(AGE1)]]);
}

#[test]
fn no_matching_rule_is_sops_error_even_with_key_flags() {
    let t = Tree::new();
    let conf = t.config(
        "p/.sops.yaml",
        &format!("creation_rules:\n  - path_regex: nomatch\n    age: {AGE1}\n"),
    );
    for cli in [CliKeys::default(), age_cli(AGE2)] {
        let e = err(resolve(&cli, Some(&conf), &t.root.join("p/f.yaml")));
        assert_eq!(e.message, NO_MATCHING_RULE);
        assert_eq!(
            e.message,
            "error loading config: no matching creation rules found"
        );
        assert_eq!(e.code, Code::Generic);
        assert!(e.hint.is_some());
    }
    // An empty list of rules matches nothing either.
    let conf = t.config("q/.sops.yaml", "creation_rules: []\n");
    assert_eq!(
        err(resolve(
            &CliKeys::default(),
            Some(&conf),
            &t.root.join("q/f")
        ))
        .message,
        NO_MATCHING_RULE
    );
}

#[test]
fn no_config_and_no_keys() {
    let t = Tree::new();
    let e = err(resolve(&CliKeys::default(), None, &t.root.join("f.yaml")));
    assert_eq!(
        e.message,
        "config file not found, or has no creation rules, and no keys provided through command line options"
    );
    assert_eq!(e.message, NO_CONFIG_NO_KEYS);
    assert_eq!(e.code.exit_code(), 1);
    // A config without creation_rules counts as no config.
    let conf = t.config(".sops.yaml", "stores:\n  yaml:\n    indent: 2\n");
    assert_eq!(
        err(resolve(
            &CliKeys::default(),
            Some(&conf),
            &t.root.join("f.yaml")
        ))
        .message,
        NO_CONFIG_NO_KEYS
    );
    let conf = t.config("n/.sops.yaml", "creation_rules:\n");
    assert_eq!(
        err(resolve(
            &CliKeys::default(),
            Some(&conf),
            &t.root.join("n/f")
        ))
        .message,
        NO_CONFIG_NO_KEYS
    );
    // ... while keys from the command line are enough.
    let r = resolve(&age_cli(AGE1), None, &t.root.join("f.yaml")).unwrap();
    assert_eq!(r.key_groups, vec![vec![age(AGE1)]]);
    assert_eq!(r.rule, Rule::UnencryptedSuffix("_unencrypted".into()));
    assert!(!r.mac_only_encrypted);
}

#[test]
fn key_flags_and_env_defaults_replace_config_keys() {
    let t = Tree::new();
    let conf = t.config(
        ".sops.yaml",
        &format!("creation_rules:\n  - key_groups:\n    - age: [{AGE1}]\n    - age: [{AGE2}]\n    encrypted_suffix: _enc\n"),
    );
    let f = t.root.join("f.yaml");
    let r = resolve(&age_cli(AGE3), Some(&conf), &f).unwrap();
    assert_eq!(r.key_groups, vec![vec![age(AGE3)]]);
    // Rules still come from the config.
    assert_eq!(r.rule, Rule::EncryptedSuffix("_enc".into()));
    // SOPS_AGE_RECIPIENTS is the default of --age, so it replaces the config's keys too...
    let env = |name: &str| (name == "SOPS_AGE_RECIPIENTS").then(|| format!("{AGE3},{AGE1}"));
    let cli = CliKeys::default().with_env_defaults(env);
    assert_eq!(
        resolve(&cli, Some(&conf), &f).unwrap().key_groups,
        vec![vec![age(AGE3), age(AGE1)]]
    );
    // ... but a flag beats its env default.
    let cli = age_cli(AGE2).with_env_defaults(env);
    assert_eq!(cli.age, vec![AGE2.to_string()]);
    // No flags, no env: the config's groups, threshold defaulting to the number of groups.
    let r = resolve(
        &CliKeys::default().with_env_defaults(|_| None),
        Some(&conf),
        &f,
    )
    .unwrap();
    assert_eq!(r.key_groups, vec![vec![age(AGE1)], vec![age(AGE2)]]);
    assert_eq!(r.shamir_threshold, 2);
}

#[test]
fn flag_group_order_is_sops_order() {
    let cli = CliKeys {
        age: vec![AGE1.into()],
        hc_vault_transit: vec!["https://v:8200/v1/transit/keys/k".into()],
        pgp: vec!["FP1, FP2".into(), "FP3".into()],
        azure_kv: vec!["https://kv.vault.azure.net/keys/n/v".into()],
        hckms: vec!["cn-north-4:abc".into()],
        gcp_kms: vec!["projects/p/locations/l/keyRings/r/cryptoKeys/k".into()],
        kms: vec!["arn:aws:kms:us-east-1:1:key/k+arn:aws:iam::1:role/r".into()],
        aws_profile: Some("prof".into()),
        encryption_context: Some("env:prod".into()),
        ..CliKeys::default()
    };
    let r = resolve(&cli, None, Path::new("/x/f.yaml")).unwrap();
    let kinds: Vec<&str> = r.key_groups[0].iter().map(KeyRef::kind).collect();
    assert_eq!(
        kinds,
        ["kms", "gcp_kms", "hckms", "azure_kv", "pgp", "pgp", "pgp", "hc_vault", "age"]
    );
    let ctx: BTreeMap<String, String> = [("env".to_string(), "prod".to_string())].into();
    assert_eq!(
        r.key_groups[0][0],
        KeyRef::Kms {
            arn: "arn:aws:kms:us-east-1:1:key/k".into(),
            role: "arn:aws:iam::1:role/r".into(),
            context: ctx,
            aws_profile: "prof".into()
        }
    );
}

#[test]
fn rule_flags_override_one_by_one_and_conflicts_exit_8() {
    let t = Tree::new();
    let conf = t.config(
        ".sops.yaml",
        &format!("creation_rules:\n  - age: {AGE1}\n    encrypted_regex: ^data$\n    mac_only_encrypted: true\n"),
    );
    let f = t.root.join("s.yaml");
    // The same field: the flag wins.
    let cli = CliKeys {
        encrypted_regex: Some("^(data|stringData)$".into()),
        ..CliKeys::default()
    };
    let r = resolve(&cli, Some(&conf), &f).unwrap();
    assert_eq!(r.rule, Rule::EncryptedRegex("^(data|stringData)$".into()));
    assert!(r.mac_only_encrypted);
    // A different field: both set, exit 8 with sops's text.
    let cli = CliKeys {
        unencrypted_suffix: Some("_u".into()),
        ..CliKeys::default()
    };
    let e = err(resolve(&cli, Some(&conf), &f));
    assert_eq!(e.code, Code::ConflictingParameters);
    assert_eq!(e.code.exit_code(), 8);
    assert_eq!(
        e.message,
        "Error: cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, \
         unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the same file"
    );
    // Two flags at once, without any config.
    let cli = CliKeys {
        age: vec![AGE1.into()],
        encrypted_suffix: Some("_e".into()),
        unencrypted_comment_regex: Some("x".into()),
        ..CliKeys::default()
    };
    assert_eq!(
        err(resolve(&cli, None, &f)).code,
        Code::ConflictingParameters
    );
    // Empty flag values count as unset.
    let cli = CliKeys {
        unencrypted_suffix: Some(String::new()),
        ..CliKeys::default()
    };
    assert!(resolve(&cli, Some(&conf), &f).is_ok());
}

#[test]
fn two_rules_in_one_config_entry_is_a_load_error() {
    let t = Tree::new();
    let conf = t.config(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - age: {AGE1}\n    encrypted_regex: x\n    unencrypted_suffix: y\n"
        ),
    );
    let e = err(resolve(&CliKeys::default(), Some(&conf), &t.root.join("f")));
    // Verified against sops 3.11: exit 1 (a config load error), not 8.
    assert_eq!(e.code, Code::Generic);
    assert_eq!(
        e.message,
        "error loading config: cannot use more than one of encrypted_suffix, unencrypted_suffix, \
         encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex for the same rule"
    );
}

#[test]
fn key_groups_merge_recursively_and_dedupe() {
    let t = Tree::new();
    let conf = t.config(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [{AGE1}]\n        pgp: [FP1]\n        merge:\n          - age: [\"{AGE2}, {AGE1}\"]\n            merge:\n              - pgp: [FP1, FP2]\n                kms:\n                  - arn: arn:aws:kms:eu-west-1:1:key/a\n                    role: arn:aws:iam::1:role/r\n                    context: {{app: web}}\n                    aws_profile: p\n                  - arn: arn:aws:kms:eu-west-1:1:key/a\n      - gcp_kms: [{{resource_id: projects/p/cryptoKeys/k}}]\n        azure_keyvault: [{{vaultUrl: \"https://kv.vault.azure.net\", key: n, version: v1}}]\n        hc_vault: [\"https://vault:8200/v1/a/b/keys/k\"]\n        hckms: [{{key_id: \"cn-north-4:u\"}}]\n        hc_vault_transit_uri: [ignored-unknown-key]\n      - age: [{AGE3}]\n"
        ),
    );
    let r = resolve(&CliKeys::default(), Some(&conf), &t.root.join("f")).unwrap();
    assert_eq!(r.shamir_threshold, 2);
    assert_eq!(r.key_groups.len(), 3);
    let ctx: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
    assert_eq!(
        r.key_groups[0],
        vec![
            // merge comes first (depth first), then the group's own keys; duplicates dropped.
            KeyRef::Pgp {
                fingerprint: "FP1".into()
            },
            KeyRef::Pgp {
                fingerprint: "FP2".into()
            },
            KeyRef::Kms {
                arn: "arn:aws:kms:eu-west-1:1:key/a".into(),
                role: "arn:aws:iam::1:role/r".into(),
                context: ctx,
                aws_profile: "p".into()
            },
            age(AGE2),
            age(AGE1),
        ]
    );
    assert_eq!(
        r.key_groups[1],
        vec![
            KeyRef::GcpKms {
                resource_id: "projects/p/cryptoKeys/k".into()
            },
            KeyRef::Hckms {
                key_id: "cn-north-4:u".into()
            },
            KeyRef::AzureKv {
                vault_url: "https://kv.vault.azure.net".into(),
                name: "n".into(),
                version: "v1".into()
            },
            KeyRef::HcVault {
                address: "https://vault:8200".into(),
                engine_path: "a/b".into(),
                key_name: "k".into()
            },
        ]
    );
    assert_eq!(r.key_groups[2], vec![age(AGE3)]);
}

#[test]
fn flat_keys_take_the_cli_encryption_context() {
    let t = Tree::new();
    let conf = t.config(
        ".sops.yaml",
        "creation_rules:\n  - kms: arn:aws:kms:us-east-1:1:key/a\n    aws_profile: dev\n    azure_keyvault: https://kv.vault.azure.net/keys/n\n    hc_vault_transit_uri: https://v:8200/v1/transit/keys/k\n",
    );
    let f = t.root.join("f");
    let cli = CliKeys {
        encryption_context: Some("a:b,c:d".into()),
        ..CliKeys::default()
    };
    let r = resolve(&cli, Some(&conf), &f).unwrap();
    let KeyRef::Kms {
        context,
        aws_profile,
        ..
    } = &r.key_groups[0][0]
    else {
        panic!("not kms")
    };
    assert_eq!(context.len(), 2);
    assert_eq!(aws_profile, "dev");
    assert_eq!(
        r.key_groups[0][1],
        KeyRef::AzureKv {
            vault_url: "https://kv.vault.azure.net".into(),
            name: "n".into(),
            version: String::new()
        }
    );
    assert_eq!(r.key_groups[0][2].kind(), "hc_vault");
    // A malformed context is exit 6, before any key is looked at.
    let cli = CliKeys {
        encryption_context: Some("novalue".into()),
        ..CliKeys::default()
    };
    let e = err(resolve(&cli, Some(&conf), &f));
    assert_eq!(e.code, Code::InvalidKmsEncryptionContextFormat);
    assert_eq!(e.code.exit_code(), 6);
    assert_eq!(e.message, "Invalid KMS encryption context format");
}

#[test]
fn empty_key_groups_give_sops_error() {
    let t = Tree::new();
    for (i, rule) in [
        "  - key_groups: []\n".to_string(),
        "  - key_groups:\n      - {}\n".to_string(),
        format!("  - key_groups:\n      - {{}}\n      - age: [{AGE1}]\n"),
        "  - path_regex: ''\n".to_string(),
        "  - age: ''\n    pgp: []\n".to_string(),
    ]
    .iter()
    .enumerate()
    {
        let conf = t.config(
            &format!("c{i}/.sops.yaml"),
            &format!("creation_rules:\n{rule}"),
        );
        let e = err(resolve(
            &CliKeys::default(),
            Some(&conf),
            &t.root.join(format!("c{i}/f")),
        ));
        assert_eq!(
            e.message, "Could not generate data key: [empty key group provided]",
            "case {i}"
        );
        assert_eq!(e.message, EMPTY_KEY_GROUP);
        assert_eq!(e.code, Code::Generic);
    }
}

#[test]
fn shamir_threshold_checks_use_sops_texts() {
    let t = Tree::new();
    let conf = t.config(
        ".sops.yaml",
        &format!("creation_rules:\n  - shamir_threshold: 3\n    key_groups:\n      - age: [{AGE1}]\n      - age: [{AGE2}]\n"),
    );
    let f = t.root.join("f");
    let e = err(resolve(&CliKeys::default(), Some(&conf), &f));
    assert_eq!(
        e.message,
        "Could not generate data key: [could not split data key into parts for Shamir: parts cannot be less than threshold]"
    );
    // A non-zero flag overrides the config.
    let cli = CliKeys {
        shamir_threshold: 2,
        ..CliKeys::default()
    };
    assert_eq!(resolve(&cli, Some(&conf), &f).unwrap().shamir_threshold, 2);
    let cli = CliKeys {
        shamir_threshold: 1,
        ..CliKeys::default()
    };
    assert_eq!(
        err(resolve(&cli, Some(&conf), &f)).message,
        "Could not generate data key: [could not split data key into parts for Shamir: threshold must be at least 2]"
    );
    // One group: the threshold is not used, so it is not checked.
    let cli = CliKeys {
        shamir_threshold: 5,
        ..age_cli(AGE1)
    };
    assert_eq!(resolve(&cli, Some(&conf), &f).unwrap().shamir_threshold, 5);
}

#[test]
fn stores_come_from_the_config() {
    let t = Tree::new();
    let conf = t.config(
        ".sops.yaml",
        "stores:\n  yaml:\n    indent: 2\n  json:\n    indent: 4\n  json_binary:\n    indent: 0\n",
    );
    assert_eq!(conf.stores.yaml_indent, 2);
    assert_eq!(
        conf.stores.emit_options(veil::format::Format::Json).indent,
        Some(4)
    );
    assert_eq!(
        conf.stores
            .emit_options(veil::format::Format::Binary)
            .indent,
        Some(0)
    );
    let e =
        Config::load(&t.write("bad/.sops.yaml", "stores:\n  yaml:\n    indent: -2\n")).unwrap_err();
    assert!(
        e.message.contains("YAML Negative indentation not accepted"),
        "{}",
        e.message
    );
}

/// The rule sops picks for a path is the rule veil picks (when the real sops is installed).
#[test]
fn rule_choice_agrees_with_real_sops() {
    if !support::require_peer("sops") {
        return;
    }
    let sops = support::peer_path("sops").expect("checked above");
    let t = Tree::new();
    let conf = t.config(
        "proj/.sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: ^sub/.*\\.yaml$\n    age: {AGE1}\n  - path_regex: deep\n    age: {AGE2}\n  - age: {AGE3}\n"
        ),
    );
    let deep = t.dir("proj/deep/er");
    for (rel, want) in [
        ("proj/sub/a.yaml", AGE1),
        ("proj/deep/er/b.yaml", AGE2),
        ("proj/c.yaml", AGE3),
    ] {
        let file = t.write(rel, "k: v\n");
        let out = std::process::Command::new(&sops)
            .current_dir(&deep)
            .env("SOPS_DISABLE_VERSION_CHECK", "1")
            .args(["encrypt"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains(&format!("recipient: {want}")),
            "sops chose another rule for {rel}"
        );
        let found = find_config(None, &deep).path.unwrap();
        assert_eq!(found, conf.path);
        let ours = resolve(&CliKeys::default(), Some(&conf), &file).unwrap();
        assert_eq!(ours.key_groups, vec![vec![age(want)]], "{rel}");
    }
}

/// Verified with sops 3.11: merge is flattened depth first before the group's own keys, the
/// group is deduplicated, and flat fields keep duplicates.
#[test]
fn merge_order_and_duplicates_as_sops_writes_them() {
    let t = Tree::new();
    let conf = t.config(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - key_groups:\n      - age: [{AGE3}]\n        merge:\n          - age: [\"{AGE2}, {AGE1}\"]\n            merge:\n              - age: [{AGE1}, {AGE3}]\n      - age: [{AGE1}]\n"
        ),
    );
    let r = resolve(&CliKeys::default(), Some(&conf), &t.root.join("f")).unwrap();
    assert_eq!(
        r.key_groups,
        vec![vec![age(AGE1), age(AGE3), age(AGE2)], vec![age(AGE1)]]
    );
    let conf = t.config(
        "flat/.sops.yaml",
        &format!("creation_rules:\n  - age: \"{AGE1},{AGE1}\"\n"),
    );
    let r = resolve(&CliKeys::default(), Some(&conf), &t.root.join("flat/f")).unwrap();
    assert_eq!(r.key_groups, vec![vec![age(AGE1), age(AGE1)]]);
}
