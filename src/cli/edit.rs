//! `veil edit FILE` (and sops's plain `veil FILE`): decrypt into a private temporary file, run
//! the user's editor on it, and re-encrypt what was saved against the original file, so every
//! value the user did not change keeps its exact ciphertext.
//!
//! The plaintext copy lives in a fresh 0700 directory holding one 0600 file named after the
//! original (so the editor picks the right syntax), on a RAM-backed filesystem when there is one
//! (`$XDG_RUNTIME_DIR`, `/dev/shm`), else in `$TMPDIR`, never in the working tree. The directory
//! is removed on every way out: success, error, the editor failing, a panic, and every fatal
//! signal veil can catch (`guard::signals` removes it, stops the editor and then lets the signal
//! end the process as it would have). One left by a killed veil (SIGKILL, SIGSEGV) is removed
//! by the next `edit` once its owner is gone.
//!
//! The file is not locked while the editor runs (nobody waits for a person); the result is
//! written under the file's lock and only over the version that was opened. If the file
//! changed meanwhile, nothing is written: on a terminal the user may edit the new version (their
//! edit kept aside in the private directory), otherwise the edit is discarded with the
//! directory. This module must never print the plaintext and never write the encrypted file
//! unless the result was read back and verified.

use super::args::{ChangeArgs, InputArgs, KeyArgs};
use super::lifecycle::{self, Opened};
use crate::crypto::value::Cipher;
use crate::engine::{self, Context, EncryptOptions};
use crate::error::{Code, Error, Result};
use crate::format::{Format, Parsed};
use crate::guard::temp::{sweep, Kind, LockedDir};
use crate::keys::KeyService;
use crate::metadata::Metadata;
use sha2::{Digest, Sha256};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The editor environment variables, in the order they are read.
pub const SOPS_EDITOR: &str = "SOPS_EDITOR";
pub const EDITOR: &str = "EDITOR";

/// What `veil edit` was asked to do.
pub struct EditRequest<'a> {
    pub input: &'a InputArgs,
    pub keys: &'a KeyArgs,
    pub change: &'a ChangeArgs,
    pub show_master_keys: bool,
    pub file: &'a str,
}

// ---------------------------------------------------------------------------------------------
// The temporary copy

/// Where the plaintext copy may go, best first: `$XDG_RUNTIME_DIR` (when it is ours and
/// private), `/dev/shm`, then the system temp directory.
pub fn temp_bases() -> Vec<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    if let Some(d) = crate::env::var("XDG_RUNTIME_DIR") {
        let p = PathBuf::from(d);
        if let Ok(m) = std::fs::metadata(&p) {
            let ours = m.uid() == rustix::process::getuid().as_raw();
            if m.is_dir() && ours && m.mode() & 0o022 == 0 {
                out.push(p);
            }
        }
    }
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        out.push(shm);
    }
    out.push(std::env::temp_dir());
    out
}

/// Remove the private directories that killed `edit`s and `exec-file`s left in the temp
/// bases (only those whose owner is gone; see `guard::temp::sweep`).
fn sweep_private_dirs() {
    for base in temp_bases() {
        sweep(&base, Kind::EditDir);
        sweep(&base, Kind::ExecDir);
    }
}

/// A private directory with one plaintext file in it, registered with the signal thread
/// while it exists; removed when dropped.
struct TempCopy {
    dir: LockedDir,
    path: PathBuf,
}

impl TempCopy {
    fn create(name: &str, content: &[u8]) -> Result<TempCopy> {
        let mut last_err = None;
        let mut dir = None;
        for base in temp_bases() {
            match LockedDir::create(&base, Kind::EditDir, false) {
                Ok(d) => {
                    dir = Some(d);
                    break;
                }
                Err(e) => last_err = Some(e),
            }
        }
        let Some(dir) = dir else {
            return Err(temp_failed(
                "no usable directory",
                last_err.unwrap_or_else(|| std::io::Error::other("none found")),
            ));
        };
        let copy = TempCopy {
            path: dir.path().join(name),
            dir,
        };
        copy.write(content)?;
        Ok(copy)
    }

