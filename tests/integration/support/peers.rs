//! Where the peers are and what a missing one means: `<peers>/bin/NAME` (`$VEIL_PEERS_DIR`,
//! else `<repo>/.peers`, where `scripts/peers.sh install` puts them), the servers' environment
//! from `<peers>/env.sh`, and one rule for a missing peer — a failure with `CI=true`, a loud
//! skip elsewhere. Every test finds its peers here.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under `testdata/`.
pub fn testdata(rel: &str) -> PathBuf {
    repo_root().join("testdata").join(rel)
}

/// Reads a file under `testdata/`, panicking with the path on failure.
pub fn read_testdata(rel: &str) -> Vec<u8> {
    let p = testdata(rel);
    fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// `$VEIL_PEERS_DIR`, else `<repo>/.peers` (where `scripts/peers.sh install` puts the peers).
pub fn peers_dir() -> PathBuf {
    match std::env::var_os("VEIL_PEERS_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => repo_root().join(".peers"),
    }
}

/// Where a peer binary is expected: `<peers>/bin/<name>`. For `age`, `age-keygen` and `gpg`,
/// which come from Debian packages, the system PATH is accepted too.
pub fn peer_path(name: &str) -> Option<PathBuf> {
    let p = peers_dir().join("bin").join(name);
    if is_executable(&p) {
        return Some(p);
    }
    if matches!(name, "age" | "age-keygen" | "gpg" | "gpgconf") {
        let path = std::env::var_os("PATH")?;
        for dir in std::env::split_paths(&path) {
            let c = dir.join(name);
            if is_executable(&c) {
                return Some(c);
            }
        }
    }
    None
}

fn is_executable(p: &Path) -> bool {
    fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// True when running in CI (`CI=true`, as `.ci/run` and `scripts/test.sh` set it).
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

/// Returns true when the peer binary `name` is installed; see [`require_peer_path`].
#[track_caller]
pub fn require_peer(name: &str) -> bool {
    require_peer_path(name).is_some()
}

/// The path of the peer binary `name` when it is installed. When it is missing: in CI
/// (`CI=true`) this panics, because a missing peer there is a failure, not a skip; elsewhere it
/// prints a loud SKIP line to stderr and returns None, and the caller returns early.
#[track_caller]
pub fn require_peer_path(name: &str) -> Option<PathBuf> {
    if let Some(p) = peer_path(name) {
        return Some(p);
    }
    let expected = peers_dir().join("bin").join(name);
    if in_ci() {
        panic!(
            "peer `{name}` is missing (looked for {}) and CI=true: a missing peer is a failure \
             in CI; run `scripts/peers.sh install` (and `start` for servers)",
            expected.display()
        );
    }
    let caller = std::panic::Location::caller();
    loud(&format!(
        "SKIP {caller}: peer `{name}` not installed ({}); run `scripts/peers.sh install`. \
         With CI=true this is a failure.",
        expected.display()
    ));
    None
}

/// Writes straight to the stderr file descriptor: libtest captures `eprintln!` of passing
/// tests, and a skip must be seen.
pub(crate) fn loud(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n!!!!!!!! {msg} !!!!!!!!");
}

/// The variables `scripts/peers.sh start` wrote to `<peers>/env.sh` (VAULT_ADDR, VAULT_TOKEN,
/// AWS_ENDPOINT_URL, ...), or None when the servers are not running.
pub fn peer_env() -> Option<Vec<(String, String)>> {
    let text = fs::read_to_string(peers_dir().join("env.sh")).ok()?;
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("export ") else {
            continue;
        };
        let Some((k, v)) = rest.split_once('=') else {
            continue;
        };
        let v = v
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .unwrap_or(v);
        out.push((k.to_string(), v.to_string()));
    }
    Some(out)
}

/// Like [`require_peer`] for the servers started by `scripts/peers.sh start` (`bao`, `moto`):
/// returns their environment, or None (after a SKIP line; a panic in CI) when not running.
#[track_caller]
pub fn require_servers() -> Option<Vec<(String, String)>> {
    if let Some(env) = peer_env() {
        return Some(env);
    }
    let msg = "peer servers are not running (no <peers>/env.sh); run `scripts/peers.sh start`";
    if in_ci() {
        panic!("{msg}; with CI=true this is a failure");
    }
    loud(&format!("SKIP {}: {msg}", std::panic::Location::caller()));
    None
}
