//! `.sops.yaml` `destination_rules`: where `publish` sends a file, and the keys it re-encrypts
//! the file for on the way (`recreation_rule`).
//!
//! sops's rules are kept: the first entry whose `path_regex` matches wins, and an entry without
//! `path_regex` matches every file; the regex is matched against the path *as given on the
//! command line* (or as the directory walk built it), not relative to the config's directory
//! as for creation rules; an entry names at most one destination; unknown keys are ignored (sops's
//! own test config spells `reencryption_rule`, which sops ignores too). One difference: a
//! `path_regex` that does not compile is an error here, where sops treats it as "no match" and
//! goes on to the next entry, which could publish the file somewhere the user did not mean.
//!
//! This module only reads the config. It never contacts a destination, and it names addresses
//! without trusting them: whether a Vault token may go to a rule's `vault_address` is decided by
//! the Vault destination, against what the user allowed.

use crate::config::{self, Config, ConfigRule, Node};
use crate::error::{Error, Result};

/// sops's text when no entry matches.
pub const NO_MATCHING_DESTINATION: &str =
    "error loading config: no matching destination found in config";
/// sops's text when an entry names two destinations.
pub const MORE_THAN_ONE_DESTINATION: &str = "error loading config: more than one destinations were found in a single destination rule, you can only use one per rule";
/// sops's text when the matching entry names none.
pub const NO_DESTINATION: &str = "no destination configured for this file";
/// The Vault address sops's client uses when neither the rule nor `VAULT_ADDR` gives one.
pub const DEFAULT_VAULT_ADDRESS: &str = "https://127.0.0.1:8200";

/// A place a file is published to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// `s3_bucket` / `s3_prefix`: the (encrypted) file is uploaded as `prefix + name`.
    S3 { bucket: String, prefix: String },
    /// `gcs_bucket` / `gcs_prefix`: the (encrypted) file is uploaded as `prefix + name`.
    Gcs { bucket: String, prefix: String },
    /// `vault_*`: the decrypted top-level map is written as a KV secret.
    Vault(VaultDestination),
}

/// A Vault KV destination, normalised as sops does it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultDestination {
    /// `vault_address` as written; empty means `VAULT_ADDR`, else [`DEFAULT_VAULT_ADDRESS`].
    pub address: String,
    /// `vault_path`, ending with `/`.
    pub path: String,
    /// `vault_kv_mount_name` (default `secret/`), ending with `/`.
    pub mount: String,
    /// 1 or 2 (anything else is 2, as in sops).
    pub kv_version: u8,
}

impl VaultDestination {
    pub fn new(address: &str, path: &str, mount: &str, kv_version: i64) -> VaultDestination {
        let slash = |s: &str| {
            if s.ends_with('/') {
                s.to_string()
            } else {
                format!("{s}/")
            }
        };
        VaultDestination {
            address: address.to_string(),
            path: slash(path),
            mount: slash(if mount.is_empty() { "secret/" } else { mount }),
            kv_version: if kv_version == 1 { 1 } else { 2 },
        }
    }

    /// The API path of the secret for `name` (after `/v1/`): `mount + path + name` for KV v1,
    /// `mount + "data/" + path + name` for KV v2.
    pub fn secret_path(&self, name: &str) -> String {
        if self.kv_version == 1 {
            format!("{}{}{name}", self.mount, self.path)
        } else {
            format!("{}data/{}{name}", self.mount, self.path)
        }
    }

    /// The server: the rule's address, else `VAULT_ADDR`, else sops's default.
    pub fn effective_address(&self) -> String {
        if !self.address.is_empty() {
            return self.address.clone();
        }
        crate::env::var("VAULT_ADDR").unwrap_or_else(|| DEFAULT_VAULT_ADDRESS.to_string())
    }
}

