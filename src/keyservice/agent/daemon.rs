//! The agent process: `veil agent run` (foreground) and `veil agent start` (the same, spawned
//! detached, like ssh-agent).
//!
//! One worker thread owns this machine's keys ([`KeyService::backends_only`], as `veil
//! keyservice` does: it never forwards to other key services and trusts no Vault address a
//! request names) and the cache. It answers requests in turn and, between them, wakes at the
//! next expiry to wipe what has expired, so a key does not outlive its TTL in memory just
//! because no request came. A slow unwrap (a KMS call) delays the other requests and the
//! expiry sweep by as long as it takes.
//!
//! `stop` wipes the cache, answers, removes the socket and ends the process; SIGINT/SIGTERM
//! wipe the cache and remove the socket through the signal thread. A socket left by a killed
//! agent (SIGKILL) is found dead and replaced by the next one.

use super::cache::{self, cache};
use super::{client, socket_path, Empty, Entry, StatusResponse, STATUS_PATH, STOP_PATH};
use crate::error::{Error, Result};
use crate::keys::{KeyService, LocalOptions};
use crate::keyservice::grpc::{self, code, Status};
use crate::keyservice::server::{self, Call, Listener, Op, Reply};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What the agent was asked for.
#[derive(Clone, Debug)]
pub struct Options {
    pub ttl: Duration,
    pub max_entries: usize,
    /// Log each request (kind, public name, hit or miss) on stderr.
    pub verbose: bool,
    /// Started by `veil agent start`: leave the terminal's session and, once listening, let
    /// go of stdin/stdout/stderr.
    pub detached: bool,
}

