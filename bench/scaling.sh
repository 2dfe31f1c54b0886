#!/usr/bin/env bash
# bench/scaling.sh — evaluate time and peak memory over a grid of model sizes
# and scale points, and the fitted growth exponent (issue 6).
#
#   bench/scaling.sh [--build DIR] [--data DIR] [--nodes "1000 10000 100000 1000000"]
#                    [--points "1 10 100 1000 10000"] [--max-work 2e9] [--threads 2]
#
# For each (nodes, points) with nodes x points <= --max-work: one process
# `bench_eval SPEC --points P --threads T --keep roots` under /usr/bin/time
# -v; the evaluate time is bench_eval's own clock (load and compile are not
# in it), the memory is the process's peak. Specs come from bench/gen_spec.py
# (seed 1, cached in the data dir, as bench/run.sh). The growth exponent is
# the least-squares slope of log(time) on log(nodes x points) over the cells
# that took at least 20 ms (1.0 = linear). Prints a Markdown table.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=/tmp/bench_build
DATA=/tmp/capgraph_bench
NODES="1000 10000 100000 1000000"
POINTS="1 10 100 1000 10000"
MAXWORK=2e9
THREADS=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift ;;
    --data) DATA=$2; shift ;;
    --nodes) NODES=$2; shift ;;
    --points) POINTS=$2; shift ;;
    --max-work) MAXWORK=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "scaling.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
BENCH=$BUILD/bench/bench_eval
[[ -x $BENCH ]] || { echo "scaling.sh: $BENCH missing: build it first (bench/run.sh builds it)" >&2; exit 3; }
[[ -x /usr/bin/time ]] || { echo "scaling.sh: /usr/bin/time missing (apt-get install time)" >&2; exit 3; }
mkdir -p "$DATA/scaling"
OUT=$DATA/scaling
: > "$OUT/cells.txt"
for n in $NODES; do
  spec=$DATA/spec_${n}_s1.yaml
  if [[ ! -s $spec || $ROOT/bench/gen_spec.py -nt $spec ]]; then
    echo "== generating $n-node spec" >&2
    python3 "$ROOT/bench/gen_spec.py" --nodes "$n" --seed 1 -o "$spec"
  fi
  for p in $POINTS; do
    if python3 -c "import sys; sys.exit(0 if $n * $p <= $MAXWORK else 1)"; then
      echo "== $n nodes x $p points" >&2
      /usr/bin/time -v -o "$OUT/$n.$p.time" "$BENCH" "$spec" --points "$p" --threads "$THREADS" --keep roots \
        > "$OUT/$n.$p.json"
      echo "$n $p" >> "$OUT/cells.txt"
    fi
  done
done
python3 - "$OUT" "$NODES" "$POINTS" <<'PY'
import json, math, os, re, sys
out, nodes, points = sys.argv[1], [int(x) for x in sys.argv[2].split()], [int(x) for x in sys.argv[3].split()]
cells = {}
for line in open(os.path.join(out, "cells.txt")):
    n, p = map(int, line.split())
    d = json.load(open(os.path.join(out, "%d.%d.json" % (n, p))))
    t = open(os.path.join(out, "%d.%d.time" % (n, p))).read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    cells[(n, p)] = (d["evaluate_s"], rss, d["rss_after_compile_mib"])
print("| nodes \\\\ points | " + " | ".join("{:,}".format(p) for p in points) + " |")
print("|---:|" + "---:|" * len(points))
for n in nodes:
    row = []
    for p in points:
        c = cells.get((n, p))
        row.append("%.3g s / %.0f MiB" % (c[0], c[1]) if c else "")
    print("| {:,} | ".format(n) + " | ".join(row) + " |")
fit = [(math.log(n * p), math.log(c[0])) for (n, p), c in cells.items() if c[0] >= 0.02]
if len(fit) >= 2:
    xs, ys = [a for a, _ in fit], [b for _, b in fit]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    print()
    print("Growth exponent: evaluate time ~ (nodes x points)^%.2f over the %d cells of at least 20 ms." % (slope, len(fit)))
PY
