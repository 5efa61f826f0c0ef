// List<T> over an in-process broker core: every operation's typed result,
// option checks, slices, paged ranges (including a list that shrinks under
// the cursor), decode failures and which calls are retried.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "atomix/list.h"
#include "atomix/set.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using testing::Drain;
using testing::FakeClientCore;
using StringList = List<std::string>;
using Item = ListItem<std::string>;

std::vector<std::string> Values(const std::vector<Item>& items) {
  std::vector<std::string> out;
  for (const Item& i : items) out.push_back(i.value);
  return out;
}

class ListTest : public ::testing::Test {
 protected:
  StringList Open(const std::string& name) {
    auto l = internal::GetList<std::string>(core_, name);
    EXPECT_TRUE(l.ok()) << l.status();
    return *std::move(l);
  }

  std::shared_ptr<FakeClientCore> core_ = FakeClientCore::Sessionless();
};

TEST_F(ListTest, OpenSendsOpenRequest) {
  StringList l = Open("jobs");
  EXPECT_EQ(l.name(), "jobs");
  auto calls = core_->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_TRUE(calls[0].request.has_open());
  EXPECT_EQ(calls[0].request.type(), v1::LIST);
  ASSERT_OK(internal::GetSet<std::string>(core_, "s"));
  EXPECT_CODE(internal::GetList<std::string>(core_, "s"), kFailedPrecondition);
  EXPECT_CODE(internal::GetList<std::string>(core_, ""), kInvalidArgument);
}

TEST_F(ListTest, WritesReturnRevisionIndexAndSize) {
  StringList l = Open("jobs");
  ASSERT_OK_AND_ASSIGN(ListWrite a, l.Append("a"));
  EXPECT_EQ(a, (ListWrite{1, 0, 1}));
  ASSERT_OK_AND_ASSIGN(ListWrite bc, l.AppendAll({"b", "c"}));
  EXPECT_EQ(bc, (ListWrite{2, 1, 3}));
  ASSERT_OK_AND_ASSIGN(ListWrite x, l.Insert(1, "x"));
  EXPECT_EQ(x, (ListWrite{3, 1, 4}));
  ASSERT_OK_AND_ASSIGN(ListWrite set, l.Set(3, "C", IfVersion(2)));
  EXPECT_EQ(set, (ListWrite{4, 3, 4}));
  EXPECT_CODE(l.Set(3, "D", IfVersion(2)), kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(l.Set(3, "D", IfVersion(2)).status()), 4);

  ASSERT_OK_AND_ASSIGN(Item got, l.Get(1));
  EXPECT_EQ(got, (Item{1, "x", 3}));
  ASSERT_OK_AND_ASSIGN(int64_t size, l.Size());
  EXPECT_EQ(size, 4);

  ASSERT_OK_AND_ASSIGN(Item removed, l.Remove(1, IfVersion(3)));
  EXPECT_EQ(removed, (Item{1, "x", 3}));
  ASSERT_OK_AND_ASSIGN(std::optional<Item> front, l.PopFront());
  EXPECT_EQ(front, (Item{0, "a", 1}));
  ASSERT_OK_AND_ASSIGN(std::optional<Item> back, l.PopBack());
  EXPECT_EQ(back, (Item{1, "C", 4}));
  ASSERT_OK_AND_ASSIGN(Version cleared, l.Clear());
  EXPECT_EQ(cleared, 8);
  ASSERT_OK_AND_ASSIGN(std::optional<Item> none, l.PopFront());
  EXPECT_FALSE(none.has_value());
  ASSERT_OK_AND_ASSIGN(Version again, l.Clear());
  EXPECT_EQ(again, 0);
  EXPECT_EQ(core_->revision(), 8);
}

