#!/usr/bin/env python3
"""Why does `emoji_movie` look emergent, and what holds it back?

A script a researcher would write with capgraph from Python: load a spec,
sweep it over scale, plot exact match against partial credit with
matplotlib, and print the bottleneck table at a few scales.

    python3 examples/python/quickstart.py [SPEC] [-o curves.png]
"""

import argparse

import matplotlib

matplotlib.use("Agg")  # a file, no window
import matplotlib.pyplot as plt

import capgraph

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("spec", nargs="?", default="examples/emoji_movie.yaml")
parser.add_argument("--task", default="emoji_movie")
parser.add_argument("-o", "--output", default="emoji_movie_curves.png")
args = parser.parse_args()

model = capgraph.load(args.spec)
print(model)

# The curves: one row per (task, metric, scale point).
curves = model.sweep(start="100M", stop="10T", points=121, tasks=[args.task])
fig, ax = plt.subplots(figsize=(6, 4))
for metric in ["exact_match", "partial_credit"]:
    c = curves[curves.metric == metric]
    ax.plot(c["at"], c["value"], label=metric)
ax.axhline(model.threshold(args.task), color="grey", linestyle="--", linewidth=0.8)
ax.set_xscale("log")
ax.set_xlabel("parameters N")
ax.set_ylabel("score")
ax.set_title(f"{args.task}: one model, two metrics")
ax.legend()
fig.tight_layout()
fig.savefig(args.output, dpi=120)
print(f"wrote {args.output}")

# Where each metric crosses the threshold, and how sharp it looks.
summary = model.emergence(start="100M", stop="10T", points=121, tasks=[args.task])
print(summary[["metric", "breakthroughness", "transition_width_decades", "crossing"]].to_string(index=False))

# What holds the task back, at three scales (skills only).
table = model.bottleneck(args.task, at=["1B", "10B", "100B"], skills=True)
print(table.pivot(index="node", columns="at", values="improvement_potential").round(4))
print("top bottleneck per scale:")
print(table[table["rank"] == 1][["at", "p_task", "node", "improvement_potential"]].to_string(index=False))