impl Destination {
    /// Where `name` goes, as sops's prompt shows it: `s3://bucket/prefixname`,
    /// `gcs://bucket/prefixname`, `ADDRESS/v1/SECRET_PATH`.
    pub fn url(&self, name: &str) -> String {
        match self {
            Destination::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}{name}"),
            Destination::Gcs { bucket, prefix } => format!("gcs://{bucket}/{prefix}{name}"),
            Destination::Vault(v) => {
                format!("{}/v1/{}", v.effective_address(), v.secret_path(name))
            }
        }
    }

    /// Whether the destination receives plaintext (Vault) rather than the encrypted file.
    pub fn receives_plaintext(&self) -> bool {
        matches!(self, Destination::Vault(_))
    }
}

/// The destination rule that matched a file.
#[derive(Clone, Debug)]
pub struct DestinationRule {
    /// Index of the entry in `destination_rules`.
    pub index: usize,
    /// `None` when the entry names no destination (publishing then fails, as in sops).
    pub destination: Option<Destination>,
    /// The `recreation_rule`'s keys and encryption rule; a first group without keys means "upload
    /// the file as it is".
    pub recreation: ConfigRule,
    pub omit_extensions: bool,
}

impl DestinationRule {
    /// Whether S3/GCS uploads re-encrypt: sops looks at the first group only.
    pub fn reencrypts(&self) -> bool {
        self.recreation
            .key_groups
            .first()
            .is_some_and(|g| !g.is_empty())
    }
}

fn unmarshal(msg: String) -> Error {
    Error::generic(format!(
        "error loading config: Could not unmarshal config file: {msg}"
    ))
    .hint("fix the destination_rules entry in .sops.yaml")
}

/// A string field: absent or null is empty; a list or map is an error (sops's YAML decoder
/// refuses them too).
fn string_field(r: &Node, name: &str, index: usize) -> Result<String> {
    match r.get(name) {
        None => Ok(String::new()),
        Some(n) => n.text().map(str::to_string).ok_or_else(|| {
            unmarshal(format!(
                "{name} of destination rule {} is {}, not a string",
                index + 1,
                n.kind()
            ))
        }),
    }
}

/// The first `destination_rules` entry matching `input_path` (the path as given), interpreted.
pub fn rule_for(conf: &Config, input_path: &str) -> Result<DestinationRule> {
    for (index, r) in conf.destination_rules().iter().enumerate() {
        let pattern = r.get("path_regex").and_then(Node::text).unwrap_or("");
        let matched = pattern.is_empty()
            || {
                let re = regex::Regex::new(pattern).map_err(|_| {
                Error::generic(format!(
                    "error loading config: path_regex {pattern:?} of destination rule {} is not a valid regular expression",
                    index + 1
                ))
                .hint("path_regex is an RE2 regular expression (Go's regexp syntax); sops would skip this rule silently, veil refuses to guess")
            })?;
                re.is_match(input_path)
            };
        if matched {
            return interpret(r, index);
        }
    }
    Err(Error::generic(NO_MATCHING_DESTINATION).hint(format!(
        "no destination_rules entry in {} matches {input_path:?}; path_regex is matched against the path as you typed it",
        conf.path.display()
    )))
}

