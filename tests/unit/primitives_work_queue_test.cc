// WorkQueue<T> and LeasedItem over an in-process broker, with one fake core
// (one session) per client: results, leases and fences, blocking takes with
// deadline and cancellation, session loss, option checks, and the give-back
// of a lease that crossed a withdrawn take.
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "atomix/counter.h"
#include "atomix/map.h"
#include "atomix/status.h"
#include "atomix/work_queue.h"
#include "gtest/gtest.h"
#include "primitives/src/work_queue_give_back.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using std::chrono::milliseconds;
using testing::FakeBroker;
using testing::FakeClientCore;
using Queue = WorkQueue<std::string>;

class WorkQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* core : {&a_, &b_}) {
      *core = std::make_shared<FakeClientCore>(broker_);
      ASSERT_OK((*core)->session_status());
    }
  }

  Queue Open(const std::shared_ptr<FakeClientCore>& core, const std::string& name = "jobs") {
    auto q = internal::GetWorkQueue<std::string>(core, name);
    EXPECT_OK(q);
    return *std::move(q);
  }

  std::shared_ptr<FakeBroker> broker_ = std::make_shared<FakeBroker>();
  std::shared_ptr<FakeClientCore> a_, b_;
};

TEST_F(WorkQueueTest, PushTakeAckWithIdsFencesAndDeliveries) {
  Queue q = Open(a_);
  EXPECT_EQ(q.name(), "jobs");
  EXPECT_EQ(a_->calls().front().request.type(), v1::WORK_QUEUE);
  ASSERT_OK_AND_ASSIGN(int64_t first, q.Push("a"));
  EXPECT_EQ(first, 1);
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> ids, q.PushAll({"b", "c"}));
  EXPECT_EQ(ids, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(*q.Size(), 3);
  EXPECT_EQ(*q.Leased(), 0);

  ASSERT_OK_AND_ASSIGN(auto lease, q.Take());
  EXPECT_EQ(lease.id(), 1);
  EXPECT_EQ(lease.value(), "a");
  EXPECT_EQ(lease.deliveries(), 1);
  EXPECT_EQ(lease.fence().version, a_->revision());
  EXPECT_EQ(lease.item().session_id, a_->session_id());
  EXPECT_EQ(lease.queue_name(), "jobs");
  EXPECT_TRUE(lease.owns_lease());
  const v1::Request sent = a_->calls().back().request;
  EXPECT_TRUE(sent.work_queue().has_take());
  EXPECT_FALSE(sent.work_queue().take().try_only());
  EXPECT_EQ(sent.work_queue().take().visibility_timeout_ms(), 0);
  EXPECT_GT(sent.timeout_ms(), 8000);  // the default call timeout, less a margin
  EXPECT_EQ(*q.Size(), 2);
  EXPECT_EQ(*q.Leased(), 1);

  ASSERT_OK(lease.Ack());
  EXPECT_FALSE(lease.owns_lease());
  EXPECT_EQ(*q.Leased(), 0);
  absl::Status again = lease.Ack();
  EXPECT_CODE(again, kFailedPrecondition);
  EXPECT_EQ(again.message(),
            "work queue \"jobs\" item 1: this lease was already acked or released");
}

TEST_F(WorkQueueTest, ReleaseAndTheDestructorPutTheItemBackAtTheHead) {
  Queue q = Open(a_);
  ASSERT_OK(q.PushAll({"a", "b"}));
  {
    ASSERT_OK_AND_ASSIGN(auto lease, q.Take());
    EXPECT_EQ(lease.id(), 1);
  }  // released here
  ASSERT_OK_AND_ASSIGN(auto lease, q.Take());
  EXPECT_EQ(lease.id(), 1);
  EXPECT_EQ(lease.deliveries(), 2);
  ASSERT_OK(lease.Release());
  EXPECT_CODE(lease.Release(), kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(auto third, q.Take());
  EXPECT_EQ(third.deliveries(), 3);
  ASSERT_OK(third.Ack());
}

TEST_F(WorkQueueTest, AckAndReleaseByIdAndFenceFromAnotherSession) {
  Queue qa = Open(a_), qb = Open(b_);
  ASSERT_OK(qa.Push("a"));
  ASSERT_OK_AND_ASSIGN(auto lease, qa.Take());
  const Fence stale{lease.fence().version + 100};
  absl::Status wrong = qb.Ack(lease.id(), stale);
  EXPECT_CODE(wrong, kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(wrong), lease.fence().version);
  EXPECT_CODE(qb.Ack(99, lease.fence()), kNotFound);
  ASSERT_OK(qb.Ack(lease.id(), lease.fence()));
  // The lease was acked by b: its own Ack finds the item gone.
  EXPECT_CODE(lease.Ack(), kNotFound);
  EXPECT_FALSE(lease.owns_lease());
}

TEST_F(WorkQueueTest, TryTakeNeverWaits) {
  Queue q = Open(a_);
  ASSERT_OK_AND_ASSIGN(auto none, q.TryTake());
  EXPECT_FALSE(none.has_value());
  EXPECT_TRUE(a_->calls().back().request.work_queue().take().try_only());
  ASSERT_OK(q.Push("a"));
  ASSERT_OK_AND_ASSIGN(auto one, q.TryTake());
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->value(), "a");
  ASSERT_OK(one->Ack());
}

