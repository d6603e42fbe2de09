//! Decrypting: a file's bytes to plaintext output, on the format's streaming path when the
//! file allows it (same format out, no `--extract`, no integrity field, no comment rule) and
//! on the lossless tree path otherwise; a conversion is read back before it is returned. Also
//! [`open`], the first step of every command that changes an encrypted file.

use super::{LayoutOptions, Observer, Output, Sink};
use crate::engine::{self, DecryptOptions, Decrypted};
use crate::error::{Code, Error, Result};
use crate::format::stream::{FastFlat, Streaming};
use crate::format::yaml::FastYaml;
use crate::format::{Edit, Format, Parsed};
use crate::keys::KeyService;
use crate::metadata::Metadata;
use crate::tree::{Scalar, Value};

/// What to decrypt and how.
pub struct Decrypt<'a> {
    /// The file's name for log lines (`stdin` when read from there).
    pub name: &'a str,
    pub inf: Format,
    pub outf: Format,
    pub opts: DecryptOptions,
    pub keys: &'a KeyService,
    /// Fresh layouts (a conversion, `--extract`).
    pub layout: &'a LayoutOptions,
    /// Try the streaming path (`crate::env::streaming` for the format, usually).
    pub streaming: bool,
}

/// Decrypt `data` (an encrypted file in `req.inf`) to plaintext in `req.outf`.
pub fn decrypt(data: Vec<u8>, req: &Decrypt, obs: &dyn Observer) -> Result<Output> {
    decrypt_known(data, req, obs, None)
}

