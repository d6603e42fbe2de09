#!/usr/bin/env bash
# veil vs the real sops 3.11, side by side, on the same inputs, in the same run.
#
#   benches/vs-sops.sh                 # default cases (see CASES below)
#   benches/vs-sops.sh --quick         # flat10 + flat1k only (a smoke run of the script)
#   benches/vs-sops.sh --flat          # dotenv, INI and TOML at 100,000 and 1,000,000 leaves
#   benches/vs-sops.sh --cases "flat10.yaml big10m.yaml"
#   benches/vs-sops.sh --python-timer  # do not use hyperfine
#
# Inputs come from benches/gen.py (deterministic, standard library only), generated once into
# target/bench-inputs. Each case is timed for encrypt and decrypt with hyperfine (apt package;
# installed if missing and apt works) or, failing that, a Python timer; medians are reported.
# Peak RSS comes from the warm-up run, which runs under `/usr/bin/time -v` (apt package `time`).
# Decrypt times use the file sops encrypted for both tools, so both read the very same bytes.
# sops has no TOML store: a `.toml` case gives sops the same data as YAML (the `.yaml` file of
# the same name), and veil decrypts the file it encrypted. While veil cannot yet encrypt or
# decrypt (the check below runs it on flat10 and asks sops to read the result), its cells print
# "n/a". On flat1k.yaml, `set` (one value, on a fresh copy each run) and `exec-env FILE true`
# are timed too. The machine is shared and noisy: quote the ratios, not the absolute times.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FLAT="sect100k.env sect100k.ini sect100k.toml sect1m.env sect1m.ini sect1m.toml"
CASES="flat10.yaml flat1k.yaml flat10k.json nest100k.yaml big10m.yaml sect100k.env sect100k.ini sect100k.toml"
USE_HYPERFINE=1
BUILD=1
while [[ $# -gt 0 ]]; do
	case "$1" in
	--quick) CASES="flat10.yaml flat1k.yaml" ;;
	--flat) CASES="$FLAT" ;;
	--cases)
		CASES="$2"
		shift
		;;
	--python-timer) USE_HYPERFINE=0 ;;
	--no-build) BUILD=0 ;;
	-h | --help)
		sed -n '2,20p' "${BASH_SOURCE[0]}"
		exit 0
		;;
	*)
		echo "unknown argument: $1" >&2
		exit 2
		;;
	esac
	shift
done

GEN="$REPO/benches/gen.py"

"$REPO/scripts/peers.sh" install
PEERS_DIR="${VEIL_PEERS_DIR:-$REPO/.peers}"
SOPS="$PEERS_DIR/bin/sops"
VEIL="${VEIL_BIN:-$REPO/target/release/veil}" # VEIL_BIN: time another build (or a stand-in)

apt_try() {
	# apt_try PACKAGE: best effort; benchmarks still run without it.
	[[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1 || return 1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null 2>&1; }
}
if [[ $USE_HYPERFINE == 1 ]] && ! command -v hyperfine >/dev/null 2>&1; then
	apt_try hyperfine || echo "[bench] hyperfine unavailable; using the Python timer" >&2
fi
if [[ ! -x /usr/bin/time ]]; then
	apt_try time || echo "[bench] /usr/bin/time unavailable; peak RSS will be n/a" >&2
fi

if [[ $BUILD == 1 && -z "${VEIL_BIN:-}" ]]; then
	(cd "$REPO" && cargo build --release --bin veil)
fi

INPUTS="$REPO/target/bench-inputs"
STAMP="$INPUTS/.gen-sha256"
want="$(sha256sum "$GEN" | cut -d' ' -f1)"
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$want" || ! -f "$INPUTS/manifest.json" ]]; then
	echo "[bench] generating inputs into $INPUTS (once)" >&2
	rm -rf "$INPUTS"
	mkdir -p "$INPUTS"
	python3 "$GEN" "$INPUTS" >&2
	echo "$want" >"$STAMP"
fi

WORK="$(mktemp -d -t veil-bench-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/home"

# A clean environment for both tools: only the test key, no developer config.
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config"
for v in $(compgen -e); do
	case "$v" in SOPS_* | AWS_* | VAULT_* | GOOGLE_* | AZURE_*) unset "$v" ;; esac
done
export SOPS_AGE_KEY_FILE="$REPO/testdata/keys/test-age-1.txt"
export SOPS_DISABLE_VERSION_CHECK=1
RECIPIENT="$(cat "$REPO/testdata/keys/test-age-1.pub")"

export REPO SOPS VEIL INPUTS WORK CASES RECIPIENT USE_HYPERFINE
mkdir -p "$REPO/target/bench-results"
RESULTS="$REPO/target/bench-results/vs-sops-$(date -u +%Y%m%dT%H%M%SZ).json"
export RESULTS

python3 - <<'PY'
import json, os, re, shlex, shutil, statistics, subprocess, sys, time

