//! What every command that changes an encrypted file shares (edit, set, unset, rotate,
//! updatekeys, groups, `encrypt --reuse-from`): open and decrypt the file, render the changed
//! file, read it back and refuse to write anything that does not hold exactly the intended leaves
//! and metadata, then write atomically.
//!
//! It exists so that each command is a small change to a decrypted tree, and so that the
//! re-encryption primitive — "seal this plaintext against that encrypted file" — is one code
//! path with one safety check. It must never print a value, and never write a file that was not
//! read back and verified first.

use super::args::{InputArgs, OutputArgs};
use crate::engine::{self, Context, DecryptOptions, Decrypted};
use crate::error::{Code, Error, Result};
use crate::format::{Edit, EmitOptions, Format, Parsed};
use crate::keys::KeyService;
use crate::metadata::Metadata;
use crate::tree::Value;
use std::borrow::Cow;

/// An encrypted file, parsed losslessly and decrypted.
pub struct Opened {
    /// The encrypted file as read.
    pub src: Vec<u8>,
    /// The file's formats (input from the flag or extension, output likewise).
    pub inf: Format,
    pub outf: Format,
    /// The lossless parse of the encrypted file.
    pub parsed: Box<dyn Parsed>,
    /// Its opened documents, data key, metadata and IV stash.
    pub dec: Decrypted,
}

/// Read, parse and decrypt `file`.
pub fn open(
    input: &InputArgs,
    file: &str,
    ignore_mac: bool,
    decryption_order: Option<&str>,
    keys: &KeyService,
) -> Result<Opened> {
    let (inf, outf) = super::formats(input, Some(file));
    let order = engine::parse_decryption_order(decryption_order)?;
    let src = super::io::read_existing(file, true)?;
    let parsed = inf
        .store()
        .parse_encrypted(&src)
        .map_err(super::load_error)?;
    let dec = engine::decrypt(
        parsed.as_ref(),
        &DecryptOptions {
            ignore_mac,
            decryption_order: order,
            require_integrity: super::integrity_required(input, Some(file)),
        },
        keys,
    )?;
    Ok(Opened {
        src,
        inf,
        outf,
        parsed,
        dec,
    })
}

/// Read and parse an encrypted file without decrypting it (updatekeys, groups).
pub fn parse_only(input: &InputArgs, file: &str) -> Result<(Format, Format, Box<dyn Parsed>)> {
    let (inf, outf) = super::formats(input, Some(file));
    let data = super::io::read_existing(file, false)?;
    let parsed = inf
        .store()
        .parse_encrypted(&data)
        .map_err(super::load_error)?;
    Ok((inf, outf, parsed))
}

/// JSON-like stores write empty key-group lists as `null`.
pub fn meta_tree(meta: &Metadata, outf: Format) -> Value {
    meta.to_tree(matches!(outf, Format::Json | Format::Binary))
}

/// The layout options for fresh output (`.sops.yaml` `stores`), when a config is found; a config
/// that cannot be read gives sops's defaults here (the command that needs the config reports it).
pub fn emit_options(outf: Format) -> EmitOptions {
    let explicit = super::explicit_config();
    let Ok(cwd) = std::env::current_dir() else {
        return EmitOptions::default();
    };
    let conf = match crate::config::load_config(explicit.as_deref(), &cwd) {
        Ok((c, _)) => c,
        _ => None,
    };
    super::stores_emit_options(conf.as_ref(), outf).unwrap_or_default()
}

/// The indentation a file uses, so that a fresh layout of it looks like it: YAML's indent of
/// the first nested line, JSON's unit (tab → `None`). `None` for YAML/JSON means "unknown".
pub fn infer_indent(src: &[u8], format: Format) -> Option<EmitOptions> {
    let text = std::str::from_utf8(src).ok()?;
    let mut prev_opens = false;
    for line in text.lines() {
        let trimmed = line.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let lead = &line[..line.len() - trimmed.len()];
        match format {
            Format::Json if !lead.is_empty() => {
                return Some(EmitOptions {
                    indent: if lead.starts_with('\t') {
                        None
                    } else {
                        Some(lead.len())
                    },
                });
            }
            Format::Yaml if prev_opens && !lead.is_empty() && !lead.contains('\t') => {
                return Some(EmitOptions {
                    indent: Some(lead.len()),
                });
            }
            _ => {}
        }
        prev_opens = trimmed.trim_end().ends_with(':');
    }
    None
}

/// How a changed file was laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The source's own text, with only changed leaves and the metadata replaced.
    Lossless,
    /// A fresh layout in the output format (a structural change, or a format conversion).
    Fresh,
}

/// Render `new_docs` sealed by `edits` with `meta`: on `target` (a lossless parse whose leaves
/// are exactly the leaves of the edits) when `outf` is `target_format`, else in a fresh layout.
/// The result is read back with the output format's parser and must hold exactly the intended
/// leaves and metadata, or nothing is returned.
pub fn render_checked<'e>(
    target: Option<&dyn Parsed>,
    target_format: Format,
    new_docs: &[Value],
    edits: impl Into<Cow<'e, [Edit]>>,
    meta: &Metadata,
    outf: Format,
) -> Result<(Vec<u8>, Layout)> {
    render_checked_with(
        target,
        target_format,
        new_docs,
        edits,
        meta,
        outf,
        &emit_options(outf),
    )
}

