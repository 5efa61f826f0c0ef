// Map<K, V> over an in-process broker core.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atomix/map.h"
#include "atomix/set.h"
#include "atomix/status.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using testing::Drain;

using testing::FakeClientCore;
using StringMap = Map<std::string, std::string>;

class MapTest : public ::testing::Test {
 protected:
  StringMap Open(const std::string& name) {
    auto m = internal::GetMap<std::string, std::string>(core_, name);
    EXPECT_TRUE(m.ok()) << m.status();
    return *std::move(m);
  }

  // Writes `n` entries key_fn(i) -> "v<i>" straight into the broker, in
  // batches, for speed.
  template <class KeyFn>
  void Load(const std::string& name, int n, KeyFn key_fn) {
    v1::RequestBatch batch;
    v1::ResponseBatch out;
    for (int i = 0; i < n; ++i) {
      v1::Request* r = batch.add_requests();
      r->set_type(v1::MAP);
      r->set_name(name);
      r->mutable_map()->mutable_put()->set_key(key_fn(i));
      r->mutable_map()->mutable_put()->set_value(absl::StrCat("v", i));
      if (batch.requests_size() == 5000 || i == n - 1) {
        out.Clear();
        core_->broker().Execute(batch, out);
        for (const auto& resp : out.responses())
          ASSERT_FALSE(resp.has_error()) << resp.error().message();
        batch.Clear();
      }
    }
  }

  // The number of List requests sent since the last clear_calls().
  int ListCalls() {
    int n = 0;
    for (const auto& c : core_->calls()) n += c.request.map().has_list() ? 1 : 0;
    return n;
  }

  std::shared_ptr<FakeClientCore> core_ = FakeClientCore::Sessionless();
};

TEST_F(MapTest, OpenSendsOpenRequest) {
  StringMap m = Open("config");
  EXPECT_EQ(m.name(), "config");
  auto calls = core_->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_TRUE(calls[0].request.has_open());
  EXPECT_EQ(calls[0].request.type(), v1::MAP);
}

TEST_F(MapTest, WritesReturnRevisions) {
  StringMap m = Open("config");
  ASSERT_OK_AND_ASSIGN(Version put, m.Put("a", "1"));
  EXPECT_EQ(put, 1);
  ASSERT_OK_AND_ASSIGN(Version ins, m.Insert("b", "2"));
  EXPECT_EQ(ins, 2);
  ASSERT_OK_AND_ASSIGN(Version upd, m.Update("a", "3"));
  EXPECT_EQ(upd, 3);
  ASSERT_OK_AND_ASSIGN(Version put2, m.Put("a", "4"));
  EXPECT_EQ(put2, 4);

  ASSERT_OK_AND_ASSIGN(auto a, m.Get("a"));
  EXPECT_EQ(a, (Versioned<std::string>{"4", 4}));
  ASSERT_OK_AND_ASSIGN(auto b, m.Get("b"));
  EXPECT_EQ(b, (Versioned<std::string>{"2", 2}));
  ASSERT_OK_AND_ASSIGN(auto c, m.Get("c"));
  EXPECT_EQ(c, std::nullopt);

  ASSERT_OK_AND_ASSIGN(bool has_a, m.Contains("a"));
  EXPECT_TRUE(has_a);
  ASSERT_OK_AND_ASSIGN(bool has_c, m.Contains("c"));
  EXPECT_FALSE(has_c);
  ASSERT_OK_AND_ASSIGN(int64_t size, m.Size());
  EXPECT_EQ(size, 2);

  ASSERT_OK_AND_ASSIGN(Version rem, m.Remove("b"));
  EXPECT_EQ(rem, 5);
  ASSERT_OK_AND_ASSIGN(size, m.Size());
  EXPECT_EQ(size, 1);

  ASSERT_OK_AND_ASSIGN(Version clear, m.Clear());
  EXPECT_EQ(clear, 6);
  ASSERT_OK_AND_ASSIGN(size, m.Size());
  EXPECT_EQ(size, 0);
  // Clearing an empty map changes nothing and takes no revision.
  ASSERT_OK_AND_ASSIGN(Version clear2, m.Clear());
  EXPECT_EQ(clear2, 0);
  EXPECT_EQ(core_->revision(), 6);
}

