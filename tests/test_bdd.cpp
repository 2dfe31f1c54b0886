// tests/test_bdd.cpp — the decision diagram over shared skills (graph/bdd.hpp,
// docs/measures.md §4 and §6).
//
// Every number is checked against a computation that shares no code with
// the engine: P(v) = sum over every outcome a of the shared skills of
// w(a) P(v | a), with P(v | a) from the gate formulas in plain doubles
// (no log space, no diagram, no kernel). Random models draw heavily from a
// pool of shared skills, through every gate, with counts, guesses and
// best_of. Also: the Shannon expansion where it runs, Monte Carlo within 4
// standard errors, and the Aralia "chinese" fault tree (25 shared events,
// 36 gates) against an enumeration of its 2^25 states.
#include "test_paths.hpp"
#include <catch2/catch.hpp>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "graph/bdd.hpp"
#include "graph/evaluation.hpp"
#include "graph/importance.hpp"
#include "graph/model.hpp"
#include "graph/monte_carlo.hpp"
#include "model_builder.hpp"
#include "specs/load.hpp"

using namespace capgraph;
using capgraph::testing::Builder;
using Catch::Matchers::WithinAbs;

namespace {

// P(v) by enumerating the shared skills' outcomes; `forced` nodes have P = 1.
struct Reference {
  const ModelSpec& spec;
  std::vector<std::size_t> shared;
  explicit Reference(const ModelSpec& s) : spec(s) {
    for (std::size_t i = 0; i < s.nodes.size(); ++i)
      if (!s.nodes[i].is_task && s.nodes[i].shared) shared.push_back(i);
  }
  // Nodes refer only to earlier ones (the generators below), so spec order
  // is children first.
  std::vector<double> conditional(std::uint64_t a, std::ptrdiff_t forced) const {
    std::vector<double> p(spec.nodes.size());
    std::vector<int> bit(spec.nodes.size(), -1);
    for (std::size_t i = 0; i < shared.size(); ++i) bit[shared[i]] = static_cast<int>(i);
    for (std::size_t v = 0; v < spec.nodes.size(); ++v) {
      const NodeSpec& n = spec.nodes[v];
      if (static_cast<std::ptrdiff_t>(v) == forced) {
        p[v] = 1;
        continue;
      }
      if (!n.is_task) {
        p[v] = bit[v] >= 0 ? static_cast<double>((a >> bit[v]) & 1) : n.curve.value;
        continue;
      }
      double g = 0;
      switch (n.gate) {
        case GateKind::all: {
          g = 1;
          for (const Use& u : n.uses) g *= std::pow(p[u.node], u.count);
          break;
        }
        case GateKind::any: {
          double q = 1;
          for (const Use& u : n.uses) q *= std::pow(1 - p[u.node], u.count);
          g = 1 - q;
          break;
        }
        case GateKind::best_of: g = 1 - std::pow(1 - p[n.uses[0].node], n.best_n); break;
        case GateKind::mean: {
          double w = 0;
          for (const Use& u : n.uses) {
            g += u.count * p[u.node];
            w += u.count;
          }
          g /= w;
          break;
        }
        case GateKind::at_least: {
          std::vector<double> d{1.0};  // distribution of the number of successes
          for (const Use& u : n.uses)
            for (int r = 0; r < static_cast<int>(u.count); ++r) {
              std::vector<double> e(d.size() + 1, 0.0);
              for (std::size_t t = 0; t < d.size(); ++t) {
                e[t] += d[t] * (1 - p[u.node]);
                e[t + 1] += d[t] * p[u.node];
              }
              d = e;
            }
          for (std::size_t t = static_cast<std::size_t>(n.k); t < d.size(); ++t) g += d[t];
          break;
        }
      }
      p[v] = n.guess + (1 - n.guess) * g;
    }
    return p;
  }
  // P of every node, with node `forced` at P = 1 (-1: none), and with shared
  // skill `fix` fixed to `value` (-1: none).
  std::vector<double> probability(std::ptrdiff_t forced = -1, std::ptrdiff_t fix = -1, int value = 0) const {
    std::vector<double> total(spec.nodes.size(), 0.0);
    for (std::uint64_t a = 0; a < (std::uint64_t{1} << shared.size()); ++a) {
      double w = 1;
      bool skip = false;
      for (std::size_t i = 0; i < shared.size(); ++i) {
        const int on = static_cast<int>((a >> i) & 1);
        if (static_cast<std::ptrdiff_t>(shared[i]) == fix) {
          skip = on != value;
          continue;
        }
        const double ps = spec.nodes[shared[i]].curve.value;
        w *= on ? ps : 1 - ps;
      }
      if (skip) continue;
      const auto c = conditional(a, forced);
      for (std::size_t v = 0; v < total.size(); ++v) total[v] += w * c[v];
    }
    return total;
  }
};

// A model that shares heavily: every task draws most of its uses from a pool
// of shared skills, the rest from earlier tasks and private skills; every
// gate, counts up to 3, guesses, best_of over a task.
ModelSpec heavy_model(std::mt19937_64& rng, int pool, int priv, int tasks) {
  std::uniform_real_distribution<double> unif(0.05, 0.95);
  Builder b;
  for (int i = 0; i < pool; ++i) {
    b.constant("s" + std::to_string(i), unif(rng));
    b.spec.nodes.back().shared = true;
  }
  for (int i = 0; i < priv; ++i) b.constant("p" + std::to_string(i), unif(rng));
  std::vector<std::size_t> task_ids;
  for (int t = 0; t < tasks; ++t) {
    const int nuse = 2 + static_cast<int>(rng() % 4);
    std::vector<std::pair<std::size_t, double>> uses;
    double total = 0;
    for (int u = 0; u < nuse; ++u) {
      std::size_t c;
      const auto r = rng() % 10;
      if (r < 6 || task_ids.empty()) c = rng() % static_cast<std::uint64_t>(pool);
      else if (r < 8) c = task_ids[rng() % task_ids.size()];
      else c = static_cast<std::size_t>(pool) + rng() % static_cast<std::uint64_t>(priv);
      const double cnt = rng() % 4 == 0 ? 2 + static_cast<double>(rng() % 2) : 1;
      uses.push_back({c, cnt});
      total += cnt;
    }
    const auto gk = static_cast<GateKind>(rng() % 5);
    const double guess = rng() % 5 == 0 ? 0.15 : 0.0;
    const std::string id = "t" + std::to_string(t);
    if (gk == GateKind::best_of)
      task_ids.push_back(b.task(id, gk, {{task_ids.empty() ? uses[0].first : task_ids.back(), 1.0}}, guess, 0,
                                2 + static_cast<int>(rng() % 2)));
    else
      task_ids.push_back(b.task(id, gk, uses, guess, 1 + static_cast<int>(rng() % static_cast<std::uint64_t>(total))));
  }
  return b.spec;
}

double eval_p(const Model& m, std::size_t v, const EvalOptions& o = {}) {
  const std::vector<double> xs{1e9};
  return evaluate(m, xs, o).p(v, 0);
}

}  // namespace

