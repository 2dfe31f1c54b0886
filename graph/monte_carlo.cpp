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
#include <thread>

#include "graph/curve_eval.hpp"

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

// Per-point leaf data, shared read-only by all workers.
struct PointLeaves {
  std::vector<double> p;   // P of each leaf (tasks: unused)
  std::vector<double> lp;  // ln P
};

class Sampler {
 public:
  Sampler(const Model& m, const PointLeaves& leaves, std::uint64_t seed)
      : m_(m), leaves_(leaves), rng_(seed), gen_(m.size(), 0), val_(m.size(), 0) {}

  // One sample of node v's value (0/1, or in [0,1] for a mean).
  double sample(std::size_t v) {
    ++cur_gen_;
    const NodeSpec& n = m_.node(v);
    if (!n.is_task) return coin(leaves_.p[v]) ? 1.0 : 0.0;
    if (n.gate != GateKind::mean) return instance(v) ? 1.0 : 0.0;
    double num = 0, den = 0;
    for (std::size_t u = m_.use_begin(v); u < m_.use_end(v); ++u) {
      den += m_.use_count(u);
      if (instance(m_.use_child(u))) num += m_.use_count(u);
    }
    const double g = n.guess;
    return std::clamp(g + (1 - g) * (num / den), 0.0, 1.0);
  }

 private:
  struct Frame {
    std::size_t node;
    std::size_t use;     // current use (absolute index)
    std::uint64_t rep;   // integer trials done within the current use
    std::uint64_t k;     // step of the fractional-use factory (0 = not in it)
    double succ;         // at_least: successes so far
    double left;         // at_least: trials not yet made
  };
  // What a frame wants next: a trial of `child`, or it is done with `value`.
  struct Action {
    bool done;
    bool value;
    std::size_t child;
  };

  double uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  bool coin(double p) { return uniform() < p; }

  bool shared_outcome(std::size_t c) {
    if (gen_[c] != cur_gen_) {
      gen_[c] = cur_gen_;
      val_[c] = coin(leaves_.p[c]) ? 1 : 0;
    }
    return val_[c] != 0;
  }

  bool is_shared_leaf(std::size_t c) const { return !m_.node(c).is_task && m_.node(c).shared; }

  // Starts one instance of node c: its outcome if known at once (a leaf, a
  // guess coin that succeeded), otherwise a frame is pushed.
  std::optional<bool> start(std::size_t c) {
    const NodeSpec& n = m_.node(c);
    if (!n.is_task) return n.shared ? shared_outcome(c) : coin(leaves_.p[c]);
    if (n.guess > 0 && coin(n.guess)) return true;
    Frame f{c, m_.use_begin(c), 0, 0, 0, 0};
    if (n.gate == GateKind::mean) {
      double total = 0;
      for (std::size_t u = m_.use_begin(c); u < m_.use_end(c); ++u) total += m_.use_count(u);
      const double r = uniform() * total;
      double acc = 0;
      std::size_t pick = m_.use_end(c) - 1;
      for (std::size_t u = m_.use_begin(c); u < m_.use_end(c); ++u) {
        acc += m_.use_count(u);
        if (r < acc) {
          pick = u;
          break;
        }
      }
      f.use = pick;
    } else if (n.gate == GateKind::at_least) {
      for (std::size_t u = m_.use_begin(c); u < m_.use_end(c); ++u) f.left += m_.use_count(u);
    }
    stack_.push_back(f);
    return std::nullopt;
  }

