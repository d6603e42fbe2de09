//! The command line, defined once with clap: it is the single source of `--help`, the man page
//! and the shell completions. Names, flags and env-var defaults follow sops 3.13.

use clap::{Args, FromArgMatches, Parser, Subcommand};

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

    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Options accepted anywhere on the line, before or after the subcommand (unlike sops 3.11,
/// where a subcommand ignores most global options).
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// Path of the .sops.yaml config (default: searched upward from the current directory)
    #[arg(long, global = true, env = "SOPS_CONFIG", value_name = "PATH")]
    pub config: Option<String>,
    /// Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)
    #[arg(long, global = true, value_name = "N", allow_negative_numbers = true)]
    pub indent: Option<i64>,
    /// Log the steps (config file, formats, key sources, keys tried) to stderr; never values
    #[arg(long, global = true)]
    pub verbose: bool,
    /// Replace a file that has other hard links (they keep the old content)
    #[arg(long, global = true)]
    pub force: bool,
    /// Accepted for sops compatibility: veil never checks for updates
    #[arg(long, global = true, hide = true)]
    pub disable_version_check: bool,
    /// A key service to wrap and unwrap data keys with, after the local one (repeatable):
    /// unix:///path/to/socket or tcp://host:port
    #[arg(
        long = "keyservice",
        global = true,
        env = "SOPS_KEYSERVICE",
        value_name = "URI",
        value_delimiter = ','
    )]
    pub keyservice: Vec<String>,
    /// Use this machine's own keys; --enable-local-keyservice=false uses only --keyservice
    #[arg(long, global = true, env = "SOPS_ENABLE_LOCAL_KEYSERVICE", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "true", default_missing_value = "true", value_parser = parse_bool_flag)]
    pub enable_local_keyservice: bool,
    /// Accepted for sops compatibility: veil never checks for updates (no network)
    #[arg(long, global = true, hide = true)]
    pub check_for_updates: bool,
}

/// A subcommand's arguments. While [`lazily`] builds the command line, they are added to the
/// subcommand's `clap::Command` only when clap builds that subcommand (to parse it or print its
/// help): start-up then builds the top level and the one subcommand used, not every argument of
/// every command. Otherwise (completions, man page, tests) they are added at once, as derived.
#[derive(Debug, Clone)]
pub struct Lazy<T>(pub T);

static LAZY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `build()` with subcommand arguments deferred (see [`Lazy`]). Only for parsing: clap adds
/// the global options to a subcommand before its deferred arguments, so a deferred tree lists
/// them first, which would reorder the generated completion scripts (`--help` sorts by display
/// order and is unchanged).
pub fn lazily<R>(build: impl FnOnce() -> R) -> R {
    use std::sync::atomic::Ordering;
    LAZY.store(true, Ordering::Relaxed);
    let r = build();
    LAZY.store(false, Ordering::Relaxed);
    r
}

impl<T: Args> Args for Lazy<T> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        if LAZY.load(std::sync::atomic::Ordering::Relaxed) {
            cmd.defer(keep_about::<T>)
        } else {
            T::augment_args(cmd)
        }
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
}

/// Add `T`'s arguments to a subcommand whose `about` is set already. Run late, `T`'s own doc
/// comment (and those of the structs it flattens) would replace the subcommand's: keep it.
fn keep_about<T: Args>(cmd: clap::Command) -> clap::Command {
    let about = cmd.get_about().cloned();
    let long_about = cmd.get_long_about().cloned();
    let reset = |s: Option<clap::builder::StyledStr>| match s {
        Some(s) => clap::builder::Resettable::Value(s),
        None => clap::builder::Resettable::Reset,
    };
    T::augment_args(cmd)
        .about(reset(about))
        .long_about(reset(long_about))
}

impl<T: FromArgMatches> FromArgMatches for Lazy<T> {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(m).map(Lazy)
    }
    fn from_arg_matches_mut(m: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(m).map(Lazy)
    }
    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(m)
    }
    fn update_from_arg_matches_mut(&mut self, m: &mut clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(m)
    }
}

