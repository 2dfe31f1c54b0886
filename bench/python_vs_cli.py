#!/usr/bin/python3
"""capgraph through Python against the CLI, on the same spec, same run.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_vs_cli.py \
        [--cli build/capgraph] [--nodes 100000] [--points 100] [--repeat 5] [--data /tmp/capgraph_bench]

Generates the layered benchmark spec (bench/gen_spec.py, seed 1; cached in
--data as bench/run.sh does) and times, each --repeat times, every one as a
fresh process (medians reported):

  eval       capgraph eval SPEC --at 1e10 --format csv -o /dev/null
             vs load(SPEC).evaluate(1e10): every node's quantities at one point
             (a long DataFrame of about 8 rows a node)
  emergence  capgraph sweep SPEC --points P --format csv --summary -o /dev/null
             vs load(SPEC).emergence(points=P): every task's curves and
             emergence measures

Each Python run reports the whole process (interpreter, `import capgraph`
with numpy and pandas, the work) and, inside it, the time from load() to the
result (wall and CPU); each CLI run the whole process. Wall time and CPU
time (user + system, from getrusage: what the process itself used, whatever
else the machine runs, so the CPU ratios move less with the load). The
ratios are Python / CLI: whole processes, and Python's work alone against
the CLI's whole process (whose start-up is a few milliseconds). Prints a
Markdown table.
"""

import argparse
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]

PY_TASK = r"""
import sys, time, json
t0 = time.perf_counter()
import capgraph
t1 = time.perf_counter()
c1 = time.process_time()
kind, spec, points = sys.argv[1], sys.argv[2], int(sys.argv[3])
m = capgraph.load(spec)
if kind == "eval":
    out = m.evaluate(1e10)
    rows = len(out)
else:
    out = m.emergence(points=points)
    rows = len(out)
t2 = time.perf_counter()
c2 = time.process_time()
print(json.dumps({"import": t1 - t0, "work": t2 - t1, "work_cpu": c2 - c1, "rows": rows}))
"""


def timed(cmd):
    """(wall seconds, CPU seconds (user + system), stdout) of one process."""
    u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"python_vs_cli: {' '.join(map(str, cmd))} failed:\n{r.stderr}")
    cpu = (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime)
    return dt, cpu, r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", default=str(ROOT / "build" / "capgraph"))
    ap.add_argument("--nodes", type=int, default=100000)
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--data", default="/tmp/capgraph_bench")
    ap.add_argument("--only", help="comma-separated: eval,emergence")
    a = ap.parse_args()

    data = pathlib.Path(a.data)
    data.mkdir(parents=True, exist_ok=True)
    spec = data / f"spec_{a.nodes}_s1.yaml"
    gen = ROOT / "bench" / "gen_spec.py"
    if not spec.exists() or gen.stat().st_mtime > spec.stat().st_mtime:
        subprocess.run([sys.executable, str(gen), "--nodes", str(a.nodes), "--seed", "1", "-o", str(spec)],
                       check=True)

    cases = {
        "eval": [a.cli, "eval", spec, "--at", "1e10", "--format", "csv", "-o", "/dev/null"],
        "emergence": [a.cli, "sweep", spec, "--points", str(a.points), "--format", "csv", "--summary",
                      "-o", "/dev/null"],
    }
    only = a.only.split(",") if a.only else list(cases)
    load = os.getloadavg()
    print(f"{a.nodes:,}-node spec (bench/gen_spec.py --seed 1), {a.points} points, median of {a.repeat} "
          f"runs each; load average at start {load[0]:.2f}; {os.cpu_count()} cores\n")
    print("| case | CLI wall | Python wall | Python: import | Python: work | wall ratio | work / CLI wall "
          "| CLI CPU | Python CPU | Python: work CPU | CPU ratio | work CPU / CLI CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in only:
        cli_t, cli_c, py_t, py_c, imp_t, work_t, work_c = [], [], [], [], [], [], []
        for _ in range(a.repeat):  # alternate, so that a change of load hits both
            dt, cpu, _out = timed(list(map(str, cases[name])))
            cli_t.append(dt)
            cli_c.append(cpu)
            dt, cpu, out = timed([sys.executable, "-c", PY_TASK, name, str(spec), str(a.points)])
            r = json.loads(out)
            py_t.append(dt)
            py_c.append(cpu)
            imp_t.append(r["import"])
            work_t.append(r["work"])
            work_c.append(r["work_cpu"])
        c, p, i, w, cc, pc, wc = (statistics.median(x) for x in (cli_t, py_t, imp_t, work_t, cli_c, py_c, work_c))
        print(f"| {name} | {c:.3f} s | {p:.3f} s | {i:.3f} s | {w:.3f} s | {p / c:.2f} | {w / c:.2f} "
              f"| {cc:.3f} s | {pc:.3f} s | {wc:.3f} s | {pc / cc:.2f} | {wc / cc:.2f} |")

if __name__ == "__main__":
    main()
