// The watch events each pure state machine emits (type, revision, entry,
// previous, counter values, lock holder, election term) and the snapshots
// it fills, driven with a fixed logical time and no store.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "broker-sim/src/testing/requests.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::MakeRequest;
using testing::StateDriver;
using testing::TestNow;

template <typename Message>
Message Parse(const std::string& text) {
  Message message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message))
      << text;
  return message;
}

// Checks that the protocol 1.0 fields of a counter, lock or election event
// say what its detail says, and drops them: expectations name the detail.
v1::WatchEvent Without10Form(v1::WatchEvent e) {
  if (e.has_counter()) {
    EXPECT_EQ(e.value(), e.counter().value());
    EXPECT_EQ(e.previous_value(), e.counter().previous_value());
    e.clear_value();
    e.clear_previous_value();
  }
  if (e.has_holder()) {
    EXPECT_EQ(e.lock().ShortDebugString(), e.holder().ShortDebugString());
    EXPECT_TRUE(e.has_lock());
    e.clear_lock();
  }
  if (e.has_elected()) {
    EXPECT_EQ(e.term().ShortDebugString(), e.elected().ShortDebugString());
    EXPECT_TRUE(e.has_term());
    e.clear_term();
  }
  return e;
}

v1::WatchSnapshot Without10Form(v1::WatchSnapshot s) {
  if (s.has_counter()) {
    EXPECT_EQ(s.value(), s.counter().value());
    EXPECT_EQ(s.version(), s.counter().version());
    s.clear_value();
    s.clear_version();
  }
  if (s.has_holder()) {
    EXPECT_EQ(s.lock().ShortDebugString(), s.holder().ShortDebugString());
    s.clear_lock();
  }
  if (s.has_elected()) {
    EXPECT_EQ(s.term().ShortDebugString(), s.elected().ShortDebugString());
    s.clear_term();
  }
  return s;
}

// Compares events with their expected text form, one by one.
void ExpectEvents(const std::vector<v1::WatchEvent>& got,
                  const std::vector<std::string>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(Without10Form(got[i]).ShortDebugString(),
              Parse<v1::WatchEvent>(want[i]).ShortDebugString())
        << "event " << i;
  }
}

void ExpectSnapshot(const v1::WatchSnapshot& got, const std::string& want) {
  EXPECT_EQ(Without10Form(got).ShortDebugString(),
            Parse<v1::WatchSnapshot>(want).ShortDebugString());
}

// Applies `op` with `session` on a machine of the driver's type.
v1::Response ApplyAs(StateDriver& driver, v1::PrimitiveType type,
                     const std::string& op, uint64_t session) {
  v1::Request request = MakeRequest(type, "p", op);
  request.set_session_id(session);
  return driver.ApplyRequest(request);
}

