// capgraph/specs/load.hpp — reading and validating a spec file (format v1).
//
// The one entry point of the spec layer. Text is parsed with libyaml's event
// parser into a compact tree with source positions (specs/yaml_tree.hpp),
// then read in two passes (register every id; resolve references) and
// validated as a whole (domains, cycles) before anything is evaluated.
// All errors of a file are collected, sorted by position, each one line:
//   file:line:column: error: message[; hint]
//
// Why libyaml, not yaml-cpp: see docs/decisions.md (yaml-cpp 0.7 accepts an
// unterminated double-quoted string silently and is 7x slower).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../graph/model_spec.hpp"

namespace capgraph::specs {

/// One problem found in a spec, at a 1-based line and column (0 = whole file).
struct Diagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;
  std::string hint;  ///< e.g. "did you mean `emoji_semantics`?"; may be empty
  /// "file:line:column: error: message; hint" on one line.
  std::string to_string() const;
};

struct LoadOptions {
  std::size_t max_bytes = std::size_t{64} << 20;  ///< --max-bytes
  std::size_t max_nodes = 2'000'000;              ///< skills + tasks (--max-nodes)
  int max_depth = 64;                             ///< YAML nesting depth
  double max_uses = 1e6;                          ///< largest count in one reference (--max-uses)
  int max_points = 100'000;                       ///< largest scale.points (--max-points)
};

/// Wall-clock seconds of the loading phases (for `--timings`).
struct LoadTimings {
  double read = 0;      ///< reading the file
  double parse = 0;     ///< YAML events -> tree
  double validate = 0;  ///< tree -> ModelSpec, references, domains, cycles
};

struct LoadResult {
  std::optional<ModelSpec> spec;        ///< set iff errors is empty
  LoadTimings timings;
  std::vector<Diagnostic> errors;
  bool io_error = false;                ///< the file could not be read (exit code 3)
  bool ok() const { return spec.has_value(); }
};

/// Reads and validates a spec file. Never throws for bad input.
LoadResult load_spec_file(const std::string& path, const LoadOptions& options = {});

/// The same for text in memory; `file` is the name used in messages
/// ("<stdin>" for standard input).
LoadResult load_spec_text(std::string_view text, const std::string& file, const LoadOptions& options = {});

}  // namespace capgraph::specs
