// capgraph/python/src/core.cpp — capgraph._core, the compiled half of the
// Python package (python/capgraph/__init__.py is the pandas-facing half).
//
// Only the library's public API is used (specs::load_spec_*, Model::compile,
// evaluate, importance, analyze_emergence, render_map, render_plot, the
// analysis layer), so every number is the one the CLI prints. Results come
// back as numpy arrays and plain lists; __init__.py builds the DataFrames.
// Every call that evaluates the model releases the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "analysis/backtest.hpp"
#include "analysis/fit.hpp"
#include "analysis/observations.hpp"
#include "analysis/series_analysis.hpp"
#include "graph/budget.hpp"
#include "graph/emergence.hpp"
#include "graph/evaluation.hpp"
#include "graph/importance.hpp"
#include "graph/model.hpp"
#include "graph/scale_axis.hpp"
#include "graph/scale_text.hpp"
#include "render/map.hpp"
#include "render/plot.hpp"
#include "specs/load.hpp"

namespace py = pybind11;
using namespace capgraph;

namespace {

using ModelPtr = std::shared_ptr<Model>;  // pybind11 holders hold non-const types

// ---- loading ----------------------------------------------------------------

// (model or None, [(file, line, column, message, hint, text)], io_error):
// the Python side raises SpecError or OSError from the list.
py::tuple finish_load(specs::LoadResult r, const std::string& file) {
  py::list errors;
  auto add = [&](const std::string& f, int line, int column, const std::string& message, const std::string& hint,
                 const std::string& text) { errors.append(py::make_tuple(f, line, column, message, hint, text)); };
  if (!r.ok()) {
    for (const auto& d : r.errors) add(d.file, d.line, d.column, d.message, d.hint, d.to_string());
    return py::make_tuple(py::none(), errors, r.io_error);
  }
  try {
    ModelPtr m;
    {
      py::gil_scoped_release nogil;
      m = std::make_shared<Model>(Model::compile(std::move(*r.spec)));
    }
    return py::make_tuple(py::cast(m), errors, false);
  } catch (const ModelError& e) {
    // As the CLI prints it (cli/common.cpp load_model).
    const std::string text = file + ":" + std::to_string(e.loc().line) + ":" + std::to_string(e.loc().column) +
                             ": error: " + e.what();
    add(file, e.loc().line, e.loc().column, e.what(), "", text);
    return py::make_tuple(py::none(), errors, false);
  }
}

specs::LoadOptions load_options(std::size_t max_bytes, std::size_t max_nodes) {
  specs::LoadOptions o;
  o.max_bytes = max_bytes;
  o.max_nodes = max_nodes;
  return o;
}

py::tuple load_file(const std::string& path, std::size_t max_bytes, std::size_t max_nodes) {
  specs::LoadResult r;
  {
    py::gil_scoped_release nogil;
    r = specs::load_spec_file(path, load_options(max_bytes, max_nodes));
  }
  return finish_load(std::move(r), path == "-" ? "<stdin>" : path);
}

py::tuple load_text(const std::string& text, const std::string& name, std::size_t max_bytes, std::size_t max_nodes) {
  specs::LoadResult r;
  {
    py::gil_scoped_release nogil;
    r = specs::load_spec_text(text, name, load_options(max_bytes, max_nodes));
  }
  return finish_load(std::move(r), name);
}

// ---- arguments --------------------------------------------------------------

std::vector<double> scales(const py::array_t<double, py::array::c_style | py::array::forcecast>& at) {
  std::vector<double> xs(at.data(), at.data() + at.size());
  for (double x : xs)
    if (!(std::isfinite(x) && x > 0)) throw py::value_error("scale points must be positive and finite");
  return xs;
}

std::size_t node_index(const Model& m, const std::string& id, bool tasks_only) {
  const auto v = m.find(id);
  if (!v) throw py::key_error("no node `" + id + "` in the spec");
  if (tasks_only && !m.node(*v).is_task) throw py::value_error("`" + id + "` is a skill, not a task");
  return *v;
}

std::string kind_of(const NodeSpec& n) { return n.is_task ? gate_kind_name(n.gate) : "skill"; }

std::vector<std::size_t> node_indices(const Model& m, const std::optional<std::vector<std::string>>& ids,
                                      bool tasks_only) {
  std::vector<std::size_t> out;
  if (!ids) {
    if (tasks_only) return m.tasks();
    for (std::size_t v = 0; v < m.size(); ++v) out.push_back(v);
    return out;
  }
  for (const auto& id : *ids) out.push_back(node_index(m, id, tasks_only));
  return out;
}

EvalOptions engine(unsigned threads, int max_shared_expanded, double max_shared_work) {
  EvalOptions o;
  o.threads = threads;
  o.max_shared_expanded = max_shared_expanded;
  o.max_shared_work = max_shared_work;
  return o;
}

// ---- evaluation -------------------------------------------------------------

// An Evaluation with the model it points into, owned by the numpy arrays
// that view its memory.
struct Held {
  ModelPtr model;
  Evaluation ev;
};

std::shared_ptr<Held> run(const ModelPtr& m, std::vector<double> xs, std::optional<std::vector<std::size_t>> keep,
                          EvalOptions eo) {
  eo.keep = std::move(keep);
  py::gil_scoped_release nogil;
  return std::make_shared<Held>(Held{m, evaluate(*m, xs, eo)});
}

// ln P, shape (nodes, points): a view of the engine's own rows when they lie
// in the order asked for (always, unless a node is named twice), else a copy.
py::array_t<double> log_p(const ModelPtr& m, const py::array_t<double, py::array::c_style | py::array::forcecast>& at,
                          const std::optional<std::vector<std::string>>& nodes, unsigned threads, int mse, double msw) {
  const auto idx = node_indices(*m, nodes, false);
  auto h = run(m, scales(at), nodes ? std::optional(idx) : std::nullopt, engine(threads, mse, msw));
  const std::size_t np = h->ev.num_points(), nn = idx.size();
  if (nn == 0 || np == 0) return py::array_t<double>({nn, np});
  const double* base = h->ev.log_p_row(idx[0]).data();
  bool contiguous = true;
  for (std::size_t i = 0; i < nn && contiguous; ++i) contiguous = h->ev.log_p_row(idx[i]).data() == base + i * np;
  if (contiguous) {
    auto* owner = new std::shared_ptr<Held>(h);
    py::capsule cap(owner, [](void* p) { delete static_cast<std::shared_ptr<Held>*>(p); });
    py::array_t<double> a({nn, np}, {np * sizeof(double), sizeof(double)}, base, cap);
    py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return a;
  }
  py::array_t<double> out({nn, np});
  double* o = out.mutable_data();
  for (std::size_t i = 0; i < nn; ++i)
    for (std::size_t j = 0; j < np; ++j) o[i * np + j] = h->ev.log_p(idx[i], j);
  return out;
}

// P = exp(ln P) as Evaluation::p computes it, written straight into the array.
py::array_t<double> p(const ModelPtr& m, const py::array_t<double, py::array::c_style | py::array::forcecast>& at,
                      const std::optional<std::vector<std::string>>& nodes, unsigned threads, int mse, double msw) {
  const auto idx = node_indices(*m, nodes, false);
  auto h = run(m, scales(at), nodes ? std::optional(idx) : std::nullopt, engine(threads, mse, msw));
  const std::size_t np = h->ev.num_points(), nn = idx.size();
  py::array_t<double> out({nn, np});
  double* o = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    for (std::size_t i = 0; i < nn; ++i)
      for (std::size_t j = 0; j < np; ++j) o[i * np + j] = h->ev.p(idx[i], j);
  }
  return out;
}

