//! `--user`: who the child runs as, and the switch itself.
//!
//! sops 3.13 switches to the user before running the command: supplementary groups become the
//! user's own (from `/etc/group`, the primary group first), then the group and user ids, and
//! the child gets the user's `HOME`, `USER` and `LOGNAME` (a decrypted value of the same name
//! still wins, as in sops). veil keeps its own identity, so it can still remove its private
//! directory afterwards, and lets the child switch instead.
//!
//! std's `Command::uid` cannot set supplementary groups on stable Rust (it only clears them),
//! and this crate forbids `unsafe`, so no `pre_exec` hook either. The child is therefore veil
//! itself, started through `/proc/self/exe` with [`HELPER_ARG`]: a fresh single-threaded
//! process that sets groups, gid and uid with plain system calls and then `exec`s the real
//! program in its place (same pid, so signal forwarding and exit codes are unchanged). The
//! helper has no privilege of its own; it does only what its root parent could do anyway.
//!
//! The lookup reads `/etc/passwd` and `/etc/group` text only (no NSS, so LDAP users must be
//! given numerically as `UID` or `UID:GID`). It must not panic on any file content.

use crate::error::{Error, Result};
use std::ffi::{OsStr, OsString};
use std::process::Command;

/// A resolved user: the ids the child switches to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserIds {
    pub uid: u32,
    pub gid: u32,
}

/// Everything the switch needs: ids, supplementary groups, and the login variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunAs {
    pub ids: UserIds,
    /// The user's name and home from `/etc/passwd`, when the uid has an entry there.
    pub name: Option<String>,
    pub home: Option<String>,
    /// Supplementary groups: the primary group, then every group listing the user as member.
    pub groups: Vec<u32>,
}

/// The first argument that makes the veil binary act as the switching helper.
pub const HELPER_ARG: &str = "__veil-exec-as-user";

/// Resolve `spec` (a user name, `UID` or `UID:GID`) against the text of `/etc/passwd`.
/// A bare `UID` takes its group from its passwd entry, or the same number when it has none.
pub fn resolve(spec: &str, passwd: &str) -> Result<UserIds> {
    resolve_entry(spec, passwd).map(|(ids, _)| ids)
}

/// [`resolve`], with the passwd entry (name, home) when there is one.
fn resolve_entry<'a>(spec: &str, passwd: &'a str) -> Result<(UserIds, Option<Entry<'a>>)> {
    let unknown = || {
        Error::generic(format!("user {spec} not found"))
            .hint("give a name from /etc/passwd, or numeric ids as UID or UID:GID")
    };
    if spec.is_empty() {
        return Err(unknown());
    }
    let by_uid = |uid: u32| {
        passwd
            .lines()
            .filter_map(parse_line)
            .find(|e| e.ids.uid == uid)
    };
    if let Some((u, g)) = spec.split_once(':') {
        let uid = u.parse::<u32>().map_err(|_| unknown())?;
        let gid = g.parse::<u32>().map_err(|_| unknown())?;
        return Ok((UserIds { uid, gid }, by_uid(uid)));
    }
    if let Ok(uid) = spec.parse::<u32>() {
        let entry = by_uid(uid);
        let gid = entry.as_ref().map_or(uid, |e| e.ids.gid);
        return Ok((UserIds { uid, gid }, entry));
    }
    passwd
        .lines()
        .filter_map(parse_line)
        .find(|e| e.name == spec)
        .map(|e| (e.ids, Some(e)))
        .ok_or_else(unknown)
}

/// Resolve against the system's `/etc/passwd`.
pub fn resolve_system(spec: &str) -> Result<UserIds> {
    resolve_run_as_system(spec).map(|r| r.ids)
}

/// Resolve `spec` with its groups and login variables, from the texts of `/etc/passwd` and
/// `/etc/group`.
pub fn resolve_run_as(spec: &str, passwd: &str, group: &str) -> Result<RunAs> {
    let (ids, entry) = resolve_entry(spec, passwd)?;
    let name = entry.as_ref().map(|e| e.name.to_string());
    let mut groups = vec![ids.gid];
    if let Some(n) = &name {
        for (gid, members) in group.lines().filter_map(parse_group_line) {
            if members.split(',').any(|m| m.trim() == n) && !groups.contains(&gid) {
                groups.push(gid);
            }
        }
    }
    Ok(RunAs {
        ids,
        name,
        home: entry.map(|e| e.home.to_string()),
        groups,
    })
}