TEST(BrokerWatchEvents, MapWrites) {
  StateDriver map(v1::MAP);
  map.Apply(R"pb(map { put { key: "a" value: "1" } })pb");
  ExpectEvents(map.last_events(),
               {R"pb(type: INSERTED
                     revision: 1
                     entry { key: "a" value: "1" version: 1 })pb"});
  map.Apply(R"pb(map { put { key: "a" value: "2" } })pb");
  ExpectEvents(map.last_events(),
               {R"pb(type: UPDATED
                     revision: 2
                     entry { key: "a" value: "2" version: 2 }
                     previous { key: "a" value: "1" version: 1 })pb"});
  map.Apply(R"pb(map { insert { key: "b" value: "x" } })pb");
  ExpectEvents(map.last_events(),
               {R"pb(type: INSERTED
                     revision: 3
                     entry { key: "b" value: "x" version: 3 })pb"});
  map.Apply(R"pb(map { update { key: "b" value: "y" } })pb");
  ExpectEvents(map.last_events(),
               {R"pb(type: UPDATED
                     revision: 4
                     entry { key: "b" value: "y" version: 4 }
                     previous { key: "b" value: "x" version: 3 })pb"});
  map.Apply(R"pb(map { remove { key: "a" } })pb");
  ExpectEvents(map.last_events(),
               {R"pb(type: REMOVED
                     revision: 5
                     previous { key: "a" value: "2" version: 2 })pb"});
  EXPECT_EQ(map.revision(), 5);
}

TEST(BrokerWatchEvents, MapFailuresAndReadsEmitNothing) {
  StateDriver map(v1::MAP);
  map.Apply(R"pb(map { put { key: "a" value: "1" } })pb");
  for (const char* op :
       {R"pb(map { insert { key: "a" value: "x" } })pb",
        R"pb(map { update { key: "zz" value: "x" } })pb",
        R"pb(map { remove { key: "zz" } })pb",
        R"pb(map { put { key: "a" value: "x" if_version: 7 } })pb",
        R"pb(map { get { key: "a" } })pb", R"pb(map { size {} })pb",
        R"pb(map { list {} })pb"}) {
    map.Apply(op);
    EXPECT_FALSE(map.last_mutated()) << op;
    EXPECT_TRUE(map.last_events().empty()) << op;
  }
  EXPECT_EQ(map.revision(), 1);
}

TEST(BrokerWatchEvents, MapClearIsOneRemovedPerEntryAtOneRevision) {
  StateDriver map(v1::MAP);
  map.Apply(R"pb(map { put { key: "b" value: "2" } })pb");
  map.Apply(R"pb(map { put { key: "a" value: "1" } })pb");
  v1::Response r = map.Apply(R"pb(map { clear {} })pb");
  EXPECT_EQ(r.map().version(), 3);
  ExpectEvents(map.last_events(),
               {R"pb(type: REMOVED
                     revision: 3
                     previous { key: "a" value: "1" version: 2 })pb",
                R"pb(type: REMOVED
                     revision: 3
                     previous { key: "b" value: "2" version: 1 })pb"});
  map.Apply(R"pb(map { clear {} })pb");
  EXPECT_FALSE(map.last_mutated());
  EXPECT_TRUE(map.last_events().empty());
}

TEST(BrokerWatchEvents, MapRemovePrefix) {
  StateDriver map(v1::MAP);
  map.Apply(R"pb(map { put { key: "p/1" value: "x" } })pb");
  map.Apply(R"pb(map { put { key: "q" value: "y" } })pb");
  map.Apply(R"pb(map { put { key: "p/2" value: "z" } })pb");
  map.Apply(R"pb(map { put { key: "p" value: "w" } })pb");

  v1::Response r = map.Apply(R"pb(map { remove_prefix { prefix: "p/" } })pb");
  EXPECT_EQ(r.error().code(), 0);
  EXPECT_EQ(r.map().size(), 2);
  EXPECT_EQ(r.map().version(), 5);
  EXPECT_EQ(r.revision(), 5);
  ExpectEvents(map.last_events(),
               {R"pb(type: REMOVED
                     revision: 5
                     previous { key: "p/1" value: "x" version: 1 })pb",
                R"pb(type: REMOVED
                     revision: 5
                     previous { key: "p/2" value: "z" version: 3 })pb"});
  r = map.Apply(R"pb(map { size {} })pb");
  EXPECT_EQ(r.map().size(), 2);  // "p" and "q" stay

  // Nothing matches: no revision.
  r = map.Apply(R"pb(map { remove_prefix { prefix: "p/" } })pb");
  EXPECT_EQ(r.map().size(), 0);
  EXPECT_EQ(r.map().version(), 0);
  EXPECT_EQ(r.revision(), 5);
  EXPECT_FALSE(map.last_mutated());
  EXPECT_TRUE(map.last_events().empty());

  // The empty prefix removes everything, like Clear.
  r = map.Apply(R"pb(map { remove_prefix {} })pb");
  EXPECT_EQ(r.map().size(), 2);
  EXPECT_EQ(r.map().version(), 6);
  EXPECT_EQ(map.last_events().size(), 2u);
  r = map.Apply(R"pb(map { size {} })pb");
  EXPECT_EQ(r.map().size(), 0);
}

TEST(BrokerWatchEvents, MapRemovePrefixForgetsTtlAndOwner) {
  StateDriver map(v1::MAP);
  ApplyAs(map, v1::MAP,
          R"pb(map {
                 put { key: "t/1" value: "x" ttl_ms: 1000 ephemeral: true }
               })pb",
          7);
  map.Apply(R"pb(map { remove_prefix { prefix: "t/" } })pb");
  EXPECT_EQ(map.machine().NextDeadline(), absl::InfiniteFuture());
  map.EndSession(7);
  EXPECT_FALSE(map.last_mutated());
}

TEST(BrokerWatchEvents, MapTtlExpiryAndSessionEnd) {
  StateDriver map(v1::MAP);
  map.Apply(R"pb(map { put { key: "t" value: "x" ttl_ms: 2000 } })pb");
  ApplyAs(map, v1::MAP,
          R"pb(map { put { key: "e1" value: "y" ephemeral: true } })pb", 7);
  ApplyAs(map, v1::MAP,
          R"pb(map { put { key: "e2" value: "z" ephemeral: true } })pb", 7);
  map.Advance(TestNow() + absl::Seconds(2));
  ExpectEvents(map.last_events(),
               {R"pb(type: EXPIRED
                     revision: 4
                     previous { key: "t" value: "x" version: 1 })pb"});
  map.EndSession(7);
  ExpectEvents(map.last_events(),
               {R"pb(type: REMOVED
                     revision: 5
                     previous { key: "e1" value: "y" version: 2 })pb",
                R"pb(type: REMOVED
                     revision: 5
                     previous { key: "e2" value: "z" version: 3 })pb"});
}

TEST(BrokerWatchEvents, MapSnapshotFilters) {
  StateDriver map(v1::MAP);
  map.Apply(R"pb(map { put { key: "a/1" value: "x" } })pb");
  map.Apply(R"pb(map { put { key: "b" value: "y" } })pb");
  map.Apply(R"pb(map { put { key: "a/2" value: "z" } })pb");
  ExpectSnapshot(map.Snapshot(), R"pb(
    entries { key: "a/1" value: "x" version: 1 }
    entries { key: "a/2" value: "z" version: 3 }
    entries { key: "b" value: "y" version: 2 })pb");
  ExpectSnapshot(map.Snapshot({.prefix = "a/"}), R"pb(
    entries { key: "a/1" value: "x" version: 1 }
    entries { key: "a/2" value: "z" version: 3 })pb");
  ExpectSnapshot(map.Snapshot({.key = "b"}),
                 R"pb(entries { key: "b" value: "y" version: 2 })pb");
  ExpectSnapshot(map.Snapshot({.key = "a/"}), "");
}

TEST(BrokerWatchEvents, Set) {
  StateDriver set(v1::SET);
  set.Apply(R"pb(set { add { element: "x" } })pb");
  ExpectEvents(set.last_events(), {R"pb(type: INSERTED
                                        revision: 1
                                        entry { key: "x" version: 1 })pb"});
  set.Apply(R"pb(set { add { element: "x" } })pb");
  EXPECT_TRUE(set.last_events().empty());
  set.Apply(R"pb(set { add { element: "w" } })pb");
  ExpectSnapshot(set.Snapshot(), R"pb(entries { key: "w" version: 2 }
                                      entries { key: "x" version: 1 })pb");
  set.Apply(R"pb(set { remove { element: "x" } })pb");
  ExpectEvents(set.last_events(), {R"pb(type: REMOVED
                                        revision: 3
                                        previous { key: "x" version: 1 })pb"});
  set.Apply(R"pb(set { remove { element: "x" } })pb");
  EXPECT_TRUE(set.last_events().empty());
  set.Apply(R"pb(set { add { element: "y" } })pb");
  set.Apply(R"pb(set { clear {} })pb");
  ExpectEvents(set.last_events(), {R"pb(type: REMOVED
                                        revision: 5
                                        previous { key: "w" version: 2 })pb",
                                   R"pb(type: REMOVED
                                        revision: 5
                                        previous { key: "y" version: 4 })pb"});
  set.Apply(R"pb(set { clear {} })pb");
  EXPECT_TRUE(set.last_events().empty());
}

TEST(BrokerWatchEvents, Value) {
  StateDriver value(v1::VALUE);
  ExpectSnapshot(value.Snapshot(), "");
  value.Apply(R"pb(value { set { value: "a" } })pb");
  ExpectEvents(value.last_events(),
               {R"pb(type: INSERTED
                     revision: 1
                     entry { value: "a" version: 1 })pb"});
  value.Apply(R"pb(value { set { value: "b" } })pb");
  ExpectEvents(value.last_events(),
               {R"pb(type: UPDATED
                     revision: 2
                     entry { value: "b" version: 2 }
                     previous { value: "a" version: 1 })pb"});
  ExpectSnapshot(value.Snapshot(), R"pb(entries { value: "b" version: 2 })pb");
  value.Apply(R"pb(value { insert { value: "c" } })pb");  // present: fails
  EXPECT_TRUE(value.last_events().empty());
  v1::Response r = value.Apply(R"pb(value { delete {} })pb");
  EXPECT_EQ(r.value().value(), "b");
  ExpectEvents(value.last_events(),
               {R"pb(type: REMOVED
                     revision: 3
                     previous { value: "b" version: 2 })pb"});
  value.Apply(R"pb(value { insert { value: "t" ttl_ms: 1000 } })pb");
  ExpectEvents(value.last_events(),
               {R"pb(type: INSERTED
                     revision: 4
                     entry { value: "t" version: 4 })pb"});
  value.Advance(TestNow() + absl::Seconds(1));
  ExpectEvents(value.last_events(),
               {R"pb(type: EXPIRED
                     revision: 5
                     previous { value: "t" version: 4 })pb"});
  ApplyAs(value, v1::VALUE,
          R"pb(value { set { value: "e" ephemeral: true } })pb", 9);
  value.EndSession(9);
  ExpectEvents(value.last_events(),
               {R"pb(type: REMOVED
                     revision: 7
                     previous { value: "e" version: 6 })pb"});
}

TEST(BrokerWatchEvents, Counter) {
  StateDriver counter(v1::COUNTER);
  ExpectSnapshot(counter.Snapshot(), "counter {}");
  counter.Apply(R"pb(counter { add { delta: 5 } })pb");
  ExpectEvents(counter.last_events(),
               {R"pb(type: UPDATED revision: 1 counter { value: 5 })pb"});
  counter.Apply(R"pb(counter { set { value: 2 } })pb");
  ExpectEvents(counter.last_events(),
               {R"pb(type: UPDATED revision: 2
                     counter { value: 2 previous_value: 5 })pb"});
  counter.Apply(R"pb(counter { add { delta: 0 } })pb");
  ExpectEvents(counter.last_events(),
               {R"pb(type: UPDATED revision: 3
                     counter { value: 2 previous_value: 2 })pb"});
  counter.Apply(R"pb(counter { compare_and_set { expect: 9 update: 1 } })pb");
  EXPECT_TRUE(counter.last_events().empty());
  ExpectSnapshot(counter.Snapshot(), "counter { value: 2 version: 3 }");
}

TEST(BrokerWatchEvents, Lock) {
  StateDriver lock(v1::LOCK);
  ExpectSnapshot(lock.Snapshot(), "holder {}");
  ApplyAs(lock, v1::LOCK, "lock { acquire {} }", 1);
  ExpectEvents(lock.last_events(), {R"pb(type: INSERTED
                                         revision: 1
                                         holder { fence: 1 session_id: 1 })pb"});
  ApplyAs(lock, v1::LOCK, "lock { acquire {} }", 2);  // waits
  EXPECT_TRUE(lock.last_events().empty());
  ApplyAs(lock, v1::LOCK, "lock { acquire {} }", 3);  // waits
  ApplyAs(lock, v1::LOCK, "lock { release {} }", 1);  // straight to 2
  ExpectEvents(lock.last_events(), {R"pb(type: UPDATED
                                         revision: 2
                                         holder { fence: 2 session_id: 2 })pb"});
  ExpectSnapshot(lock.Snapshot(), "holder { fence: 2 session_id: 2 }");
  lock.EndSession(2);  // the holder's session ends: to 3
  ExpectEvents(lock.last_events(), {R"pb(type: UPDATED
                                         revision: 3
                                         holder { fence: 3 session_id: 3 })pb"});
  ApplyAs(lock, v1::LOCK, "lock { release { if_version: 3 } }", 0);
  ExpectEvents(lock.last_events(), {R"pb(type: REMOVED
                                         revision: 4
                                         holder {})pb"});
  ApplyAs(lock, v1::LOCK, "lock { release {} }", 3);  // not held: fails
  EXPECT_TRUE(lock.last_events().empty());
  ApplyAs(lock, v1::LOCK, "lock { acquire {} }", 4);
  lock.EndSession(4);
  ExpectEvents(lock.last_events(), {R"pb(type: REMOVED
                                         revision: 6
                                         holder {})pb"});
}

TEST(BrokerWatchEvents, Election) {
  StateDriver election(v1::ELECTION);
  ExpectSnapshot(election.Snapshot(), "elected {}");
  ApplyAs(election, v1::ELECTION,
          R"pb(election { enter { candidate_id: "a" } })pb", 1);
  ExpectEvents(election.last_events(),
               {R"pb(type: INSERTED
                     revision: 1
                     elected { leader: "a" term: 1 candidates: "a" })pb"});
  ApplyAs(election, v1::ELECTION,
          R"pb(election { enter { candidate_id: "b" } })pb", 2);
  ExpectEvents(election.last_events(), {R"pb(type: UPDATED
                                             revision: 2
                                             elected {
                                               leader: "a"
                                               term: 1
                                               candidates: [ "a", "b" ]
                                             })pb"});
  ApplyAs(election, v1::ELECTION,
          R"pb(election { enter { candidate_id: "b" } })pb", 2);
  EXPECT_TRUE(election.last_events().empty());  // no change
  election.EndSession(1);
  ExpectEvents(election.last_events(),
               {R"pb(type: UPDATED
                     revision: 3
                     elected { leader: "b" term: 3 candidates: "b" })pb"});
  ApplyAs(election, v1::ELECTION,
          R"pb(election { evict { candidate_id: "b" } })pb", 0);
  ExpectEvents(election.last_events(), {R"pb(type: UPDATED
                                             revision: 4
                                             elected { term: 4 })pb"});
  ApplyAs(election, v1::ELECTION,
          R"pb(election { enter { candidate_id: "c" } })pb", 5);
  ExpectEvents(election.last_events(),
               {R"pb(type: UPDATED
                     revision: 5
                     elected { leader: "c" term: 5 candidates: "c" })pb"});
  ExpectSnapshot(election.Snapshot(),
                 R"pb(elected { leader: "c" term: 5 candidates: "c" })pb");
}

}  // namespace
}  // namespace atomix::broker
