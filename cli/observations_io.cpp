// capgraph/cli/observations_io.cpp
#include "cli/observations_io.hpp"

#include <algorithm>
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

// Observed series for plot and report: one per (task, family, metric), read by the
// shared observations reader (analysis/observations.hpp; bad rows are
// file:line errors, nothing is dropped silently). Each series goes to the
// panel of the engine metric it can be compared with; BLEU / 100 goes to the
// partial-credit panel (a continuous score of the same outputs); others to
// the first panel, with a note.
std::vector<render::ObservedSeries> observed_series(const std::string& path, const std::vector<std::string>& only,
                                                     const std::vector<std::string>& families, bool compute_axis, const ObservationFlags& flags,
                                                     std::size_t max_bytes, std::vector<std::string>& notes) {
  analysis::ReadOptions ro = flags.options(max_bytes);
  ro.need_train_flops = compute_axis;
  analysis::ObservationSet set = load_observations(path, ro);
  if (!only.empty() || !families.empty()) {
    std::vector<analysis::Observation> keep;
    for (auto& r : set.rows)
      if ((only.empty() || std::find(only.begin(), only.end(), r.task) != only.end()) &&
          (families.empty() || std::find(families.begin(), families.end(), r.family) != families.end()))
        keep.push_back(std::move(r));
    set.rows = std::move(keep);
  }
  std::size_t unmapped = 0;
  std::vector<render::ObservedSeries> out;
  for (auto& s : analysis::group_series(set, compute_axis)) {
    render::ObservedSeries o;
    o.label = s.family + " " + s.task + " (" + s.metric + ")";
    o.node = s.node.empty() ? s.task : s.node;
    const analysis::MetricInfo& mi = set.metrics.at(s.metric);
    if (mi.engine) o.metric = *mi.engine;
    else if (mi.unit_interval && !mi.lower_is_better) o.metric = Metric{MetricKind::partial_credit, 0};
    if (!o.metric) unmapped += s.x.size();
    o.x = std::move(s.x);
    o.y = std::move(s.y);
    out.push_back(std::move(o));
  }
  if (unmapped)
    notes.push_back(std::to_string(unmapped) +
                    " observation(s) have a metric with no matching panel; they are drawn on the first panel");
  if (out.empty()) notes.push_back("no observations matched (check --data-task and --data-family)");
  return out;
}

}  // namespace capgraph::cli