  Action advance(Frame& f, std::optional<bool> incoming) {
    const NodeSpec& n = m_.node(f.node);
    const std::size_t ue = m_.use_end(f.node);
    switch (n.gate) {
      case GateKind::mean:
        if (incoming) return {true, *incoming, 0};
        return {false, false, m_.use_child(f.use)};
      case GateKind::best_of:
        if (incoming) {
          if (*incoming) return {true, true, 0};
          if (++f.rep >= static_cast<std::uint64_t>(n.best_n)) return {true, false, 0};
        }
        return {false, false, m_.use_child(f.use)};
      case GateKind::at_least: {
        const double k = n.k;
        if (incoming) {
          // A shared leaf's uses succeed or fail together: one trial stands
          // for all of them.
          const std::size_t c = m_.use_child(f.use);
          const double w = is_shared_leaf(c) ? m_.use_count(f.use) : 1.0;
          if (*incoming) f.succ += w;
          f.left -= w;
          f.rep += static_cast<std::uint64_t>(w);
          if (f.succ >= k) return {true, true, 0};
          if (f.succ + f.left < k) return {true, false, 0};
        }
        while (static_cast<double>(f.rep) >= m_.use_count(f.use)) {
          ++f.use;
          f.rep = 0;
        }
        return {false, false, m_.use_child(f.use)};
      }
      case GateKind::all:
      case GateKind::any: {
        const bool all = n.gate == GateKind::all;
        if (incoming) {
          const bool b = *incoming;
          if (f.k == 0) {
            if (b != all) return {true, b, 0};  // all: first failure; any: first success
            ++f.rep;
          } else {
            const double frac = m_.use_count(f.use) - std::floor(m_.use_count(f.use));
            if (b == all) {  // the fractional use is decided as b
              ++f.use;
              f.rep = 0;
              f.k = 0;
            } else if (coin(frac / static_cast<double>(f.k))) {  // K == k: the factory ends on b
              return {true, b, 0};
            } else {
              ++f.k;
            }
          }
        }
        while (f.use < ue) {
          const std::size_t c = m_.use_child(f.use);
          const double cnt = m_.use_count(f.use);
          if (f.k > 0) return {false, false, c};
          if (is_shared_leaf(c)) {  // multiplicity changes nothing
            if (f.rep == 0) return {false, false, c};
          } else {
            const double whole = std::floor(cnt), frac = cnt - whole;
            if (static_cast<double>(f.rep) < whole) return {false, false, c};
            if (frac > 0) {
              if (!m_.node(c).is_task) {
                // One coin: P^f under all, 1 - (1-P)^f under any.
                const double lp = leaves_.lp[c];
                const double q = all ? std::exp(frac * lp) : -std::expm1(frac * log1mexp(lp));
                const bool b = coin(q);
                if (b != all) return {true, b, 0};
              } else {
                f.k = 1;
                return {false, false, c};
              }
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

  const Model& m_;
  const PointLeaves& leaves_;
  std::mt19937_64 rng_;
  std::vector<std::uint64_t> gen_;
  std::vector<char> val_;
  std::uint64_t cur_gen_ = 0;
  std::vector<Frame> stack_;
};

}  // namespace

std::vector<double> monte_carlo_trials_per_sample(const Model& model) {
  std::vector<double> t(model.size(), 0.0);
  for (std::size_t v : model.topological_order()) {
    const NodeSpec& n = model.node(v);
    if (!n.is_task) continue;
    double s = 0;
    for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) {
      const double c = n.gate == GateKind::best_of ? n.best_n : n.gate == GateKind::mean ? 1.0 : model.use_count(u);
      s += c * (1 + t[model.use_child(u)]);
    }
    t[v] = s;
  }
  return t;
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
  const std::vector<double> trials = monte_carlo_trials_per_sample(model);
  for (std::size_t v : out.nodes_)
    if (!(trials[v] <= options.max_trials_per_sample))
      throw ModelError("Monte Carlo: one sample of `" + model.node(v).id + "` expands to " + format_count(trials[v]) +
                       " trials (uses, product of the counts along every path), above the limit of " +
                       format_count(options.max_trials_per_sample) + " per sample; raise it with --max-mc-trials");

  const std::size_t m = out.points_.size();
  const std::size_t rows = out.nodes_.size();
  out.est_.assign(rows * m, Estimate{});

  // Leaf probabilities per point.
  const ScalingLaw& law = model.spec().scale.law;
  std::vector<PointLeaves> leaves(m);
  for (std::size_t j = 0; j < m; ++j) {
    leaves[j].p.assign(model.size(), 0.0);
    leaves[j].lp.assign(model.size(), 0.0);
    for (std::size_t v = 0; v < model.size(); ++v) {
      const NodeSpec& n = model.node(v);
      if (n.is_task) continue;
      const double lp = std::min(0.0, leaf_log_p(curve_log_p(n.curve, law, out.points_[j]), n.floor, n.ceiling));
      leaves[j].lp[v] = lp;
      leaves[j].p[v] = std::exp(lp);
    }
  }

  const std::size_t items = rows * m;
  const double ns = static_cast<double>(options.samples);
  auto work = [&](std::size_t item) {
    const std::size_t r = item / m, j = item % m;
    const std::size_t v = out.nodes_[r];
    Sampler s(model, leaves[j], stream_seed(options.seed, v, j));
    const bool is_mean = model.node(v).is_task && model.node(v).gate == GateKind::mean;
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

  unsigned threads = options.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : options.threads;
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, std::max<std::size_t>(1, items)));
  if (threads <= 1) {
    for (std::size_t i = 0; i < items; ++i) work(i);
  } else {
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        for (std::size_t i; (i = next.fetch_add(1)) < items;) work(i);
      });
    for (auto& th : pool) th.join();
  }
  return out;
}

}  // namespace capgraph
