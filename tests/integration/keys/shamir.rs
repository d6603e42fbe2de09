//! Shamir interop: shares that the real sops 3.11 wrote (testdata/config/shamir, made by its
//! make.sh) recombine with veil's `combine` into the data key that opens sops's ciphertext.

use crate::support::oracle;
use veil::crypto::shamir::{combine, split};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/config/shamir");

fn read_hex(name: &str) -> Vec<u8> {
    oracle::hex_bytes(&std::fs::read_to_string(format!("{DIR}/{name}")).expect(name))
}

#[test]
fn sops_shares_recombine_to_the_data_key() {
    let shares: Vec<Vec<u8>> = (1..=3)
        .map(|i| read_hex(&format!("share{i}.hex")))
        .collect();
    let expected = read_hex("datakey.hex");
    assert_eq!(expected.len(), 32);
    for (i, s) in shares.iter().enumerate() {
        assert_eq!(s.len(), 33, "share {i} is y[32] || x");
        assert_eq!(s[32] as usize, i + 1, "group {i} has x = {}", i + 1);
    }
    let pairs = [(0, 1), (0, 2), (1, 2), (2, 0), (1, 0)];
    for (a, b) in pairs {
        let key = combine(&[&shares[a], &shares[b]]).unwrap();
        assert_eq!(key.as_slice(), expected.as_slice(), "pair {a},{b}");
    }
    let all: Vec<&[u8]> = shares.iter().map(|s| s.as_slice()).collect();
    assert_eq!(combine(&all).unwrap().as_slice(), expected.as_slice());
}

#[test]
fn recombined_key_opens_the_value_sops_sealed() {
    let file = std::fs::read_to_string(format!("{DIR}/secret.enc.yaml")).unwrap();
    let line = file
        .lines()
        .find(|l| l.starts_with("secret: ENC["))
        .expect("secret line");
    let enc = line.trim_start_matches("secret: ");
    let shares: Vec<Vec<u8>> = [1, 3]
        .iter()
        .map(|i| read_hex(&format!("share{i}.hex")))
        .collect();
    let key = combine(&[&shares[0], &shares[1]]).unwrap();
    let (_, plain) = oracle::open(enc, &key, "secret:").expect("opens with the recombined key");
    assert_eq!(plain, b"hunter2");
}

#[test]
fn veil_split_of_the_sops_key_recombines() {
    use rand::SeedableRng;
    let key = read_hex("datakey.hex");
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    let parts = split(&key, 3, 2, &mut rng).unwrap();
    let got = combine(&[&parts[2], &parts[0]]).unwrap();
    assert_eq!(got.as_slice(), key.as_slice());
}
