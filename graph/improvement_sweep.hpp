// capgraph/graph/improvement_sweep.hpp — internal: the exact improvement
// potentials of the bottleneck query (docs/measures.md §6), for the
// prerequisites whose P_T is not affine in their P: ImprovementPlan (what
// every query shares) and ImprovementSweep (one worker's queries,
// node-major). Used by importance.cpp; the bodies are in
// improvement_sweep.cpp.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "curve_eval.hpp"
#include "importance_detail.hpp"
#include "node_kernels.hpp"

namespace capgraph::importance_detail {

// P_T with P_i set to 1, for every prerequisite i that reaches T by more
// than one path. Only i's ancestors inside the cone change, and each is
// updated from the changes of its changed children rather than re-evaluated
// whole (c: a changed child, d = ln P_c' - ln P_c > 0):
//   all          ln P' = ln P + sum_u n_u d_u       (a child leaving P = 0:
//                                                    one zero fewer, + n_u ln P_c')
//   any/best_of  ln(1 - P') = ln(1 - P) + sum_u n_u (ln(1 - P_c') - ln(1 - P_c))
//   mean         ln P' = ln P + ln(1 + sum_u (1-g)(w_u/W) (P_c/P) expm1(d_u))
//                (P = g + (1-g) mean is affine in every child)
//   at_least     one changed use u (count n): the gate is a polynomial in
//                P_c, gate' = sum_j C(n,j) P_c'^j (1-P_c')^(n-j) T_u(k-j),
//                T_u(t) = P(at least t successes among the other uses),
//                kept in log space (plan: prefix distributions and suffix
//                tails, one pass per task)
// so a change costs O(1) per reference (a `mean` of 11,631 tasks is not
// re-summed for every prerequisite below it). `guess` is applied to the
// updated gate value. Re-evaluated whole by the engine's own kernel
// instead, for a query that meets one: P = 0 under mean, P below 1e-280
// under any/best_of, a ratio past e^700 under mean, two changed uses of
// one `at_least` or a use counted more than 64 times. A node whose value
// does not move stops the change there.
//
// The queries run node-major (ImprovementSweep, below): a block of queries
// at a time walks the cone once, children first, and each task computes its
// changed values under every query of the block that reaches it, from its
// children's lists of (query, changed ln P). The work is the same as one
// query after another (the references among each prerequisite's
// ancestors that carry a change, about 42 on the 100k-node benchmark cone:
// 3.4 million for its 80,160 queries), but it streams
// through short arrays instead of chasing each query's ancestors through
// the whole cone, and the transcendental functions run over arrays (vmath).
//
// ImprovementPlan holds what every query shares (read-only, one per table),
// indexed by position in the cone (0 = T, children after their tasks), so
// that a task's children and their lists sit near it in memory.
class ImprovementPlan {
 public:
  enum Kind : std::uint8_t { kLeaf, kLog, kComplement, kLinear, kAtLeast, kWhole };
  struct Node {
    double lv = 0;            // ln P
    double lq = 0;            // ln(1 - P)
    double base = 0;          // kLog: sum of n_u ln P_c over children with P > 0; kComplement: ln(1 - P);
                              // mean: (1 - g) / W
    std::uint32_t zeros = 0;  // kLog: uses of a child with P = 0
    Kind kind = kLeaf;
    bool guessed = false;  // P = g + (1 - g) gate, g = guess
    double guess = 0;
    double ln_guess = 0, ln1m_guess = 0;  // ln g, ln(1 - g) (where guessed)
    double p = 0;                         // P
  };
  static constexpr std::uint32_t kWholeUse = ~std::uint32_t{0};
  struct Use {            // one use of a cone task, in use order (16 bytes)
    std::uint32_t child;  // position
    std::uint32_t tail;   // at_least: ln T_u(k - j), j = 0..n_u, at tail[this...]; kWholeUse:
                          // a change through this use re-evaluates the task whole
    double coef = 0;      // n_u (all, any, at_least), n (best_of), (1-g)(w_u/W) P_c/P_v (mean)
  };

