//! The engine: seal and open a parsed document's leaves, compute and check the MAC, wrap and
//! unwrap the data key. It sees only the format-neutral tree and edits, never syntax.
//!
//! Encrypt: select leaves → seal each with its path as AAD → MAC over every leaf → data key
//! wrapped for every master key (Shamir shares for several groups) → metadata.
//! Decrypt: metadata → unwrap the data key (any one key per group; combine groups) → check the
//! integrity field, if any → open every leaf the file's own rule seals (a leaf it leaves plain
//! stays a plain value, whatever it looks like) → recompute and check the MAC.
//! Changing a file: re-seal with the file's rule, never writing in plaintext a leaf the file
//! held sealed (`guard`), and re-authenticate the integrity field (`integrity`).
//!
//! The RNG and the clock come from [`Context`], so tests are deterministic.
//!
//! Layout: `seal` (encrypting leaves, new metadata), `open` (unwrapping and opening),
//! `data_key` (wrapping the data key for key groups), `reseal` (changing an encrypted file),
//! `mac`, `readback` (the check before writing), `edits`, `stash` (the IV stash), `guard`
//! and `integrity`. Every public item is re-exported here, so callers write `engine::X`.
//! The engine never reads `.sops.yaml` or the environment, and never writes a file.

mod context;
mod data_key;
mod edits;
mod guard;
mod integrity;
mod mac;
mod open;
mod readback;
mod reseal;
mod seal;
mod stash;

pub use context::*;
pub use data_key::*;
pub use edits::*;
pub use guard::SealedRecord;
pub use integrity::{check_integrity, reauthenticate, want_integrity};
pub use mac::*;
pub use open::*;
pub use readback::*;
pub use reseal::*;
pub use seal::*;
pub use stash::*;

#[cfg(test)]
mod tests;
