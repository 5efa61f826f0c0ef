// Fenced, ephemeral and TTL writes on Map and Value, the composable
// WriteOptions, and FenceValidator.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "atomix/fence_validator.h"
#include "atomix/lock.h"
#include "atomix/map.h"
#include "atomix/status.h"
#include "atomix/value.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeBroker;
using testing::FakeClientCore;

TEST(WriteOptionsTest, HelpersCompose) {
  WriteOptions w = IfVersion(3).Ephemeral().TTL(seconds(5)).Timeout(seconds(1));
  EXPECT_EQ(w.if_version, 3);
  EXPECT_TRUE(w.ephemeral);
  EXPECT_EQ(w.ttl, milliseconds(5000));
  EXPECT_EQ(w.timeout, seconds(1));
  EXPECT_FALSE(w.if_fence.has_value());

  WriteOptions f = IfFence("db", Fence{7}).IfVersion(2);
  EXPECT_EQ(f.if_fence, (FenceRef{"db", 7}));
  EXPECT_EQ(f.if_version, 2);

  WriteOptions e = WithEphemeral();
  e.TTL(milliseconds(10));
  EXPECT_TRUE(e.ephemeral);
  EXPECT_EQ(e.ttl, milliseconds(10));
  EXPECT_EQ(WithTTL(seconds(2)).ttl, milliseconds(2000));

  WriteOptions from_call = WithTimeout(seconds(3));  // CallOptions still convert
  EXPECT_EQ(from_call.timeout, seconds(3));
}

class FenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = std::make_shared<FakeClientCore>(broker_);
    b_ = std::make_shared<FakeClientCore>(broker_);
    ASSERT_OK(a_->session_status());
    ASSERT_OK(b_->session_status());
  }

  std::shared_ptr<FakeBroker> broker_ = std::make_shared<FakeBroker>();
  std::shared_ptr<FakeClientCore> a_, b_;
};

