// WatchHistory: bounded per-name records of watch events, eviction across
// names, compaction, filtered reads within a budget, whole revisions only;
// reads collected in chunks and copied later (WatchReader) give exactly the
// result of one scan, and collected records outlive their eviction.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
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

// The result of one uninterrupted scan of `records` (all of one name, in
// revision order, the history compacted up to `compacted`): the reference
// that chunked reads must match exactly.
struct Reference {
  WatchRead read;
  std::vector<std::string> got;
};
Reference ScanOnce(
    const std::vector<std::pair<int64_t, std::vector<v1::WatchEvent>>>& records,
    int64_t compacted, const WatchFilter& filter, int64_t cursor,
    const WatchBudget& budget) {
  Reference ref;
  ref.read.next = cursor;
  if (cursor <= compacted) {
    ref.read.compacted = true;
    return ref;
  }
  size_t bytes = 0;
  size_t count = 0;
  size_t scanned = 0;
  for (const auto& [revision, events] : records) {
    if (revision < cursor) continue;
    if (scanned++ == WatchReader::kMaxScan) break;
    size_t record_bytes = 0;
    size_t matching = 0;
    std::vector<std::string> lines;
    for (const v1::WatchEvent& event : events) {
      if (!filter.Matches(event)) continue;
      record_bytes += event.ByteSizeLong();
      ++matching;
      lines.push_back(std::to_string(event.revision()) + ":" +
                      event.entry().key());
    }
    if (matching > 0) {
      if (count > 0 && (bytes + record_bytes > budget.max_bytes ||
                        count + matching > budget.max_events)) {
        break;
      }
      if (budget.hard_max_bytes > 0 && record_bytes > budget.hard_max_bytes) {
        if (count > 0) break;
        ref.read.compacted = true;
        ref.got.clear();
        return ref;
      }
      ref.got.insert(ref.got.end(), lines.begin(), lines.end());
      bytes += record_bytes;
      count += matching;
    }
    ref.read.next = revision + 1;
  }
  return ref;
}

