#!/usr/bin/env bash
# bench/run.sh — capgraph against the NumPy peer, whole processes, same run.
#
#   bench/run.sh [--big] [--sizes "1000 10000 100000"] [--points 1000]
#                [--threads 2,1] [--keep roots|tasks|all] [--chain 5000] [--no-peer] [--no-build]
#                [--build DIR] [--data DIR] [-j JOBS]
#
# 1. Installs what is missing (as root, apt-get): /usr/bin/time and Debian's
#    python3-numpy python3-networkx python3-yaml (the peer runs on
#    /usr/bin/python3, where apt puts them, not on whatever python3 is first
#    on PATH).
# 2. Builds bench_eval and capgraph in Release (default /tmp/bench_build).
# 3. Generates layered specs of each size (bench/gen_spec.py, seed 1; cached
#    in the data dir, default /tmp/capgraph_bench) and, for each:
#      load     bench_eval --phase load      (load + validate only)
#      eval     bench_eval --points P --threads 2,1 --repeat 2 --keep roots
#               (load + compile + evaluate: cold with 2 threads, then warm;
#               the root tasks' rows are kept and their cones evaluated)
#      evalall  the same keeping every node's row (--keep all), cold only
#      peer     bench/peer_numpy.py --points P (YAML + networkx + NumPy)
#    each a separate process under /usr/bin/time -v (peak RSS of that phase).
#    --big adds 1,000,000 nodes at 1 point (issue 6's one-point target).
# 4. Checks that capgraph and the peer compute the same numbers (rel 1e-9
#    where the peer's P is a normal double) on the 1,000-node spec and every
#    example without shared skills, via bench_eval --dump and capgraph sweep.
# 5. The deep-chain demo: a --chain-step `all` chain at 61 points over
#    1e8..1e13: how many points the peer's P underflows to 0.0 while
#    capgraph's ln P stays finite.
# 6. Prints a Markdown report (bench/summarize.py) and saves it as
#    DATA/results.md.
#
# The machine may be shared: run this once, not in a loop, and not while
# others compile (the report records the load average at the start).
# OPENBLAS_CORETYPE may be set in the environment; the peer is elementwise
# NumPy (no BLAS call), so it does not matter, and it is left as it is.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=/tmp/bench_build
DATA=/tmp/capgraph_bench
SIZES="1000 10000 100000"
POINTS=1000
BIG=0
BIG_POINTS=1
THREADS="2,1"
KEEP=roots
CHAIN=5000
PEER=1
DO_BUILD=1
JOBS=1
SEED=1
PY=/usr/bin/python3

while [[ $# -gt 0 ]]; do
  case "$1" in
    --big) BIG=1 ;;
    --sizes) SIZES=$2; shift ;;
    --points) POINTS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --keep) KEEP=$2; shift ;;
    --chain) CHAIN=$2; shift ;;
    --no-peer) PEER=0 ;;
    --no-build) DO_BUILD=0 ;;
    --build) BUILD=$2; shift ;;
    --data) DATA=$2; shift ;;
    -j) JOBS=$2; shift ;;
    --seed) SEED=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '== %s\n' "$*" >&2; }

# --- 1. dependencies ----------------------------------------------------------
need_pkgs=()
[[ -x /usr/bin/time ]] || need_pkgs+=(time)
if [[ $PEER -eq 1 ]]; then
  $PY -c 'import numpy' 2>/dev/null || need_pkgs+=(python3-numpy)
  $PY -c 'import networkx' 2>/dev/null || need_pkgs+=(python3-networkx)
  $PY -c 'import yaml' 2>/dev/null || need_pkgs+=(python3-yaml)