TEST_F(MapTest, RemovePrefixRemovesTheSubtreeAtOneRevision) {
  StringMap m = Open("tree");
  for (const char* k : {"a/1", "a/2", "a/3", "ab", "b/1"}) ASSERT_OK(m.Put(k, "v").status());
  ASSERT_EQ(core_->revision(), 5);
  ASSERT_OK_AND_ASSIGN(int64_t removed, m.RemovePrefix("a/"));
  EXPECT_EQ(removed, 3);
  EXPECT_EQ(core_->revision(), 6);
  const auto last = core_->calls().back();
  EXPECT_TRUE(last.request.map().has_remove_prefix());
  EXPECT_EQ(last.request.map().remove_prefix().prefix(), "a/");
  EXPECT_FALSE(last.idempotent);
  std::vector<std::string> left = Drain(m.Keys());
  EXPECT_EQ(left, (std::vector<std::string>{"ab", "b/1"}));
  // Nothing matches: nothing removed, no revision taken.
  ASSERT_OK_AND_ASSIGN(removed, m.RemovePrefix("zz"));
  EXPECT_EQ(removed, 0);
  EXPECT_EQ(core_->revision(), 6);
  // The empty prefix removes everything.
  ASSERT_OK_AND_ASSIGN(removed, m.RemovePrefix(""));
  EXPECT_EQ(removed, 2);
  EXPECT_EQ(core_->revision(), 7);
}

TEST_F(MapTest, WatchNeedsATransportThatServesWatches) {
  StringMap m = Open("config");
  auto ch = m.Watch();
  ASSERT_FALSE(ch.ok());
  EXPECT_EQ(ch.status().code(), absl::StatusCode::kUnimplemented) << ch.status();
}

TEST_F(MapTest, MissingAndPresentKeys) {
  StringMap m = Open("config");
  EXPECT_CODE(m.Update("a", "1"), kNotFound);
  EXPECT_CODE(m.Remove("a"), kNotFound);
  ASSERT_OK(m.Insert("a", "1"));
  auto again = m.Insert("a", "2");
  EXPECT_CODE(again, kAlreadyExists);
  EXPECT_EQ(core_->revision(), 1);
}

TEST_F(MapTest, IfVersion) {
  StringMap m = Open("config");
  ASSERT_OK_AND_ASSIGN(Version v1, m.Put("k", "a"));
  ASSERT_OK_AND_ASSIGN(Version v2, m.Put("other", "x"));
  EXPECT_EQ(v2, 2);

  // Put, Update and Remove with a stale version: FAILED_PRECONDITION with the
  // entry's current version, nothing applied.
  ASSERT_OK_AND_ASSIGN(Version v3, m.Put("k", "b", IfVersion(v1)));
  EXPECT_EQ(v3, 3);
  for (auto r : {m.Put("k", "c", IfVersion(v1)), m.Update("k", "c", IfVersion(v1)),
                 m.Remove("k", IfVersion(v1))}) {
    EXPECT_CODE(r, kFailedPrecondition);
    EXPECT_EQ(CurrentVersion(r.status()), 3);
  }
  EXPECT_EQ(core_->revision(), 3);

  ASSERT_OK_AND_ASSIGN(Version v4, m.Update("k", "d", IfVersion(3)));
  EXPECT_EQ(v4, 4);
  ASSERT_OK_AND_ASSIGN(auto got, m.Get("k"));
  EXPECT_EQ(got, (Versioned<std::string>{"d", 4}));
  ASSERT_OK_AND_ASSIGN(Version v5, m.Remove("k", IfVersion(4)));
  EXPECT_EQ(v5, 5);

  // IfVersion on an absent key: NOT_FOUND.
  for (auto r : {m.Put("k", "e", IfVersion(4)), m.Update("k", "e", IfVersion(4)),
                 m.Remove("k", IfVersion(4))}) {
    EXPECT_CODE(r, kNotFound);
    EXPECT_EQ(CurrentVersion(r.status()), std::nullopt);
  }
}

