// Bad command lines: exit 2, one line naming the problem, then the usage of
// the command that was being parsed; nothing reaches the broker.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/cli/cli_runner.h"

namespace atomix::testing {
namespace {

struct BadLine {
  std::vector<std::string> args;
  std::string first_line;  // the whole first line of stderr
  std::string usage;       // the usage line that must follow
};

TEST(CliUsage, BadArgumentsExitTwoWithTheCommandsUsage) {
  const std::vector<BadLine> cases = {
      {{"frob"}, "atomix: unknown command 'frob'",
       "Usage: atomix [OPTIONS] SUBCOMMAND"},
      {{"counter"}, "atomix: A subcommand is required", "Usage: atomix counter [OPTIONS] SUBCOMMAND"},
      {{"counter", "bump", "jobs"}, "atomix: unknown command 'bump'",
       "Usage: atomix counter [OPTIONS] SUBCOMMAND"},
      {{"counter", "inc"}, "atomix: name is required",
       "Usage: atomix counter inc [OPTIONS] name [delta]"},
      {{"counter", "set", "jobs", "ten"},
       "atomix: Could not convert: value = ten",
       "Usage: atomix counter set [OPTIONS] name value"},
      {{"counter", "cas", "jobs", "1"}, "atomix: update is required",
       "Usage: atomix counter cas [OPTIONS] name expect update"},
      {{"map", "put", "config", "k", "v", "extra"},
       "atomix: The following argument was not expected: extra",
       "Usage: atomix map put [OPTIONS] name key value"},
      {{"map", "watch", "config", "k", "--prefix", "p"},
       "atomix: --prefix: give KEY or --prefix, not both",
       "Usage: atomix map watch [OPTIONS] name [key]"},
      {{"watch", "queue", "jobs"},
       "atomix: kind: queue not in {counter,value,map,set,lock,election}",
       "Usage: atomix watch [OPTIONS] kind name"},
      {{"watch", "counter", "jobs", "--from", "x"},
       "atomix: Could not convert: --from = x",
       "Usage: atomix watch [OPTIONS] kind name"},
      {{"lock", "db"}, "atomix: command is required",
       "Usage: atomix lock [OPTIONS] name command..."},
      {{"lock", "db", "--wait", "soon", "--", "true"},
       "atomix: --wait: 'soon' is not a duration (a whole number with ms, s, m or h, e.g. 500ms, "
       "5s)",
       "Usage: atomix lock [OPTIONS] name command..."},
      {{"elect", "sched"}, "atomix: candidate is required",
       "Usage: atomix elect [OPTIONS] name [candidate] [command...]"},
      {{"elect", "--observe", "sched", "me"},
       "atomix: --observe: takes only NAME, no CANDIDATE or command",
       "Usage: atomix elect [OPTIONS] name [candidate] [command...]"},
      {{"snapshot", "save"}, "atomix: file is required",
       "Usage: atomix snapshot save [OPTIONS] file"},
      {{"--timeout", "5x", "counter", "get", "jobs"},
       "atomix: --timeout: '5x' is not a positive duration (a whole number with ms, s, m or h, "
       "e.g. 500ms, 5s)",
       "Usage: atomix counter get [OPTIONS] name"},
      {{"lock", "db", "--wait", "300000000h", "--", "true"},
       "atomix: --wait: '300000000h' is longer than the longest duration, 1000000000000ms",
       "Usage: atomix lock [OPTIONS] name command..."},
      {{"-o", "yaml", "status"}, "atomix: --output: 'yaml' is not table or json",
       "Usage: atomix status [OPTIONS]"},
      {{"--endpoints", "localhost", "status"},
       "atomix: --endpoints: 'localhost' is not host:port (port 1-65535)",
       "Usage: atomix status [OPTIONS]"},
  };
  for (const BadLine& c : cases) {
    CliResult r = RunCli(c.args);
    SCOPED_TRACE(c.args.front() + (c.args.size() > 1 ? " " + c.args[1] : ""));
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.substr(0, r.err.find('\n')), c.first_line) << r.err;
    EXPECT_NE(r.err.find("\n" + c.usage + "\n"), std::string::npos) << r.err;
  }
}

TEST(CliUsage, HelpShowsTheExitCodesAndExitsZero) {
  CliResult r = RunCli({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Exit codes:\n  0    ok\n  1    the broker refused"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  3    no broker answered, or a call's deadline (--timeout) passed\n"),
            std::string::npos);
  r = RunCli({"lock", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Usage: atomix lock [OPTIONS] name command..."), std::string::npos)
      << r.out;
  r = RunCli({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "0.1.0\n");
}

}  // namespace
}  // namespace atomix::testing
