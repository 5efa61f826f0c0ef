// The semaphore: FIFO grants with no barging, fences per grant, release by
// newest grant or by fence, timeouts on the logical clock, session ends,
// cancellation, SetPermits, paged holders, events, snapshots, Save/Load and
// fenced Map writes. No network.
#include "broker-sim/src/state/semaphore.h"

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::BrokerDriver;
using testing::MakeRequest;
using testing::StateDriver;

constexpr int kInvalidArgument = 3;
constexpr int kDeadlineExceeded = 4;
constexpr int kFailedPrecondition = 9;
constexpr int kAborted = 10;
constexpr int kDataLoss = 15;

v1::Request Acquire(int64_t permits, uint64_t id, int64_t timeout_ms = 0) {
  v1::Request request = MakeRequest(
      v1::SEMAPHORE, "s",
      "semaphore { acquire { permits: " + std::to_string(permits) + " } }", id);
  request.set_timeout_ms(timeout_ms);
  return request;
}

class BrokerSemaphoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = broker_.OpenSession();
    b_ = broker_.OpenSession();
    c_ = broker_.OpenSession();
  }
  v1::Response Sem(const std::string& op, uint64_t session = 0) {
    return broker_.Apply(v1::SEMAPHORE, "s", "semaphore { " + op + " }",
                         session);
  }
  v1::Response Put(const std::string& value, int64_t fence) {
    return broker_.Apply(v1::MAP, "m",
                         "map { put { key: \"k\" value: \"" + value +
                             "\" if_fence { lock: \"s\" version: " +
                             std::to_string(fence) + " } } }");
  }

  BrokerDriver broker_;
  uint64_t a_ = 0, b_ = 0, c_ = 0;
};

TEST_F(BrokerSemaphoreTest, InitOnceThenTheSameCountChangesNothing) {
  v1::Response r = Sem("get {}");
  EXPECT_EQ(r.semaphore().permits(), 0);
  r = Sem("init { permits: 3 }");
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.semaphore().version(), 1);
  EXPECT_EQ(r.semaphore().permits(), 3);
  EXPECT_EQ(r.semaphore().available(), 3);
  r = Sem("init { permits: 3 }");
  EXPECT_FALSE(r.has_error());
  EXPECT_EQ(r.semaphore().version(), 0);
  EXPECT_EQ(broker_.revision(), 1);
  r = Sem("init { permits: 4 }");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "semaphore \"s\" has 3 permits; init asked for 4");
  EXPECT_EQ(r.error().current(), 3);
  EXPECT_EQ(broker_.revision(), 1);
}

TEST_F(BrokerSemaphoreTest, FifoWithNoBargingAndOneFencePerStep) {
  Sem("init { permits: 3 }");
  v1::Response r = broker_.Apply(Acquire(2, 10), a_);
  ASSERT_FALSE(broker_.last_deferred());
  EXPECT_TRUE(r.semaphore().acquired());
  EXPECT_EQ(r.semaphore().version(), 2);
  EXPECT_EQ(r.semaphore().available(), 1);

  broker_.Apply(Acquire(2, 11), b_, 0, 2);
  EXPECT_TRUE(broker_.last_deferred());
  // One permit is free, but b waits first: c waits behind it.
  broker_.Apply(Acquire(1, 12), c_, 0, 3);
  EXPECT_TRUE(broker_.last_deferred());
  r = Sem("acquire { permits: 1 try_only: true }", c_);
  EXPECT_FALSE(r.semaphore().acquired());
  EXPECT_EQ(r.semaphore().waiters(), 2);
  EXPECT_EQ(r.semaphore().version(), 2);  // the newest fence that holds
  EXPECT_EQ(broker_.revision(), 2);
  r = Sem("get {}");
  EXPECT_EQ(r.semaphore().waiters(), 2);
  EXPECT_EQ(r.semaphore().available(), 1);

  // a releases: b and c both fit, granted in order at the release's revision.
  r = Sem("release {}", a_);
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.semaphore().version(), 3);
  EXPECT_EQ(r.semaphore().available(), 0);
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].origin, 2u);
  EXPECT_EQ(done[0].response.id(), 11u);
  EXPECT_EQ(done[0].response.semaphore().version(), 3);
  EXPECT_EQ(done[1].origin, 3u);
  EXPECT_EQ(done[1].response.semaphore().version(), 3);
  EXPECT_EQ(done[1].response.revision(), 3);

  r = Sem("holders {}");
  ASSERT_EQ(r.semaphore().holders_size(), 2);
  EXPECT_EQ(r.semaphore().holders(0).fence(), 3);
  EXPECT_EQ(r.semaphore().holders(0).session_id(), b_);
  EXPECT_EQ(r.semaphore().holders(0).permits(), 2);
  EXPECT_EQ(r.semaphore().holders(1).session_id(), c_);
  EXPECT_FALSE(r.semaphore().more());
}

