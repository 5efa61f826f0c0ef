// Prefix locks: lease every key of one job in a map, and write under it
// with the lease's fence.
//
// Build: the example_prefix_lock target. Run against a broker at
// ATOMIX_BROKER (default 127.0.0.1:5679):
//   ./example_prefix_lock
// Run two at once to see the second wait for the first. Prints the error and
// exits 1 when the broker cannot be reached or a call fails.
#include <chrono>
#include <iostream>
#include <optional>
#include <string>

#include "atomix/atomix.h"

int main() {
  atomix::ClientOptions options;
  options.connect_timeout = std::chrono::seconds(3);
  absl::StatusOr<atomix::Client> client = atomix::Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "connect: " << client.status() << "\n";
    return 1;
  }
  auto jobs = atomix::GetMap<std::string, std::string>(*client, "examples/job-board");
  if (!jobs.ok()) {
    std::cerr << "open: " << jobs.status() << "\n";
    return 1;
  }

  // Lease every key under "jobs/42/" for this session, waiting up to 5 s;
  // the guard unlocks it when it goes out of scope.
  {
    absl::StatusOr<atomix::PrefixLockGuard> held =
        jobs->LockPrefix("jobs/42/", atomix::WithTimeout(std::chrono::seconds(5)));
    if (absl::IsDeadlineExceeded(held.status())) {
      std::cout << "job 42 stayed locked for 5 s; giving up\n";
      return 0;
    }
    if (!held.ok()) {
      std::cerr << "lock: " << held.status() << "\n";
      return 1;
    }
    std::cout << "holding jobs/42/ with fence " << held->fence().version << "\n";

    // Writes carry the fence: the broker refuses them once the lease is
    // gone (unlocked, or the session lost), so a stale holder writes nothing.
    for (const char* step : {"started", "running", "done"}) {
      absl::StatusOr<atomix::Version> put =
          jobs->Put("jobs/42/state", step, atomix::IfFence(*held));
      if (!put.ok()) {
        std::cerr << "put: " << put.status() << "\n";
        return 1;
      }
    }
    if (held->stop_token().stop_requested()) {
      std::cerr << "lost the session; stopping\n";
      return 1;
    }

    // Other sessions' writes under the prefix fail while it is held,
    // naming the prefix, the holder's session and fence.
    absl::StatusOr<atomix::Client> other = atomix::Client::Connect(options);
    if (!other.ok()) {
      std::cerr << "connect: " << other.status() << "\n";
      return 1;
    }
    auto theirs = atomix::GetMap<std::string, std::string>(*other, "examples/job-board");
    if (!theirs.ok()) {
      std::cerr << "open: " << theirs.status() << "\n";
      return 1;
    }
    absl::StatusOr<atomix::Version> refused = theirs->Put("jobs/42/state", "stolen");
    if (!absl::IsFailedPrecondition(refused.status())) {
      std::cerr << "a write under a held prefix was not refused: " << refused.status() << "\n";
      return 1;
    }
    std::cout << "refused: " << refused.status().message() << "\n";
  }  // unlocked here

  // TryLockPrefix never waits: nullopt while an overlapping prefix is held.
  absl::StatusOr<std::optional<atomix::PrefixLockGuard>> tried = jobs->TryLockPrefix("jobs/");
  if (!tried.ok()) {
    std::cerr << "try: " << tried.status() << "\n";
    return 1;
  }
  std::cout << (tried->has_value() ? "locked all of jobs/\n" : "jobs/ is busy\n");
  return 0;
}