TEST_CASE("diagram: P of every task agrees with enumeration over the shared skills, heavy sharing", "[bdd][bruteforce]") {
  std::mt19937_64 rng(20261207);
  int checked = 0;
  for (int trial = 0; trial < 150; ++trial) {
    const ModelSpec spec = heavy_model(rng, 3 + static_cast<int>(rng() % 8), 3, 6 + static_cast<int>(rng() % 20));
    const Model m = Model::compile(spec);
    const Reference ref(spec);
    const auto want = ref.probability();
    const std::vector<double> xs{1e9, 1e11};
    const auto ev = evaluate(m, xs);
    EvalOptions by_expansion;
    by_expansion.shared_expansion = true;
    const auto ex = evaluate(m, xs, by_expansion);
    for (std::size_t v : m.tasks()) {
      INFO("trial " << trial << " task " << spec.nodes[v].id);
      CHECK_THAT(ev.p(v, 0), WithinAbs(want[v], 1e-12));
      CHECK_THAT(ev.p(v, 1), WithinAbs(want[v], 1e-12));
      CHECK_THAT(ex.p(v, 0), WithinAbs(ev.p(v, 0), 1e-12));
      ++checked;
    }
  }
  CHECK(checked > 1500);
}

TEST_CASE("diagram: only the kept cones, any thread count, same bits", "[bdd]") {
  std::mt19937_64 rng(77);
  for (int trial = 0; trial < 40; ++trial) {
    const ModelSpec spec = heavy_model(rng, 8, 4, 25);
    const Model m = Model::compile(spec);
    std::vector<double> xs;
    for (int j = 0; j < 300; ++j) xs.push_back(std::pow(10.0, 8 + j / 100.0));
    const auto all = evaluate(m, xs);
    EvalOptions o;
    o.threads = 2;
    o.keep = std::vector<std::size_t>{m.tasks()[m.tasks().size() / 2], m.tasks().back()};
    const auto some = evaluate(m, xs, o);
    for (std::size_t v : *o.keep)
      for (std::size_t j = 0; j < xs.size(); ++j) REQUIRE(some.log_p(v, j) == all.log_p(v, j));
  }
}

