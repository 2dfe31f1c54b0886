// tests/test_engine.cpp — the engine against closed forms and brute force.
//
// Every formula of docs/measures.md §1-§3 (curves, scale axis, P, metrics) is
// checked against an independent computation written here in the plainest
// possible way (probability space, direct formulas, enumeration).
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <stdexcept>
#include <vector>

#include "graph/curve_eval.hpp"
#include "graph/evaluation.hpp"
#include "graph/workers.hpp"
#include "graph/model.hpp"
#include "graph/scale_axis.hpp"
#include "model_builder.hpp"

using namespace capgraph;
using namespace capgraph::testing;
using Catch::Matchers::WithinRel;
using Catch::Matchers::WithinAbs;

namespace {

Evaluation eval_at(const Model& m, std::vector<double> xs) { return evaluate(m, xs); }

double P(const Evaluation& e, std::size_t v, std::size_t j = 0) { return e.p(v, j); }

}  // namespace

TEST_CASE("curves match their closed forms", "[curve]") {
  const ScalingLaw law = chinchilla_law();
  ScaleSpec ss;
  ScaleAxis axis(ss);
  for (double N : {1e7, 3e8, 2e9, 5e10, 1e13}) {
    const ScalePoint pt = axis.at(N);
    // logistic: 1 / (1 + exp(-slope (log10 N - log10 mid)))
    const double lg = 1.0 / (1.0 + std::exp(-1.2 * (std::log10(N) - std::log10(2e9))));
    CHECK_THAT(std::exp(curve_log_p(logistic(2e9, 1.2), law, pt)), WithinRel(lg, 1e-13));
    // power law: exp(-(N/c)^-alpha)
    const double pw = std::exp(-std::pow(N / 5e8, -0.3));
    CHECK_THAT(std::exp(curve_log_p(power_law(5e8, 0.3), law, pt)), WithinRel(pw, 1e-13));
    // chinchilla: exp(-w (A/N^alpha + B/D^beta)) with D = 20 N
    const double D = 20 * N;
    const double ch = std::exp(-0.05 * (406.4 / std::pow(N, 0.34) + 410.7 / std::pow(D, 0.28)));
    CHECK_THAT(std::exp(curve_log_p(chinchilla(0.05), law, pt)), WithinRel(ch, 1e-13));
  }
}

TEST_CASE("points curve interpolates in (log10 N, logit p) and holds beyond the ends", "[curve]") {
  const ScalingLaw law = chinchilla_law();
  ScaleAxis axis(ScaleSpec{});
  const Curve c = points({{1e8, 0.05}, {1e9, 0.2}, {1e10, 0.5}, {1e11, 0.8}});
  auto p_at = [&](double N) { return std::exp(curve_log_p(c, law, axis.at(N))); };
  CHECK_THAT(p_at(1e9), WithinRel(0.2, 1e-13));
  CHECK_THAT(p_at(1e10), WithinRel(0.5, 1e-13));
  CHECK_THAT(p_at(1e6), WithinRel(0.05, 1e-13));
  CHECK_THAT(p_at(1e13), WithinRel(0.8, 1e-13));
  // half-way in log10 N between 1e9 and 1e10: logit is the mean of the logits
  const double z = 0.5 * (std::log(0.2 / 0.8) + 0.0);
  CHECK_THAT(p_at(std::sqrt(1e9 * 1e10)), WithinRel(1 / (1 + std::exp(-z)), 1e-12));
}

TEST_CASE("floor and ceiling rescale a leaf", "[curve]") {
  Builder b;
  const auto s = b.skill("s", logistic(1e9, 2.0), 0.25, 0.9);
  const Model m = Model::compile(b.spec);
  const auto e = eval_at(m, {1e8, 1e9, 1e11});
  for (std::size_t j = 0; j < 3; ++j) {
    const double N = e.points()[j].N;
    const double p = 1 / (1 + std::exp(-2.0 * (std::log10(N) - 9)));
    CHECK_THAT(P(e, s, j), WithinRel(0.25 + 0.65 * p, 1e-13));
  }
}

