// CounterMap through the public SDK against a real broker: every operation
// with its exact value, version and status code; listings; many threads at
// once; and watches (every change in order with its revision, key and prefix
// filters, replay snapshots). Histories across processes are checked in
// counter_map_history_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "tests/support/increment_history.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::seconds;
using Event = CounterMapEvent<std::string>;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

class CounterMapTest : public BrokerTest {
 protected:
  CounterMap<std::string> Open(const std::string& name) {
    auto m = GetCounterMap<std::string>(client(), name);
    EXPECT_TRUE(m.ok()) << m.status();
    return *std::move(m);
  }
};

Versioned<int64_t> At(int64_t value, Version version) { return {value, version}; }

std::vector<Entry<std::string, int64_t>> All(const CounterMap<std::string>& m,
                                             const ListOptions& options = {}) {
  std::vector<Entry<std::string, int64_t>> out;
  for (const auto& e : m.Entries(options)) {
    EXPECT_TRUE(e.ok()) << e.status();
    if (!e.ok()) break;
    out.push_back(*e);
  }
  return out;
}

TEST_F(CounterMapTest, OperationsReturnExactValuesAndVersions) {
  CounterMap<std::string> m = Open("quotas");
  EXPECT_EQ(*m.Get("alice"), 0);  // absent reads 0
  EXPECT_EQ(*m.Size(), 0);

  auto first = m.Increment("alice");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->value, 1);
  const Version v = first->version;
  EXPECT_GT(v, 0);
  // Each later write takes the next revision.
  EXPECT_EQ(*m.Increment("alice", 4), At(5, v + 1));
  EXPECT_EQ(*m.Decrement("alice", 2), At(3, v + 2));
  EXPECT_EQ(*m.Set("bob", -7), At(-7, v + 3));
  EXPECT_EQ(*m.CompareAndSet("alice", 3, 10), At(10, v + 4));

  auto mismatch = m.CompareAndSet("alice", 3, 11);
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(mismatch.status()), 10);  // the value, not a version
  EXPECT_EQ(mismatch.status().message(),
            "counter map \"quotas\" key \"alice\": expected 3, current value is 10");

  // An absent key holds 0 for CompareAndSet too.
  EXPECT_EQ(*m.CompareAndSet("carol", 0, 2), At(2, v + 5));
  auto absent = m.CompareAndSet("dave", 1, 2);
  EXPECT_EQ(absent.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(absent.status()), 0);

  // Increment by 0 is a write.
  EXPECT_EQ(*m.Increment("alice", 0), At(10, v + 6));
  EXPECT_EQ(*m.Get("alice"), 10);
  EXPECT_EQ(*m.Size(), 3);
  EXPECT_EQ(All(m), (std::vector<Entry<std::string, int64_t>>{
                        {"alice", 10, v + 6}, {"bob", -7, v + 3}, {"carol", 2, v + 5}}));

  // Remove returns the value it held and the revision of the removal.
  auto removed = m.Remove("bob");
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, std::optional<Versioned<int64_t>>(At(-7, v + 7)));
  auto again = m.Remove("bob");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->has_value());
  EXPECT_EQ(*m.Get("bob"), 0);
  EXPECT_EQ(*m.Size(), 2);

  // Clear: {removed, revision}; nothing to clear takes no revision.
  EXPECT_EQ(*m.Clear(), At(2, v + 8));
  EXPECT_EQ(*m.Clear(), At(0, 0));
  EXPECT_EQ(*m.Size(), 0);
  EXPECT_EQ(*m.Increment("alice"), At(1, v + 9));
}

