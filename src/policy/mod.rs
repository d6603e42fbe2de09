//! veil's access and rotation policy: who a key is (a name map), and how old a file's data key
//! may get (`max_age`), read from `.sops.yaml` next to the creation rules it qualifies.
//!
//! It exists because sops answers neither "who can read these files?" nor "which files are
//! overdue for rotation?", and a team's `.sops.yaml` already says which keys each path should
//! have. The policy lives in keys sops ignores (its config is read with a non-strict YAML
//! unmarshal; the tests pin that sops 3.11 still encrypts, decrypts and updates keys with them):
//! a top-level `veil:` map (`key_names`, a default `max_age`) and `veil_max_age` in a creation
//! rule. The format is documented in `docs/policy.md`.
//!
//! It holds no secrets and reads metadata only: nothing here unwraps a key or opens a value.
//! [`access`] builds the report of `veil access`; [`rotation`] the warning of decrypt/edit/exec
//! and the failure of `veil check`.

pub mod access;
mod max_age;
mod report;
pub mod rotation;

pub use max_age::{data_key_age, parse_time, parse_user_time, Basis, KeyAge, MaxAge};
pub use report::{render_by_recipient, render_json, render_table};

use crate::config::{Config, Node};
use crate::error::{Code, Error, Result};
use crate::keys::KeyRef;

/// The exit code of `veil access` (and nothing else) when it reports findings. sops uses 1–8,
/// 21–25, 49–52, 61, 85, 91, 92, 100, 111, 112, 128 and 200–203; 10 is none of them.
pub const EXIT_FINDINGS: i32 = 10;

/// Keys of the top-level `veil:` map. `audit` and `audit_required` belong to the audit trail
/// (`crate::audit::from_config` reads them; checked here too, so that `veil check` reports a
/// bad setting); a typo elsewhere in the map is an error rather than a silently ignored policy.
const SECTION_KEYS: &[&str] = &["key_names", "max_age", "audit", "audit_required"];
/// veil's own keys in a creation rule (`veil_integrity` is read by `crate::config`).
const RULE_KEYS: &[&str] = &["veil_integrity", "veil_max_age"];
/// The longest name the map may give a key (names are printed in tables).
const MAX_NAME: usize = 64;

/// A creation rule's own setting.
#[derive(Clone, Debug, PartialEq, Eq)]
enum RuleAge {
    /// No `veil_max_age`: the `veil.max_age` default applies.
    Inherit,
    /// `veil_max_age: none`: no limit for this rule, whatever the default.
    Off,
    Limit(MaxAge),
}

/// The policy of one `.sops.yaml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    default_max_age: Option<MaxAge>,
    rules: Vec<RuleAge>,
    /// (normalised identity, name), in the map's order.
    names: Vec<(String, String)>,
}

fn policy_error(conf: &Config, msg: String, hint: &str) -> Error {
    Error::new(Code::Generic, format!("error loading veil policy: {msg}")).hint(format!(
        "{hint} (in {}; see docs/policy.md)",
        conf.path.display()
    ))
}

/// How a key identity is compared with the map: PGP fingerprints without spaces, upper case.
fn normalise(identity: &str) -> String {
    let t = identity.trim();
    let compact: String = t.chars().filter(|c| *c != ' ').collect();
    if (compact.len() == 40 || compact.len() == 16)
        && compact.chars().all(|c| c.is_ascii_hexdigit())
    {
        compact.to_ascii_uppercase()
    } else {
        t.to_string()
    }
}