// The quantities of `eval` per node, in the CLI's order and each once
// (node_quantities, graph/evaluation.hpp), with a code into a list of
// labels; -1 when not wanted.
struct Quantity {
  NodeQuantity q;
  std::int32_t code;
};

class QuantityCodes {
 public:
  explicit QuantityCodes(const std::optional<std::vector<std::string>>& wanted) : wanted_(wanted) {}
  // Appends node v's quantities to `out` (wanted ones only).
  void of(const Model& m, std::size_t v, std::vector<Quantity>& out) {
    scratch_.clear();
    node_quantities(m, v, scratch_);
    for (const NodeQuantity& q : scratch_) {
      const std::int32_t c = code_of(q);
      if (c >= 0) out.push_back({q, c});
    }
  }
  std::vector<std::string> labels;  // by code

 private:
  std::int32_t code(const std::string& label) {
    if (wanted_ && std::find(wanted_->begin(), wanted_->end(), label) == wanted_->end()) return -1;
    const auto it = std::find(labels.begin(), labels.end(), label);
    if (it != labels.end()) return static_cast<std::int32_t>(it - labels.begin());
    labels.push_back(label);
    return static_cast<std::int32_t>(labels.size() - 1);
  }
  // A few distinct quantities per model: a short scan, no label made per node.
  std::int32_t code_of(const NodeQuantity& q) {
    for (const auto& [k, c] : known_)
      if (k.kind == q.kind && (q.kind != NodeQuantity::task_metric || k.metric == q.metric)) return c;
    known_.emplace_back(q, code(quantity_label(q)));
    return known_.back().second;
  }
  const std::optional<std::vector<std::string>>& wanted_;
  std::vector<NodeQuantity> scratch_;
  std::vector<std::pair<NodeQuantity, std::int32_t>> known_;
};

// Categorical codes in the integer width pandas keeps for `categories`
// categories (pandas.core.dtypes.cast.coerce_indexer_dtype: int8 below 127,
// and so on), so that Categorical.from_codes takes the array as it is.
py::dtype code_dtype(std::size_t categories) {
  if (categories < 127) return py::dtype::of<std::int8_t>();
  if (categories < 32767) return py::dtype::of<std::int16_t>();
  return py::dtype::of<std::int32_t>();
}

// Writes codes[i] into `a` (made by code_dtype for at most that many categories).
template <class Code>
void fill_codes(py::array& a, std::size_t rows, Code&& code) {
  auto fill = [&](auto* out) {
    for (std::size_t r = 0; r < rows; ++r) out[r] = static_cast<std::remove_pointer_t<decltype(out)>>(code(r));
  };
  switch (a.itemsize()) {
    case 1: fill(static_cast<std::int8_t*>(a.mutable_data())); break;
    case 2: fill(static_cast<std::int16_t*>(a.mutable_data())); break;
    default: fill(static_cast<std::int32_t*>(a.mutable_data())); break;
  }
}

