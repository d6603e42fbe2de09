//! Unary gRPC over HTTP/2 cleartext, on `h2`: what sops's key service clients and servers
//! speak (grpc-go with insecure credentials, prior-knowledge h2c on TCP or a unix socket).
//!
//! A call is one POST to `/KeyService/<Method>` with `content-type: application/grpc` and
//! `te: trailers`, whose body is one length-prefixed message (a zero "compressed" byte, a
//! 4-byte big-endian length, the protobuf bytes); the answer is one such message and the
//! trailers `grpc-status` (0 = OK) and `grpc-message` (percent-encoded). A failure may come as
//! "trailers only": the status in the response headers and no body. No compression, streaming,
//! deadlines or TLS: neither side of sops's key service uses them. A client may still bound
//! its own calls ([`Channel::with_deadline`], the agent's client does); that limit is local
//! and never sent as `grpc-timeout`.
//!
//! Bodies that carry plaintext are collected into zeroizing buffers here; h2's own receive
//! buffers are outside our reach (they are freed, not wiped, once read).

use bytes::Bytes;
use std::future::Future;
use zeroize::Zeroizing;

/// The largest message either side accepts (grpc-go's default receive limit).
pub const MAX_MESSAGE: usize = 4 << 20;

/// gRPC status codes used here.
pub mod code {
    pub const OK: u32 = 0;
    pub const UNKNOWN: u32 = 2;
    pub const INVALID_ARGUMENT: u32 = 3;
    pub const DEADLINE_EXCEEDED: u32 = 4;
    pub const NOT_FOUND: u32 = 5;
    pub const PERMISSION_DENIED: u32 = 7;
    pub const RESOURCE_EXHAUSTED: u32 = 8;
    pub const UNIMPLEMENTED: u32 = 12;
    pub const INTERNAL: u32 = 13;
    pub const UNAVAILABLE: u32 = 14;
}

/// A gRPC status that is not OK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub code: u32,
    pub message: String,
}

