//! The Azure Key Vault backend against the in-repo protocol fake (`tests/fakes/azure_kv.py`,
//! HTTPS with a throwaway CA), which Microsoft's own Python SDK is run against first; veil's
//! wrapped keys opened by the SDK and the reverse; every credential source of the chain; the
//! token allowlist against a recording listener; `.sops.yaml` forms; and the real sops 3.11
//! through the same fake in both directions (it reads the vault URL from the file and takes a
//! managed-identity token from `IDENTITY_ENDPOINT`). Each test starts its own fake.
#![cfg(feature = "azure-kv")]

use crate::support::servers::{AzureKvFake, Recorder};
use crate::support::*;
use std::path::PathBuf;

/// How a command authenticates to the fake.
#[derive(Clone, Copy, PartialEq)]
enum Cred {
    Secret,
    WrongSecret,
    Certificate,
    Workload,
    Managed,
    Cli,
    Nothing,
}

struct Az {
    fake: AzureKvFake,
    /// The peers' virtualenv interpreter (the SDK and `cryptography` are installed there).
    python: PathBuf,
}

fn start() -> Option<Az> {
    require_peer_path("python")?;
    let python = peers_dir().join("venv/bin/python");
    let fake = AzureKvFake::start(&python);
    Some(Az { fake, python })
}

impl Az {
    fn url(&self, key: &str) -> String {
        format!("{}/keys/{key}", self.fake.vault)
    }

    fn hostport(&self) -> String {
        self.fake.vault.trim_start_matches("https://").to_string()
    }

    /// A sandbox that trusts the fake's CA, allows its vault, and authenticates with `cred`.
    /// Nothing falls through to a real metadata service: the IMDS host is a closed loopback port.
    fn sandbox(&self, cred: Cred) -> Sandbox {
        let mut sb = Sandbox::new();
        self.setup(&mut sb, cred);
        sb
    }

    fn setup(&self, sb: &mut Sandbox, cred: Cred) {
        let f = &self.fake;
        sb.set_env("SSL_CERT_FILE", f.file("ca.pem"))
            .set_env("AZURE_AUTHORITY_HOST", &f.vault)
            .set_env("VEIL_AZURE_KEYVAULT_ALLOW", self.hostport())
            .set_env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9");
        let client = || {
            vec![
                ("AZURE_TENANT_ID", f.field("tenant")),
                ("AZURE_CLIENT_ID", f.field("client_id")),
            ]
        };
        let vars: Vec<(&str, String)> = match cred {
            Cred::Secret => [
                client(),
                vec![("AZURE_CLIENT_SECRET", f.field("client_secret"))],
            ]
            .concat(),
            Cred::WrongSecret => [
                client(),
                vec![("AZURE_CLIENT_SECRET", "not-the-secret-7c1d".into())],
            ]
            .concat(),
            Cred::Certificate => [
                client(),
                vec![(
                    "AZURE_CLIENT_CERTIFICATE_PATH",
                    f.file("client.pem").display().to_string(),
                )],
            ]
            .concat(),
            Cred::Workload => [
                client(),
                vec![(
                    "AZURE_FEDERATED_TOKEN_FILE",
                    f.file("federated-token").display().to_string(),
                )],
            ]
            .concat(),
            Cred::Managed => vec![
                ("IDENTITY_ENDPOINT", format!("{}/msi/token", f.vault)),
                ("IDENTITY_HEADER", f.field("identity_header")),
            ],
            Cred::Cli => {
                let bin = sb.path().join("stub-bin");
                std::fs::create_dir_all(&bin).unwrap();
                let script = format!(
                    "#!/bin/sh\n# A stand-in for the Azure CLI: prints the fake's token.\necho \"$@\" > '{}'\ncat '{}'\n",
                    sb.path().join("az-args").display(),
                    f.file("cli-token.json").display()
                );
                let p = bin.join("az");
                crate::support::sandbox::write_file(&p, script.as_bytes());
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
                let path = std::env::var("PATH").unwrap_or_default();
                vec![("PATH", format!("{}:{path}", bin.display()))]
            }
            Cred::Nothing => vec![],
        };
        for (k, v) in vars {
            sb.set_env(k, v);
        }
    }

