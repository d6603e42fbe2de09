//! `veil exec-env`: the environment a program gets for each format, flattening, `--pristine`,
//! exit statuses and signals, `--same-process`, and secrets kept out of argv and messages.
//! Side-by-side checks run the real sops 3.11 on the same files (a failure in CI without it).

use crate::support;
use crate::support::exec::*;
use crate::support::{require_peer, run, run_ok, text};
use rustix::process::Signal;
use std::collections::BTreeMap;

fn m(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `veil exec-env --pristine FILE [flags] -- /usr/bin/env -0`, parsed.
fn veil_env(x: &ExecSandbox, file: &std::path::Path, flags: &[&str]) -> BTreeMap<String, String> {
    let out = run_ok(
        x.sb.veil()
            .arg("exec-env")
            .arg("--pristine")
            .args(flags)
            .arg(file)
            .args(["--", "/usr/bin/env", "-0"]),
        "veil exec-env",
    );
    parse_env0(&out)
}

const CERT: &str = "-----BEGIN TEST-----\nexec-secret-cert-line\n-----END TEST-----\n";

#[test]
fn yaml_values_use_val_to_string_and_skip_comments() {
    let x = ExecSandbox::new();
    let f = x.fixture("flat.enc.yaml");
    x.assert_decrypts(&f);
    assert_eq!(
        veil_env(&x, &f, &[]),
        m(&[
            ("API_KEY", "exec-secret-api-7Qx"),
            ("PORT", "8080"),
            ("RATIO", "2.0"),
            ("BIG", "1.234567E+06"),
            ("DEBUG", "true"),
            ("CERT", CERT),
            ("WHEN", "2025-01-02T03:04:05Z"),
        ])
    );
}

#[test]
fn json_values_are_floats_as_in_sops() {
    let x = ExecSandbox::new();
    let f = x.fixture("flat.enc.json");
    x.assert_decrypts(&f);
    assert_eq!(
        veil_env(&x, &f, &[]),
        m(&[
            ("API_KEY", "exec-secret-api-7Qx"),
            ("PORT", "8080.0"),
            ("RATIO", "2.5"),
            ("DEBUG", "false"),
            ("CERT", CERT),
        ])
    );
}

#[test]
fn dotenv_values_pass_unchanged_multiline_included() {
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    assert_eq!(
        veil_env(&x, &f, &[]),
        m(&[
            ("API_KEY", "exec-secret-api-7Qx"),
            ("MULTI", "line1\nline2"),
            ("EQUALS", "a=b=c"),
            ("EMPTY", ""),
        ])
    );
}

#[test]
fn ini_sections_are_flattened() {
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.ini");
    x.assert_decrypts(&f);
    let env = veil_env(&x, &f, &[]);
    assert_eq!(
        env.get("database__host").map(String::as_str),
        Some("db.example.invalid")
    );
    assert_eq!(
        env.get("database__password").map(String::as_str),
        Some("exec-secret-db-Kp2")
    );
    assert_eq!(env.get("database__port").map(String::as_str), Some("5432"));
    assert_eq!(
        env.get("api__key").map(String::as_str),
        Some("exec-secret-api-7Qx")
    );
    assert!(!env.keys().any(|k| k.contains("comment")), "{env:?}");
}

#[test]
fn toml_written_by_veil_works_too() {
    let x = ExecSandbox::new();
    let src = x.sb.write(
        "app.toml",
        "# TEST DATA ONLY\nAPI_KEY = \"exec-secret-api-7Qx\"\nPORT = 8080\n[db]\nhost = \"h\"\nports = [1, 2]\n",
    );
    let (code, out, err) = run(x
        .sb
        .veil()
        .args(["encrypt", "--age", &support::TestKey::Age1.recipient()])
        .arg(&src));
    assert_eq!(code, Some(0), "{err}");
    let f = x.sb.write("app.enc.toml", out);
    assert_eq!(
        veil_env(&x, &f, &[]),
        m(&[
            ("API_KEY", "exec-secret-api-7Qx"),
            ("PORT", "8080"),
            ("db__host", "h"),
            ("db__ports__0", "1"),
            ("db__ports__1", "2"),
        ])
    );
}

fn nested_expected(sep: &str) -> BTreeMap<String, String> {
    let pairs = [
        ("APP_NAME", vec![], "veil-exec"),
        ("DB", vec!["HOST"], "db.example.invalid"),
        ("DB", vec!["PASSWORD"], "exec-secret-db-Kp2"),
        ("DB", vec!["PORT"], "5432"),
        ("SERVERS", vec!["0"], "alpha"),
        ("SERVERS", vec!["1", "name"], "beta"),
        ("SERVERS", vec!["1", "TOKEN"], "exec-secret-beta-9Zr"),
        ("EMPTY", vec![], ""),
    ];
    pairs
        .iter()
        .map(|(k, rest, v)| {
            let mut name = k.to_string();
            for r in rest {
                name.push_str(sep);
                name.push_str(r);
            }
            (name, v.to_string())
        })
        .collect()
}

#[test]
fn nested_values_are_flattened_with_double_underscore_or_the_separator() {
    let x = ExecSandbox::new();
    let f = x.fixture("nested.enc.yaml");
    x.assert_decrypts(&f);
    assert_eq!(veil_env(&x, &f, &[]), nested_expected("__"));
    assert_eq!(
        veil_env(&x, &f, &["--separator", "_"]),
        nested_expected("_")
    );
}

#[test]
fn nested_json_is_flattened() {
    let x = ExecSandbox::new();
    let f = x.fixture("nested.enc.json");
    x.assert_decrypts(&f);
    let env = veil_env(&x, &f, &[]);
    assert_eq!(
        env.get("DB__PASSWORD").map(String::as_str),
        Some("exec-secret-db-Kp2")
    );
    assert_eq!(env.get("DB__PORT").map(String::as_str), Some("5432.0"));
    assert_eq!(env.get("SERVERS__0").map(String::as_str), Some("alpha"));
    assert_eq!(
        env.get("SERVERS__1__TOKEN").map(String::as_str),
        Some("exec-secret-beta-9Zr")
    );
}

#[test]
fn no_flatten_restores_sops_error_without_any_value() {
    let x = ExecSandbox::new();
    let f = x.fixture("nested.enc.json");
    x.assert_decrypts(&f);
    let (code, out, err) = run(x
        .sb
        .veil()
        .args(["exec-env", "--no-flatten"])
        .arg(&f)
        .arg("echo ran"));
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty(), "the command must not run");
    assert_eq!(
        err.lines().next(),
        Some("cannot use complex value in environment; offending key DB")
    );
    assert_no_secret(&err, "the --no-flatten error");
}

