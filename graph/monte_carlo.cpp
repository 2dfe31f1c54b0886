// capgraph/graph/monte_carlo.cpp — the sampler behind monte_carlo().
//
// One sample of a task is a walk of its cone driven by an explicit stack of
// frames (one per task instance being sampled), so the DAG depth never
// reaches the C++ call stack. A frame asks for one trial of a child at a
// time; the outcome comes back as `incoming` and the frame decides whether
// it is done (short-circuit) or needs another trial. Shared skills are
// memoised per sample with a generation counter (no clearing per sample).
#include "graph/monte_carlo.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>

#include "graph/curve_eval.hpp"
#include "graph/detail/program.hpp"
#include "graph/successes.hpp"
#include "graph/workers.hpp"

namespace capgraph {

namespace {

std::uint64_t splitmix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t node, std::uint64_t point) {
  return splitmix64(splitmix64(splitmix64(seed) ^ node) ^ (point + 0x632BE59BD9B4E019ULL));
}

std::string format_count(double x) {
  std::ostringstream os;
  os.precision(6);
  os << x;
  return os.str();
}

enum : std::uint8_t { kLeaf = 0, kSharedLeaf = 1, kTask = 2 };

// The model laid out for sampling (point-independent), shared read-only by
// all workers: one compact record per node and flat per-use arrays, instead
// of NodeSpec (which carries strings and vectors).
struct NodeInfo {
  std::uint8_t kind = kLeaf;        // kLeaf, kSharedLeaf, kTask
  GateKind gate = GateKind::all;    // tasks
  double guess = 0;
  double k = 0;                     // at_least: K
  double total = 0;                 // sum of use counts (at_least: trials; mean: weights)
  std::uint64_t best_n = 1;         // best_of: N
  std::size_t ub = 0, ue = 0;       // uses [ub, ue)
};

struct Plan {
  std::vector<NodeInfo> node;
  std::vector<std::size_t> child;     // per use
  std::vector<double> count;          // per use (weight under mean)
  std::vector<std::uint64_t> whole;   // per use: floor(count)
  std::vector<double> frac;           // per use: count - floor(count)
};

// `over` (by node, null where none): the last override of each node, which
// makes it a skill.
Plan make_plan(const Model& m, const std::vector<const Overrides::Leaf*>& over) {
  Plan p;
  const std::size_t n = m.size(), nu = m.use_end(n - 1);
  p.node.resize(n);
  for (std::size_t v = 0; v < n; ++v) {
    const NodeSpec& s = m.node(v);
    NodeInfo& i = p.node[v];
    i.kind = !s.is_task ? (s.shared ? kSharedLeaf : kLeaf) : kTask;
    i.gate = s.gate;
    i.guess = s.guess;
    i.k = s.k;
    i.best_n = static_cast<std::uint64_t>(std::max(1, s.best_n));
    i.ub = m.use_begin(v);
    i.ue = m.use_end(v);
    for (std::size_t u = i.ub; u < i.ue; ++u) i.total += m.use_count(u);
    if (over[v]) {  // a skill: no uses
      i.kind = s.shared ? kSharedLeaf : kLeaf;
      i.ub = i.ue;
      i.total = 0;
    }
  }
  p.child.resize(nu);
  p.count.resize(nu);
  p.whole.resize(nu);
  p.frac.resize(nu);
  for (std::size_t u = 0; u < nu; ++u) {
    p.child[u] = m.use_child(u);
    p.count[u] = m.use_count(u);
    const double w = std::floor(m.use_count(u));
    p.whole[u] = static_cast<std::uint64_t>(w);
    p.frac[u] = m.use_count(u) - w;
  }
  return p;
}

// The successes of n trials of one P under an `at_least`, drawn at once
// (successes.hpp): by inversion from the mode, whose probability and
// cumulative probability are computed once per point, so a draw costs
// O(sqrt(n p (1-p))) steps instead of n coins.
struct BinomialRun {
  std::size_t end = 0;      // the use after the run (its uses are [u, end))
  std::uint64_t n = 0;      // trials in the run
  double p = 0, rho = 0;    // P and P / (1 - P)
  std::uint64_t mode = 0;
  double pmf_mode = 0, cdf_mode = 0;  // P(X = mode), P(X <= mode)
};

// Runs of at least this many trials are drawn as one binomial; fewer go
// coin by coin (as many uniforms as trials, as they always have).
constexpr std::uint64_t kBinomialRun = 64;

// Per-point probabilities, shared read-only by all workers.
struct PointData {
  std::vector<double> p;      // per node: P of a leaf (tasks: unused)
  std::vector<double> use_q;  // per use whose child is an independent leaf: the
                              // success probability of the whole use — P^n under
                              // all, 1-(1-P)^n under any, 1-(1-P)^N under best_of
  std::vector<std::int32_t> run;  // per use under at_least: index into runs, or -1
  std::vector<BinomialRun> runs;  // consecutive independent-leaf uses of one P, >= kBinomialRun trials
};

class Sampler {
 public:
  Sampler(const Model& m, const Plan& plan, const PointData& pd, std::uint64_t seed)
      : plan_(plan), pd_(pd), rng_(seed), gen_(m.size(), 0), val_(m.size(), 0) {}

