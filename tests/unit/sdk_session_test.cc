// Sessions in the stream transport, against the in-process fake broker:
// opening, stamping and acknowledgement, keep-alive cadence, suspension,
// loss (by the broker and by the local lease clock), replacement, the
// lost-token ordering rule, exactly-once retries, and running without a
// session against a broker that lacks session support.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "atomix/client.h"
#include "atomix/session.h"
#include "gtest/gtest.h"
#include "sdk/src/stream_transport.h"
#include "tests/unit/sdk_fake_broker.h"

namespace atomix::internal {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::AddRequest;
using testing::FakeBroker;
using testing::WaitUntil;

ClientOptions Options(const std::string& endpoint, milliseconds ttl = seconds(10)) {
  return testing::FakeBrokerOptions(endpoint, ttl);
}

std::chrono::steady_clock::time_point In(milliseconds d) {
  return std::chrono::steady_clock::now() + d;
}

// Collects the states a channel receives.
std::vector<SessionState> Drain(Channel<SessionState>& ch) {
  std::vector<SessionState> out;
  while (auto s = ch.TryReceive()) out.push_back(*s);
  return out;
}

// Waits until `ch` delivers `want`, collecting everything before it.
bool WaitForState(Channel<SessionState>& ch, SessionState want, std::vector<SessionState>* seen,
                  milliseconds timeout = seconds(30)) {
  const auto deadline = In(timeout);
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = ch.Receive(milliseconds(50));
    if (!s) continue;
    seen->push_back(*s);
    if (*s == want) return true;
  }
  return false;
}

TEST(Session, OpensAndStampsRequests) {
  FakeBroker broker("b1");
  StreamCore core(Options(broker.endpoint()));
  ASSERT_TRUE(core.WaitConnected(In(seconds(30))).ok());
  const uint64_t id = core.session_id();
  EXPECT_NE(id, 0u);
  EXPECT_EQ(core.session_state(), SessionState::kConnected);
  EXPECT_EQ(broker.session_opens(), 1);
  EXPECT_FALSE(core.SessionLostToken(id).stop_requested());
  EXPECT_TRUE(core.SessionLostToken(id).stop_possible());
  EXPECT_TRUE(core.SessionLostToken(id + 1000).stop_requested());
  EXPECT_FALSE(core.SessionLostToken(0).stop_possible());

  ASSERT_TRUE(core.Call(AddRequest(1), {}, /*idempotent=*/false).ok());
  ASSERT_TRUE(core.Call(AddRequest(2), {}, /*idempotent=*/true).ok());
  ASSERT_TRUE(core.Call(AddRequest(3), {}, /*idempotent=*/false).ok());
  const std::vector<v1::Request> got = broker.received();
  ASSERT_EQ(got.size(), 3u);
  for (const v1::Request& r : got) EXPECT_EQ(r.session_id(), id);
  EXPECT_EQ(got[0].sequence(), 1u);
  EXPECT_EQ(got[0].ack_sequence(), 0u);  // Its own answer is still outstanding.
  EXPECT_EQ(got[1].sequence(), 0u);      // Reads carry no sequence.
  EXPECT_EQ(got[1].ack_sequence(), 1u);
  EXPECT_EQ(got[2].sequence(), 2u);
  EXPECT_EQ(got[2].ack_sequence(), 1u);
  EXPECT_EQ(core.TEST_AckSequence(), 2u);
}

TEST(Session, AckStaysBelowAnOutstandingSequence) {
  FakeBroker broker("b1", 0, FakeBroker::Mode::kHold);
  StreamCore core(Options(broker.endpoint()));
  ASSERT_TRUE(core.WaitConnected(In(seconds(30))).ok());
  std::thread held([&] { (void)core.Call(AddRequest(1), WithTimeout(milliseconds(300)), false); });
  ASSERT_TRUE(broker.WaitForRequests(1));
  EXPECT_EQ(core.TEST_AckSequence(), 0u);
  held.join();  // Gave up: it will never be retried, so it may be forgotten.
  EXPECT_EQ(core.TEST_AckSequence(), 1u);
}

TEST(Session, PinnedToAnotherSessionFailsAborted) {
  FakeBroker broker("b1");
  StreamCore core(Options(broker.endpoint()));
  ASSERT_TRUE(core.WaitConnected(In(seconds(30))).ok());
  v1::Request r = AddRequest(1);
  r.set_session_id(core.session_id() + 12345);
  auto result = core.Call(r, {}, false);
  EXPECT_TRUE(absl::IsAborted(result.status())) << result.status();
  EXPECT_TRUE(broker.received().empty());
  r.set_session_id(core.session_id());
  EXPECT_TRUE(core.Call(r, {}, false).ok());
}

