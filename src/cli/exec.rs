//! `veil exec-env` and `veil exec-file`: decrypt a file, then run a program with the values in
//! its environment or in a private FIFO, and exit with the program's status.
//!
//! Thin glue over [`crate::exec`]: argument checks, decryption (as `veil decrypt` does it), and
//! the order that keeps cleanup safe (the private directory is registered with the signal
//! thread as it is created).
//! Secrets go into the child's environment or the FIFO only, never into its argv or a message.
//!
//! Several files (`exec-env A B -- PROG`, `exec-env A B 'CMD'`) are opened and merged by
//! `cli::multi` before anything runs. The argument rule keeps sops's two-argument form: with
//! `--` every positional is a file; without it, the last positional is the command.

use super::args::{ExecCommonArgs, ExecEnvArgs, ExecFileArgs, InputArgs};
use crate::engine::{self, DecryptOptions, Decrypted};
use crate::error::{Code, Error, Result};
use crate::exec::run::{check_filename, exec_replace, spawn_failure_code};
use crate::exec::user::{resolve_run_as_system, RunAs};
use crate::exec::{
    env_from_doc, exit_code, is_portable_name, substitute_placeholder, EnvOptions, PrivateDir,
    Program, Spawn,
};
use crate::format::{EmitOptions, Parsed};
use crate::keys::KeyService;
use crate::tree::Value;
use std::ffi::OsString;
use std::process::{Command, Stdio};
use zeroize::Zeroizing;

/// `veil exec-env FILE CMD` / `veil exec-env FILE -- PROGRAM ARGS…`.
pub fn run_env(a: &ExecEnvArgs) -> Result<i32> {
    let (files, program) = files_and_program(&a.file, a.command.as_deref(), &a.more, &a.argv)?;
    if a.common.background {
        if a.same_process {
            return Err(Error::new(
                Code::ConflictingParameters,
                "Error: The --same-process flag cannot be used with --background",
            ));
        }
        eprintln!("warning: exec-env's --background option is deprecated (as in sops) and will be removed; the command runs detached, without its output");
    }
    let user = user(&a.common)?;
    let opts = EnvOptions {
        flatten: !a.no_flatten,
        separator: a.separator.clone(),
    };
    let vars = if files.len() == 1 {
        let (_, dec, _) = open(&a.common, None, &files[0])?;
        let null = Value::Null;
        env_from_doc(dec.docs.first().unwrap_or(&null), &opts)?
    } else {
        let m = open_several("exec-env", &a.common, None, &files, a.strict)?;
        env_from_doc(&m.doc, &opts)?
    };
    if matches!(program, Program::Shell(_)) {
        for v in vars.iter().filter(|v| !is_portable_name(&v.name)) {
            super::log::advise(format!(
                "warning: {} is not a portable variable name; /bin/sh may drop it before the command sees it\nhint: rename the key, or run the program without a shell: `veil exec-env FILE -- PROGRAM ARGS`",
                v.name
            ));
        }
    }
    let spawn = Spawn {
        program,
        env: &vars,
        pristine: a.pristine,
        // The switch is made by the helper child (`child_command`), not by std.
        user: None,
    };
    let mut cmd = child_command(&spawn, user.as_ref())?;
    if a.same_process {
        let e = exec_replace(&mut cmd);
        return Ok(spawn_failed(&spawn.program, &e));
    }
    if a.common.background {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        return Ok(match cmd.spawn() {
            Ok(_) => 0,
            Err(e) => spawn_failed(&spawn.program, &e),
        });
    }
    Ok(run_child(&mut cmd, &spawn.program))
}

