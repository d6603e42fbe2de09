//! The declassification guard: no change to an encrypted file may write in plaintext a value
//! (or comment) that the file held encrypted, unless the user changed the encryption rule.
//!
//! It exists because every command that changes an encrypted file (edit, set, unset, rotate,
//! updatekeys, the merge driver, `encrypt --reuse-from`) re-seals a plaintext tree with the
//! file's rule, and anything that makes that rule judge a leaf differently than when the file
//! was opened — a bug, a comment marker removed under a comment rule, a rule that no longer
//! matches — would otherwise put a secret on disk in clear. When a file is opened, the
//! [`SealedRecord`] notes which leaves were sealed; [`check`] runs on the re-sealed leaves before
//! anything is rendered. Two tests, both needed:
//!
//! - by key path: a path whose leaves were all sealed (every path under a suffix or regex rule)
//!   gets no plaintext leaf at all, whatever its value — an edited value stays secret too;
//! - by value: under a comment rule one path can hold sealed and plain leaves (a list with a
//!   marker comment in it), so positions prove nothing when elements are added or removed; there
//!   a leaf is refused when its value (with its key path) was sealed in the file and is now
//!   written in plaintext more often than the file held it in plaintext.
//!
//! Values are kept only as SHA-256 digests of (key path, value), in memory like the IV stash,
//! never as text, and never printed; errors name the key path only. It must not be bypassed by
//! any re-seal path (they all go through [`super::reseal`]).

use crate::error::{Code, Error, Result};
use crate::format::Edit;
use crate::metadata::Rule;
use crate::tree::{walk_leaves_aad, Scalar, Value};
use std::collections::HashMap;

/// What an opened file held sealed: per (AAD, is a comment) and per value digest, how many
/// non-empty leaves were sealed and how many plain; and the rule it was opened with.
#[derive(Clone, Debug, Default)]
pub struct SealedRecord {
    rule: Rule,
    slots: HashMap<(String, bool), Counts>,
    values: HashMap<[u8; 32], Counts>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    sealed: usize,
    plain: usize,
}

impl Counts {
    fn add(&mut self, sealed: bool) {
        if sealed {
            self.sealed += 1;
        } else {
            self.plain += 1;
        }
    }
}

/// The digest of a leaf's value under its key path: the text a reader would see, so that the
/// same secret is recognised whatever type it is written as (`5` and `"5"`).
fn digest(aad: &str, s: &Scalar) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update((aad.len() as u64).to_le_bytes());
    h.update(aad.as_bytes());
    h.update([s.is_comment() as u8]);
    // Hashed in place: a value can be hundreds of megabytes.
    match s {
        Scalar::Str(x) | Scalar::Comment(x) | Scalar::Time(x) => h.update(x.as_bytes()),
        Scalar::Raw(b) | Scalar::Bytes(b) => h.update(b),
        other => h.update(other.mac_bytes()),
    }
    h.finalize().into()
}

impl SealedRecord {
    pub fn new(rule: &Rule) -> SealedRecord {
        SealedRecord {
            rule: rule.clone(),
            ..SealedRecord::default()
        }
    }

    /// Note one leaf of the file as it was opened (`s` is the opened value of a sealed leaf).
    /// Empty values hold nothing to protect.
    pub fn note(&mut self, aad: &str, s: &Scalar, sealed: bool) {
        if s.is_empty_text() {
            return;
        }
        let comment = s.is_comment();
        match self.slots.get_mut(&(aad.to_string(), comment)) {
            Some(c) => c.add(sealed),
            None => {
                let mut c = Counts::default();
                c.add(sealed);
                self.slots.insert((aad.to_string(), comment), c);
            }
        }
        self.values.entry(digest(aad, s)).or_default().add(sealed);
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
    let mut plain_out: HashMap<[u8; 32], usize> = HashMap::new();
    let mut bad: Option<(String, bool)> = None;
    walk_leaves_aad(docs, |i, _, a, s| {
        if bad.is_some() || s.is_empty_text() || !matches!(edits.get(i), Some(Edit::Keep)) {
            return;
        }
        let comment = s.is_comment();
        let only_sealed = record
            .slots
            .get(&(a.to_string(), comment))
            .is_some_and(|c| c.sealed > 0 && c.plain == 0);
        let d = digest(a, s);
        let n = plain_out.entry(d).or_insert(0);
        *n += 1;
        let declassified = record
            .values
            .get(&d)
            .is_some_and(|c| c.sealed > 0 && *n > c.plain);
        if only_sealed || declassified {
            bad = Some((a.to_string(), comment));
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

    fn s(v: &str) -> Scalar {
        Scalar::Str(v.into())
    }

    #[test]
    fn a_path_that_was_all_sealed_gets_no_plaintext() {
        let mut r = SealedRecord::new(&rule());
        r.note("password:", &s("x"), true);
        r.note("user:", &s("y"), false);
        // An edited value is refused as much as the old one.
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
    fn mixed_paths_are_judged_by_value() {
        // Under a comment rule one list holds a plain `a` and a sealed `b`.
        let mut r = SealedRecord::new(&rule());
        r.note("l:", &s("a"), false);
        r.note("l:", &s("b"), true);
        let list = |v: &[&str]| {
            vec![Value::Map(vec![Item::Entry(
                "l".into(),
                Value::List(v.iter().map(|x| Value::str(*x)).collect()),
            )])]
        };
        // A plain element inserted before them: positions shift, nothing is declassified.
        let docs = list(&["z", "a", "b"]);
        let edits = [Edit::Keep, Edit::Keep, Edit::Seal("t".into())];
        assert!(check(&r, &rule(), &docs, &edits).is_ok());
        // The marker removed: `b` would be written in plaintext.
        let edits = [Edit::Keep, Edit::Keep, Edit::Keep];
        assert!(check(&r, &rule(), &docs, &edits).is_err());
        // The same value both plain and sealed: its plain copy may stay plain, no more.
        let mut r2 = SealedRecord::new(&rule());
        r2.note("l:", &s("a"), false);
        r2.note("l:", &s("a"), true);
        let two = list(&["a", "a"]);
        assert!(check(&r2, &rule(), &two, &[Edit::Keep, Edit::Seal("t".into())]).is_ok());
        assert!(check(&r2, &rule(), &two, &[Edit::Keep, Edit::Keep]).is_err());
        // Comments are judged apart from values.
        r.note("l:", &Scalar::Comment(" c".into()), true);
        let c = vec![Value::Map(vec![Item::Entry(
            "l".into(),
            Value::List(vec![Value::Scalar(Scalar::Comment(" c".into()))]),
        )])];
        assert!(check(&r, &rule(), &c, &[Edit::Keep]).is_err());
        // The same secret under another type is still the same secret.
        let mut r3 = SealedRecord::new(&rule());
        r3.note("l:", &s("q"), false);
        r3.note("l:", &Scalar::Int(5), true);
        let as_text = list(&["5"]);
        assert!(check(&r3, &rule(), &as_text, &[Edit::Keep]).is_err());
    }
}
