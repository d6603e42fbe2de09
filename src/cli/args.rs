//! The command line, defined once with clap: it is the single source of `--help`, the man page
//! and the shell completions. Names, flags and env-var defaults follow sops 3.11.

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "veil",
    version = concat!(env!("CARGO_PKG_VERSION"), " (writes the sops ", "3.11.0", " file format)"),
    about = "Keep secrets encrypted inside the config files you commit (sops-compatible)",
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// sops's legacy top-level form: `veil -d FILE`, `veil -e FILE`.
    #[command(flatten)]
    pub legacy: LegacyArgs,
}

// Parsed once per run; boxing the big variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Encrypt a file (to stdout, or in place with -i)
    Encrypt(EncryptArgs),
    /// Decrypt a file (to stdout, or in place with -i)
    Decrypt(DecryptArgs),
    /// Tell whether a file is encrypted: {"encrypted":true|false}
    Filestatus(FilestatusArgs),
    /// Create an age identity at sops's default key file path and print its public key
    Keygen(KeygenArgs),
    /// Print a shell completion script
    Completion(CompletionArgs),
    /// Run a command with the decrypted values in its environment
    ExecEnv(ExecEnvArgs),
    /// Run a command with the decrypted file at a private path ({} in the command)
    ExecFile(ExecFileArgs),
    /// Write a starter .sops.yaml here for your age key, and print the next steps
    Init(InitArgs),
}

#[derive(Args, Debug, Clone)]
pub struct InitArgs {
    /// age recipients (default: the public key of your default age key file)
    #[arg(short = 'a', long = "age", value_name = "RECIPIENTS")]
    pub age: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct KeygenArgs {
    /// Write the identity here instead of $XDG_CONFIG_HOME/sops/age/keys.txt
    #[arg(short = 'o', long, value_name = "PATH")]
    pub output: Option<String>,
    /// Add a new identity to an existing key file instead of refusing
    #[arg(long)]
    pub append: bool,
}

#[derive(Args, Debug, Clone)]
pub struct CompletionArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Options shared by commands that read a file.
#[derive(Args, Debug, Clone, Default)]
pub struct InputArgs {
    /// The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// The output format (default: the input format)
    #[arg(long, value_name = "TYPE")]
    pub output_type: Option<String>,
    /// Use this name for format detection and .sops.yaml matching (needed with stdin)
    #[arg(long, value_name = "NAME")]
    pub filename_override: Option<String>,
}

/// Where the result goes.
#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Write the result back to the file (atomically)
    #[arg(short = 'i', long)]
    pub in_place: bool,
    /// Write the result to this file (atomically) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub output: Option<String>,
}

/// Keys and rules for new encryptions.
#[derive(Args, Debug, Clone, Default)]
pub struct KeyArgs {
    /// age recipients (age1…, ssh-ed25519/ssh-rsa public keys), comma-separated or repeated
    #[arg(
        short = 'a',
        long = "age",
        env = "SOPS_AGE_RECIPIENTS",
        value_name = "RECIPIENTS"
    )]
    pub age: Vec<String>,
    /// AWS KMS key ARNs (ARN or ARN+ROLE_ARN), comma-separated or repeated
    #[arg(short = 'k', long = "kms", env = "SOPS_KMS_ARN", value_name = "ARNS")]
    pub kms: Vec<String>,
    /// The AWS profile for the --kms keys
    #[arg(long = "aws-profile", value_name = "PROFILE")]
    pub aws_profile: Option<String>,
    /// KMS encryption context for the --kms keys: key:value pairs, comma-separated
    #[arg(long = "encryption-context", value_name = "CONTEXT")]
    pub encryption_context: Option<String>,
    /// PGP fingerprints, comma-separated or repeated
    #[arg(
        short = 'p',
        long = "pgp",
        env = "SOPS_PGP_FP",
        value_name = "FINGERPRINTS"
    )]
    pub pgp: Vec<String>,
    /// Vault/OpenBao transit keys, e.g. https://vault:8200/v1/transit/keys/name; comma-separated
    /// or repeated. Their servers may receive the Vault token.
    #[arg(
        long = "hc-vault-transit",
        env = "SOPS_VAULT_URIS",
        value_name = "URIS"
    )]
    pub hc_vault_transit: Vec<String>,
    /// Leave keys ending with this suffix unencrypted (default _unencrypted)
    #[arg(long, value_name = "SUFFIX")]
    pub unencrypted_suffix: Option<String>,
    /// Encrypt only keys ending with this suffix
    #[arg(long, value_name = "SUFFIX")]
    pub encrypted_suffix: Option<String>,
    /// Leave keys matching this regex unencrypted
    #[arg(long, value_name = "REGEX")]
    pub unencrypted_regex: Option<String>,
    /// Encrypt only keys matching this regex
    #[arg(long, value_name = "REGEX")]
    pub encrypted_regex: Option<String>,
    /// Leave values under comments matching this regex unencrypted
    #[arg(long, value_name = "REGEX")]
    pub unencrypted_comment_regex: Option<String>,
    /// Encrypt only values under comments matching this regex
    #[arg(long, value_name = "REGEX")]
    pub encrypted_comment_regex: Option<String>,
    /// Compute the MAC over encrypted values only, so plaintext keys can change freely
    #[arg(long)]
    pub mac_only_encrypted: bool,
    /// Number of key groups needed to decrypt (Shamir)
    #[arg(
        long = "shamir-secret-sharing-threshold",
        value_name = "N",
        default_value_t = 0
    )]
    pub shamir_threshold: usize,
    /// Value cipher: aes256-gcm (default, sops-compatible) or xchacha20-poly1305 (veil only)
    #[arg(long, value_name = "CIPHER", default_value = "aes256-gcm")]
    pub cipher: String,
    /// Path of the .sops.yaml config (default: searched upward from the current directory)
    #[arg(long, env = "SOPS_CONFIG", value_name = "PATH")]
    pub config: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct EncryptArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// The file to encrypt (stdin when absent or `-`)
    pub file: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct DecryptArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Print only the value at this path, e.g. '["a"][0]'
    #[arg(long, value_name = "PATH")]
    pub extract: Option<String>,
    /// Decrypt even if the MAC does not verify
    #[arg(long)]
    pub ignore_mac: bool,
    /// Order in which key types are tried, e.g. age,pgp,kms
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "ORDER")]
    pub decryption_order: Option<String>,
    /// The file to decrypt (stdin when absent or `-`)
    pub file: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct FilestatusArgs {
    /// The input format (default: from the extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    pub file: String,
}

