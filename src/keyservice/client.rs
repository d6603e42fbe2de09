//! A remote key service (`--keyservice URI`) as a door of [`crate::keys::KeyService`]: it
//! wraps and unwraps for any kind of key by sending the key's public identifiers and the
//! wrapped (or plain) data key to the service, which uses its own identities and credentials.
//!
//! It connects on first use, so naming a service that is down costs nothing until a key needs
//! it, and a file the local identities open never touches it (local first, as in sops). An
//! error names the service and the gRPC status, never the data key.

use super::grpc::{self, Channel, Status};
use super::{key_to_proto, proto, Endpoint};
use crate::error::{Code, Error, Outcome, Result};
use crate::keys::{KeyRef, Remote, Secret};
use prost::Message;
use std::sync::Mutex;
use zeroize::Zeroizing;

/// One `--keyservice` endpoint.
pub struct RemoteKeyService {
    endpoint: Endpoint,
    channel: Mutex<Option<Channel>>,
}

impl RemoteKeyService {
    pub fn new(endpoint: Endpoint) -> RemoteKeyService {
        RemoteKeyService {
            endpoint,
            channel: Mutex::new(None),
        }
    }

    fn call(&self, path: &str, request: &[u8]) -> std::result::Result<Zeroizing<Vec<u8>>, Status> {
        let mut ch = self
            .channel
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if ch.is_none() {
            let c = Channel::new(self.endpoint.clone())
                .map_err(|e| Status::new(grpc::code::INTERNAL, e.to_string()))?;
            *ch = Some(c);
        }
        ch.as_mut().expect("set above").call(path, request)
    }
}

impl Remote for RemoteKeyService {
    fn name(&self) -> String {
        self.endpoint.uri()
    }

    fn wrap(&self, key: &KeyRef, secret: &[u8]) -> Result<String> {
        let req = proto::EncryptRequest {
            key: Some(key_to_proto(key)),
            plaintext: secret.to_vec(),
        };
        let fail = |m: String| {
            Error::new(
                Code::CouldNotRetrieveKey,
                format!(
                    "key service {} could not wrap the data key for {}: {m}",
                    self.name(),
                    key.describe()
                ),
            )
        };
        let body = self
            .call(proto::ENCRYPT_PATH, &grpc::frame(&req))
            .map_err(|s| fail(s.to_string()))?;
        let rsp = proto::EncryptResponse::decode(body.as_slice())
            .map_err(|e| fail(format!("malformed answer: {e}")))?;
        String::from_utf8(rsp.ciphertext)
            .map_err(|_| fail("the wrapped key it returned is not text".into()))
    }

    fn unwrap(&self, key: &KeyRef, enc: &str) -> std::result::Result<Secret, Outcome> {
        let req = proto::DecryptRequest {
            key: Some(key_to_proto(key)),
            ciphertext: enc.as_bytes().to_vec(),
        };
        let body = self
            .call(proto::DECRYPT_PATH, &grpc::frame(&req))
            .map_err(|s| Outcome::Failed(format!("key service {}: {s}", self.name())))?;
        let mut rsp = proto::DecryptResponse::decode(body.as_slice()).map_err(|e| {
            Outcome::Failed(format!(
                "key service {}: malformed answer: {e}",
                self.name()
            ))
        })?;
        Ok(Zeroizing::new(std::mem::take(&mut rsp.plaintext)))
    }
}
