// capgraph/graph/bdd.cpp — the decision diagram over shared skills (bdd.hpp,
// docs/measures.md §4).
#include "graph/bdd.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>

#include "graph/curve_eval.hpp"
#include "graph/detail/program.hpp"
#include "graph/simd/vmath.hpp"

namespace capgraph::detail {

namespace {
constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr std::uint32_t kNoLevel = std::numeric_limits<std::uint32_t>::max();
// Tags that keep the unique table's keys of different kinds apart (a key
// is the tag, then the item's fields; a node index never reaches them).
constexpr std::uint32_t kTagDecision = 0xFFFFFFF0u, kTagTangent = 0xFFFFFFF2u,
                        kTagJoin = 0xFFFFFFF3u;
}  // namespace

std::uint64_t Diagram::KeyTable::hash(const std::uint32_t* key, std::size_t len) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ len;
  for (std::size_t i = 0; i < len; ++i) {
    h ^= key[i] + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h *= 0xBF58476D1CE4E5B9ull;
  }
  return h ^ (h >> 31);
}

// A slot holds the key's hash (high half) and the entry's index + 1 (low
// half; 0: empty), so most probes that miss read one word.
const std::uint32_t* Diagram::KeyTable::find(const std::uint32_t* key, std::size_t len) const {
  if (slots_.empty()) return nullptr;
  const std::uint64_t h = hash(key, len);
  const std::size_t m = slots_.size() - 1;
  const std::uint64_t tag = h & ~std::uint64_t{0xFFFFFFFF};
  for (std::size_t s = h & m;; s = (s + 1) & m) {
    const std::uint64_t slot = slots_[s];
    if (slot == 0) return nullptr;
    if ((slot & ~std::uint64_t{0xFFFFFFFF}) != tag) continue;
    const std::uint32_t* a = arena_.data() + entries_[(slot & 0xFFFFFFFF) - 1];
    if (a[1] == len && std::equal(key, key + len, a + 2)) return a;
  }
}

void Diagram::KeyTable::place(std::uint64_t h, std::uint32_t entry) {
  const std::size_t m = slots_.size() - 1;
  std::size_t s = h & m;
  while (slots_[s] != 0) s = (s + 1) & m;
  slots_[s] = (h & ~std::uint64_t{0xFFFFFFFF}) | (entry + 1);
}

void Diagram::KeyTable::insert(const std::uint32_t* key, std::size_t len, std::uint32_t value) {
  if (2 * (entries_.size() + 1) > slots_.size()) grow();
  entries_.push_back(static_cast<std::uint32_t>(arena_.size()));
  arena_.push_back(value);
  arena_.push_back(static_cast<std::uint32_t>(len));
  arena_.insert(arena_.end(), key, key + len);
  place(hash(key, len), static_cast<std::uint32_t>(entries_.size() - 1));
}

std::size_t Diagram::KeyTable::slot_of(std::uint32_t entry) const {
  const std::uint32_t* a = arena_.data() + entries_[entry];
  const std::size_t m = slots_.size() - 1;
  std::size_t s = hash(a + 2, a[1]) & m;
  while ((slots_[s] & 0xFFFFFFFF) != entry + 1) s = (s + 1) & m;
  return s;
}

void Diagram::KeyTable::grow() {
  slots_.assign(std::max<std::size_t>(64, slots_.size() * 2), 0);
  for (std::size_t e = 0; e < entries_.size(); ++e) {  // in arena order (see rollback)
    const std::uint32_t* a = arena_.data() + entries_[e];
    place(hash(a + 2, a[1]), static_cast<std::uint32_t>(e));
  }
}

void Diagram::KeyTable::rollback(std::size_t mark) {
  while (entries_.size() > mark) {
    const auto e = static_cast<std::uint32_t>(entries_.size() - 1);
    slots_[slot_of(e)] = 0;
    arena_.resize(entries_[e]);
    entries_.pop_back();
  }
}

std::uint32_t Diagram::unique4(const Key4& key, Item item) {
  if (const std::uint32_t* hit = unique4_.find(key.data(), key.size())) return hit[0];
  const std::uint32_t id = add(item);
  unique4_.insert(key.data(), key.size(), id);
  return id;
}

Diagram::Diagram(const Model& model, std::size_t max_items, bool collapse, const std::vector<std::uint8_t>* cut,
                 bool modules)
    : model_(model), max_items_(std::max<std::size_t>(max_items, 2)), collapse_(collapse) {
  const std::size_t n = model.size();
  below_.assign(n, 0);
  level_.assign(n, kNoLevel);
  built_.assign(n, -1);
  root_.assign(n, -1);
  module_.assign(n, 0);
  single_.assign(n, 0);
  const auto& order = model.topological_order();
  for (const std::size_t v : order) {
    const NodeSpec& node = model.node(v);
    if (cut && (*cut)[v]) continue;  // a task evaluated as a (non-shared) skill: its row
    if (!node.is_task) {
      below_[v] = node.shared;
      continue;
    }
    for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) below_[v] |= below_[model.use_child(u)];
  }
  if (modules) find_substitutable();
  std::uint32_t next = 0;
  for (const std::size_t v : order)
    if ((below_[v] && !model.node(v).is_task) || module_[v]) level_[v] = next++;
  items_.push_back({Kind::constant, 0, 0, 0});  // kFalse
  items_.push_back({Kind::constant, 1, 0, 0});  // kTrue
  boolean_.assign(2, 1);
}