impl<T> std::ops::Deref for Lazy<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

// Parsed once per run; boxing the big variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Encrypt a file (to stdout, or in place with -i)
    Encrypt(Lazy<EncryptArgs>),
    /// Decrypt a file (to stdout, or in place with -i)
    Decrypt(Lazy<DecryptArgs>),
    /// Tell whether a file is encrypted: {"encrypted":true|false}
    Filestatus(Lazy<FilestatusArgs>),
    /// Create an age identity at sops's default key file path and print its public key
    Keygen(Lazy<KeygenArgs>),
    /// Print a shell completion script
    Completion(Lazy<CompletionArgs>),
    /// Run a command with the decrypted values in its environment
    ExecEnv(Lazy<ExecEnvArgs>),
    /// Run a command with the decrypted file at a private path ({} in the command)
    ExecFile(Lazy<ExecFileArgs>),
    /// Write a starter .sops.yaml here for your age key, and print the next steps
    Init(Lazy<InitArgs>),
    /// Edit an encrypted file in $EDITOR; unchanged values keep their exact ciphertext
    Edit(Lazy<EditArgs>),
    /// Set one value: `veil set FILE '["key"][0]' '"json value"'`
    Set(Lazy<SetArgs>),
    /// Remove one key or list element: `veil unset FILE '["key"]'`
    Unset(Lazy<UnsetArgs>),
    /// Generate a new data key, re-encrypt every value and re-wrap every key
    Rotate(Lazy<RotateArgs>),
    /// Make files' keys match their .sops.yaml creation rules (same data key, values untouched)
    Updatekeys(Lazy<UpdatekeysArgs>),
    /// Add or delete key groups
    Groups(Lazy<GroupsArgs>),
    /// Publish a sops file (or a directory) to the destinations of .sops.yaml destination_rules
    Publish(Lazy<PublishArgs>),
    /// Pre-commit check: refuse plaintext, malformed or tampered files (exit 1 on failure)
    Check(Lazy<CheckArgs>),
    /// git integration: diff and merge drivers, setup
    Git(Lazy<GitArgs>),
    /// Who can read which files, how old their data keys are, and what differs from .sops.yaml
    /// (exit 10 on findings; reads metadata only, needs no key)
    Access(Lazy<AccessArgs>),
    /// Which key paths were added, removed or changed between two versions, without a key
    Diff(Lazy<DiffArgs>),
    /// Serve sops's key service (gRPC): unwrap data keys for other machines with this one's keys
    Keyservice(Lazy<KeyserviceArgs>),
    /// Cache unwrapped data keys for a session (one KMS call or passphrase per key, not per
    /// file): start, run, status, stop
    Agent(Lazy<AgentArgs>),
}

#[derive(Args, Debug, Clone)]
pub struct AccessArgs {
    /// Per key, the files it opens (instead of per file)
    #[arg(long)]
    pub by_recipient: bool,
    /// Machine-readable output (schema in docs/policy.md)
    #[arg(long)]
    pub json: bool,
    /// Judge data-key ages as of this time (RFC 3339), e.g. to see what expires next month
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// Files or directories (default: the current directory; in a git work tree, what git
    /// lists there, without ignored files)
    pub paths: Vec<String>,
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:\n  veil diff HEAD~1..HEAD\n  \
veil diff main.. secrets/\n  veil diff old.enc.yaml new.enc.yaml\n  \
GIT_EXTERNAL_DIFF='veil diff' git log -p --ext-diff -- secrets/")]
pub struct DiffArgs {
    /// Also decrypt both versions (needs a key) and show the old and new values
    #[arg(long)]
    pub values: bool,
    /// Machine-readable output
    #[arg(long)]
    pub json: bool,
    /// The input format (default: from each file's extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// REV..REV [PATH...] (git revisions; an empty side is HEAD), or OLD NEW (two files), or
    /// the seven arguments git passes a GIT_EXTERNAL_DIFF program
    #[arg(value_name = "ARGS", allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// sops's boolean syntax (Go's strconv.ParseBool).
fn parse_bool_flag(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("{s:?} is not a boolean (true or false)")),
    }
}

