//! The audit switch of a repository's `.sops.yaml`: `veil: {audit: PATH|syslog,
//! audit_required: true|false}`, used when `VEIL_AUDIT` is not set (the environment wins).
//!
//! `.sops.yaml` is repository content: anyone who can push a commit writes it. So the file may
//! turn auditing on, but must not be able to make veil append to a file of the user's choosing
//! that is not an audit log. The sink's own checks (no symbolic link, no world-writable or
//! other-owned file) do not stop that: `~/.bashrc`, `.git/config` or a secret file of the repo
//! belong to the user and pass them. Hence the narrower rule here: a path named by the file
//! must be relative, stay inside the config's directory (no `..`, checked again after symbolic
//! links in its directories are resolved, when the log is opened), avoid `.git`, and end in `.log`. `syslog` is the
//! local `/dev/log`; another socket (`syslog:SOCKET`) can only be named with `VEIL_AUDIT`.
//! Must not: open anything (that is [`super::Sink`]), or read the environment.

use crate::config::{Config, Node};
use std::path::{Component, Path, PathBuf};

/// What the config asks for: a sink target (`syslog` or a resolved absolute path) and whether
/// a failure to log stops the command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigAudit {
    pub target: String,
    pub required: bool,
}

/// The audit setting of `conf`: `Ok(None)` when it has no `veil.audit`; an error text when the
/// setting is malformed or names a path the file may not name.
pub fn from_config(conf: &Config) -> Result<Option<ConfigAudit>, String> {
    let Some(section) = conf.veil_section() else {
        return Ok(None);
    };
    let required = match section.get("audit_required") {
        None => false,
        Some(n) => match n.text() {
            Some("true") => true,
            Some("false") => false,
            _ => return Err("veil.audit_required must be true or false".into()),
        },
    };
    let Some(node) = section.get("audit") else {
        if required {
            return Err("veil.audit_required is set but veil.audit is not".into());
        }
        return Ok(None);
    };
    let Some(text) = node.text().filter(|_| matches!(node, Node::Scalar { .. })) else {
        return Err(format!(
            "veil.audit is {}, not a path or syslog",
            node.kind()
        ));
    };
    let target = if text == "syslog" {
        "syslog".to_string()
    } else {
        contained(conf.dir(), text)?.to_string_lossy().into_owned()
    };
    Ok(Some(ConfigAudit { target, required }))
}

/// `rel` under `dir`, if the rules of this module allow it (lexically: [`resolved`] checks the
/// file system).
fn contained(dir: &Path, rel: &str) -> Result<PathBuf, String> {
    let p = Path::new(rel);
    let bad = |why: &str| {
        Err(format!(
            "veil.audit {rel:?} {why}; a .sops.yaml may only name a `.log` file inside its own \
             directory (set VEIL_AUDIT for any other target)"
        ))
    };
    if rel.starts_with("syslog:") {
        return bad("names a socket");
    }
    if p.is_absolute() {
        return bad("is an absolute path");
    }
    let mut parts = 0;
    for c in p.components() {
        match c {
            Component::Normal(s) => {
                if s == ".git" {
                    return bad("is inside .git");
                }
                parts += 1;
            }
            Component::CurDir => {}
            _ => return bad("leaves the directory"),
        }
    }
    if parts == 0 || p.extension().is_none_or(|e| e != "log") {
        return bad("does not end in .log");
    }
    Ok(dir.join(p))
}

/// [`from_config`], with a path target checked against the file system: a directory on the
/// way may be a symbolic link committed to the repository, so the real directory of the log
/// must still be inside the config's real directory. (The last component is opened with
/// `O_NOFOLLOW` by the sink.) Returns the target with its directory resolved.
pub(super) fn resolved(conf: &Config) -> Result<Option<ConfigAudit>, String> {
    let Some(mut a) = from_config(conf)? else {
        return Ok(None);
    };
    if a.target == "syslog" {
        return Ok(Some(a));
    }
    let joined = PathBuf::from(&a.target);
    let (Some(parent), Some(name)) = (joined.parent(), joined.file_name()) else {
        return Err(format!("veil.audit {}: no file name", a.target));
    };
    let dir = conf.dir();
    let real_dir = dir
        .canonicalize()
        .map_err(|e| format!("veil.audit: {}: {e}", dir.display()))?;
    let real_parent = parent
        .canonicalize()
        .map_err(|e| format!("veil.audit: {}: {e}", parent.display()))?;
    if !real_parent.starts_with(&real_dir) {
        return Err(format!(
            "veil.audit {} leaves the directory of {} through a symbolic link (refused)",
            a.target,
            conf.path.display()
        ));
    }
    a.target = real_parent.join(name).to_string_lossy().into_owned();
    Ok(Some(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(dir: &Path, veil: &str) -> Config {
        let text = format!("creation_rules: []\nveil:\n{veil}");
        Config::parse(&text, &dir.join(".sops.yaml")).unwrap()
    }

    #[test]
    fn a_relative_log_is_resolved_against_the_config_directory() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("logs")).unwrap();
        let c = conf(
            d.path(),
            "  audit: logs/audit.log\n  audit_required: true\n",
        );
        let a = from_config(&c).unwrap().unwrap();
        assert_eq!(a.target, d.path().join("logs/audit.log").to_str().unwrap());
        let a = resolved(&c).unwrap().unwrap();
        let real = d.path().canonicalize().unwrap();
        assert_eq!(a.target, real.join("logs/audit.log").to_str().unwrap());
        assert!(a.required);
        let c = conf(d.path(), "  audit: syslog\n");
        assert_eq!(from_config(&c).unwrap().unwrap().target, "syslog");
        assert_eq!(from_config(&conf(d.path(), "  key_names: {}\n")), Ok(None));
    }

    #[test]
    fn a_repository_config_cannot_point_the_log_at_other_files() {
        let d = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/tmp", d.path().join("out")).unwrap();
        std::fs::create_dir(d.path().join(".git")).unwrap();
        for bad in [
            "/tmp/audit.log",
            "../audit.log",
            "a/../../audit.log",
            ".git/audit.log",
            "out/audit.log",
            "secrets.yaml",
            ".bashrc",
            "syslog:/tmp/sock",
        ] {
            let c = conf(d.path(), &format!("  audit: {bad:?}\n"));
            assert!(resolved(&c).is_err(), "{bad} was accepted");
        }
        let c = conf(d.path(), "  audit_required: true\n");
        assert!(from_config(&c).is_err());
        let c = conf(d.path(), "  audit: [a]\n");
        assert!(from_config(&c).is_err());
    }
}