TEST_CASE("diagram: bottleneck measures agree with enumeration and with the expansion", "[bdd][importance]") {
  std::mt19937_64 rng(4242);
  int rows = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const ModelSpec spec = heavy_model(rng, 3 + static_cast<int>(rng() % 5), 3, 5 + static_cast<int>(rng() % 8));
    const Model m = Model::compile(spec);
    const Reference ref(spec);
    const auto base = ref.probability();
    const std::size_t task = m.tasks().back();
    EvalOptions by_diagram, by_expansion;
    by_diagram.small_expansion = 0;
    by_expansion.small_expansion = 1e12;
    const auto d = importance(m, task, 1e9, ImportanceOrder::potential, by_diagram);
    const auto e = importance(m, task, 1e9, ImportanceOrder::potential, by_expansion);
    REQUIRE(d.rows.size() == e.rows.size());
    CHECK_THAT(d.p_task, WithinAbs(base[task], 1e-12));
    for (std::size_t r = 0; r < d.rows.size(); ++r) {
      const Prerequisite& p = d.rows[r];
      INFO("trial " << trial << " prerequisite " << spec.nodes[p.node].id);
      const auto forced = ref.probability(static_cast<std::ptrdiff_t>(p.node));
      CHECK_THAT(p.improvement, WithinAbs(std::max(0.0, forced[task] - base[task]), 1e-12));
      if (!spec.nodes[p.node].is_task && spec.nodes[p.node].shared) {
        const auto on = ref.probability(-1, static_cast<std::ptrdiff_t>(p.node), 1);
        const auto off = ref.probability(-1, static_cast<std::ptrdiff_t>(p.node), 0);
        CHECK_THAT(p.birnbaum, WithinAbs(on[task] - off[task], 1e-10));
      }
      const auto it = std::find_if(e.rows.begin(), e.rows.end(), [&](const Prerequisite& q) { return q.node == p.node; });
      REQUIRE(it != e.rows.end());
      CHECK_THAT(p.birnbaum, WithinAbs(it->birnbaum, 1e-11));
      CHECK_THAT(p.criticality, WithinAbs(it->criticality, 1e-9));
      CHECK_THAT(p.improvement, WithinAbs(it->improvement, 1e-12));
      ++rows;
    }
  }
  CHECK(rows > 300);
}

TEST_CASE("diagram: Monte Carlo agrees within 4 standard errors", "[bdd][monte_carlo]") {
  std::mt19937_64 rng(5150);
  const ModelSpec spec = heavy_model(rng, 12, 6, 40);
  const Model m = Model::compile(spec);
  const std::vector<double> xs{1e9};
  const auto ev = evaluate(m, xs);
  MonteCarloOptions o;
  o.samples = 200000;
  o.seed = 7;
  const auto mc = monte_carlo(m, xs, o);
  int checked = 0;
  for (std::size_t v : m.tasks()) {
    const auto est = mc.p(v, 0);
    INFO(spec.nodes[v].id << ": exact " << ev.p(v, 0) << ", estimate " << est.mean << " +- " << est.std_error);
    if (est.std_error == 0) continue;
    CHECK(std::abs(est.mean - ev.p(v, 0)) <= 4 * est.std_error);
    ++checked;
  }
  CHECK(checked > 20);
}

