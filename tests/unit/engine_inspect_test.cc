// Operators' pages of the broker state (Admin.ListSessions and
// ListPrimitives) over the engine, on a fake logical clock: paging, filters,
// session ages and TTLs, and what each session holds and waits for across
// primitives. No network.
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "broker-sim/src/server/inspect.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::BrokerDriver;
using testing::MakeRequest;
using Lines = std::vector<std::string>;

// "name type session what fence" of each holding.
Lines Holds(const google::protobuf::RepeatedPtrField<v1::Holding>& holds) {
  Lines out;
  for (const v1::Holding& h : holds) {
    out.push_back(absl::StrCat(h.name(), " ", v1::PrimitiveType_Name(h.type()), " ",
                               h.session(), " ", h.what(), " ", h.fence()));
  }
  return out;
}

Lines Names(const v1::ListPrimitivesResponse& page) {
  Lines out;
  for (const v1::PrimitiveInfo& p : page.primitives()) out.push_back(p.name());
  return out;
}

class EngineInspectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s1_ = broker_.OpenSession(10000);  // 1
    s2_ = broker_.OpenSession(5000);   // 2
    s3_ = broker_.OpenSession(20000);  // 3
    ASSERT_EQ(s3_, 3u);
    Ok(v1::LOCK, "db", "lock { acquire {} }", s1_);  // 1: fence 1
    broker_.Apply(testing::LockAcquire("db", 7), s2_, /*sequence=*/1, 2);
    ASSERT_TRUE(broker_.last_deferred());
    Ok(v1::ELECTION, "e", R"pb(election { enter { candidate_id: "node-1" } })pb", s1_);  // 2
    Ok(v1::ELECTION, "e", R"pb(election { enter { candidate_id: "node-2" } })pb", s2_);  // 3
    Ok(v1::SEMAPHORE, "sem", "semaphore { init { permits: 5 } }");                  // 4
    Ok(v1::SEMAPHORE, "sem", "semaphore { acquire { permits: 2 } }", s1_);          // 5
    Ok(v1::COUNTER, "jobs/a", "counter { add { delta: 3 } }");                      // 6
    Ok(v1::COUNTER, "jobs/b", "counter { add { delta: 4 } }");                      // 7
    Ok(v1::MAP, "jobs/c", R"pb(map { put { key: "k" value: "v" } })pb");            // 8
    ASSERT_EQ(broker_.revision(), 8);
  }
  void Ok(v1::PrimitiveType type, const std::string& name, const std::string& op,
          uint64_t session = 0) {
    const v1::Response r = broker_.Apply(type, name, op, session);
    ASSERT_FALSE(r.has_error()) << name << ": " << r.error().message();
    ASSERT_FALSE(broker_.last_deferred()) << name;
  }
  v1::ListSessionsResponse Sessions(uint64_t after, uint32_t limit) {
    v1::ListSessionsRequest request;
    request.set_after(after);
    request.set_limit(limit);
    v1::ListSessionsResponse out;
    EXPECT_TRUE(ListSessions(broker_.broker(), request, out).ok());
    return out;
  }
  v1::ListPrimitivesResponse Primitives(const std::string& prefix, v1::PrimitiveType type,
                                        const std::string& after, uint32_t limit) {
    v1::ListPrimitivesRequest request;
    request.set_prefix(prefix);
    request.set_type(type);
    request.set_after(after);
    request.set_limit(limit);
    v1::ListPrimitivesResponse out;
    EXPECT_TRUE(ListPrimitives(broker_.broker(), request, out).ok());
    return out;
  }

  BrokerDriver broker_;
  uint64_t s1_ = 0, s2_ = 0, s3_ = 0;
};

TEST_F(EngineInspectTest, SessionsPageInIdOrderWithAgesTtlsHoldingsAndWaits) {
  broker_.Advance(absl::Seconds(3));
  broker_.Session("keep_alive {}", s3_);

  v1::ListSessionsResponse page = Sessions(0, 2);
  EXPECT_EQ(page.revision(), 8);
  EXPECT_TRUE(page.more());
  ASSERT_EQ(page.sessions_size(), 2);
  const v1::SessionInfo& one = page.sessions(0);
  EXPECT_EQ(one.id(), 1u);
  EXPECT_EQ(one.ttl_ms(), 10000);
  EXPECT_EQ(one.age_ms(), 3000);
  EXPECT_EQ(one.expires_in_ms(), 7000);
  EXPECT_EQ(one.waiting(), 0u);
  // Across primitives, in name order; `session` is left 0.
  EXPECT_EQ(Holds(one.holds()), (Lines{"db LOCK 0 lock 1", "e ELECTION 0 leader node-1 2",
                                       "sem SEMAPHORE 0 2 permits 5"}));
  const v1::SessionInfo& two = page.sessions(1);
  EXPECT_EQ(two.id(), 2u);
  EXPECT_EQ(two.ttl_ms(), 5000);
  EXPECT_EQ(two.age_ms(), 3000);
  EXPECT_EQ(two.expires_in_ms(), 2000);
  EXPECT_EQ(two.waiting(), 1u);  // the lock
  EXPECT_EQ(two.holds_size(), 0);  // a candidate that does not lead holds nothing

  page = Sessions(2, 2);
  EXPECT_FALSE(page.more());
  ASSERT_EQ(page.sessions_size(), 1);
  EXPECT_EQ(page.sessions(0).id(), 3u);
  EXPECT_EQ(page.sessions(0).age_ms(), 3000);
  EXPECT_EQ(page.sessions(0).expires_in_ms(), 20000);  // kept alive just now
  EXPECT_EQ(page.sessions(0).holds_size(), 0);

  // Limit 0 is the default page (100); the whole list fits.
  page = Sessions(0, 0);
  EXPECT_EQ(page.sessions_size(), 3);
  EXPECT_FALSE(page.more());
  EXPECT_EQ(Sessions(3, 10).sessions_size(), 0);

  // Session 2 expires: its wait and its candidacy go with it.
  broker_.Advance(absl::Seconds(2));
  page = Sessions(0, 10);
  ASSERT_EQ(page.sessions_size(), 2);
  EXPECT_EQ(page.sessions(0).id(), 1u);
  EXPECT_EQ(page.sessions(0).expires_in_ms(), 5000);
  EXPECT_EQ(page.sessions(1).id(), 3u);
  EXPECT_EQ(page.revision(), broker_.revision());
}

