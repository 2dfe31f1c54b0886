// tests/test_fit_intervals.cpp — how far a fit can be trusted
// (analysis/fit.hpp): the t quantiles against closed forms and tables, the
// coverage of the profile-likelihood crossing intervals and of the
// per-point prediction intervals on data simulated from a known curve
// (fixed seeds), the multi-start's independence of the start, and the
// statuses of fits that are not a result.
#include "test_paths.hpp"
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <sstream>

#include "analysis/fit.hpp"
#include "analysis/observations.hpp"
#include "graph/evaluation.hpp"
#include "model_builder.hpp"
#include "text/number_format.hpp"
#include "specs/load.hpp"

using namespace capgraph;
using namespace capgraph::analysis;
using capgraph::testing::Builder;
using capgraph::testing::logistic;
using capgraph::text::shortest;

namespace {

// One task = one logistic skill (mid 3e9, slope 1.5): its 0.5 crossing is
// the mid exactly. Eight scales 1e8 .. 1e11 (log-spaced).
constexpr double kMid = 3e9, kSlope = 1.5;

ModelSpec one_logistic(double mid, double slope) {
  Builder b;
  const auto a = b.skill("a", logistic(mid, slope));
  b.task("t", GateKind::all, {{a, 1}});
  b.spec.scale.from = 1e7;
  b.spec.scale.to = 1e13;
  return b.spec;
}

std::vector<double> scales() {
  std::vector<double> xs;
  for (int i = 0; i < 8; ++i) xs.push_back(std::pow(10.0, 8 + 3.0 * i / 7));
  return xs;
}

double truth_at(double x) { return 1 / (1 + std::exp(-kSlope * (std::log10(x) - std::log10(kMid)))); }

// Binomial scores of n items (with the n column), or logit-normal scores
// (noise SD `sd` on the logit, no n column).
std::string simulate(std::mt19937_64& rng, int n_items, double sd) {
  std::ostringstream os;
  os << "task,family,params,metric,score" << (n_items ? ",n" : "") << "\n";
  std::normal_distribution<double> noise(0, sd);
  for (double x : scales()) {
    const double p = truth_at(x);
    double score;
    if (n_items) {
      std::binomial_distribution<int> draw(n_items, p);
      score = static_cast<double>(draw(rng)) / n_items;
    } else {
      score = 1 / (1 + std::exp(-(std::log(p / (1 - p)) + noise(rng))));
    }
    os << "t,F," << shortest(x) << ",exact_match," << shortest(score);
    if (n_items) os << "," << n_items;
    os << "\n";
  }
  return os.str();
}

FitReport fit_text(const ModelSpec& spec, const std::string& csv, const FitOptions& fo = {}) {
  const auto obs = read_observations_text(csv, "sim.csv");
  REQUIRE(obs.ok());
  return fit_model(Model::compile(spec), obs.set, fo);
}

}  // namespace

TEST_CASE("fit intervals: Student t quantiles against closed forms and tables", "[analysis][fit][intervals]") {
  // dof 1: tan(pi (p - 1/2)); dof 2: (2p - 1) / sqrt(2 p (1 - p))
  for (double p : {0.6, 0.9, 0.975, 0.995}) {
    CHECK(student_t_quantile(p, 1) == Approx(std::tan(M_PI * (p - 0.5))).epsilon(1e-10));
    CHECK(student_t_quantile(p, 2) == Approx((2 * p - 1) / std::sqrt(2 * p * (1 - p))).epsilon(1e-10));
  }
  // two-sided 95 % table values
  CHECK(student_t_quantile(0.975, 2) == Approx(4.302653).epsilon(1e-6));
  CHECK(student_t_quantile(0.975, 4) == Approx(2.776445).epsilon(1e-6));
  CHECK(student_t_quantile(0.975, 10) == Approx(2.228139).epsilon(1e-6));
  CHECK(student_t_quantile(0.975, 26) == Approx(2.055529).epsilon(1e-6));
  CHECK(student_t_quantile(0.975, INFINITY) == Approx(1.959964).epsilon(1e-6));
  // fractional dof lies between its integer neighbours
  const double t35 = student_t_quantile(0.975, 3.5);
  CHECK(t35 < student_t_quantile(0.975, 3));
  CHECK(t35 > student_t_quantile(0.975, 4));
  CHECK(std::isnan(student_t_quantile(0.975, 0)));
}