// Long form, one array per column of the DataFrame, each in the dtype it
// keeps there, so that pandas takes them without a copy: node codes
// (positions in the node list), kind codes with the sorted kind labels, the
// scale point, metric codes with the labels, and the value; rows by node,
// quantity, then point. About 22 bytes a row: a 100,000-node evaluation is
// 580,000 rows, and fresh memory costs more than the copying itself.
py::tuple evaluate_long(const ModelPtr& m, const py::array_t<double, py::array::c_style | py::array::forcecast>& at,
                        const std::optional<std::vector<std::string>>& nodes,
                        const std::optional<std::vector<std::string>>& metrics, unsigned threads, int mse, double msw) {
  const auto idx = node_indices(*m, nodes, false);
  const std::vector<double> xs = scales(at);
  auto h = run(m, xs, nodes ? std::optional(idx) : std::nullopt, engine(threads, mse, msw));
  const Evaluation& ev = h->ev;
  const std::size_t np = ev.num_points();
  QuantityCodes codes(metrics);
  std::vector<Quantity> qs;
  std::vector<std::size_t> q_begin{0};
  for (std::size_t v : idx) {
    codes.of(*m, v, qs);
    q_begin.push_back(qs.size());
  }
  // Only the labels some node reports, in order of first appearance.
  std::vector<std::int32_t> remap(codes.labels.size(), -1);
  std::vector<std::string> labels;
  for (Quantity& q : qs) {
    if (remap[q.code] < 0) {
      remap[q.code] = static_cast<std::int32_t>(labels.size());
      labels.push_back(codes.labels[q.code]);
    }
    q.code = remap[q.code];
  }
  // Kinds ("skill" or the gate), sorted by name; one code per node.
  constexpr std::size_t n_keys = 6;  // skill, then the five gates
  auto key_of = [&](std::size_t v) {
    const NodeSpec& n = m->node(v);
    return n.is_task ? 1 + static_cast<std::size_t>(n.gate) : 0;
  };
  std::array<bool, n_keys> seen{};
  std::array<std::string, n_keys> key_label;
  for (std::size_t v : idx) {
    const std::size_t k = key_of(v);
    if (!seen[k]) key_label[k] = kind_of(m->node(v));
    seen[k] = true;
  }
  std::vector<std::string> kinds;
  for (std::size_t k = 0; k < n_keys; ++k)
    if (seen[k]) kinds.push_back(key_label[k]);
  std::sort(kinds.begin(), kinds.end());
  std::array<std::int8_t, n_keys> key_code{};
  for (std::size_t k = 0; k < n_keys; ++k)
    if (seen[k]) key_code[k] = static_cast<std::int8_t>(std::find(kinds.begin(), kinds.end(), key_label[k]) - kinds.begin());

  const std::size_t rows = qs.size() * np;
  const auto row_count = static_cast<py::ssize_t>(rows);
  py::array node_col(code_dtype(idx.size()), row_count);
  py::array metric_col(code_dtype(labels.size()), row_count);
  py::array_t<std::int8_t> kind_col(row_count);
  py::array_t<double> at_col(row_count), value_col(row_count);
  std::int8_t* kc = kind_col.mutable_data();
  double* ac = at_col.mutable_data();
  double* vc = value_col.mutable_data();
  {
    py::gil_scoped_release nogil;
    // Row r's node and quantity: r / np is the quantity's place in qs.
    std::vector<std::int32_t> row_node(qs.size());
    for (std::size_t i = 0; i < idx.size(); ++i)
      for (std::size_t qi = q_begin[i]; qi < q_begin[i + 1]; ++qi) row_node[qi] = static_cast<std::int32_t>(i);
    fill_codes(node_col, rows, [&](std::size_t r) { return row_node[r / np]; });
    fill_codes(metric_col, rows, [&](std::size_t r) { return qs[r / np].code; });
    std::size_t r = 0;
    for (std::size_t i = 0; i < idx.size(); ++i) {
      const std::size_t v = idx[i];
      const std::int8_t kind = key_code[key_of(v)];
      for (std::size_t qi = q_begin[i]; qi < q_begin[i + 1]; ++qi) {
        const Quantity& q = qs[qi];
        for (std::size_t j = 0; j < np; ++j, ++r) {
          kc[r] = kind;
          ac[r] = xs[j];
          vc[r] = quantity_value(ev, v, q.q, j);
        }
      }
    }
  }
  return py::make_tuple(node_col, kind_col, kinds, at_col, metric_col, labels, value_col);
}

// The scale points themselves: x, N, D, C, data_limited.
py::dict points(const std::vector<ScalePoint>& pts) {
  const std::size_t n = pts.size();
  py::array_t<double> x(n), N(n), D(n), C(n);
  py::array_t<bool> lim(n);
  for (std::size_t j = 0; j < n; ++j) {
    const ScalePoint& pt = pts[j];
    x.mutable_data()[j] = pt.x;
    N.mutable_data()[j] = pt.N;
    D.mutable_data()[j] = pt.D;
    C.mutable_data()[j] = pt.C;
    lim.mutable_data()[j] = pt.data_limited;
  }
  py::dict d;
  d["x"] = x;
  d["N"] = N;
  d["D"] = D;
  d["C"] = C;
  d["data_limited"] = lim;
  return d;
}

