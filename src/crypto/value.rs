//! The `ENC[…]` value codec: AES-256-GCM with sops's 32-byte IV (the default) and
//! XChaCha20-Poly1305 (veil's opt-in, which sops cannot read).
//!
//! `ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:<type>]`, standard padded base64; `data` is
//! the ciphertext without the tag. The AAD is the leaf's key path (docs/sops-format.md §1.1–1.3). One
//! [`ValueCipher`] is built per file so the key schedule runs once; IVs come from a user-space
//! CSPRNG seeded from the OS (or from the caller, for deterministic tests).

use crate::crypto::b64;
use crate::crypto::data_key::DataKey;
use crate::error::{Code, Error, Result};
use aes_gcm::aead::consts::U32;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::AesGcm;
use chacha20poly1305::XChaCha20Poly1305;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

type SopsAesGcm = AesGcm<Aes256, U32>;

/// The value cipher named in `ENC[CIPHER,…]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Cipher {
    #[default]
    Aes256Gcm,
    XChaCha20Poly1305,
}

impl Cipher {
    pub fn tag(self) -> &'static str {
        match self {
            Cipher::Aes256Gcm => "AES256_GCM",
            Cipher::XChaCha20Poly1305 => "XCHACHA20_POLY1305",
        }
    }

    fn iv_len(self) -> usize {
        match self {
            Cipher::Aes256Gcm => 32,
            Cipher::XChaCha20Poly1305 => 24,
        }
    }

    /// Parse the `--cipher` flag value.
    pub fn from_flag(s: &str) -> Option<Cipher> {
        match s.to_ascii_lowercase().as_str() {
            "aes256-gcm" | "aes256_gcm" | "aes-256-gcm" => Some(Cipher::Aes256Gcm),
            "xchacha20-poly1305" | "xchacha20_poly1305" => Some(Cipher::XChaCha20Poly1305),
            _ => None,
        }
    }
}

/// A parsed `ENC[…]` token.
#[derive(Clone, PartialEq, Eq)]
pub struct EncValue {
    pub cipher: Cipher,
    pub data: Vec<u8>,
    pub iv: Vec<u8>,
    pub tag: Vec<u8>,
    pub type_name: String,
}

impl std::fmt::Debug for EncValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "EncValue({}, type:{})",
            self.cipher.tag(),
            self.type_name
        )
    }
}

/// Is this string an `ENC[…]` token (of either cipher)?
pub fn is_enc(s: &str) -> bool {
    s.starts_with("ENC[AES256_GCM,") || s.starts_with("ENC[XCHACHA20_POLY1305,")
}

fn malformed() -> Error {
    Error::new(
        Code::ErrorDecryptingTree,
        "Error decrypting tree: malformed ENC[] value",
    )
    .hint("the encrypted value was damaged or edited by hand; restore it from git")
}

impl EncValue {
    /// Parse like sops's regex `^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]`
    /// (greedy groups, trailing text after `]` ignored).
    pub fn parse(s: &str) -> Result<EncValue> {
        let r = EncRef::parse(s)?;
        let dec = |x: &str| {
            let mut v = Vec::new();
            b64::decode_into(x, &mut v)
                .map(|_| v)
                .map_err(|_| malformed())
        };
        Ok(EncValue {
            cipher: r.cipher,
            data: dec(r.data)?,
            iv: dec(r.iv)?,
            tag: dec(r.tag)?,
            type_name: r.type_name.to_string(),
        })
    }
}

/// An `ENC[…]` token split into its (still base64) fields, borrowed from the text.
pub struct EncRef<'a> {
    pub cipher: Cipher,
    pub data: &'a str,
    pub iv: &'a str,
    pub tag: &'a str,
    pub type_name: &'a str,
}

