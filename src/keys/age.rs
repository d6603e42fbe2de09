//! age master keys: X25519 recipients, hybrid post-quantum recipients (`age1pq1…`, sops 3.12),
//! SSH keys (as age does them) and age plugins.
//!
//! Identities are gathered the way sops 3.13 gathers them, all combined: SSH keys
//! (`SOPS_AGE_SSH_PRIVATE_KEY_FILE`, the output of `SOPS_AGE_SSH_PRIVATE_KEY_CMD`, and
//! `~/.ssh/id_ed25519`, `~/.ssh/id_rsa`), `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`,
//! `SOPS_AGE_KEY_CMD` and the default `$XDG_CONFIG_HOME/sops/age/keys.txt` (else
//! `~/.config/sops/age/keys.txt`); key files may hold `AGE-SECRET-KEY-PQ-1…` identities.
//! Passphrase-protected identity files prompt on the terminal. The files are read once, on
//! first use; the two commands run once per recipient (they get `SOPS_AGE_RECIPIENT`); every
//! place looked at is remembered for the failure report.
//!
//! X25519 and SSH recipients stay first-class: they are what sops files hold today, even if the
//! age crate now marks them as not safe against a future quantum computer.
//!
//! This module never prints or logs identity material; `Debug` shows only where identities
//! came from.

use super::{Backend, KeyRef, Secret};
use crate::env;
use crate::error::{Code, Error, Outcome, Result};
use age::armor::{ArmoredReader, ArmoredWriter, Format as ArmorFormat};
use std::cell::OnceCell;
use std::collections::HashMap;
use std::io::{BufReader, Read, Write};
use std::path::PathBuf;
use std::str::FromStr;
use zeroize::Zeroizing;

/// Terminal callbacks for passphrase-protected identities and plugins.
#[derive(Clone, Copy)]
struct TermCallbacks;

impl age::Callbacks for TermCallbacks {
    fn display_message(&self, message: &str) {
        eprintln!("{message}");
    }
    fn confirm(&self, _message: &str, _yes: &str, _no: Option<&str>) -> Option<bool> {
        None
    }
    fn request_public_string(&self, _description: &str) -> Option<String> {
        None
    }
    fn request_passphrase(&self, description: &str) -> Option<age::secrecy::SecretString> {
        let p = Zeroizing::new(rpassword::prompt_password(format!("{description}: ")).ok()?);
        Some(age::secrecy::SecretString::from(p.to_string()))
    }
}

/// Where identities come from; snapshotted from the environment when the backend is built.
#[derive(Clone, Debug, Default)]
pub struct AgeSources {
    pub ssh_key_file: Option<PathBuf>,
    pub default_ssh_files: Vec<PathBuf>,
    /// `SOPS_AGE_KEY` is a secret: kept only inside the zeroizing buffer, never in Debug.
    pub key_env_set: bool,
    pub key_file: Option<PathBuf>,
    pub key_cmd: Option<String>,
    /// `SOPS_AGE_SSH_PRIVATE_KEY_CMD`: prints one unencrypted SSH private key (sops 3.12).
    pub ssh_key_cmd: Option<String>,
    pub default_key_file: Option<PathBuf>,
}

/// Identities and notes on where each source was looked for.
type Loaded = (Vec<Box<dyn age::Identity>>, Vec<String>);

/// The identities the two commands printed for one recipient, and notes on each command.
type FromCommands = (Vec<Box<dyn age::Identity>>, Vec<String>);

/// The age backend.
pub struct AgeBackend {
    sources: AgeSources,
    key_env: Option<Zeroizing<String>>,
    identities: OnceCell<Loaded>,
    /// Per recipient: what `SOPS_AGE_SSH_PRIVATE_KEY_CMD` and `SOPS_AGE_KEY_CMD` gave.
    cmd_identities: std::cell::RefCell<HashMap<String, FromCommands>>,
}

impl std::fmt::Debug for AgeBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgeBackend")
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

