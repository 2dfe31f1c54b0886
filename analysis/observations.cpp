// capgraph/analysis/observations.cpp
#include "analysis/observations.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <tuple>
#include <unordered_set>

#include "specs/input_text.hpp"
#include "text/suggest.hpp"

namespace capgraph::analysis {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

// Parses a whole cell as a finite double (the one number syntax).
std::optional<double> parse_number(const std::string& s) {
  double v = 0;
  if (specs::parse_number(s, v) != specs::NumberStatus::ok) return std::nullopt;
  return v;
}

// "multiple_choice:4" / "pass_at:10" -> k, or 0.
int suffix_k(const std::string& name, std::string_view prefix) {
  if (name.rfind(prefix, 0) != 0) return 0;
  const std::string rest = name.substr(prefix.size());
  int k = 0;
  const auto r = std::from_chars(rest.data(), rest.data() + rest.size(), k);
  return r.ec == std::errc() && r.ptr == rest.data() + rest.size() ? k : 0;
}

constexpr const char* kRequired[] = {"task", "family", "params", "metric", "score"};
constexpr const char* kOptional[] = {"shots", "model", "train_flops", "n", "node"};

}  // namespace

MetricInfo metric_info(const std::string& name, const std::vector<std::string>& declared_lower) {
  MetricInfo m;
  m.name = name;
  m.recognised = true;
  const std::string l = lower(name);
  const bool declared = std::find(declared_lower.begin(), declared_lower.end(), name) != declared_lower.end();
  if (declared || l.find("lower=better") != std::string::npos || l.find("brier") != std::string::npos ||
      l == "loss" || l == "log_loss" || l == "cross_entropy" || l == "perplexity") {
    m.lower_is_better = true;
    return m;
  }
  if (l == "exact_match" || l == "exact_str_match" || l == "acc(exact answer)" || l == "em") {
    m.unit_interval = m.discrete = true;
    m.engine = Metric{MetricKind::exact_match, 0};
  } else if (l == "multiple_choice_grade(acc)" || l == "multiple_choice_grade" || l == "acc" || l == "accuracy") {
    // The node's P, chance floor included: give the task `guess: 1/K`.
    m.unit_interval = m.discrete = true;
    m.engine = Metric{MetricKind::exact_match, 0};
  } else if (int k = suffix_k(l, "multiple_choice:"); k >= 2) {
    m.unit_interval = m.discrete = true;
    m.engine = Metric{MetricKind::multiple_choice, k};
  } else if (int k2 = suffix_k(l, "pass_at:"); k2 >= 1) {
    m.unit_interval = m.discrete = true;
    m.engine = Metric{MetricKind::pass_at, k2};
  } else if (l == "partial_credit") {
    m.unit_interval = true;
    m.engine = Metric{MetricKind::partial_credit, 0};
  } else if (l == "log_likelihood") {
    m.engine = Metric{MetricKind::log_likelihood, 0};
  } else if (l == "bleu") {
    m.scale = 0.01;  // BLEU is published on 0-100 (examples/data/README.md)
    m.unit_interval = true;
  } else {
    m.recognised = false;
  }
  return m;
}

std::string CsvError::to_string() const {
  std::string s = file;
  for (const int n : {line, col}) {
    if (n <= 0) break;  // no column without a line
    s += ':';
    s += std::to_string(n);
  }
  s += ": error: ";
  if (!column.empty()) s += "column `" + column + "`: ";
  s += message;
  if (!hint.empty()) s += "; " + hint;
  return s;
}

std::vector<std::string> split_csv_line(std::string_view line) {
  std::vector<std::string> out;
  std::string cell;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') cell += '"', ++i;
      else if (c == '"') quoted = false;
      else cell += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(cell);
      cell.clear();
    } else if (c != '\r') {
      cell += c;
    }
  }
  out.push_back(cell);
  return out;
}

namespace {

// Reads the records of one file, one at a time, as they are split off the
// input (RowReader::record), so that the text is never held whole.
class RowReader {
 public:
  RowReader(const std::string& file, const ReadOptions& options) : options_(options) { r_.set.file = file; }
  /// One record (without its line break) starting on physical line `line`.
  /// False once reading should stop (the header was refused).
  bool record(std::string_view text, int line);
  /// After the last record: `quoted_from` > 0 if a quoted field was still
  /// open at the end of the input, started on that line.
  ReadResult finish(int quoted_from);
  void err(int line, std::string column, std::string message, std::string hint = {}, int col = 0) {
    r_.errors.push_back({r_.set.file, line, std::move(column), std::move(message), std::move(hint), col});
  }
  ReadResult& result() { return r_; }

