//! veil as a drop-in for the `sops` command line: the legacy top-level forms, sops's exit codes
//! and the exact first lines of the error messages scripts match, each followed by a hint line.
//! Every case runs three ways: `veil`, a symlink named `sops` to the same binary (whose results
//! must be identical), and the real sops where it prints the same line (a missing sops is a
//! failure under CI=true).

use crate::support::{require_peer, run, run_ok, text, Sandbox, TestKey};
use assert_cmd::Command;
use std::path::{Path, PathBuf};

const PLAIN: &str = "a: 1\nb: text\nc_unencrypted: visible\n";

/// Which program runs a case.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Prog {
    Veil,
    /// The veil binary through a symlink named `sops`.
    VeilAsSops,
    RealSops,
}

/// A symlink named `sops` to the veil under test, in its own directory of the sandbox.
fn sops_link(sb: &Sandbox) -> PathBuf {
    let dir = sb.path().join("as-sops");
    let link = dir.join("sops");
    if !link.exists() {
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_veil"), &link).expect("symlink");
    }
    link
}

fn cmd(sb: &Sandbox, p: Prog) -> Command {
    match p {
        Prog::Veil => sb.veil(),
        Prog::RealSops => sb.sops(),
        Prog::VeilAsSops => {
            let mut c = Command::new(sops_link(sb));
            sb.isolate(&mut c);
            c
        }
    }
}

/// The programs to compare: veil and its `sops` symlink always, the real sops when installed.
fn progs() -> Vec<Prog> {
    let mut v = vec![Prog::Veil, Prog::VeilAsSops];
    if require_peer("sops") {
        v.push(Prog::RealSops);
    }
    v
}

/// A sandbox with the Age1 identity as SOPS_AGE_KEY_FILE, and an encrypted `e.yaml`.
fn setup() -> Sandbox {
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    sb.write("p.yaml", PLAIN);
    let enc = run_ok(
        sb.veil()
            .args(["encrypt", "--age", &TestKey::Age1.recipient(), "p.yaml"]),
        "encrypt",
    );
    sb.write("e.yaml", enc);
    sb
}

struct Outcome {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

fn go(sb: &Sandbox, p: Prog, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let mut c = cmd(sb, p);
    c.current_dir(dir).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let (code, stdout, stderr) = run(&mut c);
    Outcome {
        code,
        stdout,
        stderr,
    }
}

/// An error case: the exit code and sops's exact first line (or its prefix, for lines that end
/// in data such as a MAC). Under its own name veil follows it with a `hint:` line; under the
/// name `sops` it prints what sops prints (no hint), so with `exact` its whole stderr is the
/// real sops's, byte for byte.
struct ErrCase<'a> {
    name: &'a str,
    dir: &'a str,
    args: Vec<String>,
    env: Vec<(&'a str, &'a str)>,
    code: i32,
    first_line: &'a str,
    prefix_only: bool,
    /// sops 3.11 prints the same bytes (false where the reason is veil's own, where it
    /// prints data such as MACs, or where sops 3.13 changed the text).
    exact: bool,
}