TEST_F(BrokerSemaphoreTest, ReleaseNewestFirstOrByFence) {
  Sem("init { permits: 10 }");
  Sem("acquire { permits: 2 }", a_);  // fence 2
  Sem("acquire { permits: 3 }", a_);  // fence 3
  Sem("acquire { permits: 4 }", b_);  // fence 4
  // 4 of a's 5: the newest grant (3) whole, then 1 of fence 2.
  v1::Response r = Sem("release { permits: 4 }", a_);
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.semaphore().available(), 5);
  r = Sem("holders {}");
  ASSERT_EQ(r.semaphore().holders_size(), 2);
  EXPECT_EQ(r.semaphore().holders(0).fence(), 2);
  EXPECT_EQ(r.semaphore().holders(0).permits(), 1);

  r = Sem("release { permits: 2 }", a_);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "semaphore \"s\": session 1 holds 1 permits, not 2");
  EXPECT_EQ(r.error().current(), 1);
  r = Sem("release { if_version: 4 }", a_);  // b's grant, not a's
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "semaphore \"s\" has no grant at fence 4 for session 1; the "
            "session holds 1 permits");
  EXPECT_EQ(r.error().current(), 4);
  r = Sem("release { permits: 5 if_version: 4 }", b_);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "semaphore \"s\": the grant at fence 4 holds 4 permits, not 5");
  const int64_t before = broker_.revision();
  r = Sem("release { permits: 1 if_version: 4 }", b_);
  ASSERT_FALSE(r.has_error());
  EXPECT_EQ(r.semaphore().version(), before + 1);
  r = Sem("release { if_version: 4 }", b_);  // the rest of it
  EXPECT_FALSE(r.has_error());
  r = Sem("release {}", c_);
  EXPECT_EQ(r.error().message(), "semaphore \"s\": session 3 holds 0 permits");
  EXPECT_EQ(Sem("release {}", a_).semaphore().available(), 10);
  EXPECT_EQ(Sem("release {}").error().code(), kInvalidArgument);
}

TEST_F(BrokerSemaphoreTest, AHeadWaiterTimingOutLetsTheNextOneIn) {
  Sem("init { permits: 3 }");
  Sem("acquire { permits: 2 }", a_);
  broker_.Apply(Acquire(3, 20, 500), b_, 0, 2);
  broker_.Apply(Acquire(1, 21, 5000), c_, 0, 3);
  broker_.Advance(absl::Milliseconds(499));
  EXPECT_TRUE(broker_.TakeCompletions().empty());
  broker_.Advance(absl::Milliseconds(1));
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].response.id(), 20u);
  EXPECT_EQ(done[0].response.error().code(), kDeadlineExceeded);
  EXPECT_EQ(done[0].response.error().message(),
            "semaphore \"s\": timed out waiting; 1 of 3 permits are available");
  EXPECT_EQ(done[1].response.id(), 21u);
  EXPECT_TRUE(done[1].response.semaphore().acquired());
  EXPECT_EQ(done[1].response.semaphore().version(), 3);  // the timeout's step
  EXPECT_EQ(broker_.revision(), 3);
  broker_.Advance(absl::Seconds(10));
  EXPECT_TRUE(broker_.TakeCompletions().empty());
}

