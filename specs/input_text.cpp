// capgraph/specs/input_text.cpp — see input_text.hpp.
#include "specs/input_text.hpp"

#include "text/number_format.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>

#include "graph/scale_axis.hpp"

namespace capgraph::specs {

std::size_t first_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0, min = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1Fu, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0Fu, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07u, min = 0x10000;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

std::string invalid_utf8_message(std::string_view s, std::size_t offset) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(s[offset])));
  return std::string("invalid UTF-8 (byte ") + buf + ")";
}

std::string_view strip_bom(std::string_view s) {
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  return s;
}

SourceLoc position_of_offset(std::string_view text, std::size_t offset) {
  SourceLoc loc{1, 1};
  const std::size_t end = std::min(offset, text.size());
  for (std::size_t i = 0; i < end; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || (c == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n'))) {
      ++loc.line;
      loc.column = 1;
    } else if (c != '\r' && (c & 0xC0) != 0x80) {
      ++loc.column;  // count characters, as libyaml does, not bytes
    }
  }
  return loc;
}

namespace {

/// YAML's spellings of infinity and NaN (.inf, -.Inf, .NAN, ...), which
/// std::from_chars does not know; it reads "inf" and "nan" itself.
bool is_yaml_non_finite(std::string_view t) {
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) t.remove_prefix(1);
  return t == ".inf" || t == ".Inf" || t == ".INF" || t == ".nan" || t == ".NaN" || t == ".NAN";
}

}  // namespace

NumberStatus parse_number(std::string_view t, double& out) {
  if (is_yaml_non_finite(t)) return NumberStatus::not_finite;
  std::string_view s = t;
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty() || s[0] == '+') return NumberStatus::not_a_number;
  const char* end = s.data() + s.size();
  auto r = std::from_chars(s.data(), end, out, std::chars_format::general);
  if (r.ptr != end) return NumberStatus::not_a_number;
  if (r.ec == std::errc::result_out_of_range) return NumberStatus::out_of_range;
  if (r.ec != std::errc()) return NumberStatus::not_a_number;
  if (!std::isfinite(out)) return NumberStatus::not_finite;
  return NumberStatus::ok;
}

std::string scale_problem(double x, const ScaleSpec* scale) {
  if (!(x >= kScaleMin && x <= kScaleMax))
    return text::significant(x, 4) + " is outside the accepted scale range [" + text::significant(kScaleMin, 4) + ", " +
           text::significant(kScaleMax, 4) + "]";
  if (scale == nullptr) return "";
  const ScalePoint pt = ScaleAxis(*scale).at(x);
  const auto bad = [](double v) { return !std::isfinite(v) || v < std::numeric_limits<double>::min(); };
  const char* what = bad(pt.N) ? "parameters N" : bad(pt.D) ? "training tokens D" : bad(pt.C) ? "compute C" : nullptr;
  if (what == nullptr) return "";
  return "at the scale point " + text::significant(x, 4) + " the " + what +
         " would not be a finite, normal number (given tokens_per_param, data_limit and the law)";
}

}  // namespace capgraph::specs
