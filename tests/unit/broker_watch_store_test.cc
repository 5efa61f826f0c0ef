// Watches at the store level: atomic start (revision + snapshot, then the
// following events with no gap or overlap), type binding, reads of the
// history, the change listener, sessions ending as one revision, and
// compaction with a small history. No network.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker-sim/src/store/memory_store.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::BrokerDriver;

// "revision:type:key" of each event of `out`.
std::vector<std::string> Describe(const v1::WatchResponse& out) {
  std::vector<std::string> got;
  for (const v1::WatchEvent& event : out.events()) {
    const std::string& key =
        event.has_entry() ? event.entry().key() : event.previous().key();
    got.push_back(std::to_string(event.revision()) + ":" +
                  v1::WatchEvent::Type_Name(event.type()) + ":" + key);
  }
  return got;
}

using Lines = std::vector<std::string>;

class BrokerWatchStoreTest : public ::testing::Test {
 protected:
  v1::Response Map(const std::string& op, uint64_t session = 0) {
    return broker_.Apply(v1::MAP, "m", "map { " + op + " }", session);
  }
  Lines Read(const std::string& name, int64_t cursor, WatchRead& read,
             const WatchFilter& filter = {}) {
    v1::WatchResponse out;
    read = broker_.store().ReadWatch(name, filter, cursor, WatchBudget{}, out);
    return Describe(out);
  }

  BrokerDriver broker_;
};

TEST_F(BrokerWatchStoreTest, StartIsAtomicWithTheFollowingEvents) {
  Map(R"pb(put { key: "a" value: "1" })pb");
  Map(R"pb(put { key: "b" value: "2" })pb");
  absl::StatusOr<WatchStart> start =
      broker_.store().StartWatch("m", v1::MAP, {}, /*snapshot=*/true);
  ASSERT_TRUE(start.ok()) << start.status();
  EXPECT_EQ(start->revision, 2);
  EXPECT_EQ(start->snapshot.revision(), 2);
  ASSERT_EQ(start->snapshot.entries_size(), 2);
  EXPECT_EQ(start->snapshot.entries(0).key(), "a");
  EXPECT_EQ(start->snapshot.entries(1).key(), "b");

  Map(R"pb(put { key: "a" value: "3" })pb");
  Map(R"pb(remove { key: "b" })pb");
  WatchRead read;
  EXPECT_EQ(Read("m", start->revision + 1, read),
            (Lines{"3:UPDATED:a", "4:REMOVED:b"}));
  EXPECT_FALSE(read.compacted);
  EXPECT_EQ(read.next, 5);
  // The history also holds what came before the start.
  EXPECT_EQ(Read("m", 1, read), (Lines{"1:INSERTED:a", "2:INSERTED:b",
                                       "3:UPDATED:a", "4:REMOVED:b"}));
}

TEST_F(BrokerWatchStoreTest, StartWithoutSnapshotLeavesItEmpty) {
  Map(R"pb(put { key: "a" value: "1" })pb");
  absl::StatusOr<WatchStart> start =
      broker_.store().StartWatch("m", v1::MAP, {}, /*snapshot=*/false);
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(start->revision, 1);
  EXPECT_EQ(start->snapshot.entries_size(), 0);
  EXPECT_EQ(start->snapshot.revision(), 0);
}

