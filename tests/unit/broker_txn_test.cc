// Transactions through the broker over a memory store, on a fake clock:
// comparisons of every kind, both branches, one revision for all writes,
// all-or-nothing on errors, exactly-once, validation, and watch events of
// every primitive written at the transaction's revision.
#include <string>
#include <vector>

#include "broker-sim/src/store/memory_store.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::BrokerDriver;
using testing::ParseRequest;

class BrokerTxnTest : public ::testing::Test {
 protected:
  v1::Response Txn(const std::string& text, uint64_t session = 0,
                   uint64_t sequence = 0) {
    return broker_.Apply(ParseRequest("txn { " + text + " }"), session,
                         sequence);
  }
  v1::Response Map(const std::string& op) {
    return broker_.Apply(v1::MAP, "m", "map { " + op + " }");
  }
  std::string Get(const std::string& key) {
    v1::Response r = Map("get { key: \"" + key + "\" }");
    return r.map().present() ? r.map().entry().value() : "<absent>";
  }
  int64_t Counter(const std::string& name) {
    return broker_.Apply(v1::COUNTER, name, "counter { get {} }")
        .counter()
        .value();
  }
  // "revision:type:key" of every event of `name` from `cursor` on.
  std::vector<std::string> Events(const std::string& name, int64_t cursor) {
    v1::WatchResponse out;
    broker_.store().ReadWatch(name, {}, cursor, WatchBudget{}, out);
    std::vector<std::string> got;
    for (const v1::WatchEvent& e : out.events()) {
      got.push_back(std::to_string(e.revision()) + ":" +
                    v1::WatchEvent::Type_Name(e.type()) + ":" +
                    (e.has_entry() ? e.entry().key() : e.previous().key()));
    }
    return got;
  }

  BrokerDriver broker_;
};

constexpr char kTransfer[] = R"pb(
  compare { type: MAP name: "m" key: "alice" value: "100" }
  compare { type: MAP name: "m" key: "bob" exists: false }
  success {
    type: MAP
    name: "m"
    map_put { key: "alice" value: "60" }
  }
  success {
    type: MAP
    name: "m"
    map_put { key: "bob" value: "40" }
  }
  success {
    type: COUNTER
    name: "transfers"
    counter_add { delta: 1 }
  }
  failure {
    type: COUNTER
    name: "refused"
    counter_add { delta: 1 }
  })pb";

TEST_F(BrokerTxnTest, SuccessAppliesEveryWriteAtOneRevision) {
  Map(R"pb(put { key: "alice" value: "100" })pb");  // revision 1
  v1::Response r = Txn(kTransfer);
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_TRUE(r.txn().succeeded());
  EXPECT_EQ(r.txn().failed_compare(), -1);
  EXPECT_EQ(r.revision(), 2);
  ASSERT_EQ(r.txn().results_size(), 3);
  EXPECT_TRUE(r.txn().results(0).changed());
  EXPECT_EQ(r.txn().results(0).previous().key(), "alice");
  EXPECT_EQ(r.txn().results(0).previous().version(), 1);
  EXPECT_EQ(r.txn().results(0).previous().value(), "");  // left out
  EXPECT_FALSE(r.txn().results(1).has_previous());
  EXPECT_EQ(r.txn().results(2).counter(), 1);
  EXPECT_EQ(Get("alice"), "60");
  EXPECT_EQ(Get("bob"), "40");
  EXPECT_EQ(Map(R"pb(get { key: "bob" })pb").map().entry().version(), 2);
  EXPECT_EQ(Counter("transfers"), 1);
  EXPECT_EQ(Counter("refused"), 0);
  EXPECT_EQ(broker_.revision(), 2);
  // Watchers of both primitives see the transaction at its revision.
  EXPECT_EQ(Events("m", 2),
            (std::vector<std::string>{"2:UPDATED:alice", "2:INSERTED:bob"}));
  EXPECT_EQ(Events("transfers", 2), (std::vector<std::string>{"2:UPDATED:"}));
}

