// ListState: the pure list state machine, driven with a fixed logical time
// and no store: every op, its answer and events, indexes, versions, paging,
// snapshots, saving, and request validation.
#include "broker-sim/src/state/list.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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
constexpr int kFailedPrecondition = 9;
constexpr int kOutOfRange = 11;
constexpr int kDataLoss = 15;

// The list's values, front to back.
std::vector<std::string> Values(StateDriver& list) {
  std::vector<std::string> out;
  for (const auto& item : static_cast<ListState&>(list.machine()).items()) {
    out.push_back(item.value);
  }
  return out;
}

// "<type> <index> <value>@<version>" for each event: previous for REMOVED,
// entry otherwise (UPDATED adds "<-" and the previous value).
std::vector<std::string> Events(const std::vector<v1::WatchEvent>& events) {
  std::vector<std::string> out;
  for (const v1::WatchEvent& e : events) {
    const v1::MapEntry& m =
        e.type() == v1::WatchEvent::REMOVED ? e.previous() : e.entry();
    std::string s = absl::StrCat(v1::WatchEvent::Type_Name(e.type()), " ",
                                 m.index(), " ", m.value(), "@", m.version());
    if (e.type() == v1::WatchEvent::UPDATED) {
      absl::StrAppend(&s, " <- ", e.previous().value(), "@",
                      e.previous().version(), " at ", e.previous().index());
    }
    EXPECT_TRUE(m.key().empty());
    out.push_back(s);
  }
  return out;
}

std::string Item(const v1::MapEntry& e) {
  return absl::StrCat(e.index(), " ", e.value(), "@", e.version());
}

v1::Request Slice(int64_t start, int64_t stop, uint32_t limit = 0) {
  return MakeRequest(v1::LIST, "q",
                     absl::StrFormat("list { slice { start: %d stop: %d "
                                     "limit: %d } }",
                                     start, stop, limit));
}

std::vector<std::string> Page(const v1::Response& r) {
  std::vector<std::string> out;
  for (const v1::MapEntry& e : r.list().entries()) out.push_back(Item(e));
  return out;
}

absl::Status Validate(const std::string& op_text, const Limits& limits = {}) {
  return ListPrimitive().validate(MakeRequest(v1::LIST, "q", op_text), limits);
}

