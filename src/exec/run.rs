//! Starting the child, passing signals to it, and the private directory of `exec-file`.
//!
//! It exists to keep three promises: the child's exit status becomes veil's (a signal death is
//! 128+N, as shells report it); signals sent to veil reach the child (through
//! `guard::signals::run_forwarding`, which also says which ones are not sent twice); and the
//! decrypted file of `exec-file` lives in a fresh 0700 directory that is removed on every path
//! veil controls, including a fatal signal before or after the child runs.
//!
//! The child stays in veil's process group, so a terminal's Ctrl-C, Ctrl-\ or hangup reaches it
//! directly (and job control keeps working for programs that read the terminal). Only SIGKILL
//! to veil skips cleanup: the FIFO then still holds nothing (its content only ever lives in a
//! kernel pipe buffer); a `--no-fifo` file stays while the child runs (the child inherits the
//! directory's lock) and is removed by the next `exec-file` or `edit` after the child is gone.
//!
//! This module must not put a secret into argv, into an error, or on disk outside the private
//! directory.

use super::env::EnvVar;
use super::user::UserIds;
use crate::error::{Error, Result};
use crate::guard::temp::{Kind, LockedDir};
use rustix::fs::{Mode, OFlags};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use zeroize::Zeroizing;

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Program {
    /// sops's form: a command line run by `/bin/sh -c`.
    Shell(String),
    /// The argv form (`-- prog arg…`): run directly, no shell.
    Argv(Vec<OsString>),
}

/// A child to start: the program, the variables to add, and who it runs as.
pub struct Spawn<'a> {
    pub program: Program,
    pub env: &'a [EnvVar],
    /// Start from an empty environment instead of veil's own.
    pub pristine: bool,
    pub user: Option<UserIds>,
}

impl Spawn<'_> {
    /// The `Command`, ready to spawn or exec. Values go into the environment only.
    pub fn command(&self) -> Result<Command> {
        let mut cmd = match &self.program {
            Program::Shell(line) => {
                let mut c = Command::new("/bin/sh");
                c.arg("-c").arg(line);
                c
            }
            Program::Argv(argv) => {
                let Some((first, rest)) = argv.split_first() else {
                    return Err(Error::generic("missing command to run")
                        .hint("give the program after --, e.g. `-- env`"));
                };
                let mut c = Command::new(first);
                c.args(rest);
                c
            }
        };
        if self.pristine {
            cmd.env_clear();
        }
        for v in self.env {
            cmd.env(&v.name, OsStr::from_bytes(&v.value));
        }
        if let Some(u) = self.user {
            cmd.uid(u.uid).gid(u.gid);
        }
        Ok(cmd)
    }
}

/// Replace every `{}` in the command (each argument, in the argv form) by `path`, as sops does.
pub fn substitute_placeholder(program: &Program, path: &Path) -> Program {
    let with = path.as_os_str().as_bytes();
    match program {
        Program::Shell(line) => Program::Shell(line.replace("{}", &String::from_utf8_lossy(with))),
        Program::Argv(argv) => Program::Argv(
            argv.iter()
                .map(|a| OsString::from_vec(replace_bytes(a.as_bytes(), b"{}", with)))
                .collect(),
        ),
    }
}

fn replace_bytes(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay.get(i..i + from.len()) == Some(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// veil's exit code for the child's status: its code, or 128+N for a death by signal N.
pub fn exit_code(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(s)) => 128 + s,
        (None, None) => 1,
    }
}

/// The exit code for a child that could not be started, as shells use: 127 when the program
/// does not exist, 126 when it cannot be executed.
pub fn spawn_failure_code(e: &std::io::Error) -> i32 {
    match e.kind() {
        std::io::ErrorKind::NotFound => 127,
        _ => 126,
    }
}

/// Replace veil with the program (`--same-process`): same PID, no cleanup afterwards. Returns
/// only on failure.
pub fn exec_replace(cmd: &mut Command) -> std::io::Error {
    cmd.exec()
}

/// Check a `--filename`: one plain name inside the private directory, nothing that could
/// point elsewhere.
pub fn check_filename(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(Error::generic(format!(
            "--filename must be a plain file name, not {name:?}"
        ))
        .hint("give a name such as secrets.json; the directory is always a fresh private one"));
    }
    Ok(())
}

/// sops's default name of the FIFO, and the prefix of `--no-fifo` files without `--filename`.
pub const FALLBACK_FILENAME: &str = "tmp-file";

/// The fresh private directory of `exec-file` holding the decrypted file. Removed by
/// [`PrivateDir::remove`], or on drop (any early return or panic), or by a fatal signal.
pub struct PrivateDir {
    dir: Option<LockedDir>,
    file: PathBuf,
    fifo: bool,
}

