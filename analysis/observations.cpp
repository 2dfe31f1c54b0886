// capgraph/analysis/observations.cpp
#include "analysis/observations.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iostream>
#include <iterator>
#include <numeric>
#include <sstream>
#include <tuple>

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

// Parses a whole cell as a finite double.
std::optional<double> parse_number(const std::string& s) {
  double v = 0;
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  const auto r = std::from_chars(b, e, v);
  if (r.ec != std::errc() || r.ptr != e || !std::isfinite(v)) return std::nullopt;
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
    m.scale = 0.01;  // BLEU is reported on 0-100 (shared/data/README.md)
    m.unit_interval = true;
  } else {
    m.recognised = false;
  }
  return m;
}

std::string CsvError::to_string() const {
  std::string s = file + ":" + std::to_string(line) + ": error: ";
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

ReadResult read_observations(const std::string& path, const ReadOptions& options) {
  std::string text;
  const std::string name = path == "-" ? "<stdin>" : path;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      ReadResult r;
      r.io_error = true;
      r.errors.push_back({name, 0, "", "cannot read the observations file", ""});
      return r;
    }
    std::ostringstream os;
    os << in.rdbuf();
    text = os.str();
  }
  return read_observations_text(text, name, options);
}

ReadResult read_observations_text(std::string_view text, const std::string& file, const ReadOptions& options) {
  ReadResult r;
  r.set.file = file;
  auto err = [&](int line, std::string column, std::string message, std::string hint = {}) {
    r.errors.push_back({file, line, std::move(column), std::move(message), std::move(hint)});
  };
  // Records (RFC 4180): a line break inside a quoted field belongs to the
  // field, so a record may span lines; errors name the line it starts on.
  // A CR before LF is dropped by split_csv_line.
  std::vector<std::string_view> lines;
  std::vector<int> line_of;  // the physical line each record starts on
  {
    int physical = 1;
    bool quoted = false;
    std::size_t b = 0;
    int start = 1;
    for (std::size_t i = 0; i <= text.size(); ++i) {
      if (i == text.size() || (text[i] == '\n' && !quoted)) {
        if (i == text.size() && quoted) {
          err(start, "", "a quoted field is not closed before the end of the file",
              "a field that holds a comma, a quote or a line break must end with a closing \"");
          return r;
        }
        if (i < text.size() || b < text.size()) {
          lines.push_back(text.substr(b, i - b));
          line_of.push_back(start);
        }
        b = i + 1;
        start = ++physical;
        continue;
      }
      if (text[i] == '"') quoted = !quoted;  // "" inside quotes flips twice
      else if (text[i] == '\n') ++physical;
    }
  }
  if (lines.empty() || trim(lines[0]).empty()) {
    err(1, "", "empty observations file; expected a header such as task,family,params,shots,metric,score,model,train_flops");
    return r;
  }
  const auto head = split_csv_line(lines[0]);
  std::map<std::string, std::size_t> col;
  std::vector<std::string_view> known;
  for (const char* k : kRequired) known.push_back(k);
  for (const char* k : kOptional) known.push_back(k);
  std::vector<std::string> unknown;
  for (std::size_t i = 0; i < head.size(); ++i) {
    const std::string h = trim(head[i]);
    if (col.count(h)) {
      err(1, h, "duplicate column");
      continue;
    }
    col[h] = i;
    if (std::find(known.begin(), known.end(), h) == known.end()) unknown.push_back(h);
  }
  for (const char* need : kRequired)
    if (!col.count(need)) {
      std::string hint;
      for (const auto& u : unknown)
        if (text::closest_match(u, {std::string_view(need)}) == need) hint = "is `" + u + "` meant to be `" + need + "`?";
      err(1, need, "missing required column (the header needs task,family,params,metric,score)", hint);
    }
  if (!r.errors.empty()) return r;
  if (!unknown.empty()) {
    std::string s = "ignored column(s) not used by capgraph:";
    for (const auto& u : unknown) s += " " + u;
    r.set.notes.push_back(s);
  }
  auto cell = [&](const std::vector<std::string>& cells, const char* name) -> std::string {
    auto it = col.find(name);
    return it == col.end() ? std::string() : trim(cells[it->second]);
  };
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  std::map<Key, int> seen;  // duplicate detection -> first line
  for (std::size_t li = 1; li < lines.size(); ++li) {
    const int line = line_of[li];
    if (trim(lines[li]).empty() || trim(lines[li]) == "\r") continue;
    const auto cells = split_csv_line(lines[li]);
    if (cells.size() != head.size()) {
      err(line, "", std::to_string(cells.size()) + " fields, the header has " + std::to_string(head.size()));
      continue;
    }
    const std::size_t before = r.errors.size();
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
    }
    if (auto v = number("train_flops", false)) {
      o.train_flops = *v;
      if (!(*v > 0)) err(line, "train_flops", "training compute must be positive, got " + cell(cells, "train_flops"));
    } else if (options.need_train_flops && cell(cells, "train_flops").empty()) {
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
      auto mit = r.set.metrics.find(o.metric);
      if (mit == r.set.metrics.end())
        mit = r.set.metrics.emplace(o.metric, metric_info(o.metric, options.lower_is_better)).first;
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
    auto mapped = options.task_to_node.find(o.task);
    if (!node_cell.empty() && mapped != options.task_to_node.end() && mapped->second != node_cell)
      err(line, "node", "the row maps task `" + o.task + "` to `" + node_cell + "` but --map says `" + mapped->second + "`");
    o.node = !node_cell.empty() ? node_cell : mapped != options.task_to_node.end() ? mapped->second : o.task;
    if (r.errors.size() != before) continue;
    const Key key{o.task, o.family, o.metric, o.model.empty() ? cell(cells, "params") : o.model};
    auto [it, fresh] = seen.emplace(key, line);
    if (!fresh) {
      err(line, "", "duplicate observation of task `" + o.task + "`, family `" + o.family + "`, metric `" + o.metric +
                        "`, model `" + std::get<3>(key) + "` (first on line " + std::to_string(it->second) + ")");
      continue;
    }
    r.set.rows.push_back(std::move(o));
  }
  if (r.errors.empty() && r.set.rows.empty()) err(1, "", "no observations after the header");
  for (const auto& [name, mi] : r.set.metrics)
    if (!mi.recognised)
      r.set.notes.push_back("metric `" + name +
                            "` is not one capgraph knows: read as higher-is-better on its own scale "
                            "(declare it with --lower-is-better if lower is better)");
  return r;
}

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
