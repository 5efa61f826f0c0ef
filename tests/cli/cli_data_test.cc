// atomix counter / value / map / set: exact output in table and JSON modes,
// exit codes, and the environment.
#include <gtest/gtest.h>

#include "tests/cli/cli_fixture.h"
#include "tests/support/process.h"

namespace atomix::testing {
namespace {

TEST_F(CliTest, CounterCommandsPrintValuesAndRevisions) {
  CliResult r = Atomix({"counter", "inc", "jobs"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "NAME  VALUE  REVISION\njobs  1      1\n");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(Atomix({"counter", "inc", "jobs", "5"}).out, "NAME  VALUE  REVISION\njobs  6      2\n");
  EXPECT_EQ(Atomix({"counter", "dec", "jobs", "2"}).out, "NAME  VALUE  REVISION\njobs  4      3\n");
  EXPECT_EQ(Atomix({"counter", "set", "jobs", "10"}).out,
            "NAME  VALUE  REVISION\njobs  10     4\n");
  EXPECT_EQ(Atomix({"counter", "get", "jobs"}).out, "NAME  VALUE\njobs  10\n");
  EXPECT_EQ(Atomix({"counter", "cas", "jobs", "10", "11"}).out,
            "NAME  VALUE  REVISION\njobs  11     5\n");

  r = Atomix({"counter", "cas", "jobs", "10", "12"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "atomix: counter cas jobs: it holds 11, not 10; left unchanged\n");

  EXPECT_EQ(Atomix({"-o", "json", "counter", "inc", "jobs"}).out,
            "{\"name\":\"jobs\",\"value\":12,\"revision\":6}\n");
  EXPECT_EQ(Atomix({"counter", "get", "jobs", "-o", "json"}).out,
            "{\"name\":\"jobs\",\"value\":12}\n");
  EXPECT_EQ(Atomix({"-o", "json", "counter", "set", "jobs", "--", "-3"}).out,
            "{\"name\":\"jobs\",\"value\":-3,\"revision\":7}\n");
  EXPECT_EQ(*GetCounter(client(), "jobs")->Get(), -3);
}

TEST_F(CliTest, ValueCommands) {
  CliResult r = Atomix({"value", "set", "cfg", "blue"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "NAME  REVISION\ncfg   1\n");
  EXPECT_EQ(Atomix({"value", "get", "cfg"}).out, "NAME  VALUE  VERSION\ncfg   blue   1\n");
  EXPECT_EQ(Atomix({"-o", "json", "value", "get", "cfg"}).out,
            "{\"name\":\"cfg\",\"value\":\"blue\",\"version\":1}\n");
  EXPECT_EQ(Atomix({"-o", "json", "value", "set", "cfg", "say \"hi\"\n", "--if-version", "1"}).out,
            "{\"name\":\"cfg\",\"revision\":2}\n");
  EXPECT_EQ(Atomix({"-o", "json", "value", "get", "cfg"}).out,
            "{\"name\":\"cfg\",\"value\":\"say \\\"hi\\\"\\n\",\"version\":2}\n");

  r = Atomix({"value", "set", "cfg", "red", "--if-version", "1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "atomix: value set cfg: its version is 2, not 1; left unchanged\n");
  r = Atomix({"value", "get", "unset"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "atomix: value get unset: not set\n");
}

TEST_F(CliTest, MapCommands) {
  EXPECT_EQ(Atomix({"map", "put", "config", "a", "1"}).out, "KEY  REVISION\na    1\n");
  EXPECT_EQ(Atomix({"map", "put", "config", "b/x", "2"}).out, "KEY  REVISION\nb/x  2\n");
  EXPECT_EQ(Atomix({"-o", "json", "map", "put", "config", "b/y", "three"}).out,
            "{\"key\":\"b/y\",\"revision\":3}\n");
  EXPECT_EQ(Atomix({"map", "get", "config", "b/x"}).out,
            "KEY  VALUE  VERSION\nb/x  2      2\n");
  EXPECT_EQ(Atomix({"map", "list", "config"}).out,
            "KEY  VALUE  VERSION\n"
            "a    1      1\n"
            "b/x  2      2\n"
            "b/y  three  3\n");
  EXPECT_EQ(Atomix({"-o", "json", "map", "list", "config", "--prefix", "b/"}).out,
            "{\"key\":\"b/x\",\"value\":\"2\",\"version\":2}\n"
            "{\"key\":\"b/y\",\"value\":\"three\",\"version\":3}\n");
  EXPECT_EQ(Atomix({"map", "list", "config", "--prefix", "zzz"}).out, "");
  EXPECT_EQ(Atomix({"map", "remove", "config", "a"}).out, "KEY  REVISION\na    4\n");

  CliResult r = Atomix({"map", "remove", "config", "a"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "atomix: map remove config: no key 'a'\n");
  r = Atomix({"map", "get", "config", "a"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "atomix: map get config: no key 'a'\n");
  r = Atomix({"map", "put", "config", "b/x", "9", "--if-version", "1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "atomix: map put config: key 'b/x' has version 2, not 1; left unchanged\n");
}

TEST_F(CliTest, SetCommands) {
  EXPECT_EQ(Atomix({"set", "add", "online", "n1"}).out,
            "ELEMENT  CHANGED  VERSION\nn1       true     1\n");
  EXPECT_EQ(Atomix({"set", "add", "online", "n2"}).out,
            "ELEMENT  CHANGED  VERSION\nn2       true     2\n");
  EXPECT_EQ(Atomix({"-o", "json", "set", "add", "online", "n1"}).out,
            "{\"element\":\"n1\",\"changed\":false,\"version\":1}\n");
  EXPECT_EQ(Atomix({"set", "contains", "online", "n2"}).out, "ELEMENT  PRESENT\nn2       true\n");
  EXPECT_EQ(Atomix({"-o", "json", "set", "contains", "online", "n9"}).out,
            "{\"element\":\"n9\",\"present\":false}\n");
  EXPECT_EQ(Atomix({"set", "list", "online"}).out, "ELEMENT  VERSION\nn1       1\nn2       2\n");
  EXPECT_EQ(Atomix({"set", "remove", "online", "n1"}).out,
            "ELEMENT  CHANGED  VERSION\nn1       true     3\n");
  EXPECT_EQ(Atomix({"-o", "json", "set", "remove", "online", "n1"}).out,
            "{\"element\":\"n1\",\"changed\":false,\"version\":0}\n");
  EXPECT_EQ(Atomix({"-o", "json", "set", "list", "online"}).out,
            "{\"element\":\"n2\",\"version\":2}\n");
}

TEST_F(CliTest, ANameOfAnotherTypeFailsAtTheBroker) {
  ASSERT_EQ(Atomix({"counter", "inc", "jobs"}).code, 0);
  CliResult r = Atomix({"map", "get", "jobs", "k"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("atomix: map jobs: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(failed_precondition)\n"), std::string::npos) << r.err;
}

TEST_F(CliTest, TheBrokerComesFromAtomixBrokerWithoutEndpoints) {
  CliResult r = RunCli({"counter", "inc", "jobs"}, {"ATOMIX_BROKER=" + broker().endpoint()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "NAME  VALUE  REVISION\njobs  1      1\n");
}

TEST(CliUnreachable, NoBrokerExitsThree) {
  const std::string endpoint = "127.0.0.1:" + std::to_string(FreePort());
  CliResult r = RunCli({"--endpoints", endpoint, "--timeout", "1s", "counter", "get", "jobs"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "atomix: connect: no broker answered at " + endpoint +
                       " within 1s (unavailable)\n");
  r = RunCli({"--endpoints", endpoint, "--timeout", "1s", "status"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.err, "atomix: status: no broker answered at " + endpoint +
                       " within 1s (unavailable)\n");
  r = RunCli({"--timeout", "1s", "counter", "get", "jobs"}, {"ATOMIX_BROKER=" + endpoint});
  EXPECT_EQ(r.code, 3);
}

}  // namespace
}  // namespace atomix::testing
