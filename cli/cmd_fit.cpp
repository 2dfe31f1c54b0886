// capgraph fit SPEC --data OBSERVATIONS.csv -o fitted.yaml — fit the spec's
// skill curves to measured scores through the graph, report parameters with
// intervals, residuals with prediction intervals and crossing forecasts;
// --params/--predictions/--crossings write one tidy table each; with
// --train-below, a backtest against a per-task logistic baseline
// (analysis/fit.hpp). A fit that is not a result exits 4 and writes only
// its report.
#include <cmath>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "analysis/backtest.hpp"
#include "analysis/fit.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/fit_backtest.hpp"
#include "cli/observations_io.hpp"
#include "specs/spec_writer.hpp"

namespace capgraph::cli {

namespace {

struct FitOpts {
  std::string spec;
  std::string data;
  std::string family;
  std::string fit_only, fixed;
  std::string train_below;
  double logit_floor = 1e-3;
  bool pool = false, backtest = false;
  std::string report;
  std::string params_file, predictions_file, crossings_file, offsets_file;
  ObservationFlags obs;
  CommonOptions common;
};

std::string opt_short(const std::optional<double>& v, int digits = 3) { return v ? num_short(*v, digits) : "n/a"; }
std::string se_text(double se) { return std::isfinite(se) ? num_short(se, 3) : "n/a"; }

// The value a parameter stands for, in the spec's own terms.
std::string spec_value(const analysis::FitParameter& p) {
  if (p.name == "log10_mid") return "mid = " + num_short(std::pow(10.0, p.value), 4);
  if (p.name == "log10_c") return "c = " + num_short(std::pow(10.0, p.value), 4);
  if (p.name == "ln_weight") return "weight = " + num_short(std::exp(p.value), 4);
  if (p.name == "logit_value") return "p = " + num_short(1 / (1 + std::exp(-p.value)), 4);
  if (p.name == "log10_offset") return "x " + num_short(std::pow(10.0, p.value), 4) + " the reference's scale";
  return p.name + " = " + num_short(p.value, 4);
}

std::string crossing_text(const analysis::CrossingForecast& f) {
  if (!f.constrained) return "not constrained";
  if (f.at_start) return "already above";
  if (!f.crossing) return "not by " + num_short(f.to, 3);
  return num_short(*f.crossing, 3);
}

std::string interval_end(const analysis::CrossingForecast& f, bool low) {
  if (!f.interval) return "n/a";
  const auto& v = low ? f.lo : f.hi;
  if (v) return num_short(*v, 3);
  return low ? "<= " + num_short(f.from, 3) : "> " + num_short(f.to, 3);
}

// A word on an interval too wide to act on.
std::string interval_note(const analysis::CrossingForecast& f) {
  if (!f.interval) return "";
  if (!f.hi) return "no upper end in range: the data do not bound it";
  if (!f.lo) return "no lower end in range";
  const double decades = std::log10(*f.hi / *f.lo);
  return decades >= 2 ? "wide: " + num_short(decades, 2) + " decades" : "";
}

std::string status_text(const analysis::FitParameter& p) {
  if (p.at_bound) return "not identified (at bound)";
  return p.identified ? "fitted" : "not identified";
}

// What the user can do about a fit that is not a result.
std::string not_a_result(const analysis::FitReport& r) {
  std::string s = "the fit is not a result (" + std::string(analysis::fit_status_name(r.status)) + ")";
  if (!r.unidentified.empty()) {
    // A pooled family's offset is not a skill: --fixed cannot hold it.
    std::string list, skills, families;
    for (const auto& u : r.unidentified) {
      list += (list.empty() ? "" : ", ") + u;
      const std::string leaf = u.substr(0, u.rfind('.'));
      std::string& names = u.ends_with(".log10_offset") ? families : skills;
      if (names.find(leaf) == std::string::npos) names += (names.empty() ? "" : ",") + leaf;
    }
    s += ": the data do not identify " + list + ";";
    if (!skills.empty()) s += " fix a skill (--fixed " + skills + ") or add observations that separate them";
    if (!skills.empty() && !families.empty()) s += ";";
    if (!families.empty())
      s += " add observations of family " + families +
           " that move with scale (scores off the floor), or leave it out of the data";
  } else if (r.status == analysis::FitStatus::not_converged) {
    s += ": " + std::to_string(r.starts_at_best) + " of " + std::to_string(r.starts) +
         " optimiser starts reached the best objective; fix some skills with --fixed or add observations";
  } else {
    s += ": no residual degrees of freedom; add observations or fix some skills with --fixed";
  }
  return s + "; no forecast, no output file written";
}

std::size_t outside_band(const analysis::FitSeries& s, bool train) {
  std::size_t n = 0;
  for (const auto& p : s.points)
    if (p.train == train && p.lo && (p.observed < *p.lo || p.observed > *p.hi)) ++n;
  return n;
}

std::string table_report(const analysis::FitReport& r, const std::string& spec, const std::string& data) {
  std::ostringstream os;
  const bool result = r.status == analysis::FitStatus::ok;
  os << "Fit of " << spec << " to " << data << ": " << r.rows_train << " observation(s)"
     << (r.train_below ? " below " + num_short(*r.train_below) + " (" + std::to_string(r.rows_used - r.rows_train) + " held out)" : "")
     << ", " << r.parameters.size() << " parameter(s), " << analysis::likelihood_name(r.likelihood) << "; objective "
     << num_short(r.objective, 6);
  if (r.likelihood == analysis::Likelihood::logit_least_squares) os << ", residual SD on the logit " << num_short(r.sigma, 3);
  os << ", " << r.evaluations << " evaluations\nOptimiser: " << r.starts_at_best << " of " << r.starts
     << " starts reached the best objective; status: " << analysis::fit_status_name(r.status) << "\n";
  for (const auto& w : r.warnings) os << "warning: " << w << "\n";
  if (!result) os << "error: " << not_a_result(r) << "\n";
  os << "\nParameters (95% interval: estimate -+ "
     << (r.likelihood == analysis::Likelihood::binomial ? "z" : "t(" + num_short(r.dof, 3) + ")") << " = "
     << num_short(r.quantile, 4) << " SE)\n";
  TextTable p({"skill", "parameter", "start", "fitted", "SE", "low", "high", "in the spec", "status"}, "ll");
  for (const auto& x : r.parameters)
    p.row({x.leaf, x.name, num_short(x.start, 4), num_short(x.value, 4), se_text(x.se), se_text(x.lo), se_text(x.hi),
           spec_value(x), status_text(x)});
  os << p.str();
  for (const auto& u : r.unconstrained) os << "skill " << u << ": not constrained by the data (kept as declared)\n";
  os << "\nResiduals per series (observed - predicted, metric units; outside: points outside their 95% "
        "prediction interval)\n";
  TextTable s({"task", "family", "metric", "pts", "RMSE fit", "MAE held out", "outside fit", "outside held out",
               "worst point"},
              "lll");
  for (const auto& x : r.series) {
    const analysis::FitPoint* worst = nullptr;
    std::size_t held = 0;
    for (const auto& pt : x.points) {
      held += !pt.train;
      if (!worst || std::fabs(pt.observed - pt.predicted) > std::fabs(worst->observed - worst->predicted)) worst = &pt;
    }
    std::string w = worst ? "x=" + num_short(worst->x, 3) + ": " + num_short(worst->observed, 3) + " vs " +
                                num_short(worst->predicted, 3)
                          : "";
    s.row({x.task, x.family, x.metric, std::to_string(x.points.size()), num_short(x.rmse_train, 3),
           opt_short(x.mae_test), result ? std::to_string(outside_band(x, true)) : "n/a",
           result && held ? std::to_string(outside_band(x, false)) + " of " + std::to_string(held) : "n/a", w});
  }
  os << s.str();
  if (!result) return text_of(os) + offsets_table(r);
  os << "\nForecast threshold crossing per task (95% profile-likelihood interval"
     << (r.offsets.empty() ? "" : "; in the scale of " + r.offsets.front().family + ", the reference family") << ")\n";
  TextTable f({"task", "metric", "threshold", "crossing", "low", "high", "note"}, "ll");
  for (const auto& x : r.forecasts)
    f.row({x.task, x.metric, num_short(x.threshold), crossing_text(x), x.crossing ? interval_end(x, true) : "",
           x.crossing ? interval_end(x, false) : "", x.crossing ? interval_note(x) : ""});
  os << f.str() << offsets_table(r);
  if (!r.backtest.empty()) {
    os << "\nBacktest: fitted below " << num_short(*r.train_below)
       << ", scored at and above it; baseline = a logistic in log10 x fitted to each series' own training scores\n";
    TextTable b({"task", "family", "metric", "train", "test", "MAE graph", "MAE baseline", "observed crossing",
                 "graph crossing", "baseline crossing", "graph check", "baseline check"},
                "lll");
    double sg = 0, sb = 0;
    std::size_t n = 0, hg = 0, hb = 0, mg = 0, mb = 0;
    for (const auto& x : r.backtest) {
      b.row({x.task, x.family, x.metric, std::to_string(x.n_train), std::to_string(x.n_test), opt_short(x.mae_graph),
             opt_short(x.mae_baseline),
             x.above_at_start      ? "already above"
             : x.observed_crossing ? num_short(*x.observed_crossing, 3) + (x.crossed_in_training ? " (train)" : "")
                                   : "not reached",
             x.graph_crossing ? num_short(*x.graph_crossing, 3) : "none", opt_short(x.baseline_crossing),
             analysis::crossing_check_name(x.graph_check), analysis::crossing_check_name(x.baseline_check)});
      if (x.mae_graph && x.mae_baseline) {
        sg += *x.mae_graph;
        sb += *x.mae_baseline;
        ++n;
        hg += x.graph_check == analysis::CrossingCheck::hit;
        mg += x.graph_check == analysis::CrossingCheck::miss;
        hb += x.baseline_check == analysis::CrossingCheck::hit;
        mb += x.baseline_check == analysis::CrossingCheck::miss;
      }
    }
    os << b.str();
    if (n)
      os << "mean MAE over " << n << " series: graph " << num_short(sg / static_cast<double>(n), 3) << ", baseline "
         << num_short(sb / static_cast<double>(n), 3) << "; crossing within half a decade: graph " << hg << " hit, "
         << mg << " miss; baseline " << hb << " hit, " << mb << " miss (other series never crossed in the data)\n";
  }
  return text_of(os);
}

// ---- the tidy tables (docs/cli.md, "fit"): one table per file ----------------

// A cell: a number, a string, or empty (blank in CSV, null in JSON).
struct Cell {
  std::optional<double> number;
  std::optional<std::string> text;
  Cell(double v) : number(v) {}  // NOLINT: cells are built from values
  Cell(const std::optional<double>& v) : number(v) {}  // NOLINT
  Cell(std::string t) : text(std::move(t)) {}  // NOLINT
  Cell(const char* t) : text(t) {}  // NOLINT
  Cell(int v) : number(v) {}  // NOLINT
};
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
};

Cell finite(double v) { return std::isfinite(v) ? Cell(v) : Cell(std::optional<double>{}); }

std::string table_csv(const Table& t) {
  std::ostringstream os;
  for (std::size_t i = 0; i < t.columns.size(); ++i) os << (i ? "," : "") << t.columns[i];
  os << '\n';
  for (const auto& r : t.rows) {
    for (std::size_t i = 0; i < r.size(); ++i)
      os << (i ? "," : "") << (r[i].number ? num(*r[i].number) : r[i].text ? csv_field(*r[i].text) : "");
    os << '\n';
  }
  return text_of(os);
}

std::string table_json(const Table& t) {
  auto a = nlohmann::ordered_json::array();
  for (const auto& r : t.rows) {
    nlohmann::ordered_json o = nlohmann::ordered_json::object();
    for (std::size_t i = 0; i < r.size(); ++i)
      o[t.columns[i]] = r[i].number ? jnum(*r[i].number) : r[i].text ? nlohmann::ordered_json(*r[i].text) : nullptr;
    a.push_back(std::move(o));
  }
  return json_text(a) + "\n";
}

const char* param_status(const analysis::FitParameter& x) {
  return x.at_bound ? "at_bound" : x.identified ? "fitted" : "not_identified";
}

Table params_table(const analysis::FitReport& r) {
  Table t{{"skill", "parameter", "start", "estimate", "se", "lo", "hi", "status"}, {}};
  for (const auto& x : r.parameters)
    t.rows.push_back({x.leaf, x.name, x.start, x.value, finite(x.se), finite(x.lo), finite(x.hi), param_status(x)});
  const std::optional<double> none;
  for (const auto& u : r.unconstrained) t.rows.push_back({u, none, none, none, none, none, none, "not_constrained"});
  return t;
}

Table predictions_table(const analysis::FitReport& r, const char* x_name) {
  Table t{{"task", "family", "metric", x_name, "split", "observed", "predicted", "lo", "hi", "line"}, {}};
  for (const auto& s : r.series)
    for (const auto& p : s.points)
      t.rows.push_back({s.task, s.family, s.metric, p.x, p.train ? "train" : "test", p.observed, p.predicted, p.lo,
                        p.hi, p.line});
  return t;
}

std::string crossing_status(const analysis::CrossingForecast& f) {
  if (!f.constrained) return "not_constrained";
  if (f.at_start) return "already_above";
  return f.crossing ? "crossing" : "not_reached";
}

Table crossings_table(const analysis::FitReport& r) {
  Table t{{"task", "metric", "threshold", "status", "crossing", "lo", "hi", "from", "to"}, {}};
  for (const auto& f : r.forecasts)
    t.rows.push_back({f.task, f.metric, f.threshold, crossing_status(f), f.crossing, f.lo, f.hi, f.from, f.to});
  return t;
}

Table offsets_tidy(const analysis::FitReport& r) {
  Table t{{"family", "reference", "rows", "log10_offset", "se", "multiplier", "lo", "hi"}, {}};
  for (const auto& f : r.offsets)
    t.rows.push_back({f.family, f.reference ? "true" : "false", static_cast<int>(f.rows), f.log10_offset,
                      f.reference ? Cell(std::optional<double>{}) : finite(f.se), f.multiplier, finite(f.lo),
                      finite(f.hi)});
  return t;
}

nlohmann::ordered_json params_json(const analysis::FitReport& r) {
  auto a = nlohmann::ordered_json::array();
  for (const auto& x : r.parameters)
    a.push_back({{"skill", x.leaf}, {"parameter", x.name}, {"start", jnum(x.start)}, {"value", jnum(x.value)},
                 {"se", jnum(x.se)}, {"low", jnum(x.lo)}, {"high", jnum(x.hi)}, {"at_bound", x.at_bound},
                 {"status", param_status(x)}});
  return a;
}

nlohmann::ordered_json crossings_json(const analysis::FitReport& r) {
  auto a = nlohmann::ordered_json::array();
  for (const auto& f : r.forecasts)
    a.push_back({{"task", f.task}, {"metric", f.metric}, {"threshold", f.threshold}, {"status", crossing_status(f)},
                 {"crossing", jopt(f.crossing)}, {"low", jopt(f.lo)}, {"high", jopt(f.hi)}, {"at_start", f.at_start},
                 {"from", f.from}, {"to", f.to}});
  return a;
}

std::string json_report(const analysis::FitReport& r) {
  nlohmann::ordered_json j;
  j["status"] = analysis::fit_status_name(r.status);
  j["likelihood"] = analysis::likelihood_name(r.likelihood);
  j["objective"] = jnum(r.objective);
  if (r.likelihood == analysis::Likelihood::logit_least_squares) j["sigma_logit"] = jnum(r.sigma);
  j["rows_used"] = r.rows_used;
  j["rows_train"] = r.rows_train;
  j["train_below"] = jopt(r.train_below);
  j["evaluations"] = r.evaluations;
  j["starts"] = r.starts;
  j["starts_at_best"] = r.starts_at_best;
  j["identified"] = r.identified;
  j["dof"] = jnum(r.dof);
  j["quantile"] = jnum(r.quantile);
  j["parameters"] = params_json(r);
  // P x P, rows in the order of `parameters`: enough to draw a band for P(N)
  j["covariance"] = nlohmann::ordered_json::array();
  const std::size_t P = r.parameters.size();
  for (std::size_t a = 0; a < P && r.covariance.size() == P * P; ++a) {
    auto row = nlohmann::ordered_json::array();
    for (std::size_t b = 0; b < P; ++b) row.push_back(jnum(r.covariance[a * P + b]));
    j["covariance"].push_back(std::move(row));
  }
  j["unidentified"] = r.unidentified;
  j["unconstrained"] = r.unconstrained;
  j["series"] = nlohmann::ordered_json::array();
  for (const auto& s : r.series) {
    nlohmann::ordered_json js{{"task", s.task}, {"family", s.family}, {"metric", s.metric}, {"node", s.node},
                              {"rmse_train", jnum(s.rmse_train)}, {"mae_test", jopt(s.mae_test)}};
    js["points"] = nlohmann::ordered_json::array();
    for (const auto& p : s.points)
      js["points"].push_back({{"line", p.line}, {"x", jnum(p.x)}, {"observed", jnum(p.observed)},
                              {"predicted", jnum(p.predicted)}, {"train", p.train}, {"lo", jopt(p.lo)},
                              {"hi", jopt(p.hi)}});
    j["series"].push_back(std::move(js));
  }
  if (!r.offsets.empty()) j["offsets"] = offsets_json(r);
  j["forecasts"] = crossings_json(r);
  if (!r.backtest.empty()) {
    j["backtest"] = nlohmann::ordered_json::array();
    for (const auto& b : r.backtest)
      j["backtest"].push_back({{"task", b.task}, {"family", b.family}, {"metric", b.metric}, {"n_train", b.n_train},
                               {"n_test", b.n_test}, {"mae_graph", jopt(b.mae_graph)},
                               {"mae_baseline", jopt(b.mae_baseline)}, {"observed_crossing", jopt(b.observed_crossing)}, {"above_at_start", b.above_at_start},
                               {"graph_crossing", jopt(b.graph_crossing)},
                               {"baseline_crossing", jopt(b.baseline_crossing)}, {"crossed_in_training", b.crossed_in_training},
                               {"graph_check", analysis::crossing_check_name(b.graph_check)},
                               {"baseline_check", analysis::crossing_check_name(b.baseline_check)}});
  }
  j["warnings"] = r.warnings;
  j["notes"] = r.notes;
  return json_text(j) + "\n";
}

// True if every curve parameter of `b` equals `a`'s exactly.
bool same_curves(const ModelSpec& a, const ModelSpec& b) {
  if (a.nodes.size() != b.nodes.size()) return false;
  for (std::size_t i = 0; i < a.nodes.size(); ++i) {
    const Curve &x = a.nodes[i].curve, &y = b.nodes[i].curve;
    if (a.nodes[i].id != b.nodes[i].id || x.kind != y.kind || x.mid != y.mid || x.slope != y.slope || x.c != y.c ||
        x.alpha != y.alpha || x.weight != y.weight || x.value != y.value || x.knots != y.knots)
      return false;
  }
  return true;
}

// A FitError as the command's failure: one that names its file and line is
// bad data (exit 1), any other a choice of options the data cannot serve (2).
Failure fit_failure(const analysis::FitError& e) {
  const std::string what = e.what();
  const bool positioned = what.find(": error: ") != std::string::npos;
  return Failure(positioned ? kInvalid : kUsage, positioned ? what : "error: " + what);
}

ExitCode run_backtest(const Model& model, const analysis::ObservationSet& set, const analysis::FitOptions& fo,
                 const FitOpts& o, Timings& t) {
  analysis::BacktestSuite suite;
  try {
    suite = analysis::run_backtests(model, set, fo);
  } catch (const analysis::FitError& e) {
    throw fit_failure(e);
  }
  t.stop("backtest");
  for (const auto& n : suite.notes) std::cerr << "note: " << n << '\n';
  OutputStream out(o.report);
  out.write(backtest_report(suite, o.common.fmt(), current_spec_name(), set.file));
  OutputStream::finish_all({&out});
  t.stop("write");
  t.print();
  return kOk;
}

}  // namespace

