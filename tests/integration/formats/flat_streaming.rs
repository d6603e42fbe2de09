//! The streaming path of dotenv, INI and TOML files (`format::stream`) through the commands, on
//! files big enough to be cut in two and checked on two threads: it is the path taken (the log
//! says so), it writes what the lossless path writes (`VEIL_FLAT_FAST=0`), decrypting gives the
//! file back byte for byte, the real sops reads its dotenv and INI output and veil reads sops's,
//! and damage, a wrong key and `--ignore-mac` behave as on the lossless path.
//!
//! Needs the real sops (`scripts/peers.sh install`); under `CI=true` its absence fails.

use crate::support::*;

/// About 400 KB in each format: sections of keys with values of the usual kinds, comments,
/// blank lines, keys the default rule leaves in plaintext.
fn big(ext: &str) -> String {
    let mut s = String::new();
    for i in 0..150 {
        match ext {
            "env" => s.push_str(&format!("# service {i}\n")),
            "ini" => s.push_str(&format!("; service {i}\n[service_{i}]\n")),
            _ => s.push_str(&format!("# service {i}\n[service_{i}]\n")),
        }
        for j in 0..60 {
            let (k, v) = match j % 4 {
                0 => (
                    format!("token_{j}"),
                    format!("tk_{i}_{j}_abcdefghijklmnopqrstuvwxyz"),
                ),
                1 => (format!("port_{j}"), format!("{}", 8000 + j)),
                2 => (
                    format!("url_{j}"),
                    format!("https://h{i}.example.org/p/{j}?a=b"),
                ),
                _ => (format!("note_{j}_unencrypted"), format!("plain {i} {j}")),
            };
            match ext {
                // The default rule's suffix is lower case.
                "env" => s.push_str(&format!("S{i}_{k}={v}\n")),
                "ini" => s.push_str(&format!("{k} = {v}\n")),
                _ if j % 4 == 1 => s.push_str(&format!("{k} = {v} # a port\n")),
                _ => s.push_str(&format!("{k} = \"{v}\"\n")),
            }
        }
        s.push('\n');
    }
    s
}

/// Compare two outputs without printing them whole (they hold thousands of lines).
#[track_caller]
fn same(a: &[u8], b: &[u8], what: &str) {
    if a != b {
        let (a, b) = (text(a), text(b));
        let at = a.lines().zip(b.lines()).position(|(x, y)| x != y);
        let line =
            |s: &str, i: Option<usize>| i.and_then(|i| s.lines().nth(i)).unwrap_or("").to_string();
        panic!(
            "{what}: {} vs {} bytes, first different line {at:?}:\n{}\n{}",
            a.len(),
            b.len(),
            line(a, at),
            line(b, at)
        );
    }
}

fn streaming(stderr: &str) -> bool {
    stderr.contains("streaming path")
}

/// Run veil on the streaming path (`fast`) or the lossless one, with the test key; its output,
/// after checking that it succeeded on the path asked for.
#[track_caller]
fn veil_on(sb: &Sandbox, args: &[&str], file: &std::path::Path, fast: bool) -> Vec<u8> {
    let mut c = sb.veil();
    c.args(args)
        .arg("--verbose")
        .arg(file)
        .env("SOPS_AGE_KEY_FILE", sb.age_key_file(TestKey::Age1));
    if !fast {
        c.env("VEIL_FLAT_FAST", "0");
    }
    let (code, out, err) = run(&mut c);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(streaming(&err), fast, "{}: {err}", file.display());
    out
}

const FORMATS: [&str; 3] = ["env", "ini", "toml"];

#[test]
fn big_files_take_the_streaming_path_and_match_the_lossless_one() {
    let sb = Sandbox::new();
    let r = TestKey::Age1.recipient();
    let key = sb.age_key_file(TestKey::Age1);
    for ext in FORMATS {
        let plain = big(ext);
        assert!(plain.len() > 300_000);
        let f = sb.write(&format!("big.{ext}"), &plain);
        let encrypt = |fast: bool| veil_on(&sb, &["encrypt", "--age", &r], &f, fast);
        let (fast, slow) = (encrypt(true), encrypt(false));
        // The same layout: the same lines, values and comments sealed in the same places.
        let shape = |b: &[u8]| -> Vec<String> {
            text(b)
                .lines()
                .filter(|l| !l.starts_with("sops_") && !l.contains("lastmodified"))
                .map(|l| match l.find("ENC[") {
                    Some(i) => format!("{}<{}>", &l[..i], &l[l.rfind(",type:").unwrap()..]),
                    None => l.to_string(),
                })
                .take_while(|l| l != "[sops]")
                .collect()
        };
        assert_eq!(shape(&fast), shape(&slow), "{ext}");
        assert!(
            text(&fast).contains("type:comment]"),
            "{ext}: comments are sealed"
        );
        assert!(
            text(&fast).contains("plain 3 7"),
            "{ext}: the suffix rule holds"
        );

        let enc_fast = sb.write(&format!("fast.enc.{ext}"), &fast);
        let enc_slow = sb.write(&format!("slow.enc.{ext}"), &slow);
        for enc in [&enc_fast, &enc_slow] {
            for fast in [true, false] {
                let out = veil_on(&sb, &["decrypt"], enc, fast);
                same(
                    &out,
                    plain.as_bytes(),
                    &format!("{ext}: decrypting gives the file back"),
                );
            }
        }
        // In place, through the atomic write.
        let (code, _, err) = run(sb
            .veil()
            .args(["decrypt", "-i"])
            .arg(&enc_fast)
            .env("SOPS_AGE_KEY_FILE", &key));
        assert_eq!(code, Some(0), "{err}");
        same(&std::fs::read(&enc_fast).unwrap(), plain.as_bytes(), ext);
    }
}