  // One sample of node v's value (0/1, or in [0,1] for a mean).
  double sample(std::size_t v) {
    ++cur_gen_;
    if (plan_.node[v].kind != kTask) return coin(pd_.p[v]) ? 1.0 : 0.0;
    if (plan_.node[v].gate != GateKind::mean) return instance(v) ? 1.0 : 0.0;
    double num = 0;
    for (std::size_t u = plan_.node[v].ub; u < plan_.node[v].ue; ++u)
      if (instance(plan_.child[u])) num += plan_.count[u];
    const double g = plan_.node[v].guess;
    return std::clamp(g + (1 - g) * (num / plan_.node[v].total), 0.0, 1.0);
  }

 private:
  struct Frame {
    std::size_t node;
    std::size_t use;     // current use (absolute index)
    std::uint64_t rep;   // trials done within the current use (at_least, best_of, integer part)
    std::uint64_t k;     // step of the fractional-use factory (0 = not in it)
    double succ;         // at_least: successes so far
    double left;         // at_least: trials not yet made
  };
  // What a frame wants next: a trial of the task `child`, or it is done with `value`.
  struct Action {
    bool done;
    bool value;
    std::size_t child;
  };

  double uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  bool coin(double p) { return uniform() < p; }

  // The smallest x with P(X <= x) >= u, walking from the mode.
  std::uint64_t binomial(const BinomialRun& r) {
    const double u = uniform();
    std::uint64_t x = r.mode;
    double pmf = r.pmf_mode, cdf = r.cdf_mode;
    if (u <= cdf) {
      while (x > 0 && cdf - pmf >= u) {
        cdf -= pmf;
        pmf *= static_cast<double>(x) / (static_cast<double>(r.n - x + 1) * r.rho);
        --x;
      }
    } else {
      while (x < r.n && cdf < u) {
        pmf *= static_cast<double>(r.n - x) / static_cast<double>(x + 1) * r.rho;
        cdf += pmf;
        ++x;
      }
    }
    return x;
  }

  bool shared_outcome(std::size_t c) {
    if (gen_[c] != cur_gen_) {
      gen_[c] = cur_gen_;
      val_[c] = coin(pd_.p[c]) ? 1 : 0;
    }
    return val_[c] != 0;
  }

  // One trial of a leaf child.
  bool leaf_trial(std::size_t c) { return plan_.node[c].kind == kSharedLeaf ? shared_outcome(c) : coin(pd_.p[c]); }

  // Starts one instance of node c: its outcome if known at once (a leaf, a
  // guess coin that succeeded), otherwise a frame is pushed.
  std::optional<bool> start(std::size_t c) {
    if (plan_.node[c].kind != kTask) return leaf_trial(c);
    if (plan_.node[c].guess > 0 && coin(plan_.node[c].guess)) return true;
    Frame f{c, plan_.node[c].ub, 0, 0, 0, 0};
    if (plan_.node[c].gate == GateKind::mean) {
      const double r = uniform() * plan_.node[c].total;
      double acc = 0;
      std::size_t pick = plan_.node[c].ue - 1;
      for (std::size_t u = plan_.node[c].ub; u < plan_.node[c].ue; ++u) {
        acc += plan_.count[u];
        if (r < acc) {
          pick = u;
          break;
        }
      }
      const std::size_t ch = plan_.child[pick];
      if (plan_.node[ch].kind != kTask) return leaf_trial(ch);
      f.use = pick;
    } else if (plan_.node[c].gate == GateKind::at_least) {
      f.left = plan_.node[c].total;
    }
    stack_.push_back(f);
    return std::nullopt;
  }

