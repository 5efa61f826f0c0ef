// MultiMap<K, V> over an in-process broker core: the requests it sends, how
// its listings page, and how they end when a broker misbehaves.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "atomix/multi_map.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using testing::Drain;
using testing::FakeClientCore;
using Strings = MultiMap<std::string, std::string>;

class MultiMapSdkTest : public ::testing::Test {
 protected:
  Strings Open(const std::string& name) {
    auto mm = internal::GetMultiMap<std::string, std::string>(core_, name);
    EXPECT_TRUE(mm.ok()) << mm.status();
    return *std::move(mm);
  }

  // The Get and List requests sent so far.
  std::vector<v1::MultiMapRequest> Listings() {
    std::vector<v1::MultiMapRequest> out;
    for (const auto& c : core_->calls()) {
      const v1::MultiMapRequest& op = c.request.multi_map();
      if (op.has_get() || op.has_list()) out.push_back(op);
    }
    return out;
  }

  std::shared_ptr<FakeClientCore> core_ = FakeClientCore::Sessionless();
};

TEST_F(MultiMapSdkTest, OpenAndOperationsSendTheirRequests) {
  Strings mm = Open("roles");
  ASSERT_EQ(core_->calls().size(), 1u);
  EXPECT_TRUE(core_->calls()[0].request.has_open());
  EXPECT_EQ(core_->calls()[0].request.type(), v1::MULTI_MAP);

  ASSERT_OK_AND_ASSIGN(Change put, mm.Put("alice", "admin"));
  EXPECT_EQ(put, (Change{true, 1}));
  ASSERT_OK_AND_ASSIGN(bool has_key, mm.Contains("alice"));
  ASSERT_OK_AND_ASSIGN(bool has_pair, mm.Contains("alice", "dev"));
  EXPECT_TRUE(has_key);
  EXPECT_FALSE(has_pair);
  ASSERT_OK_AND_ASSIGN(RemovedPairs removed, mm.RemoveAll("alice"));
  EXPECT_EQ(removed, (RemovedPairs{1, 2}));

  const auto calls = core_->calls();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(calls[1].request.multi_map().put().key(), "alice");
  EXPECT_EQ(calls[1].request.multi_map().put().value(), "admin");
  EXPECT_FALSE(calls[2].request.multi_map().contains().has_value());
  EXPECT_EQ(calls[3].request.multi_map().contains().value(), "dev");
  EXPECT_EQ(calls[4].request.multi_map().remove_key().key(), "alice");
}

TEST_F(MultiMapSdkTest, ListingsPageAfterTheLastPair) {
  Strings mm = Open("roles");
  for (int i = 0; i < 5; ++i) ASSERT_OK(mm.Put("k", absl::StrFormat("v%d", i)));
  ASSERT_OK(mm.Put("j", "x"));
  ListOptions o;
  o.page_size = 2;
  std::vector<Versioned<std::string>> values = Drain(mm.Get("k", o));
  ASSERT_EQ(values.size(), 5u);
  EXPECT_EQ(values[4], (Versioned<std::string>{"v4", 5}));
  std::vector<v1::MultiMapRequest> sent = Listings();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].get().start_after(), "");
  EXPECT_EQ(sent[1].get().start_after(), "v1");
  EXPECT_EQ(sent[2].get().start_after(), "v3");
  EXPECT_EQ(sent[2].get().limit(), 2u);

  core_->clear_calls();
  std::vector<Entry<std::string, std::string>> pairs = Drain(mm.Entries(o));
  ASSERT_EQ(pairs.size(), 6u);
  EXPECT_EQ(pairs[0], (Entry<std::string, std::string>{"j", "x", 6}));
  sent = Listings();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[1].list().start_after_key(), "k");
  EXPECT_EQ(sent[1].list().start_after_value(), "v0");
}

TEST_F(MultiMapSdkTest, GetTakesNoPrefix) {
  Strings mm = Open("roles");
  absl::Status end;
  EXPECT_TRUE(Drain(mm.Get("k", WithPrefix("v")), &end).empty());
  EXPECT_CODE(end, kInvalidArgument);
  EXPECT_TRUE(Listings().empty());  // refused without a round trip
}

TEST_F(MultiMapSdkTest, BrokerPagesThatDoNotAdvanceOrStrayAreInternalErrors) {
  Strings mm = Open("roles");
  for (int i = 0; i < 5; ++i) ASSERT_OK(mm.Put("k", absl::StrFormat("v%d", i)));
  ListOptions o;
  o.page_size = 2;
  // A broker that ignores start_after.
  core_->tamper = [](const v1::Request& r, v1::Response& resp) {
    if (r.multi_map().has_get()) resp.mutable_multi_map()->mutable_entries(0)->set_value("v0");
  };
  absl::Status end;
  EXPECT_EQ(Drain(mm.Get("k", o), &end).size(), 2u);
  EXPECT_CODE(end, kInternal);
  // A broker that answers with another key's values.
  core_->tamper = [](const v1::Request& r, v1::Response& resp) {
    if (r.multi_map().has_get()) resp.mutable_multi_map()->mutable_entries(1)->set_key("q");
  };
  EXPECT_TRUE(Drain(mm.Get("k", o), &end).empty());
  EXPECT_CODE(end, kInternal);
  // A broker that says "more" with an empty page.
  core_->tamper = [](const v1::Request& r, v1::Response& resp) {
    if (!r.multi_map().has_list()) return;
    resp.mutable_multi_map()->clear_entries();
    resp.mutable_multi_map()->set_more(true);
  };
  EXPECT_TRUE(Drain(mm.Entries(o), &end).empty());
  EXPECT_CODE(end, kInternal);
}

}  // namespace
}  // namespace atomix
