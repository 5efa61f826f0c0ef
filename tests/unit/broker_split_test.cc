// SplitResponseBatch: large response batches become several bounded
// messages, in order, with BrokerInfo kept in the first.
#include <string>

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

}  // namespace
}  // namespace atomix::broker
