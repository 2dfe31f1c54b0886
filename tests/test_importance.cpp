// tests/test_importance.cpp — docs/measures.md §6 against closed forms, finite
// differences and direct re-evaluation.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "graph/evaluation.hpp"
#include "graph/importance.hpp"
#include "graph/node_kernels.hpp"
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

TEST_CASE("a shared skill outside T's cone: the sweep still runs, closed form", "[importance][shared]") {
  // z uses a shared skill; T = all[{x: 2}, y] does not reach it, so T needs
  // no expansion and x (two uses) goes through the incremental sweep:
  // P_T = p_x^2 p_y, IP_x = p_y (1 - p_x^2), IP_y = p_x^2 (1 - p_y).
  Builder b;
  const double px = 0.6, py = 0.7;
  const auto x = b.constant("x", px), y = b.constant("y", py), s = b.constant("s", 0.5);
  b.spec.nodes[s].shared = true;
  b.task("z", GateKind::all, {{s, 1}, {y, 1}});
  const auto t = b.task("t", GateKind::all, {{x, 2}, {y, 1}});
  const Model m = Model::compile(b.spec);
  REQUIRE(m.has_shared());
  for (unsigned threads : {1u, 2u}) {
    EvalOptions o;
    o.threads = threads;
    const auto tab = importance(m, t, 1e9, ImportanceOrder::potential, o);
    CHECK_THAT(tab.p_task, WithinRel(px * px * py, 1e-14));
    REQUIRE(tab.rows.size() == 2);
    for (const auto& r : tab.rows) {
      const double want = r.node == x ? py * (1 - px * px) : px * px * (1 - py);
      CHECK_THAT(r.improvement, WithinRel(want, 1e-13));
    }
  }
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

namespace {
// IP by brute force: P_i := 1, then every task above i in topological order
// re-evaluated whole by the engine's kernel (no incremental updates).
// A task "top" of the given gate over every task nothing else uses (so
// that most prerequisites reach it by several paths), each use counted
// count() times.
template <class Count>
NodeSpec top_over_unused_tasks(const ModelSpec& spec, GateKind gate, Count count) {
  std::vector<char> used(spec.nodes.size(), 0);
  for (const auto& n : spec.nodes)
    for (const auto& u : n.uses) used[u.node] = 1;
  NodeSpec top;
  top.id = "top";
  top.is_task = true;
  top.gate = gate;
  for (std::size_t v = 0; v < spec.nodes.size(); ++v)
    if (spec.nodes[v].is_task && !used[v]) top.uses.push_back(Use{v, count(), {}});
  return top;
}

std::vector<double> brute_force_improvement(const Model& m, std::size_t task, double x) {
  const std::vector<double> xs{x};
  const Evaluation ev = evaluate(m, xs);
  std::vector<double> lp(m.size());
  for (std::size_t v = 0; v < m.size(); ++v) lp[v] = ev.log_p(v, 0);
  const auto& order = m.topological_order();
  std::vector<double> ip(m.size(), 0.0);
  detail::Workspace ws;
  for (std::size_t at = 0; at < order.size(); ++at) {
    std::vector<double> mod = lp;
    mod[order[at]] = 0.0;
    for (std::size_t q = at + 1; q < order.size(); ++q)
      if (m.node(order[q]).is_task) detail::eval_task(m, order[q], mod.data(), 1, &mod[order[q]], 0, 1, ws);
    ip[order[at]] = std::max(0.0, std::exp(mod[task]) - std::exp(lp[task]));
  }
  return ip;
}
}  // namespace

TEST_CASE("improvement potential on random DAGs with many paths equals brute-force re-evaluation",
          "[importance]") {
  // Random smooth models (every gate, counts, guesses, P = 0 leaves,
  // probabilities that underflow) under one extra top task of a random gate
  // over every task nothing else uses: most prerequisites reach the top by
  // several paths, so IP goes through the incremental ancestor updates.
  std::mt19937_64 rng(2024);
  int compared = 0, nonzero = 0;
  for (int trial = 0; trial < 40; ++trial) {
    RandomModelOptions o;
    o.leaves = 10 + static_cast<int>(rng() % 10);
    o.tasks = 20 + static_cast<int>(rng() % 30);
    o.zero_leaves = trial % 2 == 0;
    ModelSpec spec = random_smooth_model(rng, o);
    NodeSpec top = top_over_unused_tasks(spec, static_cast<GateKind>(rng() % 5),
                                         [&] { return 1.0 + static_cast<double>(rng() % 2); });
    if (top.gate == GateKind::best_of) {
      top.uses.resize(1);
      top.uses[0].count = 1;
      top.best_n = 3;
    }
    if (top.gate == GateKind::at_least) {
      double total = 0;
      for (const auto& u : top.uses) total += u.count;
      top.k = 1 + static_cast<int>(rng() % static_cast<std::uint64_t>(total));
    }
    if (trial % 3 == 0) top.guess = 0.25;
    spec.nodes.push_back(top);
    const std::size_t t = spec.nodes.size() - 1;
    const Model m = Model::compile(spec);
    for (double x : {1e8, 3e10, 1e13}) {
      const auto want = brute_force_improvement(m, t, x);
      EvalOptions two;
      two.threads = 2;
      const auto tab = importance(m, t, x, ImportanceOrder::potential);
      const auto tab2 = importance(m, t, x, ImportanceOrder::potential, two);
      REQUIRE(tab.rows.size() == tab2.rows.size());
      for (std::size_t r = 0; r < tab.rows.size(); ++r) {
        const auto& row = tab.rows[r];
        CHECK(row.improvement == tab2.rows[r].improvement);  // any thread count, same bits
        const double tol = 1e-12 * std::max(tab.p_task, want[row.node]) + 1e-300;
        INFO("trial " << trial << " x " << x << " node " << m.node(row.node).id << " P_T " << tab.p_task);
        CHECK_THAT(row.improvement, WithinAbs(want[row.node], tol));
        ++compared;
        if (want[row.node] > 0) ++nonzero;
      }
    }
  }
  CHECK(compared > 3000);
  CHECK(nonzero > 1000);
}

// importance() evaluates a cone of at most a quarter of the model alone.
// The same task with the same prerequisites, alone and beside a model three
// to five times larger that it does not reach, must give the same table,
// bit for bit (shared skills in some trials).
TEST_CASE("a small cone in a large model: the same table as in the cone's own model", "[importance]") {
  std::mt19937_64 rng(4242);
  for (int trial = 0; trial < 24; ++trial) {
    RandomModelOptions o;
    o.leaves = 6 + static_cast<int>(rng() % 8);
    o.tasks = 10 + static_cast<int>(rng() % 15);
    o.shared_fraction = trial % 3 == 0 ? 0.3 : 0.0;
    ModelSpec alone = random_smooth_model(rng, o);
    alone.nodes.push_back(top_over_unused_tasks(alone, GateKind::mean, [&] { return 1.0 + static_cast<double>(rng() % 2); }));
    const std::size_t t = alone.nodes.size() - 1;
    RandomModelOptions big;
    big.leaves = 4 * o.leaves;
    big.tasks = 4 * o.tasks;
    const ModelSpec other = random_smooth_model(rng, big);
    ModelSpec beside = alone;
    const std::size_t off = alone.nodes.size();
    for (NodeSpec nd : other.nodes) {
      nd.id = "b_" + nd.id;
      for (Use& u : nd.uses) u.node += off;
      beside.nodes.push_back(std::move(nd));
    }
    REQUIRE(4 * alone.nodes.size() <= beside.nodes.size());
    const Model ma = Model::compile(alone), mb = Model::compile(beside);
    for (double x : {1e8, 3e10, 1e13})
      for (unsigned threads : {1u, 2u}) {
        INFO("trial " << trial << " x " << x << " threads " << threads);
        EvalOptions eo;
        eo.threads = threads;
        const auto ta = importance(ma, t, x, ImportanceOrder::potential, eo);
        const auto tb = importance(mb, t, x, ImportanceOrder::potential, eo);
        REQUIRE(ta.rows.size() == tb.rows.size());
        CHECK(ta.p_task == tb.p_task);
        CHECK(ta.dp_task_dlog10x == tb.dp_task_dlog10x);
        CHECK(ta.critical_path == tb.critical_path);
        for (std::size_t r = 0; r < ta.rows.size(); ++r) {
          const Prerequisite &a = ta.rows[r], &b = tb.rows[r];
          REQUIRE(a.node == b.node);
          CHECK(a.p == b.p);
          CHECK(a.uses == b.uses);
          CHECK(a.birnbaum == b.birnbaum);
          CHECK(a.criticality == b.criticality);
          CHECK(a.improvement == b.improvement);
          CHECK(a.drive == b.drive);
        }
      }
  }
}

TEST_CASE("improvement potential over several blocks of queries: any thread count, same bits, brute force on a sample",
          "[importance]") {
  // More multi-path prerequisites than two blocks of the node-major sweep
  // (ImprovementSweep::kBlock = 16,384), so blocks run on different workers.
  std::mt19937_64 rng(77);
  RandomModelOptions o;
  o.leaves = 12000;
  o.tasks = 36000;
  ModelSpec spec = random_smooth_model(rng, o);
  spec.nodes.push_back(top_over_unused_tasks(spec, GateKind::mean, [] { return 1.0; }));
  const std::size_t t = spec.nodes.size() - 1;
  const Model m = Model::compile(spec);
  const double x = 3e10;
  EvalOptions one, two;
  one.threads = 1;
  two.threads = 2;
  const auto tab1 = importance(m, t, x, ImportanceOrder::potential, one);
  const auto tab2 = importance(m, t, x, ImportanceOrder::potential, two);
  REQUIRE(tab1.rows.size() == tab2.rows.size());
  std::size_t multi_path = 0;
  for (std::size_t r = 0; r < tab1.rows.size(); ++r) {
    REQUIRE(tab1.rows[r].node == tab2.rows[r].node);
    CHECK(tab1.rows[r].improvement == tab2.rows[r].improvement);
    if (tab1.rows[r].uses != 1.0) ++multi_path;
  }
  CHECK(multi_path > 2 * 16384);

  // Brute force on every 320th row: P_T re-evaluated whole with P_i := 1.
  const std::vector<double> xs{x};
  const Evaluation ev = evaluate(m, xs);
  std::vector<double> lp(m.size());
  for (std::size_t v = 0; v < m.size(); ++v) lp[v] = ev.log_p(v, 0);
  const auto& order = m.topological_order();
  std::vector<std::size_t> pos(m.size());
  for (std::size_t i = 0; i < order.size(); ++i) pos[order[i]] = i;
  detail::Workspace ws;
  int compared = 0;
  for (std::size_t r = 0; r < tab1.rows.size(); r += 320) {
    const std::size_t v = tab1.rows[r].node;
    std::vector<double> mod = lp;
    mod[v] = 0.0;
    for (std::size_t q = pos[v] + 1; q < order.size(); ++q)
      if (m.node(order[q]).is_task) detail::eval_task(m, order[q], mod.data(), 1, &mod[order[q]], 0, 1, ws);
    const double want = std::max(0.0, std::exp(mod[t]) - tab1.p_task);
    INFO("node " << m.node(v).id << " P_T " << tab1.p_task);
    CHECK_THAT(tab1.rows[r].improvement, WithinAbs(want, 1e-12 * std::max(tab1.p_task, want) + 1e-300));
    ++compared;
  }
  CHECK(compared > 100);
}

TEST_CASE("improvement potential through a change of more than e^700 under mean, closed form", "[importance]") {
  // top = mean[c, d], c = all[{a: 800}], d = all[a, b]: with P_a = e^-1,
  // P_c = e^-800 jumps to 1 when P_a := 1, a ratio no double holds.
  Builder b;
  const auto a = b.constant("a", std::exp(-1.0)), half = b.constant("b", 0.5);
  const auto c = b.task("c", GateKind::all, {{a, 800}});
  const auto d = b.task("d", GateKind::all, {{a, 1}, {half, 1}});
  const auto top = b.task("top", GateKind::mean, {{c, 1}, {d, 1}});
  const Model m = Model::compile(b.spec);
  const auto tab = importance(m, top, 1e9);
  const double pt = (std::exp(-800.0) + 0.5 * std::exp(-1.0)) / 2;
  CHECK_THAT(tab.p_task, WithinRel(pt, 1e-14));
  CHECK_THAT(row_of(tab, a).improvement, WithinRel(0.75 - pt, 1e-14));
  CHECK_THAT(row_of(tab, c).improvement, WithinRel(0.5 - std::exp(-800.0) / 2, 1e-14));
}

// The ranking (docs/measures.md §6): by the chosen measure, descending, ties by
// spec order, in every --by order; on the two-halves path (more than 4,096
// rows, two threads) as on one thread. Checked against std::sort of the
// table's own (-measure, node) pairs, and on models built with ties: equal
// skills (equal measures) and zeros (skills of P = 1, the leaves' drive
// when every curve is flat, the tasks' drive).
TEST_CASE("the ranking: every order sorted by its measure, ties by spec order, any thread count", "[importance]") {
  auto measure = [](const Prerequisite& r, ImportanceOrder by) {
    switch (by) {
      case ImportanceOrder::potential: return r.improvement;
      case ImportanceOrder::birnbaum: return r.birnbaum;
      case ImportanceOrder::criticality: return r.criticality;
      case ImportanceOrder::drive: return r.drive ? *r.drive : -std::numeric_limits<double>::infinity();
    }
    return 0.0;
  };
  auto check = [&](const Model& m, std::size_t t, double x) {  // the table's rows
    std::size_t rows = 0;
    for (const ImportanceOrder by : {ImportanceOrder::potential, ImportanceOrder::birnbaum,
                                     ImportanceOrder::criticality, ImportanceOrder::drive}) {
      for (const unsigned threads : {1u, 2u}) {
        EvalOptions eo;
        eo.threads = threads;
        const auto tab = importance(m, t, x, by, eo);
        std::vector<std::pair<double, std::size_t>> want;
        for (const auto& r : tab.rows) want.push_back({-measure(r, by), r.node});
        std::sort(want.begin(), want.end());
        REQUIRE(want.size() == tab.rows.size());
        for (std::size_t r = 0; r < want.size(); ++r) REQUIRE(tab.rows[r].node == want[r].second);
        rows = tab.rows.size();
      }
    }
    return rows;
  };
  SECTION("ties: equal skills, skills of P = 1, flat curves") {
    Builder b;
    std::vector<std::pair<std::size_t, double>> refs;
    for (int i = 0; i < 6; ++i) refs.push_back({b.constant("same" + std::to_string(i), 0.7), 1});
    for (int i = 0; i < 4; ++i) refs.push_back({b.constant("one" + std::to_string(i), 1.0), 1});
    const auto sub = b.task("sub", GateKind::all, {refs[0], refs[6]});
    refs.push_back({sub, 1});
    const auto t = b.task("t", GateKind::all, refs);
    check(Model::compile(b.spec), t, 1e9);
  }
  SECTION("random models, and one of more than 4,096 rows") {
    std::mt19937_64 rng(4242);
    for (int trial = 0; trial < 12; ++trial) {
      RandomModelOptions o;
      o.leaves = trial == 0 ? 2500 : 5 + static_cast<int>(rng() % 10);
      o.tasks = trial == 0 ? 5000 : 5 + static_cast<int>(rng() % 20);
      o.zero_leaves = trial % 2 == 1;
      ModelSpec spec = random_smooth_model(rng, o);
      spec.nodes.push_back(top_over_unused_tasks(spec, GateKind::mean, [] { return 1.0; }));
      const Model m = Model::compile(spec);
      const std::size_t rows = check(m, spec.nodes.size() - 1, 3e10);
      if (trial == 0) REQUIRE(rows > 4096);  // importance() sorts two halves and merges them
    }
  }
}
