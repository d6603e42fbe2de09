#!/usr/bin/env bash
# Regenerates the sops fixtures in this directory with the REAL sops 3.11 binary, exactly as
# README.md lists. Run from anywhere; needs `scripts/peers.sh install` first. The output differs
# on every run (random data keys and IVs): regenerate only when a fixture must change, and then
# run `verify.sh`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."   # = testdata/
SOPS="${VEIL_PEERS_DIR:-../.peers}/bin/sops"
R1="$(cat keys/test-age-1.pub)"
R2="$(cat keys/test-age-2.pub)"
SSH="$(cat keys/test-ssh-ed25519.pub)"
export SOPS_DISABLE_VERSION_CHECK=1

# --- begin commands (README.md lists these lines verbatim) ---
"$SOPS" encrypt --age "$R1" plain/scalars.yaml > sops/scalars.enc.yaml
"$SOPS" encrypt --age "$R1" plain/structure.yaml > sops/structure.enc.yaml
"$SOPS" encrypt --age "$R1" plain/multidoc.yaml > sops/multidoc.enc.yaml
"$SOPS" encrypt --age "$R1" plain/nested.json > sops/nested.enc.json
"$SOPS" encrypt --age "$R1" plain/blob.bin > sops/blob.enc.bin
"$SOPS" encrypt --age "$R1" plain/app.env > sops/app.enc.env
"$SOPS" encrypt --age "$R1" plain/app.ini > sops/app.enc.ini
"$SOPS" encrypt --age "$R1,$R2" plain/structure.yaml > sops/two-recipients.enc.yaml
"$SOPS" encrypt --age "$R1,$R2" plain/nested.json > sops/two-recipients.enc.json
"$SOPS" encrypt --age "$SSH" plain/structure.yaml > sops/ssh-recipient.enc.yaml
# --- end commands ---
