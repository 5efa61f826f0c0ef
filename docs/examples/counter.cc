// Counter: set, increment, decrement, and a compare-and-set loop.
//
// Build: the example_counter target. Run against a broker at ATOMIX_BROKER
// (default 127.0.0.1:5679):
//   ./example_counter
// Safe to run any number of times; prints the error and exits 1 when the
// broker cannot be reached or a call fails.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>

#include "atomix/atomix.h"

int main() {
  // Connect to ATOMIX_BROKER (default 127.0.0.1:5679); give up after 3 s.
  atomix::ClientOptions options;
  options.connect_timeout = std::chrono::seconds(3);
  absl::StatusOr<atomix::Client> client = atomix::Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "connect: " << client.status() << "\n";
    return 1;
  }

  absl::StatusOr<atomix::Counter> jobs = atomix::GetCounter(*client, "examples/jobs");
  if (!jobs.ok()) {
    std::cerr << "open: " << jobs.status() << "\n";
    return 1;
  }

  // Every mutation returns the value after it and its version: the broker
  // revision at which it was applied.
  absl::StatusOr<atomix::Versioned<int64_t>> set = jobs->Set(10);
  if (!set.ok()) {
    std::cerr << "set: " << set.status() << "\n";
    return 1;
  }
  absl::StatusOr<atomix::Versioned<int64_t>> up = jobs->Increment(5);
  if (!up.ok()) {
    std::cerr << "increment: " << up.status() << "\n";
    return 1;
  }
  absl::StatusOr<atomix::Versioned<int64_t>> down = jobs->Decrement();
  if (!down.ok()) {
    std::cerr << "decrement: " << down.status() << "\n";
    return 1;
  }
  std::cout << "set 10 at version " << set->version << ", +5 -> " << up->value << ", -1 -> "
            << down->value << " at version " << down->version << "\n";

  // Compare-and-set loop: halve the counter, even if others change it at the
  // same time. A mismatch fails with FAILED_PRECONDITION, and CurrentVersion()
  // holds the value the counter had instead.
  absl::StatusOr<int64_t> seen = jobs->Get(atomix::WithTimeout(std::chrono::seconds(1)));
  if (!seen.ok()) {
    std::cerr << "get: " << seen.status() << "\n";
    return 1;
  }
  int64_t expect = *seen;
  for (;;) {
    absl::StatusOr<atomix::Versioned<int64_t>> halved = jobs->CompareAndSet(expect, expect / 2);
    if (halved.ok()) {
      std::cout << "halved " << expect << " -> " << halved->value << "\n";
      break;
    }
    std::optional<int64_t> now = atomix::CurrentVersion(halved.status());
    if (!absl::IsFailedPrecondition(halved.status()) || !now) {
      std::cerr << "compare-and-set: " << halved.status() << "\n";
      return 1;
    }
    expect = *now;  // someone else got there first: retry from their value
  }
  return 0;
}
