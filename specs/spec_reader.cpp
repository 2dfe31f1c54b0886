// capgraph/specs/spec_reader.cpp — see spec_reader.hpp.
#include "specs/spec_reader.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "specs/input_text.hpp"
#include "specs/name_index.hpp"
#include "specs/validate.hpp"
#include "graph/curve_parameters.hpp"
#include "text/number_format.hpp"
#include "text/suggest.hpp"

namespace capgraph::specs {
namespace {

using Index = YamlTree::Index;
constexpr Index kNone = std::numeric_limits<Index>::max();
constexpr int kMaxHints = 200;  // did-you-mean scans over all ids per file

// The allowed keys of each mapping, in the order the docs list them.
constexpr std::array<std::string_view, 8> kTopKeys = {"capgraph", "name",   "description", "threshold",
                                                      "scale",    "skills", "tasks",       "fit"};
enum TopKey { kCapgraph, kName, kDescription, kThreshold, kScale, kSkills, kTasks, kFit };

constexpr std::array<std::string_view, 2> kFitKeys = {"parameters", "covariance"};
enum FitKey { kFParameters, kFCovariance };

constexpr std::array<std::string_view, 6> kScaleKeys = {"axis",           "range",      "points",
                                                        "tokens_per_param", "data_limit", "law"};
enum ScaleKey { kAxis, kRange, kPoints, kTokensPerParam, kDataLimit, kLaw };

constexpr std::array<std::string_view, 5> kLawKeys = {"E", "A", "B", "alpha", "beta"};

constexpr std::array<std::string_view, 7> kSkillKeys = {"label", "group",   "description", "curve",
                                                        "floor", "ceiling", "shared"};
enum SkillKey { kSLabel, kSGroup, kSDescription, kSCurve, kSFloor, kSCeiling, kSShared };

constexpr std::array<std::string_view, 5> kCurveKinds = {"logistic", "power_law", "chinchilla", "points",
                                                         "constant"};
constexpr std::array<CurveKind, 5> kCurveKindValues = {CurveKind::logistic, CurveKind::power_law,
                                                       CurveKind::chinchilla, CurveKind::points,
                                                       CurveKind::constant};

// Gates first: their positions in this list are the GateKind values below.
constexpr std::array<std::string_view, 11> kTaskKeys = {"all",   "any",         "at_least", "best_of",
                                                        "mean",  "label",       "group",    "description",
                                                        "guess", "threshold",   "metrics"};
constexpr std::size_t kGateCount = 5;
constexpr std::array<GateKind, kGateCount> kGateValues = {GateKind::all, GateKind::any, GateKind::at_least,
                                                          GateKind::best_of, GateKind::mean};
enum TaskKey { kTLabel = 5, kTGroup, kTDescription, kTGuess, kTThreshold, kTMetrics };

constexpr std::array<std::string_view, 5> kMetricNames = {"exact_match", "partial_credit", "log_likelihood",
                                                          "multiple_choice", "pass_at"};
constexpr std::array<std::string_view, 2> kAxisNames = {"params", "compute"};
constexpr std::array<std::string_view, 2> kLawNames = {"chinchilla", "epoch2024"};

template <std::size_t N>
std::vector<std::string_view> as_vector(const std::array<std::string_view, N>& a) {
  return {a.begin(), a.end()};
}

std::string one_of(const std::string_view* names, std::size_t count) {
  std::string s = "expected one of ";
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) s += ", ";
    s.append(names[i]);
  }
  return s;
}

template <std::size_t N>
std::string one_of(const std::array<std::string_view, N>& a, std::size_t count = N) {
  return one_of(a.data(), std::min(count, N));
}

std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '`';
  out.append(s);
  out += '`';
  return out;
}

/// The subject of a message: a key name is quoted; a phrase that quotes
/// its own names ("uses of `a`") is kept as it is.
std::string subject(std::string_view what) {
  return what.find('`') == std::string_view::npos ? quote(what) : std::string(what);
}

/// A number for messages: integers without exponent where exact.
std::string format_number(double v) {
  char buf[64];
  if (std::abs(v) < 1e15 && v == std::floor(v)) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
    return std::string(buf, r.ptr);
  }
  return text::shortest(v);
}

/// What a message calls the place being read: "skill `x`", "the scale", ...
struct Where {
  std::string_view what;  ///< empty = the top level
  std::string_view id;
  std::string str() const {
    if (what.empty()) return "the top level";
    if (id.empty()) return std::string(what);
    return std::string(what) + " `" + std::string(id) + "`";
  }
};

enum class Domain { finite, positive, nonnegative, unit, open_unit, unit_open_right, at_least_one };

bool in_domain(double v, Domain d) {
  switch (d) {
    case Domain::finite: return true;
    case Domain::positive: return v > 0;
    case Domain::nonnegative: return v >= 0;
    case Domain::unit: return v >= 0 && v <= 1;
    case Domain::open_unit: return v > 0 && v < 1;
    case Domain::unit_open_right: return v >= 0 && v < 1;
    case Domain::at_least_one: return v >= 1;
  }
  return true;
}

const char* domain_text(Domain d) {
  switch (d) {
    case Domain::finite: return "finite";
    case Domain::positive: return "> 0";
    case Domain::nonnegative: return ">= 0";
    case Domain::unit: return "in [0, 1]";
    case Domain::open_unit: return "in (0, 1)";
    case Domain::unit_open_right: return "in [0, 1)";
    case Domain::at_least_one: return ">= 1";
  }
  return "";
}

/// The value nodes (and key nodes) of one mapping, by allowed key.
template <std::size_t N>
struct Fields {
  std::array<Index, N> key;
  std::array<Index, N> value;
  int unknown = 0;
  std::array<bool, N> suggested{};  ///< an unknown key was hinted to be this one
  Fields() {
    key.fill(kNone);
    value.fill(kNone);
  }
  bool has(std::size_t i) const { return value[i] != kNone; }
  /// Absent and not already explained by a misspelt key's hint.
  bool missing(std::size_t i) const { return !has(i) && !suggested[i]; }
};

class SpecReader {
 public:
  SpecReader(const YamlTree& tree, const LoadOptions& options, Diagnostics& diag, ModelSpec& spec)
      : t_(tree), opt_(options), d_(diag), spec_(spec) {}

