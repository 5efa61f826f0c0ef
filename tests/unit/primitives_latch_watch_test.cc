// CountDownLatch::Watch() against a scripted gRPC broker: each broker event
// and a resync snapshot become LatchEvents with the detail's count and
// generation.
#include <chrono>
#include <memory>
#include <optional>

#include "atomix/atomix.h"
#include "gtest/gtest.h"
#include "tests/unit/sdk_fake_broker.h"

namespace atomix {
namespace {

using testing::FakeBroker;
using testing::Snapshot;
using testing::WatchEvents;

TEST(LatchWatch, EventsAndResyncCarryTheCountAndGeneration) {
  auto broker = std::make_unique<FakeBroker>("broker-a");
  ASSERT_TRUE(broker->started());
  broker->set_watch_revision(10);
  ClientOptions options;
  options.endpoints = {broker->endpoint()};
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  auto latch = GetCountDownLatch(*client, "go");
  ASSERT_TRUE(latch.ok()) << latch.status();
  auto ch = latch->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  ASSERT_TRUE(broker->WaitForWatches(1));
  EXPECT_EQ(broker->watch_requests().at(0).type(), v1::LATCH);

  auto event = [](v1::WatchEvent::Type type, int64_t revision, int64_t count, int64_t generation) {
    v1::WatchEvent e;
    e.set_type(type);
    e.set_revision(revision);
    e.mutable_latch()->set_count(count);
    e.mutable_latch()->set_generation(generation);
    return e;
  };
  broker->PushWatch(WatchEvents({event(v1::WatchEvent::INSERTED, 11, 2, 1)}));
  broker->PushWatch(WatchEvents(
      {event(v1::WatchEvent::UPDATED, 12, 1, 1), event(v1::WatchEvent::UPDATED, 13, 0, 1)}));
  v1::WatchResponse snap = Snapshot(v1::WatchSnapshot::COMPACTED, 20);
  snap.mutable_snapshot()->mutable_latch()->set_count(5);
  snap.mutable_snapshot()->mutable_latch()->set_generation(2);
  broker->PushWatch(snap);

  constexpr auto kWait = std::chrono::seconds(10);
  EXPECT_EQ(ch->Receive(kWait), (LatchEvent{EventType::kInserted, 11, 2, 1}));
  EXPECT_EQ(ch->Receive(kWait), (LatchEvent{EventType::kUpdated, 12, 1, 1}));
  EXPECT_EQ(ch->Receive(kWait), (LatchEvent{EventType::kUpdated, 13, 0, 1}));
  EXPECT_EQ(ch->Receive(kWait),
            (LatchEvent{EventType::kResync, 20, 5, 2, ResyncReason::kCompacted}));
}

}  // namespace
}  // namespace atomix