#[test]
fn pristine_drops_veils_environment_and_secrets_override_it() {
    let x = ExecSandbox::new();
    let f = x.fixture("flat.enc.json");
    x.assert_decrypts(&f);
    let out = run_ok(
        x.sb.veil()
            .env("OUTER", "kept")
            .env("API_KEY", "outer-value")
            .arg("exec-env")
            .arg(&f)
            .args(["--", "/usr/bin/env", "-0"]),
        "exec-env",
    );
    let env = parse_env0(&out);
    assert_eq!(env.get("OUTER").map(String::as_str), Some("kept"));
    assert_eq!(
        env.get("API_KEY").map(String::as_str),
        Some("exec-secret-api-7Qx")
    );
    assert!(env.contains_key("HOME"));

    let out = run_ok(
        x.sb.veil()
            .env("OUTER", "kept")
            .args(["exec-env", "--pristine"])
            .arg(&f)
            .args(["--", "/usr/bin/env", "-0"]),
        "exec-env --pristine",
    );
    let env = parse_env0(&out);
    assert!(
        !env.contains_key("OUTER") && !env.contains_key("HOME"),
        "{:?}",
        env.keys()
    );
    assert_eq!(env.len(), 5);
}

#[test]
fn exit_statuses_pass_through_and_signal_deaths_are_128_plus_n() {
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    for (cmd, want) in [
        ("true", 0),
        ("exit 1", 1),
        ("exit 42", 42),
        ("kill -TERM $$", 143),
        ("kill -KILL $$", 137),
    ] {
        let (code, _, err) = run(x.sb.veil().arg("exec-env").arg(&f).arg(cmd));
        assert_eq!(code, Some(want), "{cmd}: {err}");
    }
    // The argv form, no shell involved.
    let (code, _, _) = run(x
        .sb
        .veil()
        .arg("exec-env")
        .arg(&f)
        .args(["--", "/bin/sh", "-c", "exit 42"]));
    assert_eq!(code, Some(42));
    let (code, _, err) = run(x
        .sb
        .veil()
        .arg("exec-env")
        .arg(&f)
        .args(["--", "veil-no-such-program"]));
    assert_eq!(code, Some(127));
    assert!(err.contains("could not run veil-no-such-program"), "{err}");
}