TEST_F(BrokerSemaphoreTest, SessionEndReleasesEverythingInOneRevision) {
  Sem("init { permits: 4 }");
  Sem("acquire { permits: 1 }", a_);  // 2
  Sem("acquire { permits: 2 }", a_);  // 3
  Sem("acquire { permits: 1 }", b_);  // 4
  broker_.Apply(Acquire(3, 30), c_, 0, 3);
  broker_.Apply(Acquire(1, 31), a_, 0, 1);   // a waits too
  EXPECT_EQ(Put("x", 3).error().code(), 0);  // revision 5
  ASSERT_FALSE(Sem("get {}").has_error());
  v1::Response closed = broker_.Session("close {}", a_);
  ASSERT_FALSE(closed.has_error()) << closed.error().message();
  EXPECT_EQ(broker_.revision(), 6);
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 2u);
  // a's own waiter is aborted; c's 3 now fit and are granted at the end's
  // revision.
  EXPECT_EQ(done[0].response.id(), 31u);
  EXPECT_EQ(done[0].response.error().code(), kAborted);
  EXPECT_EQ(done[0].response.error().message(),
            "session 1 ended while waiting for semaphore \"s\"");
  EXPECT_EQ(done[1].response.id(), 30u);
  EXPECT_EQ(done[1].response.semaphore().version(), 6);
  EXPECT_EQ(Sem("get {}").semaphore().available(), 0);
  EXPECT_EQ(Put("y", 3).error().code(), kFailedPrecondition);
  EXPECT_EQ(Put("y", 3).error().current(), 6);
}

TEST_F(BrokerSemaphoreTest, CancellingTheHeadWaiterGrantsTheNextAtTheNextTick) {
  Sem("init { permits: 2 }");
  Sem("acquire { permits: 1 }", a_);
  broker_.Apply(Acquire(2, 40), b_, 0, 7);
  broker_.Apply(Acquire(1, 41), c_, 0, 8);
  broker_.Cancel(7);
  EXPECT_TRUE(broker_.TakeCompletions().empty());
  broker_.Advance(absl::Milliseconds(1));
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 8u);
  EXPECT_EQ(done[0].response.semaphore().version(), 3);
  EXPECT_EQ(Sem("get {}").semaphore().waiters(), 0);
}

TEST_F(BrokerSemaphoreTest, SetPermitsLowersBelowHeldAndRaisesForWaiters) {
  Sem("init { permits: 4 }");
  Sem("acquire { permits: 3 }", a_);
  broker_.Apply(Acquire(4, 50), b_, 0, 2);
  broker_.Apply(Acquire(2, 51), c_, 0, 3);
  v1::Response r = Sem("set_permits { permits: 2 }");
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.semaphore().permits(), 2);
  EXPECT_EQ(r.semaphore().available(), -1);
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);  // b asks for more than there will ever be
  EXPECT_EQ(done[0].response.id(), 50u);
  EXPECT_EQ(done[0].response.error().code(), kFailedPrecondition);
  EXPECT_EQ(done[0].response.error().message(),
            "semaphore \"s\": its count was set to 2, below the 4 permits this "
            "acquire asks for");
  r = Sem("set_permits { permits: 5 }");
  EXPECT_EQ(r.semaphore().available(), 0);
  done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.id(), 51u);
  EXPECT_EQ(done[0].response.semaphore().version(), r.semaphore().version());
}