/// [`decrypt`]; with `known` (the data key a streaming attempt already unwrapped from this
/// file, and the keys that did it) straight to the lossless path without unwrapping again.
fn decrypt_known(
    data: Vec<u8>,
    req: &Decrypt,
    obs: &dyn Observer,
    known: Option<Known>,
) -> Result<Output> {
    let (inf, outf) = (req.inf, req.outf);
    // The integrity field covers the whole tree, which only the lossless path builds.
    let data = if inf == outf && !req.opts.require_integrity && req.streaming && known.is_none() {
        let attempt = if inf == Format::Yaml {
            match FastYaml::scan_bytes(data, true) {
                Ok(doc) => streaming(doc, req, obs)?.map(|o| Output::Parts(Box::new(o))),
                Err(d) => Err(d),
            }
        } else {
            match FastFlat::scan(inf, data, true) {
                Ok(doc) => streaming(doc, req, obs)?.map(|o| Output::Parts(Box::new(o))),
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
    let (parsed, mut dec) = lossless(data, req, outf != inf, obs, known)?;
    let opens_a_comment = || {
        dec.edits
            .iter()
            .any(|e| matches!(e, Edit::Open(s) if s.is_comment()))
    };
    if outf == inf && !(outf == Format::Json && opens_a_comment()) {
        return Ok(Output::Bytes(parsed.render(&dec.edits, None)?));
    }
    if outf == Format::Json {
        // sops's JSON store leaves comments out of arrays; a JSON file holds one only as a
        // sealed list item, and is then written afresh without it, as sops does.
        if inf == Format::Json {
            dec.docs = engine::apply_edits(parsed.docs(), &dec.edits);
        }
        crate::tree::list_comments_for_json(&mut dec.docs, &|_| false);
    }
    // A conversion: the plaintext must read back as the decrypted data before it is written
    // anywhere.
    let out = outf
        .store()
        .emit(&dec.docs, None, &req.layout.fresh(outf)?)?;
    let back = outf.store().parse(&out)?;
    engine::verify_same_leaves(&dec.docs, back.docs(), false)?;
    Ok(Output::Bytes(out))
}

/// [`decrypt`], with the plaintext put into `sink` as it is produced. A big YAML file on the
/// streaming path is opened, written and checked a piece at a time, each checked piece put at
/// once, and the MAC verified after the last: the caller must release nothing `sink` holds
/// before this returns `Ok` (`cli::io`'s sink holds stdout output and writes a file to a
/// private temp file renamed only on commit). Everything else is made whole, then put.
pub fn decrypt_into(
    data: Vec<u8>,
    req: &Decrypt,
    obs: &dyn Observer,
    sink: &mut dyn Sink,
) -> Result<()> {
    let data = if req.inf == Format::Yaml
        && req.outf == Format::Yaml
        && !req.opts.require_integrity
        && req.streaming
        && data.len() >= 2 * super::encrypt::PIECE
    {
        match FastYaml::scan_bytes(data, true) {
            Ok(doc) => match in_pieces(doc, req, obs, sink)? {
                Ok(()) => return Ok(()),
                Err(back) => back,
            },
            Err(d) => (d, None),
        }
    } else {
        (data, None)
    };
    let (data, known) = data;
    let out = decrypt_known(data, req, obs, known)?;
    for s in out.slices() {
        sink.put(s)?;
    }
    Ok(())
}

/// The YAML streaming path into `sink`, a pair of pieces at a time (one per thread); the MAC
/// is checked once every leaf is in. `Ok(Err(data))` gives the input back, with everything
/// put taken back, when the file or one of its opened values is outside what the path handles
/// (with the data key when it was unwrapped, for the lossless path to use).
fn in_pieces(
    doc: FastYaml,
    req: &Decrypt,
    obs: &dyn Observer,
    sink: &mut dyn Sink,
) -> Result<std::result::Result<(), Back>> {
    let Some((metadata, data_key, by)) = prepare(&doc, req, obs)? else {
        return Ok(Err((doc.into_bytes(), None)));
    };
    let mut opener = engine::LeafOpener::new(&data_key, &metadata, req.opts.ignore_mac)?;
    let make = |p: &crate::format::yaml::Piece,
                opener: &mut engine::LeafOpener|
     -> Result<Option<crate::format::yaml::Output>> {
        match doc.render_piece(p, &mut |path, aad, s| open_leaf(opener, path, aad, s))? {
            Some(r) => Ok(Some(doc.finish(r, None)?)),
            None => Ok(None),
        }
    };
    let pieces = doc.pieces(super::encrypt::PIECE);
    for pair in pieces.chunks(2) {
        // The second piece's MAC input is taken in after the first's.
        let mut second = opener.later(&data_key);
        let (a, b) = std::thread::scope(|sc| {
            let h = pair.get(1).map(|p| {
                let second = &mut second;
                sc.spawn(move || make(p, second))
            });
            let a = make(&pair[0], &mut opener);
            let b = h.map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Error::new(
                        Code::ErrorDumpingTree,
                        "opening a piece of the file failed",
                    ))
                })
            });
            (a, b)
        });
        opener.append(second);
        let mut made = vec![a?];
        if let Some(b) = b {
            made.push(b?);
        }
        for out in made {
            let Some(out) = out else {
                // An opened value this path cannot write in place: the lossless path does it
                // all (nothing put has been released).
                if !sink.rewind()? {
                    return Err(Error::new(
                        Code::ErrorDumpingTree,
                        "refusing to continue: the plaintext cannot be taken back",
                    ));
                }
                drop(opener);
                return Ok(Err((doc.into_bytes(), Some((data_key, by)))));
            };
            for s in out.slices() {
                sink.put(s)?;
            }
        }
    }
    opener.finish(&metadata)?;
    obs.step(&format!("decrypted in {} pieces", pieces.len()));
    Ok(Ok(()))
}

/// Decrypt `data` on the lossless path to its opened documents (for `--extract`).
pub fn decrypt_tree(data: Vec<u8>, req: &Decrypt, obs: &dyn Observer) -> Result<Decrypted> {
    Ok(lossless(data, req, true, obs, None)?.1)
}

