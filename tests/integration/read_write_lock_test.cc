// ReadWriteLock end to end against the real broker: every operation with its
// exact fences and codes, a blocking acquire's deadline and cancellation,
// fenced Map writes, fairness (a writer queued behind readers goes before
// the readers that came after it), and the watch with replay and resume.
#include "atomix/read_write_lock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "atomix/counter.h"
#include "atomix/map.h"
#include "atomix/status.h"
#include "tests/support/test_client.h"
#include "tests/support/wait_until.h"

namespace atomix::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class ReadWriteLockIntegration : public BrokerTest {
 protected:
  // A second client: a session of its own.
  Client Other() {
    auto c = Client::Connect(OptionsFor(broker()));
    EXPECT_TRUE(c.ok()) << c.status();
    return *c;
  }
  ReadWriteLock Open(const Client& c) {
    auto rw = GetReadWriteLock(c, "rw");
    EXPECT_TRUE(rw.ok()) << rw.status();
    return *rw;
  }
  // Waits until `n` acquires wait on `rw`.
  bool AwaitWaiters(const ReadWriteLock& rw, int64_t n) {
    return WaitUntil(
        [&] {
          auto info = rw.Get();
          return info.ok() && info->waiters == n;
        },
        seconds(10));
  }
};

TEST_F(ReadWriteLockIntegration, EveryOperationWithExactFencesAndCodes) {
  Client other = Other();
  ReadWriteLock a = Open(client()), b = Open(other);
  auto r1 = a.AcquireRead();
  ASSERT_TRUE(r1.ok()) << r1.status();
  auto r2 = b.AcquireRead();
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->version, r1->version + 1);  // each grant is its own step
  auto info = a.Get();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->mode, ReadWriteLockMode::kRead);
  EXPECT_EQ(info->readers, 2);
  EXPECT_EQ(info->writer_fence, 0);
  EXPECT_TRUE(a.IsLocked(WithVersion(r1->version)).value_or(false));

  auto try_write = b.TryAcquireWrite();
  ASSERT_TRUE(try_write.ok());
  EXPECT_FALSE(try_write->has_value());

  // Release errors name the problem and carry the writer's fence (0 here).
  absl::Status wrong = a.ReleaseWrite();
  EXPECT_EQ(wrong.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(wrong.message().find("has no WRITE grant of session"), std::string::npos) << wrong;
  EXPECT_EQ(CurrentVersion(wrong), 0);
  EXPECT_EQ(a.ReleaseRead(IfVersion(*r2)).code(), absl::StatusCode::kFailedPrecondition);

  ASSERT_TRUE(a.ReleaseRead(IfVersion(*r1)).ok());
  ASSERT_TRUE(b.ReleaseRead().ok());
  auto w = b.TryAcquireWrite();
  ASSERT_TRUE(w.ok() && w->has_value()) << w.status();
  EXPECT_EQ((*w)->version, r2->version + 3);  // two releases, then this grant
  info = a.Get();
  EXPECT_EQ(info->mode, ReadWriteLockMode::kWrite);
  EXPECT_EQ(info->writer_fence, (*w)->version);
  absl::Status not_writer = a.ReleaseWrite();
  EXPECT_EQ(not_writer.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(not_writer), (*w)->version);
  ASSERT_TRUE(b.ReleaseWrite(IfVersion(**w)).ok());
  EXPECT_FALSE(a.IsLocked().value_or(true));

  // The name is taken by a read-write lock now.
  auto counter = GetCounter(client(), "rw");
  EXPECT_EQ(counter.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetReadWriteLock(client(), "").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ReadWriteLockIntegration, BlockingAcquireHonoursDeadlineAndCancel) {
  Client other = Other();
  ReadWriteLock a = Open(client()), b = Open(other);
  ASSERT_TRUE(a.AcquireRead().ok());
  absl::StatusOr<Fence> late = b.AcquireWrite(WithTimeout(milliseconds(300)));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded) << late.status();
  ASSERT_TRUE(AwaitWaiters(a, 0));

  std::stop_source stop;
  auto cancelled =
      std::async(std::launch::async, [&] { return b.AcquireWrite(WithCancel(stop.get_token())); });
  ASSERT_TRUE(AwaitWaiters(a, 1));
  stop.request_stop();
  ASSERT_EQ(cancelled.wait_for(seconds(5)), std::future_status::ready);
  EXPECT_EQ(cancelled.get().status().code(), absl::StatusCode::kCancelled);
  ASSERT_TRUE(AwaitWaiters(a, 0));  // withdrawn from the broker's queue

  ASSERT_TRUE(a.ReleaseRead().ok());
  auto info = a.Get();
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->locked);  // neither abandoned acquire holds anything
}

