// IndexedMap<K, V> over an in-process broker core: what each call sends,
// which calls are retried as idempotent, what the typed layer decodes, and
// how a listing ends when the broker misbehaves.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "atomix/indexed_map.h"
#include "atomix/status.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using testing::Drain;
using testing::FakeClientCore;
using StringMap = IndexedMap<std::string, std::string>;
using StringEntry = IndexedEntry<std::string, std::string>;

class IndexedMapTest : public ::testing::Test {
 protected:
  StringMap Open(const std::string& name) {
    auto m = internal::GetIndexedMap<std::string, std::string>(core_, name);
    EXPECT_TRUE(m.ok()) << m.status();
    return *std::move(m);
  }

  std::shared_ptr<FakeClientCore> core_ = FakeClientCore::Sessionless();
};

TEST_F(IndexedMapTest, OpenSendsOpenRequest) {
  Open("jobs");
  ASSERT_EQ(core_->calls().size(), 1u);
  const v1::Request open = core_->calls()[0].request;
  EXPECT_TRUE(open.has_open());
  EXPECT_EQ(open.type(), v1::INDEXED_MAP);
  EXPECT_EQ(open.name(), "jobs");
}

TEST_F(IndexedMapTest, RequestsAndIdempotence) {
  StringMap m = Open("jobs");
  core_->clear_calls();
  ASSERT_OK(m.Put("a", "1"));
  ASSERT_OK(m.Insert("b", "2"));
  ASSERT_OK(m.Put("a", "3", IfVersion(1)));
  ASSERT_OK(m.Remove("b", IfVersion(2)));
  ASSERT_OK(m.Clear());
  ASSERT_OK(m.Get("a"));
  ASSERT_OK(m.First());
  ASSERT_OK(m.Last());
  ASSERT_OK(m.At(4));
  ASSERT_OK(m.Next(5));
  ASSERT_OK(m.Prev(6));
  ASSERT_OK(m.Size());
  Drain(m.Entries(AfterIndex(7)));
  auto calls = core_->calls();
  ASSERT_EQ(calls.size(), 13u);
  for (size_t i = 0; i < 5; ++i) EXPECT_FALSE(calls[i].idempotent) << i;
  for (size_t i = 5; i < 13; ++i) EXPECT_TRUE(calls[i].idempotent) << i;
  for (const auto& c : calls) EXPECT_EQ(c.request.type(), v1::INDEXED_MAP);
  EXPECT_FALSE(calls[0].request.indexed_map().put().has_if_version());
  // Insert is a put only if absent.
  EXPECT_TRUE(calls[1].request.indexed_map().put().has_if_version());
  EXPECT_EQ(calls[1].request.indexed_map().put().if_version(), 0);
  EXPECT_EQ(calls[2].request.indexed_map().put().if_version(), 1);
  EXPECT_EQ(calls[3].request.indexed_map().remove().if_version(), 2);
  EXPECT_TRUE(calls[4].request.indexed_map().has_clear());
  using Where = v1::IndexedMapNavigate;
  const std::vector<std::pair<Where::Where, int64_t>> navigations = {
      {Where::FIRST, 0}, {Where::LAST, 0}, {Where::AT, 4}, {Where::NEXT, 5}, {Where::PREV, 6}};
  for (size_t i = 0; i < navigations.size(); ++i) {
    const auto& n = calls[6 + i].request.indexed_map().navigate();
    EXPECT_EQ(n.where(), navigations[i].first) << i;
    EXPECT_EQ(n.index(), navigations[i].second) << i;
  }
  EXPECT_EQ(calls[12].request.indexed_map().list().after_index(), 7);
}

TEST_F(IndexedMapTest, EntriesCarryIndexesAndVersions) {
  StringMap m = Open("jobs");
  ASSERT_OK_AND_ASSIGN(Version v1, m.Put("b", "1"));
  ASSERT_OK_AND_ASSIGN(Version v2, m.Put("a", "2"));
  ASSERT_OK_AND_ASSIGN(Version v3, m.Put("b", "3"));
  EXPECT_LT(v1, v2);
  EXPECT_LT(v2, v3);
  ASSERT_OK_AND_ASSIGN(auto b, m.Get("b"));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*b, (StringEntry{1, "b", "3", v3}));
  ASSERT_OK_AND_ASSIGN(auto last, m.Last());
  EXPECT_EQ(last, (StringEntry{2, "a", "2", v2}));
  ASSERT_OK_AND_ASSIGN(auto none, m.Next(2));
  EXPECT_FALSE(none.has_value());
  EXPECT_EQ(Drain(m.Entries()), (std::vector<StringEntry>{{1, "b", "3", v3}, {2, "a", "2", v2}}));
}