fn interpret(r: &Node, index: usize) -> Result<DestinationRule> {
    let s3_bucket = string_field(r, "s3_bucket", index)?;
    let gcs_bucket = string_field(r, "gcs_bucket", index)?;
    let vault_path = string_field(r, "vault_path", index)?;
    let named = [&s3_bucket, &gcs_bucket, &vault_path]
        .iter()
        .filter(|s| !s.is_empty())
        .count();
    if named > 1 {
        return Err(Error::generic(MORE_THAN_ONE_DESTINATION).hint(format!(
            "destination rule {} names more than one of s3_bucket, gcs_bucket and vault_path",
            index + 1
        )));
    }
    let kv_version = match r.get("vault_kv_version") {
        None => 0,
        Some(n) => config::parse_int(n).ok_or_else(|| {
            unmarshal(format!(
                "vault_kv_version of destination rule {} is not an integer",
                index + 1
            ))
        })?,
    };
    let omit_extensions = match r.get("omit_extensions") {
        None => false,
        Some(n) => config::parse_bool(n).ok_or_else(|| {
            unmarshal(format!(
                "omit_extensions of destination rule {} is not a boolean",
                index + 1
            ))
        })?,
    };
    let destination = if !s3_bucket.is_empty() {
        Some(Destination::S3 {
            bucket: s3_bucket,
            prefix: string_field(r, "s3_prefix", index)?,
        })
    } else if !gcs_bucket.is_empty() {
        Some(Destination::Gcs {
            bucket: gcs_bucket,
            prefix: string_field(r, "gcs_prefix", index)?,
        })
    } else if !vault_path.is_empty() {
        Some(Destination::Vault(VaultDestination::new(
            &string_field(r, "vault_address", index)?,
            &vault_path,
            &string_field(r, "vault_kv_mount_name", index)?,
            kv_version,
        )))
    } else {
        None
    };
    let empty = Node::Map(Vec::new());
    let rr = match r.get("recreation_rule") {
        None => &empty,
        Some(n @ Node::Map(_)) => n,
        Some(other) => {
            return Err(unmarshal(format!(
                "recreation_rule of destination rule {} is {}, not a map",
                index + 1,
                other.kind()
            )))
        }
    };
    let recreation = config::interpret_rule(rr, index)
        .map_err(|e| e.context(format!("recreation_rule of destination rule {}", index + 1)))?;
    Ok(DestinationRule {
        index,
        destination,
        recreation,
        omit_extensions,
    })
}

// ---------------------------------------------------------------------------------------------
// Destination names

/// Go's `filepath.Ext`: the suffix from the last `.` of the last path element (`.env` for
/// `.env`), or empty.
pub fn go_ext(path: &str) -> &str {
    let last = path.rsplit('/').next().unwrap_or(path);
    match last.rfind('.') {
        Some(i) => &last[i..],
        None => "",
    }
}

