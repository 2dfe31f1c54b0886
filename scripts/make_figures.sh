#!/usr/bin/env bash
# Regenerates the README's figures from the bundled examples (run after
# `bash scripts/quickstart.sh build`). Optional: PNG copies with rsvg-convert.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./build/capgraph
$bin render examples/emoji_movie.yaml --at 1e10 --task emoji_movie -o docs/images/emoji_movie_map.svg
$bin plot examples/mirage.yaml --tasks answer_1,answer_5,answer_10 \
  --metrics exact_match,partial_credit,log_likelihood -o docs/images/mirage_curves.svg
$bin plot examples/data_wall.yaml --metrics exact_match,partial_credit -o docs/images/data_wall_curves.svg
# docs/analysis.md: the arithmetic spec fitted to OPT, with OPT's measured scores
# and their 95 % prediction intervals
$bin fit examples/arithmetic_open_models.yaml --data examples/data/arithmetic_open_models.csv --family OPT \
  -o examples/arithmetic_open_models.fitted_opt.yaml --predictions /tmp/capgraph_opt_predictions.csv >/dev/null
$bin plot examples/arithmetic_open_models.fitted_opt.yaml --metrics exact_match \
  --data /tmp/capgraph_opt_predictions.csv \
  --title "Arithmetic (OPT): fitted digit steps" -o docs/images/arithmetic_opt_fit.svg
if command -v rsvg-convert >/dev/null; then
  for f in docs/images/*.svg; do rsvg-convert -w 1400 "$f" -o "/tmp/$(basename "${f%.svg}").png"; done
  echo "PNG previews in /tmp" >&2
fi
# README: the interactive report of the emoji example, emoji_movie selected at 1e10
$bin report examples/emoji_movie.yaml -o /tmp/capgraph_emoji_report.html
node scripts/report_screenshot.mjs /tmp/capgraph_emoji_report.html emoji_movie 1e10 docs/images/emoji_movie_report.png
