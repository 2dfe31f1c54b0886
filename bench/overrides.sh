#!/usr/bin/env bash
# bench/overrides.sh — the two commands that evaluate a model with nodes
# changed (graph/overrides.hpp), whole processes, two builds in turn.
#
#   bench/overrides.sh --a CAPGRAPH_A [--b CAPGRAPH_B] [--repeat 7] [--data DIR]
#
#   fit         capgraph fit examples/arithmetic_open_models.yaml
#               --data examples/data/arithmetic_open_models.csv --family OPT
#               --train-below 1e10 (one evaluation of the model per objective
#               call, hundreds of calls, plus the curvature and the forecasts)
#   bottleneck  capgraph bottleneck examples/multistep_arithmetic.yaml --task
#               chain_5_vote --at 1e10 --monte-carlo 20000 (one Monte
#               Carlo estimate per prerequisite with it forced to 1)
#   bottleneck10k  the same on task t2500 (104 prerequisites) of the
#               10,000-node layered spec (bench/gen_spec.py, seed 1; cached
#               in the data dir) with --monte-carlo 1000: a small cone in a
#               large spec, where rebuilding the spec per row would cost
#               the most
#
# With --b, A and B run in turn (A B A B ...), so that drift of a shared
# machine hits both alike; each command's output is compared byte for byte
# between A and B (exit 1 if they differ). Reports seconds per run, median
# (min-max): wall, and CPU (user + system), which a shared machine
# disturbs less. The report records the load average at
# the start.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
A=""
B=""
REPEAT=7
DATA=/tmp/capgraph_bench_overrides
while [[ $# -gt 0 ]]; do
  case "$1" in
    --a) A=$2; shift 2 ;;
    --b) B=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "overrides.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x $A ]] || { echo "overrides.sh: --a must name a capgraph binary" >&2; exit 2; }
[[ -z $B || -x $B ]] || { echo "overrides.sh: --b $B is not executable" >&2; exit 2; }
mkdir -p "$DATA"
cd "$ROOT"

FIT=(fit examples/arithmetic_open_models.yaml --data examples/data/arithmetic_open_models.csv --family OPT
     --train-below 1e10)
BOTTLENECK=(bottleneck examples/multistep_arithmetic.yaml --task chain_5_vote --at 1e10 --monte-carlo 20000)
SPEC10K="$DATA/spec_10000_s1.yaml"
[[ -s $SPEC10K ]] || python3 "$ROOT/bench/gen_spec.py" --nodes 10000 --seed 1 -o "$SPEC10K"
BOTTLENECK10K=(bottleneck "$SPEC10K" --task t2500 --at 1e10 --monte-carlo 1000 --top 3)

stats() {  # median min max of a column of numbers
  sort -g | awk '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.4f (%.4f-%.4f)", m, a[1], a[NR]}'
}
# one_run LABEL BIN NAME ARGS...: appends "wall cpu" seconds to DATA/NAME_LABEL.s, keeps the output
# (Python's resource module: the child's user + system time to the
# microsecond, where /usr/bin/time prints hundredths.)
one_run() {
  local label=$1 bin=$2 name=$3; shift 3
  /usr/bin/python3 - "$DATA/${name}_$label.out" "$bin" "$@" >>"$DATA/${name}_$label.s" <<'PY'
import resource, subprocess, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
c0, t0 = cpu(), time.monotonic()
with open(sys.argv[1], "wb") as out:
    subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.DEVNULL)
print("%.4f %.4f" % (time.monotonic() - t0, cpu() - c0))
PY
}
both() {  # "wall median (min-max); CPU median (min-max)" of a .s file
  echo "$(cut -d' ' -f1 "$1" | stats); CPU $(cut -d' ' -f2 "$1" | stats)"
}

echo "## capgraph with Overrides: load average at start $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
echo
echo "| command | A: wall s, median (min-max) of $REPEAT; CPU s | ${B:+B: the same | CPU B / A |}"
echo "|---|---|${B:+---|---|}"
status=0
for name in fit bottleneck bottleneck10k; do
  case $name in
    fit) args=("${FIT[@]}") ;;
    bottleneck) args=("${BOTTLENECK[@]}") ;;
    *) args=("${BOTTLENECK10K[@]}") ;;
  esac
  rm -f "$DATA/${name}_a.s" "$DATA/${name}_b.s"
  for ((i = 0; i < REPEAT; ++i)); do
    one_run a "$A" "$name" "${args[@]}"
    [[ -z $B ]] || one_run b "$B" "$name" "${args[@]}"
  done
  a=$(both "$DATA/${name}_a.s")
  if [[ -z $B ]]; then
    echo "| \`capgraph ${args[*]}\` | $a |"
    continue
  fi
  b=$(both "$DATA/${name}_b.s")
  ratio=$(awk -v a="$(cut -d' ' -f2 "$DATA/${name}_a.s" | stats)" -v b="$(cut -d' ' -f2 "$DATA/${name}_b.s" | stats)" \
    'BEGIN{printf "%.2f", b / a}')
  echo "| \`capgraph ${args[*]}\` | $a | $b | $ratio |"
  if ! cmp -s "$DATA/${name}_a.out" "$DATA/${name}_b.out"; then
    echo "overrides.sh: $name: the outputs of A and B differ ($DATA/${name}_a.out, ${name}_b.out)" >&2
    status=1
  fi
done
exit $status
