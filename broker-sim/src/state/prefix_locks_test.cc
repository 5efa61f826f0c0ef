// Map prefix locks: grants and fences, conflicts between a prefix and its
// ancestors and descendants, FIFO waiting with no starvation, writes under a
// held prefix (refused, allowed with the fence or from the holder's
// session), session end in one revision, timeouts, cancels, listing, saves
// and validation. A broker over a memory store on a fake clock; no network.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/engine/engine.h"
#include "broker-sim/src/state/map.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/store/memory_store.h"
#include "broker-sim/src/testing/requests.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::BrokerDriver;
using testing::MakeRequest;
using testing::StateDriver;

constexpr int kInvalidArgument = 3;
constexpr int kDeadlineExceeded = 4;
constexpr int kFailedPrecondition = 9;
constexpr int kAborted = 10;
constexpr int kDataLoss = 15;

class PrefixLocksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = broker_.OpenSession();
    b_ = broker_.OpenSession();
    c_ = broker_.OpenSession();
  }
  v1::Response Map(const std::string& op, uint64_t session = 0,
                   uint64_t origin = 1, uint64_t id = 0) {
    return broker_.Apply(v1::MAP, "m", "map { " + op + " }", session, 0, origin,
                         id);
  }
  // LockPrefix `prefix` for `session` from `origin` (so it can be told
  // apart and cancelled); timeout 0: no limit.
  v1::Response Lock(const std::string& prefix, uint64_t session,
                    uint64_t origin = 1, int64_t timeout_ms = 0) {
    v1::Request request = MakeRequest(
        v1::MAP, "m", "map { lock_prefix { prefix: \"" + prefix + "\" } }",
        origin);
    request.set_timeout_ms(timeout_ms);
    return broker_.Apply(request, session, 0, origin);
  }
  v1::Response TryLock(const std::string& prefix, uint64_t session) {
    return Map("lock_prefix { prefix: \"" + prefix + "\" try_only: true }",
               session);
  }
  v1::Response Put(const std::string& key, uint64_t session,
                   const std::string& fence = "") {
    return Map("put { key: \"" + key + "\" value: \"v\" " + fence + " }",
               session);
  }
  // "origin:code:fence" of each completion since the last call.
  std::vector<std::string> Done() {
    std::vector<std::string> out;
    for (const Completion& c : broker_.TakeCompletions()) {
      out.push_back(std::to_string(c.origin) + ":" +
                    std::to_string(c.response.error().code()) + ":" +
                    std::to_string(c.response.map().version()));
    }
    return out;
  }
  // The held prefixes, in order.
  std::vector<std::string> Held() {
    std::vector<std::string> out;
    const v1::Response r = Map("prefix_locks {}");
    for (const v1::PrefixLock& l : r.map().prefix_locks()) {
      out.push_back(l.prefix());
    }
    return out;
  }

  BrokerDriver broker_;
  uint64_t a_ = 0, b_ = 0, c_ = 0;
};

TEST_F(PrefixLocksTest, GrantsDisjointPrefixesAndRefusesOverlappingOnes) {
  v1::Response r = Lock("jobs/1/", a_);
  ASSERT_FALSE(broker_.last_deferred());
  EXPECT_TRUE(r.map().acquired());
  EXPECT_EQ(r.map().version(), 1);  // the fence is the grant's revision
  EXPECT_EQ(r.revision(), 1);
  r = Lock("jobs/2/", b_);
  EXPECT_TRUE(r.map().acquired());
  EXPECT_EQ(r.map().version(), 2);

  // A parent, a child and the same prefix all overlap "jobs/1/".
  for (const std::string p : {"jobs/", "jobs/1/x", "jobs/1/", ""}) {
    r = TryLock(p, c_);
    EXPECT_FALSE(r.has_error()) << r.error().message();
    EXPECT_FALSE(r.map().acquired()) << p;
  }
  EXPECT_EQ(TryLock("jobs/1/x", c_).map().version(), 1);  // the holder's fence
  EXPECT_TRUE(TryLock("jobs/10", c_).map().acquired());   // a sibling
  EXPECT_EQ(broker_.revision(), 3);  // failed tries take no revision
  // Not reentrant: the holder's own second try fails too.
  EXPECT_FALSE(TryLock("jobs/1/", a_).map().acquired());
}

