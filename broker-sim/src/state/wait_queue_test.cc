// WaitQueue: arrival order, deadlines, session aborts, cancels and loading a
// saved queue. No clock: times are logical.
#include "broker-sim/src/state/wait_queue.h"

#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

constexpr absl::Time kStart = absl::FromUnixSeconds(1000);

class WaitQueueTest : public ::testing::Test {
 protected:
  // Queues a request of `session` with token `token` and `timeout_ms`.
  uint64_t Add(uint64_t token, uint64_t session, int64_t timeout_ms = 0) {
    v1::Request request =
        testing::MakeRequest(v1::LOCK, "l", "lock { acquire {} }", token);
    request.set_session_id(session);
    request.set_timeout_ms(timeout_ms);
    ApplyContext ctx{.revision = 1, .now = kStart, .limits = limits_, .token = token};
    return queue_.Add(request, ctx, /*amount=*/static_cast<int64_t>(token));
  }

  Limits limits_;
  WaitQueue queue_;
};

TEST_F(WaitQueueTest, KeepsArrivalOrderAndRemovesByOrder) {
  const uint64_t first = Add(10, 1);
  const uint64_t second = Add(11, 2);
  Add(12, 1);
  EXPECT_EQ(queue_.size(), 3u);
  EXPECT_EQ(queue_.front().token, 10u);
  EXPECT_EQ(queue_.Remove(first).amount, 10);
  EXPECT_EQ(queue_.front().order, second);
  EXPECT_EQ(queue_.Remove(12345).token, 0u);  // unknown: nothing
  EXPECT_EQ(queue_.size(), 2u);
}

TEST_F(WaitQueueTest, AbortsOnlyTheEndedSessionsWaiters) {
  Add(10, 1);
  Add(11, 2);
  Add(12, 1);
  EXPECT_TRUE(queue_.Waits(1));
  EXPECT_EQ(queue_.OrdersOf(1).size(), 2u);
  ApplyResult result;
  EXPECT_TRUE(queue_.AbortSession(1, "gone", result));
  ASSERT_EQ(result.answers.size(), 2u);
  EXPECT_EQ(result.answers[0].token, 10u);
  EXPECT_EQ(result.answers[1].token, 12u);
  EXPECT_EQ(result.answers[0].response.error().code(), 10);  // ABORTED
  EXPECT_EQ(result.answers[0].response.error().message(), "gone");
  EXPECT_FALSE(queue_.Waits(1));
  EXPECT_EQ(queue_.size(), 1u);
  EXPECT_FALSE(queue_.AbortSession(1, "again", result));
}

TEST_F(WaitQueueTest, ExpiresInDeadlineOrderOnlyWhenDue) {
  Add(10, 1, 500);
  Add(11, 2, 100);
  Add(12, 3);  // no deadline
  EXPECT_EQ(queue_.NextDeadline(), kStart + absl::Milliseconds(100));
  ApplyResult result;
  EXPECT_FALSE(queue_.ExpireOne(kStart + absl::Milliseconds(99), "late", result));
  auto expired = queue_.ExpireOne(kStart + absl::Milliseconds(600), "late", result);
  ASSERT_TRUE(expired.has_value());
  EXPECT_EQ(expired->token, 11u);
  EXPECT_EQ(result.answers[0].response.error().code(), 4);  // DEADLINE_EXCEEDED
  expired = queue_.ExpireOne(kStart + absl::Milliseconds(600), "late", result);
  ASSERT_TRUE(expired.has_value());
  EXPECT_EQ(expired->token, 10u);
  EXPECT_EQ(queue_.NextDeadline(), absl::InfiniteFuture());
}

TEST_F(WaitQueueTest, CancelForgetsWithoutAnswering) {
  Add(10, 1, 100);
  EXPECT_TRUE(queue_.Cancel(10));
  EXPECT_FALSE(queue_.Cancel(10));
  EXPECT_TRUE(queue_.empty());
  EXPECT_FALSE(queue_.Waits(1));
  EXPECT_EQ(queue_.NextDeadline(), absl::InfiniteFuture());
}

TEST_F(WaitQueueTest, SavesAndLoadsTheSameQueue) {
  Add(10, 1, 100);
  Add(11, 2);
  google::protobuf::RepeatedPtrField<atomix::log::v1::Waiter> saved;
  uint64_t next_order = 0;
  queue_.Save(saved, next_order);
  WaitQueue loaded;
  ASSERT_TRUE(loaded.Load(saved, next_order, true, "lock").ok());
  EXPECT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded.front().token, 10u);
  EXPECT_EQ(loaded.NextDeadline(), kStart + absl::Milliseconds(100));
  EXPECT_TRUE(loaded.Waits(2));
  v1::Request request = testing::MakeRequest(v1::LOCK, "l", "lock { acquire {} }", 1);
  ApplyContext ctx{.revision = 1, .now = kStart, .limits = limits_, .token = 99};
  EXPECT_EQ(loaded.Add(request, ctx), next_order);  // orders go on
}

TEST_F(WaitQueueTest, RefusesAnInconsistentSave) {
  Add(10, 1);
  Add(11, 2);
  google::protobuf::RepeatedPtrField<atomix::log::v1::Waiter> saved;
  uint64_t next_order = 0;
  queue_.Save(saved, next_order);

  WaitQueue a;
  absl::Status st = a.Load(saved, /*next_order=*/1, true, "lock");
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(st.message(), "the saved lock holds waiter order 1 out of sequence (next order 1)");
  EXPECT_TRUE(a.empty());

  auto twice = saved;
  twice.Mutable(1)->set_token(10);
  WaitQueue b;
  EXPECT_EQ(b.Load(twice, next_order, true, "lock").message(),
            "the saved lock holds waiter token 10 twice");

  auto anonymous = saved;
  anonymous.Mutable(0)->set_session(0);
  WaitQueue c;
  EXPECT_EQ(c.Load(anonymous, next_order, true, "lock").code(), absl::StatusCode::kDataLoss);
  WaitQueue d;
  EXPECT_TRUE(d.Load(anonymous, next_order, false, "latch").ok());
}

}  // namespace
}  // namespace atomix::broker
