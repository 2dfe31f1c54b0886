#!/usr/bin/env python3
"""Every CSV and JSON the CLI writes, checked as a user's pandas would read it.

- CSV: every command and CSV-writing option set parses with pandas into one
  table (one header, no repeated header line), with unique values of the
  command's key columns (declared below), and the same columns whatever the
  options (all the runs of one command against its first).
- JSON: every command's JSON validates against its documented shape,
  tests/json/<command>.schema.json (docs/json.md), which forbids keys it
  does not list.
- analyze: the same observations with the rows shuffled give byte-identical
  output in every format.

Usage: test_outputs.py CAPGRAPH_EXE [PROJECT_SOURCE_DIR]
Exit status 0 on success, 1 on a failed check (each failure printed).
"""

import io
import json
import pathlib
import random
import subprocess
import sys
import tempfile

import jsonschema
import pandas as pd

EXE = sys.argv[1] if len(sys.argv) > 1 else "build/capgraph"
SRC = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else pathlib.Path(__file__).resolve().parents[1])
EMOJI = "examples/emoji_movie.yaml"
ARITH = "examples/data/arithmetic_open_models.csv"
IPA = "examples/data/ipa_transliteration_open_models.csv"
FIT_SPEC = "examples/arithmetic_open_models.yaml"

# command -> (key columns, [argument lists of its CSV runs])
CSV_RUNS = {
    "eval": (["node", "at", "metric"], [
        ["eval", EMOJI, "--at", "1e10"],
        ["eval", EMOJI, "--at", "1e9,70B", "--at", "1.5T"],
        ["eval", EMOJI, "--at", "1e10", "--nodes", "emoji_movie,movie_facts"],
        ["eval", EMOJI, "--at", "1e10,3e11", "--monte-carlo", "200"],
        ["eval", "examples/multistep_arithmetic.yaml", "--at", "3e10"],
        ["eval", "examples/data_wall.yaml", "--at", "1e24,1e27"],
        ["eval", "examples/fault_tree_lift.yaml", "--at", "1e10"],
        ["eval", "examples/mirage.yaml", "--at", "1e9,1e11"],
        # exact evaluation refused as too costly: the Monte Carlo rows alone
        ["eval", "examples/fault_tree_three_motor.yaml", "--at", "1e9,1e10", "--max-shared-work", "1",
         "--monte-carlo", "100"],
    ]),
    "sweep": (["task", "metric", "at"], [
        ["sweep", EMOJI],
        ["sweep", EMOJI, "--from", "300M", "--to", "1.5T", "--points", "7"],
        ["sweep", EMOJI, "--points", "5", "--monte-carlo", "100"],
        ["sweep", "examples/multistep_arithmetic.yaml", "--tasks", "add_2digit,chain_5"],
        ["sweep", "examples/data_wall.yaml"],
    ]),
    "sweep --summary": (["task", "metric"], [
        ["sweep", EMOJI, "--summary"],
        ["sweep", "examples/mirage.yaml", "--summary", "--points", "3"],
        ["sweep", "examples/multistep_arithmetic.yaml", "--summary"],
    ]),
    "bottleneck": (["at", "rank"], [
        ["bottleneck", EMOJI, "--task", "emoji_movie", "--at", "1e10"],
        ["bottleneck", EMOJI, "--task", "emoji_movie", "--at", "1e9,10B", "--at", "1e11"],
        ["bottleneck", EMOJI, "--task", "emoji_movie", "--at", "1e10", "--skills", "--by", "drive", "--top", "2"],
        ["bottleneck", EMOJI, "--task", "emoji_movie", "--at", "1e10,1e11", "--monte-carlo", "200"],
    ]),
    "bottleneck --over": (["from"], [
        ["bottleneck", EMOJI, "--task", "emoji_movie", "--over"],
        ["bottleneck", EMOJI, "--task", "emoji_movie", "--over", "--skills", "--from", "1e8", "--to", "1T"],
    ]),
    "analyze": (["task", "family", "metric"], [
        ["analyze", ARITH],
        ["analyze", IPA],
        ["analyze", ARITH, "--axis", "compute", "--family", "Pythia"],
        ["analyze", ARITH, "--task", "arithmetic_2_digit_addition", "--threshold", "0.2"],
    ]),
    "budget": ([], [
        ["budget", "--params", "70B"],
        ["budget", "--params", "1e14", "--check-bytes", "180e15"],
        ["budget", "--compute", "1e24"],
        ["budget", "--compute", "1e24", "--tokens-per-param", "20", "--data-limit", "1T"],
        ["budget", "--compute", "1e26", "--law", "epoch2024"],
    ]),
    # fit writes each table to its own file (here standard output, `-`)
    "fit --params": (["skill", "parameter"], [
        ["fit", FIT_SPEC, "--data", ARITH, "--family", "OPT", "--params", "-"],
        ["fit", FIT_SPEC, "--data", ARITH, "--family", "Pythia", "--train-below", "1e10", "--params", "-"],
    ]),
    "fit --predictions": (["line"], [
        ["fit", FIT_SPEC, "--data", ARITH, "--family", "OPT", "--train-below", "1e10", "--predictions", "-"],
        ["fit", FIT_SPEC, "--data", ARITH, "--pool", "--predictions", "-"],
    ]),
    "fit --crossings": (["task", "metric"], [
        ["fit", FIT_SPEC, "--data", ARITH, "--family", "OPT", "--crossings", "-"],
    ]),
    "fit --offsets": (["family"], [
        ["fit", FIT_SPEC, "--data", ARITH, "--pool", "--offsets", "-"],
    ]),
    "fit --backtest": (["family", "task", "metric"], [
        ["fit", FIT_SPEC, "--data", ARITH, "--pool", "--backtest"],
        ["fit", FIT_SPEC, "--data", ARITH, "--backtest"],
    ]),
}

