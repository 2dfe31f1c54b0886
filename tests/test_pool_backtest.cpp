// tests/test_pool_backtest.cpp — pooled fits (FitOptions::pool) and
// `fit --backtest` (analysis/backtest.hpp): a family offset recovered from
// data generated with a known one, the logistic baseline against the
// closed-form least-squares line, backtest rows of a tiny dataset checked
// by hand, determinism.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "analysis/backtest.hpp"
#include "analysis/fit.hpp"
#include "analysis/observations.hpp"
#include "graph/evaluation.hpp"
#include "model_builder.hpp"
#include "text/number_format.hpp"

using namespace capgraph;
using namespace capgraph::analysis;
using capgraph::testing::Builder;
using capgraph::testing::logistic;
using capgraph::text::shortest;

namespace {

double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }
double logit(double p) { return std::log(p / (1 - p)); }

// Two skills, three tasks; family A on the model's own scale, family B
// scoring like A at 10^offset times its size. Exact scores (n_items = 0)
// or binomial samples of n_items, drawn with a fixed seed.
struct Pooled {
  ModelSpec truth;
  std::string csv;
};
Pooled pooled_data(double offset, int n_items, std::uint64_t seed) {
  Builder b;
  const auto a = b.skill("a", logistic(1e9, 1.5));
  const auto c = b.skill("b", logistic(2e10, 1.0));
  b.task("t1", GateKind::all, {{a, 2}});
  b.task("t2", GateKind::all, {{a, 1}, {c, 2}});
  b.task("t3", GateKind::all, {{c, 1}});
  b.spec.scale.from = 1e7;
  b.spec.scale.to = 1e13;
  const Model m = Model::compile(b.spec);
  std::vector<double> xs;
  for (int i = 0; i <= 9; ++i) xs.push_back(std::pow(10.0, 8 + i / 3.0));
  std::vector<double> xb;  // B's effective scales
  for (double x : xs) xb.push_back(x * std::pow(10.0, offset));
  const Evaluation ea = evaluate(m, xs), eb = evaluate(m, xb);
  std::mt19937_64 rng(seed);
  std::ostringstream os;
  os << "task,family,params,metric,score" << (n_items ? ",n" : "") << "\n";
  for (const char* fam : {"A", "B"})
    for (const char* t : {"t1", "t2", "t3"})
      for (std::size_t j = 0; j < xs.size(); ++j) {
        const double p = (fam[0] == 'A' ? ea : eb).p(*m.find(t), j);
        double score = p;
        if (n_items) {
          std::binomial_distribution<int> draw(n_items, p);
          score = static_cast<double>(draw(rng)) / n_items;
        }
        os << t << ',' << fam << ',' << shortest(xs[j]) << ",exact_match," << shortest(score);
        if (n_items) os << ',' << n_items;
        os << '\n';
      }
  return {b.spec, os.str()};
}

Model start_from(ModelSpec spec) {
  for (auto& n : spec.nodes)
    if (!n.is_task) n.curve = logistic(3e9, 1.0);
  return Model::compile(std::move(spec));
}

const FamilyOffset& offset_of(const FitReport& r, const std::string& f) {
  for (const auto& o : r.offsets)
    if (o.family == f) return o;
  FAIL("no family " << f);
  return r.offsets.front();
}

// One skill s (logistic, mid 1e9, slope 1) and one task t that is the skill.
Model one_logistic_task() {
  Builder b;
  const auto s = b.skill("s", logistic(1e9, 1.0));
  b.task("t", GateKind::all, {{s, 1}});
  b.spec.scale.from = 1e7;
  b.spec.scale.to = 1e13;
  return Model::compile(b.spec);
}

}  // namespace

TEST_CASE("pool: the family offset of noise-free data comes back exactly", "[analysis][pool]") {
  const Pooled d = pooled_data(0.7, 0, 1);
  const auto obs = read_observations_text(d.csv, "pooled.csv");
  REQUIRE(obs.ok());
  FitOptions o;
  o.pool = true;
  const FitReport r = fit_model(start_from(d.truth), obs.set, o);
  REQUIRE(r.offsets.size() == 2);
  // A and B have 30 rows each: the tie goes to the first by name
  CHECK(r.offsets[0].family == "A");
  CHECK(r.offsets[0].reference);
  CHECK(offset_of(r, "B").log10_offset == Approx(0.7).margin(1e-4));
  CHECK(offset_of(r, "B").multiplier == Approx(std::pow(10.0, 0.7)).epsilon(1e-3));
  CHECK(r.objective < 1e-8);
  REQUIRE(r.parameters.size() == 5);  // 2 skills x 2 + 1 offset
  CHECK(r.parameters[0].value == Approx(9.0).margin(1e-4));
}

