// MultiMapState: the pure multimap state machine, driven with a fixed
// logical time and no store: set semantics per key, versions, paged Get and
// List, events, snapshots, Save/Load and validation.
#include "broker-sim/src/state/multi_map.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::MakeRequest;
using testing::StateDriver;

constexpr int kOk = 0;
constexpr int kInvalidArgument = 3;

// (key, value, version) of an entry, for comparisons.
using Triple = std::tuple<std::string, std::string, int64_t>;

Triple Of(const v1::MapEntry& e) {
  EXPECT_EQ(e.index(), 0);
  return {e.key(), e.value(), e.version()};
}

std::vector<Triple> Triples(
    const google::protobuf::RepeatedPtrField<v1::MapEntry>& entries) {
  std::vector<Triple> out;
  for (const v1::MapEntry& e : entries) out.push_back(Of(e));
  return out;
}

std::string PutText(const std::string& key, const std::string& value) {
  return absl::StrFormat(R"pb(multi_map { put { key: "%s" value: "%s" } })pb",
                         key, value);
}

std::string RemoveText(const std::string& key, const std::string& value) {
  return absl::StrFormat(
      R"pb(multi_map { remove { key: "%s" value: "%s" } })pb", key, value);
}

std::string GetText(const std::string& key, const std::string& after,
                    uint32_t limit) {
  return absl::StrFormat(
      R"pb(multi_map { get { key: "%s" start_after: "%s" limit: %d } })pb", key,
      after, limit);
}

std::string ListText(const std::string& prefix, const std::string& after_key,
                     const std::string& after_value, uint32_t limit) {
  return absl::StrFormat(
      R"pb(multi_map {
             list {
               prefix: "%s"
               start_after_key: "%s"
               start_after_value: "%s"
               limit: %d
             }
           })pb",
      prefix, after_key, after_value, limit);
}

// A driver holding tags -> {a, b, c} (revisions 1-3) and owners -> {x}
// (revision 4).
StateDriver Filled() {
  StateDriver mm(v1::MULTI_MAP, "tags");
  mm.Apply(PutText("tags", "a"));
  mm.Apply(PutText("tags", "b"));
  mm.Apply(PutText("tags", "c"));
  mm.Apply(PutText("owners", "x"));
  return mm;
}

TEST(BrokerMultiMap, PutAddsEachValueOnce) {
  StateDriver mm(v1::MULTI_MAP, "tags");
  v1::Response r = mm.Apply(PutText("k", "v1"));
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_TRUE(r.multi_map().changed());
  EXPECT_EQ(r.multi_map().version(), 1);
  EXPECT_EQ(r.revision(), 1);
  ASSERT_EQ(mm.last_events().size(), 1u);
  EXPECT_EQ(mm.last_events()[0].type(), v1::WatchEvent::INSERTED);
  EXPECT_EQ(mm.last_events()[0].revision(), 1);
  EXPECT_EQ(Of(mm.last_events()[0].entry()), Triple("k", "v1", 1));
  EXPECT_FALSE(mm.last_events()[0].has_previous());

  r = mm.Apply(PutText("k", "v2"));
  EXPECT_TRUE(r.multi_map().changed());
  EXPECT_EQ(r.multi_map().version(), 2);

  // Again: nothing changes, and the answer is the version that added it.
  r = mm.Apply(PutText("k", "v1"));
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_FALSE(r.multi_map().changed());
  EXPECT_EQ(r.multi_map().version(), 1);
  EXPECT_EQ(r.revision(), 2);
  EXPECT_FALSE(mm.last_mutated());
  EXPECT_TRUE(mm.last_events().empty());

  // The same value under another key is another pair.
  r = mm.Apply(PutText("j", "v1"));
  EXPECT_TRUE(r.multi_map().changed());
  EXPECT_EQ(r.multi_map().version(), 3);
  EXPECT_EQ(mm.Apply("multi_map { size {} }").multi_map().size(), 3);
}

