// Future<T>, FutureSignal and the callback executor, without a broker.
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "atomix/future.h"
#include "gtest/gtest.h"
#include "sdk/src/executor.h"

namespace atomix::internal {
namespace {

using std::chrono::milliseconds;

std::string ThreadName() {
  char name[32] = {};
  pthread_getname_np(pthread_self(), name, sizeof(name));
  return name;
}

// A future completed by hand, with callbacks on `executor`.
template <class T>
struct Promise {
  explicit Promise(std::shared_ptr<Executor> executor = nullptr)
      : state(std::make_shared<ValueState<T>>(std::move(executor))) {}
  Future<T> future() { return Future<T>(state); }
  std::shared_ptr<ValueState<T>> state;
};

TEST(Future, GetWaitsForTheValueAndConsumes) {
  Promise<int> p;
  Future<int> f = p.future();
  EXPECT_TRUE(f.valid());
  EXPECT_FALSE(f.ready());
  std::thread producer([&] {
    std::this_thread::sleep_for(milliseconds(20));
    p.state->SetValue(42);
  });
  absl::StatusOr<int> v = f.get();
  producer.join();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 42);
  EXPECT_FALSE(f.valid());
}

TEST(Future, WaitForTimesOutThenSeesTheValue) {
  Promise<int> p;
  Future<int> f = p.future();
  EXPECT_EQ(f.wait_for(milliseconds(10)), std::future_status::timeout);
  p.state->SetValue(absl::NotFoundError("gone"));
  EXPECT_EQ(f.wait_for(milliseconds(0)), std::future_status::ready);
  EXPECT_TRUE(absl::IsNotFound(f.get().status()));
}

TEST(Future, ThenRunsOnTheExecutorAndChains) {
  auto executor = std::make_shared<Executor>(2);
  Promise<int> p(executor);
  std::atomic<bool> on_executor{false};
  Future<std::string> chained = p.future().then([&](absl::StatusOr<int> v) -> std::string {
    on_executor = ThreadName() == "atomix-callback";
    return std::to_string(*v * 2);
  });
  Future<void> last = std::move(chained).then([](absl::StatusOr<std::string> s) {
    return s.ok() && *s == "14" ? absl::OkStatus() : absl::InternalError("wrong");
  });
  p.state->SetValue(7);
  EXPECT_TRUE(last.get().ok());
  EXPECT_TRUE(on_executor.load());
  executor->Shutdown();
}

TEST(Future, ThenOnAReadyFutureIsPostedToo) {
  auto executor = std::make_shared<Executor>(1);
  Promise<int> p(executor);
  p.state->SetValue(1);
  std::atomic<bool> on_executor{false};
  Future<int> f = p.future().then([&](absl::StatusOr<int> v) {
    on_executor = ThreadName() == "atomix-callback";
    return *v + 1;
  });
  EXPECT_EQ(*f.get(), 2);
  EXPECT_TRUE(on_executor.load());
  executor->Shutdown();
}

TEST(Future, ThenPassesErrorsThrough) {
  Promise<int> p;
  Future<int> f = p.future().then([](absl::StatusOr<int> v) -> absl::StatusOr<int> {
    if (!v.ok()) return v.status();
    return *v;
  });
  p.state->SetValue(absl::DeadlineExceededError("late"));
  EXPECT_TRUE(absl::IsDeadlineExceeded(f.get().status()));
}

Future<int> AddBoth(Future<int> a, Future<int> b) {
  absl::StatusOr<int> x = co_await std::move(a);
  if (!x.ok()) co_return x.status();
  absl::StatusOr<int> y = co_await std::move(b);
  if (!y.ok()) co_return y.status();
  co_return *x + *y;
}

TEST(Future, CoroutinesAwaitFutures) {
  auto executor = std::make_shared<Executor>(1);
  Promise<int> a(executor), b(executor);
  Future<int> sum = AddBoth(a.future(), b.future());
  EXPECT_FALSE(sum.ready());
  a.state->SetValue(2);
  b.state->SetValue(40);
  EXPECT_EQ(*sum.get(), 42);

  // A future that is ready already does not suspend the coroutine.
  Future<int> now = AddBoth(MakeReadyFuture<int>(1), MakeReadyFuture<int>(2));
  ASSERT_TRUE(now.ready());
  EXPECT_EQ(*now.get(), 3);

  Promise<int> c(executor);
  Future<int> failed = AddBoth(c.future(), MakeReadyFuture<int>(2));
  c.state->SetValue(absl::UnavailableError("down"));
  EXPECT_TRUE(absl::IsUnavailable(failed.get().status()));
  executor->Shutdown();
}

TEST(Future, MappedStateConvertsOnTheConsumersThread) {
  Promise<int> p;
  std::thread::id converted_on;
  Future<std::string> f =
      MapFuture<std::string>(p.future(), [&](absl::StatusOr<int> v) -> absl::StatusOr<std::string> {
        converted_on = std::this_thread::get_id();
        return std::to_string(*v);
      });
  std::thread producer([&] { p.state->SetValue(5); });
  producer.join();
  EXPECT_EQ(*f.get(), "5");
  EXPECT_EQ(converted_on, std::this_thread::get_id());
}

// Signals staged as children are woken by the parent's waiter, or by the
// producer when nobody waits, or after a waiter gave up: never lost.
TEST(FutureSignal, StagedChildrenAreAlwaysWoken) {
  for (int mode = 0; mode < 3; ++mode) {
    FutureSignal parent, left, right, grandchild;
    left.StageChildren(&grandchild, nullptr);
    parent.StageChildren(&left, &right);
    std::thread waiter;
    if (mode == 0) {
      waiter = std::thread([&] { parent.Wait(); });
      std::this_thread::sleep_for(milliseconds(5));  // Usually blocked by now.
    } else if (mode == 2) {
      EXPECT_FALSE(parent.WaitUntil(std::chrono::steady_clock::now() + milliseconds(1)));
    }
    parent.SetReady();
    if (waiter.joinable()) waiter.join();
    EXPECT_TRUE(left.WaitUntil(std::chrono::steady_clock::now() + std::chrono::seconds(10)))
        << "mode " << mode;
    EXPECT_TRUE(right.ready()) << "mode " << mode;
    EXPECT_TRUE(grandchild.ready()) << "mode " << mode;
  }
}

TEST(Executor, RunsEverythingPostedBeforeShutdown) {
  auto executor = std::make_shared<Executor>(2);
  std::atomic<int> ran{0};
  for (int i = 0; i < 1000; ++i) executor->Post([&] { ++ran; });
  executor->Shutdown();
  EXPECT_EQ(ran.load(), 1000);
  // After shutdown, tasks run on the posting thread.
  std::thread::id where;
  executor->Post([&] { where = std::this_thread::get_id(); });
  EXPECT_EQ(where, std::this_thread::get_id());
}

TEST(Executor, ShutdownFromInsideATaskDoesNotDeadlock) {
  auto executor = std::make_shared<Executor>(1);
  std::atomic<bool> done{false};
  executor->Post([&, executor] {
    executor->Shutdown();
    done = true;
  });
  for (int i = 0; i < 1000 && !done; ++i) std::this_thread::sleep_for(milliseconds(5));
  EXPECT_TRUE(done.load());
}

TEST(Executor, StartsNoThreadUntilUsed) {
  Executor executor(4);
  EXPECT_EQ(executor.queued(), 0u);
  executor.Shutdown();  // Nothing to join.
}

}  // namespace
}  // namespace atomix::internal
