// capgraph/cli/limits.hpp — the resource limits of the command line: each
// has the library's default (specs::LoadOptions, EvalOptions,
// MonteCarloOptions: defined once, there), a --max-* flag to raise it, and
// an error that names both. The flags go into one "Limits" option group,
// after a command's own options; a command shows only the limits that
// apply to it (docs/cli.md, "Limits").
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <string>

#include "graph/evaluation.hpp"
#include "specs/load.hpp"

namespace capgraph::cli {

/// The "Limits" option group of a subcommand (created on first use).
CLI::App& limits_group(CLI::App& app);

struct Limits {
  std::size_t max_bytes = specs::LoadOptions{}.max_bytes;  ///< specs and observation files
  std::size_t max_nodes = specs::LoadOptions{}.max_nodes;
  double max_uses = specs::LoadOptions{}.max_uses;  ///< largest count in one reference
  int max_points = specs::LoadOptions{}.max_points;  ///< most sweep points (flag or scale.points)
  int max_shared_expanded = EvalOptions{}.max_shared_expanded;
  double max_shared_work = EvalOptions{}.max_shared_work;
  std::size_t max_bdd_nodes = EvalOptions{}.max_bdd_nodes;
  double max_at_least_work = EvalOptions{}.max_at_least_work;

  /// Which limits a command takes.
  enum Applies : unsigned {
    kBytes = 1,   ///< --max-bytes: the command reads a spec or an observations file
    kSpec = 2,    ///< --max-nodes, --max-uses, --max-points: it reads a spec
    kEngine = 4,  ///< --max-bdd-nodes, --max-shared-work, --max-shared-expanded, --max-at-least-work: it evaluates
  };
  void add_limits(CLI::App& app, unsigned which);

  /// The spec loader's options from the flags.
  specs::LoadOptions load() const;
  /// Engine options from the flags (threads as given).
  EvalOptions engine(unsigned threads = 1) const;
  /// `n` sweep points from the flag `flag`; Failure(2) naming the limit and
  /// --max-points when n exceeds max_points.
  int check_points(const std::string& flag, int n) const;
};

}  // namespace capgraph::cli
