// CountDownLatch over an in-process broker, with one fake core (one session)
// per client: arming, count-downs, awaits opened together, deadlines,
// cancellation and session ends.
#include <chrono>
#include <future>
#include <memory>
#include <stop_token>
#include <string>

#include "atomix/counter.h"
#include "atomix/latch.h"
#include "atomix/status.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using std::chrono::milliseconds;
using testing::FakeBroker;
using testing::FakeClientCore;

class LatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* core : {&a_, &b_}) {
      *core = std::make_shared<FakeClientCore>(broker_);
      ASSERT_OK((*core)->session_status());
    }
  }

  CountDownLatch Open(const std::shared_ptr<FakeClientCore>& core,
                      const std::string& name = "ready") {
    auto latch = internal::GetCountDownLatch(core, name);
    EXPECT_OK(latch);
    return *std::move(latch);
  }

  std::shared_ptr<FakeBroker> broker_ = std::make_shared<FakeBroker>();
  std::shared_ptr<FakeClientCore> a_, b_;
};

TEST_F(LatchTest, ArmsOnlyAtZeroAndCountsDown) {
  CountDownLatch latch = Open(a_);
  EXPECT_EQ(latch.name(), "ready");
  EXPECT_EQ(a_->calls().front().request.type(), v1::LATCH);
  ASSERT_OK_AND_ASSIGN(int64_t count, latch.GetCount());
  EXPECT_EQ(count, 0);
  EXPECT_TRUE(a_->calls().back().idempotent);

  ASSERT_OK_AND_ASSIGN(bool set, latch.TrySetCount(2));
  EXPECT_TRUE(set);
  EXPECT_EQ(a_->calls().back().request.latch().try_set_count().count(), 2);
  EXPECT_FALSE(a_->calls().back().idempotent);
  ASSERT_OK_AND_ASSIGN(set, latch.TrySetCount(5));
  EXPECT_FALSE(set);

  ASSERT_OK_AND_ASSIGN(count, latch.CountDown());
  EXPECT_EQ(count, 1);
  EXPECT_FALSE(a_->calls().back().idempotent);
  EXPECT_GT(a_->calls().back().request.sequence(), 0u);  // applied once
  ASSERT_OK_AND_ASSIGN(LatchInfo info, latch.GetInfo());
  EXPECT_EQ(info, (LatchInfo{1, 1, 0}));
  ASSERT_OK_AND_ASSIGN(count, latch.CountDown());
  EXPECT_EQ(count, 0);
  ASSERT_OK_AND_ASSIGN(count, latch.CountDown());  // by nothing at zero
  EXPECT_EQ(count, 0);

  ASSERT_OK_AND_ASSIGN(set, latch.TrySetCount(1));
  EXPECT_TRUE(set);
  ASSERT_OK_AND_ASSIGN(info, latch.GetInfo());
  EXPECT_EQ(info.generation, 2);
}

