//! Interpreting the creation rule that matched: its encryption rule field, Shamir threshold,
//! MAC scope, veil's integrity opt-in and its key groups, with sops's error texts.

use super::groups::{group_keys, parse_strings, str_field};
use super::*;
use crate::error::Result;
use crate::keys::kind::{self, ParseOptions};
use crate::metadata::Rule;

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
            // sops's flat fields form one group, in the registry's config order. A rule's
            // `aws_profile` applies to its flat kms keys.
            let opts = ParseOptions {
                encryption_context: None,
                aws_profile: str_field(r, "aws_profile"),
            };
            let mut g = Vec::new();
            for kind in kind::in_config_order() {
                let field = kind.config_field();
                g.extend(parse_strings(kind, r.get(field), field, &opts)?);
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
