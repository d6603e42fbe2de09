//! The road a file travels: from bytes read to bytes ready to write, for every command.
//!
//! Encrypting: make the data key, seal the leaves (`engine::LeafSealer`), build the metadata,
//! add the integrity field; decrypting: unwrap the data key, open the leaves
//! (`engine::LeafOpener`), check the MAC. Both try the format's streaming path first (YAML,
//! dotenv, INI, TOML) and fall back to the lossless tree path; both convert formats and check a
//! conversion. Changing an encrypted file (`reseal`) renders it on its own text where it can and
//! reads every output back before it may be written (`readback`). Layout options for fresh
//! output are worked out in one place (`layout`).
//!
//! It exists so that `src/cli/*` only parse arguments, call one of these functions and write
//! what they return. It must not parse arguments, read `.sops.yaml`, prompt, or write a file
//! (`cli::io` does that, atomically); it talks to key backends only through
//! [`KeyService`](crate::keys::KeyService), so a remote key service can stand behind it.
//! What it wants logged goes to an [`Observer`].

mod decrypt;
mod encrypt;
mod layout;
mod readback;
mod reseal;

pub use decrypt::open_to_read;
pub use decrypt::{
    decrypt, decrypt_into, decrypt_tree, emit_value, load_error, open, open_parsed, Decrypt, Opened,
};
pub use encrypt::{encrypt, encrypt_into, encrypt_parsed, Encrypt};
pub use layout::{infer_indent, LayoutOptions};
pub use readback::{meta_tree, render_checked, render_checked_with, verify_written, Layout};
pub use reseal::{reencrypt, render_in_place, render_same_shape, reuse_from};

use crate::tree::Value;

/// What the pipeline reports while it runs: `--verbose` lines in the CLI, and the place an
/// audit hook will listen. Every method has a silent default. Nothing passed here is secret:
/// steps name files, formats and paths taken; keys are public identifiers.
pub trait Observer {
    /// A step worth a `--verbose` line.
    fn step(&self, _msg: &str) {}
    /// The data key of a file with this metadata is about to be unwrapped.
    fn unwrapping(&self, _metadata: Option<&Value>) {}
    /// The master keys that unwrapped the data key, one per key group used (sops's names).
    fn unwrapped_by(&self, _keys: &[String]) {}
}

/// An observer that reports nothing.
pub struct Silent;
impl Observer for Silent {}

/// Where a result goes as it is produced: each chunk has passed its check when it is put
/// (`cli::io` implements it; the pipeline never writes a file itself).
pub trait Sink {
    /// Take the next checked chunk of the output.
    fn put(&mut self, chunk: &[u8]) -> crate::error::Result<()>;
    /// Forget every chunk put so far, because the output is being made another way; `false`
    /// when they cannot be taken back (they went to stdout).
    fn rewind(&mut self) -> crate::error::Result<bool>;
}

/// A [`Sink`] that holds the output (tests, and callers that need it whole).
impl Sink for Vec<u8> {
    fn put(&mut self, chunk: &[u8]) -> crate::error::Result<()> {
        self.extend_from_slice(chunk);
        Ok(())
    }
    fn rewind(&mut self) -> crate::error::Result<bool> {
        self.clear();
        Ok(true)
    }
}

/// A result ready to write: the streaming paths hand back several parts (written one after
/// another, never copied into one buffer), the lossless path one buffer.
pub enum Output {
    Parts(Box<dyn crate::format::stream::Slices>),
    Bytes(Vec<u8>),
}

impl Output {
    /// The bytes to write, in order.
    pub fn slices(&self) -> Vec<&[u8]> {
        match self {
            Output::Parts(p) => p.slices(),
            Output::Bytes(b) => vec![b.as_slice()],
        }
    }
}
