//! `veil init`: write a starter `.sops.yaml` in the current directory, with the user's age
//! recipient and a rule for common secret file names, then say what to run next. It never
//! overwrites an existing config.

use crate::error::{Code, Error, Result};
use std::path::Path;

/// The path rule of the starter config: `secrets.*`, `*.enc.*` and `.env*` files in any
/// directory, in every format veil reads.
pub const STARTER_PATH_REGEX: &str =
    r"(^|/)(secrets?|[^/]*\.enc)\.(ya?ml|json|toml|env|ini)$|(^|/)\.env(\.[^/]+)?$";

/// The first age recipient of the default key file, if there is one.
fn default_recipient() -> Option<String> {
    let path = crate::keys::age::default_key_file()?;
    let data = zeroize::Zeroizing::new(std::fs::read_to_string(path).ok()?);
    data.lines().map(str::trim).find_map(|l| {
        if l.starts_with("AGE-SECRET-KEY-PQ-1") {
            let id: age::pq::Identity = l.parse().ok()?;
            Some(id.to_public().to_string())
        } else if l.starts_with("AGE-SECRET-KEY-1") {
            let id: age::x25519::Identity = l.parse().ok()?;
            Some(id.to_public().to_string())
        } else {
            None
        }
    })
}

pub fn run(recipients: &[String]) -> Result<i32> {
    let target = Path::new(".sops.yaml");
    if target.exists() {
        return Err(
            Error::generic(".sops.yaml already exists here; not overwriting it")
                .hint("edit it by hand, or run veil init in another directory"),
        );
    }
    let recips: Vec<String> = if recipients.is_empty() {
        default_recipient().into_iter().collect()
    } else {
        recipients
            .iter()
            .flat_map(|r| r.split(','))
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect()
    };
    if recips.is_empty() {
        return Err(Error::new(
            Code::NoEncryptionKeyFound,
            "no age recipient: no --age given and no key in the default key file",
        )
        .hint("run `veil keygen` first, or pass --age age1…"));
    }
    for r in &recips {
        crate::keys::age::parse_recipient(r)?;
    }
    let text = format!(
        "# veil / sops configuration: which keys encrypt which files.\n\
         # Docs: the creation_rules reference of sops; veil reads the same file.\n\
         creation_rules:\n  - path_regex: '{STARTER_PATH_REGEX}'\n    age: >-\n      {}\n",
        recips.join(",\n      ")
    );
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    let mut f = opts.open(target).map_err(|e| {
        Error::new(
            Code::CouldNotWriteOutputFile,
            format!("cannot create .sops.yaml: {e}"),
        )
    })?;
    std::io::Write::write_all(&mut f, text.as_bytes()).map_err(|e| {
        Error::new(
            Code::CouldNotWriteOutputFile,
            format!("cannot write .sops.yaml: {e}"),
        )
    })?;
    println!("wrote .sops.yaml for {}", recips.join(", "));
    println!("next:");
    println!("  veil encrypt -i secrets.yaml        # seal a file in place");
    println!("  veil decrypt secrets.yaml           # read it back");
    println!("  veil git setup                      # readable diffs and key-level merges in git");
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_rule_matches_common_secret_names() {
        let re = regex::Regex::new(STARTER_PATH_REGEX).unwrap();
        for yes in [
            "secrets.yaml",
            "a/secret.json",
            "prod.enc.toml",
            ".env",
            "app/.env.production",
            "x/db.enc.ini",
        ] {
            assert!(re.is_match(yes), "{yes}");
        }
        for no in [
            "config.yaml",
            "README.md",
            "secrets.yaml.bak",
            "environment.yaml",
        ] {
            assert!(!re.is_match(no), "{no}");
        }
    }
}
