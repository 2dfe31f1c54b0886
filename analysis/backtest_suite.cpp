// capgraph/analysis/backtest_suite.cpp — `fit --backtest`: one fit per
// family with its last two models held out, each series scored against a
// per-task logistic and a flat forecast (analysis/backtest.hpp).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "analysis/backtest.hpp"
#include "analysis/fit_internal.hpp"
#include "text/number_format.hpp"

namespace capgraph::analysis {

namespace {

// The distinct scales of each family's usable rows (the rows fit_model
// would use with every family pooled), ascending.
std::map<std::string, std::vector<double>> family_scales(const Model& model, const ObservationSet& obs,
                                                         const FitOptions& base) {
  FitOptions all = base;
  all.pool = true;
  all.family.reset();
  all.train_below.reset();
  FitReport scratch;
  std::map<std::string, std::set<double>> xs;
  for (const auto& r : detail::usable_rows(model, obs, all, scratch, true)) xs[obs.rows[r.obs].family].insert(r.x);
  std::map<std::string, std::vector<double>> out;
  for (const auto& [f, s] : xs) out[f] = std::vector<double>(s.begin(), s.end());
  return out;
}

// One series' backtest row from its fitted points (nullopt: too few points).
std::optional<BacktestRow> score_series(const FitSeries& s, double cut, FitStatus status, const FitOptions& options) {
  BacktestRow b{s.family, s.task, s.metric, cut, status, 0, 0, 0, 0, 0, 0, 0};
  std::vector<double> tx, ty;
  std::vector<std::optional<double>> tn;
  for (const auto& p : s.points)
    if (p.train) tx.push_back(p.x), ty.push_back(p.observed), tn.push_back(p.n);
  b.n_train = tx.size();
  b.n_test = s.points.size() - tx.size();
  if (b.n_train < 2 || b.n_test == 0) return std::nullopt;
  const Logistic lg = fit_logistic(tx, ty, tn, options.logit_floor, options.max_evaluations);
  const double flat = ty.back();  // points are by increasing x
  for (const auto& p : s.points) {
    if (p.train) continue;
    b.mae_graph += std::fabs(p.observed - p.predicted);
    b.mae_logistic += std::fabs(p.observed - lg.at(p.x));
    b.mae_flat += std::fabs(p.observed - flat);
    if (!p.lo || !p.hi) ++b.no_interval;
    else if (p.observed >= *p.lo && p.observed <= *p.hi) ++b.inside;
  }
  const double n = static_cast<double>(b.n_test);
  b.mae_graph = status == FitStatus::ok ? b.mae_graph / n : detail::kNaN;
  b.mae_logistic /= n;
  b.mae_flat /= n;
  return b;
}

}  // namespace

BacktestSuite run_backtests(const Model& model, const ObservationSet& obs, const FitOptions& base) {
  BacktestSuite out;
  out.pool = base.pool;
  for (const auto& [family, xs] : family_scales(model, obs, base)) {
    if (xs.size() < 4) {
      out.notes.push_back("family `" + family + "` left out: " + std::to_string(xs.size()) +
                          " model scale(s); a backtest needs 2 to fit the logistic baseline and 2 to hold out");
      continue;
    }
    FitOptions o = base;
    o.family = family;
    o.train_below = xs[xs.size() - 2];
    FitReport rep;
    try {
      rep = fit_model(model, obs, o);
    } catch (const FitError& e) {
      out.notes.push_back("family `" + family + "` left out: " + e.what());
      continue;
    }
    if (rep.status != FitStatus::ok)
      out.notes.push_back("family `" + family + "`: the fit is " + fit_status_name(rep.status) +
                          ", not a result: no forecast, counted as losses");
    for (const auto& s : rep.series) {
      if (s.family != family || !obs.metrics.at(s.metric).unit_interval) continue;
      if (auto b = score_series(s, *o.train_below, rep.status, o)) out.rows.push_back(std::move(*b));
      else
        out.notes.push_back("series `" + s.task + "` (" + family + ", " + s.metric +
                            ") left out: it needs 2 training points and a held-out one");
    }
  }
  std::stable_sort(out.rows.begin(), out.rows.end(), [](const BacktestRow& a, const BacktestRow& b) {
    return std::tie(a.family, a.task, a.metric) < std::tie(b.family, b.task, b.metric);
  });
  BacktestTotals& t = out.totals;
  std::size_t with_forecast = 0;
  for (const auto& b : out.rows) {
    ++t.backtests;
    const bool forecast = b.status == FitStatus::ok;  // NaN compares false: no forecast is a loss
    t.no_forecast += !forecast;
    with_forecast += forecast;
    // "at most": a tie to optimiser precision (the same curve fitted twice) counts
    t.graph_le_logistic += forecast && b.mae_graph <= b.mae_logistic * (1 + 1e-9) + 1e-15;
    t.graph_lt_flat += forecast && b.mae_graph < b.mae_flat;
    t.points += b.n_test;
    t.inside += b.inside;
    t.no_interval += b.no_interval;
    if (forecast) t.mean_mae_graph += b.mae_graph;
    t.mean_mae_logistic += b.mae_logistic;
    t.mean_mae_flat += b.mae_flat;
  }
  if (t.backtests) {
    const double n = static_cast<double>(t.backtests);
    t.mean_mae_graph = with_forecast ? t.mean_mae_graph / static_cast<double>(with_forecast) : detail::kNaN;
    t.mean_mae_logistic /= n;
    t.mean_mae_flat /= n;
  } else {
    throw FitError("no family has enough points to backtest (each needs 4 model scales)");
  }
  return out;
}

}  // namespace capgraph::analysis
