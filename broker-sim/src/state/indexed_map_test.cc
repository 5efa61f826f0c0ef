// IndexedMapState: the pure indexed map state machine, driven with a fixed
// logical time and no store: indexes that are never reused and never move,
// versions and preconditions, navigation, paging, events, snapshots, Save
// and Load (also through a whole engine snapshot), and validation.
#include "broker-sim/src/state/indexed_map.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "broker-sim/src/core/validate.h"
#include "broker-sim/src/engine/engine.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::MakeRequest;
using testing::StateDriver;

constexpr int kOk = 0;
constexpr int kInvalidArgument = 3;
constexpr int kNotFound = 5;
constexpr int kAlreadyExists = 6;
constexpr int kFailedPrecondition = 9;

v1::Request Put(const std::string& key, const std::string& value) {
  v1::Request request;
  request.set_type(v1::INDEXED_MAP);
  request.set_name("q");
  v1::IndexedMapPut* put = request.mutable_indexed_map()->mutable_put();
  put->set_key(key);
  put->set_value(value);
  return request;
}

v1::Request List(int64_t after_index, uint32_t limit) {
  v1::Request request;
  request.set_type(v1::INDEXED_MAP);
  request.set_name("q");
  v1::IndexedMapList* list = request.mutable_indexed_map()->mutable_list();
  list->set_after_index(after_index);
  list->set_limit(limit);
  return request;
}

std::string Navigate(const char* where, int64_t index = 0) {
  return absl::StrFormat("indexed_map { navigate { where: %s index: %d } }",
                         where, index);
}

// "key@index" for each entry of a response page or snapshot.
template <class Entries>
std::vector<std::string> Keys(const Entries& entries) {
  std::vector<std::string> out;
  for (const v1::MapEntry& e : entries) {
    out.push_back(absl::StrFormat("%s@%d", e.key(), e.index()));
  }
  return out;
}

StateDriver Filled(std::initializer_list<const char*> keys) {
  StateDriver map(v1::INDEXED_MAP, "q");
  for (const char* key : keys)
    map.ApplyRequest(Put(key, std::string("v-") + key));
  return map;
}

