//! `publish` against the real destinations: Vault KV v1 and v2 on OpenBao, S3 on moto, GCS on
//! gcp-storage-emulator (all started by `scripts/peers.sh start`), next to the real sops 3.11
//! publishing the same files to the same servers. Also the prompt, `--recursive`,
//! `--omit-extensions`, the errors sops gives, and the Vault token allowlist.
//!
//! The servers are shared by every test (and by runs on the same machine), so each test works
//! under names of its own (buckets, KV mounts, prefixes).

use crate::support::servers::{http, Recorder};
use crate::support::*;
use std::path::Path;

/// A name no other test or run uses: `veil-pub-<tag>-<pid>-<nanos>` (a valid bucket name).
fn uniq(tag: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("veil-pub-{tag}-{}-{n}", std::process::id())
}

fn env_var(env: &[(String, String)], k: &str) -> String {
    env.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("{k} is not in the peers' env.sh"))
}

/// The peer servers' environment, including the GCS emulator (which `scripts/peers.sh` starts
/// since `publish` exists). `None` after a SKIP line; a panic in CI.
#[track_caller]
fn servers() -> Option<Vec<(String, String)>> {
    if !require_peer("sops") {
        return None;
    }
    let env = require_servers()?;
    if !env.iter().any(|(k, _)| k == "STORAGE_EMULATOR_HOST") {
        let msg = "the peers' env.sh has no STORAGE_EMULATOR_HOST: run `scripts/peers.sh install` and `scripts/peers.sh restart` (gcp-storage-emulator)";
        assert!(!in_ci(), "{msg}; with CI=true this is a failure");
        eprintln!("\n!!!!!!!! SKIP: {msg} !!!!!!!!");
        return None;
    }
    Some(env)
}

/// A sandbox with the peers' variables, the age test identity 1, and `.sops.yaml` = creation
/// rule for age key 1 plus `destination_rules`.
fn sandbox(env: &[(String, String)], destination_rules: &str) -> Sandbox {
    let mut sb = Sandbox::new();
    sb.with_peer_env(env);
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - age: {}\ndestination_rules:\n{destination_rules}",
            TestKey::Age1.recipient()
        ),
    );
    sb
}

const PLAIN: &str = "# a comment\napp: web\nport: 8080\nratio: 1.5\nenabled: true\npassword: hunter2\nnested:\n  list:\n    - one\n    - 2\n  map:\n    k: v\n";

/// `name` encrypted by the real sops (age key 1), written into the sandbox.
fn sops_file(sb: &Sandbox, name: &str, plain: &str) {
    let tmp = format!("{name}.plain.yaml");
    sb.write(&tmp, plain);
    let enc = run_ok(
        sb.sops().args([
            "encrypt",
            "--input-type",
            "yaml",
            "--output-type",
            "yaml",
            &tmp,
        ]),
        "sops encrypt",
    );
    std::fs::remove_file(sb.path().join(&tmp)).unwrap();
    sb.write(name, enc);
}

// ---------------------------------------------------------------------------------------------
// Reading the destinations back

