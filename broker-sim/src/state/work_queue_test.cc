// The work queue: pushes, leases with fences, FIFO takers, visibility
// timeouts and waits on the logical clock, ack and release by fence, session
// end, cancellation, events, snapshots, Save/Load and validation. No
// network.
#include "broker-sim/src/state/work_queue.h"

#include <string>
#include <vector>

#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::BrokerDriver;
using testing::MakeRequest;
using testing::TestNow;

constexpr int kInvalidArgument = 3;
constexpr int kDeadlineExceeded = 4;
constexpr int kNotFound = 5;
constexpr int kFailedPrecondition = 9;
constexpr int kAborted = 10;
constexpr int kDataLoss = 15;

// Drives one WorkQueueState as the engine does: revision + 1 per mutation,
// a logical clock, a token per request.
class Machine {
 public:
  v1::Response Apply(const std::string &op, uint64_t session = 0,
                     int64_t timeout_ms = 0) {
    v1::Request request =
        MakeRequest(v1::WORK_QUEUE, "q", "work_queue { " + op + " }");
    request.set_session_id(session);
    request.set_timeout_ms(timeout_ms);
    v1::Response response;
    const ApplyContext ctx{.revision = revision_ + 1,
                           .now = now_,
                           .limits = limits_,
                           .token = ++token_};
    Record(machine_->Apply(request, ctx, response), ctx);
    return response;
  }
  void EndSession(uint64_t session) {
    const ApplyContext ctx{
        .revision = revision_ + 1, .now = now_, .limits = limits_};
    Record(machine_->EndSession(session, ctx), ctx);
  }
  // Moves the clock and runs every due deadline, one step each.
  void Advance(absl::Duration d) {
    now_ += d;
    answers_.clear();
    last_is_advance_ = true;
    while (machine_->NextDeadline() <= now_) {
      const ApplyContext ctx{
          .revision = revision_ + 1, .now = now_, .limits = limits_};
      ApplyResult r = machine_->Advance(ctx);
      for (Answer &a : r.answers) answers_.push_back(std::move(a));
      if (r.mutated) revision_ = ctx.revision;
      for (v1::WatchEvent &e : r.events) events_.push_back(std::move(e));
    }
  }
  WorkQueueState &state() { return *machine_; }
  void Replace(std::unique_ptr<WorkQueueState> m) { machine_ = std::move(m); }
  int64_t revision() const { return revision_; }
  uint64_t last_token() const { return token_; }
  bool deferred() const { return last_.deferred; }
  bool mutated() const { return last_.mutated; }
  // Answers of the last step (all steps of the last Advance).
  const std::vector<Answer> &answers() const {
    return last_is_advance_ ? answers_ : last_.answers;
  }
  std::vector<v1::WatchEvent> TakeEvents() {
    return std::exchange(events_, {});
  }
  absl::Time now() const { return now_; }

 private:
  void Record(ApplyResult r, const ApplyContext &ctx) {
    last_is_advance_ = false;
    if (r.mutated) revision_ = ctx.revision;
    for (const v1::WatchEvent &e : r.events) events_.push_back(e);
    last_ = std::move(r);
  }

  Limits limits_;
  std::unique_ptr<WorkQueueState> machine_ = std::make_unique<WorkQueueState>();
  int64_t revision_ = 0;
  uint64_t token_ = 0;
  absl::Time now_ = TestNow();
  ApplyResult last_;
  bool last_is_advance_ = true;
  std::vector<Answer> answers_;
  std::vector<v1::WatchEvent> events_;
};