# schema -> [argument lists of its JSON runs]
JSON_RUNS = {
    "eval": CSV_RUNS["eval"][1],
    "sweep": CSV_RUNS["sweep"][1] + [["sweep", "examples/mirage.yaml", "--points", "3"]],
    "bottleneck": CSV_RUNS["bottleneck"][1],
    "bottleneck_over": CSV_RUNS["bottleneck --over"][1],
    "analyze": CSV_RUNS["analyze"][1],
    "budget": CSV_RUNS["budget"][1],
    "fit": [["fit", FIT_SPEC, "--data", ARITH, "--family", "OPT"],
            ["fit", FIT_SPEC, "--data", ARITH, "--family", "OPT", "--train-below", "1e10"],
            ["fit", FIT_SPEC, "--data", ARITH, "--pool", "--family", "Pythia", "--train-below", "1e10"]],
    "fit_backtest": CSV_RUNS["fit --backtest"][1],
}

failures = []


def fail(what, msg):
    failures.append(f"{' '.join(what)}: {msg}")


def run(args, code=0):
    r = subprocess.run([EXE, *args], cwd=SRC, capture_output=True)
    if r.returncode != code:
        fail(args, f"exit {r.returncode}: {r.stderr.decode()[:500]}")
        return None
    return r.stdout


def check_csv(command, keys, runs):
    columns = None
    for args in runs:
        out = run([*args, "--format", "csv"])
        if out is None:
            continue
        text = out.decode("utf-8")
        lines = text.splitlines()
        if not lines:
            fail(args, "empty CSV")
            continue
        if lines.count(lines[0]) != 1:
            fail(args, "the header line appears again below")
        df = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])
        if len(df) == 0:
            fail(args, "no rows")
        missing = [k for k in keys if k not in df.columns]
        if missing:
            fail(args, f"key columns {missing} missing from {list(df.columns)}")
            continue
        dup = df[df.duplicated(keys, keep=False)] if keys else df.iloc[1:]
        if len(dup):
            fail(args, f"{len(dup)} rows repeat a key {keys}:\n{dup.head(6).to_string()}")
        if columns is None:
            columns = list(df.columns)
        elif list(df.columns) != columns:
            fail(args, f"columns {list(df.columns)} differ from {columns} of the first {command} run")