/// `veil exec-file FILE 'CMD {}'` / `veil exec-file FILE -- PROGRAM {} …`.
pub fn run_file(a: &ExecFileArgs) -> Result<i32> {
    let (files, program) = files_and_program(&a.file, a.command.as_deref(), &a.more, &a.argv)?;
    if let Some(n) = &a.filename {
        // sops 3.13's words; veil's own reason (it is stricter: no subdirectories) as the hint.
        check_filename(n).map_err(|e| {
            Error::generic("The provided filename is not a local path.").hint(e.message)
        })?;
    }
    if a.common.background {
        eprintln!("warning: exec-file's --background option is deprecated (as in sops) and ignored: veil waits for the command, since the decrypted file is removed when it exits");
    }
    let user = user(&a.common)?;
    let plaintext = if files.len() == 1 {
        let (parsed, dec, same_format) = open(&a.common, a.output_type.as_deref(), &files[0])?;
        Zeroizing::new(match same_format {
            None => parsed.render(&dec.edits, None)?,
            Some(outf) => outf
                .store()
                .emit(&dec.docs, None, &EmitOptions::default())?,
        })
    } else {
        let m = open_several(
            "exec-file",
            &a.common,
            a.output_type.as_deref(),
            &files,
            a.strict,
        )?;
        super::multi::emit(&m)?
    };
    // The directory is registered with the signal thread as it is made: a fatal signal before
    // or after the child runs removes it; while the child runs, signals go to the child.
    let owner = user.as_ref().map(|u| u.ids);
    let dir = PrivateDir::create(a.filename.as_deref(), !a.no_fifo, owner, plaintext)?;
    let program = substitute_placeholder(&program, dir.path());
    let spawn = Spawn {
        program,
        env: &[],
        pristine: false,
        user: None,
    };
    let mut cmd = child_command(&spawn, user.as_ref())?;
    let code = run_child(&mut cmd, &spawn.program);
    dir.remove()?;
    Ok(code)
}

fn run_child(cmd: &mut Command, program: &Program) -> i32 {
    match crate::guard::signals::run_forwarding(cmd) {
        Ok(status) => {
            // sops reports a child's failure as Go does (`exit status N`) before exiting
            // with its code; under the `sops` name veil prints the same line.
            if let Some(c) = status.code().filter(|c| *c != 0) {
                if super::invoked_name() == "sops" {
                    eprintln!("exit status {c}");
                }
            }
            exit_code(status)
        }
        Err(e) => spawn_failed(program, &e),
    }
}

