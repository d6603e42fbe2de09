//! `veil keyservice`: answer sops's key service protocol with this machine's own backends.
//!
//! A key service is a door to keys: whoever can reach it can have any data key unwrapped that
//! this machine's identities open. So, unlike sops (TCP on 127.0.0.1:5000 by default), veil
//! listens on a unix socket by default, mode 0600, in a directory of its own with mode 0700
//! (`$XDG_RUNTIME_DIR/veil/keyservice.sock`, else `/tmp/veil-<uid>/keyservice.sock`), and
//! refuses connections from other users (SO_PEERCRED). TCP is served only when asked, with a
//! warning that it has no authentication, and only on loopback unless `--allow-remote`.
//!
//! Requests are answered by one worker thread that owns the local [`KeyService`] (built from
//! this machine's backends alone: a server never forwards to other key services, and trusts
//! no Vault address a request names beyond `VAULT_ADDR` and the allowlist, so a client cannot
//! make it send its token elsewhere). With `--verbose` each request is logged with the key's
//! kind and public identifier and the outcome, never key material; with `VEIL_AUDIT` each one
//! gets an audit line (`keyservice-encrypt`/`keyservice-decrypt`, see `crate::audit`).
//!
//! The socket is registered with the signal thread ([`crate::guard::signals`]): SIGINT or
//! SIGTERM removes it before veil ends. A socket left by a killed server (SIGKILL) is found
//! not to be live (connection refused) and replaced; a live one is never taken over.

use super::grpc::{self, code, Status};
use super::{key_from_proto, proto};
use crate::error::{Code, Error, Outcome, Result};
use crate::keys::{KeyRef, KeyService, LocalOptions};
use bytes::Bytes;
use prost::Message;
use std::net::ToSocketAddrs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use zeroize::Zeroizing;

/// The address family to listen on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    Unix,
    Tcp,
}

/// What `veil keyservice` was asked for.
#[derive(Clone, Debug)]
pub struct Options {
    pub network: Network,
    /// A socket path or `host:port`; `None`: the default for the network.
    pub address: Option<String>,
    /// Serve TCP on an address that is not loopback.
    pub allow_remote: bool,
    /// Log each request (kind and public identifier).
    pub verbose: bool,
}

/// sops's default TCP address.
pub const DEFAULT_TCP: &str = "127.0.0.1:5000";

/// The private directory veil's sockets live in: `$XDG_RUNTIME_DIR/veil` when that runtime dir
/// is ours and private, else `/tmp/veil-<uid>`.
pub fn socket_dir() -> PathBuf {
    let uid = rustix::process::geteuid().as_raw();
    if let Some(d) = crate::env::var("XDG_RUNTIME_DIR") {
        let p = PathBuf::from(d);
        if let Ok(m) = std::fs::metadata(&p) {
            if m.is_dir() && m.uid() == uid && m.mode() & 0o077 == 0 {
                return p.join("veil");
            }
        }
    }
    std::env::temp_dir().join(format!("veil-{uid}"))
}

/// Make (or check) a private directory: ours, a real directory, mode 0700.
pub fn private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let fail = |m: String| {
        Error::generic(format!("{}: {m}", dir.display()))
            .hint("remove it, or pass --address with a socket path in a directory only you can use")
    };
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(fail(e.to_string())),
    }
    let m = std::fs::symlink_metadata(dir).map_err(|e| fail(e.to_string()))?;
    if !m.is_dir() {
        return Err(fail("not a directory".into()));
    }
    if m.uid() != rustix::process::geteuid().as_raw() {
        return Err(fail("owned by another user".into()));
    }
    if m.mode() & 0o077 != 0 {
        return Err(fail(format!(
            "mode {:o} lets other users in (want 700)",
            m.mode() & 0o777
        )));
    }
    Ok(())
}

/// Make `path` free for a new socket: nothing there, or a dead socket (removed). A live
/// socket, or anything that is not a socket, is refused.
pub fn clear_stale_socket(path: &Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let m = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::generic(format!("{}: {e}", path.display()))),
    };
    if !m.file_type().is_socket() {
        return Err(
            Error::generic(format!("{} exists and is not a socket", path.display()))
                .hint("choose another --address"),
        );
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(Error::generic(format!(
            "a key service is already listening on {}",
            path.display()
        ))
        .hint("stop it first, or choose another --address")),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            std::fs::remove_file(path)
                .map_err(|e| Error::generic(format!("{}: {e}", path.display())))?;
            Ok(())
        }
        Err(e) => Err(Error::generic(format!("{}: {e}", path.display()))),
    }
}

