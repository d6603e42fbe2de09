//! The command-line front end: argument handling, one file per command, exit codes.
//!
//! `main` turns every error into sops's exit code after printing its cause line and hint on
//! stderr. Nothing here prints a secret: errors carry key paths and key identifiers only.

pub mod args;
pub mod assets;
pub mod check;
pub mod decrypt;
pub mod edit;
pub mod encrypt;
pub mod exec;
pub mod extract;
pub mod filestatus;
pub mod git;
pub mod groups;
pub mod init;
pub mod io;
pub mod keygen;
pub mod lifecycle;
pub mod rotate;
pub mod set;
pub mod updatekeys;

use crate::error::{Code, Error, Result};
use crate::format::Format;
use args::{Cli, Command, InputArgs};
use clap::Parser;

/// Entry point used by `src/main.rs`; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
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
            eprintln!("{e}");
            e.code.exit_code()
        }
    }
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Some(Command::Encrypt(a)) => match &a.reuse_from {
            Some(old) => lifecycle::reuse_from(&a.input, &a.output, old, false, a.file.as_deref()),
            None => encrypt::run(&a.input, &a.output, &a.keys, a.file.as_deref()),
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
        Some(Command::Decrypt(a)) => decrypt::run(
            &a.input,
            &a.output,
            a.extract.as_deref(),
            a.ignore_mac,
            a.decryption_order.as_deref(),
            a.file.as_deref(),
        ),
        Some(Command::Filestatus(a)) => filestatus::run(a.input_type.as_deref(), &a.file),
        Some(Command::ExecEnv(a)) => exec::run_env(&a),
        Some(Command::ExecFile(a)) => exec::run_file(&a),
        Some(Command::Keygen(a)) => keygen::run(a.output.as_deref(), a.append),
        Some(Command::Init(a)) => init::run(&a.age),
        Some(Command::Check(a)) => check::run(&a),
        Some(Command::Git(g)) => git::run(&g),
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
