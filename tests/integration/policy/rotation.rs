//! The rotation policy in use: `veil check --staged` refuses an expired file and says how to
//! fix it, decrypt, exec-env, exec-file and edit warn on stderr (once, stdout untouched, quiet when run as
//! `sops`), and `veil rotate` clears both.

use super::{generate, git, EXPIRED};
use crate::support::{run, run_ok, text, Command, Sandbox};

/// veil under the name `sops` (a symlink in the sandbox), as helm-secrets or Ansible run it.
fn as_sops(sb: &Sandbox) -> Command {
    let link = sb.path().join("sops-bin").join("sops");
    if !link.exists() {
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_veil"), &link).unwrap();
    }
    let mut c = Command::new(link);
    sb.isolate(&mut c);
    c
}

const EXPIRED_PLAIN: &str = "db:\n    password: prod-secret-3\n";

fn assert_one_warning(err: &str) {
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with(&format!("warning: {EXPIRED}: the data key is "))
            && lines[0].ends_with(
                "days old, past its max_age of 30d; rotate it: veil rotate -i prod/p03.yaml"
            ),
        "{err}"
    );
}

#[test]
fn check_staged_fails_on_an_expired_file_says_how_to_fix_and_rotate_clears_it() {
    let Some(repo) = generate() else { return };
    let sb = &repo.sb;
    run_ok(git(sb).args(["add", "prod", ".sops.yaml"]), "git add");
    let (code, out, err) = run(sb.veil().args(["check", "--staged"]));
    assert_eq!(code, Some(1), "{err}");
    let out = text(&out);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with(&format!("{EXPIRED}: the data key is "))
            && lines[0].ends_with(
                "days old, past its rule's max_age of 30d (rotate it: `veil rotate -i prod/p03.yaml`, or `veil updatekeys -y --rotate` for many files)"
            ),
        "{out}"
    );
    assert_eq!(
        lines[1],
        "veil check: 1 file(s) past their max_age; rotate them (`veil rotate -i FILE`) before committing"
    );
    run_ok(sb.veil().args(["rotate", "-i", EXPIRED]), "rotate");
    run_ok(git(sb).args(["add", EXPIRED]), "git add");
    let (code, out, err) = run(sb.veil().args(["check", "--staged"]));
    assert_eq!(code, Some(0), "{}{err}", text(&out));
    // The rotated file reads as before, with no warning.
    let (code, out, err) = run(sb.veil().args(["decrypt", EXPIRED]));
    assert_eq!(
        (code, text(&out), err.as_str()),
        (Some(0), EXPIRED_PLAIN, "")
    );
}

#[test]
fn decrypt_exec_and_edit_warn_once_on_stderr_and_leave_stdout_alone() {
    let Some(repo) = generate() else { return };
    let sb = &repo.sb;
    let (code, out, err) = run(sb.veil().args(["decrypt", EXPIRED]));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(text(&out), EXPIRED_PLAIN);
    assert_one_warning(&err);
    // A file within its max_age: nothing.
    let (code, out, err) = run(sb.veil().args(["decrypt", "prod/p00.yaml"]));
    assert_eq!((code, err.as_str()), (Some(0), ""), "{}", text(&out));
    // exec-env: the child's output is untouched, the warning is on veil's stderr.
    let (code, out, err) = run(sb.veil().args(["exec-env", EXPIRED, "echo ran"]));
    assert_eq!((code, text(&out)), (Some(0), "ran\n"), "{err}");
    assert_one_warning(&err);
    // exec-file and edit (an editor that changes nothing) warn the same way, once.
    let (code, out, err) = run(sb.veil().args(["exec-file", EXPIRED, "cat {}"]));
    assert_eq!((code, text(&out)), (Some(0), EXPIRED_PLAIN), "{err}");
    assert_one_warning(&err);
    let (_, _, err) = run(sb.veil().env("EDITOR", "true").args(["edit", EXPIRED]));
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert_one_warning(warnings[0]);
    // --extract takes the same road.
    let (code, out, err) =
        run(sb
            .veil()
            .args(["decrypt", "--extract", r#"["db"]["password"]"#, EXPIRED]));
    assert_eq!((code, text(&out)), (Some(0), "prod-secret-3"), "{err}");
    assert_one_warning(&err);
    // Run as `sops`, stderr stays sops's unless asked; VEIL_ROTATION_WARNING=0 silences veil.
    let (code, out, err) = run(as_sops(sb).args(["-d", EXPIRED]));
    assert_eq!(
        (code, text(&out), err.as_str()),
        (Some(0), EXPIRED_PLAIN, "")
    );
    let (_, _, err) = run(as_sops(sb)
        .env("VEIL_ROTATION_WARNING", "1")
        .args(["-d", EXPIRED]));
    assert_one_warning(&err);
    let (_, _, err) = run(sb
        .veil()
        .env("VEIL_ROTATION_WARNING", "0")
        .args(["decrypt", EXPIRED]));
    assert_eq!(err, "");
}