impl PrivateDir {
    /// Create a fresh 0700 directory under the temp dir (`$TMPDIR`) with the plaintext as a
    /// FIFO (written once, by a thread, when the reader opens it) or, with `fifo = false`, as
    /// a 0600 regular file. With `owner`, the directory and file are handed to that user.
    pub fn create(
        filename: Option<&str>,
        fifo: bool,
        owner: Option<UserIds>,
        contents: Zeroizing<Vec<u8>>,
    ) -> Result<PrivateDir> {
        Self::create_in(&std::env::temp_dir(), filename, fifo, owner, contents)
    }

    /// [`PrivateDir::create`] under a given parent directory. What killed `exec-file`s left
    /// there is removed first (once the programs they ran have exited).
    pub fn create_in(
        parent: &Path,
        filename: Option<&str>,
        fifo: bool,
        owner: Option<UserIds>,
        contents: Zeroizing<Vec<u8>>,
    ) -> Result<PrivateDir> {
        if let Some(n) = filename {
            check_filename(n)?;
        }
        let fail = |what: &str, e: std::io::Error| {
            Error::generic(format!("could not create the private {what}: {e}"))
                .hint("check that the temp directory ($TMPDIR) exists and is writable")
        };
        crate::guard::temp::sweep(parent, Kind::ExecDir);
        // The child inherits the lock: should veil be killed, the directory stays while the
        // program that may still read it runs.
        let dir =
            LockedDir::create(parent, Kind::ExecDir, true).map_err(|e| fail("directory", e))?;
        let base = dir.path().to_path_buf();
        let mut pd = PrivateDir {
            file: PathBuf::new(),
            dir: Some(dir),
            fifo,
        };
        if fifo {
            let file = base.join(filename.unwrap_or(FALLBACK_FILENAME));
            make_fifo(&file).map_err(|e| fail("FIFO", e))?;
            if let Some(u) = owner {
                std::os::unix::fs::chown(&file, Some(u.uid), Some(u.gid))
                    .map_err(|e| fail("FIFO", e))?;
            }
            pd.file = file.clone();
            std::thread::spawn(move || write_fifo_once(&file, contents));
        } else {
            let mut f = match filename {
                Some(n) => {
                    let file = base.join(n);
                    let f = std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(0o600)
                        .open(&file)
                        .map_err(|e| fail("file", e))?;
                    pd.file = file;
                    f
                }
                None => {
                    let (f, path) = tempfile::Builder::new()
                        .prefix(FALLBACK_FILENAME)
                        .tempfile_in(&base)
                        .map_err(|e| fail("file", e))?
                        .keep()
                        .map_err(|e| fail("file", e.error))?;
                    pd.file = path;
                    f
                }
            };
            f.write_all(&contents)
                .and_then(|_| f.flush())
                .map_err(|e| fail("file", e))?;
            drop(contents);
            if let Some(u) = owner {
                std::os::unix::fs::chown(&pd.file, Some(u.uid), Some(u.gid))
                    .map_err(|e| fail("file", e))?;
            }
        }
        if let Some(u) = owner {
            std::os::unix::fs::chown(&base, Some(u.uid), Some(u.gid))
                .map_err(|e| fail("directory", e))?;
        }
        Ok(pd)
    }

    /// The path that replaces `{}`.
    pub fn path(&self) -> &Path {
        &self.file
    }

    /// The private directory.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_ref().map(LockedDir::path)
    }

    /// Remove the directory and everything in it. A FIFO writer still waiting for a reader is
    /// released first (its content goes into a pipe nobody reads and is discarded).
    pub fn remove(mut self) -> Result<()> {
        self.release_writer();
        match self.dir.take() {
            Some(d) => {
                let shown = d.path().display().to_string();
                d.close().map_err(|e| {
                    Error::generic(format!(
                        "could not remove the private directory {shown}: {e}"
                    ))
                    .hint("remove it by hand; it may hold the decrypted file")
                })
            }
            None => Ok(()),
        }
    }

    fn release_writer(&self) {
        if self.fifo && self.dir.is_some() {
            // Opening the read end wakes a writer blocked in open(); closing it at once makes
            // its write fail with EPIPE, so the plaintext goes nowhere.
            let _ = rustix::fs::open(
                &self.file,
                OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            );
        }
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        self.release_writer();
        // LockedDir's own drop removes the directory.
    }
}

/// `mkfifo(path, 0600)`.
#[cfg(not(target_vendor = "apple"))]
fn make_fifo(path: &Path) -> std::io::Result<()> {
    Ok(rustix::fs::mkfifoat(
        rustix::fs::CWD,
        path,
        Mode::RUSR | Mode::WUSR,
    )?)
}

/// `mkfifo(path, 0600)`. rustix has no `mkfifoat` on Apple systems (older macOS lack it), and
/// the crate forbids `unsafe`, so use the system's `mkfifo` tool; its argv holds only the path.
#[cfg(target_vendor = "apple")]
fn make_fifo(path: &Path) -> std::io::Result<()> {
    let st = Command::new("/usr/bin/mkfifo")
        .args(["-m", "600"])
        .arg(path)
        .status()?;
    if st.success() {
        Ok(())
    } else {
        Err(std::io::Error::other("mkfifo failed"))
    }
}

