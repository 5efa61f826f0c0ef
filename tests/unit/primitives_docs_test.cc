// docs/primitives.md, watch.md and async.md quote docs/examples/*.cc: every
// ```cpp block must appear verbatim in the example file named most recently
// before it, and every example must be quoted. Every example must be
// named by a doc.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

namespace fs = std::filesystem;

const fs::path kRoot = fs::path(__FILE__).parent_path().parent_path().parent_path();

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Checks every ```cpp block of docs/<name> and returns the examples quoted.
std::set<std::string> CheckQuotes(const std::string& name) {
  const fs::path doc = kRoot / "docs" / name;
  EXPECT_TRUE(fs::exists(doc)) << doc;
  std::istringstream lines(ReadFile(doc));
  std::string line;
  std::string source;  // the example named most recently
  std::set<std::string> quoted;
  int blocks = 0;
  int line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    for (size_t at = line.find("docs/examples/"); at != std::string::npos;
         at = line.find("docs/examples/", at + 1)) {
      size_t end = line.find(".cc", at);
      if (end != std::string::npos) source = line.substr(at, end + 3 - at);
    }
    if (line != "```cpp") continue;
    const int start = line_no;
    std::string block;
    while (std::getline(lines, line) && line != "```") {
      ++line_no;
      block += line + "\n";
    }
    ++line_no;
    ++blocks;
    if (source.empty()) {
      ADD_FAILURE() << "block at docs/" << name << ":" << start << " names no example";
      continue;
    }
    const fs::path file = kRoot / source;
    EXPECT_TRUE(fs::exists(file)) << file;
    EXPECT_NE(ReadFile(file).find(block), std::string::npos)
        << "the block at docs/" << name << ":" << start << " is not in " << source << ":\n"
        << block;
    quoted.insert(source);
  }
  EXPECT_GT(blocks, 0) << name;
  return quoted;
}

// Every example program is quoted by primitives.md, watch.md or async.md.
TEST(PrimitivesDocsTest, QuotesMatchTheExamples) {
  std::set<std::string> quoted = CheckQuotes("primitives.md");
  for (const char* doc : {"watch.md", "async.md"}) quoted.merge(CheckQuotes(doc));
  for (const auto& entry : fs::directory_iterator(kRoot / "docs" / "examples")) {
    if (entry.path().extension() != ".cc") continue;
    const std::string path = "docs/examples/" + entry.path().filename().string();
    EXPECT_TRUE(quoted.count(path)) << path << " is not quoted in docs/primitives.md";
  }
}

TEST(PrimitivesDocsTest, WatchQuotesMatchTheExample) {
  EXPECT_TRUE(CheckQuotes("watch.md").count("docs/examples/watch.cc"));
}

TEST(PrimitivesDocsTest, AsyncQuotesMatchTheExample) {
  EXPECT_TRUE(CheckQuotes("async.md").count("docs/examples/async.cc"));
}

// Every example program is at least named by some page under docs/.
TEST(PrimitivesDocsTest, EveryExampleIsReferenced) {
  std::string docs;
  for (const auto& entry : fs::directory_iterator(kRoot / "docs")) {
    if (entry.path().extension() == ".md") docs += ReadFile(entry.path());
  }
  for (const auto& entry : fs::directory_iterator(kRoot / "docs" / "examples")) {
    if (entry.path().extension() != ".cc") continue;
    const std::string name = "docs/examples/" + entry.path().filename().string();
    EXPECT_NE(docs.find(name), std::string::npos) << name << " is not named in docs/*.md";
  }
}

}  // namespace
