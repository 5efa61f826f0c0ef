// The SDK side of watches against a scripted gRPC broker: where a watch
// starts and resumes, snapshots and resyncs, flow control, errors, and
// closing or destroying while events arrive.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "atomix/atomix.h"
#include "gtest/gtest.h"
#include "tests/unit/sdk_fake_broker.h"

namespace atomix {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::CounterChange;
using testing::EntryEvent;
using testing::FakeBroker;
using testing::Snapshot;
using testing::WaitUntil;
using testing::WatchEvents;
using testing::WireEntry;

constexpr auto kWait = seconds(10);

class WatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<FakeBroker>("broker-a");
    ASSERT_TRUE(broker_->started());
    ClientOptions options;
    options.endpoints = {broker_->endpoint()};
    options.default_call_timeout = seconds(5);
    auto client = Client::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *client;
    auto counter = GetCounter(*client_, "c");
    ASSERT_TRUE(counter.ok()) << counter.status();
    counter_ = *counter;
  }

  // Stops the broker and starts another one on the same port.
  void RestartBroker(const std::string& id) {
    const int port = broker_->port();
    broker_.reset();
    broker_ = std::make_unique<FakeBroker>(id, port);
    ASSERT_TRUE(broker_->started());
  }

  v1::WatchRequest Request(size_t i) {
    EXPECT_TRUE(broker_->WaitForWatches(i + 1));
    return broker_->watch_requests().at(i);
  }

  std::unique_ptr<FakeBroker> broker_;
  std::optional<Client> client_;
  std::optional<Counter> counter_;
};

CounterEvent Updated(Version revision, int64_t value, int64_t previous) {
  return CounterEvent{EventType::kUpdated, revision, value, previous, ResyncReason::kNone};
}

TEST_F(WatchTest, SendsTheRequestAndDeliversEventsInOrder) {
  broker_->set_watch_revision(10);
  auto ch = counter_->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  v1::WatchRequest first = Request(0);
  EXPECT_EQ(first.type(), v1::COUNTER);
  EXPECT_EQ(first.name(), "c");
  EXPECT_FALSE(first.has_key());
  EXPECT_EQ(first.prefix(), "");
  EXPECT_EQ(first.start_revision(), 0);
  EXPECT_FALSE(first.replay());
  EXPECT_EQ(first.broker_id(), "");

  broker_->PushWatch(WatchEvents({CounterChange(11, 1, 0), CounterChange(12, 3, 1)}));
  broker_->PushWatch(WatchEvents({CounterChange(14, 4, 3)}));
  EXPECT_EQ(ch->Receive(kWait), Updated(11, 1, 0));
  EXPECT_EQ(ch->Receive(kWait), Updated(12, 3, 1));
  EXPECT_EQ(ch->Receive(kWait), Updated(14, 4, 3));
  EXPECT_FALSE(ch->closed());
  EXPECT_EQ(ch->capacity(), 1024u);
}

