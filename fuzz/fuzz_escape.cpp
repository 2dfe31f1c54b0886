// capgraph/fuzz/fuzz_escape.cpp — libFuzzer target: text escaping for maps
// and plots (render/escape.hpp). Any bytes a spec may hold go through each
// escaper; the output must be what its sink can take literally:
//   valid_utf8       valid UTF-8, idempotent
//   xml_escape       XML 1.0 characters only, no raw < > " ', every & an entity
//   dot_label_escape every " and \ escaped, no control characters but tab
//   gv_label_text    backslashes doubled, & as &amp;, no control characters
//   gv_tooltip_text  backslashes quadrupled, & as &amp;, newline the only control
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_invariants.hpp"
#include "fuzz/xml_chars.hpp"
#include "render/escape.hpp"

using namespace capgraph;

namespace {

void require(bool ok, const char* what) {
  if (!ok) fuzz::violated(what, 0);
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7F; }

// Lengths of the runs of `ch` in `s` are all multiples of `k`.
bool runs_multiple_of(std::string_view s, char ch, std::size_t k) {
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] != ch) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < s.size() && s[j] == ch) ++j;
    if ((j - i) % k != 0) return false;
    i = j;
  }
  return true;
}

// Every '&' begins "&amp;".
bool ampersands_escaped(std::string_view s) {
  for (std::size_t i = s.find('&'); i != std::string_view::npos; i = s.find('&', i + 1))
    if (s.substr(i, 5) != "&amp;") return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  const std::string u = render::valid_utf8(in);
  require(render::valid_utf8(u) == u, "valid_utf8 is not idempotent");
  require(u.size() >= in.size() || u.size() * 3 >= in.size(), "valid_utf8 lost text");

  const std::string x = render::xml_escape(in);
  require(render::valid_utf8(x) == x, "xml_escape output is not valid UTF-8");
  require(fuzz::xml_chars_only(x), "xml_escape output holds a character XML 1.0 forbids");
  require(x.find_first_of("<>\"'") == std::string::npos, "xml_escape left < > \" or ' raw");
  for (std::size_t i = x.find('&'); i != std::string::npos; i = x.find('&', i + 1)) {
    const std::string_view rest = std::string_view(x).substr(i);
    require(rest.starts_with("&amp;") || rest.starts_with("&lt;") || rest.starts_with("&gt;") ||
                rest.starts_with("&quot;") || rest.starts_with("&#39;"),
            "xml_escape left a raw &");
  }

  const std::string d = render::dot_label_escape(in);
  require(render::valid_utf8(d) == d, "dot_label_escape output is not valid UTF-8");
  for (std::size_t i = 0; i < d.size(); ++i) {
    const auto c = static_cast<unsigned char>(d[i]);
    require(!is_control(c) || c == '\t', "dot_label_escape left a control character");
    if (c == '\\' || c == '"') {
      // An escaped pair: a backslash followed by the escaped character.
      require(c == '\\' && i + 1 < d.size() && (d[i + 1] == '\\' || d[i + 1] == '"'),
              "dot_label_escape left a lone \\ or \"");
      ++i;
    }
  }

  const std::string l = render::gv_label_text(in);
  require(render::valid_utf8(l) == l, "gv_label_text output is not valid UTF-8");
  for (unsigned char c : l) require(!is_control(c), "gv_label_text left a control character");
  require(runs_multiple_of(l, '\\', 2), "gv_label_text left a single backslash");
  require(ampersands_escaped(l), "gv_label_text left a raw &");
  require(fuzz::xml_chars_only(l), "gv_label_text output holds a character XML 1.0 forbids");

  const std::string t = render::gv_tooltip_text(in);
  require(render::valid_utf8(t) == t, "gv_tooltip_text output is not valid UTF-8");
  for (unsigned char c : t) require(!is_control(c) || c == '\n', "gv_tooltip_text left a control character");
  require(runs_multiple_of(t, '\\', 4), "gv_tooltip_text left an unquadrupled backslash");
  require(ampersands_escaped(t), "gv_tooltip_text left a raw &");
  require(fuzz::xml_chars_only(t), "gv_tooltip_text output holds a character XML 1.0 forbids");
  return 0;
}
