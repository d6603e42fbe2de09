//! The command-line side of changing an encrypted file (edit, set, unset, rotate, updatekeys,
//! groups, publish, the merge driver, `encrypt --reuse-from`): read the file the flags name and
//! hand it to the pipeline (`pipeline::open`, `pipeline::reseal`, `pipeline::readback`), which
//! decrypts it, re-seals the change and reads the output back before it may be written.
//!
//! It must never print a value; writing stays with `cli::io` (atomic, locked).

use super::args::{InputArgs, OutputArgs};
use super::log::Verbose;
use crate::engine::{self, DecryptOptions};
use crate::error::{Code, Error, Result};
use crate::format::{Format, Parsed};
use crate::keys::KeyService;
pub use crate::pipeline::{
    meta_tree, render_checked, render_checked_with, render_in_place, render_same_shape,
    verify_written, Layout, Opened,
};

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
    let opts = DecryptOptions {
        ignore_mac,
        decryption_order: order,
        require_integrity: super::integrity_required(input, Some(file)),
    };
    crate::pipeline::open(src, inf, outf, &opts, keys, &Verbose)
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
    let out = crate::pipeline::reuse_from(o, &data, inf, outf, &super::layout())?;
    super::io::emit_output(file, output.in_place, output.output.as_deref(), &out)?;
    Ok(0)
}
