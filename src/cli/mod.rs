//! The command-line front end: argument handling, one file per command, exit codes.
//!
//! `main` turns every error into sops's exit code after printing its cause line and hint on
//! stderr. Nothing here prints a secret: errors carry key paths and key identifiers only.

pub mod access;
pub mod agent;
pub mod args;
pub mod assets;
pub mod check;
pub mod decrypt;
pub mod diff;
pub mod edit;
pub mod encrypt;
pub mod exec;
pub mod extract;
pub mod filestatus;
pub mod git;
pub mod gotext;
pub mod groups;
pub mod init;
pub mod io;
pub mod keygen;
pub mod keyservice;
pub mod lifecycle;
pub mod log;
pub mod multi;
pub mod publish;
pub mod recursive;
pub mod rotate;
pub mod rotation;
pub mod set;
pub mod updatekeys;

use crate::error::{Code, Error, Result};
use crate::format::Format;
use args::{Cli, Command, InputArgs};
use std::ffi::OsString;

/// The sops release whose command line and behaviour veil follows (`sops --version`).
macro_rules! sops_version {
    () => {
        "3.13.2"
    };
}
pub const SOPS_VERSION: &str = sops_version!();

/// The name the program was invoked as: `sops` when run through a symlink of that name (the
/// behaviour is identical; only usage and help text say `sops`), else `veil`.
pub fn invoked_name() -> &'static str {
    let arg0 = std::env::args_os().next();
    let base = arg0
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str());
    match base {
        Some("sops") => "sops",
        _ => "veil",
    }
}

/// Parse the command line, with usage and help named after argv[0].
fn parse() -> std::result::Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let name = invoked_name();
    let mut cmd = args::lazily(Cli::command).name(name).bin_name(name);
    if name == "sops" {
        // Scripts (e.g. Ansible's community.sops) read the second word of `sops --version` as
        // sops's version and pick flags and behaviour by it: report the sops whose command line
        // and behaviour veil follows. (What veil lacks — the GCP/Azure/Huawei
        // backends — every sops version has, so no lower number would be truer about it.)
        cmd = cmd.version(concat!(
            sops_version!(),
            " (veil ",
            env!("CARGO_PKG_VERSION"),
            ")"
        ));
    }
    let argv = hoist_globals(&cmd, std::env::args_os().collect());
    // Freeing the matches and the built command tree (every subcommand, every argument) costs
    // about a third of what building and parsing did; the process ends soon, so both are leaked.
    let parsed = match cmd.try_get_matches_from_mut(argv) {
        Ok(matches) => {
            let cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd));
            std::mem::forget(matches);
            cli
        }
        Err(e) => Err(e),
    };
    std::mem::forget(cmd);
    parsed
}

/// Move global options written before a subcommand (`veil --verbose decrypt f`) to just after
/// it. clap would otherwise take them as the legacy form's top-level flags, which
/// `args_conflicts_with_subcommands` keeps apart from subcommands. Anything else is untouched.
pub fn hoist_globals(cmd: &clap::Command, argv: Vec<OsString>) -> Vec<OsString> {
    let mut globals = Vec::new();
    let mut i = 1;
    while let Some(a) = argv.get(i).and_then(|a| a.to_str()) {
        let flag = [
            "--verbose",
            "--force",
            "--disable-version-check",
            "--check-for-updates",
        ]
        .contains(&a);
        let flag = flag || a == "--enable-local-keyservice";
        let joined = [
            "--config=",
            "--indent=",
            "--keyservice=",
            "--enable-local-keyservice=",
        ];
        if flag || joined.iter().any(|p| a.starts_with(p)) {
            globals.push(i);
            i += 1;
        } else if (a == "--config" || a == "--indent" || a == "--keyservice") && i + 1 < argv.len()
        {
            globals.extend([i, i + 1]);
            i += 2;
        } else {
            break;
        }
    }
    let is_sub = argv
        .get(i)
        .and_then(|a| a.to_str())
        .is_some_and(|a| cmd.find_subcommand(a).is_some());
    if globals.is_empty() || !is_sub {
        return argv;
    }
    let mut out = Vec::with_capacity(argv.len());
    out.extend(argv.first().cloned());
    out.extend(argv.get(i).cloned());
    out.extend(globals.iter().filter_map(|&g| argv.get(g).cloned()));
    out.extend(argv.iter().skip(i + 1).cloned());
    out
}