// The sweep's curves (as `capgraph sweep --format csv`) and, with `summary`,
// the emergence summary of each (as `--summary`): per task, its metrics,
// log_likelihood followed by log_likelihood_per_step (cli/cmd_sweep.cpp).
py::dict sweep(const ModelPtr& m, const std::vector<double>& xs, const std::optional<std::vector<std::string>>& tasks,
               bool curves, bool summary, unsigned threads, int mse, double msw) {
  for (double x : xs)
    if (!(std::isfinite(x) && x > 0)) throw py::value_error("scale points must be positive and finite");
  const auto idx = node_indices(*m, tasks, true);
  auto h = run(m, xs, idx, engine(threads, mse, msw));
  const Evaluation& ev = h->ev;
  const std::size_t np = ev.num_points();
  std::vector<std::int32_t> s_task;
  std::vector<std::string> s_metric;
  std::vector<double> values;
  std::vector<std::optional<double>> mn, mx, bt, x10, x90, width, thr, cross;
  std::vector<bool> at_start;
  {
    py::gil_scoped_release nogil;
    std::vector<double> y(np);
    auto add = [&](std::size_t i, const std::string& label, std::optional<double> threshold) {
      s_task.push_back(static_cast<std::int32_t>(i));
      s_metric.push_back(label);
      if (curves) values.insert(values.end(), y.begin(), y.end());
      if (!summary) return;
      const EmergenceSummary e = analyze_emergence(xs, y, threshold);
      mn.push_back(e.y_min);
      mx.push_back(e.y_max);
      bt.push_back(e.breakthroughness);
      x10.push_back(e.x10);
      x90.push_back(e.x90);
      width.push_back(e.transition_width);
      thr.push_back(threshold);
      cross.push_back(e.crossing);
      at_start.push_back(e.threshold_reached_at_start);
    };
    for (std::size_t i = 0; i < idx.size(); ++i) {
      const std::size_t t = idx[i];
      for (const Metric& mt : m->metrics(t)) {
        for (std::size_t j = 0; j < np; ++j) y[j] = ev.metric(t, mt, j);
        add(i, metric_label(mt), metric_is_probability(mt) ? std::optional<double>(m->threshold(t)) : std::nullopt);
        if (mt.kind == MetricKind::log_likelihood) {
          for (std::size_t j = 0; j < np; ++j) y[j] = ev.log_likelihood_per_step(t, j);
          add(i, "log_likelihood_per_step", std::nullopt);
        }
      }
    }
  }
  py::dict d;
  // The ids of the tasks asked for; every task (None) is the Model's own list.
  if (tasks) {
    py::list ids;
    for (std::size_t t : idx) ids.append(m->node(t).id);
    d["tasks"] = ids;
  } else {
    d["tasks"] = py::none();
  }
  d["series_task"] = py::array_t<std::int32_t>(s_task.size(), s_task.data());
  std::vector<std::string> labels;
  std::vector<std::int32_t> codes(s_metric.size());
  for (std::size_t i = 0; i < s_metric.size(); ++i) {
    const auto it = std::find(labels.begin(), labels.end(), s_metric[i]);
    codes[i] = static_cast<std::int32_t>(it - labels.begin());
    if (it == labels.end()) labels.push_back(s_metric[i]);
  }
  d["series_metric"] = py::array_t<std::int32_t>(codes.size(), codes.data());
  d["metric_labels"] = labels;
  d["points"] = points(ev.points());
  if (curves) {
    py::array_t<double> v({s_task.size(), np});
    std::copy(values.begin(), values.end(), v.mutable_data());
    d["values"] = v;
  }
  if (summary) {
    // NaN where a measure is undefined (nullopt): one float64 array each.
    auto col = [](const std::vector<std::optional<double>>& v) {
      py::array_t<double> a(v.size());
      for (std::size_t i = 0; i < v.size(); ++i) a.mutable_data()[i] = v[i].value_or(std::nan(""));
      return a;
    };
    d["min"] = col(mn);
    d["max"] = col(mx);
    d["breakthroughness"] = col(bt);
    d["x10"] = col(x10);
    d["x90"] = col(x90);
    d["transition_width_decades"] = col(width);
    d["threshold"] = col(thr);
    d["crossing"] = col(cross);
    py::array_t<bool> st(at_start.size());
    for (std::size_t i = 0; i < at_start.size(); ++i) st.mutable_data()[i] = at_start[i];
    d["reached_at_start"] = st;
  }
  return d;
}

// ---- bottlenecks ------------------------------------------------------------

ImportanceOrder order_of(const std::string& by) {
  if (by == "potential") return ImportanceOrder::potential;
  if (by == "birnbaum") return ImportanceOrder::birnbaum;
  if (by == "criticality") return ImportanceOrder::criticality;
  if (by == "drive") return ImportanceOrder::drive;
  throw py::value_error("by must be one of potential, birnbaum, criticality, drive; got `" + by + "`");
}