// The modules among the tasks with a shared skill below (module_), on the
// graph of those nodes alone: a node without one is a value whatever uses
// it, so it joins nothing. single_: a node used by one parent, once (a
// `best_of n` counts n; a `mean` is affine in each child whatever its
// weight), whose parent is single too or used by nothing.
void Diagram::find_substitutable() {
  const std::size_t n = model_.size();
  const auto& order = model_.topological_order();
  std::vector<std::uint32_t> offset(n + 1, 0), child, roots, uses(n, 0), parent(n, 0);
  std::vector<double> times(n, 0.0);
  for (std::size_t v = 0; v < n; ++v) {
    offset[v + 1] = offset[v];
    if (!below_[v] || !model_.node(v).is_task) continue;
    const NodeSpec& node = model_.node(v);
    for (std::size_t u = model_.use_begin(v); u < model_.use_end(v); ++u) {
      const std::size_t c = model_.use_child(u);
      if (!below_[c]) continue;
      child.push_back(static_cast<std::uint32_t>(c));
      ++offset[v + 1];
      ++uses[c];
      parent[c] = static_cast<std::uint32_t>(v);
      times[c] += node.gate == GateKind::best_of ? node.best_n : node.gate == GateKind::mean ? 1.0 : model_.use_count(u);
    }
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const std::size_t v = *it;
    if (!below_[v]) continue;
    if (uses[v] == 0) {
      roots.push_back(static_cast<std::uint32_t>(v));
      single_[v] = 1;
    } else {
      single_[v] = uses[v] == 1 && times[v] == 1.0 && single_[parent[v]];
    }
  }
  const std::vector<char> module = find_modules(offset, child, roots);
  for (std::size_t v = 0; v < n; ++v) module_[v] = module[v] && below_[v] && model_.node(v).is_task && uses[v] > 0;
}

std::vector<char> find_modules(const std::vector<std::uint32_t>& offset, const std::vector<std::uint32_t>& child,
                               const std::vector<std::uint32_t>& roots) {
  const std::size_t n = offset.size() - 1;
  std::vector<std::uint64_t> first(n, 0), exit(n, 0), last(n, 0);  // dates; 0: not visited
  std::vector<std::uint32_t> post;                                  // nodes in order of exit
  post.reserve(n);
  std::uint64_t clock = 0;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> stack;  // node, next child
  auto arrive = [&](std::uint32_t v) {
    if (first[v]) {
      last[v] = ++clock;  // a later visit through another parent
      return;
    }
    first[v] = ++clock;
    stack.emplace_back(v, offset[v]);
  };
  for (const std::uint32_t r : roots) {
    arrive(r);
    while (!stack.empty()) {
      auto& [v, next] = stack.back();
      if (next < offset[v + 1]) {
        const std::uint32_t c = child[next++];
        arrive(c);  // may grow the stack: v and next are not used after
        continue;
      }
      exit[v] = last[v] = ++clock;
      post.push_back(v);
      stack.pop_back();
    }
  }
  // Earliest first visit and latest last visit among each node's descendants.
  constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
  std::vector<std::uint64_t> lo(n, kNever), hi(n, 0);
  std::vector<char> module(n, 0);
  for (const std::uint32_t v : post) {
    for (std::uint32_t i = offset[v]; i < offset[v + 1]; ++i) {
      const std::uint32_t c = child[i];
      lo[v] = std::min({lo[v], first[c], lo[c]});
      hi[v] = std::max({hi[v], last[c], hi[c]});
    }
    module[v] = first[v] < lo[v] && hi[v] < exit[v];
  }
  return module;
}

void Diagram::too_large(std::size_t task) const {
  throw ModelError("exact evaluation of shared skills is too costly: the decision diagram of `" + model_.node(task).id +
                       "` would exceed " + std::to_string(max_items_) +
                       " nodes (--max-bdd-nodes); estimate it with --monte-carlo N instead, or raise the limit",
                   model_.node(task).loc);
}

std::uint32_t Diagram::add(Item item) {
  if (items_.size() >= max_items_) too_large(building_);
  boolean_.push_back(item.kind == Kind::decision && boolean_[item.a] && boolean_[item.b]);
  items_.push_back(item);
  return static_cast<std::uint32_t>(items_.size() - 1);
}

