//! The declassification guard: no change to an encrypted file may write in plaintext a value
//! (or comment) that the file held encrypted, unless the user changed the encryption rule.
//!
//! It exists because every command that changes an encrypted file (edit, set, unset, rotate,
//! updatekeys, the merge driver, `encrypt --reuse-from`) re-seals a plaintext tree with the
//! file's rule, and anything that makes that rule judge a leaf differently than when the file
//! was opened — a bug, a comment marker removed under a comment rule, a rule that no longer
//! matches — would otherwise put a secret on disk in clear. When a file is opened, the
//! [`SealedRecord`] notes, per key path, which non-empty leaves were sealed; [`check`] runs on
//! the re-sealed leaves before anything is rendered. It records key paths and flags only, never
//! values, and it must not be bypassed by any re-seal path (they all go through
//! [`super::reseal`]).

use crate::error::{Code, Error, Result};
use crate::format::Edit;
use crate::metadata::Rule;
use crate::tree::{walk_leaves_aad, Scalar, Value};
use std::collections::HashMap;

/// Which leaves of an opened file were sealed: for each (AAD, is a comment), the sealed flag of
/// every non-empty leaf under it, in document order; and the rule the file was opened with.
#[derive(Clone, Debug, Default)]
pub struct SealedRecord {
    rule: Rule,
    slots: HashMap<(String, bool), Vec<bool>>,
}

impl SealedRecord {
    pub fn new(rule: &Rule) -> SealedRecord {
        SealedRecord {
            rule: rule.clone(),
            slots: HashMap::new(),
        }
    }

    /// Note one leaf of the file as it was opened. Empty values hold nothing to protect.
    pub fn note(&mut self, aad: &str, s: &Scalar, sealed: bool) {
        if s.is_empty_text() {
            return;
        }
        let comment = s.is_comment();
        match self.slots.get_mut(&(aad.to_string(), comment)) {
            Some(v) => v.push(sealed),
            None => {
                self.slots.insert((aad.to_string(), comment), vec![sealed]);
            }
        }
    }

    /// Whether the `n`-th non-empty leaf under `key` must stay sealed: it was sealed, or every
    /// leaf the file had under that path was (with a path rule, a path is all or nothing).
    fn must_stay_sealed(&self, key: &(String, bool), n: usize) -> bool {
        match self.slots.get(key) {
            Some(flags) => flags.get(n) == Some(&true) || flags.iter().all(|f| *f),
            None => false,
        }
    }
}

/// Refuse re-sealed leaves (`edits`, one per leaf of `docs`, as [`super::seal_leaves`] makes
/// them) that would write in plaintext what `record` says the file held sealed. A different
/// `rule` than the one the file was opened with is the user's own rule change
/// (`edit --show-master-keys`), which decides for itself.
pub fn check(record: &SealedRecord, rule: &Rule, docs: &[Value], edits: &[Edit]) -> Result<()> {
    if record.rule != *rule {
        return Ok(());
    }
    let mut seen: HashMap<(String, bool), usize> = HashMap::new();
    let mut bad: Option<(String, bool)> = None;
    walk_leaves_aad(docs, |i, _, a, s| {
        if bad.is_some() || s.is_empty_text() {
            return;
        }
        let key = (a.to_string(), s.is_comment());
        let n = seen.entry(key.clone()).or_insert(0);
        let at = *n;
        *n += 1;
        if matches!(edits.get(i), Some(Edit::Keep)) && record.must_stay_sealed(&key, at) {
            bad = Some(key);
        }
    });
    match bad {
        None => Ok(()),
        Some((at, comment)) => {
            let what = if comment {
                format!("an encrypted comment under {at}")
            } else {
                format!("the encrypted value at {at}")
            };
            Err(Error::new(
                Code::ErrorEncryptingTree,
                format!("refusing to write {what} in plaintext"),
            )
            .hint(
                "veil never turns an encrypted value into plaintext while changing a file (was a \
                 comment marker of the file's rule removed?); to do it on purpose, decrypt the \
                 file (`veil decrypt -i`), change it and encrypt it again; the file is untouched",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Item;

    fn doc(items: Vec<(&str, &str)>) -> Vec<Value> {
        vec![Value::Map(
            items
                .into_iter()
                .map(|(k, v)| Item::Entry(k.into(), Value::str(v)))
                .collect(),
        )]
    }

    fn rule() -> Rule {
        Rule::EncryptedCommentRegex("sops:enc".into())
    }

    #[test]
    fn a_sealed_path_written_in_plaintext_is_refused() {
        let mut r = SealedRecord::new(&rule());
        r.note("password:", &Scalar::Str("x".into()), true);
        r.note("user:", &Scalar::Str("y".into()), false);
        let docs = doc(vec![("password", "new"), ("user", "z")]);
        let e = check(&r, &rule(), &docs, &[Edit::Keep, Edit::Keep]).unwrap_err();
        assert_eq!(e.code, Code::ErrorEncryptingTree);
        assert!(e.message.contains("password:"), "{}", e.message);
        assert!(!e.message.contains("new"), "never the value: {}", e.message);
        assert!(check(&r, &rule(), &docs, &[Edit::Seal("t".into()), Edit::Keep]).is_ok());
        // Emptied values hold nothing to protect.
        let empty = doc(vec![("password", ""), ("user", "z")]);
        assert!(check(&r, &rule(), &empty, &[Edit::Keep, Edit::Keep]).is_ok());
        // A rule change the user made decides for itself.
        let other = Rule::UnencryptedSuffix("_unencrypted".into());
        assert!(check(&r, &other, &docs, &[Edit::Keep, Edit::Keep]).is_ok());
    }

    #[test]
    fn mixed_paths_are_judged_by_position() {
        // Under a comment rule one path may hold sealed and plain leaves.
        let mut r = SealedRecord::new(&rule());
        r.note("l:", &Scalar::Str("a".into()), false);
        r.note("l:", &Scalar::Str("b".into()), true);
        let docs = vec![Value::Map(vec![Item::Entry(
            "l".into(),
            Value::List(vec![Value::str("a"), Value::str("b2")]),
        )])];
        assert!(check(&r, &rule(), &docs, &[Edit::Keep, Edit::Seal("t".into())]).is_ok());
        assert!(check(&r, &rule(), &docs, &[Edit::Keep, Edit::Keep]).is_err());
        // Comments are slots of their own.
        r.note("l:", &Scalar::Comment(" c".into()), true);
        let c = vec![Value::Map(vec![Item::Entry(
            "l".into(),
            Value::List(vec![Value::Scalar(Scalar::Comment(" c".into()))]),
        )])];
        assert!(check(&r, &rule(), &c, &[Edit::Keep]).is_err());
    }
}
