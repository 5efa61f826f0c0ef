// WorkQueue against the real broker: every operation end to end with exact
// ids, fences, versions and codes; a blocking take's deadline and
// cancellation; visibility timeouts on the broker's clock; the give-back of
// leases that cross a withdrawn take; and the watch, with replay and resume.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/support/test_client.h"
#include "tests/support/wait_until.h"

namespace atomix::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Queue = WorkQueue<std::string>;

class WorkQueueE2E : public BrokerTest {
 protected:
  Queue Open(Client& c, const std::string& name = "jobs") {
    auto q = GetWorkQueue<std::string>(c, name);
    EXPECT_TRUE(q.ok()) << q.status();
    return *std::move(q);
  }
  Client Connect() {
    auto c = Client::Connect(OptionsFor(broker()));
    EXPECT_TRUE(c.ok()) << c.status();
    return *c;
  }
};

TEST_F(WorkQueueE2E, EveryOperationWithExactIdsFencesAndCodes) {
  Queue q = Open(client());
  auto ids = q.PushAll({"a", "b", "c"});
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, (std::vector<int64_t>{1, 2, 3}));
  auto d = q.Push("d");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, 4);
  EXPECT_EQ(q.Size().value_or(-1), 4);

  auto first = q.Take();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->id(), 1);
  EXPECT_EQ(first->value(), "a");
  EXPECT_EQ(first->deliveries(), 1);
  EXPECT_EQ(first->item().session_id, client().session_id());
  const Fence fence = first->fence();
  EXPECT_GT(fence.version, 0);

  // A fenced write holds while the lease does.
  auto results = GetMap<std::string, std::string>(client(), "results");
  ASSERT_TRUE(results.ok());
  auto put = results->Put("a", "done", IfFence(*first));
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_GT(*put, fence.version);  // the write's revision

  // Wrong fence, unknown item, double ack.
  absl::Status wrong = q.Ack(1, Fence{fence.version + 1000});
  EXPECT_EQ(wrong.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(wrong), fence.version);
  EXPECT_EQ(wrong.message(),
            absl::StrCat("work queue \"jobs\" item 1 is not leased at fence ", fence.version + 1000,
                         "; its lease's fence is ", fence.version));
  EXPECT_EQ(q.Ack(77, fence).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(first->Ack().ok());
  EXPECT_EQ(q.Ack(1, fence).code(), absl::StatusCode::kNotFound);
  auto late = results->Put("a", "late", IfFence("jobs", fence));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(late.status()), 0);

  // Release puts the item back at the head; the next take delivers it again.
  auto second = q.TryTake();
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->id(), 2);
  EXPECT_EQ(q.Leased().value_or(-1), 1);
  const Fence second_fence = (*second)->fence();
  ASSERT_TRUE((*second)->Release().ok());
  EXPECT_EQ(q.Release(2, second_fence).code(), absl::StatusCode::kFailedPrecondition);
  auto again = q.Take();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id(), 2);
  EXPECT_EQ(again->deliveries(), 2);
  EXPECT_GT(again->fence(), second_fence);
  ASSERT_TRUE(again->Ack().ok());
  EXPECT_EQ(q.Size().value_or(-1), 2);
  EXPECT_EQ(q.Leased().value_or(-1), 0);

  // Bad input and a name of another type.
  EXPECT_EQ(q.PushAll({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(q.PushAll(std::vector<std::string>(1001, "x")).status().message(),
            "items has 1001 items; the limit is 1000");
  EXPECT_EQ(q.Take(WithVisibilityTimeout(std::chrono::hours(48))).status().message(),
            "visibility_timeout_ms is 172800000; the limit is 86400000");
  ASSERT_TRUE(GetCounter(client(), "n").ok());
  auto wrong_type = GetWorkQueue<std::string>(client(), "n");
  EXPECT_EQ(wrong_type.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(wrong_type.status().message(), "\"n\" is a counter, not a work queue");
}

// An item whose bytes the taker's codec cannot decode is reported and put
// back, not left leased until the session ends.
TEST_F(WorkQueueE2E, AnUndecodableItemIsReportedAndReleased) {
  Queue bytes = Open(client(), "typed");
  ASSERT_TRUE(bytes.Push("abc").ok());
  auto ints = GetWorkQueue<int64_t>(client(), "typed");
  ASSERT_TRUE(ints.ok());
  auto bad = ints->Take(WithTimeout(seconds(5)));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();
  EXPECT_NE(bad.status().message().find("work queue \"typed\""), std::string::npos) << bad.status();
  EXPECT_TRUE(WaitUntil([&] { return ints->Leased().value_or(-1) == 0; }, seconds(5)));
  auto again = bytes.Take(WithTimeout(seconds(5)));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->value(), "abc");
  EXPECT_EQ(again->deliveries(), 2);
  ASSERT_TRUE(again->Ack().ok());
}

TEST_F(WorkQueueE2E, ABlockingTakeHonoursItsDeadlineAndCancellation) {
  Queue q = Open(client(), "empty");
  auto timed_out = q.Take(WithTimeout(milliseconds(200)));
  EXPECT_EQ(timed_out.status().code(), absl::StatusCode::kDeadlineExceeded) << timed_out.status();

  std::stop_source stop;
  auto cancelled = std::async(std::launch::async, [&] {
    TakeOptions o = WithCancel(stop.get_token());
    o.timeout = seconds(30);
    return q.Take(o);
  });
  std::this_thread::sleep_for(milliseconds(100));
  stop.request_stop();
  ASSERT_EQ(cancelled.wait_for(seconds(5)), std::future_status::ready);
  EXPECT_EQ(cancelled.get().status().code(), absl::StatusCode::kCancelled);

  // Neither left a take behind: a push now stays queued.
  // (A take withdrawn as the push lands is given back: wait for that.)
  ASSERT_TRUE(q.Push("x").ok());
  EXPECT_TRUE(WaitUntil([&] { return q.Leased().value_or(-1) == 0; }, seconds(5)));
  EXPECT_EQ(q.Size().value_or(-1), 1);

  // A waiting take is served by another client's push.
  Client other = Connect();
  Queue q2 = Open(other, "empty2");
  auto waiting = std::async(std::launch::async, [&] { return Open(client(), "empty2").Take(); });
  std::this_thread::sleep_for(milliseconds(100));
  ASSERT_TRUE(q2.Push("y").ok());
  auto got = waiting.get();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->value(), "y");
  EXPECT_EQ(got->item().session_id, client().session_id());
}

TEST_F(WorkQueueE2E, AnUnackedLeaseComesBackAfterItsVisibilityTimeout) {
  Queue q = Open(client(), "vt");
  Client other = Connect();
  Queue q2 = Open(other, "vt");
  ASSERT_TRUE(q.Push("slow").ok());
  const auto taken_at = std::chrono::steady_clock::now();
  auto lease = q.Take(WithVisibilityTimeout(milliseconds(300)));
  ASSERT_TRUE(lease.ok()) << lease.status();
  // Another consumer waits for it; it comes back no earlier than 300 ms.
  auto again = q2.Take(WithTimeout(seconds(10)));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_GE(std::chrono::steady_clock::now() - taken_at, milliseconds(300));
  EXPECT_EQ(again->id(), lease->id());
  EXPECT_EQ(again->deliveries(), 2);
  EXPECT_GT(again->fence(), lease->fence());
  EXPECT_EQ(again->item().session_id, other.session_id());
  // The first lease is gone, though its session is alive.
  EXPECT_FALSE(lease->stop_token().stop_requested());
  absl::Status stale = lease->Ack();
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition) << stale;
  EXPECT_EQ(CurrentVersion(stale), again->fence().version);
  ASSERT_TRUE(again->Ack().ok());
}

