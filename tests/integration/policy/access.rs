//! `veil access`: the report on a generated repository finds exactly what was planted, the
//! JSON, table and per-recipient views of hand-written files match their golden files, and the
//! real sops keeps working with the policy in `.sops.yaml`.

use super::{generate, EXPIRED, ORPHAN, PLAINTEXT, STALE};
use crate::support::{read_testdata, require_peer, run, run_ok, testdata, text, Sandbox};
use serde_json::Value;
use std::collections::BTreeSet;

fn findings(report: &Value) -> BTreeSet<(String, String)> {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .flat_map(|f| {
            let path = f["path"].as_str().unwrap().to_string();
            f["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |x| (path.clone(), x["kind"].as_str().unwrap().to_string()))
        })
        .collect()
}

fn access_json(sb: &Sandbox) -> Value {
    let (code, out, err) = run(sb.veil().args(["access", "--json"]));
    let v: Value = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let expect = if v["summary"]["findings"] == 0 { 0 } else { 10 };
    assert_eq!(code, Some(expect), "{err}");
    v
}

#[test]
fn access_finds_exactly_the_planted_problems_in_a_50_file_repo() {
    let Some(repo) = generate() else { return };
    let sb = &repo.sb;
    let report = access_json(sb);
    let mut want: BTreeSet<(String, String)> = STALE
        .iter()
        .map(|p| (p.to_string(), "stale_recipient".to_string()))
        .collect();
    want.insert((EXPIRED.into(), "expired".into()));
    want.insert((PLAINTEXT.into(), "plaintext".into()));
    want.insert((ORPHAN.into(), "no_rule".into()));
    assert_eq!(findings(&report), want);
    assert_eq!(report["version"], 1);
    // README.md (plaintext, no rule) and .sops.yaml are not secrets files.
    assert_eq!(report["summary"]["files"], 49);
    let files = report["files"].as_array().unwrap();
    let file = |p: &str| files.iter().find(|f| f["path"] == p).unwrap().clone();
    // Stale recipients are named through the map; the age of a PGP file comes from created_at,
    // of an age-only file from lastmodified.
    let stale = &file(STALE[0])["findings"][0];
    assert_eq!(stale["recipient"]["name"], "bob");
    assert_eq!(
        stale["fix"],
        format!("veil updatekeys -y --rotate {}", STALE[0])
    );
    let expired = file(EXPIRED);
    assert_eq!(expired["data_key"]["basis"], "created_at");
    assert_eq!(expired["data_key"]["since"], "2020-01-01T00:00:00Z");
    assert_eq!(expired["findings"][0]["max_age"], "30d");
    let names: Vec<&str> = expired["key_groups"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "ops"]);
    assert_eq!(expired["key_groups"][0][1]["id"], repo.fpr.as_str());
    assert_eq!(
        file("staging/s00.yaml")["data_key"]["basis"],
        "lastmodified"
    );
    assert_eq!(file("staging/s00.yaml")["max_age"], Value::Null);
    assert_eq!(file("dev/d00.env")["max_age"], "90d");
    // No value of any file appears in any view.
    let table = run(sb.veil().arg("access")).1;
    let inverse = run(sb.veil().args(["access", "--by-recipient"])).1;
    for out in [&report.to_string().into_bytes(), &table, &inverse] {
        assert!(!text(out).contains("secret-"), "{}", text(out));
    }
    let table = text(&table);
    assert!(
        table.contains(&format!("  {EXPIRED}: expired: the data key is "))
            && table.contains("      fix: veil rotate -i prod/p03.yaml\n"),
        "{table}"
    );
    assert!(
        table.contains("6 finding(s) in 6 of 49 file(s):\n"),
        "{table}"
    );

    // The inverse view: bob opens exactly the three stale files, alice every encrypted one.
    let inverse = text(&inverse);
    let bob = inverse
        .split("\n\n")
        .next()
        .unwrap()
        .split("\nbob (")
        .nth(1)
        .expect("a bob section");
    let bob_files: Vec<&str> = bob
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with("    "))
        .collect();
    assert_eq!(
        bob_files,
        STALE.map(|p| format!("    {p}  (stale)")),
        "{inverse}"
    );
    assert!(bob
        .lines()
        .nth(1)
        .unwrap()
        .contains("opens 3 file(s), 3 of them stale (their rule does not name it)"));
    let recips = report["recipients"].as_array().unwrap();
    let alice = recips.iter().find(|r| r["name"] == "alice").unwrap();
    assert_eq!(alice["opens"].as_array().unwrap().len(), 48);

    // Fixing each finding clears it, and only it.
    run_ok(
        sb.veil().args(["updatekeys", "-y", "--rotate", STALE[0]]),
        "updatekeys",
    );
    run_ok(sb.veil().args(["rotate", "-i", EXPIRED]), "rotate");
    run_ok(sb.veil().args(["encrypt", "-i", PLAINTEXT]), "encrypt");
    let after = findings(&access_json(sb));
    let want: BTreeSet<(String, String)> = [
        (STALE[1].to_string(), "stale_recipient".to_string()),
        (STALE[2].into(), "stale_recipient".into()),
        (ORPHAN.into(), "no_rule".into()),
    ]
    .into();
    assert_eq!(after, want);
}

