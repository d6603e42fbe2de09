//! The streaming YAML path (`format::yaml::fast`) through the commands, on a file big enough to
//! be cut in two and checked on two threads: it is the path taken (the log says so), it writes
//! what the lossless path writes (`VEIL_YAML_FAST=0`), the real sops reads its output and veil
//! reads sops's, and damage, a wrong key and `--ignore-mac` behave as on the lossless path.
//!
//! Needs the real sops (`scripts/peers.sh install`); under `CI=true` its absence fails.

use crate::support::*;

/// About 400 KB of nested maps and lists of the kinds of scalars config files hold.
fn big_yaml() -> String {
    services(60)
}

/// `n` services of about 6.7 KB each.
fn services(n: usize) -> String {
    let mut s = String::from("version: 3\n");
    for i in 0..n {
        // Head comments in their key's column and comments after values are taken by the
        // streaming path.
        s.push_str(&format!("# service number {i}\n"));
        s.push_str(&format!(
            "service_{i}:\n  name: svc-{i}\n  replicas: {} # how many {i}\n",
            i % 5
        ));
        s.push_str("  env:\n");
        for j in 0..80 {
            if j % 20 == 0 {
                s.push_str(&format!("    # variables from {j}\n"));
            }
            s.push_str(&format!(
                "    VAR_{j}: \"value {i}-{j} with spaces\"\n    token_{j}: tk_{i}_{j}_abcdefghijklmnop\n"
            ));
        }
        s.push_str("  ports:\n");
        for j in 0..20 {
            s.push_str(&format!(
                "    - port: {}\n      public: {}\n      ratio: 0.{j}5\n",
                8000 + j,
                j % 2 == 0
            ));
        }
        s.push_str(&format!(
            "  nothing:\n  note_unencrypted: plain {i}\n  empty: ''\n"
        ));
    }
    s
}

fn streaming(stderr: &str) -> bool {
    stderr.contains("streaming path")
}

#[test]
fn big_files_take_the_streaming_path_and_match_the_lossless_one() {
    let sb = Sandbox::new();
    let plain = big_yaml();
    assert!(plain.len() > 300_000);
    let f = sb.write("big.yaml", &plain);
    let r = TestKey::Age1.recipient();
    let key = sb.age_key_file(TestKey::Age1);

    let (code, fast, err) = run(sb
        .veil()
        .args(["encrypt", "--verbose", "--age", &r])
        .arg(&f));
    assert_eq!(code, Some(0), "{err}");
    assert!(streaming(&err), "the streaming path was not taken: {err}");
    let (code, slow, err) = run(sb
        .veil()
        .args(["encrypt", "--verbose", "--age", &r])
        .arg(&f)
        .env("VEIL_YAML_FAST", "0"));
    assert_eq!(code, Some(0), "{err}");
    assert!(!streaming(&err));
    // The same layout: the same lines outside the sealed values and the sops block.
    let shape = |b: &[u8]| -> Vec<String> {
        text(b)
            .lines()
            .take_while(|l| !l.starts_with("sops:"))
            .map(|l| match l.find("ENC[") {
                Some(i) => format!("{}<enc {}>", &l[..i], l.contains("type:int")),
                None => l.to_string(),
            })
            .collect()
    };
    assert_eq!(shape(&fast), shape(&slow));

    let enc_fast = sb.write("fast.enc.yaml", &fast);
    let enc_slow = sb.write("slow.enc.yaml", &slow);
    for enc in [&enc_fast, &enc_slow] {
        let (code, out, err) = run(sb
            .veil()
            .args(["decrypt", "--verbose"])
            .arg(enc)
            .env("SOPS_AGE_KEY_FILE", &key));
        assert_eq!(code, Some(0), "{err}");
        assert!(streaming(&err));
        assert_eq!(
            text(&out),
            plain,
            "decrypting gives back the file byte for byte"
        );
    }

    if !require_peer("sops") {
        return;
    }
    // sops reads the streaming path's output as it reads the lossless path's.
    let sops_dec = |p: &std::path::Path| {
        run_ok(
            sb.sops()
                .arg("decrypt")
                .arg(p)
                .env("SOPS_AGE_KEY_FILE", &key),
            "sops decrypt",
        )
    };
    let by_sops_fast = sops_dec(&enc_fast);
    assert_eq!(by_sops_fast, sops_dec(&enc_slow));
    // Every comment was sealed under the path sops expects: sops opens them all.
    for i in 0..60 {
        assert!(
            text(&by_sops_fast).contains(&format!("# service number {i}\n")),
            "sops did not open comment {i}"
        );
        assert!(
            text(&by_sops_fast).contains(&format!("# how many {i}\n")),
            "sops did not open trailing comment {i}"
        );
    }
    assert!(
        text(&fast).contains("#ENC[AES256_GCM,"),
        "comments are sealed"
    );
    // And veil reads what sops wrote, on both paths, to the same bytes.
    let by_sops = run_ok(
        sb.sops().args(["encrypt", "--age", &r]).arg(&f),
        "sops encrypt",
    );
    let s = sb.write("sops.enc.yaml", &by_sops);
    let dec = |fast: bool| {
        let mut c = sb.veil();
        c.args(["decrypt", "--verbose"])
            .arg(&s)
            .env("SOPS_AGE_KEY_FILE", &key);
        if !fast {
            c.env("VEIL_YAML_FAST", "0");
        }
        let (code, out, err) = run(&mut c);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(streaming(&err), fast);
        out
    };
    assert_eq!(dec(true), dec(false));
}