TEST(BrokerIndexedMap, PutGivesIndexesInInsertionOrderAndKeepsThemOnWrite) {
  StateDriver map(v1::INDEXED_MAP, "q");
  v1::Response r =
      map.Apply(R"pb(indexed_map { put { key: "b" value: "1" } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.indexed_map().version(), 1);
  EXPECT_FALSE(r.indexed_map().present());
  EXPECT_FALSE(r.indexed_map().has_entry());
  EXPECT_EQ(r.revision(), 1);
  map.Apply(R"pb(indexed_map { put { key: "a" value: "2" } })pb");

  // A write of a present key returns the previous entry, index included,
  // and keeps the index.
  r = map.Apply(R"pb(indexed_map { put { key: "b" value: "3" } })pb");
  EXPECT_EQ(r.indexed_map().version(), 3);
  EXPECT_TRUE(r.indexed_map().present());
  EXPECT_EQ(r.indexed_map().entry().key(), "b");
  EXPECT_EQ(r.indexed_map().entry().value(), "1");
  EXPECT_EQ(r.indexed_map().entry().version(), 1);
  EXPECT_EQ(r.indexed_map().entry().index(), 1);

  r = map.Apply(R"pb(indexed_map { get { key: "b" } })pb");
  EXPECT_TRUE(r.indexed_map().present());
  EXPECT_EQ(r.indexed_map().entry().value(), "3");
  EXPECT_EQ(r.indexed_map().entry().version(), 3);
  EXPECT_EQ(r.indexed_map().entry().index(), 1);
  EXPECT_EQ(r.revision(), 3);
  r = map.Apply(R"pb(indexed_map { get { key: "a" } })pb");
  EXPECT_EQ(r.indexed_map().entry().index(), 2);
  EXPECT_EQ(r.indexed_map().entry().version(), 2);

  r = map.Apply(R"pb(indexed_map { get { key: "zz" } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_FALSE(r.indexed_map().present());
  EXPECT_FALSE(map.last_mutated());

  // Listing follows the indexes, not the keys.
  EXPECT_EQ(Keys(map.ApplyRequest(List(0, 0)).indexed_map().entries()),
            (std::vector<std::string>{"b@1", "a@2"}));
}

TEST(BrokerIndexedMap, RemovedKeysComeBackAtTheEndWithANewIndex) {
  StateDriver map = Filled({"a", "b", "c"});
  v1::Response r = map.Apply(R"pb(indexed_map { remove { key: "a" } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.indexed_map().version(), 4);
  EXPECT_TRUE(r.indexed_map().present());
  EXPECT_EQ(r.indexed_map().entry().key(), "a");
  EXPECT_EQ(r.indexed_map().entry().value(), "v-a");
  EXPECT_EQ(r.indexed_map().entry().version(), 1);
  EXPECT_EQ(r.indexed_map().entry().index(), 1);

  map.Apply(R"pb(indexed_map { remove { key: "c" } })pb");
  r = map.Apply(R"pb(indexed_map { put { key: "a" value: "again" } })pb");
  EXPECT_FALSE(r.indexed_map().present());
  // Index 3 (c's) is not reused either: the next index is 4.
  EXPECT_EQ(Keys(map.ApplyRequest(List(0, 0)).indexed_map().entries()),
            (std::vector<std::string>{"b@2", "a@4"}));
  EXPECT_EQ(static_cast<IndexedMapState&>(map.machine()).next_index(), 5);
  EXPECT_EQ(map.Apply("indexed_map { size {} }").indexed_map().size(), 2);
}

TEST(BrokerIndexedMap, PutIfVersionAndInsertOnlyIfAbsent) {
  StateDriver map(v1::INDEXED_MAP, "q");
  v1::Response r = map.Apply(
      R"pb(indexed_map { put { key: "a" value: "1" if_version: 3 } })pb");
  EXPECT_EQ(r.error().code(), kNotFound);
  EXPECT_EQ(r.error().message(),
            "indexed map \"q\" has no key \"a\"; expected version 3");
  EXPECT_FALSE(r.error().has_current());
  EXPECT_EQ(map.revision(), 0);

  // if_version 0: only if absent.
  r = map.Apply(
      R"pb(indexed_map { put { key: "a" value: "1" if_version: 0 } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.indexed_map().version(), 1);
  r = map.Apply(
      R"pb(indexed_map { put { key: "a" value: "2" if_version: 0 } })pb");
  EXPECT_EQ(r.error().code(), kAlreadyExists);
  EXPECT_EQ(r.error().message(),
            "indexed map \"q\" already has key \"a\" (version 1, index 1)");
  EXPECT_EQ(r.revision(), 1);
  EXPECT_FALSE(map.last_mutated());

  r = map.Apply(
      R"pb(indexed_map { put { key: "a" value: "2" if_version: 7 } })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "indexed map \"q\" key \"a\": expected version 7, current "
            "version is 1");
  EXPECT_EQ(r.error().current(), 1);
  EXPECT_FALSE(map.last_mutated());

  r = map.Apply(
      R"pb(indexed_map { put { key: "a" value: "2" if_version: 1 } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.indexed_map().version(), 2);
  EXPECT_EQ(r.indexed_map().entry().version(), 1);
  EXPECT_EQ(r.indexed_map().entry().index(), 1);
}

TEST(BrokerIndexedMap, RemoveIfVersionAndAbsentKeys) {
  StateDriver map = Filled({"a"});
  v1::Response r = map.Apply(R"pb(indexed_map { remove { key: "x" } })pb");
  EXPECT_EQ(r.error().code(), kNotFound);
  EXPECT_EQ(r.error().message(), "indexed map \"q\" has no key \"x\"");
  r = map.Apply(R"pb(indexed_map { remove { key: "x" if_version: 1 } })pb");
  EXPECT_EQ(r.error().code(), kNotFound);

  r = map.Apply(R"pb(indexed_map { remove { key: "a" if_version: 9 } })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().current(), 1);
  r = map.Apply(R"pb(indexed_map { remove { key: "a" if_version: 0 } })pb");
  EXPECT_EQ(r.error().code(), kAlreadyExists);
  EXPECT_EQ(map.revision(), 1);

  r = map.Apply(R"pb(indexed_map { remove { key: "a" if_version: 1 } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.indexed_map().version(), 2);
  EXPECT_EQ(map.Apply("indexed_map { size {} }").indexed_map().size(), 0);
}

TEST(BrokerIndexedMap, NavigatesByIndexAcrossGaps) {
  StateDriver map = Filled({"a", "b", "c", "d", "e"});
  map.Apply(R"pb(indexed_map { remove { key: "b" } })pb");
  map.Apply(R"pb(indexed_map { remove { key: "d" } })pb");
  // Entries now: a@1, c@3, e@5.
  auto at = [&](const char* where, int64_t index) {
    v1::Response r = map.Apply(Navigate(where, index));
    EXPECT_EQ(r.error().code(), kOk);
    EXPECT_FALSE(map.last_mutated());
    if (!r.indexed_map().present()) return std::string("none");
    const v1::MapEntry& e = r.indexed_map().entry();
    EXPECT_EQ(e.value(), "v-" + e.key());
    return absl::StrFormat("%s@%d v%d", e.key(), e.index(), e.version());
  };
  EXPECT_EQ(at("FIRST", 99), "a@1 v1");
  EXPECT_EQ(at("LAST", 0), "e@5 v5");
  EXPECT_EQ(at("AT", 3), "c@3 v3");
  EXPECT_EQ(at("AT", 2), "none");
  EXPECT_EQ(at("AT", 0), "none");
  EXPECT_EQ(at("NEXT", 0), "a@1 v1");
  EXPECT_EQ(at("NEXT", 1), "c@3 v3");
  EXPECT_EQ(at("NEXT", 2), "c@3 v3");
  EXPECT_EQ(at("NEXT", 5), "none");
  EXPECT_EQ(at("NEXT", INT64_MAX), "none");
  EXPECT_EQ(at("PREV", 5), "c@3 v3");
  EXPECT_EQ(at("PREV", 4), "c@3 v3");
  EXPECT_EQ(at("PREV", 1), "none");
  EXPECT_EQ(at("PREV", INT64_MAX), "e@5 v5");

  StateDriver empty(v1::INDEXED_MAP, "q");
  for (const char* where : {"FIRST", "LAST", "AT", "NEXT", "PREV"}) {
    v1::Response r = empty.Apply(Navigate(where, 1));
    EXPECT_EQ(r.error().code(), kOk) << where;
    EXPECT_FALSE(r.indexed_map().present()) << where;
  }
  EXPECT_EQ(map.Apply("indexed_map { navigate { } }").error().code(),
            kInvalidArgument);
}

TEST(BrokerIndexedMap, ClearRemovesEverythingAtOneRevisionAndKeepsCounting) {
  StateDriver map(v1::INDEXED_MAP, "q");
  v1::Response r = map.Apply("indexed_map { clear {} }");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_FALSE(map.last_mutated());  // clearing an empty map changes nothing
  EXPECT_EQ(r.indexed_map().version(), 0);
  EXPECT_EQ(r.indexed_map().size(), 0);

  map.ApplyRequest(Put("z", "1"));
  map.ApplyRequest(Put("y", "2"));
  map.ApplyRequest(Put("x", "3"));
  map.Apply(R"pb(indexed_map { put { key: "z" value: "4" } })pb");
  r = map.Apply("indexed_map { clear {} }");
  EXPECT_TRUE(map.last_mutated());
  EXPECT_EQ(r.indexed_map().version(), 5);
  EXPECT_EQ(r.indexed_map().size(), 3);
  // One REMOVED per entry, in index order, all at the clear's revision.
  ASSERT_EQ(map.last_events().size(), 3u);
  std::vector<std::string> removed;
  for (const v1::WatchEvent& e : map.last_events()) {
    EXPECT_EQ(e.type(), v1::WatchEvent::REMOVED);
    EXPECT_EQ(e.revision(), 5);
    EXPECT_FALSE(e.has_entry());
    removed.push_back(absl::StrFormat(
        "%s@%d=%s v%d", e.previous().key(), e.previous().index(),
        e.previous().value(), e.previous().version()));
  }
  EXPECT_EQ(removed,
            (std::vector<std::string>{"z@1=4 v4", "y@2=2 v2", "x@3=3 v3"}));
  EXPECT_EQ(map.Apply("indexed_map { size {} }").indexed_map().size(), 0);
  EXPECT_FALSE(map.Apply(Navigate("FIRST")).indexed_map().present());

  // Indexes are not reused after a clear.
  map.ApplyRequest(Put("z", "5"));
  EXPECT_EQ(map.Apply(Navigate("FIRST")).indexed_map().entry().index(), 4);
}

TEST(BrokerIndexedMap, EventsCarryEntriesWithTheirIndexes) {
  StateDriver map(v1::INDEXED_MAP, "q");
  map.ApplyRequest(Put("a", "1"));
  ASSERT_EQ(map.last_events().size(), 1u);
  v1::WatchEvent e = map.last_events()[0];
  EXPECT_EQ(e.type(), v1::WatchEvent::INSERTED);
  EXPECT_EQ(e.revision(), 1);
  EXPECT_EQ(e.entry().key(), "a");
  EXPECT_EQ(e.entry().value(), "1");
  EXPECT_EQ(e.entry().version(), 1);
  EXPECT_EQ(e.entry().index(), 1);
  EXPECT_FALSE(e.has_previous());

  map.ApplyRequest(Put("b", "2"));
  EXPECT_EQ(map.last_events()[0].entry().index(), 2);

  map.ApplyRequest(Put("a", "3"));
  ASSERT_EQ(map.last_events().size(), 1u);
  e = map.last_events()[0];
  EXPECT_EQ(e.type(), v1::WatchEvent::UPDATED);
  EXPECT_EQ(e.revision(), 3);
  EXPECT_EQ(e.entry().value(), "3");
  EXPECT_EQ(e.entry().version(), 3);
  EXPECT_EQ(e.entry().index(), 1);
  EXPECT_EQ(e.previous().value(), "1");
  EXPECT_EQ(e.previous().version(), 1);
  EXPECT_EQ(e.previous().index(), 1);

  map.Apply(R"pb(indexed_map { remove { key: "a" } })pb");
  ASSERT_EQ(map.last_events().size(), 1u);
  e = map.last_events()[0];
  EXPECT_EQ(e.type(), v1::WatchEvent::REMOVED);
  EXPECT_EQ(e.revision(), 4);
  EXPECT_FALSE(e.has_entry());
  EXPECT_EQ(e.previous().key(), "a");
  EXPECT_EQ(e.previous().value(), "3");
  EXPECT_EQ(e.previous().version(), 3);
  EXPECT_EQ(e.previous().index(), 1);

  // Failed writes and reads emit nothing.
  map.Apply(R"pb(indexed_map { remove { key: "a" } })pb");
  EXPECT_TRUE(map.last_events().empty());
  map.Apply(Navigate("FIRST"));
  EXPECT_TRUE(map.last_events().empty());
}

TEST(BrokerIndexedMap, SnapshotIsInIndexOrderAndHonorsFilters) {
  StateDriver map = Filled({"job/3", "x", "job/1", "job/2", "y"});
  map.ApplyRequest(Put("job/3", "again"));  // keeps index 1
  EXPECT_EQ(Keys(map.Snapshot().entries()),
            (std::vector<std::string>{"job/3@1", "x@2", "job/1@3", "job/2@4",
                                      "y@5"}));
  EXPECT_EQ(map.Snapshot().entries(0).value(), "again");
  EXPECT_EQ(map.Snapshot().entries(0).version(), 6);

  WatchFilter prefix;
  prefix.prefix = "job/";
  EXPECT_EQ(Keys(map.Snapshot(prefix).entries()),
            (std::vector<std::string>{"job/3@1", "job/1@3", "job/2@4"}));
  WatchFilter key;
  key.key = "job/1";
  EXPECT_EQ(Keys(map.Snapshot(key).entries()),
            (std::vector<std::string>{"job/1@3"}));
  key.key = "nope";
  EXPECT_EQ(map.Snapshot(key).entries_size(), 0);
}

TEST(BrokerIndexedMap, ListPagesInIndexOrderByCountAndBytes) {
  Limits limits;
  limits.max_page_bytes = 100;
  limits.default_page_size = 4;
  limits.max_page_size = 6;
  StateDriver map(v1::INDEXED_MAP, "q", limits);
  for (int i = 0; i < 10; ++i) {
    map.ApplyRequest(Put(absl::StrFormat("k%d", 9 - i), std::string(8, 'v')));
  }
  // 2 + 8 = 10 bytes each: the count limit wins.
  v1::Response r = map.ApplyRequest(List(0, 0));
  EXPECT_EQ(Keys(r.indexed_map().entries()),
            (std::vector<std::string>{"k9@1", "k8@2", "k7@3", "k6@4"}));
  EXPECT_EQ(r.indexed_map().entries(0).version(), 1);
  EXPECT_EQ(r.indexed_map().entries(0).value(), "vvvvvvvv");
  EXPECT_TRUE(r.indexed_map().more());
  EXPECT_EQ(map.ApplyRequest(List(0, 5)).indexed_map().entries_size(), 5);
  EXPECT_EQ(map.ApplyRequest(List(0, 100000)).indexed_map().entries_size(), 6);
  r = map.ApplyRequest(List(8, 5));
  EXPECT_EQ(Keys(r.indexed_map().entries()),
            (std::vector<std::string>{"k1@9", "k0@10"}));
  EXPECT_FALSE(r.indexed_map().more());
  r = map.ApplyRequest(List(10, 5));
  EXPECT_EQ(r.indexed_map().entries_size(), 0);
  EXPECT_FALSE(r.indexed_map().more());

  // Bytes: 40-byte entries, two fit in 100 bytes; a bigger one still comes
  // alone.
  map.Apply("indexed_map { clear {} }");
  for (int i = 0; i < 3; ++i) {
    map.ApplyRequest(Put(absl::StrFormat("b%d", i), std::string(38, 'v')));
  }
  map.ApplyRequest(Put("big", std::string(500, 'v')));
  r = map.ApplyRequest(List(0, 0));
  EXPECT_EQ(r.indexed_map().entries_size(), 2);
  EXPECT_TRUE(r.indexed_map().more());
  r = map.ApplyRequest(List(13, 0));
  ASSERT_EQ(r.indexed_map().entries_size(), 1);
  EXPECT_EQ(r.indexed_map().entries(0).key(), "big");
  EXPECT_FALSE(r.indexed_map().more());
  EXPECT_EQ(map.revision(), 15);  // listing takes no revision
}

// Pages through 100,000 entries, some removed and some rewritten: every
// remaining entry comes back once, in index order.
TEST(BrokerIndexedMap, PagingOneHundredThousandEntries) {
  StateDriver map(v1::INDEXED_MAP, "q");
  constexpr int kEntries = 100000;
  v1::Request put = Put("", "v");
  for (int i = 0; i < kEntries; ++i) {
    put.mutable_indexed_map()->mutable_put()->set_key(
        absl::StrFormat("%06d", kEntries - i));
    map.ApplyRequest(put);
  }
  std::vector<int64_t> expected;
  for (int i = 0; i < kEntries; ++i) {
    const std::string key = absl::StrFormat("%06d", kEntries - i);
    if (i % 3 == 0) {
      map.Apply(
          absl::StrFormat(R"pb(indexed_map { remove { key: "%s" } })pb", key));
    } else {
      if (i % 3 == 1) map.ApplyRequest(Put(key, "w"));
      expected.push_back(i + 1);
    }
  }
  std::vector<int64_t> seen;
  int64_t after = 0;
  while (true) {
    v1::Response r = map.ApplyRequest(List(after, 777));
    ASSERT_EQ(r.error().code(), kOk);
    for (const auto& e : r.indexed_map().entries()) seen.push_back(e.index());
    if (!r.indexed_map().more()) break;
    ASSERT_GT(r.indexed_map().entries_size(), 0);
    after = seen.back();
  }
  EXPECT_EQ(seen, expected);
  auto& state = static_cast<IndexedMapState&>(map.machine());
  EXPECT_EQ(state.by_key().size(), expected.size());
  EXPECT_EQ(state.by_index().size(), expected.size());
}

TEST(BrokerIndexedMap, SaveAndLoadKeepTheStateAndTheNextIndex) {
  StateDriver map = Filled({"a", "b", "c", "d"});
  map.Apply(R"pb(indexed_map { remove { key: "d" } })pb");
  map.Apply(R"pb(indexed_map { remove { key: "a" } })pb");
  map.ApplyRequest(Put("b", "new"));
  atomix::log::v1::PrimitiveSave saved;
  map.machine().Save(saved);
  ASSERT_TRUE(saved.has_indexed_map());
  EXPECT_EQ(saved.indexed_map().next_index(), 5);
  ASSERT_EQ(saved.indexed_map().entries_size(), 2);
  EXPECT_EQ(saved.indexed_map().entries(0).index(), 2);
  EXPECT_EQ(saved.indexed_map().entries(0).key(), "b");
  EXPECT_EQ(saved.indexed_map().entries(0).value(), "new");
  EXPECT_EQ(saved.indexed_map().entries(0).version(), 7);

  StateDriver loaded(v1::INDEXED_MAP, "q");
  atomix::log::v1::PrimitiveSave parsed;
  ASSERT_TRUE(parsed.ParseFromString(saved.SerializeAsString()));
  ASSERT_TRUE(loaded.machine().Load(parsed).ok());
  EXPECT_EQ(loaded.Snapshot().SerializeAsString(),
            map.Snapshot().SerializeAsString());
  atomix::log::v1::PrimitiveSave again;
  loaded.machine().Save(again);
  EXPECT_EQ(again.SerializeAsString(), saved.SerializeAsString());

  // Indexes 1 and 4 stay retired after the load: "d" comes back at 5.
  loaded.ApplyRequest(Put("d", "back"));
  EXPECT_EQ(loaded.Apply(Navigate("LAST")).indexed_map().entry().index(), 5);
  EXPECT_EQ(loaded.Apply(Navigate("PREV", 5)).indexed_map().entry().key(), "c");
}

TEST(BrokerIndexedMap, LoadRefusesOtherAndInconsistentStates) {
  StateDriver map(v1::INDEXED_MAP, "q");
  atomix::log::v1::PrimitiveSave other;
  other.mutable_map();
  EXPECT_EQ(map.machine().Load(other).code(), absl::StatusCode::kDataLoss);

  auto load = [](const std::string& text) {
    atomix::log::v1::PrimitiveSave save;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &save));
    IndexedMapState fresh;
    return fresh.Load(save);
  };
  EXPECT_TRUE(load(R"pb(indexed_map { next_index: 1 })pb").ok());
  EXPECT_TRUE(load(R"pb(indexed_map {
                          entries { index: 2 key: "a" version: 1 }
                          entries { index: 5 key: "b" version: 2 }
                          next_index: 9
                        })pb")
                  .ok());
  for (const char* bad : {
           // next_index not above the last index
           R"pb(indexed_map {
                  entries { index: 2 key: "a" }
                  next_index: 2
                })pb",
           R"pb(indexed_map { next_index: 0 })pb",
           // indexes out of order, zero, repeated
           R"pb(indexed_map {
                  entries { index: 3 key: "a" }
                  entries { index: 2 key: "b" }
                  next_index: 9
                })pb",
           R"pb(indexed_map {
                  entries { index: 0 key: "a" }
                  next_index: 9
                })pb",
           // a repeated or empty key
           R"pb(indexed_map {
                  entries { index: 1 key: "a" }
                  entries { index: 2 key: "a" }
                  next_index: 9
                })pb",
           R"pb(indexed_map {
                  entries { index: 1 key: "" }
                  next_index: 9
                })pb",
       }) {
    EXPECT_EQ(load(bad).code(), absl::StatusCode::kDataLoss) << bad;
  }
}

