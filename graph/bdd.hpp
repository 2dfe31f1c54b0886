// capgraph/graph/bdd.hpp — internal: exact evaluation of shared skills by an
// ordered decision diagram over them (docs/measures.md §4).
//
// Given the outcomes a of the shared skills, every use is an independent
// trial and P(v | a) follows the ordinary gate formulas; P_v is the mean of
// P(v | a) over a. The diagram holds, for every node v with a shared skill
// below it, the function a -> P(v | a) reduced and shared the way a binary
// decision diagram is (Bryant 1986): a decision item tests one shared
// skill, and the terminals are not just true and false but expressions:
// a row (a node with no shared skill below, computed by the ordinary pass:
// the modules that share nothing enter as single values), or a task's gate
// over the terminals its uses reach under the same outcomes. A gate whose
// value the constants already decide (an `all` with a false use, an `any`
// with a true one, an `at_least` with k sure successes, ...) folds to that
// constant, so a fault tree's diagram is an ordinary BDD over its basic
// events. Items are hash-consed (unique table) and the n-ary apply is
// memoised (computed table), so a sub-diagram is built once for the whole
// model and shared by every task above it.
//
// Built once per model (a few operations per item); every scale point then
// costs one bottom-up pass over the items:
//   decision on s:  ln P = logaddexp(ln p_s + ln P_hi, ln(1 - p_s) + ln P_lo)
//   gate:           the engine's own kernel over the terminals of its uses
// in log space, over a block of points at a time (evaluation.cpp).
//
// Modules (Dutuit & Rauzy 1996): a task whose shared skills are reached
// from the rest of the model only through it is a module. Its own diagram
// gives its P; above it, it enters as one value: as a variable of its own
// when its diagram is an ordinary BDD (every terminal a constant: the task
// is an event decided by its shared skills, like a fault-tree gate), or as
// its row when every ancestor reaches it by a single use (the value above
// it is then affine in its P). Otherwise its diagram is expanded in place.
//
// Variable order: the shared skills (and module variables) by their place
// in the model's topological order, which is depth-first post-order from
// the top tasks (the order of first use): skills used together sit next to
// each other, and a module's variable comes after its own skills.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <unordered_map>
#include <vector>

#include "model.hpp"
#include "node_kernels.hpp"

namespace capgraph::detail {

class Diagram {
 public:
  static constexpr std::uint32_t kFalse = 0, kTrue = 1;
  enum class Kind : std::uint8_t { constant, row, gate, decision, tangent, join };
  struct Item {
    Kind kind = Kind::constant;
    std::uint32_t node = 0;  ///< row: the node; gate: the task; decision: the shared skill; tangent: the wrapped
                             ///< item; join: 0 for a product (`all`), 1 for a union (`any`)
    std::uint32_t a = 0, b = 0;  ///< decision: lo, hi; gate: its uses' terminals are kids()[a, b); join: a
                                 ///< terminal and a diagram (see apply)
  };

  /// Throws ModelError (pointing to --max-bdd-nodes and --monte-carlo) when
  /// the items would exceed max_items.
  /// `collapse`: a gate of one single use without guess is its use's
  /// terminal (off for importance, which attributes derivatives by gate).
  /// `cut` (by node; null: none) marks tasks evaluated as skills
  /// (graph/overrides.hpp): they enter as the row of a non-shared skill.
  /// `modules`: substitute modules (off only to measure what they save).
  Diagram(const Model& model, std::size_t max_items, bool collapse = true,
          const std::vector<std::uint8_t>* cut = nullptr, bool modules = true);

  /// Node v's diagram as its users see it (memoised per node): for a node
  /// with no shared skill below, its row; for a module, its variable or
  /// row when it is substituted (see above), else root(v).
  std::uint32_t build(std::size_t v);
  /// Node v's own diagram, whose mean is P_v (after build(v)).
  std::uint32_t root(std::size_t v) const {
    return root_[v] >= 0 ? static_cast<std::uint32_t>(root_[v]) : static_cast<std::uint32_t>(built_[v]);
  }
  /// Whether v has a shared skill at or below it.
  bool has_shared_below(std::size_t v) const { return below_[v] != 0; }
  /// Whether task v (built) enters its users' diagrams as a variable.
  bool is_variable(std::size_t v) const { return root_[v] >= 0 && items_[built_[v]].kind == Kind::decision; }
  /// Modules substituted so far (variables and rows).
  std::size_t substituted() const { return substituted_; }

