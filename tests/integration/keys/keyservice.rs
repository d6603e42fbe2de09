//! sops's key service both ways against the real sops 3.11: veil's `keyservice` serving the
//! real sops, and the real `sops keyservice` serving veil, over a unix socket and TCP on
//! loopback. In every test the client's sandbox has no identity at all (empty HOME, an empty
//! `SOPS_AGE_KEY_FILE`), so a decryption can only succeed through the key service; each test
//! also checks that the same client fails without it.
#![cfg(feature = "keyservice")]

use crate::support::*;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

const PLAIN: &str = "db:\n    user: admin\n    password: ks-secret-Zx81\nport: 5432\n";

/// A running server, killed (and reaped) on drop.
struct Server {
    child: Child,
    uri: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

#[derive(Clone, Copy, Debug)]
enum Net {
    Unix,
    Tcp,
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server's sandbox: the only place age key 1 exists.
fn server_sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    sb
}

/// The client's sandbox: no identity anywhere (an empty key file, an empty HOME).
fn client_sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    let empty = sb.write_secret("no-keys.txt", "");
    sb.set_env("SOPS_AGE_KEY_FILE", &empty);
    sb
}

/// Start `program keyservice` in `sb` on `net`, and wait until it accepts connections.
fn start(sb: &Sandbox, program: &Path, net: Net, extra: &[&str]) -> Server {
    let (args, uri, sock): (Vec<String>, String, Option<PathBuf>) = match net {
        Net::Unix => {
            let sock = sb.path().join("ks.sock");
            (
                vec![
                    "--network".into(),
                    "unix".into(),
                    "--address".into(),
                    sock.display().to_string(),
                ],
                format!("unix://{}", sock.display()),
                Some(sock),
            )
        }
        Net::Tcp => {
            let addr = format!("127.0.0.1:{}", free_port());
            (
                vec![
                    "--network".into(),
                    "tcp".into(),
                    "--address".into(),
                    addr.clone(),
                ],
                format!("tcp://{addr}"),
                None,
            )
        }
    };
    let log = sb.path().join("server.log");
    let mut cmd = std::process::Command::new(program);
    sb.isolate_std(&mut cmd);
    cmd.arg("keyservice")
        .args(&args)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut child = cmd.spawn().expect("start the key service");
    for _ in 0..1200 {
        if let Ok(Some(st)) = child.try_wait() {
            panic!(
                "the key service ended at once ({st}):\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        let up = match (&sock, net) {
            (Some(p), _) => std::os::unix::net::UnixStream::connect(p).is_ok(),
            (None, _) => std::net::TcpStream::connect(uri.trim_start_matches("tcp://")).is_ok(),
        };
        if up {
            return Server { child, uri, log };
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("the key service never listened on {uri}");
}

fn veil_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_veil"))
}

/// The real sops encrypts and decrypts through `veil keyservice`.
fn real_sops_through_veil_keyservice(net: Net) {
    if !require_peer("sops") {
        return;
    }
    let srv_sb = server_sandbox();
    let srv = start(&srv_sb, &veil_bin(), net, &["--verbose"]);
    let cli = client_sandbox();
    let plain = cli.write("plain.yaml", PLAIN);
    let remote = ["--enable-local-keyservice=false", "--keyservice", &srv.uri];
    let enc = run_ok(
        cli.sops()
            .arg("encrypt")
            .args(remote)
            .args(["--age", &TestKey::Age1.recipient()])
            .arg(&plain),
        "sops encrypt through veil keyservice",
    );
    let enc_path = cli.write("enc.yaml", &enc);
    // Without the key service, this client cannot open the file.
    let (code, _, _) = run(cli.sops().arg("decrypt").arg(&enc_path));
    assert_eq!(code, Some(128), "the client must hold no identity");
    let out = run_ok(
        cli.sops().arg("decrypt").args(remote).arg(&enc_path),
        "sops decrypt through veil keyservice",
    );
    assert_eq!(text(&out), PLAIN);
    // And the key service host opens what the remote encryption wrote.
    let out = run_ok(
        srv_sb.veil().arg("decrypt").arg(&enc_path),
        "veil decrypt on the server",
    );
    assert_eq!(text(&out), PLAIN);
    let log = srv.log();
    let recipient = TestKey::Age1.recipient();
    assert!(
        log.contains(&format!("encrypt request for age {recipient}: ok")),
        "{log}"
    );
    assert!(
        log.contains(&format!("decrypt request for age {recipient}: ok")),
        "{log}"
    );
    assert!(!log.contains("ks-secret"), "{log}");
}

/// veil encrypts and decrypts through the real `sops keyservice`.
fn veil_through_real_sops_keyservice(net: Net) {
    let Some(sops) = require_peer_path("sops") else {
        return;
    };
    let srv_sb = server_sandbox();
    let _srv = start(&srv_sb, &sops, net, &[]);
    let uri = _srv.uri.clone();
    let cli = client_sandbox();
    let plain = cli.write("plain.yaml", PLAIN);
    let enc = run_ok(
        cli.veil()
            .args(["--enable-local-keyservice=false", "--keyservice", &uri])
            .arg("encrypt")
            .args(["--age", &TestKey::Age1.recipient()])
            .arg(&plain),
        "veil encrypt through sops keyservice",
    );
    let enc_path = cli.write("enc.yaml", &enc);
    let (code, _, err) = run(cli.veil().arg("decrypt").arg(&enc_path));
    assert_eq!(code, Some(128), "the client must hold no identity: {err}");
    // The options after the subcommand, and the env vars, as sops's scripts write them.
    let out = run_ok(
        cli.veil()
            .arg("decrypt")
            .args(["--keyservice", &uri])
            .arg(&enc_path),
        "veil decrypt through sops keyservice",
    );
    assert_eq!(text(&out), PLAIN);
    let out = run_ok(
        cli.veil()
            .env("SOPS_KEYSERVICE", &uri)
            .env("SOPS_ENABLE_LOCAL_KEYSERVICE", "false")
            .arg("decrypt")
            .arg(&enc_path),
        "veil decrypt through sops keyservice (env)",
    );
    assert_eq!(text(&out), PLAIN);
    // The real sops on the server host opens what veil wrote through its key service.
    let out = run_ok(srv_sb.sops().arg("decrypt").arg(&enc_path), "sops decrypt");
    assert_eq!(text(&out), PLAIN);
}

#[test]
fn real_sops_uses_veil_keyservice_over_a_unix_socket() {
    real_sops_through_veil_keyservice(Net::Unix);
}

#[test]
fn real_sops_uses_veil_keyservice_over_loopback_tcp() {
    real_sops_through_veil_keyservice(Net::Tcp);
}

#[test]
fn veil_uses_real_sops_keyservice_over_a_unix_socket() {
    veil_through_real_sops_keyservice(Net::Unix);
}

#[test]
fn veil_uses_real_sops_keyservice_over_loopback_tcp() {
    veil_through_real_sops_keyservice(Net::Tcp);
}

#[test]
fn local_keys_are_tried_before_the_key_service() {
    // A key service that is not there is never contacted when the local identity opens the
    // file (sops's order: local first).
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    let enc = sb.encrypt_for_age1("f.yaml", PLAIN);
    let dead = format!("unix://{}", sb.path().join("nobody.sock").display());
    let out = run_ok(
        sb.veil().args(["decrypt", "--keyservice", &dead]).arg(&enc),
        "decrypt with a dead key service listed",
    );
    assert_eq!(text(&out), PLAIN);
    // With the local one disabled, the dead service is all there is: exit 128, named.
    let (code, _, err) = run(sb
        .veil()
        .args([
            "decrypt",
            "--enable-local-keyservice=false",
            "--keyservice",
            &dead,
        ])
        .arg(&enc));
    assert_eq!(code, Some(128), "{err}");
    assert!(err.contains("nobody.sock"), "{err}");
}

#[test]
fn keyservice_socket_is_private_and_removed_on_sigterm() {
    let mut sb = server_sandbox();
    let run_dir = sb.path().join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    sb.set_env("XDG_RUNTIME_DIR", &run_dir);
    let dir = run_dir.join("veil");
    let sock = dir.join("keyservice.sock");
    let mut cmd = std::process::Command::new(veil_bin());
    sb.isolate_std(&mut cmd);
    let mut child = cmd
        .arg("keyservice")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..1200 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let m = std::fs::symlink_metadata(&sock).expect("default socket made");
    assert!(m.file_type().is_socket());
    assert_eq!(m.permissions().mode() & 0o777, 0o600);
    let d = std::fs::metadata(&dir).unwrap();
    assert_eq!(d.permissions().mode() & 0o777, 0o700);
    // A second server refuses the live socket and leaves it alone.
    let (code, _, err) = run(sb.veil().arg("keyservice"));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("already listening"), "{err}");
    assert!(sock.exists());
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    child.wait().unwrap();
    assert!(!sock.exists(), "SIGTERM removes the socket");
}

#[test]
fn a_stale_socket_from_a_killed_keyservice_does_not_block_a_new_one() {
    let sb = server_sandbox();
    let srv = start(&sb, &veil_bin(), Net::Unix, &[]);
    let sock = sb.path().join("ks.sock");
    drop(srv); // SIGKILL: nothing can remove the socket
    assert!(sock.exists(), "SIGKILL leaves the socket behind");
    let srv = start(&sb, &veil_bin(), Net::Unix, &[]);
    assert!(sock.exists());
    drop(srv);
}

#[test]
fn keyservice_refuses_a_non_loopback_tcp_address_unless_allowed() {
    let sb = server_sandbox();
    let (code, _, err) =
        run(sb
            .veil()
            .args(["keyservice", "--network", "tcp", "--address", "0.0.0.0:0"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("not a loopback address"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

/// Connect to `sock` as `uid` (through setpriv) and send an HTTP/2 preface; the number of bytes
/// the server answered with (0: it closed the connection).
pub(super) fn h2_hello_as(uid: u32, sock: &Path) -> usize {
    let py = "import socket,sys\n\
s=socket.socket(socket.AF_UNIX)\n\
s.settimeout(60)\n\
s.connect(sys.argv[1])\n\
try:\n  s.sendall(b'PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n'+bytes([0,0,0,4,0,0,0,0,0]))\n  d=s.recv(100)\n\
except OSError:\n  d=b''\n\
print(len(d))\n";
    let id = uid.to_string();
    let out = run_ok(
        assert_cmd::Command::new("/usr/bin/setpriv")
            .args([
                &format!("--reuid={id}"),
                &format!("--regid={id}"),
                "--clear-groups",
                "/usr/bin/python3",
                "-c",
                py,
            ])
            .arg(sock),
        "h2 hello",
    );
    text(&out).trim().parse().unwrap()
}

#[test]
fn keyservice_refuses_connections_from_another_uid() {
    if !rustix::process::geteuid().is_root() {
        assert!(
            !crate::support::peers::in_ci(),
            "keyservice_refuses_connections_from_another_uid needs root, and CI runs as root"
        );
        crate::support::peers::loud(
            "SKIP keyservice_refuses_connections_from_another_uid: needs root",
        );
        return;
    }
    let sb = server_sandbox();
    let srv = start(&sb, &veil_bin(), Net::Unix, &[]);
    let sock = sb.path().join("ks.sock");
    // Open the socket's file modes on purpose, so that only the peer-uid check stands between
    // another user and the keys.
    std::fs::set_permissions(sb.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert!(h2_hello_as(0, &sock) > 0, "the owner gets an HTTP/2 answer");
    assert_eq!(h2_hello_as(65534, &sock), 0, "another uid is cut off");
    let log = srv.log();
    assert!(log.contains("refused a connection from uid 65534"), "{log}");
}

#[test]
fn veil_keyservice_writes_an_audit_line_per_request_with_the_key_and_no_value() {
    let mut srv_sb = server_sandbox();
    let audit = srv_sb.path().join("audit.log");
    srv_sb.set_env("VEIL_AUDIT", &audit);
    let srv = start(&srv_sb, &veil_bin(), Net::Unix, &[]);
    let cli = client_sandbox();
    let remote = ["--enable-local-keyservice=false", "--keyservice", &srv.uri];
    let plain = cli.write("plain.yaml", PLAIN);
    let enc = run_ok(
        cli.veil()
            .args(remote)
            .arg("encrypt")
            .args(["--age", &TestKey::Age1.recipient()])
            .arg(&plain),
        "veil encrypt through veil keyservice",
    );
    let enc_path = cli.write("enc.yaml", &enc);
    let out = run_ok(
        cli.veil().args(remote).arg("decrypt").arg(&enc_path),
        "veil decrypt through veil keyservice",
    );
    assert_eq!(text(&out), PLAIN);
    // A file for a key the server does not hold: the request fails, and is logged as such.
    let other = cli.write("other.yaml", PLAIN);
    let other_enc = run_ok(
        cli.veil()
            .arg("encrypt")
            .args(["--age", &TestKey::Age2.recipient()])
            .arg(&other),
        "encrypt for a key nobody here holds",
    );
    let other_path = cli.write("other.enc.yaml", &other_enc);
    let (code, _, err) = run(cli.veil().args(remote).arg("decrypt").arg(&other_path));
    assert_eq!(code, Some(128), "{err}");
    drop(srv);
    let text_log = std::fs::read_to_string(&audit).unwrap();
    assert!(!text_log.contains("ks-secret"), "{text_log}");
    let lines: Vec<serde_json::Value> = text_log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<(String, String, String, String)> = lines
        .iter()
        .map(|l| {
            assert_eq!(l["file"], serde_json::Value::Null, "{l}");
            assert_eq!(l["keys"].as_array().map(Vec::len), Some(1), "{l}");
            (
                l["command"].as_str().unwrap().to_string(),
                l["keys"][0]["kind"].as_str().unwrap().to_string(),
                l["keys"][0]["id"].as_str().unwrap().to_string(),
                format!("{}/{}", l["outcome"].as_str().unwrap(), l["code"]),
            )
        })
        .collect();
    let (k1, k2) = (TestKey::Age1.recipient(), TestKey::Age2.recipient());
    let line = |c: &str, k: &str, o: &str| (c.into(), "age".into(), k.to_string(), o.into());
    assert_eq!(
        got,
        [
            line("keyservice-encrypt", &k1, "ok/0"),
            line("keyservice-decrypt", &k1, "ok/0"),
            line("keyservice-decrypt", &k2, "error/128"),
        ]
    );
}

#[test]
fn veil_keyservice_does_not_start_when_a_required_audit_log_cannot_be_opened() {
    let mut sb = server_sandbox();
    sb.set_env("VEIL_AUDIT", sb.path().join("no-such-dir/audit.log"));
    sb.set_env("VEIL_AUDIT_REQUIRED", "1");
    let sock = sb.path().join("ks.sock");
    let (code, _, err) = run(sb
        .veil()
        .args(["keyservice", "--network", "unix", "--address"])
        .arg(&sock));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("audit log"), "{err}");
    assert!(!sock.exists());
}