  void read();

 private:
  // --- access -------------------------------------------------------------
  const YamlNode& at(Index i) const { return t_[i]; }
  std::string_view text(Index i) const { return t_.text(i); }
  SourceLoc loc(Index i) const { return t_.loc(i); }
  bool is_map(Index i) const { return at(i).kind == YamlKind::map; }
  bool is_seq(Index i) const { return at(i).kind == YamlKind::seq; }
  bool is_scalar(Index i) const { return at(i).kind == YamlKind::scalar; }
  bool is_null(Index i) const { return at(i).kind == YamlKind::null; }
  std::uint32_t pairs(Index map) const { return at(map).count() / 2; }
  Index key_of(Index map, std::uint32_t p) const { return t_.child(map, 2 * p); }
  Index value_of(Index map, std::uint32_t p) const { return t_.child(map, 2 * p + 1); }

  /// How a node reads in "found ..." messages.
  std::string found(Index i) const {
    switch (at(i).kind) {
      case YamlKind::map: return "a mapping";
      case YamlKind::seq: return "a list";
      case YamlKind::null: return "nothing";
      case YamlKind::scalar: break;
    }
    std::string_view s = text(i);
    if (s.size() > 40) return quote(std::string(s.substr(0, 37)) + "...");
    return quote(s);
  }

  // --- typed values -------------------------------------------------------
  template <std::size_t N>
  Fields<N> fields(Index map, const std::array<std::string_view, N>& allowed, const Where& where,
                   std::size_t suggest_count = N);
  std::optional<double> number(Index v, std::string_view what);
  /// A finite plain number, or nullopt without reporting anything.
  std::optional<double> plain_number(Index v) const {
    double x = 0;
    if (is_scalar(v) && at(v).plain && parse_number(text(v), x) == NumberStatus::ok) return x;
    return std::nullopt;
  }
  std::optional<double> number_in(Index v, std::string_view what, Domain d);
  std::optional<int> integer(Index v, std::string_view what);
  std::optional<int> integer_at_least(Index v, std::string_view what, int min);
  std::optional<bool> boolean(Index v, std::string_view what);
  std::optional<std::string> string(Index v, std::string_view what);

  // --- sections -----------------------------------------------------------
  void read_scale(Index v);
  void read_law(Index v);
  bool count_nodes(Index skills, Index tasks);
  void register_ids(Index map, bool tasks);
  void read_skill(NodeSpec& n, Index body);
  void read_curve(NodeSpec& n, Index v);
  std::optional<std::size_t> curve_kind(const NodeSpec& n, Index v, Index& params);
  void read_curve_params(NodeSpec& n, Index params);
  void read_curve_points(Curve& c, Index params);
  void read_task(NodeSpec& n, Index body);
  void read_gate(NodeSpec& n, std::size_t gate, Index key, Index v);
  bool read_refs(NodeSpec& n, GateKind gate, std::string_view gate_name, Index key, Index list);
  std::optional<std::size_t> resolve(const NodeSpec& n, Index ref);
  void read_metrics(NodeSpec& n, Index v);
  void read_fit(Index key, Index v);
  void read_fit_parameters(FitSpec& fit, Index list);
  void read_covariance(FitSpec& fit, Index rows);

  const YamlTree& t_;
  const LoadOptions& opt_;
  Diagnostics& d_;
  ModelSpec& spec_;
  NameIndex ids_;  ///< id -> index into spec_.nodes (the first definition)
  std::vector<Index> bodies_;  ///< the value node of each NodeSpec
  int hints_left_ = kMaxHints;
  bool ids_incomplete_ = false;  ///< skills or tasks unreadable: unknown ids are no news
};

template <std::size_t N>
Fields<N> SpecReader::fields(Index map, const std::array<std::string_view, N>& allowed, const Where& where,
                             std::size_t suggest_count) {
  Fields<N> f;
  for (std::uint32_t p = 0; p < pairs(map); ++p) {
    const Index k = key_of(map, p);
    if (at(k).ignored) continue;
    const std::string_view name = text(k);
    auto it = std::find(allowed.begin(), allowed.end(), name);
    if (it == allowed.end()) {
      ++f.unknown;
      std::vector<std::string_view> candidates(allowed.begin(), allowed.begin() + static_cast<std::ptrdiff_t>(suggest_count));
      std::string hint;
      if (std::string_view m = text::closest_match(name, candidates); !m.empty()) {
        hint = "did you mean " + quote(m) + "?";
        f.suggested[static_cast<std::size_t>(std::find(allowed.begin(), allowed.end(), m) - allowed.begin())] = true;
      } else {
        hint = one_of(allowed, suggest_count);
      }
      const std::string in = where.what.empty() ? "unknown top-level key " : "unknown key ";
      d_.error(loc(k), in + quote(name) + (where.what.empty() ? "" : " in " + where.str()), std::move(hint));
      continue;
    }
    const auto i = static_cast<std::size_t>(it - allowed.begin());
    f.key[i] = k;
    f.value[i] = value_of(map, p);
  }
  return f;
}

std::optional<double> SpecReader::number(Index v, std::string_view what) {
  double x = 0;
  if (!is_scalar(v)) {
    d_.error(loc(v), subject(what) + " must be a number, found " + found(v));
    return std::nullopt;
  }
  const NumberStatus st = parse_number(text(v), x);
  if (!at(v).plain) {
    d_.error(loc(v), subject(what) + " must be a number, found the quoted string " + found(v),
             st == NumberStatus::ok ? "remove the quotes" : "");
    return std::nullopt;
  }
  switch (st) {
    case NumberStatus::ok: return x;
    case NumberStatus::not_finite:
      d_.error(loc(v), subject(what) + " is not a finite number (" + found(v) + ")");
      return std::nullopt;
    case NumberStatus::out_of_range:
      d_.error(loc(v), subject(what) + " is out of the range of a double (" + found(v) + ")");
      return std::nullopt;
    case NumberStatus::not_a_number: break;
  }
  d_.error(loc(v), subject(what) + " must be a number, found " + found(v));
  return std::nullopt;
}

