// tests/test_overrides.cpp — evaluating with Overrides (graph/overrides.hpp)
// against rebuilding the spec: the same bits for every node, metric and
// Monte Carlo estimate, on the examples and on random models with every
// gate, curve, metric and shared skills.
#include <catch2/catch.hpp>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "graph/evaluation.hpp"
#include "graph/model.hpp"
#include "graph/monte_carlo.hpp"
#include "graph/overrides.hpp"
#include "model_builder.hpp"
#include "specs/load.hpp"
#include "test_paths.hpp"

using namespace capgraph;
using namespace capgraph::testing;

namespace {

bool same_bits(double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); }

// Every value an Evaluation reports, for every node it kept, compared bit for bit.
void require_same(const Evaluation& got, const Evaluation& want, const Model& rebuilt) {
  REQUIRE(got.num_points() == want.num_points());
  for (std::size_t v = 0; v < rebuilt.size(); ++v) {
    REQUIRE(got.has_row(v) == want.has_row(v));
    if (!got.has_row(v)) continue;
    for (std::size_t j = 0; j < got.num_points(); ++j) {
      INFO("node " << rebuilt.node(v).id << " point " << j);
      REQUIRE(same_bits(got.log_p(v, j), want.log_p(v, j)));
      REQUIRE(same_bits(got.log_likelihood_per_step(v, j), want.log_likelihood_per_step(v, j)));
      if (!rebuilt.node(v).is_task) continue;
      for (const Metric& m : rebuilt.metrics(v)) REQUIRE(same_bits(got.metric(v, m, j), want.metric(v, m, j)));
      REQUIRE(same_bits(got.partial_credit(v, j), want.partial_credit(v, j)));
    }
  }
}

// P and every metric of every kept node agree to `rel` (relative, or
// absolute below 1e-300), and exact zeros stay zeros.
void require_close(const Evaluation& got, const Evaluation& want, const Model& rebuilt, double rel) {
  auto close = [rel](double a, double b) {
    if (a == b) return true;
    if (!std::isfinite(a) || !std::isfinite(b)) return false;
    return std::abs(a - b) <= rel * std::max({std::abs(a), std::abs(b), 1e-300});
  };
  for (std::size_t v = 0; v < rebuilt.size(); ++v) {
    if (!got.has_row(v)) continue;
    for (std::size_t j = 0; j < got.num_points(); ++j) {
      INFO("node " << rebuilt.node(v).id << " point " << j);
      REQUIRE(close(got.p(v, j), want.p(v, j)));
      if (!rebuilt.node(v).is_task) continue;
      for (const Metric& m : rebuilt.metrics(v))
        if (m.kind != MetricKind::log_likelihood) REQUIRE(close(got.metric(v, m, j), want.metric(v, m, j)));
    }
  }
}

// Evaluates `model` under `o` and the rebuilt spec, all rows and the tasks'
// only. Bit for bit with shared skills evaluated by Shannon expansion, whose
// arithmetic does not depend on the order of the nodes; with the decision
// diagram (the default) the rebuilt spec orders the shared skills by its own
// topological order, so the sums are taken in another order: to 1e-12.
void check_against_rebuild(const Model& model, const Overrides& o, const std::vector<double>& xs) {
  const Model rebuilt = Model::compile(o.apply(model.spec()));
  EvalOptions with;
  with.overrides = o;
  require_close(evaluate(model, xs, with), evaluate(rebuilt, xs), rebuilt, 1e-12);
  with.shared_expansion = true;
  EvalOptions plain;
  plain.shared_expansion = true;
  plain.max_shared_work = with.max_shared_work = 2e7;
  // A spec whose expansion is past that work (the 25-event fault tree) has
  // the diagram's comparison only.
  std::optional<Evaluation> want;
  try {
    want.emplace(evaluate(rebuilt, xs, plain));
  } catch (const ModelError&) {
    return;
  }
  require_same(evaluate(model, xs, with), *want, rebuilt);
  // Only the tasks' rows (their cones evaluated), and partial credit from the rows.
  with.keep = model.tasks();
  plain.keep = model.tasks();
  require_same(evaluate(model, xs, with), evaluate(rebuilt, xs, plain), rebuilt);
  with.keep.reset();
  plain.keep.reset();
  with.partial_credit = plain.partial_credit = false;
  require_same(evaluate(model, xs, with), evaluate(rebuilt, xs, plain), rebuilt);
}

