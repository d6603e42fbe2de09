//! `veil access`: for each file, who can read it (its key groups, named through the policy's
//! map), how old its data key is, and what is wrong against `.sops.yaml` — recipients the rule
//! no longer names (they can still read the file), rule keys the file lacks, encrypted files no
//! rule matches, plaintext files a rule says must be encrypted, data keys past `max_age`.
//!
//! It reads metadata only: no key is needed, nothing is unwrapped or decrypted, no value is
//! looked at (a plaintext file is reported by name, never by content). Findings are facts about
//! metadata, which a committer controls; the report is for people and CI, not a security
//! boundary (a forged `created_at` can hide an age; see `max_age`).

use super::{data_key_age, KeyAge, MaxAge, Policy};
use crate::config::{self, Config};
use crate::error::Result;
use crate::format::Format;
use crate::keys::KeyRef;
use crate::metadata::Metadata;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// A master key as the report shows it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Recipient {
    /// The policy's name for it, if any.
    pub name: Option<String>,
    /// Its kind (`age`, `pgp`, `kms`, …).
    pub kind: &'static str,
    /// Its identity (recipient, fingerprint, ARN, key URL).
    pub id: String,
}

impl Recipient {
    fn of(key: &KeyRef, policy: &Policy) -> Recipient {
        Recipient {
            name: policy.name_of(key).map(String::from),
            kind: key.kind(),
            id: key.identity(),
        }
    }

    fn same_key(&self, other: &Recipient) -> bool {
        self.kind == other.kind && self.id == other.id
    }

    /// `alice (age age1…)`, or `age age1…` without a name.
    pub fn label(&self) -> String {
        let id = printable(&self.id);
        match &self.name {
            Some(n) => format!("{n} ({} {id})", self.kind),
            None => format!("{} {id}", self.kind),
        }
    }

    /// The name, or a shortened identity, for table cells.
    pub fn short(&self) -> String {
        let id = printable(&self.id);
        match &self.name {
            Some(n) => n.clone(),
            None if id.chars().count() > 16 => {
                format!("{}…", id.chars().take(15).collect::<String>())
            }
            None => id,
        }
    }
}

/// What is wrong with a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// Not encrypted, but a creation rule matches it.
    Plaintext,
    /// Encrypted, but no creation rule matches it.
    NoRule,
    /// In the file, not in its rule: it can still read the file.
    StaleRecipient(Recipient),
    /// In the rule, not in the file: it cannot read the file.
    MissingRecipient(Recipient),
    /// The data key is older than the rule's `max_age`.
    Expired { days: i64, max_age: MaxAge },
    /// The sops metadata cannot be read.
    Malformed(String),
    /// The file cannot be read.
    Unreadable(String),
}

impl Finding {
    /// The finding's kind in the JSON schema.
    pub fn kind(&self) -> &'static str {
        match self {
            Finding::Plaintext => "plaintext",
            Finding::NoRule => "no_rule",
            Finding::StaleRecipient(_) => "stale_recipient",
            Finding::MissingRecipient(_) => "missing_recipient",
            Finding::Expired { .. } => "expired",
            Finding::Malformed(_) => "malformed",
            Finding::Unreadable(_) => "unreadable",
        }
    }

    /// One line: what is wrong.
    pub fn message(&self, rule: Option<usize>) -> String {
        let rule = rule.map_or_else(|| "its rule".to_string(), |r| format!("rule {}", r + 1));
        match self {
            Finding::Plaintext => format!("not encrypted, but {rule} says it must be"),
            Finding::NoRule => "encrypted, but no creation rule matches it".into(),
            Finding::StaleRecipient(r) => {
                format!("{} can read it, but {rule} does not name it", r.label())
            }
            Finding::MissingRecipient(r) => {
                format!("{rule} names {}, which cannot read it", r.label())
            }
            Finding::Expired { days, max_age } => {
                format!("the data key is {days} days old, past {rule}'s max_age of {max_age}")
            }
            Finding::Malformed(m) => format!("malformed sops metadata: {m}"),
            Finding::Unreadable(m) => format!("cannot be read: {m}"),
        }
    }

    /// The command (or step) that clears it.
    pub fn fix(&self, path: &str) -> String {
        let p = shell_word(path);
        match self {
            Finding::Plaintext => format!("veil encrypt -i {p}"),
            Finding::NoRule => "add a creation rule for it to .sops.yaml, or move it".into(),
            // Removing the key is not enough: it may hold a copy of the current data key.
            Finding::StaleRecipient(_) => format!("veil updatekeys -y --rotate {p}"),
            Finding::MissingRecipient(_) => format!("veil updatekeys -y {p}"),
            Finding::Expired { .. } => format!("veil rotate -i {p}"),
            Finding::Malformed(_) => "restore the file from git".into(),
            Finding::Unreadable(_) => "check the file's permissions".into(),
        }
    }
}

