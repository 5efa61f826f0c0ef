// The fair lock: FIFO grants with fences, try-only, timeouts on the logical
// clock, release by fence, cancellation, and fenced Map/Value writes. No
// network.
#include <string>
#include <vector>

#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/state/lock.h"
#include "broker-sim/src/store/memory_store.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::BrokerDriver;
using testing::MakeRequest;

constexpr int kInvalidArgument = 3;
constexpr int kDeadlineExceeded = 4;
constexpr int kFailedPrecondition = 9;

v1::Request Acquire(uint64_t id, int64_t timeout_ms = 0) {
  return testing::LockAcquire("db", id, timeout_ms);
}

class BrokerLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = broker_.OpenSession();  // id 1; opening takes no revision
    b_ = broker_.OpenSession();  // 2
    c_ = broker_.OpenSession();  // 3
  }
  v1::Response Lock(const std::string& op, uint64_t session = 0) {
    return broker_.Apply(v1::LOCK, "db", "lock { " + op + " }", session);
  }

  BrokerDriver broker_;
  uint64_t a_ = 0, b_ = 0, c_ = 0;
};

TEST_F(BrokerLockTest, GrantsInFifoOrderWithIncreasingFences) {
  v1::Response r = broker_.Apply(Acquire(10), a_);
  EXPECT_FALSE(broker_.last_deferred());
  EXPECT_TRUE(r.lock().acquired());
  EXPECT_EQ(r.lock().version(), 1);
  EXPECT_EQ(r.revision(), 1);

  broker_.Apply(Acquire(11), c_, 0, 3);
  EXPECT_TRUE(broker_.last_deferred());
  broker_.Apply(Acquire(12), b_, 0, 2);
  EXPECT_TRUE(broker_.last_deferred());
  EXPECT_EQ(broker_.revision(), 1);  // waiting takes no revision
  EXPECT_TRUE(broker_.TakeCompletions().empty());

  // a releases: c (first in line) gets it at the release's revision.
  r = Lock("release {}", a_);
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.revision(), 2);
  EXPECT_EQ(r.lock().version(), 2);
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 3u);
  EXPECT_EQ(done[0].response.id(), 11u);
  EXPECT_EQ(done[0].response.lock().version(), 2);
  EXPECT_EQ(done[0].response.revision(), 2);

  // c releases by fence: b gets it.
  r = Lock("release { if_version: 2 }", 0);
  EXPECT_FALSE(r.has_error()) << r.error().message();
  done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 2u);
  EXPECT_EQ(done[0].response.id(), 12u);
  EXPECT_EQ(done[0].response.lock().version(), 3);

  r = Lock("get {}");
  EXPECT_TRUE(r.lock().locked());
  EXPECT_EQ(r.lock().version(), 3);
  Lock("release {}", b_);
  r = Lock("get {}");
  EXPECT_FALSE(r.lock().locked());
  EXPECT_EQ(r.lock().version(), 0);
  EXPECT_EQ(broker_.revision(), 4);
}

TEST_F(BrokerLockTest, TryOnlyNeverWaits) {
  Lock("acquire {}", a_);
  v1::Response r = Lock("acquire { try_only: true }", b_);
  EXPECT_FALSE(broker_.last_deferred());
  EXPECT_FALSE(r.has_error());
  EXPECT_FALSE(r.lock().acquired());
  EXPECT_EQ(r.lock().version(), 1);  // the holder's fence
  EXPECT_EQ(r.revision(), 1);
  Lock("release {}", a_);
  r = Lock("acquire { try_only: true }", b_);
  EXPECT_TRUE(r.lock().acquired());
  EXPECT_EQ(r.lock().version(), 3);
}

TEST_F(BrokerLockTest, AWaiterTimesOutOnTheLogicalClock) {
  Lock("acquire {}", a_);
  broker_.Apply(Acquire(20, 500), b_);
  ASSERT_TRUE(broker_.last_deferred());
  broker_.Apply(Acquire(21, 2000), c_);
  broker_.Advance(absl::Milliseconds(499));
  EXPECT_TRUE(broker_.TakeCompletions().empty());
  broker_.Advance(absl::Milliseconds(1));
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.id(), 20u);
  EXPECT_EQ(done[0].response.error().code(), kDeadlineExceeded);
  EXPECT_EQ(done[0].response.error().message(),
            "lock \"db\": timed out waiting; current fence is 1");
  EXPECT_EQ(broker_.revision(), 1);
  // The timed-out waiter left the queue: c is next.
  Lock("release {}", a_);
  done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.id(), 21u);
  EXPECT_EQ(done[0].response.lock().version(), 2);
  // c's old deadline no longer matters.
  broker_.Advance(absl::Seconds(5));
  EXPECT_TRUE(broker_.TakeCompletions().empty());
  EXPECT_TRUE(Lock("get { with_version: 2 }").lock().locked());
}