TEST(Session, KeepAliveCadence) {
  FakeBroker broker("b1");
  StreamCore core(Options(broker.endpoint(), milliseconds(1200)));  // Every ~400 ms.
  ASSERT_TRUE(core.WaitConnected(In(seconds(30))).ok());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(broker.WaitForKeepAlives(4, seconds(30)));
  const auto times = broker.keep_alive_times();
  // Generous bounds: not faster than TTL/6, and four within a few seconds on
  // an idle machine (asserted loosely so a loaded machine does not flake).
  for (size_t i = 1; i < times.size(); ++i) EXPECT_GE(times[i] - times[i - 1], milliseconds(200));
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(20));
  EXPECT_EQ(broker.session_opens(), 1);
  EXPECT_NE(core.session_state(), SessionState::kLost);
}

TEST(Session, BrokerWithoutSessionsRunsSessionLess) {
  FakeBroker broker("old", 0, FakeBroker::Mode::kAnswer, 0, /*sessions=*/false);
  StreamCore core(Options(broker.endpoint()));
  ASSERT_TRUE(core.WaitConnected(In(seconds(30))).ok());
  EXPECT_EQ(core.session_id(), 0u);
  EXPECT_EQ(core.session_state(), SessionState::kConnected);
  auto r = core.Call(AddRequest(4), {}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->counter().value(), 4);
  const auto got = broker.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].session_id(), 0u);
  EXPECT_EQ(got[0].sequence(), 0u);
}

TEST(Session, LostByBrokerIsReplacedAfterTheTokenStops) {
  FakeBroker broker("b1");
  StreamCore core(Options(broker.endpoint()));
  Channel<SessionState> states(64);
  core.WatchSessionState(states);
  ASSERT_TRUE(core.WaitConnected(In(seconds(30))).ok());
  const uint64_t old_id = core.session_id();
  ASSERT_NE(old_id, 0u);

  // While the old token's callback runs, no request may carry a new session:
  // a busy caller keeps trying, and the callback takes its time.
  std::atomic<bool> stop_load{false};
  std::thread load([&] {
    while (!stop_load) (void)core.Call(AddRequest(1), WithTimeout(seconds(5)), false);
  });
  std::atomic<size_t> seen_at_stop{0};
  std::atomic<bool> callback_done{false};
  std::stop_callback on_lost(core.SessionLostToken(old_id), [&] {
    std::this_thread::sleep_for(milliseconds(200));
    seen_at_stop = broker.received().size();
    callback_done = true;
  });

  broker.ForgetSessions();  // The next request of the session gets ABORTED.
  std::vector<SessionState> seen;
  ASSERT_TRUE(WaitForState(states, SessionState::kReconnected, &seen));
  EXPECT_TRUE(callback_done);
  const uint64_t new_id = core.session_id();
  EXPECT_NE(new_id, 0u);
  EXPECT_NE(new_id, old_id);
  ASSERT_TRUE(WaitUntil([&] { return broker.received().size() > seen_at_stop + 3; }));
  stop_load = true;
  load.join();

  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen[seen.size() - 2], SessionState::kLost);
  const auto got = broker.received();
  for (size_t i = 0; i < seen_at_stop; ++i) EXPECT_NE(got[i].session_id(), new_id) << i;
  bool new_used = false;
  for (const v1::Request& r : got) new_used |= r.session_id() == new_id;
  EXPECT_TRUE(new_used);
  EXPECT_TRUE(core.SessionLostToken(old_id).stop_requested());
  EXPECT_FALSE(core.SessionLostToken(new_id).stop_requested());
  EXPECT_EQ(core.session_state(), SessionState::kReconnected);
}

TEST(Session, LostByBrokerClockWithoutTraffic) {
  FakeBroker broker("b1");
  StreamCore core(Options(broker.endpoint(), milliseconds(1200)));
  ASSERT_TRUE(core.WaitConnected(In(seconds(30))).ok());
  const uint64_t old_id = core.session_id();
  broker.AdvanceClock(seconds(3600));  // Expires every session on the broker.
  ASSERT_TRUE(WaitUntil([&] { return core.SessionLostToken(old_id).stop_requested(); }));
  ASSERT_TRUE(WaitUntil([&] { return core.session_id() != 0; }));
  EXPECT_NE(core.session_id(), old_id);
  EXPECT_EQ(broker.session_opens(), 2);
}

