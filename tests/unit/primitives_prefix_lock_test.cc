// Map prefix locks and PrefixLockGuard over an in-process broker, with one
// fake core (one session) per client.
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "atomix/map.h"
#include "atomix/prefix_lock.h"
#include "atomix/status.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using std::chrono::milliseconds;
using testing::FakeBroker;
using testing::FakeClientCore;
using StrMap = Map<std::string, std::string>;

class PrefixLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* core : {&a_, &b_, &c_}) {
      *core = std::make_shared<FakeClientCore>(broker_);
      ASSERT_OK((*core)->session_status());
    }
  }

  StrMap Open(const std::shared_ptr<FakeClientCore>& core) {
    auto map = internal::GetMap<std::string, std::string>(core, "jobs");
    EXPECT_OK(map);
    return *std::move(map);
  }

  std::vector<std::string> Held(const StrMap& map) {
    std::vector<std::string> out;
    for (const auto& l : map.PrefixLocks()) {
      EXPECT_OK(l);
      if (l.ok()) out.push_back(l->prefix);
    }
    return out;
  }

  std::shared_ptr<FakeBroker> broker_ = std::make_shared<FakeBroker>();
  std::shared_ptr<FakeClientCore> a_, b_, c_;
};

TEST_F(PrefixLockTest, LockPrefixReturnsAGuardWithTheGrantRevisionAsFence) {
  StrMap ma = Open(a_);
  const int64_t before = a_->revision();
  {
    ASSERT_OK_AND_ASSIGN(PrefixLockGuard guard, ma.LockPrefix("jobs/42/"));
    EXPECT_EQ(guard.fence().version, before + 1);
    EXPECT_EQ(guard.prefix(), "jobs/42/");
    EXPECT_EQ(guard.map_name(), "jobs");
    EXPECT_EQ(guard.session_id(), a_->session_id());
    EXPECT_TRUE(guard.owns_lock());
    EXPECT_FALSE(guard.stop_token().stop_requested());

    const v1::Request sent = a_->calls().back().request;
    EXPECT_EQ(sent.map().lock_prefix().prefix(), "jobs/42/");
    EXPECT_FALSE(sent.map().lock_prefix().try_only());
    EXPECT_EQ(sent.session_id(), a_->session_id());
    EXPECT_GT(sent.timeout_ms(), 8000);  // the default call timeout, less a margin
    EXPECT_FALSE(a_->calls().back().idempotent);
    EXPECT_EQ(Held(ma), std::vector<std::string>{"jobs/42/"});
  }
  const v1::Request unlock = a_->calls().back().request;  // on scope exit
  EXPECT_EQ(unlock.map().unlock_prefix().if_version(), before + 1);
  EXPECT_TRUE(Held(ma).empty());
}

TEST_F(PrefixLockTest, TryLockPrefixNeverWaits) {
  StrMap ma = Open(a_), mb = Open(b_);
  ASSERT_OK_AND_ASSIGN(PrefixLockGuard held, ma.LockPrefix("a/"));
  ASSERT_OK_AND_ASSIGN(std::optional<PrefixLockGuard> child, mb.TryLockPrefix("a/b"));
  EXPECT_FALSE(child.has_value());
  ASSERT_OK_AND_ASSIGN(std::optional<PrefixLockGuard> parent, mb.TryLockPrefix(""));
  EXPECT_FALSE(parent.has_value());
  ASSERT_OK_AND_ASSIGN(std::optional<PrefixLockGuard> sibling, mb.TryLockPrefix("b/"));
  ASSERT_TRUE(sibling.has_value());
  EXPECT_GT(sibling->fence(), held.fence());
  EXPECT_EQ(Held(ma), (std::vector<std::string>{"a/", "b/"}));
}

