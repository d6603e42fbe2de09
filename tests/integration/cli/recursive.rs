//! `encrypt -r DIR` and `decrypt -r DIR --output-dir OUT`: a tree brought to the wanted state
//! by its `.sops.yaml` creation rules, each file once (a second run changes nothing, bytes and
//! mtimes compared), symlinks and `.git` left alone, one failing file not stopping the others,
//! the real sops reading what `-r` wrote, and plaintext never written inside the tree or an
//! unignored git work tree.

use crate::support::{git, process, require_peer, run, run_ok, text, Sandbox, TestKey};
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

const A: &str = "db:\n    password: tree-secret-a1\n";
const B: &str = "{\"token\": \"tree-secret-b2\"}\n";
const C: &str = "api: tree-secret-c3\n";

/// A sandbox with `.sops.yaml` (files under `secrets/` ending in .yaml/.json/.env, for age
/// key 1) and a tree with: two plaintext files a rule matches, one already encrypted, one no
/// rule matches, a symlink to plaintext outside, and a `.git` directory.
fn tree() -> Sandbox {
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: secrets/.*\\.(yaml|json|env)$\n    age: {}\n",
            TestKey::Age1.recipient()
        ),
    );
    sb.write("secrets/a.yaml", A);
    sb.write("secrets/sub/b.json", B);
    let c = sb.write("secrets/c.yaml", C);
    run_ok(sb.veil().args(["encrypt", "-i"]).arg(&c), "encrypt c");
    sb.write("secrets/readme.txt", "not a secret\n");
    sb.write("outside.yaml", "plain: outside-secret-d4\n");
    std::os::unix::fs::symlink("../outside.yaml", sb.path().join("secrets/link.yaml")).unwrap();
    sb.write("secrets/.git/config.yaml", "git: internal-e5\n");
    sb
}

/// Every file under the sandbox with its bytes and mtime (ns), symlinks as their target.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (Vec<u8>, i64)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.file_type().is_symlink() {
                let t = std::fs::read_link(&p).unwrap();
                out.insert(p, (t.into_os_string().into_encoded_bytes(), 0));
            } else if m.is_dir() {
                stack.push(p);
            } else {
                let ns = m.mtime() * 1_000_000_000 + m.mtime_nsec();
                let bytes = std::fs::read(&p).unwrap();
                out.insert(p, (bytes, ns));
            }
        }
    }
    out
}

fn summary(err: &str) -> &str {
    err.lines().last().unwrap_or("")
}

#[test]
fn encrypt_r_encrypts_what_rules_match_once_and_leaves_everything_else() {
    let sb = tree();
    let c_before = sb.read("secrets/c.yaml");
    // --dry-run lists and changes nothing.
    let before = snapshot(sb.path());
    let (code, out, err) = run(sb.veil().args(["encrypt", "-r", "secrets", "--dry-run"]));
    assert_eq!(code, Some(0), "{err}");
    let listed = text(&out);
    assert!(
        listed.contains("secrets/a.yaml") && listed.contains("secrets/sub/b.json"),
        "{listed}"
    );
    assert!(
        !listed.contains("c.yaml") && !listed.contains("link") && !listed.contains(".git"),
        "{listed}"
    );
    assert_eq!(
        summary(&err),
        "2 to encrypt, 1 already encrypted, 3 skipped, 0 failed"
    );
    assert_eq!(snapshot(sb.path()), before, "--dry-run changed something");

    let (code, _, err) = run(sb.veil().args(["--verbose", "encrypt", "-r", "secrets"]));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        summary(&err),
        "2 encrypted, 1 already encrypted, 3 skipped, 0 failed"
    );
    assert!(
        err.contains("readme.txt: skipped: no creation rule matches"),
        "{err}"
    );
    assert!(err.contains("link.yaml: skipped: a symlink"), "{err}");
    for s in ["tree-secret", "outside-secret", "internal-e5"] {
        assert!(!err.contains(s), "{err}");
    }
    // The matched plaintext files are encrypted, and decrypt to what they were.
    for (name, plain) in [("secrets/a.yaml", A), ("secrets/sub/b.json", B)] {
        let enc = sb.read(name);
        assert!(!text(&enc).contains("tree-secret"), "{name}");
        let back = run_ok(sb.veil().arg("decrypt").arg(name), "decrypt");
        assert_eq!(text(&back), plain, "{name}");
    }
    // Everything else is byte for byte as it was.
    assert_eq!(sb.read("secrets/c.yaml"), c_before);
    assert_eq!(sb.read("outside.yaml"), b"plain: outside-secret-d4\n");
    assert_eq!(sb.read("secrets/.git/config.yaml"), b"git: internal-e5\n");
    assert_eq!(sb.read("secrets/readme.txt"), b"not a secret\n");

    // A second run changes nothing: bytes and mtimes.
    let before = snapshot(sb.path());
    let (code, _, err) = run(sb.veil().args(["encrypt", "-r", "secrets"]));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        summary(&err),
        "0 encrypted, 3 already encrypted, 3 skipped, 0 failed"
    );
    assert_eq!(snapshot(sb.path()), before, "the second run changed a file");

    // The real sops decrypts every file -r encrypted.
    if require_peer("sops") {
        for (name, plain) in [("secrets/a.yaml", A), ("secrets/sub/b.json", B)] {
            let back = run_ok(sb.sops().arg("decrypt").arg(name), "sops decrypt");
            if name.ends_with(".json") {
                let v: serde_json::Value = serde_json::from_slice(&back).unwrap();
                assert_eq!(v, serde_json::from_str::<serde_json::Value>(plain).unwrap());
            } else {
                assert_eq!(text(&back), plain, "{name}");
            }
        }
    }
}