/// Bind a unix socket with mode 0600 from the start (umask), registered for removal on a
/// fatal signal. The ticket unregisters it when the server ends normally.
pub fn bind_private_socket(
    path: &Path,
) -> Result<(
    std::os::unix::net::UnixListener,
    crate::guard::signals::Ticket,
)> {
    use crate::guard::signals::{tracked, Cleanup};
    tracked(|| {
        let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
        let l = std::os::unix::net::UnixListener::bind(path);
        rustix::process::umask(old);
        let l =
            l.map_err(|e| Error::generic(format!("cannot listen on {}: {e}", path.display())))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        Ok::<_, Error>((l, Cleanup::File(path.to_path_buf())))
    })
}

/// Is every address `addr` resolves to a loopback one?
fn is_loopback(addr: &str) -> Result<bool> {
    let addrs: Vec<_> = addr
        .to_socket_addrs()
        .map_err(|e| {
            Error::generic(format!("invalid TCP address {addr:?}: {e}"))
                .hint("use host:port, e.g. 127.0.0.1:5000")
        })?
        .collect();
    Ok(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()))
}

enum StdListener {
    Unix(std::os::unix::net::UnixListener),
    Tcp(std::net::TcpListener),
}

/// A listener of either family.
pub enum Listener {
    Unix(tokio::net::UnixListener),
    Tcp(tokio::net::TcpListener),
}

/// Run the key service until a signal ends veil.
pub fn run(opts: &Options) -> Result<i32> {
    // Opened before anything listens: in required mode an unusable log stops the server here.
    let audit = crate::audit::Log::from_env()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    let (std_listener, _ticket, shown) = match opts.network {
        Network::Unix => {
            let path = match &opts.address {
                Some(a) => PathBuf::from(a.strip_prefix("unix://").unwrap_or(a)),
                None => {
                    let dir = socket_dir();
                    private_dir(&dir)?;
                    dir.join("keyservice.sock")
                }
            };
            clear_stale_socket(&path)?;
            let (l, t) = bind_private_socket(&path)?;
            l.set_nonblocking(true)?;
            (
                StdListener::Unix(l),
                Some(t),
                format!("unix://{}", path.display()),
            )
        }
        Network::Tcp => {
            let addr = opts.address.clone().unwrap_or_else(|| DEFAULT_TCP.into());
            let addr = addr.strip_prefix("tcp://").unwrap_or(&addr).to_string();
            if !is_loopback(&addr)? && !opts.allow_remote {
                return Err(Error::new(
                    Code::Generic,
                    format!("refusing to serve keys on {addr}, which is not a loopback address"),
                )
                .hint("anyone who reaches it can have data keys unwrapped; pass --allow-remote if you mean it, behind a firewall or tunnel"));
            }
            let l = std::net::TcpListener::bind(&addr)
                .map_err(|e| Error::generic(format!("cannot listen on {addr}: {e}")))?;
            l.set_nonblocking(true)?;
            eprintln!(
                "warning: the key service on tcp://{addr} has no authentication: every user and program that can connect to it can have data keys unwrapped; prefer --network unix"
            );
            (StdListener::Tcp(l), None, format!("tcp://{addr}"))
        }
    };
    let (calls, rx) = mpsc::channel::<Call>();
    let verbose = opts.verbose;
    std::thread::Builder::new()
        .name("veil-keyservice".into())
        .spawn(move || worker(rx, verbose, audit))?;
    rt.block_on(async move {
        let listener = match std_listener {
            StdListener::Unix(u) => Listener::Unix(tokio::net::UnixListener::from_std(u)?),
            StdListener::Tcp(t) => Listener::Tcp(tokio::net::TcpListener::from_std(t)?),
        };
        eprintln!("veil keyservice: listening on {shown}");
        serve(listener, calls, verbose, "veil keyservice").await
    })?;
    Ok(0)
}

/// What a request's handler answers: the response message framed, or a gRPC status.
pub type Reply = std::result::Result<Zeroizing<Vec<u8>>, Status>;

/// One request, as the transport hands it to the worker thread that owns the keys: the gRPC
/// path, the request message (unframed protobuf bytes), and where the answer goes.
pub struct Call {
    pub path: String,
    pub message: Zeroizing<Vec<u8>>,
    pub reply: tokio::sync::oneshot::Sender<Reply>,
}