TEST_F(BrokerLockTest, ReleaseChecksTheHolder) {
  Lock("acquire {}", a_);
  v1::Response r = Lock("release {}", b_);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "lock \"db\" is not held by session 2; current fence is 1");
  EXPECT_EQ(r.error().current(), 1);
  r = Lock("release { if_version: 3 }", b_);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().current(), 1);
  // Any session (or none) may release by the right fence.
  r = Lock("release { if_version: 1 }", b_);
  EXPECT_FALSE(r.has_error());
  r = Lock("release { if_version: 1 }");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "lock \"db\" is not held by fence 1; it is free");
  EXPECT_EQ(r.error().current(), 0);
}

TEST_F(BrokerLockTest, GetWithVersion) {
  Lock("acquire {}", a_);
  EXPECT_TRUE(Lock("get { with_version: 1 }").lock().locked());
  EXPECT_FALSE(Lock("get { with_version: 3 }").lock().locked());
  EXPECT_EQ(Lock("get { with_version: 3 }").lock().version(), 1);
  // Reads of an unknown lock bind nothing.
  EXPECT_FALSE(broker_.Apply(v1::LOCK, "other", "lock { get {} }").lock().locked());
}

TEST_F(BrokerLockTest, AcquireNeedsASession) {
  v1::Response r = Lock("acquire {}");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "lock acquire needs a session");
  EXPECT_EQ(Lock("release {}").error().code(), kInvalidArgument);
  EXPECT_EQ(broker_.Apply(v1::LOCK, "db", "lock {}").error().code(),
            kInvalidArgument);
  EXPECT_EQ(broker_.Apply(v1::LOCK, "db", "counter { get {} }").error().code(),
            kInvalidArgument);
}

TEST_F(BrokerLockTest, CancellingAnOriginDropsItsWaitersSilently) {
  Lock("acquire {}", a_);
  broker_.Apply(Acquire(30), b_, 0, 7);
  broker_.Apply(Acquire(31), c_, 0, 8);
  broker_.Cancel(7);
  Lock("release {}", a_);
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 8u);
  EXPECT_EQ(done[0].response.id(), 31u);
}

TEST_F(BrokerLockTest, SameSessionWaitsBehindItself) {
  Lock("acquire {}", a_);
  broker_.Apply(Acquire(40, 100), a_);
  EXPECT_TRUE(broker_.last_deferred());
  broker_.Advance(absl::Milliseconds(100));
  ASSERT_EQ(broker_.TakeCompletions().size(), 1u);
}

TEST_F(BrokerLockTest, FencedWritesApplyOnlyWhileTheFenceHolds) {
  Lock("acquire {}", a_);  // fence 1
  v1::Response r = broker_.Apply(
      v1::MAP, "m",
      R"pb(map { put { key: "k" value: "1" if_fence { lock: "db" version: 1 } } })pb");
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.revision(), 2);
  r = broker_.Apply(v1::VALUE, "v",
                    R"pb(value { set { value: "1" if_fence { lock: "db" version: 1 } } })pb");
  EXPECT_FALSE(r.has_error());

  broker_.Apply(Acquire(50), b_);
  Lock("release {}", a_);  // b gets fence 4
  r = broker_.Apply(
      v1::MAP, "m",
      R"pb(map { put { key: "k" value: "2" if_fence { lock: "db" version: 1 } } })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "fence 1 of lock \"db\" no longer holds it; its newest fence is 4");
  EXPECT_EQ(r.error().current(), 4);
  EXPECT_EQ(r.revision(), 4);
  r = broker_.Apply(
      v1::MAP, "m",
      R"pb(map { remove { key: "k" if_fence { lock: "db" version: 1 } } })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  r = broker_.Apply(v1::VALUE, "v",
                    R"pb(value { delete { if_fence { lock: "db" version: 1 } } })pb");
  EXPECT_EQ(r.error().current(), 4);
  r = broker_.Apply(
      v1::MAP, "m",
      R"pb(map { update { key: "k" value: "3" if_fence { lock: "db" version: 4 } } })pb");
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(broker_.Apply(v1::MAP, "m", R"pb(map { get { key: "k" } })pb")
                .map().entry().value(),
            "3");
  // A free lock, or an unknown one, holds no fence.
  Lock("release {}", b_);
  r = broker_.Apply(
      v1::MAP, "m",
      R"pb(map { put { key: "k" value: "4" if_fence { lock: "db" version: 4 } } })pb");
  EXPECT_EQ(r.error().current(), 0);
  EXPECT_EQ(r.error().message(),
            "fence 4 of lock \"db\" no longer holds it; nothing holds it");
  r = broker_.Apply(
      v1::MAP, "m",
      R"pb(map { put { key: "k" value: "4" if_fence { lock: "nope" version: 1 } } })pb");
  EXPECT_EQ(r.error().current(), 0);
  // A fence naming another primitive type.
  r = broker_.Apply(
      v1::MAP, "m",
      R"pb(map { put { key: "k" value: "4" if_fence { lock: "v" version: 1 } } })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(), "fence names \"v\", a value, which grants no fences");
  // Bad fences are invalid arguments.
  r = broker_.Apply(
      v1::MAP, "m",
      R"pb(map { put { key: "k" value: "4" if_fence { lock: "db" version: 0 } } })pb");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "fence version is 0; it must be positive");
  r = broker_.Apply(v1::VALUE, "v",
                    R"pb(value { set { value: "1" if_fence { version: 3 } } })pb");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "fence lock name is empty");
}

