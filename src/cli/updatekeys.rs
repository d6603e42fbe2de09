//! `veil updatekeys FILE… [-r DIR]`: make each file's key groups match the `.sops.yaml` creation
//! rule for its path, re-wrapping the *same* data key, so values, `mac` and `lastmodified` stay
//! as they are (with `--rotate`, a new data key and every value re-sealed, so a removed key
//! cannot read the file's future versions).
//!
//! sops's behaviour for one file (the `Group N` / `+++` / `---` diff on stdout, `Is this okay?
//! (y/n):` unless `-y`), plus: many files and whole trees, bounded parallelism, a progress line
//! when stderr is a terminal, `--dry-run`, a summary, and a non-zero exit when any file failed
//! (the others are still written; a failed file is left untouched). A file that changed on disk
//! while it was being processed is not overwritten. Nothing here reads or prints a value.

use super::args::{InputArgs, UpdatekeysArgs};
use super::lifecycle::{self, Opened};
use crate::config::{self, Config};
use crate::engine::{self, Context, DecryptOptions};
use crate::error::{Code, Error, Result};
use crate::format::{Edit, Format};
use crate::keys::{KeyRef, KeyService};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Files larger than this are not considered when walking a tree.
const MAX_WALK_FILE: u64 = 64 << 20;

/// One group's difference between a file and its creation rule.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct GroupDiff {
    pub common: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// sops's `DiffKeyGroups`: group by group (by position), keys compared by identity.
pub fn diff_groups(ours: &[Vec<KeyRef>], theirs: &[Vec<KeyRef>]) -> Vec<GroupDiff> {
    let n = ours.len().max(theirs.len());
    let empty = Vec::new();
    (0..n)
        .map(|i| {
            let o: Vec<String> = ours
                .get(i)
                .unwrap_or(&empty)
                .iter()
                .map(engine::key_identity)
                .collect();
            let t: Vec<String> = theirs
                .get(i)
                .unwrap_or(&empty)
                .iter()
                .map(engine::key_identity)
                .collect();
            let mut d = GroupDiff::default();
            for k in &t {
                if o.contains(k) {
                    d.common.push(k.clone());
                } else {
                    d.added.push(k.clone());
                }
            }
            for k in &o {
                if !t.contains(k) {
                    d.removed.push(k.clone());
                }
            }
            d
        })
        .collect()
}

/// sops's lines for one group's diff: `Group N`, then its kept (`    `), added (`+++ `) and
/// removed (`--- `) keys.
pub fn push_group_diff(text: &mut String, index: usize, d: &GroupDiff) {
    text.push_str(&format!("Group {}\n", index + 1));
    for k in &d.common {
        text.push_str(&format!("    {k}\n"));
    }
    for k in &d.added {
        text.push_str(&format!("+++ {k}\n"));
    }
    for k in &d.removed {
        text.push_str(&format!("--- {k}\n"));
    }
}

/// What will happen to one file.
struct Plan {
    file: String,
    data: Vec<u8>,
    inf: Format,
    outf: Format,
    groups: Vec<Vec<KeyRef>>,
    threshold: usize,
    /// The file's creation rule (or `VEIL_REQUIRE_INTEGRITY`) wants veil's integrity field.
    integrity: bool,
    /// The diff as sops prints it (empty when nothing changes).
    text: String,
    changes: bool,
}

enum Outcome {
    Updated,
    UpToDate,
    Failed(Error),
}

fn file_format(input_type: Option<&str>, file: &str) -> (Format, Format) {
    let input = InputArgs {
        input_type: input_type.map(str::to_string),
        ..InputArgs::default()
    };
    super::formats(&input, Some(file))
}

