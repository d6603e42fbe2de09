//! `veil agent`: a key service on a private socket that caches the data keys it unwraps.
//!
//! The agent runs in one sandbox (the only place an identity or KMS credentials point to a
//! key); the client runs in another with no identity at all (an empty key file, an empty HOME),
//! so a decryption there can only succeed through the agent. KMS calls are counted at a proxy
//! in front of moto.
#![cfg(feature = "keyservice")]

use crate::support::counting_proxy::CountingProxy;
use crate::support::servers::Moto;
use crate::support::*;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

const PLAIN: &str = "db:\n    user: admin\n    password: agent-secret-Qm42\nport: 5432\n";

/// A running `veil agent run`, killed (and reaped) on drop.
struct Agent {
    child: Child,
    sock: PathBuf,
    log: PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Agent {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn pid(&self) -> rustix::process::Pid {
        rustix::process::Pid::from_raw(self.child.id() as i32).unwrap()
    }
}

fn veil_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_veil"))
}

/// A private (0700) directory for the agent's socket inside `sb`, and the socket path.
fn sock_in(sb: &Sandbox) -> PathBuf {
    let dir = sb.path().join("agent");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir.join("agent.sock")
}

/// The agent's sandbox: age key 1 is there.
fn agent_sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    let sock = sock_in(&sb);
    sb.set_env("VEIL_AGENT_SOCK", &sock);
    sb
}

/// A client with no identity, pointed at `sock`, the agent on.
fn client_sandbox(sock: &Path) -> Sandbox {
    let mut sb = Sandbox::new();
    let empty = sb.write_secret("no-keys.txt", "");
    sb.set_env("SOPS_AGE_KEY_FILE", &empty);
    sb.set_env("VEIL_AGENT", "1");
    sb.set_env("VEIL_AGENT_SOCK", sock);
    sb
}

