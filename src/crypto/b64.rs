//! Standard padded base64 (RFC 4648 §4) for the three fields of every `ENC[…]` value, fast.
//!
//! It exists because encoding and decoding the `data`, `iv` and `tag` fields of 100,000 values
//! with the `base64` crate's general-purpose engine was a fifth of encrypting or decrypting a
//! big flat file: that engine is built for long inputs and pays a set-up per call, and a value's
//! fields are 16 to a few hundred bytes. Encoding here is two lookups in a 4,096-entry table per
//! three bytes. Decoding takes only canonical text (length a multiple of four, padding exactly
//! where needed, no stray bits) and hands anything else to the `base64` crate's `STANDARD`
//! engine, so what is accepted, what it decodes to and every error stay that engine's: this
//! module must never accept a text that engine refuses, nor decode one differently.

use base64::engine::general_purpose::STANDARD;
use base64::{DecodeError, DecodeSliceError, Engine};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Every 12-bit group as its two base64 characters.
static PAIRS: [[u8; 2]; 4096] = pairs();

const fn pairs() -> [[u8; 2]; 4096] {
    let mut t = [[0u8; 2]; 4096];
    let mut i = 0;
    while i < 4096 {
        t[i] = [ALPHABET[i >> 6], ALPHABET[i & 63]];
        i += 1;
    }
    t
}

/// A character's 6-bit value, or `INVALID` (high bit set) for anything outside the alphabet
/// (`=` included: padding is handled apart).
const INVALID: u8 = 0xFF;
static VALUES: [u8; 256] = values();

const fn values() -> [u8; 256] {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
}

/// The length of `n` bytes encoded (with padding).
pub fn encoded_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Append `bytes`, encoded with padding, to `out`: the same text as `STANDARD.encode`.
pub fn encode_into(bytes: &[u8], out: &mut Vec<u8>) {
    let at = out.len();
    out.resize(at + encoded_len(bytes.len()), 0);
    encode_to_slice(bytes, &mut out[at..]);
}

/// Encode `bytes` into `out`, exactly [`encoded_len`] long.
fn encode_to_slice(bytes: &[u8], out: &mut [u8]) {
    let full = bytes.len() / 3;
    let (body, tail) = out.split_at_mut(full * 4);
    let mut chunks = bytes.chunks_exact(3);
    for (c, o) in (&mut chunks).zip(body.chunks_exact_mut(4)) {
        let n = (c[0] as usize) << 16 | (c[1] as usize) << 8 | c[2] as usize;
        let (a, b) = (PAIRS[n >> 12], PAIRS[n & 0xFFF]);
        o[0] = a[0];
        o[1] = a[1];
        o[2] = b[0];
        o[3] = b[1];
    }
    match (chunks.remainder(), tail) {
        (&[x], [o0, o1, o2, o3]) => {
            let n = (x as usize) << 4;
            *o0 = ALPHABET[n >> 6];
            *o1 = ALPHABET[n & 63];
            *o2 = b'=';
            *o3 = b'=';
        }
        (&[x, y], [o0, o1, o2, o3]) => {
            let n = (x as usize) << 10 | (y as usize) << 2;
            let a = PAIRS[n >> 6];
            *o0 = a[0];
            *o1 = a[1];
            *o2 = ALPHABET[n & 63];
            *o3 = b'=';
        }
        _ => {}
    }
}

/// The decoded length of a canonical text, or `None` when `s` is not canonical base64 (then
/// the caller asks the `base64` crate, which decides).
fn canonical_len(s: &[u8]) -> Option<usize> {
    if s.is_empty() || s.len() % 4 != 0 {
        return None;
    }
    let pad = match s[s.len() - 2..] {
        [b'=', b'='] => 2,
        [_, b'='] => 1,
        _ => 0,
    };
    Some(s.len() / 4 * 3 - pad)
}

