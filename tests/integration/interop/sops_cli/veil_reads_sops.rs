//! (a) veil decrypts what sops wrote: every fixture in `testdata/sops/`, the ways sops finds an
//! age key, and the exit codes and outputs of `decrypt`, `extract` and `filestatus` on them.

use super::*;

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
