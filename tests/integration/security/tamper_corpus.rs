//! The tampering corpus: a base file per format (`testdata/tamper/base.*`), encrypted by veil,
//! changed by every mutation of `testdata/tamper/mutations.txt`, then decrypted by veil and by
//! the real sops 3.11 (for the five formats sops has; TOML is veil's own).
//!
//! For every tampered file it checks: veil's exit code is the one in the table (both YAML
//! paths, streaming and lossless); sops's exit code is the one in the table (so a sops
//! behaviour change shows up here); every file sops refuses, veil refuses; a file veil refuses
//! while sops accepts is marked `stricter:` in the table; no secret (every base file's secrets
//! contain `S3CRET`) appears in veil's output or errors when it refuses; and no change veil makes
//! to the tampered file afterwards (`set --ignore-mac`, `rotate -i --ignore-mac`) writes a secret
//! in plaintext, whether it succeeds or not.
//!
//! `VEIL_TAMPER_REPORT=1` prints the observed codes as table rows instead of checking them,
//! for writing new rows.

use crate::support;
use crate::support::{require_peer, run, run_ok, text, Sandbox, TestKey};
use regex::Regex;

const SECRET_MARK: &str = "S3CRET";
const FORMATS: &[&str] = &["yaml", "json", "env", "ini", "toml", "bin"];

/// One row of the table, for one format.
struct Case {
    line: usize,
    format: String,
    veil: i32,
    /// `None` for TOML (sops has no TOML store).
    sops: Option<i32>,
    op: String,
    note: String,
}

fn parse_code(s: &str, line: usize) -> Option<i32> {
    if s == "-" {
        return None;
    }
    Some(
        s.parse()
            .unwrap_or_else(|_| panic!("mutations.txt:{line}: bad exit code {s:?}")),
    )
}

fn cases() -> Vec<Case> {
    let table = String::from_utf8(support::read_testdata("tamper/mutations.txt")).unwrap();
    let mut out = Vec::new();
    for (i, l) in table.lines().enumerate() {
        let line = i + 1;
        if l.trim().is_empty() || l.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = l.splitn(5, " | ").map(str::trim).collect();
        assert_eq!(cols.len(), 5, "mutations.txt:{line}: five columns expected");
        let formats: Vec<&str> = if cols[0] == "all" {
            FORMATS.to_vec()
        } else {
            cols[0].split(',').map(str::trim).collect()
        };
        for f in formats {
            assert!(FORMATS.contains(&f), "mutations.txt:{line}: format {f:?}");
            let sops = parse_code(cols[2], line);
            assert_eq!(
                f == "toml",
                sops.is_none(),
                "mutations.txt:{line}: sops's code is `-` exactly for toml"
            );
            out.push(Case {
                line,
                format: f.to_string(),
                veil: parse_code(cols[1], line).expect("veil's code"),
                sops,
                op: cols[3].to_string(),
                note: cols[4].to_string(),
            });
        }
    }
    out
}

/// `\n`, `\t` and `\\` in literal operands.
fn unescape(s: &str) -> String {
    s.replace("\\n", "\n")
        .replace("\\t", "\t")
        .replace("\\\\", "\\")
}

fn re(s: &str, line: usize) -> Regex {
    Regex::new(&format!("(?m){s}"))
        .unwrap_or_else(|e| panic!("mutations.txt:{line}: bad regex {s:?}: {e}"))
}

