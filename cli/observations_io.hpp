// capgraph/cli/observations_io.hpp — reading an observations CSV for a
// subcommand (analyze, fit, plot --data): errors printed one per line,
// Failure(1) for bad data, Failure(3) when unreadable; notes to stderr.
#pragma once

#include <string>
#include <vector>

#include "analysis/observations.hpp"

namespace capgraph::cli {

/// Flags shared by the subcommands that read observations.
struct ObservationFlags {
  std::vector<std::string> maps;            ///< --map task=node
  std::vector<std::string> lower_is_better; ///< --lower-is-better METRIC
  /// Failure(2) on a malformed --map. `max_bytes`: the command's --max-bytes.
  analysis::ReadOptions options(std::size_t max_bytes) const;
};

analysis::ObservationSet load_observations(const std::string& path, const analysis::ReadOptions& options);

}  // namespace capgraph::cli