TEST_F(ReadWriteLockIntegration, AQueuedWriterGoesBeforeLaterReaders) {
  Client second = Other(), third = Other();
  ReadWriteLock a = Open(client()), b = Open(second), c = Open(third);
  auto first_reader = a.AcquireRead();
  ASSERT_TRUE(first_reader.ok());
  auto writer = std::async(std::launch::async, [&] { return b.AcquireWrite(); });
  ASSERT_TRUE(AwaitWaiters(a, 1));
  auto reader = std::async(std::launch::async, [&] { return c.AcquireRead(); });
  ASSERT_TRUE(AwaitWaiters(a, 2));
  // Only readers hold, yet the later reader waits: the writer is ahead.
  EXPECT_EQ(reader.wait_for(milliseconds(100)), std::future_status::timeout);

  ASSERT_TRUE(a.ReleaseRead().ok());
  auto w = writer.get();
  ASSERT_TRUE(w.ok()) << w.status();
  auto info = a.Get();
  EXPECT_EQ(info->mode, ReadWriteLockMode::kWrite);
  EXPECT_EQ(info->waiters, 1);  // the reader still waits
  ASSERT_TRUE(b.ReleaseWrite().ok());
  auto r = reader.get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->version, w->version);
  EXPECT_GT(w->version, first_reader->version);
}

TEST_F(ReadWriteLockIntegration, FencedMapWritesHoldOnlyWithTheGrant) {
  ReadWriteLock rw = Open(client());
  auto guarded = GetMap<std::string, std::string>(client(), "guarded");
  ASSERT_TRUE(guarded.ok());
  Fence fence;
  {
    auto writing = ReadWriteLockGuard::AcquireWrite(rw);
    ASSERT_TRUE(writing.ok()) << writing.status();
    fence = writing->fence();
    EXPECT_FALSE(writing->stop_token().stop_requested());
    auto put = guarded->Put("k", "v", IfFence(*writing));
    ASSERT_TRUE(put.ok()) << put.status();
    EXPECT_EQ(*put, fence.version + 1);
  }
  auto stale = guarded->Put("k", "late", IfFence(rw, fence));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition) << stale.status();
  EXPECT_EQ(CurrentVersion(stale.status()), 0);
  auto reading = ReadWriteLockGuard::AcquireRead(rw);
  ASSERT_TRUE(reading.ok());
  EXPECT_TRUE(guarded->Put("k", "r", IfFence(*reading)).ok());
}

