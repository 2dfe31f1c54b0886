"""The Python API against the CLI's own output: the same bits."""

import json
import math

import numpy as np
import pandas as pd
import pytest

import capgraph
from conftest import read_csv

# Every example whose exact evaluation runs by default (the fault trees'
# shared skills included).
EXAMPLES = ["emoji_movie", "mirage", "data_wall", "multistep_arithmetic", "arithmetic_open_models",
            "fault_tree_lift", "fault_tree_three_motor"]


def same(a, b):
    """Bitwise-equal floats (NaN equal to NaN, -inf to -inf)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


def cli_eval(cli, spec, x):
    """(node, quantity) -> value of `capgraph eval --format csv`, repeated pairs checked equal."""
    df = read_csv(cli("eval", spec, "--at", x, "--format", "csv")[0])
    scale = "at" if "at" in df.columns else "x"
    quantity = "metric" if "metric" in df.columns else "quantity"
    assert (df[scale] == float(x)).all()
    out = {}
    for node, q, v in zip(df["node"], df[quantity], df["value"]):
        if (node, q) in out:
            assert same(out[node, q], v), (node, q)
        out[node, q] = v
    return out


@pytest.mark.parametrize("name", EXAMPLES)
def test_evaluate_matches_cli_eval(cli, src, name):
    spec = f"examples/{name}.yaml"
    m = capgraph.load(src / spec)
    for x in ("3e9", "1e11"):
        want = cli_eval(cli, spec, x)
        got = m.evaluate(float(x))
        assert not got.duplicated(["node", "at", "metric"]).any()
        have = {(n, q): v for n, q, v in zip(got["node"], got["metric"], got["value"])}
        assert have.keys() == want.keys()
        for k, v in want.items():
            assert same(have[k], v), k


def test_evaluate_several_points_match_one_cli_run(cli, src):
    spec = "examples/emoji_movie.yaml"
    m = capgraph.load(src / spec)
    want = read_csv(cli("eval", spec, "--at", "3e9,70B", "--at", "1.5T", "--format", "csv")[0])
    got = m.evaluate(["3e9", "70B", "1.5T"])
    assert list(got.columns) == list(want.columns)
    assert list(got.node.astype(str)) == list(want.node) and list(got.kind.astype(str)) == list(want.kind)
    assert list(got.metric.astype(str)) == list(want.metric)
    assert same(got["at"], want["at"]) and same(got["value"], want["value"])


def wide_spec(skills, tasks):
    """A spec of `skills` skills and `tasks` tasks, task t reporting pass_at:t: tasks + 5 metric labels
    (p, log_p, partial_credit, steps, exact_match and each pass_at:t)."""
    lines = ["capgraph: 1", "name: wide", "scale: {axis: params, range: [1e8, 1e13], points: 5}", "skills:"]
    for i in range(skills):
        lines.append(f"  s{i}: {{curve: {{logistic: {{mid: {1e8 * (1 + i % 97):g}, slope: {0.5 + (i % 7) / 10}}}}}}}")
    lines.append("tasks:")
    for t in range(1, tasks + 1):
        lines.append(f"  t{t}: {{all: [s{t % skills}, s{(t + 1) % skills}], metrics: [exact_match, {{pass_at: {t}}}]}}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("skills,tasks", [(200, 150), (33000, 3)])
def test_evaluate_wide_models_match_cli(cli, tmp_path, skills, tasks):
    # The node and metric columns are handed over as categorical codes of
    # the width pandas keeps (int8 / int16 / int32 by the number of
    # categories): over 127 metric labels, over 32,767 nodes.
    spec = tmp_path / "wide.yaml"
    spec.write_text(wide_spec(skills, tasks))
    m = capgraph.load(spec)
    want = read_csv(cli("eval", spec, "--at", "1e10,3e11", "--format", "csv")[0])
    got = m.evaluate([1e10, 3e11])
    assert list(got.columns) == list(want.columns)
    assert list(got.node.astype(str)) == list(want.node) and list(got.kind.astype(str)) == list(want.kind)
    assert list(got.metric.astype(str)) == list(want.metric)
    assert same(got["at"], want["at"]) and same(got["value"], want["value"])
    assert list(got.node.cat.categories) == m.nodes
    assert len(got.metric.cat.categories) == tasks + 5
    # pandas takes the engine's code arrays as they are (no conversion).
    node_c, kind_c, kinds, at_col, metric_c, labels, value = capgraph._core.evaluate_long(
        m._m, np.array([1e10, 3e11]), None, None, 0, 0, 2e9)
    assert node_c.dtype.itemsize == (2 if skills + tasks < 32767 else 4)
    assert metric_c.dtype.itemsize == (2 if tasks + 5 >= 127 else 1)
    for codes, categories in ((node_c, m.nodes), (kind_c, kinds), (metric_c, labels)):
        assert np.shares_memory(pd.Categorical.from_codes(codes, categories=categories).codes, codes)


def test_evaluate_several_points_and_filters(src):
    m = capgraph.load(src / "examples/emoji_movie.yaml")
    xs = [1e9, 1e10, 1e11]
    df = m.evaluate(xs, nodes=["emoji_movie", "movie_facts"], metrics=["p", "exact_match"])
    assert list(df.columns) == ["node", "kind", "at", "metric", "value"]  # the columns of `eval --format csv`
    assert len(df) == 2 * 3 + 3  # a skill has p; the task p and exact_match
    for x in xs:
        one = m.evaluate(x)
        for node in ("emoji_movie", "movie_facts"):
            a = df[(df.node == node) & (df["at"] == x) & (df.metric == "p")].value.to_numpy()
            b = one[(one.node == node) & (one.metric == "p")].value.to_numpy()
            assert same(a, b)
    with pytest.raises(ValueError, match="no node reports"):
        m.evaluate(1e10, metrics=["p", "nonsense"])
    with pytest.raises(KeyError, match="no node `nope`"):
        m.evaluate(1e10, nodes=["nope"])


def test_p_and_log_p_arrays(src):
    m = capgraph.load(src / "examples/emoji_movie.yaml")
    xs = np.geomspace(1e8, 1e13, 17)
    p = m.p(xs)
    lp = m.log_p(xs)
    assert p.shape == lp.shape == (len(m.nodes), 17)
    assert same(p, np.array([[math.exp(v) for v in row] for row in lp]))  # exp as the engine takes it
    long = m.evaluate(xs, metrics=["p"])
    for i, node in enumerate(m.nodes):
        assert same(p[i], long[long.node == node].value.to_numpy())
    # ln P is the engine's memory, handed over without a copy and read-only.
    assert lp.base is not None and not lp.flags.writeable
    sub = m.log_p(xs, nodes=["title_recall", "emoji_movie"])
    assert same(sub, lp[[m.nodes.index("title_recall"), m.nodes.index("emoji_movie")]])
    assert sub.base is not None
    # A subset evaluates only the cones asked for, with the same bits.
    assert same(m.p(xs, nodes=["emoji_movie"])[0], p[m.nodes.index("emoji_movie")])


def test_scales_as_people_write_them(src):
    m = capgraph.load(src / "examples/emoji_movie.yaml")
    assert same(m.p("10B"), m.p(1e10))
    assert same(m.p(["300M", "1.5T", "7e10"]), m.p([3e8, 1.5e12, 7e10]))
    assert capgraph.parse_scale("70b") == 7e10
    for bad in ("0", "-1", "1e3B", "70 B", "inf", ""):
        with pytest.raises(ValueError):
            capgraph.parse_scale(bad)
    with pytest.raises(ValueError):
        m.p([1e10, float("nan")])


@pytest.mark.parametrize("name", ["emoji_movie", "mirage", "data_wall", "multistep_arithmetic"])
def test_sweep_matches_cli(cli, src, name):
    spec = f"examples/{name}.yaml"
    m = capgraph.load(src / spec)
    want = read_csv(cli("sweep", spec, "--points", 13, "--from", "2e8", "--to", "3T", "--format", "csv")[0])
    got = m.sweep("2e8", "3T", 13)
    scale = "at" if "at" in want.columns else "x"
    assert len(got) == len(want)
    assert list(got.task.astype(str)) == list(want.task)
    assert list(got.metric.astype(str)) == list(want.metric)
    for a, b in (("at", scale), ("N", "N"), ("D", "D"), ("C", "C"), ("value", "value")):
        assert same(got[a], want[b]), a


@pytest.mark.parametrize("name", ["emoji_movie", "mirage", "data_wall"])
def test_emergence_matches_cli_summary(cli, src, name):
    spec = f"examples/{name}.yaml"
    m = capgraph.load(src / spec)
    want = read_csv(cli("sweep", spec, "--format", "csv", "--summary")[0])
    got = m.emergence()
    assert list(got.columns) == list(want.columns)  # the columns of `sweep --summary`
    assert list(got.task) == list(want.task) and list(got.metric) == list(want.metric)
    assert list(got.reached_at_start) == list(want.reached_at_start)
    for col in ("min", "max", "breakthroughness", "x10", "x90", "transition_width_decades", "threshold", "crossing"):
        assert same(got[col], want[col].astype("float64")), col


@pytest.mark.parametrize("args", [[], ["--skills"], ["--by", "birnbaum"], ["--by", "drive", "--skills"]])
def test_bottleneck_matches_cli(cli, src, args):
    spec = "examples/emoji_movie.yaml"
    m = capgraph.load(src / spec)
    opts = {"skills": "--skills" in args, "by": args[args.index("--by") + 1] if "--by" in args else "potential"}
    for x in ("1e9", "1e10", "1e11"):
        want = read_csv(cli("bottleneck", spec, "--task", "emoji_movie", "--at", x, "--format", "csv", *args)[0])
        got = m.bottleneck("emoji_movie", at=float(x), **opts)
        assert (got["at"] == float(x)).all()
        assert list(got.node) == list(want.node) and list(got.kind) == list(want.kind)
        assert list(got["rank"]) == list(want["rank"])
        for col in ("p", "uses", "birnbaum", "criticality", "improvement_potential", "scale_drive"):
            assert same(got[col], want[col].astype("float64")), col
        p_task = json.loads(cli("bottleneck", spec, "--task", "emoji_movie", "--at", x, "--format", "json")[0])
        p_task = p_task["points"][0]["p_task"]
        assert same(got["p_task"], np.full(len(got), p_task))
        assert list(got.columns) == list(want.columns)
        assert same(got["p_task"], want["p_task"]) and same(got["at"], want["at"])
    both = m.bottleneck("emoji_movie", at=[1e9, 1e10], **opts)
    assert same(both["at"].unique(), [1e9, 1e10])
    # Several points in one CLI run: the same stacked table.
    want = read_csv(cli("bottleneck", spec, "--task", "emoji_movie", "--at", "1e9,1e10", "--format", "csv", *args)[0])
    assert list(both.node) == list(want.node) and list(both["rank"]) == list(want["rank"])
    for col in ("at", "p_task", "p", "birnbaum", "improvement_potential", "scale_drive"):
        assert same(both[col], want[col].astype("float64")), col


def test_bottleneck_over_matches_cli(cli, src):
    spec = "examples/emoji_movie.yaml"
    m = capgraph.load(src / spec)
    want = read_csv(cli("bottleneck", spec, "--task", "emoji_movie", "--over", "--skills", "--format", "csv")[0])
    got = m.bottleneck_over("emoji_movie", skills=True)
    assert list(got.bottleneck) == list(want.bottleneck)
    assert same(got["from"], want["from"]) and same(got["to"], want["to"])
    with pytest.raises(ValueError, match="is a skill"):
        m.bottleneck("movie_facts", at=1e10)


def test_render_and_plot_are_the_cli_bytes(cli, src, tmp_path):
    spec = "examples/emoji_movie.yaml"
    m = capgraph.load(src / spec)
    mp = m.render(1e10, task="emoji_movie")
    assert mp.data == cli("render", spec, "--at", "1e10", "--task", "emoji_movie")[0]
    svg = mp._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and mp._repr_png_() is None
    mp.save(tmp_path / "map.svg")
    assert (tmp_path / "map.svg").read_bytes() == mp.data
    png = m.render("10B", format="png")
    assert png.data.startswith(b"\x89PNG") and png._repr_png_() == png.data and png._repr_svg_() is None
    pl = m.plot(tasks=["emoji_movie"], metrics=["exact_match", "partial_credit"])
    assert pl.data == cli("plot", spec, "--tasks", "emoji_movie", "--metrics", "exact_match,partial_credit")[0]
    assert "<svg" in pl._repr_svg_()
    with pytest.raises(ValueError, match="unknown metric"):
        m.plot(metrics=["accuracy"])


@pytest.mark.parametrize("args, kwargs", [
    (["--params", "1e14", "--check-bytes", "180e15"], {"params": 1e14, "check_bytes": 180e15}),
    (["--params", "70B", "--tokens-per-param", "30"], {"params": "70B", "tokens_per_param": 30}),
    (["--compute", "1e24"], {"compute": 1e24}),
    (["--compute", "1e26", "--law", "epoch2024", "--data-limit", "1e13"],
     {"compute": 1e26, "law": "epoch2024", "data_limit": 1e13}),
    (["--compute", "1e24", "--tokens-per-param", "20"], {"compute": 1e24, "tokens_per_param": 20}),
])
def test_budget_matches_cli(cli, args, kwargs):
    want = json.loads(cli("budget", *args, "--format", "json")[0])
    got = capgraph.budget(**kwargs)
    for k, v in want.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            assert same(got[k], v), k
        elif k in got:
            assert got[k] == v, k
    assert list(got) == list(want)  # the CLI's JSON, key for key
    assert got["rule"] in ("fixed_ratio", "compute_optimal")
    with pytest.raises(ValueError):
        capgraph.budget()
    with pytest.raises(ValueError):
        capgraph.budget(params=1e9, compute=1e20)


def test_analyze_matches_cli(cli, src):
    data = "examples/data/arithmetic_open_models.csv"
    want = read_csv(cli("analyze", data, "--format", "csv")[0])
    for source in (src / data, pd.read_csv(src / data)):
        got = capgraph.analyze(source)
        assert list(got.columns) == list(want.columns) + ["at", "value"]  # the CSV's, then the series
        assert list(got.task) == list(want.task) and list(got.metric) == list(want.metric)
        assert list(got["rows"]) == list(want["rows"]) and list(got["points"]) == list(want["points"])
        assert [str(n) if n == n else "" for n in want.note] == list(got.note)
        for col in ("x_min", "x_max", "value_min", "value_max", "breakthroughness", "transition_width", "x10",
                    "x90", "crossing", "paired_breakthroughness"):
            assert same(got[col], want[col].astype("float64")), col
        assert list(got.crossing_status) == [str(s) for s in want.crossing_status]
        assert list(got.monotone) == list(want.monotone)


def test_fit_matches_cli(cli, src):
    spec, data = "examples/arithmetic_open_models.yaml", "examples/data/arithmetic_open_models.csv"
    want = json.loads(cli("fit", spec, "--data", data, "--family", "OPT", "--format", "json")[0])
    r = capgraph.fit(capgraph.load(src / spec), src / data, family="OPT")
    assert r.likelihood == want["likelihood"] and r.evaluations == want["evaluations"]
    assert same(r.objective, want["objective"])
    assert list(r.params.skill) == [p["skill"] for p in want["parameters"]]
    assert same(r.params.value, [p["value"] for p in want["parameters"]])
    assert same(r.params.se, [np.nan if p["se"] is None else p["se"] for p in want["parameters"]])
    assert r.status == want["status"]
    assert same(r.params.high, [np.nan if p["high"] is None else p["high"] for p in want["parameters"]])
    assert same(r.params.low, [np.nan if p["low"] is None else p["low"] for p in want["parameters"]])
    assert list(r.intervals.task) == [f["task"] for f in want["forecasts"]]
    assert same(r.intervals.crossing, [np.nan if f["crossing"] is None else f["crossing"] for f in want["forecasts"]])
    preds = [p for s in want["series"] for p in s["points"]]
    assert same(r.predictions.predicted, [p["predicted"] for p in preds])
    # The fitted model predicts what the fit says it does.
    fitted = r.model.p(1e10, nodes=[want["series"][0]["node"]])
    assert fitted.shape == (1, 1)


def test_evaluation_in_threads_gives_the_same_bits(src):
    from concurrent.futures import ThreadPoolExecutor
    m = capgraph.load(src / "examples/emoji_movie.yaml")
    xs = np.geomspace(1e8, 1e13, 2001)
    ref = m.p(xs, threads=1)
    with ThreadPoolExecutor(4) as ex:
        outs = list(ex.map(lambda _: m.p(xs, threads=1), range(8)))
    assert all(same(o, ref) for o in outs)


def nan_none(values):
    return [np.nan if v is None else v for v in values]


def test_pooled_fit_matches_cli(cli, src):
    spec, data = "examples/arithmetic_open_models.yaml", "examples/data/arithmetic_open_models.csv"
    want = json.loads(cli("fit", spec, "--data", data, "--pool", "--format", "json")[0])
    r = capgraph.fit(capgraph.load(src / spec), src / data, pool=True)
    assert r.status == want["status"] and r.evaluations == want["evaluations"]
    assert same(r.objective, want["objective"])
    assert [(p.skill, p.parameter) for p in r.params.itertuples()] == \
        [(p["skill"], p["parameter"]) for p in want["parameters"]]
    assert same(r.params.value, [p["value"] for p in want["parameters"]])
    assert same(r.params.se, nan_none(p["se"] for p in want["parameters"]))
    # The offsets table, column for column as the JSON's "offsets".
    off = want["offsets"]
    assert list(r.offsets.columns) == list(off[0].keys())
    assert len(off) == 5 and off[0]["reference"] and r.offsets.reference.tolist() == [o["reference"] for o in off]
    assert r.offsets.family.tolist() == [o["family"] for o in off]
    assert r.offsets.rows.tolist() == [o["rows"] for o in off]
    assert r.offsets.rows_train.tolist() == [o["rows_train"] for o in off]
    for col in ("log10_offset", "se", "multiplier", "low", "high"):
        assert same(r.offsets[col], nan_none(o[col] for o in off)), col
    assert np.isnan(r.offsets.se[0]) and r.offsets.log10_offset[0] == 0
    # The offset is a fitted parameter; the multiplier is 10 to its power.
    fitted = r.params[r.params.parameter == "log10_offset"]
    assert same(fitted.value, r.offsets.log10_offset[1:]) and fitted.skill.tolist() == r.offsets.family[1:].tolist()
    assert np.allclose(r.offsets.multiplier, 10.0 ** r.offsets.log10_offset, rtol=1e-14, atol=0)  # pow's last bit
    assert same(r.intervals.crossing, nan_none(f["crossing"] for f in want["forecasts"]))
    # Not pooled: no offsets, the same columns.
    single = capgraph.fit(capgraph.load(src / spec), src / data, family="OPT")
    assert single.offsets.empty and list(single.offsets.columns) == list(r.offsets.columns)


BACKTEST_COLUMNS = ["family", "task", "metric", "cut", "fit_status", "n_train", "n_test", "mae_graph",
                    "mae_logistic", "mae_flat", "inside", "no_interval"]


def test_pooled_backtest_matches_cli_json(cli, src):
    spec, data = "examples/arithmetic_open_models.yaml", "examples/data/arithmetic_open_models.csv"
    out, err = cli("fit", spec, "--data", data, "--backtest", "--pool", "--format", "json")
    want = json.loads(out)
    b = capgraph.backtest(capgraph.load(src / spec), src / data, pool=True)
    assert b.pool is True and want["pool"] is True
    assert list(b.rows.columns) == BACKTEST_COLUMNS == list(want["rows"][0].keys())
    assert len(b.rows) == len(want["rows"]) == 20
    for col in BACKTEST_COLUMNS:
        got, exp = b.rows[col].tolist(), [w[col] for w in want["rows"]]
        if col in ("cut", "mae_graph", "mae_logistic", "mae_flat"):
            assert same(got, nan_none(exp)), col
        else:
            assert got == exp, col
    assert b.totals.keys() == want["totals"].keys()
    for k, v in want["totals"].items():
        assert same(b.totals[k], np.nan if v is None else v), k
    assert b.notes == want["notes"]


def test_backtest_one_family_per_fit_matches_cli_csv(cli, src):
    spec, data = "examples/arithmetic_open_models.yaml", "examples/data/arithmetic_open_models.csv"
    out, err = cli("fit", spec, "--data", data, "--backtest", "--format", "csv")
    want = read_csv(out)
    df = pd.read_csv(src / data)
    b = capgraph.backtest(capgraph.load(src / spec), df)  # a DataFrame reads as the file does
    assert b.pool is False
    assert list(b.rows.columns) == list(want.columns)
    for col in BACKTEST_COLUMNS:
        if col in ("cut", "mae_graph", "mae_logistic", "mae_flat"):
            assert same(b.rows[col], want[col]), col
        else:
            assert b.rows[col].tolist() == want[col].tolist(), col
    # Fits that are not a result: no graph forecast, every held-out point outside.
    lost = b.rows[b.rows.fit_status != "ok"]
    assert len(lost) == b.totals["no_forecast"] > 0 and lost.mae_graph.isna().all() and (lost.inside == 0).all()
    assert [f"note: {n}" for n in b.notes] == [line for line in err.splitlines() if line.startswith("note: ")]


def test_sweep_and_emergence_of_some_tasks_match_cli(cli, src):
    spec = "examples/mirage.yaml"
    m = capgraph.load(src / spec)
    tasks = ["answer_7", "answer_2"]  # out of spec order: the CLI keeps the order given
    want = read_csv(cli("sweep", spec, "--points", 9, "--tasks", ",".join(tasks), "--format", "csv")[0])
    got = m.sweep(points=9, tasks=tasks)
    assert list(got.task.cat.categories) == tasks
    assert list(got.task.astype(str)) == list(want.task) and list(got.metric.astype(str)) == list(want.metric)
    assert same(got["value"], want["value"])
    want = read_csv(cli("sweep", spec, "--tasks", ",".join(tasks), "--format", "csv", "--summary")[0])
    got = m.emergence(tasks=tasks)
    assert list(got.task.cat.categories) == tasks
    assert list(got.task.astype(str)) == list(want.task) and list(got.metric.astype(str)) == list(want.metric)
    for col in ("min", "max", "breakthroughness", "crossing"):
        assert same(got[col], want[col].astype("float64")), col
    # Every task: the categories are the Model's tasks, in spec order.
    assert list(m.emergence(points=9).task.cat.categories) == m.tasks
