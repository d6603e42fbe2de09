//! veil's integration tests: one test binary, modules by area.
//!
//! One binary instead of one per file, so the library and its dependencies are linked into a
//! test executable once (the unit tests inside `src/` are the other one). Every area finds the
//! peers (the real sops, age, gpg, OpenBao, moto, the GCS emulator, Ansible) through
//! [`support`], the one harness: with `CI=true` a missing peer fails the test, elsewhere it is
//! skipped with a loud line on stderr. `scripts/peers.sh install` puts them in `.peers/` (or
//! `$VEIL_PEERS_DIR`), `scripts/test.sh` runs everything.
//!
//! Run one area or test with a filter: `cargo test --release --test integration -- interop::`.
//!
//! Property tests keep the cases that once failed in `tests/proptest-regressions/AREA/FILE.txt`
//! (proptest's place for a source file under a test crate rooted here), and replay them first;
//! commit a new one with the fix it led to. `scripts/test.sh` fixes the random seed.
//!
//! Tests in this binary share one process: anything process-wide (environment variables read by
//! in-process key backends) is set once, in [`support::process_env`], never per test.

mod support;

/// The command line: commands, flags, sops's command-line compatibility, completions.
mod cli;
/// Real clients of the sops command line (Ansible's `community.sops`).
mod clients;
/// `.sops.yaml` creation rules and which leaves a rule seals, against files sops wrote.
mod config;
/// `exec-env` and `exec-file`: secrets handed to a child process, signals, cleanup.
mod exec;
/// The format stores (YAML, JSON, TOML, dotenv, INI, binary): lossless round trips, property
/// tests, the streaming paths.
mod formats;
/// veil in real git repositories: the textconv diff driver, the key-level merge driver,
/// `veil check --staged`.
mod git;
/// Self-tests of the support module: its comparators decide whether veil agrees with sops, so
/// they must be able to fail.
mod harness;
/// Files written by the real sops and read by veil and the other way round.
mod interop;
/// Key backends (age, PGP, AWS KMS, Vault/OpenBao transit) against their real servers, key
/// groups and Shamir's scheme.
mod keys;
/// Changing encrypted files: set, unset, rotate, updatekeys, edits that keep git diffs small.
mod lifecycle;
/// The access and rotation policy: `veil access`, `max_age` warnings and `veil check`.
mod policy;
/// `publish` to S3, GCS and Vault KV.
mod publish;
/// What an attacker or an interrupted process must not achieve: tampered files, the integrity
/// field, signals, leftovers and plaintext on disk.
mod security;