// Through a whole engine snapshot, as the disk store writes and restores it:
// the loaded engine goes on with the same next index.
TEST(BrokerIndexedMap, AnEngineSnapshotKeepsRetiredIndexesRetired) {
  auto apply = [](Engine& engine, const std::string& op_text) {
    v1::Request r = MakeRequest(v1::INDEXED_MAP, "q", op_text, 1);
    v1::Response response;
    const v1::Request* in[] = {&r};
    v1::Response* out[] = {&response};
    StoreResult result;
    engine.ApplyBatch(testing::TestNow(), 1, in, out, result);
    return response;
  };
  Engine original(Limits{}, Engine::Options{}, nullptr);
  for (const char* key : {"a", "b", "c"}) {
    apply(original,
          absl::StrFormat(R"pb(indexed_map { put { key: "%s" value: "v" } })pb",
                          key));
  }
  apply(original, R"pb(indexed_map { remove { key: "c" } })pb");
  atomix::log::v1::EngineSnapshot snapshot;
  original.Save(snapshot);
  atomix::log::v1::EngineSnapshot parsed;
  ASSERT_TRUE(parsed.ParseFromString(snapshot.SerializeAsString()));
  Engine loaded(Limits{}, Engine::Options{}, nullptr);
  ASSERT_TRUE(loaded.Load(parsed).ok());
  EXPECT_EQ(loaded.Digest(), original.Digest());

  for (Engine* engine : {&original, &loaded}) {
    apply(*engine, R"pb(indexed_map { put { key: "c" value: "w" } })pb");
    v1::Response r = apply(*engine, Navigate("LAST"));
    EXPECT_EQ(r.indexed_map().entry().key(), "c");
    EXPECT_EQ(r.indexed_map().entry().index(), 4);
  }
  EXPECT_EQ(loaded.Digest(), original.Digest());
}