#[test]
fn sops_form_runs_through_sh_and_argv_form_does_not() {
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    let out = run_ok(
        x.sb.veil()
            .arg("exec-env")
            .arg(&f)
            .arg("echo \"[$API_KEY]\" | tr a-z A-Z"),
        "sh form",
    );
    assert_eq!(text(&out), "[EXEC-SECRET-API-7QX]\n");
    // No shell: `$API_KEY` and `|` reach the program literally.
    let out = run_ok(
        x.sb.veil()
            .arg("exec-env")
            .arg(&f)
            .args(["--", "/bin/echo", "$API_KEY", "|", "x"]),
        "argv form",
    );
    assert_eq!(text(&out), "$API_KEY | x\n");
    // With --, every positional before it is a file (several files are merged): `echo` is
    // then a file to read, which does not exist, and nothing runs.
    let (code, out, err) = run(x
        .sb
        .veil()
        .arg("exec-env")
        .arg(&f)
        .arg("echo")
        .args(["--", "/bin/echo"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty() && err.contains("echo"), "{err}");
}

#[test]
fn forwarded_signals_reach_the_child() {
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    for (sig, name) in [
        (Signal::TERM, "TERM"),
        (Signal::INT, "INT"),
        (Signal::HUP, "HUP"),
        (Signal::QUIT, "QUIT"),
    ] {
        let ready = x.path(&format!("ready-{name}"));
        let got = x.path(&format!("got-{name}"));
        let script = format!(
            "trap 'echo {name} > {got}; exit 7' {name}; echo $$ > {ready}; while :; do sleep 0.05; done",
            got = got.display(),
            ready = ready.display()
        );
        let mut child = spawn(x.veil_std().arg("exec-env").arg(&f).arg(&script));
        let sh: u32 = wait_for_file(&ready, &mut child).trim().parse().unwrap();
        send_signal(child.id(), sig);
        let st = wait_or_fail(&mut child, Some(sh), name);
        assert_eq!(st.code(), Some(7), "{name}");
        assert_eq!(std::fs::read_to_string(&got).unwrap(), format!("{name}\n"));
    }
}

#[test]
fn a_signal_that_kills_the_child_is_veils_exit_status() {
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    let ready = x.path("ready");
    let script = format!("echo $$ > {}; exec sleep 1000", ready.display());
    let mut child = spawn(x.veil_std().arg("exec-env").arg(&f).arg(&script));
    let sleeper: u32 = wait_for_file(&ready, &mut child).trim().parse().unwrap();
    assert_ne!(sleeper, child.id(), "a child process, not veil itself");
    send_signal(child.id(), Signal::TERM);
    let st = wait_or_fail(&mut child, Some(sleeper), "TERM");
    assert_eq!(st.code(), Some(143));
}

#[test]
fn same_process_keeps_the_pid() {
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    let child = spawn(
        x.veil_std()
            .args(["exec-env", "--same-process"])
            .arg(&f)
            .arg("echo $$ \"$API_KEY\""),
    );
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{pid} exec-secret-api-7Qx\n")
    );
    // Exit status is the program's own.
    let (code, _, _) = run(x
        .sb
        .veil()
        .args(["exec-env", "--same-process"])
        .arg(&f)
        .args(["--", "/bin/sh", "-c", "exit 42"]));
    assert_eq!(code, Some(42));
    // sops refuses --background with --same-process (exit 8).
    let (code, _, err) = run(x
        .sb
        .veil()
        .args(["exec-env", "--same-process", "--background"])
        .arg(&f)
        .arg("true"));
    assert_eq!(code, Some(8), "{err}");
}

#[test]
fn background_is_deprecated_but_starts_the_command() {
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    let marker = x.path("bg-ran");
    let mut c = x.veil_std();
    c.args(["exec-env", "--background"])
        .arg(&f)
        .arg(format!("echo \"$EQUALS\" > {}", marker.display()));
    let mut child = spawn(&mut c);
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(0));
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(err.contains("deprecated"), "{err}");
    // Bounded wait for the detached command.
    for _ in 0..6000 {
        if std::fs::read_to_string(&marker).is_ok_and(|s| s.ends_with('\n')) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "a=b=c\n");
}