TEST_F(PrefixLocksTest, WaitersAreGrantedInArrivalOrderWithoutStarvation) {
  ASSERT_TRUE(Lock("a/x", a_).map().acquired());  // fence 1
  Lock("a/", b_, 2);                              // waits for a/x
  EXPECT_TRUE(broker_.last_deferred());
  // a/y conflicts with no holder, but with the earlier waiter a/: it waits,
  // so a stream of children cannot starve the parent.
  Lock("a/y", c_, 3);
  EXPECT_TRUE(broker_.last_deferred());
  EXPECT_FALSE(TryLock("a/z", c_).map().acquired());
  // Unrelated prefixes pass.
  EXPECT_TRUE(Lock("b/", c_, 4).map().acquired());  // fence 2

  v1::Response r = Map("unlock_prefix { prefix: \"a/x\" }", a_);
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.map().version(), 3);
  EXPECT_EQ(Done(), std::vector<std::string>{"2:0:3"});  // a/ at the unlock
  r = Map("unlock_prefix { prefix: \"a/\" }", b_);
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(Done(), std::vector<std::string>{"3:0:4"});
}

TEST_F(PrefixLocksTest, OneReleaseGrantsEveryWaiterItFrees) {
  ASSERT_TRUE(Lock("q/", a_).map().acquired());
  Lock("q/1", b_, 2);
  Lock("q/2", c_, 3);
  Lock("q/1/x", c_, 4);  // behind q/1
  Map("unlock_prefix { prefix: \"q/\" }", a_);
  EXPECT_EQ(Done(), (std::vector<std::string>{"2:0:2", "3:0:2"}));
  // Both grants share the unlock's revision as fence; unlocking one
  // leaves the other's fence holding.
  Map("unlock_prefix { prefix: \"q/1\" }", b_);
  EXPECT_FALSE(
      Put("q/2/k", b_, "if_fence { lock: \"m\" version: 2 }").has_error());
  EXPECT_EQ(Done(), std::vector<std::string>{"4:0:3"});
}

TEST_F(PrefixLocksTest, WritesUnderAHeldPrefixNeedTheHoldersSessionOrFence) {
  const int64_t fence = Lock("jobs/42/", a_).map().version();
  // The holder's session writes freely.
  v1::Response r = Put("jobs/42/state", a_);
  ASSERT_FALSE(r.has_error()) << r.error().message();
  // Another session, or none, is refused, naming prefix, session and fence.
  for (uint64_t s : {b_, uint64_t{0}}) {
    r = Put("jobs/42/state", s);
    EXPECT_EQ(r.error().code(), kFailedPrecondition);
    EXPECT_EQ(r.error().current(), fence);
    EXPECT_NE(r.error().message().find("\"jobs/42/\""), std::string::npos)
        << r.error().message();
    EXPECT_NE(r.error().message().find(absl::StrCat("session ", a_)),
              std::string::npos);
    EXPECT_NE(r.error().message().find(absl::StrCat("fence ", fence)),
              std::string::npos);
  }
  for (const std::string op : {"insert { key: \"jobs/42/n\" value: \"v\" }",
                               "update { key: \"jobs/42/state\" value: \"v\" }",
                               "remove { key: \"jobs/42/state\" }", "clear {}",
                               "remove_prefix { prefix: \"jobs/\" }",
                               "remove_prefix { prefix: \"jobs/42/state\" }"}) {
    r = Map(op, b_);
    EXPECT_EQ(r.error().code(), kFailedPrecondition) << op;
  }
  // Outside the prefix: fine.
  EXPECT_FALSE(Put("jobs/43/state", b_).has_error());
  EXPECT_FALSE(Map("remove_prefix { prefix: \"jobs/43\" }", b_).has_error());
  // With the holder's fence, named by the map itself: allowed.
  const std::string with =
      absl::StrCat("if_fence { lock: \"m\" version: ", fence, " }");
  r = Put("jobs/42/state", b_, with);
  EXPECT_FALSE(r.has_error()) << r.error().message();
  r = Map("remove_prefix { prefix: \"jobs/42/\" " + with + " }", b_);
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.map().size(), 1);
  // A fence of another prefix lock of the same map does not open this one.
  const int64_t other = Lock("x/", c_).map().version();
  r = Put("jobs/42/state", b_,
          absl::StrCat("if_fence { lock: \"m\" version: ", other, " }"));
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().current(), fence);
  // Once unlocked, the old fence no longer holds (the broker's fence check).
  Map("unlock_prefix { prefix: \"jobs/42/\" }", a_);
  r = Put("jobs/42/state", b_, with);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_NE(r.error().message().find("no longer holds"), std::string::npos);
  EXPECT_FALSE(Put("jobs/42/state", b_).has_error());
}