TEST(BrokerWorkQueue, PushAssignsIncreasingIdsAndTakeLeasesTheHead) {
  Machine q;
  v1::Response r = q.Apply(R"pb(push { items: "a" items: "b" })pb");
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.work_queue().ids().size(), 2);
  EXPECT_EQ(r.work_queue().ids(0), 1);
  EXPECT_EQ(r.work_queue().ids(1), 2);
  EXPECT_EQ(r.work_queue().version(), 1);
  EXPECT_EQ(r.work_queue().queued(), 2);
  r = q.Apply(R"pb(push { items: "c" })pb");
  EXPECT_EQ(r.work_queue().ids(0), 3);
  EXPECT_EQ(q.revision(), 2);

  r = q.Apply("take {}", 7);
  ASSERT_TRUE(r.work_queue().taken());
  const v1::WorkQueueItem &item = r.work_queue().item();
  EXPECT_EQ(item.id(), 1);
  EXPECT_EQ(item.value(), "a");
  EXPECT_EQ(item.deliveries(), 1);
  EXPECT_EQ(item.fence(), 3);
  EXPECT_EQ(item.session_id(), 7u);
  EXPECT_EQ(r.work_queue().queued(), 2);
  EXPECT_EQ(r.work_queue().leased(), 1);
  EXPECT_TRUE(q.state().FenceHolds(3));
  EXPECT_EQ(q.state().NewestFence(), 3);

  r = q.Apply("get {}");
  EXPECT_FALSE(q.mutated());
  EXPECT_EQ(r.work_queue().queued(), 2);
  EXPECT_EQ(r.work_queue().leased(), 1);
  EXPECT_EQ(r.work_queue().waiters(), 0);
}

TEST(BrokerWorkQueue, AckRemovesForGoodAndChecksTheLease) {
  Machine q;
  q.Apply(R"pb(push { items: "a" items: "b" })pb");
  q.Apply("take {}", 7);  // item 1 at fence 2
  v1::Response r = q.Apply("ack { id: 1 fence: 5 }");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "work queue \"q\" item 1 is not leased at fence 5; its lease's "
            "fence is 2");
  EXPECT_EQ(r.error().current(), 2);
  r = q.Apply("ack { id: 2 fence: 2 }");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "work queue \"q\" item 2 is not leased at fence 2; it is queued");
  EXPECT_EQ(r.error().current(), 0);
  r = q.Apply("ack { id: 9 fence: 2 }");
  EXPECT_EQ(r.error().code(), kNotFound);
  EXPECT_EQ(r.error().message(), "work queue \"q\" has no item 9 to ack");
  EXPECT_EQ(q.revision(), 2);

  // Any session (or none) acks by the right fence.
  r = q.Apply("ack { id: 1 fence: 2 }");
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.work_queue().version(), 3);
  EXPECT_EQ(r.work_queue().leased(), 0);
  EXPECT_EQ(r.work_queue().queued(), 1);
  EXPECT_FALSE(q.state().FenceHolds(2));
  EXPECT_EQ(q.state().NewestFence(), 0);
  r = q.Apply("ack { id: 1 fence: 2 }");
  EXPECT_EQ(r.error().code(), kNotFound);
  EXPECT_EQ(r.error().message(),
            "work queue \"q\" has no item 1 to ack (it was acked)");
  r = q.Apply("release { id: 1 fence: 2 }");
  EXPECT_EQ(r.error().code(), kNotFound);
}

TEST(BrokerWorkQueue, ReleaseReturnsToTheHeadAndCountsDeliveries) {
  Machine q;
  q.Apply(R"pb(push { items: "a" items: "b" })pb");
  q.Apply("take {}", 7);  // 1 at fence 2
  v1::Response r = q.Apply("release { id: 1 fence: 2 }", 8);
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.work_queue().version(), 3);
  EXPECT_EQ(r.work_queue().queued(), 2);
  EXPECT_EQ(r.work_queue().leased(), 0);
  r = q.Apply("take {}", 8);
  EXPECT_EQ(r.work_queue().item().id(), 1);  // back at the head
  EXPECT_EQ(r.work_queue().item().deliveries(), 2);
  EXPECT_EQ(r.work_queue().item().fence(), 4);
  r = q.Apply("release { id: 1 fence: 2 }");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().current(), 4);
  r = q.Apply("take {}", 9);
  EXPECT_EQ(r.work_queue().item().id(), 2);
  EXPECT_EQ(r.work_queue().item().deliveries(), 1);
}

