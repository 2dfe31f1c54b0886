// capgraph/specs/yaml_tree.hpp — a compact YAML tree with source positions.
//
// parse_yaml() reads one YAML document with libyaml's event parser (never a
// DOM per node) into a flat arena: one vector of YamlNode, one string pool
// for all scalar text, and one index array holding each container's children
// (filled when the container ends, so a container's children are contiguous).
// A mapping's children alternate key, value.
//
// It also guards what libyaml lets through or cannot see (see
// docs/decisions.md): invalid UTF-8 (checked first, for an exact position),
// more than one document, anchors and aliases (no expansion, so no
// "billion laughs"), nesting deeper than a limit, duplicate keys in any
// mapping, non-scalar keys, explicit tags, and an empty stream.
//
// Complexity: O(bytes) time; 20 bytes per YAML node plus the scalar
// text. Errors go to a Diagnostics sink; parse_yaml() returns false when
// the tree must not be read (duplicate keys and tags are reported but the
// tree stays readable: the repeated key is marked `ignored`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../graph/model_spec.hpp"
#include "diagnostics.hpp"

namespace capgraph::specs {

enum class YamlKind : std::uint8_t { null, scalar, map, seq };

struct YamlNode {
  std::uint32_t off = 0;  ///< scalar: offset of its text in the pool; container: first child in the index array
  std::uint32_t len = 0;  ///< scalar: length of its text; container: number of children (2 per pair)
  std::int32_t line = 0;    ///< 1-based
  std::int32_t column = 0;  ///< 1-based, in characters
  YamlKind kind = YamlKind::null;
  bool plain = false;    ///< scalar written unquoted and untagged: may be a number or boolean
  bool ignored = false;  ///< key of a duplicate or non-scalar key: readers skip the pair

  bool is_container() const { return kind == YamlKind::map || kind == YamlKind::seq; }
  /// Children of a container (2 per mapping pair); 0 for scalars and null.
  std::uint32_t count() const { return is_container() ? len : 0; }
};

class YamlTree {
 public:
  using Index = std::uint32_t;

  bool empty() const { return nodes_.empty(); }
  Index root() const { return 0; }
  std::size_t size() const { return nodes_.size(); }

  const YamlNode& operator[](Index i) const { return nodes_[i]; }
  std::string_view text(Index i) const {
    return nodes_[i].is_container() ? std::string_view() : std::string_view(pool_).substr(nodes_[i].off, nodes_[i].len);
  }
  SourceLoc loc(Index i) const { return {nodes_[i].line, nodes_[i].column}; }

  /// The i-th child of a container (for a mapping: 2p = key, 2p+1 = value).
  Index child(Index container, std::uint32_t i) const { return kids_[nodes_[container].off + i]; }

 private:
  friend class YamlTreeBuilder;
  std::vector<YamlNode> nodes_;
  std::string pool_;
  std::vector<Index> kids_;
};

struct YamlParseOptions {
  int max_depth = 64;
};

/// Parses `text` into `tree`. Returns false if the tree must not be read
/// (syntax error, several documents, aliases, too deep, empty stream,
/// invalid UTF-8); errors are reported to `diag` in every case.
bool parse_yaml(std::string_view text, const YamlParseOptions& options, YamlTree& tree, Diagnostics& diag);

}  // namespace capgraph::specs