TEST(BrokerIndexedMap, ValidationNamesTheField) {
  const Limits limits;
  auto check = [&](const std::string& op_text) {
    return ValidateRequest(MakeRequest(v1::INDEXED_MAP, "q", op_text), limits);
  };
  EXPECT_TRUE(check(R"pb(indexed_map { put { key: "a" } })pb").ok());
  EXPECT_TRUE(
      check(R"pb(indexed_map { put { key: "a" if_version: 0 } })pb").ok());
  EXPECT_TRUE(check(Navigate("FIRST", -5)).ok());  // FIRST ignores index
  EXPECT_TRUE(check("indexed_map { size {} }").ok());
  EXPECT_TRUE(check("indexed_map { clear {} }").ok());

  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"pb(indexed_map { put { value: "x" } })pb", "key is empty"},
      {absl::StrFormat(R"pb(indexed_map { put { key: "%s" } })pb",
                       std::string(4097, 'k')),
       "key is 4097 bytes"},
      {absl::StrFormat(R"pb(indexed_map { put { key: "k" value: "%s" } })pb",
                       std::string((1 << 20) + 1, 'v')),
       "value is 1048577 bytes"},
      {R"pb(indexed_map { put { key: "a" if_version: -1 } })pb",
       "if_version is -1; it must not be negative"},
      {R"pb(indexed_map { get {} })pb", "key is empty"},
      {R"pb(indexed_map { remove { key: "" } })pb", "key is empty"},
      {R"pb(indexed_map { remove { key: "a" if_version: -2 } })pb",
       "if_version is -2"},
      {"indexed_map { navigate {} }", "where is unspecified"},
      {"indexed_map { navigate { where: 9 } }", "where 9 is unknown"},
      {Navigate("AT", -1), "index is -1; it must not be negative"},
      {Navigate("NEXT", -1), "index is -1"},
      {Navigate("PREV", -1), "index is -1"},
      {"indexed_map { list { after_index: -3 } }",
       "after_index is -3; it must not be negative"},
      {"indexed_map {}", "has no operation"},
  };
  for (const auto& [op_text, message] : bad) {
    absl::Status status = check(op_text);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << op_text.substr(0, 80);
    EXPECT_NE(status.message().find(message), std::string::npos)
        << status << " lacks " << message;
  }

  // A map operation declared as an indexed map, and the other way round.
  EXPECT_EQ(check(R"pb(map { size {} })pb").message(),
            "type is INDEXED_MAP but the operation is for a map");
  EXPECT_EQ(ValidateRequest(
                MakeRequest(v1::MAP, "m", "indexed_map { size {} }"), limits)
                .message(),
            "type is MAP but the operation is for an indexed map");
}

