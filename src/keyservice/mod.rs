//! sops's key service: a gRPC service (`Encrypt`/`Decrypt` of a data key for one master key)
//! that lets one machine wrap and unwrap data keys for another. Teams run it where the keys
//! are (a workstation with the age identity or the gpg agent, a host with the KMS role) and
//! point other machines at it with `--keyservice`.
//!
//! - [`proto`]: the wire messages, field for field sops's `keyservice.proto`.
//! - [`grpc`]: unary gRPC over HTTP/2 cleartext, written on `h2` (the only two calls sops
//!   makes need no streaming, compression or TLS; tonic would add a dozen crates for them).
//! - [`client`]: a remote key service as one more door in [`crate::keys::KeyService`], tried
//!   after the local backends, in the order given, as sops does.
//! - [`server`]: `veil keyservice`, which answers with this machine's local backends only.
//! - [`agent`]: `veil agent`, a key service on a private socket that caches what it unwraps,
//!   and the client side every command tries first.
//!
//! This module must never log, print or put into an error a plaintext it carries; it logs the
//! key's kind and public identifier only. A server must not forward requests to other key
//! services (it builds its [`crate::keys::KeyService`] from local backends alone).

pub mod agent;
pub mod client;
pub mod grpc;
pub mod proto;
pub mod server;

use crate::error::{Code, Error, Result};
use crate::keys::KeyRef;
use std::sync::OnceLock;

/// Where a key service listens: a unix socket path or a TCP `host:port`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Unix(std::path::PathBuf),
    Tcp(String),
}

impl Endpoint {
    /// Parse a `--keyservice` URI as sops does: `unix:///path` (or `unix:/path`) and
    /// `tcp://host:port`.
    pub fn parse_uri(uri: &str) -> Result<Endpoint> {
        let bad = || {
            Error::new(
                Code::Generic,
                format!("invalid key service address {uri:?}"),
            )
            .hint("use unix:///path/to/socket or tcp://host:port")
        };
        if let Some(rest) = uri.strip_prefix("unix://") {
            // unix:///path (empty host) or unix://localhost/path.
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            if !path.starts_with('/') {
                return Err(bad());
            }
            Ok(Endpoint::Unix(path.into()))
        } else if let Some(path) = uri.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(bad());
            }
            Ok(Endpoint::Unix(path.into()))
        } else if let Some(rest) = uri.strip_prefix("tcp://") {
            let host = rest.trim_end_matches('/');
            if host.is_empty() || host.contains('/') || !host.contains(':') {
                return Err(bad());
            }
            Ok(Endpoint::Tcp(host.to_string()))
        } else {
            Err(bad())
        }
    }

    /// The URI form, for logs and errors.
    pub fn uri(&self) -> String {
        match self {
            Endpoint::Unix(p) => format!("unix://{}", p.display()),
            Endpoint::Tcp(a) => format!("tcp://{a}"),
        }
    }
}

/// The key services this run uses, from `--keyservice`/`SOPS_KEYSERVICE` and
/// `--enable-local-keyservice`/`SOPS_ENABLE_LOCAL_KEYSERVICE`.
#[derive(Clone, Debug)]
pub struct Services {
    /// Use this machine's own backends (first, as sops does).
    pub local: bool,
    /// Remote key services, in the order given.
    pub remote: Vec<Endpoint>,
}

impl Default for Services {
    fn default() -> Services {
        Services {
            local: true,
            remote: Vec::new(),
        }
    }
}

static SERVICES: OnceLock<Services> = OnceLock::new();

/// Set this run's key services (once, by the command line, before any key is used).
pub fn configure(s: Services) {
    let _ = SERVICES.set(s);
}

/// This run's key services (the local one alone unless the command line said otherwise).
pub fn configured() -> Services {
    SERVICES.get().cloned().unwrap_or_default()
}

/// The wire form of a key: what sops's `KeyFromMasterKey` sends.
pub fn key_to_proto(k: &KeyRef) -> proto::Key {
    use proto::KeyType as T;
    let t = match k {
        KeyRef::Age { recipient } => T::AgeKey(proto::AgeKey {
            recipient: recipient.clone(),
        }),
        KeyRef::Pgp { fingerprint } => T::PgpKey(proto::PgpKey {
            fingerprint: fingerprint.clone(),
        }),
        KeyRef::Kms {
            arn,
            role,
            context,
            aws_profile,
        } => T::KmsKey(proto::KmsKey {
            arn: arn.clone(),
            role: role.clone(),
            context: context
                .iter()
                .map(|(a, b)| (a.clone(), b.clone()))
                .collect(),
            aws_profile: aws_profile.clone(),
        }),
        KeyRef::GcpKms { resource_id } => T::GcpKmsKey(proto::GcpKmsKey {
            resource_id: resource_id.clone(),
        }),
        KeyRef::AzureKv {
            vault_url,
            name,
            version,
        } => T::AzureKeyvaultKey(proto::AzureKeyVaultKey {
            vault_url: vault_url.clone(),
            name: name.clone(),
            version: version.clone(),
        }),
        KeyRef::HcVault {
            address,
            engine_path,
            key_name,
        } => T::VaultKey(proto::VaultKey {
            vault_address: address.clone(),
            engine_path: engine_path.clone(),
            key_name: key_name.clone(),
        }),
        KeyRef::Hckms { key_id } => T::HckmsKey(proto::HckmsKey {
            key_id: key_id.clone(),
        }),
    };
    proto::Key { key_type: Some(t) }
}

/// The key a request names, or `None` when it names none.
pub fn key_from_proto(k: &proto::Key) -> Option<KeyRef> {
    use proto::KeyType as T;
    Some(match k.key_type.as_ref()? {
        T::AgeKey(a) => KeyRef::Age {
            recipient: a.recipient.clone(),
        },
        T::PgpKey(p) => KeyRef::Pgp {
            fingerprint: p.fingerprint.clone(),
        },
        T::KmsKey(k) => KeyRef::Kms {
            arn: k.arn.clone(),
            role: k.role.clone(),
            context: k
                .context
                .iter()
                .map(|(a, b)| (a.clone(), b.clone()))
                .collect(),
            aws_profile: k.aws_profile.clone(),
        },
        T::GcpKmsKey(g) => KeyRef::GcpKms {
            resource_id: g.resource_id.clone(),
        },
        T::AzureKeyvaultKey(a) => KeyRef::AzureKv {
            vault_url: a.vault_url.clone(),
            name: a.name.clone(),
            version: a.version.clone(),
        },
        T::VaultKey(v) => KeyRef::HcVault {
            address: v.vault_address.clone(),
            engine_path: v.engine_path.clone(),
            key_name: v.key_name.clone(),
        },
        T::HckmsKey(h) => KeyRef::Hckms {
            key_id: h.key_id.clone(),
        },
    })
}

#[cfg(test)]
mod tests;
