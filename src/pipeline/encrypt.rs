//! Encrypting: a plaintext file's bytes to an encrypted file, on the format's streaming path
//! when the file allows it (same format out, no integrity field, no comment rule over
//! comments) and on the lossless tree path otherwise. The integrity field is computed over
//! what a reader of the output will parse, and every output is read back before it is returned.

use super::readback::render_checked;
use super::{LayoutOptions, Observer, Output, Sink};
use crate::crypto::data_key::DataKey;
use crate::engine::{self, Context, EncryptOptions};
use crate::error::{Code, Error, Result};
use crate::format::stream::{FastFlat, Streaming};
use crate::format::yaml::FastYaml;
use crate::format::{Edit, EmitOptions, Format, Parsed};
use crate::keys::KeyService;
use crate::metadata::{integrity, Metadata};
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

/// Pieces of about this many source bytes are written and checked one pair at a time (one per
/// thread) when a YAML file is streamed into a [`Sink`]: the output never sits whole in memory.
pub(super) const PIECE: usize = 512 * 1024;

/// [`encrypt`], with the output put into `sink` as it is produced. A big YAML file on the
/// streaming path is sealed, written and checked a piece at a time, and each checked piece goes
/// to `sink` at once (the last one, which carries the `sops:` block, once every leaf is in the
/// MAC); everything else is made whole, checked, and then put.
pub fn encrypt_into(
    data: Vec<u8>,
    req: &Encrypt,
    ctx: &mut Context,
    obs: &dyn Observer,
    sink: &mut dyn Sink,
) -> Result<()> {
    let opts = req.opts;
    let data = if req.inf == Format::Yaml
        && req.outf == Format::Yaml
        && !opts.integrity
        && req.streaming
        && data.len() >= 2 * PIECE
    {
        match FastYaml::scan_bytes(data, false) {
            Ok(doc) => match in_pieces(doc, req, ctx, obs, sink)? {
                Ok(()) => return Ok(()),
                Err(d) => d,
            },
            Err(d) => d,
        }
    } else {
        data
    };
    let out = encrypt(data, req, ctx, obs)?;
    for s in out.slices() {
        sink.put(s)?;
    }
    Ok(())
}

/// What one thread made of one piece: its checked output, or (the last piece) its rendering,
/// which is checked once the metadata is known.
enum Made {
    Checked(crate::format::yaml::Output),
    Last(crate::format::yaml::Rendering),
}

/// The YAML streaming path into `sink`, a pair of pieces at a time. `Ok(Err(data))` gives the
/// input back (nothing put, or all of it taken back) when the file is outside what the path
/// handles.
fn in_pieces(
    doc: FastYaml,
    req: &Encrypt,
    ctx: &mut Context,
    obs: &dyn Observer,
    sink: &mut dyn Sink,
) -> Result<std::result::Result<(), Vec<u8>>> {
    let opts = req.opts;
    if doc.has_comments() && opts.rule.reads_comments() {
        return Ok(Err(doc.into_bytes()));
    }
    engine::check_key_groups(opts)?;
    let data_key = DataKey::generate(&mut ctx.rng);
    // The key backends are asked before the first piece is put: a KMS or recipient that fails
    // must leave stdout empty, as sops (which wraps first) does.
    let key_groups = engine::wrap_for(&data_key, opts, req.keys, ctx)?;
    let mut sealer = engine::LeafSealer::new(
        &data_key,
        &opts.rule,
        opts.mac_only_encrypted,
        opts.cipher,
        ctx,
    )?;
    obs.step(&format!("{}: streaming path", req.inf.name()));
    let make =
        |p: &crate::format::yaml::Piece, sealer: &mut engine::LeafSealer| -> Result<Option<Made>> {
            let r = doc.render_piece(p, &mut |path, aad, s| seal(sealer, path, aad, s))?;
            Ok(match r {
                None => None,
                Some(r) if p.is_last() => Some(Made::Last(r)),
                Some(r) => Some(Made::Checked(doc.finish(r, None)?)),
            })
        };
    let pieces = doc.pieces(PIECE);
    let mut last = None;
    for pair in pieces.chunks(2) {
        // The second piece's MAC input is taken in after the first's: the MAC is the one a
        // single pass computes.
        let mut second = sealer.later(&data_key)?;
        let (a, b) = std::thread::scope(|sc| {
            let h = pair.get(1).map(|p| {
                let second = &mut second;
                sc.spawn(move || make(p, second))
            });
            let a = make(&pair[0], &mut sealer);
            let b = h.map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Error::new(
                        Code::ErrorDumpingTree,
                        "sealing a piece of the file failed",
                    ))
                })
            });
            (a, b)
        });
        sealer.append(second);
        let mut made = vec![a?];
        if let Some(b) = b {
            made.push(b?);
        }
        for made in made {
            match made {
                Some(Made::Checked(out)) => {
                    for s in out.slices() {
                        sink.put(s)?;
                    }
                }
                Some(Made::Last(r)) => last = Some(r),
                // An edit this path cannot write in place: the lossless path does it all.
                None => {
                    if !sink.rewind()? {
                        return Err(cannot_take_back());
                    }
                    return Ok(Err(doc.into_bytes()));
                }
            }
        }
    }
    let Some(last) = last else {
        return Err(cannot_take_back());
    };
    let (lastmodified, mac) = sealer.finish(ctx)?;
    let metadata = engine::metadata_with(key_groups, opts, lastmodified, mac);
    let out = doc.finish(last, Some(&metadata.to_tree(false)))?;
    for s in out.slices() {
        sink.put(s)?;
    }
    obs.step(&format!(
        "{}: encrypted in {} pieces",
        req.inf.name(),
        pieces.len()
    ));
    Ok(Ok(()))
}

fn seal(sealer: &mut engine::LeafSealer, path: &[&str], aad: &str, s: &Scalar) -> Result<Edit> {
    let enc = sealer.selector().seals_uncommented(path, s);
    Ok(match sealer.leaf(path, aad, s, enc, None)? {
        Some(tok) => Edit::Seal(tok),
        None => Edit::Keep,
    })
}

/// Part of the output went to stdout and the rest cannot be made on this path.
fn cannot_take_back() -> Error {
    Error::new(
        Code::ErrorDumpingTree,
        "refusing to continue: part of the output was written to stdout and the rest cannot be made on the streaming path",
    )
    .hint("this is a veil bug; the output on stdout is incomplete; write to a file with --output, or set VEIL_YAML_FAST=0, and please report the file's structure (not its values)")
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
    if doc.has_comments() && opts.rule.reads_comments() {
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