TEST_CASE("diagram: the node limit is enforced with a message that points to Monte Carlo", "[bdd]") {
  std::mt19937_64 rng(9);
  const Model m = Model::compile(heavy_model(rng, 10, 3, 30));
  EvalOptions o;
  o.max_bdd_nodes = 20;
  const std::vector<double> xs{1e9};
  CHECK_THROWS_WITH(evaluate(m, xs, o), Catch::Contains("would exceed 20 nodes") &&
                                            Catch::Contains("--max-bdd-nodes") && Catch::Contains("--monte-carlo"));
  o.max_bdd_nodes = 1'000'000;
  CHECK_NOTHROW(evaluate(m, xs, o));
}

TEST_CASE("fault tree: Aralia chinese (25 shared events, 36 gates) against all 2^25 states", "[bdd][fault_tree]") {
  const auto r = specs::load_spec_file(std::string(capgraph::test::source_dir) + "/examples/fault_tree_chinese.yaml");
  REQUIRE(r.ok());
  const ModelSpec& spec = *r.spec;
  const Model m = Model::compile(spec);
  // Bit-parallel enumeration: events 0..5 vary within a 64-bit word (one
  // bit per state), the other 19 select the word; each node's truth over
  // the 64 states of a word is one word.
  std::vector<int> bit(spec.nodes.size(), -1);
  int events = 0;
  for (std::size_t i = 0; i < spec.nodes.size(); ++i)
    if (!spec.nodes[i].is_task) bit[i] = events++;
  REQUIRE(events == 25);
  const std::uint64_t low[6] = {0xAAAAAAAAAAAAAAAAull, 0xCCCCCCCCCCCCCCCCull, 0xF0F0F0F0F0F0F0F0ull,
                                0xFF00FF00FF00FF00ull, 0xFFFF0000FFFF0000ull, 0xFFFFFFFF00000000ull};
  std::uint64_t by_weight[7] = {};  // states of a word by how many of events 0..5 occur
  for (int s = 0; s < 64; ++s) by_weight[std::popcount(static_cast<unsigned>(s))] |= std::uint64_t{1} << s;
  // Children first: tasks refer to tasks declared after them here, so resolve by repeated passes.
  std::vector<std::size_t> order;
  std::vector<char> done(spec.nodes.size(), 0);
  for (std::size_t i = 0; i < spec.nodes.size(); ++i) done[i] = !spec.nodes[i].is_task;
  for (bool progress = true; progress;) {
    progress = false;
    for (std::size_t i = 0; i < spec.nodes.size(); ++i) {
      if (done[i]) continue;
      bool ready = true;
      for (const Use& u : spec.nodes[i].uses) ready = ready && done[u.node];
      if (ready) {
        done[i] = 1;
        order.push_back(i);
        progress = true;
      }
    }
  }
  REQUIRE(order.size() == 36);
  const std::size_t top = *m.find("r1");
  std::vector<double> count(26, 0.0);  // top-event states by number of events occurred
  std::vector<std::uint64_t> w(spec.nodes.size());
  for (std::uint64_t hi = 0; hi < (std::uint64_t{1} << 19); ++hi) {
    for (std::size_t i = 0; i < spec.nodes.size(); ++i)
      if (bit[i] >= 0) w[i] = bit[i] < 6 ? low[bit[i]] : ((hi >> (bit[i] - 6)) & 1 ? ~0ull : 0ull);
    for (std::size_t t : order) {
      const NodeSpec& n = spec.nodes[t];
      std::uint64_t acc = n.gate == GateKind::all ? ~0ull : 0ull;
      for (const Use& u : n.uses) acc = n.gate == GateKind::all ? acc & w[u.node] : acc | w[u.node];
      w[t] = acc;
    }
    const int h = std::popcount(hi);
    for (int k = 0; k <= 6; ++k) count[static_cast<std::size_t>(h + k)] += std::popcount(w[top] & by_weight[k]);
  }
  double exact = 0;
  for (int k = 0; k <= 25; ++k) exact += count[static_cast<std::size_t>(k)] * std::pow(0.01, k) * std::pow(0.99, 25 - k);
  const double p = eval_p(m, top);
  INFO("exact " << exact << ", capgraph " << p);
  CHECK_THAT(p, WithinAbs(exact, exact * 1e-13));
  // Read without `shared`, the same gates give another number.
  ModelSpec independent = spec;
  for (NodeSpec& n : independent.nodes) n.shared = false;
  CHECK(std::abs(eval_p(Model::compile(independent), top) - exact) > 0.01 * exact);
}