std::optional<double> SpecReader::number_in(Index v, std::string_view what, Domain d) {
  auto x = number(v, what);
  if (x && !in_domain(*x, d)) {
    d_.error(loc(v), quote(what) + " must be " + domain_text(d) + ", got " + std::string(text(v)));
    return std::nullopt;
  }
  return x;
}

std::optional<int> SpecReader::integer(Index v, std::string_view what) {
  auto x = number(v, what);
  if (!x) return std::nullopt;
  if (*x != std::floor(*x)) {
    d_.error(loc(v), "expected an integer for " + quote(what) + ", got " + std::string(text(v)));
    return std::nullopt;
  }
  if (std::abs(*x) > std::numeric_limits<int>::max()) {
    d_.error(loc(v), quote(what) + " " + std::string(text(v)) + " exceeds the largest integer accepted (" +
                         std::to_string(std::numeric_limits<int>::max()) + ")");
    return std::nullopt;
  }
  return static_cast<int>(*x);
}

std::optional<int> SpecReader::integer_at_least(Index v, std::string_view what, int min) {
  auto x = integer(v, what);
  if (x && *x < min) {
    d_.error(loc(v), quote(what) + " must be >= " + std::to_string(min) + ", got " + std::string(text(v)));
    return std::nullopt;
  }
  return x;
}

std::optional<bool> SpecReader::boolean(Index v, std::string_view what) {
  if (is_scalar(v) && at(v).plain) {
    const std::string_view s = text(v);
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  d_.error(loc(v), quote(what) + " must be true or false, found " + found(v));
  return std::nullopt;
}

std::optional<std::string> SpecReader::string(Index v, std::string_view what) {
  if (is_null(v)) return std::string();
  if (!is_scalar(v)) {
    d_.error(loc(v), quote(what) + " must be a string, found " + found(v));
    return std::nullopt;
  }
  return std::string(text(v));
}

// --- top level ---------------------------------------------------------------

void SpecReader::read() {
  const Index root = t_.root();
  if (!is_map(root)) {
    d_.error(loc(root), "a spec must be a mapping of keys (capgraph, name, skills, ...), found " + found(root));
    return;
  }
  const auto f = fields(root, kTopKeys, Where{});

  if (f.missing(kCapgraph)) {
    d_.error(loc(root), "missing required key `capgraph`", "add `capgraph: 1` as the first line");
  } else if (f.has(kCapgraph)) {
    if (auto version = integer(f.value[kCapgraph], "capgraph"); version && *version != 1) {
      // A newer format would only produce noise below: stop here.
      d_.error(loc(f.value[kCapgraph]),
               "unsupported capgraph format version " + std::to_string(*version) + "; this build reads version 1");
      return;
    }
  }
  if (f.missing(kName)) {
    d_.error(loc(root), "missing required key `name`");
  } else if (f.has(kName)) {
    if (auto name = string(f.value[kName], "name")) {
      if (name->empty()) d_.error(loc(f.value[kName]), "`name` must not be empty");
      spec_.name = std::move(*name);
    }
  }
  if (f.has(kDescription)) {
    if (auto s = string(f.value[kDescription], "description")) spec_.description = std::move(*s);
  }
  if (f.has(kThreshold)) {
    if (auto x = number_in(f.value[kThreshold], "threshold", Domain::unit)) spec_.threshold = *x;
  }
  if (f.has(kScale) && !is_null(f.value[kScale])) read_scale(f.value[kScale]);

  Index skills = kNone, tasks = kNone;
  if (!f.has(kSkills)) {
    if (f.missing(kSkills)) d_.error(loc(root), "missing required key `skills`", "a spec needs at least one skill");
  } else if (is_null(f.value[kSkills]) || (is_map(f.value[kSkills]) && at(f.value[kSkills]).count() == 0)) {
    d_.error(loc(f.key[kSkills]), "`skills` is empty", "a spec needs at least one skill");
  } else if (!is_map(f.value[kSkills])) {
    d_.error(loc(f.value[kSkills]), "`skills` must be a mapping of skill ids, found " + found(f.value[kSkills]));
    ids_incomplete_ = true;
  } else {
    skills = f.value[kSkills];
  }
  if (f.has(kTasks) && !is_null(f.value[kTasks])) {
    if (!is_map(f.value[kTasks])) {
      d_.error(loc(f.value[kTasks]), "`tasks` must be a mapping of task ids, found " + found(f.value[kTasks]));
      ids_incomplete_ = true;
    } else {
      tasks = f.value[kTasks];
    }
  }

  // Pass 1: every id, before any reference is read.
  if (!count_nodes(skills, tasks)) return;
  if (skills != kNone) register_ids(skills, false);
  if (tasks != kNone) register_ids(tasks, true);

  // Pass 2: bodies, resolving references against the complete id table.
  for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
    NodeSpec& n = spec_.nodes[i];
    if (n.is_task) {
      read_task(n, bodies_[i]);
    } else {
      read_skill(n, bodies_[i]);
    }
  }

  // The whole: cycles.
  validate_model(spec_, d_);
  // A fitted spec's parameters, read against the curves above.
  if (f.has(kFit) && !is_null(f.value[kFit]) && !ids_incomplete_) read_fit(f.key[kFit], f.value[kFit]);
}

// --- fit (a spec written by `capgraph fit -o`) -----------------------------

void SpecReader::read_fit(Index key, Index v) {
  if (!is_map(v)) {
    d_.error(loc(v), "`fit` must be a mapping (parameters, covariance), found " + found(v));
    return;
  }
  const auto f = fields(v, kFitKeys, Where{"fit", ""});
  if (f.missing(kFParameters) || f.missing(kFCovariance)) {
    d_.error(loc(v), "`fit` needs both `parameters` and `covariance`",
             "it is written by `capgraph fit -o`; delete the whole block to drop the fit's uncertainty");
    return;
  }
  if (!f.has(kFParameters) || !f.has(kFCovariance)) return;
  FitSpec fit;
  fit.loc = loc(key);
  const std::size_t errors = d_.size();
  read_fit_parameters(fit, f.value[kFParameters]);
  if (d_.size() != errors) return;
  read_covariance(fit, f.value[kFCovariance]);
  if (d_.size() == errors) spec_.fit = std::move(fit);
}

