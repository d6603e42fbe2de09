//! Running programs with secrets: the library side of `veil exec-env` and `veil exec-file`.
//!
//! It exists so that decrypted values reach a process through its environment or through a
//! private FIFO, never through argv and never as a plaintext file left on disk. The pieces are
//! kept apart so each can be tested on its own:
//! - [`env`] turns an opened document into environment variables (sops's `ValToString`,
//!   flattening of nested values, name checks), pure logic on [`crate::tree::Value`];
//! - [`user`] resolves `--user` from `/etc/passwd` text, pure logic;
//! - [`run`] builds the child's command, maps its exit status, and manages the private
//!   directory and FIFO of `exec-file` (signals are passed on by `crate::guard::signals`).
//!
//! Nothing here may put a plaintext value into an error message, a log line or a child's argv:
//! errors name the key path or the variable name only.

pub mod env;
pub mod run;
pub mod user;

pub use env::{env_from_doc, is_portable_name, EnvOptions, EnvVar};
pub use run::{exit_code, substitute_placeholder, PrivateDir, Program, Spawn};
