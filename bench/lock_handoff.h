// The lock-handoff workload of atomix-bench: how long a lock takes to pass
// from one process to the next, measured from the moment the holder starts
// its Release to the moment the next holder's Acquire returns.
//
//   atomix-bench --workload lock-handoff --callers 8 --processes 2 --duration 5
//
// atomix-bench starts `processes` children (itself, re-executed with
// --handoff-child), which share `callers` contenders between them; every
// contender has a client (and a session) of its own and loops Acquire, then
// Release(IfVersion(fence)) on one lock. The holder writes the time it
// starts releasing, and its own id, into a memory-mapped file the processes
// share; a contender that is granted the lock after another contender
// released it records the difference (steady_clock is CLOCK_MONOTONIC, the
// same in every process). Only the lock orders these writes, so the times
// are exact.
//
// Thread-safety: RunLockHandoff and RunHandoffChild each run on one thread.
#ifndef ATOMIX_BENCH_LOCK_HANDOFF_H_
#define ATOMIX_BENCH_LOCK_HANDOFF_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "atomix/client.h"
#include "bench/workloads.h"

namespace atomix::bench {

inline constexpr char kLockHandoff[] = "lock-handoff";

struct HandoffOptions {
  int callers = 2;
  int processes = 2;
  double warmup_s = 1;
  double duration_s = 5;
};

// ops and ops_per_sec count handoffs; latencies are handoff times.
absl::StatusOr<Result> RunLockHandoff(const std::string& broker, const HandoffOptions& options);

// The child: `contenders` contenders numbered from `first`, sharing the
// file `shared` with the parent, until the parent says stop. Writes the
// handoff times it saw, in nanoseconds, one per line, to `shared`.N.
int RunHandoffChild(const ClientOptions& options, const std::string& shared, int first,
                    int contenders);

}  // namespace atomix::bench

#endif  // ATOMIX_BENCH_LOCK_HANDOFF_H_