impl<'a> EncRef<'a> {
    /// Split like sops's regex (see [`EncValue::parse`]), without decoding.
    pub fn parse(s: &'a str) -> Result<EncRef<'a>> {
        let (cipher, rest) = if let Some(r) = s.strip_prefix("ENC[AES256_GCM,") {
            (Cipher::Aes256Gcm, r)
        } else if let Some(r) = s.strip_prefix("ENC[XCHACHA20_POLY1305,") {
            (Cipher::XChaCha20Poly1305, r)
        } else {
            return Err(malformed());
        };
        let rest = rest.strip_prefix("data:").ok_or_else(malformed)?;
        // Greedy: the last occurrence of each following marker wins, as in sops's regex.
        let iv_at = rfind(rest, ",iv:").ok_or_else(malformed)?;
        let data = &rest[..iv_at];
        let rest = &rest[iv_at + 4..];
        let tag_at = rfind(rest, ",tag:").ok_or_else(malformed)?;
        let iv = &rest[..tag_at];
        let rest = &rest[tag_at + 5..];
        let type_at = rfind(rest, ",type:").ok_or_else(malformed)?;
        let tag = &rest[..type_at];
        let rest = &rest[type_at + 6..];
        let end = rest.rfind(']').ok_or_else(malformed)?;
        let type_name = &rest[..end];
        if data.is_empty() || iv.is_empty() || tag.is_empty() || type_name.is_empty() {
            return Err(malformed());
        }
        Ok(EncRef {
            cipher,
            data,
            iv,
            tag,
            type_name,
        })
    }
}

/// The last occurrence of a marker (`,iv:`, …), found by its comma: base64 has none, so a
/// token has three or four. `str::rfind` sets up a two-way searcher every call, which was a
/// fifth of decrypting a big file.
fn rfind(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let mut end = h.len();
    loop {
        let at = memchr::memrchr(n[0], &h[..end])?;
        if h[at..].starts_with(n) {
            return Some(at);
        }
        end = at;
    }
}

impl EncValue {
    /// The `ENC[…]` text.
    pub fn token(&self) -> String {
        write_token(
            self.cipher,
            &self.data,
            &self.iv,
            &self.tag,
            &self.type_name,
        )
    }
}

/// The `ENC[…]` text, built in one allocation of the exact size (this runs once per value,
/// and formatting through `fmt` was a tenth of encrypting a big file).
fn write_token(cipher: Cipher, data: &[u8], iv: &[u8], tag: &[u8], type_name: &str) -> String {
    let b64 = b64::encoded_len;
    let name = cipher.tag();
    let len = 4
        + name.len()
        + 6
        + b64(data.len())
        + 4
        + b64(iv.len())
        + 5
        + b64(tag.len())
        + 6
        + type_name.len()
        + 1;
    // Bytes first and one UTF-8 check at the end: `encode_string` checks every chunk it
    // writes, which cost more than the encoding itself.
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(b"ENC[");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b",data:");
    b64::encode_into(data, &mut out);
    out.extend_from_slice(b",iv:");
    b64::encode_into(iv, &mut out);
    out.extend_from_slice(b",tag:");
    b64::encode_into(tag, &mut out);
    out.extend_from_slice(b",type:");
    out.extend_from_slice(type_name.as_bytes());
    out.push(b']');
    String::from_utf8(out).unwrap_or_default()
}

impl std::fmt::Display for EncValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.token())
    }
}

/// Seals and opens values with one file's data key.
pub struct ValueCipher {
    aes: SopsAesGcm,
    xchacha: XChaCha20Poly1305,
    cipher: Cipher,
    rng: ChaCha20Rng,
    scratch: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for ValueCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ValueCipher({})", self.cipher.tag())
    }
}

impl ValueCipher {
    /// A cipher sealing with `cipher`, IVs drawn from a CSPRNG seeded from the OS.
    pub fn new(key: &DataKey, cipher: Cipher) -> ValueCipher {
        ValueCipher::with_rng(key, cipher, ChaCha20Rng::from_entropy())
    }

    /// A cipher with a caller-chosen IV source (deterministic tests).
    pub fn with_rng(key: &DataKey, cipher: Cipher, rng: ChaCha20Rng) -> ValueCipher {
        let k = key.expose();
        ValueCipher {
            aes: SopsAesGcm::new(k.into()),
            xchacha: XChaCha20Poly1305::new(k.into()),
            cipher,
            rng,
            scratch: zeroize::Zeroizing::new(Vec::new()),
        }
    }

    pub fn cipher(&self) -> Cipher {
        self.cipher
    }

    /// The IV stream (to seed another cipher's from it).
    pub fn rng(&mut self) -> &mut ChaCha20Rng {
        &mut self.rng
    }

    /// Seal `plaintext` of type `type_name` with `aad`; `iv` reuses a stashed IV, else a fresh
    /// one is drawn. Returns the `ENC[…]` text.
    pub fn seal(
        &mut self,
        plaintext: &[u8],
        type_name: &str,
        aad: &[u8],
        iv: Option<&[u8]>,
    ) -> Result<String> {
        let cipher = self.cipher;
        let n = cipher.iv_len();
        let mut fresh = [0u8; 32];
        let iv: &[u8] = match iv {
            Some(iv) if iv.len() == n => iv,
            _ => {
                self.rng.fill_bytes(&mut fresh[..n]);
                &fresh[..n]
            }
        };
        // One buffer for every value of the file (zeroed when the cipher is dropped): it holds
        // the plaintext only until it is encrypted in place.
        let buf = &mut *self.scratch;
        buf.clear();
        buf.extend_from_slice(plaintext);
        let fail = || Error::new(Code::ErrorEncryptingTree, "could not encrypt a value");
        let tag: [u8; 16] = match cipher {
            Cipher::Aes256Gcm => self
                .aes
                .encrypt_in_place_detached(
                    aes_gcm::aead::generic_array::GenericArray::from_slice(iv),
                    aad,
                    buf,
                )
                .map_err(|_| fail())?
                .into(),
            Cipher::XChaCha20Poly1305 => self
                .xchacha
                .encrypt_in_place_detached(chacha20poly1305::XNonce::from_slice(iv), aad, buf)
                .map_err(|_| fail())?
                .into(),
        };
        Ok(write_token(cipher, buf, iv, &tag, type_name))
    }

