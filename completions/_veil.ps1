
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'veil' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'veil'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'veil' {
            [CompletionResult]::new('--input-type', '--input-type', [CompletionResultType]::ParameterName, 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)')
            [CompletionResult]::new('--output-type', '--output-type', [CompletionResultType]::ParameterName, 'The output format (default: the input format)')
            [CompletionResult]::new('--filename-override', '--filename-override', [CompletionResultType]::ParameterName, 'Use this name for format detection and .sops.yaml matching (needed with stdin)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the result to this file (atomically) instead of stdout')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'age recipients (age1…, ssh-ed25519/ssh-rsa public keys), comma-separated or repeated')
            [CompletionResult]::new('--age', '--age', [CompletionResultType]::ParameterName, 'age recipients (age1…, ssh-ed25519/ssh-rsa public keys), comma-separated or repeated')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'AWS KMS key ARNs (ARN or ARN+ROLE_ARN), comma-separated or repeated')
            [CompletionResult]::new('--kms', '--kms', [CompletionResultType]::ParameterName, 'AWS KMS key ARNs (ARN or ARN+ROLE_ARN), comma-separated or repeated')
            [CompletionResult]::new('--aws-profile', '--aws-profile', [CompletionResultType]::ParameterName, 'The AWS profile for the --kms keys')
            [CompletionResult]::new('--encryption-context', '--encryption-context', [CompletionResultType]::ParameterName, 'KMS encryption context for the --kms keys: key:value pairs, comma-separated')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'PGP fingerprints, comma-separated or repeated')
            [CompletionResult]::new('--pgp', '--pgp', [CompletionResultType]::ParameterName, 'PGP fingerprints, comma-separated or repeated')
            [CompletionResult]::new('--hc-vault-transit', '--hc-vault-transit', [CompletionResultType]::ParameterName, 'Vault/OpenBao transit keys, e.g. https://vault:8200/v1/transit/keys/name; comma-separated or repeated. Their servers may receive the Vault token')
            [CompletionResult]::new('--unencrypted-suffix', '--unencrypted-suffix', [CompletionResultType]::ParameterName, 'Leave keys ending with this suffix unencrypted (default _unencrypted)')
            [CompletionResult]::new('--encrypted-suffix', '--encrypted-suffix', [CompletionResultType]::ParameterName, 'Encrypt only keys ending with this suffix')
            [CompletionResult]::new('--unencrypted-regex', '--unencrypted-regex', [CompletionResultType]::ParameterName, 'Leave keys matching this regex unencrypted')
            [CompletionResult]::new('--encrypted-regex', '--encrypted-regex', [CompletionResultType]::ParameterName, 'Encrypt only keys matching this regex')
            [CompletionResult]::new('--unencrypted-comment-regex', '--unencrypted-comment-regex', [CompletionResultType]::ParameterName, 'Leave values under comments matching this regex unencrypted')
            [CompletionResult]::new('--encrypted-comment-regex', '--encrypted-comment-regex', [CompletionResultType]::ParameterName, 'Encrypt only values under comments matching this regex')
            [CompletionResult]::new('--shamir-secret-sharing-threshold', '--shamir-secret-sharing-threshold', [CompletionResultType]::ParameterName, 'Number of key groups needed to decrypt (Shamir)')
            [CompletionResult]::new('--cipher', '--cipher', [CompletionResultType]::ParameterName, 'Value cipher: aes256-gcm (default, sops-compatible) or xchacha20-poly1305 (veil only)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--extract', '--extract', [CompletionResultType]::ParameterName, 'Print only the value at this path (with -d)')
            [CompletionResult]::new('--decryption-order', '--decryption-order', [CompletionResultType]::ParameterName, 'Order in which key types are tried')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Encrypt the file (legacy form)')
            [CompletionResult]::new('--encrypt', '--encrypt', [CompletionResultType]::ParameterName, 'Encrypt the file (legacy form)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Decrypt the file (legacy form)')
            [CompletionResult]::new('--decrypt', '--decrypt', [CompletionResultType]::ParameterName, 'Decrypt the file (legacy form)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically)')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically)')
            [CompletionResult]::new('--mac-only-encrypted', '--mac-only-encrypted', [CompletionResultType]::ParameterName, 'Compute the MAC over encrypted values only, so plaintext keys can change freely')
            [CompletionResult]::new('--ignore-mac', '--ignore-mac', [CompletionResultType]::ParameterName, 'Decrypt even if the MAC does not verify')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('encrypt', 'encrypt', [CompletionResultType]::ParameterValue, 'Encrypt a file (to stdout, or in place with -i)')
            [CompletionResult]::new('decrypt', 'decrypt', [CompletionResultType]::ParameterValue, 'Decrypt a file (to stdout, or in place with -i)')
            [CompletionResult]::new('filestatus', 'filestatus', [CompletionResultType]::ParameterValue, 'Tell whether a file is encrypted: {"encrypted":true|false}')
            [CompletionResult]::new('keygen', 'keygen', [CompletionResultType]::ParameterValue, 'Create an age identity at sops''s default key file path and print its public key')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('exec-env', 'exec-env', [CompletionResultType]::ParameterValue, 'Run a command with the decrypted values in its environment')
            [CompletionResult]::new('exec-file', 'exec-file', [CompletionResultType]::ParameterValue, 'Run a command with the decrypted file at a private path ({} in the command)')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a starter .sops.yaml here for your age key, and print the next steps')
            break
        }
        'veil;encrypt' {
            [CompletionResult]::new('--input-type', '--input-type', [CompletionResultType]::ParameterName, 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)')
            [CompletionResult]::new('--output-type', '--output-type', [CompletionResultType]::ParameterName, 'The output format (default: the input format)')
            [CompletionResult]::new('--filename-override', '--filename-override', [CompletionResultType]::ParameterName, 'Use this name for format detection and .sops.yaml matching (needed with stdin)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the result to this file (atomically) instead of stdout')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'age recipients (age1…, ssh-ed25519/ssh-rsa public keys), comma-separated or repeated')
            [CompletionResult]::new('--age', '--age', [CompletionResultType]::ParameterName, 'age recipients (age1…, ssh-ed25519/ssh-rsa public keys), comma-separated or repeated')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'AWS KMS key ARNs (ARN or ARN+ROLE_ARN), comma-separated or repeated')
            [CompletionResult]::new('--kms', '--kms', [CompletionResultType]::ParameterName, 'AWS KMS key ARNs (ARN or ARN+ROLE_ARN), comma-separated or repeated')
            [CompletionResult]::new('--aws-profile', '--aws-profile', [CompletionResultType]::ParameterName, 'The AWS profile for the --kms keys')
            [CompletionResult]::new('--encryption-context', '--encryption-context', [CompletionResultType]::ParameterName, 'KMS encryption context for the --kms keys: key:value pairs, comma-separated')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'PGP fingerprints, comma-separated or repeated')
            [CompletionResult]::new('--pgp', '--pgp', [CompletionResultType]::ParameterName, 'PGP fingerprints, comma-separated or repeated')
            [CompletionResult]::new('--hc-vault-transit', '--hc-vault-transit', [CompletionResultType]::ParameterName, 'Vault/OpenBao transit keys, e.g. https://vault:8200/v1/transit/keys/name; comma-separated or repeated. Their servers may receive the Vault token')
            [CompletionResult]::new('--unencrypted-suffix', '--unencrypted-suffix', [CompletionResultType]::ParameterName, 'Leave keys ending with this suffix unencrypted (default _unencrypted)')
            [CompletionResult]::new('--encrypted-suffix', '--encrypted-suffix', [CompletionResultType]::ParameterName, 'Encrypt only keys ending with this suffix')
            [CompletionResult]::new('--unencrypted-regex', '--unencrypted-regex', [CompletionResultType]::ParameterName, 'Leave keys matching this regex unencrypted')
            [CompletionResult]::new('--encrypted-regex', '--encrypted-regex', [CompletionResultType]::ParameterName, 'Encrypt only keys matching this regex')
            [CompletionResult]::new('--unencrypted-comment-regex', '--unencrypted-comment-regex', [CompletionResultType]::ParameterName, 'Leave values under comments matching this regex unencrypted')
            [CompletionResult]::new('--encrypted-comment-regex', '--encrypted-comment-regex', [CompletionResultType]::ParameterName, 'Encrypt only values under comments matching this regex')
            [CompletionResult]::new('--shamir-secret-sharing-threshold', '--shamir-secret-sharing-threshold', [CompletionResultType]::ParameterName, 'Number of key groups needed to decrypt (Shamir)')
            [CompletionResult]::new('--cipher', '--cipher', [CompletionResultType]::ParameterName, 'Value cipher: aes256-gcm (default, sops-compatible) or xchacha20-poly1305 (veil only)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically)')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically)')
            [CompletionResult]::new('--mac-only-encrypted', '--mac-only-encrypted', [CompletionResultType]::ParameterName, 'Compute the MAC over encrypted values only, so plaintext keys can change freely')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;decrypt' {
            [CompletionResult]::new('--input-type', '--input-type', [CompletionResultType]::ParameterName, 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)')
            [CompletionResult]::new('--output-type', '--output-type', [CompletionResultType]::ParameterName, 'The output format (default: the input format)')
            [CompletionResult]::new('--filename-override', '--filename-override', [CompletionResultType]::ParameterName, 'Use this name for format detection and .sops.yaml matching (needed with stdin)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the result to this file (atomically) instead of stdout')
            [CompletionResult]::new('--extract', '--extract', [CompletionResultType]::ParameterName, 'Print only the value at this path, e.g. ''["a"][0]''')
            [CompletionResult]::new('--decryption-order', '--decryption-order', [CompletionResultType]::ParameterName, 'Order in which key types are tried, e.g. age,pgp,kms')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically)')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically)')
            [CompletionResult]::new('--ignore-mac', '--ignore-mac', [CompletionResultType]::ParameterName, 'Decrypt even if the MAC does not verify')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;filestatus' {
            [CompletionResult]::new('--input-type', '--input-type', [CompletionResultType]::ParameterName, 'The input format (default: from the extension)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;keygen' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the identity here instead of $XDG_CONFIG_HOME/sops/age/keys.txt')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the identity here instead of $XDG_CONFIG_HOME/sops/age/keys.txt')
            [CompletionResult]::new('--append', '--append', [CompletionResultType]::ParameterName, 'Add a new identity to an existing key file instead of refusing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;completion' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;exec-env' {
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Run the command as this user (name, UID or UID:GID; needs root)')
            [CompletionResult]::new('--input-type', '--input-type', [CompletionResultType]::ParameterName, 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)')
            [CompletionResult]::new('--decryption-order', '--decryption-order', [CompletionResultType]::ParameterName, 'Order in which key types are tried, e.g. age,pgp,kms')
            [CompletionResult]::new('--separator', '--separator', [CompletionResultType]::ParameterName, 'What joins the key segments of a nested value''s variable name')
            [CompletionResult]::new('--background', '--background', [CompletionResultType]::ParameterName, 'Deprecated (sops). exec-env: start the command detached; exec-file: ignored')
            [CompletionResult]::new('--ignore-mac', '--ignore-mac', [CompletionResultType]::ParameterName, 'Run the command even if the MAC does not verify')
            [CompletionResult]::new('--pristine', '--pristine', [CompletionResultType]::ParameterName, 'Pass only the decrypted values, not veil''s own environment')
            [CompletionResult]::new('--same-process', '--same-process', [CompletionResultType]::ParameterName, 'Replace veil with the command (exec) instead of running it as a child')
            [CompletionResult]::new('--no-flatten', '--no-flatten', [CompletionResultType]::ParameterName, 'Refuse nested values, as sops does, instead of flattening them (DB__HOST)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;exec-file' {
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Run the command as this user (name, UID or UID:GID; needs root)')
            [CompletionResult]::new('--input-type', '--input-type', [CompletionResultType]::ParameterName, 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)')
            [CompletionResult]::new('--decryption-order', '--decryption-order', [CompletionResultType]::ParameterName, 'Order in which key types are tried, e.g. age,pgp,kms')
            [CompletionResult]::new('--output-type', '--output-type', [CompletionResultType]::ParameterName, 'The output format of the decrypted file (default: the input format)')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Name of the decrypted file inside the private directory (default: tmp-file)')
            [CompletionResult]::new('--background', '--background', [CompletionResultType]::ParameterName, 'Deprecated (sops). exec-env: start the command detached; exec-file: ignored')
            [CompletionResult]::new('--ignore-mac', '--ignore-mac', [CompletionResultType]::ParameterName, 'Run the command even if the MAC does not verify')
            [CompletionResult]::new('--no-fifo', '--no-fifo', [CompletionResultType]::ParameterName, 'Use a 0600 regular file instead of a FIFO')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;init' {
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'age recipients (default: the public key of your default age key file)')
            [CompletionResult]::new('--age', '--age', [CompletionResultType]::ParameterName, 'age recipients (default: the public key of your default age key file)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