TEST(BrokerMultiMap, RemoveOneValue) {
  StateDriver mm = Filled();
  v1::Response r = mm.Apply(RemoveText("tags", "zz"));
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_FALSE(r.multi_map().changed());
  EXPECT_EQ(r.multi_map().version(), 0);
  EXPECT_EQ(r.revision(), 4);
  EXPECT_FALSE(mm.last_mutated());
  EXPECT_FALSE(mm.Apply(RemoveText("nokey", "a")).multi_map().changed());

  r = mm.Apply(RemoveText("tags", "b"));
  EXPECT_TRUE(r.multi_map().changed());
  EXPECT_EQ(r.multi_map().version(), 5);
  EXPECT_EQ(r.revision(), 5);
  ASSERT_EQ(mm.last_events().size(), 1u);
  const v1::WatchEvent& e = mm.last_events()[0];
  EXPECT_EQ(e.type(), v1::WatchEvent::REMOVED);
  EXPECT_EQ(e.revision(), 5);
  EXPECT_FALSE(e.has_entry());
  EXPECT_EQ(Of(e.previous()), Triple("tags", "b", 2));
  EXPECT_EQ(mm.Apply("multi_map { size {} }").multi_map().size(), 3);
  EXPECT_EQ(Triples(mm.Apply(GetText("tags", "", 0)).multi_map().entries()),
            (std::vector<Triple>{{"tags", "a", 1}, {"tags", "c", 3}}));
}

TEST(BrokerMultiMap, AKeyWithNoValuesDoesNotExist) {
  StateDriver mm(v1::MULTI_MAP, "tags");
  const std::string has_k = R"pb(multi_map { contains { key: "k" } })pb";
  EXPECT_FALSE(mm.Apply(has_k).multi_map().contains());
  mm.Apply(PutText("k", "v"));
  mm.Apply(PutText("ka", "v"));  // a longer key that sorts right after
  EXPECT_TRUE(mm.Apply(has_k).multi_map().contains());
  mm.Apply(RemoveText("k", "v"));
  EXPECT_FALSE(mm.Apply(has_k).multi_map().contains());
  v1::Response r = mm.Apply(GetText("k", "", 0));
  EXPECT_EQ(r.multi_map().entries_size(), 0);
  EXPECT_FALSE(r.multi_map().more());
  EXPECT_TRUE(mm.Apply(R"pb(multi_map { contains { key: "ka" } })pb")
                  .multi_map()
                  .contains());
}

TEST(BrokerMultiMap, ContainsAPair) {
  StateDriver mm = Filled();
  const auto contains = [&](const std::string& key, const std::string& value) {
    return mm
        .Apply(absl::StrFormat(
            R"pb(multi_map { contains { key: "%s" value: "%s" } })pb", key,
            value))
        .multi_map()
        .contains();
  };
  EXPECT_TRUE(contains("tags", "a"));
  EXPECT_TRUE(contains("owners", "x"));
  EXPECT_FALSE(contains("tags", "x"));
  EXPECT_FALSE(contains("owners", "a"));
  EXPECT_FALSE(contains("nokey", "a"));
  EXPECT_FALSE(mm.last_mutated());
  EXPECT_EQ(mm.revision(), 4);
}

