//! What other YAML readers make of the YAML veil reads and writes, against the real sops 3.11
//! (go-yaml v3) and PyYAML (YAML 1.1, as Ansible and most Python tools read `sops -d` output):
//! block scalars that end the file, strings a YAML 1.1 reader would type, a JSON document
//! encrypted as YAML (what `helm secrets encrypt -i values.json` runs), and the line break that
//! ends decrypted output in every format.
//!
//! Needs `scripts/peers.sh install` (sops, and the Python that holds PyYAML); under `CI=true`
//! their absence fails.

use crate::support::*;

use serde_json::Value as Json;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// PyYAML's reading of each text: every document, each value tagged with its Python type
/// (`{"str": "x"}`, `{"bool": "True"}`, maps as `{"map": [[key, value], …]}`), or an error.
const PYYAML: &str = r#"
import json, sys, yaml
def tag(v):
    if isinstance(v, dict):
        return {"map": [[tag(k), tag(x)] for k, x in v.items()]}
    if isinstance(v, list):
        return {"list": [tag(x) for x in v]}
    if isinstance(v, str):
        return {"str": v}
    return {type(v).__name__: repr(v)}
out = []
for text in json.load(sys.stdin):
    try:
        out.append({"ok": [tag(d) for d in yaml.safe_load_all(text)]})
    except Exception as e:
        out.append({"err": type(e).__name__ + ": " + str(e).splitlines()[0]})
json.dump(out, sys.stdout)
"#;

/// PyYAML's documents for each text; panics when PyYAML refuses one (the message says why).
fn pyyaml(sb: &Sandbox, texts: &[String]) -> Vec<Vec<Json>> {
    let out = run_ok(
        sb.peer("python")
            .args(["-c", PYYAML])
            .write_stdin(serde_json::to_vec(texts).unwrap()),
        "python -c 'import yaml' (PyYAML comes with the peers' Python)",
    );
    let results: Vec<Json> = serde_json::from_slice(&out).expect("the PyYAML script's JSON");
    results
        .into_iter()
        .zip(texts)
        .map(|(r, t)| match r.get("ok") {
            Some(Json::Array(docs)) => docs.clone(),
            _ => panic!("PyYAML cannot read:\n{t}\n{}", r["err"]),
        })
        .collect()
}

/// The tagged value under `key` in PyYAML's first document.
fn py_get<'a>(docs: &'a [Json], key: &str) -> &'a Json {
    docs[0]["map"]
        .as_array()
        .and_then(|m| m.iter().find(|kv| kv[0]["str"] == key))
        .map(|kv| &kv[1])
        .unwrap_or_else(|| panic!("no key {key} in {docs:?}"))
}

fn json_of(bytes: &[u8], what: &str) -> Json {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{what}: not JSON ({e})"))
}

struct Setup {
    sb: Sandbox,
    recipient: String,
}

/// A sandbox with the test age key, when both oracles are installed (sops, and the peers'
/// Python with PyYAML); `None` (a loud skip, a failure under `CI=true`) when one is missing.
fn setup() -> Option<Setup> {
    if !(require_peer("sops") && require_peer("python")) {
        return None;
    }
    let mut sb = Sandbox::new();
    let key = sb.age_key_file(TestKey::Age1);
    sb.set_env("SOPS_AGE_KEY_FILE", key);
    Some(Setup {
        sb,
        recipient: TestKey::Age1.recipient(),
    })
}

impl Setup {
    /// `encrypt --age` by `tool` (`sb.veil()` or `sb.sops()`), written to `out`.
    fn encrypt_by(&self, mut tool: assert_cmd::Command, plain: &Path, out: &str) -> PathBuf {
        let cmd = tool.args(["encrypt", "--age", &self.recipient]).arg(plain);
        let enc = run_ok(cmd, "encrypt");
        self.sb.write(out, enc)
    }

    fn veil_encrypt(&self, plain: &Path, out: &str) -> PathBuf {
        self.encrypt_by(self.sb.veil(), plain, out)
    }

    fn sops_encrypt(&self, plain: &Path, out: &str) -> PathBuf {
        self.encrypt_by(self.sb.sops(), plain, out)
    }