#[derive(Args, Debug, Clone)]
pub struct KeyserviceArgs {
    /// Network to listen on: unix (veil's default) or tcp (sops's default)
    #[arg(long, visible_alias = "net", value_name = "NETWORK", default_value = "unix", value_parser = ["unix", "tcp"])]
    pub network: String,
    /// Socket path (default $XDG_RUNTIME_DIR/veil/keyservice.sock) or, for tcp, host:port
    /// (default 127.0.0.1:5000)
    #[arg(long, visible_alias = "addr", value_name = "ADDRESS")]
    pub address: Option<String>,
    /// Serve tcp on an address that is not loopback (the protocol has no authentication)
    #[arg(long)]
    pub allow_remote: bool,
}

#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  eval \"$(veil agent start)\"\n  veil agent status\n  \
veil agent stop\n\nThe socket is $VEIL_AGENT_SOCK, else $XDG_RUNTIME_DIR/veil/agent.sock \
(else a private veil-UID directory in the temp dir). VEIL_AGENT=0 turns the agent off for a command."
)]
pub struct AgentArgs {
    #[command(subcommand)]
    pub command: AgentCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum AgentCommand {
    /// Start an agent in the background and print the shell line that points veil at it
    Start(AgentRunArgs),
    /// Run an agent in the foreground (for systemd, or to watch it with --verbose)
    Run(AgentRunArgs),
    /// Show the cached keys (kind, name, seconds to expiry), TTL, limit and pid; never a key
    Status,
    /// Wipe the cache, remove the socket and end the agent
    Stop,
}

#[derive(Args, Debug, Clone)]
pub struct AgentRunArgs {
    /// How long an unwrapped key stays cached: 90s, 15m, 2h, 1h30m (a bare number is seconds)
    #[arg(long, value_name = "DURATION", default_value = "15m")]
    pub ttl: String,
    /// The most keys cached at once (the oldest is dropped first)
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub max_entries: usize,
    /// Started by `veil agent start` (internal)
    #[arg(long, hide = true)]
    pub detached: bool,
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
    /// Make a hybrid post-quantum identity (age1pq1…; read by sops 3.12+ and age 1.3+ only)
    #[arg(long)]
    pub pq: bool,
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
    /// GCP KMS resource ids (sops's flag; this veil build cannot encrypt for them yet)
    #[arg(long = "gcp-kms", env = "SOPS_GCP_KMS_IDS", value_name = "IDS")]
    pub gcp_kms: Vec<String>,
    /// Azure Key Vault key URLs (sops's flag; this veil build cannot encrypt for them yet)
    #[arg(
        long = "azure-kv",
        env = "SOPS_AZURE_KEYVAULT_URLS",
        value_name = "URLS"
    )]
    pub azure_kv: Vec<String>,
    /// HuaweiCloud KMS key ids, region:uuid (sops's flag; this veil build cannot encrypt for them yet)
    #[arg(long = "hckms", env = "SOPS_HUAWEICLOUD_KMS_IDS", value_name = "IDS")]
    pub hckms: Vec<String>,
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
    /// Also write veil's integrity field, which authenticates what the sops MAC leaves out
    /// (recipients, the rule, value types, keys and comments); sops ignores it
    #[arg(long)]
    pub integrity: bool,
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
}

