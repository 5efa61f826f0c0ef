// MultiMap through the public SDK against a real broker: every operation
// with its exact versions and codes, paging, many threads at once, and
// watches (events with their revisions, key and prefix filters, replay).
// The linearizability of concurrent histories from several threads and
// processes is checked in multi_map_linearizability_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_format.h"
#include "atomix/atomix.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::seconds;
using Strings = MultiMap<std::string, std::string>;
using Event = MultiMapEvent<std::string, std::string>;
using Pair = Entry<std::string, std::string>;

class MultiMapTest : public BrokerTest {
 protected:
  BrokerProcess::Options BrokerOptions() override {
    BrokerProcess::Options o;
    o.args = {"--max-value-bytes", "1024"};
    return o;
  }

  Strings Open(const std::string& name) {
    auto mm = GetMultiMap<std::string, std::string>(client(), name);
    EXPECT_TRUE(mm.ok()) << mm.status();
    return *mm;
  }
};

// A key's values as (value, version), or the error that ended the listing.
absl::StatusOr<std::vector<Versioned<std::string>>> Values(const Strings& mm,
                                                           const std::string& key,
                                                           const ListOptions& options = {}) {
  std::vector<Versioned<std::string>> out;
  for (const auto& v : mm.Get(key, options)) {
    if (!v.ok()) return v.status();
    out.push_back(*v);
  }
  return out;
}

absl::StatusOr<std::vector<Pair>> Pairs(const Strings& mm, const ListOptions& options = {}) {
  std::vector<Pair> out;
  for (const auto& p : mm.Entries(options)) {
    if (!p.ok()) return p.status();
    out.push_back(*p);
  }
  return out;
}

// Receives one event or fails the test.
std::optional<Event> Next(Channel<Event>& ch) {
  auto e = ch.Receive(seconds(20));
  EXPECT_TRUE(e.has_value()) << "no event: " << ch.status();
  return e;
}

// (type, revision, key, value, version) of an event's pair, for comparisons.
using Seen = std::tuple<EventType, Version, std::string, std::string, Version>;

Seen Describe(const Event& e) {
  const std::optional<Pair>& p = e.type == EventType::kRemoved ? e.previous : e.entry;
  if (!p.has_value()) return {e.type, e.revision, "?", "?", -1};
  return {e.type, e.revision, p->key, p->value, p->version};
}

std::vector<Seen> Take(Channel<Event>& ch, int n) {
  std::vector<Seen> out;
  for (int i = 0; i < n; ++i) {
    auto e = Next(ch);
    if (!e) break;
    out.push_back(Describe(*e));
  }
  return out;
}

constexpr EventType kIn = EventType::kInserted;
constexpr EventType kOut = EventType::kRemoved;

TEST_F(MultiMapTest, EveryOperationWithExactVersions) {
  Strings mm = Open("roles");
  // Revisions start at 1 on this broker, and only changes take one.
  EXPECT_EQ(*mm.Put("alice", "admin"), (Change{true, 1}));
  EXPECT_EQ(*mm.Put("alice", "dev"), (Change{true, 2}));
  EXPECT_EQ(*mm.Put("bob", "dev"), (Change{true, 3}));
  EXPECT_EQ(*mm.Put("alice", "admin"), (Change{false, 1}));  // already there
  EXPECT_EQ(*mm.Size(), 3);
  EXPECT_TRUE(*mm.Contains("alice"));
  EXPECT_TRUE(*mm.Contains("alice", "dev"));
  EXPECT_FALSE(*mm.Contains("alice", "ops"));
  EXPECT_FALSE(*mm.Contains("carol"));
  EXPECT_EQ(*Values(mm, "alice"), (std::vector<Versioned<std::string>>{{"admin", 1}, {"dev", 2}}));
  EXPECT_TRUE(Values(mm, "carol")->empty());

  EXPECT_EQ(*mm.Remove("alice", "ops"), (Change{false, 0}));  // not there
  EXPECT_EQ(*mm.Remove("alice", "dev"), (Change{true, 4}));
  EXPECT_EQ(*mm.Put("alice", "dev"), (Change{true, 5}));  // back, with a new version
  EXPECT_EQ(*mm.Put("carol", "ops"), (Change{true, 6}));
  EXPECT_EQ(
      *Pairs(mm),
      (std::vector<Pair>{
          {"alice", "admin", 1}, {"alice", "dev", 5}, {"bob", "dev", 3}, {"carol", "ops", 6}}));

  EXPECT_EQ(*mm.RemoveAll("nobody"), (RemovedPairs{0, 0}));
  EXPECT_EQ(*mm.RemoveAll("alice"), (RemovedPairs{2, 7}));
  EXPECT_FALSE(*mm.Contains("alice"));  // a key with no values does not exist
  EXPECT_EQ(*mm.Size(), 2);
  EXPECT_EQ(*mm.Clear(), (RemovedPairs{2, 8}));
  EXPECT_EQ(*mm.Clear(), (RemovedPairs{0, 0}));
  EXPECT_EQ(*mm.Size(), 0);
  EXPECT_TRUE(Pairs(mm)->empty());
}

