//! Presenting an access report: the file walk it starts from, the human table, the
//! per-recipient view and the JSON document (schema version 1, documented in
//! `docs/policy.md`; fields are only ever added within a version).
//!
//! Everything printed here is metadata the files already show in plain text (key identities,
//! times, paths): never a value.

use super::access::{printable, shell_word, FileReport, Finding, Recipient, Report, State};
use super::Basis;
use crate::error::{Error, Result};
use serde_json::{json, Value};
use std::path::Path;

/// The JSON schema's version.
pub const JSON_VERSION: u32 = 1;

/// The files under `dir`: what git lists there (tracked and untracked, without ignored files)
/// when `dir` is in a work tree, else every regular file below it except `.git/`. Symlinks are
/// not followed.
pub fn walk(dir: &str) -> Result<Vec<String>> {
    if let Some(files) = git_files(dir) {
        return Ok(files);
    }
    let mut out = Vec::new();
    walk_dir(Path::new(dir), &mut out)?;
    Ok(out
        .into_iter()
        .map(|p| p.strip_prefix("./").map(String::from).unwrap_or(p))
        .collect())
}

fn git_files(dir: &str) -> Option<Vec<String>> {
    let out = std::process::Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
        ])
        .arg(dir)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let mut files: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split('\0')
        .filter(|s| !s.is_empty())
        .filter(|s| std::fs::symlink_metadata(s).is_ok_and(|m| m.file_type().is_file()))
        .map(String::from)
        .collect();
    files.dedup();
    Some(files)
}

