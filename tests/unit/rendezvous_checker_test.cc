// The latch and barrier checkers accept correct histories and catch planted
// violations of each of their rules.
#include "tests/support/rendezvous_checker.h"

#include "gtest/gtest.h"

namespace atomix::testing {
namespace {

LatchChecker GoodLatch() {
  LatchChecker latch(3);
  latch.AddCountDown({"p1", 10, 20, 2});
  latch.AddCountDown({"p2", 15, 30, 1});
  latch.AddCountDown({"p3", 25, 40, 0});
  latch.AddAwait({"w1", 45});
  latch.AddAwait({"w2", 41});
  return latch;
}

TEST(LatchChecker, AcceptsACorrectHistory) {
  EXPECT_EQ(GoodLatch().Check(0), std::nullopt);
  // A killed process's count-down may or may not have been applied.
  LatchChecker latch(3);
  latch.AddCountDown({"p1", 10, 20, 2});
  latch.AddCountDown({"killed", 12, 0, -1});
  EXPECT_EQ(latch.Check(2), std::nullopt);
  EXPECT_EQ(latch.Check(1), std::nullopt);
}

TEST(LatchChecker, CatchesAnAwaitThatReturnedTooEarly) {
  LatchChecker latch = GoodLatch();
  latch.AddAwait({"early", 24});  // before p3 sent the last count-down
  EXPECT_EQ(latch.Check(0), "early's await returned when only 2 of 3 count-downs were sent");
}

TEST(LatchChecker, CatchesACountDownCountedTwice) {
  LatchChecker latch(3);
  latch.AddCountDown({"p1", 10, 20, 2});
  latch.AddCountDown({"p2", 15, 30, 2});
  EXPECT_NE(latch.Check(1), std::nullopt);
}

TEST(LatchChecker, CatchesALostOrDoubledCount) {
  LatchChecker latch(3);
  latch.AddCountDown({"p1", 10, 20, 2});
  latch.AddCountDown({"killed", 12, 0, -1});
  EXPECT_EQ(latch.Check(0),
            "final count 0 after 1 answered and 1 unanswered count-downs from 3");  // doubled
  EXPECT_NE(latch.Check(3), std::nullopt);  // an answered count-down lost
  latch.AddCountDown({"p3", 13, 21, 7});
  EXPECT_NE(latch.Check(1), std::nullopt);  // a count outside the range
}

BarrierChecker GoodBarrier() {
  BarrierChecker barrier(2);
  barrier.Add({"a", 0, 0, 10, 30});
  barrier.Add({"b", 0, 1, 20, 25});
  barrier.Add({"a", 1, 1, 40, 60});
  barrier.Add({"b", 1, 0, 35, 61});
  return barrier;
}

TEST(BarrierChecker, AcceptsACorrectHistory) {
  EXPECT_EQ(GoodBarrier().Check(), std::nullopt);
  EXPECT_EQ(GoodBarrier().generations(), 2u);
}

TEST(BarrierChecker, CatchesALeaveBeforeTheLastArrival) {
  BarrierChecker barrier(2);
  barrier.Add({"a", 0, 0, 10, 18});  // left before b arrived
  barrier.Add({"b", 0, 1, 20, 25});
  EXPECT_EQ(barrier.Check(), "generation 0: a left at 18 before b arrived at 20");
}

TEST(BarrierChecker, CatchesMissingOrRepeatedArrivals) {
  BarrierChecker missing = GoodBarrier();
  missing.Add({"c", 2, 0, 70, 80});
  EXPECT_EQ(missing.Check(), "generation 2 has 1 passes, not 2");
  BarrierChecker repeated(2);
  repeated.Add({"a", 0, 1, 10, 30});
  repeated.Add({"b", 0, 1, 20, 25});
  EXPECT_NE(repeated.Check(), std::nullopt);
  BarrierChecker extra = GoodBarrier();
  extra.Add({"c", 1, 2, 36, 62});
  EXPECT_NE(extra.Check(), std::nullopt);
}

}  // namespace
}  // namespace atomix::testing