    /// veil's in-place decryption of `enc`, the same on the streaming YAML path and on the
    /// lossless one.
    fn veil_decrypt_in_place(&self, enc: &Path, what: &str) -> String {
        let dec = run_ok(self.sb.veil().arg("decrypt").arg(enc), "veil decrypt");
        let lossless = run_ok(
            self.sb
                .veil()
                .arg("decrypt")
                .arg(enc)
                .env("VEIL_YAML_FAST", "0"),
            "veil decrypt (lossless)",
        );
        assert_eq!(text(&dec), text(&lossless), "both YAML paths: {what}");
        text(&dec).to_string()
    }

    /// `decrypt --output-type json` by veil and by sops.
    fn both_decrypt_json(&self, enc: &Path) -> [Json; 2] {
        self.both_decrypt_json_as(enc, &[])
    }

    /// [`Self::both_decrypt_json`] with more arguments (`--input-type yaml`).
    fn both_decrypt_json_as(&self, enc: &Path, more: &[&str]) -> [Json; 2] {
        let args = [&["decrypt", "--output-type", "json"][..], more].concat();
        [self.sb.veil(), self.sb.sops()]
            .map(|mut tool| json_of(&run_ok(tool.args(&args).arg(enc), "decrypt"), "decrypt"))
    }
}

// ---------------------------------------------------------------------------------------------
// Block scalars at the end of the file

/// A block scalar under `key`, ending the file with `tail` after its two content lines.
fn chomp_cases(key: &str) -> Vec<String> {
    let mut cases = Vec::new();
    for header in ["|", "|-", "|+", ">", ">-", ">+", "|2", "|2-", "|2+", ">+1"] {
        for tail in ["", "\n", "\n\n", "\n  ", "\n ", "\n   ", "\n\n  ", "\n  \n"] {
            cases.push(format!("a: b\n{key}: {header}\n  multi\n  line{tail}"));
        }
    }
    for header in ["|", "|+", ">+"] {
        for tail in ["", "\n  ", "\n\n  "] {
            cases.push(format!("a: b\n{key}: {header}{tail}"));
        }
    }
    cases
}

/// Each case's value under `key` as PyYAML reads the plaintext (the oracle both tools must meet).
fn expected(sb: &Sandbox, cases: &[String], key: &str) -> Vec<String> {
    pyyaml(sb, cases)
        .iter()
        .map(|docs| {
            py_get(docs, key)["str"]
                .as_str()
                .unwrap_or_else(|| panic!("{key} is not a string to PyYAML"))
                .to_string()
        })
        .collect()
}

#[test]
fn block_scalars_ending_the_file_keep_their_value_through_encrypt_decrypt_and_extract() {
    let Some(s) = setup() else { return };
    for key in ["m", "m_unencrypted"] {
        let cases = chomp_cases(key);
        let want = expected(&s.sb, &cases, key);
        let mut in_place = Vec::new();
        for (i, (case, want)) in cases.iter().zip(&want).enumerate() {
            let plain = s.sb.write(&format!("c{i}.yaml"), case);
            let what = format!("{case:?} ({key})");
            // veil's file, read by veil and by sops.
            let enc = s.veil_encrypt(&plain, &format!("c{i}.enc.yaml"));
            for got in s.both_decrypt_json(&enc) {
                assert_eq!(got[key].as_str(), Some(want.as_str()), "{what}");
            }
            let extract = format!("[\"{key}\"]");
            let raw = run_ok(
                s.sb.veil()
                    .args(["decrypt", "--extract", &extract])
                    .arg(&enc),
                "veil decrypt --extract",
            );
            assert_eq!(text(&raw), want, "--extract of {what}");
            // Decrypted in place, on the streaming path and on the lossless one.
            in_place.push(s.veil_decrypt_in_place(&enc, &what));
            // sops's file, read by veil and by sops.
            let enc = s.sops_encrypt(&plain, &format!("c{i}.sops.yaml"));
            for got in s.both_decrypt_json(&enc) {
                assert_eq!(got[key].as_str(), Some(want.as_str()), "{what}");
            }
        }
        let back = expected(&s.sb, &in_place, key);
        assert_eq!(back, want, "PyYAML reading veil's decrypted files");
    }
}

