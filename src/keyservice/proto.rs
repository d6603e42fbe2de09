//! The messages of sops's key service protocol (`keyservice/keyservice.proto` in sops), written
//! by hand with `prost` derives so the build needs neither `protoc` nor a build script.
//!
//! Field numbers, types and the `key_type` oneof are exactly the .proto's: a change here breaks
//! the wire with every sops. The proto has no `package`, so the service's gRPC paths are
//! `/KeyService/Encrypt` and `/KeyService/Decrypt`. Plaintext fields hold key material: the
//! messages that carry it zeroize it on drop and have no field-revealing `Debug`.

use std::collections::HashMap;
use zeroize::Zeroize;

/// gRPC path of the `Encrypt` method.
pub const ENCRYPT_PATH: &str = "/KeyService/Encrypt";
/// gRPC path of the `Decrypt` method.
pub const DECRYPT_PATH: &str = "/KeyService/Decrypt";

#[derive(Clone, PartialEq, prost::Message)]
pub struct Key {
    #[prost(oneof = "KeyType", tags = "1, 2, 3, 4, 5, 6, 7")]
    pub key_type: Option<KeyType>,
}

/// `oneof key_type`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum KeyType {
    #[prost(message, tag = "1")]
    KmsKey(KmsKey),
    #[prost(message, tag = "2")]
    PgpKey(PgpKey),
    #[prost(message, tag = "3")]
    GcpKmsKey(GcpKmsKey),
    #[prost(message, tag = "4")]
    AzureKeyvaultKey(AzureKeyVaultKey),
    #[prost(message, tag = "5")]
    VaultKey(VaultKey),
    #[prost(message, tag = "6")]
    AgeKey(AgeKey),
    #[prost(message, tag = "7")]
    HckmsKey(HckmsKey),
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PgpKey {
    #[prost(string, tag = "1")]
    pub fingerprint: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct KmsKey {
    #[prost(string, tag = "1")]
    pub arn: String,
    #[prost(string, tag = "2")]
    pub role: String,
    #[prost(map = "string, string", tag = "3")]
    pub context: HashMap<String, String>,
    #[prost(string, tag = "4")]
    pub aws_profile: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GcpKmsKey {
    #[prost(string, tag = "1")]
    pub resource_id: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct VaultKey {
    #[prost(string, tag = "1")]
    pub vault_address: String,
    #[prost(string, tag = "2")]
    pub engine_path: String,
    #[prost(string, tag = "3")]
    pub key_name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct AzureKeyVaultKey {
    #[prost(string, tag = "1")]
    pub vault_url: String,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(string, tag = "3")]
    pub version: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct AgeKey {
    #[prost(string, tag = "1")]
    pub recipient: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct HckmsKey {
    #[prost(string, tag = "1")]
    pub key_id: String,
}

/// Wrap `plaintext` (a data key or share) for `key`.
#[derive(Clone, PartialEq, prost::Message)]
#[prost(skip_debug)]
pub struct EncryptRequest {
    #[prost(message, optional, tag = "1")]
    pub key: Option<Key>,
    #[prost(bytes = "vec", tag = "2")]
    pub plaintext: Vec<u8>,
}

/// The wrapped key, exactly the text sops stores in `enc`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EncryptResponse {
    #[prost(bytes = "vec", tag = "1")]
    pub ciphertext: Vec<u8>,
}

/// Unwrap `ciphertext` (the `enc` text) with `key`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DecryptRequest {
    #[prost(message, optional, tag = "1")]
    pub key: Option<Key>,
    #[prost(bytes = "vec", tag = "2")]
    pub ciphertext: Vec<u8>,
}

/// The unwrapped data key or share.
#[derive(Clone, PartialEq, prost::Message)]
#[prost(skip_debug)]
pub struct DecryptResponse {
    #[prost(bytes = "vec", tag = "1")]
    pub plaintext: Vec<u8>,
}

macro_rules! secret_message {
    ($t:ty, $field:ident) => {
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(
                    f,
                    concat!(
                        stringify!($t),
                        " {{ ",
                        stringify!($field),
                        ": <{} bytes> }}"
                    ),
                    self.$field.len()
                )
            }
        }
        impl Drop for $t {
            fn drop(&mut self) {
                self.$field.zeroize();
            }
        }
    };
}
secret_message!(EncryptRequest, plaintext);
secret_message!(DecryptResponse, plaintext);
