// Barrier over an in-process broker, with one fake core (one session) per
// party: Init on open, trips in arrival order, generations, deadlines,
// cancellation and breaks.
#include <chrono>
#include <future>
#include <memory>
#include <stop_token>
#include <string>

#include "atomix/barrier.h"
#include "atomix/counter.h"
#include "atomix/status.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using std::chrono::milliseconds;
using testing::FakeBroker;
using testing::FakeClientCore;

class BarrierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* core : {&a_, &b_, &c_}) {
      *core = std::make_shared<FakeClientCore>(broker_);
      ASSERT_OK((*core)->session_status());
    }
  }

  Barrier Open(const std::shared_ptr<FakeClientCore>& core, int64_t parties = 3) {
    auto barrier = internal::GetBarrier(core, "step", parties);
    EXPECT_OK(barrier);
    return *std::move(barrier);
  }

  std::shared_ptr<FakeBroker> broker_ = std::make_shared<FakeBroker>();
  std::shared_ptr<FakeClientCore> a_, b_, c_;
};

TEST_F(BarrierTest, OpeningSendsInitOnce) {
  Barrier barrier = Open(a_);
  EXPECT_EQ(barrier.name(), "step");
  EXPECT_EQ(a_->calls().back().request.barrier().init().parties(), 3);
  EXPECT_TRUE(a_->calls().back().idempotent);
  const int64_t opened_at = a_->revision();
  Open(b_);  // the same count: nothing changes
  EXPECT_EQ(b_->revision(), opened_at);
  absl::StatusOr<Barrier> other = internal::GetBarrier(c_, "step", 4);
  EXPECT_CODE(other, kFailedPrecondition);
  EXPECT_EQ(other.status().message(), "barrier \"step\" has 3 parties, not 4");
  EXPECT_EQ(CurrentVersion(other.status()), 3);
  ASSERT_OK_AND_ASSIGN(int64_t parties, barrier.Parties());
  EXPECT_EQ(parties, 3);
  EXPECT_TRUE(a_->calls().back().idempotent);
}

TEST_F(BarrierTest, TheLastArrivalPassesEveryoneInArrivalOrder) {
  Barrier ba = Open(a_), bb = Open(b_), bc = Open(c_);
  for (int64_t generation = 0; generation < 2; ++generation) {
    auto first = std::async(std::launch::async, [&] { return ba.Await(); });
    ASSERT_TRUE(broker_->AwaitWaiting(1));
    auto second = std::async(std::launch::async, [&] { return bb.Await(); });
    ASSERT_TRUE(broker_->AwaitWaiting(2));
    ASSERT_OK_AND_ASSIGN(int64_t waiting, bc.Waiting());
    EXPECT_EQ(waiting, 2);
    EXPECT_EQ(first.wait_for(milliseconds(50)), std::future_status::timeout);
    ASSERT_OK_AND_ASSIGN(BarrierPassed third, bc.Await());
    const int64_t tripped_at = c_->revision();
    EXPECT_EQ(third, (BarrierPassed{generation, 2, tripped_at}));
    ASSERT_OK_AND_ASSIGN(BarrierPassed one, first.get());
    ASSERT_OK_AND_ASSIGN(BarrierPassed two, second.get());
    EXPECT_EQ(one, (BarrierPassed{generation, 0, tripped_at}));
    EXPECT_EQ(two, (BarrierPassed{generation, 1, tripped_at}));
  }
  ASSERT_OK_AND_ASSIGN(int64_t generation, ba.Generation());
  EXPECT_EQ(generation, 2);
  const v1::Request sent = a_->calls().back().request;
  EXPECT_EQ(sent.session_id(), a_->session_id());
}