// Random overrides: a few nodes forced (tasks and skills), a few skills
// given another curve, floor and ceiling.
Overrides random_overrides(const Model& model, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  Overrides o;
  const std::size_t n = model.size();
  for (int i = 0; i < 3; ++i) {
    const std::size_t v = rng() % n;
    const double p = i == 0 ? 1.0 : i == 1 ? unif(rng) : 0.0;
    o.force(v, p);
  }
  for (int i = 0; i < 3; ++i) {
    const std::size_t v = rng() % n;
    if (model.node(v).is_task) continue;
    const double floor = unif(rng) < 0.5 ? 0.0 : 0.1 * unif(rng);
    const double ceiling = unif(rng) < 0.5 ? 1.0 : 0.9 + 0.1 * unif(rng);
    switch (rng() % 4) {
      case 0: o.set_curve(v, logistic(std::pow(10.0, 8 + 4 * unif(rng)), 0.5 + 2 * unif(rng)), floor, ceiling); break;
      case 1: o.set_curve(v, power_law(1e3 * unif(rng) + 1, 0.1 + unif(rng)), floor, ceiling); break;
      case 2: o.set_curve(v, points({{1e8, 0.1}, {1e10, 0.5 * unif(rng) + 0.2}, {1e12, 0.9}}), floor, ceiling); break;
      default: o.set_curve(v, chinchilla(0.5 + unif(rng)), floor, ceiling); break;
    }
  }
  return o;
}

std::vector<double> sweep_of(const Model& m) { return ScaleAxis::log_spaced(m.spec().scale.from, m.spec().scale.to, 37); }

}  // namespace

TEST_CASE("overrides evaluate as the rebuilt spec, bit for bit, on every example", "[overrides]") {
  std::mt19937_64 rng(21);
  std::size_t checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(test::source_dir) + "/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    const specs::LoadResult r = specs::load_spec_file(entry.path().string());
    REQUIRE(r.ok());
    const Model model = Model::compile(*r.spec);
    INFO(entry.path().filename().string());
    for (int round = 0; round < 4; ++round) check_against_rebuild(model, random_overrides(model, rng), sweep_of(model));
    // Every task forced to 1 in turn (the bottleneck query's "what if").
    for (std::size_t v : model.tasks()) check_against_rebuild(model, Overrides().force(v), sweep_of(model));
    ++checked;
  }
  REQUIRE(checked >= 7);
}

TEST_CASE("overrides evaluate as the rebuilt spec on random models with shared skills", "[overrides]") {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    std::mt19937_64 rng(seed);
    RandomModelOptions opts;
    opts.shared_fraction = seed % 2 ? 0.4 : 0.0;
    opts.zero_leaves = seed % 3 == 0;
    opts.compute_axis = seed % 5 == 0;
    const Model model = Model::compile(random_smooth_model(rng, opts));
    INFO("seed " << seed);
    check_against_rebuild(model, random_overrides(model, rng), sweep_of(model));
  }
}

TEST_CASE("Monte Carlo under overrides estimates as on the rebuilt spec, same seed", "[overrides][monte_carlo]") {
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    std::mt19937_64 rng(seed);
    RandomModelOptions opts;
    opts.shared_fraction = 0.4;
    const Model model = Model::compile(random_smooth_model(rng, opts));
    const Overrides o = random_overrides(model, rng);
    const Model rebuilt = Model::compile(o.apply(model.spec()));
    MonteCarloOptions mc;
    mc.samples = 2000;
    mc.seed = seed;
    const std::vector<double> xs{1e9, 3e10};
    const MonteCarloEstimate want = monte_carlo(rebuilt, xs, mc, rebuilt.tasks());
    mc.overrides = o;
    const MonteCarloEstimate got = monte_carlo(model, xs, mc, rebuilt.tasks());
    INFO("seed " << seed);
    for (std::size_t v : rebuilt.tasks())
      for (std::size_t j = 0; j < xs.size(); ++j) {
        REQUIRE(same_bits(got.p(v, j).mean, want.p(v, j).mean));
        REQUIRE(same_bits(got.p(v, j).std_error, want.p(v, j).std_error));
      }
  }
}

