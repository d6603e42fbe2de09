//! `.sops.yaml`: find it, match a creation rule to the file being created, build its key
//! groups, and merge it with the command line exactly as sops 3.11 does (spec 5).
//!
//! It exists so that a team's existing `.sops.yaml` drives veil unchanged: the same search (from
//! the current directory, not the file's), the same first-match rule on the path relative to the
//! config's directory, the same key syntax (comma strings or lists, `key_groups` with `merge`,
//! `kms` ARNs with `+role`), the same precedence of flags and `SOPS_*` variables, and sops's exact
//! error texts. It only *names* keys ([`KeyRef`]); it never contacts a key service, and it never
//! sees file contents. Unknown keys are ignored, as sops ignores them. Only the matched rule is
//! interpreted in full, so a malformed rule for other paths does not break this one.

use crate::error::{Code, Error, Result};
use crate::format::{EmitOptions, Format};
use crate::keys::KeyRef;
use crate::metadata::Rule;
use saphyr::{ScalarOwned, YamlLoader, YamlOwned};
use saphyr_parser::{Parser, ScalarStyle};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// The only config file name sops accepts.
pub const CONFIG_FILE_NAME: &str = ".sops.yaml";
/// The name sops ignores with a warning.
pub const ALTERNATE_CONFIG_NAME: &str = ".sops.yml";
/// How many directories the search climbs (sops's `maxDepth`).
pub const MAX_DEPTH: usize = 100;

/// Environment defaults of the key flags (spec 6.4), read by [`CliKeys::with_env_defaults`].
pub const SOPS_KMS_ARN: &str = "SOPS_KMS_ARN";
pub const SOPS_PGP_FP: &str = "SOPS_PGP_FP";
pub const SOPS_GCP_KMS_IDS: &str = "SOPS_GCP_KMS_IDS";
pub const SOPS_AZURE_KEYVAULT_URLS: &str = "SOPS_AZURE_KEYVAULT_URLS";
pub const SOPS_VAULT_URIS: &str = "SOPS_VAULT_URIS";
pub const SOPS_HUAWEICLOUD_KMS_IDS: &str = "SOPS_HUAWEICLOUD_KMS_IDS";

const CONFLICT_IN_RULE: &str =
    "error loading config: cannot use more than one of encrypted_suffix, \
     unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or \
     unencrypted_comment_regex for the same rule";
const CONFLICT_IN_FILE: &str = "Error: cannot use more than one of encrypted_suffix, unencrypted_suffix, \
     encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the \
     same file";
/// sops's text when encrypting with neither a config rule nor key flags.
pub const NO_CONFIG_NO_KEYS: &str =
    "config file not found, or has no creation rules, and no keys provided through command line options";
/// sops's text when a config exists but no `path_regex` matches.
pub const NO_MATCHING_RULE: &str = "error loading config: no matching creation rules found";
/// sops's text for a key group with no keys.
pub const EMPTY_KEY_GROUP: &str = "Could not generate data key: [empty key group provided]";

fn config_error(msg: impl Into<String>) -> Error {
    Error::new(Code::Generic, msg)
}

// ---------------------------------------------------------------------------------------------
// Paths and the search