/// The `--config` path (or `SOPS_CONFIG`), wherever the flag was placed.
pub fn explicit_config() -> Option<std::path::PathBuf> {
    let g = log::globals();
    let p = crate::config::explicit_config_path(g.config.as_deref().map(std::path::Path::new));
    if let Some(p) = &p {
        log::step(format!("config: {} (explicit)", p.display()));
    }
    p
}

/// The layout options of this run for fresh output: `.sops.yaml` `stores` (found as every
/// command finds it) and `--indent`. A config that cannot be read is kept as an error, which
/// surfaces when a fresh layout is written.
pub fn layout() -> crate::pipeline::LayoutOptions {
    let explicit = explicit_config();
    let stores = std::env::current_dir()
        .map_err(Error::from)
        .and_then(|cwd| crate::config::load_config(explicit.as_deref(), &cwd))
        .map(|(c, _)| c.map(|c| c.stores));
    crate::pipeline::LayoutOptions::new(stores, log::globals().indent)
}

/// [`layout`] with a config the command has loaded already.
pub fn layout_with(conf: Option<&crate::config::Config>) -> crate::pipeline::LayoutOptions {
    crate::pipeline::LayoutOptions::new(Ok(conf.map(|c| c.stores)), log::globals().indent)
}

/// Entry point used by `src/main.rs`; returns the process exit code.
pub fn main() -> i32 {
    let argv: Vec<OsString> = std::env::args_os().collect();
    if argv
        .get(1)
        .is_some_and(|a| a == crate::exec::user::HELPER_ARG)
    {
        // veil started as exec-*'s user-switching helper (see `exec::user`), not by a user.
        return crate::exec::user::helper_main(&argv[2..]);
    }
    // Before anything that may hold a secret (argv included): no core dumps. The signal thread
    // that removes temporary plaintext on a fatal signal starts with the first temporary file
    // or child (`guard::signals::tracked`).
    if let Err(e) = crate::guard::start() {
        eprintln!("could not set up signal handling: {e}");
        return Code::Generic.exit_code();
    }
    let cli = match parse() {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 1,
            };
            let _ = e.print();
            return code;
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", log::render_error(&e));
            e.code.exit_code()
        }
    }
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<i32> {
    log::init(log::Globals {
        config: cli.global.config.clone(),
        indent: cli.global.indent,
        verbose: cli.global.verbose,
        force: cli.global.force,
    });
    log::step(format!("invoked as {}", invoked_name()));
    keyservice::configure(&cli.global)?;
    // Commands that rewrite their input in place hold its lock from before reading it until the
    // new version is in place (set, unset and edit take theirs themselves).
    // The audit entry (when VEIL_AUDIT is set) starts before the file is touched: in required
    // mode an unusable log stops the command here.
    if let Some((command, file)) = audited(&cli) {
        // The config's `veil.audit` is read only when VEIL_AUDIT does not decide.
        let conf = || load_config_here().ok().and_then(|(_, c)| c);
        match crate::audit::session::begin(command, file, conf) {
            // The textconv driver never makes git fail: it shows the ciphertext instead.
            Err(e) if command == "git-textconv" => eprintln!("veil: {}", e.message),
            r => r?,
        }
    }
    let r = dispatch(cli);
    crate::audit::session::finish(&r)?;
    r
}

