//! Criterion benches for the value cipher: sealing and opening one leaf, both ciphers, and the
//! MAC update. What to expect on a 2-core x86-64 machine with AES-NI (measured when the cipher
//! was written): about 280 ns to seal one sops leaf (random 32-byte IV, AES-256-GCM, three
//! base64 encodings, the `ENC[…]` text) and about 380 ns to open one, with the cipher built once
//! per file and IVs drawn from a user-space CSPRNG; XChaCha20-Poly1305 is several times slower
//! without `target-cpu=native`. Much slower than that means per-value key setup or a syscall per
//! IV has crept back in.
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use veil::crypto::data_key::DataKey;
use veil::crypto::mac::Mac;
use veil::crypto::value::{Cipher, EncValue, ValueCipher};
use veil::tree::Scalar;

fn bench(c: &mut Criterion) {
    let key = DataKey::from_slice(&[7u8; 32]).unwrap();
    for cipher in [Cipher::Aes256Gcm, Cipher::XChaCha20Poly1305] {
        let mut vc = ValueCipher::with_rng(&key, cipher, ChaCha20Rng::seed_from_u64(1));
        let pt = b"a 32-byte secret value 012345678";
        c.bench_function(&format!("seal/{}", cipher.tag()), |b| {
            b.iter(|| {
                vc.seal(black_box(pt), "str", b"db:password:", None)
                    .unwrap()
            })
        });
        let tok = vc.seal(pt, "str", b"db:password:", None).unwrap();
        c.bench_function(&format!("open/{}", cipher.tag()), |b| {
            b.iter(|| {
                let v = EncValue::parse(black_box(&tok)).unwrap();
                vc.open(&v, b"db:password:").unwrap()
            })
        });
    }
    let s = Scalar::Str("a 32-byte secret value 012345678".into());
    c.bench_function("mac/add", |b| {
        let mut m = Mac::new(false);
        b.iter(|| m.add(black_box(&s), true))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