fi
if [[ ${#need_pkgs[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "run.sh: missing Debian packages: ${need_pkgs[*]} (run as root or: sudo apt-get install -y ${need_pkgs[*]})" >&2
    exit 3
  fi
  say "installing ${need_pkgs[*]}"
  apt-get install -y "${need_pkgs[@]}" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "${need_pkgs[@]}" >/dev/null; }
fi

# --- 2. build -------------------------------------------------------------------
mkdir -p "$DATA"
if [[ $DO_BUILD -eq 1 ]]; then
  if ! grep -qs '^CMAKE_BUILD_TYPE:STRING=Release$' "$BUILD/CMakeCache.txt"; then
    say "configuring $BUILD (Release)"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release > "$DATA/build.log" 2>&1 ||
      { tail -20 "$DATA/build.log" >&2; exit 3; }
  fi
  say "building bench_eval and capgraph in $BUILD (-j$JOBS)"
  cmake --build "$BUILD" -j"$JOBS" --target bench_eval >> "$DATA/build.log" 2>&1 ||
    { grep -m20 -E 'error|Error' "$DATA/build.log" >&2; exit 3; }
  # the CLI is only needed for the sweep cross-check: go on without it
  cmake --build "$BUILD" -j"$JOBS" --target capgraph_cli >> "$DATA/build.log" 2>&1 ||
    { say "capgraph (CLI) did not build: the sweep cross-check is skipped (see $DATA/build.log)"; rm -f "$BUILD/capgraph"; }
fi
BENCH=$BUILD/bench/bench_eval
CLI=$BUILD/capgraph
[[ -x $BENCH ]] || { echo "run.sh: $BENCH missing (build failed?)" >&2; exit 3; }

mkdir -p "$DATA"
RES=$DATA/results
rm -rf "$RES"
mkdir -p "$RES"

# machine + run context
{
  echo "nproc=$(nproc)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "mem_gib=$(awk '/MemTotal/ {printf "%.1f", $2/1048576}' /proc/meminfo)"
  echo "load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "kernel=$(uname -r)"
  echo "python=$($PY --version 2>&1 | cut -d' ' -f2)"
  echo "openblas_coretype=${OPENBLAS_CORETYPE:-unset}"
  echo "threads=$THREADS"
  echo "keep=$KEEP"
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
} > "$RES/machine.txt"

# run NAME CMD...: stdout -> RES/NAME.json, /usr/bin/time -v -> RES/NAME.time
run() {
  local name=$1; shift
  if ! /usr/bin/time -v -o "$RES/$name.time" "$@" > "$RES/$name.json" 2> "$RES/$name.err"; then
    echo "run.sh: '$*' failed:" >&2
    tail -5 "$RES/$name.err" >&2
    return 1
  fi
}

spec_for() {  # spec_for N -> path (generated once per gen_spec.py version)
  local f=$DATA/spec_$1_s$SEED.yaml
  if [[ ! -s $f || $ROOT/bench/gen_spec.py -nt $f ]]; then
    say "generating $1-node spec"
    python3 "$ROOT/bench/gen_spec.py" --nodes "$1" --seed "$SEED" -o "$f"
  fi
  echo "$f"
}

# The floor: writing fresh memory the size of the largest ln P table once.
maxn=0
for n in $SIZES; do [[ $n -gt $maxn ]] && maxn=$n; done
touch_mib=$(( maxn * POINTS * 8 / 1048576 ))
if [[ $touch_mib -gt 0 ]]; then
  say "first-touch baseline: $touch_mib MiB"
  run touch "$BENCH" --touch-mib "$touch_mib"
fi

# --- 3. the table ---------------------------------------------------------------
rows=()
for n in $SIZES; do rows+=("$n:$POINTS"); done
[[ $BIG -eq 1 ]] && rows+=("1000000:$BIG_POINTS")
: > "$RES/rows.txt"
for row in "${rows[@]}"; do
  n=${row%%:*}; p=${row##*:}
  spec=$(spec_for "$n")
  echo "$n $p $(stat -c %s "$spec")" >> "$RES/rows.txt"
  say "$n nodes: capgraph load + validate"
  run "load_$n" "$BENCH" "$spec" --phase load
  say "$n nodes x $p points: capgraph evaluate (threads $THREADS, cold then warm)"
  run "eval_${n}_$p" "$BENCH" "$spec" --points "$p" --threads "$THREADS" --repeat 2 --keep "$KEEP"
  if [[ $KEEP != all ]]; then
    say "$n nodes x $p points: capgraph evaluate keeping every row"
    run "evalall_${n}_$p" "$BENCH" "$spec" --points "$p" --threads "${THREADS%%,*}" --keep all
  fi
  if [[ $PEER -eq 1 ]]; then
    say "$n nodes x $p points: NumPy peer"
    run "peer_${n}_$p" "$PY" "$ROOT/bench/peer_numpy.py" "$spec" --points "$p"
  fi
done

# --- 4. same numbers ------------------------------------------------------------
if [[ $PEER -eq 1 ]]; then
  : > "$RES/checks.txt"
  check_one() {  # check_one LABEL SPEC
    local label=$1 spec=$2 tag
    tag=check_$(basename "$spec" .yaml)
    if ! "$BENCH" "$spec" --points 61 --dump "$RES/$tag.csv" > "$RES/$tag.cg.json" 2> "$RES/$tag.err"; then
      echo "$label skipped: $(head -1 "$RES/$tag.err")" >> "$RES/checks.txt"
      return 0
    fi
    local args=(--check "$RES/$tag.csv")
    if [[ -x $CLI ]] && "$CLI" sweep "$spec" --points 61 --format csv > "$RES/$tag.sweep.csv" 2>> "$RES/$tag.err"; then
      args+=(--check-sweep "$RES/$tag.sweep.csv")
    fi
    "$PY" "$ROOT/bench/peer_numpy.py" "$spec" "${args[@]}" > "$RES/$tag.json" 2>> "$RES/$tag.err" || true
    echo "$label $RES/$tag.json" >> "$RES/checks.txt"
    rm -f "$RES/$tag.csv" "$RES/$tag.sweep.csv"
  }
  say "checking capgraph against the peer (1,000-node spec, examples)"
  check_one "generated-1000" "$(spec_for 1000)"
  for ex in "$ROOT"/examples/*.yaml; do
    [[ -e $ex ]] && check_one "examples/$(basename "$ex")" "$ex"
  done

  # --- 5. deep chain ------------------------------------------------------------
  chain=$DATA/chain_$CHAIN.yaml
  if [[ ! -s $chain || $ROOT/bench/gen_spec.py -nt $chain ]]; then
    python3 "$ROOT/bench/gen_spec.py" --chain "$CHAIN" -o "$chain"
  fi
  last=t$((CHAIN - 1))
  say "deep chain: $CHAIN-step all chain"
  "$BENCH" "$chain" --points 61 --watch "$last" --dump "$RES/chain.csv" > "$RES/chain_cg.json"
  "$PY" "$ROOT/bench/peer_numpy.py" "$chain" --check "$RES/chain.csv" --watch "$last" > "$RES/chain_peer.json" || true
  rm -f "$RES/chain.csv"
  echo "$CHAIN $last" > "$RES/chain.txt"
fi

# --- 6. report ------------------------------------------------------------------
python3 "$ROOT/bench/summarize.py" "$RES" | tee "$DATA/results.md"
