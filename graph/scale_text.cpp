// capgraph/graph/scale_text.cpp
#include "graph/scale_text.hpp"

#include <charconv>
#include <cmath>
#include <string>

namespace capgraph {

std::optional<double> parse_scale(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string buf(text);
  int exponent = 0;
  switch (buf.back()) {
    case 'k': case 'K': exponent = 3; break;
    case 'm': case 'M': exponent = 6; break;
    case 'b': case 'B': case 'g': case 'G': exponent = 9; break;
    case 't': case 'T': exponent = 12; break;
    case 'p': case 'P': exponent = 15; break;
    default: break;
  }
  if (exponent) {
    buf.pop_back();
    // A plain decimal before the suffix: no exponent, no "inf" or "nan".
    if (buf.empty() || buf.find_first_not_of("0123456789.") != std::string::npos) return std::nullopt;
    buf += 'e' + std::to_string(exponent);
  }
  double v = 0;
  const char* b = buf.data();
  const char* e = b + buf.size();
  const auto res = std::from_chars(b, e, v);
  if (res.ec != std::errc() || res.ptr != e || !std::isfinite(v) || !(v > 0)) return std::nullopt;
  return v;
}

}  // namespace capgraph
