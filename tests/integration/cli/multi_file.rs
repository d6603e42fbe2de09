//! Several files in one `decrypt`, `exec-env` or `exec-file`: each verified, their trees merged
//! in order (later files override earlier keys, maps merge deeply), `--strict` refusing a key
//! two files set, mixed formats, one unwrap per distinct wrapped data key (counted at a proxy in
//! front of moto's KMS), and what the real sops 3.11 does with the same command lines.

use crate::support::{require_peer, run, run_ok, text, Sandbox, TestKey};
use std::path::{Path, PathBuf};

const A_YAML: &str =
    "db:\n    host: host-a\n    port: 5432\nshared: from-a\nlist:\n    - 1\n    - 2\n";
const B_JSON: &str = "{\"db\": {\"host\": \"host-b\", \"user\": \"app\"}, \"list\": [3]}\n";
const C_ENV: &str = "shared=from-c\nTOKEN=tok-c\n";

/// A sandbox with age key 1 and the three files encrypted for it.
fn three_files() -> (Sandbox, PathBuf, PathBuf, PathBuf) {
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    let a = sb.encrypt_for_age1("a.enc.yaml", A_YAML);
    let b = sb.encrypt_for_age1("b.enc.json", B_JSON);
    let c = sb.encrypt_for_age1("c.enc.env", C_ENV);
    (sb, a, b, c)
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(bytes)))
}

#[test]
fn several_files_merge_in_order_across_yaml_json_and_dotenv() {
    let (sb, a, b, c) = three_files();
    let out = run_ok(
        sb.veil()
            .args(["decrypt", "--output-type", "json"])
            .args([&a, &b, &c]),
        "decrypt a b c",
    );
    assert_eq!(
        json(&out),
        serde_json::json!({
            "db": {"host": "host-b", "port": 5432, "user": "app"},
            "shared": "from-c",
            "list": [3],
            "TOKEN": "tok-c"
        })
    );
    // The order decides: b then a gives a's host and a's list.
    let out = run_ok(
        sb.veil()
            .args(["decrypt", "--output-type", "json"])
            .args([&b, &a]),
        "decrypt b a",
    );
    let v = json(&out);
    assert_eq!(v["db"]["host"], "host-a");
    assert_eq!(v["db"]["user"], "app");
    assert_eq!(v["list"], serde_json::json!([1, 2]));
    // Without --output-type, the first file's format (YAML here, JSON for b first).
    let yaml = run_ok(sb.veil().arg("decrypt").args([&a, &b]), "decrypt a b");
    let y = text(&yaml);
    assert!(y.contains("host: host-b") && y.contains("user: app"), "{y}");
    assert!(!y.trim_start().starts_with('{'), "{y}");
    let js = run_ok(sb.veil().arg("decrypt").args([&b, &a]), "decrypt b a");
    assert_eq!(json(&js)["shared"], "from-a");
    // --output writes the merged result (0600, atomic), never in place.
    run_ok(
        sb.veil()
            .args([
                "decrypt",
                "--output",
                "merged.json",
                "--output-type",
                "json",
            ])
            .args([&a, &c]),
        "decrypt --output",
    );
    assert_eq!(json(&sb.read("merged.json"))["TOKEN"], "tok-c");
    // --extract reads the merged tree.
    let host = run_ok(
        sb.veil()
            .args(["decrypt", "--extract", "[\"db\"][\"host\"]"])
            .args([&a, &b]),
        "decrypt --extract",
    );
    assert_eq!(text(&host), "host-b");
}

#[test]
fn several_files_are_never_decrypted_in_place() {
    let (sb, a, b, _) = three_files();
    let before = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let (code, out, err) = run(sb.veil().args(["decrypt", "-i"]).args([&a, &b]));
    assert_eq!(code, Some(8), "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("several files in place") && err.contains("hint:"),
        "{err}"
    );
    assert_eq!(
        before,
        (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap())
    );
}

