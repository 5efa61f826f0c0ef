// Sessions in the broker core: open, keep-alive, close and expiry on a fake
// logical clock, and what ending a session releases (in one step at one
// revision). No network.
#include <string>

#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::BrokerDriver;
using testing::MakeRequest;
using testing::ParseRequest;

constexpr int kInvalidArgument = 3;
constexpr int kNotFound = 5;
constexpr int kAborted = 10;

TEST(BrokerSession, OpenReturnsIdAndDefaultTtlAndTakesNoRevision) {
  BrokerDriver broker;
  v1::Response r = broker.Apply(ParseRequest("session { open {} }"));
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.session().session_id(), 1u);
  EXPECT_EQ(r.session().ttl_ms(), 10000);
  EXPECT_EQ(r.revision(), 0);
  r = broker.Apply(ParseRequest("session { open { ttl_ms: 2500 } }"));
  EXPECT_EQ(r.session().session_id(), 2u);
  EXPECT_EQ(r.session().ttl_ms(), 2500);
  EXPECT_EQ(broker.store().TEST_session_count(), 2u);
}

TEST(BrokerSession, TtlBelowOneSecondIsRejected) {
  BrokerDriver broker;
  v1::Response r = broker.Apply(ParseRequest("session { open { ttl_ms: 999 } }"));
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(),
            "ttl_ms is 999; the minimum is 1000 (0 means the default, 10000)");
  r = broker.Apply(ParseRequest("session { open { ttl_ms: -1 } }"));
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(broker.revision(), 0);
  EXPECT_EQ(broker.OpenSession(1000), 1u);
}

TEST(BrokerSession, KeepAliveAndCloseNeedASession) {
  BrokerDriver broker;
  EXPECT_EQ(broker.Session("keep_alive {}", 0).error().code(), kInvalidArgument);
  EXPECT_EQ(broker.Session("close {}", 0).error().code(), kInvalidArgument);
  v1::Response r = broker.Session("keep_alive {}", 42);
  EXPECT_EQ(r.error().code(), kAborted);
  EXPECT_EQ(r.error().message(), "session 42 is closed or expired");
  EXPECT_EQ(broker.Apply(ParseRequest("session {}")).error().code(),
            kInvalidArgument);
}

TEST(BrokerSession, ExpiresWhenTheTtlPassesWithoutKeepAlive) {
  BrokerDriver broker;
  const uint64_t s = broker.OpenSession(1000);
  broker.Advance(absl::Milliseconds(999));
  EXPECT_EQ(broker.store().TEST_session_count(), 1u);
  broker.Advance(absl::Milliseconds(1));
  EXPECT_EQ(broker.store().TEST_session_count(), 0u);
  // It owned nothing: its end takes no revision.
  EXPECT_EQ(broker.revision(), 0);
  v1::Response r =
      broker.Apply(v1::COUNTER, "c", "counter { add { delta: 1 } }", s);
  EXPECT_EQ(r.error().code(), kAborted);
  EXPECT_EQ(broker.revision(), 0);
}

TEST(BrokerSession, KeepAliveAndOtherRequestsRestartTheTtl) {
  BrokerDriver broker;
  const uint64_t s = broker.OpenSession(1000);
  broker.Advance(absl::Milliseconds(800));
  v1::Response r = broker.Session("keep_alive {}", s);
  EXPECT_FALSE(r.has_error());
  EXPECT_EQ(r.session().session_id(), s);
  EXPECT_EQ(r.session().ttl_ms(), 1000);
  EXPECT_EQ(r.revision(), 0);  // keep-alive takes no revision
  broker.Advance(absl::Milliseconds(800));
  EXPECT_FALSE(broker.Apply(v1::COUNTER, "c", "counter { get {} }", s)
                   .has_error());
  broker.Advance(absl::Milliseconds(800));
  EXPECT_EQ(broker.store().TEST_session_count(), 1u);
  broker.Advance(absl::Milliseconds(200));
  EXPECT_EQ(broker.store().TEST_session_count(), 0u);
}

TEST(BrokerSession, AnApplyAfterTheDeadlineSeesTheSessionExpiredEvenWithoutATick) {
  BrokerDriver broker;
  const uint64_t s = broker.OpenSession(1000);
  // The next Apply runs whatever is due first.
  broker.MoveClock(absl::Milliseconds(1000));
  EXPECT_EQ(broker.store().TEST_session_count(), 1u);
  EXPECT_EQ(broker.Session("keep_alive {}", s).error().code(), kAborted);
  EXPECT_EQ(broker.store().TEST_session_count(), 0u);
}