TEST(BrokerMultiMap, RemoveKeyRemovesEveryValueAtOneRevision) {
  StateDriver mm = Filled();
  v1::Response r = mm.Apply(R"pb(multi_map { remove_key { key: "nokey" } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.multi_map().size(), 0);
  EXPECT_EQ(r.multi_map().version(), 0);
  EXPECT_FALSE(mm.last_mutated());
  EXPECT_EQ(r.revision(), 4);

  r = mm.Apply(R"pb(multi_map { remove_key { key: "tags" } })pb");
  EXPECT_EQ(r.multi_map().size(), 3);
  EXPECT_EQ(r.multi_map().version(), 5);
  EXPECT_EQ(r.revision(), 5);
  std::vector<Triple> removed;
  for (const v1::WatchEvent& e : mm.last_events()) {
    EXPECT_EQ(e.type(), v1::WatchEvent::REMOVED);
    EXPECT_EQ(e.revision(), 5);
    EXPECT_FALSE(e.has_entry());
    removed.push_back(Of(e.previous()));
  }
  EXPECT_EQ(removed,
            (std::vector<Triple>{
                {"tags", "a", 1}, {"tags", "b", 2}, {"tags", "c", 3}}));
  EXPECT_EQ(mm.Apply("multi_map { size {} }").multi_map().size(), 1);
  EXPECT_TRUE(mm.Apply(R"pb(multi_map { contains { key: "owners" } })pb")
                  .multi_map()
                  .contains());
}

TEST(BrokerMultiMap, ClearTakesARevisionOnlyWhenNotEmpty) {
  StateDriver mm(v1::MULTI_MAP, "tags");
  v1::Response r = mm.Apply("multi_map { clear {} }");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.multi_map().size(), 0);
  EXPECT_EQ(r.multi_map().version(), 0);
  EXPECT_FALSE(mm.last_mutated());

  mm = Filled();
  r = mm.Apply("multi_map { clear {} }");
  EXPECT_EQ(r.multi_map().size(), 4);
  EXPECT_EQ(r.multi_map().version(), 5);
  EXPECT_EQ(r.revision(), 5);
  std::vector<Triple> removed;
  for (const v1::WatchEvent& e : mm.last_events()) {
    EXPECT_EQ(e.type(), v1::WatchEvent::REMOVED);
    EXPECT_EQ(e.revision(), 5);
    removed.push_back(Of(e.previous()));
  }
  EXPECT_EQ(removed, (std::vector<Triple>{{"owners", "x", 4},
                                          {"tags", "a", 1},
                                          {"tags", "b", 2},
                                          {"tags", "c", 3}}));
  EXPECT_EQ(mm.Apply("multi_map { size {} }").multi_map().size(), 0);
  EXPECT_EQ(mm.Snapshot().entries_size(), 0);
}

TEST(BrokerMultiMap, GetPagesThroughOneKeysValuesInOrder) {
  StateDriver mm(v1::MULTI_MAP, "tags");
  for (const char* v : {"d", "b", "a", "c", "e"}) mm.Apply(PutText("k", v));
  mm.Apply(PutText("j", "z"));   // before k
  mm.Apply(PutText("kk", "a"));  // after k, and k is its prefix

  v1::Response r = mm.Apply(GetText("k", "", 2));
  EXPECT_EQ(Triples(r.multi_map().entries()),
            (std::vector<Triple>{{"k", "a", 3}, {"k", "b", 2}}));
  EXPECT_TRUE(r.multi_map().more());
  r = mm.Apply(GetText("k", "b", 2));
  EXPECT_EQ(Triples(r.multi_map().entries()),
            (std::vector<Triple>{{"k", "c", 4}, {"k", "d", 1}}));
  EXPECT_TRUE(r.multi_map().more());
  r = mm.Apply(GetText("k", "d", 2));
  EXPECT_EQ(Triples(r.multi_map().entries()),
            (std::vector<Triple>{{"k", "e", 5}}));
  EXPECT_FALSE(r.multi_map().more());
  // start_after need not be a value of the key.
  r = mm.Apply(GetText("k", "bb", 0));
  EXPECT_EQ(r.multi_map().entries_size(), 3);
  r = mm.Apply(GetText("k", "e", 0));
  EXPECT_EQ(r.multi_map().entries_size(), 0);
  EXPECT_FALSE(r.multi_map().more());
  EXPECT_EQ(mm.revision(), 7);  // reads take no revision
}

