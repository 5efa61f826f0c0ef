// IndexedMap through the public SDK against a real broker: every operation
// with its exact versions, indexes and codes; many threads inserting at once;
// watches (events, filters, resume, replay); and indexes that stay retired
// across a disk-store restart from a snapshot. Linearizability of histories
// from threads and processes: indexed_map_linearizability_test.cc.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/support/process.h"
#include "tests/support/scale.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::seconds;
using StringMap = IndexedMap<std::string, std::string>;
using StringEntry = IndexedEntry<std::string, std::string>;
using StringEvent = IndexedMapEvent<std::string, std::string>;
using IntMap = IndexedMap<int64_t, int64_t>;
using IntEntry = IndexedEntry<int64_t, int64_t>;

class IndexedMapIntegration : public BrokerTest {};

// "key@index=value" for an entry, or "none".
std::string Show(const std::optional<StringEntry>& e) {
  if (!e) return "none";
  return absl::StrCat(e->key, "@", e->index, "=", e->value);
}

std::string Show(const absl::StatusOr<std::optional<StringEntry>>& e) {
  if (!e.ok()) return e.status().ToString();
  return Show(*e);
}

std::vector<std::string> List(const StringMap& m, const IndexedListOptions& options = {}) {
  std::vector<std::string> out;
  for (const auto& e : m.Entries(options)) {
    if (!e.ok()) {
      out.push_back(e.status().ToString());
      break;
    }
    out.push_back(Show(std::optional<StringEntry>(*e)));
  }
  return out;
}

TEST_F(IndexedMapIntegration, EveryOperationWithExactVersionsIndexesAndCodes) {
  auto m = GetIndexedMap<std::string, std::string>(client(), "ops");
  ASSERT_TRUE(m.ok()) << m.status();
  // The memory store counts revisions from 1; opening takes none.
  EXPECT_EQ(*m->Put("a", "1"), 1);
  EXPECT_EQ(*m->Put("b", "2"), 2);
  EXPECT_EQ(*m->Put("c", "3"), 3);
  auto b = m->Get("b");
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ(**b, (StringEntry{2, "b", "2", 2}));
  EXPECT_EQ(Show(m->Get("zz")), "none");

  // Rewriting keeps the index; IfVersion compares the version.
  EXPECT_EQ(*m->Put("a", "4"), 4);
  auto stale = m->Put("a", "5", IfVersion(1));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition) << stale.status();
  EXPECT_EQ(CurrentVersion(stale.status()), 4);
  EXPECT_EQ(*m->Put("a", "5", IfVersion(4)), 5);
  EXPECT_EQ(Show(m->Get("a")), "a@1=5");
  auto absent = m->Put("y", "0", IfVersion(3));
  EXPECT_EQ(absent.status().code(), absl::StatusCode::kNotFound) << absent.status();

  // Insert, and Put with IfVersion(0), only if absent.
  auto dup = m->Insert("a", "x");
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists) << dup.status();
  EXPECT_NE(dup.status().message().find("index 1"), std::string::npos) << dup.status();
  EXPECT_EQ(m->Put("b", "x", IfVersion(0)).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*m->Put("x", "6", IfVersion(0)), 6);
  EXPECT_EQ(*m->Insert("w", "7"), 7);

  // Remove retires the index.
  auto wrong = m->Remove("b", IfVersion(9));
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(wrong.status()), 2);
  EXPECT_EQ(*m->Remove("b", IfVersion(2)), 8);
  EXPECT_EQ(*m->Remove("w"), 9);
  EXPECT_EQ(m->Remove("b").status().code(), absl::StatusCode::kNotFound);

  // Navigation across the gap at 2 (and 5 at the end).
  EXPECT_EQ(Show(m->First()), "a@1=5");
  EXPECT_EQ(Show(m->Last()), "x@4=6");
  EXPECT_EQ(Show(m->At(3)), "c@3=3");
  EXPECT_EQ(Show(m->At(2)), "none");
  EXPECT_EQ(Show(m->Next(0)), "a@1=5");
  EXPECT_EQ(Show(m->Next(1)), "c@3=3");
  EXPECT_EQ(Show(m->Next(4)), "none");
  EXPECT_EQ(Show(m->Prev(3)), "a@1=5");
  EXPECT_EQ(Show(m->Prev(1)), "none");
  EXPECT_EQ(Show(m->Prev(100)), "x@4=6");
  auto last = m->Last();
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->version, 6);
  EXPECT_EQ(*m->Size(), 3);

  // Listing in index order, from the start or after an index.
  EXPECT_EQ(List(*m), (std::vector<std::string>{"a@1=5", "c@3=3", "x@4=6"}));
  IndexedListOptions paged = AfterIndex(1);
  paged.page_size = 1;
  EXPECT_EQ(List(*m, paged), (std::vector<std::string>{"c@3=3", "x@4=6"}));
  EXPECT_TRUE(List(*m, AfterIndex(4)).empty());

  // A key put back comes at the end with a new index.
  EXPECT_EQ(*m->Put("b", "again"), 10);
  EXPECT_EQ(Show(m->Last()), "b@6=again");

  // Clear removes everything at one revision; indexes are not reused.
  EXPECT_EQ(*m->Clear(), 11);
  EXPECT_EQ(*m->Size(), 0);
  EXPECT_EQ(Show(m->First()), "none");
  EXPECT_EQ(*m->Clear(), 0);  // nothing to clear: no revision
  EXPECT_EQ(*m->Put("a", "new"), 12);
  EXPECT_EQ(Show(m->First()), "a@7=new");
}