TEST_CASE("pool: binomial samples, the offset within 3 SE and its interval around it", "[analysis][pool]") {
  const Pooled d = pooled_data(-0.4, 400, 20240607);
  const auto obs = read_observations_text(d.csv, "pooled.csv");
  REQUIRE(obs.ok());
  FitOptions o;
  o.pool = true;
  const FitReport r = fit_model(start_from(d.truth), obs.set, o);
  CHECK(r.likelihood == Likelihood::binomial);
  REQUIRE(r.identified);
  const FamilyOffset& b = offset_of(r, "B");
  REQUIRE(std::isfinite(b.se));
  CHECK(b.se > 0);
  CHECK(b.se < 0.05);
  CHECK(std::fabs(b.log10_offset - -0.4) < 3 * b.se);
  // the multiplier's interval is 10^(offset -+ 1.96 SE) (binomial: normal quantile)
  CHECK(std::log10(b.lo) == Approx(b.log10_offset - 1.959963984540054 * b.se).margin(1e-9));
  CHECK(std::log10(b.hi) == Approx(b.log10_offset + 1.959963984540054 * b.se).margin(1e-9));
}

TEST_CASE("pool: with --family and --train-below only that family's rows are held out", "[analysis][pool]") {
  const Pooled d = pooled_data(0.5, 0, 1);
  const auto obs = read_observations_text(d.csv, "pooled.csv");
  REQUIRE(obs.ok());
  FitOptions o;
  o.pool = true;
  o.family = "B";
  o.train_below = 1e10;  // B's scales 1e10 .. 1e11: 4 of 10 held out, per task
  const FitReport r = fit_model(start_from(d.truth), obs.set, o);
  CHECK(r.rows_used == 60);
  CHECK(r.rows_train == 60 - 3 * 4);
  for (const auto& s : r.series)
    for (const auto& p : s.points) CHECK(p.train == (s.family == "A" || p.x < 1e10));
  // exact data: the held-out rows are predicted from A's rows and B's lower ones
  for (const auto& s : r.series)
    if (s.family == "B") {
      REQUIRE(s.mae_test);
      CHECK(*s.mae_test < 1e-4);
    }
  // without --pool, --family keeps the single-family fit
  FitOptions single;
  single.family = "B";
  const FitReport rs = fit_model(start_from(d.truth), obs.set, single);
  CHECK(rs.offsets.empty());
  CHECK(rs.rows_used == 30);
  // several families without --pool or --family: refused, with the way out
  try {
    fit_model(start_from(d.truth), obs.set, FitOptions{});
    FAIL("expected a FitError");
  } catch (const FitError& e) {
    CHECK(std::string(e.what()).find("--pool") != std::string::npos);
  }
}

