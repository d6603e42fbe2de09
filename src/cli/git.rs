//! `veil git …`: the git integration. `textconv` is the diff driver (git diff, log -p and show
//! see plaintext diffs), `merge-driver` merges encrypted files by key path and writes the result
//! sealed again, and `setup` writes the `.gitattributes` lines and driver config.
//!
//! It exists because a line diff of ciphertext is useless and a text merge of it corrupts the
//! file. It must never make git fail because a file cannot be decrypted (textconv falls back to
//! the ciphertext), never cache plaintext (no `cachetextconv`), and never leave plaintext in the
//! work tree: a conflicted merge leaves "ours", still encrypted.

use super::args::{
    GitArgs, GitCommand, GitMergeDriverArgs, GitResolveArgs, GitSetupArgs, GitTextconvArgs,
};
use super::check::{git, load_conf, rule_matches};
use super::lifecycle::{self, Opened};
use crate::engine::{self, Context, DecryptOptions};
use crate::error::{Code, Error, Result};
use crate::format::{Edit, EmitOptions, Format};
use crate::gitmerge;
use crate::keys::{KeyRef, KeyService};
use crate::metadata::Metadata;
use crate::tree::{walk_leaves, Value};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub fn run(g: &GitArgs) -> Result<i32> {
    match &g.command {
        GitCommand::Textconv(a) => textconv(a),
        GitCommand::Setup(a) => setup(a),
        GitCommand::MergeDriver(a) => merge_driver(a),
        GitCommand::Resolve(a) => resolve(a),
    }
}

/// The plaintext of an encrypted file in its own format.
fn decrypt_bytes(
    data: &[u8],
    format: Format,
    ignore_mac: bool,
    require_integrity: bool,
) -> Result<Vec<u8>> {
    let parsed = format.store().parse_encrypted(data)?;
    let ks = KeyService::local();
    crate::audit::session::unwrapping(parsed.metadata());
    let dec = engine::decrypt(
        parsed.as_ref(),
        &DecryptOptions {
            ignore_mac,
            decryption_order: engine::parse_decryption_order(None)?,
            require_integrity,
        },
        &ks,
    )?;
    crate::audit::session::unwrapped_by(&dec.unwrapped_by);
    let out = parsed.render(&dec.edits, None)?;
    // Audited before git sees the plaintext; a log that cannot be written when it is
    // required shows the ciphertext instead.
    crate::audit::session::release()?;
    Ok(out)
}

fn first_line(e: &Error) -> String {
    e.message.lines().next().unwrap_or("").to_string()
}

/// What textconv shows when the file cannot be opened: the ciphertext, with the reason.
fn ciphertext(file: &str, e: &Error, data: Vec<u8>) -> Vec<u8> {
    crate::audit::session::failed(e);
    eprintln!(
        "veil: {file}: cannot decrypt ({}); showing the ciphertext",
        first_line(e)
    );
    data
}

