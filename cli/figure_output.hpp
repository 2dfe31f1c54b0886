// capgraph/cli/figure_output.hpp — the output format and page of a figure
// (`render`, `plot`).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace capgraph::cli {

/// The format to write: `flag_value` (--format) if given, else the -o
/// file's extension when it is one of `formats` (".gv" counts as dot),
/// else formats.front(). A --format that contradicts the extension is a
/// usage error (Failure, exit 2).
std::string output_format(const std::string& flag_value, const std::string& output,
                          const std::vector<std::string>& formats);

/// PNG and PDF bytes are not written to a terminal (no -o, or -o -, with
/// standard output a terminal): Failure (exit 2) suggesting -o <stem>.<format>.
void refuse_binary_to_terminal(const std::string& format, const std::string& output, const std::string& stem);

/// --page: "a4" (17 x 25.7 cm, A4 less 2 cm margins), "letter" (6.5 x 9 in,
/// less 1 inch margins), "slide" (10 x 5.625 in, 16:9) or "WxH" with a unit
/// cm (default), mm, in or pt. Returns (width, height) in pt; Failure
/// (exit 2) otherwise.
std::pair<double, double> parse_page(const std::string& text);

}  // namespace capgraph::cli
