// A broker per test and the `atomix` binary pointed at it.
//
// Thread-safety: one thread per test.
#ifndef ATOMIX_TESTS_CLI_CLI_FIXTURE_H_
#define ATOMIX_TESTS_CLI_CLI_FIXTURE_H_

#include <string>
#include <vector>

#include "tests/cli/cli_runner.h"
#include "tests/support/test_client.h"

namespace atomix::testing {

class CliTest : public BrokerTest {
 protected:
  // `atomix --endpoints <broker> args...`
  std::vector<std::string> Args(std::vector<std::string> args) {
    args.insert(args.begin(), {"--endpoints", broker().endpoint()});
    return args;
  }
  CliResult Atomix(std::vector<std::string> args) { return RunCli(Args(std::move(args))); }
};

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_CLI_CLI_FIXTURE_H_