std::uint32_t Diagram::level(std::uint32_t id) const {
  for (;;) {
    const Item& it = items_[id];
    if (it.kind == Kind::decision) return level_[it.node];
    if (it.kind != Kind::join) return kNoLevel;
    id = it.b;
  }
}

// A product (op 0) or union (op 1) of a terminal f and a diagram `rest`:
// f does not depend on the outcomes `rest` tests, so over them the mean is
// f * mean(rest), or 1 - (1 - f)(1 - mean(rest)), and cofactors pass
// through to `rest`. This keeps a finished use of an `all`/`any` out of the
// expansion of the others (apply), so that tasks whose shared skills come
// one after the other in the order give a diagram linear in their number,
// not one item per combination of the finished uses' values.
std::uint32_t Diagram::join(std::uint32_t op, std::uint32_t f, std::uint32_t rest) {
  const std::uint32_t unit = op == 0 ? kTrue : kFalse, zero = op == 0 ? kFalse : kTrue;
  if (f == zero || rest == zero) return zero;
  if (f == unit) return rest;
  if (rest == unit) return f;
  return unique4({kTagJoin, op, f, rest}, {Kind::join, op, f, rest});
}

std::pair<std::uint32_t, std::uint32_t> Diagram::cofactors(std::uint32_t id) {
  const Item it = items_[id];
  if (it.kind == Kind::decision) return {it.a, it.b};
  const auto [lo, hi] = cofactors(it.b);  // a join
  return {join(it.node, it.a, lo), join(it.node, it.a, hi)};
}

std::uint32_t Diagram::decision(std::uint32_t var, std::uint32_t lo, std::uint32_t hi) {
  if (lo == hi) return lo;  // reduction: the test does not matter
  return unique4({kTagDecision, var, lo, hi}, {Kind::decision, var, lo, hi});
}

std::uint32_t Diagram::row(std::size_t c) {
  const auto it = rows_.find(static_cast<std::uint32_t>(c));
  if (it != rows_.end()) return it->second;
  const std::uint32_t id = add({Kind::row, static_cast<std::uint32_t>(c), 0, 0});
  rows_.emplace(static_cast<std::uint32_t>(c), id);
  return id;
}

std::uint32_t Diagram::tangent(std::uint32_t inner) {
  return unique4({kTagTangent, inner, 0, 0}, {Kind::tangent, inner, 0, 0});
}

std::uint32_t Diagram::var_of(std::uint32_t id) const {
  while (items_[id].kind == Kind::join) id = items_[id].b;
  return items_[id].node;
}

// Every terminal of `id` as a tangent item; joins over decisions are
// expanded so that each terminal is the task's whole value there.
std::uint32_t Diagram::wrap(std::uint32_t id, std::unordered_map<std::uint32_t, std::uint32_t>& memo) {
  const auto it = memo.find(id);
  if (it != memo.end()) return it->second;
  std::uint32_t r;
  if (level(id) == kNoLevel) {
    r = tangent(id);
  } else {
    const auto [lo, hi] = cofactors(id);
    r = decision(var_of(id), wrap(lo, memo), wrap(hi, memo));
  }
  memo.emplace(id, r);
  return r;
}

// Whether constants already decide task x's value given its uses'
// terminals (kids, one per use): 1 or 0, or -1. With a guess g only a sure
// success decides (g + (1 - g) * 0 = g is no constant).
int Diagram::fold(std::size_t x, const std::vector<std::uint32_t>& kids) const {
  const NodeSpec& node = model_.node(x);
  const bool no_guess = node.guess == 0;
  const std::size_t ub = model_.use_begin(x);
  double sure = 0, possible = 0, total = 0;
  for (std::size_t i = 0; i < kids.size(); ++i) {
    const double n = model_.use_count(ub + i);
    total += n;
    if (kids[i] == kTrue) sure += n;
    if (kids[i] != kFalse) possible += n;
  }
  switch (node.gate) {
    case GateKind::all:
      if (possible < total) return no_guess ? 0 : -1;
      return sure == total ? 1 : -1;
    case GateKind::any:
      if (sure > 0) return 1;
      return possible == 0 && no_guess ? 0 : -1;
    case GateKind::at_least:
      if (sure >= node.k) return 1;
      return possible < node.k && no_guess ? 0 : -1;
    case GateKind::best_of:
    case GateKind::mean:
      if (sure == total) return 1;
      return possible == 0 && no_guess ? 0 : -1;
  }
  return -1;
}

std::uint32_t* Diagram::scratch_key(std::size_t x, const std::vector<std::uint32_t>& kids) {
  key_.resize(kids.size() + 1);
  key_[0] = static_cast<std::uint32_t>(x);
  std::copy(kids.begin(), kids.end(), key_.begin() + 1);
  return key_.data();
}

