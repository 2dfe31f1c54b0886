"""capgraph from Python: capability dependency graphs over model scale.

The same engine as the ``capgraph`` command line (a compiled module,
``capgraph._core``), with results as pandas DataFrames and numpy arrays.
Every number is the one the CLI prints, to the bit.

Examples
--------
>>> import capgraph
>>> m = capgraph.load("examples/emoji_movie.yaml")
>>> m.bottleneck("emoji_movie", at=1e10)            # doctest: +SKIP
>>> m.sweep(points=61).query("metric == 'exact_match'")  # doctest: +SKIP

Scales are numbers (``1e10``) or strings as people write them (``"70B"``,
``"1.5T"``, ``"300M"``, ``"7e10"``). See docs/python.md for the whole API and
docs/measures.md for what each number means.
"""

import functools
import os
import threading

import numpy as np
import pandas as pd

from . import _core

__all__ = [
    "Model", "Map", "Plot", "FitResult", "Backtest", "SpecError", "DataError", "ModelError", "FitError",
    "load", "loads", "parse_scale", "analyze", "fit", "backtest", "budget",
]

__version__ = "0.1.0"

ModelError = _core.ModelError
ModelError.__doc__ = "The model cannot be evaluated as asked (e.g. too many shared skills for exact evaluation)."
FitError = _core.FitError
FitError.__doc__ = "The fit cannot run as asked (unknown skill, no usable rows, several families without a choice)."


class SpecError(ValueError):
    """A spec file that does not validate.

    The message is what ``capgraph check`` prints: one
    ``file:line:column: error: message[; hint]`` line per problem.

    Attributes
    ----------
    errors : list of tuple (int, int, str)
        ``(line, column, message)`` per problem, sorted by position (1-based;
        0 means the whole file). The message includes the hint, if any.
    file : str
        The file name used in the messages.
    """

    def __init__(self, file, errors, lines):
        super().__init__("\n".join(lines))
        self.file = file
        self.errors = errors


class DataError(ValueError):
    """An observations table that does not read.

    The message has one ``file:line: error: column `c`: message`` line per bad
    row, as ``capgraph analyze`` prints them; ``.errors`` lists those lines.
    """

    def __init__(self, lines):
        super().__init__("\n".join(lines))
        self.errors = list(lines)


_MAX_BYTES = 64 << 20
_MAX_NODES = 2_000_000


def parse_scale(value):
    """A scale as a float: a positive number, or text such as ``"70B"``.

    Parameters
    ----------
    value : float, int or str
        A positive finite number, or its text: ``"7e10"``, or a plain decimal
        with one suffix (any case): K 1e3, M 1e6, B or G 1e9, T 1e12, P 1e15
        (``"70B"``, ``"1.5T"``, ``"300M"``). The CLI reads its scale options
        (``--at``, ``--from``, ``--to``, ``--params``, ...) the same way.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For anything else (zero, negative, infinite, ``"1e3B"``, ...).
    """
    if isinstance(value, str):
        x = _core.parse_scale(value)
        if x is None:
            raise ValueError(f"expected a positive scale such as 1e10, 70B or 1.5T, got {value!r}")
        return x
    x = float(value)
    if not (np.isfinite(x) and x > 0):
        raise ValueError(f"expected a positive finite scale, got {value!r}")
    return x


def _scales(at):
    """1-d float64 array of scale points from a scalar, string or sequence."""
    if isinstance(at, (str, int, float, np.number)):
        return np.array([parse_scale(at)], dtype=np.float64)
    if isinstance(at, np.ndarray) and at.dtype.kind == "f":
        arr = np.ascontiguousarray(at, dtype=np.float64).ravel()
    else:
        arr = np.array([parse_scale(a) for a in at], dtype=np.float64)
    if arr.size == 0:
        raise ValueError("no scale points given")
    if not np.all(np.isfinite(arr) & (arr > 0)):
        raise ValueError("scale points must be positive and finite")
    return arr


def _ids(names):
    """None, or a list of ids from one id or a sequence of them."""
    if names is None:
        return None
    if isinstance(names, str):
        return [names]
    return list(names)


def _unique(names, what):
    """_ids(names), refusing an id named twice (one row per key in the results)."""
    ids = _ids(names)
    if ids is not None and len(set(ids)) != len(ids):
        raise ValueError(f"a {what} is named twice")
    return ids


def _load_result(result, file):
    model, errors, io_error = result
    if model is not None:
        return Model(model)
    if io_error:
        raise OSError(errors[0][5] if errors else f"{file}: cannot read")
    raise SpecError(file, [(e[1], e[2], e[3] + (f"; {e[4]}" if e[4] else "")) for e in errors],
                    [e[5] for e in errors])


