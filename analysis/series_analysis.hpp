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
#include <string>
#include <vector>

#include "observations.hpp"
#include "../graph/emergence.hpp"

namespace capgraph::analysis {

struct AnalyzeOptions {
  double threshold = 0.5;     ///< crossing level for metrics valued in [0, 1]
  bool compute_axis = false;  ///< x = train_flops instead of params
};

struct SeriesAnalysis {
  /// The series as analysed: one point per distinct scale, the scores of
  /// models tied at one scale averaged (series.rows keeps every row).
  Series series;
  std::size_t tied_scales = 0;  ///< scales at which several rows were averaged
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
  /// Why a measure is n/a for this series, and the ties averaged, in words
  /// ("" when there is nothing to say).
  std::string note;
};

/// Analyses every series of `set`, ordered by (task, family, metric), so
/// that the result does not depend on the order of the rows: models tied
/// at one scale are averaged (the tied scores summed in increasing order),
/// and a continuous series pairs with the first discrete one of its task
/// and family in that order. O(rows log rows).
std::vector<SeriesAnalysis> analyze_series(const ObservationSet& set, const AnalyzeOptions& options = {});

}  // namespace capgraph::analysis