SOPS, VEIL, INPUTS, WORK = (os.environ[k] for k in ("SOPS", "VEIL", "INPUTS", "WORK"))
R = os.environ["RECIPIENT"]
cases = os.environ["CASES"].split()
hyperfine = shutil.which("hyperfine") if os.environ["USE_HYPERFINE"] == "1" else None
gnu_time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
manifest = json.load(open(os.path.join(INPUTS, "manifest.json")))

def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)

def runs_for(seconds):
    # Enough runs for a median, bounded so the slow sops cases stay affordable.
    if seconds < 0.05: return 30
    if seconds < 0.5: return 10
    if seconds < 3: return 5
    return 3

def once(cmd, with_rss=False):
    """One run: (seconds, exit code, stderr, peak RSS in MB or None)."""
    full = [gnu_time, "-v"] + cmd if (with_rss and gnu_time) else cmd
    t = time.perf_counter()
    p = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    rss = None
    if full is not cmd:
        m = re.search(rb"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
        rss = int(m.group(1)) / 1024 if m else None
    return dt, p.returncode, p.stderr, rss

def measure_cmd(cmd, prepare=None):
    """(median seconds, error or None, peak RSS MB). The first run is the warm-up; it runs
    under /usr/bin/time -v for the peak RSS and picks the number of timed runs. `prepare` (an
    argv) runs before every run, untimed (hyperfine --prepare)."""
    if prepare:
        subprocess.run(prepare, check=True)
    first, rc, err, rss = once(cmd, with_rss=True)
    if rc != 0:
        return None, f"exit {rc}: {err.decode(errors='replace').strip()[-200:]}", None
    n = runs_for(first)
    if hyperfine:
        out = os.path.join(WORK, "hf.json")
        extra = ["--prepare", " ".join(shlex.quote(c) for c in prepare)] if prepare else []
        subprocess.run([hyperfine, "-N", "--runs", str(n), "--export-json", out,
                        "--style", "none"] + extra + ["--", " ".join(shlex.quote(c) for c in cmd)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return json.load(open(out))["results"][0]["median"], None, rss
    ts = []
    for _ in range(n):
        if prepare:
            subprocess.run(prepare, check=True)
        ts.append(once(cmd)[0])
    return statistics.median(ts), None, rss

def sops_reads(path):
    p = subprocess.run([SOPS, "decrypt", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode == 0 and len(p.stdout) > 0

# Can veil do the job yet? Checked on flat10: encryption must be readable by sops, decryption
# must print something.
flat10 = os.path.join(INPUTS, "flat10.yaml")
sops_flat10 = os.path.join(WORK, "flat10.sops.yaml")
with open(sops_flat10, "wb") as f:
    subprocess.run([SOPS, "encrypt", "--age", R, flat10], stdout=f, check=True)
veil_ok = {"encrypt": False, "decrypt": False}
if os.access(VEIL, os.X_OK):
    probe = os.path.join(WORK, "probe.enc.yaml")
    with open(probe, "wb") as f:
        p = subprocess.run([VEIL, "encrypt", "--age", R, flat10], stdout=f, stderr=subprocess.DEVNULL)
    veil_ok["encrypt"] = p.returncode == 0 and os.path.getsize(probe) > 0 and sops_reads(probe)
    p = subprocess.run([VEIL, "decrypt", sops_flat10], capture_output=True)
    veil_ok["decrypt"] = p.returncode == 0 and len(p.stdout) > 0
log("veil can encrypt:", veil_ok["encrypt"], "| veil can decrypt:", veil_ok["decrypt"])

rows = []
def measure(label, op, sops_cmd, veil_cmd, size=None, leaves=None, prepare=None):
    log(f"{label} {op}: sops")
    s_t, s_err, s_rss = measure_cmd(sops_cmd, prepare)
    v_t = v_rss = v_err = None
    if veil_cmd is not None:
        log(f"{label} {op}: veil")
        v_t, v_err, v_rss = measure_cmd(veil_cmd, prepare)
    rows.append(dict(input=label, op=op, bytes=size, leaves=leaves, sops_s=s_t, veil_s=v_t,
                     sops_rss_mb=s_rss, veil_rss_mb=v_rss, sops_error=s_err, veil_error=v_err,
                     veil_available=veil_cmd is not None))

measure("(process start)", "--version", [SOPS, "--version", "--disable-version-check"],
        [VEIL, "--version"] if os.access(VEIL, os.X_OK) else None)

for name in cases:
    path = os.path.join(INPUTS, name)
    stem, ext = name.rsplit(".", 1)
    # sops has no TOML store: it gets the same data as YAML.
    sops_name = stem + ".yaml" if ext == "toml" else name
    sops_path = os.path.join(INPUTS, sops_name)
    if not os.path.exists(path) or not os.path.exists(sops_path):
        log(f"skipping {name}: not generated")
        continue
    meta = manifest.get(name, {})
    label = name if sops_name == name else f"{name} (sops: {sops_name})"
    sops_ext = sops_name.rsplit(".", 1)[-1]
    enc = os.path.join(WORK, f"{stem}.sops.{sops_ext}")
    log(f"{name}: preparing the sops-encrypted copy")
    with open(enc, "wb") as f:
        subprocess.run([SOPS, "encrypt", "--age", R, sops_path], stdout=f, check=True)
    veil_enc = enc
    if sops_name != name and veil_ok["encrypt"]:
        veil_enc = os.path.join(WORK, f"{stem}.veil.{ext}")
        with open(veil_enc, "wb") as f:
            subprocess.run([VEIL, "encrypt", "--age", R, path], stdout=f, check=True)
    measure(label, "encrypt", [SOPS, "encrypt", "--age", R, sops_path],
            [VEIL, "encrypt", "--age", R, path] if veil_ok["encrypt"] else None,
            meta.get("bytes"), meta.get("leaves"))
    measure(label, "decrypt", [SOPS, "decrypt", enc],
            [VEIL, "decrypt", veil_enc] if veil_ok["decrypt"] else None,
            meta.get("bytes"), meta.get("leaves"))
    if name == "flat1k.yaml":
        # The commands that change or use one value of a mid-sized file: `set` on a fresh copy
        # of the sops-encrypted file each run (the copy is untimed; both tools fsync the
        # write), and `exec-env FILE true` (both run the command through /bin/sh -c).
        with open(path) as f:
            first_key = f.readline().split(":", 1)[0].strip()
        work = os.path.join(WORK, f"{stem}.set.{sops_ext}")
        change = [json.dumps([first_key]), json.dumps("changed")]
        measure(label, "set", [SOPS, "set", work] + change,
                [VEIL, "set", work] + change if veil_ok["decrypt"] else None,
                meta.get("bytes"), meta.get("leaves"), prepare=["cp", enc, work])
        measure(label, "exec-env true", [SOPS, "exec-env", enc, "true"],
                [VEIL, "exec-env", enc, "true"] if veil_ok["decrypt"] else None,
                meta.get("bytes"), meta.get("leaves"))
    # Big YAML files are also written with --output: veil streams checked pieces to the
    # temp file there instead of holding the whole output.
    if ext == "yaml" and (meta.get("bytes") or 0) >= 1_000_000:
        out = os.path.join(WORK, f"{stem}.out.{ext}")
        measure(label, "encrypt --output", [SOPS, "encrypt", "--age", R, "--output", out, sops_path],
                [VEIL, "encrypt", "--age", R, "--output", out, path] if veil_ok["encrypt"] else None,
                meta.get("bytes"), meta.get("leaves"))
        measure(label, "decrypt --output", [SOPS, "decrypt", "--output", out, enc],
                [VEIL, "decrypt", "--output", out, veil_enc] if veil_ok["decrypt"] else None,
                meta.get("bytes"), meta.get("leaves"))

def fmt_t(t):
    if t is None: return "n/a"
    return f"{t*1000:.1f} ms" if t < 1 else f"{t:.2f} s"

def fmt_mb(m):
    return "n/a" if m is None else f"{m:.0f} MB"

def fmt_size(b):
    if b is None: return ""
    return f"{b/1e6:.1f} MB" if b >= 1e6 else f"{b/1e3:.1f} kB"

hdr = ["input", "size", "leaves", "op", "sops", "veil", "speed-up", "sops RSS", "veil RSS", "RSS veil/sops"]
lines = ["| " + " | ".join(hdr) + " |", "|" + "|".join(["---"] * len(hdr)) + "|"]
for r in rows:
    speed = f"{r['sops_s']/r['veil_s']:.1f}×" if r["sops_s"] and r["veil_s"] else "n/a"
    rss = (f"1/{r['sops_rss_mb']/r['veil_rss_mb']:.1f}" if r["sops_rss_mb"] and r["veil_rss_mb"] else "n/a")
    veil_cell = fmt_t(r["veil_s"]) if r["veil_error"] is None else "fail"
    lines.append("| " + " | ".join([
        r["input"], fmt_size(r["bytes"]), "" if r["leaves"] is None else str(r["leaves"]), r["op"],
        fmt_t(r["sops_s"]) if r["sops_error"] is None else "fail", veil_cell, speed,
        fmt_mb(r["sops_rss_mb"]), fmt_mb(r["veil_rss_mb"]), rss]) + " |")
print()
print(f"veil vs sops 3.11 — medians ({'hyperfine' if hyperfine else 'python timer'}), "
      f"peak RSS from /usr/bin/time -v; {os.cpu_count()} cores")
print("\n".join(lines))
for r in rows:
    for who in ("sops", "veil"):
        if r[f"{who}_error"]:
            print(f"note: {who} failed on {r['input']} {r['op']}: {r[who + '_error']}")
json.dump(dict(rows=rows, tool="hyperfine" if hyperfine else "python", veil_available=veil_ok),
          open(os.environ["RESULTS"], "w"), indent=2)
print(f"\n(raw numbers: {os.environ['RESULTS']})")
PY
