//! Checking a file's stored MAC against the one computed over its leaves. Errors say what
//! to do and carry sops's first words; they never show either digest, which is a hash of the
//! plaintext values.

use crate::crypto::mac::mac_aad;
use crate::crypto::value::{EncValue, ValueCipher};
use crate::error::{Code, Error, Result};
use crate::metadata::Metadata;

pub(crate) fn verify_mac(cipher: &ValueCipher, meta: &Metadata, computed: &str) -> Result<()> {
    let stored = if meta.mac.is_empty() {
        String::new()
    } else {
        // sops's first words for both (`Cannot decrypt MAC: …`), never the MAC's text.
        let v = EncValue::parse(&meta.mac)
            .map_err(|_| mac_error("Cannot decrypt MAC: it is not an ENC[…] value".into()))?;
        let pt = cipher
            .open(&v, mac_aad(&meta.lastmodified).as_bytes())
            .map_err(|_| {
                mac_error(
                    "Cannot decrypt MAC: the MAC or the file's lastmodified was changed".into(),
                )
            })?;
        String::from_utf8_lossy(&pt).into_owned()
    };
    if stored.is_empty() {
        // sops: `MAC mismatch. File has no MAC, computed <digest>`; the same first words.
        return Err(mac_error("MAC mismatch. The file has no MAC".into()));
    }
    if stored != computed {
        // sops prints both digests here. They are SHA-512 over the plaintext values, the very
        // thing the stored MAC is encrypted to hide (a file holding one PIN could be brute
        // forced offline from them), so veil says what to do instead.
        return Err(mac_error(MAC_MISMATCH.into()));
    }
    Ok(())
}

/// The MAC-mismatch message: sops's first words (scripts match them), then veil's own text,
/// never the digests.
pub const MAC_MISMATCH: &str =
    "MAC mismatch. The file's values, keys or rule do not match its MAC: it was changed outside veil/sops";

fn mac_error(msg: String) -> Error {
    Error::new(Code::MacMismatch, msg)
        .hint("a value, key or encryption rule was added, removed, moved or edited; see what changed with `git diff` or `git log -p` on the file and restore it from git, or use --ignore-mac to read it anyway")
}