    /// Write `content` as the (new) file to edit.
    fn write(&self, content: &[u8]) -> Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(|e| temp_failed("creating", e))?;
        f.write_all(content)
            .map_err(|e| temp_failed("writing", e))?;
        f.sync_all().map_err(|e| temp_failed("syncing", e))
    }

    /// Move the edited file aside (to `your-edit.NAME` in the same private directory, where the
    /// user can copy from it) and return that path.
    fn keep_aside(&self) -> Result<PathBuf> {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let aside = self.dir.path().join(format!("your-edit.{name}"));
        std::fs::rename(&self.path, &aside).map_err(|e| temp_failed("keeping your edit", e))?;
        Ok(aside)
    }

    fn read(&self) -> Result<Zeroizing<Vec<u8>>> {
        std::fs::read(&self.path).map(Zeroizing::new).map_err(|e| {
            Error::new(
                Code::CouldNotReadInputFile,
                format!("Could not read edited file: {e}"),
            )
            .hint("the editor must save the file under the same name")
        })
    }

    /// Run the editor on the copy; a failure to start it or a non-zero exit is exit 201. A
    /// fatal signal to veil meanwhile stops the editor and removes the directory.
    fn run_editor(&self, argv: &[String]) -> Result<()> {
        let could_not = |why: String| {
            Error::new(Code::NoEditorFound, format!("Could not run editor: {why}"))
                .hint("check SOPS_EDITOR / EDITOR; the file was not changed")
        };
        let (prog, args) = argv
            .split_first()
            .ok_or_else(|| could_not("empty editor command".into()))?;
        let mut cmd = std::process::Command::new(prog);
        cmd.args(args).arg(&self.path);
        // Go's words for a program that does not start, as sops prints them.
        let status = crate::guard::signals::run_stoppable(&mut cmd).map_err(|e| {
            could_not(
                if !prog.contains('/') && e.kind() == std::io::ErrorKind::NotFound {
                    format!("exec: {prog:?}: executable file not found in $PATH")
                } else {
                    format!("fork/exec {prog}: {}", super::gotext::reason(&e))
                },
            )
        })?;
        if !status.success() {
            let why = match status.code() {
                Some(c) => format!("exit status {c}"),
                None => "the editor was killed by a signal".to_string(),
            };
            return Err(could_not(why));
        }
        Ok(())
    }
}

fn temp_failed(what: &str, e: std::io::Error) -> Error {
    Error::new(
        Code::CouldNotWriteOutputFile,
        format!("could not create the temporary file for editing: {what}: {e}"),
    )
    .hint("check that $XDG_RUNTIME_DIR, /dev/shm or $TMPDIR is writable")
}

// ---------------------------------------------------------------------------------------------
// The editor