/// `veil git textconv FILE`: never fails once the file is read.
fn textconv(a: &GitTextconvArgs) -> Result<i32> {
    let data = super::io::read_input(Some(&a.file))?;
    let format = Format::from_path(&a.file);
    let required = super::integrity_required(&super::args::InputArgs::default(), Some(&a.file));
    let out = match decrypt_bytes(&data, format, false, required) {
        Ok(p) => p,
        // `--ignore-mac` never skips the integrity field: a file failing it shows as ciphertext.
        Err(e) if e.code == crate::error::Code::MacMismatch => {
            match decrypt_bytes(&data, format, true, required) {
                Ok(p) => {
                    eprintln!(
                        "veil: {}: the MAC does not verify; showing the values anyway",
                        a.file
                    );
                    p
                }
                Err(e) => ciphertext(&a.file, &e, data),
            }
        }
        Err(e) => ciphertext(&a.file, &e, data),
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
    let conf = load_conf()?;
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

/// Decrypt one side of a merge, from its bytes.
/// `required`: the file must carry veil's integrity field (asked of ours and theirs; a merge
/// base from before the field was required may lack it, and is checked when it has it).
fn open_bytes(src: Vec<u8>, format: Format, ks: &KeyService, required: bool) -> Result<Opened> {
    let parsed = format.store().parse_encrypted(&src)?;
    let opts = DecryptOptions {
        ignore_mac: false,
        decryption_order: engine::parse_decryption_order(None)?,
        require_integrity: required,
    };
    crate::pipeline::open_parsed(src, parsed, format, format, &opts, ks, &super::log::Verbose)
}

/// The three sides of a merge, decrypted. No base (`None`) means the file was added on both
/// sides.
struct Sides {
    base: Option<Opened>,
    ours: Opened,
    theirs: Opened,
}

/// The merged documents and key groups; the conflicts include the key groups'.
struct Outcome {
    merge: gitmerge::Merge,
    refs: Vec<Vec<KeyRef>>,
}

fn merge_sides(s: &Sides) -> Outcome {
    let (base_docs, base_refs) = match &s.base {
        Some(b) => (b.dec.docs.clone(), engine::key_refs(&b.dec.metadata)),
        None => (
            vec![Value::Map(Vec::new()); s.ours.dec.docs.len()],
            Vec::new(),
        ),
    };
    let mut merge = gitmerge::merge_docs(&base_docs, &s.ours.dec.docs, &s.theirs.dec.docs);
    let our_refs = engine::key_refs(&s.ours.dec.metadata);
    let their_refs = engine::key_refs(&s.theirs.dec.metadata);
    let refs = match gitmerge::merge_groups(&base_refs, &our_refs, &their_refs) {
        Some(r) => r,
        None => {
            merge
                .conflicts
                .push("(the key groups of the sops metadata)".into());
            merge.conflict_paths.push(None);
            our_refs
        }
    };
    Outcome { merge, refs }
}

/// Ours's metadata with the merged key groups (the same data key wrapped for added keys).
fn merged_meta(
    ours: &Opened,
    refs: &[Vec<KeyRef>],
    ks: &KeyService,
    ctx: &mut Context,
) -> Result<Metadata> {
    let mut meta = ours.dec.metadata.clone();
    if refs != engine::key_refs(&meta).as_slice() {
        let threshold = meta.shamir_threshold;
        engine::rewrap(&mut meta, &ours.dec.data_key, refs, threshold, ks, ctx)?;
    }
    Ok(meta)
}

/// Seal merged documents with ours's data key, keeping every unchanged ciphertext: ours's own
/// text when the shape did not change, else a fresh layout with ours's indentation.
fn seal_merged(
    ours: &Opened,
    docs: &[Value],
    meta: &Metadata,
    ctx: &mut Context,
) -> Result<Vec<u8>> {
    let mut docs = docs.to_vec();
    engine::keep_stored_numbers(&mut docs, &ours.dec.docs);
    let mut stash = ours.dec.stash.clone();
    let r = engine::reseal(&docs, meta, &ours.dec.data_key, &mut stash, ctx)?;
    if engine::same_shape(ours.parsed.docs(), &docs) {
        return lifecycle::render_same_shape(ours, &docs, r.edits, &r.metadata, &super::layout());
    }
    let emit = super::layout().like(&ours.src, ours.inf, ours.inf)?;
    Ok(lifecycle::render_checked_with(
        None,
        ours.inf,
        &docs,
        &r.edits,
        &r.metadata,
        ours.inf,
        &emit,
    )?
    .0)
}

fn print_conflicts(name: &str, conflicts: &[String], next: &str) {
    eprintln!(
        "veil: {name}: {} conflicting key(s); the file is left as ours (encrypted):",
        conflicts.len()
    );
    for c in conflicts {
        eprintln!("  {c}");
    }
    eprintln!("  {next}");
}

/// `veil git merge-driver %O %A %B %P`.
fn merge_driver(a: &GitMergeDriverArgs) -> Result<i32> {
    let name = a.path.as_deref().unwrap_or(&a.ours);
    let format = Format::from_path(name);
    let ks = KeyService::local();
    let read = |f: &str| super::io::read_input(Some(f));
    let required = super::integrity_required(&super::args::InputArgs::default(), Some(name));
    let ours = open_bytes(read(&a.ours)?, format, &ks, required)
        .map_err(|e| e.context(format!("ours ({name})")))?;
    let theirs = open_bytes(read(&a.theirs)?, format, &ks, required)
        .map_err(|e| e.context(format!("theirs ({name})")))?;
    let base_src = read(&a.base)?;
    let base = if base_src.is_empty() {
        None
    } else {
        Some(
            open_bytes(base_src, format, &ks, false)
                .map_err(|e| e.context(format!("base ({name})")))?,
        )
    };
    let sides = Sides { base, ours, theirs };
    let out = merge_sides(&sides);
    if !out.merge.conflicts.is_empty() {
        print_conflicts(
            name,
            &out.merge.conflicts,
            &format!("resolve with `veil git resolve {name}` (it stages the result)"),
        );
        return Ok(1);
    }
    if out.merge.docs == sides.ours.dec.docs
        && out.refs == engine::key_refs(&sides.ours.dec.metadata)
    {
        // Theirs changed nothing ours does not have: ours stands, byte for byte.
        return Ok(0);
    }
    let mut ctx = Context::system();
    let meta = merged_meta(&sides.ours, &out.refs, &ks, &mut ctx)?;
    let bytes = seal_merged(&sides.ours, &out.merge.docs, &meta, &mut ctx)?;
    super::io::write_atomic(Path::new(&a.ours), &bytes)?;
    Ok(0)
}

/// The content of `path` at index stage `stage` (1 base, 2 ours, 3 theirs), if present.
fn stage(path: &str, stage: u8) -> Option<Vec<u8>> {
    let spec = if path.starts_with('/') {
        format!(":{stage}:{path}")
    } else {
        format!(":{stage}:./{path}")
    };
    git(&["cat-file", "blob", &spec]).ok()
}

/// The marker of the lines of the resolve view that explain the conflicts; they are removed
/// from what is saved.
const VIEW_MARK: &str = "# veil:";

fn show_value(v: Option<&Value>) -> Vec<String> {
    match v {
        None => vec!["(absent)".to_string()],
        Some(v) => match Format::Json.store().emit_value(v, &EmitOptions::default()) {
            Ok(b) => String::from_utf8_lossy(&b)
                .trim_end()
                .lines()
                .map(str::to_string)
                .collect(),
            Err(_) => vec!["(cannot be shown)".to_string()],
        },
    }
}

/// The text the editor opens: one explanation block per conflict (base, ours, theirs), then
/// the merged document with ours's value at each conflict.
fn resolve_view(s: &Sides, out: &Outcome) -> Result<Vec<u8>> {
    let mut head = String::new();
    head.push_str(&format!(
        "{VIEW_MARK} merge conflicts. The document below holds OURS at each conflicting key;\n\
         {VIEW_MARK} edit those values (base, ours and theirs are listed here), save and quit.\n\
         {VIEW_MARK} Lines starting with \"{VIEW_MARK}\" are removed when the file is sealed.\n"
    ));
    let base_docs = s
        .base
        .as_ref()
        .map(|b| b.dec.docs.as_slice())
        .unwrap_or(&[]);
    for (label, p) in out.merge.conflicts.iter().zip(&out.merge.conflict_paths) {
        head.push_str(&format!("{VIEW_MARK}\n{VIEW_MARK} conflict at {label}\n"));
        let Some((doc, path)) = p else {
            head.push_str(&format!(
                "{VIEW_MARK}   (not a single value: ours is kept; edit the document as needed)\n"
            ));
            continue;
        };
        for (side, docs) in [
            ("base  ", base_docs),
            ("ours  ", s.ours.dec.docs.as_slice()),
            ("theirs", s.theirs.dec.docs.as_slice()),
        ] {
            for (i, l) in show_value(gitmerge::lookup(docs, *doc, path))
                .iter()
                .enumerate()
            {
                let tag = if i == 0 { side } else { "      " };
                head.push_str(&format!("{VIEW_MARK}   {tag}: {l}\n"));
            }
        }
    }
    head.push_str(&format!("{VIEW_MARK}\n"));
    let docs = &out.merge.docs;
    let body = if engine::same_shape(s.ours.parsed.docs(), docs) {
        let mut edits = Vec::new();
        walk_leaves(docs, |_, _, v| edits.push(Edit::Open(v.clone())));
        s.ours.parsed.render(&edits, None)?
    } else {
        s.ours
            .inf
            .store()
            .emit(docs, None, &super::layout().fresh(s.ours.inf)?)?
    };
    let mut view = head.into_bytes();
    view.extend_from_slice(&body);
    Ok(view)
}

/// Remove the explanation lines from a saved view.
fn strip_view(saved: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(saved.len());
    for line in saved.split_inclusive(|b| *b == b'\n') {
        if !line.starts_with(VIEW_MARK.as_bytes()) {
            out.extend_from_slice(line);
        }
    }
    out
}

/// `veil git resolve FILE`: during a conflicted merge, open the editor on the merged document
/// with base/ours/theirs for each conflicting key, seal what is saved with ours's data key
/// and stage it.
fn resolve(a: &GitResolveArgs) -> Result<i32> {
    let name = a.file.as_str();
    let format = Format::from_path(name);
    let ks = KeyService::local();
    let not_conflicted = || {
        Error::generic(format!("{name} is not in a conflicted merge"))
            .hint("run it after `git merge` reported a conflict in this file")
    };
    let ours_src = stage(name, 2).ok_or_else(not_conflicted)?;
    let theirs_src = stage(name, 3).ok_or_else(not_conflicted)?;
    let required = super::integrity_required(&super::args::InputArgs::default(), Some(name));
    let ours = open_bytes(ours_src, format, &ks, required).map_err(|e| e.context("ours"))?;
    let theirs = open_bytes(theirs_src, format, &ks, required).map_err(|e| e.context("theirs"))?;
    let base = match stage(name, 1) {
        Some(b) if !b.is_empty() => {
            Some(open_bytes(b, format, &ks, false).map_err(|e| e.context("base"))?)
        }
        _ => None,
    };
    let sides = Sides { base, ours, theirs };
    let out = merge_sides(&sides);
    let mut ctx = Context::system();
    let meta = merged_meta(&sides.ours, &out.refs, &ks, &mut ctx)?;
    let sealed = if out.merge.conflicts.is_empty() {
        seal_merged(&sides.ours, &out.merge.docs, &meta, &mut ctx)?
    } else {
        let view = Zeroizing::new(resolve_view(&sides, &out)?);
        super::edit::edit_private(name, &view, |saved| {
            let text = Zeroizing::new(strip_view(saved));
            let parsed = format.store().parse(&text)?;
            if parsed.metadata().is_some() {
                return Err(Error::new(
                    Code::CouldNotReadInputFile,
                    "the resolved file has a top-level `sops` entry, which is reserved for the metadata",
                )
                .hint("remove it"));
            }
            let mut docs = parsed.docs().to_vec();
            engine::keep_stored_numbers(&mut docs, &sides.ours.dec.docs);
            let mut stash = sides.ours.dec.stash.clone();
            let r = engine::reseal(&docs, &meta, &sides.ours.dec.data_key, &mut stash, &mut ctx)?;
            let (bytes, _) = lifecycle::render_checked(
                Some(parsed.as_ref()),
                format,
                &docs,
                &r.edits,
                &r.metadata,
                format,
                &super::layout(),
            )?;
            Ok(bytes)
        })?
    };
    super::io::write_atomic(Path::new(name), &sealed)?;
    git(&["add", "--", name])?;
    eprintln!("veil: {name} resolved, sealed and staged; `git commit` completes the merge");
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_explanation_is_stripped_and_nothing_else() {
        let saved = b"# veil: conflict at [\"a\"]\n# veil:   ours  : x\na: 1\n# a comment\nb: 2";
        assert_eq!(strip_view(saved), b"a: 1\n# a comment\nb: 2".to_vec());
    }

    #[test]
    fn values_are_shown_and_absence_is_said() {
        assert_eq!(show_value(None), vec!["(absent)".to_string()]);
        let v = Value::str("s");
        assert_eq!(show_value(Some(&v)), vec!["s".to_string()]);
    }
}
