// tests/paths.cpp — the paths of tests/test_paths.hpp, set by CMake.
#include "test_paths.hpp"

namespace capgraph::test {
const char* const source_dir = CAPGRAPH_SOURCE_DIR;
const char* const test_dir = CAPGRAPH_TEST_DIR;
const char* const exe = CAPGRAPH_EXE;
}  // namespace capgraph::test
