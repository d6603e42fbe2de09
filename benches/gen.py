#!/usr/bin/env python3
"""Benchmark inputs for benches/vs-sops.sh: deterministic, standard library only.

    python3 benches/gen.py OUTDIR [--no-big] [--only NAME[,NAME...]]

Every input is derived from random.Random(seed) with a fixed seed per data set, so a rerun
writes the very same bytes. A data set is written in several formats when they can hold it;
`manifest.json` maps each file name to its size, leaf count and format.

Data sets (values: about 70% strings of 8 to 64 characters in a few realistic shapes, 20%
integers, 10% booleans; strings start with a letter and use an alphabet that no format needs
to quote or escape, so the same data reads back the same in every format):

  flat10, flat1k, flat10k    one map of 10 / 1,000 / 10,000 keys          .yaml .json .env
  nest100k                   100,000 leaves in maps of maps, some lists   .yaml .json .env
  sect100k                   2,000 sections x 50 keys (100,000 leaves)    .env .ini .toml .yaml
  sect1m                     20,000 sections x 50 keys (1,000,000 leaves) .env .ini .toml .yaml
  big10m, big50m             nested like nest100k, about 10 MB / 50 MB    .yaml
  bigval10m                  10 string values of 1 MiB each               .yaml
  rand10m                    10 MiB of random bytes                       .bin

The sectioned sets are for the flat formats: dotenv joins section and key into one upper-case
name (`SECTION_KEY=value`), INI and TOML write a `[section]` header over `key = value` lines,
and the YAML file holds the same data as the TOML one (a map per section), for tools that
have no TOML reader. `--no-big` leaves out big10m, big50m, bigval10m, rand10m and sect1m.
"""
import json
import os
import random
import sys

WORDS = (
    "account admin alert api archive audit auth backup billing broker bucket cache cert "
    "channel client cloud cluster config consumer cron dashboard database debug deploy "
    "digest domain email endpoint event export feature firewall gateway graph grpc hook "
    "host identity index ingress invoice job kafka key ledger license limit listener log "
    "mail metrics mirror monitor mongo mysql network node notify oauth order partner "
    "password payment pipeline policy pool port postgres profile proxy publisher queue "
    "quota redis region registry replica report route runner scheduler search secret "
    "sentry service session shard signing smtp socket stage storage stream stripe sync "
    "tenant token tracing upload user vault webhook worker zone"
).split()
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
LOWER = "abcdefghijklmnopqrstuvwxyz"
HEX = "0123456789abcdef"


def text_value(rng):
    """A string of 8..64 characters that starts with a letter and needs no quoting anywhere."""
    n = rng.randint(8, 64)
    shape = rng.random()
    if shape < 0.35:  # an API key or token
        return rng.choice(LOWER) + "".join(rng.choices(ALNUM, k=n - 1))
    if shape < 0.50:  # a digest with a letter in front
        return "x" + "".join(rng.choices(HEX, k=n - 1))
    if shape < 0.75:  # a few words
        sep = rng.choice(["-", "_", ".", " "])
        s = ""
        while len(s) < n:
            s += (sep if s else "") + rng.choice(WORDS)
        s = s[:n].rstrip(" -_.")
        return s + "".join(rng.choices(LOWER, k=n - len(s)))
    # a URL
    s = "https://%s-%d.example.org/%s" % (rng.choice(WORDS), rng.randint(1, 999), rng.choice(WORDS))
    s = (s + "/" + "".join(rng.choices(LOWER, k=64)))[:n].rstrip("/.")
    return s + "".join(rng.choices(LOWER, k=n - len(s)))


def scalar(rng):
    r = rng.random()
    if r < 0.70:
        return text_value(rng)
    if r < 0.90:
        return rng.randint(0, 10 ** rng.randint(1, 9))
    return rng.random() < 0.5


def name(rng, i):
    return "%s_%s_%d" % (rng.choice(WORDS), rng.choice(WORDS), i)


def flat(rng, n):
    return {name(rng, i): scalar(rng) for i in range(n)}