  Action advance(Frame& f, std::optional<bool> incoming) {
    const std::size_t ue = plan_.node[f.node].ue;
    switch (plan_.node[f.node].gate) {
      case GateKind::mean:  // a task child was picked in start()
        if (incoming) return {true, *incoming, 0};
        return {false, false, plan_.child[f.use]};
      case GateKind::best_of: {
        const std::size_t c = plan_.child[f.use];
        if (plan_.node[c].kind == kLeaf) return {true, coin(pd_.use_q[f.use]), 0};
        if (plan_.node[c].kind == kSharedLeaf) return {true, shared_outcome(c), 0};
        if (incoming) {
          if (*incoming) return {true, true, 0};
          if (++f.rep >= plan_.node[f.node].best_n) return {true, false, 0};
        }
        return {false, false, c};
      }
      case GateKind::at_least: {
        const double k = plan_.node[f.node].k;
        auto record = [&](bool b, double w) {
          if (b) f.succ += w;
          f.left -= w;
          f.rep += static_cast<std::uint64_t>(w);
        };
        if (incoming) record(*incoming, 1.0);
        for (;;) {
          if (f.succ >= k) return {true, true, 0};
          if (f.succ + f.left < k) return {true, false, 0};
          while (f.rep >= plan_.whole[f.use]) {
            ++f.use;
            f.rep = 0;
          }
          const std::size_t c = plan_.child[f.use];
          if (plan_.node[c].kind == kTask) return {false, false, c};
          if (plan_.node[c].kind == kSharedLeaf) {  // its uses succeed or fail together
            record(shared_outcome(c), static_cast<double>(plan_.whole[f.use] - f.rep));
          } else if (f.rep == 0 && pd_.run[f.use] >= 0) {  // the whole run at once
            const BinomialRun& r = pd_.runs[static_cast<std::size_t>(pd_.run[f.use])];
            f.succ += static_cast<double>(binomial(r));
            f.left -= static_cast<double>(r.n);
            f.use = r.end - 1;
            f.rep = plan_.whole[f.use];
          } else {
            record(coin(pd_.p[c]), 1.0);
          }
        }
      }
      case GateKind::all:
      case GateKind::any: {
        const bool all = plan_.node[f.node].gate == GateKind::all;
        if (incoming) {
          const bool b = *incoming;
          if (f.k == 0) {
            if (b != all) return {true, b, 0};  // all: first failure; any: first success
            ++f.rep;
          } else if (b == all) {  // the fractional use is decided as b
            ++f.use;
            f.rep = 0;
            f.k = 0;
          } else if (coin(plan_.frac[f.use] / static_cast<double>(f.k))) {  // K == k: the factory ends on b
            return {true, b, 0};
          } else {
            ++f.k;
          }
        }
        while (f.use < ue) {
          const std::size_t c = plan_.child[f.use];
          if (plan_.node[c].kind == kLeaf) {  // the whole use is one coin: P^n, 1-(1-P)^n
            const bool b = coin(pd_.use_q[f.use]);
            if (b != all) return {true, b, 0};
          } else if (plan_.node[c].kind == kSharedLeaf) {  // multiplicity changes nothing
            const bool b = shared_outcome(c);
            if (b != all) return {true, b, 0};
          } else {
            if (f.k > 0 || f.rep < plan_.whole[f.use]) return {false, false, c};
            if (plan_.frac[f.use] > 0) {
              f.k = 1;
              return {false, false, c};
            }
          }
          ++f.use;
          f.rep = 0;
        }
        return {true, all, 0};
      }
    }
    return {true, false, 0};
  }

  // The 0/1 outcome of one instance of node c.
  bool instance(std::size_t c) {
    if (auto r = start(c)) return *r;
    const std::size_t base = stack_.size() - 1;
    std::optional<bool> incoming;
    for (;;) {
      const Action a = advance(stack_.back(), incoming);
      if (a.done) {
        stack_.pop_back();
        if (stack_.size() == base) return a.value;
        incoming = a.value;
        continue;
      }
      incoming = start(a.child);  // nullopt: a new frame is on top
    }
  }