/// `cwd.join(p)` with `.` and `..` resolved lexically, like Go's `filepath.Abs` (no symlinks).
pub fn absolute_clean(p: &Path, cwd: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if out.parent().is_some() {
                    out.pop();
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The result of looking for the config file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoundConfig {
    /// The config to use, absolute; `None` when the search found nothing.
    pub path: Option<PathBuf>,
    /// sops's warning about an ignored `.sops.yml`, for the caller to print once.
    pub warning: Option<String>,
}

/// Find the config: `explicit` (from `--config` or `SOPS_CONFIG`) is used as given, with no
/// search; otherwise `.sops.yaml` is looked for in `cwd` and up to [`MAX_DEPTH`] parents.
pub fn find_config(explicit: Option<&Path>, cwd: &Path) -> FoundConfig {
    if let Some(p) = explicit {
        return FoundConfig {
            path: Some(absolute_clean(p, cwd)),
            warning: None,
        };
    }
    let mut alternate: Option<String> = None;
    let mut dir = cwd.to_path_buf();
    for depth in 0..MAX_DEPTH {
        let rel = |name: &str| {
            if depth == 0 {
                name.to_string()
            } else {
                format!("{}{name}", "../".repeat(depth))
            }
        };
        let candidate = dir.join(CONFIG_FILE_NAME);
        if candidate.exists() {
            let warning = alternate.map(|alt| {
                format!(
                    "ignoring {alt:?} when searching for config file; the config file must be called \
                     {CONFIG_FILE_NAME:?}; using {:?} instead",
                    rel(CONFIG_FILE_NAME)
                )
            });
            return FoundConfig {
                path: Some(candidate),
                warning,
            };
        }
        if alternate.is_none() && dir.join(ALTERNATE_CONFIG_NAME).exists() {
            alternate = Some(rel(ALTERNATE_CONFIG_NAME));
        }
        if !dir.pop() {
            // At the root, `..` is the root again: nothing new to see.
            break;
        }
    }
    FoundConfig {
        path: None,
        warning: alternate.map(|alt| {
            format!(
                "ignoring {alt:?} when searching for config file; the config file must be called \
                 {CONFIG_FILE_NAME:?}"
            )
        }),
    }
}

/// `--config` if given, else `SOPS_CONFIG` (non-empty), as sops's flag with an env default.
pub fn explicit_config_path(flag: Option<&Path>) -> Option<PathBuf> {
    flag.map(Path::to_path_buf)
        .or_else(|| crate::env::var(crate::env::SOPS_CONFIG).map(PathBuf::from))
}

/// Find and load the config. A config that is not found is `Ok((None, warning))`; a config
/// that is found (or named explicitly) and cannot be read or parsed is an error.
pub fn load_config(
    explicit: Option<&Path>,
    cwd: &Path,
) -> Result<(Option<Config>, Option<String>)> {
    let found = find_config(explicit, cwd);
    match found.path {
        Some(p) => Ok((Some(Config::load(&p)?), found.warning)),
        None => Ok((None, found.warning)),
    }
}

// ---------------------------------------------------------------------------------------------
// A small YAML node model over saphyr, keeping each scalar's source text

#[derive(Clone, Debug)]
pub(crate) enum Node {
    Scalar { text: String, quoted: bool },
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

const MAX_NESTING: usize = 64;

impl Node {
    fn from_yaml(y: &YamlOwned, depth: usize) -> std::result::Result<Node, String> {
        if depth > MAX_NESTING {
            return Err("the document is nested too deeply".into());
        }
        Ok(match y {
            YamlOwned::Representation(text, style, tag) => Node::Scalar {
                text: text.clone(),
                quoted: !matches!(style, ScalarStyle::Plain)
                    || tag.as_ref().is_some_and(|t| t.suffix == "str"),
            },
            YamlOwned::Value(s) => match s {
                ScalarOwned::Null => Node::Scalar {
                    text: String::new(),
                    quoted: false,
                },
                ScalarOwned::Boolean(b) => Node::Scalar {
                    text: b.to_string(),
                    quoted: false,
                },
                ScalarOwned::Integer(i) => Node::Scalar {
                    text: i.to_string(),
                    quoted: false,
                },
                ScalarOwned::FloatingPoint(f) => Node::Scalar {
                    text: f.to_string(),
                    quoted: false,
                },
                ScalarOwned::String(s) => Node::Scalar {
                    text: s.clone(),
                    quoted: true,
                },
            },
            YamlOwned::Sequence(items) => Node::List(
                items
                    .iter()
                    .map(|i| Node::from_yaml(i, depth + 1))
                    .collect::<std::result::Result<_, _>>()?,
            ),
            YamlOwned::Mapping(m) => {
                let mut items: Vec<(String, Node)> = Vec::new();
                let mut merges = Vec::new();
                for (k, v) in m {
                    let Node::Scalar { text: key, quoted } = Node::from_yaml(k, depth + 1)? else {
                        return Err("a mapping key is not a scalar".into());
                    };
                    let v = Node::from_yaml(v, depth + 1)?;
                    if key == "<<" && !quoted {
                        merges.push(v);
                    } else {
                        items.push((key, v));
                    }
                }
                // YAML merge keys (`<<: *anchor`, applied by Go's yaml.v3): the mapping's own keys
                // win, then earlier merged maps over later ones.
                for m in merges {
                    let maps = match m {
                        Node::List(l) => l,
                        other => vec![other],
                    };
                    for mm in maps {
                        let Node::Map(extra) = mm else {
                            return Err("a merge key (<<) must name a mapping".into());
                        };
                        for (k, v) in extra {
                            if !items.iter().any(|(ik, _)| *ik == k) {
                                items.push((k, v));
                            }
                        }
                    }
                }
                Node::Map(items)
            }
            YamlOwned::Tagged(tag, inner) => match Node::from_yaml(inner, depth + 1)? {
                Node::Scalar { text, quoted } => Node::Scalar {
                    text,
                    quoted: quoted || tag.suffix == "str",
                },
                other => other,
            },
            YamlOwned::Alias(_) => return Err("an alias names an unknown anchor".into()),
            YamlOwned::BadValue => return Err("a value could not be read".into()),
        })
    }

    fn is_null(&self) -> bool {
        matches!(self, Node::Scalar { text, quoted: false } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(items) => items
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .filter(|v| !v.is_null()),
            _ => None,
        }
    }

    /// A scalar's text (`None` for null or a collection).
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Node::Scalar { text, .. } if !self.is_null() => Some(text),
            _ => None,
        }
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Scalar { .. } if self.is_null() => "null",
            Node::Scalar { .. } => "a scalar",
            Node::List(_) => "a list",
            Node::Map(_) => "a map",
        }
    }
}