TEST_F(MapTest, RequestsAndIdempotence) {
  StringMap m = Open("config");
  core_->clear_calls();
  EXPECT_CODE(m.Put("k", "v", IfVersion(0)), kNotFound);
  ASSERT_OK(m.Put("k", "v"));
  ASSERT_OK(m.Insert("j", "v"));
  ASSERT_OK(m.Update("k", "w"));
  ASSERT_OK(m.Remove("j"));
  ASSERT_OK(m.Clear());
  ASSERT_OK(m.Get("k"));
  ASSERT_OK(m.Contains("k"));
  ASSERT_OK(m.Size());
  Drain(m.Entries());
  Drain(m.Keys());
  auto calls = core_->calls();
  ASSERT_EQ(calls.size(), 11u);
  for (size_t i = 0; i < 6; ++i) EXPECT_FALSE(calls[i].idempotent) << i;
  for (size_t i = 6; i < 11; ++i) EXPECT_TRUE(calls[i].idempotent) << i;
  EXPECT_EQ(calls[0].request.map().put().if_version(), 0);
  EXPECT_TRUE(calls[0].request.map().put().has_if_version());
  EXPECT_FALSE(calls[1].request.map().put().has_if_version());
  EXPECT_FALSE(calls[9].request.map().list().keys_only());
  EXPECT_TRUE(calls[10].request.map().list().keys_only());
}

TEST_F(MapTest, BadKeysValuesAndNames) {
  broker::Limits limits;
  limits.max_key_bytes = 8;
  limits.max_value_bytes = 8;
  core_ = FakeClientCore::Sessionless(limits);
  StringMap m = Open("m");
  EXPECT_CODE(m.Put("", "v"), kInvalidArgument);
  EXPECT_CODE(m.Get(""), kInvalidArgument);
  EXPECT_CODE(m.Put(std::string(9, 'k'), "v"), kInvalidArgument);
  EXPECT_CODE(m.Put("k", std::string(9, 'v')), kInvalidArgument);
  EXPECT_OK(m.Put(std::string(8, 'k'), std::string(8, 'v')));
  EXPECT_CODE((internal::GetMap<std::string, std::string>(core_, "")), kInvalidArgument);
  ASSERT_OK(internal::GetSet<std::string>(core_, "s"));
  EXPECT_CODE((internal::GetMap<std::string, std::string>(core_, "s")), kFailedPrecondition);
}

TEST_F(MapTest, DecodeFailuresNameTypeMapAndKey) {
  StringMap raw = Open("scores");
  ASSERT_OK_AND_ASSIGN(auto typed, (internal::GetMap<std::string, int64_t>(core_, "scores")));
  ASSERT_OK(typed.Put("a", 1));
  ASSERT_OK(raw.Put("b", "abc"));
  ASSERT_OK(typed.Put("c", 3));

  auto got = typed.Get("b");
  EXPECT_CODE(got, kInvalidArgument);
  EXPECT_EQ(got.status().message(),
            "cannot decode int64: expected 8 bytes, got 3 (map \"scores\", key \"b\")");
  ASSERT_OK_AND_ASSIGN(auto a, typed.Get("a"));
  EXPECT_EQ(a->value, 1);

  // The listing delivers what precedes the bad entry, then ends with its error.
  absl::Status end;
  auto entries = Drain(typed.Entries(), &end);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0], (Entry<std::string, int64_t>{"a", 1, 1}));
  EXPECT_CODE(end, kInvalidArgument);
  EXPECT_EQ(end.message(), got.status().message());

  // Keys() decodes keys only: the string keys decode, int32 keys do not.
  auto keys = Drain(typed.Keys(), &end);
  EXPECT_OK(end);
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_OK_AND_ASSIGN(auto by_int, (internal::GetMap<int32_t, std::string>(core_, "scores")));
  auto int_keys = Drain(by_int.Keys(), &end);
  EXPECT_TRUE(int_keys.empty());
  EXPECT_CODE(end, kInvalidArgument);
  EXPECT_EQ(end.message(),
            "cannot decode int32: expected 4 bytes, got 1 (map \"scores\", key \"a\")");
}