#[test]
fn block_scalars_ending_the_file_keep_their_value_through_edit() {
    let Some(s) = setup() else { return };
    let cases = chomp_cases("m");
    let want = expected(&s.sb, &cases, "m");
    let start = s.sb.write("start.yaml", "m: x\n");
    for (i, (case, want)) in cases.iter().zip(&want).enumerate() {
        // The editor saves the case as it is, without a final line break where it has none.
        let saved = s.sb.write(&format!("e{i}.yaml"), case);
        let editor = s.sb.write(
            &format!("editor{i}.sh"),
            format!("#!/bin/sh\ncat '{}' > \"$1\"\n", saved.display()),
        );
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
        let enc = s.veil_encrypt(&start, &format!("e{i}.enc.yaml"));
        run_ok(
            s.sb.veil().env("EDITOR", &editor).arg("edit").arg(&enc),
            "veil edit",
        );
        for got in s.both_decrypt_json(&enc) {
            assert_eq!(got["m"].as_str(), Some(want.as_str()), "edit to {case:?}");
        }
    }
}

#[test]
fn multi_line_values_set_last_in_the_file_read_back_exactly() {
    let Some(s) = setup() else { return };
    let plain = s.sb.write("p.yaml", "a: b\nm: x\n");
    let values = [
        "multi\nline",
        "multi\nline\n",
        "multi\nline\n\n",
        "multi\nline\n ",
        " multi\n line",
        "\nleading",
        "",
        "\n",
        "tail space \nx",
    ];
    let mut in_place = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let enc = s.veil_encrypt(&plain, &format!("s{i}.enc.yaml"));
        let json = serde_json::to_string(v).unwrap();
        run_ok(
            s.sb.veil().arg("set").arg(&enc).args(["[\"m\"]", &json]),
            "veil set",
        );
        for got in s.both_decrypt_json(&enc) {
            assert_eq!(got["m"].as_str(), Some(*v), "set {v:?}");
        }
        in_place.push(text(&run_ok(s.sb.veil().arg("decrypt").arg(&enc), "decrypt")).to_string());
    }
    let back = expected(&s.sb, &in_place, "m");
    assert_eq!(back, values, "PyYAML reading veil's decrypted files");
}

// ---------------------------------------------------------------------------------------------
// Strings that YAML 1.1 readers would type

/// Strings that are strings to sops (go-yaml v3) but read as something else, plain, by go-yaml,
/// PyYAML or Ruby (booleans, numbers in YAML 1.1 forms, nulls, dates, merge and value keys,
/// symbols), and a few that stay plain everywhere.
const TRICKY: &[&str] = &[
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "n",
    "Y",
    "NO",
    "True",
    "1:20",
    "-1:30",
    "1:20:30.5",
    "0o17",
    "0777",
    "1_000",
    "1,000",
    ".5",
    "+.5",
    "1.",
    "1e3",
    "1.5E3",
    "1.0e+3",
    "0x1F",
    "-0x1f",
    "0b101",
    "+1",
    "~",
    "null",
    "NULL",
    "",
    "-.inf",
    ".NaN",
    "2024-01-01",
    "2024-1-5",
    "2024-13-45",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5",
    "=",
    "<<",
    "yEs",
    ":sym",
    "::1",
    "plain",
    "1.2.3",
    "10.0.0.1",
    "a: b",
    " lead",
    "0o8",
    "_1",
    "1e",
];

/// A JSON document holding every [`TRICKY`] string as a value, and, with `keys`, as a key.
fn tricky_json(keys: bool) -> String {
    let mut obj = serde_json::Map::new();
    for (i, t) in TRICKY.iter().enumerate() {
        obj.insert(format!("v{i}"), Json::from(*t));
    }
    if keys {
        let keys: serde_json::Map<String, Json> = TRICKY
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.is_empty())
            .map(|(i, t)| (t.to_string(), Json::from(i)))
            .collect();
        obj.insert("keys".into(), Json::Object(keys));
    }
    serde_json::to_string_pretty(&Json::Object(obj)).unwrap()
}

