// The cyclic barrier: Init once, arrivals answered together by the trip in
// arrival order, generations, timeouts and cancels that withdraw one party,
// breaks when a waiting party's session ends, watch events, snapshots,
// Save/Load and validation. No network.
#include "broker-sim/src/state/barrier.h"

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

v1::Request Await(uint64_t id, int64_t timeout_ms = 0) {
  v1::Request request = MakeRequest(v1::BARRIER, "b", "barrier { await {} }", id);
  request.set_timeout_ms(timeout_ms);
  return request;
}

class BrokerBarrierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = broker_.OpenSession();
    b_ = broker_.OpenSession();
    c_ = broker_.OpenSession();
  }
  v1::Response Barrier(const std::string& op, uint64_t session = 0) {
    return broker_.Apply(v1::BARRIER, "b", "barrier { " + op + " }", session);
  }

  BrokerDriver broker_;
  uint64_t a_ = 0, b_ = 0, c_ = 0;
};

TEST_F(BrokerBarrierTest, TheLastArrivalTripsEveryoneInArrivalOrder) {
  v1::Response r = Barrier("init { parties: 3 }");
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.barrier().parties(), 3);
  EXPECT_EQ(r.barrier().generation(), 0);
  EXPECT_EQ(r.revision(), 1);

  broker_.Apply(Await(10), c_, 0, 3);
  EXPECT_TRUE(broker_.last_deferred());
  EXPECT_EQ(broker_.revision(), 2);  // an arrival takes a revision
  broker_.Apply(Await(11), a_, 0, 1);
  EXPECT_TRUE(broker_.last_deferred());
  EXPECT_EQ(Barrier("get {}").barrier().waiting(), 2);
  EXPECT_TRUE(broker_.TakeCompletions().empty());

  r = broker_.Apply(Await(12), b_, 0, 2);
  EXPECT_FALSE(broker_.last_deferred());
  EXPECT_EQ(r.revision(), 4);
  EXPECT_EQ(r.barrier().generation(), 0);
  EXPECT_EQ(r.barrier().arrival(), 2);
  EXPECT_EQ(r.barrier().parties(), 3);
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].origin, 3u);
  EXPECT_EQ(done[0].response.id(), 10u);
  EXPECT_EQ(done[0].response.barrier().arrival(), 0);
  EXPECT_EQ(done[1].origin, 1u);
  EXPECT_EQ(done[1].response.barrier().arrival(), 1);
  for (const Completion& c : done) {
    EXPECT_EQ(c.response.revision(), 4);
    EXPECT_EQ(c.response.barrier().generation(), 0);
  }
  r = Barrier("get {}");
  EXPECT_EQ(r.barrier().generation(), 1);
  EXPECT_EQ(r.barrier().waiting(), 0);

  // The next generation works the same way.
  broker_.Apply(Await(13), a_);
  broker_.Apply(Await(14), b_);
  r = broker_.Apply(Await(15), c_);
  EXPECT_EQ(r.barrier().generation(), 1);
  EXPECT_EQ(broker_.TakeCompletions().size(), 2u);
}

TEST_F(BrokerBarrierTest, InitOnceAndAwaitNeedsIt) {
  v1::Response r = broker_.Apply(Await(1), a_);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(), "barrier \"b\" has no party count yet; Init it first");
  EXPECT_EQ(broker_.revision(), 0);
  Barrier("init { parties: 2 }");
  r = Barrier("init { parties: 2 }");  // the same count: nothing changes
  EXPECT_FALSE(r.has_error());
  EXPECT_EQ(r.revision(), 1);
  r = Barrier("init { parties: 4 }");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(), "barrier \"b\" has 2 parties, not 4");
  EXPECT_EQ(r.error().current(), 2);
  // One party trips alone.
  StateDriver one(v1::BARRIER, "one");
  one.Apply("barrier { init { parties: 1 } }");
  v1::Request await = Await(2);
  await.set_session_id(5);
  r = one.ApplyRequest(await);
  EXPECT_FALSE(r.has_error());
  EXPECT_EQ(r.barrier().arrival(), 0);
  EXPECT_EQ(r.barrier().generation(), 0);
  ASSERT_EQ(one.last_events().size(), 1u);
  EXPECT_TRUE(one.last_events()[0].barrier().tripped());
  EXPECT_EQ(one.last_events()[0].barrier().generation(), 1);
}

