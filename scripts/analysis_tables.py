#!/usr/bin/python3
"""Regenerates every command output and table that docs/analysis.md shows.

The document marks each generated block:

    <!-- generated: NAME -->
    ...
    <!-- end generated -->

and this script knows, per NAME, the capgraph command that makes it and how
it is shown (the command's text output in a code block, or a Markdown table
built from its JSON). Run from anywhere:

    scripts/analysis_tables.py --write            rewrite the blocks in place
    scripts/analysis_tables.py --check            exit 1 (with a diff) if the
                                                  document differs from the output
    scripts/analysis_tables.py --print NAME       one block on standard output

--capgraph PATH chooses the binary (default build/capgraph). The commands
run in the checkout's top folder, so paths in the outputs are the ones the
document shows. ctest runs --check (docs.analysis_tables), so the document
cannot drift from what capgraph prints.
"""
import argparse
import difflib
import json
import math
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "analysis.md"
SPEC = "examples/arithmetic_open_models.yaml"
ARITH = "examples/data/arithmetic_open_models.csv"
IPA = "examples/data/ipa_transliteration_open_models.csv"
ANU = "tests/data/observations_anu_pythia_acc_brier.csv"
WORDS_SPEC = "examples/word_unscrambling_open_models.yaml"
WORDS = "examples/data/word_unscrambling_open_models.csv"


def run(capgraph, args):
    """stdout of `capgraph ARGS`; a failure stops the script."""
    r = subprocess.run([capgraph] + args, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"analysis_tables: `capgraph {' '.join(args)}` exited {r.returncode}:\n{r.stderr}")
    return r.stdout


def code(text):
    return "```\n" + text.rstrip("\n") + "\n```"


def short(v, digits=3):
    """A number as the tables print it (3 significant digits)."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:.{digits}g}"


def pct(a, b):
    return f"{100.0 * a / b:.3g} %" if b else "n/a"


def offsets_table(capgraph):
    j = json.loads(run(capgraph, ["fit", SPEC, "--data", ARITH, "--pool", "--format", "json"]))
    offs = j["offsets"]
    ref = offs[0]["family"]
    lines = [
        f"| family | rows | log10 offset (SE) | scores like {ref} at | 95 % interval |",
        "|---|---|---|---|---|",
    ]
    for o in offs:
        if o["reference"]:
            lines.append(f"| {o['family']} | {o['rows']} | 0 (reference) | 1x its size | |")
        else:
            lines.append(
                f"| {o['family']} | {o['rows']} | {short(o['log10_offset'])} ({short(o['se'])}) "
                f"| {short(o['multiplier'])}x its size | [{short(o['low'])}, {short(o['high'])}] |"
            )
    return "\n".join(lines)


def backtest_json(capgraph, pool, spec=SPEC, data=ARITH):
    args = ["fit", spec, "--data", data, "--backtest", "--format", "json"] + (["--pool"] if pool else [])
    return json.loads(run(capgraph, args))


def goals(capgraph):
    """The goals of issue 23, as measured, beside the goal."""
    lines = ["| measure | goal | arithmetic, `--backtest --pool` | arithmetic, `--backtest` (one family per fit) "
             "| word unscrambling, `--backtest --pool` |", "|---|---|---|---|---|"]
    p, s = backtest_json(capgraph, True)["totals"], backtest_json(capgraph, False)["totals"]
    w = backtest_json(capgraph, True, WORDS_SPEC, WORDS)["totals"]

    def row(name, goal, f):
        lines.append(f"| {name} | {goal} | {f(p)} | {f(s)} | {f(w)} |")

    row("held-out points inside their 95 % prediction interval", "90-97 %",
        lambda t: f"{t['inside']}/{t['points']} = {pct(t['inside'], t['points'])}"
        + (f" ({t['no_interval']} without an interval)" if t["no_interval"] else ""))
    row("backtests where the graph's MAE <= the logistic's", ">= 70 %",
        lambda t: f"{t['graph_le_logistic']}/{t['backtests']} = {pct(t['graph_le_logistic'], t['backtests'])}")
    row("backtests where the graph's MAE < the flat forecast's", ">= 90 %",
        lambda t: f"{t['graph_lt_flat']}/{t['backtests']} = {pct(t['graph_lt_flat'], t['backtests'])}")
    row("backtests without a graph forecast (fit not a result; counted as losses)", "",
        lambda t: f"{t['no_forecast']}/{t['backtests']}")
    row("mean MAE: graph (with a forecast) / logistic / flat", "",
        lambda t: f"{short(t['mean_mae_graph'])} / {short(t['mean_mae_logistic'])} / {short(t['mean_mae_flat'])}")
    return "\n".join(lines)


def blocks(capgraph):
    """NAME -> a function making the block's text."""
    fit = ["fit", SPEC, "--data", ARITH]
    b = {
        "analyze-ipa": lambda: code(run(capgraph, ["analyze", IPA, "--family", "OPT", "--family", "Pythia"])),
        "analyze-anu": lambda: code(run(capgraph, ["analyze", ANU])),
        "fit-opt": lambda: code(run(capgraph, fit + ["--family", "OPT"])),
        "pool-fit": lambda: code(run(capgraph, fit + ["--pool"])),
        "pool-offsets": lambda: offsets_table(capgraph),
        "backtest-pool": lambda: code(run(capgraph, fit + ["--backtest", "--pool"])),
        "backtest-single": lambda: code(run(capgraph, fit + ["--backtest"])),
        "backtest-words": lambda: code(run(capgraph, ["fit", WORDS_SPEC, "--data", WORDS, "--backtest", "--pool"])),
        "goals": lambda: goals(capgraph),
    }
    for fam, cut in (("OPT", "1e10"), ("Pythia", "1e10"), ("GPT-Neo/J", "1e10")):
        key = "train-below-" + re.sub(r"[^a-z]", "", fam.lower())
        b[key] = (lambda f=fam, c=cut: code(run(capgraph, fit + ["--family", f, "--train-below", c])))
    return b


MARK = re.compile(r"<!-- generated: ([a-z0-9-]+) -->\n(.*?)<!-- end generated -->", re.S)


def regenerate(text, makers):
    seen = set()

    def sub(m):
        name = m.group(1)
        if name not in makers:
            sys.exit(f"analysis_tables: docs/analysis.md: unknown generated block `{name}`")
        seen.add(name)
        return f"<!-- generated: {name} -->\n{makers[name]()}\n<!-- end generated -->"

    out = MARK.sub(sub, text)
    missing = sorted(set(makers) - seen)
    if missing:
        sys.exit("analysis_tables: docs/analysis.md lacks the block(s) " + ", ".join(missing))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--capgraph", default=str(ROOT / "build" / "capgraph"))
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--check", action="store_true")
    g.add_argument("--write", action="store_true")
    g.add_argument("--print", metavar="NAME")
    a = ap.parse_args()
    makers = blocks(a.capgraph)
    if a.print:
        if a.print not in makers:
            sys.exit(f"analysis_tables: no block `{a.print}`; blocks: {', '.join(sorted(makers))}")
        print(makers[a.print]())
        return 0
    text = DOC.read_text(encoding="utf-8")
    new = regenerate(text, makers)
    if a.write:
        if new != text:
            DOC.write_text(new, encoding="utf-8")
        return 0
    if new != text:
        sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True),
                                                   "docs/analysis.md", "regenerated"))
        print("analysis_tables: docs/analysis.md differs from capgraph's output; "
              "run scripts/analysis_tables.py --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