TEST_F(MultiMapTest, AsyncOperationsGiveTheSameAnswers) {
  Strings mm = Open("async");
  Future<Change> a = mm.PutAsync("k", "a");
  Future<Change> b = mm.PutAsync("k", "b");
  absl::StatusOr<Change> added_a = a.get();
  absl::StatusOr<Change> added_b = b.get();
  ASSERT_TRUE(added_a.ok() && added_b.ok());
  EXPECT_TRUE(added_a->changed && added_b->changed);
  // Sent at once: either may be applied first.
  EXPECT_EQ(added_a->version + added_b->version, 1 + 2);
  EXPECT_EQ(*mm.PutAsync("k", "a").get(), (Change{false, added_a->version}));
  EXPECT_TRUE(*mm.ContainsAsync("k").get());
  EXPECT_TRUE(*mm.ContainsAsync("k", "b").get());
  EXPECT_EQ(*mm.SizeAsync().get(), 2);
  EXPECT_EQ(*mm.RemoveAsync("k", "b").get(), (Change{true, 3}));
  EXPECT_EQ(*mm.RemoveAllAsync("k").get(), (RemovedPairs{1, 4}));
  EXPECT_EQ(*mm.PutAsync("j", "x").get(), (Change{true, 5}));
  EXPECT_EQ(*mm.ClearAsync().get(), (RemovedPairs{1, 6}));
}

