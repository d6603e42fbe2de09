//! `veil git …`: the git integration. `textconv` is the diff driver (git diff, log -p and show
//! see plaintext diffs), `merge-driver` merges encrypted files by key path and writes the result
//! sealed again, and `setup` writes the `.gitattributes` lines and driver config.
//!
//! It exists because a line diff of ciphertext is useless and a text merge of it corrupts the
//! file. It must never make git fail because a file cannot be decrypted (textconv falls back to
//! the ciphertext), never cache plaintext (no `cachetextconv`), and never leave plaintext in the
//! work tree: a conflicted merge leaves "ours", still encrypted.

use super::args::{
    GitArgs, GitCommand, GitMergeDriverArgs, GitSetupArgs, GitTextconvArgs, InputArgs,
};
use super::check::{git, load_conf, rule_matches};
use crate::engine::{self, Context, DecryptOptions};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::gitmerge;
use crate::keys::KeyService;
use std::path::{Path, PathBuf};

pub fn run(g: &GitArgs) -> Result<i32> {
    match &g.command {
        GitCommand::Textconv(a) => textconv(a),
        GitCommand::Setup(a) => setup(a),
        GitCommand::MergeDriver(a) => merge_driver(a),
    }
}

/// The plaintext of an encrypted file in its own format.
fn decrypt_bytes(data: &[u8], format: Format, ignore_mac: bool) -> Result<Vec<u8>> {
    let parsed = format.store().parse_encrypted(data)?;
    let ks = KeyService::local();
    let dec = engine::decrypt(
        parsed.as_ref(),
        &DecryptOptions {
            ignore_mac,
            decryption_order: engine::parse_decryption_order(None)?,
        },
        &ks,
    )?;
    parsed.render(&dec.edits, None)
}

fn first_line(e: &Error) -> String {
    e.message.lines().next().unwrap_or("").to_string()
}

/// `veil git textconv FILE`: never fails once the file is read.
fn textconv(a: &GitTextconvArgs) -> Result<i32> {
    let data = super::io::read_input(Some(&a.file))?;
    let format = Format::from_path(&a.file);
    let out = match decrypt_bytes(&data, format, false) {
        Ok(p) => p,
        Err(e) if e.code == crate::error::Code::MacMismatch => {
            match decrypt_bytes(&data, format, true) {
                Ok(p) => {
                    eprintln!(
                        "veil: {}: the MAC does not verify; showing the values anyway",
                        a.file
                    );
                    p
                }
                Err(e) => {
                    eprintln!(
                        "veil: {}: cannot decrypt ({}); showing the ciphertext",
                        a.file,
                        first_line(&e)
                    );
                    data
                }
            }
        }
        Err(e) => {
            eprintln!(
                "veil: {}: cannot decrypt ({}); showing the ciphertext",
                a.file,
                first_line(&e)
            );
            data
        }
    };
    super::io::write_stdout(&out)?;
    Ok(0)
}

const ATTRS: &str = "diff=veil merge=veil";
const TEXTCONV: &str = "veil git textconv";
const MERGE_DRIVER: &str = "veil git merge-driver %O %A %B %P";

/// The `.gitattributes` patterns to write: `--pattern`, else every tracked file a creation
/// rule matches, tracked or not ignored (anchored at the repository root).
fn patterns(a: &GitSetupArgs, top: &Path) -> Result<Vec<String>> {
    if !a.pattern.is_empty() {
        return Ok(a.pattern.clone());
    }
    let conf = load_conf(None)?;
    if conf.is_none() {
        return Err(
            Error::generic("no .sops.yaml found, so no creation rules to take files from")
                .hint("give the files with --pattern GLOB, e.g. --pattern '*.enc.yaml'"),
        );
    }
    let files = git(&[
        "ls-files",
        "-z",
        "--full-name",
        "--cached",
        "--others",
        "--exclude-standard",
        "--",
        ":/",
    ])?;
    let mut out = Vec::new();
    for f in String::from_utf8_lossy(&files)
        .split('\0')
        .filter(|s| !s.is_empty())
    {
        if f.ends_with(".sops.yaml") {
            continue;
        }
        if rule_matches(conf.as_ref(), &top.join(f))? {
            out.push(format!("/{}", f.replace(' ', "[[:space:]]")));
        }
    }
    if out.is_empty() {
        return Err(Error::generic("no tracked file matches a creation rule")
            .hint("add the encrypted files first, or give --pattern GLOB"));
    }
    Ok(out)
}

fn config_get(global: bool, key: &str) -> Option<String> {
    let mut args = vec!["config"];
    if global {
        args.push("--global");
    }
    args.extend(["--get", key]);
    git(&args)
        .ok()
        .map(|o| String::from_utf8_lossy(&o).trim().to_string())
}

