#!/usr/bin/env python3
"""Writes a capgraph spec with L constant leaves, S of them shared, for the
exact-shared and Monte Carlo benchmarks (issue 3).

Structure: T tasks in two layers. Layer 1: `all` of 4-6 random leaves.
Layer 2: `any` of 3 random layer-1 tasks. Top: `at_least` {k: K} of every
layer-2 task. Shared leaves are drawn often, so the top task correlates all
of them. Deterministic per --seed.

  gen_shared.py --leaves 200 --shared 30 --tasks 60 --seed 1 > spec.yaml
"""
import argparse
import random

ap = argparse.ArgumentParser()
ap.add_argument("--leaves", type=int, default=200)
ap.add_argument("--shared", type=int, default=30)
ap.add_argument("--tasks", type=int, default=60, help="layer-1 tasks (layer 2 gets a third as many)")
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
rng = random.Random(a.seed)
out = ["capgraph: 1\n", "name: shared benchmark (%d leaves, %d shared)\n" % (a.leaves, a.shared), "skills:\n"]
for i in range(a.leaves):
    shared = ", shared: true" if i < a.shared else ""
    out.append("  s%d: {curve: {constant: %.4f}%s}\n" % (i, rng.uniform(0.7, 0.99), shared))
out.append("tasks:\n")
for t in range(a.tasks):
    picks = set(rng.sample(range(a.shared), 2)) | set(rng.sample(range(a.leaves), rng.randint(2, 4)))
    out.append("  a%d: {all: [%s]}\n" % (t, ", ".join("s%d" % p for p in sorted(picks))))
n2 = max(1, a.tasks // 3)
for t in range(n2):
    out.append("  b%d: {any: [%s]}\n" % (t, ", ".join("a%d" % p for p in sorted(rng.sample(range(a.tasks), 3)))))
out.append("  top: {at_least: {k: %d, of: [%s]}}\n" % (max(1, n2 // 2), ", ".join("b%d" % t for t in range(n2))))
print("".join(out), end="")
