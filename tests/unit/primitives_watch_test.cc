// Every primitive's Watch() against a scripted gRPC broker: what it asks
// for, and how each broker event, replay and resync becomes a typed event.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "atomix/atomix.h"
#include "gtest/gtest.h"
#include "tests/unit/sdk_fake_broker.h"

namespace atomix {
namespace {

using std::chrono::seconds;
using testing::CounterChange;
using testing::EntryEvent;
using testing::FakeBroker;
using testing::Snapshot;
using testing::WaitUntil;
using testing::WatchEvents;
using testing::WireEntry;

constexpr auto kWait = seconds(10);
using StrEntry = Entry<std::string, std::string>;

class PrimitiveWatch : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<FakeBroker>("broker-a");
    ASSERT_TRUE(broker_->started());
    ClientOptions options;
    options.endpoints = {broker_->endpoint()};
    auto client = Client::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *client;
    broker_->set_watch_revision(10);
  }

  v1::WatchRequest Request(size_t i) {
    EXPECT_TRUE(broker_->WaitForWatches(i + 1));
    return broker_->watch_requests().at(i);
  }

  std::unique_ptr<FakeBroker> broker_;
  std::optional<Client> client_;
};

TEST_F(PrimitiveWatch, MapEventsOfEveryType) {
  auto map = GetMap<std::string, std::string>(*client_, "m");
  ASSERT_TRUE(map.ok()) << map.status();
  auto ch = map->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  v1::WatchRequest r = Request(0);
  EXPECT_EQ(r.type(), v1::MAP);
  EXPECT_EQ(r.name(), "m");
  EXPECT_FALSE(r.has_key());
  EXPECT_EQ(r.prefix(), "");

  broker_->PushWatch(
      WatchEvents({EntryEvent(v1::WatchEvent::INSERTED, 11, WireEntry("a", "1", 11))}));
  broker_->PushWatch(WatchEvents(
      {EntryEvent(v1::WatchEvent::UPDATED, 12, WireEntry("a", "2", 12), WireEntry("a", "1", 11)),
       EntryEvent(v1::WatchEvent::INSERTED, 13, WireEntry("b", "x", 13))}));
  // Two removals at one revision (a Clear), then an expiry.
  broker_->PushWatch(WatchEvents(
      {EntryEvent(v1::WatchEvent::REMOVED, 14, std::nullopt, WireEntry("a", "2", 12)),
       EntryEvent(v1::WatchEvent::REMOVED, 14, std::nullopt, WireEntry("b", "x", 13))}));
  broker_->PushWatch(
      WatchEvents({EntryEvent(v1::WatchEvent::EXPIRED, 16, std::nullopt, WireEntry("t", "", 15))}));

  struct Want {
    EventType type;
    Version revision;
    std::optional<StrEntry> entry;
    std::optional<StrEntry> previous;
  };
  const std::vector<Want> want = {
      {EventType::kInserted, 11, StrEntry{"a", "1", 11}, std::nullopt},
      {EventType::kUpdated, 12, StrEntry{"a", "2", 12}, StrEntry{"a", "1", 11}},
      {EventType::kInserted, 13, StrEntry{"b", "x", 13}, std::nullopt},
      {EventType::kRemoved, 14, std::nullopt, StrEntry{"a", "2", 12}},
      {EventType::kRemoved, 14, std::nullopt, StrEntry{"b", "x", 13}},
      {EventType::kExpired, 16, std::nullopt, StrEntry{"t", "", 15}},
  };
  for (const Want& w : want) {
    auto e = ch->Receive(kWait);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->type, w.type);
    EXPECT_EQ(e->revision, w.revision);
    EXPECT_EQ(e->entry, w.entry);
    EXPECT_EQ(e->previous, w.previous);
    EXPECT_TRUE(e->snapshot.empty());
    EXPECT_EQ(e->reason, ResyncReason::kNone);
  }
}

