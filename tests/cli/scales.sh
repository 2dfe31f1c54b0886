#!/usr/bin/env bash
# Scales as people write them (graph/scale_text.hpp, docs/cli.md): every
# option that takes a scale reads `70B`, `1.5T`, `300M` as `7e10`, `1.5e12`,
# `3e8` — the same output byte for byte — and refuses what is not a
# positive scale with a usage error (exit 2) that says what it expects.
# Run by ctest as: bash tests/cli/scales.sh CAPGRAPH_EXE SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
spec=examples/emoji_movie.yaml

same() {  # same "ARGS with suffixes" "ARGS with exponents"
  local a b
  a=$("$exe" $1 2>&1) || fail "capgraph $1: exit $?"
  b=$("$exe" $2 2>&1) || fail "capgraph $2: exit $?"
  [ "$a" = "$b" ] || fail "capgraph $1 differs from capgraph $2"
}
same "eval $spec --at 70B --format csv" "eval $spec --at 7e10 --format csv"
same "eval $spec --at 300m --format csv" "eval $spec --at 3e8 --format csv"
same "sweep $spec --from 300M --to 1.5T --points 7 --format csv" "sweep $spec --from 3e8 --to 1.5e12 --points 7 --format csv"
same "bottleneck $spec --task emoji_movie --at 10B --format csv" "bottleneck $spec --task emoji_movie --at 1e10 --format csv"
same "bottleneck $spec --task emoji_movie --over --from 1B --to 1T --points 5" "bottleneck $spec --task emoji_movie --over --from 1e9 --to 1e12 --points 5"
same "render $spec --at 10G" "render $spec --at 1e10"
same "plot $spec --from 100M --to 10T" "plot $spec --from 1e8 --to 1e13"
same "budget --params 70B --format csv" "budget --params 7e10 --format csv"
same "budget --compute 1e24 --data-limit 1.5T --check-bytes 180P" "budget --compute 1e24 --data-limit 1.5e12 --check-bytes 1.8e17"
same "fit examples/arithmetic_open_models.yaml --data examples/data/arithmetic_open_models.csv --family OPT --train-below 10B --format csv --predictions -" \
     "fit examples/arithmetic_open_models.yaml --data examples/data/arithmetic_open_models.csv --family OPT --train-below 1e10 --format csv --predictions -"

for bad in 1e3B "70 B" 0 70X inf 1.5.2T; do
  "$exe" eval "$spec" --at "$bad" >"$tmp/out" 2>"$tmp/err"
  status=$?
  [ "$status" -eq 2 ] || fail "eval --at '$bad': exit $status (expected 2)"
  grep -q "expects a positive number such as 1e10, 70B or 1.5T, got \`$bad\`" "$tmp/err" ||
    fail "eval --at '$bad': message: $(cat "$tmp/err")"
  [ -s "$tmp/out" ] && fail "eval --at '$bad': wrote output"
done

finish scales
