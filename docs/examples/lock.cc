// Lock: a fair distributed lock with fences, held through a LockGuard.
//
// Build: the example_lock target. Run against a broker at ATOMIX_BROKER
// (default 127.0.0.1:5679):
//   ./example_lock
// Run two at once to see the second wait for the first. Prints the error and
// exits 1 when the broker cannot be reached or a call fails.
#include <chrono>
#include <iostream>
#include <optional>
#include <thread>

#include "atomix/atomix.h"

int main() {
  atomix::ClientOptions options;
  options.connect_timeout = std::chrono::seconds(3);
  absl::StatusOr<atomix::Client> client = atomix::Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "connect: " << client.status() << "\n";
    return 1;
  }

  absl::StatusOr<atomix::Lock> lock = atomix::GetLock(*client, "examples/db-writer");
  if (!lock.ok()) {
    std::cerr << "open: " << lock.status() << "\n";
    return 1;
  }

  // Wait up to 5 s for the lock, in arrival order; the guard releases it
  // when it goes out of scope.
  {
    absl::StatusOr<atomix::LockGuard> held =
        atomix::LockGuard::Acquire(*lock, atomix::WithTimeout(std::chrono::seconds(5)));
    if (absl::IsDeadlineExceeded(held.status())) {
      std::cout << "someone else held the lock for 5 s; giving up\n";
      return 0;
    }
    if (!held.ok()) {
      std::cerr << "acquire: " << held.status() << "\n";
      return 1;
    }
    std::cout << "holding the lock with fence " << held->fence().version << "\n";
    for (int step = 0; step < 3; ++step) {
      // The token stops if our session is lost: the lock may then be
      // someone else's, so stop working.
      if (held->stop_token().stop_requested()) {
        std::cerr << "lost the session; stopping\n";
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }  // released here

  // TryAcquire never waits: nullopt when someone else holds the lock.
  absl::StatusOr<std::optional<atomix::Fence>> tried = lock->TryAcquire();
  if (!tried.ok()) {
    std::cerr << "try: " << tried.status() << "\n";
    return 1;
  }
  if (!tried->has_value()) {
    std::cout << "busy\n";
    return 0;
  }
  std::cout << "got it again with fence " << (*tried)->version << "\n";

  // Release exactly this grant: IfVersion(fence) never releases a later
  // holder's grant.
  absl::Status released = lock->Release(atomix::IfVersion(**tried));
  if (!released.ok()) {
    std::cerr << "release: " << released << "\n";
    return 1;
  }
  return 0;
}