/// `veil git setup`: idempotent; `--check` reports what is missing.
fn setup(a: &GitSetupArgs) -> Result<i32> {
    let top = PathBuf::from(
        String::from_utf8_lossy(&git(&["rev-parse", "--show-toplevel"])?)
            .trim()
            .to_string(),
    );
    let pats = patterns(a, &top)?;
    let attr_path = top.join(".gitattributes");
    let existing = std::fs::read_to_string(&attr_path).unwrap_or_default();
    let have: Vec<&str> = existing.lines().map(str::trim).collect();
    let missing_lines: Vec<String> = pats
        .iter()
        .map(|p| format!("{p} {ATTRS}"))
        .filter(|l| !have.contains(&l.as_str()))
        .collect();
    let wanted = [
        ("diff.veil.textconv", TEXTCONV),
        ("merge.veil.name", "veil: merge encrypted files by key"),
        ("merge.veil.driver", MERGE_DRIVER),
    ];
    let missing_conf: Vec<(&str, &str)> = wanted
        .iter()
        .filter(|(k, v)| config_get(a.global, k).as_deref() != Some(*v))
        .copied()
        .collect();
    if a.check {
        let mut s = String::new();
        for l in &missing_lines {
            s.push_str(&format!("missing in .gitattributes: {l}\n"));
        }
        for (k, v) in &missing_conf {
            s.push_str(&format!(
                "missing in {} git config: {k} = {v}\n",
                if a.global {
                    "the global"
                } else {
                    "the repository's"
                }
            ));
        }
        if s.is_empty() {
            s.push_str("veil git setup: nothing missing\n");
        }
        super::io::write_stdout(s.as_bytes())?;
        return Ok(if missing_lines.is_empty() && missing_conf.is_empty() {
            0
        } else {
            1
        });
    }
    if !missing_lines.is_empty() {
        let mut text = existing.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        for l in &missing_lines {
            text.push_str(l);
            text.push('\n');
        }
        super::io::write_atomic(&attr_path, text.as_bytes())?;
    }
    for (k, v) in &missing_conf {
        let mut args = vec!["config"];
        if a.global {
            args.push("--global");
        }
        args.extend([*k, *v]);
        git(&args)?;
    }
    eprintln!(
        "veil git setup: {} attribute line(s) and {} config entr(ies) added",
        missing_lines.len(),
        missing_conf.len()
    );
    Ok(0)
}

/// Decrypt one side of a merge.
fn open_side(file: &str, format: Format, ks: &KeyService) -> Result<super::lifecycle::Opened> {
    let input = InputArgs {
        input_type: Some(format.name().to_string()),
        output_type: Some(format.name().to_string()),
        filename_override: None,
    };
    super::lifecycle::open(&input, file, false, None, ks)
}

/// `veil git merge-driver %O %A %B %P`.
fn merge_driver(a: &GitMergeDriverArgs) -> Result<i32> {
    let name = a.path.as_deref().unwrap_or(&a.ours);
    let format = Format::from_path(name);
    let ks = KeyService::local();
    let ours = open_side(&a.ours, format, &ks).map_err(|e| e.context(format!("ours ({name})")))?;
    let theirs =
        open_side(&a.theirs, format, &ks).map_err(|e| e.context(format!("theirs ({name})")))?;
    let base_empty = std::fs::metadata(&a.base)
        .map(|m| m.len() == 0)
        .unwrap_or(true);
    let (base_docs, base_refs) = if base_empty {
        // Added on both sides: no ancestor.
        (
            vec![crate::tree::Value::Map(Vec::new()); ours.dec.docs.len()],
            Vec::new(),
        )
    } else {
        let b = open_side(&a.base, format, &ks).map_err(|e| e.context(format!("base ({name})")))?;
        (b.dec.docs.clone(), engine::key_refs(&b.dec.metadata))
    };
    let m = gitmerge::merge_docs(&base_docs, &ours.dec.docs, &theirs.dec.docs);
    let mut conflicts = m.conflicts;
    let our_refs = engine::key_refs(&ours.dec.metadata);
    let their_refs = engine::key_refs(&theirs.dec.metadata);
    let refs = match gitmerge::merge_groups(&base_refs, &our_refs, &their_refs) {
        Some(r) => r,
        None => {
            conflicts.push("(the key groups of the sops metadata)".into());
            our_refs.clone()
        }
    };
    if !conflicts.is_empty() {
        eprintln!(
            "veil: {name}: {} conflicting key(s); the file is left as ours (encrypted):",
            conflicts.len()
        );
        for c in &conflicts {
            eprintln!("  {c}");
        }
        eprintln!("  resolve by editing it with `veil edit {name}`, then `git add {name}`");
        return Ok(1);
    }
    let mut ctx = Context::system();
    let mut meta = ours.dec.metadata.clone();
    if refs != our_refs {
        let threshold = meta.shamir_threshold;
        engine::rewrap(
            &mut meta,
            &ours.dec.data_key,
            &refs,
            threshold,
            &ks,
            &mut ctx,
        )?;
    }
    let mut docs = m.docs;
    engine::keep_stored_numbers(&mut docs, &ours.dec.docs);
    let mut stash = ours.dec.stash.clone();
    let r = engine::reseal(&docs, &meta, &ours.dec.data_key, &mut stash, &mut ctx)?;
    let out = if engine::same_shape(ours.parsed.docs(), &docs) {
        super::lifecycle::render_same_shape(&ours, &docs, r.edits, &r.metadata)?
    } else {
        let emit = super::lifecycle::infer_indent(&ours.src, format)
            .unwrap_or_else(|| super::lifecycle::emit_options(format));
        super::lifecycle::render_checked_with(
            None,
            format,
            &docs,
            &r.edits,
            &r.metadata,
            format,
            &emit,
        )?
        .0
    };
    super::io::write_atomic(Path::new(&a.ours), &out)?;
    Ok(0)
}
