//! `veil agent`: sops's key service on a private unix socket that caches the data keys it
//! unwraps, so 200 files encrypted for one KMS key (or a passphrase-protected identity) cost
//! one KMS call (one prompt) per session instead of one per file and command.
//!
//! - [`cache`]: the unwrapped keys, in memory only, by a hash of the wrapped key, for a TTL.
//! - [`daemon`]: the server (`veil agent run`, and `start` which runs it detached). It answers
//!   sops's `KeyService` (`Decrypt` through the cache; `Encrypt` with this machine's keys,
//!   never cached) and veil's own `veil.Agent` service (`Status`, `Stop`) on the same socket.
//! - [`client`]: what every veil command that unwraps tries first, and `status`/`stop`.
//!
//! The socket is trusted only when it and its directory are ours and the directory is not
//! group or world writable, and the process behind it runs as our uid (SO_PEERCRED, on both
//! sides): a socket another user planted must neither see our wrapped keys nor hand us a data
//! key. veil only ever sends the agent *wrapped* keys: no plaintext data key goes to it (veil
//! never routes `Encrypt` through it). This module must not log, print or put into an error
//! any key material; `status` shows kinds, public names and expiry only.

pub mod cache;
pub mod client;
pub mod daemon;

use crate::error::{Error, Result};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// gRPC path of `veil.Agent/Status`.
pub const STATUS_PATH: &str = "/veil.Agent/Status";
/// gRPC path of `veil.Agent/Stop`.
pub const STOP_PATH: &str = "/veil.Agent/Stop";

/// The socket path variable (set by `eval "$(veil agent start)"`).
pub const VEIL_AGENT_SOCK: &str = "VEIL_AGENT_SOCK";
/// `VEIL_AGENT=0` turns the agent off for a command.
pub const VEIL_AGENT: &str = "VEIL_AGENT";

/// The default TTL of a cached key.
pub const DEFAULT_TTL: &str = "15m";
/// The longest TTL the agent takes: a cached key should not outlive a working month.
pub const MAX_TTL: Duration = Duration::from_secs(30 * 86400);
/// The default number of cached keys.
pub const DEFAULT_MAX_ENTRIES: usize = 4096;

/// `veil.Agent/Status` and `veil.Agent/Stop` take an empty message.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Empty {}

/// One cached key as `status` shows it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Entry {
    #[prost(string, tag = "1")]
    pub kind: String,
    #[prost(string, tag = "2")]
    pub id: String,
    #[prost(uint64, tag = "3")]
    pub expires_in_seconds: u64,
}

/// The agent's state, without any key.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StatusResponse {
    #[prost(message, repeated, tag = "1")]
    pub entries: Vec<Entry>,
    #[prost(uint64, tag = "2")]
    pub ttl_seconds: u64,
    #[prost(uint64, tag = "3")]
    pub max_entries: u64,
    #[prost(uint32, tag = "4")]
    pub pid: u32,
}

/// The socket this run's agent uses: `VEIL_AGENT_SOCK`, else `agent.sock` in veil's private
/// socket directory (`$XDG_RUNTIME_DIR/veil`, else `<temp dir>/veil-<uid>`). The flag says
/// whether it is the default one.
pub fn socket_path() -> (PathBuf, bool) {
    match crate::env::var(VEIL_AGENT_SOCK) {
        Some(p) => (PathBuf::from(p), false),
        None => (super::server::socket_dir().join("agent.sock"), true),
    }
}

/// Is the agent turned off for this run (`VEIL_AGENT=0`)?
pub fn disabled() -> bool {
    matches!(
        crate::env::var(VEIL_AGENT).as_deref(),
        Some("0" | "false" | "no" | "off")
    )
}

