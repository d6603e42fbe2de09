//! `veil check [PATHS…]`: the pre-commit guard. It refuses a file that a creation rule matches
//! but that is not encrypted, a leaf the file's rule says must be sealed but is plaintext,
//! malformed sops metadata (as sops would refuse it), a missing `veil_integrity` field the
//! creation rule requires, a data key past its rule's `max_age` (docs/policy.md), and (when a
//! key is at hand) an integrity field or a MAC that does not verify — including a rule edited
//! in the metadata.
//!
//! It exists because sops has no verifying check and plaintext gets committed. It must never
//! print a value: reasons name key paths only. With `--staged` it reads what git will commit
//! (the index), never the work tree.

use super::args::CheckArgs;
use crate::config::{self, Config};
use crate::crypto::value::is_enc;
use crate::engine;
use crate::error::{Code, Error, Result};
use crate::format::Format;
use crate::keys::KeyService;
use crate::metadata::{Metadata, Rule};
use crate::policy::access::{metadata_of, Sops};
use crate::policy::rotation;
use crate::tree::{aad, walk_leaves};
use std::path::{Path, PathBuf};

/// The verdict on one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub path: String,
    /// Why the file fails; empty when it passes.
    pub reasons: Vec<String>,
    /// Notes that are not failures (e.g. the MAC could not be checked without a key).
    pub notes: Vec<String>,
    /// Whether veil looked at the file at all (a file neither matched by a rule nor encrypted
    /// is skipped).
    pub checked: bool,
}

/// Run a git command in the current directory and return its stdout.
pub fn git(args: &[&str]) -> Result<Vec<u8>> {
    let out = std::process::Command::new("git")
        .args(args)
        .output()
        .map_err(|e| {
            Error::generic(format!("cannot run git: {e}")).hint("install git, or put it on PATH")
        })?;
    if !out.status.success() {
        let first = String::from_utf8_lossy(&out.stderr)
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        return Err(Error::generic(format!(
            "git {} failed: {first}",
            args.first().copied().unwrap_or("")
        ))
        .hint("run veil inside a git repository"));
    }
    Ok(out.stdout)
}

