//! The GCP Cloud KMS backend against the in-repo protocol fake (`tests/fakes/gcp_kms.py`), and
//! the fake against Google's own client (google-cloud-kms, REST transport): the client encrypts
//! and decrypts through the fake, and unwraps what veil wrapped and the reverse, so the fake,
//! veil and Google's client agree on the wire. No test ever reaches Google.
//!
//! The real sops 3.11 talks to Cloud KMS over gRPC only and has no endpoint setting, so it cannot
//! be pointed at a REST fake; what it can show is that it reads veil's `gcp_kms` metadata (it
//! decrypts a veil file through another key group, and rewrites it with `sops set`).
#![cfg(feature = "gcp-kms")]

use crate::support::servers::{free_ports, Recorder, Server};
use crate::support::*;
use base64::Engine as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use veil::error::Outcome;
use veil::keys::gcp_kms::{GcpKmsBackend, GcpSettings};
use veil::keys::{Backend, KeyRef};
use zeroize::Zeroizing;

const TOKEN: &str = "ya29.veil-fake-gcp-token-7d3e";
/// What the fake's token endpoint issues for the test service account.
const SA_TOKEN: &str = "ya29.veil-fake-from-service-account-91b0";
const KEY_A: &str = "projects/veil-test/locations/global/keyRings/sops/cryptoKeys/key-a";
const KEY_B: &str = "projects/veil-test/locations/europe-west1/keyRings/sops/cryptoKeys/key-b";
const UNKNOWN: &str = "projects/veil-test/locations/global/keyRings/sops/cryptoKeys/nope";
/// Indented as sops writes YAML (4 spaces), so sops's output can be compared too.
const PLAIN: &str = "db:\n    user: admin\n    password: hunter2-gcp\nport: 5432\n";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// The fake Cloud KMS on a free loopback port, holding KEY_A and KEY_B.
struct Fake {
    server: Server,
    /// `http://127.0.0.1:P` or `https://127.0.0.1:P`.
    url: String,
    /// The throwaway CA (HTTPS only).
    ca: Option<PathBuf>,
}

impl Fake {
    fn start(python: &Path, tls: bool) -> Fake {
        Fake::start_with(python, tls, &[])
    }

    /// With the test service account's token endpoint at `/token`.
    fn with_service_account(python: &Path) -> Fake {
        let sa = testdata("keys/test-gcp-service-account.json");
        Fake::start_with(
            python,
            false,
            &[
                "--service-account".into(),
                sa.display().to_string(),
                "--sa-token".into(),
                SA_TOKEN.into(),
            ],
        )
    }

    fn start_with(python: &Path, tls: bool, extra: &[String]) -> Fake {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_ports(1);
        let script = repo_root().join("tests/fakes/gcp_kms.py");
        let mut args = vec![
            script.display().to_string(),
            "--port".into(),
            port.to_string(),
            "--token".into(),
            TOKEN.into(),
            "--key".into(),
            KEY_A.into(),
            "--key".into(),
            KEY_B.into(),
        ];
        args.extend(extra.iter().cloned());
        let tls_dir = dir.path().join("tls");
        if tls {
            std::fs::create_dir(&tls_dir).unwrap();
            args.push("--tls-dir".into());
            args.push(tls_dir.display().to_string());
        }
        let server = Server::spawn(python, &args, &[], dir);
        let ready = tls_dir.join("ready");
        server.wait_ready("the fake Cloud KMS", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && (!tls || ready.exists())
        });
        Fake {
            server,
            url: format!("{}://127.0.0.1:{port}", if tls { "https" } else { "http" }),
            ca: tls.then(|| tls_dir.join("ca.pem")),
        }
    }

    /// `SOPS_GCP_KMS_ENDPOINT` as a user would write it: `host:port` (HTTPS) or the http URL.
    fn endpoint(&self) -> String {
        match &self.ca {
            Some(_) => self.url.trim_start_matches("https://").to_string(),
            None => self.url.clone(),
        }
    }

    /// A sandbox whose veil talks to this fake with the right token (and trusts its CA).
    fn sandbox(&self) -> Sandbox {
        let mut sb = Sandbox::new();
        sb.set_env("SOPS_GCP_KMS_ENDPOINT", self.endpoint())
            .set_env("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN);
        if let Some(ca) = &self.ca {
            sb.set_env("SSL_CERT_FILE", ca);
        }
        sb
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.server.stop();
    }
}