#[test]
fn sops_reads_and_updates_files_under_a_config_that_carries_the_policy() {
    if !require_peer("sops") {
        return;
    }
    let Some(repo) = generate() else { return };
    let sb = &repo.sb;
    // sops 3.11 decrypts, encrypts by the rules and updates keys with `veil:` and
    // `veil_max_age` in .sops.yaml (its config unmarshal ignores unknown keys).
    let out = run_ok(sb.sops().args(["decrypt", "prod/p00.yaml"]), "sops decrypt");
    assert_eq!(text(&out), "db:\n    password: prod-secret-0\n");
    sb.write("dev/new.env", "K=v\n");
    run_ok(
        sb.sops().args(["encrypt", "-i", "dev/new.env"]),
        "sops encrypt",
    );
    run_ok(
        sb.sops().args(["updatekeys", "-y", STALE[1]]),
        "sops updatekeys",
    );
    let report = access_json(sb);
    let f = findings(&report);
    assert!(!f.contains(&(STALE[1].to_string(), "stale_recipient".to_string())));
    assert!(f.contains(&(STALE[0].to_string(), "stale_recipient".to_string())));
    assert!(!f.iter().any(|(p, _)| p == "dev/new.env"), "{f:?}");
}

/// The hand-written files of `testdata/policy/golden` in a sandbox (no git: the plain walk).
fn golden_repo() -> Sandbox {
    let sb = Sandbox::new();
    let dir = testdata("policy/golden");
    for rel in [
        "sops.yaml",
        "prod/db.yaml",
        "dev/app.yaml",
        "dev/missing.yaml",
        "dev/new.env",
        "other/x.json",
        "other/README.txt",
    ] {
        let name = if rel == "sops.yaml" {
            ".sops.yaml"
        } else {
            rel
        };
        sb.write(name, std::fs::read(dir.join(rel)).unwrap());
    }
    sb
}

/// Compare with `testdata/policy/NAME`; `VEIL_UPDATE_GOLDEN=1` rewrites it.
fn golden(name: &str, got: &[u8]) {
    let path = testdata(&format!("policy/{name}"));
    if std::env::var("VEIL_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, got).unwrap();
    }
    assert_eq!(
        text(got),
        text(&read_testdata(&format!("policy/{name}"))),
        "{name} differs; if the change is intended, run with VEIL_UPDATE_GOLDEN=1 and review the diff"
    );
}

#[test]
fn the_json_table_and_recipient_views_match_their_golden_files() {
    let sb = golden_repo();
    let as_of = ["--as-of", "2026-06-01T00:00:00Z"];
    for (args, name) in [
        (vec!["--json"], "access.golden.json"),
        (vec![], "access.golden.txt"),
        (vec!["--by-recipient"], "by-recipient.golden.txt"),
    ] {
        let (code, out, err) = run(sb.veil().arg("access").args(as_of).args(&args));
        assert_eq!(code, Some(10), "{err}");
        assert_eq!(err, "");
        golden(name, &out);
    }
    // Paths narrow the report; a clean selection exits 0.
    let (code, out, _) = run(sb
        .veil()
        .args(["access", "--as-of", "2026-01-02T00:00:00Z", "prod"]));
    assert_eq!(code, Some(0), "{}", text(&out));
    assert!(
        text(&out).ends_with("no findings (1 files)\n"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_policy_mistake_is_an_error_that_says_where_and_what_to_write() {
    let sb = Sandbox::new();
    sb.write(
        ".sops.yaml",
        "creation_rules:\n  - path_regex: x\n    age: age1x\n    veil_max_age: 6m\n",
    );
    let (code, out, err) = run(sb.veil().arg("access"));
    assert_eq!(code, Some(1));
    assert!(out.is_empty());
    assert!(
        err.starts_with(
            "error loading veil policy: veil_max_age of creation rule 1: \"6m\": months are not a unit"
        ),
        "{err}"
    );
    assert!(err.contains("hint: units: h (hours), d (days)"), "{err}");
    let (code, _, err) = run(sb.veil().args(["access", "--as-of", "yesterday"]));
    assert_eq!(code, Some(1), "{err}");
}
