// The atomix CLI against a broker that serves TLS and requires tokens.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "tests/cli/cli_runner.h"
#include "tests/support/broker_process.h"
#include "tests/support/process.h"
#include "tests/support/test_certs.h"

namespace atomix::testing {
namespace {

TEST(CliTls, CacertAndTokenReachATokenBroker) {
  absl::StatusOr<TestCerts> certs = MakeTestCerts();
  ASSERT_TRUE(certs.ok()) << certs.status();
  const std::string tokens = certs->dir + "/tokens";
  ASSERT_EQ(std::system(("printf 'ops %s\\n' $(printf %s cli-token | sha256sum | cut -d' ' -f1) > " +
                         tokens).c_str()),
            0);
  // The broker's private copy of the TLS files goes with the test's files.
  const char* old_tmpdir = std::getenv("TMPDIR");
  const std::string saved = old_tmpdir != nullptr ? old_tmpdir : "";
  setenv("TMPDIR", certs->dir.c_str(), 1);
  BrokerProcess::Options o;
  o.args = {"--tls-cert", certs->server.cert, "--tls-key", certs->server.key,
            "--auth", "token", "--auth-tokens", tokens};
  absl::StatusOr<std::unique_ptr<BrokerProcess>> broker = BrokerProcess::Start(o);
  ASSERT_TRUE(broker.ok()) << broker.status();
  const std::string endpoint = (*broker)->endpoint();

  CliResult r = RunCli({"--endpoints", endpoint, "--cacert", certs->ca.cert, "counter", "inc",
                        "jobs"},
                       {"ATOMIX_TOKEN=cli-token"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "NAME  VALUE  REVISION\njobs  1      1\n");

  r = RunCli({"--endpoints", endpoint, "--cacert", certs->ca.cert, "--token", "cli-token",
              "status"});
  EXPECT_EQ(r.code, 0) << r.err;

  r = RunCli({"--endpoints", endpoint, "--cacert", certs->ca.cert, "--token", "wrong",
              "counter", "get", "jobs"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown bearer token"), std::string::npos) << r.err;

  r = RunCli({"--endpoints", endpoint, "--cacert", certs->other_ca.cert, "--timeout", "1s",
              "counter", "get", "jobs"},
             {"ATOMIX_TOKEN=cli-token"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("andshake"), std::string::npos) << r.err;

  r = RunCli({"--endpoints", endpoint, "--token", "cli-token", "counter", "get", "jobs"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("over TLS only"), std::string::npos) << r.err;
  broker->reset();
  if (old_tmpdir != nullptr) {
    setenv("TMPDIR", saved.c_str(), 1);
  } else {
    unsetenv("TMPDIR");
  }
  std::filesystem::remove_all(certs->dir);
}

}  // namespace
}  // namespace atomix::testing