TEST_F(WatchTest, ResumesAfterAResetFromTheRevisionAfterTheLastDelivered) {
  broker_->set_watch_revision(10);
  auto ch = counter_->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  broker_->PushWatch(WatchEvents({CounterChange(12, 1, 0)}));
  ASSERT_EQ(ch->Receive(kWait), Updated(12, 1, 0));
  broker_->EndWatch(grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream reset"));

  v1::WatchRequest second = Request(1);
  EXPECT_EQ(second.start_revision(), 13);
  EXPECT_EQ(second.broker_id(), "broker-a");
  EXPECT_FALSE(second.replay());
  // A revision delivered before is never delivered again.
  broker_->PushWatch(WatchEvents({CounterChange(12, 1, 0), CounterChange(13, 2, 1)}));
  EXPECT_EQ(ch->Receive(kWait), Updated(13, 2, 1));
  broker_->PushWatch(WatchEvents({CounterChange(15, 5, 2)}));
  EXPECT_EQ(ch->Receive(kWait), Updated(15, 5, 2));
  EXPECT_EQ(ch->size(), 0u);
}

TEST_F(WatchTest, ResumesFromTheHeaderWhenNothingWasDelivered) {
  broker_->set_watch_revision(10);
  auto ch = counter_->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  broker_->EndWatch(grpc::Status(grpc::StatusCode::INTERNAL, "RST_STREAM"));
  v1::WatchRequest second = Request(1);
  EXPECT_EQ(second.start_revision(), 11);
  EXPECT_EQ(second.broker_id(), "broker-a");
}

TEST_F(WatchTest, StartVersionIsKeptUntilSomethingIsDelivered) {
  auto ch = counter_->Watch(WithStartVersion(5));
  ASSERT_TRUE(ch.ok()) << ch.status();
  v1::WatchRequest first = Request(0);
  EXPECT_EQ(first.start_revision(), 5);
  EXPECT_EQ(first.broker_id(), "");
  broker_->EndWatch(grpc::Status::OK);  // The broker ended the stream.
  v1::WatchRequest second = Request(1);
  EXPECT_EQ(second.start_revision(), 5);
  EXPECT_EQ(second.broker_id(), "broker-a");
}

TEST_F(WatchTest, BrokerRestartDeliversOneNewBrokerResyncThenLiveEvents) {
  broker_->set_watch_revision(2);
  auto ch = counter_->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  broker_->PushWatch(WatchEvents({CounterChange(3, 7, 0)}));
  ASSERT_EQ(ch->Receive(kWait), Updated(3, 7, 0));

  RestartBroker("broker-b");
  v1::WatchRequest resumed = Request(0);
  EXPECT_EQ(resumed.start_revision(), 4);
  EXPECT_EQ(resumed.broker_id(), "broker-a");
  v1::WatchResponse snapshot = Snapshot(v1::WatchSnapshot::NEW_BROKER, 1);
  snapshot.mutable_snapshot()->mutable_counter()->set_value(0);
  broker_->PushWatch(snapshot);
  broker_->PushWatch(WatchEvents({CounterChange(2, 1, 0)}));
  EXPECT_EQ(ch->Receive(kWait),
            (CounterEvent{EventType::kResync, 1, 0, 0, ResyncReason::kNewBroker}));
  EXPECT_EQ(ch->Receive(kWait), Updated(2, 1, 0));

  // Resuming now names the new broker.
  broker_->EndWatch(grpc::Status(grpc::StatusCode::UNAVAILABLE, "reset"));
  v1::WatchRequest again = Request(1);
  EXPECT_EQ(again.start_revision(), 3);
  EXPECT_EQ(again.broker_id(), "broker-b");
}

TEST_F(WatchTest, KeepsRetryingWhileTheBrokerIsDown) {
  broker_->set_watch_revision(4);
  auto ch = counter_->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  const int port = broker_->port();
  broker_.reset();
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_FALSE(ch->closed());
  broker_ = std::make_unique<FakeBroker>("broker-a", port);
  ASSERT_TRUE(broker_->started());
  v1::WatchRequest resumed = Request(0);
  EXPECT_EQ(resumed.start_revision(), 5);
  EXPECT_EQ(resumed.broker_id(), "broker-a");
  broker_->PushWatch(WatchEvents({CounterChange(5, 1, 0)}));
  EXPECT_EQ(ch->Receive(kWait), Updated(5, 1, 0));
}

TEST_F(WatchTest, CompactedSnapshotInPartsIsOneResync) {
  auto map = GetMap<std::string, std::string>(*client_, "m");
  ASSERT_TRUE(map.ok()) << map.status();
  broker_->set_watch_revision(10);
  auto ch = map->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  broker_->PushWatch(Snapshot(v1::WatchSnapshot::COMPACTED, 40,
                              {WireEntry("a", "1", 12), WireEntry("b", "2", 30)}, true));
  broker_->PushWatch(Snapshot(v1::WatchSnapshot::COMPACTED, 40, {WireEntry("c", "3", 40)}));
  broker_->PushWatch(WatchEvents(
      {EntryEvent(v1::WatchEvent::REMOVED, 41, std::nullopt, WireEntry("a", "1", 12))}));
  auto resync = ch->Receive(kWait);
  ASSERT_TRUE(resync);
  EXPECT_EQ(resync->type, EventType::kResync);
  EXPECT_EQ(resync->reason, ResyncReason::kCompacted);
  EXPECT_EQ(resync->revision, 40);
  EXPECT_EQ(resync->snapshot, (std::vector<Entry<std::string, std::string>>{
                                  {"a", "1", 12}, {"b", "2", 30}, {"c", "3", 40}}));
  auto removed = ch->Receive(kWait);
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->type, EventType::kRemoved);
  EXPECT_EQ(removed->revision, 41);
  EXPECT_EQ(removed->previous, (Entry<std::string, std::string>{"a", "1", 12}));
  EXPECT_FALSE(removed->entry);

  broker_->EndWatch(grpc::Status(grpc::StatusCode::UNAVAILABLE, "reset"));
  EXPECT_EQ(Request(1).start_revision(), 42);
}