TEST_F(IndexedMapIntegration, BadInputAndTypeConflicts) {
  auto m = GetIndexedMap<std::string, std::string>(client(), "bad");
  ASSERT_TRUE(m.ok()) << m.status();
  auto at = m->At(-1);
  EXPECT_EQ(at.status().code(), absl::StatusCode::kInvalidArgument) << at.status();
  EXPECT_NE(at.status().message().find("index is -1"), std::string::npos) << at.status();
  EXPECT_EQ(m->Prev(-5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->Put("", "v").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->Put(std::string(5000, 'k'), "v").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->Put("k", "v", IfVersion(-1)).status().code(), absl::StatusCode::kInvalidArgument);
  // Options the write does not take fail without a round trip.
  auto fenced = m->Put("k", "v", WriteOptions().IfFence("lock", 3));
  EXPECT_EQ(fenced.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fenced.status().message(), "indexed map \"bad\": Put does not take IfFence");
  EXPECT_EQ(m->Insert("k", "v", IfVersion(3)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->Put("k", "v", WithEphemeral()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->Remove("k", WithTTL(seconds(1))).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*m->Size(), 0);

  auto as_map = GetMap<std::string, std::string>(client(), "bad");
  EXPECT_EQ(as_map.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(as_map.status().message(), "\"bad\" is an indexed map, not a map");
  ASSERT_TRUE(GetCounter(client(), "count").ok());
  auto as_indexed = GetIndexedMap<std::string, std::string>(client(), "count");
  EXPECT_EQ(as_indexed.status().message(), "\"count\" is a counter, not an indexed map");

  // Stored bytes a codec cannot decode name the map and the key.
  ASSERT_TRUE(m->Put("short", "abc").ok());
  auto ints = GetIndexedMap<std::string, int64_t>(client(), "bad");
  ASSERT_TRUE(ints.ok());
  auto got = ints->Get("short");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find("(indexed map \"bad\", key \"short\")"), std::string::npos)
      << got.status();
}

TEST_F(IndexedMapIntegration, AsyncFormsAndIntegerKeys) {
  auto m = GetIndexedMap<int64_t, int64_t>(client(), "async");
  ASSERT_TRUE(m.ok()) << m.status();
  std::vector<Future<Version>> puts;
  for (int64_t i = 0; i < 50; ++i) puts.push_back(m->PutAsync(100 - i, i * i));
  Version previous = 0;
  for (auto& p : puts) {
    auto v = p.get();
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_GT(*v, previous);  // one stream, written in order
    previous = *v;
  }
  // Index order is insertion order, not key order.
  auto first = m->FirstAsync().get();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ(**first, (IntEntry{1, 100, 0, previous - 49}));
  auto at = m->AtAsync(50).get();
  ASSERT_TRUE(at.ok() && at->has_value());
  EXPECT_EQ((*at)->key, 51);
  EXPECT_EQ((*at)->value, 49 * 49);
  EXPECT_EQ((*m->NextAsync(10).get())->index, 11);
  EXPECT_EQ((*m->PrevAsync(10).get())->index, 9);
  EXPECT_EQ((*m->LastAsync().get())->key, 51);
  EXPECT_EQ((*m->GetAsync(90).get())->index, 11);
  EXPECT_EQ(*m->SizeAsync().get(), 50);
  EXPECT_TRUE(m->RemoveAsync(90).get().ok());
  EXPECT_TRUE(absl::IsAlreadyExists(m->InsertAsync(91, 0).get().status()));
  EXPECT_EQ((*m->NextAsync(10).get())->index, 12);
  EXPECT_GT(*m->ClearAsync().get(), previous);
  EXPECT_FALSE(m->FirstAsync().get()->has_value());
}

// Many threads insert distinct keys at once: every key gets its own index,
// the indexes are exactly 1..n, and index order is the order of the
// insertions' revisions. A listing of any size pages through them in order.
TEST_F(IndexedMapIntegration, ConcurrentInsertsGetUniqueIndexesInRevisionOrder) {
  constexpr int kThreads = 16;
  const int kPerThread = Scaled(1250);
  auto m = GetIndexedMap<std::string, int64_t>(client(), "concurrent");
  ASSERT_TRUE(m.ok()) << m.status();
  std::mutex mu;
  std::map<Version, std::string> by_version;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::pair<Version, std::string>> mine;
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = absl::StrFormat("t%02d/%05d", t, i);
        auto v = m->Insert(key, i);
        ASSERT_TRUE(v.ok()) << v.status();
        mine.emplace_back(*v, std::move(key));
      }
      std::lock_guard<std::mutex> l(mu);
      by_version.insert(mine.begin(), mine.end());
    });
  }
  for (auto& th : threads) th.join();
  const int total = kThreads * kPerThread;
  ASSERT_EQ(by_version.size(), static_cast<size_t>(total));
  ASSERT_EQ(*m->Size(), total);

  IndexedListOptions paged;
  paged.page_size = 333;
  int64_t expect_index = 1;
  auto in_order = by_version.begin();
  for (const auto& e : m->Entries(paged)) {
    ASSERT_TRUE(e.ok()) << e.status();
    ASSERT_EQ(e->index, expect_index);
    ASSERT_EQ(e->version, in_order->first);
    ASSERT_EQ(e->key, in_order->second);
    ++expect_index;
    ++in_order;
  }
  EXPECT_EQ(expect_index, total + 1);
}

