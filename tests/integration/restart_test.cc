// The broker is killed and restarted on the same port; the same client
// reconnects by itself. While the broker is down, calls fail within their
// deadline with UNAVAILABLE naming the endpoint.
#include <gtest/gtest.h>

#include <signal.h>

#include <thread>

#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class Restart : public BrokerTest {};

TEST_F(Restart, ClientReconnectsAfterBrokerRestart) {
  auto c = GetCounter(client(), "restart");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->Increment(3).ok());
  const std::string first_id = client().broker_id();
  EXPECT_FALSE(first_id.empty());
  EXPECT_EQ(client().connected_endpoint(), broker().endpoint());

  broker().Kill(SIGKILL);

  // Down: a call fails with UNAVAILABLE naming the endpoint, within its
  // deadline (plus scheduling slack), and never hangs.
  auto start = steady_clock::now();
  auto down = c->Get(WithTimeout(milliseconds(500)));
  auto took = steady_clock::now() - start;
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable) << down.status();
  EXPECT_NE(down.status().message().find(broker().endpoint()), std::string::npos) << down.status();
  EXPECT_LT(took, milliseconds(1500));

  ASSERT_TRUE(broker().Restart().ok());

  // Up again: the same handle works without any action by the app. The
  // memory store lost its state, so the counter starts over.
  auto again = c->Increment(1, WithTimeout(std::chrono::seconds(10)));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->value, 1);
  EXPECT_NE(client().broker_id(), first_id);  // a new incarnation
}

TEST_F(Restart, CallsWaitingForTheConnectionSucceedOnceTheBrokerIsBack) {
  auto c = GetCounter(client(), "waiter");
  ASSERT_TRUE(c.ok());
  broker().Kill(SIGKILL);

  // Issue calls while the broker is down; they queue until it returns.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = c->Get(WithTimeout(std::chrono::seconds(15)));
      if (r.ok()) ok.fetch_add(1);
    });
  }
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_TRUE(broker().Restart().ok());
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
}

TEST(RestartNoBroker, ConnectFailsWithUnavailableNamingTheEndpoint) {
  ClientOptions o;
  o.endpoints = {"127.0.0.1:1"};  // nothing listens on port 1
  o.connect_timeout = milliseconds(300);
  auto start = steady_clock::now();
  auto c = Client::Connect(o);
  EXPECT_LT(steady_clock::now() - start, milliseconds(2000));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("127.0.0.1:1"), std::string::npos) << c.status();
}

TEST(RestartNoBroker, CallWithoutBrokerFailsWithinDeadline) {
  ClientOptions o;
  o.endpoints = {"127.0.0.1:1"};
  Client client = Client::Create(o);
  auto start = steady_clock::now();
  auto c = GetCounter(client, "x", WithTimeout(milliseconds(200)));
  EXPECT_LT(steady_clock::now() - start, milliseconds(1500));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << c.status();
  EXPECT_NE(c.status().message().find("127.0.0.1:1"), std::string::npos) << c.status();
}

TEST(Shutdown, BrokerExitsCleanlyOnSigterm) {
  auto b = BrokerProcess::Start();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->Stop(), 0);
}

}  // namespace
}  // namespace atomix::testing

namespace atomix::testing {
namespace {

// The memory store keeps nothing, but its fences still rise across a
// restart: revisions count from the wall clock (in microseconds).
TEST(MemoryStoreRestart, FencesAfterARestartAreHigherThanBefore) {
  BrokerProcess::Options o;
  o.args = {"--store", "memory"};  // its default revision base
  auto broker = BrokerProcess::Start(o);
  ASSERT_TRUE(broker.ok()) << broker.status();
  int64_t before = 0;
  {
    auto client = Client::Connect(OptionsFor(**broker));
    ASSERT_TRUE(client.ok());
    auto fence = GetLock(*client, "db")->Acquire(WithTimeout(std::chrono::seconds(5)));
    ASSERT_TRUE(fence.ok()) << fence.status();
    before = fence->version;
  }
  EXPECT_GT(before, int64_t{1'600'000'000} * 1'000'000);  // microseconds since 1970
  (*broker)->Kill(SIGKILL);
  ASSERT_TRUE((*broker)->Restart().ok());
  auto client = Client::Connect(OptionsFor(**broker));
  ASSERT_TRUE(client.ok());
  auto fence = GetLock(*client, "db")->Acquire(WithTimeout(std::chrono::seconds(5)));
  ASSERT_TRUE(fence.ok()) << fence.status();
  EXPECT_GT(fence->version, before);
}

}  // namespace
}  // namespace atomix::testing