def load(path, *, max_bytes=_MAX_BYTES, max_nodes=_MAX_NODES):
    """Load, validate and compile a spec file.

    Parameters
    ----------
    path : str or os.PathLike
        A YAML spec (docs/spec-format.md).
    max_bytes, max_nodes : int, optional
        Refuse larger files and specs (the CLI's ``--max-bytes``, ``--max-nodes``).

    Returns
    -------
    Model

    Raises
    ------
    SpecError
        The spec does not validate; the message lists every problem as
        ``file:line:column: error: ...``.
    OSError
        The file cannot be read.

    Examples
    --------
    >>> m = capgraph.load("examples/emoji_movie.yaml")   # doctest: +SKIP
    >>> m.tasks                                           # doctest: +SKIP
    ['emoji_movie', ...]
    """
    path = os.fspath(path)
    return _load_result(_core.load_file(path, max_bytes, max_nodes), path)


def loads(text, *, name="<string>", max_bytes=_MAX_BYTES, max_nodes=_MAX_NODES):
    """Load, validate and compile a spec given as text.

    Parameters
    ----------
    text : str
        The YAML text of a spec.
    name : str, optional
        The file name used in error messages.
    max_bytes, max_nodes : int, optional
        As for :func:`load`.

    Returns
    -------
    Model

    Raises
    ------
    SpecError
        The spec does not validate.
    """
    return _load_result(_core.load_text(text, name, max_bytes, max_nodes), name)


class _Table(pd.DataFrame):
    """A DataFrame that prints every column: pandas folds a frame wider than
    the terminal into "...", which hides most measures of a bottleneck
    table. Anything derived from it is a plain DataFrame."""

    @property
    def _constructor(self):
        return pd.DataFrame

    def __repr__(self):
        if len(self) <= (pd.get_option("display.max_rows") or len(self)):
            return self.to_string()
        return super().__repr__()


