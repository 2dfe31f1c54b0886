// capgraph/cli/observations_io.hpp — reading an observations CSV for a
// subcommand (analyze, fit, plot --data): errors printed one per line,
// Failure(1) for bad data, Failure(3) when unreadable; notes to stderr.
#pragma once

#include <string>
#include <vector>

#include "analysis/observations.hpp"
#include "render/plot.hpp"

namespace capgraph::cli {

/// Flags shared by the subcommands that read observations.
struct ObservationFlags {
  std::vector<std::string> maps;            ///< --map task=node
  std::vector<std::string> lower_is_better; ///< --lower-is-better METRIC
  /// Failure(2) on a malformed --map. `max_bytes`: the command's --max-bytes.
  analysis::ReadOptions options(std::size_t max_bytes) const;
};

analysis::ObservationSet load_observations(const std::string& path, const analysis::ReadOptions& options);

/// Observed series to draw over curves (plot --data, report --data): one
/// per (task, family, metric), each on the panel of the engine metric it
/// can be compared with (BLEU / 100 on partial credit). `only` and
/// `families` filter (empty = all); the file is read under `max_bytes`
/// (--max-bytes); notes say what could not be placed.
std::vector<render::ObservedSeries> observed_series(const std::string& path, const std::vector<std::string>& only,
                                                     const std::vector<std::string>& families, bool compute_axis,
                                                     const ObservationFlags& flags, std::size_t max_bytes,
                                                     std::vector<std::string>& notes);

}  // namespace capgraph::cli