TEST_F(BrokerBarrierTest, ATimeoutWithdrawsOnlyThatParty) {
  Barrier("init { parties: 3 }");
  broker_.Apply(Await(20, 500), a_);
  broker_.Apply(Await(21), b_);
  broker_.Advance(absl::Milliseconds(499));
  EXPECT_TRUE(broker_.TakeCompletions().empty());
  broker_.Advance(absl::Milliseconds(1));
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.id(), 20u);
  EXPECT_EQ(done[0].response.error().code(), kDeadlineExceeded);
  EXPECT_EQ(done[0].response.error().message(),
            "barrier \"b\": timed out waiting; 2 of 3 parties arrived");
  EXPECT_EQ(broker_.revision(), 4);  // the withdrawal is a change watchers see
  EXPECT_EQ(Barrier("get {}").barrier().waiting(), 1);
  broker_.Apply(Await(22), c_);
  v1::Response r = broker_.Apply(Await(23), a_);
  EXPECT_EQ(r.barrier().arrival(), 2);
  done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].response.id(), 21u);
  EXPECT_EQ(done[0].response.barrier().arrival(), 0);
  EXPECT_EQ(done[1].response.id(), 22u);
  EXPECT_EQ(done[1].response.barrier().arrival(), 1);
}

TEST_F(BrokerBarrierTest, ACancelWithdrawsOnlyThatParty) {
  Barrier("init { parties: 2 }");
  broker_.Apply(Await(30), a_, 0, 7);
  v1::Response r = broker_.Apply(testing::ParseRequest("cancel { request_id: 30 }"), a_, 0, 7);
  EXPECT_TRUE(r.cancel().cancelled());
  ASSERT_EQ(broker_.TakeCompletions().size(), 1u);  // answered CANCELLED
  EXPECT_EQ(Barrier("get {}").barrier().waiting(), 0);
  broker_.Apply(Await(31), b_, 0, 8);
  EXPECT_TRUE(broker_.last_deferred());
  r = broker_.Apply(Await(32), c_, 0, 9);
  EXPECT_EQ(r.barrier().arrival(), 1);
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 8u);
}

TEST_F(BrokerBarrierTest, AnArrivalOutlivesItsStreamUntilItsSessionEnds) {
  Barrier("init { parties: 3 }");
  broker_.Apply(Await(33), a_, 0, 7);
  broker_.Apply(Await(34), b_, 0, 8);
  broker_.Cancel(7);  // a's stream closed (its process died, say)
  EXPECT_EQ(Barrier("get {}").barrier().waiting(), 2);
  EXPECT_TRUE(broker_.TakeCompletions().empty());
  // Its session's end (the TTL) breaks the barrier for everyone.
  broker_.Session("close {}", a_);
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[1].origin, 8u);
  EXPECT_EQ(done[1].response.error().message(),
            "barrier \"b\" broke: session 1 ended while waiting");
}

TEST_F(BrokerBarrierTest, AResendAfterAReconnectFindsTheArrivalAgain) {
  Barrier("init { parties: 2 }");
  broker_.Apply(Await(35), a_, /*sequence=*/1, /*origin=*/7);
  const int64_t arrived = broker_.revision();
  broker_.Cancel(7);  // the stream broke
  broker_.Apply(Await(36), a_, /*sequence=*/1, /*origin=*/9);  // the resend
  EXPECT_TRUE(broker_.last_deferred());
  EXPECT_EQ(broker_.revision(), arrived);  // not a second arrival
  EXPECT_EQ(Barrier("get {}").barrier().waiting(), 1);
  v1::Response r = broker_.Apply(Await(37), b_);
  EXPECT_EQ(r.barrier().arrival(), 1);
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 9u);
  EXPECT_EQ(done[0].response.id(), 36u);
  EXPECT_EQ(done[0].response.barrier().arrival(), 0);
}

