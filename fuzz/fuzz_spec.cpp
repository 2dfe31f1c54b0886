// capgraph/fuzz/fuzz_spec.cpp — libFuzzer target: a spec's whole path.
//
// YAML text -> load + validate (specs/load.hpp) -> compile -> evaluate at a
// few scale points -> every metric of every task -> emergence summary ->
// bottleneck table of the last task -> a small Monte Carlo estimate.
// Bad input must end in diagnostics or a ModelError, never in a crash, a
// sanitizer report or a NaN. The work per input is capped (small size and
// node limits, small shared-skill and Monte Carlo budgets) so that one
// input cannot take seconds; the caps only make the fuzzer fast, the code
// paths are the ones the CLI runs.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_invariants.hpp"
#include "graph/emergence.hpp"
#include "graph/evaluation.hpp"
#include "graph/importance.hpp"
#include "graph/model.hpp"
#include "graph/monte_carlo.hpp"
#include "specs/load.hpp"

using namespace capgraph;
using fuzz::check_log_probability;
using fuzz::check_not_nan;
using fuzz::check_probability;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  specs::LoadOptions lo;
  lo.max_bytes = 16 << 10;
  lo.max_nodes = 64;
  lo.max_uses = 1000;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  specs::LoadResult r = specs::load_spec_text(text, "<fuzz>", lo);
  if (!r.ok()) {
    if (r.errors.empty()) fuzz::violated("rejected spec without a diagnostic", 0);
    for (const auto& d : r.errors) (void)d.to_string();
    return 0;
  }
  try {
    const Model model = Model::compile(std::move(*r.spec));
    EvalOptions eo;
    eo.max_shared_expanded = 8;
    eo.max_shared_work = 2e5;
    const ScaleSpec& sc = model.spec().scale;
    // Four points of the spec's own range (breakthroughness needs 4) plus both ends of a wide one.
    std::vector<double> xs = ScaleAxis::log_spaced(sc.from, sc.to, 4);
    xs.push_back(1e3);
    xs.push_back(1e30);
    const Evaluation ev = evaluate(model, xs, eo);
    for (std::size_t v = 0; v < model.size(); ++v) {
      for (std::size_t j = 0; j < xs.size(); ++j) {
        check_probability("P", ev.p(v, j));
        check_log_probability("ln P", ev.log_p(v, j));
        check_probability("partial credit", ev.partial_credit(v, j));
        check_not_nan("log-likelihood per step", ev.log_likelihood_per_step(v, j));
      }
    }
    const std::vector<double> own(xs.begin(), xs.begin() + 4);
    for (std::size_t t : model.tasks()) {
      for (const Metric& m : model.metrics(t)) {
        std::vector<double> y(4);
        for (std::size_t j = 0; j < 4; ++j) {
          y[j] = ev.metric(t, m, j);
          if (metric_is_probability(m)) check_probability("metric", y[j]);
          else check_not_nan("metric", y[j]);
        }
        const EmergenceSummary em = analyze_emergence(own, y, model.threshold(t));
        if (em.breakthroughness) check_not_nan("breakthroughness", *em.breakthroughness);
        if (em.transition_width) check_not_nan("transition width", *em.transition_width);
      }
    }
    if (!model.tasks().empty()) {
      const std::size_t task = model.tasks().back();
      const ImportanceTable tab = importance(model, task, own[1], ImportanceOrder::potential, eo);
      check_probability("bottleneck P_T", tab.p_task);
      check_not_nan("dP_T/dlog10 x", tab.dp_task_dlog10x);
      for (const Prerequisite& p : tab.rows) {
        check_probability("bottleneck P_i", p.p);
        check_not_nan("Birnbaum", p.birnbaum);
        check_not_nan("criticality", p.criticality);
        check_not_nan("improvement potential", p.improvement);
        if (p.drive) check_not_nan("scale drive", *p.drive);
      }
      MonteCarloOptions mo;
      mo.samples = 16;
      mo.max_trials_per_sample = 2000;
      const MonteCarloEstimate mc = monte_carlo(model, own, mo, {task});
      for (std::size_t j = 0; j < own.size(); ++j) {
        check_probability("Monte Carlo mean", mc.p(task, j).mean);
        check_not_nan("Monte Carlo standard error", mc.p(task, j).std_error);
      }
    }
  } catch (const ModelError&) {
    // Refused after loading (e.g. shared skills too costly): a clean error.
  }
  return 0;
}