TEST_CASE("fit intervals: the parameter interval uses t with the residual dof", "[analysis][fit][intervals]") {
  std::mt19937_64 rng(5);
  const FitReport r = fit_text(one_logistic(1e10, 1), simulate(rng, 0, 0.3));
  REQUIRE(r.status == FitStatus::ok);
  CHECK(r.dof == 6);  // 8 rows, 2 parameters
  CHECK(r.quantile == Approx(2.446912).epsilon(1e-6));
  for (const auto& p : r.parameters) {
    CHECK(p.hi - p.value == Approx(2.446912 * p.se).epsilon(1e-6));
    CHECK(p.value - p.lo == Approx(2.446912 * p.se).epsilon(1e-6));
  }
}

TEST_CASE("fit intervals: profile intervals of a crossing cover the truth ~95 % of the time",
          "[analysis][fit][intervals]") {
  // 200 binomial datasets (n = 100) from the known logistic; the spec to fit
  // starts elsewhere. Binomial SD of the coverage at 95 %: 1.5 %.
  std::mt19937_64 rng(20240601);
  const ModelSpec start = one_logistic(1e10, 1);
  int covered = 0, total = 0, asymmetric = 0;
  for (int k = 0; k < 200; ++k) {
    const FitReport r = fit_text(start, simulate(rng, 100, 0));
    REQUIRE(r.status == FitStatus::ok);
    REQUIRE(r.forecasts.size() == 1);
    const auto& f = r.forecasts[0];
    REQUIRE(f.crossing);
    REQUIRE(f.interval);
    ++total;
    const double lo = f.lo ? *f.lo : 0, hi = f.hi ? *f.hi : INFINITY;
    covered += lo <= kMid && kMid <= hi;
    const double down = std::log10(*f.crossing) - std::log10(lo), up = std::log10(hi) - std::log10(*f.crossing);
    asymmetric += std::fabs(up - down) > 1e-3 * (up + down);
  }
  const double coverage = static_cast<double>(covered) / total;
  INFO("coverage " << coverage);
  CHECK(coverage >= 0.91);
  CHECK(coverage <= 0.985);
  CHECK(asymmetric > total / 2);  // profile intervals are not symmetric in log N
}

TEST_CASE("fit intervals: per-point prediction intervals cover fresh draws ~95 % of the time",
          "[analysis][fit][intervals]") {
  const ModelSpec start = one_logistic(1e10, 1);
  for (const int n_items : {100, 0}) {
    INFO((n_items ? "binomial" : "logit-normal noise, SD 0.4"));
    std::mt19937_64 rng(777 + n_items);
    int inside = 0, total = 0;
    for (int k = 0; k < 100; ++k) {
      const FitReport r = fit_text(start, simulate(rng, n_items, 0.4));
      REQUIRE(r.status == FitStatus::ok);
      // a fresh dataset at the same scales: new observations of the same truth
      const auto fresh = read_observations_text(simulate(rng, n_items, 0.4), "fresh.csv");
      REQUIRE(fresh.ok());
      REQUIRE(r.series.size() == 1);
      const auto& pts = r.series[0].points;
      REQUIRE(pts.size() == fresh.set.rows.size());
      for (std::size_t i = 0; i < pts.size(); ++i) {
        REQUIRE(pts[i].lo);
        CHECK(pts[i].x == fresh.set.rows[i].params);
        ++total;
        inside += *pts[i].lo <= fresh.set.rows[i].value && fresh.set.rows[i].value <= *pts[i].hi;
      }
    }
    const double coverage = static_cast<double>(inside) / total;
    INFO("coverage " << coverage);
    CHECK(coverage >= 0.92);
    CHECK(coverage <= 0.99);
  }
}

