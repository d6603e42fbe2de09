//! Self-tests of the support module (its comparators decide whether veil agrees with sops, so
//! they must be able to fail; its sandbox must really be private).

use crate::support::*;

#[test]
fn yaml_resolution_follows_go_yaml_v3() {
    let d = yaml_docs(
        "a: yes\nb: 0x1F\nc: 0o17\nd: 3.0\ne: .nan\nf: 2024-01-01\ng: '1'\nh: ~\ni: 1e3\nj: 017\n",
    )
    .unwrap();
    let m = &d[0];
    assert_eq!(m.get("a"), Some(&Data::Str("yes".into())));
    assert_eq!(m.get("b"), Some(&Data::Int(31)));
    assert_eq!(m.get("c"), Some(&Data::Int(15)));
    assert_eq!(m.get("d"), Some(&Data::Int(3)));
    assert_eq!(m.get("e"), Some(&Data::Float(f64::NAN)));
    assert_eq!(
        m.get("f"),
        yaml_docs("f: 2024-01-01T00:00:00Z").unwrap()[0].get("f")
    );
    assert_eq!(m.get("g"), Some(&Data::Str("1".into())));
    assert_eq!(m.get("h"), Some(&Data::Null));
    assert_eq!(m.get("i"), Some(&Data::Float(1000.0)));
    assert_eq!(m.get("j"), Some(&Data::Int(15)));
    assert_ne!(m.get("g"), Some(&Data::Int(1)));
    assert_ne!(m.get("a"), Some(&Data::Bool(true)));
}

#[test]
fn go_ints_and_floats() {
    assert_eq!(parse_go_int("9223372036854775807"), Some(i64::MAX as i128));
    assert_eq!(parse_go_int("9223372036854775808"), None);
    assert_eq!(parse_go_int("-0b101"), Some(-5));
    assert_eq!(parse_go_int("1_000"), Some(1000));
    assert_eq!(parse_go_int("1.5"), None);
    assert!(is_yaml_float("1.5e10"));
    assert!(is_yaml_float(".5"));
    assert!(is_yaml_float("-1."));
    assert!(!is_yaml_float("1e"));
    assert!(!is_yaml_float("e5"));
    assert!(!is_yaml_float("1.2.3"));
}

#[test]
fn timestamps_compare_as_instants() {
    let a = parse_yaml_timestamp("2006-01-02T15:04:05+07:06").unwrap();
    let b = parse_yaml_timestamp("2006-01-02T07:58:05Z").unwrap();
    assert_eq!(a, b);
    let c = parse_yaml_timestamp("2025-01-02 03:04:05.123").unwrap();
    let d = parse_yaml_timestamp("2025-01-02T03:04:05.123Z").unwrap();
    assert_eq!(c, d);
    assert_ne!(c, parse_yaml_timestamp("2025-01-02T03:04:05.124Z").unwrap());
    assert_eq!(parse_yaml_timestamp("1970-01-01"), Some(0));
    assert_eq!(parse_yaml_timestamp("1970-01-02"), Some(86_400_000_000_000));
    assert_eq!(parse_yaml_timestamp("not a time"), None);
    assert_eq!(parse_yaml_timestamp("2024-13-01"), None);
}

#[test]
fn multi_documents_and_aliases() {
    let d = yaml_docs("a: &x [1, 2]\nb: *x\n---\nc: 3\n").unwrap();
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].get("a"), d[0].get("b"));
    assert!(first_difference(&d[0], &d[1], "").is_some());
    assert_eq!(yaml_docs("").unwrap().len(), 0);
    assert!(yaml_docs("a: [1, 2").is_err());
}

#[test]
fn map_order_and_quoting_matter_as_sops_sees_them() {
    let a = yaml_docs("x: 1\ny: '2'\n").unwrap();
    let b = yaml_docs("x: 1\ny: 2\n").unwrap();
    let c = yaml_docs("y: '2'\nx: 1\n").unwrap();
    let d = yaml_docs("x: 1.0\ny: \"2\"\n").unwrap();
    assert_ne!(a, b);
    assert_ne!(a, c);
    assert_eq!(a, d);
}

