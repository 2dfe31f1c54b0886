// tests/test_emergence.cpp — docs/measures.md §5 against values computed by hand.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "graph/emergence.hpp"

using namespace capgraph;
using Catch::Matchers::WithinRel;
using Catch::Matchers::WithinAbs;

TEST_CASE("breakthroughness, transition width and crossing of a hand-made series", "[emergence]") {
  const std::vector<double> x{1e8, 1e9, 1e10, 1e11, 1e12, 1e13};
  const std::vector<double> y{0, 0, 0.1, 0.5, 0.9, 1.0};
  // squared steps 0, .01, .16, .16, .01 -> median .01 -> sqrt .1; range 1 -> 10
  const auto s = analyze_emergence(x, y, 0.7);
  REQUIRE(s.breakthroughness);
  CHECK_THAT(*s.breakthroughness, WithinRel(10.0, 1e-12));
  // 10% level 0.1 reached exactly at 1e10, 90% level 0.9 exactly at 1e12
  REQUIRE(s.transition_width);
  CHECK_THAT(*s.x10, WithinRel(1e10, 1e-12));
  CHECK_THAT(*s.x90, WithinRel(1e12, 1e-12));
  CHECK_THAT(*s.transition_width, WithinAbs(2.0, 1e-12));
  // 0.7 lies half-way between 0.5 (1e11) and 0.9 (1e12): 10^11.5
  REQUIRE(s.crossing);
  CHECK_THAT(*s.crossing, WithinRel(std::pow(10.0, 11.5), 1e-12));
  CHECK(s.monotone_increasing);
  CHECK_FALSE(s.monotone_decreasing);
}

TEST_CASE("even number of steps: the median is the mean of the two middle ones", "[emergence]") {
  const std::vector<double> x{1, 10, 100, 1000, 10000};
  const std::vector<double> y{0.0, 0.1, 0.3, 0.6, 1.0};
  // squared steps .01 .04 .09 .16 -> median (.04 + .09)/2 = .065
  const auto s = analyze_emergence(x, y);
  CHECK_THAT(*s.breakthroughness, WithinRel(1.0 / std::sqrt(0.065), 1e-12));
  // 10% level 0.1 at x = 10; 90% level 0.9 between 1000 (0.6) and 10000 (1.0): t = 0.75
  CHECK_THAT(*s.x10, WithinRel(10.0, 1e-12));
  CHECK_THAT(*s.x90, WithinRel(std::pow(10.0, 3.75), 1e-12));
  CHECK_THAT(*s.transition_width, WithinAbs(2.75, 1e-12));
  CHECK_FALSE(s.crossing);  // no threshold asked
}

TEST_CASE("transition width does not depend on the grid for a logistic curve", "[emergence]") {
  // y = logistic(slope (log10 x - 10)); 10% and 90% at 10 -+ ln 9 / slope
  const double slope = 2.0;
  auto series = [&](int n) {
    std::vector<double> x(n), y(n);
    for (int i = 0; i < n; ++i) {
      x[i] = std::pow(10.0, 6 + 8.0 * i / (n - 1));
      y[i] = 1 / (1 + std::exp(-slope * (std::log10(x[i]) - 10)));
    }
    return analyze_emergence(x, y);
  };
  const auto coarse = series(201), fine = series(4001);
  const double ymin = 1 / (1 + std::exp(8.0)), ymax = 1 / (1 + std::exp(-8.0));
  const double r = ymax - ymin;
  auto inv = [&](double level) { return 10 + std::log(level / (1 - level)) / slope; };
  const double expected = inv(ymin + 0.9 * r) - inv(ymin + 0.1 * r);
  CHECK_THAT(*fine.transition_width, WithinAbs(expected, 1e-4));
  CHECK_THAT(*coarse.transition_width, WithinAbs(expected, 2e-3));
}

TEST_CASE("falling series, flat series and non-finite values", "[emergence]") {
  const std::vector<double> x{1e8, 1e9, 1e10, 1e11};
  const auto fall = analyze_emergence(x, std::vector<double>{1.0, 0.8, 0.2, 0.0});
  CHECK(*fall.breakthroughness < 0);
  // squared steps .04 .36 .04 -> median .04; range 1 -> -5
  CHECK_THAT(*fall.breakthroughness, WithinRel(-5.0, 1e-12));
  CHECK(fall.monotone_decreasing);
  const auto flat = analyze_emergence(x, std::vector<double>{0.3, 0.3, 0.3, 0.3}, 0.5);
  CHECK(*flat.breakthroughness == 0.0);
  CHECK_FALSE(flat.transition_width);
  CHECK_FALSE(flat.crossing);
  const double ninf = -std::numeric_limits<double>::infinity();
  // (four finite points: breakthroughness needs at least four)
  const auto ll = analyze_emergence(std::vector<double>{1e8, 1e9, 1e10, 1e11, 1e12},
                                    std::vector<double>{ninf, -3.0, -1.0, -0.7, -0.5});
  CHECK(ll.y_min == -3.0);
  CHECK(ll.breakthroughness.has_value());
  // a jump with zero median step: undefined, not infinite
  const auto step = analyze_emergence(std::vector<double>{1, 2, 3, 4, 5}, std::vector<double>{0, 0, 0, 1, 1});
  CHECK_FALSE(step.breakthroughness);
  const auto start = analyze_emergence(x, std::vector<double>{0.6, 0.7, 0.8, 0.9}, 0.5);
  CHECK(start.threshold_reached_at_start);
  CHECK(*start.crossing == 1e8);
}

TEST_CASE("too few points: breakthroughness needs 4, transition width 3", "[emergence]") {
  // 3 points: (max - min) / sqrt(mean of both squared steps) lies in [sqrt 2, 2]
  // for any monotone series, so it says nothing: n/a.
  const std::vector<double> x3{1e8, 1e9, 1e10};
  for (const auto& y : {std::vector<double>{0, 0.01, 1}, std::vector<double>{0, 0.5, 1}}) {
    const auto s = analyze_emergence(x3, y, 0.5);
    CHECK(s.points == 3);
    CHECK_FALSE(s.breakthroughness);
    CHECK(s.transition_width);  // 3 points are enough for the width
  }
  // 2 points: the width would be 0.8 of the gap whatever the values: n/a.
  const auto two = analyze_emergence(std::vector<double>{1e8, 1e10}, std::vector<double>{0.1, 0.9}, 0.5);
  CHECK_FALSE(two.breakthroughness);
  CHECK_FALSE(two.transition_width);
  CHECK_FALSE(two.x10);
  REQUIRE(two.crossing);  // the crossing is still where the segment meets 0.5
  CHECK_THAT(*two.crossing, WithinRel(1e9, 1e-12));
  // 1 point: n/a, not 0 (a flat series of enough points has 0).
  const auto one = analyze_emergence(std::vector<double>{1e9}, std::vector<double>{0.3}, 0.5);
  CHECK(one.points == 1);
  CHECK_FALSE(one.breakthroughness);
  CHECK_FALSE(one.transition_width);
  CHECK_FALSE(one.crossing);
  // 4 points: a jump over a steady rise is seen (median step 0.01 -> 0.97 / 0.1).
  const auto four = analyze_emergence(std::vector<double>{1, 10, 100, 1000}, std::vector<double>{0, 0.01, 0.02, 0.97});
  REQUIRE(four.breakthroughness);
  CHECK_THAT(*four.breakthroughness, WithinRel(0.97 / 0.01, 1e-12));
}
