//! `veil diff`: which key paths changed between two versions of encrypted files, told without
//! a key (`crate::diff`). The versions come from git revisions (`REV..REV [PATH…]`, blobs read
//! with `git cat-file`, never through a shell), from two files, or from git itself when veil is
//! its external diff program (`GIT_EXTERNAL_DIFF='veil diff'`, seven arguments per file).
//! `--values` decrypts both versions (a key is needed; each decryption is audited like
//! `decrypt`) and shows old and new values; `--json` is for CI bots.
//!
//! sops has no `diff` command, so the name is free. This command never changes a file and
//! never prints a value unless `--values` asks for them. The textconv driver
//! (`veil git textconv`) is untouched: it stays the full-text view for people with a key.

use super::args::DiffArgs;
use crate::diff::{compare, compare_docs, KeyPath, Report, Status, Version};
use crate::engine::{self, DecryptOptions};
use crate::error::{Code, Error, Result};
use crate::format::Format;
use crate::keys::KeyService;
use crate::tree::Value;
use std::fmt::Write as _;

/// Two versions of one file; `None` for a side that does not exist.
struct Pair {
    /// The name shown (repository-relative in git modes).
    path: String,
    old: Option<Vec<u8>>,
    new: Option<Vec<u8>>,
}

/// The outcome for one file.
struct FileDiff {
    path: String,
    /// `added` / `deleted` for a file present on one side only.
    file: Option<&'static str>,
    report: Report,
    /// `--values`: the plaintext comparison and the values of its changed paths.
    values: Option<ValueDiff>,
}

struct ValueDiff {
    report: Report,
    /// (path, old, new) for every added, removed or changed path.
    values: Vec<(KeyPath, Option<String>, Option<String>)>,
}

pub fn run(a: &DiffArgs) -> Result<i32> {
    let (pairs, ext) = inputs(a)?;
    // Two files named by the user: anything but two encrypted files is an error. In the git
    // modes a file that is not encrypted is passed over (or, for git's external diff, handed
    // back to git's own diff).
    let files_mode = ext.is_none() && a.args.len() == 2 && !a.args[0].contains("..");
    let mut out = Vec::new();
    for p in &pairs {
        let format = a
            .input_type
            .as_deref()
            .and_then(Format::from_name)
            .unwrap_or_else(|| Format::from_path(&p.path));
        let parse = |d: &Option<Vec<u8>>| -> Result<Version> {
            match d {
                Some(d) => Version::parse(format, d).map_err(|e| e.context(&p.path)),
                None => Ok(Version::absent()),
            }
        };
        let (old, new) = match (parse(&p.old), parse(&p.new)) {
            (Ok(o), Ok(n)) => (o, n),
            // Not a file veil can parse: in git modes it is not an encrypted file of ours.
            (Err(_), _) | (_, Err(_)) if !files_mode => {
                fallback(ext.as_ref())?;
                continue;
            }
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        if old.metadata.is_none() && new.metadata.is_none() {
            if files_mode {
                return Err(Error::new(
                    Code::Generic,
                    format!(
                        "neither {} nor {} is an encrypted file",
                        a.args[0], a.args[1]
                    ),
                )
                .hint("veil diff compares sops files; use diff(1) for plaintext"));
            }
            fallback(ext.as_ref())?;
            continue;
        }
        let file = match (&p.old, &p.new) {
            (None, Some(_)) => Some("added"),
            (Some(_), None) => Some("deleted"),
            _ => None,
        };
        let report = compare(&old, &new);
        let values = if a.values {
            Some(value_diff(p, format)?)
        } else {
            None
        };
        out.push(FileDiff {
            path: p.path.clone(),
            file,
            report,
            values,
        });
    }
    let text = if a.json {
        let mut s = serde_json::to_string_pretty(&json(&out)).unwrap_or_default();
        s.push('\n');
        s
    } else {
        human(&out, ext.is_some())
    };
    super::io::write_stdout(text.as_bytes())?;
    Ok(0)
}

/// Work out the pairs to compare from the arguments; the second item is `Some` in external-diff
/// mode (git's arguments, for the fallback of files that are not ours).
fn inputs(a: &DiffArgs) -> Result<(Vec<Pair>, Option<Vec<String>>)> {
    let args = &a.args;
    if let Some(ext) = external_diff_args(args) {
        let read = |f: &str| -> Result<Option<Vec<u8>>> {
            if f == "/dev/null" {
                return Ok(None);
            }
            std::fs::read(f).map(Some).map_err(Error::from)
        };
        let pair = Pair {
            path: ext[0].clone(),
            old: read(&ext[1])?,
            new: read(&ext[4])?,
        };
        return Ok((vec![pair], Some(ext)));
    }
    if args.len() == 2 && !args[0].contains("..") {
        let read = |f: &str| super::io::read_existing(f, false).map(Some);
        let pair = Pair {
            path: args[1].clone(),
            old: read(&args[0])?,
            new: read(&args[1])?,
        };
        return Ok((vec![pair], None));
    }
    let Some(range) = args.first().filter(|r| r.contains("..")) else {
        return Err(Error::new(
            Code::Generic,
            "veil diff needs two revisions (REV..REV) or two files",
        )
        .hint("e.g. `veil diff HEAD~1..HEAD`, `veil diff main.. secrets/`, `veil diff old.enc.yaml new.enc.yaml`"));
    };
    if range.contains("...") {
        return Err(
            Error::new(Code::Generic, "veil diff takes REV..REV, not REV...REV")
                .hint("name the merge base yourself: veil diff $(git merge-base A B)..B"),
        );
    }
    let (l, r) = range.split_once("..").unwrap_or((range, ""));
    let side = |s: &str| if s.is_empty() { "HEAD" } else { s }.to_string();
    let (l, r) = (side(l), side(r));
    // A side that starts with `-` would reach git as an option (`--output=FILE..HEAD` makes git
    // write a file of the caller's choosing); no revision name starts with one.
    if let Some(bad) = [&l, &r].into_iter().find(|s| s.starts_with('-')) {
        return Err(Error::new(
            Code::Generic,
            format!("veil diff: {bad:?} is not a revision (it starts with '-')"),
        )
        .hint("name revisions like HEAD~1..HEAD or main..; files go after the range"));
    }
    let mut cmd = vec![
        "diff",
        "--name-only",
        "-z",
        "--no-renames",
        "--no-ext-diff",
        "--no-textconv",
        l.as_str(),
        r.as_str(),
        "--",
    ];
    cmd.extend(args[1..].iter().map(String::as_str));
    let names = super::check::git(&cmd)?;
    // `git diff --name-only` names files relative to the top of the work tree; `cat-file`'s
    // `REV:PATH` is relative to the top too.
    let mut pairs = Vec::new();
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        pairs.push(Pair {
            old: blob(&l, &name)?,
            new: blob(&r, &name)?,
            path: name,
        });
    }
    Ok((pairs, None))
}

