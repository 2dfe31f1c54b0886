#!/usr/bin/env bash
# cmake --install, then MOVE the installed tree to another prefix; a separate
# project finds capgraph there with find_package(capgraph) and evaluates an
# example through each library, and the moved command line draws a map.
# Also checks that nothing installed names the build tree, the source tree or
# the first prefix, that the command has no RPATH, and that the installed
# headers need only <prefix>/include on the include path.
set -euo pipefail
build=$(cd "$1" && pwd); src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
first="$tmp/first/prefix"
cmake --install "$build" --prefix "$first" >/dev/null
test -x "$first/bin/capgraph"
test -f "$first/include/capgraph/graph/evaluation.hpp"
test -f "$first/include/capgraph/text/number_format.hpp"
# only capgraph/ under include/: no top-level graph/ or specs/ folders
[[ "$(ls "$first/include")" == capgraph ]] || { echo "include/ holds: $(ls "$first/include")" >&2; exit 1; }

# Every quoted include in an installed header names a file relative to it.
while IFS= read -r h; do
  while IFS= read -r inc; do
    [ -f "$(dirname "$h")/$inc" ] || { echo "${h#"$first/"}: #include \"$inc\" is not relative to the header" >&2; exit 1; }
  done < <(sed -n 's/^#include "\(.*\)".*/\1/p' "$h")
done < <(find "$first/include" -name '*.hpp')

# No absolute path into the build, the source or the install prefix, and none
# to Graphviz's plugins (they are found at run time).
if grep -rIn -e "$build" -e "$src" -e "$tmp" -e "gvplugin" "$first/lib" "$first/share"; then
  echo "an installed file names a path of the machine it was built on" >&2
  exit 1
fi
if readelf -d "$first/bin/capgraph" | grep -E 'RPATH|RUNPATH'; then
  echo "the installed command has an RPATH" >&2
  exit 1
fi

# Move the install; use only the moved copy from here on.
mkdir -p "$tmp/moved"
mv "$first" "$tmp/moved/prefix"
rmdir "$tmp/first"
prefix="$tmp/moved/prefix"
test ! -e "$first"

cmake -S "$src/tests/install" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
grep -q "$prefix/include" "$tmp/consumer/CMakeFiles/consumer.dir/flags.make"
! grep -q "$prefix/include/capgraph" "$tmp/consumer/CMakeFiles/consumer.dir/flags.make"
out=$("$tmp/consumer/consumer" "$src/examples/emoji_movie.yaml")
echo "$out"
[[ "$out" == $'emoji_movie P = 0.0628925\nmap: '*$' nodes\nobservations: 1 row(s), 0 error(s)' ]]

# The moved command line: an SVG map (Graphviz plugins found at run time).
"$prefix/bin/capgraph" render "$src/examples/emoji_movie.yaml" --at 1e10 -o "$tmp/map.svg"
grep -q '<svg' "$tmp/map.svg"
echo "moved install: consumer and command line work"