TEST(BrokerMultiMap, GetStopsAtThePageByteLimit) {
  Limits limits;
  limits.max_page_bytes = 10;
  StateDriver mm(v1::MULTI_MAP, "tags", limits);
  for (const char* v : {"aaaa", "bbbb", "cccc", "dddddddddddddddd"}) {
    mm.Apply(PutText("k", v));
  }
  // 1 + 4 = 5 bytes a pair: two fit in 10.
  v1::Response r = mm.Apply(GetText("k", "", 0));
  EXPECT_EQ(r.multi_map().entries_size(), 2);
  EXPECT_TRUE(r.multi_map().more());
  r = mm.Apply(GetText("k", "cccc", 0));
  EXPECT_EQ(r.multi_map().entries_size(), 1);  // over the limit, still sent
  EXPECT_FALSE(r.multi_map().more());
}

TEST(BrokerMultiMap, ListOrdersByKeyThenValueAndHonorsPrefix) {
  StateDriver mm(v1::MULTI_MAP, "tags");
  mm.Apply(PutText("b", "2"));    // 1
  mm.Apply(PutText("a/x", "2"));  // 2
  mm.Apply(PutText("a/x", "1"));  // 3
  mm.Apply(PutText("a", "9"));    // 4
  mm.Apply(PutText("a/y", "1"));  // 5
  mm.Apply(PutText("ab", "1"));   // 6
  v1::Response r = mm.Apply(ListText("", "", "", 0));
  EXPECT_EQ(Triples(r.multi_map().entries()),
            (std::vector<Triple>{{"a", "9", 4},
                                 {"a/x", "1", 3},
                                 {"a/x", "2", 2},
                                 {"a/y", "1", 5},
                                 {"ab", "1", 6},
                                 {"b", "2", 1}}));
  EXPECT_FALSE(r.multi_map().more());

  r = mm.Apply(ListText("a/", "", "", 2));
  EXPECT_EQ(Triples(r.multi_map().entries()),
            (std::vector<Triple>{{"a/x", "1", 3}, {"a/x", "2", 2}}));
  EXPECT_TRUE(r.multi_map().more());
  // The next page starts after the last pair: within a key, then on.
  r = mm.Apply(ListText("a/", "a/x", "1", 2));
  EXPECT_EQ(Triples(r.multi_map().entries()),
            (std::vector<Triple>{{"a/x", "2", 2}, {"a/y", "1", 5}}));
  EXPECT_FALSE(r.multi_map().more());
  // A start before the prefix starts at the prefix; past it, nothing.
  r = mm.Apply(ListText("a/", "0", "z", 10));
  EXPECT_EQ(r.multi_map().entries_size(), 3);
  r = mm.Apply(ListText("a/", "b", "", 10));
  EXPECT_EQ(r.multi_map().entries_size(), 0);
  EXPECT_FALSE(r.multi_map().more());
  // A key with an empty value: every pair of that key follows.
  r = mm.Apply(ListText("", "a/x", "", 10));
  EXPECT_EQ(r.multi_map().entries_size(), 5);
}

TEST(BrokerMultiMap, ListLimitDefaultsCapsAndByteLimit) {
  Limits limits;
  limits.default_page_size = 4;
  limits.max_page_size = 6;
  limits.max_page_bytes = 100;
  StateDriver mm(v1::MULTI_MAP, "tags", limits);
  for (int i = 0; i < 20; ++i)
    mm.Apply(PutText("k", absl::StrFormat("%02d", i)));
  EXPECT_EQ(mm.Apply(ListText("", "", "", 0)).multi_map().entries_size(), 4);
  EXPECT_EQ(mm.Apply(ListText("", "", "", 5)).multi_map().entries_size(), 5);
  EXPECT_EQ(mm.Apply(ListText("", "", "", 9999)).multi_map().entries_size(), 6);
  mm.Apply(PutText("big", std::string(60, 'v')));
  mm.Apply(PutText("big", std::string(61, 'v')));
  // 63 and 64 bytes: one pair a page.
  v1::Response r = mm.Apply(ListText("big", "", "", 0));
  EXPECT_EQ(r.multi_map().entries_size(), 1);
  EXPECT_TRUE(r.multi_map().more());
}

