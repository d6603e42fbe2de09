//! The sandbox every test runs veil and the real sops in: a private 0700 directory that is the
//! child's HOME and XDG_CONFIG_HOME, an environment cleared down to [`INHERITED_VARS`] plus fake
//! cloud credentials, the committed test keys, and commands that run inside it. Also
//! [`process_env`], the environment of this test process itself for the tests that call key
//! backends in-process.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use assert_cmd::Command;

use super::peers::{in_ci, peer_path, peers_dir, read_testdata, testdata};

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
        write_file(&p, bytes.as_ref());
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
        let fixed: [(&str, std::ffi::OsString); 14] = [
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
            // Azure's managed-identity fallback asks the instance metadata service: a closed
            // loopback port instead of 169.254.169.254.
            (
                "AZURE_POD_IDENTITY_AUTHORITY_HOST",
                "http://127.0.0.1:9".into(),
            ),
            ("SOPS_DISABLE_VERSION_CHECK", "1".into()),
            ("LC_ALL", "C.UTF-8".into()),
            // No `veil agent` of the developer's (its default socket) answers for a test; the
            // agent tests turn it back on with their own socket.
            ("VEIL_AGENT", "0".into()),
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
    /// cv25519 encryption subkey, no passphrase so gpg never prompts) and
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

/// The environment of this test process, for the tests that build key backends in-process
/// (they read `HOME`, `SOPS_AGE_KEY_FILE` and the AWS variables the way veil does): a private
/// HOME, the committed test age key, fake AWS credentials with a `veil-test` profile (and a
/// `veil-nocreds` one without credentials) in private config files, the metadata service off,
/// and no variable that could point at a real key or server. All tests share one process, so
/// this is set once, before the first backend is built, and never changed afterwards; children
/// run through a [`Sandbox`] do not see it.
pub fn process_env() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("aws-config");
        let creds = dir.path().join("aws-credentials");
        fs::write(
            &config,
            "[profile veil-test]\nregion = us-east-1\n[profile veil-nocreds]\nregion = us-east-1\n",
        )
        .expect("write AWS config");
        fs::write(
            &creds,
            "[veil-test]\naws_access_key_id = profile-testing\naws_secret_access_key = profile-testing\n",
        )
        .expect("write AWS credentials");
        for (k, v) in [
            ("HOME", dir.path().display().to_string()),
            (
                "XDG_CONFIG_HOME",
                dir.path().join(".config").display().to_string(),
            ),
            (
                "SOPS_AGE_KEY_FILE",
                testdata("keys/test-age-1.txt").display().to_string(),
            ),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", config.display().to_string()),
            ("AWS_SHARED_CREDENTIALS_FILE", creds.display().to_string()),
        ] {
            std::env::set_var(k, v);
        }
        for k in [
            "SOPS_AGE_KEY",
            "SOPS_AGE_KEY_CMD",
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_KMS",
            "VAULT_TOKEN",
            "VAULT_ADDR",
        ] {
            std::env::remove_var(k);
        }
        dir
    })
}

/// Writes `bytes` to `path`. A script (`#!` first) is written by a child process, so that this
/// test process never holds a write descriptor for it: another test thread forking at that
/// moment would carry the descriptor into its child until `exec`, and running the script then
/// fails with ETXTBSY ("Text file busy") for a reason that has nothing to do with veil.
pub fn write_file(path: &Path, bytes: &[u8]) {
    if !bytes.starts_with(b"#!") {
        fs::write(path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    use std::io::Write as _;
    let mut child = std::process::Command::new("sh")
        .args(["-c", "cat > \"$1\"", "sh"])
        .arg(path)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start sh to write {}: {e}", path.display()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    let status = child.wait().expect("wait for sh");
    assert!(status.success(), "sh could not write {}", path.display());
}

/// Runs `git ARGS` in `dir` with `HOME=home`, no system config and a fixed author, and returns
/// its stdout; a failing git fails the test with git's stderr.
pub fn git_in(dir: &Path, home: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// [`git_in`] the sandbox, with the sandbox's HOME.
pub fn git(sb: &Sandbox, args: &[&str]) -> String {
    git_in(sb.path(), &sb.home(), args)
}