/// Accept connections until the listener fails for good, handing every request to `calls`.
/// On a unix socket, a peer whose uid is not ours is cut off before HTTP/2 starts. `name`
/// prefixes the lines written to stderr.
pub async fn serve(
    listener: Listener,
    calls: mpsc::Sender<Call>,
    verbose: bool,
    name: &'static str,
) -> Result<()> {
    let me = rustix::process::geteuid().as_raw();
    loop {
        match &listener {
            Listener::Unix(l) => {
                let (s, _) = match l.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("{name}: accept: {e}");
                        continue;
                    }
                };
                let uid = s.peer_cred().map(|c| c.uid()).ok();
                if uid != Some(me) {
                    eprintln!(
                        "{name}: refused a connection from uid {}",
                        uid.map_or("unknown".to_string(), |u| u.to_string())
                    );
                    continue;
                }
                tokio::spawn(connection(s, calls.clone(), verbose, name));
            }
            Listener::Tcp(l) => {
                let (s, peer) = match l.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("{name}: accept: {e}");
                        continue;
                    }
                };
                let _ = s.set_nodelay(true);
                if verbose {
                    eprintln!("{name}: connection from {peer}");
                }
                tokio::spawn(connection(s, calls.clone(), verbose, name));
            }
        }
    }
}

async fn connection<S>(io: S, calls: mpsc::Sender<Call>, verbose: bool, name: &'static str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut conn = match h2::server::handshake(io).await {
        Ok(c) => c,
        Err(e) => {
            if verbose {
                eprintln!("{name}: HTTP/2 handshake failed: {e}");
            }
            return;
        }
    };
    while let Some(next) = conn.accept().await {
        match next {
            Ok((req, respond)) => {
                tokio::spawn(request(req, respond, calls.clone()));
            }
            Err(_) => break,
        }
    }
}

async fn request(
    req: http::Request<h2::RecvStream>,
    respond: h2::server::SendResponse<Bytes>,
    calls: mpsc::Sender<Call>,
) {
    let result = route(req, calls).await;
    respond_with(respond, result);
}

/// Read one request's message and wait for the worker's answer.
async fn route(req: http::Request<h2::RecvStream>, calls: mpsc::Sender<Call>) -> Reply {
    let path = req.uri().path().to_string();
    let mut body = req.into_body();
    let data = grpc::read_body(&mut body).await?;
    let message = Zeroizing::new(grpc::unframe(&data)?.to_vec());
    let (reply, answer) = tokio::sync::oneshot::channel();
    calls
        .send(Call {
            path,
            message,
            reply,
        })
        .map_err(|_| Status::new(code::UNAVAILABLE, "the key service is stopping"))?;
    answer
        .await
        .map_err(|_| Status::new(code::INTERNAL, "the key service worker ended"))?
}

/// Which of sops's two key service methods a request calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Encrypt,
    Decrypt,
}

impl Op {
    /// The method a gRPC path names, if it is one of sops's.
    pub fn of_path(path: &str) -> Option<Op> {
        match path {
            proto::ENCRYPT_PATH => Some(Op::Encrypt),
            proto::DECRYPT_PATH => Some(Op::Decrypt),
            _ => None,
        }
    }
}

/// A decoded `Encrypt` or `Decrypt` request.
pub struct Job {
    pub op: Op,
    pub key: KeyRef,
    /// The plaintext (encrypt) or the wrapped key (decrypt).
    pub data: Zeroizing<Vec<u8>>,
}

/// Decode the message of a sops method call.
pub fn decode(op: Op, msg: &[u8]) -> std::result::Result<Job, Status> {
    let bad = |e: prost::DecodeError| Status::new(code::INVALID_ARGUMENT, e.to_string());
    let (key, payload) = match op {
        Op::Encrypt => {
            let mut r = proto::EncryptRequest::decode(msg).map_err(bad)?;
            (
                r.key.take(),
                Zeroizing::new(std::mem::take(&mut r.plaintext)),
            )
        }
        Op::Decrypt => {
            let r = proto::DecryptRequest::decode(msg).map_err(bad)?;
            (r.key, Zeroizing::new(r.ciphertext))
        }
    };
    let key = key
        .as_ref()
        .and_then(key_from_proto)
        .ok_or_else(|| Status::new(code::NOT_FOUND, "Must provide a key"))?;
    Ok(Job {
        op,
        key,
        data: payload,
    })
}

/// Frame the answer to a job: the wrapped key (encrypt) or the plaintext (decrypt).
pub fn encode(op: Op, out: &[u8]) -> Zeroizing<Vec<u8>> {
    match op {
        Op::Encrypt => grpc::frame(&proto::EncryptResponse {
            ciphertext: out.to_vec(),
        }),
        Op::Decrypt => {
            let mut rsp = proto::DecryptResponse::default();
            rsp.plaintext.extend_from_slice(out);
            grpc::frame(&rsp)
        }
    }
}

