// CounterMapState: the pure counter map state machine, driven with a fixed
// logical time and no store: every operation, its errors, its watch events,
// snapshots, Save/Load and validation.
#include "broker-sim/src/state/counter_map.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "broker-sim/src/core/validate.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::MakeRequest;
using testing::StateDriver;

constexpr int kOk = 0;
constexpr int kInvalidArgument = 3;
constexpr int kFailedPrecondition = 9;
constexpr int kOutOfRange = 11;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

StateDriver Quotas(Limits limits = {}) {
  return StateDriver(v1::COUNTER_MAP, "quotas", limits);
}

std::string Add(const std::string& key, int64_t delta) {
  return absl::StrFormat(R"pb(counter_map { add { key: "%s" delta: %d } })pb",
                         key, delta);
}

std::string Set(const std::string& key, int64_t value) {
  return absl::StrFormat(R"pb(counter_map { set { key: "%s" value: %d } })pb",
                         key, value);
}

std::string Get(const std::string& key) {
  return absl::StrFormat(R"pb(counter_map { get { key: "%s" } })pb", key);
}

std::string List(const std::string& prefix, const std::string& after,
                 uint32_t limit) {
  return absl::StrCat("counter_map { list { prefix: \"", prefix,
                      "\" start_after: \"", after, "\" limit: ", limit, " } }");
}

std::vector<std::string> Keys(const v1::Response& r) {
  std::vector<std::string> keys;
  for (const auto& e : r.counter_map().entries()) keys.push_back(e.key());
  return keys;
}

// The 8-byte big-endian two's complement form of MapEntry.value.
int64_t Decode(const std::string& bytes) {
  EXPECT_EQ(bytes.size(), 8u);
  uint64_t bits = 0;
  for (unsigned char c : bytes) bits = (bits << 8) | c;
  return static_cast<int64_t>(bits);
}

TEST(BrokerCounterMap, AbsentKeysReadAsZero) {
  StateDriver quotas = Quotas();
  v1::Response r = quotas.Apply(Get("alice"));
  EXPECT_EQ(r.error().code(), kOk);
  ASSERT_TRUE(r.has_counter_map());
  EXPECT_EQ(r.counter_map().value(), 0);
  EXPECT_EQ(r.counter_map().version(), 0);
  EXPECT_FALSE(r.counter_map().present());
  EXPECT_FALSE(quotas.last_mutated());
  EXPECT_EQ(quotas.Apply("counter_map { size {} }").counter_map().size(), 0);
}

TEST(BrokerCounterMap, EveryWriteTakesTheNextRevision) {
  StateDriver quotas = Quotas();
  v1::Response r = quotas.Apply(Add("alice", 5));
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.counter_map().value(), 5);
  EXPECT_EQ(r.counter_map().version(), 1);
  EXPECT_TRUE(r.counter_map().present());
  EXPECT_EQ(r.revision(), 1);

  r = quotas.Apply(Add("alice", -7));
  EXPECT_EQ(r.counter_map().value(), -2);
  EXPECT_EQ(r.counter_map().version(), 2);

  r = quotas.Apply(Set("bob", 40));
  EXPECT_EQ(r.counter_map().value(), 40);
  EXPECT_EQ(r.counter_map().version(), 3);

  // Add(0) and Set to the current value are writes too; Add(0) of an absent
  // key creates it at 0.
  r = quotas.Apply(Add("bob", 0));
  EXPECT_EQ(r.counter_map().version(), 4);
  r = quotas.Apply(Set("bob", 40));
  EXPECT_EQ(r.counter_map().version(), 5);
  r = quotas.Apply(Add("carol", 0));
  EXPECT_EQ(r.counter_map().value(), 0);
  EXPECT_EQ(r.counter_map().version(), 6);

  r = quotas.Apply(Get("alice"));
  EXPECT_EQ(r.counter_map().value(), -2);
  EXPECT_EQ(r.counter_map().version(), 2);
  EXPECT_TRUE(r.counter_map().present());
  EXPECT_EQ(r.revision(), 6);
  r = quotas.Apply(Get("carol"));
  EXPECT_TRUE(r.counter_map().present());
  EXPECT_EQ(r.counter_map().version(), 6);
  EXPECT_EQ(quotas.Apply("counter_map { size {} }").counter_map().size(), 3);
}

