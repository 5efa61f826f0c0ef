// SetState: the pure set state machine, driven with a fixed logical time and
// no store.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "broker-sim/src/state/set.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::StateDriver;

constexpr int kOk = 0;
constexpr int kInvalidArgument = 3;

v1::Request Add(const std::string& element) {
  v1::Request request;
  request.set_type(v1::SET);
  request.set_name("workers");
  request.mutable_set()->mutable_add()->set_element(element);
  return request;
}

v1::Request List(const std::string& start_after, uint32_t limit) {
  v1::Request request;
  request.set_type(v1::SET);
  request.set_name("workers");
  v1::SetList* list = request.mutable_set()->mutable_list();
  list->set_start_after(start_after);
  list->set_limit(limit);
  return request;
}

TEST(BrokerSet, AddOfAPresentElementChangesNothing) {
  StateDriver set(v1::SET, "workers");
  v1::Response r = set.Apply(R"pb(set { add { element: "w1" } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_TRUE(r.set().changed());
  EXPECT_EQ(r.set().version(), 1);
  EXPECT_EQ(r.set().size(), 1);
  EXPECT_EQ(r.revision(), 1);

  set.Apply(R"pb(set { add { element: "w2" } })pb");
  r = set.Apply(R"pb(set { add { element: "w1" } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_FALSE(r.set().changed());
  EXPECT_EQ(r.set().version(), 1);  // the revision that added it
  EXPECT_EQ(r.revision(), 2);       // unchanged
  EXPECT_FALSE(set.last_mutated());
}

TEST(BrokerSet, RemoveContainsSize) {
  StateDriver set(v1::SET, "workers");
  v1::Response r = set.Apply(R"pb(set { remove { element: "w1" } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_FALSE(r.set().changed());
  EXPECT_EQ(r.set().version(), 0);
  EXPECT_EQ(r.revision(), 0);

  set.Apply(R"pb(set { add { element: "w1" } })pb");
  EXPECT_TRUE(set.Apply(R"pb(set { contains { element: "w1" } })pb")
                  .set()
                  .contains());
  EXPECT_FALSE(set.Apply(R"pb(set { contains { element: "w2" } })pb")
                   .set()
                   .contains());
  EXPECT_EQ(set.Apply("set { size {} }").set().size(), 1);

  r = set.Apply(R"pb(set { remove { element: "w1" } })pb");
  EXPECT_TRUE(r.set().changed());
  EXPECT_EQ(r.set().version(), 2);
  EXPECT_EQ(r.revision(), 2);
  EXPECT_EQ(set.Apply("set { size {} }").set().size(), 0);
}

TEST(BrokerSet, ClearTakesARevisionOnlyWhenNotEmpty) {
  StateDriver set(v1::SET, "workers");
  v1::Response r = set.Apply("set { clear {} }");
  EXPECT_FALSE(r.set().changed());
  EXPECT_EQ(r.set().version(), 0);
  EXPECT_EQ(set.revision(), 0);

  set.Apply(R"pb(set { add { element: "a" } })pb");
  set.Apply(R"pb(set { add { element: "b" } })pb");
  r = set.Apply("set { clear {} }");
  EXPECT_TRUE(r.set().changed());
  EXPECT_EQ(r.set().version(), 3);
  EXPECT_EQ(r.revision(), 3);
  EXPECT_EQ(set.Apply("set { size {} }").set().size(), 0);
}

TEST(BrokerSet, ListPagesWithoutSkipsOrDuplicates) {
  StateDriver set(v1::SET, "workers");
  constexpr int kElements = 100000;
  std::vector<std::string> expected;
  for (int i = kElements - 1; i >= 0; --i) {
    expected.push_back(absl::StrFormat("w%06d", i));
    set.ApplyRequest(Add(expected.back()));
  }
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> seen;
  std::string after;
  while (true) {
    v1::Response r = set.ApplyRequest(List(after, 999));
    ASSERT_EQ(r.error().code(), kOk);
    EXPECT_EQ(r.set().size(), kElements);
    for (const auto& e : r.set().elements()) {
      ASSERT_TRUE(seen.empty() || seen.back() < e.element());
      seen.push_back(e.element());
    }
    if (!r.set().more()) break;
    after = seen.back();
  }
  EXPECT_EQ(seen, expected);
  // w000000 was added last, at revision kElements.
  v1::Response first = set.ApplyRequest(List("", 1));
  EXPECT_EQ(first.set().elements(0).element(), "w000000");
  EXPECT_EQ(first.set().elements(0).version(), kElements);
  EXPECT_EQ(set.revision(), kElements);
}

TEST(BrokerSet, ListStopsAtThePageByteLimit) {
  Limits limits;
  limits.max_page_bytes = 10;
  StateDriver set(v1::SET, "workers", limits);
  for (const char* e : {"aaaa", "bbbb", "cccc", "dddddddddddddddd"}) {
    set.ApplyRequest(Add(e));
  }
  v1::Response r = set.ApplyRequest(List("", 0));
  EXPECT_EQ(r.set().elements_size(), 2);
  EXPECT_TRUE(r.set().more());
  r = set.ApplyRequest(List("cccc", 0));
  EXPECT_EQ(r.set().elements_size(), 1);  // larger than the limit, still sent
  EXPECT_FALSE(r.set().more());
}

TEST(BrokerSet, RejectsForeignOperations) {
  StateDriver set(v1::SET, "workers");
  EXPECT_EQ(set.Apply("value { get {} }").error().code(), kInvalidArgument);
  EXPECT_EQ(set.Apply("set {}").error().code(), kInvalidArgument);
}

TEST(BrokerSet, DescribeCountsTheElements) {
  StateDriver set(v1::SET, "workers");
  EXPECT_EQ(set.Describe().summary(), "0 elements");
  set.Apply(R"pb(set { add { element: "w1" } })pb");
  EXPECT_EQ(set.Describe().summary(), "1 element");
  set.Apply(R"pb(set { add { element: "w2" } })pb");
  const v1::PrimitiveInfo info = set.Describe();
  EXPECT_EQ(info.summary(), "2 elements");
  EXPECT_EQ(info.holders_size(), 0);
  EXPECT_EQ(info.waiters_size(), 0);
}

}  // namespace
}  // namespace atomix::broker
