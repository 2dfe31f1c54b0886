// capgraph/analysis/fit.cpp
#include "analysis/fit.hpp"

#include <nlopt.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "graph/curve_eval.hpp"
#include "graph/emergence.hpp"
#include "graph/evaluation.hpp"
#include "text/number_format.hpp"
#include "text/suggest.hpp"

namespace capgraph::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kHuge = 1e300;

double logit(double p) { return std::log(p) - std::log1p(-p); }

// One free parameter: which leaf, which field, its bounds.
struct Param {
  std::size_t node;
  std::string name;
  double lo, hi;
};

void set_param(ModelSpec& spec, const Param& p, double v) {
  Curve& c = spec.nodes[p.node].curve;
  if (p.name == "log10_mid") c.mid = std::pow(10.0, v);
  else if (p.name == "slope") c.slope = v;
  else if (p.name == "log10_c") c.c = std::pow(10.0, v);
  else if (p.name == "alpha") c.alpha = v;
  else if (p.name == "ln_weight") c.weight = std::exp(v);
  else if (p.name == "logit_value") c.value = 1.0 / (1.0 + std::exp(-v));
}

double get_param(const ModelSpec& spec, const Param& p) {
  const Curve& c = spec.nodes[p.node].curve;
  if (p.name == "log10_mid") return std::log10(c.mid);
  if (p.name == "slope") return c.slope;
  if (p.name == "log10_c") return std::log10(c.c);
  if (p.name == "alpha") return c.alpha;
  if (p.name == "ln_weight") return std::log(c.weight);
  return logit(std::clamp(c.value, 1e-12, 1 - 1e-12));
}

// A row the fit uses.
struct Row {
  std::size_t obs;   // index into ObservationSet::rows
  std::size_t node;  // model node
  Metric metric;
  double x;
  double value;
  std::optional<double> n;
  bool train = true;
};

// log of the predicted metric (exact for exact match via ln P) and the value.
struct Prediction {
  double value, log_value, log1m_value;
};

Prediction predict(const Evaluation& ev, const Row& r, std::size_t j) {
  Prediction p{};
  if (r.metric.kind == MetricKind::exact_match) {
    p.log_value = ev.log_p(r.node, j);
    p.value = std::exp(p.log_value);
    p.log1m_value = log1mexp(std::min(p.log_value, 0.0));
  } else {
    p.value = ev.metric(r.node, r.metric, j);
    const double c = std::clamp(p.value, 1e-300, 1.0);
    p.log_value = std::log(c);
    p.log1m_value = std::log(std::max(1.0 - p.value, 1e-300));
  }
  return p;
}

// Small dense symmetric positive definite inverse (Cholesky); false if not
// positive definite. The matrix is first scaled to unit diagonal, so the
// test is scale-free: a pivot below kMinPivot means some combination of
// parameters is (numerically) not constrained at all, i.e. a correlation
// beyond 1 - 5e-7 between estimates.
bool spd_inverse(std::vector<double> a, std::size_t n, std::vector<double>& inv) {
  constexpr double kMinPivot = 1e-6;
  std::vector<double> d(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!(a[i * n + i] > 0) || !std::isfinite(a[i * n + i])) return false;
    d[i] = 1 / std::sqrt(a[i * n + i]);
  }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) a[i * n + j] *= d[i] * d[j];
  std::vector<double> L(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      double s = a[i * n + j];
      for (std::size_t k = 0; k < j; ++k) s -= L[i * n + k] * L[j * n + k];
      if (i == j) {
        if (!(s > kMinPivot) || !std::isfinite(s)) return false;
        L[i * n + i] = std::sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j];
      }
    }
  inv.assign(n * n, 0.0);
  for (std::size_t c = 0; c < n; ++c) {  // solve L L^T x = e_c
    std::vector<double> y(n, 0.0), x(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      double s = i == c ? 1.0 : 0.0;
      for (std::size_t k = 0; k < i; ++k) s -= L[i * n + k] * y[k];
      y[i] = s / L[i * n + i];
    }
    for (std::size_t ii = n; ii-- > 0;) {
      double s = y[ii];
      for (std::size_t k = ii + 1; k < n; ++k) s -= L[k * n + ii] * x[k];
      x[ii] = s / L[ii * n + ii];
    }
    for (std::size_t i = 0; i < n; ++i) inv[i * n + c] = x[i] * d[i] * d[c];
  }
  return true;
}

