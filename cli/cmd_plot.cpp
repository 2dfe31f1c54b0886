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
#include "cli/figure_output.hpp"
#include "cli/observations_io.hpp"
#include "analysis/observations.hpp"
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
  std::vector<std::string> data_families;
  ObservationFlags obs;
  bool per_step = false;
  std::string title;
  std::string format;
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
      ->transform(number_check(Number::integer, 2));
  sub->add_option("--data", o->data,
                  "Observations CSV (task,family,params,shots,metric,score,model,train_flops) to overlay; a `fit "
                  "--predictions` table draws each point with its 95% prediction interval");
  sub->add_option("--data-task", o->data_tasks, "Only observations of this task (repeatable)");
  sub->add_option("--data-family", o->data_families, "Only observations of this model family (repeatable)");
  sub->add_option("--lower-is-better", o->obs.lower_is_better, "Declare a --data metric lower-is-better (repeatable)");
  sub->add_flag("--per-step", o->per_step, "Log-likelihood panel: ln P per step");
  sub->add_option("--title", o->title, "Figure title (default: the spec's name)");
  sub->add_option("-o,--output", o->common.output, "Output SVG file (default: standard output)");
  sub->add_option("--format", o->format, "Figure format (svg; default: from the -o file's extension)")
      ->check(CLI::IsMember({"svg"}));
  o->common.add_loading(*sub, true);
  sub->callback([o, &run] {
    run = [o] {
      Timings t(o->common.timings);
      // Plots are SVG; a .png or .pdf name would get SVG bytes under a false name.
      const std::string format = output_format(o->format, o->common.output, {"svg", "png", "pdf"});
      if (format != "svg")
        throw Failure(kUsage, "error: plot writes SVG only, not " + format + "; write curves.svg and convert it, "
                              "e.g. `rsvg-convert -f " + format + " -o curves." + format + " curves.svg`");
      render::PlotOptions po;
      if (!o->from.empty()) parse_scale("--from", o->from);  // checked before loading
      if (!o->to.empty()) parse_scale("--to", o->to);
      if (o->points > 0) po.points = o->common.check_points("--points", o->points);
      for (const auto& m : split_list(o->metrics)) po.metrics.push_back(parse_metric(m));
      po.log_likelihood_per_step = o->per_step;
      po.title = o->title;
      po.evaluation = o->common.engine();
      const Model model = load_model(o->spec, o->common, t);
      if (!o->from.empty()) po.from = parse_scale("--from", o->from, &model.spec().scale);
      if (!o->to.empty()) po.to = parse_scale("--to", o->to, &model.spec().scale);
      if (!o->tasks.empty()) po.tasks = resolve_ids(model, split_list(o->tasks), true);
      if (model.tasks().empty()) throw Failure(kUsage, "error: the spec has no tasks to plot");
      std::vector<std::string> notes;
      if (!o->data.empty())
        po.observed = observed_series(o->data, o->data_tasks, o->data_families, model.spec().scale.axis == Axis::compute, o->obs,
                                      o->common.max_bytes, notes);
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
