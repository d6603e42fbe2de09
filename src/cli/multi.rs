//! Several encrypted files, one result: `decrypt A B …`, `exec-env A B … -- PROG`,
//! `exec-file A B … 'CMD {}'`.
//!
//! Each file is read, opened and verified (MAC, integrity field) exactly as a single file is;
//! then the decrypted trees are merged in the order given: maps are merged key by key, at any
//! depth, and any other value (a string, a number, a list, a map meeting a non-map) from a later
//! file replaces the earlier one whole. `--strict` refuses instead any key path that two files
//! set, naming the path and both files, never a value. Every file is opened before anything
//! leaves veil, so one tampered or unreadable file stops the command before output or a child.
//!
//! All files share one key service with an unwrap cache, so a wrapped data key that several
//! files carry (copies, `encrypt --reuse-from`) is unwrapped once per command.
//!
//! This module must not write anything: the commands emit the merged tree where they emit a
//! single file's.

use super::args::InputArgs;
use super::log::Verbose;
use crate::engine::{self, DecryptOptions};
use crate::error::{Code, Error, Result};
use crate::format::Format;
use crate::keys::KeyService;
use crate::pipeline::{self, Decrypt, LayoutOptions, Observer};
use crate::tree::{Item, Value};
use std::cell::RefCell;

/// What to open and how.
pub struct Request<'a> {
    /// The audited command's name (`decrypt`, `exec-env`, `exec-file`).
    pub command: &'static str,
    pub files: &'a [String],
    /// `--input-type` (for every file) and `--output-type`.
    pub input_type: Option<&'a str>,
    pub output_type: Option<&'a str>,
    pub ignore_mac: bool,
    pub decryption_order: Option<&'a str>,
    pub strict: bool,
}

/// The merged plaintext of several files.
pub struct Merged {
    pub doc: Value,
    /// `--output-type`, else the first file's format.
    pub outf: Format,
    /// Fresh layout options (from `.sops.yaml` stores and `--indent`).
    pub layout: LayoutOptions,
}

/// Open every file of `r` and merge their trees (see the module doc).
pub fn open_merged(r: &Request) -> Result<Merged> {
    let input = || InputArgs {
        input_type: r.input_type.map(str::to_string),
        output_type: r.output_type.map(str::to_string),
        filename_override: None,
    };
    let first = r
        .files
        .first()
        .ok_or_else(|| Error::new(Code::NoFileSpecified, "Error: no file specified"))?;
    let (_, outf) = super::formats(&input(), Some(first.as_str()));
    let order = engine::parse_decryption_order(r.decryption_order)?;
    let ks = KeyService::local().with_unwrap_cache();
    let mut merged: Option<Value> = None;
    let mut owners: Vec<(Vec<String>, usize)> = Vec::new();
    let mut extras: Vec<crate::audit::Access> = Vec::new();
    let mut first_layout = None;
    for (i, name) in r.files.iter().enumerate() {
        let name = name.as_str();
        if name == "-" {
            return Err(Error::new(
                Code::ConflictingParameters,
                "stdin cannot be one of several files",
            )
            .hint("name every file, e.g. `veil decrypt a.enc.yaml b.enc.yaml`"));
        }
        let args = input();
        let (inf, _) = super::formats(&args, Some(name));
        let (layout, require_integrity) = super::layout_and_integrity(&args, Some(name));
        // As with one file: `decrypt` answers a missing file with sops's exit 100, the exec
        // commands (which read an existing file in sops) with 2.
        let data = match r.command {
            "decrypt" => super::io::read_input(Some(name)),
            _ => super::io::read_existing(name, false),
        }
        .map_err(naming(name))?;
        let req = Decrypt {
            name,
            inf,
            outf: inf,
            opts: DecryptOptions {
                ignore_mac: r.ignore_mac,
                decryption_order: order.clone(),
                require_integrity,
            },
            keys: &ks,
            layout: &layout,
            streaming: false,
        };
        // The first file is the audit session's (begun by `cli::run`); the others get entries
        // of their own.
        let extra = Extra::new(r.command, name);
        let inner: &dyn Observer = if i == 0 { &Verbose } else { &extra };
        let watch = super::rotation::Watch::new(inner, name, None);
        let mut dec = pipeline::decrypt_tree(data, &req, &watch).map_err(naming(name))?;
        if i > 0 {
            extras.push(extra.into_access());
        }
        let mut docs = std::mem::take(&mut dec.docs);
        drop(dec);
        if docs.len() != 1 || !matches!(docs[0], Value::Map(_)) {
            return Err(Error::generic(format!(
                "{name}: only a file holding one document with keys at the top can be merged with others"
            ))
            .hint("decrypt that file on its own"));
        }
        let doc = docs.remove(0);
        let leaves = leaf_paths(&doc);
        match merged.as_mut() {
            None => {
                merged = Some(doc);
                first_layout = Some(layout);
            }
            Some(base) => {
                let mut replaced = Vec::new();
                merge(base, doc, &mut Vec::new(), &mut replaced);
                if r.strict {
                    if let Some(p) = replaced.first() {
                        return Err(overlap(p, &owners, r.files, name));
                    }
                }
            }
        }
        owners.extend(leaves.into_iter().map(|p| (p, i)));
    }
    log_extras(&extras)?;
    Ok(Merged {
        doc: merged.unwrap_or(Value::Map(Vec::new())),
        outf,
        layout: first_layout.unwrap_or_else(super::layout),
    })
}