#[test]
fn encrypt_r_goes_on_past_a_failing_file_and_exits_non_zero() {
    let sb = tree();
    sb.write("secrets/broken.json", "{\"token\": \"tree-secret-f6\",\n");
    // A rule whose key cannot be used: a Vault transit key on a closed port, without a token.
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: secrets/vault/.*\n    hc_vault_transit_uri: http://127.0.0.1:9/v1/transit/keys/k\n  - path_regex: secrets/.*\\.(yaml|json|env)$\n    age: {}\n",
            TestKey::Age1.recipient()
        ),
    );
    sb.write("secrets/vault/v.yaml", "v: tree-secret-g7\n");
    let (code, _, err) = run(sb.veil().args(["encrypt", "-r", "secrets"]));
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("secrets/broken.json"), "{err}");
    assert!(err.contains("secrets/vault/v.yaml"), "{err}");
    assert!(!err.contains("tree-secret"), "{err}");
    assert_eq!(
        summary(&err),
        "2 encrypted, 1 already encrypted, 3 skipped, 2 failed"
    );
    assert_eq!(sb.read("secrets/vault/v.yaml"), b"v: tree-secret-g7\n");
    assert_eq!(
        sb.read("secrets/broken.json"),
        b"{\"token\": \"tree-secret-f6\",\n"
    );
    assert!(!text(&sb.read("secrets/a.yaml")).contains("tree-secret-a1"));
    assert!(!text(&sb.read("secrets/sub/b.json")).contains("tree-secret-b2"));
}

#[test]
fn decrypt_r_writes_private_plaintext_outside_the_tree_and_skips_identical_outputs() {
    let sb = tree();
    run_ok(sb.veil().args(["encrypt", "-r", "secrets"]), "encrypt -r");
    let out = sb.path().join("plain");
    let (code, _, err) = run(sb
        .veil()
        .args(["decrypt", "-r", "secrets", "--output-dir"])
        .arg(&out));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        summary(&err),
        "3 decrypted, 0 unchanged, 3 skipped, 0 failed"
    );
    assert_eq!(std::fs::read(out.join("a.yaml")).unwrap(), A.as_bytes());
    assert_eq!(std::fs::read(out.join("sub/b.json")).unwrap(), B.as_bytes());
    assert_eq!(std::fs::read(out.join("c.yaml")).unwrap(), C.as_bytes());
    assert!(!out.join("readme.txt").exists() && !out.join("link.yaml").exists());
    assert!(!out.join(".git").exists());
    let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(out.join("sub")), 0o700);
    assert_eq!(mode(out.join("sub/b.json")), 0o600);
    assert_eq!(mode(out.join("a.yaml")), 0o600);

    // Again: nothing written, mtimes kept; a changed output is rewritten.
    std::fs::write(out.join("c.yaml"), "stale\n").unwrap();
    let before = snapshot(&out);
    let (code, _, err) = run(sb
        .veil()
        .args(["decrypt", "-r", "secrets", "--output-dir"])
        .arg(&out));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        summary(&err),
        "1 decrypted, 2 unchanged, 3 skipped, 0 failed"
    );
    let after = snapshot(&out);
    for f in ["a.yaml", "sub/b.json"] {
        assert_eq!(before[&out.join(f)], after[&out.join(f)], "{f} was touched");
    }
    assert_eq!(std::fs::read(out.join("c.yaml")).unwrap(), C.as_bytes());
    // The encrypted tree itself is untouched by decrypt -r.
    assert!(!text(&sb.read("secrets/a.yaml")).contains("tree-secret-a1"));
}