TEST(BrokerWorkQueue, TryTakeNeverWaits) {
  Machine q;
  v1::Response r = q.Apply("take { try_only: true }", 7);
  EXPECT_FALSE(q.deferred());
  EXPECT_FALSE(q.mutated());
  EXPECT_FALSE(r.has_error());
  EXPECT_FALSE(r.work_queue().taken());
  q.Apply(R"pb(push { items: "a" })pb");
  r = q.Apply("take { try_only: true }", 7);
  EXPECT_TRUE(r.work_queue().taken());
  EXPECT_EQ(r.work_queue().item().fence(), 2);
}

TEST(BrokerWorkQueue, WaitingTakersAreServedInArrivalOrderByOnePush) {
  Machine q;
  q.Apply("take {}", 7);
  ASSERT_TRUE(q.deferred());
  const uint64_t first = q.last_token();
  q.Apply("take {}", 8);
  const uint64_t second = q.last_token();
  q.Apply("take {}", 9);
  const uint64_t third = q.last_token();
  EXPECT_EQ(q.revision(), 0);  // waiting takes no revision
  EXPECT_EQ(q.Apply("get {}").work_queue().waiters(), 3);
  q.TakeEvents();

  v1::Response r = q.Apply(R"pb(push { items: "a" items: "b" })pb");
  ASSERT_FALSE(r.has_error());
  EXPECT_EQ(r.work_queue().queued(), 0);
  EXPECT_EQ(r.work_queue().leased(), 2);
  ASSERT_EQ(q.answers().size(), 2u);
  EXPECT_EQ(q.answers()[0].token, first);
  EXPECT_EQ(q.answers()[0].response.work_queue().item().id(), 1);
  EXPECT_EQ(q.answers()[0].response.work_queue().item().value(), "a");
  EXPECT_EQ(q.answers()[0].response.work_queue().item().fence(), 1);
  EXPECT_EQ(q.answers()[0].response.work_queue().item().session_id(), 7u);
  EXPECT_EQ(q.answers()[1].token, second);
  EXPECT_EQ(q.answers()[1].response.work_queue().item().id(), 2);
  EXPECT_EQ(q.answers()[1].response.work_queue().item().session_id(), 8u);
  // Two leases at one fence: each holds until its own item leaves.
  EXPECT_TRUE(q.state().FenceHolds(1));
  q.Apply("ack { id: 1 fence: 1 }");
  EXPECT_TRUE(q.state().FenceHolds(1));

  std::vector<v1::WatchEvent> events = q.TakeEvents();
  ASSERT_EQ(events.size(), 5u);  // two pushed, two leased, one acked
  EXPECT_EQ(events[0].type(), v1::WatchEvent::INSERTED);
  EXPECT_EQ(events[0].work_queue().item().id(), 1);
  EXPECT_EQ(events[0].work_queue().queued(), 1);
  EXPECT_EQ(events[1].work_queue().queued(), 2);
  EXPECT_EQ(events[2].type(), v1::WatchEvent::UPDATED);
  EXPECT_EQ(events[2].work_queue().item().session_id(), 7u);
  EXPECT_EQ(events[2].work_queue().item().value(), "");  // never the value
  EXPECT_EQ(events[2].work_queue().leased(), 1);
  EXPECT_EQ(events[3].work_queue().leased(), 2);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(events[i].revision(), 1);
  EXPECT_EQ(events[4].type(), v1::WatchEvent::REMOVED);
  EXPECT_EQ(events[4].revision(), 2);
  EXPECT_EQ(events[4].work_queue().item().fence(), 1);  // the lease that acked
  EXPECT_EQ(events[4].work_queue().leased(), 1);

  // The third taker gets the next item.
  q.Apply(R"pb(push { items: "c" })pb");
  ASSERT_EQ(q.answers().size(), 1u);
  EXPECT_EQ(q.answers()[0].token, third);
}