#[test]
fn strict_refuses_a_key_two_files_set_naming_the_path_and_both_files_never_the_value() {
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    let a = sb.encrypt_for_age1(
        "base.enc.yaml",
        "db:\n    password: first-secret-Qx7\n    host: h\n",
    );
    let b = sb.encrypt_for_age1(
        "prod.enc.json",
        "{\"db\": {\"password\": \"second-secret-Zr4\"}}",
    );
    let marker = sb.path().join("ran");
    let cases: Vec<Vec<String>> = vec![
        vec!["decrypt".into(), "--strict".into()],
        vec!["exec-env".into(), "--strict".into()],
        vec!["exec-file".into(), "--strict".into()],
    ];
    for pre in cases {
        let mut cmd = sb.veil();
        cmd.args(&pre).args([&a, &b]);
        if pre[0] != "decrypt" {
            cmd.args(["--", "touch"]).arg(&marker);
        }
        let (code, out, err) = run(&mut cmd);
        assert_eq!(code, Some(1), "{pre:?}: {err}");
        assert!(out.is_empty(), "{pre:?}");
        assert!(err.contains(r#"["db"]["password"]"#), "{pre:?}: {err}");
        assert!(
            err.contains("base.enc.yaml") && err.contains("prod.enc.json"),
            "{pre:?}: {err}"
        );
        for s in ["first-secret", "second-secret"] {
            assert!(
                !err.contains(s) && !text(&out).contains(s),
                "{pre:?}: {err}"
            );
        }
        assert!(!marker.exists(), "{pre:?}: the command ran");
    }
    // A key only one file sets is no overlap.
    let c = sb.encrypt_for_age1("extra.enc.env", "OTHER=x\n");
    run_ok(
        sb.veil().args(["decrypt", "--strict"]).args([&a, &c]),
        "strict without overlap",
    );
}

/// The environment a program sees, from `env -0`.
fn env_of(out: &[u8]) -> std::collections::BTreeMap<String, String> {
    crate::support::exec::parse_env0(out)
}

#[test]
fn exec_env_takes_several_files_in_both_argument_forms() {
    let (sb, a, b, c) = three_files();
    // With --, every positional is a file.
    let out = run_ok(
        sb.veil()
            .args(["exec-env", "--pristine"])
            .args([&a, &b, &c])
            .args(["--", "env", "-0"]),
        "exec-env a b c -- env",
    );
    let env = env_of(&out);
    assert_eq!(env["db__host"], "host-b");
    assert_eq!(env["db__user"], "app");
    assert_eq!(env["shared"], "from-c");
    assert_eq!(env["TOKEN"], "tok-c");
    // Without --, the last positional is the command (run by /bin/sh).
    let out = run_ok(
        sb.veil()
            .arg("exec-env")
            .args([&a, &c])
            .arg("printf '%s|%s' \"$shared\" \"$db__host\""),
        "exec-env a c CMD",
    );
    assert_eq!(text(&out), "from-c|host-a");
    // sops's two-argument form is unchanged.
    let out = run_ok(
        sb.veil()
            .arg("exec-env")
            .arg(&a)
            .arg("printf %s \"$shared\""),
        "exec-env FILE CMD",
    );
    assert_eq!(text(&out), "from-a");
}

#[test]
fn exec_file_takes_several_files_as_one_merged_file() {
    let (sb, a, b, c) = three_files();
    let out = run_ok(
        sb.veil()
            .args(["exec-file", "--output-type", "json"])
            .args([&a, &b, &c])
            .args(["--", "cat", "{}"]),
        "exec-file a b c -- cat {}",
    );
    let v = json(&out);
    assert_eq!(v["db"]["host"], "host-b");
    assert_eq!(v["TOKEN"], "tok-c");
    let out = run_ok(
        sb.veil().arg("exec-file").args([&b, &a]).arg("cat {}"),
        "exec-file b a CMD",
    );
    // JSON, the first file's format.
    assert_eq!(json(&out)["db"]["host"], "host-a");
}

/// Flip one character inside the first ciphertext of `path`.
fn tamper(path: &Path) {
    let s = std::fs::read_to_string(path).unwrap();
    let i = s.find("ENC[AES256_GCM,data:").expect("a sealed value") + 20;
    let mut b = s.into_bytes();
    b[i] = if b[i] == b'A' { b'B' } else { b'A' };
    std::fs::write(path, b).unwrap();
}

#[test]
fn a_tampered_later_file_stops_everything_before_output_or_a_child() {
    let (sb, a, b, c) = three_files();
    tamper(&b);
    let (alone, _, _) = run(sb.veil().arg("decrypt").arg(&b));
    assert_ne!(alone, Some(0));
    let (code, out, err) = run(sb.veil().arg("decrypt").args([&a, &b, &c]));
    assert_eq!(code, alone, "the failing file's own code: {err}");
    assert!(out.is_empty());
    assert!(err.contains("b.enc.json"), "{err}");
    let marker = sb.path().join("ran");
    for sub in ["exec-env", "exec-file"] {
        let (code, out, err) = run(sb
            .veil()
            .arg(sub)
            .args([&a, &b])
            .args(["--", "touch"])
            .arg(&marker));
        assert_eq!(code, alone, "{sub}: {err}");
        assert!(out.is_empty());
        assert!(!marker.exists(), "{sub} ran the program");
    }
}

#[test]
fn the_real_sops_uses_only_the_first_file_or_refuses_where_veil_merges() {
    if !require_peer("sops") {
        return;
    }
    let (sb, a, b, _) = three_files();
    // sops 3.11 decrypt: warns and decrypts the first file only.
    let (code, out, err) = run(sb.sops().arg("decrypt").args([&a, &b]));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("More than one positional argument"), "{err}");
    let first_only = text(&out);
    assert!(
        first_only.contains("host-a") && !first_only.contains("host-b"),
        "{first_only}"
    );
    // sops 3.11 exec-env / exec-file: exactly two arguments, else exit 1.
    for sub in ["exec-env", "exec-file"] {
        let (code, _, err) = run(sb.sops().arg(sub).args([&a, &b]).arg("true"));
        assert_eq!(code, Some(1), "{sub}: {err}");
        assert!(err.contains("missing file to decrypt"), "{sub}: {err}");
    }
    // veil merges the same command lines.
    run_ok(sb.veil().arg("decrypt").args([&a, &b]), "veil decrypt a b");
    run_ok(
        sb.veil().arg("exec-env").args([&a, &b]).arg("true"),
        "veil exec-env a b true",
    );
}

/// A missing file among several gets the answer a single missing file gets (sops's
/// "cannot operate on non-existent file", exit 100), and nothing is printed.
#[test]
fn a_missing_file_among_several_exits_like_a_single_missing_file() {
    let (sb, a, b, _) = three_files();
    let missing = sb.path().join("missing.enc.yaml");
    let (single, _, err) = run(sb.veil().arg("decrypt").arg(&missing));
    assert_eq!(single, Some(100), "{err}");
    let (code, out, err) = run(sb.veil().arg("decrypt").arg(&a).arg(&missing).arg(&b));
    assert_eq!(code, single, "{err}");
    assert!(out.is_empty(), "{}", text(&out));
    assert!(
        err.contains("non-existent file") && err.contains("missing.enc.yaml"),
        "{err}"
    );
    if require_peer("sops") {
        let (code, _, err) = run(sb.sops().arg("decrypt").arg(&missing));
        assert_eq!(code, Some(100), "sops: {err}");
    }
}

/// One unwrap per distinct wrapped data key: KMS Decrypt calls counted at a TCP proxy in front
/// of moto (the count cannot come from veil's own log).
#[cfg(feature = "aws-kms")]
mod kms_count {
    use super::*;
    use crate::support::counting_proxy::CountingProxy;
    use crate::support::require_peer_path;
    use crate::support::servers::Moto;

    #[test]
    fn files_sharing_a_data_key_unwrap_it_once_per_command() {
        let Some(moto) = require_peer_path("moto_server") else {
            return;
        };
        let mut m = Moto::start(&moto);
        let proxy = CountingProxy::start(&m.server.addr, "TrentService.Decrypt");
        let mut sb = Sandbox::new();
        sb.set_env("AWS_ENDPOINT_URL", &proxy.addr);
        let enc = |name: &str, plain: &str| {
            let p = sb.write(name, plain);
            run_ok(
                sb.veil().args(["encrypt", "-i", "--kms", &m.arn]).arg(&p),
                "encrypt --kms",
            );
            p
        };
        let a = enc("secrets/a.enc.yaml", "a: 1\nk: from-a\n");
        // b: another file with a's data key (and wrapped key), made by --reuse-from.
        let bp = sb.write("b.plain.yaml", "b: 2\nk: from-b\n");
        let b_enc = run_ok(
            sb.veil().args(["encrypt", "--reuse-from"]).arg(&a).arg(&bp),
            "encrypt --reuse-from",
        );
        let b = sb.write("secrets/b.enc.yaml", &b_enc);
        // c: a copy of a; d: a data key of its own.
        let c = sb.write("secrets/c.enc.yaml", std::fs::read(&a).unwrap());
        let d = enc("secrets/d.enc.yaml", "d: 4\n");
        let before = proxy.count();
        run_ok(sb.veil().arg("decrypt").arg(&a), "decrypt a");
        assert_eq!(
            proxy.count() - before,
            1,
            "one file, one call: the proxy counts"
        );

        let before = proxy.count();
        let out = run_ok(
            sb.veil().arg("decrypt").args([&a, &b, &c, &d]),
            "decrypt a b c d",
        );
        // c (a copy of a) comes after b: its k wins.
        let merged = text(&out);
        assert!(
            merged.contains("b: 2") && merged.contains("d: 4"),
            "{merged}"
        );
        assert!(merged.contains("k: from-a"), "{merged}");
        assert_eq!(
            proxy.count() - before,
            2,
            "two distinct data keys, two calls"
        );

        let before = proxy.count();
        run_ok(
            sb.veil()
                .args(["exec-env", "--pristine"])
                .args([&a, &b, &c, &d])
                .args(["--", "true"]),
            "exec-env a b c d",
        );
        assert_eq!(proxy.count() - before, 2, "exec-env: two calls");

        let before = proxy.count();
        let out_dir = sb.path().join("plain-out");
        run_ok(
            sb.veil()
                .args(["decrypt", "-r", "secrets", "--output-dir"])
                .arg(&out_dir),
            "decrypt -r",
        );
        assert_eq!(proxy.count() - before, 2, "decrypt -r: two calls");
        m.server.stop();
    }
}