    /// Microsoft's SDK through the fake: `azure_kv_sdk_check.py MODE DIR ARGS…`.
    fn sdk(&self, sb: &Sandbox, args: &[&str]) -> String {
        let script = repo_root().join("tests/fakes/azure_kv_sdk_check.py");
        let dir = self.fake.file("");
        let mut c = Command::new(&self.python);
        sb.isolate(&mut c);
        c.arg(script).arg(args[0]).arg(dir).args(&args[1..]);
        text(&run_ok(&mut c, "the Azure SDK check"))
            .trim()
            .to_string()
    }
}

/// Laid out as sops prints YAML (four spaces), so both tools' output compares as text.
const PLAIN: &str = "db:\n    user: admin\n    password: hunter2\nlist:\n    - 1\n    - two\n";

/// The `azure_kv` entries' fields of an encrypted YAML file, in order: (field, value). An entry
/// starts at `vault_url` and ends at `enc`, at any indentation (single or multiple groups).
fn azure_fields(yaml: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in yaml.lines() {
        let t = line.trim_start();
        let t = t.strip_prefix("- ").unwrap_or(t);
        let Some((k, v)) = t.split_once(": ") else {
            continue;
        };
        if k == "vault_url" {
            inside = true;
        }
        if inside && ["vault_url", "name", "version", "created_at", "enc"].contains(&k) {
            out.push((k.to_string(), v.trim_matches('"').to_string()));
            inside = k != "enc";
        }
    }
    out
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {fields:?}"))
}

fn encrypt(sb: &Sandbox, args: &[&str], name: &str) -> String {
    let p = sb.write(name, PLAIN);
    let out = run_ok(sb.veil().arg("encrypt").args(args).arg(&p), "veil encrypt");
    text(&out).to_string()
}

fn decrypts(sb: &Sandbox, name: &str) {
    let out = run_ok(sb.veil().args(["decrypt", name]), "veil decrypt");
    assert_eq!(text(&out), PLAIN);
}

#[test]
fn azure_sdk_encrypts_and_decrypts_through_the_fake() {
    let Some(az) = start() else { return };
    let sb = az.sandbox(Cred::Nothing);
    let out = az.sdk(&sb, &["roundtrip"]);
    assert_eq!(out, "ok secret\nok certificate\nok errors", "{out}");
}

#[test]
fn azure_veil_records_the_newest_version_in_sops_layout_and_the_sdk_opens_it() {
    let Some(az) = start() else { return };
    let sb = az.sandbox(Cred::Secret);
    // No version in the URL: resolved with GET /keys/{name}/, as sops does.
    let enc_file = encrypt(&sb, &["--azure-kv", &az.url("sops-key")], "s.yaml");
    let fields = azure_fields(&enc_file);
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["vault_url", "name", "version", "created_at", "enc"],
        "{enc_file}"
    );
    assert_eq!(field(&fields, "vault_url"), az.fake.vault);
    assert_eq!(field(&fields, "name"), "sops-key");
    let newest = az.fake.versions("sops-key").pop().unwrap();
    assert_eq!(field(&fields, "version"), newest);
    // RSA-2048 ciphertext, base64url without padding: 342 characters.
    let enc = field(&fields, "enc");
    assert_eq!(enc.len(), 342, "{enc}");
    assert!(
        enc.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{enc}"
    );
    assert!(time::OffsetDateTime::parse(
        field(&fields, "created_at"),
        &time::format_description::well_known::Rfc3339
    )
    .is_ok());
    let log = az.fake.requests();
    assert!(
        log.contains("GET /keys/sops-key/ api-version=7.6 auth=no len=0"),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "POST /keys/sops-key/{newest}/encrypt api-version=7.6 auth=yes"
        )),
        "{log}"
    );

    // Microsoft's SDK opens what veil wrapped, and wraps it again; veil opens the SDK's.
    let key_id = format!("{}/keys/sops-key/{newest}", az.fake.vault);
    let again = az.sdk(&sb, &["rewrap", &key_id, enc]);
    assert_ne!(again, enc);
    sb.write("s.yaml", enc_file.replace(enc, &again));
    decrypts(&sb, "s.yaml");
    // Adding the same key again without a version resolves to the key the file holds: kept
    // once, not wrapped a second time.
    run_ok(
        sb.veil().args([
            "rotate",
            "-i",
            "--add-azure-kv",
            &az.url("sops-key"),
            "s.yaml",
        ]),
        "rotate --add-azure-kv",
    );
    let rotated = String::from_utf8(sb.read("s.yaml")).unwrap();
    let names = azure_fields(&rotated)
        .into_iter()
        .filter(|(k, _)| k == "name")
        .count();
    assert_eq!(names, 1, "{rotated}");
    decrypts(&sb, "s.yaml");
    // An explicit version is kept as given (the older one here).
    let older = az.fake.versions("sops-key")[0].clone();
    let enc_file = encrypt(
        &sb,
        &["--azure-kv", &format!("{}/{older}", az.url("sops-key"))],
        "o.yaml",
    );
    assert_eq!(field(&azure_fields(&enc_file), "version"), older);
    sb.write("o.yaml", &enc_file);
    decrypts(&sb, "o.yaml");
    // The challenge requests (no token yet) never carry the data key: no body at all.
    let log = az.fake.requests();
    assert!(
        log.contains(&format!(
            "POST /keys/sops-key/{older}/encrypt api-version=7.6 auth=no len=0"
        )),
        "{log}"
    );
    for line in log
        .lines()
        .filter(|l| l.contains("/keys/") && l.contains("auth=no"))
    {
        assert!(line.ends_with(" len=0"), "{line}");
    }
}

