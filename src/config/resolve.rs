//! The command line against the config: the key and rule flags with their `SOPS_*` defaults,
//! and the precedence sops's `encrypt` applies when it merges them with the matched rule.

use super::*;
use crate::error::Result;
use crate::keys::kind::{self, KeyKind, ParseOptions};
use crate::keys::KeyRef;
use crate::metadata::Rule;
use std::collections::BTreeMap;
use std::path::Path;

/// The key and rule flags of `encrypt` (and of editing a new file), with their env defaults.
/// Each key list holds the flag's values as given: every entry may be comma-separated, and
/// veil accepts the flag more than once (sops keeps only the last).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CliKeys {
    /// `--kms` / `SOPS_KMS_ARN`: ARNs, optionally `+arn:aws:iam::…:role/…`.
    pub kms: Vec<String>,
    /// `--aws-profile`, for the `--kms` keys (and the config's flat `kms` keys).
    pub aws_profile: Option<String>,
    /// `--encryption-context k:v,k2:v2`, for `--kms` keys and the config's flat `kms` keys.
    pub encryption_context: Option<String>,
    /// `--gcp-kms` / `SOPS_GCP_KMS_IDS`.
    pub gcp_kms: Vec<String>,
    /// `--hckms` / `SOPS_HUAWEICLOUD_KMS_IDS`.
    pub hckms: Vec<String>,
    /// `--azure-kv` / `SOPS_AZURE_KEYVAULT_URLS`.
    pub azure_kv: Vec<String>,
    /// `--pgp` / `SOPS_PGP_FP`.
    pub pgp: Vec<String>,
    /// `--hc-vault-transit` / `SOPS_VAULT_URIS`.
    pub hc_vault_transit: Vec<String>,
    /// `--age` / `SOPS_AGE_RECIPIENTS`.
    pub age: Vec<String>,
    pub unencrypted_suffix: Option<String>,
    pub encrypted_suffix: Option<String>,
    pub unencrypted_regex: Option<String>,
    pub encrypted_regex: Option<String>,
    pub unencrypted_comment_regex: Option<String>,
    pub encrypted_comment_regex: Option<String>,
    /// `--mac-only-encrypted` (sops ORs it with the config's).
    pub mac_only_encrypted: bool,
    /// `--integrity`: write veil's integrity field.
    pub integrity: bool,
    /// `--shamir-secret-sharing-threshold` (0 = not given).
    pub shamir_threshold: usize,
}

fn nonempty(v: &[String]) -> bool {
    v.iter().any(|s| !s.trim().is_empty())
}

impl CliKeys {
    /// Each key flag's values with the name of its kind in the key registry. A new kind adds
    /// its flag field here; what the values mean comes from the registry.
    fn slots_mut(&mut self) -> [(&'static str, &mut Vec<String>); 7] {
        [
            ("kms", &mut self.kms),
            ("gcp_kms", &mut self.gcp_kms),
            ("hckms", &mut self.hckms),
            ("azure_kv", &mut self.azure_kv),
            ("pgp", &mut self.pgp),
            ("hc_vault", &mut self.hc_vault_transit),
            ("age", &mut self.age),
        ]
    }

    /// The values given for the key flag of `kind`.
    fn values(&self, kind: &dyn KeyKind) -> &[String] {
        match kind.name() {
            "kms" => &self.kms,
            "gcp_kms" => &self.gcp_kms,
            "hckms" => &self.hckms,
            "azure_kv" => &self.azure_kv,
            "pgp" => &self.pgp,
            "hc_vault" => &self.hc_vault_transit,
            "age" => &self.age,
            _ => &[],
        }
    }

    /// Fill each key flag that was not given from its environment variable (sops's flag
    /// defaults, the kind's [`KeyKind::env_var`]). `get` reads a variable (e.g. `crate::env::var`).
    pub fn with_env_defaults(mut self, get: impl Fn(&str) -> Option<String>) -> CliKeys {
        for (name, slot) in self.slots_mut() {
            let Some(kind) = kind::named(name) else {
                continue;
            };
            if !nonempty(slot) {
                if let Some(v) = get(kind.env_var()).filter(|v| !v.is_empty()) {
                    *slot = vec![v];
                }
            }
        }
        self
    }

    /// Whether any key flag (or its env default) names a key: then the config's keys are ignored.
    pub fn has_keys(&self) -> bool {
        kind::in_flag_order()
            .into_iter()
            .any(|k| nonempty(self.values(k)))
    }

    /// The one key group the flags describe, in the registry's flag order (sops's: kms,
    /// gcp_kms, hckms, azure_kv, pgp, hc_vault, age).
    pub fn key_group(&self) -> Result<Vec<KeyRef>> {
        let context = parse_encryption_context(self.encryption_context.as_deref())?;
        let opts = ParseOptions {
            encryption_context: Some(&context),
            aws_profile: self.aws_profile.as_deref().unwrap_or(""),
        };
        let mut g: Vec<KeyRef> = Vec::new();
        for kind in kind::in_flag_order() {
            for t in self
                .values(kind)
                .iter()
                .flat_map(|s| s.split(','))
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                g.push(kind.parse(t, &opts)?);
            }
        }
        Ok(g)
    }
}