TEST_F(BrokerBarrierTest, AWaitingPartysSessionEndBreaksTheBarrierInOneStep) {
  Barrier("init { parties: 3 }");
  broker_.Apply(Await(40), a_, 0, 1);
  broker_.Apply(Await(41), b_, 0, 2);
  const int64_t before = broker_.revision();
  broker_.Session("close {}", b_);
  EXPECT_EQ(broker_.revision(), before + 1);
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 2u);
  for (const Completion& c : done) {
    EXPECT_EQ(c.response.error().code(), kAborted);
    EXPECT_EQ(c.response.error().message(), "barrier \"b\" broke: session 2 ended while waiting");
    EXPECT_EQ(c.response.revision(), before + 1);
  }
  v1::Response r = Barrier("get {}");
  EXPECT_EQ(r.barrier().waiting(), 0);
  EXPECT_EQ(r.barrier().generation(), 0);  // the generation starts over
  // A session that does not wait breaks nothing.
  broker_.Apply(Await(42), a_);
  broker_.Session("close {}", c_);
  EXPECT_TRUE(broker_.TakeCompletions().empty());
  EXPECT_EQ(Barrier("get {}").barrier().waiting(), 1);
}

TEST_F(BrokerBarrierTest, ValidationNamesTheProblem) {
  v1::Response r = Barrier("init { parties: 0 }");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "barrier init: parties is 0; it must be 1 .. 1048576");
  EXPECT_EQ(Barrier("init { parties: 1048577 }").error().code(), kInvalidArgument);
  Barrier("init { parties: 2 }");
  r = Barrier("await {}");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "barrier await needs a session");
  EXPECT_EQ(broker_.Apply(v1::BARRIER, "b", "barrier {}").error().code(), kInvalidArgument);
  // A barrier grants no fences.
  r = broker_.Apply(v1::MAP, "m", R"pb(map {
                                         put {
                                           key: "k"
                                           value: "1"
                                           if_fence { lock: "b" version: 1 }
                                         }
                                       })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(), "fence names \"b\", a barrier, which grants no fences");
}

TEST(BrokerBarrierState, EventsAndDirectValidation) {
  StateDriver barrier(v1::BARRIER, "b");
  v1::Response r = barrier.Apply("barrier { init { parties: -1 } }");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "barrier \"b\": parties is -1; it must be 1 .. 1048576");
  EXPECT_EQ(barrier.ApplyRequest(Await(1)).error().code(), kInvalidArgument);  // no session
  EXPECT_EQ(barrier.Apply("lock { get {} }").error().code(), kInvalidArgument);

  barrier.Apply("barrier { init { parties: 2 } }");
  ASSERT_EQ(barrier.last_events().size(), 1u);
  EXPECT_EQ(barrier.last_events()[0].type(), v1::WatchEvent::INSERTED);
  EXPECT_EQ(barrier.last_events()[0].barrier().parties(), 2);
  v1::Request first = Await(2, 100);
  first.set_session_id(7);
  barrier.ApplyRequest(first);
  ASSERT_EQ(barrier.last_events().size(), 1u);
  const v1::WatchEvent& arrived = barrier.last_events()[0];
  EXPECT_EQ(arrived.type(), v1::WatchEvent::UPDATED);
  EXPECT_EQ(arrived.revision(), 2);
  EXPECT_EQ(arrived.barrier().waiting(), 1);
  EXPECT_FALSE(arrived.barrier().tripped());
  EXPECT_EQ(barrier.Snapshot().barrier().waiting(), 1);
  EXPECT_EQ(barrier.Snapshot().barrier().parties(), 2);
  barrier.Advance(testing::TestNow() + absl::Milliseconds(100));
  ASSERT_EQ(barrier.last_events().size(), 1u);
  EXPECT_EQ(barrier.last_events()[0].barrier().waiting(), 0);
  EXPECT_EQ(barrier.revision(), 3);
  barrier.ApplyRequest(first);
  barrier.EndSession(7);
  ASSERT_EQ(barrier.last_events().size(), 1u);
  EXPECT_EQ(barrier.last_events()[0].barrier().broken_by(), 7u);
  EXPECT_EQ(barrier.last_events()[0].barrier().waiting(), 0);
  EXPECT_EQ(barrier.last_events()[0].revision(), 5);
  barrier.Apply("barrier { get {} }");
  EXPECT_FALSE(barrier.last_mutated());
}