// Takes that give up (by cancellation, or their deadline) while pushes race
// them: a lease that crossed the withdrawal is released by the client, so
// nothing stays leased to the session that gave up.
TEST_F(WorkQueueE2E, LeasesThatCrossAWithdrawnTakeAreGivenBack) {
  Client other = Connect();
  Queue taker = Open(client(), "race");
  Queue pusher = Open(other, "race");
  auto watch = pusher.Watch();
  ASSERT_TRUE(watch.ok()) << watch.status();
  constexpr int kTries = 60;
  int got = 0;
  for (int i = 0; i < kTries; ++i) {
    std::stop_source stop;
    auto take = std::async(std::launch::async, [&, i] {
      TakeOptions o = WithCancel(stop.get_token());
      o.timeout = i % 2 == 0 ? seconds(10) : milliseconds(20);
      return taker.Take(o);
    });
    std::this_thread::sleep_for(milliseconds(i % 2 == 0 ? 5 : 19));
    // The push and the withdrawal race: either may reach the broker first.
    if (i % 4 == 0) stop.request_stop();
    auto push = std::async(std::launch::async, [&, i] { return pusher.Push(absl::StrCat(i)); });
    if (i % 4 == 2) {
      std::this_thread::sleep_for(std::chrono::microseconds(40 * (i % 9)));
      stop.request_stop();
    }
    ASSERT_TRUE(push.get().ok());
    auto lease = take.get();
    if (lease.ok()) {
      ++got;
      ASSERT_TRUE(lease->Ack().ok());
    } else {
      EXPECT_TRUE(absl::IsCancelled(lease.status()) || absl::IsDeadlineExceeded(lease.status()))
          << lease.status();
    }
  }
  // Give-backs are sent after the caller returned: wait for them.
  EXPECT_TRUE(WaitUntil([&] { return pusher.Leased().value_or(-1) == 0; }, seconds(5)))
      << pusher.Leased().value_or(-1) << " still leased";
  EXPECT_EQ(pusher.Size().value_or(-1), kTries - got);
  // The broker's account: every lease the taker did not ack came back.
  int leases = 0, given_back = 0, acked = 0;
  while (leases != given_back + acked || acked < got) {
    auto e = watch->Receive(seconds(5));
    ASSERT_TRUE(e.has_value());
    if (e->type == EventType::kUpdated && e->fence != 0) ++leases;
    if (e->type == EventType::kUpdated && e->fence == 0) ++given_back;
    if (e->type == EventType::kRemoved) ++acked;
  }
  EXPECT_EQ(acked, got);
  std::printf("%d of %d racing takes got their item; %d leases given back\n", got, kTries,
              given_back);
}

