// atomix status, sessions list, locks list, elections list and snapshot
// save against a real broker (and a restore with atomix-broker --restore).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <regex>

#include "absl/strings/str_cat.h"
#include "tests/cli/cli_fixture.h"
#include "tests/support/process.h"

namespace atomix::testing {
namespace {

TEST_F(CliTest, StatusPrintsTheBroker) {
  ASSERT_TRUE(GetCounter(client(), "jobs")->Increment().ok());
  CliResult r = Atomix({"status"});
  EXPECT_EQ(r.code, 0) << r.err;
  const std::string id = client().broker_id();
  ASSERT_FALSE(id.empty());
  // Uptime is the one field a test cannot know.
  const std::string out = std::regex_replace(r.out, std::regex("uptime_ms   [0-9]+"), "uptime_ms   U");
  EXPECT_EQ(out, "broker_id   " + id + "\n"
                 "version     0.1.0\n"
                 "revision    1\n"
                 "store       memory\n"
                 "role        standalone\n"
                 "serving     true\n"
                 "uptime_ms   U\n"
                 "clients     1\n"
                 "sessions    1\n"
                 "primitives  1\n");
  r = Atomix({"-o", "json", "status"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(std::regex_replace(r.out, std::regex("\"uptime_ms\":[0-9]+"), "\"uptime_ms\":U"),
            "{\"broker_id\":\"" + id +
                "\",\"version\":\"0.1.0\",\"revision\":1,\"store\":\"memory\",\"role\":"
                "\"standalone\",\"serving\":true,\"uptime_ms\":U,\"clients\":1,\"sessions\":1,"
                "\"primitives\":1}\n");
}

TEST_F(CliTest, SessionsListShowsTheLockHolder) {
  auto lock = GetLock(client(), "db");
  ASSERT_TRUE(lock.ok());
  auto fence = lock->Acquire();
  ASSERT_TRUE(fence.ok());
  const std::string session = std::to_string(client().session_id());
  CliResult r = Atomix({"-o", "json", "sessions", "list"});
  EXPECT_EQ(r.code, 0) << r.err;
  // One session, the test client's; ages and expiry depend on the clock.
  const std::string json = std::regex_replace(
      r.out, std::regex("\"age_ms\":[0-9]+,\"expires_in_ms\":[0-9]+"), "AGE");
  EXPECT_EQ(json, "{\"id\":\"" + session +
                      "\",\"ttl_ms\":10000,AGE,\"waiting\":0,\"holds\":[{\"name\":\"db\",\"type\":"
                      "\"lock\",\"what\":\"lock\",\"fence\":1}]}\n");
  r = Atomix({"sessions", "list"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex("^ID +TTL_MS  AGE_MS  EXPIRES_IN_MS  WAITING  HOLDS\n")))
      << r.out;
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex("\n" + session + "  10000   [0-9]+ +[0-9]+ +0        db: lock \\(fence 1\\)\n")))
      << r.out;
}

TEST_F(CliTest, LocksAndElectionsList) {
  auto lock = GetLock(client(), "db");
  ASSERT_TRUE(lock.ok());
  ASSERT_TRUE(lock->Acquire().ok());  // revision 1
  auto election = GetElection(client(), "sched", WithCandidateID("n1"));
  ASSERT_TRUE(election.ok());
  ASSERT_TRUE(election->Enter().ok());  // revision 2
  const std::string session = std::to_string(client().session_id());
  CliResult r = Atomix({"-o", "json", "locks", "list"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"name\":\"db\",\"holder\":\"" + session +
                       "\",\"fence\":1,\"waiting\":0,\"summary\":\"held by session " + session +
                       " (fence 1)\"}\n");
  r = Atomix({"-o", "json", "elections", "list"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"name\":\"sched\",\"leader\":\"n1\",\"session\":\"" + session +
                       "\",\"term\":2,\"candidates\":[\"n1\"],\"summary\":\"leader n1 (term 2), 1 "
                       "candidate\"}\n");
  r = Atomix({"locks", "list", "--prefix", "x"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "");
}

TEST(CliSnapshot, SaveWritesABackupThatRestoreAccepts) {
  const std::string work = MakeTempDir("atomix-cli-snap");
  BrokerProcess::Options o;
  o.args = {"--store", "disk", "--data-dir", work + "/a"};
  auto a = BrokerProcess::Start(o);
  ASSERT_TRUE(a.ok()) << a.status();
  const std::vector<std::string> at = {"--endpoints", (*a)->endpoint()};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.begin(), at.begin(), at.end());
    return RunCli(args);
  };
  ASSERT_EQ(with({"map", "put", "config", "mode", "blue"}).code, 0);
  CliResult inc = with({"-o", "json", "counter", "inc", "jobs", "41"});
  ASSERT_EQ(inc.code, 0) << inc.err;
  const std::string revision = inc.out.substr(inc.out.find("\"revision\":") + 11,
                                              inc.out.find('}') - inc.out.find("\"revision\":") - 11);

  const std::string file = work + "/backup.snap";
  CliResult r = with({"-o", "json", "snapshot", "save", file});
  ASSERT_EQ(r.code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(r.out, "{\"file\":\"" + file + "\",\"revision\":" + revision +
                       ",\"bytes\":" + std::to_string(st.st_size) + "}\n");
  EXPECT_NE(stat((file + ".tmp").c_str(), &st), 0);  // renamed into place

  const std::string restore = absl::StrCat(ATOMIX_BROKER_BIN, " --restore ", file,
                                           " --data-dir ", work, "/b 2>&1");
  FILE* out = popen(restore.c_str(), "r");
  ASSERT_NE(out, nullptr);
  std::string text;
  char buf[512];
  while (fgets(buf, sizeof(buf), out) != nullptr) text += buf;
  const int status = pclose(out);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << text;
  EXPECT_NE(text.find("at revision " + revision), std::string::npos) << text;

  BrokerProcess::Options ob;
  ob.args = {"--store", "disk", "--data-dir", work + "/b"};
  auto b = BrokerProcess::Start(ob);
  ASSERT_TRUE(b.ok()) << b.status();
  CliResult got = RunCli({"--endpoints", (*b)->endpoint(), "counter", "get", "jobs"});
  EXPECT_EQ(got.out, "NAME  VALUE\njobs  41\n");
  got = RunCli({"--endpoints", (*b)->endpoint(), "map", "get", "config", "mode"});
  EXPECT_EQ(got.out, "KEY   VALUE  VERSION\nmode  blue   1\n");

  // A file that cannot be written: exit 1, nothing left behind.
  r = with({"snapshot", "save", work + "/missing/dir/backup.snap"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "atomix: snapshot save: cannot create " + work +
                       "/missing/dir/backup.snap.tmp: No such file or directory\n");
  std::system(("rm -rf '" + work + "'").c_str());
}

}  // namespace
}  // namespace atomix::testing