class Model:
    """A compiled, immutable capability model (made by :func:`load` / :func:`loads`).

    Methods that evaluate release the GIL, so several threads may evaluate
    one model at once.

    Attributes
    ----------
    nodes : list of str
        Every node id, in spec order (skills, then tasks).
    skills : list of str
        The skills (leaves), in spec order.
    tasks : list of str
        The tasks, in spec order.
    name : str
        The spec's ``name``.
    axis : {"params", "compute"}
        What a scale point is: parameters N, or training compute C in FLOPs.
    scale_range : tuple (float, float, int)
        The spec's default sweep: first and last point, number of points.
    """

    def __init__(self, core):
        self._m = core
        self.name = core.name
        self.axis = core.axis
        self.scale_range = tuple(core.scale_range)

    # The id lists are made when first asked for: 100,000 ids are a good
    # part of the time an evaluation takes, and most calls do not need them.
    @functools.cached_property
    def nodes(self):
        """Every node id, in spec order (skills, then tasks)."""
        return list(self._m.ids)

    @functools.cached_property
    def tasks(self):
        """The tasks, in spec order."""
        return [n for n, t in zip(self.nodes, self._m.is_task) if t]

    @functools.cached_property
    def skills(self):
        """The skills (leaves), in spec order."""
        return [n for n, t in zip(self.nodes, self._m.is_task) if not t]

    @functools.cached_property
    def _node_dtype(self):
        """The ``node`` column's categorical dtype (every node, spec order), shared by evaluations."""
        return pd.CategoricalDtype(self.nodes)

    @functools.cached_property
    def _task_dtype(self):
        """The ``task`` column's categorical dtype (every task, spec order), shared by sweeps."""
        return pd.CategoricalDtype(self.tasks)

    def _tasks_dtype(self, tasks):
        return self._task_dtype if tasks is None else pd.CategoricalDtype(tasks)

    def __repr__(self):
        return f"<capgraph.Model {self.name!r}: {len(self.skills)} skills, {len(self.tasks)} tasks, axis {self.axis}>"

    def _limits(self, max_shared_expanded, max_shared_work):
        return int(max_shared_expanded), float(max_shared_work)

    def _range(self, start, stop, points):
        """The sweep's scale points: the spec's range unless given (as ``capgraph sweep``)."""
        a, b, n = self.scale_range
        a = a if start is None else parse_scale(start)
        b = b if stop is None else parse_scale(stop)
        n = n if points is None else int(points)
        if n < 1:
            raise ValueError("points must be at least 1")
        if not (a < b or (a == b and n == 1)):
            raise ValueError(f"the sweep range must increase: start {a:g}, stop {b:g}")
        return _core.log_spaced(a, b, n)

    def kind(self, node):
        """``"skill"``, or a task's gate (``"all"``, ``"any"``, ``"at_least"``, ``"best_of"``, ``"mean"``)."""
        return self._m.kinds[self._index(node)]

    def metrics(self, task):
        """The metric labels a task reports (e.g. ``["exact_match", "partial_credit", "log_likelihood"]``)."""
        return list(self._m.metrics(task))

    def threshold(self, task):
        """The emergence threshold of a task (its own, else the spec's ``threshold``)."""
        return self._m.threshold(task)

    def _index(self, node):
        try:
            return self.nodes.index(node)
        except ValueError:
            raise KeyError(f"no node `{node}` in the spec") from None

    def points(self, at):
        """What each scale point means: x, parameters N, tokens D, compute C.

        Parameters
        ----------
        at : float, str or sequence
            Scale points on the spec's axis.

        Returns
        -------
        pandas.DataFrame
            Columns ``at, N, D, C, data_limited`` (docs/measures.md §1).
        """
        d = _core.points(self._m, list(_scales(at)))
        return pd.DataFrame({"at": d["x"], "N": d["N"], "D": d["D"], "C": d["C"], "data_limited": d["data_limited"]})

    def p(self, at, nodes=None, *, threads=0, max_shared_expanded=0, max_shared_work=2e9):
        """Success probabilities P as an array.

        Parameters
        ----------
        at : float, str or sequence
            Scale points (``1e10``, ``"70B"``, ``np.geomspace(1e8, 1e13, 61)``).
        nodes : sequence of str, optional
            Node ids (default: every node, in spec order). Only these nodes'
            prerequisites are evaluated.
        threads : int, optional
            Worker threads over blocks of points (0: every core). The values
            do not depend on it.
        max_shared_expanded, max_shared_work : optional
            Limits of the exact evaluation of shared skills (the CLI's flags).

        Returns
        -------
        numpy.ndarray
            Shape ``(len(nodes), len(at))``, float64.
        """
        return _core.p(self._m, _scales(at), _ids(nodes), threads,
                       *self._limits(max_shared_expanded, max_shared_work))

    def log_p(self, at, nodes=None, *, threads=0, max_shared_expanded=0, max_shared_work=2e9):
        """ln P as an array: a read-only view of the engine's own memory.

        Like :meth:`p`, but ln P is what the engine stores (docs/measures.md §2),
        so the array is handed over without a copy. It may hold ``-inf``
        where P is exactly 0, and stays finite where P underflows.

        Returns
        -------
        numpy.ndarray
            Shape ``(len(nodes), len(at))``, float64, read-only.
        """
        return _core.log_p(self._m, _scales(at), _ids(nodes), threads,
                           *self._limits(max_shared_expanded, max_shared_work))

    def evaluate(self, at, nodes=None, metrics=None, *, threads=0, max_shared_expanded=0, max_shared_work=2e9):
        """Every node's P and metrics, in long form (as ``capgraph eval``).

        Parameters
        ----------
        at : float, str or sequence
            Scale points.
        nodes : sequence of str, optional
            Node ids (default: all, in spec order).
        metrics : sequence of str, optional
            Only these quantities: ``p``, ``log_p``, ``partial_credit``,
            ``steps`` (every node) and the tasks' metrics (``exact_match``,
            ``log_likelihood``, ``log_likelihood_per_step``,
            ``multiple_choice:K``, ``pass_at:k``).

        Returns
        -------
        pandas.DataFrame
            The columns of ``capgraph eval --format csv``: ``node, kind, at,
            metric, value``; one row per (node, at, metric), ordered by node,
            metric, then at. ``node``, ``kind`` and ``metric`` are
            categoricals. A task's ``partial_credit`` metric is its
            ``partial_credit`` row (listed once).

        Examples
        --------
        >>> m.evaluate(1e10, nodes=["emoji_movie"]).pivot(index="metric", columns="at", values="value")  # doctest: +SKIP
        """
        xs = _scales(at)
        ids = _unique(nodes, "node")
        wanted = _ids(metrics)
        node_c, kind_c, kinds, at_col, metric_c, labels, value = _core.evaluate_long(
            self._m, xs, ids, wanted, threads, *self._limits(max_shared_expanded, max_shared_work))
        if wanted is not None:
            unknown = [w for w in wanted if w not in labels]
            if unknown:
                raise ValueError(f"no node reports {', '.join(unknown)}")
        # The engine hands each column over in the dtype it keeps, and
        # copy=False keeps pandas from copying the two float columns into one
        # block: the frame holds the engine's arrays themselves.
        node_dtype = self._node_dtype if ids is None else pd.CategoricalDtype(ids)
        return pd.DataFrame({
            "node": pd.Categorical.from_codes(node_c, dtype=node_dtype),
            "kind": pd.Categorical.from_codes(kind_c, categories=kinds),
            "at": at_col,
            "metric": pd.Categorical.from_codes(metric_c, categories=labels),
            "value": value,
        }, copy=False)

    def sweep(self, start=None, stop=None, points=None, tasks=None, *, threads=0,
              max_shared_expanded=0, max_shared_work=2e9):
        """Every task's metric curves over scale (as ``capgraph sweep --format csv``).

        Parameters
        ----------
        start, stop : float or str, optional
            First and last scale point (default: the spec's ``scale.range``).
        points : int, optional
            Number of log-spaced points (default: the spec's ``scale.points``).
        tasks : sequence of str, optional
            Only these tasks (default: all). Only their prerequisites are evaluated.

        Returns
        -------
        pandas.DataFrame
            Columns ``task, metric, at, N, D, C, value``, one row per (task,
            metric, at), in the CLI's order. ``log_likelihood`` is followed by
            ``log_likelihood_per_step`` (ln P / steps).
        """
        xs = self._range(start, stop, points)
        d = _core.sweep(self._m, xs, _unique(tasks, "task"), True, False, threads,
                        *self._limits(max_shared_expanded, max_shared_work))
        values = d["values"]
        n_series, n_points = values.shape
        pts = d["points"]
        return pd.DataFrame({
            "task": pd.Categorical.from_codes(np.repeat(d["series_task"], n_points),
                                              dtype=self._tasks_dtype(d["tasks"])),
            "metric": pd.Categorical.from_codes(np.repeat(d["series_metric"], n_points),
                                                categories=d["metric_labels"]),
            "at": np.tile(pts["x"], n_series),
            "N": np.tile(pts["N"], n_series),
            "D": np.tile(pts["D"], n_series),
            "C": np.tile(pts["C"], n_series),
            "value": values.ravel(),
        })

    def emergence(self, start=None, stop=None, points=None, tasks=None, *, threads=0,
                  max_shared_expanded=0, max_shared_work=2e9):
        """How "emergent" each task's curves look (as ``capgraph sweep --format csv --summary``).

        Parameters
        ----------
        start, stop, points, tasks : optional
            As for :meth:`sweep`; the measures use exactly these points.

        Returns
        -------
        pandas.DataFrame
            One row per (task, metric): ``task, metric, min, max,
            breakthroughness, x10, x90, transition_width_decades, threshold,
            crossing, reached_at_start`` (docs/measures.md §5), the columns
            of the CLI's ``--summary`` CSV. Undefined measures are NaN (also
            where the sweep has too few points: breakthroughness needs 4,
            the transition width 3); ``threshold`` and ``crossing`` apply
            to metrics valued in [0, 1] only.
        """
        xs = self._range(start, stop, points)
        d = _core.sweep(self._m, xs, _unique(tasks, "task"), False, True, threads,
                        *self._limits(max_shared_expanded, max_shared_work))
        columns = {
            "task": pd.Categorical.from_codes(d["series_task"], dtype=self._tasks_dtype(d["tasks"])),
            "metric": pd.Categorical.from_codes(d["series_metric"], categories=d["metric_labels"]),
        }
        for col in ("min", "max", "breakthroughness", "x10", "x90", "transition_width_decades", "threshold",
                    "crossing", "reached_at_start"):
            columns[col] = d[col]
        return _Table(columns, copy=False)

    def bottleneck(self, task, at, *, by="potential", skills=False, top=None, threads=0,
                   max_shared_expanded=0, max_shared_work=2e9):
        """Which prerequisites hold a task back (as ``capgraph bottleneck --format csv``).

        Parameters
        ----------
        task : str
            The task.
        at : float, str or sequence
            One scale point or several (one ranked table each, stacked).
        by : {"potential", "birnbaum", "criticality", "drive"}, optional
            The ranking measure (descending; ties in spec order).
        skills : bool, optional
            Skills (leaves) only, not intermediate tasks.
        top : int, optional
            Only the first ``top`` rows of each table.
        threads : int, optional
            Workers for the improvement potentials (0: every core).

        Returns
        -------
        pandas.DataFrame
            The columns of ``capgraph bottleneck --format csv``: ``at, p_task,
            rank, node, kind, p, uses, birnbaum, criticality,
            improvement_potential, scale_drive, mc_improvement_potential,
            mc_std_error`` (docs/measures.md §6), one row per (at, rank).
            ``p_task`` is the task's P at ``at``; ``scale_drive`` is NaN for
            tasks; the Monte Carlo pair is NaN (only the CLI's
            ``--monte-carlo`` fills it). ``df.attrs`` holds ``critical_path``
            and ``dp_task_dlog10x`` (of the last point).

        Examples
        --------
        >>> capgraph.load("examples/emoji_movie.yaml").bottleneck("emoji_movie", at=1e10)  # doctest: +SKIP
        """
        frames, attrs = [], {}
        for x in _scales(at):
            d = _core.bottleneck(self._m, task, float(x), by, bool(skills), threads,
                                 *self._limits(max_shared_expanded, max_shared_work))
            n = len(d["node"]) if top is None or top <= 0 else min(int(top), len(d["node"]))
            frames.append(pd.DataFrame({
                "at": np.full(n, d["x"]),
                "p_task": np.full(n, d["p_task"]),
                "rank": np.arange(1, n + 1),
                "node": d["node"][:n],
                "kind": d["kind"][:n],
                "p": d["p"][:n],
                "uses": d["uses"][:n],
                "birnbaum": d["birnbaum"][:n],
                "criticality": d["criticality"][:n],
                "improvement_potential": d["improvement_potential"][:n],
                "scale_drive": np.array([np.nan if v is None else v for v in d["scale_drive"][:n]], dtype=np.float64),
                "mc_improvement_potential": np.full(n, np.nan),
                "mc_std_error": np.full(n, np.nan),
            }))
            attrs = {"task": task, "ranked_by": by, "critical_path": d["critical_path"],
                     "dp_task_dlog10x": d["dp_task_dlog10x"]}
        df = _Table(pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0])
        df.attrs.update(attrs)
        return df

    def bottleneck_over(self, task, start=None, stop=None, points=None, *, by="potential", skills=False,
                        threads=0, max_shared_expanded=0, max_shared_work=2e9):
        """At which scales the top bottleneck changes hands (as ``capgraph bottleneck --over``).

        Parameters
        ----------
        task : str
            The task.
        start, stop, points : optional
            The sweep (default: the spec's range and points).
        by, skills : optional
            As for :meth:`bottleneck`.

        Returns
        -------
        pandas.DataFrame
            Columns ``from, to, bottleneck``: runs of consecutive points with
            the same top-ranked prerequisite.
        """
        xs = self._range(start, stop, points)
        runs = _core.bottleneck_over(self._m, task, xs, by, bool(skills), threads,
                                     *self._limits(max_shared_expanded, max_shared_work))
        return _Table(pd.DataFrame(runs, columns=["from", "to", "bottleneck"]).astype({"from": "float64", "to": "float64"}))

    def render(self, at, task=None, format="svg", *, measure="potential", focus=None, depth=-1,
               direction="BT", title="", clusters=True, legend=True, node_limit=1500, max_nodes=15000,
               max_shared_expanded=0, max_shared_work=2e9):
        """The capability map at one scale point (as ``capgraph render``).

        Parameters
        ----------
        at : float or str
            The scale point.
        task : str, optional
            Overlay this task's bottlenecks: edge widths by ``measure`` and
            the critical path in bold.
        format : {"svg", "png", "dot"}, optional
        measure : {"potential", "birnbaum"}, optional
        focus : str, optional
            Draw only this node's cone; ``depth`` levels of it (-1: all).
        direction : {"BT", "TB", "LR", "RL"}, optional
            Where prerequisites go (BT: below the tasks that use them).
        title : str, optional
            Title above the map (default: the spec's name and the scale).
        clusters, legend : bool, optional
            A box per group; the colour legend.
        node_limit, max_nodes : int, optional
            The large-map strategy's limits (the CLI's ``--node-limit``,
            ``--max-map-nodes``).

        Returns
        -------
        Map
            Shows itself in Jupyter; ``.save(path)`` writes it.
        """
        x = float(_scales(at)[0])
        data, notes = _core.render_map(self._m, x, task, format, measure, focus, int(depth), direction, title,
                                       bool(clusters), bool(legend), int(node_limit), int(max_nodes),
                                       *self._limits(max_shared_expanded, max_shared_work))
        return Map(data, format, notes)

    def plot(self, tasks=None, metrics=None, start=None, stop=None, points=None, *, per_step=False, title="",
             max_shared_expanded=0, max_shared_work=2e9):
        """Metric curves over scale as SVG, one panel per metric (as ``capgraph plot``).

        Parameters
        ----------
        tasks : sequence of str, optional
            Tasks to draw (default: all).
        metrics : sequence of str, optional
            One panel each (``"exact_match"``, ``"partial_credit"``,
            ``"log_likelihood"``, ``"multiple_choice:4"``, ``"pass_at:10"``);
            default: the tasks' own.
        start, stop, points : optional
            The sweep for the emergence measures (default: the spec's).
        per_step : bool, optional
            Log-likelihood panel in ln P per step.
        title : str, optional

        Returns
        -------
        Plot
            Shows itself in Jupyter; ``.save(path)`` writes the SVG.
        """
        data, notes = _core.render_plot(self._m, _ids(tasks), _ids(metrics),
                                        None if start is None else parse_scale(start),
                                        None if stop is None else parse_scale(stop),
                                        None if points is None else int(points), bool(per_step), title,
                                        *self._limits(max_shared_expanded, max_shared_work))
        return Plot(data, "svg", notes)