TEST(BrokerCounterMap, CompareAndSet) {
  StateDriver quotas = Quotas();
  // An absent key holds 0: CompareAndSet(0, x) creates it.
  v1::Response r =
      quotas.Apply(R"pb(counter_map {
                          compare_and_set { key: "a" expect: 0 update: 3 }
                        })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.counter_map().value(), 3);
  EXPECT_EQ(r.counter_map().version(), 1);

  r = quotas.Apply(R"pb(counter_map {
                          compare_and_set { key: "a" expect: 2 update: 9 }
                        })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "counter map \"quotas\" key \"a\": expected 2, current value is 3");
  ASSERT_TRUE(r.error().has_current());
  EXPECT_EQ(r.error().current(), 3);
  EXPECT_FALSE(r.has_counter_map());
  EXPECT_FALSE(quotas.last_mutated());
  EXPECT_EQ(r.revision(), 1);

  r = quotas.Apply(R"pb(counter_map {
                          compare_and_set { key: "b" expect: 1 update: 2 }
                        })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  ASSERT_TRUE(r.error().has_current());
  EXPECT_EQ(r.error().current(), 0);  // absent reads as 0
  EXPECT_FALSE(quotas.Apply(Get("b")).counter_map().present());

  r = quotas.Apply(R"pb(counter_map {
                          compare_and_set { key: "a" expect: 3 update: 4 }
                        })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.counter_map().value(), 4);
  EXPECT_EQ(r.counter_map().version(), 2);
}

TEST(BrokerCounterMap, OverflowIsOutOfRangeAndChangesNothing) {
  StateDriver quotas = Quotas();
  quotas.Apply(Set("a", kMax));
  v1::Response r = quotas.Apply(Add("a", 1));
  EXPECT_EQ(r.error().code(), kOutOfRange);
  EXPECT_EQ(r.error().message(),
            "counter map \"quotas\" key \"a\": adding 1 to "
            "9223372036854775807 overflows int64");
  EXPECT_FALSE(r.error().has_current());
  EXPECT_FALSE(quotas.last_mutated());
  EXPECT_EQ(r.revision(), 1);

  quotas.Apply(Set("a", kMin));
  EXPECT_EQ(quotas.Apply(Add("a", -1)).error().code(), kOutOfRange);
  // An absent key starts at 0, so INT64_MIN itself is a fine delta.
  r = quotas.Apply(Add("b", kMin));
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.counter_map().value(), kMin);
  EXPECT_EQ(quotas.Apply(Add("b", -1)).error().code(), kOutOfRange);
  EXPECT_EQ(quotas.revision(), 3);

  r = quotas.Apply(Get("a"));
  EXPECT_EQ(r.counter_map().value(), kMin);
  EXPECT_EQ(r.counter_map().version(), 2);
  // The extremes themselves are reachable.
  r = quotas.Apply(Add("a", kMax));
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.counter_map().value(), -1);
}