#[derive(Args, Debug, Clone)]
pub struct EncryptArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Re-encrypt a plaintext working copy against this encrypted file: its data key, keys and
    /// rules are used, and every unchanged value keeps its exact ciphertext
    #[arg(long, value_name = "ENCRYPTED_FILE")]
    pub reuse_from: Option<String>,
    /// The file to encrypt (stdin when absent or `-`)
    pub file: Option<String>,
    /// Encrypt in place every file under DIR that a .sops.yaml creation rule matches and that
    /// is not encrypted yet (no symlinks followed; .git skipped); encrypted files are left as
    /// they are
    #[arg(short = 'r', long = "recursive", value_name = "DIR", conflicts_with_all = ["file", "reuse_from", "in_place", "output"])]
    pub recursive: Option<String>,
    /// With -r: list what would be encrypted, change nothing
    #[arg(long, requires = "recursive")]
    pub dry_run: bool,
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
    /// More files: each is verified, then their trees are merged in order (later files override
    /// earlier keys; maps merge deeply, any other value is replaced whole); output in the first
    /// file's format unless --output-type
    #[arg(value_name = "MORE_FILES")]
    pub more: Vec<String>,
    /// With several files: refuse a key path that two files set, instead of letting the later win
    #[arg(long)]
    pub strict: bool,
    /// Decrypt every encrypted file under DIR into --output-dir (same relative paths, 0600)
    #[arg(short = 'r', long = "recursive", value_name = "DIR", requires = "output_dir", conflicts_with_all = ["file", "in_place", "output", "extract"])]
    pub recursive: Option<String>,
    /// With -r: where the plaintext goes; refused inside DIR or inside a git work tree unless
    /// git ignores it there
    #[arg(long, value_name = "OUT", requires = "recursive")]
    pub output_dir: Option<String>,
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
    /// Rotate the file's data key (legacy form)
    #[arg(short = 'r', long = "rotate")]
    pub rotate: bool,
    /// Set one value: --set '["key"] "json value"' (legacy form)
    #[arg(long = "set", value_name = "PATH VALUE")]
    pub set: Option<String>,
    /// Edit: show the sops metadata in the editor
    #[arg(short = 's', long)]
    pub show_master_keys: bool,
    #[command(flatten)]
    pub key_changes: KeyChangeArgs,
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
veil exec-env secrets.enc.yaml -- ./server --port 8080\n  \
veil exec-env base.enc.yaml prod.enc.env -- ./server   (prod's keys override base's)"
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
    /// More encrypted files: without --, the last positional is the command and the ones
    /// before it are files; with --, every positional is a file. Later files override earlier
    /// keys (maps merge deeply, any other value is replaced whole)
    #[arg(value_name = "MORE")]
    pub more: Vec<String>,
    /// With several files: refuse a key path that two files set, instead of letting the later win
    #[arg(long)]
    pub strict: bool,
    /// Or, after --, a program and its arguments, run without a shell
    #[arg(last = true, value_name = "PROGRAM ARGS")]
    pub argv: Vec<std::ffi::OsString>,
}

#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  veil exec-file secrets.enc.json 'jq .db {}'\n  \
veil exec-file --output-type json --filename app.json secrets.enc.yaml -- ./app --config {}\n  \
veil exec-file base.enc.yaml prod.enc.yaml 'app --config {}'   (one merged file)"
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
    /// More encrypted files: without --, the last positional is the command and the ones
    /// before it are files; with --, every positional is a file. Their trees are merged into
    /// one file (later files override earlier keys; maps merge deeply)
    #[arg(value_name = "MORE")]
    pub more: Vec<String>,
    /// With several files: refuse a key path that two files set, instead of letting the later win
    #[arg(long)]
    pub strict: bool,
    /// Or, after --, a program and its arguments ({} replaced), run without a shell
    #[arg(last = true, value_name = "PROGRAM ARGS")]
    pub argv: Vec<std::ffi::OsString>,
}

/// Flags shared by commands that decrypt a file in order to change it.
#[derive(Args, Debug, Clone, Default)]
pub struct ChangeArgs {
    /// Decrypt even if the MAC does not verify
    #[arg(long)]
    pub ignore_mac: bool,
    /// Order in which key types are tried, e.g. age,pgp,kms
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "ORDER")]
    pub decryption_order: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct EditArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub change: ChangeArgs,
    /// Show the sops metadata (keys, rules) in the editor; key changes made there are applied
    #[arg(short = 's', long)]
    pub show_master_keys: bool,
    /// The file to edit (a new file starts from an example)
    pub file: String,
}

