//! The agent as seen by a veil command: tried before this machine's own backends for every
//! unwrap, and quietly skipped (one `--verbose` line) when it is absent, dead, untrusted or
//! cannot unwrap the key. It never wraps: a plaintext data key is never sent to the agent.
//!
//! Before the first request the socket must pass [`super::check_socket`] and the connection
//! must reach a process of our own uid (SO_PEERCRED); a failure of either, a dead agent, or
//! one that does not answer within [`DEADLINE`] (stopped with Ctrl-Z, or stuck) switches the
//! agent off for the rest of the command instead of retrying per key.

use super::{check_socket, Empty, StatusResponse, STATUS_PATH, STOP_PATH};
use crate::error::{Code, Error, Outcome, Result};
use crate::keys::{KeyRef, Remote, Secret};
use crate::keyservice::grpc::{self, code, Channel, Status};
use crate::keyservice::{key_to_proto, proto, Endpoint};
use prost::Message;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use zeroize::Zeroizing;

/// How long one call to the agent may take, connecting included. A warm agent answers in
/// well under a millisecond and a cold one in one KMS call; past this the command stops
/// waiting and unwraps with its own keys, so a stopped agent costs each command this once.
pub const DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// The agent of this run, if one is configured (see [`from_env`]).
pub struct AgentClient {
    path: PathBuf,
    /// `None` before the first use; then the channel, or why the agent is not used.
    channel: Mutex<Option<std::result::Result<Channel, String>>>,
}

/// The agent this command should try: none with `VEIL_AGENT=0`; the `VEIL_AGENT_SOCK` one;
/// else the default socket when something is there.
pub fn from_env() -> Option<AgentClient> {
    if super::disabled() {
        return None;
    }
    let (path, default) = super::socket_path();
    if default && std::fs::symlink_metadata(&path).is_err() {
        return None;
    }
    Some(AgentClient {
        path,
        channel: Mutex::new(None),
    })
}

/// A channel to a trusted agent socket.
fn open(path: &Path) -> std::result::Result<Channel, String> {
    check_socket(path)?;
    Channel::new(Endpoint::Unix(path.to_path_buf()))
        .map(|c| c.require_same_uid().with_deadline(DEADLINE))
        .map_err(|e| e.to_string())
}

impl AgentClient {
    fn call(&self, path: &str, request: &[u8]) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
        let mut ch = self
            .channel
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if ch.is_none() {
            *ch = Some(open(&self.path));
        }
        let c = match ch.as_mut().expect("set above") {
            Ok(c) => c,
            Err(why) => return Err(why.clone()),
        };
        match c.call(path, request) {
            Ok(body) => Ok(body),
            Err(st) => {
                let why = st.to_string();
                // Dead, not ours, or not answering: not tried again in this command.
                if matches!(
                    st.code,
                    code::UNAVAILABLE | code::PERMISSION_DENIED | code::DEADLINE_EXCEEDED
                ) {
                    *ch = Some(Err(why.clone()));
                }
                Err(why)
            }
        }
    }
}

impl Remote for AgentClient {
    fn name(&self) -> String {
        format!("agent unix://{}", self.path.display())
    }

    fn wrap(&self, key: &KeyRef, _secret: &[u8]) -> Result<String> {
        // Never: the agent must not see a plaintext data key from veil.
        Err(Error::new(
            Code::CouldNotRetrieveKey,
            format!("the agent does not wrap keys ({})", key.describe()),
        ))
    }

    fn unwrap(&self, key: &KeyRef, enc: &str) -> std::result::Result<Secret, Outcome> {
        let req = proto::DecryptRequest {
            key: Some(key_to_proto(key)),
            ciphertext: enc.as_bytes().to_vec(),
        };
        let skipped = |why: String| {
            crate::cli::log::step(format!(
                "{}: not used for {} ({why}); trying the other key services",
                self.name(),
                key.describe()
            ));
            Outcome::NoIdentity(format!("{}: {why}", self.name()))
        };
        let body = self
            .call(proto::DECRYPT_PATH, &grpc::frame(&req))
            .map_err(skipped)?;
        let mut rsp = proto::DecryptResponse::decode(body.as_slice())
            .map_err(|e| skipped(format!("malformed answer: {e}")))?;
        crate::cli::log::step(format!(
            "{}: unwrapped the data key for {}",
            self.name(),
            key.describe()
        ));
        Ok(Zeroizing::new(std::mem::take(&mut rsp.plaintext)))
    }
}

fn unreachable(path: &Path, why: String) -> Error {
    Error::generic(format!("no usable agent on {}: {why}", path.display()))
        .hint("start one with: eval \"$(veil agent start)\"")
}

fn rpc(path: &Path, method: &str) -> Result<Zeroizing<Vec<u8>>> {
    let mut ch = open(path).map_err(|w| unreachable(path, w))?;
    ch.call(method, &grpc::frame(&Empty {}))
        .map_err(|s: Status| unreachable(path, s.to_string()))
}

/// `veil.Agent/Status` of the agent on `path`.
pub fn status(path: &Path) -> Result<StatusResponse> {
    let body = rpc(path, STATUS_PATH)?;
    StatusResponse::decode(body.as_slice())
        .map_err(|e| unreachable(path, format!("malformed answer: {e}")))
}

/// `veil.Agent/Stop`: the agent wipes its cache, removes its socket and ends.
pub fn stop(path: &Path) -> Result<()> {
    rpc(path, STOP_PATH).map(|_| ())
}
