// capgraph/analysis/series_analysis.cpp
#include "analysis/series_analysis.hpp"

#include <algorithm>

namespace capgraph::analysis {

std::vector<SeriesAnalysis> analyze_series(const ObservationSet& set, const AnalyzeOptions& options) {
  std::vector<SeriesAnalysis> out;
  for (auto& s : group_series(set, options.compute_axis)) {
    SeriesAnalysis a;
    a.metric = set.metrics.at(s.metric);
    const double sign = a.metric.lower_is_better ? -1.0 : 1.0;
    std::vector<double> oriented(s.y.size());
    for (std::size_t i = 0; i < s.y.size(); ++i) oriented[i] = sign * s.y[i];
    const bool crossing = a.metric.unit_interval && !a.metric.lower_is_better;
    a.summary = analyze_emergence(s.x, oriented, crossing ? std::optional<double>(options.threshold) : std::nullopt);
    a.value_min = *std::min_element(s.y.begin(), s.y.end());
    a.value_max = *std::max_element(s.y.begin(), s.y.end());
    for (std::size_t i = 1; i < oriented.size(); ++i) {
      ++a.steps;
      if (oriented[i] > oriented[i - 1]) ++a.steps_better;
      if (oriented[i] < oriented[i - 1]) ++a.steps_worse;
    }
    a.monotone = a.steps_worse == 0;
    a.series = std::move(s);
    out.push_back(std::move(a));
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i].metric.discrete) continue;
    for (std::size_t j = 0; j < out.size(); ++j)
      if (out[j].metric.discrete && out[j].series.task == out[i].series.task &&
          out[j].series.family == out[i].series.family) {
        out[i].paired_with = j;
        break;
      }
  }
  return out;
}

}  // namespace capgraph::analysis
