//! The audit trail: one JSON line per access to an encrypted file's data key (decrypt, edit,
//! exec-env, exec-file, set, unset, rotate, updatekeys, groups, the git textconv driver, and
//! `diff --values`), appended to a file or sent to the local syslog socket. Opt-in with
//! `VEIL_AUDIT`; `VEIL_AUDIT_REQUIRED=1` makes it fail closed. The format is documented in
//! `docs/audit.md` and versioned by the `v` field.
//!
//! It exists because "who opened which secret, when, with which key" is the question a
//! platform team asks after an incident, and sops answers none of it. It must never record a
//! value, a key path's value, a data key, an identity or a token: an entry holds the file's
//! path, its stored `mac` and `lastmodified` (ciphertext and a timestamp, which tie the entry
//! to one version of the file), the public identifier of the master key that unwrapped the data
//! key, and the outcome (`ok`, or `error` with sops's exit code — never the error's text, which
//! may name key paths a reader of the log need not see).
//!
//! [`Log`] is the writer any part of veil may use (the future key service and agent log through
//! [`Log::append`] with their own `command` names); [`session`] is the CLI's one-entry-per-file
//! record, fed by the pipeline's observer.

mod policy;
pub mod session;
mod sink;

use crate::error::{Code, Error, Result};
pub use policy::{from_config, ConfigAudit};
pub use sink::Sink;

/// The format version written in every entry's `v` field. Fields are only ever added within
/// a version; a field that changes meaning or is removed gets a new version.
pub const SCHEMA_VERSION: u32 = 1;

/// Where the log goes and whether a failure to write it stops the command.
pub struct Log {
    sink: Sink,
    required: bool,
    /// What [`Sink`] the user named, for messages (a path or `syslog`).
    target: String,
}

/// The master key that unwrapped the data key (one per key group used): its kind (`age`,
/// `pgp`, `kms`, `hc_vault`, …, the metadata's names) and its public identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUse {
    pub kind: String,
    pub id: String,
}

/// What happened: `Ok`, or the failure's exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Error(i32),
}

impl Outcome {
    pub fn of<T>(r: &Result<T>) -> Outcome {
        match r {
            Ok(_) => Outcome::Ok,
            Err(e) => Outcome::Error(e.code.exit_code()),
        }
    }
}

/// One audit entry before the writer adds who, where and when.
#[derive(Clone, Debug, Default)]
pub struct Access {
    /// The command, as the user names it (`decrypt`, `exec-env`, `updatekeys`, …).
    pub command: String,
    /// The file's absolute path; `None` for stdin.
    pub file: Option<String>,
    /// The file's `mac` field as stored (an `ENC[…]` token), when the file could be parsed.
    pub mac: Option<String>,
    /// The file's `lastmodified` field as stored.
    pub lastmodified: Option<String>,
    /// The master keys that unwrapped the data key; empty when none did.
    pub keys: Vec<KeyUse>,
}

/// Who runs this process: the real uid, its `/etc/passwd` name, and the host name. Read once.
struct Who {
    uid: u32,
    user: Option<String>,
    host: Option<String>,
}

fn who() -> &'static Who {
    static WHO: std::sync::OnceLock<Who> = std::sync::OnceLock::new();
    WHO.get_or_init(|| {
        let uid = rustix::process::getuid().as_raw();
        let user = crate::exec::user::resolve_run_as_system(&uid.to_string())
            .ok()
            .and_then(|r| r.name);
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .or_else(|_| std::fs::read_to_string("/etc/hostname"))
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty());
        Who { uid, user, host }
    })
}

impl Log {
    /// The log `VEIL_AUDIT` names, opened now; `Ok(None)` when auditing is off. An unusable
    /// target is an error when `VEIL_AUDIT_REQUIRED=1`; otherwise a warning on stderr and no
    /// log (the command runs unaudited, as it would without `VEIL_AUDIT`).
    pub fn from_env() -> Result<Option<Log>> {
        let Some(target) = crate::env::var(crate::env::VEIL_AUDIT) else {
            return Ok(None);
        };
        Log::open(target, crate::env::audit_required())
    }

    /// Open `target`; an unusable one is an error when `required`, else a warning and no log.
    fn open(target: String, required: bool) -> Result<Option<Log>> {
        match Sink::open(&target) {
            Ok(sink) => Ok(Some(Log {
                sink,
                required,
                target,
            })),
            Err(e) if required => Err(refused(&target, &e)),
            Err(e) => {
                warn(&target, &e);
                Ok(None)
            }
        }
    }

    /// The log of a command run under the config `conf`: `VEIL_AUDIT` when set (the
    /// environment wins, whatever the file says), else the config's `veil.audit` (see
    /// [`policy`]); `VEIL_AUDIT_REQUIRED=1` or `veil.audit_required: true` make it required.
    /// A setting the config may not make is treated like a target that cannot be opened.
    pub fn for_command(
        conf: impl FnOnce() -> Option<crate::config::Config>,
    ) -> Result<Option<Log>> {
        if crate::env::var(crate::env::VEIL_AUDIT).is_some() {
            return Log::from_env();
        }
        let Some(conf) = conf() else { return Ok(None) };
        let conf = &conf;
        let env_required = crate::env::audit_required();
        let (target, required) = match policy::resolved(conf) {
            Ok(None) => return Ok(None),
            Ok(Some(a)) => (a.target, a.required || env_required),
            Err(msg) => {
                // The file asked for auditing (or tried to): required is its word too.
                let required = env_required
                    || conf
                        .veil_section()
                        .and_then(|s| s.get("audit_required"))
                        .and_then(|n| n.text())
                        == Some("true");
                let e = std::io::Error::other(msg);
                let what = format!("(from {})", conf.path.display());
                if required {
                    return Err(refused(&what, &e));
                }
                warn(&what, &e);
                return Ok(None);
            }
        };
        Log::open(target, required)
    }