TEST(BrokerWorkQueue, AWaitingTakeTimesOutOnTheLogicalClock) {
  Machine q;
  q.Apply("take {}", 7, 500);
  const uint64_t waiter = q.last_token();
  q.Apply("take {}", 8, 2000);
  q.Advance(absl::Milliseconds(499));
  EXPECT_TRUE(q.answers().empty());
  q.Advance(absl::Milliseconds(1));
  ASSERT_EQ(q.answers().size(), 1u);
  EXPECT_EQ(q.answers()[0].token, waiter);
  EXPECT_EQ(q.answers()[0].response.error().code(), kDeadlineExceeded);
  EXPECT_EQ(q.answers()[0].response.error().message(),
            "work queue \"q\": timed out waiting for an item");
  EXPECT_EQ(q.revision(), 0);
  q.Apply(R"pb(push { items: "a" })pb");
  ASSERT_EQ(q.answers().size(), 1u);
  EXPECT_EQ(q.answers()[0].response.work_queue().item().session_id(), 8u);
  q.Advance(absl::Seconds(5));  // its old deadline no longer matters
  EXPECT_TRUE(q.answers().empty());
}

TEST(BrokerWorkQueue, AnExpiredLeaseReturnsToTheHeadAtItsOwnRevision) {
  Machine q;
  q.Apply(R"pb(push { items: "a" items: "b" })pb");
  v1::Response r = q.Apply("take { visibility_timeout_ms: 1000 }", 7);
  EXPECT_EQ(r.work_queue().item().fence(), 2);
  q.TakeEvents();
  q.Advance(absl::Milliseconds(999));
  EXPECT_TRUE(q.TakeEvents().empty());
  EXPECT_TRUE(q.state().FenceHolds(2));
  q.Advance(absl::Milliseconds(1));
  EXPECT_EQ(q.revision(), 3);
  EXPECT_FALSE(q.state().FenceHolds(2));
  std::vector<v1::WatchEvent> events = q.TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type(), v1::WatchEvent::UPDATED);
  EXPECT_EQ(events[0].revision(), 3);
  EXPECT_EQ(events[0].work_queue().item().id(), 1);
  EXPECT_EQ(events[0].work_queue().item().fence(), 0);
  EXPECT_EQ(events[0].work_queue().queued(), 2);
  r = q.Apply("ack { id: 1 fence: 2 }", 7);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  r = q.Apply("take {}", 8);
  EXPECT_EQ(r.work_queue().item().id(), 1);
  EXPECT_EQ(r.work_queue().item().deliveries(), 2);
  // No visibility timeout: the lease holds however long it takes.
  q.Advance(absl::Hours(48));
  EXPECT_TRUE(q.state().FenceHolds(4));
}

TEST(BrokerWorkQueue, AnExpiredLeaseGoesStraightToAWaitingTaker) {
  Machine q;
  q.Apply(R"pb(push { items: "a" })pb");
  q.Apply("take { visibility_timeout_ms: 100 }", 7);
  q.Apply("take { visibility_timeout_ms: 300 }", 8);
  const uint64_t waiter = q.last_token();
  q.Advance(absl::Milliseconds(100));
  ASSERT_EQ(q.answers().size(), 1u);
  EXPECT_EQ(q.answers()[0].token, waiter);
  EXPECT_EQ(q.answers()[0].response.work_queue().item().deliveries(), 2);
  EXPECT_EQ(q.answers()[0].response.work_queue().item().fence(), 3);
  // Its own timeout counts from its grant.
  q.Advance(absl::Milliseconds(299));
  EXPECT_TRUE(q.state().FenceHolds(3));
  q.Advance(absl::Milliseconds(1));
  EXPECT_FALSE(q.state().FenceHolds(3));
}

