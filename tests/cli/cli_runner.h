// Runs the real `atomix` binary (ATOMIX_CLI_BIN) as a child process with
// its stdout and stderr captured apart, for the CLI's tests.
//
//   CliResult r = RunCli({"--endpoints", broker.endpoint(), "counter", "get", "jobs"});
//   EXPECT_EQ(r.code, 0);
//   EXPECT_EQ(r.out, "NAME  VALUE\njobs  0\n");
//
// ATOMIX_BROKER is removed from the child's environment unless `env` sets
// it. The child dies with the test (tests/support/process.h).
//
// Thread-safety: one thread drives a CliProcess.
#ifndef ATOMIX_TESTS_CLI_CLI_RUNNER_H_
#define ATOMIX_TESTS_CLI_CLI_RUNNER_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace atomix::testing {

struct CliResult {
  int code = -1;  // exit code, 128 + signal if killed
  std::string out;
  std::string err;
};

class CliProcess {
 public:
  // Starts `atomix args...`, with `env` ("NAME=value") added.
  static absl::StatusOr<std::unique_ptr<CliProcess>> Start(
      const std::vector<std::string>& args, const std::vector<std::string>& env = {});
  ~CliProcess();
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;

  pid_t pid() const { return pid_; }
  std::string out() const;
  std::string err() const;
  // Whether stdout contains `text` within `timeout` (false if the process
  // exits without it).
  bool WaitForOut(const std::string& text,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Waits for the exit (SIGKILL after `timeout`, to avoid a hang); returns
  // the exit code.
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Whether it has exited (reaps it if so).
  bool Exited();
  void Signal(int sig);

 private:
  CliProcess() = default;
  std::string dir_;
  pid_t pid_ = -1;
  int code_ = -1;
};

// Runs `atomix args...` to its end.
CliResult RunCli(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_CLI_CLI_RUNNER_H_