class _Drawing:
    """A rendered figure: bytes in one format, shown by Jupyter, saved with :meth:`save`."""

    def __init__(self, data, format, notes):
        self.data = data
        self.format = format
        self.notes = list(notes)

    def _repr_svg_(self):
        return self.data.decode("utf-8") if self.format == "svg" else None

    def _repr_png_(self):
        return self.data if self.format == "png" else None

    def __str__(self):
        return self.data.decode("utf-8") if self.format in ("svg", "dot") else repr(self)

    def __repr__(self):
        return f"<capgraph.{type(self).__name__}: {self.format}, {len(self.data)} bytes>"

    def save(self, path):
        """Write the figure to ``path`` (whole or not at all: a temporary renamed over it).

        Parameters
        ----------
        path : str or os.PathLike
        """
        path = os.fspath(path)
        tmp = f"{path}.tmp{os.getpid()}.{threading.get_ident()}"
        try:
            with open(tmp, "wb") as f:
                f.write(self.data)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


class Map(_Drawing):
    """A capability map (:meth:`Model.render`). ``.data`` holds the SVG, PNG or DOT bytes;
    ``.notes`` what the large-map strategy did, if anything."""


class Plot(_Drawing):
    """Metric curves (:meth:`Model.plot`). ``.data`` holds the SVG bytes."""


