# tests/cli/lib.sh — what every shell test of the command line starts with.
# Sourced as: source "$(dirname "$0")/lib.sh" "$@" ; with the arguments
# ctest passes: CAPGRAPH_EXE SOURCE_DIR. Sets exe, tmp (a scratch folder,
# removed on exit) and fails; `fail MESSAGE` counts a failure; `finish NAME`
# reports and exits 1 if anything failed.
set -u
exe=$1
cd "$2" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

finish() {
  if [ "$fails" -ne 0 ]; then
    echo "$fails $1 check(s) failed"
    exit 1
  fi
  echo "$1: all checks passed"
}
