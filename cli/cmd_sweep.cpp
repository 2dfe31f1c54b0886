// capgraph sweep SPEC [--from --to --points] — curves per task and metric,
// with the emergence summary of DESIGN.md 3.4.
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
  unsigned threads = 0;
  CommonOptions common;
  MonteCarloFlags mc;
};

// One reported curve: a task's metric over the sweep.
struct Series {
  std::size_t task;
  std::string metric;
  std::vector<double> y;
  std::optional<double> threshold;  // probability-valued metrics only
  EmergenceSummary em;
  std::vector<Estimate> mc;  // exact_match only, with --monte-carlo
};

std::vector<Series> collect(const Model& model, const Evaluation& ev, const std::vector<std::size_t>& tasks,
                            const std::optional<MonteCarloEstimate>& mc) {
  std::vector<Series> out;
  std::vector<double> x;
  for (const auto& p : ev.points()) x.push_back(p.x);
  const std::size_t m = ev.num_points();
  for (std::size_t t : tasks) {
    for (const Metric& mt : model.metrics(t)) {
      Series s{t, metric_label(mt), std::vector<double>(m), std::nullopt, {}, {}};
      for (std::size_t j = 0; j < m; ++j) s.y[j] = ev.metric(t, mt, j);
      if (metric_is_probability(mt)) s.threshold = model.threshold(t);
      s.em = analyze_emergence(x, s.y, s.threshold);
      if (mc && mt.kind == MetricKind::exact_match)
        for (std::size_t j = 0; j < m; ++j) s.mc.push_back(mc->p(t, j));
      out.push_back(std::move(s));
      if (mt.kind == MetricKind::log_likelihood) {
        Series ps{t, "log_likelihood_per_step", std::vector<double>(m), std::nullopt, {}, {}};
        for (std::size_t j = 0; j < m; ++j) ps.y[j] = ev.log_likelihood_per_step(t, j);
        ps.em = analyze_emergence(x, ps.y);
        out.push_back(std::move(ps));
      }
    }
  }
  return out;
}


std::string crossing_text(const Series& s) {
  if (!s.threshold) return "";
  if (!s.em.crossing) return "not reached";
  if (s.em.threshold_reached_at_start) return "at start";
  return num_short(*s.em.crossing, 3);
}

std::string render(const Model& model, const Evaluation& ev, const std::vector<Series>& series, const SweepOpts& o) {
  std::ostringstream os;
  const auto& pts = ev.points();
  const bool compute = model.spec().scale.axis == Axis::compute;
  switch (o.common.fmt()) {
    case Format::json: {
      nlohmann::ordered_json j;
      j["spec"] = model.spec().name;
      j["axis"] = compute ? "compute" : "params";
      auto jp = nlohmann::ordered_json::array();
      for (const auto& p : pts)
        jp.push_back({{"x", p.x}, {"N", p.N}, {"D", p.D}, {"C", p.C}, {"data_limited", p.data_limited}});
      j["points"] = jp;
      auto js = nlohmann::ordered_json::array();
      for (const auto& s : series) {
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
                          {"monotone_increasing", s.em.monotone_increasing}};
        if (!s.mc.empty()) {
          auto mv = nlohmann::ordered_json::array(), se = nlohmann::ordered_json::array();
          for (const auto& est : s.mc) {
            mv.push_back(est.mean);
            se.push_back(est.std_error);
          }
          e["monte_carlo"] = {{"values", mv}, {"std_errors", se}};
        }
        js.push_back(e);
      }
      j["series"] = js;
      os << j.dump(2) << '\n';
      break;
    }
    case Format::csv:
      if (o.summary) {
        os << "task,metric,min,max,breakthroughness,x10,x90,transition_width_decades,threshold,crossing\n";
        auto opt = [](const std::optional<double>& v) { return v ? num(*v) : std::string(); };
        for (const auto& s : series)
          os << model.node(s.task).id << ',' << s.metric << ',' << num(s.em.y_min) << ',' << num(s.em.y_max) << ','
             << opt(s.em.breakthroughness) << ',' << opt(s.em.x10) << ',' << opt(s.em.x90) << ','
             << opt(s.em.transition_width) << ',' << opt(s.threshold) << ',' << opt(s.em.crossing) << '\n';
      } else {
        os << "task,metric,x,N,D,C,value\n";
        for (const auto& s : series)
          for (std::size_t j = 0; j < pts.size(); ++j)
            os << model.node(s.task).id << ',' << s.metric << ',' << num(pts[j].x) << ',' << num(pts[j].N) << ','
               << num(pts[j].D) << ',' << num(pts[j].C) << ',' << num(s.y[j]) << '\n';
        for (const auto& s : series)
          for (std::size_t j = 0; j < s.mc.size(); ++j)
            for (int q = 0; q < 2; ++q)
              os << model.node(s.task).id << ',' << (q ? "exact_match_mc_std_error" : "exact_match_mc") << ','
                 << num(pts[j].x) << ',' << num(pts[j].N) << ',' << num(pts[j].D) << ',' << num(pts[j].C) << ','
                 << num(q ? s.mc[j].std_error : s.mc[j].mean) << '\n';
      }
      break;
    case Format::table: {
      os << o.spec << " — " << model.spec().name << ": " << pts.size() << " points from "
         << describe_point(model, pts.front()) << "\n  to " << describe_point(model, pts.back()) << "\n\n";
      os << "emergence (breakthroughness: BIG-bench; width: decades of " << (compute ? "compute" : "parameters")
         << " from 10% to 90% of the rise)\n";
      TextTable t({"task", "metric", "min", "max", "breakthrough", "width (dec)", "threshold", "crosses at"});
      for (const auto& s : series)
        t.row({model.node(s.task).id, s.metric, num_short(s.em.y_min, 3), num_short(s.em.y_max, 3),
               s.em.breakthroughness ? num_short(*s.em.breakthroughness, 3) : "n/a",
               s.em.transition_width ? num_short(*s.em.transition_width, 3) : "n/a",
               s.threshold ? num_short(*s.threshold, 3) : "", crossing_text(s)});
      os << t.str();
      bool any_mc = false;
      TextTable mt({"task", "points", "max |exact - MC| / SE", "largest SE"});
      for (const auto& s : series) {
        if (s.mc.empty()) continue;
        any_mc = true;
        double worst = 0, se_max = 0;
        for (std::size_t j = 0; j < s.mc.size(); ++j) {
          se_max = std::max(se_max, s.mc[j].std_error);
          if (s.mc[j].std_error > 0) worst = std::max(worst, std::abs(s.mc[j].mean - s.y[j]) / s.mc[j].std_error);
        }
        mt.row({model.node(s.task).id, std::to_string(s.mc.size()), num_short(worst, 3), num_short(se_max, 2)});
      }
      if (any_mc) os << "\nMonte Carlo check of exact match (" << o.mc.samples << " samples per point, seed " << o.mc.seed << ")\n" << mt.str();
      if (o.curves) {
        std::vector<std::string> head{compute ? "C" : "N"};
        for (const auto& s : series) head.push_back(model.node(s.task).id + ":" + s.metric);
        TextTable c(head);
        for (std::size_t j = 0; j < pts.size(); ++j) {
          std::vector<std::string> r{num_short(pts[j].x, 3)};
          for (const auto& s : series) r.push_back(num_short(s.y[j], 4));
          c.row(r);
        }
        os << "\ncurves\n" << c.str();
      }
      break;
    }
  }
  return os.str();
}

}  // namespace

