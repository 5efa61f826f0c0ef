// CancelRequest: withdrawing a waiting request whose caller gave up, by
// (session, sequence) or by request id, what a cancel answers when the
// target was already granted or has not arrived yet, and the bounds on it.
// Also: session opens repeated with a nonce, and the session TTL maximum.
// No network.
#include <string>
#include <vector>

#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::BrokerDriver;
using testing::MakeRequest;
using testing::ParseRequest;

constexpr int kCancelled = 1;
constexpr int kInvalidArgument = 3;
constexpr int kResourceExhausted = 8;
constexpr int kAborted = 10;

v1::Request Acquire(uint64_t id, int64_t timeout_ms = 0) {
  return testing::LockAcquire("db", id, timeout_ms);
}

v1::Request CancelSequence(uint64_t sequence) {
  return ParseRequest("cancel { sequence: " + std::to_string(sequence) + " }");
}

v1::Request CancelId(uint64_t request_id) {
  return ParseRequest("cancel { request_id: " + std::to_string(request_id) +
                      " }");
}

class BrokerCancelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    holder_ = broker_.OpenSession();
    waiter_ = broker_.OpenSession();
    next_ = broker_.OpenSession();
    ASSERT_TRUE(broker_.Apply(Acquire(1), holder_, 1).lock().acquired());
  }
  bool Locked() {
    return broker_.Apply(v1::LOCK, "db", "lock { get {} }").lock().locked();
  }
  int64_t Fence() {
    return broker_.Apply(v1::LOCK, "db", "lock { get {} }").lock().version();
  }

  BrokerDriver broker_;
  uint64_t holder_ = 0, waiter_ = 0, next_ = 0;
};

TEST_F(BrokerCancelTest, ACancelledWaiterIsNeverGranted) {
  broker_.Apply(Acquire(20, 60000), waiter_, 7, /*origin=*/2);
  ASSERT_TRUE(broker_.last_deferred());
  const int64_t revision = broker_.revision();

  v1::Response r = broker_.Apply(CancelSequence(7), waiter_, 0, /*origin=*/3);
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_TRUE(r.cancel().cancelled());
  EXPECT_FALSE(r.cancel().has_answer());
  EXPECT_EQ(broker_.revision(), revision);  // a cancel takes no revision

  // The waiter is answered CANCELLED, on the origin that sent it.
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 2u);
  EXPECT_EQ(done[0].response.id(), 20u);
  EXPECT_EQ(done[0].response.error().code(), kCancelled);

  // The holder's release frees the lock: nobody is queued behind it.
  EXPECT_FALSE(broker_.Apply(v1::LOCK, "db", "lock { release {} }", holder_)
                   .has_error());
  EXPECT_FALSE(Locked());
  EXPECT_TRUE(broker_.TakeCompletions().empty());

  // A retry of the cancelled sequence gets CANCELLED again, not a grant.
  v1::Response retry = broker_.Apply(Acquire(21, 60000), waiter_, 7);
  EXPECT_FALSE(broker_.last_deferred());
  EXPECT_EQ(retry.error().code(), kCancelled);
  EXPECT_FALSE(Locked());
}

TEST_F(BrokerCancelTest, TheNextWaiterIsGrantedInsteadOfTheCancelledOne) {
  broker_.Apply(Acquire(20), waiter_, 7, 2);
  broker_.Apply(Acquire(30), next_, 1, 3);
  broker_.Apply(CancelSequence(7), waiter_);
  broker_.TakeCompletions();
  v1::Response release =
      broker_.Apply(v1::LOCK, "db", "lock { release {} }", holder_);
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 3u);
  EXPECT_TRUE(done[0].response.lock().acquired());
  EXPECT_EQ(done[0].response.lock().version(), release.revision());
  EXPECT_EQ(Fence(), release.revision());
}

TEST_F(BrokerCancelTest, AGrantThatCameFirstIsReturnedToTheCanceller) {
  broker_.Apply(Acquire(20), waiter_, 7, 2);
  broker_.Apply(v1::LOCK, "db", "lock { release {} }", holder_);
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  const int64_t fence = done[0].response.lock().version();

  v1::Response r = broker_.Apply(CancelSequence(7), waiter_);
  EXPECT_FALSE(r.cancel().cancelled());
  ASSERT_TRUE(r.cancel().has_answer());
  EXPECT_TRUE(r.cancel().answer().lock().acquired());
  EXPECT_EQ(r.cancel().answer().lock().version(), fence);
  // The cancel itself does not release: the client gives the grant back.
  EXPECT_EQ(Fence(), fence);
  v1::Request give_back = MakeRequest(
      v1::LOCK, "db",
      "lock { release { if_version: " + std::to_string(fence) + " } }");
  EXPECT_FALSE(broker_.Apply(give_back, waiter_, 8).has_error());
  EXPECT_FALSE(Locked());
}

TEST_F(BrokerCancelTest, ASequenceCancelledBeforeItArrivesIsNeverApplied) {
  v1::Response r = broker_.Apply(CancelSequence(7), waiter_);
  EXPECT_TRUE(r.cancel().cancelled());
  broker_.Apply(v1::LOCK, "db", "lock { release {} }", holder_);
  // The acquire arrives late (another stream, a paused broker): refused.
  v1::Response late = broker_.Apply(Acquire(20), waiter_, 7);
  EXPECT_FALSE(broker_.last_deferred());
  EXPECT_EQ(late.error().code(), kCancelled);
  EXPECT_FALSE(Locked());
  // Cancelling again is harmless and says what became of it.
  r = broker_.Apply(CancelSequence(7), waiter_);
  EXPECT_EQ(r.cancel().answer().error().code(), kCancelled);
}

