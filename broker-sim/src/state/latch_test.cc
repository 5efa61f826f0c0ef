// The count-down latch: arming only at zero, count-downs, awaits answered in
// the step that reaches zero, timeouts on the logical clock, session ends,
// cancellation, watch events, snapshots, Save/Load and validation. No
// network.
#include "broker-sim/src/state/latch.h"

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

v1::Request Await(uint64_t id, int64_t timeout_ms = 0) {
  v1::Request request = MakeRequest(v1::LATCH, "go", "latch { await {} }", id);
  request.set_timeout_ms(timeout_ms);
  return request;
}

class BrokerLatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = broker_.OpenSession();
    b_ = broker_.OpenSession();
  }
  v1::Response Latch(const std::string& op, uint64_t session = 0) {
    return broker_.Apply(v1::LATCH, "go", "latch { " + op + " }", session);
  }

  BrokerDriver broker_;
  uint64_t a_ = 0, b_ = 0;
};

TEST_F(BrokerLatchTest, ReachingZeroAnswersEveryWaiterInOneStep) {
  v1::Response r = Latch("try_set_count { count: 3 }");
  EXPECT_TRUE(r.latch().set());
  EXPECT_EQ(r.latch().count(), 3);
  EXPECT_EQ(r.latch().generation(), 1);
  EXPECT_EQ(r.revision(), 1);

  broker_.Apply(Await(10), a_, 0, 2);
  EXPECT_TRUE(broker_.last_deferred());
  broker_.Apply(Await(11), 0, 0, 3);  // without a session
  EXPECT_TRUE(broker_.last_deferred());
  EXPECT_EQ(broker_.revision(), 1);  // waiting takes no revision
  EXPECT_EQ(Latch("get {}").latch().waiters(), 2);

  r = Latch("count_down {}");
  EXPECT_EQ(r.latch().count(), 2);
  EXPECT_EQ(r.revision(), 2);
  r = Latch("count_down {}");
  EXPECT_EQ(r.latch().count(), 1);
  EXPECT_TRUE(broker_.TakeCompletions().empty());
  r = Latch("count_down {}");
  EXPECT_EQ(r.latch().count(), 0);
  EXPECT_EQ(r.revision(), 4);
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].origin, 2u);
  EXPECT_EQ(done[0].response.id(), 10u);
  EXPECT_EQ(done[1].origin, 3u);
  EXPECT_EQ(done[1].response.id(), 11u);
  for (const Completion& c : done) {
    EXPECT_FALSE(c.response.has_error()) << c.response.error().message();
    EXPECT_EQ(c.response.revision(), 4);
    EXPECT_EQ(c.response.latch().count(), 0);
    EXPECT_EQ(c.response.latch().generation(), 1);
  }
  EXPECT_EQ(Latch("get {}").latch().waiters(), 0);
}

TEST_F(BrokerLatchTest, SetOnlyAtZeroAndCountDownStopsAtZero) {
  Latch("try_set_count { count: 2 }");
  v1::Response r = Latch("try_set_count { count: 5 }");
  EXPECT_FALSE(r.has_error());
  EXPECT_FALSE(r.latch().set());
  EXPECT_EQ(r.latch().count(), 2);
  EXPECT_EQ(r.latch().generation(), 1);
  EXPECT_EQ(r.revision(), 1);  // nothing changed
  Latch("count_down {}");
  Latch("count_down {}");
  r = Latch("count_down {}");  // at zero: by nothing
  EXPECT_FALSE(r.has_error());
  EXPECT_EQ(r.latch().count(), 0);
  EXPECT_EQ(r.revision(), 3);
  // An await at zero is answered at once.
  r = broker_.Apply(Await(20), a_);
  EXPECT_FALSE(broker_.last_deferred());
  EXPECT_EQ(r.latch().count(), 0);
  EXPECT_EQ(r.latch().generation(), 1);
  // Armed again: the next generation.
  r = Latch("try_set_count { count: 1 }");
  EXPECT_TRUE(r.latch().set());
  EXPECT_EQ(r.latch().generation(), 2);
  EXPECT_EQ(r.revision(), 4);
  r = Latch("get {}");
  EXPECT_EQ(r.latch().count(), 1);
  EXPECT_EQ(r.latch().generation(), 2);
}

