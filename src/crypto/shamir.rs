//! Shamir's secret sharing over GF(2^8), byte-compatible with sops (which uses HashiCorp Vault's
//! code): the field is reduced by the AES polynomial x^8+x^4+x^3+x+1 (`0x11B`), a share is the
//! y-bytes followed by one x byte, and group `g` gets x = `g + 1` (docs/sops-format.md §4.8).
//!
//! It exists because no crate matches that layout (sharks uses `0x11D`). It must not log, print
//! or keep any secret material: every buffer that holds a secret, a share or a polynomial
//! coefficient is zeroized when dropped. Arithmetic is branch-free on secret data.

use crate::error::{Code, Error, Result};
use zeroize::Zeroizing;

/// GF(2^8) multiplication, shift-and-add, reduced by `0x11B`. No branches on the operands.
fn mul(a: u8, b: u8) -> u8 {
    let (mut a, mut b, mut r) = (a, b, 0u8);
    for _ in 0..8 {
        r ^= a & 0u8.wrapping_sub(b & 1);
        let carry = a >> 7;
        a = (a << 1) ^ (0x1B & 0u8.wrapping_sub(carry));
        b >>= 1;
    }
    r
}

/// The multiplicative inverse, a^254 (so 0 maps to 0).
fn inv(a: u8) -> u8 {
    // 254 = 0b11111110: square-and-multiply over the fixed exponent.
    let mut result = 1u8;
    let mut base = a;
    let mut e = 254u8;
    while e > 0 {
        let m = mul(result, base);
        result = if e & 1 == 1 { m } else { result };
        base = mul(base, base);
        e >>= 1;
    }
    result
}

fn div(a: u8, b: u8) -> u8 {
    mul(a, inv(b))
}

fn split_error(msg: &str) -> Error {
    Error::new(
        Code::Generic,
        format!("could not split data key into parts for Shamir: {msg}"),
    )
}

/// Split `secret` into `parts` shares, any `threshold` of which recombine it. Share `i`
/// (0-based) is `y-bytes ‖ x` with x = `i + 1`, exactly as sops writes key-group shares.
/// Requires `2 ≤ threshold ≤ parts ≤ 255` and a non-empty secret (Vault's messages).
pub fn split(
    secret: &[u8],
    parts: usize,
    threshold: usize,
    rng: &mut impl rand::RngCore,
) -> Result<Vec<Zeroizing<Vec<u8>>>> {
    if parts < threshold {
        return Err(split_error("parts cannot be less than threshold"));
    }
    if parts > 255 {
        return Err(split_error("parts cannot exceed 255"));
    }
    if threshold < 2 {
        return Err(split_error("threshold must be at least 2"));
    }
    if secret.is_empty() {
        return Err(split_error("cannot split an empty secret"));
    }
    let mut out: Vec<Zeroizing<Vec<u8>>> = (0..parts)
        .map(|i| {
            let mut share = Zeroizing::new(vec![0u8; secret.len() + 1]);
            share[secret.len()] = (i + 1) as u8;
            share
        })
        .collect();
    // One fresh polynomial of degree threshold-1 per secret byte; coefficient 0 is the byte.
    let mut coeffs = Zeroizing::new(vec![0u8; threshold]);
    for (idx, &byte) in secret.iter().enumerate() {
        rng.fill_bytes(&mut coeffs[1..]);
        coeffs[0] = byte;
        for share in out.iter_mut() {
            let x = share[secret.len()];
            // Horner's method.
            let mut y = 0u8;
            for &c in coeffs.iter().rev() {
                y = mul(y, x) ^ c;
            }
            share[idx] = y;
        }
    }
    Ok(out)
}

fn combine_error(msg: &str) -> Error {
    Error::new(
        Code::CouldNotRetrieveKey,
        format!("could not get data key from shamir parts: {msg}"),
    )
}