#[test]
fn decrypt_r_refuses_an_output_dir_inside_the_tree_or_an_unignored_git_work_tree() {
    let sb = tree();
    run_ok(sb.veil().args(["encrypt", "-r", "secrets"]), "encrypt -r");
    // Inside DIR.
    let (code, out, err) =
        run(sb
            .veil()
            .args(["decrypt", "-r", "secrets", "--output-dir", "secrets/plain"]));
    assert_eq!(code, Some(8), "{err}");
    assert!(out.is_empty() && err.contains("hint:"), "{err}");
    assert!(!sb.path().join("secrets/plain").exists());
    // Inside a git work tree, not ignored.
    git(&sb, &["init", "-q"]);
    let (code, _, err) = run(sb
        .veil()
        .args(["decrypt", "-r", "secrets", "--output-dir", "plain"]));
    assert_eq!(code, Some(8), "{err}");
    assert!(err.contains("git") && err.contains("hint:"), "{err}");
    assert!(!sb.path().join("plain").exists());
    // Ignored there: allowed.
    sb.write(".gitignore", "plain/\n");
    let (code, _, err) = run(sb
        .veil()
        .args(["decrypt", "-r", "secrets", "--output-dir", "plain"]));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        std::fs::read(sb.path().join("plain/a.yaml")).unwrap(),
        A.as_bytes()
    );
    let status = git(&sb, &["status", "--porcelain"]);
    assert!(!status.contains("plain"), "{status}");
}

/// A sandbox whose tree holds one encrypted file, `secrets/sub/b.yaml` (a rule matches it), so
/// a held write (`VEIL_TEST_HOLD_WRITE`) is the only one.
fn one_file_tree() -> Sandbox {
    let sb = process::sandbox();
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: {}\n",
            TestKey::Age1.recipient()
        ),
    );
    let b = sb.write("secrets/sub/b.yaml", A);
    run_ok(sb.veil().args(["encrypt", "-i"]).arg(&b), "encrypt b");
    sb
}

/// The regular files veil `pid` has open under `dir` (the temp file of a write, named or not).
fn open_files_under(pid: u32, dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap() {
        let fd = e.unwrap().path();
        let (Ok(link), Ok(m)) = (std::fs::read_link(&fd), std::fs::metadata(&fd)) else {
            continue;
        };
        if link.starts_with(dir) && m.is_file() {
            out.push((link, m.permissions().mode() & 0o7777));
        }
    }
    out
}