TEST(BrokerWorkQueue, SessionEndReturnsItsItemsInOneRevisionInIdOrder) {
  Machine q;
  q.Apply(R"pb(push { items: "a" items: "b" items: "c" items: "d" })pb");
  q.Apply("take {}", 7);                               // 1 at 2
  q.Apply("take {}", 8);                               // 2 at 3
  q.Apply("take { visibility_timeout_ms: 1000 }", 7);  // 3 at 4
  q.Apply("take {}", 9, 0);                            // 4 at 5
  q.Apply("take {}", 9);                               // waits
  const uint64_t waiter9 = q.last_token();
  q.Apply("take {}", 7);  // waits; aborted with its session
  const uint64_t waiter7 = q.last_token();
  q.TakeEvents();

  q.EndSession(7);
  EXPECT_EQ(q.revision(), 6);
  ASSERT_EQ(q.answers().size(), 2u);
  EXPECT_EQ(q.answers()[0].token, waiter7);
  EXPECT_EQ(q.answers()[0].response.error().code(), kAborted);
  EXPECT_EQ(q.answers()[0].response.error().message(),
            "session 7 ended while waiting to take from work queue \"q\"");
  // Session 9's waiting take gets item 1, the head after the return.
  EXPECT_EQ(q.answers()[1].token, waiter9);
  EXPECT_EQ(q.answers()[1].response.work_queue().item().id(), 1);
  EXPECT_EQ(q.answers()[1].response.work_queue().item().fence(), 6);
  EXPECT_EQ(q.answers()[1].response.work_queue().item().deliveries(), 2);
  std::vector<v1::WatchEvent> events = q.TakeEvents();
  ASSERT_EQ(events.size(), 3u);
  for (const v1::WatchEvent &e : events) EXPECT_EQ(e.revision(), 6);
  EXPECT_EQ(events[0].work_queue().item().id(), 3);  // 3 then 1 at the head
  EXPECT_EQ(events[1].work_queue().item().id(), 1);
  EXPECT_EQ(events[2].work_queue().item().session_id(), 9u);
  EXPECT_FALSE(q.state().FenceHolds(2));
  EXPECT_FALSE(q.state().FenceHolds(4));
  EXPECT_TRUE(q.state().FenceHolds(3));
  // Item 3's visibility timeout died with its lease.
  EXPECT_EQ(q.state().NextDeadline(), absl::InfiniteFuture());
  v1::Response r = q.Apply("take {}", 8);
  EXPECT_EQ(r.work_queue().item().id(), 3);

  // A session with nothing takes no revision.
  q.EndSession(42);
  EXPECT_FALSE(q.mutated());
}

TEST(BrokerWorkQueue, CancelForgetsAWaiterSilently) {
  Machine q;
  q.Apply("take {}", 7);
  const uint64_t gone = q.last_token();
  q.Apply("take {}", 8);
  const uint64_t next = q.last_token();
  q.state().Cancel(gone);
  q.Apply(R"pb(push { items: "a" })pb");
  ASSERT_EQ(q.answers().size(), 1u);
  EXPECT_EQ(q.answers()[0].token, next);
}

TEST(BrokerWorkQueue, SnapshotCarriesTheCounts) {
  Machine q;
  q.Apply(R"pb(push { items: "a" items: "b" items: "c" })pb");
  q.Apply("take {}", 7);
  v1::WatchSnapshot snapshot;
  q.state().Snapshot({}, snapshot);
  ASSERT_TRUE(snapshot.has_work_queue());
  EXPECT_EQ(snapshot.work_queue().queued(), 2);
  EXPECT_EQ(snapshot.work_queue().leased(), 1);
}

