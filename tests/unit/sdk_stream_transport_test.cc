// StreamCore against an in-process fake broker: coalescing, out-of-order
// answers, errors, deadlines, unavailability, reconnection, cancellation and
// shutdown.
#include <atomic>
#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "atomix/status.h"
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

ClientOptions Options(const std::string& endpoint) { return testing::FakeBrokerOptions(endpoint); }

TEST(StreamTransport, ConnectsAndAnswers) {
  FakeBroker broker("b1");
  ASSERT_TRUE(broker.started());
  StreamCore core(Options(broker.endpoint()));
  ASSERT_TRUE(core.WaitConnected(std::chrono::steady_clock::now() + seconds(30)).ok());
  EXPECT_EQ(core.connected_endpoint(), broker.endpoint());
  EXPECT_EQ(core.broker_id(), "b1");
  absl::StatusOr<v1::Response> r = core.Call(AddRequest(7), {}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->counter().value(), 7);
  EXPECT_NE(r->id(), 0u);
  EXPECT_EQ(core.TEST_InFlight(), 0u);
  EXPECT_EQ(core.TEST_Queued(), 0u);
}

TEST(StreamTransport, ErrorResponseBecomesStatusWithCurrent) {
  FakeBroker broker("b1");
  StreamCore core(Options(broker.endpoint()));
  absl::StatusOr<v1::Response> r = core.Call(AddRequest(1, "fail"), {}, false);
  ASSERT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_EQ(r.status().message(), "mismatch");
  EXPECT_EQ(CurrentVersion(r.status()), 42);
}

TEST(StreamTransport, QueuedCallsGoOutAsOneBatch) {
  FakeBroker broker("b1");
  StreamCore core(Options(broker.endpoint()));
  ASSERT_TRUE(core.WaitConnected(std::chrono::steady_clock::now() + seconds(30)).ok());
  core.TEST_HoldWrites(true);
  constexpr int kCalls = 64;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      auto r = core.Call(AddRequest(i), {}, false);
      if (r.ok() && r->counter().value() == i) ++ok;
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return core.TEST_Queued() == kCalls; }));
  core.TEST_HoldWrites(false);
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kCalls);
  EXPECT_EQ(broker.batch_sizes(), std::vector<int>{kCalls});
}

TEST(StreamTransport, BatchesRespectMaxBatchRequests) {
  FakeBroker broker("b1");
  ClientOptions o = Options(broker.endpoint());
  o.max_batch_requests = 10;
  StreamCore core(o);
  ASSERT_TRUE(core.WaitConnected(std::chrono::steady_clock::now() + seconds(30)).ok());
  core.TEST_HoldWrites(true);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 25; ++i) {
    threads.emplace_back([&, i] { ok += core.Call(AddRequest(i), {}, false).ok(); });
  }
  ASSERT_TRUE(WaitUntil([&] { return core.TEST_Queued() == 25; }));
  core.TEST_HoldWrites(false);
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 25);
  EXPECT_EQ(broker.batch_sizes(), (std::vector<int>{10, 10, 5}));
}

TEST(StreamTransport, ManyThreadsCoalesce) {
  FakeBroker broker("b1");
  StreamCore core(Options(broker.endpoint()));
  constexpr int kThreads = 32;
  constexpr int kPerThread = 200;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int64_t delta = t * 100000 + i;
        auto r = core.Call(AddRequest(delta), {}, i % 2 == 0);
        if (r.ok() && r->counter().value() == delta) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  // Each call reached the broker; one whose answer took over 100 ms (a
  // loaded machine) may also have been sent again on the live stream.
  EXPECT_EQ(broker.distinct_requests(), kThreads * kPerThread);
  EXPECT_GE(broker.requests(), kThreads * kPerThread);
  EXPECT_LE(broker.batch_sizes().size(), static_cast<size_t>(broker.requests()));
  EXPECT_EQ(core.TEST_InFlight(), 0u);
}

TEST(StreamTransport, OutOfOrderAnswersReachTheirCallers) {
  // The broker holds 8 requests, which arrive in separate batches, and
  // answers them in reverse order.
  FakeBroker broker("b1", 0, FakeBroker::Mode::kGather, 8);
  StreamCore core(Options(broker.endpoint()));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = core.Call(AddRequest(1000 + i), {}, false);
      if (r.ok() && r->counter().value() == 1000 + i) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
}

TEST(StreamTransport, UnansweredCallExceedsDeadlineAndIsForgotten) {
  FakeBroker broker("b1", 0, FakeBroker::Mode::kHold);
  StreamCore core(Options(broker.endpoint()));
  ASSERT_TRUE(core.WaitConnected(std::chrono::steady_clock::now() + seconds(30)).ok());
  const auto start = std::chrono::steady_clock::now();
  auto r = core.Call(AddRequest(1), WithTimeout(milliseconds(200)), false);
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(200));
  EXPECT_EQ(core.TEST_InFlight(), 0u);
  EXPECT_EQ(core.TEST_Queued(), 0u);
}