/// The peers' venv Python (where `scripts/peers.sh` installs the pinned google-cloud-kms; the
/// `bin/python` link starts the interpreter outside the venv), when it has Google's client; a
/// missing one fails in CI.
fn python_with_sdk() -> Option<PathBuf> {
    let venv = peers_dir().join("venv/bin/python");
    let py = if venv.exists() {
        venv
    } else {
        require_peer_path("python")?
    };
    let ok = Command::new(&py)
        .args(["-c", "import google.cloud.kms, google.oauth2.credentials"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        return Some(py);
    }
    let msg =
        "google-cloud-kms is not installed in the peers' venv; run `scripts/peers.sh install`";
    assert!(!in_ci(), "{msg} (CI=true: a missing SDK is a failure)");
    crate::support::peers::loud(&format!("SKIP: {msg}"));
    None
}

/// Run the SDK driver (`tests/fakes/gcp_kms_sdk_check.py`); stdout, trimmed.
fn sdk(py: &Path, fake: &Fake, mode: &str, keys: &[&str], stdin: &str) -> String {
    use std::io::Write;
    let mut c = Command::new(py);
    c.arg(repo_root().join("tests/fakes/gcp_kms_sdk_check.py"))
        .arg(&fake.url)
        .arg(TOKEN)
        .arg(mode)
        .args(keys)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(ca) = &fake.ca {
        c.env("REQUESTS_CA_BUNDLE", ca);
    }
    let mut child = c.spawn().expect("spawn the SDK driver");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "google-cloud-kms {mode} failed: {}\nfake log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        fake.server.log_text()
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn backend(fake: &Fake, token: &str) -> GcpKmsBackend {
    GcpKmsBackend::new(GcpSettings {
        endpoint: Some(fake.url.clone()),
        access_token: Some(Zeroizing::new(token.into())),
        ..Default::default()
    })
}

fn gcp(id: &str) -> KeyRef {
    KeyRef::GcpKms {
        resource_id: id.into(),
    }
}

/// sops's entry layout: `resource_id`, then `created_at` (quoted RFC 3339, UTC), then `enc`
/// (standard base64), on consecutive lines.
fn assert_sops_layout(file: &str, key: &str) {
    let lines: Vec<&str> = file.lines().map(str::trim).collect();
    let i = lines
        .iter()
        .position(|l| *l == format!("- resource_id: {key}"))
        .unwrap_or_else(|| panic!("no entry for {key} in\n{file}"));
    let created = lines[i + 1]
        .strip_prefix("created_at: \"")
        .and_then(|c| c.strip_suffix("Z\""))
        .unwrap_or_else(|| panic!("created_at after resource_id in\n{file}"));
    assert_eq!(created.len(), "2026-01-01T00:00:00".len(), "{file}");
    let enc = lines[i + 2]
        .strip_prefix("enc: ")
        .unwrap_or_else(|| panic!("enc after created_at in\n{file}"));
    assert!(b64().decode(enc).is_ok(), "{enc}");
}

/// The `enc` values of a YAML file's `gcp_kms` entries (the only entries with a
/// `resource_id`), in order.
fn encs(yaml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = false;
    for line in yaml.lines() {
        let t = line.trim_start();
        if t.starts_with("- resource_id: ") {
            pending = true;
        } else if pending {
            if let Some(e) = t.strip_prefix("enc: ") {
                out.push(e.trim().to_string());
                pending = false;
            }
        }
    }
    out
}

#[test]
fn gcp_fake_is_accepted_by_googles_client_over_http_and_https() {
    let Some(py) = python_with_sdk() else {
        return;
    };
    for tls in [false, true] {
        let fake = Fake::start(&py, tls);
        assert_eq!(sdk(&py, &fake, "selftest", &[KEY_A, KEY_B], ""), "ok");
    }
}

#[test]
fn gcp_veil_and_googles_client_unwrap_each_others_keys() {
    let Some(py) = python_with_sdk() else {
        return;
    };
    let fake = Fake::start(&py, false);
    let b = backend(&fake, TOKEN);
    let secret: Vec<u8> = (100u8..132).collect();
    // veil wraps, Google's client unwraps: `enc` is the API's ciphertext in standard base64.
    let enc = b.wrap(&gcp(KEY_A), &secret).unwrap();
    assert!(b64().decode(&enc).is_ok(), "{enc}");
    assert_eq!(
        sdk(&py, &fake, "decrypt", &[KEY_A], &enc),
        b64().encode(&secret)
    );
    // Google's client wraps (a Shamir share's 33 bytes), veil unwraps.
    let share: Vec<u8> = (0u8..33).collect();
    let theirs = sdk(&py, &fake, "encrypt", &[KEY_B], &b64().encode(&share));
    assert_eq!(&b.unwrap(&gcp(KEY_B), &theirs).unwrap()[..], &share[..]);
    // The other key cannot open it: a failure the report shows, with the service's words.
    match b.unwrap(&gcp(KEY_A), &theirs) {
        Err(Outcome::Failed(m)) => {
            assert!(m.contains("answered 400: INVALID_ARGUMENT"), "{m}");
            assert!(m.contains("credentials: GOOGLE_OAUTH_ACCESS_TOKEN"), "{m}");
            assert!(!m.contains(TOKEN), "{m}");
        }
        other => panic!("{other:?}"),
    }
    // `enc` that is not base64 never leaves the machine.
    assert!(
        matches!(b.unwrap(&gcp(KEY_A), "not base64!"), Err(Outcome::Failed(m)) if m.contains("not base64"))
    );
}

#[test]
fn gcp_files_round_trip_through_the_binary_and_googles_client_reads_their_data_key() {
    let Some(py) = python_with_sdk() else {
        return;
    };
    // HTTPS with SOPS_GCP_KMS_ENDPOINT=host:port and the CA from SSL_CERT_FILE.
    let fake = Fake::start(&py, true);
    let sb = fake.sandbox();
    sb.write("s.yaml", PLAIN);
    run_ok(
        sb.veil()
            .args(["encrypt", "-i", "--gcp-kms", KEY_A, "s.yaml"]),
        "encrypt",
    );
    let file = String::from_utf8(sb.read("s.yaml")).unwrap();
    assert!(!file.contains("hunter2"), "{file}");
    assert_sops_layout(&file, KEY_A);
    assert!(
        file.contains("\n    gcp_kms:\n        - resource_id: "),
        "{file}"
    );
    let out = run_ok(sb.veil().args(["decrypt", "s.yaml"]), "decrypt");
    assert_eq!(text(&out), PLAIN);

    // Google's client unwraps the file's data key (32 bytes); wrapped again by the client and
    // put back into the file, veil still opens it.
    let enc = encs(&file).pop().expect("an enc");
    let data_key = sdk(&py, &fake, "decrypt", &[KEY_A], &enc);
    assert_eq!(b64().decode(&data_key).unwrap().len(), 32);
    let rewrapped = sdk(&py, &fake, "encrypt", &[KEY_A], &data_key);
    assert_ne!(rewrapped, enc);
    sb.write("s.yaml", file.replace(&enc, &rewrapped));
    let out = run_ok(
        sb.veil().args(["decrypt", "s.yaml"]),
        "decrypt after re-wrap",
    );
    assert_eq!(text(&out), PLAIN);

    // rotate: a new data key, wrapped anew; still opens.
    run_ok(sb.veil().args(["rotate", "-i", "s.yaml"]), "rotate");
    let rotated = String::from_utf8(sb.read("s.yaml")).unwrap();
    assert_ne!(encs(&rotated), vec![rewrapped]);
    let out = run_ok(
        sb.veil().args(["decrypt", "s.yaml"]),
        "decrypt after rotate",
    );
    assert_eq!(text(&out), PLAIN);

    // updatekeys from a .sops.yaml that adds KEY_B; then KEY_A's enc is broken and KEY_B
    // alone opens the file.
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - gcp_kms: \"{KEY_A}, {KEY_B}\"\n"),
    );
    run_ok(sb.veil().args(["updatekeys", "-y", "s.yaml"]), "updatekeys");
    let updated = String::from_utf8(sb.read("s.yaml")).unwrap();
    assert!(updated.contains(KEY_B), "{updated}");
    let e = encs(&updated);
    assert_eq!(e.len(), 2, "{updated}");
    let other = sdk(&py, &fake, "encrypt", &[KEY_B], "AAAA");
    sb.write("s.yaml", updated.replacen(&e[0], &other, 1));
    let out = run_ok(
        sb.veil().args(["decrypt", "s.yaml"]),
        "decrypt through key B",
    );
    assert_eq!(text(&out), PLAIN);
}