TEST(Session, SuspendedThenLostByTheLocalClockWhileTheBrokerIsDown) {
  auto broker = std::make_unique<FakeBroker>("first");
  const int port = broker->port();
  StreamCore core(Options(broker->endpoint(), milliseconds(1000)));
  Channel<SessionState> states(64);
  core.WatchSessionState(states);
  ASSERT_TRUE(core.WaitConnected(In(seconds(30))).ok());
  const uint64_t old_id = core.session_id();
  const auto stopped_at = std::chrono::steady_clock::now();
  broker->Stop();
  std::vector<SessionState> seen;
  ASSERT_TRUE(WaitForState(states, SessionState::kLost, &seen));
  // The lease counts from a keep-alive sent before the broker went away.
  EXPECT_LE(std::chrono::steady_clock::now() - stopped_at, seconds(20));
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen[seen.size() - 2], SessionState::kSuspended);
  EXPECT_TRUE(core.SessionLostToken(old_id).stop_requested());
  EXPECT_EQ(core.session_id(), 0u);

  broker = std::make_unique<FakeBroker>("second", port);
  seen.clear();
  ASSERT_TRUE(WaitForState(states, SessionState::kReconnected, &seen));
  auto r = core.Call(AddRequest(8), {}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(broker->received().back().session_id(), core.session_id());
}

TEST(Session, ExactlyOnceRetryAfterADroppedResponse) {
  FakeBroker broker("b1");
  StreamCore core(Options(broker.endpoint()));
  ASSERT_TRUE(core.WaitConnected(In(seconds(30))).ok());
  const uint64_t id = core.session_id();
  // "drop": applied, then the broker ends the stream without answering.
  auto r = core.Call(AddRequest(5, "drop"), {}, /*idempotent=*/false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->counter().value(), 5);
  EXPECT_EQ(broker.streams(), 2);
  EXPECT_EQ(broker.duplicates(), 1);  // The retry got the first answer.
  std::vector<v1::Request> drops;
  for (const v1::Request& q : broker.received()) {
    if (q.name() == "drop") drops.push_back(q);
  }
  ASSERT_EQ(drops.size(), 2u);
  EXPECT_EQ(drops[0].session_id(), id);
  EXPECT_EQ(drops[1].session_id(), id);
  EXPECT_NE(drops[0].sequence(), 0u);
  EXPECT_EQ(drops[0].sequence(), drops[1].sequence());
  EXPECT_EQ(core.session_id(), id);  // The same session throughout.
  EXPECT_EQ(core.TEST_InFlight(), 0u);
  EXPECT_EQ(core.TEST_Queued(), 0u);
}

TEST(Session, InFlightMutationFailsAbortedWhenTheSessionIsLost) {
  auto broker = std::make_unique<FakeBroker>("first", 0, FakeBroker::Mode::kHold);
  const int port = broker->port();
  StreamCore core(Options(broker->endpoint()));
  ASSERT_TRUE(core.WaitConnected(In(seconds(30))).ok());
  absl::StatusOr<v1::Response> read, write;
  std::thread reader([&] { read = core.Call(AddRequest(10), {}, /*idempotent=*/true); });
  std::thread writer([&] { write = core.Call(AddRequest(20), {}, /*idempotent=*/false); });
  ASSERT_TRUE(broker->WaitForRequests(2));
  broker->Stop();
  // A new incarnation that never heard of the session.
  broker = std::make_unique<FakeBroker>("second", port);
  writer.join();
  EXPECT_TRUE(absl::IsAborted(write.status())) << write.status();
  EXPECT_NE(write.status().message().find("may or may not have been applied"),
            absl::string_view::npos);
  reader.join();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->counter().value(), 10);
  // Only the read was sent again (perhaps twice, if its answer took over
  // 100 ms on a loaded machine).
  EXPECT_EQ(broker->distinct_requests(), 1);
}