#[test]
fn damage_and_wrong_keys_fail_as_on_the_lossless_path() {
    let sb = Sandbox::new();
    let f = sb.write("big.yaml", big_yaml());
    let r = TestKey::Age1.recipient();
    let enc = run_ok(sb.veil().args(["encrypt", "--age", &r]).arg(&f), "encrypt");
    let enc = text(&enc).to_string();
    let key = sb.age_key_file(TestKey::Age1);
    let decrypt = |name: &str, body: &str, extra: &[&str], fast: bool| {
        let p = sb.write(name, body);
        let mut c = sb.veil();
        c.arg("decrypt")
            .args(extra)
            .arg(&p)
            .env("SOPS_AGE_KEY_FILE", &key);
        if !fast {
            c.env("VEIL_YAML_FAST", "0");
        }
        let (code, _, err) = run(&mut c);
        (code, err)
    };
    // A value moved to another key: its AAD no longer matches (exit 25).
    let mut lines: Vec<&str> = enc.lines().collect();
    let a = lines
        .iter()
        .position(|l| l.starts_with("    token_0: "))
        .unwrap();
    let b = lines
        .iter()
        .position(|l| l.starts_with("    token_1: "))
        .unwrap();
    let (va, vb) = (lines[a][13..].to_string(), lines[b][13..].to_string());
    let la = format!("    token_0: {vb}");
    let lb = format!("    token_1: {va}");
    lines[a] = &la;
    lines[b] = &lb;
    let swapped = lines.join("\n") + "\n";
    // A value deleted: the MAC no longer matches (exit 51), unless --ignore-mac.
    let deleted: String = enc
        .lines()
        .filter(|l| !l.starts_with("    VAR_7: "))
        .map(|l| format!("{l}\n"))
        .collect();
    for fast in [true, false] {
        let (code, err) = decrypt("swapped.yaml", &swapped, &[], fast);
        assert_eq!(code, Some(25), "{err}");
        let (code, err) = decrypt("deleted.yaml", &deleted, &[], fast);
        assert_eq!(code, Some(51), "{err}");
        assert!(err.contains("MAC mismatch"), "{err}");
        let (code, err) = decrypt("deleted.yaml", &deleted, &["--ignore-mac"], fast);
        assert_eq!(code, Some(0), "{err}");
    }
    // The wrong key: exit 128 and the per-key report.
    let wrong = sb.age_key_file(TestKey::AgeUnrelated);
    let p = sb.write("enc.yaml", &enc);
    let (code, _, err) = run(sb
        .veil()
        .arg("decrypt")
        .arg(&p)
        .env("SOPS_AGE_KEY_FILE", &wrong));
    assert_eq!(code, Some(128), "{err}");
    assert!(err.contains(&r), "{err}");
}

