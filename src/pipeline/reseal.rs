//! Changing an encrypted file (set, unset, edit, rotate, updatekeys, publish, the merge driver,
//! `encrypt --reuse-from`): the changed plaintext is sealed again against the file
//! (`engine::reseal`), then rendered on the file's own text where it can, so that only the
//! lines of what changed, `mac` and `lastmodified` differ, and read back before it may be
//! written.

use super::readback::{meta_tree, render_checked, verify_written};
use super::{LayoutOptions, Opened};
use crate::crypto::data_key::DataKey;
use crate::engine::{self, Context, EncryptOptions, IvStash};
use crate::error::{Code, Error, Result};
use crate::format::{Edit, Format};
use crate::keys::KeyService;
use crate::metadata::Metadata;
use crate::tree::Value;

/// Re-encrypt changed plaintext documents against an opened file, where `new_docs` has the
/// same shape as the file: the encrypted file's own text is kept and only changed leaves,
/// `mac` and `lastmodified` change (a conversion is laid out with `layout`). Used by `set` of an
/// existing scalar and by `rotate`.
pub fn render_same_shape(
    o: &Opened,
    new_docs: &[Value],
    edits: Vec<Edit>,
    meta: &Metadata,
    layout: &LayoutOptions,
) -> Result<Vec<u8>> {
    let edits = engine::edits_for_source(o.parsed.docs(), new_docs, edits);
    let (out, _) = render_checked(
        Some(o.parsed.as_ref()),
        o.inf,
        new_docs,
        edits,
        meta,
        o.outf,
        layout,
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

/// `encrypt --reuse-from OLD`: encrypt the plaintext `data` (in `inf`, written as `outf`) with
/// the opened OLD file's data key, keys and rules, so every value that is unchanged relative to
/// OLD keeps its exact ciphertext.
pub fn reuse_from(
    old: Opened,
    data: &[u8],
    inf: Format,
    outf: Format,
    layout: &LayoutOptions,
) -> Result<Vec<u8>> {
    let parsed = inf.store().parse(data)?;
    if parsed.metadata().is_some() {
        return Err(Error::new(
            Code::FileAlreadyEncrypted,
            crate::engine::FILE_ALREADY_ENCRYPTED,
        )
        .hint("--reuse-from takes a plaintext file; decrypt it first"));
    }
    let mut docs = parsed.docs().to_vec();
    engine::keep_stored_numbers(&mut docs, &old.dec.docs);
    let mut stash = old.dec.stash;
    let mut ctx = Context::system();
    let r = engine::reseal(
        &docs,
        &old.dec.metadata,
        &old.dec.data_key,
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
        layout,
    )?;
    Ok(out)
}

/// An opened file encrypted again from scratch (`publish`): a new data key for `opts`'s key
/// groups, every value sealed again with `opts`'s rule and cipher, rendered on the file's own
/// text where its format allows.
pub fn reencrypt(
    o: &Opened,
    opts: &EncryptOptions,
    keys: &KeyService,
    ctx: &mut Context,
    layout: &LayoutOptions,
) -> Result<Vec<u8>> {
    engine::check_key_groups(opts)?;
    let key = DataKey::generate(&mut ctx.rng);
    let sealed = engine::seal_leaves(
        &o.dec.docs,
        &opts.rule,
        opts.mac_only_encrypted,
        opts.cipher,
        &key,
        &mut IvStash::default(),
        ctx,
    )?;
    let meta = engine::new_metadata(&key, opts, keys, ctx, sealed.lastmodified, sealed.mac)?;
    render_same_shape(o, &o.dec.docs, sealed.edits, &meta, layout)
}
