//! The committed completion scripts load in real shells without errors, and register veil's
//! completion function. zsh is installed by `scripts/peers.sh install`; a missing shell is a
//! failure under CI=true and a loud skip elsewhere.

use crate::support::{in_ci, repo_root, Sandbox};
use std::process::Command;

/// The shell's path, or None (a skip) when it is not installed outside CI.
fn shell(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            !in_ci(),
            "{name} is missing and CI=true; run `scripts/peers.sh install` (it installs zsh)"
        );
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\n!!!!!!!! SKIP: {name} not installed; run `scripts/peers.sh install` !!!!!!!!"
        );
    }
    found
}

/// Runs `script` in `sh -c` form with the sandbox's HOME (so no user rc file is read) and
/// returns (exit code, stdout, stderr).
fn run_shell(sh: &std::path::Path, args: &[&str], script: &str) -> (Option<i32>, String, String) {
    let sb = Sandbox::new();
    let out = Command::new(sh)
        .args(args)
        .arg("-c")
        .arg(script)
        .current_dir(repo_root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", sb.home())
        .env("TERM", "dumb")
        .output()
        .expect("cannot run the shell");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bash_loads_the_completion_script() {
    let Some(bash) = shell("bash") else { return };
    let (code, out, err) = run_shell(
        &bash,
        &["--norc", "--noprofile"],
        "source completions/veil.bash || exit 9\n\
         complete -p veil\n\
         COMP_WORDS=(veil dec); COMP_CWORD=1; COMP_LINE='veil dec'; COMP_POINT=8\n\
         _veil veil dec veil\n\
         echo \"reply: ${COMPREPLY[*]}\"",
    );
    assert_eq!(code, Some(0), "stderr: {err}");
    assert_eq!(err, "", "bash printed errors while loading the script");
    assert!(out.contains("-F _veil veil"), "not registered: {out}");
    assert!(out.contains("reply: decrypt"), "no completion: {out}");
}

#[test]
fn zsh_loads_the_completion_script() {
    let Some(zsh) = shell("zsh") else { return };
    let (code, out, err) = run_shell(
        &zsh,
        &["-f"],
        "autoload -U compinit; compinit -u\n\
         source completions/_veil || exit 9\n\
         print -r -- \"registered: ${_comps[veil]}\"",
    );
    assert_eq!(code, Some(0), "stderr: {err}");
    assert_eq!(err, "", "zsh printed errors while loading the script");
    assert!(out.contains("registered: _veil"), "not registered: {out}");
}

#[test]
fn a_broken_script_is_detected() {
    // The check itself must be able to fail: a file that is not a completion script.
    let Some(bash) = shell("bash") else { return };
    let (code, _, err) = run_shell(&bash, &["--norc"], "source Cargo.toml");
    assert!(
        code != Some(0) || !err.is_empty(),
        "a broken script looked fine"
    );
}
