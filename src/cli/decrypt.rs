//! `veil decrypt`: open a sops file, check its MAC, and print or write the plaintext.

use super::args::{InputArgs, OutputArgs};
use crate::engine::{self, DecryptOptions};
use crate::error::{Code, Error, Result};
use crate::format::stream::{FastFlat, Streaming};
use crate::format::yaml::FastYaml;
use crate::format::{Edit, Format};
use crate::keys::KeyService;
use crate::metadata::{Metadata, Rule};
use crate::tree::Scalar;

pub fn run(
    input: &InputArgs,
    output: &OutputArgs,
    extract: Option<&str>,
    ignore_mac: bool,
    decryption_order: Option<&str>,
    file: Option<&str>,
) -> Result<i32> {
    let (inf, outf) = super::formats(input, file);
    // sops's first lines: `error parsing --extract path: …`, `error truncating tree: …`.
    let prefixed = |prefix: &'static str| {
        move |mut e: Error| {
            e.message = format!("{prefix}: {}", e.message);
            e
        }
    };
    let path = extract
        .map(super::extract::parse_path)
        .transpose()
        .map_err(prefixed("error parsing --extract path"))?;
    let order = engine::parse_decryption_order(decryption_order)?;
    let data = super::io::read_input(file)?;
    let require_integrity = super::integrity_required(input, file);
    // The integrity field covers the whole tree, which only the lossless path builds.
    let fast = inf == outf && path.is_none() && !require_integrity;
    let data = if fast && crate::env::streaming(inf) {
        let left = if inf == Format::Yaml {
            super::try_streaming(data, file, output, |d| {
                match FastYaml::scan_bytes(d, true) {
                    Ok(doc) => streaming(doc, inf, ignore_mac, &order, file),
                    Err(d) => Ok(Err(d)),
                }
            })?
        } else {
            super::try_streaming(data, file, output, |d| match FastFlat::scan(inf, d, true) {
                Ok(doc) => streaming(doc, inf, ignore_mac, &order, file),
                Err(d) => Ok(Err(d)),
            })?
        };
        match left {
            Some(d) => d,
            None => return Ok(0),
        }
    } else {
        data
    };
    let store = inf.store();
    let parsed = store.parse_encrypted(&data).map_err(super::load_error)?;
    // The parsed document keeps its own copy of the text.
    drop(data);
    super::log::step(format!(
        "decrypt {} as {inf:?}, output {outf:?}",
        file.unwrap_or("stdin")
    ));
    super::log::key_sources();
    super::log::file_keys(parsed.metadata());
    let ks = KeyService::local();
    // Writing the same format needs only the edits: skip the opened tree (and never build
    // the IV stash, which only re-encrypting commands use).
    let want = engine::Want {
        docs: path.is_some() || outf != inf,
        stash: false,
    };
    let dec = engine::decrypt_with(
        parsed.as_ref(),
        &DecryptOptions {
            ignore_mac,
            decryption_order: order,
            require_integrity,
        },
        &ks,
        want,
    )?;
    let out = if let Some(path) = path {
        let doc = dec
            .docs
            .first()
            .ok_or_else(|| Error::new(Code::Generic, "the file has no documents"))?;
        let v = super::extract::lookup(doc, &path).map_err(prefixed("error truncating tree"))?;
        outf.store()
            .emit_value(v, &super::lifecycle::emit_options(outf))?
    } else if outf == inf {
        parsed.render(&dec.edits, None)?
    } else {
        // A conversion: the plaintext must read back as the decrypted data before it is
        // written anywhere.
        let out = outf
            .store()
            .emit(&dec.docs, None, &super::lifecycle::emit_options(outf))?;
        let back = outf.store().parse(&out)?;
        engine::verify_same_leaves(&dec.docs, back.docs(), false)?;
        out
    };
    super::io::emit_output(file, output.in_place, output.output.as_deref(), &out)?;
    Ok(0)
}

/// Decrypt a file on its format's streaming path (`format::yaml::fast`, `format::stream`).
/// `Ok(Err(data))` gives the input back when the file (or one of its opened values) is outside
/// what that path handles; the lossless path then does the whole job.
fn streaming<D: Streaming>(
    doc: D,
    format: Format,
    ignore_mac: bool,
    order: &[String],
    file: Option<&str>,
) -> Result<std::result::Result<D::Output, Vec<u8>>> {
    let tree = match doc.metadata() {
        Ok(Some(t)) => t,
        _ => return Ok(Err(doc.into_bytes())),
    };
    super::log::step(format!(
        "decrypt {} as {format:?}, output {format:?} (streaming path)",
        file.unwrap_or("stdin")
    ));
    super::log::key_sources();
    super::log::file_keys(Some(&tree));
    let metadata = Metadata::from_tree(&tree)?;
    // Comment-regex rules depend on sops's comment stack, and the integrity field on the
    // whole tree, which only the tree path keeps.
    if metadata.integrity.is_some()
        || doc.has_comments()
            && matches!(
                metadata.rule,
                Rule::UnencryptedCommentRegex(_) | Rule::EncryptedCommentRegex(_)
            )
    {
        return Ok(Err(doc.into_bytes()));
    }
    crate::metadata::check_loadable(&metadata)?;
    // An empty `--decryption-order` means the default, as on the lossless path.
    let default_order;
    let order = if order.is_empty() {
        default_order = engine::parse_decryption_order(None)?;
        &default_order
    } else {
        order
    };
    let data_key = engine::unwrap_data_key(&metadata, &KeyService::local(), order)?;
    let mut opener = engine::LeafOpener::new(&data_key, &metadata, ignore_mac)?;
    // A big file is opened on two threads; the second half's MAC input is taken in after the
    // first half's.
    let mut second = opener.later(&data_key);
    // The file's rule decides which leaves are sealed (with no comments in play, sops's
    // comment stack is empty), whatever a value looks like.
    fn open(opener: &mut engine::LeafOpener, path: &[&str], aad: &str, s: &Scalar) -> Result<Edit> {
        let sealed = opener.selector().seals_uncommented(path, s);
        Ok(match opener.leaf(aad, s, sealed, None)? {
            Some(v) => Edit::Open(v),
            None => Edit::Keep,
        })
    }
    let rendered = doc.render_leaves_split(
        &mut |path, aad, s| open(&mut opener, path, aad, s),
        &mut |path, aad, s| open(&mut second, path, aad, s),
    )?;
    let Some(rendered) = rendered else {
        return Ok(Err(doc.into_bytes()));
    };
    opener.append(second);
    opener.finish(&metadata)?;
    Ok(Ok(doc.finish(rendered, None)?))
}
