#!/usr/bin/env bash
# Output that cannot be delivered (issue 6, Reliability 3; docs/reliability.md):
#  - a closed pipe (`| head -1`) ends quietly: nothing on standard error,
#    exit 0 (capgraph ignores SIGPIPE and treats EPIPE as the reader's choice);
#  - a file that cannot be written leaves an existing file untouched and
#    leaves no temporary file behind (exit 3);
#  - bad input writes no output file (exit 1);
#  - a special file (/dev/null, a FIFO) is written to, never replaced.
# Run by ctest as: bash tests/cli/output.sh CAPGRAPH_EXE SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
spec=examples/emoji_movie.yaml

# --- closed pipes -----------------------------------------------------------
# Outputs far larger than a pipe's buffer (64 KiB), so the write must fail.
pipe_case() {
  local status err
  "$exe" "$@" 2>"$tmp/err" | head -c 10 >/dev/null
  status=${PIPESTATUS[0]}
  err=$(cat "$tmp/err")
  [ "$status" -eq 0 ] || fail "capgraph $* | head: exit $status (expected 0)"
  [ -z "$err" ] || fail "capgraph $* | head: stderr not empty: $err"
}
pipe_case sweep "$spec" --points 20000 --format csv
pipe_case sweep "$spec" --points 5000 --format json
pipe_case sweep "$spec" --points 20000 --curves
pipe_case render "$spec" --at 1e10 --format dot
pipe_case bottleneck "$spec" --task emoji_movie --over --points 5000 --format csv
pipe_case check $(for i in $(seq 3000); do echo "$spec"; done)

# --- output larger than the memory it may use ---------------------------------
# 100,000 points of every emoji_movie curve: a 175 MB CSV, written under a
# 150 MB address-space limit. It must stream to the file, whole (the same
# bytes as without the limit), not fail or stop short. (Before it streamed
# this exited 3, out of memory; at 100 MB it wrote 16 MB and exited 0.)
if [ "${CAPGRAPH_SANITIZED:-0}" != 1 ]; then
  ref=$("$exe" sweep "$spec" --points 100000 --format csv | md5sum)
  (
    ulimit -v 150000
    "$exe" sweep "$spec" --points 100000 --format csv -o "$tmp/big.csv" 2>"$tmp/err"
  )
  status=$?
  [ "$status" -eq 0 ] || fail "sweep under a 150 MB limit: exit $status: $(cat "$tmp/err")"
  [ "$(md5sum <"$tmp/big.csv")" = "$ref" ] || fail "sweep under a 150 MB limit: the file differs from the unlimited output"
  rm -f "$tmp/big.csv"
fi

# --- files that cannot be written ---------------------------------------------
printf 'keep me\n' >"$tmp/existing.csv"
# A file-size limit makes every write past 1 KiB fail (EFBIG), as a full
# disk would, even for root (CI runs as root, so permissions prove nothing).
(
  trap '' XFSZ
  ulimit -f 1
  "$exe" sweep "$spec" --points 2000 --format csv -o "$tmp/existing.csv" 2>"$tmp/err"
)
status=$?
[ "$status" -eq 3 ] || fail "write past the file-size limit: exit $status (expected 3)"
grep -q "existing.csv: error: cannot write" "$tmp/err" || fail "write past the file-size limit: message: $(cat "$tmp/err")"
[ "$(cat "$tmp/existing.csv")" = "keep me" ] || fail "a failed write changed the existing file"
leftover=$(find "$tmp" -name '.existing.csv.tmp*' | wc -l)
[ "$leftover" -eq 0 ] || fail "a failed write left $leftover temporary file(s)"

# A missing directory, and a path through a regular file.
"$exe" eval "$spec" --at 1e10 -o "$tmp/no/such/dir/out.csv" 2>"$tmp/err"
status=$?
[ "$status" -eq 3 ] || fail "missing directory: exit $status (expected 3)"
"$exe" eval "$spec" --at 1e10 -o "$tmp/existing.csv/out.csv" 2>/dev/null
[ $? -eq 3 ] || fail "path through a file: expected exit 3"
[ "$(cat "$tmp/existing.csv")" = "keep me" ] || fail "a path through the file changed it"
# A directory as the output: exit 3, the directory stays.
mkdir "$tmp/adir"
"$exe" eval "$spec" --at 1e10 -o "$tmp/adir" 2>/dev/null
[ $? -eq 3 ] || fail "directory as output: expected exit 3"
[ -d "$tmp/adir" ] || fail "directory as output was replaced"
if [ "$(id -u)" -ne 0 ]; then
  mkdir "$tmp/ro"
  printf 'keep me\n' >"$tmp/ro/out.csv"
  chmod 555 "$tmp/ro"
  "$exe" eval "$spec" --at 1e10 -o "$tmp/ro/out.csv" 2>/dev/null
  [ $? -eq 3 ] || fail "read-only directory: expected exit 3"
  [ "$(cat "$tmp/ro/out.csv")" = "keep me" ] || fail "read-only directory: the existing file changed"
  chmod 755 "$tmp/ro"
fi

# --- bad input writes nothing -------------------------------------------------
"$exe" eval tests/bad/cycle.yaml --at 1e10 -o "$tmp/bad.csv" 2>/dev/null
[ $? -eq 1 ] || fail "bad spec: expected exit 1"
[ -e "$tmp/bad.csv" ] && fail "bad spec left an output file"
printf 'keep me\n' >"$tmp/kept.csv"
"$exe" eval tests/bad/cycle.yaml --at 1e10 -o "$tmp/kept.csv" 2>/dev/null
[ "$(cat "$tmp/kept.csv")" = "keep me" ] || fail "bad spec changed an existing output file"

# --- special files are written to, not replaced --------------------------------
mkfifo "$tmp/fifo"
timeout 20 cat "$tmp/fifo" >"$tmp/from_fifo" &  # a capgraph that never opens the FIFO fails, not hangs
reader=$!
"$exe" eval "$spec" --at 1e10 --format csv -o "$tmp/fifo" 2>"$tmp/err"
status=$?
wait "$reader"
[ "$status" -eq 0 ] || fail "FIFO output: exit $status: $(cat "$tmp/err")"
[ -p "$tmp/fifo" ] || fail "FIFO output: the FIFO was replaced by a file"
grep -q "emoji_movie" "$tmp/from_fifo" || fail "FIFO output: nothing arrived"
# /dev/null must stay a character device (running as root, a rename would replace it).
"$exe" eval "$spec" --at 1e10 -o /dev/null 2>"$tmp/err" || fail "-o /dev/null: $(cat "$tmp/err")"
[ -c /dev/null ] || fail "/dev/null is no longer a character device"

finish output