  // The part that does not depend on P, built while the model is
  // evaluated: positions, uses, parents, the reach bounds. cone:
  // topological positions, T first, descending.
  ImprovementPlan(const Model& model, const Ops& ops, const std::vector<std::uint32_t>& cone);

  /// The values at the point, once: lp is ln P by topological position.
  void set_values(const std::vector<double>& lp);

  static constexpr std::uint32_t kNone = ~std::uint32_t{0};

  /// (1-g) w_u/W of use u of the `mean` task at position p.
  double mean_weight(std::size_t p, std::uint32_t u) const {
    return node[p].base * o.count[o.op[top[p]].use_begin + (u - use_begin[p])];
  }

  /// The model's node at position p.
  std::size_t node_of(std::size_t p) const { return o.op[top[p]].node; }

  const Model& m;
  const Ops& o;
  std::vector<std::uint32_t> top;      // by position: its topological position
  std::vector<std::uint32_t> pos;      // by topological position: position, or kNone outside the cone
  std::vector<Node> node;
  std::vector<std::uint32_t> use_begin;  // by position, into use
  std::vector<Use> use;
  std::vector<std::uint32_t> parent_begin, parent;  // by position: the cone tasks that use it (once per use)
  std::vector<double> reach;  // by position: a bound on dP_T/dP_v (see the constructor)
  std::vector<double> tail;  // at_least uses: ln T_u(k - j), j = 0..n_u
  std::vector<double> log_binom;  // ln C(n, j) at n (n + 1) / 2 + j, n <= kMaxCount

  /// Uses counted more often than this re-evaluate their at_least whole.
  static constexpr std::size_t kMaxCount = 64;

 private:
  // Probabilities as they are, or as logarithms (for products that would
  // underflow): the same fold over either (successes.hpp).
  using Linear = detail::Linear;
  using Log = detail::Log;

  // ln T_u(t) = ln P(at least t successes among the uses of at_least task v
  // other than u), for t = k - n_u .. k: ln sum_a A_u(a) S_u(t - a), A_u the
  // success count of the uses before u (truncated at k: its top entry is
  // "k or more"), S_u(t) = P(at least t successes after u) (1 for t <= 0).
  // Sums of positive terms only. In plain probabilities where no product
  // of the trials' P and 1 - P can fall below e^-650; otherwise in log
  // space, so tiny P (an at_least of deep `all` chains) keeps its digits.
  void at_least_tails(const detail::EvalOp& v, const std::vector<double>& lp, Use* uses);

  // Over the trials' P and 1 - P in tp_ and tq_ (as S holds them); appends
  // the tails to `tail` as S holds them.
  template <class S>
  void at_least_tails(const detail::EvalOp& v, Use* uses);

  // at_least_tails() past the fold's size: the uses as binomial groups; the
  // tails of the uses with the same group and count are computed once.
  void at_least_tails_by_groups(const detail::EvalOp& v, const std::vector<double>& lp, Use* uses);

  std::vector<double> tp_, tq_, pre_, suf_, stail_;  // at_least_tails()' scratch

  double weight(const detail::EvalOp& v, std::size_t u) const {
    return v.gate == GateKind::best_of ? v.best_n : o.count[u];
  }
};

// One worker's share of the queries, run node-major: a block of queries at
// a time, the cone walked once per block from the lowest query up to T,
// visiting only the tasks that have a changed child (a bitmap over
// positions). Each visited task computes its changed values under every
// query of the block that reaches it, from its children's lists of
// (query, changed ln P), into its own list.
class ImprovementSweep {
 public:
  explicit ImprovementSweep(const ImprovementPlan& plan)
      : p_(plan), budget_(kDropBudget * std::exp(plan.node[0].lv)), list_(plan.node.size()),
        listed_((plan.node.size() + 63) / 64, 0), query_at_(plan.node.size(), -1), marks_(listed_.size(), 0) {
    ws_.model = &plan.m;
    ws_.max_at_least_work = plan.o.max_at_least_work;
  }