TEST_F(BrokerSemaphoreTest, AcquireErrors) {
  v1::Response r = Sem("acquire { permits: 1 }", a_);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "semaphore \"s\" has no permit count yet; init sets it");
  Sem("init { permits: 2 }");
  r = Sem("acquire { permits: 3 }", a_);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "semaphore \"s\": acquire asks for 3 permits; its count is 2");
  EXPECT_EQ(r.error().current(), 2);
  r = Sem("acquire { permits: 1 }");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "semaphore acquire needs a session");
  r = Sem("acquire { permits: 0 }", a_);
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(),
            "semaphore acquire permits is 0; it must be 1 to 1048576");
  EXPECT_EQ(Sem("init { permits: 1048577 }").error().message(),
            "semaphore init permits is 1048577; it must be 1 to 1048576");
  EXPECT_EQ(Sem("set_permits { permits: -1 }").error().code(),
            kInvalidArgument);
  EXPECT_EQ(Sem("release { permits: -1 }", a_).error().message(),
            "semaphore release permits is -1; it must be 0 (all) or more");
  EXPECT_EQ(Sem("release { if_version: 0 }", a_).error().message(),
            "semaphore release if_version is 0; it must be positive");
  EXPECT_EQ(Sem("holders { start_after: -2 }").error().code(),
            kInvalidArgument);
  EXPECT_EQ(broker_.Apply(v1::SEMAPHORE, "s", "semaphore {}").error().message(),
            "semaphore request has no operation");
  EXPECT_EQ(broker_.revision(), 1);
}

TEST_F(BrokerSemaphoreTest, FencedWritesHoldWhileTheGrantHoldsAPermit) {
  Sem("init { permits: 5 }");
  Sem("acquire { permits: 2 }", a_);  // fence 2
  EXPECT_FALSE(Put("1", 2).has_error());
  Sem("acquire { permits: 1 }", b_);  // fence 4
  Sem("release { permits: 1 }", a_);  // fence 2 keeps 1 permit
  EXPECT_FALSE(Put("2", 2).has_error());
  Sem("release {}", a_);
  v1::Response r = Put("3", 2);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(
      r.error().message(),
      "fence 2 of semaphore \"s\" no longer holds it; its newest fence is 4");
  EXPECT_EQ(r.error().current(), 4);
  EXPECT_FALSE(Put("4", 4).has_error());
  Sem("release {}", b_);
  EXPECT_EQ(Put("5", 4).error().current(), 0);
}

TEST(BrokerSemaphorePages, HoldersArePagedByFenceCountAndBytes) {
  BrokerDriver broker;
  std::vector<uint64_t> sessions;
  broker.Apply(v1::SEMAPHORE, "s", "semaphore { init { permits: 100 } }");
  for (int i = 0; i < 5; ++i) {
    sessions.push_back(broker.OpenSession());
    broker.Apply(v1::SEMAPHORE, "s", "semaphore { acquire { permits: 1 } }",
                 sessions.back());
  }
  v1::Response r = broker.Apply(
      v1::SEMAPHORE, "s", "semaphore { holders { start_after: 0 limit: 2 } }");
  ASSERT_EQ(r.semaphore().holders_size(), 2);
  EXPECT_EQ(r.semaphore().holders(1).fence(), 3);
  EXPECT_TRUE(r.semaphore().more());
  r = broker.Apply(v1::SEMAPHORE, "s",
                   "semaphore { holders { start_after: 3 limit: 2 } }");
  ASSERT_EQ(r.semaphore().holders_size(), 2);
  EXPECT_EQ(r.semaphore().holders(0).fence(), 4);
  EXPECT_TRUE(r.semaphore().more());
  r = broker.Apply(v1::SEMAPHORE, "s",
                   "semaphore { holders { start_after: 5 } }");
  ASSERT_EQ(r.semaphore().holders_size(), 1);
  EXPECT_FALSE(r.semaphore().more());

  Limits small;
  small.max_page_bytes = 10;  // one grant (8 bytes) fits, two do not
  StateDriver driver(v1::SEMAPHORE, "s", small);
  driver.Apply("semaphore { init { permits: 9 } }");
  v1::Request acquire =
      MakeRequest(v1::SEMAPHORE, "s", "semaphore { acquire { permits: 1 } }");
  for (uint64_t s = 1; s <= 3; ++s) {
    acquire.set_session_id(s);
    driver.ApplyRequest(acquire);
  }
  r = driver.Apply("semaphore { holders {} }");
  EXPECT_EQ(r.semaphore().holders_size(), 1);
  EXPECT_TRUE(r.semaphore().more());
}