TEST_F(BrokerWatchStoreTest, NameBoundToAnotherTypeFails) {
  broker_.Apply(v1::COUNTER, "c", "counter { add { delta: 1 } }");
  absl::StatusOr<WatchStart> start =
      broker_.store().StartWatch("c", v1::MAP, {}, true);
  EXPECT_EQ(start.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(start.status().message(), "\"c\" is a counter, not a map");
}

TEST_F(BrokerWatchStoreTest, UnknownNameIsEmptyAndStaysUnbound) {
  broker_.Apply(v1::COUNTER, "c", "counter { add { delta: 4 } }");
  for (v1::PrimitiveType type :
       {v1::COUNTER, v1::VALUE, v1::MAP, v1::SET, v1::LOCK, v1::ELECTION}) {
    absl::StatusOr<WatchStart> start =
        broker_.store().StartWatch("nothing", type, {}, true);
    ASSERT_TRUE(start.ok()) << start.status();
    EXPECT_EQ(start->revision, 1);
    EXPECT_EQ(start->snapshot.entries_size(), 0);
    EXPECT_EQ(start->snapshot.value(), 0);
  }
  EXPECT_EQ(broker_.store().TEST_primitive_count(), 1u);
  // It can still become any type.
  EXPECT_EQ(
      broker_.Apply(v1::SET, "nothing", R"pb(set { add { element: "x" } })pb")
          .error()
          .code(),
      0);
}

TEST_F(BrokerWatchStoreTest, CounterSnapshotCarriesValueAndVersion) {
  broker_.Apply(v1::COUNTER, "c", "counter { add { delta: 4 } }");
  broker_.Apply(v1::COUNTER, "c", "counter { add { delta: 3 } }");
  absl::StatusOr<WatchStart> start =
      broker_.store().StartWatch("c", v1::COUNTER, {}, true);
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(start->snapshot.value(), 7);
  EXPECT_EQ(start->snapshot.version(), 2);
  EXPECT_EQ(start->snapshot.revision(), 2);
}

TEST_F(BrokerWatchStoreTest, FiltersApplyToSnapshotAndEvents) {
  Map(R"pb(put { key: "a/1" value: "x" })pb");
  Map(R"pb(put { key: "b" value: "y" })pb");
  absl::StatusOr<WatchStart> start =
      broker_.store().StartWatch("m", v1::MAP, {.prefix = "a/"}, true);
  ASSERT_TRUE(start.ok());
  ASSERT_EQ(start->snapshot.entries_size(), 1);
  EXPECT_EQ(start->snapshot.entries(0).key(), "a/1");
  Map(R"pb(put { key: "a/2" value: "x" })pb");
  Map(R"pb(put { key: "b" value: "z" })pb");
  WatchRead read;
  EXPECT_EQ(Read("m", 3, read, {.prefix = "a/"}), Lines{"3:INSERTED:a/2"});
  EXPECT_EQ(read.next, 5);
  EXPECT_EQ(Read("m", 3, read, {.key = "b"}), Lines{"4:UPDATED:b"});
}

TEST_F(BrokerWatchStoreTest, ListenerHearsChangedNames) {
  std::vector<std::vector<std::string>> heard;
  broker_.store().SetChangeListener([&](absl::Span<const std::string> names) {
    heard.emplace_back(names.begin(), names.end());
  });
  Map(R"pb(put { key: "a" value: "1" })pb");
  Map(R"pb(get { key: "a" })pb");      // a read: nothing
  Map(R"pb(remove { key: "zz" })pb");  // fails: nothing
  broker_.Apply(v1::COUNTER, "c", "counter { add { delta: 1 } }");
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[0], std::vector<std::string>{"m"});
  EXPECT_EQ(heard[1], std::vector<std::string>{"c"});

  // A batch reports each name it changed.
  v1::RequestBatch batch;
  for (const char* name : {"x", "y", "x"}) {
    v1::Request* request = batch.add_requests();
    request->set_type(v1::COUNTER);
    request->set_name(name);
    request->mutable_counter()->mutable_add()->set_delta(1);
  }
  v1::ResponseBatch out;
  broker_.broker().Execute(batch, out);
  ASSERT_EQ(heard.size(), 3u);
  EXPECT_EQ(heard[2], (std::vector<std::string>{"x", "y", "x"}));

  // TTL expiry found by Tick.
  Map(R"pb(put { key: "t" value: "1" ttl_ms: 1000 })pb");
  heard.clear();
  broker_.Advance(absl::Seconds(1));
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_EQ(heard[0], std::vector<std::string>{"m"});
  WatchRead read;
  EXPECT_EQ(Read("m", broker_.revision(), read), Lines{"7:EXPIRED:t"});
  broker_.store().SetChangeListener(nullptr);
}

TEST_F(BrokerWatchStoreTest, SessionEndIsOneRevisionAcrossPrimitives) {
  const uint64_t s = broker_.OpenSession();
  Map(R"pb(put { key: "e" value: "1" ephemeral: true })pb", s);
  broker_.Apply(v1::LOCK, "l", "lock { acquire {} }", s);
  broker_.Apply(v1::ELECTION, "el",
                R"pb(election { enter { candidate_id: "x" } })pb", s);
  EXPECT_EQ(broker_.revision(), 3);
  std::vector<std::string> heard;
  broker_.store().SetChangeListener([&](absl::Span<const std::string> names) {
    heard.assign(names.begin(), names.end());
  });
  broker_.ExpireAllSessions();
  EXPECT_EQ(broker_.revision(), 4);
  std::sort(heard.begin(), heard.end());
  EXPECT_EQ(heard, (std::vector<std::string>{"el", "l", "m"}));
  WatchRead read;
  EXPECT_EQ(Read("m", 4, read), Lines{"4:REMOVED:e"});
  v1::WatchResponse out;
  broker_.store().ReadWatch("l", {}, 4, {}, out);
  ASSERT_EQ(out.events_size(), 1);
  EXPECT_EQ(out.events(0).type(), v1::WatchEvent::REMOVED);
  EXPECT_EQ(out.events(0).revision(), 4);
  out.Clear();
  broker_.store().ReadWatch("el", {}, 4, {}, out);
  ASSERT_EQ(out.events_size(), 1);
  EXPECT_EQ(out.events(0).type(), v1::WatchEvent::UPDATED);
  EXPECT_EQ(out.events(0).revision(), 4);
  EXPECT_EQ(out.events(0).term().term(), 4);
  broker_.store().SetChangeListener(nullptr);
}

