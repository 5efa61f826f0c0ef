// WatchHistory: bounded per-name records of watch events, eviction across
// names, compaction, filtered reads within a budget, whole revisions only.
#include <cstdint>
#include <string>
#include <vector>

#include "broker-sim/src/store/watch_history.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

// A map-style event of `key` at `revision`.
v1::WatchEvent Event(int64_t revision, const std::string& key,
                     const std::string& value = "v") {
  v1::WatchEvent event;
  event.set_type(v1::WatchEvent::INSERTED);
  event.set_revision(revision);
  event.mutable_entry()->set_key(key);
  event.mutable_entry()->set_value(value);
  event.mutable_entry()->set_version(revision);
  return event;
}

std::vector<v1::WatchEvent> Events(int64_t revision,
                                   std::vector<std::string> keys) {
  std::vector<v1::WatchEvent> events;
  for (const std::string& key : keys) events.push_back(Event(revision, key));
  return events;
}

// "revision:key" of each event read.
std::vector<std::string> Read(const WatchHistory& history,
                              const std::string& name, int64_t cursor,
                              WatchRead& read, const WatchFilter& filter = {},
                              WatchBudget budget = {}) {
  v1::WatchResponse out;
  read = history.Read(name, filter, cursor, budget, out);
  std::vector<std::string> got;
  for (const v1::WatchEvent& event : out.events()) {
    got.push_back(std::to_string(event.revision()) + ":" + event.entry().key());
  }
  return got;
}

using Keys = std::vector<std::string>;

TEST(BrokerWatchHistory, ReadsFromACursorInRevisionOrder) {
  WatchHistory history({});
  history.Append("m", 1, Events(1, {"a"}));
  history.Append("other", 2, Events(2, {"x"}));
  history.Append("m", 3, Events(3, {"b", "c"}));
  history.Append("m", 4, {});  // nothing
  WatchRead read;
  EXPECT_EQ(Read(history, "m", 1, read), (Keys{"1:a", "3:b", "3:c"}));
  EXPECT_FALSE(read.compacted);
  EXPECT_EQ(read.next, 4);
  EXPECT_EQ(Read(history, "m", 2, read), (Keys{"3:b", "3:c"}));
  EXPECT_EQ(Read(history, "m", 4, read), Keys{});
  EXPECT_EQ(read.next, 4);
  EXPECT_EQ(Read(history, "m", 100, read), Keys{});  // the future
  EXPECT_EQ(read.next, 100);
  EXPECT_EQ(Read(history, "unknown", 1, read), Keys{});
  EXPECT_FALSE(read.compacted);
  EXPECT_EQ(read.next, 1);
  EXPECT_EQ(history.events(), 4u);
  EXPECT_EQ(history.records(), 3u);
}

TEST(BrokerWatchHistory, EvictsTheOldestRecordsAcrossNames) {
  WatchHistory history({.max_events = 4});
  history.Append("a", 1, Events(1, {"k"}));
  history.Append("b", 2, Events(2, {"k"}));
  history.Append("a", 3, Events(3, {"k"}));
  history.Append("b", 4, Events(4, {"k"}));
  EXPECT_EQ(history.events(), 4u);
  EXPECT_EQ(history.compacted("a"), 0);
  history.Append("b", 5, Events(5, {"k", "l"}));  // 6 events: evict 1 and 2
  EXPECT_EQ(history.events(), 4u);
  EXPECT_EQ(history.records(), 3u);
  EXPECT_EQ(history.compacted("a"), 1);
  EXPECT_EQ(history.compacted("b"), 2);

  WatchRead read;
  EXPECT_EQ(Read(history, "a", 1, read), Keys{});
  EXPECT_TRUE(read.compacted);
  EXPECT_EQ(Read(history, "a", 2, read), Keys{"3:k"});  // 2 was b's
  EXPECT_FALSE(read.compacted);
  EXPECT_EQ(Read(history, "b", 2, read), Keys{});
  EXPECT_TRUE(read.compacted);
  EXPECT_EQ(Read(history, "b", 3, read), (Keys{"4:k", "5:k", "5:l"}));
  EXPECT_FALSE(read.compacted);
}

