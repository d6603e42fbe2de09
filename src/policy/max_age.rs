//! The rotation clock: the `max_age` grammar and how old a file's data key is.
//!
//! A file records no "data key created" time of its own. What it has: `created_at` on every
//! master key except age (sops writes it when it wraps the data key, and a rotation rewrites it
//! for every key), and `lastmodified` (every change). The data key was made no later than any of
//! them, so the oldest of these times is the *latest* moment it can have been made, and the age
//! computed from it is a lower bound: exact for a file that still holds one of the keys it was
//! created with (the usual case), too young (never too old) otherwise. An age-only file has no
//! `created_at`, so its age is counted from `lastmodified`, and an edit without a rotation resets
//! it; [`Basis`] says which one was used so reports can say so. Nothing here reads a clock: the
//! caller passes `now`.

use crate::error::{Error, Result};
use crate::metadata::Metadata;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// The largest `max_age` accepted (100 years): anything larger is a typo.
const MAX_SECONDS: i64 = 100 * 365 * 86_400;

/// A maximum data-key age from the policy: a positive whole number and a unit, `h` (hours),
/// `d` (days), `w` (weeks) or `y` (365 days): `90d`, `12w`, `1y`, `36h`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaxAge {
    seconds: i64,
    text: String,
}

impl MaxAge {
    /// Parse the policy grammar; the error says what was wrong and what to write instead.
    pub fn parse(text: &str) -> std::result::Result<MaxAge, String> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, unit) = t.split_at(split);
        if digits.is_empty() {
            return Err(format!(
                "{text:?} is not an age: write a whole number and a unit, e.g. 90d, 12w, 1y"
            ));
        }
        let unit_seconds: i64 = match unit {
            "h" => 3_600,
            "d" => 86_400,
            "w" => 7 * 86_400,
            "y" => 365 * 86_400,
            "" => {
                return Err(format!(
                    "{text:?} has no unit: write {digits}d for days (units: h, d, w, y)"
                ))
            }
            "m" | "mo" | "M" => {
                return Err(format!(
                    "{text:?}: months are not a unit (their length varies, and `m` reads as minutes); write days or weeks, e.g. 182d or 26w"
                ))
            }
            other => {
                return Err(format!(
                    "{text:?} has an unknown unit {other:?} (units: h, d, w, y)"
                ))
            }
        };
        let n: i64 = digits
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{text:?} must be a positive whole number and a unit"))?;
        let seconds = n
            .checked_mul(unit_seconds)
            .filter(|s| *s <= MAX_SECONDS)
            .ok_or_else(|| format!("{text:?} is longer than 100 years"))?;
        Ok(MaxAge {
            seconds,
            text: format!("{n}{unit}"),
        })
    }

    /// The limit as written (normalised: `090d` is `90d`).
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn duration(&self) -> Duration {
        Duration::seconds(self.seconds)
    }
}

impl std::fmt::Display for MaxAge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Which recorded time a data-key age was counted from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// The oldest `created_at` of the file's master keys.
    CreatedAt,
    /// `lastmodified`: no key records `created_at` (age), or all of them are later.
    LastModified,
}

impl Basis {
    pub fn name(self) -> &'static str {
        match self {
            Basis::CreatedAt => "created_at",
            Basis::LastModified => "lastmodified",
        }
    }
}

/// When a file's data key was made, at the latest, and from which field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyAge {
    pub since: OffsetDateTime,
    pub basis: Basis,
}

impl KeyAge {
    /// Whole days from `since` to `now` (0 when `since` is in the future).
    pub fn days(&self, now: OffsetDateTime) -> i64 {
        (now - self.since).whole_days().max(0)
    }

    /// Whether the key is older than `max`.
    pub fn past(&self, max: &MaxAge, now: OffsetDateTime) -> bool {
        now - self.since > max.duration()
    }

    /// `since` as RFC 3339 text.
    pub fn since_text(&self) -> String {
        crate::tree::format_time_go(self.since)
    }
}

