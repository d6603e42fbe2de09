//! The one harness of the integration tests: every area finds veil, the real peers and their
//! servers, and compares documents through this module.
//!
//! It exists so that every test runs veil and the real peers (sops, age, gpg, OpenBao, moto) the
//! same way: in a private sandbox directory whose HOME and XDG_CONFIG_HOME point into it, with
//! the environment cleared (so every SOPS_*/AWS_*/VAULT_*/GOOGLE_*/AZURE_* variable of the
//! developer's machine is gone) and fake cloud credentials set, so that no test can read the
//! developer's real keys or reach a cloud endpoint. It must not hide a missing peer in CI: with
//! `CI=true` a missing peer panics (see [`require_peer`]); elsewhere it prints a loud SKIP line.
//!
//! - [`peers`]: where the peers are (`$VEIL_PEERS_DIR` or `.peers/`), the servers'
//!   environment, and the skip-or-fail rule;
//! - [`sandbox`]: the private directory and the veil/sops commands run inside it, and the
//!   process environment of the tests that call key backends in-process;
//! - [`compare`]: data comparators ([`Data`], [`yaml_docs`], [`json_doc`], [`dotenv_pairs`],
//!   [`ini_sections`]) that compare two documents the way sops 3.11 sees them (go-yaml v3 scalar
//!   resolution, JSON numbers as float64), because veil is required to be data-identical to
//!   sops, not byte-identical;
//! - [`servers`], [`sops_json`]: OpenBao, moto, gpg homes and sops's JSON layout for the
//!   key-backend tests;
//! - [`exec`], [`process`]: child processes, signals and leftovers for `exec-*`, `edit` and the
//!   writers;
//! - [`oracle`]: the one independent implementation of the sops value format and MAC.
#![allow(dead_code)]

pub mod compare;
pub mod counting_proxy;
pub mod exec;
pub mod oracle;
pub mod peers;
pub mod process;
pub mod sandbox;
pub mod servers;
pub mod sops_json;

pub use compare::*;
pub use peers::*;
pub use sandbox::*;
