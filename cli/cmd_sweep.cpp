// capgraph sweep SPEC [--from --to --points] — curves per task and metric,
// with the emergence summary of docs/measures.md §5.
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "graph/emergence.hpp"
#include "graph/evaluation.hpp"

namespace capgraph::cli {

namespace {

struct SweepOpts {
  std::string spec;
  std::string from, to;
  int points = 0;
  std::string tasks;
  bool curves = false;
  bool summary = false;
  double max_curve_cells = 1e7;  ///< --curves table: curves x points
  unsigned threads = 0;
  CommonOptions common;
  MonteCarloFlags mc;
};

// One reported curve: a task's metric over the sweep. Made one at a time
// (for_each_series) and dropped once written: 60,000 tasks x 1,000 points
// would otherwise hold gigabytes of curves besides the evaluation.
struct Series {
  std::size_t task;
  std::string metric;
  std::vector<double> y;
  std::optional<double> threshold;  // probability-valued metrics only
  EmergenceSummary em;
  std::vector<Estimate> mc;  // exact_match only, with --monte-carlo
};

// A log_likelihood metric is reported as two curves: ln P and ln P per step.
bool adds_per_step(const Metric& mt) { return mt.kind == MetricKind::log_likelihood; }

// Calls f(series) for every reported curve, in report order: each task's
// metrics, log_likelihood followed by log_likelihood_per_step. With
// `summary`, the emergence summary is computed too.
template <class F>
void for_each_series(const Model& model, const Evaluation& ev, const std::vector<std::size_t>& tasks,
                     const std::optional<MonteCarloEstimate>& mc, bool summary, F&& f) {
  std::vector<double> x;
  for (const auto& p : ev.points()) x.push_back(p.x);
  const std::size_t m = ev.num_points();
  Series s;
  for (std::size_t t : tasks) {
    for (const Metric& mt : model.metrics(t)) {
      s.task = t;
      s.metric = metric_label(mt);
      s.y.resize(m);
      for (std::size_t j = 0; j < m; ++j) s.y[j] = ev.metric(t, mt, j);
      s.threshold = metric_is_probability(mt) ? std::optional<double>(model.threshold(t)) : std::nullopt;
      s.em = summary ? analyze_emergence(x, s.y, s.threshold) : EmergenceSummary{};
      s.mc.clear();
      if (mc && mt.kind == MetricKind::exact_match)
        for (std::size_t j = 0; j < m; ++j) s.mc.push_back(mc->p(t, j));
      f(s);
      if (adds_per_step(mt)) {
        s.metric = "log_likelihood_per_step";
        for (std::size_t j = 0; j < m; ++j) s.y[j] = ev.log_likelihood_per_step(t, j);
        s.threshold = std::nullopt;
        s.em = summary ? analyze_emergence(x, s.y) : EmergenceSummary{};
        s.mc.clear();
        f(s);
      }
    }
  }
}

std::string crossing_text(const Series& s) {
  if (!s.threshold) return "";
  if (!s.em.crossing) return "not reached";
  if (s.em.threshold_reached_at_start) return "at start";
  return num_short(*s.em.crossing, 3);
}

// JSON as nlohmann's dump(2) of the whole document, written a series at a
// time: its pretty print nests by indentation only.
void write_json(const Model& model, const Evaluation& ev, const std::vector<std::size_t>& tasks,
                const std::optional<MonteCarloEstimate>& mc, OutputStream& os) {
  const auto& pts = ev.points();
  const bool compute = model.spec().scale.axis == Axis::compute;
  nlohmann::ordered_json j;
  j["spec"] = model.spec().name;
  j["axis"] = compute ? "compute" : "params";
  auto jp = nlohmann::ordered_json::array();
  for (const auto& p : pts)
    jp.push_back({{"at", p.x}, {"N", p.N}, {"D", p.D}, {"C", p.C}, {"data_limited", p.data_limited}});
  j["points"] = jp;
  std::string head = json_text(j);
  head.resize(head.size() - 2);  // the closing "\n}"
  os << head << ",\n  \"series\": [";
  bool first = true;
  for_each_series(model, ev, tasks, mc, true, [&](const Series& s) {
    if (os.closed()) return;
    nlohmann::ordered_json e;
    e["task"] = model.node(s.task).id;
    e["metric"] = s.metric;
    auto vals = nlohmann::ordered_json::array();
    for (double y : s.y) vals.push_back(jnum(y));
    e["values"] = vals;
    e["emergence"] = {{"min", jnum(s.em.y_min)},
                      {"max", jnum(s.em.y_max)},
                      {"breakthroughness", jopt(s.em.breakthroughness)},
                      {"x10", jopt(s.em.x10)},
                      {"x90", jopt(s.em.x90)},
                      {"transition_width_decades", jopt(s.em.transition_width)},
                      {"threshold", jopt(s.threshold)},
                      {"crossing", jopt(s.em.crossing)},
                      {"reached_at_start", s.threshold && s.em.threshold_reached_at_start},
                      {"monotone_increasing", s.em.monotone_increasing}};
    if (!s.mc.empty()) {
      auto mv = nlohmann::ordered_json::array(), se = nlohmann::ordered_json::array();
      for (const auto& est : s.mc) {
        mv.push_back(est.mean);
        se.push_back(est.std_error);
      }
      e["monte_carlo"] = {{"values", mv}, {"std_errors", se}};
    }
    const std::string text = json_text(e);
    os << (first ? "\n    " : ",\n    ");
    first = false;
    for (char c : text) {
      os << c;
      if (c == '\n') os << "    ";
    }
  });
  os << (first ? "]\n}\n" : "\n  ]\n}\n");
}

// CSV --summary: one row of emergence measures per series.
void write_csv_summary(const Model& model, const Evaluation& ev, const std::vector<std::size_t>& tasks,
                       const std::optional<MonteCarloEstimate>& mc, OutputStream& os) {
  os << "task,metric,min,max,breakthroughness,x10,x90,transition_width_decades,threshold,crossing,reached_at_start\n";
  auto opt = [&](const std::optional<double>& v) {
    if (v) os.number(*v);
  };
  for_each_series(model, ev, tasks, mc, true, [&](const Series& s) {
    os << model.node(s.task).id << ',' << s.metric << ',';
    os.number(s.em.y_min);
    os << ',';
    os.number(s.em.y_max);
    os << ',';
    opt(s.em.breakthroughness);
    os << ',';
    opt(s.em.x10);
    os << ',';
    opt(s.em.x90);
    os << ',';
    opt(s.em.transition_width);
    os << ',';
    opt(s.threshold);
    os << ',';
    opt(s.em.crossing);
    os << ',' << (s.threshold && s.em.threshold_reached_at_start ? "true" : "false") << '\n';
  });
}

// CSV: one row per point of every curve, the Monte Carlo estimates after them.
void write_csv_curves(const Model& model, const Evaluation& ev, const std::vector<std::size_t>& tasks,
                      const std::optional<MonteCarloEstimate>& mc, OutputStream& os) {
  const auto& pts = ev.points();
  // at,N,D,C of each point, formatted once.
  std::vector<std::string> at(pts.size());
  for (std::size_t j = 0; j < pts.size(); ++j)
    at[j] = num(pts[j].x) + ',' + num(pts[j].N) + ',' + num(pts[j].D) + ',' + num(pts[j].C) + ',';
  os << "task,metric,at,N,D,C,value\n";
  std::vector<std::pair<std::size_t, std::vector<Estimate>>> mcs;  // written after every curve
  for_each_series(model, ev, tasks, mc, false, [&](const Series& s) {
    if (os.closed()) return;
    const std::string& id = model.node(s.task).id;
    for (std::size_t j = 0; j < pts.size(); ++j) {
      os << id << ',' << s.metric << ',' << at[j];
      os.number(s.y[j]);
      os << '\n';
    }
    if (!s.mc.empty()) mcs.emplace_back(s.task, s.mc);
  });
  for (const auto& [task, est] : mcs)
    for (std::size_t j = 0; j < est.size(); ++j)
      for (int q = 0; q < 2; ++q) {
        os << model.node(task).id << ',' << (q ? "exact_match_mc_std_error" : "exact_match_mc") << ',' << at[j];
        os.number(q ? est[j].std_error : est[j].mean);
        os << '\n';
      }
}

// The table aligns its columns over all rows, so it is built in memory.
void write_table(const Model& model, const Evaluation& ev, const std::vector<std::size_t>& tasks,
                 const std::optional<MonteCarloEstimate>& mc, const SweepOpts& o, OutputStream& os) {
  const auto& pts = ev.points();
  const bool compute = model.spec().scale.axis == Axis::compute;
  std::ostringstream out;
  out << o.spec << " — " << model.spec().name << ": " << pts.size() << " points from "
      << describe_point(model, pts.front()) << "\n  to " << describe_point(model, pts.back()) << "\n\n";
  out << "emergence (breakthroughness: BIG-bench; width: decades of " << (compute ? "compute" : "parameters")
      << " from 10% to 90% of the rise)\n";
  TextTable t({"task", "metric", "min", "max", "breakthrough", "width (dec)", "threshold", "crosses at"});
  TextTable mt({"task", "points", "max |exact - MC| / SE", "largest SE"});
  bool any_mc = false;
  std::vector<std::string> head{compute ? "C" : "N"};
  std::vector<std::vector<std::string>> curve_rows(o.curves ? pts.size() : 0);
  for (std::size_t j = 0; j < curve_rows.size(); ++j) curve_rows[j].push_back(num_short(pts[j].x, 3));
  for_each_series(model, ev, tasks, mc, true, [&](const Series& s) {
    t.row({model.node(s.task).id, s.metric, num_short(s.em.y_min, 3), num_short(s.em.y_max, 3),
           s.em.breakthroughness ? num_short(*s.em.breakthroughness, 3) : "n/a",
           s.em.transition_width ? num_short(*s.em.transition_width, 3) : "n/a",
           s.threshold ? num_short(*s.threshold, 3) : "", crossing_text(s)});
    if (!s.mc.empty()) {
      any_mc = true;
      double worst = 0, se_max = 0;
      for (std::size_t j = 0; j < s.mc.size(); ++j) {
        se_max = std::max(se_max, s.mc[j].std_error);
        if (s.mc[j].std_error > 0) worst = std::max(worst, std::abs(s.mc[j].mean - s.y[j]) / s.mc[j].std_error);
      }
      mt.row({model.node(s.task).id, std::to_string(s.mc.size()), num_short(worst, 3), num_short(se_max, 2)});
    }
    if (o.curves) {
      head.push_back(model.node(s.task).id + ":" + s.metric);
      for (std::size_t j = 0; j < pts.size(); ++j) curve_rows[j].push_back(num_short(s.y[j], 4));
    }
  });
  out << t.str();
  if (pts.size() < kMinPointsBreakthroughness)  // the larger of the two minimums
    out << "(" << pts.size() << (pts.size() == 1 ? " point" : " points") << ": breakthroughness needs "
        << kMinPointsBreakthroughness << ", transition width " << kMinPointsTransitionWidth
        << "; docs/measures.md §5)\n";
  if (any_mc) out << "\nMonte Carlo check of exact match (" << o.mc.samples << " samples per point, seed " << o.mc.seed << ")\n" << mt.str();
  if (o.curves) {
    TextTable c(head);
    for (const auto& r : curve_rows) c.row(r);
    out << "\ncurves\n" << c.str();
  }
  os << text_of(out);
}

// Writes the report to `os` as the series are made. Every format but the
// table streams (the table aligns its columns over all rows).
void render(const Model& model, const Evaluation& ev, const std::vector<std::size_t>& tasks,
            const std::optional<MonteCarloEstimate>& mc, const SweepOpts& o, OutputStream& os) {
  switch (o.common.fmt()) {
    case Format::json: write_json(model, ev, tasks, mc, os); break;
    case Format::csv:
      if (o.summary) write_csv_summary(model, ev, tasks, mc, os);
      else write_csv_curves(model, ev, tasks, mc, os);
      break;
    case Format::table: write_table(model, ev, tasks, mc, o, os); break;
  }
}

}  // namespace

void add_sweep(CLI::App& app, Action& run) {
  auto o = std::make_shared<SweepOpts>();
  auto* sub = app.add_subcommand("sweep", "Metric curves of every task over scale, with the emergence summary");
  sub->add_option("SPEC", o->spec, "Spec file (- for standard input)")->required();
  sub->add_option("--from", o->from, "First scale point (default: the spec's scale.range)");
  sub->add_option("--to", o->to, "Last scale point (default: the spec's scale.range)");
  sub->add_option("--points", o->points, "Number of log-spaced points (default: the spec's scale.points)")
      ->transform(number_check(Number::integer, 1));
  sub->add_option("--tasks", o->tasks, "Only these tasks (comma-separated ids)");
  sub->add_flag("--curves", o->curves, "With --format table: also print every point of every curve");
  limits_group(*sub).add_option("--max-curve-cells", o->max_curve_cells,
                  "Most cells (curves x points) of the --curves table, which is aligned in memory")
      ->capture_default_str()
      ->transform(number_check(Number::positive));
  sub->add_flag("--summary", o->summary, "With --format csv: print the emergence summary instead of the curves");
  sub->add_option("--threads", o->threads, "Worker threads (0 = all cores)")->capture_default_str();
  o->common.add_to(*sub);
  o->mc.add_to(*sub);
  sub->callback([o, &run] {
    run = [o] {
      Timings t(o->common.timings);
      std::optional<double> from, to;
      if (!o->from.empty()) parse_scale("--from", o->from);  // checked before loading
      if (!o->to.empty()) parse_scale("--to", o->to);
      const Model model = load_model(o->spec, o->common, t);
      const ScaleSpec& sc = model.spec().scale;
      if (!o->from.empty()) from = parse_scale("--from", o->from, &sc);
      if (!o->to.empty()) to = parse_scale("--to", o->to, &sc);
      const double a = from.value_or(sc.from), b = to.value_or(sc.to);
      if (!(a < b) && !(a == b && (o->points == 1 || (o->points == 0 && sc.points == 1))))
        throw Failure(kUsage, "error: the sweep range must increase: --from " + num_short(a) + " --to " + num_short(b));
      const int n = o->points > 0 ? o->common.check_points("--points", o->points) : sc.points;
      const std::vector<std::size_t> tasks =
          o->tasks.empty() ? model.tasks() : resolve_ids(model, split_list(o->tasks), true);
      if (tasks.empty()) throw Failure(kUsage, "error: the spec has no tasks to sweep");
      refuse_repeats("--tasks", model, tasks);
      if (o->curves && o->common.fmt() == Format::table) {
        // The table aligns its columns over every row, so it is built in
        // memory (about 40 bytes a cell); CSV and JSON stream instead.
        double curves = 0;
        for (std::size_t task : tasks)
          for (const Metric& mt : model.metrics(task)) curves += adds_per_step(mt) ? 2 : 1;  // as for_each_series
        if (curves * n > o->max_curve_cells)
          throw Failure(kUsage, "error: --curves would print " + num_short(curves * n, 3) + " cells (" +
                                    num_short(curves, 6) + " curves x " + std::to_string(n) + " points), over the limit of " +
                                    num_short(o->max_curve_cells, 3) +
                                    "; raise it with --max-curve-cells, or use --format csv (written as it is made) or --tasks");
      }
      t.start();
      const auto xs = ScaleAxis::log_spaced(a, b, n);
      EvalOptions eo = o->common.engine(o->threads);
      eo.keep = tasks;  // only the swept tasks' rows are kept, and only their cones evaluated
      const Evaluation ev = evaluate(model, xs, eo);
      std::optional<MonteCarloEstimate> mc;
      if (o->mc.on()) mc = monte_carlo(model, xs, o->mc.options(o->threads), tasks);
      t.stop("evaluate");
      // The curves and their summaries are made while writing (time under "write").
      OutputStream out(o->common.output);
      render(model, ev, tasks, mc, *o, out);
      out.finish();
      t.stop("write");
      t.print();
      return kOk;
    };
  });
}

}  // namespace capgraph::cli