pub(crate) fn parse_int(node: &Node) -> Option<i64> {
    let Node::Scalar {
        text,
        quoted: false,
    } = node
    else {
        return None;
    };
    let t = text.replace('_', "");
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(&t)),
    };
    let v = if let Some(h) = digits.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = digits.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()?
    } else {
        digits.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

pub(crate) fn parse_bool(node: &Node) -> Option<bool> {
    let Node::Scalar {
        text,
        quoted: false,
    } = node
    else {
        return None;
    };
    match text.as_str() {
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
            Some(true)
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => {
            Some(false)
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The config file

/// `stores` settings: indentation for freshly laid-out output (spec 5.2). Lossless edits keep a
/// file's own indentation; these apply when veil writes a new layout (e.g. a conversion).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoresConfig {
    /// `stores.yaml.indent`: 0 means sops's default of 4.
    pub yaml_indent: i64,
    /// `stores.json.indent`: -1 means a tab.
    pub json_indent: i64,
    /// `stores.json_binary.indent`: -1 means a tab.
    pub json_binary_indent: i64,
}

impl Default for StoresConfig {
    fn default() -> StoresConfig {
        StoresConfig {
            yaml_indent: 0,
            json_indent: -1,
            json_binary_indent: -1,
        }
    }
}

impl StoresConfig {
    /// Check the values as sops's stores do when they write.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str, msg: &str| {
            Err(config_error(format!("invalid {what}: {msg}"))
                .hint("use a non-negative number of spaces (JSON also takes -1 for a tab)"))
        };
        if self.yaml_indent < 0 {
            return bad("YAML indent", "YAML Negative indentation not accepted");
        }
        if self.json_indent < -1 {
            return bad(
                "JSON indent",
                "JSON Indentation parameter smaller than -1 is not accepted",
            );
        }
        if self.json_binary_indent < -1 {
            return bad(
                "JSON indent",
                "JSON Indentation parameter smaller than -1 is not accepted",
            );
        }
        Ok(())
    }

    /// `--indent N` overrides every store's indent (where sops sees the flag).
    pub fn with_indent(self, indent: i64) -> Result<StoresConfig> {
        let s = StoresConfig {
            yaml_indent: indent,
            json_indent: indent,
            json_binary_indent: indent,
        };
        s.validate()?;
        Ok(s)
    }

    /// The emit options for a store of `format`.
    pub fn emit_options(&self, format: Format) -> EmitOptions {
        let json = |i: i64| if i < 0 { None } else { Some(i as usize) };
        let indent = match format {
            Format::Yaml if self.yaml_indent > 0 => Some(self.yaml_indent as usize),
            Format::Yaml => None,
            Format::Json => json(self.json_indent),
            Format::Binary => json(self.json_binary_indent),
            _ => None,
        };
        EmitOptions { indent }
    }
}

/// A loaded `.sops.yaml`.
#[derive(Clone, Debug)]
pub struct Config {
    /// Absolute path of the file.
    pub path: PathBuf,
    /// `None` when the file has no `creation_rules` (sops then acts as if there were no config).
    creation_rules: Option<Vec<Node>>,
    /// `destination_rules`, read by `publish` (`crate::publish::rules`).
    destination_rules: Vec<Node>,
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
        Ok(Config {
            path: abs,
            creation_rules,
            destination_rules,
            stores,
        })
    }

    /// The `destination_rules` entries, in order (interpreted by `publish`).
    pub(crate) fn destination_rules(&self) -> &[Node] {
        &self.destination_rules
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
    /// directory and `/` removed from the front when it is a prefix (spec 5.2).
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

// ---------------------------------------------------------------------------------------------
// Interpreting one creation rule

/// The strings of a key field: a comma-separated string or a list of strings (each of which
/// may itself hold commas, as sops joins and re-splits them). Pieces are trimmed; empty ones
/// are dropped.
fn key_strings(node: Option<&Node>, field: &str) -> Result<Vec<String>> {
    let bad = |got: &str| {
        config_error(format!(
            "invalid {field} key configuration: expected string, []string, or nil, got {got}"
        ))
        .hint(format!(
            "write {field} as a comma-separated string or a list of strings"
        ))
    };
    let mut raw: Vec<&str> = Vec::new();
    match node {
        None => {}
        Some(n @ Node::Scalar { .. }) => raw.extend(n.text()),
        Some(Node::List(items)) => {
            for i in items {
                match i {
                    Node::Scalar { .. } => raw.extend(i.text()),
                    other => {
                        return Err(config_error(format!(
                            "invalid {field} key configuration: expected string in list, got {}",
                            other.kind()
                        ))
                        .hint(format!(
                            "write {field} as a comma-separated string or a list of strings"
                        )))
                    }
                }
            }
        }
        Some(other) => return Err(bad(other.kind())),
    }
    Ok(raw
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect())
}

fn age_key(r: &str) -> Result<KeyRef> {
    let r = r.trim();
    crate::keys::age::validate_recipient(r)?;
    Ok(KeyRef::Age {
        recipient: r.to_string(),
    })
}

fn pgp_key(fp: &str) -> KeyRef {
    KeyRef::Pgp {
        fingerprint: fp.replace(' ', ""),
    }
}

/// A `--kms`/`kms:` entry: spaces removed, `KEY_ARN+ROLE_ARN` splits off the role. The split
/// is on `+arn:` in any partition (`aws`, `aws-cn`, `aws-us-gov`…), as sops does since 3.12: an
/// ARN may hold `+` in its path but never `:`, so `+arn:` can only join two ARNs.
fn kms_from_arn(s: &str, context: &BTreeMap<String, String>, aws_profile: &str) -> KeyRef {
    let arn = s.replace(' ', "");
    let (arn, role) = match arn.find("+arn:") {
        Some(i) if i > 0 => (arn[..i].to_string(), arn[i + 1..].to_string()),
        _ => (arn, String::new()),
    };
    KeyRef::Kms {
        arn,
        role,
        context: context.clone(),
        aws_profile: aws_profile.to_string(),
    }
}

fn gcp_key(id: &str) -> KeyRef {
    KeyRef::GcpKms {
        resource_id: id.replace(' ', ""),
    }
}

/// `https://<vault>/keys/<name>[/<version>]`; a missing version is resolved at encryption.
pub fn parse_azure_url(url: &str) -> Result<KeyRef> {
    let url = url.trim();
    let bad = || {
        config_error(format!("could not parse {url:?} into a valid Azure Key Vault MasterKey"))
            .hint("Azure Key Vault keys look like https://<vault>.vault.azure.net/keys/<name>[/<version>]")
    };
    let rest = url.strip_prefix("https://").ok_or_else(bad)?;
    let (host, path) = rest.split_once('/').ok_or_else(bad)?;
    let path = path.strip_prefix("keys/").ok_or_else(bad)?;
    let (name, version) = match path.split_once('/') {
        Some((n, v)) => (n, v),
        None => (path, ""),
    };
    if host.is_empty() || name.is_empty() || version.contains('/') {
        return Err(bad());
    }
    Ok(KeyRef::AzureKv {
        vault_url: format!("https://{host}"),
        name: name.to_string(),
        version: version.to_string(),
    })
}

/// `https://host:8200/v1/<engine path…>/keys/<name>` → address, engine path, key name
/// (spec 4.7). A prefix before `/v1/` is rejected, as sops does.
pub fn parse_vault_uri(uri: &str) -> Result<KeyRef> {
    const EXAMPLE: &str = "https://vault.example.com:8200/v1/transit/keys/keyName";
    let hint = || format!("Vault transit keys look like {EXAMPLE}");
    let (scheme, rest) = match uri.split_once("://") {
        Some((s, r))
            if !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) =>
        {
            (s, r)
        }
        _ => {
            return Err(config_error(format!(
                "missing scheme in Vault URL (should be like this: {EXAMPLE}), got: {uri}"
            ))
            .hint(hint()))
        }
    };
    let rest = rest.split('#').next().unwrap_or("");
    let (authority, path_query) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = path_query.split('?').next().unwrap_or("");
    // sops runs these two regexes over the request URI (path and query).
    let prefixed = regex::Regex::new(r"/[^/]+/v[\d]+/[^/]+/[^/]+/[^/]+")
        .map_err(|e| config_error(e.to_string()))?;
    let shaped =
        regex::Regex::new(r"/v[\d]+/[^/]+/[^/]+/[^/]+").map_err(|e| config_error(e.to_string()))?;
    let request_uri = if path_query.starts_with('/') {
        path_query.to_string()
    } else {
        format!("/{path_query}")
    };
    if prefixed.is_match(&request_uri) {
        return Err(config_error(format!(
            "running Vault with a prefixed URL is not supported! (Format has to be like {EXAMPLE})"
        ))
        .hint(hint()));
    }
    if !shaped.is_match(&request_uri) {
        return Err(config_error(format!(
            "vault path does not seem to be formatted correctly: (eg. {EXAMPLE})"
        ))
        .hint(hint()));
    }
    let dirs: Vec<&str> = path.trim_matches('/').split('/').collect();
    if dirs.len() < 3 {
        return Err(config_error(format!(
            "vault path does not seem to be formatted correctly: (eg. {EXAMPLE})"
        ))
        .hint(hint()));
    }
    let key_name = dirs[dirs.len() - 1].to_string();
    let engine_path = dirs[1..dirs.len() - 2]
        .iter()
        .filter(|d| !d.is_empty() && **d != ".")
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    Ok(KeyRef::HcVault {
        address: format!("{scheme}://{authority}"),
        engine_path,
        key_name,
    })
}

/// Huawei Cloud KMS `region:uuid`.
pub fn parse_hckms(id: &str) -> Result<KeyRef> {
    let id = id.trim();
    let hint = "Huawei Cloud KMS keys are written region:key-uuid, e.g. cn-north-4:0f1e…";
    let Some((region, uuid)) = id.split_once(':') else {
        return Err(config_error(format!(
            "invalid key ID format: expected 'region:key-uuid', got {id:?}"
        ))
        .hint(hint));
    };
    if region.trim().is_empty() {
        return Err(config_error(format!("region cannot be empty in key ID: {id:?}")).hint(hint));
    }
    if uuid.trim().is_empty() {
        return Err(config_error(format!("key UUID cannot be empty in key ID: {id:?}")).hint(hint));
    }
    Ok(KeyRef::Hckms {
        key_id: id.to_string(),
    })
}

/// The identity sops deduplicates a group by (`%T/ToString()`).
fn identity(k: &KeyRef) -> (&'static str, String) {
    let id = match k {
        KeyRef::Age { recipient } => recipient.clone(),
        KeyRef::Pgp { fingerprint } => fingerprint.clone(),
        KeyRef::Kms { arn, .. } => arn.clone(),
        KeyRef::GcpKms { resource_id } => resource_id.clone(),
        KeyRef::AzureKv {
            vault_url,
            name,
            version,
        } => format!("{vault_url}/keys/{name}/{version}"),
        KeyRef::HcVault {
            address,
            engine_path,
            key_name,
        } => format!("{address}/v1/{engine_path}/keys/{key_name}"),
        KeyRef::Hckms { key_id } => key_id.clone(),
    };
    (k.kind(), id)
}

fn dedupe(group: Vec<KeyRef>) -> Vec<KeyRef> {
    let mut seen = std::collections::HashSet::new();
    group
        .into_iter()
        .filter(|k| seen.insert(identity(k)))
        .collect()
}

fn str_field<'a>(m: &'a Node, name: &str) -> &'a str {
    m.get(name).and_then(Node::text).unwrap_or("")
}