  /// A query stops carrying changes whose combined effect on P_T is at
  /// most this times P_T (a sixtieth power of 2: below an eighth of the
  /// rounding of P_T itself).
  static constexpr double kDropBudget = 0x1p-60;

  /// Queries per block. A task is visited once per block that reaches it,
  /// so larger blocks visit less; their lists and per-query arrays grow.
  /// On the 100k-node benchmark cone (80,160 queries, 2 threads, best of 7
  /// warm, CPU time): 4,096: 210 ms CPU; 8,192: 189-222; 16,384: 177-191;
  /// 32,768: 171-180 but only three blocks for two workers; 65,536 slower.
  static constexpr std::size_t kBlock = 16384;

  /// ln P_T with P_i := 1 for the cone positions queries[b0, b1) (distinct,
  /// not T, at most kBlock), into out[b0, b1).
  void run(const std::vector<std::uint32_t>& queries, std::size_t b0, std::size_t b1, double* out);

 private:
  using Plan = ImprovementPlan;
  static constexpr std::uint32_t kNone = Plan::kNone;

  // The lists of a block, (query, ln P') entries, each list contiguous,
  // numbered across chunks that never move: a vector grown by doubling
  // copied itself into fresh memory each time, twice the pages to fault in
  // (the largest block's lists hold 643,000 entries on the benchmark cone).
  class ListStore {
   public:
    static constexpr std::size_t kChunk = std::size_t{1} << 16;  // entries; more than a list can hold
    static_assert(kChunk > kBlock);
    void clear() { chunk_ = used_ = 0; }
    /// The number the next entry gets, with room for `need` (<= kChunk)
    /// entries after it in the same chunk.
    std::uint32_t open(std::size_t need) {
      if (chunks_.empty()) add();
      if (used_ + need > kChunk) {
        if (++chunk_ == chunks_.size()) add();
        used_ = 0;
      }
      return index();
    }
    std::uint32_t index() const { return static_cast<std::uint32_t>(chunk_ * kChunk + used_); }
    void push(std::uint32_t q, double v) {
      chunks_[chunk_].q[used_] = q;
      chunks_[chunk_].val[used_] = v;
      ++used_;
    }
    /// Where the next entries go, `n` of them (within the room open() made).
    std::uint32_t* q_end() { return chunks_[chunk_].q.get() + used_; }
    double* val_end() { return chunks_[chunk_].val.get() + used_; }
    void advance(std::size_t n) { used_ += n; }
    const std::uint32_t* q(std::uint32_t at) const { return chunks_[at / kChunk].q.get() + at % kChunk; }
    const double* val(std::uint32_t at) const { return chunks_[at / kChunk].val.get() + at % kChunk; }

   private:
    struct Chunk {
      std::unique_ptr<std::uint32_t[]> q;
      std::unique_ptr<double[]> val;
    };
    void add() {  // not zeroed: pages are touched as entries are written
      chunks_.push_back({std::make_unique_for_overwrite<std::uint32_t[]>(kChunk),
                         std::make_unique_for_overwrite<double[]>(kChunk)});
    }
    std::vector<Chunk> chunks_;
    std::size_t chunk_ = 0, used_ = 0;
  };

  // A node's list of changed values in lists_ (this block), and its own
  // values (read by every task that uses it: kept here, near the list).
  struct List {
    std::uint32_t begin = 0, len = 0;
    double before = 0, lq = 0;  // ln P, ln(1 - P)
  };

  // By query in the block: its slot at the task stamped, and the effects
  // dropped so far. Together: the task's update reads both, one cache line.
  struct Query {
    std::uint32_t stamp = kNone, slot = 0;
    double dropped = 0;
  };