/// One value of a decrypted file (`--extract`) as plaintext in `outf`.
pub fn emit_value(v: &Value, outf: Format, layout: &LayoutOptions) -> Result<Vec<u8>> {
    if outf == Format::Json && matches!(v, Value::List(_) | Value::Map(_)) {
        // As a whole file converted to JSON: no comments in arrays.
        let mut v = [v.clone()];
        crate::tree::list_comments_for_json(&mut v, &|_| false);
        return outf.store().emit_value(&v[0], &layout.fresh(outf)?);
    }
    outf.store().emit_value(v, &layout.fresh(outf)?)
}

/// A data key unwrapped from a file's metadata, and the keys that unwrapped it.
type Known = (crate::crypto::data_key::DataKey, Vec<String>);

/// The input given back by the pieces path, with the data key when it was unwrapped.
type Back = (Vec<u8>, Option<Known>);

fn lossless(
    data: Vec<u8>,
    req: &Decrypt,
    docs: bool,
    obs: &dyn Observer,
    known: Option<Known>,
) -> Result<(Box<dyn Parsed>, Decrypted)> {
    let parsed = req.inf.store().parse_encrypted(&data).map_err(load_error)?;
    // The parsed document keeps its own copy of the text.
    drop(data);
    obs.step(&format!(
        "decrypt {} as {:?}, output {:?}",
        req.name, req.inf, req.outf
    ));
    // A key already unwrapped (by the streaming attempt) was reported then.
    let report = known.is_none();
    if report {
        obs.unwrapping(parsed.metadata());
    }
    // Writing the same format needs only the edits: skip the opened tree (and never build
    // the IV stash, which only re-encrypting commands use).
    let want = engine::Want { docs, stash: false };
    let dec = engine::decrypt_known(parsed.as_ref(), &req.opts, req.keys, want, known)?;
    if report {
        obs.unwrapped_by(&dec.unwrapped_by);
    }
    Ok((parsed, dec))
}

/// Decrypt a file on its format's streaming path (`format::yaml::fast`, `format::stream`).
/// `Ok(Err(data))` gives the input back when the file (or one of its opened values) is outside
/// what that path handles; the lossless path then does the whole job.
fn streaming<D: Streaming>(
    doc: D,
    req: &Decrypt,
    obs: &dyn Observer,
) -> Result<std::result::Result<D::Output, Vec<u8>>> {
    let Some((metadata, data_key, _)) = prepare(&doc, req, obs)? else {
        return Ok(Err(doc.into_bytes()));
    };
    let mut opener = engine::LeafOpener::new(&data_key, &metadata, req.opts.ignore_mac)?;
    // A big file is opened on two threads; the second half's MAC input is taken in after the
    // first half's.
    let mut second = opener.later(&data_key);
    let rendered = doc.render_leaves_split(
        &mut |path, aad, s| open_leaf(&mut opener, path, aad, s),
        &mut |path, aad, s| open_leaf(&mut second, path, aad, s),
    )?;
    let Some(rendered) = rendered else {
        return Ok(Err(doc.into_bytes()));
    };
    opener.append(second);
    opener.finish(&metadata)?;
    Ok(Ok(doc.finish(rendered, None)?))
}

/// The streaming paths' first steps: read the metadata, refuse what only the tree path
/// handles (`Ok(None)`), unwrap the data key.
fn prepare<D: Streaming>(
    doc: &D,
    req: &Decrypt,
    obs: &dyn Observer,
) -> Result<Option<(Metadata, crate::crypto::data_key::DataKey, Vec<String>)>> {
    let tree = match doc.metadata() {
        Ok(Some(t)) => t,
        _ => return Ok(None),
    };
    obs.step(&format!(
        "decrypt {} as {:?}, output {:?} (streaming path)",
        req.name, req.inf, req.inf
    ));
    obs.unwrapping(Some(&tree));
    let metadata = Metadata::from_tree(&tree)?;
    // Comment-regex rules depend on sops's comment stack, and the integrity field on the
    // whole tree, which only the tree path keeps.
    if metadata.integrity.is_some() || doc.has_comments() && metadata.rule.reads_comments() {
        return Ok(None);
    }
    crate::metadata::check_loadable(&metadata)?;
    // An empty `--decryption-order` means the default, as on the lossless path.
    let default_order;
    let order = if req.opts.decryption_order.is_empty() {
        default_order = engine::parse_decryption_order(None)?;
        &default_order
    } else {
        &req.opts.decryption_order
    };
    let (data_key, by) = engine::unwrap_data_key_by(&metadata, req.keys, order)?;
    obs.unwrapped_by(&by);
    Ok(Some((metadata, data_key, by)))
}

