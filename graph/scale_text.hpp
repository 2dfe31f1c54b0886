// capgraph/graph/scale_text.hpp — scales as people write them.
//
// The one reader of scale values given as text (CLI options such as --at,
// --from, --params; the Python package's string arguments), so that "70B"
// means the same everywhere.
#pragma once

#include <optional>
#include <string_view>

namespace capgraph {

/// A scale as people write it: a positive finite number ("7e10", "1e24"),
/// or a plain decimal with one SI-style suffix, any case: K 1e3, M 1e6,
/// B or G 1e9, T 1e12, P 1e15 ("70B", "1.5T", "300M"). The suffix is read as
/// a decimal exponent ("1.5T" is parsed as "1.5e12", so the result is the
/// double nearest the value, not 1.5 * 1e12 rounded twice). nullopt for
/// anything else, including a suffix after an exponent ("1e3B"), zero,
/// negatives, infinities, NaN and surrounding spaces. O(length).
std::optional<double> parse_scale(std::string_view text);

}  // namespace capgraph