TEST_F(BrokerLockTest, DescribeShowsTheHolderAndTheQueue) {
  using testing::Holdings;
  EXPECT_EQ(broker_.Describe("db").summary(), "");  // not bound yet
  Lock("acquire {}", a_);                          // fence 1
  broker_.Apply(Acquire(11), c_, 0, 3);
  broker_.Apply(Acquire(12), b_, 0, 2);
  v1::PrimitiveInfo info = broker_.Describe("db");
  EXPECT_EQ(info.name(), "db");
  EXPECT_EQ(info.type(), v1::LOCK);
  EXPECT_EQ(info.summary(), "held by session 1 (fence 1), 2 waiting");
  EXPECT_EQ(Holdings(info.holders()), (std::vector<std::string>{"1 | lock | 1"}));
  EXPECT_EQ(Holdings(info.waiters()),
            (std::vector<std::string>{"3 | lock | 0", "2 | lock | 0"}));
  EXPECT_EQ(info.holders(0).name(), "db");
  EXPECT_EQ(info.waiters(1).type(), v1::LOCK);

  Lock("release {}", a_);  // c gets it at fence 2
  info = broker_.Describe("db");
  EXPECT_EQ(info.summary(), "held by session 3 (fence 2), 1 waiting");
  EXPECT_EQ(Holdings(info.holders()), (std::vector<std::string>{"3 | lock | 2"}));
  EXPECT_EQ(Holdings(info.waiters()), (std::vector<std::string>{"2 | lock | 0"}));

  Lock("release {}", c_);
  Lock("release {}", b_);
  info = broker_.Describe("db");
  EXPECT_EQ(info.summary(), "free");
  EXPECT_EQ(info.holders_size(), 0);
  EXPECT_EQ(info.waiters_size(), 0);
}

TEST_F(BrokerLockTest, DescribeListsAtMostAHundredWaitersAndCountsThemAll) {
  Lock("acquire {}", a_);
  std::vector<uint64_t> sessions;
  for (int i = 0; i < 150; ++i) {
    sessions.push_back(broker_.OpenSession());
    broker_.Apply(Acquire(100 + i), sessions.back(), 0, 10 + i);
    ASSERT_TRUE(broker_.last_deferred());
  }
  const v1::PrimitiveInfo info = broker_.Describe("db");
  EXPECT_EQ(info.summary(), "held by session 1 (fence 1), 150 waiting");
  ASSERT_EQ(info.waiters_size(), kMaxDescribed);
  for (int i = 0; i < kMaxDescribed; ++i) {
    EXPECT_EQ(info.waiters(i).session(), sessions[i]) << i;  // queue order
    EXPECT_EQ(info.waiters(i).what(), "lock");
  }
}

TEST(BrokerLockState, HolderAndQueueAreVisible) {
  BrokerDriver broker;
  const uint64_t a = broker.OpenSession();
  broker.Apply(v1::LOCK, "l", "lock { acquire {} }", a);
  EXPECT_EQ(broker.Apply(v1::LOCK, "l", "lock { get {} }").lock().version(), 1);
  LockState lock;
  EXPECT_EQ(lock.fence(), 0);
  EXPECT_EQ(lock.NextDeadline(), absl::InfiniteFuture());
}

}  // namespace
}  // namespace atomix::broker

namespace atomix::broker {
namespace {

// Through the broker core, as the server calls it: an immediate grant must
// answer with the acquire's own request id, or the client never matches it.
TEST(BrokerLockIds, ImmediateGrantEchoesTheRequestId) {
  Broker broker(std::make_unique<MemoryStore>(Limits{}), Limits{});
  v1::Request open;
  open.set_id(7);
  open.mutable_session()->mutable_open()->set_ttl_ms(10000);
  v1::Response opened = broker.Execute(open);
  ASSERT_FALSE(opened.has_error()) << opened.error().message();
  ASSERT_EQ(opened.id(), 7u);

  v1::RequestBatch batch;
  v1::Request* acquire = batch.add_requests();
  *acquire = testing::MakeRequest(v1::LOCK, "db", "lock { acquire {} }", 41);
  acquire->set_session_id(opened.session().session_id());
  v1::ResponseBatch out;
  std::vector<Completion> completions;
  broker.Execute(batch, 1, out, completions);
  ASSERT_EQ(out.responses_size(), 1);
  EXPECT_EQ(out.responses(0).id(), 41u);
  EXPECT_TRUE(out.responses(0).lock().acquired());
  EXPECT_TRUE(completions.empty());
}

}  // namespace
}  // namespace atomix::broker