TEST_F(CounterMapTest, OverflowIsOutOfRangeAndChangesNothing) {
  CounterMap<std::string> m = Open("edges");
  const Version v = m.Set("k", kMax)->version;
  auto over = m.Increment("k");
  EXPECT_EQ(over.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(over.status().message(),
            "counter map \"edges\" key \"k\": adding 1 to 9223372036854775807 overflows int64");
  EXPECT_EQ(All(m), (std::vector<Entry<std::string, int64_t>>{{"k", kMax, v}}));

  EXPECT_EQ(*m.Set("k", kMin), At(kMin, v + 1));
  EXPECT_EQ(m.Decrement("k").status().code(), absl::StatusCode::kOutOfRange);
  // INT64_MIN cannot be negated: refused by the client, no revision taken.
  auto refused = m.Decrement("other", kMin);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(),
            "counter map \"edges\": Decrement: delta must be greater than INT64_MIN");
  // An absent key starts at 0, so INT64_MIN is a fine increment.
  EXPECT_EQ(*m.Increment("other", kMin), At(kMin, v + 2));
  EXPECT_EQ(*m.Get("k"), kMin);
}

TEST_F(CounterMapTest, BadKeysNamesAndTypesAreRefused) {
  CounterMap<std::string> m = Open("strict");
  auto empty = m.Increment("");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.status().message(), "key is empty");
  auto huge = m.Get(std::string(5000, 'k'));
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(huge.status().message(), "key is 5000 bytes; the limit is 4096");
  EXPECT_EQ(*m.Size(), 0);

  EXPECT_EQ(GetCounterMap<std::string>(client(), "").status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(GetCounter(client(), "a-counter").ok());
  auto taken = GetCounterMap<std::string>(client(), "a-counter");
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(taken.status().message(), "\"a-counter\" is a counter, not a counter map");
  auto as_map = GetMap<std::string, int64_t>(client(), "strict");
  EXPECT_EQ(as_map.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(as_map.status().message(), "\"strict\" is a counter map, not a map");
}

TEST_F(CounterMapTest, EntriesPageByPrefixInKeyOrder) {
  CounterMap<std::string> m = Open("tally");
  std::vector<std::string> expected;
  for (int i = 249; i >= 0; --i) {
    const std::string key = absl::StrFormat("user/%03d", i);
    ASSERT_TRUE(m.Set(key, i).ok());
  }
  ASSERT_TRUE(m.Increment("other/x").ok());
  ASSERT_TRUE(m.Increment("user").ok());  // not under "user/"
  ListOptions o = WithPrefix("user/");
  o.page_size = 7;
  std::vector<Entry<std::string, int64_t>> seen = All(m, o);
  ASSERT_EQ(seen.size(), 250u);
  for (int i = 0; i < 250; ++i) {
    EXPECT_EQ(seen[i].key, absl::StrFormat("user/%03d", i));
    EXPECT_EQ(seen[i].value, i);
  }
  // Written from 249 down: user/249 has the lowest version.
  EXPECT_EQ(seen[0].version, seen[249].version + 249);
  EXPECT_EQ(All(m).size(), 252u);

  // Integer keys list in numeric order, negatives first.
  auto ints = GetCounterMap<int64_t>(client(), "by-id");
  ASSERT_TRUE(ints.ok()) << ints.status();
  for (int64_t id : std::vector<int64_t>{100, -5, 3, kMin, 0}) {
    ASSERT_TRUE(ints->Increment(id, id % 7).ok());
  }
  std::vector<int64_t> ids;
  for (const auto& e : ints->Entries()) {
    ASSERT_TRUE(e.ok()) << e.status();
    ids.push_back(e->key);
    EXPECT_EQ(e->value, e->key % 7);
  }
  EXPECT_EQ(ids, (std::vector<int64_t>{kMin, -5, 0, 3, 100}));
}

TEST_F(CounterMapTest, AsyncOperationsShareTheStream) {
  CounterMap<std::string> m = Open("async");
  std::vector<Future<Versioned<int64_t>>> futures;
  for (int i = 0; i < 200; ++i) futures.push_back(m.IncrementAsync("k"));
  std::vector<int64_t> values;
  for (auto& f : futures) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status();
    values.push_back(r->value);
  }
  std::sort(values.begin(), values.end());
  for (int i = 0; i < 200; ++i) EXPECT_EQ(values[i], i + 1);
  EXPECT_EQ(*m.GetAsync("k").get(), 200);
  auto cas = m.CompareAndSetAsync("k", 200, 0).get();
  ASSERT_TRUE(cas.ok()) << cas.status();
  EXPECT_EQ(cas->value, 0);
  EXPECT_EQ(m.DecrementAsync("k", kMin).get().status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*m.SizeAsync().get(), 1);
  auto removed = m.RemoveAsync("k").get();
  ASSERT_TRUE(removed.ok() && removed->has_value());
  EXPECT_EQ((*removed)->value, 0);
  EXPECT_EQ(m.ClearAsync().get()->value, 0);
}

