//! `veil encrypt -r DIR` and `veil decrypt -r DIR --output-dir OUT`: a whole tree by its
//! `.sops.yaml` creation rules, each file to the state wanted and no further.
//!
//! `encrypt -r` encrypts in place each file that a creation rule matches and that has no sops
//! metadata yet (the test `veil check` applies); a file already encrypted is not read further
//! or rewritten, so a second run changes nothing. `decrypt -r` writes each encrypted file's
//! plaintext under OUT at the same relative path (directories 0700, files 0600, atomic), and
//! leaves an output that is already identical untouched. Neither follows a symlink, and both
//! skip `.git`. One file's failure does not stop the others; the summary line and the exit code
//! (the first failure's sops code) say that some failed.
//!
//! Plaintext next to a repository is how secrets get committed: `decrypt -r` refuses an OUT
//! inside DIR, and inside a git work tree unless git ignores it there (asked with
//! `git check-ignore`, no shell). It never decrypts in place.

use super::args::{DecryptArgs, EncryptArgs, InputArgs, OutputArgs};
use crate::engine::{self, DecryptOptions};
use crate::error::{Code, Error, Result};
use crate::format::Format;
use crate::keys::KeyService;
use crate::pipeline::{self, Decrypt};
use std::path::{Path, PathBuf};

/// One file found under DIR.
struct Found {
    /// DIR joined with the relative path (what messages and `.sops.yaml` matching use).
    path: PathBuf,
    /// The path relative to DIR.
    rel: PathBuf,
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
                w.files.push(Found { path, rel });
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
    let (mut done, mut already, mut skipped, mut failed) = (0, 0, w.skipped.len(), 0);
    let mut first_code = None;
    for (p, why) in &w.skipped {
        report(p, &format!("skipped: {why}"));
    }
    for e in &w.failed {
        eprintln!("{}", e.message);
        failed += 1;
        first_code.get_or_insert(e.code);
    }
    for f in &w.files {
        let name = f.path.to_string_lossy().into_owned();
        if is_config(&f.path) {
            report(&f.path, "skipped: the config itself");
            skipped += 1;
            continue;
        }
        if !super::check::rule_matches(conf.as_ref(), &f.path)? {
            report(&f.path, "skipped: no creation rule matches");
            skipped += 1;
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
            let data = std::fs::read(&f.path).map_err(|e| {
                Error::new(
                    Code::CouldNotReadInputFile,
                    format!("{name}: cannot read: {e}"),
                )
            })?;
            if is_encrypted(&data, inf) {
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
                fail(&f.path, &e);
                failed += 1;
                first_code.get_or_insert(e.code);
            }
        }
    }
    let verb = if a.dry_run { "to encrypt" } else { "encrypted" };
    eprintln!("{done} {verb}, {already} already encrypted, {skipped} skipped, {failed} failed");
    Ok(first_code.map_or(0, |c| c.exit_code()))
}