/// [`render_checked`] with explicit options for a fresh layout. Edits given by value are
/// dropped once rendered: the read-back check compares against prints taken before (see
/// `engine::LeafPrint`), so a big sealed value is not held three times during the check.
pub fn render_checked_with<'e>(
    target: Option<&dyn Parsed>,
    target_format: Format,
    new_docs: &[Value],
    edits: impl Into<Cow<'e, [Edit]>>,
    meta: &Metadata,
    outf: Format,
    emit: &EmitOptions,
) -> Result<(Vec<u8>, Layout)> {
    let edits = edits.into();
    let strict = outf == target_format;
    let expected = engine::leaf_prints(new_docs, Some(&edits), strict);
    let manifest = expected_manifest(new_docs, &edits, meta);
    let tree = meta_tree(meta, outf);
    let (out, layout) = match target {
        Some(t) if strict => (t.render(&edits, Some(&tree))?, Layout::Lossless),
        _ => {
            let docs = engine::apply_edits(new_docs, &edits);
            let out = outf.store().emit(&docs, Some(&tree), emit)?;
            (out, Layout::Fresh)
        }
    };
    drop(edits);
    check_written(&out, &expected, manifest.as_deref(), meta, outf, strict)?;
    Ok((out, layout))
}

/// A group's keys in the order the metadata reader yields them: grouped by kind (in the
/// on-disk list order), file order within a kind. The on-disk form keeps only that order, so a
/// key added after keys of a later-listed kind (`rotate --add-kms` on an age file) reads back
/// elsewhere in its group without anything being lost.
fn by_kind(groups: &[Vec<crate::keys::WrappedKey>]) -> Vec<Vec<&crate::keys::WrappedKey>> {
    let order: Vec<&str> = crate::keys::kind::in_file_order()
        .map(|k| k.name())
        .collect();
    groups
        .iter()
        .map(|g| {
            let mut v: Vec<&crate::keys::WrappedKey> = g.iter().collect();
            v.sort_by_key(|k| {
                order
                    .iter()
                    .position(|o| *o == k.key.kind())
                    .unwrap_or(order.len())
            });
            v
        })
        .collect()
}

/// Read `out` back as an encrypted `outf` file: the same leaves as `new_docs` sealed by
/// `edits`, and the same keys, MAC and `lastmodified` as `meta`.
pub fn verify_written(
    out: &[u8],
    new_docs: &[Value],
    edits: &[Edit],
    meta: &Metadata,
    outf: Format,
    strict: bool,
) -> Result<()> {
    let expected = engine::leaf_prints(new_docs, Some(edits), strict);
    let manifest = expected_manifest(new_docs, edits, meta);
    check_written(out, &expected, manifest.as_deref(), meta, outf, strict)
}

/// What the integrity field of `meta` (when it has one) authenticates for the documents
/// `new_docs` sealed by `edits`: built only for such files, since it copies the documents.
fn expected_manifest(new_docs: &[Value], edits: &[Edit], meta: &Metadata) -> Option<Vec<u8>> {
    meta.integrity
        .is_some()
        .then(|| crate::metadata::integrity::manifest(&engine::apply_edits(new_docs, edits), meta))
}

/// [`verify_written`] against leaf prints (and, for a file with an integrity field, the
/// manifest it authenticates) taken before rendering.
fn check_written(
    out: &[u8],
    expected: &[engine::LeafPrint],
    expected_manifest: Option<&[u8]>,
    meta: &Metadata,
    outf: Format,
    strict: bool,
) -> Result<()> {
    let back = outf.store().parse_encrypted(out)?;
    engine::verify_prints(expected, &engine::leaf_prints(back.docs(), None, strict))?;
    let got = engine::metadata_of(back.as_ref())?;
    if by_kind(&got.key_groups) != by_kind(&meta.key_groups)
        || got.mac != meta.mac
        || got.lastmodified != meta.lastmodified
        || got.rule != meta.rule
        || got.integrity != meta.integrity
    {
        return Err(Error::new(
            Code::ErrorDumpingTree,
            "refusing to write: the output's sops metadata does not read back as intended",
        )
        .hint("this is a veil bug; the original file is untouched; please report the file's format and key types"));
    }
    // The integrity field was computed over `expected`: a reader must see exactly that.
    use crate::metadata::integrity::manifest;
    if let Some(want) = expected_manifest {
        if manifest(back.docs(), &got) != want {
            return Err(Error::new(
            Code::ErrorDumpingTree,
            "refusing to write: the output does not read back as what its veil_integrity field authenticates",
        )
        .hint("writing a file that has veil_integrity in another format can drop comments: keep its format, or decrypt it and encrypt it again; the original file is untouched"));
        }
    }
    Ok(())
}

