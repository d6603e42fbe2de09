//! A TCP pass-through in front of an HTTP server (moto) that counts the requests naming one
//! AWS API target (`X-Amz-Target: TrentService.Decrypt`), so a test can tell how many KMS calls
//! a command made. Bytes go through unchanged in both directions; the count is a search of the
//! client-to-server stream (a target name cannot occur in a JSON body of base64 and ARNs).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub struct CountingProxy {
    /// `http://127.0.0.1:PORT`.
    pub addr: String,
    count: Arc<AtomicUsize>,
}

impl CountingProxy {
    /// Forward to `upstream` (`http://host:port`), counting `needle` in requests.
    pub fn start(upstream: &str, needle: &'static str) -> CountingProxy {
        let up = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let l = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = format!("http://{}", l.local_addr().expect("addr"));
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        std::thread::spawn(move || {
            for client in l.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(&up) else {
                    continue;
                };
                let (c2, mut client_r, mut server_w) = (
                    c.clone(),
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                std::thread::spawn(move || {
                    let mut tail: Vec<u8> = Vec::new();
                    let mut buf = [0u8; 16384];
                    loop {
                        let n = match client_r.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        tail.extend_from_slice(&buf[..n]);
                        let found = count_in(&tail, needle.as_bytes());
                        c2.fetch_add(found, Ordering::SeqCst);
                        // Keep only what was not counted and could start a needle cut by a
                        // read: after the last match, and at most needle.len() - 1 bytes.
                        let start = last_end(&tail, needle.as_bytes())
                            .max(tail.len().saturating_sub(needle.len() - 1));
                        tail.drain(..start);
                        if server_w.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = server_w.shutdown(std::net::Shutdown::Write);
                });
                let (mut server_r, mut client_w) = (server, client);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut server_r, &mut client_w);
                    let _ = client_w.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        CountingProxy { addr, count }
    }

    /// Requests counted so far.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

fn count_in(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// The end of the last occurrence of `needle` in `hay` (0 when none).
fn last_end(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .rposition(|w| w == needle)
        .map_or(0, |i| i + needle.len())
}
