//! Two writers and what a rewrite keeps: concurrent `set`s lose nothing (the second waits for
//! the first, and says so when that takes a moment), a change made while a writer worked is
//! never undone (by `edit`, by a writer whose file was replaced by a program that ignores the
//! lock), the owner, group and mode survive a rewrite, and a file with other hard links is
//! refused unless `--force`.

use crate::support;
use crate::support::process::*;
use crate::support::{run, run_ok, TestKey};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Stdio;

/// Twenty pairs of `set` started at once on different keys of one file: every value lands.
#[test]
fn twenty_concurrent_set_pairs_lose_nothing() {
    let sb = sandbox();
    let f = encrypted(&sb, "f.yaml", PLAIN);
    let mut children = Vec::new();
    for i in 0..40 {
        let mut c = veil(&sb);
        c.arg("set")
            .arg(&f)
            .arg(format!(r#"["k{i}"]"#))
            .arg(format!(r#""v{i}""#))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        children.push(c.spawn().unwrap());
    }
    for (i, c) in children.into_iter().enumerate() {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "set {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = decrypt(&sb, &f);
    for i in 0..40 {
        assert!(
            text.contains(&format!("k{i}: v{i}\n")),
            "k{i} lost:\n{text}"
        );
    }
    assert!(text.contains(SECRET), "the original values stay");
}

/// A second writer waits for the first (holding its lock until its rename), says so after a
/// moment, and then changes the first one's result, not the version it would have read before.
#[test]
fn a_second_writer_waits_says_so_and_builds_on_the_first() {
    let sb = sandbox();
    let f = encrypted(&sb, "f.yaml", PLAIN);
    let (mut first, hold, _reap) = start_held(
        &sb,
        veil(&sb).arg("set").arg(&f).args([r#"["first"]"#, "1"]),
    );
    let err_path = sb.path().join("second.err");
    let mut second = veil(&sb);
    second
        .arg("set")
        .arg(&f)
        .args([r#"["second"]"#, "2"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap());
    let mut second = second.spawn().unwrap();
    wait_until("the second writer to say it waits", || {
        std::fs::read_to_string(&err_path).is_ok_and(|e| e.contains("waiting for another veil"))
    });
    assert!(second.try_wait().unwrap().is_none(), "it must still wait");
    std::fs::remove_file(&hold).unwrap();
    assert!(wait_exit(&mut first, "first").success());
    let st = wait_exit(&mut second, "second");
    assert!(
        st.success(),
        "{}",
        std::fs::read_to_string(&err_path).unwrap()
    );
    let text = decrypt(&sb, &f);
    assert!(
        text.contains("first: 1\n") && text.contains("second: 2\n"),
        "{text}"
    );
}

/// A program that ignores the lock (sops, git, cp) replaces the file while veil works on it:
/// veil refuses to write over that version.
#[test]
fn a_change_by_a_program_ignoring_the_lock_is_not_overwritten() {
    let sb = sandbox();
    let f = encrypted(&sb, "f.yaml", PLAIN);
    let other = encrypted(&sb, "other.yaml", "theirs: 1\n");
    let (child, hold, _reap) =
        start_held(&sb, veil(&sb).arg("set").arg(&f).args([r#"["mine"]"#, "1"]));
    std::fs::rename(&other, &f).unwrap();
    let theirs = std::fs::read(&f).unwrap();
    std::fs::remove_file(&hold).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("changed on disk"), "{err}");
    assert_eq!(std::fs::read(&f).unwrap(), theirs);
    assert_eq!(leftovers(sb.path()), Vec::<String>::new());
}

/// While the editor is open, another command changes the file. Writing the edit would undo
/// that change: `edit` refuses (exit 3, saying so), keeps the file as the other command left it,
/// and without a terminal to ask on, discards the edit with its private directory.
#[test]
fn edit_refuses_to_overwrite_a_file_changed_while_the_editor_was_open() {
    for other_writer in ["veil set", "cp"] {
        let sb = sandbox();
        let f = encrypted(&sb, "f.yaml", PLAIN);
        let replacement = encrypted(&sb, "replacement.yaml", "replaced: 1\n");
        let change = match other_writer {
            "veil set" => format!(
                "{veil} set {f} '[\"other\"]' '\"from-set\"'",
                veil = env!("CARGO_BIN_EXE_veil"),
                f = f.display()
            ),
            _ => format!("cp {} {}", replacement.display(), f.display()),
        };
        let ed = script(
            &sb,
            "ed.sh",
            &format!("{change} || exit 9\nsed -i 's/admin/edit-$$-mine/' \"$1\""),
        );
        let (code, _, err) = run(sb.veil().env("EDITOR", &ed).arg("edit").arg(&f));
        assert_eq!(code, Some(3), "{other_writer}: {err}");
        assert!(
            err.contains("changed on disk while the editor was open"),
            "{err}"
        );
        assert!(err.contains("discarded"), "{err}");
        let text = decrypt(&sb, &f);
        assert!(
            !text.contains("-mine"),
            "{other_writer}: the edit was written"
        );
        match other_writer {
            "veil set" => assert!(text.contains("other: from-set"), "{text}"),
            _ => assert_eq!(text, "replaced: 1\n"),
        }
        assert_eq!(leftovers(sb.path()), Vec::<String>::new());
        assert_eq!(
            files_containing(sb.path(), "-mine"),
            [sb.path().join("ed.sh")],
            "the edited plaintext was left somewhere"
        );
    }
}

/// `edit` of a new file: if the file appears while the editor is open, it is not overwritten.
#[test]
fn edit_of_a_new_file_never_overwrites_one_created_meanwhile() {
    let sb = sandbox();
    sb.write(
        ".sops.yaml",
        format!("creation_rules:\n  - age: {}\n", TestKey::Age1.recipient()),
    );
    let f = sb.path().join("new.yaml");
    let ed = script(
        &sb,
        "ed.sh",
        &format!(
            "echo 'theirs: 1' > {}\necho 'mine: 2' > \"$1\"",
            f.display()
        ),
    );
    let (code, _, err) = run(sb.veil().env("EDITOR", &ed).arg("edit").arg(&f));
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("created by another program"), "{err}");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "theirs: 1\n");
    assert_eq!(leftovers(sb.path()), Vec::<String>::new());
}

/// Root rewriting another user's file keeps it that user's, with its group and mode (sops
/// writes in place and keeps them too).
#[test]
fn a_rewrite_keeps_owner_group_and_mode() {
    let sb = sandbox();
    let f = encrypted(&sb, "f.yaml", PLAIN);
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    let root = rustix::process::geteuid().is_root();
    if root {
        std::os::unix::fs::chown(&f, Some(65534), Some(65534)).unwrap();
    } else {
        assert!(
            !support::in_ci(),
            "CI runs as root, where the owner must be kept"
        );
    }
    let before = std::fs::metadata(&f).unwrap();
    for args in [
        vec!["set", "f.yaml", r#"["port"]"#, "1"],
        vec!["rotate", "-i", "f.yaml"],
        vec!["decrypt", "-i", "f.yaml"],
    ] {
        run_ok(sb.veil().args(&args), "rewrite");
        let after = std::fs::metadata(&f).unwrap();
        assert_eq!(
            (after.uid(), after.gid(), after.mode() & 0o7777),
            (before.uid(), before.gid(), 0o640),
            "{args:?}"
        );
    }
}

/// Replacing a file that has other hard links would leave them with the old content (after
/// `encrypt -i`, the plaintext): refused, unless `--force`, which replaces this name only.
#[test]
fn a_file_with_other_hard_links_is_refused_unless_force() {
    let sb = sandbox();
    let plain = sb.write("p.yaml", PLAIN);
    let other_name = sb.path().join("also-p.yaml");
    std::fs::hard_link(&plain, &other_name).unwrap();
    let r = TestKey::Age1.recipient();
    let (code, _, err) = run(sb.veil().args(["encrypt", "-i", "--age", &r, "p.yaml"]));
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("2 hard links"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(&plain).unwrap(), PLAIN);

    let f = encrypted(&sb, "f.yaml", PLAIN);
    std::fs::hard_link(&f, sb.path().join("also-f.yaml")).unwrap();
    let before = std::fs::read(&f).unwrap();
    let (code, _, err) = run(sb.veil().args(["set", "f.yaml", r#"["port"]"#, "1"]));
    assert_eq!(code, Some(3), "{err}");
    // edit refuses before the editor opens.
    let marker = sb.path().join("editor-ran");
    let ed = script(&sb, "ed.sh", &format!("touch {}", marker.display()));
    let (code, _, err) = run(sb.veil().env("EDITOR", &ed).args(["edit", "f.yaml"]));
    assert_eq!(code, Some(3), "{err}");
    assert!(!marker.exists(), "the editor ran");
    assert_eq!(std::fs::read(&f).unwrap(), before);

    run_ok(
        sb.veil()
            .args(["encrypt", "-i", "--force", "--age", &r, "p.yaml"]),
        "encrypt --force",
    );
    assert!(!std::fs::read_to_string(&plain).unwrap().contains(SECRET));
    assert_eq!(std::fs::read_to_string(&other_name).unwrap(), PLAIN);
    run_ok(
        sb.veil()
            .args(["--force", "set", "f.yaml", r#"["port"]"#, "1"]),
        "set --force before the command",
    );
}

/// `set` of a big value holds a few copies of it at most (the value, its sealed token, the
/// rendered file and its read-back check), not one per step: measured as veil's peak resident
/// memory just before the rename (everything but the write has happened by then).
#[test]
fn set_of_a_big_value_peaks_at_a_few_times_its_size() {
    const MB: usize = 1 << 20;
    let size = 32 * MB;
    for name in ["f.yaml", "f.json"] {
        let sb = sandbox();
        let plain = if name.ends_with("json") {
            "{\"a\": \"x\"}\n"
        } else {
            "a: x\n"
        };
        let f = encrypted(&sb, name, plain);
        let mut value = Vec::with_capacity(size + 2);
        value.push(b'"');
        value.resize(size + 1, b'v');
        value.push(b'"');
        let value_file = sb.write("value.json", &value);
        drop(value);
        let (mut child, hold, _reap) = start_held(
            &sb,
            veil(&sb)
                .args(["set", "--value-file"])
                .arg(&f)
                .arg(r#"["a"]"#)
                .arg(&value_file),
        );
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
        let peak_kb: usize = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        std::fs::remove_file(&hold).unwrap();
        assert!(wait_exit(&mut child, "set").success());
        let peak = peak_kb * 1024;
        eprintln!("{name}: peak {} MB for a {} MB value", peak / MB, size / MB);
        // About 4.5 times here; it was over 11 times.
        assert!(
            peak < 7 * size,
            "{name}: peak {} MB for a {} MB value",
            peak / MB,
            size / MB
        );
        let text = decrypt(&sb, &f);
        assert_eq!(text.bytes().filter(|b| *b == b'v').count(), size, "{name}");
    }
}

/// On a terminal, `edit` offers to edit the new version instead, with the user's edit kept
/// next to it in the private directory to copy from; the other change is kept.
#[test]
fn on_a_terminal_edit_reopens_on_the_new_version_with_the_edit_kept_aside() {
    if !std::path::Path::new("/usr/bin/script").exists() {
        assert!(
            !support::in_ci(),
            "/usr/bin/script (util-linux) is missing in CI"
        );
        eprintln!("SKIP: /usr/bin/script not installed");
        return;
    }
    let sb = sandbox();
    let f = encrypted(&sb, "f.yaml", PLAIN);
    let round = sb.path().join("round");
    let seen = sb.path().join("seen-aside");
    let veil = env!("CARGO_BIN_EXE_veil");
    // Round 1: another command changes the file, then the user edits. Round 2: the user finds
    // their edit aside, and edits the new version.
    let ed = script(
        &sb,
        "ed.sh",
        &format!(
            "if [ ! -e {r} ]; then touch {r}; {veil} set {f} '[\"other\"]' '\"from-set\"' || exit 9; \
             sed -i 's/admin/mine-1/' \"$1\"; \
             else grep -c mine-1 \"$(dirname \"$1\")/your-edit.f.yaml\" > {s}; \
             sed -i 's/admin/mine-2/' \"$1\"; fi",
            r = round.display(),
            s = seen.display(),
            f = f.display()
        ),
    );
    let mut c = std::process::Command::new("/usr/bin/script");
    sb.isolate_std(&mut c);
    let out = c
        .env("EDITOR", &ed)
        .args(["-qec", &format!("{veil} edit {}", f.display()), "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"\n")?;
            c.wait_with_output()
        })
        .unwrap();
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.contains("changed on disk while the editor was open"),
        "{out}"
    );
    assert!(out.contains("your-edit.f.yaml"), "{out}");
    assert_eq!(std::fs::read_to_string(&seen).unwrap().trim(), "1", "{out}");
    let text = decrypt(&sb, &f);
    assert!(
        text.contains("other: from-set") && text.contains("user: mine-2"),
        "{text}"
    );
    assert!(!out.contains(SECRET), "plaintext echoed: {out}");
    assert_eq!(leftovers(sb.path()), Vec::<String>::new());
}
