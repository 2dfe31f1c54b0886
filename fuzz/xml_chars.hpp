// capgraph/fuzz/xml_chars.hpp — XML 1.0's Char production over UTF-8 text:
// #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
// A document holding any other code point is not well-formed (an SVG
// viewer refuses it), whatever the escaping.
#pragma once

#include <cstdint>
#include <string_view>

namespace capgraph::fuzz {

/// True if `s` (assumed valid UTF-8) holds only XML 1.0 characters.
inline bool xml_chars_only(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::uint32_t cp;
    std::size_t n;
    if (b0 < 0x80) {
      cp = b0;
      n = 1;
    } else if (b0 < 0xE0) {
      cp = b0 & 0x1Fu;
      n = 2;
    } else if (b0 < 0xF0) {
      cp = b0 & 0x0Fu;
      n = 3;
    } else {
      cp = b0 & 0x07u;
      n = 4;
    }
    for (std::size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
    const bool ok = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                    (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
    if (!ok) return false;
    i += n;
  }
  return true;
}

}  // namespace capgraph::fuzz