TEST(BrokerWatchStore, SmallHistoryCompacts) {
  Limits limits;
  absl::Time now = testing::TestNow();
  auto* owned = new MemoryStore(
      limits, [&] { return now; }, 0, WatchHistoryOptions{.max_events = 3});
  MemoryStore& store = *owned;
  Broker broker(std::unique_ptr<Store>(owned), limits);
  for (int i = 0; i < 5; ++i) {
    broker.Execute(
        testing::MakeRequest(v1::COUNTER, "c", "counter { add { delta: 1 } }"));
  }
  EXPECT_EQ(store.TEST_history_events(), 3u);
  v1::WatchResponse out;
  WatchRead read = store.ReadWatch("c", {}, 2, {}, out);
  EXPECT_TRUE(read.compacted);
  EXPECT_EQ(out.events_size(), 0);
  read = store.ReadWatch("c", {}, 3, {}, out);
  EXPECT_FALSE(read.compacted);
  ASSERT_EQ(out.events_size(), 3);
  EXPECT_EQ(out.events(0).revision(), 3);
  EXPECT_EQ(out.events(0).value(), 3);
  EXPECT_EQ(out.events(0).previous_value(), 2);
  EXPECT_EQ(read.next, 6);
}

TEST(BrokerWatchStore, ReadWatchCopiesOutsideTheLock) {
  // The hook runs between collecting and copying: the store's mutex must be
  // free, and a write that evicts every collected record must neither block
  // nor change what the read returns.
  Limits limits;
  absl::Time now = testing::TestNow();
  auto* owned = new MemoryStore(
      limits, [&] { return now; }, 0, WatchHistoryOptions{.max_events = 3});
  MemoryStore& store = *owned;
  Broker broker(std::unique_ptr<Store>(owned), limits);
  auto add = [&] {
    broker.Execute(
        testing::MakeRequest(v1::COUNTER, "c", "counter { add { delta: 1 } }"));
  };
  for (int i = 0; i < 3; ++i) add();
  int hooks = 0;
  bool unlocked = false;
  store.TEST_SetBeforeWatchCopy([&] {
    if (hooks++ > 0) return;
    unlocked = store.TEST_unlocked();
    if (!unlocked) return;  // writing now would deadlock
    std::thread writer([&] {
      for (int i = 0; i < 3; ++i) add();
    });
    writer.join();
  });
  v1::WatchResponse out;
  WatchRead read = store.ReadWatch("c", {}, 1, {}, out);
  store.TEST_SetBeforeWatchCopy(nullptr);
  EXPECT_EQ(hooks, 1);
  EXPECT_TRUE(unlocked);
  EXPECT_EQ(store.revision(), 6);
  EXPECT_EQ(store.TEST_history_events(), 3u);
  // What was collected before the write, though evicted since.
  EXPECT_FALSE(read.compacted);
  EXPECT_EQ(read.next, 4);
  ASSERT_EQ(out.events_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(out.events(i).revision(), i + 1);
    EXPECT_EQ(out.events(i).value(), i + 1);
  }
  // The history itself moved on: 1 to 3 are compacted, 4 to 6 follow.
  out.Clear();
  read = store.ReadWatch("c", {}, 1, {}, out);
  EXPECT_TRUE(read.compacted);
  EXPECT_EQ(out.events_size(), 0);
  read = store.ReadWatch("c", {}, 4, {}, out);
  EXPECT_FALSE(read.compacted);
  ASSERT_EQ(out.events_size(), 3);
  EXPECT_EQ(out.events(0).revision(), 4);
  EXPECT_EQ(out.events(2).value(), 6);
  EXPECT_EQ(read.next, 7);
}

}  // namespace
}  // namespace atomix::broker