/// Open the FIFO for writing (this blocks until a reader opens it), check it is still the FIFO
/// veil made (not a symlink or a file put there since), write the content once and close.
fn write_fifo_once(path: &Path, contents: Zeroizing<Vec<u8>>) {
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags((OFlags::NOFOLLOW | OFlags::CLOEXEC).bits() as i32)
        .open(path);
    let Ok(mut f) = opened else { return };
    match f.metadata() {
        Ok(m) if m.file_type().is_fifo() => {}
        _ => return,
    }
    let _ = f.write_all(&contents);
    drop(contents);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn placeholder_is_replaced_everywhere() {
        let p = Path::new("/tmp/.veilX/tmp-file");
        assert_eq!(
            substitute_placeholder(&Program::Shell("cat {} {}; echo {".into()), p),
            Program::Shell("cat /tmp/.veilX/tmp-file /tmp/.veilX/tmp-file; echo {".into())
        );
        let argv = Program::Argv(vec!["prog".into(), "--config={}".into(), "{}".into()]);
        assert_eq!(
            substitute_placeholder(&argv, p),
            Program::Argv(vec![
                "prog".into(),
                "--config=/tmp/.veilX/tmp-file".into(),
                "/tmp/.veilX/tmp-file".into()
            ])
        );
        assert_eq!(replace_bytes(b"{{}}", b"{}", b"X"), b"{X}".to_vec());
        assert_eq!(replace_bytes(b"", b"{}", b"X"), Vec::<u8>::new());
    }

    #[test]
    fn exit_codes_follow_shell_conventions() {
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code(ExitStatus::from_raw(42 << 8)), 42);
        assert_eq!(exit_code(ExitStatus::from_raw(15)), 143);
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
        let nf = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(spawn_failure_code(&nf), 127);
        let pd = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(spawn_failure_code(&pd), 126);
    }

    #[test]
    fn filenames_stay_inside_the_directory() {
        assert!(check_filename("secrets.json").is_ok());
        for bad in ["", ".", "..", "../x", "a/b", "/etc/passwd", "a\0b"] {
            assert!(check_filename(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn argv_needs_a_program() {
        let s = Spawn {
            program: Program::Argv(vec![]),
            env: &[],
            pristine: false,
            user: None,
        };
        assert!(s.command().is_err());
    }

    fn plain(s: &str) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(s.as_bytes().to_vec())
    }

    #[test]
    fn regular_file_is_private_and_removed() {
        let parent = tempfile::tempdir().unwrap();
        let pd = PrivateDir::create_in(parent.path(), Some("x.json"), false, None, plain("{}\n"))
            .unwrap();
        let dir = pd.dir().unwrap().to_path_buf();
        assert_eq!(pd.path(), dir.join("x.json"));
        assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        assert_eq!(std::fs::metadata(pd.path()).unwrap().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(pd.path()).unwrap(), "{}\n");
        pd.remove().unwrap();
        assert!(!dir.exists());

        let pd = PrivateDir::create_in(parent.path(), None, false, None, plain("a")).unwrap();
        let name = pd
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with("tmp-file") && name.len() > "tmp-file".len());
        let dir = pd.dir().unwrap().to_path_buf();
        drop(pd);
        assert!(!dir.exists(), "drop removes the directory too");
    }

    #[test]
    fn fifo_is_written_once_and_removed() {
        let parent = tempfile::tempdir().unwrap();
        let pd = PrivateDir::create_in(parent.path(), None, true, None, plain("k: v\n")).unwrap();
        let dir = pd.dir().unwrap().to_path_buf();
        assert_eq!(pd.path(), dir.join("tmp-file"));
        let meta = std::fs::symlink_metadata(pd.path()).unwrap();
        assert!(meta.file_type().is_fifo());
        assert_eq!(meta.mode() & 0o077, 0);
        let mut got = String::new();
        std::fs::File::open(pd.path())
            .unwrap()
            .read_to_string(&mut got)
            .unwrap();
        assert_eq!(got, "k: v\n");
        pd.remove().unwrap();
        assert!(!dir.exists());
    }

    #[test]
    fn unread_fifo_is_released_and_removed() {
        let parent = tempfile::tempdir().unwrap();
        let pd = PrivateDir::create_in(parent.path(), Some("s.env"), true, None, plain("A=b\n"))
            .unwrap();
        let dir = pd.dir().unwrap().to_path_buf();
        pd.remove().unwrap();
        assert!(!dir.exists());
        assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
    }

    #[test]
    fn bad_filename_creates_nothing() {
        let parent = tempfile::tempdir().unwrap();
        assert!(
            PrivateDir::create_in(parent.path(), Some("../x"), false, None, plain("s")).is_err()
        );
        assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
    }
}
