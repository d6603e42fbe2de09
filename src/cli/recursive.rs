//! `veil encrypt -r DIR` and `veil decrypt -r DIR --output-dir OUT`: a whole tree by its
//! `.sops.yaml` creation rules, each file to the state wanted and no further.
//!
//! `encrypt -r` encrypts in place each file that a creation rule matches and that has no sops
//! metadata yet (the test `veil check` applies); a file already encrypted is not rewritten, so
//! a second run changes nothing, but one whose metadata is malformed or whose values are not
//! sealed as its rules say is a failure, not "already encrypted". `decrypt -r` writes each
//! encrypted file's plaintext under OUT at the same relative path (directories 0700, files 0600
//! from their creation, atomic), and leaves an output that is already identical (and private)
//! untouched; a file a creation rule matches that has no readable sops metadata (cut off,
//! damaged) is a failure, not skipped as plaintext. Neither follows a symlink: files are read
//! through a descriptor opened with `O_NOFOLLOW | O_NONBLOCK` that must still be the regular
//! file the walk saw, and outputs are written through directory descriptors opened from OUT's
//! down, so a symlink planted under OUT is refused even mid-run. Both skip `.git`. One file's
//! failure does not stop the others; the summary line and the exit code (the first failure's
//! sops code) say that some failed.
//!
//! Plaintext next to a repository is how secrets get committed: `decrypt -r` refuses an OUT
//! inside DIR or holding it (both resolved by the kernel once OUT exists), an OUT (or a
//! directory in it) that is not ours or that others can write to, and an OUT inside a git work
//! tree unless git ignores it there (asked with `git check-ignore`, no shell). It never
//! decrypts in place.

use super::args::{DecryptArgs, EncryptArgs, InputArgs, OutputArgs};
use crate::engine::{self, DecryptOptions};
use crate::error::{Code, Error, Result};
use crate::format::Format;
use crate::keys::KeyService;
use crate::pipeline::{self, Decrypt};
use rustix::fs::{Mode, OFlags};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// One file found under DIR.
struct Found {
    /// DIR joined with the relative path (what messages and `.sops.yaml` matching use).
    path: PathBuf,
    /// The path relative to DIR.
    rel: PathBuf,
    /// Its device and inode when the walk saw it: the file read later must be this one.
    id: (u64, u64),
}

/// What the walk saw: the regular files, and the symlinks and other entries left alone.
#[derive(Default)]
struct Walk {
    files: Vec<Found>,
    skipped: Vec<(PathBuf, &'static str)>,
    failed: Vec<Error>,
}

/// Every regular file under `dir`, in name order; `.git` and symlinks are not entered.
fn walk(dir: &Path) -> Walk {
    fn go(dir: &Path, rel: &Path, w: &mut Walk) {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                w.failed.push(Error::new(
                    Code::CouldNotReadInputFile,
                    format!("{}: cannot list the directory: {e}", dir.display()),
                ));
                return;
            }
        };
        let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name();
            let (path, rel) = (e.path(), rel.join(&name));
            // DirEntry::file_type does not follow a symlink.
            let Ok(t) = e.file_type() else { continue };
            if name == ".git" {
                w.skipped.push((path, "git's own directory"));
            } else if t.is_symlink() {
                w.skipped.push((path, "a symlink (not followed)"));
            } else if t.is_dir() {
                go(&path, &rel, w);
            } else if t.is_file() {
                // DirEntry::metadata does not follow a symlink either.
                use std::os::unix::fs::MetadataExt;
                let Ok(m) = e.metadata() else { continue };
                let id = (m.dev(), m.ino());
                w.files.push(Found { path, rel, id });
            } else {
                w.skipped.push((path, "not a regular file"));
            }
        }
    }
    let mut w = Walk::default();
    go(dir, Path::new(""), &mut w);
    w
}

/// Whether `data` carries sops metadata in `fmt` (what `veil check` and `filestatus` look for).
fn is_encrypted(data: &[u8], fmt: Format) -> bool {
    fmt.store()
        .parse_encrypted(data)
        .map(|p| p.metadata().is_some())
        .unwrap_or(false)
}

