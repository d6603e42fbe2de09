//! `veil publish FILE` (`sops publish`): send a sops file — or with `--recursive` every file
//! under a directory — to the destination its `.sops.yaml` `destination_rules` entry names.
//!
//! What goes where is sops 3.13's: S3 and GCS get the encrypted file as it is, or, when the
//! rule's `recreation_rule` names keys, the file decrypted and encrypted again with a new data
//! key for those keys (the key-group changes are printed first, as sops prints them); Vault KV
//! gets the decrypted top-level map. The name is the file's base name (with `--recursive` its
//! path under the directory), without its extension with `--omit-extensions`. Each upload is
//! confirmed with sops's `uploading FILE to URL ? (y/n):` prompt unless `-y` is given; a Vault
//! upload says first that Vault receives plaintext. Files are handled in the order sops walks
//! them, and the first failure stops the run (a declined file does too, unless `--recursive`).
//!
//! This file only drives the run; the rules and transports live in [`crate::publish`]. Nothing
//! here prints a value: the prompt names files and destinations, the diff names public keys.

use super::args::{InputArgs, PublishArgs};
use super::lifecycle;
use super::updatekeys::{diff_groups, push_group_diff};
use crate::config::{self, Config};
use crate::crypto::value::Cipher;
use crate::engine::{self, Context, DecryptOptions, EncryptOptions};
use crate::error::{Code, Error, Result};
use crate::keys::KeyService;
use crate::metadata::Rule;
use crate::publish::{self, rules, Destination, DestinationRule};
use std::path::Path;

/// One file to publish: the path as sops builds it (given, or joined and cleaned by the walk)
/// and, in a walk, its path relative to the directory.
struct Item {
    path: String,
    rel: Option<String>,
}

pub fn run(a: &PublishArgs) -> Result<i32> {
    let cwd = std::env::current_dir()?;
    let explicit = super::explicit_config();
    let (conf, warning) = config::load_config(explicit.as_deref(), &cwd)?;
    if let Some(w) = warning {
        eprintln!("{w}");
    }
    let conf = conf.ok_or_else(|| {
        Error::generic("config file not found").hint(
            "publish reads destination_rules from .sops.yaml: run it in (or below) the directory that holds it, or pass --config",
        )
    })?;
    let Some(root) = a.file.as_deref() else {
        return Err(
            Error::new(Code::NoFileSpecified, "Error: no file specified")
                .hint("name the file to publish, or a directory with --recursive"),
        );
    };
    let meta = std::fs::metadata(root).map_err(|e| {
        Error::generic(format!("stat {root}: {}", go_io_error(&e)))
            .hint("check the path of the file to publish")
    })?;
    if meta.is_dir() && !a.recursive {
        return Err(
            Error::generic("can't operate on a directory without --recursive flag.")
                .hint("add --recursive to publish every file under it"),
        );
    }
    let order = engine::parse_decryption_order(a.decryption_order.as_deref())?;
    let items = if meta.is_dir() {
        let mut items = Vec::new();
        walk(Path::new(root), root, "", &mut items)?;
        items
    } else {
        vec![Item {
            path: root.to_string(),
            rel: None,
        }]
    };
    // Keys are wrapped and unwrapped with what the user allowed: the rules' Vault addresses
    // (recreation_rule transit keys included) are not trusted on their own.
    let ks = KeyService::local();
    for item in &items {
        publish_one(a, &conf, &cwd, item, &order, &ks)?;
    }
    Ok(0)
}

/// Go's error text for a failed stat (`no such file or directory`, `permission denied`).
fn go_io_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// sops's `filepath.Walk`: entries in name order, depth first; everything that is not a
/// directory (symbolic links included, unfollowed) is published.
fn walk(dir: &Path, dir_path: &str, rel: &str, out: &mut Vec<Item>) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        Error::generic(format!("open {dir_path}: {}", go_io_error(&e)))
            .hint("check the directory's permissions")
    })?;
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = rules::go_clean(&format!("{dir_path}/{name}"));
        let rel = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            walk(&e.path(), &path, &rel, out)?;
        } else {
            out.push(Item {
                path,
                rel: Some(rel),
            });
        }
    }
    Ok(())
}

/// What is sent.
enum Payload {
    File(Vec<u8>),
    Map(serde_json::Map<String, serde_json::Value>),
}

