//! The advisory lock that keeps two veil commands changing one file from losing an update.
//!
//! The lock is an exclusive `flock` on the file itself, not on a side file: nothing extra
//! appears next to files that live in git. Since every write replaces the file by a rename, the
//! inode a waiter finally locks may no longer be the one its path names; so after locking, the
//! path is checked to still name the locked inode, and if not, the new one is locked instead.
//! The holder keeps the lock until its rename is done, then lets go; the waiter then reads the
//! new version.
//!
//! Programs that do not take the lock (sops, editors, git) can still change the file; what the
//! lock records ([`Ident`]: device, inode, size, modification time) lets the writer see that
//! before it replaces the file. On a filesystem without `flock` the lock is skipped (see
//! [`FileLock::is_held`]) and only that check remains. This module must not block forever
//! without saying so: a wait longer than a moment is announced through the caller's callback.

use rustix::fs::FlockOperation;
use std::fs::File;
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long to wait quietly before announcing the wait.
pub const QUIET_WAIT: Duration = Duration::from_secs(1);

/// What identifies one version of a file on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ident {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: (i64, i64),
}

impl Ident {
    pub fn of(m: &std::fs::Metadata) -> Ident {
        Ident {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
        }
    }

    /// The version `path` names now (symlinks followed).
    pub fn of_path(path: &Path) -> io::Result<Ident> {
        std::fs::metadata(path).map(|m| Ident::of(&m))
    }

    fn same_inode(&self, other: &Ident) -> bool {
        (self.dev, self.ino) == (other.dev, other.ino)
    }
}

/// An exclusive lock on a file, held until dropped.
#[derive(Debug)]
pub struct FileLock {
    /// `None` when the filesystem does not support locks.
    file: Option<File>,
    ident: Ident,
}

impl FileLock {
    /// The version that was current when the lock was taken.
    pub fn ident(&self) -> Ident {
        self.ident
    }

    /// Whether a lock is really held (false on filesystems without `flock`).
    pub fn is_held(&self) -> bool {
        self.file.is_some()
    }
}

fn unsupported(e: rustix::io::Errno) -> bool {
    use rustix::io::Errno;
    [Errno::NOLCK, Errno::OPNOTSUPP, Errno::INVAL, Errno::NOSYS].contains(&e)
}

/// Lock the file `path` names. `Ok(None)` when there is no such file. When another process
/// holds the lock, wait; after [`QUIET_WAIT`], call `waiting` once and wait on.
pub fn lock(path: &Path, mut waiting: impl FnMut()) -> io::Result<Option<FileLock>> {
    let mut announced = false;
    loop {
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        match rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(e) if unsupported(e) => {
                let ident = Ident::of(&file.metadata()?);
                return Ok(Some(FileLock { file: None, ident }));
            }
            Err(rustix::io::Errno::WOULDBLOCK) => {
                wait_for(&file, &mut announced, &mut waiting)?;
            }
            Err(e) => return Err(e.into()),
        }
        let locked = Ident::of(&file.metadata()?);
        match Ident::of_path(path) {
            Ok(now) if now.same_inode(&locked) => {
                return Ok(Some(FileLock {
                    file: Some(file),
                    ident: now,
                }))
            }
            // Replaced (or removed) while we waited: lock what the path names now.
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        }
    }
}

/// Wait for the lock on `file`: quietly for a moment, then announced, then blocking.
fn wait_for(file: &File, announced: &mut bool, waiting: &mut impl FnMut()) -> io::Result<()> {
    let start = Instant::now();
    while !*announced && start.elapsed() < QUIET_WAIT {
        std::thread::sleep(Duration::from_millis(20));
        match rustix::fs::flock(file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(()),
            Err(rustix::io::Errno::WOULDBLOCK) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if !*announced {
        *announced = true;
        waiting();
    }
    loop {
        match rustix::fs::flock(file, FlockOperation::LockExclusive) {
            Ok(()) => return Ok(()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_none() {
        let d = tempfile::tempdir().unwrap();
        assert!(lock(&d.path().join("no"), || {}).unwrap().is_none());
    }

    #[test]
    fn a_second_locker_waits_and_then_follows_the_rename() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, "v1").unwrap();
        let first = lock(&p, || panic!("nobody holds it yet")).unwrap().unwrap();
        assert!(first.is_held());
        let (tx, rx) = std::sync::mpsc::channel();
        let p2 = p.clone();
        let waiter = std::thread::spawn(move || {
            let l = lock(&p2, || tx.send(()).unwrap()).unwrap().unwrap();
            (l.ident(), std::fs::read_to_string(&p2).unwrap())
        });
        // The waiter announces that it waits; the holder then replaces the file and lets go.
        rx.recv().unwrap();
        let tmp = d.path().join("t");
        std::fs::write(&tmp, "v2!").unwrap();
        std::fs::rename(&tmp, &p).unwrap();
        drop(first);
        let (ident, text) = waiter.join().unwrap();
        assert_eq!(text, "v2!");
        assert_eq!(ident, Ident::of_path(&p).unwrap());
    }
}
