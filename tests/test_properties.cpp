// tests/test_properties.cpp — numbers that cannot go wrong silently
// (issue 6, "Reliability" 4): properties every evaluation must have, checked
// over hundreds of random specs (tests/model_builder.hpp, fixed seeds):
//
//   - no NaN anywhere; probabilities (P, partial credit, the probability
//     metrics) in [0, 1]; ln P in [-inf, 0];
//   - infinity only as the log-likelihood of a P that is exactly 0
//     (docs/measures.md §3): a constant-0 skill, not a P that underflows a double;
//   - non-decreasing skill curves give non-decreasing tasks over scale
//     (every gate is monotone in its children: coherent systems);
//   - P(all) <= min child P, P(any) >= max child P (before the guess floor);
//   - partial credit >= exact match;
//   - and the CLI's CSV and JSON outputs of random specs hold no NaN (JSON
//     writes a NaN as null, so a null is allowed only where docs/measures.md §3 puts one).
#include <sys/wait.h>

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "graph/evaluation.hpp"
#include "graph/model.hpp"
#include "model_builder.hpp"

using namespace capgraph;
using capgraph::testing::RandomModelOptions;
using capgraph::testing::random_smooth_model;

namespace {

constexpr double kTol = 1e-12;

// P_v is exactly 0 as a real number (not merely below the smallest double):
// structural zeros only (docs/measures.md §2 formulas; a curve other than a
// constant is never 0 on (0, inf)).
std::vector<bool> exact_zeros(const ModelSpec& spec) {
  std::vector<bool> zero(spec.nodes.size(), false);
  for (std::size_t v = 0; v < spec.nodes.size(); ++v) {
    const NodeSpec& n = spec.nodes[v];
    if (!n.is_task) {
      const bool curve_zero = n.curve.kind == CurveKind::constant && n.curve.value == 0;
      zero[v] = n.floor == 0 && (n.ceiling == 0 || curve_zero);
      continue;
    }
    bool z = false;
    switch (n.gate) {
      case GateKind::all:
      case GateKind::best_of:
        for (const Use& u : n.uses) z = z || zero[u.node];
        break;
      case GateKind::any:
      case GateKind::mean:
        z = true;
        for (const Use& u : n.uses) z = z && zero[u.node];
        break;
      case GateKind::at_least: {
        double possible = 0;
        for (const Use& u : n.uses)
          if (!zero[u.node]) possible += u.count;
        z = possible < n.k;
        break;
      }
    }
    zero[v] = z && n.guess == 0;
  }
  return zero;
}

std::vector<double> sweep_points(const ModelSpec& spec, int n) {
  // Wider than the spec's range on both sides: the ends are where P
  // underflows and logits saturate.
  const double a = spec.scale.axis == Axis::compute ? 1e10 : 1e3;
  const double b = spec.scale.axis == Axis::compute ? 1e32 : 1e16;
  return ScaleAxis::log_spaced(a, b, n);
}

std::string to_yaml(const ModelSpec& s);  // below: the spec as a file, for reproducers

// Checks every property of one evaluation; returns how many values were checked.
std::size_t check_model(const ModelSpec& spec, bool monotone_expected) {
  INFO("spec (reproducer):\n" << to_yaml(spec));
  const Model model = Model::compile(spec);
  const std::vector<double> xs = sweep_points(spec, 25);
  const Evaluation ev = evaluate(model, xs);
  const std::vector<bool> zero = exact_zeros(spec);
  std::size_t checked = 0;
  for (std::size_t v = 0; v < model.size(); ++v) {
    const NodeSpec& n = model.node(v);
    INFO("node " << n.id << " (" << (n.is_task ? gate_kind_name(n.gate) : "skill") << ")");
    for (std::size_t j = 0; j < xs.size(); ++j) {
      INFO("x = " << xs[j]);
      const double p = ev.p(v, j), lp = ev.log_p(v, j), pc = ev.partial_credit(v, j);
      REQUIRE(p >= 0.0);
      REQUIRE(p <= 1.0);
      REQUIRE(lp <= 0.0);  // false for NaN too
      REQUIRE(pc >= 0.0);
      REQUIRE(pc <= 1.0);
      // -inf only for an exact zero; and an exact zero is -inf.
      REQUIRE(std::isinf(lp) == static_cast<bool>(zero[v]));
      const double llps = ev.log_likelihood_per_step(v, j);
      REQUIRE_FALSE(std::isnan(llps));
      REQUIRE(std::isinf(llps) == static_cast<bool>(zero[v]));
      REQUIRE(pc >= p - kTol);
      if (n.is_task) {
        for (const Metric& m : model.metrics(v)) {
          const double y = ev.metric(v, m, j);
          INFO("metric " << metric_label(m));
          REQUIRE_FALSE(std::isnan(y));
          if (metric_is_probability(m)) {
            REQUIRE(y >= 0.0);
            REQUIRE(y <= 1.0);
          } else {
            REQUIRE(y <= 0.0);
            REQUIRE(std::isinf(y) == static_cast<bool>(zero[v]));
          }
          ++checked;
        }
        // The gate bounds, on the gate's value before the guess floor.
        const double g = n.guess;
        const double gate = g > 0 ? (p - g) / (1 - g) : p;
        const double slack = g > 0 ? 1e-9 : kTol;
        if (n.gate == GateKind::all)
          for (const Use& u : n.uses) REQUIRE(gate <= ev.p(u.node, j) + slack);
        if (n.gate == GateKind::any)
          for (const Use& u : n.uses) REQUIRE(gate >= ev.p(u.node, j) - slack);
      }
      if (monotone_expected && j > 0) {
        // Relative slack: the engine's log-space sums round differently at
        // different points.
        REQUIRE(lp >= ev.log_p(v, j - 1) - 1e-9 * (1 + std::abs(lp)));
        REQUIRE(p >= ev.p(v, j - 1) - 1e-12);
      }
      ++checked;
    }
  }
  // Without partial credit (the bottleneck query's evaluation): the same
  // ln P to the bit, and partial credit worked out on demand from the rows.
  EvalOptions p_only;
  p_only.partial_credit = false;
  const Evaluation ev_p = evaluate(model, xs, p_only);
  for (std::size_t v = 0; v < model.size(); ++v)
    for (std::size_t j = 0; j < xs.size(); ++j) {
      INFO("node " << model.node(v).id << ", x = " << xs[j] << ", P only");
      REQUIRE(std::bit_cast<std::uint64_t>(ev_p.log_p(v, j)) == std::bit_cast<std::uint64_t>(ev.log_p(v, j)));
      REQUIRE_THAT(ev_p.partial_credit(v, j), Catch::Matchers::WithinAbs(ev.partial_credit(v, j), 1e-12));
      ++checked;
    }
  return checked;
}

}  // namespace

