// tests/test_successes.cpp — the `at_least` gate's success counts
// (graph/successes.hpp): binomial probabilities and tails against exact
// enumeration, the binomial groups against the trial-by-trial fold, and the
// engine's gates past the fold's size (evaluation, Birnbaum, improvement
// potential) against their definitions.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "graph/curve_eval.hpp"
#include "graph/evaluation.hpp"
#include "graph/importance.hpp"
#include "graph/model.hpp"
#include "graph/successes.hpp"
#include "model_builder.hpp"

using namespace capgraph;
namespace d = capgraph::detail;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Relative error of a against b, both given as logarithms: |a/b - 1| where
// that is representable, else the difference of the logarithms relative
// to their size (tails far below the smallest double).
double log_rel_err(double la, double lb) {
  if (la == lb) return 0;
  if (!std::isfinite(la) || !std::isfinite(lb)) return kInf;
  if (lb > -700) return std::abs(std::expm1(la - lb));
  return std::abs(la - lb) / std::abs(lb);
}

// ln C(n, x) p^x q^(n-x) by long double products (n small).
long double exact_pmf(unsigned x, unsigned n, long double p) {
  long double c = 1;
  for (unsigned i = 0; i < x; ++i) c = c * (n - i) / (i + 1);
  return c * std::pow(p, static_cast<long double>(x)) * std::pow(1 - p, static_cast<long double>(n - x));
}

// The fold over every trial, in logarithms (the reference for the groups).
double fold_at_least(const std::vector<d::TrialGroup>& g, std::size_t k) {
  std::vector<double> ld(k + 1, -kInf);
  ld[0] = 0;
  for (const d::TrialGroup& x : g) d::fold_trials<d::Log>(ld.data(), k, x.lp, x.lq, x.n);
  return ld[k];
}

d::TrialGroup group(double p, std::uint64_t n) { return {std::log(p), std::log1p(-p), n}; }

}  // namespace

TEST_CASE("binomial probabilities and tails agree with enumeration to 1e-12", "[successes]") {
  for (const long double p : {0.5L, 0.3L, 0.01L, 0.999L, 1e-7L, 0.123456789L}) {
    for (const unsigned n : {1u, 2u, 7u, 16u, 40u, 120u}) {
      const double lp = std::log(static_cast<double>(p)), lq = std::log1p(-static_cast<double>(p));
      long double tail = 0;
      for (unsigned s = n + 1; s-- > 0;) {
        const long double pmf = exact_pmf(s, n, p);
        tail += pmf;
        INFO("p = " << static_cast<double>(p) << ", n = " << n << ", s = " << s);
        if (pmf > 1e-4000L) CHECK(log_rel_err(d::log_binomial_pmf(s, n, lp, lq), static_cast<double>(std::log(pmf))) <= 1e-12);
        if (tail > 1e-4000L) CHECK(log_rel_err(d::log_binomial_tail(s, n, lp, lq), static_cast<double>(std::log(tail))) <= 1e-12);
      }
      CHECK(d::log_binomial_tail(0, n, lp, lq) == 0);
      CHECK(d::log_binomial_tail(n + 1, n, lp, lq) == -kInf);
    }
  }
}

TEST_CASE("binomial tails of a million trials: the closed form at p = 1/2, and far tails in logs", "[successes]") {
  // P(X >= n/2) = (1 + P(X = n/2)) / 2 for n even, p = 1/2.
  const std::uint64_t n = 1'000'000;
  const long double half = (std::lgammal(n + 1.0L) - 2 * std::lgammal(n / 2 + 1.0L)) - n * std::log(2.0L);
  const double ref = static_cast<double>(std::log((1 + std::exp(half)) / 2));
  const double lp = std::log(0.5);
  CHECK(log_rel_err(d::log_binomial_tail(n / 2, n, lp, lp), ref) <= 1e-12);
  CHECK(log_rel_err(d::log_binomial_pmf(n / 2, n, lp, lp), static_cast<double>(half)) <= 1e-12);
  // A far tail: every success of n trials with P = e^-800 is ln P n exactly.
  CHECK(d::log_binomial_tail(static_cast<std::int64_t>(n), n, -800.0, log1mexp(-800.0)) == -800.0 * 1e6);
  // P(X >= 2) for P = e^-800: C(n, 2) p^2 (1 + O(n p)).
  const double two = d::log_binomial_tail(2, n, -800.0, log1mexp(-800.0));
  CHECK(log_rel_err(two, std::log(0.5 * 1e6 * 999999.0) - 1600.0) <= 1e-12);
}