fn printable(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

impl Policy {
    /// Read the policy keys of `conf`; a config without them is the empty policy.
    pub fn from_config(conf: &Config) -> Result<Policy> {
        let mut p = Policy::default();
        if let Some(section) = conf.veil_section() {
            let Node::Map(items) = section else {
                return Err(policy_error(
                    conf,
                    format!("`veil` is {}, not a map", section.kind()),
                    "write `veil:` with key_names and max_age under it",
                ));
            };
            for (k, _) in items {
                if !SECTION_KEYS.contains(&k.as_str()) {
                    return Err(policy_error(
                        conf,
                        format!("unknown key veil.{k}"),
                        &format!("the keys of `veil:` are {}", SECTION_KEYS.join(", ")),
                    ));
                }
            }
            if let Some(n) = section.get("max_age") {
                p.default_max_age = Some(age_of(conf, n, "veil.max_age")?.ok_or_else(|| {
                    policy_error(
                        conf,
                        "veil.max_age cannot be none".into(),
                        "leave veil.max_age out for no default limit",
                    )
                })?);
            }
            if let Some(n) = section.get("key_names") {
                p.names = names_of(conf, n)?;
            }
            crate::audit::from_config(conf).map_err(|msg| {
                policy_error(
                    conf,
                    msg,
                    "write `audit: NAME.log` (inside this directory) or `audit: syslog`",
                )
            })?;
        }
        for (i, rule) in conf.creation_rule_nodes().iter().enumerate() {
            if let Node::Map(items) = rule {
                for (k, _) in items {
                    if k.starts_with("veil_") && !RULE_KEYS.contains(&k.as_str()) {
                        return Err(policy_error(
                            conf,
                            format!("unknown key {k} in creation rule {}", i + 1),
                            &format!(
                                "veil's keys in a creation rule are {}",
                                RULE_KEYS.join(", ")
                            ),
                        ));
                    }
                }
            }
            let what = format!("veil_max_age of creation rule {}", i + 1);
            p.rules.push(match rule.get("veil_max_age") {
                None => RuleAge::Inherit,
                Some(n) => match age_of(conf, n, &what)? {
                    Some(a) => RuleAge::Limit(a),
                    None => RuleAge::Off,
                },
            });
        }
        Ok(p)
    }

    /// The `max_age` of creation rule `index` (0-based), if it has one.
    pub fn max_age(&self, index: usize) -> Option<&MaxAge> {
        match self.rules.get(index) {
            Some(RuleAge::Limit(a)) => Some(a),
            Some(RuleAge::Off) => None,
            Some(RuleAge::Inherit) | None => self.default_max_age.as_ref(),
        }
    }

    /// The name the map gives `key`, if any.
    pub fn name_of(&self, key: &KeyRef) -> Option<&str> {
        let id = normalise(&key.identity());
        self.names
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.as_str())
    }

    /// Whether any rule (or the default) sets a limit.
    pub fn has_limits(&self) -> bool {
        self.default_max_age.is_some() || self.rules.iter().any(|r| matches!(r, RuleAge::Limit(_)))
    }
}

/// A `max_age` value: `Ok(None)` for `none`.
fn age_of(conf: &Config, n: &Node, what: &str) -> Result<Option<MaxAge>> {
    let Some(text) = n.text() else {
        return Err(policy_error(
            conf,
            format!("{what} is {}, not an age", n.kind()),
            "write an age such as 90d, 12w or 1y",
        ));
    };
    if text == "none" {
        return Ok(None);
    }
    MaxAge::parse(text).map(Some).map_err(|e| {
        policy_error(
            conf,
            format!("{what}: {e}"),
            "units: h (hours), d (days), w (weeks), y (365 days); `none` turns a rule's limit off",
        )
    })
}