TEST_CASE("pool: a family at the floor is left out, and the fit is the one without it", "[analysis][pool]") {
  const Pooled d = pooled_data(0.3, 0, 1);
  // family Z: every score at or below the logit floor (0 and 5e-4 < 1e-3)
  std::string with_z = d.csv;
  for (const char* t : {"t1", "t2", "t3"})
    for (int j = 0; j < 4; ++j)
      with_z += std::string(t) + ",Z," + shortest(std::pow(10.0, 8 + j)) + ",exact_match," + (j % 2 ? "0.0005" : "0") + "\n";
  const auto obs = read_observations_text(with_z, "pooled.csv");
  const auto obs_without = read_observations_text(d.csv, "pooled.csv");
  REQUIRE(obs.ok());
  REQUIRE(obs_without.ok());
  FitOptions o;
  o.pool = true;
  const FitReport r = fit_model(start_from(d.truth), obs.set, o);
  const FitReport rw = fit_model(start_from(d.truth), obs_without.set, o);
  CHECK(r.status == FitStatus::ok);
  CHECK(r.rows_used == rw.rows_used);
  REQUIRE(r.offsets.size() == 2);
  for (const auto& f : r.offsets) CHECK(f.family != "Z");
  CHECK(offset_of(r, "B").log10_offset == offset_of(rw, "B").log10_offset);
  REQUIRE(r.parameters.size() == rw.parameters.size());
  for (std::size_t i = 0; i < r.parameters.size(); ++i) CHECK(r.parameters[i].value == rw.parameters[i].value);
  const auto note = std::find_if(r.notes.begin(), r.notes.end(),
                                 [](const std::string& n) { return n.find("family `Z` left out") != std::string::npos; });
  REQUIRE(note != r.notes.end());
  CHECK(note->find("12 training score(s)") != std::string::npos);
  CHECK(note->find("logit floor 0.001") != std::string::npos);
  // the same family forecast: kept, and its offset is not identified
  o.family = "Z";
  o.train_below = 1e10;
  const FitReport rz = fit_model(start_from(d.truth), obs.set, o);
  CHECK(rz.status == FitStatus::not_identified);
  CHECK(std::find(rz.unidentified.begin(), rz.unidentified.end(), "Z.log10_offset") != rz.unidentified.end());
  // nothing but floored families: refused, with the way out
  std::string only_z = "task,family,params,metric,score\n";
  for (int j = 0; j < 4; ++j) only_z += "t1,Z," + shortest(std::pow(10.0, 8 + j)) + ",exact_match,0\n";
  const auto obs_z = read_observations_text(only_z, "z.csv");
  REQUIRE(obs_z.ok());
  FitOptions oz;
  oz.pool = true;
  try {
    fit_model(start_from(d.truth), obs_z.set, oz);
    FAIL("expected a FitError");
  } catch (const FitError& e) {
    CHECK(std::string(e.what()).find("no family left in the pool of z.csv") != std::string::npos);
    CHECK(std::string(e.what()).find("--logit-floor") != std::string::npos);
  }
}

TEST_CASE("backtest: the logistic baseline is the least-squares line through the logits", "[analysis][backtest]") {
  // Least squares on the logit of p = sigmoid(s (log10 x - m)) is linear
  // regression of logit(y) on log10 x: slope s, intercept -s m.
  const std::vector<double> x{1e8, 3e8, 1e9, 3e9, 1e10, 3e10};
  const std::vector<double> y{0.02, 0.05, 0.09, 0.3, 0.41, 0.77};
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) mx += std::log10(x[i]) / 6, my += logit(y[i]) / 6;
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (std::log10(x[i]) - mx) * (logit(y[i]) - my);
    sxx += (std::log10(x[i]) - mx) * (std::log10(x[i]) - mx);
  }
  const double s = sxy / sxx, m = mx - my / s;
  const Logistic lg = fit_logistic(x, y, std::vector<std::optional<double>>(x.size()), 1e-3);
  CHECK(lg.slope == Approx(s).epsilon(1e-6));
  CHECK(lg.log10_mid == Approx(m).epsilon(1e-6));
  CHECK(lg.at(1e11) == Approx(sigmoid(s * (11 - m))).epsilon(1e-6));
  // with item counts: the binomial maximum likelihood, whose score equations
  // sum (k_i - n p_i) = 0 and sum (k_i - n p_i) log10 x_i = 0 hold at it
  const std::vector<std::optional<double>> n(x.size(), 200.0);
  const Logistic lb = fit_logistic(x, y, n, 1e-3);
  double g0 = 0, g1 = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double r = 200 * (y[i] - lb.at(x[i]));
    g0 += r;
    g1 += r * std::log10(x[i]);
  }
  CHECK(std::fabs(g0) < 1e-3);
  CHECK(std::fabs(g1) < 1e-2);
}