TEST_CASE("fit: the same result from any start", "[analysis][fit][intervals]") {
  std::mt19937_64 rng(31);
  const std::string csv = simulate(rng, 0, 0.3);
  const FitReport a = fit_text(one_logistic(1e10, 1), csv);
  for (const auto& [mid, slope] : {std::pair{1e7, 0.05}, std::pair{1e13, 20.0}, std::pair{3e9, 1.5}}) {
    INFO("start mid " << mid << " slope " << slope);
    const FitReport b = fit_text(one_logistic(mid, slope), csv);
    REQUIRE(b.status == FitStatus::ok);
    CHECK(b.objective == Approx(a.objective).epsilon(1e-7));
    for (std::size_t i = 0; i < a.parameters.size(); ++i)
      CHECK(b.parameters[i].value == Approx(a.parameters[i].value).epsilon(1e-5));
    REQUIRE(b.forecasts[0].crossing);
    CHECK(*b.forecasts[0].crossing == Approx(*a.forecasts[0].crossing).epsilon(1e-4));
  }
  CHECK(a.starts == 9);
  CHECK(a.starts_at_best >= 2);
}

TEST_CASE("fit: the same OPT fit from the example's start and from perturbed ones", "[analysis][fit][intervals]") {
  const std::string dir = capgraph::test::source_dir;
  const auto spec = specs::load_spec_file(dir + "/examples/arithmetic_open_models.yaml");
  REQUIRE(spec.ok());
  ReadOptions ro;
  const auto obs = read_observations(dir + "/examples/data/arithmetic_open_models.csv", ro);
  REQUIRE(obs.ok());
  FitOptions fo;
  fo.family = "OPT";
  const FitReport a = fit_model(Model::compile(*spec.spec), obs.set, fo);
  REQUIRE(a.status == FitStatus::ok);
  ModelSpec moved = *spec.spec;
  double k = 0;
  for (auto& n : moved.nodes)
    if (!n.is_task && n.curve.kind == CurveKind::logistic) n.curve = logistic(std::pow(10.0, 8 + 1.5 * k++), 0.3 + k);
  const FitReport b = fit_model(Model::compile(moved), obs.set, fo);
  REQUIRE(b.status == FitStatus::ok);
  CHECK(b.objective == Approx(a.objective).epsilon(1e-7));
  for (std::size_t i = 0; i < a.parameters.size(); ++i)
    CHECK(b.parameters[i].value == Approx(a.parameters[i].value).epsilon(1e-4).margin(1e-4));
}

TEST_CASE("fit: statuses of fits that are not a result", "[analysis][fit][intervals]") {
  // two constant skills behind one product: not identified, both named
  Builder c;
  const auto c1 = c.constant("c1", 0.5);
  const auto c2 = c.constant("c2", 0.8);
  c.task("t", GateKind::all, {{c1, 1}, {c2, 1}});
  const std::string data =
      "task,family,params,metric,score,n\nt,F,1e9,exact_match,0.4,100\nt,F,1e10,exact_match,0.38,100\n";
  const FitReport u = fit_text(c.spec, data);
  CHECK(u.status == FitStatus::not_identified);
  CHECK(u.unidentified == std::vector<std::string>{"c1.logit_value", "c2.logit_value"});
  CHECK(u.forecasts.empty());  // no forecast from a fit that is not a result
  for (const auto& s : u.series)
    for (const auto& p : s.points) CHECK_FALSE(p.lo);
  FitOptions fixed;
  fixed.fixed = {"c2"};
  CHECK(fit_text(c.spec, data, fixed).status == FitStatus::ok);

  // an optimiser stopped after 3 evaluations per run: the starts disagree
  std::mt19937_64 rng(3);
  FitOptions stingy;
  stingy.max_evaluations = 3;
  const FitReport s = fit_text(one_logistic(1e10, 1), simulate(rng, 0, 0.3), stingy);
  CHECK(s.status == FitStatus::not_converged);
  CHECK(s.starts_at_best < 2);
  CHECK(s.forecasts.empty());

  // 3 rows for 2 parameters: a warning, and t with 1 dof
  const FitReport few = fit_text(one_logistic(1e10, 1),
                                 "task,family,params,metric,score\nt,F,1e8,exact_match,0.05\nt,F,1e9,exact_match,"
                                 "0.2\nt,F,1e10,exact_match,0.7\n");
  REQUIRE(few.warnings.size() == 1);
  CHECK(few.warnings[0].find("fewer than 2 per parameter") != std::string::npos);
  if (few.status == FitStatus::ok) CHECK(few.quantile == Approx(12.7062).epsilon(1e-5));
}