TEST_F(BrokerTxnTest, AFailedComparisonAppliesTheElseBranchAndSaysWhich) {
  Map(R"pb(put { key: "alice" value: "90" })pb");
  v1::Response r = Txn(kTransfer);
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_FALSE(r.txn().succeeded());
  EXPECT_EQ(r.txn().failed_compare(), 0);
  EXPECT_EQ(r.txn().failure(), R"(map "m" key "alice" holds "90", not "100")");
  ASSERT_EQ(r.txn().results_size(), 1);
  EXPECT_EQ(Get("alice"), "90");
  EXPECT_EQ(Get("bob"), "<absent>");
  EXPECT_EQ(Counter("transfers"), 0);
  EXPECT_EQ(Counter("refused"), 1);
}

TEST_F(BrokerTxnTest, AFailedComparisonWithNoElseChangesNothing) {
  v1::Response r = Txn(R"pb(
    compare { type: MAP name: "m" key: "k" version: 5 }
    success {
      type: MAP
      name: "m"
      map_put { key: "k" value: "v" }
    })pb");
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_FALSE(r.txn().succeeded());
  EXPECT_EQ(r.txn().failure(), R"(map "m" key "k" is absent, not at version 5)");
  EXPECT_EQ(r.revision(), 0);
  EXPECT_EQ(broker_.revision(), 0);
  EXPECT_EQ(broker_.store().TEST_primitive_count(), 0u);
}

TEST_F(BrokerTxnTest, ComparesVersionsCountersValuesAndFences) {
  const uint64_t s = broker_.OpenSession();
  broker_.Apply(v1::VALUE, "v", R"pb(value { set { value: "x" } })pb");  // 1
  broker_.Apply(v1::COUNTER, "c", "counter { set { value: 7 } }");
  broker_.Apply(v1::LOCK, "l", "lock { acquire {} }", s);               // 3
  const std::string holds = R"pb(
    compare { type: VALUE name: "v" version: 1 }
    compare { type: VALUE name: "v" value: "x" }
    compare { type: COUNTER name: "c" counter: 7 }
    compare { type: COUNTER name: "c" version: 2 }
    compare { type: LOCK name: "l" fence: 3 }
    compare { type: LOCK name: "free" fence: 0 }
    compare { type: MAP name: "none" key: "k" version: 0 }
    success {
      type: VALUE
      name: "v"
      value_set { value: "y" }
    })pb";
  v1::Response r = Txn(holds);
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_TRUE(r.txn().succeeded()) << r.txn().failure();
  EXPECT_EQ(r.txn().results(0).previous().version(), 1);
  // The lock passes on: the fence comparison fails now.
  broker_.Apply(v1::LOCK, "l", "lock { release {} }", s);
  r = Txn(R"pb(compare { type: LOCK name: "l" fence: 3 })pb");
  EXPECT_FALSE(r.txn().succeeded());
  EXPECT_EQ(r.txn().failure(), R"(lock "l" is free, not at fence 3)");
  r = Txn(R"pb(compare { type: COUNTER name: "c" counter: 8 })pb");
  EXPECT_EQ(r.txn().failure(), R"(counter "c" is 7, not 8)");
}

TEST_F(BrokerTxnTest, RemovalsOfAbsentEntriesChangeNothing) {
  Map(R"pb(put { key: "a" value: "1" })pb");
  v1::Response r = Txn(R"pb(
    success {
      type: MAP
      name: "m"
      map_remove { key: "a" }
    }
    success {
      type: MAP
      name: "m"
      map_remove { key: "never" }
    }
    success {
      type: VALUE
      name: "v"
      value_delete {}
    })pb");
  ASSERT_FALSE(r.has_error()) << r.error().message();
  ASSERT_EQ(r.txn().results_size(), 3);
  EXPECT_TRUE(r.txn().results(0).changed());
  EXPECT_FALSE(r.txn().results(1).changed());
  EXPECT_FALSE(r.txn().results(2).changed());
  EXPECT_EQ(r.revision(), 2);
  EXPECT_EQ(Events("m", 2), (std::vector<std::string>{"2:REMOVED:a"}));
  // A value deleted while absent is not bound by the transaction.
  EXPECT_EQ(broker_.store().TEST_primitive_count(), 1u);
}