ImportanceTable table(const Model& m, std::size_t task, double x, const std::string& by, bool skills,
                      const EvalOptions& eo) {
  const ImportanceOrder ord = order_of(by);
  ImportanceTable t;
  {
    py::gil_scoped_release nogil;
    t = importance(m, task, x, ord, eo);
  }
  // As `bottleneck --skills` (cli/cmd_bottleneck.cpp keep_skills).
  if (skills) std::erase_if(t.rows, [&](const Prerequisite& r) { return m.node(r.node).is_task; });
  return t;
}

py::dict bottleneck(const ModelPtr& m, const std::string& task, double x, const std::string& by, bool skills,
                    unsigned threads, int mse, double msw) {
  if (!(std::isfinite(x) && x > 0)) throw py::value_error("scale points must be positive and finite");
  const ImportanceTable t = table(*m, node_index(*m, task, true), x, by, skills, engine(threads, mse, msw));
  py::list node, kind, drive;
  std::vector<double> p, uses, b, c, ip;
  for (const auto& r : t.rows) {
    node.append(m->node(r.node).id);
    kind.append(kind_of(m->node(r.node)));
    p.push_back(r.p);
    uses.push_back(r.uses);
    b.push_back(r.birnbaum);
    c.push_back(r.criticality);
    ip.push_back(r.improvement);
    drive.append(r.drive ? py::cast(*r.drive) : py::none());
  }
  py::list path;
  for (std::size_t v : t.critical_path) path.append(m->node(v).id);
  py::dict d;
  d["node"] = node;
  d["kind"] = kind;
  d["p"] = p;
  d["uses"] = uses;
  d["birnbaum"] = b;
  d["criticality"] = c;
  d["improvement_potential"] = ip;
  d["scale_drive"] = drive;
  d["p_task"] = t.p_task;
  d["dp_task_dlog10x"] = t.dp_task_dlog10x;
  d["critical_path"] = path;
  d["x"] = t.point.x;
  return d;
}

// Runs of the top bottleneck over the points (as `bottleneck --over`).
py::list bottleneck_over(const ModelPtr& m, const std::string& task, const std::vector<double>& xs,
                         const std::string& by, bool skills, unsigned threads, int mse, double msw) {
  const std::size_t t = node_index(*m, task, true);
  const EvalOptions eo = engine(threads, mse, msw);
  py::list runs;
  double from = 0, to = 0;
  std::optional<std::size_t> top;
  for (double x : xs) {
    if (!(std::isfinite(x) && x > 0)) throw py::value_error("scale points must be positive and finite");
    const ImportanceTable tab = table(*m, t, x, by, skills, eo);
    if (tab.rows.empty()) continue;
    const std::size_t v = tab.rows.front().node;
    if (top && *top == v) {
      to = x;
      continue;
    }
    if (top) runs.append(py::make_tuple(from, to, m->node(*top).id));
    top = v;
    from = to = x;
  }
  if (top) runs.append(py::make_tuple(from, to, m->node(*top).id));
  return runs;
}

// ---- drawings ---------------------------------------------------------------

py::tuple render_map(const ModelPtr& m, double x, const std::optional<std::string>& task, const std::string& format,
                     const std::string& measure, const std::optional<std::string>& focus, int depth,
                     const std::string& direction, const std::string& title, bool clusters, bool legend,
                     std::size_t node_limit, std::size_t max_nodes, int mse, double msw) {
  if (!(std::isfinite(x) && x > 0)) throw py::value_error("scale points must be positive and finite");
  render::MapOptions mo;
  const auto f = render::parse_map_format(format);
  if (!f) throw py::value_error("format must be svg, dot or png; got `" + format + "`");
  const auto d = render::parse_map_direction(direction);
  if (!d) throw py::value_error("direction must be BT, TB, LR or RL; got `" + direction + "`");
  const auto ms = render::parse_bottleneck_measure(measure);
  if (!ms) throw py::value_error("measure must be potential or birnbaum; got `" + measure + "`");
  mo.format = *f;
  mo.direction = *d;
  mo.focus_depth = depth;
  mo.node_limit = std::min(node_limit, max_nodes);  // as `capgraph render`
  mo.max_nodes = max_nodes;
  mo.clusters = clusters;
  mo.legend = legend;
  mo.title = title;
  mo.evaluation = engine(1, mse, msw);
  if (focus) mo.focus = node_index(*m, *focus, false);
  std::optional<std::size_t> t;
  if (task) t = node_index(*m, *task, true);
  render::MapResult r;
  {
    py::gil_scoped_release nogil;
    if (t)
      mo.overlay = render::overlay_from_importance(importance(*m, *t, x, ImportanceOrder::potential, mo.evaluation), *ms,
                                                   m->size());
    r = render::render_map(*m, x, mo);
  }
  return py::make_tuple(py::bytes(r.data), r.notes);
}