// Pages through one key's 30,000 values and through a prefix of 100,000
// pairs: every pair comes back once, in order, and nothing else does.
TEST(BrokerMultiMap, PagingLargeKeysAndPrefixes) {
  StateDriver mm(v1::MULTI_MAP, "tags");
  std::vector<std::pair<std::string, std::string>> expected;
  v1::Request put = MakeRequest(v1::MULTI_MAP, "tags", "multi_map { put {} }");
  for (int i = 0; i < 100000; ++i) {
    const std::string key = absl::StrFormat("%s%d", i % 2 ? "p/" : "q/", i % 7);
    const std::string value = absl::StrFormat("v%06d", i);
    put.mutable_multi_map()->mutable_put()->set_key(key);
    put.mutable_multi_map()->mutable_put()->set_value(value);
    mm.ApplyRequest(put);
    if (i % 2) expected.emplace_back(key, value);
  }
  std::sort(expected.begin(), expected.end());
  std::vector<std::pair<std::string, std::string>> seen;
  std::string after_key, after_value;
  while (true) {
    v1::Response r = mm.Apply(ListText("p/", after_key, after_value, 777));
    ASSERT_EQ(r.error().code(), kOk);
    for (const v1::MapEntry& e : r.multi_map().entries()) {
      seen.emplace_back(e.key(), e.value());
    }
    if (!r.multi_map().more()) break;
    ASSERT_GT(r.multi_map().entries_size(), 0);
    after_key = seen.back().first;
    after_value = seen.back().second;
  }
  EXPECT_EQ(seen, expected);

  std::vector<std::string> values;
  std::string after;
  while (true) {
    v1::Response r = mm.Apply(GetText("p/3", after, 1000));
    for (const v1::MapEntry& e : r.multi_map().entries()) {
      ASSERT_EQ(e.key(), "p/3");
      ASSERT_TRUE(values.empty() || values.back() < e.value());
      values.push_back(e.value());
    }
    if (!r.multi_map().more()) break;
    after = values.back();
  }
  size_t expected_values = 0;
  for (const auto& [k, v] : expected) expected_values += k == "p/3";
  EXPECT_EQ(values.size(), expected_values);
  EXPECT_EQ(mm.revision(), 100000);
}

TEST(BrokerMultiMap, SnapshotFiltersByKeyAndPrefix) {
  StateDriver mm = Filled();
  mm.Apply(PutText("tagsx", "q"));  // 5
  EXPECT_EQ(Triples(mm.Snapshot().entries()),
            (std::vector<Triple>{{"owners", "x", 4},
                                 {"tags", "a", 1},
                                 {"tags", "b", 2},
                                 {"tags", "c", 3},
                                 {"tagsx", "q", 5}}));
  WatchFilter one;
  one.key = "tags";
  EXPECT_EQ(Triples(mm.Snapshot(one).entries()),
            (std::vector<Triple>{
                {"tags", "a", 1}, {"tags", "b", 2}, {"tags", "c", 3}}));
  WatchFilter prefix;
  prefix.prefix = "tag";
  EXPECT_EQ(mm.Snapshot(prefix).entries_size(), 4);
  prefix.prefix = "own";
  EXPECT_EQ(Triples(mm.Snapshot(prefix).entries()),
            (std::vector<Triple>{{"owners", "x", 4}}));
  one.key = "nokey";
  EXPECT_EQ(mm.Snapshot(one).entries_size(), 0);
}

