// Re-running atomix-bench as a child process (election-failover's leader,
// lock-handoff's contenders).
//
// Thread-safety: safe from any thread; the child is killed with SIGKILL if
// this process dies first.
#ifndef ATOMIX_BENCH_CHILD_PROCESS_H_
#define ATOMIX_BENCH_CHILD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace atomix::bench {

// Starts this executable with `args` (argv[1...]). With `stdout_fd` >= 0
// the child's standard output goes there.
absl::StatusOr<pid_t> SpawnSelf(const std::vector<std::string>& args, int stdout_fd = -1);

}  // namespace atomix::bench

#endif  // ATOMIX_BENCH_CHILD_PROCESS_H_
