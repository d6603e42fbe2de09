//! Servers and keyrings for the key-backend tests: OpenBao dev servers and moto on free
//! 127.0.0.1 ports, a recording listener (to see what veil would send where), throwaway GnuPG
//! homes, and a minimal plain-HTTP client for setting servers up.
//!
//! The binaries come from [`super::require_peer_path`], like every other peer. Servers are
//! started through a small `sh` watchdog that kills them when the test process goes away, even
//! if it panics; nothing here ever listens on anything but 127.0.0.1 or talks to a cloud.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The Vault dev server's root token (test-only, loopback-only).
pub const ROOT_TOKEN: &str = "veil-test-root-token-4f1c9a";

/// A port P on 127.0.0.1 such that P..P+n-1 are free right now.
pub fn free_ports(n: u16) -> u16 {
    for _ in 0..200 {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let base = l.local_addr().expect("local addr").port();
        drop(l);
        if base > u16::MAX - n {
            continue;
        }
        let ok = (base..base + n).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok());
        if ok {
            return base;
        }
    }
    panic!("no free port range found");
}

/// A minimal HTTP/1.1 client for plain-http test setup (no TLS). Returns (status, body).
pub fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| std::io::Error::other("only http:// URLs"))?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut s = TcpStream::connect(hostport)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let text = String::from_utf8_lossy(&resp).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = match text.find("\r\n\r\n") {
        Some(i) => text[i + 4..].to_string(),
        None => String::new(),
    };
    let body = if text
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(&body)
    } else {
        body
    };
    Ok((status, body))
}

fn dechunk(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\r\n") {
        let n = usize::from_str_radix(rest[..i].trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        let start = i + 2;
        let end = (start + n).min(rest.len());
        out.push_str(&rest[start..end]);
        rest = rest.get(end + 2..).unwrap_or("");
    }
    out
}

/// A server process behind an `sh` watchdog: closing our end of its stdin (drop, or our own
/// death) makes the watchdog kill it.
pub struct Server {
    child: Option<Child>,
    pub addr: String,
    pub dir: tempfile::TempDir,
    pub log: PathBuf,
}

