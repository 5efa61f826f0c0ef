// StreamRange: paging, early end, and termination after an error.
#include <string>
#include <vector>

#include "atomix/stream_range.h"
#include "gtest/gtest.h"

namespace atomix {
namespace {

// Serves 0..total-1 in pages of `page_size`, failing on page `fail_page`.
StreamRange<int> Numbers(int total, int page_size, int* fetches, int fail_page = -1) {
  auto next = std::make_shared<int>(0);
  return StreamRange<int>([=](std::vector<int>& page, bool& more) -> absl::Status {
    const int index = (*fetches)++;
    if (index == fail_page) return absl::UnavailableError("broker gone");
    for (int i = 0; i < page_size && *next < total; ++i) page.push_back((*next)++);
    more = *next < total;
    return absl::OkStatus();
  });
}

TEST(StreamRange, YieldsEveryItemAcrossPages) {
  int fetches = 0;
  std::vector<int> seen;
  for (const absl::StatusOr<int>& v : Numbers(10, 3, &fetches)) {
    ASSERT_TRUE(v.ok());
    seen.push_back(*v);
  }
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(fetches, 4);
}

TEST(StreamRange, FetchesLazily) {
  int fetches = 0;
  auto range = Numbers(10, 3, &fetches);
  EXPECT_EQ(fetches, 0);
  auto it = range.begin();
  EXPECT_EQ(fetches, 1);
  EXPECT_EQ(**it, 0);
  ++it;
  ++it;
  EXPECT_EQ(fetches, 1);
  ++it;
  EXPECT_EQ(fetches, 2);
  EXPECT_EQ(**it, 3);
}

TEST(StreamRange, EmptyRange) {
  int fetches = 0;
  auto range = Numbers(0, 3, &fetches);
  EXPECT_TRUE(range.begin() == range.end());
  EXPECT_EQ(fetches, 1);
}

TEST(StreamRange, EmptyPagesWithMoreAreSkipped) {
  int calls = 0;
  StreamRange<int> range([&](std::vector<int>& page, bool& more) {
    ++calls;
    if (calls == 3) page.push_back(7);
    more = calls < 4;
    return absl::OkStatus();
  });
  std::vector<int> seen;
  for (auto& v : range) seen.push_back(*v);
  EXPECT_EQ(seen, std::vector<int>{7});
  EXPECT_EQ(calls, 4);
}

TEST(StreamRange, EndsWithTheErrorAfterItemsSoFar) {
  int fetches = 0;
  std::vector<int> seen;
  absl::Status error;
  int items = 0;
  for (const absl::StatusOr<int>& v : Numbers(10, 3, &fetches, /*fail_page=*/2)) {
    ++items;
    if (!v.ok()) {
      error = v.status();
      continue;  // The range must end by itself after an error.
    }
    seen.push_back(*v);
  }
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(absl::IsUnavailable(error)) << error;
  EXPECT_EQ(items, 7);
  EXPECT_EQ(fetches, 3);
}

TEST(StreamRange, ErrorOnFirstPage) {
  int fetches = 0;
  auto range = Numbers(10, 3, &fetches, /*fail_page=*/0);
  auto it = range.begin();
  ASSERT_FALSE(it == range.end());
  EXPECT_FALSE(it->ok());
  ++it;
  EXPECT_TRUE(it == range.end());
}

TEST(StreamRange, MoveOnlyItems) {
  StreamRange<std::unique_ptr<std::string>> range(
      [](std::vector<std::unique_ptr<std::string>>& page, bool& more) {
        page.push_back(std::make_unique<std::string>("x"));
        more = false;
        return absl::OkStatus();
      });
  int n = 0;
  for (auto& v : range) {
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(**v, "x");
    ++n;
  }
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace atomix
