// capgraph/render/escape.cpp
#include "render/escape.hpp"

namespace capgraph::render {

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t' && ch != '\n') break;
        out += ch;
    }
  }
  return out;
}

std::string dot_label_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    if (ch == '\\' || ch == '"') out += '\\';
    if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t') {
      out += ' ';
      continue;
    }
    out += ch;
  }
  return out;
}

}  // namespace capgraph::render
