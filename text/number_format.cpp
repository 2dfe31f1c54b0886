// capgraph/text/number_format.cpp — see number_format.hpp.
#include "text/number_format.hpp"

#include <charconv>
#include <cmath>

namespace capgraph::text {

namespace {

// The spelling of a non-finite value, or an empty view for a finite one.
std::string_view non_finite(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return {};
}

template <class... Format>
std::string chars(double v, Format... format) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v, format...);
  return std::string(buf, res.ptr);
}

}  // namespace

std::string_view shortest(double v, char (&buf)[64]) {
  if (const auto s = non_finite(v); !s.empty()) return s;
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string_view(buf, static_cast<std::size_t>(res.ptr - buf));
}

std::string shortest(double v) {
  char buf[64];
  return std::string(shortest(v, buf));
}

std::string significant(double v, int digits) {
  if (const auto s = non_finite(v); !s.empty()) return std::string(s);
  return chars(v, std::chars_format::general, digits);
}

std::string compact(double v, int digits) {
  if (v == 0) return "0";
  std::string s = significant(v, digits);
  // "1e+10" -> "1e10", "3.2e-07" -> "3.2e-7"
  const auto e = s.find('e');
  if (e != std::string::npos) {
    std::string mant = s.substr(0, e), exp = s.substr(e + 1);
    bool neg = false;
    if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) {
      neg = exp[0] == '-';
      exp.erase(0, 1);
    }
    while (exp.size() > 1 && exp[0] == '0') exp.erase(0, 1);
    s = mant + "e" + (neg ? "-" : "") + exp;
  }
  return s;
}

std::string fixed(double v, int decimals) { return chars(v, std::chars_format::fixed, decimals); }

std::string scientific(double v, int decimals) { return chars(v, std::chars_format::scientific, decimals); }

}  // namespace capgraph::text
