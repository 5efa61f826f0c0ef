// Failure of a whole client process: the holder of a lock, or the leader of
// an election, is killed with SIGKILL. Its session expires after its TTL and
// the waiter takes over with a higher fence (or term), within TTL + 1 s.
#include <gtest/gtest.h>

#include <signal.h>

#include <future>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tests/support/client_process.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr int kTtlMs = 2000;

// "word N ..." -> N
int64_t SecondNumber(const std::string& line) {
  std::vector<std::string> parts = absl::StrSplit(line, ' ');
  int64_t n = 0;
  EXPECT_TRUE(parts.size() >= 2 && absl::SimpleAtoi(parts[1], &n)) << line;
  return n;
}

class Takeover : public BrokerTest {};

TEST_F(Takeover, LockPassesToTheWaiterAfterTheHolderIsKilled) {
  auto holder = ClientProcess::Start({broker().endpoint(), std::to_string(kTtlMs), "lock", "db"});
  ASSERT_TRUE(holder.ok()) << holder.status();
  auto line = (*holder)->ReadLine(seconds(15));
  ASSERT_TRUE(line.ok()) << line.status();
  const int64_t old_fence = SecondNumber(*line);
  ASSERT_GT(old_fence, 0);

  auto lock = GetLock(client(), "db");
  auto table = GetMap<std::string, std::string>(client(), "table");
  ASSERT_TRUE(lock.ok() && table.ok());
  auto waiting = std::async(std::launch::async, [&] { return lock->Acquire(WithTimeout(seconds(20))); });
  EXPECT_EQ(waiting.wait_for(milliseconds(300)), std::future_status::timeout);

  const auto killed_at = steady_clock::now();
  (*holder)->Kill(SIGKILL);
  auto fence = waiting.get();
  const auto took = steady_clock::now() - killed_at;
  ASSERT_TRUE(fence.ok()) << fence.status();
  EXPECT_GT(fence->version, old_fence);
  EXPECT_LT(took, milliseconds(kTtlMs + 1000));

  // A write fenced with the dead holder's fence is refused.
  auto stale = table->Put("row", "from the dead holder", IfFence("db", Fence{old_fence}));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition) << stale.status();
  EXPECT_EQ(CurrentVersion(stale.status()), fence->version);
}

TEST_F(Takeover, ElectionMovesToTheNextCandidateWithAHigherTerm) {
  auto leader =
      ClientProcess::Start({broker().endpoint(), std::to_string(kTtlMs), "elect", "sched", "node-1"});
  ASSERT_TRUE(leader.ok()) << leader.status();
  auto line = (*leader)->ReadLine(seconds(15));
  ASSERT_TRUE(line.ok()) << line.status();
  const int64_t first_term = SecondNumber(*line);

  auto follower =
      ClientProcess::Start({broker().endpoint(), std::to_string(kTtlMs), "elect", "sched", "node-2"});
  ASSERT_TRUE(follower.ok()) << follower.status();
  ASSERT_TRUE((*follower)->ReadLine(seconds(15)).ok());

  // This process reads the term once; a third process watches it.
  auto observer = GetElection(client(), "sched", WithCandidateID("observer"));
  ASSERT_TRUE(observer.ok());
  auto before = observer->GetTerm();
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->leader, "node-1");
  EXPECT_EQ(before->term, first_term);
  auto watcher = ClientProcess::Start(
      {broker().endpoint(), std::to_string(kTtlMs), "watch-election", "sched"});
  ASSERT_TRUE(watcher.ok()) << watcher.status();
  auto watching = (*watcher)->ReadLine(seconds(15));
  ASSERT_TRUE(watching.ok()) << watching.status();
  ASSERT_EQ(*watching, "watching");

  // The watch delivers the next term, and only that: the old leader's
  // session expires, and in that one step node-2 leads alone. Terms are
  // revisions, so the next term is higher than the first, not necessarily
  // by one.
  const auto killed_at = steady_clock::now();
  (*leader)->Kill(SIGKILL);
  auto next = (*watcher)->ReadLine(milliseconds(kTtlMs + 3000));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_LT(steady_clock::now() - killed_at, milliseconds(kTtlMs + 1000));
  const std::vector<std::string> parts = absl::StrSplit(*next, ' ');
  ASSERT_EQ(parts.size(), 6u) << *next;
  EXPECT_EQ(parts[0], "term");
  EXPECT_GT(SecondNumber(*next), first_term) << *next;
  EXPECT_EQ(parts[2], "leader");
  EXPECT_EQ(parts[3], "node-2") << *next;
  EXPECT_EQ(parts[4], "candidates");
  EXPECT_EQ(parts[5], "node-2") << *next;

  // It agrees with a read, and the watch saw no other term in between.
  auto now = observer->GetTerm();
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->term, SecondNumber(*next));
  EXPECT_FALSE((*watcher)->ReadLine(milliseconds(200)).ok());
}

}  // namespace
}  // namespace atomix::testing
