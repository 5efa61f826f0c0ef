// The exit codes of `atomix`, one meaning each (docs/cli.md and the epilog
// of `atomix --help` list the same table).
//
// Thread-safety: constants and a pure function.
#ifndef ATOMIX_CLI_EXIT_CODES_H_
#define ATOMIX_CLI_EXIT_CODES_H_

#include "absl/status/status.h"

namespace atomix::cli {

// The command did what it was asked.
inline constexpr int kExitOk = 0;
// The broker refused or could not do the operation: a compare-and-set
// mismatch, a key or value that is absent, a name bound to another type, a
// bad name, a lock not granted within --wait.
inline constexpr int kExitFailed = 1;
// The command line is wrong: unknown command or flag, a missing or
// malformed argument. Nothing was sent to the broker.
inline constexpr int kExitUsage = 2;
// No broker answered: it cannot be reached, or a call's deadline
// (--timeout) passed.
inline constexpr int kExitUnavailable = 3;
// lock / elect: the lock or the leadership was lost while CMD ran; CMD got
// SIGTERM (SIGKILL after --grace) and atomix exits with 4 whatever CMD's
// own status.
inline constexpr int kExitLost = 4;
// lock / elect: CMD could not be started (not found, not executable), as in
// a shell.
inline constexpr int kExitCannotRun = 127;
// Otherwise lock and elect exit with CMD's exit code, or 128 + the signal
// that ended it; and 128 + the signal when SIGINT or SIGTERM interrupted
// them before CMD started.

// The exit code for a failed SDK or gRPC status: kExitUnavailable for
// UNAVAILABLE and DEADLINE_EXCEEDED, else kExitFailed.
inline int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) return kExitUnavailable;
  return kExitFailed;
}

}  // namespace atomix::cli

#endif  // ATOMIX_CLI_EXIT_CODES_H_
