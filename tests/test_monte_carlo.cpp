// tests/test_monte_carlo.cpp — the seeded Monte Carlo estimator against the
// exact engine, hand-computed shared cases and an independent Shannon
// expansion written here in probability space.
//
// Every random comparison uses fixed seeds, so the tests are deterministic;
// the seeds were not tuned: at 4 standard errors a false failure has
// probability ~6e-5 per comparison (~0.6% per 100).
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <random>
#include <string>

#include "graph/evaluation.hpp"
#include "graph/model.hpp"
#include "graph/monte_carlo.hpp"
#include "model_builder.hpp"

using namespace capgraph;
using namespace capgraph::testing;
using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {

// |estimate - exact| in standard errors. Where every sample agreed (the
// reported SE is 0), the SE the exact P implies is used instead.
double z_score(const Estimate& e, double exact, std::uint64_t n) {
  double se = e.std_error;
  if (se == 0) se = std::sqrt(exact * (1 - exact) / static_cast<double>(n - 1));
  if (se == 0) return e.mean == exact ? 0.0 : INFINITY;
  return std::abs(e.mean - exact) / se;
}

// A random small model: 3-5 leaves (constants and logistic curves), 4-6
// tasks over every gate, integer and (under all/any) fractional counts,
// guesses, tasks of tasks. `shared_fraction` of the leaves are shared.
ModelSpec random_model(std::mt19937_64& rng, double shared_fraction, bool fractional) {
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  Builder b;
  const int leaves = 3 + static_cast<int>(rng() % 3);
  for (int i = 0; i < leaves; ++i) {
    if (rng() % 3 == 0)
      b.skill("s" + std::to_string(i), logistic(std::pow(10.0, 8.5 + 2 * unif(rng)), 0.5 + unif(rng)));
    else
      b.constant("s" + std::to_string(i), 0.05 + 0.9 * unif(rng));
    b.spec.nodes.back().shared = unif(rng) < shared_fraction;
  }
  const int tasks = 4 + static_cast<int>(rng() % 3);
  for (int t = 0; t < tasks; ++t) {
    const std::size_t avail = b.spec.nodes.size();
    const auto gk = static_cast<GateKind>(rng() % 5);  // all, any, at_least, best_of, mean
    const double guess = rng() % 4 == 0 ? 0.1 + 0.2 * unif(rng) : 0.0;
    const std::string id = "t" + std::to_string(t);
    // Prefer recent nodes so tasks nest.
    auto pick = [&] { return rng() % 2 == 0 ? avail - 1 - rng() % std::min<std::size_t>(avail, 3) : rng() % avail; };
    if (gk == GateKind::best_of) {
      b.task(id, gk, {{pick(), 1.0}}, guess, 0, 1 + static_cast<int>(rng() % 3));
      continue;
    }
    const int nuse = 1 + static_cast<int>(rng() % 3);
    std::vector<std::pair<std::size_t, double>> uses;
    double total = 0;
    for (int u = 0; u < nuse; ++u) {
      double cnt = 1 + static_cast<double>(rng() % 2);
      if (gk == GateKind::mean) cnt = 0.5 + 2 * unif(rng);
      if (fractional && (gk == GateKind::all || gk == GateKind::any) && rng() % 3 == 0) cnt += 0.25 + 0.5 * unif(rng);
      uses.push_back({pick(), cnt});
      total += cnt;
    }
    const std::uint64_t r = rng();  // drawn for every gate, so the sequence is fixed
    const int k = gk == GateKind::at_least ? 1 + static_cast<int>(r % static_cast<std::uint64_t>(total)) : 0;
    b.task(id, gk, uses, guess, k);
  }
  return b.spec;
}

// Exact P of node v by Shannon expansion written plainly: enumerate every
// assignment of the shared skills; given it, every other use is
// independent and the formulas of docs/measures.md §2 hold in probability space
// (a fractional count n of a child with conditional P gives P^n / (1-P)^n).
double shannon_reference(const Model& m, std::size_t v, double x) {
  const ScalePoint pt = m.axis().at(x);
  std::vector<double> leaf(m.size(), 0.0);
  std::vector<std::size_t> shared;
  for (std::size_t i = 0; i < m.size(); ++i) {
    const NodeSpec& n = m.node(i);
    if (n.is_task) continue;
    // The leaf P, independently of the engine's kernels.
    double p = 0;
    switch (n.curve.kind) {
      case CurveKind::constant: p = n.curve.value; break;
      case CurveKind::logistic:
        p = 1 / (1 + std::exp(-n.curve.slope * (std::log10(pt.N) - std::log10(n.curve.mid))));
        break;
      default: FAIL("reference supports constant and logistic curves only");
    }
    leaf[i] = n.floor + (n.ceiling - n.floor) * p;
    if (n.shared) shared.push_back(i);
  }
  REQUIRE(shared.size() <= 12);
  double total = 0;
  for (std::size_t mask = 0; mask < (std::size_t{1} << shared.size()); ++mask) {
    std::vector<double> P = leaf;
    double w = 1;
    for (std::size_t i = 0; i < shared.size(); ++i) {
      const bool on = (mask >> i) & 1;
      w *= on ? leaf[shared[i]] : 1 - leaf[shared[i]];
      P[shared[i]] = on ? 1.0 : 0.0;
    }
    for (std::size_t t : m.topological_order()) {
      const NodeSpec& n = m.node(t);
      if (!n.is_task) continue;
      double g = 0;
      switch (n.gate) {
        case GateKind::all: {
          g = 1;
          for (const Use& u : n.uses) g *= std::pow(P[u.node], u.count);
          break;
        }
        case GateKind::any: {
          double f = 1;
          for (const Use& u : n.uses) f *= std::pow(1 - P[u.node], u.count);
          g = 1 - f;
          break;
        }
        case GateKind::best_of: g = 1 - std::pow(1 - P[n.uses[0].node], n.best_n); break;
        case GateKind::mean: {
          double s = 0, ws = 0;
          for (const Use& u : n.uses) {
            s += u.count * P[u.node];
            ws += u.count;
          }
          g = s / ws;
          break;
        }
        case GateKind::at_least: {
          std::vector<double> d{1.0};  // d[i] = P(i successes)
          for (const Use& u : n.uses)
            for (int r = 0; r < static_cast<int>(u.count); ++r) {
              std::vector<double> e(d.size() + 1, 0.0);
              for (std::size_t i = 0; i < d.size(); ++i) {
                e[i] += d[i] * (1 - P[u.node]);
                e[i + 1] += d[i] * P[u.node];
              }
              d = std::move(e);
            }
          for (std::size_t i = static_cast<std::size_t>(n.k); i < d.size(); ++i) g += d[i];
          break;
        }
      }
      P[t] = n.guess + (1 - n.guess) * g;
    }
    total += w * P[v];
  }
  return total;
}

}  // namespace