/// The audited command of this command line and its file (see `crate::audit`); `None` for
/// commands that open no existing secret, and for updatekeys, which logs each file itself.
fn audited(cli: &Cli) -> Option<(&'static str, Option<&str>)> {
    Some(match &cli.command {
        // `decrypt -r` writes one entry per file itself.
        Some(Command::Decrypt(a)) if a.recursive.is_some() => return None,
        Some(Command::Decrypt(a)) => ("decrypt", a.file.as_deref()),
        Some(Command::Edit(a)) => ("edit", Some(a.file.as_str())),
        Some(Command::Set(a)) => ("set", Some(a.file.as_str())),
        Some(Command::Unset(a)) => ("unset", Some(a.file.as_str())),
        Some(Command::Rotate(a)) => ("rotate", Some(a.file.as_str())),
        Some(Command::ExecEnv(a)) => ("exec-env", Some(a.file.as_str())),
        Some(Command::ExecFile(a)) => ("exec-file", Some(a.file.as_str())),
        Some(Command::Groups(g)) => match &g.command {
            args::GroupsCommand::Add(a) => ("groups-add", Some(a.file.as_str())),
            args::GroupsCommand::Delete(a) => ("groups-delete", Some(a.file.as_str())),
        },
        Some(Command::Git(g)) => match &g.command {
            args::GitCommand::Textconv(a) => ("git-textconv", Some(a.file.as_str())),
            _ => return None,
        },
        Some(Command::Encrypt(a)) if a.reuse_from.is_some() => {
            ("encrypt-reuse-from", a.reuse_from.as_deref())
        }
        None => {
            let l = &cli.legacy;
            let file = l.file.as_deref()?;
            // The same precedence as `dispatch`.
            let command = if l.decrypt {
                "decrypt"
            } else if l.encrypt {
                return None;
            } else if l.rotate {
                "rotate"
            } else if l.set.is_some() {
                "set"
            } else {
                "edit"
            };
            (command, Some(file))
        }
        _ => return None,
    })
}

/// Run the command of a parsed command line (after [`run`]'s set-up).
fn dispatch(cli: Cli) -> Result<i32> {
    let _lock = match in_place_target(&cli) {
        Some(f) => Some(io::lock_for_update(f)?),
        None => None,
    };
    match cli.command {
        Some(Command::Encrypt(a)) => match &a.reuse_from {
            Some(old) => lifecycle::reuse_from(&a.input, &a.output, old, false, a.file.as_deref()),
            None => match &a.recursive {
                Some(dir) => recursive::encrypt_dir(&a, dir),
                None => encrypt::run(&a.input, &a.output, &a.keys, a.file.as_deref()),
            },
        },
        Some(Command::Edit(a)) => edit::run(&edit::EditRequest {
            input: &a.input,
            keys: &a.keys,
            change: &a.change,
            show_master_keys: a.show_master_keys,
            file: &a.file,
        }),
        Some(Command::Set(a)) => set::run_set(&a),
        Some(Command::Unset(a)) => set::run_unset(&a),
        Some(Command::Rotate(a)) => rotate::run(&a),
        Some(Command::Updatekeys(a)) => updatekeys::run(&a),
        Some(Command::Groups(g)) => match &g.command {
            args::GroupsCommand::Add(a) => groups::run_add(a),
            args::GroupsCommand::Delete(a) => groups::run_delete(a),
        },
        Some(Command::Publish(a)) => publish::run(&a),
        Some(Command::Decrypt(a)) => decrypt::run_command(&a),
        Some(Command::Filestatus(a)) => filestatus::run(a.input_type.as_deref(), &a.file),
        Some(Command::ExecEnv(a)) => exec::run_env(&a),
        Some(Command::ExecFile(a)) => exec::run_file(&a),
        Some(Command::Keygen(a)) => keygen::run(a.output.as_deref(), a.append, a.pq),
        Some(Command::Init(a)) => init::run(&a.age),
        Some(Command::Check(a)) => check::run(&a),
        Some(Command::Git(g)) => git::run(&g),
        Some(Command::Access(a)) => access::run(&a),
        Some(Command::Diff(a)) => diff::run(&a),
        Some(Command::Keyservice(a)) => keyservice::run(&a),
        Some(Command::Agent(a)) => agent::run(&a),
        Some(Command::Completion(a)) => {
            io::write_stdout(&assets::completion(a.shell))?;
            Ok(0)
        }
        None => {
            let l = cli.legacy;
            let Some(file) = l.file.as_deref() else {
                return Err(
                    Error::new(Code::NoFileSpecified, "Error: no file specified")
                        .hint("run `veil --help` for the commands, e.g. `veil decrypt FILE`"),
                );
            };
            let modes = [l.encrypt, l.decrypt, l.rotate, l.set.is_some()];
            if modes.iter().filter(|m| **m).count() > 1 {
                eprintln!(
                    "warning: More than one command (--encrypt, --decrypt, --rotate, --set) has been specified. Only the changes made by the last one will be visible. Note that this behavior is deprecated and will cause an error eventually."
                );
            }
            if l.decrypt {
                decrypt::run(
                    &l.input,
                    &l.output,
                    l.extract.as_deref(),
                    l.ignore_mac,
                    l.decryption_order.as_deref(),
                    Some(file),
                )
            } else if l.encrypt {
                encrypt::run(&l.input, &l.output, &l.keys, Some(file))
            } else if l.rotate {
                let change = args::ChangeArgs {
                    ignore_mac: l.ignore_mac,
                    decryption_order: l.decryption_order.clone(),
                };
                // sops has one --encryption-context; in the legacy form it lives in KeyArgs.
                let mut kc = l.key_changes.clone();
                kc.encryption_context = l.keys.encryption_context.clone();
                rotate::rotate_file(&l.input, &l.output, &change, &kc, file)
            } else if let Some(s) = &l.set {
                let (path, value) = set::parse_legacy_set(s)?;
                let change = args::ChangeArgs {
                    ignore_mac: l.ignore_mac,
                    decryption_order: l.decryption_order.clone(),
                };
                set::set_in_file(&l.input, &change, file, &path, value, false)
            } else {
                let change = args::ChangeArgs {
                    ignore_mac: l.ignore_mac,
                    decryption_order: l.decryption_order.clone(),
                };
                edit::run(&edit::EditRequest {
                    input: &l.input,
                    keys: &l.keys,
                    change: &change,
                    show_master_keys: l.show_master_keys,
                    file,
                })
            }
        }
    }
}