TEST_F(ListTest, IndexErrors) {
  StringList l = Open("jobs");
  auto got = l.Get(0);
  EXPECT_CODE(got, kOutOfRange);
  EXPECT_EQ(got.status().message(), "list \"jobs\" index 0 is out of range; the size is 0");
  EXPECT_CODE(l.Get(-1), kInvalidArgument);
  EXPECT_EQ(l.Get(-1).status().message(), "index is -1; it must not be negative");
  EXPECT_CODE(l.Insert(1, "v"), kOutOfRange);
  EXPECT_CODE(l.Remove(0), kOutOfRange);
  EXPECT_CODE(l.Set(0, "v"), kOutOfRange);
  EXPECT_CODE(l.AppendAll({}), kInvalidArgument);
  EXPECT_EQ(core_->revision(), 0);  // nothing that failed took a revision
}

TEST_F(ListTest, WriteOptionsAListDoesNotTakeAreRefusedWithoutARoundTrip) {
  StringList l = Open("jobs");
  ASSERT_OK(l.Append("a"));
  core_->clear_calls();
  auto fenced = l.Set(0, "b", WriteOptions().IfFence("lock", 3));
  EXPECT_CODE(fenced, kInvalidArgument);
  EXPECT_EQ(fenced.status().message(), "list \"jobs\": Set does not take IfFence");
  EXPECT_CODE(l.Remove(0, WithEphemeral()), kInvalidArgument);
  EXPECT_CODE(l.Set(0, "b", WithTTL(std::chrono::seconds(1))), kInvalidArgument);
  EXPECT_CODE(l.Slice(0, std::nullopt, WithPrefix("a")), kInvalidArgument);
  EXPECT_TRUE(core_->calls().empty());
}

