// tests/model_builder.hpp — building ModelSpec values in C++ for tests.
#pragma once

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

}  // namespace capgraph::testing