/// The file a command reads and then replaces in place (`-i`), other than set/unset/edit.
fn in_place_target(cli: &Cli) -> Option<&str> {
    let file = match &cli.command {
        Some(Command::Encrypt(a)) => a.output.in_place.then_some(a.file.as_deref())?,
        Some(Command::Decrypt(a)) => a.output.in_place.then_some(a.file.as_deref())?,
        Some(Command::Rotate(a)) => a.output.in_place.then_some(Some(a.file.as_str()))?,
        Some(Command::Groups(g)) => match &g.command {
            args::GroupsCommand::Add(a) => a.in_place.then_some(Some(a.file.as_str()))?,
            args::GroupsCommand::Delete(a) => a.in_place.then_some(Some(a.file.as_str()))?,
        },
        None => {
            let l = &cli.legacy;
            let mode = l.encrypt || l.decrypt || l.rotate;
            (mode && l.set.is_none() && l.output.in_place).then_some(l.file.as_deref())?
        }
        _ => None,
    };
    file.filter(|f| *f != "-")
}

pub use crate::pipeline::load_error;

/// Whether the encrypted file `file` (or `--filename-override`) must carry veil's integrity
/// field when it is read: `VEIL_REQUIRE_INTEGRITY=1`, or `veil_integrity: true` in the
/// `.sops.yaml` creation rule matching it. A config that cannot be read, or no matching rule,
/// requires nothing here (decrypting never needed a config; `veil check` reports a bad one).
pub fn integrity_required(input: &InputArgs, file: Option<&str>) -> bool {
    if crate::env::require_integrity() {
        return true;
    }
    integrity_rule(input, file, &load_config_here())
}

/// `.sops.yaml` as every command finds it from the current directory (or `--config`), with
/// that directory; an unreadable config is kept as the error.
///
/// Remembered for the process (keyed by the explicit path and the directory): the audit
/// switch and the layout of one command read the same file, once.
fn load_config_here() -> Result<(std::path::PathBuf, Option<crate::config::Config>)> {
    type Loaded = Result<Option<crate::config::Config>>;
    type Key = (Option<std::path::PathBuf>, std::path::PathBuf);
    static LAST: std::sync::Mutex<Option<(Key, Loaded)>> = std::sync::Mutex::new(None);
    let explicit = explicit_config();
    let cwd = std::env::current_dir()?;
    let key = (explicit, cwd.clone());
    let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((k, loaded)) = last.as_ref() {
        if *k == key {
            return loaded.clone().map(|c| (cwd, c));
        }
    }
    let loaded = crate::config::load_config(key.0.as_deref(), &cwd).map(|(c, _)| c);
    *last = Some((key, loaded.clone()));
    loaded.map(|c| (cwd, c))
}

