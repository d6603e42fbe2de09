//! The shared harness for veil's integration tests (`mod common;` in each test file).
//!
//! It exists so that every test runs veil and the real peers (sops, age, gpg, OpenBao, moto) the
//! same way: in a private sandbox directory whose HOME and XDG_CONFIG_HOME point into it, with
//! the environment cleared (so every SOPS_*/AWS_*/VAULT_*/GOOGLE_*/AZURE_* variable of the
//! developer's machine is gone) and
//! fake cloud credentials set, so that no test can read the developer's real keys or reach a
//! cloud endpoint. It must not hide a missing peer in CI: with `CI=true` a missing peer panics
//! (see [`require_peer`]); elsewhere it prints a loud SKIP line.
//!
//! It also holds data comparators ([`Data`], [`yaml_docs`], [`json_doc`], [`dotenv_pairs`],
//! [`ini_sections`]) that compare two documents the way sops 3.11 sees them (go-yaml v3 scalar
//! resolution, JSON numbers as float64), because veil is required to be data-identical to sops,
//! not byte-identical.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub use assert_cmd::Command;

// ---------------------------------------------------------------------------------------------
// Paths and peers

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

/// Returns true when the peer binary `name` is installed. When it is missing: in CI
/// (`CI=true`) this panics, because a missing peer there is a failure, not a skip; elsewhere it
/// prints a loud SKIP line to stderr and returns false, and the caller returns early.
#[track_caller]
pub fn require_peer(name: &str) -> bool {
    if peer_path(name).is_some() {
        return true;
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
    false
}

/// Writes straight to the stderr file descriptor: libtest captures `eprintln!` of passing
/// tests, and a skip must be seen.
fn loud(msg: &str) {
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

// ---------------------------------------------------------------------------------------------
// Sandbox

/// The only variables a child inherits from the test process; everything else (SOPS_*,
/// AWS_*, VAULT_*, GOOGLE_*, AZURE_*, GNUPGHOME, HOME, XDG_*, EDITOR, SSH_AUTH_SOCK, …) is
/// dropped, so nothing can point a test at the developer's real keys, config or cloud accounts.
pub const INHERITED_VARS: &[&str] = &[
    "PATH",
    "TMPDIR",
    "TERM",
    "USER",
    "LOGNAME",
    "RUST_BACKTRACE",
    "RUST_LIB_BACKTRACE",
    "LLVM_PROFILE_FILE",
    "CARGO_LLVM_COV",
    "CARGO_LLVM_COV_TARGET_DIR",
];

/// Which committed test key to use (see `testdata/keys/README.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestKey {
    Age1,
    Age2,
    AgeUnrelated,
}

impl TestKey {
    pub fn identity_file(self) -> &'static str {
        match self {
            TestKey::Age1 => "keys/test-age-1.txt",
            TestKey::Age2 => "keys/test-age-2.txt",
            TestKey::AgeUnrelated => "keys/test-age-unrelated.txt",
        }
    }
    /// The `age1…` recipient string.
    pub fn recipient(self) -> String {
        let rel = self.identity_file().replace(".txt", ".pub");
        String::from_utf8(read_testdata(&rel))
            .expect("recipient is utf-8")
            .trim()
            .to_string()
    }
}

/// The SSH test key's public line (`ssh-ed25519 AAAA… comment`), as sops stores it.
pub fn ssh_recipient() -> String {
    String::from_utf8(read_testdata("keys/test-ssh-ed25519.pub"))
        .expect("ssh public key is utf-8")
        .trim()
        .to_string()
}