void add_sweep(CLI::App& app, Action& run) {
  auto o = std::make_shared<SweepOpts>();
  auto* sub = app.add_subcommand("sweep", "Metric curves of every task over scale, with the emergence summary");
  sub->add_option("SPEC", o->spec, "Spec file (- for standard input)")->required();
  sub->add_option("--from", o->from, "First scale point (default: the spec's scale.range)");
  sub->add_option("--to", o->to, "Last scale point (default: the spec's scale.range)");
  sub->add_option("--points", o->points, "Number of log-spaced points (default: the spec's scale.points)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--tasks", o->tasks, "Only these tasks (comma-separated ids)");
  sub->add_flag("--curves", o->curves, "With --format table: also print every point of every curve");
  sub->add_flag("--summary", o->summary, "With --format csv: print the emergence summary instead of the curves");
  sub->add_option("--threads", o->threads, "Worker threads (0 = all cores)")->capture_default_str();
  o->common.add_to(*sub);
  o->mc.add_to(*sub);
  sub->callback([o, &run] {
    run = [o] {
      Timings t(o->common.timings);
      std::optional<double> from, to;
      if (!o->from.empty()) from = parse_positive("--from", o->from);
      if (!o->to.empty()) to = parse_positive("--to", o->to);
      const Model model = load_model(o->spec, o->common, t);
      const ScaleSpec& sc = model.spec().scale;
      const double a = from.value_or(sc.from), b = to.value_or(sc.to);
      if (!(a < b) && !(a == b && (o->points == 1 || (o->points == 0 && sc.points == 1))))
        throw Failure(kUsage, "error: the sweep range must increase: --from " + num_short(a) + " --to " + num_short(b));
      const int n = o->points > 0 ? o->common.check_points("--points", o->points) : sc.points;
      const std::vector<std::size_t> tasks =
          o->tasks.empty() ? model.tasks() : resolve_ids(model, split_list(o->tasks), true);
      if (tasks.empty()) throw Failure(kUsage, "error: the spec has no tasks to sweep");
      t.start();
      const auto xs = ScaleAxis::log_spaced(a, b, n);
      EvalOptions eo = o->common.engine(o->threads);
      eo.keep = tasks;  // only the swept tasks' rows are kept (every node is still evaluated)
      const Evaluation ev = evaluate(model, xs, eo);
      std::optional<MonteCarloEstimate> mc;
      if (o->mc.on()) mc = monte_carlo(model, xs, o->mc.options(o->threads), tasks);
      const auto series = collect(model, ev, tasks, mc);
      t.stop("evaluate");
      write_output(render(model, ev, series, *o), o->common);
      t.stop("write");
      t.print();
      return kOk;
    };
  });
}

}  // namespace capgraph::cli