TEST(BrokerCounterMap, RemoveReturnsTheValueItHeld) {
  StateDriver quotas = Quotas();
  v1::Response r = quotas.Apply(R"pb(counter_map { remove { key: "a" } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_FALSE(r.counter_map().present());
  EXPECT_EQ(r.counter_map().value(), 0);
  EXPECT_EQ(r.counter_map().version(), 0);
  EXPECT_FALSE(quotas.last_mutated());
  EXPECT_EQ(r.revision(), 0);

  quotas.Apply(Add("a", 7));
  r = quotas.Apply(R"pb(counter_map { remove { key: "a" } })pb");
  EXPECT_TRUE(r.counter_map().present());
  EXPECT_EQ(r.counter_map().value(), 7);
  EXPECT_EQ(r.counter_map().version(), 2);
  EXPECT_EQ(r.revision(), 2);
  EXPECT_FALSE(quotas.Apply(Get("a")).counter_map().present());
  EXPECT_EQ(quotas.Apply("counter_map { size {} }").counter_map().size(), 0);

  // A removed key starts again at 0.
  r = quotas.Apply(Add("a", 1));
  EXPECT_EQ(r.counter_map().value(), 1);
  EXPECT_EQ(r.counter_map().version(), 3);
}

TEST(BrokerCounterMap, ClearRemovesEverythingAtOneRevision) {
  StateDriver quotas = Quotas();
  v1::Response r = quotas.Apply("counter_map { clear {} }");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_FALSE(quotas.last_mutated());  // clearing nothing takes no revision
  EXPECT_EQ(r.counter_map().size(), 0);
  EXPECT_EQ(r.counter_map().version(), 0);

  quotas.Apply(Add("a", 1));
  quotas.Apply(Add("b", 2));
  r = quotas.Apply("counter_map { clear {} }");
  EXPECT_TRUE(quotas.last_mutated());
  EXPECT_EQ(r.counter_map().size(), 2);
  EXPECT_EQ(r.counter_map().version(), 3);
  EXPECT_EQ(r.revision(), 3);
  ASSERT_EQ(quotas.last_events().size(), 2u);
  for (const v1::WatchEvent& e : quotas.last_events()) {
    EXPECT_EQ(e.type(), v1::WatchEvent::REMOVED);
    EXPECT_EQ(e.revision(), 3);
  }
  EXPECT_EQ(quotas.last_events()[0].previous().key(), "a");
  EXPECT_EQ(Decode(quotas.last_events()[1].previous().value()), 2);
  EXPECT_EQ(quotas.last_events()[1].previous().version(), 2);
  EXPECT_EQ(quotas.Apply("counter_map { size {} }").counter_map().size(), 0);
}

TEST(BrokerCounterMap, WatchEventsCarryBigEndianValues) {
  StateDriver quotas = Quotas();
  quotas.Apply(Add("a", 5));
  ASSERT_EQ(quotas.last_events().size(), 1u);
  v1::WatchEvent e = quotas.last_events()[0];
  EXPECT_EQ(e.type(), v1::WatchEvent::INSERTED);
  EXPECT_EQ(e.revision(), 1);
  EXPECT_EQ(e.entry().key(), "a");
  EXPECT_EQ(e.entry().value(), std::string("\0\0\0\0\0\0\0\x05", 8));
  EXPECT_EQ(e.entry().version(), 1);
  EXPECT_FALSE(e.has_previous());

  quotas.Apply(Add("a", -6));
  ASSERT_EQ(quotas.last_events().size(), 1u);
  e = quotas.last_events()[0];
  EXPECT_EQ(e.type(), v1::WatchEvent::UPDATED);
  EXPECT_EQ(e.revision(), 2);
  EXPECT_EQ(e.entry().value(), std::string(8, '\xff'));  // -1
  EXPECT_EQ(e.entry().version(), 2);
  EXPECT_EQ(e.previous().key(), "a");
  EXPECT_EQ(Decode(e.previous().value()), 5);
  EXPECT_EQ(e.previous().version(), 1);

  quotas.Apply(Set("a", kMin));
  EXPECT_EQ(quotas.last_events()[0].entry().value(),
            std::string("\x80\0\0\0\0\0\0\0", 8));
  quotas.Apply(R"pb(counter_map {
                      compare_and_set { key: "a" expect: 0 update: 1 }
                    })pb");
  EXPECT_TRUE(quotas.last_events().empty());  // a failure reports nothing

  quotas.Apply(R"pb(counter_map { remove { key: "a" } })pb");
  ASSERT_EQ(quotas.last_events().size(), 1u);
  e = quotas.last_events()[0];
  EXPECT_EQ(e.type(), v1::WatchEvent::REMOVED);
  EXPECT_EQ(e.revision(), 4);
  EXPECT_FALSE(e.has_entry());
  EXPECT_EQ(Decode(e.previous().value()), kMin);
  EXPECT_EQ(e.previous().version(), 3);

  // Reads report nothing.
  quotas.Apply(Get("a"));
  EXPECT_TRUE(quotas.last_events().empty());
  EXPECT_FALSE(quotas.last_mutated());
}