TEST_F(WatchTest, ReplayIsAskedForAgainUntilItsSnapshotIsDelivered) {
  auto map = GetMap<std::string, std::string>(*client_, "m");
  ASSERT_TRUE(map.ok()) << map.status();
  auto ch = map->Watch(WithReplay());
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_TRUE(Request(0).replay());
  broker_->PushWatch(Snapshot(v1::WatchSnapshot::REPLAY, 20, {WireEntry("a", "1", 5)}, true));
  broker_->EndWatch(grpc::Status(grpc::StatusCode::UNAVAILABLE, "reset"));
  v1::WatchRequest second = Request(1);
  EXPECT_TRUE(second.replay());
  broker_->PushWatch(
      Snapshot(v1::WatchSnapshot::REPLAY, 21, {WireEntry("a", "1", 5), WireEntry("b", "2", 21)}));
  broker_->PushWatch(WatchEvents(
      {EntryEvent(v1::WatchEvent::UPDATED, 22, WireEntry("a", "3", 22), WireEntry("a", "1", 5))}));
  for (auto [key, value, version] : {std::tuple("a", "1", 5), std::tuple("b", "2", 21)}) {
    auto e = ch->Receive(kWait);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->type, EventType::kInserted);
    EXPECT_EQ(e->revision, 21);
    EXPECT_EQ(e->entry, (Entry<std::string, std::string>{key, value, version}));
    EXPECT_EQ(e->reason, ResyncReason::kNone);
  }
  auto updated = ch->Receive(kWait);
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->type, EventType::kUpdated);
  EXPECT_EQ(updated->revision, 22);
  EXPECT_EQ(updated->entry, (Entry<std::string, std::string>{"a", "3", 22}));
  EXPECT_EQ(updated->previous, (Entry<std::string, std::string>{"a", "1", 5}));

  broker_->EndWatch(grpc::Status(grpc::StatusCode::UNAVAILABLE, "reset"));
  v1::WatchRequest third = Request(2);
  EXPECT_FALSE(third.replay());
  EXPECT_EQ(third.start_revision(), 23);
}

TEST_F(WatchTest, StopsReadingWhileTheChannelIsFullAndDropsNothing) {
  auto ch = counter_->Watch(WatchOptions().Capacity(2));
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(ch->capacity(), 2u);
  broker_->PushWatch(WatchEvents({CounterChange(2, 2, 0)}));
  broker_->PushWatch(
      WatchEvents({CounterChange(3, 3, 2), CounterChange(4, 4, 3), CounterChange(5, 5, 4)}));
  for (int64_t r = 6; r < 40; ++r) broker_->PushWatch(WatchEvents({CounterChange(r, r, r - 1)}));
  ASSERT_TRUE(broker_->WaitWatchActionsTaken());
  // The first message left room, the second (three events) filled the
  // channel past capacity: nothing more is read while it stays full.
  ASSERT_TRUE(WaitUntil([&] { return ch->size() == 4; }, kWait));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(ch->size(), 4u);
  EXPECT_EQ(ch->Receive(kWait), Updated(2, 2, 0));
  EXPECT_EQ(ch->Receive(kWait), Updated(3, 3, 2));
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(ch->size(), 2u);  // Still no room below capacity: still paused.
  for (int64_t r = 4; r < 40; ++r) {
    ASSERT_EQ(ch->Receive(kWait), Updated(r, r, r - 1)) << r;
    EXPECT_LE(ch->size(), 2u);
  }
  EXPECT_EQ(ch->dropped(), 0u);
}

TEST_F(WatchTest, RefusedWatchIsAnErrorOfWatch) {
  broker_->RefuseWatches(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "name is not UTF-8"));
  auto ch = counter_->Watch();
  ASSERT_FALSE(ch.ok());
  EXPECT_EQ(ch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ch.status().message(), "name is not UTF-8");

  broker_->RefuseWatches(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "c is a map"));
  ch = counter_->Watch();
  ASSERT_FALSE(ch.ok());
  EXPECT_EQ(ch.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(broker_->watch_requests().size(), 2u);  // Neither was retried.
}

TEST_F(WatchTest, WatchTimesOutWhileTheBrokerIsDown) {
  broker_->Stop();
  const auto start = std::chrono::steady_clock::now();
  auto ch = counter_->Watch(WithTimeout(milliseconds(500)));
  ASSERT_FALSE(ch.ok());
  EXPECT_EQ(ch.status().code(), absl::StatusCode::kUnavailable) << ch.status();
  EXPECT_NE(ch.status().message().find("127.0.0.1"), std::string::npos) << ch.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(3));
}

TEST_F(WatchTest, ErrorAfterTheStartClosesTheChannelWithItsStatus) {
  auto ch = counter_->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  broker_->PushWatch(WatchEvents({CounterChange(2, 1, 0)}));
  broker_->EndWatch(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "c is now a map"));
  ASSERT_TRUE(WaitUntil([&] { return ch->closed(); }, kWait));
  EXPECT_EQ(ch->status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ch->status().message(), "c is now a map");
  EXPECT_EQ(ch->Receive(), Updated(2, 1, 0));  // Queued events stay receivable.
  EXPECT_EQ(ch->Receive(), std::nullopt);
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(broker_->watch_requests().size(), 1u);
}