/// Read the file the walk found through a descriptor opened without following a symlink and
/// without blocking on a FIFO, and only while it is still that regular file (same device and
/// inode): an entry swapped for a symlink, a FIFO or another file after the walk is not read.
fn read_found(f: &Found) -> Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let name = f.path.display();
    let changed = || {
        Error::new(
            Code::CouldNotReadInputFile,
            format!("{name}: changed since the directory was listed (now another file, a symlink or not a regular file); not read"),
        )
        .hint("run the command again")
    };
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd = match rustix::fs::open(f.path.as_path(), flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::LOOP) => return Err(changed()),
        Err(e) => {
            return Err(Error::new(
                Code::CouldNotReadInputFile,
                format!("{name}: cannot read: {}", std::io::Error::from(e)),
            ))
        }
    };
    let mut file = std::fs::File::from(fd);
    let cannot = |e: std::io::Error| {
        Error::new(
            Code::CouldNotReadInputFile,
            format!("{name}: cannot read: {e}"),
        )
    };
    let m = file.metadata().map_err(cannot)?;
    if !m.is_file() || (m.dev(), m.ino()) != f.id {
        return Err(changed());
    }
    let mut data = Vec::with_capacity(usize::try_from(m.len()).unwrap_or(0));
    file.read_to_end(&mut data).map_err(cannot)?;
    Ok(data)
}

/// For `encrypt -r`, a file that has sops metadata already is left alone only when it is sealed
/// as its rules say (what `veil check` looks at without a key): plaintext values where a rule
/// says they must be encrypted, or malformed metadata, are a failure, not "already encrypted".
fn sealed_as_its_rules_say(
    name: &str,
    data: &[u8],
    fmt: Format,
    conf: Option<&crate::config::Config>,
    path: &Path,
) -> Result<()> {
    let creation = super::check::matching_rule(conf, path)?;
    let v = super::check::check_bytes(
        name,
        data,
        fmt,
        creation.as_ref(),
        false,
        false,
        &KeyService::local(),
    );
    match v.reasons.is_empty() {
        true => Ok(()),
        false => Err(Error::new(
            Code::Generic,
            format!(
                "{name}: has sops metadata but is not sealed as its rules say: {}",
                v.reasons.join("; ")
            ),
        )
        .hint(format!(
            "`veil check {name}` lists what is wrong; restore the file from git, or encrypt its plaintext again"
        ))),
    }
}

/// The failure for a file a creation rule matches but that does not carry sops metadata:
/// cut off or damaged (it cannot even be parsed), or never encrypted.
fn not_decryptable(name: &str, data: &[u8], fmt: Format) -> Error {
    let why = match fmt.store().parse_encrypted(data) {
        Err(e) => format!("cannot be parsed as {}: {}", fmt.name(), e.message),
        Ok(_) => "has no sops metadata".to_string(),
    };
    Error::new(
        Code::CouldNotReadInputFile,
        format!("{name}: a creation rule matches it, but it {why} (damaged, cut off, or never encrypted)"),
    )
    .hint(format!(
        "`veil check {name}` says more; restore it from git, or encrypt it if it was never encrypted"
    ))
}

fn is_config(path: &Path) -> bool {
    matches!(
        path.file_name().and_then(|n| n.to_str()),
        Some(".sops.yaml" | ".sops.yml")
    )
}

fn report(path: &Path, what: &str) {
    super::log::step(format!("{}: {what}", path.display()));
}

fn fail(path: &Path, e: &Error) {
    if e.message.contains(&*path.to_string_lossy()) {
        eprintln!("{}", e.message);
    } else {
        eprintln!("{}: {}", path.display(), e.message);
    }
    if let Some(h) = &e.hint {
        eprintln!("hint: {h}");
    }
}

/// What `-r` counts besides its own outcome: files skipped and failed, and the exit code of the
/// first failure (the command's exit code).
struct Tally {
    skipped: usize,
    failed: usize,
    first_code: Option<Code>,
}

impl Tally {
    /// The walk's own skips and failures, reported as they are counted.
    fn of_walk(w: &Walk) -> Tally {
        let mut t = Tally {
            skipped: w.skipped.len(),
            failed: 0,
            first_code: None,
        };
        for (p, why) in &w.skipped {
            report(p, &format!("skipped: {why}"));
        }
        for e in &w.failed {
            eprintln!("{}", e.message);
            t.failed += 1;
            t.first_code.get_or_insert(e.code);
        }
        t
    }