TEST_F(BrokerLatchTest, AWaiterTimesOutOnTheLogicalClock) {
  Latch("try_set_count { count: 1 }");
  broker_.Apply(Await(30, 500), a_);
  broker_.Apply(Await(31, 2000), b_);
  broker_.Advance(absl::Milliseconds(499));
  EXPECT_TRUE(broker_.TakeCompletions().empty());
  broker_.Advance(absl::Milliseconds(1));
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.id(), 30u);
  EXPECT_EQ(done[0].response.error().code(), kDeadlineExceeded);
  EXPECT_EQ(done[0].response.error().message(), "latch \"go\": timed out waiting; count is 1");
  EXPECT_EQ(broker_.revision(), 1);
  Latch("count_down {}");
  done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.id(), 31u);
  EXPECT_FALSE(done[0].response.has_error());
  broker_.Advance(absl::Seconds(5));
  EXPECT_TRUE(broker_.TakeCompletions().empty());
}

TEST_F(BrokerLatchTest, ASessionEndWithdrawsOnlyItsWaiters) {
  Latch("try_set_count { count: 1 }");
  broker_.Apply(Await(40), a_, 0, 2);
  broker_.Apply(Await(41), b_, 0, 3);
  broker_.Session("close {}", a_);
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 2u);
  EXPECT_EQ(done[0].response.error().code(), kAborted);
  EXPECT_EQ(done[0].response.error().message(), "session 1 ended while waiting for latch \"go\"");
  EXPECT_EQ(broker_.revision(), 1);  // a waiter owns nothing: no revision
  EXPECT_EQ(Latch("get {}").latch().count(), 1);
  Latch("count_down {}");
  done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.id(), 41u);
}

TEST_F(BrokerLatchTest, ASessionEndAnswersExactlyItsRemainingWaiters) {
  Latch("try_set_count { count: 1 }");
  broker_.Apply(Await(60), a_, 0, 2);
  broker_.Apply(Await(61), b_, 0, 3);
  broker_.Apply(Await(62, 100), a_, 0, 4);
  broker_.Apply(Await(63), a_, 0, 5);
  broker_.Apply(testing::ParseRequest("cancel { request_id: 63 }"), a_, 0, 5);
  broker_.Advance(absl::Milliseconds(100));  // 62 times out
  ASSERT_EQ(broker_.TakeCompletions().size(), 2u);
  broker_.Session("close {}", a_);
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.id(), 60u);
  EXPECT_EQ(done[0].response.error().code(), kAborted);
  EXPECT_EQ(Latch("get {}").latch().waiters(), 1);
}

TEST_F(BrokerLatchTest, ACancelWithdrawsAWaiterAndAClosedStreamOnlyOneWithoutASession) {
  Latch("try_set_count { count: 1 }");
  broker_.Apply(Await(50), a_, 0, 7);
  broker_.Apply(Await(51), b_, 0, 8);
  broker_.Apply(Await(52), 0, 0, 9);  // without a session
  // The stream of b's await closes: a session's waiter outlives it.
  broker_.Cancel(8);
  broker_.Cancel(9);
  EXPECT_EQ(Latch("get {}").latch().waiters(), 2);
  // A cancel by request id withdraws a's, answered CANCELLED.
  v1::Response r = broker_.Apply(testing::ParseRequest("cancel { request_id: 50 }"), a_, 0, 7);
  EXPECT_TRUE(r.cancel().cancelled());
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.error().code(), 1);  // CANCELLED
  EXPECT_EQ(Latch("get {}").latch().waiters(), 1);
  // b's waiter is still answered when the count reaches zero (to its
  // stream, which the server drops if it is gone).
  Latch("count_down {}");
  done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 8u);
  EXPECT_EQ(done[0].response.id(), 51u);
}

