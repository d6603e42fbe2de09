//! Every environment variable veil reads, in one place, with what it means.
//!
//! They are sops's names, so veil drops into scripts and tools that already set them.

/// age identities, one per line (sops also accepts several per line, space-separated, 3.13+).
pub const SOPS_AGE_KEY: &str = "SOPS_AGE_KEY";
/// Path of an age identity file.
pub const SOPS_AGE_KEY_FILE: &str = "SOPS_AGE_KEY_FILE";
/// A command (shell-split, not run through a shell) printing age identities; the child gets
/// `SOPS_AGE_RECIPIENT` set to the recipient being decrypted.
pub const SOPS_AGE_KEY_CMD: &str = "SOPS_AGE_KEY_CMD";
/// Set for the child of `SOPS_AGE_KEY_CMD`.
pub const SOPS_AGE_RECIPIENT: &str = "SOPS_AGE_RECIPIENT";
/// Path of an SSH private key used as an age identity (`~/.ssh/id_ed25519` and `~/.ssh/id_rsa`
/// are tried too).
pub const SOPS_AGE_SSH_PRIVATE_KEY_FILE: &str = "SOPS_AGE_SSH_PRIVATE_KEY_FILE";
/// A command (shell-split, not run through a shell) printing one unencrypted SSH private key
/// used as an age identity; the child gets `SOPS_AGE_RECIPIENT` (sops 3.12).
pub const SOPS_AGE_SSH_PRIVATE_KEY_CMD: &str = "SOPS_AGE_SSH_PRIVATE_KEY_CMD";
/// Default age recipients for encryption (the default of `--age`).
pub const SOPS_AGE_RECIPIENTS: &str = "SOPS_AGE_RECIPIENTS";
/// Base of the default key file `$XDG_CONFIG_HOME/sops/age/keys.txt`.
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
/// The user's home (for `~/.ssh` and `~/.config`).
pub const HOME: &str = "HOME";
/// Order of key types tried when decrypting (`age,pgp,kms,…`).
pub const SOPS_DECRYPTION_ORDER: &str = "SOPS_DECRYPTION_ORDER";
/// Explicit path of the `.sops.yaml` config.
pub const SOPS_CONFIG: &str = "SOPS_CONFIG";

/// veil's own: `0` turns off the streaming YAML path (`format::yaml::fast`) and sends every
/// YAML file through the lossless parser. For comparing the two and for working around a bug.
pub const VEIL_YAML_FAST: &str = "VEIL_YAML_FAST";

/// veil's own, for its signal tests only: a marker path. An atomic write creates it when its
/// temp file is complete and waits, before the rename, until it is removed again (at most two
/// minutes), so a test can signal veil at that exact point.
pub const VEIL_TEST_HOLD_WRITE: &str = "VEIL_TEST_HOLD_WRITE";
/// veil's own: `1` requires veil's integrity field (`veil_integrity`) on every encrypted file
/// read, and writes it on every file encrypted — a pin kept outside the repository, since the
/// `.sops.yaml` that can require it is as trusted as whoever last changed it.
pub const VEIL_REQUIRE_INTEGRITY: &str = "VEIL_REQUIRE_INTEGRITY";

/// veil's own: the audit log (`docs/audit.md`). A file path (appended to, created 0600), or
/// `syslog` for the local syslog socket `/dev/log` (journald reads it), or `syslog:SOCKET`.
/// Unset: no audit.
pub const VEIL_AUDIT: &str = "VEIL_AUDIT";
/// veil's own: `1` makes the audit log fail closed: a command that cannot write its entry
/// refuses to run (or, once it has decrypted, to hand the plaintext out). Default: a warning.
pub const VEIL_AUDIT_REQUIRED: &str = "VEIL_AUDIT_REQUIRED";

/// Whether `VEIL_AUDIT_REQUIRED=1`.
pub fn audit_required() -> bool {
    var(VEIL_AUDIT_REQUIRED).as_deref() == Some("1")
}

/// Whether `VEIL_REQUIRE_INTEGRITY=1`.
pub fn require_integrity() -> bool {
    var(VEIL_REQUIRE_INTEGRITY).as_deref() == Some("1")
}

/// Whether the streaming YAML path may be used.
pub fn yaml_fast() -> bool {
    var(VEIL_YAML_FAST).as_deref() != Some("0")
}

/// veil's own: `0` turns off the streaming path of dotenv, INI and TOML files
/// (`format::stream`), like `VEIL_YAML_FAST` for YAML.
pub const VEIL_FLAT_FAST: &str = "VEIL_FLAT_FAST";

/// Whether a file of `format` may take its format's streaming path.
pub fn streaming(format: crate::format::Format) -> bool {
    use crate::format::Format;
    match format {
        Format::Yaml => yaml_fast(),
        Format::Dotenv | Format::Ini | Format::Toml => var(VEIL_FLAT_FAST).as_deref() != Some("0"),
        Format::Json | Format::Binary => false,
    }
}

/// veil's own: the rotation warning of decrypt, edit and exec-* for a file past its policy's
/// `max_age` (docs/policy.md). Unset: printed, except when veil runs as `sops` without
/// `--verbose` (scripts that run sops see sops's stderr); `1`: always; `0`: never.
pub const VEIL_ROTATION_WARNING: &str = "VEIL_ROTATION_WARNING";

/// Whether the rotation warning is printed; `as_sops`: stderr must be sops's.
pub fn rotation_warning(as_sops: bool) -> bool {
    match var(VEIL_ROTATION_WARNING).as_deref() {
        Some("0") => false,
        Some("1") => true,
        _ => !as_sops,
    }
}

/// Read a variable, treating an empty value as unset.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