    fn skip(&mut self, path: &Path, why: &str) {
        report(path, why);
        self.skipped += 1;
    }

    fn fail(&mut self, path: &Path, e: &Error) {
        fail(path, e);
        self.failed += 1;
        self.first_code.get_or_insert(e.code);
    }

    fn exit_code(&self) -> i32 {
        self.first_code.map_or(0, |c| c.exit_code())
    }
}

/// `veil encrypt -r DIR [--dry-run]`.
pub fn encrypt_dir(a: &EncryptArgs, dir: &str) -> Result<i32> {
    let conf = super::encrypt::load_config(&a.keys)?;
    if !conf.as_ref().is_some_and(|c| c.has_creation_rules()) {
        return Err(Error::new(
            Code::Generic,
            "encrypt -r encrypts the files that .sops.yaml creation rules match, and no .sops.yaml with creation rules was found",
        )
        .hint("run it where .sops.yaml is (or pass --config), or encrypt single files with key flags"));
    }
    let root = Path::new(dir);
    if !root.is_dir() {
        return Err(super::io::missing_file(dir).hint("encrypt -r takes a directory"));
    }
    let w = walk(root);
    let (mut done, mut already) = (0, 0);
    let mut t = Tally::of_walk(&w);
    for f in &w.files {
        let name = f.path.to_string_lossy().into_owned();
        if is_config(&f.path) {
            t.skip(&f.path, "skipped: the config itself");
            continue;
        }
        if !super::check::rule_matches(conf.as_ref(), &f.path)? {
            t.skip(&f.path, "skipped: no creation rule matches");
            continue;
        }
        let (inf, _) = super::formats(&a.input, Some(name.as_str()));
        // The lock is taken before the file is read for the check, so what was checked is
        // what gets encrypted (another veil changing it meanwhile is waited for).
        let r = (|| -> Result<bool> {
            let _lock = match a.dry_run {
                true => None,
                false => Some(super::io::lock_for_update(&name)?),
            };
            let data = read_found(f)?;
            if is_encrypted(&data, inf) {
                sealed_as_its_rules_say(&name, &data, inf, conf.as_ref(), &f.path)?;
                return Ok(false);
            }
            drop(zeroize::Zeroizing::new(data));
            if a.dry_run {
                println!("would encrypt {name}");
                return Ok(true);
            }
            let out = OutputArgs {
                in_place: true,
                output: None,
            };
            super::encrypt::run(&a.input, &out, &a.keys, Some(name.as_str())).map(|_| true)
        })();
        match r {
            Ok(true) => {
                report(
                    &f.path,
                    if a.dry_run {
                        "would encrypt"
                    } else {
                        "encrypted"
                    },
                );
                done += 1;
            }
            Ok(false) => {
                report(&f.path, "already encrypted");
                already += 1;
            }
            Err(e) => {
                t.fail(&f.path, &e);
            }
        }
    }
    let verb = if a.dry_run { "to encrypt" } else { "encrypted" };
    eprintln!(
        "{done} {verb}, {already} already encrypted, {} skipped, {} failed",
        t.skipped, t.failed
    );
    Ok(t.exit_code())
}

