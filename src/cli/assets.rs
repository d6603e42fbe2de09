//! Shell completions and man pages, generated from the one clap definition.
//!
//! The generated files are committed under `completions/`; a test regenerates them and fails
//! when the committed copies are stale (`VEIL_UPDATE_ASSETS=1 cargo test assets` rewrites them).

use super::args::Cli;
use clap::CommandFactory;
use clap_complete::Shell;

/// The completion script for `shell`.
pub fn completion(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "veil", &mut out);
    out
}

/// Every generated asset: (file name under `completions/`, content).
pub fn all() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (shell, name) in [
        (Shell::Bash, "veil.bash"),
        (Shell::Zsh, "_veil"),
        (Shell::Fish, "veil.fish"),
        (Shell::PowerShell, "_veil.ps1"),
        (Shell::Elvish, "veil.elv"),
    ] {
        out.push((name.to_string(), completion(shell)));
    }
    let cmd = Cli::command();
    let mut page = Vec::new();
    if clap_mangen::Man::new(cmd.clone()).render(&mut page).is_ok() {
        out.push(("veil.1".to_string(), page));
    }
    for sub in cmd.get_subcommands() {
        let name = format!("veil-{}", sub.get_name());
        let sub = sub
            .clone()
            .name(Box::leak(name.clone().into_boxed_str()) as &str);
        let mut page = Vec::new();
        if clap_mangen::Man::new(sub).render(&mut page).is_ok() {
            out.push((format!("{name}.1"), page));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_assets_are_fresh() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
        let update = std::env::var("VEIL_UPDATE_ASSETS").is_ok_and(|v| v == "1");
        let mut stale = Vec::new();
        for (name, content) in all() {
            let path = dir.join(&name);
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &content).unwrap();
            } else if std::fs::read(&path).ok().as_deref() != Some(&content[..]) {
                stale.push(name);
            }
        }
        assert!(
            stale.is_empty(),
            "stale completions/man pages {stale:?}: run VEIL_UPDATE_ASSETS=1 cargo test assets"
        );
    }
}
