// capgraph/graph/emergence.hpp — how "emergent" a curve looks (docs/measures.md §5).
//
// All measures take a series y_1..y_m over increasing scale x_1 < ... < x_m
// (x > 0). Non-finite y values (ln 0 = -inf) are skipped.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

namespace capgraph {

/// The fewest finite points a measure is computed from (docs/measures.md
/// §5). Breakthroughness: with 3 points the median squared step is the mean
/// of both steps, so a monotone series can only give a value in [sqrt 2, 2]
/// whatever its shape; from 4 points on the median can pass over a jump.
/// Transition width: with 2 points x10 and x90 are both interpolated on the
/// one segment, so the width is 0.8 of its decades whatever the values.
inline constexpr std::size_t kMinPointsBreakthroughness = 4;
inline constexpr std::size_t kMinPointsTransitionWidth = 3;

struct EmergenceSummary {
  std::size_t points = 0;  ///< finite points the measures were computed from
  double y_min = 0, y_max = 0;
  /// BIG-bench breakthroughness: sign(argmax - argmin) * (max - min) /
  /// sqrt(median_i (y_i - y_{i-1})^2). nullopt when undefined: fewer than
  /// kMinPointsBreakthroughness finite points, or a median squared step of 0
  /// with max > min. 0 for a flat series (of enough points).
  std::optional<double> breakthroughness;
  /// Scale where y first reaches y_min + 0.1 (y_max - y_min) and
  /// y_min + 0.9 (y_max - y_min) (falling series: y_max - 0.1 r and
  /// y_max - 0.9 r), linear in log10 x between points. nullopt if flat.
  std::optional<double> x10, x90;
  /// log10(x90) - log10(x10), decades (>= 0 for rising, also for falling).
  std::optional<double> transition_width;
  /// Smallest x with y >= threshold (interpolated in log10 x), if asked and reached.
  std::optional<double> crossing;
  bool threshold_reached_at_start = false;  ///< y_1 >= threshold already
  /// Non-decreasing over the whole sweep (ties allowed).
  bool monotone_increasing = false;
  bool monotone_decreasing = false;
};

/// Analyses one series. `threshold` is applied only when given (metrics in
/// [0, 1]). O(m log m) for the median.
EmergenceSummary analyze_emergence(std::span<const double> x, std::span<const double> y,
                                   std::optional<double> threshold = std::nullopt);

/// The first x where the series reaches `level` (rising) — interpolated
/// linearly in log10 x between the bracketing points; nullopt if never.
std::optional<double> first_crossing_up(std::span<const double> x, std::span<const double> y, double level);
/// The same for a falling series: first x where y <= level.
std::optional<double> first_crossing_down(std::span<const double> x, std::span<const double> y, double level);

}  // namespace capgraph
