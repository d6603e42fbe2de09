# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_veil_global_optspecs
    string join \n e/encrypt d/decrypt input-type= output-type= filename-override= i/in-place output= a/age= k/kms= aws-profile= encryption-context= p/pgp= hc-vault-transit= unencrypted-suffix= encrypted-suffix= unencrypted-regex= encrypted-regex= unencrypted-comment-regex= encrypted-comment-regex= mac-only-encrypted shamir-secret-sharing-threshold= cipher= config= extract= ignore-mac decryption-order= h/help V/version
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

complete -c veil -n "__fish_veil_needs_command" -l input-type -d 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)' -r
complete -c veil -n "__fish_veil_needs_command" -l output-type -d 'The output format (default: the input format)' -r
complete -c veil -n "__fish_veil_needs_command" -l filename-override -d 'Use this name for format detection and .sops.yaml matching (needed with stdin)' -r
complete -c veil -n "__fish_veil_needs_command" -l output -d 'Write the result to this file (atomically) instead of stdout' -r
complete -c veil -n "__fish_veil_needs_command" -s a -l age -d 'age recipients (age1…, ssh-ed25519/ssh-rsa public keys), comma-separated or repeated' -r
complete -c veil -n "__fish_veil_needs_command" -s k -l kms -d 'AWS KMS key ARNs (ARN or ARN+ROLE_ARN), comma-separated or repeated' -r
complete -c veil -n "__fish_veil_needs_command" -l aws-profile -d 'The AWS profile for the --kms keys' -r
complete -c veil -n "__fish_veil_needs_command" -l encryption-context -d 'KMS encryption context for the --kms keys: key:value pairs, comma-separated' -r
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
complete -c veil -n "__fish_veil_needs_command" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_needs_command" -l extract -d 'Print only the value at this path (with -d)' -r
complete -c veil -n "__fish_veil_needs_command" -l decryption-order -d 'Order in which key types are tried' -r
complete -c veil -n "__fish_veil_needs_command" -s e -l encrypt -d 'Encrypt the file (legacy form)'
complete -c veil -n "__fish_veil_needs_command" -s d -l decrypt -d 'Decrypt the file (legacy form)'
complete -c veil -n "__fish_veil_needs_command" -s i -l in-place -d 'Write the result back to the file (atomically)'
complete -c veil -n "__fish_veil_needs_command" -l mac-only-encrypted -d 'Compute the MAC over encrypted values only, so plaintext keys can change freely'
complete -c veil -n "__fish_veil_needs_command" -l ignore-mac -d 'Decrypt even if the MAC does not verify'
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
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l input-type -d 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l output-type -d 'The output format (default: the input format)' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l filename-override -d 'Use this name for format detection and .sops.yaml matching (needed with stdin)' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l output -d 'Write the result to this file (atomically) instead of stdout' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -s a -l age -d 'age recipients (age1…, ssh-ed25519/ssh-rsa public keys), comma-separated or repeated' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -s k -l kms -d 'AWS KMS key ARNs (ARN or ARN+ROLE_ARN), comma-separated or repeated' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l aws-profile -d 'The AWS profile for the --kms keys' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l encryption-context -d 'KMS encryption context for the --kms keys: key:value pairs, comma-separated' -r
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
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l config -d 'Path of the .sops.yaml config (default: searched upward from the current directory)' -r
complete -c veil -n "__fish_veil_using_subcommand encrypt" -s i -l in-place -d 'Write the result back to the file (atomically)'
complete -c veil -n "__fish_veil_using_subcommand encrypt" -l mac-only-encrypted -d 'Compute the MAC over encrypted values only, so plaintext keys can change freely'
complete -c veil -n "__fish_veil_using_subcommand encrypt" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l input-type -d 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l output-type -d 'The output format (default: the input format)' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l filename-override -d 'Use this name for format detection and .sops.yaml matching (needed with stdin)' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l output -d 'Write the result to this file (atomically) instead of stdout' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l extract -d 'Print only the value at this path, e.g. \'["a"][0]\'' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l decryption-order -d 'Order in which key types are tried, e.g. age,pgp,kms' -r
complete -c veil -n "__fish_veil_using_subcommand decrypt" -s i -l in-place -d 'Write the result back to the file (atomically)'
complete -c veil -n "__fish_veil_using_subcommand decrypt" -l ignore-mac -d 'Decrypt even if the MAC does not verify'
complete -c veil -n "__fish_veil_using_subcommand decrypt" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand filestatus" -l input-type -d 'The input format (default: from the extension)' -r
complete -c veil -n "__fish_veil_using_subcommand filestatus" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand keygen" -s o -l output -d 'Write the identity here instead of $XDG_CONFIG_HOME/sops/age/keys.txt' -r
complete -c veil -n "__fish_veil_using_subcommand keygen" -l append -d 'Add a new identity to an existing key file instead of refusing'
complete -c veil -n "__fish_veil_using_subcommand keygen" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand completion" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l user -d 'Run the command as this user (name, UID or UID:GID; needs root)' -r
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l input-type -d 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)' -r
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l decryption-order -d 'Order in which key types are tried, e.g. age,pgp,kms' -r
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l separator -d 'What joins the key segments of a nested value\'s variable name' -r
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l background -d 'Deprecated (sops). exec-env: start the command detached; exec-file: ignored'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l ignore-mac -d 'Run the command even if the MAC does not verify'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l pristine -d 'Pass only the decrypted values, not veil\'s own environment'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l same-process -d 'Replace veil with the command (exec) instead of running it as a child'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -l no-flatten -d 'Refuse nested values, as sops does, instead of flattening them (DB__HOST)'
complete -c veil -n "__fish_veil_using_subcommand exec-env" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l user -d 'Run the command as this user (name, UID or UID:GID; needs root)' -r
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l input-type -d 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)' -r
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l decryption-order -d 'Order in which key types are tried, e.g. age,pgp,kms' -r
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l output-type -d 'The output format of the decrypted file (default: the input format)' -r
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l filename -d 'Name of the decrypted file inside the private directory (default: tmp-file)' -r
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l background -d 'Deprecated (sops). exec-env: start the command detached; exec-file: ignored'
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l ignore-mac -d 'Run the command even if the MAC does not verify'
complete -c veil -n "__fish_veil_using_subcommand exec-file" -l no-fifo -d 'Use a 0600 regular file instead of a FIFO'
complete -c veil -n "__fish_veil_using_subcommand exec-file" -s h -l help -d 'Print help'
complete -c veil -n "__fish_veil_using_subcommand init" -s a -l age -d 'age recipients (default: the public key of your default age key file)' -r
complete -c veil -n "__fish_veil_using_subcommand init" -s h -l help -d 'Print help'