/// `veil agent run`: serve until `stop` or a signal.
pub fn run(opts: &Options) -> Result<i32> {
    let audit = crate::audit::Log::from_env()?;
    let (path, default) = socket_path();
    let dir = path.parent().unwrap_or(Path::new("."));
    if default {
        server::private_dir(dir)?;
    } else {
        super::check_dir(dir).map_err(|m| {
            Error::generic(format!("will not put the agent's socket there: {m}"))
                .hint("choose a VEIL_AGENT_SOCK in a directory only you can write to (mode 700)")
        })?;
    }
    server::clear_stale_socket(&path).map_err(|e| {
        if e.message.contains("already listening") {
            Error::generic(format!("an agent is already running on {}", path.display()))
                .hint("use it (veil agent status), or stop it first with veil agent stop")
        } else {
            e
        }
    })?;
    let (std_listener, ticket) = server::bind_private_socket(&path)?;
    std_listener.set_nonblocking(true)?;
    cache().configure(opts.ttl, opts.max_entries);
    let (_wipe, wipe_ticket) = crate::guard::signals::tracked(|| {
        Ok::<_, Error>(((), crate::guard::signals::Cleanup::Wipe(cache::wipe_all)))
    })?;
    // The worker loads the identities first, and may ask for a passphrase on the terminal
    // (once: age keeps the decrypted identity file); only then does a started agent let go of
    // the terminal.
    let (calls, rx) = mpsc::channel::<Call>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let verbose = opts.verbose && !opts.detached;
    std::thread::Builder::new()
        .name("veil-agent".into())
        .spawn(move || worker(rx, verbose, audit, stop_tx, ready_tx))?;
    let _ = ready_rx.recv();
    if opts.detached {
        // Out of the terminal's session: its hangup and Ctrl-C are not ours any more.
        let _ = rustix::process::setsid();
        let null = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")?;
        rustix::stdio::dup2_stdin(&null).map_err(std::io::Error::from)?;
        rustix::stdio::dup2_stdout(&null).map_err(std::io::Error::from)?;
        rustix::stdio::dup2_stderr(&null).map_err(std::io::Error::from)?;
    } else {
        eprintln!(
            "veil agent: listening on unix://{} (ttl {}s, at most {} keys)",
            path.display(),
            opts.ttl.as_secs(),
            opts.max_entries
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    rt.block_on(async move {
        let listener = Listener::Unix(tokio::net::UnixListener::from_std(std_listener)?);
        tokio::spawn(async move {
            let _ = server::serve(listener, calls, verbose, "veil agent").await;
        });
        // The worker ended (stop, or it failed): let the last answer go out, then end.
        let _ = stop_rx.await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        Ok::<_, Error>(())
    })?;
    cache::wipe_all();
    let _ = std::fs::remove_file(&path);
    drop(ticket);
    drop(wipe_ticket);
    Ok(0)
}

/// `veil agent start`: spawn `veil agent run --detached`, wait until it answers, and print
/// the shell line that points later commands at it.
pub fn start(opts: &Options) -> Result<i32> {
    use std::io::Read;
    let (path, default) = socket_path();
    if client::status(&path).is_ok() {
        eprintln!(
            "veil agent: already running on {} (veil agent stop ends it)",
            path.display()
        );
        print_env(&path)?;
        return Ok(0);
    }
    if default {
        // The child is told the path through VEIL_AGENT_SOCK, so it checks its directory
        // rather than making it: make the default one here (0700), as `run` would.
        server::private_dir(path.parent().unwrap_or(Path::new(".")))?;
    }
    let exe = std::env::current_exe()?;
    let mut child = std::process::Command::new(exe)
        .args(["agent", "run", "--detached", "--ttl"])
        .arg(format!("{}s", opts.ttl.as_secs()))
        .arg("--max-entries")
        .arg(opts.max_entries.to_string())
        .env(super::VEIL_AGENT_SOCK, &path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    // Up to ten minutes: the agent may be waiting for a passphrase typed on the terminal (and
    // a status call to it may take up to the client's deadline meanwhile).
    let until = Instant::now() + Duration::from_secs(600);
    while Instant::now() < until {
        if let Some(st) = child.try_wait()? {
            let mut why = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut why);
            }
            return Err(
                Error::generic(format!("the agent did not start ({st}): {}", why.trim()))
                    .hint("run `veil agent run` in the foreground to see what it does"),
            );
        }
        if client::status(&path).is_ok() {
            print_env(&path)?;
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(
        Error::generic(format!("the agent did not answer on {}", path.display()))
            .hint("run `veil agent run` in the foreground to see what it does"),
    )
}

fn print_env(path: &Path) -> Result<()> {
    let p = path.display().to_string();
    let quoted = shlex::try_quote(&p).map_err(|_| Error::generic("unusable socket path"))?;
    crate::cli::io::write_stdout(
        format!("VEIL_AGENT_SOCK={quoted}; export VEIL_AGENT_SOCK;\n").as_bytes(),
    )?;
    Ok(())
}

/// The thread that holds the keys and the cache.
fn worker(
    rx: mpsc::Receiver<Call>,
    verbose: bool,
    audit: Option<crate::audit::Log>,
    stop: tokio::sync::oneshot::Sender<()>,
    ready: mpsc::Sender<()>,
) {
    crate::keys::age::unlock_at_load();
    let ks = KeyService::backends_only(&LocalOptions::default());
    ks.unlock();
    let _ = ready.send(());
    let mut next: Option<Instant> = None;
    loop {
        let wait = next
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(3600));
        let call = match rx.recv_timeout(wait) {
            Ok(c) => Some(c),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        if let Some(call) = call {
            if call.path == STOP_PATH {
                cache().clear();
                if verbose {
                    eprintln!("veil agent: stop: cache wiped");
                }
                let _ = call.reply.send(Ok(grpc::frame(&Empty {})));
                break;
            }
            let result = answer(&ks, &call, verbose, audit.as_ref());
            let _ = call.reply.send(result);
        }
        next = cache().expire(Instant::now());
    }
    let _ = stop.send(());
}

fn answer(ks: &KeyService, call: &Call, verbose: bool, audit: Option<&crate::audit::Log>) -> Reply {
    if call.path == STATUS_PATH {
        return Ok(grpc::frame(&status()));
    }
    let op = Op::of_path(&call.path)
        .ok_or_else(|| Status::new(code::UNIMPLEMENTED, format!("unknown method {}", call.path)))?;
    let job = server::decode(op, &call.message)?;
    let (result, how, command) = match op {
        // Encrypt answers with this machine's keys; nothing about it is kept.
        Op::Encrypt => (server::perform(ks, &job), "wrapped", "agent-encrypt"),
        Op::Decrypt => {
            let h = cache::hash(&job.key, &job.data);
            let hit = cache().get(&h, Instant::now());
            match hit {
                Some(secret) => (Ok(secret), "cached", "agent-decrypt-cached"),
                None => {
                    let r = server::perform(ks, &job);
                    if let Ok(secret) = &r {
                        cache().insert(h, &job.key, secret, Instant::now());
                    }
                    (r, "unwrapped", "agent-decrypt")
                }
            }
        }
    };
    if verbose {
        let outcome = match &result {
            Ok(_) => how.to_string(),
            Err(s) => s.to_string(),
        };
        let what = match op {
            Op::Encrypt => "encrypt",
            Op::Decrypt => "decrypt",
        };
        eprintln!(
            "veil agent: {what} request for {}: {outcome}",
            job.key.describe()
        );
    }
    let result = match audit {
        Some(log) => server::audited(log, command, op, &job.key, result),
        None => result,
    };
    result.map(|out| server::encode(op, &out))
}

/// The agent's state for `status`: never a key.
fn status() -> StatusResponse {
    let now = Instant::now();
    let c = cache();
    StatusResponse {
        entries: c
            .shown(now)
            .into_iter()
            .map(|s| Entry {
                kind: s.kind,
                id: s.id,
                expires_in_seconds: s.expires_in.as_secs(),
            })
            .collect(),
        ttl_seconds: c.ttl().as_secs(),
        max_entries: c.max_entries() as u64,
        pid: std::process::id(),
    }
}