def check_json(schema_name, runs):
    schema = json.loads((SRC / "tests" / "json" / f"{schema_name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for args in runs:
        out = run([*args, "--format", "json"])
        if out is None:
            continue
        doc = json.loads(out)
        for e in validator.iter_errors(doc):
            fail(args, f"JSON at /{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}")


def check_analyze_shuffled():
    """Rows in any order: byte-identical output (ties averaged, series sorted)."""
    lines = (SRC / ARITH).read_text().splitlines()
    head, rows = lines[0], lines[1:]
    # Two models of one family at one scale, listed in either order.
    rows += ["arithmetic_2_digit_addition,Pythia,1e+09,2,acc(exact answer),0.031,tied/model-a,1.8e+21",
             "arithmetic_2_digit_addition,Pythia,1.2e+10,2,acc(exact answer),0.7,tied/model-b,2.16e+22"]
    outs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(4):
            rs = list(rows)
            random.Random(seed).shuffle(rs)
            path = pathlib.Path(tmp) / f"obs{seed}.csv"
            path.write_text("\n".join([head, *rs]) + "\n")
            for fmt in ("table", "csv", "json"):
                # Through standard input, so that the file name (in the JSON) is the same.
                r = subprocess.run([EXE, "analyze", "-", "--format", fmt], cwd=SRC, capture_output=True,
                                   stdin=path.open("rb"))
                if r.returncode != 0:
                    fail(["analyze", str(path)], r.stderr.decode())
                    continue
                outs.setdefault(fmt, set()).add(r.stdout)
    for fmt, got in outs.items():
        if len(got) != 1:
            fail(["analyze", "--format", fmt], f"shuffled rows give {len(got)} different outputs")
    if "csv" not in outs or "json" not in outs:
        return
    csv = pd.read_csv(io.BytesIO(next(iter(outs["csv"]))), keep_default_na=False, na_values=[""])
    if not {"points", "rows", "note"} <= set(csv.columns):
        fail(["analyze", "--format", "csv"], f"no points, rows and note columns in {list(csv.columns)}")
        return
    s = csv[(csv.task == "arithmetic_2_digit_addition") & (csv.family == "Pythia")].iloc[0]
    if not (s["points"] == 8 and s["rows"] == 10 and "2 scales with several models" in s["note"]):
        fail(["analyze", "ties"], f"points {s['points']}, rows {s['rows']}, note {s['note']!r}")
    # 1e9: (0.0165 + 0.031) / 2 is the series' 4th value (7e7, 1.6e8, 4.1e8, 1e9, ...)
    js = json.loads(next(iter(outs["json"])))
    ser = [x for x in js["series"] if x["task"] == "arithmetic_2_digit_addition" and x["family"] == "Pythia"][0]
    if "at" not in ser:
        fail(["analyze", "--format", "json"], "no `at` in a series")
    elif ser["at"][3] != 1e9 or ser["value"][3] != (0.0165 + 0.031) / 2 or ser["value"][7] != (0.446 + 0.7) / 2:
        fail(["analyze", "ties"], f"averaged values {ser['at']} {ser['value']}")


for command, (keys, runs) in CSV_RUNS.items():
    check_csv(command, keys, runs)
for name, runs in JSON_RUNS.items():
    check_json(name, runs)
check_analyze_shuffled()

for f in failures:
    print("FAIL:", f)
print(f"{len(failures)} failure(s)" if failures else "ok: every CSV is one table with unique keys; every JSON has its shape")
sys.exit(1 if failures else 0)