# ---- observations ----------------------------------------------------------

def _observations(df_or_path, map, lower_is_better, need_train_flops):
    """An observations table read by the engine's reader, from a path or a DataFrame."""
    task_to_node = dict(map or {})
    lower = list(lower_is_better or [])
    if isinstance(df_or_path, pd.DataFrame):
        # CSV text with repr-exact floats: the rows read as the CLI reads a file.
        text = df_or_path.to_csv(index=False, float_format=repr)
        obs, errors, io_error, notes = _core.read_observations(None, text, "<DataFrame>", task_to_node, lower,
                                                               need_train_flops)
    else:
        obs, errors, io_error, notes = _core.read_observations(os.fspath(df_or_path), None, "", task_to_node,
                                                               lower, need_train_flops)
    if obs is None:
        if io_error:
            raise OSError("\n".join(errors))
        raise DataError(errors)
    return obs


def analyze(df_or_path, *, threshold=0.5, axis="params", lower_is_better=(), map=None):
    """Emergence measures of measured score series (as ``capgraph analyze``).

    Parameters
    ----------
    df_or_path : pandas.DataFrame, str or os.PathLike
        Observations: columns ``task, family, params, metric, score`` and
        optionally ``shots, model, train_flops, n, node`` (docs/analysis.md).
    threshold : float, optional
        Crossing level for metrics valued in [0, 1].
    axis : {"params", "compute"}, optional
        Scale of each model: ``params``, or the ``train_flops`` column.
    lower_is_better : sequence of str, optional
        Metrics to read as lower-is-better (Brier and loss are known).
    map : dict, optional
        Task of the data -> spec node.

    Returns
    -------
    pandas.DataFrame
        One row per (task, family, metric) series, ordered by task, family
        and metric, with the CLI's CSV columns (``points``, ``rows``,
        ``breakthroughness``, ``transition_width``, ``crossing``,
        ``monotone``, the paired discrete metric, ``note``, ...) plus ``at``
        and ``value``, the series itself (lists; models tied at one scale
        averaged). A measure the series is too short for is NaN, and
        ``note`` says why.

    Raises
    ------
    DataError
        A row does not read (every bad row is listed).
    """
    if axis not in ("params", "compute"):
        raise ValueError("axis must be params or compute")
    obs = _observations(df_or_path, map, lower_is_better, axis == "compute")
    rows = _core.analyze(obs, float(threshold), axis == "compute")
    df = pd.DataFrame(rows)
    if len(df):
        df["crossing_status"] = [s if s else f"{c:.3g}" for s, c in zip(df["crossing_status"], df["crossing"])]
        for col in ("breakthroughness", "transition_width", "x10", "x90", "threshold", "crossing",
                    "paired_breakthroughness"):
            df[col] = df[col].astype("float64")
    return df


