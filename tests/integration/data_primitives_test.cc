// Map, Set and Value through the public SDK against a real broker, from many
// threads.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "atomix/v1/map.pb.h"
#include "tests/support/scale.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

class DataPrimitives : public BrokerTest {};

// Runs fn(thread, i) for i in [0, n) split across `threads` threads.
template <class Fn>
void Parallel(int threads, int n, Fn fn) {
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = t; i < n; i += threads) fn(t, i);
    });
  }
  for (auto& th : ts) th.join();
}

TEST_F(DataPrimitives, MillionEntryMapListsPageByPage) {
  constexpr int kEntries = Scaled(1000000);
  auto m = GetMap<std::string, int64_t>(client(), "big");
  ASSERT_TRUE(m.ok()) << m.status();
  std::atomic<int> failures{0};
  Parallel(64, kEntries, [&](int, int i) {
    if (!m->Put(absl::StrFormat("k/%07d", i), i).ok()) failures.fetch_add(1);
  });
  ASSERT_EQ(failures.load(), 0);
  ASSERT_EQ(*m->Size(), kEntries);

  // The whole map, in key order, each entry exactly once, never more than a
  // page in memory.
  int64_t expect = 0;
  for (const auto& e : m->Entries()) {
    ASSERT_TRUE(e.ok()) << e.status();
    ASSERT_EQ(e->key, absl::StrFormat("k/%07d", expect));
    ASSERT_EQ(e->value, expect);
    ++expect;
  }
  EXPECT_EQ(expect, kEntries);
}

TEST_F(DataPrimitives, PrefixListingSeesOnlyTheSubtree) {
  auto m = GetMap<std::string, std::string>(client(), "tree");
  ASSERT_TRUE(m.ok());
  std::atomic<int> failures{0};
  Parallel(16, 6000, [&](int, int i) {
    std::string key = absl::StrFormat("%s/%05d", i % 3 == 0 ? "a/b" : (i % 3 == 1 ? "a/c" : "ab"), i);
    if (!m->Put(key, "v").ok()) failures.fetch_add(1);
  });
  ASSERT_EQ(failures.load(), 0);

  ListOptions o = WithPrefix("a/b/");
  o.page_size = 333;
  std::vector<std::string> keys;
  for (const auto& k : m->Keys(o)) {
    ASSERT_TRUE(k.ok()) << k.status();
    keys.push_back(*k);
  }
  ASSERT_EQ(keys.size(), 2000u);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());
  for (const auto& k : keys) ASSERT_EQ(k.rfind("a/b/", 0), 0u) << k;

  int under_a = 0;
  for (const auto& e : m->Entries(WithPrefix("a/"))) {
    ASSERT_TRUE(e.ok());
    ++under_a;
  }
  EXPECT_EQ(under_a, 4000);  // "ab/..." is not under "a/"

  auto cleared = m->Clear();
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(*m->Size(), 0);
}

TEST_F(DataPrimitives, ConcurrentInsertHasExactlyOneWinner) {
  auto v = GetValue<std::string>(client(), "leader");
  ASSERT_TRUE(v.ok());
  std::atomic<int> won{0}, lost{0};
  std::mutex mu;
  Version winning_version = 0;
  std::string winner;
  Parallel(8, 8, [&](int t, int) {
    auto r = v->Insert("node-" + std::to_string(t));
    if (r.ok()) {
      won.fetch_add(1);
      std::lock_guard<std::mutex> l(mu);
      winning_version = *r;
      winner = "node-" + std::to_string(t);
    } else if (absl::IsAlreadyExists(r.status())) {
      lost.fetch_add(1);
    }
  });
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), 7);
  auto now = v->Get();
  ASSERT_TRUE(now.ok() && now->has_value());
  EXPECT_EQ((*now)->value, winner);
  EXPECT_EQ((*now)->version, winning_version);

  // Delete with a stale version is refused; with the right one it works.
  EXPECT_TRUE(absl::IsFailedPrecondition(v->Delete(IfVersion(winning_version - 1)).status()));
  EXPECT_TRUE(v->Delete(IfVersion(winning_version)).ok());
  EXPECT_TRUE(absl::IsNotFound(v->Delete().status()));
}

TEST_F(DataPrimitives, ConcurrentSetAddsChangeTheSetOncePerElement) {
  auto s = GetSet<int64_t>(client(), "members");
  ASSERT_TRUE(s.ok());
  std::atomic<int> changed{0}, unchanged{0};
  // Every element is added by 4 threads.
  Parallel(8, 4000, [&](int, int i) {
    auto r = s->Add(i % 1000);
    ASSERT_TRUE(r.ok()) << r.status();
    (r->changed ? changed : unchanged).fetch_add(1);
  });
  EXPECT_EQ(changed.load(), 1000);
  EXPECT_EQ(unchanged.load(), 3000);
  EXPECT_EQ(*s->Size(), 1000);

  // Integer elements list in numeric order, including negatives.
  ASSERT_TRUE(s->Add(-5).ok());
  std::vector<int64_t> seen;
  for (const auto& e : s->Elements()) {
    ASSERT_TRUE(e.ok());
    seen.push_back(e->value);
  }
  ASSERT_EQ(seen.size(), 1001u);
  EXPECT_EQ(seen.front(), -5);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST_F(DataPrimitives, ProtobufValuesRoundTrip) {
  auto m = GetMap<std::string, v1::MapEntry>(client(), "protos");
  ASSERT_TRUE(m.ok());
  v1::MapEntry msg;
  msg.set_key("inner");
  msg.set_value(std::string("\0\1\2", 3));
  msg.set_version(42);
  auto w = m->Put("x", msg);
  ASSERT_TRUE(w.ok()) << w.status();
  auto r = m->Get("x");
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->value.SerializeAsString(), msg.SerializeAsString());
  EXPECT_EQ((*r)->version, *w);
}

}  // namespace
}  // namespace atomix::testing