/// sops's top-level flags (`sops -d file`).
#[derive(Args, Debug, Clone, Default)]
pub struct LegacyArgs {
    /// Encrypt the file (legacy form)
    #[arg(short = 'e', long = "encrypt")]
    pub encrypt: bool,
    /// Decrypt the file (legacy form)
    #[arg(short = 'd', long = "decrypt")]
    pub decrypt: bool,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Print only the value at this path (with -d)
    #[arg(long, value_name = "PATH")]
    pub extract: Option<String>,
    /// Decrypt even if the MAC does not verify
    #[arg(long)]
    pub ignore_mac: bool,
    /// Order in which key types are tried
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "ORDER")]
    pub decryption_order: Option<String>,
    /// The file
    pub file: Option<String>,
}

/// Options shared by `exec-env` and `exec-file`.
#[derive(Args, Debug, Clone, Default)]
pub struct ExecCommonArgs {
    /// Deprecated (sops). exec-env: start the command detached; exec-file: ignored
    #[arg(long)]
    pub background: bool,
    /// Run the command as this user (name, UID or UID:GID; needs root)
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Run the command even if the MAC does not verify
    #[arg(long)]
    pub ignore_mac: bool,
    /// Order in which key types are tried, e.g. age,pgp,kms
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "ORDER")]
    pub decryption_order: Option<String>,
}

#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  veil exec-env secrets.enc.yaml 'echo $DB__HOST'\n  \
veil exec-env secrets.enc.yaml -- ./server --port 8080"
)]
pub struct ExecEnvArgs {
    #[command(flatten)]
    pub common: ExecCommonArgs,
    /// Pass only the decrypted values, not veil's own environment
    #[arg(long)]
    pub pristine: bool,
    /// Replace veil with the command (exec) instead of running it as a child
    #[arg(long)]
    pub same_process: bool,
    /// Refuse nested values, as sops does, instead of flattening them (DB__HOST)
    #[arg(long)]
    pub no_flatten: bool,
    /// What joins the key segments of a nested value's variable name
    #[arg(long, value_name = "SEP", default_value = "__")]
    pub separator: String,
    /// The encrypted file
    pub file: String,
    /// The command, run by /bin/sh -c (sops's form)
    pub command: Option<String>,
    /// Or, after --, a program and its arguments, run without a shell
    #[arg(last = true, value_name = "PROGRAM ARGS")]
    pub argv: Vec<std::ffi::OsString>,
}

#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  veil exec-file secrets.enc.json 'jq .db {}'\n  \
veil exec-file --output-type json --filename app.json secrets.enc.yaml -- ./app --config {}"
)]
pub struct ExecFileArgs {
    #[command(flatten)]
    pub common: ExecCommonArgs,
    /// Use a 0600 regular file instead of a FIFO
    #[arg(long)]
    pub no_fifo: bool,
    /// The output format of the decrypted file (default: the input format)
    #[arg(long, value_name = "TYPE")]
    pub output_type: Option<String>,
    /// Name of the decrypted file inside the private directory (default: tmp-file)
    #[arg(long, value_name = "NAME")]
    pub filename: Option<String>,
    /// The encrypted file
    pub file: String,
    /// The command, run by /bin/sh -c, with {} replaced by the decrypted file's path
    pub command: Option<String>,
    /// Or, after --, a program and its arguments ({} replaced), run without a shell
    #[arg(last = true, value_name = "PROGRAM ARGS")]
    pub argv: Vec<std::ffi::OsString>,
}
