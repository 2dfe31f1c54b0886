// capgraph analyze OBSERVATIONS.csv — per (task, family, metric) series of
// measured scores: the emergence measures of docs/measures.md §5 and
// monotonicity, continuous metrics beside the discrete ones scored on the
// same outputs (analysis/series_analysis.hpp).
#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>

#include "analysis/series_analysis.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/observations_io.hpp"

namespace capgraph::cli {

namespace {

struct AnalyzeOpts {
  std::string data;
  double threshold = 0.5;
  std::string axis = "params";
  std::vector<std::string> tasks, families;
  ObservationFlags obs;
  CommonOptions common;
};

std::string metric_type(const analysis::MetricInfo& m) {
  if (!m.recognised) return "unknown";
  return m.discrete ? "discrete" : "continuous";
}

std::string crossing_text(const analysis::SeriesAnalysis& a) {
  if (!a.metric.unit_interval || a.metric.lower_is_better) return "n/a";
  if (a.summary.threshold_reached_at_start) return "at start";
  if (!a.summary.crossing) return "not reached";
  return num_short(*a.summary.crossing, 3);
}

std::string opt_short(const std::optional<double>& v, int digits = 3) { return v ? num_short(*v, digits) : "n/a"; }

// A measure's cell: "n/a (3 pts)" where the series is too short for it
// (docs/measures.md §5), plain "n/a" where it is undefined otherwise.
std::string measure_short(const std::optional<double>& v, std::size_t points, std::size_t min_points) {
  if (!v && points < min_points) return "n/a (" + std::to_string(points) + (points == 1 ? " pt)" : " pts)");
  return opt_short(v);
}

using Results = std::vector<analysis::SeriesAnalysis>;

// Keeps the rows of the --task/--family selection; an empty selection is a
// usage error rather than an empty report.
void keep_selected(analysis::ObservationSet& set, const AnalyzeOpts& o) {
  if (o.tasks.empty() && o.families.empty()) return;
  std::vector<analysis::Observation> keep;
  for (auto& r : set.rows) {
    const bool t = o.tasks.empty() || std::find(o.tasks.begin(), o.tasks.end(), r.task) != o.tasks.end();
    const bool f = o.families.empty() || std::find(o.families.begin(), o.families.end(), r.family) != o.families.end();
    if (t && f) keep.push_back(std::move(r));
  }
  set.rows = std::move(keep);
  if (set.rows.empty()) throw Failure(kUsage, "error: no observation matches --task/--family");
}

void write_table(std::ostream& os, const Results& res, const AnalyzeOpts& o, bool compute) {
  os << "Emergence measures per series (docs/measures.md §5), x = " << (compute ? "training FLOPs" : "parameters")
     << ", threshold " << num_short(o.threshold) << "; lower-is-better metrics analysed as -score, BLEU as BLEU/100\n\n";
  TextTable t({"task", "family", "metric", "type", "better", "pts", "min", "max", "breakthrough", "width(dec)",
               "crossing", "monotone", "discrete partner B"},
              "llllla");
  std::size_t short_series = 0, tied_series = 0;
  for (const auto& a : res) {
    std::string mono = std::to_string(a.steps_better) + "/" + std::to_string(a.steps) + " up";
    if (a.monotone) mono += ", monotone";
    std::string partner = "";
    if (a.paired_with) {
      const auto& p = res[*a.paired_with];
      partner = p.series.metric + " " + opt_short(p.summary.breakthroughness);
    }
    t.row({a.series.task, a.series.family, a.series.metric, metric_type(a.metric),
           a.metric.lower_is_better ? "lower" : "higher", std::to_string(a.series.x.size()),
           num_short(a.value_min, 3), num_short(a.value_max, 3),
           measure_short(a.summary.breakthroughness, a.summary.points, kMinPointsBreakthroughness),
           measure_short(a.summary.transition_width, a.summary.points, kMinPointsTransitionWidth), crossing_text(a),
           mono, partner});
    short_series += a.summary.points < kMinPointsBreakthroughness;
    tied_series += a.tied_scales > 0;
  }
  os << t.str();
  if (short_series)
    os << "\nn/a (k pts): too few points for the measure: breakthroughness needs " << kMinPointsBreakthroughness
       << ", transition width " << kMinPointsTransitionWidth << " (docs/measures.md §5)\n";
  if (tied_series)
    os << (short_series ? "" : "\n") << "ties: in " << tied_series << " series"
       << " several models share a scale; their scores are averaged (pts counts scales)\n";
}

void write_csv(std::ostream& os, const Results& res, const AnalyzeOpts& o) {
  os << "task,family,metric,type,lower_is_better,points,rows,x_min,x_max,value_min,value_max,breakthroughness,"
        "transition_width,x10,x90,threshold,crossing,crossing_status,steps,steps_better,steps_worse,monotone,"
        "paired_metric,paired_breakthroughness,note\n";
  auto o_num = [](const std::optional<double>& v) { return v ? num(*v) : std::string(); };
  for (const auto& a : res) {
    const bool applies = a.metric.unit_interval && !a.metric.lower_is_better;
    os << csv_field(a.series.task) << ',' << csv_field(a.series.family) << ',' << csv_field(a.series.metric) << ','
       << metric_type(a.metric) << ',' << (a.metric.lower_is_better ? "true" : "false") << ',' << a.series.x.size()
       << ',' << a.series.rows.size() << ',' << num(a.series.x.front()) << ',' << num(a.series.x.back()) << ',' << num(a.value_min) << ','
       << num(a.value_max) << ',' << o_num(a.summary.breakthroughness) << ',' << o_num(a.summary.transition_width)
       << ',' << o_num(a.summary.x10) << ',' << o_num(a.summary.x90) << ','
       << (applies ? num(o.threshold) : std::string()) << ',' << o_num(a.summary.crossing) << ','
       << csv_field(crossing_text(a)) << ',' << a.steps << ',' << a.steps_better << ',' << a.steps_worse << ','
       << (a.monotone ? "true" : "false") << ','
       << (a.paired_with ? csv_field(res[*a.paired_with].series.metric) : std::string()) << ','
       << (a.paired_with ? o_num(res[*a.paired_with].summary.breakthroughness) : std::string()) << ','
       << csv_field(a.note) << '\n';
  }
}

void write_json(std::ostream& os, const Results& res, const AnalyzeOpts& o, const analysis::ObservationSet& set, bool compute) {
  nlohmann::ordered_json j;
  j["file"] = set.file;
  j["axis"] = compute ? "compute" : "params";
  j["threshold"] = o.threshold;
  j["series"] = nlohmann::ordered_json::array();
  for (const auto& a : res) {
    nlohmann::ordered_json s;
    s["task"] = a.series.task;
    s["family"] = a.series.family;
    s["metric"] = a.series.metric;
    s["type"] = metric_type(a.metric);
    s["lower_is_better"] = a.metric.lower_is_better;
    s["score_scale"] = a.metric.scale;
    s["points"] = a.series.x.size();
    s["rows"] = a.series.rows.size();
    s["at"] = a.series.x;
    s["value"] = a.series.y;
    s["breakthroughness"] = jopt(a.summary.breakthroughness);
    s["transition_width"] = jopt(a.summary.transition_width);
    s["x10"] = jopt(a.summary.x10);
    s["x90"] = jopt(a.summary.x90);
    s["crossing"] = jopt(a.summary.crossing);
    s["crossing_status"] = crossing_text(a);
    s["steps"] = a.steps;
    s["steps_better"] = a.steps_better;
    s["steps_worse"] = a.steps_worse;
    s["monotone"] = a.monotone;
    if (a.paired_with) {
      s["paired_metric"] = res[*a.paired_with].series.metric;
      s["paired_breakthroughness"] = jopt(res[*a.paired_with].summary.breakthroughness);
    }
    s["note"] = a.note;
    j["series"].push_back(std::move(s));
  }
  os << json_text(j) << '\n';
}

int run_analyze(const AnalyzeOpts& o) {
  analysis::ReadOptions ro = o.obs.options(o.common.max_bytes);
  const bool compute = o.axis == "compute";
  ro.need_train_flops = compute;
  analysis::ObservationSet set = load_observations(o.data, ro);
  keep_selected(set, o);
  analysis::AnalyzeOptions ao;
  ao.threshold = o.threshold;
  ao.compute_axis = compute;
  const auto res = analysis::analyze_series(set, ao);
  std::ostringstream os;
  const Format fmt = o.common.fmt();
  if (fmt == Format::table)
    write_table(os, res, o, compute);
  else if (fmt == Format::csv)
    write_csv(os, res, o);
  else
    write_json(os, res, o, set, compute);
  write_output(text_of(os), o.common);
  return kOk;
}

}  // namespace

void add_analyze(CLI::App& app, Action& run) {
  auto o = std::make_shared<AnalyzeOpts>();
  auto* sub = app.add_subcommand(
      "analyze", "Emergence measures of measured score series (observations CSV), discrete and continuous metrics side by side");
  sub->add_option("OBSERVATIONS", o->data, "Observations CSV (task,family,params,metric,score[,shots,model,train_flops,n,node]); - for standard input")
      ->required();
  sub->add_option("--threshold", o->threshold, "Threshold for the crossing of metrics valued in [0, 1] (BLEU / 100)")
      ->transform(number_check(Number::real, 0, 1))
      ->capture_default_str();
  sub->add_option("--axis", o->axis, "Scale of each model: params, or compute (the train_flops column)")
      ->check(CLI::IsMember({"params", "compute"}))
      ->capture_default_str();
  sub->add_option("--task", o->tasks, "Only this task (repeatable)");
  sub->add_option("--family", o->families, "Only this model family (repeatable)");
  sub->add_option("--lower-is-better", o->obs.lower_is_better, "Declare a metric lower-is-better (repeatable; Brier and loss are known)");
  sub->add_option("--format", o->common.format, "Output format")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  sub->add_option("-o,--output", o->common.output, "Write to this file (whole or not at all) instead of standard output");
  o->common.add_limits(*sub, Limits::kBytes);
  sub->callback([o, &run] { run = [o] { return run_analyze(*o); }; });
}

}  // namespace capgraph::cli