TEST_CASE("Monte Carlo agrees with evaluate() on random models without shared skills", "[monte_carlo]") {
  std::mt19937_64 rng(20240611);
  const std::vector<double> xs{1e9, 3e10};
  MonteCarloOptions opt;
  opt.samples = 200000;
  opt.seed = 99;
  opt.threads = 2;
  int compared = 0, outside = 0;
  double worst = 0;
  for (int model_i = 0; model_i < 10; ++model_i) {
    const Model m = Model::compile(random_model(rng, 0.0, true));
    const Evaluation ev = evaluate(m, xs);
    const MonteCarloEstimate mc = monte_carlo(m, xs, opt);
    for (std::size_t v : m.tasks())
      for (std::size_t j = 0; j < xs.size(); ++j) {
        const double z = z_score(mc.p(v, j), ev.p(v, j), opt.samples);
        INFO("model " << model_i << " task " << m.node(v).id << " gate " << gate_kind_name(m.node(v).gate) << " x "
                      << xs[j] << " exact " << ev.p(v, j) << " mc " << mc.p(v, j).mean << " se "
                      << mc.p(v, j).std_error << " z " << z);
        CHECK(z <= 4.0);
        worst = std::max(worst, z);
        outside += z > 4.0;
        ++compared;
      }
  }
  CHECK(compared >= 90);
  CHECK(outside == 0);
  WARN("Monte Carlo vs exact (no shared): " << compared << " comparisons, worst |z| = " << worst);
}