// Each parameter is [skill, parameter, estimate]; the estimate must be the
// curve's own value (to 1e-9 relative), or the fit describes another curve.
void SpecReader::read_fit_parameters(FitSpec& fit, Index list) {
  if (!is_seq(list) || at(list).count() == 0) {
    d_.error(loc(list), "`parameters` must be a non-empty list of [skill, parameter, estimate], found " + found(list));
    return;
  }
  for (std::uint32_t i = 0; i < at(list).count(); ++i) {
    const Index item = t_.child(list, i);
    if (!is_seq(item) || at(item).count() != 3) {
      d_.error(loc(item), "each fitted parameter is [skill, parameter, estimate], found " + found(item));
      continue;
    }
    const Index id = t_.child(item, 0), name = t_.child(item, 1);
    const std::optional<std::uint32_t> node = is_scalar(id) ? ids_.find(text(id)) : std::nullopt;
    if (!node || spec_.nodes[*node].is_task) {
      d_.error(loc(id), "`fit` names " + (node ? "the task " : std::string("an unknown skill ")) + quote(text(id)),
               "a fitted parameter belongs to a skill of this spec");
      continue;
    }
    const NodeSpec& skill = spec_.nodes[*node];
    if (!is_scalar(name) || !is_curve_parameter(skill.curve.kind, text(name))) {
      std::string names;
      for (std::string_view n : curve_parameter_names(skill.curve.kind)) names += (names.empty() ? "" : ", ") + std::string(n);
      d_.error(loc(name), found(name) + " is not a parameter of " + quote(skill.id) + "'s " +
                              curve_kind_name(skill.curve.kind) + " curve",
               names.empty() ? "a `points` curve has no fitted parameters" : "its parameters: " + names);
      continue;
    }
    const auto estimate = number(t_.child(item, 2), "estimate");
    if (!estimate) continue;
    const double declared = curve_parameter(skill.curve, text(name));
    if (!(std::abs(*estimate - declared) <= 1e-9 * std::max(1.0, std::abs(declared)))) {
      d_.error(loc(t_.child(item, 2)),
               "the fitted " + std::string(text(name)) + " of " + quote(skill.id) + " is " +
                   std::string(text(t_.child(item, 2))) + " but its curve gives " + format_number(declared),
               "the curve was edited after the fit: delete the `fit` block, or fit again");
      continue;
    }
    for (const FitParameterSpec& q : fit.parameters)
      if (q.node == *node && q.parameter == text(name))
        d_.error(loc(item), quote(skill.id) + " " + std::string(text(name)) + " is listed twice in `fit`");
    fit.parameters.push_back({*node, std::string(text(name)), *estimate});
  }
}

// P rows of P numbers, symmetric (to 1e-9 relative) with a positive diagonal.
void SpecReader::read_covariance(FitSpec& fit, Index rows) {
  const std::size_t n = fit.parameters.size();
  if (!is_seq(rows) || at(rows).count() != n) {
    d_.error(loc(rows), "`covariance` must be " + std::to_string(n) + " rows of " + std::to_string(n) +
                            " numbers (one per fitted parameter), found " + found(rows));
    return;
  }
  fit.covariance.assign(n * n, 0.0);
  for (std::uint32_t i = 0; i < n; ++i) {
    const Index row = t_.child(rows, i);
    if (!is_seq(row) || at(row).count() != n) {
      d_.error(loc(row), "row " + std::to_string(i + 1) + " of `covariance` must hold " + std::to_string(n) +
                             " numbers, found " + found(row));
      return;
    }
    for (std::uint32_t j = 0; j < n; ++j) {
      const auto x = number(t_.child(row, j), "covariance");
      if (!x) return;
      fit.covariance[i * n + j] = *x;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!(fit.covariance[i * n + i] >= 0)) {
      d_.error(loc(t_.child(t_.child(rows, static_cast<std::uint32_t>(i)), static_cast<std::uint32_t>(i))),
               "a variance on the diagonal of `covariance` must be >= 0");
      return;
    }
    for (std::size_t j = 0; j < i; ++j) {
      const double a = fit.covariance[i * n + j], b = fit.covariance[j * n + i];
      if (!(std::abs(a - b) <= 1e-9 * std::max({std::abs(a), std::abs(b), 1e-300}))) {
        d_.error(loc(t_.child(t_.child(rows, static_cast<std::uint32_t>(i)), static_cast<std::uint32_t>(j))),
                 "`covariance` is not symmetric: rows " + std::to_string(i + 1) + " and " + std::to_string(j + 1) +
                     " differ");
        return;
      }
    }
  }
}

bool SpecReader::count_nodes(Index skills, Index tasks) {
  std::size_t count = 0;
  Index over = kNone;  // the first id beyond the limit
  for (Index map : {skills, tasks}) {
    if (map == kNone) continue;
    for (std::uint32_t p = 0; p < pairs(map); ++p) {
      if (at(key_of(map, p)).ignored) continue;
      if (++count == opt_.max_nodes + 1) over = key_of(map, p);
    }
  }
  if (over == kNone) {
    spec_.nodes.reserve(count);
    bodies_.reserve(count);
    ids_ = NameIndex(count);
    return true;
  }
  d_.error(loc(over),
           "spec has " + std::to_string(count) + " skills and tasks, more than the limit of " +
               std::to_string(opt_.max_nodes),
           "raise it with --max-nodes");
  return false;
}

void SpecReader::register_ids(Index map, bool tasks) {
  for (std::uint32_t p = 0; p < pairs(map); ++p) {
    const Index k = key_of(map, p);
    if (at(k).ignored) continue;
    const std::string_view id = text(k);
    if (!is_valid_id(id)) {
      d_.error(loc(k), "invalid id " + quote(id), "ids match [A-Za-z_][A-Za-z0-9_.-]*");
    }
    auto [first, inserted] = ids_.insert(id, static_cast<std::uint32_t>(spec_.nodes.size()));
    if (!inserted) {
      d_.error(loc(k), "duplicate id " + quote(id),
               "first defined at line " + std::to_string(spec_.nodes[first].loc.line));
    }
    NodeSpec& n = spec_.nodes.emplace_back();
    n.id = std::string(id);
    n.is_task = tasks;
    n.loc = loc(k);
    bodies_.push_back(value_of(map, p));
  }
}

// --- scale -------------------------------------------------------------------