TEST_CASE("every gate matches its closed form", "[gate]") {
  Builder b;
  const auto a = b.constant("a", 0.9), c = b.constant("c", 0.6), d = b.constant("d", 0.3);
  const auto t_all = b.task("t_all", GateKind::all, {{a, 3}, {c, 1.5}});
  const auto t_any = b.task("t_any", GateKind::any, {{c, 2}, {d, 1}});
  const auto t_k = b.task("t_k", GateKind::at_least, {{a, 1}, {c, 1}, {d, 1}}, 0, 2);
  const auto t_best = b.task("t_best", GateKind::best_of, {{d, 1}}, 0, 0, 4);
  const auto t_mean = b.task("t_mean", GateKind::mean, {{a, 1}, {d, 3}});
  const auto t_guess = b.task("t_guess", GateKind::all, {{c, 2}}, 0.25);
  const Model m = Model::compile(b.spec);
  const auto e = eval_at(m, {1e9});
  CHECK_THAT(P(e, t_all), WithinRel(std::pow(0.9, 3) * std::pow(0.6, 1.5), 1e-14));
  CHECK_THAT(P(e, t_any), WithinRel(1 - std::pow(0.4, 2) * 0.7, 1e-14));
  // at least 2 of {0.9, 0.6, 0.3}
  const double p2 = 0.9 * 0.6 * 0.7 + 0.9 * 0.4 * 0.3 + 0.1 * 0.6 * 0.3 + 0.9 * 0.6 * 0.3;
  CHECK_THAT(P(e, t_k), WithinRel(p2, 1e-14));
  CHECK_THAT(P(e, t_best), WithinRel(1 - std::pow(0.7, 4), 1e-14));
  CHECK_THAT(P(e, t_mean), WithinRel((0.9 + 3 * 0.3) / 4, 1e-14));
  CHECK_THAT(P(e, t_guess), WithinRel(0.25 + 0.75 * 0.36, 1e-14));
}

TEST_CASE("metrics match docs/measures.md §3", "[metric]") {
  Builder b;
  const auto a = b.constant("a", 0.8), c = b.constant("c", 0.5);
  const auto inner = b.task("inner", GateKind::all, {{a, 2}});           // s = 2
  const auto other = b.task("other", GateKind::any, {{c, 1}, {a, 1}});   // s = 1
  const auto top = b.task("top", GateKind::all, {{inner, 3}, {c, 1}, {other, 1}}, 0.1);
  const Model m = Model::compile(b.spec);
  CHECK(m.steps(inner) == 2);
  CHECK(m.steps(other) == 1);
  CHECK(m.steps(top) == 3 * 2 + 1 + 1);
  const auto e = eval_at(m, {1e9});
  const double p_inner = 0.64, p_other = 1 - 0.5 * 0.2;
  const double p_gate = std::pow(p_inner, 3) * 0.5 * p_other;
  const double p_top = 0.1 + 0.9 * p_gate;
  CHECK_THAT(P(e, top), WithinRel(p_top, 1e-14));
  // partial credit: (3*2*PC_inner + 1*0.5 + 1*P_other) / 8, PC_inner = 0.8; then guess
  const double pc = (6 * 0.8 + 0.5 + p_other) / 8;
  CHECK_THAT(e.partial_credit(top, 0), WithinRel(0.1 + 0.9 * pc, 1e-14));
  CHECK_THAT(e.metric(top, {MetricKind::exact_match, 0}, 0), WithinRel(p_top, 1e-14));
  CHECK_THAT(e.metric(top, {MetricKind::log_likelihood, 0}, 0), WithinRel(std::log(p_top), 1e-14));
  CHECK_THAT(e.log_likelihood_per_step(top, 0), WithinRel(std::log(p_top) / 8, 1e-14));
  CHECK_THAT(e.metric(top, {MetricKind::multiple_choice, 5}, 0), WithinRel(0.2 + 0.8 * p_top, 1e-14));
  CHECK_THAT(e.metric(top, {MetricKind::pass_at, 10}, 0), WithinRel(1 - std::pow(1 - p_top, 10), 1e-13));
  // partial credit of a node that is not under a partial-credit task is computed on demand
  CHECK_THAT(e.partial_credit(inner, 0), WithinRel(0.8, 1e-14));
  CHECK_THAT(e.partial_credit(other, 0), WithinRel(p_other, 1e-14));
}