    /// Open a parsed token with `aad`. A failed tag is sops's exit 25.
    pub fn open(&self, v: &EncValue, aad: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        self.open_parts(v.cipher, v.data.clone(), &v.iv, &v.tag, aad)
    }

    /// Open a token split by [`EncRef::parse`], decoding its fields without keeping them:
    /// the same results and errors as [`EncValue::parse`] then [`ValueCipher::open`], with
    /// one allocation instead of five (this runs once per value of a file).
    pub fn open_ref(&self, v: &EncRef<'_>, aad: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let mut data = Vec::with_capacity(v.data.len() / 4 * 3);
        b64::decode_into(v.data, &mut data).map_err(|_| malformed())?;
        let mut iv = [0u8; 32];
        let mut tag = [0u8; 16];
        let fixed = |x: &str, out: &mut [u8]| -> Result<usize> {
            match b64::decode_slice(x, out) {
                Ok(n) => Ok(n),
                // Valid base64 of the wrong length fails like a wrong tag, as in `open`.
                Err(base64::DecodeSliceError::OutputSliceTooSmall) => Err(auth_failed()),
                Err(_) => Err(malformed()),
            }
        };
        let ni = fixed(v.iv, &mut iv)?;
        let nt = fixed(v.tag, &mut tag)?;
        self.open_parts(v.cipher, data, &iv[..ni], &tag[..nt], aad)
    }

    fn open_parts(
        &self,
        cipher: Cipher,
        data: Vec<u8>,
        iv: &[u8],
        tag: &[u8],
        aad: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let fail = auth_failed;
        if tag.len() != 16 {
            return Err(fail());
        }
        let mut buf = zeroize::Zeroizing::new(data);
        match cipher {
            Cipher::Aes256Gcm => {
                // sops builds the GCM with len(iv); veil supports its own 32-byte IVs and the
                // standard 12-byte nonce.
                let tag = aes_gcm::Tag::from_slice(tag);
                match iv.len() {
                    32 => self
                        .aes
                        .decrypt_in_place_detached(
                            aes_gcm::aead::generic_array::GenericArray::from_slice(iv),
                            aad,
                            &mut buf,
                            tag,
                        )
                        .map_err(|_| fail())?,
                    _ => return Err(fail()),
                }
            }
            Cipher::XChaCha20Poly1305 => {
                if iv.len() != 24 {
                    return Err(fail());
                }
                self.xchacha
                    .decrypt_in_place_detached(
                        chacha20poly1305::XNonce::from_slice(iv),
                        aad,
                        &mut buf,
                        chacha20poly1305::Tag::from_slice(tag),
                    )
                    .map_err(|_| fail())?
            }
        }
        Ok(buf)
    }
}

fn auth_failed() -> Error {
    Error::new(
        Code::ErrorDecryptingTree,
        "Error decrypting tree: cipher: message authentication failed",
    )
    .hint("a value was changed, moved to another key, or sealed with another data key; restore the file from git")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sops_test_vector() {
        // aes/cipher_test.go: key = 32 × 'f', AAD "bar:", plaintext "foo".
        let key = DataKey::from_slice(&[b'f'; 32]).unwrap();
        let c = ValueCipher::new(&key, Cipher::Aes256Gcm);
        let v = EncValue::parse("ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]").unwrap();
        assert_eq!(&c.open(&v, b"bar:").unwrap()[..], b"foo");
        assert!(c.open(&v, b"baz:").is_err());
        let tok = "ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]";
        let r = EncRef::parse(tok).unwrap();
        assert_eq!(&c.open_ref(&r, b"bar:").unwrap()[..], b"foo");
        assert!(c.open_ref(&r, b"baz:").is_err());
    }

    #[test]
    fn seal_open_both_ciphers_and_iv_reuse() {
        let key = DataKey::from_slice(&[3; 32]).unwrap();
        for cipher in [Cipher::Aes256Gcm, Cipher::XChaCha20Poly1305] {
            let mut c = ValueCipher::with_rng(&key, cipher, ChaCha20Rng::seed_from_u64(1));
            let t = c.seal(b"hello", "str", b"a:b:", None).unwrap();
            assert!(t.starts_with(&format!("ENC[{},data:", cipher.tag())), "{t}");
            let v = EncValue::parse(&t).unwrap();
            assert_eq!(v.type_name, "str");
            assert_eq!(&c.open(&v, b"a:b:").unwrap()[..], b"hello");
            let again = c.seal(b"hello", "str", b"a:b:", Some(&v.iv)).unwrap();
            assert_eq!(again, t);
        }
    }

    #[test]
    fn malformed_tokens_are_refused_without_panic() {
        for s in [
            "ENC[",
            "ENC[AES256_GCM,data:,iv:,tag:,type:]",
            "ENC[AES256_GCM,data:!!,iv:a,tag:b,type:str]",
            "ENC[AES256_GCM,data:YQ==,iv:YQ==,tag:YQ==,type:str",
        ] {
            assert!(EncValue::parse(s).is_err(), "{s}");
        }
    }
}
