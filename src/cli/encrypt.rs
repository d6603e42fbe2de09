//! `veil encrypt`: seal a plaintext file for the keys the flags (or `.sops.yaml`) name. This
//! file works out the keys and rule (flags over `.sops.yaml`); `pipeline::encrypt` does the rest.

use super::args::{InputArgs, KeyArgs, OutputArgs};
use super::log::Verbose;
use crate::config::{self, CliKeys, Config, CreationRule};
use crate::crypto::value::Cipher;
use crate::engine::{Context, EncryptOptions};
use crate::error::{Code, Error, Result};
use crate::format::Format;
use crate::keys::KeyService;
use crate::metadata::Rule;
use crate::pipeline::{self, Encrypt};
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
        // The binary store writes no rule (docs/sops-format.md §3.6).
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
    let emit = super::layout_with(conf.as_ref()).fresh(outf)?;
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
    let req = Encrypt {
        inf,
        outf,
        opts: &opts,
        keys: &ks,
        emit: &emit,
        streaming: crate::env::streaming(inf),
    };
    // Checked pieces of a big YAML file go out as they are made: to the temp file of an
    // atomic write (renamed over the target only when complete), or to stdout.
    let mut sink = super::io::output_sink(file, output.in_place, output.output.as_deref())?;
    pipeline::encrypt_into(data, &req, &mut Context::system(), &Verbose, &mut sink)?;
    sink.commit()?;
    Ok(0)
}
