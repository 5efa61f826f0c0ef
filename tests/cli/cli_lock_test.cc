// atomix lock and atomix elect: CMD runs while the lock or leadership is
// held, gets its fence or term, and is stopped when that is lost.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tests/cli/cli_fixture.h"
#include "tests/support/process.h"

namespace atomix::testing {
namespace {

using std::chrono::seconds;

// Waits (up to a generous bound) until `done` holds.
template <class F>
bool Eventually(F done) {
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

class CliLockTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    dir_ = MakeTempDir("atomix-cli-lock");
  }
  void TearDown() override {
    std::system(("rm -rf '" + dir_ + "'").c_str());
  }
  std::string Path(const std::string& name) { return dir_ + "/" + name; }
  void Touch(const std::string& name) { std::ofstream(Path(name)) << ""; }
  // Whether some session of the broker waits for an answer (a lock).
  bool SomeoneWaits() {
    CliResult r = Atomix({"-o", "json", "sessions", "list"});
    return r.out.find("\"waiting\":1,") != std::string::npos;
  }
  std::string dir_;
};

TEST_F(CliLockTest, CmdGetsTheFenceAndItsExitCodeIsAtomixs) {
  CliResult r = Atomix({"lock", "db", "--", "sh", "-c", "echo fence=$ATOMIX_FENCE lock=$ATOMIX_LOCK; exit 7"});
  EXPECT_EQ(r.code, 7) << r.err;
  EXPECT_EQ(r.out, "fence=1 lock=db\n");
  EXPECT_EQ(r.err, "");
  // The lock was released when CMD ended.
  auto lock = GetLock(client(), "db");
  ASSERT_TRUE(lock.ok());
  EXPECT_FALSE(*lock->IsLocked());
  r = Atomix({"lock", "db", "--", "sh", "-c", "echo $ATOMIX_FENCE"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "3\n");  // granted at 1, released at 2
  r = Atomix({"lock", "db", "--", "/nonexistent/cmd"});
  EXPECT_EQ(r.code, 127);
  EXPECT_EQ(r.err, "atomix: cannot run '/nonexistent/cmd': No such file or directory\n");
}

TEST_F(CliLockTest, ASecondLockWaitsUntilTheFirstCmdExits) {
  const std::string log = Path("log");
  auto first = CliProcess::Start(Args(
      {"lock", "db", "--", "sh", "-c",
       absl::StrCat("echo first-in >>", log, "; while [ ! -e ", Path("gate"),
                    " ]; do sleep 0.02; done; echo first-out >>", log)}));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(Eventually([&] { return ReadFile(log) == "first-in\n"; }));
  auto second = CliProcess::Start(
      Args({"lock", "db", "--", "sh", "-c", absl::StrCat("echo second-in >>", log)}));
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(Eventually([&] { return SomeoneWaits(); }));  // queued behind the first
  EXPECT_EQ(ReadFile(log), "first-in\n");
  // The first atomix's session holds the lock at fence 1; the second waits.
  CliResult held = Atomix({"-o", "json", "locks", "list"});
  EXPECT_TRUE(std::regex_match(
      held.out, std::regex("\\{\"name\":\"db\",\"holder\":\"([0-9]+)\",\"fence\":1,\"waiting\":1,"
                           "\"summary\":\"held by session \\1 \\(fence 1\\), 1 waiting\"\\}\n")))
      << held.out;
  Touch("gate");
  EXPECT_EQ((*first)->Wait(), 0) << (*first)->err();
  EXPECT_EQ((*second)->Wait(), 0) << (*second)->err();
  EXPECT_EQ(ReadFile(log), "first-in\nfirst-out\nsecond-in\n");
}

TEST_F(CliLockTest, WaitGivesUpWithExitOne) {
  auto lock = GetLock(client(), "db");
  ASSERT_TRUE(lock.ok());
  ASSERT_TRUE(lock->Acquire().ok());
  CliResult r = Atomix({"lock", "db", "--wait", "300ms", "--", "sh", "-c", "echo ran"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "atomix: lock db: not granted within 300ms\n");
  auto held = lock->IsLocked(WithVersion(1));  // still ours, and no grant left behind
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(*held);
}

TEST_F(CliLockTest, CtrlCWhileWaitingGivesUpTheWait) {
  auto lock = GetLock(client(), "db");
  ASSERT_TRUE(lock.ok());
  ASSERT_TRUE(lock->Acquire().ok());
  auto p = CliProcess::Start(Args({"lock", "db", "--", "sh", "-c", "echo ran"}));
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(Eventually([&] { return SomeoneWaits(); }));
  (*p)->Signal(SIGINT);
  EXPECT_EQ((*p)->Wait(), 130);
  EXPECT_EQ((*p)->out(), "");
  ASSERT_TRUE(lock->Release().ok());  // nobody was waiting any more
  auto again = lock->IsLocked();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

TEST_F(CliLockTest, AKilledCmdExits137AndFreesTheLockAtOnce) {
  auto p = CliProcess::Start(Args({"lock", "db", "--", "sh", "-c",
                                   absl::StrCat("echo $$ >", Path("pid"), "; exec sleep 600")}));
  ASSERT_TRUE(p.ok());
  int pid = 0;
  ASSERT_TRUE(Eventually([&] {
    return absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(Path("pid"))), &pid) && pid > 0;
  }));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  EXPECT_EQ((*p)->Wait(), 137);
  auto lock = GetLock(client(), "db");
  ASSERT_TRUE(lock.ok());
  auto fence = lock->TryAcquire();  // no waiting for a session to expire
  ASSERT_TRUE(fence.ok()) << fence.status();
  EXPECT_TRUE(fence->has_value());
}

TEST_F(CliLockTest, ABrokerKilledWhileCmdRunsLosesTheLockAndStopsCmd) {
  auto p = CliProcess::Start(Args(
      {"lock", "db", "--session-ttl", "1s", "--", "sh", "-c",
       "trap 'echo got-term; exit 0' TERM; echo running; while :; do sleep 0.05; done"}));
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->WaitForOut("running\n"));
  broker().Kill(SIGKILL);  // memory store: the session and its lock are gone
  EXPECT_EQ((*p)->Wait(), 4) << (*p)->err();
  EXPECT_EQ((*p)->out(), "running\ngot-term\n");
  EXPECT_EQ((*p)->err(),
            "atomix: lock db: lost while the command ran (fence 1); the command was stopped\n");
}

TEST_F(CliLockTest, ElectRunsCmdOnTheLeaderAndPassesLeadershipOn) {
  const std::string log = Path("log");
  auto a = CliProcess::Start(Args(
      {"elect", "sched", "a", "--", "sh", "-c",
       absl::StrCat("echo a-leads $ATOMIX_TERM $ATOMIX_CANDIDATE >>", log, "; while [ ! -e ",
                    Path("gate"), " ]; do sleep 0.02; done")}));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(Eventually([&] { return ReadFile(log) == "a-leads 1 a\n"; }));
  auto b = CliProcess::Start(Args({"elect", "sched", "b", "--", "sh", "-c",
                                   absl::StrCat("echo b-leads $ATOMIX_TERM >>", log, "; exit 3")}));
  ASSERT_TRUE(b.ok());
  auto election = GetElection(client(), "sched");
  ASSERT_TRUE(election.ok());
  ASSERT_TRUE(Eventually([&] {
    auto t = election->GetTerm();
    return t.ok() && t->candidates == std::vector<std::string>{"a", "b"};
  }));
  EXPECT_EQ(ReadFile(log), "a-leads 1 a\n");
  Touch("gate");
  EXPECT_EQ((*a)->Wait(), 0) << (*a)->err();
  EXPECT_EQ((*b)->Wait(), 3) << (*b)->err();
  EXPECT_EQ(ReadFile(log), "a-leads 1 a\nb-leads 3\n");  // a left at revision 3
  auto t = election->GetTerm();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->leader, "");  // both left
}

TEST_F(CliLockTest, ElectStopsCmdWhenLeadershipIsLost) {
  auto a = CliProcess::Start(Args(
      {"elect", "sched", "a", "--", "sh", "-c",
       "trap 'echo got-term; exit 0' TERM; echo leading; while :; do sleep 0.05; done"}));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE((*a)->WaitForOut("leading\n"));
  auto election = GetElection(client(), "sched");
  ASSERT_TRUE(election.ok());
  ASSERT_TRUE(election->Evict("a").ok());
  EXPECT_EQ((*a)->Wait(), 4);
  EXPECT_EQ((*a)->out(), "leading\ngot-term\n");
  EXPECT_EQ((*a)->err(),
            "atomix: elect sched: leadership of term 1 was lost while the command ran; the "
            "command was stopped\n");
}

}  // namespace
}  // namespace atomix::testing