// Found by fuzz/fuzz_spec (ln P = +5.6e-17 for a floor-0.1 logistic skill
// at 1e30) and by the random specs below (NaN): a skill with a floor and a
// curve at 1 (floor 0.0626 + 0.9374 * 1) rounded to ln P = +5.6e-17, and a
// best_of over it computed log(1 - e^a) of a positive a: NaN in every output.
// Fixed in leaf_log_p (graph/curve_eval.cpp), which now clamps to
// [ln floor, ln ceiling].
TEST_CASE("properties: a certain skill with a floor has ln P = 0 and best_of over it is 1", "[properties]") {
  capgraph::testing::Builder b;
  Curve one;
  one.kind = CurveKind::constant;
  one.value = 1;
  const std::size_t s = b.skill("s", one, 0.062551400821552028, 1.0);
  const std::size_t t = b.task("t", GateKind::best_of, {{s, 1.0}}, 0, 0, 1);
  Curve c = one;
  c.value = 0.3;
  const std::size_t low = b.skill("low", c, 0.2, 0.7000000000000001);
  const Model model = Model::compile(b.spec);
  const std::vector<double> xs{1e3, 1e10};
  const Evaluation ev = evaluate(model, xs);
  for (std::size_t j = 0; j < xs.size(); ++j) {
    CHECK(ev.log_p(s, j) == 0.0);
    CHECK(ev.p(t, j) == 1.0);
    CHECK(ev.log_p(t, j) == 0.0);
    CHECK(ev.p(low, j) >= 0.2);
    CHECK(ev.p(low, j) <= 0.7000000000000001);
  }
}

TEST_CASE("properties: random specs, independent uses", "[properties]") {
  std::mt19937_64 rng(20261126);
  std::size_t checked = 0;
  for (int i = 0; i < 300; ++i) {
    RandomModelOptions o;
    o.leaves = 2 + static_cast<int>(rng() % 8);
    o.tasks = 1 + static_cast<int>(rng() % 12);
    o.compute_axis = i % 3 == 2;
    const ModelSpec spec = random_smooth_model(rng, o);
    INFO("model " << i);
    checked += check_model(spec, true);
  }
  CHECK(checked > 50'000);
}

TEST_CASE("properties: random specs with exact zeros", "[properties]") {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200; ++i) {
    RandomModelOptions o;
    o.leaves = 2 + static_cast<int>(rng() % 6);
    o.tasks = 1 + static_cast<int>(rng() % 10);
    o.zero_leaves = true;
    const ModelSpec spec = random_smooth_model(rng, o);
    INFO("model " << i);
    check_model(spec, true);
  }
}

