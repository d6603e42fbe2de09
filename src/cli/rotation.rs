//! The rotation warning of decrypt, edit and exec-*: one line on stderr when the file is past
//! its creation rule's `max_age` (`crate::policy::rotation`). Never on stdout, never more than
//! once per run, and never an error: a policy that cannot be read, or a file with no rule, just
//! gives no warning here (`veil check` and `veil access` report those). Invoked as `sops`, veil
//! keeps sops's stderr (`log::sops_quiet`: no `--verbose`) unless `VEIL_ROTATION_WARNING=1`
//! (`crate::env`).

use crate::metadata::Metadata;
use crate::pipeline::Observer;
use crate::policy::rotation::{self, Limit};
use crate::tree::Value;
use std::cell::Cell;

/// The limit for `file` (or its `--filename-override`), when a warning may be printed at all.
fn limit(name: Option<&str>) -> Option<Limit> {
    if !crate::env::rotation_warning(super::log::sops_quiet()) {
        return None;
    }
    let name = name.filter(|n| *n != "-")?;
    let cwd = std::env::current_dir().ok()?;
    let (conf, _) = crate::config::load_config(super::explicit_config().as_deref(), &cwd).ok()?;
    let abs = crate::config::absolute_clean(std::path::Path::new(name), &cwd);
    rotation::limit_for(&conf?, &abs).ok().flatten()
}

fn warn(limit: &Limit, name: &str, meta: &Metadata) {
    let now = time::OffsetDateTime::now_utc();
    if let Some(o) = rotation::overdue(meta, limit, now) {
        eprintln!("{}", o.warning(name));
    }
}

/// Warn about an opened file (edit, exec-*), by its name as given.
pub fn warn_opened(name: &str, filename_override: Option<&str>, meta: &Metadata) {
    let rule_name = filename_override.unwrap_or(name);
    if let Some(l) = limit(Some(rule_name)) {
        warn(&l, name, meta);
    }
}

/// An observer that passes everything on to `inner` and warns when it sees the metadata of an
/// overdue file (decrypt, whose streaming path hands back no metadata).
pub struct Watch<'a> {
    inner: &'a dyn Observer,
    limit: Option<Limit>,
    name: String,
    warned: Cell<bool>,
}

impl<'a> Watch<'a> {
    pub fn new(inner: &'a dyn Observer, name: &str, filename_override: Option<&str>) -> Self {
        Watch {
            inner,
            limit: limit(filename_override.or(Some(name))),
            name: name.to_string(),
            warned: Cell::new(false),
        }
    }
}

impl Observer for Watch<'_> {
    fn step(&self, msg: &str) {
        self.inner.step(msg);
    }
    fn unwrapping(&self, metadata: Option<&Value>) {
        self.inner.unwrapping(metadata);
        let (Some(l), Some(tree)) = (&self.limit, metadata) else {
            return;
        };
        if self.warned.replace(true) {
            return;
        }
        if let Ok(meta) = Metadata::from_tree(tree) {
            warn(l, &self.name, &meta);
        }
    }
    fn unwrapped_by(&self, keys: &[String]) {
        self.inner.unwrapped_by(keys);
    }
}
