//! Interop with the real sops 3.11 binary, in both directions.
//!
//! (a) veil decrypts every file sops wrote (`testdata/sops/`) to the same data sops decrypts it
//!     to; (b) what `veil encrypt` writes, sops decrypts to the original data, with either of
//!     two recipients. Data-identical is the contract, not byte-identical (sops re-emits whole
//!     files; veil keeps layout), so documents are compared as sops sees them (see
//!     `support::Data`); binary and dotenv output is compared byte for byte.
//!
//! Needs `scripts/peers.sh install` (`.peers/bin/sops`). Without it the tests SKIP loudly;
//! with `CI=true` they fail.

use crate::support::*;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Yaml,
    Json,
    Binary,
    Dotenv,
    Ini,
}

impl Kind {
    fn ext(self) -> &'static str {
        match self {
            Kind::Yaml => "yaml",
            Kind::Json => "json",
            Kind::Binary => "bin",
            Kind::Dotenv => "env",
            Kind::Ini => "ini",
        }
    }
}

/// How the decrypting side finds its identity.
#[derive(Clone, Copy, Debug)]
enum Ident {
    /// `SOPS_AGE_KEY_FILE` = a copy of this test key.
    KeyFile(TestKey),
    /// `SOPS_AGE_SSH_PRIVATE_KEY_FILE` = a copy of the SSH test key.
    SshFile,
}

fn with_ident(sb: &Sandbox, cmd: &mut Command, ident: Ident) {
    match ident {
        Ident::KeyFile(k) => {
            cmd.env("SOPS_AGE_KEY_FILE", sb.age_key_file(k));
        }
        Ident::SshFile => {
            cmd.env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", sb.ssh_key_file());
        }
    }
}

/// Asserts two outputs of `kind` are the same data as sops sees it.
#[track_caller]
fn assert_same(kind: Kind, left: &[u8], right: &[u8], what: &str) {
    match kind {
        Kind::Yaml => {
            let l = yaml_docs(text(left)).unwrap_or_else(|e| panic!("{what}: left: {e}"));
            let r = yaml_docs(text(right)).unwrap_or_else(|e| panic!("{what}: right: {e}"));
            assert_data_eq(&l, &r, what);
        }
        Kind::Json => {
            let l = json_doc(text(left)).unwrap_or_else(|e| panic!("{what}: left: {e}"));
            let r = json_doc(text(right)).unwrap_or_else(|e| panic!("{what}: right: {e}"));
            assert_data_eq(&[l], &[r], what);
        }
        Kind::Binary => {
            assert!(
                left == right,
                "{what}: bytes differ ({} vs {} bytes)",
                left.len(),
                right.len()
            )
        }
        Kind::Dotenv => {
            let l = dotenv_pairs(text(left)).unwrap_or_else(|e| panic!("{what}: left: {e}"));
            let r = dotenv_pairs(text(right)).unwrap_or_else(|e| panic!("{what}: right: {e}"));
            assert_eq!(l, r, "{what}: dotenv data differs");
        }
        Kind::Ini => {
            assert_eq!(
                ini_sections(text(left)),
                ini_sections(text(right)),
                "{what}: ini differs"
            )
        }
    }
}

/// `sops decrypt FILE` with the identity, returning stdout (panics on failure).
fn sops_decrypt(sb: &Sandbox, file: &Path, ident: Ident) -> Vec<u8> {
    let mut cmd = sb.sops();
    cmd.arg("decrypt").arg(file);
    with_ident(sb, &mut cmd, ident);
    run_ok(&mut cmd, &format!("sops decrypt {}", file.display()))
}

/// `veil decrypt FILE` with the identity, returning stdout (panics on failure).
fn veil_decrypt(sb: &Sandbox, file: &Path, ident: Ident) -> Vec<u8> {
    let mut cmd = sb.veil();
    cmd.arg("decrypt").arg(file);
    with_ident(sb, &mut cmd, ident);
    run_ok(&mut cmd, &format!("veil decrypt {}", file.display()))
}

// ---------------------------------------------------------------------------------------------
// The fixtures themselves (these pass without veil: they check the fixtures and comparators)