/// An error of one of several files names it (unless its message does already); its code, the
/// sops exit code, is kept.
fn naming(name: &str) -> impl Fn(Error) -> Error + '_ {
    move |mut e| {
        if !e.message.contains(name) {
            e.message = format!("{name}: {}", e.message);
        }
        e
    }
}

/// The `--strict` refusal: the path, the earlier file that set it (or something under it), and
/// the later one. Never a value.
fn overlap(
    path: &[String],
    owners: &[(Vec<String>, usize)],
    files: &[String],
    later: &str,
) -> Error {
    let earlier = owners
        .iter()
        .find(|(p, _)| p.starts_with(path) || path.starts_with(p))
        .and_then(|(_, i)| files.get(*i))
        .map(String::as_str)
        .unwrap_or("an earlier file");
    Error::generic(format!(
        "{} is set by both {earlier} and {later} (--strict)",
        show_path(path)
    ))
    .hint("drop --strict to let the later file win, or remove the key from one of the files")
}

/// A key path as `--extract` takes it: `["db"]["password"]`.
pub fn show_path(path: &[String]) -> String {
    path.iter()
        .map(|k| format!("[{}]", serde_json::Value::String(k.clone())))
        .collect()
}

/// Merge `over` into `base` (see the module doc). `replaced` collects every path where a
/// value of `base` was replaced rather than merged.
pub fn merge(
    base: &mut Value,
    over: Value,
    path: &mut Vec<String>,
    replaced: &mut Vec<Vec<String>>,
) {
    if !(matches!(base, Value::Map(_)) && matches!(over, Value::Map(_))) {
        replaced.push(path.clone());
        *base = over;
        return;
    }
    let (Value::Map(items), Value::Map(over_items)) = (base, over) else {
        return;
    };
    // Comments of the later file go along with the keys they stand before, when those keys
    // are new; before a key that is merged or replaced they are dropped.
    let mut comments = Vec::new();
    for item in over_items {
        match item {
            Item::Comment(c) => comments.push(Item::Comment(c)),
            Item::Entry(k, v) => {
                let at = items.iter_mut().find_map(|i| match i {
                    Item::Entry(bk, bv) if *bk == k => Some(bv),
                    _ => None,
                });
                match at {
                    Some(bv) => {
                        comments.clear();
                        path.push(k);
                        merge(bv, v, path, replaced);
                        path.pop();
                    }
                    None => {
                        items.append(&mut comments);
                        items.push(Item::Entry(k, v));
                    }
                }
            }
        }
    }
    items.append(&mut comments);
}

/// The paths of every value in `doc` that is not a non-empty map.
fn leaf_paths(doc: &Value) -> Vec<Vec<String>> {
    fn walk(v: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            Value::Map(items) if items.iter().any(|i| matches!(i, Item::Entry(..))) => {
                for i in items {
                    if let Item::Entry(k, v) = i {
                        path.push(k.clone());
                        walk(v, path, out);
                        path.pop();
                    }
                }
            }
            _ => out.push(path.clone()),
        }
    }
    let mut out = Vec::new();
    walk(doc, &mut Vec::new(), &mut out);
    out
}

