#!/usr/bin/env bash
# cmake --install, then a separate project finds capgraph with
# find_package(capgraph) and evaluates an example through the library.
set -euo pipefail
build=$1; src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -x "$tmp/prefix/bin/capgraph"
cmake -S "$src/tests/install" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
out=$("$tmp/consumer/consumer" "$src/examples/emoji_movie.yaml")
echo "$out"
[[ "$out" == $'emoji_movie P = 0.0628925\nmap: '*$' nodes\nobservations: 1 row(s), 0 error(s)' ]]