/// The file's rule decides which leaves are sealed (with no comments in play, sops's comment
/// stack is empty), whatever a value looks like.
fn open_leaf(
    opener: &mut engine::LeafOpener,
    path: &[&str],
    aad: &str,
    s: &Scalar,
) -> Result<Edit> {
    let sealed = opener.selector().seals_uncommented(path, s);
    Ok(match opener.leaf(aad, s, sealed, None)? {
        Some(v) => Edit::Open(v),
        None => Edit::Keep,
    })
}

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

/// Parse and decrypt `src`, an encrypted file in `inf` to be written back as `outf`. A file
/// that cannot be parsed is sops's exit 1 here ([`load_error`]).
pub fn open(
    src: Vec<u8>,
    inf: Format,
    outf: Format,
    opts: &DecryptOptions,
    keys: &KeyService,
    obs: &dyn Observer,
) -> Result<Opened> {
    let parsed = inf.store().parse_encrypted(&src).map_err(load_error)?;
    open_parsed(src, parsed, inf, outf, opts, keys, obs)
}

/// [`open`] of a file the caller parsed (`parsed` is the parse of `src`).
pub fn open_parsed(
    src: Vec<u8>,
    parsed: Box<dyn Parsed>,
    inf: Format,
    outf: Format,
    opts: &DecryptOptions,
    keys: &KeyService,
    obs: &dyn Observer,
) -> Result<Opened> {
    let io = (inf, outf);
    open_parsed_with(src, parsed, io, opts, keys, obs, engine::Want::ALL)
}

/// [`open`] for a command that only reads the values (`exec-env`, `exec-file`): the opened
/// documents and edits without the IV stash and its sealed-leaf record, which only a command
/// that writes the file back re-seals with (they cost a digest per leaf).
pub fn open_to_read(
    src: Vec<u8>,
    inf: Format,
    outf: Format,
    opts: &DecryptOptions,
    keys: &KeyService,
    obs: &dyn Observer,
) -> Result<Opened> {
    let parsed = inf.store().parse_encrypted(&src).map_err(load_error)?;
    let want = engine::Want {
        docs: true,
        stash: false,
    };
    open_parsed_with(src, parsed, (inf, outf), opts, keys, obs, want)
}

fn open_parsed_with(
    src: Vec<u8>,
    parsed: Box<dyn Parsed>,
    (inf, outf): (Format, Format),
    opts: &DecryptOptions,
    keys: &KeyService,
    obs: &dyn Observer,
    want: engine::Want,
) -> Result<Opened> {
    obs.unwrapping(parsed.metadata());
    let dec = engine::decrypt_with(parsed.as_ref(), opts, keys, want)?;
    obs.unwrapped_by(&dec.unwrapped_by);
    Ok(Opened {
        src,
        inf,
        outf,
        parsed,
        dec,
    })
}

/// An encrypted file that cannot be parsed is exit 1 in sops (decrypt, rotate, set, unset,
/// groups, exec-*); only `encrypt` reports an unparsable input as "could not read" (2).
pub fn load_error(mut e: Error) -> Error {
    if e.code == Code::CouldNotReadInputFile {
        e.code = Code::Generic;
    }
    e
}
