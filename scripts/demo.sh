#!/usr/bin/env bash
# veil's main job, end to end, on the embedded default: a fresh age key (no cloud, no network).
# Builds veil, makes a throwaway key and a sample secrets file in a private temp directory,
# encrypts it, shows what git would store, decrypts it back, and edits one value to show that
# only that line (plus the MAC and timestamp) changes. Nothing outside the temp dir is touched.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

command -v cargo >/dev/null || { echo "demo: cargo is required (https://rustup.rs)" >&2; exit 1; }
echo "==> building veil (release)"
cargo build --release --quiet
VEIL="$PWD/target/release/veil"

DEMO=$(mktemp -d -t veil-demo.XXXXXX)
chmod 700 "$DEMO"
trap 'rm -rf "$DEMO"' EXIT
cd "$DEMO"
export HOME="$DEMO" XDG_CONFIG_HOME="$DEMO/.config"
unset SOPS_AGE_KEY SOPS_AGE_KEY_FILE SOPS_AGE_KEY_CMD SOPS_AGE_RECIPIENTS SOPS_CONFIG

echo "==> veil keygen   (an age identity at \$XDG_CONFIG_HOME/sops/age/keys.txt, mode 0600)"
RECIPIENT=$("$VEIL" keygen)
echo "    public key: $RECIPIENT"

echo "==> veil init     (a .sops.yaml rule for secret files)"
"$VEIL" init >/dev/null

cat > secrets.yaml <<'YAML'
# Database credentials for the demo service
db:
    host: db.internal       # where it lives
    user: app
    password: "correct horse battery staple"
    port: 5432

api_keys:
    - sk-demo-0001
    - sk-demo-0002
debug_unencrypted: true
YAML
cp secrets.yaml original.yaml

echo "==> veil encrypt -i secrets.yaml"
"$VEIL" encrypt -i secrets.yaml
echo "---- what git stores (values sealed, keys/comments layout/order kept) ----"
sed -n '1,14p' secrets.yaml | cut -c1-110
echo "    … (the sops: metadata block follows)"

echo "==> veil decrypt secrets.yaml   (byte-for-byte the original)"
"$VEIL" decrypt secrets.yaml > decrypted.yaml
if cmp -s original.yaml decrypted.yaml; then echo "    identical to the original"; else diff original.yaml decrypted.yaml; exit 1; fi

echo "==> veil decrypt --extract '[\"db\"][\"password\"]'"
echo "    $("$VEIL" decrypt --extract '["db"]["password"]' secrets.yaml)"

echo "==> veil set secrets.yaml '[\"db\"][\"port\"]' 6432   (one value changes)"
cp secrets.yaml before.yaml
"$VEIL" set secrets.yaml '["db"]["port"]' 6432
echo "    lines changed: $(diff before.yaml secrets.yaml | grep -c '^>' || true) (the value, lastmodified, mac)"

SOPS="$OLDPWD/.peers/bin/sops"
if [[ -x "$SOPS" ]]; then
	echo "==> the real sops 3.11 decrypts it too"
	SOPS_AGE_KEY_FILE="$XDG_CONFIG_HOME/sops/age/keys.txt" "$SOPS" decrypt secrets.yaml | sed -n '2,6p'
fi
echo "==> done"
