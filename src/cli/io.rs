//! Reading input once (file or stdin), locking a file being changed, writing output
//! atomically, and sops's `(y/n)` prompts.
//!
//! An in-place or `--output` write goes to a private (0600) temp file in the target's own
//! directory (see `guard::temp`), is fsynced, gets the original's owner, group and mode only
//! then (0600 for a new file), and is renamed over the target; the directory is fsynced. A
//! symlink is written through (its target is replaced, the link stays). A failure or a fatal
//! signal at any step leaves the original untouched and no temp file behind. A target with
//! other hard links is refused unless `--force` (the rename would leave them the old content).
//!
//! Read-modify-write commands take the file's lock first ([`lock_for_update`]); the write then
//! refuses to replace a file that is no longer the version that was read.

use crate::error::{Code, Error, Result};
use crate::guard;
use crate::guard::lock::FileLock;
use crate::guard::temp::{AtomicTemp, Kind};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use zeroize::Zeroizing;

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

// ---------------------------------------------------------------------------------------------
// The lock of a file being changed

/// A lock taken by [`lock_for_update`], with the version of the file it was taken on.
struct Held {
    id: u64,
    target: PathBuf,
    lock: FileLock,
}

static HELD: Mutex<Vec<Held>> = Mutex::new(Vec::new());
static NEXT_HELD: AtomicU64 = AtomicU64::new(1);

fn held() -> std::sync::MutexGuard<'static, Vec<Held>> {
    HELD.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The lock of a file a command is changing; released when dropped (or when the file has been
/// replaced).
#[must_use = "the lock is released when this is dropped"]
pub struct UpdateLock(u64);

impl Drop for UpdateLock {
    fn drop(&mut self) {
        held().retain(|h| h.id != self.0);
    }
}

/// Take the lock of `file` before reading it for a read-modify-write: another veil command
/// changing it is waited for (announced after a moment), and a file with other hard links is
/// refused (unless `--force`). The write that follows refuses to replace the file if a program
/// that ignores the lock changed it meanwhile. A missing file is not an error here (reading it
/// reports that).
pub fn lock_for_update(file: &str) -> Result<UpdateLock> {
    let path = Path::new(file);
    let target = resolve_target(path);
    let lock = guard::lock::lock(&target, || {
        eprintln!("veil: waiting for another veil command to finish changing {file}…");
    })
    .map_err(|e| {
        Error::new(
            Code::CouldNotReadInputFile,
            format!("could not lock {file}: {e}"),
        )
        .hint("check that the file is readable")
    })?;
    let Some(lock) = lock else {
        return Ok(UpdateLock(0));
    };
    if !lock.is_held() {
        super::log::step(format!(
            "{file}: the filesystem has no file locks; only a change on disk is detected"
        ));
    }
    if let Ok(m) = std::fs::metadata(&target) {
        check_links(path, &m)?;
    }
    let id = NEXT_HELD.fetch_add(1, Ordering::Relaxed);
    held().push(Held { id, target, lock });
    Ok(UpdateLock(id))
}

/// Refuse early a file that the write would refuse (other hard links, unless `--force`).
pub fn check_replaceable(file: &str) -> Result<()> {
    let path = Path::new(file);
    match std::fs::metadata(resolve_target(path)) {
        Ok(m) => check_links(path, &m),
        Err(_) => Ok(()),
    }
}

/// The error for a file that changed on disk while veil was working on it.
pub fn changed_on_disk(path: &Path) -> Error {
    Error::new(
        Code::CouldNotWriteOutputFile,
        format!(
            "{} changed on disk while veil was working on it (a program that does not take veil's lock wrote it); it was left as it is",
            path.display()
        ),
    )
    .hint("run the command again on the new version")
}

/// Refuse to replace `target` when it is not the version its lock was taken on.
fn check_unchanged(path: &Path, target: &Path) -> Result<()> {
    let held = held();
    for h in held.iter().filter(|h| h.target == target) {
        if guard::lock::Ident::of_path(target).ok() != Some(h.lock.ident()) {
            return Err(changed_on_disk(path));
        }
    }
    Ok(())
}

/// Refuse to replace a file that has other hard links, unless `--force`: the rename gives this
/// name a new file and leaves the other names with the old content (after `encrypt -i`, the
/// plaintext).
fn check_links(path: &Path, m: &std::fs::Metadata) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let links = m.nlink();
    if links <= 1 || super::log::globals().force {
        return Ok(());
    }
    Err(Error::new(
        Code::CouldNotWriteOutputFile,
        format!(
            "{} has {links} hard links: replacing it would leave the other {} with the old content",
            path.display(),
            if links == 2 { "name" } else { "names" }
        ),
    )
    .hint("break the link first (cp -p FILE FILE.new && mv FILE.new FILE), or pass --force to replace this name only"))
}