TEST(BrokerCounterMap, ListPagesByPrefixInKeyOrder) {
  StateDriver quotas = Quotas();
  for (const char* key : {"b", "a/2", "a/1", "a", "a/3", "\x80", "ab"}) {
    quotas.Apply(Add(key, 10));
  }
  v1::Response r = quotas.Apply(List("", "", 0));
  EXPECT_EQ(Keys(r), (std::vector<std::string>{"a", "a/1", "a/2", "a/3", "ab",
                                               "b", "\x80"}));
  EXPECT_FALSE(r.counter_map().more());
  EXPECT_EQ(r.revision(), 7);

  r = quotas.Apply(List("a/", "", 2));
  ASSERT_EQ(r.counter_map().entries_size(), 2);
  EXPECT_EQ(r.counter_map().entries(0).key(), "a/1");
  EXPECT_EQ(Decode(r.counter_map().entries(0).value()), 10);
  EXPECT_EQ(r.counter_map().entries(0).version(), 3);
  EXPECT_EQ(r.counter_map().entries(0).index(), 0);
  EXPECT_TRUE(r.counter_map().more());

  r = quotas.Apply(List("a/", "a/2", 2));
  EXPECT_EQ(Keys(r), std::vector<std::string>{"a/3"});
  EXPECT_EQ(r.counter_map().entries(0).version(), 5);
  EXPECT_FALSE(r.counter_map().more());

  // start_after before the prefix starts at the prefix; past it, nothing.
  EXPECT_EQ(quotas.Apply(List("a/", "0", 10)).counter_map().entries_size(), 3);
  r = quotas.Apply(List("a/", "b", 10));
  EXPECT_EQ(r.counter_map().entries_size(), 0);
  EXPECT_FALSE(r.counter_map().more());
  EXPECT_FALSE(quotas.last_mutated());
}

TEST(BrokerCounterMap, ListIsBoundedByCountAndBytes) {
  Limits limits;
  limits.default_page_size = 4;
  limits.max_page_size = 6;
  limits.max_page_bytes = 50;
  StateDriver quotas = Quotas(limits);
  for (int i = 0; i < 20; ++i)
    quotas.Apply(Add(absl::StrFormat("k%02d", i), i));
  // 3 key bytes + 8 value bytes = 11 per entry: four fit in 50 bytes.
  EXPECT_EQ(quotas.Apply(List("", "", 0)).counter_map().entries_size(), 4);
  EXPECT_EQ(quotas.Apply(List("", "", 3)).counter_map().entries_size(), 3);
  EXPECT_EQ(quotas.Apply(List("", "", 100000)).counter_map().entries_size(), 4);
  limits.max_page_bytes = 1 << 20;
  StateDriver wide = Quotas(limits);
  for (int i = 0; i < 20; ++i) wide.Apply(Add(absl::StrFormat("k%02d", i), i));
  EXPECT_EQ(wide.Apply(List("", "", 100000)).counter_map().entries_size(), 6);

  // A key larger than the byte bound still comes, alone.
  limits.max_page_bytes = 10;
  StateDriver tight = Quotas(limits);
  tight.Apply(Add("long-key", 1));
  tight.Apply(Add("long-key-2", 1));
  v1::Response r = tight.Apply(List("", "", 0));
  EXPECT_EQ(r.counter_map().entries_size(), 1);
  EXPECT_TRUE(r.counter_map().more());
}

// Pages through one prefix of 50,000 counters: each key once, in order.
TEST(BrokerCounterMap, PagingFiftyThousandCounters) {
  StateDriver quotas = Quotas();
  constexpr int kKeys = 50000;
  std::vector<std::string> expected;
  v1::Request add = MakeRequest(v1::COUNTER_MAP, "quotas", Add("x", 1));
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = absl::StrFormat("%s%06d", i % 2 ? "u/" : "v/", i);
    if (i % 2) expected.push_back(key);
    add.mutable_counter_map()->mutable_add()->set_key(key);
    quotas.ApplyRequest(add);
  }
  std::vector<std::string> seen;
  std::string after;
  while (true) {
    v1::Response r = quotas.Apply(List("u/", after, 777));
    ASSERT_EQ(r.error().code(), kOk);
    for (const auto& e : r.counter_map().entries()) seen.push_back(e.key());
    if (!r.counter_map().more()) break;
    ASSERT_GT(r.counter_map().entries_size(), 0);
    after = seen.back();
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(quotas.revision(), kKeys);
}

