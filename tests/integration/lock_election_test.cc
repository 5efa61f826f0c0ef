// Lock, fencing and Election through the public SDK against a real broker,
// with two clients (two sessions) in one process.
#include <gtest/gtest.h>

#include <signal.h>

#include <future>
#include <thread>

#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class LockElection : public BrokerTest {
 protected:
  Client Second() {
    auto c = Client::Connect(OptionsFor(broker()));
    EXPECT_TRUE(c.ok()) << c.status();
    return *c;
  }
};

TEST_F(LockElection, WaiterGetsAHigherFenceAndTheOldFenceIsRefused) {
  Client other = Second();
  auto a = GetLock(client(), "db");
  auto b = GetLock(other, "db");
  auto table = GetMap<std::string, std::string>(client(), "table");
  ASSERT_TRUE(a.ok() && b.ok() && table.ok());

  auto fa = a->Acquire();
  ASSERT_TRUE(fa.ok()) << fa.status();
  auto waiting = std::async(std::launch::async, [&] { return b->Acquire(WithTimeout(seconds(10))); });
  EXPECT_EQ(waiting.wait_for(milliseconds(300)), std::future_status::timeout);  // FIFO: b waits

  EXPECT_TRUE(table->Put("row", "from a", IfFence(*a, *fa)).ok());
  ASSERT_TRUE(a->Release().ok());

  auto fb = waiting.get();
  ASSERT_TRUE(fb.ok()) << fb.status();
  EXPECT_GT(fb->version, fa->version);

  // a's grant is over: its fenced write is refused, naming b's fence.
  auto stale = table->Put("row", "late write from a", IfFence(*a, *fa));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition) << stale.status();
  EXPECT_EQ(CurrentVersion(stale.status()), fb->version);
  auto row = table->Get("row");
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->value, "from a");
}

TEST_F(LockElection, ClosingTheHoldersSessionHandsTheLockOver) {
  std::optional<Client> holder(Second());
  std::optional<Lock> mine;
  {
    auto l = GetLock(*holder, "job");
    ASSERT_TRUE(l.ok());
    mine.emplace(*l);
  }
  auto held = mine->Acquire();
  ASSERT_TRUE(held.ok()) << held.status();

  auto theirs = GetLock(client(), "job");
  ASSERT_TRUE(theirs.ok());
  auto waiting =
      std::async(std::launch::async, [&] { return theirs->Acquire(WithTimeout(seconds(10))); });
  EXPECT_EQ(waiting.wait_for(milliseconds(200)), std::future_status::timeout);
  mine.reset();
  holder.reset();  // closes the session
  auto next = waiting.get();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_GT(next->version, held->version);
}

TEST_F(LockElection, ExpiredSessionFiresTheGuardsStopToken) {
  auto lock = GetLock(client(), "guarded");
  ASSERT_TRUE(lock.ok());
  auto guard = LockGuard::Acquire(*lock);
  ASSERT_TRUE(guard.ok()) << guard.status();
  std::stop_token lost = guard->stop_token();
  EXPECT_FALSE(lost.stop_requested());

  kill(broker().pid(), SIGUSR1);  // the broker expires every session

  auto until = std::chrono::steady_clock::now() + seconds(15);
  while (!lost.stop_requested() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(lost.stop_requested());
  // The client carries on with a new session, and the lock is free again.
  auto again = lock->Acquire(WithTimeout(seconds(10)));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_GT(again->version, guard->fence().version);
}

TEST_F(LockElection, LeaderChangesRaiseTheTerm) {
  std::optional<Client> other(Second());
  auto ea = GetElection(client(), "scheduler", WithCandidateID("node-a"));
  std::optional<Election> eb;
  {
    auto e = GetElection(*other, "scheduler", WithCandidateID("node-b"));
    ASSERT_TRUE(e.ok());
    eb.emplace(*e);
  }
  ASSERT_TRUE(ea.ok());
  auto t1 = ea->Enter();
  ASSERT_TRUE(t1.ok()) << t1.status();
  EXPECT_EQ(t1->leader, "node-a");
  auto t2 = eb->Enter();
  ASSERT_TRUE(t2.ok()) << t2.status();
  EXPECT_EQ(t2->leader, "node-a");
  EXPECT_EQ(t2->term, t1->term);  // no leader change, no new term
  EXPECT_EQ(t2->candidates, (std::vector<std::string>{"node-a", "node-b"}));

  auto t3 = ea->Leave();
  ASSERT_TRUE(t3.ok()) << t3.status();
  EXPECT_EQ(t3->leader, "node-b");
  EXPECT_GT(t3->term, t2->term);

  ASSERT_TRUE(ea->Enter().ok());
  eb.reset();
  other.reset();  // node-b's session ends: node-a leads again
  auto t4 = ea->GetTerm();
  ASSERT_TRUE(t4.ok());
  EXPECT_EQ(t4->leader, "node-a");
  EXPECT_GT(t4->term, t3->term);
}

}  // namespace
}  // namespace atomix::testing