#[test]
fn azure_every_credential_source_of_the_chain_works() {
    let Some(az) = start() else { return };
    for cred in [
        Cred::Secret,
        Cred::Certificate,
        Cred::Workload,
        Cred::Managed,
        Cred::Cli,
    ] {
        let sb = az.sandbox(cred);
        let enc = encrypt(&sb, &["--azure-kv", &az.url("sops-key")], "c.yaml");
        sb.write("c.yaml", &enc);
        decrypts(&sb, "c.yaml");
        // --verbose names where the token came from, and never shows it (the fake's tokens
        // all start with "fake-").
        let (code, _, err) = run(sb.veil().args(["decrypt", "--verbose", "c.yaml"]));
        assert_eq!(code, Some(0), "{err}");
        let source = match cred {
            Cred::Secret => "from client secret (AZURE_CLIENT_SECRET)",
            Cred::Certificate => "from client certificate ",
            Cred::Workload => "from workload identity (AZURE_FEDERATED_TOKEN_FILE)",
            Cred::Managed => "from managed identity (IDENTITY_ENDPOINT)",
            _ => "from Azure CLI",
        };
        assert!(err.contains(source), "{err}");
        assert!(!err.contains("fake-"), "{err}");
        if cred == Cred::Cli {
            let args = String::from_utf8(sb.read("az-args")).unwrap();
            assert!(
                args.starts_with(
                    "account get-access-token --output json --resource https://0.0.1:"
                ),
                "{args}"
            );
        }
    }
}