// ---------------------------------------------------------------------------------------------
// Atomic writes

/// Write `data` to `path` atomically (temp file in the same directory, fsync, rename).
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    write_atomic_parts(path, &[data])
}

fn write_failed(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::new(
        Code::CouldNotWriteOutputFile,
        format!("could not write {}: {what}: {e}", path.display()),
    )
    .hint("check that the directory exists and is writable; the original file was not changed")
}

fn target_dir(target: &Path) -> PathBuf {
    match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A fresh temp file for a write to `path` in `dir` (what a killed veil left there goes first).
fn begin(path: &Path, dir: &Path) -> Result<AtomicTemp> {
    guard::temp::sweep_once(dir, Kind::WriteTemp);
    AtomicTemp::create_in(dir, true).map_err(|e| write_failed(path, "creating a temp file", e))
}

/// Give the complete temp file the owner and mode of `like` (else it stays 0600) and sync it.
fn complete(path: &Path, tmp: &mut AtomicTemp, like: Option<&std::fs::Metadata>) -> Result<()> {
    let fail = |what: &str, e: std::io::Error| write_failed(path, what, e);
    if let Some(m) = like {
        tmp.copy_owner_and_mode(m)
            .map_err(|e| fail("setting permissions", e))?;
    }
    tmp.file().sync_all().map_err(|e| fail("syncing", e))?;
    hold_for_tests();
    Ok(())
}

/// The complete, synced temp file with `parts`, owner and mode of `like` (else 0600).
fn prepare(
    path: &Path,
    dir: &Path,
    parts: &[&[u8]],
    like: Option<&std::fs::Metadata>,
) -> Result<AtomicTemp> {
    let mut tmp = begin(path, dir)?;
    for data in parts {
        tmp.file()
            .write_all(data)
            .map_err(|e| write_failed(path, "writing", e))?;
    }
    complete(path, &mut tmp, like)?;
    Ok(tmp)
}

/// Put the complete temp file in place of `target` (the resolved `path`), unless the file
/// changed since its lock was taken.
fn put_in_place(path: &Path, target: &Path, dir: &Path, tmp: AtomicTemp) -> Result<()> {
    check_unchanged(path, target)?;
    tmp.replace(target)
        .map_err(|e| write_failed(path, "renaming", e))?;
    // The lock was on the old version; the new one is complete.
    held().retain(|h| h.target != target);
    sync_dir(dir);
    Ok(())
}

/// [`write_atomic`] of `parts` written one after another.
pub fn write_atomic_parts(path: &Path, parts: &[&[u8]]) -> Result<()> {
    let target = resolve_target(path);
    let dir = target_dir(&target);
    let existing = std::fs::metadata(&target).ok();
    if let Some(m) = &existing {
        check_links(path, m)?;
    }
    let tmp = prepare(path, &dir, parts, existing.as_ref())?;
    put_in_place(path, &target, &dir, tmp)
}

/// Create `path` with `data` atomically; fails if something has that name by then (it is never
/// overwritten).
pub fn write_new(path: &Path, data: &[u8]) -> Result<()> {
    let dir = target_dir(path);
    let tmp = prepare(path, &dir, &[data], None)?;
    tmp.create_new(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::new(
                Code::CouldNotWriteOutputFile,
                format!(
                    "{} was created by another program meanwhile; it was left as it is",
                    path.display()
                ),
            )
            .hint("edit the file that is there now")
        } else {
            write_failed(path, "creating", e)
        }
    })?;
    sync_dir(&dir);
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// For the signal tests: with `VEIL_TEST_HOLD_WRITE=PATH`, the complete temp file waits here,
/// before the rename, until PATH (created now, holding veil's PID; an existing PATH turns the
/// hold off) is removed again (at most two minutes), so a test can signal veil at this exact
/// point.
pub(super) fn hold_for_tests() {
    let Some(marker) = std::env::var_os(crate::env::VEIL_TEST_HOLD_WRITE) else {
        return;
    };
    let marker = PathBuf::from(marker);
    // A new file only: the variable must not be a way to overwrite anything.
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&marker)
        .and_then(|mut f| f.write_all(std::process::id().to_string().as_bytes()));
    if created.is_err() {
        return;
    }
    let start = std::time::Instant::now();
    while marker.exists() && start.elapsed() < std::time::Duration::from_secs(120) {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// sops's confirmation: print `question` on stdout and read answers from stdin until one is
/// `y` (true) or `n` (false). A closed stdin is the error `closed` (after a newline, so the
/// terminal's next line starts clean).
pub fn ask_yes_no(question: &str, closed: impl FnOnce() -> Error) -> Result<bool> {
    use std::io::BufRead;
    let stdin = std::io::stdin();
    let mut lock = stdin.lock();
    loop {
        print!("{question}");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        let n = lock
            .read_line(&mut line)
            .map_err(|e| Error::generic(format!("could not read the answer: {e}")))?;
        if n == 0 {
            println!();
            return Err(closed());
        }
        match line.trim() {
            "y" => return Ok(true),
            "n" => return Ok(false),
            _ => {}
        }
    }
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
        Err(e) => Err(stdout_failed(e)),
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

/// Where a streamed result goes as it is produced and checked, chunk by chunk: stdout, or the
/// temp file of an atomic write (in place or `--output`) that [`OutputSink::commit`] puts in
/// place. Dropped without a commit (a later chunk failed its check, a key service failed), the
/// temp file vanishes and the target is untouched; on stdout, the chunks already released stay
/// released (each one passed its check) and the command's exit code says the output is
/// incomplete.
pub struct OutputSink {
    to: To,
}

enum To {
    Stdout {
        wrote: bool,
        closed: bool,
        /// The chunks held until the commit ([`OutputSink::holding`]): plaintext, wiped when
        /// taken back or dropped.
        held: Option<Vec<Zeroizing<Vec<u8>>>>,
    },
    File(Box<FileDest>),
}

struct FileDest {
    path: PathBuf,
    target: PathBuf,
    dir: PathBuf,
    existing: Option<std::fs::Metadata>,
    /// Made on the first chunk (or the commit): a command that fails before it has output
    /// (a wrong key) reports that failure, not one of the target's directory.
    tmp: Option<AtomicTemp>,
}

impl FileDest {
    fn tmp(&mut self) -> Result<&mut AtomicTemp> {
        if self.tmp.is_none() {
            self.tmp = Some(begin(&self.path, &self.dir)?);
        }
        Ok(self.tmp.as_mut().expect("made above"))
    }
}

/// The sink for the result where the flags say (the checks of [`emit_output_parts`], made
/// before any work).
pub fn output_sink(file: Option<&str>, in_place: bool, output: Option<&str>) -> Result<OutputSink> {
    let dest = match (in_place, output, file) {
        (true, Some(_), _) => {
            return Err(Error::new(
                Code::ConflictingParameters,
                "Error: cannot operate on both --output and --in-place",
            )
            .hint("use one of them"))
        }
        (true, None, None | Some("-")) => {
            return Err(
                Error::new(Code::ConflictingParameters, "cannot write stdin in place")
                    .hint("pass a file name, or use --output"),
            )
        }
        (true, None, Some(p)) => Some(p),
        (false, o, _) => o,
    };
    let Some(p) = dest else {
        return Ok(OutputSink {
            to: To::Stdout {
                wrote: false,
                closed: false,
                held: None,
            },
        });
    };
    let path = PathBuf::from(p);
    let target = resolve_target(&path);
    let dir = target_dir(&target);
    let existing = std::fs::metadata(&target).ok();
    if let Some(m) = &existing {
        check_links(&path, m)?;
    }
    Ok(OutputSink {
        to: To::File(Box::new(FileDest {
            path,
            target,
            dir,
            existing,
            tmp: None,
        })),
    })
}

impl OutputSink {
    /// Hold what goes to stdout until the commit (plaintext, which must not leave before the
    /// MAC has verified). A file's temp file is private and renamed only on commit anyway.
    pub fn holding(mut self) -> OutputSink {
        if let To::Stdout { held, .. } = &mut self.to {
            *held = Some(Vec::new());
        }
        self
    }

    /// The output is complete: flush stdout, or sync the temp file and rename it over the
    /// target.
    pub fn commit(self) -> Result<()> {
        match self.to {
            To::Stdout {
                held: Some(held), ..
            } => {
                let parts: Vec<&[u8]> = held.iter().map(|c| c.as_slice()).collect();
                write_stdout_parts(&parts)
            }
            To::Stdout { closed, .. } => match std::io::stdout().flush() {
                Err(e) if !closed && e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(stdout_failed(e))
                }
                _ => Ok(()),
            },
            To::File(mut d) => {
                d.tmp()?;
                let FileDest {
                    path,
                    target,
                    dir,
                    existing,
                    tmp,
                } = *d;
                let mut tmp = tmp.expect("made above");
                complete(&path, &mut tmp, existing.as_ref())?;
                put_in_place(&path, &target, &dir, tmp)
            }
        }
    }
}

impl crate::pipeline::Sink for OutputSink {
    fn put(&mut self, chunk: &[u8]) -> Result<()> {
        match &mut self.to {
            To::Stdout {
                held: Some(held), ..
            } => {
                held.push(Zeroizing::new(chunk.to_vec()));
                Ok(())
            }
            To::Stdout { wrote, closed, .. } => {
                *wrote = true;
                if *closed {
                    return Ok(());
                }
                match std::io::stdout().lock().write_all(chunk) {
                    Ok(()) => Ok(()),
                    // A closed pipe is not an error (`veil encrypt f | head`).
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                        *closed = true;
                        Ok(())
                    }
                    Err(e) => Err(stdout_failed(e)),
                }
            }
            To::File(d) => {
                let r = d.tmp()?.file().write_all(chunk);
                r.map_err(|e| write_failed(&d.path, "writing", e))
            }
        }
    }

    fn rewind(&mut self) -> Result<bool> {
        match &mut self.to {
            To::Stdout {
                held: Some(held), ..
            } => {
                held.clear();
                Ok(true)
            }
            To::Stdout { wrote, .. } => Ok(!*wrote),
            To::File(d) => {
                use std::io::Seek;
                let Some(tmp) = d.tmp.as_mut() else {
                    return Ok(true);
                };
                let f = tmp.file();
                f.set_len(0)
                    .and_then(|_| f.rewind())
                    .map_err(|e| write_failed(&d.path, "starting over", e))?;
                Ok(true)
            }
        }
    }
}

