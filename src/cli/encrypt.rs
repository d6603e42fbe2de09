//! `veil encrypt`: seal a plaintext file for the keys the flags (or `.sops.yaml`) name.

use super::args::{InputArgs, KeyArgs, OutputArgs};
use crate::config::{self, CliKeys, Config, CreationRule};
use crate::crypto::data_key::DataKey;
use crate::crypto::value::Cipher;
use crate::engine::{self, Context, EncryptOptions};
use crate::error::{Code, Error, Result};
use crate::format::stream::{FastFlat, Streaming};
use crate::format::yaml::FastYaml;
use crate::format::{Edit, Format};
use crate::keys::KeyService;
use crate::metadata::Rule;
use crate::tree::Scalar;
use std::path::Path;

/// The sops-compatible key and rule flags, as the config module takes them.
pub fn cli_keys(k: &KeyArgs) -> CliKeys {
    CliKeys {
        kms: k.kms.clone(),
        aws_profile: k.aws_profile.clone(),
        encryption_context: k.encryption_context.clone(),
        pgp: k.pgp.clone(),
        hc_vault_transit: k.hc_vault_transit.clone(),
        gcp_kms: k.gcp_kms.clone(),
        azure_kv: k.azure_kv.clone(),
        hckms: k.hckms.clone(),
        age: k.age.clone(),
        unencrypted_suffix: k.unencrypted_suffix.clone(),
        encrypted_suffix: k.encrypted_suffix.clone(),
        unencrypted_regex: k.unencrypted_regex.clone(),
        encrypted_regex: k.encrypted_regex.clone(),
        unencrypted_comment_regex: k.unencrypted_comment_regex.clone(),
        encrypted_comment_regex: k.encrypted_comment_regex.clone(),
        mac_only_encrypted: k.mac_only_encrypted,
        integrity: k.integrity,
        shamir_threshold: k.shamir_threshold,
    }
    .with_env_defaults(crate::env::var)
}

/// Load `.sops.yaml` (`--config`, `SOPS_CONFIG`, else searched upward from the current
/// directory) and print sops's warning about an ignored `.sops.yml`.
pub fn load_config(_k: &KeyArgs) -> Result<Option<Config>> {
    let explicit = super::explicit_config();
    let cwd = std::env::current_dir()?;
    let (conf, warning) = config::load_config(explicit.as_deref(), &cwd)?;
    if let Some(w) = warning {
        eprintln!("{w}");
    }
    Ok(conf)
}

/// Keys, threshold and rule for a new file at `target`, by sops's precedence: key flags (and
/// their env defaults) replace the config's keys; rule flags override the config's one by one.
pub fn creation_rule(
    k: &KeyArgs,
    conf: Option<&Config>,
    target: &Path,
    fmt: Format,
) -> Result<CreationRule> {
    let mut rule = config::resolve(&cli_keys(k), conf, target)?;
    rule.integrity |= crate::env::require_integrity();
    if fmt == Format::Binary {
        // The binary store writes no rule (spec 3.6).
        if !matches!(&rule.rule, Rule::UnencryptedSuffix(s) if s == "_unencrypted")
            || rule.mac_only_encrypted
        {
            eprintln!(
                "warning: encryption rules and --mac-only-encrypted are ignored for binary files"
            );
        }
        rule.rule = Rule::None;
        rule.mac_only_encrypted = false;
    }
    Ok(rule)
}