fn list_of<'a>(group: &'a Node, field: &str) -> Result<&'a [Node]> {
    match group.get(field) {
        None => Ok(&[]),
        Some(Node::List(items)) => Ok(items),
        Some(other) => Err(config_error(format!(
            "error loading config: key_groups {field} is {}, not a list",
            other.kind()
        ))
        .hint(format!("write {field} inside key_groups as a YAML list"))),
    }
}

fn map_entries<'a>(group: &'a Node, field: &str, example: &str) -> Result<Vec<&'a Node>> {
    list_of(group, field)?
        .iter()
        .map(|n| match n {
            Node::Map(_) => Ok(n),
            other => Err(config_error(format!(
                "error loading config: a key_groups {field} entry is {}, not a map",
                other.kind()
            ))
            .hint(format!("write each {field} entry as a map, e.g. {example}"))),
        })
        .collect()
}

/// sops's `extractMasterKeys`: `merge` first (recursively), then age, pgp, kms, gcp_kms,
/// hckms, azure_keyvault, hc_vault; duplicates removed.
fn group_keys(group: &Node, depth: usize) -> Result<Vec<KeyRef>> {
    if depth > MAX_NESTING {
        return Err(config_error(
            "error loading config: key_groups merge is nested too deeply",
        ));
    }
    let mut keys = Vec::new();
    if group.is_null() {
        return Ok(keys);
    }
    if !matches!(group, Node::Map(_)) {
        return Err(config_error(format!(
            "error loading config: a key group is {}, not a map",
            group.kind()
        ))
        .hint("each key_groups entry is a map such as {age: [age1…], pgp: [FINGERPRINT]}"));
    }
    for sub in list_of(group, "merge")? {
        keys.extend(group_keys(sub, depth + 1)?);
    }
    for r in key_strings(group.get("age"), "age")? {
        keys.push(age_key(&r)?);
    }
    for fp in key_strings(group.get("pgp"), "pgp")? {
        keys.push(pgp_key(&fp));
    }
    for k in map_entries(
        group,
        "kms",
        "{arn: arn:aws:kms:…, role: …, context: {k: v}}",
    )? {
        let arn = str_field(k, "arn");
        if arn.is_empty() {
            return Err(
                config_error("error loading config: a key_groups kms entry has no arn")
                    .hint("write kms entries as {arn: arn:aws:kms:…}"),
            );
        }
        let mut context = BTreeMap::new();
        match k.get("context") {
            None => {}
            Some(Node::Map(items)) => {
                for (ck, cv) in items {
                    context.insert(ck.clone(), cv.text().unwrap_or("").to_string());
                }
            }
            Some(other) => {
                return Err(config_error(format!(
                    "error loading config: a kms context is {}, not a map",
                    other.kind()
                ))
                .hint("write the encryption context as a map: context: {key: value}"))
            }
        }
        keys.push(KeyRef::Kms {
            arn: arn.to_string(),
            role: str_field(k, "role").to_string(),
            context,
            aws_profile: str_field(k, "aws_profile").to_string(),
        });
    }
    for k in map_entries(group, "gcp_kms", "{resource_id: projects/…/cryptoKeys/…}")? {
        keys.push(gcp_key(str_field(k, "resource_id")));
    }
    for k in map_entries(group, "hckms", "{key_id: region:uuid}")? {
        keys.push(parse_hckms(str_field(k, "key_id"))?);
    }
    for k in map_entries(
        group,
        "azure_keyvault",
        "{vaultUrl: https://…, key: name, version: …}",
    )? {
        keys.push(KeyRef::AzureKv {
            vault_url: str_field(k, "vaultUrl").to_string(),
            name: str_field(k, "key").to_string(),
            version: str_field(k, "version").to_string(),
        });
    }
    for uri in key_strings(group.get("hc_vault"), "hc_vault")? {
        keys.push(parse_vault_uri(&uri)?);
    }
    Ok(dedupe(keys))
}

