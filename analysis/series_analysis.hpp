// capgraph/analysis/series_analysis.hpp — is a jump real or a metric artefact?
//
// For each (task, family, metric) series of observations ordered by scale:
// the emergence measures of docs/measures.md §5 (graph/emergence.hpp, reused:
// breakthroughness, transition width, threshold crossing) and
// monotonicity. Series are oriented so that "better" is up: a
// lower-is-better metric (Brier, loss) is analysed as -score, so a positive
// breakthroughness always means improvement with scale. A continuous
// metric (BLEU, Brier, partial credit) scored on the same outputs as a
// discrete one (exact match, accuracy) of the same task and family is
// paired with it, so the two measures sit side by side.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "observations.hpp"
#include "../graph/emergence.hpp"

namespace capgraph::analysis {

struct AnalyzeOptions {
  double threshold = 0.5;     ///< crossing level for metrics valued in [0, 1]
  bool compute_axis = false;  ///< x = train_flops instead of params
};

struct SeriesAnalysis {
  Series series;
  MetricInfo metric;
  /// Measures of the oriented series (higher = better). y_min/y_max below
  /// are in the metric's own units (scaled: BLEU / 100).
  EmergenceSummary summary;
  double value_min = 0, value_max = 0;  ///< range of the (scaled) values, own orientation
  std::size_t steps = 0;                ///< consecutive pairs
  std::size_t steps_better = 0;         ///< pairs where the next (larger) model is strictly better
  std::size_t steps_worse = 0;          ///< ... strictly worse
  bool monotone = false;                ///< never worse from one model to the next
  /// Index (into the result) of the discrete series of the same task and
  /// family that this continuous one was scored alongside.
  std::optional<std::size_t> paired_with;
};

/// Analyses every series of `set`, in group_series order. O(rows log rows).
std::vector<SeriesAnalysis> analyze_series(const ObservationSet& set, const AnalyzeOptions& options = {});

}  // namespace capgraph::analysis
