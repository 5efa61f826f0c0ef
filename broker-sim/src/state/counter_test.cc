// CounterState: the pure counter state machine, driven with a fixed logical
// time and no store.
#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/counter.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::StateDriver;

constexpr int kOk = 0;
constexpr int kFailedPrecondition = 9;
constexpr int kOutOfRange = 11;
constexpr int kInvalidArgument = 3;

TEST(BrokerCounter, StartsAtZeroVersionZero) {
  StateDriver counter(v1::COUNTER, "jobs");
  v1::Response r = counter.Apply("counter { get {} }");
  EXPECT_FALSE(r.has_error());
  EXPECT_EQ(r.counter().value(), 0);
  EXPECT_EQ(r.counter().version(), 0);
  EXPECT_EQ(r.revision(), 0);
  EXPECT_FALSE(counter.last_mutated());
}

TEST(BrokerCounter, EveryWriteTakesTheNextRevision) {
  StateDriver counter(v1::COUNTER, "jobs");
  v1::Response r = counter.Apply("counter { add { delta: 5 } }");
  EXPECT_EQ(r.counter().value(), 5);
  EXPECT_EQ(r.counter().version(), 1);
  EXPECT_EQ(r.revision(), 1);

  r = counter.Apply("counter { add { delta: -7 } }");
  EXPECT_EQ(r.counter().value(), -2);
  EXPECT_EQ(r.counter().version(), 2);

  r = counter.Apply("counter { set { value: 40 } }");
  EXPECT_EQ(r.counter().value(), 40);
  EXPECT_EQ(r.counter().version(), 3);

  r = counter.Apply("counter { compare_and_set { expect: 40 update: 41 } }");
  EXPECT_FALSE(r.has_error());
  EXPECT_EQ(r.counter().value(), 41);
  EXPECT_EQ(r.counter().version(), 4);

  // Add(0) and Set to the current value are writes too.
  r = counter.Apply("counter { add { delta: 0 } }");
  EXPECT_EQ(r.counter().version(), 5);
  r = counter.Apply("counter { set { value: 41 } }");
  EXPECT_EQ(r.counter().version(), 6);

  r = counter.Apply("counter { get {} }");
  EXPECT_EQ(r.counter().value(), 41);
  EXPECT_EQ(r.counter().version(), 6);
  EXPECT_EQ(r.revision(), 6);
}

TEST(BrokerCounter, CompareAndSetMismatchReportsCurrentValue) {
  StateDriver counter(v1::COUNTER, "jobs");
  counter.Apply("counter { set { value: 5 } }");
  v1::Response r =
      counter.Apply("counter { compare_and_set { expect: 3 update: 9 } }");
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(), "counter \"jobs\": expected 3, current value is 5");
  ASSERT_TRUE(r.error().has_current());
  EXPECT_EQ(r.error().current(), 5);
  EXPECT_FALSE(r.has_counter());
  EXPECT_FALSE(counter.last_mutated());
  EXPECT_EQ(r.revision(), 1);

  auto& state = static_cast<CounterState&>(counter.machine());
  EXPECT_EQ(state.value(), 5);
  EXPECT_EQ(state.version(), 1);
}

TEST(BrokerCounter, OverflowIsOutOfRangeAndChangesNothing) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  StateDriver counter(v1::COUNTER, "jobs");
  counter.Apply(absl::StrCat("counter { set { value: ", kMax, " } }"));

  v1::Response r = counter.Apply("counter { add { delta: 1 } }");
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code(), kOutOfRange);
  EXPECT_EQ(r.error().message(),
            "counter \"jobs\": adding 1 to 9223372036854775807 overflows int64");
  EXPECT_FALSE(r.error().has_current());
  EXPECT_FALSE(counter.last_mutated());
  EXPECT_EQ(r.revision(), 1);

  counter.Apply(absl::StrCat("counter { set { value: ", kMin, " } }"));
  r = counter.Apply("counter { add { delta: -1 } }");
  EXPECT_EQ(r.error().code(), kOutOfRange);
  EXPECT_FALSE(counter.last_mutated());

  r = counter.Apply("counter { get {} }");
  EXPECT_EQ(r.counter().value(), kMin);
  EXPECT_EQ(r.counter().version(), 2);

  // The extremes themselves are reachable.
  r = counter.Apply(absl::StrCat("counter { add { delta: ", kMax, " } }"));
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.counter().value(), -1);
}

TEST(BrokerCounter, RejectsForeignOrMissingOperations) {
  StateDriver counter(v1::COUNTER, "jobs");
  v1::Response r = counter.Apply("map { size {} }");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  r = counter.Apply("counter {}");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(counter.revision(), 0);
}

TEST(BrokerCounter, DescribeShowsTheValue) {
  StateDriver counter(v1::COUNTER, "jobs");
  EXPECT_EQ(counter.Describe().summary(), "0");
  counter.Apply("counter { add { delta: 42 } }");
  const v1::PrimitiveInfo info = counter.Describe();
  EXPECT_EQ(info.summary(), "42");
  EXPECT_EQ(info.holders_size(), 0);
  EXPECT_EQ(info.waiters_size(), 0);
  EXPECT_EQ(info.name(), "");  // left to the caller
  counter.Apply("counter { set { value: -7 } }");
  EXPECT_EQ(counter.Describe().summary(), "-7");
}

}  // namespace
}  // namespace atomix::broker