using Objective = std::function<double(const std::vector<double>&)>;

extern "C" double nlopt_trampoline(unsigned n, const double* x, double* grad, void* data) {
  (void)grad;  // derivative-free algorithms only
  auto& f = *static_cast<std::pair<Objective*, int*>*>(data);
  ++*f.second;
  return (*f.first)(std::vector<double>(x, x + n));
}

// Minimises f inside [lo, hi] from x (updated in place): BOBYQA, BOBYQA
// again from its optimum, then Sbplx; returns the best value found.
double minimise(Objective f, std::vector<double>& x, const std::vector<double>& lo, const std::vector<double>& hi,
                int max_eval, int& evaluations) {
  const unsigned n = static_cast<unsigned>(x.size());
  double best = f(x);
  ++evaluations;
  if (n == 0) return best;
  std::pair<Objective*, int*> data{&f, &evaluations};
  for (nlopt_algorithm alg : {NLOPT_LN_BOBYQA, NLOPT_LN_BOBYQA, NLOPT_LN_SBPLX}) {
    nlopt_opt opt = nlopt_create(alg, n);
    nlopt_set_lower_bounds(opt, lo.data());
    nlopt_set_upper_bounds(opt, hi.data());
    nlopt_set_min_objective(opt, nlopt_trampoline, &data);
    nlopt_set_xtol_rel(opt, 1e-10);
    nlopt_set_ftol_rel(opt, 1e-14);
    nlopt_set_maxeval(opt, max_eval);
    std::vector<double> step(n);
    for (unsigned i = 0; i < n; ++i) step[i] = std::min(0.25, 0.25 * (hi[i] - lo[i]));
    nlopt_set_initial_step(opt, step.data());
    std::vector<double> y = x;
    double fy = kHuge;
    const nlopt_result res = nlopt_optimize(opt, y.data(), &fy);
    nlopt_destroy(opt);
    if (res > 0 && fy < best) {
      best = fy;
      x = y;
    }
  }
  return best;
}

// The logistic baseline of the backtest: p = sigmoid(s (log10 x - m)).
double logistic_at(double m, double s, double x) { return 1.0 / (1.0 + std::exp(-s * (std::log10(x) - m))); }

}  // namespace

const char* crossing_check_name(CrossingCheck c) {
  switch (c) {
    case CrossingCheck::hit: return "hit";
    case CrossingCheck::miss: return "miss";
    case CrossingCheck::consistent: return "consistent";
    case CrossingCheck::unavailable: break;
  }
  return "n/a";
}

const char* likelihood_name(Likelihood l) {
  return l == Likelihood::binomial ? "binomial" : "least squares on the logit";
}