/// Whether the creation rule matching `file` in a loaded config asks for the integrity field.
fn integrity_rule(
    input: &InputArgs,
    file: Option<&str>,
    loaded: &Result<(std::path::PathBuf, Option<crate::config::Config>)>,
) -> bool {
    let name = input.filename_override.as_deref().or(match file {
        Some("-") | None => None,
        f => f,
    });
    let (Some(name), Ok((cwd, Some(conf)))) = (name, loaded) else {
        return false;
    };
    let abs = crate::config::absolute_clean(std::path::Path::new(name), cwd);
    matches!(conf.rule_for(&abs), Ok(Some(r)) if r.integrity)
}

/// [`layout`] and [`integrity_required`] for a command that reads an encrypted file, from one
/// search and parse of `.sops.yaml` instead of two.
pub fn layout_and_integrity(
    input: &InputArgs,
    file: Option<&str>,
) -> (crate::pipeline::LayoutOptions, bool) {
    let loaded = load_config_here();
    let stores = match &loaded {
        Ok((_, conf)) => Ok(conf.as_ref().map(|c| c.stores)),
        Err(e) => Err(e.clone()),
    };
    let layout = crate::pipeline::LayoutOptions::new(stores, log::globals().indent);
    let required = crate::env::require_integrity() || integrity_rule(input, file, &loaded);
    (layout, required)
}

/// The input and output formats, by sops's rules: the flags, else the extension of the
/// `--filename-override` or file name; stdin without a name is binary.
pub fn formats(input: &InputArgs, file: Option<&str>) -> (Format, Format) {
    let name = input.filename_override.as_deref().or(match file {
        Some("-") | None => None,
        f => f,
    });
    let by_name = name.map(Format::from_path).unwrap_or(Format::Binary);
    let inf = input
        .input_type
        .as_deref()
        .and_then(Format::from_name)
        .unwrap_or(by_name);
    let outf = input
        .output_type
        .as_deref()
        .and_then(Format::from_name)
        .unwrap_or(by_name);
    (inf, outf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    fn hoist(args: &[&str]) -> Vec<String> {
        let argv = args.iter().map(OsString::from).collect();
        hoist_globals(&Cli::command(), argv)
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn globals_before_a_subcommand_move_after_it() {
        assert_eq!(
            hoist(&["veil", "--verbose", "--config", "c.yaml", "decrypt", "f"]),
            ["veil", "decrypt", "--verbose", "--config", "c.yaml", "f"]
        );
        assert_eq!(
            hoist(&["veil", "--indent=2", "groups", "add"]),
            ["veil", "groups", "--indent=2", "add"]
        );
    }

    #[test]
    fn the_legacy_form_is_untouched() {
        let legacy = ["veil", "--verbose", "-d", "f.yaml"];
        assert_eq!(hoist(&legacy), legacy);
        // A file named like a subcommand after a non-global flag stays a file.
        let f = ["veil", "-d", "--verbose", "decrypt"];
        assert_eq!(hoist(&f), f);
    }

    #[test]
    fn every_placement_parses() {
        for args in [
            &["veil", "--verbose", "--indent", "2", "decrypt", "f"][..],
            &["veil", "decrypt", "--verbose", "--indent", "2", "f"][..],
            &["veil", "decrypt", "f", "--config", "c", "--verbose"][..],
            &["veil", "--config", "c", "-d", "f"][..],
            &["veil", "-d", "f", "--indent", "-1"][..],
        ] {
            let argv = hoist_globals(&Cli::command(), args.iter().map(OsString::from).collect());
            let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert!(
                cli.global.verbose || cli.global.indent.is_some() || cli.global.config.is_some(),
                "{args:?}"
            );
        }
    }
}
