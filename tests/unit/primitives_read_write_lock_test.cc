// ReadWriteLock and ReadWriteLockGuard over an in-process broker, with one
// fake core (one session) per client.
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "atomix/counter.h"
#include "atomix/read_write_lock.h"
#include "atomix/status.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using std::chrono::milliseconds;
using testing::FakeBroker;
using testing::FakeClientCore;

class ReadWriteLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* core : {&a_, &b_, &c_}) {
      *core = std::make_shared<FakeClientCore>(broker_);
      ASSERT_OK((*core)->session_status());
    }
  }

  ReadWriteLock Open(const std::shared_ptr<FakeClientCore>& core, const std::string& name = "rw") {
    auto lock = internal::GetReadWriteLock(core, name);
    EXPECT_OK(lock);
    return *std::move(lock);
  }

  std::shared_ptr<FakeBroker> broker_ = std::make_shared<FakeBroker>();
  std::shared_ptr<FakeClientCore> a_, b_, c_;
};

TEST_F(ReadWriteLockTest, ReadersShareWithTheirOwnFences) {
  ReadWriteLock ra = Open(a_), rb = Open(b_);
  EXPECT_EQ(ra.name(), "rw");
  EXPECT_EQ(a_->calls().front().request.type(), v1::READ_WRITE_LOCK);
  ASSERT_OK_AND_ASSIGN(Fence first, ra.AcquireRead());
  EXPECT_EQ(first.version, a_->revision());
  const v1::Request sent = a_->calls().back().request;
  EXPECT_EQ(sent.read_write_lock().acquire().mode(), v1::READ);
  EXPECT_FALSE(sent.read_write_lock().acquire().try_only());
  EXPECT_EQ(sent.session_id(), a_->session_id());
  EXPECT_GT(sent.timeout_ms(), 8000);  // the default call timeout, less a margin
  EXPECT_FALSE(a_->calls().back().idempotent);

  ASSERT_OK_AND_ASSIGN(Fence second, rb.AcquireRead());
  EXPECT_EQ(second.version, first.version + 1);
  ASSERT_OK_AND_ASSIGN(ReadWriteLockInfo info, ra.Get());
  EXPECT_EQ(info.mode, ReadWriteLockMode::kRead);
  EXPECT_EQ(info.readers, 2);
  EXPECT_EQ(info.writer_fence, 0);
  EXPECT_TRUE(info.locked);
  EXPECT_EQ(info.waiters, 0);
  EXPECT_TRUE(a_->calls().back().idempotent);
  ASSERT_OK_AND_ASSIGN(bool locked, ra.IsLocked(WithVersion(first.version)));
  EXPECT_TRUE(locked);

  ASSERT_OK(ra.ReleaseRead());
  EXPECT_EQ(a_->calls().back().request.read_write_lock().release().mode(), v1::READ);
  ASSERT_OK_AND_ASSIGN(locked, ra.IsLocked(WithVersion(first.version)));
  EXPECT_FALSE(locked);
  ASSERT_OK(rb.ReleaseRead(IfVersion(second)));
  ASSERT_OK_AND_ASSIGN(info, ra.Get());
  EXPECT_EQ(info.mode, ReadWriteLockMode::kNone);
  EXPECT_FALSE(info.locked);
}

