// bench/bench_eval.cpp — whole-pipeline timings of capgraph on one spec.
//
//   bench_eval SPEC [--points P] [--from X --to Y] [--threads T[,T2...]] [--repeat R]
//              [--phase load|compile|eval] [--dump FILE] [--watch ID]
//              [--keep all|tasks|roots] [--block B]
//
// Phases, each timed with std::chrono::steady_clock:
//   load_validate  specs::load_spec_file (parse + register + resolve + validate)
//   compile        Model::compile (Boost.Graph layout, topological order)
//   evaluate       evaluate() at P log-spaced points (ScaleAxis::log_spaced over
//                  the spec's range unless --from/--to), with T threads
//                  (a list runs one evaluation per thread count; evaluate_s is
//                  the first, "cold": its result memory is touched for the
//                  first time). With --repeat R >= 2 or several thread counts,
//                  glibc is told to keep freed memory (mallopt), so every
//                  later evaluation reuses pages that are already mapped:
//                  evaluate_warm_s_by_threads (best of them) is the compute
//                  cost without first-touch page faults, which on this VM
//                  cost seconds per GiB.
// and the peak resident set size after each phase (getrusage ru_maxrss, which
// only grows: a phase's figure includes the phases before it). --phase stops
// after that phase, so /usr/bin/time -v can measure each phase's peak alone.
// --keep says which rows the Evaluation keeps (EvalOptions::keep): all (the
// default), tasks (what `capgraph sweep` reports) or roots (tasks nothing
// else uses); only the kept rows' cones are evaluated (evaluated_nodes in
// the JSON). --block sets the points per block (EvalOptions::block_points;
// 0 = automatic).
// Prints one JSON object on standard output. --dump writes every node's ln P
// (and partial credit where the engine keeps a row) as CSV
// node,j,x,log_p,partial_credit for bench/peer_numpy.py --check.
// --touch-mib M (no spec) only times zeroing M MiB of fresh memory: the floor
// any evaluation pays to write its result the first time.
// Exit: 0 ok, 1 invalid spec / model error, 2 usage, 3 I/O.
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "graph/evaluation.hpp"
#include "graph/model.hpp"
#include "graph/scale_axis.hpp"
#include "specs/load.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU seconds (user + system) of the whole process so far: less disturbed
// than wall time when the machine is shared.
double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux: KiB
}

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "bench_eval: %s\n"
               "usage: bench_eval SPEC [--points P] [--from X] [--to Y] [--threads T[,T..]] [--repeat R]\n"
               "                  [--phase load|compile|eval] [--dump FILE] [--watch ID] [--max-bytes B]\n"
               "                  [--keep all|tasks|roots] [--block B]\n"
               "       bench_eval --touch-mib M\n",
               msg);
  std::exit(2);
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string num(double v) {
  if (std::isnan(v)) return "null";
  if (std::isinf(v)) return v < 0 ? "\"-inf\"" : "\"inf\"";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

// Long by design: the benchmark's phases in the order its table prints them.
int main(int argc, char** argv) {
  std::string path;
  int points = 1000;
  std::optional<double> from, to;
  std::vector<unsigned> threads_list;
  int repeat = 1;
  std::string phase = "eval";
  std::string dump;
  std::string watch;
  std::string keep = "all";
  std::size_t block_points = 0;
  double touch_mib = 0;
  capgraph::specs::LoadOptions lopt;
  lopt.max_bytes = std::size_t{1} << 30;  // benchmarks read up to 1e6-node specs

  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    try {
      if (a == "--points") points = std::stoi(value());
      else if (a == "--from") from = std::stod(value());
      else if (a == "--to") to = std::stod(value());
      else if (a == "--threads") {
        std::string v = value();
        threads_list.clear();
        for (std::size_t pos = 0; pos <= v.size();) {
          const std::size_t comma = std::min(v.find(',', pos), v.size());
          threads_list.push_back(static_cast<unsigned>(std::stoul(v.substr(pos, comma - pos))));
          pos = comma + 1;
        }
      }
      else if (a == "--repeat") repeat = std::stoi(value());
      else if (a == "--phase") phase = value();
      else if (a == "--dump") dump = value();
      else if (a == "--watch") watch = value();
      else if (a == "--keep") keep = value();
      else if (a == "--block") block_points = std::stoull(value());
      else if (a == "--max-bytes") lopt.max_bytes = std::stoull(value());
      else if (a == "--touch-mib") touch_mib = std::stod(value());
      else if (a == "-h" || a == "--help") usage("benchmark of load + validate, compile and evaluate");
      else if (!a.empty() && a[0] == '-' && a != "-") usage(("unknown option " + a).c_str());
      else if (path.empty()) path = a;
      else usage("more than one spec");
    } catch (const std::exception&) {
      usage(("bad value for " + a).c_str());
    }
  }
  if (touch_mib > 0) {
    const auto count = static_cast<std::size_t>(touch_mib * 1024 * 1024 / sizeof(double));
    const auto t0 = Clock::now();
    std::vector<double> block(count, 0.0);
    const double t_touch = seconds_since(t0);
    volatile double sink = block[count / 2];
    (void)sink;
    const auto t1 = Clock::now();
    std::fill(block.begin(), block.end(), 1.0);
    const double t_again = seconds_since(t1);
    std::printf("{\"touch_mib\": %s, \"first_touch_s\": %s, \"rewrite_s\": %s, \"peak_rss_mib\": %s}\n",
                num(touch_mib).c_str(), num(t_touch).c_str(), num(t_again).c_str(), num(peak_rss_mib()).c_str());
    return 0;
  }
  if (path.empty()) usage("no spec given");
  if (points < 1) usage("--points must be >= 1");
  if (repeat < 1) usage("--repeat must be >= 1");
  if (phase != "load" && phase != "compile" && phase != "eval") usage("--phase is load, compile or eval");
  if (keep != "all" && keep != "tasks" && keep != "roots") usage("--keep is all, tasks or roots");
  if (keep != "all" && !dump.empty()) usage("--dump needs --keep all");
  if (repeat > 1 || threads_list.size() > 1) {
    // Keep freed memory in the heap: later evaluations reuse mapped pages.
    mallopt(M_MMAP_MAX, 0);  // no mmap'd chunks: big blocks come from the heap too
    mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());  // and are never given back
  }

  std::string out = "{\"spec\": \"" + json_escape(path) + "\"";
  auto field = [&](const char* k, const std::string& v) { out += std::string(", \"") + k + "\": " + v; };

  // --- load + validate ------------------------------------------------------
  auto t0 = Clock::now();
  capgraph::specs::LoadResult lr = capgraph::specs::load_spec_file(path, lopt);
  const double t_load = seconds_since(t0);
  if (!lr.ok()) {
    for (const auto& d : lr.errors) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    return lr.io_error ? 3 : 1;
  }
  std::size_t uses = 0, tasks = 0;
  for (const auto& n : lr.spec->nodes) {
    uses += n.uses.size();
    tasks += n.is_task ? 1 : 0;
  }
  field("nodes", std::to_string(lr.spec->nodes.size()));
  field("tasks", std::to_string(tasks));
  field("uses", std::to_string(uses));
  field("load_validate_s", num(t_load));
  field("rss_after_load_mib", num(peak_rss_mib()));
  if (phase == "load") {
    std::printf("%s}\n", out.c_str());
    return 0;
  }

  try {
    // --- compile --------------------------------------------------------------
    t0 = Clock::now();
    const capgraph::Model model = capgraph::Model::compile(std::move(*lr.spec));
    const double t_compile = seconds_since(t0);
    lr.spec.reset();
    field("compile_s", num(t_compile));
    field("rss_after_compile_mib", num(peak_rss_mib()));
    if (phase == "compile") {
      std::printf("%s}\n", out.c_str());
      return 0;
    }

    // --- evaluate -------------------------------------------------------------
    const auto& sc = model.spec().scale;
    const std::vector<double> xs = capgraph::ScaleAxis::log_spaced(from.value_or(sc.from), to.value_or(sc.to), points);
    if (threads_list.empty()) threads_list.push_back(1);
    std::optional<std::vector<std::size_t>> kept_nodes;
    if (keep != "all") {
      // tasks: every task's row (what `capgraph sweep` reports); roots: the
      // tasks nothing else uses (the headline tasks of a spec).
      std::vector<char> used(model.size(), 0);
      for (std::size_t v = 0; v < model.size(); ++v)
        for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) used[model.use_child(u)] = 1;
      kept_nodes.emplace();
      for (std::size_t v : model.tasks())
        if (keep == "tasks" || !used[v]) kept_nodes->push_back(v);
    }
    std::optional<capgraph::Evaluation> ev;
    std::string by_threads = "{", warm_by_threads = "{";
    double t_headline = 0, cpu_headline = 0;
    for (std::size_t ti = 0; ti < threads_list.size(); ++ti) {
      capgraph::EvalOptions eopt;
      eopt.threads = threads_list[ti];
      eopt.keep = kept_nodes;
      eopt.block_points = block_points;
      double t_first = 0, t_best = std::numeric_limits<double>::infinity();
      for (int r = 0; r < repeat; ++r) {
        ev.reset();  // the previous result is freed first: peak memory stays one evaluation
        t0 = Clock::now();
        const double c0 = cpu_seconds();
        ev = capgraph::evaluate(model, xs, eopt);
        const double t = seconds_since(t0);
        if (ti == 0 && r == 0) cpu_headline = cpu_seconds() - c0;
        if (r == 0) t_first = t;
        if (ti > 0 || r > 0) t_best = std::min(t_best, t);  // only the process's first evaluation is cold
      }
      if (ti == 0) t_headline = t_first;
      const std::string sep = ti ? ", " : "";
      by_threads += sep + "\"" + std::to_string(threads_list[ti]) + "\": " + num(t_first);
      if (std::isfinite(t_best))
        warm_by_threads += std::string(warm_by_threads.size() > 1 ? ", " : "") + "\"" +
                           std::to_string(threads_list[ti]) + "\": " + num(t_best);
    }
    field("points", std::to_string(points));
    field("threads", std::to_string(threads_list.front()));
    field("evaluate_s", num(t_headline));
    field("evaluate_cpu_s", num(cpu_headline));
    field("evaluate_s_by_threads", by_threads + "}");
    if (repeat > 1 || threads_list.size() > 1) {
      field("repeat", std::to_string(repeat));
      field("evaluate_warm_s_by_threads", warm_by_threads + "}");
    }
    field("rss_after_eval_mib", num(peak_rss_mib()));
    const std::size_t kept_rows = kept_nodes ? kept_nodes->size() : model.size();
    field("keep", "\"" + keep + "\"");
    field("kept_rows", std::to_string(kept_rows));
    field("evaluated_nodes", std::to_string(ev->evaluated_nodes()));  // with --keep, the kept rows' cones
    field("block_points", std::to_string(ev->block_points()));
    field("logp_bytes_mib", num(8.0 * static_cast<double>(kept_rows) * points / (1024.0 * 1024.0)));

    // --- what came out: finite ln P where a double P would be 0 -------------------
    const std::size_t n = model.size(), m = ev->num_points();
    const double ln_min_normal = std::log(std::numeric_limits<double>::min());  // about -708.4
    std::size_t neg_inf_nodes = 0, tiny_nodes = 0, tiny_points = 0;
    for (std::size_t v = 0; v < n; ++v) {
      if (!ev->has_row(v)) continue;
      bool has_inf = false, has_tiny = false;
      for (double lp : ev->log_p_row(v)) {
        if (std::isinf(lp)) has_inf = true;
        else if (lp < ln_min_normal) {
          has_tiny = true;
          ++tiny_points;
        }
      }
      neg_inf_nodes += has_inf;
      tiny_nodes += has_tiny;
    }
    field("neg_inf_nodes", std::to_string(neg_inf_nodes));
    field("below_min_normal_nodes", std::to_string(tiny_nodes));
    field("below_min_normal_points", std::to_string(tiny_points));
    if (!watch.empty()) {
      const auto w = model.find(watch);
      if (w && !ev->has_row(*w)) {
        std::fprintf(stderr, "bench_eval: --watch: `%s` was not kept (--keep)\n", watch.c_str());
        return 2;
      }
      if (!w) {
        std::fprintf(stderr, "bench_eval: --watch: no node `%s`\n", watch.c_str());
        return 2;
      }
      double lo = 0, hi = -std::numeric_limits<double>::infinity();
      std::size_t finite_zero = 0;
      for (std::size_t j = 0; j < m; ++j) {
        const double lp = ev->log_p(*w, j);
        lo = std::min(lo, lp);
        hi = std::max(hi, lp);
        if (std::isfinite(lp) && std::exp(lp) == 0.0) ++finite_zero;
      }
      out += ", \"watch\": {\"node\": \"" + json_escape(watch) + "\", \"log_p_min\": " + num(lo) +
             ", \"log_p_max\": " + num(hi) + ", \"finite_log_p_but_exp_zero_points\": " +
             std::to_string(finite_zero) + "}";
    }

    if (!dump.empty()) {
      t0 = Clock::now();
      std::string tmp = dump + ".tmp";
      std::FILE* fp = std::fopen(tmp.c_str(), "w");
      if (!fp) {
        std::fprintf(stderr, "bench_eval: cannot write %s: %s\n", tmp.c_str(), std::strerror(errno));
        return 3;
      }
      std::fputs("node,j,x,log_p,partial_credit\n", fp);
      const capgraph::Metric pc{capgraph::MetricKind::partial_credit, 0};
      for (std::size_t v = 0; v < n; ++v) {
        const auto& node = model.node(v);
        const bool want_pc = node.is_task && node.gate == capgraph::GateKind::all;
        for (std::size_t j = 0; j < m; ++j) {
          const double lp = ev->log_p(v, j);
          if (want_pc)
            std::fprintf(fp, "%s,%zu,%.17g,%.17g,%.17g\n", node.id.c_str(), j, xs[j], lp, ev->metric(v, pc, j));
          else
            std::fprintf(fp, "%s,%zu,%.17g,%.17g,\n", node.id.c_str(), j, xs[j], lp);
        }
      }
      if (std::fclose(fp) != 0 || std::rename(tmp.c_str(), dump.c_str()) != 0) {
        std::fprintf(stderr, "bench_eval: cannot write %s\n", dump.c_str());
        return 3;
      }
      field("dump_s", num(seconds_since(t0)));
    }
  } catch (const capgraph::ModelError& e) {
    std::fprintf(stderr, "%s: error: %s\n", path.c_str(), e.what());
    return 1;
  }
  field("peak_rss_mib", num(peak_rss_mib()));
  std::printf("%s}\n", out.c_str());
  return 0;
}