TEST_F(MapTest, EntriesInKeyOrderWithVersions) {
  StringMap m = Open("m");
  ASSERT_OK(m.Put("b", "2"));  // 1
  ASSERT_OK(m.Put("a", "1"));  // 2
  ASSERT_OK(m.Put("c", "3"));  // 3
  ASSERT_OK(m.Put("b", "4"));  // 4
  auto entries = Drain(m.Entries());
  using E = Entry<std::string, std::string>;
  EXPECT_EQ(entries, (std::vector<E>{{"a", "1", 2}, {"b", "4", 4}, {"c", "3", 3}}));
  EXPECT_EQ(Drain(m.Keys()), (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(MapTest, EmptyMapListsNothingInOneCall) {
  StringMap m = Open("m");
  core_->clear_calls();
  absl::Status end;
  EXPECT_TRUE(Drain(m.Entries(), &end).empty());
  EXPECT_OK(end);
  EXPECT_EQ(ListCalls(), 1);
}

TEST_F(MapTest, IntegerKeysListInNumericOrder) {
  ASSERT_OK_AND_ASSIGN(auto m, (internal::GetMap<int64_t, std::string>(core_, "ints")));
  for (int64_t k : {5, -3, 0, 1000000, -1000000, 7}) ASSERT_OK(m.Put(k, absl::StrCat(k)));
  ListOptions o;
  o.page_size = 2;
  EXPECT_EQ(Drain(m.Keys(o)), (std::vector<int64_t>{-1000000, -3, 0, 5, 7, 1000000}));
}

TEST_F(MapTest, PagesAcrossManyPagesWithPrefix) {
  StringMap m = Open("tree");
  // Sorted neighbours of the prefix on both sides, and the subtree itself.
  Load("tree", 3000, [](int i) {
    switch (i % 3) {
      case 0:
        return absl::StrFormat("a/b/%05d", i);
      case 1:
        return absl::StrFormat("a/a/%05d", i);
      default:
        return absl::StrFormat("a/c/%05d", i);
    }
  });
  ASSERT_OK(m.Put("a/b", "not in the subtree"));
  ASSERT_OK(m.Put("a/b0", "not in the subtree"));

  ListOptions o = WithPrefix("a/b/");
  o.page_size = 7;
  core_->clear_calls();
  absl::Status end;
  auto entries = Drain(m.Entries(o), &end);
  ASSERT_OK(end);
  ASSERT_EQ(entries.size(), 1000u);
  for (size_t j = 0; j < entries.size(); ++j) {
    int i = static_cast<int>(j) * 3;
    EXPECT_EQ(entries[j].key, absl::StrFormat("a/b/%05d", i));
    EXPECT_EQ(entries[j].value, absl::StrCat("v", i));
  }
  EXPECT_EQ(ListCalls(), 143);  // ceil(1000 / 7)
  for (const auto& c : core_->calls()) {
    EXPECT_EQ(c.request.map().list().prefix(), "a/b/");
    EXPECT_EQ(c.request.map().list().limit(), 7u);
  }

  // Keys only, default page size (1000): one page for the subtree.
  core_->clear_calls();
  auto keys = Drain(m.Keys(WithPrefix("a/b/")), &end);
  ASSERT_OK(end);
  EXPECT_EQ(keys.size(), 1000u);
  EXPECT_EQ(ListCalls(), 1);
  for (const auto& c : core_->calls()) EXPECT_EQ(c.request.map().list().limit(), 0u);

  EXPECT_TRUE(Drain(m.Keys(WithPrefix("zzz"))).empty());
  EXPECT_EQ(Drain(m.Keys(WithPrefix("a/b"))).size(), 1002u);
  EXPECT_EQ(Drain(m.Keys()).size(), 3002u);
}

TEST_F(MapTest, PagesEndEarlyAtThePageByteLimit) {
  broker::Limits limits;
  limits.max_page_bytes = 100;
  core_ = FakeClientCore::Sessionless(limits);
  StringMap m = Open("m");
  for (int i = 0; i < 20; ++i) ASSERT_OK(m.Put(absl::StrFormat("k%02d", i), std::string(30, 'v')));
  core_->clear_calls();
  auto entries = Drain(m.Entries());
  ASSERT_EQ(entries.size(), 20u);
  EXPECT_EQ(entries.back().key, "k19");
  EXPECT_EQ(ListCalls(), 7);  // three 33-byte entries per 100-byte page
  // A keys-only listing counts key bytes only.
  core_->clear_calls();
  EXPECT_EQ(Drain(m.Keys()).size(), 20u);
  EXPECT_EQ(ListCalls(), 1);
}

TEST_F(MapTest, TwoHundredThousandEntriesPageByPage) {
  constexpr int kEntries = 200000;
  StringMap m = Open("big");
  core_->set_record_calls(false);
  Load("big", kEntries, [](int i) { return absl::StrFormat("key/%07d", i); });
  ASSERT_OK_AND_ASSIGN(int64_t size, m.Size());
  ASSERT_EQ(size, kEntries);

  for (uint32_t page_size : {0u, 10000u}) {
    ListOptions o;
    o.page_size = page_size;
    int n = 0;
    bool ok = true;
    for (const auto& e : m.Entries(o)) {
      if (!e.ok()) {
        ADD_FAILURE() << e.status();
        ok = false;
        break;
      }
      if (e->key != absl::StrFormat("key/%07d", n) || e->value != absl::StrCat("v", n)) {
        ADD_FAILURE() << "entry " << n << " is " << e->key;
        ok = false;
        break;
      }
      ++n;
    }
    EXPECT_TRUE(ok);
    EXPECT_EQ(n, kEntries) << "page size " << page_size;
  }
}

TEST_F(MapTest, ListingWhileOthersWriteSkipsAndRepeatsNothingStable) {
  StringMap m = Open("m");
  // Stable keys s000..s299 exist for the whole listing; others come and go.
  for (int i = 0; i < 300; ++i) ASSERT_OK(m.Put(absl::StrFormat("s%03d", i), "x"));
  StringMap writer = Open("m");
  int page = 0;
  core_->intercept = [&](const v1::Request& r) -> std::optional<absl::Status> {
    if (!r.map().has_list()) return std::nullopt;
    ++page;
    // Before each page: add keys before and after the cursor, remove one.
    auto ignore = [](auto&&) {};
    ignore(writer.Put(absl::StrFormat("s%03d-new%d", page * 37 % 300, page), "y"));
    ignore(writer.Put(absl::StrFormat("s%03d-new%d", 299 - page, page), "y"));
    ignore(writer.Remove(absl::StrFormat("s%03d-new%d", 299 - (page - 1), page - 1)));
    return std::nullopt;
  };
  ListOptions o;
  o.page_size = 10;
  auto keys = Drain(m.Keys(o));
  core_->intercept = nullptr;
  std::vector<std::string> stable;
  for (size_t i = 1; i < keys.size(); ++i) ASSERT_LT(keys[i - 1], keys[i]);  // no repeats
  for (const auto& k : keys) {
    if (k.size() == 4) stable.push_back(k);
  }
  ASSERT_EQ(stable.size(), 300u);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(stable[i], absl::StrFormat("s%03d", i));
}

TEST_F(MapTest, FailedPageEndsTheRange) {
  StringMap m = Open("m");
  for (int i = 0; i < 10; ++i) ASSERT_OK(m.Put(absl::StrFormat("k%d", i), "v"));
  int lists = 0;
  core_->intercept = [&](const v1::Request& r) -> std::optional<absl::Status> {
    if (r.map().has_list() && ++lists == 3) return absl::UnavailableError("gone");
    return std::nullopt;
  };
  ListOptions o;
  o.page_size = 3;
  absl::Status end;
  auto entries = Drain(m.Entries(o), &end);
  EXPECT_EQ(entries.size(), 6u);
  EXPECT_CODE(end, kUnavailable);
  EXPECT_EQ(lists, 3);
}

TEST_F(MapTest, CancelledListing) {
  StringMap m = Open("m");
  ASSERT_OK(m.Put("k", "v"));
  std::stop_source stop;
  stop.request_stop();
  ListOptions o = WithPrefix("k");
  o.cancel = stop.get_token();
  absl::Status end;
  EXPECT_TRUE(Drain(m.Entries(o), &end).empty());
  EXPECT_CODE(end, kCancelled);
}

TEST_F(MapTest, BrokerPagesThatDoNotAdvanceAreInternalErrors) {
  StringMap m = Open("m");
  for (int i = 0; i < 5; ++i) ASSERT_OK(m.Put(absl::StrFormat("k%d", i), "v"));
  ListOptions o;
  o.page_size = 2;
  // A broker that ignores start_after.
  core_->tamper = [](const v1::Request& r, v1::Response& resp) {
    if (!r.map().has_list()) return;
    resp.mutable_map()->mutable_entries(0)->set_key("k0");
  };
  absl::Status end;
  auto entries = Drain(m.Entries(o), &end);
  EXPECT_EQ(entries.size(), 2u);
  EXPECT_CODE(end, kInternal);
  // A broker that says "more" with an empty page.
  core_->tamper = [](const v1::Request& r, v1::Response& resp) {
    if (!r.map().has_list()) return;
    resp.mutable_map()->clear_entries();
    resp.mutable_map()->set_more(true);
  };
  entries = Drain(m.Entries(o), &end);
  EXPECT_TRUE(entries.empty());
  EXPECT_CODE(end, kInternal);
}

TEST_F(MapTest, RangeOutlivesTheHandle) {
  StreamRange<std::string> keys = [&] {
    StringMap m = Open("m");
    EXPECT_OK(m.Put("a", "1"));
    EXPECT_OK(m.Put("b", "2"));
    return m.Keys();
  }();
  EXPECT_EQ(Drain(std::move(keys)), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace atomix
