// Channel<T>: queueing, overflow, close semantics, iteration and callback
// subscriptions (including closing from a callback and while blocked).
#include "atomix/channel.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace atomix {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Channel, SendThenReceiveInOrder) {
  Channel<int> ch(8);
  EXPECT_TRUE(ch.Send(1));
  EXPECT_TRUE(ch.Send(2));
  EXPECT_EQ(ch.size(), 2u);
  EXPECT_EQ(ch.Receive(), 1);
  EXPECT_EQ(ch.TryReceive(), 2);
  EXPECT_EQ(ch.TryReceive(), std::nullopt);
  EXPECT_EQ(ch.dropped(), 0u);
}

TEST(Channel, CopiesShareOneQueue) {
  Channel<std::string> a(4);
  Channel<std::string> b = a;
  a.Send("x");
  EXPECT_EQ(b.TryReceive(), "x");
  b.Close();
  EXPECT_TRUE(a.closed());
}

TEST(Channel, DropOldestWhenFull) {
  Channel<int> ch(3);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(ch.Send(i));
  EXPECT_EQ(ch.dropped(), 2u);
  EXPECT_EQ(ch.Receive(), 2);
  EXPECT_EQ(ch.Receive(), 3);
  EXPECT_EQ(ch.Receive(), 4);
}

TEST(Channel, DropNewestWhenFull) {
  Channel<int> ch(2, Channel<int>::Overflow::kDropNewest);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(ch.Send(i));
  EXPECT_EQ(ch.dropped(), 2u);
  EXPECT_EQ(ch.Receive(), 0);
  EXPECT_EQ(ch.Receive(), 1);
}

TEST(Channel, ZeroCapacityMeansOne) {
  Channel<int> ch(0);
  EXPECT_EQ(ch.capacity(), 1u);
}

TEST(Channel, ReceiveTimesOut) {
  Channel<int> ch;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(ch.Receive(milliseconds(50)), std::nullopt);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(50));
  EXPECT_FALSE(ch.closed());
}

TEST(Channel, ClosedChannelDrainsThenEnds) {
  Channel<int> ch;
  ch.Send(1);
  ch.Send(2);
  ch.Close();
  EXPECT_FALSE(ch.Send(3));
  EXPECT_EQ(ch.Receive(), 1);
  EXPECT_EQ(ch.Receive(seconds(10)), 2);
  EXPECT_EQ(ch.Receive(), std::nullopt);
  EXPECT_EQ(ch.TryReceive(), std::nullopt);
  ch.Close();  // Idempotent.
}

TEST(Channel, CloseWakesABlockedReceiver) {
  Channel<int> ch;
  std::optional<int> got = 7;
  std::thread t([&] { got = ch.Receive(); });
  std::this_thread::sleep_for(milliseconds(20));
  ch.Close();
  t.join();
  EXPECT_EQ(got, std::nullopt);
}

TEST(Channel, RangeForEndsWhenClosedAndDrained) {
  Channel<int> ch(100);
  std::thread producer([&] {
    for (int i = 0; i < 50; ++i) ch.Send(i);
    ch.Close();
  });
  std::vector<int> seen;
  for (int v : ch) seen.push_back(v);
  producer.join();
  ASSERT_EQ(seen.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(seen[i], i);
}

TEST(Channel, ManyProducersOneConsumer) {
  Channel<int> ch(1 << 16);
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) ch.Send(i);
    });
  }
  int count = 0;
  std::thread consumer([&] {
    for (int v : ch) {
      (void)v;
      ++count;
    }
  });
  for (auto& p : producers) p.join();
  ch.Close();
  consumer.join();
  EXPECT_EQ(count + static_cast<int>(ch.dropped()), 4000);
}