struct Fixture {
    enc: &'static str,
    plain: &'static str,
    kind: Kind,
    ident: Ident,
    /// How many age recipients the file must have.
    recipients: usize,
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        enc: "scalars.enc.yaml",
        plain: "scalars.yaml",
        kind: Kind::Yaml,
        ident: Ident::KeyFile(TestKey::Age1),
        recipients: 1,
    },
    Fixture {
        enc: "structure.enc.yaml",
        plain: "structure.yaml",
        kind: Kind::Yaml,
        ident: Ident::KeyFile(TestKey::Age1),
        recipients: 1,
    },
    Fixture {
        enc: "multidoc.enc.yaml",
        plain: "multidoc.yaml",
        kind: Kind::Yaml,
        ident: Ident::KeyFile(TestKey::Age1),
        recipients: 1,
    },
    Fixture {
        enc: "nested.enc.json",
        plain: "nested.json",
        kind: Kind::Json,
        ident: Ident::KeyFile(TestKey::Age1),
        recipients: 1,
    },
    Fixture {
        enc: "blob.enc.bin",
        plain: "blob.bin",
        kind: Kind::Binary,
        ident: Ident::KeyFile(TestKey::Age1),
        recipients: 1,
    },
    Fixture {
        enc: "app.enc.env",
        plain: "app.env",
        kind: Kind::Dotenv,
        ident: Ident::KeyFile(TestKey::Age1),
        recipients: 1,
    },
    Fixture {
        enc: "app.enc.ini",
        plain: "app.ini",
        kind: Kind::Ini,
        ident: Ident::KeyFile(TestKey::Age1),
        recipients: 1,
    },
    Fixture {
        enc: "two-recipients.enc.yaml",
        plain: "structure.yaml",
        kind: Kind::Yaml,
        ident: Ident::KeyFile(TestKey::Age2),
        recipients: 2,
    },
    Fixture {
        enc: "two-recipients.enc.json",
        plain: "nested.json",
        kind: Kind::Json,
        ident: Ident::KeyFile(TestKey::Age2),
        recipients: 2,
    },
    Fixture {
        enc: "ssh-recipient.enc.yaml",
        plain: "structure.yaml",
        kind: Kind::Yaml,
        ident: Ident::SshFile,
        recipients: 1,
    },
];

fn fixture(enc: &str) -> &'static Fixture {
    FIXTURES
        .iter()
        .find(|f| f.enc == enc)
        .unwrap_or_else(|| panic!("no fixture {enc}"))
}

#[test]
fn sops_fixtures_decrypt_to_their_plaintext() {
    if !require_peer("sops") {
        return;
    }
    let sb = Sandbox::new();
    for f in FIXTURES {
        let path = testdata(&format!("sops/{}", f.enc));
        // One "recipient" per age entry in every store's metadata layout; multi-document YAML
        // repeats the metadata in each of its 3 documents.
        let raw = String::from_utf8_lossy(&read_testdata(&format!("sops/{}", f.enc))).into_owned();
        let docs = if f.enc.starts_with("multidoc") { 3 } else { 1 };
        assert_eq!(
            raw.matches("recipient").count(),
            f.recipients * docs,
            "{}: recipients",
            f.enc
        );
        let plain = read_testdata(&format!("plain/{}", f.plain));
        let mut idents = vec![f.ident];
        if f.recipients == 2 {
            idents.push(Ident::KeyFile(TestKey::Age1));
        }
        for ident in idents {
            let out = sops_decrypt(&sb, &path, ident);
            let what = format!("sops decrypt {} ({ident:?}) vs plain/{}", f.enc, f.plain);
            assert_same(f.kind, &out, &plain, &what);
        }
    }
}