TEST(BrokerCounterMap, SnapshotHonorsKeyAndPrefixFilters) {
  StateDriver quotas = Quotas();
  quotas.Apply(Add("u/bob", 2));
  quotas.Apply(Add("u/alice", -1));
  quotas.Apply(Add("v/x", 9));
  v1::WatchSnapshot all = quotas.Snapshot();
  ASSERT_EQ(all.entries_size(), 3);
  EXPECT_EQ(all.entries(0).key(), "u/alice");
  EXPECT_EQ(Decode(all.entries(0).value()), -1);
  EXPECT_EQ(all.entries(0).version(), 2);
  EXPECT_EQ(all.entries(0).index(), 0);
  EXPECT_EQ(all.entries(1).key(), "u/bob");
  EXPECT_EQ(all.entries(2).key(), "v/x");

  WatchFilter prefix;
  prefix.prefix = "u/";
  EXPECT_EQ(quotas.Snapshot(prefix).entries_size(), 2);
  WatchFilter key;
  key.key = "v/x";
  v1::WatchSnapshot one = quotas.Snapshot(key);
  ASSERT_EQ(one.entries_size(), 1);
  EXPECT_EQ(Decode(one.entries(0).value()), 9);
  key.key = "nope";
  EXPECT_EQ(quotas.Snapshot(key).entries_size(), 0);
}

TEST(BrokerCounterMap, SaveAndLoadRoundTrip) {
  StateDriver quotas = Quotas();
  quotas.Apply(Add("a", 3));
  quotas.Apply(Set("b", kMin));
  quotas.Apply(Add("c", kMax));
  quotas.Apply(R"pb(counter_map { remove { key: "c" } })pb");
  atomix::log::v1::PrimitiveSave saved;
  quotas.machine().Save(saved);
  ASSERT_TRUE(saved.has_counter_map());
  ASSERT_EQ(saved.counter_map().entries_size(), 2);

  StateDriver loaded = Quotas();
  ASSERT_TRUE(loaded.machine().Load(saved).ok());
  EXPECT_EQ(loaded.Snapshot().SerializeAsString(),
            quotas.Snapshot().SerializeAsString());
  v1::Response r = loaded.Apply(Get("b"));
  EXPECT_EQ(r.counter_map().value(), kMin);
  EXPECT_EQ(r.counter_map().version(), 2);

  atomix::log::v1::PrimitiveSave wrong;
  wrong.mutable_counter()->set_value(1);
  absl::Status status = Quotas().machine().Load(wrong);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status.message(), "the saved primitive holds no counter map state");

  atomix::log::v1::PrimitiveSave twice;
  twice.mutable_counter_map()->add_entries()->set_key("k");
  twice.mutable_counter_map()->add_entries()->set_key("k");
  status = Quotas().machine().Load(twice);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status.message(), "the saved counter map holds key \"k\" twice");
  atomix::log::v1::PrimitiveSave empty;
  empty.mutable_counter_map()->add_entries()->set_value(3);
  status = Quotas().machine().Load(empty);
  EXPECT_EQ(status.message(), "the saved counter map holds an empty key");
}

TEST(BrokerCounterMap, ValidationNamesTheField) {
  Limits limits;
  limits.max_key_bytes = 4;
  const PrimitiveSpec& spec = CounterMapPrimitive();
  auto check = [&](const std::string& text) {
    return spec.validate(MakeRequest(v1::COUNTER_MAP, "quotas", text), limits);
  };
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"pb(counter_map { get { key: "" } })pb", "key is empty"},
      {R"pb(counter_map { set { key: "" value: 1 } })pb", "key is empty"},
      {R"pb(counter_map { add { key: "" delta: 1 } })pb", "key is empty"},
      {R"pb(counter_map { compare_and_set { key: "" } })pb", "key is empty"},
      {R"pb(counter_map { remove { key: "12345" } })pb",
       "key is 5 bytes; the limit is 4"},
      {R"pb(counter_map { add { key: "12345" } })pb",
       "key is 5 bytes; the limit is 4"},
      {R"pb(counter_map { list { prefix: "12345" } })pb",
       "prefix is 5 bytes; the limit is 4"},
      {R"pb(counter_map { list { start_after: "12345" } })pb",
       "start_after is 5 bytes; the limit is 4"},
      {"counter_map {}", "counter map request has no operation"},
  };
  for (const auto& [text, message] : bad) {
    absl::Status status = check(text);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(status.message(), message) << text;
  }
  for (const char* good :
       {R"pb(counter_map { get { key: "1234" } })pb",
        R"pb(counter_map { list {} })pb", "counter_map { size {} }",
        "counter_map { clear {} }"}) {
    EXPECT_TRUE(check(good).ok()) << good;
  }
}

