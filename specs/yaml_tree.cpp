// capgraph/specs/yaml_tree.cpp — see yaml_tree.hpp.
#include "specs/yaml_tree.hpp"

#include "specs/input_text.hpp"
#include "specs/name_index.hpp"

#include <yaml.h>

#include <cstdio>
#include <limits>
#include <string>

namespace capgraph::specs {

static_assert(sizeof(YamlNode) == 20, "the tree's memory estimate in docs/decisions.md");

namespace {

/// An upper estimate of the YAML nodes in `text`: every mapping pair has a
/// ':' (key and value: 2 nodes), every list item a '-' or ',' or opening
/// bracket. Characters inside scalars only make it larger.
std::size_t estimate_node_count(std::string_view text) {
  std::size_t colons = 0, items = 0;
  for (char c : text) {
    colons += c == ':';
    items += c == '-' || c == ',' || c == '[' || c == '{';
  }
  return 2 * colons + items + 16;
}

bool is_null_text(std::string_view t) {
  return t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL";
}

SourceLoc loc_of(const yaml_mark_t& m) {
  return {static_cast<int>(m.line) + 1, static_cast<int>(m.column) + 1};
}

/// The byte at 0-based (line, column in characters), or '\0' past the end.
char char_at(std::string_view text, std::size_t line, std::size_t column) {
  std::size_t i = 0;
  for (std::size_t l = 0; l < line && i < text.size(); ++i) {
    if (text[i] == '\n') ++l;
  }
  for (std::size_t c = 0; i < text.size() && text[i] != '\n'; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (c++ == column) return text[i];
  }
  return '\0';
}

}  // namespace


/// Turns the event stream into a YamlTree; one instance per parse.
class YamlTreeBuilder {
 public:
  using Index = YamlTree::Index;

  YamlTreeBuilder(std::string_view text, const YamlParseOptions& options, YamlTree& tree, Diagnostics& diag)
      : text_(text), options_(options), tree_(tree), diag_(diag) {}

  bool run();

 private:
  struct Frame {
    Index node;
    std::size_t pending_begin;
  };

  Index add(YamlKind kind, const yaml_mark_t& mark);
  void close_container();
  void check_keys(std::size_t begin, std::size_t end);
  void report_syntax_error(const yaml_parser_t& parser);
  bool check_anchor_and_tag(const yaml_char_t* anchor, const yaml_char_t* tag, const yaml_mark_t& mark);