std::uint32_t Diagram::gate(std::size_t x, const std::vector<std::uint32_t>& kids) {
  const NodeSpec& node = model_.node(x);
  if (collapse_ && kids.size() == 1 && node.guess == 0 && model_.use_count(model_.use_begin(x)) == 1 &&
      (node.gate == GateKind::all || node.gate == GateKind::any || node.gate == GateKind::mean ||
       (node.gate == GateKind::at_least && node.k == 1)))
    return kids[0];
  if (const std::uint32_t* hit = unique_.find(scratch_key(x, kids), kids.size() + 1)) return hit[0];
  const auto a = static_cast<std::uint32_t>(kids_.size());
  kids_.insert(kids_.end(), kids.begin(), kids.end());
  const std::uint32_t id = add({Kind::gate, static_cast<std::uint32_t>(x), a, static_cast<std::uint32_t>(kids_.size())});
  unique_.insert(key_.data(), kids.size() + 1, id);  // add() leaves key_ alone
  return id;
}

// Task x over its uses' diagrams: Shannon's expansion on the first shared
// skill in the order that any of them tests, until every use is a terminal.
std::uint32_t Diagram::apply(std::size_t x, const std::vector<std::uint32_t>& kids) {
  if (const int f = fold(x, kids); f >= 0) return static_cast<std::uint32_t>(f);
  std::uint32_t top = kNoLevel;
  for (const std::uint32_t k : kids) top = std::min(top, level(k));
  if (top == kNoLevel) return gate(x, kids);
  const NodeSpec& node = model_.node(x);
  if (node.guess == 0 && (node.gate == GateKind::all || node.gate == GateKind::any)) {
    // Finished uses (terminals) out of the expansion of the others: x =
    // f (x) rest, f = x's gate over the finished uses, rest over the others
    // (each with the gate's unit in the other places).
    const std::uint32_t unit = node.gate == GateKind::all ? kTrue : kFalse;
    std::vector<std::uint32_t> done(kids.size(), unit), open(kids.size(), unit);
    bool any_done = false;
    for (std::size_t i = 0; i < kids.size(); ++i) {
      if (level(kids[i]) == kNoLevel) {
        done[i] = kids[i];
        any_done = any_done || kids[i] != unit;
      } else {
        open[i] = kids[i];
      }
    }
    if (any_done) {
      const std::uint32_t f = apply(x, done);
      return join(node.gate == GateKind::all ? 0 : 1, f, apply(x, open));
    }
  }
  if (const std::uint32_t* hit = computed_.find(scratch_key(x, kids), kids.size() + 1)) return hit[0];
  std::uint32_t var = 0;
  std::vector<std::uint32_t> lo(kids), hi(kids);
  for (std::size_t i = 0; i < kids.size(); ++i)
    if (level(kids[i]) == top) {
      var = var_of(kids[i]);
      std::tie(lo[i], hi[i]) = cofactors(kids[i]);
    }
  const std::uint32_t l = apply(x, lo);
  const std::uint32_t h = apply(x, hi);
  const std::uint32_t r = decision(var, l, h);
  computed_.insert(scratch_key(x, kids), kids.size() + 1, r);
  return r;
}

std::uint32_t Diagram::build(std::size_t v) {
  if (built_[v] >= 0) return static_cast<std::uint32_t>(built_[v]);
  std::uint32_t r;
  const NodeSpec& node = model_.node(v);
  if (!below_[v]) {
    r = row(v);
  } else if (!node.is_task) {
    building_ = v;
    r = decision(static_cast<std::uint32_t>(v), kFalse, kTrue);
  } else {
    std::vector<std::uint32_t> kids;
    kids.reserve(model_.use_end(v) - model_.use_begin(v));
    for (std::size_t u = model_.use_begin(v); u < model_.use_end(v); ++u) kids.push_back(build(model_.use_child(u)));
    building_ = v;
    r = apply(v, kids);
    // A module enters its users' diagrams as one variable or one value
    // (bdd.hpp); a constant stays a constant.
    if (module_[v] && r != kFalse && r != kTrue && (boolean(r) || single_[v])) {
      root_[v] = r;
      r = boolean(r) ? decision(static_cast<std::uint32_t>(v), kFalse, kTrue) : row(v);
      ++substituted_;
    }
  }
  built_[v] = r;
  return r;
}

std::uint32_t Diagram::build_replaced(std::size_t v, std::size_t target, bool forced, const std::vector<char>& ancestor) {
  std::unordered_map<std::uint32_t, std::uint32_t> memo, wrapped;
  std::function<std::uint32_t(std::size_t)> rec = [&](std::size_t u) -> std::uint32_t {
    if (u == target) return forced ? kTrue : wrap(build(u), wrapped);
    if (!ancestor[u]) return build(u);
    if (const auto it = memo.find(static_cast<std::uint32_t>(u)); it != memo.end()) return it->second;
    std::vector<std::uint32_t> kids;
    for (std::size_t w = model_.use_begin(u); w < model_.use_end(u); ++w) kids.push_back(rec(model_.use_child(w)));
    building_ = u;
    const std::uint32_t r = apply(u, kids);
    memo.emplace(static_cast<std::uint32_t>(u), r);
    return r;
  };
  return rec(v);
}