/// Apply one mutation (see the table's header for the operations).
fn mutate(src: &str, op: &str, line: usize) -> String {
    let (name, arg) = op.split_once(' ').unwrap_or((op, ""));
    // `A => B`; a B left empty ends the column with `=>`.
    let two = |sep: &str| {
        arg.split_once(sep)
            .or_else(|| arg.strip_suffix(sep.trim_end()).map(|a| (a, "")))
            .unwrap_or_else(|| panic!("mutations.txt:{line}: {name} needs `A{sep}B`"))
    };
    match name {
        "sub" => {
            let (a, b) = two(" => ");
            let a = unescape(a);
            assert!(src.contains(&a), "mutations.txt:{line}: {a:?} not found");
            src.replacen(&a, &unescape(b), 1)
        }
        "re" => {
            let (a, b) = two(" => ");
            let r = re(a, line);
            assert!(
                r.is_match(src),
                "mutations.txt:{line}: /{a}/ does not match"
            );
            r.replace(src, unescape(b).as_str()).into_owned()
        }
        "swap" => {
            // Swap the first capture group of the first match of each regex.
            let (a, b) = two(" && ");
            let grab = |r: &str| {
                let c = re(r, line)
                    .captures(src)
                    .unwrap_or_else(|| panic!("mutations.txt:{line}: /{r}/ does not match"));
                let m = c.get(1).expect("a capture group");
                (m.start(), m.end())
            };
            let (x, y) = (grab(a), grab(b));
            let (first, second) = if x.0 < y.0 { (x, y) } else { (y, x) };
            assert!(first.1 <= second.0, "mutations.txt:{line}: overlapping");
            format!(
                "{}{}{}{}{}",
                &src[..first.0],
                &src[second.0..second.1],
                &src[first.1..second.0],
                &src[first.0..first.1],
                &src[second.1..]
            )
        }
        "copy" => {
            // Replace group 1 of the second regex's match by group 1 of the first's.
            let (a, b) = two(" && ");
            let from = re(a, line)
                .captures(src)
                .and_then(|c| c.get(1))
                .unwrap_or_else(|| panic!("mutations.txt:{line}: /{a}/ does not match"))
                .as_str()
                .to_string();
            let to = re(b, line)
                .captures(src)
                .and_then(|c| c.get(1))
                .unwrap_or_else(|| panic!("mutations.txt:{line}: /{b}/ does not match"));
            format!("{}{}{}", &src[..to.start()], from, &src[to.end()..])
        }
        "dupline" | "delline" => {
            let r = re(arg, line);
            let mut out = String::new();
            let mut done = false;
            for l in src.split_inclusive('\n') {
                if !done && r.is_match(l.trim_end_matches('\n')) {
                    done = true;
                    if name == "dupline" {
                        out.push_str(l);
                        out.push_str(l);
                    }
                    continue;
                }
                out.push_str(l);
            }
            assert!(done, "mutations.txt:{line}: no line matches /{arg}/");
            out
        }
        "moveline" => {
            // Move the first line matching A to just after the first line matching B.
            let (a, b) = two(" && ");
            let (ra, rb) = (re(a, line), re(b, line));
            let lines: Vec<&str> = src.split_inclusive('\n').collect();
            let from = lines
                .iter()
                .position(|l| ra.is_match(l.trim_end_matches('\n')))
                .unwrap_or_else(|| panic!("mutations.txt:{line}: /{a}/ matches no line"));
            let moved = lines[from];
            let rest: Vec<&str> = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != from)
                .map(|(_, l)| *l)
                .collect();
            let to = rest
                .iter()
                .position(|l| rb.is_match(l.trim_end_matches('\n')))
                .unwrap_or_else(|| panic!("mutations.txt:{line}: /{b}/ matches no line"));
            let mut out = String::new();
            for (i, l) in rest.iter().enumerate() {
                out.push_str(l);
                if i == to {
                    out.push_str(moved);
                }
            }
            out
        }
        "flip" => {
            // Change the first character of group 1 of the first match (to another base64
            // character, so that only the cryptography can notice).
            let m = re(arg, line)
                .captures(src)
                .and_then(|c| c.get(1))
                .unwrap_or_else(|| panic!("mutations.txt:{line}: /{arg}/ does not match"));
            let c = if src[m.start()..].starts_with('A') {
                "B"
            } else {
                "A"
            };
            format!("{}{c}{}", &src[..m.start()], &src[m.start() + 1..])
        }
        "cut" => {
            let n: usize = arg.parse().expect("cut N");
            src[..src.len() - n].to_string()
        }
        "cutat" => {
            // Cut the file just before the first match.
            let m = re(arg, line)
                .find(src)
                .unwrap_or_else(|| panic!("mutations.txt:{line}: /{arg}/ does not match"));
            src[..m.start()].to_string()
        }
        "append" => format!("{src}{}", unescape(arg)),
        "prepend" => format!("{}{src}", unescape(arg)),
        other => panic!("mutations.txt:{line}: unknown operation {other:?}"),
    }
}