TEST(BrokerWatchHistory, ChunkedReadsMatchOneScan) {
  // Sparse matches and small budgets make filtered reads take several
  // chunks; every cursor, filter and budget must read exactly as one scan.
  std::mt19937 random(7);
  WatchHistory history({.max_events = 400});
  std::vector<std::pair<int64_t, std::vector<v1::WatchEvent>>> records;
  for (int64_t revision = 1; revision <= 600; ++revision) {
    std::vector<std::string> keys;
    const int n = 1 + static_cast<int>(random() % 4);
    for (int i = 0; i < n; ++i) {
      // "a/..." rare, "b" common, "c" in bursts.
      const uint32_t pick = random() % 20;
      keys.push_back(pick == 0 ? "a/" + std::to_string(revision)
                     : (revision / 50) % 3 == 0 && pick < 10 ? "c"
                                                             : "b");
    }
    const size_t value_size = random() % 3 == 0 ? 300 : 10;
    std::vector<v1::WatchEvent> events;
    for (const std::string& key : keys) {
      events.push_back(Event(revision, key, std::string(value_size, 'x')));
    }
    records.emplace_back(revision, events);
    history.Append("m", revision, std::move(events));
  }
  // Keep only what the history kept.
  const int64_t compacted = history.compacted("m");
  ASSERT_GT(compacted, 0);
  records.erase(
      std::remove_if(records.begin(), records.end(),
                     [&](const auto& r) { return r.first <= compacted; }),
      records.end());
  const std::vector<WatchFilter> filters = {
      {}, {.prefix = "a/"}, {.key = "c"}, {.key = "b"}, {.key = "none"}};
  const std::vector<WatchBudget> budgets = {
      {},
      {.max_bytes = 1 << 20, .max_events = 1},
      {.max_bytes = 1 << 20, .max_events = 5},
      {.max_bytes = 700, .max_events = 1000},
      {.max_bytes = 100, .max_events = 3, .hard_max_bytes = 500},
      {.max_bytes = 2000, .max_events = 40, .hard_max_bytes = 400}};
  int checked = 0;
  for (const WatchFilter& filter : filters) {
    for (const WatchBudget& budget : budgets) {
      for (int64_t cursor = compacted - 2; cursor <= 603; cursor += 3) {
        const Reference ref =
            ScanOnce(records, compacted, filter, cursor, budget);
        WatchRead read;
        ASSERT_EQ(Read(history, "m", cursor, read, filter, budget), ref.got)
            << "cursor " << cursor << " budget " << budget.max_bytes << "/"
            << budget.max_events;
        EXPECT_EQ(read.compacted, ref.read.compacted) << cursor;
        if (!ref.read.compacted) EXPECT_EQ(read.next, ref.read.next) << cursor;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(BrokerWatchHistory, FilteredReadSkipsAtMostTheScanLimit) {
  WatchHistory history({.max_events = 20000});
  const int64_t total = WatchReader::kMaxScan + 5;
  for (int64_t revision = 1; revision <= total; ++revision) {
    history.Append("m", revision, Events(revision, {"b"}));
  }
  history.Append("m", total + 1, Events(total + 1, {"a"}));
  WatchRead read;
  EXPECT_EQ(Read(history, "m", 1, read, {.key = "a"}), Keys{});
  EXPECT_FALSE(read.compacted);
  EXPECT_EQ(read.next, static_cast<int64_t>(WatchReader::kMaxScan) + 1);
  EXPECT_EQ(Read(history, "m", read.next, read, {.key = "a"}),
            Keys{std::to_string(total + 1) + ":a"});
  EXPECT_EQ(read.next, total + 2);
}

TEST(BrokerWatchHistory, CollectStopsAfterTheRecordPastTheBudget) {
  WatchHistory history({});
  for (int64_t revision = 1; revision <= 10; ++revision) {
    history.Append("m", revision, Events(revision, {"a", "b"}));
  }
  std::vector<WatchRecordRef> records;
  WatchHistory::Collected collected = history.Collect(
      "m", 3, {.max_bytes = 1 << 20, .max_events = 5}, 100, records);
  EXPECT_FALSE(collected.compacted);
  EXPECT_TRUE(collected.more);
  ASSERT_EQ(records.size(), 3u);  // 2 + 2 + 2 > 5
  EXPECT_EQ(records[0]->revision, 3);
  EXPECT_EQ(records[2]->revision, 5);
  records.clear();
  collected = history.Collect("m", 9, {}, 100, records);
  EXPECT_FALSE(collected.more);
  ASSERT_EQ(records.size(), 2u);
  records.clear();
  collected = history.Collect("m", 1, {}, 4, records);
  EXPECT_TRUE(collected.more);
  EXPECT_EQ(records.size(), 4u);
  records.clear();
  collected = history.Collect("unknown", 1, {}, 4, records);
  EXPECT_FALSE(collected.compacted);
  EXPECT_FALSE(collected.more);
  EXPECT_TRUE(records.empty());
}

TEST(BrokerWatchHistory, CollectedRecordsOutliveEviction) {
  WatchHistory history({.max_events = 3});
  for (int64_t revision = 1; revision <= 3; ++revision) {
    history.Append("m", revision,
                   {Event(revision, "k" + std::to_string(revision),
                          std::string(100, 'x'))});
  }
  std::vector<WatchRecordRef> records;
  ASSERT_FALSE(history.Collect("m", 1, {}, 100, records).compacted);
  ASSERT_EQ(records.size(), 3u);
  const std::weak_ptr<const WatchRecord> first = records[0];
  // Evict every record the reader holds.
  for (int64_t revision = 4; revision <= 6; ++revision) {
    history.Append("m", revision, Events(revision, {"new"}));
  }
  EXPECT_EQ(history.compacted("m"), 3);
  EXPECT_EQ(history.events(), 3u);
  EXPECT_FALSE(first.expired());

  v1::WatchResponse out;
  WatchReader reader({}, 1, {}, out);
  EXPECT_TRUE(reader.Consume(records));  // wants more if there is any
  const WatchRead read = reader.result();
  EXPECT_FALSE(read.compacted);
  EXPECT_EQ(read.next, 4);
  ASSERT_EQ(out.events_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(out.events(i).revision(), i + 1);
    EXPECT_EQ(out.events(i).entry().key(), "k" + std::to_string(i + 1));
    EXPECT_EQ(out.events(i).entry().value(), std::string(100, 'x'));
  }
  records.clear();
  EXPECT_TRUE(first.expired());  // nobody holds it any more
}

TEST(BrokerWatchHistory, CompactionBetweenChunksEndsTheRead) {
  // A reader whose next chunk was evicted returns what it read; the
  // following read finds the compaction. One that read nothing is compacted.
  v1::WatchResponse out;
  WatchReader reader({}, 1, {}, out);
  WatchRecord record;
  record.revision = 1;
  record.events = Events(1, {"a"});
  record.bytes = record.events[0].ByteSizeLong();
  const std::vector<WatchRecordRef> records = {
      std::make_shared<const WatchRecord>(record)};
  EXPECT_TRUE(reader.Consume(records));
  WatchRead read = reader.Compacted();
  EXPECT_FALSE(read.compacted);
  EXPECT_EQ(read.next, 2);
  EXPECT_EQ(out.events_size(), 1);

  v1::WatchResponse empty;
  WatchReader nothing({.key = "z"}, 1, {}, empty);
  EXPECT_TRUE(nothing.Consume(records));
  EXPECT_EQ(nothing.next(), 2);
  read = nothing.Compacted();
  EXPECT_TRUE(read.compacted);
  EXPECT_EQ(empty.events_size(), 0);
}

}  // namespace
}  // namespace atomix::broker
