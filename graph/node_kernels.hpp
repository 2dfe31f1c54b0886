// capgraph/graph/node_kernels.hpp — internal: one node's ln P over a block of
// scale points, shared by the sweep (evaluation.cpp) and the bottleneck
// query's re-evaluations (importance.cpp). Not part of the public API.
#pragma once

#include <cstddef>
#include <vector>

#include "evaluation.hpp"
#include "model.hpp"
#include "successes.hpp"

namespace capgraph::detail {

struct Workspace {
  std::vector<double> acc;   // one block of points
  std::vector<double> tmp;   // one block of points
  std::vector<double> pq;    // at_least: P and 1 - P of every use over the block
  std::vector<double> dist;  // at_least DP
  std::vector<double> ldist; // at_least DP in log space (tiny probabilities)
  std::vector<TrialGroup> groups;  // at_least past the fold's size: the uses at one point
  /// The most term updates one at_least gate may take at one point
  /// (EvalOptions::max_at_least_work), and the model whose task is named
  /// when it is exceeded.
  double max_at_least_work = EvalOptions{}.max_at_least_work;
  const Model* model = nullptr;
  /// Makes acc and tmp hold at least `points` values.
  void reserve_points(std::size_t points) {
    if (acc.size() < points) acc.resize(points);
    if (tmp.size() < points) tmp.resize(points);
  }
};

/// Per-point values every leaf needs, computed once per evaluation.
struct PointCache {
  std::vector<double> log10N, lnN;
  std::vector<double> reducible;  ///< A / N^alpha + B / D^beta (the `chinchilla` curve's loss)
  PointCache(const std::vector<ScalePoint>& pts, const ScalingLaw& law);
};

/// ln P of task v at points [j0, j1) into row[j0..j1), reading child c's
/// ln P at logp[c * stride + j]. The workspace grows as needed.
void eval_task(const Model& m, std::size_t v, const double* logp, std::size_t stride, double* row, std::size_t j0,
               std::size_t j1, Workspace& ws);

/// Throws ModelError: the at_least gate of `node` needs `work` term updates
/// at one point over `groups` distinct probabilities, past `limit` (the
/// message names the task, the limit and --max-at-least-work).
[[noreturn]] void at_least_too_costly(const Model* model, double limit, std::size_t node, std::size_t k,
                                      std::size_t groups, double work);

}  // namespace capgraph::detail
