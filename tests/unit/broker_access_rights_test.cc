// Which right each request needs (core/request_access.h, from the
// primitive registry), and the broker enforcing a policy: a refused request
// is answered PERMISSION_DENIED naming principal, right and name and changes
// nothing, while the rest of its batch goes on; transactions need a right
// on every name they touch; watches need read; the Admin calls and
// HasAdmin need admin; with no policy everything is allowed.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "broker-sim/src/core/access_policy.h"
#include "broker-sim/src/core/request_access.h"
#include "broker-sim/src/testing/requests.h"

namespace atomix::broker {
namespace {

using R = AccessRight;
using testing::BrokerDriver;
using testing::MakeRequest;
using testing::ParseRequest;

// "right:name" of every right `request` needs.
std::vector<std::string> Needs(const v1::Request& request) {
  std::vector<NeededRight> needed;
  RightsNeeded(request, needed);
  std::vector<std::string> out;
  for (const NeededRight& n : needed) {
    out.push_back(std::string(RightName(n.right)) + ":" + std::string(n.name));
  }
  return out;
}
std::vector<std::string> Needs(v1::PrimitiveType type, const std::string& op) {
  return Needs(MakeRequest(type, "p", op));
}
using V = std::vector<std::string>;

TEST(RightsNeeded, DataPrimitivesReadAndWrite) {
  EXPECT_EQ(Needs(v1::COUNTER, "counter { get {} }"), V{"read:p"});
  EXPECT_EQ(Needs(v1::COUNTER, "counter { add { delta: 1 } }"), V{"write:p"});
  EXPECT_EQ(Needs(v1::VALUE, "value { set { value: 'x' } }"), V{"write:p"});
  EXPECT_EQ(Needs(v1::MAP, "map { get { key: 'k' } }"), V{"read:p"});
  EXPECT_EQ(Needs(v1::MAP, "map { put { key: 'k' value: 'v' } }"), V{"write:p"});
  EXPECT_EQ(Needs(v1::MAP, "map { list {} }"), V{"read:p"});
  EXPECT_EQ(Needs(v1::SET, "set { add { element: 'e' } }"), V{"write:p"});
  EXPECT_EQ(Needs(v1::LIST, "list { size {} }"), V{"read:p"});
  EXPECT_EQ(Needs(v1::COUNTER_MAP, "counter_map { clear {} }"), V{"write:p"});
}

TEST(RightsNeeded, CoordinationNeedsLockAndActingOnOthersNeedsAdmin) {
  EXPECT_EQ(Needs(v1::LOCK, "lock { acquire {} }"), V{"lock:p"});
  EXPECT_EQ(Needs(v1::LOCK, "lock { release {} }"), V{"lock:p"});
  EXPECT_EQ(Needs(v1::LOCK, "lock { get {} }"), V{"read:p"});
  EXPECT_EQ(Needs(v1::MAP, "map { lock_prefix { prefix: 'a/' } }"), V{"lock:p"});
  EXPECT_EQ(Needs(v1::ELECTION, "election { enter { candidate_id: 'c' } }"), V{"lock:p"});
  EXPECT_EQ(Needs(v1::ELECTION, "election { leave { candidate_id: 'c' } }"), V{"lock:p"});
  EXPECT_EQ(Needs(v1::ELECTION, "election { evict { candidate_id: 'c' } }"), V{"admin:p"});
  EXPECT_EQ(Needs(v1::ELECTION, "election { anoint { candidate_id: 'c' } }"), V{"admin:p"});
  EXPECT_EQ(Needs(v1::ELECTION, "election { get_term {} }"), V{"read:p"});
  EXPECT_EQ(Needs(v1::SEMAPHORE, "semaphore { acquire { permits: 1 } }"), V{"lock:p"});
  EXPECT_EQ(Needs(v1::SEMAPHORE, "semaphore { set_permits { permits: 3 } }"), V{"admin:p"});
  EXPECT_EQ(Needs(v1::SEMAPHORE, "semaphore { holders {} }"), V{"read:p"});
  EXPECT_EQ(Needs(v1::READ_WRITE_LOCK, "read_write_lock { get {} }"), V{"read:p"});
  EXPECT_EQ(Needs(v1::WORK_QUEUE, "work_queue { push { items: 'x' } }"), V{"write:p"});
  EXPECT_EQ(Needs(v1::WORK_QUEUE, "work_queue { take {} }"), V{"lock:p"});
  EXPECT_EQ(Needs(v1::WORK_QUEUE, "work_queue { ack { id: 1 fence: 2 } }"), V{"lock:p"});
  EXPECT_EQ(Needs(v1::LATCH, "latch { count_down {} }"), V{"lock:p"});
  EXPECT_EQ(Needs(v1::LATCH, "latch { await {} }"), V{"lock:p"});
  EXPECT_EQ(Needs(v1::BARRIER, "barrier { await {} }"), V{"lock:p"});
}

TEST(RightsNeeded, OpenSessionsCancelsAndTransactions) {
  EXPECT_EQ(Needs(v1::MAP, "open {}"), V{"read:p"});
  EXPECT_EQ(Needs(ParseRequest("session { open { ttl_ms: 10000 } }")), V{});
  EXPECT_EQ(Needs(ParseRequest("session { keep_alive {} }")), V{});
  EXPECT_EQ(Needs(ParseRequest("session { close {} }")), V{});
  EXPECT_EQ(Needs(ParseRequest("cancel { request_id: 3 }")), V{});
  EXPECT_EQ(Needs(ParseRequest(R"pb(txn {
    compare { type: LOCK name: "l" fence: 0 }
    compare { type: MAP name: "m" key: "k" exists: false }
    success { type: MAP name: "m" map_put { key: "k" value: "v" } }
    failure { type: COUNTER name: "c" counter_add { delta: 1 } }
  })pb")),
            (V{"read:l", "read:m", "write:m", "write:c"}));
}

// A broker over a memory store with `policy` in force.
class BrokerAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto policy = std::make_shared<AccessPolicy>();
    policy->Grant("app", R::kRead, *NamePattern::Parse("*"));
    policy->Grant("app", R::kWrite, *NamePattern::Parse("app/"));
    policy->Grant("app", R::kLock, *NamePattern::Parse("app/"));
    policy->Grant("ops", R::kAdmin, *NamePattern::Parse("*"));
    ASSERT_TRUE(policy->GiveAnonymousRole("app").ok());
    ASSERT_TRUE(policy->GiveRole("alice", "app").ok());
    ASSERT_TRUE(policy->GiveRole("root", "ops").ok());
    driver_.broker().access().Set(std::move(policy));
  }
  v1::Response As(const std::string& principal, const v1::Request& request) {
    v1::Response response;
    std::vector<Completion> completions;
    driver_.broker().Execute(request, 1, principal, response, completions);
    return response;
  }

