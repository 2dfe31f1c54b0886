// capgraph/graph/monte_carlo.hpp — seeded Monte Carlo estimates of P_v(x).
//
// The cross-check of the exact engine (evaluate(), docs/measures.md §2 and §4)
// and the fallback where exact shared-skill evaluation costs too much. It
// samples the outcome of every use, exactly as the semantics describe one
// instance of a task, and averages.
//
// What one sample of node v is:
//   - every use of a child is an independent trial, except for `shared`
//     skills: a shared skill has one outcome per sample of v (drawn lazily
//     the first time any use inside v needs it, then reused by every use in
//     v's whole cone, including the n attempts of a best_of and the nested
//     tasks' repeated uses — docs/measures.md §4);
//   - leaf: a coin with the leaf's P at the point (floor/ceiling applied);
//   - `all` / `any`: the uses in spec order, each use of count n = m + f
//     (m integer, 0 <= f < 1) being m independent trials plus, if f > 0, one
//     "fractional use" that succeeds with probability P^f under `all` and
//     1 - (1-P)^f under `any` (so the gate is prod P_i^n_i, resp.
//     1 - prod (1-P_i)^n_i, as in 3.1). For a task child the fractional
//     use is an exact Bernoulli factory: draw
//     K ~ Sibuya(f) (P(K = k | K >= k) = f / k) and succeed iff at least one
//     (`all`) / all (`any`) of K independent trials of the child succeed —
//     E over K gives exactly P^f, resp. 1 - (1-P)^f, conditionally on the
//     shared outcomes;
//     The n uses of an independent leaf are sampled at once, as one coin
//     with P^n (`all`) or 1 - (1-P)^n (`any`; `best_of`: 1 - (1-P)^N) —
//     the same law, one draw; a shared leaf is looked up once per use list;
//   - `at_least k`: the multiset of uses, one trial each (a shared leaf's
//     uses succeed or fail together);
//   - `best_of n`: n independent attempts of its reference (which share the
//     shared-skill outcomes of the sample);
//   - `mean`: where v itself is a mean, the sample value is the weighted
//     average of one sampled outcome (0/1) of each child; a mean used as a
//     child of another gate yields a 0/1 outcome by picking one use with
//     probability w_i / sum w and sampling that child (same expectation);
//   - `guess g`: one more coin with probability g (success short-circuits
//     the gate). Where v itself is a mean the coin is averaged out exactly:
//     the sample value is g + (1 - g) * (weighted average).
// Evaluation short-circuits (an `all` stops at its first failure, `any` at
// its first success, `at_least` once decided, best_of at the first success):
// the trials it skips are independent of everything sampled, and shared
// outcomes are drawn only when first needed, so skipping changes nothing
// but the cost.
//
// The estimate of (v, point j) uses its own std::mt19937_64, seeded from
// (seed, v, j) through splitmix64 mixing, and draws uniforms as
// (rng() >> 11) * 2^-53: results are identical for a given seed on every
// platform, for any thread count and any order or subset of `nodes`.
//
// Standard error: for 0/1 samples sqrt(p (1 - p) / (n - 1)) with p the
// sample mean; for a mean gate the sample standard deviation (n - 1
// denominator) over sqrt(n). (The two agree for 0/1 samples.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "graph/model.hpp"
#include "graph/overrides.hpp"
#include "graph/scale_axis.hpp"

namespace capgraph {

struct MonteCarloOptions {
  /// Samples per node and point (>= 2, for a standard error).
  std::uint64_t samples = 100000;
  /// Seed of every generator (mixed with the node and point index).
  std::uint64_t seed = 1;
  /// Refuse a node whose one sample may expand to more trials than this
  /// (command line: --max-mc-trials). See monte_carlo_trials_per_sample().
  double max_trials_per_sample = 1e6;
  /// Worker threads over the (node, point) pairs; 0 = hardware concurrency.
  /// The results do not depend on it.
  unsigned threads = 1;
  /// Nodes sampled with another curve, or forced to a constant P
  /// (graph/overrides.hpp): the estimates are those on the spec with those
  /// nodes so declared, for the same seed. Empty: the model as compiled.
  Overrides overrides;
};

/// A sample mean and its standard error.
struct Estimate {
  double mean = 0;
  double std_error = 0;
};

/// The estimates of monte_carlo(): one Estimate per requested node and point.
class MonteCarloEstimate {
 public:
  /// The estimated P of node v at point j. Throws std::out_of_range if v
  /// was not among the requested nodes or j >= num_points().
  Estimate p(std::size_t v, std::size_t j) const;
  /// True if node v was estimated.
  bool has(std::size_t v) const { return v < row_.size() && row_[v] >= 0; }

  /// The estimated nodes, as requested (or every task, in spec order).
  const std::vector<std::size_t>& nodes() const { return nodes_; }
  std::size_t num_points() const { return points_.size(); }
  const std::vector<ScalePoint>& points() const { return points_; }
  std::uint64_t samples() const { return samples_; }
  std::uint64_t seed() const { return seed_; }

 private:
  friend MonteCarloEstimate monte_carlo(const Model&, std::span<const double>, const MonteCarloOptions&,
                                        const std::vector<std::size_t>&);
  std::vector<std::size_t> nodes_;
  std::vector<std::ptrdiff_t> row_;  // node -> row in est_, -1 = not estimated
  std::vector<ScalePoint> points_;
  std::vector<Estimate> est_;        // row-major: row * points + j
  std::uint64_t samples_ = 0;
  std::uint64_t seed_ = 0;
};

/// Monte Carlo estimate of P_v at every axis value in xs for every node v in
/// `nodes` (empty = every task of the model).
///
/// Inputs: a compiled model (shared skills allowed); xs: axis values (each
/// > 0 and finite); options; nodes: node indices (skills allowed: their
/// estimate samples the leaf's coin).
/// Output: the estimates; est.p(v, j).mean is within a few std_error of
/// the exact P_v(x_j) (evaluate()).
/// Complexity: O(|nodes| * |xs| * samples * T) time, where T <= the node's
/// trials per sample (monte_carlo_trials_per_sample(); short-circuiting
/// usually makes it much smaller), plus O(nodes + uses) per point for the
/// leaf probabilities; memory O(model nodes * threads + |nodes| * |xs|).
/// The stack of the sampler is explicit (heap), as deep as the DAG: no
/// recursion, whatever the depth.
/// Errors: ModelError if samples < 2, an index in `nodes` is out of range,
/// an x is not positive and finite, or a node's trials per sample exceed
/// options.max_trials_per_sample (the message names the count, the limit
/// and the flag --max-mc-trials).
MonteCarloEstimate monte_carlo(const Model& model, std::span<const double> xs, const MonteCarloOptions& options = {},
                               const std::vector<std::size_t>& nodes = {});

/// The number of child trials one sample of node v makes without any
/// short-circuit: 0 for a skill; for a task, sum over its uses of
/// count * (1 + trials of the child) (best_of: n * (1 + trials of the
/// reference); mean: one trial of each child). That is the product of the
/// counts along every path, summed over the paths (every node instance on
/// the way counted once). A fractional count counts as its value. Computed
/// for all nodes in O(nodes + uses); may be +inf.
std::vector<double> monte_carlo_trials_per_sample(const Model& model);

}  // namespace capgraph
