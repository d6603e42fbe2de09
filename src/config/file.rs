//! A loaded `.sops.yaml`: parsing the document, and choosing the creation rule that matches a
//! path (first match, on the path relative to the config's directory). Only the matched rule is
//! interpreted ([`super::rules`]), so a malformed rule for other paths does not break this one.

use super::*;
use crate::error::Result;
use crate::keys::KeyRef;
use crate::metadata::Rule;
use saphyr::{YamlLoader, YamlOwned};
use saphyr_parser::Parser;
use std::path::{Path, PathBuf};

/// A loaded `.sops.yaml`.
#[derive(Clone, Debug)]
pub struct Config {
    /// Absolute path of the file.
    pub path: PathBuf,
    /// `None` when the file has no `creation_rules` (sops then acts as if there were no config).
    creation_rules: Option<Vec<Node>>,
    /// `destination_rules`, read by `publish` (`crate::publish::rules`).
    destination_rules: Vec<Node>,
    /// The top-level `veil:` map (veil's policy, read by `crate::policy`); sops ignores it.
    veil: Option<Node>,
    pub stores: StoresConfig,
}

/// The keys, threshold and rule of the creation rule that matched a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigRule {
    /// Index of the matched entry in `creation_rules`.
    pub index: usize,
    pub key_groups: Vec<Vec<KeyRef>>,
    /// The keys came from the flat fields (`age:`, `kms:`…), not `key_groups`: sops gives such
    /// `kms` keys the `--encryption-context` of the command line.
    pub flat: bool,
    pub shamir_threshold: usize,
    /// At most one rule; [`Rule::None`] when the entry sets none.
    pub rule: Rule,
    pub mac_only_encrypted: bool,
    /// veil's own `veil_integrity: true`: files under this rule carry veil's integrity field,
    /// and reading one without it fails. sops ignores the key.
    pub integrity: bool,
}

impl Config {
    /// Read and parse the file at `path`.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            config_error(format!(
                "could not read config file {}: {e}",
                path.display()
            ))
            .hint("check the path given with --config or SOPS_CONFIG")
        })?;
        Config::parse(&text, path)
    }

    /// Parse config text; `path` is where it lives (rules match relative to its directory).
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let unmarshal = |msg: String| {
            config_error(format!(
                "error loading config: Could not unmarshal config file: {msg}"
            ))
            .hint(format!("fix the YAML in {}", path.display()))
        };
        let mut parser = Parser::new_from_str(text);
        let mut loader: YamlLoader<YamlOwned> = YamlLoader::default();
        loader.early_parse(false);
        parser
            .load(&mut loader, true)
            .map_err(|e| unmarshal(e.to_string()))?;
        if let Some(e) = loader.error() {
            return Err(unmarshal(e.to_string()));
        }
        let docs = loader.into_documents();
        let root = match docs.first() {
            Some(d) => Node::from_yaml(d, 0).map_err(unmarshal)?,
            None => Node::Map(Vec::new()),
        };
        if !matches!(root, Node::Map(_)) && !root.is_null() {
            return Err(unmarshal(format!(
                "the document is {}, not a map",
                root.kind()
            )));
        }
        let creation_rules = match root.get("creation_rules") {
            None => None,
            Some(Node::List(rules)) => Some(rules.clone()),
            Some(other) => {
                return Err(unmarshal(format!(
                    "creation_rules is {}, not a list",
                    other.kind()
                )))
            }
        };
        let destination_rules = match root.get("destination_rules") {
            None => Vec::new(),
            Some(Node::List(rules)) => rules.clone(),
            Some(other) => {
                return Err(unmarshal(format!(
                    "destination_rules is {}, not a list",
                    other.kind()
                )))
            }
        };
        let mut stores = StoresConfig::default();
        if let Some(st) = root.get("stores") {
            let indent = |store: &str, slot: &mut i64| -> Result<()> {
                if let Some(n) = st.get(store).and_then(|s| s.get("indent")) {
                    *slot = parse_int(n).ok_or_else(|| {
                        unmarshal(format!("stores.{store}.indent is not an integer"))
                    })?;
                }
                Ok(())
            };
            indent("yaml", &mut stores.yaml_indent)?;
            indent("json", &mut stores.json_indent)?;
            indent("json_binary", &mut stores.json_binary_indent)?;
        }
        stores.validate()?;
        let abs = std::env::current_dir()
            .map(|cwd| absolute_clean(path, &cwd))
            .unwrap_or_else(|_| path.to_path_buf());
        let veil = root.get("veil").cloned();
        Ok(Config {
            path: abs,
            creation_rules,
            destination_rules,
            veil,
            stores,
        })
    }

    /// The `destination_rules` entries, in order (interpreted by `publish`).
    pub(crate) fn destination_rules(&self) -> &[Node] {
        &self.destination_rules
    }

    /// The top-level `veil:` map, if any (interpreted by `crate::policy`).
    pub(crate) fn veil_section(&self) -> Option<&Node> {
        self.veil.as_ref()
    }

    /// The `creation_rules` entries, in order, uninterpreted (`crate::policy` reads its own
    /// `veil_*` keys from them).
    pub(crate) fn creation_rule_nodes(&self) -> &[Node] {
        self.creation_rules.as_deref().unwrap_or(&[])
    }

    /// Whether the file has `creation_rules` at all.
    pub fn has_creation_rules(&self) -> bool {
        self.creation_rules.is_some()
    }

    /// The directory rules are matched relative to.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("/"))
    }

    /// The path `path_regex` is matched against: the absolute target with the config's
    /// directory and `/` removed from the front when it is a prefix (docs/sops-format.md §5.2).
    pub fn match_path(&self, target_abs: &Path) -> String {
        let t = target_abs.to_string_lossy().into_owned();
        let mut prefix = self.dir().to_string_lossy().into_owned();
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        match t.strip_prefix(&prefix) {
            Some(rest) => rest.to_string(),
            None => t,
        }
    }

    /// The first creation rule whose `path_regex` matches `target_abs` (an absolute path),
    /// interpreted in full. `Ok(None)` when the file has no `creation_rules`.
    pub fn rule_for(&self, target_abs: &Path) -> Result<Option<ConfigRule>> {
        let Some(rules) = &self.creation_rules else {
            return Ok(None);
        };
        let rel = self.match_path(target_abs);
        for (index, r) in rules.iter().enumerate() {
            let pattern = r.get("path_regex").and_then(Node::text).unwrap_or("");
            let matched = pattern.is_empty() || {
                let re = regex::Regex::new(pattern).map_err(|e| {
                    let why = match e {
                        regex::Error::Syntax(_) => "invalid syntax".to_string(),
                        other => other.to_string(),
                    };
                    config_error(format!(
                        "can not compile regexp: path_regex {pattern:?} of creation rule {}: {why}",
                        index + 1
                    ))
                    .hint("path_regex is an RE2 regular expression (Go's regexp syntax)")
                })?;
                re.is_match(&rel)
            };
            if matched {
                return interpret_rule(r, index).map(Some);
            }
        }
        Err(config_error(NO_MATCHING_RULE).hint(format!(
            "no path_regex in {} matches {rel:?}; add a rule for it (a rule without path_regex matches every file)",
            self.path.display()
        )))
    }
}