TEST_F(BrokerLatchTest, ALatchGrantsNoFences) {
  Latch("try_set_count { count: 1 }");
  v1::Response r = broker_.Apply(v1::MAP, "m", R"pb(map {
                                                      put {
                                                        key: "k"
                                                        value: "1"
                                                        if_fence { lock: "go" version: 1 }
                                                      }
                                                    })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(), "fence names \"go\", a latch, which grants no fences");
  EXPECT_EQ(r.error().current(), 0);
}

TEST_F(BrokerLatchTest, ValidationNamesTheProblem) {
  v1::Response r = Latch("try_set_count { count: 0 }");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "latch try_set_count: count is 0; it must be 1 .. 2147483648");
  r = Latch("try_set_count { count: 2147483649 }");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(Latch("try_set_count { count: 2147483648 }").latch().count(), 2147483648);
  EXPECT_EQ(broker_.Apply(v1::LATCH, "go", "latch {}").error().code(), kInvalidArgument);
  EXPECT_EQ(broker_.Apply(v1::LATCH, "go", "barrier { get {} }").error().code(), kInvalidArgument);
  EXPECT_EQ(broker_.Apply(v1::COUNTER, "go", "counter { get {} }").error().code(),
            kFailedPrecondition);
}

TEST(BrokerLatchState, EventsSnapshotAndDirectValidation) {
  StateDriver latch(v1::LATCH, "go");
  v1::Response r = latch.Apply("latch { try_set_count { count: 0 } }");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "latch \"go\": count is 0; it must be 1 .. 2147483648");
  EXPECT_EQ(latch.Apply("latch {}").error().code(), kInvalidArgument);
  EXPECT_EQ(latch.Apply("lock { get {} }").error().code(), kInvalidArgument);

  latch.Apply("latch { try_set_count { count: 2 } }");
  ASSERT_EQ(latch.last_events().size(), 1u);
  EXPECT_EQ(latch.last_events()[0].type(), v1::WatchEvent::INSERTED);
  EXPECT_EQ(latch.last_events()[0].revision(), 1);
  EXPECT_EQ(latch.last_events()[0].latch().count(), 2);
  EXPECT_EQ(latch.last_events()[0].latch().generation(), 1);
  latch.Apply("latch { try_set_count { count: 2 } }");  // refused: no event
  EXPECT_TRUE(latch.last_events().empty());
  latch.ApplyRequest(Await(1));
  EXPECT_TRUE(latch.last_events().empty());
  latch.Apply("latch { get {} }");
  EXPECT_FALSE(latch.last_mutated());
  latch.Apply("latch { count_down {} }");
  ASSERT_EQ(latch.last_events().size(), 1u);
  EXPECT_EQ(latch.last_events()[0].type(), v1::WatchEvent::UPDATED);
  EXPECT_EQ(latch.last_events()[0].revision(), 2);
  EXPECT_EQ(latch.last_events()[0].latch().count(), 1);
  v1::WatchSnapshot snapshot = latch.Snapshot();
  EXPECT_EQ(snapshot.latch().count(), 1);
  EXPECT_EQ(snapshot.latch().generation(), 1);
  latch.Apply("latch { count_down {} }");
  latch.Apply("latch { count_down {} }");  // at zero: no change
  EXPECT_FALSE(latch.last_mutated());
  EXPECT_TRUE(latch.last_events().empty());
}