/// `REV:PATH`'s content, `None` when the path does not exist at REV. Read with `git cat-file`
/// (argv, no shell; no textconv is applied).
fn blob(rev: &str, path: &str) -> Result<Option<Vec<u8>>> {
    let spec = format!("{rev}:{path}");
    let exists = std::process::Command::new("git")
        .args(["cat-file", "-e", &spec])
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| Error::generic(format!("cannot run git: {e}")))?;
    if !exists.success() {
        return Ok(None);
    }
    super::check::git(&["cat-file", "blob", &spec]).map(Some)
}

/// git's arguments to an external diff program: `path old-file old-hex old-mode new-file
/// new-hex new-mode` (and, for a rename, the new name and a message). `None` otherwise.
fn external_diff_args(args: &[String]) -> Option<Vec<String>> {
    if args.len() != 7 && args.len() != 9 {
        return None;
    }
    let hex = |s: &str| s == "." || (s.len() >= 40 && s.bytes().all(|b| b.is_ascii_hexdigit()));
    let mode =
        |s: &str| s == "." || (s.len() == 6 && s.bytes().all(|b| (b'0'..=b'7').contains(&b)));
    (hex(&args[2]) && mode(&args[3]) && hex(&args[5]) && mode(&args[6])).then(|| args.to_vec())
}

/// A file that is not an encrypted file (it does not parse as one, or has no metadata): in
/// external-diff mode git still needs its diff, so git's own is shown; in the revision mode it
/// is left out (a range holds every kind of file).
fn fallback(ext: Option<&Vec<String>>) -> Result<()> {
    let Some(ext) = ext else {
        return Ok(());
    };
    let out = std::process::Command::new("git")
        .args(["diff", "--no-index", "--no-ext-diff", "--no-color", "--"])
        .arg(&ext[1])
        .arg(&ext[4])
        .output()
        .map_err(|e| Error::generic(format!("cannot run git: {e}")))?;
    super::io::write_stdout(&out.stdout)
}

/// `--values`: decrypt both sides (audited) and compare the opened documents.
fn value_diff(p: &Pair, format: Format) -> Result<ValueDiff> {
    let audit = crate::audit::Log::from_env()?;
    let open = |d: &Option<Vec<u8>>| -> Result<Vec<Value>> {
        let Some(d) = d else { return Ok(Vec::new()) };
        let parsed = format.store().parse_encrypted(d)?;
        let mut access = crate::audit::Access {
            command: "diff-values".into(),
            file: Some(crate::audit::absolute(&p.path)),
            ..Default::default()
        };
        if let Some(m) = parsed.metadata() {
            (access.mac, access.lastmodified) = crate::audit::version_of(m);
        }
        let r = engine::decrypt(
            parsed.as_ref(),
            &DecryptOptions {
                ignore_mac: false,
                decryption_order: engine::parse_decryption_order(None)?,
                require_integrity: crate::env::require_integrity(),
            },
            &KeyService::local(),
        );
        if let Ok(dec) = &r {
            access.keys = crate::audit::key_uses(parsed.metadata(), &dec.unwrapped_by);
        }
        if let Some(log) = &audit {
            log.append(&access, crate::audit::Outcome::of(&r))?;
        }
        Ok(r.map_err(|e| e.context(&p.path))?.docs)
    };
    let (old, new) = (open(&p.old)?, open(&p.new)?);
    let report = compare_docs(&old, &new);
    let (lo, ln) = (crate::diff::leaves(&old), crate::diff::leaves(&new));
    let show = |l: Option<&crate::diff::Leaf>| {
        l.map(|l| match l {
            crate::diff::Leaf::Scalar(s) => String::from_utf8_lossy(&s.plaintext()).into_owned(),
            crate::diff::Leaf::Null => "null".into(),
            crate::diff::Leaf::EmptyMap => "{}".into(),
            crate::diff::Leaf::EmptyList => "[]".into(),
        })
    };
    let mut values = Vec::new();
    for path in report
        .changed
        .iter()
        .chain(&report.added)
        .chain(&report.removed)
    {
        values.push((path.clone(), show(lo.get(path)), show(ln.get(path))));
    }
    values.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(ValueDiff { report, values })
}

