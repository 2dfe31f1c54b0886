// capgraph/analysis/fit_objective.cpp — what a fit uses and what it
// minimises: the usable observations, the free parameters, the objective.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "analysis/fit_internal.hpp"
#include "graph/curve_eval.hpp"
#include "graph/curve_parameters.hpp"
#include "text/number_format.hpp"
#include "text/suggest.hpp"

namespace capgraph::analysis::detail {

double logit(double p) { return std::log(p) - std::log1p(-p); }

namespace {

void set_param(Curve& c, const Param& p, double v) { set_curve_parameter(c, p.name, v); }

double get_param(const Curve& c, const Param& p) { return curve_parameter(c, p.name); }

// A pooled fit's families: the reference (group 0) is the family with the
// most usable rows (ties: the first by name), whose scale is measured best,
// so the shared curves are in its units; the others follow by name.
void assign_families(const ObservationSet& obs, std::vector<Row>& rows, FitReport& rep) {
  std::map<std::string, std::size_t> count;
  for (const Row& r : rows) ++count[obs.rows[r.obs].family];
  std::string ref;
  std::size_t most = 0;
  for (const auto& [f, c] : count)
    if (c > most) ref = f, most = c;
  std::map<std::string, std::size_t> group;
  rep.offsets.push_back(FamilyOffset{ref, true, 0, 0, 1, 1, 1, count[ref], 0});
  for (const auto& [f, c] : count)
    if (f != ref) {
      group[f] = rep.offsets.size();
      rep.offsets.push_back(FamilyOffset{f, false, 0, kNaN, 1, kNaN, kNaN, c, 0});
    }
  for (Row& r : rows) {
    const auto it = group.find(obs.rows[r.obs].family);
    r.group = it == group.end() ? 0 : it->second;
    if (r.train) ++rep.offsets[r.group].rows_train;
  }
}

// A pooled family none of whose training scores says where it stands:
// every one at or below the logit floor (or at or above its ceiling; with
// item counts, exactly 0 or 1). Its offset is then bounded from one side
// only, so no value of it is a result, and it would make the whole pooled
// fit not identified for every other family. Such a family is left out of
// the pool (named in a note), unless it is the --family being forecast.
void leave_out_floored_families(const ObservationSet& obs, const FitOptions& options, bool binomial,
                                std::vector<Row>& rows, FitReport& rep) {
  const double f = binomial ? 0 : std::clamp(options.logit_floor, 1e-12, 0.49);
  std::map<std::string, std::size_t> train_rows, placed;
  for (const Row& r : rows) {
    if (!r.train) continue;
    const std::string& family = obs.rows[r.obs].family;
    ++train_rows[family];
    if (r.metric.kind == MetricKind::log_likelihood || (r.value > f && r.value < 1 - f)) ++placed[family];
  }
  std::set<std::string> out;
  for (const auto& [family, count] : train_rows) {
    if (placed[family] > 0 || (options.family && family == *options.family)) continue;
    out.insert(family);
    rep.notes.push_back("family `" + family + "` left out of the pool: none of its " + std::to_string(count) +
                        " training score(s) lies " +
                        "strictly between " + (binomial ? std::string("0 and 1") : "the logit floor " + text::shortest(f) +
                                                                                   " and " + text::shortest(1 - f)) +
                        ", so they bound its offset from one side only (not identified); its rows are not used");
  }
  if (out.empty()) return;
  std::erase_if(rows, [&](const Row& r) { return out.count(obs.rows[r.obs].family) > 0; });
  if (rows.empty())
    throw FitError("no family left in the pool of " + obs.file + ": no training score of any family lies strictly between " +
                   (binomial ? std::string("0 and 1") : "the logit floor " + text::shortest(f) + " and " + text::shortest(1 - f)) +
                   ", so nothing places the curves; fit scores that rise off the floor" +
                   (binomial ? "" : ", or lower --logit-floor below the smallest nonzero score"));
}

}  // namespace

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

std::vector<Row> usable_rows(const Model& model, const ObservationSet& obs, const FitOptions& options, FitReport& rep,
                             bool every_family) {
  const bool compute_axis = model.spec().scale.axis == Axis::compute;
  std::map<std::string, std::size_t> unknown_tasks, unfittable_metrics;
  std::set<std::string> families;
  std::vector<Row> rows;
  std::size_t other_family = 0;
  for (std::size_t i = 0; i < obs.rows.size(); ++i) {
    const Observation& o = obs.rows[i];
    if (options.family && o.family != *options.family && !options.pool) {
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
    // Pooled with --family: only that family's rows at or above the cut are held out.
    r.train = !options.train_below || r.x < *options.train_below || (options.pool && options.family && o.family != *options.family);
    families.insert(o.family);
    rows.push_back(r);
  }
  if (options.family && (options.pool ? std::none_of(obs.rows.begin(), obs.rows.end(),
                                                      [&](const Observation& o) { return o.family == *options.family; })
                                      : other_family == obs.rows.size()))
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
  if (families.size() > 1 && !options.family && !options.pool) {
    std::string list;
    for (const auto& f : families) list += (list.empty() ? "" : ", ") + f;
    throw FitError("observations of several model families (" + list +
                   "): a fit describes one family; choose one with --family, or pool them with --pool");
  }
  const bool all_n = std::all_of(rows.begin(), rows.end(), [](const Row& r) { return r.n.has_value(); });
  if (options.pool) {
    if (!every_family) leave_out_floored_families(obs, options, all_n, rows, rep);
    assign_families(obs, rows, rep);
  }
  rep.rows_used = rows.size();
  rep.rows_train = static_cast<std::size_t>(std::count_if(rows.begin(), rows.end(), [](const Row& r) { return r.train; }));
  if (options.train_below && (rep.rows_train == 0 || rep.rows_train == rows.size()))
    throw FitError("--train-below " + text::fixed(*options.train_below, 6) + " leaves " +
                   (rep.rows_train == 0 ? "no row to fit on" : "no row to test on"));
  const bool binomial = all_n;
  rep.likelihood = binomial ? Likelihood::binomial : Likelihood::logit_least_squares;
  if (!binomial && std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.n.has_value(); }))
    rep.notes.push_back("some rows give n and some do not: least squares on the logit for all");
  return rows;
}

