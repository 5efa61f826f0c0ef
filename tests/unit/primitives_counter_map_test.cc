// CounterMap<K> over an in-process broker core: what the client does on its
// own (refusing Decrement(INT64_MIN) without a round trip, paging, decoding
// counters from 8 bytes) and what it makes of a broker that breaks the
// protocol.
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "atomix/counter_map.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using testing::Drain;
using testing::FakeClientCore;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

class CounterMapUnitTest : public ::testing::Test {
 protected:
  CounterMap<std::string> Open(const std::string& name) {
    auto m = internal::GetCounterMap<std::string>(core_, name);
    EXPECT_TRUE(m.ok()) << m.status();
    return *std::move(m);
  }

  int CallsWith(bool (v1::CounterMapRequest::*has)() const) {
    int n = 0;
    for (const auto& c : core_->calls()) n += (c.request.counter_map().*has)() ? 1 : 0;
    return n;
  }

  std::shared_ptr<FakeClientCore> core_ = FakeClientCore::Sessionless();
};

TEST(CounterMapDecode, CountersAreEightBytesBigEndianTwosComplement) {
  const std::string k = "k";
  EXPECT_EQ(*internal::DecodeCount(std::string("\0\0\0\0\0\0\x01\x02", 8), "m", k), 258);
  EXPECT_EQ(*internal::DecodeCount(std::string(8, '\xff'), "m", k), -1);
  EXPECT_EQ(*internal::DecodeCount(std::string("\x80\0\0\0\0\0\0\0", 8), "m", k), kMin);
  auto bad = internal::DecodeCount("abc", "m", "k\x01");
  EXPECT_CODE(bad, kInternal);
  EXPECT_EQ(bad.status().message(),
            "broker sent counter map \"m\" key \"k\\x01\" a value of 3 bytes; a counter is 8");
}

TEST_F(CounterMapUnitTest, DecrementByInt64MinNeverLeavesTheClient) {
  CounterMap<std::string> m = Open("q");
  core_->clear_calls();
  EXPECT_CODE(m.Decrement("k", kMin), kInvalidArgument);
  EXPECT_TRUE(core_->calls().empty());
  ASSERT_OK_AND_ASSIGN(Versioned<int64_t> n, m.Decrement("k", kMin + 1));
  EXPECT_EQ(n.value, -(kMin + 1));
  EXPECT_EQ(CallsWith(&v1::CounterMapRequest::has_add), 1);
}

TEST_F(CounterMapUnitTest, EntriesWalkEveryPageOnce) {
  CounterMap<std::string> m = Open("q");
  for (int i = 0; i < 10; ++i) ASSERT_OK(m.Set(absl::StrFormat("k%02d", i), -i));
  core_->clear_calls();
  ListOptions o;
  o.page_size = 3;
  absl::Status end;
  auto entries = Drain(m.Entries(o), &end);
  EXPECT_OK(end);
  ASSERT_EQ(entries.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(entries[i].key, absl::StrFormat("k%02d", i));
    EXPECT_EQ(entries[i].value, -i);
  }
  EXPECT_EQ(CallsWith(&v1::CounterMapRequest::has_list), 4);
}

TEST_F(CounterMapUnitTest, ABrokerThatBreaksTheProtocolEndsTheListing) {
  CounterMap<std::string> m = Open("q");
  ASSERT_OK(m.Set("a", 1));
  ASSERT_OK(m.Set("b", 2));
  ListOptions o;
  o.page_size = 1;
  // A value that is not 8 bytes.
  core_->tamper = [](const v1::Request& r, v1::Response& resp) {
    if (r.counter_map().has_list()) resp.mutable_counter_map()->mutable_entries(0)->set_value("x");
  };
  absl::Status end;
  EXPECT_TRUE(Drain(m.Entries(o), &end).empty());
  EXPECT_CODE(end, kInternal);
  // A page that does not move past the previous one.
  core_->tamper = [](const v1::Request& r, v1::Response& resp) {
    if (r.counter_map().has_list()) resp.mutable_counter_map()->mutable_entries(0)->set_key("a");
  };
  EXPECT_EQ(Drain(m.Entries(o), &end).size(), 1u);
  EXPECT_CODE(end, kInternal);
  // "More" with an empty page.
  core_->tamper = [](const v1::Request& r, v1::Response& resp) {
    if (!r.counter_map().has_list()) return;
    resp.mutable_counter_map()->clear_entries();
    resp.mutable_counter_map()->set_more(true);
  };
  EXPECT_TRUE(Drain(m.Entries(o), &end).empty());
  EXPECT_CODE(end, kInternal);
}

TEST(CounterMapWatchDecoder, EventsCarryKeyValuePreviousAndVersion) {
  internal::CounterMapWatchDecoder<int64_t, Codec<int64_t>> decoder{"q"};
  const std::string key = Codec<int64_t>::Encode(-7);
  std::vector<internal::RawWatchEvent> raw(2);
  raw[0].type = EventType::kUpdated;
  raw[0].revision = 12;
  raw[0].entry = internal::RawEntry{key, std::string("\0\0\0\0\0\0\0\x05", 8), 12};
  raw[0].previous = internal::RawEntry{key, std::string(8, '\xff'), 9};
  raw[1].type = EventType::kRemoved;
  raw[1].revision = 13;
  raw[1].previous = internal::RawEntry{key, std::string("\0\0\0\0\0\0\0\x05", 8), 12};
  std::vector<CounterMapEvent<int64_t>> out;
  ASSERT_OK(decoder.Events(raw, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].key, -7);
  EXPECT_EQ(out[0].value, 5);
  EXPECT_EQ(out[0].previous, -1);
  EXPECT_EQ(out[0].version, 12);
  EXPECT_EQ(out[1].type, EventType::kRemoved);
  EXPECT_EQ(out[1].key, -7);
  EXPECT_EQ(out[1].value, 0);
  EXPECT_EQ(out[1].previous, 5);
  EXPECT_EQ(out[1].version, 13);

  // A key the codec cannot decode, or a counter of the wrong size, ends the
  // watch with the decode status.
  raw.resize(1);
  raw[0].entry->key = "abc";
  out.clear();
  EXPECT_CODE(decoder.Events(raw, out), kInvalidArgument);
  raw[0].entry->key = key;
  raw[0].entry->value = "1234";
  EXPECT_CODE(decoder.Events(raw, out), kInternal);

  // A resync snapshot holds the counters; a replay gives one kInserted each.
  internal::RawSnapshot snapshot;
  snapshot.revision = 20;
  snapshot.reason = ResyncReason::kCompacted;
  snapshot.entries = {internal::RawEntry{key, std::string(8, '\0'), 4}};
  out.clear();
  ASSERT_OK(decoder.Snapshot(snapshot, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, EventType::kResync);
  EXPECT_EQ(out[0].reason, ResyncReason::kCompacted);
  ASSERT_EQ(out[0].snapshot.size(), 1u);
  EXPECT_EQ(out[0].snapshot[0], (Entry<int64_t, int64_t>{-7, 0, 4}));
  snapshot.replay = true;
  out.clear();
  ASSERT_OK(decoder.Snapshot(snapshot, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, EventType::kInserted);
  EXPECT_EQ(out[0].revision, 20);
  EXPECT_EQ(out[0].version, 4);
}

}  // namespace
}  // namespace atomix