TEST_CASE("properties: random specs with shared skills", "[properties]") {
  // Shannon expansion keeps a coherent structure monotone in every skill.
  std::mt19937_64 rng(99);
  for (int i = 0; i < 150; ++i) {
    RandomModelOptions o;
    o.leaves = 2 + static_cast<int>(rng() % 6);
    o.tasks = 1 + static_cast<int>(rng() % 8);
    o.shared_fraction = 0.5;
    o.zero_leaves = i % 2 == 1;
    const ModelSpec spec = random_smooth_model(rng, o);
    INFO("model " << i);
    check_model(spec, true);
  }
}

// ---------------------------------------------------------------------------
// The CLI's outputs of random specs: written as YAML, run through eval,
// sweep and bottleneck in CSV and JSON.

namespace {

std::string num17(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string ref_list(const ModelSpec& s, const NodeSpec& n) {
  std::string out = "[";
  for (std::size_t i = 0; i < n.uses.size(); ++i) {
    if (i) out += ", ";
    const Use& u = n.uses[i];
    const std::string& id = s.nodes[u.node].id;
    out += u.count == 1 && n.gate != GateKind::mean ? id : "{" + id + ": " + num17(u.count) + "}";
  }
  return out + "]";
}

// A spec file for `s` (format v1; docs/spec-format.md).
std::string to_yaml(const ModelSpec& s) {
  std::ostringstream y;
  y << "capgraph: 1\nname: random\nscale:\n  axis: " << (s.scale.axis == Axis::compute ? "compute" : "params")
    << "\n  range: [" << num17(s.scale.from) << ", " << num17(s.scale.to) << "]\n";
  if (s.scale.data_limit) y << "  data_limit: " << num17(*s.scale.data_limit) << "\n";
  y << "skills:\n";
  for (const NodeSpec& n : s.nodes) {
    if (n.is_task) continue;
    y << "  " << n.id << ":\n    curve: {";
    const Curve& c = n.curve;
    switch (c.kind) {
      case CurveKind::logistic: y << "logistic: {mid: " << num17(c.mid) << ", slope: " << num17(c.slope) << "}"; break;
      case CurveKind::power_law: y << "power_law: {c: " << num17(c.c) << ", alpha: " << num17(c.alpha) << "}"; break;
      case CurveKind::chinchilla: y << "chinchilla: {weight: " << num17(c.weight) << "}"; break;
      case CurveKind::constant: y << "constant: " << num17(c.value); break;
      case CurveKind::points:
        y << "points: [";
        for (std::size_t i = 0; i < c.knots.size(); ++i)
          y << (i ? ", " : "") << "[" << num17(c.knots[i].first) << ", " << num17(c.knots[i].second) << "]";
        y << "]";
        break;
    }
    y << "}\n    floor: " << num17(n.floor) << "\n    ceiling: " << num17(n.ceiling) << "\n";
    if (n.shared) y << "    shared: true\n";
  }
  y << "tasks:\n";
  for (const NodeSpec& n : s.nodes) {
    if (!n.is_task) continue;
    y << "  " << n.id << ":\n    ";
    switch (n.gate) {
      case GateKind::all: y << "all: " << ref_list(s, n); break;
      case GateKind::any: y << "any: " << ref_list(s, n); break;
      case GateKind::mean: y << "mean: " << ref_list(s, n); break;
      case GateKind::at_least: y << "at_least: {k: " << n.k << ", of: " << ref_list(s, n) << "}"; break;
      case GateKind::best_of: y << "best_of: {n: " << n.best_n << ", of: " << s.nodes[n.uses[0].node].id << "}"; break;
    }
    y << "\n";
    if (n.guess > 0) y << "    guess: " << num17(n.guess) << "\n";
    if (n.threshold) y << "    threshold: " << num17(*n.threshold) << "\n";
    if (!n.metrics.empty()) {
      y << "    metrics: [";
      for (std::size_t i = 0; i < n.metrics.size(); ++i) {
        const Metric& m = n.metrics[i];
        y << (i ? ", " : "");
        if (m.kind == MetricKind::multiple_choice || m.kind == MetricKind::pass_at)
          y << "{" << metric_kind_name(m.kind) << ": " << m.k << "}";
        else
          y << metric_kind_name(m.kind);
      }
      y << "]\n";
    }
  }
  return y.str();
}

using capgraph::testing::CliRun;
using capgraph::testing::run_cli;  // every path passed is absolute

// Every CSV cell: never "nan"; "inf"/"-inf" only on a log-likelihood row or column.
void check_csv(const std::string& text) {
  std::istringstream is(text);
  std::string line, header;
  std::getline(is, header);
  std::vector<std::string> cols;
  {
    std::istringstream hs(header);
    std::string c;
    while (std::getline(hs, c, ',')) cols.push_back(c);
  }
  while (std::getline(is, line)) {
    std::istringstream ls(line);
    std::string cell;
    std::size_t i = 0;
    const bool ll_row = line.find("log_likelihood") != std::string::npos;
    while (std::getline(ls, cell, ',')) {
      INFO(line);
      REQUIRE(cell != "nan");
      if (cell == "inf" || cell == "-inf") {
        const bool ll_col = i < cols.size() && cols[i].find("log") != std::string::npos;
        REQUIRE(cell == "-inf");
        REQUIRE((ll_row || ll_col));
      }
      ++i;
    }
  }
}

// Every null in a JSON document sits under a key allowed to be null.
void check_json_nulls(const nlohmann::json& j, const std::string& key, bool ll_series) {
  if (j.is_null()) {
    INFO("null at key `" << key << "`");
    // Emergence measures that may not exist, and bottleneck's scale drive
    // (leaves only; a NaN drive of a leaf would show as "nan" in the CSV check).
    static const std::vector<std::string> optional_keys = {
        "breakthroughness", "x10", "x90", "transition_width_decades", "threshold", "crossing", "scale_drive"};
    const bool optional = std::find(optional_keys.begin(), optional_keys.end(), key) != optional_keys.end();
    const bool log_value = ll_series || key.find("log") != std::string::npos;
    REQUIRE((optional || log_value));
    return;
  }
  if (j.is_number()) {
    REQUIRE_FALSE(std::isnan(j.get<double>()));
    return;
  }
  if (j.is_array()) {
    for (const auto& e : j) check_json_nulls(e, key, ll_series);
    return;
  }
  if (j.is_object()) {
    const bool ll = ll_series || (j.contains("metric") && j["metric"].is_string() &&
                                  j["metric"].get<std::string>().find("log_likelihood") != std::string::npos);
    for (auto it = j.begin(); it != j.end(); ++it) check_json_nulls(it.value(), it.key(), ll && it.key() == "values");
  }
}

}  // namespace

TEST_CASE("properties: CLI CSV and JSON of random specs hold no NaN", "[properties][cli]") {
  std::mt19937_64 rng(4242);
  const auto dir = std::filesystem::temp_directory_path() / ("capgraph_properties_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (int i = 0; i < 6; ++i) {
    RandomModelOptions o;
    o.leaves = 3 + static_cast<int>(rng() % 5);
    o.tasks = 2 + static_cast<int>(rng() % 6);
    o.zero_leaves = i % 3 == 2;
    o.shared_fraction = i % 2 ? 0.3 : 0.0;
    o.compute_axis = i == 4;
    const ModelSpec spec = random_smooth_model(rng, o);
    const std::string path = (dir / ("random" + std::to_string(i) + ".yaml")).string();
    {
      std::ofstream f(path);
      f << to_yaml(spec);
    }
    INFO("spec " << path << ":\n" << to_yaml(spec));
    REQUIRE(run_cli("check '" + path + "'").code == 0);
    const std::string last = spec.nodes.back().id;
    for (const std::string& at : {"1e3", "1e10", "1e16"}) {
      const CliRun csv = run_cli("eval '" + path + "' --at " + at + " --format csv");
      REQUIRE(csv.code == 0);
      check_csv(csv.out);
      const CliRun js = run_cli("eval '" + path + "' --at " + at + " --format json");
      REQUIRE(js.code == 0);
      check_json_nulls(nlohmann::json::parse(js.out), "", false);
      const CliRun bcsv = run_cli("bottleneck '" + path + "' --task " + last + " --at " + at + " --format csv");
      REQUIRE(bcsv.code == 0);
      check_csv(bcsv.out);
      const CliRun bjs = run_cli("bottleneck '" + path + "' --task " + last + " --at " + at + " --format json");
      REQUIRE(bjs.code == 0);
      check_json_nulls(nlohmann::json::parse(bjs.out), "", false);
    }
    const std::string range = spec.scale.axis == Axis::compute ? " --from 1e10 --to 1e32" : " --from 1e3 --to 1e16";
    const CliRun sc = run_cli("sweep '" + path + "'" + range + " --points 15 --format csv");
    REQUIRE(sc.code == 0);
    check_csv(sc.out);
    const CliRun ss = run_cli("sweep '" + path + "'" + range + " --points 15 --format csv --summary");
    REQUIRE(ss.code == 0);
    check_csv(ss.out);
    const CliRun sj = run_cli("sweep '" + path + "'" + range + " --points 15 --format json");
    REQUIRE(sj.code == 0);
    check_json_nulls(nlohmann::json::parse(sj.out), "", false);
  }
  std::filesystem::remove_all(dir);
}
