// capgraph report SPEC -o report.html — the interactive report: the map at
// every sweep point, a node's curves and bottlenecks, in one HTML file
// (render/report.hpp, docs/report.md).
#include <iostream>

#include <memory>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/observations_io.hpp"
#include "analysis/fit.hpp"
#include "render/report.hpp"

namespace capgraph::cli {

namespace {

struct ReportOpts {
  std::string spec;
  std::string from, to;
  int points = 0;
  std::size_t rows = 8;
  std::string direction = "BT";
  std::size_t node_limit = 1500;
  std::size_t max_map_nodes = 15000;
  bool no_clusters = false;
  std::string data;
  std::vector<std::string> data_tasks, data_families;
  ObservationFlags obs;
  unsigned threads = 0;
  std::size_t band_draws = 200;
  CommonOptions common;
};

}  // namespace

void add_report(CLI::App& app, Action& run) {
  auto o = std::make_shared<ReportOpts>();
  auto* sub = app.add_subcommand(
      "report", "Write one self-contained HTML page: the map with a scale slider, each node's curves and bottlenecks");
  sub->add_option("SPEC", o->spec, "Spec file (- for standard input)")->required();
  sub->add_option("-o,--output", o->common.output, "Output HTML file (default: standard output)");
  sub->add_option("--from", o->from, "First sweep point (default: the spec's range)");
  sub->add_option("--to", o->to, "Last sweep point (default: the spec's range)");
  sub->add_option("--points", o->points, "Sweep points the page holds (default: the spec's)")->check(CLI::Range(1, 100000));
  sub->add_option("--rows", o->rows, "Bottleneck rows kept per task and sweep point")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  sub->add_option("--direction", o->direction, "Where prerequisites go on the map: BT (below), TB, LR, RL")
      ->check(CLI::IsMember({"BT", "TB", "LR", "RL", "bt", "tb", "lr", "rl"}))
      ->capture_default_str();
  sub->add_option("--node-limit", o->node_limit, "Above this many nodes, the map collapses groups or switches to sfdp")
      ->capture_default_str();
  limits_group(*sub).add_option("--max-map-nodes", o->max_map_nodes, "Refuse maps larger than this (after collapsing)")
      ->capture_default_str();
  sub->add_flag("--no-clusters", o->no_clusters, "Do not box nodes by group");
  sub->add_option("--data", o->data, "Observations CSV (task,family,params,shots,metric,score,model,train_flops) to overlay");
  sub->add_option("--data-task", o->data_tasks, "Only observations of this task (repeatable)");
  sub->add_option("--data-family", o->data_families, "Only observations of this model family (repeatable)");
  sub->add_option("--lower-is-better", o->obs.lower_is_better, "Declare a --data metric lower-is-better (repeatable)");
  sub->add_option("--band-draws", o->band_draws,
                  "A fitted spec (fit -o): draws of its parameters behind the 95% bands (0 = no bands)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{100000}))
      ->capture_default_str();
  sub->add_option("--threads", o->threads, "Worker threads for the bottleneck queries (0 = all cores)")
      ->capture_default_str();
  o->common.add_loading(*sub, true);
  sub->callback([o, &run] {
    run = [o] {
      Timings t(o->common.timings);
      if (!o->from.empty()) parse_scale("--from", o->from);  // checked before loading
      if (!o->to.empty()) parse_scale("--to", o->to);
      const Model model = load_model(o->spec, o->common, t);
      const ScaleSpec& sc = model.axis().spec();
      const double from = o->from.empty() ? sc.from : parse_scale("--from", o->from, &sc);
      const double to = o->to.empty() ? sc.to : parse_scale("--to", o->to, &sc);
      const int points = o->common.check_points("--points", o->points > 0 ? o->points : sc.points);
      if (!(from < to) && points > 1) throw Failure(kUsage, "error: --from must be below --to");
      render::ReportOptions ro;
      ro.xs = points == 1 ? std::vector<double>{from} : ScaleAxis::log_spaced(from, to, points);
      ro.bottleneck_rows = o->rows;
      ro.evaluation = o->common.engine(o->threads);
      ro.map.direction = *render::parse_map_direction(o->direction);
      ro.map.node_limit = std::min(o->node_limit, o->max_map_nodes);
      ro.map.max_nodes = o->max_map_nodes;
      ro.map.clusters = !o->no_clusters;
      std::vector<std::string> notes;
      if (!o->data.empty())
        ro.observed = observed_series(o->data, o->data_tasks, o->data_families, sc.axis == Axis::compute, o->obs,
                                      o->common.max_bytes, notes);
      if (model.spec().fit && o->band_draws > 0) {
        if (o->band_draws < 40)
          throw Failure(kUsage, "error: --band-draws " + std::to_string(o->band_draws) +
                                    " is too few for a 95% band (each end needs at least one draw beyond it); use "
                                    "40 or more, or 0 for no bands");
        try {
          ro.band_draws = analysis::fit_draws(model, o->band_draws);
        } catch (const analysis::FitError& e) {
          throw Failure(kInvalid, o->spec + ": error: " + e.what() + "; write the report with --band-draws 0");
        }
        ro.band_source = "the fitted parameters (normal approximation, the spec's fit block)";
      }
      t.start();
      render::ReportResult r;
      try {
        r = render::render_report(model, ro);
      } catch (const render::MapTooLarge& e) {
        throw Failure(kInvalid, std::string("error: ") + e.what() + "; or raise the limit with --max-map-nodes");
      } catch (const render::GraphvizError& e) {
        throw Failure(kIo, std::string("error: ") + e.what());
      }
      t.stop("report");
      for (const auto& n : notes) std::cerr << "note: " << n << '\n';
      for (const auto& n : r.notes) std::cerr << "note: " << n << '\n';
      write_output(r.html, o->common);
      t.stop("write");
      t.print();
      return kOk;
    };
  });
}

}  // namespace capgraph::cli