TEST(BrokerSession, CloseReleasesEverythingInOneStepAtOneRevision) {
  BrokerDriver broker;
  const uint64_t a = broker.OpenSession();  // no revision
  const uint64_t b = broker.OpenSession();
  // a holds the lock, b waits for it.
  v1::Response r = broker.Apply(v1::LOCK, "db", "lock { acquire {} }", a);
  EXPECT_EQ(r.lock().version(), 1);
  r = broker.Apply(MakeRequest(v1::LOCK, "db", "lock { acquire {} }", 77), b);
  EXPECT_TRUE(broker.last_deferred());
  // a leads, b is second.
  broker.Apply(v1::ELECTION, "e", R"pb(election { enter { candidate_id: "a" } })pb", a);
  broker.Apply(v1::ELECTION, "e", R"pb(election { enter { candidate_id: "b" } })pb", b);
  // a's ephemeral entries, and a permanent one.
  broker.Apply(v1::MAP, "m", R"pb(map { put { key: "a" value: "1" ephemeral: true } })pb", a);
  broker.Apply(v1::MAP, "m", R"pb(map { put { key: "p" value: "1" } })pb", a);
  broker.Apply(v1::VALUE, "v", R"pb(value { set { value: "x" ephemeral: true } })pb", a);
  EXPECT_EQ(broker.revision(), 6);

  r = broker.Session("close {}", a);
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.revision(), 7);
  EXPECT_EQ(broker.revision(), 7);

  // The lock went to b at the close's revision.
  std::vector<Completion> done = broker.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 1u);
  EXPECT_EQ(done[0].response.id(), 77u);
  EXPECT_TRUE(done[0].response.lock().acquired());
  EXPECT_EQ(done[0].response.lock().version(), 7);
  EXPECT_EQ(done[0].response.revision(), 7);
  EXPECT_EQ(broker.Apply(v1::LOCK, "db", "lock { get {} }").lock().version(), 7);
  // b leads from term 7.
  r = broker.Apply(v1::ELECTION, "e", "election { get_term {} }");
  EXPECT_EQ(r.election().term().leader(), "b");
  EXPECT_EQ(r.election().term().term(), 7);
  EXPECT_EQ(r.election().term().candidates_size(), 1);
  // Ephemeral entries are gone; the permanent one stays.
  EXPECT_FALSE(broker.Apply(v1::MAP, "m", R"pb(map { get { key: "a" } })pb")
                   .map().present());
  EXPECT_TRUE(broker.Apply(v1::MAP, "m", R"pb(map { get { key: "p" } })pb")
                  .map().present());
  EXPECT_FALSE(broker.Apply(v1::VALUE, "v", "value { get {} }").value().present());
  // The session is gone.
  EXPECT_EQ(broker.Session("close {}", a).error().code(), kAborted);
  EXPECT_EQ(broker.revision(), 7);
}

TEST(BrokerSession, ExpiryReleasesLikeClose) {
  BrokerDriver broker;
  const uint64_t a = broker.OpenSession(1000);
  const uint64_t b = broker.OpenSession(60000);
  broker.Apply(v1::LOCK, "db", "lock { acquire {} }", a);  // 1
  broker.Apply(v1::LOCK, "db", "lock { acquire {} }", b);
  ASSERT_TRUE(broker.last_deferred());
  broker.Apply(v1::MAP, "m", R"pb(map { put { key: "k" value: "1" ephemeral: true } })pb", a);  // 2
  broker.Advance(absl::Seconds(1));
  EXPECT_EQ(broker.revision(), 3);
  std::vector<Completion> done = broker.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.lock().version(), 3);
  EXPECT_EQ(broker.Apply(v1::MAP, "m", "map { size {} }").map().size(), 0);
}

TEST(BrokerSession, AWaiterWhoseSessionEndsLeavesTheQueueWithAborted) {
  BrokerDriver broker;
  const uint64_t a = broker.OpenSession();
  const uint64_t b = broker.OpenSession();
  broker.Apply(v1::LOCK, "db", "lock { acquire {} }", a);
  broker.Apply(MakeRequest(v1::LOCK, "db", "lock { acquire {} }", 5), b, 0, 2);
  ASSERT_TRUE(broker.last_deferred());
  broker.Session("close {}", b);
  std::vector<Completion> done = broker.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 2u);
  EXPECT_EQ(done[0].response.id(), 5u);
  EXPECT_EQ(done[0].response.error().code(), kAborted);
  // a's release now frees the lock: nobody waits.
  broker.Apply(v1::LOCK, "db", "lock { release {} }", a);
  EXPECT_FALSE(broker.Apply(v1::LOCK, "db", "lock { get {} }").lock().locked());
  EXPECT_TRUE(broker.TakeCompletions().empty());
}

