// capgraph/render/escape.cpp
#include "render/escape.hpp"

namespace capgraph::render {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at text[i], or 0 if invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) return 1;
  std::size_t n;
  unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  const auto b1 = static_cast<unsigned char>(text[i + 1]);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return n;
}

// Walks `text` by code point: ASCII bytes go to `ascii(out, ch)`, valid
// multi-byte sequences are copied, invalid bytes (and the noncharacters
// U+FFFE, U+FFFF, which XML forbids) become U+FFFD.
template <class Ascii>
std::string transform(std::string_view text, Ascii ascii) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_length(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else if (n == 1) {
      ascii(out, text[i]);
      ++i;
    } else if (n == 3 && text[i] == '\xEF' && text[i + 1] == '\xBF' && (text[i + 2] == '\xBE' || text[i + 2] == '\xBF')) {
      // U+FFFE and U+FFFF are valid UTF-8 but not XML 1.0 characters: an SVG
      // holding one is not well-formed (found by fuzz/fuzz_escape).
      out += kReplacement;
      i += 3;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

bool is_control(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c < 0x20 || c == 0x7F;
}

}  // namespace

std::string valid_utf8(std::string_view text) {
  return transform(text, [](std::string& out, char ch) { out += ch; });
}

std::string xml_escape(std::string_view text) {
  return transform(text, [](std::string& out, char ch) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (is_control(ch) && ch != '\t' && ch != '\n') break;
        out += ch;
    }
  });
}

std::string dot_label_escape(std::string_view text) {
  return transform(text, [](std::string& out, char ch) {
    if (ch == '\\' || ch == '"') out += '\\';
    if (is_control(ch) && ch != '\t') {
      out += ' ';
      return;
    }
    out += ch;
  });
}

std::string gv_label_text(std::string_view text) {
  return transform(text, [](std::string& out, char ch) {
    if (ch == '\\') {
      out += "\\\\";
    } else if (ch == '&') {
      out += "&amp;";
    } else if (is_control(ch)) {
      out += ' ';
    } else {
      out += ch;
    }
  });
}

std::string gv_tooltip_text(std::string_view text) {
  return transform(text, [](std::string& out, char ch) {
    if (ch == '\\') {
      out += "\\\\\\\\";  // four: two unescaping passes in Graphviz
    } else if (ch == '&') {
      out += "&amp;";
    } else if (ch == '\n') {
      out += '\n';
    } else if (is_control(ch)) {
      if (ch == '\t') out += ' ';
    } else {
      out += ch;
    }
  });
}

}  // namespace capgraph::render