  std::string_view text_;
  const YamlParseOptions& options_;
  YamlTree& tree_;
  Diagnostics& diag_;
  std::vector<Frame> stack_;
  std::vector<Index> pending_;  ///< children of the open containers, innermost last
  bool readable_ = true;
};

YamlTreeBuilder::Index YamlTreeBuilder::add(YamlKind kind, const yaml_mark_t& mark) {
  const auto index = static_cast<Index>(tree_.nodes_.size());
  YamlNode n;
  n.kind = kind;
  n.line = static_cast<std::int32_t>(mark.line) + 1;
  n.column = static_cast<std::int32_t>(mark.column) + 1;
  tree_.nodes_.push_back(n);
  if (!stack_.empty()) pending_.push_back(index);
  return index;
}

void YamlTreeBuilder::close_container() {
  const Frame f = stack_.back();
  stack_.pop_back();
  YamlNode& n = tree_.nodes_[f.node];
  n.off = static_cast<std::uint32_t>(tree_.kids_.size());
  n.len = static_cast<std::uint32_t>(pending_.size() - f.pending_begin);
  if (n.kind == YamlKind::map) check_keys(f.pending_begin, pending_.size());
  tree_.kids_.insert(tree_.kids_.end(), pending_.begin() + static_cast<std::ptrdiff_t>(f.pending_begin),
                     pending_.end());
  pending_.resize(f.pending_begin);
}

// libyaml accepts duplicate keys (YAML forbids them); a later value would
// silently win in most loaders, so report each repeat and ignore it.
void YamlTreeBuilder::check_keys(std::size_t begin, std::size_t end) {
  auto& nodes = tree_.nodes_;
  const std::size_t pairs = (end - begin) / 2;
  auto key_at = [&](std::size_t p) { return pending_[begin + 2 * p]; };
  auto report = [&](Index dup, Index first) {
    nodes[dup].ignored = true;
    diag_.error(tree_.loc(dup),
                "duplicate key `" + std::string(tree_.text(dup)) + "` (first at line " +
                    std::to_string(nodes[first].line) + ")");
  };
  for (std::size_t p = 0; p < pairs; ++p) {
    const Index k = key_at(p);
    if (nodes[k].kind == YamlKind::map || nodes[k].kind == YamlKind::seq) {
      nodes[k].ignored = true;
      diag_.error(tree_.loc(k), "a mapping key must be a scalar, not a " +
                                    std::string(nodes[k].kind == YamlKind::map ? "mapping" : "list"));
    }
  }
  if (pairs <= 16) {
    for (std::size_t p = 1; p < pairs; ++p) {
      const Index k = key_at(p);
      if (nodes[k].ignored) continue;
      for (std::size_t q = 0; q < p; ++q) {
        const Index j = key_at(q);
        if (!nodes[j].ignored && tree_.text(j) == tree_.text(k)) {
          report(k, j);
          break;
        }
      }
    }
    return;
  }
  NameIndex seen(pairs);
  for (std::size_t p = 0; p < pairs; ++p) {
    const Index k = key_at(p);
    if (nodes[k].ignored) continue;
    auto [first, inserted] = seen.insert(tree_.text(k), k);
    if (!inserted) report(k, first);
  }
}

bool YamlTreeBuilder::check_anchor_and_tag(const yaml_char_t* anchor, const yaml_char_t* tag,
                                           const yaml_mark_t& mark) {
  if (anchor != nullptr) {
    diag_.error(loc_of(mark), "anchors and aliases are not supported", "write the value out in full");
    readable_ = false;
  }
  if (tag != nullptr) {
    diag_.error(loc_of(mark),
                "YAML tags are not supported (`" + std::string(reinterpret_cast<const char*>(tag)) + "`)",
                "quote a value to make it a string");
    return true;
  }
  return false;
}

void YamlTreeBuilder::report_syntax_error(const yaml_parser_t& parser) {
  if (parser.error == YAML_MEMORY_ERROR) {
    diag_.error(1, 1, "out of memory while reading YAML");
    return;
  }
  SourceLoc at = parser.error == YAML_READER_ERROR ? position_of_offset(text_, parser.problem_offset)
                                                   : loc_of(parser.problem_mark);
  std::string message = parser.problem != nullptr ? parser.problem : "invalid YAML";
  if (parser.error == YAML_READER_ERROR && parser.problem_value != -1) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " (#x%X)", static_cast<unsigned>(parser.problem_value));
    message += buf;
  }
  std::string hint;
  if (parser.error == YAML_SCANNER_ERROR &&
      char_at(text_, parser.problem_mark.line, parser.problem_mark.column) == '\t') {
    hint = "indent with spaces; YAML does not allow tabs there";
  }
  if (parser.context != nullptr && parser.problem_mark.index >= text_.size()) {
    // Something left open until the end of the file (a quote, a bracket):
    // the place to fix is where it opened, not the end.
    const SourceLoc end = at;
    at = loc_of(parser.context_mark);
    const bool quote = std::string_view(parser.context).find("quoted scalar") != std::string_view::npos;
    message = quote ? "quoted string never closed" : std::string(parser.context).substr(6) + " never closed";
    hint = "the end of the file (line " + std::to_string(end.line) + ") came first" +
           (quote ? "; end the string with the same quote it starts with" : "");
  } else if (parser.context != nullptr) {
    message += ' ';
    message += parser.context;
    const SourceLoc from = loc_of(parser.context_mark);
    if (hint.empty() && from.line != at.line) {
      hint = "started at line " + std::to_string(from.line) + ", column " + std::to_string(from.column);
    }
  }
  diag_.error(at, std::move(message), std::move(hint));
}