#[test]
fn azure_wrong_credentials_missing_credentials_and_unknown_keys_fail_clearly() {
    let Some(az) = start() else { return };
    let good = az.sandbox(Cred::Secret);
    let enc = encrypt(&good, &["--azure-kv", &az.url("sops-key")], "w.yaml");
    // A wrong secret: exit 128 as sops, Entra's reason, never the secret.
    let bad = az.sandbox(Cred::WrongSecret);
    bad.write("w.yaml", &enc);
    let (code, _, err) = run(bad.veil().args(["decrypt", "w.yaml"]));
    assert_eq!(code, Some(128), "{err}");
    assert!(err.contains("AADSTS7000215"), "{err}");
    assert!(err.contains(&az.url("sops-key")), "{err}");
    assert!(!err.contains("not-the-secret-7c1d"), "{err}");
    // No credentials at all: 128, and the report says what to set.
    let none = az.sandbox(Cred::Nothing);
    none.write("w.yaml", &enc);
    let (code, _, err) = run(none.veil().args(["decrypt", "w.yaml"]));
    assert_eq!(code, Some(128), "{err}");
    assert!(err.contains("no Azure credentials found"), "{err}");
    // A key the vault does not know: Key Vault's own code and message.
    let p = good.write("u.yaml", PLAIN);
    let (code, _, err) = run(good
        .veil()
        .args(["encrypt", "--azure-kv", &az.url("no-such-key")])
        .arg(&p));
    assert_ne!(code, Some(0));
    assert!(err.contains("KeyNotFound"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        PLAIN,
        "the input was changed"
    );
    // The file names a key that is gone: 404 from the vault, exit 128.
    let gone = enc.replace("name: sops-key", "name: other-key");
    good.write("g.yaml", &gone);
    let (code, _, err) = run(good.veil().args(["decrypt", "g.yaml"]));
    assert_eq!(code, Some(128), "{err}");
    assert!(err.contains("KeyNotFound"), "{err}");
}

#[test]
fn azure_a_tampered_vault_url_gets_no_token_and_no_connection() {
    let Some(az) = start() else { return };
    let sb = az.sandbox(Cred::Secret);
    let enc = encrypt(&sb, &["--azure-kv", &az.url("sops-key")], "t.yaml");
    let rec = Recorder::start();
    let rec_host = rec.addr.trim_start_matches("http://").to_string();
    let evil = enc.replace(&az.fake.vault, &format!("https://{rec_host}"));
    assert_ne!(evil, enc);
    sb.write("t.yaml", &evil);
    let (code, _, err) = run(sb.veil().args(["decrypt", "t.yaml"]));
    assert_eq!(code, Some(128), "{err}");
    assert!(
        err.contains("refusing to send an Azure Key Vault token"),
        "{err}"
    );
    assert!(err.contains("VEIL_AZURE_KEYVAULT_ALLOW"), "{err}");
    assert_eq!(
        *rec.connections.lock().unwrap(),
        0,
        "the recorder was contacted"
    );
    // Control: once the user allows it, a connection does arrive there.
    let mut allowing = az.sandbox(Cred::Secret);
    allowing.set_env("VEIL_AZURE_KEYVAULT_ALLOW", &rec_host);
    allowing.write("t.yaml", &evil);
    let (code, _, _) = run(allowing.veil().args(["decrypt", "t.yaml"]));
    assert_eq!(code, Some(128));
    assert!(
        *rec.connections.lock().unwrap() > 0,
        "the control reached nothing"
    );
}

#[test]
fn azure_key_groups_with_age_rotate_and_updatekeys() {
    let Some(az) = start() else { return };
    let mut sb = az.sandbox(Cred::Secret);
    let age_file = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &age_file);
    let newest = az.fake.versions("sops-key").pop().unwrap();
    let cfg = |threshold: u8, extra: &str| {
        format!(
            "creation_rules:\n  - shamir_threshold: {threshold}\n    key_groups:\n      - azure_keyvault:\n          - vaultUrl: {}\n            key: sops-key\n            version: \"\"\n{extra}      - age:\n          - {}\n",
            az.fake.vault,
            TestKey::Age1.recipient()
        )
    };
    sb.write(".sops.yaml", cfg(2, ""));
    let enc = encrypt(&sb, &[], "g.yaml");
    sb.write("g.yaml", &enc);
    let fields = azure_fields(&enc);
    assert_eq!(field(&fields, "version"), newest, "{enc}");
    decrypts(&sb, "g.yaml");
    // Threshold 2 of 2: age alone is not enough.
    let mut age_only = az.sandbox(Cred::Nothing);
    age_only.set_env("SOPS_AGE_KEY_FILE", &age_file);
    age_only.write("g.yaml", &enc);
    let (code, _, err) = run(age_only.veil().args(["decrypt", "g.yaml"]));
    assert_eq!(code, Some(128), "{err}");
    // One group holding both keys (a flat rule): either key alone opens it.
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - azure_keyvault: {}\n    age: {}\n",
            az.url("sops-key"),
            TestKey::Age1.recipient()
        ),
    );
    let enc1 = encrypt(&sb, &[], "one.yaml");
    age_only.write("one.yaml", &enc1);
    decrypts(&age_only, "one.yaml");
    let azure_only = az.sandbox(Cred::Secret);
    azure_only.write("one.yaml", &enc1);
    decrypts(&azure_only, "one.yaml");
    sb.write(".sops.yaml", cfg(2, ""));
    // rotate: a new data key, re-wrapped by the vault.
    run_ok(sb.veil().args(["rotate", "-i", "g.yaml"]), "rotate");
    let rotated = String::from_utf8(sb.read("g.yaml")).unwrap();
    assert_ne!(field(&azure_fields(&rotated), "enc"), field(&fields, "enc"));
    decrypts(&sb, "g.yaml");
    // updatekeys: the rule gains the other vault key in the first group.
    let other = format!(
        "          - vaultUrl: {}\n            key: other-key\n            version: \"\"\n",
        az.fake.vault
    );
    sb.write(".sops.yaml", cfg(2, &other));
    run_ok(sb.veil().args(["updatekeys", "-y", "g.yaml"]), "updatekeys");
    let updated = String::from_utf8(sb.read("g.yaml")).unwrap();
    let names: Vec<String> = azure_fields(&updated)
        .into_iter()
        .filter(|(k, _)| k == "name")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(names, ["sops-key", "other-key"], "{updated}");
    decrypts(&sb, "g.yaml");
    // Run again: the unversioned rule resolves to what the file holds, so nothing changes.
    let (code, out, err) = run(sb.veil().args(["updatekeys", "-y", "g.yaml"]));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        String::from_utf8(sb.read("g.yaml")).unwrap(),
        updated,
        "{}{err}",
        text(&out)
    );
}