#[derive(Args, Debug, Clone)]
pub struct SetArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub change: ChangeArgs,
    /// VALUE names a file whose content is the JSON value (keeps secrets out of `ps`)
    #[arg(long, conflicts_with = "value_stdin")]
    pub value_file: bool,
    /// Read the JSON value from stdin (VALUE is then omitted)
    #[arg(long)]
    pub value_stdin: bool,
    /// Do not write the file when the value is already there
    #[arg(long)]
    pub idempotent: bool,
    /// Number of key groups needed to decrypt (Shamir); accepted for sops compatibility
    #[arg(
        long = "shamir-secret-sharing-threshold",
        value_name = "N",
        default_value_t = 0
    )]
    pub shamir_threshold: usize,
    /// The encrypted file
    pub file: String,
    /// The path, e.g. '["data"]["password"]' or '["list"][0]'
    pub path: String,
    /// The value, as JSON: '"text"', 5, true, '{"a": 1}', '[1, 2]'
    pub value: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct UnsetArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub change: ChangeArgs,
    /// Succeed without writing when the path does not exist
    #[arg(long)]
    pub idempotent: bool,
    /// Number of key groups needed to decrypt (Shamir); accepted for sops compatibility
    #[arg(
        long = "shamir-secret-sharing-threshold",
        value_name = "N",
        default_value_t = 0
    )]
    pub shamir_threshold: usize,
    /// The encrypted file
    pub file: String,
    /// The path, e.g. '["data"]["password"]'
    pub path: String,
}

/// `--add-*` / `--rm-*`: master keys to add to the first key group or remove from every group.
/// Each takes a comma-separated list and may be repeated.
#[derive(Args, Debug, Clone, Default)]
pub struct KeyChangeArgs {
    /// Add age recipients
    #[arg(long, value_name = "RECIPIENTS")]
    pub add_age: Vec<String>,
    /// Remove age recipients
    #[arg(long, value_name = "RECIPIENTS")]
    pub rm_age: Vec<String>,
    /// Add PGP fingerprints
    #[arg(long, value_name = "FINGERPRINTS")]
    pub add_pgp: Vec<String>,
    /// Remove PGP fingerprints
    #[arg(long, value_name = "FINGERPRINTS")]
    pub rm_pgp: Vec<String>,
    /// Add AWS KMS ARNs (arn[+role-arn])
    #[arg(long, value_name = "ARNS")]
    pub add_kms: Vec<String>,
    /// Remove AWS KMS ARNs
    #[arg(long, value_name = "ARNS")]
    pub rm_kms: Vec<String>,
    /// Add GCP KMS resource ids
    #[arg(long, value_name = "IDS")]
    pub add_gcp_kms: Vec<String>,
    /// Remove GCP KMS resource ids
    #[arg(long, value_name = "IDS")]
    pub rm_gcp_kms: Vec<String>,
    /// Add Azure Key Vault key URLs
    #[arg(long, value_name = "URLS")]
    pub add_azure_kv: Vec<String>,
    /// Remove Azure Key Vault key URLs
    #[arg(long, value_name = "URLS")]
    pub rm_azure_kv: Vec<String>,
    /// Add Vault transit key URIs
    #[arg(long, value_name = "URIS")]
    pub add_hc_vault_transit: Vec<String>,
    /// Remove Vault transit key URIs
    #[arg(long, value_name = "URIS")]
    pub rm_hc_vault_transit: Vec<String>,
    /// Add Huawei Cloud KMS key ids (region:uuid)
    #[arg(long, value_name = "IDS")]
    pub add_hckms: Vec<String>,
    /// Remove Huawei Cloud KMS key ids
    #[arg(long, value_name = "IDS")]
    pub rm_hckms: Vec<String>,
    /// KMS encryption context for added KMS keys (k1:v1,k2:v2). Not a flag of its own here:
    /// `--encryption-context` is one flag in sops, so the legacy form takes it from
    /// [`KeyArgs`] and `rotate` from [`RotateArgs`], and both copy it in.
    #[arg(skip)]
    pub encryption_context: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct RotateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub change: ChangeArgs,
    #[command(flatten)]
    pub key_changes: KeyChangeArgs,
    /// KMS encryption context for added KMS keys (k1:v1,k2:v2)
    #[arg(long, value_name = "CONTEXT")]
    pub encryption_context: Option<String>,
    /// The encrypted file
    pub file: String,
}

