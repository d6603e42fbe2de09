//! `.sops.yaml`: find it, match a creation rule to the file being created, build its key
//! groups, and merge it with the command line exactly as sops 3.11 does (docs/sops-format.md §5).
//!
//! It exists so that a team's existing `.sops.yaml` drives veil unchanged: the same search (from
//! the current directory, not the file's), the same first-match rule on the path relative to the
//! config's directory, the same key syntax (comma strings or lists, `key_groups` with `merge`,
//! `kms` ARNs with `+role`), the same precedence of flags and `SOPS_*` variables, and sops's exact
//! error texts. It only *names* keys ([`KeyRef`](crate::keys::KeyRef)), through the key
//! registry; it never contacts a key service, and it never sees file contents. Unknown keys are
//! ignored, as sops ignores them. Only the matched rule is interpreted in full, so a malformed
//! rule for other paths does not break this one.
//!
//! The parts: [`find`] (where the file is), [`node`] (the YAML it holds), [`file`] (the document
//! and which rule matches), [`rules`] and [`groups`] (what the matched rule says), [`stores`]
//! (output indentation), [`resolve`] (the command line against the rule).

mod file;
mod find;
mod groups;
mod node;
mod resolve;
mod rules;
mod stores;
#[cfg(test)]
mod tests;

pub use crate::keys::kind::{parse_azure_url, parse_hckms, parse_vault_uri};
pub use file::{Config, ConfigRule};
pub use find::{absolute_clean, explicit_config_path, find_config, load_config, FoundConfig};
use node::MAX_NESTING;
pub(crate) use node::{parse_bool, parse_int, Node};
pub use resolve::{parse_encryption_context, resolve, CliKeys, CreationRule};
pub(crate) use rules::interpret_rule;
pub use stores::StoresConfig;

use crate::error::{Code, Error};

/// The only config file name sops accepts.
pub const CONFIG_FILE_NAME: &str = ".sops.yaml";
/// The name sops ignores with a warning.
pub const ALTERNATE_CONFIG_NAME: &str = ".sops.yml";
/// How many directories the search climbs (sops's `maxDepth`).
pub const MAX_DEPTH: usize = 100;

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
pub use crate::error::EMPTY_KEY_GROUP;

fn config_error(msg: impl Into<String>) -> Error {
    Error::new(Code::Generic, msg)
}
