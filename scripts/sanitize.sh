#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer,
# in a second build directory (build-asan). `bash scripts/quickstart.sh test`
# (and so CI) runs it after the Release suite.
#
# Kept fast enough for CI: -O1 (ASan's recommended level: full reports,
# a third of -O2's compile time here), no benchmarks, and ctest skips the
# valgrind and install tests and the whole-binary Catch2 run in this build
# (tests/CMakeLists.txt). Leak checking is left to the valgrind test of the
# map renderer (Graphviz 2.42 leaks by design in places). Assertions stay on (no NDEBUG).
# Needs only the quick start's packages (g++ has ASan/UBSan built in).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
# The Python tests read pandas and jsonschema from Debian's interpreter, as
# the Release build's do (quickstart.sh), not from a python3 earlier on PATH.
python=()
[ -x /usr/bin/python3 ] && python=(-DPython3_EXECUTABLE=/usr/bin/python3)
# Repeated builds come from ccache where it is installed (it is optional);
# a launcher given in the environment (CMAKE_CXX_COMPILER_LAUNCHER) wins.
launcher=()
if [ -z "${CMAKE_CXX_COMPILER_LAUNCHER:-}" ] && command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g" \
  -DCAPGRAPH_SANITIZE=ON -DCAPGRAPH_BUILD_BENCH=OFF "${python[@]}" "${launcher[@]}" >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"