fn check_error(sb: &Sandbox, c: &ErrCase) {
    let dir = sb.path().join(c.dir);
    let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
    let (mut veil, mut as_sops, mut real) = (None, None, None);
    for p in progs() {
        let o = go(sb, p, &dir, &args, &c.env);
        let what = format!(
            "{} ({p:?}): {:?}\n--- stderr ---\n{}",
            c.name, args, o.stderr
        );
        assert_eq!(o.code, Some(c.code), "{what}");
        // sops prints logrus warnings first on some paths; the message is the first line
        // that is not a log line.
        let mut lines = o.stderr.lines().filter(|l| !l.starts_with('['));
        let first = lines.next().unwrap_or("");
        if c.prefix_only {
            assert!(first.starts_with(c.first_line), "{what}");
        } else {
            assert_eq!(first, c.first_line, "{what}");
        }
        if p != Prog::RealSops {
            // sops's MAC mismatch prints two SHA-512 digests of the plaintext; veil (under
            // either name) never prints a digest: a deliberate difference.
            let longest_hex = o
                .stderr
                .split(|c: char| !c.is_ascii_hexdigit())
                .map(str::len)
                .max()
                .unwrap_or(0);
            assert!(longest_hex < 64, "a digest in the error: {what}");
        }
        match p {
            Prog::RealSops => real = Some(o.stderr),
            Prog::Veil => {
                // The hint comes right after the (possibly multi-line) message: the last line.
                let last = o.stderr.trim_end().lines().last().unwrap_or("");
                assert!(last.starts_with("hint: "), "no hint line last: {what}");
                veil = Some((o.stderr, o.stdout));
            }
            Prog::VeilAsSops => {
                assert!(
                    !o.stderr.lines().any(|l| l.starts_with("hint: ")),
                    "a hint under the name sops: {what}"
                );
                as_sops = Some((o.stderr, o.stdout));
            }
        }
    }
    let (veil_err, veil_out) = veil.expect("veil ran");
    let (sops_err, sops_out) = as_sops.expect("the sops symlink ran");
    // Under the name sops: the same message, without veil's hint line.
    let without_hint = match veil_err.trim_end().rsplit_once('\n') {
        Some((msg, _hint)) => format!("{msg}\n"),
        None => String::new(),
    };
    assert_eq!(sops_err, without_hint, "{}: sops-named stderr", c.name);
    assert_eq!(
        veil_out, sops_out,
        "{}: veil and sops-symlink stdout differ",
        c.name
    );
    if let (true, Some(real)) = (c.exact, real) {
        assert_eq!(
            sops_err, real,
            "{}: stderr differs from the real sops's",
            c.name
        );
    }
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn error_first_lines_and_exit_codes_match_sops() {
    let sb = setup();
    let r1 = TestKey::Age1.recipient();
    // A MAC mismatch: an unencrypted value changed behind sops's back.
    let tampered =
        text(&sb.read("e.yaml")).replace("c_unencrypted: visible", "c_unencrypted: other");
    assert_ne!(tampered, text(&sb.read("e.yaml")), "tamper did not apply");
    sb.write("mac.yaml", tampered);
    // The MAC emptied, and lastmodified changed (the MAC's AAD).
    let e = text(&sb.read("e.yaml")).to_string();
    let no_mac = regex::Regex::new(r"(?m)^    mac: .*$")
        .unwrap()
        .replace(&e, "    mac: \"\"")
        .into_owned();
    assert_ne!(no_mac, e);
    sb.write("nomac.yaml", no_mac);
    let moved = regex::Regex::new(r#"(?m)^(    lastmodified: ")\d{4}"#)
        .unwrap()
        .replace(&e, "${1}2001")
        .into_owned();
    assert_ne!(moved, e);
    sb.write("lastmod.yaml", moved);
    // Configs for the rule errors, each in its own directory.
    sb.write(
        "nomatch/.sops.yaml",
        format!("creation_rules:\n  - path_regex: \\.nope$\n    age: {r1}\n"),
    );
    sb.write("nomatch/p.yaml", PLAIN);
    sb.write(
        "emptyg/.sops.yaml",
        "creation_rules:\n  - key_groups:\n      - age: []\n",
    );
    sb.write("emptyg/p.yaml", PLAIN);
    sb.write("nocfg/p.yaml", PLAIN);
    sb.write("edit/e.yaml", sb.read("e.yaml"));
    let missing = sb.path().join("missing.yaml");
    let missing_line = format!(
        "Error: cannot operate on non-existent file \"{}\"",
        missing.display()
    );
    let cases = [
        ErrCase {
            name: "mac mismatch (legacy -d)",
            dir: ".",
            args: s(&["-d", "mac.yaml"]),
            env: vec![],
            code: 51,
            first_line: "MAC mismatch.",
            prefix_only: true,
            exact: false,
        },
        ErrCase {
            name: "mac mismatch (decrypt)",
            dir: ".",
            args: s(&["decrypt", "mac.yaml"]),
            env: vec![],
            code: 51,
            first_line: "MAC mismatch.",
            prefix_only: true,
            exact: false,
        },
        ErrCase {
            name: "no mac",
            dir: ".",
            args: s(&["decrypt", "nomac.yaml"]),
            env: vec![],
            code: 51,
            first_line: "MAC mismatch.",
            prefix_only: true,
            exact: false,
        },
        ErrCase {
            name: "mac that does not open",
            dir: ".",
            args: s(&["decrypt", "lastmod.yaml"]),
            env: vec![],
            code: 51,
            first_line: "Cannot decrypt MAC: ",
            prefix_only: true,
            exact: false,
        },
        ErrCase {
            name: "no key can decrypt",
            dir: ".",
            args: s(&["-d", "e.yaml"]),
            env: vec![("SOPS_AGE_KEY_FILE", "/dev/null")],
            code: 128,
            first_line: "Failed to get the data key required to decrypt the SOPS file.",
            prefix_only: false,
            exact: false,
        },
        ErrCase {
            name: "no matching creation rule",
            dir: "nomatch",
            args: s(&["-e", "p.yaml"]),
            env: vec![],
            code: 1,
            first_line: "error loading config: no matching creation rules found",
            prefix_only: false,
            exact: true,
        },
        ErrCase {
            name: "empty key group",
            dir: "emptyg",
            args: s(&["encrypt", "p.yaml"]),
            env: vec![],
            code: 1,
            first_line: "Could not generate data key: [empty key group provided]",
            prefix_only: false,
            exact: true,
        },
        ErrCase {
            name: "no config and no keys",
            dir: "nocfg",
            args: s(&["-e", "p.yaml"]),
            env: vec![],
            code: 1,
            first_line: "config file not found, or has no creation rules, and no keys provided through command line options",
            prefix_only: false,
            exact: true,
        },
        ErrCase {
            name: "decrypting a plaintext file",
            dir: ".",
            args: s(&["-d", "p.yaml"]),
            env: vec![],
            code: 1,
            first_line: "sops metadata not found",
            prefix_only: false,
            exact: true,
        },
        ErrCase {
            name: "encrypting an encrypted file (legacy)",
            dir: ".",
            args: s(&["-e", "--age", &r1, "e.yaml"]),
            env: vec![],
            code: 203,
            first_line: "The file you have provided contains a top-level entry called 'sops', or for",
            prefix_only: false,
            exact: false,
        },
        ErrCase {
            name: "encrypting an encrypted file (encrypt)",
            dir: ".",
            args: s(&["encrypt", "--age", &r1, "e.yaml"]),
            env: vec![],
            code: 203,
            first_line: "The file you have provided contains a top-level entry called 'sops', or for",
            prefix_only: false,
            exact: false,
        },
        ErrCase {
            name: "missing file (legacy -d)",
            dir: ".",
            args: s(&["-d", "missing.yaml"]),
            env: vec![],
            code: 100,
            first_line: &missing_line,
            prefix_only: false,
            exact: true,
        },
        ErrCase {
            name: "missing file (decrypt)",
            dir: ".",
            args: s(&["decrypt", "missing.yaml"]),
            env: vec![],
            code: 100,
            first_line: &missing_line,
            prefix_only: false,
            exact: true,
        },
        ErrCase {
            name: "missing --extract key",
            dir: ".",
            args: s(&["decrypt", "--extract", "[\"zz\"]", "e.yaml"]),
            env: vec![],
            code: 1,
            first_line: "error truncating tree: component ['zz'] not found",
            prefix_only: false,
            exact: true,
        },
        ErrCase {
            name: "bad --extract syntax",
            dir: ".",
            args: s(&["decrypt", "--extract", "zz", "e.yaml"]),
            env: vec![],
            code: 91,
            first_line: "error parsing --extract path: ",
            prefix_only: true,
            exact: true,
        },
        ErrCase {
            name: "editor leaves the file unchanged (legacy)",
            dir: "edit",
            args: s(&["e.yaml"]),
            env: vec![("EDITOR", "true")],
            code: 200,
            first_line: "File has not changed, exiting.",
            prefix_only: false,
            exact: true,
        },
        ErrCase {
            name: "editor leaves the file unchanged (edit)",
            dir: "edit",
            args: s(&["edit", "e.yaml"]),
            env: vec![("EDITOR", "true")],
            code: 200,
            first_line: "File has not changed, exiting.",
            prefix_only: false,
            exact: true,
        },
    ];
    for c in &cases {
        check_error(&sb, c);
    }
}

/// More of the messages sops prints, each checked as above: the file checks come before the
/// config (encrypt), `Error reading file: open …` for commands that change a file, the legacy
/// `--set` wording, exec's and the editor's Go-style reasons, `strconv` path reasons.
#[test]
fn more_error_messages_match_sops() {
    let sb = setup();
    sb.write(
        "empty/.sops.yaml",
        format!("creation_rules:\n  - age: {}\n", TestKey::Age1.recipient()),
    );
    sb.write("empty/e.yaml", "");
    sb.write("bad.yaml", "a: [\n");
    sb.write("nocfg/e.yaml", sb.read("e.yaml"));
    let abs = |f: &str| sb.path().join(f).display().to_string();
    let read_err = |f: &str| {
        format!(
            "Error reading file: open {}: no such file or directory",
            abs(f)
        )
    };
    let (set_missing, rot_missing) = (read_err("missing.yaml"), read_err("missing.yaml"));
    let nonexistent = format!(
        "Error: cannot operate on non-existent file \"{}\"",
        abs("missing.yaml")
    );
    let add_missing = format!(
        "Error: cannot add or remove keys on non-existent file \"{}\", use the `edit` subcommand instead.",
        abs("missing.yaml")
    );
    let r1 = TestKey::Age1.recipient();
    let case = |name, dir, args: &[&str], env, code, first_line, exact| ErrCase {
        name,
        dir,
        args: s(args),
        env,
        code,
        first_line,
        prefix_only: false,
        exact,
    };
    let cases = [
        case(
            "encrypt a missing file, no config",
            "nocfg",
            &["encrypt", "../missing.yaml"],
            vec![],
            100,
            &nonexistent,
            true,
        ),
        case(
            "set on a missing file",
            ".",
            &["set", "missing.yaml", "[\"a\"]", "1"],
            vec![],
            2,
            &set_missing,
            true,
        ),
        case(
            "rotate a missing file",
            ".",
            &["rotate", "missing.yaml"],
            vec![],
            2,
            &rot_missing,
            true,
        ),
        case(
            "add a key to a missing file",
            ".",
            &["rotate", "--add-age", &r1, "missing.yaml"],
            vec![],
            49,
            &add_missing,
            true,
        ),
        case(
            "updatekeys without a config",
            "nocfg",
            &["updatekeys", "-y", "e.yaml"],
            vec![],
            1,
            "config file not found",
            true,
        ),
        case(
            "legacy --set without a value",
            ".",
            &["--set", "bad", "e.yaml"],
            vec![],
            7,
            "Invalid --set format",
            true,
        ),
        case(
            "exec-env on a missing file",
            ".",
            &["exec-env", "missing.yaml", "true"],
            vec![],
            2,
            "Error reading file: open missing.yaml: no such file or directory",
            true,
        ),
        case(
            "an editor that does not exist",
            ".",
            &["edit", "e.yaml"],
            vec![("EDITOR", "/nonexistent/editor")],
            201,
            "Could not run editor: fork/exec /nonexistent/editor: no such file or directory",
            true,
        ),
        case(
            "an empty file to encrypt",
            "empty",
            &["encrypt", "e.yaml"],
            vec![],
            92,
            "File cannot be completely empty, it must contain at least one document",
            true,
        ),
        case(
            "an age recipient of no known kind",
            ".",
            &["encrypt", "--age", "notakey", "p.yaml"],
            vec![],
            1,
            "failed to parse input, unknown recipient type: \"notakey\"",
            true,
        ),
        case(
            "an --extract index that is not a number",
            ".",
            &["decrypt", "--extract", "[x]", "e.yaml"],
            vec![],
            91,
            "error parsing --extract path: strconv.Atoi: parsing \"x\": invalid syntax",
            true,
        ),
    ];
    for c in &cases {
        check_error(&sb, c);
    }
    // A file that is not valid YAML: exit 1 when decrypting (2 only when encrypting), with
    // the parser's own words after sops's prefix.
    for p in progs() {
        let o = go(&sb, p, sb.path(), &["decrypt", "bad.yaml"], &[]);
        assert_eq!(o.code, Some(1), "{p:?}: {}", o.stderr);
        assert!(
            o.stderr
                .to_lowercase()
                .starts_with("error unmarshalling input yaml: "),
            "{p:?}: {}",
            o.stderr
        );
    }
}

/// What a failed child makes sops print: Go's `exit status N`, then its code.
#[test]
fn a_failing_child_is_reported_as_sops_reports_it() {
    let sb = setup();
    for p in progs() {
        for args in [
            &["exec-env", "e.yaml", "exit 3"][..],
            &["exec-file", "e.yaml", "exit 3"][..],
        ] {
            let o = go(&sb, p, sb.path(), args, &[]);
            assert_eq!(o.code, Some(3), "{p:?} {args:?}: {}", o.stderr);
            let expect = if p == Prog::Veil {
                ""
            } else {
                "exit status 3\n"
            };
            assert_eq!(o.stderr, expect, "{p:?} {args:?}");
        }
    }
}

/// Runs `args` with every program and returns (program, exit code, stdout); veil and its sops
/// symlink must agree byte for byte.
fn same_everywhere(sb: &Sandbox, args: &[&str]) -> Vec<(Prog, Outcome)> {
    let mut out: Vec<(Prog, Outcome)> = Vec::new();
    for p in progs() {
        let o = go(sb, p, sb.path(), args, &[]);
        if let Some((_, first)) = out.first() {
            if p == Prog::VeilAsSops {
                assert_eq!(first.code, o.code, "{args:?}: exit codes differ");
                assert_eq!(first.stdout, o.stdout, "{args:?}: stdout differs");
                assert_eq!(first.stderr, o.stderr, "{args:?}: stderr differs");
            }
        }
        out.push((p, o));
    }
    out
}

#[test]
fn legacy_decrypt_extract_and_filestatus_agree() {
    let sb = setup();
    for (args, expect) in [
        (&["-d", "e.yaml"][..], PLAIN),
        (&["decrypt", "e.yaml"][..], PLAIN),
        (&["-d", "--extract", "[\"b\"]", "e.yaml"][..], "text"),
        (&["decrypt", "--extract", "[\"b\"]", "e.yaml"][..], "text"),
        (&["decrypt", "--extract", "[\"a\"]", "e.yaml"][..], "1\n"),
        (&["filestatus", "e.yaml"][..], "{\"encrypted\":true}\n"),
        (&["filestatus", "p.yaml"][..], "{\"encrypted\":false}\n"),
    ] {
        for (p, o) in same_everywhere(&sb, args) {
            assert_eq!(o.code, Some(0), "{p:?} {args:?}: {}", o.stderr);
            assert_eq!(text(&o.stdout), expect, "{p:?} {args:?}");
        }
    }
}

#[test]
fn legacy_encrypt_in_place_output_and_conversion() {
    let sb = setup();
    let r1 = TestKey::Age1.recipient();
    for p in progs() {
        let name = format!("ip-{p:?}.yaml");
        sb.write(&name, PLAIN);
        let o = go(&sb, p, sb.path(), &["-e", "-i", "--age", &r1, &name], &[]);
        assert_eq!(o.code, Some(0), "{p:?}: {}", o.stderr);
        assert!(o.stdout.is_empty(), "{p:?}: -i printed to stdout");
        let st = go(&sb, p, sb.path(), &["filestatus", &name], &[]);
        assert_eq!(text(&st.stdout), "{\"encrypted\":true}\n", "{p:?}");
        // The in-place result decrypts to the original with every program.
        for q in progs() {
            let d = go(&sb, q, sb.path(), &["-d", &name], &[]);
            assert_eq!(text(&d.stdout), PLAIN, "{p:?} wrote, {q:?} read");
        }
        // --output, and a conversion with --output-type.
        let out = format!("out-{p:?}.json");
        let o = go(
            &sb,
            p,
            sb.path(),
            &["-d", "--output-type", "json", "--output", &out, "e.yaml"],
            &[],
        );
        assert_eq!(o.code, Some(0), "{p:?}: {}", o.stderr);
        let json = text(&sb.read(&out)).to_string();
        assert!(json.contains("\"b\": \"text\""), "{p:?}: {json}");
        // -i with --output conflicts: exit 8.
        let o = go(
            &sb,
            p,
            sb.path(),
            &["-d", "-i", "--output", "x", "e.yaml"],
            &[],
        );
        assert_eq!(o.code, Some(8), "{p:?}: {}", o.stderr);
    }
}

#[test]
fn legacy_set_rotate_and_add_keys() {
    let sb = setup();
    let r2 = TestKey::Age2.recipient();
    for p in [Prog::Veil, Prog::VeilAsSops] {
        let name = format!("s-{p:?}.yaml");
        sb.write(&name, sb.read("e.yaml"));
        let o = go(&sb, p, sb.path(), &["--set", "[\"b\"] \"new\"", &name], &[]);
        assert_eq!(o.code, Some(0), "{p:?}: {}", o.stderr);
        let d = go(
            &sb,
            p,
            sb.path(),
            &["-d", "--extract", "[\"b\"]", &name],
            &[],
        );
        assert_eq!(text(&d.stdout), "new", "{p:?}");
        // -r -i with --add-age: the second key can now read it.
        let o = go(
            &sb,
            p,
            sb.path(),
            &["-r", "-i", "--add-age", &r2, &name],
            &[],
        );
        assert_eq!(o.code, Some(0), "{p:?}: {}", o.stderr);
        let key2 = sb.age_key_file(TestKey::Age2);
        let key2 = key2.to_string_lossy();
        let d = go(
            &sb,
            p,
            sb.path(),
            &["-d", "--extract", "[\"b\"]", &name],
            &[("SOPS_AGE_KEY_FILE", &key2)],
        );
        assert_eq!(text(&d.stdout), "new", "{p:?}: {}", d.stderr);
        // Several modes: sops's deprecation warning.
        let o = go(&sb, p, sb.path(), &["-e", "-d", &name], &[]);
        assert_eq!(o.code, Some(0), "{p:?}: {}", o.stderr);
        assert!(
            o.stderr.contains("More than one command"),
            "{p:?}: {}",
            o.stderr
        );
    }
}

#[test]
fn usage_is_named_after_argv0() {
    let sb = Sandbox::new();
    let h = go(&sb, Prog::VeilAsSops, sb.path(), &["--help"], &[]);
    assert!(
        text(&h.stdout).contains("Usage: sops "),
        "{}",
        text(&h.stdout)
    );
    let h = go(&sb, Prog::Veil, sb.path(), &["--help"], &[]);
    assert!(
        text(&h.stdout).contains("Usage: veil "),
        "{}",
        text(&h.stdout)
    );
    // `sops --version`: the second word is the sops release whose command line and behaviour
    // veil follows, as scripts (Ansible's community.sops) read it; `--disable-version-check`
    // and `--check-for-updates` are accepted (veil never looks for updates).
    for args in [
        &["--version"][..],
        &["--version", "--disable-version-check"][..],
        &["--version", "--check-for-updates"][..],
    ] {
        let v = go(&sb, Prog::VeilAsSops, sb.path(), args, &[]);
        assert_eq!(v.code, Some(0), "{args:?}");
        assert_eq!(
            text(&v.stdout),
            concat!("sops 3.13.2 (veil ", env!("CARGO_PKG_VERSION"), ")\n"),
            "{args:?}"
        );
    }
    let v = go(&sb, Prog::Veil, sb.path(), &["--version"], &[]);
    assert!(text(&v.stdout).starts_with("veil "), "{}", text(&v.stdout));
    // No file in the legacy form: exit 100, sops's message both ways, the hint only as veil.
    let a = go(&sb, Prog::Veil, sb.path(), &["-d"], &[]);
    let b = go(&sb, Prog::VeilAsSops, sb.path(), &["-d"], &[]);
    assert_eq!((a.code, b.code), (Some(100), Some(100)));
    assert!(
        a.stderr.starts_with("Error: no file specified\nhint: "),
        "{}",
        a.stderr
    );
    assert_eq!(b.stderr, "Error: no file specified\n");
}

/// A `.sops.yaml` whose `stores` the output store refuses fails a conversion, as sops fails
/// to dump it, instead of being replaced by the default layout in silence; writing the file's
/// own format needs no layout and still works.
#[test]
fn a_stores_config_the_output_store_refuses_fails_a_conversion() {
    let sb = setup();
    let enc = run_ok(
        sb.veil().args([
            "encrypt",
            "--age",
            &TestKey::Age1.recipient(),
            "--output-type",
            "json",
            "p.yaml",
        ]),
        "encrypt to json",
    );
    sb.write("bad/e.json", &enc);
    sb.write("e.json", &enc);
    sb.write("bad/.sops.yaml", "stores:\n  yaml:\n    indent: -2\n");
    let dir = sb.path().join("bad");
    let convert = ["decrypt", "--output-type", "yaml", "e.json"];
    let sops = go(&sb, Prog::RealSops, &dir, &convert, &[]);
    assert_ne!(
        sops.code,
        Some(0),
        "sops writes nothing: {}",
        text(&sops.stdout)
    );
    assert!(
        sops.stderr
            .contains("YAML Negative indentation not accepted"),
        "{}",
        sops.stderr
    );
    let o = go(&sb, Prog::Veil, &dir, &convert, &[]);
    assert_ne!(o.code, Some(0), "{}", text(&o.stdout));
    assert!(o.stdout.is_empty(), "nothing is written");
    assert!(
        o.stderr.contains("YAML Negative indentation not accepted"),
        "{}",
        o.stderr
    );
    // A negative --indent is refused for a conversion to YAML too, as encrypt refuses it.
    let neg = [
        "--indent",
        "-2",
        "decrypt",
        "--output-type",
        "yaml",
        "e.json",
    ];
    let o = go(&sb, Prog::Veil, sb.path(), &neg, &[]);
    assert_ne!(o.code, Some(0), "{}", text(&o.stdout));
    assert!(
        o.stderr.contains("YAML Negative indentation not accepted"),
        "{}",
        o.stderr
    );
    // The file's own format is written on its own text: no layout, no error.
    let o = go(&sb, Prog::Veil, &dir, &["decrypt", "e.json"], &[]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
}

#[test]
fn global_options_work_before_or_after_the_subcommand() {
    let sb = setup();
    let r1 = TestKey::Age1.recipient();
    // --verbose: steps on stderr, never a value.
    for args in [
        &["--verbose", "decrypt", "e.yaml"][..],
        &["decrypt", "--verbose", "e.yaml"][..],
        &["decrypt", "e.yaml", "--verbose"][..],
        &["-d", "--verbose", "e.yaml"][..],
        &["--verbose", "-d", "e.yaml"][..],
    ] {
        let o = go(&sb, Prog::Veil, sb.path(), args, &[]);
        assert_eq!(o.code, Some(0), "{args:?}: {}", o.stderr);
        assert!(
            o.stderr.contains("[veil] decrypt e.yaml"),
            "{args:?}: {}",
            o.stderr
        );
        assert!(
            o.stderr.contains("SOPS_AGE_KEY_FILE="),
            "{args:?}: {}",
            o.stderr
        );
        let tried = format!("group 0: will try age {}", TestKey::Age1.recipient());
        assert!(o.stderr.contains(&tried), "{args:?}: {}", o.stderr);
        // The key that unwrapped the data key is named (a public recipient).
        let by = format!("data key unwrapped by {}", TestKey::Age1.recipient());
        assert!(o.stderr.contains(&by), "{args:?}: {}", o.stderr);
        assert!(
            !o.stderr.contains("text") && !o.stderr.contains("AGE-SECRET"),
            "{args:?}"
        );
        assert!(!o.stderr.contains('\u{1b}'), "{args:?}: colour in the log");
    }
    // Tokens are named, never printed.
    let o = go(
        &sb,
        Prog::Veil,
        sb.path(),
        &["--verbose", "-d", "e.yaml"],
        &[("VAULT_TOKEN", "hvs.do-not-log-me")],
    );
    assert!(o.stderr.contains("VAULT_TOKEN is set"), "{}", o.stderr);
    assert!(!o.stderr.contains("do-not-log-me"), "{}", o.stderr);
    // --indent: fresh layouts (a conversion) use it wherever it is placed.
    for args in [
        &[
            "--indent",
            "2",
            "decrypt",
            "--output-type",
            "json",
            "e.yaml",
        ][..],
        &[
            "decrypt",
            "--output-type",
            "json",
            "--indent",
            "2",
            "e.yaml",
        ][..],
        &["-d", "--output-type", "json", "e.yaml", "--indent=2"][..],
    ] {
        let o = go(&sb, Prog::Veil, sb.path(), args, &[]);
        assert_eq!(o.code, Some(0), "{args:?}: {}", o.stderr);
        assert!(
            text(&o.stdout).starts_with("{\n  \"a\": 1"),
            "{args:?}: {}",
            text(&o.stdout)
        );
    }
    let o = go(
        &sb,
        Prog::Veil,
        sb.path(),
        &["decrypt", "--output-type", "json", "e.yaml"],
        &[],
    );
    assert!(
        text(&o.stdout).starts_with("{\n\t\"a\": 1"),
        "{}",
        text(&o.stdout)
    );
    // An explicit --indent also wins over the file's own indentation when `set` must lay the
    // file out afresh (a new subtree).
    for (i, args) in [&["--indent", "2", "set"][..], &["set", "--indent", "2"][..]]
        .iter()
        .enumerate()
    {
        let name = format!("ind{i}.yaml");
        sb.write(&name, sb.read("e.yaml"));
        let mut all = args.to_vec();
        all.extend([name.as_str(), "[\"k\"]", "{\"x\": {\"z\": 1}}"]);
        let o = go(&sb, Prog::Veil, sb.path(), &all, &[]);
        assert_eq!(o.code, Some(0), "{all:?}: {}", o.stderr);
        let out = text(&sb.read(&name)).to_string();
        assert!(out.contains("\nk:\n  x:\n    z: ENC["), "{all:?}: {out}");
    }
    // --config: a named config is used wherever the flag is placed.
    sb.write(
        "conf/rules.yaml",
        format!("creation_rules:\n  - age: {r1}\n"),
    );
    for args in [
        &["--config", "conf/rules.yaml", "encrypt", "p.yaml"][..],
        &["encrypt", "--config", "conf/rules.yaml", "p.yaml"][..],
        &["encrypt", "p.yaml", "--config", "conf/rules.yaml"][..],
        &["-e", "p.yaml", "--config", "conf/rules.yaml"][..],
    ] {
        let o = go(&sb, Prog::Veil, sb.path(), args, &[]);
        assert_eq!(o.code, Some(0), "{args:?}: {}", o.stderr);
        assert!(text(&o.stdout).contains(&r1), "{args:?}");
    }
}

/// Comments that stand as list items, converted to JSON, as sops does it: a decrypted file
/// has none in its arrays (sops's JSON store skips them), an encrypted one keeps each sealed
/// as a string, and a JSON file holding such a sealed comment decrypts without it. Compared
/// with the real sops's output byte for byte, both directions.
#[test]
fn list_comments_go_to_json_as_sops_writes_them() {
    if !require_peer("sops") {
        return;
    }
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    let r = TestKey::Age1.recipient();
    sb.write(
        "p.yaml",
        "a:\n  # top\n  - x # after\n  # mid\n  - y\nb: 1\n",
    );
    let enc = run_ok(
        sb.veil().args(["encrypt", "--age", &r, "p.yaml"]),
        "encrypt",
    );
    sb.write("e.yaml", enc);
    let both = |args: &[&str]| -> Vec<u8> {
        let v = run_ok(sb.veil().args(args), "veil");
        let s = run_ok(sb.sops().args(args), "sops");
        assert_eq!(text(&v), text(&s), "veil and sops differ on {args:?}");
        v
    };
    let json = both(&["decrypt", "--output-type", "json", "e.yaml"]);
    assert_eq!(
        text(&json),
        "{\n\t\"a\": [\n\t\t\"x\",\n\t\t\"y\"\n\t],\n\t\"b\": 1\n}\n"
    );
    both(&[
        "decrypt",
        "--extract",
        "[\"a\"]",
        "--output-type",
        "json",
        "e.yaml",
    ]);
    // Encrypted to JSON: every comment of the list sealed as a string item.
    for (name, prog) in [("v.json", sb.veil()), ("s.json", sb.sops())] {
        let mut prog = prog;
        let out = run_ok(
            prog.args(["encrypt", "--age", &r, "--output-type", "json", "p.yaml"]),
            name,
        );
        let doc: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
        let items = doc["a"].as_array().expect("a list");
        assert_eq!(items.len(), 5, "{name}: three comments and two values");
        assert!(items
            .iter()
            .all(|i| i.as_str().is_some_and(|s| s.starts_with("ENC["))));
        sb.write(name, out);
    }
    for name in ["v.json", "s.json"] {
        let plain = both(&["decrypt", name]);
        assert_eq!(
            text(&plain),
            "{\n\t\"a\": [\n\t\t\"x\",\n\t\t\"y\"\n\t],\n\t\"b\": 1\n}\n"
        );
        both(&["decrypt", "--output-type", "yaml", name]);
    }
}