/// Recombine shares made by [`split`] (or by sops): at least two, of equal length, with
/// distinct x bytes. Extra shares beyond the threshold are fine. With fewer than the
/// threshold the result is a wrong secret, not an error: callers check the threshold first.
pub fn combine(parts: &[&[u8]]) -> Result<Zeroizing<Vec<u8>>> {
    if parts.len() < 2 {
        return Err(combine_error(
            "less than two parts cannot be used to reconstruct the secret",
        ));
    }
    let len = parts[0].len();
    if parts.iter().any(|p| p.len() != len) {
        return Err(combine_error("all parts must be the same length"));
    }
    if len < 2 {
        return Err(combine_error("parts must be at least two bytes"));
    }
    let xs: Vec<u8> = parts.iter().map(|p| p[len - 1]).collect();
    for (i, x) in xs.iter().enumerate() {
        if xs[..i].contains(x) {
            return Err(combine_error("duplicate part detected"));
        }
    }
    // The Lagrange basis at 0 depends only on the x values: Π_{j≠i} x_j / (x_i ⊕ x_j).
    let basis: Zeroizing<Vec<u8>> = Zeroizing::new(
        (0..xs.len())
            .map(|i| {
                let mut b = 1u8;
                for j in 0..xs.len() {
                    if i != j {
                        b = mul(b, div(xs[j], xs[i] ^ xs[j]));
                    }
                }
                b
            })
            .collect(),
    );
    let mut secret = Zeroizing::new(vec![0u8; len - 1]);
    for (idx, out) in secret.iter_mut().enumerate() {
        let mut acc = 0u8;
        for (p, b) in parts.iter().zip(basis.iter()) {
            acc ^= mul(p[idx], *b);
        }
        *out = acc;
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn field_known_values() {
        // FIPS-197 §4.2: {57}·{83} = {c1}, {57}·{13} = {fe}; 0x53 and 0xCA are inverses.
        assert_eq!(mul(0x57, 0x83), 0xC1);
        assert_eq!(mul(0x57, 0x13), 0xFE);
        assert_eq!(mul(0x53, 0xCA), 0x01);
        assert_eq!(inv(0x53), 0xCA);
        assert_eq!(inv(0xCA), 0x53);
        assert_eq!(inv(0x01), 0x01);
        assert_eq!(inv(0x00), 0x00);
        // x·x^7 reduces: {02}·{80} = {1b}.
        assert_eq!(mul(0x02, 0x80), 0x1B);
    }

    #[test]
    fn every_nonzero_element_has_its_inverse() {
        for a in 1..=255u8 {
            assert_eq!(mul(a, inv(a)), 1, "a = {a:#04x}");
        }
        // Multiplication is commutative and distributes over XOR on a sample.
        for a in (0..=255u8).step_by(7) {
            for b in (0..=255u8).step_by(11) {
                assert_eq!(mul(a, b), mul(b, a));
                assert_eq!(mul(a, b ^ 0x35), mul(a, b) ^ mul(a, 0x35));
            }
        }
    }

    #[test]
    fn share_layout_is_y_then_x() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let secret = [0xAAu8; 32];
        let shares = split(&secret, 3, 2, &mut rng).unwrap();
        assert_eq!(shares.len(), 3);
        for (i, s) in shares.iter().enumerate() {
            assert_eq!(s.len(), 33);
            assert_eq!(s[32], (i + 1) as u8);
        }
    }

    #[test]
    fn split_rejects_bad_parameters() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let msg =
            |r: Result<Vec<Zeroizing<Vec<u8>>>>| r.err().map(|e| e.message).unwrap_or_default();
        assert!(msg(split(b"k", 2, 3, &mut rng)).ends_with("parts cannot be less than threshold"));
        assert!(msg(split(b"k", 256, 2, &mut rng)).ends_with("parts cannot exceed 255"));
        assert!(msg(split(b"k", 3, 1, &mut rng)).ends_with("threshold must be at least 2"));
        assert!(msg(split(b"", 3, 2, &mut rng)).ends_with("cannot split an empty secret"));
        assert!(split(b"k", 255, 255, &mut rng).is_ok());
    }

    #[test]
    fn combine_rejects_bad_parts() {
        let a = [1u8, 2, 1];
        let b = [3u8, 4, 2];
        let dup = [5u8, 6, 1];
        let short = [1u8, 2];
        assert!(combine(&[&a]).is_err());
        assert!(combine(&[&a, &short])
            .unwrap_err()
            .message
            .ends_with("all parts must be the same length"));
        assert!(combine(&[&a, &dup])
            .unwrap_err()
            .message
            .ends_with("duplicate part detected"));
        assert!(combine(&[&[1u8][..], &[2u8][..]]).is_err());
        assert!(combine(&[&a, &b]).is_ok());
    }

    #[test]
    fn fewer_than_threshold_gives_another_secret() {
        // Deterministic: a fixed seed, so this cannot flake.
        let mut rng = ChaCha20Rng::seed_from_u64(42);
        let secret: Vec<u8> = (0..32).collect();
        let shares = split(&secret, 5, 3, &mut rng).unwrap();
        let two: Vec<&[u8]> = shares[..2].iter().map(|s| s.as_slice()).collect();
        assert_ne!(combine(&two).unwrap().as_slice(), secret.as_slice());
        let three: Vec<&[u8]> = shares[2..].iter().map(|s| s.as_slice()).collect();
        assert_eq!(combine(&three).unwrap().as_slice(), secret.as_slice());
    }

    proptest! {
        #[test]
        fn any_threshold_subset_recombines(
            secret in proptest::collection::vec(any::<u8>(), 1..48),
            n in 2usize..9,
            t_off in 0usize..8,
            seed in any::<u64>(),
            pick in any::<u64>(),
        ) {
            let t = 2 + t_off % (n - 1);
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let shares = split(&secret, n, t, &mut rng).unwrap();
            prop_assert!(shares.iter().all(|s| s.len() == secret.len() + 1));
            // A pseudo-random subset of size k in t..=n, in a shuffled order.
            let mut idx: Vec<usize> = (0..n).collect();
            let mut r = ChaCha20Rng::seed_from_u64(pick);
            use rand::seq::SliceRandom;
            idx.shuffle(&mut r);
            let k = t + (pick as usize % (n - t + 1));
            let subset: Vec<&[u8]> = idx[..k].iter().map(|&i| shares[i].as_slice()).collect();
            let got = combine(&subset).unwrap();
            prop_assert_eq!(got.as_slice(), secret.as_slice());
        }
    }
}