TEST_CASE("a chain of thousands of steps keeps ln P exact where P underflows", "[numerics]") {
  Builder b;
  const auto s = b.constant("s", 0.5);
  const auto t = b.task("t", GateKind::all, {{s, 5000}});
  std::size_t prev = t;
  for (int i = 0; i < 3; ++i) prev = b.task("t" + std::to_string(i), GateKind::all, {{prev, 1}, {s, 1000}});
  const Model m = Model::compile(b.spec);
  const auto e = eval_at(m, {1e9});
  CHECK(e.p(prev, 0) == 0.0);  // below the smallest double
  CHECK_THAT(e.log_p(prev, 0), WithinRel(8000 * std::log(0.5), 1e-14));
  CHECK_THAT(e.metric(prev, {MetricKind::log_likelihood, 0}, 0), WithinRel(8000 * std::log(0.5), 1e-14));
}

TEST_CASE("any of near-certain skills keeps precision near P = 1", "[numerics]") {
  Builder b;
  const auto s = b.skill("s", logistic(1e6, 3.0));  // at 1e12: p = 1 - ~1e-18
  const auto t = b.task("t", GateKind::all, {{s, 1e6}});
  const Model m = Model::compile(b.spec);
  const auto e = eval_at(m, {1e12});
  const double z = 3.0 * 6;
  // ln p = -log1p(e^-z); 1e6 uses
  CHECK_THAT(e.log_p(t, 0), WithinRel(-1e6 * std::log1p(std::exp(-z)), 1e-12));
}

TEST_CASE("expm1_upper bounds expm1 from above, within a factor of 7", "[numerics]") {
  // Against expm1 in long double (64-bit significand) on a grid from 1e-300
  // to 699.9, denser near 1 and 700 where the bound changes form.
  std::vector<double> xs;
  for (double x = 1e-300; x < 700; x *= 1.0 + 1.0 / 64) xs.push_back(x);
  for (int i = -200; i <= 200; ++i) {
    xs.push_back(1.0 + i * 0x1p-40);
    xs.push_back(std::nextafter(1.0, 0.0) + i * 1e-3);
  }
  for (double x = 690; x < 700; x += 0.01) xs.push_back(x);
  for (const double x : xs) {
    if (!(x > 0) || x >= 700) continue;
    const long double exact = std::expm1(static_cast<long double>(x));
    const double up = expm1_upper(x);
    INFO("x = " << x);
    CHECK(static_cast<long double>(up) >= exact);
    CHECK(static_cast<long double>(up) <= 7 * exact);
  }
  CHECK(expm1_upper(700) == std::numeric_limits<double>::infinity());
  CHECK(expm1_upper(1.0) == 2.0 + 0x1p-50);
}

TEST_CASE("probabilities stay in [0, 1] at the extremes", "[numerics]") {
  Builder b;
  const auto z = b.constant("zero", 0.0), o = b.constant("one", 1.0);
  const auto t1 = b.task("t1", GateKind::all, {{z, 1}, {o, 2}});
  const auto t2 = b.task("t2", GateKind::any, {{z, 3}, {o, 1}});
  const auto t3 = b.task("t3", GateKind::at_least, {{z, 2}, {o, 2}}, 0, 3);
  const auto t4 = b.task("t4", GateKind::mean, {{z, 1}, {z, 2}});
  const auto t5 = b.task("t5", GateKind::best_of, {{z, 1}}, 0.2, 0, 7);
  const Model m = Model::compile(b.spec);
  const auto e = eval_at(m, {1e9});
  CHECK(P(e, t1) == 0.0);
  CHECK(std::isinf(e.log_p(t1, 0)));
  CHECK(P(e, t2) == 1.0);
  CHECK(P(e, t3) == 0.0);
  CHECK(P(e, t4) == 0.0);
  CHECK_THAT(P(e, t5), WithinRel(0.2, 1e-15));
  CHECK(e.metric(t1, {MetricKind::pass_at, 5}, 0) == 0.0);
}