TEST_CASE("fit: crossings that did not happen and skills the data do not reach", "[analysis][fit][intervals]") {
  Builder b;
  const auto a = b.skill("a", logistic(1e10, 1));
  const auto early = b.skill("early", logistic(1e7, 1));  // above 0.5 from the start of the range
  const auto d = b.skill("d", logistic(1e10, 1));         // no observation lies above it
  b.task("t", GateKind::all, {{a, 1}});
  b.task("u", GateKind::all, {{early, 1}});
  b.task("w", GateKind::all, {{d, 1}});
  b.spec.scale.from = 1e8;
  b.spec.scale.to = 1e13;
  std::mt19937_64 rng(11);
  std::ostringstream csv;
  csv << simulate(rng, 0, 0.2);
  std::normal_distribution<double> noise(0, 0.2);
  for (double x : scales())
    csv << "u,F," << shortest(x) << ",exact_match," << shortest(1 / (1 + std::exp(-(std::log10(x) - 7 + noise(rng)))))
        << "\n";
  const FitReport r = fit_text(b.spec, csv.str());
  REQUIRE(r.status == FitStatus::ok);
  CHECK(r.unconstrained == std::vector<std::string>{"d"});
  REQUIRE(r.forecasts.size() == 3);
  CHECK(r.forecasts[0].crossing);
  CHECK(r.forecasts[1].at_start);  // already above: no crossing
  CHECK_FALSE(r.forecasts[1].crossing);
  CHECK_FALSE(r.forecasts[2].constrained);  // rests on d: not a forecast from these data
  CHECK_FALSE(r.forecasts[2].crossing);
}

TEST_CASE("fit backtest: already above has no crossing, (train) only when a training row crossed",
          "[analysis][fit][intervals]") {
  Builder b;
  const auto a = b.skill("a", logistic(1e10, 1));
  const auto early = b.skill("early", logistic(1e7, 1));
  b.task("t", GateKind::all, {{a, 1}});
  b.task("u", GateKind::all, {{early, 1}});
  b.spec.scale.from = 1e8;
  b.spec.scale.to = 1e13;
  std::ostringstream csv;
  csv << "task,family,params,metric,score\n";
  for (double x : scales()) {  // noise-free: t crosses 0.5 at 3e9, between the scales 1.9e9 and 5.2e9
    csv << "t,F," << shortest(x) << ",exact_match," << shortest(truth_at(x)) << "\n";
    csv << "u,F," << shortest(x) << ",exact_match," << shortest(1 / (1 + std::exp(-(std::log10(x) - 7)))) << "\n";
  }
  for (const double cut : {4e9, 6e9}) {
    INFO("train below " << cut);
    FitOptions fo;
    fo.train_below = cut;
    const FitReport r = fit_text(b.spec, csv.str(), fo);
    REQUIRE(r.status == FitStatus::ok);
    REQUIRE(r.backtest.size() == 2);
    const auto& t = r.backtest[0];
    REQUIRE(t.observed_crossing);
    CHECK(*t.observed_crossing < 4e9);  // interpolated below both cuts
    // the first point at or above 0.5 (5.2e9) trains only below the 6e9 cut
    CHECK(t.crossed_in_training == (cut > 5.2e9));
    const auto& u = r.backtest[1];
    CHECK(u.above_at_start);
    CHECK_FALSE(u.observed_crossing);
    CHECK(u.graph_check == CrossingCheck::unavailable);
  }
}