// Save/Load mid-wait: leases, timeouts, a waiting take and the ids go on.
TEST(BrokerWorkQueue, SaveThenLoadGoesOnWhereItWas) {
  Machine q;
  q.Apply(R"pb(push { items: "a" items: "b" items: "c" })pb");
  q.Apply("take { visibility_timeout_ms: 1000 }", 7);       // 1 at 2
  q.Apply("take {}", 8);                                    // 2 at 3
  q.Apply("take {}", 9);                                    // 3 at 4
  q.Apply("release { id: 2 fence: 3 }");                    // 2 queued again
  q.Apply("take {}", 9);                                    // 2 at 6
  q.Apply("take { visibility_timeout_ms: 50 }", 10, 2000);  // waits
  const uint64_t waiter = q.last_token();

  atomix::log::v1::PrimitiveSave saved;
  q.state().Save(saved);
  std::string bytes;
  ASSERT_TRUE(saved.SerializeToString(&bytes));
  atomix::log::v1::PrimitiveSave parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  auto loaded = std::make_unique<WorkQueueState>();
  ASSERT_TRUE(loaded->Load(parsed).ok());
  atomix::log::v1::PrimitiveSave again;
  loaded->Save(again);
  EXPECT_EQ(again.SerializeAsString(), bytes);
  q.Replace(std::move(loaded));

  EXPECT_EQ(q.state().queued(), 0);
  EXPECT_EQ(q.state().leased(), 3);
  EXPECT_EQ(q.state().waiters(), 1u);
  EXPECT_TRUE(q.state().FenceHolds(6));
  EXPECT_FALSE(q.state().FenceHolds(3));
  // Item 1's lease expires at 1000 ms and goes to the waiter.
  q.Advance(absl::Milliseconds(1000));
  ASSERT_EQ(q.answers().size(), 1u);
  EXPECT_EQ(q.answers()[0].token, waiter);
  EXPECT_EQ(q.answers()[0].response.work_queue().item().id(), 1);
  EXPECT_EQ(q.answers()[0].response.work_queue().item().deliveries(), 2);
  v1::Response r = q.Apply(R"pb(push { items: "d" })pb");
  EXPECT_EQ(r.work_queue().ids(0), 4);
  q.EndSession(9);
  r = q.Apply("take {}", 11);
  EXPECT_EQ(r.work_queue().item().id(), 2);
}

TEST(BrokerWorkQueue, LoadRefusesWrongAndInconsistentSaves) {
  atomix::log::v1::PrimitiveSave wrong;
  wrong.mutable_lock();
  EXPECT_EQ(WorkQueueState().Load(wrong).code(), absl::StatusCode::kDataLoss);

  auto refused = [](const std::string &text) {
    atomix::log::v1::PrimitiveSave save;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &save));
    return WorkQueueState().Load(save);
  };
  EXPECT_TRUE(refused("work_queue { next_id: 1 }").ok());
  EXPECT_EQ(refused("work_queue { next_id: 0 }").code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      refused("work_queue { next_id: 3 queued { id: 1 } queued { id: 1 } }")
          .code(),
      absl::StatusCode::kDataLoss);
  EXPECT_EQ(refused("work_queue { next_id: 3 queued { id: 5 } }").code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      refused("work_queue { next_id: 3 queued { id: 1 fence: 2 } }").code(),
      absl::StatusCode::kDataLoss);
  EXPECT_EQ(refused("work_queue { next_id: 3 leased { id: 1 deliveries: 1 } }")
                .code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(refused("work_queue { next_id: 3 queued { id: 1 } leased { id: 1 "
                    "fence: 2 session: 3 deliveries: 1 } }")
                .code(),
            absl::StatusCode::kDataLoss);
  absl::Status status = refused(
      "work_queue { next_id: 3 queued { id: 1 } "
      "waiters { order: 0 session: 4 } }");
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status.message(),
            "the saved work queue is inconsistent: takes wait while items are "
            "queued");
}

absl::Status Validate(const std::string &op, uint64_t session = 1) {
  v1::Request request =
      MakeRequest(v1::WORK_QUEUE, "q", "work_queue { " + op + " }");
  request.set_session_id(session);
  return WorkQueuePrimitive().validate(request, Limits{});
}