// ---- brute force: enumerate every use's outcome -----------------------------

namespace {

// Expands the DAG below v into independent trials (one per use, recursively)
// and returns the exact P by enumerating all 2^trials outcomes. Leaves are
// constant; `guess` becomes one more trial that succeeds with probability g.
struct BruteForce {
  const ModelSpec& spec;
  std::vector<double> probs;  // one per trial
  std::map<std::size_t, std::size_t> shared_trial;  // shared skill -> its one trial

  // Builds a boolean function over trial outcomes.
  std::function<bool(const std::vector<char>&)> expand(std::size_t v) {
    const NodeSpec& n = spec.nodes[v];
    if (!n.is_task) {
      if (n.shared) {
        auto it = shared_trial.find(v);
        if (it == shared_trial.end()) {
          probs.push_back(n.curve.value);
          it = shared_trial.emplace(v, probs.size() - 1).first;
        }
        const std::size_t i = it->second;
        return [i](const std::vector<char>& o) { return o[i] != 0; };
      }
      probs.push_back(n.curve.value);
      const std::size_t i = probs.size() - 1;
      return [i](const std::vector<char>& o) { return o[i] != 0; };
    }
    std::vector<std::function<bool(const std::vector<char>&)>> kids;
    if (n.gate == GateKind::best_of)
      for (int r = 0; r < n.best_n; ++r) kids.push_back(expand(n.uses[0].node));
    else
      for (const Use& u : n.uses)
        for (int r = 0; r < static_cast<int>(u.count); ++r) kids.push_back(expand(u.node));
    std::function<bool(const std::vector<char>&)> gate;
    const GateKind g = n.gate;
    const int k = n.k;
    gate = [kids, g, k](const std::vector<char>& o) {
      int hits = 0;
      for (const auto& f : kids) hits += f(o) ? 1 : 0;
      switch (g) {
        case GateKind::all: return hits == static_cast<int>(kids.size());
        case GateKind::any:
        case GateKind::best_of: return hits >= 1;
        case GateKind::at_least: return hits >= k;
        default: return false;
      }
    };
    if (n.guess > 0) {
      probs.push_back(n.guess);
      const std::size_t gi = probs.size() - 1;
      return [gate, gi](const std::vector<char>& o) { return o[gi] != 0 || gate(o); };
    }
    return gate;
  }

  double probability(std::size_t v) {
    probs.clear();
    shared_trial.clear();
    auto f = expand(v);
    const std::size_t t = probs.size();
    REQUIRE(t <= 20);
    double total = 0;
    std::vector<char> o(t);
    for (std::size_t mask = 0; mask < (std::size_t{1} << t); ++mask) {
      double w = 1;
      for (std::size_t i = 0; i < t; ++i) {
        o[i] = (mask >> i) & 1;
        w *= o[i] ? probs[i] : 1 - probs[i];
      }
      if (f(o)) total += w;
    }
    return total;
  }
};

}  // namespace

namespace {
int brute_force_trials(double shared_fraction, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  int checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const ModelSpec spec = random_constant_model(rng, 2 + static_cast<int>(rng() % 3), 1 + static_cast<int>(rng() % 3),
                                                 4 /* boolean gates only */, shared_fraction);
    const Model m = Model::compile(spec);
    const auto e = eval_at(m, {1e9});
    BruteForce bf{spec, {}};
    for (std::size_t v : m.tasks()) {
      // keep enumeration small
      bf.probs.clear();
      bf.shared_trial.clear();
      bf.expand(v);
      if (bf.probs.size() > 18) continue;
      const double bp = bf.probability(v);
      INFO("gate " << gate_kind_name(spec.nodes[v].gate) << ", difference " << (e.p(v, 0) - bp));
      CHECK_THAT(e.p(v, 0), WithinAbs(bp, 1e-12));
      ++checked;
    }
  }
  return checked;
}
}  // namespace

TEST_CASE("all/any/at_least/best_of/guess agree with enumeration on random small models", "[gate][bruteforce]") {
  CHECK(brute_force_trials(0.0, 20261126) > 300);
}