/// `s` with control characters escaped (`\u{1b}`): identities come from file metadata and
/// paths from the file system, and neither may drive the terminal a report is read on.
pub fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A path as a shell word (quoted when it needs to be), for the fix lines; control characters
/// are escaped ([`printable`]).
pub fn shell_word(p: &str) -> String {
    let p = &printable(p);
    if !p.is_empty()
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=@:,".contains(c))
    {
        p.to_string()
    } else {
        format!("'{}'", p.replace('\'', r"'\''"))
    }
}

/// Whether a file is a sops file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Encrypted,
    Plaintext,
    Unreadable,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Encrypted => "encrypted",
            State::Plaintext => "plaintext",
            State::Unreadable => "unreadable",
        }
    }
}

/// The report on one file.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// As given, or relative to the current directory when found by the walk.
    pub path: String,
    pub state: State,
    /// The matching creation rule (0-based), if any.
    pub rule: Option<usize>,
    pub max_age: Option<MaxAge>,
    /// Key groups as stored (empty unless encrypted).
    pub groups: Vec<Vec<Recipient>>,
    pub shamir_threshold: usize,
    pub lastmodified: Option<String>,
    pub key_age: Option<KeyAge>,
    pub findings: Vec<Finding>,
}

/// The whole report.
#[derive(Clone, Debug)]
pub struct Report {
    /// The `.sops.yaml` used, if one was found.
    pub config: Option<PathBuf>,
    /// The time ages were judged at.
    pub now: OffsetDateTime,
    pub files: Vec<FileReport>,
    /// The keys the matched rules name, for the by-recipient view (files that lack them).
    pub rule_keys: Vec<Recipient>,
}

impl Report {
    pub fn finding_count(&self) -> usize {
        self.files.iter().map(|f| f.findings.len()).sum()
    }
}

/// What to look at.
pub struct Request<'a> {
    pub config: Option<&'a Config>,
    pub policy: &'a Policy,
    /// Paths the user named; empty: the current directory.
    pub paths: &'a [String],
    pub now: OffsetDateTime,
    pub cwd: &'a Path,
}

/// A file to report on, and whether the user named it (a named plaintext file no rule matches
/// is listed; a found one is not a secrets file and is left out).
struct Target {
    path: String,
    named: bool,
}

/// Build the report.
pub fn analyse(req: &Request) -> Result<Report> {
    let mut targets: Vec<Target> = Vec::new();
    let named = if req.paths.is_empty() {
        vec![".".to_string()]
    } else {
        req.paths.to_vec()
    };
    for p in &named {
        if Path::new(p).is_dir() {
            for f in super::report::walk(p)? {
                targets.push(Target {
                    path: f,
                    named: false,
                });
            }
        } else {
            targets.push(Target {
                path: p.clone(),
                named: true,
            });
        }
    }
    targets.sort_by(|a, b| a.path.cmp(&b.path));
    targets.dedup_by(|a, b| a.path == b.path);
    let config_path = req.config.map(|c| c.path.clone());
    let mut files = Vec::new();
    let mut rule_keys: Vec<Recipient> = Vec::new();
    for t in targets {
        let abs = config::absolute_clean(Path::new(&t.path), req.cwd);
        if config_path.as_deref() == Some(abs.as_path()) {
            continue;
        }
        let matched = match req.config {
            None => None,
            Some(c) => match c.rule_for(&abs) {
                Ok(r) => r,
                Err(e) if e.message == config::NO_MATCHING_RULE => None,
                Err(e) => return Err(e),
            },
        };
        let expected: Vec<Recipient> = matched
            .iter()
            .flat_map(|r| r.key_groups.iter().flatten())
            .map(|k| Recipient::of(k, req.policy))
            .collect();
        for r in &expected {
            if !rule_keys.iter().any(|k| k.same_key(r)) {
                rule_keys.push(r.clone());
            }
        }
        let rule = matched.as_ref().map(|r| r.index);
        let max_age = rule.and_then(|i| req.policy.max_age(i)).cloned();
        let mut f = FileReport {
            path: t.path.clone(),
            state: State::Plaintext,
            rule,
            max_age,
            groups: Vec::new(),
            shamir_threshold: 0,
            lastmodified: None,
            key_age: None,
            findings: Vec::new(),
        };
        match read_metadata(&t.path) {
            Err(why) => {
                f.state = State::Unreadable;
                f.findings.push(Finding::Unreadable(why));
            }
            Ok(Sops::Plain) => {
                if rule.is_some() {
                    f.findings.push(Finding::Plaintext);
                } else if !t.named {
                    continue;
                }
            }
            Ok(Sops::Malformed(why)) => {
                f.state = State::Encrypted;
                f.findings.push(Finding::Malformed(why));
            }
            Ok(Sops::Meta(meta)) => {
                f.state = State::Encrypted;
                judge(&mut f, &meta, &expected, req);
            }
        }
        files.push(f);
    }
    rule_keys.sort();
    Ok(Report {
        config: config_path,
        now: req.now,
        files,
        rule_keys,
    })
}