TEST(BrokerWatchHistory, ByteBoundKeepsTheNewestRecord) {
  WatchHistory history({.max_events = 1000, .max_bytes = 2500});
  history.Append("m", 1, {Event(1, "a", std::string(1000, 'x'))});
  history.Append("m", 2, {Event(2, "b", std::string(1000, 'x'))});
  EXPECT_EQ(history.records(), 2u);
  history.Append("m", 3, {Event(3, "c", std::string(1000, 'x'))});
  EXPECT_EQ(history.records(), 2u);
  EXPECT_EQ(history.compacted("m"), 1);
  EXPECT_LE(history.bytes(), 2500u);
  // A record above the bound alone is still kept, as the newest.
  history.Append("m", 4, {Event(4, "d", std::string(5000, 'x'))});
  EXPECT_EQ(history.records(), 1u);
  EXPECT_EQ(history.compacted("m"), 3);
  WatchRead read;
  EXPECT_EQ(Read(history, "m", 4, read), Keys{"4:d"});
}

TEST(BrokerWatchHistory, FiltersByKeyAndPrefix) {
  WatchHistory history({});
  history.Append("m", 1, Events(1, {"a/1", "b"}));
  history.Append("m", 2, Events(2, {"b"}));
  history.Append("m", 3, Events(3, {"a/2"}));
  WatchRead read;
  EXPECT_EQ(Read(history, "m", 1, read, {.prefix = "a/"}),
            (Keys{"1:a/1", "3:a/2"}));
  EXPECT_EQ(read.next, 4);
  EXPECT_EQ(Read(history, "m", 1, read, {.key = "b"}), (Keys{"1:b", "2:b"}));
  EXPECT_EQ(read.next, 4);
  // Revisions with no match still move the cursor.
  EXPECT_EQ(Read(history, "m", 3, read, {.key = "b"}), Keys{});
  EXPECT_EQ(read.next, 4);
}

TEST(BrokerWatchHistory, BudgetStopsBetweenWholeRevisions) {
  WatchHistory history({});
  history.Append("m", 1, Events(1, {"a"}));
  history.Append("m", 2, Events(2, {"b", "c", "d"}));
  history.Append("m", 3, Events(3, {"e"}));
  WatchRead read;
  const WatchBudget two{.max_bytes = 1 << 20, .max_events = 2};
  EXPECT_EQ(Read(history, "m", 1, read, {}, two), Keys{"1:a"});
  EXPECT_EQ(read.next, 2);
  // A revision above the budget still comes whole, alone.
  EXPECT_EQ(Read(history, "m", 2, read, {}, two), (Keys{"2:b", "2:c", "2:d"}));
  EXPECT_EQ(read.next, 3);
  EXPECT_EQ(Read(history, "m", 3, read, {}, two), Keys{"3:e"});
  EXPECT_EQ(read.next, 4);

  const WatchBudget small_bytes{.max_bytes = 10, .max_events = 1000};
  EXPECT_EQ(Read(history, "m", 1, read, {}, small_bytes), Keys{"1:a"});
  EXPECT_EQ(read.next, 2);
}

TEST(BrokerWatchHistory, RevisionAboveTheHardLimitReadsAsCompacted) {
  WatchHistory history({});
  history.Append("m", 1, Events(1, {"a"}));
  history.Append("m", 2, {Event(2, "big", std::string(5000, 'x'))});
  WatchRead read;
  const WatchBudget budget{
      .max_bytes = 100, .max_events = 10, .hard_max_bytes = 1000};
  EXPECT_EQ(Read(history, "m", 1, read, {}, budget), Keys{"1:a"});
  EXPECT_FALSE(read.compacted);
  EXPECT_EQ(read.next, 2);
  EXPECT_EQ(Read(history, "m", 2, read, {}, budget), Keys{});
  EXPECT_TRUE(read.compacted);
}

}  // namespace
}  // namespace atomix::broker
