// Lock and LockGuard over an in-process broker, with one fake core (one
// session) per client.
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include "atomix/counter.h"
#include "atomix/lock.h"
#include "atomix/status.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using std::chrono::milliseconds;
using testing::FakeBroker;
using testing::FakeClientCore;

class LockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* core : {&a_, &b_, &c_}) {
      *core = std::make_shared<FakeClientCore>(broker_);
      ASSERT_OK((*core)->session_status());
    }
  }

  Lock Open(const std::shared_ptr<FakeClientCore>& core, const std::string& name = "db") {
    auto lock = internal::GetLock(core, name);
    EXPECT_OK(lock);
    return *std::move(lock);
  }

  std::shared_ptr<FakeBroker> broker_ = std::make_shared<FakeBroker>();
  std::shared_ptr<FakeClientCore> a_, b_, c_;
};

TEST_F(LockTest, AcquireReturnsTheGrantRevisionAsFence) {
  Lock lock = Open(a_);
  EXPECT_EQ(lock.name(), "db");
  EXPECT_EQ(a_->calls().front().request.type(), v1::LOCK);
  const int64_t before = a_->revision();
  ASSERT_OK_AND_ASSIGN(Fence fence, lock.Acquire());
  EXPECT_EQ(fence.version, before + 1);
  EXPECT_EQ(fence.version, a_->revision());

  const v1::Request sent = a_->calls().back().request;
  EXPECT_TRUE(sent.lock().has_acquire());
  EXPECT_FALSE(sent.lock().acquire().try_only());
  EXPECT_EQ(sent.session_id(), a_->session_id());
  EXPECT_GT(sent.sequence(), 0u);
  // The default call timeout (10 s), less a margin for the answer.
  EXPECT_GT(sent.timeout_ms(), 8000);
  EXPECT_LE(sent.timeout_ms(), 10000);
  EXPECT_FALSE(a_->calls().back().idempotent);

  ASSERT_OK_AND_ASSIGN(bool locked, lock.IsLocked());
  EXPECT_TRUE(locked);
  ASSERT_OK_AND_ASSIGN(locked, lock.IsLocked(WithVersion(fence.version)));
  EXPECT_TRUE(locked);
  ASSERT_OK_AND_ASSIGN(locked, lock.IsLocked(WithVersion(fence.version + 1)));
  EXPECT_FALSE(locked);
  EXPECT_TRUE(a_->calls().back().idempotent);

  ASSERT_OK(lock.Release());
  EXPECT_EQ(a_->revision(), fence.version + 1);
  ASSERT_OK_AND_ASSIGN(locked, lock.IsLocked());
  EXPECT_FALSE(locked);
}

TEST_F(LockTest, TimeoutIsSentToTheBroker) {
  Lock lock = Open(a_);
  ASSERT_OK(lock.Acquire(WithTimeout(std::chrono::seconds(2))));
  const int64_t sent = a_->calls().back().request.timeout_ms();
  EXPECT_GT(sent, 1500);
  EXPECT_LT(sent, 2000);
}

TEST_F(LockTest, TryAcquireNeverWaits) {
  Lock la = Open(a_), lb = Open(b_);
  ASSERT_OK_AND_ASSIGN(std::optional<Fence> got, la.TryAcquire());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->version, a_->revision());
  EXPECT_TRUE(a_->calls().back().request.lock().acquire().try_only());

  const int64_t before = b_->revision();
  ASSERT_OK_AND_ASSIGN(std::optional<Fence> none, lb.TryAcquire());
  EXPECT_FALSE(none.has_value());
  EXPECT_EQ(b_->revision(), before);  // a failed try takes no revision

  ASSERT_OK(la.Release());
  ASSERT_OK_AND_ASSIGN(got, lb.TryAcquire());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->version, before + 2);  // release, then grant
}

