#!/usr/bin/env bash
# KMS round trips with and without `veil agent`: 200 files encrypted for one AWS KMS key (moto),
# decrypted one command per file, three ways in one run:
#
#   1. the real sops 3.11 (`sops decrypt FILE`)
#   2. veil without the agent (`VEIL_AGENT=0 veil decrypt FILE`)
#   3. veil with a warm agent (`veil agent start`, one pass to warm it, then the timed pass)
#
# KMS Decrypt calls are counted by benches/kms_count_proxy.py, a pass-through in front of moto
# that every decrypting process (and the agent) is pointed at; expected: 200 / 200 / 0.
# Wall time is one timed pass of 200 commands per way, after one untimed pass; the table gives
# the ratios against sops. The machine may be shared: quote the ratios, not the times.
#
#   benches/agent-kms.sh              # FILES=200
#   FILES=50 benches/agent-kms.sh     # a quicker run
#   benches/agent-kms.sh --no-build   # use target/release/veil as it is
#
# moto: the running one from scripts/peers.sh (VEIL_PEERS_DIR/env.sh) when `peers.sh running`
# says so, else a private moto_server started here and stopped at the end.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FILES="${FILES:-200}"
BUILD=1
[[ "${1:-}" == "--no-build" ]] && BUILD=0
PEERS_DIR="${VEIL_PEERS_DIR:-$REPO/.peers}"
SOPS="$PEERS_DIR/bin/sops"
VEIL="${VEIL_BIN:-$REPO/target/release/veil}"
WORK="$REPO/target/bench-agent"

((BUILD)) && (cd "$REPO" && cargo build --release --quiet)
[[ -x "$SOPS" ]] || { echo "sops 3.11 missing: run scripts/peers.sh install" >&2; exit 1; }

rm -rf "$WORK"
mkdir -p "$WORK/files" "$WORK/agent"
chmod 700 "$WORK/agent"
PIDS=()
cleanup() {
	VEIL_AGENT_SOCK="$WORK/agent/agent.sock" "$VEIL" agent stop >/dev/null 2>&1 || true
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
	AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null \
	AWS_SHARED_CREDENTIALS_FILE=/dev/null SOPS_DISABLE_VERSION_CHECK=1
if VEIL_PEERS_DIR="$PEERS_DIR" "$REPO/scripts/peers.sh" running >/dev/null 2>&1; then
	# shellcheck disable=SC1091
	source "$PEERS_DIR/env.sh"
	MOTO="$AWS_ENDPOINT_URL"
	ARN="$VEIL_TEST_KMS_ARN"
else
	port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
	MOTO="http://127.0.0.1:$port"
	setsid "$PEERS_DIR/bin/moto_server" -H 127.0.0.1 -p "$port" </dev/null >"$WORK/moto.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do curl -sf -o /dev/null "$MOTO/moto-api/" && break; sleep 0.2; done
	ARN="$(AWS_ENDPOINT_URL="$MOTO" "$PEERS_DIR/venv/bin/python" -c \
		'import boto3; print(boto3.client("kms").create_key(Description="bench")["KeyMetadata"]["Arn"])')"
fi

COUNT="$WORK/kms-decrypt-count"
: >"$COUNT"
python3 "$REPO/benches/kms_count_proxy.py" "${MOTO#http://}" "$COUNT" >"$WORK/proxy.port" &
PIDS+=($!)
for _ in $(seq 50); do [[ -s "$WORK/proxy.port" ]] && break; sleep 0.1; done
PROXY="http://127.0.0.1:$(cat "$WORK/proxy.port")"

echo "encrypting $FILES files for $ARN with sops 3.11 ..." >&2
for i in $(seq -w 1 "$FILES"); do
	printf 'app:\n    name: svc%s\n    password: pw-%s-%s\n    port: %d\n' "$i" "$i" "$RANDOM" "$((8000 + 10#$i))" >"$WORK/files/s$i.yaml"
	AWS_ENDPOINT_URL="$MOTO" "$SOPS" encrypt -i --kms "$ARN" "$WORK/files/s$i.yaml"
done

export AWS_ENDPOINT_URL="$PROXY"
export VEIL_AGENT_SOCK="$WORK/agent/agent.sock"

pass() { # pass CMD...: decrypt every file with CMD FILE
	for f in "$WORK"/files/*.yaml; do "$@" "$f" >/dev/null; done
}
now() { date +%s.%N; }
count() { cat "$COUNT" 2>/dev/null || echo 0; }

declare -A CALLS SECS
measure() { # measure NAME CMD...
	local name="$1" t0 t1
	shift
	pass "$@" # untimed (warms caches, and the agent for the third way)
	: >"$COUNT"
	t0="$(now)"
	pass "$@"
	t1="$(now)"
	CALLS[$name]="$(count)"
	SECS[$name]="$(python3 -c "print(f'{$t1-$t0:.2f}')")"
	CALLS[$name]="${CALLS[$name]:-0}"
	echo "$name: ${CALLS[$name]} KMS Decrypt calls, ${SECS[$name]} s" >&2
}

measure sops "$SOPS" decrypt
measure veil env VEIL_AGENT=0 "$VEIL" decrypt
"$VEIL" agent start >/dev/null
measure agent "$VEIL" decrypt
"$VEIL" agent status | sed -n '1,5p' >&2
"$VEIL" agent stop >/dev/null 2>&1

ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }
per() { python3 -c "print(f'{$1*1000/$FILES:.0f} ms')"; }
echo
echo "$FILES files for one AWS KMS key (moto on loopback), one decrypt command per file, $(nproc) cores, $(date -u +%F):"
echo
echo "| way | KMS Decrypt calls | wall time | per file | time vs sops |"
echo "|---|---:|---:|---:|---:|"
for w in sops veil agent; do
	case $w in
	sops) label="sops 3.11" ;;
	veil) label="veil, no agent" ;;
	agent) label="veil, warm agent" ;;
	esac
	echo "| $label | ${CALLS[$w]} | ${SECS[$w]} s | $(per "${SECS[$w]}") | $(ratio "${SECS[$w]}" "${SECS[sops]}") |"
done