// Drives the machine directly, with tokens, as the engine does.
class SemaphoreMachineTest : public ::testing::Test {
 protected:
  ApplyResult Run(StateMachine& m, const std::string& op, uint64_t session = 0,
                  uint64_t token = 0, v1::Response* response = nullptr) {
    v1::Request request =
        MakeRequest(v1::SEMAPHORE, "s", "semaphore { " + op + " }");
    request.set_session_id(session);
    v1::Response ignored;
    const ApplyContext ctx{.revision = revision_ + 1,
                           .now = testing::TestNow(),
                           .limits = limits_,
                           .token = token};
    ApplyResult result = m.Apply(request, ctx, response ? *response : ignored);
    if (result.mutated) ++revision_;
    return result;
  }
  ApplyResult End(StateMachine& m, uint64_t session) {
    const ApplyContext ctx{.revision = revision_ + 1,
                           .now = testing::TestNow(),
                           .limits = limits_};
    ApplyResult result = m.EndSession(session, ctx);
    if (result.mutated) ++revision_;
    return result;
  }
  static std::string Snap(const StateMachine& m) {
    v1::WatchSnapshot snapshot;
    m.Snapshot({}, snapshot);
    return snapshot.DebugString();
  }

  Limits limits_;
  int64_t revision_ = 0;
};

TEST_F(SemaphoreMachineTest, EventsCarryTheGrantAndTheCountsAfterTheStep) {
  SemaphoreState m;
  ApplyResult r = Run(m, "init { permits: 3 }");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].type(), v1::WatchEvent::UPDATED);
  EXPECT_FALSE(r.events[0].semaphore().has_grant());
  EXPECT_EQ(r.events[0].semaphore().permits(), 3);

  r = Run(m, "acquire { permits: 2 }", 7);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].type(), v1::WatchEvent::INSERTED);
  EXPECT_EQ(r.events[0].revision(), 2);
  EXPECT_EQ(r.events[0].semaphore().grant().fence(), 2);
  EXPECT_EQ(r.events[0].semaphore().grant().session_id(), 7u);
  EXPECT_EQ(r.events[0].semaphore().grant().permits(), 2);
  EXPECT_EQ(r.events[0].semaphore().available(), 1);

  EXPECT_TRUE(Run(m, "acquire { permits: 2 }", 8, 100).deferred);
  EXPECT_TRUE(Run(m, "acquire { permits: 1 }", 8, 101).deferred);
  r = Run(m, "release { permits: 1 }", 7);  // a partial release grants 8 once
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].type(), v1::WatchEvent::UPDATED);
  EXPECT_EQ(r.events[0].semaphore().grant().permits(), 1);
  EXPECT_EQ(r.events[1].type(), v1::WatchEvent::INSERTED);
  EXPECT_EQ(r.events[1].semaphore().grant().fence(), 3);
  for (const v1::WatchEvent& e : r.events) {
    EXPECT_EQ(e.revision(), 3);
    EXPECT_EQ(e.semaphore().available(), 0);  // the counts after the step
  }
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].token, 100u);

  // Session 7 ends: its grant goes, and 8's next waiter (1) is granted at
  // the end's revision.
  r = End(m, 7);
  EXPECT_TRUE(r.mutated);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].type(), v1::WatchEvent::REMOVED);
  EXPECT_EQ(r.events[0].semaphore().grant().permits(), 1);  // what it held
  EXPECT_EQ(r.events[1].type(), v1::WatchEvent::INSERTED);
  EXPECT_EQ(r.events[1].revision(), 4);
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].token, 101u);
  EXPECT_TRUE(m.FenceHolds(3));
  EXPECT_TRUE(m.FenceHolds(4));
  EXPECT_FALSE(m.FenceHolds(2));
  EXPECT_EQ(m.NewestFence(), 4);
  EXPECT_FALSE(End(m, 99).mutated);
}