TEST_CASE("shared skills: exact Shannon expansion agrees with enumeration", "[shared][bruteforce]") {
  CHECK(brute_force_trials(0.5, 424242) > 300);
  CHECK(brute_force_trials(1.0, 99) > 300);
}

TEST_CASE("shared skills: hand-computed cases", "[shared]") {
  Builder b;
  const auto s = b.constant("s", 0.3), t = b.constant("t", 0.6);
  b.spec.nodes[s].shared = true;
  const auto both = b.task("both", GateKind::all, {{s, 1}, {s, 1}});
  const auto three = b.task("three", GateKind::any, {{s, 3}});
  const auto vote = b.task("vote", GateKind::at_least, {{s, 2}, {t, 1}}, 0, 2);
  const auto pair = b.task("pair", GateKind::all, {{s, 1}, {t, 1}});
  const auto best = b.task("best", GateKind::best_of, {{pair, 1}}, 0, 0, 3);
  const auto top = b.task("top", GateKind::all, {{pair, 2}, {three, 1}}, 0.1);
  const Model m = Model::compile(b.spec);
  const auto e = eval_at(m, {1e9});
  CHECK_THAT(P(e, both), WithinRel(0.3, 1e-14));
  CHECK_THAT(P(e, three), WithinRel(0.3, 1e-14));
  CHECK_THAT(P(e, vote), WithinRel(0.3, 1e-14));  // s's two uses succeed or fail together
  CHECK_THAT(P(e, pair), WithinRel(0.18, 1e-14));
  CHECK_THAT(P(e, best), WithinRel(0.3 * (1 - 0.4 * 0.4 * 0.4), 1e-14));
  CHECK_THAT(P(e, top), WithinRel(0.1 + 0.9 * 0.3 * 0.36, 1e-14));
}

TEST_CASE("shared skills: the limit is enforced with a message that points to Monte Carlo", "[shared]") {
  Builder b;
  std::vector<std::pair<std::size_t, double>> uses;
  for (int i = 0; i < 8; ++i) {
    uses.push_back({b.constant("s" + std::to_string(i), 0.5), 2});
    b.spec.nodes.back().shared = true;
  }
  b.task("t", GateKind::all, uses);
  const Model m = Model::compile(b.spec);
  EvalOptions o;
  o.max_shared_expanded = 7;
  const std::vector<double> xs{1e9};
  CHECK_THROWS_WITH(evaluate(m, xs, o), Catch::Contains("8 shared skills") && Catch::Contains("--monte-carlo"));
  o.max_shared_expanded = 8;
  CHECK_THAT(evaluate(m, xs, o).p(8, 0), WithinRel(std::pow(0.5, 8), 1e-14));
}

// ---- scale axis -------------------------------------------------------------

TEST_CASE("params axis: D = tokens_per_param N, capped by data_limit", "[axis]") {
  ScaleSpec ss;
  ss.tokens_per_param = 20;
  ss.data_limit = 1e12;
  ScaleAxis axis(ss);
  const ScalePoint a = axis.at(1e10);
  CHECK(a.N == 1e10);
  CHECK(a.D == 2e11);
  CHECK_THAT(a.C, WithinRel(6 * 1e10 * 2e11, 1e-15));
  CHECK_FALSE(a.data_limited);
  const ScalePoint b = axis.at(1e12);
  CHECK(b.D == 1e12);
  CHECK(b.data_limited);
  CHECK(b.dlogD == 0);
}

TEST_CASE("compute axis: the compute-optimal split matches the formula", "[axis]") {
  for (const ScalingLaw& law : {chinchilla_law(), epoch2024_law()}) {
    ScaleSpec ss;
    ss.axis = Axis::compute;
    ss.law = law;
    ScaleAxis axis(ss);
    const double al = law.alpha, be = law.beta;
    const double a = be / (al + be), bb = al / (al + be);
    const double G = std::pow(al * law.A / (be * law.B), 1 / (al + be));
    for (double C : {1e18, 5.76e23, 1e26}) {
      const ScalePoint pt = axis.at(C);
      CHECK_THAT(pt.N, WithinRel(G * std::pow(C / 6, a), 1e-13));
      CHECK_THAT(pt.D, WithinRel(std::pow(C / 6, bb) / G, 1e-13));
      CHECK_THAT(pt.C, WithinRel(C, 1e-13));
      // the split minimises the loss at fixed C: nudging N either way costs loss
      const double L0 = axis.loss(pt.N, pt.D);
      for (double f : {0.9, 1.1}) CHECK(axis.loss(pt.N * f, C / (6 * pt.N * f)) > L0);
    }
  }
}

