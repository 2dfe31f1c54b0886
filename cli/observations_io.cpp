// capgraph/cli/observations_io.cpp
#include "cli/observations_io.hpp"

#include <iostream>

#include "cli/common.hpp"

namespace capgraph::cli {

analysis::ReadOptions ObservationFlags::options(std::size_t max_bytes) const {
  analysis::ReadOptions o;
  for (const auto& m : maps) {
    const auto eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
      throw Failure(kUsage, "error: --map expects TASK=NODE, got `" + m + "`");
    const std::string task = m.substr(0, eq), node = m.substr(eq + 1);
    auto [it, fresh] = o.task_to_node.emplace(task, node);
    if (!fresh && it->second != node)
      throw Failure(kUsage, "error: --map gives task `" + task + "` two nodes: `" + it->second + "` and `" + node + "`");
  }
  o.lower_is_better = lower_is_better;
  o.max_bytes = max_bytes;
  return o;
}

analysis::ObservationSet load_observations(const std::string& path, const analysis::ReadOptions& options) {
  note_input(path);  // no output may replace it
  analysis::ReadResult r = analysis::read_observations(path, options);
  if (!r.ok()) {
    for (const auto& e : r.errors) std::cerr << e.to_string() << '\n';
    throw Failure(r.io_error ? kIo : kInvalid, "");
  }
  for (const auto& n : r.set.notes) std::cerr << r.set.file << ": note: " << n << '\n';
  return std::move(r.set);
}

}  // namespace capgraph::cli