TEST(Channel, CallbackRunsOnOneDedicatedThreadInOrder) {
  Channel<int> ch;
  std::mutex mu;
  std::vector<int> seen;
  std::vector<std::thread::id> threads;
  Subscription sub = ch.OnReceive([&](int v) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(v);
    threads.push_back(std::this_thread::get_id());
  });
  EXPECT_TRUE(sub.active());
  for (int i = 0; i < 20; ++i) ch.Send(i);
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::lock_guard<std::mutex> lock(mu);
    if (seen.size() == 20) break;
  }
  sub.Cancel();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(seen.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(seen[i], i);
  for (auto id : threads) {
    EXPECT_EQ(id, threads[0]);
    EXPECT_NE(id, std::this_thread::get_id());
  }
}

TEST(Channel, CloseWaitsForACallbackInFlight) {
  Channel<int> ch;
  std::atomic<bool> entered{false};
  std::atomic<bool> finished{false};
  Subscription sub = ch.OnReceive([&](int) {
    entered = true;
    std::this_thread::sleep_for(milliseconds(100));
    finished = true;
  });
  ch.Send(1);
  while (!entered) std::this_thread::yield();
  ch.Close();
  EXPECT_TRUE(finished);  // Close() returned only after the callback did.
  ch.Send(2);             // Closed: nothing more is delivered.
}

TEST(Channel, CancelWaitsForACallbackInFlight) {
  Channel<int> ch;
  std::atomic<bool> entered{false};
  std::atomic<bool> finished{false};
  std::atomic<int> calls{0};
  Subscription sub = ch.OnReceive([&](int) {
    ++calls;
    entered = true;
    std::this_thread::sleep_for(milliseconds(100));
    finished = true;
  });
  ch.Send(1);
  while (!entered) std::this_thread::yield();
  sub.Cancel();
  EXPECT_TRUE(finished);
  EXPECT_FALSE(sub.active());
  ch.Send(2);
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(ch.TryReceive(), 2);  // Still receivable by pulling.
}