/// [`resolve_run_as`] against the system's files.
pub fn resolve_run_as_system(spec: &str) -> Result<RunAs> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    resolve_run_as(spec, &passwd, &group)
}

impl RunAs {
    /// `HOME`, `USER` and `LOGNAME` for the child. A uid without a passwd entry has none: the
    /// variables are removed (`None`) rather than left pointing at the caller's home.
    pub fn login_env(&self) -> [(&'static str, Option<&str>); 3] {
        [
            ("HOME", self.home.as_deref()),
            ("USER", self.name.as_deref()),
            ("LOGNAME", self.name.as_deref()),
        ]
    }

    /// A command that runs `cmd` as this user: the veil binary as [`HELPER_ARG`] with the ids
    /// and groups, then `--` and `cmd`'s program and arguments. `cmd`'s environment changes
    /// are carried over (`pristine`: it started from an empty environment).
    pub fn command(&self, cmd: &Command, pristine: bool) -> Result<Command> {
        let exe = std::env::current_exe().map_err(|e| {
            Error::generic(format!(
                "cannot find veil's own binary to switch users: {e}"
            ))
        })?;
        let groups: Vec<String> = self.groups.iter().map(u32::to_string).collect();
        let mut out = Command::new(exe);
        out.arg(HELPER_ARG)
            .arg(self.ids.uid.to_string())
            .arg(self.ids.gid.to_string())
            .arg(groups.join(","))
            .arg("--")
            .arg(cmd.get_program())
            .args(cmd.get_args());
        if pristine {
            out.env_clear();
        }
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => out.env(k, v),
                None => out.env_remove(k),
            };
        }
        if let Some(dir) = cmd.get_current_dir() {
            out.current_dir(dir);
        }
        Ok(out)
    }
}

/// The helper's side (`veil __veil-exec-as-user UID GID G1,G2 -- PROGRAM ARGS…`): switch
/// groups, gid and uid, then replace this process with the program. Returns only on failure,
/// with a shell-like exit code (126 cannot switch or execute, 127 not found).
pub fn helper_main(args: &[OsString]) -> i32 {
    let fail = |msg: String, code: i32| {
        eprintln!("{msg}");
        code
    };
    let text = |a: Option<&OsString>| a.and_then(|s| s.to_str()).map(str::to_string);
    let (Some(uid), Some(gid), Some(groups)) = (
        text(args.first()).and_then(|s| s.parse::<u32>().ok()),
        text(args.get(1)).and_then(|s| s.parse::<u32>().ok()),
        text(args.get(2)),
    ) else {
        return fail(format!("{HELPER_ARG}: bad arguments"), 126);
    };
    let groups: Option<Vec<u32>> = groups
        .split(',')
        .filter(|g| !g.is_empty())
        .map(|g| g.parse().ok())
        .collect();
    let (Some(groups), Some(sep), Some(program)) = (groups, args.get(3), args.get(4)) else {
        return fail(format!("{HELPER_ARG}: bad arguments"), 126);
    };
    if sep != OsStr::new("--") {
        return fail(format!("{HELPER_ARG}: bad arguments"), 126);
    }
    if let Err(e) = switch(uid, gid, &groups) {
        return fail(format!("cannot run the command as user {uid}: {e}"), 126);
    }
    use std::os::unix::process::CommandExt;
    let e = Command::new(program).args(&args[5..]).exec();
    let code = match e.kind() {
        std::io::ErrorKind::NotFound => 127,
        _ => 126,
    };
    fail(
        format!("could not run {}: {e}", program.to_string_lossy()),
        code,
    )
}