def nested(rng, n, depth=0):
    """A map holding exactly n leaves: maps of maps, lists of scalars and of small maps."""
    d = {}
    i = 0
    if n > 60 and depth < 6:
        for _ in range(min(n - 3, rng.randint(0, 3))):
            d[name(rng, i)] = scalar(rng)
            i += 1
        rest = n - i
        k = min(rng.randint(3, 12), rest)
        cuts = sorted(rng.sample(range(1, rest), k - 1)) if k > 1 else []
        for a, b in zip([0] + cuts, cuts + [rest]):
            d[name(rng, i)] = nested(rng, b - a, depth + 1)
            i += 1
        return d
    left = n
    while left > 0:
        r = rng.random()
        if left >= 3 and r < 0.10:
            size = rng.randint(2, min(8, left))
            d[name(rng, i)] = [scalar(rng) for _ in range(size)]
        elif left >= 4 and r < 0.16:
            per = rng.randint(2, 4)
            count = max(1, min(rng.randint(1, 3), left // per))
            d[name(rng, i)] = [{name(rng, j): scalar(rng) for j in range(per)} for _ in range(count)]
            size = per * count
        else:
            size = 1
            d[name(rng, i)] = scalar(rng)
        left -= size
        i += 1
    return d


def sectioned(rng, sections, keys):
    return {name(rng, s): {name(rng, k): scalar(rng) for k in range(keys)} for s in range(sections)}


def leaves(v):
    if isinstance(v, dict):
        return sum(leaves(x) for x in v.values())
    if isinstance(v, list):
        return sum(leaves(x) for x in v)
    return 1


# ------------------------------------------------------------------------------- writers


def plain(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)


def to_yaml(obj, quote_rng):
    out = []

    def scalar_text(v):
        # A tenth of the strings double-quoted, as people write them; the alphabet needs no escape.
        if isinstance(v, str) and quote_rng.random() < 0.10:
            return '"%s"' % v
        return plain(v)

    def walk(d, pad):
        for k, v in d.items():
            if isinstance(v, dict):
                out.append("%s%s:\n" % (pad, k))
                walk(v, pad + "  ")
            elif isinstance(v, list):
                out.append("%s%s:\n" % (pad, k))
                for item in v:
                    if isinstance(item, dict):
                        lead = pad + "  - "
                        for ik, iv in item.items():
                            out.append("%s%s: %s\n" % (lead, ik, scalar_text(iv)))
                            lead = pad + "    "
                    else:
                        out.append("%s  - %s\n" % (pad, scalar_text(item)))
            else:
                out.append("%s%s: %s\n" % (pad, k, scalar_text(v)))

    walk(obj, "")
    return "".join(out)


def to_json(obj):
    return json.dumps(obj, indent=2) + "\n"


def to_env(obj):
    out = []

    def walk(v, prefix):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, (prefix + "_" if prefix else "") + k)
        elif isinstance(v, list):
            for j, x in enumerate(v):
                walk(x, "%s_%d" % (prefix, j))
        else:
            out.append("%s=%s\n" % (prefix.upper(), plain(v)))

    walk(obj, "")
    return "".join(out)


def to_sections(obj, value):
    """`[section]` headers over `key = value` lines (INI and TOML), a blank line between."""
    out = []
    for section, body in obj.items():
        if out:
            out.append("\n")
        out.append("[%s]\n" % section)
        for k, v in body.items():
            out.append("%s = %s\n" % (k, value(v)))
    return "".join(out)


def to_ini(obj):
    return to_sections(obj, plain)


def to_toml(obj):
    return to_sections(obj, lambda v: '"%s"' % v if isinstance(v, str) else plain(v))


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    outdir = args[0]
    big = "--no-big" not in args
    only = None
    if "--only" in args:
        only = set(args[args.index("--only") + 1].split(","))
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "manifest.json")
    manifest = json.load(open(path)) if only and os.path.exists(path) else {}

    def write(fname, text, count, fmt):
        data = text.encode() if isinstance(text, str) else text
        with open(os.path.join(outdir, fname), "wb") as f:
            f.write(data)
        manifest[fname] = {"bytes": len(data), "leaves": count, "format": fmt}
        print("%-18s %12d bytes %9d leaves" % (fname, len(data), count), flush=True)

    def wanted(set_name, is_big=False):
        return (only is None or set_name in only) and (big or not is_big or only is not None)

    for set_name, seed, make in [
        ("flat10", 1, lambda r: flat(r, 10)),
        ("flat1k", 2, lambda r: flat(r, 1000)),
        ("flat10k", 3, lambda r: flat(r, 10000)),
        ("nest100k", 4, lambda r: nested(r, 100000)),
    ]:
        if wanted(set_name):
            obj = make(random.Random(seed))
            n = leaves(obj)
            write(set_name + ".yaml", to_yaml(obj, random.Random(seed + 1000)), n, "yaml")
            write(set_name + ".json", to_json(obj), n, "json")
            write(set_name + ".env", to_env(obj), n, "dotenv")

    for set_name, seed, sections, is_big in [("sect100k", 8, 2000, False), ("sect1m", 9, 20000, True)]:
        if wanted(set_name, is_big):
            obj = sectioned(random.Random(seed), sections, 50)
            n = leaves(obj)
            write(set_name + ".env", to_env(obj), n, "dotenv")
            write(set_name + ".ini", to_ini(obj), n, "ini")
            write(set_name + ".toml", to_toml(obj), n, "toml")
            write(set_name + ".yaml", to_yaml(obj, random.Random(seed + 1000)), n, "yaml")

    # About 55 bytes of YAML per leaf in the nested shape: pick the leaf count for the size.
    for set_name, seed, size in [("big10m", 5, 10_000_000), ("big50m", 6, 50_000_000)]:
        if wanted(set_name, True):
            obj = nested(random.Random(seed), size // 55)
            write(set_name + ".yaml", to_yaml(obj, random.Random(seed + 1000)), leaves(obj), "yaml")
    if wanted("bigval10m", True):
        r = random.Random(7)
        text = "".join(
            "blob_%d: v%s\n" % (i, "".join(r.choices(ALNUM, k=1024 * 1024 - 1))) for i in range(10)
        )
        write("bigval10m.yaml", text, 10, "yaml")
    if wanted("rand10m", True):
        write("rand10m.bin", random.Random(10).randbytes(10 * 1024 * 1024), 1, "binary")

    with open(path, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