#[test]
fn gcp_sops_yaml_flat_and_key_groups_forms_build_the_same_group() {
    let Some(py) = python_with_sdk() else {
        return;
    };
    let fake = Fake::start(&py, false);
    let sb = fake.sandbox();
    let ids = |f: &str| -> Vec<String> {
        f.lines()
            .filter_map(|l| l.trim().strip_prefix("- resource_id: "))
            .map(str::to_string)
            .collect()
    };
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: flat\n    gcp_kms: \"{KEY_A} ,{KEY_B}\"\n  - path_regex: groups\n    key_groups:\n      - gcp_kms:\n          - resource_id: {KEY_A}\n          - resource_id: \"{KEY_B}\"\n"),
    );
    for name in ["flat.yaml", "groups.yaml"] {
        sb.write(name, PLAIN);
        run_ok(sb.veil().args(["encrypt", "-i", name]), name);
        let f = String::from_utf8(sb.read(name)).unwrap();
        assert_eq!(ids(&f), [KEY_A, KEY_B], "{f}");
        // One group in both cases: top-level gcp_kms, no key_groups.
        assert!(!f.contains("key_groups"), "{f}");
        let out = run_ok(sb.veil().args(["decrypt", name]), name);
        assert_eq!(text(&out), PLAIN);
    }
}

