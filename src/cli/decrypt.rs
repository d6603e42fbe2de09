//! `veil decrypt`: open a sops file, check its MAC, and print or write the plaintext. The
//! work is `pipeline::decrypt`; this file reads the flags and writes the result.

use super::args::{InputArgs, OutputArgs};
use super::log::Verbose;
use crate::engine::{self, DecryptOptions};
use crate::error::{Code, Error, Result};
use crate::keys::KeyService;
use crate::pipeline::{self, Decrypt};

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
    let ks = KeyService::local();
    let (layout, require_integrity) = super::layout_and_integrity(input, file);
    let req = Decrypt {
        name: file.unwrap_or("stdin"),
        inf,
        outf,
        opts: DecryptOptions {
            ignore_mac,
            decryption_order: order,
            require_integrity,
        },
        keys: &ks,
        layout: &layout,
        streaming: path.is_none() && crate::env::streaming(inf),
    };
    let watch = super::rotation::Watch::new(
        &Verbose,
        file.unwrap_or("-"),
        input.filename_override.as_deref(),
    );
    let out = match path {
        Some(path) => {
            let dec = pipeline::decrypt_tree(data, &req, &watch)?;
            let doc = dec
                .docs
                .first()
                .ok_or_else(|| Error::new(Code::Generic, "the file has no documents"))?;
            let v =
                super::extract::lookup(doc, &path).map_err(prefixed("error truncating tree"))?;
            pipeline::Output::Bytes(pipeline::emit_value(v, outf, &layout)?)
        }
        None => {
            // Checked pieces of a big YAML file go to a private temp file (renamed only on
            // commit) or are held for stdout: nothing leaves before the MAC has verified.
            let mut sink =
                super::io::output_sink(file, output.in_place, output.output.as_deref())?.holding();
            pipeline::decrypt_into(data, &req, &watch, &mut sink)?;
            crate::audit::session::release()?;
            sink.commit()?;
            return Ok(0);
        }
    };
    // The audit entry is written before the plaintext leaves (in required mode, or not at all).
    crate::audit::session::release()?;
    super::io::emit_output_parts(
        file,
        output.in_place,
        output.output.as_deref(),
        &out.slices(),
    )?;
    Ok(0)
}