#[derive(Args, Debug, Clone)]
pub struct UpdatekeysArgs {
    /// Apply the changes without asking
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    /// Show what would change, write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Also generate a new data key (re-encrypting every value), so a removed key cannot read
    /// the file's future versions
    #[arg(long)]
    pub rotate: bool,
    /// Every encrypted file under DIR that a creation rule matches
    #[arg(short = 'r', long = "recursive", value_name = "DIR")]
    pub recursive: Vec<String>,
    /// Files processed at once (default: the number of CPUs, at most 8)
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    pub jobs: Option<usize>,
    /// The input format (default: from each file's extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Number of key groups needed to decrypt (default: the file's, at most the group count)
    #[arg(
        long = "shamir-secret-sharing-threshold",
        value_name = "N",
        default_value_t = 0
    )]
    pub shamir_threshold: usize,
    #[command(flatten)]
    pub change: ChangeArgs,
    /// The encrypted files
    pub files: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct PublishArgs {
    /// Pre-approve every upload and run non-interactively
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    /// Leave the file extension out of the destination name
    #[arg(long)]
    pub omit_extensions: bool,
    /// When FILE is a directory, publish everything under it (names keep their relative path)
    #[arg(long)]
    pub recursive: bool,
    /// Order in which key types are tried, e.g. age,pgp,kms
    #[arg(long, env = "SOPS_DECRYPTION_ORDER", value_name = "ORDER")]
    pub decryption_order: Option<String>,
    /// The sops file, or with --recursive a directory
    pub file: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct GroupsArgs {
    #[command(subcommand)]
    pub command: GroupsCommand,
}

/// (Parsed once per run: the size difference between the variants does not matter.)
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug, Clone)]
pub enum GroupsCommand {
    /// Add a key group (the same data key, re-split into Shamir shares)
    Add(GroupsAddArgs),
    /// Delete the key group at INDEX (0-based)
    Delete(GroupsDeleteArgs),
}

#[derive(Args, Debug, Clone)]
pub struct GroupsAddArgs {
    /// The encrypted file
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: String,
    /// age recipients of the new group (comma-separated or repeated)
    #[arg(long, value_name = "RECIPIENTS")]
    pub age: Vec<String>,
    /// PGP fingerprints of the new group
    #[arg(long, value_name = "FINGERPRINTS")]
    pub pgp: Vec<String>,
    /// AWS KMS ARNs of the new group
    #[arg(long, value_name = "ARNS")]
    pub kms: Vec<String>,
    /// The AWS profile for the KMS keys
    #[arg(long, value_name = "PROFILE")]
    pub aws_profile: Option<String>,
    /// GCP KMS resource ids of the new group
    #[arg(long, value_name = "IDS")]
    pub gcp_kms: Vec<String>,
    /// Azure Key Vault key URLs of the new group
    #[arg(long, value_name = "URLS")]
    pub azure_kv: Vec<String>,
    /// Vault transit key URIs of the new group
    #[arg(long, value_name = "URIS")]
    pub hc_vault_transit: Vec<String>,
    /// Huawei Cloud KMS key ids of the new group
    #[arg(long, value_name = "IDS")]
    pub hckms: Vec<String>,
    /// KMS encryption context (k1:v1,k2:v2)
    #[arg(long, value_name = "CONTEXT")]
    pub encryption_context: Option<String>,
    /// Write the result back to the file (atomically) instead of stdout
    #[arg(short = 'i', long)]
    pub in_place: bool,
    /// Number of key groups needed to decrypt
    #[arg(
        long = "shamir-secret-sharing-threshold",
        value_name = "N",
        default_value_t = 0
    )]
    pub shamir_threshold: usize,
    #[command(flatten)]
    pub change: ChangeArgs,
    /// The input format (default: from the extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct GroupsDeleteArgs {
    /// The encrypted file
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: String,
    /// Write the result back to the file (atomically) instead of stdout
    #[arg(short = 'i', long)]
    pub in_place: bool,
    /// Number of key groups needed to decrypt
    #[arg(
        long = "shamir-secret-sharing-threshold",
        value_name = "N",
        default_value_t = 0
    )]
    pub shamir_threshold: usize,
    #[command(flatten)]
    pub change: ChangeArgs,
    /// The input format (default: from the extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// The index of the group to delete (0-based)
    pub index: usize,
}