TEST_CASE("a forced task counts as one step and its prerequisites no longer matter", "[overrides]") {
  // t = all(a x2, u), u = all(b, c): forcing u makes t's P = P_a^2, its
  // steps 2 + 1 = 3 (not 2 + 2), and partial credit (P_a * 2 + 1) / 3.
  Builder b;
  const std::size_t a = b.constant("a", 0.6);
  const std::size_t bb = b.constant("b", 0.5);
  const std::size_t c = b.constant("c", 0.25);
  const std::size_t u = b.task("u", GateKind::all, {{bb, 1}, {c, 1}});
  const std::size_t t = b.task("t", GateKind::all, {{a, 2}, {u, 1}});
  const Model model = Model::compile(b.spec);
  const std::vector<double> xs{1e9};
  EvalOptions o;
  o.overrides.force(u);
  const Evaluation ev = evaluate(model, xs, o);
  CHECK(ev.p(u, 0) == 1.0);
  CHECK_THAT(ev.p(t, 0), Catch::Matchers::WithinRel(0.36, 1e-15));
  CHECK_THAT(ev.partial_credit(t, 0), Catch::Matchers::WithinRel((0.6 * 2 + 1) / 3, 1e-15));
  CHECK_THAT(ev.log_likelihood_per_step(t, 0), Catch::Matchers::WithinRel(2 * std::log(0.6) / 3, 1e-15));
  // Without overrides: steps 4, P = 0.36 * 0.125.
  const Evaluation plain = evaluate(model, xs);
  CHECK_THAT(plain.p(t, 0), Catch::Matchers::WithinRel(0.36 * 0.125, 1e-15));
  CHECK_THAT(plain.log_likelihood_per_step(t, 0), Catch::Matchers::WithinRel(std::log(0.36 * 0.125) / 4, 1e-15));
}

TEST_CASE("overrides are checked as Model::compile checks a skill", "[overrides]") {
  Builder b;
  const std::size_t s = b.skill("s", logistic(1e9, 1));
  b.task("t", GateKind::all, {{s, 1}});
  const Model model = Model::compile(b.spec);
  const std::vector<double> xs{1e9};
  auto refused = [&](const Overrides& o) {
    std::string compiled, evaluated, sampled;
    try {
      (void)Model::compile(o.apply(model.spec()));
    } catch (const ModelError& e) {
      compiled = e.what();
    }
    EvalOptions eo;
    eo.overrides = o;
    try {
      (void)evaluate(model, xs, eo);
    } catch (const ModelError& e) {
      evaluated = e.what();
    }
    MonteCarloOptions mo;
    mo.samples = 10;
    mo.overrides = o;
    try {
      (void)monte_carlo(model, xs, mo);
    } catch (const ModelError& e) {
      sampled = e.what();
    }
    CHECK(!compiled.empty());
    CHECK(evaluated == compiled);
    CHECK(sampled == compiled);
  };
  refused(Overrides().set_curve(s, power_law(1, 0), 0, 1));          // alpha must be > 0
  refused(Overrides().set_curve(s, logistic(1e9, 1), 0.5, 0.4));     // floor above ceiling
  refused(Overrides().force(s, 1.5));                                // not a probability
  refused(Overrides().set_curve(s, points({{1e9, 0.5}, {1e8, 0.6}}), 0, 1));  // decreasing knots
  EvalOptions eo;
  eo.overrides.force(7);
  CHECK_THROWS_AS(evaluate(model, xs, eo), std::out_of_range);
  CHECK_THROWS_AS(Overrides().force(7).apply(model.spec()), std::out_of_range);
}

TEST_CASE("no overrides: the same evaluation", "[overrides]") {
  std::mt19937_64 rng(5);
  const Model model = Model::compile(random_smooth_model(rng));
  const Overrides none;
  check_against_rebuild(model, none, sweep_of(model));
}