TEST_F(PrefixLocksTest, TtlExpiryIsNotHeldBack) {
  ASSERT_FALSE(
      Map("put { key: \"t/1\" value: \"v\" ttl_ms: 100 }").has_error());
  Lock("t/", a_);
  broker_.Advance(absl::Milliseconds(100));
  EXPECT_FALSE(Map("get { key: \"t/1\" }").map().present());
}

TEST_F(PrefixLocksTest, UnlockErrorsAndUnlockByFence) {
  v1::Response r = Map("unlock_prefix { prefix: \"p/\" }", a_);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().current(), 0);
  const int64_t fence = Lock("p/", a_).map().version();
  r = Map("unlock_prefix { prefix: \"p/\" }", b_);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().current(), fence);
  r = Map("unlock_prefix { prefix: \"p\" }", a_);  // not the held prefix
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  r = Map(absl::StrCat("unlock_prefix { prefix: \"p/\" if_version: ", fence + 1,
                       " }"));
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().current(), fence);
  r = Map(absl::StrCat("unlock_prefix { prefix: \"p/\" if_version: ", fence,
                       " }"));  // any session, by fence
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_TRUE(Held().empty());
}

TEST_F(PrefixLocksTest, SessionEndReleasesEverythingAtOneRevision) {
  Lock("a/", a_);
  Lock("b/", a_);
  Put("a/e", a_);
  ASSERT_FALSE(
      Map("put { key: \"z\" value: \"v\" ephemeral: true }", a_).has_error());
  Lock("a/1", b_, 2);  // waits
  Lock("b/", c_, 3);   // waits
  Lock("c/", a_, 4);
  Lock("c/", a_, 5);  // a's own waiter: aborted
  const int64_t before = broker_.revision();
  broker_.Session("close {}", a_);
  EXPECT_EQ(broker_.revision(), before + 1);
  EXPECT_EQ(Done(),
            (std::vector<std::string>{absl::StrCat("5:", kAborted, ":0"),
                                      absl::StrCat("2:0:", before + 1),
                                      absl::StrCat("3:0:", before + 1)}));
  EXPECT_FALSE(Map("get { key: \"z\" }").map().present());
  v1::Response list = Map("prefix_locks {}");
  ASSERT_EQ(list.map().prefix_locks_size(), 2);
  EXPECT_EQ(list.map().prefix_locks(0).prefix(), "a/1");
  EXPECT_EQ(list.map().prefix_locks(0).session_id(), b_);
  EXPECT_EQ(list.map().prefix_locks(1).prefix(), "b/");
  EXPECT_EQ(list.map().prefix_locks(1).fence(), before + 1);
}

TEST_F(PrefixLocksTest, ATimedOutWaiterFreesThoseQueuedBehindIt) {
  Lock("a/x", a_);
  Lock("a/", b_, 2, /*timeout_ms=*/500);
  Lock("a/y", c_, 3);  // blocked only by the waiter a/
  broker_.Advance(absl::Milliseconds(499));
  EXPECT_TRUE(Done().empty());
  const int64_t before = broker_.revision();
  broker_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(Done(), (std::vector<std::string>{
                        absl::StrCat("2:", kDeadlineExceeded, ":0"),
                        absl::StrCat("3:0:", before + 1)}));
}

