// capgraph/cli/limits.cpp — see limits.hpp.
#include "cli/limits.hpp"

#include "cli/common.hpp"  // number_check
#include "cli/failure.hpp"

namespace capgraph::cli {

CLI::App& limits_group(CLI::App& app) {
  try {
    return *app.get_option_group("Limits");
  } catch (const CLI::OptionNotFound&) {  // CLI11 2.1 throws for a group it does not have
    return *app.add_option_group("Limits", "Resource limits (each error names the flag that raises it)");
  }
}

void Limits::add_limits(CLI::App& app, unsigned which) {
  if (which == 0) return;
  CLI::App& g = limits_group(app);
  if (which & kBytes)
    g.add_option("--max-bytes", max_bytes, "Largest input file (spec or observations CSV) accepted, in bytes")
        ->capture_default_str();
  if (which & kSpec) {
    g.add_option("--max-nodes", max_nodes, "Most skills + tasks accepted in one spec")->capture_default_str();
    g.add_option("--max-uses", max_uses, "Largest use count (or weight) one reference may give")
        ->transform(number_check(Number::positive))
        ->capture_default_str();
    g.add_option("--max-points", max_points, "Most sweep points (--points or the spec's scale.points)")
        ->transform(number_check(Number::integer, 1))
        ->capture_default_str();
  }
  if (which & kEngine) {
    g.add_option("--max-bdd-nodes", max_bdd_nodes,
                 "Most nodes of the decision diagram that evaluates shared skills exactly")
        ->transform(number_check(Number::integer, 2, 1e9))
        ->capture_default_str();
    g.add_option("--max-shared-work", max_shared_work,
                 "Most node evaluations (diagram nodes x points) of exact shared-skill evaluation")
        ->transform(number_check(Number::positive))
        ->capture_default_str();
    g.add_option("--max-shared-expanded", max_shared_expanded,
                 "Most shared skills one task may correlate for exact evaluation (0: no limit)")
        ->transform(number_check(Number::integer, 0, 1000000))
        ->capture_default_str();
    g.add_option("--max-at-least-work", max_at_least_work,
                 "Most term updates one at_least gate may take at one point (uses of distinct probabilities)")
        ->transform(number_check(Number::positive))
        ->capture_default_str();
  }
}

specs::LoadOptions Limits::load() const {
  specs::LoadOptions lo;
  lo.max_bytes = max_bytes;
  lo.max_nodes = max_nodes;
  lo.max_uses = max_uses;
  lo.max_points = max_points;
  return lo;
}

EvalOptions Limits::engine(unsigned threads) const {
  EvalOptions o;
  o.threads = threads;
  o.max_shared_expanded = max_shared_expanded;
  o.max_shared_work = max_shared_work;
  o.max_bdd_nodes = max_bdd_nodes;
  o.max_at_least_work = max_at_least_work;
  return o;
}

int Limits::check_points(const std::string& flag, int n) const {
  if (n > max_points)
    throw Failure(kUsage, "error: " + flag + " " + std::to_string(n) + " exceeds the limit of " +
                              std::to_string(max_points) + " sweep points; raise it with --max-points");
  return n;
}

}  // namespace capgraph::cli
