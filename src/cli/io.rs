//! Reading input once (file or stdin) and writing output atomically.
//!
//! An in-place or `--output` write goes to a temp file in the target's own directory, gets the
//! original's permissions (0600 for a new file), is fsynced, then renamed over the target, and
//! the directory is fsynced. A symlink is written through (its target is replaced, the link
//! stays). A failure at any step leaves the original untouched.

use crate::error::{Code, Error, Result};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Read the whole input: a file, or stdin for `None`/`-`.
pub fn read_input(file: Option<&str>) -> Result<Vec<u8>> {
    match file {
        None | Some("-") => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).map_err(|e| {
                Error::new(
                    Code::CouldNotReadInputFile,
                    format!("could not read stdin: {e}"),
                )
            })?;
            Ok(buf)
        }
        Some(p) => std::fs::read(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => missing_file(p),
            _ => Error::new(
                Code::CouldNotReadInputFile,
                format!("could not read {p}: {e}"),
            ),
        }),
    }
}

/// sops's error for a file to decrypt or encrypt that does not exist (exit 100), with the
/// absolute path as sops prints it.
pub fn missing_file(p: &str) -> Error {
    let abs = go_abs(p);
    Error::new(
        Code::NoFileSpecified,
        format!(
            "Error: cannot operate on non-existent file \"{}\"",
            abs.display()
        ),
    )
    .hint("check the path; to read stdin, pass - or no file")
}

/// The absolute, lexically cleaned path, as Go's `filepath.Abs` gives it to sops's messages.
pub fn go_abs(p: &str) -> PathBuf {
    match std::env::current_dir() {
        Ok(cwd) => crate::config::absolute_clean(Path::new(p), &cwd),
        Err(_) => PathBuf::from(p),
    }
}

/// Read a file that must already exist for a command that changes or inspects it (rotate,
/// set, unset, groups, updatekeys, exec-*). Any failure is sops's `Error reading file: open
/// PATH: reason`, exit 2 (sops answers 100 only in decrypt, encrypt and the legacy form);
/// `absolute` names the path the way the sops command does.
pub fn read_existing(p: &str, absolute: bool) -> Result<Vec<u8>> {
    std::fs::read(p).map_err(|e| {
        let shown = match absolute {
            true => go_abs(p).display().to_string(),
            false => p.to_string(),
        };
        Error::new(
            Code::CouldNotReadInputFile,
            format!(
                "Error reading file: {}",
                super::gotext::path_error("open", &shown, &e)
            ),
        )
        .hint("check the path of the encrypted file")
    })
}

/// Resolve symlinks so the write replaces the link's target, not the link.
fn resolve_target(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

/// Write `data` to `path` atomically (temp file in the same directory, fsync, rename).
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    write_atomic_parts(path, &[data])
}

/// [`write_atomic`] of `parts` written one after another.
pub fn write_atomic_parts(path: &Path, parts: &[&[u8]]) -> Result<()> {
    let target = resolve_target(path);
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let fail = |what: &str, e: std::io::Error| {
        Error::new(
            Code::CouldNotWriteOutputFile,
            format!("could not write {}: {what}: {e}", path.display()),
        )
        .hint("check that the directory exists and is writable; the original file was not changed")
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".veil-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| fail("creating a temp file", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&target)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o600);
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
            .map_err(|e| fail("setting permissions", e))?;
    }
    for data in parts {
        tmp.write_all(data).map_err(|e| fail("writing", e))?;
    }
    tmp.as_file().sync_all().map_err(|e| fail("syncing", e))?;
    tmp.persist(&target)
        .map_err(|e| fail("renaming", e.error))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Write to stdout; a closed pipe is not an error (`veil decrypt f | head`).
pub fn write_stdout(data: &[u8]) -> Result<()> {
    write_stdout_parts(&[data])
}

/// [`write_stdout`] of `parts` written one after another.
pub fn write_stdout_parts(parts: &[&[u8]]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let written = parts
        .iter()
        .try_for_each(|d| out.write_all(d))
        .and_then(|_| out.flush());
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::new(
            Code::CouldNotWriteOutputFile,
            format!("could not write to stdout: {e}"),
        )),
    }
}

/// Send the result where the flags say: in place, `--output`, or stdout.
pub fn emit_output(
    file: Option<&str>,
    in_place: bool,
    output: Option<&str>,
    data: &[u8],
) -> Result<()> {
    emit_output_parts(file, in_place, output, &[data])
}

/// [`emit_output`] of `parts` written one after another (no copy into one buffer).
pub fn emit_output_parts(
    file: Option<&str>,
    in_place: bool,
    output: Option<&str>,
    parts: &[&[u8]],
) -> Result<()> {
    if in_place && output.is_some() {
        return Err(Error::new(
            Code::ConflictingParameters,
            "Error: cannot operate on both --output and --in-place",
        )
        .hint("use one of them"));
    }
    if in_place {
        match file {
            None | Some("-") => Err(Error::new(
                Code::ConflictingParameters,
                "cannot write stdin in place",
            )
            .hint("pass a file name, or use --output")),
            Some(p) => write_atomic_parts(Path::new(p), parts),
        }
    } else if let Some(o) = output {
        write_atomic_parts(Path::new(o), parts)
    } else {
        write_stdout_parts(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_keeps_mode_and_follows_symlinks() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.yaml");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = d.path().join("link.yaml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        assert_eq!(
            std::fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let leftovers: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".veil-"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn failed_write_leaves_original() {
        let d = tempfile::tempdir().unwrap();
        let missing = d.path().join("nope/x.yaml");
        assert_eq!(
            write_atomic(&missing, b"x").unwrap_err().code,
            Code::CouldNotWriteOutputFile
        );
    }
}
