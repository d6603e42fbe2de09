//! Helpers of the `exec-env` and `exec-file` tests: a sandbox with the test age key and a
//! private `TMPDIR`, running veil as a real child process (to signal it and read its PID),
//! parsing `env -0` output, waiting for a file a child writes, and checking that no secret
//! reaches an argv or a message.
#![allow(dead_code)]

use super::{run, testdata, Sandbox, TestKey};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Every secret value in `testdata/exec/plain/*`: none may ever show up in an argv or a message.
pub const SECRETS: &[&str] = &[
    "exec-secret-api-7Qx",
    "exec-secret-cert-line",
    "exec-secret-db-Kp2",
    "exec-secret-beta-9Zr",
];

/// A sandbox whose veil and sops find the test age key through `SOPS_AGE_KEY_FILE`, and whose
/// `TMPDIR` is a directory of its own, so leftovers of exec-file can be looked for there.
pub struct ExecSandbox {
    pub sb: Sandbox,
    pub key: PathBuf,
    pub tmp: PathBuf,
}

impl ExecSandbox {
    pub fn new() -> ExecSandbox {
        let mut sb = Sandbox::new();
        let key = sb.age_key_file(TestKey::Age1);
        let tmp = sb.path().join("tmp");
        std::fs::create_dir_all(&tmp).expect("mkdir tmp");
        sb.set_env("SOPS_AGE_KEY_FILE", &key);
        sb.set_env("TMPDIR", &tmp);
        ExecSandbox { sb, key, tmp }
    }

    /// Copies `testdata/exec/<name>` into the sandbox.
    pub fn fixture(&self, name: &str) -> PathBuf {
        self.sb.copy_testdata(&format!("exec/{name}"), name)
    }

    /// veil as a plain `std::process::Command` (to spawn and signal it), isolated like
    /// `Sandbox::veil`: cleared environment, HOME, the key, TMPDIR, cwd = sandbox.
    pub fn veil_std(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_veil"));
        c.env_clear()
            .current_dir(self.sb.path())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.sb.home())
            .env("SOPS_AGE_KEY_FILE", &self.key)
            .env("TMPDIR", &self.tmp)
            .env("SOPS_DISABLE_VERSION_CHECK", "1");
        c
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.sb.path().join(name)
    }

    /// The entries left in the sandbox's TMPDIR (where exec-file makes its directory).
    pub fn tmp_entries(&self) -> Vec<String> {
        std::fs::read_dir(&self.tmp)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Panics unless veil decrypts `file`: a fixture that does not open would make the
    /// exec checks after it meaningless.
    pub fn assert_decrypts(&self, file: &Path) {
        let (code, _, err) = run(self.sb.veil().arg("decrypt").arg(file));
        assert_eq!(
            code,
            Some(0),
            "veil cannot decrypt {}: {err}",
            file.display()
        );
    }
}

/// Parse `env -0` output into name → value.
pub fn parse_env0(out: &[u8]) -> BTreeMap<String, String> {
    out.split(|b| *b == 0)
        .filter(|e| !e.is_empty())
        .filter_map(|e| {
            let s = String::from_utf8_lossy(e).into_owned();
            let (k, v) = s.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// Wait until `path` exists and is not empty (a child wrote it), then return its content.
/// Bounded so that a broken veil fails the test instead of hanging it; not a timing test.
pub fn wait_for_file(path: &Path, child: &mut Child) -> String {
    for _ in 0..6000 {
        if let Ok(s) = std::fs::read_to_string(path) {
            if s.ends_with('\n') {
                return s;
            }
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("veil exited ({st}) before {} was written", path.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("{} was never written", path.display());
}

pub fn send_signal(pid: u32, sig: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(pid as i32).expect("pid > 0");
    rustix::process::kill_process(pid, sig).expect("kill");
}

/// Spawn with stdout/stderr captured.
pub fn spawn(cmd: &mut Command) -> Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn veil")
}

/// Assert that no secret appears in `text` (`what` names where it came from).
pub fn assert_no_secret(text: &str, what: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "a secret leaked into {what}");
    }
}

/// The sops fixtures' plaintext source, for comparisons.
pub fn plain(name: &str) -> String {
    std::fs::read_to_string(testdata(&format!("exec/plain/{name}"))).expect("plain fixture")
}

/// True when running as root (for `--user`).
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Wait for veil to exit, bounded: if it is still running after a minute (a signal was not
/// forwarded, say), kill it and `also` (its child) with SIGKILL and fail, instead of hanging.
pub fn wait_or_fail(child: &mut Child, also: Option<u32>, what: &str) -> std::process::ExitStatus {
    for _ in 0..6000 {
        if let Ok(Some(st)) = child.try_wait() {
            return st;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = child.kill();
    if let Some(pid) = also {
        if let Some(p) = rustix::process::Pid::from_raw(pid as i32) {
            let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
        }
    }
    let _ = child.wait();
    panic!("{what}: veil did not exit after the signal");
}
