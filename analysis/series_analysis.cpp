// capgraph/analysis/series_analysis.cpp
#include "analysis/series_analysis.hpp"

#include <algorithm>
#include <cstddef>
#include <tuple>

namespace capgraph::analysis {

namespace {

// Averages the scores of rows at one scale: x strictly increasing after.
// The tied values are summed in increasing order, so the mean does not
// depend on the rows' order in the file. Returns the number of such scales.
std::size_t average_ties(Series& s) {
  std::vector<double> x, y, tied;
  std::size_t scales = 0;
  for (std::size_t i = 0; i < s.x.size();) {
    std::size_t k = i;
    while (k < s.x.size() && s.x[k] == s.x[i]) ++k;
    if (k - i == 1) {
      y.push_back(s.y[i]);
    } else {
      tied.assign(s.y.begin() + static_cast<std::ptrdiff_t>(i), s.y.begin() + static_cast<std::ptrdiff_t>(k));
      std::sort(tied.begin(), tied.end());
      double sum = 0;
      for (double v : tied) sum += v;
      y.push_back(sum / static_cast<double>(tied.size()));
      ++scales;
    }
    x.push_back(s.x[i]);
    i = k;
  }
  s.x = std::move(x);
  s.y = std::move(y);
  return scales;
}

std::string note_of(const SeriesAnalysis& a) {
  std::string n;
  auto add = [&](const std::string& t) { n += (n.empty() ? "" : "; ") + t; };
  const std::size_t pts = a.summary.points;
  if (a.tied_scales)
    add(std::to_string(a.tied_scales) + (a.tied_scales == 1 ? " scale" : " scales") +
        " with several models: their scores averaged");
  if (pts < kMinPointsBreakthroughness)
    add("breakthroughness n/a: needs " + std::to_string(kMinPointsBreakthroughness) + " points, has " +
        std::to_string(pts));
  if (pts < kMinPointsTransitionWidth)
    add("transition width n/a: needs " + std::to_string(kMinPointsTransitionWidth) + " points, has " +
        std::to_string(pts));
  return n;
}

}  // namespace

std::vector<SeriesAnalysis> analyze_series(const ObservationSet& set, const AnalyzeOptions& options) {
  std::vector<Series> grouped = group_series(set, options.compute_axis);
  std::sort(grouped.begin(), grouped.end(), [](const Series& a, const Series& b) {
    return std::tie(a.task, a.family, a.metric) < std::tie(b.task, b.family, b.metric);
  });
  std::vector<SeriesAnalysis> out;
  for (auto& s : grouped) {
    SeriesAnalysis a;
    a.tied_scales = average_ties(s);
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
    a.note = note_of(a);
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