TEST(BrokerCounterMap, TheSpecMarksReadsAndKeyFilters) {
  const PrimitiveSpec& spec = CounterMapPrimitive();
  EXPECT_EQ(spec.type, v1::COUNTER_MAP);
  EXPECT_EQ(spec.name, "counter map");
  EXPECT_TRUE(spec.key_filters);
  EXPECT_FALSE(spec.has_timers);
  EXPECT_EQ(spec.fence_of, nullptr);
  EXPECT_EQ(spec.session_owned, nullptr);
  auto is_read = [&](const std::string& text) {
    return spec.is_read(MakeRequest(v1::COUNTER_MAP, "q", text));
  };
  EXPECT_TRUE(is_read(Get("a")));
  EXPECT_TRUE(is_read("counter_map { size {} }"));
  EXPECT_TRUE(is_read("counter_map { list {} }"));
  EXPECT_FALSE(is_read(Add("a", 1)));
  EXPECT_FALSE(is_read(Set("a", 1)));
  EXPECT_FALSE(is_read("counter_map { compare_and_set { key: \"a\" } }"));
  EXPECT_FALSE(is_read("counter_map { remove { key: \"a\" } }"));
  EXPECT_FALSE(is_read("counter_map { clear {} }"));
}

TEST(BrokerCounterMap, WatchesMayFilterByKeyOrPrefix) {
  v1::WatchRequest watch;
  watch.set_type(v1::COUNTER_MAP);
  watch.set_name("quotas");
  watch.set_key("u/alice");
  EXPECT_TRUE(ValidateWatchRequest(watch, Limits{}).ok());
  watch.clear_key();
  watch.set_prefix("u/");
  EXPECT_TRUE(ValidateWatchRequest(watch, Limits{}).ok());
}

TEST(BrokerCounterMap, RejectsForeignOrMissingOperations) {
  StateDriver quotas = Quotas();
  v1::Response r = quotas.Apply("map { size {} }");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(),
            "counter map \"quotas\": not a counter map operation");
  r = quotas.Apply("counter_map {}");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(quotas.revision(), 0);
}

TEST(BrokerCounterMap, KeysWithArbitraryBytesAreQuotedSafely) {
  StateDriver quotas = Quotas();
  quotas.Apply(Set("\\xff\\x00", kMax));
  v1::Response r = quotas.Apply(Add("\\xff\\x00", 1));
  EXPECT_EQ(r.error().message(),
            absl::StrCat("counter map \"quotas\" key \"\\xff\\x00\": adding 1 "
                         "to ",
                         kMax, " overflows int64"));
}

TEST(BrokerCounterMap, DescribeCountsTheCounters) {
  StateDriver quotas = Quotas();
  EXPECT_EQ(quotas.Describe().summary(), "0 counters");
  quotas.Apply(R"pb(counter_map { add { key: "a" delta: 5 } })pb");
  EXPECT_EQ(quotas.Describe().summary(), "1 counter");
  quotas.Apply(R"pb(counter_map { add { key: "b" delta: 1 } })pb");
  const v1::PrimitiveInfo info = quotas.Describe();
  EXPECT_EQ(info.summary(), "2 counters");
  EXPECT_EQ(info.holders_size(), 0);
  EXPECT_EQ(info.waiters_size(), 0);
}

}  // namespace
}  // namespace atomix::broker