fn walk_dir(dir: &Path, out: &mut Vec<String>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::generic(format!("cannot list {}: {e}", dir.display()))
            .hint("check the directory's permissions")
    })?;
    for entry in entries {
        let entry = entry?;
        let t = entry.file_type()?;
        let path = entry.path();
        if t.is_dir() {
            if entry.file_name() != ".git" {
                walk_dir(&path, out)?;
            }
        } else if t.is_file() {
            out.push(path.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

fn recipient_json(r: &Recipient) -> Value {
    json!({ "name": r.name, "kind": r.kind, "id": r.id })
}

fn finding_json(f: &FileReport, x: &Finding) -> Value {
    let mut v = json!({
        "kind": x.kind(),
        "message": x.message(f.rule),
        "fix": x.fix(&f.path),
    });
    match x {
        Finding::StaleRecipient(r) | Finding::MissingRecipient(r) => {
            v["recipient"] = recipient_json(r);
        }
        Finding::Expired { days, max_age } => {
            v["age_days"] = json!(days);
            v["max_age"] = json!(max_age.text());
        }
        _ => {}
    }
    v
}

/// One recipient's files, for the inverse view.
struct Reach {
    who: Recipient,
    opens: Vec<String>,
    stale_in: Vec<String>,
    missing_in: Vec<String>,
}

fn by_recipient(report: &Report) -> Vec<Reach> {
    let mut all: Vec<Reach> = Vec::new();
    let slot = |all: &mut Vec<Reach>, r: &Recipient| -> usize {
        match all
            .iter()
            .position(|x| x.who.kind == r.kind && x.who.id == r.id)
        {
            Some(i) => i,
            None => {
                all.push(Reach {
                    who: r.clone(),
                    opens: Vec::new(),
                    stale_in: Vec::new(),
                    missing_in: Vec::new(),
                });
                all.len() - 1
            }
        }
    };
    for r in &report.rule_keys {
        slot(&mut all, r);
    }
    for f in &report.files {
        for r in f.groups.iter().flatten() {
            let i = slot(&mut all, r);
            if all[i].opens.last() != Some(&f.path) {
                all[i].opens.push(f.path.clone());
            }
        }
        for x in &f.findings {
            match x {
                Finding::StaleRecipient(r) => {
                    let i = slot(&mut all, r);
                    all[i].stale_in.push(f.path.clone());
                }
                Finding::MissingRecipient(r) => {
                    let i = slot(&mut all, r);
                    all[i].missing_in.push(f.path.clone());
                }
                _ => {}
            }
        }
    }
    all.sort_by(|a, b| a.who.cmp(&b.who));
    all
}

fn display_config(report: &Report, cwd: &Path) -> Option<String> {
    report.config.as_ref().map(|p| {
        p.strip_prefix(cwd)
            .map(|r| r.to_string_lossy().into_owned())
            .unwrap_or_else(|_| p.to_string_lossy().into_owned())
    })
}

/// The JSON document (schema version [`JSON_VERSION`]).
pub fn render_json(report: &Report, cwd: &Path) -> Result<String> {
    let files: Vec<Value> = report
        .files
        .iter()
        .map(|f| {
            json!({
                "path": f.path,
                "status": f.state.name(),
                "rule": f.rule.map(|r| r + 1),
                "max_age": f.max_age.as_ref().map(|m| m.text()),
                "lastmodified": f.lastmodified,
                "data_key": f.key_age.as_ref().map(|a| json!({
                    "since": a.since_text(),
                    "basis": a.basis.name(),
                    "age_days": a.days(report.now),
                })),
                "shamir_threshold": f.shamir_threshold,
                "key_groups": f.groups.iter().map(|g| g.iter().map(recipient_json).collect::<Vec<_>>()).collect::<Vec<_>>(),
                "findings": f.findings.iter().map(|x| finding_json(f, x)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let recipients: Vec<Value> = by_recipient(report)
        .into_iter()
        .map(|r| {
            let mut v = recipient_json(&r.who);
            v["opens"] = json!(r.opens);
            v["stale_in"] = json!(r.stale_in);
            v["missing_in"] = json!(r.missing_in);
            v
        })
        .collect();
    let doc = json!({
        "version": JSON_VERSION,
        "as_of": crate::tree::format_time_go(report.now),
        "config": display_config(report, cwd),
        "summary": {
            "files": report.files.len(),
            "findings": report.finding_count(),
            "files_with_findings": report.files.iter().filter(|f| !f.findings.is_empty()).count(),
        },
        "files": files,
        "recipients": recipients,
    });
    let mut s = serde_json::to_string_pretty(&doc)
        .map_err(|e| Error::generic(format!("cannot write json: {e}")))?;
    s.push('\n');
    Ok(s)
}

fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c + 1 == r.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn findings_text(report: &Report) -> String {
    let n = report.finding_count();
    if n == 0 {
        return format!("no findings ({} files)\n", report.files.len());
    }
    let with = report
        .files
        .iter()
        .filter(|f| !f.findings.is_empty())
        .count();
    let mut s = format!(
        "{n} finding(s) in {with} of {} file(s):\n",
        report.files.len()
    );
    for f in &report.files {
        for x in &f.findings {
            s.push_str(&format!(
                "  {}: {}: {}\n      fix: {}\n",
                printable(&f.path),
                x.kind().replace('_', " "),
                printable(&x.message(f.rule)),
                x.fix(&f.path)
            ));
        }
    }
    s
}

/// The default view: one row per file, then the findings with their fixes.
pub fn render_table(report: &Report) -> String {
    let mut rows = vec![vec![
        "FILE".to_string(),
        "RULE".into(),
        "KEY AGE".into(),
        "MAX AGE".into(),
        "LAST MODIFIED".into(),
        "RECIPIENTS".into(),
    ]];
    let mut lower_bound = false;
    for f in &report.files {
        let age = match &f.key_age {
            Some(a) if a.basis == Basis::LastModified => {
                lower_bound = true;
                format!("{}d+", a.days(report.now))
            }
            Some(a) => format!("{}d", a.days(report.now)),
            None => "-".into(),
        };
        let recipients = match f.state {
            State::Encrypted => f
                .groups
                .iter()
                .map(|g| {
                    g.iter()
                        .map(Recipient::short)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .collect::<Vec<_>>()
                .join(" | "),
            other => format!("({})", other.name()),
        };
        rows.push(vec![
            shell_word(&f.path),
            f.rule.map_or("-".into(), |r| (r + 1).to_string()),
            age,
            f.max_age
                .as_ref()
                .map_or("-".into(), |m| m.text().to_string()),
            f.lastmodified.clone().unwrap_or_else(|| "-".into()),
            recipients,
        ]);
    }
    let mut s = table(&rows);
    if lower_bound {
        s.push_str(
            "d+: counted from lastmodified (no key records created_at): at least this old\n",
        );
    }
    s.push('\n');
    s.push_str(&findings_text(report));
    s
}

/// The inverse view: per key, the files it opens.
pub fn render_by_recipient(report: &Report) -> String {
    let mut s = String::new();
    for r in by_recipient(report) {
        s.push_str(&format!(
            "{}\n  opens {} file(s){}{}\n",
            r.who.label(),
            r.opens.len(),
            if r.stale_in.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} of them stale (their rule does not name it)",
                    r.stale_in.len()
                )
            },
            if r.missing_in.is_empty() {
                String::new()
            } else {
                format!(
                    "; missing from {} file(s) whose rule names it",
                    r.missing_in.len()
                )
            },
        ));
        for p in &r.opens {
            let mark = if r.stale_in.contains(p) {
                "  (stale)"
            } else {
                ""
            };
            s.push_str(&format!("    {}{mark}\n", shell_word(p)));
        }
        for p in &r.missing_in {
            s.push_str(&format!("    {}  (missing)\n", shell_word(p)));
        }
    }
    s.push('\n');
    s.push_str(&findings_text(report));
    s
}