TEST(Channel, CloseFromInsideTheCallbackDoesNotDeadlock) {
  Channel<int> ch;
  std::atomic<int> calls{0};
  Subscription sub = ch.OnReceive([&](int) {
    ++calls;
    ch.Close();
  });
  ch.Send(1);
  ch.Send(2);
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (!ch.closed() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  sub.Cancel();  // Joins the thread, which has ended.
  EXPECT_TRUE(ch.closed());
  EXPECT_EQ(calls.load(), 1);
}

TEST(Channel, CancelFromInsideTheCallbackDoesNotDeadlock) {
  Channel<int> ch;
  std::atomic<int> calls{0};
  auto sub = std::make_unique<Subscription>();
  std::mutex mu;
  std::atomic<bool> done{false};
  {
    std::lock_guard<std::mutex> lock(mu);
    *sub = ch.OnReceive([&](int) {
      ++calls;
      std::lock_guard<std::mutex> l(mu);
      sub.reset();  // Destroys the subscription from its own thread.
      done = true;
    });
  }
  ch.Send(1);
  while (!done) std::this_thread::yield();
  ch.Send(2);
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(calls.load(), 1);
}

TEST(Channel, CloseWithCallbackCloseOnCancel) {
  Channel<int> ch;
  {
    Subscription sub = ch.OnReceive([](int) {}, /*close_on_cancel=*/true);
  }
  EXPECT_TRUE(ch.closed());
}

TEST(Channel, DestroyingSubscriptionWhileIdleIsQuick) {
  Channel<int> ch;
  for (int i = 0; i < 20; ++i) {
    Subscription sub = ch.OnReceive([](int) {});
  }
  Subscription moved = ch.OnReceive([](int) {});
  Subscription other = std::move(moved);
  EXPECT_FALSE(moved.active());
  EXPECT_TRUE(other.active());
}

// The SDK's producer path for watch channels (internal::ChannelWriter).
TEST(ChannelWriter, PushAllNeverDropsAndMayExceedCapacity) {
  Channel<int> ch(2, Channel<int>::Overflow::kDropOldest);
  internal::ChannelWriter<int> writer(ch);
  EXPECT_TRUE(writer.PushAll({1, 2, 3}));
  EXPECT_EQ(ch.size(), 3u);
  EXPECT_EQ(ch.dropped(), 0u);
  EXPECT_EQ(ch.Receive(), 1);
  EXPECT_EQ(ch.Receive(), 2);
  EXPECT_EQ(ch.Receive(), 3);
}

TEST(ChannelWriter, RoomCallbackRunsOnceWhenATakeLeavesRoom) {
  Channel<int> ch(2);
  internal::ChannelWriter<int> writer(ch);
  EXPECT_TRUE(writer.RoomOrNotify([] { FAIL() << "there is room"; }));
  ASSERT_TRUE(writer.PushAll({1, 2, 3}));
  int rooms = 0;
  EXPECT_FALSE(writer.RoomOrNotify([&] { ++rooms; }));
  EXPECT_EQ(ch.TryReceive(), 1);  // Two left: still full.
  EXPECT_EQ(rooms, 0);
  EXPECT_EQ(ch.Receive(milliseconds(10)), 2);
  EXPECT_EQ(rooms, 1);
  EXPECT_EQ(ch.Receive(), 3);
  EXPECT_EQ(rooms, 1);
}

TEST(ChannelWriter, RoomCallbackRunsOnTheSubscriptionThread) {
  Channel<int> ch(1);
  internal::ChannelWriter<int> writer(ch);
  ASSERT_TRUE(writer.PushAll({1}));
  std::atomic<bool> room{false};
  EXPECT_FALSE(writer.RoomOrNotify([&] { room = true; }));
  std::atomic<int> got{0};
  Subscription sub = ch.OnReceive([&](int v) { got = v; });
  for (int i = 0; i < 1000 && !(room && got == 1); ++i) std::this_thread::sleep_for(milliseconds(2));
  EXPECT_TRUE(room.load());
  EXPECT_EQ(got.load(), 1);
}

TEST(ChannelWriter, CloseWithStatusAndOnClose) {
  Channel<int> ch(4);
  internal::ChannelWriter<int> writer(ch);
  int closes = 0;
  writer.OnClose([&] { ++closes; });
  EXPECT_TRUE(ch.status().ok());
  ASSERT_TRUE(writer.PushAll({7}));
  writer.Close(absl::InvalidArgumentError("bad bytes"));
  EXPECT_EQ(closes, 1);
  EXPECT_TRUE(ch.closed());
  EXPECT_EQ(ch.status(), absl::InvalidArgumentError("bad bytes"));
  ch.Close();  // A later close keeps the first status.
  EXPECT_EQ(ch.status(), absl::InvalidArgumentError("bad bytes"));
  EXPECT_EQ(closes, 1);
  EXPECT_FALSE(writer.PushAll({8}));
  EXPECT_EQ(ch.Receive(), 7);
  EXPECT_EQ(ch.Receive(), std::nullopt);
  // On a closed channel OnClose runs at once.
  int late = 0;
  writer.OnClose([&] { ++late; });
  EXPECT_EQ(late, 1);
}

TEST(ChannelWriter, AppCloseRunsOnCloseAndKeepsStatusOk) {
  Channel<int> ch(4);
  internal::ChannelWriter<int> writer(ch);
  int closes = 0;
  writer.OnClose([&] { ++closes; });
  ch.Close();
  EXPECT_EQ(closes, 1);
  EXPECT_TRUE(ch.status().ok());
  EXPECT_TRUE(writer.RoomOrNotify([] {}));
}

TEST(ChannelWriter, DroppingTheLastHandleRunsOnClose) {
  internal::ChannelWriter<int> writer;
  int closes = 0;
  {
    Channel<int> ch(4);
    writer = internal::ChannelWriter<int>(ch);
    writer.OnClose([&] { ++closes; });
    Channel<int> copy = ch;
    (void)copy;
  }
  EXPECT_EQ(closes, 1);
  EXPECT_FALSE(writer.PushAll({1}));
  EXPECT_TRUE(writer.RoomOrNotify([] {}));
}

}  // namespace
}  // namespace atomix