TEST_CASE("Monte Carlo agrees with a Shannon expansion on random models with shared skills", "[monte_carlo][shared]") {
  std::mt19937_64 rng(777);
  const double x = 5e9;
  MonteCarloOptions opt;
  opt.samples = 200000;
  opt.seed = 5;
  opt.threads = 2;
  int compared = 0, outside = 0, with_shared = 0;
  double worst = 0;
  for (int model_i = 0; model_i < 10; ++model_i) {
    const Model m = Model::compile(random_model(rng, 0.5, true));
    with_shared += m.has_shared() ? 1 : 0;
    const MonteCarloEstimate mc = monte_carlo(m, std::vector<double>{x}, opt);
    for (std::size_t v : m.tasks()) {
      const double ref = shannon_reference(m, v, x);
      const double z = z_score(mc.p(v, 0), ref, opt.samples);
      INFO("model " << model_i << " task " << m.node(v).id << " exact " << ref << " mc " << mc.p(v, 0).mean << " z "
                    << z);
      CHECK(z <= 4.0);
      worst = std::max(worst, z);
      outside += z > 4.0;
      ++compared;
    }
  }
  CHECK(with_shared >= 8);
  CHECK(compared >= 45);
  CHECK(outside == 0);
  WARN("Monte Carlo vs Shannon expansion (shared): " << compared << " comparisons, worst |z| = " << worst);
}

TEST_CASE("the Shannon reference of this file agrees with evaluate() where nothing is shared", "[monte_carlo]") {
  std::mt19937_64 rng(31);
  for (int model_i = 0; model_i < 20; ++model_i) {
    const Model m = Model::compile(random_model(rng, 0.0, true));
    const Evaluation ev = evaluate(m, std::vector<double>{2e9});
    for (std::size_t v : m.tasks()) CHECK_THAT(ev.p(v, 0), WithinAbs(shannon_reference(m, v, 2e9), 1e-12));
  }
}

namespace {

struct SharedCases {
  Model model;
  std::size_t all_ss, any_s3, atleast, bestof;
  double ps, pt;
};

SharedCases shared_cases() {
  Builder b;
  const double ps = 0.3, pt = 0.6;
  const auto s = b.constant("s", ps);
  b.spec.nodes[s].shared = true;
  const auto t = b.constant("t", pt);
  const auto all_ss = b.task("all_ss", GateKind::all, {{s, 1}, {s, 1}});
  const auto any_s3 = b.task("any_s3", GateKind::any, {{s, 3}});
  const auto atl = b.task("atleast", GateKind::at_least, {{s, 1}, {s, 1}, {t, 1}}, 0, 2);
  const auto st = b.task("st", GateKind::all, {{s, 1}, {t, 1}});
  const auto bo = b.task("bestof", GateKind::best_of, {{st, 1}}, 0, 0, 3);
  return {Model::compile(b.spec), all_ss, any_s3, atl, bo, ps, pt};
}

}  // namespace

TEST_CASE("Monte Carlo reproduces hand-computed shared cases", "[monte_carlo][shared]") {
  const SharedCases c = shared_cases();
  MonteCarloOptions opt;
  opt.samples = 200000;
  opt.seed = 3;
  const MonteCarloEstimate mc = monte_carlo(c.model, std::vector<double>{1e9}, opt);
  const double bestof = c.ps * (1 - std::pow(1 - c.pt, 3));
  const std::pair<std::size_t, double> expected[] = {
      {c.all_ss, c.ps}, {c.any_s3, c.ps}, {c.atleast, c.ps}, {c.bestof, bestof}};
  for (auto [v, p] : expected) {
    INFO(c.model.node(v).id << " expected " << p << " mc " << mc.p(v, 0).mean << " se " << mc.p(v, 0).std_error);
    CHECK(z_score(mc.p(v, 0), p, opt.samples) <= 4.0);
    // The independent reading would be far off: P^2, 1-(1-P)^3, ...
    CHECK_THAT(shannon_reference(c.model, v, 1e9), WithinAbs(p, 1e-15));
  }
  // all[s, s]: the two uses are one event, so the sample is exactly the
  // Bernoulli(0.3) of s; its SE is the binomial one.
  CHECK_THAT(mc.p(c.all_ss, 0).std_error, WithinRel(std::sqrt(0.3 * 0.7 / (opt.samples - 1)), 0.02));
}