TEST_CASE("groups of identical trials agree with the trial-by-trial fold", "[successes]") {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> lpu(-60.0, 0.0);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<d::TrialGroup> g;
    const int ng = 1 + static_cast<int>(rng() % 4);
    std::uint64_t total = 0;
    for (int i = 0; i < ng; ++i) {
      const double lp = trial % 5 == 0 ? -std::exp(lpu(rng) / 10) : -std::pow(10.0, lpu(rng) / 30);
      g.push_back({lp, log1mexp(lp), 1 + rng() % 30});
      total += g.back().n;
    }
    if (trial % 7 == 0) g.push_back(g[0]);  // merged with its twin
    const std::size_t k = 1 + rng() % total;
    const double ref = fold_at_least(g, k);
    d::merge_groups(g);
    INFO("trial " << trial << ", k " << k << ", groups " << g.size());
    CHECK(log_rel_err(d::log_at_least(g, k), ref) <= 1e-12);
    std::vector<double> ld;
    d::log_success_counts(g, k, ld);
    std::vector<double> fold(k + 1, -kInf);
    fold[0] = 0;
    for (const auto& x : g) d::fold_trials<d::Log>(fold.data(), k, x.lp, x.lq, x.n);
    for (std::size_t t = 0; t <= k; ++t)
      if (fold[t] > -1e300) CHECK(log_rel_err(ld[t], fold[t]) <= 1e-12);
  }
}

TEST_CASE("merge_groups joins equal probabilities and the work counts only what is convolved", "[successes]") {
  std::vector<d::TrialGroup> g = {group(0.3, 4), group(0.5, 2), group(0.3, 6), {-1.0, log1mexp(-1.0), 0}};
  d::merge_groups(g);
  REQUIRE(g.size() == 2);
  CHECK(g[0].n == 10);  // ascending ln P: 0.3 (4 + 6 trials), then 0.5
  CHECK(g[1].n == 2);
  CHECK(d::at_least_work({group(0.4, 1'000'000)}, 500'000) == 0);
  CHECK(d::at_least_work(g, 5) == 6.0 * 3 + 5);  // the smaller group convolved, the larger by its 5 tails
}

namespace {

// The at_least gate of one task over the given (P, count) uses, k, by the
// fold in long double (the reference).
long double reference_at_least(const std::vector<std::pair<double, unsigned>>& uses, unsigned k) {
  std::vector<long double> dd(k + 1, 0);
  dd[0] = 1;
  for (const auto& [p, n] : uses)
    for (unsigned r = 0; r < n; ++r) {
      dd[k] += dd[k - 1] * p;
      for (unsigned t = k - 1; t >= 1; --t) dd[t] = dd[t] * (1 - p) + dd[t - 1] * p;
      dd[0] *= 1 - p;
    }
  return dd[k];
}

}  // namespace

TEST_CASE("evaluate, Birnbaum and improvement potential of an at_least past the fold's size", "[successes][importance]") {
  // Skills of 200, 150 and 3 uses, k = 200: 353 x 200 trial updates, past
  // kFoldWork, so the engine goes by groups (the 3 uses through the sweep's
  // tails, the others re-evaluated whole); the references fold every trial.
  testing::Builder b;
  const std::vector<double> p = {0.55, 0.4, 0.7};
  const std::vector<unsigned> n = {200, 150, 3};
  const std::vector<std::size_t> id = {b.constant("a", p[0]), b.constant("c", p[1]), b.constant("d", p[2])};
  const auto t = b.task("t", GateKind::at_least, {{id[0], 200}, {id[1], 150}, {id[2], 3}}, 0, 200);
  const Model m = Model::compile(b.spec);
  REQUIRE(d::by_groups(353, 200));
  auto uses = [&](std::size_t changed, double pc, int dn) {
    std::vector<std::pair<double, unsigned>> u;
    for (std::size_t i = 0; i < 3; ++i) u.push_back({i == changed ? pc : p[i], n[i] - (i == changed ? dn : 0)});
    return u;
  };
  const std::vector<double> xs = {1e10};
  const Evaluation ev = evaluate(m, xs);
  const long double ref = reference_at_least(uses(9, 0, 0), 200);
  CHECK(log_rel_err(ev.log_p(t, 0), static_cast<double>(std::log(ref))) <= 1e-12);

  const ImportanceTable tab = importance(m, t, 1e10);
  REQUIRE(tab.rows.size() == 3);
  for (const Prerequisite& r : tab.rows) {
    const std::size_t i = static_cast<std::size_t>(std::find(id.begin(), id.end(), r.node) - id.begin());
    INFO(m.node(r.node).id);
    // Birnbaum: dP_T/dP_i = n_i P(exactly k-1 among the other trials).
    const auto others = uses(i, p[i], 1);
    const long double exactly = reference_at_least(others, 199) - reference_at_least(others, 200);
    CHECK(r.birnbaum == Approx(static_cast<double>(n[i] * exactly)).epsilon(1e-12));
    // Improvement potential: P_T with P_i = 1, minus P_T.
    const double ip = static_cast<double>(reference_at_least(uses(i, 1.0, 0), 200) - ref);
    CHECK(r.improvement == Approx(ip).epsilon(1e-12));
  }
}
