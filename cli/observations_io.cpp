// capgraph/cli/observations_io.cpp
#include "cli/observations_io.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <tuple>

#include "cli/common.hpp"
#include "specs/input_text.hpp"

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
namespace {

// The first line of a file, at most 64 KiB of it (empty if it cannot be
// read: the reader reports that; bounded, so /dev/zero cannot exhaust memory).
std::string header_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  for (char c; line.size() < (std::size_t{1} << 16) && in.get(c) && c != '\n';) line += c;
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// A `fit --predictions` table (docs/cli.md, "fit"): one series per (task,
// family, metric), the observed scores with their prediction intervals.
std::vector<render::ObservedSeries> predicted_series(const std::string& path, const std::vector<std::string>& only,
                                                     const std::vector<std::string>& families, bool compute_axis,
                                                     std::size_t max_bytes, std::vector<std::string>& notes) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Failure(kIo, path + ": error: cannot read");
  if (max_bytes && size > max_bytes)
    throw Failure(kInvalid, path + ": error: " + std::to_string(size) + " bytes, more than the limit of " +
                                std::to_string(max_bytes) + "; raise it with --max-bytes");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failure(kIo, path + ": error: cannot read");
  std::string line;
  std::getline(in, line);
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const std::vector<std::string> head = analysis::split_csv_line(line);
  auto col = [&](const std::string& name) -> std::size_t {
    const auto it = std::find(head.begin(), head.end(), name);
    if (it == head.end())
      throw Failure(kInvalid, path + ":1: error: column `" + name + "` missing from a --predictions table");
    return static_cast<std::size_t>(it - head.begin());
  };
  const std::size_t c_task = col("task"), c_family = col("family"), c_metric = col("metric"),
                    c_x = col(compute_axis ? "train_flops" : "params"), c_obs = col("observed"), c_lo = col("lo"),
                    c_hi = col("hi");
  std::map<std::tuple<std::string, std::string, std::string>, std::size_t> index;
  std::vector<render::ObservedSeries> out;
  int lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::vector<std::string> f = analysis::split_csv_line(line);
    if (f.size() != head.size())
      throw Failure(kInvalid, path + ":" + std::to_string(lineno) + ": error: " + std::to_string(f.size()) +
                                  " fields, the header has " + std::to_string(head.size()));
    auto number = [&](std::size_t c, bool blank_ok) {
      double v = std::nan("");
      if (f[c].empty() && blank_ok) return v;
      if (specs::parse_number(f[c], v) != specs::NumberStatus::ok || !std::isfinite(v))
        throw Failure(kInvalid, path + ":" + std::to_string(lineno) + ": error: column `" + head[c] + "`: `" + f[c] +
                                    "` is not a finite number");
      return v;
    };
    if ((!only.empty() && std::find(only.begin(), only.end(), f[c_task]) == only.end()) ||
        (!families.empty() && std::find(families.begin(), families.end(), f[c_family]) == families.end()))
      continue;
    const auto key = std::make_tuple(f[c_task], f[c_family], f[c_metric]);
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, out.size()).first;
      render::ObservedSeries o;
      o.label = f[c_family] + " " + f[c_task] + " (95% prediction interval)";  // the panel names the metric
      o.node = f[c_task];
      const analysis::MetricInfo mi = analysis::metric_info(f[c_metric]);
      if (mi.engine) o.metric = *mi.engine;
      else if (mi.unit_interval && !mi.lower_is_better) o.metric = Metric{MetricKind::partial_credit, 0};
      out.push_back(std::move(o));
    }
    render::ObservedSeries& o = out[it->second];
    o.x.push_back(number(c_x, false));
    o.y.push_back(number(c_obs, false));
    o.lo.push_back(number(c_lo, true));
    o.hi.push_back(number(c_hi, true));
  }
  if (out.empty()) notes.push_back("no predictions matched (check --data-task and --data-family)");
  return out;
}

}  // namespace

std::vector<render::ObservedSeries> observed_series(const std::string& path, const std::vector<std::string>& only,
                                                     const std::vector<std::string>& families, bool compute_axis, const ObservationFlags& flags,
                                                     std::size_t max_bytes, std::vector<std::string>& notes) {
  // A `fit --predictions` table: observed scores with their intervals.
  {
    const auto head = analysis::split_csv_line(header_of(path));
    auto has = [&](const char* c) { return std::find(head.begin(), head.end(), c) != head.end(); };
    if (path != "-" && has("observed") && has("predicted") && has("lo") && has("hi") && has("split")) {
      note_input(path);
      return predicted_series(path, only, families, compute_axis, max_bytes, notes);
    }
  }
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