/// An older output that others may read (0644) is replaced by a file that is 0600 from its
/// creation: at the moment before the rename, the new plaintext is already private (it used to
/// take the old file's mode first and be narrowed only after the rename).
#[test]
fn decrypt_r_never_gives_new_plaintext_the_mode_of_an_older_output() {
    let sb = one_file_tree();
    let out = sb.path().join("plain");
    std::fs::create_dir_all(out.join("sub")).unwrap();
    for d in [&out, &out.join("sub")] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    std::fs::write(out.join("sub/b.yaml"), "stale\n").unwrap();
    std::fs::set_permissions(
        out.join("sub/b.yaml"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let mut cmd = process::veil(&sb);
    cmd.args(["decrypt", "-r", "secrets", "--output-dir"])
        .arg(&out);
    let (mut child, hold, _reaper) = process::start_held(&sb, &mut cmd);
    // /proc shows resolved paths.
    let real = std::fs::canonicalize(&out).unwrap();
    let open = open_files_under(child.id(), &real);
    let temps: Vec<_> = open
        .iter()
        .filter(|(p, _)| *p != real.join("sub/b.yaml"))
        .collect();
    assert!(!temps.is_empty(), "no temp file open under OUT: {open:?}");
    for (p, mode) in &temps {
        assert_eq!(
            mode & 0o077,
            0,
            "{} is {mode:o} before the rename",
            p.display()
        );
    }
    std::fs::remove_file(&hold).unwrap();
    let st = child.wait().unwrap();
    assert!(st.success(), "{st}");
    let m = std::fs::metadata(out.join("sub/b.yaml")).unwrap();
    assert_eq!(m.permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::read(out.join("sub/b.yaml")).unwrap(), A.as_bytes());
}

/// A directory under OUT swapped for a symlink while the plaintext is being written does not
/// send the plaintext where the link points: the write goes on through the directory that was
/// opened (now under its new name), and a symlink there before the run is refused.
#[test]
fn decrypt_r_never_writes_through_a_symlink_planted_under_the_output_dir() {
    let sb = one_file_tree();
    let out = sb.path().join("plain");
    let elsewhere = sb.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let mut cmd = process::veil(&sb);
    cmd.args(["decrypt", "-r", "secrets", "--output-dir"])
        .arg(&out);
    let (mut child, hold, _reaper) = process::start_held(&sb, &mut cmd);
    std::fs::rename(out.join("sub"), out.join("sub.moved")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("sub")).unwrap();
    std::fs::remove_file(&hold).unwrap();
    let _ = child.wait().unwrap();
    let leaked: Vec<_> = std::fs::read_dir(&elsewhere).unwrap().collect();
    assert!(
        leaked.is_empty(),
        "plaintext written through the symlink: {leaked:?}"
    );
    assert_eq!(
        std::fs::read(out.join("sub.moved/b.yaml")).unwrap(),
        A.as_bytes()
    );

    // Run again with the symlink in place: refused, named, nothing written there.
    let (code, _, err) = run(sb
        .veil()
        .args(["decrypt", "-r", "secrets", "--output-dir"])
        .arg(&out));
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("is a symlink"), "{err}");
    assert_eq!(
        summary(&err),
        "0 decrypted, 0 unchanged, 0 skipped, 1 failed"
    );
    assert!(std::fs::read_dir(&elsewhere).unwrap().next().is_none());
}

/// OUT must be the user's own and not writable by others; a directory in it too.
#[test]
fn decrypt_r_refuses_an_output_dir_others_can_write_to() {
    let sb = one_file_tree();
    let out = sb.path().join("plain");
    std::fs::create_dir(&out).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (code, _, err) = run(sb
        .veil()
        .args(["decrypt", "-r", "secrets", "--output-dir"])
        .arg(&out));
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("writable by other users") && err.contains("hint:"),
        "{err}"
    );
    assert!(std::fs::read_dir(&out).unwrap().next().is_none());
    // A group-writable directory inside an otherwise private OUT.
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::create_dir(out.join("sub")).unwrap();
    std::fs::set_permissions(out.join("sub"), std::fs::Permissions::from_mode(0o770)).unwrap();
    let (code, _, err) = run(sb
        .veil()
        .args(["decrypt", "-r", "secrets", "--output-dir"])
        .arg(&out));
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("writable by other users"), "{err}");
    assert!(!out.join("sub/b.yaml").exists());
}

