//! Temporary files and directories that may hold plaintext: created private (0600 files, 0700
//! directories), registered with the signal thread while they exist, and named after their
//! owner so that what a killed veil leaves behind can be recognised and removed by the next run.
//!
//! Names: `.veil-<pid>-<random>.tmp` (the temp file of an atomic write, next to its target),
//! `veil-edit-<pid>-<random>` (the directory of `edit`), `.veil-exec-<pid>-<random>` (the
//! directory of `exec-file`). The owner holds an exclusive `flock` on each for as long as it
//! may use it. [`sweep`] removes one only when all of these hold: the name has that shape, it
//! is a plain file or directory (not a symlink) owned by the same user, no process holds its
//! lock, and the PID in its name is not running. A live veil's files are never touched, even
//! one in another PID namespace (its lock shows), and a PID reused by an unrelated program only
//! delays the removal.
//!
//! The temp file of an atomic write is, where the kernel allows it (Linux, `O_TMPFILE`), an
//! unnamed file until it is complete: a SIGKILL while the plaintext is being written leaves
//! nothing at all. It gets a name only for the instant between `link` and `rename`, with signal
//! cleanup held off.
//!
//! `exec-file` hands its directory's lock to the child it runs, so a directory whose veil was
//! killed stays while that program (which may still read the file) runs, and goes with the next
//! veil run after it has exited. This module must not follow symlinks when removing, and must
//! not remove anything it did not recognise by name, owner and lock.

use super::signals::{self, Cleanup, Ticket};
use rustix::fs::{FlockOperation, Mode, OFlags};
use std::fs::{File, Metadata};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What kind of temporary thing a name belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `.veil-<pid>-<random>.tmp`: the temp file of an atomic write.
    WriteTemp,
    /// `veil-edit-<pid>-<random>`: the private directory of `edit`.
    EditDir,
    /// `.veil-exec-<pid>-<random>`: the private directory of `exec-file`.
    ExecDir,
}

impl Kind {
    fn affixes(self) -> (&'static str, &'static str) {
        match self {
            Kind::WriteTemp => (".veil-", ".tmp"),
            Kind::EditDir => ("veil-edit-", ""),
            Kind::ExecDir => (".veil-exec-", ""),
        }
    }

    fn is_dir(self) -> bool {
        self != Kind::WriteTemp
    }

    /// The prefix of a name this process creates now (`…<pid>-`).
    fn prefix(self) -> String {
        format!("{}{}-", self.affixes().0, std::process::id())
    }

    /// The owner's PID, when `name` has this kind's shape.
    pub fn owner(self, name: &str) -> Option<u32> {
        let (pre, suf) = self.affixes();
        let rest = name.strip_prefix(pre)?.strip_suffix(suf)?;
        let (pid, random) = rest.split_once('-')?;
        let plain = |s: &str, digits: bool| {
            !s.is_empty()
                && s.bytes().all(|b| {
                    if digits {
                        b.is_ascii_digit()
                    } else {
                        b.is_ascii_alphanumeric()
                    }
                })
        };
        if !plain(pid, true) || !plain(random, false) {
            return None;
        }
        pid.parse().ok().filter(|&p| p > 0)
    }
}

fn lock_now(fd: impl AsFd) -> io::Result<()> {
    Ok(rustix::fs::flock(
        fd,
        FlockOperation::NonBlockingLockExclusive,
    )?)
}

/// Whether a process with this PID exists (in this PID namespace).
fn running(pid: u32) -> bool {
    let Some(p) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    !matches!(
        rustix::process::test_kill_process(p),
        Err(rustix::io::Errno::SRCH)
    )
}

/// [`sweep`], at most once per directory and kind in this process (`updatekeys` writes many
/// files into one directory).
pub fn sweep_once(dir: &Path, kind: Kind) -> usize {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static DONE: Mutex<Option<HashSet<(PathBuf, Kind)>>> = Mutex::new(None);
    let first = DONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get_or_insert_with(HashSet::new)
        .insert((dir.to_path_buf(), kind));
    if first {
        sweep(dir, kind)
    } else {
        0
    }
}

/// Remove what dead veil processes left of `kind` in `dir` (see the module docs for the
/// rules). Returns how many were removed; unreadable directories and entries are skipped.
pub fn sweep(dir: &Path, kind: Kind) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let me = rustix::process::geteuid().as_raw();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| kind.owner(n)) else {
            continue;
        };
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let right_type = if kind.is_dir() {
            meta.is_dir()
        } else {
            meta.is_file()
        };
        if !right_type || meta.uid() != me || running(pid) {
            continue;
        }
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let flags = if kind.is_dir() {
            flags | OFlags::DIRECTORY
        } else {
            flags
        };
        let Ok(fd) = rustix::fs::open(&path, flags, Mode::empty()) else {
            continue;
        };
        // Held by a live process (veil, or the program a killed exec-file ran): not stale.
        if lock_now(&fd).is_err() {
            continue;
        }
        // The name must still be the thing that was checked and locked.
        match rustix::fs::fstat(&fd) {
            Ok(st) if st.st_ino == meta.ino() && st.st_dev == meta.dev() => {}
            _ => continue,
        }
        let gone = if kind.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if gone.is_ok() {
            removed += 1;
        }
    }
    removed
}