fn rule_text(r: &Node, name: &str) -> Option<String> {
    r.get(name)
        .and_then(Node::text)
        .filter(|t| !t.is_empty())
        .map(String::from)
}

pub(crate) fn interpret_rule(r: &Node, index: usize) -> Result<ConfigRule> {
    let hint =
        || "a creation rule may set at most one of the six encryption rule fields".to_string();
    let fields = [
        (
            "unencrypted_suffix",
            Rule::UnencryptedSuffix as fn(String) -> Rule,
        ),
        ("encrypted_suffix", Rule::EncryptedSuffix),
        ("unencrypted_regex", Rule::UnencryptedRegex),
        ("encrypted_regex", Rule::EncryptedRegex),
        ("unencrypted_comment_regex", Rule::UnencryptedCommentRegex),
        ("encrypted_comment_regex", Rule::EncryptedCommentRegex),
    ];
    let mut rule = Rule::None;
    for (name, mk) in fields {
        if let Some(v) = rule_text(r, name) {
            if rule != Rule::None {
                return Err(config_error(CONFLICT_IN_RULE).hint(hint()));
            }
            rule = mk(v);
        }
    }
    let shamir_threshold = match r.get("shamir_threshold") {
        None => 0,
        Some(n) => match parse_int(n) {
            Some(v) if v >= 0 => v as usize,
            _ => {
                return Err(config_error(format!(
                    "error loading config: shamir_threshold of creation rule {} is not a non-negative integer",
                    index + 1
                ))
                .hint("shamir_threshold is the number of key groups needed to decrypt, e.g. 2"))
            }
        },
    };
    let mac_only_encrypted = match r.get("mac_only_encrypted") {
        None => false,
        Some(n) => parse_bool(n).ok_or_else(|| {
            config_error(format!(
                "error loading config: mac_only_encrypted of creation rule {} is not a boolean",
                index + 1
            ))
            .hint("write mac_only_encrypted: true or false")
        })?,
    };
    let integrity = match r.get("veil_integrity") {
        None => false,
        Some(n) => parse_bool(n).ok_or_else(|| {
            config_error(format!(
                "error loading config: veil_integrity of creation rule {} is not a boolean",
                index + 1
            ))
            .hint("write veil_integrity: true or false")
        })?,
    };
    let groups = match r.get("key_groups") {
        Some(Node::List(g)) if !g.is_empty() => Some(g),
        None | Some(Node::List(_)) => None,
        Some(other) => {
            return Err(config_error(format!(
                "error loading config: key_groups is {}, not a list",
                other.kind()
            ))
            .hint("key_groups is a list of groups, each a map of key types"))
        }
    };
    let (key_groups, flat) = match groups {
        Some(g) => (
            g.iter()
                .map(|grp| group_keys(grp, 0))
                .collect::<Result<Vec<_>>>()?,
            false,
        ),
        None => {
            // sops's flat fields form one group, in this order.
            let mut g = Vec::new();
            for a in key_strings(r.get("age"), "age")? {
                g.push(age_key(&a)?);
            }
            g.extend(key_strings(r.get("pgp"), "pgp")?.iter().map(|f| pgp_key(f)));
            let profile = str_field(r, "aws_profile");
            g.extend(
                key_strings(r.get("kms"), "kms")?
                    .iter()
                    .map(|a| kms_from_arn(a, &BTreeMap::new(), profile)),
            );
            g.extend(
                key_strings(r.get("gcp_kms"), "gcp_kms")?
                    .iter()
                    .map(|i| gcp_key(i)),
            );
            for h in key_strings(r.get("hckms"), "hckms")? {
                g.push(parse_hckms(&h)?);
            }
            for u in key_strings(r.get("azure_keyvault"), "azure_keyvault")? {
                g.push(parse_azure_url(&u)?);
            }
            for u in key_strings(r.get("hc_vault_transit_uri"), "hc_vault_transit_uri")? {
                g.push(parse_vault_uri(&u)?);
            }
            (vec![g], true)
        }
    };
    Ok(ConfigRule {
        index,
        key_groups,
        flat,
        shamir_threshold,
        rule,
        mac_only_encrypted,
        integrity,
    })
}

