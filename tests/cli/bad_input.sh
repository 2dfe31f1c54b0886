#!/usr/bin/env bash
# Bad input and faults (docs/reliability.md): one check (or a few) per class,
# each failing without the mechanism it tests.
#  - text that is not UTF-8 (CSV cells, command-line values) is refused with
#    its position; JSON output never aborts;
#  - a byte order mark at the start of a CSV or a spec is accepted;
#  - an output that is the same file as an input is refused (exit 2) before
#    anything is written, also through a symlink or a hard link;
#  - observation files have the spec's byte limit (/dev/zero stops there);
#  - a directory given as data is an I/O error (exit 3);
#  - errors about data name the data file and line;
#  - scale points outside the accepted range are refused, so numbers stay finite;
#  - numeric flags read like spec numbers, and their errors name the bound.
# Run by ctest as: bash tests/cli/bad_input.sh CAPGRAPH_EXE SOURCE_DIR
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
    [[ "$err" == *"$t"* ]] || fail "capgraph $*: stderr lacks \`$t\`: $err"
  done
}

spec=examples/emoji_movie.yaml
aspec=examples/arithmetic_open_models.yaml
csv=examples/data/arithmetic_open_models.csv
head="task,family,params,metric,score"

# --- UTF-8 -----------------------------------------------------------------------
printf '%s\nt\xffx,F,1e9,exact_match,0.5\n' "$head" >"$tmp/latin1.csv"
for f in table csv json; do
  expect 1 "$tmp/latin1.csv:2:2: error: invalid UTF-8 (byte 0xFF)" -- analyze "$tmp/latin1.csv" --format "$f"
done
expect 1 "latin1.csv:2:2: error: invalid UTF-8" -- fit "$aspec" --data "$tmp/latin1.csv"
expect 2 "argument 4, byte 2: invalid UTF-8 (byte 0xFF)" -- eval "$spec" --nodes "e$(printf '\xff')" --at 1e10
expect 2 "invalid UTF-8" -- analyze "$csv" --task "$(printf '\xc3')"

# --- byte order marks --------------------------------------------------------------
printf '\xef\xbb\xbf' >"$tmp/bom.csv"
cat "$csv" >>"$tmp/bom.csv"
"$exe" analyze "$csv" --format csv >"$tmp/plain.out" 2>/dev/null
"$exe" analyze "$tmp/bom.csv" --format csv >"$tmp/bom.out" 2>"$tmp/err" || fail "CSV with a BOM refused: $(cat "$tmp/err")"
cmp -s "$tmp/plain.out" "$tmp/bom.out" || fail "CSV with a BOM: the analysis differs from the file without it"
printf '\xef\xbb\xbf' >"$tmp/bom.yaml"
cat "$spec" >>"$tmp/bom.yaml"
"$exe" eval "$tmp/bom.yaml" --at 1e10 --format csv >"$tmp/bom_eval.out" 2>"$tmp/err" || fail "spec with a BOM refused: $(cat "$tmp/err")"
"$exe" eval "$spec" --at 1e10 --format csv >"$tmp/eval.out" 2>/dev/null
cmp -s "$tmp/eval.out" "$tmp/bom_eval.out" || fail "spec with a BOM: eval differs"