  const std::vector<Item>& items() const { return items_; }
  const std::vector<std::uint32_t>& kids() const { return kids_; }
  std::size_t size() const { return items_.size(); }

  /// For a bottleneck query: node v's diagram with node `target` replaced,
  /// by the constant true (`forced`) or by `target`'s own diagram with every
  /// terminal wrapped in a tangent item (a marker that carries a derivative
  /// of 1). Only target's ancestors are rebuilt; the rest is shared with
  /// build(). rollback() then removes what the query added.
  std::uint32_t build_replaced(std::size_t v, std::size_t target, bool forced, const std::vector<char>& ancestor);
  std::size_t checkpoint();
  void rollback(std::size_t mark);

  /// The error for a diagram past the limit, naming `task`.
  [[noreturn]] void too_large(std::size_t task) const;

 private:
  // Items and apply results keyed by a task and its uses' items: an open
  // addressing table (linear probing) over keys kept in one arena, so a
  // lookup allocates nothing. Entries go in and out in stack order: a
  // query's entries are the newest, and emptying the newest entry's slot
  // leaves the table its older entries alone would make (a resize
  // reinserts in arena order), so rollback() removes them exactly.
  class KeyTable {
   public:
    /// The value stored for key[0, len), or nullptr.
    const std::uint32_t* find(const std::uint32_t* key, std::size_t len) const;
    void insert(const std::uint32_t* key, std::size_t len, std::uint32_t value);
    std::size_t mark() const { return entries_.size(); }
    /// Removes every entry inserted since mark().
    void rollback(std::size_t mark);

   private:
    static std::uint64_t hash(const std::uint32_t* key, std::size_t len);
    std::size_t slot_of(std::uint32_t entry) const;
    void place(std::uint64_t h, std::uint32_t entry);
    void grow();
    std::vector<std::uint32_t> arena_;    // per entry: value, length, key words
    std::vector<std::uint32_t> entries_;  // arena offset of each entry, oldest first
    std::vector<std::uint64_t> slots_;    // hash's high half | entry index + 1, or 0: empty
  };
  using Key4 = std::array<std::uint32_t, 4>;  // decisions, joins and tangents: a tag, then the fields
  std::uint32_t unique4(const Key4& key, Item item);
  std::uint32_t add(Item item);
  std::uint32_t decision(std::uint32_t var, std::uint32_t lo, std::uint32_t hi);
  std::uint32_t row(std::size_t c);
  std::uint32_t tangent(std::uint32_t id);
  std::uint32_t join(std::uint32_t op, std::uint32_t f, std::uint32_t rest);
  std::pair<std::uint32_t, std::uint32_t> cofactors(std::uint32_t id);  // of an item at its own level
  std::uint32_t var_of(std::uint32_t id) const;                         // the skill an item tests first
  std::uint32_t wrap(std::uint32_t id, std::unordered_map<std::uint32_t, std::uint32_t>& memo);
  std::uint32_t gate(std::size_t x, const std::vector<std::uint32_t>& kids);
  std::uint32_t* scratch_key(std::size_t x, const std::vector<std::uint32_t>& kids);  // x then kids, in key_
  std::uint32_t apply(std::size_t x, const std::vector<std::uint32_t>& kids);
  int fold(std::size_t x, const std::vector<std::uint32_t>& kids) const;  // 0, 1, or -1: not decided
  std::uint32_t level(std::uint32_t id) const;
  void find_substitutable();
  bool boolean(std::uint32_t id) const { return boolean_[id] != 0; }

