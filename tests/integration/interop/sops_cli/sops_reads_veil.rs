//! (b) sops decrypts what veil wrote, in every format, for several recipients and output
//! forms, with the metadata sops expects.

use super::*;

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
