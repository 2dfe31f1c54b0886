// Tests for text/: the number formats and the did-you-mean hints' distance.
#include <catch2/catch.hpp>

#include <charconv>
#include <clocale>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "text/number_format.hpp"
#include "text/suggest.hpp"

using namespace capgraph;

namespace {

// printf's text in the C locale: the independent reference for the formats
// that promise printf's output.
std::string printf_text(const char* format, int digits, double v) {
  char buf[512];
  std::snprintf(buf, sizeof buf, format, digits, v);
  return buf;
}

// Doubles of every magnitude and sign, plus the edges.
std::vector<double> sample_values() {
  std::vector<double> v{0.0, -0.0, 1, -1, 0.1, 0.5, 0.125, 2.5, 9.995, 99.95, 1e10, 1e-7, 123456789.0,
                        std::numeric_limits<double>::min(), std::numeric_limits<double>::max(),
                        std::numeric_limits<double>::denorm_min(), std::nextafter(1.0, 2.0)};
  std::mt19937_64 rng(20240611);
  std::uniform_real_distribution<double> exponent(-30, 30), mantissa(1, 10);
  for (int i = 0; i < 3000; ++i) v.push_back((i % 2 ? -1 : 1) * mantissa(rng) * std::pow(10.0, std::floor(exponent(rng))));
  return v;
}

}  // namespace

TEST_CASE("number formats: significant and fixed are printf's %.*g and %.*f", "[text]") {
  REQUIRE(std::string(std::setlocale(LC_NUMERIC, nullptr)) == "C");
  for (double v : sample_values()) {
    for (int d : {1, 2, 3, 4, 5, 6, 8}) {
      INFO(v << " with " << d << " digits");
      CHECK(text::significant(v, d) == printf_text("%.*g", d, v));
      CHECK(text::scientific(v, d) == printf_text("%.*e", d, v));
      if (std::abs(v) < 1e30) CHECK(text::fixed(v, d) == printf_text("%.*f", d, v));
    }
  }
  CHECK(text::significant(std::nan(""), 4) == "nan");
  CHECK(text::significant(-std::numeric_limits<double>::infinity(), 4) == "-inf");
  CHECK(text::fixed(0.125, 2) == "0.12");  // round half to even on the exact binary value
  CHECK(text::fixed(2.0, 0) == "2");
}

TEST_CASE("number formats: shortest reads back as the same double, and nothing shorter does", "[text]") {
  for (double v : sample_values()) {
    INFO(v);
    const std::string s = text::shortest(v);
    double back = 0;
    REQUIRE(std::from_chars(s.data(), s.data() + s.size(), back).ec == std::errc());
    CHECK(std::signbit(back) == std::signbit(v));
    CHECK(back == v);
    // its digits are as few as reading back allows: the nearest decimal with
    // one significant digit fewer is another double (the digits counted in
    // the shortest scientific form, as a large integer prints all its digits)
    char sci[64];
    const auto r = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
    int n = 0;
    for (const char* p = sci; p < r.ptr && *p != 'e'; ++p) n += *p >= '0' && *p <= '9';
    if (n > 1) CHECK(std::strtod(printf_text("%.*e", n - 2, v).c_str(), nullptr) != v);
    CHECK(std::strtod(std::string(sci, r.ptr).c_str(), nullptr) == v);
    char buf[64];
    CHECK(text::shortest(v, buf) == s);
  }
  CHECK(text::shortest(0.1) == "0.1");
  CHECK(text::shortest(1e10) == "1e+10");
  CHECK(text::shortest(std::nan("")) == "nan");
  CHECK(text::shortest(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(text::shortest(-std::numeric_limits<double>::infinity()) == "-inf");
}

TEST_CASE("number formats: compact writes the exponent short", "[text]") {
  CHECK(text::compact(1e10) == "1e10");
  CHECK(text::compact(2.5e-12) == "2.5e-12");
  CHECK(text::compact(3.2e-7, 2) == "3.2e-7");
  CHECK(text::compact(0.0) == "0");
  CHECK(text::compact(-0.0) == "0");
  CHECK(text::compact(1234.5, 4) == "1234");  // round half to even: 1234.5 is exact
  CHECK(text::compact(-1.5e100, 3) == "-1.5e100");
  CHECK(text::compact(std::nan("")) == "nan");
  for (double v : sample_values()) {
    if (v == 0) continue;
    INFO(v);
    // the same digits as significant(); only the exponent's "+" and leading zeros go
    std::string s = text::significant(v, 3), c = text::compact(v, 3);
    CHECK(std::strtod(c.c_str(), nullptr) == std::strtod(s.c_str(), nullptr));
    CHECK(c.find('+') == std::string::npos);
    CHECK(c.find("e0") == std::string::npos);
    CHECK(c.find("e-0") == std::string::npos);
  }
}

TEST_CASE("did you mean: edit distance and closest match", "[text]") {
  using capgraph::text::closest_match;
  using capgraph::text::edit_distance;
  CHECK(edit_distance("floor", "floor") == 0);
  CHECK(edit_distance("flor", "floor") == 1);
  CHECK(edit_distance("nmae", "name") == 1);  // a transposition is one edit
  CHECK(edit_distance("abc", "xyz") == 3);    // limit + 1
  CHECK(edit_distance("a", "abcdef") == 3);
  const std::vector<std::string_view> c = {"all", "any", "at_least", "best_of", "mean"};
  CHECK(closest_match("al", c) == "all");
  CHECK(closest_match("ayn", c) == "any");
  CHECK(closest_match("bestof", c) == "best_of");
  CHECK(closest_match("x", c).empty());
  CHECK(closest_match("zzzzzz", c).empty());
}