#[test]
fn every_fixture_is_listed_and_every_plaintext_used() {
    let mut on_disk: Vec<String> = std::fs::read_dir(testdata("sops"))
        .expect("testdata/sops")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.contains(".enc."))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FIXTURES.iter().map(|f| f.enc.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "testdata/sops and FIXTURES disagree");
    for e in std::fs::read_dir(testdata("plain")).expect("testdata/plain") {
        let name = e
            .expect("dir entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        assert!(
            FIXTURES.iter().any(|f| f.plain == name),
            "plain/{name} has no fixture"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// (a) veil decrypts what sops wrote

fn check_veil_decrypts(enc: &str) {
    if !require_peer("sops") {
        return;
    }
    let f = fixture(enc);
    let sb = Sandbox::new();
    // Under its own name, so type detection by extension is exercised as sops does it.
    let file = sb.copy_testdata(&format!("sops/{enc}"), enc);
    let by_sops = sops_decrypt(&sb, &file, f.ident);
    let by_veil = veil_decrypt(&sb, &file, f.ident);
    assert_same(
        f.kind,
        &by_veil,
        &by_sops,
        &format!("veil vs sops decrypt of {enc}"),
    );
    let plain = read_testdata(&format!("plain/{}", f.plain));
    assert_same(
        f.kind,
        &by_veil,
        &plain,
        &format!("veil decrypt of {enc} vs plain/{}", f.plain),
    );
    if f.kind == Kind::Yaml {
        // Every comment sops restores, veil restores too.
        assert_comments_kept(
            &yaml_comments(text(&by_sops)),
            &yaml_comments(text(&by_veil)),
            &format!("veil decrypt of {enc}"),
        );
    }
    if f.kind == Kind::Dotenv {
        assert_eq!(
            text(&by_veil),
            text(&by_sops),
            "dotenv output is canonical in both"
        );
    }
    // Decrypting never touches the input.
    assert_eq!(
        sb.read(enc),
        read_testdata(&format!("sops/{enc}")),
        "{enc} was modified"
    );
}

#[test]
fn veil_decrypts_sops_yaml_every_scalar_type() {
    check_veil_decrypts("scalars.enc.yaml");
}

#[test]
fn veil_decrypts_sops_yaml_structure_block_scalars_unicode() {
    check_veil_decrypts("structure.enc.yaml");
}

#[test]
fn veil_decrypts_sops_yaml_multidoc() {
    check_veil_decrypts("multidoc.enc.yaml");
}

#[test]
fn veil_decrypts_sops_json() {
    check_veil_decrypts("nested.enc.json");
}

#[test]
fn veil_decrypts_sops_binary() {
    check_veil_decrypts("blob.enc.bin");
}

#[test]
fn veil_decrypts_sops_yaml_second_of_two_recipients() {
    check_veil_decrypts("two-recipients.enc.yaml");
}

#[test]
fn veil_decrypts_sops_json_second_of_two_recipients() {
    check_veil_decrypts("two-recipients.enc.json");
}

#[test]
fn veil_decrypts_sops_yaml_ssh_recipient() {
    check_veil_decrypts("ssh-recipient.enc.yaml");
}

#[test]
fn veil_decrypts_sops_dotenv() {
    check_veil_decrypts("app.enc.env");
}

#[test]
fn veil_decrypts_sops_ini() {
    check_veil_decrypts("app.enc.ini");
}

#[test]
fn both_find_the_default_age_key_file_and_ssh_key() {
    if !require_peer("sops") {
        return;
    }
    // No variable at all: $XDG_CONFIG_HOME/sops/age/keys.txt, then ~/.ssh/id_ed25519.
    let sb = Sandbox::new();
    sb.install_default_age_key(TestKey::Age2);
    sb.install_default_ssh_key();
    for enc in ["two-recipients.enc.yaml", "ssh-recipient.enc.yaml"] {
        let file = sb.copy_testdata(&format!("sops/{enc}"), enc);
        let by_sops = run_ok(
            sb.sops().arg("decrypt").arg(&file),
            &format!("sops decrypt {enc}"),
        );
        let by_veil = run_ok(
            sb.veil().arg("decrypt").arg(&file),
            &format!("veil decrypt {enc}"),
        );
        assert_same(
            Kind::Yaml,
            &by_veil,
            &by_sops,
            &format!("default identities, {enc}"),
        );
    }
}

#[test]
fn both_read_sops_age_key_from_the_environment() {
    if !require_peer("sops") {
        return;
    }
    let sb = Sandbox::new();
    let key = String::from_utf8(read_testdata(TestKey::Age1.identity_file())).expect("utf-8");
    let file = sb.copy_testdata("sops/nested.enc.json", "nested.enc.json");
    let by_sops = run_ok(
        sb.sops()
            .arg("decrypt")
            .arg(&file)
            .env("SOPS_AGE_KEY", &key),
        "sops",
    );
    let by_veil = run_ok(
        sb.veil()
            .arg("decrypt")
            .arg(&file)
            .env("SOPS_AGE_KEY", &key),
        "veil",
    );
    assert_same(Kind::Json, &by_veil, &by_sops, "SOPS_AGE_KEY");
}

#[test]
fn wrong_key_exits_128_like_sops() {
    if !require_peer("sops") {
        return;
    }
    let sb = Sandbox::new();
    let file = sb.copy_testdata("sops/scalars.enc.yaml", "scalars.enc.yaml");
    let key = sb.age_key_file(TestKey::AgeUnrelated);
    let (sops_code, _, _) = run(sb
        .sops()
        .arg("decrypt")
        .arg(&file)
        .env("SOPS_AGE_KEY_FILE", &key));
    let (veil_code, out, err) = run(sb
        .veil()
        .arg("decrypt")
        .arg(&file)
        .env("SOPS_AGE_KEY_FILE", &key));
    assert_eq!(sops_code, Some(128), "sops's exit code for a wrong key");
    assert_eq!(
        veil_code, sops_code,
        "veil's exit code for a wrong key; stderr: {err}"
    );
    assert!(
        out.is_empty(),
        "no plaintext on stdout when decryption fails"
    );
    // The per-key report names the recipient the file expects.
    assert!(
        err.contains(&TestKey::Age1.recipient()),
        "report should name the recipient: {err}"
    );
    assert!(!err.contains("hello world"), "no plaintext in errors");
}

#[test]
fn mac_mismatch_exits_51_and_ignore_mac_decrypts_like_sops() {
    if !require_peer("sops") {
        return;
    }
    let sb = Sandbox::new();
    // Changing a value left plain by `_unencrypted` keeps every ENC valid but breaks the MAC.
    let orig = String::from_utf8(read_testdata("sops/scalars.enc.yaml")).expect("utf-8");
    assert!(orig.contains("password_unencrypted: visible-on-disk\n"));
    let tampered = orig.replace(
        "password_unencrypted: visible-on-disk\n",
        "password_unencrypted: changed-on-disk\n",
    );
    let file = sb.write("tampered.enc.yaml", tampered);
    let key = sb.age_key_file(TestKey::Age1);
    let (sops_code, _, _) = run(sb
        .sops()
        .arg("decrypt")
        .arg(&file)
        .env("SOPS_AGE_KEY_FILE", &key));
    let (veil_code, out, err) = run(sb
        .veil()
        .arg("decrypt")
        .arg(&file)
        .env("SOPS_AGE_KEY_FILE", &key));
    assert_eq!(sops_code, Some(51), "sops's exit code for a MAC mismatch");
    assert_eq!(
        veil_code, sops_code,
        "veil's exit code for a MAC mismatch; stderr: {err}"
    );
    assert!(out.is_empty(), "no plaintext on stdout when the MAC fails");

    let by_sops = run_ok(
        sb.sops()
            .args(["decrypt", "--ignore-mac"])
            .arg(&file)
            .env("SOPS_AGE_KEY_FILE", &key),
        "sops --ignore-mac",
    );
    let by_veil = run_ok(
        sb.veil()
            .args(["decrypt", "--ignore-mac"])
            .arg(&file)
            .env("SOPS_AGE_KEY_FILE", &key),
        "veil --ignore-mac",
    );
    assert_same(Kind::Yaml, &by_veil, &by_sops, "--ignore-mac");
    assert!(text(&by_veil).contains("changed-on-disk"));
}

#[test]
fn extract_matches_sops() {
    if !require_peer("sops") {
        return;
    }
    let sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    let yaml = sb.copy_testdata("sops/structure.enc.yaml", "structure.enc.yaml");
    let json = sb.copy_testdata("sops/nested.enc.json", "nested.enc.json");
    // Scalars: exact bytes (a string leaf is printed raw with no newline; YAML ints get "\n").
    for (file, path) in [
        (&yaml, r#"["app"]["name"]"#),
        (&yaml, r#"["app"]["database"]["port"]"#),
        (&yaml, r#"["app"]["servers"][1]["ip"]"#),
        (&yaml, r#"["block_scalars"]["literal"]"#),
        (&yaml, r#"["unicode"]["emoji"]"#),
        (&json, r#"["numbers"]["float"]"#),
        (&json, r#"["array"][1]"#),
        (&json, r#"["bools"][0]"#),
    ] {
        let args = ["decrypt", "--extract", path];
        let by_sops = run_ok(
            sb.sops()
                .args(args)
                .arg(file)
                .env("SOPS_AGE_KEY_FILE", &key),
            path,
        );
        let by_veil = run_ok(
            sb.veil()
                .args(args)
                .arg(file)
                .env("SOPS_AGE_KEY_FILE", &key),
            path,
        );
        assert_eq!(
            text(&by_veil),
            text(&by_sops),
            "--extract {path} of {}",
            file.display()
        );
    }
    // A subtree is printed as a document of the output format: compare as data.
    for (file, path, kind) in [
        (&yaml, r#"["app"]["database"]"#, Kind::Yaml),
        (&yaml, r#"["app"]["servers"]"#, Kind::Yaml),
        (&json, r#"["nested"]"#, Kind::Json),
    ] {
        let args = ["decrypt", "--extract", path];
        let by_sops = run_ok(
            sb.sops()
                .args(args)
                .arg(file)
                .env("SOPS_AGE_KEY_FILE", &key),
            path,
        );
        let by_veil = run_ok(
            sb.veil()
                .args(args)
                .arg(file)
                .env("SOPS_AGE_KEY_FILE", &key),
            path,
        );
        assert_same(kind, &by_veil, &by_sops, &format!("--extract {path}"));
    }
    // A missing key: exit 1 in both.
    let args = ["decrypt", "--extract", r#"["nope"]"#];
    let (s, _, _) = run(sb
        .sops()
        .args(args)
        .arg(&yaml)
        .env("SOPS_AGE_KEY_FILE", &key));
    let (v, _, _) = run(sb
        .veil()
        .args(args)
        .arg(&yaml)
        .env("SOPS_AGE_KEY_FILE", &key));
    assert_eq!(s, Some(1));
    assert_eq!(v, s, "--extract of a missing key");
}

#[test]
fn filestatus_matches_sops() {
    if !require_peer("sops") {
        return;
    }
    let sb = Sandbox::new();
    for (rel, name, expect) in [
        ("sops/scalars.enc.yaml", "a.enc.yaml", true),
        ("sops/nested.enc.json", "b.enc.json", true),
        ("plain/scalars.yaml", "c.yaml", false),
        ("plain/nested.json", "d.json", false),
    ] {
        let file = sb.copy_testdata(rel, name);
        let by_sops = run_ok(sb.sops().arg("filestatus").arg(&file), "sops filestatus");
        let by_veil = run_ok(sb.veil().arg("filestatus").arg(&file), "veil filestatus");
        let s = json_doc(text(&by_sops)).expect("sops filestatus is JSON");
        let v = json_doc(text(&by_veil)).expect("veil filestatus is JSON");
        assert_eq!(
            s.get("encrypted"),
            Some(&Data::Bool(expect)),
            "sops on {rel}"
        );
        assert_eq!(v, s, "veil filestatus on {rel}");
    }
}

// ---------------------------------------------------------------------------------------------
// (b) sops decrypts what veil wrote

/// Checks the `sops` metadata of a veil-written document against sops 3.11's format contract.
#[track_caller]
fn check_metadata(doc: &Data, recipients: &[String], kind: Kind, what: &str) {
    let sops = doc
        .get("sops")
        .unwrap_or_else(|| panic!("{what}: no `sops` metadata"));
    let age = sops
        .get("age")
        .and_then(Data::as_seq)
        .unwrap_or_else(|| panic!("{what}: no age"));
    let got: Vec<&str> = age
        .iter()
        .filter_map(|e| e.get("recipient").and_then(Data::as_str))
        .collect();
    let want: Vec<&str> = recipients.iter().map(String::as_str).collect();
    assert_eq!(got, want, "{what}: age recipients (in the order given)");
    for e in age {
        let enc = e.get("enc").and_then(Data::as_str).unwrap_or("");
        assert!(
            enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"),
            "{what}: age armor"
        );
        assert!(
            enc.ends_with("-----END AGE ENCRYPTED FILE-----\n"),
            "{what}: armor ends with \\n"
        );
    }
    let mac = sops.get("mac").and_then(Data::as_str).unwrap_or("");
    assert!(
        mac.starts_with("ENC[AES256_GCM,data:") && mac.ends_with(",type:str]"),
        "{what}: mac"
    );
    assert!(
        sops.get("lastmodified").and_then(Data::as_str).is_some(),
        "{what}: lastmodified"
    );
    assert!(sops.get("version").is_some(), "{what}: version");
    let suffix = sops.get("unencrypted_suffix").and_then(Data::as_str);
    if kind == Kind::Binary {
        assert_eq!(
            suffix, None,
            "{what}: the binary store writes no encryption rule"
        );
    } else {
        assert_eq!(
            suffix,
            Some("_unencrypted"),
            "{what}: default unencrypted_suffix"
        );
    }
}

/// The parsed documents of an encrypted file (binary files are JSON).
fn encrypted_docs(kind: Kind, bytes: &[u8]) -> Vec<Data> {
    match kind {
        Kind::Yaml => yaml_docs(text(bytes)).expect("veil's output parses as YAML"),
        Kind::Json | Kind::Binary => vec![json_doc(text(bytes)).expect("veil's output is JSON")],
        _ => unreachable!("dotenv/ini metadata is flat"),
    }
}

/// Every `ENC[...]` string leaf of a document (values and list comments), for shape checks.
fn enc_leaves(d: &Data, out: &mut Vec<String>) {
    match d {
        Data::Str(s) if s.starts_with("ENC[") => out.push(s.clone()),
        Data::Seq(items) => items.iter().for_each(|i| enc_leaves(i, out)),
        Data::Map(m) => m
            .iter()
            .filter(|(k, _)| k != "sops")
            .for_each(|(_, v)| enc_leaves(v, out)),
        _ => {}
    }
}

/// `veil encrypt --age R1 --age R2 FILE` (or `--age R1,R2`) → sops decrypts it with R1's and
/// with R2's identity to the plaintext's data; layout-level checks on what veil wrote.
///
/// `comma`: pass the recipients as sops does, one `--age "R1,R2"` (sops's `--age` is a single
/// comma-separated flag; repeating it keeps only the last value in sops 3.11). Otherwise as two
/// `--age` flags, which veil accumulates.
fn check_sops_decrypts_veil(
    plain: &str,
    kind: Kind,
    secrets: &[&str],
    kept_plain: &[&str],
    comma: bool,
) {
    if !require_peer("sops") {
        return;
    }
    let sb = Sandbox::new();
    let name = format!(
        "{}.{}",
        plain.rsplit_once('.').map_or(plain, |p| p.0),
        kind.ext()
    );
    let src = sb.copy_testdata(&format!("plain/{plain}"), &name);
    let (r1, r2) = (TestKey::Age1.recipient(), TestKey::Age2.recipient());
    let joined = format!("{r1},{r2}");
    let age_args: Vec<&str> = if comma {
        vec!["--age", &joined]
    } else {
        vec!["--age", &r1, "--age", &r2]
    };
    let encrypted = run_ok(
        sb.veil().arg("encrypt").args(&age_args).arg(&src),
        &format!("veil encrypt {plain}"),
    );
    assert_eq!(
        sb.read(&name),
        read_testdata(&format!("plain/{plain}")),
        "input was modified"
    );
    let out_name = format!("veil.enc.{}", kind.ext());
    let out = sb.write(&out_name, &encrypted);

    // What veil wrote has sops's shape.
    let docs = encrypted_docs(kind, &encrypted);
    let want_docs = if plain == "multidoc.yaml" { 3 } else { 1 };
    assert_eq!(docs.len(), want_docs, "{plain}: documents in veil's output");
    for (i, d) in docs.iter().enumerate() {
        check_metadata(
            d,
            &[r1.clone(), r2.clone()],
            kind,
            &format!("{plain} doc{i}"),
        );
        let mut leaves = Vec::new();
        enc_leaves(d, &mut leaves);
        assert!(!leaves.is_empty(), "{plain} doc{i}: no ENC values");
        for l in &leaves {
            assert!(
                l.starts_with("ENC[AES256_GCM,data:"),
                "{plain}: default cipher is AES-GCM"
            );
        }
    }
    let enc_text = String::from_utf8_lossy(&encrypted);
    for s in secrets {
        assert!(
            !enc_text.contains(s),
            "{plain}: plaintext {s:?} visible in the encrypted file"
        );
    }
    for s in kept_plain {
        assert!(
            enc_text.contains(s),
            "{plain}: `_unencrypted` value {s:?} should stay plain"
        );
    }
    let status = run_ok(sb.sops().arg("filestatus").arg(&out), "sops filestatus");
    assert_eq!(
        json_doc(text(&status)).expect("json").get("encrypted"),
        Some(&Data::Bool(true)),
        "sops sees veil's file as encrypted"
    );

    // sops decrypts it, with either identity, to the original data.
    let orig = read_testdata(&format!("plain/{plain}"));
    for key in [TestKey::Age1, TestKey::Age2] {
        let by_sops = sops_decrypt(&sb, &out, Ident::KeyFile(key));
        assert_same(
            kind,
            &by_sops,
            &orig,
            &format!("sops decrypt of veil-encrypted {plain} ({key:?})"),
        );
        if kind == Kind::Yaml {
            // The comments sops keeps on its own round trip survive veil's encryption too.
            let fixture_enc = FIXTURES.iter().find(|f| f.plain == plain && f.kind == kind);
            if let Some(f) = fixture_enc {
                let sops_own = sops_decrypt(&sb, &testdata(&format!("sops/{}", f.enc)), f.ident);
                assert_comments_kept(
                    &yaml_comments(text(&sops_own)),
                    &yaml_comments(text(&by_sops)),
                    &format!("sops decrypt of veil-encrypted {plain}"),
                );
            }
        }
    }
}

#[test]
fn sops_decrypts_veil_yaml_every_scalar_type() {
    check_sops_decrypts_veil(
        "scalars.yaml",
        Kind::Yaml,
        &[
            "hello world",
            "it''s quoted",
            "Lorem ipsum",
            "an inline comment",
            "a comment above",
        ],
        &["password_unencrypted: visible-on-disk", "whole: subtree"],
        true,
    );
}

#[test]
fn sops_decrypts_veil_yaml_structure_block_scalars_unicode() {
    check_sops_decrypts_veil(
        "structure.yaml",
        Kind::Yaml,
        &[
            "s3cr3t-TEST-ONLY",
            "db.example.invalid",
            "Grüße",
            "line one",
            "first element",
        ],
        &[],
        false,
    );
}

#[test]
fn sops_decrypts_veil_yaml_multidoc() {
    check_sops_decrypts_veil(
        "multidoc.yaml",
        Kind::Yaml,
        &["first document", "secret: one", "secret: two"],
        &[],
        false,
    );
}

#[test]
fn sops_decrypts_veil_json() {
    check_sops_decrypts_veil(
        "nested.json",
        Kind::Json,
        &["veil-fixture", "Grüße", "quote \\\" backslash"],
        &["\"visible\""],
        true,
    );
}

#[test]
fn sops_decrypts_veil_binary() {
    check_sops_decrypts_veil("blob.bin", Kind::Binary, &[], &[], false);
}

#[test]
fn sops_decrypts_veil_dotenv() {
    if !require_peer("sops") {
        return;
    }
    let sb = Sandbox::new();
    let src = sb.copy_testdata("plain/app.env", "app.env");
    let r1 = TestKey::Age1.recipient();
    let enc = run_ok(
        sb.veil().args(["encrypt", "--age", &r1]).arg(&src),
        "veil encrypt app.env",
    );
    assert!(!text(&enc).contains("abc123-TEST-ONLY"));
    assert!(text(&enc).contains("PUBLIC_unencrypted=not secret"));
    let out = sb.write("veil.enc.env", &enc);
    let by_sops = sops_decrypt(&sb, &out, Ident::KeyFile(TestKey::Age1));
    assert_same(
        Kind::Dotenv,
        &by_sops,
        &read_testdata("plain/app.env"),
        "dotenv",
    );
}

#[test]
fn sops_decrypts_veil_ini() {
    if !require_peer("sops") {
        return;
    }
    let sb = Sandbox::new();
    let src = sb.copy_testdata("plain/app.ini", "app.ini");
    let r1 = TestKey::Age1.recipient();
    let enc = run_ok(
        sb.veil().args(["encrypt", "--age", &r1]).arg(&src),
        "veil encrypt app.ini",
    );
    assert!(!text(&enc).contains("s3cr3t-TEST-ONLY"));
    let out = sb.write("veil.enc.ini", &enc);
    let by_sops = sops_decrypt(&sb, &out, Ident::KeyFile(TestKey::Age1));
    assert_same(Kind::Ini, &by_sops, &read_testdata("plain/app.ini"), "ini");
}

#[test]
fn sops_decrypts_veil_ssh_recipient() {
    if !require_peer("sops") {
        return;
    }
    let sb = Sandbox::new();
    let src = sb.copy_testdata("plain/structure.yaml", "structure.yaml");
    let ssh = ssh_recipient();
    let enc = run_ok(
        sb.veil().args(["encrypt", "--age", &ssh]).arg(&src),
        "veil encrypt --age ssh",
    );
    // sops stores the SSH public key line verbatim, comment included.
    let docs = yaml_docs(text(&enc)).expect("yaml");
    check_metadata(
        &docs[0],
        std::slice::from_ref(&ssh),
        Kind::Yaml,
        "ssh recipient",
    );
    let out = sb.write("veil-ssh.enc.yaml", &enc);
    let by_sops = sops_decrypt(&sb, &out, Ident::SshFile);
    assert_same(
        Kind::Yaml,
        &by_sops,
        &read_testdata("plain/structure.yaml"),
        "ssh recipient",
    );
}

#[test]
fn sops_decrypts_veil_output_file_and_in_place() {
    if !require_peer("sops") {
        return;
    }
    let sb = Sandbox::new();
    let r1 = TestKey::Age1.recipient();
    let plain = read_testdata("plain/structure.yaml");

    // --output FILE: nothing on stdout, the file holds the encrypted document.
    let src = sb.write("a.yaml", &plain);
    let out = sb.path().join("a.enc.yaml");
    let stdout = run_ok(
        sb.veil()
            .args(["encrypt", "--age", &r1, "--output"])
            .arg(&out)
            .arg(&src),
        "veil encrypt --output",
    );
    assert!(stdout.is_empty(), "--output writes nothing to stdout");
    let by_sops = sops_decrypt(&sb, &out, Ident::KeyFile(TestKey::Age1));
    assert_same(Kind::Yaml, &by_sops, &plain, "--output");

    // -i: the file is replaced by its encryption, and `veil decrypt -i` brings the data back.
    let file = sb.write("b.yaml", &plain);
    let stdout = run_ok(
        sb.veil().args(["encrypt", "--age", &r1, "-i"]).arg(&file),
        "encrypt -i",
    );
    assert!(stdout.is_empty(), "-i writes nothing to stdout");
    assert_ne!(sb.read("b.yaml"), plain, "-i must change the file");
    let by_sops = sops_decrypt(&sb, &file, Ident::KeyFile(TestKey::Age1));
    assert_same(Kind::Yaml, &by_sops, &plain, "encrypt -i");
    let key = sb.age_key_file(TestKey::Age1);
    run_ok(
        sb.veil()
            .args(["decrypt", "-i"])
            .arg(&file)
            .env("SOPS_AGE_KEY_FILE", &key),
        "decrypt -i",
    );
    assert_same(Kind::Yaml, &sb.read("b.yaml"), &plain, "decrypt -i");
}

#[test]
fn sops_decrypts_veil_yaml_written_as_json() {
    if !require_peer("sops") {
        return;
    }
    let sb = Sandbox::new();
    let src = sb.write("conv.yaml", "a: 1\nb: [x, {c: true}]\nd: text\ne: 2.5\n");
    let r1 = TestKey::Age1.recipient();
    let enc = run_ok(
        sb.veil()
            .args([
                "encrypt",
                "--age",
                &r1,
                "--input-type",
                "yaml",
                "--output-type",
                "json",
            ])
            .arg(&src),
        "veil encrypt yaml -> json",
    );
    let out = sb.write("conv.enc.json", &enc);
    let by_sops = sops_decrypt(&sb, &out, Ident::KeyFile(TestKey::Age1));
    assert_same(
        Kind::Json,
        &by_sops,
        br#"{"a": 1, "b": ["x", {"c": true}], "d": "text", "e": 2.5}"#,
        "yaml->json",
    );
}

#[test]
fn sops_decrypts_veil_binary_with_unknown_extension_and_empty_lines() {
    if !require_peer("sops") {
        return;
    }
    // Unknown extensions are binary in both tools; a text file comes back byte-exact.
    let sb = Sandbox::new();
    let content = b"line 1\r\n\r\n\ttabbed \xc3\xa9\n\n";
    let src = sb.write("notes.txt", content);
    let r1 = TestKey::Age1.recipient();
    let enc = run_ok(
        sb.veil().args(["encrypt", "--age", &r1]).arg(&src),
        "veil encrypt notes.txt",
    );
    let docs = encrypted_docs(Kind::Binary, &enc);
    assert!(docs[0]
        .get("data")
        .and_then(Data::as_str)
        .is_some_and(|d| d.starts_with("ENC[")));
    let out = sb.write("notes.enc.txt", &enc);
    let by_sops = sops_decrypt(&sb, &out, Ident::KeyFile(TestKey::Age1));
    assert_eq!(by_sops, content.to_vec());
}
