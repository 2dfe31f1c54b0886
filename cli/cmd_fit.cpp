// capgraph fit SPEC --data OBSERVATIONS.csv -o fitted.yaml — fit the spec's
// skill curves to measured scores through the graph, report parameters with
// standard errors, residuals and crossing forecasts; with --train-below, a
// backtest against a per-task logistic baseline (analysis/fit.hpp).
#include <cmath>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

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
  if (f.at_start) return "<= " + num_short(f.from, 3);
  if (!f.crossing) return "not by " + num_short(f.to, 3);
  return num_short(*f.crossing, 3);
}


std::string table_report(const analysis::FitReport& r, const std::string& spec, const std::string& data) {
  std::ostringstream os;
  os << "Fit of " << spec << " to " << data << ": " << r.rows_train << " observation(s)"
     << (r.train_below ? " below " + num_short(*r.train_below) + " (" + std::to_string(r.rows_used - r.rows_train) + " held out)" : "")
     << ", " << r.parameters.size() << " parameter(s), " << analysis::likelihood_name(r.likelihood) << "; objective "
     << num_short(r.objective, 6);
  if (r.likelihood == analysis::Likelihood::logit_least_squares) os << ", residual SD on the logit " << num_short(r.sigma, 3);
  os << ", " << r.evaluations << " evaluations\n\nParameters (SE from the curvature at the optimum)\n";
  TextTable p({"skill", "parameter", "start", "fitted", "SE", "in the spec", "note"}, "ll");
  for (const auto& x : r.parameters)
    p.row({x.leaf, x.name, num_short(x.start, 4), num_short(x.value, 4), se_text(x.se), spec_value(x),
           x.at_bound ? "at bound" : ""});
  os << p.str() << "\nResiduals per series (observed - predicted, metric units)\n";
  TextTable s({"task", "family", "metric", "pts", "RMSE fit", "MAE held out", "worst point"}, "lll");
  for (const auto& x : r.series) {
    const analysis::FitPoint* worst = nullptr;
    for (const auto& pt : x.points)
      if (!worst || std::fabs(pt.observed - pt.predicted) > std::fabs(worst->observed - worst->predicted)) worst = &pt;
    std::string w = worst ? "x=" + num_short(worst->x, 3) + ": " + num_short(worst->observed, 3) + " vs " +
                                num_short(worst->predicted, 3)
                          : "";
    s.row({x.task, x.family, x.metric, std::to_string(x.points.size()), num_short(x.rmse_train, 3),
           opt_short(x.mae_test), w});
  }
  os << s.str() << "\nForecast threshold crossing per task (95% interval, delta method on log10 scale"
     << (r.offsets.empty() ? "" : "; in the scale of " + r.offsets.front().family + ", the reference family") << ")\n";
  TextTable f({"task", "metric", "threshold", "crossing", "low", "high"}, "ll");
  for (const auto& x : r.forecasts)
    f.row({x.task, x.metric, num_short(x.threshold), crossing_text(x), opt_short(x.lo), opt_short(x.hi)});
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
             opt_short(x.mae_baseline), x.observed_crossing ? num_short(*x.observed_crossing, 3) + (x.crossed_in_training ? " (train)" : "")
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

std::string csv_report(const analysis::FitReport& r) {
  std::ostringstream os;
  os << "section,skill,parameter,start,value,se,at_bound\n";
  for (const auto& x : r.parameters)
    os << "parameter," << csv_field(x.leaf) << ',' << x.name << ',' << num(x.start) << ',' << num(x.value) << ','
       << (std::isfinite(x.se) ? num(x.se) : "") << ',' << (x.at_bound ? "true" : "false") << '\n';
  os << "\nsection,task,family,metric,line,x,observed,predicted,train\n";
  for (const auto& s : r.series)
    for (const auto& p : s.points)
      os << "residual," << csv_field(s.task) << ',' << csv_field(s.family) << ',' << csv_field(s.metric) << ','
         << p.line << ',' << num(p.x) << ',' << num(p.observed) << ',' << num(p.predicted) << ','
         << (p.train ? "true" : "false") << '\n';
  auto on = [](const std::optional<double>& v) { return v ? num(*v) : std::string(); };
  os << offsets_csv(r);
  os << "\nsection,task,metric,threshold,crossing,low,high,at_start,from,to\n";
  for (const auto& f : r.forecasts)
    os << "forecast," << csv_field(f.task) << ',' << csv_field(f.metric) << ',' << num(f.threshold) << ','
       << on(f.crossing) << ',' << on(f.lo) << ',' << on(f.hi) << ',' << (f.at_start ? "true" : "false") << ','
       << num(f.from) << ',' << num(f.to) << '\n';
  if (!r.backtest.empty()) {
    os << "\nsection,task,family,metric,n_train,n_test,mae_graph,mae_baseline,observed_crossing,graph_crossing,"
          "baseline_crossing,crossed_in_training,graph_check,baseline_check\n";
    for (const auto& b : r.backtest)
      os << "backtest," << csv_field(b.task) << ',' << csv_field(b.family) << ',' << csv_field(b.metric) << ','
         << b.n_train << ',' << b.n_test << ',' << on(b.mae_graph) << ',' << on(b.mae_baseline) << ','
         << on(b.observed_crossing) << ',' << on(b.graph_crossing) << ',' << on(b.baseline_crossing) << ','
         << (b.crossed_in_training ? "true" : "false") << ',' << analysis::crossing_check_name(b.graph_check) << ','
         << analysis::crossing_check_name(b.baseline_check) << '\n';
  }
  return text_of(os);
}

std::string json_report(const analysis::FitReport& r) {
  nlohmann::ordered_json j;
  j["likelihood"] = analysis::likelihood_name(r.likelihood);
  j["objective"] = jnum(r.objective);
  if (r.likelihood == analysis::Likelihood::logit_least_squares) j["sigma_logit"] = jnum(r.sigma);
  j["rows_used"] = r.rows_used;
  j["rows_train"] = r.rows_train;
  j["train_below"] = jopt(r.train_below);
  j["evaluations"] = r.evaluations;
  j["identified"] = r.identified;
  j["parameters"] = nlohmann::ordered_json::array();
  for (const auto& x : r.parameters)
    j["parameters"].push_back({{"skill", x.leaf}, {"parameter", x.name}, {"start", jnum(x.start)},
                               {"value", jnum(x.value)}, {"se", jnum(x.se)}, {"at_bound", x.at_bound}});
  j["series"] = nlohmann::ordered_json::array();
  for (const auto& s : r.series) {
    nlohmann::ordered_json js{{"task", s.task}, {"family", s.family}, {"metric", s.metric}, {"node", s.node},
                              {"rmse_train", jnum(s.rmse_train)}, {"mae_test", jopt(s.mae_test)}};
    js["points"] = nlohmann::ordered_json::array();
    for (const auto& p : s.points)
      js["points"].push_back({{"line", p.line}, {"x", jnum(p.x)}, {"observed", jnum(p.observed)},
                              {"predicted", jnum(p.predicted)}, {"train", p.train}});
    j["series"].push_back(std::move(js));
  }
  if (!r.offsets.empty()) j["offsets"] = offsets_json(r);
  j["forecasts"] = nlohmann::ordered_json::array();
  for (const auto& f : r.forecasts)
    j["forecasts"].push_back({{"task", f.task}, {"metric", f.metric}, {"threshold", f.threshold},
                              {"crossing", jopt(f.crossing)}, {"low", jopt(f.lo)}, {"high", jopt(f.hi)},
                              {"at_start", f.at_start}, {"from", f.from}, {"to", f.to}});
  if (!r.backtest.empty()) {
    j["backtest"] = nlohmann::ordered_json::array();
    for (const auto& b : r.backtest)
      j["backtest"].push_back({{"task", b.task}, {"family", b.family}, {"metric", b.metric}, {"n_train", b.n_train},
                               {"n_test", b.n_test}, {"mae_graph", jopt(b.mae_graph)},
                               {"mae_baseline", jopt(b.mae_baseline)}, {"observed_crossing", jopt(b.observed_crossing)},
                               {"graph_crossing", jopt(b.graph_crossing)},
                               {"baseline_crossing", jopt(b.baseline_crossing)}, {"crossed_in_training", b.crossed_in_training},
                               {"graph_check", analysis::crossing_check_name(b.graph_check)},
                               {"baseline_check", analysis::crossing_check_name(b.baseline_check)}});
  }
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

ExitCode run_backtest(const Model& model, const analysis::ObservationSet& set, const analysis::FitOptions& fo,
                 const FitOpts& o, Timings& t) {
  analysis::BacktestSuite suite;
  try {
    suite = analysis::run_backtests(model, set, fo);
  } catch (const analysis::FitError& e) {
    const std::string what = e.what();
    throw Failure(what.find(": error: ") != std::string::npos ? kInvalid : kUsage,
                  what.find(": error: ") != std::string::npos ? what : "error: " + what);
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
  sub->add_option("--format", o->common.format, "Report format")
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
      if (o->backtest && (fo.train_below || fo.family || !o->common.output.empty()))
        throw Failure(kUsage, "error: --backtest chooses its own families and cuts and writes no spec: drop " +
                                  std::string(fo.train_below ? "--train-below" : fo.family ? "--family" : "-o"));
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
        const std::string what = e.what();
        throw Failure(what.find(": error: ") != std::string::npos ? kInvalid : kUsage,
                      what.find(": error: ") != std::string::npos ? what : "error: " + what);
      }
      t.stop("fit");
      for (const auto& n : rep.notes) std::cerr << "note: " << n << '\n';

      const Format fmt = o->common.fmt();
      const std::string report = fmt == Format::json  ? json_report(rep)
                                 : fmt == Format::csv ? csv_report(rep)
                                                      : table_report(rep, current_spec_name(), set.file);
      // The fitted spec and the report are committed together: both are
      // written to temporaries, renamed only when both succeeded.
      std::optional<OutputStream> spec_out, report_out;
      if (!o->common.output.empty()) {
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
      const bool report_to_stderr = o->report.empty() && o->common.output == "-";
      if (!report_to_stderr) {
        report_out.emplace(o->report);
        report_out->write(report);
      }
      OutputStream::finish_all({spec_out ? &*spec_out : nullptr, report_out ? &*report_out : nullptr});
      if (report_to_stderr) std::cerr << report;
      t.stop("write");
      t.print();
      return kOk;
    };
  });
}

}  // namespace capgraph::cli