/// The editor command: `SOPS_EDITOR`, then `EDITOR` (shell-split, not run through a shell), then
/// the first of vim, nano and vi on PATH; none is exit 201.
pub fn editor_command() -> Result<Vec<String>> {
    for var in [SOPS_EDITOR, EDITOR] {
        if let Some(v) = crate::env::var(var) {
            return match shlex::split(&v) {
                Some(parts) if !parts.is_empty() => Ok(parts),
                _ => Err(Error::new(
                    Code::NoEditorFound,
                    format!("Could not run editor: invalid ${var}"),
                )
                .hint(format!(
                    "{var} is split like a shell command line; check its quotes"
                ))),
            };
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["vim", "nano", "vi"] {
        for dir in std::env::split_paths(&path) {
            let c = dir.join(name);
            if is_executable(&c) {
                return Ok(vec![c.to_string_lossy().into_owned()]);
            }
        }
    }
    Err(Error::new(
        Code::NoEditorFound,
        "Could not run editor: no editor available: veil uses the editor in SOPS_EDITOR or EDITOR, \
         else the first of vim, nano and vi, and none of them could be found",
    )
    .hint("set EDITOR, e.g. EDITOR=nano or EDITOR=\"code --wait\""))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// sops's example for a new file (`EmitExample`), per format.
pub fn example(format: Format) -> &'static str {
    match format {
        Format::Yaml => {
            "hello: Welcome to SOPS! Edit this file as you please!\nexample_key: example_value\n\
             # Example comment\nexample_array:\n    - example_value1\n    - example_value2\n\
             example_number: 1234.56789\nexample_booleans:\n    - true\n    - false\n"
        }
        Format::Json => {
            "{\n\t\"hello\": \"Welcome to SOPS! Edit this file as you please!\",\n\t\"example_key\": \"example_value\",\n\
             \t\"example_array\": [\n\t\t\"example_value1\",\n\t\t\"example_value2\"\n\t],\n\
             \t\"example_number\": 1234.56789,\n\t\"example_booleans\": [\n\t\ttrue,\n\t\tfalse\n\t]\n}\n"
        }
        Format::Toml => {
            "hello = \"Welcome to SOPS! Edit this file as you please!\"\nexample_key = \"example_value\"\n\
             # Example comment\nexample_array = [\"example_value1\", \"example_value2\"]\n\
             example_number = 1234.56789\nexample_booleans = [true, false]\n"
        }
        Format::Dotenv => {
            "# This is an example file.\nhello=Welcome to SOPS! Edit this file as you please!\n\
             example_key=example_value\nexample_multiline=foo\\nbar\\nbaz\n"
        }
        Format::Ini => {
            "; This is an example file.\n[Welcome!]\nhello       = Welcome to SOPS! Edit this file as you please!\n\
             example_key = example_value\n"
        }
        Format::Binary => "Welcome to SOPS! Edit this file as you please!",
    }
}

/// The outcome of one round in the editor.
enum Round {
    Done(Vec<u8>),
    /// The user can fix this in the editor (a parse error, no keys).
    Retry(Error),
}

/// Show `e` and, when stdin is a terminal, offer to reopen the editor. Without a terminal the
/// error is final (sops would wait for a key press that cannot come).
fn offer_reopen(e: Error) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(e);
    }
    eprintln!("{}", super::log::render_error(&e));
    eprint!("Press Enter to reopen the editor, or type q and Enter to give up: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let n = std::io::stdin().read_line(&mut line).unwrap_or(0);
    if n == 0 || line.trim().eq_ignore_ascii_case("q") {
        return Err(e);
    }
    Ok(())
}

/// Run the editor until the saved text is accepted by `accept`; unchanged text is exit 200.
fn edit_loop(
    copy: &TempCopy,
    original: &[u8],
    mut accept: impl FnMut(&[u8]) -> Result<Round>,
) -> Result<Vec<u8>> {
    let editor = editor_command()?;
    let before: [u8; 32] = Sha256::digest(original).into();
    loop {
        copy.run_editor(&editor)?;
        let edited = copy.read()?;
        let after: [u8; 32] = Sha256::digest(&edited[..]).into();
        if after == before {
            return Err(Error::new(
                Code::FileHasNotBeenModified,
                "File has not changed, exiting.",
            )
            .hint("nothing was written; save a change in the editor to update the file"));
        }
        match accept(&edited)? {
            Round::Done(out) => return Ok(out),
            Round::Retry(e) => offer_reopen(e)?,
        }
    }
}

fn basename(file: &str) -> String {
    Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "file".to_string())
}

fn retryable(e: &Error) -> bool {
    matches!(
        e.code,
        Code::CouldNotReadInputFile | Code::NeedAtLeastOneDocument | Code::NoEncryptionKeyFound
    )
}