TEST_CASE("exact shared evaluation matches the hand-computed cases and Monte Carlo", "[monte_carlo][shared][exact]") {
  // Runs evaluate() on shared skills: needs the exact shared evaluation.
  const SharedCases c = shared_cases();
  const Evaluation ev = evaluate(c.model, std::vector<double>{1e9});
  CHECK_THAT(ev.p(c.all_ss, 0), WithinAbs(c.ps, 1e-12));
  CHECK_THAT(ev.p(c.any_s3, 0), WithinAbs(c.ps, 1e-12));
  CHECK_THAT(ev.p(c.atleast, 0), WithinAbs(c.ps, 1e-12));
  CHECK_THAT(ev.p(c.bestof, 0), WithinAbs(c.ps * (1 - std::pow(1 - c.pt, 3)), 1e-12));

  std::mt19937_64 rng(4242);
  MonteCarloOptions opt;
  opt.samples = 200000;
  opt.seed = 17;
  opt.threads = 2;
  int compared = 0;
  for (int model_i = 0; model_i < 8; ++model_i) {
    const Model m = Model::compile(random_model(rng, 0.5, true));
    const Evaluation e = evaluate(m, std::vector<double>{2e10});
    const MonteCarloEstimate mc = monte_carlo(m, std::vector<double>{2e10}, opt);
    for (std::size_t v : m.tasks()) {
      const double ref = shannon_reference(m, v, 2e10);
      INFO("model " << model_i << " task " << m.node(v).id);
      CHECK_THAT(e.p(v, 0), WithinAbs(ref, 1e-12));
      CHECK(z_score(mc.p(v, 0), e.p(v, 0), opt.samples) <= 4.0);
      ++compared;
    }
  }
  CHECK(compared >= 30);
}

TEST_CASE("Monte Carlo is reproducible for a seed and independent of threads and node subsets", "[monte_carlo]") {
  std::mt19937_64 rng(8);
  const Model m = Model::compile(random_model(rng, 0.4, true));
  const std::vector<double> xs{1e8, 1e10, 1e12};
  MonteCarloOptions opt;
  opt.samples = 5000;
  opt.seed = 123;
  const MonteCarloEstimate a = monte_carlo(m, xs, opt);
  opt.threads = 3;
  const MonteCarloEstimate b = monte_carlo(m, xs, opt);
  opt.threads = 1;
  const std::size_t last = m.tasks().back();
  const MonteCarloEstimate one = monte_carlo(m, xs, opt, {last});
  opt.seed = 124;
  const MonteCarloEstimate c = monte_carlo(m, xs, opt);
  int differ = 0;
  for (std::size_t v : m.tasks())
    for (std::size_t j = 0; j < xs.size(); ++j) {
      CHECK(a.p(v, j).mean == b.p(v, j).mean);
      CHECK(a.p(v, j).std_error == b.p(v, j).std_error);
      differ += a.p(v, j).mean != c.p(v, j).mean;
    }
  for (std::size_t j = 0; j < xs.size(); ++j) CHECK(one.p(last, j).mean == a.p(last, j).mean);
  CHECK(differ > 0);
  REQUIRE(m.tasks().front() != last);
  CHECK(one.has(last));
  CHECK_FALSE(one.has(m.tasks().front()));
  CHECK_THROWS_AS(one.p(m.tasks().front(), 0), std::out_of_range);
  CHECK_THROWS_AS(one.p(last, xs.size()), std::out_of_range);
}

TEST_CASE("Monte Carlo: fractional counts of a task child use an exact Bernoulli factory", "[monte_carlo]") {
  Builder b;
  const auto a = b.constant("a", 0.4), c = b.constant("c", 0.7);
  const auto u = b.task("u", GateKind::any, {{a, 1}, {c, 1}});           // 0.82
  const auto w = b.task("w", GateKind::all, {{a, 1}, {c, 1}});           // 0.28
  const auto t_all = b.task("t_all", GateKind::all, {{u, 2.5}, {c, 1.3}});
  const auto t_any = b.task("t_any", GateKind::any, {{w, 1.6}, {a, 1.25}});
  const Model m = Model::compile(b.spec);
  const double pu = 1 - 0.6 * 0.3, pw = 0.4 * 0.7;
  const double e_all = std::pow(pu, 2.5) * std::pow(0.7, 1.3);
  const double e_any = 1 - std::pow(1 - pw, 1.6) * std::pow(0.6, 1.25);
  MonteCarloOptions opt;
  opt.samples = 200000;
  opt.seed = 11;
  const MonteCarloEstimate mc = monte_carlo(m, std::vector<double>{1e9}, opt, {t_all, t_any});
  INFO("all " << mc.p(t_all, 0).mean << " vs " << e_all << "; any " << mc.p(t_any, 0).mean << " vs " << e_any);
  CHECK(z_score(mc.p(t_all, 0), e_all, opt.samples) <= 4.0);
  CHECK(z_score(mc.p(t_any, 0), e_any, opt.samples) <= 4.0);
}