# --- an output that is an input -------------------------------------------------------
# same_file DESCRIPTION FILE -- ARGS: exit 2, FILE unchanged, no temporary left.
same_file() {
  local what=$1 file=$2
  shift 3
  local before after err status
  before=$(md5sum <"$file")
  err=$("$exe" "$@" 2>&1 >/dev/null)
  status=$?
  after=$(md5sum <"$file")
  [ "$status" -eq 2 ] || fail "$what: exit $status (expected 2): $err"
  [[ "$err" == *"is the same file as the input"* ]] || fail "$what: message: $err"
  [ "$before" = "$after" ] || fail "$what: the input was changed"
  [ -z "$(find "$tmp" -name '.*.tmp*')" ] || fail "$what: a temporary was left"
}
cp "$csv" "$tmp/s.csv"
cp "$aspec" "$tmp/t.yaml"
cp "$spec" "$tmp/e.yaml"
ln -s "$tmp/s.csv" "$tmp/link.csv"
ln "$tmp/e.yaml" "$tmp/hard.yaml"
same_file "analyze -o its input" "$tmp/s.csv" -- analyze "$tmp/s.csv" -o "$tmp/s.csv"
same_file "analyze -o a symlink to its input" "$tmp/s.csv" -- analyze "$tmp/s.csv" -o "$tmp/link.csv"
same_file "fit -o its data" "$tmp/s.csv" -- fit "$tmp/t.yaml" --data "$tmp/s.csv" --family OPT -o "$tmp/s.csv"
same_file "fit -o its spec" "$tmp/t.yaml" -- fit "$tmp/t.yaml" --data "$tmp/s.csv" --family OPT -o "$tmp/t.yaml"
same_file "fit --report its data" "$tmp/s.csv" -- fit "$tmp/t.yaml" --data "$tmp/s.csv" --family OPT -o "$tmp/out.yaml" --report "$tmp/s.csv"
[ -e "$tmp/out.yaml" ] && fail "fit with a refused --report still wrote -o"
same_file "render -o its spec" "$tmp/e.yaml" -- render "$tmp/e.yaml" --at 1e10 -o "$tmp/e.yaml"
same_file "render -o a hard link to its spec" "$tmp/e.yaml" -- render "$tmp/e.yaml" --at 1e10 -o "$tmp/hard.yaml"
same_file "plot -o its spec" "$tmp/e.yaml" -- plot "$tmp/e.yaml" -o "$tmp/e.yaml"
same_file "plot -o its data" "$tmp/s.csv" -- plot "$tmp/t.yaml" --data "$tmp/s.csv" -o "$tmp/s.csv"
same_file "sweep -o its spec" "$tmp/e.yaml" -- sweep "$tmp/e.yaml" -o "$tmp/e.yaml"
same_file "eval -o its spec" "$tmp/e.yaml" -- eval "$tmp/e.yaml" --at 1e10 -o "$tmp/e.yaml"
same_file "bottleneck -o its spec" "$tmp/e.yaml" -- bottleneck "$tmp/e.yaml" --task emoji_movie --at 1e10 -o "$tmp/e.yaml"

# --- several outputs: all or none -------------------------------------------------------
printf 'keep me\n' >"$tmp/f.yaml"
expect 3 "no/such/dir/r.txt: error: cannot write" -- fit "$aspec" --data "$csv" --family OPT -o "$tmp/f.yaml" --report "$tmp/no/such/dir/r.txt"
[ "$(cat "$tmp/f.yaml")" = "keep me" ] || fail "fit: -o was replaced although --report could not be written"
expect 3 -- fit "$aspec" --data "$csv" --family OPT -o "$tmp/new.yaml" --report "$tmp/no/r.txt"
[ -e "$tmp/new.yaml" ] && fail "fit: -o was written although --report could not be"
[ -z "$(find "$tmp" -name '.*.tmp*')" ] || fail "fit: a temporary was left"

# --- observation files: the byte limit ------------------------------------------------------
limited() {  # at most 1 GB of memory and 60 s, whatever the input
  if [ "${CAPGRAPH_SANITIZED:-0}" = 1 ]; then timeout 60 "$@"; else (ulimit -v 1000000; timeout 60 "$@"); fi
}
for args in "analyze /dev/zero" "fit $aspec --data /dev/zero" "plot $aspec --data /dev/zero"; do
  # shellcheck disable=SC2086
  err=$(limited "$exe" $args 2>&1 >/dev/null)
  status=$?
  [ "$status" -eq 1 ] || fail "$args: exit $status (expected 1): $err"
  [[ "$err" == *"larger than the limit of 67108864 bytes; raise it with --max-bytes"* ]] || fail "$args: message: $err"
done
size=$(wc -c <"$csv")
expect 1 "larger than the limit of 100 bytes" "--max-bytes" -- analyze "$csv" --max-bytes 100
expect 1 "larger than the limit of 100 bytes" -- analyze - --max-bytes 100 <"$csv"
expect 0 -- analyze "$csv" --max-bytes "$size"