TEST_CASE("backtest: rows of a tiny dataset, checked by hand", "[analysis][backtest]") {
  // One skill, one task that is the skill: least squares on the logit of
  // a logistic in log10 x is the least-squares line through the logits,
  // for the graph's fit and for the baseline alike.
  const Model m = one_logistic_task();
  const std::string csv =
      "task,family,params,metric,score\n"
      "t,F,1e8,exact_match,0.1\n"
      "t,F,1e9,exact_match,0.3\n"
      "t,F,1e10,exact_match,0.4\n"
      "t,F,1e11,exact_match,0.6\n"
      "t,F,1e12,exact_match,0.7\n"
      "t,G,1e9,exact_match,0.2\n"  // G: 2 training points for 2 parameters, no forecast
      "t,G,1e10,exact_match,0.4\n"
      "t,G,1e11,exact_match,0.7\n"
      "t,G,1e12,exact_match,0.8\n"
      "t,H,1e9,exact_match,0.2\n"  // H has 3 scales: too few to backtest
      "t,H,1e10,exact_match,0.4\n"
      "t,H,1e11,exact_match,0.7\n";
  const auto obs = read_observations_text(csv, "tiny.csv");
  REQUIRE(obs.ok());
  const BacktestSuite suite = run_backtests(m, obs.set, FitOptions{});
  REQUIRE(suite.rows.size() == 2);
  const BacktestRow& r = suite.rows[0];
  CHECK(r.family == "F");
  CHECK(r.task == "t");
  CHECK(r.cut == 1e11);
  CHECK(r.n_train == 3);
  CHECK(r.n_test == 2);
  CHECK(r.status == FitStatus::ok);
  // the line through (8, logit 0.1), (9, logit 0.3), (10, logit 0.4): slope
  // (L3 - L1) / 2, through the mean point (9, mean L)
  const double L1 = logit(0.1), L2 = logit(0.3), L3 = logit(0.4);
  const double slope = (L3 - L1) / 2, mean = (L1 + L2 + L3) / 3;
  const double p11 = sigmoid(mean + 2 * slope), p12 = sigmoid(mean + 3 * slope);
  CHECK(p11 == Approx(0.655).margin(1e-3));
  CHECK(p12 == Approx(0.823).margin(1e-3));
  const double mae = (std::fabs(0.6 - p11) + std::fabs(0.7 - p12)) / 2;
  CHECK(r.mae_logistic == Approx(mae).epsilon(1e-5));
  CHECK(r.mae_graph == Approx(mae).epsilon(1e-4));
  CHECK(r.mae_flat == Approx((0.2 + 0.3) / 2).epsilon(1e-12));  // flat at 0.4
  CHECK(r.no_interval == 0);
  const BacktestRow& g = suite.rows[1];
  CHECK(g.family == "G");
  CHECK(g.n_train == 2);
  CHECK(g.status != FitStatus::ok);  // no residual degree of freedom: not a result
  CHECK(std::isnan(g.mae_graph));
  CHECK(g.inside == 0);
  CHECK(g.no_interval == 2);
  // the two-point logistic through (9, logit 0.2) and (10, logit 0.4)
  const double q11 = sigmoid(logit(0.4) + (logit(0.4) - logit(0.2))), q12 = sigmoid(logit(0.4) + 2 * (logit(0.4) - logit(0.2)));
  CHECK(g.mae_logistic == Approx((std::fabs(0.7 - q11) + std::fabs(0.8 - q12)) / 2).epsilon(1e-5));
  CHECK(suite.totals.backtests == 2);
  CHECK(suite.totals.no_forecast == 1);
  CHECK(suite.totals.graph_lt_flat == 1);       // F: (0.055 + 0.123) / 2 against 0.25; G: no forecast, a loss
  CHECK(suite.totals.graph_le_logistic == 1);   // F ties the baseline (the same line, to 1e-9); G: a loss
  CHECK(suite.totals.mean_mae_graph == Approx(r.mae_graph));  // over the backtests with a forecast
  CHECK(suite.totals.points == 4);
  REQUIRE(suite.notes.size() >= 1);
  bool h_noted = false;
  for (const auto& n : suite.notes) h_noted |= n.find("`H` left out") != std::string::npos;
  CHECK(h_noted);
}

