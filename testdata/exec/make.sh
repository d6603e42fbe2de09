#!/usr/bin/env bash
# Regenerates the exec-env/exec-file fixtures in this directory with the REAL sops 3.11 binary.
# Run from anywhere; needs `scripts/peers.sh install` first (or VEIL_PEERS_DIR pointing at the
# peers). Output differs on every run (random data keys and IVs): regenerate only when a
# fixture must change. TOML fixtures are made by the tests themselves with `veil encrypt`,
# since sops has no TOML store.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # = testdata/exec/
SOPS="${VEIL_PEERS_DIR:-../../.peers}/bin/sops"
R1="$(cat ../keys/test-age-1.pub)"
export SOPS_DISABLE_VERSION_CHECK=1
for f in flat.yaml nested.yaml flat.json nested.json app.env app.ini; do
    base="${f%.*}"; ext="${f##*.}"
    "$SOPS" encrypt --age "$R1" "plain/$f" > "$base.enc.$ext"
done