TEST_CASE("Monte Carlo: a mean gate averages its children, with the sample standard error", "[monte_carlo]") {
  Builder b;
  const auto a = b.constant("a", 0.2), c = b.constant("c", 0.9);
  const auto mn = b.task("mn", GateKind::mean, {{a, 1}, {c, 3}}, 0.1);
  const auto outer = b.task("outer", GateKind::all, {{mn, 2}});  // a mean as a child: P_mean^2
  const Model m = Model::compile(b.spec);
  MonteCarloOptions opt;
  opt.samples = 200000;
  opt.seed = 2;
  const MonteCarloEstimate mc = monte_carlo(m, std::vector<double>{1e9}, opt);
  const double pm = 0.1 + 0.9 * (0.2 + 3 * 0.9) / 4;
  CHECK(z_score(mc.p(mn, 0), pm, opt.samples) <= 4.0);
  CHECK(z_score(mc.p(outer, 0), pm * pm, opt.samples) <= 4.0);
  // Var of one sample: 0.9^2 (0.2 0.8 + 9 0.9 0.1) / 16.
  const double sd = 0.9 * std::sqrt(0.2 * 0.8 + 9 * 0.9 * 0.1) / 4;
  CHECK_THAT(mc.p(mn, 0).std_error, WithinRel(sd / std::sqrt(200000.0), 0.02));
}

TEST_CASE("Monte Carlo: a chain thousands of tasks deep does not recurse", "[monte_carlo]") {
  Builder b;
  std::size_t prev = b.constant("s", 0.999);
  b.spec.nodes[prev].shared = true;
  const std::size_t s = prev;
  for (int i = 0; i < 20000; ++i) prev = b.task("t" + std::to_string(i), GateKind::all, {{prev, 1}, {s, 1}});
  const Model m = Model::compile(b.spec);
  MonteCarloOptions opt;
  opt.samples = 200;
  const MonteCarloEstimate mc = monte_carlo(m, std::vector<double>{1e9}, opt, {prev});
  // Every use of s is the same event: P = 0.999.
  CHECK(mc.p(prev, 0).mean >= 0.98);
}

TEST_CASE("Monte Carlo refuses a node whose sample expands past the trial limit", "[monte_carlo]") {
  Builder b;
  const auto s = b.constant("s", 0.5);
  const auto t = b.task("t", GateKind::all, {{s, 1000}});
  const auto u = b.task("u", GateKind::any, {{t, 1000}});
  const Model m = Model::compile(b.spec);
  const auto trials = monte_carlo_trials_per_sample(m);
  CHECK(trials[s] == 0);
  CHECK(trials[t] == 1000);
  CHECK(trials[u] == 1000 * 1001);
  MonteCarloOptions opt;
  opt.samples = 10;
  CHECK_NOTHROW(monte_carlo(m, std::vector<double>{1e9}, opt, {t}));
  try {
    monte_carlo(m, std::vector<double>{1e9}, opt);
    FAIL("expected a ModelError");
  } catch (const ModelError& e) {
    CHECK_THAT(e.what(), Contains("`u`") && Contains("1.001e+06") && Contains("limit of 1e+06") &&
                               Contains("--max-mc-trials"));
  }
  opt.max_trials_per_sample = 2e6;
  CHECK_NOTHROW(monte_carlo(m, std::vector<double>{1e9}, opt));
  opt.samples = 1;
  CHECK_THROWS_AS(monte_carlo(m, std::vector<double>{1e9}, opt), ModelError);
}