TEST_F(PrimitiveWatch, MapPrefixAndKeyFiltersUseEncodedKeys) {
  auto map = GetMap<int64_t, std::string>(*client_, "m");
  ASSERT_TRUE(map.ok()) << map.status();
  auto subtree = map->Watch(WithPrefix("jobs/"));
  ASSERT_TRUE(subtree.ok()) << subtree.status();
  EXPECT_EQ(Request(0).prefix(), "jobs/");
  EXPECT_FALSE(Request(0).has_key());

  auto one = map->Watch(int64_t{7}, WithReplay());
  ASSERT_TRUE(one.ok()) << one.status();
  v1::WatchRequest r = Request(1);
  ASSERT_TRUE(r.has_key());
  EXPECT_EQ(r.key(), Codec<int64_t>::Encode(7));
  EXPECT_TRUE(r.replay());
  EXPECT_EQ(r.prefix(), "");

  auto fluent = map->Watch(WithReplay().Prefix("a").StartVersion(3));
  ASSERT_TRUE(fluent.ok()) << fluent.status();
  EXPECT_EQ(Request(2).prefix(), "a");
  EXPECT_TRUE(Request(2).replay());
  EXPECT_EQ(Request(2).start_revision(), 0);  // Replay overrides the start.
}

TEST_F(PrimitiveWatch, MapWithTypedCodecsDecodesKeysAndValues) {
  auto map = GetMap<int64_t, int64_t>(*client_, "nums");
  ASSERT_TRUE(map.ok()) << map.status();
  auto ch = map->Watch(WithReplay());
  ASSERT_TRUE(ch.ok()) << ch.status();
  broker_->PushWatch(
      Snapshot(v1::WatchSnapshot::REPLAY, 30,
               {WireEntry(Codec<int64_t>::Encode(1), Codec<int64_t>::Encode(100), 3),
                WireEntry(Codec<int64_t>::Encode(2), Codec<int64_t>::Encode(-5), 29)}));
  auto first = ch->Receive(kWait);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->type, EventType::kInserted);
  EXPECT_EQ(first->revision, 30);
  EXPECT_EQ(first->entry, (Entry<int64_t, int64_t>{1, 100, 3}));
  auto second = ch->Receive(kWait);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->entry, (Entry<int64_t, int64_t>{2, -5, 29}));
  EXPECT_EQ(second->revision, 30);
}

TEST_F(PrimitiveWatch, SetEventsAndResync) {
  auto set = GetSet<std::string>(*client_, "s");
  ASSERT_TRUE(set.ok()) << set.status();
  auto ch = set->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(Request(0).type(), v1::SET);
  broker_->PushWatch(
      WatchEvents({EntryEvent(v1::WatchEvent::INSERTED, 11, WireEntry("x", "", 11))}));
  broker_->PushWatch(
      WatchEvents({EntryEvent(v1::WatchEvent::REMOVED, 12, std::nullopt, WireEntry("x", "", 11))}));
  broker_->PushWatch(
      Snapshot(v1::WatchSnapshot::NEW_BROKER, 3, {WireEntry("p", "", 1), WireEntry("q", "", 2)}));
  auto added = ch->Receive(kWait);
  ASSERT_TRUE(added);
  EXPECT_EQ(added->type, EventType::kInserted);
  EXPECT_EQ(added->element, (Versioned<std::string>{"x", 11}));
  EXPECT_FALSE(added->previous);
  auto removed = ch->Receive(kWait);
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->type, EventType::kRemoved);
  EXPECT_EQ(removed->revision, 12);
  EXPECT_FALSE(removed->element);
  EXPECT_EQ(removed->previous, (Versioned<std::string>{"x", 11}));
  auto resync = ch->Receive(kWait);
  ASSERT_TRUE(resync);
  EXPECT_EQ(resync->type, EventType::kResync);
  EXPECT_EQ(resync->reason, ResyncReason::kNewBroker);
  EXPECT_EQ(resync->revision, 3);
  EXPECT_EQ(resync->snapshot, (std::vector<Versioned<std::string>>{{"p", 1}, {"q", 2}}));
}