/// Is `dir` a directory of ours that no one else can write to?
pub fn check_dir(dir: &Path) -> std::result::Result<(), String> {
    let m = std::fs::symlink_metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !m.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    if m.uid() != rustix::process::geteuid().as_raw() {
        return Err(format!("{} belongs to uid {}", dir.display(), m.uid()));
    }
    if m.mode() & 0o022 != 0 {
        return Err(format!(
            "{} is writable by other users (mode {:o})",
            dir.display(),
            m.mode() & 0o777
        ));
    }
    Ok(())
}

/// May this socket be trusted with our wrapped keys? A socket (not a symlink) of ours, in a
/// directory [`check_dir`] accepts. The peer's uid is checked again on connecting.
pub fn check_socket(path: &Path) -> std::result::Result<(), String> {
    let m = std::fs::symlink_metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !m.file_type().is_socket() {
        return Err(format!("{} is not a socket", path.display()));
    }
    if m.uid() != rustix::process::geteuid().as_raw() {
        return Err(format!("{} belongs to uid {}", path.display(), m.uid()));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    check_dir(dir)
}

/// Parse a TTL: whole numbers with a unit, `s`, `m`, `h` or `d`, optionally chained (`90s`,
/// `15m`, `1h30m`); a bare number is seconds. At most [`MAX_TTL`].
pub fn parse_ttl(s: &str) -> Result<Duration> {
    let bad = || {
        Error::generic(format!("invalid TTL {s:?}"))
            .hint("use a number with a unit: 90s, 15m, 2h, 1d, or 1h30m")
    };
    let too_long = || {
        Error::generic(format!(
            "TTL {s:?} is too long: the agent keeps a key for at most 30 days"
        ))
        .hint("use --ttl 30d or less (the default is 15m)")
    };
    let t = s.trim();
    if t.is_empty() {
        return Err(bad());
    }
    let total = match t.parse::<u64>() {
        Ok(n) => n,
        Err(_) => {
            let mut total: u64 = 0;
            let mut num = String::new();
            for c in t.chars() {
                if c.is_ascii_digit() {
                    num.push(c);
                    continue;
                }
                let unit = match c {
                    's' => 1,
                    'm' => 60,
                    'h' => 3600,
                    'd' => 86400,
                    _ => return Err(bad()),
                };
                // All digits, so a failure is an overflow: a number far too long.
                let n: u64 = match num.parse() {
                    Ok(n) => n,
                    Err(_) if !num.is_empty() => return Err(too_long()),
                    Err(_) => return Err(bad()),
                };
                num.clear();
                total = n
                    .checked_mul(unit)
                    .and_then(|v| total.checked_add(v))
                    .ok_or_else(too_long)?;
            }
            if !num.is_empty() {
                return Err(bad());
            }
            total
        }
    };
    let ttl = Duration::from_secs(total);
    if ttl > MAX_TTL {
        return Err(too_long());
    }
    Ok(ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_syntax() {
        assert_eq!(parse_ttl("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_ttl("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_ttl("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_ttl("1d").unwrap(), Duration::from_secs(86400));
        assert_eq!(parse_ttl("45").unwrap(), Duration::from_secs(45));
        for bad in ["", "m", "15x", "1.5h", "15m3", "-1s"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_ttl_beyond_thirty_days_is_refused_with_a_hint() {
        assert_eq!(parse_ttl("30d").unwrap(), MAX_TTL);
        assert_eq!(parse_ttl("2592000").unwrap(), MAX_TTL);
        // All but the last once parsed, and the agent panicked on its first cached key.
        for long in [
            "30d1s",
            "2592001",
            "18446744073709551615",
            "213503982334601d",
            "99999999999999999999999s",
        ] {
            let e = parse_ttl(long).unwrap_err();
            let shown = e.to_string();
            assert!(shown.contains("too long"), "{long}: {shown}");
            assert!(
                e.hint.as_deref().unwrap_or("").contains("30d or less"),
                "{long}: {shown}"
            );
        }
    }

    #[test]
    fn a_world_writable_directory_is_not_trusted() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(check_dir(d.path()).is_ok());
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(check_dir(d.path()).unwrap_err().contains("writable"));
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(check_dir(d.path()).is_err());
    }
}