#[test]
fn secrets_never_reach_any_argv() {
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    // While the child runs, dump the argv of every process on the machine, veil's included.
    let dump = x.path("cmdlines");
    let script = format!(
        "for c in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $c; echo; done > {} 2>/dev/null; \
         tr '\\0' ' ' < /proc/$$/cmdline >> {dump}; tr '\\0' ' ' < /proc/$PPID/cmdline >> {dump}; \
         test -n \"$API_KEY\"",
        dump.display(),
        dump = dump.display()
    );
    run_ok(x.sb.veil().arg("exec-env").arg(&f).arg(&script), "sh form");
    let seen = std::fs::read_to_string(&dump).unwrap();
    assert!(seen.contains("exec-env"), "the dump saw veil itself");
    assert_no_secret(&seen, "a /proc/<pid>/cmdline (sh form)");

    run_ok(
        x.sb.veil()
            .arg("exec-env")
            .arg(&f)
            .args(["--", "/bin/sh", "-c", &script]),
        "argv form",
    );
    assert_no_secret(
        &std::fs::read_to_string(&dump).unwrap(),
        "a /proc/<pid>/cmdline (argv form)",
    );
}

#[test]
fn names_that_cannot_be_variables_are_reported() {
    let x = ExecSandbox::new();
    let probe = x.fixture("app.enc.env");
    x.assert_decrypts(&probe);
    let src =
        x.sb.write("odd.json", r#"{"B=C": "exec-secret-api-7Qx", "ok": "1"}"#);
    let enc = run_ok(
        x.sb.veil()
            .args(["encrypt", "--age", &support::TestKey::Age1.recipient()])
            .arg(&src),
        "encrypt",
    );
    let f = x.sb.write("odd.enc.json", enc);
    let (code, out, err) = run(x.sb.veil().arg("exec-env").arg(&f).arg("echo ran"));
    assert_eq!(code, Some(1));
    assert!(out.is_empty());
    assert_eq!(
        err.lines().next(),
        Some("cannot use keys with '=' in environment: B=C")
    );
    assert_no_secret(&err, "the bad-name error");

    // A name /bin/sh would drop is passed, with a warning in the shell form.
    let src = x.sb.write("dash.json", r#"{"my-key": "v", "ok": "1"}"#);
    let enc = run_ok(
        x.sb.veil()
            .args(["encrypt", "--age", &support::TestKey::Age1.recipient()])
            .arg(&src),
        "encrypt",
    );
    let f = x.sb.write("dash.enc.json", enc);
    let (code, _, err) = run(x.sb.veil().arg("exec-env").arg(&f).arg("true"));
    assert_eq!(code, Some(0));
    assert!(
        err.contains("my-key is not a portable variable name"),
        "{err}"
    );
    let out = run_ok(
        x.sb.veil()
            .arg("exec-env")
            .arg(&f)
            .args(["--", "/usr/bin/env", "-0"]),
        "argv form",
    );
    assert_eq!(
        parse_env0(&out).get("my-key").map(String::as_str),
        Some("v")
    );
}

#[test]
fn missing_file_and_missing_command() {
    let x = ExecSandbox::new();
    let (code, _, err) = run(x.sb.veil().args(["exec-env", "nope.yaml", "true"]));
    assert_eq!(code, Some(2), "{err}");
    let (code, _, err) = run(x.sb.veil().args(["exec-env", "nope.yaml"]));
    assert_eq!(code, Some(1), "{err}");
}

#[test]
fn user_switch_as_root() {
    if !is_root() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "user_switch_as_root needs root, and CI runs as root"
        );
        eprintln!("SKIP user_switch_as_root: needs root");
        return;
    }
    let x = ExecSandbox::new();
    let f = x.fixture("app.enc.env");
    x.assert_decrypts(&f);
    let out = run_ok(
        x.sb.veil()
            .args(["exec-env", "--user", "65534:65534"])
            .arg(&f)
            .args(["--", "/bin/sh", "-c", "echo $(id -u) $(id -g) \"$API_KEY\""]),
        "--user",
    );
    assert_eq!(text(&out), "65534 65534 exec-secret-api-7Qx\n");
    // sops 3.13: the child gets the user's HOME, USER and LOGNAME, and the user's own
    // supplementary groups (its primary group first), not root's.
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let nobody = passwd
        .lines()
        .find(|l| l.starts_with("nobody:"))
        .expect("a nobody user");
    let pw: Vec<&str> = nobody.split(':').collect();
    let out = run_ok(
        x.sb.veil()
            .args(["exec-env", "--user", "nobody"])
            .arg(&f)
            .args([
                "--",
                "/bin/sh",
                "-c",
                "echo \"$HOME $USER $LOGNAME\"; grep ^Groups: /proc/self/status",
            ]),
        "--user nobody",
    );
    let out = text(&out).to_string();
    assert!(
        out.starts_with(&format!("{} nobody nobody\n", pw[5])),
        "{out}"
    );
    let groups: Vec<&str> = out
        .lines()
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .collect();
    assert_eq!(groups.first(), Some(&pw[3]), "{out}");
    assert!(!groups.contains(&"0"), "root's group kept: {out}");
    // A user with a supplementary group in /etc/group, when the machine has one.
    let group = std::fs::read_to_string("/etc/group").unwrap();
    let member = group.lines().find_map(|l| {
        let g: Vec<&str> = l.split(':').collect();
        let m = g.get(3)?.split(',').find(|m| !m.is_empty())?;
        passwd
            .lines()
            .any(|p| p.starts_with(&format!("{m}:")))
            .then(|| (m.to_string(), g[2].to_string()))
    });
    if let Some((user, gid)) = member {
        let out = run_ok(
            x.sb.veil()
                .args(["exec-env", "--user", &user])
                .arg(&f)
                .args(["--", "/bin/sh", "-c", "id -G"]),
            "--user with a supplementary group",
        );
        let ids: Vec<String> = text(&out).split_whitespace().map(String::from).collect();
        assert!(ids.contains(&gid), "{user} lacks group {gid}: {ids:?}");
    }
    let (code, _, err) = run(x
        .sb
        .veil()
        .args(["exec-env", "--user", "veil-no-such-user"])
        .arg(&f)
        .arg("true"));
    assert_eq!(code, Some(1));
    assert!(err.contains("user veil-no-such-user not found"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Side by side with the real sops 3.11, on the same encrypted files.

fn sops_env(x: &ExecSandbox, file: &std::path::Path) -> BTreeMap<String, String> {
    let out = run_ok(
        x.sb.sops()
            .args(["exec-env", "--pristine"])
            .arg(file)
            .arg("/usr/bin/env -0"),
        "sops exec-env",
    );
    parse_env0(&out)
}

#[test]
fn same_environment_as_sops_for_flat_files() {
    if !require_peer("sops") {
        return;
    }
    let x = ExecSandbox::new();
    for name in ["flat.enc.yaml", "flat.enc.json", "app.enc.env"] {
        let f = x.fixture(name);
        x.assert_decrypts(&f);
        // sops's own example form: the command through /bin/sh -c.
        let veil = parse_env0(&run_ok(
            x.sb.veil()
                .args(["exec-env", "--pristine"])
                .arg(&f)
                .arg("/usr/bin/env -0"),
            "veil exec-env",
        ));
        assert_eq!(veil, sops_env(&x, &f), "{name}");
    }
}

#[test]
fn same_exit_codes_and_nested_error_as_sops() {
    if !require_peer("sops") {
        return;
    }
    let x = ExecSandbox::new();
    let f = x.fixture("flat.enc.json");
    x.assert_decrypts(&f);
    for cmd in ["true", "exit 1", "exit 42", "test ${#API_KEY} -eq 19"] {
        let (vc, vout, _) = run(x.sb.veil().arg("exec-env").arg(&f).arg(cmd));
        let (sc, sout, _) = run(x.sb.sops().arg("exec-env").arg(&f).arg(cmd));
        assert_eq!(vc, sc, "{cmd}");
        assert_eq!(vout, sout, "{cmd}");
    }
    let nested = x.fixture("nested.enc.json");
    let (vc, _, verr) = run(x
        .sb
        .veil()
        .args(["exec-env", "--no-flatten"])
        .arg(&nested)
        .arg("true"));
    let (sc, _, serr) = run(x.sb.sops().arg("exec-env").arg(&nested).arg("true"));
    assert_eq!(vc, sc);
    assert_eq!(verr.lines().next(), serr.lines().next());
    // A missing file: sops's exit code 2.
    let (vc, _, _) = run(x.sb.veil().args(["exec-env", "nope.json", "true"]));
    let (sc, _, _) = run(x.sb.sops().args(["exec-env", "nope.json", "true"]));
    assert_eq!(vc, sc);
}
