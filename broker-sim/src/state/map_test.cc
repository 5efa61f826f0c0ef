// MapState: the pure map state machine, driven with a fixed logical time and
// no store: writes, versions, preconditions, and paged listing.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "broker-sim/src/state/map.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::StateDriver;

constexpr int kOk = 0;
constexpr int kInvalidArgument = 3;
constexpr int kNotFound = 5;
constexpr int kAlreadyExists = 6;
constexpr int kFailedPrecondition = 9;

v1::Request Put(const std::string& key, const std::string& value) {
  v1::Request request;
  request.set_type(v1::MAP);
  request.set_name("config");
  v1::MapPut* put = request.mutable_map()->mutable_put();
  put->set_key(key);
  put->set_value(value);
  return request;
}

v1::Request List(const std::string& prefix, const std::string& start_after,
                 uint32_t limit, bool keys_only = false) {
  v1::Request request;
  request.set_type(v1::MAP);
  request.set_name("config");
  v1::MapList* list = request.mutable_map()->mutable_list();
  list->set_prefix(prefix);
  list->set_start_after(start_after);
  list->set_limit(limit);
  list->set_keys_only(keys_only);
  return request;
}

TEST(BrokerMap, PutReturnsThePreviousEntry) {
  StateDriver map(v1::MAP, "config");
  v1::Response r = map.Apply(R"pb(map { put { key: "a" value: "1" } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.map().version(), 1);
  EXPECT_FALSE(r.map().present());
  EXPECT_FALSE(r.map().has_entry());
  EXPECT_EQ(r.revision(), 1);

  r = map.Apply(R"pb(map { put { key: "a" value: "2" } })pb");
  EXPECT_EQ(r.map().version(), 2);
  EXPECT_TRUE(r.map().present());
  EXPECT_EQ(r.map().entry().key(), "a");
  EXPECT_EQ(r.map().entry().value(), "1");
  EXPECT_EQ(r.map().entry().version(), 1);

  r = map.Apply(R"pb(map { get { key: "a" } })pb");
  EXPECT_TRUE(r.map().present());
  EXPECT_EQ(r.map().entry().value(), "2");
  EXPECT_EQ(r.map().entry().version(), 2);
  EXPECT_EQ(r.revision(), 2);

  r = map.Apply(R"pb(map { get { key: "zz" } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_FALSE(r.map().present());
}

TEST(BrokerMap, PutIfVersion) {
  StateDriver map(v1::MAP, "config");
  v1::Response r =
      map.Apply(R"pb(map { put { key: "a" value: "1" if_version: 3 } })pb");
  EXPECT_EQ(r.error().code(), kNotFound);
  EXPECT_EQ(r.error().message(),
            "map \"config\" has no key \"a\"; expected version 3");
  EXPECT_FALSE(r.error().has_current());
  EXPECT_EQ(map.revision(), 0);

  map.Apply(R"pb(map { put { key: "a" value: "1" } })pb");
  r = map.Apply(R"pb(map { put { key: "a" value: "2" if_version: 3 } })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "map \"config\" key \"a\": expected version 3, current version is 1");
  EXPECT_EQ(r.error().current(), 1);
  EXPECT_EQ(r.revision(), 1);
  EXPECT_FALSE(map.last_mutated());

  r = map.Apply(R"pb(map { put { key: "a" value: "2" if_version: 1 } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.map().version(), 2);
  EXPECT_EQ(r.map().entry().version(), 1);
}

TEST(BrokerMap, InsertUpdateRemove) {
  StateDriver map(v1::MAP, "config");
  v1::Response r = map.Apply(R"pb(map { update { key: "a" value: "x" } })pb");
  EXPECT_EQ(r.error().code(), kNotFound);
  EXPECT_EQ(r.error().message(), "map \"config\" has no key \"a\"");
  r = map.Apply(R"pb(map { remove { key: "a" } })pb");
  EXPECT_EQ(r.error().code(), kNotFound);
  EXPECT_EQ(map.revision(), 0);

  r = map.Apply(R"pb(map { insert { key: "a" value: "1" } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.map().version(), 1);
  r = map.Apply(R"pb(map { insert { key: "a" value: "2" } })pb");
  EXPECT_EQ(r.error().code(), kAlreadyExists);
  EXPECT_EQ(r.error().message(),
            "map \"config\" already has key \"a\" (version 1)");
  EXPECT_EQ(r.revision(), 1);

  r = map.Apply(R"pb(map { update { key: "a" value: "2" if_version: 5 } })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().current(), 1);
  r = map.Apply(R"pb(map { update { key: "a" value: "2" if_version: 1 } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.map().version(), 2);
  EXPECT_TRUE(r.map().present());
  EXPECT_EQ(r.map().entry().value(), "1");

  r = map.Apply(R"pb(map { remove { key: "a" if_version: 1 } })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().current(), 2);
  r = map.Apply(R"pb(map { remove { key: "a" } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.map().version(), 3);
  EXPECT_TRUE(r.map().present());
  EXPECT_EQ(r.map().entry().key(), "a");
  EXPECT_EQ(r.map().entry().value(), "2");
  EXPECT_EQ(r.map().entry().version(), 2);

  r = map.Apply(R"pb(map { contains { key: "a" } })pb");
  EXPECT_FALSE(r.map().present());
  EXPECT_EQ(r.revision(), 3);
}

TEST(BrokerMap, SizeAndClear) {
  StateDriver map(v1::MAP, "config");
  v1::Response r = map.Apply("map { clear {} }");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_FALSE(map.last_mutated());  // clearing an empty map changes nothing
  EXPECT_EQ(r.map().version(), 0);
  EXPECT_EQ(r.revision(), 0);

  map.Apply(R"pb(map { put { key: "a" value: "1" } })pb");
  map.Apply(R"pb(map { put { key: "b" value: "1" } })pb");
  EXPECT_EQ(map.Apply("map { size {} }").map().size(), 2);
  EXPECT_TRUE(map.Apply(R"pb(map { contains { key: "b" } })pb").map().present());

  r = map.Apply("map { clear {} }");
  EXPECT_TRUE(map.last_mutated());
  EXPECT_EQ(r.map().version(), 3);
  EXPECT_EQ(r.revision(), 3);
  EXPECT_EQ(map.Apply("map { size {} }").map().size(), 0);
}

TEST(BrokerMap, KeysWithArbitraryBytesAreQuotedSafely) {
  StateDriver map(v1::MAP, "config");
  v1::Response r = map.Apply(R"pb(map { remove { key: "\xff\x00\"q" } })pb");
  EXPECT_EQ(r.error().code(), kNotFound);
  EXPECT_EQ(r.error().message(),
            "map \"config\" has no key \"\\xff\\x00\\\"q\"");
  r = map.Apply(absl::StrFormat(R"pb(map { remove { key: "%s" } })pb",
                                std::string(100, 'k')));
  EXPECT_EQ(r.error().message(),
            absl::StrFormat("map \"config\" has no key \"%s\"... (100 bytes)",
                            std::string(64, 'k')));
}

TEST(BrokerMap, ListOrdersByBytesAndHonorsPrefixAndStartAfter) {
  StateDriver map(v1::MAP, "config");
  for (const char* key : {"b", "a/2", "a/1", "a", "a/3", "\x80", "ab"}) {
    map.ApplyRequest(Put(key, std::string("v-") + key));
  }
  v1::Response r = map.ApplyRequest(List("", "", 0));
  std::vector<std::string> keys;
  for (const auto& e : r.map().entries()) keys.push_back(e.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "a/1", "a/2", "a/3", "ab",
                                            "b", "\x80"}));
  EXPECT_FALSE(r.map().more());
  EXPECT_EQ(r.revision(), 7);

  r = map.ApplyRequest(List("a/", "", 2));
  ASSERT_EQ(r.map().entries_size(), 2);
  EXPECT_EQ(r.map().entries(0).key(), "a/1");
  EXPECT_EQ(r.map().entries(0).value(), "v-a/1");
  EXPECT_EQ(r.map().entries(0).version(), 3);
  EXPECT_EQ(r.map().entries(1).key(), "a/2");
  EXPECT_TRUE(r.map().more());

  r = map.ApplyRequest(List("a/", "a/2", 2, /*keys_only=*/true));
  ASSERT_EQ(r.map().entries_size(), 1);
  EXPECT_EQ(r.map().entries(0).key(), "a/3");
  EXPECT_EQ(r.map().entries(0).value(), "");
  EXPECT_EQ(r.map().entries(0).version(), 5);
  EXPECT_FALSE(r.map().more());

  // start_after before the prefix starts at the prefix; after it, nothing.
  r = map.ApplyRequest(List("a/", "0", 10));
  EXPECT_EQ(r.map().entries_size(), 3);
  r = map.ApplyRequest(List("a/", "b", 10));
  EXPECT_EQ(r.map().entries_size(), 0);
  EXPECT_FALSE(r.map().more());
}

TEST(BrokerMap, ListStopsAtThePageByteLimitButReturnsAtLeastOneEntry) {
  Limits limits;
  limits.max_page_bytes = 100;
  StateDriver map(v1::MAP, "config", limits);
  for (int i = 0; i < 10; ++i) {
    map.ApplyRequest(Put(absl::StrFormat("k%d", i), std::string(29, 'v')));
  }
  // 2 + 29 = 31 bytes each: three fit in 100 bytes.
  v1::Response r = map.ApplyRequest(List("", "", 0));
  EXPECT_EQ(r.map().entries_size(), 3);
  EXPECT_TRUE(r.map().more());
  // Keys only: 2 bytes each, so the count limit wins.
  r = map.ApplyRequest(List("", "", 5, /*keys_only=*/true));
  EXPECT_EQ(r.map().entries_size(), 5);

  map.ApplyRequest(Put("big", std::string(500, 'v')));
  r = map.ApplyRequest(List("big", "", 0));
  EXPECT_EQ(r.map().entries_size(), 1);
  EXPECT_FALSE(r.map().more());
}

TEST(BrokerMap, ListLimitDefaultsAndCaps) {
  Limits limits;
  limits.default_page_size = 4;
  limits.max_page_size = 6;
  StateDriver map(v1::MAP, "config", limits);
  for (int i = 0; i < 20; ++i) map.ApplyRequest(Put(absl::StrFormat("k%02d", i), "v"));
  EXPECT_EQ(map.ApplyRequest(List("", "", 0)).map().entries_size(), 4);
  EXPECT_EQ(map.ApplyRequest(List("", "", 5)).map().entries_size(), 5);
  EXPECT_EQ(map.ApplyRequest(List("", "", 100000)).map().entries_size(), 6);
}

// Pages through one prefix of a 100,000-entry map: every key of the prefix
// comes back exactly once, in order, and nothing else does.
TEST(BrokerMap, PagingOneHundredThousandEntriesByPrefix) {
  StateDriver map(v1::MAP, "config");
  constexpr int kEntries = 100000;
  const char* prefixes[] = {"a/", "b/", "b", "c/"};
  std::vector<std::string> expected;
  for (int i = 0; i < kEntries; ++i) {
    const std::string key = absl::StrFormat("%s%06d", prefixes[i % 4], i);
    if (i % 4 == 1) expected.push_back(key);
    map.ApplyRequest(Put(key, "v"));
  }
  ASSERT_EQ(map.revision(), kEntries);
  std::sort(expected.begin(), expected.end());

  for (uint32_t limit : {1000u, 777u}) {
    std::vector<std::string> seen;
    std::string after;
    int pages = 0;
    while (true) {
      v1::Response r = map.ApplyRequest(List("b/", after, limit));
      ASSERT_EQ(r.error().code(), kOk);
      ++pages;
      for (const auto& e : r.map().entries()) {
        ASSERT_TRUE(seen.empty() || seen.back() < e.key());
        seen.push_back(e.key());
      }
      if (!r.map().more()) break;
      ASSERT_GT(r.map().entries_size(), 0);
      after = seen.back();
    }
    EXPECT_EQ(seen, expected);
    EXPECT_EQ(pages, (static_cast<int>(expected.size()) + limit - 1) / limit);
  }
  EXPECT_EQ(map.revision(), kEntries);  // listing takes no revision
}

// A million entries: Size is immediate and a page from the middle is cheap.
TEST(BrokerMap, OneMillionEntries) {
  StateDriver map(v1::MAP, "config");
  constexpr int kEntries = 1000000;
  auto& state = static_cast<MapState&>(map.machine());
  v1::Request put = Put("", "v");
  for (int i = 0; i < kEntries; ++i) {
    put.mutable_map()->mutable_put()->set_key(absl::StrFormat("key/%07d", i));
    map.ApplyRequest(put);
  }
  EXPECT_EQ(state.entries().size(), kEntries);
  EXPECT_EQ(map.Apply("map { size {} }").map().size(), kEntries);
  v1::Response r = map.ApplyRequest(List("key/", "key/0500000", 3));
  ASSERT_EQ(r.map().entries_size(), 3);
  EXPECT_EQ(r.map().entries(0).key(), "key/0500001");
  EXPECT_EQ(r.map().entries(0).version(), 500002);
  EXPECT_TRUE(r.map().more());
  r = map.ApplyRequest(List("key/", "key/0999998", 3));
  ASSERT_EQ(r.map().entries_size(), 1);
  EXPECT_FALSE(r.map().more());
}

TEST(BrokerMap, RejectsForeignOperations) {
  StateDriver map(v1::MAP, "config");
  EXPECT_EQ(map.Apply("set { size {} }").error().code(), kInvalidArgument);
  EXPECT_EQ(map.Apply("map {}").error().code(), kInvalidArgument);
}

TEST(BrokerMap, DescribeCountsEntriesAndListsEphemeralOnes) {
  using testing::Holdings;
  StateDriver map(v1::MAP, "config");
  EXPECT_EQ(map.Describe().summary(), "0 entries");
  map.Apply(R"pb(map { put { key: "a" value: "1" } })pb");
  EXPECT_EQ(map.Describe().summary(), "1 entry");
  const auto put_ephemeral = [&](const std::string& key, uint64_t session) {
    v1::Request request = testing::MakeRequest(
        v1::MAP, "config", "map { put { key: \"" + key + "\" value: \"v\" ephemeral: true } }");
    request.set_session_id(session);
    ASSERT_FALSE(map.ApplyRequest(request).has_error());
  };
  put_ephemeral("k2", 5);
  put_ephemeral("k1", 5);
  put_ephemeral("\\001b", 3);
  v1::PrimitiveInfo info = map.Describe();
  EXPECT_EQ(info.summary(), "4 entries");
  // By session, then key; a hex digit after \x01 is escaped too.
  EXPECT_EQ(Holdings(info.holders()),
            (std::vector<std::string>{"3 | entry \\x01\\x62 | 0", "5 | entry k1 | 0",
                                      "5 | entry k2 | 0"}));
  EXPECT_EQ(info.waiters_size(), 0);
  map.EndSession(5);
  EXPECT_EQ(Holdings(map.Describe().holders()),
            (std::vector<std::string>{"3 | entry \\x01\\x62 | 0"}));

  for (int i = 0; i < 150; ++i) put_ephemeral("e" + std::to_string(1000 + i), 7);
  info = map.Describe();
  EXPECT_EQ(info.summary(), "152 entries");
  ASSERT_EQ(info.holders_size(), kMaxDescribed);
  EXPECT_EQ(info.holders(1).what(), "entry e1000");
  EXPECT_EQ(info.holders(99).what(), "entry e1098");
}

}  // namespace
}  // namespace atomix::broker