TEST_F(BrokerCancelTest, AnAcknowledgedSequenceIsNotTouched) {
  broker_.Apply(v1::COUNTER, "c", "counter { add { delta: 1 } }", waiter_, 1);
  v1::Request cancel = CancelSequence(1);
  cancel.set_ack_sequence(1);
  v1::Response r = broker_.Apply(cancel, waiter_);
  EXPECT_FALSE(r.has_error());
  EXPECT_FALSE(r.cancel().cancelled());
  EXPECT_FALSE(r.cancel().has_answer());
}

TEST_F(BrokerCancelTest, ByRequestIdOnlyWithinTheSameOrigin) {
  broker_.Apply(Acquire(20), waiter_, 0, /*origin=*/2);
  ASSERT_TRUE(broker_.last_deferred());
  v1::Response other = broker_.Apply(CancelId(20), 0, 0, /*origin=*/3);
  EXPECT_FALSE(other.cancel().cancelled());
  v1::Response mine = broker_.Apply(CancelId(20), 0, 0, /*origin=*/2);
  EXPECT_TRUE(mine.cancel().cancelled());
  broker_.TakeCompletions();
  broker_.Apply(v1::LOCK, "db", "lock { release {} }", holder_);
  EXPECT_FALSE(Locked());
}

TEST_F(BrokerCancelTest, ARetryOnANewStreamIsCancelledWhereverItWaits) {
  broker_.Apply(Acquire(20), waiter_, 7, /*origin=*/2);
  // The same (session, sequence) resent on another stream takes it over.
  broker_.Apply(Acquire(40), waiter_, 7, /*origin=*/5);
  ASSERT_TRUE(broker_.last_deferred());
  EXPECT_TRUE(broker_.Apply(CancelSequence(7), waiter_).cancel().cancelled());
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 5u);
  EXPECT_EQ(done[0].response.id(), 40u);
  // The first stream's id no longer names it.
  EXPECT_FALSE(broker_.Apply(CancelId(20), 0, 0, 2).cancel().cancelled());
}

TEST_F(BrokerCancelTest, BadCancelsAreRefusedWithTheReason) {
  v1::Response r = broker_.Apply(ParseRequest("cancel {}"), waiter_);
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(),
            "a cancel needs the target's sequence or request_id");
  r = broker_.Apply(ParseRequest("cancel { sequence: 1 request_id: 2 }"),
                    waiter_);
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  r = broker_.Apply(CancelSequence(3), 0);
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "a cancel by sequence needs a session");
  r = broker_.Apply(CancelSequence(3), waiter_, /*sequence=*/9);
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  r = broker_.Apply(CancelSequence(3), 424242);
  EXPECT_EQ(r.error().code(), kAborted);
}

TEST(BrokerCancel, TombstonesCountAgainstTheExactlyOnceBound) {
  Limits limits;
  limits.max_unacked_responses = 2;
  BrokerDriver broker(limits);
  const uint64_t s = broker.OpenSession();
  EXPECT_TRUE(broker.Apply(CancelSequence(100), s).cancel().cancelled());
  EXPECT_TRUE(broker.Apply(CancelSequence(200), s).cancel().cancelled());
  v1::Response r = broker.Apply(CancelSequence(300), s);
  EXPECT_EQ(r.error().code(), kResourceExhausted);
  EXPECT_EQ(r.error().message(),
            "session 1 has 2 unacknowledged responses; cannot remember "
            "sequence 300 as cancelled");
}

TEST(BrokerSessionOpen, ARepeatedNonceOpensNoSecondSession) {
  BrokerDriver broker;
  v1::Request open = ParseRequest("session { open { ttl_ms: 5000 nonce: 77 } }");
  const uint64_t first = broker.Apply(open).session().session_id();
  ASSERT_NE(first, 0u);
  broker.MoveClock(absl::Seconds(3));
  v1::Response again = broker.Apply(open);
  EXPECT_EQ(again.session().session_id(), first);
  EXPECT_EQ(again.session().ttl_ms(), 5000);
  EXPECT_EQ(broker.store().TEST_session_count(), 1u);
  // The repeat restarted the TTL: alive 3 s later, gone 5 s after it.
  broker.Advance(absl::Seconds(3));
  EXPECT_EQ(broker.store().TEST_session_count(), 1u);
  broker.Advance(absl::Seconds(2));
  EXPECT_EQ(broker.store().TEST_session_count(), 0u);
  // Once that session is gone, the nonce opens a new one.
  const uint64_t later = broker.Apply(open).session().session_id();
  EXPECT_NE(later, 0u);
  EXPECT_NE(later, first);
  // Another nonce, or none, opens another session.
  EXPECT_NE(broker.Apply(ParseRequest("session { open { nonce: 78 } }"))
                .session()
                .session_id(),
            later);
  EXPECT_EQ(broker.store().TEST_session_count(), 2u);
}

TEST(BrokerSessionOpen, TtlAboveTheMaximumIsRefused) {
  Limits limits;
  limits.max_session_ttl_ms = 60000;
  BrokerDriver broker(limits);
  v1::Response r = broker.Apply(
      ParseRequest("session { open { ttl_ms: 9223372036854775807 } }"));
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(),
            "ttl_ms is 9223372036854775807; the maximum is 60000");
  EXPECT_EQ(broker.store().TEST_session_count(), 0u);
  EXPECT_NE(broker.OpenSession(60000), 0u);
}

}  // namespace
}  // namespace atomix::broker