impl Server {
    pub fn spawn(
        prog: &Path,
        args: &[String],
        envs: &[(&str, String)],
        dir: tempfile::TempDir,
    ) -> Server {
        let log = dir.path().join("server.log");
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(r#"log="$1"; shift; "$@" >"$log" 2>&1 </dev/null & p=$!; read _; kill $p 2>/dev/null; wait $p"#)
            .arg("sh")
            .arg(&log)
            .arg(prog)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in envs {
            c.env(k, v);
        }
        let child = c.spawn().expect("spawn server watchdog");
        Server {
            child: Some(child),
            addr: String::new(),
            dir,
            log,
        }
    }

    /// Stop the server and wait until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            drop(c.stdin.take());
            let _ = c.wait();
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn wait_ready(&self, what: &str, mut ready: impl FnMut() -> bool) {
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(90) {
            if ready() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{what} did not become ready; log:\n{}", self.log_text());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An OpenBao dev server with the transit engine mounted at `transit` and `team/transit`, and
/// a key `sops-key` in each.
pub struct Bao {
    pub server: Server,
    /// For https: the CA certificate (`VAULT_CACERT`).
    pub ca: Option<PathBuf>,
}

impl Bao {
    pub fn start(bao: &Path, tls: bool) -> Bao {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_ports(2); // dev mode also opens PORT+1
        let certs = dir.path().join("certs");
        let mut args = vec![
            "server".to_string(),
            "-dev".to_string(),
            format!("-dev-root-token-id={ROOT_TOKEN}"),
            format!("-dev-listen-address=127.0.0.1:{port}"),
            "-dev-no-store-token".to_string(),
        ];
        if tls {
            std::fs::create_dir_all(&certs).expect("mkdir certs");
            args.push("-dev-tls".to_string());
            args.push(format!("-dev-tls-cert-dir={}", certs.display()));
        }
        let home = dir.path().display().to_string();
        let mut server = Server::spawn(
            bao,
            &args,
            &[
                ("HOME", home),
                ("VAULT_ADDR", String::new()),
                ("BAO_ADDR", String::new()),
            ],
            dir,
        );
        let scheme = if tls { "https" } else { "http" };
        server.addr = format!("{scheme}://127.0.0.1:{port}");
        let ca = if tls {
            Some(certs.join("vault-ca.pem"))
        } else {
            None
        };
        if tls {
            let ca = ca.clone().unwrap_or_default();
            server.wait_ready("bao -dev-tls", || {
                ca.exists() && TcpStream::connect(("127.0.0.1", port)).is_ok()
            });
            // The plain-http helper cannot speak TLS: set up through the bao CLI.
            let run = |args: &[&str]| {
                let out = Command::new(bao)
                    .args(args)
                    .env("BAO_ADDR", format!("https://127.0.0.1:{port}"))
                    .env("BAO_CACERT", &ca)
                    .env("BAO_TOKEN", ROOT_TOKEN)
                    .env("HOME", server.dir.path())
                    .output()
                    .expect("run bao cli");
                assert!(
                    out.status.success(),
                    "bao {args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            };
            // Wait until the server answers (the listener can be up before the core is).
            let t0 = Instant::now();
            loop {
                let out = Command::new(bao)
                    .args(["status"])
                    .env("BAO_ADDR", format!("https://127.0.0.1:{port}"))
                    .env("BAO_CACERT", &ca)
                    .env("HOME", server.dir.path())
                    .output()
                    .expect("run bao status");
                if out.status.success() || t0.elapsed() > Duration::from_secs(60) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            run(&["secrets", "enable", "transit"]);
            run(&["secrets", "enable", "-path=team/transit", "transit"]);
            run(&["write", "-f", "transit/keys/sops-key"]);
            run(&["write", "-f", "team/transit/keys/sops-key"]);
        } else {
            let health = format!("{}/v1/sys/health", server.addr);
            server.wait_ready("bao -dev", || {
                matches!(http("GET", &health, &[], ""), Ok((200, _)))
            });
            let h = [("X-Vault-Token", ROOT_TOKEN)];
            for (path, body) in [
                ("/v1/sys/mounts/transit", r#"{"type":"transit"}"#),
                ("/v1/sys/mounts/team/transit", r#"{"type":"transit"}"#),
                ("/v1/transit/keys/sops-key", ""),
                ("/v1/team/transit/keys/sops-key", ""),
            ] {
                let (st, b) =
                    http("POST", &format!("{}{path}", server.addr), &h, body).expect("bao setup");
                assert!((200..300).contains(&st), "bao setup {path}: {st} {b}");
            }
        }
        Bao { server, ca }
    }

    pub fn uri(&self, engine: &str) -> String {
        format!("{}/v1/{engine}/keys/sops-key", self.server.addr)
    }
}

/// moto_server with one KMS key.
pub struct Moto {
    pub server: Server,
    pub arn: String,
}

impl Moto {
    pub fn start(moto: &Path) -> Moto {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_ports(1);
        let mut server = Server::spawn(
            moto,
            &[
                "-H".into(),
                "127.0.0.1".into(),
                "-p".into(),
                port.to_string(),
            ],
            &[],
            dir,
        );
        server.addr = format!("http://127.0.0.1:{port}");
        let api = format!("{}/moto-api/", server.addr);
        server.wait_ready("moto_server", || {
            matches!(http("GET", &api, &[], ""), Ok((200, _)))
        });
        let arn = moto_create_key(&server.addr, "us-east-1");
        Moto { server, arn }
    }
}

/// Create a KMS key in moto (a fake SigV4 header routes the call to KMS) and return its ARN.
pub fn moto_create_key(addr: &str, region: &str) -> String {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/kms/aws4_request, SignedHeaders=host, Signature=0"
    );
    let (st, body) = http(
        "POST",
        &format!("{addr}/"),
        &[
            ("X-Amz-Target", "TrentService.CreateKey"),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Authorization", &auth),
        ],
        r#"{"Description":"veil test key"}"#,
    )
    .expect("moto CreateKey");
    assert_eq!(st, 200, "moto CreateKey: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("CreateKey JSON");
    v["KeyMetadata"]["Arn"]
        .as_str()
        .expect("CreateKey ARN")
        .to_string()
}

/// A throwaway GnuPG home with one ed25519/cv25519 key and no passphrase.
pub struct GpgHome {
    pub dir: tempfile::TempDir,
    pub fpr: String,
    pub gpg: PathBuf,
}

impl GpgHome {
    pub fn new(gpg: &Path, uid: &str) -> GpgHome {
        // Short paths: gpg-agent's socket path has a length limit.
        let dir = tempfile::Builder::new()
            .prefix("vg")
            .tempdir_in("/tmp")
            .expect("tempdir");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
                .expect("chmod 700");
        }
        let mut h = GpgHome {
            dir,
            fpr: String::new(),
            gpg: gpg.to_path_buf(),
        };
        h.run(&[
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            uid,
            "ed25519",
            "cert,sign",
            "never",
        ]);
        let out = h.run(&["--batch", "--with-colons", "--list-keys", uid]);
        let fpr = String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .expect("fingerprint")
            .to_string();
        h.run(&[
            "--batch",
            "--passphrase",
            "",
            "--quick-add-key",
            &fpr,
            "cv25519",
            "encr",
            "never",
        ]);
        h.fpr = fpr;
        h
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let out = Command::new(&self.gpg)
            .arg("--homedir")
            .arg(self.dir.path())
            .args(args)
            .output()
            .expect("run gpg");
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for GpgHome {
    fn drop(&mut self) {
        let gpgconf = self
            .gpg
            .parent()
            .map(|d| d.join("gpgconf"))
            .filter(|p| p.exists())
            .unwrap_or_else(|| PathBuf::from("gpgconf"));
        let _ = Command::new(gpgconf)
            .arg("--homedir")
            .arg(self.dir.path())
            .args(["--kill", "all"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A TCP listener on a free loopback port that records every byte anyone sends it (and answers
/// nothing useful). Used to prove a token is never sent to an address the user did not allow.
pub struct Recorder {
    pub addr: String,
    pub seen: Arc<Mutex<Vec<u8>>>,
    pub connections: Arc<Mutex<usize>>,
}

impl Recorder {
    pub fn start() -> Recorder {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind recorder");
        let addr = format!("http://{}", l.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0usize));
        let (s2, c2) = (seen.clone(), connections.clone());
        std::thread::spawn(move || {
            for stream in l.incoming() {
                let Ok(mut stream) = stream else { continue };
                *c2.lock().unwrap() += 1;
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let mut r = BufReader::new(stream.try_clone().expect("clone"));
                let mut buf = Vec::new();
                let mut line = String::new();
                while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                    buf.extend_from_slice(line.as_bytes());
                    if line == "\r\n" {
                        break;
                    }
                    line.clear();
                }
                s2.lock().unwrap().extend_from_slice(&buf);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 54\r\nConnection: close\r\n\r\n{\"data\":{\"plaintext\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}}  ",
                );
            }
        });
        Recorder {
            addr,
            seen,
            connections,
        }
    }
}

/// The Huawei Cloud KMS test access key (test-only, loopback-only).
pub const HCKMS_AK: &str = "VEILTESTAK00000000001";
/// The Huawei Cloud KMS test secret key (test-only, loopback-only).
pub const HCKMS_SK: &str = "veil-test-hckms-secret-key-7e3f9b";
/// The test project id.
pub const HCKMS_PROJECT: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
/// Two keys the fake knows.
pub const HCKMS_KEY1: &str = "5d0c7a1e-8f3b-4c2d-9e6a-1b2c3d4e5f60";
pub const HCKMS_KEY2: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";

/// The Huawei Cloud KMS protocol fake (`tests/fakes/hckms.py`, a fake, proved by Huawei's SDK
/// in `keys::hckms`), on a free 127.0.0.1 port, HTTPS with a throwaway CA unless `plain`.
pub struct HckmsFake {
    pub server: Server,
    /// `https://127.0.0.1:PORT` (or `http://` when plain).
    pub url: String,
    /// The CA that signed its certificate (clients trust it through `SSL_CERT_FILE`).
    pub ca: PathBuf,
}

impl HckmsFake {
    pub fn start(python: &Path, plain: bool, security_token: Option<&str>) -> HckmsFake {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_ports(1);
        let script = super::peers::repo_root().join("tests/fakes/hckms.py");
        let mut args = vec![
            script.display().to_string(),
            "--port".into(),
            port.to_string(),
            "--dir".into(),
            dir.path().display().to_string(),
            "--ak".into(),
            HCKMS_AK.into(),
            "--sk".into(),
            HCKMS_SK.into(),
            "--project".into(),
            HCKMS_PROJECT.into(),
            "--keys".into(),
            format!("{HCKMS_KEY1},{HCKMS_KEY2}"),
        ];
        if let Some(t) = security_token {
            args.push("--security-token".into());
            args.push(t.into());
        }
        if plain {
            args.push("--plain-http".into());
        }
        let ready = dir.path().join("ready");
        let ca = dir.path().join("ca.pem");
        let mut server = Server::spawn(python, &args, &[], dir);
        server.wait_ready("the hckms fake", || {
            ready.exists() && TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        let scheme = if plain { "http" } else { "https" };
        server.addr = format!("127.0.0.1:{port}");
        HckmsFake {
            url: format!("{scheme}://127.0.0.1:{port}"),
            server,
            ca,
        }
    }

    /// The requests it has answered so far: `METHOD PATH STATUS` lines.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.server.dir.path().join("requests.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// The Azure Key Vault + Entra protocol fake (`tests/fakes/azure_kv.py`) on a free 127.0.0.1
/// port, over HTTPS with its own throwaway CA (`dir/ca.pem`). Its test credentials and key
/// versions are in `ready` (its `ready.json`).
pub struct AzureKvFake {
    pub server: Server,
    /// `https://127.0.0.1:PORT`: the vault URL and the authority host.
    pub vault: String,
    pub ready: serde_json::Value,
}

impl AzureKvFake {
    pub fn start(python: &Path) -> AzureKvFake {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = super::repo_root().join("tests/fakes/azure_kv.py");
        let state = dir.path().join("state");
        let mut server = Server::spawn(
            python,
            &[script.display().to_string(), state.display().to_string()],
            &[],
            dir,
        );
        let ready = state.join("ready.json");
        server.wait_ready("the Azure Key Vault fake", || ready.is_file());
        let ready: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&ready).expect("ready.json")).expect("json");
        server.addr = ready["vault"].as_str().expect("vault").to_string();
        AzureKvFake {
            vault: server.addr.clone(),
            server,
            ready,
        }
    }

    /// A file the fake wrote at start-up (`ca.pem`, `client.pem`, `federated-token`,
    /// `cli-token.json`).
    pub fn file(&self, name: &str) -> PathBuf {
        self.server.dir.path().join("state").join(name)
    }

    pub fn field(&self, name: &str) -> String {
        self.ready[name].as_str().unwrap_or_default().to_string()
    }

    /// The versions of a key, oldest first.
    pub fn versions(&self, key: &str) -> Vec<String> {
        self.ready["versions"][key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The request log: one `METHOD PATH api-version=V auth=yes|no len=N` line per request.
    pub fn requests(&self) -> String {
        self.server.log_text()
    }
}