TEST_F(PrimitiveWatch, ValueEventsReplayAndResync) {
  auto value = GetValue<std::string>(*client_, "v");
  ASSERT_TRUE(value.ok()) << value.status();
  auto ch = value->Watch(WithReplay());
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(Request(0).type(), v1::VALUE);
  // An absent value replays as no event.
  broker_->PushWatch(Snapshot(v1::WatchSnapshot::REPLAY, 10));
  broker_->PushWatch(
      WatchEvents({EntryEvent(v1::WatchEvent::INSERTED, 11, WireEntry("", "a", 11))}));
  broker_->PushWatch(WatchEvents(
      {EntryEvent(v1::WatchEvent::UPDATED, 12, WireEntry("", "b", 12), WireEntry("", "a", 11))}));
  broker_->PushWatch(Snapshot(v1::WatchSnapshot::COMPACTED, 20));
  broker_->PushWatch(Snapshot(v1::WatchSnapshot::COMPACTED, 25, {WireEntry("", "z", 24)}));
  auto inserted = ch->Receive(kWait);
  ASSERT_TRUE(inserted);
  EXPECT_EQ(inserted->type, EventType::kInserted);
  EXPECT_EQ(inserted->revision, 11);
  EXPECT_EQ(inserted->value, (Versioned<std::string>{"a", 11}));
  auto updated = ch->Receive(kWait);
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->type, EventType::kUpdated);
  EXPECT_EQ(updated->value, (Versioned<std::string>{"b", 12}));
  EXPECT_EQ(updated->previous, (Versioned<std::string>{"a", 11}));
  auto gone = ch->Receive(kWait);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->type, EventType::kResync);
  EXPECT_EQ(gone->reason, ResyncReason::kCompacted);
  EXPECT_EQ(gone->revision, 20);
  EXPECT_FALSE(gone->value);
  auto back = ch->Receive(kWait);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->type, EventType::kResync);
  EXPECT_EQ(back->revision, 25);
  EXPECT_EQ(back->value, (Versioned<std::string>{"z", 24}));
  EXPECT_FALSE(back->previous);
}

TEST_F(PrimitiveWatch, CounterReplayIsOneEventWithTheCurrentValue) {
  auto counter = GetCounter(*client_, "c");
  ASSERT_TRUE(counter.ok()) << counter.status();
  auto ch = counter->Watch(WithReplay());
  ASSERT_TRUE(ch.ok()) << ch.status();
  v1::WatchResponse snap = Snapshot(v1::WatchSnapshot::REPLAY, 10);
  snap.mutable_snapshot()->mutable_counter()->set_value(42);
  snap.mutable_snapshot()->mutable_counter()->set_version(7);
  broker_->PushWatch(snap);
  broker_->PushWatch(WatchEvents({CounterChange(11, 43, 42)}));
  EXPECT_EQ(ch->Receive(kWait),
            (CounterEvent{EventType::kInserted, 10, 42, 0, ResyncReason::kNone}));
  EXPECT_EQ(ch->Receive(kWait),
            (CounterEvent{EventType::kUpdated, 11, 43, 42, ResyncReason::kNone}));
}

TEST_F(PrimitiveWatch, LockEventsCarryTheHolder) {
  auto lock = GetLock(*client_, "l");
  ASSERT_TRUE(lock.ok()) << lock.status();
  auto ch = lock->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(Request(0).type(), v1::LOCK);
  auto holder = [](v1::WatchEvent::Type type, int64_t revision, int64_t fence, uint64_t session) {
    v1::WatchEvent e;
    e.set_type(type);
    e.set_revision(revision);
    e.mutable_holder()->set_fence(fence);
    e.mutable_holder()->set_session_id(session);
    return e;
  };
  broker_->PushWatch(WatchEvents({holder(v1::WatchEvent::INSERTED, 11, 11, 5)}));
  broker_->PushWatch(WatchEvents({holder(v1::WatchEvent::UPDATED, 12, 12, 6)}));
  broker_->PushWatch(WatchEvents({holder(v1::WatchEvent::REMOVED, 13, 0, 0)}));
  v1::WatchResponse snap = Snapshot(v1::WatchSnapshot::NEW_BROKER, 2);
  snap.mutable_snapshot()->mutable_holder()->set_fence(2);
  snap.mutable_snapshot()->mutable_holder()->set_session_id(9);
  broker_->PushWatch(snap);
  EXPECT_EQ(ch->Receive(kWait), (LockEvent{EventType::kInserted, 11, 11, 5, ResyncReason::kNone}));
  EXPECT_EQ(ch->Receive(kWait), (LockEvent{EventType::kUpdated, 12, 12, 6, ResyncReason::kNone}));
  EXPECT_EQ(ch->Receive(kWait), (LockEvent{EventType::kRemoved, 13, 0, 0, ResyncReason::kNone}));
  EXPECT_EQ(ch->Receive(kWait), (LockEvent{EventType::kResync, 2, 2, 9, ResyncReason::kNewBroker}));
}

