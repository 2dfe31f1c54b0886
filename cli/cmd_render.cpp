// capgraph render SPEC --at X -o map.svg — the hierarchical capability map.
#include <iostream>

#include <algorithm>
#include <cctype>
#include <tuple>
#include <memory>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/figure_output.hpp"
#include "graph/importance.hpp"
#include "render/map.hpp"
#include "text/number_format.hpp"

namespace capgraph::cli {

namespace {

struct RenderOpts {
  std::string spec;
  std::string at;
  std::string format;
  std::string direction = "BT";
  std::string task;
  std::string measure = "potential";
  std::string focus;
  int depth = -1;
  std::size_t node_limit = 1500;
  std::size_t max_map_nodes = 15000;
  std::size_t dot_work_limit = render::MapOptions{}.dot_work_limit;
  std::string page = "16x24cm";
  std::string aspect;
  std::size_t max_skill_row = 0;
  std::size_t wrap = 18;
  std::size_t busy_edges = render::MapOptions{}.busy_edges;
  double dpi = 150;
  bool no_clusters = false;
  bool no_legend = false;
  bool split_groups = false;
  std::string title;
  CommonOptions common;
};

// The file of one group's page: `out.svg` -> `out-<group>.svg` (the group
// name kept to letters, digits, '_', '-' and '.'; "ungrouped" for the nodes
// without a group), made unique within `taken`.
std::string page_file(const std::string& output, const std::string& format, const std::string& group,
                      std::vector<std::string>& taken) {
  std::string stem = output, ext = "." + format;
  const auto dot = output.rfind('.');
  const auto slash = output.rfind('/');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash) && dot > 0) {
    stem = output.substr(0, dot);
    ext = output.substr(dot);
  }
  std::string name = group.empty() ? "ungrouped" : group;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  std::string file = stem + "-" + name + ext;
  for (int k = 2; std::find(taken.begin(), taken.end(), file) != taken.end(); ++k)
    file = stem + "-" + name + "_" + std::to_string(k) + ext;
  taken.push_back(file);
  return file;
}

// The one-line hint when a map is too small to print (render --split-groups).
std::string small_label_hint(double pt, bool groups, const std::string& page) {
  return "fitted to the page (" + page + ") the smallest label is " + text::fixed(pt, 1) +
         " pt, under the 6 pt a printed figure needs; draw it in parts: " +
         (groups ? "--split-groups (one page per group) or " : "") + "--focus NODE (one node's prerequisites)";
}

// The map options taken from the flags once the model is loaded (the page
// and aspect are parsed before loading, so that their errors come first).
void set_map_options(render::MapOptions& mo, const RenderOpts& o, const Model& model, const std::string& format) {
  mo.format = *render::parse_map_format(format);
  mo.direction = *render::parse_map_direction(o.direction);
  mo.focus_depth = o.depth;
  // The hard limit below the soft one must still apply (map.hpp checks
  // max_nodes only once the large-map strategy has started).
  mo.node_limit = std::min(o.node_limit, o.max_map_nodes);
  mo.max_nodes = o.max_map_nodes;
  mo.dot_work_limit = o.dot_work_limit;
  mo.max_skill_row = o.max_skill_row;
  mo.busy_edges = o.busy_edges;
  mo.dpi = o.dpi;
  mo.style.wrap_chars = o.wrap;
  mo.clusters = !o.no_clusters;
  mo.legend = !o.no_legend;
  mo.title = o.title;
  mo.evaluation = o.common.engine();
  if (!o.focus.empty()) mo.focus = resolve_ids(model, {o.focus}, false).front();
}

render::MapResult draw_map(const Model& model, double x, const render::MapOptions& options) {
  try {
    return render::render_map(model, x, options);
  } catch (const render::MapTooLarge& e) {
    throw Failure(kInvalid, std::string("error: ") + e.what() + "; or raise the limit with --max-map-nodes");
  } catch (const render::GraphvizError& e) {
    throw Failure(kIo, std::string("error: ") + e.what());
  }
}

// One map, to -o or standard output.
int write_map(const Model& model, double x, const render::MapOptions& mo, const RenderOpts& o, bool grouped, Timings& t) {
  const render::MapResult r = draw_map(model, x, mo);
  t.stop("render");
  for (const auto& note : r.notes) std::cerr << "note: " << note << '\n';
  if (r.smallest_label_at_page > 0 && r.smallest_label_at_page < 6)
    std::cerr << "note: " << small_label_hint(r.smallest_label_at_page, grouped, o.page) << '\n';
  write_output(r.data, o.common);
  t.stop("write");
  t.print();
  return kOk;
}

// --split-groups: one page per group. Every page is drawn before any file
// is written: an error leaves no partial set.
int write_group_pages(const Model& model, double x, render::MapOptions mo, const RenderOpts& o, const std::string& format,
                      const std::vector<std::string>& groups, Timings& t) {
  std::vector<std::pair<std::string, std::string>> pages;  // file, bytes
  std::vector<std::string> taken;
  for (const std::string& group : groups) {
    mo.group = group;
    render::MapResult r = draw_map(model, x, mo);
    const std::string file = page_file(o.common.output, format, group, taken);
    for (const auto& note : r.notes) std::cerr << "note: " << file << ": " << note << '\n';
    if (r.smallest_label_at_page > 0 && r.smallest_label_at_page < 6)
      std::cerr << "note: " << file << ": " << small_label_hint(r.smallest_label_at_page, false, o.page) << '\n';
    pages.emplace_back(file, std::move(r.data));
  }
  t.stop("render");
  for (const auto& [file, bytes] : pages) write_output(bytes, file);
  t.stop("write");
  t.print();
  return kOk;
}