/// `--encryption-context k:v,k2:v2` (sops's `ParseKMSContext`). Empty means none; a pair that
/// is not exactly `key:value` is exit code 6.
pub fn parse_encryption_context(s: Option<&str>) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let Some(s) = s.filter(|s| !s.is_empty()) else {
        return Ok(out);
    };
    for kv in s.split(',') {
        let parts: Vec<&str> = kv.split(':').collect();
        if parts.len() != 2 {
            return Err(Error::new(
                Code::InvalidKmsEncryptionContextFormat,
                "Invalid KMS encryption context format",
            )
            .hint(
                "write the context as key:value pairs separated by commas, e.g. env:prod,app:web",
            ));
        }
        out.insert(parts[0].to_string(), parts[1].to_string());
    }
    Ok(out)
}

/// What a new file is encrypted with: key groups, threshold, rule and MAC scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreationRule {
    pub key_groups: Vec<Vec<KeyRef>>,
    /// With several groups: the threshold, defaulted to the number of groups. With one group:
    /// the value given (0 when none), which sops ignores.
    pub shamir_threshold: usize,
    /// The merged rule. When neither flags nor config set one, this is sops's default
    /// `UnencryptedSuffix("_unencrypted")`, which sops writes into the file (the binary store
    /// writes no rule: the caller turns it into [`Rule::None`] there).
    pub rule: Rule,
    pub mac_only_encrypted: bool,
    /// Write veil's integrity field: `--integrity`, the rule's `veil_integrity: true`, or
    /// `VEIL_REQUIRE_INTEGRITY=1` (the caller adds that one).
    pub integrity: bool,
}

impl CreationRule {
    /// The checks sops makes when it generates the data key (Shamir parameters, empty groups),
    /// with its exact texts. [`resolve`] calls this; it is public for rules built elsewhere.
    pub fn check_groups(&self) -> Result<()> {
        let n = self.key_groups.len();
        let data_key_error = |msg: String| {
            Error::new(
                Code::Generic,
                format!("Could not generate data key: [{msg}]"),
            )
        };
        if n == 0 {
            return Err(data_key_error("no key groups provided".into()).hint(
                "name at least one key: --age, --pgp, --kms… or a creation rule in .sops.yaml",
            ));
        }
        if n > 1 {
            let shamir = |m: &str| format!("could not split data key into parts for Shamir: {m}");
            let t = self.shamir_threshold;
            let hint =
                format!("shamir_threshold must be between 2 and the number of key groups ({n})");
            if n < t {
                return Err(
                    data_key_error(shamir("parts cannot be less than threshold")).hint(hint),
                );
            }
            if n > 255 {
                return Err(data_key_error(shamir("parts cannot exceed 255"))
                    .hint("use at most 255 key groups"));
            }
            if t < 2 {
                return Err(data_key_error(shamir("threshold must be at least 2")).hint(hint));
            }
        }
        if self.key_groups.iter().any(Vec::is_empty) {
            return Err(Error::new(Code::Generic, EMPTY_KEY_GROUP)
                .hint("every key group needs at least one key (check key_groups in .sops.yaml)"));
        }
        Ok(())
    }
}

