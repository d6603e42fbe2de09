
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
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set one value: --set ''["key"] "json value"'' (legacy form)')
            [CompletionResult]::new('--add-age', '--add-age', [CompletionResultType]::ParameterName, 'Add age recipients')
            [CompletionResult]::new('--rm-age', '--rm-age', [CompletionResultType]::ParameterName, 'Remove age recipients')
            [CompletionResult]::new('--add-pgp', '--add-pgp', [CompletionResultType]::ParameterName, 'Add PGP fingerprints')
            [CompletionResult]::new('--rm-pgp', '--rm-pgp', [CompletionResultType]::ParameterName, 'Remove PGP fingerprints')
            [CompletionResult]::new('--add-kms', '--add-kms', [CompletionResultType]::ParameterName, 'Add AWS KMS ARNs (arn[+role-arn])')
            [CompletionResult]::new('--rm-kms', '--rm-kms', [CompletionResultType]::ParameterName, 'Remove AWS KMS ARNs')
            [CompletionResult]::new('--add-gcp-kms', '--add-gcp-kms', [CompletionResultType]::ParameterName, 'Add GCP KMS resource ids')
            [CompletionResult]::new('--rm-gcp-kms', '--rm-gcp-kms', [CompletionResultType]::ParameterName, 'Remove GCP KMS resource ids')
            [CompletionResult]::new('--add-azure-kv', '--add-azure-kv', [CompletionResultType]::ParameterName, 'Add Azure Key Vault key URLs')
            [CompletionResult]::new('--rm-azure-kv', '--rm-azure-kv', [CompletionResultType]::ParameterName, 'Remove Azure Key Vault key URLs')
            [CompletionResult]::new('--add-hc-vault-transit', '--add-hc-vault-transit', [CompletionResultType]::ParameterName, 'Add Vault transit key URIs')
            [CompletionResult]::new('--rm-hc-vault-transit', '--rm-hc-vault-transit', [CompletionResultType]::ParameterName, 'Remove Vault transit key URIs')
            [CompletionResult]::new('--add-hckms', '--add-hckms', [CompletionResultType]::ParameterName, 'Add Huawei Cloud KMS key ids (region:uuid)')
            [CompletionResult]::new('--rm-hckms', '--rm-hckms', [CompletionResultType]::ParameterName, 'Remove Huawei Cloud KMS key ids')
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
            [CompletionResult]::new('--extract', '--extract', [CompletionResultType]::ParameterName, 'Print only the value at this path (with -d)')
            [CompletionResult]::new('--decryption-order', '--decryption-order', [CompletionResultType]::ParameterName, 'Order in which key types are tried')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Encrypt the file (legacy form)')
            [CompletionResult]::new('--encrypt', '--encrypt', [CompletionResultType]::ParameterName, 'Encrypt the file (legacy form)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Decrypt the file (legacy form)')
            [CompletionResult]::new('--decrypt', '--decrypt', [CompletionResultType]::ParameterName, 'Decrypt the file (legacy form)')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Rotate the file''s data key (legacy form)')
            [CompletionResult]::new('--rotate', '--rotate', [CompletionResultType]::ParameterName, 'Rotate the file''s data key (legacy form)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Edit: show the sops metadata in the editor')
            [CompletionResult]::new('--show-master-keys', '--show-master-keys', [CompletionResultType]::ParameterName, 'Edit: show the sops metadata in the editor')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically)')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically)')
            [CompletionResult]::new('--mac-only-encrypted', '--mac-only-encrypted', [CompletionResultType]::ParameterName, 'Compute the MAC over encrypted values only, so plaintext keys can change freely')
            [CompletionResult]::new('--integrity', '--integrity', [CompletionResultType]::ParameterName, 'Also write veil''s integrity field, which authenticates what the sops MAC leaves out (recipients, the rule, value types, keys and comments); sops ignores it')
            [CompletionResult]::new('--ignore-mac', '--ignore-mac', [CompletionResultType]::ParameterName, 'Decrypt even if the MAC does not verify')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
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
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Edit an encrypted file in $EDITOR; unchanged values keep their exact ciphertext')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set one value: `veil set FILE ''["key"][0]'' ''"json value"''`')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove one key or list element: `veil unset FILE ''["key"]''`')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Generate a new data key, re-encrypt every value and re-wrap every key')
            [CompletionResult]::new('updatekeys', 'updatekeys', [CompletionResultType]::ParameterValue, 'Make files'' keys match their .sops.yaml creation rules (same data key, values untouched)')
            [CompletionResult]::new('groups', 'groups', [CompletionResultType]::ParameterValue, 'Add or delete key groups')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Pre-commit check: refuse plaintext, malformed or tampered files (exit 1 on failure)')
            [CompletionResult]::new('git', 'git', [CompletionResultType]::ParameterValue, 'git integration: diff and merge drivers, setup')
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
            [CompletionResult]::new('--reuse-from', '--reuse-from', [CompletionResultType]::ParameterName, 'Re-encrypt a plaintext working copy against this encrypted file: its data key, keys and rules are used, and every unchanged value keeps its exact ciphertext')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically)')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically)')
            [CompletionResult]::new('--mac-only-encrypted', '--mac-only-encrypted', [CompletionResultType]::ParameterName, 'Compute the MAC over encrypted values only, so plaintext keys can change freely')
            [CompletionResult]::new('--integrity', '--integrity', [CompletionResultType]::ParameterName, 'Also write veil''s integrity field, which authenticates what the sops MAC leaves out (recipients, the rule, value types, keys and comments); sops ignores it')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
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
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically)')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically)')
            [CompletionResult]::new('--ignore-mac', '--ignore-mac', [CompletionResultType]::ParameterName, 'Decrypt even if the MAC does not verify')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;filestatus' {
            [CompletionResult]::new('--input-type', '--input-type', [CompletionResultType]::ParameterName, 'The input format (default: from the extension)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;keygen' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the identity here instead of $XDG_CONFIG_HOME/sops/age/keys.txt')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the identity here instead of $XDG_CONFIG_HOME/sops/age/keys.txt')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('--append', '--append', [CompletionResultType]::ParameterName, 'Add a new identity to an existing key file instead of refusing')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;completion' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;exec-env' {
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Run the command as this user (name, UID or UID:GID; needs root)')
            [CompletionResult]::new('--input-type', '--input-type', [CompletionResultType]::ParameterName, 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)')
            [CompletionResult]::new('--decryption-order', '--decryption-order', [CompletionResultType]::ParameterName, 'Order in which key types are tried, e.g. age,pgp,kms')
            [CompletionResult]::new('--separator', '--separator', [CompletionResultType]::ParameterName, 'What joins the key segments of a nested value''s variable name')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('--background', '--background', [CompletionResultType]::ParameterName, 'Deprecated (sops). exec-env: start the command detached; exec-file: ignored')
            [CompletionResult]::new('--ignore-mac', '--ignore-mac', [CompletionResultType]::ParameterName, 'Run the command even if the MAC does not verify')
            [CompletionResult]::new('--pristine', '--pristine', [CompletionResultType]::ParameterName, 'Pass only the decrypted values, not veil''s own environment')
            [CompletionResult]::new('--same-process', '--same-process', [CompletionResultType]::ParameterName, 'Replace veil with the command (exec) instead of running it as a child')
            [CompletionResult]::new('--no-flatten', '--no-flatten', [CompletionResultType]::ParameterName, 'Refuse nested values, as sops does, instead of flattening them (DB__HOST)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
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
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('--background', '--background', [CompletionResultType]::ParameterName, 'Deprecated (sops). exec-env: start the command detached; exec-file: ignored')
            [CompletionResult]::new('--ignore-mac', '--ignore-mac', [CompletionResultType]::ParameterName, 'Run the command even if the MAC does not verify')
            [CompletionResult]::new('--no-fifo', '--no-fifo', [CompletionResultType]::ParameterName, 'Use a 0600 regular file instead of a FIFO')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;init' {
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'age recipients (default: the public key of your default age key file)')
            [CompletionResult]::new('--age', '--age', [CompletionResultType]::ParameterName, 'age recipients (default: the public key of your default age key file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;edit' {
            [CompletionResult]::new('--input-type', '--input-type', [CompletionResultType]::ParameterName, 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)')
            [CompletionResult]::new('--output-type', '--output-type', [CompletionResultType]::ParameterName, 'The output format (default: the input format)')
            [CompletionResult]::new('--filename-override', '--filename-override', [CompletionResultType]::ParameterName, 'Use this name for format detection and .sops.yaml matching (needed with stdin)')
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
            [CompletionResult]::new('--decryption-order', '--decryption-order', [CompletionResultType]::ParameterName, 'Order in which key types are tried, e.g. age,pgp,kms')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('--mac-only-encrypted', '--mac-only-encrypted', [CompletionResultType]::ParameterName, 'Compute the MAC over encrypted values only, so plaintext keys can change freely')
            [CompletionResult]::new('--integrity', '--integrity', [CompletionResultType]::ParameterName, 'Also write veil''s integrity field, which authenticates what the sops MAC leaves out (recipients, the rule, value types, keys and comments); sops ignores it')
            [CompletionResult]::new('--ignore-mac', '--ignore-mac', [CompletionResultType]::ParameterName, 'Decrypt even if the MAC does not verify')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Show the sops metadata (keys, rules) in the editor; key changes made there are applied')
            [CompletionResult]::new('--show-master-keys', '--show-master-keys', [CompletionResultType]::ParameterName, 'Show the sops metadata (keys, rules) in the editor; key changes made there are applied')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;set' {
            [CompletionResult]::new('--input-type', '--input-type', [CompletionResultType]::ParameterName, 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)')
            [CompletionResult]::new('--output-type', '--output-type', [CompletionResultType]::ParameterName, 'The output format (default: the input format)')
            [CompletionResult]::new('--filename-override', '--filename-override', [CompletionResultType]::ParameterName, 'Use this name for format detection and .sops.yaml matching (needed with stdin)')
            [CompletionResult]::new('--decryption-order', '--decryption-order', [CompletionResultType]::ParameterName, 'Order in which key types are tried, e.g. age,pgp,kms')
            [CompletionResult]::new('--shamir-secret-sharing-threshold', '--shamir-secret-sharing-threshold', [CompletionResultType]::ParameterName, 'Number of key groups needed to decrypt (Shamir); accepted for sops compatibility')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('--ignore-mac', '--ignore-mac', [CompletionResultType]::ParameterName, 'Decrypt even if the MAC does not verify')
            [CompletionResult]::new('--value-file', '--value-file', [CompletionResultType]::ParameterName, 'VALUE names a file whose content is the JSON value (keeps secrets out of `ps`)')
            [CompletionResult]::new('--value-stdin', '--value-stdin', [CompletionResultType]::ParameterName, 'Read the JSON value from stdin (VALUE is then omitted)')
            [CompletionResult]::new('--idempotent', '--idempotent', [CompletionResultType]::ParameterName, 'Do not write the file when the value is already there')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;unset' {
            [CompletionResult]::new('--input-type', '--input-type', [CompletionResultType]::ParameterName, 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)')
            [CompletionResult]::new('--output-type', '--output-type', [CompletionResultType]::ParameterName, 'The output format (default: the input format)')
            [CompletionResult]::new('--filename-override', '--filename-override', [CompletionResultType]::ParameterName, 'Use this name for format detection and .sops.yaml matching (needed with stdin)')
            [CompletionResult]::new('--decryption-order', '--decryption-order', [CompletionResultType]::ParameterName, 'Order in which key types are tried, e.g. age,pgp,kms')
            [CompletionResult]::new('--shamir-secret-sharing-threshold', '--shamir-secret-sharing-threshold', [CompletionResultType]::ParameterName, 'Number of key groups needed to decrypt (Shamir); accepted for sops compatibility')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('--ignore-mac', '--ignore-mac', [CompletionResultType]::ParameterName, 'Decrypt even if the MAC does not verify')
            [CompletionResult]::new('--idempotent', '--idempotent', [CompletionResultType]::ParameterName, 'Succeed without writing when the path does not exist')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;rotate' {
            [CompletionResult]::new('--input-type', '--input-type', [CompletionResultType]::ParameterName, 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)')
            [CompletionResult]::new('--output-type', '--output-type', [CompletionResultType]::ParameterName, 'The output format (default: the input format)')
            [CompletionResult]::new('--filename-override', '--filename-override', [CompletionResultType]::ParameterName, 'Use this name for format detection and .sops.yaml matching (needed with stdin)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the result to this file (atomically) instead of stdout')
            [CompletionResult]::new('--decryption-order', '--decryption-order', [CompletionResultType]::ParameterName, 'Order in which key types are tried, e.g. age,pgp,kms')
            [CompletionResult]::new('--add-age', '--add-age', [CompletionResultType]::ParameterName, 'Add age recipients')
            [CompletionResult]::new('--rm-age', '--rm-age', [CompletionResultType]::ParameterName, 'Remove age recipients')
            [CompletionResult]::new('--add-pgp', '--add-pgp', [CompletionResultType]::ParameterName, 'Add PGP fingerprints')
            [CompletionResult]::new('--rm-pgp', '--rm-pgp', [CompletionResultType]::ParameterName, 'Remove PGP fingerprints')
            [CompletionResult]::new('--add-kms', '--add-kms', [CompletionResultType]::ParameterName, 'Add AWS KMS ARNs (arn[+role-arn])')
            [CompletionResult]::new('--rm-kms', '--rm-kms', [CompletionResultType]::ParameterName, 'Remove AWS KMS ARNs')
            [CompletionResult]::new('--add-gcp-kms', '--add-gcp-kms', [CompletionResultType]::ParameterName, 'Add GCP KMS resource ids')
            [CompletionResult]::new('--rm-gcp-kms', '--rm-gcp-kms', [CompletionResultType]::ParameterName, 'Remove GCP KMS resource ids')
            [CompletionResult]::new('--add-azure-kv', '--add-azure-kv', [CompletionResultType]::ParameterName, 'Add Azure Key Vault key URLs')
            [CompletionResult]::new('--rm-azure-kv', '--rm-azure-kv', [CompletionResultType]::ParameterName, 'Remove Azure Key Vault key URLs')
            [CompletionResult]::new('--add-hc-vault-transit', '--add-hc-vault-transit', [CompletionResultType]::ParameterName, 'Add Vault transit key URIs')
            [CompletionResult]::new('--rm-hc-vault-transit', '--rm-hc-vault-transit', [CompletionResultType]::ParameterName, 'Remove Vault transit key URIs')
            [CompletionResult]::new('--add-hckms', '--add-hckms', [CompletionResultType]::ParameterName, 'Add Huawei Cloud KMS key ids (region:uuid)')
            [CompletionResult]::new('--rm-hckms', '--rm-hckms', [CompletionResultType]::ParameterName, 'Remove Huawei Cloud KMS key ids')
            [CompletionResult]::new('--encryption-context', '--encryption-context', [CompletionResultType]::ParameterName, 'KMS encryption context for added KMS keys (k1:v1,k2:v2)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically)')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically)')
            [CompletionResult]::new('--ignore-mac', '--ignore-mac', [CompletionResultType]::ParameterName, 'Decrypt even if the MAC does not verify')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;updatekeys' {
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Every encrypted file under DIR that a creation rule matches')
            [CompletionResult]::new('--recursive', '--recursive', [CompletionResultType]::ParameterName, 'Every encrypted file under DIR that a creation rule matches')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Files processed at once (default: the number of CPUs, at most 8)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Files processed at once (default: the number of CPUs, at most 8)')
            [CompletionResult]::new('--input-type', '--input-type', [CompletionResultType]::ParameterName, 'The input format (default: from each file''s extension)')
            [CompletionResult]::new('--shamir-secret-sharing-threshold', '--shamir-secret-sharing-threshold', [CompletionResultType]::ParameterName, 'Number of key groups needed to decrypt (default: the file''s, at most the group count)')
            [CompletionResult]::new('--decryption-order', '--decryption-order', [CompletionResultType]::ParameterName, 'Order in which key types are tried, e.g. age,pgp,kms')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply the changes without asking')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply the changes without asking')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change, write nothing')
            [CompletionResult]::new('--rotate', '--rotate', [CompletionResultType]::ParameterName, 'Also generate a new data key (re-encrypting every value), so a removed key cannot read the file''s future versions')
            [CompletionResult]::new('--ignore-mac', '--ignore-mac', [CompletionResultType]::ParameterName, 'Decrypt even if the MAC does not verify')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;groups' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a key group (the same data key, re-split into Shamir shares)')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete the key group at INDEX (0-based)')
            break
        }
        'veil;groups;add' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The encrypted file')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The encrypted file')
            [CompletionResult]::new('--age', '--age', [CompletionResultType]::ParameterName, 'age recipients of the new group (comma-separated or repeated)')
            [CompletionResult]::new('--pgp', '--pgp', [CompletionResultType]::ParameterName, 'PGP fingerprints of the new group')
            [CompletionResult]::new('--kms', '--kms', [CompletionResultType]::ParameterName, 'AWS KMS ARNs of the new group')
            [CompletionResult]::new('--aws-profile', '--aws-profile', [CompletionResultType]::ParameterName, 'The AWS profile for the KMS keys')
            [CompletionResult]::new('--gcp-kms', '--gcp-kms', [CompletionResultType]::ParameterName, 'GCP KMS resource ids of the new group')
            [CompletionResult]::new('--azure-kv', '--azure-kv', [CompletionResultType]::ParameterName, 'Azure Key Vault key URLs of the new group')
            [CompletionResult]::new('--hc-vault-transit', '--hc-vault-transit', [CompletionResultType]::ParameterName, 'Vault transit key URIs of the new group')
            [CompletionResult]::new('--hckms', '--hckms', [CompletionResultType]::ParameterName, 'Huawei Cloud KMS key ids of the new group')
            [CompletionResult]::new('--encryption-context', '--encryption-context', [CompletionResultType]::ParameterName, 'KMS encryption context (k1:v1,k2:v2)')
            [CompletionResult]::new('--shamir-secret-sharing-threshold', '--shamir-secret-sharing-threshold', [CompletionResultType]::ParameterName, 'Number of key groups needed to decrypt')
            [CompletionResult]::new('--decryption-order', '--decryption-order', [CompletionResultType]::ParameterName, 'Order in which key types are tried, e.g. age,pgp,kms')
            [CompletionResult]::new('--input-type', '--input-type', [CompletionResultType]::ParameterName, 'The input format (default: from the extension)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically) instead of stdout')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically) instead of stdout')
            [CompletionResult]::new('--ignore-mac', '--ignore-mac', [CompletionResultType]::ParameterName, 'Decrypt even if the MAC does not verify')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;groups;delete' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The encrypted file')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The encrypted file')
            [CompletionResult]::new('--shamir-secret-sharing-threshold', '--shamir-secret-sharing-threshold', [CompletionResultType]::ParameterName, 'Number of key groups needed to decrypt')
            [CompletionResult]::new('--decryption-order', '--decryption-order', [CompletionResultType]::ParameterName, 'Order in which key types are tried, e.g. age,pgp,kms')
            [CompletionResult]::new('--input-type', '--input-type', [CompletionResultType]::ParameterName, 'The input format (default: from the extension)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically) instead of stdout')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'Write the result back to the file (atomically) instead of stdout')
            [CompletionResult]::new('--ignore-mac', '--ignore-mac', [CompletionResultType]::ParameterName, 'Decrypt even if the MAC does not verify')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;check' {
            [CompletionResult]::new('--input-type', '--input-type', [CompletionResultType]::ParameterName, 'The input format (default: from each file''s extension)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('--staged', '--staged', [CompletionResultType]::ParameterName, 'Check what is staged in the git index (what will be committed), not the work tree')
            [CompletionResult]::new('--no-mac', '--no-mac', [CompletionResultType]::ParameterName, 'Do not verify the MAC (it is checked only when a key is available anyway)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;git' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('textconv', 'textconv', [CompletionResultType]::ParameterValue, 'Diff driver: print FILE decrypted in its own format (ciphertext if it cannot be)')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Write .gitattributes lines and the diff/merge driver config (idempotent)')
            [CompletionResult]::new('merge-driver', 'merge-driver', [CompletionResultType]::ParameterValue, 'Merge driver: veil git merge-driver %O %A %B %P (3-way merge by key path)')
            [CompletionResult]::new('resolve', 'resolve', [CompletionResultType]::ParameterValue, 'Resolve a conflicted merge of FILE in $EDITOR (base/ours/theirs shown), seal and stage it')
            break
        }
        'veil;git;textconv' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;git;setup' {
            [CompletionResult]::new('--pattern', '--pattern', [CompletionResultType]::ParameterName, 'Use this .gitattributes pattern instead of the creation rules'' files (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('--global', '--global', [CompletionResultType]::ParameterName, 'Write the driver config to the user''s git config instead of .git/config')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Report what is missing, change nothing (exit 1 when something is)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;git;merge-driver' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'veil;git;resolve' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Path of the .sops.yaml config (default: searched upward from the current directory)')
            [CompletionResult]::new('--indent', '--indent', [CompletionResultType]::ParameterName, 'Indentation of freshly laid-out YAML/JSON output (overrides .sops.yaml stores; -1 = tab for JSON)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log the steps (config file, formats, key sources, keys tried) to stderr; never values')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
