//! PGP master keys, through the `gpg` binary exactly as sops drives it.
//!
//! sops first tries a Go OpenPGP library on `pubring.gpg`/`secring.gpg`, which GnuPG ≥ 2.1 no
//! longer writes, and then falls back to the binary; veil goes straight to the binary, with
//! sops's arguments (docs/sops-format.md §4.3): encrypt with `--no-default-recipient --yes --encrypt -a -r FP
//! --trusted-key <last 16 hex> --no-encrypt-to` and the secret on stdin, store the armor
//! whitespace-trimmed; decrypt with `--use-agent -d` and the armor on stdin. `SOPS_GPG_EXEC`
//! replaces `gpg`, `GNUPGHOME` becomes `--homedir`; both are read when the backend is built.
//!
//! This module must never put the secret in argv or in an error message: it goes through a
//! pipe, and gpg's plaintext output is held in a zeroizing buffer. gpg prompts for passphrases
//! through its agent and pinentry, not through us.

use super::{Backend, KeyRef, Secret};
use crate::env;
use crate::error::{Code, Error, Outcome, Result};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use zeroize::Zeroizing;

/// Replaces the `gpg` program (a path, or a name looked up on `PATH`).
pub const SOPS_GPG_EXEC: &str = "SOPS_GPG_EXEC";
/// GnuPG's home directory; passed to gpg as `--homedir`.
pub const GNUPGHOME: &str = "GNUPGHOME";
/// Default PGP fingerprints for encryption (the default of `--pgp`).
pub const SOPS_PGP_FP: &str = "SOPS_PGP_FP";

/// gpg's output beyond this is not a wrapped data key; stop reading (defensive bound).
const MAX_OUTPUT: u64 = 1 << 20;