/// A file of over 1 MB is encrypted a piece at a time, each piece checked and written out
/// before the next (to the temp file of `--output` and `-i`, or to stdout): the result is the
/// lossless path's layout, decrypts byte for byte, and the real sops reads it as it reads the
/// lossless path's output.
#[test]
fn files_encrypted_in_pieces_match_the_lossless_path_and_sops_reads_them() {
    let sb = Sandbox::new();
    let plain = services(200);
    assert!(plain.len() > 1_100_000);
    let f = sb.write("big.yaml", &plain);
    let r = TestKey::Age1.recipient();
    let key = sb.age_key_file(TestKey::Age1);
    let shape = |b: &[u8]| -> Vec<String> {
        text(b)
            .lines()
            .take_while(|l| !l.starts_with("sops:"))
            .map(|l| match l.find("ENC[") {
                Some(i) => format!("{}<enc>", &l[..i]),
                None => l.to_string(),
            })
            .collect()
    };
    let slow = run_ok(
        sb.veil()
            .args(["encrypt", "--age", &r])
            .arg(&f)
            .env("VEIL_YAML_FAST", "0"),
        "encrypt on the lossless path",
    );
    let (code, stdout, err) = run(sb
        .veil()
        .args(["encrypt", "--verbose", "--age", &r])
        .arg(&f));
    assert_eq!(code, Some(0), "{err}");
    // The pieces path did the work, not a fallback to the whole file.
    assert!(
        err.contains(": encrypted in ") && err.contains(" pieces"),
        "{err}"
    );
    let out = sb.path().join("out.enc.yaml");
    run_ok(
        sb.veil()
            .args(["encrypt", "--age", &r, "--output"])
            .arg(&out)
            .arg(&f),
        "encrypt --output",
    );
    let inplace = sb.write("inplace.yaml", &plain);
    run_ok(
        sb.veil().args(["encrypt", "-i", "--age", &r]).arg(&inplace),
        "encrypt -i",
    );
    let written = [
        stdout,
        std::fs::read(&out).unwrap(),
        std::fs::read(&inplace).unwrap(),
    ];
    for enc in &written {
        assert_eq!(shape(enc), shape(&slow));
        let p = sb.write("check.enc.yaml", enc);
        let dec = run_ok(
            sb.veil()
                .arg("decrypt")
                .arg(&p)
                .env("SOPS_AGE_KEY_FILE", &key),
            "decrypt",
        );
        assert_eq!(
            text(&dec),
            plain,
            "decrypting gives back the file byte for byte"
        );
    }
    if !require_peer("sops") {
        return;
    }
    let sops_dec = |p: &std::path::Path| {
        run_ok(
            sb.sops()
                .arg("decrypt")
                .arg(p)
                .env("SOPS_AGE_KEY_FILE", &key),
            "sops decrypt",
        )
    };
    let by_sops = sops_dec(&out);
    assert_eq!(by_sops, sops_dec(&sb.write("slow.enc.yaml", &slow)));
    assert_eq!(by_sops, sops_dec(&inplace));
}