/// A private directory (0700) named after this process, locked and registered for cleanup;
/// removed with everything in it when dropped or [`LockedDir::close`]d.
pub struct LockedDir {
    // Field order is drop order: remove, then unlock, then unregister.
    dir: Option<tempfile::TempDir>,
    _lock: OwnedFd,
    _ticket: Ticket,
}

impl LockedDir {
    /// Create it under `parent`. With `inherit_lock`, programs veil starts keep the lock (and
    /// with it the directory, should veil be killed) for as long as they run.
    pub fn create(parent: &Path, kind: Kind, inherit_lock: bool) -> io::Result<LockedDir> {
        let ((dir, lock), ticket) = signals::tracked(|| {
            let dir = tempfile::Builder::new()
                .prefix(&kind.prefix())
                .rand_bytes(8)
                .permissions(std::fs::Permissions::from_mode(0o700))
                .tempdir_in(parent)?;
            let path = dir.path().to_path_buf();
            let opened = rustix::fs::open(
                &path,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(io::Error::from)
            .and_then(|fd| lock_now(&fd).map(|_| fd));
            match opened {
                Ok(fd) => Ok(((dir, fd), Cleanup::Dir(path))),
                Err(e) => {
                    let _ = dir.close();
                    Err(e)
                }
            }
        })?;
        if inherit_lock {
            rustix::io::fcntl_setfd(&lock, rustix::io::FdFlags::empty())?;
        }
        Ok(LockedDir {
            dir: Some(dir),
            _lock: lock,
            _ticket: ticket,
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.as_ref().map(|d| d.path()).unwrap_or(Path::new(""))
    }

    /// Remove the directory now, reporting a failure.
    pub fn close(mut self) -> io::Result<()> {
        match self.dir.take() {
            Some(d) => d.close(),
            None => Ok(()),
        }
    }
}

/// The temp file of an atomic write: 0600 from the start, in the target's directory, locked,
/// unnamed until the rename where the kernel allows it, else named `.veil-<pid>-<random>.tmp`
/// and registered for cleanup. Dropped without [`AtomicTemp::replace`], nothing remains.
pub struct AtomicTemp {
    file: File,
    dir: PathBuf,
    named: Option<(PathBuf, Ticket)>,
}

impl AtomicTemp {
    /// Create it in `dir`; with `unnamed`, try an unnamed file first.
    pub fn create_in(dir: &Path, unnamed: bool) -> io::Result<AtomicTemp> {
        // An unnamed file needs no cleanup, but its rename is done under the signal lock
        // ([`signals::critical`]) so that a fatal signal ends veil before it or after it: the
        // signal thread must run for that (the Rust runtime's own SIGBUS/SIGSEGV handler would
        // otherwise swallow a SIGBUS sent by `kill` and let the write go on).
        signals::install()?;
        if unnamed {
            if let Some(file) = unnamed_file(dir) {
                return Ok(AtomicTemp {
                    file,
                    dir: dir.to_path_buf(),
                    named: None,
                });
            }
        }
        let ((file, path), ticket) = signals::tracked(|| {
            let (file, path) = tempfile::Builder::new()
                .prefix(&Kind::WriteTemp.prefix())
                .suffix(".tmp")
                .rand_bytes(8)
                .tempfile_in(dir)?
                .keep()
                .map_err(|e| e.error)?;
            let _ = lock_now(&file);
            Ok::<_, io::Error>(((file, path.clone()), Cleanup::File(path)))
        })?;
        Ok(AtomicTemp {
            file,
            dir: dir.to_path_buf(),
            named: Some((path, ticket)),
        })
    }

    /// Whether the file has no name (yet).
    pub fn is_unnamed(&self) -> bool {
        self.named.is_none()
    }

    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Give the file the owner, group and mode of `like` (the file it replaces): the owner and
    /// group where permitted (root keeps another user's file theirs; others keep at least the
    /// group when they are in it), then the mode (after chown, which may clear set-id bits).
    pub fn copy_owner_and_mode(&self, like: &Metadata) -> io::Result<()> {
        let mine = self.file.metadata()?;
        if (mine.uid(), mine.gid()) != (like.uid(), like.gid())
            && std::os::unix::fs::fchown(&self.file, Some(like.uid()), Some(like.gid())).is_err()
        {
            let _ = std::os::unix::fs::fchown(&self.file, None, Some(like.gid()));
        }
        let mode = like.permissions().mode() & 0o7777;
        self.file
            .set_permissions(std::fs::Permissions::from_mode(mode))
    }

    /// Put the file in place of `target` (a rename; `target`'s directory must be the one the
    /// file was created in). Signal cleanup is held off meanwhile, so `target` ends up as the
    /// old or the new version, and no temp name remains either way.
    pub fn replace(mut self, target: &Path) -> io::Result<()> {
        let named = self.named.take();
        let result = signals::critical(|| {
            let from = match &named {
                Some((p, _)) => p.clone(),
                None => link_unnamed(&self.file, &self.dir)?,
            };
            std::fs::rename(&from, target).inspect_err(|_| {
                let _ = std::fs::remove_file(&from);
            })
        });
        drop(named);
        result
    }

    /// Give the file the name `target`, failing with `AlreadyExists` when something has that
    /// name (a file created meanwhile is never overwritten).
    pub fn create_new(mut self, target: &Path) -> io::Result<()> {
        let named = self.named.take();
        let result = signals::critical(|| match &named {
            Some((p, _)) => {
                let linked = std::fs::hard_link(p, target);
                let _ = std::fs::remove_file(p);
                linked
            }
            None => link_at(&self.file, target),
        });
        drop(named);
        result
    }
}

impl Drop for AtomicTemp {
    fn drop(&mut self) {
        if let Some((p, _ticket)) = self.named.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// An `O_TMPFILE` in `dir`, locked, when the kernel, the filesystem and `/proc` allow linking it
/// later; `None` otherwise (the caller then makes a named file, which reports real errors).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn unnamed_file(dir: &Path) -> Option<File> {
    if !Path::new("/proc/self/fd").is_dir() {
        return None;
    }
    let fd = rustix::fs::open(
        dir,
        OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
        Mode::RUSR | Mode::WUSR,
    )
    .ok()?;
    let _ = lock_now(&fd);
    Some(File::from(fd))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn unnamed_file(_dir: &Path) -> Option<File> {
    None
}

/// Link an unnamed file into `path` (fails if `path` exists).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn link_at(_file: &File, _path: &Path) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Link an unnamed file into `path` (fails if `path` exists).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn link_at(file: &File, path: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let proc = format!("/proc/self/fd/{}", file.as_raw_fd());
    match rustix::fs::linkat(
        rustix::fs::CWD,
        proc.as_str(),
        rustix::fs::CWD,
        path,
        rustix::fs::AtFlags::SYMLINK_FOLLOW,
    ) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::EXIST) => Err(io::ErrorKind::AlreadyExists.into()),
        Err(_) => Ok(rustix::fs::linkat(
            file,
            "",
            rustix::fs::CWD,
            path,
            rustix::fs::AtFlags::EMPTY_PATH,
        )?),
    }
}

/// Give an unnamed file a fresh temp name in `dir`.
fn link_unnamed(file: &File, dir: &Path) -> io::Result<PathBuf> {
    use rand::Rng;
    for _ in 0..16 {
        let random: String = rand::thread_rng()
            .sample_iter(rand::distributions::Alphanumeric)
            .take(8)
            .map(char::from)
            .collect();
        let path = dir.join(format!("{}{random}.tmp", Kind::WriteTemp.prefix()));
        match link_at(file, &path) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            r => return r.map(|_| path),
        }
    }
    Err(io::ErrorKind::AlreadyExists.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn entries(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// The PID of a process that has exited and been reaped.
    fn dead_pid() -> u32 {
        let mut c = std::process::Command::new("true").spawn().unwrap();
        let pid = c.id();
        c.wait().unwrap();
        pid
    }

    #[test]
    fn names_carry_the_owner() {
        assert_eq!(Kind::WriteTemp.owner(".veil-123-aB9xYz.tmp"), Some(123));
        assert_eq!(Kind::EditDir.owner("veil-edit-77-abcdef"), Some(77));
        assert_eq!(Kind::ExecDir.owner(".veil-exec-9-x1"), Some(9));
        for (k, n) in [
            (Kind::WriteTemp, ".veil-abcdef.tmp"),
            (Kind::WriteTemp, ".veil-12-.tmp"),
            (Kind::WriteTemp, ".veil-12-ab.tmp.bak"),
            (Kind::WriteTemp, ".veil--ab.tmp"),
            (Kind::WriteTemp, ".veil-0-ab.tmp"),
            (Kind::WriteTemp, ".veil-1-a/b.tmp"),
            (Kind::EditDir, "veil-edit-abc"),
            (Kind::EditDir, "veil-exec-1-ab"),
            (Kind::ExecDir, "veil-exec-1-ab"),
        ] {
            assert_eq!(k.owner(n), None, "{n}");
        }
        let mine = Kind::EditDir.prefix();
        assert_eq!(
            Kind::EditDir.owner(&format!("{mine}Zz1")),
            Some(std::process::id())
        );
    }

    #[test]
    fn sweep_removes_only_what_dead_owners_left() {
        let d = tempfile::tempdir().unwrap();
        let dead = dead_pid();
        let stale = d.path().join(format!(".veil-{dead}-abc123.tmp"));
        std::fs::write(&stale, "plaintext").unwrap();
        // A live owner's file: this test process holds its lock.
        let live = d.path().join(format!(".veil-{dead}-live00.tmp"));
        std::fs::write(&live, "x").unwrap();
        let held = File::open(&live).unwrap();
        lock_now(&held).unwrap();
        // A running PID, unlocked (the instant between create and lock): kept.
        let racing = d
            .path()
            .join(format!(".veil-{}-race00.tmp", std::process::id()));
        std::fs::write(&racing, "").unwrap();
        // Not ours by name, or not a plain file.
        let other = d.path().join(".veil-notes.tmp");
        std::fs::write(&other, "x").unwrap();
        let link = d.path().join(format!(".veil-{dead}-link00.tmp"));
        std::os::unix::fs::symlink(&other, &link).unwrap();
        let dir = d.path().join(format!("veil-edit-{dead}-dir000"));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("f.yaml"), "secret").unwrap();

        assert_eq!(sweep(d.path(), Kind::WriteTemp), 1);
        assert!(!stale.exists());
        for kept in [&live, &racing, &other, &dir] {
            assert!(kept.exists(), "{kept:?}");
        }
        assert!(std::fs::symlink_metadata(&link).is_ok());
        assert_eq!(sweep(d.path(), Kind::EditDir), 1);
        assert!(!dir.exists());
        drop(held);
        assert_eq!(sweep(d.path(), Kind::WriteTemp), 1, "unlocked now");
        assert!(!live.exists());
    }

    #[test]
    fn a_locked_dir_is_private_and_goes_away() {
        let parent = tempfile::tempdir().unwrap();
        let ld = LockedDir::create(parent.path(), Kind::EditDir, false).unwrap();
        let p = ld.path().to_path_buf();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o700);
        assert_eq!(
            Kind::EditDir.owner(&p.file_name().unwrap().to_string_lossy()),
            Some(std::process::id())
        );
        // Its owner is alive and holds the lock: a sweep leaves it.
        assert_eq!(sweep(parent.path(), Kind::EditDir), 0);
        drop(ld);
        assert!(!p.exists());
    }

    fn write_and_replace(unnamed: bool) {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("t.yaml");
        std::fs::write(&target, "old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        let like = std::fs::metadata(&target).unwrap();
        let mut t = AtomicTemp::create_in(d.path(), unnamed).unwrap();
        if !unnamed {
            assert!(!t.is_unnamed());
        }
        t.file().write_all(b"new").unwrap();
        // Private until the very end, whatever the target's mode.
        assert_eq!(t.file().metadata().unwrap().mode() & 0o777, 0o600);
        t.copy_owner_and_mode(&like).unwrap();
        t.replace(&target).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(std::fs::metadata(&target).unwrap().mode() & 0o777, 0o640);
        assert_eq!(entries(d.path()), ["t.yaml"]);
    }

    #[test]
    fn atomic_temp_replaces_named_and_unnamed() {
        write_and_replace(true);
        write_and_replace(false);
    }

    #[test]
    fn a_dropped_temp_leaves_nothing() {
        for unnamed in [true, false] {
            let d = tempfile::tempdir().unwrap();
            let mut t = AtomicTemp::create_in(d.path(), unnamed).unwrap();
            t.file().write_all(b"plain").unwrap();
            drop(t);
            assert!(entries(d.path()).is_empty(), "unnamed={unnamed}");
        }
    }

    #[test]
    fn create_new_never_overwrites() {
        for unnamed in [true, false] {
            let d = tempfile::tempdir().unwrap();
            let target = d.path().join("n.json");
            let mut t = AtomicTemp::create_in(d.path(), unnamed).unwrap();
            t.file().write_all(b"a").unwrap();
            t.create_new(&target).unwrap();
            assert_eq!(std::fs::read(&target).unwrap(), b"a");
            let mut t = AtomicTemp::create_in(d.path(), unnamed).unwrap();
            t.file().write_all(b"b").unwrap();
            let e = t.create_new(&target).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
            assert_eq!(std::fs::read(&target).unwrap(), b"a");
            assert_eq!(entries(d.path()), ["n.json"], "unnamed={unnamed}");
        }
    }
}
