#!/usr/bin/env bash
# Renders every example map and measures it in headless Chromium and with
# rsvg-convert: labels outside their shape, overlapping shapes, aspect, the
# smallest label fitted to a 16 x 24 cm page (scripts/check_maps.py says how).
#
#   bash scripts/check-maps.sh [BUILD_DIR] [--strict] [--out DIR]
#
# Prints a Markdown table (docs/maps.md holds the current one). Exit 77 when
# chromium is not installed (ctest reports the test as skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then build=$1; shift; fi
exec python3 scripts/check_maps.py "$build/capgraph" "$@"
