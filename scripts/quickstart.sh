#!/usr/bin/env bash
# capgraph quick start on a fresh Debian 12 machine (run as root, or with sudo).
#
#   bash scripts/quickstart.sh demo   install packages, build, install the Python
#                                     package, run the default example and write its report
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
  libboost-graph-dev libyaml-dev libyaml-cpp-dev libgraphviz-dev libcli11-dev nlohmann-json3-dev catch2 libnlopt-dev
  python3 python3-jsonschema python3-yaml valgrind
  python3-dev pybind11-dev python3-pybind11 python3-numpy python3-pandas python3-pytest python3-matplotlib
  zlib1g-dev librsvg2-dev fonts-dejavu-core chromium nodejs librsvg2-bin  # report, maps, plots (PNG/PDF); their browser tests
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
# The Python package is built for Debian's interpreter, where apt puts numpy
# and pandas (not for another python3 that may come first on PATH).
# Repeated builds come from ccache where it is installed (it is optional);
# a launcher given in the environment (CMAKE_CXX_COMPILER_LAUNCHER) wins.
launcher=()
if [ -z "${CMAKE_CXX_COMPILER_LAUNCHER:-}" ] && command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE=/usr/bin/python3 "${launcher[@]}" >/dev/null
cmake --build build -j"$jobs"
# Installs the package `capgraph` into /usr/bin/python3's dist-packages
# (/usr/local/lib/python3.X/dist-packages), so that `python3 -c "import
# capgraph"` works from anywhere (docs/python.md).
if compgen -G 'build/python/capgraph/_core*.so' >/dev/null; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO cmake --install build --component python >/dev/null
fi

case "$mode" in
  demo)
    echo
    ./build/capgraph sweep examples/emoji_movie.yaml
    echo
    ./build/capgraph bottleneck examples/emoji_movie.yaml --task emoji_movie --at 1e10
    echo
    /usr/bin/python3 -c "import capgraph; print(capgraph.load('examples/emoji_movie.yaml').bottleneck('emoji_movie', at=1e10))"
    ./build/capgraph render examples/emoji_movie.yaml --at 1e10 --task emoji_movie -o build/emoji_movie_map.svg
    ./build/capgraph report examples/emoji_movie.yaml -o build/emoji_movie_report.html
    echo
    echo "quickstart: open build/emoji_movie_report.html in a browser: the map at every scale (move the slider),"
    echo "            click a node for its curves and bottlenecks. The static map at 1e10: build/emoji_movie_map.svg"
    ;;
  test)
    ctest --test-dir build --output-on-failure -j"$jobs"
    echo
    echo "quickstart: the same suite under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan)"
    bash scripts/sanitize.sh
    ;;
esac
