#!/usr/bin/python3
"""The capgraph evaluation as a careful researcher would write it in Python.

PyYAML (CSafeLoader when libyaml is there, Debian's python3-yaml) reads the
spec, networkx builds the DiGraph (edge prerequisite -> task) and gives a
topological order, and NumPy evaluates every node over all scale points at
once (one vector of m points per node), in plain probability space, following
docs/measures.md §2 and §3:

  leaf      floor + (ceiling - floor) * p(x)      (the five curve families)
  all       prod P_i ** n_i
  any       1 - prod (1 - P_i) ** n_i     (as -expm1(sum n_i log1p(-P_i)))
  at_least  Poisson-binomial DP over the multiset of uses, P = sum_{j>=k} dist_j
  best_of   1 - (1 - P) ** n              (as -expm1(n log1p(-P)))
  mean      sum w_i P_i / sum w_i
  guess     g + (1 - g) * P
  partial credit of `all` nodes under tasks that report it (default metrics
  include it): sum n_i s_i PC_i / sum n_i s_i, then the guess floor.

A careful researcher uses log1p/expm1 for 1 - (1 - P)^n (the naive form
loses all digits of a P below about 1e-16: measured, up to 3% error at
P = 4e-16), but the P themselves are plain doubles. This is deliberately NOT
log space: it is the baseline capgraph is measured
against, and it underflows to P == 0.0 on deep `all` chains where capgraph's
ln P stays finite. `underflow_nodes` counts the nodes whose P is exactly 0 at
some point although the true P is positive (structurally: no constant-0 leaf
forces it); with --check it is taken from capgraph's own ln P instead.

Prints one JSON object: load_s (YAML), graph_s (networkx + topological sort),
eval_s (NumPy), points, nodes, uses, underflow_nodes, underflow_points, ...

  /usr/bin/python3 bench/peer_numpy.py SPEC --points 1000
  /usr/bin/python3 bench/peer_numpy.py SPEC --check dump.csv    # bench_eval --dump dump.csv
  /usr/bin/python3 bench/peer_numpy.py SPEC --check-sweep sweep.csv  # capgraph sweep --format csv

Skills declared `shared: true` (docs/measures.md §4) are treated like any other
skill (every use independent): the checks skip nodes with a shared skill in
their cone. --check compares P (and partial credit where present) with a CSV of ln P
written by `bench_eval --dump` (columns node,j,x,log_p[,partial_credit]),
using the same scale points; the numbers must agree to a relative 1e-9
wherever the peer's P is a normal double. Exit status 1 if they do not.
"""

import argparse
import csv
import json
import math
import sys
import time

import networkx as nx
import numpy as np
import yaml

try:
    Loader = yaml.CSafeLoader
    LOADER_NAME = "CSafeLoader"
except AttributeError:  # PyYAML without libyaml
    Loader = yaml.SafeLoader
    LOADER_NAME = "SafeLoader"

LAWS = {
    "chinchilla": dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28),
    "epoch2024": dict(E=1.81686, A=482.006, B=2085.434, alpha=0.34781, beta=0.36585),
}
GATES = ("all", "any", "at_least", "mean", "best_of")
TINY = sys.float_info.min  # smallest normal double
DEFAULT_METRICS = ["exact_match", "partial_credit", "log_likelihood"]


def f(x):
    # PyYAML follows YAML 1.1: `1e8` (no dot) is a string there, so coerce.
    return float(x)


def ref(r):
    """`id` or {id: n} -> (id, n)."""
    if isinstance(r, dict):
        (k, v), = r.items()
        return str(k), f(v)
    return str(r), 1.0


def log_spaced(a, b, n):
    """The same points as capgraph's ScaleAxis::log_spaced."""
    if n == 1:
        return np.array([a])
    l0, l1 = math.log10(a), math.log10(b)
    xs = [10.0 ** (l0 + (l1 - l0) * i / (n - 1)) for i in range(n)]
    xs[0], xs[-1] = a, b
    return np.array(xs)