/// The default key file path: `$XDG_CONFIG_HOME/sops/age/keys.txt`, else
/// `~/.config/sops/age/keys.txt` (Linux; sops's `os.UserConfigDir`).
pub fn default_key_file() -> Option<PathBuf> {
    if let Some(x) = env::var(env::XDG_CONFIG_HOME) {
        return Some(PathBuf::from(x).join("sops/age/keys.txt"));
    }
    #[cfg(target_os = "macos")]
    {
        return env::var(env::HOME)
            .map(|h| PathBuf::from(h).join("Library/Application Support/sops/age/keys.txt"));
    }
    #[allow(unreachable_code)]
    env::var(env::HOME).map(|h| PathBuf::from(h).join(".config/sops/age/keys.txt"))
}

impl AgeBackend {
    /// Snapshot the identity sources from the environment (nothing is read yet).
    pub fn from_env() -> AgeBackend {
        let home = env::var(env::HOME).map(PathBuf::from);
        let ssh_key_file = env::var(env::SOPS_AGE_SSH_PRIVATE_KEY_FILE).map(PathBuf::from);
        // sops 3.13 reads the default SSH keys too when a key file or command is named.
        let default_ssh_files = match &home {
            Some(h) => vec![h.join(".ssh/id_ed25519"), h.join(".ssh/id_rsa")],
            None => vec![],
        };
        let key_env = env::var(env::SOPS_AGE_KEY).map(Zeroizing::new);
        AgeBackend {
            sources: AgeSources {
                ssh_key_file,
                default_ssh_files,
                key_env_set: key_env.is_some(),
                key_file: env::var(env::SOPS_AGE_KEY_FILE).map(PathBuf::from),
                key_cmd: env::var(env::SOPS_AGE_KEY_CMD),
                ssh_key_cmd: env::var(env::SOPS_AGE_SSH_PRIVATE_KEY_CMD),
                default_key_file: default_key_file(),
            },
            key_env,
            identities: OnceCell::new(),
            cmd_identities: Default::default(),
        }
    }

    fn load(&self) -> &Loaded {
        self.identities.get_or_init(|| {
            let mut ids: Vec<Box<dyn age::Identity>> = Vec::new();
            let mut notes = Vec::new();
            let s = &self.sources;
            if let Some(p) = &s.ssh_key_file {
                load_ssh(p, &mut ids, &mut notes, true);
            }
            for p in &s.default_ssh_files {
                load_ssh(p, &mut ids, &mut notes, false);
            }
            if let Some(k) = &self.key_env {
                match parse_identities(k.as_bytes(), None) {
                    Ok(mut v) => {
                        notes.push(format!("{}: {} identities", env::SOPS_AGE_KEY, v.len()));
                        ids.append(&mut v);
                    }
                    Err(e) => notes.push(format!("{}: unreadable ({e})", env::SOPS_AGE_KEY)),
                }
            } else {
                notes.push(format!("{}: not set", env::SOPS_AGE_KEY));
            }
            match &s.key_file {
                Some(p) => load_file(p, &mut ids, &mut notes, env::SOPS_AGE_KEY_FILE),
                None => notes.push(format!("{}: not set", env::SOPS_AGE_KEY_FILE)),
            }
            if let Some(p) = &s.default_key_file {
                load_file(p, &mut ids, &mut notes, "default key file");
            }
            (ids, notes)
        })
    }

    /// Run the identity commands for `recipient` (once per recipient): the SSH key command
    /// first, then `SOPS_AGE_KEY_CMD`, in sops's order.
    fn cmd_identities(&self, recipient: &str) {
        if self.cmd_identities.borrow().contains_key(recipient) {
            return;
        }
        let mut ids: Vec<Box<dyn age::Identity>> = Vec::new();
        let mut notes = Vec::new();
        let var = env::SOPS_AGE_SSH_PRIVATE_KEY_CMD;
        match &self.sources.ssh_key_cmd {
            None => notes.push(format!("{var}: not set")),
            Some(cmd) => {
                match run_key_cmd(var, cmd, recipient).and_then(|out| ssh_from_cmd(&out)) {
                    Ok(id) => {
                        notes.push(format!("{var}: 1 identity"));
                        ids.push(id);
                    }
                    Err(e) => notes.push(e),
                }
            }
        }
        let var = env::SOPS_AGE_KEY_CMD;
        match &self.sources.key_cmd {
            None => notes.push(format!("{var}: not set")),
            Some(cmd) => {
                match run_key_cmd(var, cmd, recipient)
                    .and_then(|out| parse_identities(&out, None).map_err(|e| format!("{var}: {e}")))
                {
                    Ok(mut v) => {
                        notes.push(format!("{var}: {} identities", v.len()));
                        ids.append(&mut v);
                    }
                    Err(e) => notes.push(e),
                }
            }
        }
        self.cmd_identities
            .borrow_mut()
            .insert(recipient.to_string(), (ids, notes));
    }
}

