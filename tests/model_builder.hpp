// tests/model_builder.hpp — building ModelSpec values in C++ for tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "graph/model_spec.hpp"

namespace capgraph::testing {

struct Builder {
  ModelSpec spec;

  Builder() { spec.name = "test"; }

  std::size_t skill(const std::string& id, Curve c, double floor = 0, double ceiling = 1) {
    NodeSpec n;
    n.id = id;
    n.curve = std::move(c);
    n.floor = floor;
    n.ceiling = ceiling;
    spec.nodes.push_back(std::move(n));
    return spec.nodes.size() - 1;
  }
  std::size_t constant(const std::string& id, double p) {
    Curve c;
    c.kind = CurveKind::constant;
    c.value = p;
    return skill(id, c);
  }
  std::size_t task(const std::string& id, GateKind gate, std::vector<std::pair<std::size_t, double>> uses,
                   double guess = 0, int k = 0, int best_n = 1) {
    NodeSpec n;
    n.id = id;
    n.is_task = true;
    n.gate = gate;
    for (auto [node, count] : uses) n.uses.push_back(Use{node, count, {}});
    n.guess = guess;
    n.k = k;
    n.best_n = best_n;
    spec.nodes.push_back(std::move(n));
    return spec.nodes.size() - 1;
  }
};

inline Curve logistic(double mid, double slope) {
  Curve c;
  c.kind = CurveKind::logistic;
  c.mid = mid;
  c.slope = slope;
  return c;
}
inline Curve power_law(double cc, double alpha) {
  Curve c;
  c.kind = CurveKind::power_law;
  c.c = cc;
  c.alpha = alpha;
  return c;
}
inline Curve chinchilla(double w) {
  Curve c;
  c.kind = CurveKind::chinchilla;
  c.weight = w;
  return c;
}
inline Curve points(std::vector<std::pair<double, double>> k) {
  Curve c;
  c.kind = CurveKind::points;
  c.knots = std::move(k);
  return c;
}

/// A small random model of constant skills (probabilities in [0.05, 0.95],
/// a fraction of them shared) and `tasks` tasks over earlier nodes: 1-3
/// references with counts 1-2, gates drawn from the first `gate_kinds` of
/// GateKind (4: all, any, at_least, best_of — the boolean ones; 5 adds
/// mean), a guess of 0.1 on a quarter of them. The last node is a task.
inline ModelSpec random_constant_model(std::mt19937_64& rng, int leaves, int tasks, int gate_kinds,
                                       double shared_fraction) {
  std::uniform_real_distribution<double> unif(0.05, 0.95);
  Builder b;
  for (int i = 0; i < leaves; ++i) {
    b.constant("s" + std::to_string(i), unif(rng));
    b.spec.nodes.back().shared = unif(rng) < shared_fraction;
  }
  for (int t = 0; t < tasks; ++t) {
    const std::size_t avail = b.spec.nodes.size();
    const int nuse = 1 + static_cast<int>(rng() % 3);
    std::vector<std::pair<std::size_t, double>> uses;
    double total = 0;
    for (int u = 0; u < nuse; ++u) {
      const double cnt = 1 + static_cast<double>(rng() % 2);
      uses.push_back({rng() % avail, cnt});
      total += cnt;
    }
    const auto gk = static_cast<GateKind>(rng() % static_cast<std::uint64_t>(gate_kinds));
    const double guess = rng() % 4 == 0 ? 0.1 : 0.0;
    if (gk == GateKind::best_of)
      b.task("t" + std::to_string(t), gk, {{uses[0].first, 1.0}}, guess, 0, 1 + static_cast<int>(rng() % 3));
    else
      b.task("t" + std::to_string(t), gk, uses, guess, 1 + static_cast<int>(rng() % static_cast<std::uint64_t>(total)));
  }
  return b.spec;
}

/// What random_smooth_model() may draw.
struct RandomModelOptions {
  int leaves = 6;
  int tasks = 8;
  double shared_fraction = 0;  ///< chance that a skill is `shared`
  bool zero_leaves = false;    ///< some skills exactly 0 (constant 0, or ceiling 0)
  bool guesses = true;         ///< a chance floor on some tasks
  bool fractional_uses = true; ///< real counts >= 1 under all / any
  bool extreme_curves = true;  ///< curves whose P underflows a double at the ends of the range
  bool compute_axis = false;   ///< the compute axis (else params), with a data limit sometimes
};

/// A random model whose every skill curve is non-decreasing in scale
/// (logistic with slope > 0, power law, chinchilla, increasing points,
/// constant), floors and ceilings in [0, 1], and tasks over earlier nodes
/// with every gate kind (1-4 references; counts, weights, k, n and guesses
/// drawn), every metric kind, and per-task thresholds. Deterministic for a
/// given rng state. The last node is a task.
inline ModelSpec random_smooth_model(std::mt19937_64& rng, const RandomModelOptions& o = {}) {
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  // n = 0 happens (k of a mean gate whose weights sum below 1, unused):
  // draw anyway, so the sequence stays the same, and return 0.
  auto pick = [&](std::uint64_t n) { return static_cast<std::size_t>(rng() % std::max<std::uint64_t>(n, 1)); };
  auto log_uniform = [&](double lo, double hi) { return std::pow(10.0, lo + (hi - lo) * unif(rng)); };
  Builder b;
  if (o.compute_axis) {
    b.spec.scale.axis = Axis::compute;
    b.spec.scale.from = 1e15;
    b.spec.scale.to = 1e27;
  }
  if (unif(rng) < 0.3) b.spec.scale.data_limit = log_uniform(10, 14);
  for (int i = 0; i < o.leaves; ++i) {
    Curve c;
    switch (pick(5)) {
      case 0: c = logistic(log_uniform(7, 14), 0.1 + (o.extreme_curves ? 6.0 : 2.0) * unif(rng)); break;
      case 1: c = power_law(log_uniform(5, 12), (o.extreme_curves ? 0.05 + 0.9 : 0.05 + 0.3) * unif(rng) + 0.01); break;
      case 2: c = chinchilla(o.extreme_curves ? 0.01 + 20 * unif(rng) : 0.01 + 2 * unif(rng)); break;
      case 3: {
        std::vector<std::pair<double, double>> k;
        double n = log_uniform(6, 9), p = 0.01 + 0.3 * unif(rng);
        const std::size_t m = 1 + pick(4);
        for (std::size_t q = 0; q < m; ++q) {
          k.push_back({n, p});
          n *= log_uniform(0.2, 2);
          p += (0.99 - p) * unif(rng);
        }
        c = points(k);
        break;
      }
      default: {
        Curve cc;
        cc.kind = CurveKind::constant;
        cc.value = unif(rng);
        if (o.zero_leaves && unif(rng) < 0.25) cc.value = 0;
        if (unif(rng) < 0.1) cc.value = 1;
        c = cc;
      }
    }
    double floor = unif(rng) < 0.3 ? 0.3 * unif(rng) : 0.0;
    double ceiling = unif(rng) < 0.3 ? floor + (1 - floor) * unif(rng) : 1.0;
    if (o.zero_leaves && unif(rng) < 0.1) floor = ceiling = 0;
    b.skill("s" + std::to_string(i), c, floor, ceiling);
    b.spec.nodes.back().shared = unif(rng) < o.shared_fraction;
  }
  for (int t = 0; t < o.tasks; ++t) {
    const std::size_t avail = b.spec.nodes.size();
    const auto gk = static_cast<GateKind>(pick(5));
    const std::size_t nref = gk == GateKind::best_of ? 1 : 1 + pick(4);
    std::vector<std::pair<std::size_t, double>> uses;
    double total = 0;
    for (std::size_t u = 0; u < nref; ++u) {
      // Prefer recent nodes, so that chains get deep.
      const std::size_t child = unif(rng) < 0.6 && avail > 3 ? avail - 1 - pick(3) : pick(avail);
      double cnt = 1;
      if (gk == GateKind::mean) cnt = 0.1 + 3 * unif(rng);
      else if (gk == GateKind::at_least) cnt = static_cast<double>(1 + pick(3));
      else if (gk != GateKind::best_of && unif(rng) < 0.4)
        cnt = o.fractional_uses && unif(rng) < 0.5 ? 1 + 4 * unif(rng) : static_cast<double>(1 + pick(20));
      uses.push_back({child, cnt});
      total += cnt;
    }
    const double guess = o.guesses && unif(rng) < 0.2 ? 0.5 * unif(rng) : 0.0;
    const int k = 1 + static_cast<int>(pick(static_cast<std::uint64_t>(total)));
    const int n = 1 + static_cast<int>(pick(10));
    b.task("t" + std::to_string(t), gk, uses, guess, gk == GateKind::at_least ? k : 0,
           gk == GateKind::best_of ? n : 1);
    NodeSpec& node = b.spec.nodes.back();
    if (unif(rng) < 0.5) {
      node.metrics = {{MetricKind::exact_match, 0}, {MetricKind::partial_credit, 0}, {MetricKind::log_likelihood, 0},
                      {MetricKind::multiple_choice, 2 + static_cast<int>(pick(5))},
                      {MetricKind::pass_at, 1 + static_cast<int>(pick(100))}};
    }
    if (unif(rng) < 0.2) node.threshold = unif(rng);
  }
  return b.spec;
}

}  // namespace capgraph::testing