// ---------------------------------------------------------------------------------------------
// The command line, and precedence (spec 5.3)

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
    /// Fill each key flag that was not given from its environment variable (sops's flag
    /// defaults, spec 6.4). `get` reads a variable (e.g. `crate::env::var`).
    pub fn with_env_defaults(mut self, get: impl Fn(&str) -> Option<String>) -> CliKeys {
        let pairs: [(&mut Vec<String>, &str); 7] = [
            (&mut self.kms, SOPS_KMS_ARN),
            (&mut self.pgp, SOPS_PGP_FP),
            (&mut self.age, crate::env::SOPS_AGE_RECIPIENTS),
            (&mut self.gcp_kms, SOPS_GCP_KMS_IDS),
            (&mut self.azure_kv, SOPS_AZURE_KEYVAULT_URLS),
            (&mut self.hc_vault_transit, SOPS_VAULT_URIS),
            (&mut self.hckms, SOPS_HUAWEICLOUD_KMS_IDS),
        ];
        for (slot, var) in pairs {
            if !nonempty(slot) {
                if let Some(v) = get(var).filter(|v| !v.is_empty()) {
                    *slot = vec![v];
                }
            }
        }
        self
    }

    /// Whether any key flag (or its env default) names a key: then the config's keys are ignored.
    pub fn has_keys(&self) -> bool {
        [
            &self.kms,
            &self.gcp_kms,
            &self.hckms,
            &self.azure_kv,
            &self.pgp,
            &self.hc_vault_transit,
            &self.age,
        ]
        .iter()
        .any(|v| nonempty(v))
    }

    /// The one key group the flags describe, in sops's order: kms, gcp_kms, hckms, azure_kv,
    /// pgp, hc_vault, age.
    pub fn key_group(&self) -> Result<Vec<KeyRef>> {
        let split = |v: &[String]| -> Vec<String> {
            v.iter()
                .flat_map(|s| s.split(','))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        };
        let context = parse_encryption_context(self.encryption_context.as_deref())?;
        let profile = self.aws_profile.as_deref().unwrap_or("");
        let mut g: Vec<KeyRef> = split(&self.kms)
            .iter()
            .map(|a| kms_from_arn(a, &context, profile))
            .collect();
        g.extend(split(&self.gcp_kms).iter().map(|i| gcp_key(i)));
        for h in split(&self.hckms) {
            g.push(parse_hckms(&h)?);
        }
        for u in split(&self.azure_kv) {
            g.push(parse_azure_url(&u)?);
        }
        g.extend(split(&self.pgp).iter().map(|f| pgp_key(f)));
        for u in split(&self.hc_vault_transit) {
            g.push(parse_vault_uri(&u)?);
        }
        for a in split(&self.age) {
            g.push(age_key(&a)?);
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
                        if let KeyRef::Kms { context: c, .. } = k {
                            *c = context.clone();
                        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
