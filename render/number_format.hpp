// capgraph/render/number_format.hpp — numbers as maps and plots print them.
#pragma once

#include <charconv>
#include <string>

namespace capgraph::render {

/// `v` with exactly `digits` decimals ("0.42"); locale-independent and
/// deterministic (std::to_chars).
inline std::string fixed(double v, int digits) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, digits);
  return std::string(buf, res.ptr);
}

}  // namespace capgraph::render
