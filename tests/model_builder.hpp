// tests/model_builder.hpp — building ModelSpec values in C++ for tests.
#pragma once

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

}  // namespace capgraph::testing