  BrokerDriver driver_;
};

TEST_F(BrokerAccessTest, AWriteOutsideTheNamespaceIsRefusedAndChangesNothing) {
  const int64_t before = driver_.revision();
  const v1::Response refused =
      As("", MakeRequest(v1::MAP, "config/db", "map { put { key: 'k' value: 'v' } }", 7));
  EXPECT_EQ(refused.id(), 7u);
  ASSERT_TRUE(refused.has_error());
  EXPECT_EQ(refused.error().code(), static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(refused.error().message(),
            "principal \"\" (anonymous) lacks the write right on \"config/db\" (map put)");
  EXPECT_EQ(driver_.revision(), before);
  const v1::Response read = As("", MakeRequest(v1::MAP, "config/db", "map { size {} }"));
  EXPECT_FALSE(read.has_error()) << read.error().message();
  EXPECT_EQ(read.map().size(), 0);

  const v1::Response allowed =
      As("", MakeRequest(v1::MAP, "app/db", "map { put { key: 'k' value: 'v' } }"));
  EXPECT_FALSE(allowed.has_error()) << allowed.error().message();
  EXPECT_GT(driver_.revision(), before);
}

TEST_F(BrokerAccessTest, ARefusedRequestLeavesTheRestOfItsBatch) {
  v1::RequestBatch batch;
  *batch.add_requests() = MakeRequest(v1::COUNTER, "app/c", "counter { add { delta: 1 } }", 1);
  *batch.add_requests() = MakeRequest(v1::COUNTER, "x/c", "counter { add { delta: 1 } }", 2);
  *batch.add_requests() = MakeRequest(v1::COUNTER, "app/c", "counter { add { delta: 1 } }", 3);
  v1::ResponseBatch out;
  std::vector<Completion> completions;
  driver_.broker().Execute(batch, 1, std::string("alice"), out, completions);
  ASSERT_EQ(out.responses_size(), 3);
  EXPECT_EQ(out.responses(0).counter().value(), 1);
  EXPECT_EQ(out.responses(1).error().message(),
            "principal \"alice\" lacks the write right on \"x/c\" (counter add)");
  EXPECT_EQ(out.responses(2).counter().value(), 2);
}

TEST_F(BrokerAccessTest, ATransactionNeedsTheRightOnEveryName) {
  const v1::Request txn = ParseRequest(R"pb(txn {
    success { type: COUNTER name: "app/c" counter_add { delta: 1 } }
    success { type: COUNTER name: "other/c" counter_add { delta: 1 } }
  })pb");
  const int64_t before = driver_.revision();
  const v1::Response refused = As("", txn);
  EXPECT_EQ(refused.error().message(),
            "principal \"\" (anonymous) lacks the write right on \"other/c\" (txn write)");
  EXPECT_EQ(driver_.revision(), before);
  EXPECT_FALSE(As("root", txn).has_error());
}