TEST_F(ReadWriteLockTest, AWaitingWriterHoldsBackLaterReaders) {
  ReadWriteLock ra = Open(a_), rb = Open(b_), rc = Open(c_);
  ASSERT_OK(ra.AcquireRead());
  auto writer = std::async(std::launch::async, [&] { return rb.AcquireWrite(); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  ASSERT_OK_AND_ASSIGN(std::optional<Fence> none, rc.TryAcquireRead());
  EXPECT_FALSE(none.has_value());  // only readers hold, but a writer waits
  auto reader = std::async(std::launch::async, [&] { return rc.AcquireRead(); });
  ASSERT_TRUE(broker_->AwaitWaiting(2));
  ASSERT_OK_AND_ASSIGN(ReadWriteLockInfo info, ra.Get());
  EXPECT_EQ(info.waiters, 2);

  ASSERT_OK(ra.ReleaseRead());
  const int64_t released = a_->revision();
  ASSERT_OK_AND_ASSIGN(Fence w, writer.get());
  EXPECT_EQ(w.version, released);  // granted in the release's step
  EXPECT_EQ(reader.wait_for(milliseconds(50)), std::future_status::timeout);
  ASSERT_OK(rb.ReleaseWrite());
  ASSERT_OK_AND_ASSIGN(Fence r, reader.get());
  EXPECT_EQ(r.version, w.version + 1);
}

TEST_F(ReadWriteLockTest, TryAcquireNeverWaits) {
  ReadWriteLock ra = Open(a_), rb = Open(b_);
  ASSERT_OK_AND_ASSIGN(std::optional<Fence> got, ra.TryAcquireWrite());
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(a_->calls().back().request.read_write_lock().acquire().try_only());
  const int64_t before = b_->revision();
  ASSERT_OK_AND_ASSIGN(std::optional<Fence> none, rb.TryAcquireRead());
  EXPECT_FALSE(none.has_value());
  ASSERT_OK_AND_ASSIGN(none, rb.TryAcquireWrite());
  EXPECT_FALSE(none.has_value());
  EXPECT_EQ(b_->revision(), before);
  ASSERT_OK(ra.ReleaseWrite());
  ASSERT_OK_AND_ASSIGN(got, rb.TryAcquireRead());
  EXPECT_TRUE(got.has_value());
}

TEST_F(ReadWriteLockTest, AcquireFailsAtTheDeadlineOrOnCancelAndLeavesNothing) {
  ReadWriteLock ra = Open(a_), rb = Open(b_);
  ASSERT_OK(ra.AcquireWrite());
  EXPECT_CODE(rb.AcquireRead(WithTimeout(milliseconds(100))), kDeadlineExceeded);
  EXPECT_EQ(broker_->waiting(), 0u);

  std::stop_source stop;
  auto got =
      std::async(std::launch::async, [&] { return rb.AcquireWrite(WithCancel(stop.get_token())); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  stop.request_stop();
  ASSERT_EQ(got.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_CODE(got.get(), kCancelled);

  ASSERT_OK(ra.ReleaseWrite());
  ASSERT_OK_AND_ASSIGN(ReadWriteLockInfo info, rb.Get());
  EXPECT_FALSE(info.locked);  // neither abandoned acquire was granted
  EXPECT_EQ(info.waiters, 0);
}

TEST_F(ReadWriteLockTest, BrokerTimesOutAWaiterWithTheSentTimeout) {
  ReadWriteLock ra = Open(a_), rb = Open(b_);
  ASSERT_OK(ra.AcquireRead());
  auto got = std::async(std::launch::async,
                        [&] { return rb.AcquireWrite(WithTimeout(std::chrono::seconds(5))); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  broker_->Advance(absl::Milliseconds(4800));
  ASSERT_EQ(got.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_CODE(got.get(), kDeadlineExceeded);
}

TEST_F(ReadWriteLockTest, NoUpgradeAReaderAskingToWriteWaitsForItself) {
  ReadWriteLock ra = Open(a_);
  ASSERT_OK(ra.AcquireRead());
  EXPECT_CODE(ra.AcquireWrite(WithTimeout(milliseconds(100))), kDeadlineExceeded);
  ASSERT_OK(ra.ReleaseRead());
  EXPECT_OK(ra.AcquireWrite(WithTimeout(milliseconds(100))));
}

TEST_F(ReadWriteLockTest, ReleaseNeedsAGrantOfThatModeAndFence) {
  ReadWriteLock ra = Open(a_), rb = Open(b_);
  ASSERT_OK_AND_ASSIGN(Fence w, ra.AcquireWrite());
  absl::Status not_mine = rb.ReleaseWrite();
  EXPECT_CODE(not_mine, kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(not_mine), w.version);
  EXPECT_NE(not_mine.message().find("no WRITE grant of session"), std::string::npos)
      << not_mine.message();
  EXPECT_CODE(ra.ReleaseRead(), kFailedPrecondition);
  EXPECT_CODE(ra.ReleaseWrite(IfVersion(w.version + 1)), kFailedPrecondition);
  EXPECT_CODE(ra.ReleaseWrite(WithEphemeral()), kInvalidArgument);
  EXPECT_CODE(ra.ReleaseRead(IfFence("rw", w)), kInvalidArgument);
  ASSERT_OK(ra.ReleaseWrite(IfVersion(w)));
  EXPECT_EQ(a_->calls().back().request.read_write_lock().release().if_version(), w.version);
  absl::Status again = ra.ReleaseWrite();
  EXPECT_EQ(CurrentVersion(again), 0);
}

TEST_F(ReadWriteLockTest, GuardsReleaseTheirOwnGrantOnScopeExit) {
  ReadWriteLock ra = Open(a_), rb = Open(b_);
  Fence first;
  {
    ASSERT_OK_AND_ASSIGN(ReadWriteLockGuard one, ReadWriteLockGuard::AcquireRead(ra));
    ASSERT_OK_AND_ASSIGN(ReadWriteLockGuard two, ReadWriteLockGuard::AcquireRead(ra));
    first = one.fence();
    EXPECT_EQ(one.mode(), ReadWriteLockMode::kRead);
    EXPECT_TRUE(one.owns_lock());
    EXPECT_FALSE(one.stop_token().stop_requested());
    EXPECT_EQ(IfFence(one).if_fence, (FenceRef{"rw", first.version}));
    EXPECT_EQ(IfFence(ra, first).if_fence, (FenceRef{"rw", first.version}));
    ReadWriteLockGuard moved = std::move(one);
    EXPECT_FALSE(one.owns_lock());  // NOLINT: checking the moved-from state
    ASSERT_OK_AND_ASSIGN(ReadWriteLockInfo info, rb.Get());
    EXPECT_EQ(info.readers, 2);
    ASSERT_OK_AND_ASSIGN(std::optional<ReadWriteLockGuard> none,
                         ReadWriteLockGuard::TryAcquireWrite(rb));
    EXPECT_FALSE(none.has_value());
    // The newer grant goes first, by its own fence.
    ASSERT_OK(two.Release());
    EXPECT_EQ(a_->calls().back().request.read_write_lock().release().if_version(),
              two.fence().version);
    ASSERT_OK_AND_ASSIGN(bool first_holds, rb.IsLocked(WithVersion(first.version)));
    EXPECT_TRUE(first_holds);
  }
  const v1::Request last = a_->calls().back().request;
  EXPECT_EQ(last.read_write_lock().release().mode(), v1::READ);
  EXPECT_EQ(last.read_write_lock().release().if_version(), first.version);
  ASSERT_OK_AND_ASSIGN(std::optional<ReadWriteLockGuard> w,
                       ReadWriteLockGuard::TryAcquireWrite(rb));
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->mode(), ReadWriteLockMode::kWrite);
  ASSERT_OK(w->Release());
  EXPECT_EQ(b_->calls().back().request.read_write_lock().release().mode(), v1::WRITE);
  EXPECT_OK(w->Release());  // already released: nothing to do
}

TEST_F(ReadWriteLockTest, SessionCloseReleasesEveryGrantAndStopsTheGuardToken) {
  ReadWriteLock ra = Open(a_), rb = Open(b_);
  ASSERT_OK_AND_ASSIGN(ReadWriteLockGuard one, ReadWriteLockGuard::AcquireRead(ra));
  ASSERT_OK(ra.AcquireRead());
  bool told = false;
  std::stop_callback on_lost(one.stop_token(), [&] { told = true; });
  auto writer = std::async(std::launch::async, [&] { return rb.AcquireWrite(); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  ASSERT_OK(a_->CloseSession());
  const int64_t closed_at = a_->revision();
  EXPECT_TRUE(told);
  ASSERT_OK_AND_ASSIGN(Fence w, writer.get());
  EXPECT_EQ(w.version, closed_at);  // both read grants went in that one step
}

TEST_F(ReadWriteLockTest, WaiterWhoseSessionEndsIsAborted) {
  ReadWriteLock ra = Open(a_), rb = Open(b_);
  ASSERT_OK(ra.AcquireWrite());
  auto got = std::async(std::launch::async, [&] { return rb.AcquireRead(); });
  ASSERT_TRUE(broker_->AwaitWaiting(1));
  ASSERT_OK(b_->CloseSession());
  EXPECT_CODE(got.get(), kAborted);
}

TEST_F(ReadWriteLockTest, AsyncFormsComplete) {
  ReadWriteLock ra = Open(a_);
  Future<Fence> w = ra.AcquireWriteAsync();
  ASSERT_OK_AND_ASSIGN(Fence fence, w.get());
  ASSERT_OK_AND_ASSIGN(ReadWriteLockInfo info, ra.GetAsync().get());
  EXPECT_EQ(info.writer_fence, fence.version);
  ASSERT_OK_AND_ASSIGN(bool locked, ra.IsLockedAsync().get());
  EXPECT_TRUE(locked);
  ASSERT_OK_AND_ASSIGN(std::optional<Fence> none, ra.TryAcquireReadAsync().get());
  EXPECT_FALSE(none.has_value());
  ASSERT_OK(ra.ReleaseWriteAsync().get());
  ASSERT_OK_AND_ASSIGN(std::optional<Fence> r, ra.TryAcquireWriteAsync().get());
  ASSERT_TRUE(r.has_value());
  ASSERT_OK(ra.ReleaseWriteAsync().get());
  ASSERT_OK(ra.AcquireReadAsync().get());
  ASSERT_OK(ra.ReleaseReadAsync().get());
}

TEST_F(ReadWriteLockTest, OpenChecksNameAndType) {
  EXPECT_CODE(internal::GetReadWriteLock(a_, ""), kInvalidArgument);
  ASSERT_OK(internal::GetCounter(a_, "jobs"));
  absl::StatusOr<ReadWriteLock> wrong = internal::GetReadWriteLock(a_, "jobs");
  EXPECT_CODE(wrong, kFailedPrecondition);
  EXPECT_NE(wrong.status().message().find("not a read-write lock"), std::string::npos)
      << wrong.status().message();
  EXPECT_CODE(internal::GetReadWriteLock(nullptr, "x"), kInvalidArgument);
}

TEST(ReadWriteLockWithoutSessionTest, AcquireAndReleaseNeedASession) {
  auto core = FakeClientCore::Sessionless();
  ASSERT_OK_AND_ASSIGN(ReadWriteLock lock, internal::GetReadWriteLock(core, "rw"));
  absl::StatusOr<Fence> got = lock.AcquireRead();
  EXPECT_CODE(got, kInvalidArgument);
  EXPECT_EQ(got.status().message(), "read-write lock acquire needs a session");
  EXPECT_CODE(lock.ReleaseWrite(), kInvalidArgument);
}

}  // namespace
}  // namespace atomix