TEST_CASE("compute axis with a data limit: D capped, N = C / 6D", "[axis]") {
  ScaleSpec ss;
  ss.axis = Axis::compute;
  ss.data_limit = 1e12;
  ScaleAxis axis(ss);
  const ScalePoint pt = axis.at(1e26);
  CHECK(pt.D == 1e12);
  CHECK_THAT(pt.N, WithinRel(1e26 / 6e12, 1e-15));
  CHECK(pt.data_limited);
}

TEST_CASE("log-spaced points have exact endpoints and equal log steps", "[axis]") {
  const auto xs = ScaleAxis::log_spaced(1e8, 1e13, 61);
  REQUIRE(xs.size() == 61);
  CHECK(xs.front() == 1e8);
  CHECK(xs.back() == 1e13);
  for (std::size_t i = 1; i < xs.size(); ++i)
    CHECK_THAT(std::log10(xs[i]) - std::log10(xs[i - 1]), WithinAbs(5.0 / 60, 1e-12));
}

TEST_CASE("compile rejects cycles with their path", "[model]") {
  Builder b;
  const auto s = b.constant("s", 0.5);
  b.task("a", GateKind::all, {{s, 1}, {2, 1}});
  b.task("b", GateKind::all, {{3, 1}});
  b.task("c", GateKind::any, {{1, 1}});
  const auto cycle = find_cycle(b.spec);
  REQUIRE(cycle.size() == 4);
  CHECK(cycle == std::vector<std::size_t>{1, 2, 3, 1});
  CHECK_THROWS_WITH(Model::compile(b.spec), "cycle: a -> b -> c -> a");
}

TEST_CASE("evaluation is the same with several threads", "[model]") {
  Builder b;
  const auto s = b.skill("s", logistic(1e10, 1.3));
  const auto s2 = b.skill("s2", power_law(3e8, 0.4));
  const auto t = b.task("t", GateKind::at_least, {{s, 3}, {s2, 2}}, 0.05, 3);
  const Model m = Model::compile(b.spec);
  const auto xs = ScaleAxis::log_spaced(1e8, 1e13, 1000);
  const auto e1 = evaluate(m, xs, {1});
  const auto e2 = evaluate(m, xs, {2});
  for (std::size_t j = 0; j < xs.size(); ++j) CHECK(e1.log_p(t, j) == e2.log_p(t, j));
}

TEST_CASE("any, best_of and at_least keep ln P exact when every child's P underflows", "[numerics]") {
  Builder b;
  const auto s = b.constant("s", 0.5);
  const auto deep = b.task("deep", GateKind::all, {{s, 1640}});  // ln P = 1640 ln 0.5 = -1136.8
  const auto deep2 = b.task("deep2", GateKind::all, {{s, 1700}});
  const auto any = b.task("any", GateKind::any, {{deep, 2}, {deep2, 1}});
  const auto best = b.task("best", GateKind::best_of, {{deep, 1}}, 0, 0, 2);
  const auto k2 = b.task("k2", GateKind::at_least, {{deep, 2}, {deep2, 1}}, 0, 2);
  const Model m = Model::compile(b.spec);
  const auto e = eval_at(m, {1e9});
  const double l1 = 1640 * std::log(0.5), l2 = 1700 * std::log(0.5);
  // P(any) = 2 P1 + P2 to first order (the P^2 terms are below 1e-900)
  const double lany = l1 + std::log(2 + std::exp(l2 - l1));
  CHECK_THAT(e.log_p(any, 0), WithinRel(lany, 1e-14));
  CHECK_THAT(e.log_p(best, 0), WithinRel(l1 + std::log(2.0), 1e-14));
  // at least 2 of {deep, deep, deep2}: P1^2 + 2 P1 P2 to first order
  const double lk = 2 * l1 + std::log(1 + 2 * std::exp(l2 - l1));
  CHECK_THAT(e.log_p(k2, 0), WithinRel(lk, 1e-13));
}

