// Set<E> over an in-process broker core.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atomix/counter.h"
#include "atomix/set.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using testing::Drain;

using testing::FakeClientCore;
using StringSet = Set<std::string>;

std::vector<std::string> Values(const std::vector<Versioned<std::string>>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.value);
  return out;
}

class SetTest : public ::testing::Test {
 protected:
  StringSet Open(const std::string& name) {
    auto s = internal::GetSet<std::string>(core_, name);
    EXPECT_TRUE(s.ok()) << s.status();
    return *std::move(s);
  }

  void Load(const std::string& name, const std::vector<std::string>& elements) {
    v1::RequestBatch batch;
    for (const auto& e : elements) {
      v1::Request* r = batch.add_requests();
      r->set_type(v1::SET);
      r->set_name(name);
      r->mutable_set()->mutable_add()->set_element(e);
    }
    v1::ResponseBatch out;
    core_->broker().Execute(batch, out);
    for (const auto& resp : out.responses()) ASSERT_FALSE(resp.has_error());
  }

  int ListCalls() {
    int n = 0;
    for (const auto& c : core_->calls()) n += c.request.set().has_list() ? 1 : 0;
    return n;
  }

  std::shared_ptr<FakeClientCore> core_ = FakeClientCore::Sessionless();
};

TEST_F(SetTest, OpenSendsOpenRequest) {
  StringSet s = Open("online");
  EXPECT_EQ(s.name(), "online");
  auto calls = core_->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_TRUE(calls[0].request.has_open());
  EXPECT_EQ(calls[0].request.type(), v1::SET);
}

TEST_F(SetTest, AddRemoveContainsSizeClear) {
  StringSet s = Open("online");
  ASSERT_OK_AND_ASSIGN(Change a, s.Add("w1"));
  EXPECT_EQ(a, (Change{true, 1}));
  ASSERT_OK_AND_ASSIGN(Change b, s.Add("w2"));
  EXPECT_EQ(b, (Change{true, 2}));
  // Already present: unchanged, with the version that added it.
  ASSERT_OK_AND_ASSIGN(Change again, s.Add("w1"));
  EXPECT_EQ(again, (Change{false, 1}));
  EXPECT_EQ(core_->revision(), 2);

  ASSERT_OK_AND_ASSIGN(bool has, s.Contains("w1"));
  EXPECT_TRUE(has);
  ASSERT_OK_AND_ASSIGN(has, s.Contains("w3"));
  EXPECT_FALSE(has);
  ASSERT_OK_AND_ASSIGN(int64_t size, s.Size());
  EXPECT_EQ(size, 2);

  ASSERT_OK_AND_ASSIGN(Change r, s.Remove("w1"));
  EXPECT_EQ(r, (Change{true, 3}));
  // Absent: unchanged, version 0.
  ASSERT_OK_AND_ASSIGN(Change r2, s.Remove("w1"));
  EXPECT_EQ(r2, (Change{false, 0}));
  EXPECT_EQ(core_->revision(), 3);

  ASSERT_OK_AND_ASSIGN(Version c, s.Clear());
  EXPECT_EQ(c, 4);
  ASSERT_OK_AND_ASSIGN(size, s.Size());
  EXPECT_EQ(size, 0);
  ASSERT_OK_AND_ASSIGN(Version c2, s.Clear());
  EXPECT_EQ(c2, 0);
  EXPECT_EQ(core_->revision(), 4);
}

TEST_F(SetTest, RequestsAndIdempotence) {
  StringSet s = Open("online");
  core_->clear_calls();
  ASSERT_OK(s.Add("a"));
  ASSERT_OK(s.Remove("a"));
  ASSERT_OK(s.Clear());
  ASSERT_OK(s.Contains("a"));
  ASSERT_OK(s.Size());
  Drain(s.Elements());
  auto calls = core_->calls();
  ASSERT_EQ(calls.size(), 6u);
  for (size_t i = 0; i < 3; ++i) EXPECT_FALSE(calls[i].idempotent) << i;
  for (size_t i = 3; i < 6; ++i) EXPECT_TRUE(calls[i].idempotent) << i;
  EXPECT_EQ(calls[0].request.set().add().element(), "a");
}

TEST_F(SetTest, BadElementsAndNames) {
  broker::Limits limits;
  limits.max_key_bytes = 4;
  core_ = FakeClientCore::Sessionless(limits);
  StringSet s = Open("s");
  EXPECT_CODE(s.Add(""), kInvalidArgument);
  EXPECT_CODE(s.Add("12345"), kInvalidArgument);
  EXPECT_CODE(s.Contains(""), kInvalidArgument);
  EXPECT_OK(s.Add("1234"));
  EXPECT_CODE(internal::GetSet<std::string>(core_, std::string(300, 'n')), kInvalidArgument);
  ASSERT_OK(internal::GetCounter(core_, "c"));
  EXPECT_CODE(internal::GetSet<std::string>(core_, "c"), kFailedPrecondition);
}

TEST_F(SetTest, ElementsInOrderWithVersions) {
  StringSet s = Open("s");
  ASSERT_OK(s.Add("b"));  // 1
  ASSERT_OK(s.Add("a"));  // 2
  ASSERT_OK(s.Add("c"));  // 3
  auto all = Drain(s.Elements());
  EXPECT_EQ(all, (std::vector<Versioned<std::string>>{{"a", 2}, {"b", 1}, {"c", 3}}));
}