    /// A log writing to `sink` (tests, and callers that pick their own target).
    pub fn new(sink: Sink, required: bool, target: impl Into<String>) -> Log {
        Log {
            sink,
            required,
            target: target.into(),
        }
    }

    /// Whether a failure to write stops the command (`VEIL_AUDIT_REQUIRED=1`).
    pub fn required(&self) -> bool {
        self.required
    }

    /// Append one entry. A write that fails is an error when the log is required, else a
    /// warning on stderr.
    pub fn append(&self, access: &Access, outcome: Outcome) -> Result<()> {
        let line = line(access, outcome, &now());
        match self.sink.write_line(&line, outcome) {
            Ok(()) => Ok(()),
            Err(e) if self.required => Err(refused(&self.target, &e)),
            Err(e) => {
                warn(&self.target, &e);
                Ok(())
            }
        }
    }
}

fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f).unwrap_or_default()
}

fn refused(target: &str, e: &std::io::Error) -> Error {
    Error::new(
        Code::Generic,
        format!("audit log {target}: {e}; nothing was decrypted (auditing is required)"),
    )
    .hint(
        "fix the audit log (VEIL_AUDIT or veil.audit in .sops.yaml names it) or ask whoever \
         set VEIL_AUDIT_REQUIRED or veil.audit_required",
    )
}

fn warn(target: &str, e: &std::io::Error) {
    eprintln!("warning: audit log {target}: {e}; this access is not recorded");
}

/// The JSON line (with its `\n`) for one entry. Field order is fixed (documented).
pub fn line(a: &Access, outcome: Outcome, time: &str) -> Vec<u8> {
    use serde_json::{json, Map, Value};
    let w = who();
    let mut m = Map::new();
    m.insert("v".into(), json!(SCHEMA_VERSION));
    m.insert("time".into(), json!(time));
    m.insert("user".into(), json!(w.user));
    m.insert("uid".into(), json!(w.uid));
    m.insert("host".into(), json!(w.host));
    m.insert("pid".into(), json!(std::process::id()));
    m.insert("command".into(), json!(a.command));
    m.insert("file".into(), json!(a.file));
    m.insert("mac".into(), json!(a.mac));
    m.insert("lastmodified".into(), json!(a.lastmodified));
    let keys: Vec<Value> = a
        .keys
        .iter()
        .map(|k| json!({"kind": k.kind, "id": k.id}))
        .collect();
    m.insert("keys".into(), Value::Array(keys));
    match outcome {
        Outcome::Ok => {
            m.insert("outcome".into(), json!("ok"));
            m.insert("code".into(), json!(0));
        }
        Outcome::Error(c) => {
            m.insert("outcome".into(), json!("error"));
            m.insert("code".into(), json!(c));
        }
    }
    let mut out = serde_json::to_vec(&Value::Object(m)).unwrap_or_default();
    out.push(b'\n');
    out
}

/// A file argument as an absolute path (not resolving symbolic links: the name the user gave,
/// made absolute against the current directory).
pub fn absolute(f: &str) -> String {
    let p = std::path::Path::new(f);
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

/// The `mac` and `lastmodified` fields of a file's metadata tree, as stored.
pub fn version_of(meta: &crate::tree::Value) -> (Option<String>, Option<String>) {
    let text = |k: &str| meta.get(k).and_then(|v| v.as_str()).map(str::to_string);
    (text("mac"), text("lastmodified"))
}

/// The master keys named by `by` (sops's names of the keys that unwrapped the data key, as the
/// engine reports them), with their kinds looked up in the file's metadata tree.
pub fn key_uses(meta: Option<&crate::tree::Value>, by: &[String]) -> Vec<KeyUse> {
    let md = meta.and_then(|m| crate::metadata::Metadata::from_tree(m).ok());
    by.iter()
        .map(|name| {
            let kind = md
                .as_ref()
                .and_then(|m| {
                    m.key_groups
                        .iter()
                        .flatten()
                        .find(|k| k.key.sops_name() == *name)
                        .map(|k| k.key.kind().to_string())
                })
                .unwrap_or_else(|| "unknown".into());
            KeyUse {
                kind,
                id: name.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_object_with_the_documented_fields_in_order() {
        let a = Access {
            command: "decrypt".into(),
            file: Some("/srv/app/secrets.yaml".into()),
            mac: Some("ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]".into()),
            lastmodified: Some("2026-12-07T19:00:00Z".into()),
            keys: vec![KeyUse {
                kind: "age".into(),
                id: "age1abc".into(),
            }],
        };
        let l = line(&a, Outcome::Error(128), "2026-12-07T19:00:01.000Z");
        assert_eq!(l.last(), Some(&b'\n'));
        assert_eq!(l.iter().filter(|b| **b == b'\n').count(), 1);
        let v: serde_json::Value = serde_json::from_slice(&l).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "v",
                "time",
                "user",
                "uid",
                "host",
                "pid",
                "command",
                "file",
                "mac",
                "lastmodified",
                "keys",
                "outcome",
                "code"
            ]
        );
        assert_eq!(v["v"], 1);
        assert_eq!(v["outcome"], "error");
        assert_eq!(v["code"], 128);
        assert_eq!(v["keys"][0]["kind"], "age");
    }

    #[test]
    fn the_timestamp_is_rfc3339_utc() {
        let t = now();
        assert!(
            time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).is_ok(),
            "{t}"
        );
        assert!(t.ends_with('Z'), "{t}");
    }
}