#[test]
fn gcp_mixed_with_age_in_key_groups() {
    let Some(py) = python_with_sdk() else {
        return;
    };
    let fake = Fake::start(&py, false);
    let sb = fake.sandbox();
    let age_keys = sb.age_key_file(TestKey::Age1);
    let age = TestKey::Age1.recipient();
    // (rule, file, whether the GCP key alone opens it, whether age alone opens it)
    let two_groups = format!("shamir_threshold: 2\n    key_groups:\n      - gcp_kms: [{{resource_id: {KEY_A}}}]\n      - age: [{age}]");
    let one_group =
        format!("key_groups:\n      - gcp_kms: [{{resource_id: {KEY_A}}}]\n        age: [{age}]");
    for (rule, name, alone) in [
        (two_groups, "two.yaml", false),
        (one_group, "one.yaml", true),
    ] {
        sb.write(".sops.yaml", format!("creation_rules:\n  - {rule}\n"));
        sb.write(name, PLAIN);
        run_ok(sb.veil().args(["encrypt", "-i", name]), "encrypt");
        let f = String::from_utf8(sb.read(name)).unwrap();
        assert_sops_layout(&f, KEY_A);
        // One group is written as top-level lists, as sops does.
        assert_eq!(f.contains("key_groups:"), !alone, "{f}");
        // Both the age identity and the GCP token: opens.
        let mut both = sb.veil();
        both.env("SOPS_AGE_KEY_FILE", &age_keys)
            .args(["decrypt", name]);
        assert_eq!(text(&run_ok(&mut both, "decrypt")), PLAIN);
        // Only GCP (no age identity).
        let (code, out, err) = run(sb.veil().args(["decrypt", name]));
        if alone {
            assert_eq!(code, Some(0), "{err}");
            assert_eq!(text(&out), PLAIN);
        } else {
            assert_eq!(code, Some(128), "{err}");
        }
        // Only age (a token the service refuses).
        let mut age_only = sb.veil();
        age_only
            .env("SOPS_AGE_KEY_FILE", &age_keys)
            .env("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.wrong")
            .args(["decrypt", name]);
        let (code, out, err) = run(&mut age_only);
        if alone {
            assert_eq!(code, Some(0), "{err}");
            assert_eq!(text(&out), PLAIN);
        } else {
            assert_eq!(code, Some(128), "{err}");
            assert!(err.contains("UNAUTHENTICATED"), "{err}");
        }
    }
    // A threshold of 1 over two groups is refused, as sops refuses it (Shamir needs 2).
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - shamir_threshold: 1\n    key_groups:\n      - gcp_kms: [{{resource_id: {KEY_A}}}]\n      - age: [{age}]\n"),
    );
    sb.write("t1.yaml", PLAIN);
    let (code, _, err) = run(sb.veil().args(["encrypt", "-i", "t1.yaml"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("threshold must be at least 2"), "{err}");
    assert_eq!(text(&sb.read("t1.yaml")), PLAIN);
}

#[test]
fn gcp_wrong_token_and_unknown_key_give_sops_exit_codes_and_say_why() {
    let Some(py) = python_with_sdk() else {
        return;
    };
    let fake = Fake::start(&py, false);
    let sb = fake.sandbox();
    sb.write("s.yaml", PLAIN);
    run_ok(
        sb.veil()
            .args(["encrypt", "-i", "--gcp-kms", KEY_A, "s.yaml"]),
        "encrypt",
    );
    // A token the service refuses: exit 128 (could not decrypt the data key), naming the key,
    // the service's answer and where the credentials came from; never the token.
    let mut wrong = sb.veil();
    wrong
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.wrong-token-value")
        .args(["decrypt", "s.yaml"]);
    let (code, out, err) = run(&mut wrong);
    assert_eq!(code, Some(128), "{err}");
    assert!(out.is_empty());
    assert!(err.contains(KEY_A), "{err}");
    assert!(
        err.contains("401") && err.contains("UNAUTHENTICATED"),
        "{err}"
    );
    assert!(err.contains("GOOGLE_OAUTH_ACCESS_TOKEN"), "{err}");
    assert!(
        !err.contains("wrong-token-value") && !err.contains(TOKEN),
        "{err}"
    );

    // A key the service does not hold: encrypting fails (sops's generic exit 1) with the
    // service's answer and a hint; nothing is written.
    sb.write("n.yaml", PLAIN);
    let (code, _, err) = run(sb
        .veil()
        .args(["encrypt", "-i", "--gcp-kms", UNKNOWN, "n.yaml"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(UNKNOWN) && err.contains("PERMISSION_DENIED"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    assert_eq!(text(&sb.read("n.yaml")), PLAIN);
    // …and a file naming it cannot be decrypted: 128.
    let f = String::from_utf8(sb.read("s.yaml")).unwrap();
    sb.write("u.yaml", f.replace(KEY_A, UNKNOWN));
    let (code, _, err) = run(sb.veil().args(["decrypt", "u.yaml"]));
    assert_eq!(code, Some(128), "{err}");
    assert!(err.contains("PERMISSION_DENIED"), "{err}");

    // No credentials anywhere (no token, no key file, no metadata server): exit 128.
    let mut none = sb.veil();
    none.env_remove("GOOGLE_OAUTH_ACCESS_TOKEN")
        .env("GCE_METADATA_HOST", "127.0.0.1:1")
        .args(["decrypt", "s.yaml"]);
    let (code, _, err) = run(&mut none);
    assert_eq!(code, Some(128), "{err}");
}

/// The file names only the resource id; a tampered one must not make veil send the token
/// anywhere — not even to the endpoint the user chose, with a path the id smuggles in.
#[test]
fn gcp_tampered_resource_ids_are_refused_before_any_connection() {
    let Some(py) = python_with_sdk() else {
        return;
    };
    let fake = Fake::start(&py, false);
    let sb = fake.sandbox();
    sb.write("s.yaml", PLAIN);
    run_ok(
        sb.veil()
            .args(["encrypt", "-i", "--gcp-kms", KEY_A, "s.yaml"]),
        "encrypt",
    );
    let file = String::from_utf8(sb.read("s.yaml")).unwrap();
    let rec = Recorder::start();
    for evil in [
        "projects/veil-test/locations/global/keyRings/sops/cryptoKeys/../../../../../../x",
        "projects/veil-test/locations/global/keyRings/sops/cryptoKeys/key-a?alt=x",
        "projects/veil-test/locations/global/keyRings/sops/cryptoKeys/%2e%2e",
        "https://evil.example.com/v1/projects/p/locations/l/keyRings/r/cryptoKeys/k",
        "//evil.example.com/projects/p/locations/l/keyRings/r/cryptoKeys/k",
    ] {
        sb.write("t.yaml", file.replace(KEY_A, evil));
        let mut c = sb.veil();
        c.env("SOPS_GCP_KMS_ENDPOINT", &rec.addr)
            .args(["decrypt", "t.yaml"]);
        let (code, _, err) = run(&mut c);
        assert_eq!(code, Some(128), "{evil}: {err}");
        assert!(err.contains("resource ID"), "{evil}: {err}");
    }
    assert_eq!(
        *rec.connections.lock().unwrap(),
        0,
        "the recorder was contacted"
    );
    // Control: the untampered file does reach the endpoint the user chose, token and all, so
    // the recorder would have seen a leak.
    let mut c = sb.veil();
    c.env("SOPS_GCP_KMS_ENDPOINT", &rec.addr)
        .args(["decrypt", "s.yaml"]);
    let _ = run(&mut c);
    let seen = String::from_utf8_lossy(&rec.seen.lock().unwrap()).to_lowercase();
    assert!(
        seen.contains(&format!("post /v1/{}:decrypt", KEY_A.to_lowercase())),
        "{seen}"
    );
    assert!(
        seen.contains(&format!("authorization: bearer {}", TOKEN.to_lowercase())),
        "{seen}"
    );
    // A plain-http endpoint that is not loopback is refused: the token would travel in clear.
    let mut c = sb.veil();
    c.env("SOPS_GCP_KMS_ENDPOINT", "http://kms.example.com")
        .args(["decrypt", "s.yaml"]);
    let (code, _, err) = run(&mut c);
    assert_eq!(code, Some(128), "{err}");
    assert!(err.contains("plain http"), "{err}");
}

/// sops 3.11 cannot reach the fake (gRPC only, no endpoint setting), but it must read veil's
/// `gcp_kms` entries: it decrypts through the age key of a group mixing both, and `sops set`
/// rewrites the file with its own serializer, which must keep the entry as veil wrote it.
#[test]
fn gcp_sops_reads_and_rewrites_veils_gcp_metadata() {
    let (Some(py), Some(_)) = (python_with_sdk(), require_peer_path("sops")) else {
        return;
    };
    let fake = Fake::start(&py, false);
    let mut sb = fake.sandbox();
    let age_keys = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &age_keys);
    let age = TestKey::Age1.recipient();
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - key_groups:\n      - gcp_kms: [{{resource_id: {KEY_A}}}]\n        age: [{age}]\n"),
    );
    sb.write("s.yaml", PLAIN);
    run_ok(sb.veil().args(["encrypt", "-i", "s.yaml"]), "encrypt");
    let ours = String::from_utf8(sb.read("s.yaml")).unwrap();
    let out = run_ok(
        sb.sops()
            .args(["decrypt", "--decryption-order", "age", "s.yaml"]),
        "sops decrypt",
    );
    assert_eq!(text(&out), PLAIN);
    run_ok(
        sb.sops()
            .args(["set", "s.yaml", "[\"db\"][\"user\"]", "\"root\""]),
        "sops set",
    );
    let theirs = String::from_utf8(sb.read("s.yaml")).unwrap();
    // sops re-indents the whole file; the entry's lines must be the same, in the same order.
    assert_sops_layout(&theirs, KEY_A);
    let gcp_block = |f: &str| -> Vec<String> {
        let lines: Vec<String> = f.lines().map(|l| l.trim().to_string()).collect();
        let i = lines
            .iter()
            .position(|l| l.starts_with("- resource_id: "))
            .expect("gcp entry");
        lines[i..i + 3].to_vec()
    };
    assert_eq!(
        gcp_block(&theirs),
        gcp_block(&ours),
        "sops:\n{theirs}\nveil:\n{ours}"
    );
    // And veil opens sops's rewrite through the fake.
    let out = run_ok(
        sb.veil()
            .args(["decrypt", "--decryption-order", "gcp_kms", "s.yaml"]),
        "decrypt",
    );
    assert_eq!(text(&out), PLAIN.replace("admin", "root"));
}

/// sops's credential order: `GOOGLE_CREDENTIALS` (the JSON itself, or a path) before
/// `GOOGLE_OAUTH_ACCESS_TOKEN`, then Application Default Credentials. A service-account key
/// signs a JWT that the fake's token endpoint checks against the account's public key.
#[test]
fn gcp_service_account_credentials_as_sops_finds_them() {
    let Some(py) = python_with_sdk() else {
        return;
    };
    let fake = Fake::with_service_account(&py);
    let sb = fake.sandbox();
    let sa_json = |email: Option<&str>| {
        let mut j: serde_json::Value =
            serde_json::from_slice(&read_testdata("keys/test-gcp-service-account.json")).unwrap();
        j["token_uri"] = format!("{}/token", fake.url).into();
        if let Some(e) = email {
            j["client_email"] = e.into();
        }
        j.to_string()
    };
    let sa_path = sb.write_secret("sa.json", sa_json(None));
    sb.write("s.yaml", PLAIN);
    run_ok(
        sb.veil()
            .args(["encrypt", "-i", "--gcp-kms", KEY_A, "s.yaml"]),
        "encrypt",
    );
    let decrypt = |vars: &[(&str, &std::ffi::OsStr)], unset_token: bool| {
        let mut c = sb.veil();
        if unset_token {
            c.env_remove("GOOGLE_OAUTH_ACCESS_TOKEN");
        } else {
            // A token the fake refuses: only the account's own token can work.
            c.env("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.refused");
        }
        c.env("GCE_METADATA_HOST", "127.0.0.1:1");
        for (k, v) in vars {
            c.env(k, v);
        }
        c.args(["decrypt", "s.yaml"]);
        run(&mut c)
    };
    let json = sa_json(None);
    for (what, vars, unset) in [
        (
            "GOOGLE_CREDENTIALS holding the JSON",
            vec![("GOOGLE_CREDENTIALS", json.as_ref())],
            false,
        ),
        (
            "GOOGLE_CREDENTIALS naming a file",
            vec![("GOOGLE_CREDENTIALS", sa_path.as_os_str())],
            false,
        ),
        (
            "GOOGLE_APPLICATION_CREDENTIALS",
            vec![("GOOGLE_APPLICATION_CREDENTIALS", sa_path.as_os_str())],
            true,
        ),
    ] {
        let (code, out, err) = decrypt(&vars, unset);
        assert_eq!(
            code,
            Some(0),
            "{what}: {err}\nfake log:\n{}",
            fake.server.log_text()
        );
        assert_eq!(text(&out), PLAIN, "{what}");
    }
    // The token endpoint refuses the assertion: exit 128 with its error, no key material.
    let wrong = sa_json(Some("someone-else@veil-test.iam.gserviceaccount.com"));
    let (code, _, err) = decrypt(&[("GOOGLE_CREDENTIALS", wrong.as_ref())], false);
    assert_eq!(code, Some(128), "{err}");
    assert!(err.contains("invalid_grant: Invalid issuer."), "{err}");
    assert!(
        !err.contains("PRIVATE KEY") && !err.contains("ya29"),
        "{err}"
    );
    // Neither JSON nor a file: said so, exit 128.
    let (code, _, err) = decrypt(
        &[("GOOGLE_CREDENTIALS", "/nonexistent/sa.json".as_ref())],
        false,
    );
    assert_eq!(code, Some(128), "{err}");
    let err = err.replace("\n      | ", " ");
    assert!(
        err.contains("GOOGLE_CREDENTIALS (not an existing file, so read as JSON) is not JSON"),
        "{err}"
    );
}
