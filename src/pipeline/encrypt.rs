//! Encrypting: a plaintext file's bytes to an encrypted file, on the format's streaming path
//! when the file allows it (same format out, no integrity field, no comment rule over
//! comments) and on the lossless tree path otherwise. The integrity field is computed over
//! what a reader of the output will parse, and every output is read back before it is returned.

use super::readback::render_checked;
use super::{LayoutOptions, Observer, Output};
use crate::crypto::data_key::DataKey;
use crate::engine::{self, Context, EncryptOptions};
use crate::error::{Code, Error, Result};
use crate::format::stream::{FastFlat, Streaming};
use crate::format::yaml::FastYaml;
use crate::format::{Edit, EmitOptions, Format, Parsed};
use crate::keys::KeyService;
use crate::metadata::{integrity, Metadata, Rule};
use crate::tree::Scalar;

/// What to encrypt with and how to write it.
pub struct Encrypt<'a> {
    pub inf: Format,
    pub outf: Format,
    pub opts: &'a EncryptOptions,
    pub keys: &'a KeyService,
    /// The layout of a converted output.
    pub emit: &'a EmitOptions,
    /// Try the streaming path (`crate::env::streaming` for the format, usually).
    pub streaming: bool,
}

/// Encrypt `data` (a plaintext file in `req.inf`) to an encrypted file in `req.outf`.
pub fn encrypt(
    data: Vec<u8>,
    req: &Encrypt,
    ctx: &mut Context,
    obs: &dyn Observer,
) -> Result<Output> {
    let (inf, outf, opts) = (req.inf, req.outf, req.opts);
    // The integrity field covers the whole tree, which only the lossless path builds.
    let data = if inf == outf && !opts.integrity && req.streaming {
        let attempt = if inf == Format::Yaml {
            match FastYaml::scan_bytes(data, false) {
                Ok(doc) => streaming(doc, req, ctx, obs)?.map(|o| Output::Parts(Box::new(o))),
                Err(d) => Err(d),
            }
        } else {
            match FastFlat::scan(inf, data, false) {
                Ok(doc) => streaming(doc, req, ctx, obs)?.map(|o| Output::Parts(Box::new(o))),
                Err(d) => Err(d),
            }
        };
        match attempt {
            Ok(out) => return Ok(out),
            Err(data) => data,
        }
    } else {
        data
    };
    let parsed = inf.store().parse(&data).map_err(|e| match e.code {
        // sops's words for a file with nothing to encrypt.
        Code::NeedAtLeastOneDocument => Error {
            message: "File cannot be completely empty, it must contain at least one document"
                .into(),
            ..e
        },
        _ => e,
    })?;
    // The parsed document keeps its own copy of the text.
    drop(data);
    let enc = engine::encrypt(parsed.as_ref(), opts, req.keys, ctx)?;
    let json_like = matches!(outf, Format::Json | Format::Binary);
    let render = |metadata: &Metadata| -> Result<Vec<u8>> {
        let meta = metadata.to_tree(json_like);
        if outf == inf {
            // The store's render checks its own output with an independent parser.
            return parsed.render(&enc.edits, Some(&meta));
        }
        // A conversion writes a fresh layout: read it back with veil's own reader and refuse
        // to write a file whose leaves are not exactly the intended ones.
        let mut docs = engine::apply_edits(parsed.docs(), &enc.edits);
        if outf == Format::Json {
            crate::tree::list_comments_for_json(&mut docs, &|i| {
                matches!(enc.edits.get(i), Some(crate::format::Edit::Seal(_)))
            });
        }
        let out = outf.store().emit(&docs, Some(&meta), req.emit)?;
        let back = outf.store().parse_encrypted(&out)?;
        engine::verify_same_leaves(&docs, back.docs(), false)?;
        super::readback::check_metadata(back.as_ref(), metadata)?;
        Ok(out)
    };
    let mut metadata = enc.metadata.clone();
    let mut out = render(&metadata)?;
    if let Some(k) = &enc.integrity_key {
        if outf != inf {
            // Another format's reader sees another tree (JSON holds no comments): the tag
            // covers what it will read.
            let back = outf.store().parse_encrypted(&out)?;
            metadata.integrity = Some(integrity::seal(k, back.docs(), &metadata));
            out = render(&metadata)?;
        }
        // What a reader parses back must verify, or nothing is written.
        let back = outf.store().parse_encrypted(&out)?;
        let got = engine::metadata_of(back.as_ref())?;
        integrity::check(k, back.docs(), &got, true).map_err(|e| {
            Error::new(
                Code::ErrorDumpingTree,
                format!("refusing to write: the output does not verify ({})", e.message),
            )
            .hint("this is a veil bug; nothing was written; please report the file's format and structure (not its values)")
        })?;
    }
    Ok(Output::Bytes(out))
}

