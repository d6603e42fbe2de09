# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_veil_global_optspecs
    string join \n e/encrypt d/decrypt r/rotate set= s/show-master-keys add-age= rm-age= add-pgp= rm-pgp= add-kms= rm-kms= add-gcp-kms= rm-gcp-kms= add-azure-kv= rm-azure-kv= add-hc-vault-transit= rm-hc-vault-transit= add-hckms= rm-hckms= input-type= output-type= filename-override= i/in-place output= a/age= k/kms= aws-profile= encryption-context= gcp-kms= azure-kv= hckms= p/pgp= hc-vault-transit= unencrypted-suffix= encrypted-suffix= unencrypted-regex= encrypted-regex= unencrypted-comment-regex= encrypted-comment-regex= mac-only-encrypted integrity shamir-secret-sharing-threshold= cipher= extract= ignore-mac decryption-order= config= indent= verbose force disable-version-check keyservice= enable-local-keyservice= check-for-updates h/help V/version
end

function __fish_veil_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_veil_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_veil_using_subcommand
    set -l cmd (__fish_veil_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c veil -n "__fish_veil_needs_command" -l set -d 'Set one value: --set \'["key"] "json value"\' (legacy form)' -r
complete -c veil -n "__fish_veil_needs_command" -l add-age -d 'Add age recipients' -r
complete -c veil -n "__fish_veil_needs_command" -l rm-age -d 'Remove age recipients' -r
complete -c veil -n "__fish_veil_needs_command" -l add-pgp -d 'Add PGP fingerprints' -r
complete -c veil -n "__fish_veil_needs_command" -l rm-pgp -d 'Remove PGP fingerprints' -r
complete -c veil -n "__fish_veil_needs_command" -l add-kms -d 'Add AWS KMS ARNs (arn[+role-arn])' -r
complete -c veil -n "__fish_veil_needs_command" -l rm-kms -d 'Remove AWS KMS ARNs' -r
complete -c veil -n "__fish_veil_needs_command" -l add-gcp-kms -d 'Add GCP KMS resource ids' -r
complete -c veil -n "__fish_veil_needs_command" -l rm-gcp-kms -d 'Remove GCP KMS resource ids' -r
complete -c veil -n "__fish_veil_needs_command" -l add-azure-kv -d 'Add Azure Key Vault key URLs' -r
complete -c veil -n "__fish_veil_needs_command" -l rm-azure-kv -d 'Remove Azure Key Vault key URLs' -r
complete -c veil -n "__fish_veil_needs_command" -l add-hc-vault-transit -d 'Add Vault transit key URIs' -r
complete -c veil -n "__fish_veil_needs_command" -l rm-hc-vault-transit -d 'Remove Vault transit key URIs' -r
complete -c veil -n "__fish_veil_needs_command" -l add-hckms -d 'Add Huawei Cloud KMS key ids (region:uuid)' -r
complete -c veil -n "__fish_veil_needs_command" -l rm-hckms -d 'Remove Huawei Cloud KMS key ids' -r
complete -c veil -n "__fish_veil_needs_command" -l input-type -d 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)' -r
complete -c veil -n "__fish_veil_needs_command" -l output-type -d 'The output format (default: the input format)' -r
complete -c veil -n "__fish_veil_needs_command" -l filename-override -d 'Use this name for format detection and .sops.yaml matching (needed with stdin)' -r
complete -c veil -n "__fish_veil_needs_command" -l output -d 'Write the result to this file (atomically) instead of stdout' -r
complete -c veil -n "__fish_veil_needs_command" -s a -l age -d 'age recipients (age1…, ssh-ed25519/ssh-rsa public keys), comma-separated or repeated' -r
complete -c veil -n "__fish_veil_needs_command" -s k -l kms -d 'AWS KMS key ARNs (ARN or ARN+ROLE_ARN), comma-separated or repeated' -r
complete -c veil -n "__fish_veil_needs_command" -l aws-profile -d 'The AWS profile for the --kms keys' -r
complete -c veil -n "__fish_veil_needs_command" -l encryption-context -d 'KMS encryption context for the --kms keys: key:value pairs, comma-separated' -r
complete -c veil -n "__fish_veil_needs_command" -l gcp-kms -d 'GCP KMS resource ids (sops\'s flag; this veil build cannot encrypt for them yet)' -r
complete -c veil -n "__fish_veil_needs_command" -l azure-kv -d 'Azure Key Vault key URLs (sops\'s flag; this veil build cannot encrypt for them yet)' -r
complete -c veil -n "__fish_veil_needs_command" -l hckms -d 'HuaweiCloud KMS key ids, region:uuid (sops\'s flag; this veil build cannot encrypt for them yet)' -r
complete -c veil -n "__fish_veil_needs_command" -s p -l pgp -d 'PGP fingerprints, comma-separated or repeated' -r
complete -c veil -n "__fish_veil_needs_command" -l hc-vault-transit -d 'Vault/OpenBao transit keys, e.g. https://vault:8200/v1/transit/keys/name; comma-separated or repeated. Their servers may receive the Vault token' -r
complete -c veil -n "__fish_veil_needs_command" -l unencrypted-suffix -d 'Leave keys ending with this suffix unencrypted (default _unencrypted)' -r
complete -c veil -n "__fish_veil_needs_command" -l encrypted-suffix -d 'Encrypt only keys ending with this suffix' -r
complete -c veil -n "__fish_veil_needs_command" -l unencrypted-regex -d 'Leave keys matching this regex unencrypted' -r
complete -c veil -n "__fish_veil_needs_command" -l encrypted-regex -d 'Encrypt only keys matching this regex' -r
complete -c veil -n "__fish_veil_needs_command" -l unencrypted-comment-regex -d 'Leave values under comments matching this regex unencrypted' -r
complete -c veil -n "__fish_veil_needs_command" -l encrypted-comment-regex -d 'Encrypt only values under comments matching this regex' -r
complete -c veil -n "__fish_veil_needs_command" -l shamir-secret-sharing-threshold -d 'Number of key groups needed to decrypt (Shamir)' -r
complete -c veil -n "__fish_veil_needs_command" -l cipher -d 'Value cipher: aes256-gcm (default, sops-compatible) or xchacha20-poly1305 (veil only)' -r
complete -c veil -n "__fish_veil_needs_command" -l extract -d 'Print only the value at this path (with -d)' -r
complete -c veil -n "__fish_veil_needs_command" -l decryption-order -d 'Order in which key types are tried' -r
complete -c veil -n "__fish_veil_needs_command" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_needs_command" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_needs_command" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_needs_command" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_needs_command" -s e -l encrypt -d 'Encrypt the file (legacy form)'
complete -c veil -n "__fish_veil_needs_command" -s d -l decrypt -d 'Decrypt the file (legacy form)'
complete -c veil -n "__fish_veil_needs_command" -s r -l rotate -d 'Rotate the file\'s data key (legacy form)'
complete -c veil -n "__fish_veil_needs_command" -s s -l show-master-keys -d 'Edit: show the sops metadata in the editor'
complete -c veil -n "__fish_veil_needs_command" -s i -l in-place -d 'Write the result back to the file (atomically)'
complete -c veil -n "__fish_veil_needs_command" -l mac-only-encrypted -d 'Compute the MAC over encrypted values only, so plaintext keys can change freely'
complete -c veil -n "__fish_veil_needs_command" -l integrity -d 'Also write veil\'s integrity field, which authenticates what the sops MAC leaves out (recipients, the rule, value types, keys and comments); sops ignores it'
complete -c veil -n "__fish_veil_needs_command" -l ignore-mac -d 'Decrypt even if the MAC does not verify'
complete -c veil -n "__fish_veil_needs_command" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_needs_command" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_needs_command" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_needs_command" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_needs_command" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_needs_command" -s V -l version -d 'Print version'
complete -c veil -n "__fish_veil_needs_command" -a "encrypt" -d 'Encrypt a file (to stdout, or in place with -i)'
complete -c veil -n "__fish_veil_needs_command" -a "decrypt" -d 'Decrypt a file (to stdout, or in place with -i)'
complete -c veil -n "__fish_veil_needs_command" -a "filestatus" -d 'Tell whether a file is encrypted: {"encrypted":true|false}'
complete -c veil -n "__fish_veil_needs_command" -a "keygen" -d 'Create an age identity at sops\'s default key file path and print its public key'
complete -c veil -n "__fish_veil_needs_command" -a "completion" -d 'Print a shell completion script'
complete -c veil -n "__fish_veil_needs_command" -a "exec-env" -d 'Run a command with the decrypted values in its environment'
complete -c veil -n "__fish_veil_needs_command" -a "exec-file" -d 'Run a command with the decrypted file at a private path ({} in the command)'
complete -c veil -n "__fish_veil_needs_command" -a "init" -d 'Write a starter .sops.yaml here for your age key, and print the next steps'
complete -c veil -n "__fish_veil_needs_command" -a "edit" -d 'Edit an encrypted file in $EDITOR; unchanged values keep their exact ciphertext'
complete -c veil -n "__fish_veil_needs_command" -a "set" -d 'Set one value: `veil set FILE \'["key"][0]\' \'"json value"\'`'
complete -c veil -n "__fish_veil_needs_command" -a "unset" -d 'Remove one key or list element: `veil unset FILE \'["key"]\'`'
complete -c veil -n "__fish_veil_needs_command" -a "rotate" -d 'Generate a new data key, re-encrypt every value and re-wrap every key'
complete -c veil -n "__fish_veil_needs_command" -a "updatekeys" -d 'Make files\' keys match their .sops.yaml creation rules (same data key, values untouched)'
complete -c veil -n "__fish_veil_needs_command" -a "groups" -d 'Add or delete key groups'
complete -c veil -n "__fish_veil_needs_command" -a "publish" -d 'Publish a sops file (or a directory) to the destinations of .sops.yaml destination_rules'
complete -c veil -n "__fish_veil_needs_command" -a "check" -d 'Pre-commit check: refuse plaintext, malformed or tampered files (exit 1 on failure)'
complete -c veil -n "__fish_veil_needs_command" -a "git" -d 'git integration: diff and merge drivers, setup'
complete -c veil -n "__fish_veil_needs_command" -a "access" -d 'Who can read which files, how old their data keys are, and what differs from .sops.yaml (exit 10 on findings; reads metadata only, needs no key)'
complete -c veil -n "__fish_veil_needs_command" -a "diff" -d 'Which key paths were added, removed or changed between two versions, without a key'
complete -c veil -n "__fish_veil_needs_command" -a "keyservice" -d 'Serve sops\'s key service (gRPC): unwrap data keys for other machines with this one\'s keys'
complete -c veil -n "__fish_veil_needs_command" -a "agent" -d 'Cache unwrapped data keys for a session (one KMS call or passphrase per key, not per file): start, run, status, stop'
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l input-type -d 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l output-type -d 'The output format (default: the input format)' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l filename-override -d 'Use this name for format detection and .sops.yaml matching (needed with stdin)' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l output -d 'Write the result to this file (atomically) instead of stdout' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -s a -l age -d 'age recipients (age1…, ssh-ed25519/ssh-rsa public keys), comma-separated or repeated' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -s k -l kms -d 'AWS KMS key ARNs (ARN or ARN+ROLE_ARN), comma-separated or repeated' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l aws-profile -d 'The AWS profile for the --kms keys' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l encryption-context -d 'KMS encryption context for the --kms keys: key:value pairs, comma-separated' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l gcp-kms -d 'GCP KMS resource ids (sops\'s flag; this veil build cannot encrypt for them yet)' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l azure-kv -d 'Azure Key Vault key URLs (sops\'s flag; this veil build cannot encrypt for them yet)' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l hckms -d 'HuaweiCloud KMS key ids, region:uuid (sops\'s flag; this veil build cannot encrypt for them yet)' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -s p -l pgp -d 'PGP fingerprints, comma-separated or repeated' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l hc-vault-transit -d 'Vault/OpenBao transit keys, e.g. https://vault:8200/v1/transit/keys/name; comma-separated or repeated. Their servers may receive the Vault token' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l unencrypted-suffix -d 'Leave keys ending with this suffix unencrypted (default _unencrypted)' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l encrypted-suffix -d 'Encrypt only keys ending with this suffix' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l unencrypted-regex -d 'Leave keys matching this regex unencrypted' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l encrypted-regex -d 'Encrypt only keys matching this regex' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l unencrypted-comment-regex -d 'Leave values under comments matching this regex unencrypted' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l encrypted-comment-regex -d 'Encrypt only values under comments matching this regex' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l shamir-secret-sharing-threshold -d 'Number of key groups needed to decrypt (Shamir)' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l cipher -d 'Value cipher: aes256-gcm (default, sops-compatible) or xchacha20-poly1305 (veil only)' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l reuse-from -d 'Re-encrypt a plaintext working copy against this encrypted file: its data key, keys and rules are used, and every unchanged value keeps its exact ciphertext' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -s r -l recursive -d 'Encrypt in place every file under DIR that a .sops.yaml creation rule matches and that is not encrypted yet (no symlinks followed; .git skipped); encrypted files are left as they are' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -s i -l in-place -d 'Write the result back to the file (atomically)'
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l mac-only-encrypted -d 'Compute the MAC over encrypted values only, so plaintext keys can change freely'
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l integrity -d 'Also write veil\'s integrity field, which authenticates what the sops MAC leaves out (recipients, the rule, value types, keys and comments); sops ignores it'
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l dry-run -d 'With -r: list what would be encrypted, change nothing'
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand encrypt" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l input-type -d 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l output-type -d 'The output format (default: the input format)' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l filename-override -d 'Use this name for format detection and .sops.yaml matching (needed with stdin)' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l output -d 'Write the result to this file (atomically) instead of stdout' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l extract -d 'Print only the value at this path, e.g. \'["a"][0]\'' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l decryption-order -d 'Order in which key types are tried, e.g. age,pgp,kms' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -s r -l recursive -d 'Decrypt every encrypted file under DIR into --output-dir (same relative paths, 0600)' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l output-dir -d 'With -r: where the plaintext goes; refused inside DIR or inside a git work tree unless git ignores it there' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -s i -l in-place -d 'Write the result back to the file (atomically)'
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l ignore-mac -d 'Decrypt even if the MAC does not verify'
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l strict -d 'With several files: refuse a key path that two files set, instead of letting the later win'
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand decrypt" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand filestatus" -l input-type -d 'The input format (default: from the extension)' -r
complete -c veil -n "__fish_veil_using_subcommand filestatus" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand filestatus" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand filestatus" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand filestatus" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand filestatus" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand filestatus" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand filestatus" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand filestatus" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand filestatus" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand keygen" -s o -l output -d 'Write the identity here instead of $XDG_CONFIG_HOME/sops/age/keys.txt' -r
complete -c veil -n "__fish_veil_using_subcommand keygen" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand keygen" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand keygen" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand keygen" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand keygen" -l append -d 'Add a new identity to an existing key file instead of refusing'
complete -c veil -n "__fish_veil_using_subcommand keygen" -l pq -d 'Make a hybrid post-quantum identity (age1pq1…; read by sops 3.12+ and age 1.3+ only)'
complete -c veil -n "__fish_veil_using_subcommand keygen" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand keygen" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand keygen" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand keygen" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand keygen" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand completion" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand completion" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand completion" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand completion" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand completion" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand completion" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand completion" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand completion" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand completion" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l user -d 'Run the command as this user (name, UID or UID:GID; needs root)' -r
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l input-type -d 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)' -r
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l decryption-order -d 'Order in which key types are tried, e.g. age,pgp,kms' -r
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l separator -d 'What joins the key segments of a nested value\'s variable name' -r
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l background -d 'Deprecated (sops). exec-env: start the command detached; exec-file: ignored'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l ignore-mac -d 'Run the command even if the MAC does not verify'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l pristine -d 'Pass only the decrypted values, not veil\'s own environment'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l same-process -d 'Replace veil with the command (exec) instead of running it as a child'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l no-flatten -d 'Refuse nested values, as sops does, instead of flattening them (DB__HOST)'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l strict -d 'With several files: refuse a key path that two files set, instead of letting the later win'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l user -d 'Run the command as this user (name, UID or UID:GID; needs root)' -r
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l input-type -d 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)' -r
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l decryption-order -d 'Order in which key types are tried, e.g. age,pgp,kms' -r
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l output-type -d 'The output format of the decrypted file (default: the input format)' -r
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l filename -d 'Name of the decrypted file inside the private directory (default: tmp-file)' -r
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l background -d 'Deprecated (sops). exec-env: start the command detached; exec-file: ignored'
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l ignore-mac -d 'Run the command even if the MAC does not verify'
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l no-fifo -d 'Use a 0600 regular file instead of a FIFO'
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l strict -d 'With several files: refuse a key path that two files set, instead of letting the later win'
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand exec-file" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand init" -s a -l age -d 'age recipients (default: the public key of your default age key file)' -r
complete -c veil -n "__fish_veil_using_subcommand init" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand init" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand init" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand init" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand init" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand init" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand init" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand init" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand init" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand edit" -l input-type -d 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l output-type -d 'The output format (default: the input format)' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l filename-override -d 'Use this name for format detection and .sops.yaml matching (needed with stdin)' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -s a -l age -d 'age recipients (age1…, ssh-ed25519/ssh-rsa public keys), comma-separated or repeated' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -s k -l kms -d 'AWS KMS key ARNs (ARN or ARN+ROLE_ARN), comma-separated or repeated' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l aws-profile -d 'The AWS profile for the --kms keys' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l encryption-context -d 'KMS encryption context for the --kms keys: key:value pairs, comma-separated' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l gcp-kms -d 'GCP KMS resource ids (sops\'s flag; this veil build cannot encrypt for them yet)' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l azure-kv -d 'Azure Key Vault key URLs (sops\'s flag; this veil build cannot encrypt for them yet)' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l hckms -d 'HuaweiCloud KMS key ids, region:uuid (sops\'s flag; this veil build cannot encrypt for them yet)' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -s p -l pgp -d 'PGP fingerprints, comma-separated or repeated' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l hc-vault-transit -d 'Vault/OpenBao transit keys, e.g. https://vault:8200/v1/transit/keys/name; comma-separated or repeated. Their servers may receive the Vault token' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l unencrypted-suffix -d 'Leave keys ending with this suffix unencrypted (default _unencrypted)' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l encrypted-suffix -d 'Encrypt only keys ending with this suffix' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l unencrypted-regex -d 'Leave keys matching this regex unencrypted' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l encrypted-regex -d 'Encrypt only keys matching this regex' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l unencrypted-comment-regex -d 'Leave values under comments matching this regex unencrypted' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l encrypted-comment-regex -d 'Encrypt only values under comments matching this regex' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l shamir-secret-sharing-threshold -d 'Number of key groups needed to decrypt (Shamir)' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l cipher -d 'Value cipher: aes256-gcm (default, sops-compatible) or xchacha20-poly1305 (veil only)' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l decryption-order -d 'Order in which key types are tried, e.g. age,pgp,kms' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand edit" -l mac-only-encrypted -d 'Compute the MAC over encrypted values only, so plaintext keys can change freely'
complete -c veil -n "__fish_veil_using_subcommand edit" -l integrity -d 'Also write veil\'s integrity field, which authenticates what the sops MAC leaves out (recipients, the rule, value types, keys and comments); sops ignores it'
complete -c veil -n "__fish_veil_using_subcommand edit" -l ignore-mac -d 'Decrypt even if the MAC does not verify'
complete -c veil -n "__fish_veil_using_subcommand edit" -s s -l show-master-keys -d 'Show the sops metadata (keys, rules) in the editor; key changes made there are applied'
complete -c veil -n "__fish_veil_using_subcommand edit" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand edit" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand edit" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand edit" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand edit" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand set" -l input-type -d 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)' -r
complete -c veil -n "__fish_veil_using_subcommand set" -l output-type -d 'The output format (default: the input format)' -r
complete -c veil -n "__fish_veil_using_subcommand set" -l filename-override -d 'Use this name for format detection and .sops.yaml matching (needed with stdin)' -r
complete -c veil -n "__fish_veil_using_subcommand set" -l decryption-order -d 'Order in which key types are tried, e.g. age,pgp,kms' -r
complete -c veil -n "__fish_veil_using_subcommand set" -l shamir-secret-sharing-threshold -d 'Number of key groups needed to decrypt (Shamir); accepted for sops compatibility' -r
complete -c veil -n "__fish_veil_using_subcommand set" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand set" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand set" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand set" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand set" -l ignore-mac -d 'Decrypt even if the MAC does not verify'
complete -c veil -n "__fish_veil_using_subcommand set" -l value-file -d 'VALUE names a file whose content is the JSON value (keeps secrets out of `ps`)'
complete -c veil -n "__fish_veil_using_subcommand set" -l value-stdin -d 'Read the JSON value from stdin (VALUE is then omitted)'
complete -c veil -n "__fish_veil_using_subcommand set" -l idempotent -d 'Do not write the file when the value is already there'
complete -c veil -n "__fish_veil_using_subcommand set" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand set" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand set" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand set" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand set" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand unset" -l input-type -d 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)' -r
complete -c veil -n "__fish_veil_using_subcommand unset" -l output-type -d 'The output format (default: the input format)' -r
complete -c veil -n "__fish_veil_using_subcommand unset" -l filename-override -d 'Use this name for format detection and .sops.yaml matching (needed with stdin)' -r
complete -c veil -n "__fish_veil_using_subcommand unset" -l decryption-order -d 'Order in which key types are tried, e.g. age,pgp,kms' -r
complete -c veil -n "__fish_veil_using_subcommand unset" -l shamir-secret-sharing-threshold -d 'Number of key groups needed to decrypt (Shamir); accepted for sops compatibility' -r
complete -c veil -n "__fish_veil_using_subcommand unset" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand unset" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand unset" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand unset" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand unset" -l ignore-mac -d 'Decrypt even if the MAC does not verify'
complete -c veil -n "__fish_veil_using_subcommand unset" -l idempotent -d 'Succeed without writing when the path does not exist'
complete -c veil -n "__fish_veil_using_subcommand unset" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand unset" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand unset" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand unset" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand unset" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand rotate" -l input-type -d 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l output-type -d 'The output format (default: the input format)' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l filename-override -d 'Use this name for format detection and .sops.yaml matching (needed with stdin)' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l output -d 'Write the result to this file (atomically) instead of stdout' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l decryption-order -d 'Order in which key types are tried, e.g. age,pgp,kms' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l add-age -d 'Add age recipients' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l rm-age -d 'Remove age recipients' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l add-pgp -d 'Add PGP fingerprints' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l rm-pgp -d 'Remove PGP fingerprints' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l add-kms -d 'Add AWS KMS ARNs (arn[+role-arn])' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l rm-kms -d 'Remove AWS KMS ARNs' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l add-gcp-kms -d 'Add GCP KMS resource ids' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l rm-gcp-kms -d 'Remove GCP KMS resource ids' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l add-azure-kv -d 'Add Azure Key Vault key URLs' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l rm-azure-kv -d 'Remove Azure Key Vault key URLs' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l add-hc-vault-transit -d 'Add Vault transit key URIs' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l rm-hc-vault-transit -d 'Remove Vault transit key URIs' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l add-hckms -d 'Add Huawei Cloud KMS key ids (region:uuid)' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l rm-hckms -d 'Remove Huawei Cloud KMS key ids' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l encryption-context -d 'KMS encryption context for added KMS keys (k1:v1,k2:v2)' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand rotate" -s i -l in-place -d 'Write the result back to the file (atomically)'
complete -c veil -n "__fish_veil_using_subcommand rotate" -l ignore-mac -d 'Decrypt even if the MAC does not verify'
complete -c veil -n "__fish_veil_using_subcommand rotate" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand rotate" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand rotate" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand rotate" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand rotate" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -s r -l recursive -d 'Every encrypted file under DIR that a creation rule matches' -r
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -s j -l jobs -d 'Files processed at once (default: the number of CPUs, at most 8)' -r
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -l input-type -d 'The input format (default: from each file\'s extension)' -r
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -l shamir-secret-sharing-threshold -d 'Number of key groups needed to decrypt (default: the file\'s, at most the group count)' -r
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -l decryption-order -d 'Order in which key types are tried, e.g. age,pgp,kms' -r
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -s y -l yes -d 'Apply the changes without asking'
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -l dry-run -d 'Show what would change, write nothing'
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -l rotate -d 'Also generate a new data key (re-encrypting every value), so a removed key cannot read the file\'s future versions'
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -l ignore-mac -d 'Decrypt even if the MAC does not verify'
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand updatekeys" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand groups; and not __fish_seen_subcommand_from add delete" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and not __fish_seen_subcommand_from add delete" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and not __fish_seen_subcommand_from add delete" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and not __fish_seen_subcommand_from add delete" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and not __fish_seen_subcommand_from add delete" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand groups; and not __fish_seen_subcommand_from add delete" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand groups; and not __fish_seen_subcommand_from add delete" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand groups; and not __fish_seen_subcommand_from add delete" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand groups; and not __fish_seen_subcommand_from add delete" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand groups; and not __fish_seen_subcommand_from add delete" -f -a "add" -d 'Add a key group (the same data key, re-split into Shamir shares)'
complete -c veil -n "__fish_veil_using_subcommand groups; and not __fish_seen_subcommand_from add delete" -f -a "delete" -d 'Delete the key group at INDEX (0-based)'
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -s f -l file -d 'The encrypted file' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l age -d 'age recipients of the new group (comma-separated or repeated)' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l pgp -d 'PGP fingerprints of the new group' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l kms -d 'AWS KMS ARNs of the new group' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l aws-profile -d 'The AWS profile for the KMS keys' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l gcp-kms -d 'GCP KMS resource ids of the new group' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l azure-kv -d 'Azure Key Vault key URLs of the new group' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l hc-vault-transit -d 'Vault transit key URIs of the new group' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l hckms -d 'Huawei Cloud KMS key ids of the new group' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l encryption-context -d 'KMS encryption context (k1:v1,k2:v2)' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l shamir-secret-sharing-threshold -d 'Number of key groups needed to decrypt' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l decryption-order -d 'Order in which key types are tried, e.g. age,pgp,kms' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l input-type -d 'The input format (default: from the extension)' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -s i -l in-place -d 'Write the result back to the file (atomically) instead of stdout'
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l ignore-mac -d 'Decrypt even if the MAC does not verify'
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from delete" -s f -l file -d 'The encrypted file' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from delete" -l shamir-secret-sharing-threshold -d 'Number of key groups needed to decrypt' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from delete" -l decryption-order -d 'Order in which key types are tried, e.g. age,pgp,kms' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from delete" -l input-type -d 'The input format (default: from the extension)' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from delete" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from delete" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from delete" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from delete" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from delete" -s i -l in-place -d 'Write the result back to the file (atomically) instead of stdout'
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from delete" -l ignore-mac -d 'Decrypt even if the MAC does not verify'
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from delete" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from delete" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from delete" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from delete" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand groups; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand publish" -l decryption-order -d 'Order in which key types are tried, e.g. age,pgp,kms' -r
complete -c veil -n "__fish_veil_using_subcommand publish" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand publish" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand publish" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand publish" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand publish" -s y -l yes -d 'Pre-approve every upload and run non-interactively'
complete -c veil -n "__fish_veil_using_subcommand publish" -l omit-extensions -d 'Leave the file extension out of the destination name'
complete -c veil -n "__fish_veil_using_subcommand publish" -l recursive -d 'When FILE is a directory, publish everything under it (names keep their relative path)'
complete -c veil -n "__fish_veil_using_subcommand publish" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand publish" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand publish" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand publish" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand publish" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand check" -l input-type -d 'The input format (default: from each file\'s extension)' -r
complete -c veil -n "__fish_veil_using_subcommand check" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand check" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand check" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand check" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand check" -l staged -d 'Check what is staged in the git index (what will be committed), not the work tree'
complete -c veil -n "__fish_veil_using_subcommand check" -l no-mac -d 'Do not verify the MAC (it is checked only when a key is available anyway)'
complete -c veil -n "__fish_veil_using_subcommand check" -l json -d 'Machine-readable output'
complete -c veil -n "__fish_veil_using_subcommand check" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand check" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand check" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand check" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand check" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand git; and not __fish_seen_subcommand_from textconv setup merge-driver resolve" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand git; and not __fish_seen_subcommand_from textconv setup merge-driver resolve" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand git; and not __fish_seen_subcommand_from textconv setup merge-driver resolve" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand git; and not __fish_seen_subcommand_from textconv setup merge-driver resolve" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand git; and not __fish_seen_subcommand_from textconv setup merge-driver resolve" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand git; and not __fish_seen_subcommand_from textconv setup merge-driver resolve" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand git; and not __fish_seen_subcommand_from textconv setup merge-driver resolve" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand git; and not __fish_seen_subcommand_from textconv setup merge-driver resolve" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand git; and not __fish_seen_subcommand_from textconv setup merge-driver resolve" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand git; and not __fish_seen_subcommand_from textconv setup merge-driver resolve" -f -a "textconv" -d 'Diff driver: print FILE decrypted in its own format (ciphertext if it cannot be)'
complete -c veil -n "__fish_veil_using_subcommand git; and not __fish_seen_subcommand_from textconv setup merge-driver resolve" -f -a "setup" -d 'Write .gitattributes lines and the diff/merge driver config (idempotent)'
complete -c veil -n "__fish_veil_using_subcommand git; and not __fish_seen_subcommand_from textconv setup merge-driver resolve" -f -a "merge-driver" -d 'Merge driver: veil git merge-driver %O %A %B %P (3-way merge by key path)'
complete -c veil -n "__fish_veil_using_subcommand git; and not __fish_seen_subcommand_from textconv setup merge-driver resolve" -f -a "resolve" -d 'Resolve a conflicted merge of FILE in $EDITOR (base/ours/theirs shown), seal and stage it'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from textconv" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from textconv" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from textconv" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from textconv" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from textconv" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from textconv" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from textconv" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from textconv" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from textconv" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from setup" -l pattern -d 'Use this .gitattributes pattern instead of the creation rules\' files (repeatable)' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from setup" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from setup" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from setup" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from setup" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from setup" -l global -d 'Write the driver config to the user\'s git config instead of .git/config'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from setup" -l check -d 'Report what is missing, change nothing (exit 1 when something is)'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from setup" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from setup" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from setup" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from setup" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from setup" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from merge-driver" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from merge-driver" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from merge-driver" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from merge-driver" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from merge-driver" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from merge-driver" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from merge-driver" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from merge-driver" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from merge-driver" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from resolve" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from resolve" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from resolve" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from resolve" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from resolve" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from resolve" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from resolve" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from resolve" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand git; and __fish_seen_subcommand_from resolve" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand access" -l as-of -d 'Judge data-key ages as of this time (RFC 3339), e.g. to see what expires next month' -r
complete -c veil -n "__fish_veil_using_subcommand access" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand access" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand access" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand access" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand access" -l by-recipient -d 'Per key, the files it opens (instead of per file)'
complete -c veil -n "__fish_veil_using_subcommand access" -l json -d 'Machine-readable output (schema in docs/policy.md)'
complete -c veil -n "__fish_veil_using_subcommand access" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand access" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand access" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand access" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand access" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand diff" -l input-type -d 'The input format (default: from each file\'s extension)' -r
complete -c veil -n "__fish_veil_using_subcommand diff" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand diff" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand diff" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand diff" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand diff" -l values -d 'Also decrypt both versions (needs a key) and show the old and new values'
complete -c veil -n "__fish_veil_using_subcommand diff" -l json -d 'Machine-readable output'
complete -c veil -n "__fish_veil_using_subcommand diff" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand diff" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand diff" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand diff" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand diff" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand keyservice" -l network -l net -d 'Network to listen on: unix (veil\'s default) or tcp (sops\'s default)' -r -f -a "unix\t''
tcp\t''"
complete -c veil -n "__fish_veil_using_subcommand keyservice" -l address -l addr -d 'Socket path (default $XDG_RUNTIME_DIR/veil/keyservice.sock) or, for tcp, host:port (default 127.0.0.1:5000)' -r
complete -c veil -n "__fish_veil_using_subcommand keyservice" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand keyservice" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand keyservice" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand keyservice" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand keyservice" -l allow-remote -d 'Serve tcp on an address that is not loopback (the protocol has no authentication)'
complete -c veil -n "__fish_veil_using_subcommand keyservice" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand keyservice" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand keyservice" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand keyservice" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand keyservice" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand agent; and not __fish_seen_subcommand_from start run status stop" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and not __fish_seen_subcommand_from start run status stop" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and not __fish_seen_subcommand_from start run status stop" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and not __fish_seen_subcommand_from start run status stop" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and not __fish_seen_subcommand_from start run status stop" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand agent; and not __fish_seen_subcommand_from start run status stop" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand agent; and not __fish_seen_subcommand_from start run status stop" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand agent; and not __fish_seen_subcommand_from start run status stop" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand agent; and not __fish_seen_subcommand_from start run status stop" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand agent; and not __fish_seen_subcommand_from start run status stop" -f -a "start" -d 'Start an agent in the background and print the shell line that points veil at it'
complete -c veil -n "__fish_veil_using_subcommand agent; and not __fish_seen_subcommand_from start run status stop" -f -a "run" -d 'Run an agent in the foreground (for systemd, or to watch it with --verbose)'
complete -c veil -n "__fish_veil_using_subcommand agent; and not __fish_seen_subcommand_from start run status stop" -f -a "status" -d 'Show the cached keys (kind, name, seconds to expiry), TTL, limit and pid; never a key'
complete -c veil -n "__fish_veil_using_subcommand agent; and not __fish_seen_subcommand_from start run status stop" -f -a "stop" -d 'Wipe the cache, remove the socket and end the agent'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from start" -l ttl -d 'How long an unwrapped key stays cached: 90s, 15m, 2h, 1h30m (a bare number is seconds)' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from start" -l max-entries -d 'The most keys cached at once (the oldest is dropped first)' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from start" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from start" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from start" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from start" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from start" -l detached -d 'Started by `veil agent start` (internal)'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from start" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from start" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from start" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from start" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from run" -l ttl -d 'How long an unwrapped key stays cached: 90s, 15m, 2h, 1h30m (a bare number is seconds)' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from run" -l max-entries -d 'The most keys cached at once (the oldest is dropped first)' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from run" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from run" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from run" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from run" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from run" -l detached -d 'Started by `veil agent start` (internal)'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from run" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from run" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from run" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from run" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from status" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from status" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from status" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from status" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from status" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from status" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from status" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from status" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from stop" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from stop" -l indent -d 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from stop" -l keyservice -d 'A key service to wrap and unwrap data keys with, after the local one (repeatable): unix:///path/to/socket or tcp://host:port' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from stop" -l enable-local-keyservice -d 'Use this machine\'s own keys; --enable-local-keyservice=false uses only --keyservice' -r
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from stop" -l verbose -d 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from stop" -l force -d 'Replace a file that has other hard links (they keep the old content)'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from stop" -l disable-version-check -d 'Accepted for sops compatibility: veil never checks for updates'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from stop" -l check-for-updates -d 'Accepted for sops compatibility: veil never checks for updates (no network)'
complete -c veil -n "__fish_veil_using_subcommand agent; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help'