/// Do a job with this machine's backends: the wrapped key (encrypt) or the secret (decrypt).
pub fn perform(ks: &KeyService, job: &Job) -> std::result::Result<Zeroizing<Vec<u8>>, Status> {
    match job.op {
        Op::Encrypt => ks
            .wrap(&job.key, &job.data)
            .map(|enc| Zeroizing::new(enc.into_bytes()))
            .map_err(|e| Status::new(code::UNKNOWN, e.message)),
        Op::Decrypt => match std::str::from_utf8(&job.data) {
            Ok(enc) => ks.unwrap(&job.key, enc).map_err(|o| match o {
                Outcome::Unsupported => Status::new(
                    code::UNIMPLEMENTED,
                    format!(
                        "{} keys are not supported by this key service",
                        job.key.kind()
                    ),
                ),
                o => Status::new(code::UNKNOWN, o.to_string()),
            }),
            Err(_) => Err(Status::new(
                code::INVALID_ARGUMENT,
                "the wrapped key is not text",
            )),
        },
    }
}

fn respond_with(mut respond: h2::server::SendResponse<Bytes>, result: Reply) {
    let mut head = http::Response::builder()
        .status(200)
        .header("content-type", "application/grpc");
    match result {
        Ok(body) => {
            let Ok(resp) = head.body(()) else { return };
            let Ok(mut stream) = respond.send_response(resp, false) else {
                return;
            };
            // h2 needs owned bytes: it gets the zeroizing buffer itself, wiped when h2 drops it.
            let _ = stream.send_data(Bytes::from_owner(body), false);
            let mut trailers = http::HeaderMap::new();
            trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
            let _ = stream.send_trailers(trailers);
        }
        Err(st) => {
            head = head.header("grpc-status", st.code.to_string());
            if let Ok(v) = http::HeaderValue::from_str(&grpc::encode_message(&st.message)) {
                head = head.header("grpc-message", v);
            }
            if let Ok(resp) = head.body(()) {
                let _ = respond.send_response(resp, true);
            }
        }
    }
}

/// The one thread that holds this machine's keys and answers requests in turn. With an audit
/// log, each request gets its line (no file: the key's kind and identifier, the outcome) before
/// the answer is sent; in required mode an answer whose line could not be written is withheld.
fn worker(rx: mpsc::Receiver<Call>, verbose: bool, audit: Option<crate::audit::Log>) {
    let ks = KeyService::backends_only(&LocalOptions::default());
    for call in rx {
        let Some(op) = Op::of_path(&call.path) else {
            let _ = call.reply.send(Err(Status::new(
                code::UNIMPLEMENTED,
                format!("unknown method {}", call.path),
            )));
            continue;
        };
        let job = match decode(op, &call.message) {
            Ok(j) => j,
            Err(st) => {
                let _ = call.reply.send(Err(st));
                continue;
            }
        };
        let what = match op {
            Op::Encrypt => "encrypt",
            Op::Decrypt => "decrypt",
        };
        let result = perform(&ks, &job);
        if verbose {
            let outcome = match &result {
                Ok(_) => "ok".to_string(),
                Err(s) => s.to_string(),
            };
            eprintln!(
                "veil keyservice: {what} request for {}: {outcome}",
                job.key.describe()
            );
        }
        let command = match op {
            Op::Encrypt => "keyservice-encrypt",
            Op::Decrypt => "keyservice-decrypt",
        };
        let result = match &audit {
            Some(log) => audited(log, command, op, &job.key, result),
            None => result,
        };
        let _ = call.reply.send(result.map(|out| encode(op, &out)));
    }
}

/// Write the audit line of one answered request (`command`, the key's kind and identifier, the
/// outcome); an answer is replaced by an error when the line is required and could not be
/// written.
pub fn audited(
    log: &crate::audit::Log,
    command: &str,
    op: Op,
    key: &KeyRef,
    result: std::result::Result<Zeroizing<Vec<u8>>, Status>,
) -> std::result::Result<Zeroizing<Vec<u8>>, Status> {
    use crate::audit::{Access, KeyUse, Outcome as Logged};
    let failed = match op {
        Op::Encrypt => Code::Generic,
        Op::Decrypt => Code::CouldNotRetrieveKey,
    };
    let access = Access {
        command: command.into(),
        keys: vec![KeyUse {
            kind: key.kind().into(),
            id: key.sops_name(),
        }],
        ..Access::default()
    };
    let outcome = match &result {
        Ok(_) => Logged::Ok,
        Err(_) => Logged::Error(failed.exit_code()),
    };
    match log.append(&access, outcome) {
        Ok(()) => result,
        Err(e) => Err(Status::new(code::UNAVAILABLE, e.message)),
    }
}
