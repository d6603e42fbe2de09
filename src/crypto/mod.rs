//! Cryptography: the data key, the `ENC[…]` value codec, the MAC, and Shamir's key splitting.
pub mod data_key;
pub mod mac;
pub mod shamir;
pub mod value;