/// An OUT that holds DIR would put plaintext over the encrypted tree (DIR=/d/s, OUT=/d writes
/// /d/s/x.yaml from /d/s/s/x.yaml); and `link/..` in OUT is resolved where the link points,
/// not cancelled in the text.
#[test]
fn decrypt_r_refuses_an_output_dir_holding_the_tree_or_reaching_it_through_a_link() {
    let sb = tree();
    run_ok(sb.veil().args(["encrypt", "-r", "secrets"]), "encrypt -r");
    let before = snapshot(sb.path());
    let (code, _, err) = run(sb
        .veil()
        .args(["decrypt", "-r", "secrets", "--output-dir", "."]));
    assert_eq!(code, Some(8), "{err}");
    assert!(err.contains("holds") && err.contains("hint:"), "{err}");
    assert_eq!(snapshot(sb.path()), before, "something was written");
    // `into/..` is secrets/ (the link points to secrets/sub), so this OUT is secrets/plain.
    std::os::unix::fs::symlink("secrets/sub", sb.path().join("into")).unwrap();
    let (code, _, err) =
        run(sb
            .veil()
            .args(["decrypt", "-r", "secrets", "--output-dir", "into/../plain"]));
    assert_eq!(code, Some(8), "{err}");
    assert!(err.contains("inside"), "{err}");
    assert!(!sb.path().join("secrets/plain").exists());
    assert!(!sb.path().join("plain").exists());
}

/// A FIFO and a symlink in the tree are passed over; veil does not block opening the FIFO.
#[test]
fn encrypt_r_skips_a_fifo_and_a_symlink_without_blocking() {
    let sb = tree();
    let fifo = sb.path().join("secrets/pipe.yaml");
    let st = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(st.success());
    let (code, _, err) = run(sb.veil().args(["--verbose", "encrypt", "-r", "secrets"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("pipe.yaml: skipped: not a regular file"),
        "{err}"
    );
    assert!(err.contains("link.yaml: skipped: a symlink"), "{err}");
    assert_eq!(
        summary(&err),
        "2 encrypted, 1 already encrypted, 4 skipped, 0 failed"
    );
}

/// A damaged encrypted file (cut off) that a rule matches is a failure of `decrypt -r`, named,
/// with a non-zero exit; not "skipped: not encrypted".
#[test]
fn decrypt_r_reports_a_cut_off_encrypted_file_as_a_failure() {
    let sb = tree();
    run_ok(sb.veil().args(["encrypt", "-r", "secrets"]), "encrypt -r");
    let enc = sb.read("secrets/c.yaml");
    // Cut before the sops block: what is left parses, but carries no metadata.
    let at = text(&enc).find("sops:").unwrap();
    sb.write("secrets/c.yaml", &enc[..at]);
    // A JSON file cut in the middle does not parse at all.
    let b = sb.read("secrets/sub/b.json");
    sb.write("secrets/sub/b.json", &b[..b.len() / 2]);
    let out = sb.path().join("plain");
    let (code, _, err) = run(sb
        .veil()
        .args(["decrypt", "-r", "secrets", "--output-dir"])
        .arg(&out));
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains("secrets/c.yaml") && err.contains("no sops metadata"),
        "{err}"
    );
    assert!(
        err.contains("secrets/sub/b.json") && err.contains("cannot be parsed"),
        "{err}"
    );
    assert!(!err.contains("tree-secret"), "{err}");
    assert_eq!(
        summary(&err),
        "1 decrypted, 0 unchanged, 3 skipped, 2 failed"
    );
    assert_eq!(std::fs::read(out.join("a.yaml")).unwrap(), A.as_bytes());
}

/// A file with sops metadata whose value a rule says must be encrypted is plaintext is not
/// "already encrypted": `encrypt -r` fails on it, names it and says how to see what is wrong,
/// never printing the value.
#[test]
fn encrypt_r_fails_on_an_encrypted_file_holding_a_plaintext_value() {
    let sb = tree();
    let enc = text(&sb.read("secrets/c.yaml")).to_string();
    let line = enc.lines().find(|l| l.starts_with("api: ENC[")).unwrap();
    sb.write(
        "secrets/c.yaml",
        enc.replace(line, "api: tree-secret-plain-h8"),
    );
    let (code, _, err) = run(sb.veil().args(["encrypt", "-r", "secrets"]));
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains("secrets/c.yaml") && err.contains("plaintext value"),
        "{err}"
    );
    assert!(err.contains("veil check"), "{err}");
    assert!(!err.contains("tree-secret"), "{err}");
    assert_eq!(
        summary(&err),
        "2 encrypted, 0 already encrypted, 3 skipped, 1 failed"
    );
    assert!(text(&sb.read("secrets/c.yaml")).contains("api: tree-secret-plain-h8"));
}
