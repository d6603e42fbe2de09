//! Interop of the dotenv, INI and TOML stores with the real sops 3.11, in both directions.
//!
//! The engine is built elsewhere, so this test carries a minimal one of its own (AES-256-GCM
//! with a 32-byte IV and the key path as AAD, the SHA-512 MAC, the data key wrapped with the
//! `age` command). It checks that files the stores render are decrypted by sops to the same
//! data sops gets from the plaintext, and that files sops wrote are read and opened back to
//! what sops decrypts. It needs the real sops and age (`scripts/peers.sh install`); under `CI=true` their absence fails.

use std::path::{Path, PathBuf};

use crate::support::oracle::*;
use rand::RngCore;
use veil::format::dotenv::DotenvStore;
use veil::format::ini::IniStore;
use veil::format::toml::TomlStore;
use veil::format::Store;
use veil::tree::{aad, walk_leaves, Item, Scalar, Value};

fn tmp(name: &str, data: &[u8]) -> PathBuf {
    // One directory per call: tests in this binary run in parallel and reuse file names.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("veil-flat-stores-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

fn sops(args: &[&str]) -> Vec<u8> {
    let (ok, out, err) = pipe(
        &sops_path(),
        args,
        b"",
        &[("SOPS_AGE_KEY_FILE", &age_identity_file())],
    );
    assert!(ok, "sops {args:?} failed: {err}");
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Both directions for one flat-format file.
fn check_both_ways(store: &dyn Store, ext: &str, plain: &str, recipient: &str, exact: bool) {
    // veil → sops: sops decrypts what veil wrote to what it decrypts from its own encryption.
    let ours = encrypt_document(store, plain.as_bytes(), recipient);
    let ours_path = tmp(&format!("ours.{ext}"), &ours);
    let plain_path = tmp(&format!("plain.{ext}"), plain.as_bytes());
    let theirs = sops(&["encrypt", "--age", recipient, plain_path.to_str().unwrap()]);
    let theirs_path = tmp(&format!("theirs.{ext}"), &theirs);
    let from_ours = sops(&["decrypt", ours_path.to_str().unwrap()]);
    let from_theirs = sops(&["decrypt", theirs_path.to_str().unwrap()]);
    assert_eq!(
        text(&from_ours),
        text(&from_theirs),
        "sops reads veil's {ext} differently:\n{}",
        text(&ours)
    );

    // veil reads back its own file: exactly (lossless), or at least the same data.
    let back = decrypt_document(store, &ours);
    if exact {
        assert_eq!(text(&back), plain, "veil's own round trip");
    } else {
        let a = store.parse(&back).unwrap();
        let b = store.parse(plain.as_bytes()).unwrap();
        assert_eq!(
            leaf_texts(a.docs()),
            leaf_texts(b.docs()),
            "veil's own round trip"
        );
    }

    // sops → veil: veil opens sops's file to the same data sops decrypts.
    let ours_of_theirs = decrypt_document(store, &theirs);
    let a = store.parse(&ours_of_theirs).unwrap();
    let b = store.parse(&from_theirs).unwrap();
    assert_eq!(
        leaf_texts(a.docs()),
        leaf_texts(b.docs()),
        "veil opens sops's {ext} differently:\n{}\n---\n{}",
        text(&ours_of_theirs),
        text(&from_theirs)
    );
}

fn leaf_texts(docs: &[Value]) -> Vec<(String, String, String)> {
    let mut v = Vec::new();
    walk_leaves(docs, |_, p, s| {
        v.push((
            aad(p),
            s.type_name().to_string(),
            String::from_utf8_lossy(&s.plaintext()).into_owned(),
        ))
    });
    v
}

#[test]
fn dotenv_interop() {
    let Some(r) = age_peers() else { return };
    let plain = "# comment\nexport EXP=1\n SPACE =x\nQ=\"hello world\"\nEQ=a=b\nEMPTY=\nML=a\\nb\n\nB=2\n#\nTOKEN_unencrypted=plain\n";
    check_both_ways(&DotenvStore, "env", plain, &r, true);
    // sops's dotenv output is the same layout, so veil's decryption of sops's file is exact.
    let p = tmp("exact.env", plain.as_bytes());
    let theirs = sops(&["encrypt", "--age", &r, p.to_str().unwrap()]);
    let from_theirs = sops(&["decrypt", tmp("exact.enc.env", &theirs).to_str().unwrap()]);
    assert_eq!(
        text(&decrypt_document(&DotenvStore, &theirs)),
        text(&from_theirs)
    );
}

#[test]
fn ini_interop() {
    let Some(r) = age_peers() else { return };
    let plain = "\
top = 1
; about the section
[server]   ; header note
host     = example.com
; the password
# second line
password = \"quoted value\"
url: http://x.test/a#frag
single = '  padded  '
tick = `a;b`
empty =
multi = \"\"\"line one
line two\"\"\" ; after
cont = one \\
  two
[server]
host = again
; eof
";
    // Comments on header lines, after multi-line values or next to comment lines move
    // above their key or header (as sops moves them), and continuations join.
    check_both_ways(&IniStore, "ini", plain, &r, false);
}

#[test]
fn ini_sops_section_in_3_13_style_is_read_by_sops() {
    // The [sops] section veil writes (sorted keys, \n escapes) is what sops 3.13 writes; sops
    // 3.11 reads it in any order. Also a section with only comments and a DEFAULT section.
    let Some(r) = age_peers() else { return };
    let plain = "; lead\nd = 1\n\n[only]\n; nothing here\n\n[x]\nk = v ; note\nq = \"quoted\"\n";
    check_both_ways(&IniStore, "ini", plain, &r, true);
}

/// TOML → encrypted JSON, as `veil encrypt config.toml --output-type json` will do: the
/// tree's types (int, float, bool, offset date-time as time, local dates as strings) must
/// decrypt in sops to the same data.
#[test]
fn toml_tree_decrypts_in_sops_as_json() {
    let Some(r) = age_peers() else { return };
    let src = "title = \"x\"\nport = 8080\nratio = 1.50\nbig = 1e3\non = true\nwhen = 1979-05-27T07:32:00-08:00\nday = 1979-05-27\n[t]\nlist = [1, \"two\", 3.5]\n[[a]]\nn = 1\n[[a]]\nn = 2\n";
    let doc = TomlStore.parse(src.as_bytes()).unwrap();
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);

    fn to_json(
        v: &Value,
        path: &mut Vec<String>,
        key: &[u8; 32],
        sealed: bool,
    ) -> serde_json::Value {
        match v {
            Value::Map(items) => {
                let mut m = serde_json::Map::new();
                for i in items {
                    if let Item::Entry(k, v) = i {
                        path.push(k.clone());
                        m.insert(k.clone(), to_json(v, path, key, sealed));
                        path.pop();
                    }
                }
                serde_json::Value::Object(m)
            }
            Value::List(xs) => {
                serde_json::Value::Array(xs.iter().map(|x| to_json(x, path, key, sealed)).collect())
            }
            Value::Scalar(s) if sealed => {
                serde_json::Value::String(seal(key, &s.plaintext(), &aad(path), s.type_name()))
            }
            Value::Scalar(Scalar::Str(s)) | Value::Scalar(Scalar::Time(s)) => {
                serde_json::Value::String(s.clone())
            }
            Value::Scalar(Scalar::Int(i)) => serde_json::json!(i),
            Value::Scalar(Scalar::Float(f)) => serde_json::json!(f.parse::<f64>().unwrap()),
            Value::Scalar(Scalar::Bool(b)) => serde_json::json!(b),
            _ => serde_json::Value::Null,
        }
    }

    let mut enc = to_json(&doc.docs()[0], &mut Vec::new(), &key, true);
    let mac = seal(&key, mac_of(doc.docs()).as_bytes(), LASTMODIFIED, "str");
    let (ok, armored, err) = pipe("age", &["-r", &r, "-a"], &key, &[]);
    assert!(ok, "{err}");
    enc.as_object_mut().unwrap().insert(
        "sops".into(),
        serde_json::json!({
            "age": [{"recipient": r, "enc": String::from_utf8(armored).unwrap()}],
            "lastmodified": LASTMODIFIED,
            "mac": mac,
            "unencrypted_suffix": "_unencrypted",
            "version": "3.11.0",
        }),
    );
    let p = tmp(
        "toml.enc.json",
        serde_json::to_string_pretty(&enc).unwrap().as_bytes(),
    );
    let out = sops(&["decrypt", p.to_str().unwrap()]);
    // Numbers compare by value (sops writes the float 1000 as `1000`).
    fn norm(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Number(n) => serde_json::json!(n.as_f64()),
            serde_json::Value::Array(xs) => {
                serde_json::Value::Array(xs.into_iter().map(norm).collect())
            }
            serde_json::Value::Object(m) => {
                serde_json::Value::Object(m.into_iter().map(|(k, v)| (k, norm(v))).collect())
            }
            other => other,
        }
    }
    let got = norm(serde_json::from_slice(&out).unwrap());
    let want = norm(to_json(&doc.docs()[0], &mut Vec::new(), &key, false));
    // sops writes the time back with its offset, floats as numbers.
    assert_eq!(got, want, "{}", text(&out));
}

/// A fresh emit writes what sops writes for the same tree (its plaintext output).
#[test]
fn fresh_emit_matches_sops_output() {
    let Some(r) = age_peers() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    for (store, file) in [
        (&IniStore as &dyn Store, "ini/edge.ini"),
        (&DotenvStore as &dyn Store, "dotenv/edge.env"),
    ] {
        let plain = std::fs::read(root.join(file)).unwrap();
        let ext = file.rsplit('.').next().unwrap();
        let enc = sops(&["encrypt", "--age", &r, root.join(file).to_str().unwrap()]);
        let theirs = sops(&[
            "decrypt",
            tmp(&format!("emit.{ext}"), &enc).to_str().unwrap(),
        ]);
        let doc = store.parse(&plain).unwrap();
        let ours = store.emit(doc.docs(), None, &Default::default()).unwrap();
        assert_eq!(text(&ours), text(&theirs), "{file}");
    }
}