#[test]
fn sops_reads_the_streaming_output_and_veil_reads_sops() {
    if !require_peer("sops") {
        return;
    }
    let sb = Sandbox::new();
    let r = TestKey::Age1.recipient();
    let key = sb.age_key_file(TestKey::Age1);
    // sops has no TOML store.
    for ext in ["env", "ini"] {
        let plain = big(ext);
        let f = sb.write(&format!("big.{ext}"), &plain);
        let enc = run_ok(
            sb.veil().args(["encrypt", "--age", &r]).arg(&f),
            "veil encrypt",
        );
        let enc = sb.write(&format!("veil.enc.{ext}"), &enc);
        let by_sops = run_ok(
            sb.sops()
                .arg("decrypt")
                .arg(&enc)
                .env("SOPS_AGE_KEY_FILE", &key),
            "sops decrypt",
        );
        let sops_enc = run_ok(
            sb.sops().args(["encrypt", "--age", &r]).arg(&f),
            "sops encrypt",
        );
        let sops_enc = sb.write(&format!("sops.enc.{ext}"), &sops_enc);
        let by_veil = veil_on(&sb, &["decrypt"], &sops_enc, true);
        same(&by_veil, &veil_on(&sb, &["decrypt"], &sops_enc, false), ext);
        // sops writes dotenv as it read it, and INI in its own layout; either way both tools
        // read the same data from each other's files.
        let sops_plain = run_ok(
            sb.sops()
                .arg("decrypt")
                .arg(&sops_enc)
                .env("SOPS_AGE_KEY_FILE", &key),
            "sops decrypt",
        );
        same(
            &by_sops,
            &sops_plain,
            &format!("{ext}: sops reads veil's file as its own"),
        );
        // sops keeps a dotenv file's layout (less its blank lines), so both tools decrypt its
        // file to the same bytes.
        if ext == "env" {
            same(&by_veil, &sops_plain, ext);
        }
    }
}

#[test]
fn damage_and_wrong_keys_fail_as_on_the_lossless_path() {
    let sb = Sandbox::new();
    let r = TestKey::Age1.recipient();
    let key = sb.age_key_file(TestKey::Age1);
    for ext in FORMATS {
        let f = sb.write(&format!("big.{ext}"), big(ext));
        let enc = run_ok(sb.veil().args(["encrypt", "--age", &r]).arg(&f), "encrypt");
        let enc = text(&enc).to_string();
        let decrypt = |name: &str, body: &str, extra: &[&str], fast: bool| {
            let p = sb.write(name, body);
            let mut c = sb.veil();
            c.arg("decrypt")
                .args(extra)
                .arg(&p)
                .env("SOPS_AGE_KEY_FILE", &key);
            if !fast {
                c.env("VEIL_FLAT_FAST", "0");
            }
            let (code, _, err) = run(&mut c);
            (code, err)
        };
        // Two sealed values swapped between keys: their AAD no longer matches (exit 25).
        let mut lines: Vec<String> = enc.lines().map(String::from).collect();
        let sealed: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].contains("type:str]") && !lines[i].starts_with('#'))
            .filter(|&i| !lines[i].starts_with(';') && !lines[i].starts_with("sops"))
            .take(2)
            .collect();
        let value = |l: &str| l[l.find("ENC[").unwrap()..].to_string();
        let (va, vb) = (value(&lines[sealed[0]]), value(&lines[sealed[1]]));
        lines[sealed[0]] = lines[sealed[0]].replace(&va, &vb);
        lines[sealed[1]] = lines[sealed[1]].replace(&vb, &va);
        let swapped = lines.join("\n") + "\n";
        // A sealed value deleted: the MAC no longer matches (exit 51), unless --ignore-mac.
        let deleted: String = enc
            .lines()
            .enumerate()
            .filter(|(i, _)| *i != sealed[0])
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        for fast in [true, false] {
            let (code, err) = decrypt(&format!("swapped.{ext}"), &swapped, &[], fast);
            assert_eq!(code, Some(25), "{ext}: {err}");
            let (code, err) = decrypt(&format!("deleted.{ext}"), &deleted, &[], fast);
            assert_eq!(code, Some(51), "{ext}: {err}");
            assert!(err.contains("MAC mismatch"), "{err}");
            let (code, err) = decrypt(&format!("deleted.{ext}"), &deleted, &["--ignore-mac"], fast);
            assert_eq!(code, Some(0), "{ext}: {err}");
        }
        // The wrong key: exit 128 and the per-key report.
        let wrong = sb.age_key_file(TestKey::AgeUnrelated);
        let p = sb.write(&format!("enc.{ext}"), &enc);
        let (code, _, err) = run(sb
            .veil()
            .arg("decrypt")
            .arg(&p)
            .env("SOPS_AGE_KEY_FILE", &wrong));
        assert_eq!(code, Some(128), "{ext}: {err}");
        assert!(err.contains(&r), "{err}");
    }
}