/// A file of over 1 MB is decrypted a piece at a time: to stdout (held until the MAC has
/// verified), `--output` and `-i` (a private temp file renamed only then) it gives back the
/// file byte for byte; a MAC failure writes nothing and leaves the target as it was; a value
/// that opens to several lines, found after pieces were already put, sends the whole file to
/// the lossless path.
#[test]
fn files_decrypted_in_pieces_write_nothing_before_the_mac_verifies() {
    let sb = Sandbox::new();
    let mut plain = services(200);
    let r = TestKey::Age1.recipient();
    let key = sb.age_key_file(TestKey::Age1);
    let enc_of = |name: &str, plain: &str| {
        let f = sb.write(name, plain);
        let enc = run_ok(sb.veil().args(["encrypt", "--age", &r]).arg(&f), "encrypt");
        text(&enc).to_string()
    };
    let enc = enc_of("big.yaml", &plain);
    let dec = |p: &std::path::Path, extra: &[&str]| {
        run(sb
            .veil()
            .arg("decrypt")
            .args(extra)
            .arg(p)
            .env("SOPS_AGE_KEY_FILE", &key))
    };
    let p = sb.write("big.enc.yaml", &enc);
    let (code, out, err) = dec(&p, &["--verbose"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(text(&out), plain);
    assert!(
        err.contains("decrypted in ") && err.contains(" pieces"),
        "{err}"
    );
    let o = sb.path().join("plain.yaml");
    let (code, _, err) = dec(&p, &["--output", o.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(text(&std::fs::read(&o).unwrap()), plain);
    let i = sb.write("inplace.enc.yaml", &enc);
    let (code, _, err) = dec(&i, &["-i"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(text(&std::fs::read(&i).unwrap()), plain);

    // A value near the end deleted: the MAC fails after every piece was written and checked.
    let last = enc.rfind("    VAR_7: ").unwrap();
    let eol = last + enc[last..].find('\n').unwrap() + 1;
    let damaged = format!("{}{}", &enc[..last], &enc[eol..]);
    let d = sb.write("damaged.enc.yaml", &damaged);
    std::fs::write(&o, "before\n").unwrap();
    for extra in [vec![], vec!["--output", o.to_str().unwrap()], vec!["-i"]] {
        let (code, out, err) = dec(&d, &extra);
        assert_eq!(code, Some(51), "{err}");
        assert!(
            out.is_empty(),
            "plaintext reached stdout before the MAC verified"
        );
        assert_eq!(std::fs::read(&o).unwrap(), b"before\n");
        assert_eq!(text(&std::fs::read(&d).unwrap()), damaged);
    }
    let temps: Vec<_> = std::fs::read_dir(sb.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".veil-"))
        .collect();
    assert!(temps.is_empty(), "temp files left: {temps:?}");

    // A block scalar in the last service opens to several lines.
    plain.push_str("zz_last:\n  cert: |\n    line one\n    line two\n");
    let enc = enc_of("block.yaml", &plain);
    let p = sb.write("block.enc.yaml", &enc);
    let (code, out, err) = dec(&p, &["--verbose"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(text(&out), plain);
    assert!(!err.contains("decrypted in"), "{err}");
    let (code, _, err) = dec(&p, &["--output", o.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(text(&std::fs::read(&o).unwrap()), plain);
}

/// The data key is wrapped before the first piece of a big file is written: a key backend that
/// fails (here a Vault transit key on a closed loopback port) leaves stdout empty and exits as
/// the same failure on a small file does, as sops (which wraps first) does.
#[test]
fn a_key_that_cannot_wrap_writes_nothing_of_a_file_encrypted_in_pieces() {
    let sb = Sandbox::new();
    let port = crate::support::servers::free_ports(1);
    let uri = format!("http://127.0.0.1:{port}/v1/transit/keys/nobody");
    let enc = |name: &str, plain: &str| {
        let f = sb.write(name, plain);
        run(sb
            .veil()
            .args(["encrypt", "--verbose", "--hc-vault-transit", &uri])
            .arg(&f)
            .env("VAULT_TOKEN", "not-a-real-token"))
    };
    let (small_code, small_out, _) = enc("small.yaml", "a: b\n");
    assert!(small_out.is_empty());
    assert_ne!(small_code, Some(0));
    let plain = services(200);
    assert!(plain.len() > 1_100_000);
    let (code, out, err) = enc("big.yaml", &plain);
    assert_eq!(code, small_code, "{err}");
    assert!(
        out.is_empty(),
        "{} bytes reached stdout before the data key was wrapped",
        out.len()
    );
}

/// A big file whose last value opens to several lines falls back from the pieces path to the
/// lossless one with the data key it already unwrapped: one KMS call, not one per path tried.
#[test]
fn a_fallback_from_pieces_unwraps_the_data_key_once() {
    let Some(bin) = require_peer_path("moto_server") else {
        return;
    };
    let m = crate::support::servers::Moto::start(&bin);
    let proxy = crate::support::counting_proxy::CountingProxy::start(
        &m.server.addr,
        "TrentService.Decrypt",
    );
    let sb = Sandbox::new();
    let mut plain = services(200);
    plain.push_str("zz_last:\n  cert: |\n    line one\n    line two\n");
    let f = sb.write("big.yaml", &plain);
    let aws = |c: &mut assert_cmd::Command, endpoint: &str| {
        c.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_ENDPOINT_URL", endpoint);
    };
    let mut c = sb.veil();
    aws(&mut c, &m.server.addr);
    run_ok(
        c.args(["encrypt", "-i", "--kms", &m.arn]).arg(&f),
        "encrypt",
    );
    let mut c = sb.veil();
    aws(&mut c, &proxy.addr);
    let before = proxy.count();
    let (code, out, err) = run(c.args(["decrypt", "--verbose"]).arg(&f));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(text(&out), plain);
    assert_eq!(
        proxy.count() - before,
        1,
        "KMS calls for one decrypt: {err}"
    );
}
