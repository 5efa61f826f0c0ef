// Semaphore and SemaphoreGuard over an in-process broker, with one fake core
// (one session) per client.
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "atomix/counter.h"
#include "atomix/map.h"
#include "atomix/semaphore.h"
#include "atomix/status.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using std::chrono::milliseconds;
using testing::FakeBroker;
using testing::FakeClientCore;

class SemaphoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* core : {&a_, &b_, &c_}) {
      *core = std::make_shared<FakeClientCore>(broker_);
      ASSERT_OK((*core)->session_status());
    }
  }

  Semaphore Open(const std::shared_ptr<FakeClientCore>& core, int64_t permits = 3) {
    auto s = internal::GetSemaphore(core, "slots", permits);
    EXPECT_OK(s);
    return *std::move(s);
  }

  std::shared_ptr<FakeBroker> broker_ = std::make_shared<FakeBroker>();
  std::shared_ptr<FakeClientCore> a_, b_, c_;
};

TEST_F(SemaphoreTest, OpenSendsInitOnceAndRefusesAnotherCount) {
  Semaphore s = Open(a_);
  EXPECT_EQ(s.name(), "slots");
  const v1::Request init = a_->calls().back().request;
  ASSERT_TRUE(init.semaphore().has_init());
  EXPECT_EQ(init.semaphore().init().permits(), 3);
  EXPECT_TRUE(a_->calls().back().idempotent);
  const int64_t revision = a_->revision();
  Open(b_);  // the same count: nothing changes
  EXPECT_EQ(b_->revision(), revision);
  absl::StatusOr<Semaphore> other = internal::GetSemaphore(c_, "slots", 5);
  EXPECT_CODE(other, kFailedPrecondition);
  EXPECT_EQ(other.status().message(), "semaphore \"slots\" has 3 permits; init asked for 5");
  EXPECT_CODE(internal::GetSemaphore(c_, "zero", 0), kInvalidArgument);
  ASSERT_OK(internal::GetCounter(a_, "jobs"));
  EXPECT_CODE(internal::GetSemaphore(a_, "jobs", 1), kFailedPrecondition);
  EXPECT_CODE(internal::GetSemaphore(nullptr, "x", 1), kInvalidArgument);
  EXPECT_CODE(internal::GetSemaphore(a_, "", 1), kInvalidArgument);
}

TEST_F(SemaphoreTest, AcquireReturnsTheFenceAndCount) {
  Semaphore s = Open(a_);
  ASSERT_OK_AND_ASSIGN(Permits got, s.Acquire(2));
  EXPECT_EQ(got.fence.version, a_->revision());
  EXPECT_EQ(got.count, 2);
  const v1::Request sent = a_->calls().back().request;
  EXPECT_EQ(sent.semaphore().acquire().permits(), 2);
  EXPECT_FALSE(sent.semaphore().acquire().try_only());
  EXPECT_EQ(sent.session_id(), a_->session_id());
  EXPECT_GT(sent.timeout_ms(), 8000);  // the default call timeout, less a margin
  EXPECT_FALSE(a_->calls().back().idempotent);
  ASSERT_OK_AND_ASSIGN(int64_t available, s.Available());
  EXPECT_EQ(available, 1);
  EXPECT_TRUE(a_->calls().back().idempotent);
  ASSERT_OK_AND_ASSIGN(int64_t count, s.PermitCount());
  EXPECT_EQ(count, 3);
  ASSERT_OK(s.Release(2));
  ASSERT_OK_AND_ASSIGN(available, s.Available());
  EXPECT_EQ(available, 3);
  EXPECT_CODE(s.Acquire(4), kFailedPrecondition);
  EXPECT_CODE(s.Acquire(0), kInvalidArgument);
}

