// capgraph/text/suggest.cpp — see suggest.hpp.
#include "text/suggest.hpp"

#include <algorithm>

namespace capgraph::text {

std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit) {
  const std::size_t la = a.size(), lb = b.size();
  if ((la > lb ? la - lb : lb - la) > limit) return limit + 1;
  // Three rolling rows: two back (for transpositions), previous, current.
  // Reused across calls: hints may compare one word with every id of a spec.
  thread_local std::vector<std::size_t> prev2, prev, cur;
  prev2.assign(lb + 1, 0);
  prev.assign(lb + 1, 0);
  cur.assign(lb + 1, 0);
  for (std::size_t j = 0; j <= lb; ++j) prev[j] = j;
  for (std::size_t i = 1; i <= la; ++i) {
    cur[0] = i;
    std::size_t row_min = cur[0];
    for (std::size_t j = 1; j <= lb; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      std::size_t d = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d = std::min(d, prev2[j - 2] + 1);
      cur[j] = d;
      row_min = std::min(row_min, d);
    }
    if (row_min > limit) return limit + 1;
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return std::min(prev[lb], limit + 1);
}

std::string_view closest_match(std::string_view word, const std::vector<std::string_view>& candidates) {
  constexpr std::size_t kLimit = 2;
  constexpr std::size_t kPrefixScore = kLimit + 1;  // a prefix ranks after any close spelling
  std::string_view best;
  std::size_t best_score = kPrefixScore + 1;
  for (std::string_view c : candidates) {
    if (c == word) continue;
    std::size_t score = edit_distance(word, c, kLimit);
    if (score > kLimit || score >= word.size()) {
      score = kPrefixScore + 1;
      const std::size_t shared = std::min(word.size(), c.size());
      if (shared >= 3 && word.substr(0, shared) == c.substr(0, shared)) score = kPrefixScore;
    }
    if (score < best_score) {
      best_score = score;
      best = c;
      if (score == 1) break;  // nothing closer than one edit besides equality
    }
  }
  return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view m = closest_match(word, candidates);
  if (m.empty()) return {};
  return "did you mean `" + std::string(m) + "`?";
}

}  // namespace capgraph::text