/// Run an identity command the way sops does: split like a shell line (no shell), with
/// `SOPS_AGE_RECIPIENT` set; its stdout is secret. `var` names it in the notes.
fn run_key_cmd(
    var: &str,
    cmd: &str,
    recipient: &str,
) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
    let argv = shlex::split(cmd).ok_or_else(|| format!("{var}: cannot split the command"))?;
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| format!("{var}: empty command"))?;
    let out = std::process::Command::new(prog)
        .args(args)
        .env(env::SOPS_AGE_RECIPIENT, recipient)
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("{var}: could not run {prog}: {e}"))?;
    let stdout = Zeroizing::new(out.stdout);
    if !out.status.success() {
        return Err(format!("{var}: {prog} exited with {}", out.status));
    }
    Ok(stdout)
}

/// The SSH private key printed by `SOPS_AGE_SSH_PRIVATE_KEY_CMD`. A passphrase-protected key
/// is refused, as sops refuses it (there is no file to name in a prompt).
fn ssh_from_cmd(out: &[u8]) -> std::result::Result<Box<dyn age::Identity>, String> {
    let var = env::SOPS_AGE_SSH_PRIVATE_KEY_CMD;
    match age::ssh::Identity::from_buffer(out, None) {
        Ok(age::ssh::Identity::Unencrypted(id)) => {
            Ok(Box::new(age::ssh::Identity::Unencrypted(id)))
        }
        Ok(age::ssh::Identity::Encrypted(_)) => Err(format!(
            "the SSH key returned by running {var} is password protected, which is unsupported"
        )),
        Ok(age::ssh::Identity::Unsupported(_)) => Err(format!(
            "malformed SSH identity returned by running {var}: unsupported key type"
        )),
        Err(e) => Err(format!(
            "malformed SSH identity returned by running {var}: {e}"
        )),
    }
}

fn load_ssh(
    p: &PathBuf,
    ids: &mut Vec<Box<dyn age::Identity>>,
    notes: &mut Vec<String>,
    explicit: bool,
) {
    match std::fs::File::open(p) {
        Ok(f) => {
            match age::ssh::Identity::from_buffer(BufReader::new(f), Some(p.display().to_string()))
            {
                Ok(age::ssh::Identity::Unsupported(_)) => {
                    notes.push(format!("ssh key {}: unsupported key type", p.display()))
                }
                Ok(id) => {
                    notes.push(format!("ssh key {}: loaded", p.display()));
                    ids.push(Box::new(id.with_callbacks(TermCallbacks)));
                }
                Err(e) => notes.push(format!("ssh key {}: unreadable ({e})", p.display())),
            }
        }
        Err(_) if !explicit => {}
        Err(e) => notes.push(format!(
            "{} {}: {e}",
            env::SOPS_AGE_SSH_PRIVATE_KEY_FILE,
            p.display()
        )),
    }
}

fn load_file(
    p: &PathBuf,
    ids: &mut Vec<Box<dyn age::Identity>>,
    notes: &mut Vec<String>,
    what: &str,
) {
    match std::fs::read(p) {
        Ok(data) => {
            let data = Zeroizing::new(data);
            match parse_identities(&data, Some(p.display().to_string())) {
                Ok(mut v) => {
                    notes.push(format!("{what} {}: {} identities", p.display(), v.len()));
                    ids.append(&mut v);
                }
                Err(e) => notes.push(format!("{what} {}: unreadable ({e})", p.display())),
            }
        }
        Err(e) => notes.push(format!("{what} {}: {}", p.display(), short_io(&e))),
    }
}