/// Run the editor on `content` in the same private temp dir as `edit` (removed on every way
/// out), named after `name`, until `accept` turns the saved text into the bytes to write.
/// Parse errors reopen the editor as in `edit`; unchanged text is exit 200. Used by
/// `veil git resolve`.
pub fn edit_private(
    name: &str,
    content: &[u8],
    mut accept: impl FnMut(&[u8]) -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    sweep_private_dirs();
    let copy = TempCopy::create(&basename(name), content)?;
    let out = edit_loop(&copy, content, |edited| match accept(edited) {
        Ok(out) => Ok(Round::Done(out)),
        Err(e) if retryable(&e) => Ok(Round::Retry(e)),
        Err(e) => Err(e),
    })?;
    drop(copy);
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The command

pub fn run(r: &EditRequest<'_>) -> Result<i32> {
    sweep_private_dirs();
    if std::fs::symlink_metadata(r.file).is_err() {
        return edit_new(r);
    }
    // Before the user spends any effort: a file the write would refuse.
    super::io::check_replaceable(r.file)?;
    let ks = KeyService::local();
    let open = || {
        lifecycle::open(
            r.input,
            r.file,
            r.change.ignore_mac,
            r.change.decryption_order.as_deref(),
            &ks,
        )
    };
    let mut o = open()?;
    super::rotation::warn_opened(
        r.file,
        r.input.filename_override.as_deref(),
        &o.dec.metadata,
    );
    // Audited before the plaintext is written for the editor.
    crate::audit::session::release()?;
    let show = r.show_master_keys && o.inf != Format::Binary;
    if r.show_master_keys && !show {
        eprintln!("warning: --show-master-keys is ignored for binary files");
    }
    let mut copy: Option<TempCopy> = None;
    loop {
        let view_meta = show.then(|| lifecycle::meta_tree(&o.dec.metadata, o.inf));
        let plain = Zeroizing::new(o.parsed.render(&o.dec.edits, view_meta.as_ref())?);
        let c = match copy.take() {
            None => TempCopy::create(&basename(r.file), &plain)?,
            Some(c) => {
                c.write(&plain)?;
                c
            }
        };
        let mut ctx = Context::system();
        let out = edit_loop(&c, &plain, |edited| {
            match reseal_edited(&o, edited, show, &ks, &mut ctx) {
                Ok(out) => Ok(Round::Done(out)),
                Err(e) if retryable(&e) => Ok(Round::Retry(e)),
                Err(e) => Err(e),
            }
        })?;
        // Write only over the version that was opened: a change made meanwhile (by a command
        // that took the lock and finished, or by any other program) is never undone.
        let lock = super::io::lock_for_update(r.file)?;
        if std::fs::read(r.file).ok().as_deref() == Some(&o.src[..]) {
            drop(c);
            super::io::write_atomic(Path::new(r.file), &out)?;
            drop(lock);
            return Ok(0);
        }
        drop(lock);
        changed_meanwhile(&c, r.file)?;
        copy = Some(c);
        o = open()?;
    }
}

/// The file changed on disk while the editor was open. On a terminal, offer to edit the new
/// version, with the user's edit kept aside in the private directory to copy from; otherwise
/// (or when the user declines) the edit is discarded with the directory: plaintext is never
/// left behind for later.
fn changed_meanwhile(copy: &TempCopy, file: &str) -> Result<()> {
    let what = format!(
        "{file} changed on disk while the editor was open, so your edit was not written (it would have undone that change)"
    );
    let refuse = |what: String| {
        Error::new(Code::CouldNotWriteOutputFile, what).hint(format!(
            "run `veil edit {file}` again to edit the new version"
        ))
    };
    if !std::io::stdin().is_terminal() {
        return Err(refuse(format!("{what}; your edit was discarded")));
    }
    let aside = copy.keep_aside()?;
    eprintln!("{what}.");
    eprint!(
        "Press Enter to edit the file as it is now (your edit is kept next to it as {}, to copy from), or type q and Enter to discard your edit: ",
        aside.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    );
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let n = std::io::stdin().read_line(&mut line).unwrap_or(0);
    if n == 0 || line.trim().eq_ignore_ascii_case("q") {
        return Err(refuse(format!("{what}; your edit was discarded")));
    }
    Ok(())
}

/// The saved plaintext, sealed against the original file.
fn reseal_edited(
    o: &Opened,
    edited: &[u8],
    show: bool,
    ks: &KeyService,
    ctx: &mut Context,
) -> Result<Vec<u8>> {
    let parsed = o.inf.store().parse(edited)?;
    let mut meta = o.dec.metadata.clone();
    match (show, parsed.metadata()) {
        (true, Some(t)) => {
            let m = Metadata::from_tree(t).map_err(|e| {
                Error::new(
                    Code::CouldNotReadInputFile,
                    format!("SOPS metadata is invalid: {}", e.message),
                )
            })?;
            apply_edited_metadata(&mut meta, &m, &o.dec, ks, ctx)?;
        }
        (true, None) => {
            return Err(no_keys());
        }
        (false, Some(_)) => {
            return Err(Error::new(
                Code::CouldNotReadInputFile,
                "the edited file has a top-level `sops` entry, which is reserved for the metadata",
            )
            .hint("remove it, or use --show-master-keys to edit the metadata"));
        }
        (false, None) => {}
    }
    engine::bump_version(&mut meta)?;
    let mut docs = parsed.docs().to_vec();
    engine::keep_stored_numbers(&mut docs, &o.dec.docs);
    let mut stash = o.dec.stash.clone();
    let r = engine::reseal(&docs, &meta, &o.dec.data_key, &mut stash, ctx)?;
    let (out, _) = lifecycle::render_checked(
        Some(parsed.as_ref()),
        o.inf,
        &docs,
        &r.edits,
        &r.metadata,
        o.outf,
        &super::layout(),
    )?;
    Ok(out)
}

fn no_keys() -> Error {
    Error::new(
        Code::NoEncryptionKeyFound,
        "No master keys were provided, so veil can't encrypt the file.",
    )
    .hint("keep at least one key in the sops metadata")
}

/// With `--show-master-keys`: take the rule and keys the user left in the metadata. Keys that
/// stayed keep their wrapped data key; added keys wrap the same data key.
fn apply_edited_metadata(
    meta: &mut Metadata,
    edited: &Metadata,
    dec: &engine::Decrypted,
    ks: &KeyService,
    ctx: &mut Context,
) -> Result<()> {
    meta.rule = edited.rule.clone();
    meta.mac_only_encrypted = edited.mac_only_encrypted;
    if !edited.version.is_empty() {
        meta.version = edited.version.clone();
    }
    let refs = engine::key_refs(edited);
    if refs.is_empty() || refs.iter().all(Vec::is_empty) {
        return Err(no_keys());
    }
    if refs != engine::key_refs(&dec.metadata) || edited.shamir_threshold != meta.shamir_threshold {
        engine::rewrap(meta, &dec.data_key, &refs, edited.shamir_threshold, ks, ctx)
            .map_err(|e| Error::new(Code::NoEncryptionKeyFound, e.message))?;
    }
    Ok(())
}

/// A file that does not exist yet: sops's example, encrypted with the creation rule's keys.
fn edit_new(r: &EditRequest<'_>) -> Result<i32> {
    let (inf, outf) = super::formats(r.input, Some(r.file));
    let cipher = Cipher::from_flag(&r.keys.cipher).ok_or_else(|| {
        Error::generic(format!("unknown cipher {:?}", r.keys.cipher))
            .hint("use aes256-gcm or xchacha20-poly1305")
    })?;
    let conf = super::encrypt::load_config(r.keys)?;
    let cr = super::encrypt::creation_rule(r.keys, conf.as_ref(), Path::new(r.file), inf)?;
    let opts = EncryptOptions {
        key_groups: cr.key_groups,
        shamir_threshold: cr.shamir_threshold,
        rule: cr.rule,
        mac_only_encrypted: cr.mac_only_encrypted,
        cipher,
        integrity: cr.integrity,
    };
    // Vault servers named by the flags or the creation rule may receive the token.
    let ks = KeyService::trusting(&opts.key_groups);
    let template = example(inf).as_bytes();
    let copy = TempCopy::create(&basename(r.file), template)?;
    let mut ctx = Context::system();
    let out = edit_loop(&copy, template, |edited| {
        match encrypt_new(edited, inf, outf, &opts, &ks, &mut ctx) {
            Ok(out) => Ok(Round::Done(out)),
            Err(e) if retryable(&e) => Ok(Round::Retry(e)),
            Err(e) => Err(e),
        }
    })?;
    drop(copy);
    // Created only if nobody created it meanwhile.
    super::io::write_new(Path::new(r.file), &out)?;
    Ok(0)
}

fn encrypt_new(
    edited: &[u8],
    inf: Format,
    outf: Format,
    opts: &EncryptOptions,
    ks: &KeyService,
    ctx: &mut Context,
) -> Result<Vec<u8>> {
    let parsed: Box<dyn Parsed> = inf.store().parse(edited)?;
    if parsed.metadata().is_some() {
        return Err(Error::new(
            Code::CouldNotReadInputFile,
            "the edited file has a top-level `sops` entry, which is reserved for the metadata",
        )
        .hint("remove it"));
    }
    crate::pipeline::encrypt_parsed(parsed.as_ref(), inf, outf, opts, ks, ctx, &super::layout())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_parse_in_their_format() {
        for f in [Format::Json, Format::Dotenv, Format::Binary] {
            let p = f.store().parse(example(f).as_bytes());
            assert!(p.is_ok(), "{f:?}");
        }
    }

    #[test]
    fn temp_bases_end_with_the_temp_dir() {
        let b = temp_bases();
        assert_eq!(b.last(), Some(&std::env::temp_dir()));
    }

    #[test]
    fn basenames() {
        assert_eq!(basename("a/b/secrets.enc.yaml"), "secrets.enc.yaml");
        assert_eq!(basename("x.json"), "x.json");
        assert_eq!(basename("/"), "file");
    }
}