FitReport fit_model(const Model& model, const ObservationSet& obs, const FitOptions& options) {
  FitReport rep;
  const bool compute_axis = model.spec().scale.axis == Axis::compute;
  rep.train_below = options.train_below;

  // ---- rows the fit can use -------------------------------------------------
  std::map<std::string, std::size_t> unknown_tasks, unfittable_metrics;
  std::set<std::string> families;
  std::vector<Row> rows;
  std::size_t other_family = 0;
  for (std::size_t i = 0; i < obs.rows.size(); ++i) {
    const Observation& o = obs.rows[i];
    if (options.family && o.family != *options.family) {
      ++other_family;
      continue;
    }
    const auto v = model.find(o.node);
    if (!v) {
      ++unknown_tasks[o.node];
      continue;
    }
    const MetricInfo& mi = obs.metrics.at(o.metric);
    if (!mi.engine) {
      ++unfittable_metrics[o.metric];
      continue;
    }
    if (compute_axis && !o.train_flops)
      throw FitError(obs.file + ":" + std::to_string(o.line) +
                     ": error: column `train_flops`: empty, but the spec's axis is compute");
    Row r;
    r.obs = i;
    r.node = *v;
    r.metric = *mi.engine;
    r.x = compute_axis ? *o.train_flops : o.params;
    r.value = o.value;
    r.n = o.n;
    r.train = !options.train_below || r.x < *options.train_below;
    families.insert(o.family);
    rows.push_back(r);
  }
  if (options.family && other_family == obs.rows.size())
    throw FitError("no observations of family `" + *options.family + "` in " + obs.file);
  if (other_family) rep.notes.push_back(std::to_string(other_family) + " row(s) of other families not used");
  for (const auto& [task, count] : unknown_tasks) {
    std::vector<std::string_view> names;
    for (std::size_t i = 0; i < model.size(); ++i) names.push_back(model.node(i).id);
    std::string hint = text::did_you_mean(task, names);
    rep.notes.push_back(std::to_string(count) + " row(s) of `" + task + "` not used: no such node in the spec" +
                        (hint.empty() ? " (map it with --map " + task + "=NODE)" : "; " + hint));
  }
  for (const auto& [metric, count] : unfittable_metrics)
    rep.notes.push_back(std::to_string(count) + " row(s) scored with `" + metric +
                        "` not used: the graph predicts no such metric (see docs/analysis.md)");
  if (rows.empty()) throw FitError("no observation in " + obs.file + " maps to a node of the spec with a metric the graph predicts");
  if (families.size() > 1 && !options.family) {
    std::string list;
    for (const auto& f : families) list += (list.empty() ? "" : ", ") + f;
    throw FitError("observations of several model families (" + list +
                   "): a fit describes one family; choose one with --family");
  }
  rep.rows_used = rows.size();
  rep.rows_train = static_cast<std::size_t>(std::count_if(rows.begin(), rows.end(), [](const Row& r) { return r.train; }));
  if (options.train_below && (rep.rows_train == 0 || rep.rows_train == rows.size()))
    throw FitError("--train-below " + text::fixed(*options.train_below, 6) + " leaves " +
                   (rep.rows_train == 0 ? "no row to fit on" : "no row to test on"));
  const bool binomial = std::all_of(rows.begin(), rows.end(), [](const Row& r) { return r.n.has_value(); });
  rep.likelihood = binomial ? Likelihood::binomial : Likelihood::logit_least_squares;
  if (!binomial && std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.n.has_value(); }))
    rep.notes.push_back("some rows give n and some do not: least squares on the logit for all");

  // ---- leaves to fit --------------------------------------------------------
  std::vector<char> constrained(model.size(), 0);
  {
    std::vector<std::size_t> stack;
    for (const Row& r : rows)
      if (r.train) stack.push_back(r.node);
    while (!stack.empty()) {
      const std::size_t v = stack.back();
      stack.pop_back();
      if (constrained[v]) continue;
      constrained[v] = 1;
      for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) stack.push_back(model.use_child(u));
    }
  }
  auto leaf_index = [&](const std::string& id) {
    const auto v = model.find(id);
    if (!v || model.node(*v).is_task) {
      std::vector<std::string_view> names;
      for (std::size_t i = 0; i < model.size(); ++i)
        if (!model.node(i).is_task) names.push_back(model.node(i).id);
      std::string hint = text::did_you_mean(id, names);
      throw FitError("no skill `" + id + "` in the spec" + (v ? " (`" + id + "` is a task)" : "") +
                     (hint.empty() ? "" : "; " + hint));
    }
    return *v;
  };
  std::vector<char> chosen(model.size(), 0);
  if (options.fit_only.empty()) {
    for (std::size_t v = 0; v < model.size(); ++v) chosen[v] = !model.node(v).is_task && constrained[v];
  } else {
    for (const auto& id : options.fit_only) chosen[leaf_index(id)] = 1;
  }
  for (const auto& id : options.fixed) chosen[leaf_index(id)] = 0;
  std::vector<Param> params;
  for (std::size_t v = 0; v < model.size(); ++v) {
    if (!chosen[v]) continue;
    const NodeSpec& n = model.node(v);
    if (!constrained[v]) {
      rep.notes.push_back("skill `" + n.id + "` kept as declared: no training observation lies above it");
      continue;
    }
    switch (n.curve.kind) {
      case CurveKind::logistic:
        params.push_back({v, "log10_mid", -10, 40});
        params.push_back({v, "slope", 1e-3, 50});
        break;
      case CurveKind::power_law:
        params.push_back({v, "log10_c", -10, 40});
        params.push_back({v, "alpha", 1e-3, 10});
        break;
      case CurveKind::chinchilla: params.push_back({v, "ln_weight", -30, 10}); break;
      case CurveKind::constant: params.push_back({v, "logit_value", -30, 30}); break;
      case CurveKind::points:
        rep.notes.push_back("skill `" + n.id + "` kept as declared: `points` curves are not fitted");
        break;
    }
  }

  // ---- objective ------------------------------------------------------------
  std::vector<double> xs;
  for (const Row& r : rows) xs.push_back(r.x);
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  std::vector<std::size_t> xj(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    xj[i] = static_cast<std::size_t>(std::lower_bound(xs.begin(), xs.end(), rows[i].x) - xs.begin());
  const ModelSpec base = model.spec();
  const double f = std::clamp(options.logit_floor, 1e-12, 0.49);
  auto clamp_logit = [&](double p) { return logit(std::clamp(p, f, 1 - f)); };

  auto with_params = [&](const std::vector<double>& theta) {
    ModelSpec s = base;
    for (std::size_t i = 0; i < params.size(); ++i) set_param(s, params[i], theta[i]);
    return s;
  };
  // Residual (least squares) or negative log-likelihood term of one row.
  auto term = [&](const Row& r, const Prediction& p) {
    if (binomial) {
      const double k = r.value * *r.n;
      return -(k * p.log_value + (*r.n - k) * p.log1m_value);
    }
    const double d = r.metric.kind == MetricKind::log_likelihood ? r.value - p.value
                                                                  : clamp_logit(r.value) - clamp_logit(p.value);
    return d * d;
  };
  auto objective = [&](const std::vector<double>& theta) -> double {
    try {
      const Model m = Model::compile(with_params(theta));
      const Evaluation ev = evaluate(m, xs);
      double sum = 0;
      for (std::size_t i = 0; i < rows.size(); ++i)
        if (rows[i].train) sum += term(rows[i], predict(ev, rows[i], xj[i]));
      return std::isfinite(sum) ? sum : kHuge;
    } catch (const ModelError&) {
      return kHuge;
    }
  };

  std::vector<double> theta(params.size()), lo(params.size()), hi(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    lo[i] = params[i].lo;
    hi[i] = params[i].hi;
    theta[i] = std::clamp(get_param(base, params[i]), lo[i], hi[i]);
  }
  const std::vector<double> start = theta;
  rep.objective = minimise(objective, theta, lo, hi, options.max_evaluations, rep.evaluations);
  if (params.empty()) rep.notes.push_back("no parameter to fit: the spec is evaluated as declared");

  // ---- curvature and standard errors ---------------------------------------
  const std::size_t P = params.size();
  std::vector<double> cov(P * P, kNaN);
  if (P > 0) {
    std::vector<double> H(P * P, 0.0), h(P);
    for (std::size_t i = 0; i < P; ++i) h[i] = 1e-3 * std::max(1.0, std::fabs(theta[i]));
    auto fat = [&](std::size_t i, double di, std::size_t j, double dj) {
      std::vector<double> t = theta;
      t[i] += di;
      t[j] += dj;
      return objective(t);
    };
    const double f0 = rep.objective;
    for (std::size_t i = 0; i < P; ++i) {
      H[i * P + i] = (fat(i, h[i], i, 0) - 2 * f0 + fat(i, -h[i], i, 0)) / (h[i] * h[i]);
      for (std::size_t j = 0; j < i; ++j) {
        const double v = (fat(i, h[i], j, h[j]) - fat(i, h[i], j, -h[j]) - fat(i, -h[i], j, h[j]) +
                          fat(i, -h[i], j, -h[j])) /
                         (4 * h[i] * h[j]);
        H[i * P + j] = H[j * P + i] = v;
      }
    }
    std::vector<double> inv;
    const std::size_t dof = rep.rows_train > P ? rep.rows_train - P : 0;
    if (!binomial) rep.sigma = dof ? std::sqrt(rep.objective / static_cast<double>(dof)) : kNaN;
    if (spd_inverse(H, P, inv)) {
      const double scale = binomial ? 1.0 : 2.0 * rep.sigma * rep.sigma;
      for (std::size_t i = 0; i < P * P; ++i) cov[i] = scale * inv[i];
    } else {
      rep.identified = false;
      rep.notes.push_back("the curvature at the optimum is not positive definite: some parameters are not "
                          "identified by these observations (standard errors not available); fix some skills "
                          "with --fixed or add observations of tasks that separate them");
    }
  }
  for (std::size_t i = 0; i < P; ++i) {
    FitParameter fp;
    fp.leaf = model.node(params[i].node).id;
    fp.name = params[i].name;
    fp.start = start[i];
    fp.value = theta[i];
    fp.se = cov[i * P + i] >= 0 ? std::sqrt(cov[i * P + i]) : kNaN;
    const double tol = 1e-6 * (hi[i] - lo[i]);
    fp.at_bound = theta[i] - lo[i] < tol || hi[i] - theta[i] < tol;
    if (fp.at_bound) fp.se = kNaN;
    rep.parameters.push_back(fp);
  }
  if (std::any_of(rep.parameters.begin(), rep.parameters.end(), [](const FitParameter& p) { return p.at_bound; }))
    rep.notes.push_back("a parameter ended at a bound of its search range: the data do not pin it down");
  rep.fitted = with_params(theta);
  const Model fitted = Model::compile(rep.fitted);
  const Evaluation ev = evaluate(fitted, xs);

  // ---- residuals per series -------------------------------------------------
  {
    std::map<std::tuple<std::string, std::string, std::string>, std::size_t> idx;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Observation& o = obs.rows[rows[i].obs];
      const auto key = std::make_tuple(o.task, o.family, o.metric);
      auto it = idx.find(key);
      if (it == idx.end()) {
        it = idx.emplace(key, rep.series.size()).first;
        rep.series.push_back(FitSeries{o.task, o.family, o.metric, o.node, {}, 0, std::nullopt});
      }
      rep.series[it->second].points.push_back(
          FitPoint{o.line, rows[i].x, rows[i].value, predict(ev, rows[i], xj[i]).value, rows[i].n, rows[i].train});
    }
    for (auto& s : rep.series) {
      std::stable_sort(s.points.begin(), s.points.end(), [](const FitPoint& a, const FitPoint& b) { return a.x < b.x; });
      double ss = 0, ae = 0;
      std::size_t nt = 0, ne = 0;
      for (const auto& p : s.points) {
        const double d = p.observed - p.predicted;
        if (p.train) ss += d * d, ++nt;
        else ae += std::fabs(d), ++ne;
      }
      s.rmse_train = nt ? std::sqrt(ss / static_cast<double>(nt)) : kNaN;
      if (ne) s.mae_test = ae / static_cast<double>(ne);
    }
  }

  // ---- crossing forecasts ---------------------------------------------------
  const double x_lo = std::min(base.scale.from, xs.front());
  const double x_hi = std::max(base.scale.to, xs.back() * 100);
  std::vector<double> grid;
  {
    const double l0 = std::log10(x_lo), l1 = std::log10(x_hi);
    const int n = std::max(2, static_cast<int>(std::ceil((l1 - l0) * 50)) + 1);
    for (int i = 0; i < n; ++i) grid.push_back(std::pow(10.0, l0 + (l1 - l0) * i / (n - 1)));
  }
  struct Target {
    std::size_t node;
    Metric metric;
  };
  std::vector<Target> targets;
  for (std::size_t v : model.tasks()) {
    Metric m{MetricKind::exact_match, 0};
    for (const Row& r : rows)
      if (r.node == v && metric_is_probability(r.metric)) {
        m = r.metric;
        break;
      }
    targets.push_back({v, m});
  }
  auto crossings = [&](const Model& m) {
    const Evaluation e = evaluate(m, grid);
    std::vector<std::optional<double>> out;
    for (const auto& t : targets) {
      std::vector<double> y(grid.size());
      for (std::size_t j = 0; j < grid.size(); ++j) y[j] = e.metric(t.node, t.metric, j);
      out.push_back(first_crossing_up(grid, y, model.threshold(t.node)));
    }
    return out;
  };
  const auto best = crossings(fitted);
  std::vector<std::vector<double>> grad(targets.size(), std::vector<double>(P, kNaN));
  for (std::size_t i = 0; i < P && rep.identified; ++i) {
    const double h = 1e-3 * std::max(1.0, std::fabs(theta[i]));
    std::vector<double> tp = theta, tm = theta;
    tp[i] += h;
    tm[i] -= h;
    const auto cp = crossings(Model::compile(with_params(tp)));
    const auto cm = crossings(Model::compile(with_params(tm)));
    for (std::size_t t = 0; t < targets.size(); ++t)
      if (cp[t] && cm[t]) grad[t][i] = (std::log10(*cp[t]) - std::log10(*cm[t])) / (2 * h);
  }
  for (std::size_t t = 0; t < targets.size(); ++t) {
    CrossingForecast cf;
    cf.task = model.node(targets[t].node).id;
    cf.metric = metric_label(targets[t].metric);
    cf.threshold = model.threshold(targets[t].node);
    cf.from = grid.front();
    cf.to = grid.back();
    cf.crossing = best[t];
    cf.at_start = best[t] && *best[t] == grid.front();
    if (best[t] && !cf.at_start && rep.identified && P > 0) {
      double var = 0;
      for (std::size_t i = 0; i < P; ++i)
        for (std::size_t j = 0; j < P; ++j) var += grad[t][i] * cov[i * P + j] * grad[t][j];
      if (std::isfinite(var) && var >= 0) {
        const double l = std::log10(*best[t]), se = std::sqrt(var);
        cf.lo = std::pow(10.0, l - options.z * se);
        cf.hi = std::pow(10.0, l + options.z * se);
      }
    }
    rep.forecasts.push_back(cf);
  }

  // ---- backtest -------------------------------------------------------------
  if (options.train_below) {
    for (const auto& s : rep.series) {
      BacktestSeries b;
      b.task = s.task;
      b.family = s.family;
      b.metric = s.metric;
      const MetricInfo& mi = obs.metrics.at(s.metric);
      const std::size_t node = *model.find(s.node);
      const double thr = model.threshold(node);
      std::vector<double> x, y, tx, ty;
      std::vector<std::optional<double>> ns;  // items per training point (binomial baseline)
      for (const auto& p : s.points) {
        x.push_back(p.x);
        y.push_back(p.observed);
        if (p.train) {
          ++b.n_train;
          tx.push_back(p.x);
          ty.push_back(p.observed);
          ns.push_back(p.n);
        } else {
          ++b.n_test;
        }
      }
      b.x_max = x.back();
      if (b.n_test == 0 || !mi.unit_interval) {
        rep.backtest.push_back(b);
        continue;
      }
      double ae = 0;
      for (const auto& p : s.points)
        if (!p.train) ae += std::fabs(p.observed - p.predicted);
      b.mae_graph = ae / static_cast<double>(b.n_test);
      b.observed_crossing = first_crossing_up(x, y, thr);
      // graph forecast of this series' metric over the grid
      {
        const Evaluation e = evaluate(fitted, grid);
        const Metric m = *mi.engine;
        std::vector<double> py(grid.size());
        for (std::size_t j = 0; j < grid.size(); ++j) py[j] = e.metric(node, m, j);
        b.graph_crossing = first_crossing_up(grid, py, thr);
      }
      // baseline: a logistic in log10 x fitted to the series' own training rows
      if (b.n_train >= 2) {
        auto bobj = [&](const std::vector<double>& t) {
          double sum = 0;
          for (std::size_t i = 0; i < tx.size(); ++i) {
            const double p = logistic_at(t[0], t[1], tx[i]);
            if (binomial && ns[i]) {
              const double k = ty[i] * *ns[i];
              const double z = t[1] * (std::log10(tx[i]) - t[0]);
              sum -= k * log_sigmoid(z) + (*ns[i] - k) * log_sigmoid(-z);
            } else {
              const double d = clamp_logit(ty[i]) - clamp_logit(p);
              sum += d * d;
            }
          }
          return std::isfinite(sum) ? sum : kHuge;
        };
        std::vector<double> t{std::log10(tx.back()) + 1, 1.0};
        int evals = 0;
        minimise(bobj, t, {-10, 1e-3}, {40, 50}, options.max_evaluations, evals);
        double bae = 0;
        for (const auto& p : s.points)
          if (!p.train) bae += std::fabs(p.observed - logistic_at(t[0], t[1], p.x));
        b.mae_baseline = bae / static_cast<double>(b.n_test);
        const double lx = t[0] + logit(std::clamp(thr, 1e-12, 1 - 1e-12)) / t[1];
        b.baseline_crossing = std::pow(10.0, lx);
      }
      if (b.observed_crossing) b.crossed_in_training = *b.observed_crossing < *options.train_below;
      auto check = [&](const std::optional<double>& forecast) {
        if (b.observed_crossing)
          return forecast && std::fabs(std::log10(*forecast) - std::log10(*b.observed_crossing)) <= 0.5
                     ? CrossingCheck::hit
                     : CrossingCheck::miss;
        return forecast && *forecast <= b.x_max / std::sqrt(10.0) ? CrossingCheck::miss : CrossingCheck::consistent;
      };
      b.graph_check = check(b.graph_crossing);
      if (b.mae_baseline) b.baseline_check = check(b.baseline_crossing);
      rep.backtest.push_back(b);
    }
  }
  return rep;
}

}  // namespace capgraph::analysis
