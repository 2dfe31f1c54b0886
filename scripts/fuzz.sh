#!/usr/bin/env bash
# Build the libFuzzer targets (fuzz/, clang + ASan + UBSan) in build-fuzz/ and
# run each for a given time.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default: 60 s, every target)
#
# Seeds: examples/*.yaml and tests/bad/*.yaml (plus fuzz/seeds/TARGET/ if
# present). The growing corpus stays in build-fuzz/corpus/TARGET, so a
# second run continues where the first stopped. A crash, hang (> 10 s per
# input), leak or broken invariant is written to build-fuzz/findings/TARGET/
# and makes the script exit 1 after the other targets have run; each run's
# log, with libFuzzer's final statistics, is build-fuzz/logs/TARGET.log.
# Runs at the priority it is started with: `nice -n 10 bash scripts/fuzz.sh`
# on a shared machine. Needs clang-14 and libclang-rt-14-dev (installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true

need=()
command -v clang++ >/dev/null || need+=(clang)
compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null || need+=(libclang-rt-14-dev)
if ((${#need[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

jobs=$(nproc 2>/dev/null || echo 2)
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAPGRAPH_BUILD_FUZZ=ON \
  -DCAPGRAPH_BUILD_TESTS=OFF -DCAPGRAPH_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_all

targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in build-fuzz/fuzz/fuzz_*; do [ -x "$f" ] && targets+=("$(basename "$f")"); done
fi

# Graphviz 2.42 leaks a little by design (render/graphviz-2.42.supp for
# valgrind); the same for LeakSanitizer.
printf 'leak:libgvc.so\nleak:libcgraph.so\nleak:libcdt.so\nleak:libpathplan.so\nleak:libgvplugin_\n' >build-fuzz/lsan.supp
export LSAN_OPTIONS="suppressions=$PWD/build-fuzz/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

failed=()
mkdir -p build-fuzz/logs
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t
  findings=build-fuzz/findings/$t
  mkdir -p "$corpus" "$findings"
  seeds=(examples tests/bad)
  if [ "$t" = fuzz_observations ]; then
    seeds=(tests/data)
    [ -d examples/data ] && seeds+=(examples/data)
  fi
  [ -d "fuzz/seeds/$t" ] && seeds+=("fuzz/seeds/$t")
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
  max_len=4096
  if [ "$t" = fuzz_spec ]; then dict=(-dict=fuzz/spec.dict); max_len=16384; fi
  echo "fuzz: $t for ${secs} s (corpus $corpus, findings $findings)" >&2
  before=$(find "$findings" -type f | wc -l)
  # Fork mode with -ignore_*: a finding is recorded and fuzzing goes on for
  # the whole time, so one run reports every problem it meets.
  "build-fuzz/fuzz/$t" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
    -artifact_prefix="$findings/" "${dict[@]}" "$corpus" "${seeds[@]}" >"build-fuzz/logs/$t.log" 2>&1 || true
  found=$(($(find "$findings" -type f | wc -l) - before))
  # The last status line: total executions, coverage, crash/timeout counts.
  echo "fuzz: $t: $(grep -E '^#[0-9]+: cov:' "build-fuzz/logs/$t.log" | tail -1)" >&2
  if ((found > 0)); then
    failed+=("$t")
    echo "fuzz: $t FOUND $found PROBLEM(S): see $findings/ and build-fuzz/logs/$t.log" >&2
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: findings in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: no findings" >&2