fn stdout_failed(e: std::io::Error) -> Error {
    Error::new(
        Code::CouldNotWriteOutputFile,
        format!("could not write to stdout: {e}"),
    )
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

    fn leftovers(dir: &Path) -> Vec<std::ffi::OsString> {
        std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .filter(|n| n.to_string_lossy().starts_with(".veil-"))
            .collect()
    }

    /// A streamed write whose later chunk fails its check is dropped without a commit: the
    /// target keeps its old content and no temp file remains, whether the temp file has a name
    /// or not; a committed one replaces the target with every chunk, in the target's mode.
    #[test]
    fn a_streamed_write_left_uncommitted_leaves_the_original_and_no_temp_file() {
        use crate::pipeline::Sink;
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("secrets.yaml");
        std::fs::write(&f, "old: 1\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
        let name = f.to_str().unwrap();
        for (in_place, output) in [(true, None), (false, Some(name))] {
            let mut sink = output_sink(Some(name), in_place, output).unwrap();
            sink.put(b"a: ENC[...]\n").unwrap();
            sink.put(b"b: ENC[...]\n").unwrap();
            // The next chunk's check fails: the command returns its error and the sink is
            // dropped.
            drop(sink);
            assert_eq!(std::fs::read(&f).unwrap(), b"old: 1\n");
            assert!(leftovers(d.path()).is_empty());
        }
        let mut sink = output_sink(Some(name), true, None).unwrap();
        sink.put(b"dropped\n").unwrap();
        // Taking back what was put (the lossless path takes over) empties the temp file.
        assert!(sink.rewind().unwrap());
        sink.put(b"a: 1\n").unwrap();
        sink.put(b"b: 2\n").unwrap();
        sink.commit().unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"a: 1\nb: 2\n");
        assert_eq!(
            std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert!(leftovers(d.path()).is_empty());
        // Both destinations at once, or stdin in place, are refused before any work.
        assert!(output_sink(Some(name), true, Some(name)).is_err());
        assert!(output_sink(None, true, None).is_err());
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