/// The merged tree as a whole file in `outf`, read back before it is returned (as a converted
/// single file is).
pub fn emit(m: &Merged) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    let mut docs = vec![m.doc.clone()];
    if m.outf == Format::Json {
        crate::tree::list_comments_for_json(&mut docs, &|_| false);
    }
    let out =
        zeroize::Zeroizing::new(m.outf.store().emit(&docs, None, &m.layout.fresh(m.outf)?)?);
    let back = m.outf.store().parse(&out)?;
    engine::verify_same_leaves(&docs, back.docs(), false)?;
    Ok(out)
}

/// The observer of a file after the first: `--verbose` lines as usual, and the facts of its
/// own audit entry (the session entry is the first file's).
pub(super) struct Extra {
    access: RefCell<crate::audit::Access>,
    meta: RefCell<Option<Value>>,
}

impl Extra {
    pub(super) fn new(command: &str, name: &str) -> Extra {
        Extra {
            access: RefCell::new(crate::audit::Access {
                command: command.to_string(),
                file: Some(crate::audit::absolute(name)),
                ..Default::default()
            }),
            meta: RefCell::new(None),
        }
    }

    /// The audit entry's facts gathered while the file was opened.
    pub(super) fn into_access(self) -> crate::audit::Access {
        self.access.into_inner()
    }
}

impl Observer for Extra {
    fn step(&self, msg: &str) {
        super::log::step(msg);
    }
    fn unwrapping(&self, metadata: Option<&Value>) {
        super::log::key_sources();
        super::log::file_keys(metadata);
        if let Some(m) = metadata {
            let (mac, lm) = crate::audit::version_of(m);
            let mut a = self.access.borrow_mut();
            a.mac = mac;
            a.lastmodified = lm;
            *self.meta.borrow_mut() = Some(m.clone());
        }
    }
    fn unwrapped_by(&self, keys: &[String]) {
        self.access.borrow_mut().keys = crate::audit::key_uses(self.meta.borrow().as_ref(), keys);
        if !keys.is_empty() {
            super::log::step(format!("data key unwrapped by {}", keys.join(", ")));
        }
    }
}

/// The audit entries of the files after the first, written before any plaintext leaves (in
/// required mode an entry that cannot be written stops the command).
fn log_extras(extras: &[crate::audit::Access]) -> Result<()> {
    if extras.is_empty() {
        return Ok(());
    }
    let conf = || super::check::load_conf().ok().flatten();
    let Some(log) = crate::audit::Log::for_command(conf)? else {
        return Ok(());
    };
    for a in extras {
        log.append(a, crate::audit::Outcome::Ok)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| Item::Entry(k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn later_files_win_and_maps_merge_deeply() {
        let mut base = map(&[
            (
                "db",
                map(&[("host", Value::str("a")), ("port", Value::str("1"))]),
            ),
            ("list", Value::List(vec![Value::str("x"), Value::str("y")])),
            ("only_a", Value::str("a")),
        ]);
        let over = map(&[
            (
                "db",
                map(&[("host", Value::str("b")), ("user", Value::str("u"))]),
            ),
            ("list", Value::List(vec![Value::str("z")])),
            ("only_b", Value::str("b")),
        ]);
        let mut replaced = Vec::new();
        merge(&mut base, over, &mut Vec::new(), &mut replaced);
        let want = map(&[
            (
                "db",
                map(&[
                    ("host", Value::str("b")),
                    ("port", Value::str("1")),
                    ("user", Value::str("u")),
                ]),
            ),
            ("list", Value::List(vec![Value::str("z")])),
            ("only_a", Value::str("a")),
            ("only_b", Value::str("b")),
        ]);
        assert_eq!(base, want);
        assert_eq!(
            replaced,
            vec![
                vec!["db".to_string(), "host".to_string()],
                vec!["list".to_string()]
            ]
        );
    }

    #[test]
    fn a_map_meeting_a_scalar_is_replaced_whole() {
        let mut base = map(&[("db", map(&[("host", Value::str("a"))]))]);
        let mut replaced = Vec::new();
        merge(
            &mut base,
            map(&[("db", Value::str("flat"))]),
            &mut Vec::new(),
            &mut replaced,
        );
        assert_eq!(base, map(&[("db", Value::str("flat"))]));
        assert_eq!(replaced, vec![vec!["db".to_string()]]);
        assert_eq!(show_path(&replaced[0]), r#"["db"]"#);
    }
}