// 8 threads increment 4 keys: per key, every acknowledged increment got a
// distinct value, none was lost, and real time is respected.
TEST_F(CounterMapTest, ConcurrentIncrementsAreNeitherLostNorDuplicated) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 1000;
  constexpr int kKeys = 4;
  CounterMap<std::string> m = Open("hits");
  std::mutex mu;
  std::map<int, std::vector<Increment>> by_key;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::map<int, std::vector<Increment>> mine;
      for (int i = 0; i < kPerThread; ++i) {
        const int k = (t + i) % kKeys;
        Increment op;
        op.invoke = NowNanos();
        auto r = m.Increment("k" + std::to_string(k));
        op.complete = NowNanos();
        if (r.ok()) op.value = r->value;
        mine[k].push_back(op);
      }
      std::lock_guard<std::mutex> l(mu);
      for (auto& [k, ops] : mine) by_key[k].insert(by_key[k].end(), ops.begin(), ops.end());
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& [k, ops] : by_key) {
    for (const Increment& op : ops) ASSERT_TRUE(op.value.has_value()) << "key " << k;
    const int64_t final_value = *m.Get("k" + std::to_string(k));
    EXPECT_EQ(final_value, static_cast<int64_t>(ops.size()));
    EXPECT_EQ(CheckIncrements(ops, 0, final_value), "") << "key " << k;
  }
  EXPECT_EQ(*m.Size(), kKeys);
}

// ---- Watches ----------------------------------------------------------------

Event Next(Channel<Event>& ch) {
  auto e = ch.Receive(seconds(20));
  EXPECT_TRUE(e.has_value()) << "no event within 20 s";
  return e.value_or(Event{});
}

void ExpectEvent(const Event& e, EventType type, Version revision, const std::string& key,
                 int64_t value, int64_t previous) {
  EXPECT_EQ(static_cast<int>(e.type), static_cast<int>(type)) << key << " @" << revision;
  EXPECT_EQ(e.revision, revision) << key;
  EXPECT_EQ(e.key, key) << "@" << revision;
  EXPECT_EQ(e.value, value) << key << " @" << revision;
  EXPECT_EQ(e.previous, previous) << key << " @" << revision;
  EXPECT_EQ(e.version, revision) << key;
}

TEST_F(CounterMapTest, WatchSeesEveryChangeInOrderWithItsRevision) {
  CounterMap<std::string> m = Open("watched");
  auto ch = m.Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  const Version v1 = m.Increment("a", 5)->version;
  const Version v2 = m.Increment("a", -2)->version;
  const Version v3 = m.Set("b", 9)->version;
  ASSERT_FALSE(m.CompareAndSet("a", 0, 1).ok());  // a failure is no event
  ASSERT_FALSE(m.Increment("b", kMax).ok());      // nor is an overflow
  const Version v4 = m.CompareAndSet("a", 3, 30)->version;
  const Version v5 = (*m.Remove("a"))->version;
  ASSERT_FALSE(m.Remove("a")->has_value());  // removing nothing: no event
  const Version v6 = m.Set("c", -1)->version;
  const Version v7 = m.Clear()->version;

  ExpectEvent(Next(*ch), EventType::kInserted, v1, "a", 5, 0);
  ExpectEvent(Next(*ch), EventType::kUpdated, v2, "a", 3, 5);
  ExpectEvent(Next(*ch), EventType::kInserted, v3, "b", 9, 0);
  ExpectEvent(Next(*ch), EventType::kUpdated, v4, "a", 30, 3);
  ExpectEvent(Next(*ch), EventType::kRemoved, v5, "a", 0, 30);
  ExpectEvent(Next(*ch), EventType::kInserted, v6, "c", -1, 0);
  // Clear: one kRemoved per key, in key order, at one revision.
  ExpectEvent(Next(*ch), EventType::kRemoved, v7, "b", 0, 9);
  ExpectEvent(Next(*ch), EventType::kRemoved, v7, "c", 0, -1);
  EXPECT_FALSE(ch->TryReceive().has_value());
  ch->Close();
}