bool YamlTreeBuilder::run() {
  if (text_.size() >= std::numeric_limits<std::uint32_t>::max()) {
    diag_.error(1, 1, "spec is too large for the YAML reader (4 GiB or more)");
    return false;
  }
  if (const std::size_t bad = first_invalid_utf8(text_); bad != std::string_view::npos) {
    diag_.error(position_of_offset(text_, bad), invalid_utf8_message(text_, bad), "a spec must be UTF-8 text");
    return false;
  }

  // Growing the arrays by doubling would copy them and touch twice the pages
  // (page faults dominate on large specs): reserve an estimate up front.
  const std::size_t estimate = estimate_node_count(text_);
  tree_.nodes_.reserve(estimate);
  tree_.kids_.reserve(estimate);
  tree_.pool_.reserve(text_.size() + 1);

  yaml_parser_t parser;
  if (yaml_parser_initialize(&parser) == 0) {
    diag_.error(1, 1, "out of memory while reading YAML");
    return false;
  }
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text_.data()), text_.size());

  int documents = 0;
  bool done = false;
  while (!done) {
    yaml_event_t ev;
    if (yaml_parser_parse(&parser, &ev) == 0) {
      report_syntax_error(parser);
      readable_ = false;
      break;
    }
    switch (ev.type) {
      case YAML_DOCUMENT_START_EVENT:
        if (++documents > 1) {
          diag_.error(loc_of(ev.start_mark), "more than one YAML document", "a spec is exactly one document");
          readable_ = false;
          done = true;
        }
        break;
      case YAML_STREAM_END_EVENT:
        done = true;
        break;
      case YAML_ALIAS_EVENT:
        diag_.error(loc_of(ev.start_mark), "anchors and aliases are not supported", "write the value out in full");
        readable_ = false;
        add(YamlKind::null, ev.start_mark);
        break;
      case YAML_SCALAR_EVENT: {
        const auto& s = ev.data.scalar;
        const bool tagged = check_anchor_and_tag(s.anchor, s.tag, ev.start_mark);
        const std::string_view value(reinterpret_cast<const char*>(s.value), s.length);
        const bool plain = !tagged && s.style == YAML_PLAIN_SCALAR_STYLE;
        const Index i = add(plain && is_null_text(value) ? YamlKind::null : YamlKind::scalar, ev.start_mark);
        YamlNode& n = tree_.nodes_[i];
        n.plain = plain;
        n.off = static_cast<std::uint32_t>(tree_.pool_.size());
        n.len = static_cast<std::uint32_t>(value.size());
        tree_.pool_.append(value);
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        const bool is_map = ev.type == YAML_MAPPING_START_EVENT;
        if (is_map) {
          check_anchor_and_tag(ev.data.mapping_start.anchor, ev.data.mapping_start.tag, ev.start_mark);
        } else {
          check_anchor_and_tag(ev.data.sequence_start.anchor, ev.data.sequence_start.tag, ev.start_mark);
        }
        if (static_cast<int>(stack_.size()) + 1 > options_.max_depth) {
          diag_.error(loc_of(ev.start_mark), "nesting deeper than " + std::to_string(options_.max_depth) + " levels",
                      "a spec needs at most 6 levels; check the indentation and brackets");
          readable_ = false;
          done = true;
          break;
        }
        const Index i = add(is_map ? YamlKind::map : YamlKind::seq, ev.start_mark);
        stack_.push_back({i, pending_.size()});
        break;
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        close_container();
        break;
      default:
        break;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&parser);

  if (readable_ && (tree_.nodes_.empty() || tree_.nodes_[0].kind == YamlKind::null)) {
    diag_.error(1, 1, "empty spec", "a spec starts with `capgraph: 1` and `name:`");
    readable_ = false;
  }
  return readable_;
}

bool parse_yaml(std::string_view text, const YamlParseOptions& options, YamlTree& tree, Diagnostics& diag) {
  YamlTreeBuilder builder(text, options, tree, diag);
  return builder.run();
}

}  // namespace capgraph::specs