class FitResult:
    """What :func:`fit` found.

    Attributes
    ----------
    params : pandas.DataFrame
        ``skill, parameter, start, value, se, low, high, at_bound, identified``:
        the fitted curve parameters with standard errors and the 95 % interval
        value ± q se, q the Student t quantile with the residual degrees of
        freedom (normal for a binomial fit); NaN where the data do not
        identify a parameter.
    intervals : pandas.DataFrame
        ``task, metric, threshold, crossing, low, high, at_start, from, to``:
        per task, the forecast scale where its metric reaches the threshold,
        with its 95 % profile-likelihood interval (NaN low: open below;
        NaN high: open above or not available).
    predictions : pandas.DataFrame
        ``task, family, metric, node, line, x, observed, predicted, n, train,
        low, high``: every observation used, with the fitted model's value
        and its 95 % prediction interval (docs/analysis.md).
    backtest : pandas.DataFrame
        With ``train_below``: per series, the held-out errors of the graph
        and of a per-series logistic, and the crossing checks. Empty otherwise.
    offsets : pandas.DataFrame
        With ``pool=True``: ``family, reference, rows, rows_train,
        log10_offset, se, multiplier, low, high``, one row per family, the
        reference first (offset 0, ``se`` NaN), then by name. A family at
        scale x scores like the reference at x times ``multiplier``
        (10^log10_offset), with its 95 % interval ``low``-``high``
        (docs/analysis.md, "Families pooled"). Empty otherwise.
    model : Model
        The spec with the fitted curves, compiled.
    likelihood : str
        ``binomial`` or ``logit_least_squares``.
    objective, sigma : float
        The objective at the optimum; the residual SD on the logit (least squares).
    identified : bool
        Whether the curvature at the optimum is positive definite.
    status : str
        ``ok``, ``not converged`` or ``not identified``: only ``ok`` is a
        result (forecasts and intervals are empty otherwise).
    starts, starts_at_best : int
        Optimiser starts, and how many reached the best objective.
    warnings, notes : list of str
    """

    def __init__(self, d):
        self.model = Model(d["model"])
        self.likelihood = d["likelihood"]
        self.objective = d["objective"]
        self.sigma = d["sigma"]
        self.rows_used = d["rows_used"]
        self.rows_train = d["rows_train"]
        self.evaluations = d["evaluations"]
        self.identified = d["identified"]
        self.train_below = d["train_below"]
        self.notes = list(d["notes"])
        self.warnings = list(d["warnings"])
        self.status = d["status"]
        self.starts, self.starts_at_best = d["starts"]
        self.params = pd.DataFrame(d["parameters"], columns=["skill", "parameter", "start", "value", "se", "low",
                                                             "high", "at_bound", "identified"])
        f = pd.DataFrame(d["forecasts"], columns=["task", "metric", "threshold", "crossing", "low", "high",
                                                  "at_start", "from", "to"])
        self.intervals = f.astype({c: "float64" for c in ("crossing", "low", "high")})
        pr = pd.DataFrame(d["predictions"], columns=["task", "family", "metric", "node", "line", "x", "observed",
                                                     "predicted", "n", "train", "low", "high"])
        self.predictions = pr.astype({"n": "float64", "low": "float64", "high": "float64"})
        b = pd.DataFrame(d["backtest"], columns=["task", "family", "metric", "n_train", "n_test", "mae_graph",
                                                 "mae_baseline", "observed_crossing", "graph_crossing",
                                                 "baseline_crossing", "crossed_in_training", "graph_check",
                                                 "baseline_check"])
        self.backtest = b.astype({c: "float64" for c in ("mae_graph", "mae_baseline", "observed_crossing",
                                                         "graph_crossing", "baseline_crossing")})
        o = pd.DataFrame(d["offsets"], columns=["family", "reference", "rows", "rows_train", "log10_offset", "se",
                                                "multiplier", "low", "high"])
        self.offsets = o.astype({"reference": "bool", "rows": "int64", "rows_train": "int64"} |
                                {c: "float64" for c in ("log10_offset", "se", "multiplier", "low", "high")})

    def __repr__(self):
        return (f"<capgraph.FitResult: {len(self.params)} parameter(s), {self.rows_train} observation(s), "
                f"{self.likelihood}, objective {self.objective:.6g}>")