TEST_F(EngineInspectTest, PrimitivesPageInNameOrderWithPrefixAndTypeFilters) {
  v1::ListPrimitivesResponse page = Primitives("", v1::PRIMITIVE_TYPE_UNSPECIFIED, "", 0);
  EXPECT_EQ(page.revision(), 8);
  EXPECT_FALSE(page.more());
  EXPECT_EQ(Names(page), (Lines{"db", "e", "jobs/a", "jobs/b", "jobs/c", "sem"}));
  const v1::PrimitiveInfo& db = page.primitives(0);
  EXPECT_EQ(db.type(), v1::LOCK);
  EXPECT_EQ(db.summary(), "held by session 1 (fence 1), 1 waiting");
  EXPECT_EQ(Holds(db.holders()), (Lines{"db LOCK 1 lock 1"}));
  EXPECT_EQ(Holds(db.waiters()), (Lines{"db LOCK 2 lock 0"}));
  const v1::PrimitiveInfo& e = page.primitives(1);
  EXPECT_EQ(e.summary(), "leader node-1 (term 2), 2 candidates");
  EXPECT_EQ(Holds(e.holders()), (Lines{"e ELECTION 1 leader node-1 2"}));
  EXPECT_EQ(Holds(e.waiters()), (Lines{"e ELECTION 2 candidate node-2 0"}));
  EXPECT_EQ(page.primitives(2).summary(), "3");
  EXPECT_EQ(page.primitives(4).type(), v1::MAP);
  EXPECT_EQ(page.primitives(4).summary(), "1 entry");
  EXPECT_EQ(page.primitives(5).summary(), "3 of 5 permits available");
  EXPECT_EQ(Holds(page.primitives(5).holders()), (Lines{"sem SEMAPHORE 1 2 permits 5"}));

  // Pages of a prefix.
  page = Primitives("jobs/", v1::PRIMITIVE_TYPE_UNSPECIFIED, "", 2);
  EXPECT_EQ(Names(page), (Lines{"jobs/a", "jobs/b"}));
  EXPECT_TRUE(page.more());
  page = Primitives("jobs/", v1::PRIMITIVE_TYPE_UNSPECIFIED, "jobs/b", 2);
  EXPECT_EQ(Names(page), (Lines{"jobs/c"}));
  EXPECT_FALSE(page.more());
  // Exactly a page left: no more.
  page = Primitives("jobs/", v1::PRIMITIVE_TYPE_UNSPECIFIED, "jobs/a", 2);
  EXPECT_EQ(Names(page), (Lines{"jobs/b", "jobs/c"}));
  EXPECT_FALSE(page.more());

  // Type filters, alone and with a prefix.
  EXPECT_EQ(Names(Primitives("", v1::COUNTER, "", 0)), (Lines{"jobs/a", "jobs/b"}));
  EXPECT_EQ(Names(Primitives("", v1::COUNTER, "jobs/a", 0)), (Lines{"jobs/b"}));
  EXPECT_EQ(Names(Primitives("jobs/", v1::MAP, "", 0)), (Lines{"jobs/c"}));
  EXPECT_EQ(Primitives("jobs/", v1::LOCK, "", 0).primitives_size(), 0);
  EXPECT_EQ(Primitives("nope", v1::PRIMITIVE_TYPE_UNSPECIFIED, "", 0).primitives_size(), 0);
}

TEST_F(EngineInspectTest, LimitsAboveAThousandAreRefusedByName) {
  v1::ListSessionsRequest sessions;
  sessions.set_limit(1001);
  v1::ListSessionsResponse session_page;
  absl::Status status = ListSessions(broker_.broker(), sessions, session_page);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "limit 1001 is above the largest page, 1000");
  EXPECT_EQ(session_page.sessions_size(), 0);

  v1::ListPrimitivesRequest primitives;
  primitives.set_limit(5000);
  v1::ListPrimitivesResponse primitive_page;
  status = ListPrimitives(broker_.broker(), primitives, primitive_page);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "limit 5000 is above the largest page, 1000");

  sessions.set_limit(1000);
  EXPECT_TRUE(ListSessions(broker_.broker(), sessions, session_page).ok());
  EXPECT_EQ(session_page.sessions_size(), 3);
}

}  // namespace
}  // namespace atomix::broker
