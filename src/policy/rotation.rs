//! Whether one file is past its rule's `max_age`, and the words for it: the one-line warning of
//! decrypt/edit/exec-* and the reason `veil check` fails with. Both say how to clear it
//! (`veil rotate -i FILE`, which makes a new data key and so new `created_at` times).
//!
//! Metadata only, no clock of its own (the caller passes `now`), no printing.

use super::access::shell_word;
use super::{data_key_age, MaxAge, Policy};
use crate::config::{self, Config};
use crate::metadata::Metadata;
use std::path::Path;
use time::OffsetDateTime;

/// The limit that applies to one file.
#[derive(Clone, Debug)]
pub struct Limit {
    pub max_age: MaxAge,
    /// The creation rule (0-based) it comes from.
    pub rule: usize,
}

/// The limit for the file at `abs` under `conf`, if its rule has one. A policy or rule that
/// cannot be read gives `Err` (callers that must not fail on it, decrypt, ignore it).
pub fn limit_for(conf: &Config, abs: &Path) -> crate::error::Result<Option<Limit>> {
    let policy = Policy::from_config(conf)?;
    if !policy.has_limits() {
        return Ok(None);
    }
    let rule = match conf.rule_for(abs) {
        Ok(Some(r)) => r.index,
        Ok(None) => return Ok(None),
        Err(e) if e.message == config::NO_MATCHING_RULE => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(policy.max_age(rule).map(|m| Limit {
        max_age: m.clone(),
        rule,
    }))
}

/// How far past the limit a file is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overdue {
    pub days: i64,
    pub max_age: MaxAge,
}

/// `Some` when the data key of a file with `meta` is older than `limit` at `now`.
pub fn overdue(meta: &Metadata, limit: &Limit, now: OffsetDateTime) -> Option<Overdue> {
    let age = data_key_age(meta)?;
    age.past(&limit.max_age, now).then(|| Overdue {
        days: age.days(now),
        max_age: limit.max_age.clone(),
    })
}

impl Overdue {
    /// The warning line of decrypt/edit/exec-* (stderr, once).
    pub fn warning(&self, path: &str) -> String {
        format!(
            "warning: {path}: the data key is {} days old, past its max_age of {}; rotate it: veil rotate -i {}",
            self.days,
            self.max_age,
            shell_word(path)
        )
    }

    /// The reason `veil check` gives.
    pub fn reason(&self, path: &str) -> String {
        format!(
            "the data key is {} days old, past its rule's max_age of {} (rotate it: `veil rotate -i {}`, or `veil updatekeys -y --rotate` for many files)",
            self.days,
            self.max_age,
            shell_word(path)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyRef, WrappedKey};

    #[test]
    fn a_key_past_the_limit_is_overdue_and_the_line_says_the_fix() {
        let meta = Metadata {
            key_groups: vec![vec![WrappedKey {
                key: KeyRef::Pgp {
                    fingerprint: "F".into(),
                },
                enc: String::new(),
                created_at: Some("2026-01-01T00:00:00Z".into()),
            }]],
            lastmodified: "2026-02-01T00:00:00Z".into(),
            ..Metadata::default()
        };
        let limit = Limit {
            max_age: MaxAge::parse("30d").unwrap(),
            rule: 0,
        };
        let early = super::super::parse_time("2026-01-20T00:00:00Z").unwrap();
        assert_eq!(overdue(&meta, &limit, early), None);
        let late = super::super::parse_time("2026-04-11T00:00:00Z").unwrap();
        let o = overdue(&meta, &limit, late).unwrap();
        assert_eq!(o.days, 100);
        assert_eq!(
            o.warning("s/db.yaml"),
            "warning: s/db.yaml: the data key is 100 days old, past its max_age of 30d; rotate it: veil rotate -i s/db.yaml"
        );
        assert!(o.reason("a b").contains("`veil rotate -i 'a b'`"));
    }
}