TEST_F(SemaphoreMachineTest, TwoGrantsOfOneSessionInOneStepMerge) {
  SemaphoreState m;
  Run(m, "init { permits: 2 }");
  Run(m, "acquire { permits: 2 }", 1);
  Run(m, "acquire { permits: 1 }", 2, 10);
  Run(m, "acquire { permits: 1 }", 2, 11);
  ApplyResult r = Run(m, "release {}", 1);
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[1].type(), v1::WatchEvent::INSERTED);
  EXPECT_EQ(r.events[2].type(), v1::WatchEvent::UPDATED);
  EXPECT_EQ(r.events[2].semaphore().grant().permits(), 2);
  EXPECT_EQ(r.answers.size(), 2u);
  v1::Response holders;
  Run(m, "holders {}", 0, 0, &holders);
  ASSERT_EQ(holders.semaphore().holders_size(), 1);
  EXPECT_EQ(holders.semaphore().holders(0).permits(), 2);
  // Both answers carry the same fence; release by it takes the whole grant.
  v1::Response released;
  Run(m, "release { if_version: 3 }", 2, 0, &released);
  EXPECT_FALSE(released.has_error()) << released.error().message();
  EXPECT_EQ(m.available(), 2);
}

TEST_F(SemaphoreMachineTest, SnapshotAndSaveLoadRoundTripMidWait) {
  SemaphoreState m;
  Run(m, "init { permits: 3 }");
  Run(m, "acquire { permits: 2 }", 1);
  Run(m, "acquire { permits: 1 }", 2);
  Run(m, "acquire { permits: 3 }", 3, 50);
  v1::WatchSnapshot snapshot;
  m.Snapshot({}, snapshot);
  EXPECT_EQ(snapshot.semaphore().permits(), 3);
  EXPECT_EQ(snapshot.semaphore().available(), 0);
  ASSERT_EQ(snapshot.semaphore().holders_size(), 2);
  EXPECT_EQ(snapshot.semaphore().holders(1).fence(), 3);

  atomix::log::v1::PrimitiveSave saved;
  m.Save(saved);
  SemaphoreState loaded;
  ASSERT_TRUE(loaded.Load(saved).ok());
  EXPECT_EQ(Snap(loaded), Snap(m));
  atomix::log::v1::PrimitiveSave again;
  loaded.Save(again);
  EXPECT_EQ(again.DebugString(), saved.DebugString());
  EXPECT_EQ(loaded.waiters(), 1u);
  // The loaded waiter is granted by releases on the loaded machine.
  Run(loaded, "release {}", 1);
  ApplyResult r = Run(loaded, "release {}", 2);
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].token, 50u);
  EXPECT_EQ(loaded.available(), 0);
}