/// Parse an RFC 3339 time as the metadata stores it.
pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Parse a user-given RFC 3339 time (`--as-of`).
pub fn parse_user_time(text: &str) -> Result<OffsetDateTime> {
    parse_time(text).ok_or_else(|| {
        Error::generic(format!("{text:?} is not an RFC 3339 time"))
            .hint("write a time such as 2026-06-01T00:00:00Z")
    })
}

/// The latest moment the data key of a file with `meta` can have been made (see the module
/// doc), or `None` when the file records no usable time at all.
pub fn data_key_age(meta: &Metadata) -> Option<KeyAge> {
    let created = meta
        .key_groups
        .iter()
        .flatten()
        .filter_map(|k| k.created_at.as_deref())
        .filter_map(parse_time)
        .min();
    let modified = parse_time(&meta.lastmodified);
    match (created, modified) {
        (Some(c), Some(m)) if m < c => Some(KeyAge {
            since: m,
            basis: Basis::LastModified,
        }),
        (Some(c), _) => Some(KeyAge {
            since: c,
            basis: Basis::CreatedAt,
        }),
        (None, Some(m)) => Some(KeyAge {
            since: m,
            basis: Basis::LastModified,
        }),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyRef, WrappedKey};

    #[test]
    fn the_grammar_takes_a_number_and_a_unit() {
        assert_eq!(MaxAge::parse("90d").unwrap().duration(), Duration::days(90));
        assert_eq!(
            MaxAge::parse("12w").unwrap().duration(),
            Duration::weeks(12)
        );
        assert_eq!(MaxAge::parse("1y").unwrap().duration(), Duration::days(365));
        assert_eq!(
            MaxAge::parse("36h").unwrap().duration(),
            Duration::hours(36)
        );
        assert_eq!(MaxAge::parse(" 090d ").unwrap().text(), "90d");
    }

    #[test]
    fn the_grammar_refuses_what_it_cannot_read_exactly() {
        for (bad, says) in [
            ("6m", "months are not a unit"),
            ("90", "has no unit"),
            ("0d", "positive"),
            ("d", "not an age"),
            ("-5d", "not an age"),
            ("9.5d", "unknown unit"),
            ("90 days", "unknown unit"),
            ("200y", "longer than 100 years"),
            ("99999999999999999999d", "positive"),
        ] {
            let e = MaxAge::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    fn meta(created: &[Option<&str>], lastmodified: &str) -> Metadata {
        Metadata {
            key_groups: vec![created
                .iter()
                .map(|c| WrappedKey {
                    key: KeyRef::Pgp {
                        fingerprint: "F".into(),
                    },
                    enc: String::new(),
                    created_at: c.map(String::from),
                })
                .collect()],
            lastmodified: lastmodified.into(),
            ..Metadata::default()
        }
    }

    #[test]
    fn the_oldest_created_at_dates_the_data_key() {
        let m = meta(
            &[
                Some("2026-03-01T00:00:00Z"),
                Some("2026-01-01T00:00:00Z"),
                None,
            ],
            "2026-05-01T00:00:00Z",
        );
        let a = data_key_age(&m).unwrap();
        assert_eq!(a.basis, Basis::CreatedAt);
        assert_eq!(a.since_text(), "2026-01-01T00:00:00Z");
        let now = parse_time("2026-04-01T00:00:00Z").unwrap();
        assert_eq!(a.days(now), 90);
        assert!(a.past(&MaxAge::parse("89d").unwrap(), now));
        assert!(!a.past(&MaxAge::parse("90d").unwrap(), now));
    }

    #[test]
    fn without_created_at_lastmodified_is_the_lower_bound() {
        let a = data_key_age(&meta(&[None], "2026-05-01T00:00:00Z")).unwrap();
        assert_eq!(a.basis, Basis::LastModified);
        // A created_at later than lastmodified cannot be the data key's: the earlier time wins.
        let a = data_key_age(&meta(
            &[Some("2027-01-01T00:00:00Z")],
            "2026-05-01T00:00:00Z",
        ))
        .unwrap();
        assert_eq!(a.basis, Basis::LastModified);
        assert!(data_key_age(&meta(&[Some("junk")], "junk")).is_none());
    }
}