void SpecReader::read_scale(Index v) {
  if (!is_map(v)) {
    d_.error(loc(v), "`scale` must be a mapping, found " + found(v));
    return;
  }
  const auto f = fields(v, kScaleKeys, Where{"the scale", ""});
  ScaleSpec& s = spec_.scale;
  if (f.has(kAxis)) {
    const Index a = f.value[kAxis];
    const std::string_view name = is_scalar(a) ? text(a) : std::string_view();
    if (name == "params") {
      s.axis = Axis::params;
    } else if (name == "compute") {
      s.axis = Axis::compute;
    } else {
      std::string hint = is_scalar(a) ? text::did_you_mean(name, as_vector(kAxisNames)) : "";
      d_.error(loc(a), "unknown axis " + found(a), hint.empty() ? one_of(kAxisNames) : hint);
    }
  }
  if (f.has(kRange)) {
    const Index r = f.value[kRange];
    if (!is_seq(r) || at(r).count() != 2) {
      d_.error(loc(r), "`range` must be [from, to], found " + found(r));
    } else {
      auto from = number_in(t_.child(r, 0), "range", Domain::positive);
      auto to = number_in(t_.child(r, 1), "range", Domain::positive);
      if (from && to) {
        if (*from > *to) {
          d_.error(loc(r), "reversed range [" + std::string(text(t_.child(r, 0))) + ", " +
                               std::string(text(t_.child(r, 1))) + "]",
                   "write the smaller value first");
        } else if (*from == *to) {
          d_.error(loc(r), "empty range [" + std::string(text(t_.child(r, 0))) + ", " +
                               std::string(text(t_.child(r, 1))) + "]",
                   "from must be below to");
        } else {
          s.from = *from;
          s.to = *to;
        }
      }
    }
  }
  if (f.has(kPoints)) {
    // The limit first: a count too large for an int still names the limit.
    const auto p = number(f.value[kPoints], "points");
    std::optional<int> n_points;
    if (p && *p == std::floor(*p) && *p > opt_.max_points)
      d_.error(loc(f.value[kPoints]),
               "points " + std::string(text(f.value[kPoints])) + " exceeds the limit of " +
                   std::to_string(opt_.max_points) + " sweep points",
               "raise it with --max-points");
    else if (p && (n_points = integer_at_least(f.value[kPoints], "points", 1)))
      s.points = *n_points;
  }
  if (f.has(kTokensPerParam)) {
    if (auto x = number_in(f.value[kTokensPerParam], "tokens_per_param", Domain::positive)) s.tokens_per_param = *x;
  }
  if (f.has(kDataLimit) && !is_null(f.value[kDataLimit])) {
    if (auto x = number_in(f.value[kDataLimit], "data_limit", Domain::positive)) s.data_limit = *x;
  }
  if (f.has(kLaw)) read_law(f.value[kLaw]);
  // Every sweep point lies between from and to, and what a point derives
  // grows with it: the two ends decide (docs/measures.md §1).
  for (const double x : {s.from, s.to}) {
    const std::string why = scale_problem(x, &s);
    if (!why.empty()) {
      d_.error(loc(f.has(kRange) ? f.value[kRange] : v), "`range`: " + why,
               "scale points are parameters or FLOPs from 1 to 1e60");
      break;
    }
  }
}

void SpecReader::read_law(Index v) {
  if (is_scalar(v)) {
    if (auto law = law_by_name(std::string(text(v)))) {
      spec_.scale.law = *law;
      return;
    }
    std::string hint = text::did_you_mean(text(v), as_vector(kLawNames));
    d_.error(loc(v), "unknown scaling law " + found(v),
             hint.empty() ? one_of(kLawNames) + ", or a mapping {E, A, B, alpha, beta}" : hint);
    return;
  }
  if (!is_map(v)) {
    d_.error(loc(v), "`law` must be chinchilla, epoch2024 or a mapping {E, A, B, alpha, beta}, found " + found(v));
    return;
  }
  const auto f = fields(v, kLawKeys, Where{"the scaling law", ""});
  ScalingLaw law;
  law.name = "custom";
  double* slots[] = {&law.E, &law.A, &law.B, &law.alpha, &law.beta};
  bool ok = true;
  for (std::size_t i = 0; i < kLawKeys.size(); ++i) {
    if (!f.has(i)) {
      if (f.missing(i)) {
        d_.error(loc(v), "missing " + quote(kLawKeys[i]) + " in the scaling law",
                 "a custom law needs E, A, B, alpha and beta");
      }
      ok = false;
      continue;
    }
    auto x = number_in(f.value[i], kLawKeys[i], i == 0 ? Domain::nonnegative : Domain::positive);
    if (x) {
      *slots[i] = *x;
    } else {
      ok = false;
    }
  }
  if (ok) spec_.scale.law = law;
}

// --- skills ------------------------------------------------------------------

void SpecReader::read_skill(NodeSpec& n, Index body) {
  const Where where{"skill", n.id};
  if (!is_map(body)) {
    d_.error(is_null(body) ? n.loc : loc(body), "skill " + quote(n.id) + " must be a mapping with a `curve`, found " + found(body));
    return;
  }
  const auto f = fields(body, kSkillKeys, where);
  if (f.has(kSLabel)) {
    if (auto s = string(f.value[kSLabel], "label")) n.label = std::move(*s);
  }
  if (f.has(kSGroup)) {
    if (auto s = string(f.value[kSGroup], "group")) n.group = std::move(*s);
  }
  if (f.has(kSDescription)) {
    if (auto s = string(f.value[kSDescription], "description")) n.description = std::move(*s);
  }
  if (!f.has(kSCurve)) {
    if (f.missing(kSCurve)) d_.error(n.loc, "skill " + quote(n.id) + " has no curve", one_of(kCurveKinds));
  } else {
    read_curve(n, f.value[kSCurve]);
  }
  std::optional<double> floor, ceiling;
  if (f.has(kSFloor)) {
    floor = number_in(f.value[kSFloor], "floor", Domain::unit);
    if (floor) n.floor = *floor;
  }
  if (f.has(kSCeiling)) {
    ceiling = number_in(f.value[kSCeiling], "ceiling", Domain::unit);
    if (ceiling) n.ceiling = *ceiling;
  }
  if (floor && ceiling && *floor > *ceiling) {
    d_.error(loc(f.value[kSFloor]),
             "floor " + std::string(text(f.value[kSFloor])) + " is above ceiling " +
                 std::string(text(f.value[kSCeiling])),
             "floor must not exceed ceiling");
  }
  if (f.has(kSShared)) {
    if (auto b = boolean(f.value[kSShared], "shared")) n.shared = *b;
  }
}