int run_render(const RenderOpts& o) {
  Timings t(o.common.timings);
  parse_scale("--at", o.at);  // checked before loading
  const std::string format = output_format(o.format, o.common.output, {"svg", "pdf", "png", "dot"});
  if (o.split_groups && (o.common.output.empty() || o.common.output == "-"))
    throw Failure(kUsage, "error: --split-groups writes one file per group; name them with -o map." + format);
  if (o.split_groups && !o.focus.empty())
    throw Failure(kUsage, "error: --split-groups and --focus draw different parts; use one of them");
  refuse_binary_to_terminal(format, o.common.output, "map");
  render::MapOptions mo;
  std::tie(mo.page_width, mo.page_height) = parse_page(o.page);
  if (!o.aspect.empty()) mo.aspect = parse_positive("--aspect", o.aspect);
  const Model model = load_model(o.spec, o.common, t);
  const double x = parse_scale("--at", o.at, &model.spec().scale);
  set_map_options(mo, o, model, format);
  t.start();
  if (!o.task.empty()) {
    const std::size_t task = resolve_ids(model, {o.task}, true).front();
    const auto measure = *render::parse_bottleneck_measure(o.measure);
    mo.overlay = render::overlay_from_importance(importance(model, task, x, ImportanceOrder::potential, mo.evaluation),
                                                 measure, model.size());
  }
  const std::vector<std::string> groups = render::map_groups(model);
  const bool grouped = !groups.empty() && !groups.front().empty();
  if (!o.split_groups) return write_map(model, x, mo, o, grouped, t);
  return write_group_pages(model, x, mo, o, format, groups, t);
}

}  // namespace

void add_render(CLI::App& app, Action& run) {
  auto o = std::make_shared<RenderOpts>();
  auto* sub = app.add_subcommand("render", "Draw the hierarchical capability map at one scale point (SVG, PDF, PNG or DOT)");
  sub->add_option("SPEC", o->spec, "Spec file (- for standard input)")->required();
  sub->add_option("--at", o->at, "Scale point (parameters, or FLOPs on the compute axis), e.g. 1e10")->required();
  sub->add_option("-o,--output", o->common.output, "Output file (default: standard output)");
  sub->add_option("--format", o->format, "Map format (default: from the -o file's extension, else svg)")
      ->check(CLI::IsMember({"svg", "pdf", "png", "dot"}));
  sub->add_option("--dpi", o->dpi, "PNG resolution, dots per inch")->check(CLI::Range(10.0, 1200.0))->capture_default_str();
  sub->add_option("--direction", o->direction, "Where prerequisites go: BT (below), TB, LR, RL")
      ->check(CLI::IsMember({"BT", "TB", "LR", "RL", "bt", "tb", "lr", "rl"}))
      ->capture_default_str();
  sub->add_option("--page", o->page, "Lay the map out for this page: a4, letter, slide, or WxH (cm, mm, in, pt)")
      ->capture_default_str();
  sub->add_option("--aspect", o->aspect, "Aim at this width:height ratio instead of the page's, e.g. 1.5");
  sub->add_option("--max-skill-row", o->max_skill_row, "At most this many nodes side by side in a row (0: as the page decides)")
      ->capture_default_str();
  sub->add_option("--wrap", o->wrap, "Wrap node names longer than this many characters (0: never)")->capture_default_str();
  sub->add_option("--busy-edges", o->busy_edges, "Above this many edges, draw edges thinner and paler")->capture_default_str();
  sub->add_option("--task", o->task, "Highlight this task's bottlenecks: edge widths and the critical path");
  sub->add_option("--measure", o->measure, "With --task: what edge widths show")
      ->check(CLI::IsMember({"potential", "birnbaum"}))
      ->capture_default_str();
  sub->add_option("--focus", o->focus, "Draw only this node's cone (it and its prerequisites)");
  sub->add_option("--depth", o->depth, "With --focus: levels of prerequisites to draw (-1 = all)")->capture_default_str();
  sub->add_option("--node-limit", o->node_limit, "Above this many nodes, collapse groups or switch to sfdp")
      ->capture_default_str();
  sub->add_option("--dot-work-limit", o->dot_work_limit,
                  "Above this layered-layout work (nodes + rank crossings of edges), collapse groups or switch to sfdp")
      ->capture_default_str();
  limits_group(*sub).add_option("--max-map-nodes", o->max_map_nodes, "Refuse maps larger than this (after collapsing)")
      ->capture_default_str();
  sub->add_flag("--no-clusters", o->no_clusters, "Do not box nodes by group");
  sub->add_flag("--no-legend", o->no_legend, "Leave out the legend");
  sub->add_flag("--split-groups", o->split_groups,
                "One map per group, written to <output>-<group>.<ext> (the nodes without a group: -ungrouped)");
  sub->add_option("--title", o->title, "Title above the map (default: spec name and scale)");
  o->common.add_loading(*sub, true);
  sub->callback([o, &run] { run = [o] { return run_render(*o); }; });
}

}  // namespace capgraph::cli