TEST(StreamTransport, NothingListeningIsUnavailableNamingTheEndpoint) {
  const std::string endpoint = "127.0.0.1:" + std::to_string(testing::UnusedPort());
  StreamCore core(Options(endpoint));
  auto r = core.Call(AddRequest(1), WithTimeout(milliseconds(500)), true);
  ASSERT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_NE(r.status().message().find(endpoint), absl::string_view::npos) << r.status();
  EXPECT_EQ(core.TEST_Queued(), 0u);
  absl::Status s = core.WaitConnected(std::chrono::steady_clock::now() + milliseconds(300));
  ASSERT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find(endpoint), absl::string_view::npos) << s;
  EXPECT_EQ(core.connected_endpoint(), "");
  EXPECT_EQ(core.broker_id(), "");
}

TEST(StreamTransport, ReconnectsAfterBrokerRestart) {
  auto broker = std::make_unique<FakeBroker>("first");
  const int port = broker->port();
  StreamCore core(Options(broker->endpoint()));
  ASSERT_TRUE(core.Call(AddRequest(1), {}, false).ok());
  EXPECT_EQ(core.broker_id(), "first");

  broker->Stop();
  ASSERT_TRUE(WaitUntil([&] { return core.connected_endpoint().empty(); }));
  auto down = core.Call(AddRequest(2), WithTimeout(milliseconds(300)), false);
  EXPECT_TRUE(absl::IsUnavailable(down.status())) << down.status();

  broker = std::make_unique<FakeBroker>("second", port);
  ASSERT_TRUE(broker->started());
  auto r = core.Call(AddRequest(3), {}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->counter().value(), 3);
  EXPECT_EQ(core.broker_id(), "second");
}

TEST(StreamTransport, InFlightCallsAcrossARestartWithoutSessions) {
  // A broker without session support: nothing can make a mutation's retry
  // safe, so it fails. (With sessions: sdk_session_test.cc.)
  auto broker = std::make_unique<FakeBroker>("first", 0, FakeBroker::Mode::kHold, 0,
                                             /*sessions=*/false);
  const int port = broker->port();
  StreamCore core(Options(broker->endpoint()));
  absl::StatusOr<v1::Response> read, write;
  std::thread reader([&] { read = core.Call(AddRequest(10), {}, /*idempotent=*/true); });
  std::thread writer([&] { write = core.Call(AddRequest(20), {}, /*idempotent=*/false); });
  ASSERT_TRUE(broker->WaitForRequests(2));
  broker->Stop();
  writer.join();
  EXPECT_TRUE(absl::IsUnavailable(write.status())) << write.status();
  EXPECT_NE(write.status().message().find("may or may not have been applied"),
            absl::string_view::npos);

  broker = std::make_unique<FakeBroker>("second", port, FakeBroker::Mode::kAnswer, 0,
                                       /*sessions=*/false);
  reader.join();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->counter().value(), 10);
  // Only the idempotent call came back (perhaps written twice, if its answer
  // took over 100 ms on a loaded machine).
  EXPECT_EQ(broker->distinct_requests(), 1);
}

TEST(StreamTransport, CancelInFlight) {
  FakeBroker broker("b1", 0, FakeBroker::Mode::kHold);
  StreamCore core(Options(broker.endpoint()));
  std::stop_source stop;
  absl::StatusOr<v1::Response> r;
  std::thread t([&] { r = core.Call(AddRequest(1), WithCancel(stop.get_token()), false); });
  ASSERT_TRUE(broker.WaitForRequests(1));
  stop.request_stop();
  t.join();
  EXPECT_TRUE(absl::IsCancelled(r.status())) << r.status();
  EXPECT_EQ(core.TEST_InFlight(), 0u);
}

TEST(StreamTransport, CancelWhileDisconnected) {
  StreamCore core(Options("127.0.0.1:" + std::to_string(testing::UnusedPort())));
  std::stop_source stop;
  absl::StatusOr<v1::Response> r;
  std::thread t([&] { r = core.Call(AddRequest(1), WithCancel(stop.get_token()), true); });
  ASSERT_TRUE(WaitUntil([&] { return core.TEST_Queued() == 1; }));
  stop.request_stop();
  t.join();
  EXPECT_TRUE(absl::IsCancelled(r.status())) << r.status();
  EXPECT_EQ(core.TEST_Queued(), 0u);

  std::stop_source already;
  already.request_stop();
  EXPECT_TRUE(
      absl::IsCancelled(core.Call(AddRequest(1), WithCancel(already.get_token()), true).status()));
}

TEST(StreamTransport, DestroyWhileBrokerDown) {
  auto core =
      std::make_unique<StreamCore>(Options("127.0.0.1:" + std::to_string(testing::UnusedPort())));
  EXPECT_FALSE(core->Call(AddRequest(1), WithTimeout(milliseconds(100)), true).ok());
  core.reset();  // Must not hang.
}

TEST(StreamTransport, DestroyWhileBrokerHoldsTheStream) {
  FakeBroker broker("b1", 0, FakeBroker::Mode::kHold);
  auto core = std::make_unique<StreamCore>(Options(broker.endpoint()));
  ASSERT_TRUE(core->WaitConnected(std::chrono::steady_clock::now() + seconds(30)).ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      core->Call(AddRequest(1), WithTimeout(milliseconds(100)), true).status()));
  core.reset();  // Must not hang.
}

TEST(StreamTransport, DestroyRightAfterCreate) {
  FakeBroker broker("b1");
  for (int i = 0; i < 20; ++i) {
    StreamCore core(Options(broker.endpoint()));
  }
}

}  // namespace
}  // namespace atomix::internal