TEST_F(ReadWriteLockIntegration, WatchReplaysAndFollowsEveryGrant) {
  Client other = Other();
  ReadWriteLock a = Open(client()), b = Open(other);
  auto r1 = a.AcquireRead();
  ASSERT_TRUE(r1.ok());
  auto events = a.Watch(WithReplay());
  ASSERT_TRUE(events.ok()) << events.status();
  auto first = events->Receive(seconds(5));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->type, EventType::kInserted);
  EXPECT_EQ(first->mode, ReadWriteLockMode::kRead);
  ASSERT_EQ(first->holders.size(), 1u);
  EXPECT_EQ(first->holders[0].fence, r1->version);
  EXPECT_EQ(first->holders[0].mode, ReadWriteLockMode::kRead);

  auto writer = std::async(std::launch::async, [&] { return b.AcquireWrite(); });
  ASSERT_TRUE(AwaitWaiters(a, 1));
  ASSERT_TRUE(a.ReleaseRead().ok());
  auto w = writer.get();
  ASSERT_TRUE(w.ok());
  // One step: the reader's grant goes and the writer's comes, at one revision.
  auto removed = events->Receive(seconds(5));
  auto inserted = events->Receive(seconds(5));
  ASSERT_TRUE(removed.has_value() && inserted.has_value());
  EXPECT_EQ(removed->type, EventType::kRemoved);
  EXPECT_EQ(removed->grant.fence, r1->version);
  EXPECT_EQ(removed->readers, 0);
  EXPECT_EQ(inserted->type, EventType::kInserted);
  EXPECT_EQ(inserted->grant.mode, ReadWriteLockMode::kWrite);
  EXPECT_EQ(inserted->grant.fence, w->version);
  EXPECT_EQ(inserted->mode, ReadWriteLockMode::kWrite);
  EXPECT_EQ(removed->revision, w->version);
  EXPECT_EQ(inserted->revision, w->version);

  // Resume from the writer's revision: the same two events again, then the
  // release.
  ASSERT_TRUE(b.ReleaseWrite().ok());
  WatchOptions resume;
  resume.start_version = w->version;
  auto again = a.Watch(resume);
  ASSERT_TRUE(again.ok()) << again.status();
  std::vector<ReadWriteLockEvent> seen;
  for (int i = 0; i < 3; ++i) {
    auto e = again->Receive(seconds(5));
    ASSERT_TRUE(e.has_value()) << i;
    seen.push_back(*e);
  }
  EXPECT_EQ(seen[0], *removed);
  EXPECT_EQ(seen[1], *inserted);
  EXPECT_EQ(seen[2].type, EventType::kRemoved);
  EXPECT_EQ(seen[2].grant.fence, w->version);
  EXPECT_EQ(seen[2].mode, ReadWriteLockMode::kNone);
}

// With a fifth of the broker's answers dropped, B's write grant often
// crosses B giving up at its deadline: the client gives it back, so the
// lock ends up free and B's session holds nothing.
class ReadWriteLockDroppedAnswers : public ReadWriteLockIntegration {
 protected:
  BrokerProcess::Options BrokerOptions() override {
    BrokerProcess::Options o;
    o.args = {"--fault-drop-responses", "0.2", "--fault-seed", "11"};
    return o;
  }
};

TEST_F(ReadWriteLockDroppedAnswers, GrantsThatCrossTheDeadlineAreGivenBack) {
  constexpr int kTries = 10;
  constexpr milliseconds kWait(400);
  Client other = Other();
  int granted = 0;
  for (int i = 0; i < kTries; ++i) {
    const std::string name = "drop-" + std::to_string(i);
    auto a = GetReadWriteLock(client(), name);
    auto b = GetReadWriteLock(other, name);
    ASSERT_TRUE(a.ok() && b.ok());
    auto held = a->AcquireRead(WithTimeout(seconds(5)));
    ASSERT_TRUE(held.ok()) << held.status();
    const auto start = std::chrono::steady_clock::now();
    auto waiting =
        std::async(std::launch::async, [&] { return b->AcquireWrite(WithTimeout(kWait)); });
    // Release around B's deadline.
    std::this_thread::sleep_until(start + kWait - milliseconds(60) + milliseconds(15 * (i % 6)));
    ASSERT_TRUE(a->ReleaseRead(IfVersion(*held)).ok());
    absl::StatusOr<Fence> got = waiting.get();
    if (got.ok()) {
      ++granted;
      ASSERT_TRUE(b->ReleaseWrite(IfVersion(*got)).ok());
    } else {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kDeadlineExceeded) << got.status();
    }
    // Whatever crossed, nothing stays held.
    EXPECT_TRUE(WaitUntil(
        [&] {
          auto info = a->Get();
          return info.ok() && !info->locked && info->waiters == 0;
        },
        seconds(10)))
        << name << " stayed held";
    auto again = b->TryAcquireWrite(WithTimeout(seconds(5)));
    ASSERT_TRUE(again.ok() && again->has_value()) << name;
    ASSERT_TRUE(b->ReleaseWrite(IfVersion(**again)).ok());
  }
  std::printf("B was granted in %d of %d tries\n", granted, kTries);
}

}  // namespace
}  // namespace atomix::testing