def fit(model, df_or_path, *, family=None, pool=False, fit_only=None, fixed=None, train_below=None, logit_floor=1e-3,
        max_evaluations=20000, map=None, lower_is_better=()):
    """Fit a model's skill curves to observations through the graph (as ``capgraph fit``).

    Parameters
    ----------
    model : Model
    df_or_path : pandas.DataFrame, str or os.PathLike
        Observations, as for :func:`analyze`.
    family : str, optional
        Use only this model family's rows (needed when the data hold several
        and ``pool`` is not set). With ``pool``, hold out only this family's
        rows at or above ``train_below``; every other family's rows train.
    pool : bool, optional
        Fit every family at once (the CLI's ``--pool``): shared skill curves,
        each family's scale shifted by a fitted offset in log10 x, reported in
        :attr:`FitResult.offsets`.
    fit_only, fixed : sequence of str, optional
        Fit only these skills; keep these as declared.
    train_below : float or str, optional
        Backtest: fit on the rows below this scale, score the forecast above it.
    logit_floor : float, optional
        Least squares on the logit: clamp scores to [f, 1 - f].
    max_evaluations : int, optional
        Per optimiser run.
    map : dict, optional
        Task of the data -> spec node.
    lower_is_better : sequence of str, optional

    Returns
    -------
    FitResult

    Raises
    ------
    FitError
        The fit cannot run as asked.
    DataError
        The observations do not read.
    """
    obs = _observations(df_or_path, map, lower_is_better, model.axis == "compute")
    d = _core.fit(model._m, obs, _ids(fit_only) or [], _ids(fixed) or [], family, bool(pool),
                  None if train_below is None else parse_scale(train_below), float(logit_floor),
                  int(max_evaluations))
    return FitResult(d)


class Backtest:
    """What :func:`backtest` found: every family's last two models forecast from the rest.

    Attributes
    ----------
    rows : pandas.DataFrame
        One row per (family, task, metric) series, by family, task, metric:
        ``family, task, metric, cut, fit_status, n_train, n_test, mae_graph,
        mae_logistic, mae_flat, inside, no_interval`` (the columns of ``fit
        --backtest --format csv``). ``cut``: the family's rows at or above it
        are held out; ``mae_*``: mean absolute error on the held-out points of
        the graph, of a logistic in log10 x fitted to the series' training
        points and of a flat forecast (its last training score);
        ``mae_graph`` is NaN when the family's fit is not a result
        (``fit_status`` not ``ok``); ``inside``: held-out points inside their
        95 % prediction interval, ``no_interval``: those without one.
    totals : dict
        ``backtests, graph_le_logistic, graph_lt_flat, points, inside,
        no_interval, no_forecast, mean_mae_graph, mean_mae_logistic,
        mean_mae_flat``, the CLI's JSON ``totals`` (``mean_mae_graph`` over
        the backtests with a forecast, NaN when none has one).
    notes : list of str
        Families and series left out, and why; fits that are not a result.
    pool : bool
        Whether every other family's rows trained too.
    """

    def __init__(self, d):
        self.pool = d["pool"]
        r = pd.DataFrame(d["rows"], columns=["family", "task", "metric", "cut", "fit_status", "n_train", "n_test",
                                             "mae_graph", "mae_logistic", "mae_flat", "inside", "no_interval"])
        self.rows = r.astype({"cut": "float64", "n_train": "int64", "n_test": "int64", "mae_graph": "float64",
                              "mae_logistic": "float64", "mae_flat": "float64", "inside": "int64",
                              "no_interval": "int64"})
        self.totals = dict(d["totals"])
        self.notes = list(d["notes"])

    def __repr__(self):
        t = self.totals
        return (f"<capgraph.Backtest{' (pooled)' if self.pool else ''}: {t['backtests']} backtest(s), graph MAE <= "
                f"logistic's in {t['graph_le_logistic']}, < flat's in {t['graph_lt_flat']}; "
                f"{t['inside']}/{t['points']} held-out points inside their 95% interval>")