// ---- Watches ----------------------------------------------------------------

std::optional<StringEvent> NextEvent(Channel<StringEvent>& ch) {
  auto e = ch.Receive(seconds(20));
  EXPECT_TRUE(e.has_value()) << "no event within 20 s";
  return e;
}

// "type key@index=value v<version>" of an event's entry or previous entry.
std::string Describe(const StringEvent& e) {
  const char* type = e.type == EventType::kInserted  ? "inserted"
                     : e.type == EventType::kUpdated ? "updated"
                     : e.type == EventType::kRemoved ? "removed"
                                                     : "other";
  std::string out = absl::StrCat(type, " @", e.revision);
  if (e.entry) absl::StrAppend(&out, " ", Show(e.entry), " v", e.entry->version);
  if (e.previous) absl::StrAppend(&out, " was ", Show(e.previous), " v", e.previous->version);
  return out;
}

TEST_F(IndexedMapIntegration, WatchDeliversEveryChangeWithIndexesInOrder) {
  auto m = GetIndexedMap<std::string, std::string>(client(), "watched");
  ASSERT_TRUE(m.ok()) << m.status();
  auto all = m->Watch();
  ASSERT_TRUE(all.ok()) << all.status();
  auto jobs = m->Watch(WithPrefix("job/"));
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  auto one = m->Watch("job/2");
  ASSERT_TRUE(one.ok()) << one.status();

  const Version v1 = *m->Put("job/1", "a");
  const Version v2 = *m->Put("other", "b");
  const Version v3 = *m->Put("job/2", "c");
  const Version v4 = *m->Put("job/1", "d");
  const Version v5 = *m->Remove("job/2");
  const Version v6 = *m->Clear();
  std::vector<std::string> expected_all = {
      absl::StrCat("inserted @", v1, " job/1@1=a v", v1),
      absl::StrCat("inserted @", v2, " other@2=b v", v2),
      absl::StrCat("inserted @", v3, " job/2@3=c v", v3),
      absl::StrCat("updated @", v4, " job/1@1=d v", v4, " was job/1@1=a v", v1),
      absl::StrCat("removed @", v5, " was job/2@3=c v", v3),
      absl::StrCat("removed @", v6, " was job/1@1=d v", v4),
      absl::StrCat("removed @", v6, " was other@2=b v", v2),
  };
  for (const std::string& want : expected_all) {
    auto e = NextEvent(*all);
    ASSERT_TRUE(e);
    EXPECT_EQ(Describe(*e), want);
  }
  for (size_t i : {0, 2, 3, 4, 5}) {
    auto e = NextEvent(*jobs);
    ASSERT_TRUE(e);
    EXPECT_EQ(Describe(*e), expected_all[i]);
  }
  for (size_t i : {2, 4}) {
    auto e = NextEvent(*one);
    ASSERT_TRUE(e);
    EXPECT_EQ(Describe(*e), expected_all[i]);
  }
  EXPECT_FALSE(jobs->TryReceive().has_value());
  EXPECT_FALSE(one->TryReceive().has_value());

  // Resuming from a revision delivers everything from there on.
  auto resumed = m->Watch(WithStartVersion(v4));
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  for (size_t i = 3; i < expected_all.size(); ++i) {
    auto e = NextEvent(*resumed);
    ASSERT_TRUE(e);
    EXPECT_EQ(Describe(*e), expected_all[i]);
  }
}