std::size_t Diagram::checkpoint() {
  kids_mark_ = kids_.size();
  unique_mark_ = unique_.mark();
  unique4_mark_ = unique4_.mark();
  computed_mark_ = computed_.mark();
  return items_.size();
}

void Diagram::rollback(std::size_t mark) {
  for (std::size_t id = mark; id < items_.size(); ++id)
    if (items_[id].kind == Kind::row) rows_.erase(items_[id].node);
  unique_.rollback(unique_mark_);
  unique4_.rollback(unique4_mark_);
  computed_.rollback(computed_mark_);
  items_.resize(mark);
  boolean_.resize(mark);
  kids_.resize(kids_mark_);
}

// ---- evaluation over a block of points --------------------------------------

DiagramPlan plan_diagram(const Model& model, std::size_t max_items, const std::vector<std::uint8_t>* cut,
                         bool modules) {
  const std::size_t n = model.size();
  DiagramPlan plan;
  plan.diagram = std::make_unique<Diagram>(model, max_items, true, cut, modules);
  Diagram& d = *plan.diagram;
  plan.root.assign(n, -1);
  plan.var_slot.assign(n, 0);
  for (const std::size_t v : model.topological_order()) {
    if (!d.has_shared_below(v)) continue;
    d.build(v);
    plan.root[v] = d.root(v);
    if (!model.node(v).is_task || d.is_variable(v)) plan.var_slot[v] = static_cast<std::uint32_t>(plan.vars++);
  }
  // Owners (see DiagramPlan), by topological position; kids before items.
  // Late: the item reads a substituted module's own row (its variable or
  // value) at the module's place, before the module has its exact ln P.
  const auto& items = d.items();
  const auto& pos = detail::program(model).pos;
  std::vector<std::uint32_t> owner(items.size(), 0);
  std::vector<char> late(items.size(), 0);
  for (std::size_t id = 2; id < items.size(); ++id) {
    const Diagram::Item& it = items[id];
    std::uint32_t o = it.kind == Diagram::Kind::join ? 0 : static_cast<std::uint32_t>(pos[it.node]);
    const bool reads_module = (it.kind == Diagram::Kind::decision || it.kind == Diagram::Kind::row) &&
                              model.node(it.node).is_task && d.has_shared_below(it.node);
    if (it.kind == Diagram::Kind::decision || it.kind == Diagram::Kind::join) {
      o = std::max({o, owner[it.a], owner[it.b]});
      late[id] = (late[it.a] && owner[it.a] == o) || (late[it.b] && owner[it.b] == o);
    }
    late[id] = late[id] || (reads_module && o == pos[it.node]);
    owner[id] = o;
  }
  const auto& order = model.topological_order();
  plan.offset.assign(n + 1, 0);
  plan.late.assign(n, 0);
  for (std::size_t id = 2; id < items.size(); ++id) {
    ++plan.offset[order[owner[id]] + 1];
    if (!late[id]) ++plan.late[order[owner[id]]];
  }
  for (std::size_t v = 0; v < n; ++v) plan.offset[v + 1] += plan.offset[v];
  for (std::size_t v = 0; v < n; ++v) plan.late[v] += plan.offset[v];
  plan.owned.resize(plan.offset[n]);
  std::vector<std::uint32_t> fill(plan.offset.begin(), plan.offset.end() - 1), fill_late(plan.late);
  for (std::size_t id = 2; id < items.size(); ++id) {
    const std::size_t v = order[owner[id]];
    plan.owned[late[id] ? fill_late[v]++ : fill[v]++] = static_cast<std::uint32_t>(id);
  }
  return plan;
}

