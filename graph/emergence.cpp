// capgraph/graph/emergence.cpp — docs/measures.md §5.
#include "graph/emergence.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace capgraph {

namespace {

// x where the segment (x0, y0) -> (x1, y1) reaches `level`, linear in log10 x.
double interp_log(double x0, double y0, double x1, double y1, double level) {
  if (y1 == y0) return x1;
  const double t = (level - y0) / (y1 - y0);
  const double l0 = std::log10(x0), l1 = std::log10(x1);
  return std::pow(10.0, l0 + t * (l1 - l0));
}

template <class Reached>
std::optional<double> first_crossing(std::span<const double> x, std::span<const double> y, double level, Reached reached) {
  std::size_t prev = x.size();
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(y[i])) continue;
    if (reached(y[i], level)) {
      if (prev == x.size()) return x[i];  // already there at the first point
      return interp_log(x[prev], y[prev], x[i], y[i], level);
    }
    prev = i;
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> first_crossing_up(std::span<const double> x, std::span<const double> y, double level) {
  return first_crossing(x, y, level, [](double v, double l) { return v >= l; });
}

std::optional<double> first_crossing_down(std::span<const double> x, std::span<const double> y, double level) {
  return first_crossing(x, y, level, [](double v, double l) { return v <= l; });
}

EmergenceSummary analyze_emergence(std::span<const double> x, std::span<const double> y, std::optional<double> threshold) {
  EmergenceSummary s;
  std::vector<double> fx, fy;  // finite points only
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i)
    if (std::isfinite(y[i])) {
      fx.push_back(x[i]);
      fy.push_back(y[i]);
    }
  s.points = fy.size();
  if (fy.empty()) return s;
  const auto mn = std::min_element(fy.begin(), fy.end()), mx = std::max_element(fy.begin(), fy.end());
  s.y_min = *mn;
  s.y_max = *mx;
  const double range = s.y_max - s.y_min;
  s.monotone_increasing = std::is_sorted(fy.begin(), fy.end());
  s.monotone_decreasing = std::is_sorted(fy.rbegin(), fy.rend());

  if (fy.size() < kMinPointsBreakthroughness) {
    // too few points to tell a jump from a steady rise (emergence.hpp)
  } else if (range == 0) {
    s.breakthroughness = 0.0;
  } else {
    std::vector<double> sq(fy.size() - 1);
    for (std::size_t i = 1; i < fy.size(); ++i) sq[i - 1] = (fy[i] - fy[i - 1]) * (fy[i] - fy[i - 1]);
    // median: mean of the two middle values for an even count
    std::sort(sq.begin(), sq.end());
    const std::size_t h = sq.size() / 2;
    const double med = sq.size() % 2 ? sq[h] : 0.5 * (sq[h - 1] + sq[h]);
    if (med > 0) {
      const double sign = (mx - fy.begin()) >= (mn - fy.begin()) ? 1.0 : -1.0;
      s.breakthroughness = sign * range / std::sqrt(med);
    }
  }

  if (range > 0 && fy.size() >= kMinPointsTransitionWidth) {
    const bool rising = (mx - fy.begin()) >= (mn - fy.begin());
    if (rising) {
      s.x10 = first_crossing_up(fx, fy, s.y_min + 0.1 * range);
      s.x90 = first_crossing_up(fx, fy, s.y_min + 0.9 * range);
    } else {
      s.x10 = first_crossing_down(fx, fy, s.y_max - 0.1 * range);
      s.x90 = first_crossing_down(fx, fy, s.y_max - 0.9 * range);
    }
    if (s.x10 && s.x90) s.transition_width = std::log10(*s.x90) - std::log10(*s.x10);
  }
  if (threshold) {
    s.crossing = first_crossing_up(fx, fy, *threshold);
    s.threshold_reached_at_start = fy.front() >= *threshold;
  }
  return s;
}

}  // namespace capgraph
