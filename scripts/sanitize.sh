#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer,
# in a second build directory (build-asan). Leak checking is left to the
# valgrind test of the map renderer (Graphviz 2.42 leaks by design in places).
# About 10 minutes on 2 cores. Run after `bash scripts/quickstart.sh build`.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAPGRAPH_SANITIZE=ON -DCAPGRAPH_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build-asan --output-on-failure -j"$jobs"