void eval_diagram(const Model& model, const DiagramPlan& plan, std::size_t v, double* rows, std::size_t stride,
                  std::size_t len, Workspace& ws, std::vector<double>& scratch) {
  const Diagram& d = *plan.diagram;
  const std::size_t nitems = d.size();
  const std::size_t need = plan.rows_per_point() * stride;
  if (scratch.size() < need) scratch.resize(need);
  if (ws.acc.size() < len) ws.acc.resize(len);
  if (ws.tmp.size() < len) ws.tmp.resize(len);
  double* S = scratch.data();
  auto val = [&](std::size_t id) { return S + id * stride; };
  double* l1m_base = S + nitems * stride;
  double* stage = S + (nitems + plan.vars) * stride;  // by node, read by eval_task
  std::fill(val(Diagram::kFalse), val(Diagram::kFalse) + len, kNegInf);
  std::fill(val(Diagram::kTrue), val(Diagram::kTrue) + len, 0.0);
  const NodeSpec& node = model.node(v);
  if (!node.is_task && node.shared) vmath::log1mexp(rows + v * stride, l1m_base + plan.var_slot[v] * stride, len);
  const auto& items = d.items();
  const auto& kids = d.kids();
  auto run = [&](std::size_t from, std::size_t to) {
    for (std::size_t k = from; k < to; ++k) {
      const std::size_t id = plan.owned[k];
      const Diagram::Item& it = items[id];
      double* out = val(id);
      switch (it.kind) {
        case Diagram::Kind::row: std::copy(rows + std::size_t{it.node} * stride, rows + std::size_t{it.node} * stride + len, out); break;
        case Diagram::Kind::decision: {
          const double* lp = rows + std::size_t{it.node} * stride;
          const double* l1m = l1m_base + plan.var_slot[it.node] * stride;
          const double* lo = val(it.a);
          const double* hi = val(it.b);
          double* t1 = ws.acc.data();
          double* t2 = ws.tmp.data();
          for (std::size_t j = 0; j < len; ++j) {
            t1[j] = lp[j] + hi[j];
            t2[j] = l1m[j] + lo[j];
          }
          vmath::logaddexp(t1, t2, out, len);
          for (std::size_t j = 0; j < len; ++j) out[j] = std::min(out[j], 0.0);
          break;
        }
        case Diagram::Kind::gate: {
          const std::size_t ub = model.use_begin(it.node);
          for (std::size_t i = 0; i < it.b - it.a; ++i) {
            const double* src = val(kids[it.a + i]);
            std::copy(src, src + len, stage + model.use_child(ub + i) * stride);
          }
          eval_task(model, it.node, stage, stride, out, 0, len, ws);
          break;
        }
        case Diagram::Kind::join: {
          const double* f = val(it.a);
          const double* r = val(it.b);
          if (it.node == 0) {
            for (std::size_t j = 0; j < len; ++j) out[j] = f[j] + r[j];
          } else {  // ln(F + (1 - F) R): no 1 - x cancellation where F and R are tiny
            double* t1 = ws.acc.data();
            vmath::log1mexp(f, t1, len);
            for (std::size_t j = 0; j < len; ++j) t1[j] += r[j];
            vmath::logaddexp(f, t1, out, len);
            for (std::size_t j = 0; j < len; ++j) out[j] = std::min(out[j], 0.0);
          }
          break;
        }
        case Diagram::Kind::constant:
        case Diagram::Kind::tangent: break;
      }
    }
  };
  run(plan.offset[v], plan.late[v]);
  if (node.is_task && plan.root[v] >= 0) {
    const double* r = val(static_cast<std::size_t>(plan.root[v]));
    std::copy(r, r + len, rows + v * stride);
    if (d.is_variable(v)) vmath::log1mexp(rows + v * stride, l1m_base + plan.var_slot[v] * stride, len);
  }
  run(plan.late[v], plan.offset[v + 1]);
}

// ---- bottleneck measures ----------------------------------------------------

namespace {

// The state the importance passes share: T's diagram over the cone, ln P by
// item at the point, and the scratch rows a gate item's kernel reads.
struct ImportancePass {
  const Model& model;
  const std::vector<double>& lp;
  const PartialsFn& partials;
  Diagram d;
  Workspace ws;
  std::vector<double> stage, stage_pos, part;
  std::vector<double> val;     // ln P by item
  std::vector<double> d1, d2;  // tangents along P(i|a) += 1 and += 1 - P(i|a)

  ImportancePass(const Model& m, const std::vector<double>& lp_, std::size_t max_items, const PartialsFn& p)
      : model(m), lp(lp_), partials(p), d(m, max_items, /*collapse=*/false), stage(m.size(), 0.0), stage_pos(m.size(), 0.0) {}

  // Evaluates items [from, size) at the point.
  void evaluate_items(std::size_t from) {
    const auto& items = d.items();
    val.resize(items.size());
    for (std::size_t id = from; id < items.size(); ++id) {
      const Diagram::Item& it = items[id];
      switch (it.kind) {
        case Diagram::Kind::constant: val[id] = it.node ? 0.0 : kNegInf; break;
        case Diagram::Kind::row: val[id] = lp[it.node]; break;
        case Diagram::Kind::tangent: val[id] = val[it.node]; break;
        case Diagram::Kind::join:
          val[id] = it.node == 0 ? val[it.a] + val[it.b]
                                 : std::min(0.0, logaddexp(val[it.a], log1mexp(val[it.a]) + val[it.b]));
          break;
        case Diagram::Kind::decision: {
          const double l = lp[it.node];
          val[id] = std::min(0.0, logaddexp(l + val[it.b], log1mexp(l) + val[it.a]));
          break;
        }
        case Diagram::Kind::gate: {
          const std::size_t ub = model.use_begin(it.node);
          for (std::size_t i = 0; i < it.b - it.a; ++i) stage[model.use_child(ub + i)] = val[d.kids()[it.a + i]];
          eval_task(model, it.node, stage.data(), 1, &val[id], 0, 1, ws);
          break;
        }
      }
    }
  }

