// Asynchronous calls on the stream transport, against an in-process fake
// broker: coalescing from one thread, deadlines and cancellation with nobody
// waiting, dropped futures, continuations' threads, and shutdown.
#include <malloc.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "atomix/future.h"
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

Future<v1::Response> Start(StreamCore& core, int64_t delta, const CallOptions& options = {}) {
  return Future<v1::Response>(core.CallAsync(AddRequest(delta), options, CallKind{}));
}

TEST(AsyncCall, ManyFromOneThreadGoOutAsOneBatch) {
  FakeBroker broker("b1");
  StreamCore core(Options(broker.endpoint()));
  ASSERT_TRUE(core.WaitConnected(std::chrono::steady_clock::now() + seconds(30)).ok());
  core.TEST_HoldWrites(true);
  constexpr int kCalls = 256;
  std::vector<Future<v1::Response>> futures;
  for (int i = 0; i < kCalls; ++i) futures.push_back(Start(core, i));
  EXPECT_EQ(core.TEST_Queued(), static_cast<size_t>(kCalls));
  core.TEST_HoldWrites(false);
  for (int i = 0; i < kCalls; ++i) {
    absl::StatusOr<v1::Response> r = futures[i].get();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->counter().value(), i);
  }
  EXPECT_EQ(broker.batch_sizes(), std::vector<int>{kCalls});
}

TEST(AsyncCall, DeadlineEndsACallNobodyWaitsFor) {
  FakeBroker broker("b1", 0, FakeBroker::Mode::kHold);
  StreamCore core(Options(broker.endpoint()));
  ASSERT_TRUE(core.WaitConnected(std::chrono::steady_clock::now() + seconds(30)).ok());
  std::atomic<bool> done{false};
  absl::Status seen;
  Future<void> f = Start(core, 1, WithTimeout(milliseconds(100)))
                       .then([&](absl::StatusOr<v1::Response> r) {
                         seen = r.status();
                         done = true;
                       });
  ASSERT_TRUE(WaitUntil([&] { return done.load(); }));
  EXPECT_TRUE(absl::IsDeadlineExceeded(seen)) << seen;
  EXPECT_EQ(core.TEST_InFlight(), 0u);
  EXPECT_TRUE(f.get().ok());
}

TEST(AsyncCall, CancelEndsItAtOnce) {
  FakeBroker broker("b1", 0, FakeBroker::Mode::kHold);
  StreamCore core(Options(broker.endpoint()));
  std::stop_source stop;
  Future<v1::Response> f = Start(core, 1, WithCancel(stop.get_token()));
  ASSERT_TRUE(broker.WaitForRequests(1));
  EXPECT_EQ(f.wait_for(milliseconds(50)), std::future_status::timeout);
  stop.request_stop();
  ASSERT_EQ(f.wait_for(seconds(10)), std::future_status::ready);
  EXPECT_TRUE(absl::IsCancelled(f.get().status()));
  EXPECT_EQ(core.TEST_InFlight(), 0u);
}

TEST(AsyncCall, ACancelAfterTheAnswerChangesNothing) {
  FakeBroker broker("b1");
  StreamCore core(Options(broker.endpoint()));
  std::stop_source stop;
  Future<v1::Response> f = Start(core, 3, WithCancel(stop.get_token()));
  f.wait();
  stop.request_stop();
  absl::StatusOr<v1::Response> r = f.get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->counter().value(), 3);
}

TEST(AsyncCall, DroppedFuturesLeaveNothingBehind) {
  FakeBroker broker("b1");
  StreamCore core(Options(broker.endpoint()));
  ASSERT_TRUE(core.WaitConnected(std::chrono::steady_clock::now() + seconds(30)).ok());
  for (int i = 0; i < 100; ++i) (void)Start(core, i);
  ASSERT_TRUE(WaitUntil([&] { return core.TEST_InFlight() == 0 && core.TEST_Queued() == 0; }));
  EXPECT_EQ(broker.requests(), 100);
  absl::StatusOr<v1::Response> r = Start(core, 5).get();
  ASSERT_TRUE(r.ok()) << r.status();
}

TEST(AsyncCall, ContinuationsRunOnTheCallbackThreads) {
  FakeBroker broker("b1");
  StreamCore core(Options(broker.endpoint()));
  Future<std::string> f = Start(core, 1).then([](absl::StatusOr<v1::Response> r) {
    char name[32] = {};
    pthread_getname_np(pthread_self(), name, sizeof(name));
    return std::string(name);
  });
  absl::StatusOr<std::string> thread = f.get();
  ASSERT_TRUE(thread.ok());
  EXPECT_EQ(*thread, "atomix-callback");
}

TEST(AsyncCall, DestroyingTheClientCompletesPendingCalls) {
  FakeBroker broker("b1", 0, FakeBroker::Mode::kHold);
  auto core = std::make_unique<StreamCore>(Options(broker.endpoint()));
  std::atomic<int> completed{0};
  std::vector<Future<void>> continuations;
  for (int i = 0; i < 10; ++i) {
    continuations.push_back(Start(*core, i).then([&](absl::StatusOr<v1::Response> r) {
      if (!r.ok()) ++completed;
    }));
  }
  ASSERT_TRUE(broker.WaitForRequests(10));
  core.reset();  // Must not hang, and completes every call.
  for (Future<void>& c : continuations) EXPECT_TRUE(c.get().ok());
  EXPECT_EQ(completed.load(), 10);
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPlainMalloc = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kPlainMalloc = false;
#else
constexpr bool kPlainMalloc = true;
#endif
#else
constexpr bool kPlainMalloc = true;
#endif

// What a queued call costs: the heap bytes of 10,000 held calls (their
// futures included), divided by 10,000. Printed for docs/performance.md.
TEST(AsyncCall, MemoryPerPendingCallIsBounded) {
  if (!kPlainMalloc) GTEST_SKIP() << "needs glibc's own malloc statistics";
  FakeBroker broker("b1");
  StreamCore core(Options(broker.endpoint()));
  ASSERT_TRUE(core.WaitConnected(std::chrono::steady_clock::now() + seconds(30)).ok());
  core.TEST_HoldWrites(true);
  constexpr int kCalls = 10000;
  std::vector<Future<v1::Response>> futures;
  futures.reserve(kCalls);
  const size_t before = mallinfo2().uordblks;
  for (int i = 0; i < kCalls; ++i) futures.push_back(Start(core, i));
  const size_t after = mallinfo2().uordblks;
  const double per_call = static_cast<double>(after - before) / kCalls;
  std::printf("heap bytes per pending counter increment: %.0f\n", per_call);
  EXPECT_LT(per_call, 1024);
  core.TEST_HoldWrites(false);
  for (auto& f : futures) ASSERT_TRUE(f.get().ok());
}

}  // namespace
}  // namespace atomix::internal
