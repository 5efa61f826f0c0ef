// List<T> watches against the real broker: events carry indexes at exact
// revisions, a replayed snapshot is the list in order, and a watcher that
// applies the events to a copy keeps it equal to the list through inserts,
// replacements, removals, pops and clears.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::seconds;
using IntList = List<int64_t>;
using Item = ListItem<int64_t>;

class ListWatch : public BrokerTest {
 protected:
  IntList Open(const std::string& name) {
    auto l = GetList<int64_t>(client(), name);
    EXPECT_TRUE(l.ok()) << l.status();
    return *std::move(l);
  }
};

using Event = ListEvent<int64_t>;

Event Next(Channel<Event>& ch) {
  auto e = ch.Receive(seconds(20));
  EXPECT_TRUE(e.has_value()) << "no event within 20 s";
  return e.value_or(Event{});
}

std::string Describe(const Event& e) {
  const auto item = [](const std::optional<Item>& i) {
    return i ? absl::StrCat(i->index, ":", i->value, "@", i->version) : std::string("-");
  };
  return absl::StrCat(static_cast<int>(e.type), " r", e.revision, " ", item(e.item), " ",
                      item(e.previous));
}

TEST_F(ListWatch, WatchEventsCarryIndexesAtExactRevisions) {
  IntList l = Open("watched");
  auto ch = l.Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  const Version v = l.AppendAll({1, 2})->version;
  ASSERT_TRUE(l.Insert(1, 3).ok());  // v + 1: 1 3 2
  ASSERT_TRUE(l.Set(0, 4).ok());     // v + 2: 4 3 2
  ASSERT_TRUE(l.Remove(1).ok());     // v + 3: 4 2
  ASSERT_TRUE(l.PopBack().ok());     // v + 4: 4
  ASSERT_TRUE(l.Append(5).ok());     // v + 5: 4 5
  ASSERT_TRUE(l.Clear().ok());       // v + 6
  const auto ins = [](Version r, int64_t i, int64_t value, Version at) {
    return Describe(Event{EventType::kInserted, r, Item{i, value, at}, std::nullopt});
  };
  const auto rem = [](Version r, int64_t i, int64_t value, Version at) {
    return Describe(Event{EventType::kRemoved, r, std::nullopt, Item{i, value, at}});
  };
  const std::vector<std::string> expected = {
      ins(v, 0, 1, v),
      ins(v, 1, 2, v),
      ins(v + 1, 1, 3, v + 1),
      Describe(Event{EventType::kUpdated, v + 2, Item{0, 4, v + 2}, Item{0, 1, v}}),
      rem(v + 3, 1, 3, v + 1),
      rem(v + 4, 1, 2, v),
      ins(v + 5, 1, 5, v + 5),
      rem(v + 6, 1, 5, v + 5),  // Clear: tail first
      rem(v + 6, 0, 4, v + 2),
  };
  for (const std::string& want : expected) EXPECT_EQ(Describe(Next(*ch)), want);
}

// A replayed snapshot is the list in order, then live events follow; a
// watcher applying them to a copy ends with the list the broker holds.
TEST_F(ListWatch, ReplayThenEventsRebuildTheList) {
  IntList l = Open("mirror");
  ASSERT_TRUE(l.AppendAll({10, 20, 30, 40}).ok());
  ASSERT_TRUE(l.Insert(2, 25).ok());
  auto ch = l.Watch(WithReplay());
  ASSERT_TRUE(ch.ok()) << ch.status();
  std::vector<Item> mirror;
  Version snapshot_revision = 0;
  for (int i = 0; i < 5; ++i) {
    Event e = Next(*ch);
    ASSERT_EQ(e.type, EventType::kInserted);
    ASSERT_TRUE(e.item.has_value());
    ASSERT_EQ(e.item->index, i);
    if (i == 0) snapshot_revision = e.revision;
    EXPECT_EQ(e.revision, snapshot_revision);
    mirror.push_back(*e.item);
  }
  EXPECT_EQ(mirror, l.Slice(0)->items);

  std::mt19937 rng(7);
  Version last = 0;
  for (int i = 0; i < 300; ++i) {
    const int64_t size = *l.Size();
    const int dice = static_cast<int>(rng() % 6);
    absl::Status done = absl::OkStatus();
    if (dice == 0 || size == 0) {
      done = l.Insert(size == 0 ? 0 : static_cast<int64_t>(rng() % (size + 1)), i).status();
    } else if (dice == 1) {
      done = l.Set(static_cast<int64_t>(rng() % size), i).status();
    } else if (dice == 2) {
      done = l.Remove(static_cast<int64_t>(rng() % size)).status();
    } else if (dice == 3) {
      done = l.AppendAll({i, i + 1}).status();
    } else if (dice == 4) {
      done = (i % 2 == 0 ? l.PopFront() : l.PopBack()).status();
    } else if (i % 50 == 0) {
      done = l.Clear().status();
    }
    ASSERT_TRUE(done.ok()) << done;
  }
  ASSERT_TRUE(l.Append(-1).ok());  // a last write, to know when to stop
  auto final_items = l.Slice(0, std::nullopt, ListOptions());
  ASSERT_TRUE(final_items.ok());
  while (true) {
    Event e = Next(*ch);
    ASSERT_NE(e.type, EventType::kResync);
    ASSERT_GE(e.revision, last);
    last = e.revision;
    if (e.type == EventType::kInserted) {
      ASSERT_LE(e.item->index, static_cast<int64_t>(mirror.size()));
      mirror.insert(mirror.begin() + e.item->index, *e.item);
    } else if (e.type == EventType::kUpdated) {
      ASSERT_LT(e.item->index, static_cast<int64_t>(mirror.size()));
      EXPECT_EQ(mirror[e.item->index].value, e.previous->value);
      mirror[e.item->index] = *e.item;
    } else {
      ASSERT_EQ(e.type, EventType::kRemoved);
      ASSERT_LT(e.previous->index, static_cast<int64_t>(mirror.size()));
      EXPECT_EQ(mirror[e.previous->index].value, e.previous->value);
      mirror.erase(mirror.begin() + e.previous->index);
    }
    if (e.type == EventType::kInserted && e.item->value == -1) break;
  }
  // Items keep the index they were delivered with; compare values and versions.
  for (size_t i = 0; i < mirror.size(); ++i) mirror[i].index = static_cast<int64_t>(i);
  EXPECT_EQ(mirror, final_items->items);
}

}  // namespace
}  // namespace atomix::testing