TEST_F(PrefixLockTest, OtherSessionsWriteUnderAHeldPrefixOnlyWithItsFence) {
  StrMap ma = Open(a_), mb = Open(b_);
  ASSERT_OK_AND_ASSIGN(PrefixLockGuard guard, ma.LockPrefix("jobs/42/"));
  ASSERT_OK(ma.Put("jobs/42/state", "running"));  // the holder's session

  absl::StatusOr<Version> refused = mb.Put("jobs/42/state", "stolen");
  EXPECT_CODE(refused, kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(refused.status()), guard.fence().version);
  EXPECT_NE(refused.status().message().find("\"jobs/42/\""), std::string::npos)
      << refused.status().message();
  EXPECT_CODE(mb.Insert("jobs/42/new", "x"), kFailedPrecondition);
  EXPECT_CODE(mb.Update("jobs/42/state", "x"), kFailedPrecondition);
  EXPECT_CODE(mb.Remove("jobs/42/state"), kFailedPrecondition);
  EXPECT_CODE(mb.Clear(), kFailedPrecondition);
  EXPECT_CODE(mb.RemovePrefix("jobs/"), kFailedPrecondition);
  ASSERT_OK(mb.Put("jobs/43/state", "free"));

  // With the holder's fence (a worker the holder handed it to).
  ASSERT_OK(mb.Put("jobs/42/state", "done", IfFence(guard)));
  ASSERT_OK(mb.Insert("jobs/42/log", "1", IfFence(guard)));
  ASSERT_OK_AND_ASSIGN(int64_t removed, mb.RemovePrefix("jobs/42/", IfFence(guard)));
  EXPECT_EQ(removed, 2);
  ASSERT_OK(ma.Put("jobs/42/state", "again"));
  ASSERT_OK(guard.Unlock());
  // The fence is gone with the grant; unfenced writes pass again.
  EXPECT_CODE(mb.Put("jobs/42/state", "late", IfFence(guard)), kFailedPrecondition);
  ASSERT_OK(mb.Clear());
}

TEST_F(PrefixLockTest, FenceOnlyOptionsAreCheckedBeforeSending) {
  StrMap ma = Open(a_);
  a_->clear_calls();
  EXPECT_CODE(ma.Insert("k", "v", IfVersion(3)), kInvalidArgument);
  EXPECT_CODE(ma.Clear(IfVersion(3)), kInvalidArgument);
  EXPECT_CODE(ma.RemovePrefix("k", WriteOptions().Ephemeral()), kInvalidArgument);
  EXPECT_CODE(ma.UnlockPrefix("k", IfFence("jobs", Fence{1})), kInvalidArgument);
  int n = 0;
  for (const auto& l : ma.PrefixLocks(WithPrefix("x"))) {
    EXPECT_CODE(l, kInvalidArgument);
    ++n;
  }
  EXPECT_EQ(n, 1);
  EXPECT_TRUE(a_->calls().empty());
}

TEST_F(PrefixLockTest, LockPrefixFailsAtTheDeadlineAndLeavesNoGrantBehind) {
  StrMap ma = Open(a_), mb = Open(b_);
  ASSERT_OK_AND_ASSIGN(PrefixLockGuard held, ma.LockPrefix("a/"));
  EXPECT_CODE(mb.LockPrefix("a/1", WithTimeout(milliseconds(100))), kDeadlineExceeded);
  EXPECT_EQ(broker_->waiting(), 0u);
  ASSERT_OK(held.Unlock());
  EXPECT_TRUE(Held(ma).empty());  // b's abandoned request was not granted
}