  // ln dP_x/dP_c per use of gate item `it`, at its terminals' values, into part.
  void gate_partials(const Diagram::Item& it) {
    const std::size_t ub = model.use_begin(it.node);
    for (std::size_t i = 0; i < it.b - it.a; ++i)
      stage_pos[detail::program(model).pos[model.use_child(ub + i)]] = val[d.kids()[it.a + i]];
    partials(it.node, stage_pos.data(), part);
  }

  // Adjoint over the items (linear: every weight is a probability or a
  // local partial): decisions give the shared skills' B = P(T|s=1) -
  // P(T|s=0); rows seed the part of the cone that shares nothing.
  void reverse(std::uint32_t root, std::vector<double>& birnbaum) {
    const auto& items = d.items();
    std::vector<double> adj(items.size(), 0.0);
    adj[root] = 1;
    for (std::size_t id = items.size(); id-- > 2;) {
      const double a = adj[id];
      if (a == 0) continue;
      const Diagram::Item& it = items[id];
      switch (it.kind) {
        case Diagram::Kind::decision: {
          const double p = std::exp(lp[it.node]);
          adj[it.b] += p * a;
          adj[it.a] += (1 - p) * a;
          const double b = a * (std::exp(val[it.b]) - std::exp(val[it.a]));
          birnbaum[it.node] += b;
          // A module's variable: P_T is linear in its P, and the chain rule
          // goes on into the module's own diagram.
          if (model.node(it.node).is_task) adj[d.root(it.node)] += b;
          break;
        }
        case Diagram::Kind::gate:
          gate_partials(it);
          for (std::size_t i = 0; i < it.b - it.a; ++i) adj[d.kids()[it.a + i]] += a * std::exp(part[i]);
          break;
        case Diagram::Kind::row:
          if (d.has_shared_below(it.node)) adj[d.root(it.node)] += a;  // a module's value: on into its diagram
          else birnbaum[it.node] += a;
          break;
        case Diagram::Kind::join: {
          const double f = std::exp(val[it.a]), r = std::exp(val[it.b]);
          adj[it.a] += a * (it.node == 0 ? r : 1 - r);
          adj[it.b] += a * (it.node == 0 ? f : 1 - f);
          break;
        }
        default: break;
      }
    }
  }

  // The part without shared skills: the ordinary chain rule, parents first.
  void chain_rule(const std::vector<std::size_t>& down, const std::vector<std::size_t>& cone, std::vector<double>& birnbaum) {
    std::vector<double> lp_pos(model.size(), 0.0);
    for (const std::size_t v : cone) lp_pos[detail::program(model).pos[v]] = lp[v];
    for (const std::size_t v : down) {
      if (d.has_shared_below(v) || !model.node(v).is_task || birnbaum[v] == 0) continue;
      partials(v, lp_pos.data(), part);
      for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u)
        birnbaum[model.use_child(u)] += birnbaum[v] * std::exp(part[u - model.use_begin(v)]);
    }
  }

  // B_i (and, with one use, IP_i) of a node with a shared skill below, by
  // forward derivatives through T's diagram rebuilt with i's ancestors
  // (`ancestor`) new: tangent items start them.
  void forward(std::size_t task, std::size_t i, const std::vector<char>& ancestor, bool one_use, double p_task,
               DiagramImportance& out) {
    const std::size_t mark = d.checkpoint();
    const std::uint32_t r = d.build_replaced(task, i, false, ancestor);
    evaluate_items(mark);
    const auto& items = d.items();
    d1.resize(items.size(), 0.0);  // zero below mark: the items there do not move
    d2.resize(items.size(), 0.0);
    for (std::size_t id = mark; id < items.size(); ++id) {
      const Diagram::Item& it = items[id];
      if (it.kind == Diagram::Kind::tangent) {
        d1[id] = 1;
        d2[id] = -std::expm1(val[it.node]);
      } else if (it.kind == Diagram::Kind::decision) {
        const double p = std::exp(lp[it.node]);
        d1[id] = p * d1[it.b] + (1 - p) * d1[it.a];
        d2[id] = p * d2[it.b] + (1 - p) * d2[it.a];
      } else if (it.kind == Diagram::Kind::join) {
        const double pf = std::exp(val[it.a]), pr = std::exp(val[it.b]);
        const double wf = it.node == 0 ? pr : 1 - pr, wr = it.node == 0 ? pf : 1 - pf;
        d1[id] = wf * d1[it.a] + wr * d1[it.b];
        d2[id] = wf * d2[it.a] + wr * d2[it.b];
      } else if (it.kind == Diagram::Kind::gate) {
        bool moves = false;
        for (std::size_t k = it.a; k < it.b && !moves; ++k) moves = d1[d.kids()[k]] != 0 || d2[d.kids()[k]] != 0;
        if (!moves) continue;
        gate_partials(it);
        for (std::size_t k = 0; k < it.b - it.a; ++k) {
          const double w = std::exp(part[k]);
          d1[id] += w * d1[d.kids()[it.a + k]];
          d2[id] += w * d2[d.kids()[it.a + k]];
        }
      }
    }
    out.birnbaum[i] = std::max(0.0, d1[r]);
    if (one_use) out.p_if_one[i] = p_task + std::max(0.0, d2[r]);
    d1.resize(mark);
    d2.resize(mark);
    d.rollback(mark);
  }