TEST_F(BrokerTxnTest, AnOverflowAppliesNothing) {
  broker_.Apply(v1::COUNTER, "c", "counter { set { value: 9223372036854775800 } }");
  v1::Response r = Txn(R"pb(
    success {
      type: MAP
      name: "m"
      map_put { key: "k" value: "v" }
    }
    success {
      type: COUNTER
      name: "c"
      counter_add { delta: 5 }
    }
    success {
      type: COUNTER
      name: "c"
      counter_add { delta: 5 }
    })pb");
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code(), static_cast<int>(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(r.error().message(),
            "success write 2: counter \"c\" would leave the int64 range: "
            "9223372036854775805 + 5");
  EXPECT_EQ(Get("k"), "<absent>");
  EXPECT_EQ(Counter("c"), 9223372036854775800);
  EXPECT_EQ(broker_.revision(), 1);
}

TEST_F(BrokerTxnTest, AWrongTypeAppliesNothing) {
  broker_.Apply(v1::COUNTER, "c", "counter { set { value: 1 } }");
  v1::Response r = Txn(R"pb(
    success {
      type: MAP
      name: "m"
      map_put { key: "k" value: "v" }
    }
    success {
      type: MAP
      name: "c"
      map_put { key: "k" value: "v" }
    })pb");
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code(),
            static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(r.error().message(),
            "success write 1: \"c\" is a counter, not a map");
  EXPECT_EQ(Get("k"), "<absent>");
  r = Txn(R"pb(compare { type: MAP name: "c" key: "k" exists: true })pb");
  EXPECT_EQ(r.error().message(), "compare 0: \"c\" is a counter, not a map");
  r = Txn(R"pb(
    success {
      type: MAP
      name: "x"
      map_put { key: "k" value: "v" }
    }
    success {
      type: COUNTER
      name: "x"
      counter_add { delta: 1 }
    })pb");
  EXPECT_EQ(r.error().message(),
            "success write 1: \"x\" is written as a map and as a counter");
  EXPECT_EQ(broker_.revision(), 1);
}

TEST_F(BrokerTxnTest, AWriteUnderAnotherSessionsPrefixLockAppliesNothing) {
  const uint64_t holder = broker_.OpenSession();
  const uint64_t other = broker_.OpenSession();
  v1::Response r = broker_.Apply(
      v1::MAP, "m", "map { lock_prefix { prefix: \"acct/\" } }", holder);
  ASSERT_TRUE(r.map().acquired());
  const int64_t fence = r.map().version();
  constexpr char kWrites[] = R"pb(
    success {
      type: COUNTER
      name: "c"
      counter_add { delta: 1 }
    }
    success {
      type: MAP
      name: "m"
      map_put { key: "free" value: "v" }
    }
    success {
      type: MAP
      name: "m"
      map_remove { key: "acct/alice" }
    })pb";
  r = Txn(kWrites, other);
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code(),
            static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_NE(r.error().message().find("success write 2: map \"m\" key "
                                     "\"acct/alice\" is under prefix "
                                     "\"acct/\""),
            std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find("fence " + std::to_string(fence)),
            std::string::npos);
  EXPECT_EQ(Get("free"), "<absent>");
  EXPECT_EQ(Counter("c"), 0);
  EXPECT_EQ(broker_.revision(), fence);
  // Without a session too; the holder's own session writes.
  EXPECT_TRUE(Txn(kWrites).has_error());
  r = Txn(kWrites, holder);
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(Get("free"), "v");
  EXPECT_EQ(Counter("c"), 1);
}