/// A private directory (mode 0700) that is the HOME, XDG_CONFIG_HOME and working directory of
/// every command built through it. Removed on drop.
pub struct Sandbox {
    dir: tempfile::TempDir,
    extra_env: Vec<(String, String)>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("veil-test-")
            .tempdir()
            .expect("cannot create a temp dir");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).expect("chmod 0700");
        // sops (and veil) search .sops.yaml from the working directory upwards: a stray one
        // above the temp dir would change what the tests mean.
        for anc in dir.path().ancestors().skip(1) {
            for name in [".sops.yaml", ".veil.yaml"] {
                assert!(
                    !anc.join(name).exists(),
                    "a stray {} above the test sandbox would change the tests; remove it",
                    anc.join(name).display()
                );
            }
        }
        let sb = Sandbox {
            dir,
            extra_env: Vec::new(),
        };
        fs::create_dir_all(sb.home().join(".config")).expect("mkdir home/.config");
        fs::set_permissions(sb.home(), fs::Permissions::from_mode(0o700)).expect("chmod home");
        sb
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The sandbox's HOME (`<sandbox>/home`).
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// The sandbox's XDG_CONFIG_HOME (`<sandbox>/home/.config`).
    pub fn config_home(&self) -> PathBuf {
        self.home().join(".config")
    }

    /// Writes `bytes` to `<sandbox>/<name>` (creating parent dirs) and returns the path.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(&p, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", p.display()));
        p
    }

    /// Copies `testdata/<rel>` into the sandbox under `name` and returns the new path.
    pub fn copy_testdata(&self, rel: &str, name: &str) -> PathBuf {
        self.write(name, read_testdata(rel))
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        let p = self.dir.path().join(name);
        fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
    }

    /// Writes a private key file (mode 0600).
    pub fn write_secret(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.write(name, bytes);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).expect("chmod 0600");
        p
    }

    /// Copies a committed test age identity into the sandbox (0600) and returns its path, for
    /// `SOPS_AGE_KEY_FILE`.
    pub fn age_key_file(&self, key: TestKey) -> PathBuf {
        let name = key.identity_file().replace("keys/", "keys-");
        self.write_secret(&name, read_testdata(key.identity_file()))
    }

    /// Several identities in one key file (as sops allows).
    pub fn age_key_file_with(&self, keys: &[TestKey]) -> PathBuf {
        let mut text = Vec::new();
        for k in keys {
            text.extend_from_slice(&read_testdata(k.identity_file()));
            text.push(b'\n');
        }
        self.write_secret("keys-combined.txt", text)
    }

    /// Copies the committed SSH test key into the sandbox (0600) and returns its path, for
    /// `SOPS_AGE_SSH_PRIVATE_KEY_FILE`.
    pub fn ssh_key_file(&self) -> PathBuf {
        self.write_secret("ssh-test-ed25519", read_testdata("keys/test-ssh-ed25519"))
    }

    /// Installs a test age identity at the default location both tools read without any
    /// variable: `$XDG_CONFIG_HOME/sops/age/keys.txt`.
    pub fn install_default_age_key(&self, key: TestKey) -> PathBuf {
        let dir = self.config_home().join("sops").join("age");
        fs::create_dir_all(&dir).expect("mkdir sops/age");
        let p = dir.join("keys.txt");
        fs::write(&p, read_testdata(key.identity_file())).expect("write keys.txt");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).expect("chmod");
        p
    }

    /// Installs the SSH test key as `~/.ssh/id_ed25519` in the sandbox HOME.
    pub fn install_default_ssh_key(&self) -> PathBuf {
        let dir = self.home().join(".ssh");
        fs::create_dir_all(&dir).expect("mkdir .ssh");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod .ssh");
        let p = dir.join("id_ed25519");
        fs::write(&p, read_testdata("keys/test-ssh-ed25519")).expect("write id_ed25519");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).expect("chmod");
        fs::write(
            dir.join("id_ed25519.pub"),
            read_testdata("keys/test-ssh-ed25519.pub"),
        )
        .expect("write id_ed25519.pub");
        p
    }

    /// Adds a variable to every command built from now on (after the scrub).
    pub fn set_env(&mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> &mut Self {
        self.extra_env
            .push((k.to_string(), v.as_ref().to_string_lossy().into_owned()));
        self
    }

    /// Adds the running peer servers' variables (see [`require_servers`]).
    pub fn with_peer_env(&mut self, env: &[(String, String)]) -> &mut Self {
        self.extra_env.extend(env.iter().cloned());
        self
    }

    /// Applies the isolation to any command: a cleared environment (only [`INHERITED_VARS`]
    /// kept), HOME/XDG in the sandbox, fake cloud credentials, working directory = the sandbox.
    /// It clears variables set on `cmd` before, so call it first and add test variables after.
    pub fn isolate(&self, cmd: &mut Command) {
        cmd.env_clear().current_dir(self.dir.path());
        for (k, v) in self.isolated_env() {
            cmd.env(k, v);
        }
    }

    /// [`Sandbox::isolate`] for a `std::process::Command` (a child to spawn and signal).
    pub fn isolate_std(&self, cmd: &mut std::process::Command) {
        cmd.env_clear().current_dir(self.dir.path());
        for (k, v) in self.isolated_env() {
            cmd.env(k, v);
        }
    }

    /// The whole environment of an isolated command.
    fn isolated_env(&self) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
        let mut env: Vec<(std::ffi::OsString, std::ffi::OsString)> = INHERITED_VARS
            .iter()
            .filter_map(|k| std::env::var_os(k).map(|v| ((*k).into(), v)))
            .collect();
        let fake_aws = self.dir.path().join("no-aws-config");
        let fixed: [(&str, std::ffi::OsString); 12] = [
            ("HOME", self.home().into()),
            ("XDG_CONFIG_HOME", self.config_home().into()),
            ("GNUPGHOME", self.home().join(".gnupg").into()),
            // Fake credentials for every cloud SDK, so nothing falls through to a metadata
            // endpoint or a real profile.
            ("AWS_ACCESS_KEY_ID", "veil-test-fake".into()),
            ("AWS_SECRET_ACCESS_KEY", "veil-test-fake".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", fake_aws.clone().into()),
            ("AWS_SHARED_CREDENTIALS_FILE", fake_aws.into()),
            ("GOOGLE_OAUTH_ACCESS_TOKEN", "veil-test-fake".into()),
            ("SOPS_DISABLE_VERSION_CHECK", "1".into()),
            ("LC_ALL", "C.UTF-8".into()),
        ];
        env.extend(fixed.into_iter().map(|(k, v)| (k.into(), v)));
        env.extend(self.extra_env.iter().map(|(k, v)| (k.into(), v.into())));
        env
    }

    /// Write `plain` as `name` and encrypt it in place for age key 1 (the sandbox's key must
    /// be set up by the caller for later decryption).
    pub fn encrypt_for_age1(&self, name: &str, plain: &str) -> PathBuf {
        let p = self.write(name, plain);
        run_ok(
            self.veil()
                .args(["encrypt", "-i", "--age", &TestKey::Age1.recipient()])
                .arg(&p),
            "encrypt",
        );
        p
    }

    /// `veil` (the binary under test), isolated.
    pub fn veil(&self) -> Command {
        let mut c = veil();
        self.isolate(&mut c);
        c
    }

    /// The real sops, isolated. Call [`require_peer`]`("sops")` first.
    pub fn sops(&self) -> Command {
        let mut c = sops();
        self.isolate(&mut c);
        c
    }

    /// Any peer binary (`age`, `gpg`, `bao`, …), isolated. Call [`require_peer`] first.
    pub fn peer(&self, name: &str) -> Command {
        let p = peer_path(name).unwrap_or_else(|| peers_dir().join("bin").join(name));
        let mut c = Command::new(p);
        self.isolate(&mut c);
        c
    }
}