TEST_F(BarrierTest, ADeadlineWithdrawsOnlyThatParty) {
  Barrier ba = Open(a_), bb = Open(b_), bc = Open(c_);
  auto waits = std::async(std::launch::async, [&] { return ba.Await(); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  EXPECT_CODE(bb.Await(WithTimeout(milliseconds(100))), kDeadlineExceeded);
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  ASSERT_OK_AND_ASSIGN(int64_t waiting, bc.Waiting());
  EXPECT_EQ(waiting, 1);
  auto again = std::async(std::launch::async, [&] { return bb.Await(); });
  ASSERT_TRUE(broker_->AwaitWaiting(2));
  ASSERT_OK_AND_ASSIGN(BarrierPassed last, bc.Await());
  EXPECT_EQ(last.arrival, 2);
  ASSERT_OK_AND_ASSIGN(BarrierPassed first, waits.get());
  EXPECT_EQ(first.arrival, 0);
  ASSERT_OK(again.get());
}

TEST_F(BarrierTest, ACancelWithdrawsOnlyThatParty) {
  Barrier ba = Open(a_, 2), bb = Open(b_, 2), bc = Open(c_, 2);
  std::stop_source stop;
  auto cancelled =
      std::async(std::launch::async, [&] { return ba.Await(WithCancel(stop.get_token())); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  stop.request_stop();
  ASSERT_EQ(cancelled.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_CODE(cancelled.get(), kCancelled);
  ASSERT_TRUE(broker_->AwaitWaiting(0));
  auto waits = std::async(std::launch::async, [&] { return bb.Await(); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  ASSERT_OK_AND_ASSIGN(BarrierPassed last, bc.Await());
  EXPECT_EQ(last, (BarrierPassed{0, 1, c_->revision()}));
  ASSERT_OK(waits.get());
}

TEST_F(BarrierTest, AWaitingPartysSessionEndBreaksTheBarrier) {
  Barrier ba = Open(a_), bb = Open(b_), bc = Open(c_);
  auto a_waits = std::async(std::launch::async, [&] { return ba.Await(); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  auto b_waits = std::async(std::launch::async, [&] { return bb.Await(); });
  ASSERT_TRUE(broker_->AwaitWaiting(2));
  const uint64_t dead = b_->session_id();
  ASSERT_OK(b_->CloseSession());
  const std::string message =
      "barrier \"step\" broke: session " + std::to_string(dead) + " ended while waiting";
  absl::StatusOr<BarrierPassed> a = a_waits.get();
  EXPECT_CODE(a, kAborted);
  EXPECT_EQ(a.status().message(), message);
  EXPECT_CODE(b_waits.get(), kAborted);
  ASSERT_OK_AND_ASSIGN(int64_t waiting, bc.Waiting());
  EXPECT_EQ(waiting, 0);
  ASSERT_OK_AND_ASSIGN(int64_t generation, bc.Generation());
  EXPECT_EQ(generation, 0);  // it starts over
}

TEST_F(BarrierTest, AsyncForms) {
  Barrier b = Open(a_, 1);  // the fake core completes each call before returning
  ASSERT_OK_AND_ASSIGN(BarrierPassed passed, b.AwaitAsync().get());
  EXPECT_EQ(passed, (BarrierPassed{0, 0, a_->revision()}));
  ASSERT_OK_AND_ASSIGN(int64_t n, b.PartiesAsync().get());
  EXPECT_EQ(n, 1);
  ASSERT_OK_AND_ASSIGN(n, b.WaitingAsync().get());
  EXPECT_EQ(n, 0);
  ASSERT_OK_AND_ASSIGN(n, b.GenerationAsync().get());
  EXPECT_EQ(n, 1);
}

TEST_F(BarrierTest, BadArgumentsNameTheProblem) {
  absl::StatusOr<Barrier> r = internal::GetBarrier(a_, "x", 0);
  EXPECT_CODE(r, kInvalidArgument);
  EXPECT_EQ(r.status().message(), "barrier init: parties is 0; it must be 1 .. 1048576");
  EXPECT_CODE(internal::GetBarrier(a_, "x", (1 << 20) + 1), kInvalidArgument);
  EXPECT_CODE(internal::GetBarrier(a_, "", 2), kInvalidArgument);
  ASSERT_OK(internal::GetCounter(a_, "jobs"));
  EXPECT_CODE(internal::GetBarrier(a_, "jobs", 2), kFailedPrecondition);
  EXPECT_CODE(internal::GetBarrier(nullptr, "x", 2), kInvalidArgument);
  EXPECT_CODE(Open(a_).Watch(), kUnimplemented);
}

TEST(BarrierWithoutSessionTest, AwaitNeedsASession) {
  auto core = FakeClientCore::Sessionless();
  ASSERT_OK_AND_ASSIGN(Barrier barrier, internal::GetBarrier(core, "step", 1));
  absl::StatusOr<BarrierPassed> r = barrier.Await();
  EXPECT_CODE(r, kInvalidArgument);
  EXPECT_EQ(r.status().message(), "barrier await needs a session");
}

}  // namespace
}  // namespace atomix