void SpecReader::read_curve(NodeSpec& n, Index v) {
  const std::string example = "e.g. {logistic: {mid: 2e9, slope: 1.2}}";
  if (!is_map(v) || at(v).count() == 0) {
    d_.error(loc(v), "a curve is a mapping with one kind, " + example + ", found " + found(v),
             one_of(kCurveKinds));
    return;
  }
  Index params = kNone;
  const std::optional<std::size_t> kind = curve_kind(n, v, params);
  if (!kind) return;
  Curve& c = n.curve;
  c.kind = kCurveKindValues[*kind];
  if (c.kind == CurveKind::points) read_curve_points(c, params);
  else read_curve_params(n, params);
}

// The one kind key of curve mapping v (its index in kCurveKinds) and its
// value in `params`; none, with the errors said, where there is no valid one.
std::optional<std::size_t> SpecReader::curve_kind(const NodeSpec& n, Index v, Index& params) {
  Index kind_key = kNone;
  std::size_t kind = 0;
  for (std::uint32_t p = 0; p < pairs(v); ++p) {
    const Index k = key_of(v, p);
    if (at(k).ignored) continue;
    auto it = std::find(kCurveKinds.begin(), kCurveKinds.end(), text(k));
    if (it == kCurveKinds.end()) {
      std::string hint = text::did_you_mean(text(k), as_vector(kCurveKinds));
      d_.error(loc(k), "unknown curve " + quote(text(k)), hint.empty() ? one_of(kCurveKinds) : hint);
      continue;
    }
    if (kind_key != kNone) {
      d_.error(loc(k), "skill " + quote(n.id) + " has more than one curve (" + quote(text(kind_key)) + " and " +
                           quote(text(k)) + ")",
               "a curve has exactly one kind");
      continue;
    }
    kind_key = k;
    params = value_of(v, p);
    kind = static_cast<std::size_t>(it - kCurveKinds.begin());
  }
  if (kind_key == kNone) return std::nullopt;
  return kind;
}

// The parameters of a logistic, power_law, chinchilla or constant curve.
void SpecReader::read_curve_params(NodeSpec& n, Index params) {
  Curve& c = n.curve;
  auto param_map = [&](Index pv, std::string_view name) {
    if (is_map(pv)) return true;
    d_.error(loc(pv), "the " + std::string(name) + " curve takes a mapping, found " + found(pv));
    return false;
  };
  auto require = [&](const auto& f, std::size_t i, std::string_view key, std::string_view curve) {
    if (f.missing(i)) d_.error(loc(params), "missing " + quote(key) + " in the " + std::string(curve) + " curve");
    return f.has(i);
  };
  switch (c.kind) {
    case CurveKind::logistic: {
      if (!param_map(params, "logistic")) return;
      constexpr std::array<std::string_view, 2> keys = {"mid", "slope"};
      const auto f = fields(params, keys, Where{"the logistic curve of skill", n.id});
      if (require(f, 0, "mid", "logistic")) {
        if (auto x = number_in(f.value[0], "mid", Domain::positive)) c.mid = *x;
      }
      if (require(f, 1, "slope", "logistic")) {
        if (auto x = number(f.value[1], "slope")) c.slope = *x;
      }
      break;
    }
    case CurveKind::power_law: {
      if (!param_map(params, "power_law")) return;
      constexpr std::array<std::string_view, 2> keys = {"c", "alpha"};
      const auto f = fields(params, keys, Where{"the power_law curve of skill", n.id});
      if (require(f, 0, "c", "power_law")) {
        if (auto x = number_in(f.value[0], "c", Domain::positive)) c.c = *x;
      }
      if (require(f, 1, "alpha", "power_law")) {
        if (auto x = number_in(f.value[1], "alpha", Domain::positive)) c.alpha = *x;
      }
      break;
    }
    case CurveKind::chinchilla: {
      if (!param_map(params, "chinchilla")) return;
      constexpr std::array<std::string_view, 1> keys = {"weight"};
      const auto f = fields(params, keys, Where{"the chinchilla curve of skill", n.id});
      if (require(f, 0, "weight", "chinchilla")) {
        if (auto x = number_in(f.value[0], "weight", Domain::positive)) c.weight = *x;
      }
      break;
    }
    case CurveKind::points: break;  // read_curve_points
    case CurveKind::constant: {
      if (auto x = number_in(params, "constant", Domain::unit)) c.value = *x;
      break;
    }
  }
}

// A `points` curve: [N, p] pairs, N strictly increasing.
void SpecReader::read_curve_points(Curve& c, Index params) {
  if (!is_seq(params) || at(params).count() == 0) {
    d_.error(loc(params), "`points` must be a non-empty list of [N, p] pairs, found " + found(params));
    return;
  }
  c.knots.reserve(at(params).count());
  double last_n = 0;
  Index last_node = kNone;  // the previous valid N, if any
  for (std::uint32_t i = 0; i < at(params).count(); ++i) {
    const Index pair = t_.child(params, i);
    if (!is_seq(pair) || at(pair).count() != 2) {
      d_.error(loc(pair), "each point is a pair [N, p], found " + found(pair));
      continue;
    }
    auto x = number_in(t_.child(pair, 0), "N", Domain::positive);
    auto p = number_in(t_.child(pair, 1), "p", Domain::open_unit);
    if (x && last_node != kNone && *x <= last_n) {
      d_.error(loc(t_.child(pair, 0)),
               "N values in `points` must be strictly increasing; " + std::string(text(t_.child(pair, 0))) +
                   " follows " + std::string(text(last_node)),
               "sort the points by N");
    }
    if (x) {
      last_n = *x;
      last_node = t_.child(pair, 0);
    }
    if (x && p) c.knots.emplace_back(*x, *p);
  }
}

// --- tasks -------------------------------------------------------------------