TEST(BrokerSession, AnEphemeralEntryRewrittenPermanentlySurvivesTheSession) {
  BrokerDriver broker;
  const uint64_t a = broker.OpenSession();
  broker.Apply(v1::MAP, "m", R"pb(map { put { key: "k" value: "1" ephemeral: true } })pb", a);
  broker.Apply(v1::MAP, "m", R"pb(map { put { key: "k" value: "2" } })pb", a);
  broker.Session("close {}", a);
  v1::Response r = broker.Apply(v1::MAP, "m", R"pb(map { get { key: "k" } })pb");
  EXPECT_TRUE(r.map().present());
  EXPECT_EQ(r.map().entry().value(), "2");
}

TEST(BrokerSession, EphemeralWritesNeedASession) {
  BrokerDriver broker;
  v1::Response r = broker.Apply(
      v1::MAP, "m", R"pb(map { put { key: "k" value: "1" ephemeral: true } })pb");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "an ephemeral write needs a session");
  r = broker.Apply(v1::VALUE, "v",
                   R"pb(value { insert { value: "1" ephemeral: true } })pb");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(broker.revision(), 0);
}

TEST(BrokerSession, TtlEntriesExpireOnTheLogicalClockOneRevisionEach) {
  BrokerDriver broker;
  broker.Apply(v1::MAP, "m", R"pb(map { put { key: "a" value: "1" ttl_ms: 1000 } })pb");  // 1
  broker.Apply(v1::MAP, "m", R"pb(map { put { key: "b" value: "1" ttl_ms: 1000 } })pb");  // 2
  broker.Apply(v1::MAP, "m", R"pb(map { put { key: "c" value: "1" ttl_ms: 3000 } })pb");  // 3
  broker.Apply(v1::VALUE, "v", R"pb(value { set { value: "x" ttl_ms: 2000 } })pb");      // 4
  broker.Advance(absl::Milliseconds(999));
  EXPECT_EQ(broker.revision(), 4);
  broker.Advance(absl::Milliseconds(1));
  EXPECT_EQ(broker.revision(), 6);
  EXPECT_EQ(broker.Apply(v1::MAP, "m", "map { size {} }").map().size(), 1);
  broker.Advance(absl::Seconds(1));
  EXPECT_EQ(broker.revision(), 7);
  EXPECT_FALSE(broker.Apply(v1::VALUE, "v", "value { get {} }").value().present());
  // A rewrite without ttl makes the entry permanent.
  broker.Apply(v1::MAP, "m", R"pb(map { put { key: "c" value: "2" } })pb");  // 8
  broker.Advance(absl::Seconds(5));
  EXPECT_EQ(broker.revision(), 8);
  EXPECT_EQ(broker.Apply(v1::MAP, "m", "map { size {} }").map().size(), 1);
  // Negative TTLs are rejected.
  v1::Response r = broker.Apply(
      v1::MAP, "m", R"pb(map { put { key: "c" value: "2" ttl_ms: -1 } })pb");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "ttl_ms is -1; it must not be negative");
}

TEST(BrokerSession, ExpireAllSessionsEndsEveryOneAtItsOwnRevision) {
  BrokerDriver broker;
  const uint64_t a = broker.OpenSession();
  const uint64_t b = broker.OpenSession();
  const uint64_t idle = broker.OpenSession();
  broker.Apply(v1::LOCK, "l", "lock { acquire {} }", a);  // 1
  broker.Apply(v1::ELECTION, "e", R"pb(election { enter { candidate_id: "b" } })pb", b);  // 2
  broker.ExpireAllSessions();
  EXPECT_EQ(broker.store().TEST_session_count(), 0u);
  EXPECT_EQ(broker.revision(), 4);  // a at 3, b at 4, idle at none
  EXPECT_EQ(broker.Apply(v1::ELECTION, "e", "election { get_term {} }")
                .election().term().term(),
            4);
  EXPECT_EQ(broker.Session("keep_alive {}", idle).error().code(), kAborted);
  EXPECT_EQ(broker.Session("keep_alive {}", a).error().code(), kAborted);
  EXPECT_EQ(broker.Session("keep_alive {}", b).error().code(), kAborted);
}

TEST(BrokerSession, SessionIdsStartAtTheBase) {
  MemoryStore store(Limits{}, [] { return testing::TestNow(); }, 1000);
  v1::Request open = ParseRequest("session { open {} }");
  v1::Response response;
  const v1::Request* requests[] = {&open};
  v1::Response* responses[] = {&response};
  store.Apply(requests, responses);
  EXPECT_EQ(response.session().session_id(), 1001u);
  (void)kNotFound;
}

}  // namespace
}  // namespace atomix::broker
