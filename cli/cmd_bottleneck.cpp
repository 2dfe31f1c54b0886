// capgraph bottleneck SPEC --task T --at X — ranked prerequisites of a task,
// every measure of docs/measures.md §6, and the critical path; --over reports at
// which scale the top bottleneck changes hands across a sweep.
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "graph/importance.hpp"

namespace capgraph::cli {

namespace {

struct BottleneckOpts {
  std::string spec;
  std::string task;
  std::vector<std::string> at;
  std::string by = "potential";
  std::size_t top = 0;
  bool over = false;
  bool skills = false;
  std::string from, to;
  int points = 0;
  unsigned threads = 0;
  CommonOptions common;
  MonteCarloFlags mc;
};

// Monte Carlo estimates of P_T and of each prerequisite's improvement
// potential (P_T with the prerequisite made certain, minus P_T): the model
// sampled with that node forced to 1 (graph/overrides.hpp), same seed.
struct McCheck {
  Estimate p_task;
  std::vector<Estimate> improvement;  // per row of the table
};

McCheck monte_carlo_check(const Model& model, const ImportanceTable& t, const MonteCarloFlags& flags) {
  const std::vector<double> xs{t.point.x};
  McCheck out;
  MonteCarloOptions options = flags.options();
  out.p_task = monte_carlo(model, xs, options, {t.task}).p(t.task, 0);
  for (const auto& r : t.rows) {
    options.overrides.clear();
    options.overrides.force(r.node, 1.0);
    const Estimate e = monte_carlo(model, xs, options, {t.task}).p(t.task, 0);
    out.improvement.push_back({e.mean - out.p_task.mean, std::hypot(e.std_error, out.p_task.std_error)});
  }
  return out;
}

ImportanceOrder order_of(const std::string& by) {
  if (by == "birnbaum") return ImportanceOrder::birnbaum;
  if (by == "criticality") return ImportanceOrder::criticality;
  if (by == "drive") return ImportanceOrder::drive;
  return ImportanceOrder::potential;
}

std::string path_text(const Model& model, const std::vector<std::size_t>& path) {
  std::string s;
  for (std::size_t i = 0; i < path.size(); ++i) s += (i ? " -> " : "") + model.node(path[i]).id;
  return s;
}

// One ranked table per --at value, each with its Monte Carlo check.
struct PointTable {
  ImportanceTable t;
  std::optional<McCheck> mc;
};

nlohmann::ordered_json json_point(const Model& model, const PointTable& pt, std::size_t shown) {
  const ImportanceTable& t = pt.t;
  nlohmann::ordered_json j;
  j["at"] = t.point.x;
  j["N"] = t.point.N;
  j["D"] = t.point.D;
  j["C"] = t.point.C;
  j["p_task"] = t.p_task;
  j["dp_task_dlog10x"] = t.dp_task_dlog10x;
  if (pt.mc) j["monte_carlo"] = {{"p_task", pt.mc->p_task.mean}, {"std_error", pt.mc->p_task.std_error}};
  auto rows = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& r = t.rows[i];
    nlohmann::ordered_json e;
    e["rank"] = i + 1;
    e["node"] = model.node(r.node).id;
    e["kind"] = kind_of(model.node(r.node));
    e["p"] = r.p;
    e["uses"] = r.uses;
    e["birnbaum"] = jnum(r.birnbaum);
    e["criticality"] = jnum(r.criticality);
    e["improvement_potential"] = jnum(r.improvement);
    e["scale_drive"] = r.drive ? jnum(*r.drive) : nlohmann::ordered_json(nullptr);
    if (pt.mc)
      e["monte_carlo"] = {{"improvement_potential", pt.mc->improvement[i].mean}, {"std_error", pt.mc->improvement[i].std_error}};
    rows.push_back(e);
  }
  j["prerequisites"] = rows;
  auto path = nlohmann::ordered_json::array();
  for (std::size_t v : t.critical_path) path.push_back(model.node(v).id);
  j["critical_path"] = path;
  return j;
}

// The same columns whatever the options (the Monte Carlo pair is empty
// without --monte-carlo), one row per (at, rank), so that several points
// stack into one table.
constexpr const char* kCsvHeader =
    "at,p_task,rank,node,kind,p,uses,birnbaum,criticality,improvement_potential,scale_drive,"
    "mc_improvement_potential,mc_std_error\n";

std::string render_table(const Model& model, const std::vector<PointTable>& points, const BottleneckOpts& o) {
  std::ostringstream os;
  auto shown_of = [&](const ImportanceTable& t) { return o.top ? std::min(o.top, t.rows.size()) : t.rows.size(); };
  const std::string& task = model.node(points.front().t.task).id;
  switch (o.common.fmt()) {
    case Format::json: {
      nlohmann::ordered_json j;
      j["task"] = task;
      j["ranked_by"] = o.by;
      if (o.mc.on()) j["monte_carlo"] = {{"samples", o.mc.samples}, {"seed", o.mc.seed}};
      auto arr = nlohmann::ordered_json::array();
      for (const PointTable& pt : points) arr.push_back(json_point(model, pt, shown_of(pt.t)));
      j["points"] = arr;
      os << json_text(j) << '\n';
      break;
    }
    case Format::csv:
      os << kCsvHeader;
      for (const PointTable& pt : points) {
        const ImportanceTable& t = pt.t;
        const std::string head = num(t.point.x) + ',' + num(t.p_task) + ',';
        for (std::size_t i = 0, shown = shown_of(t); i < shown; ++i) {
          const auto& r = t.rows[i];
          os << head << i + 1 << ',' << model.node(r.node).id << ',' << kind_of(model.node(r.node)) << ','
             << num(r.p) << ',' << num(r.uses) << ',' << num(r.birnbaum) << ',' << num(r.criticality) << ','
             << num(r.improvement) << ',' << (r.drive ? num(*r.drive) : "") << ',';
          if (pt.mc) os << num(pt.mc->improvement[i].mean) << ',' << num(pt.mc->improvement[i].std_error);
          else os << ',';
          os << '\n';
        }
      }
      break;
    case Format::table: {
      for (std::size_t k = 0; k < points.size(); ++k) {
        const ImportanceTable& t = points[k].t;
        const std::optional<McCheck>& mc = points[k].mc;
        const std::size_t shown = shown_of(t);
        if (k) os << "\n\n";
        os << "bottlenecks of `" << task << "` at " << describe_point(model, t.point) << "\n"
           << "P = " << num_short(t.p_task) << ", dP/dlog10(" << (model.spec().scale.axis == Axis::compute ? "C" : "N")
           << ") = " << num_short(t.dp_task_dlog10x) << " per decade; ranked by " << o.by << "\n\n";
        std::vector<std::string> head{"#", "prerequisite", "kind", "P", "uses", "Birnbaum", "critical.", "improve", "drive"};
        if (mc) head.insert(head.end(), {"improve (MC)", "SE"});
        TextTable tab(head);
        for (std::size_t i = 0; i < shown; ++i) {
          const auto& r = t.rows[i];
          std::vector<std::string> row{std::to_string(i + 1), model.node(r.node).id, kind_of(model.node(r.node)),
                                       num_short(r.p), num_short(r.uses), num_short(r.birnbaum), num_short(r.criticality),
                                       num_short(r.improvement), r.drive ? num_short(*r.drive) : ""};
          if (mc) row.insert(row.end(), {num_short(mc->improvement[i].mean), num_short(mc->improvement[i].std_error, 2)});
          tab.row(row);
        }
        os << tab.str();
        if (mc)
          os << "Monte Carlo (" << o.mc.samples << " samples, seed " << o.mc.seed << "): P = " << num_short(mc->p_task.mean)
             << " +- " << num_short(mc->p_task.std_error, 2) << "\n";
        if (shown < t.rows.size()) os << "(" << t.rows.size() - shown << " more; --top 0 shows all)\n";
        os << "\ncritical path: " << path_text(model, t.critical_path) << '\n';
      }
      os << "\nBirnbaum dP_T/dP_i; criticality B P_i / P_T; improve = P_T with P_i = 1, minus P_T;\n"
            "drive = B dP_i/dlog10(scale) per decade (skills). See docs/measures.md.\n";
      break;
    }
  }
  return text_of(os);
}

void keep_skills(const Model& model, ImportanceTable& t) {
  std::erase_if(t.rows, [&](const Prerequisite& r) { return model.node(r.node).is_task; });
}

// Runs of the sweep where the top-ranked prerequisite stays the same.
std::string render_over(const Model& model, std::size_t task, const std::vector<double>& xs, const BottleneckOpts& o) {
  struct Run {
    double from, to;
    std::size_t node;
  };
  std::vector<Run> runs;
  const ImportanceOrder ord = order_of(o.by);
  for (double x : xs) {
    ImportanceTable t = importance(model, task, x, ord, o.common.engine(o.threads));
    if (o.skills) keep_skills(model, t);
    if (t.rows.empty()) continue;
    const std::size_t top = t.rows.front().node;
    if (!runs.empty() && runs.back().node == top) runs.back().to = x;
    else runs.push_back({x, x, top});
  }
  std::ostringstream os;
  switch (o.common.fmt()) {
    case Format::json: {
      auto arr = nlohmann::ordered_json::array();
      for (const auto& r : runs) arr.push_back({{"from", r.from}, {"to", r.to}, {"bottleneck", model.node(r.node).id}});
      nlohmann::ordered_json j;
      j["task"] = model.node(task).id;
      j["ranked_by"] = o.by;
      j["runs"] = arr;
      os << json_text(j) << '\n';
      break;
    }
    case Format::csv:
      os << "from,to,bottleneck\n";
      for (const auto& r : runs) os << num(r.from) << ',' << num(r.to) << ',' << model.node(r.node).id << '\n';
      break;
    case Format::table: {
      os << "top bottleneck of `" << model.node(task).id << "` by " << o.by << " over " << xs.size() << " points\n\n";
      TextTable t({"from", "to", "bottleneck"});
      for (const auto& r : runs) t.row({num_short(r.from, 3), num_short(r.to, 3), model.node(r.node).id});
      os << t.str();
      break;
    }
  }
  return text_of(os);
}

}  // namespace