TEST_F(PrefixLocksTest, ACancelledWaiterFreesThoseQueuedBehindIt) {
  Lock("a/x", a_);
  Lock("a/", b_, 7);
  Lock("a/y", c_, 3);
  broker_.Cancel(7);  // no answer; the grant comes with the next tick
  broker_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(Done(),
            std::vector<std::string>{absl::StrCat("3:0:", broker_.revision())});
  EXPECT_EQ(Held(), (std::vector<std::string>{"a/x", "a/y"}));
}

TEST_F(PrefixLocksTest, LockOpsTakeRevisionsButReportNoMapEvents) {
  broker_.Apply(v1::MAP, "m", "map { size {} }");
  StateDriver driver(v1::MAP, "m");
  v1::Request lock =
      MakeRequest(v1::MAP, "m", "map { lock_prefix { prefix: \"k/\" } }");
  lock.set_session_id(9);
  v1::Response r = driver.ApplyRequest(lock);
  EXPECT_TRUE(r.map().acquired());
  EXPECT_TRUE(driver.last_mutated());
  EXPECT_TRUE(driver.last_events().empty());
  EXPECT_EQ(driver.Snapshot().entries_size(), 0);
  EXPECT_TRUE(driver.machine().FenceHolds(1));
  EXPECT_EQ(driver.machine().NewestFence(), 1);
  EXPECT_FALSE(driver.machine().FenceHolds(2));
}

TEST_F(PrefixLocksTest, ListingIsPaged) {
  for (const std::string p : {"a", "b", "c"}) Lock(p, a_);
  v1::Response r = Map("prefix_locks { limit: 2 }");
  ASSERT_EQ(r.map().prefix_locks_size(), 2);
  EXPECT_TRUE(r.map().more());
  r = Map("prefix_locks { start_after: \"b\" }");
  ASSERT_EQ(r.map().prefix_locks_size(), 1);
  EXPECT_EQ(r.map().prefix_locks(0).prefix(), "c");
  EXPECT_FALSE(r.map().more());
}

v1::Request SessionRequest(const std::string& op, uint64_t session,
                           int64_t timeout_ms = 0) {
  v1::Request request = MakeRequest(v1::MAP, "m", "map { " + op + " }");
  request.set_session_id(session);
  request.set_timeout_ms(timeout_ms);
  return request;
}

TEST(PrefixLocksSaveTest, SaveThenLoadGoesOnMidWait) {
  StateDriver driver(v1::MAP, "m");
  driver.ApplyRequest(SessionRequest("lock_prefix { prefix: \"a/\" }", 1));
  driver.ApplyRequest(SessionRequest("put { key: \"a/1\" value: \"v\" }", 1));
  ApplyResult waited;
  v1::Response ignored;
  const Limits limits;
  const ApplyContext ctx{
      .revision = 10, .now = testing::TestNow(), .limits = limits, .token = 77};
  waited = driver.machine().Apply(
      SessionRequest("lock_prefix { prefix: \"a/b\" }", 2, 1000), ctx, ignored);
  ASSERT_TRUE(waited.deferred);
  atomix::log::v1::PrimitiveSave save;
  save.set_name("m");
  driver.machine().Save(save);
  ASSERT_EQ(save.map().prefix_locks_size(), 1);
  ASSERT_EQ(save.map().prefix_waiters_size(), 1);

  MapState loaded;
  ASSERT_TRUE(loaded.Load(save).ok());
  atomix::log::v1::PrimitiveSave again;
  again.set_name("m");
  loaded.Save(again);
  EXPECT_EQ(save.SerializeAsString(), again.SerializeAsString());
  EXPECT_EQ(loaded.NextDeadline(), testing::TestNow() + absl::Seconds(1));
  // The loaded machine grants the waiter when the holder unlocks.
  v1::Response r;
  const ApplyContext next{
      .revision = 11, .now = testing::TestNow(), .limits = limits};
  ApplyResult step = loaded.Apply(
      SessionRequest("unlock_prefix { prefix: \"a/\" }", 1), next, r);
  ASSERT_EQ(step.answers.size(), 1u);
  EXPECT_EQ(step.answers[0].token, 77u);
  EXPECT_EQ(step.answers[0].response.map().version(), 11);
}