TEST_F(PrefixLockTest, CancelledLockPrefixReturnsAtOnce) {
  StrMap ma = Open(a_), mb = Open(b_);
  ASSERT_OK_AND_ASSIGN(PrefixLockGuard held, ma.LockPrefix("a/"));
  std::stop_source stop;
  auto b_got = std::async(std::launch::async,
                          [&] { return mb.LockPrefix("a/", WithCancel(stop.get_token())); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  stop.request_stop();
  ASSERT_EQ(b_got.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_CODE(b_got.get(), kCancelled);
  EXPECT_EQ(broker_->waiting(), 0u);
}

TEST_F(PrefixLockTest, WaitersAreGrantedInOrderAndSessionEndReleasesAtOnce) {
  StrMap ma = Open(a_), mb = Open(b_), mc = Open(c_);
  ASSERT_OK_AND_ASSIGN(PrefixLockGuard guard, ma.LockPrefix("q/1"));
  ASSERT_OK(ma.LockPrefixAsync("r/").get());  // a second lock of a's session
  bool told = false;
  std::stop_callback on_lost(guard.stop_token(), [&] { told = true; });
  // (The fake core answers in the calling thread: wait from others.)
  auto parent = std::async(std::launch::async, [&] { return mb.LockPrefixAsync("q/").get(); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  auto child = std::async(std::launch::async, [&] { return mc.LockPrefixAsync("q/2").get(); });
  ASSERT_TRUE(broker_->AwaitWaiting(2));  // behind the parent

  ASSERT_OK(a_->CloseSession());
  const int64_t closed_at = a_->revision();
  EXPECT_TRUE(told);
  EXPECT_TRUE(guard.stop_token().stop_requested());
  ASSERT_OK_AND_ASSIGN(PrefixLock got, parent.get());
  EXPECT_EQ(got.fence.version, closed_at);  // granted in the session-end step
  EXPECT_EQ(got.session_id, b_->session_id());
  EXPECT_EQ(broker_->waiting(), 1u);
  EXPECT_EQ(Held(mb), std::vector<std::string>{"q/"});

  PrefixLockGuard parent_guard(mb.core(), got);
  ASSERT_OK(parent_guard.Unlock());
  ASSERT_OK_AND_ASSIGN(PrefixLock second, child.get());
  EXPECT_EQ(second.prefix, "q/2");
}

TEST_F(PrefixLockTest, UnlockPrefixByFenceAndItsErrors) {
  StrMap ma = Open(a_), mb = Open(b_);
  absl::Status none = mb.UnlockPrefix("p/");
  EXPECT_CODE(none, kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(none), 0);
  ASSERT_OK_AND_ASSIGN(PrefixLock grant, ma.LockPrefixAsync("p/").get());
  absl::Status other = mb.UnlockPrefix("p/");
  EXPECT_CODE(other, kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(other), grant.fence.version);
  ASSERT_OK(mb.UnlockPrefixAsync("p/", IfVersion(grant.fence)).get());  // any session
  EXPECT_TRUE(Held(ma).empty());
}

TEST_F(PrefixLockTest, GuardNeverUnlocksALaterHoldersGrant) {
  StrMap ma = Open(a_), mb = Open(b_);
  std::optional<PrefixLockGuard> stale;
  {
    ASSERT_OK_AND_ASSIGN(PrefixLockGuard g, ma.LockPrefix("x/"));
    stale.emplace(std::move(g));
  }
  ASSERT_OK(ma.UnlockPrefix("x/"));
  ASSERT_OK_AND_ASSIGN(PrefixLockGuard now, mb.LockPrefix("x/"));
  EXPECT_CODE(stale->Unlock(), kFailedPrecondition);
  EXPECT_EQ(Held(mb), std::vector<std::string>{"x/"});
}

TEST_F(PrefixLockTest, ListingFollowsPages) {
  StrMap ma = Open(a_);
  std::vector<PrefixLockGuard> guards;
  for (const char* p : {"c", "a", "b"}) {
    ASSERT_OK_AND_ASSIGN(PrefixLockGuard g, ma.LockPrefix(p));
    guards.push_back(std::move(g));
  }
  ListOptions one;
  one.page_size = 1;
  std::vector<PrefixLock> seen;
  for (const auto& l : ma.PrefixLocks(one)) {
    ASSERT_OK(l);
    seen.push_back(*l);
  }
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].prefix, "a");
  EXPECT_EQ(seen[0].fence, guards[1].fence());
  EXPECT_EQ(seen[0].session_id, a_->session_id());
  EXPECT_EQ(seen[2].prefix, "c");
}

}  // namespace
}  // namespace atomix