/// The real sops 3.11 against the same fake: it reads the vault URL from the file, trusts the
/// fake's CA through `SSL_CERT_FILE`, and takes a token from the managed-identity endpoint.
fn sops_env(az: &Az, sb: &mut Sandbox) {
    sb.set_env("IDENTITY_ENDPOINT", format!("{}/msi/token", az.fake.vault))
        .set_env("IDENTITY_HEADER", az.fake.field("identity_header"));
}

#[test]
fn azure_sops_opens_veils_files_and_veil_opens_sops_files() {
    let Some(az) = start() else { return };
    if !require_peer("sops") {
        return;
    }
    let mut sb = az.sandbox(Cred::Managed);
    sops_env(&az, &mut sb);
    // veil → sops
    let enc = encrypt(&sb, &["--azure-kv", &az.url("sops-key")], "v.yaml");
    sb.write("v.yaml", &enc);
    let out = run_ok(sb.sops().args(["decrypt", "v.yaml"]), "sops decrypt");
    assert_eq!(text(&out), PLAIN);
    // sops → veil, from a flat `azure_keyvault` rule without a version.
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - azure_keyvault: {}\n",
            az.url("sops-key")
        ),
    );
    let p = sb.write("s.yaml", PLAIN);
    let sops_enc = text(&run_ok(sb.sops().arg("encrypt").arg(&p), "sops encrypt")).to_string();
    sb.write("s.yaml", &sops_enc);
    decrypts(&sb, "s.yaml");
    // Same rule, same groups: veil records the key exactly as sops did.
    let veil_enc = encrypt(&sb, &[], "w.yaml");
    let strip = |f: Vec<(String, String)>| {
        f.into_iter()
            .filter(|(k, _)| k != "enc" && k != "created_at")
            .collect::<Vec<_>>()
    };
    assert_eq!(
        strip(azure_fields(&veil_enc)),
        strip(azure_fields(&sops_enc)),
        "{sops_enc}"
    );
    assert_eq!(azure_fields(&sops_enc).len(), 5, "{sops_enc}");
    // The key_groups form, two groups (2 of 2) with an explicit older version in one: the same
    // groups.
    let older = az.fake.versions("sops-key")[0].clone();
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - azure_keyvault:\n          - vaultUrl: {v}\n            key: sops-key\n            version: {older}\n      - azure_keyvault:\n          - vaultUrl: {v}\n            key: other-key\n            version: \"\"\n",
            v = az.fake.vault
        ),
    );
    let p = sb.write("k.yaml", PLAIN);
    let sops_groups = text(&run_ok(sb.sops().arg("encrypt").arg(&p), "sops encrypt")).to_string();
    let veil_groups = encrypt(&sb, &[], "k2.yaml");
    assert_eq!(
        strip(azure_fields(&veil_groups)),
        strip(azure_fields(&sops_groups)),
        "{sops_groups}"
    );
    assert_eq!(azure_fields(&sops_groups).len(), 10, "{sops_groups}");
    sb.write("k.yaml", &sops_groups);
    decrypts(&sb, "k.yaml");
    sb.write("k2.yaml", &veil_groups);
    let out = run_ok(sb.sops().args(["decrypt", "k2.yaml"]), "sops decrypt");
    assert_eq!(text(&out), PLAIN);
    // sops's Go SDK: API 7.6, and its challenge requests carry no body either.
    let log = az.fake.requests();
    assert!(log.contains("api-version=7.6"), "{log}");
    for line in log
        .lines()
        .filter(|l| l.contains("/keys/") && l.contains("auth=no"))
    {
        assert!(line.ends_with(" len=0"), "{line}");
    }
}
