// capgraph plot SPEC --tasks a,b --metrics ... -o curves.svg — metric curves
// over scale, one panel per metric, with observed points from --data.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <tuple>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "render/plot.hpp"

namespace capgraph::cli {

namespace {

struct PlotOpts {
  std::string spec;
  std::string tasks;
  std::string metrics;
  std::string from, to;
  int points = 0;
  std::string data;
  std::vector<std::string> data_tasks;
  bool per_step = false;
  std::string title;
  CommonOptions common;
};

Metric parse_metric(const std::string& text) {
  const auto colon = text.find(':');
  const std::string name = text.substr(0, colon);
  Metric m;
  if (name == "exact_match") m.kind = MetricKind::exact_match;
  else if (name == "partial_credit") m.kind = MetricKind::partial_credit;
  else if (name == "log_likelihood") m.kind = MetricKind::log_likelihood;
  else if (name == "multiple_choice") m.kind = MetricKind::multiple_choice;
  else if (name == "pass_at") m.kind = MetricKind::pass_at;
  else
    throw Failure(kUsage, "error: unknown metric `" + text +
                              "`; expected exact_match, partial_credit, log_likelihood, multiple_choice:K or pass_at:k");
  const bool needs_k = m.kind == MetricKind::multiple_choice || m.kind == MetricKind::pass_at;
  if (needs_k) {
    const std::string k = colon == std::string::npos ? "" : text.substr(colon + 1);
    const auto res = std::from_chars(k.data(), k.data() + k.size(), m.k);
    const int lo = m.kind == MetricKind::multiple_choice ? 2 : 1;
    if (res.ec != std::errc() || res.ptr != k.data() + k.size() || m.k < lo)
      throw Failure(kUsage, "error: metric `" + text + "` needs an integer, e.g. " + name + (lo == 2 ? ":4" : ":10"));
  } else if (colon != std::string::npos) {
    throw Failure(kUsage, "error: metric `" + name + "` takes no number");
  }
  return m;
}

std::vector<std::string> csv_split(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') cell += '"', ++i;
      else if (c == '"') quoted = false;
      else cell += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(cell);
      cell.clear();
    } else if (c != '\r') {
      cell += c;
    }
  }
  out.push_back(cell);
  return out;
}

// Observation metric names in shared/data mapped onto capgraph's panels.
std::optional<Metric> panel_for(const std::string& metric, double& scale) {
  scale = 1;
  if (metric == "exact_match" || metric == "exact_str_match" || metric == "acc(exact answer)")
    return Metric{MetricKind::exact_match, 0};
  if (metric == "partial_credit") return Metric{MetricKind::partial_credit, 0};
  if (metric == "bleu") {
    scale = 0.01;  // BLEU is on 0-100
    return Metric{MetricKind::partial_credit, 0};
  }
  return std::nullopt;
}

// Reads observations (columns task,family,params,...,metric,score[,train_flops])
// into one series per (task, family, metric). Bad rows are errors with
// file:line; nothing is dropped silently.
std::vector<render::ObservedSeries> read_observations(const std::string& path, const std::vector<std::string>& only,
                                                      bool compute_axis, std::vector<std::string>& notes) {
  std::ifstream in(path);
  if (!in) throw Failure(kIo, path + ": error: cannot read the observations file");
  std::string line;
  if (!std::getline(in, line)) throw Failure(kInvalid, path + ":1: error: empty observations file");
  const auto head = csv_split(line);
  std::map<std::string, std::size_t> col;
  for (std::size_t i = 0; i < head.size(); ++i) col[head[i]] = i;
  for (const char* need : {"task", "family", "params", "metric", "score"})
    if (!col.count(need))
      throw Failure(kInvalid, path + ":1: error: missing column `" + need + "` (expected task,family,params,metric,score)");
  const bool has_flops = col.count("train_flops") > 0;
  std::map<std::tuple<std::string, std::string, std::string>, render::ObservedSeries> series;
  std::vector<std::tuple<std::string, std::string, std::string>> order;
  std::size_t lineno = 1, skipped_flops = 0, unmapped = 0;
  auto number = [&](const std::string& s, const char* what) {
    double v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v))
      throw Failure(kInvalid, path + ":" + std::to_string(lineno) + ": error: `" + s + "` in column " + what +
                                  " is not a number");
    return v;
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line == "\r") continue;
    const auto cells = csv_split(line);
    if (cells.size() != head.size())
      throw Failure(kInvalid, path + ":" + std::to_string(lineno) + ": error: " + std::to_string(cells.size()) +
                                  " fields, the header has " + std::to_string(head.size()));
    const std::string& task = cells[col["task"]];
    if (!only.empty() && std::find(only.begin(), only.end(), task) == only.end()) continue;
    double x = number(cells[col["params"]], "params");
    if (compute_axis) {
      if (!has_flops || cells[col["train_flops"]].empty()) {
        ++skipped_flops;
        continue;
      }
      x = number(cells[col["train_flops"]], "train_flops");
    }
    if (!(x > 0))
      throw Failure(kInvalid, path + ":" + std::to_string(lineno) + ": error: the scale value must be positive");
    double scale = 1;
    const std::string& metric = cells[col["metric"]];
    const auto panel = panel_for(metric, scale);
    if (!panel) ++unmapped;
    const auto key = std::make_tuple(task, cells[col["family"]], metric);
    auto it = series.find(key);
    if (it == series.end()) {
      it = series.emplace(key, render::ObservedSeries{}).first;
      it->second.label = cells[col["family"]] + " " + task + " (" + metric + ")";
      it->second.metric = panel;
      order.push_back(key);
    }
    it->second.x.push_back(x);
    it->second.y.push_back(number(cells[col["score"]], "score") * scale);
  }
  if (skipped_flops)
    notes.push_back(std::to_string(skipped_flops) + " observation(s) have no train_flops and cannot be placed on the compute axis");
  if (unmapped)
    notes.push_back(std::to_string(unmapped) +
                    " observation(s) have a metric with no matching panel; they are drawn on the first panel");
  std::vector<render::ObservedSeries> out;
  for (const auto& k : order) out.push_back(std::move(series[k]));
  if (out.empty()) notes.push_back("no observations matched (check --data-task)");
  return out;
}

}  // namespace