TEST_F(SemaphoreMachineTest, LoadRefusesWrongOrInconsistentSaves) {
  SemaphoreState m;
  atomix::log::v1::PrimitiveSave save;
  save.mutable_lock();
  EXPECT_EQ(m.Load(save).code(), absl::StatusCode::kDataLoss);

  auto good = [] {
    atomix::log::v1::PrimitiveSave s;
    auto* sem = s.mutable_semaphore();
    sem->set_name("s");
    sem->set_permits(3);
    auto* g = sem->add_grants();
    g->set_fence(2);
    g->set_session(1);
    g->set_permits(2);
    auto* w = sem->add_waiters();
    w->set_order(0);
    w->set_token(9);
    w->set_session(2);
    w->set_amount(2);
    w->set_deadline_us(std::numeric_limits<int64_t>::max());
    sem->set_next_order(1);
    return s;
  };
  EXPECT_TRUE(SemaphoreState().Load(good()).ok());
  std::vector<std::function<void(atomix::log::v1::SemaphoreSave&)>> breaks = {
      [](auto& s) { s.set_permits(0); },
      [](auto& s) { s.set_permits(-1); },
      [](auto& s) { s.mutable_grants(0)->set_permits(0); },
      [](auto& s) { s.mutable_grants(0)->set_session(0); },
      [](auto& s) { *s.add_grants() = s.grants(0); },
      [](auto& s) { s.mutable_waiters(0)->set_amount(4); },
      [](auto& s) { s.mutable_waiters(0)->set_order(1); },
  };
  for (size_t i = 0; i < breaks.size(); ++i) {
    atomix::log::v1::PrimitiveSave bad = good();
    breaks[i](*bad.mutable_semaphore());
    absl::Status status = SemaphoreState().Load(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << i;
    EXPECT_NE(status.message().find("saved semaphore \"s\""), std::string::npos)
        << status;
  }
}

TEST_F(SemaphoreMachineTest, ReadsAndRefusalsChangeNothing) {
  SemaphoreState m;
  Run(m, "init { permits: 1 }");
  Run(m, "acquire { permits: 1 }", 1);
  for (const char* op :
       {"get {}", "holders {}", "acquire { permits: 1 try_only: true }",
        "release { permits: 2 }", "init { permits: 2 }"}) {
    ApplyResult r = Run(m, op, 1);
    EXPECT_FALSE(r.mutated) << op;
    EXPECT_TRUE(r.events.empty()) << op;
  }
  EXPECT_EQ(revision_, 2);
  EXPECT_EQ(m.NextDeadline(), absl::InfiniteFuture());
}

TEST_F(BrokerSemaphoreTest, DescribeShowsGrantsWithFencesAndWaiters) {
  using testing::Holdings;
  using Lines = std::vector<std::string>;
  ASSERT_EQ(a_, 1u);
  ASSERT_EQ(c_, 3u);
  Sem("init { permits: 5 }");                 // 1
  broker_.Apply(Acquire(2, 10), a_);          // 2
  broker_.Apply(Acquire(1, 11), b_);          // 3
  broker_.Apply(Acquire(3, 12), c_, 0, 3);    // waits: 2 available
  ASSERT_TRUE(broker_.last_deferred());
  v1::PrimitiveInfo info = broker_.Describe("s");
  EXPECT_EQ(info.summary(), "2 of 5 permits available, 1 waiting");
  EXPECT_EQ(Holdings(info.holders()), (Lines{"1 | 2 permits | 2", "2 | 1 permit | 3"}));
  EXPECT_EQ(Holdings(info.waiters()), (Lines{"3 | 3 permits | 0"}));

  Sem("release {}", a_);  // 4: c's 3 fit
  info = broker_.Describe("s");
  EXPECT_EQ(info.summary(), "1 of 5 permits available");
  EXPECT_EQ(Holdings(info.holders()), (Lines{"2 | 1 permit | 3", "3 | 3 permits | 4"}));
  EXPECT_EQ(info.waiters_size(), 0);
}

TEST_F(BrokerSemaphoreTest, DescribeListsAtMostAHundredGrants) {
  Sem("init { permits: 1000 }");
  for (int i = 0; i < 150; ++i) {
    broker_.Apply(Acquire(1, 100 + i), broker_.OpenSession());
  }
  const v1::PrimitiveInfo info = broker_.Describe("s");
  EXPECT_EQ(info.summary(), "850 of 1000 permits available");
  ASSERT_EQ(info.holders_size(), kMaxDescribed);
  EXPECT_EQ(info.holders(0).fence(), 2);
  EXPECT_EQ(info.holders(99).fence(), 101);
}

}  // namespace
}  // namespace atomix::broker
