// capgraph/cli/figure_output.cpp — see figure_output.hpp.
#include "cli/figure_output.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <unistd.h>

#include "cli/common.hpp"

namespace capgraph::cli {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string output_format(const std::string& flag_value, const std::string& output,
                          const std::vector<std::string>& formats) {
  std::string by_extension;
  const auto dot = output.rfind('.');
  const auto slash = output.rfind('/');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) {
    const std::string ext = lower(output.substr(dot + 1));
    if (std::find(formats.begin(), formats.end(), ext) != formats.end()) by_extension = ext;
    if (ext == "gv") by_extension = std::find(formats.begin(), formats.end(), "dot") != formats.end() ? "dot" : "";
  }
  if (!flag_value.empty()) {
    if (!by_extension.empty() && by_extension != flag_value)
      throw Failure(kUsage, "error: --format " + flag_value + " contradicts the output file `" + output +
                                "` (a ." + by_extension + " file); drop --format or change the file name");
    return flag_value;
  }
  return by_extension.empty() ? formats.front() : by_extension;
}

void refuse_binary_to_terminal(const std::string& format, const std::string& output, const std::string& stem) {
  const bool binary = format == "png" || format == "pdf";
  if (binary && (output.empty() || output == "-") && isatty(1))
    throw Failure(kUsage, "error: refusing to write " + format + " bytes to a terminal; use -o " + stem + "." + format);
}

std::pair<double, double> parse_page(const std::string& text) {
  const std::string t = lower(text);
  if (t == "a4") return {17 / 2.54 * 72, 25.7 / 2.54 * 72};  // A4 less 2 cm margins
  if (t == "letter") return {6.5 * 72, 9 * 72};              // US letter less 1 inch margins
  if (t == "slide") return {10 * 72, 5.625 * 72};            // a 16:9 slide
  const auto bad = [&] {
    return Failure(kUsage, "error: --page expects a4, letter, slide or WxH with a unit (cm, mm, in, pt), e.g. "
                           "16x24cm, got `" + text + "`");
  };
  const auto x = t.find('x');
  if (x == std::string::npos) throw bad();
  double w = 0, h = 0;
  const char* b = t.data();
  const char* e = t.data() + t.size();
  auto r1 = std::from_chars(b, b + x, w);
  auto r2 = std::from_chars(b + x + 1, e, h);
  if (r1.ec != std::errc() || r1.ptr != b + x || r2.ec != std::errc()) throw bad();
  const std::string unit(r2.ptr, e);
  double k = 0;
  if (unit == "cm" || unit.empty()) k = 72 / 2.54;
  else if (unit == "mm") k = 72 / 25.4;
  else if (unit == "in") k = 72;
  else if (unit == "pt") k = 1;
  else throw bad();
  if (!(w > 0) || !(h > 0) || !std::isfinite(w * k) || !std::isfinite(h * k)) throw bad();
  return {w * k, h * k};
}

}  // namespace capgraph::cli
