#!/usr/bin/python3
"""Improvement potential as a researcher would compute it with NumPy, to time
and check `capgraph bottleneck` against.

IP_i = P_T with P_i set to 1, minus P_T (docs/measures.md §6). The NumPy way is
brute force, vectorised: evaluate T's cone once with one column per
"what if" (column 0 as it is, column j with prerequisite i_j forced to
P = 1), using peer_numpy.evaluate (plain probabilities, networkx order).
Every prerequisite at once would need (cone size)^2 numbers (10^10 on a
100,000-node cone), so this takes a sample of --sample prerequisites, every
k-th row of capgraph's CSV, and extrapolates the time per prerequisite.

It also compares the sample with capgraph's values: they must agree to
--rel relative, or to 1e-12 P_T absolute where the difference is that
small (the peer subtracts two plain doubles near P_T).

  capgraph bottleneck SPEC --task T --at X --format csv -o cg.csv
  /usr/bin/python3 bench/peer_bottleneck.py SPEC --task T --at X --capgraph-csv cg.csv

Prints one JSON object; exit status 1 when a sampled value disagrees.
"""

import argparse
import csv
import json
import os
import sys
import time

import networkx as nx
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_numpy  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec")
    ap.add_argument("--task", required=True)
    ap.add_argument("--at", type=float, required=True)
    ap.add_argument("--capgraph-csv", required=True, help="capgraph bottleneck --format csv output")
    ap.add_argument("--sample", type=int, default=500, help="prerequisites evaluated (default 500)")
    ap.add_argument("--rel", type=float, default=1e-9)
    a = ap.parse_args()

    with open(a.capgraph_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise SystemExit("peer_bottleneck: no prerequisites in " + a.capgraph_csv)
    step = max(1, len(rows) // max(1, a.sample))
    sample = rows[::step][: a.sample]

    t0 = time.perf_counter()
    spec = peer_numpy.load(a.spec)
    t1 = time.perf_counter()
    G, _ = peer_numpy.build_graph(spec)
    cone = nx.ancestors(G, a.task) | {a.task}
    order = [v for v in nx.topological_sort(G.subgraph(cone))]
    t2 = time.perf_counter()
    xs = np.full(len(sample) + 1, a.at)
    force = {r["node"]: [j + 1] for j, r in enumerate(sample)}
    with np.errstate(divide="ignore"):  # log1p(-1) = -inf where a P is forced to 1: intended
        P, _, _ = peer_numpy.evaluate(spec, order, xs, force)
    t3 = time.perf_counter()

    pt = float(P[a.task][0])
    ip = np.maximum(P[a.task][1:] - pt, 0.0)
    worst_rel, worst_abs, bad = 0.0, 0.0, []
    for r, want in zip(sample, ip):
        got = float(r["improvement_potential"])
        diff = abs(got - want)
        worst_abs = max(worst_abs, diff)
        if want > 1e-6 * pt:  # below that the peer's own rounding (1e-16 P_T) dominates
            worst_rel = max(worst_rel, diff / want)
        if diff > max(a.rel * want, 1e-12 * pt):
            bad.append({"node": r["node"], "capgraph": got, "peer": float(want)})

    eval_s = t3 - t2
    per = eval_s / len(sample)
    out = {
        "task": a.task, "at": a.at, "cone_nodes": len(cone), "prerequisites": len(rows),
        "sample": len(sample), "p_task": pt,
        "load_s": round(t1 - t0, 3), "graph_s": round(t2 - t1, 3), "eval_s": round(eval_s, 3),
        "per_prerequisite_s": per, "extrapolated_all_s": round(per * len(rows), 1),
        "max_abs_err": worst_abs, "max_rel_err": worst_rel, "mismatches": bad[:10], "mismatch_count": len(bad),
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