void add_plot(CLI::App& app, Action& run) {
  auto o = std::make_shared<PlotOpts>();
  auto* sub = app.add_subcommand("plot", "Metric curves over scale as SVG: one panel per metric, thresholds, observed data");
  sub->add_option("SPEC", o->spec, "Spec file (- for standard input)")->required();
  sub->add_option("--tasks", o->tasks, "Tasks to draw (comma-separated ids; default all)");
  sub->add_option("--metrics", o->metrics,
                  "Metrics, one panel each (comma-separated: exact_match, partial_credit, log_likelihood, "
                  "multiple_choice:K, pass_at:k); default: the tasks' own");
  sub->add_option("--from", o->from, "First scale point (default: the spec's range)");
  sub->add_option("--to", o->to, "Last scale point (default: the spec's range)");
  sub->add_option("--points", o->points, "Points for the emergence measures (default: the spec's)")
      ->check(CLI::Range(2, 1000000));
  sub->add_option("--data", o->data, "Observations CSV (task,family,params,shots,metric,score,model,train_flops) to overlay");
  sub->add_option("--data-task", o->data_tasks, "Only observations of this task (repeatable)");
  sub->add_flag("--per-step", o->per_step, "Log-likelihood panel: ln P per step");
  sub->add_option("--title", o->title, "Figure title (default: the spec's name)");
  sub->add_option("-o,--output", o->common.output, "Output SVG file (default: standard output)");
  o->common.add_loading(*sub, true);
  sub->callback([o, &run] {
    run = [o] {
      Timings t(o->common.timings);
      render::PlotOptions po;
      if (!o->from.empty()) po.from = parse_positive("--from", o->from);
      if (!o->to.empty()) po.to = parse_positive("--to", o->to);
      if (o->points > 0) po.points = o->points;
      for (const auto& m : split_list(o->metrics)) po.metrics.push_back(parse_metric(m));
      po.log_likelihood_per_step = o->per_step;
      po.title = o->title;
      po.evaluation = o->common.engine();
      const Model model = load_model(o->spec, o->common, t);
      if (!o->tasks.empty()) po.tasks = resolve_ids(model, split_list(o->tasks), true);
      if (model.tasks().empty()) throw Failure(kUsage, "error: the spec has no tasks to plot");
      std::vector<std::string> notes;
      if (!o->data.empty())
        po.observed = read_observations(o->data, o->data_tasks, model.spec().scale.axis == Axis::compute, notes);
      t.start();
      render::PlotResult r;
      try {
        r = render::render_plot(model, po);
      } catch (const std::invalid_argument& e) {
        throw Failure(kUsage, std::string("error: ") + e.what());
      }
      t.stop("render");
      for (const auto& n : notes) std::cerr << "note: " << n << '\n';
      for (const auto& n : r.notes) std::cerr << "note: " << n << '\n';
      write_output(r.svg, o->common);
      t.stop("write");
      t.print();
      return kOk;
    };
  });
}

}  // namespace capgraph::cli
