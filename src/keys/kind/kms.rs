//! AWS KMS keys: key ARN, optional role to assume, encryption context, AWS profile.

use super::{Field, FieldSource, GroupSyntax, KeyKind, ParseOptions};
use crate::error::{Error, Result};
use crate::keys::{Backend, KeyRef, LocalOptions};
use std::collections::BTreeMap;

pub struct Kms;

/// Split `KEY_ARN+ROLE_ARN` into the key and the role (empty when none). The split is on
/// `+arn:` in any partition (`aws`, `aws-cn`, `aws-us-gov`…), as sops does since 3.12: an ARN
/// may hold `+` in its path but never `:`, so `+arn:` can only join two ARNs.
pub fn split_role(s: &str) -> (String, String) {
    match s.find("+arn:") {
        Some(i) if i > 0 => (s[..i].to_string(), s[i + 1..].to_string()),
        _ => (s.to_string(), String::new()),
    }
}

/// A `--kms` value or a flat `kms:` entry: spaces removed, the role split off.
pub fn kms_from_arn(s: &str, context: &BTreeMap<String, String>, aws_profile: &str) -> KeyRef {
    let (arn, role) = split_role(&s.replace(' ', ""));
    KeyRef::Kms {
        arn,
        role,
        context: context.clone(),
        aws_profile: aws_profile.to_string(),
    }
}

impl KeyKind for Kms {
    fn name(&self) -> &'static str {
        "kms"
    }
    fn env_var(&self) -> &'static str {
        "SOPS_KMS_ARN"
    }
    fn config_field(&self) -> &'static str {
        "kms"
    }
    fn group_syntax(&self) -> GroupSyntax {
        GroupSyntax::Maps("{arn: arn:aws:kms:…, role: …, context: {k: v}}")
    }
    fn parse(&self, text: &str, opts: &ParseOptions) -> Result<KeyRef> {
        let none = BTreeMap::new();
        Ok(kms_from_arn(
            text,
            opts.encryption_context.unwrap_or(&none),
            opts.aws_profile,
        ))
    }
    fn parse_group_entry(&self, entry: &dyn FieldSource) -> Result<KeyRef> {
        let arn = entry.text("arn");
        if arn.is_empty() {
            return Err(
                Error::generic("error loading config: a key_groups kms entry has no arn")
                    .hint("write kms entries as {arn: arn:aws:kms:…}"),
            );
        }
        let context = entry.map("context").map_err(|what| {
            Error::generic(format!(
                "error loading config: a kms context is {what}, not a map"
            ))
            .hint("write the encryption context as a map: context: {key: value}")
        })?;
        Ok(KeyRef::Kms {
            arn,
            role: entry.text("role"),
            context,
            aws_profile: entry.text("aws_profile"),
        })
    }
    fn identity(&self, key: &KeyRef) -> String {
        match key {
            KeyRef::Kms { arn, .. } => arn.clone(),
            _ => String::new(),
        }
    }
    /// `ARN[+ROLE][|k:v,…][|PROFILE]`, as sops's `ToString` with its context and profile.
    fn sops_name(&self, key: &KeyRef) -> String {
        let KeyRef::Kms {
            arn,
            role,
            context,
            aws_profile,
        } = key
        else {
            return String::new();
        };
        let mut s = arn.clone();
        if !role.is_empty() {
            s = format!("{s}+{role}");
        }
        let ctx: Vec<String> = context.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        if !aws_profile.is_empty() {
            format!("{s}|{}|{aws_profile}", ctx.join(","))
        } else if !ctx.is_empty() {
            format!("{s}|{}", ctx.join(","))
        } else {
            s
        }
    }
    fn describe(&self, key: &KeyRef) -> String {
        match key {
            KeyRef::Kms { arn, role, .. } if role.is_empty() => format!("kms {arn}"),
            KeyRef::Kms { arn, role, .. } => format!("kms {arn} (role {role})"),
            _ => String::new(),
        }
    }
    fn layout<'a>(&self, key: &'a KeyRef) -> Vec<(&'static str, Field<'a>)> {
        match key {
            KeyRef::Kms {
                arn,
                role,
                context,
                aws_profile,
            } => vec![
                ("arn", Field::Text(arn)),
                ("role", Field::TextIfSet(role)),
                ("context", Field::Map(context)),
                ("created_at", Field::CreatedAt),
                ("enc", Field::Enc),
                ("aws_profile", Field::Text(aws_profile)),
            ],
            _ => Vec::new(),
        }
    }
    fn read_metadata(&self, entry: &dyn FieldSource) -> KeyRef {
        KeyRef::Kms {
            arn: entry.text("arn"),
            role: entry.text("role"),
            context: entry.map("context").unwrap_or_default(),
            aws_profile: entry.text("aws_profile"),
        }
    }
    fn backend(&self, _: &LocalOptions) -> Option<Box<dyn Backend>> {
        #[cfg(feature = "aws-kms")]
        return Some(Box::new(crate::keys::aws_kms::KmsBackend::new()));
        #[cfg(not(feature = "aws-kms"))]
        None
    }
}