TEST_F(WorkQueueE2E, WatchFollowsPushesLeasesReturnsAndAcks) {
  Queue q = Open(client(), "watched");
  ASSERT_TRUE(q.Push("pre").ok());
  auto events = q.Watch(WithReplay());
  ASSERT_TRUE(events.ok()) << events.status();
  auto replay = events->Receive(seconds(5));
  ASSERT_TRUE(replay.has_value());
  EXPECT_EQ(replay->type, EventType::kInserted);
  EXPECT_EQ(replay->id, 0);
  EXPECT_EQ(replay->queued, 1);

  ASSERT_TRUE(q.Push("b").ok());  // id 2
  auto lease = q.Take();          // id 1
  ASSERT_TRUE(lease.ok());
  const Fence fence = lease->fence();
  ASSERT_TRUE(lease->Release().ok());
  auto again = q.Take();
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(again->Ack().ok());

  struct Want {
    EventType type;
    int64_t id, deliveries;
    bool leased;
    int64_t queued, leased_count;
  };
  const std::vector<Want> want = {
      {EventType::kInserted, 2, 0, false, 2, 0}, {EventType::kUpdated, 1, 1, true, 1, 1},
      {EventType::kUpdated, 1, 1, false, 2, 0},  {EventType::kUpdated, 1, 2, true, 1, 1},
      {EventType::kRemoved, 1, 2, true, 1, 0},
  };
  std::vector<WorkQueueEvent> seen;
  for (size_t i = 0; i < want.size(); ++i) {
    auto e = events->Receive(seconds(5));
    ASSERT_TRUE(e.has_value()) << "event " << i;
    seen.push_back(*e);
    EXPECT_EQ(e->type, want[i].type) << i;
    EXPECT_EQ(e->id, want[i].id) << i;
    EXPECT_EQ(e->deliveries, want[i].deliveries) << i;
    EXPECT_EQ(e->fence != 0, want[i].leased) << i;
    EXPECT_EQ(e->queued, want[i].queued) << i;
    EXPECT_EQ(e->leased, want[i].leased_count) << i;
  }
  EXPECT_EQ(seen[1].fence, fence.version);
  EXPECT_EQ(seen[1].revision, fence.version);
  EXPECT_EQ(seen[1].session_id, client().session_id());
  EXPECT_EQ(seen[3].fence, again->fence().version);

  // Resuming from a revision replays the same events.
  auto resumed = q.Watch(WatchOptions().StartVersion(seen[1].revision));
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  for (size_t i = 1; i < seen.size(); ++i) {
    auto e = resumed->Receive(seconds(5));
    ASSERT_TRUE(e.has_value()) << i;
    EXPECT_EQ(*e, seen[i]) << i;
  }
}

}  // namespace
}  // namespace atomix::testing