TEST_F(MultiMapTest, BadInputAndOtherTypesAreRefused) {
  Strings mm = Open("checked");
  EXPECT_EQ(mm.Put("", "v").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(mm.Put("k", "").status().code(), absl::StatusCode::kInvalidArgument);
  auto long_key = mm.Put(std::string(4097, 'k'), "v");
  EXPECT_EQ(long_key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(long_key.status().message().find("4096"), std::string::npos) << long_key.status();
  auto big = mm.Put("k", std::string(1025, 'v'));
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(big.status().message().find("1024"), std::string::npos) << big.status();
  EXPECT_EQ(mm.Remove("k", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(mm.RemoveAll("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(mm.Contains("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(mm.Contains("k", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Values(mm, "").status().code(), absl::StatusCode::kInvalidArgument);
  auto prefixed = Values(mm, "k", WithPrefix("v"));
  EXPECT_EQ(prefixed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*mm.Size(), 0);                                            // nothing was applied
  EXPECT_EQ(*mm.Put("k", std::string(1024, 'v')), (Change{true, 1}));  // the limit is fine

  auto as_map = GetMap<std::string, std::string>(client(), "checked");
  EXPECT_EQ(as_map.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(as_map.status().message().find("multimap"), std::string::npos) << as_map.status();
  ASSERT_TRUE(GetCounter(client(), "counted").ok());
  auto on_counter = GetMultiMap<std::string, int64_t>(client(), "counted");
  EXPECT_EQ(on_counter.status().code(), absl::StatusCode::kFailedPrecondition);
  auto unnamed = GetMultiMap<std::string, int64_t>(client(), "");
  EXPECT_EQ(unnamed.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(MultiMapTest, UndecodableBytesNameTheMultimapAndKey) {
  Strings text = Open("typed");
  ASSERT_TRUE(text.Put("k", "abc").ok());
  auto numbers = GetMultiMap<std::string, int64_t>(client(), "typed");
  ASSERT_TRUE(numbers.ok());
  int items = 0;
  for (const auto& v : numbers->Get("k")) {
    ++items;
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(v.status().message().find("int64"), std::string::npos) << v.status();
    EXPECT_NE(v.status().message().find("multimap \"typed\""), std::string::npos) << v.status();
    EXPECT_NE(v.status().message().find("key \"k\""), std::string::npos) << v.status();
  }
  EXPECT_EQ(items, 1);
}

TEST_F(MultiMapTest, ListingsPageThroughManyValuesInOrder) {
  Strings mm = Open("paged");
  constexpr int kValues = 3000;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kValues; i += 8) {
        const std::string value = absl::StrFormat("v%05d", i);
        if (!mm.Put("big", value).ok()) failures.fetch_add(1);
        if (i % 3 == 0 && !mm.Put(absl::StrFormat("team/%d", i % 7), value).ok()) {
          failures.fetch_add(1);
        }
        if (i % 5 == 0 && !mm.Put("teams", value).ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);

  ListOptions paged;
  paged.page_size = 333;
  auto values = Values(mm, "big", paged);
  ASSERT_TRUE(values.ok()) << values.status();
  ASSERT_EQ(values->size(), size_t{kValues});
  for (int i = 0; i < kValues; ++i) {
    ASSERT_EQ((*values)[i].value, absl::StrFormat("v%05d", i));
    ASSERT_GT((*values)[i].version, 0);
  }

  ListOptions team = WithPrefix("team/");
  team.page_size = 97;
  auto pairs = Pairs(mm, team);
  ASSERT_TRUE(pairs.ok()) << pairs.status();
  ASSERT_EQ(pairs->size(), size_t{kValues / 3});
  for (size_t i = 1; i < pairs->size(); ++i) {
    ASSERT_LT(std::tie((*pairs)[i - 1].key, (*pairs)[i - 1].value),
              std::tie((*pairs)[i].key, (*pairs)[i].value));
  }
  for (const Pair& p : *pairs) ASSERT_EQ(p.key.rfind("team/", 0), 0u) << p.key;
  EXPECT_EQ(Pairs(mm)->size(), size_t{kValues + kValues / 3 + kValues / 5});
  EXPECT_EQ(*mm.Size(), kValues + kValues / 3 + kValues / 5);
}

// Eight threads put the same pairs at once: each pair is added exactly once,
// and every other Put reports the version that added it.
TEST_F(MultiMapTest, RacingPutsOfTheSamePairsAddEachOnce) {
  Strings mm = Open("race");
  constexpr int kThreads = 8;
  constexpr int kPairs = 200;
  std::vector<std::vector<Change>> changes(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto own = GetMultiMap<std::string, std::string>(client(), "race");
      ASSERT_TRUE(own.ok()) << own.status();
      for (int i = 0; i < kPairs; ++i) {
        auto c = own->Put(absl::StrFormat("k%d", i % 10), absl::StrFormat("v%d", i));
        ASSERT_TRUE(c.ok()) << c.status();
        changes[t].push_back(*c);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int i = 0; i < kPairs; ++i) {
    int added = 0;
    Version version = 0;
    for (int t = 0; t < kThreads; ++t) {
      const Change& c = changes[t][i];
      added += c.changed;
      if (c.changed) version = c.version;
    }
    EXPECT_EQ(added, 1) << "pair " << i;
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(changes[t][i].version, version) << "pair " << i;
  }
  EXPECT_EQ(*mm.Size(), kPairs);
}

TEST_F(MultiMapTest, WatchSeesEveryPairChangeAtItsRevision) {
  Strings mm = Open("watched");
  auto events = mm.Watch();
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_TRUE(mm.Put("a", "1").ok());     // 1
  ASSERT_TRUE(mm.Put("a", "2").ok());     // 2
  ASSERT_TRUE(mm.Put("a", "1").ok());     // no change, no event
  ASSERT_TRUE(mm.Put("b", "1").ok());     // 3
  ASSERT_TRUE(mm.Remove("a", "9").ok());  // no change, no event
  ASSERT_TRUE(mm.Remove("a", "1").ok());  // 4
  ASSERT_TRUE(mm.Put("a", "3").ok());     // 5
  ASSERT_TRUE(mm.RemoveAll("a").ok());    // 6: a/2 and a/3
  ASSERT_TRUE(mm.Put("c", "1").ok());     // 7
  ASSERT_TRUE(mm.Clear().ok());           // 8: b/1 and c/1
  EXPECT_EQ(Take(*events, 10), (std::vector<Seen>{
                                   {kIn, 1, "a", "1", 1},
                                   {kIn, 2, "a", "2", 2},
                                   {kIn, 3, "b", "1", 3},
                                   {kOut, 4, "a", "1", 1},
                                   {kIn, 5, "a", "3", 5},
                                   {kOut, 6, "a", "2", 2},
                                   {kOut, 6, "a", "3", 5},
                                   {kIn, 7, "c", "1", 7},
                                   {kOut, 8, "b", "1", 3},
                                   {kOut, 8, "c", "1", 7},
                               }));
  EXPECT_FALSE(events->TryReceive().has_value());
}

TEST_F(MultiMapTest, WatchFiltersByKeyAndByPrefix) {
  Strings mm = Open("filtered");
  auto one = mm.Watch("team/a");
  ASSERT_TRUE(one.ok()) << one.status();
  auto teams = mm.Watch(WithPrefix("team/"));
  ASSERT_TRUE(teams.ok()) << teams.status();
  ASSERT_TRUE(mm.Put("team/a", "x").ok());   // 1
  ASSERT_TRUE(mm.Put("team/ab", "x").ok());  // 2
  ASSERT_TRUE(mm.Put("other", "x").ok());    // 3
  ASSERT_TRUE(mm.Put("team/a", "y").ok());   // 4
  ASSERT_TRUE(mm.Clear().ok());              // 5
  EXPECT_EQ(Take(*one, 4), (std::vector<Seen>{{kIn, 1, "team/a", "x", 1},
                                              {kIn, 4, "team/a", "y", 4},
                                              {kOut, 5, "team/a", "x", 1},
                                              {kOut, 5, "team/a", "y", 4}}));
  EXPECT_EQ(Take(*teams, 6), (std::vector<Seen>{{kIn, 1, "team/a", "x", 1},
                                                {kIn, 2, "team/ab", "x", 2},
                                                {kIn, 4, "team/a", "y", 4},
                                                {kOut, 5, "team/a", "x", 1},
                                                {kOut, 5, "team/a", "y", 4},
                                                {kOut, 5, "team/ab", "x", 2}}));
  EXPECT_FALSE(one->TryReceive().has_value());
  EXPECT_FALSE(teams->TryReceive().has_value());
}

// A replay starts with one kInserted per pair at the snapshot's revision
// (each pair keeps the version that added it), then the changes after it.
TEST_F(MultiMapTest, ReplayStartsWithTheCurrentPairs) {
  Strings mm = Open("replayed");
  ASSERT_TRUE(mm.Put("b", "2").ok());     // 1
  ASSERT_TRUE(mm.Put("a", "9").ok());     // 2
  ASSERT_TRUE(mm.Put("b", "1").ok());     // 3
  ASSERT_TRUE(mm.Put("c", "1").ok());     // 4
  ASSERT_TRUE(mm.Remove("c", "1").ok());  // 5
  auto all = mm.Watch(WithReplay());
  ASSERT_TRUE(all.ok()) << all.status();
  auto only_b = mm.Watch("b", WithReplay());
  ASSERT_TRUE(only_b.ok()) << only_b.status();
  ASSERT_TRUE(mm.Put("b", "3").ok());  // 6
  EXPECT_EQ(Take(*all, 4), (std::vector<Seen>{{kIn, 5, "a", "9", 2},
                                              {kIn, 5, "b", "1", 3},
                                              {kIn, 5, "b", "2", 1},
                                              {kIn, 6, "b", "3", 6}}));
  EXPECT_EQ(
      Take(*only_b, 3),
      (std::vector<Seen>{{kIn, 5, "b", "1", 3}, {kIn, 5, "b", "2", 1}, {kIn, 6, "b", "3", 6}}));
}

}  // namespace
}  // namespace atomix::testing
