// Exactly-once: responses remembered per (session, sequence) until
// acknowledged, retries answered with the first answer, the bound on
// unacknowledged responses, and retries of requests that still wait. No
// network.
#include <string>
#include <vector>

#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::BrokerDriver;
using testing::MakeRequest;

constexpr int kInvalidArgument = 3;
constexpr int kNotFound = 5;
constexpr int kResourceExhausted = 8;
constexpr int kAborted = 10;

v1::Request Add(uint64_t id, int64_t delta = 1) {
  return MakeRequest(v1::COUNTER, "c",
                     "counter { add { delta: " + std::to_string(delta) + " } }",
                     id);
}

TEST(BrokerExactlyOnce, ARetryGetsTheFirstAnswerAndIsNotAppliedAgain) {
  BrokerDriver broker;
  const uint64_t s = broker.OpenSession();
  v1::Response first = broker.Apply(Add(10), s, 1);
  EXPECT_EQ(first.counter().value(), 1);
  EXPECT_EQ(first.revision(), 1);
  broker.Apply(Add(11, 5), s, 2);  // 2
  v1::Response retry = broker.Apply(Add(99), s, 1);
  EXPECT_EQ(retry.id(), 99u);  // echoes the retry's id
  EXPECT_EQ(retry.counter().value(), 1);
  EXPECT_EQ(retry.revision(), 1);
  EXPECT_EQ(broker.revision(), 2);
  EXPECT_EQ(broker.Apply(v1::COUNTER, "c", "counter { get {} }").counter().value(), 6);
}

TEST(BrokerExactlyOnce, FailuresAreRememberedToo) {
  BrokerDriver broker;
  const uint64_t s = broker.OpenSession();
  v1::Response first =
      broker.Apply(MakeRequest(v1::VALUE, "v", "value { delete {} }"), s, 1);
  EXPECT_EQ(first.error().code(), kNotFound);
  broker.Apply(v1::VALUE, "v", R"pb(value { set { value: "x" } })pb");
  v1::Response retry =
      broker.Apply(MakeRequest(v1::VALUE, "v", "value { delete {} }"), s, 1);
  EXPECT_EQ(retry.error().code(), kNotFound);
  EXPECT_TRUE(broker.Apply(v1::VALUE, "v", "value { get {} }").value().present());
}

TEST(BrokerExactlyOnce, AcknowledgedSequencesAreForgotten) {
  BrokerDriver broker;
  const uint64_t s = broker.OpenSession();
  broker.Apply(Add(1), s, 1);
  broker.Apply(Add(2), s, 2);
  v1::Request request = Add(3);
  request.set_ack_sequence(1);
  broker.Apply(request, s, 3);
  v1::Response r = broker.Apply(Add(4), s, 1);
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(),
            "session 1: sequence 1 was already acknowledged (ack_sequence 1)");
  // 2 is still remembered.
  EXPECT_EQ(broker.Apply(Add(5), s, 2).counter().value(), 2);
  // Keep-alives acknowledge as well.
  v1::Request keep_alive = testing::ParseRequest("session { keep_alive {} }");
  keep_alive.set_ack_sequence(3);
  broker.Apply(keep_alive, s);
  EXPECT_EQ(broker.Apply(Add(6), s, 3).error().code(), kInvalidArgument);
  EXPECT_EQ(broker.Apply(v1::COUNTER, "c", "counter { get {} }").counter().value(), 3);
}

TEST(BrokerExactlyOnce, UnacknowledgedResponsesAreBounded) {
  Limits limits;
  limits.max_unacked_responses = 3;
  BrokerDriver broker(limits);
  const uint64_t s = broker.OpenSession();
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    EXPECT_FALSE(broker.Apply(Add(seq), s, seq).has_error());
  }
  const int64_t revision = broker.revision();
  v1::Response r = broker.Apply(Add(4), s, 4);
  EXPECT_EQ(r.error().code(), kResourceExhausted);
  EXPECT_EQ(r.error().message(),
            "session 1 has 3 unacknowledged responses; acknowledge some with "
            "ack_sequence first");
  EXPECT_EQ(broker.revision(), revision);
  // Retries of remembered ones still work, and requests without a sequence.
  EXPECT_EQ(broker.Apply(Add(5), s, 2).counter().value(), 2);
  EXPECT_FALSE(broker.Apply(Add(6), s, 0).has_error());
  v1::Request request = Add(7);
  request.set_ack_sequence(2);
  r = broker.Apply(request, s, 4);
  EXPECT_FALSE(r.has_error()) << r.error().message();
}