/// `veil decrypt -r DIR --output-dir OUT`.
pub fn decrypt_dir(a: &DecryptArgs, dir: &str, out: &str) -> Result<i32> {
    let root = Path::new(dir);
    if !root.is_dir() {
        return Err(super::io::missing_file(dir).hint("decrypt -r takes a directory"));
    }
    let out_dir = Path::new(out);
    let out_fd = open_output_dir(root, out_dir)?;
    let order = engine::parse_decryption_order(a.decryption_order.as_deref())?;
    let ks = KeyService::local().with_unwrap_cache();
    let conf = super::check::load_conf().ok().flatten();
    let audit = crate::audit::Log::for_command(|| conf.clone())?;
    let w = walk(root);
    let (mut done, mut same) = (0, 0);
    let mut t = Tally::of_walk(&w);
    for f in &w.files {
        let name = f.path.to_string_lossy().into_owned();
        let input = InputArgs {
            input_type: a.input.input_type.clone(),
            output_type: a.input.output_type.clone(),
            filename_override: None,
        };
        let (inf, outf) = super::formats(&input, Some(name.as_str()));
        let data = match read_found(f) {
            Ok(d) => d,
            Err(e) => {
                t.fail(&f.path, &e);
                continue;
            }
        };
        if is_config(&f.path) {
            t.skip(&f.path, "skipped: the config itself");
            continue;
        }
        if !is_encrypted(&data, inf) {
            // A file a creation rule matches should be encrypted: one that is not (cut off,
            // damaged, never encrypted) is reported, not passed over as plaintext.
            match super::check::rule_matches(conf.as_ref(), &f.path) {
                Ok(false) => {
                    t.skip(&f.path, "skipped: not encrypted");
                }
                Ok(true) => {
                    let e = not_decryptable(&name, &data, inf);
                    t.fail(&f.path, &e);
                }
                Err(e) => {
                    t.fail(&f.path, &e);
                }
            }
            continue;
        }
        let target = out_dir.join(&f.rel);
        let r = decrypt_one(
            data,
            &name,
            (inf, outf),
            &input,
            a,
            &order,
            &ks,
            audit.as_ref(),
        )
        .and_then(|plain| write_output(&out_fd, out_dir, &f.rel, &plain));
        match r {
            Ok(true) => {
                report(&f.path, &format!("decrypted to {}", target.display()));
                done += 1;
            }
            Ok(false) => {
                report(&f.path, &format!("{} is up to date", target.display()));
                same += 1;
            }
            Err(e) => {
                t.fail(&f.path, &e);
            }
        }
    }
    eprintln!(
        "{done} decrypted, {same} unchanged, {} skipped, {} failed",
        t.skipped, t.failed
    );
    Ok(t.exit_code())
}

/// One file's plaintext, audited (its own entry) before it is returned.
#[allow(clippy::too_many_arguments)]
fn decrypt_one(
    data: Vec<u8>,
    name: &str,
    (inf, outf): (Format, Format),
    input: &InputArgs,
    a: &DecryptArgs,
    order: &[String],
    ks: &KeyService,
    audit: Option<&crate::audit::Log>,
) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    let (layout, require_integrity) = super::layout_and_integrity(input, Some(name));
    let req = Decrypt {
        name,
        inf,
        outf,
        opts: DecryptOptions {
            ignore_mac: a.ignore_mac,
            decryption_order: order.to_vec(),
            require_integrity,
        },
        keys: ks,
        layout: &layout,
        streaming: crate::env::streaming(inf),
    };
    let obs = super::multi::Extra::new("decrypt", name);
    let watch = super::rotation::Watch::new(&obs, name, None);
    let r = pipeline::decrypt(data, &req, &watch);
    let access = obs.into_access();
    if let Some(log) = audit {
        log.append(&access, crate::audit::Outcome::of(&r))?;
    }
    let out = r?;
    Ok(zeroize::Zeroizing::new(out.slices().concat()))
}

/// Create OUT (0700, with its missing parents), refuse it where plaintext must not go, and open
/// it: every output is then written relative to this descriptor. What was created for a refused
/// OUT is removed again.
fn open_output_dir(dir: &Path, out: &Path) -> Result<OwnedFd> {
    use std::os::unix::fs::DirBuilderExt;
    let made: Vec<PathBuf> = out
        .ancestors()
        .filter(|p| !p.as_os_str().is_empty() && std::fs::symlink_metadata(p).is_err())
        .map(Path::to_path_buf)
        .collect();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(out)
        .map_err(|e| {
            Error::new(
                Code::CouldNotWriteOutputFile,
                format!(
                    "could not create the output directory {}: {e}",
                    out.display()
                ),
            )
        })?;
    let r = (|| -> Result<OwnedFd> {
        let fd = rustix::fs::open(
            out,
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| {
            Error::new(
                Code::CouldNotWriteOutputFile,
                format!(
                    "could not open the output directory {}: {}",
                    out.display(),
                    std::io::Error::from(e)
                ),
            )
        })?;
        // Resolved now that it exists, by the kernel: `link/..` in the name is where the link
        // points, not what the text says.
        let out_abs = std::fs::canonicalize(out)?;
        check_output_dir(dir, out, &out_abs)?;
        check_private(&fd, out)?;
        Ok(fd)
    })();
    if r.is_err() {
        // Deepest first; a directory something was put in meanwhile stays.
        for p in &made {
            let _ = std::fs::remove_dir(p);
        }
    }
    r
}

