// The bad-input corpus: every tests/bad/NAME.yaml must be rejected with
// exactly the lines of tests/bad/NAME.expected (each error line without
// the leading "file:", i.e. starting at "line:column: error:").
#include "test_paths.hpp"
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "specs/load.hpp"


namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<fs::path> corpus() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(capgraph::test::test_dir) / "bad")) {
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("specs: bad-input corpus", "[specs][bad]") {
  const std::vector<fs::path> files = corpus();
  REQUIRE(files.size() >= 40);
  for (const fs::path& yaml : files) {
    const std::string name = yaml.stem().string();
    DYNAMIC_SECTION(name) {
      fs::path expected_path = yaml;
      expected_path.replace_extension(".expected");
      REQUIRE(fs::exists(expected_path));
      const std::string expected = read_file(expected_path);

      const auto result = capgraph::specs::load_spec_file(yaml.string());
      CHECK_FALSE(result.ok());
      CHECK_FALSE(result.io_error);
      const std::string prefix = yaml.string() + ":";
      std::string actual;
      for (const auto& d : result.errors) {
        std::string line = d.to_string();
        if (line.rfind(prefix, 0) == 0) line.erase(0, prefix.size());
        actual += line + "\n";
      }
      CHECK(actual == expected);
    }
  }
}

TEST_CASE("specs: every corpus input has its expectation", "[specs][bad]") {
  for (const auto& e : fs::directory_iterator(fs::path(capgraph::test::test_dir) / "bad")) {
    fs::path other = e.path();
    if (e.path().extension() == ".yaml") {
      other.replace_extension(".expected");
    } else if (e.path().extension() == ".expected") {
      other.replace_extension(".yaml");
    } else {
      continue;
    }
    INFO(e.path().string());
    CHECK(fs::exists(other));
  }
}