// ---- modules (Dutuit & Rauzy) -----------------------------------------------

namespace {

// Modules by definition: v is a module iff no descendant of v has a parent
// outside v's descendants and v itself (quadratic; no visit dates).
std::vector<char> modules_by_definition(const std::vector<std::vector<std::uint32_t>>& kids,
                                        const std::vector<std::uint32_t>& roots) {
  const std::size_t n = kids.size();
  // The nodes reached from `from` (themselves included) along kids.
  auto reach = [&](const std::vector<std::uint32_t>& from) {
    std::vector<char> seen(n, 0);
    std::vector<std::uint32_t> stack(from);
    while (!stack.empty()) {
      const std::uint32_t v = stack.back();
      stack.pop_back();
      if (seen[v]) continue;
      seen[v] = 1;
      for (const std::uint32_t c : kids[v]) stack.push_back(c);
    }
    return seen;
  };
  const std::vector<char> reached = reach(roots);
  std::vector<char> out(n, 0);
  for (std::size_t v = 0; v < n; ++v) {
    if (!reached[v]) continue;
    const std::vector<char> below = reach(kids[v]);
    bool module = !below[v];
    for (std::size_t p = 0; p < n && module; ++p)
      if (reached[p] && p != v && !below[p])
        for (const std::uint32_t c : kids[p]) module = module && !below[c];
    out[v] = module;
  }
  return out;
}

std::vector<char> modules_of(const std::vector<std::vector<std::uint32_t>>& kids, const std::vector<std::uint32_t>& roots) {
  std::vector<std::uint32_t> offset{0}, child;
  for (const auto& k : kids) {
    child.insert(child.end(), k.begin(), k.end());
    offset.push_back(static_cast<std::uint32_t>(child.size()));
  }
  return detail::find_modules(offset, child, roots);
}

// Blocks that share skills only inside themselves (modules), some of them
// fault-tree-like (shared skills, all/any/at_least, no guess: their
// diagram is an ordinary BDD), the others with private skills, guesses,
// `mean` and `best_of`; a block's top task is used once by a later block
// (nested), or by the top level once, twice, or from two tasks; the top
// level also shares a pool of its own. Private skills are used anywhere.
ModelSpec modular_model(std::mt19937_64& rng, int blocks, int pool, int global) {
  std::uniform_real_distribution<double> unif(0.05, 0.95);
  Builder b;
  std::vector<std::size_t> priv;
  for (int i = 0; i < 3; ++i) priv.push_back(b.constant("p" + std::to_string(i), unif(rng)));
  auto shared = [&](const std::string& id) {
    const std::size_t s = b.constant(id, unif(rng));
    b.spec.nodes.back().shared = true;
    return s;
  };
  std::vector<std::size_t> tops;  // block tops nothing uses yet
  for (int k = 0; k < blocks; ++k) {
    const bool boolean = rng() % 2 == 0;
    const std::string pre = "b" + std::to_string(k) + "_";
    std::vector<std::size_t> own;
    for (int i = 0; i < pool; ++i) own.push_back(shared(pre + "s" + std::to_string(i)));
    std::vector<std::size_t> tasks;
    const int ntask = 2 + static_cast<int>(rng() % 2);
    for (int t = 0; t < ntask; ++t) {
      std::vector<std::pair<std::size_t, double>> uses;
      const int nuse = 2 + static_cast<int>(rng() % 2);
      for (int u = 0; u < nuse; ++u) {
        const auto r = rng() % 10;
        std::size_t c = own[rng() % own.size()];
        if (r < 3 && !tasks.empty()) c = tasks[rng() % tasks.size()];
        else if (r < 4 && !boolean) c = priv[rng() % priv.size()];
        const double cnt = !boolean && rng() % 4 == 0 ? 2 : 1;
        uses.push_back({c, cnt});
      }
      if (t == ntask - 1 && !tops.empty() && rng() % 2 == 0) {  // nest an earlier block
        uses.push_back({tops.back(), 1});
        tops.pop_back();
      }
      const std::string id = pre + "t" + std::to_string(t);
      double total = 0;
      for (const auto& u : uses) total += u.second;
      const auto gk = static_cast<GateKind>(rng() % (boolean ? 3 : 5));
      if (gk == GateKind::best_of && !tasks.empty())
        tasks.push_back(b.task(id, gk, {{tasks.back(), 1.0}}, 0, 0, 2));
      else
        tasks.push_back(b.task(id, gk == GateKind::best_of ? GateKind::mean : gk, uses,
                               !boolean && rng() % 4 == 0 ? 0.2 : 0.0,
                               1 + static_cast<int>(rng() % static_cast<std::uint64_t>(total))));
    }
    tops.push_back(tasks.back());
  }
  std::vector<std::size_t> gpool;
  for (int i = 0; i < global; ++i) gpool.push_back(shared("g" + std::to_string(i)));
  std::vector<std::size_t> level;
  for (std::size_t t = 0; t < 3; ++t) {
    std::vector<std::pair<std::size_t, double>> uses{{gpool[rng() % gpool.size()], 1}, {priv[rng() % priv.size()], 1}};
    for (std::size_t i = t; i < tops.size(); i += 3) uses.push_back({tops[i], rng() % 4 == 0 ? 2.0 : 1.0});
    if (t > 0 && !tops.empty() && rng() % 3 == 0) uses.push_back({tops[rng() % tops.size()], 1});  // a second parent
    const auto gk = static_cast<GateKind>(rng() % 3);
    level.push_back(b.task("top" + std::to_string(t), gk, uses, 0, 2));
  }
  b.task("top", GateKind::all, {{level[0], 1}, {level[1], 1}, {level[2], 1}});
  return b.spec;
}

}  // namespace

