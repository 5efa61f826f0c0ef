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

  // A third process (this one) observes the term.
  auto observer = GetElection(client(), "sched", WithCandidateID("observer"));
  ASSERT_TRUE(observer.ok());
  auto before = observer->GetTerm();
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->leader, "node-1");
  EXPECT_EQ(before->term, first_term);

  const auto killed_at = steady_clock::now();
  (*leader)->Kill(SIGKILL);
  Term now;
  while (steady_clock::now() - killed_at < milliseconds(kTtlMs + 3000)) {
    auto t = observer->GetTerm();
    ASSERT_TRUE(t.ok()) << t.status();
    now = *t;
    if (now.leader != "node-1") break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_LT(steady_clock::now() - killed_at, milliseconds(kTtlMs + 1000));
  EXPECT_EQ(now.leader, "node-2");
  EXPECT_GT(now.term, first_term);
  EXPECT_EQ(now.candidates, std::vector<std::string>{"node-2"});
}

}  // namespace
}  // namespace atomix::testing