/// Re-encrypt changed plaintext documents against an opened file, where `new_docs` has the
/// same shape as the file: the encrypted file's own text is kept and only changed leaves,
/// `mac` and `lastmodified` change. Used by `set` of an existing scalar and by `rotate`.
pub fn render_same_shape(
    o: &Opened,
    new_docs: &[Value],
    edits: Vec<Edit>,
    meta: &Metadata,
) -> Result<Vec<u8>> {
    let edits = engine::edits_for_source(o.parsed.docs(), new_docs, edits);
    let (out, _) = render_checked(
        Some(o.parsed.as_ref()),
        o.inf,
        new_docs,
        edits,
        meta,
        o.outf,
    )?;
    Ok(out)
}

/// Re-encrypt changed documents whose shape differs from the file's (keys added or removed)
/// by editing the file's own text, where its format can (YAML): only the lines of what
/// changed, `mac` and `lastmodified` change. `None` when it cannot; the caller then lays the
/// file out afresh.
pub fn render_in_place(
    o: &Opened,
    new_docs: &[Value],
    edits: &[Edit],
    meta: &Metadata,
) -> Result<Option<Vec<u8>>> {
    if o.outf != o.inf {
        return Ok(None);
    }
    let sealed = engine::apply_edits(new_docs, edits);
    let tree = meta_tree(meta, o.outf);
    let Some(out) = o.parsed.render_tree(&sealed, Some(&tree))? else {
        return Ok(None);
    };
    verify_written(&out, new_docs, edits, meta, o.outf, true)?;
    Ok(Some(out))
}

/// `veil encrypt --reuse-from OLD [FILE]`: encrypt a plaintext working copy with OLD's data
/// key, keys and rules, so every value that is unchanged relative to OLD keeps its exact
/// ciphertext. The result is written like `encrypt`'s (stdout, `-i`, `--output`).
pub fn reuse_from(
    input: &InputArgs,
    output: &OutputArgs,
    old: &str,
    ignore_mac: bool,
    file: Option<&str>,
) -> Result<i32> {
    let reading_stdin = matches!(file, None | Some("-"));
    if reading_stdin && input.filename_override.is_none() && input.input_type.is_none() {
        return Err(Error::new(
            Code::ConflictingParameters,
            "Error: when reading from stdin, --filename-override or --input-type is required",
        )
        .hint("e.g. `veil encrypt --reuse-from secrets.enc.yaml --filename-override secrets.yaml < plain.yaml`"));
    }
    let ks = KeyService::local();
    // The old file's format comes from its own name (or --input-type).
    let old_input = InputArgs {
        input_type: input.input_type.clone(),
        output_type: None,
        filename_override: None,
    };
    let o = open(&old_input, old, ignore_mac, None, &ks)?;
    let (inf, outf) = super::formats(input, file);
    let data = zeroize::Zeroizing::new(super::io::read_input(file)?);
    let parsed = inf.store().parse(&data)?;
    if parsed.metadata().is_some() {
        return Err(Error::new(
            Code::FileAlreadyEncrypted,
            crate::engine::FILE_ALREADY_ENCRYPTED,
        )
        .hint("--reuse-from takes a plaintext file; decrypt it first"));
    }
    let mut docs = parsed.docs().to_vec();
    engine::keep_stored_numbers(&mut docs, &o.dec.docs);
    let mut stash = o.dec.stash;
    let mut ctx = Context::system();
    let r = engine::reseal(
        &docs,
        &o.dec.metadata,
        &o.dec.data_key,
        &mut stash,
        &mut ctx,
    )?;
    let (out, _) = render_checked(
        Some(parsed.as_ref()),
        inf,
        &docs,
        &r.edits,
        &r.metadata,
        outf,
    )?;
    super::io::emit_output(file, output.in_place, output.output.as_deref(), &out)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indentation_is_inferred() {
        let y = b"# c\na:\n   b: 1\n";
        assert_eq!(infer_indent(y, Format::Yaml).unwrap().indent, Some(3));
        let y = b"a: 1\nl:\n  - x\n";
        assert_eq!(infer_indent(y, Format::Yaml).unwrap().indent, Some(2));
        assert!(infer_indent(b"a: 1\n", Format::Yaml).is_none());
        let j = b"{\n\t\"a\": 1\n}\n";
        assert_eq!(infer_indent(j, Format::Json).unwrap().indent, None);
        let j = b"{\n  \"a\": 1\n}\n";
        assert_eq!(infer_indent(j, Format::Json).unwrap().indent, Some(2));
        assert!(infer_indent(b"{\"a\": 1}", Format::Json).is_none());
    }

    #[test]
    fn meta_tree_uses_null_for_json() {
        let m = Metadata {
            key_groups: vec![vec![], vec![]],
            shamir_threshold: 2,
            ..Metadata::default()
        };
        let j = meta_tree(&m, Format::Json);
        let y = meta_tree(&m, Format::Yaml);
        assert_ne!(j, y, "json writes null where yaml writes []");
    }
}