TEST(BrokerBarrierState, SaveAndLoadMidWait) {
  StateDriver barrier(v1::BARRIER, "b");
  barrier.Apply("barrier { init { parties: 3 } }");
  for (uint64_t session : {4u, 5u}) {  // one generation passes first
    v1::Request await = Await(session);
    await.set_session_id(session);
    barrier.ApplyRequest(await);
  }
  v1::Request third = Await(6);
  third.set_session_id(6);
  barrier.ApplyRequest(third);
  v1::Request waiting = Await(8, 2000);
  waiting.set_session_id(8);
  barrier.ApplyRequest(waiting);
  atomix::log::v1::PrimitiveSave saved;
  barrier.machine().Save(saved);
  EXPECT_EQ(saved.barrier().generation(), 1);
  EXPECT_EQ(saved.barrier().waiters_size(), 1);

  BarrierState copy;
  ASSERT_TRUE(copy.Load(saved).ok());
  v1::WatchSnapshot a, b;
  barrier.machine().Snapshot({}, a);
  copy.Snapshot({}, b);
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
  EXPECT_EQ(copy.NextDeadline(), testing::TestNow() + absl::Seconds(2));
  atomix::log::v1::PrimitiveSave again;
  copy.Save(again);
  EXPECT_EQ(saved.SerializeAsString(), again.SerializeAsString());
  // The loaded waiter's session end breaks the loaded barrier.
  const Limits limits;
  ApplyResult step = copy.EndSession(8, ApplyContext{.revision = 9, .limits = limits});
  ASSERT_EQ(step.answers.size(), 1u);
  EXPECT_EQ(step.answers[0].response.error().code(), kAborted);
  EXPECT_TRUE(step.mutated);
}

TEST(BrokerBarrierState, LoadRefusesWrongOrInconsistentSaves) {
  BarrierState barrier;
  atomix::log::v1::PrimitiveSave save;
  save.mutable_latch();
  EXPECT_EQ(barrier.Load(save).code(), absl::StatusCode::kDataLoss);
  auto load = [](const std::string& text) {
    atomix::log::v1::PrimitiveSave in;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &in)) << text;
    BarrierState fresh;
    return fresh.Load(in);
  };
  EXPECT_TRUE(
      load("barrier { parties: 2 waiters { order: 0 token: 1 session: 3 } next_order: 1 }").ok());
  EXPECT_EQ(load("barrier { parties: -2 }").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(load("barrier { parties: 0 generation: 3 }").code(), absl::StatusCode::kDataLoss);
  absl::Status s =
      load("barrier { parties: 1 waiters { order: 0 token: 1 session: 3 } next_order: 1 }");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "the saved barrier holds 1 waiters for 1 parties");
  s = load("barrier { parties: 3 waiters { order: 0 token: 1 } next_order: 1 }");
  EXPECT_EQ(s.message(), "the saved barrier \"\" holds a waiter without a session");
  EXPECT_EQ(load("barrier { parties: 3 waiters { order: 0 token: 1 session: 3 } }").code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(BrokerBarrierTest, DescribeShowsTheWaitingParties) {
  using testing::Holdings;
  using Lines = std::vector<std::string>;
  ASSERT_EQ(a_, 1u);
  StateDriver fresh(v1::BARRIER, "fresh");
  EXPECT_EQ(fresh.Describe().summary(), "no parties set (generation 0)");
  Barrier("init { parties: 3 }");
  broker_.Apply(Await(10), b_, 0, 2);
  broker_.Apply(Await(11), a_, 0, 1);
  v1::PrimitiveInfo info = broker_.Describe("b");
  EXPECT_EQ(info.summary(), "2 of 3 parties waiting (generation 0)");
  EXPECT_EQ(info.holders_size(), 0);
  EXPECT_EQ(Holdings(info.waiters()), (Lines{"2 | await | 0", "1 | await | 0"}));
  broker_.Apply(Await(12), c_, 0, 3);  // trips
  info = broker_.Describe("b");
  EXPECT_EQ(info.summary(), "0 of 3 parties waiting (generation 1)");
  EXPECT_EQ(info.waiters_size(), 0);
}

}  // namespace
}  // namespace atomix::broker