  // The sums of one query at the task being updated.
  struct Slot {
    std::uint32_t q;
    std::uint16_t zeros_gone = 0;  // kLog: uses of a child with P = 0 that left 0
    std::uint8_t changes = 0;      // kAtLeast: 1 after the first changed use
    bool whole = false;            // an edge case met: re-evaluate whole
    double acc = 0;                // the sum of the children's changes, as the kind takes them
  };

  void mark(std::uint32_t p) { marks_[p / 64] |= std::uint64_t{1} << (p % 64); }
  bool listed(std::uint32_t p) const { return (listed_[p / 64] >> (p % 64)) & 1; }

  // Whether query q's change dP of node p (not T) stops here: its effect on
  // P_T is at most reach[p] dP, and the query's dropped effects together
  // stay within kDropBudget P_T (so the IP is exact to that).
  bool drop(std::uint32_t q, std::uint32_t p, double dp) {
    const double effect = p_.reach[p] * dp;
    if (p == 0 || !(query_[q].dropped + effect <= budget_)) return false;
    query_[q].dropped += effect;
    return true;
  }

  // The slots of the task being updated: query q's, made at its first
  // change there (a local of update(), so that its fields stay in
  // registers once the steps below are inlined into it).
  struct Slots {
    Query* qr;
    Slot* sl;
    std::uint32_t p;
    std::uint32_t ns = 0;
    Slot& operator()(std::uint32_t q) {
      Query& r = qr[q];
      if (r.stamp != p) {
        r.stamp = p;
        r.slot = ns;
        sl[ns] = Slot{q};
        return sl[ns++];
      }
      return sl[r.slot];
    }
  };
  // One changed use's list: n entries (query qs[j], ln P_c' after[j]), the
  // child's ln P before, the use's coefficient.
  struct ChangedUse {
    std::uint32_t n;
    const std::uint32_t* qs;
    const double* after;
    double before, coef;
  };

  // Visits a task with a changed child: its slots (one per query with a
  // change there), their new ln P, and its list of those that moved
  // (improvement_sweep.cpp: the steps below, in order).
  void update(std::uint32_t p);
  void changed_uses(std::uint32_t p);
  void add_use_changes(const Plan::Node& d, std::uint32_t p, std::uint32_t u, Slots& slot);
  void add_mean_changes(const Plan::Node& d, std::uint32_t p, std::uint32_t u, const ChangedUse& c, Slots& slot);
  void add_at_least_changes(const Plan::Use& ref, const ChangedUse& c, Slots& slot);
  bool new_values(const Plan::Node& d, std::uint32_t ns);
  void pass_on(const Plan::Node& d, std::uint32_t p, std::uint32_t ns);

  // The slots [0, ns) marked whole: the task re-evaluated by the engine's kernel
  // with its changed children's values under that query.
  void whole(std::uint32_t p, std::size_t ns);

  struct Change {
    std::uint32_t slot, child;  // child: its position
    double after;
  };

  const ImprovementPlan& p_;
  double budget_;                          // kDropBudget P_T
  std::vector<List> list_;                 // by position, valid where listed_
  std::vector<std::uint64_t> listed_;      // by position: has a list in this block
  std::vector<std::int32_t> query_at_;      // by position: its query in the block, or -1
  std::vector<std::uint64_t> marks_;        // by position: to visit
  ListStore lists_;                         // the lists: (query in the block, ln P under it > ln P unchanged)
  std::vector<double> cur_;                 // by model node: ln P, changed only inside whole() (filled at its first call)
  std::vector<Query> query_;
  std::vector<Slot> slots_;  // update(): the task's slots (a block's worth of room)
  std::vector<double> tmp_, vals_;
  std::vector<double> terms_, sums_;     // update(), at_least: every slot's terms, then their sums
  std::vector<std::uint32_t> pending_;   // update(), at_least: the slots whose terms are in terms_
  std::vector<std::uint32_t> changed_;  // update(): the uses whose child changed
  std::vector<Change> changes_, sorted_;
  std::vector<std::uint32_t> whole_begin_, at_;
  detail::Workspace ws_;
};

}  // namespace capgraph::importance_detail