  const Plan& plan_;
  const PointData& pd_;
  std::mt19937_64 rng_;
  std::vector<std::uint64_t> gen_;
  std::vector<char> val_;
  std::uint64_t cur_gen_ = 0;
  std::vector<Frame> stack_;
};

// The runs of consecutive uses of independent leaves with the same P
// under each `at_least` task, of kBinomialRun trials or more.
void binomial_runs(const Model& model, const Plan& plan, const std::vector<double>& lp, PointData& pd) {
  pd.run.assign(plan.child.size(), -1);
  for (std::size_t v = 0; v < model.size(); ++v) {
    const NodeInfo& t = plan.node[v];
    if (t.kind != kTask || t.gate != GateKind::at_least) continue;
    for (std::size_t u = t.ub; u < t.ue;) {
      const std::size_t c = plan.child[u];
      std::size_t end = u + 1;
      std::uint64_t n = plan.whole[u];
      if (plan.node[c].kind == kLeaf)
        for (; end < t.ue && plan.node[plan.child[end]].kind == kLeaf && lp[plan.child[end]] == lp[c]; ++end)
          n += plan.whole[end];
      const double p = pd.p[c];
      if (plan.node[c].kind == kLeaf && n >= kBinomialRun && p > 0 && p < 1) {
        BinomialRun r;
        r.end = end;
        r.n = n;
        r.p = p;
        const double lq = log1mexp(lp[c]);
        r.rho = std::exp(lp[c] - lq);
        r.mode = std::min(n, static_cast<std::uint64_t>(std::floor((static_cast<double>(n) + 1) * p)));
        r.pmf_mode = std::exp(detail::log_binomial_pmf(r.mode, n, lp[c], lq));
        r.cdf_mode = -std::expm1(detail::log_binomial_tail(static_cast<std::int64_t>(r.mode) + 1, n, lp[c], lq));
        pd.run[u] = static_cast<std::int32_t>(pd.runs.size());
        pd.runs.push_back(r);
      }
      u = end;
    }
  }
}

}  // namespace

namespace {

std::vector<double> trials_per_sample(const Model& model, const std::vector<const Overrides::Leaf*>& over) {
  std::vector<double> t(model.size(), 0.0);
  for (std::size_t v : model.topological_order()) {
    const NodeSpec& n = model.node(v);
    if (!n.is_task || over[v]) continue;
    double s = 0;
    for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) {
      const double c = n.gate == GateKind::best_of ? n.best_n : n.gate == GateKind::mean ? 1.0 : model.use_count(u);
      s += c * (1 + t[model.use_child(u)]);
    }
    t[v] = s;
  }
  return t;
}

}  // namespace

std::vector<double> monte_carlo_trials_per_sample(const Model& model) {
  return trials_per_sample(model, std::vector<const Overrides::Leaf*>(model.size(), nullptr));
}

Estimate MonteCarloEstimate::p(std::size_t v, std::size_t j) const {
  if (!has(v)) throw std::out_of_range("monte carlo: node " + std::to_string(v) + " was not estimated");
  if (j >= points_.size()) throw std::out_of_range("monte carlo: point index out of range");
  return est_[static_cast<std::size_t>(row_[v]) * points_.size() + j];
}