fn status_text(d: &FileDiff) -> String {
    let r = &d.report;
    match (d.file, r.status) {
        (Some("added"), _) => "new file".into(),
        (Some(_), _) => "deleted file".into(),
        (None, Status::Unchanged) => "no change".into(),
        (None, Status::MetadataOnly) => format!("metadata only ({})", r.metadata.join(", ")),
        (None, Status::Changed) => "changed".into(),
        (None, Status::DataKeyRotated) => {
            "data key rotated: all values re-encrypted, changes cannot be told without a key".into()
        }
        (None, Status::AllReencrypted) => "every value re-encrypted with the same data key (as sops does on each change): changes cannot be told without a key (--values shows them)".into(),
    }
}

fn human(files: &[FileDiff], ext: bool) -> String {
    let mut s = String::new();
    for d in files {
        if ext {
            let _ = writeln!(s, "diff --veil a/{0} b/{0}", d.path);
        }
        let _ = writeln!(s, "{}: {}", d.path, status_text(d));
        let r = d.values.as_ref().map_or(&d.report, |v| &v.report);
        let mut lines: Vec<(&KeyPath, char)> = Vec::new();
        lines.extend(r.changed.iter().map(|p| (p, '~')));
        lines.extend(r.added.iter().map(|p| (p, '+')));
        lines.extend(r.removed.iter().map(|p| (p, '-')));
        lines.sort();
        for (p, c) in lines {
            let _ = writeln!(s, "  {c} {p}");
            if let Some(v) = &d.values {
                if let Some((_, old, new)) = v.values.iter().find(|(q, _, _)| q == p) {
                    if let Some(o) = old {
                        let _ = writeln!(s, "      - {}", o.replace('\n', "\n        "));
                    }
                    if let Some(n) = new {
                        let _ = writeln!(s, "      + {}", n.replace('\n', "\n        "));
                    }
                }
            }
        }
        if d.file.is_none() {
            for k in &d.report.recipients_added {
                let _ = writeln!(s, "  recipient added: {k}");
            }
            for k in &d.report.recipients_removed {
                let _ = writeln!(s, "  recipient removed: {k}");
            }
        }
    }
    s
}

fn json(files: &[FileDiff]) -> serde_json::Value {
    use serde_json::json;
    let paths = |v: &[KeyPath]| -> Vec<serde_json::Value> {
        v.iter()
            .map(|p| json!({"path": p.to_string(), "keys": p.to_json()}))
            .collect()
    };
    let list: Vec<serde_json::Value> = files
        .iter()
        .map(|d| {
            let r = &d.report;
            let mut o = json!({
                "path": d.path,
                "status": d.file.unwrap_or(r.status.name()),
                "added": paths(&r.added),
                "removed": paths(&r.removed),
                "changed": paths(&r.changed),
                "recipients": {"added": r.recipients_added, "removed": r.recipients_removed},
                "metadata": r.metadata,
            });
            if let Some(v) = &d.values {
                let vals: Vec<serde_json::Value> = v
                    .values
                    .iter()
                    .map(|(p, old, new)| {
                        json!({"path": p.to_string(), "keys": p.to_json(), "old": old, "new": new})
                    })
                    .collect();
                o["values"] = json!({
                    "added": paths(&v.report.added),
                    "removed": paths(&v.report.removed),
                    "changed": paths(&v.report.changed),
                    "diff": vals,
                });
            }
            o
        })
        .collect();
    json!({"version": 1, "files": list})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gits_external_diff_arguments_are_recognised() {
        let h = "0123456789abcdef0123456789abcdef01234567".to_string();
        let a: Vec<String> = ["s.yaml", "/tmp/x", &h, "100644", "s.yaml", &h, "100644"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(external_diff_args(&a).is_some());
        let added: Vec<String> = ["s.yaml", "/dev/null", ".", ".", "s.yaml", &h, "100644"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(external_diff_args(&added).is_some());
        let two = vec!["a.yaml".to_string(), "b.yaml".to_string()];
        assert!(external_diff_args(&two).is_none());
    }
}