TEST(BrokerExactlyOnce, ARetryOfAWaitingAcquireIsAnsweredOnItsNewStream) {
  BrokerDriver broker;
  const uint64_t a = broker.OpenSession();
  const uint64_t b = broker.OpenSession();
  broker.Apply(v1::LOCK, "db", "lock { acquire {} }", a);  // 1
  broker.Apply(MakeRequest(v1::LOCK, "db", "lock { acquire {} }", 10), b, 7, 1);
  ASSERT_TRUE(broker.last_deferred());
  // The stream broke; the client retries the same sequence elsewhere.
  broker.Apply(MakeRequest(v1::LOCK, "db", "lock { acquire {} }", 20), b, 7, 2);
  ASSERT_TRUE(broker.last_deferred());
  broker.Cancel(1);  // the old stream ends: nothing is lost
  broker.Apply(v1::LOCK, "db", "lock { release {} }", a);  // 2
  std::vector<Completion> done = broker.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 2u);
  EXPECT_EQ(done[0].response.id(), 20u);
  EXPECT_EQ(done[0].response.lock().version(), 2);
  // A later retry gets the remembered grant.
  v1::Response r = broker.Apply(
      MakeRequest(v1::LOCK, "db", "lock { acquire {} }", 30), b, 7, 3);
  EXPECT_FALSE(broker.last_deferred());
  EXPECT_EQ(r.id(), 30u);
  EXPECT_EQ(r.lock().version(), 2);
  EXPECT_EQ(broker.revision(), 2);
}

TEST(BrokerExactlyOnce, ACancelledAcquireIsAppliedAfreshOnRetry) {
  BrokerDriver broker;
  const uint64_t a = broker.OpenSession();
  const uint64_t b = broker.OpenSession();
  broker.Apply(v1::LOCK, "db", "lock { acquire {} }", a);
  broker.Apply(MakeRequest(v1::LOCK, "db", "lock { acquire {} }", 10), b, 7, 1);
  broker.Cancel(1);
  broker.Apply(MakeRequest(v1::LOCK, "db", "lock { acquire {} }", 11), b, 7, 2);
  ASSERT_TRUE(broker.last_deferred());
  broker.Apply(v1::LOCK, "db", "lock { release {} }", a);
  std::vector<Completion> done = broker.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.id(), 11u);
}

TEST(BrokerExactlyOnce, ALostSessionFailsWithAborted) {
  BrokerDriver broker;
  const uint64_t s = broker.OpenSession();
  broker.Apply(Add(1), s, 1);
  broker.Session("close {}", s);
  v1::Response r = broker.Apply(Add(1), s, 1);
  EXPECT_EQ(r.error().code(), kAborted);
  EXPECT_EQ(r.error().message(), "session 1 is closed or expired");
}

TEST(BrokerExactlyOnce, BatchesKeepTheOrderOfAnsweredRequests) {
  BrokerDriver broker;
  const uint64_t a = broker.OpenSession();
  const uint64_t b = broker.OpenSession();
  broker.Apply(v1::LOCK, "db", "lock { acquire {} }", a);
  v1::RequestBatch batch;
  *batch.add_requests() = Add(1);
  v1::Request acquire = MakeRequest(v1::LOCK, "db", "lock { acquire {} }", 2);
  acquire.set_session_id(b);
  *batch.add_requests() = acquire;
  *batch.add_requests() = Add(3);
  *batch.add_requests() = MakeRequest(v1::COUNTER, "", "counter { get {} }", 4);
  v1::ResponseBatch out;
  std::vector<Completion> completions;
  broker.broker().Execute(batch, 9, out, completions);
  ASSERT_EQ(out.responses_size(), 3);
  EXPECT_EQ(out.responses(0).id(), 1u);
  EXPECT_EQ(out.responses(1).id(), 3u);
  EXPECT_EQ(out.responses(2).id(), 4u);
  EXPECT_EQ(out.responses(2).error().code(), kInvalidArgument);
  EXPECT_TRUE(completions.empty());
}

}  // namespace
}  // namespace atomix::broker
