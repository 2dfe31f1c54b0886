#!/usr/bin/env bash
# capgraph quick start on a fresh Debian 12 machine (run as root, or with sudo).
#
#   bash scripts/quickstart.sh demo   install packages, build, run the default example
#   bash scripts/quickstart.sh test   install packages, build, run every test,
#                                     then the whole suite again under ASan + UBSan
#
# Installs only the Debian packages that are missing (apt-get), configures a
# Release build in ./build and builds with every core. `test` then runs
# scripts/sanitize.sh: a second build in ./build-asan (-O1, sanitizers, no
# benchmarks) and ctest there; g++ brings the sanitizer runtimes, so no
# further packages are needed.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-demo}
case "$mode" in demo|test|build) ;; *) echo "usage: $0 demo|test|build" >&2; exit 2 ;; esac

# Build and test dependencies, all Debian 12 packages.
packages=(
  g++ cmake make pkg-config ca-certificates
  libboost-graph-dev libyaml-dev libgraphviz-dev libcli11-dev nlohmann-json3-dev catch2 libnlopt-dev
  python3 python3-jsonschema python3-yaml valgrind
  fonts-dejavu-core chromium librsvg2-bin  # maps: measured font; scripts/check-maps.sh
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "quickstart: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"

case "$mode" in
  demo)
    echo
    ./build/capgraph sweep examples/emoji_movie.yaml
    echo
    ./build/capgraph bottleneck examples/emoji_movie.yaml --task emoji_movie --at 1e10
    ;;
  test)
    ctest --test-dir build --output-on-failure -j"$jobs"
    echo
    echo "quickstart: the same suite under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan)"
    bash scripts/sanitize.sh
    ;;
esac