TEST_F(FenceTest, MapWritesCarryTheFenceAndAreRefusedAfterTakeover) {
  ASSERT_OK_AND_ASSIGN(Lock la, internal::GetLock(a_, "writer"));
  ASSERT_OK_AND_ASSIGN(Lock lb, internal::GetLock(b_, "writer"));
  ASSERT_OK_AND_ASSIGN(auto ma, (internal::GetMap<std::string, std::string>(a_, "config")));
  ASSERT_OK_AND_ASSIGN(auto mb, (internal::GetMap<std::string, std::string>(b_, "config")));

  ASSERT_OK_AND_ASSIGN(Fence old_fence, la.Acquire());
  ASSERT_OK_AND_ASSIGN(Version put, ma.Put("k", "a1", IfFence(la, old_fence)));
  EXPECT_EQ(put, old_fence.version + 1);
  const v1::MapPut sent = a_->calls().back().request.map().put();
  EXPECT_EQ(sent.if_fence().lock(), "writer");
  EXPECT_EQ(sent.if_fence().version(), old_fence.version);
  ASSERT_OK(ma.Update("k", "a2", IfFence(la, old_fence)));

  // b takes the lock over (a's grant is released by fence).
  ASSERT_OK(lb.Release(IfVersion(old_fence)));
  ASSERT_OK_AND_ASSIGN(Fence new_fence, lb.Acquire());

  absl::Status stale = ma.Put("k", "late", IfFence(la, old_fence)).status();
  EXPECT_CODE(stale, kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(stale), new_fence.version);
  EXPECT_CODE(ma.Update("k", "late", IfFence(la, old_fence)), kFailedPrecondition);
  EXPECT_CODE(ma.Remove("k", IfFence(la, old_fence)), kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(auto got, mb.Get("k"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->value, "a2");

  ASSERT_OK(mb.Put("k", "b1", IfFence(lb, new_fence)));
  ASSERT_OK(mb.Remove("k", IfFence(lb, new_fence)));
  EXPECT_TRUE(b_->calls().back().request.map().remove().has_if_fence());
}

TEST_F(FenceTest, ValueWritesCarryTheFenceAndAreRefusedOnceReleased) {
  ASSERT_OK_AND_ASSIGN(Lock la, internal::GetLock(a_, "writer"));
  ASSERT_OK_AND_ASSIGN(auto va, (internal::GetValue<std::string>(a_, "leader")));
  ASSERT_OK_AND_ASSIGN(Fence fence, la.Acquire());
  ASSERT_OK(va.Set("me", IfFence(la, fence)));
  EXPECT_EQ(a_->calls().back().request.value().set().if_fence().version(), fence.version);
  ASSERT_OK(la.Release());

  absl::Status stale = va.Set("me again", IfFence(la, fence)).status();
  EXPECT_CODE(stale, kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(stale), 0);  // free
  EXPECT_CODE(va.Delete(IfFence(la, fence)), kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(auto got, va.Get());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->value, "me");
}

TEST_F(FenceTest, ConditionsAndLifetimeTravelTogether) {
  ASSERT_OK_AND_ASSIGN(Lock la, internal::GetLock(a_, "writer"));
  ASSERT_OK_AND_ASSIGN(auto m, (internal::GetMap<std::string, std::string>(a_, "m")));
  ASSERT_OK_AND_ASSIGN(Fence fence, la.Acquire());
  ASSERT_OK_AND_ASSIGN(Version v1, m.Put("k", "1"));
  ASSERT_OK_AND_ASSIGN(
      Version v2,
      m.Update("k", "2", IfFence(la, fence).IfVersion(v1).Ephemeral().TTL(seconds(30))));
  const v1::MapUpdate sent = a_->calls().back().request.map().update();
  EXPECT_EQ(sent.if_version(), v1);
  EXPECT_EQ(sent.if_fence().version(), fence.version);
  EXPECT_TRUE(sent.ephemeral());
  EXPECT_EQ(sent.ttl_ms(), 30000);
  // A stale version fails even with a good fence.
  EXPECT_CODE(m.Put("k", "3", IfFence(la, fence).IfVersion(v1)), kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(Version v3, m.Remove("k", IfFence(la, fence).IfVersion(v2)));
  EXPECT_EQ(v3, v2 + 1);
}

TEST_F(FenceTest, FenceOfAnotherLockIsRefused) {
  ASSERT_OK_AND_ASSIGN(Lock la, internal::GetLock(a_, "writer"));
  ASSERT_OK_AND_ASSIGN(auto va, (internal::GetValue<std::string>(a_, "leader")));
  ASSERT_OK_AND_ASSIGN(Fence fence, la.Acquire());
  EXPECT_CODE(va.Set("x", IfFence("other-lock", fence)), kFailedPrecondition);
}

TEST_F(FenceTest, OptionsAWriteDoesNotTakeFailWithoutARoundTrip) {
  ASSERT_OK_AND_ASSIGN(auto m, (internal::GetMap<std::string, std::string>(a_, "m")));
  ASSERT_OK_AND_ASSIGN(auto v, (internal::GetValue<std::string>(a_, "v")));
  a_->clear_calls();
  EXPECT_CODE(m.Insert("k", "v", IfVersion(1)), kInvalidArgument);
  // (Map Insert takes IfFence, for writes under a prefix lock.)
  EXPECT_CODE(m.Remove("k", WithEphemeral()), kInvalidArgument);
  EXPECT_CODE(m.Remove("k", WithTTL(seconds(1))), kInvalidArgument);
  EXPECT_CODE(m.Put("k", "v", WithTTL(milliseconds(0))), kInvalidArgument);
  EXPECT_CODE(v.Insert("x", IfVersion(1)), kInvalidArgument);
  EXPECT_CODE(v.Delete(WithEphemeral()), kInvalidArgument);
  auto negative = v.Set("x", WithTTL(milliseconds(-5)));
  EXPECT_CODE(negative, kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(negative.status().message(), "value \"v\"")) << negative.status();
  EXPECT_TRUE(a_->calls().empty());
}

TEST_F(FenceTest, EphemeralEntriesEndWithTheSession) {
  ASSERT_OK_AND_ASSIGN(auto ma, (internal::GetMap<std::string, std::string>(a_, "workers")));
  ASSERT_OK_AND_ASSIGN(auto mb, (internal::GetMap<std::string, std::string>(b_, "workers")));
  ASSERT_OK_AND_ASSIGN(auto va, (internal::GetValue<std::string>(a_, "primary")));
  ASSERT_OK_AND_ASSIGN(auto vb, (internal::GetValue<std::string>(b_, "primary")));

  ASSERT_OK(ma.Put("a", "10.0.0.1", WithEphemeral()));
  EXPECT_TRUE(a_->calls().back().request.map().put().ephemeral());
  ASSERT_OK(ma.Insert("a2", "10.0.0.1", WithEphemeral()));
  EXPECT_TRUE(a_->calls().back().request.map().insert().ephemeral());
  ASSERT_OK(ma.Put("keep", "10.0.0.1"));
  ASSERT_OK(va.Insert("a", WithEphemeral()));
  EXPECT_TRUE(a_->calls().back().request.value().insert().ephemeral());
  ASSERT_OK(mb.Put("b", "10.0.0.2", WithEphemeral()));

  ASSERT_OK(a_->CloseSession());
  const int64_t closed_at = a_->revision();
  ASSERT_OK_AND_ASSIGN(int64_t size, mb.Size());
  EXPECT_EQ(size, 2);  // "keep" and b's entry
  ASSERT_OK_AND_ASSIGN(auto gone, mb.Get("a"));
  EXPECT_FALSE(gone.has_value());
  ASSERT_OK_AND_ASSIGN(auto kept, mb.Get("keep"));
  EXPECT_TRUE(kept.has_value());
  ASSERT_OK_AND_ASSIGN(auto value, vb.Get());
  EXPECT_FALSE(value.has_value());
  EXPECT_EQ(b_->revision(), closed_at);  // one step, one revision
}

TEST_F(FenceTest, TtlEntriesExpireOnTheBrokersClock) {
  ASSERT_OK_AND_ASSIGN(auto m, (internal::GetMap<std::string, std::string>(a_, "cache")));
  ASSERT_OK_AND_ASSIGN(auto v, (internal::GetValue<std::string>(a_, "token")));
  ASSERT_OK(m.Put("k", "v", WithTTL(seconds(5))));
  EXPECT_EQ(a_->calls().back().request.map().put().ttl_ms(), 5000);
  ASSERT_OK(m.Insert("i", "v", WithTTL(seconds(3))));
  EXPECT_EQ(a_->calls().back().request.map().insert().ttl_ms(), 3000);
  ASSERT_OK(v.Set("t", WithTTL(seconds(5))));
  EXPECT_EQ(a_->calls().back().request.value().set().ttl_ms(), 5000);

  broker_->Advance(absl::Seconds(4));
  ASSERT_OK_AND_ASSIGN(int64_t size, m.Size());
  EXPECT_EQ(size, 1);  // "i" is gone
  ASSERT_OK_AND_ASSIGN(auto t, v.Get());
  EXPECT_TRUE(t.has_value());

  broker_->Advance(absl::Seconds(2));
  ASSERT_OK_AND_ASSIGN(size, m.Size());
  EXPECT_EQ(size, 0);
  ASSERT_OK_AND_ASSIGN(t, v.Get());
  EXPECT_FALSE(t.has_value());
}

TEST(FenceValidatorTest, AcceptsRisingAndEqualFencesAndRefusesOlderOnes) {
  FenceValidator validator("orders.db");
  EXPECT_EQ(validator.high_water_mark(), 0);
  EXPECT_OK(validator.Check(5));
  EXPECT_OK(validator.Check(5));  // the same holder writes again
  EXPECT_OK(validator.Check(9));
  EXPECT_EQ(validator.high_water_mark(), 9);

  absl::Status stale = validator.Check(5);
  EXPECT_CODE(stale, kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(stale.message(), "orders.db")) << stale;
  EXPECT_TRUE(absl::StrContains(stale.message(), "fence 5")) << stale;
  EXPECT_TRUE(absl::StrContains(stale.message(), "fence 9")) << stale;
  EXPECT_EQ(validator.high_water_mark(), 9);
  EXPECT_CODE(validator.Check(0), kInvalidArgument);

  FenceValidator restored("orders.db", 12);
  EXPECT_CODE(restored.Check(9), kFailedPrecondition);
}

TEST(FenceValidatorTest, CheckAndRunRunsOnlyForAcceptedFences) {
  FenceValidator validator;
  int writes = 0;
  EXPECT_OK(validator.CheckAndRun(3, [&] { ++writes; }));
  EXPECT_CODE(validator.CheckAndRun(2, [&] { ++writes; }), kFailedPrecondition);
  EXPECT_CODE(validator.CheckAndRun(4, [&] { return absl::InternalError("disk full"); }),
              kInternal);
  EXPECT_EQ(writes, 1);
  EXPECT_EQ(validator.high_water_mark(), 4);
}

TEST(FenceValidatorTest, ConcurrentChecksKeepTheMarkMonotonic) {
  FenceValidator validator;
  std::atomic<Version> last_accepted{0};
  std::atomic<int> out_of_order{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (Version f = 1 + t; f <= 4000; f += 4) {
        (void)validator.CheckAndRun(f, [&] {
          if (f < last_accepted.load()) ++out_of_order;
          last_accepted = f;
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(out_of_order.load(), 0);
  EXPECT_GE(validator.high_water_mark(), 3997);
}

}  // namespace
}  // namespace atomix
