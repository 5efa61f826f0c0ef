// Child processes for tests: spawn a program with its output in a log file,
// tied to the test's life, and kill and reap it.
//
// Thread-safety: stateless functions.
#ifndef ATOMIX_TESTS_SUPPORT_PROCESS_H_
#define ATOMIX_TESTS_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace atomix::testing {

// Starts argv[0] with `argv`, stdout and stderr appended to `log_file`.
// The child dies with the test (SIGKILL when the parent exits). With
// `as_nobody` (and a root test) it runs as user nobody.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log_file,
                            bool as_nobody = false);

// Runs this test binary again as a child process: only the tests matching
// `gtest_filter` (disabled ones included), with `env` ("NAME=value" each)
// added to its environment, output appended to `log_file`. The environment
// is passed through /usr/bin/env, so the (multithreaded) parent never calls
// setenv. A child-only test is usually DISABLED_ or skips itself when its
// variable is unset.
absl::StatusOr<pid_t> SpawnTestChild(const std::vector<std::string>& env,
                                     const std::string& gtest_filter, const std::string& log_file);

// Waits for `pid` to exit; returns its wait status (-1 if it cannot).
int Reap(pid_t pid);

// Sends `sig` to `pid` and reaps it; returns its wait status.
int KillAndReap(pid_t pid, int sig);

// 128 + signal for a killed process, else its exit code.
int ExitCode(int wait_status);

// A loopback TCP port that was free a moment ago.
int FreePort();

// The whole text of a file ("" if it cannot be read).
std::string ReadFile(const std::string& path);

// Whether every file in `logs` contains `text` (child processes announce
// "ready\n" once connected, so a parent can start them together).
bool EveryLogHas(const std::vector<std::string>& logs, const std::string& text);

// A new directory under /tmp named after `prefix`.
std::string MakeTempDir(const std::string& prefix);

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_PROCESS_H_