def scale_points(scale, xs):
    """(N, D) arrays for axis values xs (docs/measures.md §1, scale axis)."""
    law = scale.get("law", "chinchilla")
    L = LAWS[law] if isinstance(law, str) else {k: f(v) for k, v in law.items()}
    tpp = f(scale.get("tokens_per_param", 20))
    limit = scale.get("data_limit")
    if scale.get("axis", "params") == "params":
        N = xs.copy()
        D = tpp * N
        if limit is not None:
            D = np.minimum(D, f(limit))
    else:
        s = L["alpha"] + L["beta"]
        a, b = L["beta"] / s, L["alpha"] / s
        G = (L["alpha"] * L["A"] / (L["beta"] * L["B"])) ** (1.0 / s)
        c6 = xs / 6.0
        N = G * c6 ** a
        D = c6 ** b / G
        if limit is not None:
            lim = f(limit)
            over = D > lim
            D = np.where(over, lim, D)
            N = np.where(over, xs / (6.0 * lim), N)
    return N, D, L


def leaf_p(skill, N, D, L):
    (kind, c), = skill["curve"].items()
    if kind == "logistic":
        p = 1.0 / (1.0 + np.exp(-f(c["slope"]) * (np.log10(N) - math.log10(f(c["mid"])))))
    elif kind == "power_law":
        p = np.exp(-(N / f(c["c"])) ** (-f(c["alpha"])))
    elif kind == "chinchilla":
        p = np.exp(-f(c["weight"]) * (L["A"] / N ** L["alpha"] + L["B"] / D ** L["beta"]))
    elif kind == "points":
        kn = np.array([[f(a), f(b)] for a, b in c])
        kx = np.log10(kn[:, 0])
        kz = np.log(kn[:, 1] / (1.0 - kn[:, 1]))
        p = 1.0 / (1.0 + np.exp(-np.interp(np.log10(N), kx, kz)))
    elif kind == "constant":
        p = np.full(N.shape, f(c))
    else:
        raise ValueError("unknown curve " + kind)
    lo, hi = f(skill.get("floor", 0.0)), f(skill.get("ceiling", 1.0))
    if lo != 0.0 or hi != 1.0:
        p = lo + (hi - lo) * p
    return p


def gate_of(task):
    for g in GATES:
        if g in task:
            return g
    raise ValueError("task without a gate")


def uses_of(task, gate):
    if gate == "at_least":
        return [ref(r) for r in task["at_least"]["of"]]
    if gate == "best_of":
        return [ref(task["best_of"]["of"])]
    return [ref(r) for r in task[gate]]


def load(path):
    with open(path, "rb") as fh:
        return yaml.load(fh, Loader=Loader)


def build_graph(spec):
    skills = spec.get("skills") or {}
    tasks = spec.get("tasks") or {}
    G = nx.DiGraph()
    G.add_nodes_from(skills)
    G.add_nodes_from(tasks)
    for t, body in tasks.items():
        for c, _ in uses_of(body, gate_of(body)):
            G.add_edge(c, t)
    order = list(nx.topological_sort(G))
    return G, order