void SpecReader::read_task(NodeSpec& n, Index body) {
  const Where where{"task", n.id};
  auto gates_hint = [] { return one_of(kTaskKeys, kGateCount); };
  if (!is_map(body)) {
    d_.error(is_null(body) ? n.loc : loc(body), "task " + quote(n.id) + " must be a mapping with one gate, found " + found(body),
             gates_hint());
    return;
  }
  const auto f = fields(body, kTaskKeys, where);
  if (f.has(kTLabel)) {
    if (auto s = string(f.value[kTLabel], "label")) n.label = std::move(*s);
  }
  if (f.has(kTGroup)) {
    if (auto s = string(f.value[kTGroup], "group")) n.group = std::move(*s);
  }
  if (f.has(kTDescription)) {
    if (auto s = string(f.value[kTDescription], "description")) n.description = std::move(*s);
  }
  if (f.has(kTGuess)) {
    if (auto x = number_in(f.value[kTGuess], "guess", Domain::unit_open_right)) n.guess = *x;
  }
  if (f.has(kTThreshold)) {
    if (auto x = number_in(f.value[kTThreshold], "threshold", Domain::unit)) n.threshold = *x;
  }
  if (f.has(kTMetrics)) read_metrics(n, f.value[kTMetrics]);

  // The gate: exactly one, the first in the file wins if there are more.
  std::vector<std::size_t> gates;
  for (std::size_t g = 0; g < kGateCount; ++g) {
    if (f.has(g)) gates.push_back(g);
  }
  std::sort(gates.begin(), gates.end(), [&](std::size_t a, std::size_t b) { return f.key[a] < f.key[b]; });
  if (gates.empty()) {
    // A misspelt gate already produced an "unknown key" error with a hint.
    if (f.unknown == 0) d_.error(n.loc, "task " + quote(n.id) + " has no gate", gates_hint());
    return;
  }
  for (std::size_t i = 1; i < gates.size(); ++i) {
    d_.error(loc(f.key[gates[i]]),
             "task " + quote(n.id) + " has more than one gate (" + quote(kTaskKeys[gates[0]]) + " and " +
                 quote(kTaskKeys[gates[i]]) + ")",
             "a task has exactly one gate; split it into two tasks");
  }
  read_gate(n, gates[0], f.key[gates[0]], f.value[gates[0]]);
}

void SpecReader::read_gate(NodeSpec& n, std::size_t gate, Index key, Index v) {
  n.gate = kGateValues[gate];
  const std::string_view name = kTaskKeys[gate];
  switch (n.gate) {
    case GateKind::all:
    case GateKind::any:
    case GateKind::mean:
      read_refs(n, n.gate, name, key, v);
      return;
    case GateKind::at_least: {
      if (!is_map(v)) {
        d_.error(loc(v), "`at_least` takes a mapping {k: K, of: [refs]}, found " + found(v));
        return;
      }
      constexpr std::array<std::string_view, 2> keys = {"k", "of"};
      const auto f = fields(v, keys, Where{"at_least of task", n.id});
      std::optional<int> k;
      if (f.missing(0)) {
        d_.error(loc(v), "missing `k` in at_least of task " + quote(n.id));
      } else if (f.has(0)) {
        k = integer_at_least(f.value[0], "k", 1);
      }
      if (!f.has(1)) {
        if (f.missing(1)) d_.error(loc(v), "missing `of` in at_least of task " + quote(n.id));
        return;
      }
      const bool refs_ok = read_refs(n, n.gate, name, f.key[1], f.value[1]);
      if (!k) return;
      n.k = *k;
      if (refs_ok) {
        double total = 0;
        for (const Use& u : n.uses) total += u.count;
        if (*k > total) {
          d_.error(loc(f.value[0]),
                   "`k` is " + std::to_string(*k) + " but task " + quote(n.id) + " has only " +
                       format_number(total) + (total == 1 ? " use" : " uses"),
                   "k must be at most the number of uses");
        }
      }
      return;
    }
    case GateKind::best_of: {
      if (!is_map(v)) {
        d_.error(loc(v), "`best_of` takes a mapping {n: N, of: ref}, found " + found(v));
        return;
      }
      constexpr std::array<std::string_view, 2> keys = {"n", "of"};
      const auto f = fields(v, keys, Where{"best_of of task", n.id});
      if (f.missing(0)) {
        d_.error(loc(v), "missing `n` in best_of of task " + quote(n.id));
      } else if (f.has(0)) {
        // n draws of the reference: bounded as a use count is (--max-uses),
        // checked before it must fit an int.
        const auto x = number(f.value[0], "n");
        if (x && *x == std::floor(*x) && *x > opt_.max_uses)
          d_.error(loc(f.value[0]), "best_of n " + std::string(text(f.value[0])) + " of task " + quote(n.id) +
                                        " exceeds the limit of " + format_number(opt_.max_uses) + " uses",
                   "raise it with --max-uses");
        else if (std::optional<int> count; x && (count = integer_at_least(f.value[0], "n", 1)))
          n.best_n = *count;
      }
      if (!f.has(1)) {
        if (f.missing(1)) d_.error(loc(v), "missing `of` in best_of of task " + quote(n.id));
        return;
      }
      const Index ref = f.value[1];
      if (is_map(ref)) {
        d_.error(loc(ref), "`best_of` takes a single id without a count", "use best_of.n");
        return;
      }
      if (!is_scalar(ref)) {
        d_.error(loc(ref), "`best_of` takes a single id, found " + found(ref), "write `of: id`");
        return;
      }
      if (auto node = resolve(n, ref)) n.uses.push_back(Use{*node, 1, loc(ref)});
      return;
    }
  }
}