TEST_F(BrokerTxnTest, BadTransactionsAreRefusedNamingTheStep) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {R"pb(compare { type: MAP name: "m" key: "k" })pb",
       "compare 0: no check (version, value, exists, counter, fence)"},
      {R"pb(compare { type: MAP name: "m" version: 1 })pb",
       "compare 0: key is empty"},
      {R"pb(compare { type: LOCK name: "l" version: 1 })pb",
       "compare 0: a lock compares only by fence"},
      {R"pb(compare { type: VALUE name: "v" counter: 1 })pb",
       "compare 0: a value compares by version, value or exists"},
      {R"pb(compare { type: SET name: "s" exists: true })pb",
       "compare 0: type SET takes no part in transactions; compare a map, "
       "value, counter or lock"},
      {R"pb(success {
              type: MAP
              name: "m"
              map_put { key: "k" value: "v" if_version: 3 }
            })pb",
       "success write 0: a write takes no if_version; put the condition in a "
       "comparison"},
      {R"pb(failure {
              type: COUNTER
              name: "m"
              map_put { key: "k" value: "v" }
            })pb",
       "failure write 0: type is COUNTER but the operation is not for it"},
      {R"pb(success {
              type: MAP
              name: "m"
              map_put { key: "" value: "v" }
            })pb",
       "success write 0: key is empty"},
      {R"pb(failure {
              type: MAP
              name: "y"
              map_put { key: "k" value: "v" }
            }
            failure {
              type: VALUE
              name: "y"
              value_set { value: "v" }
            })pb",
       "failure write 1: \"y\" is written as a map and as a value"},
      {R"pb(success {
              type: MAP
              name: ""
              map_put { key: "k" value: "v" }
            })pb",
       "success write 0: name is empty"},
  };
  for (const Case& c : cases) {
    v1::Response r = Txn(c.text);
    ASSERT_TRUE(r.has_error()) << c.text;
    EXPECT_EQ(r.error().code(),
              static_cast<int>(absl::StatusCode::kInvalidArgument));
    EXPECT_EQ(r.error().message(), c.message);
  }
  std::string many;
  for (int i = 0; i < 129; ++i) {
    many += R"pb(compare { type: COUNTER name: "c" counter: 0 })pb";
  }
  v1::Response r = Txn(many);
  EXPECT_EQ(r.error().message(),
            "a transaction has 129 comparisons, 0 success and 0 failure "
            "writes; the limit is 128 of each");
  EXPECT_EQ(broker_.revision(), 0);
}

TEST_F(BrokerTxnTest, ARetryGetsTheFirstAnswer) {
  const uint64_t s = broker_.OpenSession();
  const std::string add = R"pb(success {
                                 type: COUNTER
                                 name: "c"
                                 counter_add { delta: 1 }
                               })pb";
  v1::Response first = Txn(add, s, 1);
  v1::Response again = Txn(add, s, 1);
  EXPECT_EQ(first.txn().results(0).counter(), 1);
  EXPECT_EQ(again.txn().results(0).counter(), 1);
  EXPECT_EQ(again.revision(), first.revision());
  EXPECT_EQ(Counter("c"), 1);
}

TEST_F(BrokerTxnTest, EphemeralPutsBelongToTheSession) {
  const uint64_t s = broker_.OpenSession();
  v1::Response r = Txn(R"pb(success {
                              type: MAP
                              name: "m"
                              map_put { key: "k" value: "v" ephemeral: true }
                            })pb",
                       s);
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(Get("k"), "v");
  broker_.Session("close {}", s);
  EXPECT_EQ(Get("k"), "<absent>");
  r = Txn(R"pb(success {
                 type: MAP
                 name: "m"
                 map_put { key: "k" value: "v" ephemeral: true }
               })pb");
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
}

TEST_F(BrokerTxnTest, TtlPutsExpire) {
  v1::Response r = Txn(R"pb(success {
                              type: MAP
                              name: "m"
                              map_put { key: "k" value: "v" ttl_ms: 1000 }
                            })pb");
  ASSERT_FALSE(r.has_error()) << r.error().message();
  broker_.Advance(absl::Seconds(2));
  EXPECT_EQ(Get("k"), "<absent>");
}

}  // namespace
}  // namespace atomix::broker