  const Model& model_;
  std::size_t max_items_;
  bool collapse_;
  std::size_t kids_mark_ = 0;
  std::size_t building_ = 0;  // the node whose diagram is being built (for the message)
  std::vector<char> below_;
  std::vector<std::uint32_t> level_;                // by node: a variable's place in the order (shared skills, modules)
  std::vector<std::int64_t> built_;                 // by node: its diagram, or -1
  std::vector<std::int64_t> root_;                  // by node: a substituted module's own diagram, or -1
  std::vector<char> module_;                        // by node: a task that may be substituted (see above)
  std::vector<char> single_;                        // by node: every ancestor reaches it by one single use
  std::size_t substituted_ = 0;
  std::vector<char> boolean_;                       // by item: only decisions and constants below it
  std::vector<Item> items_;
  std::vector<std::uint32_t> kids_;
  KeyTable unique_;                                                                    // gate items by content
  KeyTable unique4_;                                                                   // the other items
  KeyTable computed_;                                                                  // apply(x, kids)
  std::unordered_map<std::uint32_t, std::uint32_t> rows_;  // row items by node
  // What a query added, for rollback().
  std::size_t unique_mark_ = 0, unique4_mark_ = 0, computed_mark_ = 0;
  std::vector<std::uint32_t> key_;  // scratch_key()
};

/// Modules of a directed acyclic graph (Dutuit & Rauzy 1996), in time
/// linear in its edges: node v's children are child[offset[v] ..
/// offset[v + 1]); the depth-first search starts from `roots` in turn (as
/// from one root above them all). Each node gets the date of its first
/// visit, of its exit (after its children) and of its last visit (a later
/// arrival through another parent); v is a module iff every descendant's
/// first and last visits fall strictly between v's first visit and its
/// exit, i.e. no path from outside v reaches below v. A leaf is a module;
/// a node no root reaches is not.
std::vector<char> find_modules(const std::vector<std::uint32_t>& offset, const std::vector<std::uint32_t>& child,
                               const std::vector<std::uint32_t>& roots);

/// The diagram of a whole model and which items each node's place in the
/// pass evaluates.
struct DiagramPlan {
  std::unique_ptr<Diagram> diagram;
  // Items by owner: the last node in topological order that an item reads
  // (a row, a gate's task, a decision's skill, or an owner of its kids), so
  // that an item is evaluated once its inputs are, at a node that every
  // cone containing it contains (evaluate() with `keep` runs cones only).
  std::vector<std::uint32_t> offset, owned;     // by node: owned[offset[v] .. offset[v + 1])
  // By node: owned[late[v] .. offset[v + 1]) read v's own exact ln P (v a
  // substituted module), so they run after v's diagram has given it.
  std::vector<std::uint32_t> late;
  std::vector<std::int64_t> root;               // by node: its diagram's root, or -1
  std::vector<std::uint32_t> var_slot;          // by node: a shared skill's row of ln(1 - p) in the scratch
  std::size_t vars = 0;
  /// Scratch doubles per point of a block: every item, every variable, and
  /// one staging row per node (a gate's kernel reads its uses by node).
  std::size_t rows_per_point() const { return diagram->size() + vars + root.size(); }
};

/// Builds the diagram for every node with a shared skill below; `cut` and
/// `modules` as for Diagram.
DiagramPlan plan_diagram(const Model& model, std::size_t max_items, const std::vector<std::uint8_t>* cut = nullptr,
                         bool modules = true);

/// At node v's place in the pass (rows by node, stride = row length, points
/// [0, len) of the block): evaluates v's items and, for a task, overwrites
/// its row with the exact ln P. `scratch` is resized as needed.
void eval_diagram(const Model& model, const DiagramPlan& plan, std::size_t v, double* rows, std::size_t stride,
                  std::size_t len, Workspace& ws, std::vector<double>& scratch);

/// Exact bottleneck measures of `task` at one point from the diagram
/// (docs/measures.md §6): ln P by node in `lp`; `partials(x, lp_by_position,
/// out)` gives ln dP_x/dP_c per use of task x (importance.cpp's local
/// partials), with lp_by_position indexed by evaluation position (detail::Program::pos). Writes,
/// by node, the Birnbaum measure and P_T with P_i := 1 for every node of
/// the cone (`cone`: node indices, T first).
struct DiagramImportance {
  std::vector<double> birnbaum, p_if_one;
};
using PartialsFn = std::function<void(std::size_t, const double*, std::vector<double>&)>;
DiagramImportance diagram_importance(const Model& model, std::size_t task, const std::vector<std::size_t>& cone,
                                     const std::vector<double>& lp, std::size_t max_items, const PartialsFn& partials);

}  // namespace capgraph::detail
