#!/usr/bin/env bash
# Large `at_least` gates finish (binomial groups, graph/successes.hpp) or
# stop at once with the limit error naming --max-at-least-work: eval,
# sweep, bottleneck and Monte Carlo (issue 27, item 3). Run by ctest as
#   bash tests/cli/at_least_large.sh CAPGRAPH_EXE SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

# run CODE TEXT -- ARGS: within 60 s, exit CODE, TEXT on standard output
# (CODE 0) or standard error (otherwise).
run() {
  local code=$1 text=$2
  shift 3
  local out got
  out=$(timeout 60 "$exe" "$@" 2>&1)
  got=$?
  if [ "$got" -eq 124 ]; then
    fail "capgraph $* did not finish within 60 s"
  elif [ "$got" -ne "$code" ]; then
    fail "capgraph $* exited $got, expected $code: $out"
  elif [[ "$out" != *"$text"* ]]; then
    fail "capgraph $*: output lacks \`$text\`: ${out:0:400}"
  fi
}

header='capgraph: 1
name: large at_least
scale: {axis: params, range: [1e8, 1e12], points: 5}'

# k = 500,000 of 10^6 uses of one skill at P = 1/2: P = (1 + P(X = n/2)) / 2
# = 0.500398942...
one="$tmp/one.yaml"
printf '%s\nskills:\n  s: {curve: {constant: 0.5}}\ntasks:\n  t:\n    at_least: {k: 500000, of: [{s: 1000000}]}\n' \
  "$header" >"$one"
run 0 "0.50039894" -- eval "$one" --at 1e10 --format csv
run 0 "t" -- sweep "$one" --format csv
run 0 "s" -- bottleneck "$one" --task t --at 1e10 --format csv
run 0 "t" -- eval "$one" --at 1e10 --monte-carlo 2000 --format csv

# 200,000 skills of the same curve, k = 100,000: one binomial group.
many="$tmp/many.yaml"
{
  printf '%s\nskills:\n' "$header"
  awk 'BEGIN { for (i = 0; i < 200000; ++i) printf "  s%d: {curve: {logistic: {mid: 1e10, slope: 1}}}\n", i }'
  printf 'tasks:\n  t:\n    at_least:\n      k: 100000\n      of: ['
  awk 'BEGIN { for (i = 0; i < 200000; ++i) printf "%ss%d", (i ? ", " : ""), i }'
  printf ']\n'
} >"$many"
run 0 "0.5" -- eval "$many" --at 1e10 --format csv
run 0 "t" -- sweep "$many" --format csv
run 0 "s199999" -- bottleneck "$many" --task t --at 1e10 --format csv
run 0 "t" -- eval "$many" --at 1e10 --monte-carlo 2000 --format csv

# Uses of distinct probabilities are convolved; past the limit, one error
# naming the task, the limit and the flag.
mixed="$tmp/mixed.yaml"
{
  printf '%s\nskills:\n' "$header"
  awk 'BEGIN { for (i = 0; i < 300; ++i) printf "  s%d: {curve: {constant: %.4f}}\n", i, 0.2 + i / 500 }'
  printf 'tasks:\n  t:\n    at_least:\n      k: 150\n      of: ['
  awk 'BEGIN { for (i = 0; i < 300; ++i) printf "%s{s%d: 1000}", (i ? ", " : ""), i }'
  printf ']\n'
} >"$mixed"
for cmd in "eval $mixed --at 1e10" "sweep $mixed" "bottleneck $mixed --task t --at 1e10"; do
  # shellcheck disable=SC2086
  run 1 "the at_least gate of task \`t\` (k = 150) has uses of 300 different probabilities" -- $cmd --max-at-least-work 1e6
  # shellcheck disable=SC2086
  run 1 "over the limit of 1e+06; raise it with --max-at-least-work" -- $cmd --max-at-least-work 1e6
done
run 1 "$mixed:" -- eval "$mixed" --at 1e10 --max-at-least-work 1e6

finish at_least_large