fn short_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "not found".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Ask for the passphrases of encrypted identity files when the files are loaded, instead of
/// at their first unwrap: set by `veil agent`, which loads them at its start (while it still
/// has the terminal) and then runs detached for hours.
static UNLOCK_AT_LOAD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// See [`UNLOCK_AT_LOAD`].
pub fn unlock_at_load() {
    UNLOCK_AT_LOAD.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Parse identities from key-file text: `AGE-SECRET-KEY-1…`, `AGE-PLUGIN-…` lines (blank and
/// `#` lines ignored), or a passphrase-encrypted identity file (`age-encryption.org/…` or
/// armored), which prompts on the terminal.
pub fn parse_identities(
    data: &[u8],
    filename: Option<String>,
) -> std::result::Result<Vec<Box<dyn age::Identity>>, String> {
    let trimmed = trim_ascii_start(data);
    if trimmed.starts_with(b"age-encryption.org/")
        || trimmed.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
    {
        let reader = ArmoredReader::new(std::io::Cursor::new(data.to_vec()));
        let id = age::encrypted::Identity::from_buffer(reader, filename, TermCallbacks, None)
            .map_err(|e| e.to_string())?
            .ok_or("the encrypted identity file is not passphrase-protected")?;
        if UNLOCK_AT_LOAD.load(std::sync::atomic::Ordering::Relaxed) {
            // Decrypting now (age keeps the result) is what asks for the passphrase.
            id.recipients().map_err(|e| e.to_string())?;
        }
        return Ok(vec![Box::new(id)]);
    }
    // sops 3.13 allows several identities on one line separated by spaces.
    let mut text = String::from_utf8(data.to_vec()).map_err(|_| "not UTF-8")?;
    if text
        .lines()
        .any(|l| !l.trim_start().starts_with('#') && l.trim().contains(' '))
    {
        let joined: String = text
            .lines()
            .flat_map(|l| {
                if l.trim_start().starts_with('#') {
                    vec![l.to_string()]
                } else {
                    l.split_whitespace().map(str::to_string).collect()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        text.zeroize_replace(joined);
    }
    let file = age::IdentityFile::from_buffer(BufReader::new(text.as_bytes()))
        .map_err(|e| e.to_string())?;
    let text = Zeroizing::new(text);
    drop(text);
    let ids = file
        .with_callbacks(TermCallbacks)
        .into_identities()
        .map_err(|e| e.to_string())?;
    Ok(ids
        .into_iter()
        .map(|id| id as Box<dyn age::Identity>)
        .collect())
}

trait ZeroizeReplace {
    fn zeroize_replace(&mut self, new: String);
}
impl ZeroizeReplace for String {
    fn zeroize_replace(&mut self, new: String) {
        use zeroize::Zeroize;
        self.zeroize();
        *self = new;
    }
}

fn trim_ascii_start(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &d[n..]
}

/// A plugin name from a recipient `age1NAME1…` must be a safe binary-name component.
fn valid_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' || b == b'.'
        })
        && !name.starts_with('.')
}

/// The kinds of age recipient sops tells apart, by their prefix (sops's order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RecipientKind {
    /// `age1pq1…`: hybrid post-quantum (ML-KEM-768 + X25519).
    PostQuantum,
    /// `age1NAME1…`: handled by `age-plugin-NAME`.
    Plugin,
    /// `age1…`: classic X25519.
    X25519,
    /// `ssh-ed25519 …` / `ssh-rsa …`.
    Ssh,
}

fn recipient_kind(r: &str) -> Option<RecipientKind> {
    let lower = r.to_ascii_lowercase();
    if lower.starts_with("age1pq1") {
        Some(RecipientKind::PostQuantum)
    } else if let Some(rest) = lower.strip_prefix("age1") {
        Some(match rest.contains('1') {
            true => RecipientKind::Plugin,
            false => RecipientKind::X25519,
        })
    } else if r.starts_with("ssh-") {
        Some(RecipientKind::Ssh)
    } else {
        None
    }
}

/// Check a recipient as sops accepts it (syntax only: no plugin is started). The messages are
/// sops's, with the age crate's reason.
pub fn validate_recipient(r: &str) -> Result<()> {
    let r = r.trim();
    let bad = |what: &str, why: String| {
        Error::new(
            Code::Generic,
            format!("failed to parse input {what}: {why}"),
        )
        .hint("age recipients look like age1…, age1pq1…, or an ssh-ed25519/ssh-rsa public key line")
    };
    let bech32 = "as Bech32-encoded age public key";
    match recipient_kind(r) {
        Some(RecipientKind::PostQuantum) => {
            age::pq::Recipient::from_str(r).map_err(|e| bad(bech32, e.to_string()))?;
        }
        Some(RecipientKind::Plugin) => {
            let rec = age::plugin::Recipient::from_str(r)
                .map_err(|e| bad("as age key from age plugin", e.to_string()))?;
            if !valid_plugin_name(rec.plugin()) {
                return Err(bad(
                    "as age key from age plugin",
                    "invalid plugin name".into(),
                ));
            }
        }
        Some(RecipientKind::X25519) => {
            #[allow(deprecated)] // still what sops files hold
            age::x25519::Recipient::from_str(r).map_err(|e| bad(bech32, e.to_string()))?;
        }
        Some(RecipientKind::Ssh) => {
            #[allow(deprecated)] // still what sops files hold
            age::ssh::Recipient::from_str(r)
                .map_err(|e| bad("as age-ssh public key", format!("{e:?}")))?;
        }
        None => return Err(Error::new(
            Code::Generic,
            format!("failed to parse input, unknown recipient type: {r:?}"),
        )
        .hint(
            "age recipients look like age1…, age1pq1…, or an ssh-ed25519/ssh-rsa public key line",
        )),
    }
    Ok(())
}

/// Parse a recipient string as sops accepts it (a plugin recipient starts its plugin).
pub fn parse_recipient(r: &str) -> Result<Box<dyn age::Recipient + Send>> {
    let r = r.trim();
    validate_recipient(r)?;
    let parsed: Option<Box<dyn age::Recipient + Send>> = match recipient_kind(r) {
        Some(RecipientKind::PostQuantum) => age::pq::Recipient::from_str(r)
            .ok()
            .map(|x| Box::new(x) as _),
        #[allow(deprecated)] // still what sops files hold
        Some(RecipientKind::X25519) => age::x25519::Recipient::from_str(r)
            .ok()
            .map(|x| Box::new(x) as _),
        #[allow(deprecated)] // still what sops files hold
        Some(RecipientKind::Ssh) => age::ssh::Recipient::from_str(r)
            .ok()
            .map(|x| Box::new(x) as _),
        Some(RecipientKind::Plugin) => {
            let rec = age::plugin::Recipient::from_str(r).ok();
            match rec {
                Some(rec) => {
                    let name = rec.plugin().to_string();
                    let plugin =
                        age::plugin::RecipientPluginV1::new(&name, &[rec], &[], TermCallbacks)
                            .map_err(|e| {
                                Error::new(
                                    Code::Generic,
                                    format!("age plugin age-plugin-{name}: {e}"),
                                )
                                .hint(format!("install age-plugin-{name} and put it on PATH"))
                            })?;
                    Some(Box::new(plugin) as _)
                }
                None => None,
            }
        }
        None => None,
    };
    parsed.ok_or_else(|| Error::generic(format!("invalid age recipient {r:?}")))
}

/// Encrypt `secret` to one recipient, armored (ends with a newline, as sops writes it).
pub fn encrypt_to(recipient: &str, secret: &[u8]) -> Result<String> {
    let rec = parse_recipient(recipient)?;
    let enc = age::Encryptor::with_recipients(std::iter::once(rec.as_ref() as &dyn age::Recipient))
        .map_err(|e| Error::generic(format!("age: cannot encrypt to {recipient}: {e}")))?;
    let mut out = Vec::new();
    let io = |e: std::io::Error| Error::generic(format!("age: {e}"));
    let armor = ArmoredWriter::wrap_output(&mut out, ArmorFormat::AsciiArmor).map_err(io)?;
    let mut w = enc.wrap_output(armor).map_err(io)?;
    w.write_all(secret).map_err(io)?;
    w.finish().and_then(|a| a.finish()).map_err(io)?;
    let mut s = String::from_utf8(out).map_err(|_| Error::generic("age: armor is not UTF-8"))?;
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

fn decrypt_with<'a>(
    enc: &str,
    ids: impl Iterator<Item = &'a dyn age::Identity>,
) -> std::result::Result<Secret, age::DecryptError> {
    let d = age::Decryptor::new(ArmoredReader::new(enc.trim_start().as_bytes()))?;
    let mut r = d.decrypt(ids)?;
    let mut out = Zeroizing::new(Vec::new());
    r.read_to_end(&mut out).map_err(age::DecryptError::Io)?;
    Ok(out)
}

impl Backend for AgeBackend {
    fn kind(&self) -> &'static str {
        "age"
    }

    fn unlock(&self) {
        let _ = self.load();
    }

    fn wrap(&self, key: &KeyRef, secret: &[u8]) -> Result<String> {
        match key {
            KeyRef::Age { recipient } => encrypt_to(recipient, secret),
            _ => Err(Error::generic("not an age key")),
        }
    }

    fn unwrap(&self, key: &KeyRef, enc: &str) -> std::result::Result<Secret, Outcome> {
        let KeyRef::Age { recipient } = key else {
            return Err(Outcome::Unsupported);
        };
        let (ids, notes) = self.load();
        self.cmd_identities(recipient);
        let cmd = self.cmd_identities.borrow();
        let (cmd_ids, cmd_notes) = match cmd.get(recipient.as_str()) {
            Some((i, n)) => (i.as_slice(), n.as_slice()),
            None => (&[][..], &[][..]),
        };
        let total = ids.len() + cmd_ids.len();
        let mut looked = notes.clone();
        looked.extend(cmd_notes.iter().cloned());
        if total == 0 {
            return Err(Outcome::NoIdentity(format!(
                "no age identity found (looked at: {})",
                looked.join("; ")
            )));
        }
        let all = ids.iter().chain(cmd_ids.iter()).map(|b| b.as_ref());
        match decrypt_with(enc, all) {
            Ok(s) => Ok(s),
            Err(age::DecryptError::NoMatchingKeys) => Err(Outcome::NoIdentity(format!(
                "none of the {total} age identities matches this recipient (looked at: {})",
                looked.join("; ")
            ))),
            Err(e) => Err(Outcome::Failed(format!("age: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;

    #[test]
    #[allow(deprecated)] // X25519 is what sops files hold
    fn wrap_unwrap_x25519() {
        let id = age::x25519::Identity::generate();
        let rec = id.to_public().to_string();
        let enc = encrypt_to(&rec, &[7u8; 32]).unwrap();
        assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
        assert!(enc.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
        let key = id.to_string();
        let ids = parse_identities(
            format!("# comment\n\n{}\n", key.expose_secret()).as_bytes(),
            None,
        )
        .unwrap();
        let out = decrypt_with(&enc, ids.iter().map(|b| b.as_ref())).unwrap();
        assert_eq!(&out[..], &[7u8; 32]);
        let other = age::x25519::Identity::generate();
        let ids = parse_identities(other.to_string().expose_secret().as_bytes(), None).unwrap();
        assert!(matches!(
            decrypt_with(&enc, ids.iter().map(|b| b.as_ref())),
            Err(age::DecryptError::NoMatchingKeys)
        ));
    }

    #[test]
    fn plugin_names_are_validated() {
        assert!(valid_plugin_name("yubikey"));
        assert!(!valid_plugin_name("../x"));
        assert!(!valid_plugin_name("a/b"));
    }

    #[test]
    fn bad_recipient_is_an_error() {
        assert!(parse_recipient("nope").is_err());
        assert!(parse_recipient("age1zzz").is_err());
        assert!(parse_recipient("age1pq1zzz").is_err());
        assert_eq!(
            validate_recipient("nope").unwrap_err().message,
            r#"failed to parse input, unknown recipient type: "nope""#
        );
    }

    #[test]
    fn post_quantum_recipients_are_not_plugins() {
        // `age1pq1…` has a second `1`: without its own rule it would look like a plugin.
        let id = age::pq::Identity::generate();
        let rec = id.to_public().to_string();
        assert!(rec.starts_with("age1pq1"), "{rec}");
        assert_eq!(recipient_kind(&rec), Some(RecipientKind::PostQuantum));
        let enc = encrypt_to(&rec, &[9u8; 32]).unwrap();
        let ids = parse_identities(id.to_string().expose_secret().as_bytes(), None).unwrap();
        let out = decrypt_with(&enc, ids.iter().map(|b| b.as_ref())).unwrap();
        assert_eq!(&out[..], &[9u8; 32]);
    }
}