TEST(BrokerMultiMap, EventsMatchWatchFilters) {
  StateDriver mm = Filled();
  mm.Apply(R"pb(multi_map { remove_key { key: "tags" } })pb");
  WatchFilter filter;
  filter.key = "tags";
  for (const v1::WatchEvent& e : mm.last_events()) {
    EXPECT_TRUE(filter.Matches(e));
  }
  filter.key = "owners";
  for (const v1::WatchEvent& e : mm.last_events()) {
    EXPECT_FALSE(filter.Matches(e));
  }
}

TEST(BrokerMultiMap, SaveThenLoadGivesTheSameState) {
  StateDriver mm = Filled();
  v1::Request put = MakeRequest(v1::MULTI_MAP, "tags", "multi_map { put {} }");
  put.mutable_multi_map()->mutable_put()->set_key(std::string("\x01\xff", 2));
  put.mutable_multi_map()->mutable_put()->set_value(std::string("\x00\x80", 2));
  ASSERT_TRUE(mm.ApplyRequest(put).multi_map().changed());
  atomix::log::v1::PrimitiveSave save;
  mm.machine().Save(save);
  ASSERT_TRUE(save.has_multi_map());
  EXPECT_EQ(save.multi_map().pairs_size(), 5);

  MultiMapState loaded;
  ASSERT_TRUE(loaded.Load(save).ok());
  EXPECT_EQ(loaded.pairs(), static_cast<MultiMapState&>(mm.machine()).pairs());
  v1::WatchSnapshot a = mm.Snapshot(), b;
  loaded.Snapshot(WatchFilter{}, b);
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());

  atomix::log::v1::PrimitiveSave wrong;
  wrong.mutable_set();
  absl::Status status = MultiMapState().Load(wrong);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status.message(), "the saved primitive holds no multimap state");

  atomix::log::v1::PrimitiveSave twice;
  for (int i = 0; i < 2; ++i) {
    auto* p = twice.mutable_multi_map()->add_pairs();
    p->set_key("k");
    p->set_value("v");
    p->set_version(1 + i);
  }
  status = MultiMapState().Load(twice);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status.message(),
            "the saved multimap holds the pair of key \"k\" twice");
  atomix::log::v1::PrimitiveSave empty;
  empty.mutable_multi_map()->add_pairs()->set_key("k");
  status = MultiMapState().Load(empty);
  EXPECT_EQ(status.message(),
            "the saved multimap holds a pair with an empty key or value");
}

TEST(BrokerMultiMap, ValidationNamesTheField) {
  Limits limits;
  limits.max_key_bytes = 8;
  limits.max_value_bytes = 10;
  const auto check = [&](const std::string& op) {
    return MultiMapPrimitive().validate(MakeRequest(v1::MULTI_MAP, "tags", op),
                                        limits);
  };
  const std::string long_key = std::string(9, 'k');
  const std::string long_value = std::string(11, 'v');
  const std::vector<std::pair<std::string, std::string>> bad = {
      {PutText("", "v"), "key is empty"},
      {PutText("k", ""), "value is empty"},
      {PutText(long_key, "v"), "key is 9 bytes; the limit is 8"},
      {PutText("k", long_value), "value is 11 bytes; the limit is 10"},
      {RemoveText("", "v"), "key is empty"},
      {RemoveText("k", ""), "value is empty"},
      {R"pb(multi_map { remove_key {} })pb", "key is empty"},
      {R"pb(multi_map { contains {} })pb", "key is empty"},
      {R"pb(multi_map { contains { key: "k" value: "" } })pb",
       "value is empty"},
      {R"pb(multi_map { get {} })pb", "key is empty"},
      {GetText("k", long_value, 0), "start_after is 11 bytes; the limit is 10"},
      {ListText(long_key, "", "", 0), "prefix is 9 bytes; the limit is 8"},
      {ListText("", long_key, "", 0),
       "start_after_key is 9 bytes; the limit is 8"},
      {ListText("", "k", long_value, 0),
       "start_after_value is 11 bytes; the limit is 10"},
      {"multi_map {}", "multimap request has no operation"},
  };
  for (const auto& [op, message] : bad) {
    absl::Status status = check(op);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << op;
    EXPECT_EQ(status.message(), message) << op;
  }
  for (const std::string& op :
       {PutText(std::string(8, 'k'), std::string(10, 'v')),
        std::string(R"pb(multi_map { contains { key: "k" } })pb"),
        GetText("k", "", 0), ListText("", "", "", 0),
        std::string("multi_map { size {} }"),
        std::string("multi_map { clear {} }")}) {
    EXPECT_TRUE(check(op).ok()) << op;
  }
}