TEST(BrokerIndexedMap, TheSpecSaysWhatIsReadAndThatWatchesFilterByKey) {
  const PrimitiveSpec& spec = IndexedMapPrimitive();
  EXPECT_EQ(FindPrimitive(v1::INDEXED_MAP), &spec);
  EXPECT_TRUE(spec.key_filters);
  EXPECT_FALSE(spec.has_timers);
  EXPECT_EQ(spec.fence_of, nullptr);
  EXPECT_EQ(spec.session_owned, nullptr);
  auto is_read = [&](const std::string& op_text) {
    return spec.is_read(MakeRequest(v1::INDEXED_MAP, "q", op_text));
  };
  EXPECT_TRUE(is_read(R"pb(indexed_map { get { key: "a" } })pb"));
  EXPECT_TRUE(is_read(Navigate("FIRST")));
  EXPECT_TRUE(is_read("indexed_map { size {} }"));
  EXPECT_TRUE(is_read("indexed_map { list {} }"));
  EXPECT_FALSE(is_read(R"pb(indexed_map { put { key: "a" } })pb"));
  EXPECT_FALSE(is_read(R"pb(indexed_map { remove { key: "a" } })pb"));
  EXPECT_FALSE(is_read("indexed_map { clear {} }"));

  v1::WatchRequest watch;
  watch.set_type(v1::INDEXED_MAP);
  watch.set_name("q");
  watch.set_prefix("jobs/");
  EXPECT_TRUE(ValidateWatchRequest(watch, Limits{}).ok());
}