/// Go's `filepath.Clean` for `/`-separated paths.
pub fn go_clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|p| *p != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            p => out.push(p),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// The name a file is published under (the destination's prefix is added by the destination):
/// its base name, or with `--recursive` its path relative to the directory given (`walk_rel`);
/// with `--omit-extensions` or `omit_extensions: true`, without the file's extension. A name
/// that comes out empty (`.env` without its extension) is refused: sops would upload the object
/// under the bare prefix.
pub fn destination_name(abs_path: &str, walk_rel: Option<&str>, omit: bool) -> Result<String> {
    let base = abs_path.rsplit('/').next().unwrap_or(abs_path);
    let mut name = walk_rel.unwrap_or(base).to_string();
    if omit {
        let ext = go_ext(abs_path);
        if let Some(stripped) = name.strip_suffix(ext) {
            name = stripped.to_string();
        }
    }
    if name.is_empty() || name.ends_with('/') {
        return Err(Error::generic(format!(
            "the destination name of {abs_path} is empty once its extension is removed"
        ))
        .hint(
            "publish it without --omit-extensions (or omit_extensions: true), or rename the file",
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn conf(text: &str) -> Config {
        Config::parse(text, Path::new("/work/.sops.yaml")).unwrap()
    }

    const AGE: &str = "age1pn7k6f6t6akcxv3jejfavpvdatyrcy4sftyerwzkchtrh4w8cerqglk7dv";

    #[test]
    fn first_matching_entry_wins_on_the_path_as_given() {
        let c = conf(&format!(
            "destination_rules:\n\
             - path_regex: ^s3/\n  s3_bucket: b\n  s3_prefix: p/\n  recreation_rule:\n    age: {AGE}\n\
             - path_regex: gcs\n  gcs_bucket: g\n\
             - vault_path: team\n  vault_kv_version: 1\n  vault_kv_mount_name: kv\n  omit_extensions: true\n"
        ));
        let r = rule_for(&c, "s3/a.yaml").unwrap();
        assert_eq!(
            r.destination,
            Some(Destination::S3 {
                bucket: "b".into(),
                prefix: "p/".into()
            })
        );
        assert!(r.reencrypts());
        // Not relative to the config: `./s3/a.yaml` does not match `^s3/`.
        let r = rule_for(&c, "./s3/a.yaml").unwrap();
        assert_eq!(r.index, 2);
        assert!(!r.reencrypts());
        assert!(r.omit_extensions);
        let Some(Destination::Vault(v)) = r.destination else {
            panic!("vault expected")
        };
        assert_eq!(v.secret_path("a"), "kv/team/a");
        assert_eq!(rule_for(&c, "x/gcs/a.json").unwrap().index, 1);
    }

    #[test]
    fn vault_destinations_are_normalised_like_sops() {
        let v = VaultDestination::new("", "team", "", 7);
        assert_eq!(v.mount, "secret/");
        assert_eq!(v.kv_version, 2);
        assert_eq!(v.secret_path("f.yaml"), "secret/data/team/f.yaml");
        let v = VaultDestination::new("https://v:8200", "a/b/", "kv1/", 1);
        assert_eq!(v.secret_path("f"), "kv1/a/b/f");
        assert_eq!(
            Destination::Vault(v).url("f"),
            "https://v:8200/v1/kv1/a/b/f"
        );
    }

    #[test]
    fn sops_errors_for_bad_rules() {
        let c = conf("destination_rules:\n- path_regex: only-this\n  s3_bucket: b\n");
        let e = rule_for(&c, "other.yaml").unwrap_err();
        assert_eq!(e.message, NO_MATCHING_DESTINATION);
        let c = conf("destination_rules:\n- s3_bucket: b\n  gcs_bucket: g\n");
        assert_eq!(
            rule_for(&c, "f").unwrap_err().message,
            MORE_THAN_ONE_DESTINATION
        );
        let c = conf("destination_rules:\n- s3_prefix: p/\n");
        assert!(rule_for(&c, "f").unwrap().destination.is_none());
        let c = conf("destination_rules:\n- vault_path: p\n  vault_kv_version: two\n");
        assert!(rule_for(&c, "f")
            .unwrap_err()
            .message
            .contains("not an integer"));
        let c =
            conf("destination_rules:\n- path_regex: '(unclosed'\n  s3_bucket: b\n- s3_bucket: c\n");
        assert!(rule_for(&c, "f")
            .unwrap_err()
            .message
            .contains("not a valid regular expression"));
        let c = conf("creation_rules:\n- age: x\n");
        assert_eq!(
            rule_for(&c, "f").unwrap_err().message,
            NO_MATCHING_DESTINATION
        );
    }

    #[test]
    fn names_follow_go_path_rules() {
        assert_eq!(go_ext("/a/b.enc.yaml"), ".yaml");
        assert_eq!(go_ext("/a/.env"), ".env");
        assert_eq!(go_ext("/a.d/b"), "");
        assert_eq!(go_clean("./dir//sub/../a.yaml"), "dir/a.yaml");
        assert_eq!(go_clean("/../a"), "/a");
        assert_eq!(go_clean("../../a"), "../../a");
        assert_eq!(go_clean("./"), ".");
        assert_eq!(
            destination_name("/w/s/f.yaml", None, false).unwrap(),
            "f.yaml"
        );
        assert_eq!(destination_name("/w/s/f.yaml", None, true).unwrap(), "f");
        assert_eq!(
            destination_name("/w/s/sub/f.enc.json", Some("sub/f.enc.json"), true).unwrap(),
            "sub/f.enc"
        );
        assert!(destination_name("/w/.env", None, true).is_err());
        assert_eq!(destination_name("/w/.env", None, false).unwrap(), ".env");
    }
}
