//! The access and rotation policy: `veil access` on a generated repository and on hand-written
//! files (JSON golden), `veil check --staged` on an expired file, the rotation warning of
//! decrypt/exec-env, and the real sops 3.11 working in a repository that carries the policy.

mod access;
mod rotation;

use crate::support::{peer_path, require_peer, run_ok, Command, Sandbox, TestKey};

/// git in the sandbox, with the user's config out of reach.
pub fn git(sb: &Sandbox) -> Command {
    let mut c = Command::new("git");
    sb.isolate(&mut c);
    c.env("GIT_CONFIG_NOSYSTEM", "1");
    c
}

/// The generated repository: 50 files under three rules, and what was planted in it.
pub struct Repo {
    pub sb: Sandbox,
    /// The PGP key of rule 1.
    pub fpr: String,
}

/// Files planted to be found; everything else must be clean.
pub const EXPIRED: &str = "prod/p03.yaml";
pub const PLAINTEXT: &str = "dev/plain.env";
pub const ORPHAN: &str = "misc/orphan.yaml";
pub const STALE: [&str; 3] = ["staging/s02.yaml", "staging/s07.yaml", "staging/s11.yaml"];

fn config(fpr: &str) -> String {
    let (a1, a2) = (TestKey::Age1.recipient(), TestKey::Age2.recipient());
    format!(
        "veil:\n  key_names:\n    alice: {a1}\n    bob: {a2}\n    ops: {fpr}\n  max_age: 90d\n\
         creation_rules:\n  - path_regex: ^prod/\n    age: {a1}\n    pgp: {fpr}\n    veil_max_age: 30d\n\
         \x20 - path_regex: ^staging/\n    age: {a1}\n    veil_max_age: none\n\
         \x20 - path_regex: ^dev/\n    age: {a1}\n"
    )
}

/// Build it: `.sops.yaml` with the policy; prod/ (10 files, age + PGP, `max_age` 30d, one with
/// its `created_at` set back to 2020 — not under the MAC, so the file stays valid), staging/ (20
/// files, three of them also encrypted for bob, whom the rule does not name), dev/ (18 dotenv
/// files, one left in plaintext), and one encrypted file no rule matches. A git repository with
/// everything committed. `None` when a peer is missing outside CI.
pub fn generate() -> Option<Repo> {
    if !require_peer("gpg") {
        return None;
    }
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    sb.set_env("SOPS_GPG_EXEC", peer_path("gpg").expect("gpg"));
    let fpr = sb.gpg_test_key();
    let mut count = 0;
    let encrypt = |sb: &Sandbox, path: &str, plain: String, extra: &[String]| {
        sb.write(path, plain);
        run_ok(
            sb.veil().arg("encrypt").arg("-i").args(extra).arg(path),
            &format!("encrypt {path}"),
        );
    };
    // Encrypted before .sops.yaml exists (with one, a path no rule matches cannot be encrypted).
    encrypt(
        &sb,
        ORPHAN,
        "x: orphan-secret\n".into(),
        &["--age".into(), TestKey::Age1.recipient()],
    );
    count += 1;
    sb.write(".sops.yaml", config(&fpr));
    for i in 0..10 {
        encrypt(
            &sb,
            &format!("prod/p{i:02}.yaml"),
            format!("db:\n    password: prod-secret-{i}\n"),
            &[],
        );
        count += 1;
    }
    let both = format!(
        "{},{}",
        TestKey::Age1.recipient(),
        TestKey::Age2.recipient()
    );
    for i in 0..20 {
        let path = format!("staging/s{i:02}.yaml");
        let extra = if STALE.contains(&path.as_str()) {
            vec!["--age".to_string(), both.clone()]
        } else {
            vec![]
        };
        encrypt(&sb, &path, format!("token: staging-secret-{i}\n"), &extra);
        count += 1;
    }
    for i in 0..17 {
        encrypt(
            &sb,
            &format!("dev/d{i:02}.env"),
            format!("API_KEY=dev-secret-{i}\n"),
            &[],
        );
        count += 1;
    }
    sb.write(PLAINTEXT, "DB_PASSWORD=plain-secret\n");
    count += 1;
    assert_eq!(count, 49);
    // …and the 50th: a file no rule matches that is not encrypted is not a secrets file, and
    // must not be reported.
    sb.write("README.md", "# the repo\n");
    // Expire one file: its PGP key's created_at goes back to 2020.
    let p = sb.path().join(EXPIRED);
    let text = String::from_utf8(std::fs::read(&p).unwrap()).unwrap();
    let re = regex::Regex::new(r#"created_at: "[^"]+""#).unwrap();
    assert_eq!(re.find_iter(&text).count(), 1, "{text}");
    let old = re.replace(&text, r#"created_at: "2020-01-01T00:00:00Z""#);
    std::fs::write(&p, old.as_bytes()).unwrap();
    run_ok(git(&sb).args(["init", "-q", "-b", "main"]), "git init");
    Some(Repo { sb, fpr })
}