/// `key_names`: name → identity, or name → list of identities.
fn names_of(conf: &Config, n: &Node) -> Result<Vec<(String, String)>> {
    let Node::Map(items) = n else {
        return Err(policy_error(
            conf,
            format!("veil.key_names is {}, not a map", n.kind()),
            "write `name: key` lines, e.g. `alice: age1…`",
        ));
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, v) in items {
        if name.trim().is_empty() || name.chars().count() > MAX_NAME || !printable(name) {
            return Err(policy_error(
                conf,
                format!("key name {name:?} is empty, too long or holds control characters"),
                "names are printed in reports: use up to 64 printable characters",
            ));
        }
        let ids: Vec<&str> = match v {
            Node::List(l) => l.iter().map(Node::text).collect::<Option<_>>(),
            other => other.text().map(|t| vec![t]),
        }
        .filter(|ids: &Vec<&str>| !ids.is_empty())
        .ok_or_else(|| {
            policy_error(
                conf,
                format!("key_names.{name} is not a key or a list of keys"),
                "give the key as it appears in .sops.yaml: an age recipient, a PGP fingerprint, a KMS ARN, a Vault key URL",
            )
        })?;
        for id in ids {
            let norm = normalise(id);
            if norm.is_empty() || !printable(&norm) {
                return Err(policy_error(
                    conf,
                    format!("key_names.{name} has an empty or unprintable key"),
                    "give the key as it appears in .sops.yaml",
                ));
            }
            if let Some((_, other)) = out.iter().find(|(i, _)| *i == norm) {
                return Err(policy_error(
                    conf,
                    format!("key {norm} is named twice ({other:?} and {name:?})"),
                    "give each key one name",
                ));
            }
            out.push((norm, name.clone()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn policy(yaml: &str) -> Result<Policy> {
        let conf = Config::parse(yaml, Path::new("/repo/.sops.yaml")).unwrap();
        Policy::from_config(&conf)
    }

    const AGE: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

    #[test]
    fn rules_inherit_override_or_turn_off_the_default() {
        let p = policy(
            "veil:\n  max_age: 90d\ncreation_rules:\n  - path_regex: a\n  - path_regex: b\n    veil_max_age: 12w\n  - path_regex: c\n    veil_max_age: none\n",
        )
        .unwrap();
        assert_eq!(p.max_age(0).map(MaxAge::text), Some("90d"));
        assert_eq!(p.max_age(1).map(MaxAge::text), Some("12w"));
        assert_eq!(p.max_age(2), None);
        assert!(p.has_limits());
        assert!(!policy("creation_rules: []\n").unwrap().has_limits());
    }

    #[test]
    fn names_match_keys_by_identity() {
        let p = policy(&format!(
            "veil:\n  key_names:\n    alice: {AGE}\n    ops:\n      - 85d7 7543 478d 5a13 0b32  7ab5 f0fc d5ee 02fc 9bd1\ncreation_rules: []\n"
        ))
        .unwrap();
        let alice = KeyRef::Age {
            recipient: AGE.into(),
        };
        let ops = KeyRef::Pgp {
            fingerprint: "85d77543478d5a130b327ab5f0fcd5ee02fc9bd1".into(),
        };
        assert_eq!(p.name_of(&alice), Some("alice"));
        assert_eq!(p.name_of(&ops), Some("ops"));
        let other = KeyRef::Age {
            recipient: "age1other".into(),
        };
        assert_eq!(p.name_of(&other), None);
    }

    #[test]
    fn mistakes_are_errors_that_say_where() {
        for (yaml, says) in [
            ("veil: 3\n", "`veil` is a scalar, not a map"),
            ("veil:\n  max_ages: 90d\n", "unknown key veil.max_ages"),
            ("veil:\n  max_age: 6m\n", "veil.max_age: \"6m\": months"),
            ("veil:\n  max_age: none\n", "cannot be none"),
            (
                "creation_rules:\n  - veil_maxage: 9d\n",
                "unknown key veil_maxage in creation rule 1",
            ),
            (
                "creation_rules:\n  - path_regex: x\n  - veil_max_age: [1]\n",
                "veil_max_age of creation rule 2 is a list",
            ),
            ("veil:\n  key_names: [a]\n", "key_names is a list"),
            (
                "veil:\n  key_names:\n    bob: {a: 1}\n",
                "key_names.bob is not a key",
            ),
            (
                &format!("veil:\n  key_names:\n    a: {AGE}\n    b: [{AGE}]\n"),
                "named twice",
            ),
        ] {
            let e = policy(yaml).unwrap_err();
            assert!(e.message.contains(says), "{yaml}: {}", e.message);
            assert!(e.message.starts_with("error loading veil policy: "));
            assert!(e.hint.as_deref().unwrap_or("").contains("docs/policy.md"));
        }
    }
}