py::tuple render_plot(const ModelPtr& m, const std::optional<std::vector<std::string>>& tasks,
                      const std::optional<std::vector<std::string>>& metrics, std::optional<double> from,
                      std::optional<double> to, std::optional<int> points, bool per_step, const std::string& title,
                      int mse, double msw) {
  render::PlotOptions po;
  if (tasks) po.tasks = node_indices(*m, tasks, true);
  if (metrics)
    for (const auto& s : *metrics) {
      const auto mt = parse_metric(s);
      if (!mt)
        throw py::value_error("unknown metric `" + s +
                              "`; expected exact_match, partial_credit, log_likelihood, multiple_choice:K (K >= 2) or "
                              "pass_at:k (k >= 1)");
      po.metrics.push_back(*mt);
    }
  po.from = from;
  po.to = to;
  po.points = points;
  po.log_likelihood_per_step = per_step;
  po.title = title;
  po.evaluation = engine(1, mse, msw);
  render::PlotResult r;
  {
    py::gil_scoped_release nogil;
    r = render::render_plot(*m, po);
  }
  return py::make_tuple(py::bytes(r.svg), r.notes);
}

// ---- budget -----------------------------------------------------------------

// `capgraph budget --format json` as a dict (graph/budget.hpp, the CLI's
// own arithmetic): the same keys, in the same order.
py::dict budget(bool from_compute, double x, std::optional<double> tokens_per_param, std::optional<double> data_limit,
                const std::string& law, double bytes_per_token, double stock_tokens, std::optional<double> claimed_bytes) {
  BudgetInput in;
  const auto l = law_by_name(law);
  if (!l) throw py::value_error("law must be chinchilla or epoch2024; got `" + law + "`");
  in.law = *l;
  in.from_compute = from_compute;
  in.x = x;
  in.tokens_per_param = tokens_per_param;
  in.data_limit = data_limit;
  in.bytes_per_token = bytes_per_token;
  in.stock_tokens = stock_tokens;
  in.claimed_bytes = claimed_bytes;
  const Budget b = compute_budget(in);
  py::dict d;
  for (const BudgetField& f : budget_fields(in, b))
    std::visit(
        [&](const auto& v) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(v)>, std::monostate>) d[f.key] = v;
        },
        f.value);
  return d;
}

// ---- observations, analysis, fits --------------------------------------------

analysis::ReadOptions read_options(const std::map<std::string, std::string>& task_to_node,
                                   const std::vector<std::string>& lower_is_better, bool need_train_flops) {
  analysis::ReadOptions ro;
  ro.task_to_node = task_to_node;
  ro.lower_is_better = lower_is_better;
  ro.need_train_flops = need_train_flops;
  return ro;
}

// (rows as one capsule-held ObservationSet or None, [error lines], io_error, notes)
struct Observations {
  analysis::ObservationSet set;
};

py::tuple read_observations(const std::optional<std::string>& path, const std::optional<std::string>& text,
                            const std::string& name, const std::map<std::string, std::string>& task_to_node,
                            const std::vector<std::string>& lower_is_better, bool need_train_flops) {
  const auto ro = read_options(task_to_node, lower_is_better, need_train_flops);
  analysis::ReadResult r;
  {
    py::gil_scoped_release nogil;
    r = path ? analysis::read_observations(*path, ro) : analysis::read_observations_text(*text, name, ro);
  }
  py::list errors;
  for (const auto& e : r.errors) errors.append(r.io_error ? e.file + ": error: " + e.message : e.to_string());
  if (!r.ok()) return py::make_tuple(py::none(), errors, r.io_error, r.set.notes);
  auto obs = std::make_shared<Observations>(Observations{std::move(r.set)});
  return py::make_tuple(py::cast(obs), errors, false, obs->set.notes);
}

std::string metric_type(const analysis::MetricInfo& m) {
  if (!m.recognised) return "unknown";
  return m.discrete ? "discrete" : "continuous";
}

// As `capgraph analyze` (cli/cmd_analyze.cpp): one dict per series.
py::list analyze(const std::shared_ptr<Observations>& obs, double threshold, bool compute_axis) {
  analysis::AnalyzeOptions ao;
  ao.threshold = threshold;
  ao.compute_axis = compute_axis;
  std::vector<analysis::SeriesAnalysis> res;
  {
    py::gil_scoped_release nogil;
    res = analysis::analyze_series(obs->set, ao);
  }
  py::list out;
  for (const auto& a : res) {
    const bool applies = a.metric.unit_interval && !a.metric.lower_is_better;
    std::string status = "n/a";
    if (applies) status = a.summary.threshold_reached_at_start ? "at start" : a.summary.crossing ? "" : "not reached";
    py::dict d;
    d["task"] = a.series.task;
    d["family"] = a.series.family;
    d["metric"] = a.series.metric;
    d["type"] = metric_type(a.metric);
    d["lower_is_better"] = a.metric.lower_is_better;
    d["points"] = a.series.x.size();
    d["rows"] = a.series.rows.size();
    d["x_min"] = a.series.x.front();
    d["x_max"] = a.series.x.back();
    d["value_min"] = a.value_min;
    d["value_max"] = a.value_max;
    d["breakthroughness"] = a.summary.breakthroughness;
    d["transition_width"] = a.summary.transition_width;
    d["x10"] = a.summary.x10;
    d["x90"] = a.summary.x90;
    d["threshold"] = applies ? std::optional<double>(threshold) : std::nullopt;
    d["crossing"] = a.summary.crossing;
    d["crossing_status"] = status;
    d["steps"] = a.steps;
    d["steps_better"] = a.steps_better;
    d["steps_worse"] = a.steps_worse;
    d["monotone"] = a.monotone;
    d["paired_metric"] = a.paired_with ? py::cast(res[*a.paired_with].series.metric) : py::none();
    d["paired_breakthroughness"] =
        a.paired_with ? py::cast(res[*a.paired_with].summary.breakthroughness) : py::none();
    d["note"] = a.note;
    d["at"] = a.series.x;
    d["value"] = a.series.y;
    out.append(d);
  }
  return out;
}