TEST(BrokerLatchState, SaveAndLoadMidWait) {
  StateDriver latch(v1::LATCH, "go");
  latch.Apply("latch { try_set_count { count: 2 } }");
  v1::Request first = Await(1, 1000);
  first.set_session_id(9);
  latch.ApplyRequest(first);
  latch.Apply("latch { count_down {} }");
  atomix::log::v1::PrimitiveSave saved;
  latch.machine().Save(saved);
  ASSERT_TRUE(saved.has_latch());
  EXPECT_EQ(saved.latch().waiters_size(), 1);

  LatchState copy;
  ASSERT_TRUE(copy.Load(saved).ok());
  v1::WatchSnapshot a, b;
  latch.machine().Snapshot({}, a);
  copy.Snapshot({}, b);
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
  EXPECT_EQ(copy.waiters(), 1u);
  EXPECT_EQ(copy.NextDeadline(), testing::TestNow() + absl::Seconds(1));
  atomix::log::v1::PrimitiveSave again;
  copy.Save(again);
  EXPECT_EQ(saved.SerializeAsString(), again.SerializeAsString());

  // The loaded waiter is answered by the count-down that reaches zero, and
  // its session's end would have withdrawn it.
  const Limits limits;
  v1::Response response;
  ApplyResult step = copy.Apply(MakeRequest(v1::LATCH, "go", "latch { count_down {} }"),
                                ApplyContext{.revision = 3, .limits = limits}, response);
  ASSERT_EQ(step.answers.size(), 1u);
  EXPECT_EQ(step.answers[0].response.latch().generation(), 1);
  LatchState other;
  ASSERT_TRUE(other.Load(saved).ok());
  step = other.EndSession(9, ApplyContext{.revision = 3, .limits = limits});
  ASSERT_EQ(step.answers.size(), 1u);
  EXPECT_EQ(step.answers[0].response.error().code(), kAborted);
  EXPECT_FALSE(step.mutated);
}

TEST(BrokerLatchState, LoadRefusesWrongOrInconsistentSaves) {
  LatchState latch;
  atomix::log::v1::PrimitiveSave save;
  save.mutable_lock();
  EXPECT_EQ(latch.Load(save).code(), absl::StatusCode::kDataLoss);

  auto load = [](const std::string& text) {
    atomix::log::v1::PrimitiveSave in;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &in)) << text;
    LatchState fresh;
    return fresh.Load(in);
  };
  EXPECT_TRUE(
      load("latch { count: 2 generation: 1 waiters { order: 0 token: 5 } next_order: 1 }").ok());
  EXPECT_EQ(load("latch { count: -1 generation: 1 }").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(load("latch { count: 1 generation: 0 }").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      load("latch { count: 0 generation: 1 waiters { order: 0 token: 5 } next_order: 1 }").code(),
      absl::StatusCode::kDataLoss);
  EXPECT_EQ(load("latch { count: 1 generation: 1 waiters { order: 0 token: 5 } "
                 "waiters { order: 1 token: 5 } next_order: 2 }")
                .code(),
            absl::StatusCode::kDataLoss);
  absl::Status s =
      load("latch { count: 1 generation: 1 waiters { order: 3 token: 5 } next_order: 1 }");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "the saved latch \"\" holds waiter order 3 out of sequence (next order 1)");
  (void)kDataLoss;
}

TEST_F(BrokerLatchTest, DescribeShowsTheCountAndTheWaiters) {
  using testing::Holdings;
  using Lines = std::vector<std::string>;
  ASSERT_EQ(a_, 1u);
  Latch("try_set_count { count: 3 }");  // generation 1
  broker_.Apply(Await(10), a_, 0, 2);
  broker_.Apply(Await(11), 0, 0, 3);  // without a session
  v1::PrimitiveInfo info = broker_.Describe("go");
  EXPECT_EQ(info.summary(), "count 3 (generation 1), 2 waiting");
  EXPECT_EQ(info.holders_size(), 0);
  EXPECT_EQ(Holdings(info.waiters()), (Lines{"1 | await | 0", "0 | await | 0"}));
  Latch("count_down {}");
  EXPECT_EQ(broker_.Describe("go").summary(), "count 2 (generation 1), 2 waiting");
  Latch("count_down {}");
  Latch("count_down {}");
  info = broker_.Describe("go");
  EXPECT_EQ(info.summary(), "count 0 (generation 1)");
  EXPECT_EQ(info.waiters_size(), 0);
}

}  // namespace
}  // namespace atomix::broker
