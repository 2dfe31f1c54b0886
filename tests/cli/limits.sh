#!/usr/bin/env bash
# Every limit has a default, a flag to raise it, and an error that names both
# (issue 6, Reliability 3; docs/reliability.md). Run by ctest as
#   bash tests/cli/limits.sh CAPGRAPH_EXE SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

# expect CODE "TEXT..." -- ARGS: exit code CODE, and each TEXT on standard error.
expect() {
  local code=$1
  shift
  local texts=()
  while [ "$1" != "--" ]; do
    texts+=("$1")
    shift
  done
  shift
  local err got
  err=$("$exe" "$@" 2>&1 >/dev/null)
  got=$?
  if [ "$got" -ne "$code" ]; then
    fail "capgraph $* exited $got, expected $code; stderr: $err"
    return
  fi
  for t in "${texts[@]}"; do
    if [[ "$err" != *"$t"* ]]; then
      fail "capgraph $*: stderr lacks \`$t\`: $err"
    fi
  done
}

spec=examples/emoji_movie.yaml
size=$(wc -c <"$spec")

# Input size.
expect 1 "limit of 100 bytes" "--max-bytes" -- check "$spec" --max-bytes 100
expect 1 "limit of 100 bytes" -- eval - --at 1e10 --max-bytes 100 <"$spec"
expect 0 -- check "$spec" --max-bytes "$size"
# Nodes.
expect 1 "$spec:" "more than the limit of 3" "--max-nodes" -- check "$spec" --max-nodes 3
expect 0 -- check "$spec" --max-nodes 100
# Uses per reference (emoji_movie uses emoji_semantics 3 times).
expect 1 "$spec:" "exceeds the limit of 2" "--max-uses" -- check "$spec" --max-uses 2
expect 0 -- check "$spec" --max-uses 3
# Sweep points: the flag, and the spec's scale.points (61 here).
expect 2 "--points 100001 exceeds the limit of 100000 sweep points" "--max-points" -- sweep "$spec" --points 100001
expect 2 "--curves would print 1.12e+07 cells (14 curves x 800000 points), over the limit of 1e+07" "--max-curve-cells" "--format csv" -- sweep "$spec" --curves --max-points 1000000 --points 800000
expect 2 "--curves would print 60 cells (6 curves x 10 points)" "--max-curve-cells" -- sweep "$spec" --tasks emoji_movie --curves --points 10 --max-curve-cells 59
expect 2 "--points 62 exceeds the limit of 61" "--max-points" -- sweep "$spec" --points 62 --max-points 61
expect 0 -- sweep "$spec" --points 61 --max-points 61 --format csv
expect 1 "$spec:" "points 61 exceeds the limit of 20 sweep points" "--max-points" -- sweep "$spec" --max-points 20
expect 2 "--max-points" -- bottleneck "$spec" --task emoji_movie --over --points 200000
# Monte Carlo samples.
expect 2 "--monte-carlo 20000000 exceeds the limit of 10000000 samples" "--max-mc-samples" -- \
  eval "$spec" --at 1e10 --monte-carlo 20000000
expect 2 "limit of 50" "--max-mc-samples" -- sweep "$spec" --points 3 --monte-carlo 100 --max-mc-samples 50
expect 0 -- sweep "$spec" --points 3 --monte-carlo 100 --max-mc-samples 100
# Shared skills for exact evaluation (E1 correlates several shared skills).
ft=examples/fault_tree_three_motor.yaml
expect 1 "$ft:" "--max-shared-expanded" "--monte-carlo" -- eval "$ft" --at 1e9 --max-shared-expanded 1
expect 1 "$ft:" "over the limit of 10" "--max-shared-work" -- eval "$ft" --at 1e9 --max-shared-work 10
expect 1 "$ft:" "would exceed 10 nodes" "--max-bdd-nodes" "--monte-carlo" -- eval "$ft" --at 1e9 --max-bdd-nodes 10
expect 0 -- eval "$ft" --at 1e9
# Map nodes.
expect 1 "limit 3" "--max-map-nodes" -- render "$spec" --at 1e10 --format dot --max-map-nodes 3 -o "$tmp/map.dot"
[ -e "$tmp/map.dot" ] && fail "a refused map left $tmp/map.dot"
expect 0 -- render "$spec" --at 1e10 --format dot --max-map-nodes 100 -o "$tmp/map.dot"

finish limits