 private:
  bool header(std::string_view text);
  void row(std::string_view text, int line);
  std::string cell(const std::vector<std::string>& cells, const char* name) const {
    auto it = col_.find(name);
    return it == col_.end() ? std::string() : trim(cells[it->second]);
  }

  const ReadOptions& options_;
  ReadResult r_;
  bool have_header_ = false;
  std::size_t columns_ = 0;
  std::map<std::string, std::size_t> col_;
  // Duplicate detection: the rows read so far, by (task, family, metric,
  // model; or the scale when the model is not named). A set of row indices,
  // not of copied keys, so that a file of millions of rows is held once.
  struct SameKey {
    const std::vector<Observation>* rows;
    static bool same(const Observation& a, const Observation& b) {
      return a.task == b.task && a.family == b.family && a.metric == b.metric && a.model == b.model &&
             (!a.model.empty() || a.params == b.params);
    }
    std::size_t operator()(std::size_t i) const {
      const Observation& o = (*rows)[i];
      const std::hash<std::string> h;
      std::size_t k = h(o.task);
      for (const std::string* s : {&o.family, &o.metric, &o.model}) k = k * 1000003u ^ h(*s);
      return o.model.empty() ? k * 1000003u ^ std::hash<double>()(o.params) : k;
    }
    bool operator()(std::size_t a, std::size_t b) const { return same((*rows)[a], (*rows)[b]); }
  };
  std::unordered_set<std::size_t, SameKey, SameKey> seen_{16, SameKey{&r_.set.rows}, SameKey{&r_.set.rows}};
};

bool RowReader::record(std::string_view text, int line) {
  if (!have_header_ && line == 1) text = specs::strip_bom(text);  // as spreadsheet programs write one
  // Every text that enters capgraph is UTF-8 (JSON output relies on it).
  if (const std::size_t bad = specs::first_invalid_utf8(text); bad != std::string_view::npos) {
    const SourceLoc at = specs::position_of_offset(text, bad);
    err(line + at.line - 1, "", specs::invalid_utf8_message(text, bad), "an observations file must be UTF-8 text",
        at.column);
    return have_header_;
  }
  if (!have_header_) return header(text);
  row(text, line);
  return true;
}

bool RowReader::header(std::string_view text) {
  if (trim(text).empty()) {
    err(1, "", "empty observations file; expected a header such as task,family,params,shots,metric,score,model,train_flops");
    return false;
  }
  have_header_ = true;
  const auto head = split_csv_line(text);
  columns_ = head.size();
  std::vector<std::string_view> known;
  for (const char* k : kRequired) known.push_back(k);
  for (const char* k : kOptional) known.push_back(k);
  std::vector<std::string> unknown;
  for (std::size_t i = 0; i < head.size(); ++i) {
    const std::string h = trim(head[i]);
    if (col_.count(h)) {
      err(1, h, "duplicate column");
      continue;
    }
    col_[h] = i;
    if (std::find(known.begin(), known.end(), h) == known.end()) unknown.push_back(h);
  }
  for (const char* need : kRequired)
    if (!col_.count(need)) {
      std::string hint;
      for (const auto& u : unknown)
        if (text::closest_match(u, {std::string_view(need)}) == need) hint = "is `" + u + "` meant to be `" + need + "`?";
      err(1, need, "missing required column (the header needs task,family,params,metric,score)", hint);
    }
  if (!r_.errors.empty()) return false;
  if (!unknown.empty()) {
    std::string s = "ignored column(s) not used by capgraph:";
    for (const auto& u : unknown) s += " " + u;
    r_.set.notes.push_back(s);
  }
  return true;
}

ReadResult RowReader::finish(int quoted_from) {
  if (quoted_from > 0) {
    err(quoted_from, "", "a quoted field is not closed before the end of the file",
        "a field that holds a comma, a quote or a line break must end with a closing \"");
    return std::move(r_);
  }
  if (!have_header_ && r_.errors.empty())
    err(1, "", "empty observations file; expected a header such as task,family,params,shots,metric,score,model,train_flops");
  if (have_header_ && r_.errors.empty() && r_.set.rows.empty()) err(1, "", "no observations after the header");
  for (const auto& [name, mi] : r_.set.metrics)
    if (!mi.recognised)
      r_.set.notes.push_back("metric `" + name +
                             "` is not one capgraph knows: read as higher-is-better on its own scale "
                             "(declare it with --lower-is-better if lower is better)");
  return std::move(r_);
}

// Splits records (RFC 4180: a line break inside a quoted field belongs to
// the field, so a record may span lines; errors name the line it starts
// on) off text that arrives in pieces, and hands each to a RowReader.
class RecordSplitter {
 public:
  explicit RecordSplitter(RowReader& rows) : rows_(rows) {}
  /// False once the reader wants no more.
  bool feed(std::string_view chunk) {
    if (stopped_) return false;
    std::size_t b = 0;
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      const char c = chunk[i];
      if (c == '"') {
        quoted_ = !quoted_;  // "" inside quotes flips twice
      } else if (c == '\n') {
        ++physical_;
        if (!quoted_) {
          if (!emit(chunk.substr(b, i - b))) return false;
          b = i + 1;
          start_ = physical_;
        }
      }
    }
    pending_.append(chunk.substr(b));
    return true;
  }
  ReadResult finish() {
    if (!stopped_ && !quoted_ && !pending_.empty()) emit({});
    if (stopped_) return std::move(rows_.result());
    return rows_.finish(quoted_ ? start_ : 0);
  }

