// The hold checker catches planted violations and passes safe histories.
#include "tests/support/hold_checker.h"

#include <gtest/gtest.h>

namespace atomix::testing {
namespace {

Hold H(std::string holder, int64_t start, int64_t end, int64_t amount = 1,
       bool exclusive = false, std::string resource = "r") {
  return Hold{std::move(resource), std::move(holder), start, end, amount, exclusive, 0};
}

TEST(HoldChecker, PassesHoldsWithinCapacity) {
  HoldChecker checker(3);
  checker.Add(H("a", 0, 10, 2));
  checker.Add(H("b", 5, 15, 1));
  checker.Add(H("c", 10, 20, 2));  // starts as a ends: touching is fine
  EXPECT_EQ(checker.Check(), std::nullopt);
}

TEST(HoldChecker, CatchesTooManyPermits) {
  HoldChecker checker(3);
  checker.Add(H("a", 0, 10, 2));
  checker.Add(H("b", 5, 15, 2));
  auto v = checker.Check();
  ASSERT_TRUE(v.has_value());
  EXPECT_NE(v->find("4 held at once (capacity 3)"), std::string::npos) << *v;
}

TEST(HoldChecker, PassesReadersTogetherAndWritersAlone) {
  HoldChecker checker;
  checker.Add(H("r1", 0, 10));
  checker.Add(H("r2", 2, 8));
  checker.Add(H("w", 10, 20, 1, true));
  checker.Add(H("r3", 20, 30));
  EXPECT_EQ(checker.Check(), std::nullopt);
}

TEST(HoldChecker, CatchesAWriterAlongsideAReader) {
  HoldChecker checker;
  checker.Add(H("r1", 0, 10));
  checker.Add(H("w", 9, 20, 1, true));
  auto v = checker.Check();
  ASSERT_TRUE(v.has_value());
  EXPECT_NE(v->find("exclusive r hold of w"), std::string::npos) << *v;
}

TEST(HoldChecker, CatchesAReaderInsideAWriter) {
  HoldChecker checker;
  checker.Add(H("w", 0, 10, 1, true));
  checker.Add(H("r", 3, 4));
  ASSERT_TRUE(checker.Check().has_value());
}

TEST(HoldChecker, CatchesTwoTakersOfOneItemButNotOfTwo) {
  HoldChecker checker;
  checker.Add(H("t1", 0, 10, 1, true, "item-1"));
  checker.Add(H("t2", 0, 10, 1, true, "item-2"));
  EXPECT_EQ(checker.Check(), std::nullopt);
  checker.Add(H("t3", 5, 6, 1, true, "item-1"));
  ASSERT_TRUE(checker.Check().has_value());
}

TEST(HoldChecker, CatchesAHoldThatEndsBeforeItStarts) {
  HoldChecker checker;
  checker.Add(H("a", 10, 5));
  ASSERT_TRUE(checker.Check().has_value());
}

}  // namespace
}  // namespace atomix::testing
