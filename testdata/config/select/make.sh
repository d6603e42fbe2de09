#!/bin/sh
# Regenerates what the real sops encrypted for each plaintext here, under one rule each.
# tests/integration/config/select.rs reads, line by line, which leaves sops sealed and
# compares veil's select module. Usage: sh make.sh (needs sops 3.11.0, which `scripts/peers.sh install` puts in
# $VEIL_PEERS_DIR/bin, default .peers/bin; or set SOPS=). The recipient is the TEST-ONLY age key
# testdata/keys/test-age-1.
set -eu
cd "$(dirname "$0")"
KEYS=$(cd ../../keys && pwd)
SOPS=${SOPS:-${VEIL_PEERS_DIR:-$(cd ../../.. && pwd)/.peers}/bin/sops}
R=$(cat "$KEYS/test-age-1.pub")
run() { # name input rule-line
    d=$(mktemp -d)
    printf 'creation_rules:\n  - age: %s\n    %s\n' "$R" "$3" > "$d/.sops.yaml"
    cp "$2" "$d/in.yaml"
    (cd "$d" && SOPS_DISABLE_VERSION_CHECK=1 "$SOPS" encrypt in.yaml) > "$1.sops.yaml"
    # The data key (TEST-ONLY), so the test can open the MAC and check which leaves it covers.
    KEYS="$KEYS" python3 - "$1" <<'PY'
import os, re, subprocess, sys
name = sys.argv[1]
text = open(f"{name}.sops.yaml").read()
block = re.search(r"-----BEGIN AGE ENCRYPTED FILE-----.*?-----END AGE ENCRYPTED FILE-----", text, re.S).group(0)
armor = "\n".join(l.strip() for l in block.splitlines()) + "\n"
key = subprocess.run(["age", "-d", "-i", os.environ["KEYS"] + "/test-age-1.txt"], input=armor.encode(), capture_output=True, check=True).stdout
assert len(key) == 32
open(f"{name}.datakey.hex", "w").write(key.hex() + "\n")
PY
    rm -rf "$d"
}
run enc_comment comments.yaml 'encrypted_comment_regex: sops:enc'
run unenc_comment comments.yaml 'unencrypted_comment_regex: sops:enc'
run k8s k8s.yaml 'encrypted_regex: ^(data|stringData)$'
run suffix suffix.yaml 'unencrypted_suffix: _unencrypted'
run mac_only suffix.yaml 'mac_only_encrypted: true'