/// Groups first, then the group id, then the user id (after that, neither can change).
/// The helper is single-threaded, so the per-thread system calls switch the whole process.
fn switch(uid: u32, gid: u32, groups: &[u32]) -> std::io::Result<()> {
    use rustix::process::{Gid, Uid};
    use rustix::thread::{set_thread_groups, set_thread_res_gid, set_thread_res_uid};
    let gids: Vec<Gid> = groups.iter().map(|g| Gid::from_raw(*g)).collect();
    set_thread_groups(&gids)?;
    let g = Gid::from_raw(gid);
    set_thread_res_gid(g, g, g)?;
    let u = Uid::from_raw(uid);
    set_thread_res_uid(u, u, u)?;
    Ok(())
}

/// One `/etc/passwd` entry.
struct Entry<'a> {
    name: &'a str,
    ids: UserIds,
    home: &'a str,
}

/// `name:password:uid:gid:gecos:home:shell`; malformed lines are skipped.
fn parse_line(line: &str) -> Option<Entry<'_>> {
    if line.starts_with('#') {
        return None;
    }
    let mut f = line.split(':');
    let name = f.next()?;
    let _password = f.next()?;
    let uid = f.next()?.parse().ok()?;
    let gid = f.next()?.parse().ok()?;
    let _gecos = f.next();
    let home = f.next().unwrap_or("");
    Some(Entry {
        name,
        ids: UserIds { uid, gid },
        home,
    })
}

/// `name:password:gid:member,member`; malformed lines are skipped.
fn parse_group_line(line: &str) -> Option<(u32, &str)> {
    if line.starts_with('#') {
        return None;
    }
    let mut f = line.split(':');
    let _name = f.next()?;
    let _password = f.next()?;
    let gid = f.next()?.trim().parse().ok()?;
    Some((gid, f.next().unwrap_or("")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        # comment\n\
        broken line\n\
        nobody:x:65534:65533:nobody:/nonexistent:/usr/sbin/nologin\n\
        app:x:1000:1001::/home/app:/bin/sh\n";

    const GROUP: &str = "root:x:0:\n\
        # comment\n\
        docker:x:998:app,other\n\
        broken\n\
        ssl:x:103: app \n\
        appgrp:x:1001:app\n\
        none:x:77:\n";

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
        assert!(resolve_run_as("root", PASSWD, "::::\n\u{0}:é:\n:::\n").is_ok());
    }

    #[test]
    fn groups_are_the_users_own_primary_first() {
        let r = resolve_run_as("app", PASSWD, GROUP).unwrap();
        assert_eq!(r.groups, vec![1001, 998, 103]);
        assert_eq!(r.name.as_deref(), Some("app"));
        assert_eq!(r.home.as_deref(), Some("/home/app"));
        // By number, the passwd entry still gives the name, home and memberships.
        let r = resolve_run_as("1000:5", PASSWD, GROUP).unwrap();
        assert_eq!(r.groups, vec![5, 998, 103, 1001]);
        assert_eq!(r.name.as_deref(), Some("app"));
        // root is in no supplementary group here: only its primary one.
        assert_eq!(
            resolve_run_as("root", PASSWD, GROUP).unwrap().groups,
            vec![0]
        );
    }

    #[test]
    fn a_uid_without_entry_gets_no_login_variables() {
        let r = resolve_run_as("4242", PASSWD, GROUP).unwrap();
        assert_eq!(r.groups, vec![4242]);
        assert!(r.login_env().iter().all(|(_, v)| v.is_none()));
        let r = resolve_run_as("nobody", PASSWD, GROUP).unwrap();
        assert_eq!(
            r.login_env(),
            [
                ("HOME", Some("/nonexistent")),
                ("USER", Some("nobody")),
                ("LOGNAME", Some("nobody"))
            ]
        );
    }

    #[test]
    fn the_helper_refuses_bad_arguments_without_switching() {
        let a = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        for bad in [
            a(&[]),
            a(&["x", "0", "", "--", "true"]),
            a(&["0", "0", "1,x", "--", "true"]),
            a(&["0", "0", "", "true"]),
            a(&["0", "0", "", "--"]),
        ] {
            assert_eq!(helper_main(&bad), 126, "{bad:?}");
        }
    }
}