/// Decode canonical `s` (checked by [`canonical_len`]) into `out` (exactly its decoded
/// length); `None` at the first character outside the alphabet or a padded group with stray
/// bits. `out` may be partly written then.
fn decode_canonical(s: &[u8], out: &mut [u8]) -> Option<()> {
    let v = |c: u8| VALUES[c as usize] as u32;
    let (body, last) = s.split_at(s.len() - 4);
    let (full, tail) = out.split_at_mut(body.len() / 4 * 3);
    for (c, o) in body.chunks_exact(4).zip(full.chunks_exact_mut(3)) {
        let (a, b, d, e) = (v(c[0]), v(c[1]), v(c[2]), v(c[3]));
        if (a | b | d | e) & 0x80 != 0 {
            return None;
        }
        let n = a << 18 | b << 12 | d << 6 | e;
        o.copy_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let (a, b) = (v(last[0]), v(last[1]));
    match (last[2], last[3], tail) {
        (b'=', b'=', [x]) => {
            let n = a << 6 | b;
            if (a | b) & 0x80 != 0 || n & 0xF != 0 {
                return None;
            }
            *x = (n >> 4) as u8;
        }
        (c, b'=', [x, y]) => {
            let d = v(c);
            let n = a << 12 | b << 6 | d;
            if (a | b | d) & 0x80 != 0 || n & 0x3 != 0 {
                return None;
            }
            *x = (n >> 10) as u8;
            *y = (n >> 2) as u8;
        }
        (c, e, [x, y, z]) => {
            let (d, e) = (v(c), v(e));
            if (a | b | d | e) & 0x80 != 0 {
                return None;
            }
            let n = a << 18 | b << 12 | d << 6 | e;
            *x = (n >> 16) as u8;
            *y = (n >> 8) as u8;
            *z = n as u8;
        }
        _ => return None,
    }
    Some(())
}

/// Decode `s` and append the bytes to `out`: `STANDARD.decode_vec`'s result and errors.
pub fn decode_into(s: &str, out: &mut Vec<u8>) -> Result<(), DecodeError> {
    let at = out.len();
    if let Some(n) = canonical_len(s.as_bytes()) {
        out.resize(at + n, 0);
        if decode_canonical(s.as_bytes(), &mut out[at..]).is_some() {
            return Ok(());
        }
        out.truncate(at);
    }
    STANDARD.decode_vec(s, out)
}

/// Decode `s` into `out`: the number of bytes written, or `STANDARD.decode_slice`'s error
/// (`OutputSliceTooSmall` when the bytes do not fit).
pub fn decode_slice(s: &str, out: &mut [u8]) -> Result<usize, DecodeSliceError> {
    if let Some(n) = canonical_len(s.as_bytes()) {
        if n > out.len() {
            // Canonical text is valid: the only thing the engine can say is that it does
            // not fit.
            if decode_canonical(s.as_bytes(), &mut vec![0; n]).is_some() {
                return Err(DecodeSliceError::OutputSliceTooSmall);
            }
        } else if decode_canonical(s.as_bytes(), &mut out[..n]).is_some() {
            return Ok(n);
        }
    }
    STANDARD.decode_slice(s, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fast(s: &str) -> Result<Vec<u8>, DecodeError> {
        let mut v = Vec::new();
        decode_into(s, &mut v).map(|_| v)
    }

    #[test]
    fn encodes_like_the_base64_crate_at_every_short_length() {
        for n in 0..100usize {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + n) as u8).collect();
            let mut out = Vec::new();
            encode_into(&bytes, &mut out);
            assert_eq!(out, STANDARD.encode(&bytes).into_bytes(), "{n}");
            assert_eq!(out.len(), encoded_len(n));
        }
    }

    #[test]
    fn non_canonical_text_gets_the_crates_answer() {
        // Stray bits in a padded group, padding in the middle, too much padding, other
        // alphabets, whitespace, a short last group: each refused or read as the crate does.
        for s in [
            "",
            "QQ",
            "QR==",
            "QUJ=",
            "QUI=",
            "Q===",
            "====",
            "QQ==QQ==",
            "QQ=A",
            "Q=Q=",
            "-_-_",
            "QUJD\n",
            " QUJD",
            "QUJDRA",
            "QUJDRA=",
            "QUJDRA===",
            "QUJD====",
            "AAAA",
            "////",
            "++++",
            "QUJDRA==",
        ] {
            assert_eq!(fast(s), STANDARD.decode(s), "{s:?}");
            let (mut a, mut b) = ([0u8; 4], [0u8; 4]);
            let fa = decode_slice(s, &mut a);
            let fb = STANDARD.decode_slice(s, &mut b);
            assert_eq!(fa, fb, "{s:?}");
            if fa.is_ok() {
                assert_eq!(a, b, "{s:?}");
            }
        }
    }

    #[test]
    fn a_value_too_long_for_its_field_is_output_slice_too_small() {
        let s = STANDARD.encode([7u8; 33]);
        let mut out = [0u8; 32];
        assert!(matches!(
            decode_slice(&s, &mut out),
            Err(DecodeSliceError::OutputSliceTooSmall)
        ));
        assert_eq!(decode_slice(&STANDARD.encode([7u8; 32]), &mut out), Ok(32));
        assert_eq!(out, [7u8; 32]);
    }

    proptest! {
        #[test]
        fn round_trips_as_the_crate_does(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut enc = Vec::new();
            encode_into(&bytes, &mut enc);
            let text = String::from_utf8(enc).unwrap();
            prop_assert_eq!(&text, &STANDARD.encode(&bytes));
            prop_assert_eq!(fast(&text).unwrap(), bytes.clone());
            let mut out = [0u8; 64];
            let want = STANDARD.decode_slice(&text, &mut [0u8; 64]);
            prop_assert_eq!(decode_slice(&text, &mut out), want);
        }

        #[test]
        fn any_text_decodes_as_the_crate_decodes(s in "[A-Za-z0-9+/=_\\- ]{0,24}") {
            prop_assert_eq!(fast(&s), STANDARD.decode(&s));
            let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
            let fa = decode_slice(&s, &mut a);
            prop_assert_eq!(fa.clone(), STANDARD.decode_slice(&s, &mut b));
            if fa.is_ok() {
                prop_assert_eq!(a, b);
            }
        }
    }
}
