#!/bin/sh
# Regenerates the Shamir interop vector in this directory from the real sops binary.
# TEST-ONLY keys: the age identities written here protect nothing but this fixture.
# Usage: sh make.sh   (needs sops 3.11.0 from `scripts/peers.sh install`, or SOPS=; age, age-keygen)
set -eu
cd "$(dirname "$0")"
SOPS=${SOPS:-${VEIL_PEERS_DIR:-$(cd ../../.. && pwd)/.peers}/bin/sops}
rm -f key1.txt key2.txt key3.txt plain.yaml secret.enc.yaml share1.hex share2.hex share3.hex
for i in 1 2 3; do age-keygen -o key$i.txt 2>/dev/null; done
r() { age-keygen -y key$1.txt; }
cat > .sops.yaml <<YAML
creation_rules:
  - path_regex: \.yaml\$
    shamir_threshold: 2
    key_groups:
      - age: [$(r 1)]
      - age: [$(r 2)]
      - age: [$(r 3)]
YAML
printf 'secret: hunter2\n' > plain.yaml
SOPS_DISABLE_VERSION_CHECK=1 "$SOPS" encrypt --filename-override secret.yaml plain.yaml > secret.enc.yaml
# Each group's enc is the 33-byte share (y[0..32] || x) wrapped to that group's age key.
python3 - <<'PY'
import re, subprocess
text = open("secret.enc.yaml").read()
encs = re.findall(r"-----BEGIN AGE ENCRYPTED FILE-----.*?-----END AGE ENCRYPTED FILE-----", text, re.S)
assert len(encs) == 3, len(encs)
for i, block in enumerate(encs, 1):
    armor = "\n".join(l.strip() for l in block.splitlines()) + "\n"
    share = subprocess.run(["age", "-d", "-i", f"key{i}.txt"], input=armor.encode(), capture_output=True, check=True).stdout
    assert len(share) == 33, len(share)
    open(f"share{i}.hex", "w").write(share.hex() + "\n")
# An independent GF(2^8)/0x11B Lagrange combine, for the expected data key.
def mul(a, b):
    r = 0
    for _ in range(8):
        if b & 1: r ^= a
        a = ((a << 1) ^ 0x11B) if a & 0x80 else (a << 1)
        b >>= 1
    return r
def inv(a):
    r = 1
    for _ in range(254): r = mul(r, a)
    return r
shares = [bytes.fromhex(open(f"share{i}.hex").read()) for i in (1, 2, 3)]
def combine(ps):
    xs = [p[-1] for p in ps]
    out = bytearray()
    for k in range(len(ps[0]) - 1):
        acc = 0
        for i, p in enumerate(ps):
            b = 1
            for j, xj in enumerate(xs):
                if j != i: b = mul(b, mul(xj, inv(xs[i] ^ xj)))
            acc ^= mul(p[k], b)
        out.append(acc)
    return bytes(out)
keys = {combine([shares[a], shares[b]]) for a, b in ((0, 1), (0, 2), (1, 2))} | {combine(shares)}
assert len(keys) == 1, keys
open("datakey.hex", "w").write(keys.pop().hex() + "\n")
PY
rm -f plain.yaml
