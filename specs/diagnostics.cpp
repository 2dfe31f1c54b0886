// capgraph/specs/diagnostics.cpp — see diagnostics.hpp.
#include "specs/diagnostics.hpp"

#include <algorithm>
#include <tuple>

namespace capgraph::specs {

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ':' + std::to_string(line) + ':' + std::to_string(column > 0 ? column : 1);
  }
  out += ": error: ";
  out += message;
  if (!hint.empty()) {
    out += "; ";
    out += hint;
  }
  return out;
}

void Diagnostics::error(int line, int column, std::string message, std::string hint) {
  Diagnostic d;
  d.file = file_;
  d.line = line;
  d.column = column;
  d.message = std::move(message);
  d.hint = std::move(hint);
  errors_.push_back(std::move(d));
}

std::vector<Diagnostic> Diagnostics::finish() && {
  std::stable_sort(errors_.begin(), errors_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  // Duplicates are adjacent only among errors at one position; compare within
  // each run of equal positions (runs are short).
  std::vector<Diagnostic> out;
  out.reserve(errors_.size());
  std::size_t run_begin = 0;
  for (auto& d : errors_) {
    if (!out.empty() && (out.back().line != d.line || out.back().column != d.column)) {
      run_begin = out.size();
    }
    bool seen = std::any_of(out.begin() + static_cast<std::ptrdiff_t>(run_begin), out.end(),
                            [&](const Diagnostic& e) { return e.message == d.message && e.hint == d.hint; });
    if (!seen) out.push_back(std::move(d));
  }
  return out;
}

}  // namespace capgraph::specs