void add_bottleneck(CLI::App& app, Action& run) {
  auto o = std::make_shared<BottleneckOpts>();
  auto* sub = app.add_subcommand("bottleneck", "Which prerequisites hold a task back: importance measures and critical path");
  sub->add_option("SPEC", o->spec, "Spec file (- for standard input)")->required();
  sub->add_option("--task", o->task, "The task to analyse")->required();
  sub->add_option("--at", o->at,
                  "Scale points (parameters, or FLOPs on the compute axis), e.g. 1e10 or 70B; repeatable or "
                  "comma-separated; required unless --over")
      ->delimiter(',');
  sub->add_option("--by", o->by, "Ranking measure")
      ->check(CLI::IsMember({"potential", "birnbaum", "criticality", "drive"}))
      ->capture_default_str();
  sub->add_option("--top", o->top, "Show only the first K prerequisites (0 = all)")->capture_default_str();
  sub->add_flag("--skills", o->skills, "List skills (leaves) only, not intermediate tasks");
  sub->add_option("--threads", o->threads, "Worker threads for the improvement potentials (0 = all cores)")
      ->capture_default_str();
  sub->add_flag("--over", o->over, "Across the sweep: at which scale the top bottleneck changes hands");
  sub->add_option("--from", o->from, "With --over: first scale point (default: the spec's range)");
  sub->add_option("--to", o->to, "With --over: last scale point (default: the spec's range)");
  sub->add_option("--points", o->points, "With --over: number of points (default: the spec's)")->transform(number_check(Number::integer, 1));
  o->common.add_to(*sub);
  o->mc.add_to(*sub);
  sub->callback([o, &run] {
    run = [o] {
      Timings tm(o->common.timings);
      if (!o->over && o->at.empty()) throw Failure(kUsage, "error: bottleneck needs --at X (or --over for a sweep)");
      if (o->over && !o->at.empty()) throw Failure(kUsage, "error: --over sweeps its own points; give --from --to --points, not --at");
      for (const auto& a : o->at) parse_scale("--at", a);  // checked before loading
      const Model model = load_model(o->spec, o->common, tm);
      std::vector<double> xs;
      for (const auto& a : o->at) xs.push_back(parse_scale("--at", a, &model.spec().scale));
      refuse_repeats("--at", xs);
      o->common.check_points("--at", static_cast<int>(std::min<std::size_t>(xs.size(), std::numeric_limits<int>::max())));
      const std::size_t task = resolve_ids(model, {o->task}, true).front();
      tm.start();
      std::string text;
      if (o->over) {
        const ScaleSpec& sc = model.spec().scale;
        const double a = o->from.empty() ? sc.from : parse_scale("--from", o->from, &sc);
        const double b = o->to.empty() ? sc.to : parse_scale("--to", o->to, &sc);
        if (!(a < b)) throw Failure(kUsage, "error: the sweep range must increase");
        text = render_over(model, task, ScaleAxis::log_spaced(a, b, o->points > 0 ? o->common.check_points("--points", o->points) : sc.points), *o);
      } else {
        std::vector<PointTable> points;
        for (double x : xs) {
          PointTable pt{importance(model, task, x, order_of(o->by), o->common.engine(o->threads)), std::nullopt};
          if (o->skills) keep_skills(model, pt.t);
          if (o->mc.on()) pt.mc = monte_carlo_check(model, pt.t, o->mc);
          points.push_back(std::move(pt));
        }
        text = render_table(model, points, *o);
      }
      tm.stop("evaluate");
      write_output(text, o->common);
      tm.stop("write");
      tm.print();
      return kOk;
    };
  });
}

}  // namespace capgraph::cli
