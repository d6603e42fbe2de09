#!/usr/bin/env bash
# The whole test suite, in one command (the README's test command; `.ci/run` calls it with
# CI=true). It installs the pinned peers (real sops 3.11, OpenBao, moto, age, gpg) into
# .peers/, starts the servers, runs every test in release mode, and stops the servers it started.
#
#   scripts/test.sh                                   # everything
#   scripts/test.sh --test integration -- interop::   # extra arguments go to `cargo test`
#
# The integration tests are one binary, `tests/integration/main.rs`, with a module per area
# (cli, formats, keys, interop, lifecycle, exec, git, security, publish, clients, config); a
# filter such as `keys::` or `security::tamper_corpus` runs one area or one file.
#
# With CI=true a test whose peer is missing fails instead of skipping.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/peers.sh install
if scripts/peers.sh running; then
	echo "[test] peer servers already running; leaving them running" >&2
else
	scripts/peers.sh start
	trap 'scripts/peers.sh stop' EXIT
fi

# The signal tests send SIGINT and SIGQUIT to veil. A shell without job control starts its
# background jobs with both ignored, children inherit that, and those tests then fail: say so.
ign=$(awk '/^SigIgn:/ {print $2}' /proc/self/status 2>/dev/null || true)
if [[ -n "$ign" ]] && (((16#$ign & 0x6) != 0)); then
	echo "[test] WARNING: SIGINT/SIGQUIT are ignored in this shell (a background job without job" \
		"control?); the signal tests will fail. Run in the foreground, or with 'set -m'." >&2
fi

# Property tests draw their cases from a fixed seed, so a run is reproducible and CI does not
# pass or fail by luck; set PROPTEST_RNG_SEED to explore other cases (and commit any failure as
# a regression test).
export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-20261129}"

# One profile for everything (release): the binary the integration tests run is the one the
# benchmarks time, and CI builds it once. `--all-targets` also compiles and smoke-runs the
# benches; doc tests need their own invocation because --all-targets leaves them out.
if [[ $# -gt 0 ]]; then
	cargo test --release "$@"
else
	cargo test --release --no-fail-fast --all-targets
	cargo test --release --no-fail-fast --doc
fi