/// Report a program that could not start (by name only; its arguments may be anything) and
/// give the shell's code for it.
fn spawn_failed(program: &Program, e: &std::io::Error) -> i32 {
    let name = match program {
        Program::Shell(_) => "/bin/sh".to_string(),
        Program::Argv(argv) => argv
            .first()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    eprintln!("could not run {name}: {e}");
    super::log::advise("hint: check the program name and that it is executable (the argv form does not use a shell)");
    spawn_failure_code(e)
}

/// The files and the program of an exec command line. With `--`, every positional is a file;
/// without it, the last positional is the command (so sops's `exec-env FILE CMD` keeps its
/// meaning and `exec-env A B CMD` reads two files).
fn files_and_program(
    file: &str,
    command: Option<&str>,
    more: &[String],
    argv: &[OsString],
) -> Result<(Vec<String>, Program)> {
    let mut positionals: Vec<String> = std::iter::once(file.to_string())
        .chain(command.map(str::to_string))
        .chain(more.iter().cloned())
        .collect();
    if !argv.is_empty() {
        return Ok((positionals, program(None, argv)?));
    }
    let command = if positionals.len() > 1 {
        positionals.pop()
    } else {
        None
    };
    Ok((positionals, program(command.as_deref(), argv)?))
}

/// Open several files and merge them (`cli::multi`), audited before any value reaches an
/// environment or a file.
fn open_several(
    command: &'static str,
    common: &ExecCommonArgs,
    output_type: Option<&str>,
    files: &[String],
    strict: bool,
) -> Result<super::multi::Merged> {
    let m = super::multi::open_merged(&super::multi::Request {
        command,
        files,
        input_type: common.input_type.as_deref(),
        output_type,
        ignore_mac: common.ignore_mac,
        decryption_order: common.decryption_order.as_deref(),
        strict,
    })?;
    crate::audit::session::release()?;
    Ok(m)
}

/// sops's form (one command string for /bin/sh -c) or the argv form after `--`.
fn program(command: Option<&str>, argv: &[OsString]) -> Result<Program> {
    match (command, argv.is_empty()) {
        (Some(_), false) => Err(Error::new(
            Code::ConflictingParameters,
            "give either a command string or `-- PROGRAM ARGS`, not both",
        )
        .hint("`veil exec-env FILE 'cmd args'` runs /bin/sh -c; `veil exec-env FILE -- cmd args` runs cmd directly")),
        (Some(c), true) => Ok(Program::Shell(c.to_string())),
        (None, false) => Ok(Program::Argv(argv.to_vec())),
        (None, true) => Err(Error::generic("error: missing command to run")
            .hint("add a command: `veil exec-env FILE 'cmd args'` or `veil exec-env FILE -- cmd args`")),
    }
}

fn user(common: &ExecCommonArgs) -> Result<Option<RunAs>> {
    common
        .user
        .as_deref()
        .map(resolve_run_as_system)
        .transpose()
}

/// The child's command: `spawn`'s, switched to `user` when there is one (sops 3.13: the
/// user's groups, ids, and `HOME`/`USER`/`LOGNAME` unless a decrypted value sets them).
fn child_command(spawn: &Spawn, user: Option<&RunAs>) -> Result<Command> {
    let mut cmd = spawn.command()?;
    let Some(u) = user else {
        return Ok(cmd);
    };
    for (k, v) in u.login_env() {
        if spawn.env.iter().any(|e| e.name == k) {
            continue;
        }
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    u.command(&cmd, spawn.pristine)
}

/// Read, parse and decrypt `file`. The third item is the output format when it differs from
/// the input format (then the plaintext is emitted fresh rather than rendered losslessly).
fn open(
    common: &ExecCommonArgs,
    output_type: Option<&str>,
    file: &str,
) -> Result<(Box<dyn Parsed>, Decrypted, Option<crate::format::Format>)> {
    let input = InputArgs {
        input_type: common.input_type.clone(),
        output_type: output_type.map(str::to_string),
        filename_override: None,
    };
    let (inf, outf) = super::formats(&input, Some(file));
    let order = engine::parse_decryption_order(common.decryption_order.as_deref())?;
    let data = super::io::read_existing(file, false)?;
    let opts = DecryptOptions {
        ignore_mac: common.ignore_mac,
        decryption_order: order,
        require_integrity: super::integrity_required(&input, Some(file)),
    };
    let o = crate::pipeline::open_to_read(
        data,
        inf,
        outf,
        &opts,
        &KeyService::local(),
        &super::log::Verbose,
    )?;
    super::rotation::warn_opened(file, None, &o.dec.metadata);
    // Audited before any value reaches an environment or a file.
    crate::audit::session::release()?;
    let (parsed, dec) = (o.parsed, o.dec);
    let other = (outf != inf).then_some(outf);
    Ok((parsed, dec, other))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_positional_is_the_command_unless_dashdash() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        // sops's two-argument form.
        let (f, p) = files_and_program("a.yaml", Some("echo hi"), &[], &[]).unwrap();
        assert_eq!((f, p), (s(&["a.yaml"]), Program::Shell("echo hi".into())));
        // Several files, command last.
        let (f, p) =
            files_and_program("a.yaml", Some("b.env"), &s(&["c.json", "cmd"]), &[]).unwrap();
        assert_eq!(f, s(&["a.yaml", "b.env", "c.json"]));
        assert_eq!(p, Program::Shell("cmd".into()));
        // With --, every positional is a file.
        let (f, p) = files_and_program("a.yaml", Some("b.env"), &[], &["env".into()]).unwrap();
        assert_eq!(f, s(&["a.yaml", "b.env"]));
        assert_eq!(p, Program::Argv(vec!["env".into()]));
        // One positional and no --: no command.
        assert_eq!(
            files_and_program("a.yaml", None, &[], &[])
                .unwrap_err()
                .code,
            Code::Generic
        );
    }

    #[test]
    fn command_forms() {
        assert_eq!(
            program(Some("echo hi"), &[]).unwrap(),
            Program::Shell("echo hi".into())
        );
        assert_eq!(
            program(None, &["env".into()]).unwrap(),
            Program::Argv(vec!["env".into()])
        );
        assert_eq!(
            program(Some("x"), &["y".into()]).unwrap_err().code,
            Code::ConflictingParameters
        );
        assert_eq!(program(None, &[]).unwrap_err().code, Code::Generic);
    }
}