TEST_CASE("modules: hand-made graphs", "[bdd][modules]") {
  // 0 -> 1, 2; 1 -> 3, 4; 2 -> 4, 5: the shared leaf 4 makes 1 and 2 no
  // modules; 0 and the leaves are.
  {
    const std::vector<std::vector<std::uint32_t>> kids{{1, 2}, {3, 4}, {4, 5}, {}, {}, {}};
    const auto m = modules_of(kids, {0});
    CHECK(m == std::vector<char>{1, 0, 0, 1, 1, 1});
  }
  // A tree: every node. A node reached twice from the same parent (a count)
  // is still a module.
  {
    const std::vector<std::vector<std::uint32_t>> kids{{1, 2}, {3, 3}, {4}, {}, {}};
    CHECK(modules_of(kids, {0}) == std::vector<char>(5, 1));
  }
  // A transfer: gate 3 (over 5, 6) sits under 1 and 2, which also share
  // nothing else; 3 is a module, 1 and 2 are not, 0 is. 4 is another root
  // over 6: then 3 is no module either (6 is reached from outside), nor is
  // 4 (6 is reached from 3).
  {
    std::vector<std::vector<std::uint32_t>> kids{{1, 2}, {3, 7}, {3, 8}, {5, 6}, {}, {}, {}, {}, {}};
    CHECK(modules_of(kids, {0}) == std::vector<char>{1, 0, 0, 1, 0, 1, 1, 1, 1});
    kids[4] = {6};
    const auto m = modules_of(kids, {0, 4});
    CHECK(m == std::vector<char>{0, 0, 0, 0, 0, 1, 1, 1, 1});
    // The root order does not matter.
    CHECK(modules_of(kids, {4, 0}) == m);
  }
  // A chain whose bottom is also used by the top: only the top and the leaf.
  {
    const std::vector<std::vector<std::uint32_t>> kids{{1, 3}, {2}, {3}, {}};
    CHECK(modules_of(kids, {0}) == std::vector<char>{1, 0, 0, 1});
  }
}