def evaluate(spec, order, xs, force=None):
    """P (and partial credit) of every node over the points xs. force maps a
    node id to the point indices where its P is set to 1 (the bottleneck
    peer's "what if P_i were 1" columns)."""
    skills = spec.get("skills") or {}
    tasks = spec.get("tasks") or {}
    N, D, L = scale_points(spec.get("scale") or {}, xs)
    m = len(xs)
    P = {}
    steps = {}
    for v in order:
        if v in skills:
            P[v] = leaf_p(skills[v], N, D, L)
            if force and v in force:
                P[v] = np.array(P[v], dtype=float)  # a writable copy
                P[v][force[v]] = 1.0
            steps[v] = 1.0
            continue
        t = tasks[v]
        g = gate_of(t)
        us = uses_of(t, g)
        if g == "all":
            p = np.ones(m)
            for c, n in us:
                p *= P[c] if n == 1.0 else P[c] ** n
            steps[v] = sum(n * steps[c] for c, n in us)
        elif g == "any":
            # 1 - prod (1 - P_i)^n_i, written with log1p/expm1 so that small P
            # keep their digits (the naive 1 - q cancels below about 1e-8)
            lq = np.zeros(m)
            for c, n in us:
                lq += n * np.log1p(-P[c])
            p = -np.expm1(lq)
            steps[v] = 1.0
        elif g == "at_least":
            k = int(t["at_least"]["k"])
            total = int(sum(n for _, n in us))
            dist = np.zeros((total + 1, m))
            dist[0] = 1.0
            for c, n in us:
                pc = P[c]
                qc = 1.0 - pc
                for _ in range(int(n)):
                    dist[1:] = dist[1:] * qc + dist[:-1] * pc
                    dist[0] *= qc
            p = dist[k:].sum(axis=0)
            steps[v] = 1.0
        elif g == "best_of":
            c, _ = us[0]
            p = -np.expm1(f(t["best_of"]["n"]) * np.log1p(-P[c]))
            steps[v] = 1.0
        else:  # mean
            wsum = sum(n for _, n in us)
            p = np.zeros(m)
            for c, n in us:
                p += n * P[c]
            p /= wsum
            steps[v] = 1.0
        guess = f(t.get("guess", 0.0))
        if guess > 0:
            p = guess + (1.0 - guess) * p
        P[v] = np.clip(p, 0.0, 1.0)
        if force and v in force:
            P[v][force[v]] = 1.0

    # partial credit: `all` nodes under a task that reports it
    need = set()
    for v in reversed(order):
        if v not in tasks:
            continue
        t = tasks[v]
        if v not in need and "partial_credit" not in [x if isinstance(x, str) else next(iter(x))
                                                     for x in t.get("metrics", DEFAULT_METRICS)]:
            continue
        if gate_of(t) != "all":
            continue
        need.add(v)
        for c, _ in uses_of(t, "all"):
            need.add(c)
    PC = {}
    for v in order:
        if v not in need or v not in tasks or gate_of(tasks[v]) != "all":
            continue
        num = np.zeros(m)
        den = 0.0
        for c, n in uses_of(tasks[v], "all"):
            w = n * steps[c]
            num += w * PC.get(c, P[c])
            den += w
        g = f(tasks[v].get("guess", 0.0))
        PC[v] = np.clip(g + (1.0 - g) * (num / den), 0.0, 1.0)
    return P, PC, steps


def structurally_positive(spec, order):
    """True P > 0 everywhere (no constant-0 leaf forces P = 0)."""
    skills = spec.get("skills") or {}
    tasks = spec.get("tasks") or {}
    pos = {}
    for v in order:
        if v in skills:
            s = skills[v]
            (kind, c), = s["curve"].items()
            pos[v] = f(s.get("floor", 0.0)) > 0 or (f(s.get("ceiling", 1.0)) > 0 and (kind != "constant" or f(c) > 0))
            continue
        t = tasks[v]
        g = gate_of(t)
        us = uses_of(t, g)
        if f(t.get("guess", 0.0)) > 0:
            pos[v] = True
        elif g == "all":
            pos[v] = all(pos[c] for c, _ in us)
        elif g == "at_least":
            pos[v] = sum(n for c, n in us if pos[c]) >= int(t["at_least"]["k"])
        else:
            pos[v] = any(pos[c] for c, _ in us)
    return pos


def shared_cone(spec, order):
    """Tasks whose cone holds a `shared: true` skill (docs/measures.md §4). The peer
    treats every use as independent, so its numbers differ there by design
    (a shared skill's own P is the same)."""
    skills = spec.get("skills") or {}
    tasks = spec.get("tasks") or {}
    sh = {}
    for v in order:
        if v in skills:
            sh[v] = bool(skills[v].get("shared", False))
        else:
            t = tasks[v]
            sh[v] = any(sh[c] for c, _ in uses_of(t, gate_of(t)))
    return {v: sh[v] and v in tasks for v in sh}


def read_dump(path):
    """bench_eval --dump CSV: node,j,x,log_p[,partial_credit] -> xs, {node: (logp, pc|None)}."""
    rows = {}
    xs = {}
    with open(path, newline="") as fh:
        rd = csv.reader(fh)
        head = next(rd)
        has_pc = "partial_credit" in head
        for r in rd:
            node, j, x, lp = r[0], int(r[1]), float(r[2]), float(r[3])
            xs[j] = x
            lst = rows.setdefault(node, [])
            lst.append((j, lp, float(r[4]) if has_pc and r[4] != "" else None))
    m = len(xs)
    out = {}
    for node, lst in rows.items():
        lst.sort()
        lp = np.array([a[1] for a in lst])
        pc = np.array([a[2] for a in lst]) if lst[0][2] is not None else None
        out[node] = (lp, pc)
    return np.array([xs[j] for j in range(m)]), out