impl Sandbox {
    /// Creates a fresh GnuPG key in the sandbox's GNUPGHOME (ed25519 certify/sign key plus a
    /// cv25519 encryption subkey, no passphrase; the recipe of `shared/peers/README.md`) and
    /// returns its fingerprint. Call [`require_peer`]`("gpg")` first. The agent it starts is
    /// stopped when the sandbox is dropped.
    pub fn gpg_test_key(&self) -> String {
        let home = self.home().join(".gnupg");
        fs::create_dir_all(&home).expect("mkdir .gnupg");
        fs::set_permissions(&home, fs::Permissions::from_mode(0o700)).expect("chmod .gnupg");
        let uid = "veil test <test@example.invalid>";
        run_ok(
            self.peer("gpg")
                .args(["--batch", "--passphrase", "", "--quick-gen-key", uid])
                .args(["ed25519", "cert,sign", "never"]),
            "gpg --quick-gen-key",
        );
        let list = run_ok(
            self.peer("gpg").args([
                "--batch",
                "--with-colons",
                "--list-keys",
                "test@example.invalid",
            ]),
            "gpg --list-keys",
        );
        let fpr = text(&list)
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|rest| rest.split(':').find(|f| f.len() == 40))
            .expect("a fingerprint in gpg's listing")
            .to_string();
        run_ok(
            self.peer("gpg")
                .args(["--batch", "--passphrase", "", "--quick-add-key", &fpr])
                .args(["cv25519", "encr", "never"]),
            "gpg --quick-add-key",
        );
        fpr
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Stop a gpg-agent a test may have started in this GNUPGHOME (best effort).
        if self.home().join(".gnupg").exists() {
            if let Some(gpgconf) = peer_path("gpgconf") {
                let _ = std::process::Command::new(gpgconf)
                    .args(["--kill", "all"])
                    .env("GNUPGHOME", self.home().join(".gnupg"))
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status();
            }
        }
    }
}