/// Refuse a directory plaintext would be written into that another user could change: not
/// ours, or writable by the group or the world (they could swap an entry for a symlink).
fn check_private(fd: &OwnedFd, shown: &Path) -> Result<()> {
    let st = rustix::fs::fstat(fd).map_err(|e| {
        Error::new(
            Code::CouldNotWriteOutputFile,
            format!(
                "could not inspect {}: {}",
                shown.display(),
                std::io::Error::from(e)
            ),
        )
    })?;
    let why = if st.st_uid != rustix::process::geteuid().as_raw() {
        "is not owned by you"
    } else if st.st_mode & 0o022 != 0 {
        "is writable by other users"
    } else {
        return Ok(());
    };
    Err(Error::new(
        Code::CouldNotWriteOutputFile,
        format!(
            "{} {why}: plaintext is not written where someone else could redirect it",
            shown.display()
        ),
    )
    .hint("use a directory only you can write to (chmod go-w DIR), e.g. under $XDG_RUNTIME_DIR"))
}

/// The refusal of an entry under OUT that is a symlink (or not a directory / regular file as
/// needed): plaintext is never written through it.
fn not_written_through(shown: &Path, what: &str) -> Error {
    Error::new(
        Code::CouldNotWriteOutputFile,
        format!(
            "{} is {what}; plaintext is not written through it",
            shown.display()
        ),
    )
    .hint("remove it from the output directory")
}

/// What an entry that could not be opened as wanted is, for the refusal.
fn kind_of(parent: &OwnedFd, name: &std::ffi::OsStr) -> &'static str {
    match rustix::fs::statat(parent, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st)
            if rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Symlink =>
        {
            "a symlink"
        }
        _ => "not a directory",
    }
}

/// Open (or make, 0700) the directory `name` under `parent` without following a symlink; one
/// that existed must be private ([`check_private`]).
fn open_subdir(parent: &OwnedFd, name: &std::ffi::OsStr, shown: &Path) -> Result<OwnedFd> {
    let flags = OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC;
    let refuse = |e: rustix::io::Errno| match e {
        rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => {
            not_written_through(shown, kind_of(parent, name))
        }
        e => Error::new(
            Code::CouldNotWriteOutputFile,
            format!(
                "could not open {}: {}",
                shown.display(),
                std::io::Error::from(e)
            ),
        ),
    };
    let fd = match rustix::fs::openat(parent, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => {
            match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o700)) {
                Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                Err(e) => return Err(refuse(e)),
            }
            rustix::fs::openat(parent, name, flags, Mode::empty()).map_err(refuse)?
        }
        Err(e) => return Err(refuse(e)),
    };
    check_private(&fd, shown)?;
    Ok(fd)
}

/// A path naming the open directory `fd` through `/proc/self/fd` (Linux), so that what is built
/// on it cannot be redirected by a symlink planted above; elsewhere `fallback`.
fn through_fd(fd: &OwnedFd, fallback: &Path) -> PathBuf {
    use std::os::fd::AsRawFd;
    let p = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    match p.is_dir() {
        true => p,
        false => fallback.to_path_buf(),
    }
}