fn vault(
    env: &[(String, String)],
    method: &str,
    path: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    let addr = env_var(env, "VAULT_ADDR");
    let token = env_var(env, "VAULT_TOKEN");
    let (status, text) = http(
        method,
        &format!("{addr}/v1/{path}"),
        &[
            ("X-Vault-Token", &token),
            ("Content-Type", "application/json"),
        ],
        body,
    )
    .expect("vault request");
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

fn mount_kv(env: &[(String, String)], mount: &str, version: u8) {
    let (s, j) = vault(
        env,
        "POST",
        &format!("sys/mounts/{mount}"),
        &format!(r#"{{"type":"kv","options":{{"version":"{version}"}}}}"#),
    );
    assert!(s == 204 || s == 200, "mount {mount}: {s} {j}");
}

/// A KV secret's data (v1: `data`; v2: `data.data`), or `None` when absent.
fn kv_read(env: &[(String, String)], path: &str, v2: bool) -> Option<serde_json::Value> {
    // A v2 mount needs a moment after it is created before it serves reads.
    for _ in 0..50 {
        let (s, j) = vault(env, "GET", path, "");
        match s {
            200 => {
                return Some(if v2 {
                    j["data"]["data"].clone()
                } else {
                    j["data"].clone()
                })
            }
            404 => return None,
            _ => std::thread::sleep(std::time::Duration::from_millis(100)),
        }
    }
    panic!("vault GET {path} kept failing");
}

/// Run boto3 (in the peers' venv) with the sandbox's AWS variables; returns stdout.
fn boto3(sb: &Sandbox, script: &str, args: &[&str]) -> Vec<u8> {
    let py = format!("import boto3, sys\ns3 = boto3.client('s3')\n{script}");
    run_ok(sb.peer("python").arg("-c").arg(py).args(args), "boto3")
}

fn s3_create_bucket(sb: &Sandbox, bucket: &str) {
    boto3(sb, "s3.create_bucket(Bucket=sys.argv[1])", &[bucket]);
}

fn s3_get(sb: &Sandbox, bucket: &str, key: &str) -> Vec<u8> {
    boto3(
        sb,
        "sys.stdout.buffer.write(s3.get_object(Bucket=sys.argv[1], Key=sys.argv[2])['Body'].read())",
        &[bucket, key],
    )
}

fn s3_keys(sb: &Sandbox, bucket: &str) -> Vec<String> {
    let out = boto3(
        sb,
        "print('\\n'.join(o['Key'] for o in s3.list_objects_v2(Bucket=sys.argv[1]).get('Contents', [])))",
        &[bucket],
    );
    text(&out)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

fn gcs_create_bucket(env: &[(String, String)], bucket: &str) {
    let host = env_var(env, "STORAGE_EMULATOR_HOST");
    let (s, b) = http(
        "POST",
        &format!("{host}/storage/v1/b?project=veil-test"),
        &[("Content-Type", "application/json")],
        &format!(r#"{{"name":"{bucket}"}}"#),
    )
    .expect("create bucket");
    assert_eq!(s, 200, "{b}");
}

fn gcs_get(env: &[(String, String)], bucket: &str, object: &str) -> Option<String> {
    let host = env_var(env, "STORAGE_EMULATOR_HOST");
    let (s, b) = http(
        "GET",
        &format!(
            "{host}/storage/v1/b/{bucket}/o/{}?alt=media",
            object.replace('/', "%2F")
        ),
        &[],
        "",
    )
    .expect("get object");
    (s == 200).then_some(b)
}

/// The data of a sops file as sops 3.11 decrypts it with the given identity.
fn sops_decrypt(sb: &Sandbox, bytes: &[u8], key: TestKey) -> Vec<Data> {
    let p = sb.write("downloaded.yaml", bytes);
    let id = sb.age_key_file(key);
    let out = run_ok(
        sb.sops()
            .env("SOPS_AGE_KEY_FILE", id)
            .args(["decrypt", "--input-type", "yaml", "--output-type", "yaml"])
            .arg(&p),
        "sops decrypt of the published file",
    );
    yaml_docs(text(&out)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Vault

#[test]
fn vault_kv_v1_and_v2_get_the_decrypted_map_as_sops_writes_it() {
    let Some(env) = servers() else { return };
    let (m1, m2) = (uniq("kv1"), uniq("kv2"));
    mount_kv(&env, &m1, 1);
    mount_kv(&env, &m2, 2);
    let sb = sandbox(
        &env,
        &format!(
            "  - path_regex: ^sops1/\n    vault_path: sops/\n    vault_kv_mount_name: {m1}\n    vault_kv_version: 1\n\
             \x20 - path_regex: ^veil1/\n    vault_path: veil/\n    vault_kv_mount_name: {m1}/\n    vault_kv_version: 1\n\
             \x20 - path_regex: ^sops2/\n    vault_path: sops\n    vault_kv_mount_name: {m2}\n\
             \x20 - path_regex: ^veil2/\n    vault_path: veil\n    vault_kv_mount_name: {m2}\n    vault_kv_version: 2\n"
        ),
    );
    for d in ["sops1", "veil1", "sops2", "veil2"] {
        sops_file(&sb, &format!("{d}/app.yaml"), PLAIN);
    }
    for d in ["sops1", "sops2"] {
        run_ok(
            sb.sops()
                .args(["publish", "--yes", &format!("{d}/app.yaml")]),
            "sops publish",
        );
    }
    for d in ["veil1", "veil2"] {
        let out = run_ok(
            sb.veil().args(["publish", "-y", &format!("{d}/app.yaml")]),
            "veil publish",
        );
        assert!(out.is_empty(), "nothing on stdout with -y: {}", text(&out));
    }
    let want = serde_json::json!({
        "app": "web", "port": 8080, "ratio": 1.5, "enabled": true, "password": "hunter2",
        "nested": {"list": ["one", 2], "map": {"k": "v"}},
    });
    let sops_v1 = kv_read(&env, &format!("{m1}/sops/app.yaml"), false).expect("sops's v1 secret");
    let veil_v1 = kv_read(&env, &format!("{m1}/veil/app.yaml"), false).expect("veil's v1 secret");
    assert_eq!(veil_v1, want);
    assert_eq!(
        veil_v1, sops_v1,
        "veil and sops wrote different KV v1 secrets"
    );
    let sops_v2 = kv_read(&env, &format!("{m2}/data/sops/app.yaml"), true).expect("sops's v2");
    let veil_v2 = kv_read(&env, &format!("{m2}/data/veil/app.yaml"), true).expect("veil's v2");
    assert_eq!(veil_v2, want);
    assert_eq!(
        veil_v2, sops_v2,
        "veil and sops wrote different KV v2 secrets"
    );

    // Publishing the same data again leaves the v2 secret at its version; a change makes a new
    // version.
    let version = |env: &[(String, String)]| {
        vault(env, "GET", &format!("{m2}/metadata/veil/app.yaml"), "").1["data"]["current_version"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(version(&env), 1);
    run_ok(
        sb.veil().args(["publish", "-y", "veil2/app.yaml"]),
        "veil publish again",
    );
    assert_eq!(
        version(&env),
        1,
        "identical data must not make a new version"
    );
    sops_file(&sb, "veil2/app.yaml", "password: changed\n");
    run_ok(
        sb.veil().args(["publish", "-y", "veil2/app.yaml"]),
        "veil publish a change",
    );
    assert_eq!(version(&env), 2);
    assert_eq!(
        kv_read(&env, &format!("{m2}/data/veil/app.yaml"), true).unwrap(),
        serde_json::json!({"password": "changed"})
    );
}

#[test]
fn a_vault_address_from_the_rules_gets_no_token_unless_the_user_allows_it() {
    let Some(env) = servers() else { return };
    let rec = Recorder::start();
    let sb = sandbox(
        &env,
        &format!(
            "  - vault_path: p/\n    vault_kv_version: 1\n    vault_address: {}\n",
            rec.addr
        ),
    );
    sops_file(&sb, "app.yaml", PLAIN);
    let (code, _, err) = run(sb.veil().args(["publish", "-y", "app.yaml"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("refusing to send the vault token"), "{err}");
    assert!(err.contains("SOPS_HC_VAULT_ALLOWLIST"), "{err}");
    assert!(
        !err.contains("hunter2") && !err.contains(&env_var(&env, "VAULT_TOKEN")),
        "{err}"
    );
    assert_eq!(
        *rec.connections.lock().unwrap(),
        0,
        "nothing may reach the rule's address"
    );

    // The user names it: now the request (with the token) goes there.
    let (code, _, err) = run(sb
        .veil()
        .env("SOPS_HC_VAULT_ALLOWLIST", &rec.addr)
        .args(["publish", "-y", "app.yaml"]));
    assert_eq!(code, Some(0), "{err}");
    let seen = String::from_utf8_lossy(&rec.seen.lock().unwrap()).into_owned();
    assert!(seen.starts_with("PUT /v1/secret/p/app.yaml "), "{seen}");
    assert!(
        seen.to_ascii_lowercase().contains("x-vault-token"),
        "{seen}"
    );
}

// ---------------------------------------------------------------------------------------------
// S3

#[test]
fn s3_gets_the_file_reencrypted_for_the_recreation_rule_keys() {
    let Some(env) = servers() else { return };
    let bucket = uniq("s3");
    let sb = sandbox(
        &env,
        &format!(
            "  - path_regex: \\.yaml$\n    s3_bucket: {bucket}\n    s3_prefix: pre/\n    recreation_rule:\n      age: {}\n",
            TestKey::Age2.recipient()
        ),
    );
    s3_create_bucket(&sb, &bucket);
    sops_file(&sb, "app.yaml", PLAIN);
    let before = sb.read("app.yaml");
    let out = run_ok(
        sb.veil().args(["publish", "-y", "app.yaml"]),
        "veil publish",
    );
    // sops's key-group diff, on stdout.
    assert_eq!(
        text(&out),
        format!(
            "The following changes will be made to the file's key groups:\nGroup 1\n+++ {}\n--- {}\n",
            TestKey::Age2.recipient(),
            TestKey::Age1.recipient()
        )
    );
    assert_eq!(
        sb.read("app.yaml"),
        before,
        "the local file is never changed"
    );
    let veil_obj = s3_get(&sb, &bucket, "pre/app.yaml");
    // Only the recreation rule's key opens it, and it holds the file's data; the file's own
    // layout is kept (sops seals the comment too).
    let want = yaml_docs(PLAIN).unwrap();
    assert_data_eq(
        &sops_decrypt(&sb, &veil_obj, TestKey::Age2),
        &want,
        "veil's S3 object",
    );
    let mut lines = text(&veil_obj).lines();
    assert!(
        lines.next().unwrap().starts_with("#ENC["),
        "{}",
        text(&veil_obj)
    );
    assert!(
        lines.next().unwrap().starts_with("app: ENC["),
        "{}",
        text(&veil_obj)
    );
    assert_ne!(veil_obj, before, "a new data key: every value changes");
    let p = sb.write("obj.yaml", &veil_obj);
    let (code, _, _) = run(sb
        .sops()
        .env("SOPS_AGE_KEY_FILE", sb.age_key_file(TestKey::Age1))
        .args(["decrypt", "--input-type", "yaml"])
        .arg(&p));
    assert_ne!(
        code,
        Some(0),
        "the old key must not open the re-encrypted object"
    );

    // sops publishes the same file: the same data for the same key.
    sb.write(
        ".sops.yaml",
        std::fs::read_to_string(sb.path().join(".sops.yaml"))
            .unwrap()
            .replace("pre/", "sops/"),
    );
    run_ok(
        sb.sops().args(["publish", "--yes", "app.yaml"]),
        "sops publish",
    );
    let sops_obj = s3_get(&sb, &bucket, "sops/app.yaml");
    assert_data_eq(
        &sops_decrypt(&sb, &veil_obj, TestKey::Age2),
        &sops_decrypt(&sb, &sops_obj, TestKey::Age2),
        "veil's and sops's S3 objects",
    );
}

#[test]
fn reencryption_without_a_suffix_rule_keeps_unencrypted_values_readable() {
    // A recreation_rule without unencrypted_suffix: sops 3.13 seals every value, `_unencrypted`
    // ones included, but writes no rule into the metadata, so readers (sops itself) apply the
    // `_unencrypted` default and the MAC no longer matches. veil seals by the rule the metadata
    // will say (none, read as `_unencrypted`), so the published file opens.
    let Some(env) = servers() else { return };
    let bucket = uniq("suffix");
    let sb = sandbox(
        &env,
        &format!(
            "  - s3_bucket: {bucket}\n    recreation_rule:\n      age: {}\n",
            TestKey::Age2.recipient()
        ),
    );
    s3_create_bucket(&sb, &bucket);
    let plain = "a: 1\npublic_unencrypted: visible\n";
    sops_file(&sb, "veil.yaml", plain);
    sops_file(&sb, "sops.yaml", plain);
    run_ok(
        sb.veil().args(["publish", "-y", "veil.yaml"]),
        "veil publish",
    );
    run_ok(
        sb.sops().args(["publish", "--yes", "sops.yaml"]),
        "sops publish",
    );
    let veil_obj = s3_get(&sb, &bucket, "veil.yaml");
    assert!(text(&veil_obj).contains("public_unencrypted: visible\n"));
    assert_data_eq(
        &sops_decrypt(&sb, &veil_obj, TestKey::Age2),
        &yaml_docs(plain).unwrap(),
        "veil's object",
    );
    // Pinned: sops's own object does not open (MAC mismatch, exit 51).
    let p = sb.write("sops-obj.yaml", s3_get(&sb, &bucket, "sops.yaml"));
    let (code, _, err) = run(sb
        .sops()
        .env("SOPS_AGE_KEY_FILE", sb.age_key_file(TestKey::Age2))
        .args(["decrypt"])
        .arg(&p));
    assert_eq!(code, Some(51), "{err}");
}

#[test]
fn s3_gets_the_file_unchanged_without_recreation_keys_and_names_follow_omit_extensions() {
    let Some(env) = servers() else { return };
    let bucket = uniq("raw");
    let sb = sandbox(
        &env,
        &format!("  - s3_bucket: {bucket}\n    s3_prefix: team/\n    omit_extensions: true\n"),
    );
    s3_create_bucket(&sb, &bucket);
    sops_file(&sb, "app.enc.yaml", PLAIN);
    run_ok(
        sb.veil().args(["publish", "-y", "app.enc.yaml"]),
        "veil publish",
    );
    assert_eq!(
        s3_get(&sb, &bucket, "team/app.enc"),
        sb.read("app.enc.yaml")
    );
    // sops writes the same object under the same name.
    run_ok(
        sb.sops().args(["publish", "--yes", "app.enc.yaml"]),
        "sops publish",
    );
    assert_eq!(s3_keys(&sb, &bucket), ["team/app.enc"]);
    // A plaintext file is never uploaded: sops's error, exit 1, nothing lands.
    sb.write("plain.yaml", PLAIN);
    let (code, _, err) = run(sb.veil().args(["publish", "-y", "plain.yaml"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.starts_with("sops metadata not found"), "{err}");
    assert_eq!(s3_keys(&sb, &bucket), ["team/app.enc"]);
}

// ---------------------------------------------------------------------------------------------
// GCS

#[test]
fn gcs_emulator_gets_the_same_objects_from_veil_and_sops() {
    let Some(env) = servers() else { return };
    let bucket = uniq("gcs");
    let sb = sandbox(
        &env,
        &format!(
            "  - path_regex: ^raw/\n    gcs_bucket: {bucket}\n    gcs_prefix: raw/\n\
             \x20 - path_regex: ^sops/\n    gcs_bucket: {bucket}\n    gcs_prefix: sops/\n    recreation_rule:\n      age: {k2}\n\
             \x20 - path_regex: ^veil/\n    gcs_bucket: {bucket}\n    gcs_prefix: veil/\n    recreation_rule:\n      age: {k2}\n",
            k2 = TestKey::Age2.recipient()
        ),
    );
    gcs_create_bucket(&env, &bucket);
    sops_file(&sb, "raw/app.yaml", PLAIN);
    sops_file(&sb, "sops/app.yaml", PLAIN);
    sops_file(&sb, "veil/app.yaml", PLAIN);
    run_ok(
        sb.veil().args(["publish", "-y", "raw/app.yaml"]),
        "veil publish raw",
    );
    assert_eq!(
        gcs_get(&env, &bucket, "raw/app.yaml")
            .expect("raw object")
            .as_bytes(),
        sb.read("raw/app.yaml")
    );
    run_ok(
        sb.veil().args(["publish", "-y", "veil/app.yaml"]),
        "veil publish",
    );
    run_ok(
        sb.sops().args(["publish", "--yes", "sops/app.yaml"]),
        "sops publish",
    );
    let veil_obj = gcs_get(&env, &bucket, "veil/app.yaml").expect("veil's object");
    let sops_obj = gcs_get(&env, &bucket, "sops/app.yaml").expect("sops's object");
    let want = yaml_docs(PLAIN).unwrap();
    assert_data_eq(
        &sops_decrypt(&sb, veil_obj.as_bytes(), TestKey::Age2),
        &want,
        "veil's object",
    );
    assert_data_eq(
        &sops_decrypt(&sb, sops_obj.as_bytes(), TestKey::Age2),
        &want,
        "sops's object",
    );
}

// ---------------------------------------------------------------------------------------------
// The walk, the prompt, the errors

#[test]
fn recursive_publishes_every_file_under_its_relative_name_like_sops() {
    let Some(env) = servers() else { return };
    let bucket = uniq("rec");
    let sb = sandbox(
        &env,
        &format!("  - s3_bucket: {bucket}\n    s3_prefix: p/\n"),
    );
    s3_create_bucket(&sb, &bucket);
    for f in [
        "tree/b.yaml",
        "tree/a.yaml",
        "tree/sub/c.yaml",
        "tree/sub/deeper/d.json.yaml",
    ] {
        sops_file(&sb, f, "k: v\n");
    }
    let (code, _, err) = run(sb.veil().args(["publish", "-y", "tree"]));
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with("can't operate on a directory without --recursive flag."),
        "{err}"
    );
    run_ok(
        sb.veil().args([
            "publish",
            "-y",
            "--recursive",
            "--omit-extensions",
            "./tree/",
        ]),
        "veil publish --recursive",
    );
    let veil_keys = s3_keys(&sb, &bucket);
    assert_eq!(veil_keys, ["p/a", "p/b", "p/sub/c", "p/sub/deeper/d.json"]);
    // sops, to a fresh bucket, lands the same names.
    let bucket2 = uniq("rec2");
    s3_create_bucket(&sb, &bucket2);
    sb.write(
        ".sops.yaml",
        format!("destination_rules:\n  - s3_bucket: {bucket2}\n    s3_prefix: p/\n"),
    );
    run_ok(
        sb.sops().args([
            "publish",
            "--yes",
            "--recursive",
            "--omit-extensions",
            "./tree/",
        ]),
        "sops publish --recursive",
    );
    assert_eq!(s3_keys(&sb, &bucket2), veil_keys);
    // A file in the tree that is not a sops file stops the walk, with sops's message.
    sb.write("tree/a0-plain.yaml", "k: v\n");
    let (code, _, err) = run(sb.veil().args(["publish", "-y", "--recursive", "tree"]));
    let (scode, _, serr) = run(sb.sops().args(["publish", "--yes", "--recursive", "tree"]));
    assert_eq!((code, scode), (Some(1), Some(1)), "{err}\n{serr}");
    assert_eq!(err.lines().next(), serr.lines().next());
}

#[test]
fn the_prompt_takes_y_or_n_and_a_no_stops_only_that_file_when_recursive() {
    let Some(env) = servers() else { return };
    let m = uniq("prompt");
    mount_kv(&env, &m, 1);
    let sb = sandbox(
        &env,
        &format!("  - vault_path: p/\n    vault_kv_mount_name: {m}\n    vault_kv_version: 1\n"),
    );
    sops_file(&sb, "d/a.yaml", "k: a\n");
    sops_file(&sb, "d/b.yaml", "k: b\n");
    let abs = |f: &str| sb.path().join(f).display().to_string();
    let addr = env_var(&env, "VAULT_ADDR");
    let question = |f: &str| {
        format!(
            "uploading {} to {addr}/v1/{m}/p/{} ? (y/n): ",
            abs(f),
            Path::new(f).file_name().unwrap().to_str().unwrap()
        )
    };

    // `n` on one file: sops's error, exit 1, nothing written.
    let (code, out, err) = run(sb.veil().args(["publish", "d/a.yaml"]).write_stdin("n\n"));
    assert_eq!(code, Some(1));
    assert!(
        text(&out).contains("Vault receives the decrypted values"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).ends_with(&question("d/a.yaml")),
        "{}",
        text(&out)
    );
    assert!(
        err.starts_with(&format!("Publication of {} canceled", abs("d/a.yaml"))),
        "{err}"
    );
    assert!(kv_read(&env, &format!("{m}/p/a.yaml"), false).is_none());
    // Anything else asks again.
    let (code, out, err) = run(sb
        .veil()
        .args(["publish", "d/a.yaml"])
        .write_stdin("yes\n\ny\n"));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(text(&out).matches(&question("d/a.yaml")).count(), 3);
    assert_eq!(
        kv_read(&env, &format!("{m}/p/a.yaml"), false).unwrap()["k"],
        "a"
    );
    // No answer at all (stdin closed): nothing is published, exit 1.
    let (code, _, err) = run(sb.veil().args(["publish", "d/b.yaml"]).write_stdin(""));
    assert_eq!(code, Some(1));
    assert!(err.contains("nothing was published"), "{err}");
    // Recursive: `n` skips that file (message on stdout), the walk goes on.
    let (code, out, err) = run(sb
        .veil()
        .args(["publish", "--recursive", "--omit-extensions", "d"])
        .write_stdin("n\ny\n"));
    assert_eq!(code, Some(0), "{err}");
    assert!(text(&out).contains(&format!("Publication of {} canceled\n", abs("d/a.yaml"))));
    assert_eq!(kv_read(&env, &format!("{m}/p/b"), false).unwrap()["k"], "b");
    assert!(kv_read(&env, &format!("{m}/p/a"), false).is_none());
}

#[test]
fn files_without_a_destination_and_bad_command_lines_fail_like_sops() {
    let Some(env) = servers() else { return };
    let sb = sandbox(
        &env,
        "  - path_regex: ^only-this/\n    s3_bucket: some-bucket\n",
    );
    sops_file(&sb, "other.yaml", PLAIN);
    sb.write("only-this/plain.yaml", PLAIN);
    sb.write(
        "nodest/.sops.yaml",
        "destination_rules:\n  - path_regex: x\n    s3_prefix: p/\n",
    );
    let cases: &[(&[&str], &str)] = &[
        (&["publish", "-y", "other.yaml"], "."),
        (&["publish", "-y"], "."),
        (&["publish", "-y", "missing.yaml"], "."),
        (
            &["--config", "nodest/.sops.yaml", "publish", "-y", "x.yaml"],
            ".",
        ),
        // A plaintext file is not published.
        (&["publish", "-y", "only-this/plain.yaml"], "."),
    ];
    sops_file(&sb, "x.yaml", PLAIN);
    for (args, dir) in cases {
        let (code, _, err) = run(sb.veil().current_dir(sb.path().join(dir)).args(*args));
        let (scode, _, serr) = run(sb.sops().current_dir(sb.path().join(dir)).args(*args));
        assert_eq!(code, scode, "{args:?}: veil {err:?}, sops {serr:?}");
        assert_eq!(err.lines().next(), serr.lines().next(), "{args:?}");
    }
    // No config at all.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("f.yaml"), PLAIN).unwrap();
    let (code, _, err) = run(sb
        .veil()
        .current_dir(empty.path())
        .args(["publish", "-y", "f.yaml"]));
    assert_eq!(code, Some(1));
    assert!(err.starts_with("config file not found"), "{err}");
}
