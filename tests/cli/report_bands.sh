#!/usr/bin/env bash
# The report's uncertainty bands from a fitted spec (docs/report.md): `fit
# -o` writes the spec's fit block, `report` on that spec embeds bands (and
# not on a spec without one), `--band-draws 0` leaves them out, too few
# draws for a 95 % band is a usage error, and the page is deterministic.
# Run by ctest as: bash tests/cli/report_bands.sh CAPGRAPH_EXE SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

# The page's data: base64 of gzipped JSON inside the capgraph-data element.
data() {
  /usr/bin/python3 -c '
import base64, gzip, re, sys
html = open(sys.argv[1], encoding="utf-8").read()
b64 = re.search(r"data-encoding=\"gzip\+base64\">([^<]*)</script>", html).group(1)
sys.stdout.write(gzip.decompress(base64.b64decode(b64)).decode())' "$1"
}

"$exe" fit examples/arithmetic_open_models.yaml --data examples/data/arithmetic_open_models.csv --family OPT \
  -o "$tmp/fitted.yaml" >/dev/null 2>&1 || fail "fit -o: exit $?"
grep -q '^fit:' "$tmp/fitted.yaml" || fail "fit -o wrote no fit block"
"$exe" check "$tmp/fitted.yaml" >/dev/null || fail "the fitted spec does not check"

"$exe" report "$tmp/fitted.yaml" -o "$tmp/a.html" 2>/dev/null || fail "report: exit $?"
"$exe" report "$tmp/fitted.yaml" -o "$tmp/b.html" 2>/dev/null || fail "report again: exit $?"
cmp -s "$tmp/a.html" "$tmp/b.html" || fail "two reports of the same fitted spec differ"
data "$tmp/a.html" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
b = d["bands"]
assert b["draws"] == 200 and b["level"] == 0.95, b.keys()
for v, band in enumerate(b["p"]):
    lo, hi = band
    for j, p in enumerate(d["looks"][v]["p"]):
        assert lo[j] <= hi[j], (v, j)
widths = [hi[j] - lo[j] for lo, hi in b["p"] for j in range(len(lo))]
assert max(widths) > 0.05, max(widths)
' || fail "the bands are missing or malformed"

"$exe" report "$tmp/fitted.yaml" --band-draws 0 -o "$tmp/none.html" 2>/dev/null || fail "--band-draws 0: exit $?"
data "$tmp/none.html" | grep -q '"bands"' && fail "--band-draws 0 still embeds bands"
"$exe" report examples/arithmetic_open_models.yaml -o "$tmp/plain.html" 2>/dev/null || fail "report: exit $?"
data "$tmp/plain.html" | grep -q '"bands"' && fail "a spec without a fit block got bands"

"$exe" report "$tmp/fitted.yaml" --band-draws 10 -o "$tmp/few.html" 2>"$tmp/err"
status=$?
[ "$status" -eq 2 ] || fail "--band-draws 10: exit $status (expected 2)"
grep -q "too few for a 95% band" "$tmp/err" || fail "--band-draws 10: $(cat "$tmp/err")"
[ -e "$tmp/few.html" ] && fail "--band-draws 10 wrote a file"

finish report_bands