/// Every value of PyYAML's reading is the string it should be, and every key (when there are
/// `keys`) is a string.
fn assert_all_strings(docs: &[Json], keys: bool, what: &str) {
    for (i, t) in TRICKY.iter().enumerate() {
        assert_eq!(
            py_get(docs, &format!("v{i}")),
            &serde_json::json!({ "str": t }),
            "{what}: v{i} = {t:?}"
        );
    }
    if keys {
        let keys = py_get(docs, "keys")["map"].as_array().unwrap();
        assert_eq!(keys.len(), TRICKY.len() - 1, "{what}");
        for kv in keys {
            assert!(kv[0].get("str").is_some(), "{what}: key {}", kv[0]);
        }
    }
}

/// `key: value` lines whose value sops writes quoted or tagged (not plain).
fn not_plain(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split_once(": "))
        .filter(|(_, v)| v.starts_with(['"', '\'', '!']))
        .map(|(k, _)| k.trim().to_string())
        .collect()
}

#[test]
fn strings_yaml_1_1_readers_would_type_are_quoted_when_decrypted_in_place() {
    let Some(s) = setup() else { return };
    // A sops file holding them all as strings, written by sops from JSON. (Keys are the file's
    // own text, which decrypting keeps: sops writes `!!merge <<:` for the key `<<`, which
    // PyYAML refuses, so this file has none.)
    let json = s.sb.write("tricky.json", tricky_json(false));
    let enc = run_ok(
        s.sb.sops()
            .args(["encrypt", "--age", &s.recipient, "--output-type", "yaml"])
            .arg(&json),
        "sops encrypt",
    );
    let enc = s.sb.write("tricky.enc.yaml", enc);
    let sops_plain = text(&run_ok(
        s.sb.sops().arg("decrypt").arg(&enc),
        "sops decrypt",
    ))
    .to_string();
    let veil_plain = s.veil_decrypt_in_place(&enc, "the tricky strings");
    // Whatever sops quotes, veil quotes (veil quotes a few more: see TRICKY).
    let veil_quoted = not_plain(&veil_plain);
    for k in not_plain(&sops_plain) {
        assert!(
            veil_quoted.contains(&k),
            "sops quotes {k}, veil does not:\n{veil_plain}"
        );
    }
    // veil's fresh layout (a conversion) follows the same rule, for keys too.
    let json = s.sb.write("tricky-keys.json", tricky_json(true));
    let converted = text(&run_ok(
        s.sb.veil()
            .args(["decrypt", "--input-type", "json", "--output-type", "yaml"])
            .arg(
                s.sb.write(
                    "tricky.enc.json",
                    run_ok(
                        s.sb.veil()
                            .args(["encrypt", "--age", &s.recipient])
                            .arg(&json),
                        "veil encrypt",
                    ),
                ),
            ),
        "veil decrypt to yaml",
    ))
    .to_string();
    let read = pyyaml(&s.sb, &[veil_plain, converted]);
    assert_all_strings(&read[0], false, "veil decrypt in place");
    assert_all_strings(&read[1], true, "veil decrypt --output-type yaml");
}

// ---------------------------------------------------------------------------------------------
// A JSON document encrypted as YAML (`helm secrets encrypt -i values.json`)

const VALUES_JSON: &str = r#"{
  "image": {"repository": "nginx", "tag": "1.25"},
  "replicas": 3,
  "secrets": ["a", "b", {"nested": [1, 2]}],
  "password": "hunter2",
  "yes": "no",
  "empty": {},
  "none": [],
  "nothing": null
}"#;