TEST_CASE("modules: visit dates agree with the definition on random DAGs", "[bdd][modules]") {
  std::mt19937_64 rng(1996);
  int modules = 0, others = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t n = 2 + rng() % 40;
    std::vector<std::vector<std::uint32_t>> kids(n);
    // Node v uses later nodes only (so 0.. are the upper ones); sparse, so
    // that modules are common.
    for (std::size_t v = 0; v + 1 < n; ++v) {
      const std::size_t k = rng() % 3;
      for (std::size_t i = 0; i < k; ++i) {
        const std::size_t span = std::min<std::size_t>(n - v - 1, 1 + rng() % 6);
        kids[v].push_back(static_cast<std::uint32_t>(v + 1 + rng() % span));
      }
    }
    std::vector<char> has_parent(n, 0);
    for (const auto& k : kids)
      for (const std::uint32_t c : k) has_parent[c] = 1;
    std::vector<std::uint32_t> roots;
    for (std::size_t v = 0; v < n; ++v)
      if (!has_parent[v]) roots.push_back(static_cast<std::uint32_t>(v));
    std::shuffle(roots.begin(), roots.end(), rng);
    const auto want = modules_by_definition(kids, roots);
    const auto got = modules_of(kids, roots);
    INFO("trial " << trial);
    REQUIRE(got == want);
    for (std::size_t v = 0; v < n; ++v)
      if (!kids[v].empty()) (want[v] ? modules : others)++;
  }
  CHECK(modules > 500);
  CHECK(others > 500);
}

TEST_CASE("modules: a fault-tree module becomes one variable, a single-use module one value", "[bdd][modules]") {
  Builder b;
  std::vector<std::size_t> s;
  for (int i = 0; i < 6; ++i) {
    s.push_back(b.constant("s" + std::to_string(i), 0.1 + 0.1 * i));
    b.spec.nodes.back().shared = true;
  }
  const std::size_t p = b.constant("p", 0.7);
  // m1 shares s0..s2 with nothing else, and is used twice: a variable.
  const std::size_t a = b.task("a", GateKind::any, {{s[0], 1}, {s[1], 1}});
  const std::size_t m1 = b.task("m1", GateKind::all, {{a, 1}, {s[2], 1}, {s[0], 1}});
  // m2 has a private skill (its terminals are no constants) and one use: its row.
  const std::size_t m2 = b.task("m2", GateKind::at_least, {{s[3], 1}, {s[4], 1}, {p, 1}}, 0, 2);
  const std::size_t u = b.task("u", GateKind::any, {{m1, 1}, {s[5], 1}});
  const std::size_t w = b.task("w", GateKind::all, {{m1, 1}, {s[5], 1}, {m2, 1}});
  const std::size_t top = b.task("top", GateKind::mean, {{u, 1}, {w, 1}});
  const Model m = Model::compile(b.spec);
  detail::Diagram d(m, 1000);
  for (const std::size_t v : m.topological_order()) d.build(v);
  CHECK(d.is_variable(m1));
  CHECK_FALSE(d.is_variable(m2));
  CHECK(d.items()[d.build(m2)].kind == detail::Diagram::Kind::row);
  CHECK_FALSE(d.is_variable(a));  // inside m1: shares s0 with m1's other use
  CHECK(d.substituted() == 2);
  detail::Diagram whole(m, 1000, true, nullptr, /*modules=*/false);
  for (const std::size_t v : m.topological_order()) whole.build(v);
  CHECK(whole.substituted() == 0);
  CHECK(d.size() < whole.size());
  // The same numbers, against enumeration.
  const Reference ref(b.spec);
  const auto want = ref.probability();
  const auto ev = evaluate(m, std::vector<double>{1e9});
  for (const std::size_t v : m.tasks()) CHECK_THAT(ev.p(v, 0), WithinAbs(want[v], 1e-14));
  CHECK(top == m.tasks().back());
}