bool SpecReader::read_refs(NodeSpec& n, GateKind gate, std::string_view gate_name, Index key, Index list) {
  if (is_null(list) || (is_seq(list) && at(list).count() == 0)) {
    d_.error(loc(key), "gate " + quote(gate_name) + " of task " + quote(n.id) + " has no references");
    return false;
  }
  if (!is_seq(list)) {
    d_.error(loc(list), "gate " + quote(gate_name) + " of task " + quote(n.id) +
                            " takes a list of references, found " + found(list),
             "write [a, b] or [{a: 2}, b]");
    return false;
  }
  bool ok = true;
  n.uses.reserve(n.uses.size() + at(list).count());
  for (std::uint32_t i = 0; i < at(list).count(); ++i) {
    const Index item = t_.child(list, i);
    Index id_node = kNone;
    double count = 1;
    if (is_scalar(item)) {
      id_node = item;
    } else if (is_map(item) && pairs(item) == 1 && !at(key_of(item, 0)).ignored) {
      id_node = key_of(item, 0);
      const Index cv = value_of(item, 0);
      const std::string_view id = text(id_node);
      // Fast path first: labels for messages are built only on an error.
      std::optional<double> x = plain_number(cv);
      if (!x) x = number(cv, std::string(gate == GateKind::mean ? "weight of " : "uses of ") + quote(id));
      if (x && gate == GateKind::mean) {
        if (*x <= 0) {
          d_.error(loc(cv), "weight of " + quote(id) + " must be > 0, got " + std::string(text(cv)));
          x.reset();
        }
      } else if (x && gate == GateKind::at_least && *x != std::floor(*x)) {
        d_.error(loc(cv), "non-integer uses " + std::string(text(cv)) + " of " + quote(id) + " under `at_least`",
                 "uses under at_least are whole trials");
        x.reset();
      } else if (x && *x < 1) {
        d_.error(loc(cv), "uses of " + quote(id) + " must be >= 1, got " + std::string(text(cv)));
        x.reset();
      }
      if (x && *x > opt_.max_uses) {
        d_.error(loc(cv), std::string(gate == GateKind::mean ? "weight " : "uses ") + std::string(text(cv)) +
                              " of " + quote(id) + " exceeds the limit of " + format_number(opt_.max_uses),
                 "raise it with --max-uses");
        x.reset();
      }
      if (!x) {
        ok = false;
        resolve(n, id_node);  // still report an unknown id
        continue;
      }
      count = *x;
    } else {
      d_.error(loc(item), "a reference is `id` or `{id: n}`, found " + found(item));
      ok = false;
      continue;
    }
    if (auto node = resolve(n, id_node)) {
      n.uses.push_back(Use{*node, count, loc(id_node)});
    } else {
      ok = false;
    }
  }
  return ok;
}

std::optional<std::size_t> SpecReader::resolve(const NodeSpec& n, Index ref) {
  const std::string_view id = text(ref);
  const std::optional<std::uint32_t> found_index = ids_.find(id);
  if (!found_index) {
    if (ids_incomplete_) return std::nullopt;
    std::string hint;
    if (hints_left_ > 0) {
      --hints_left_;
      std::vector<std::string_view> candidates;
      candidates.reserve(spec_.nodes.size());
      for (const NodeSpec& m : spec_.nodes) candidates.push_back(m.id);
      hint = text::did_you_mean(id, candidates);
    }
    d_.error(loc(ref), "unknown reference " + quote(id), std::move(hint));
    return std::nullopt;
  }
  if (&spec_.nodes[*found_index] == &n) {
    d_.error(loc(ref), "task " + quote(n.id) + " uses itself");
    return std::nullopt;
  }
  return *found_index;
}

void SpecReader::read_metrics(NodeSpec& n, Index v) {
  if (is_null(v)) return;
  if (!is_seq(v)) {
    d_.error(loc(v), "`metrics` must be a list, found " + found(v),
             "write [exact_match, partial_credit, {multiple_choice: 4}]");
    return;
  }
  auto unknown = [&](Index k) {
    std::string hint = text::did_you_mean(text(k), as_vector(kMetricNames));
    d_.error(loc(k), "unknown metric " + quote(text(k)), hint.empty() ? one_of(kMetricNames) : hint);
  };
  for (std::uint32_t i = 0; i < at(v).count(); ++i) {
    const Index item = t_.child(v, i);
    Metric m;
    if (is_scalar(item)) {
      const std::string_view name = text(item);
      if (name == "exact_match") {
        m.kind = MetricKind::exact_match;
      } else if (name == "partial_credit") {
        m.kind = MetricKind::partial_credit;
      } else if (name == "log_likelihood") {
        m.kind = MetricKind::log_likelihood;
      } else if (name == "multiple_choice") {
        d_.error(loc(item), "metric `multiple_choice` needs the number of choices K", "write {multiple_choice: 4}");
        continue;
      } else if (name == "pass_at") {
        d_.error(loc(item), "metric `pass_at` needs k", "write {pass_at: 10}");
        continue;
      } else {
        unknown(item);
        continue;
      }
    } else if (is_map(item) && pairs(item) == 1 && !at(key_of(item, 0)).ignored) {
      const Index k = key_of(item, 0);
      const Index kv = value_of(item, 0);
      const std::string_view name = text(k);
      if (name == "multiple_choice") {
        auto choices = integer(kv, "multiple_choice");
        if (!choices) continue;
        if (*choices < 2) {
          d_.error(loc(kv), "`multiple_choice` needs K >= 2 choices, got " + std::string(text(kv)));
          continue;
        }
        m = Metric{MetricKind::multiple_choice, *choices};
      } else if (name == "pass_at") {
        auto k_value = integer_at_least(kv, "pass_at", 1);
        if (!k_value) continue;
        m = Metric{MetricKind::pass_at, *k_value};
      } else if (name == "exact_match" || name == "partial_credit" || name == "log_likelihood") {
        d_.error(loc(k), "metric " + quote(name) + " takes no value", "write it as a plain name");
        continue;
      } else {
        unknown(k);
        continue;
      }
    } else {
      d_.error(loc(item), "a metric is a name or {multiple_choice: K} or {pass_at: k}, found " + found(item));
      continue;
    }
    if (std::find(n.metrics.begin(), n.metrics.end(), m) != n.metrics.end()) {
      d_.error(loc(item), "metric listed twice in task " + quote(n.id));
      continue;
    }
    n.metrics.push_back(m);
  }
}

}  // namespace

bool is_valid_id(std::string_view id) {
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (id.empty() || !alpha(id[0])) return false;
  return std::all_of(id.begin() + 1, id.end(), [&](char c) {
    return alpha(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
  });
}

void read_spec(const YamlTree& tree, const LoadOptions& options, Diagnostics& diag, ModelSpec& spec) {
  SpecReader(tree, options, diag, spec).read();
}

}  // namespace capgraph::specs