TEST(Session, InFlightMutationIsResentWhenTheSessionSurvives) {
  FakeBroker broker("b1", 0, FakeBroker::Mode::kHold);
  StreamCore core(Options(broker.endpoint()));
  ASSERT_TRUE(core.WaitConnected(In(seconds(30))).ok());
  const uint64_t id = core.session_id();
  absl::StatusOr<v1::Response> write;
  std::thread writer([&] { write = core.Call(AddRequest(20), {}, /*idempotent=*/false); });
  ASSERT_TRUE(broker.WaitForRequests(1));
  broker.set_mode(FakeBroker::Mode::kAnswer);
  // Break the stream from the client side: a fresh stream is opened, the
  // session checked, and the mutation sent again.
  core.TEST_BreakStream();
  writer.join();
  ASSERT_TRUE(write.ok()) << write.status();
  EXPECT_EQ(write->counter().value(), 20);
  const auto got = broker.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].sequence(), got[1].sequence());
  EXPECT_EQ(got[1].session_id(), id);
  EXPECT_EQ(core.session_id(), id);
}

TEST(Session, DeadlineWhileWaitingToResend) {
  FakeBroker broker("b1", 0, FakeBroker::Mode::kHold);
  StreamCore core(Options(broker.endpoint()));
  ASSERT_TRUE(core.WaitConnected(In(seconds(30))).ok());
  absl::StatusOr<v1::Response> write;
  std::thread writer(
      [&] { write = core.Call(AddRequest(20), WithTimeout(milliseconds(500)), false); });
  ASSERT_TRUE(broker.WaitForRequests(1));
  broker.Stop();
  writer.join();
  EXPECT_TRUE(absl::IsDeadlineExceeded(write.status())) << write.status();
  EXPECT_NE(write.status().message().find("may or may not have been applied"),
            absl::string_view::npos)
      << write.status();
  EXPECT_EQ(core.TEST_Queued(), 0u);
  EXPECT_EQ(core.TEST_InFlight(), 0u);
}

TEST(Session, ClosedOnDestruction) {
  FakeBroker broker("b1");
  {
    StreamCore core(Options(broker.endpoint()));
    ASSERT_TRUE(core.WaitConnected(In(seconds(30))).ok());
  }
  EXPECT_EQ(broker.session_closes(), 1);
}

TEST(Session, WatchersCloseOnDestruction) {
  FakeBroker broker("b1");
  Channel<SessionState> states;
  {
    StreamCore core(Options(broker.endpoint()));
    core.WatchSessionState(states);
    ASSERT_TRUE(core.WaitConnected(In(seconds(30))).ok());
  }
  EXPECT_TRUE(states.closed());
  std::vector<SessionState> all = Drain(states);
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front(), SessionState::kConnected);
}

// The public surface on Client.
TEST(ClientSession, ConnectRejectsAShortTtl) {
  FakeBroker broker("b1");
  ClientOptions o = Options(broker.endpoint(), milliseconds(500));
  auto c = Client::Connect(o);
  EXPECT_TRUE(absl::IsInvalidArgument(c.status())) << c.status();
}

TEST(ClientSession, HandleStateAndCallbacks) {
  FakeBroker broker("b1");
  auto c = Client::Connect(Options(broker.endpoint()));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->session_state(), SessionState::kConnected);
  Session session = c->session();
  EXPECT_NE(session.id(), 0u);
  EXPECT_EQ(session.id(), c->session_id());
  EXPECT_EQ(session.state(), SessionState::kConnected);
  EXPECT_FALSE(session.Done().stop_requested());
  EXPECT_FALSE(session.WaitDone(In(milliseconds(20))));

  std::mutex mu;
  std::vector<SessionState> calls;
  std::thread::id callback_thread;
  Subscription sub = c->OnSessionStateChange([&](SessionState s) {
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(s);
    callback_thread = std::this_thread::get_id();
  });
  broker.ForgetSessions();
  (void)internal_core(*c)->Call(AddRequest(1), {}, false);  // ABORTED; triggers the check.
  EXPECT_TRUE(session.WaitDone(In(seconds(30))));
  EXPECT_EQ(session.state(), SessionState::kLost);
  ASSERT_TRUE(WaitUntil([&] {
    std::lock_guard<std::mutex> lock(mu);
    return !calls.empty() && calls.back() == SessionState::kReconnected;
  }));
  sub.Cancel();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_NE(std::find(calls.begin(), calls.end(), SessionState::kLost), calls.end());
  EXPECT_NE(callback_thread, std::this_thread::get_id());
  EXPECT_NE(c->session().id(), session.id());
  EXPECT_STREQ(SessionStateName(SessionState::kReconnected), "reconnected");
}

}  // namespace
}  // namespace atomix::internal
