//! The checks sops makes on a file's metadata when it loads it for decryption: `lastmodified`
//! must be an RFC 3339 time (sops parses it on every load), and `version` a semantic version
//! (blang/semver's `Make`, run on decrypt, edit, set, unset and rotate). sops refuses a file
//! failing either with exit 1 — which is what happens to a file whose last lines were cut off.
//! It exists so veil refuses the same files with the same messages; it must accept every file
//! sops accepts (`1.x` versions are let through, as sops does).

use super::Metadata;
use crate::error::{Error, Result};

/// Check `meta` as sops does before it decrypts a file: `lastmodified`, then `version`.
pub fn check_loadable(meta: &Metadata) -> Result<()> {
    use time::format_description::well_known::Rfc3339;
    if time::OffsetDateTime::parse(&meta.lastmodified, &Rfc3339).is_err() {
        return Err(Error::generic(format!(
            "parsing time {:?} as \"2006-01-02T15:04:05Z07:00\": not an RFC 3339 time",
            meta.lastmodified
        ))
        .hint(
            "the file's sops `lastmodified` field is missing or damaged; restore the file from git",
        ));
    }
    check_version(&meta.version)
}

/// Check `v` the way sops does before decrypting; the messages are blang/semver's.
pub fn check_version(v: &str) -> Result<()> {
    // sops lets any `1.` version through before parsing (sops 1 did not use semver).
    if v.starts_with("1.") {
        return Ok(());
    }
    parse(v.strip_prefix('v').unwrap_or(v)).map_err(|msg| {
        Error::generic(msg).hint(
            "the file's sops `version` field is missing or not a version number (was the end of \
             the file cut off?); restore the file from git",
        )
    })
}

fn numeric(s: &str, what: &str) -> std::result::Result<(), String> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("Invalid character(s) found in {what} number {s:?}"));
    }
    if s.len() > 1 && s.starts_with('0') {
        let what = format!("{}{}", what[..1].to_ascii_uppercase(), &what[1..]);
        return Err(format!(
            "{what} number must not contain leading zeroes {s:?}"
        ));
    }
    match s.parse::<u64>() {
        Ok(_) => Ok(()),
        Err(_) if s.is_empty() => Err("strconv.ParseUint: parsing \"\": invalid syntax".into()),
        Err(_) => Err(format!(
            "strconv.ParseUint: parsing {s:?}: value out of range"
        )),
    }
}

fn ident_chars(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn parse(s: &str) -> std::result::Result<(), String> {
    if s.is_empty() {
        return Err("Version string empty".into());
    }
    let parts: Vec<&str> = s.splitn(3, '.').collect();
    if parts.len() != 3 {
        return Err("No Major.Minor.Patch elements found".into());
    }
    numeric(parts[0], "major")?;
    numeric(parts[1], "minor")?;
    let mut patch = parts[2];
    let mut build = None;
    let mut pre = None;
    if let Some(i) = patch.find('+') {
        build = Some(&patch[i + 1..]);
        patch = &patch[..i];
    }
    if let Some(i) = patch.find('-') {
        pre = Some(&patch[i + 1..]);
        patch = &patch[..i];
    }
    numeric(patch, "patch")?;
    if let Some(pre) = pre {
        for p in pre.split('.') {
            if p.is_empty() {
                return Err("Prerelease is empty".into());
            }
            if p.bytes().all(|b| b.is_ascii_digit()) {
                if p.len() > 1 && p.starts_with('0') {
                    return Err(format!(
                        "Numeric PreRelease version must not contain leading zeroes {p:?}"
                    ));
                }
            } else if !ident_chars(p) {
                return Err(format!("Invalid character(s) found in prerelease {p:?}"));
            }
        }
    }
    if let Some(build) = build {
        for b in build.split('.') {
            if b.is_empty() {
                return Err("Build meta data is empty".into());
            }
            if !ident_chars(b) {
                return Err(format!(
                    "Invalid character(s) found in build meta data {b:?}"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lastmodified_must_be_a_time() {
        let mut m = Metadata {
            lastmodified: "2026-11-29T00:16:37Z".into(),
            version: "3.11.0".into(),
            ..Metadata::default()
        };
        assert!(check_loadable(&m).is_ok());
        m.lastmodified = "2026-11-29T00:16:37.5+01:00".into();
        assert!(check_loadable(&m).is_ok());
        for bad in ["", "yesterday", "2026-11-29"] {
            m.lastmodified = bad.into();
            let e = check_loadable(&m).unwrap_err();
            assert_eq!(e.code, crate::error::Code::Generic, "{bad}");
            assert!(e.message.starts_with("parsing time "), "{bad}");
        }
    }

    #[test]
    fn accepts_what_sops_accepts() {
        for v in [
            "3.11.0",
            "v3.9.4",
            "3.10.0-rc.1",
            "3.13.2+build.5",
            "0.0.0",
            "1.x",
            "1.",
            "3.11.0-alpha-1.0a",
        ] {
            assert!(check_version(v).is_ok(), "{v}");
        }
    }

    #[test]
    fn refuses_with_semvers_messages() {
        for (v, msg) in [
            ("", "Version string empty"),
            ("3.", "No Major.Minor.Patch elements found"),
            ("3.11", "No Major.Minor.Patch elements found"),
            ("3.11.x", "Invalid character(s) found in patch number \"x\""),
            ("3.11.", "strconv.ParseUint: parsing \"\": invalid syntax"),
            (
                "99999999999999999999.1.0",
                "strconv.ParseUint: parsing \"99999999999999999999\": value out of range",
            ),
            (
                "3.1.0-a_b",
                "Invalid character(s) found in prerelease \"a_b\"",
            ),
            (
                "03.1.0",
                "Major number must not contain leading zeroes \"03\"",
            ),
            ("3.1.0-", "Prerelease is empty"),
            (
                "3.1.0-01",
                "Numeric PreRelease version must not contain leading zeroes \"01\"",
            ),
            ("3.1.0+", "Build meta data is empty"),
            (
                "v1.2.3.4",
                "Invalid character(s) found in patch number \"3.4\"",
            ),
        ] {
            let e = check_version(v).unwrap_err();
            assert_eq!(e.code, crate::error::Code::Generic, "{v}");
            assert_eq!(e.message, msg, "{v}");
        }
    }
}
