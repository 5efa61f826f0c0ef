// Runs the CMD of `atomix lock` and `atomix elect` while a lock or the
// leadership is held, and stops it when that is lost.
//
// Thread-safety: called from the main thread after BlockSignals()
// (signals.h); `lost` is called on that thread after every wake-up.
#ifndef ATOMIX_CLI_COMMAND_H_
#define ATOMIX_CLI_COMMAND_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace atomix::cli {

// Starts `argv` (looked up in PATH) with this environment plus `env`
// ("NAME=value", replacing a variable of the same name), with default
// signal dispositions and nothing blocked. FAILED_PRECONDITION naming the
// command when it cannot be run.
absl::StatusOr<pid_t> StartCommand(const std::vector<std::string>& argv,
                                   const std::vector<std::string>& env);

// Waits until the command exits, forwarding SIGINT and SIGTERM to it. Once
// `lost()` returns true it sends SIGTERM, and SIGKILL if the command is
// still running `grace` later. Returns the exit code of `atomix`:
// kExitLost if `lost()` became true, else the command's exit code (128 +
// signal if a signal ended it).
int Supervise(pid_t pid, const std::function<bool()>& lost, std::chrono::milliseconds grace);

// 128 + signal for a killed process, else its exit code.
int ExitCodeOf(int wait_status);

}  // namespace atomix::cli

#endif  // ATOMIX_CLI_COMMAND_H_
