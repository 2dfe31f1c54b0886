// capgraph/cli/common.cpp
#include "cli/common.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <sstream>

#include "specs/suggest.hpp"

namespace capgraph::cli {

Format CommonOptions::fmt() const {
  if (format == "csv") return Format::csv;
  if (format == "json") return Format::json;
  return Format::table;
}

EvalOptions CommonOptions::engine(unsigned threads) const {
  EvalOptions o;
  o.threads = threads;
  o.max_shared_expanded = max_shared_expanded;
  o.max_shared_work = max_shared_work;
  o.max_at_least_work = max_at_least_work;
  return o;
}

void CommonOptions::add_to(CLI::App& app, bool with_output) {
  app.add_option("--format", format, "Output format")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  if (with_output)
    app.add_option("-o,--output", output, "Write to this file (whole or not at all) instead of standard output");
  add_loading(app);
}

void CommonOptions::add_loading(CLI::App& app, bool engine) {
  app.add_flag("--timings", timings, "Print each phase's wall-clock time to standard error");
  app.add_option("--max-bytes", max_bytes, "Largest spec file accepted, in bytes")->capture_default_str();
  app.add_option("--max-nodes", max_nodes, "Most skills + tasks accepted in one spec")->capture_default_str();
  app.add_option("--max-uses", max_uses, "Largest use count (or weight) one reference may give")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-points", max_points, "Most sweep points (--points or the spec's scale.points)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  if (!engine) return;
  app.add_option("--max-shared-expanded", max_shared_expanded,
                 "Most shared skills one task may correlate for exact evaluation")
      ->check(CLI::Range(0, 40))
      ->capture_default_str();
  app.add_option("--max-shared-work", max_shared_work, "Most node evaluations the exact shared-skill expansion may take")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-at-least-work", max_at_least_work,
                 "Most term updates one at_least gate may take at one point (uses of distinct probabilities)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

int CommonOptions::check_points(const std::string& flag, int n) const {
  if (n > max_points)
    throw Failure(kUsage, "error: " + flag + " " + std::to_string(n) + " exceeds the limit of " +
                              std::to_string(max_points) + " sweep points; raise it with --max-points");
  return n;
}

void MonteCarloFlags::add_to(CLI::App& app) {
  app.add_option("--monte-carlo", samples,
                 "Also estimate P by sampling the outcome of every use, N samples per point (reports the standard error)")
      ->check(CLI::Range(std::uint64_t{2}, std::numeric_limits<std::uint64_t>::max()));
  app.add_option("--max-mc-samples", max_samples, "Most Monte Carlo samples per point --monte-carlo may ask for")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--seed", seed, "Seed of the Monte Carlo estimate (same seed, same numbers)")->capture_default_str();
  app.add_option("--max-mc-trials", max_trials, "Most trials one Monte Carlo sample of a task may expand to")
      ->check(CLI::PositiveNumber)
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
  specs::LoadOptions lo;
  lo.max_bytes = opts.max_bytes;
  lo.max_nodes = opts.max_nodes;
  lo.max_uses = opts.max_uses;
  lo.max_points = opts.max_points;
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

OutputStream::OutputStream(const CommonOptions& opts) : name_(opts.output), buf_(new char[kBuffer]) {
  if (opts.output.empty() || opts.output == "-") {
    std::fflush(stdout);
    fd_ = STDOUT_FILENO;
    name_.clear();
    return;
  }
  namespace fs = std::filesystem;
  fs::path target(opts.output);
  std::error_code ec;
  const fs::file_status st = fs::status(target, ec);  // follows symlinks
  if (!ec && fs::is_directory(st)) throw Failure(kIo, opts.output + ": error: cannot write: is a directory");
  if (!ec && fs::exists(st) && !fs::is_regular_file(st)) {
    // A device or FIFO (/dev/null, /dev/stdout, a named pipe): write to it.
    // Renaming a temporary over it would replace the special file itself.
    fd_ = ::open(opts.output.c_str(), O_WRONLY);
    if (fd_ < 0) throw Failure(kIo, opts.output + ": error: cannot write: " + std::strerror(errno));
    own_fd_ = true;
    return;
  }
  // Through a symlink to a file: replace the file it names, keep the link.
  if (fs::is_symlink(fs::symlink_status(target, ec))) {
    const fs::path real = fs::canonical(target, ec);
    if (!ec) target = real;
  }
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::string tmpl = (dir / ("." + target.filename().string() + ".tmpXXXXXX")).string();
  fd_ = ::mkstemp(tmpl.data());
  if (fd_ < 0) throw Failure(kIo, opts.output + ": error: cannot write: " + std::strerror(errno));
  own_fd_ = true;
  target_ = target.string();
  temp_ = std::move(tmpl);
}

OutputStream::~OutputStream() {
  if (own_fd_ && fd_ >= 0) ::close(fd_);
  if (!finished_ && !temp_.empty()) std::remove(temp_.c_str());
}

void OutputStream::fail(int err) {
  const std::string why = std::strerror(err);
  if (own_fd_ && fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_.empty()) std::remove(temp_.c_str());
  temp_.clear();
  if (name_.empty()) throw Failure(kIo, "error: cannot write to standard output");
  throw Failure(kIo, name_ + ": error: cannot write: " + why);
}

void OutputStream::put(const char* data, std::size_t size) {
  for (std::size_t done = 0; !closed_ && done < size;) {
    const ssize_t w = ::write(fd_, data + done, size - done);
    if (w > 0) {
      done += static_cast<std::size_t>(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else {
      const int err = w < 0 ? errno : ENOSPC;
      // The reader went away (| head): end quietly (docs/cli.md, "Exit codes"). Not
      // for a file: a temporary cannot lose its reader.
      if (err == EPIPE && temp_.empty()) closed_ = true;
      else fail(err);
    }
  }
}

void OutputStream::flush() {
  if (used_ > 0) put(buf_.get(), used_);
  used_ = 0;
}

namespace {

// num()'s text of v in buf, the one place that decides it.
std::string_view num_text(double v, char (&buf)[64]) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string_view(buf, static_cast<std::size_t>(res.ptr - buf));
}

}  // namespace

void OutputStream::number(double v) {
  char buf[64];
  write(num_text(v, buf));
}

void OutputStream::finish() {
  flush();
  finished_ = true;
  if (temp_.empty()) {
    if (own_fd_) {
      const int fd = fd_;
      fd_ = -1;
      if (::close(fd) != 0 && !closed_) fail(errno);
    }
    return;
  }
  if (::fsync(fd_) != 0) fail(errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(errno);
  if (std::rename(temp_.c_str(), target_.c_str()) != 0) fail(errno);
  temp_.clear();
  // mkstemp creates 0600; give the file the usual permissions (umask applies).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(target_.c_str(), 0666 & ~mask);
}

std::string text_of(const std::ostringstream& os) {
  if (!os) throw std::bad_alloc();
  return os.str();
}

void write_output(const std::string& text, const CommonOptions& opts) {
  OutputStream out(opts);
  out.write(text);
  out.finish();
}

std::string num(double v) {
  char buf[64];
  return std::string(num_text(v, buf));
}

std::string num_short(double v, int digits) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

double parse_positive(const std::string& flag, const std::string& text) {
  double v = 0;
  const char* b = text.data();
  const char* e = b + text.size();
  auto res = std::from_chars(b, e, v);
  if (res.ec != std::errc() || res.ptr != e || !std::isfinite(v) || !(v > 0))
    throw Failure(kUsage, "error: " + flag + " expects a positive number such as 1e10, got `" + text + "`");
  return v;
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
    const std::string hint = specs::did_you_mean(id, names);
    if (!hint.empty()) msg += "; " + hint;
    throw Failure(kUsage, msg);
  }
  return out;
}

std::string TextTable::str() const {
  std::vector<std::size_t> w(header_.size(), 0);
  auto widen = [&](const std::vector<std::string>& r) {
    for (std::size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
  };
  widen(header_);
  for (const auto& r : rows_) widen(r);
  auto numeric = [](const std::string& s) {
    if (s == "inf" || s == "-inf" || s == "n/a" || s == "nan") return true;
    double v;
    const auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    return res.ec == std::errc() && res.ptr == s.data() + s.size();
  };
  std::ostringstream os;
  auto line = [&](const std::vector<std::string>& r, bool head) {
    std::string out;
    for (std::size_t i = 0; i < r.size(); ++i) {
      const std::size_t pad = w[i] - r[i].size();
      const char a = i < align_.size() ? align_[i] : 'a';
      const bool right = !head && (a == 'r' || (a == 'a' && i > 0 && numeric(r[i])));
      if (i) out += "  ";
      if (right) out += std::string(pad, ' ') + r[i];
      else out += r[i] + (i + 1 < r.size() ? std::string(pad, ' ') : "");
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    os << out << '\n';
  };
  line(header_, true);
  std::vector<std::string> rule;
  for (std::size_t x : w) rule.push_back(std::string(x, '-'));
  line(rule, true);
  for (const auto& r : rows_) line(r, false);
  return text_of(os);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string kind_of(const NodeSpec& n) { return n.is_task ? gate_kind_name(n.gate) : "skill"; }

nlohmann::ordered_json jnum(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json jopt(const std::optional<double>& v) { return v ? jnum(*v) : nlohmann::ordered_json(nullptr); }

std::string describe_point(const Model& model, const ScalePoint& pt) {
  std::string s;
  if (model.spec().scale.axis == Axis::compute) s = "C = " + num_short(pt.C) + " FLOP (N = " + num_short(pt.N);
  else s = "N = " + num_short(pt.N) + " params (C = " + num_short(pt.C) + " FLOP";
  s += ", D = " + num_short(pt.D) + " tokens" + (pt.data_limited ? ", data-limited" : "") + ")";
  return s;
}

}  // namespace capgraph::cli
