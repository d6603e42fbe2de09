//! `veil encrypt`: seal a plaintext file for the keys the flags (or `.sops.yaml`) name.

use super::args::{InputArgs, KeyArgs, OutputArgs};
use crate::crypto::value::Cipher;
use crate::engine::{self, Context, EncryptOptions};
use crate::error::{Code, Error, Result};
use crate::format::{EmitOptions, Format};
use crate::keys::{KeyRef, KeyService, LocalOptions};
use crate::metadata::Rule;

/// The selection rule from the flags; more than one is exit 8.
pub fn rule_from_flags(k: &KeyArgs, fmt: Format) -> Result<Rule> {
    let mut rules = Vec::new();
    if let Some(s) = &k.unencrypted_suffix {
        rules.push(Rule::UnencryptedSuffix(s.clone()));
    }
    if let Some(s) = &k.encrypted_suffix {
        rules.push(Rule::EncryptedSuffix(s.clone()));
    }
    if let Some(s) = &k.unencrypted_regex {
        rules.push(Rule::UnencryptedRegex(s.clone()));
    }
    if let Some(s) = &k.encrypted_regex {
        rules.push(Rule::EncryptedRegex(s.clone()));
    }
    if let Some(s) = &k.unencrypted_comment_regex {
        rules.push(Rule::UnencryptedCommentRegex(s.clone()));
    }
    if let Some(s) = &k.encrypted_comment_regex {
        rules.push(Rule::EncryptedCommentRegex(s.clone()));
    }
    if rules.len() > 1 {
        return Err(Error::new(
            Code::ConflictingParameters,
            "Error: cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the same file",
        )
        .hint("keep one selection rule"));
    }
    Ok(match rules.pop() {
        Some(r) => r,
        // The binary store writes no rule; every other store writes the default suffix.
        None if fmt == Format::Binary => Rule::None,
        None => Rule::UnencryptedSuffix("_unencrypted".into()),
    })
}

/// Key groups from the key flags (and their env-var defaults), in sops's order: kms, gcp_kms,
/// hckms, azure_kv, pgp, hc_vault, age. Errors: a malformed `--encryption-context` (exit 6), an
/// invalid Vault URI, or a key type this build does not have.
pub fn groups_from_flags(k: &KeyArgs) -> Result<Vec<Vec<KeyRef>>> {
    let mut g: Vec<KeyRef> = Vec::new();
    let push = |g: &mut Vec<KeyRef>, key: KeyRef| {
        if !g.contains(&key) {
            g.push(key);
        }
    };
    let missing = |what: &str, feature: &str| {
        Error::generic(format!("{what} keys are not supported by this veil build"))
            .hint(format!("build veil with the `{feature}` cargo feature"))
    };
    if !k.kms.is_empty() {
        #[cfg(feature = "aws-kms")]
        {
            use crate::keys::aws_kms;
            let ctx =
                aws_kms::parse_encryption_context(k.encryption_context.as_deref().unwrap_or(""))?;
            let profile = k.aws_profile.as_deref().unwrap_or("");
            for list in &k.kms {
                for key in aws_kms::keys_from_arns(list, &ctx, profile) {
                    push(&mut g, key);
                }
            }
        }
        #[cfg(not(feature = "aws-kms"))]
        return Err(missing("kms", "aws-kms"));
    }
    if !k.pgp.is_empty() {
        #[cfg(feature = "pgp")]
        for list in &k.pgp {
            for key in crate::keys::pgp::keys_from_fingerprints(list) {
                push(&mut g, key);
            }
        }
        #[cfg(not(feature = "pgp"))]
        return Err(missing("pgp", "pgp"));
    }
    if !k.hc_vault_transit.is_empty() {
        #[cfg(feature = "vault")]
        for list in &k.hc_vault_transit {
            for key in crate::keys::vault::keys_from_uris(list)? {
                push(&mut g, key);
            }
        }
        #[cfg(not(feature = "vault"))]
        return Err(missing("hc_vault", "vault"));
    }
    let _ = &missing;
    for a in &k.age {
        for r in a.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            push(
                &mut g,
                KeyRef::Age {
                    recipient: r.to_string(),
                },
            );
        }
    }
    Ok(if g.is_empty() { vec![] } else { vec![g] })
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
    let (inf, outf) = super::formats(input, file);
    let cipher = Cipher::from_flag(&keys.cipher).ok_or_else(|| {
        Error::generic(format!("unknown cipher {:?}", keys.cipher))
            .hint("use aes256-gcm or xchacha20-poly1305")
    })?;
    let rule = rule_from_flags(keys, inf)?;
    let key_groups = groups_from_flags(keys)?;
    if key_groups.is_empty() {
        return Err(Error::generic(
            "config file not found, or has no creation rules, and no keys provided through command line options",
        )
        .hint("pass --age age1…, --pgp FINGERPRINT, --kms ARN or --hc-vault-transit URI (or set SOPS_AGE_RECIPIENTS)"));
    }
    let data = super::io::read_input(file)?;
    let store = inf.store();
    let parsed = store.parse(&data)?;
    let opts = EncryptOptions {
        key_groups,
        shamir_threshold: keys.shamir_threshold,
        rule,
        mac_only_encrypted: keys.mac_only_encrypted,
        cipher,
    };
    // Vault servers the user named on the command line may receive the token.
    let ks = KeyService::local_with(&LocalOptions::trusting_groups(&opts.key_groups));
    let mut ctx = Context::system();
    let enc = engine::encrypt(parsed.as_ref(), &opts, &ks, &mut ctx)?;
    let json_like = matches!(outf, Format::Json | Format::Binary);
    let meta = enc.metadata.to_tree(json_like);
    let out = if outf == inf {
        parsed.render(&enc.edits, Some(&meta))?
    } else {
        let docs = engine::apply_edits(parsed.docs(), &enc.edits);
        outf.store()
            .emit(&docs, Some(&meta), &EmitOptions::default())?
    };
    // Read what we are about to write with the output format's parser, and refuse to write a
    // file whose leaves are not exactly the intended ones.
    let expected = engine::apply_edits(parsed.docs(), &enc.edits);
    let back = outf.store().parse_encrypted(&out)?;
    engine::verify_same_leaves(&expected, back.docs(), outf == inf)?;
    super::io::emit_output(file, output.in_place, output.output.as_deref(), &out)?;
    Ok(0)
}