TEST_CASE("backtest: pooled, deterministic, coverage counted against the intervals", "[analysis][backtest]") {
  const Pooled d = pooled_data(0.3, 300, 7);
  const auto obs = read_observations_text(d.csv, "pooled.csv");
  REQUIRE(obs.ok());
  FitOptions o;
  o.pool = true;
  const Model m = start_from(d.truth);
  const BacktestSuite s1 = run_backtests(m, obs.set, o);
  const BacktestSuite s2 = run_backtests(m, obs.set, o);
  REQUIRE(s1.rows.size() == 6);  // 2 families x 3 tasks
  REQUIRE(s2.rows.size() == 6);
  std::size_t inside = 0, points = 0;
  for (std::size_t i = 0; i < s1.rows.size(); ++i) {
    CHECK(s1.rows[i].mae_graph == s2.rows[i].mae_graph);
    CHECK(s1.rows[i].mae_logistic == s2.rows[i].mae_logistic);
    CHECK(s1.rows[i].inside == s2.rows[i].inside);
    CHECK(s1.rows[i].n_test == 2);
    CHECK(s1.rows[i].n_train == 8);
    CHECK(s1.rows[i].no_interval == 0);
    inside += s1.rows[i].inside;
    points += s1.rows[i].n_test;
  }
  CHECK(s1.totals.inside == inside);
  CHECK(s1.totals.points == points);
  CHECK(points == 12);
  // the data come from the model: most held-out points lie in their 95 % intervals
  CHECK(inside >= 10);
}

TEST_CASE("prediction intervals: a single logistic is linear regression on the logit", "[analysis][backtest]") {
  // One skill, one task that is the skill, least squares on the logit:
  // logit(y) = s log10 x - s m, a straight line in log10 x. The delta-method
  // interval with the residual variance is then the textbook prediction
  // interval  yhat0 -+ t(0.975, n - 2) sigma sqrt(1 + 1/n + (l0 - lbar)^2 / Sxx).
  const Model m = one_logistic_task();
  const std::vector<double> x{1e8, 3e8, 1e9, 3e9, 1e10, 3e10, 1e11, 3e11};
  const std::vector<double> y{0.02, 0.05, 0.09, 0.3, 0.41, 0.77, 0.8, 0.93};
  std::ostringstream csv;
  csv << "task,family,params,metric,score\n";
  for (std::size_t i = 0; i < x.size(); ++i) csv << "t,F," << shortest(x[i]) << ",exact_match," << shortest(y[i]) << '\n';
  const auto obs = read_observations_text(csv.str(), "line.csv");
  REQUIRE(obs.ok());
  FitOptions o;
  o.train_below = 1e11;  // 6 training points, 2 held out
  const FitReport r = fit_model(m, obs.set, o);
  REQUIRE(r.identified);
  const std::size_t n = 6;
  double lbar = 0, ybar = 0;
  for (std::size_t i = 0; i < n; ++i) lbar += std::log10(x[i]) / n, ybar += logit(y[i]) / n;
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxy += (std::log10(x[i]) - lbar) * (logit(y[i]) - ybar);
    sxx += (std::log10(x[i]) - lbar) * (std::log10(x[i]) - lbar);
  }
  const double slope = sxy / sxx, icpt = ybar - slope * lbar;
  double sse = 0;
  for (std::size_t i = 0; i < n; ++i) sse += std::pow(logit(y[i]) - icpt - slope * std::log10(x[i]), 2);
  const double sigma = std::sqrt(sse / (n - 2));
  CHECK(r.sigma == Approx(sigma).epsilon(1e-6));
  const double t4 = 2.7764451051977987;  // Student t, 4 degrees of freedom, 0.975
  REQUIRE(r.series.size() == 1);
  std::size_t checked = 0;
  for (const auto& p : r.series[0].points) {
    INFO("x = " << p.x);
    const double l0 = std::log10(p.x);
    const double half = t4 * sigma * std::sqrt(1 + 1.0 / n + (l0 - lbar) * (l0 - lbar) / sxx);
    const double yhat = icpt + slope * l0;
    const bool train = p.x < 1e11;
    // a training point's interval is of a new observation at its scale: the same formula
    REQUIRE(p.lo);
    REQUIRE(p.hi);
    CHECK(p.train == train);
    CHECK(logit(*p.lo) == Approx(yhat - half).epsilon(1e-4));
    CHECK(logit(*p.hi) == Approx(yhat + half).epsilon(1e-4));
    ++checked;
  }
  CHECK(checked == 8);
}
