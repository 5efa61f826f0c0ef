// CallOptions and EffectiveDeadline.
#include <chrono>

#include "atomix/call_options.h"
#include "gtest/gtest.h"

namespace atomix {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

const Clock::time_point kNow = Clock::time_point() + std::chrono::hours(1000);

TEST(EffectiveDeadline, FallbackWhenNothingSet) {
  EXPECT_EQ(internal::EffectiveDeadline({}, seconds(10), kNow), kNow + seconds(10));
}

TEST(EffectiveDeadline, TimeoutFromNow) {
  EXPECT_EQ(internal::EffectiveDeadline(WithTimeout(milliseconds(200)), seconds(10), kNow),
            kNow + milliseconds(200));
  // A timeout longer than the fallback still wins: the fallback is only a default.
  EXPECT_EQ(internal::EffectiveDeadline(WithTimeout(seconds(60)), seconds(10), kNow),
            kNow + seconds(60));
}

TEST(EffectiveDeadline, AbsoluteDeadline) {
  EXPECT_EQ(internal::EffectiveDeadline(WithDeadline(kNow + seconds(3)), seconds(10), kNow),
            kNow + seconds(3));
  // A deadline already past stays in the past.
  EXPECT_EQ(internal::EffectiveDeadline(WithDeadline(kNow - seconds(3)), seconds(10), kNow),
            kNow - seconds(3));
}

TEST(EffectiveDeadline, EarlierOfBoth) {
  CallOptions o;
  o.timeout = seconds(5);
  o.deadline = kNow + seconds(2);
  EXPECT_EQ(internal::EffectiveDeadline(o, seconds(10), kNow), kNow + seconds(2));
  o.deadline = kNow + seconds(8);
  EXPECT_EQ(internal::EffectiveDeadline(o, seconds(10), kNow), kNow + seconds(5));
}

TEST(EffectiveDeadline, HugeTimeoutSaturates) {
  EXPECT_EQ(
      internal::EffectiveDeadline(WithTimeout(std::chrono::nanoseconds::max()), seconds(10), kNow),
      Clock::time_point::max());
  EXPECT_EQ(internal::EffectiveDeadline({}, std::chrono::nanoseconds::max(), kNow),
            Clock::time_point::max());
}

TEST(EffectiveDeadline, DefaultNowIsTheSteadyClock) {
  const auto before = Clock::now();
  const auto d = internal::EffectiveDeadline(WithTimeout(seconds(1)), seconds(10));
  EXPECT_GE(d, before + seconds(1));
  EXPECT_LE(d, Clock::now() + seconds(1));
}

TEST(CallOptions, CancelToken) {
  std::stop_source s;
  CallOptions o = WithCancel(s.get_token());
  EXPECT_FALSE(o.cancel.stop_requested());
  s.request_stop();
  EXPECT_TRUE(o.cancel.stop_requested());
  EXPECT_FALSE(CallOptions{}.cancel.stop_possible());
}

}  // namespace
}  // namespace atomix