TEST_F(CounterMapTest, WatchFiltersByKeyAndByPrefix) {
  CounterMap<std::string> m = Open("filtered");
  auto one = m.Watch("user/a");
  ASSERT_TRUE(one.ok()) << one.status();
  auto users = m.Watch(WithPrefix("user/"));
  ASSERT_TRUE(users.ok()) << users.status();
  const Version va = m.Increment("user/a")->version;
  ASSERT_TRUE(m.Increment("other/a").ok());
  const Version vb = m.Increment("user/b", 2)->version;
  ASSERT_TRUE(m.Increment("user").ok());
  const Version va2 = m.Increment("user/a")->version;

  ExpectEvent(Next(*one), EventType::kInserted, va, "user/a", 1, 0);
  ExpectEvent(Next(*one), EventType::kUpdated, va2, "user/a", 2, 1);
  ExpectEvent(Next(*users), EventType::kInserted, va, "user/a", 1, 0);
  ExpectEvent(Next(*users), EventType::kInserted, vb, "user/b", 2, 0);
  ExpectEvent(Next(*users), EventType::kUpdated, va2, "user/a", 2, 1);
  EXPECT_FALSE(one->TryReceive().has_value());
  EXPECT_FALSE(users->TryReceive().has_value());
}

TEST_F(CounterMapTest, ReplayStartsWithTheCurrentCounters) {
  CounterMap<std::string> m = Open("replayed");
  const Version vb = m.Set("u/b", 7)->version;
  const Version va = m.Increment("u/a", -3)->version;
  ASSERT_TRUE(m.Increment("v/x").ok());
  const Version last = m.Increment("u/b")->version;

  auto ch = m.Watch(WithReplay().Prefix("u/"));
  ASSERT_TRUE(ch.ok()) << ch.status();
  // The snapshot: each counter as kInserted at the snapshot's revision, in
  // key order, with its own version.
  Event a = Next(*ch);
  Event b = Next(*ch);
  EXPECT_EQ(a.type, EventType::kInserted);
  EXPECT_EQ(a.key, "u/a");
  EXPECT_EQ(a.value, -3);
  EXPECT_EQ(a.version, va);
  EXPECT_EQ(b.key, "u/b");
  EXPECT_EQ(b.value, 8);
  EXPECT_EQ(b.version, last);
  EXPECT_GT(b.version, vb);
  EXPECT_GE(a.revision, last);
  EXPECT_EQ(a.revision, b.revision);
  // Then live changes.
  const Version live = m.Decrement("u/a")->version;
  ExpectEvent(Next(*ch), EventType::kUpdated, live, "u/a", -4, -3);

  // A watch from an earlier revision replays the history from there.
  auto from = m.Watch(WithStartVersion(va));
  ASSERT_TRUE(from.ok()) << from.status();
  Event e = Next(*from);
  EXPECT_EQ(e.revision, va);
  EXPECT_EQ(e.key, "u/a");
  EXPECT_EQ(Next(*from).key, "v/x");
  ExpectEvent(Next(*from), EventType::kUpdated, last, "u/b", 8, 7);
  ExpectEvent(Next(*from), EventType::kUpdated, live, "u/a", -4, -3);
}

}  // namespace
}  // namespace atomix::testing