TEST(BrokerWorkQueue, ValidationNamesTheField) {
  EXPECT_TRUE(Validate(R"pb(push { items: "" })pb").ok());
  EXPECT_EQ(Validate("push {}").message(), "items is empty");
  std::string many = "push {";
  for (int i = 0; i < 1001; ++i) many += R"( items: "x")";
  many += " }";
  EXPECT_EQ(Validate(many).message(),
            "items has 1001 items; the limit is 1000");
  Limits small;
  small.max_value_bytes = 2;
  v1::Request big =
      MakeRequest(v1::WORK_QUEUE, "q",
                  R"pb(work_queue { push { items: "a" items: "abc" } })pb");
  EXPECT_EQ(WorkQueuePrimitive().validate(big, small).message(),
            "items[1] is 3 bytes; the limit is 2");
  EXPECT_EQ(Validate("take {}", 0).message(),
            "work queue take needs a session");
  EXPECT_EQ(Validate("take { visibility_timeout_ms: -1 }").message(),
            "visibility_timeout_ms is -1; it must not be negative");
  EXPECT_EQ(Validate("take { visibility_timeout_ms: 86400001 }").message(),
            "visibility_timeout_ms is 86400001; the limit is 86400000");
  EXPECT_TRUE(Validate("take { visibility_timeout_ms: 86400000 }").ok());
  EXPECT_EQ(Validate("ack { id: 0 fence: 1 }").message(),
            "id is 0; it must be positive");
  EXPECT_EQ(Validate("release { id: 1 fence: -2 }").message(),
            "fence is -2; it must be positive");
  EXPECT_TRUE(Validate("ack { id: 1 fence: 1 }", 0).ok());
  EXPECT_EQ(Validate("").code(), absl::StatusCode::kInvalidArgument);
  const PrimitiveSpec &spec = WorkQueuePrimitive();
  EXPECT_TRUE(spec.grants_fences);
  EXPECT_TRUE(spec.has_timers);
  EXPECT_TRUE(
      spec.is_read(MakeRequest(v1::WORK_QUEUE, "q", "work_queue { get {} }")));
  EXPECT_FALSE(
      spec.is_read(MakeRequest(v1::WORK_QUEUE, "q", "work_queue { take {} }")));
  EXPECT_TRUE(spec.session_owned(
      MakeRequest(v1::WORK_QUEUE, "q", "work_queue { take {} }")));
  EXPECT_FALSE(spec.session_owned(MakeRequest(
      v1::WORK_QUEUE, "q", R"pb(work_queue { push { items: "a" } })pb")));
}

// Through the broker core: validation, session expiry, fenced writes.
class BrokerWorkQueueCore : public ::testing::Test {
 protected:
  v1::Response Q(const std::string &op, uint64_t session = 0,
                 uint64_t origin = 1, uint64_t id = 0) {
    return broker_.Apply(v1::WORK_QUEUE, "jobs", "work_queue { " + op + " }",
                         session, 0, origin, id);
  }
  BrokerDriver broker_;
};

TEST_F(BrokerWorkQueueCore, TheBrokerValidatesAndAnswersTakesWithTheirIds) {
  v1::Response r = Q("take {}");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "work queue take needs a session");
  const uint64_t a = broker_.OpenSession();
  Q("take {}", a, 3, 77);
  EXPECT_TRUE(broker_.last_deferred());
  Q(R"pb(push { items: "x" })pb");
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 3u);
  EXPECT_EQ(done[0].response.id(), 77u);
  EXPECT_EQ(done[0].response.work_queue().item().value(), "x");
  EXPECT_EQ(done[0].response.revision(), 1);
}