/// Start `veil agent run --verbose ARGS` in `sb` and wait until `status` answers.
fn start_agent(sb: &Sandbox, args: &[&str]) -> Agent {
    let sock = sock_in(sb);
    let log = sb.path().join(format!(
        "agent-{}.log",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let mut cmd = std::process::Command::new(veil_bin());
    sb.isolate_std(&mut cmd);
    let mut child = cmd
        .args(["agent", "run", "--verbose"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start the agent");
    for _ in 0..1200 {
        if let Ok(Some(st)) = child.try_wait() {
            panic!(
                "the agent ended at once ({st}):\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        if sock.exists() && run(sb.veil().args(["agent", "status"])).0 == Some(0) {
            return Agent { child, sock, log };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("the agent never answered on {}", sock.display());
}

/// `veil agent status` in `sb`: its output.
fn status(sb: &Sandbox) -> String {
    text(&run_ok(sb.veil().args(["agent", "status"]), "agent status")).to_string()
}

fn entries(status: &str) -> usize {
    status
        .lines()
        .find_map(|l| l.strip_prefix("entries: "))
        .expect("an entries line")
        .parse()
        .unwrap()
}

/// A file encrypted for age key 1, as JSON (so tests can edit its metadata).
fn age_file(sb: &Sandbox, name: &str) -> PathBuf {
    let p = sb.write(name, "{\"password\": \"agent-secret-Qm42\", \"n\": 1}");
    run_ok(
        sb.veil()
            .args(["encrypt", "-i", "--age", &TestKey::Age1.recipient()])
            .arg(&p),
        "encrypt",
    );
    p
}

#[test]
fn a_warm_agent_decrypts_for_a_client_without_identity_and_stop_wipes_it() {
    let asb = agent_sandbox();
    let agent = start_agent(&asb, &[]);
    // The socket is 0600 in a 0700 directory.
    let m = std::fs::symlink_metadata(&agent.sock).unwrap();
    assert!(m.file_type().is_socket());
    assert_eq!(m.permissions().mode() & 0o777, 0o600);
    let d = std::fs::metadata(agent.sock.parent().unwrap()).unwrap();
    assert_eq!(d.permissions().mode() & 0o777, 0o700);

    let enc = asb.encrypt_for_age1("s.yaml", PLAIN);
    let cli = client_sandbox(&agent.sock);
    let (code, _, _) = run(cli.veil().env("VEIL_AGENT", "0").arg("decrypt").arg(&enc));
    assert_eq!(code, Some(128), "the client must hold no identity");
    let out = run_ok(cli.veil().arg("decrypt").arg(&enc), "decrypt via agent");
    assert_eq!(text(&out), PLAIN);
    let st = status(&asb);
    assert_eq!(entries(&st), 1, "{st}");
    assert!(
        st.contains(&format!("age {}", TestKey::Age1.recipient())),
        "{st}"
    );
    assert!(st.contains("ttl: 900s"), "{st}");
    assert!(!st.contains("agent-secret"), "{st}");
    // Warm: the agent answers from its cache.
    let out = run_ok(cli.veil().arg("decrypt").arg(&enc), "decrypt via agent");
    assert_eq!(text(&out), PLAIN);
    let log = agent.log();
    assert!(log.contains(": unwrapped"), "{log}");
    assert!(log.contains(": cached"), "{log}");
    assert!(!log.contains("agent-secret"), "{log}");

    run_ok(asb.veil().args(["agent", "stop"]), "agent stop");
    let mut agent = agent;
    let mut gone = false;
    for _ in 0..200 {
        if agent.child.try_wait().unwrap().is_some() {
            gone = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(gone, "stop ends the agent");
    assert!(!agent.sock.exists(), "stop removes the socket");
    // And the client is back to its own (absent) keys, quietly.
    let (code, _, err) = run(cli.veil().arg("decrypt").arg(&enc));
    assert_eq!(code, Some(128), "{err}");
}

#[test]
fn start_prints_the_shell_line_and_a_killed_agent_is_replaced_and_ignored() {
    let asb = agent_sandbox();
    let agent = start_agent(&asb, &[]);
    let sock = agent.sock.clone();
    drop(agent); // SIGKILL: the socket stays behind
    assert!(sock.exists(), "SIGKILL leaves the socket");
    // A client with its own key ignores the dead socket and decrypts locally.
    let enc = asb.encrypt_for_age1("s.yaml", PLAIN);
    let mut local = client_sandbox(&sock);
    let key = local.age_key_file(TestKey::Age1);
    local.set_env("SOPS_AGE_KEY_FILE", &key);
    let out = run_ok(
        local.veil().arg("decrypt").arg(&enc),
        "decrypt with a dead agent",
    );
    assert_eq!(text(&out), PLAIN);
    let (_, _, err) = run(local.veil().args(["decrypt", "--verbose"]).arg(&enc));
    assert!(err.contains("not used"), "one verbose line says why: {err}");
    // `start` replaces the dead socket with a live agent, detached.
    let out = run_ok(asb.veil().args(["agent", "start", "--ttl", "1h"]), "start");
    let line = text(&out).trim().to_string();
    assert_eq!(
        line,
        format!(
            "VEIL_AGENT_SOCK={}; export VEIL_AGENT_SOCK;",
            sock.display()
        )
    );
    let st = status(&asb);
    assert!(st.contains("ttl: 3600s"), "{st}");
    let pid: i32 = st
        .lines()
        .find_map(|l| l.strip_prefix("pid: "))
        .unwrap()
        .parse()
        .unwrap();
    // A second start finds it running and prints the same line.
    let again = run_ok(asb.veil().args(["agent", "start"]), "start again");
    assert_eq!(text(&again).trim(), line);
    let cli = client_sandbox(&sock);
    let out = run_ok(
        cli.veil().arg("decrypt").arg(&enc),
        "decrypt via started agent",
    );
    assert_eq!(text(&out), PLAIN);
    run_ok(asb.veil().args(["agent", "stop"]), "stop");
    assert!(!sock.exists());
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    for _ in 0..200 {
        if !proc_dir.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(!proc_dir.exists(), "the started agent ended");
}

/// Runs `veil agent stop` in its sandbox on drop: a detached agent must not outlive a failed
/// test.
struct StopOnDrop<'a>(&'a Sandbox);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let _ = run(self.0.veil().args(["agent", "stop"]));
    }
}

#[test]
fn start_makes_the_default_socket_directory_on_a_fresh_machine() {
    // No VEIL_AGENT_SOCK and a runtime directory without veil's directory in it: a user's
    // first `eval "$(veil agent start)"` after a reboot. (Every other test names its socket.)
    let mut asb = Sandbox::new();
    let key = asb.age_key_file(TestKey::Age1);
    asb.set_env("SOPS_AGE_KEY_FILE", &key);
    let runtime = asb.path().join("run");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    asb.set_env("XDG_RUNTIME_DIR", &runtime);
    let sock = runtime.join("veil").join("agent.sock");
    assert!(!sock.parent().unwrap().exists());

    let _stop = StopOnDrop(&asb);
    let out = run_ok(asb.veil().args(["agent", "start"]), "agent start");
    assert_eq!(
        text(&out).trim(),
        format!(
            "VEIL_AGENT_SOCK={}; export VEIL_AGENT_SOCK;",
            sock.display()
        )
    );
    let d = std::fs::metadata(sock.parent().unwrap()).unwrap();
    assert_eq!(d.permissions().mode() & 0o777, 0o700, "a private directory");
    assert!(status(&asb).contains(&format!("agent: unix://{}", sock.display())));
    // A client without an identity finds it at the default place too.
    let enc = asb.encrypt_for_age1("s.yaml", PLAIN);
    let mut cli = Sandbox::new();
    let empty = cli.write_secret("no-keys.txt", "");
    cli.set_env("SOPS_AGE_KEY_FILE", &empty);
    cli.set_env("VEIL_AGENT", "1");
    cli.set_env("XDG_RUNTIME_DIR", &runtime);
    let out = run_ok(cli.veil().arg("decrypt").arg(&enc), "decrypt via agent");
    assert_eq!(text(&out), PLAIN);
    run_ok(asb.veil().args(["agent", "stop"]), "agent stop");
    assert!(!sock.exists());
}

/// Run `cmd` to its end and return (exit code, stdout, stderr); kill it and fail the test if
/// it is still running after two minutes, so a hang fails instead of stalling the suite. Not
/// a timing test: the bound is far above any expected run time.
fn run_bounded(cmd: &mut std::process::Command, what: &str) -> (Option<i32>, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    for _ in 0..1200 {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            return (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{what}: still running after two minutes (hung on the agent?)");
}

#[test]
fn a_stopped_agent_does_not_hang_a_command_that_has_its_own_key() {
    // An agent suspended with Ctrl-Z (SIGSTOP) still has its socket, and the kernel still
    // accepts connections to it; nothing answers them.
    let asb = agent_sandbox();
    let agent = start_agent(&asb, &[]);
    let enc = asb.encrypt_for_age1("s.yaml", PLAIN);
    let mut local = client_sandbox(&agent.sock);
    let key = local.age_key_file(TestKey::Age1);
    local.set_env("SOPS_AGE_KEY_FILE", &key);
    rustix::process::kill_process(agent.pid(), rustix::process::Signal::STOP).unwrap();

    let mut cmd = std::process::Command::new(veil_bin());
    local.isolate_std(&mut cmd);
    let (code, out, err) = run_bounded(
        cmd.args(["decrypt", "--verbose"]).arg(&enc),
        "decrypt with a stopped agent",
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, PLAIN);
    assert!(
        err.contains("not used") && err.contains("no answer"),
        "{err}"
    );
    // `status` gives up too, with the usual hint.
    let mut cmd = std::process::Command::new(veil_bin());
    asb.isolate_std(&mut cmd);
    let (code, _, err) = run_bounded(cmd.args(["agent", "status"]), "status of a stopped agent");
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("no usable agent"), "{err}");
    // Dropping the agent SIGKILLs it, which ends a stopped process too.
}

#[test]
fn sigterm_ends_the_agent_and_removes_its_socket() {
    let asb = agent_sandbox();
    let mut agent = start_agent(&asb, &[]);
    rustix::process::kill_process(agent.pid(), rustix::process::Signal::TERM).unwrap();
    agent.child.wait().unwrap();
    assert!(!agent.sock.exists(), "SIGTERM removes the socket");
}

#[test]
fn real_sops_decrypts_and_encrypts_through_the_agent() {
    if !require_peer("sops") {
        return;
    }
    let asb = agent_sandbox();
    let agent = start_agent(&asb, &[]);
    let cli = client_sandbox(&agent.sock);
    let uri = format!("unix://{}", agent.sock.display());
    let remote = ["--enable-local-keyservice=false", "--keyservice", &uri];
    let plain = cli.write("plain.yaml", PLAIN);
    let enc = run_ok(
        cli.sops()
            .arg("encrypt")
            .args(remote)
            .args(["--age", &TestKey::Age1.recipient()])
            .arg(&plain),
        "sops encrypt through the agent",
    );
    // Encrypt requests are answered but leave nothing in the cache.
    assert_eq!(entries(&status(&asb)), 0);
    let enc_path = cli.write("enc.yaml", &enc);
    let (code, _, _) = run(cli.sops().arg("decrypt").arg(&enc_path));
    assert_eq!(code, Some(128), "the client must hold no identity");
    for _ in 0..2 {
        let out = run_ok(
            cli.sops().arg("decrypt").args(remote).arg(&enc_path),
            "sops decrypt through the agent",
        );
        assert_eq!(text(&out), PLAIN);
    }
    assert_eq!(entries(&status(&asb)), 1);
    let log = agent.log();
    assert!(log.contains("encrypt request for age"), "{log}");
    assert!(log.contains(": cached"), "{log}");
}

/// One moto for this module, behind a proxy that counts KMS Decrypt calls.
fn kms() -> Option<&'static (Moto, CountingProxy)> {
    static KMS: OnceLock<Option<(Moto, CountingProxy)>> = OnceLock::new();
    let bin = require_peer_path("moto_server")?;
    KMS.get_or_init(|| {
        let m = Moto::start(&bin);
        let p = CountingProxy::start(&m.server.addr, "TrentService.Decrypt");
        Some((m, p))
    })
    .as_ref()
}

fn with_kms(sb: &mut Sandbox, endpoint: &str) {
    sb.set_env("AWS_ACCESS_KEY_ID", "testing");
    sb.set_env("AWS_SECRET_ACCESS_KEY", "testing");
    sb.set_env("AWS_ENDPOINT_URL", endpoint);
}

/// A file encrypted for the moto key (directly, not through the proxy).
fn kms_file(sb: &Sandbox, m: &Moto, name: &str) -> PathBuf {
    let p = sb.write(name, PLAIN);
    run_ok(
        sb.veil()
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_ENDPOINT_URL", &m.server.addr)
            .args(["encrypt", "-i", "--kms", &m.arn])
            .arg(&p),
        "encrypt for kms",
    );
    p
}

#[test]
fn a_warm_agent_decrypts_kms_files_without_calling_kms() {
    let Some((m, proxy)) = kms() else { return };
    let mut asb = agent_sandbox();
    with_kms(&mut asb, &proxy.addr);
    let agent = start_agent(&asb, &[]);
    let enc = kms_file(&asb, m, "k.yaml");
    let mut cli = client_sandbox(&agent.sock);
    with_kms(&mut cli, &proxy.addr);

    let before = proxy.count();
    let out = run_ok(
        cli.veil().env("VEIL_AGENT", "0").arg("decrypt").arg(&enc),
        "no agent",
    );
    assert_eq!(text(&out), PLAIN);
    assert_eq!(proxy.count() - before, 1, "without the agent: one KMS call");

    let before = proxy.count();
    let out = run_ok(cli.veil().arg("decrypt").arg(&enc), "cold agent");
    assert_eq!(text(&out), PLAIN);
    assert_eq!(proxy.count() - before, 1, "a cold agent calls KMS once");
    let before = proxy.count();
    for _ in 0..3 {
        let out = run_ok(cli.veil().arg("decrypt").arg(&enc), "warm agent");
        assert_eq!(text(&out), PLAIN);
    }
    assert_eq!(proxy.count() - before, 0, "a warm agent makes no KMS call");
    let st = status(&asb);
    assert!(st.contains(&format!("kms {}", m.arn)), "{st}");
}

#[test]
fn a_cached_key_is_gone_after_its_ttl() {
    let Some((m, proxy)) = kms() else { return };
    let mut asb = agent_sandbox();
    with_kms(&mut asb, &proxy.addr);
    let agent = start_agent(&asb, &["--ttl", "2s"]);
    let enc = kms_file(&asb, m, "k.yaml");
    let mut cli = client_sandbox(&agent.sock);
    with_kms(&mut cli, &proxy.addr);
    run_ok(cli.veil().arg("decrypt").arg(&enc), "cold agent");
    let st = status(&asb);
    assert_eq!(entries(&st), 1, "{st}");
    // Expiry is the agent's own timer: no request is needed for the entry to go.
    let mut left = 1;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(100));
        left = entries(&status(&asb));
        if left == 0 {
            break;
        }
    }
    assert_eq!(left, 0, "the entry expired");
    let before = proxy.count();
    run_ok(cli.veil().arg("decrypt").arg(&enc), "after the ttl");
    assert_eq!(
        proxy.count() - before,
        1,
        "after the TTL, KMS is called again"
    );
}

#[test]
fn a_wrong_key_from_the_agent_still_fails_the_file() {
    // Two files with different data keys; the second's wrapped key is replaced by the first's,
    // so the agent (correctly) unwraps the wrong data key for it: the file must still fail.
    let asb = agent_sandbox();
    let agent = start_agent(&asb, &[]);
    let a = age_file(&asb, "a.json");
    let b = age_file(&asb, "b.json");
    let va: serde_json::Value = serde_json::from_slice(&std::fs::read(&a).unwrap()).unwrap();
    let mut vb: serde_json::Value = serde_json::from_slice(&std::fs::read(&b).unwrap()).unwrap();
    vb["sops"]["age"][0]["enc"] = va["sops"]["age"][0]["enc"].clone();
    std::fs::write(&b, serde_json::to_vec_pretty(&vb).unwrap()).unwrap();
    let cli = client_sandbox(&agent.sock);
    let (code, out, err) = run(cli.veil().arg("decrypt").arg(&b));
    assert_ne!(code, Some(0), "{err}");
    assert!(!text(&out).contains("agent-secret"), "no plaintext out");
}

#[test]
fn a_client_ignores_an_agent_socket_in_a_directory_others_can_write() {
    let asb = agent_sandbox();
    let agent = start_agent(&asb, &[]);
    let enc = asb.encrypt_for_age1("s.yaml", PLAIN);
    let cli = client_sandbox(&agent.sock);
    let dir = agent.sock.parent().unwrap().to_path_buf();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (code, _, err) = run(cli.veil().args(["decrypt", "--verbose"]).arg(&enc));
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(code, Some(128), "{err}");
    assert!(err.contains("writable by other users"), "{err}");
    assert!(
        !agent.log().contains("decrypt request"),
        "the agent saw no request"
    );
    // The same socket in a private directory is used.
    let out = run_ok(cli.veil().arg("decrypt").arg(&enc), "decrypt via agent");
    assert_eq!(text(&out), PLAIN);
}

fn needs_root(name: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    assert!(!in_ci(), "{name} needs root, and CI runs as root");
    crate::support::peers::loud(&format!("SKIP {name}: needs root"));
    false
}

#[test]
fn a_client_ignores_an_agent_socket_owned_by_another_uid() {
    if !needs_root("a_client_ignores_an_agent_socket_owned_by_another_uid") {
        return;
    }
    let asb = agent_sandbox();
    let agent = start_agent(&asb, &[]);
    let enc = asb.encrypt_for_age1("s.yaml", PLAIN);
    let cli = client_sandbox(&agent.sock);
    std::os::unix::fs::lchown(&agent.sock, Some(65534), Some(65534)).unwrap();
    let (code, _, err) = run(cli.veil().args(["decrypt", "--verbose"]).arg(&enc));
    assert_eq!(code, Some(128), "{err}");
    assert!(err.contains("belongs to uid 65534"), "{err}");
    assert!(
        !agent.log().contains("decrypt request"),
        "the agent saw no request"
    );
}

#[test]
fn the_agent_refuses_connections_from_another_uid() {
    if !needs_root("the_agent_refuses_connections_from_another_uid") {
        return;
    }
    let asb = agent_sandbox();
    let agent = start_agent(&asb, &[]);
    // Open the file modes on purpose, so only the peer-uid check stands in the way.
    std::fs::set_permissions(asb.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    std::fs::set_permissions(
        agent.sock.parent().unwrap(),
        std::fs::Permissions::from_mode(0o711),
    )
    .unwrap();
    std::fs::set_permissions(&agent.sock, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert!(
        super::keyservice::h2_hello_as(0, &agent.sock) > 0,
        "the owner is answered"
    );
    assert_eq!(
        super::keyservice::h2_hello_as(65534, &agent.sock),
        0,
        "another uid is cut off"
    );
    let log = agent.log();
    assert!(log.contains("refused a connection from uid 65534"), "{log}");
}

/// A passphrase-protected age identity file (armored) and its recipient (X25519, what sops
/// files hold).
#[allow(deprecated)]
fn encrypted_identity(passphrase: &str) -> (String, Vec<u8>) {
    use age::secrecy::{ExposeSecret, SecretString};
    use std::io::Write;
    let id = age::x25519::Identity::generate();
    let recipient = id.to_public().to_string();
    let enc = age::Encryptor::with_user_passphrase(SecretString::from(passphrase.to_string()));
    let mut out = Vec::new();
    let armor =
        age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor).unwrap();
    let mut w = enc.wrap_output(armor).unwrap();
    w.write_all(id.to_string().expose_secret().as_bytes())
        .unwrap();
    w.finish().unwrap().finish().unwrap();
    (recipient, out)
}

/// Run `veil agent start` on a pseudo-terminal, typing `passphrase` at the prompt; what the
/// terminal showed.
fn start_on_a_terminal(sb: &Sandbox, passphrase: &str) -> String {
    let py = r#"
import os, pty, select, sys
veil, pw = sys.argv[1], sys.argv[2].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(veil, [veil, "agent", "start"])
seen, typed = b"", False
while True:
    r, _, _ = select.select([fd], [], [], 60)
    if not r:
        break
    try:
        b = os.read(fd, 1024)
    except OSError:
        break
    if not b:
        break
    seen += b
    if not typed and b"assphrase" in seen:
        os.write(fd, pw + b"\n")
        typed = True
_, st = os.waitpid(pid, 0)
sys.stdout.write(seen.decode("utf-8", "replace"))
sys.stdout.write("\nexit=%d\n" % os.waitstatus_to_exitcode(st))
"#;
    let mut cmd = assert_cmd::Command::new("python3");
    sb.isolate(&mut cmd);
    let out = run_ok(
        cmd.args(["-c", py]).arg(veil_bin()).arg(passphrase),
        "agent start on a pty",
    );
    text(&out).to_string()
}

#[test]
fn a_started_agent_asks_for_an_identity_passphrase_once_at_start() {
    let mut asb = Sandbox::new();
    let (recipient, armored) = encrypted_identity("agent-pass-Lk3");
    let key = asb.write_secret("enc-keys.txt", armored);
    asb.set_env("SOPS_AGE_KEY_FILE", &key);
    let sock = sock_in(&asb);
    asb.set_env("VEIL_AGENT_SOCK", &sock);
    let enc = asb.write("s.yaml", PLAIN);
    run_ok(
        asb.veil()
            .args(["encrypt", "-i", "--age", &recipient])
            .arg(&enc),
        "encrypt",
    );
    let shown = start_on_a_terminal(&asb, "agent-pass-Lk3");
    assert!(shown.contains("assphrase"), "a prompt: {shown}");
    assert!(shown.contains("VEIL_AGENT_SOCK="), "{shown}");
    assert!(shown.contains("exit=0"), "{shown}");
    // The agent runs detached, without a terminal: it can only open the file because it
    // asked at start. The client has no identity and no terminal either.
    let cli = client_sandbox(&sock);
    for _ in 0..2 {
        let out = run_ok(cli.veil().arg("decrypt").arg(&enc), "decrypt via agent");
        assert_eq!(text(&out), PLAIN);
    }
    run_ok(asb.veil().args(["agent", "stop"]), "stop");
    assert!(!sock.exists());
}

#[test]
fn the_agent_writes_an_audit_line_per_request_with_hit_or_miss_and_no_value() {
    let mut asb = agent_sandbox();
    let audit = asb.path().join("audit.log");
    asb.set_env("VEIL_AUDIT", &audit);
    let agent = start_agent(&asb, &[]);
    let enc = asb.encrypt_for_age1("s.yaml", PLAIN);
    let cli = client_sandbox(&agent.sock);
    for _ in 0..2 {
        run_ok(cli.veil().arg("decrypt").arg(&enc), "decrypt via agent");
    }
    run_ok(asb.veil().args(["agent", "stop"]), "stop");
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(!log.contains("agent-secret"), "{log}");
    let got: Vec<(String, String, String)> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|l| {
            (
                l["command"].as_str().unwrap().to_string(),
                format!("{} {}", l["keys"][0]["kind"], l["keys"][0]["id"]),
                l["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let key = format!("\"age\" \"{}\"", TestKey::Age1.recipient());
    assert_eq!(
        got,
        [
            ("agent-decrypt".to_string(), key.clone(), "ok".to_string()),
            ("agent-decrypt-cached".to_string(), key, "ok".to_string()),
        ]
    );
}
