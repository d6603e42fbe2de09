//! `--verbose` step logging to stderr, and the process-wide global options (`--config`,
//! `--indent`, `--verbose`) that clap accepts before or after the subcommand.
//!
//! Log lines name files, formats, key sources and public key identifiers (age recipients,
//! fingerprints, ARNs) — never a plaintext value, a data key or a private identity. No colour is
//! ever emitted, so `NO_COLOR` and non-terminal stderr are honoured trivially.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

static VERBOSE: AtomicBool = AtomicBool::new(false);
static GLOBALS: OnceLock<Globals> = OnceLock::new();

/// The global options of one run.
#[derive(Clone, Debug, Default)]
pub struct Globals {
    /// `--config PATH` (or `SOPS_CONFIG`).
    pub config: Option<String>,
    /// `--indent N`: overrides `.sops.yaml` `stores` for fresh layouts.
    pub indent: Option<i64>,
    /// `--verbose`.
    pub verbose: bool,
    /// `--force`: replace a file even when it has other hard links.
    pub force: bool,
}

/// Record the global options; the first call wins (one parse per process).
pub fn init(g: Globals) {
    VERBOSE.store(g.verbose, Ordering::Relaxed);
    let _ = GLOBALS.set(g);
}

/// The global options (defaults when [`init`] was not called, e.g. in unit tests).
pub fn globals() -> Globals {
    GLOBALS.get().cloned().unwrap_or_default()
}

/// Whether `--verbose` is on.
pub fn enabled() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Whether stderr must carry exactly what sops prints: veil was invoked as `sops` and
/// `--verbose` is off. Scripts, and sops's own functional tests, compare sops's stderr byte for
/// byte, so veil's own advice (`hint:` lines, notes) is left out then; `--verbose` or the
/// `veil` name bring it back.
pub fn sops_quiet() -> bool {
    super::invoked_name() == "sops" && !enabled()
}

/// An error as it is printed: the cause, then the `hint:` line unless [`sops_quiet`].
pub fn render_error(e: &crate::error::Error) -> String {
    if sops_quiet() {
        e.message.clone()
    } else {
        e.to_string()
    }
}

/// Print veil's own advice on stderr (a note or warning sops does not print); silent when
/// [`sops_quiet`].
pub fn advise(msg: impl AsRef<str>) {
    if !sops_quiet() {
        eprintln!("{}", msg.as_ref());
    }
}

/// Log one step to stderr when `--verbose` is on. Callers pass names and public identifiers
/// only, never values.
pub fn step(msg: impl AsRef<str>) {
    if enabled() {
        eprintln!("[veil] {}", msg.as_ref());
    }
}

/// Log where decryption identities will come from (variable names and file paths, never
/// their contents), before a decryption.
pub fn key_sources() {
    if !enabled() {
        return;
    }
    use crate::env;
    if env::var(env::SOPS_AGE_KEY).is_some() {
        step("age identities: SOPS_AGE_KEY is set");
    }
    if let Some(f) = env::var(env::SOPS_AGE_KEY_FILE) {
        step(format!("age identities: SOPS_AGE_KEY_FILE={f}"));
    }
    if env::var(env::SOPS_AGE_KEY_CMD).is_some() {
        step("age identities: SOPS_AGE_KEY_CMD is set");
    }
    if let Some(f) = env::var(env::SOPS_AGE_SSH_PRIVATE_KEY_FILE) {
        step(format!("age identities: SOPS_AGE_SSH_PRIVATE_KEY_FILE={f}"));
    }
    // Other backends: addresses and paths are logged, tokens only as "set".
    for var in ["GNUPGHOME", "SOPS_GPG_EXEC", "AWS_PROFILE", "VAULT_ADDR"] {
        if let Some(v) = env::var(var) {
            step(format!("key source: {var}={v}"));
        }
    }
    if env::var("VAULT_TOKEN").is_some() {
        step("key source: VAULT_TOKEN is set");
    }
    #[cfg(feature = "hckms")]
    for line in crate::keys::hckms::key_source_lines() {
        step(line);
    }
    if let Some(p) = crate::keys::age::default_key_file() {
        let state = if p.exists() { "present" } else { "absent" };
        step(format!(
            "age identities: default key file {} ({state})",
            p.display()
        ));
    }
}

/// Log the master keys an encrypted file names, in order (public identifiers only).
pub fn file_keys(meta: Option<&crate::tree::Value>) {
    if !enabled() {
        return;
    }
    let Some(m) = meta.and_then(|v| crate::metadata::Metadata::from_tree(v).ok()) else {
        return;
    };
    for (i, g) in m.key_groups.iter().enumerate() {
        for k in g {
            step(format!("group {i}: will try {}", k.key.describe()));
        }
    }
}

/// Log the master keys a new file is encrypted for (public identifiers only).
pub fn new_keys(groups: &[Vec<crate::keys::KeyRef>]) {
    if !enabled() {
        return;
    }
    for (i, g) in groups.iter().enumerate() {
        for k in g {
            step(format!("group {i}: {}", k.describe()));
        }
    }
}

/// The pipeline's observer for this run: its steps, the keys a file names and where
/// identities come from, and the master keys that unwrapped the data key, all under
/// `--verbose` (public identifiers only); the file's version and those keys also go to the
/// audit entry (`crate::audit::session`), which is silent unless `VEIL_AUDIT` is set.
pub struct Verbose;

impl crate::pipeline::Observer for Verbose {
    fn step(&self, msg: &str) {
        step(msg);
    }
    fn unwrapping(&self, metadata: Option<&crate::tree::Value>) {
        key_sources();
        file_keys(metadata);
        crate::audit::session::unwrapping(metadata);
    }
    fn unwrapped_by(&self, keys: &[String]) {
        crate::audit::session::unwrapped_by(keys);
        if !keys.is_empty() {
            step(format!("data key unwrapped by {}", keys.join(", ")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_quiet_and_unset() {
        let g = Globals::default();
        assert!(!g.verbose);
        assert!(g.config.is_none() && g.indent.is_none());
    }
}
