// SplitResponseBatch: large response batches become several bounded
// messages, in order, with BrokerInfo kept in the first.
#include <string>
#include <vector>

#include "broker-sim/src/core/split.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

v1::ResponseBatch MakeBatch(int responses, size_t value_bytes) {
  v1::ResponseBatch batch;
  for (int i = 0; i < responses; ++i) {
    v1::Response* r = batch.add_responses();
    r->set_id(i);
    r->mutable_value()->set_value(std::string(value_bytes, 'v'));
  }
  return batch;
}

TEST(BrokerSplit, SmallBatchesStayWhole) {
  std::vector<v1::ResponseBatch> parts = SplitResponseBatch(MakeBatch(3, 10), 1000);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].responses_size(), 3);
}

TEST(BrokerSplit, LargeBatchesSplitInOrderWithinTheBound) {
  v1::ResponseBatch batch = MakeBatch(100, 1000);
  batch.mutable_info()->set_broker_id("b");
  std::vector<v1::ResponseBatch> parts = SplitResponseBatch(batch, 10000);
  ASSERT_GT(parts.size(), 1u);
  EXPECT_TRUE(parts[0].has_info());
  uint64_t next = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_LE(parts[i].ByteSizeLong(), 10000u);
    if (i > 0) {
      EXPECT_FALSE(parts[i].has_info());
    }
    for (const v1::Response& r : parts[i].responses()) EXPECT_EQ(r.id(), next++);
  }
  EXPECT_EQ(next, 100u);
}

TEST(BrokerSplit, AnOversizedResponseGetsItsOwnMessage) {
  std::vector<v1::ResponseBatch> parts = SplitResponseBatch(MakeBatch(3, 5000), 1000);
  ASSERT_EQ(parts.size(), 3u);
  for (const auto& part : parts) EXPECT_EQ(part.responses_size(), 1);
}

v1::WatchSnapshot Snapshot(int entries, size_t value_bytes) {
  v1::WatchSnapshot snapshot;
  snapshot.set_reason(v1::WatchSnapshot::COMPACTED);
  snapshot.set_revision(42);
  snapshot.set_value(7);
  snapshot.mutable_lock()->set_fence(3);
  for (int i = 0; i < entries; ++i) {
    v1::MapEntry* entry = snapshot.add_entries();
    entry->set_key("k" + std::to_string(i));
    entry->set_value(std::string(value_bytes, 'v'));
    entry->set_version(i + 1);
  }
  return snapshot;
}

TEST(BrokerSplit, SmallSnapshotIsOnePart) {
  std::vector<v1::WatchResponse> parts = SplitSnapshot(Snapshot(3, 10), 1000);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_FALSE(parts[0].snapshot().more());
  EXPECT_EQ(parts[0].snapshot().entries_size(), 3);
  EXPECT_EQ(parts[0].snapshot().value(), 7);
  EXPECT_EQ(parts[0].snapshot().lock().fence(), 3);
  EXPECT_EQ(SplitSnapshot(v1::WatchSnapshot(), 1000).size(), 1u);
}

TEST(BrokerSplit, LargeSnapshotSplitsEntriesInOrder) {
  std::vector<v1::WatchResponse> parts = SplitSnapshot(Snapshot(100, 100), 1000);
  ASSERT_GT(parts.size(), 1u);
  int next = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const v1::WatchSnapshot& part = parts[i].snapshot();
    EXPECT_LE(parts[i].ByteSizeLong(), 1000u);
    EXPECT_EQ(part.reason(), v1::WatchSnapshot::COMPACTED);
    EXPECT_EQ(part.revision(), 42);
    EXPECT_EQ(part.more(), i + 1 < parts.size());
    EXPECT_EQ(part.value(), i == 0 ? 7 : 0);
    EXPECT_EQ(part.has_lock(), i == 0);
    for (const v1::MapEntry& entry : part.entries()) {
      EXPECT_EQ(entry.key(), "k" + std::to_string(next++));
    }
  }
  EXPECT_EQ(next, 100);
}

TEST(BrokerSplit, AnOversizedEntryGetsItsOwnPart) {
  std::vector<v1::WatchResponse> parts = SplitSnapshot(Snapshot(3, 5000), 1000);
  ASSERT_EQ(parts.size(), 3u);
  for (const auto& part : parts) EXPECT_EQ(part.snapshot().entries_size(), 1);
}

}  // namespace
}  // namespace atomix::broker