TEST_F(WatchTest, UndecodableEventClosesTheChannel) {
  auto map = GetMap<std::string, int64_t>(*client_, "m");
  ASSERT_TRUE(map.ok()) << map.status();
  auto ch = map->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  broker_->PushWatch(
      WatchEvents({EntryEvent(v1::WatchEvent::INSERTED, 2, WireEntry("k", "abc", 2))}));
  ASSERT_TRUE(WaitUntil([&] { return ch->closed(); }, kWait));
  EXPECT_EQ(ch->status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ch->status().message().find("cannot decode int64"), std::string::npos) << ch->status();
  EXPECT_NE(ch->status().message().find("map \"m\", key \"k\""), std::string::npos) << ch->status();
  EXPECT_EQ(ch->size(), 0u);
  EXPECT_TRUE(WaitUntil([&] { return broker_->watch_calls_active() == 0; }, kWait));
}

TEST_F(WatchTest, ProtocolViolationClosesTheChannel) {
  auto ch = counter_->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  v1::WatchResponse header;
  header.mutable_header()->set_broker_id("broker-a");
  broker_->PushWatch(header);
  ASSERT_TRUE(WaitUntil([&] { return ch->closed(); }, kWait));
  EXPECT_EQ(ch->status().code(), absl::StatusCode::kInternal) << ch->status();
}

TEST_F(WatchTest, CloseEndsTheWatchOnTheBroker) {
  auto ch = counter_->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  ASSERT_EQ(broker_->watch_calls_active(), 1);
  ch->Close();
  EXPECT_TRUE(ch->status().ok());
  EXPECT_TRUE(WaitUntil([&] { return broker_->watch_calls_active() == 0; }, kWait));
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(broker_->watch_requests().size(), 1u);  // Not resumed.
}

TEST_F(WatchTest, DroppingEveryHandleEndsTheWatch) {
  {
    auto ch = counter_->Watch();
    ASSERT_TRUE(ch.ok()) << ch.status();
    ASSERT_EQ(broker_->watch_calls_active(), 1);
  }
  EXPECT_TRUE(WaitUntil([&] { return broker_->watch_calls_active() == 0; }, kWait));
}

TEST_F(WatchTest, ClosingFromInsideACallbackWhileEventsArrive) {
  auto ch = counter_->Watch(WatchOptions().Capacity(4));
  ASSERT_TRUE(ch.ok()) << ch.status();
  std::atomic<int> seen{0};
  std::atomic<Version> last{0};
  std::atomic<bool> in_order{true};
  Channel<CounterEvent> channel = *ch;
  Subscription sub = channel.OnReceive([&, channel](CounterEvent e) mutable {
    if (e.revision != last.load() + 1 && last.load() != 0) in_order = false;
    last = e.revision;
    if (++seen == 50) channel.Close();
  });
  broker_->FloodWatch(1);
  ASSERT_TRUE(WaitUntil([&] { return channel.closed(); }, kWait));
  EXPECT_TRUE(WaitUntil([&] { return broker_->watch_calls_active() == 0; }, kWait));
  sub.Cancel();
  EXPECT_EQ(seen.load(), 50);
  EXPECT_TRUE(in_order.load());
  EXPECT_TRUE(channel.status().ok());
}

TEST_F(WatchTest, DestroyingTheClientWhileEventsArriveClosesEveryChannel) {
  std::vector<Channel<CounterEvent>> channels;
  for (int i = 0; i < 20; ++i) {
    auto ch = counter_->Watch(WatchOptions().Capacity(8));
    ASSERT_TRUE(ch.ok()) << ch.status();
    channels.push_back(*ch);
    broker_->FloodWatch(1);
  }
  std::atomic<int> received{0};
  std::vector<Subscription> subs;
  for (int i = 0; i < 10; ++i) {
    subs.push_back(channels[i].OnReceive([&](CounterEvent) { ++received; }));
  }
  ASSERT_TRUE(WaitUntil([&] { return received.load() > 1000; }, kWait));
  counter_.reset();
  client_.reset();  // The last handles: the client shuts down now.
  for (auto& ch : channels) {
    EXPECT_TRUE(ch.closed());
    EXPECT_EQ(ch.status().code(), absl::StatusCode::kCancelled) << ch.status();
    EXPECT_EQ(ch.status().message(), "client closed");
  }
  for (auto& ch : channels) {
    while (ch.TryReceive()) {
    }
  }
  EXPECT_TRUE(WaitUntil([&] { return broker_->watch_calls_active() == 0; }, kWait));
}

TEST_F(WatchTest, DestroyingTheClientWhileAWatchRetries) {
  auto ch = counter_->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  broker_->Stop();
  std::this_thread::sleep_for(milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  counter_.reset();
  client_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
  EXPECT_TRUE(ch->closed());
  EXPECT_EQ(ch->status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace atomix