// The engine saved while a grant is due (a cancelled waiter freed one
// behind it) and loaded into a fresh engine goes on exactly as the live
// one: the due grant is part of the state.
TEST(PrefixLocksEngineTest, SaveAndLoadWithAGrantDueMatchTheLiveEngine) {
  const Limits limits;
  Engine live(limits, Engine::Options{.session_id_base = 100}, nullptr);
  const absl::Time now = testing::TestNow();
  const auto run = [&](v1::Request request, uint64_t origin) {
    std::vector<const v1::Request*> in = {&request};
    v1::Response response;
    std::vector<v1::Response*> out = {&response};
    StoreResult result;
    live.ApplyBatch(now, origin, in, out, result);
    return response;
  };
  uint64_t s[3];
  for (uint64_t& id : s) {
    id = run(testing::ParseRequest("session { open { ttl_ms: 60000 } }"), 1)
             .session()
             .session_id();
  }
  const auto lock = [&](const std::string& prefix, uint64_t session,
                        uint64_t origin) {
    v1::Request r = MakeRequest(
        v1::MAP, "m", "map { lock_prefix { prefix: \"" + prefix + "\" } }",
        origin);
    r.set_session_id(session);
    return run(r, origin);
  };
  ASSERT_TRUE(lock("a/x", s[0], 1).map().acquired());
  lock("a/", s[1], 7);   // waits
  lock("a/y", s[2], 3);  // waits behind a/
  live.CancelOrigin(7);
  EXPECT_EQ(live.NextDue(), absl::InfinitePast());

  atomix::log::v1::EngineSnapshot snapshot;
  live.Save(snapshot);
  Engine loaded(limits, Engine::Options{.session_id_base = 100}, nullptr);
  ASSERT_TRUE(loaded.Load(snapshot).ok());
  EXPECT_EQ(loaded.Digest(), live.Digest());

  StoreResult from_live, from_loaded;
  live.Tick(now + absl::Milliseconds(1), from_live);
  loaded.Tick(now + absl::Milliseconds(1), from_loaded);
  ASSERT_EQ(from_live.completions.size(), 1u);
  ASSERT_EQ(from_loaded.completions.size(), 1u);
  EXPECT_EQ(from_live.completions[0].origin, 3u);
  EXPECT_TRUE(from_live.completions[0].response.map().acquired());
  EXPECT_EQ(from_live.completions[0].response.SerializeAsString(),
            from_loaded.completions[0].response.SerializeAsString());
  EXPECT_EQ(loaded.Digest(), live.Digest());
}

TEST(PrefixLocksSaveTest, LoadRefusesInconsistentSaves) {
  const auto load = [](const std::string& text) {
    atomix::log::v1::PrimitiveSave save;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &save));
    MapState machine;
    return machine.Load(save).code();
  };
  EXPECT_EQ(load(R"pb(map {
                        prefix_locks { prefix: "a" fence: 1 session: 1 }
                        prefix_locks { prefix: "ab" fence: 2 session: 2 }
                      })pb"),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      load(R"pb(map { prefix_locks { prefix: "a" fence: 1 session: 0 } })pb"),
      absl::StatusCode::kDataLoss);
  EXPECT_EQ(load(R"pb(map {
                        prefix_locks { prefix: "a" fence: 1 session: 1 }
                        prefix_locks { prefix: "b" fence: 1 session: 1 }
                      })pb"),
            absl::StatusCode::kOk);  // one step's grants
  EXPECT_EQ(load(R"pb(map {
                        prefix_waiters { order: 5 token: 1 session: 1 }
                        next_order: 5
                      })pb"),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(load(R"pb(map {
                        prefix_waiters { order: 0 token: 1 session: 1 }
                        prefix_waiters { order: 1 token: 1 session: 2 }
                        next_order: 2
                      })pb"),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(load(R"pb(map {
                        prefix_locks { prefix: "a" fence: 1 session: 1 }
                        prefix_waiters { order: 0 token: 1 session: 2 key: "a" }
                        next_order: 1
                      })pb"),
            absl::StatusCode::kOk);
  (void)kDataLoss;
}