#[test]
fn json_numbers_are_float64() {
    let a = json_doc(r#"{"n": 12345678901234567890, "m": 1}"#).unwrap();
    let b = json_doc(r#"{"n": 12345678901234567000, "m": 1.0}"#).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, json_doc(r#"{"n": 1, "m": 1}"#).unwrap());
}

#[test]
fn comments_are_found_outside_quotes_and_blocks() {
    let c = yaml_comments("# top\na: 'x # no' # yes\nb: |\n  # inside block\nc: 1 #tail\n");
    assert_eq!(c, vec!["top", "yes", "tail"]);
}

#[test]
fn ini_and_dotenv_parse() {
    let s = ini_sections("k = v\n[s]\n; c\na = \"q\"\n");
    assert_eq!(
        s[0],
        (
            "DEFAULT".to_string(),
            vec![("k".to_string(), "v".to_string())]
        )
    );
    assert_eq!(s[1].1, vec![("a".to_string(), "q".to_string())]);
    let d = dotenv_pairs("#c\nA=1\\n2\n\nB=\"x\"\n").unwrap();
    assert_eq!(d[1], ("A".to_string(), "1\n2".to_string()));
    assert_eq!(d[2], ("B".to_string(), "\"x\"".to_string()));
    assert!(dotenv_pairs("novalue\n").is_err());
}

#[test]
fn sandbox_is_private_and_scrubbed() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let mode = std::fs::metadata(sb.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    let key = sb.age_key_file(TestKey::Age1);
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // A child sees the sandbox HOME, fake cloud credentials, and nothing else of ours.
    let mut cmd = Command::new("/usr/bin/env");
    sb.isolate(&mut cmd);
    let out = String::from_utf8(cmd.output().unwrap().stdout).unwrap();
    assert!(out.contains(&format!("HOME={}\n", sb.home().display())));
    assert!(out.contains("AWS_EC2_METADATA_DISABLED=true\n"));
    let allowed_set = [
        "HOME",
        "XDG_CONFIG_HOME",
        "GNUPGHOME",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_EC2_METADATA_DISABLED",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "GOOGLE_OAUTH_ACCESS_TOKEN",
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        "SOPS_DISABLE_VERSION_CHECK",
        "LC_ALL",
        "VEIL_AGENT",
    ];
    for line in out.lines() {
        let key = line.split('=').next().unwrap();
        assert!(
            allowed_set.contains(&key) || INHERITED_VARS.contains(&key),
            "variable leaked into the sandbox: {key}"
        );
    }
}

#[test]
fn test_keys_match_their_recipients() {
    // The committed .pub files must be the public halves of the committed identities.
    for k in [TestKey::Age1, TestKey::Age2, TestKey::AgeUnrelated] {
        let id = String::from_utf8(read_testdata(k.identity_file())).unwrap();
        let line = id
            .lines()
            .find(|l| l.starts_with("# public key: "))
            .unwrap();
        assert_eq!(line.trim_start_matches("# public key: "), k.recipient());
    }
    assert!(ssh_recipient().starts_with("ssh-ed25519 "));
}

#[test]
fn gpg_test_key_has_an_encryption_subkey() {
    if !require_peer("gpg") {
        return;
    }
    let sb = Sandbox::new();
    let fpr = sb.gpg_test_key();
    assert_eq!(fpr.len(), 40);
    let mut cmd = sb.peer("gpg");
    cmd.args(["--batch", "--with-colons", "--list-keys", &fpr]);
    let out = run_ok(&mut cmd, "gpg --list-keys");
    // A `sub` line whose capabilities (field 12) include `e`.
    let encrypts = |l: &str| l.split(':').nth(11).is_some_and(|c| c.contains('e'));
    assert!(
        text(&out)
            .lines()
            .any(|l| l.starts_with("sub:") && encrypts(l)),
        "no encryption subkey: {}",
        text(&out)
    );
}

#[test]
fn peer_servers_serve_sops_vault_transit_and_kms() {
    // The servers `scripts/peers.sh start` runs are reachable through the harness's env, and the
    // real sops can use them: the key-backend and publish tests rely on both.
    if !require_peer("sops") {
        return;
    }
    let Some(env) = require_servers() else { return };
    let get = |k: &str| {
        env.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{k} missing from env.sh"))
    };
    assert_eq!(get("AWS_EC2_METADATA_DISABLED"), "true");
    assert!(get("VAULT_ADDR").starts_with("http://127.0.0.1:"));
    assert!(get("AWS_ENDPOINT_URL").starts_with("http://127.0.0.1:"));
    let mut sb = Sandbox::new();
    sb.with_peer_env(&env);
    let src = sb.write("s.yaml", "secret: value-TEST-ONLY\n");
    let mut enc = sb.sops();
    enc.args([
        "encrypt",
        "--hc-vault-transit",
        &get("VEIL_TEST_VAULT_TRANSIT_URI"),
    ])
    .args(["--kms", &get("VEIL_TEST_KMS_ARN")])
    .arg(&src);
    let out = run_ok(&mut enc, "sops encrypt with vault + kms");
    assert!(
        text(&out).contains("vault:v1:"),
        "vault transit ciphertext stored"
    );
    assert!(
        text(&out).contains(&get("VEIL_TEST_KMS_ARN")),
        "kms entry stored"
    );
    let file = sb.write("s.enc.yaml", &out);
    let mut dec = sb.sops();
    dec.arg("decrypt").arg(&file);
    assert_eq!(
        text(&run_ok(&mut dec, "sops decrypt via vault/kms")),
        "secret: value-TEST-ONLY\n"
    );
}