  // P_T with P_i := 1 by evaluating T's diagram rebuilt with i forced.
  double forced(std::size_t task, std::size_t i, const std::vector<char>& ancestor) {
    const std::size_t mark = d.checkpoint();
    const std::uint32_t r = d.build_replaced(task, i, true, ancestor);
    evaluate_items(mark);
    const double p = std::exp(val[r]);
    d.rollback(mark);
    return p;
  }
};

// Uses of every node in one instance of T (docs/measures.md §6); `down`:
// the cone, parents first.
std::vector<double> uses_per_instance(const Model& model, std::size_t task, const std::vector<std::size_t>& down) {
  std::vector<double> uses(model.size(), 0.0);
  uses[task] = 1;
  for (const std::size_t v : down) {
    const NodeSpec& node = model.node(v);
    if (!node.is_task) continue;
    for (std::size_t u = model.use_begin(v); u < model.use_end(v); ++u) {
      const double times = node.gate == GateKind::best_of ? node.best_n : node.gate == GateKind::mean ? 1.0 : model.use_count(u);
      uses[model.use_child(u)] += uses[v] * times;
    }
  }
  return uses;
}

// Marks in `ancestor` the nodes of `up` (children first) that reach i.
void mark_ancestors(const Model& model, const std::vector<std::size_t>& up, std::size_t i, std::vector<char>& ancestor) {
  for (const std::size_t v : up) {
    if (v == i) continue;
    bool mark = false;
    for (std::size_t u = model.use_begin(v); u < model.use_end(v) && !mark; ++u) {
      const std::size_t c = model.use_child(u);
      mark = c == i || ancestor[c];
    }
    ancestor[v] = mark;
  }
}

}  // namespace

// Phases: build T's diagram, evaluate it, the reverse pass (shared skills,
// then the chain rule below), then per node the shortcut, forward tangents
// or a rebuild with the node forced.
DiagramImportance diagram_importance(const Model& model, std::size_t task, const std::vector<std::size_t>& cone,
                                     const std::vector<double>& lp, std::size_t max_items, const PartialsFn& partials) {
  const std::size_t n = model.size();
  ImportancePass pass(model, lp, max_items, partials);
  Diagram& d = pass.d;
  std::vector<std::size_t> up(cone);  // children first
  std::sort(up.begin(), up.end(), [&](std::size_t a, std::size_t b) { return detail::program(model).pos[a] < detail::program(model).pos[b]; });
  for (const std::size_t v : up) d.build(v);
  d.build(task);
  const std::uint32_t root = d.root(task);

  pass.evaluate_items(0);
  const double p_task = std::exp(pass.val[root]);

  DiagramImportance out;
  out.birnbaum.assign(n, 0.0);
  out.p_if_one.assign(n, -1.0);
  pass.reverse(root, out.birnbaum);
  const std::vector<std::size_t> down(up.rbegin(), up.rend());
  pass.chain_rule(down, cone, out.birnbaum);
  const std::vector<double> uses = uses_per_instance(model, task, down);

  // The rest by rebuilding T's diagram with one node replaced: the shared
  // sub-diagrams are reused, only the node's ancestors are new.
  std::vector<char> ancestor(n, 0);
  for (const std::size_t i : cone) {
    if (i == task) continue;
    const NodeSpec& node = model.node(i);
    if (!node.is_task && node.shared) {
      out.p_if_one[i] = p_task + -std::expm1(lp[i]) * out.birnbaum[i];
      continue;
    }
    const bool affected = d.has_shared_below(i);
    if (!affected && uses[i] == 1.0) {
      out.p_if_one[i] = p_task + -std::expm1(lp[i]) * out.birnbaum[i];
      continue;
    }
    mark_ancestors(model, up, i, ancestor);
    if (affected) pass.forward(task, i, ancestor, uses[i] == 1.0, p_task, out);
    if (out.p_if_one[i] < 0) out.p_if_one[i] = pass.forced(task, i, ancestor);
    for (const std::size_t v : up) ancestor[v] = 0;
  }
  return out;
}

}  // namespace capgraph::detail