TEST_F(IndexedMapTest, WriteOptionsItDoesNotTakeFailWithoutARoundTrip) {
  StringMap m = Open("jobs");
  core_->clear_calls();
  auto fenced = m.Put("a", "1", WriteOptions().IfFence("lock", 3));
  EXPECT_CODE(fenced, kInvalidArgument);
  EXPECT_EQ(fenced.status().message(), "indexed map \"jobs\": Put does not take IfFence");
  EXPECT_CODE(m.Put("a", "1", WithEphemeral()), kInvalidArgument);
  EXPECT_CODE(m.Put("a", "1", WithTTL(std::chrono::seconds(1))), kInvalidArgument);
  auto insert = m.Insert("a", "1", IfVersion(2));
  EXPECT_EQ(insert.status().message(), "indexed map \"jobs\": Insert does not take IfVersion");
  EXPECT_CODE(m.Remove("a", WriteOptions().IfFence("lock", 3)), kInvalidArgument);
  EXPECT_TRUE(core_->calls().empty());
}

TEST_F(IndexedMapTest, DecodeFailuresNameTheMapAndTheKey) {
  StringMap raw = Open("scores");
  ASSERT_OK(raw.Put("alice", "abc"));
  auto m = internal::GetIndexedMap<std::string, int64_t>(core_, "scores");
  ASSERT_OK(m);
  for (const auto& got : {m->Get("alice"), m->First(), m->At(1)}) {
    EXPECT_CODE(got, kInvalidArgument);
    EXPECT_NE(got.status().message().find("(indexed map \"scores\", key \"alice\")"),
              std::string::npos)
        << got.status();
  }
  absl::Status end;
  EXPECT_TRUE(Drain(m->Entries(), &end).empty());
  EXPECT_CODE(end, kInvalidArgument);
}

TEST_F(IndexedMapTest, AnswerWithoutTheResultIsInternal) {
  StringMap m = Open("jobs");
  core_->tamper = [](const v1::Request&, v1::Response& resp) { resp.clear_indexed_map(); };
  auto first = m.First();
  EXPECT_CODE(first, kInternal);
  EXPECT_NE(first.status().message().find("indexed map \"jobs\" navigate without a result"),
            std::string::npos)
      << first.status();
}

TEST_F(IndexedMapTest, PagesFollowTheLastIndexAndAFailedPageEndsTheRange) {
  StringMap m = Open("jobs");
  for (int i = 0; i < 10; ++i) ASSERT_OK(m.Put(absl::StrFormat("k%d", 9 - i), "v"));
  ASSERT_OK(m.Remove("k5"));  // index 5
  core_->clear_calls();
  IndexedListOptions o;
  o.page_size = 3;
  std::vector<int64_t> indexes;
  for (const StringEntry& e : Drain(m.Entries(o))) indexes.push_back(e.index);
  EXPECT_EQ(indexes, (std::vector<int64_t>{1, 2, 3, 4, 6, 7, 8, 9, 10}));
  std::vector<int64_t> afters;
  for (const auto& c : core_->calls())
    afters.push_back(c.request.indexed_map().list().after_index());
  EXPECT_EQ(afters, (std::vector<int64_t>{0, 3, 7}));

  int lists = 0;
  core_->intercept = [&](const v1::Request& r) -> std::optional<absl::Status> {
    if (r.indexed_map().has_list() && ++lists == 2) return absl::UnavailableError("gone");
    return std::nullopt;
  };
  absl::Status end;
  EXPECT_EQ(Drain(m.Entries(o), &end).size(), 3u);
  EXPECT_CODE(end, kUnavailable);
}

TEST_F(IndexedMapTest, BrokerPagesThatDoNotAdvanceAreInternalErrors) {
  StringMap m = Open("jobs");
  for (int i = 0; i < 5; ++i) ASSERT_OK(m.Put(absl::StrFormat("k%d", i), "v"));
  IndexedListOptions o;
  o.page_size = 2;
  // A broker that ignores after_index.
  core_->tamper = [](const v1::Request& r, v1::Response& resp) {
    if (!r.indexed_map().has_list()) return;
    resp.mutable_indexed_map()->mutable_entries(0)->set_index(1);
  };
  absl::Status end;
  EXPECT_EQ(Drain(m.Entries(o), &end).size(), 2u);
  EXPECT_CODE(end, kInternal);
  EXPECT_NE(end.message().find("out of order"), std::string::npos) << end;
  // A broker that says "more" with an empty page.
  core_->tamper = [](const v1::Request& r, v1::Response& resp) {
    if (!r.indexed_map().has_list()) return;
    resp.mutable_indexed_map()->clear_entries();
    resp.mutable_indexed_map()->set_more(true);
  };
  EXPECT_TRUE(Drain(m.Entries(o), &end).empty());
  EXPECT_CODE(end, kInternal);
}

TEST_F(IndexedMapTest, WatchNeedsATransportThatServesWatches) {
  StringMap m = Open("jobs");
  EXPECT_CODE(m.Watch(), kUnimplemented);
}

}  // namespace
}  // namespace atomix
