// capgraph/text/suggest.hpp — "did you mean" hints for misspelt names: used
// by the spec reader, the observation reader and the command line.
//
// A candidate is close to a word when their optimal-string-alignment
// (restricted Damerau-Levenshtein) distance is at most 2 and smaller than the
// word's length, or when one is a prefix of the other (at least 3 characters
// shared). The closest candidate wins; ties go to the earliest candidate, so
// hints are deterministic.
//
// Complexity: O(sum over candidates of min(|word| * |candidate|, cut-off));
// candidates whose lengths differ by more than 2 cost O(1) unless a prefix.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace capgraph::text {

/// Restricted Damerau-Levenshtein distance, or `limit + 1` once it is
/// known to exceed `limit`.
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit = 2);

/// The candidate closest to `word`, or an empty view if none is close.
std::string_view closest_match(std::string_view word, const std::vector<std::string_view>& candidates);

/// "did you mean `x`?" for the closest candidate, or "" if none is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace capgraph::text
