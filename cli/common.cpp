// capgraph/cli/common.cpp — see common.hpp.
#include "cli/common.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>

#include "graph/scale_text.hpp"
#include "specs/input_text.hpp"
#include "text/suggest.hpp"

namespace capgraph::cli {

Format CommonOptions::fmt() const {
  if (format == "csv") return Format::csv;
  if (format == "json") return Format::json;
  return Format::table;
}

void CommonOptions::add_to(CLI::App& app, bool with_output, unsigned limits) {
  app.add_option("--format", format, "Output format")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  if (with_output)
    app.add_option("-o,--output", output, "Write to this file (whole or not at all) instead of standard output");
  app.add_flag("--timings", timings, "Print each phase's wall-clock time to standard error");
  add_limits(app, limits);
}

void CommonOptions::add_loading(CLI::App& app, bool engine) {
  app.add_flag("--timings", timings, "Print each phase's wall-clock time to standard error");
  add_limits(app, kBytes | kSpec | (engine ? kEngine : 0u));
}

void MonteCarloFlags::add_to(CLI::App& app) {
  app.add_option("--monte-carlo", samples,
                 "Also estimate P by sampling the outcome of every use, N samples per point (reports the standard error)")
      ->transform(number_check(Number::integer, 2));
  app.add_option("--seed", seed, "Seed of the Monte Carlo estimate (same seed, same numbers)")->capture_default_str();
  CLI::App& g = limits_group(app);
  g.add_option("--max-mc-samples", max_samples, "Most Monte Carlo samples per point --monte-carlo may ask for")
      ->transform(number_check(Number::integer, 1))
      ->capture_default_str();
  g.add_option("--max-mc-trials", max_trials, "Most trials one Monte Carlo sample of a task may expand to")
      ->transform(number_check(Number::positive))
      ->capture_default_str();
}

MonteCarloOptions MonteCarloFlags::options(unsigned threads) const {
  if (samples > max_samples)
    throw Failure(kUsage, "error: --monte-carlo " + std::to_string(samples) + " exceeds the limit of " +
                              std::to_string(max_samples) + " samples per point; raise it with --max-mc-samples");
  MonteCarloOptions o;
  o.samples = samples;
  o.seed = seed;
  o.max_trials_per_sample = max_trials;
  o.threads = threads;
  return o;
}

void Timings::stop(const std::string& phase) {
  const auto t1 = std::chrono::steady_clock::now();
  phases_.emplace_back(phase, std::chrono::duration<double>(t1 - t0_).count());
  t0_ = t1;
}

void Timings::print() const {
  if (!enabled_) return;
  double total = 0;
  for (const auto& [name, s] : phases_) {
    std::fprintf(stderr, "timing: %-9s %10.6f s\n", name.c_str(), s);
    total += s;
  }
  std::fprintf(stderr, "timing: %-9s %10.6f s\n", "total", total);
}

namespace {
std::string g_current_spec;
}

const std::string& current_spec_name() { return g_current_spec; }

Model load_model(const std::string& path, const CommonOptions& opts, Timings& timings) {
  g_current_spec = path == "-" ? "<stdin>" : path;
  note_input(path);
  const specs::LoadOptions lo = opts.load();
  // "-" is standard input: the loader reads it and enforces the size limit.
  specs::LoadResult r = specs::load_spec_file(path, lo);
  timings.add("read", r.timings.read);
  timings.add("load", r.timings.parse);
  timings.add("validate", r.timings.validate);
  if (!r.ok()) {
    for (const auto& d : r.errors) std::cerr << d.to_string() << '\n';
    throw Failure(r.io_error ? kIo : kInvalid, "");
  }
  timings.start();
  try {
    Model m = Model::compile(std::move(*r.spec));
    timings.stop("compile");
    return m;
  } catch (const ModelError& e) {
    const std::string file = path == "-" ? "<stdin>" : path;
    throw Failure(kInvalid, file + ":" + std::to_string(e.loc().line) + ":" + std::to_string(e.loc().column) +
                                ": error: " + e.what());
  }
}

double parse_positive(const std::string& flag, const std::string& text) {
  double v = 0;
  if (specs::parse_number(text, v) == specs::NumberStatus::ok && v > 0) return v;
  if (const auto s = capgraph::parse_scale(text)) return *s;  // 70B, 1.5T, 300M
  throw Failure(kUsage, "error: " + flag + " expects a positive number such as 1e10, 70B or 1.5T, got `" + text + "`");
}

double parse_scale(const std::string& flag, const std::string& text, const ScaleSpec* scale) {
  const double v = parse_positive(flag, text);
  const std::string why = specs::scale_problem(v, scale);
  if (!why.empty())
    throw Failure(kUsage, "error: " + flag + " " + text + ": " + why + " (docs/measures.md §1)");
  return v;
}

namespace {

std::string short_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

CLI::Validator number_check(Number kind, double min, double max) {
  auto f = [kind, min, max](std::string& text) -> std::string {
    double v = 0;
    const specs::NumberStatus st = specs::parse_number(text, v);
    if (st == specs::NumberStatus::out_of_range) return "`" + text + "` is out of the range of a number";
    if (st != specs::NumberStatus::ok) return "`" + text + "` is not a number";
    if (kind == Number::integer) {
      if (v != std::floor(v)) return "`" + text + "` is not a whole number";
      // Digits alone are kept as they are (no rounding of a large seed);
      // leading zeros go, which CLI11 would read as octal.
      std::string_view d = text;
      if (!d.empty() && d[0] == '+') d.remove_prefix(1);
      if (!d.empty() && d.find_first_not_of("0123456789") == std::string_view::npos) {
        d.remove_prefix(std::min(d.find_first_not_of('0'), d.size() - 1));
        text = std::string(d);
      } else if (std::fabs(v) < 9007199254740992.0) {  // 2^53: every whole number exact
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.0f", v);
        text = buf;
      } else {
        return "`" + text + "` is too large; write it in digits";
      }
    } else {
      text = num(v);
    }
    if (kind == Number::positive && !(v > 0)) return short_text(v) + " is not positive";
    if (v < min) return short_text(v) + " is below the minimum of " + short_text(min);
    if (v > max) return short_text(v) + " is above the maximum of " + short_text(max);
    return "";
  };
  return CLI::Validator(f, "", "number");
}

void check_numbers(CLI::App& app) {
  for (CLI::Option* opt : app.get_options()) {
    const std::string type = opt->get_type_name();
    const bool integer = type.rfind("INT", 0) == 0 || type.rfind("UINT", 0) == 0;
    if (!integer && type.rfind("FLOAT", 0) != 0) continue;
    try {
      opt->get_validator("number");
    } catch (const CLI::OptionNotFound&) {
      opt->transform(number_check(integer ? Number::integer : Number::real));
    }
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) check_numbers(*sub);
}

void check_utf8_arguments(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const std::size_t bad = specs::first_invalid_utf8(a);
    if (bad == std::string_view::npos) continue;
    throw Failure(kUsage, "capgraph: error: argument " + std::to_string(i) + ", byte " + std::to_string(bad + 1) +
                              ": " + specs::invalid_utf8_message(a, bad) +
                              "; every value on the command line must be UTF-8 text");
  }
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

void refuse_repeats(const std::string& flag, const Model& model, const std::vector<std::size_t>& nodes) {
  std::vector<std::size_t> sorted = nodes;
  std::sort(sorted.begin(), sorted.end());
  const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
  if (dup != sorted.end())
    throw Failure(kUsage, "error: " + flag + " names `" + model.node(*dup).id + "` twice; name each once");
}

void refuse_repeats(const std::string& flag, const std::vector<double>& xs) {
  std::vector<double> sorted = xs;
  std::sort(sorted.begin(), sorted.end());
  const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
  if (dup != sorted.end())
    throw Failure(kUsage, "error: " + flag + " gives the point " + num(*dup) + " twice; give each once");
}

std::vector<std::size_t> resolve_ids(const Model& model, const std::vector<std::string>& ids, bool tasks_only) {
  std::vector<std::size_t> out;
  for (const auto& id : ids) {
    auto v = model.find(id);
    if (v && (!tasks_only || model.node(*v).is_task)) {
      out.push_back(*v);
      continue;
    }
    std::vector<std::string_view> names;
    for (std::size_t i = 0; i < model.size(); ++i)
      if (!tasks_only || model.node(i).is_task) names.push_back(model.node(i).id);
    std::string msg = "error: no " + std::string(tasks_only ? "task" : "node") + " `" + id + "` in the spec";
    if (v && tasks_only) msg += " (`" + id + "` is a skill)";
    const std::string hint = text::did_you_mean(id, names);
    if (!hint.empty()) msg += "; " + hint;
    throw Failure(kUsage, msg);
  }
  return out;
}







}  // namespace capgraph::cli
