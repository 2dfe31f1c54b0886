#!/usr/bin/env bash
# Faults while writing (docs/reliability.md):
#  - SIGTERM, SIGINT or SIGHUP while an output is being written leaves no
#    temporary file and the target as it was, for every command that writes
#    a file (a preloaded fsync raises the signal at the moment the temporary
#    is complete, so the check is deterministic; and a real kill of a long
#    sweep);
#  - a full disk (a 64 KiB tmpfs; skipped unless it can be mounted) is exit 3,
#    with no partial file and no temporary left.
# Run by ctest as: bash tests/cli/faults.sh CAPGRAPH_EXE SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
spec=examples/emoji_movie.yaml
aspec=examples/arithmetic_open_models.yaml
csv=examples/data/arithmetic_open_models.csv

no_temporaries() {  # DESCRIPTION DIR
  local left
  left=$(find "$2" -name '.*.tmp*' | wc -l)
  [ "$left" -eq 0 ] || fail "$1: $left temporary file(s) left"
}

# --- a signal at the moment of the commit -------------------------------------------
# SIGINT ignored when the shell started (a background job) cannot be undone
# here, and capgraph leaves an ignored signal ignored: skip it then.
ignored=$((0x$(awk '/^SigIgn/ { print $2 }' /proc/$$/status)))
shim="$tmp/raise_on_fsync.so"
if printf '#include <signal.h>\n#include <stdlib.h>\nint fsync(int fd) { (void)fd; raise(atoi(getenv("RAISE_SIGNAL"))); return 0; }\n' |
  ${CC:-cc} -shared -fPIC -x c -o "$shim" - 2>/dev/null; then
  # signal_case SIGNAL NAME -- ARGS (writing $tmp/out/*): killed by SIGNAL,
  # targets untouched, no temporary.
  signal_case() {
    local sig=$1 name=$2 status
    shift 3
    if [ "$sig" = INT ] && [ $((ignored & 2)) -ne 0 ]; then return; fi
    rm -rf "$tmp/out"
    mkdir "$tmp/out"
    printf 'keep me\n' >"$tmp/out/a"
    printf 'keep me\n' >"$tmp/out/b"
    # ASan must come first among preloaded libraries; the shim does not care.
    RAISE_SIGNAL=$(kill -l "$sig") LD_PRELOAD="$shim" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
      "$exe" "$@" >/dev/null 2>"$tmp/err"
    status=$?
    [ "$status" -eq $((128 + $(kill -l "$sig"))) ] || fail "SIG$sig during $name: exit $status: $(cat "$tmp/err")"
    [ "$(cat "$tmp/out/a")" = "keep me" ] || fail "SIG$sig during $name: the target changed"
    [ "$(cat "$tmp/out/b")" = "keep me" ] || fail "SIG$sig during $name: the second target changed"
    no_temporaries "SIG$sig during $name" "$tmp/out"
  }
  for sig in TERM INT HUP; do
    signal_case "$sig" sweep -- sweep "$spec" --format csv -o "$tmp/out/a"
  done
  signal_case TERM analyze -- analyze "$csv" --format json -o "$tmp/out/a"
  signal_case TERM "fit -o --report" -- fit "$aspec" --data "$csv" --family OPT -o "$tmp/out/a" --report "$tmp/out/b"
  signal_case HUP "fit -o" -- fit "$aspec" --data "$csv" --family OPT -o "$tmp/out/a"
  signal_case TERM render -- render "$spec" --at 1e10 -o "$tmp/out/a"
  signal_case INT plot -- plot "$spec" -o "$tmp/out/a"
  signal_case TERM eval -- eval "$spec" --at 1e10 -o "$tmp/out/a"
  signal_case TERM bottleneck -- bottleneck "$spec" --task emoji_movie --at 1e10 -o "$tmp/out/a"
  signal_case TERM budget -- budget --params 1e10 -o "$tmp/out/a"
else
  echo "faults: no C compiler for the fsync shim; deterministic signal checks skipped"
fi

# --- a real kill in the middle of a long write ------------------------------------------
"$exe" sweep "$spec" --points 100000 --format csv -o "$tmp/big.csv" 2>/dev/null &
pid=$!
for _ in $(seq 200); do
  [ -n "$(find "$tmp" -maxdepth 1 -name '.big.csv.tmp*')" ] && break
  sleep 0.05
done
kill -TERM "$pid" 2>/dev/null
wait "$pid"
status=$?
[ "$status" -eq 143 ] || fail "sweep killed by SIGTERM: exit $status (expected 143)"
[ -e "$tmp/big.csv" ] && fail "sweep killed by SIGTERM left a partial output"
no_temporaries "sweep killed by SIGTERM" "$tmp"

# --- a full disk ------------------------------------------------------------------------------
mkdir "$tmp/disk"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=64k tmpfs "$tmp/disk" 2>/dev/null; then
  printf 'keep me\n' >"$tmp/disk/kept.csv"
  "$exe" sweep "$spec" --points 2000 --format csv -o "$tmp/disk/kept.csv" 2>"$tmp/err"
  status=$?
  [ "$status" -eq 3 ] || fail "full disk: exit $status (expected 3)"
  grep -q "kept.csv: error: cannot write: No space left on device" "$tmp/err" || fail "full disk: message: $(cat "$tmp/err")"
  [ "$(cat "$tmp/disk/kept.csv")" = "keep me" ] || fail "full disk: the existing file changed"
  "$exe" sweep "$spec" --points 2000 --format csv -o "$tmp/disk/new.csv" 2>/dev/null
  [ $? -eq 3 ] || fail "full disk, new file: expected exit 3"
  [ -e "$tmp/disk/new.csv" ] && fail "full disk: a partial file was left"
  # Nearly full: the fitted spec (a few KiB) would fit, the JSON report not.
  head -c 56000 /dev/zero >"$tmp/disk/fill"
  "$exe" fit "$aspec" --data "$csv" --family OPT -o "$tmp/disk/f.yaml" --report "$tmp/disk/r.txt" \
    --format json >/dev/null 2>"$tmp/err"
  status=$?
  [ "$status" -eq 3 ] || fail "full disk, fit: exit $status (expected 3): $(cat "$tmp/err")"
  [ -e "$tmp/disk/f.yaml" ] && fail "full disk: fit wrote -o but not --report"
  [ -e "$tmp/disk/r.txt" ] && fail "full disk: fit left a partial --report"
  no_temporaries "full disk" "$tmp/disk"
  umount "$tmp/disk"
else
  echo "faults: cannot mount a tmpfs (not root, or not allowed); full-disk checks skipped"
fi

finish faults
