//! `--user`: which uid and gid the child runs as.
//!
//! sops switches its own process to the user (setgroups, setgid, setuid) before running the
//! command. veil resolves the user here and lets the child switch (std's `CommandExt::uid`/`gid`,
//! which also clears supplementary groups when started as root), so veil itself keeps its
//! identity and can still remove its private directory afterwards.
//!
//! The lookup reads `/etc/passwd` text only (no NSS, so LDAP users must be given numerically as
//! `UID` or `UID:GID`). It must not panic on any passwd content.

use crate::error::{Error, Result};

/// A resolved user: the ids the child switches to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserIds {
    pub uid: u32,
    pub gid: u32,
}

/// Resolve `spec` (a user name, `UID` or `UID:GID`) against the text of `/etc/passwd`.
/// A bare `UID` takes its group from its passwd entry, or the same number when it has none.
pub fn resolve(spec: &str, passwd: &str) -> Result<UserIds> {
    let unknown = || {
        Error::generic(format!("user {spec} not found"))
            .hint("give a name from /etc/passwd, or numeric ids as UID or UID:GID")
    };
    if spec.is_empty() {
        return Err(unknown());
    }
    if let Some((u, g)) = spec.split_once(':') {
        let uid = u.parse::<u32>().map_err(|_| unknown())?;
        let gid = g.parse::<u32>().map_err(|_| unknown())?;
        return Ok(UserIds { uid, gid });
    }
    let entries = passwd.lines().filter_map(parse_line);
    if let Ok(uid) = spec.parse::<u32>() {
        let gid = entries
            .into_iter()
            .find(|(_, ids)| ids.uid == uid)
            .map(|(_, ids)| ids.gid)
            .unwrap_or(uid);
        return Ok(UserIds { uid, gid });
    }
    entries
        .into_iter()
        .find(|(name, _)| *name == spec)
        .map(|(_, ids)| ids)
        .ok_or_else(unknown)
}

/// Resolve against the system's `/etc/passwd`.
pub fn resolve_system(spec: &str) -> Result<UserIds> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    resolve(spec, &passwd)
}

/// `name:password:uid:gid:gecos:home:shell`; malformed lines are skipped.
fn parse_line(line: &str) -> Option<(&str, UserIds)> {
    if line.starts_with('#') {
        return None;
    }
    let mut f = line.split(':');
    let name = f.next()?;
    let _password = f.next()?;
    let uid = f.next()?.parse().ok()?;
    let gid = f.next()?.parse().ok()?;
    Some((name, UserIds { uid, gid }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        # comment\n\
        broken line\n\
        nobody:x:65534:65533:nobody:/nonexistent:/usr/sbin/nologin\n\
        app:x:1000:1001::/home/app:/bin/sh\n";

    #[test]
    fn names_and_numbers() {
        assert_eq!(
            resolve("app", PASSWD).unwrap(),
            UserIds {
                uid: 1000,
                gid: 1001
            }
        );
        assert_eq!(
            resolve("65534", PASSWD).unwrap(),
            UserIds {
                uid: 65534,
                gid: 65533
            }
        );
        assert_eq!(
            resolve("4242", PASSWD).unwrap(),
            UserIds {
                uid: 4242,
                gid: 4242
            }
        );
        assert_eq!(resolve("5:6", PASSWD).unwrap(), UserIds { uid: 5, gid: 6 });
    }

    #[test]
    fn unknown_and_malformed() {
        for bad in ["", "ghost", "1:x", "x:1", "broken line", "# comment"] {
            let e = resolve(bad, PASSWD).unwrap_err();
            assert!(e.message.contains("not found"), "{bad}: {}", e.message);
        }
        assert!(resolve("root", "::::\n\u{0}:é:\n").is_err());
    }
}
