// The election-failover workload of atomix-bench: how long an election goes
// without a leader after its leader's process is killed with SIGKILL, as a
// function of the leader's session TTL.
//
// For every TTL and repetition, the bench starts a leader in a child process
// (atomix-bench itself, re-executed with --lead), enters a follower candidate
// from its own process, waits a random part of a keep-alive interval (so that
// the kill falls at a random point of the leader's keep-alive cycle), kills
// the child with SIGKILL, and polls GetTerm until the follower is leader. The
// failover time runs from just before kill() to the first GetTerm answer that
// names the follower.
//
// Thread-safety: RunElectionFailover and RunLeader each run on one thread.
#ifndef ATOMIX_BENCH_FAILOVER_H_
#define ATOMIX_BENCH_FAILOVER_H_

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "atomix/client.h"

namespace atomix::bench {

inline constexpr char kElectionFailover[] = "election-failover";

struct FailoverOptions {
  // Session TTLs of the leader (and of the follower), each at least 1 s.
  std::vector<std::chrono::milliseconds> ttls;
  // Kills per TTL.
  int repeat = 5;
  // How often the follower calls GetTerm after the kill.
  std::chrono::milliseconds poll{5};
};

struct FailoverResult {
  std::chrono::milliseconds ttl{0};
  // Failover times in milliseconds, in the order measured.
  std::vector<double> samples_ms;
  double min_ms = 0;
  double median_ms = 0;
  double max_ms = 0;
};

// Runs the measurement against the broker of `client_options` (its
// session_ttl is replaced by each TTL in turn). Fails at the first
// repetition that goes wrong (the child did not lead, or no failover within
// TTL + 5 s).
absl::StatusOr<std::vector<FailoverResult>> RunElectionFailover(const ClientOptions& client_options,
                                                                const FailoverOptions& options);

// The child's side (atomix-bench --lead ELECTION --ttl-ms TTL): enters
// `election` as candidate "leader" with session TTL `ttl`, prints
// "term TERM leader ID" on one line, and holds the session until killed.
// Returns only on failure (exit code 1, the error on stderr).
int RunLeader(ClientOptions client_options, const std::string& election,
              std::chrono::milliseconds ttl);

}  // namespace atomix::bench

#endif  // ATOMIX_BENCH_FAILOVER_H_