TEST(BrokerMultiMap, SpecMarksReadsAndKeyFilters) {
  const PrimitiveSpec& spec = MultiMapPrimitive();
  EXPECT_EQ(spec.name, "multimap");
  EXPECT_TRUE(spec.key_filters);
  EXPECT_FALSE(spec.has_timers);
  EXPECT_EQ(spec.fence_of, nullptr);
  EXPECT_EQ(spec.session_owned, nullptr);
  const auto is_read = [&](const std::string& op) {
    return spec.is_read(MakeRequest(v1::MULTI_MAP, "tags", op));
  };
  EXPECT_TRUE(is_read(R"pb(multi_map { contains { key: "k" } })pb"));
  EXPECT_TRUE(is_read(GetText("k", "", 0)));
  EXPECT_TRUE(is_read("multi_map { size {} }"));
  EXPECT_TRUE(is_read(ListText("", "", "", 0)));
  EXPECT_FALSE(is_read(PutText("k", "v")));
  EXPECT_FALSE(is_read(RemoveText("k", "v")));
  EXPECT_FALSE(is_read(R"pb(multi_map { remove_key { key: "k" } })pb"));
  EXPECT_FALSE(is_read("multi_map { clear {} }"));
}

TEST(BrokerMultiMap, RejectsForeignOperations) {
  StateDriver mm(v1::MULTI_MAP, "tags");
  v1::Response r = mm.Apply("map { size {} }");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "multimap \"tags\": not a multimap operation");
  r = mm.Apply("multi_map {}");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "multimap \"tags\": request has no operation");
}

// Through the whole broker: the name is bound to the multimap type, and
// writes take broker revisions shared with other primitives.
TEST(BrokerMultiMap, BrokerBindsTheNameAndSharesRevisions) {
  testing::BrokerDriver broker;
  v1::Response r =
      broker.Apply(v1::MULTI_MAP, "tags", PutText("k", "v"), 0, 0, 1, 1);
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.multi_map().version(), 1);
  r = broker.Apply(v1::MAP, "tags", "map { size {} }");
  EXPECT_EQ(r.error().code(), 9);
  EXPECT_EQ(r.error().message(), "\"tags\" is a multimap, not a map");
  broker.Apply(v1::COUNTER, "c", "counter { add { delta: 1 } }");
  r = broker.Apply(v1::MULTI_MAP, "tags", PutText("k", "w"));
  EXPECT_EQ(r.multi_map().version(), 3);
}

TEST(BrokerMultiMap, DescribeCountsTheValues) {
  StateDriver mm(v1::MULTI_MAP, "tags");
  EXPECT_EQ(mm.Describe().summary(), "0 values");
  mm.Apply(R"pb(multi_map { put { key: "a" value: "1" } })pb");
  EXPECT_EQ(mm.Describe().summary(), "1 value");
  mm.Apply(R"pb(multi_map { put { key: "a" value: "2" } })pb");
  mm.Apply(R"pb(multi_map { put { key: "b" value: "1" } })pb");
  const v1::PrimitiveInfo info = mm.Describe();
  EXPECT_EQ(info.summary(), "3 values");
  EXPECT_EQ(info.holders_size(), 0);
  EXPECT_EQ(info.waiters_size(), 0);
}

}  // namespace
}  // namespace atomix::broker