# --- a directory as data -------------------------------------------------------------------
mkdir "$tmp/dir"
expect 3 "$tmp/dir: error: cannot read the observations file: it is a directory" -- analyze "$tmp/dir"
expect 3 "it is a directory" -- fit "$aspec" --data "$tmp/dir"
expect 3 "it is a directory" -- plot "$aspec" --data "$tmp/dir"
expect 3 "cannot read the observations file" -- analyze "$tmp/missing.csv"

# --- errors about data name the data file and line ---------------------------------------------
{ head -1 "$csv"; sed -n 2p "$csv"; sed -n 3p "$csv" | awk -F, -v OFS=, '{ $3 = "1e308"; print }'; } >"$tmp/huge.csv"
expect 1 "$tmp/huge.csv:3: error: column \`params\`: 1e+308 is outside the accepted scale range [1, 1e+60]" -- \
  fit "$aspec" --data "$tmp/huge.csv"
expect 1 "$tmp/huge.csv:3: error: column \`params\`" -- analyze "$tmp/huge.csv"

# --- scale points: a documented range, numbers stay finite -----------------------------------
expect 2 "--at 1e308: 1e+308 is outside the accepted scale range [1, 1e+60]" -- eval "$spec" --at 1e308
expect 2 "outside the accepted scale range" -- eval examples/data_wall.yaml --at 5e-324
expect 2 "outside the accepted scale range" -- sweep "$spec" --to 1e61
expect 2 "outside the accepted scale range" -- budget --params 1e300
printf 'capgraph: 1\nname: t\nscale: {tokens_per_param: 1e300}\nskills:\n  a: {curve: {constant: 0.5}}\n' >"$tmp/tpp.yaml"
expect 1 "$tmp/tpp.yaml:3:8: error: \`range\`: at the scale point 1e+08 the compute C would not be a finite" -- \
  check "$tmp/tpp.yaml"
out=$("$exe" eval "$spec" --at 1e60 --format json 2>/dev/null) || fail "eval at the top of the range failed"
[[ "$out" == *null* ]] && fail "eval at 1e60: JSON holds null (a non-finite number)"
out=$("$exe" budget --compute 1e60 --format json 2>/dev/null) || fail "budget at 1e60 failed"
[[ "$out" == *null* ]] && fail "budget at 1e60: JSON holds null"

# --- numbers and limit errors ---------------------------------------------------------------
expect 2 "--points: 0 is below the minimum of 1" -- sweep "$spec" --points 0
expect 2 "--max-points: 0 is below the minimum of 1" -- sweep "$spec" --max-points 0
expect 2 "--max-shared-expanded: -1 is below the minimum of 0" -- eval "$spec" --at 1e10 --max-shared-expanded -1
expect 2 "--points: \`2.5\` is not a whole number" -- sweep "$spec" --points 2.5
a=$("$exe" eval "$spec" --at +1e9 --format csv 2>&1) || fail "--at +1e9 refused: $a"
b=$("$exe" eval "$spec" --at 1e+9 --format csv 2>&1)
[ "$a" = "$b" ] || fail "--at +1e9 and --at 1e+9 differ"
a=$("$exe" sweep "$spec" --points 1e1 --format csv 2>&1) || fail "--points 1e1 refused: $a"
b=$("$exe" sweep "$spec" --points 10 --format csv 2>&1)
[ "$a" = "$b" ] || fail "--points 1e1 and --points 10 differ"
b=$("$exe" sweep "$spec" --points 010 --format csv 2>&1)
[ "$a" = "$b" ] || fail "--points 010 is not 10"
printf 'capgraph: 1\nname: t\nskills:\n  a: {curve: {constant: 0.5}}\ntasks:\n  b: {best_of: {n: 1e12, of: a}}\n' >"$tmp/best.yaml"
expect 1 "$tmp/best.yaml:6:20: error: best_of n 1e12 of task \`b\` exceeds the limit of 1000000 uses; raise it with --max-uses" -- \
  check "$tmp/best.yaml"
printf 'capgraph: 1\nname: t\nscale: {points: 1e12}\nskills:\n  a: {curve: {constant: 0.5}}\n' >"$tmp/points.yaml"
expect 1 "points 1e12 exceeds the limit of 100000 sweep points; raise it with --max-points" -- check "$tmp/points.yaml"

finish bad_input
