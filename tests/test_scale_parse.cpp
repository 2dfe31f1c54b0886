// parse_scale (graph/scale_text.hpp): scales as people write them.
#include <catch2/catch.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include "graph/scale_text.hpp"

using capgraph::parse_scale;

namespace {
// The double nearest a decimal text, independently of parse_scale.
double nearest(const std::string& text) {
  double v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}
}  // namespace

TEST_CASE("parse_scale reads plain numbers exactly as from_chars does", "[scale]") {
  for (const char* t : {"7e10", "1e24", "70000000000", "1.5e12", "3e8", "0.5", "123.456", "1E3", "2.5e-3"})
    CHECK(parse_scale(t) == nearest(t));
}

TEST_CASE("parse_scale reads SI suffixes as decimal exponents, any case", "[scale]") {
  CHECK(parse_scale("70B") == 7e10);
  CHECK(parse_scale("70b") == 7e10);
  CHECK(parse_scale("70G") == 7e10);
  CHECK(parse_scale("1.5T") == 1.5e12);
  CHECK(parse_scale("300M") == 3e8);
  CHECK(parse_scale("300m") == 3e8);
  CHECK(parse_scale("12k") == 12e3);
  CHECK(parse_scale("2P") == 2e15);
  // Read as text with an exponent, so no double rounding: 0.3 * 1e9 and
  // 1.1 * 1e12 in floating point are not the doubles nearest 3e8 and 1.1e12
  // in every case; the parse is.
  CHECK(parse_scale("0.3B") == nearest("0.3e9"));
  CHECK(parse_scale("1.1T") == nearest("1.1e12"));
  CHECK(parse_scale("4.7M") == nearest("4.7e6"));
  CHECK(parse_scale(".5K") == 500);
}

TEST_CASE("parse_scale refuses what is not a positive finite scale", "[scale]") {
  for (const char* t : {"", "B", "0", "0B", "-1", "-70B", "1e3B", "inf", "nan", "infB", "1e400", " 1e10", "1e10 ",
                        "70 B", "70BB", "70X", "1,000", "1_000", "+5", "0x10", "1.5.2T", ".B", "abc"})
    CHECK_FALSE(parse_scale(t).has_value());
}