def read_sweep_csv(path):
    """`capgraph sweep --format csv`: long format with (task, at, metric, value)
    columns, whatever their order; returns {(task, metric): {x: value}}."""
    out = {}
    with open(path, newline="") as fh:
        rd = csv.DictReader(fh)
        cols = {c.lower(): c for c in rd.fieldnames}
        tcol = cols.get("task") or cols.get("node") or cols.get("id")
        xcol = cols.get("at") or cols.get("x") or cols.get("scale") or cols.get("params") or cols.get("n")
        mcol = cols.get("metric")
        vcol = cols.get("value")
        if not (tcol and xcol and mcol and vcol):
            raise SystemExit("sweep CSV: need task, x, metric and value columns, got %s" % rd.fieldnames)
        for r in rd:
            v = r[vcol].strip().lower()
            val = float("-inf") if v in ("-inf", "-infinity") else float("nan") if v in ("", "nan", "null") else float(v)
            out.setdefault((r[tcol], r[mcol]), {})[float(r[xcol])] = val
    return out


def compare(a, b, rel):
    """Counts of (compared, bad) and the largest relative error, where a (peer) is normal."""
    ok = a >= TINY
    if not ok.any():
        return 0, 0, 0.0
    err = np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), TINY)
    return int(ok.sum()), int((err > rel).sum()), float(err.max())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec")
    ap.add_argument("--points", type=int, default=None, help="log-spaced scale points (default: the spec's)")
    ap.add_argument("--from", dest="lo", type=float, default=None)
    ap.add_argument("--to", dest="hi", type=float, default=None)
    ap.add_argument("--check", metavar="CSV", help="compare with `bench_eval --dump CSV` output (uses its points)")
    ap.add_argument("--check-sweep", metavar="CSV", help="compare with `capgraph sweep --format csv` output")
    ap.add_argument("--rel", type=float, default=1e-9, help="relative tolerance of --check (default 1e-9)")
    ap.add_argument("--watch", metavar="ID", help="also report this node's P over the points (e.g. a chain's end)")
    a = ap.parse_args()

    t0 = time.perf_counter()
    spec = load(a.spec)
    t1 = time.perf_counter()
    G, order = build_graph(spec)
    t2 = time.perf_counter()

    dump = sweep = None
    if a.check:
        xs, dump = read_dump(a.check)
    if a.check_sweep:
        sweep = read_sweep_csv(a.check_sweep)
        sxs = np.array(sorted(next(iter(sweep.values())))) if sweep else np.array([])
        if dump is None:
            xs = sxs  # the sweep's own points (printed exactly: shortest round trip)
        elif len(sxs) != len(xs) or np.max(np.abs(sxs - xs) / xs) > 1e-12:
            raise SystemExit("--check-sweep: the sweep's points differ from the dump's")
    if dump is None and sweep is None:
        sc = spec.get("scale") or {}
        rng = sc.get("range", [1e8, 1e13])
        lo = a.lo if a.lo is not None else f(rng[0])
        hi = a.hi if a.hi is not None else f(rng[1])
        n = a.points if a.points is not None else int(sc.get("points", 61))
        xs = log_spaced(lo, hi, n)

    t3 = time.perf_counter()
    with np.errstate(divide="ignore", under="ignore"):  # log1p(-1) = -inf is intended
        P, PC, steps = evaluate(spec, order, xs)
    t4 = time.perf_counter()

    pos = structurally_positive(spec, order)
    shared = shared_cone(spec, order)
    zero_nodes = underflow_nodes = underflow_points = 0
    for v, p in P.items():
        z = int((p == 0.0).sum())
        if z:
            zero_nodes += 1
            if pos[v]:
                underflow_nodes += 1
                underflow_points += z
    res = {
        "peer": "numpy",
        "spec": a.spec,
        "yaml_loader": LOADER_NAME,
        "numpy": np.__version__,
        "networkx": nx.__version__,
        "nodes": G.number_of_nodes(),
        "uses": G.number_of_edges(),
        "points": int(len(xs)),
        "load_s": round(t1 - t0, 4),
        "graph_s": round(t2 - t1, 4),
        "eval_s": round(t4 - t3, 4),
        "pc_rows": len(PC),
        "zero_nodes": zero_nodes,
        "underflow_nodes": underflow_nodes,
        "underflow_points": underflow_points,
        "underflow_source": "structural",
        "shared_cone_nodes": sum(shared.values()),
    }
    if a.watch:
        p = P[a.watch]
        res["watch"] = {"node": a.watch, "zero_points": int((p == 0.0).sum()),
                        "subnormal_points": int(((p > 0) & (p < TINY)).sum()),
                        "min_p": float(p.min()), "max_p": float(p.max())}

    status = 0
    if dump is not None:
        cmp_n = bad = 0
        worst = 0.0
        worst_node = None
        uf_nodes = uf_points = cg_zero = cg_lost = sub = 0
        pc_n = pc_bad = 0
        pc_worst = 0.0
        missing = [v for v in P if v not in dump]
        for v, p in P.items():
            if v not in dump or shared[v]:
                continue
            lp, pc = dump[v]
            cp = np.exp(lp)
            uf = (p == 0.0) & np.isfinite(lp)
            if uf.any():
                uf_nodes += 1
                uf_points += int(uf.sum())
            cg_zero += int(np.isneginf(lp).sum())
            if pos[v]:
                cg_lost += int(np.isneginf(lp).sum())
            sub += int(((p > 0) & (p < TINY)).sum())
            n_, b_, w_ = compare(p, cp, a.rel)
            cmp_n += n_
            bad += b_
            if w_ > worst:
                worst, worst_node = w_, v
            if pc is not None and v in PC:
                n_, b_, w_ = compare(PC[v], pc, a.rel)
                pc_n += n_
                pc_bad += b_
                pc_worst = max(pc_worst, w_)
        res.update({
            "underflow_nodes": uf_nodes, "underflow_points": uf_points, "underflow_source": "capgraph ln P",
            "check": {"compared": cmp_n, "bad": bad, "max_rel_err": worst, "worst_node": worst_node,
                      "capgraph_neg_inf_points": cg_zero,
                      "capgraph_neg_inf_but_true_p_positive": cg_lost, "peer_subnormal_points": sub,
                      "pc_compared": pc_n, "pc_bad": pc_bad, "pc_max_rel_err": pc_worst,
                      "missing_nodes": len(missing), "rel_tol": a.rel,
                      "skipped_shared_cone_nodes": sum(shared.values())}})
        if a.watch and a.watch in dump:
            lp = dump[a.watch][0]
            z = P[a.watch] == 0.0
            res["watch"]["capgraph_log_p_min"] = float(lp.min())
            res["watch"]["capgraph_log_p_max"] = float(lp.max())
            res["watch"]["capgraph_finite_where_peer_zero"] = int((z & np.isfinite(lp)).sum())
        if bad or pc_bad or missing:
            status = 1
    if sweep is not None:
        cmp_n = bad = 0
        worst = 0.0
        for (task, metric), series in sweep.items():
            if metric not in ("exact_match", "partial_credit") or task not in P or shared[task]:
                continue
            if len(series) != len(xs):
                raise SystemExit("--check-sweep: series %s:%s has %d points, expected %d"
                                 % (task, metric, len(series), len(xs)))
            cg = np.array([series[x] for x in sorted(series)])
            mine = P[task] if metric == "exact_match" else PC.get(task, P[task])
            n_, b_, w_ = compare(mine, cg, a.rel)
            cmp_n += n_
            bad += b_
            worst = max(worst, w_)
        res["check_sweep"] = {"compared": cmp_n, "bad": bad, "max_rel_err": worst, "rel_tol": a.rel}
        if bad:
            status = 1
    print(json.dumps(res))
    return status


if __name__ == "__main__":
    sys.exit(main())
