// tests/test_paths.hpp — where the tests find the source tree and the
// built binary. Defined in tests/paths.cpp, the one file compiled with
// the paths, so that the other test files do not depend on where the
// checkout lives.
#pragma once

namespace capgraph::test {
extern const char* const source_dir;  ///< the checkout's top folder
extern const char* const test_dir;    ///< tests/
extern const char* const exe;         ///< the built `capgraph` binary
}  // namespace capgraph::test
