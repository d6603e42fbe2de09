//! Cryptography: the data key, the `ENC[…]` value codec, the MAC, Shamir's key splitting, and
//! the key of veil's opt-in integrity field.
pub mod b64;
pub mod data_key;
pub mod integrity;
pub mod mac;
pub mod shamir;
pub mod value;