/// Read a file and compare its groups with its creation rule.
fn plan_file(a: &UpdatekeysArgs, conf: &Config, file: &str, cwd: &Path) -> Result<Plan> {
    let data = super::io::read_existing(file, false)?;
    let (inf, outf) = file_format(a.input_type.as_deref(), file);
    let parsed = inf.store().parse_encrypted(&data)?;
    let meta = engine::metadata_of(parsed.as_ref())?;
    let abs = config::absolute_clean(Path::new(file), cwd);
    let rule = conf.rule_for(&abs)?.ok_or_else(|| {
        Error::generic(format!(
            "The config file {} does not contain any creation rule",
            conf.path.display()
        ))
        .hint("add creation_rules with the keys this file should have")
    })?;
    let ours = engine::key_refs(&meta);
    // sops completes keys when it reads the rule (an Azure key without a version becomes its
    // newest one), so the comparison is with what would be recorded.
    let theirs = KeyService::trusting(&rule.key_groups).resolve_groups(&rule.key_groups)?;
    let diffs = diff_groups(&ours, &theirs);
    let wanted = if a.shamir_threshold != 0 {
        a.shamir_threshold
    } else {
        meta.shamir_threshold
    };
    let threshold = wanted.min(theirs.len());
    let old_t = engine::effective_threshold(meta.shamir_threshold, ours.len()).unwrap_or(0);
    let new_t = engine::effective_threshold(threshold, theirs.len()).unwrap_or(threshold);
    let keys_change = diffs
        .iter()
        .any(|d| !d.added.is_empty() || !d.removed.is_empty())
        || ours != theirs;
    let integrity = rule.integrity || crate::env::require_integrity();
    // A file gains the field when its rule asks for it (sops drops it when it writes a file).
    let add_integrity = integrity && meta.integrity.is_none();
    let changes = keys_change || old_t != new_t || add_integrity;
    let mut text = String::new();
    if changes {
        text.push_str("The following changes will be made to the file's groups:\n");
        if old_t > 0 && old_t == new_t {
            text.push_str(&format!("shamir_threshold: {new_t}\n"));
        } else {
            if new_t > 0 {
                text.push_str(&format!("+++ shamir_threshold: {new_t}\n"));
            }
            if old_t > 0 {
                text.push_str(&format!("--- shamir_threshold: {old_t}\n"));
            }
        }
        for (i, d) in diffs.iter().enumerate() {
            push_group_diff(&mut text, i, d);
            if d.added.is_empty()
                && d.removed.is_empty()
                && ours.get(i).is_some()
                && theirs.get(i).is_some()
                && ours.get(i) != theirs.get(i)
            {
                text.push_str(&format!("Key order changed in group {}\n", i + 1));
            }
        }
    }
    if add_integrity {
        text.push_str(
            "The integrity field (veil_integrity) will be added, once the MAC verifies\n",
        );
    }
    Ok(Plan {
        file: file.to_string(),
        data,
        inf,
        outf,
        groups: theirs,
        threshold,
        integrity,
        text,
        changes,
    })
}

/// Re-wrap (or rotate) one planned file and write it.
/// `audit` gets the file's version and the keys that unwrapped its data key.
fn apply(
    plan: &Plan,
    a: &UpdatekeysArgs,
    ks: &KeyService,
    audit: &mut crate::audit::Access,
) -> Result<()> {
    let order = engine::parse_decryption_order(a.change.decryption_order.as_deref())?;
    let parsed = plan.inf.store().parse_encrypted(&plan.data)?;
    if let Some(m) = parsed.metadata() {
        (audit.mac, audit.lastmodified) = crate::audit::version_of(m);
    }
    let key_uses = |by: &[String]| crate::audit::key_uses(parsed.metadata(), by);
    let mut ctx = Context::system();
    let adding = |meta: &crate::metadata::Metadata| plan.integrity && meta.integrity.is_none();
    if a.change.ignore_mac && plan.integrity {
        return Err(Error::new(
            Code::MacMismatch,
            "cannot authenticate a file read with --ignore-mac (its creation rule wants veil_integrity)",
        )
        .hint("run updatekeys without --ignore-mac; if the MAC does not verify, restore the file from git first"));
    }
    let out = if a.rotate {
        let dec = engine::decrypt(
            parsed.as_ref(),
            &DecryptOptions {
                ignore_mac: a.change.ignore_mac,
                decryption_order: order,
                // A field that is there is checked; one being added is not there yet.
                require_integrity: false,
            },
            ks,
        )?;
        audit.keys = key_uses(&dec.unwrapped_by);
        let mut stash = dec.stash.clone();
        let docs = dec.docs.clone();
        // The MAC (and any integrity field) verified above: the new key may authenticate it.
        let mut meta = dec.metadata.clone();
        if adding(&meta) {
            engine::want_integrity(&mut meta);
        }
        let (r, _) = engine::rotate(
            &docs,
            &meta,
            &mut stash,
            &plan.groups,
            plan.threshold,
            ks,
            &mut ctx,
        )?;
        let o = Opened {
            src: plan.data.clone(),
            inf: plan.inf,
            outf: plan.outf,
            parsed,
            dec,
        };
        lifecycle::render_same_shape(&o, &docs, r.edits, &r.metadata, &super::layout())?
    } else {
        let mut meta = engine::metadata_of(parsed.as_ref())?;
        let (key, by) = engine::unwrap_data_key_by(&meta, ks, &order)?;
        audit.keys = key_uses(&by);
        // Never re-authenticate what did not verify: the old field, or (adding it) the MAC.
        engine::check_integrity(&meta, parsed.docs(), &key, false)?;
        let authenticate = meta.integrity.is_some() || adding(&meta);
        if adding(&meta) {
            engine::open_leaves(parsed.docs(), &key, &meta, false)?;
        }
        engine::rewrap(&mut meta, &key, &plan.groups, plan.threshold, ks, &mut ctx)?;
        if authenticate {
            engine::reauthenticate(&mut meta, parsed.docs(), &key);
        }
        let edits = vec![Edit::Keep; engine::leaf_count(parsed.docs())];
        lifecycle::render_checked(
            Some(parsed.as_ref()),
            plan.inf,
            parsed.docs(),
            &edits,
            &meta,
            plan.outf,
            &super::layout(),
        )?
        .0
    };
    // Never overwrite a change made by someone else meanwhile (checked and written under the
    // file's lock, so another veil command cannot slip in between).
    let _lock = super::io::lock_for_update(&plan.file)?;
    let now = std::fs::read(&plan.file).unwrap_or_default();
    if now != plan.data {
        return Err(Error::new(
            Code::CouldNotWriteOutputFile,
            "the file changed on disk while its keys were being updated; it was left as it is",
        )
        .hint("run updatekeys again for this file"));
    }
    super::io::write_atomic(Path::new(&plan.file), &out)
}

