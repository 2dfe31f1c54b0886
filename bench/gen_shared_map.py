#!/usr/bin/env python3
"""Writes a capability map that shares heavily, for the decision-diagram
benchmark (docs/fault-trees.md, "Timing").

--nodes N: about 10% shared skills (the common pool), 25% private skills,
the rest tasks in layers of --width tasks. Task j of a layer uses:
  - 2 skills of the pool drawn from a window around its column (so
    neighbouring tasks share skills, and every task's skills come from the
    pool);
  - 1 private skill;
  - the task at column j of the layer below, and with --cross also the one
    at column j+1 (then neighbours share sub-tasks too, and every task
    correlates the whole pool below it).
Gates: 50% `all`, 25% `any`, 25% `at_least` (k = 2). A top task `top` is
an `all` of the last layer. Logistic curves. Deterministic for a --seed.

  python3 bench/gen_shared_map.py --nodes 2000 --seed 1 -o /tmp/map_2000.yaml
"""

import argparse
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=2000)
    ap.add_argument("--width", type=int, default=8, help="tasks per layer")
    ap.add_argument("--window", type=int, default=3, help="pool skills either side of a task's column")
    ap.add_argument("--cross", action="store_true", help="also use the task at column j+1 of the layer below")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    pool = max(4, a.nodes // 10)
    tasks = max(a.width, (a.nodes - pool) * 60 // 90)
    layers = max(1, tasks // a.width)
    private = max(1, a.nodes - pool - layers * a.width - 1)
    out = ["capgraph: 1\n",
           "name: shared capability map (%d nodes, pool of %d shared skills)\n" % (a.nodes, pool),
           "scale: {axis: params, range: [1.0e+08, 1.0e+13], points: 50}\n",
           "skills:\n"]

    def logistic():
        return "{logistic: {mid: %.6e, slope: %.6e}}" % (10 ** rng.uniform(8.5, 12.5), rng.uniform(0.8, 2.5))

    for i in range(pool):
        out.append("  s%d: {curve: %s, shared: true}\n" % (i, logistic()))
    for i in range(private):
        out.append("  p%d: {curve: %s}\n" % (i, logistic()))
    out.append("tasks:\n")
    next_private = 0
    for layer in range(layers):
        for j in range(a.width):
            # The window slides with the layer too: every pool skill is used.
            centre = (layer * a.width + j) * pool // (layers * a.width)
            lo, hi = max(0, centre - a.window), min(pool - 1, centre + a.window)
            picks = sorted(set(rng.sample(range(lo, hi + 1), min(2, hi - lo + 1))))
            uses = ["s%d" % s for s in picks]
            uses.append("p%d" % (next_private % private))
            next_private += 1
            if layer > 0:
                uses.append("t%d_%d" % (layer - 1, j))
                if a.cross:
                    uses.append("t%d_%d" % (layer - 1, (j + 1) % a.width))
            r = rng.random()
            if r < 0.5:
                gate = "all: [%s]" % ", ".join(uses)
            elif r < 0.75:
                gate = "any: [%s]" % ", ".join(uses)
            else:
                gate = "at_least: {k: 2, of: [%s]}" % ", ".join(uses)
            out.append("  t%d_%d: {%s}\n" % (layer, j, gate))
    out.append("  top: {all: [%s], metrics: [exact_match]}\n"
               % ", ".join("t%d_%d" % (layers - 1, j) for j in range(a.width)))
    text = "".join(out)
    if a.output == "-":
        print(text, end="")
    else:
        with open(a.output, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