 private:
  bool emit(std::string_view tail) {
    std::string_view rec = tail;
    if (!pending_.empty()) {
      pending_.append(tail);
      rec = pending_;
    }
    stopped_ = !rows_.record(rec, start_);
    pending_.clear();
    return !stopped_;
  }

  RowReader& rows_;
  std::string pending_;  // the start of a record that the next chunk ends
  bool quoted_ = false, stopped_ = false;
  int physical_ = 1, start_ = 1;
};

}  // namespace

ReadResult read_observations(const std::string& path, const ReadOptions& options) {
  const std::string name = path == "-" ? "<stdin>" : path;
  auto io_error = [&](const std::string& message) {
    ReadResult r;
    r.io_error = true;
    r.set.file = name;
    r.errors.push_back({name, 0, "", message, "", 0});
    return r;
  };
  std::FILE* in = stdin;
  if (path != "-") {
    in = std::fopen(path.c_str(), "rb");
    if (in == nullptr) return io_error(std::string("cannot read the observations file: ") + std::strerror(errno));
  }
  struct Closer {
    std::FILE* f;
    ~Closer() {
      if (f != stdin) std::fclose(f);
    }
  } closer{in};
  struct stat st {};
  if (::fstat(fileno(in), &st) == 0 && S_ISDIR(st.st_mode))
    return io_error("cannot read the observations file: it is a directory");
  RowReader rows(name, options);
  RecordSplitter split(rows);
  std::vector<char> buf(std::size_t{1} << 16);
  std::size_t total = 0;
  for (;;) {
    const std::size_t n = std::fread(buf.data(), 1, buf.size(), in);
    total += n;
    if (total > options.max_bytes) {
      ReadResult r;
      r.set.file = name;
      r.errors.push_back({name, 0, "",
                          "observations file is larger than the limit of " + std::to_string(options.max_bytes) + " bytes",
                          "raise it with --max-bytes", 0});
      return r;
    }
    if (n > 0 && !split.feed(std::string_view(buf.data(), n))) return split.finish();
    if (n < buf.size()) {
      if (std::ferror(in)) return io_error(std::string("cannot read the observations file: ") + std::strerror(errno));
      break;
    }
  }
  return split.finish();
}

ReadResult read_observations_text(std::string_view text, const std::string& file, const ReadOptions& options) {
  RowReader rows(file, options);
  RecordSplitter split(rows);
  split.feed(text);
  return split.finish();
}