fn lines(out: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(out)
        .split('\0')
        .flat_map(|s| s.lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The files to check: the paths given, else the staged (added, copied, modified, renamed)
/// files with `--staged`, else every tracked file.
fn targets(a: &CheckArgs) -> Result<Vec<String>> {
    if !a.paths.is_empty() {
        return Ok(a.paths.clone());
    }
    if a.staged {
        // Paths from the repository root, made relative to the current directory.
        let cdup = String::from_utf8_lossy(&git(&["rev-parse", "--show-cdup"])?)
            .trim()
            .to_string();
        return Ok(lines(&git(&[
            "diff",
            "--cached",
            "--name-only",
            "--diff-filter=ACMR",
            "-z",
        ])?)
        .into_iter()
        .map(|p| format!("{cdup}{p}"))
        .collect());
    }
    Ok(lines(&git(&["ls-files", "-z"])?))
}

/// The staged content of `path` (`git show :path`), or `None` when it is not in the index.
fn staged_content(path: &str) -> Result<Option<Vec<u8>>> {
    let listed = git(&["ls-files", "-s", "-z", "--", path])?;
    let text = String::from_utf8_lossy(&listed);
    let Some(entry) = text.split('\0').find(|s| !s.is_empty()) else {
        return Ok(None);
    };
    // "<mode> <object> <stage>\t<path>"
    let Some(object) = entry.split_whitespace().nth(1) else {
        return Ok(None);
    };
    git(&["cat-file", "blob", object]).map(Some)
}

/// Check one file's bytes. `creation` is the encryption rule of the creation rule that matches
/// its path, if one does.
pub fn check_bytes(
    path: &str,
    data: &[u8],
    format: Format,
    creation: Option<&Rule>,
    require_integrity: bool,
    check_mac: bool,
    keys: &KeyService,
) -> Verdict {
    let rule_matched = creation.is_some();
    let mut v = Verdict {
        path: path.to_string(),
        reasons: Vec::new(),
        notes: Vec::new(),
        checked: true,
    };
    let parsed = match format.store().parse_encrypted(data) {
        Ok(p) => p,
        Err(e) => {
            if rule_matched {
                // A matched binary file that is not a sops JSON document is plaintext.
                if format == Format::Binary {
                    v.reasons
                        .push("not encrypted (a creation rule matches this file)".into());
                } else {
                    v.reasons.push(format!(
                        "cannot be parsed as {}: {}",
                        format.name(),
                        e.message
                    ));
                }
            } else {
                v.checked = false;
            }
            return v;
        }
    };
    let Some(meta_tree) = parsed.metadata() else {
        if rule_matched {
            v.reasons
                .push("not encrypted (a creation rule matches this file)".into());
        } else {
            v.checked = false;
        }
        return v;
    };
    let meta = match Metadata::from_tree(meta_tree) {
        Ok(m) => m,
        Err(e) => {
            v.reasons
                .push(format!("malformed sops metadata: {}", e.message));
            return v;
        }
    };
    if meta.key_groups.is_empty() || meta.key_groups.iter().all(Vec::is_empty) {
        v.reasons
            .push("malformed sops metadata: no key groups".into());
    }
    if meta.lastmodified.is_empty() {
        v.reasons
            .push("malformed sops metadata: no lastmodified".into());
    } else if let Err(e) = crate::metadata::check_loadable(&meta) {
        // sops refuses such a file (a cut-off `version`, a damaged `lastmodified`).
        v.reasons
            .push(format!("malformed sops metadata: {}", e.message));
    }
    if meta.mac.is_empty() {
        v.reasons.push("malformed sops metadata: no mac".into());
    }
    let selector = match crate::select::Selector::new(&meta.rule, meta.mac_only_encrypted) {
        Ok(s) => s,
        Err(e) => {
            v.reasons
                .push(format!("malformed sops metadata: {}", e.message));
            return v;
        }
    };
    let mut plain_paths: Vec<(String, &str)> = Vec::new();
    let mut find_plain = |sel: &crate::select::Selector, whose: &'static str| {
        let sealed = sel.encrypted_leaves(parsed.docs());
        walk_leaves(parsed.docs(), |i, p, s| {
            if !sealed.get(i).copied().unwrap_or(false) || s.is_empty_text() {
                return;
            }
            if !matches!(s.as_text(), Some(t) if is_enc(t)) {
                let at = aad(p);
                if !plain_paths.iter().any(|(x, _)| *x == at) {
                    plain_paths.push((at, whose));
                }
            }
        });
    };
    find_plain(&selector, "the file's rule");
    // Without a key the MAC cannot be checked, and the rule in the metadata could have been
    // loosened along with a value turned into plaintext: the creation rule is the reference.
    // (With a key, a rule edit breaks the MAC, since opening follows the file's rule.)
    let default = |r: &Rule| match r {
        Rule::None => Rule::UnencryptedSuffix(crate::select::DEFAULT_UNENCRYPTED_SUFFIX.into()),
        other => other.clone(),
    };
    if creation.is_some_and(|r| default(r) != default(&meta.rule) && format != Format::Binary) {
        // Without a key this is the only sign of a rule edited in the metadata.
        v.notes.push(
            "the file's encryption rule is not its creation rule's (changed in .sops.yaml, or edited in the file)"
                .into(),
        );
    }
    if let Some(r) = creation.filter(|r| **r != meta.rule && format != Format::Binary) {
        match crate::select::Selector::new(r, meta.mac_only_encrypted) {
            Ok(sel) => find_plain(&sel, "the creation rule in .sops.yaml"),
            Err(e) => v
                .reasons
                .push(format!("the creation rule cannot be used: {}", e.message)),
        }
    }
    for (at, whose) in plain_paths {
        v.reasons.push(format!(
            "plaintext value at {at} ({whose} says it must be encrypted)"
        ));
    }
    // Stripping veil's integrity field is visible without a key.
    if require_integrity && meta.integrity.is_none() {
        v.reasons.push(format!(
            "no {} field, but its creation rule requires one (stripped, or written by sops: `veil updatekeys` adds it)",
            crate::metadata::integrity::FIELD
        ));
    }
    if !v.reasons.is_empty() || !check_mac {
        return v;
    }
    let order = engine::parse_decryption_order(None).unwrap_or_default();
    match engine::unwrap_data_key(&meta, keys, &order) {
        Err(_) => v
            .notes
            .push("mac not checked: no key available to decrypt this file".into()),
        Ok(key) => {
            if let Err(e) = engine::check_integrity(&meta, parsed.docs(), &key, false) {
                v.reasons.push(e.message);
            } else if let Err(e) = engine::open_leaves(parsed.docs(), &key, &meta, false) {
                if e.code == Code::MacMismatch {
                    v.reasons.push(
                        "the MAC does not verify (the file was changed outside veil/sops)".into(),
                    );
                } else {
                    v.reasons
                        .push(format!("cannot be decrypted: {}", e.message));
                }
            }
        }
    }
    v
}

/// The encryption rule of the creation rule of `conf` that matches `path`, if one does.
pub fn matching_rule(conf: Option<&Config>, path: &Path) -> Result<Option<Rule>> {
    Ok(matching(conf, path)?.map(|r| r.rule))
}

/// The creation rule of `conf` that matches `path`, if one does.
fn matching(conf: Option<&Config>, path: &Path) -> Result<Option<config::ConfigRule>> {
    let Some(c) = conf else { return Ok(None) };
    let cwd = std::env::current_dir()?;
    let abs = config::absolute_clean(path, &cwd);
    match c.rule_for(&abs) {
        Ok(r) => Ok(r),
        Err(e) if e.message == config::NO_MATCHING_RULE => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether a creation rule of `conf` matches `path`.
pub fn rule_matches(conf: Option<&Config>, path: &Path) -> Result<bool> {
    Ok(matching_rule(conf, path)?.is_some())
}

/// Load the project's `.sops.yaml` (the global `--config`, `SOPS_CONFIG`, else upward from
/// the current directory), if any.
pub fn load_conf() -> Result<Option<Config>> {
    let explicit = super::explicit_config();
    let cwd = std::env::current_dir()?;
    Ok(config::load_config(explicit.as_deref(), &cwd)?.0)
}

pub fn run(a: &CheckArgs) -> Result<i32> {
    let conf = load_conf()?;
    let policy = conf
        .as_ref()
        .map(crate::policy::Policy::from_config)
        .transpose()?;
    let now = time::OffsetDateTime::now_utc();
    let ks = KeyService::local();
    let mut verdicts = Vec::new();
    let mut overdue_only = 0;
    for path in targets(a)? {
        let matched = matching(conf.as_ref(), &PathBuf::from(&path))?;
        let limit = matched.as_ref().and_then(|r| {
            let max_age = policy.as_ref()?.max_age(r.index)?.clone();
            Some(rotation::Limit {
                max_age,
                rule: r.index,
            })
        });
        let require_integrity =
            crate::env::require_integrity() || matched.as_ref().is_some_and(|r| r.integrity);
        let creation = matched.map(|r| r.rule);
        let data = if a.staged {
            match staged_content(&path)? {
                Some(d) => d,
                None => {
                    if !a.paths.is_empty() {
                        verdicts.push(Verdict {
                            path: path.clone(),
                            reasons: vec!["not in the index".into()],
                            notes: vec![],
                            checked: true,
                        });
                    }
                    continue;
                }
            }
        } else {
            match std::fs::read(&path) {
                Ok(d) => d,
                Err(e) => {
                    verdicts.push(Verdict {
                        path: path.clone(),
                        reasons: vec![format!("cannot be read: {e}")],
                        notes: vec![],
                        checked: true,
                    });
                    continue;
                }
            }
        };
        let format = a
            .input_type
            .as_deref()
            .and_then(Format::from_name)
            .unwrap_or_else(|| Format::from_path(&path));
        let mut v = check_bytes(
            &path,
            &data,
            format,
            creation.as_ref(),
            require_integrity,
            !a.no_mac,
            &ks,
        );
        // A data key past its rule's max_age (the policy in .sops.yaml, docs/policy.md).
        if let (Some(l), Sops::Meta(meta)) = (&limit, metadata_of(&data, format)) {
            if let Some(o) = rotation::overdue(&meta, l, now) {
                v.reasons.push(o.reason(&path));
                if v.reasons.len() == 1 {
                    overdue_only += 1;
                }
            }
        }
        verdicts.push(v);
    }
    let failed = verdicts.iter().filter(|v| !v.reasons.is_empty()).count();
    if a.json {
        let files: Vec<serde_json::Value> = verdicts
            .iter()
            .filter(|v| v.checked)
            .map(|v| {
                serde_json::json!({
                    "path": v.path,
                    "ok": v.reasons.is_empty(),
                    "reasons": v.reasons,
                    "notes": v.notes,
                })
            })
            .collect();
        let doc = serde_json::json!({ "ok": failed == 0, "failed": failed, "files": files });
        let mut s = serde_json::to_string_pretty(&doc)
            .map_err(|e| Error::generic(format!("cannot write json: {e}")))?;
        s.push('\n');
        super::io::write_stdout(s.as_bytes())?;
    } else {
        let mut s = String::new();
        for v in verdicts.iter().filter(|v| v.checked) {
            for r in &v.reasons {
                s.push_str(&format!("{}: {r}\n", v.path));
            }
            for n in &v.notes {
                s.push_str(&format!("{}: note: {n}\n", v.path));
            }
        }
        if failed > overdue_only {
            s.push_str(&format!(
                "veil check: {failed} file(s) failed; encrypt them (`veil encrypt -i FILE`) or restore them before committing\n"
            ));
        } else if failed > 0 {
            s.push_str(&format!(
                "veil check: {failed} file(s) past their max_age; rotate them (`veil rotate -i FILE`) before committing\n"
            ));
        }
        super::io::write_stdout(s.as_bytes())?;
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_matched_file_fails() {
        let ks = KeyService::local();
        let v = check_bytes(
            "a.yaml",
            b"a: secret\n",
            Format::Yaml,
            Some(&Rule::None),
            false,
            false,
            &ks,
        );
        assert_eq!(v.reasons.len(), 1);
        assert!(v.reasons[0].contains("not encrypted"));
        assert!(!v.reasons[0].contains("secret"));
    }

    #[test]
    fn plaintext_unmatched_file_is_skipped() {
        let ks = KeyService::local();
        let v = check_bytes("a.yaml", b"a: 1\n", Format::Yaml, None, false, false, &ks);
        assert!(!v.checked);
        assert!(v.reasons.is_empty());
    }

    #[test]
    fn plaintext_leaf_in_encrypted_file_fails() {
        let ks = KeyService::local();
        let src = b"a: hunter2\nsops:\n    age:\n        - recipient: age1xyz\n          enc: x\n    lastmodified: \"2024-01-01T00:00:00Z\"\n    mac: ENC[AES256_GCM,data:AA==,iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]\n    unencrypted_suffix: _unencrypted\n    version: 3.11.0\n";
        let v = check_bytes(
            "a.yaml",
            src,
            Format::Yaml,
            Some(&Rule::None),
            false,
            false,
            &ks,
        );
        assert!(
            v.reasons
                .iter()
                .any(|r| r.contains("plaintext value at a:")),
            "{:?}",
            v.reasons
        );
        assert!(v.reasons.iter().all(|r| !r.contains("hunter2")));
    }

    #[test]
    fn a_loosened_rule_in_the_metadata_does_not_hide_plaintext() {
        let ks = KeyService::local();
        let src = b"a: hunter2\nsops:\n    age:\n        - recipient: age1xyz\n          enc: x\n    lastmodified: \"2024-01-01T00:00:00Z\"\n    mac: ENC[AES256_GCM,data:AA==,iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]\n    unencrypted_regex: ^a$\n    version: 3.11.0\n";
        let v = check_bytes("a.yaml", src, Format::Yaml, None, false, false, &ks);
        assert!(v.reasons.is_empty(), "{:?}", v.reasons);
        let v = check_bytes(
            "a.yaml",
            src,
            Format::Yaml,
            Some(&Rule::None),
            false,
            false,
            &ks,
        );
        assert!(
            v.reasons
                .iter()
                .any(|r| r.contains("plaintext value at a:") && r.contains("creation rule")),
            "{:?}",
            v.reasons
        );
    }

    #[test]
    fn malformed_metadata_fails() {
        let ks = KeyService::local();
        let v = check_bytes(
            "a.yaml",
            b"a: 1\nsops: 5\n",
            Format::Yaml,
            None,
            false,
            false,
            &ks,
        );
        assert!(
            v.reasons.iter().any(|r| r.contains("malformed")),
            "{:?}",
            v.reasons
        );
    }
}