TEST_F(SetTest, IntegerElementsInNumericOrder) {
  ASSERT_OK_AND_ASSIGN(auto s, internal::GetSet<int32_t>(core_, "ints"));
  for (int32_t e : {3, -7, 0, 100, -100}) ASSERT_OK(s.Add(e));
  std::vector<int32_t> got;
  ListOptions o;
  o.page_size = 2;
  for (const auto& e : s.Elements(o)) {
    ASSERT_OK(e);
    got.push_back(e->value);
  }
  EXPECT_EQ(got, (std::vector<int32_t>{-100, -7, 0, 3, 100}));
}

TEST_F(SetTest, ManyPages) {
  StringSet s = Open("big");
  std::vector<std::string> elements;
  for (int i = 0; i < 20000; ++i) elements.push_back(absl::StrFormat("e%06d", i));
  Load("big", elements);
  core_->set_record_calls(false);
  ListOptions o;
  o.page_size = 333;
  absl::Status end;
  auto got = Values(Drain(s.Elements(o), &end));
  ASSERT_OK(end);
  EXPECT_EQ(got, elements);
  EXPECT_EQ(Values(Drain(s.Elements())), elements);
}

TEST_F(SetTest, PrefixIsAppliedByTheClient) {
  StringSet s = Open("s");
  std::vector<std::string> elements;
  for (int i = 0; i < 50; ++i) {
    elements.push_back(absl::StrFormat("a/%02d", i));
    elements.push_back(absl::StrFormat("a.%02d", i));  // '.' sorts just before '/'
    elements.push_back(absl::StrFormat("b/%02d", i));
  }
  elements.push_back("a");
  elements.push_back("a/");
  elements.push_back("a0");
  // Sorts after the cursor the client starts from ("a." + 16 x 0xff) but
  // before "a/": fetched, then skipped.
  elements.push_back("a." + std::string(17, '\xff'));
  Load("s", elements);

  ListOptions o = WithPrefix("a/");
  o.page_size = 4;
  core_->clear_calls();
  absl::Status end;
  auto got = Values(Drain(s.Elements(o), &end));
  ASSERT_OK(end);
  std::vector<std::string> want = {"a/"};
  for (int i = 0; i < 50; ++i) want.push_back(absl::StrFormat("a/%02d", i));
  EXPECT_EQ(got, want);
  // One skipped element and 51 matches fill 13 pages of 4; the 14th page runs
  // into "a0" and ends the listing without reading on into "b/".
  EXPECT_EQ(ListCalls(), 14);
  auto calls = core_->calls();
  EXPECT_EQ(calls.front().request.set().list().start_after(), "a." + std::string(16, '\xff'));

  EXPECT_TRUE(Drain(s.Elements(WithPrefix("c"))).empty());
  EXPECT_EQ(Drain(s.Elements(WithPrefix("b/"))).size(), 50u);
  auto a = Drain(s.Elements(WithPrefix("a")), &end);
  EXPECT_OK(end);
  EXPECT_EQ(a.size(), 104u);  // "a", 50 "a.xx", the 0xff one, "a/", 50 "a/xx", "a0"
}

TEST_F(SetTest, PrefixEndingInZeroByteAndFF) {
  StringSet s = Open("s");
  Load("s",
       {std::string("k"), std::string("k\0", 2), std::string("k\0x", 3), std::string("k\x01", 2),
        std::string("\xff"), std::string("\xff\x01"), std::string("\xfe\xff")});
  core_->clear_calls();
  auto got = Values(Drain(s.Elements(WithPrefix(std::string("k\0", 2)))));
  EXPECT_EQ(got, (std::vector<std::string>{std::string("k\0", 2), std::string("k\0x", 3)}));
  EXPECT_EQ(core_->calls().front().request.set().list().start_after(), "k");
  got = Values(Drain(s.Elements(WithPrefix("\xff"))));
  EXPECT_EQ(got, (std::vector<std::string>{"\xff", "\xff\x01"}));
}

TEST_F(SetTest, DecodeFailureNamesTypeSetAndElement) {
  StringSet raw = Open("s");
  ASSERT_OK_AND_ASSIGN(auto ints, internal::GetSet<int16_t>(core_, "s"));
  ASSERT_OK(ints.Add(-32768));  // encodes as 00 00: sorts before "zzz"
  ASSERT_OK(raw.Add("zzz"));
  absl::Status end;
  auto got = Drain(ints.Elements(), &end);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], (Versioned<int16_t>{-32768, 1}));
  EXPECT_CODE(end, kInvalidArgument);
  EXPECT_EQ(end.message(),
            "cannot decode int16: expected 2 bytes, got 3 (set \"s\", element \"zzz\")");
}

TEST_F(SetTest, FailedPageEndsTheRange) {
  StringSet s = Open("s");
  Load("s", {"a", "b", "c", "d", "e"});
  core_->intercept = [](const v1::Request& r) -> std::optional<absl::Status> {
    if (r.set().has_list() && r.set().list().start_after() == "b") {
      return absl::DeadlineExceededError("slow");
    }
    return std::nullopt;
  };
  ListOptions o;
  o.page_size = 2;
  absl::Status end;
  EXPECT_EQ(Values(Drain(s.Elements(o), &end)), (std::vector<std::string>{"a", "b"}));
  EXPECT_CODE(end, kDeadlineExceeded);
}

}  // namespace
}  // namespace atomix
