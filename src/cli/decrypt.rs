//! `veil decrypt`: open a sops file, check its MAC, and print or write the plaintext. The
//! work is `pipeline::decrypt`; this file reads the flags and writes the result. Several files
//! are merged into one result (`cli::multi`); `-r DIR --output-dir OUT` is `cli::recursive`.

use super::args::{DecryptArgs, InputArgs, OutputArgs};
use super::log::Verbose;
use crate::engine::{self, DecryptOptions};
use crate::error::{Code, Error, Result};
use crate::keys::KeyService;
use crate::pipeline::{self, Decrypt};

/// `veil decrypt` with its arguments: one file (or stdin), several, or a directory.
pub fn run_command(a: &DecryptArgs) -> Result<i32> {
    if let (Some(dir), Some(out)) = (&a.recursive, &a.output_dir) {
        return super::recursive::decrypt_dir(a, dir, out);
    }
    if a.more.is_empty() {
        if a.strict {
            super::log::advise("warning: --strict has no effect with one file");
        }
        return run(
            &a.input,
            &a.output,
            a.extract.as_deref(),
            a.ignore_mac,
            a.decryption_order.as_deref(),
            a.file.as_deref(),
        );
    }
    run_several(a)
}

/// `veil decrypt A B …`: the merged plaintext to stdout or `--output`, never in place.
fn run_several(a: &DecryptArgs) -> Result<i32> {
    if a.output.in_place {
        return Err(Error::new(
            Code::ConflictingParameters,
            "Error: cannot decrypt several files in place",
        )
        .hint("write the merged result to stdout or --output FILE, or decrypt one file at a time with -i"));
    }
    if a.input.filename_override.is_some() {
        return Err(Error::new(
            Code::ConflictingParameters,
            "Error: --filename-override names one file; it cannot be used with several",
        )
        .hint("use --input-type for the format of every file"));
    }
    let path = a
        .extract
        .as_deref()
        .map(super::extract::parse_path)
        .transpose()
        .map_err(|mut e| {
            e.message = format!("error parsing --extract path: {}", e.message);
            e
        })?;
    let files: Vec<String> = a.file.iter().chain(a.more.iter()).cloned().collect();
    let m = super::multi::open_merged(&super::multi::Request {
        command: "decrypt",
        files: &files,
        input_type: a.input.input_type.as_deref(),
        output_type: a.input.output_type.as_deref(),
        ignore_mac: a.ignore_mac,
        decryption_order: a.decryption_order.as_deref(),
        strict: a.strict,
    })?;
    let out = match path {
        Some(path) => {
            let v = super::extract::lookup(&m.doc, &path).map_err(|mut e| {
                e.message = format!("error truncating tree: {}", e.message);
                e
            })?;
            zeroize::Zeroizing::new(pipeline::emit_value(v, m.outf, &m.layout)?)
        }
        None => super::multi::emit(&m)?,
    };
    crate::audit::session::release()?;
    super::io::emit_output(None, false, a.output.output.as_deref(), &out)?;
    Ok(0)
}

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