/// Every regular file under `dir` (sorted, `.git` skipped, symlinks not followed).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        Error::new(
            Code::CouldNotReadInputFile,
            format!("could not read directory {}: {e}", dir.display()),
        )
    })?;
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let Ok(ft) = e.file_type() else { continue };
        let p = e.path();
        if ft.is_dir() {
            if e.file_name() == ".git" {
                continue;
            }
            walk(&p, out)?;
        } else if ft.is_file() {
            out.push(p);
        }
    }
    Ok(())
}

/// The files under `dir` that a creation rule matches and that are sops-encrypted.
fn discover(a: &UpdatekeysArgs, conf: &Config, dir: &str, cwd: &Path) -> Result<Vec<String>> {
    let mut all = Vec::new();
    walk(Path::new(dir), &mut all)?;
    let mut out = Vec::new();
    for p in all {
        if p.file_name().is_some_and(|n| n == config::CONFIG_FILE_NAME) {
            continue;
        }
        let abs = config::absolute_clean(&p, cwd);
        if abs == conf.path || !matches!(conf.rule_for(&abs), Ok(Some(_))) {
            continue;
        }
        if std::fs::metadata(&p).map(|m| m.len()).unwrap_or(u64::MAX) > MAX_WALK_FILE {
            continue;
        }
        let name = p.to_string_lossy().into_owned();
        let (inf, _) = file_format(a.input_type.as_deref(), &name);
        let Ok(data) = std::fs::read(&p) else {
            continue;
        };
        let encrypted = inf
            .store()
            .parse_encrypted(&data)
            .is_ok_and(|parsed| parsed.metadata().is_some());
        if encrypted {
            out.push(name);
        }
    }
    Ok(out)
}

fn ask(question: &str) -> Result<bool> {
    super::io::ask_yes_no(question, || {
        Error::generic("no answer (stdin is closed); nothing was changed")
            .hint("pass -y to apply the changes without asking, or --dry-run to only show them")
    })
}