/// Where `set` can add a plain probe value in each format.
fn probe_path(format: &str) -> Option<&'static str> {
    match format {
        "yaml" | "json" | "toml" => Some(r#"["zz_probe_unencrypted"]"#),
        "env" => Some(r#"["ZZ_PROBE_unencrypted"]"#),
        "ini" => Some(r#"["database"]["zz_probe_unencrypted"]"#),
        _ => None,
    }
}

#[test]
fn tampered_files_are_refused_as_sops_refuses_them() {
    let report = std::env::var("VEIL_TAMPER_REPORT").is_ok_and(|v| v == "1");
    let have_sops = require_peer("sops");
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", &key);
    let r1 = TestKey::Age1.recipient();
    let mut enc = std::collections::HashMap::new();
    for f in FORMATS {
        let name = format!("base.{f}");
        sb.copy_testdata(&format!("tamper/{name}"), &name);
        let out = run_ok(
            sb.veil().args(["encrypt", "--age", &r1, &name]),
            "encrypt a base file",
        );
        let s = String::from_utf8(out).expect("encrypted files are text");
        assert!(
            !s.contains(SECRET_MARK),
            "{name}: a secret left in plaintext"
        );
        enc.insert(*f, s);
    }
    let cases = cases();
    assert!(cases.len() >= 100, "the corpus has {} cases", cases.len());
    let mut failures = Vec::new();
    let mut rows = Vec::new();
    for (n, c) in cases.iter().enumerate() {
        let base = &enc[c.format.as_str()];
        let tampered = mutate(base, &c.op, c.line);
        assert_ne!(&tampered, base, "mutations.txt:{}: nothing changed", c.line);
        let file = format!("case-{n}.{}", c.format);
        sb.write(&file, &tampered);
        let what = format!("mutations.txt:{} [{}] {}", c.line, c.format, c.note);
        // veil, on both YAML paths.
        let mut veil_codes = Vec::new();
        let fast = if c.format == "yaml" {
            vec!["1", "0"]
        } else {
            vec!["1"]
        };
        for f in fast {
            let (code, out, err) = run(sb.veil().args(["decrypt", &file]).env("VEIL_YAML_FAST", f));
            let code = code.expect("veil exited by a signal");
            veil_codes.push(code);
            if code != 0 && (text(&out).contains(SECRET_MARK) || err.contains(SECRET_MARK)) {
                failures.push(format!("{what}: a secret in veil's output: {err}"));
            }
            if code != 0 && !err.lines().any(|l| l.starts_with("hint: ")) {
                failures.push(format!("{what}: no hint line: {err}"));
            }
        }
        let veil = veil_codes[0];
        if veil_codes.iter().any(|c| *c != veil) {
            failures.push(format!("{what}: the YAML paths disagree: {veil_codes:?}"));
        }
        let sops = match (c.sops, have_sops) {
            (Some(_), true) => {
                let (code, _, _) = run(sb.sops().args(["decrypt", &file]));
                Some(code.unwrap_or(-1))
            }
            _ => None,
        };
        if report {
            let s = sops.map_or("-".to_string(), |x| x.to_string());
            rows.push(format!(
                "{} | {veil} | {s} | {} | {}",
                c.format, c.op, c.note
            ));
            continue;
        }
        if veil != c.veil {
            failures.push(format!("{what}: veil exit {veil}, table says {}", c.veil));
        }
        if let (Some(got), Some(want)) = (sops, c.sops) {
            if got != want {
                failures.push(format!("{what}: sops exit {got}, table says {want}"));
            }
        }
        if let Some(want) = c.sops {
            if want != 0 && c.veil == 0 {
                failures.push(format!("{what}: sops refuses it, so veil must"));
            }
            if want == 0 && c.veil != 0 && !c.note.starts_with("stricter:") {
                failures.push(format!(
                    "{what}: veil refuses what sops accepts: the note must start with `stricter:`"
                ));
            }
        }
        // Whatever the decrypt said: changing the file never writes a secret in plaintext.
        let before = sb.read(&file);
        let mut probes = vec![vec!["rotate", "-i", "--ignore-mac", file.as_str()]];
        if let Some(p) = probe_path(&c.format) {
            probes.push(vec!["set", "--ignore-mac", file.as_str(), p, "\"probe\""]);
        }
        for args in probes {
            sb.write(&file, &before);
            let (code, out, err) = run(sb.veil().args(&args));
            let after = sb.read(&file);
            if text(&after).contains(SECRET_MARK) {
                failures.push(format!(
                    "{what}: `veil {}` wrote a secret in plaintext (exit {code:?})",
                    args[0]
                ));
            }
            if code != Some(0) && after != before {
                failures.push(format!(
                    "{what}: a failed `veil {}` changed the file",
                    args[0]
                ));
            }
            if text(&out).contains(SECRET_MARK) || err.contains(SECRET_MARK) {
                failures.push(format!("{what}: `veil {}` printed a secret", args[0]));
            }
        }
    }
    if report {
        // A table for a person to read; in CI the assertions below must run.
        assert!(
            !support::in_ci(),
            "VEIL_TAMPER_REPORT is for local runs, not CI"
        );
        println!("{}", rows.join("\n"));
        return;
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