TEST_F(BrokerWorkQueueCore, AnExpiredSessionsItemsComeBackAfterItsTtl) {
  const uint64_t a = broker_.OpenSession(2000);
  const uint64_t b = broker_.OpenSession(60000);
  Q(R"pb(push { items: "x" items: "y" })pb");
  Q("take {}", a);
  Q("take {}", a);
  Q("take {}", b, 2, 5);  // waits
  broker_.Advance(absl::Milliseconds(1999));
  EXPECT_EQ(Q("get {}").work_queue().leased(), 2);
  EXPECT_TRUE(broker_.TakeCompletions().empty());
  const int64_t before = broker_.revision();
  broker_.Advance(absl::Milliseconds(2));
  EXPECT_EQ(broker_.revision(), before + 1);  // one step
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.work_queue().item().id(), 1);
  EXPECT_EQ(done[0].response.work_queue().item().deliveries(), 2);
  v1::Response r = Q("get {}");
  EXPECT_EQ(r.work_queue().queued(), 1);
  EXPECT_EQ(r.work_queue().leased(), 1);
}

TEST_F(BrokerWorkQueueCore, FencedWritesApplyOnlyWhileTheLeaseHolds) {
  const uint64_t a = broker_.OpenSession();
  Q(R"pb(push { items: "x" })pb");
  const int64_t fence = Q("take {}", a).work_queue().item().fence();
  ASSERT_EQ(fence, 2);
  const std::string put = R"pb(map {
                                 put {
                                   key: "k"
                                   value: "v"
                                   if_fence { lock: "jobs" version: 2 }
                                 }
                               })pb";
  v1::Response r = broker_.Apply(v1::MAP, "m", put);
  EXPECT_FALSE(r.has_error()) << r.error().message();
  Q("release { id: 1 fence: 2 }");
  r = broker_.Apply(v1::MAP, "m", put);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(
      r.error().message(),
      "fence 2 of work queue \"jobs\" no longer holds it; nothing holds it");
  const int64_t again = Q("take {}", a).work_queue().item().fence();
  r = broker_.Apply(v1::MAP, "m", put);
  EXPECT_EQ(r.error().current(), again);
  EXPECT_EQ(r.error().message(),
            "fence 2 of work queue \"jobs\" no longer "
            "holds it; its newest fence is 5");
}

TEST_F(BrokerWorkQueueCore, ANameBoundToAnotherTypeIsRefused) {
  broker_.Apply(v1::LOCK, "l", "lock { get {} }");
  broker_.Apply(v1::COUNTER, "c", "counter { add { delta: 1 } }");
  v1::Response r =
      broker_.Apply(v1::WORK_QUEUE, "c", R"pb(work_queue { get {} })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(), "\"c\" is a counter, not a work queue");
  (void)kDataLoss;
}

TEST(BrokerWorkQueue, DescribeShowsLeasesWithFencesAndWaitingTakes) {
  using testing::Holdings;
  using Lines = std::vector<std::string>;
  Machine q;
  v1::PrimitiveInfo info;
  q.state().Describe(info);
  EXPECT_EQ(info.summary(), "0 queued, 0 leased, 0 waiting takes");
  q.Apply(R"pb(push { items: "a" items: "b" items: "c" })pb");  // 1
  q.Apply("take {}", 8);                                         // 2: item 1
  q.Apply("take {}", 7);                                         // 3: item 2
  info.Clear();
  q.state().Describe(info);
  EXPECT_EQ(info.summary(), "1 queued, 2 leased, 0 waiting takes");
  EXPECT_EQ(Holdings(info.holders()), (Lines{"7 | item 2 | 3", "8 | item 1 | 2"}));
  EXPECT_EQ(info.waiters_size(), 0);

  q.Apply("take {}", 9);  // 4: item 3
  q.Apply("take {}", 9);
  ASSERT_TRUE(q.deferred());
  info.Clear();
  q.state().Describe(info);
  EXPECT_EQ(info.summary(), "0 queued, 3 leased, 1 waiting take");
  EXPECT_EQ(Holdings(info.holders()),
            (Lines{"7 | item 2 | 3", "8 | item 1 | 2", "9 | item 3 | 4"}));
  EXPECT_EQ(Holdings(info.waiters()), (Lines{"9 | take | 0"}));
}

}  // namespace
}  // namespace atomix::broker