#[test]
fn a_json_document_encrypted_as_yaml_gets_a_top_level_sops_line_like_sops_writes() {
    let Some(s) = setup() else { return };
    let yaml_args = ["--input-type", "yaml", "--output-type", "yaml"];
    let mine = s.sb.write("mine/values.json", VALUES_JSON);
    let theirs = s.sb.write("theirs/values.json", VALUES_JSON);
    let enc = |cmd: &mut assert_cmd::Command, f: &Path| {
        run_ok(
            cmd.args(["encrypt", "-i", "--age", &s.recipient])
                .args(yaml_args)
                .arg(f),
            "encrypt -i",
        );
    };
    enc(&mut s.sb.veil(), &mine);
    enc(&mut s.sb.sops(), &theirs);
    let written = String::from_utf8(std::fs::read(&mine).unwrap()).unwrap();
    // helm-secrets and pre-commit hooks detect a sops file by this line.
    assert!(
        written.lines().any(|l| l == "sops:"),
        "no top-level sops: line in\n{written}"
    );
    assert!(written.starts_with("image:\n"), "{written}");
    let want = json_of(VALUES_JSON.as_bytes(), "values");
    for f in [&mine, &theirs] {
        let [by_veil, by_sops] = s.both_decrypt_json_as(f, &["--input-type", "yaml"]);
        assert_eq!(by_veil, want, "veil decrypting {}", f.display());
        assert_eq!(by_sops, want, "sops decrypting {}", f.display());
    }
    // `helm secrets decrypt -i`: both tools, in place; the results hold the same data.
    run_ok(
        s.sb.veil()
            .args(["decrypt", "-i"])
            .args(yaml_args)
            .arg(&mine),
        "veil decrypt -i",
    );
    run_ok(
        s.sb.sops()
            .args(["decrypt", "-i"])
            .args(yaml_args)
            .arg(&theirs),
        "sops decrypt -i",
    );
    let texts = [&mine, &theirs].map(|f| String::from_utf8(std::fs::read(f).unwrap()).unwrap());
    let read = pyyaml(&s.sb, &texts);
    assert_eq!(read[0], read[1], "veil:\n{}\nsops:\n{}", texts[0], texts[1]);
}

#[test]
fn an_empty_json_document_encrypted_by_sops_decrypts_to_an_empty_map() {
    let Some(s) = setup() else { return };
    let f = s.sb.write("empty.yaml", "{}\n");
    for enc in [s.sops_encrypt(&f, "e1.yaml"), s.veil_encrypt(&f, "e2.yaml")] {
        let out = run_ok(s.sb.veil().arg("decrypt").arg(&enc), "veil decrypt");
        assert_eq!(text(&out), "{}\n");
        let out = run_ok(s.sb.sops().arg("decrypt").arg(&enc), "sops decrypt");
        assert_eq!(text(&out), "{}\n");
    }
}

// ---------------------------------------------------------------------------------------------
// The final line break

#[test]
fn decrypted_output_ends_with_a_line_break_as_sops_writes_it() {
    let Some(s) = setup() else { return };
    for (name, plain) in [
        ("a.yaml", "a: b\nc: d"),
        ("flow.yaml", "{a: b, c: [1, 2]}"),
        ("a.json", "{\"a\": \"b\"}"),
        ("a.env", "A=b\nC=d"),
        ("a.ini", "[s]\na = b"),
    ] {
        let f = s.sb.write(name, plain);
        // Through veil, and through a sops file that lost its final line break on the way.
        let by_veil = s.veil_encrypt(&f, &format!("veil.{name}"));
        let sops_enc = std::fs::read(s.sops_encrypt(&f, &format!("sops.{name}"))).unwrap();
        let stripped = s.sb.write(
            &format!("stripped.{name}"),
            sops_enc.strip_suffix(b"\n").unwrap_or(&sops_enc),
        );
        for enc in [&by_veil, &stripped] {
            let out = run_ok(s.sb.veil().arg("decrypt").arg(enc), "veil decrypt");
            assert!(out.ends_with(b"\n"), "{name}: {:?}", text(&out));
            let sops_out = run_ok(s.sb.sops().arg("decrypt").arg(enc), "sops decrypt");
            assert!(sops_out.ends_with(b"\n"), "sops, {name}");
        }
    }
    // Binary data stays exact, final byte and all.
    let f = s.sb.write("data.bin", "no line break");
    let enc = s.veil_encrypt(&f, "data.enc");
    let out = run_ok(s.sb.veil().arg("decrypt").arg(&enc), "veil decrypt");
    assert_eq!(out, b"no line break");
    let out = run_ok(s.sb.sops().arg("decrypt").arg(&enc), "sops decrypt");
    assert_eq!(out, b"no line break");
}