impl Status {
    pub fn new(code: u32, message: impl Into<String>) -> Status {
        Status {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.code {
            code::UNKNOWN => "Unknown",
            code::INVALID_ARGUMENT => "InvalidArgument",
            code::DEADLINE_EXCEEDED => "DeadlineExceeded",
            code::NOT_FOUND => "NotFound",
            code::PERMISSION_DENIED => "PermissionDenied",
            code::RESOURCE_EXHAUSTED => "ResourceExhausted",
            code::UNIMPLEMENTED => "Unimplemented",
            code::INTERNAL => "Internal",
            code::UNAVAILABLE => "Unavailable",
            _ => "error",
        };
        write!(f, "{name}: {}", self.message)
    }
}

/// One length-prefixed, uncompressed gRPC message.
pub fn frame(msg: &impl prost::Message) -> Zeroizing<Vec<u8>> {
    let len = msg.encoded_len();
    let mut out = Zeroizing::new(Vec::with_capacity(5 + len));
    out.push(0);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    msg.encode(&mut *out).expect("a Vec grows as needed");
    out
}

/// The message inside a body holding exactly one length-prefixed message.
pub fn unframe(body: &[u8]) -> Result<&[u8], Status> {
    let bad = |m: &str| Status::new(code::INTERNAL, m.to_string());
    if body.len() < 5 {
        return Err(bad("truncated gRPC message"));
    }
    if body[0] != 0 {
        return Err(Status::new(
            code::UNIMPLEMENTED,
            "compressed gRPC messages are not supported",
        ));
    }
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    if body.len() - 5 != len {
        return Err(bad("gRPC message length does not match its body"));
    }
    Ok(&body[5..])
}

/// Percent-encode a `grpc-message` value (gRPC's own escaping: every byte outside printable
/// ASCII, and `%`).
pub fn encode_message(m: &str) -> String {
    let mut out = String::with_capacity(m.len());
    for b in m.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Undo [`encode_message`] (lenient: a malformed escape is kept as is).
pub fn decode_message(m: &str) -> String {
    let b = m.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The status carried by a header map (`grpc-status`, `grpc-message`), if any.
pub fn status_of(h: &http::HeaderMap) -> Option<Result<(), Status>> {
    let code: u32 = h.get("grpc-status")?.to_str().ok()?.trim().parse().ok()?;
    if code == code::OK {
        return Some(Ok(()));
    }
    let message = h
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .map(decode_message)
        .unwrap_or_default();
    Some(Err(Status { code, message }))
}

/// Read a whole body (at most one message of [`MAX_MESSAGE`]) into a zeroizing buffer,
/// releasing flow-control capacity as it goes.
pub async fn read_body(body: &mut h2::RecvStream) -> Result<Zeroizing<Vec<u8>>, Status> {
    let mut buf = Zeroizing::new(Vec::new());
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| Status::new(code::UNAVAILABLE, e.to_string()))?;
        let _ = body.flow_control().release_capacity(chunk.len());
        if buf.len() + chunk.len() > MAX_MESSAGE + 5 {
            return Err(Status::new(code::RESOURCE_EXHAUSTED, "message too large"));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// A client connection to one key service: its own single-threaded runtime (veil is
/// synchronous elsewhere) and one HTTP/2 connection, opened on first use and reused.
pub struct Channel {
    rt: tokio::runtime::Runtime,
    endpoint: super::Endpoint,
    send: Option<h2::client::SendRequest<Bytes>>,
    /// Talk only to a unix-socket peer running as our own uid (SO_PEERCRED), checked on every
    /// connection: the agent's client, which must not hand wrapped keys to another user's
    /// process or take a data key from one.
    same_uid: bool,
    /// The longest a call (connecting included) may take; `None`: no limit but connecting's.
    deadline: Option<std::time::Duration>,
}

/// How long connecting may take before the service counts as unreachable.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl Channel {
    pub fn new(endpoint: super::Endpoint) -> std::io::Result<Channel> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        Ok(Channel {
            rt,
            endpoint,
            send: None,
            same_uid: false,
            deadline: None,
        })
    }

    /// Give up on a call that has no answer after `d` (`DEADLINE_EXCEEDED`): a peer that was
    /// stopped (Ctrl-Z) or is stuck must not hang the caller. The connection is dropped and
    /// reopened by the next call.
    pub fn with_deadline(mut self, d: std::time::Duration) -> Channel {
        self.deadline = Some(d);
        self
    }

    /// Refuse a unix-socket peer whose uid is not ours (see the field).
    pub fn require_same_uid(mut self) -> Channel {
        self.same_uid = true;
        self
    }

    async fn connect(
        endpoint: &super::Endpoint,
        same_uid: bool,
    ) -> Result<
        (
            h2::client::SendRequest<Bytes>,
            impl Future<Output = ()> + Send + 'static,
        ),
        Status,
    > {
        let unavailable = |e: &dyn std::fmt::Display| {
            Status::new(
                code::UNAVAILABLE,
                format!("cannot connect to {}: {e}", endpoint.uri()),
            )
        };
        let connect = async {
            match endpoint {
                super::Endpoint::Unix(p) => {
                    let s = tokio::net::UnixStream::connect(p)
                        .await
                        .map_err(|e| unavailable(&e))?;
                    if same_uid {
                        let me = rustix::process::geteuid().as_raw();
                        let peer = s.peer_cred().map(|c| c.uid()).ok();
                        if peer != Some(me) {
                            return Err(Status::new(
                                code::PERMISSION_DENIED,
                                format!(
                                    "{} is served by uid {}, not ours",
                                    endpoint.uri(),
                                    peer.map_or("unknown".to_string(), |u| u.to_string())
                                ),
                            ));
                        }
                    }
                    let (send, conn) = h2::client::handshake(s)
                        .await
                        .map_err(|e| unavailable(&e))?;
                    Ok::<_, Status>((
                        send,
                        Box::pin(async move {
                            let _ = conn.await;
                        })
                            as std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
                    ))
                }
                super::Endpoint::Tcp(a) => {
                    let s = tokio::net::TcpStream::connect(a.as_str())
                        .await
                        .map_err(|e| unavailable(&e))?;
                    let _ = s.set_nodelay(true);
                    let (send, conn) = h2::client::handshake(s)
                        .await
                        .map_err(|e| unavailable(&e))?;
                    Ok((
                        send,
                        Box::pin(async move {
                            let _ = conn.await;
                        }) as _,
                    ))
                }
            }
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(r) => r,
            Err(_) => Err(unavailable(&"timed out")),
        }
    }

    /// Make one unary call; `Ok` is the response message's protobuf bytes.
    pub fn call(&mut self, path: &str, request: &[u8]) -> Result<Zeroizing<Vec<u8>>, Status> {
        let Channel {
            rt,
            endpoint,
            send,
            same_uid,
            deadline,
        } = self;
        let authority = match &*endpoint {
            super::Endpoint::Unix(_) => "localhost".to_string(),
            super::Endpoint::Tcp(a) => a.clone(),
        };
        let uri = format!("http://{authority}{path}");
        let body = Bytes::copy_from_slice(request);
        let endpoint = &*endpoint;
        let work = async {
            if send.is_none() {
                let (s, conn) = Self::connect(endpoint, *same_uid).await?;
                tokio::spawn(conn);
                *send = Some(s);
            }
            let s = send.clone().expect("connected above");
            unary(s, uri, body).await
        };
        let result = match *deadline {
            None => rt.block_on(work),
            Some(d) => rt.block_on(async {
                tokio::time::timeout(d, work).await.unwrap_or_else(|_| {
                    Err(Status::new(
                        code::DEADLINE_EXCEEDED,
                        format!(
                            "no answer from {} within {}s",
                            endpoint.uri(),
                            d.as_secs_f64()
                        ),
                    ))
                })
            }),
        };
        if matches!(&result, Err(s) if matches!(s.code, code::UNAVAILABLE | code::DEADLINE_EXCEEDED))
        {
            // A broken or stuck connection is reopened on the next call.
            *send = None;
        }
        result
    }
}

async fn unary(
    send: h2::client::SendRequest<Bytes>,
    uri: String,
    body: Bytes,
) -> Result<Zeroizing<Vec<u8>>, Status> {
    let io = |e: h2::Error| Status::new(code::UNAVAILABLE, e.to_string());
    let req = http::Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("user-agent", concat!("veil/", env!("CARGO_PKG_VERSION")))
        .body(())
        .map_err(|e| Status::new(code::INTERNAL, e.to_string()))?;
    let mut send = send.ready().await.map_err(io)?;
    let (response, mut stream) = send.send_request(req, false).map_err(io)?;
    stream.send_data(body, true).map_err(io)?;
    let response = response.await.map_err(io)?;
    let (parts, mut body) = response.into_parts();
    if parts.status != http::StatusCode::OK {
        return Err(Status::new(
            code::UNKNOWN,
            format!("the key service answered HTTP {}", parts.status),
        ));
    }
    // Trailers-only: the status is in the headers and there is no message.
    if let Some(st) = status_of(&parts.headers) {
        st?;
    }
    let data = read_body(&mut body).await?;
    let trailers = body.trailers().await.map_err(io)?.unwrap_or_default();
    match status_of(&trailers) {
        Some(Ok(())) => {}
        Some(Err(s)) => return Err(s),
        None => {
            return Err(Status::new(
                code::INTERNAL,
                "the key service sent no grpc-status",
            ))
        }
    }
    let msg = unframe(&data)?;
    Ok(Zeroizing::new(msg.to_vec()))
}
