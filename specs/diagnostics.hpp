// capgraph/specs/diagnostics.hpp — collecting the errors of one spec file.
//
// The spec layer reports every problem it finds instead of stopping at the
// first one. A Diagnostics sink gathers them for one file; finish() sorts
// them by position (line, column; stable, so the order of discovery breaks
// ties) and drops exact duplicates.
#pragma once

#include <string>
#include <vector>

#include "../graph/model_spec.hpp"
#include "load.hpp"

namespace capgraph::specs {

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  /// Records an error at a 1-based position (0, 0 = the whole file).
  void error(int line, int column, std::string message, std::string hint = {});
  void error(SourceLoc loc, std::string message, std::string hint = {}) {
    error(loc.line, loc.column, std::move(message), std::move(hint));
  }

  bool empty() const { return errors_.empty(); }
  std::size_t size() const { return errors_.size(); }
  const std::string& file() const { return file_; }

  /// The errors sorted by (line, column), exact duplicates removed.
  std::vector<Diagnostic> finish() &&;

 private:
  std::string file_;
  std::vector<Diagnostic> errors_;
};

}  // namespace capgraph::specs