TEST(BrokerList, AppendOneOrManyAtOneRevision) {
  StateDriver list(v1::LIST, "q");
  v1::Response r = list.Apply(R"pb(list { append { values: "a" } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.list().version(), 1);
  EXPECT_EQ(Item(r.list().entry()), "0 a@1");
  EXPECT_EQ(r.list().size(), 1);
  EXPECT_EQ(r.revision(), 1);
  EXPECT_EQ(Events(list.last_events()),
            std::vector<std::string>{"INSERTED 0 a@1"});

  r = list.Apply(
      R"pb(list { append { values: "b" values: "c" values: "" } })pb");
  EXPECT_EQ(r.list().version(), 2);
  EXPECT_EQ(Item(r.list().entry()), "1 b@2");  // the first appended
  EXPECT_EQ(r.list().size(), 4);
  EXPECT_EQ(Events(list.last_events()),
            (std::vector<std::string>{"INSERTED 1 b@2", "INSERTED 2 c@2",
                                      "INSERTED 3 @2"}));
  EXPECT_EQ(Values(list), (std::vector<std::string>{"a", "b", "c", ""}));
}

TEST(BrokerList, InsertAtTheHeadTheMiddleAndTheEnd) {
  StateDriver list(v1::LIST, "q");
  v1::Response r = list.Apply(R"pb(list { insert { index: 1 value: "x" } })pb");
  EXPECT_EQ(r.error().code(), kOutOfRange);
  EXPECT_EQ(r.error().message(),
            "list \"q\" index 1 is out of range; the size is 0");
  EXPECT_EQ(list.revision(), 0);
  EXPECT_FALSE(list.last_mutated());

  r = list.Apply(R"pb(list { insert { index: 0 value: "b" } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(Item(r.list().entry()), "0 b@1");
  r = list.Apply(R"pb(list { insert { index: 0 value: "a" } })pb");
  EXPECT_EQ(Item(r.list().entry()), "0 a@2");
  r = list.Apply(R"pb(list { insert { index: 2 value: "d" } })pb");  // = size
  EXPECT_EQ(Item(r.list().entry()), "2 d@3");
  r = list.Apply(R"pb(list { insert { index: 2 value: "c" } })pb");
  EXPECT_EQ(r.list().version(), 4);
  EXPECT_EQ(Item(r.list().entry()), "2 c@4");
  EXPECT_EQ(r.list().size(), 4);
  EXPECT_EQ(Events(list.last_events()),
            std::vector<std::string>{"INSERTED 2 c@4"});
  EXPECT_EQ(Values(list), (std::vector<std::string>{"a", "b", "c", "d"}));

  r = list.Apply(R"pb(list { insert { index: 5 value: "z" } })pb");
  EXPECT_EQ(r.error().code(), kOutOfRange);
  EXPECT_EQ(r.error().message(),
            "list \"q\" index 5 is out of range; the size is 4");
  EXPECT_EQ(r.revision(), 4);
}

TEST(BrokerList, GetAndSize) {
  StateDriver list(v1::LIST, "q");
  v1::Response r = list.Apply("list { size {} }");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.list().size(), 0);
  r = list.Apply("list { get { index: 0 } }");
  EXPECT_EQ(r.error().code(), kOutOfRange);
  EXPECT_EQ(r.error().message(),
            "list \"q\" index 0 is out of range; the size is 0");

  list.Apply(R"pb(list { append { values: "a" values: "b" } })pb");
  list.Apply(R"pb(list { append { values: "c" } })pb");
  r = list.Apply("list { get { index: 2 } }");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(Item(r.list().entry()), "2 c@2");
  EXPECT_EQ(r.revision(), 2);
  EXPECT_FALSE(list.last_mutated());
  EXPECT_EQ(Item(list.Apply("list { get { index: 0 } }").list().entry()),
            "0 a@1");
  EXPECT_EQ(list.Apply("list { size {} }").list().size(), 3);
  r = list.Apply("list { get { index: 3 } }");
  EXPECT_EQ(r.error().code(), kOutOfRange);
  EXPECT_EQ(r.error().message(),
            "list \"q\" index 3 is out of range; the size is 3");
}

TEST(BrokerList, SetReplacesWithAnOptionalVersion) {
  StateDriver list(v1::LIST, "q");
  list.Apply(R"pb(list { append { values: "a" values: "b" } })pb");
  v1::Response r =
      list.Apply(R"pb(list { set { index: 1 value: "B" if_version: 7 } })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "list \"q\" index 1: expected version 7, current version is 1");
  EXPECT_EQ(r.error().current(), 1);
  EXPECT_EQ(list.revision(), 1);

  r = list.Apply(R"pb(list { set { index: 1 value: "B" if_version: 1 } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.list().version(), 2);
  EXPECT_EQ(Item(r.list().entry()), "1 b@1");  // the item replaced
  EXPECT_EQ(r.list().size(), 2);
  EXPECT_EQ(Events(list.last_events()),
            std::vector<std::string>{"UPDATED 1 B@2 <- b@1 at 1"});

  r = list.Apply(R"pb(list { set { index: 0 value: "A" } })pb");
  EXPECT_EQ(r.list().version(), 3);
  EXPECT_EQ(Values(list), (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(Item(list.Apply("list { get { index: 0 } }").list().entry()),
            "0 A@3");

  // Out of range wins over a version mismatch.
  r = list.Apply(R"pb(list { set { index: 2 value: "C" if_version: 1 } })pb");
  EXPECT_EQ(r.error().code(), kOutOfRange);
  EXPECT_EQ(r.error().message(),
            "list \"q\" index 2 is out of range; the size is 2");
  EXPECT_EQ(list.revision(), 3);
}

TEST(BrokerList, RemoveReturnsTheItemAndShiftsTheRest) {
  StateDriver list(v1::LIST, "q");
  list.Apply(R"pb(list { append { values: "a" values: "b" values: "c" } })pb");
  v1::Response r = list.Apply(R"pb(list { remove { index: 3 } })pb");
  EXPECT_EQ(r.error().code(), kOutOfRange);
  EXPECT_EQ(r.error().message(),
            "list \"q\" index 3 is out of range; the size is 3");
  r = list.Apply(R"pb(list { remove { index: 1 if_version: 2 } })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().current(), 1);
  EXPECT_EQ(list.revision(), 1);

  r = list.Apply(R"pb(list { remove { index: 1 if_version: 1 } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.list().version(), 2);
  EXPECT_EQ(Item(r.list().entry()), "1 b@1");
  EXPECT_EQ(r.list().size(), 2);
  EXPECT_EQ(Events(list.last_events()),
            std::vector<std::string>{"REMOVED 1 b@1"});
  EXPECT_EQ(Values(list), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(Item(list.Apply("list { get { index: 1 } }").list().entry()),
            "1 c@1");
}

TEST(BrokerList, PopTakesEitherEndAndAnEmptyListIsNoError) {
  StateDriver list(v1::LIST, "q");
  v1::Response r = list.Apply("list { pop {} }");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_TRUE(r.has_list());
  EXPECT_FALSE(r.list().present());
  EXPECT_FALSE(r.list().has_entry());
  EXPECT_EQ(r.list().version(), 0);
  EXPECT_FALSE(list.last_mutated());
  EXPECT_EQ(list.revision(), 0);

  list.Apply(R"pb(list { append { values: "a" values: "b" values: "c" } })pb");
  r = list.Apply("list { pop {} }");
  EXPECT_TRUE(r.list().present());
  EXPECT_EQ(Item(r.list().entry()), "0 a@1");
  EXPECT_EQ(r.list().version(), 2);
  EXPECT_EQ(r.list().size(), 2);
  EXPECT_EQ(Events(list.last_events()),
            std::vector<std::string>{"REMOVED 0 a@1"});

  r = list.Apply("list { pop { tail: true } }");
  EXPECT_TRUE(r.list().present());
  EXPECT_EQ(Item(r.list().entry()), "1 c@1");
  EXPECT_EQ(r.list().version(), 3);
  EXPECT_EQ(r.list().size(), 1);
  EXPECT_EQ(Events(list.last_events()),
            std::vector<std::string>{"REMOVED 1 c@1"});

  r = list.Apply("list { pop { tail: true } }");
  EXPECT_EQ(Item(r.list().entry()), "0 b@1");
  EXPECT_EQ(r.list().size(), 0);
  r = list.Apply("list { pop { tail: true } }");
  EXPECT_FALSE(r.list().present());
  EXPECT_EQ(list.revision(), 4);
}

TEST(BrokerList, ClearRemovesEverythingTailFirstAtOneRevision) {
  StateDriver list(v1::LIST, "q");
  v1::Response r = list.Apply("list { clear {} }");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_FALSE(list.last_mutated());
  EXPECT_EQ(r.list().version(), 0);
  EXPECT_EQ(r.list().size(), 0);

  list.Apply(R"pb(list { append { values: "a" values: "b" } })pb");
  list.Apply(R"pb(list { insert { index: 1 value: "x" } })pb");
  r = list.Apply("list { clear {} }");
  EXPECT_TRUE(list.last_mutated());
  EXPECT_EQ(r.list().version(), 3);
  EXPECT_EQ(r.list().size(), 3);  // the number removed
  EXPECT_EQ(Events(list.last_events()),
            (std::vector<std::string>{"REMOVED 2 b@1", "REMOVED 1 x@2",
                                      "REMOVED 0 a@1"}));
  for (const v1::WatchEvent& e : list.last_events()) {
    EXPECT_EQ(e.revision(), 3);
  }
  EXPECT_EQ(list.Apply("list { size {} }").list().size(), 0);
}

TEST(BrokerList, SlicePagesByIndex) {
  StateDriver list(v1::LIST, "q");
  v1::Response r = list.ApplyRequest(Slice(0, 0));  // empty list
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_TRUE(r.has_list());
  EXPECT_TRUE(Page(r).empty());
  EXPECT_FALSE(r.list().more());
  r = list.ApplyRequest(Slice(1, 0));
  EXPECT_EQ(r.error().code(), kOutOfRange);
  EXPECT_EQ(r.error().message(),
            "list \"q\" index 1 is out of range; the size is 0");

  for (const char* v : {"a", "b", "c", "d", "e"}) {
    list.Apply(absl::StrFormat(R"pb(list { append { values: "%s" } })pb", v));
  }
  r = list.ApplyRequest(Slice(0, 0));
  EXPECT_EQ(Page(r), (std::vector<std::string>{"0 a@1", "1 b@2", "2 c@3",
                                               "3 d@4", "4 e@5"}));
  EXPECT_FALSE(r.list().more());
  EXPECT_EQ(r.revision(), 5);
  EXPECT_FALSE(list.last_mutated());

  r = list.ApplyRequest(Slice(1, 4, 2));
  EXPECT_EQ(Page(r), (std::vector<std::string>{"1 b@2", "2 c@3"}));
  EXPECT_TRUE(r.list().more());
  r = list.ApplyRequest(Slice(3, 4, 2));
  EXPECT_EQ(Page(r), std::vector<std::string>{"3 d@4"});
  EXPECT_FALSE(r.list().more());  // nothing more before stop

  // A stop past the end reads to the end; start = size is an empty page.
  r = list.ApplyRequest(Slice(3, 100));
  EXPECT_EQ(Page(r), (std::vector<std::string>{"3 d@4", "4 e@5"}));
  EXPECT_FALSE(r.list().more());
  r = list.ApplyRequest(Slice(5, 0));
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_TRUE(Page(r).empty());
  r = list.ApplyRequest(Slice(2, 2));
  EXPECT_TRUE(Page(r).empty());
  EXPECT_FALSE(r.list().more());
  r = list.ApplyRequest(Slice(6, 0));
  EXPECT_EQ(r.error().code(), kOutOfRange);
  EXPECT_EQ(r.error().message(),
            "list \"q\" index 6 is out of range; the size is 5");
}

TEST(BrokerList, SliceStopsAtThePageByteLimitButReturnsAtLeastOneItem) {
  Limits limits;
  limits.max_page_bytes = 100;
  limits.default_page_size = 4;
  limits.max_page_size = 6;
  StateDriver list(v1::LIST, "q", limits);
  for (int i = 0; i < 10; ++i) {
    list.Apply(absl::StrFormat(R"pb(list { append { values: "%s" } })pb",
                               std::string(30, 'a' + i)));
  }
  // 30 bytes each: three fit in 100 bytes.
  v1::Response r = list.ApplyRequest(Slice(0, 0, 5));
  EXPECT_EQ(r.list().entries_size(), 3);
  EXPECT_TRUE(r.list().more());

  list.Apply(absl::StrFormat(R"pb(list { append { values: "%s" } })pb",
                             std::string(500, 'z')));
  r = list.ApplyRequest(Slice(10, 0));
  ASSERT_EQ(r.list().entries_size(), 1);
  EXPECT_EQ(r.list().entries(0).index(), 10);
  EXPECT_FALSE(r.list().more());

  // Limits: 0 is the default, more than the maximum is capped.
  StateDriver small(v1::LIST, "q", limits);
  for (int i = 0; i < 20; ++i) {
    small.Apply(R"pb(list { append { values: "v" } })pb");
  }
  EXPECT_EQ(small.ApplyRequest(Slice(0, 0)).list().entries_size(), 4);
  EXPECT_EQ(small.ApplyRequest(Slice(0, 0, 5)).list().entries_size(), 5);
  EXPECT_EQ(small.ApplyRequest(Slice(0, 0, 100000)).list().entries_size(), 6);
}

// A 100,000-item list: inserts and removes in the middle, pops at both ends,
// against a std::vector model; then a paged walk sees every item once.
TEST(BrokerList, HundredThousandItemsMatchAModel) {
  StateDriver list(v1::LIST, "q");
  constexpr int kItems = 100000;
  std::vector<std::string> model;
  v1::Request append = MakeRequest(v1::LIST, "q", "list { append {} }");
  for (int i = 0; i < kItems; i += 1000) {
    append.mutable_list()->mutable_append()->clear_values();
    for (int j = i; j < i + 1000; ++j) {
      const std::string v = absl::StrCat(j);
      append.mutable_list()->mutable_append()->add_values(v);
      model.push_back(v);
    }
    ASSERT_EQ(list.ApplyRequest(append).error().code(), kOk);
  }
  for (int i = 0; i < 200; ++i) {
    const int64_t at = (static_cast<int64_t>(i) * 7919) % model.size();
    v1::Response r = list.Apply(absl::StrFormat(
        R"pb(list { insert { index: %d value: "n%d" } })pb", at, i));
    ASSERT_EQ(r.error().code(), kOk);
    model.insert(model.begin() + at, absl::StrCat("n", i));
    const int64_t gone = (static_cast<int64_t>(i) * 104729) % model.size();
    r = list.Apply(absl::StrFormat("list { remove { index: %d } }", gone));
    ASSERT_EQ(r.error().code(), kOk);
    ASSERT_EQ(r.list().entry().value(), model[gone]);
    model.erase(model.begin() + gone);
    r = list.Apply(i % 2 == 0 ? "list { pop {} }"
                              : "list { pop { tail: true } }");
    ASSERT_EQ(r.list().entry().value(),
              i % 2 == 0 ? model.front() : model.back());
    if (i % 2 == 0) {
      model.erase(model.begin());
    } else {
      model.pop_back();
    }
  }
  ASSERT_EQ(Values(list), model);

  std::vector<std::string> seen;
  int64_t start = 0;
  while (true) {
    v1::Response r = list.ApplyRequest(Slice(start, 0, 777));
    ASSERT_EQ(r.error().code(), kOk);
    for (const v1::MapEntry& e : r.list().entries()) {
      ASSERT_EQ(e.index(), static_cast<int64_t>(seen.size()));
      seen.push_back(e.value());
    }
    if (!r.list().more()) break;
    start = r.list().entries(r.list().entries_size() - 1).index() + 1;
  }
  EXPECT_EQ(seen, model);
}

TEST(BrokerList, SnapshotListsItemsInOrderWithTheirIndexes) {
  StateDriver list(v1::LIST, "q");
  EXPECT_EQ(list.Snapshot().entries_size(), 0);
  list.Apply(R"pb(list { append { values: "a" values: "c" } })pb");
  list.Apply(R"pb(list { insert { index: 1 value: "b" } })pb");
  const v1::WatchSnapshot snapshot = list.Snapshot();
  ASSERT_EQ(snapshot.entries_size(), 3);
  EXPECT_EQ(Item(snapshot.entries(0)), "0 a@1");
  EXPECT_EQ(Item(snapshot.entries(1)), "1 b@2");
  EXPECT_EQ(Item(snapshot.entries(2)), "2 c@1");
  EXPECT_TRUE(snapshot.entries(1).key().empty());
}

TEST(BrokerList, SaveThenLoadGivesTheSameList) {
  StateDriver list(v1::LIST, "q");
  list.Apply(R"pb(list { append { values: "a" values: "" values: "c" } })pb");
  list.Apply(R"pb(list { set { index: 1 value: "b" } })pb");
  atomix::log::v1::PrimitiveSave saved;
  list.machine().Save(saved);
  ASSERT_TRUE(saved.has_list());
  ASSERT_EQ(saved.list().items_size(), 3);

  ListState loaded;
  ASSERT_TRUE(loaded.Load(saved).ok());
  v1::WatchSnapshot a = list.Snapshot(), b;
  loaded.Snapshot({}, b);
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
  EXPECT_EQ(loaded.items().size(), 3u);

  atomix::log::v1::PrimitiveSave wrong;
  wrong.mutable_counter();
  absl::Status status = ListState().Load(wrong);
  EXPECT_EQ(static_cast<int>(status.code()), kDataLoss);
  EXPECT_EQ(status.message(), "the saved primitive holds no list state");
}

// Through the engine, as a snapshot file carries it: the list comes back
// whole and the loaded engine answers the next requests the same way.
TEST(BrokerList, AnEngineSnapshotCarriesTheList) {
  const auto apply = [](Engine& engine, const std::string& op_text) {
    atomix::log::v1::InputRecord record;
    record.mutable_batch()->set_origin(1);
    *record.mutable_batch()->add_requests() =
        MakeRequest(v1::LIST, "q", op_text);
    RecordOutput out;
    engine.Apply(record, out);
    return out.responses.at(0);
  };
  Engine original(Limits{}, Engine::Options{}, nullptr);
  apply(original,
        R"pb(list { append { values: "a" values: "b" values: "c" } })pb");
  apply(original, R"pb(list { insert { index: 1 value: "x" } })pb");
  apply(original, "list { pop {} }");
  atomix::log::v1::EngineSnapshot saved, parsed;
  original.Save(saved);
  ASSERT_TRUE(parsed.ParseFromString(saved.SerializeAsString()));
  Engine loaded(Limits{}, Engine::Options{}, nullptr);
  ASSERT_TRUE(loaded.Load(parsed).ok());
  EXPECT_EQ(loaded.Digest(), original.Digest());
  for (const char* op :
       {"list { pop { tail: true } }", "list { get { index: 1 } }",
        "list { slice {} }", "list { pop {} }"}) {
    const v1::Response want = apply(original, op);
    EXPECT_FALSE(want.has_error()) << op;
    EXPECT_EQ(apply(loaded, op).ShortDebugString(), want.ShortDebugString())
        << op;
  }
  EXPECT_EQ(loaded.Digest(), original.Digest());
}

// A consumer whose pop answer was lost sends it again with the same
// sequence: it gets the first answer back and no second item is taken.
TEST(BrokerList, ARetriedPopGetsItsFirstAnswerAndTakesOneItem) {
  testing::BrokerDriver broker;
  const uint64_t session = broker.OpenSession();
  ASSERT_NE(session, 0u);
  broker.Apply(v1::LIST, "q",
               R"pb(list { append { values: "a" values: "b" } })pb", session,
               1);
  const v1::Response first =
      broker.Apply(v1::LIST, "q", "list { pop {} }", session, 2);
  ASSERT_TRUE(first.list().present());
  EXPECT_EQ(first.list().entry().value(), "a");
  const int64_t revision = broker.revision();
  const v1::Response again =
      broker.Apply(v1::LIST, "q", "list { pop {} }", session, 2);
  EXPECT_EQ(again.list().ShortDebugString(), first.list().ShortDebugString());
  EXPECT_EQ(broker.revision(), revision);
  EXPECT_EQ(broker.Apply(v1::LIST, "q", "list { size {} }").list().size(), 1);
}

TEST(BrokerList, ValidationNamesTheField) {
  EXPECT_TRUE(Validate(R"pb(list { append { values: "a" } })pb").ok());
  EXPECT_EQ(Validate("list { append {} }").message(), "values is empty");
  EXPECT_EQ(Validate("list { get { index: -1 } }").message(),
            "index is -1; it must not be negative");
  EXPECT_EQ(
      Validate(R"pb(list { insert { index: -2 value: "v" } })pb").message(),
      "index is -2; it must not be negative");
  EXPECT_EQ(Validate(R"pb(list { set { index: -1 value: "v" } })pb").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Validate("list { remove { index: -1 } }").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Validate("list { slice { start: -1 } }").message(),
            "start is -1; it must not be negative");
  EXPECT_EQ(Validate("list { slice { start: 1 stop: -1 } }").message(),
            "stop is -1; it must not be negative");
  EXPECT_EQ(Validate("list { slice { start: 5 stop: 2 } }").message(),
            "stop is 2; it must not be before start 5 (0 means the end of the "
            "list)");
  EXPECT_TRUE(Validate("list { slice { start: 5 stop: 0 } }").ok());
  EXPECT_TRUE(Validate("list { pop { tail: true } }").ok());
  EXPECT_TRUE(Validate("list { size {} }").ok());
  EXPECT_TRUE(Validate("list { clear {} }").ok());
  EXPECT_EQ(Validate("list {}").message(), "list request has no operation");

  Limits limits;
  limits.max_value_bytes = 4;
  limits.max_page_size = 3;
  EXPECT_EQ(Validate(R"pb(list { set { index: 0 value: "12345" } })pb", limits)
                .message(),
            "value is 5 bytes; the limit is 4");
  EXPECT_EQ(
      Validate(R"pb(list { append { values: "1" values: "12345" } })pb", limits)
          .message(),
      "values[1] is 5 bytes; the limit is 4");
  EXPECT_EQ(
      Validate(R"pb(list {
                      append { values: "" values: "" values: "" values: "" }
                    })pb",
               limits)
          .message(),
      "values has 4 items; the limit is 3");
}

TEST(BrokerList, TheMachineRefusesWhatTheValidatorWould) {
  StateDriver list(v1::LIST, "q");
  EXPECT_EQ(list.Apply("list { get { index: -1 } }").error().code(),
            kInvalidArgument);
  EXPECT_EQ(list.Apply("list { append {} }").error().code(), kInvalidArgument);
  EXPECT_EQ(list.Apply("map { size {} }").error().code(), kInvalidArgument);
  EXPECT_EQ(list.Apply("list {}").error().code(), kInvalidArgument);
  EXPECT_EQ(list.revision(), 0);
}

TEST(BrokerList, SpecReadsAndFilters) {
  const PrimitiveSpec& spec = ListPrimitive();
  EXPECT_EQ(FindPrimitive(v1::LIST), &spec);
  EXPECT_EQ(spec.name, "list");
  EXPECT_FALSE(spec.key_filters);
  EXPECT_FALSE(spec.has_timers);
  EXPECT_EQ(spec.fence_of, nullptr);
  EXPECT_EQ(spec.session_owned, nullptr);
  const auto is_read = [&](const std::string& op) {
    return spec.is_read(MakeRequest(v1::LIST, "q", op));
  };
  EXPECT_TRUE(is_read("list { get {} }"));
  EXPECT_TRUE(is_read("list { size {} }"));
  EXPECT_TRUE(is_read("list { slice {} }"));
  EXPECT_FALSE(is_read("list { pop {} }"));
  EXPECT_FALSE(is_read(R"pb(list { append { values: "a" } })pb"));
  EXPECT_FALSE(is_read("list { remove {} }"));
  EXPECT_FALSE(is_read("list { clear {} }"));
}

TEST(BrokerList, DescribeCountsTheItems) {
  StateDriver list(v1::LIST, "q");
  EXPECT_EQ(list.Describe().summary(), "0 items");
  list.Apply(R"pb(list { append { values: "a" } })pb");
  EXPECT_EQ(list.Describe().summary(), "1 item");
  list.Apply(R"pb(list { append { values: "b" values: "c" } })pb");
  const v1::PrimitiveInfo info = list.Describe();
  EXPECT_EQ(info.summary(), "3 items");
  EXPECT_EQ(info.holders_size(), 0);
  EXPECT_EQ(info.waiters_size(), 0);
}

}  // namespace
}  // namespace atomix::broker