/// Merge the command line with the config rule for `target_path`, as sops's `encrypt` does:
///
/// 1. the config rule for the path (its errors first, even when key flags are given);
/// 2. rule flags override the config's fields one by one; more than one rule → exit 8;
/// 3. `--encryption-context` is checked (exit 6);
/// 4. any key flag → one group from the flags, the config's keys ignored; else the config's
///    groups; else sops's "config file not found…" error;
/// 5. a non-zero threshold flag overrides the config's; 0 with several groups → their number;
/// 6. [`CreationRule::check_groups`].
pub fn resolve(cli: &CliKeys, config: Option<&Config>, target_path: &Path) -> Result<CreationRule> {
    let target = if target_path.is_absolute() {
        absolute_clean(target_path, Path::new("/"))
    } else {
        let cwd = std::env::current_dir()?;
        absolute_clean(target_path, &cwd)
    };
    let conf_rule = match config {
        Some(c) => c.rule_for(&target)?,
        None => None,
    };

    // 2. Rule fields: each flag overrides its own config field (matched by metadata name).
    let conf_field = conf_rule.as_ref().and_then(|r| r.rule.field());
    let pick = |flag: &Option<String>, name: &str, make: fn(String) -> Rule| {
        flag.clone()
            .filter(|s| !s.is_empty())
            .or_else(|| {
                conf_field
                    .filter(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            })
            .map(make)
    };
    let candidates = [
        pick(
            &cli.unencrypted_suffix,
            "unencrypted_suffix",
            Rule::UnencryptedSuffix,
        ),
        pick(
            &cli.encrypted_suffix,
            "encrypted_suffix",
            Rule::EncryptedSuffix,
        ),
        pick(
            &cli.unencrypted_regex,
            "unencrypted_regex",
            Rule::UnencryptedRegex,
        ),
        pick(
            &cli.encrypted_regex,
            "encrypted_regex",
            Rule::EncryptedRegex,
        ),
        pick(
            &cli.unencrypted_comment_regex,
            "unencrypted_comment_regex",
            Rule::UnencryptedCommentRegex,
        ),
        pick(
            &cli.encrypted_comment_regex,
            "encrypted_comment_regex",
            Rule::EncryptedCommentRegex,
        ),
    ];
    let mut set: Vec<Rule> = candidates.into_iter().flatten().collect();
    if set.len() > 1 {
        return Err(
            Error::new(Code::ConflictingParameters, CONFLICT_IN_FILE).hint(
                "a flag such as --encrypted-regex replaces only the same field of .sops.yaml; \
             drop the other rule from the flags or the creation rule",
            ),
        );
    }
    let rule = set.pop().unwrap_or_else(|| {
        Rule::UnencryptedSuffix(crate::select::DEFAULT_UNENCRYPTED_SUFFIX.to_string())
    });
    let mac_only_encrypted =
        cli.mac_only_encrypted || conf_rule.as_ref().is_some_and(|r| r.mac_only_encrypted);
    let integrity = cli.integrity || conf_rule.as_ref().is_some_and(|r| r.integrity);

    // 3 + 4. Keys.
    let context = parse_encryption_context(cli.encryption_context.as_deref())?;
    let key_groups = if cli.has_keys() {
        vec![cli.key_group()?]
    } else {
        match &conf_rule {
            Some(r) => {
                let mut groups = r.key_groups.clone();
                if r.flat && !context.is_empty() {
                    for k in groups.iter_mut().flatten() {
                        k.set_encryption_context(&context);
                    }
                }
                groups
            }
            None => {
                return Err(Error::new(Code::Generic, NO_CONFIG_NO_KEYS).hint(
                    "name a key (--age age1…, or SOPS_AGE_RECIPIENTS), or add a .sops.yaml with creation_rules \
                     in this directory or a parent",
                ))
            }
        }
    };

    // 5. Threshold.
    let mut shamir_threshold = if cli.shamir_threshold != 0 {
        cli.shamir_threshold
    } else {
        conf_rule.as_ref().map_or(0, |r| r.shamir_threshold)
    };
    if shamir_threshold == 0 && key_groups.len() > 1 {
        shamir_threshold = key_groups.len();
    }
    let out = CreationRule {
        key_groups,
        shamir_threshold,
        rule,
        mac_only_encrypted,
        integrity,
    };
    out.check_groups()?;
    Ok(out)
}