MonteCarloEstimate monte_carlo(const Model& model, std::span<const double> xs, const MonteCarloOptions& options,
                               const std::vector<std::size_t>& nodes) {
  if (options.samples < 2) throw ModelError("Monte Carlo needs at least 2 samples (for a standard error)");
  MonteCarloEstimate out;
  out.samples_ = options.samples;
  out.seed_ = options.seed;
  out.nodes_ = nodes.empty() ? model.tasks() : nodes;
  out.row_.assign(model.size(), -1);
  for (std::size_t i = 0; i < out.nodes_.size(); ++i) {
    const std::size_t v = out.nodes_[i];
    if (v >= model.size()) throw ModelError("Monte Carlo: node index " + std::to_string(v) + " out of range");
    if (out.row_[v] < 0) out.row_[v] = static_cast<std::ptrdiff_t>(i);
  }
  for (double x : xs) {
    if (!(x > 0) || !std::isfinite(x)) throw ModelError("scale values must be positive and finite");
    out.points_.push_back(model.axis().at(x));
  }
  detail::check_overrides(model, options.overrides);
  std::vector<const Overrides::Leaf*> over(model.size(), nullptr);
  for (const Overrides::Leaf& l : options.overrides.leaves()) over[l.node] = &l;
  const std::vector<double> trials = trials_per_sample(model, over);
  for (std::size_t v : out.nodes_)
    if (!(trials[v] <= options.max_trials_per_sample))
      throw ModelError("Monte Carlo: one sample of `" + model.node(v).id + "` expands to " + format_count(trials[v]) +
                       " trials (uses, product of the counts along every path), above the limit of " +
                       format_count(options.max_trials_per_sample) + " per sample; raise it with --max-mc-trials");

  const std::size_t m = out.points_.size();
  const std::size_t rows = out.nodes_.size();
  out.est_.assign(rows * m, Estimate{});

  // Leaf probabilities and whole-use probabilities per point.
  const Plan plan = make_plan(model, over);
  const ScalingLaw& law = model.spec().scale.law;
  std::vector<PointData> pdata(m);
  for (std::size_t j = 0; j < m; ++j) {
    PointData& pd = pdata[j];
    pd.p.assign(model.size(), 0.0);
    pd.use_q.assign(plan.child.size(), 0.0);
    std::vector<double> lp(model.size(), 0.0);
    for (std::size_t v = 0; v < model.size(); ++v) {
      const NodeSpec& n = model.node(v);
      if (over[v]) {
        lp[v] = std::min(0.0, leaf_log_p(curve_log_p(over[v]->curve, law, out.points_[j]), over[v]->floor, over[v]->ceiling));
      } else {
        if (n.is_task) continue;
        lp[v] = std::min(0.0, leaf_log_p(curve_log_p(n.curve, law, out.points_[j]), n.floor, n.ceiling));
      }
      pd.p[v] = std::exp(lp[v]);
    }
    for (std::size_t v = 0; v < model.size(); ++v) {
      if (plan.node[v].kind != kTask) continue;
      for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) {
        const std::size_t c = plan.child[u];
        if (plan.node[c].kind != kLeaf) continue;
        switch (plan.node[v].gate) {
          case GateKind::all: pd.use_q[u] = std::exp(plan.count[u] * lp[c]); break;
          case GateKind::any: pd.use_q[u] = -std::expm1(plan.count[u] * log1mexp(lp[c])); break;
          case GateKind::best_of:
            pd.use_q[u] = -std::expm1(static_cast<double>(plan.node[v].best_n) * log1mexp(lp[c]));
            break;
          default: pd.use_q[u] = pd.p[c];
        }
      }
    }
    binomial_runs(model, plan, lp, pd);
  }

  const std::size_t items = rows * m;
  const double ns = static_cast<double>(options.samples);
  auto work = [&](std::size_t item) {
    const std::size_t r = item / m, j = item % m;
    const std::size_t v = out.nodes_[r];
    Sampler s(model, plan, pdata[j], stream_seed(options.seed, v, j));
    const bool is_mean = plan.node[v].kind == kTask && plan.node[v].gate == GateKind::mean;
    Estimate e;
    if (!is_mean) {
      std::uint64_t hits = 0;
      for (std::uint64_t i = 0; i < options.samples; ++i) hits += s.sample(v) != 0 ? 1 : 0;
      const double p = static_cast<double>(hits) / ns;
      e = {p, std::sqrt(p * (1 - p) / (ns - 1))};
    } else {  // Welford
      double mean = 0, m2 = 0;
      for (std::uint64_t i = 0; i < options.samples; ++i) {
        const double x = s.sample(v);
        const double d = x - mean;
        mean += d / static_cast<double>(i + 1);
        m2 += d * (x - mean);
      }
      e = {mean, std::sqrt(std::max(0.0, m2) / (ns - 1) / ns)};
    }
    out.est_[item] = e;
  };

  std::atomic<std::size_t> next{0};  // items handed out one at a time; results stored by index
  detail::run_workers(detail::worker_count(options.threads, items), [&](unsigned) {
    for (std::size_t i; (i = next.fetch_add(1)) < items;) work(i);
  });
  return out;
}

}  // namespace capgraph