#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    /// Check what is staged in the git index (what will be committed), not the work tree
    #[arg(long)]
    pub staged: bool,
    /// Do not verify the MAC (it is checked only when a key is available anyway)
    #[arg(long)]
    pub no_mac: bool,
    /// Machine-readable output
    #[arg(long)]
    pub json: bool,
    /// The input format (default: from each file's extension)
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Files to check (default: the staged files with --staged, else every tracked file)
    pub paths: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct GitArgs {
    #[command(subcommand)]
    pub command: GitCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum GitCommand {
    /// Diff driver: print FILE decrypted in its own format (ciphertext if it cannot be)
    Textconv(GitTextconvArgs),
    /// Write .gitattributes lines and the diff/merge driver config (idempotent)
    Setup(GitSetupArgs),
    /// Merge driver: veil git merge-driver %O %A %B %P (3-way merge by key path)
    MergeDriver(GitMergeDriverArgs),
    /// Resolve a conflicted merge of FILE in $EDITOR (base/ours/theirs shown), seal and stage it
    Resolve(GitResolveArgs),
}

#[derive(Args, Debug, Clone)]
pub struct GitResolveArgs {
    /// The conflicted encrypted file
    pub file: String,
}

#[derive(Args, Debug, Clone)]
pub struct GitTextconvArgs {
    /// The encrypted file (git passes a temporary copy)
    pub file: String,
}

#[derive(Args, Debug, Clone)]
pub struct GitSetupArgs {
    /// Write the driver config to the user's git config instead of .git/config
    #[arg(long)]
    pub global: bool,
    /// Report what is missing, change nothing (exit 1 when something is)
    #[arg(long)]
    pub check: bool,
    /// Use this .gitattributes pattern instead of the creation rules' files (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub pattern: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct GitMergeDriverArgs {
    /// %O: the common ancestor's version
    pub base: String,
    /// %A: our version; the result is written here
    pub ours: String,
    /// %B: their version
    pub theirs: String,
    /// %P: the path of the file in the repository (for its format)
    pub path: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The lazily built command line leaves every subcommand's arguments unbuilt until clap
    /// needs them, and then prints the very same help for it as the eager one.
    #[test]
    fn lazy_subcommands_are_built_on_demand_with_unchanged_help() {
        let eager = Cli::command();
        let lazy = lazily(Cli::command);
        assert!(lazy
            .get_subcommands()
            .all(|sc| sc.get_arguments().next().is_none()));
        assert!(eager
            .get_subcommands()
            .any(|sc| sc.get_arguments().next().is_some()));
        let names: Vec<String> = eager
            .get_subcommands()
            .map(|sc| sc.get_name().to_string())
            .collect();
        assert_eq!(names.len(), lazy.get_subcommands().count());
        for name in names {
            let help = |cmd: &clap::Command| {
                let mut cmd = cmd.clone();
                match cmd.try_get_matches_from_mut(["veil", name.as_str(), "--help"]) {
                    Err(e) => e.to_string(),
                    Ok(_) => panic!("{name} --help parsed"),
                }
            };
            assert_eq!(help(&lazy), help(&eager), "help of {name}");
        }
    }
}
