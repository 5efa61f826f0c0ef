// atomix watch / map watch / elect --observe: events in revision order,
// --from replays, and SIGINT ends the watch with exit 0.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/cli/cli_fixture.h"

namespace atomix::testing {
namespace {

TEST_F(CliTest, WatchMapPrintsEventsInOrderAndReplaysFrom) {
  auto map = GetMap<std::string, std::string>(client(), "config");
  ASSERT_TRUE(map.ok());
  ASSERT_EQ(*map->Put("a", "1"), 1);
  ASSERT_EQ(*map->Put("b", "2"), 2);
  ASSERT_EQ(*map->Put("a", "3"), 3);

  auto w = CliProcess::Start(Args({"watch", "map", "config", "--from", "1"}));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE((*w)->WaitForOut("updated")) << (*w)->out() << (*w)->err();
  ASSERT_EQ(*map->Remove("b"), 4);
  ASSERT_TRUE((*w)->WaitForOut("removed")) << (*w)->out() << (*w)->err();
  (*w)->Signal(SIGINT);
  EXPECT_EQ((*w)->Wait(), 0) << (*w)->err();
  EXPECT_EQ((*w)->out(),
            "REVISION  TYPE      KEY  VALUE  PREVIOUS\n"
            "1         inserted  a    1      -\n"
            "2         inserted  b    2      -\n"
            "3         updated   a    3      1\n"
            "4         removed   b    -      2\n");
  EXPECT_EQ((*w)->err(), "");

  // From a later revision, as JSON lines; map watch takes one key.
  auto j = CliProcess::Start(Args({"-o", "json", "map", "watch", "config", "a", "--from", "2"}));
  ASSERT_TRUE(j.ok());
  ASSERT_TRUE((*j)->WaitForOut("\"revision\":3")) << (*j)->out() << (*j)->err();
  (*j)->Signal(SIGTERM);
  EXPECT_EQ((*j)->Wait(), 0);
  EXPECT_EQ((*j)->out(),
            "{\"revision\":3,\"type\":\"updated\",\"key\":\"a\",\"value\":\"3\","
            "\"previous\":\"1\"}\n");
}

TEST_F(CliTest, WatchCounterAndLock) {
  auto counter = GetCounter(client(), "jobs");
  ASSERT_TRUE(counter.ok());
  ASSERT_EQ(counter->Increment(5)->version, 1);
  auto w = CliProcess::Start(Args({"-o", "json", "watch", "counter", "jobs", "--from", "1"}));
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->WaitForOut("\"revision\":1"));
  ASSERT_EQ(counter->Increment(2)->version, 2);
  ASSERT_TRUE((*w)->WaitForOut("\"revision\":2"));
  (*w)->Signal(SIGINT);
  EXPECT_EQ((*w)->Wait(), 0);
  EXPECT_EQ((*w)->out(),
            "{\"revision\":1,\"type\":\"updated\",\"value\":5,\"previous\":0}\n"
            "{\"revision\":2,\"type\":\"updated\",\"value\":7,\"previous\":5}\n");

  auto lock = GetLock(client(), "db");
  ASSERT_TRUE(lock.ok());
  auto fence = lock->Acquire();
  ASSERT_TRUE(fence.ok());
  ASSERT_EQ(fence->version, 3);
  ASSERT_TRUE(lock->Release().ok());
  auto l = CliProcess::Start(Args({"watch", "lock", "db", "--from", "3"}));
  ASSERT_TRUE(l.ok());
  ASSERT_TRUE((*l)->WaitForOut("removed"));
  (*l)->Signal(SIGINT);
  EXPECT_EQ((*l)->Wait(), 0);
  const std::string session = std::to_string(client().session_id());
  EXPECT_EQ((*l)->out(), "REVISION  TYPE      FENCE  SESSION\n"
                         "3         inserted  3      " + session + "\n"
                         "4         removed   0      0\n");
}

TEST_F(CliTest, ElectObservePrintsLeaderChanges) {
  auto a = GetElection(client(), "sched", WithCandidateID("a"));
  ASSERT_TRUE(a.ok());
  auto o = CliProcess::Start(Args({"elect", "--observe", "sched"}));
  ASSERT_TRUE(o.ok());
  ASSERT_TRUE((*o)->WaitForOut("TERM"));
  ASSERT_TRUE(a->Enter().ok());  // revision 1: a leads
  ASSERT_TRUE((*o)->WaitForOut("1     a"));
  auto b = GetElection(client(), "sched", WithCandidateID("b"));
  ASSERT_TRUE(b->Enter().ok());   // revision 2: only the candidates change
  ASSERT_TRUE(a->Leave().ok());   // revision 3: b leads
  ASSERT_TRUE((*o)->WaitForOut("3     b"));
  (*o)->Signal(SIGINT);
  EXPECT_EQ((*o)->Wait(), 0);
  EXPECT_EQ((*o)->out(),
            "TERM  LEADER  CANDIDATES\n"
            "0     -       -\n"
            "1     a       a\n"
            "3     b       b\n");
}

}  // namespace
}  // namespace atomix::testing
