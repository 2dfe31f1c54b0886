// capgraph/render/plot.cpp — a model's sweep turned into a PlotFigure
// (svg_plot.hpp draws it).
#include "render/plot.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "graph/emergence.hpp"
#include "render/map_style.hpp"
#include "render/svg_plot.hpp"
#include "text/number_format.hpp"

namespace capgraph::render {

namespace {

// "{x:<value>}": the SVG writer prints it as a×10^b.
std::string x_token(double v) {
  return "{x:" + text::scientific(v, 6) + "}";
}

std::string metric_title(const Metric& m, bool per_step) {
  switch (m.kind) {
    case MetricKind::exact_match: return "exact match";
    case MetricKind::partial_credit: return "partial credit";
    case MetricKind::log_likelihood: return per_step ? "log-likelihood per step" : "log-likelihood";
    case MetricKind::multiple_choice: return "multiple choice (K = " + std::to_string(m.k) + ")";
    case MetricKind::pass_at: return "pass@" + std::to_string(m.k);
  }
  return metric_label(m);
}

std::string measures_text(const EmergenceSummary& s, std::optional<double> threshold) {
  std::string t = "B = " + (s.breakthroughness ? text::compact(*s.breakthroughness, 3) : std::string("n/a"));
  t += s.transition_width ? " \u00b7 width " + text::fixed(*s.transition_width, 2) + " dec" : std::string(" \u00b7 flat");
  if (threshold) {
    const std::string level = text::compact(*threshold, 3);
    if (s.threshold_reached_at_start)
      t += " \u00b7 \u2265 " + level + " from the start";
    else if (s.crossing)
      t += " \u00b7 \u2265 " + level + " at " + x_token(*s.crossing);
    else
      t += " \u00b7 " + level + " not reached";
  }
  return t;
}

std::vector<double> metric_row(const Evaluation& ev, std::size_t v, const Metric& m, bool per_step) {
  std::vector<double> y(ev.num_points());
  for (std::size_t j = 0; j < y.size(); ++j)
    y[j] = (m.kind == MetricKind::log_likelihood && per_step) ? ev.log_likelihood_per_step(v, j) : ev.metric(v, m, j);
  return y;
}

// The panels' metrics: those given, else every metric of the tasks, in order.
std::vector<Metric> plot_metrics(const Model& model, const std::vector<std::size_t>& tasks, const PlotOptions& o) {
  std::vector<Metric> metrics = o.metrics;
  if (metrics.empty())
    for (std::size_t t : tasks)
      for (const Metric& m : model.metrics(t))
        if (std::find(metrics.begin(), metrics.end(), m) == metrics.end()) metrics.push_back(m);
  return metrics;
}

// The figure's frame: title, panel size, and an x axis wide enough for the
// observed points too.
PlotFigure plot_frame(const Model& model, const PlotOptions& o, double from, double to) {
  PlotFigure fig;
  fig.title = o.title.empty() ? model.spec().name : o.title;
  fig.panel_width = o.panel_width;
  fig.panel_height = o.panel_height;
  fig.x_min = from;
  fig.x_max = to;
  for (const ObservedSeries& s : o.observed)
    for (double x : s.x)
      if (x > 0 && std::isfinite(x)) {
        fig.x_min = std::min(fig.x_min, x);
        fig.x_max = std::max(fig.x_max, x);
      }
  if (model.axis().spec().axis == Axis::compute) {
    fig.x_label = "training compute C (FLOPs)";
    const ScaleAxis& axis = model.axis();
    fig.secondary = [&axis](double c) { return axis.at(c).N; };
    fig.secondary_label = "N =";
  } else {
    fig.x_label = "parameters N";
  }
  return fig;
}

// An observed series of a plotted task shares that task's colour.
std::size_t observed_color(const Model& model, const std::vector<std::size_t>& tasks, const PlotOptions& o, std::size_t si) {
  const std::string& id = o.observed[si].node;
  for (std::size_t ti = 0; ti < tasks.size() && !id.empty(); ++ti)
    if (model.node(tasks[ti]).id == id) return ti;
  return tasks.size() + si;
}

// What every metric's panel reads: the tasks, the options, and the
// evaluations at the measured points (xs) and the denser drawn ones (xd).
struct PlotCurves {
  const Model& model;
  const std::vector<std::size_t>& tasks;
  const PlotOptions& o;
  bool explicit_metrics;
  const std::vector<double>& xs;
  const std::vector<double>& xd;
  const Evaluation& ev;
  const Evaluation& evd;
};

// One metric's panel: a line per task that has the metric, with its
// emergence measures, and the thresholds met along the way.
PlotPanel metric_panel(const PlotCurves& c, const Metric& m, PlotResult& result) {
  const PlotOptions& o = c.o;
  const bool prob = metric_is_probability(m);
  PlotPanel panel;
  panel.title = metric_title(m, o.log_likelihood_per_step);
  panel.y_label = prob ? "score" : (o.log_likelihood_per_step ? "ln P / step (nats)" : "ln P (nats)");
  if (prob) {
    panel.y_min = 0;
    panel.y_max = 1;
  }
  std::vector<double> thresholds;
  for (std::size_t ti = 0; ti < c.tasks.size(); ++ti) {
    const std::size_t t = c.tasks[ti];
    if (!c.explicit_metrics) {
      const auto& own = c.model.metrics(t);
      if (std::find(own.begin(), own.end(), m) == own.end()) continue;
    }
    const std::vector<double> ym = metric_row(c.ev, t, m, o.log_likelihood_per_step);
    const std::optional<double> thr = prob ? std::optional<double>(c.model.threshold(t)) : std::nullopt;
    const EmergenceSummary sum = analyze_emergence(c.xs, ym, thr);
    PlotLine line;
    line.label = c.model.node(t).display_name();
    line.detail = measures_text(sum, thr);
    line.color = ti;
    line.x = c.xd;
    line.y = metric_row(c.evd, t, m, o.log_likelihood_per_step);
    if (std::any_of(line.y.begin(), line.y.end(), [](double y) { return !std::isfinite(y); }))
      result.notes.push_back(line.label + ": " + panel.title + " is -inf (P = 0) at some points; not drawn there");
    if (thr && sum.crossing && !sum.threshold_reached_at_start) {
      line.crossing = sum.crossing;
      line.crossing_y = *thr;
    }
    if (thr && std::find(thresholds.begin(), thresholds.end(), *thr) == thresholds.end()) thresholds.push_back(*thr);
    panel.lines.push_back(std::move(line));
    ++result.lines;
  }
  for (double t : thresholds) panel.hlines.push_back(PlotHLine{t, "threshold " + text::compact(t, 3)});
  return panel;
}

}  // namespace

PlotResult render_plot(const Model& model, const PlotOptions& o) {
  PlotResult result;
  std::vector<std::size_t> tasks = o.tasks.empty() ? model.tasks() : o.tasks;
  if (tasks.empty()) throw std::invalid_argument("the spec has no tasks to plot; name skills explicitly");
  for (std::size_t t : tasks)
    if (t >= model.size()) throw std::invalid_argument("render_plot: task index out of range");

  const ScaleSpec& sc = model.axis().spec();
  const double from = o.from.value_or(sc.from), to = o.to.value_or(sc.to);
  const int points = o.points.value_or(sc.points);
  if (!(from > 0) || !(to > from) || !std::isfinite(to))
    throw std::invalid_argument("the plot range must satisfy 0 < from < to");
  if (points < 2) throw std::invalid_argument("the plot needs at least 2 points");

  const std::vector<Metric> metrics = plot_metrics(model, tasks, o);
  const std::vector<double> xs = ScaleAxis::log_spaced(from, to, points);
  const std::vector<double> xd = ScaleAxis::log_spaced(from, to, std::max(points, 241));
  const Evaluation ev = evaluate(model, xs, o.evaluation);
  const Evaluation evd = evaluate(model, xd, o.evaluation);

  PlotFigure fig = plot_frame(model, o, from, to);
  const PlotCurves curves{model, tasks, o, !o.metrics.empty(), xs, xd, ev, evd};
  std::vector<char> observed_used(o.observed.size(), 0);
  for (std::size_t mi = 0; mi < metrics.size(); ++mi) {
    const Metric& m = metrics[mi];
    PlotPanel panel = metric_panel(curves, m, result);
    for (std::size_t si = 0; si < o.observed.size(); ++si) {
      const ObservedSeries& s = o.observed[si];
      const bool here = s.metric ? *s.metric == m : mi == 0;
      if (!here) continue;
      observed_used[si] = 1;
      panel.points.push_back(PlotPoints{s.label, observed_color(model, tasks, o, si), si, s.x, s.y, s.lo, s.hi});
    }
    fig.panels.push_back(std::move(panel));
  }
  // Observed series whose metric no panel shows: first panel, with a note.
  for (std::size_t si = 0; si < o.observed.size(); ++si) {
    if (observed_used[si] || fig.panels.empty()) continue;
    const ObservedSeries& s = o.observed[si];
    result.notes.push_back("observed series `" + s.label + "`: no panel shows " + metric_label(*s.metric) +
                           "; drawn on the first panel");
    fig.panels.front().points.push_back(PlotPoints{s.label, observed_color(model, tasks, o, si), si, s.x, s.y, s.lo, s.hi});
  }
  result.panels = fig.panels.size();
  result.svg = write_svg_plot(fig);
  return result;
}

}  // namespace capgraph::render