TEST_CASE("modules: P agrees with enumeration, and the diagram is smaller, on models made of modules",
          "[bdd][modules][bruteforce]") {
  std::mt19937_64 rng(20261208);
  int checked = 0, smaller = 0, substituted = 0;
  for (int trial = 0; trial < 80; ++trial) {
    const ModelSpec spec = modular_model(rng, 3 + static_cast<int>(rng() % 3), 2 + static_cast<int>(rng() % 2), 2);
    const Model m = Model::compile(spec);
    const Reference ref(spec);
    const auto want = ref.probability();
    const std::vector<double> xs{1e9, 1e11};
    const auto ev = evaluate(m, xs);
    const auto with = detail::plan_diagram(m, 1'000'000);
    const auto without = detail::plan_diagram(m, 1'000'000, nullptr, false);
    substituted += static_cast<int>(with.diagram->substituted());
    smaller += with.diagram->size() < without.diagram->size();
    // A module costs its one variable or value, at most.
    CHECK(with.diagram->size() <= without.diagram->size() + with.diagram->substituted());
    for (std::size_t v : m.tasks()) {
      INFO("trial " << trial << " task " << spec.nodes[v].id);
      CHECK_THAT(ev.p(v, 0), WithinAbs(want[v], 1e-12));
      CHECK_THAT(ev.p(v, 1), WithinAbs(want[v], 1e-12));
      ++checked;
    }
  }
  INFO(substituted << " modules substituted, " << smaller << " diagrams of 80 smaller");
  CHECK(checked > 800);
  CHECK(substituted > 100);
  CHECK(smaller > 40);
}

TEST_CASE("modules: bottleneck measures through module variables and values", "[bdd][modules][importance]") {
  std::mt19937_64 rng(96);
  int rows = 0, substituted = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const ModelSpec spec = modular_model(rng, 3, 2, 2);
    const Model m = Model::compile(spec);
    substituted += static_cast<int>(detail::plan_diagram(m, 1'000'000).diagram->substituted());
    const Reference ref(spec);
    const auto base = ref.probability();
    const std::size_t task = m.tasks().back();
    EvalOptions by_diagram, by_expansion;
    by_diagram.small_expansion = 0;
    by_expansion.small_expansion = 1e12;
    const auto d = importance(m, task, 1e9, ImportanceOrder::potential, by_diagram);
    const auto e = importance(m, task, 1e9, ImportanceOrder::potential, by_expansion);
    REQUIRE(d.rows.size() == e.rows.size());
    CHECK_THAT(d.p_task, WithinAbs(base[task], 1e-12));
    for (const Prerequisite& p : d.rows) {
      const NodeSpec& node = spec.nodes[p.node];
      INFO("trial " << trial << " prerequisite " << node.id);
      const auto forced = ref.probability(static_cast<std::ptrdiff_t>(p.node));
      CHECK_THAT(p.improvement, WithinAbs(std::max(0.0, forced[task] - base[task]), 1e-12));
      if (!node.is_task && node.shared) {
        const auto on = ref.probability(-1, static_cast<std::ptrdiff_t>(p.node), 1);
        const auto off = ref.probability(-1, static_cast<std::ptrdiff_t>(p.node), 0);
        CHECK_THAT(p.birnbaum, WithinAbs(on[task] - off[task], 1e-10));
      } else if (!node.is_task) {
        // A private skill, maybe inside modules: the chain rule through
        // their variables and values against a central difference of the
        // enumeration (P_T is a polynomial of low degree in its P).
        const double h = 1e-5;
        ModelSpec up = spec, down = spec;
        up.nodes[p.node].curve.value += h;
        down.nodes[p.node].curve.value -= h;
        const double fd = (Reference(up).probability()[task] - Reference(down).probability()[task]) / (2 * h);
        CHECK_THAT(p.birnbaum, WithinAbs(fd, 1e-8));
      }
      const auto it = std::find_if(e.rows.begin(), e.rows.end(), [&](const Prerequisite& q) { return q.node == p.node; });
      REQUIRE(it != e.rows.end());
      CHECK_THAT(p.birnbaum, WithinAbs(it->birnbaum, 1e-11));
      CHECK_THAT(p.criticality, WithinAbs(it->criticality, 1e-9));
      CHECK_THAT(p.improvement, WithinAbs(it->improvement, 1e-12));
      ++rows;
    }
  }
  CHECK(rows > 400);
  CHECK(substituted > 40);
}