/// Encrypt a parsed plaintext document (`edit` of a new file) into `outf`, read back before it
/// is returned.
pub fn encrypt_parsed(
    parsed: &dyn Parsed,
    inf: Format,
    outf: Format,
    opts: &EncryptOptions,
    keys: &KeyService,
    ctx: &mut Context,
    layout: &LayoutOptions,
) -> Result<Vec<u8>> {
    let enc = engine::encrypt(parsed, opts, keys, ctx)?;
    let (out, _) = render_checked(
        Some(parsed),
        inf,
        parsed.docs(),
        &enc.edits,
        &enc.metadata,
        outf,
        layout,
    )?;
    Ok(out)
}

/// Encrypt a file on its format's streaming path (`format::yaml::fast`, `format::stream`): no
/// tree, the output checked by re-parsing it. `Ok(Err(data))` gives the input back when the
/// file is outside what that path handles; the lossless path then does the whole job.
fn streaming<D: Streaming>(
    doc: D,
    req: &Encrypt,
    ctx: &mut Context,
    obs: &dyn Observer,
) -> Result<std::result::Result<D::Output, Vec<u8>>> {
    let opts = req.opts;
    // Comment-regex rules depend on sops's comment stack, which only the tree path keeps.
    if doc.has_comments()
        && matches!(
            opts.rule,
            Rule::UnencryptedCommentRegex(_) | Rule::EncryptedCommentRegex(_)
        )
    {
        return Ok(Err(doc.into_bytes()));
    }
    engine::check_key_groups(opts)?;
    let data_key = DataKey::generate(&mut ctx.rng);
    let mut sealer = engine::LeafSealer::new(
        &data_key,
        &opts.rule,
        opts.mac_only_encrypted,
        opts.cipher,
        ctx,
    )?;
    // A big file is sealed on two threads; the second half's MAC input is taken in after the
    // first half's, so the MAC is the one a single pass computes.
    let mut second = sealer.later(&data_key)?;
    fn seal(sealer: &mut engine::LeafSealer, path: &[&str], aad: &str, s: &Scalar) -> Result<Edit> {
        let enc = sealer.selector().seals_uncommented(path, s);
        Ok(match sealer.leaf(path, aad, s, enc, None)? {
            Some(tok) => Edit::Seal(tok),
            None => Edit::Keep,
        })
    }
    let rendered = doc.render_leaves_split(
        &mut |path, aad, s| seal(&mut sealer, path, aad, s),
        &mut |path, aad, s| seal(&mut second, path, aad, s),
    )?;
    let Some(rendered) = rendered else {
        return Ok(Err(doc.into_bytes()));
    };
    sealer.append(second);
    obs.step(&format!("{}: streaming path", req.inf.name()));
    let (lastmodified, mac) = sealer.finish(ctx)?;
    let metadata = engine::new_metadata(&data_key, opts, req.keys, ctx, lastmodified, mac)?;
    let meta = metadata.to_tree(false);
    Ok(Ok(doc.finish(rendered, Some(&meta))?))
}