pub fn run(
    input: &InputArgs,
    output: &OutputArgs,
    keys: &KeyArgs,
    file: Option<&str>,
) -> Result<i32> {
    let reading_stdin = matches!(file, None | Some("-"));
    if reading_stdin && input.filename_override.is_none() && input.input_type.is_none() {
        return Err(Error::new(
            Code::ConflictingParameters,
            "Error: when reading from stdin, --filename-override or --input-type is required",
        )
        .hint("e.g. `veil encrypt --filename-override secrets.yaml < secrets.yaml`"));
    }
    // sops checks the file before the config: a missing file is exit 100, not a config error.
    if let Some(f) = file.filter(|f| *f != "-") {
        if std::fs::metadata(f).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
            return Err(super::io::missing_file(f));
        }
    }
    let (inf, outf) = super::formats(input, file);
    let cipher = Cipher::from_flag(&keys.cipher).ok_or_else(|| {
        Error::generic(format!("unknown cipher {:?}", keys.cipher))
            .hint("use aes256-gcm or xchacha20-poly1305")
    })?;
    let conf = load_config(keys)?;
    if let Some(c) = &conf {
        super::log::step(format!("config: {}", c.path.display()));
    }
    let target = input
        .filename_override
        .as_deref()
        .or(file)
        .filter(|f| *f != "-")
        .unwrap_or("stdin");
    let cr = creation_rule(keys, conf.as_ref(), Path::new(target), inf)?;
    super::log::step(format!("encrypt {target} as {inf:?}, output {outf:?}"));
    super::log::new_keys(&cr.key_groups);
    let emit_opts = super::stores_emit_options(conf.as_ref(), outf)?;
    let data = super::io::read_input(file)?;
    let opts = EncryptOptions {
        key_groups: cr.key_groups,
        shamir_threshold: cr.shamir_threshold,
        rule: cr.rule,
        mac_only_encrypted: cr.mac_only_encrypted,
        cipher,
        integrity: cr.integrity,
    };
    // Vault servers the user named (flags, creation rules) may receive the token.
    let ks = KeyService::trusting(&opts.key_groups);
    let mut ctx = Context::system();
    // The integrity field covers the whole tree, which only the lossless path builds.
    let data = if inf == outf && !opts.integrity && crate::env::streaming(inf) {
        let left = if inf == Format::Yaml {
            super::try_streaming(data, file, output, |d| {
                match FastYaml::scan_bytes(d, false) {
                    Ok(doc) => streaming(doc, inf, &opts, &ks, &mut ctx),
                    Err(d) => Ok(Err(d)),
                }
            })?
        } else {
            super::try_streaming(data, file, output, |d| {
                match FastFlat::scan(inf, d, false) {
                    Ok(doc) => streaming(doc, inf, &opts, &ks, &mut ctx),
                    Err(d) => Ok(Err(d)),
                }
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
    let parsed = store.parse(&data).map_err(|e| match e.code {
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
    let enc = engine::encrypt(parsed.as_ref(), &opts, &ks, &mut ctx)?;
    let json_like = matches!(outf, Format::Json | Format::Binary);
    let render = |metadata: &crate::metadata::Metadata| -> Result<Vec<u8>> {
        let meta = metadata.to_tree(json_like);
        if outf == inf {
            // The store's render checks its own output with an independent parser.
            return parsed.render(&enc.edits, Some(&meta));
        }
        // A conversion writes a fresh layout: read it back with veil's own reader and refuse
        // to write a file whose leaves are not exactly the intended ones.
        let docs = engine::apply_edits(parsed.docs(), &enc.edits);
        let out = outf.store().emit(&docs, Some(&meta), &emit_opts)?;
        let back = outf.store().parse_encrypted(&out)?;
        engine::verify_same_leaves(&docs, back.docs(), false)?;
        Ok(out)
    };
    let mut metadata = enc.metadata.clone();
    let mut out = render(&metadata)?;
    if let Some(k) = &enc.integrity_key {
        use crate::metadata::integrity;
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
    super::io::emit_output(file, output.in_place, output.output.as_deref(), &out)?;
    Ok(0)
}

/// Encrypt a file on its format's streaming path (`format::yaml::fast`, `format::stream`): no
/// tree, the output checked by re-parsing it. `Ok(Err(data))` gives the input back when the
/// file is outside what that path handles; the lossless path then does the whole job.
fn streaming<D: Streaming>(
    doc: D,
    format: Format,
    opts: &EncryptOptions,
    keys: &KeyService,
    ctx: &mut Context,
) -> Result<std::result::Result<D::Output, Vec<u8>>> {
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
    super::log::step(format!("{}: streaming path", format.name()));
    let (lastmodified, mac) = sealer.finish(ctx)?;
    let metadata = engine::new_metadata(&data_key, opts, keys, ctx, lastmodified, mac)?;
    let meta = metadata.to_tree(false);
    Ok(Ok(doc.finish(rendered, Some(&meta))?))
}