std::vector<Param> free_parameters(const Model& model, const std::vector<Row>& rows, const FitOptions& options,
                                   FitReport& rep, std::vector<char>& unconstrained_leaf) {
  unconstrained_leaf.assign(model.size(), 0);
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
  std::vector<char> fixed(model.size(), 0);
  for (const auto& id : options.fixed) chosen[leaf_index(id)] = 0, fixed[leaf_index(id)] = 1;
  // Skills nobody fixed that no training row lies above keep their declared
  // curves; what rests on them is not a forecast from these data.
  std::vector<std::string> silent;
  for (std::size_t v = 0; v < model.size(); ++v)
    if (!model.node(v).is_task && !constrained[v] && !fixed[v] && !chosen[v] &&
        model.node(v).curve.kind != CurveKind::points) {
      unconstrained_leaf[v] = 1;
      rep.unconstrained.push_back(model.node(v).id);
      silent.push_back(model.node(v).id);
    }
  if (!silent.empty()) {
    std::string list;
    for (const auto& id : silent) list += (list.empty() ? "`" : ", `") + id + "`";
    rep.notes.push_back("skill(s) " + list + " not constrained: no training observation lies above them (kept as "
                        "declared; tasks above them get no forecast)");
  }
  std::vector<Param> params;
  for (std::size_t v = 0; v < model.size(); ++v) {
    if (!chosen[v]) continue;
    const NodeSpec& n = model.node(v);
    if (!constrained[v]) {
      rep.notes.push_back("skill `" + n.id + "` not constrained: no training observation lies above it (kept as "
                          "declared; tasks above it get no forecast)");
      rep.unconstrained.push_back(n.id);
      unconstrained_leaf[v] = 1;
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
  // Pooled: one offset in log10 x per family but the reference, within
  // five decades either way (wider than any real family difference).
  for (std::size_t g = 1; g < rep.offsets.size(); ++g) {
    if (rep.offsets[g].rows_train == 0)
      throw FitError("family `" + rep.offsets[g].family +
                     "` has no training row: its offset cannot be fitted (raise --train-below)");
    params.push_back({g, kOffset, -5, 5});
  }
  return params;
}

FitObjective::FitObjective(const Model& model, const std::vector<Row>& rows, const std::vector<Param>& params,
                           bool binomial, double logit_floor)
    : model_(model), rows_(rows), params_(params), binomial_(binomial), floor_(std::clamp(logit_floor, 1e-12, 0.49)) {
  for (const Row& r : rows) xs_.push_back(r.x);
  std::sort(xs_.begin(), xs_.end());
  xs_.erase(std::unique(xs_.begin(), xs_.end()), xs_.end());
  xj_.resize(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    xj_[i] = static_cast<std::size_t>(std::lower_bound(xs_.begin(), xs_.end(), rows[i].x) - xs_.begin());
}

double FitObjective::clamp_logit(double p) const { return logit(std::clamp(p, floor_, 1 - floor_)); }

double FitObjective::declared(std::size_t i) const {
  if (params_[i].name == kOffset) return 0;  // families start on the reference's scale
  return get_param(model_.node(params_[i].node).curve, params_[i]);
}

Overrides FitObjective::overrides(const std::vector<double>& theta) const {
  Overrides o;
  for (std::size_t i = 0; i < params_.size() && params_[i].name != kOffset;) {  // a leaf's parameters are adjacent
    const std::size_t v = params_[i].node;
    const NodeSpec& leaf = model_.node(v);
    Curve c = leaf.curve;
    for (; i < params_.size() && params_[i].node == v; ++i) set_param(c, params_[i], theta[i]);
    o.set_curve(v, std::move(c), leaf.floor, leaf.ceiling);
  }
  return o;
}

// Residual (least squares) or negative log-likelihood term of one row.
double FitObjective::term(const Row& r, const Prediction& p) const {
  if (binomial_) {
    const double k = r.value * *r.n;
    return -(k * p.log_value + (*r.n - k) * p.log1m_value);
  }
  const double d =
      r.metric.kind == MetricKind::log_likelihood ? r.value - p.value : clamp_logit(r.value) - clamp_logit(p.value);
  return d * d;
}

std::vector<Prediction> FitObjective::predictions(const std::vector<double>& theta) const {
  EvalOptions options;
  options.overrides = overrides(theta);
  std::vector<Prediction> out;
  out.reserve(rows_.size());
  const bool pooled = !params_.empty() && params_.back().name == kOffset;
  if (!pooled) {
    const Evaluation ev = evaluate(model_, xs_, options);
    for (std::size_t i = 0; i < rows_.size(); ++i) out.push_back(predict(ev, rows_[i], xj_[i]));
    return out;
  }
  // Effective scale of each row: its family's offset shifts it in log10 x.
  std::vector<double> shift(1, 0.0);
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (params_[i].name == kOffset) {
      if (shift.size() <= params_[i].node) shift.resize(params_[i].node + 1, 0.0);
      shift[params_[i].node] = theta[i];
    }
  std::vector<double> xe(rows_.size());
  for (std::size_t i = 0; i < rows_.size(); ++i)
    xe[i] = rows_[i].x * std::pow(10.0, rows_[i].group < shift.size() ? shift[rows_[i].group] : 0.0);
  std::vector<double> xs = xe;
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  const Evaluation ev = evaluate(model_, xs, options);
  for (std::size_t i = 0; i < rows_.size(); ++i)
    out.push_back(predict(ev, rows_[i], static_cast<std::size_t>(std::lower_bound(xs.begin(), xs.end(), xe[i]) - xs.begin())));
  return out;
}

double FitObjective::operator()(const std::vector<double>& theta) const {
  try {
    const std::vector<Prediction> pred = predictions(theta);
    double sum = 0;
    for (std::size_t i = 0; i < rows_.size(); ++i)
      if (rows_[i].train) sum += term(rows_[i], pred[i]);
    return std::isfinite(sum) ? sum : kHuge;
  } catch (const ModelError&) {
    return kHuge;
  }
}

}  // namespace capgraph::analysis::detail