TEST_F(BrokerAccessTest, AdminActsOnOthersElectionsAndTheAdminCalls) {
  const v1::Request evict =
      MakeRequest(v1::ELECTION, "app/e", "election { evict { candidate_id: 'c' } }");
  EXPECT_EQ(As("", evict).error().message(),
            "principal \"\" (anonymous) lacks the admin right on \"app/e\" (election evict)");
  EXPECT_NE(As("root", evict).error().code(),
            static_cast<int>(absl::StatusCode::kPermissionDenied));

  EXPECT_FALSE(driver_.broker().HasAdmin("", "app/l"));
  EXPECT_FALSE(driver_.broker().HasAdmin("alice", "app/l"));  // lock is not admin
  EXPECT_TRUE(driver_.broker().HasAdmin("root", "app/l"));
  EXPECT_EQ(driver_.broker().AuthorizeAdmin("alice", "Admin.ListSessions").message(),
            "principal \"alice\" lacks the admin right on \"*\" (Admin.ListSessions)");
  EXPECT_TRUE(driver_.broker().AuthorizeAdmin("root", "Admin.ListSessions").ok());
}

TEST_F(BrokerAccessTest, SessionsAndCancelsNeedNoRight) {
  // "nobody" holds no role at all.
  EXPECT_FALSE(As("nobody", MakeRequest(v1::MAP, "app/m", "open {}")).error().message().empty());
  const v1::Response opened = As("nobody", ParseRequest("session { open { ttl_ms: 10000 } }"));
  EXPECT_FALSE(opened.has_error()) << opened.error().message();
  EXPECT_FALSE(As("nobody", ParseRequest("cancel { request_id: 3 }")).has_error());
}

TEST_F(BrokerAccessTest, WatchesNeedRead) {
  auto policy = std::make_shared<AccessPolicy>();
  policy->Grant("r", R::kRead, *NamePattern::Parse("public/"));
  ASSERT_TRUE(policy->GiveAnonymousRole("r").ok());
  driver_.broker().access().Set(std::move(policy));
  v1::WatchRequest watch;
  watch.set_type(v1::MAP);
  watch.set_name("public/m");
  EXPECT_TRUE(driver_.broker().AuthorizeWatch("", watch).ok());
  watch.set_name("private/m");
  EXPECT_EQ(driver_.broker().AuthorizeWatch("", watch).message(),
            "principal \"\" (anonymous) lacks the read right on \"private/m\" (watch)");
}

TEST(BrokerWithoutPolicy, AllowsEverything) {
  BrokerDriver driver;
  EXPECT_TRUE(driver.broker().HasAdmin("", "x"));
  EXPECT_TRUE(driver.broker().AuthorizeAdmin("", "Admin.Backup").ok());
  EXPECT_FALSE(driver.Apply(v1::COUNTER, "any", "counter { add { delta: 1 } }").has_error());
  EXPECT_FALSE(
      driver.Apply(v1::ELECTION, "e", "election { evict { candidate_id: 'c' } }").error().code() ==
      static_cast<int>(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace atomix::broker
