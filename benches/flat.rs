//! Criterion benches for the per-leaf costs of the flat formats (dotenv, INI, TOML), on a
//! generated file of 200 sections × 50 keys (10,000 leaves) in each: the lossless path
//! (parse, then render with every leaf sealed) against the streaming path (scan, write and check
//! the output) with a fixed token, the streaming path with the real sealer (AES-256-GCM, the
//! MAC), and opening. Throughput is in leaves per second.
//!
//! A counting allocator reports, once per format before the timings, how many allocations
//! each path makes per leaf (the lossless path holds a tree and re-parses its output; the
//! streaming path allocates only in the engine's sealer).
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use veil::crypto::data_key::DataKey;
use veil::crypto::value::Cipher;
use veil::engine::{Context, LeafSealer};
use veil::format::stream::FastFlat;
use veil::format::{Edit, Format};
use veil::metadata::Rule;
use veil::tree::{walk_leaves, Scalar};

/// Counts allocations (not bytes) made through the global allocator.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    f();
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

const SECTIONS: usize = 200;
const KEYS: usize = 50;
const LEAVES: usize = SECTIONS * KEYS;

/// A value of the usual kinds, picked by position.
fn value(s: usize, k: usize) -> (String, bool) {
    match (s * KEYS + k) % 5 {
        0 | 1 => (format!("tk_{s}_{k}_Zx9qLmN3vB7cR1tY5wE8uI0oP"), true),
        2 => (format!("https://svc-{s}.example.org/api/v{k}"), true),
        3 => (format!("{}", 1000 + s * k), false),
        _ => ("true".to_string(), false),
    }
}

fn input(format: Format) -> String {
    let mut out = String::new();
    for s in 0..SECTIONS {
        match format {
            Format::Dotenv => {}
            _ => out.push_str(&format!("[section_{s}]\n")),
        }
        for k in 0..KEYS {
            let (v, text) = value(s, k);
            match format {
                Format::Dotenv => out.push_str(&format!("SECTION_{s}_KEY_{k}={v}\n")),
                Format::Ini => out.push_str(&format!("key_{k} = {v}\n")),
                _ if text => out.push_str(&format!("key_{k} = \"{v}\"\n")),
                _ => out.push_str(&format!("key_{k} = {v}\n")),
            }
        }
        out.push('\n');
    }
    out
}

const TOKEN: &str = "ENC[AES256_GCM,data:c2VjcmV0LXZhbHVl,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]";

/// The streaming path on one thread, every leaf edited by `edit`.
fn stream(fast: &FastFlat, edit: &(dyn Fn(&Scalar) -> Edit + Sync)) -> Vec<u8> {
    let mut first = |_: &[&str], _: &str, s: &Scalar| Ok(edit(s));
    let mut second = |_: &[&str], _: &str, s: &Scalar| Ok(edit(s));
    let r = fast
        .render_split_from(Some(usize::MAX), &mut first, &mut second)
        .unwrap()
        .unwrap();
    fast.finish(r, None).unwrap().to_vec()
}

fn bench(c: &mut Criterion) {
    let key = DataKey::from_slice(&[7u8; 32]).unwrap();
    let rule = Rule::UnencryptedSuffix("_unencrypted".into());
    for format in [Format::Dotenv, Format::Ini, Format::Toml] {
        let src = input(format);
        let store = format.store();
        let seal = |_: &Scalar| Edit::Seal(TOKEN.to_string());
        let lossless = || {
            let p = store.parse(src.as_bytes()).unwrap();
            let mut n = 0;
            walk_leaves(p.docs(), |_, _, _| n += 1);
            p.render(&vec![Edit::Seal(TOKEN.to_string()); n], None)
                .unwrap()
        };
        let streaming = || {
            let f = FastFlat::scan(format, src.clone().into_bytes(), false)
                .expect("the streaming path reads the generated file");
            stream(&f, &seal)
        };
        assert_eq!(lossless(), streaming(), "both paths write the same file");
        eprintln!(
            "{}: allocations per leaf, sealing with a fixed token: lossless {:.1}, streaming {:.2}",
            format.name(),
            allocations(|| drop(lossless())) as f64 / LEAVES as f64,
            allocations(|| drop(streaming())) as f64 / LEAVES as f64,
        );

        let mut g = c.benchmark_group(format!("flat/{}", format.name()));
        g.throughput(Throughput::Elements(LEAVES as u64));
        g.sample_size(20);
        g.bench_function("lossless-seal", |b| b.iter(|| black_box(lossless())));
        g.bench_function("stream-seal", |b| b.iter(|| black_box(streaming())));

        // The real thing: the engine's sealer (selection rule, AES-256-GCM, MAC) per leaf.
        let encrypt = || {
            let f = FastFlat::scan(format, src.clone().into_bytes(), false).unwrap();
            let mut ctx = Context {
                rng: ChaCha20Rng::seed_from_u64(1),
                now: time::OffsetDateTime::UNIX_EPOCH,
            };
            let mut sealer =
                LeafSealer::new(&key, &rule, false, Cipher::Aes256Gcm, &mut ctx).unwrap();
            let mut edit = |p: &[&str], a: &str, s: &Scalar| {
                let enc = sealer.selector().seals_uncommented(p, s);
                Ok(match sealer.leaf(p, a, s, enc, None)? {
                    Some(t) => Edit::Seal(t),
                    None => Edit::Keep,
                })
            };
            let mut unused = |_: &[&str], _: &str, _: &Scalar| Ok(Edit::Keep);
            let r = f
                .render_split_from(Some(usize::MAX), &mut edit, &mut unused)
                .unwrap()
                .unwrap();
            f.finish(r, None).unwrap().to_vec()
        };
        g.bench_function("stream-encrypt", |b| b.iter(|| black_box(encrypt())));

        // Opening: the sealed file read back, every leaf opened to a fixed plaintext.
        let mut sealed = String::from_utf8(lossless()).unwrap();
        sealed.push_str(match format {
            Format::Dotenv => "sops_version=3.11.0\n",
            Format::Ini => "\n[sops]\nversion = 3.11.0\n",
            _ => "\n[sops]\nversion = \"3.11.0\"\n",
        });
        let open = |_: &Scalar| Edit::Open(Scalar::Str("opened-secret-value".into()));
        g.bench_function("stream-open", |b| {
            b.iter(|| {
                let f = FastFlat::scan(format, sealed.clone().into_bytes(), true)
                    .expect("the streaming path reads the sealed file");
                black_box(stream(&f, &open))
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
