#!/usr/bin/env python3
"""Turns the results directory of bench/run.sh into a Markdown report.

  python3 bench/summarize.py /tmp/capgraph_bench/results

Reads machine.txt, rows.txt (nodes points bytes), load_N / eval_N_P / peer_N_P
(.json from the programs, .time from /usr/bin/time -v), checks.txt and the
chain files. Stdlib only.
"""

import json
import math
import os
import re
import sys

MIB = 1024.0


def jload(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def maxrss_mib(path):
    try:
        with open(path) as f:
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
        return int(m.group(1)) / MIB if m else None
    except OSError:
        return None


def fmt(x, digits=3):
    if x is None:
        return "n/a"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return "%.0f" % x
    return "%.*g" % (digits, x)


def verdict(ok):
    return "meets" if ok else "**misses**"


def main():
    res = sys.argv[1]
    machine = {}
    with open(os.path.join(res, "machine.txt")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            machine[k] = v
    rows = []
    with open(os.path.join(res, "rows.txt")) as f:
        for line in f:
            n, p, size = line.split()
            rows.append((int(n), int(p), int(size)))

    out = []
    out.append("Machine: %s cores, %s, %s GiB RAM, kernel %s; load average at start %s; %s."
               % (machine.get("nproc"), machine.get("cpu"), machine.get("mem_gib"), machine.get("kernel"),
                  machine.get("load_at_start"), machine.get("date")))
    out.append("capgraph: bench_eval (Release), evaluate with threads %s (first figure: first count listed, "
               "cold), the rows of `--keep %s` kept and their cones evaluated; peer: Python %s, OPENBLAS_CORETYPE=%s."
               % (machine.get("threads"), machine.get("keep", "all"), machine.get("python"),
                  machine.get("openblas_coretype")))
    out.append("")
    out.append("| nodes | points | spec MB | load+validate s / MiB | evaluate s (cold) / MiB | evaluate s warm, by threads "
               "| every row kept: evaluate s (cold) / MiB "
               "| NumPy load s (YAML + networkx) | NumPy eval s / MiB | ratio eval (cold / warm 1 thread) |")
    out.append("|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    fit = []
    table = {}
    evaluated = []
    for n, p, size in rows:
        ld = jload(os.path.join(res, "load_%d.json" % n)) or {}
        ev = jload(os.path.join(res, "eval_%d_%d.json" % (n, p))) or {}
        pe = jload(os.path.join(res, "peer_%d_%d.json" % (n, p)))
        ld_rss = maxrss_mib(os.path.join(res, "load_%d.time" % n))
        ev_rss = maxrss_mib(os.path.join(res, "eval_%d_%d.time" % (n, p)))
        eva = jload(os.path.join(res, "evalall_%d_%d.json" % (n, p))) or {}
        eva_rss = maxrss_mib(os.path.join(res, "evalall_%d_%d.time" % (n, p)))
        all_txt = ("%s / %s" % (fmt(eva.get("evaluate_s")), fmt(eva_rss))) if eva else "(same)"
        pe_rss = maxrss_mib(os.path.join(res, "peer_%d_%d.time" % (n, p)))
        t_load = ld.get("load_validate_s")
        t_eval = ev.get("evaluate_s")
        warm = ev.get("evaluate_warm_s_by_threads") or {}
        warm_txt = ", ".join("%s: %s" % (k, fmt(v)) for k, v in warm.items()) or "n/a"
        pl = pe_ev = ratio = ratio_w = None
        if pe:
            pl = pe["load_s"] + pe["graph_s"]
            pe_ev = pe["eval_s"]
            if t_eval:
                ratio = pe_ev / t_eval
            if warm.get("1"):
                ratio_w = pe_ev / warm["1"]
        if ev.get("evaluated_nodes") is not None:
            evaluated.append("%s of %s" % ("{:,}".format(ev["evaluated_nodes"]), "{:,}".format(n)))
        table[(n, p)] = dict(load=t_load, load_rss=ld_rss, eval=t_eval, eval_rss=ev_rss, warm=warm,
                             peer_eval=pe_ev, ratio=ratio, ratio_w=ratio_w)
        if t_eval and p > 1:
            fit.append((math.log(n * p), math.log(t_eval)))
        out.append("| %s | %s | %.1f | %s / %s | %s / %s | %s | %s | %s | %s / %s | %s / %s |" % (
            "{:,}".format(n), "{:,}".format(p), size / 1e6, fmt(t_load), fmt(ld_rss), fmt(t_eval), fmt(ev_rss),
            warm_txt, all_txt, fmt(pl), fmt(pe_ev), fmt(pe_rss),
            (fmt(ratio, 2) + "x") if ratio else "n/a", (fmt(ratio_w, 2) + "x") if ratio_w else "n/a"))
    out.append("")
    out.append("MiB = peak resident set of that process (`/usr/bin/time -v`): the load column runs "
               "load + validate only; the evaluate column is a whole process (load, compile, evaluate), "
               "so it includes the load's memory.")
    if evaluated:
        out.append("Nodes capgraph evaluated (the kept rows' cones; a skill no task uses is not evaluated, "
                   "while the peer evaluates every node): %s." % ", ".join(evaluated))
    if len(fit) >= 2:
        xs = [a for a, _ in fit]
        ys = [b for _, b in fit]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        if sxx > 0:
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
            out.append("Growth: evaluate time ~ (nodes x points)^%.2f over the rows above (1.0 = linear)." % slope)

    tj = jload(os.path.join(res, "touch.json"))
    if tj:
        out.append("First-touch floor: zeroing %s MiB of fresh memory (the size of the largest ln P table) took "
                   "%s s; writing it again took %s s. Page faults, not arithmetic, set the cold figures on this VM."
                   % (fmt(tj["touch_mib"]), fmt(tj["first_touch_s"]), fmt(tj["rewrite_s"])))

    # targets
    t = table.get((100000, 1000))
    if t:
        out.append("")
        out.append("Targets at 100,000 nodes x 1,000 points:")
        if t["load"] is not None and t["load_rss"] is not None:
            out.append("- load + validate %s s, %s MiB: target <= 1.5 s and <= 300 MiB: %s"
                       % (fmt(t["load"]), fmt(t["load_rss"]), verdict(t["load"] <= 1.5 and t["load_rss"] <= 300)))
        if t["eval"] is not None and t["eval_rss"] is not None:
            out.append("- evaluate %s s cold (process peak %s MiB): issue 2 target <= 1 s and <= 1 GiB: %s; "
                       "issue 6 target <= 0.5 s: %s"
                       % (fmt(t["eval"]), fmt(t["eval_rss"]), verdict(t["eval"] <= 1 and t["eval_rss"] <= 1024),
                          verdict(t["eval"] <= 0.5)))
        if t["ratio"]:
            out.append("- NumPy peer / capgraph on evaluation: %.2fx cold (%s warm, 1 thread): target >= 5x (issue 2) "
                       "%s, >= 7x (issue 6) %s" % (t["ratio"], (fmt(t["ratio_w"], 2) + "x") if t["ratio_w"] else "n/a",
                                                    verdict(t["ratio"] >= 5), verdict(t["ratio"] >= 7)))
    t = table.get((1000000, 1))
    if t and t["eval"] is not None:
        out.append("- 1,000,000 nodes at 1 point: evaluate %s s after load (target <= 0.2 s: %s)%s"
                   % (fmt(t["eval"]), verdict(t["eval"] <= 0.2),
                      ("; %.0fx faster than NumPy (target >= 100x: %s)" % (t["ratio"], verdict(t["ratio"] >= 100)))
                      if t["ratio"] else ""))

    # underflow in the table's specs
    uf = []
    for n, p, _ in rows:
        pe = jload(os.path.join(res, "peer_%d_%d.json" % (n, p)))
        ev = jload(os.path.join(res, "eval_%d_%d.json" % (n, p))) or {}
        if pe:
            uf.append("%s nodes: NumPy P == 0.0 (true P > 0) on %s nodes / %s node-points; capgraph ln P below "
                      "ln(min normal double) on %s nodes, -inf on %s nodes"
                      % ("{:,}".format(n), "{:,}".format(pe["underflow_nodes"]), "{:,}".format(pe["underflow_points"]),
                         "{:,}".format(ev.get("below_min_normal_nodes", 0)), "{:,}".format(ev.get("neg_inf_nodes", 0))))
    if uf:
        out.append("")
        out.append("Underflow in the generated specs (small scale, deep `all` cones):")
        out.extend("- " + u for u in uf)

    # checks
    cpath = os.path.join(res, "checks.txt")
    if os.path.exists(cpath):
        out.append("")
        out.append("Same numbers (capgraph ln P vs the peer's P, relative tolerance 1e-9 where the peer's P is "
                   "a normal double):")
        with open(cpath) as f:
            for line in f:
                label, _, rest = line.strip().partition(" ")
                if rest.startswith("skipped"):
                    out.append("- %s: %s" % (label, rest))
                    continue
                r = jload(rest)
                if not r or "check" not in r:
                    out.append("- %s: peer failed (see %s)" % (label, rest.replace(".json", ".err")))
                    continue
                c = r["check"]
                s = r.get("check_sweep")
                ok = c["bad"] == 0 and c["pc_bad"] == 0 and c["missing_nodes"] == 0 and (not s or s["bad"] == 0)
                out.append("- %s: %s; %s P values compared, max rel err %.2g; %s partial-credit values, max %.2g%s; "
                           "peer underflow on %d nodes; capgraph -inf where P > 0: %d points%s"
                           % (label, "OK" if ok else "**MISMATCH**", "{:,}".format(c["compared"]), c["max_rel_err"],
                              "{:,}".format(c["pc_compared"]), c["pc_max_rel_err"],
                              ("; sweep CSV: %s values, max %.2g" % ("{:,}".format(s["compared"]), s["max_rel_err"]))
                              if s else "", r["underflow_nodes"], c.get("capgraph_neg_inf_but_true_p_positive", 0),
                              ("; %d nodes over shared skills not compared (the peer has no 3.3)"
                               % c["skipped_shared_cone_nodes"]) if c.get("skipped_shared_cone_nodes") else ""))

    # chain
    chp = os.path.join(res, "chain.txt")
    if os.path.exists(chp):
        with open(chp) as f:
            steps, last = f.read().split()
        cg = jload(os.path.join(res, "chain_cg.json")) or {}
        pe = jload(os.path.join(res, "chain_peer.json")) or {}
        w = pe.get("watch", {})
        cw = cg.get("watch", {})
        out.append("")
        out.append("Deep chain (%s-step `all` chain, %s points over 1e8..1e13, last task %s):"
                   % ("{:,}".format(int(steps)), cg.get("points", "?"), last))
        out.append("- NumPy: P == 0.0 at %s of %s points (and subnormal, digits lost, at %s more); "
                   "%s of %s chain nodes hit 0.0 somewhere"
                   % (w.get("zero_points", "?"), cg.get("points", "?"), w.get("subnormal_points", "?"),
                      "{:,}".format(pe.get("underflow_nodes", 0)), "{:,}".format(cg.get("nodes", 0))))
        out.append("- capgraph: ln P of %s from %s to %s nats, finite at every point (%s points where exp(ln P) "
                   "is 0.0 in a double but ln P is exact)"
                   % (last, fmt(cw.get("log_p_min")), fmt(cw.get("log_p_max")),
                      cw.get("finite_log_p_but_exp_zero_points", "?")))
    print("\n".join(out))


if __name__ == "__main__":
    main()
