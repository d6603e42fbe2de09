//! The library's error type, sops's exit codes, and the per-key decryption report.
//!
//! One error style everywhere: a lowercase cause line (or sops's exact first line where
//! scripts match on it), then an optional "try this" hint. No message ever contains a plaintext
//! value or key material; callers pass paths and key identifiers only.

use std::fmt;

/// sops's exit codes (`cmd/sops/codes/codes.go`, docs/sops-format.md §6.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Code {
    Generic = 1,
    CouldNotReadInputFile = 2,
    CouldNotWriteOutputFile = 3,
    ErrorDumpingTree = 4,
    ErrorReadingConfig = 5,
    InvalidKmsEncryptionContextFormat = 6,
    InvalidSetFormat = 7,
    ConflictingParameters = 8,
    ErrorEncryptingMac = 21,
    ErrorEncryptingTree = 23,
    ErrorDecryptingMac = 24,
    ErrorDecryptingTree = 25,
    CannotChangeKeysFromNonExistentFile = 49,
    MacMismatch = 51,
    MacNotFound = 52,
    ConfigFileNotFound = 61,
    KeyboardInterrupt = 85,
    InvalidTreePathFormat = 91,
    NeedAtLeastOneDocument = 92,
    NoFileSpecified = 100,
    NoEncryptionKeyFound = 111,
    DuplicateDecryptionKeyType = 112,
    CouldNotRetrieveKey = 128,
    FileHasNotBeenModified = 200,
    NoEditorFound = 201,
    FailedToCompareVersions = 202,
    FileAlreadyEncrypted = 203,
}

impl Code {
    pub fn exit_code(self) -> i32 {
        self as i32
    }
}

/// A veil error: an exit code, a cause line, and an optional hint line.
#[derive(Clone)]
pub struct Error {
    pub code: Code,
    pub message: String,
    pub hint: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub fn generic(message: impl Into<String>) -> Error {
        Error::new(Code::Generic, message)
    }

    /// Add a "try this" line.
    pub fn hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// Prefix the cause with context, e.g. the file name.
    pub fn context(mut self, ctx: impl fmt::Display) -> Error {
        self.message = format!("{ctx}: {}", self.message);
        self
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({:?}, {:?})", self.code, self.message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\nhint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Wrap `text` at `width` columns the way sops wraps its user-facing messages: greedily, at
/// single spaces, each `\n`-separated paragraph on its own; a word longer than the width stays
/// whole on its own line.
pub fn wrap_words(text: &str, width: usize) -> String {
    let mut out: Vec<String> = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split(' ') {
            if line.is_empty() {
                line.push_str(word);
            } else if line.chars().count() + 1 + word.chars().count() <= width {
                line.push(' ');
                line.push_str(word);
            } else {
                out.push(std::mem::take(&mut line));
                line.push_str(word);
            }
        }
        out.push(line);
    }
    out.join("\n")
}

/// sops's text for a key group with no keys. It lives here because both the engine (wrapping
/// the data key) and `.sops.yaml` loading refuse an empty group, and the engine must not depend
/// on the config.
pub const EMPTY_KEY_GROUP: &str = "Could not generate data key: [empty key group provided]";

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::generic(e.to_string())
    }
}

/// What happened when one key of one group was tried (docs/architecture.md rule 5: "not mine" is not
/// "failed").
#[derive(Clone, Debug)]
pub struct KeyAttempt {
    pub group: usize,
    /// The key's public identity as sops names it (`KeyRef::sops_name`), e.g. the age
    /// recipient or the PGP fingerprint.
    pub key: String,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Decrypted,
    /// No identity or credential for this key was available.
    NoIdentity(String),
    /// An identity was there, but it failed (wrong key, server error…).
    Failed(String),
    /// This backend is not built into veil yet.
    Unsupported,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Decrypted => f.write_str("ok"),
            Outcome::NoIdentity(s) => write!(f, "no identity: {s}"),
            Outcome::Failed(s) => write!(f, "failed: {s}"),
            Outcome::Unsupported => f.write_str("not supported by this veil build yet"),
        }
    }
}
