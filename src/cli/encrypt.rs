//! `veil encrypt`: seal a plaintext file for the keys the flags (or `.sops.yaml`) name.

use super::args::{InputArgs, KeyArgs, OutputArgs};
use crate::crypto::value::Cipher;
use crate::engine::{self, Context, EncryptOptions};
use crate::error::{Code, Error, Result};
use crate::format::{EmitOptions, Format};
use crate::keys::{KeyRef, KeyService};
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

/// Key groups from the key flags (and their env-var defaults).
pub fn groups_from_flags(k: &KeyArgs) -> Vec<Vec<KeyRef>> {
    let mut g = Vec::new();
    for a in &k.age {
        for r in a.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let key = KeyRef::Age {
                recipient: r.to_string(),
            };
            if !g.contains(&key) {
                g.push(key);
            }
        }
    }
    if g.is_empty() {
        vec![]
    } else {
        vec![g]
    }
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
    let key_groups = groups_from_flags(keys);
    if key_groups.is_empty() {
        return Err(Error::generic(
            "config file not found, or has no creation rules, and no keys provided through command line options",
        )
        .hint("pass --age age1… (or set SOPS_AGE_RECIPIENTS)"));
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
    let ks = KeyService::local();
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