/// Write `plain` at OUT/`rel` unless it holds that already, privately (`Ok(false)`: untouched).
/// Every step goes through descriptors opened from OUT's down without following a symlink, so
/// a symlink under OUT, planted before or during the run, is refused, never followed.
/// Directories made here are 0700; one that existed must be ours and not writable by others.
/// The file is 0600 from its creation (a temp file renamed over the old output, whose mode and
/// group are not inherited).
fn write_output(out_fd: &OwnedFd, out_dir: &Path, rel: &Path, plain: &[u8]) -> Result<bool> {
    use std::io::{Read, Write};
    use std::os::unix::fs::MetadataExt;
    let target = out_dir.join(rel);
    let cannot = |what: &str, e: std::io::Error| {
        Error::new(
            Code::CouldNotWriteOutputFile,
            format!("could not write {}: {what}: {e}", target.display()),
        )
    };
    let Some(name) = rel.file_name() else {
        return Err(cannot(
            "no file name",
            std::io::ErrorKind::InvalidInput.into(),
        ));
    };
    let mut shown = out_dir.to_path_buf();
    let mut sub: Option<OwnedFd> = None;
    for c in rel.parent().into_iter().flat_map(Path::components) {
        shown.push(c);
        let next = open_subdir(sub.as_ref().unwrap_or(out_fd), c.as_os_str(), &shown)?;
        sub = Some(next);
    }
    let dir = sub.as_ref().unwrap_or(out_fd);
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => {
            let mut old = std::fs::File::from(fd);
            let m = old.metadata().map_err(|e| cannot("inspecting it", e))?;
            if !m.is_file() {
                return Err(not_written_through(&target, "not a regular file"));
            }
            // Unchanged only if it is also private: a wider old output is replaced by a 0600 one.
            let private = m.uid() == rustix::process::geteuid().as_raw() && m.mode() & 0o077 == 0;
            if private && m.len() == plain.len() as u64 {
                let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(plain.len()));
                old.read_to_end(&mut bytes)
                    .map_err(|e| cannot("reading it", e))?;
                if bytes.as_slice() == plain {
                    return Ok(false);
                }
            }
        }
        Err(rustix::io::Errno::NOENT) => {}
        Err(rustix::io::Errno::LOOP) => return Err(not_written_through(&target, "a symlink")),
        Err(e) => return Err(cannot("opening it", e.into())),
    }
    let at = through_fd(dir, &shown);
    crate::guard::temp::sweep_once(&at, crate::guard::temp::Kind::WriteTemp);
    let mut tmp = crate::guard::temp::AtomicTemp::create_in(&at, true)
        .map_err(|e| cannot("creating a temp file", e))?;
    tmp.file()
        .write_all(plain)
        .and_then(|_| tmp.file().sync_all())
        .map_err(|e| cannot("writing", e))?;
    super::io::hold_for_tests();
    // rename replaces whatever has the name now (a symlink planted meanwhile included) and
    // never follows it.
    tmp.replace(&at.join(name))
        .map_err(|e| cannot("renaming", e))?;
    let _ = rustix::fs::fsync(dir);
    Ok(true)
}

/// Refuse an output directory inside DIR or holding DIR, or inside a git work tree unless git
/// ignores it. `out_abs` is OUT resolved (it exists).
fn check_output_dir(dir: &Path, out: &Path, out_abs: &Path) -> Result<()> {
    let dir_abs = std::fs::canonicalize(dir)?;
    if out_abs.starts_with(&dir_abs) {
        return Err(Error::new(
            Code::ConflictingParameters,
            format!(
                "the output directory {} is inside {}: plaintext would sit next to the encrypted files",
                out.display(),
                dir.display()
            ),
        )
        .hint("choose an output directory outside the encrypted tree, e.g. under $XDG_RUNTIME_DIR"));
    }
    if dir_abs.starts_with(out_abs) {
        return Err(Error::new(
            Code::ConflictingParameters,
            format!(
                "the output directory {} holds {}: plaintext would be written over the encrypted files",
                out.display(),
                dir.display()
            ),
        )
        .hint("choose an output directory outside the encrypted tree, e.g. under $XDG_RUNTIME_DIR"));
    }
    let in_repo = out_abs.ancestors().any(|a| a.join(".git").exists());
    if !in_repo {
        return Ok(());
    }
    // A trailing slash lets a directory-only pattern (`out/`) match.
    let mut target = out_abs.as_os_str().to_os_string();
    target.push("/");
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(out_abs)
        .args(["check-ignore", "-q", "--"])
        .arg(&target)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    match status.map(|s| s.code()) {
        Ok(Some(0)) => Ok(()),
        Ok(Some(1)) => Err(Error::new(
            Code::ConflictingParameters,
            format!(
                "the output directory {} is inside a git work tree and not ignored there: the plaintext could be committed",
                out.display()
            ),
        )
        .hint("choose a directory outside the repository, or add it to .gitignore first")),
        _ => Err(Error::new(
            Code::ConflictingParameters,
            format!(
                "the output directory {} is inside a git work tree, and git could not tell whether it is ignored",
                out.display()
            ),
        )
        .hint("check that git is installed, or choose a directory outside the repository")),
    }
}