TEST_F(IndexedMapIntegration, ReplaySnapshotListsEntriesInIndexOrder) {
  auto m = GetIndexedMap<std::string, std::string>(client(), "replayed");
  ASSERT_TRUE(m.ok()) << m.status();
  const Version z = *m->Put("job/z", "1");
  ASSERT_TRUE(m->Put("job/y", "2").ok());
  const Version x = *m->Put("x", "3");
  const Version z2 = *m->Put("job/z", "4");  // keeps index 1
  const Version removed = *m->Remove("job/y");
  const Version a = *m->Put("job/a", "5");
  ASSERT_GT(z2, z);

  auto replay = m->Watch(WithReplay());
  ASSERT_TRUE(replay.ok()) << replay.status();
  for (const std::string& want : {absl::StrCat("inserted @", a, " job/z@1=4 v", z2),
                                  absl::StrCat("inserted @", a, " x@3=3 v", x),
                                  absl::StrCat("inserted @", a, " job/a@4=5 v", a)}) {
    auto e = NextEvent(*replay);
    ASSERT_TRUE(e);
    EXPECT_EQ(Describe(*e), want);
  }
  WatchOptions prefixed = WithReplay();
  prefixed.prefix = "job/";
  auto jobs = m->Watch(prefixed);
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  for (const std::string& want : {absl::StrCat("inserted @", a, " job/z@1=4 v", z2),
                                  absl::StrCat("inserted @", a, " job/a@4=5 v", a)}) {
    auto e = NextEvent(*jobs);
    ASSERT_TRUE(e);
    EXPECT_EQ(Describe(*e), want);
  }
  // Then live changes.
  const Version b = *m->Put("job/b", "6");
  for (Channel<StringEvent>* ch : {&*replay, &*jobs}) {
    auto e = NextEvent(*ch);
    ASSERT_TRUE(e);
    EXPECT_EQ(Describe(*e), absl::StrCat("inserted @", b, " job/b@5=6 v", b));
  }
  EXPECT_GT(b, removed);
}

// ---- Durability ---------------------------------------------------------------

class IndexedMapOnDisk : public BrokerTest {
 protected:
  BrokerProcess::Options BrokerOptions() override {
    dir_ = MakeTempDir("indexed-map-disk");
    BrokerProcess::Options o;
    o.args = {"--store", "disk", "--data-dir", dir_, "--snapshot-records", "5"};
    return o;
  }
  // The broker goes first: it may be writing a snapshot into the dir.
  void TearDown() override {
    client_.reset();
    broker_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

// The broker restarts from a snapshot plus its log: entries keep their
// indexes, and the indexes of removed and cleared keys stay retired.
TEST_F(IndexedMapOnDisk, IndexesSurviveARestartAndStayRetired) {
  auto m = GetIndexedMap<std::string, std::string>(client(), "durable");
  ASSERT_TRUE(m.ok()) << m.status();
  for (int i = 1; i <= 12; ++i) ASSERT_TRUE(m->Put(absl::StrCat("k", i), "v").ok());
  ASSERT_TRUE(m->Remove("k12").ok());  // index 12 retired
  ASSERT_TRUE(m->Remove("k1").ok());
  const std::vector<std::string> before = List(*m);
  ASSERT_EQ(before.size(), 10u);

  ASSERT_EQ(broker().Stop(), 0);
  ASSERT_TRUE(broker().Restart().ok());
  EXPECT_EQ(List(*m, WithTimeout(seconds(15))), before);
  EXPECT_EQ(Show(m->First()), "k2@2=v");
  ASSERT_TRUE(m->Put("k1", "back").ok());
  EXPECT_EQ(Show(m->Last()), "k1@13=back");

  ASSERT_TRUE(m->Clear().ok());
  ASSERT_EQ(broker().Stop(), 0);
  ASSERT_TRUE(broker().Restart().ok());
  ASSERT_TRUE(m->Put("k2", "new", WithTimeout(seconds(15))).ok());
  EXPECT_EQ(Show(m->First()), "k2@14=new");
  EXPECT_EQ(*m->Size(), 1);
}

}  // namespace
}  // namespace atomix::testing
