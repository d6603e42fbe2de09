//! Finding `.sops.yaml`: the search sops makes from the current directory (not the file's)
//! up to a fixed depth, `--config`/`SOPS_CONFIG`, and Go's lexical path cleaning that rule
//! matching relies on. It reads no rules: that is [`super::file`].

use super::*;
use crate::error::Result;
use std::path::{Component, Path, PathBuf};

/// `cwd.join(p)` with `.` and `..` resolved lexically, like Go's `filepath.Abs` (no symlinks).
pub fn absolute_clean(p: &Path, cwd: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if out.parent().is_some() {
                    out.pop();
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The result of looking for the config file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoundConfig {
    /// The config to use, absolute; `None` when the search found nothing.
    pub path: Option<PathBuf>,
    /// sops's warning about an ignored `.sops.yml`, for the caller to print once.
    pub warning: Option<String>,
}

/// Find the config: `explicit` (from `--config` or `SOPS_CONFIG`) is used as given, with no
/// search; otherwise `.sops.yaml` is looked for in `cwd` and up to [`MAX_DEPTH`] parents.
pub fn find_config(explicit: Option<&Path>, cwd: &Path) -> FoundConfig {
    if let Some(p) = explicit {
        return FoundConfig {
            path: Some(absolute_clean(p, cwd)),
            warning: None,
        };
    }
    let mut alternate: Option<String> = None;
    let mut dir = cwd.to_path_buf();
    for depth in 0..MAX_DEPTH {
        let rel = |name: &str| {
            if depth == 0 {
                name.to_string()
            } else {
                format!("{}{name}", "../".repeat(depth))
            }
        };
        let candidate = dir.join(CONFIG_FILE_NAME);
        if candidate.exists() {
            let warning = alternate.map(|alt| {
                format!(
                    "ignoring {alt:?} when searching for config file; the config file must be called \
                     {CONFIG_FILE_NAME:?}; using {:?} instead",
                    rel(CONFIG_FILE_NAME)
                )
            });
            return FoundConfig {
                path: Some(candidate),
                warning,
            };
        }
        if alternate.is_none() && dir.join(ALTERNATE_CONFIG_NAME).exists() {
            alternate = Some(rel(ALTERNATE_CONFIG_NAME));
        }
        if !dir.pop() {
            // At the root, `..` is the root again: nothing new to see.
            break;
        }
    }
    FoundConfig {
        path: None,
        warning: alternate.map(|alt| {
            format!(
                "ignoring {alt:?} when searching for config file; the config file must be called \
                 {CONFIG_FILE_NAME:?}"
            )
        }),
    }
}

/// `--config` if given, else `SOPS_CONFIG` (non-empty), as sops's flag with an env default.
pub fn explicit_config_path(flag: Option<&Path>) -> Option<PathBuf> {
    flag.map(Path::to_path_buf)
        .or_else(|| crate::env::var(crate::env::SOPS_CONFIG).map(PathBuf::from))
}

/// Find and load the config. A config that is not found is `Ok((None, warning))`; a config
/// that is found (or named explicitly) and cannot be read or parsed is an error.
pub fn load_config(
    explicit: Option<&Path>,
    cwd: &Path,
) -> Result<(Option<Config>, Option<String>)> {
    let found = find_config(explicit, cwd);
    match found.path {
        Some(p) => Ok((Some(Config::load(&p)?), found.warning)),
        None => Ok((None, found.warning)),
    }
}