TEST_F(SemaphoreTest, TryAcquireNeverWaitsAndDoesNotBarge) {
  Semaphore sa = Open(a_), sb = Open(b_), sc = Open(c_);
  ASSERT_OK_AND_ASSIGN(std::optional<Permits> got, sa.TryAcquire(2));
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(a_->calls().back().request.semaphore().acquire().try_only());
  ASSERT_OK_AND_ASSIGN(std::optional<Permits> none, sb.TryAcquire(2));
  EXPECT_FALSE(none.has_value());
  // b waits for 2; c's single permit is free but c must not pass b.
  auto b_got = std::async(std::launch::async, [&] { return sb.Acquire(2); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  ASSERT_OK_AND_ASSIGN(int64_t waiters, sc.Waiters());
  EXPECT_EQ(waiters, 1);
  ASSERT_OK_AND_ASSIGN(none, sc.TryAcquire(1));
  EXPECT_FALSE(none.has_value());
  ASSERT_OK(sa.Release(0));
  ASSERT_OK_AND_ASSIGN(Permits b, b_got.get());
  EXPECT_EQ(b.fence.version, b_->revision());
  ASSERT_OK_AND_ASSIGN(got, sc.TryAcquire(1));
  EXPECT_TRUE(got.has_value());
}

TEST_F(SemaphoreTest, WaitersAreGrantedInOrderInTheReleasingStep) {
  Semaphore sa = Open(a_), sb = Open(b_), sc = Open(c_);
  ASSERT_OK_AND_ASSIGN(Permits first, sa.Acquire(3));
  auto b_got = std::async(std::launch::async, [&] { return sb.Acquire(2); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  auto c_got = std::async(std::launch::async, [&] { return sc.Acquire(1); });
  ASSERT_TRUE(broker_->AwaitWaiting(2));
  ASSERT_OK(sa.Release(3));
  ASSERT_OK_AND_ASSIGN(Permits b, b_got.get());
  ASSERT_OK_AND_ASSIGN(Permits c, c_got.get());
  EXPECT_EQ(b.fence.version, first.fence.version + 1);
  EXPECT_EQ(c.fence, b.fence);  // one step, one fence
}

TEST_F(SemaphoreTest, AcquireFailsAtTheDeadlineOrOnCancel) {
  Semaphore sa = Open(a_), sb = Open(b_);
  ASSERT_OK(sa.Acquire(3));
  EXPECT_CODE(sb.Acquire(1, WithTimeout(milliseconds(100))), kDeadlineExceeded);
  EXPECT_EQ(broker_->waiting(), 0u);
  std::stop_source stop;
  auto b_got =
      std::async(std::launch::async, [&] { return sb.Acquire(1, WithCancel(stop.get_token())); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  stop.request_stop();
  ASSERT_EQ(b_got.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_CODE(b_got.get(), kCancelled);
  ASSERT_OK(sa.Release(0));
  ASSERT_OK_AND_ASSIGN(int64_t available, sb.Available());
  EXPECT_EQ(available, 3);  // nothing was granted to the callers that gave up
}

TEST_F(SemaphoreTest, BrokerTimesOutAWaiterWithTheSentTimeout) {
  Semaphore sa = Open(a_), sb = Open(b_);
  ASSERT_OK(sa.Acquire(3));
  auto b_got = std::async(std::launch::async,
                          [&] { return sb.Acquire(1, WithTimeout(std::chrono::seconds(5))); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  broker_->Advance(absl::Milliseconds(4800));
  ASSERT_EQ(b_got.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_CODE(b_got.get(), kDeadlineExceeded);
}

TEST_F(SemaphoreTest, ReleaseByFenceAndItsErrors) {
  Semaphore sa = Open(a_, 5), sb = Open(b_, 5);
  ASSERT_OK_AND_ASSIGN(Permits one, sa.Acquire(2));
  ASSERT_OK_AND_ASSIGN(Permits two, sa.Acquire(2));
  absl::Status too_many = sa.Release(5);
  EXPECT_CODE(too_many, kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(too_many), 4);                              // what the session holds
  EXPECT_CODE(sb.Release(IfVersion(one.fence)), kFailedPrecondition);  // not b's grant
  ASSERT_OK(sa.Release(1, IfVersion(one.fence)));
  EXPECT_EQ(a_->calls().back().request.semaphore().release().if_version(), one.fence.version);
  EXPECT_EQ(a_->calls().back().request.semaphore().release().permits(), 1);
  ASSERT_OK(sa.Release(IfVersion(one.fence)));  // the rest of it
  ASSERT_OK(sa.Release());                      // 1 of the newest grant, `two`
  ASSERT_OK_AND_ASSIGN(int64_t available, sa.Available());
  EXPECT_EQ(available, 4);
  EXPECT_CODE(sa.Release(WithEphemeral()), kInvalidArgument);
  EXPECT_CODE(sa.Release(-1), kInvalidArgument);
  ASSERT_OK(sa.Release(IfVersion(two.fence)));
}

TEST_F(SemaphoreTest, HoldersListsEveryGrantAcrossPages) {
  broker::Limits small;
  small.default_page_size = 2;
  auto fake = std::make_shared<FakeBroker>(small);
  auto core = std::make_shared<FakeClientCore>(fake);
  ASSERT_OK_AND_ASSIGN(Semaphore s, internal::GetSemaphore(core, "many", 10));
  std::vector<Permits> grants;
  for (int i = 1; i <= 5; ++i) {
    ASSERT_OK_AND_ASSIGN(Permits p, s.Acquire(i % 2 + 1));
    grants.push_back(p);
  }
  std::vector<SemaphoreHolder> seen;
  for (const absl::StatusOr<SemaphoreHolder>& h : s.Holders()) {
    ASSERT_OK(h);
    seen.push_back(*h);
  }
  ASSERT_EQ(seen.size(), 5u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].fence, grants[i].fence.version);
    EXPECT_EQ(seen[i].permits, grants[i].count);
    EXPECT_EQ(seen[i].session_id, core->session_id());
  }
  int pages = 0;
  for (const auto& call : core->calls()) pages += call.request.semaphore().has_holders();
  EXPECT_EQ(pages, 3);
}

// Collects a holders listing; `end` is the status that ended it.
std::vector<SemaphoreHolder> Drain(StreamRange<SemaphoreHolder> range, absl::Status* end) {
  std::vector<SemaphoreHolder> out;
  *end = absl::OkStatus();
  for (const absl::StatusOr<SemaphoreHolder>& h : range) {
    if (!h.ok()) {
      *end = h.status();
      break;
    }
    out.push_back(*h);
  }
  return out;
}

TEST_F(SemaphoreTest, HoldersRefusesPagesThatCannotBeRight) {
  Semaphore s = Open(a_);
  ASSERT_OK(s.Acquire(1));
  ASSERT_OK(s.Acquire(1));
  // A page whose grants go backwards.
  a_->tamper = [](const v1::Request& r, v1::Response& resp) {
    if (!r.semaphore().has_holders()) return;
    resp.mutable_semaphore()->mutable_holders(1)->set_fence(1);
  };
  absl::Status end;
  EXPECT_EQ(Drain(s.Holders(), &end).size(), 1u);
  EXPECT_CODE(end, kInternal);
  // A broker that says "more" with an empty page.
  a_->tamper = [](const v1::Request& r, v1::Response& resp) {
    if (!r.semaphore().has_holders()) return;
    resp.mutable_semaphore()->clear_holders();
    resp.mutable_semaphore()->set_more(true);
  };
  EXPECT_TRUE(Drain(s.Holders(), &end).empty());
  EXPECT_CODE(end, kInternal);
  // A listing outlives its handle.
  a_->tamper = nullptr;
  StreamRange<SemaphoreHolder> range = [&] { return Open(a_).Holders(); }();
  EXPECT_EQ(Drain(std::move(range), &end).size(), 2u);
  EXPECT_OK(end);
}

TEST_F(SemaphoreTest, AnAnswerWithoutItsResultIsAnInternalError) {
  Semaphore s = Open(a_);
  a_->tamper = [](const v1::Request&, v1::Response& resp) { resp.clear_semaphore(); };
  EXPECT_CODE(s.Available(), kInternal);
  EXPECT_CODE(s.TryAcquire(), kInternal);
}

TEST_F(SemaphoreTest, SetPermitsMayMakeAvailableNegative) {
  Semaphore s = Open(a_, 4);
  ASSERT_OK(s.Acquire(3));
  ASSERT_OK(s.SetPermits(2));
  ASSERT_OK_AND_ASSIGN(int64_t available, s.Available());
  EXPECT_EQ(available, -1);
  ASSERT_OK_AND_ASSIGN(int64_t count, s.PermitCount());
  EXPECT_EQ(count, 2);
  EXPECT_CODE(s.SetPermits(0), kInvalidArgument);
}

TEST_F(SemaphoreTest, GuardReleasesExactlyItsPermitsAndFencesWrites) {
  Semaphore sa = Open(a_), sb = Open(b_);
  ASSERT_OK_AND_ASSIGN(auto map, (internal::GetMap<std::string, std::string>(a_, "out")));
  ASSERT_OK_AND_ASSIGN(Permits other, sa.Acquire(1));
  Fence fence;
  {
    ASSERT_OK_AND_ASSIGN(SemaphoreGuard guard, SemaphoreGuard::Acquire(sa, 2));
    fence = guard.fence();
    EXPECT_EQ(guard.permits().count, 2);
    EXPECT_TRUE(guard.owns_permits());
    EXPECT_FALSE(guard.stop_token().stop_requested());
    EXPECT_EQ(IfFence(guard).if_fence, (FenceRef{"slots", fence.version}));
    ASSERT_OK(map.Put("k", "v", IfFence(guard)));
    SemaphoreGuard moved = std::move(guard);
    EXPECT_FALSE(guard.owns_permits());  // NOLINT: checking the moved-from state
    ASSERT_OK_AND_ASSIGN(std::optional<Permits> none, sb.TryAcquire(1));
    EXPECT_FALSE(none.has_value());
  }
  const v1::Request last = a_->calls().back().request;
  ASSERT_TRUE(last.semaphore().has_release());
  EXPECT_EQ(last.semaphore().release().if_version(), fence.version);
  EXPECT_EQ(last.semaphore().release().permits(), 2);
  EXPECT_CODE(map.Put("k", "w", IfFence(sa, Permits{fence, 2})), kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(int64_t available, sb.Available());
  EXPECT_EQ(available, 2);  // `other` is still held
  ASSERT_OK(sa.Release(IfVersion(other.fence)));
}

TEST_F(SemaphoreTest, TryAcquireGuard) {
  Semaphore sa = Open(a_), sb = Open(b_);
  ASSERT_OK_AND_ASSIGN(std::optional<SemaphoreGuard> held, SemaphoreGuard::TryAcquire(sa, 3));
  ASSERT_TRUE(held.has_value());
  ASSERT_OK_AND_ASSIGN(std::optional<SemaphoreGuard> none, SemaphoreGuard::TryAcquire(sb));
  EXPECT_FALSE(none.has_value());
  held.reset();
  ASSERT_OK_AND_ASSIGN(none, SemaphoreGuard::TryAcquire(sb));
  EXPECT_TRUE(none.has_value());
}

TEST_F(SemaphoreTest, SessionCloseReleasesEverythingAndStopsTheGuardToken) {
  Semaphore sa = Open(a_), sb = Open(b_);
  ASSERT_OK(sa.Acquire(1));
  ASSERT_OK_AND_ASSIGN(SemaphoreGuard guard, SemaphoreGuard::Acquire(sa, 2));
  auto b_got = std::async(std::launch::async, [&] { return sb.Acquire(3); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  ASSERT_OK(a_->CloseSession());
  const int64_t closed_at = a_->revision();
  EXPECT_TRUE(guard.stop_token().stop_requested());
  ASSERT_OK_AND_ASSIGN(Permits b, b_got.get());
  EXPECT_EQ(b.fence.version, closed_at);  // granted in the session-end step
}

TEST_F(SemaphoreTest, WaiterWhoseSessionEndsIsAborted) {
  Semaphore sa = Open(a_), sb = Open(b_);
  ASSERT_OK(sa.Acquire(3));
  auto b_got = std::async(std::launch::async, [&] { return sb.Acquire(); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  ASSERT_OK(b_->CloseSession());
  EXPECT_CODE(b_got.get(), kAborted);
}

TEST_F(SemaphoreTest, AsyncFormsComplete) {
  Semaphore s = Open(a_);
  ASSERT_OK_AND_ASSIGN(Permits p, s.AcquireAsync(2).get());
  EXPECT_EQ(p.count, 2);
  ASSERT_OK_AND_ASSIGN(std::optional<Permits> none, s.TryAcquireAsync(2).get());
  EXPECT_FALSE(none.has_value());
  ASSERT_OK_AND_ASSIGN(int64_t available, s.AvailableAsync().get());
  EXPECT_EQ(available, 1);
  ASSERT_OK(s.SetPermitsAsync(4).get());
  ASSERT_OK_AND_ASSIGN(int64_t count, s.PermitCountAsync().get());
  EXPECT_EQ(count, 4);
  ASSERT_OK(s.ReleaseAsync(0).get());
}

TEST_F(SemaphoreTest, WatchNeedsATransportThatServesWatches) {
  EXPECT_CODE(Open(a_).Watch(), kUnimplemented);
}

TEST(SemaphoreWithoutSessionTest, AcquireAndReleaseNeedASession) {
  auto core = FakeClientCore::Sessionless();
  ASSERT_OK_AND_ASSIGN(Semaphore s, internal::GetSemaphore(core, "slots", 2));
  EXPECT_CODE(s.Acquire(), kInvalidArgument);
  EXPECT_CODE(s.Release(), kInvalidArgument);
}

}  // namespace
}  // namespace atomix