fn publish_one(
    a: &PublishArgs,
    conf: &Config,
    cwd: &Path,
    item: &Item,
    order: &[String],
    ks: &KeyService,
) -> Result<()> {
    let abs = config::absolute_clean(Path::new(&item.path), cwd);
    let abs = abs.to_string_lossy().into_owned();
    let rule = rules::rule_for(conf, &item.path)?;
    let Some(dest) = rule.destination.clone() else {
        return Err(Error::generic(rules::NO_DESTINATION).hint(format!(
            "destination rule {} matches {} but names no s3_bucket, gcs_bucket or vault_path",
            rule.index + 1,
            item.path
        )));
    };
    let name = rules::destination_name(
        &abs,
        item.rel.as_deref(),
        a.omit_extensions || rule.omit_extensions,
    )?;
    super::log::step(format!(
        "publish {}: destination rule {} → {}",
        item.path,
        rule.index + 1,
        dest.url(&name)
    ));
    let (inf, _) = super::formats(&InputArgs::default(), Some(&item.path));
    let src = std::fs::read(&item.path).map_err(|e| {
        Error::new(
            Code::CouldNotReadInputFile,
            format!(
                "Error reading file: read {}: {}",
                item.path,
                go_io_error(&e)
            ),
        )
    })?;
    let parsed = inf.store().parse_encrypted(&src)?;
    // Only sops files are published: a plaintext file must never be uploaded as it is.
    engine::metadata_of(parsed.as_ref())?;
    let payload = match &dest {
        Destination::S3 { .. } | Destination::Gcs { .. } if rule.reencrypts() => {
            super::log::step("re-encrypting for the recreation_rule's keys");
            let dec = decrypt(parsed.as_ref(), &item.path, order, ks)?;
            Payload::File(reencrypt(
                lifecycle::Opened {
                    src,
                    inf,
                    outf: inf,
                    parsed,
                    dec,
                },
                &rule,
                ks,
            )?)
        }
        Destination::S3 { .. } | Destination::Gcs { .. } => Payload::File(src),
        Destination::Vault(_) => {
            let dec = decrypt(parsed.as_ref(), &item.path, order, ks)?;
            Payload::Map(publish::kv_data(&dec.docs)?)
        }
    };
    if !a.yes {
        if dest.receives_plaintext() {
            println!(
                "note: Vault receives the decrypted values of {abs} (a plaintext KV secret), not the encrypted file"
            );
        }
        let question = format!("uploading {abs} to {} ? (y/n): ", dest.url(&name));
        let asked = super::io::ask_yes_no(&question, || {
            Error::generic("no answer (stdin is closed): nothing was published")
                .hint("pass -y (--yes) to publish without asking")
        })?;
        if !asked {
            let msg = format!("Publication of {abs} canceled");
            if a.recursive {
                println!("{msg}");
                return Ok(());
            }
            return Err(Error::generic(msg));
        }
    }
    let done = match &payload {
        Payload::File(bytes) => publish::upload_file(&dest, &name, bytes)?,
        Payload::Map(map) => publish::upload_map(&dest, &name, map)?,
    };
    if let Some(w) = &done.warning {
        eprintln!("warning: {w}");
    }
    if done.up_to_date {
        super::log::step(format!("{} is already up-to-date", dest.url(&name)));
    } else {
        super::log::step(format!("published {}", dest.url(&name)));
    }
    Ok(())
}

fn decrypt(
    parsed: &dyn crate::format::Parsed,
    path: &str,
    order: &[String],
    ks: &KeyService,
) -> Result<engine::Decrypted> {
    engine::decrypt(
        parsed,
        &DecryptOptions {
            ignore_mac: false,
            decryption_order: order.to_vec(),
            require_integrity: super::integrity_required(&InputArgs::default(), Some(path)),
        },
        ks,
    )
}

/// The file encrypted again, in its own layout, with a new data key for the recreation rule's
/// keys. As in sops, the new metadata carries only the rule's key groups, Shamir threshold and
/// `unencrypted_suffix`/`encrypted_suffix`; values are sealed with AES-256-GCM.
fn reencrypt(o: lifecycle::Opened, rule: &DestinationRule, ks: &KeyService) -> Result<Vec<u8>> {
    let groups = &rule.recreation.key_groups;
    let diffs = diff_groups(&engine::key_refs(&o.dec.metadata), groups);
    if diffs
        .iter()
        .any(|d| !d.added.is_empty() || !d.removed.is_empty())
    {
        let mut text =
            String::from("The following changes will be made to the file's key groups:\n");
        for (i, d) in diffs.iter().enumerate() {
            push_group_diff(&mut text, i, d);
        }
        print!("{text}");
    }
    let opts = EncryptOptions {
        key_groups: groups.clone(),
        shamir_threshold: rule.recreation.shamir_threshold,
        rule: match &rule.recreation.rule {
            r @ (Rule::UnencryptedSuffix(_) | Rule::EncryptedSuffix(_)) => r.clone(),
            _ => Rule::None,
        },
        mac_only_encrypted: false,
        cipher: Cipher::Aes256Gcm,
        integrity: false,
    };
    crate::pipeline::reencrypt(&o, &opts, ks, &mut Context::system(), &super::layout())
}