pub fn run(a: &UpdatekeysArgs) -> Result<i32> {
    let cwd = std::env::current_dir()?;
    let explicit = super::explicit_config();
    let (conf, warning) = config::load_config(explicit.as_deref(), &cwd)?;
    if let Some(w) = warning {
        eprintln!("{w}");
    }
    let hint = "updatekeys takes each file's keys from the .sops.yaml creation rules; run it where .sops.yaml is found (or pass --config)";
    // sops's two messages: no config at all, or one without rules.
    let conf = conf
        .ok_or_else(|| Error::generic("config file not found").hint(hint))
        .and_then(|c| match c.has_creation_rules() {
            true => Ok(c),
            false => Err(Error::generic(format!(
                "The config file {} does not contain any creation rule",
                c.path.display()
            ))
            .hint(hint)),
        })?;
    let mut files = a.files.clone();
    for d in &a.recursive {
        files.extend(discover(a, &conf, d, &cwd)?);
    }
    if files.is_empty() {
        if a.recursive.is_empty() {
            return Err(
                Error::new(Code::NoFileSpecified, "Error: no file specified")
                    .hint("name the files, or a directory with -r DIR"),
            );
        }
        eprintln!("updatekeys: no encrypted files matched by creation rules were found");
        return Ok(0);
    }
    let single = files.len() == 1;

    // 1. Plan every file and show the changes.
    let mut plans = Vec::new();
    let mut failed: Vec<(String, Error)> = Vec::new();
    let mut up_to_date = 0usize;
    for f in &files {
        match plan_file(a, &conf, f, &cwd) {
            Ok(p) if p.changes || a.rotate => plans.push(p),
            Ok(p) => {
                up_to_date += 1;
                if single {
                    eprintln!("File {} already up to date", p.file);
                }
            }
            Err(e) => failed.push((f.clone(), e)),
        }
    }
    let mut stdout = std::io::stdout().lock();
    for p in &plans {
        if !single {
            let _ = writeln!(stdout, "{}:", p.file);
        }
        let _ = write!(stdout, "{}", p.text);
        if a.rotate {
            let _ = writeln!(
                stdout,
                "The data key will be rotated (every value re-encrypted)"
            );
        }
    }
    let _ = stdout.flush();
    drop(stdout);

    // 2. Ask.
    if a.dry_run {
        eprintln!(
            "updatekeys (dry run): {} would change, {} already up to date, {} failed; nothing was written",
            plans.len(),
            up_to_date,
            failed.len()
        );
        return finish(failed, single);
    }
    if !plans.is_empty() && !a.yes {
        let q = if plans.len() == 1 {
            "Is this okay? (y/n):".to_string()
        } else {
            format!("Apply these changes to {} files? (y/n):", plans.len())
        };
        if !ask(&q)? {
            for p in &plans {
                eprintln!("File {} left unchanged", p.file);
            }
            return finish(failed, single);
        }
    }

    // 3. Apply, in parallel; each file applied gets its audit entry (VEIL_AUDIT).
    let audit = crate::audit::Log::from_env()?;
    let total = plans.len();
    let jobs = a
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
                .min(8)
        })
        .clamp(1, 64)
        .min(total.max(1));
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..total).map(|_| None).collect());
    let progress = std::io::stderr().is_terminal() && total > 1;
    // The target groups come from the creation rules: the user named them.
    let named: Vec<Vec<KeyRef>> = plans.iter().flat_map(|p| p.groups.clone()).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                let ks = KeyService::trusting(&named);
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(plan) = plans.get(i) else { break };
                    let mut access = crate::audit::Access {
                        command: if a.rotate {
                            "updatekeys-rotate"
                        } else {
                            "updatekeys"
                        }
                        .into(),
                        file: Some(crate::audit::absolute(&plan.file)),
                        ..Default::default()
                    };
                    let mut r = apply(plan, a, &ks, &mut access);
                    if let Some(log) = &audit {
                        let logged = log.append(&access, crate::audit::Outcome::of(&r));
                        if r.is_ok() {
                            // Required and not written: the file is changed but unrecorded.
                            r = logged;
                        }
                    }
                    let outcome = match r {
                        Ok(()) => Outcome::Updated,
                        Err(e) => Outcome::Failed(e),
                    };
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(outcome);
                    }
                    let d = done.fetch_add(1, Ordering::SeqCst) + 1;
                    if progress {
                        eprint!("\rupdatekeys: {d}/{total} files");
                    }
                }
            });
        }
    });
    if progress {
        eprint!("\r\x1b[K");
    }
    let results = results.into_inner().unwrap_or_default();
    let mut updated = 0usize;
    for (p, r) in plans.iter().zip(results) {
        match r.unwrap_or(Outcome::UpToDate) {
            Outcome::Updated => {
                updated += 1;
                if single {
                    eprintln!("File {} synced with new keys", p.file);
                }
            }
            Outcome::UpToDate => {}
            Outcome::Failed(e) => failed.push((p.file.clone(), e)),
        }
    }
    if !single {
        eprintln!(
            "updatekeys: {updated} updated, {up_to_date} already up to date, {} failed",
            failed.len()
        );
    }
    finish(failed, single)
}

fn finish(mut failed: Vec<(String, Error)>, single: bool) -> Result<i32> {
    if failed.is_empty() {
        return Ok(0);
    }
    if single && failed.len() == 1 {
        if let Some((f, e)) = failed.pop() {
            return Err(e.context(f));
        }
    }
    for (f, e) in &failed {
        eprintln!("error: {f}: {}", super::log::render_error(e));
    }
    Err(Error::generic(format!(
        "{} file(s) failed; the others were updated, the failed ones left untouched",
        failed.len()
    ))
    .hint("fix the errors above and run updatekeys again on those files"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(r: &str) -> KeyRef {
        KeyRef::Age {
            recipient: r.into(),
        }
    }

    #[test]
    fn diffs_by_position_and_identity() {
        let d = diff_groups(
            &[vec![age("a"), age("b")]],
            &[vec![age("b"), age("c")], vec![age("d")]],
        );
        assert_eq!(
            d,
            vec![
                GroupDiff {
                    common: vec!["b".into()],
                    added: vec!["c".into()],
                    removed: vec!["a".into()]
                },
                GroupDiff {
                    common: vec![],
                    added: vec!["d".into()],
                    removed: vec![]
                }
            ]
        );
    }
}