analysis::FitOptions fit_options(const std::vector<std::string>& fit_only, const std::vector<std::string>& fixed,
                                 bool pool, double logit_floor, int max_evaluations) {
  analysis::FitOptions fo;
  fo.fit_only = fit_only;
  fo.fixed = fixed;
  fo.pool = pool;
  fo.logit_floor = logit_floor;
  fo.max_evaluations = max_evaluations;
  return fo;
}

py::dict fit(const ModelPtr& m, const std::shared_ptr<Observations>& obs, const std::vector<std::string>& fit_only,
             const std::vector<std::string>& fixed, const std::optional<std::string>& family, bool pool,
             std::optional<double> train_below, double logit_floor, int max_evaluations) {
  analysis::FitOptions fo = fit_options(fit_only, fixed, pool, logit_floor, max_evaluations);
  fo.family = family;
  fo.train_below = train_below;
  analysis::FitReport r;
  ModelPtr fitted;
  {
    py::gil_scoped_release nogil;
    r = analysis::fit_model(*m, obs->set, fo);
    fitted = std::make_shared<Model>(Model::compile(r.fitted));
  }
  py::dict d;
  d["model"] = fitted;
  d["likelihood"] = analysis::likelihood_name(r.likelihood);
  d["objective"] = r.objective;
  d["sigma"] = r.sigma;
  d["rows_used"] = r.rows_used;
  d["rows_train"] = r.rows_train;
  d["evaluations"] = r.evaluations;
  d["identified"] = r.identified;
  d["train_below"] = r.train_below;
  d["notes"] = r.notes;
  d["status"] = analysis::fit_status_name(r.status);
  d["starts"] = py::make_tuple(r.starts, r.starts_at_best);
  d["warnings"] = r.warnings;
  py::list params;
  for (const auto& p : r.parameters)
    params.append(py::make_tuple(p.leaf, p.name, p.start, p.value, p.se, p.lo, p.hi, p.at_bound, p.identified));
  d["parameters"] = params;
  py::list preds;
  for (const auto& s : r.series)
    for (const auto& p : s.points)
      preds.append(py::make_tuple(s.task, s.family, s.metric, s.node, p.line, p.x, p.observed, p.predicted,
                                  p.n ? py::cast(*p.n) : py::none(), p.train, p.lo, p.hi));
  d["predictions"] = preds;
  py::list fc;
  for (const auto& f : r.forecasts)
    fc.append(py::make_tuple(f.task, f.metric, f.threshold, f.crossing, f.lo, f.hi, f.at_start, f.from, f.to));
  d["forecasts"] = fc;
  py::list bt;
  for (const auto& b : r.backtest)
    bt.append(py::make_tuple(b.task, b.family, b.metric, b.n_train, b.n_test, b.mae_graph, b.mae_baseline,
                             b.observed_crossing, b.graph_crossing, b.baseline_crossing, b.crossed_in_training,
                             analysis::crossing_check_name(b.graph_check),
                             analysis::crossing_check_name(b.baseline_check)));
  d["backtest"] = bt;
  // As `fit --pool --format json` "offsets" (cli/fit_backtest.cpp): the
  // reference first, its se not available.
  py::list off;
  for (const auto& f : r.offsets)
    off.append(py::make_tuple(f.family, f.reference, f.rows, f.rows_train, f.log10_offset,
                              f.reference ? std::nan("") : f.se, f.multiplier, f.lo, f.hi));
  d["offsets"] = off;
  return d;
}

// `fit --backtest [--pool]`: rows, totals and notes as its JSON has them.
py::dict backtest(const ModelPtr& m, const std::shared_ptr<Observations>& obs, const std::vector<std::string>& fit_only,
                  const std::vector<std::string>& fixed, bool pool, double logit_floor, int max_evaluations) {
  const analysis::FitOptions fo = fit_options(fit_only, fixed, pool, logit_floor, max_evaluations);
  analysis::BacktestSuite s;
  {
    py::gil_scoped_release nogil;
    s = analysis::run_backtests(*m, obs->set, fo);
  }
  py::list rows;
  for (const auto& b : s.rows)
    rows.append(py::make_tuple(b.family, b.task, b.metric, b.cut, analysis::fit_status_name(b.status), b.n_train,
                               b.n_test, b.mae_graph, b.mae_logistic, b.mae_flat, b.inside, b.no_interval));
  const auto& t = s.totals;
  py::dict totals;
  totals["backtests"] = t.backtests;
  totals["graph_le_logistic"] = t.graph_le_logistic;
  totals["graph_lt_flat"] = t.graph_lt_flat;
  totals["points"] = t.points;
  totals["inside"] = t.inside;
  totals["no_interval"] = t.no_interval;
  totals["no_forecast"] = t.no_forecast;
  totals["mean_mae_graph"] = t.mean_mae_graph;
  totals["mean_mae_logistic"] = t.mean_mae_logistic;
  totals["mean_mae_flat"] = t.mean_mae_flat;
  py::dict d;
  d["pool"] = s.pool;
  d["rows"] = rows;
  d["totals"] = totals;
  d["notes"] = s.notes;
  return d;
}