TEST_F(PrimitiveWatch, ElectionDeliversTermsAndSkipsAResyncThatChangesNothing) {
  auto election = GetElection(*client_, "e");
  ASSERT_TRUE(election.ok()) << election.status();
  auto ch = election->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  EXPECT_EQ(Request(0).type(), v1::ELECTION);
  auto term = [](const std::string& leader, int64_t t, std::vector<std::string> candidates) {
    v1::Term w;
    w.set_leader(leader);
    w.set_term(t);
    for (auto& c : candidates) w.add_candidates(c);
    return w;
  };
  v1::WatchEvent first;
  first.set_type(v1::WatchEvent::INSERTED);
  first.set_revision(11);
  *first.mutable_elected() = term("a", 11, {"a"});
  v1::WatchEvent second;
  second.set_type(v1::WatchEvent::UPDATED);
  second.set_revision(12);
  *second.mutable_elected() = term("a", 11, {"a", "b"});
  broker_->PushWatch(WatchEvents({first}));
  broker_->PushWatch(WatchEvents({second}));
  v1::WatchResponse same = Snapshot(v1::WatchSnapshot::COMPACTED, 20);
  *same.mutable_snapshot()->mutable_elected() = term("a", 11, {"a", "b"});
  broker_->PushWatch(same);
  v1::WatchResponse changed = Snapshot(v1::WatchSnapshot::COMPACTED, 30);
  *changed.mutable_snapshot()->mutable_elected() = term("b", 25, {"b"});
  broker_->PushWatch(changed);
  EXPECT_EQ(ch->Receive(kWait), (Term{"a", 11, {"a"}}));
  EXPECT_EQ(ch->Receive(kWait), (Term{"a", 11, {"a", "b"}}));
  EXPECT_EQ(ch->Receive(kWait), (Term{"b", 25, {"b"}}));
  // The resume point moved past the skipped resync too.
  broker_->EndWatch(grpc::Status(grpc::StatusCode::UNAVAILABLE, "reset"));
  EXPECT_EQ(Request(1).start_revision(), 31);
}

TEST_F(PrimitiveWatch, SetDecodeFailureNamesTheElement) {
  auto set = GetSet<int64_t>(*client_, "nums");
  ASSERT_TRUE(set.ok()) << set.status();
  auto ch = set->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  broker_->PushWatch(
      WatchEvents({EntryEvent(v1::WatchEvent::INSERTED, 11, WireEntry("xy", "", 11))}));
  ASSERT_TRUE(WaitUntil([&] { return ch->closed(); }, kWait));
  EXPECT_EQ(ch->status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ch->status().message().find("set \"nums\", element \"xy\""), std::string::npos)
      << ch->status();
}

TEST_F(PrimitiveWatch, AnEventWithoutItsDetailEndsTheWatchNamingIt) {
  // A protocol 1.0 broker fills only `value` and `previous_value`: without
  // the detail the event would read as zeros, so the watch ends instead.
  auto counter = GetCounter(*client_, "c");
  ASSERT_TRUE(counter.ok()) << counter.status();
  auto ch = counter->Watch();
  ASSERT_TRUE(ch.ok()) << ch.status();
  v1::WatchEvent old;
  old.set_type(v1::WatchEvent::UPDATED);
  old.set_revision(11);
  old.set_value(43);
  old.set_previous_value(42);
  broker_->PushWatch(WatchEvents({old}));
  ASSERT_TRUE(WaitUntil([&] { return ch->closed(); }, kWait));
  EXPECT_EQ(ch->status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(ch->status().message(),
            "broker sent a counter watch event or snapshot at revision 11 without a detail "
            "that parses (protocol 1.1 brokers send one; is the broker older?)");
}

}  // namespace
}  // namespace atomix