def backtest(model, df_or_path, *, pool=False, fit_only=None, fixed=None, logit_floor=1e-3, max_evaluations=20000,
             map=None, lower_is_better=()):
    """Forecast every family's last two models from the rest (as ``capgraph fit --backtest``).

    For each family with at least 4 model scales, its rows at or above its
    second-largest scale are held out, the graph is fitted to the rest, and
    each (task, metric) series is scored on the held-out models against a
    per-series logistic in log10 x and a flat forecast fitted to the same
    training points (docs/analysis.md, "Backtest of every family").

    Parameters
    ----------
    model : Model
    df_or_path : pandas.DataFrame, str or os.PathLike
        Observations, as for :func:`analyze`.
    pool : bool, optional
        Every other family's rows train as well (the CLI's ``--pool``), each
        family shifted by its own offset; else one family per fit.
    fit_only, fixed, logit_floor, max_evaluations, map, lower_is_better : optional
        As for :func:`fit`.

    Returns
    -------
    Backtest
        ``.rows`` (DataFrame), ``.totals`` (dict), ``.notes``.

    Raises
    ------
    FitError
        The backtest cannot run as asked (e.g. an unknown skill).
    DataError
        The observations do not read.

    Examples
    --------
    >>> b = capgraph.backtest(m, "examples/data/arithmetic_open_models.csv", pool=True)   # doctest: +SKIP
    >>> b.totals["graph_le_logistic"], b.rows.groupby("family").mae_graph.mean()          # doctest: +SKIP
    """
    obs = _observations(df_or_path, map, lower_is_better, model.axis == "compute")
    return Backtest(_core.backtest(model._m, obs, _ids(fit_only) or [], _ids(fixed) or [], bool(pool),
                                   float(logit_floor), int(max_evaluations)))


# ---- budget ----------------------------------------------------------------

def budget(params=None, compute=None, *, tokens_per_param=None, bytes_per_token=4.0, stock_tokens=3e14,
           data_limit=None, law="chinchilla", check_bytes=None):
    """The Chinchilla data and compute budget (as ``capgraph budget --format json``).

    Give exactly one of ``params`` or ``compute``. From ``params`` N the
    tokens are D = R N with R = ``tokens_per_param`` (20 by default, the
    Chinchilla rule of thumb). From ``compute`` C the split minimises the
    law's loss at C = 6 N D (about 98 tokens per parameter at 1e24 FLOP
    under ``chinchilla``), unless ``tokens_per_param`` R is given: then
    N = sqrt(C / (6 R)) and D = R N.

    Parameters
    ----------
    params : float or str, optional
        Model parameters N (``1e14``, ``"70B"``).
    compute : float or str, optional
        Training compute C in FLOPs.
    tokens_per_param : float, optional
        Training tokens per parameter R (fixes the ratio for both).
    bytes_per_token : float, optional
        Bytes of text per token (BPE on English: about 4).
    stock_tokens : float, optional
        Estimated stock of public human text (Villalobos et al. 2024: 3e14).
    data_limit : float or str, optional
        Cap on training tokens D.
    law : {"chinchilla", "epoch2024"}, optional
    check_bytes : float or str, optional
        A claimed text size in bytes: adds the bytes per token it implies.

    Returns
    -------
    dict
        The CLI's JSON, key for key: ``law, rule, params, tokens,
        data_limited, tokens_per_param, bytes_per_token, text_bytes,
        compute_flop, loss_nats_per_token, stock_tokens, tokens_over_stock``
        (and with ``check_bytes``, ``claimed_bytes`` and
        ``claimed_bytes_implied_bytes_per_token``). ``rule`` is
        ``fixed_ratio`` or ``compute_optimal``; ``tokens_per_param`` is
        D / N whichever rule set it.
    """
    if (params is None) == (compute is None):
        raise ValueError("budget needs exactly one of params or compute")
    for name, v in (("tokens_per_param", tokens_per_param), ("bytes_per_token", bytes_per_token),
                    ("stock_tokens", stock_tokens)):
        if v is not None and not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be positive")
    x = parse_scale(compute if params is None else params)
    return _core.budget(params is None, x, None if tokens_per_param is None else float(tokens_per_param),
                        None if data_limit is None else parse_scale(data_limit), law, float(bytes_per_token),
                        float(stock_tokens), None if check_bytes is None else parse_scale(check_bytes))