/// `veil decrypt -r DIR --output-dir OUT`.
pub fn decrypt_dir(a: &DecryptArgs, dir: &str, out: &str) -> Result<i32> {
    let root = Path::new(dir);
    if !root.is_dir() {
        return Err(super::io::missing_file(dir).hint("decrypt -r takes a directory"));
    }
    let out_dir = Path::new(out);
    check_output_dir(root, out_dir)?;
    let order = engine::parse_decryption_order(a.decryption_order.as_deref())?;
    let ks = KeyService::local().with_unwrap_cache();
    let audit = crate::audit::Log::for_command(|| super::check::load_conf().ok().flatten())?;
    let w = walk(root);
    let (mut done, mut same, mut skipped, mut failed) = (0, 0, w.skipped.len(), 0);
    let mut first_code = None;
    for (p, why) in &w.skipped {
        report(p, &format!("skipped: {why}"));
    }
    for e in &w.failed {
        eprintln!("{}", e.message);
        failed += 1;
        first_code.get_or_insert(e.code);
    }
    for f in &w.files {
        let name = f.path.to_string_lossy().into_owned();
        let input = InputArgs {
            input_type: a.input.input_type.clone(),
            output_type: a.input.output_type.clone(),
            filename_override: None,
        };
        let (inf, outf) = super::formats(&input, Some(name.as_str()));
        let data = match std::fs::read(&f.path) {
            Ok(d) => d,
            Err(e) => {
                let e = Error::new(
                    Code::CouldNotReadInputFile,
                    format!("{name}: cannot read: {e}"),
                );
                fail(&f.path, &e);
                failed += 1;
                first_code.get_or_insert(e.code);
                continue;
            }
        };
        if is_config(&f.path) || !is_encrypted(&data, inf) {
            report(&f.path, "skipped: not encrypted");
            skipped += 1;
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
        .and_then(|plain| write_output(out_dir, &f.rel, &target, &plain));
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
                fail(&f.path, &e);
                failed += 1;
                first_code.get_or_insert(e.code);
            }
        }
    }
    eprintln!("{done} decrypted, {same} unchanged, {skipped} skipped, {failed} failed");
    Ok(first_code.map_or(0, |c| c.exit_code()))
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

/// Write `plain` at `target` (OUT/rel) unless it holds that already: `Ok(false)`, untouched.
/// Directories made here are 0700, the file 0600; nothing is written through a symlink.
fn write_output(out_dir: &Path, rel: &Path, target: &Path, plain: &[u8]) -> Result<bool> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let cannot = |what: &str, e: std::io::Error| {
        Error::new(
            Code::CouldNotWriteOutputFile,
            format!("could not write {}: {what}: {e}", target.display()),
        )
    };
    // No component under OUT may be a symlink: it could point the plaintext anywhere.
    let mut at = out_dir.to_path_buf();
    for c in rel.components() {
        at.push(c);
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Error::new(
                Code::CouldNotWriteOutputFile,
                format!(
                    "{} is a symlink; plaintext is not written through it",
                    at.display()
                ),
            )
            .hint("remove the symlink from the output directory"));
        }
    }
    if let Some(parent) = target.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|e| cannot("creating its directory", e))?;
    }
    if let Ok(mut old) = std::fs::read(target) {
        let same = old == plain;
        zeroize::Zeroize::zeroize(&mut old);
        if same {
            return Ok(false);
        }
    }
    super::io::write_atomic(target, plain)?;
    std::fs::set_permissions(target, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| cannot("setting its mode", e))?;
    Ok(true)
}

/// Refuse an output directory inside DIR, or inside a git work tree unless git ignores it.
fn check_output_dir(dir: &Path, out: &Path) -> Result<()> {
    let cwd = std::env::current_dir()?;
    let dir_abs = std::fs::canonicalize(dir).unwrap_or_else(|_| cwd.join(dir));
    let out_abs = canonical_prefix(&crate::config::absolute_clean(out, &cwd));
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
    // The nearest existing directory of OUT, for git to look from.
    let mut base = out_abs.clone();
    while !base.is_dir() {
        if !base.pop() {
            return Ok(());
        }
    }
    let in_repo = base.ancestors().any(|a| a.join(".git").exists());
    if !in_repo {
        return Ok(());
    }
    // A trailing slash lets a directory-only pattern (`out/`) match a directory not made yet.
    let mut target = out_abs.into_os_string();
    target.push("/");
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(&base)
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

/// `p` with its longest existing prefix resolved (symlinks, `..`), the rest appended as is.
fn canonical_prefix(p: &Path) -> PathBuf {
    let mut head = p.to_path_buf();
    let mut tail = Vec::new();
    loop {
        if let Ok(c) = std::fs::canonicalize(&head) {
            let mut out = c;
            for t in tail.iter().rev() {
                out.push(t);
            }
            return out;
        }
        match (head.file_name().map(|n| n.to_os_string()), head.pop()) {
            (Some(n), true) => tail.push(n),
            _ => return p.to_path_buf(),
        }
    }
}