void add_fit(CLI::App& app, Action& run) {
  auto o = std::make_shared<FitOpts>();
  auto* sub = app.add_subcommand(
      "fit", "Fit the spec's skill curves to observations through the graph (maximum likelihood, NLopt); forecasts, backtest");
  sub->add_option("SPEC", o->spec, "Spec file (- for standard input)")->required();
  sub->add_option("--data", o->data, "Observations CSV (task,family,params,metric,score[,shots,model,train_flops,n,node])")
      ->required();
  sub->add_option("-o,--output", o->common.output, "Write the fitted spec here (whole or not at all; - = standard output)");
  sub->add_option("--report", o->report, "Write the report to this file instead of standard output");
  sub->add_option("--params", o->params_file,
                  "Write the parameter table here (skill,parameter,start,estimate,se,lo,hi,status; - = standard output)");
  sub->add_option("--predictions", o->predictions_file,
                  "Write one row per observation here (task,family,metric,params,split,observed,predicted,lo,hi,line)");
  sub->add_option("--crossings", o->crossings_file,
                  "Write the crossing forecasts here (task,metric,threshold,status,crossing,lo,hi,from,to)");
  sub->add_option("--offsets", o->offsets_file,
                  "With --pool, write the family offsets here (family,reference,rows,log10_offset,se,multiplier,lo,hi)");
  sub->add_option("--family", o->family, "Use only this model family's rows (needed when the data hold several)");
  sub->add_option("--map", o->obs.maps, "Task of the data -> spec node, TASK=NODE (repeatable; default: same name)");
  sub->add_option("--fit", o->fit_only, "Fit only these skills (comma-separated; default: every skill the data constrain)");
  sub->add_option("--fixed", o->fixed, "Keep these skills as declared (comma-separated)");
  sub->add_option("--train-below", o->train_below, "Backtest: fit on models below this scale, score the forecast above it");
  sub->add_flag("--pool", o->pool,
                "Fit every family at once: shared skill curves, each family's scale shifted by a fitted offset");
  sub->add_flag("--backtest", o->backtest,
                "For every family, forecast its last two models from the rest against a per-task logistic and a flat "
                "forecast (report only)");
  sub->add_option("--logit-floor", o->logit_floor, "Least squares on the logit: clamp scores to [f, 1 - f]")
      ->transform(number_check(Number::real, 1e-9, 0.25))
      ->capture_default_str();
  sub->add_option("--lower-is-better", o->obs.lower_is_better, "Declare a metric lower-is-better (repeatable)");
  sub->add_option("--format", o->common.format,
                  "table: report as text, tables as CSV; csv: tables as CSV, no report; json: report and tables as JSON")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  o->common.add_loading(*sub, false);
  sub->callback([o, &run] {
    run = [o] {
      Timings t(o->common.timings);
      analysis::FitOptions fo;
      fo.fit_only = split_list(o->fit_only);
      fo.fixed = split_list(o->fixed);
      if (!o->family.empty()) fo.family = o->family;
      if (!o->train_below.empty()) fo.train_below = parse_positive("--train-below", o->train_below);
      fo.logit_floor = o->logit_floor;
      fo.pool = o->pool;
      if (o->backtest) {
        const char* drop = fo.train_below                ? "--train-below"
                           : fo.family                   ? "--family"
                           : !o->common.output.empty()   ? "-o"
                           : !o->params_file.empty()     ? "--params"
                           : !o->predictions_file.empty() ? "--predictions"
                           : !o->crossings_file.empty()  ? "--crossings"
                           : !o->offsets_file.empty()    ? "--offsets"
                                                         : nullptr;
        if (drop)
          throw Failure(kUsage, std::string("error: --backtest chooses its own families and cuts and writes only its "
                                            "report: drop ") + drop);
      }
      if (!o->offsets_file.empty() && !fo.pool)
        throw Failure(kUsage, "error: --offsets needs --pool (only a pooled fit has family offsets)");
      const analysis::ReadOptions ro = o->obs.options(o->common.max_bytes);
      const Model model = load_model(o->spec, o->common, t);
      analysis::ReadOptions ro2 = ro;
      ro2.need_train_flops = model.spec().scale.axis == Axis::compute;
      const analysis::ObservationSet set = load_observations(o->data, ro2);
      t.start();
      if (o->backtest) return run_backtest(model, set, fo, *o, t);
      analysis::FitReport rep;
      try {
        rep = analysis::fit_model(model, set, fo);
      } catch (const analysis::FitError& e) {
        throw fit_failure(e);
      }
      t.stop("fit");
      for (const auto& n : rep.notes) std::cerr << "note: " << n << '\n';
      for (const auto& w : rep.warnings) std::cerr << "warning: " << w << '\n';
      const bool result = rep.status == analysis::FitStatus::ok;

      const Format fmt = o->common.fmt();
      const char* x_name = model.spec().scale.axis == Axis::compute ? "train_flops" : "params";
      // One table per file (docs/cli.md, "fit").
      std::vector<std::pair<std::string, std::string>> tables;  // path, text
      auto table = [&](const std::string& path, const Table& tb) {
        if (!path.empty()) tables.emplace_back(path, fmt == Format::json ? table_json(tb) : table_csv(tb));
      };
      table(o->params_file, params_table(rep));
      table(o->predictions_file, predictions_table(rep, x_name));
      table(o->crossings_file, crossings_table(rep));
      table(o->offsets_file, offsets_tidy(rep));
      if (fmt == Format::csv && tables.empty())
        throw Failure(kUsage, "error: --format csv writes tables, one per file: choose --params, --predictions or "
                              "--crossings FILE (- for standard output)");
      const bool spec_to_stdout = o->common.output == "-";
      const bool report_wanted = fmt != Format::csv || !o->report.empty();
      std::size_t to_stdout = spec_to_stdout;
      for (const auto& [path, text] : tables) to_stdout += path == "-";
      const bool report_to_stderr = report_wanted && o->report.empty() && to_stdout > 0;
      if (to_stdout > 1) throw Failure(kUsage, "error: only one of -o, --params, --predictions, --crossings may be - (standard output)");
      const std::string report = fmt == Format::json ? json_report(rep) : table_report(rep, current_spec_name(), set.file);
      // The fitted spec, the tables and the report are committed together:
      // written to temporaries, renamed only when all succeeded. A fit that
      // is not a result writes the report only.
      std::optional<OutputStream> spec_out, report_out;
      std::vector<std::unique_ptr<OutputStream>> table_out;
      if (!o->common.output.empty() && result) {
        std::ostringstream hdr;
        hdr << "Fitted by capgraph fit from " << current_spec_name() << " and " << set.file
            << (fo.pool ? " (families pooled; the curves are in the scale of " + rep.offsets.front().family +
                              ", the reference)"
                : fo.family ? " (family " + *fo.family + ")"
                            : "")
            << (fo.train_below ? ", rows below " + num_short(*fo.train_below) : "") << ".\n"
            << analysis::likelihood_name(rep.likelihood) << "; parameter (fitted +- SE):";
        for (const auto& p : rep.parameters)
          hdr << "\n  " << p.leaf << "." << p.name << " = " << num_short(p.value, 5) << " +- " << se_text(p.se);
        const std::string spec_text = specs::write_spec(rep.fitted, text_of(hdr));
        // The written spec must read back as the same model.
        const specs::LoadResult back = specs::load_spec_text(spec_text, o->common.output);
        if (!back.ok() || !same_curves(rep.fitted, *back.spec)) {
          for (const auto& d : back.errors) std::cerr << d.to_string() << '\n';
          throw Failure(kInvalid, "error: internal: the fitted spec does not read back as the fitted model; nothing written");
        }
        spec_out.emplace(o->common.output);
        spec_out->write(spec_text);
      }
      if (result)
        for (const auto& [path, text] : tables) {
          table_out.push_back(std::make_unique<OutputStream>(path));
          table_out.back()->write(text);
        }
      if (report_wanted && !report_to_stderr) {
        report_out.emplace(o->report);
        report_out->write(report);
      }
      OutputStream* outs[5] = {spec_out ? &*spec_out : nullptr, report_out ? &*report_out : nullptr, nullptr, nullptr,
                               nullptr};
      for (std::size_t i = 0; i < table_out.size(); ++i) outs[2 + i] = table_out[i].get();
      OutputStream::finish_all({outs[0], outs[1], outs[2], outs[3], outs[4]});
      if (report_to_stderr) std::cerr << report;
      if (!result) {
        std::cerr << "error: " << not_a_result(rep) << '\n';
        return kNotAResult;
      }
      t.stop("write");
      t.print();
      return kOk;
    };
  });
}

}  // namespace capgraph::cli