// The same over a block of points whose "k or more" crosses the smallest
// doubles inside the block: evaluate() redoes the DP in log space for the
// points below 1e-280 only, vectorised over them (graph/evaluation.cpp).
TEST_CASE("at_least over a block where P crosses 1e-280 matches its closed form at every point", "[numerics]") {
  Builder b;
  const double mid = 1e10, slope = 0.8;
  const auto s = b.skill("s", logistic(mid, slope));
  const auto deep = b.task("deep", GateKind::all, {{s, 600}});
  const auto deep2 = b.task("deep2", GateKind::all, {{s, 610}});
  const auto k2 = b.task("k2", GateKind::at_least, {{deep, 2}, {deep2, 1}}, 0, 2);
  const Model m = Model::compile(b.spec);
  const std::vector<double> xs = ScaleAxis::log_spaced(1e8, 1e13, 64);
  const Evaluation e = evaluate(m, xs);
  int tiny = 0, normal = 0;
  for (std::size_t j = 0; j < xs.size(); ++j) {
    INFO("x = " << xs[j]);
    // ln sigmoid(z) = -log1p(e^-z), P(at least 2 of {p1, p1, p2}) = p1^2 + 2 p1 p2 (1 - p1)
    const double z = slope * (std::log10(xs[j]) - std::log10(mid));
    const double ls = -std::log1p(std::exp(-z));
    const double l1 = 600 * ls, l2 = 610 * ls;
    const double lk = logaddexp(2 * l1, std::log(2.0) + l1 + l2 + std::log1p(-std::exp(l1)));
    (lk < std::log(1e-280) ? tiny : normal) += 1;
    CHECK_THAT(e.log_p(k2, j), WithinRel(lk, 1e-12));
  }
  CHECK(tiny >= 8);
  CHECK(normal >= 8);
}

TEST_CASE("run_workers: every worker runs once, a worker's exception reaches the caller", "[engine][threads]") {
  CHECK(detail::worker_count(4, 2) == 2);
  CHECK(detail::worker_count(3, 100) == 3);
  CHECK(detail::worker_count(0, 0) == 0);
  CHECK(detail::worker_count(0, 1) == 1);
  for (unsigned workers : {1u, 2u, 3u}) {
    std::vector<int> ran(workers, 0);
    detail::run_workers(workers, [&](unsigned w) { ++ran[w]; });
    CHECK(ran == std::vector<int>(workers, 1));
    CHECK_THROWS_WITH(detail::run_workers(workers,
                                          [&](unsigned w) {
                                            if (w == workers - 1) throw std::runtime_error("worker failed");
                                          }),
                      "worker failed");
  }
}

TEST_CASE("parse_metric reads what metric_label writes, and nothing else", "[engine][metrics]") {
  for (const Metric& m : {Metric{MetricKind::exact_match, 0}, Metric{MetricKind::partial_credit, 0},
                          Metric{MetricKind::log_likelihood, 0}, Metric{MetricKind::multiple_choice, 2},
                          Metric{MetricKind::multiple_choice, 5}, Metric{MetricKind::pass_at, 1},
                          Metric{MetricKind::pass_at, 100}}) {
    const auto back = parse_metric(metric_label(m));
    REQUIRE(back);
    CHECK(*back == m);
  }
  for (const char* bad : {"", "accuracy", "exact_match:2", "partial_credit:", "pass_at", "pass_at:", "pass_at:0",
                          "pass_at:-1", "pass_at:10x", "pass_at: 3", "multiple_choice:1", "multiple_choice",
                          "Exact_match", "exact_match ", "pass_at:99999999999"}) {
    INFO(bad);
    CHECK_FALSE(parse_metric(bad));
  }
}
