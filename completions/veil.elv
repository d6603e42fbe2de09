
use builtin;
use str;

set edit:completion:arg-completer[veil] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'veil'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'veil'= {
            cand --input-type 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)'
            cand --output-type 'The output format (default: the input format)'
            cand --filename-override 'Use this name for format detection and .sops.yaml matching (needed with stdin)'
            cand --output 'Write the result to this file (atomically) instead of stdout'
            cand -a 'age recipients (age1…, ssh-ed25519/ssh-rsa public keys), comma-separated or repeated'
            cand --age 'age recipients (age1…, ssh-ed25519/ssh-rsa public keys), comma-separated or repeated'
            cand -k 'AWS KMS key ARNs (ARN or ARN+ROLE_ARN), comma-separated or repeated'
            cand --kms 'AWS KMS key ARNs (ARN or ARN+ROLE_ARN), comma-separated or repeated'
            cand --aws-profile 'The AWS profile for the --kms keys'
            cand --encryption-context 'KMS encryption context for the --kms keys: key:value pairs, comma-separated'
            cand -p 'PGP fingerprints, comma-separated or repeated'
            cand --pgp 'PGP fingerprints, comma-separated or repeated'
            cand --hc-vault-transit 'Vault/OpenBao transit keys, e.g. https://vault:8200/v1/transit/keys/name; comma-separated or repeated. Their servers may receive the Vault token'
            cand --unencrypted-suffix 'Leave keys ending with this suffix unencrypted (default _unencrypted)'
            cand --encrypted-suffix 'Encrypt only keys ending with this suffix'
            cand --unencrypted-regex 'Leave keys matching this regex unencrypted'
            cand --encrypted-regex 'Encrypt only keys matching this regex'
            cand --unencrypted-comment-regex 'Leave values under comments matching this regex unencrypted'
            cand --encrypted-comment-regex 'Encrypt only values under comments matching this regex'
            cand --shamir-secret-sharing-threshold 'Number of key groups needed to decrypt (Shamir)'
            cand --cipher 'Value cipher: aes256-gcm (default, sops-compatible) or xchacha20-poly1305 (veil only)'
            cand --config 'Path of the .sops.yaml config (default: searched upward from the current directory)'
            cand --extract 'Print only the value at this path (with -d)'
            cand --decryption-order 'Order in which key types are tried'
            cand -e 'Encrypt the file (legacy form)'
            cand --encrypt 'Encrypt the file (legacy form)'
            cand -d 'Decrypt the file (legacy form)'
            cand --decrypt 'Decrypt the file (legacy form)'
            cand -i 'Write the result back to the file (atomically)'
            cand --in-place 'Write the result back to the file (atomically)'
            cand --mac-only-encrypted 'Compute the MAC over encrypted values only, so plaintext keys can change freely'
            cand --ignore-mac 'Decrypt even if the MAC does not verify'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand encrypt 'Encrypt a file (to stdout, or in place with -i)'
            cand decrypt 'Decrypt a file (to stdout, or in place with -i)'
            cand filestatus 'Tell whether a file is encrypted: {"encrypted":true|false}'
            cand keygen 'Create an age identity at sops''s default key file path and print its public key'
            cand completion 'Print a shell completion script'
            cand exec-env 'Run a command with the decrypted values in its environment'
            cand exec-file 'Run a command with the decrypted file at a private path ({} in the command)'
            cand init 'Write a starter .sops.yaml here for your age key, and print the next steps'
        }
        &'veil;encrypt'= {
            cand --input-type 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)'
            cand --output-type 'The output format (default: the input format)'
            cand --filename-override 'Use this name for format detection and .sops.yaml matching (needed with stdin)'
            cand --output 'Write the result to this file (atomically) instead of stdout'
            cand -a 'age recipients (age1…, ssh-ed25519/ssh-rsa public keys), comma-separated or repeated'
            cand --age 'age recipients (age1…, ssh-ed25519/ssh-rsa public keys), comma-separated or repeated'
            cand -k 'AWS KMS key ARNs (ARN or ARN+ROLE_ARN), comma-separated or repeated'
            cand --kms 'AWS KMS key ARNs (ARN or ARN+ROLE_ARN), comma-separated or repeated'
            cand --aws-profile 'The AWS profile for the --kms keys'
            cand --encryption-context 'KMS encryption context for the --kms keys: key:value pairs, comma-separated'
            cand -p 'PGP fingerprints, comma-separated or repeated'
            cand --pgp 'PGP fingerprints, comma-separated or repeated'
            cand --hc-vault-transit 'Vault/OpenBao transit keys, e.g. https://vault:8200/v1/transit/keys/name; comma-separated or repeated. Their servers may receive the Vault token'
            cand --unencrypted-suffix 'Leave keys ending with this suffix unencrypted (default _unencrypted)'
            cand --encrypted-suffix 'Encrypt only keys ending with this suffix'
            cand --unencrypted-regex 'Leave keys matching this regex unencrypted'
            cand --encrypted-regex 'Encrypt only keys matching this regex'
            cand --unencrypted-comment-regex 'Leave values under comments matching this regex unencrypted'
            cand --encrypted-comment-regex 'Encrypt only values under comments matching this regex'
            cand --shamir-secret-sharing-threshold 'Number of key groups needed to decrypt (Shamir)'
            cand --cipher 'Value cipher: aes256-gcm (default, sops-compatible) or xchacha20-poly1305 (veil only)'
            cand --config 'Path of the .sops.yaml config (default: searched upward from the current directory)'
            cand -i 'Write the result back to the file (atomically)'
            cand --in-place 'Write the result back to the file (atomically)'
            cand --mac-only-encrypted 'Compute the MAC over encrypted values only, so plaintext keys can change freely'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'veil;decrypt'= {
            cand --input-type 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)'
            cand --output-type 'The output format (default: the input format)'
            cand --filename-override 'Use this name for format detection and .sops.yaml matching (needed with stdin)'
            cand --output 'Write the result to this file (atomically) instead of stdout'
            cand --extract 'Print only the value at this path, e.g. ''["a"][0]'''
            cand --decryption-order 'Order in which key types are tried, e.g. age,pgp,kms'
            cand -i 'Write the result back to the file (atomically)'
            cand --in-place 'Write the result back to the file (atomically)'
            cand --ignore-mac 'Decrypt even if the MAC does not verify'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'veil;filestatus'= {
            cand --input-type 'The input format (default: from the extension)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'veil;keygen'= {
            cand -o 'Write the identity here instead of $XDG_CONFIG_HOME/sops/age/keys.txt'
            cand --output 'Write the identity here instead of $XDG_CONFIG_HOME/sops/age/keys.txt'
            cand --append 'Add a new identity to an existing key file instead of refusing'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'veil;completion'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'veil;exec-env'= {
            cand --user 'Run the command as this user (name, UID or UID:GID; needs root)'
            cand --input-type 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)'
            cand --decryption-order 'Order in which key types are tried, e.g. age,pgp,kms'
            cand --separator 'What joins the key segments of a nested value''s variable name'
            cand --background 'Deprecated (sops). exec-env: start the command detached; exec-file: ignored'
            cand --ignore-mac 'Run the command even if the MAC does not verify'
            cand --pristine 'Pass only the decrypted values, not veil''s own environment'
            cand --same-process 'Replace veil with the command (exec) instead of running it as a child'
            cand --no-flatten 'Refuse nested values, as sops does, instead of flattening them (DB__HOST)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'veil;exec-file'= {
            cand --user 'Run the command as this user (name, UID or UID:GID; needs root)'
            cand --input-type 'The input format: yaml, json, toml, dotenv, ini or binary (default: from the extension)'
            cand --decryption-order 'Order in which key types are tried, e.g. age,pgp,kms'
            cand --output-type 'The output format of the decrypted file (default: the input format)'
            cand --filename 'Name of the decrypted file inside the private directory (default: tmp-file)'
            cand --background 'Deprecated (sops). exec-env: start the command detached; exec-file: ignored'
            cand --ignore-mac 'Run the command even if the MAC does not verify'
            cand --no-fifo 'Use a 0600 regular file instead of a FIFO'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'veil;init'= {
            cand -a 'age recipients (default: the public key of your default age key file)'
            cand --age 'age recipients (default: the public key of your default age key file)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
    ]
    $completions[$command]
}
