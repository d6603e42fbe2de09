//! The read-back check before anything is written: an encrypted output is parsed again with
//! its format's reader and must hold exactly the intended leaves and metadata (keys, MAC,
//! `lastmodified`, rule, integrity field), or nothing is returned to be written. Refusing here
//! means a bug in a format module; the original file is untouched.
//!
//! Every command that writes an encrypted file goes through [`render_checked`] (or
//! [`verify_written`] for a file rendered on its own text).

use super::LayoutOptions;
use crate::engine;
use crate::error::{Code, Error, Result};
use crate::format::{Edit, EmitOptions, Format, Parsed};
use crate::metadata::Metadata;
use crate::tree::Value;
use std::borrow::Cow;

/// JSON-like stores write empty key-group lists as `null`.
pub fn meta_tree(meta: &Metadata, outf: Format) -> Value {
    meta.to_tree(matches!(outf, Format::Json | Format::Binary))
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
/// are exactly the leaves of the edits) when `outf` is `target_format`, else in a fresh layout
/// with `layout`'s options for `outf`. The result is read back with the output format's parser
/// and must hold exactly the intended leaves and metadata, or nothing is returned.
pub fn render_checked<'e>(
    target: Option<&dyn Parsed>,
    target_format: Format,
    new_docs: &[Value],
    edits: impl Into<Cow<'e, [Edit]>>,
    meta: &Metadata,
    outf: Format,
    layout: &LayoutOptions,
) -> Result<(Vec<u8>, Layout)> {
    let emit = match target {
        Some(_) if outf == target_format => EmitOptions::default(),
        _ => layout.fresh(outf)?,
    };
    render_checked_with(target, target_format, new_docs, edits, meta, outf, &emit)
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
    let got = check_metadata(back.as_ref(), meta)?;
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

/// Refuse unless the sops metadata `back` reads back is what `meta` meant to write: keys
/// (within a group, in any order of kinds), MAC, `lastmodified`, rule, Shamir threshold,
/// `mac_only_encrypted` and the integrity field. Returns what was read.
pub(crate) fn check_metadata(back: &dyn Parsed, meta: &Metadata) -> Result<Metadata> {
    let got = engine::metadata_of(back)?;
    // A threshold is written only for several groups; with one it means nothing.
    let threshold = |m: &Metadata| (m.key_groups.len() > 1).then_some(m.shamir_threshold);
    if by_kind(&got.key_groups) != by_kind(&meta.key_groups)
        || got.mac != meta.mac
        || got.lastmodified != meta.lastmodified
        || got.rule != meta.rule
        || threshold(&got) != threshold(meta)
        || got.mac_only_encrypted != meta.mac_only_encrypted
        || got.integrity != meta.integrity
    {
        return Err(Error::new(
            Code::ErrorDumpingTree,
            "refusing to write: the output's sops metadata does not read back as intended",
        )
        .hint("this is a veil bug; the original file is untouched; please report the file's format and key types"));
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

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