/// The veil binary under test, NOT isolated (prefer [`Sandbox::veil`]).
///
/// `VEIL_TEST_BIN=/path` runs the suite against another program with veil's command line, which
/// is how the interop tests themselves are checked: pointed at a wrapper that execs the real
/// sops, they must pass. Refused in CI, where only the real veil may be tested.
pub fn veil() -> Command {
    match std::env::var_os("VEIL_TEST_BIN") {
        Some(bin) if !bin.is_empty() => {
            assert!(
                !in_ci(),
                "VEIL_TEST_BIN is set in CI; CI must test the built veil"
            );
            Command::new(bin)
        }
        _ => Command::new(env!("CARGO_BIN_EXE_veil")),
    }
}

/// The real sops binary (`<peers>/bin/sops`), NOT isolated (prefer [`Sandbox::sops`]).
pub fn sops() -> Command {
    Command::new(peers_dir().join("bin").join("sops"))
}

/// Runs a command and returns its stdout, panicking with exit code and stderr on failure.
#[track_caller]
pub fn run_ok(cmd: &mut Command, what: &str) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    if !out.status.success() {
        panic!(
            "{what}: exit {:?}\n--- stderr ---\n{}\n--- stdout ---\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
    }
    out.stdout
}

/// Runs a command and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (Option<i32>, Vec<u8>, String) {
    let out = cmd.output().expect("cannot run command");
    (
        out.status.code(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A UTF-8 view for assertions.
pub fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("output is not UTF-8: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Data comparison, as sops 3.11 sees documents

/// A document value as sops sees it. Equality follows sops's semantics: numbers compare by
/// value (so `3.0` equals `3`, which sops itself writes back as `3`, and all JSON numbers are
/// float64), NaN equals NaN, times compare as instants (`2024-01-01` equals
/// `2024-01-01T00:00:00Z`), maps compare in order (sops keeps key order).
#[derive(Clone, Debug)]
pub enum Data {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    /// Nanoseconds since the Unix epoch, UTC.
    Time(i128),
    Seq(Vec<Data>),
    Map(Vec<(String, Data)>),
}

impl PartialEq for Data {
    fn eq(&self, other: &Data) -> bool {
        use Data::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => (a.is_nan() && b.is_nan()) || a == b,
            (Int(a), Float(b)) | (Float(b), Int(a)) => (*a as f64) == *b,
            (Str(a), Str(b)) => a == b,
            (Time(a), Time(b)) => a == b,
            (Seq(a), Seq(b)) => a == b,
            (Map(a), Map(b)) => a == b,
            _ => false,
        }
    }
}

impl Data {
    /// Looks up a key in a map.
    pub fn get(&self, key: &str) -> Option<&Data> {
        match self {
            Data::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Data::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_seq(&self) -> Option<&[Data]> {
        match self {
            Data::Seq(s) => Some(s),
            _ => None,
        }
    }
    /// The same value without the top-level `sops` key (for comparing encrypted files).
    pub fn without_sops(&self) -> Data {
        match self {
            Data::Map(m) => Data::Map(m.iter().filter(|(k, _)| k != "sops").cloned().collect()),
            other => other.clone(),
        }
    }
}

/// Explains the first difference between two values (for assertion messages), or None.
pub fn first_difference(a: &Data, b: &Data, path: &str) -> Option<String> {
    match (a, b) {
        (Data::Map(x), Data::Map(y)) => {
            for (i, ((ka, va), (kb, vb))) in x.iter().zip(y.iter()).enumerate() {
                if ka != kb {
                    return Some(format!("{path}: key #{i} is {ka:?} vs {kb:?}"));
                }
                if let Some(d) = first_difference(va, vb, &format!("{path}[{ka:?}]")) {
                    return Some(d);
                }
            }
            if x.len() != y.len() {
                return Some(format!("{path}: {} keys vs {} keys", x.len(), y.len()));
            }
            None
        }
        (Data::Seq(x), Data::Seq(y)) => {
            for (i, (va, vb)) in x.iter().zip(y.iter()).enumerate() {
                if let Some(d) = first_difference(va, vb, &format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            if x.len() != y.len() {
                return Some(format!("{path}: {} items vs {} items", x.len(), y.len()));
            }
            None
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a:?} vs {b:?}")),
    }
}

/// Asserts two documents are data-equal, with the first difference in the message.
#[track_caller]
pub fn assert_data_eq(left: &[Data], right: &[Data], what: &str) {
    if left.len() != right.len() {
        panic!(
            "{what}: {} documents vs {} documents",
            left.len(),
            right.len()
        );
    }
    for (i, (a, b)) in left.iter().zip(right.iter()).enumerate() {
        if let Some(d) = first_difference(a, b, &format!("doc{i}")) {
            panic!("{what}: data differs at {d}");
        }
    }
}

/// Parses a YAML stream into its documents, resolving plain scalars the way go-yaml v3 does
/// for sops (YAML 1.2 core schema, plus timestamps; `yes`/`no` stay strings), expanding
/// aliases. An empty stream is zero documents.
pub fn yaml_docs(src: &str) -> Result<Vec<Data>, String> {
    use saphyr_parser::{Event, Parser};
    enum Frame {
        Seq(Vec<Data>, usize),
        Map(Vec<(String, Data)>, Option<String>, usize),
    }
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Data> = HashMap::new();
    let mut doc_value: Option<Data> = None;

    // Puts a finished node into its parent (or the document), remembering its anchor.
    fn place(
        stack: &mut [Frame],
        doc_value: &mut Option<Data>,
        anchors: &mut HashMap<usize, Data>,
        v: Data,
        anchor: usize,
    ) -> Result<(), String> {
        if anchor != 0 {
            anchors.insert(anchor, v.clone());
        }
        match stack.last_mut() {
            None => *doc_value = Some(v),
            Some(Frame::Seq(items, _)) => items.push(v),
            Some(Frame::Map(entries, pending, _)) => match pending.take() {
                None => match v {
                    Data::Str(k) => *pending = Some(k),
                    // sops refuses non-string keys; keep their text form for comparison.
                    Data::Int(i) => *pending = Some(i.to_string()),
                    Data::Bool(b) => *pending = Some(b.to_string()),
                    Data::Null => *pending = Some(String::new()),
                    other => return Err(format!("complex map key {other:?}")),
                },
                Some(k) => entries.push((k, v)),
            },
        }
        Ok(())
    }

    for ev in Parser::new_from_str(src) {
        let (ev, _span) = ev.map_err(|e| format!("yaml parse error: {e}"))?;
        match ev {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(_) => doc_value = None,
            Event::DocumentEnd => docs.push(doc_value.take().unwrap_or(Data::Null)),
            Event::Alias(id) => {
                let v = anchors
                    .get(&id)
                    .cloned()
                    .ok_or("alias to an unknown anchor")?;
                place(&mut stack, &mut doc_value, &mut anchors, v, 0)?;
            }
            Event::Scalar(value, style, anchor, tag) => {
                let v = resolve_scalar(
                    &value,
                    style,
                    tag.as_deref().map(|t| (&t.handle, &t.suffix)),
                );
                place(&mut stack, &mut doc_value, &mut anchors, v, anchor)?;
            }
            Event::SequenceStart(anchor, _) => stack.push(Frame::Seq(Vec::new(), anchor)),
            Event::MappingStart(anchor, _) => stack.push(Frame::Map(Vec::new(), None, anchor)),
            Event::SequenceEnd | Event::MappingEnd => {
                let (v, anchor) = match stack.pop() {
                    Some(Frame::Seq(items, a)) => (Data::Seq(items), a),
                    Some(Frame::Map(entries, _, a)) => (Data::Map(entries), a),
                    None => return Err("unbalanced yaml events".into()),
                };
                place(&mut stack, &mut doc_value, &mut anchors, v, anchor)?;
            }
        }
    }
    Ok(docs)
}

fn resolve_scalar(
    value: &str,
    style: saphyr_parser::ScalarStyle,
    tag: Option<(&String, &String)>,
) -> Data {
    use saphyr_parser::ScalarStyle;
    if let Some((handle, suffix)) = tag {
        if handle == "tag:yaml.org,2002:" || handle == "!!" {
            match suffix.as_str() {
                "str" | "binary" => return Data::Str(value.to_string()),
                "int" | "float" | "bool" | "null" | "timestamp" => {
                    return resolve_plain(value);
                }
                _ => {}
            }
        } else if handle == "!" && suffix.is_empty() {
            return Data::Str(value.to_string());
        }
    }
    if style != ScalarStyle::Plain {
        return Data::Str(value.to_string());
    }
    resolve_plain(value)
}

/// go-yaml v3's resolution of an untagged plain scalar (resolve.go), as far as sops sees it.
pub fn resolve_plain(s: &str) -> Data {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Data::Null,
        "true" | "True" | "TRUE" => return Data::Bool(true),
        "false" | "False" | "FALSE" => return Data::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Data::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Data::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Data::Float(f64::NAN),
        _ => {}
    }
    if let Some(i) = parse_go_int(s) {
        return Data::Int(i);
    }
    if is_yaml_float(s) {
        if let Ok(f) = s.parse::<f64>() {
            return Data::Float(f);
        }
    }
    if let Some(t) = parse_yaml_timestamp(s) {
        return Data::Time(t);
    }
    Data::Str(s.to_string())
}

/// Go `strconv.ParseInt(s, 0, 64)` after go-yaml removed underscores: decimal, `0x`, `0o`,
/// `0b`, and a leading `0` meaning octal. Returns None outside int64 (sops refuses those).
pub fn parse_go_int(s: &str) -> Option<i128> {
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    let (neg, body) = match plain.as_bytes().first()? {
        b'-' => (true, &plain[1..]),
        b'+' => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i128::from_str_radix(digits, radix).ok()?;
    let v = if neg { -v } else { v };
    if v < i64::MIN as i128 || v > i64::MAX as i128 {
        return None;
    }
    Some(v)
}

/// go-yaml v3's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
pub fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// go-yaml v3's timestamp formats: `2006-1-2T15:4:5.999999999Z07:00` (also lowercase `t`),
/// `2006-1-2 15:4:5.999999999` (no zone) and `2006-1-2`. Returns UTC nanoseconds.
pub fn parse_yaml_timestamp(s: &str) -> Option<i128> {
    let num = |t: &str, min: usize, max: usize| -> Option<i64> {
        if t.len() < min || t.len() > max || !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (date, rest, sep_t) = if let Some(p) = s.find(['T', 't']) {
        (&s[..p], Some(&s[p + 1..]), true)
    } else if let Some(p) = s.find(' ') {
        (&s[..p], Some(&s[p + 1..]), false)
    } else {
        (s, None, false)
    };
    let mut dp = date.split('-');
    let y = num(dp.next()?, 4, 4)?;
    let mo = num(dp.next()?, 1, 2)?;
    let d = num(dp.next()?, 1, 2)?;
    if dp.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    let mut nanos: i128 = days as i128 * 86_400 * 1_000_000_000;
    let Some(rest) = rest else { return Some(nanos) };
    // Split off the zone (only allowed in the T form).
    let (clock, zone) = if sep_t {
        if let Some(c) = rest.strip_suffix(['Z', 'z']) {
            (c, 0i64)
        } else if let Some(p) = rest.rfind(['+', '-']) {
            let z = &rest[p + 1..];
            let (zh, zm) = z.split_once(':')?;
            let secs = num(zh, 2, 2)? * 3600 + num(zm, 2, 2)? * 60;
            (
                &rest[..p],
                if &rest[p..p + 1] == "-" { -secs } else { secs },
            )
        } else {
            return None;
        }
    } else {
        (rest, 0)
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (clock, None),
    };
    let mut cp = hms.split(':');
    let h = num(cp.next()?, 1, 2)?;
    let mi = num(cp.next()?, 1, 2)?;
    let se = num(cp.next()?, 1, 2)?;
    if cp.next().is_some() || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut frac_nanos: i128 = 0;
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 9 || !f.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        frac_nanos = format!("{f:0<9}").parse().ok()?;
    }
    nanos += ((h * 3600 + mi * 60 + se - zone) as i128) * 1_000_000_000 + frac_nanos;
    Some(nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a JSON document as sops 3.11 sees it: every number is a float64.
pub fn json_doc(src: &str) -> Result<Data, String> {
    let v: serde_json::Value = serde_json::from_str(src).map_err(|e| format!("json: {e}"))?;
    fn conv(v: &serde_json::Value) -> Data {
        match v {
            serde_json::Value::Null => Data::Null,
            serde_json::Value::Bool(b) => Data::Bool(*b),
            serde_json::Value::Number(n) => Data::Float(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Data::Str(s.clone()),
            serde_json::Value::Array(a) => Data::Seq(a.iter().map(conv).collect()),
            serde_json::Value::Object(o) => {
                Data::Map(o.iter().map(|(k, v)| (k.clone(), conv(v))).collect())
            }
        }
    }
    Ok(conv(&v))
}

/// dotenv as sops reads it (spec 7.3): `KEY=value` lines in order, blank lines dropped,
/// `#` lines are comments (returned with key `#`), `\n` in values is a newline. No quote
/// processing.
pub fn dotenv_pairs(src: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (n, line) in src.split('\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            out.push(("#".to_string(), c.to_string()));
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .ok_or(format!("dotenv line {} has no '='", n + 1))?;
        out.push((k.to_string(), v.replace("\\n", "\n")));
    }
    Ok(out)
}

/// INI reduced to data the way go-ini reads it: sections in order (keys before the first
/// section in `DEFAULT`), `key = value` with surrounding whitespace trimmed and one layer of
/// `"`, `'` or backtick quoting removed. Comments and blank lines are ignored.
pub fn ini_sections(src: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = vec![("DEFAULT".into(), Vec::new())];
    for line in src.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with(';') || t.starts_with('#') {
            continue;
        }
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            out.push((name.trim().to_string(), Vec::new()));
            continue;
        }
        let (k, v) = t.split_once('=').unwrap_or((t, ""));
        let v = v.trim();
        let unq = ['"', '\'', '`']
            .iter()
            .find_map(|q| v.strip_prefix(*q).and_then(|r| r.strip_suffix(*q)))
            .unwrap_or(v);
        if let Some(last) = out.last_mut() {
            last.1.push((k.trim().to_string(), unq.to_string()));
        }
    }
    out.retain(|(name, keys)| name != "DEFAULT" || !keys.is_empty());
    out
}

/// The comment texts of a YAML file (text after `#`, trimmed), in order. Line-based: a `#` at
/// the start of a line or after whitespace, outside quotes and outside block scalars. Good
/// enough for the fixtures, which keep `#` out of block scalars.
pub fn yaml_comments(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut block_indent: Option<usize> = None;
    for line in src.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(bi) = block_indent {
            if line.trim().is_empty() || indent > bi {
                continue;
            }
            block_indent = None;
        }
        let (mut in_s, mut in_d, mut prev_ws) = (false, false, true);
        let mut code_end = line.len();
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            match c {
                b'\'' if !in_d => in_s = !in_s,
                b'"' if !in_s => in_d = !in_d,
                b'\\' if in_d => i += 1,
                b'#' if !in_s && !in_d && prev_ws => {
                    out.push(line[i + 1..].trim().to_string());
                    code_end = i;
                    break;
                }
                _ => {}
            }
            prev_ws = c == b' ' || c == b'\t';
            i += 1;
        }
        let code = line[..code_end].trim_end();
        // A block scalar header (`key: |`, `- >-`, `key: |2+`): skip its body.
        if let Some(last) = code.split_whitespace().last() {
            if (last.starts_with('|') || last.starts_with('>'))
                && last[1..]
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '-' || c == '+')
            {
                block_indent = Some(indent);
            }
        }
    }
    out.retain(|c| !c.is_empty());
    out
}

/// Asserts that every comment text in `expected` appears in `actual` (in any place): sops
/// moves comments around, so only presence is compared.
#[track_caller]
pub fn assert_comments_kept(expected: &[String], actual: &[String], what: &str) {
    for c in expected {
        assert!(
            actual.contains(c),
            "{what}: comment {c:?} missing; comments present: {actual:?}"
        );
    }
}