/// A fingerprint as sops takes it from the command line or a config: spaces removed. A
/// trailing `!` (gpg's "exactly this subkey") is kept for `-r`.
pub fn normalize_fingerprint(fp: &str) -> String {
    fp.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Parse a comma-separated fingerprint list (`--pgp`, `SOPS_PGP_FP`) into keys.
pub fn keys_from_fingerprints(list: &str) -> Vec<KeyRef> {
    list.split(',')
        .map(normalize_fingerprint)
        .filter(|f| !f.is_empty())
        .map(|fingerprint| KeyRef::Pgp { fingerprint })
        .collect()
}

/// The key id given to `--trusted-key`: the last 16 characters of the fingerprint, without a
/// trailing `!` (sops takes the last 16 of the raw string; with a `!` that is not a key id).
pub fn trusted_key_id(fp: &str) -> &str {
    let fp = fp.strip_suffix('!').unwrap_or(fp);
    // Fingerprints are ASCII hex; for anything else fall back to the whole string rather than
    // slicing inside a character.
    match fp.len().checked_sub(16) {
        Some(off) if fp.is_char_boundary(off) => &fp[off..],
        _ => fp,
    }
}

/// The PGP backend: which gpg to run and with which home, snapshotted from the environment.
#[derive(Clone, Debug)]
pub struct PgpBackend {
    program: String,
    homedir: Option<PathBuf>,
}

impl PgpBackend {
    /// Snapshot `SOPS_GPG_EXEC` and `GNUPGHOME` (nothing is run yet).
    pub fn from_env() -> PgpBackend {
        PgpBackend {
            program: env::var(SOPS_GPG_EXEC).unwrap_or_else(|| "gpg".to_string()),
            homedir: env::var(GNUPGHOME).map(PathBuf::from),
        }
    }

    /// A backend with an explicit program and home (tests, embedding).
    pub fn new(program: impl Into<String>, homedir: Option<PathBuf>) -> PgpBackend {
        PgpBackend {
            program: program.into(),
            homedir,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.program);
        if let Some(h) = &self.homedir {
            c.arg("--homedir").arg(h);
        }
        c.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Run gpg with `input` on stdin; returns (success, stdout, stderr).
    fn run(&self, args: &[&str], input: &[u8]) -> std::io::Result<(bool, Secret, String)> {
        let mut child = self.command(args).spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        // Write stdin and drain both pipes concurrently, so that no pipe can fill up and
        // deadlock us against gpg.
        let (out, err) = std::thread::scope(|s| {
            let writer = s.spawn(move || {
                if let Some(mut w) = stdin {
                    // A gpg that exits early closes the pipe; its exit status tells why.
                    let _ = w.write_all(input);
                }
            });
            let err_reader = s.spawn(move || {
                let mut buf = Vec::new();
                if let Some(r) = stderr {
                    let _ = r.take(MAX_OUTPUT).read_to_end(&mut buf);
                }
                buf
            });
            let mut out = Zeroizing::new(Vec::new());
            if let Some(r) = stdout {
                let _ = r.take(MAX_OUTPUT).read_to_end(&mut out);
            }
            let _ = writer.join();
            let err = err_reader.join().unwrap_or_default();
            (out, err)
        });
        let status = child.wait()?;
        Ok((
            status.success(),
            out,
            String::from_utf8_lossy(&err).into_owned(),
        ))
    }

    fn spawn_hint(&self) -> String {
        format!(
            "install GnuPG, or point {SOPS_GPG_EXEC} at the gpg program (now {:?})",
            self.program
        )
    }
}

/// gpg's diagnostic lines, condensed to one line for a report. gpg's stderr names keys and
/// users, never the plaintext.
fn condense(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("[GNUPG:]"))
        .collect();
    let mut s = lines.join("; ");
    if s.len() > 600 {
        let mut cut = 600;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    if s.is_empty() {
        "gpg printed no reason".to_string()
    } else {
        s
    }
}

/// Whether gpg's stderr says that no secret key for the message is in the keyring. veil passes
/// gpg exactly sops's arguments (a `SOPS_GPG_EXEC` wrapper may expect them), so this reads
/// gpg's English message; in another locale the outcome is reported as "failed" instead of "no
/// identity", with gpg's own words, and the exit code is the same.
fn says_no_secret_key(stderr: &str) -> bool {
    stderr.contains("No secret key")
}

impl Backend for PgpBackend {
    fn kind(&self) -> &'static str {
        "pgp"
    }

    fn wrap(&self, key: &KeyRef, secret: &[u8]) -> Result<String> {
        let KeyRef::Pgp { fingerprint } = key else {
            return Err(Error::generic("pgp: not a pgp key"));
        };
        let fp = normalize_fingerprint(fingerprint);
        let fail = |why: String| {
            Error::new(
                Code::Generic,
                format!("failed to encrypt the data key with pgp key {fp}: {why}"),
            )
        };
        let args = [
            "--no-default-recipient",
            "--yes",
            "--encrypt",
            "-a",
            "-r",
            fp.as_str(),
            "--trusted-key",
            trusted_key_id(&fp),
            "--no-encrypt-to",
        ];
        let (ok, out, err) = self.run(&args, secret).map_err(|e| {
            fail(format!("could not run {}: {e}", self.program)).hint(self.spawn_hint())
        })?;
        if !ok {
            return Err(fail(condense(&err)).hint(format!(
                "check that the public key {fp} is in the keyring (gpg --list-keys {fp}) and has an encryption subkey"
            )));
        }
        let text =
            String::from_utf8(out.to_vec()).map_err(|_| fail("gpg's output is not text".into()))?;
        let armor = text.trim();
        if !armor.starts_with("-----BEGIN PGP MESSAGE-----") {
            return Err(fail("gpg did not print an armored PGP message".into()));
        }
        Ok(armor.to_string())
    }

    fn unwrap(&self, key: &KeyRef, enc: &str) -> std::result::Result<Secret, Outcome> {
        let KeyRef::Pgp { fingerprint } = key else {
            return Err(Outcome::Unsupported);
        };
        let (ok, out, err) = match self.run(&["--use-agent", "-d"], enc.as_bytes()) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Outcome::NoIdentity(format!(
                    "pgp: the gpg program {:?} was not found (set {SOPS_GPG_EXEC} or install GnuPG)",
                    self.program
                )))
            }
            Err(e) => {
                return Err(Outcome::Failed(format!(
                    "pgp: could not run {}: {e}",
                    self.program
                )))
            }
        };
        if !ok {
            let why = condense(&err);
            let home = match &self.homedir {
                Some(h) => format!("{GNUPGHOME}={}", h.display()),
                None => format!("{GNUPGHOME} not set, default keyring"),
            };
            if says_no_secret_key(&err) {
                return Err(Outcome::NoIdentity(format!(
                    "pgp: no secret key for {fingerprint} in the gpg keyring ({home}): {why}"
                )));
            }
            return Err(Outcome::Failed(format!(
                "pgp: gpg could not decrypt with {fingerprint} ({home}): {why}"
            )));
        }
        if out.is_empty() {
            return Err(Outcome::Failed(format!(
                "pgp: gpg decrypted {fingerprint} to zero bytes"
            )));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_normalised() {
        assert_eq!(
            normalize_fingerprint(" 1E3C 6F3C 8B3A 4D2E  7E0F\t"),
            "1E3C6F3C8B3A4D2E7E0F"
        );
        let keys = keys_from_fingerprints("AAAA BBBB, ,CCCC!");
        assert_eq!(
            keys,
            vec![
                KeyRef::Pgp {
                    fingerprint: "AAAABBBB".into()
                },
                KeyRef::Pgp {
                    fingerprint: "CCCC!".into()
                }
            ]
        );
    }

    #[test]
    fn trusted_key_is_the_last_16_hex_digits() {
        let fp = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4";
        assert_eq!(trusted_key_id(fp), "3D16CEE4A27381B4");
        assert_eq!(trusted_key_id(&format!("{fp}!")), "3D16CEE4A27381B4");
        assert_eq!(trusted_key_id("ABCD"), "ABCD");
        // Never panics on non-ASCII input.
        assert_eq!(trusted_key_id("éééééééééx"), "éééééééééx");
    }

    #[test]
    fn stderr_is_condensed_without_status_lines() {
        let e = "[GNUPG:] ENC_TO 1234 18 0\ngpg: encrypted with cv25519 key\ngpg: decryption failed: No secret key\n";
        assert!(says_no_secret_key(e));
        assert_eq!(
            condense(e),
            "gpg: encrypted with cv25519 key; gpg: decryption failed: No secret key"
        );
        assert!(!says_no_secret_key(
            "gpg: decryption failed: Bad session key"
        ));
        assert_eq!(condense(""), "gpg printed no reason");
    }

    #[test]
    fn a_missing_gpg_is_no_identity_and_a_wrap_error() {
        let b = PgpBackend::new("/nonexistent/veil-test-gpg", None);
        let k = KeyRef::Pgp {
            fingerprint: "ABCDEF".into(),
        };
        assert!(matches!(
            b.unwrap(&k, "-----BEGIN PGP MESSAGE-----"),
            Err(Outcome::NoIdentity(_))
        ));
        let e = b.wrap(&k, &[1u8; 32]).err().map(|e| e.to_string());
        assert!(
            e.as_deref().unwrap_or("").contains("could not run"),
            "{e:?}"
        );
    }
}