namespace {

void RowReader::row(std::string_view text, int line) {
  if (trim(text).empty() || trim(text) == "\r") return;
  const auto cells = split_csv_line(text);
  if (cells.size() != columns_) {
    err(line, "", std::to_string(cells.size()) + " fields, the header has " + std::to_string(columns_));
    return;
  }
  const std::size_t before = r_.errors.size();
  Observation o;
  o.line = line;
  o.task = cell(cells, "task");
  o.family = cell(cells, "family");
  o.metric = cell(cells, "metric");
  o.model = cell(cells, "model");
  for (const char* need : {"task", "family", "metric"})
    if (cell(cells, need).empty()) err(line, need, "empty");
  auto number = [&](const char* name, bool required) -> std::optional<double> {
    const std::string s = cell(cells, name);
    if (s.empty()) {
      if (required) err(line, name, "empty; expected a number");
      return std::nullopt;
    }
    auto v = parse_number(s);
    if (!v) err(line, name, "`" + s + "` is not a finite number");
    return v;
  };
  if (auto v = number("params", true)) {
    o.params = *v;
    if (!(*v > 0)) err(line, "params", "the parameter count must be positive, got " + cell(cells, "params"));
    else if (const std::string why = specs::scale_problem(*v); !why.empty()) err(line, "params", why);
  }
  if (auto v = number("train_flops", false)) {
    o.train_flops = *v;
    if (!(*v > 0)) err(line, "train_flops", "training compute must be positive, got " + cell(cells, "train_flops"));
    else if (const std::string why = specs::scale_problem(*v); !why.empty()) err(line, "train_flops", why);
  } else if (options_.need_train_flops && cell(cells, "train_flops").empty()) {
    err(line, "train_flops", "empty, but the compute axis needs each row's training FLOPs");
  }
  if (auto v = number("shots", false)) {
    if (*v < 0 || *v != std::floor(*v) || *v > 1e6) err(line, "shots", "expected a whole number >= 0");
    else o.shots = static_cast<int>(*v);
  }
  if (auto v = number("n", false)) {
    if (*v < 1 || *v != std::floor(*v)) err(line, "n", "the number of items must be a whole number >= 1");
    else o.n = *v;
  }
  std::optional<double> score = number("score", true);
  if (!o.metric.empty()) {
    auto mit = r_.set.metrics.find(o.metric);
    if (mit == r_.set.metrics.end())
      mit = r_.set.metrics.emplace(o.metric, metric_info(o.metric, options_.lower_is_better)).first;
    const MetricInfo& mi = mit->second;
    if (score) {
      o.score = *score;
      o.value = *score * mi.scale;
      if (mi.unit_interval && (o.value < 0 || o.value > 1)) {
        err(line, "score", o.metric + " score " + cell(cells, "score") + " is outside [0, " +
                               (mi.scale == 1 ? std::string("1") : std::string("100")) + "]");
      } else if (mi.engine && mi.engine->kind == MetricKind::log_likelihood && o.value > 0) {
        err(line, "score", "a log-likelihood cannot be positive");
      } else if (o.n && mi.discrete) {
        const double k = o.value * *o.n;
        if (std::fabs(k - std::round(k)) > 1e-6 * std::max(1.0, *o.n))
          err(line, "score", "score * n = " + cell(cells, "score") + " * " + cell(cells, "n") +
                                 " is not a whole number of items");
      }
    }
  }
  // Node: the row's own `node`, else --map, else the task itself.
  const std::string node_cell = cell(cells, "node");
  auto mapped = options_.task_to_node.find(o.task);
  if (!node_cell.empty() && mapped != options_.task_to_node.end() && mapped->second != node_cell)
    err(line, "node", "the row maps task `" + o.task + "` to `" + node_cell + "` but --map says `" + mapped->second + "`");
  o.node = !node_cell.empty() ? node_cell : mapped != options_.task_to_node.end() ? mapped->second : o.task;
  if (r_.errors.size() != before) return;
  const std::string model = o.model.empty() ? cell(cells, "params") : o.model;
  r_.set.rows.push_back(std::move(o));
  auto [it, fresh] = seen_.insert(r_.set.rows.size() - 1);
  if (!fresh) {
    const Observation& dup = r_.set.rows.back();
    err(line, "", "duplicate observation of task `" + dup.task + "`, family `" + dup.family + "`, metric `" +
                      dup.metric + "`, model `" + model + "` (first on line " +
                      std::to_string(r_.set.rows[*it].line) + ")");
    r_.set.rows.pop_back();
  }
}

}  // namespace

std::vector<Series> group_series(const ObservationSet& set, bool compute_axis) {
  std::vector<Series> out;
  std::map<std::tuple<std::string, std::string, std::string>, std::size_t> index;
  // order: first appearance of (task, family), then of the metric within it
  std::map<std::pair<std::string, std::string>, std::size_t> pair_rank;
  for (std::size_t i = 0; i < set.rows.size(); ++i) {
    const auto& o = set.rows[i];
    pair_rank.emplace(std::make_pair(o.task, o.family), pair_rank.size());
    const auto key = std::make_tuple(o.task, o.family, o.metric);
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, out.size()).first;
      Series s;
      s.task = o.task;
      s.family = o.family;
      s.metric = o.metric;
      s.node = o.node;
      out.push_back(std::move(s));
    }
    out[it->second].rows.push_back(i);
  }
  auto xof = [&](std::size_t i) {
    const auto& o = set.rows[i];
    return compute_axis && o.train_flops ? *o.train_flops : o.params;
  };
  for (auto& s : out) {
    std::stable_sort(s.rows.begin(), s.rows.end(), [&](std::size_t a, std::size_t b) { return xof(a) < xof(b); });
    for (std::size_t i : s.rows) {
      s.x.push_back(xof(i));
      s.y.push_back(set.rows[i].value);
    }
  }
  std::stable_sort(out.begin(), out.end(), [&](const Series& a, const Series& b) {
    return pair_rank.at({a.task, a.family}) < pair_rank.at({b.task, b.family});
  });
  return out;
}

}  // namespace capgraph::analysis