TEST_F(LockTest, WaitersAreGrantedInArrivalOrderAtTheReleaseRevision) {
  Lock la = Open(a_), lb = Open(b_), lc = Open(c_);
  ASSERT_OK_AND_ASSIGN(Fence first, la.Acquire());

  auto b_got = std::async(std::launch::async, [&] { return lb.Acquire(); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  auto c_got = std::async(std::launch::async, [&] { return lc.Acquire(); });
  ASSERT_TRUE(broker_->AwaitWaiting(2));

  ASSERT_OK(la.Release());
  ASSERT_OK_AND_ASSIGN(Fence second, b_got.get());
  EXPECT_EQ(second.version, first.version + 1);  // granted in the release's step
  EXPECT_EQ(c_got.wait_for(milliseconds(50)), std::future_status::timeout);

  ASSERT_OK(lb.Release());
  ASSERT_OK_AND_ASSIGN(Fence third, c_got.get());
  EXPECT_EQ(third.version, second.version + 1);
  ASSERT_OK(lc.Release());
}

TEST_F(LockTest, AcquireFailsAtTheCallDeadlineAndLeavesNoGrantBehind) {
  Lock la = Open(a_), lb = Open(b_);
  ASSERT_OK(la.Acquire());
  auto start = std::chrono::steady_clock::now();
  EXPECT_CODE(lb.Acquire(WithTimeout(milliseconds(100))), kDeadlineExceeded);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(90));
  EXPECT_EQ(broker_->waiting(), 0u);

  ASSERT_OK(la.Release());
  ASSERT_OK_AND_ASSIGN(bool locked, lb.IsLocked());
  EXPECT_FALSE(locked);  // b's abandoned acquire was not granted
}

TEST_F(LockTest, BrokerTimesOutAWaiterWithTheSentTimeout) {
  Lock la = Open(a_), lb = Open(b_);
  ASSERT_OK(la.Acquire());
  auto b_got = std::async(std::launch::async,
                          [&] { return lb.Acquire(WithTimeout(std::chrono::seconds(5))); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  broker_->Advance(absl::Milliseconds(4800));  // past timeout_ms, on the broker's clock
  ASSERT_EQ(b_got.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_CODE(b_got.get(), kDeadlineExceeded);
}

TEST_F(LockTest, CancelledAcquireReturnsAtOnce) {
  Lock la = Open(a_), lb = Open(b_);
  ASSERT_OK(la.Acquire());
  std::stop_source stop;
  auto b_got =
      std::async(std::launch::async, [&] { return lb.Acquire(WithCancel(stop.get_token())); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  stop.request_stop();
  ASSERT_EQ(b_got.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_CODE(b_got.get(), kCancelled);
}

TEST_F(LockTest, ReleaseIfVersionReleasesWhicheverSessionHoldsThatFence) {
  Lock la = Open(a_), lb = Open(b_);
  ASSERT_OK_AND_ASSIGN(Fence fence, la.Acquire());

  // b does not hold it.
  absl::Status not_mine = lb.Release();
  EXPECT_CODE(not_mine, kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(not_mine), fence.version);
  EXPECT_CODE(lb.Release(IfVersion(fence.version + 1)), kFailedPrecondition);

  ASSERT_OK(lb.Release(IfVersion(fence)));
  EXPECT_EQ(b_->calls().back().request.lock().release().if_version(), fence.version);
  ASSERT_OK_AND_ASSIGN(bool locked, la.IsLocked());
  EXPECT_FALSE(locked);

  absl::Status again = la.Release(IfVersion(fence));
  EXPECT_CODE(again, kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(again), 0);

  EXPECT_CODE(la.Release(WithEphemeral()), kInvalidArgument);
}

TEST_F(LockTest, GuardReleasesItsOwnGrantOnScopeExit) {
  Lock la = Open(a_), lb = Open(b_);
  Fence fence;
  {
    ASSERT_OK_AND_ASSIGN(LockGuard guard, LockGuard::Acquire(la));
    fence = guard.fence();
    EXPECT_EQ(fence.version, a_->revision());
    EXPECT_TRUE(guard.owns_lock());
    EXPECT_FALSE(guard.stop_token().stop_requested());
    EXPECT_EQ(IfFence(guard).if_fence, (FenceRef{"db", fence.version}));

    LockGuard moved = std::move(guard);
    EXPECT_FALSE(guard.owns_lock());  // NOLINT: checking the moved-from state
    EXPECT_TRUE(moved.owns_lock());
    ASSERT_OK_AND_ASSIGN(std::optional<Fence> none, lb.TryAcquire());
    EXPECT_FALSE(none.has_value());
  }
  const v1::Request last = a_->calls().back().request;
  ASSERT_TRUE(last.lock().has_release());
  EXPECT_EQ(last.lock().release().if_version(), fence.version);
  ASSERT_OK_AND_ASSIGN(std::optional<Fence> got, lb.TryAcquire());
  EXPECT_TRUE(got.has_value());
}

TEST_F(LockTest, GuardNeverReleasesALaterHoldersGrant) {
  Lock la = Open(a_), lb = Open(b_);
  ASSERT_OK_AND_ASSIGN(LockGuard guard, LockGuard::Acquire(la));
  ASSERT_OK(lb.Release(IfVersion(guard.fence())));  // taken away from a
  ASSERT_OK_AND_ASSIGN(Fence b_fence, lb.Acquire());
  EXPECT_CODE(guard.Release(), kFailedPrecondition);
  EXPECT_OK(guard.Release());  // already released: nothing to do
  ASSERT_OK_AND_ASSIGN(bool locked, lb.IsLocked(WithVersion(b_fence.version)));
  EXPECT_TRUE(locked);
}

TEST_F(LockTest, TryAcquireGuard) {
  Lock la = Open(a_), lb = Open(b_);
  ASSERT_OK_AND_ASSIGN(std::optional<LockGuard> held, LockGuard::TryAcquire(la));
  ASSERT_TRUE(held.has_value());
  ASSERT_OK_AND_ASSIGN(std::optional<LockGuard> none, LockGuard::TryAcquire(lb));
  EXPECT_FALSE(none.has_value());
  held.reset();
  ASSERT_OK_AND_ASSIGN(none, LockGuard::TryAcquire(lb));
  EXPECT_TRUE(none.has_value());
}

TEST_F(LockTest, SessionCloseReleasesTheLockAndStopsTheGuardToken) {
  Lock la = Open(a_), lb = Open(b_);
  ASSERT_OK_AND_ASSIGN(LockGuard guard, LockGuard::Acquire(la));
  bool told = false;
  std::stop_callback on_lost(guard.stop_token(), [&] { told = true; });

  auto b_got = std::async(std::launch::async, [&] { return lb.Acquire(); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  ASSERT_OK(a_->CloseSession());
  const int64_t closed_at = a_->revision();
  EXPECT_TRUE(told);
  EXPECT_TRUE(guard.stop_token().stop_requested());

  ASSERT_OK_AND_ASSIGN(Fence next, b_got.get());
  EXPECT_EQ(next.version, closed_at);  // granted in the session-end step
}

TEST_F(LockTest, WaiterWhoseSessionEndsIsAborted) {
  Lock la = Open(a_), lb = Open(b_);
  ASSERT_OK(la.Acquire());
  auto b_got = std::async(std::launch::async, [&] { return lb.Acquire(); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  ASSERT_OK(b_->CloseSession());
  EXPECT_CODE(b_got.get(), kAborted);
  ASSERT_OK_AND_ASSIGN(bool locked, la.IsLocked());
  EXPECT_TRUE(locked);
}

TEST_F(LockTest, GuardTokenOfALostSessionIsStopped) {
  Lock la = Open(a_);
  ASSERT_OK_AND_ASSIGN(LockGuard guard, LockGuard::Acquire(la));
  EXPECT_FALSE(guard.stop_token().stop_requested());
  broker_->Advance(absl::Seconds(11));  // past the 10 s session TTL
  ASSERT_OK(a_->ReplaceSession());
  EXPECT_TRUE(guard.stop_token().stop_requested());
  ASSERT_OK_AND_ASSIGN(bool locked, la.IsLocked());
  EXPECT_FALSE(locked);
}

TEST_F(LockTest, OpenChecksNameAndType) {
  EXPECT_CODE(internal::GetLock(a_, ""), kInvalidArgument);
  ASSERT_OK(internal::GetCounter(a_, "jobs"));
  EXPECT_CODE(internal::GetLock(a_, "jobs"), kFailedPrecondition);
  EXPECT_CODE(internal::GetLock(nullptr, "x"), kInvalidArgument);
}

TEST(LockWithoutSessionTest, AcquireNeedsASession) {
  auto core = FakeClientCore::Sessionless();
  ASSERT_OK_AND_ASSIGN(Lock lock, internal::GetLock(core, "db"));
  EXPECT_CODE(lock.Acquire(), kInvalidArgument);
}

}  // namespace
}  // namespace atomix