TEST(PrefixLocksValidateTest, NewOpsAreValidatedNamingTheField) {
  const Limits limits;
  const auto check = [&](const std::string& op, uint64_t session) {
    v1::Request request = MakeRequest(v1::MAP, "m", "map { " + op + " }");
    request.set_session_id(session);
    return MapPrimitive().validate(request, limits);
  };
  absl::Status s = check("lock_prefix { prefix: \"a\" }", 0);
  EXPECT_EQ(static_cast<int>(s.code()), kInvalidArgument);
  EXPECT_NE(s.message().find("session"), std::string::npos);
  EXPECT_TRUE(check("lock_prefix { prefix: \"\" }", 1).ok());
  s = check("lock_prefix { prefix: \"" + std::string(5000, 'x') + "\" }", 1);
  EXPECT_NE(s.message().find("prefix"), std::string::npos) << s.message();
  EXPECT_FALSE(check("unlock_prefix { prefix: \"a\" }", 0).ok());
  EXPECT_TRUE(check("unlock_prefix { prefix: \"a\" if_version: 3 }", 0).ok());
  s = check("prefix_locks { start_after: \"" + std::string(5000, 'x') + "\" }",
            0);
  EXPECT_NE(s.message().find("start_after"), std::string::npos);
  EXPECT_FALSE(check("clear { if_fence { lock: \"\" version: 1 } }", 0).ok());
  EXPECT_FALSE(check("insert { key: \"k\" if_fence { lock: \"\" } }", 0).ok());
  // Spec: the new fields are fences, lock_prefix is owned by its session.
  EXPECT_TRUE(MapPrimitive().grants_fences);
  v1::Request clear = MakeRequest(
      v1::MAP, "m", "map { clear { if_fence { lock: \"m\" version: 4 } } }");
  ASSERT_NE(MapPrimitive().fence_of(clear), nullptr);
  EXPECT_EQ(MapPrimitive().fence_of(clear)->version(), 4);
  EXPECT_TRUE(MapPrimitive().session_owned(
      MakeRequest(v1::MAP, "m", "map { lock_prefix { prefix: \"a\" } }")));
  EXPECT_TRUE(MapPrimitive().is_read(
      MakeRequest(v1::MAP, "m", "map { prefix_locks {} }")));
}

TEST_F(PrefixLocksTest, MapDescribeListsPrefixLocksTheirWaitersAndEphemeralEntries) {
  using testing::Holdings;
  using Lines = std::vector<std::string>;
  Put("jobs/x", 0);                                 // 1
  Lock("jobs/", a_);                                // 2
  Lock("tmp/", b_);                                 // 3
  Lock("jobs/1", c_, 4);                            // waits
  ASSERT_TRUE(broker_.last_deferred());
  Lock("tmp/z", a_, 5);                             // waits
  ASSERT_TRUE(broker_.last_deferred());
  Map("put { key: \"tmp/e\" value: \"v\" ephemeral: true }", b_);  // 4
  v1::PrimitiveInfo info = broker_.Describe("m");
  EXPECT_EQ(info.summary(), "2 entries, 2 prefix locks, 2 waiting");
  EXPECT_EQ(Holdings(info.holders()),
            (Lines{"1 | prefix jobs/ | 2", "2 | prefix tmp/ | 3", "2 | entry tmp/e | 0"}));
  EXPECT_EQ(Holdings(info.waiters()), (Lines{"3 | prefix jobs/1 | 0", "1 | prefix tmp/z | 0"}));

  Map("unlock_prefix { prefix: \"jobs/\" }", a_);  // 5: c gets jobs/1
  info = broker_.Describe("m");
  EXPECT_EQ(info.summary(), "2 entries, 2 prefix locks, 1 waiting");
  EXPECT_EQ(Holdings(info.holders()),
            (Lines{"3 | prefix jobs/1 | 5", "2 | prefix tmp/ | 3", "2 | entry tmp/e | 0"}));

  broker_.Session("close {}", b_);  // 6: tmp/ and tmp/e go; a gets tmp/z
  info = broker_.Describe("m");
  EXPECT_EQ(info.summary(), "1 entry, 2 prefix locks");
  EXPECT_EQ(Holdings(info.holders()), (Lines{"3 | prefix jobs/1 | 5", "1 | prefix tmp/z | 6"}));
  EXPECT_EQ(info.waiters_size(), 0);
}

}  // namespace
}  // namespace atomix::broker