TEST_F(ListTest, SliceReadsOnePage) {
  StringList l = Open("jobs");
  ASSERT_OK(l.AppendAll({"a", "b", "c", "d", "e"}));
  ASSERT_OK_AND_ASSIGN(ListPage<std::string> all, l.Slice(0));
  EXPECT_EQ(Values(all.items), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_FALSE(all.more);
  ListOptions two;
  two.page_size = 2;
  ASSERT_OK_AND_ASSIGN(ListPage<std::string> page, l.Slice(1, 4, two));
  EXPECT_EQ(page.items, (std::vector<Item>{{1, "b", 1}, {2, "c", 1}}));
  EXPECT_TRUE(page.more);
  ASSERT_OK_AND_ASSIGN(ListPage<std::string> past, l.Slice(3, 99));
  EXPECT_EQ(Values(past.items), (std::vector<std::string>{"d", "e"}));

  // An explicit stop of 0 is an empty slice, answered without a round trip.
  core_->clear_calls();
  ASSERT_OK_AND_ASSIGN(ListPage<std::string> empty, l.Slice(0, 0));
  EXPECT_TRUE(empty.items.empty());
  EXPECT_FALSE(empty.more);
  EXPECT_CODE(l.Slice(2, 0), kInvalidArgument);
  EXPECT_TRUE(core_->calls().empty());
  EXPECT_CODE(l.Slice(3, 1), kInvalidArgument);
  EXPECT_CODE(l.Slice(6), kOutOfRange);
}

TEST_F(ListTest, RangesWalkPageByPage) {
  StringList l = Open("jobs");
  std::vector<std::string> values;
  for (int i = 0; i < 25; ++i) values.push_back(std::to_string(i));
  ASSERT_OK(l.AppendAll(values));
  ListOptions paged;
  paged.page_size = 4;
  core_->clear_calls();
  absl::Status end;
  std::vector<Item> items = Drain(l.Items(paged), &end);
  EXPECT_OK(end);
  EXPECT_EQ(Values(items), values);
  for (size_t i = 0; i < items.size(); ++i) EXPECT_EQ(items[i].index, static_cast<int64_t>(i));
  EXPECT_EQ(core_->calls().size(), 7u);  // 25 items, 4 a page

  items = Drain(l.Range(10, 15, paged), &end);
  EXPECT_OK(end);
  EXPECT_EQ(Values(items), (std::vector<std::string>{"10", "11", "12", "13", "14"}));
  EXPECT_TRUE(Drain(l.Range(0, 0)).empty());
  EXPECT_TRUE(Drain(l.Range(25)).empty());
  Drain(l.Range(26), &end);
  EXPECT_CODE(end, kOutOfRange);
}

TEST_F(ListTest, ARangeEndsWhenTheListShrinksBelowItsCursor) {
  StringList l = Open("jobs");
  ASSERT_OK(l.AppendAll({"a", "b", "c", "d", "e", "f"}));
  ListOptions paged;
  paged.page_size = 3;
  StreamRange<Item> range = l.Items(paged);
  std::vector<std::string> seen;
  for (const auto& item : range) {
    ASSERT_TRUE(item.ok()) << item.status();
    seen.push_back(item->value);
    if (seen.size() == 1) {
      for (int i = 0; i < 4; ++i) ASSERT_OK(l.PopBack());  // two items are left
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(ListTest, DecodeFailuresNameTheListAndIndex) {
  StringList raw = Open("nums");
  ASSERT_OK_AND_ASSIGN(auto typed, (internal::GetList<int64_t>(core_, "nums")));
  ASSERT_OK(typed.Append(7));
  ASSERT_OK(raw.Append("abc"));
  auto got = typed.Get(1);
  EXPECT_CODE(got, kInvalidArgument);
  EXPECT_EQ(got.status().message(),
            "cannot decode int64: expected 8 bytes, got 3 (list \"nums\", index \"1\")");
  ASSERT_OK_AND_ASSIGN(ListItem<int64_t> first, typed.Get(0));
  EXPECT_EQ(first.value, 7);
  absl::Status end;
  auto items = Drain(typed.Items(), &end);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(end.message(), got.status().message());
  EXPECT_CODE(typed.PopBack(), kInvalidArgument);  // taken, but undecodable
  ASSERT_OK_AND_ASSIGN(int64_t size, typed.Size());
  EXPECT_EQ(size, 1);
}

TEST_F(ListTest, ReadsAreRetriedAndWritesAreNot) {
  StringList l = Open("jobs");
  core_->clear_calls();
  ASSERT_OK(l.Append("a"));
  ASSERT_OK(l.AppendAll({"b"}));
  ASSERT_OK(l.Insert(0, "c"));
  ASSERT_OK(l.Set(0, "d"));
  ASSERT_OK(l.Remove(0));
  ASSERT_OK(l.PopFront());
  ASSERT_OK(l.PopBack());
  ASSERT_OK(l.Clear());
  ASSERT_OK(l.Size());
  EXPECT_CODE(l.Get(0), kOutOfRange);
  ASSERT_OK(l.Slice(0));
  Drain(l.Items());
  auto calls = core_->calls();
  ASSERT_EQ(calls.size(), 12u);
  for (size_t i = 0; i < 8; ++i) EXPECT_FALSE(calls[i].idempotent) << i;
  for (size_t i = 8; i < 12; ++i) EXPECT_TRUE(calls[i].idempotent) << i;
  EXPECT_FALSE(calls[5].request.list().pop().tail());
  EXPECT_TRUE(calls[6].request.list().pop().tail());
}

TEST_F(ListTest, AsyncFormsGiveTheSameResults) {
  StringList l = Open("jobs");
  Future<ListWrite> w = l.AppendAsync("a");
  ASSERT_OK_AND_ASSIGN(ListWrite written, w.get());
  EXPECT_EQ(written, (ListWrite{1, 0, 1}));
  ASSERT_OK_AND_ASSIGN(Item got, l.GetAsync(0).get());
  EXPECT_EQ(got, (Item{0, "a", 1}));
  ASSERT_OK_AND_ASSIGN(ListPage<std::string> page, l.SliceAsync(0).get());
  EXPECT_EQ(page.items.size(), 1u);
  ASSERT_OK_AND_ASSIGN(std::optional<Item> popped, l.PopBackAsync().get());
  EXPECT_EQ(popped, got);
}

}  // namespace
}  // namespace atomix
