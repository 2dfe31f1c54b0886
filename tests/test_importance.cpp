// tests/test_importance.cpp — DESIGN.md 3.5 against closed forms, finite
// differences and direct re-evaluation.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "graph/evaluation.hpp"
#include "graph/importance.hpp"
#include "model_builder.hpp"

using namespace capgraph;
using namespace capgraph::testing;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {

const Prerequisite& row_of(const ImportanceTable& t, std::size_t v) {
  for (const auto& r : t.rows)
    if (r.node == v) return r;
  FAIL("node not in table");
  return t.rows.front();
}

double p_task(const ModelSpec& spec, std::size_t task, double x) {
  const Model m = Model::compile(spec);
  const std::vector<double> xs{x};
  return evaluate(m, xs).p(task, 0);
}

}  // namespace

TEST_CASE("all of two skills: closed forms of every measure", "[importance]") {
  Builder b;
  const auto a = b.constant("a", 0.6), c = b.constant("c", 0.9);
  const auto t = b.task("t", GateKind::all, {{a, 2}, {c, 1}});
  const Model m = Model::compile(b.spec);
  const auto tab = importance(m, t, 1e9);
  const double pt = 0.36 * 0.9;
  CHECK_THAT(tab.p_task, WithinRel(pt, 1e-14));
  const auto& ra = row_of(tab, a);
  const auto& rc = row_of(tab, c);
  CHECK_THAT(ra.birnbaum, WithinRel(2 * 0.6 * 0.9, 1e-14));
  CHECK_THAT(rc.birnbaum, WithinRel(0.36, 1e-14));
  CHECK_THAT(ra.criticality, WithinRel(2.0, 1e-14));  // elasticity of P^2
  CHECK_THAT(rc.criticality, WithinRel(1.0, 1e-14));
  CHECK_THAT(ra.improvement, WithinRel(0.9 - pt, 1e-14));
  CHECK_THAT(rc.improvement, WithinRel(0.36 - pt, 1e-14));
  CHECK(ra.uses == 2);
  CHECK(rc.uses == 1);
  // ranked by improvement potential: a first
  CHECK(tab.rows.front().node == a);
  CHECK(tab.critical_path == std::vector<std::size_t>{t, a});
}

TEST_CASE("pure all chain: the leaf with the smallest P^uses has the largest improvement potential",
          "[importance]") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unif(0.3, 0.99);
  for (int trial = 0; trial < 50; ++trial) {
    Builder b;
    std::vector<std::pair<std::size_t, double>> uses;
    for (int i = 0; i < 6; ++i)
      uses.push_back({b.constant("s" + std::to_string(i), unif(rng)), 1.0 + static_cast<double>(rng() % 4)});
    const auto t = b.task("t", GateKind::all, uses);
    const Model m = Model::compile(b.spec);
    const auto tab = importance(m, t, 1e9);
    std::size_t weakest = 0;
    double smallest = 2;
    for (auto [v, n] : uses) {
      const double pn = std::pow(b.spec.nodes[v].curve.value, n);
      if (pn < smallest) {
        smallest = pn;
        weakest = v;
      }
    }
    CHECK(tab.rows.front().node == weakest);
  }
}

namespace {
int check_random_models(double shared_fraction, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  int checked = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const ModelSpec spec = random_constant_model(rng, 3 + static_cast<int>(rng() % 3), 4, 5 /* all gates */, shared_fraction);
    const std::size_t top = spec.nodes.size() - 1;
    const Model m = Model::compile(spec);
    const auto tab = importance(m, top, 1e9);
    for (const auto& r : tab.rows) {
      if (m.node(r.node).is_task) continue;
      const double p0 = spec.nodes[r.node].curve.value;
      const double h = 1e-6;
      ModelSpec up = spec, dn = spec, one = spec;
      up.nodes[r.node].curve.value = p0 + h;
      dn.nodes[r.node].curve.value = p0 - h;
      one.nodes[r.node].curve.value = 1.0;
      const double fd = (p_task(up, top, 1e9) - p_task(dn, top, 1e9)) / (2 * h);
      CHECK_THAT(r.birnbaum, WithinAbs(fd, 1e-7));
      CHECK_THAT(r.improvement, WithinAbs(p_task(one, top, 1e9) - tab.p_task, 1e-12));
      if (tab.p_task > 0) CHECK_THAT(r.criticality, WithinAbs(r.birnbaum * r.p / tab.p_task, 1e-9));
      ++checked;
    }
  }
  return checked;
}
}  // namespace

TEST_CASE("Birnbaum equals a finite difference and IP a re-evaluation on random models", "[importance]") {
  CHECK(check_random_models(0.0, 11) > 100);
}

TEST_CASE("with shared skills too: B_s = P(T|s=1) - P(T|s=0), IP by exact re-evaluation", "[importance][shared]") {
  CHECK(check_random_models(0.5, 12) > 100);
  CHECK(check_random_models(1.0, 13) > 100);
}

TEST_CASE("scale drive over the leaves sums to dP_T/dlog10(x)", "[importance]") {
  for (Axis axis : {Axis::params, Axis::compute}) {
    Builder b;
    b.spec.scale.axis = axis;
    const auto s1 = b.skill("s1", logistic(3e9, 1.4));
    const auto s2 = b.skill("s2", power_law(5e8, 0.3), 0.05, 0.95);
    const auto s3 = b.skill("s3", chinchilla(0.05));
    const auto s4 = b.skill("s4", points({{1e8, 0.1}, {1e10, 0.6}, {1e12, 0.9}}));
    const auto mid = b.task("mid", GateKind::any, {{s1, 2}, {s4, 1}});
    const auto t = b.task("t", GateKind::all, {{mid, 2}, {s2, 3}, {s3, 1}});
    const Model m = Model::compile(b.spec);
    const double x = axis == Axis::params ? 2e10 : 3e21;
    const auto tab = importance(m, t, x);
    const double h = 1e-5;
    const std::vector<double> xs{x * std::pow(10.0, -h), x * std::pow(10.0, h)};
    const auto ev = evaluate(m, xs);
    const double fd = (ev.p(t, 1) - ev.p(t, 0)) / (2 * h);
    double sum = 0;
    for (const auto& r : tab.rows)
      if (r.drive) sum += *r.drive;
    CHECK_THAT(sum, WithinAbs(fd, 1e-6));
    CHECK_THAT(tab.dp_task_dlog10x, WithinAbs(fd, 1e-6));
    (void)mid;
  }
}

TEST_CASE("deep chains keep exact criticalities where P_T underflows", "[importance]") {
  Builder b;
  const auto s = b.constant("s", 0.5);
  const auto c = b.constant("c", 0.9);
  const auto t = b.task("t", GateKind::all, {{s, 3000}, {c, 2}});
  const Model m = Model::compile(b.spec);
  const auto tab = importance(m, t, 1e9);
  CHECK(tab.p_task == 0.0);
  CHECK_THAT(row_of(tab, s).criticality, WithinRel(3000.0, 1e-12));
  CHECK_THAT(row_of(tab, c).criticality, WithinRel(2.0, 1e-12));
}
