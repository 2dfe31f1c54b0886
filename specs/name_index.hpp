// capgraph/specs/name_index.hpp — a flat hash index from names to numbers.
//
// Used for the two lookups that scale with a spec's size: duplicate keys in
// big mappings (yaml_tree.cpp) and ids -> node indices (spec_reader.cpp).
// Open addressing with linear probing over one array of (view, hash, value)
// slots: no allocation per entry, unlike std::unordered_map, which made
// these lookups a sixth of the load time of a 100,000-node spec.
//
// Names are views: their storage must outlive the index. Insert-only.
// Complexity: O(1) expected per insert/find; 24 bytes per slot, load <= 1/2.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace capgraph::specs {

class NameIndex {
 public:
  explicit NameIndex(std::size_t expected = 0) { rehash(capacity_for(expected)); }

  /// Adds name -> value unless the name is present. Returns the value stored
  /// for the name and whether this call inserted it.
  std::pair<std::uint32_t, bool> insert(std::string_view name, std::uint32_t value) {
    if (2 * (size_ + 1) > slots_.size()) rehash(2 * slots_.size());
    const std::uint32_t h = hash(name);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (!s.used) {
        s = Slot{name, h, value, true};
        ++size_;
        return {value, true};
      }
      if (s.hash == h && s.name == name) return {s.value, false};
    }
  }

  std::optional<std::uint32_t> find(std::string_view name) const {
    const std::uint32_t h = hash(name);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (!s.used) return std::nullopt;
      if (s.hash == h && s.name == name) return s.value;
    }
  }

  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::string_view name;
    std::uint32_t hash = 0;
    std::uint32_t value = 0;
    bool used = false;
  };

  static std::uint32_t hash(std::string_view s) {
    return static_cast<std::uint32_t>(std::hash<std::string_view>{}(s));
  }
  static std::size_t capacity_for(std::size_t n) {
    std::size_t c = 16;
    while (c < 2 * n) c *= 2;
    return c;
  }
  void rehash(std::size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (const Slot& s : old) {
      if (!s.used) continue;
      std::size_t i = s.hash & mask_;
      while (slots_[i].used) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace capgraph::specs