/// Fill in an encrypted file's keys, ages and findings.
fn judge(f: &mut FileReport, meta: &Metadata, expected: &[Recipient], req: &Request) {
    f.groups = meta
        .key_groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|k| Recipient::of(&k.key, req.policy))
                .collect()
        })
        .collect();
    f.shamir_threshold = meta.shamir_threshold;
    f.lastmodified = Some(meta.lastmodified.clone());
    f.key_age = data_key_age(meta);
    if f.rule.is_none() {
        f.findings.push(Finding::NoRule);
        return;
    }
    let present: Vec<&Recipient> = f.groups.iter().flatten().collect();
    // A rule with no keys (keys given on the command line) says nothing about recipients.
    if !expected.is_empty() {
        let mut seen: Vec<&Recipient> = Vec::new();
        for r in &present {
            if !expected.iter().any(|e| e.same_key(r)) && !seen.iter().any(|s| s.same_key(r)) {
                seen.push(r);
                f.findings.push(Finding::StaleRecipient((*r).clone()));
            }
        }
        let mut seen: Vec<&Recipient> = Vec::new();
        for e in expected {
            if !present.iter().any(|r| r.same_key(e)) && !seen.iter().any(|s| s.same_key(e)) {
                seen.push(e);
                f.findings.push(Finding::MissingRecipient(e.clone()));
            }
        }
    }
    if let (Some(max), Some(age)) = (&f.max_age, &f.key_age) {
        if age.past(max, req.now) {
            f.findings.push(Finding::Expired {
                days: age.days(req.now),
                max_age: max.clone(),
            });
        }
    }
}

/// What a file holds, as far as the report cares.
pub(crate) enum Sops {
    Plain,
    Malformed(String),
    Meta(Metadata),
}

/// Read `path` and its sops metadata, if it has any. Files without the word `lastmodified`
/// cannot be sops files and are not parsed.
pub(crate) fn read_metadata(path: &str) -> std::result::Result<Sops, String> {
    let data = std::fs::read(path).map_err(|e| e.to_string())?;
    Ok(metadata_of(&data, Format::from_path(path)))
}

/// The sops metadata of a file's bytes in `format`.
pub(crate) fn metadata_of(data: &[u8], format: Format) -> Sops {
    if memchr::memmem::find(data, b"lastmodified").is_none() {
        return Sops::Plain;
    }
    let Ok(parsed) = format.store().parse_encrypted(data) else {
        return Sops::Plain;
    };
    let Some(tree) = parsed.metadata() else {
        return Sops::Plain;
    };
    match Metadata::from_tree(tree) {
        Ok(m) if m.key_groups.iter().all(Vec::is_empty) => Sops::Malformed("no key groups".into()),
        Ok(m) => Sops::Meta(m),
        Err(e) => Sops::Malformed(e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_lines_quote_paths_for_the_shell() {
        assert_eq!(shell_word("a/b-c_d.yaml"), "a/b-c_d.yaml");
        assert_eq!(shell_word("my file's.yaml"), r"'my file'\''s.yaml'");
        assert_eq!(shell_word("$(x).env"), "'$(x).env'");
    }

    #[test]
    fn identities_and_paths_cannot_drive_the_terminal() {
        let r = Recipient {
            name: None,
            kind: "age",
            id: "age1\x1b[2Jx".into(),
        };
        assert_eq!(r.label(), "age age1\\u{1b}[2Jx");
        assert!(!r.short().contains('\x1b'));
        assert_eq!(shell_word("a\nb"), "'a\\u{a}b'");
    }

    #[test]
    fn a_file_without_sops_metadata_is_plaintext() {
        assert!(matches!(
            metadata_of(b"a: 1\nlastmodified: x\n", Format::Yaml),
            Sops::Plain
        ));
        assert!(matches!(metadata_of(b"a=1\n", Format::Dotenv), Sops::Plain));
        assert!(matches!(
            metadata_of(b"\x00\x01lastmodified\xff", Format::Binary),
            Sops::Plain
        ));
    }
}
