#!/usr/bin/env bash
# bench/bottleneck.sh — `capgraph bottleneck` on a whole-spec cone, against
# the NumPy peer (bench/peer_bottleneck.py), same run.
#
#   bench/bottleneck.sh [--nodes 100000] [--at 1e10] [--repeat 5] [--sample 500]
#                       [--no-peer] [--no-build] [--build DIR] [--data DIR]
#
# 0. Installs the peer's Debian packages if missing (as root, apt-get).
# 1. Builds capgraph in Release (default /tmp/bench_build) unless --no-build.
# 2. Generates the layered spec of --nodes nodes (seed 1) with one more task,
#    root_all = mean of every task without a parent, whose cone is the whole
#    spec (bench/gen_spec.py --root-mean; cached in the data dir).
# 3. Runs `capgraph bottleneck --task root_all --at X --timings` --repeat
#    times with all cores and --repeat times with --threads 1, top 3 rows
#    printed (so the figure is the query, not formatting 10^5 rows), and
#    reports the median, min and max of the "evaluate" phase: evaluation at
#    the point, cone, adjoint pass, every improvement potential, ranking.
#    Loading (read, parse, validate, compile) is reported apart.
# 4. The peer: every IP of a sample of --sample prerequisites by brute force
#    in NumPy (one column per "what if P_i = 1"), its time per prerequisite,
#    extrapolated to all; and a check that capgraph's values for the sample
#    agree (rel 1e-9, or 1e-12 P_T absolute). Exit 1 if they do not.
#
# The machine may be shared: the report records the load average at the start.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=/tmp/bench_build
DATA=/tmp/capgraph_bench
NODES=100000
AT=1e10
REPEAT=5
SAMPLE=500
PEER=1
DO_BUILD=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --nodes) NODES=$2; shift 2 ;;
    --at) AT=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --sample) SAMPLE=$2; shift 2 ;;
    --no-peer) PEER=0; shift ;;
    --no-build) DO_BUILD=0; shift ;;
    --build) BUILD=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bottleneck.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$DATA"

# The peer's packages, as bench/run.sh installs them (Debian's, on /usr/bin/python3).
if [[ $PEER == 1 ]]; then
  need_pkgs=()
  for mod in numpy:python3-numpy networkx:python3-networkx yaml:python3-yaml; do
    /usr/bin/python3 -c "import ${mod%%:*}" 2>/dev/null || need_pkgs+=("${mod#*:}")
  done
  if [[ ${#need_pkgs[@]} -gt 0 ]]; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "bottleneck.sh: missing Debian packages: ${need_pkgs[*]} (run as root or: sudo apt-get install -y ${need_pkgs[*]})" >&2
      exit 3
    fi
    apt-get install -y "${need_pkgs[@]}" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "${need_pkgs[@]}" >/dev/null; }
  fi
fi

if [[ $DO_BUILD == 1 ]]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$DATA/build.log" 2>&1
  cmake --build "$BUILD" --target capgraph_cli -j2 >>"$DATA/build.log" 2>&1
fi
CG="$BUILD/capgraph"
[[ -x $CG ]] || { echo "bottleneck.sh: no $CG (build first, or drop --no-build)" >&2; exit 1; }

SPEC="$DATA/spec_${NODES}_rootmean.yaml"
[[ -s $SPEC ]] || python3 "$ROOT/bench/gen_spec.py" --nodes "$NODES" --seed 1 --root-mean root_all -o "$SPEC"

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "## bottleneck of root_all (cone = the whole ${NODES}-node spec) at $AT; load average at start: $load"
echo

# phase seconds of one run: "read load validate compile evaluate"
run() {
  "$CG" bottleneck "$SPEC" --task root_all --at "$AT" --top 3 --timings "$@" 2>&1 >/dev/null |
    awk '/^timing: (read|load|validate|compile|evaluate) /{v[$2]=$3} END{print v["read"], v["load"], v["validate"], v["compile"], v["evaluate"]}'
}
stats() {  # median min max of a column of numbers
  sort -g | awk '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f (%.3f-%.3f)", m, a[1], a[NR]}'
}
declare -A EVAL LOADS
for threads in 0 1; do
  : >"$DATA/bottleneck_t$threads.txt"
  for ((i = 0; i < REPEAT; ++i)); do run --threads "$threads" >>"$DATA/bottleneck_t$threads.txt"; done
  EVAL[$threads]=$(awk '{print $5}' "$DATA/bottleneck_t$threads.txt" | stats)
  LOADS[$threads]=$(awk '{print $1+$2+$3+$4}' "$DATA/bottleneck_t$threads.txt" | stats)
done

echo "| what | seconds: median (min-max) of $REPEAT |"
echo "|---|---|"
echo "| load + validate + compile | ${LOADS[0]} |"
echo "| bottleneck query, all cores ($(nproc)) | ${EVAL[0]} |"
echo "| bottleneck query, 1 thread | ${EVAL[1]} |"

if [[ $PEER == 1 ]]; then
  "$CG" bottleneck "$SPEC" --task root_all --at "$AT" --format csv -o "$DATA/bottleneck_capgraph.csv"
  status=0
  /usr/bin/python3 "$ROOT/bench/peer_bottleneck.py" "$SPEC" --task root_all --at "$AT" \
    --capgraph-csv "$DATA/bottleneck_capgraph.csv" --sample "$SAMPLE" >"$DATA/bottleneck_peer.json" || status=$?
  python3 - "$DATA/bottleneck_peer.json" "${EVAL[0]}" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
cg = float(sys.argv[2].split()[0])
print("| NumPy peer, %d sampled prerequisites (brute force, one column each) | %.3f: %.1f ms each |"
      % (p["sample"], p["eval_s"], 1e3 * p["per_prerequisite_s"]))
print("| NumPy peer extrapolated to all %d prerequisites | %.0f (capgraph %.0fx faster) |"
      % (p["prerequisites"], p["extrapolated_all_s"], p["extrapolated_all_s"] / cg))
print()
print("Check on the sample: max abs difference %.2g, max rel %.2g where IP > 1e-6 P_T; %d mismatches (P_T = %.6g, cone %d nodes)."
      % (p["max_abs_err"], p["max_rel_err"], p["mismatch_count"], p["p_task"], p["cone_nodes"]))
EOF
  exit $status
fi