TEST_F(LatchTest, ReachingZeroOpensEveryAwaitAtThatRevision) {
  CountDownLatch la = Open(a_), lb = Open(b_);
  ASSERT_OK(la.TrySetCount(2));
  auto first = std::async(std::launch::async, [&] { return la.Await(); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  auto second = std::async(std::launch::async, [&] { return lb.Await(); });
  ASSERT_TRUE(broker_->AwaitWaiting(2));
  const v1::Request sent = a_->calls().back().request;
  EXPECT_TRUE(sent.latch().has_await());
  EXPECT_GT(sent.timeout_ms(), 8000);  // the default call timeout, less a margin
  EXPECT_LE(sent.timeout_ms(), 10000);

  ASSERT_OK(lb.CountDown());
  EXPECT_EQ(first.wait_for(milliseconds(50)), std::future_status::timeout);
  ASSERT_OK(lb.CountDown());
  const int64_t opened_at = b_->revision();
  ASSERT_OK_AND_ASSIGN(LatchOpened a, first.get());
  ASSERT_OK_AND_ASSIGN(LatchOpened b, second.get());
  EXPECT_EQ(a, (LatchOpened{1, opened_at}));
  EXPECT_EQ(b, (LatchOpened{1, opened_at}));

  // An open latch answers at once.
  ASSERT_OK_AND_ASSIGN(LatchOpened now, la.Await());
  EXPECT_EQ(now.generation, 1);
}

TEST_F(LatchTest, AwaitFailsAtTheCallDeadlineAndLeavesNoWaiter) {
  CountDownLatch latch = Open(a_);
  ASSERT_OK(latch.TrySetCount(1));
  EXPECT_CODE(latch.Await(WithTimeout(milliseconds(100))), kDeadlineExceeded);
  EXPECT_EQ(broker_->waiting(), 0u);
  ASSERT_OK_AND_ASSIGN(LatchInfo info, latch.GetInfo());
  EXPECT_EQ(info.waiters, 0);
}

TEST_F(LatchTest, BrokerTimesOutAWaiterWithTheSentTimeout) {
  CountDownLatch latch = Open(a_);
  ASSERT_OK(latch.TrySetCount(1));
  auto got = std::async(std::launch::async,
                        [&] { return latch.Await(WithTimeout(std::chrono::seconds(5))); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  broker_->Advance(absl::Milliseconds(4800));
  ASSERT_EQ(got.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  absl::StatusOr<LatchOpened> r = got.get();
  EXPECT_CODE(r, kDeadlineExceeded);
  EXPECT_EQ(r.status().message(), "latch \"ready\": timed out waiting; count is 1");
}

TEST_F(LatchTest, CancelledAwaitReturnsAtOnceAndIsWithdrawn) {
  CountDownLatch latch = Open(a_);
  ASSERT_OK(latch.TrySetCount(1));
  std::stop_source stop;
  auto got =
      std::async(std::launch::async, [&] { return latch.Await(WithCancel(stop.get_token())); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  stop.request_stop();
  ASSERT_EQ(got.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_CODE(got.get(), kCancelled);
  ASSERT_TRUE(broker_->AwaitWaiting(0));
}

TEST_F(LatchTest, AwaitOfAnEndedSessionIsAborted) {
  CountDownLatch la = Open(a_), lb = Open(b_);
  ASSERT_OK(la.TrySetCount(1));
  auto got = std::async(std::launch::async, [&] { return lb.Await(); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  ASSERT_OK(b_->CloseSession());
  absl::StatusOr<LatchOpened> r = got.get();
  EXPECT_CODE(r, kAborted);
  EXPECT_NE(r.status().message().find("ended while waiting for latch \"ready\""), std::string::npos)
      << r.status();
  ASSERT_OK_AND_ASSIGN(int64_t count, la.GetCount());
  EXPECT_EQ(count, 1);  // the count is untouched
}

TEST_F(LatchTest, AsyncForms) {
  // The fake core completes each call before returning its future.
  CountDownLatch latch = Open(a_);
  ASSERT_OK_AND_ASSIGN(bool set, latch.TrySetCountAsync(1).get());
  EXPECT_TRUE(set);
  ASSERT_OK_AND_ASSIGN(int64_t count, latch.GetCountAsync().get());
  EXPECT_EQ(count, 1);
  ASSERT_OK_AND_ASSIGN(count, latch.CountDownAsync().get());
  EXPECT_EQ(count, 0);
  ASSERT_OK_AND_ASSIGN(LatchOpened got, latch.AwaitAsync().get());
  EXPECT_EQ(got, (LatchOpened{1, a_->revision()}));
  ASSERT_OK_AND_ASSIGN(LatchInfo info, latch.GetInfoAsync().get());
  EXPECT_EQ(info, (LatchInfo{0, 1, 0}));
}

TEST_F(LatchTest, BadArgumentsNameTheProblem) {
  CountDownLatch latch = Open(a_);
  absl::StatusOr<bool> r = latch.TrySetCount(0);
  EXPECT_CODE(r, kInvalidArgument);
  EXPECT_EQ(r.status().message(), "latch try_set_count: count is 0; it must be 1 .. 2147483648");
  EXPECT_CODE(latch.TrySetCount(int64_t{1} << 32), kInvalidArgument);
  EXPECT_CODE(internal::GetCountDownLatch(a_, ""), kInvalidArgument);
  ASSERT_OK(internal::GetCounter(a_, "jobs"));
  EXPECT_CODE(internal::GetCountDownLatch(a_, "jobs"), kFailedPrecondition);
  EXPECT_CODE(internal::GetCountDownLatch(nullptr, "x"), kInvalidArgument);
}

TEST_F(LatchTest, WatchNeedsATransportThatServesWatches) {
  EXPECT_CODE(Open(a_).Watch(), kUnimplemented);
}

TEST(LatchWithoutSessionTest, AwaitNeedsNoSession) {
  auto core = FakeClientCore::Sessionless();
  ASSERT_OK_AND_ASSIGN(CountDownLatch latch, internal::GetCountDownLatch(core, "go"));
  ASSERT_OK(latch.TrySetCount(1));
  ASSERT_OK(latch.CountDown());
  ASSERT_OK_AND_ASSIGN(LatchOpened opened, latch.Await());
  EXPECT_EQ(opened.generation, 1);
}

}  // namespace
}  // namespace atomix