TEST(BrokerIndexedMap, RejectsForeignOperationsAndNamesItsType) {
  StateDriver map(v1::INDEXED_MAP, "q");
  v1::Response r = map.Apply("map { size {} }");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(),
            "indexed map \"q\": not an indexed map operation");
  EXPECT_EQ(map.Apply("indexed_map {}").error().code(), kInvalidArgument);

  testing::BrokerDriver broker;
  broker.Apply(v1::MAP, "taken", R"pb(map { put { key: "k" } })pb");
  r = broker.Apply(v1::INDEXED_MAP, "taken", "indexed_map { size {} }");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(), "\"taken\" is a map, not an indexed map");
}

TEST(BrokerIndexedMap, DescribeCountsTheEntries) {
  StateDriver map(v1::INDEXED_MAP, "q");
  EXPECT_EQ(map.Describe().summary(), "0 entries");
  map.Apply(R"pb(indexed_map { put { key: "a" value: "1" } })pb");
  EXPECT_EQ(map.Describe().summary(), "1 entry");
  map.Apply(R"pb(indexed_map { put { key: "b" value: "2" } })pb");
  map.Apply(R"pb(indexed_map { put { key: "a" value: "3" } })pb");
  const v1::PrimitiveInfo info = map.Describe();
  EXPECT_EQ(info.summary(), "2 entries");
  EXPECT_EQ(info.holders_size(), 0);
  EXPECT_EQ(info.waiters_size(), 0);
}

}  // namespace
}  // namespace atomix::broker