// glibc gives every freed block of 128 KiB or more back to the kernel until
// a large block is freed; then it raises that threshold to the block's size
// (at most 32 MiB) and keeps up to twice that free at the top of the heap.
// Loading a spec frees its YAML tree and then builds the model, and each
// evaluation makes large arrays: memory given back is fresh memory to fault
// in again, which on the VMs measured costs about as much as the copying
// itself (loading the 100,000-node spec and evaluating it into a DataFrame
// faults in 41,000 pages with glibc's starting thresholds, 30,600 with
// these; docs/python.md). So the
// thresholds start where glibc's own adaptation ends rather than at its
// start: at most 64 MiB kept, not the CLI's "never trim" (cli/main.cpp),
// which suits a short process but not a notebook. Left alone when the user
// tunes malloc through the environment.
void tune_malloc() {
#if defined(__GLIBC__)
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_") ||
      (tunables && std::strstr(tunables, "glibc.malloc.") != nullptr))
    return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

}  // namespace

PYBIND11_MODULE(_core, mod) {
  tune_malloc();
  mod.doc() = "capgraph's compiled core (use the `capgraph` package, not this module)";
  static py::exception<ModelError> model_error(mod, "ModelError", PyExc_ValueError);
  static py::exception<analysis::FitError> fit_error(mod, "FitError", PyExc_ValueError);
  static py::exception<render::GraphvizError> graphviz_error(mod, "GraphvizError", PyExc_RuntimeError);
  static py::exception<render::MapTooLarge> too_large(mod, "MapTooLarge", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr e) {
    try {
      if (e) std::rethrow_exception(e);
    } catch (const ModelError& x) {
      model_error(x.what());
    } catch (const analysis::FitError& x) {
      fit_error(x.what());
    } catch (const render::MapTooLarge& x) {
      too_large(x.what());
    } catch (const render::GraphvizError& x) {
      graphviz_error(x.what());
    }
  });

  py::class_<Model, ModelPtr>(mod, "Model")
      .def_property_readonly("name", [](const Model& m) { return m.spec().name; })
      .def_property_readonly("description", [](const Model& m) { return m.spec().description; })
      .def_property_readonly("axis", [](const Model& m) { return m.spec().scale.axis == Axis::compute ? "compute" : "params"; })
      .def_property_readonly("scale_range", [](const Model& m) {
        const ScaleSpec& s = m.spec().scale;
        return py::make_tuple(s.from, s.to, s.points);
      })
      .def_property_readonly("ids", [](const Model& m) {
        py::list l;
        for (std::size_t v = 0; v < m.size(); ++v) l.append(m.node(v).id);
        return l;
      })
      .def_property_readonly("is_task", [](const Model& m) {
        std::vector<bool> t(m.size());
        for (std::size_t v = 0; v < m.size(); ++v) t[v] = m.node(v).is_task;
        return t;
      })
      .def_property_readonly("kinds", [](const Model& m) {
        py::list l;
        for (std::size_t v = 0; v < m.size(); ++v) l.append(kind_of(m.node(v)));
        return l;
      })
      .def("metrics", [](const Model& m, const std::string& id) {
        py::list l;
        for (const Metric& mt : m.metrics(node_index(m, id, true))) l.append(metric_label(mt));
        return l;
      })
      .def("threshold", [](const Model& m, const std::string& id) { return m.threshold(node_index(m, id, true)); });

  py::class_<Observations, std::shared_ptr<Observations>>(mod, "Observations")
      .def_property_readonly("file", [](const Observations& o) { return o.set.file; })
      .def_property_readonly("rows", [](const Observations& o) { return o.set.rows.size(); });

  mod.def("load_file", &load_file);
  mod.def("load_text", &load_text);
  mod.def("log_p", &log_p);
  mod.def("p", &p);
  mod.def("evaluate_long", &evaluate_long);
  mod.def("points", [](const ModelPtr& m, const std::vector<double>& xs) {
    std::vector<ScalePoint> pts;
    for (double x : xs) pts.push_back(m->axis().at(x));
    return points(pts);
  });
  mod.def("log_spaced", &ScaleAxis::log_spaced);
  mod.def("parse_scale", [](const std::string& s) { return parse_scale(s); });
  mod.def("sweep", &sweep);
  mod.def("bottleneck", &bottleneck);
  mod.def("bottleneck_over", &bottleneck_over);
  mod.def("render_map", &render_map);
  mod.def("render_plot", &render_plot);
  mod.def("budget", &budget);
  mod.def("read_observations", &read_observations);
  mod.def("analyze", &analyze);
  mod.def("fit", &fit);
  mod.def("backtest", &backtest);
}