TEST_F(WorkQueueTest, AWaitingTakeIsServedByAPushFromAnotherClient) {
  Queue qa = Open(a_), qb = Open(b_);
  auto got = std::async(std::launch::async, [&] { return qa.Take(); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  ASSERT_OK(qb.Push("x"));
  auto lease = got.get();
  ASSERT_OK(lease);
  EXPECT_EQ(lease->value(), "x");
  EXPECT_EQ(lease->fence().version, b_->revision());  // leased in the push's step
  ASSERT_OK(lease->Ack());
}

TEST_F(WorkQueueTest, TakeFailsAtTheCallDeadlineAndLeavesNoLeaseBehind) {
  Queue qa = Open(a_), qb = Open(b_);
  EXPECT_CODE(qa.Take(WithTimeout(milliseconds(100))), kDeadlineExceeded);
  EXPECT_EQ(broker_->waiting(), 0u);
  ASSERT_OK(qb.Push("x"));
  EXPECT_EQ(*qb.Leased(), 0);  // the abandoned take got nothing
  EXPECT_EQ(*qb.Size(), 1);
}

TEST_F(WorkQueueTest, CancelledTakeReturnsAtOnce) {
  Queue q = Open(a_);
  std::stop_source stop;
  auto got = std::async(std::launch::async, [&] { return q.Take(WithCancel(stop.get_token())); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  stop.request_stop();
  ASSERT_EQ(got.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_CODE(got.get(), kCancelled);
}

TEST_F(WorkQueueTest, TheBrokerTimesOutAWaitingTakeWithTheSentTimeout) {
  Queue q = Open(a_);
  auto got =
      std::async(std::launch::async, [&] { return q.Take(WithTimeout(std::chrono::seconds(5))); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  broker_->Advance(absl::Milliseconds(4800));  // past timeout_ms on the broker's clock
  EXPECT_CODE(got.get(), kDeadlineExceeded);
}

TEST_F(WorkQueueTest, VisibilityTimeoutReturnsTheItemForAnotherDelivery) {
  Queue qa = Open(a_), qb = Open(b_);
  ASSERT_OK(qa.Push("a"));
  TakeOptions take;
  take.visibility_timeout = std::chrono::microseconds(1500);  // rounded up to 2 ms
  ASSERT_OK_AND_ASSIGN(auto lease, qa.Take(take));
  EXPECT_EQ(a_->calls().back().request.work_queue().take().visibility_timeout_ms(), 2);
  broker_->Advance(absl::Milliseconds(2));
  ASSERT_OK_AND_ASSIGN(auto again, qb.TryTake());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ((*again).deliveries(), 2);
  EXPECT_CODE(lease.Ack(), kFailedPrecondition);
  ASSERT_OK(again->Ack());
  EXPECT_CODE(qa.Take(WithVisibilityTimeout(std::chrono::hours(25))), kInvalidArgument);
  TakeOptions negative;
  negative.visibility_timeout = milliseconds(-5);
  EXPECT_CODE(qa.TryTake(negative), kInvalidArgument);
}

TEST_F(WorkQueueTest, SessionCloseReturnsTheItemsAndStopsTheLeaseToken) {
  Queue qa = Open(a_), qb = Open(b_);
  ASSERT_OK(qa.PushAll({"a", "b"}));
  ASSERT_OK_AND_ASSIGN(auto one, qa.Take());
  ASSERT_OK_AND_ASSIGN(auto two, qa.Take());
  bool told = false;
  std::stop_callback on_lost(one.stop_token(), [&] { told = true; });
  EXPECT_FALSE(one.stop_token().stop_requested());
  auto waiting = std::async(std::launch::async, [&] { return qb.Take(); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  ASSERT_OK(a_->CloseSession());
  const int64_t closed_at = a_->revision();
  EXPECT_TRUE(told);
  EXPECT_TRUE(two.stop_token().stop_requested());
  ASSERT_OK_AND_ASSIGN(auto got, waiting.get());
  EXPECT_EQ(got.id(), 1);  // back at the head in id order
  EXPECT_EQ(got.deliveries(), 2);
  EXPECT_EQ(got.fence().version, closed_at);
  EXPECT_EQ(*qb.Size(), 1);
}

TEST_F(WorkQueueTest, FencedWritesHoldOnlyWhileTheLeaseDoes) {
  Queue q = Open(a_);
  auto results = internal::GetMap<std::string, std::string>(a_, "results");
  ASSERT_OK(results);
  ASSERT_OK(q.Push("a"));
  ASSERT_OK_AND_ASSIGN(auto lease, q.Take());
  ASSERT_OK(results->Put("a", "done", IfFence(lease)));
  const Fence fence = lease.fence();
  ASSERT_OK(lease.Release());
  absl::Status late =
      results->Put("a", "again", WriteOptions().IfFence("jobs", fence.version)).status();
  EXPECT_CODE(late, kFailedPrecondition);
  EXPECT_EQ(late.message(), "fence " + std::to_string(fence.version) +
                                " of work queue \"jobs\" no longer holds it; nothing holds it");
}

TEST_F(WorkQueueTest, AsyncForms) {
  Queue q = Open(a_);
  ASSERT_OK(q.PushAsync("a").get());
  auto ids = q.PushAllAsync({"b"}).get();
  ASSERT_OK(ids);
  EXPECT_EQ(*ids, std::vector<int64_t>{2});
  auto lease = q.TakeAsync().get();
  ASSERT_OK(lease);
  auto maybe = q.TryTakeAsync().get();
  ASSERT_OK(maybe);
  ASSERT_TRUE(maybe->has_value());
  EXPECT_EQ(*q.LeasedAsync().get(), 2);
  EXPECT_EQ(*q.SizeAsync().get(), 0);
  ASSERT_OK(q.AckAsync(lease->id(), lease->fence()).get());
  ASSERT_OK(q.ReleaseAsync((*maybe)->id(), (*maybe)->fence()).get());
  EXPECT_EQ(*q.Size(), 1);
}

TEST_F(WorkQueueTest, AValueThatDoesNotDecodeIsReleasedAndReported) {
  auto raw = internal::GetWorkQueue<std::string>(a_, "nums");
  ASSERT_OK(raw);
  ASSERT_OK(raw->Push("abc"));  // 3 bytes: not an int64
  auto ints = internal::GetWorkQueue<int64_t>(a_, "nums");
  ASSERT_OK(ints);
  auto bad = ints->Take();
  EXPECT_CODE(bad, kInvalidArgument);
  EXPECT_NE(bad.status().message().find("work queue \"nums\""), std::string::npos) << bad.status();
  EXPECT_EQ(*ints->Leased(), 0);
  EXPECT_EQ(*ints->Size(), 1);
}

TEST_F(WorkQueueTest, BadInputIsRefusedWithTheFieldNamed) {
  Queue q = Open(a_);
  absl::Status none = q.PushAll({}).status();
  EXPECT_CODE(none, kInvalidArgument);
  EXPECT_EQ(none.message(), "items is empty");
  EXPECT_CODE(q.PushAll(std::vector<std::string>(1001, "x")), kInvalidArgument);
  EXPECT_CODE(q.Ack(0, Fence{1}), kInvalidArgument);
  EXPECT_CODE(internal::GetWorkQueue<std::string>(a_, ""), kInvalidArgument);
  ASSERT_OK(internal::GetCounter(a_, "c"));
  EXPECT_CODE(internal::GetWorkQueue<std::string>(a_, "c"), kFailedPrecondition);
  EXPECT_CODE(internal::GetWorkQueue<std::string>(nullptr, "x"), kInvalidArgument);
}

TEST(WorkQueueWithoutSessionTest, TakeNeedsASession) {
  auto core = FakeClientCore::Sessionless();
  ASSERT_OK_AND_ASSIGN(Queue q, internal::GetWorkQueue<std::string>(core, "jobs"));
  ASSERT_OK(q.Push("a"));
  absl::Status s = q.TryTake().status();
  EXPECT_CODE(s, kInvalidArgument);
  EXPECT_EQ(s.message(), "work queue take needs a session");
}

TEST(WorkQueueGiveBack, ALateLeaseIsReleasedByItsIdAndFence) {
  internal::GiveBack give_back = internal::ReleaseLateLease("jobs");
  v1::Response late;
  late.mutable_work_queue()->set_taken(true);
  late.mutable_work_queue()->mutable_item()->set_id(7);
  late.mutable_work_queue()->mutable_item()->set_fence(42);
  std::optional<v1::Request> back = give_back(late);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->type(), v1::WORK_QUEUE);
  EXPECT_EQ(back->name(), "jobs");
  EXPECT_EQ(back->work_queue().release().id(), 7);
  EXPECT_EQ(back->work_queue().release().fence(), 42);
  v1::Response failed;
  failed.mutable_error()->set_code(4);
  EXPECT_FALSE(give_back(failed).has_value());
  v1::Response empty;
  empty.mutable_work_queue();
  EXPECT_FALSE(give_back(empty).has_value());
}

}  // namespace
}  // namespace atomix
