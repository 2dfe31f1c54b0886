// capgraph/tests/test_render_support.hpp — models built in C++ for the
// render tests (no YAML needed), and small checks on produced SVG.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "graph/model.hpp"
#include "graph/model_spec.hpp"

namespace capgraph::test {

inline Curve logistic(double mid, double slope) {
  Curve c;
  c.kind = CurveKind::logistic;
  c.mid = mid;
  c.slope = slope;
  return c;
}

inline Curve constant(double p) {
  Curve c;
  c.kind = CurveKind::constant;
  c.value = p;
  return c;
}

/// Builds a ModelSpec node by node, references by id.
class SpecBuilder {
 public:
  explicit SpecBuilder(std::string name = "test model") { spec.name = std::move(name); }

  SpecBuilder& skill(const std::string& id, Curve curve, const std::string& group = {}, const std::string& label = {},
                     const std::string& description = {}) {
    NodeSpec n;
    n.id = id;
    n.label = label;
    n.group = group;
    n.description = description;
    n.curve = std::move(curve);
    add(std::move(n));
    return *this;
  }

  SpecBuilder& task(const std::string& id, GateKind gate, const std::vector<std::pair<std::string, double>>& uses,
                    const std::string& group = {}, const std::string& label = {}, int k = 0, int best_n = 1) {
    NodeSpec n;
    n.id = id;
    n.label = label;
    n.group = group;
    n.is_task = true;
    n.gate = gate;
    n.k = k;
    n.best_n = best_n;
    for (const auto& [ref, count] : uses) n.uses.push_back(Use{index_.at(ref), count, {}});
    add(std::move(n));
    return *this;
  }

  NodeSpec& last() { return spec.nodes.back(); }
  Model compile() const { return Model::compile(spec); }

  ModelSpec spec;

 private:
  void add(NodeSpec n) {
    index_[n.id] = spec.nodes.size();
    spec.nodes.push_back(std::move(n));
  }
  std::map<std::string, std::size_t> index_;
};

/// The "emoji movie" example of DESIGN.md section 2, with groups.
inline ModelSpec emoji_movie_spec() {
  SpecBuilder b("Emoji movie");
  b.skill("emoji_semantics", logistic(2e9, 1.2), "perception", "Emoji -> concept")
      .skill("title_recall", logistic(5e9, 1.0), "memory")
      .skill("movie_facts", logistic(1e10, 0.9), "memory")
      .task("decode_clues", GateKind::all, {{"emoji_semantics", 3}}, "perception")
      .task("emoji_movie", GateKind::all, {{"decode_clues", 1}, {"movie_facts", 1}, {"title_recall", 1}});
  b.last().metrics = {{MetricKind::exact_match, 0}, {MetricKind::partial_credit, 0}, {MetricKind::log_likelihood, 0},
                      {MetricKind::multiple_choice, 5}};
  return b.spec;
}

/// A ten-step chain: every step smooth, the composite sharp (the "mirage").
inline ModelSpec mirage_spec() {
  SpecBuilder b("Ten-step mirage");
  b.skill("step", logistic(3e9, 1.1), "", "one reasoning step");
  b.task("ten_steps", GateKind::all, {{"step", 10}}, "", "ten steps in a row");
  b.task("best_of_five", GateKind::best_of, {{"ten_steps", 1}}, "", "", 0, 5);
  return b.spec;
}

/// A generated layered model with `n` nodes (40% skills) in `layers` task
/// layers, tasks using 2-4 prerequisites from the layer below (30%: any
/// layer below); about `groups` groups, each a contiguous run of one layer
/// (as people group specs: by topic within a level). Deterministic in `seed`.
inline ModelSpec generated_spec(std::size_t n, std::size_t groups, std::uint64_t seed = 1, int layers = 5) {
  std::uint64_t state = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  auto next = [&state](std::uint64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::size_t>((state >> 33) % bound);
  };
  ModelSpec spec;
  spec.name = "generated " + std::to_string(n);
  const std::size_t skills = std::max<std::size_t>(2, n * 2 / 5);
  const std::size_t per_layer = std::max<std::size_t>(1, groups / static_cast<std::size_t>(layers + 1));
  std::vector<std::vector<std::size_t>> layer(1);
  for (std::size_t i = 0; i < skills; ++i) {
    NodeSpec s;
    s.id = "s" + std::to_string(i);
    s.curve = logistic(std::pow(10.0, 8.5 + 0.001 * static_cast<double>(next(3000))), 0.8 + 0.001 * static_cast<double>(next(800)));
    if (groups > 0) s.group = "group 0." + std::to_string(i * per_layer / skills);
    layer[0].push_back(spec.nodes.size());
    spec.nodes.push_back(std::move(s));
  }
  const std::size_t tasks = n - skills;
  for (int l = 1; l <= layers; ++l) {
    layer.emplace_back();
    const std::size_t count = tasks / static_cast<std::size_t>(layers) + (l == layers ? tasks % static_cast<std::size_t>(layers) : 0);
    for (std::size_t i = 0; i < count; ++i) {
      NodeSpec t;
      t.id = "t" + std::to_string(l) + "_" + std::to_string(i);
      t.is_task = true;
      t.gate = next(5) == 0 ? GateKind::any : GateKind::all;
      if (groups > 0) t.group = "group " + std::to_string(l) + "." + std::to_string(i * per_layer / count);
      std::map<std::size_t, double> kids;
      const std::size_t want = 2 + next(3);
      for (std::size_t k = 0; k < want; ++k) {
        const std::size_t from = next(10) < 3 ? next(static_cast<std::size_t>(l)) : static_cast<std::size_t>(l - 1);
        const auto& pool = layer[from];
        kids[pool[next(pool.size())]] += next(4) == 0 ? 2 : 1;
      }
      for (const auto& [c, cnt] : kids) t.uses.push_back(Use{c, cnt, {}});
      layer.back().push_back(spec.nodes.size());
      spec.nodes.push_back(std::move(t));
    }
  }
  return spec;
}

}  // namespace capgraph::test
