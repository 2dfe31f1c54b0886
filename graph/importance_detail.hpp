// capgraph/graph/importance_detail.hpp — internal: what the parts of the
// bottleneck query (importance.hpp, docs/measures.md §6) share. The query
// is split by concept:
//   importance.cpp          the driver: the evaluation at the point, T's
//                           cone, which measure comes from where
//   importance_measures.cpp Birnbaum by the adjoint pass, criticality, the
//                           ranked table
//   improvement_sweep.cpp   the exact improvement potentials
//                           (improvement_sweep.hpp)
//   critical_path.cpp       the critical path
// Everything here is indexed by topological position (detail::Program::ops
// order), not by node: T's cone is then read in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "detail/program.hpp"
#include "importance.hpp"
#include "model.hpp"
#include "successes.hpp"

namespace capgraph::importance_detail {

inline constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// The engine's compiled form of the model (detail::Program::ops), read here in
// topological positions: a cone walked from T down reads it in order.
struct Ops {
  Ops(const Model& m, double at_least_work)
      : op(detail::program(m).ops.data()), child(detail::program(m).use_pos.data()),
        count(detail::program(m).use_count.data()), model(&m),
        max_at_least_work(at_least_work) {}
  const detail::EvalOp* op;     // by position
  const std::uint32_t* child;   // by use: the child's position
  const double* count;          // by use: n_u (mean: w_u)
  const Model* model;
  double max_at_least_work;     // EvalOptions::max_at_least_work
};

// The uses of the at_least task at position `at` as binomial groups of
// equal P (successes.hpp), with each use's group; throws ModelError when
// `calls` computations over them would pass the work limit.
std::vector<detail::TrialGroup> at_least_groups(const Ops& ops, std::size_t at, const double* lp,
                                                std::vector<std::size_t>& group_of, double calls);

// ln B_i for every node of the cone (positions, T first, descending) from
// ln P by position, into lnB by position, by one reverse pass.
/// ln dP_v/dP_c for every use u of the task at position `at` (child c),
/// summed over the copies of that use, into out[u - use_begin]; `lp` is ln P
/// by position. O(uses) per node (O(uses k) for at_least).
void log_local_partials(const Ops& ops, std::size_t at, const double* lp, std::vector<double>& out);

void adjoint_pass(const Ops& ops, const std::vector<std::uint32_t>& cone, const double* lp, double* lnB);

// The cone of the task at position tpos, as positions (T first, children
// after their tasks: descending), if it has at most `limit` nodes; nullopt
// as soon as it has more (so a large cone costs only the start of the scan).
std::optional<std::vector<std::uint32_t>> cone_positions(const Ops& ops, std::uint32_t tpos, std::size_t limit);

// C_i = B_i P_i / P_T, from logarithms (0 where P_T or P_i is 0).
double criticality(double ln_b, double ln_p, double ln_pt);

// The measures of the cone's nodes by position, as the driver fills them.
struct Measures {
  explicit Measures(std::size_t positions)
      : lnB(positions, kNegInf), birnbaum(positions, 0.0), improvement(positions, 0.0), drive(positions, 0.0),
        p_if_one(positions, -1.0) {}
  std::vector<double> lnB;
  std::vector<double> birnbaum, improvement;
  std::vector<double> drive;     // per unit of Birnbaum first (the drive factors); times B_i in rank_rows()
  std::vector<double> p_if_one;  // exact P_T with P_i := 1, where the expansion computed it; else -1
};

// The rows of the cone but T (cone[0]), ranked by `order` (descending, ties
// by spec order) into table.rows, and the scale drive of T summed over the
// leaves into table.dp_task_dlog10x. lp, uses and has_drive by position.
void rank_rows(const Model& model, const Ops& ops, const std::vector<std::uint32_t>& cone, const std::vector<double>& lp,
               const std::vector<double>& uses, const std::vector<char>& has_drive, Measures& m,
               ImportanceOrder order, unsigned threads, ImportanceTable& table);

// From T, the child with the largest improvement potential (by position),
// down to a leaf; ties by spec order.
std::vector<std::size_t> critical_path(const Model& model, std::size_t task, const std::vector<double>& improvement);

}  // namespace capgraph::importance_detail
