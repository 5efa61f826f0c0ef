// Semaphore: a counting semaphore of session-owned, fenced permits, held
// through a SemaphoreGuard.
//
// Build: the example_semaphore target. Run against a broker at ATOMIX_BROKER
// (default 127.0.0.1:5679):
//   ./example_semaphore
// Run several at once to see them share the 4 render slots. Prints the error
// and exits 1 when the broker cannot be reached or a call fails.
#include <chrono>
#include <iostream>
#include <optional>
#include <string>
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

  // Opens the semaphore and gives it 4 permits if it has no count yet.
  absl::StatusOr<atomix::Semaphore> slots =
      atomix::GetSemaphore(*client, "examples/render-slots", 4);
  if (!slots.ok()) {
    std::cerr << "open: " << slots.status() << "\n";
    return 1;
  }
  absl::StatusOr<atomix::Map<std::string, std::string>> jobs =
      atomix::GetMap<std::string, std::string>(*client, "examples/render-jobs");
  if (!jobs.ok()) {
    std::cerr << "open map: " << jobs.status() << "\n";
    return 1;
  }

  // Wait up to 5 s for 2 of the 4 permits, in arrival order; the guard gives
  // exactly those 2 back when it goes out of scope.
  {
    absl::StatusOr<atomix::SemaphoreGuard> held =
        atomix::SemaphoreGuard::Acquire(*slots, 2, atomix::WithTimeout(std::chrono::seconds(5)));
    if (absl::IsDeadlineExceeded(held.status())) {
      std::cout << "all slots stayed busy for 5 s; giving up\n";
      return 0;
    }
    if (!held.ok()) {
      std::cerr << "acquire: " << held.status() << "\n";
      return 1;
    }
    std::cout << "holding " << held->permits().count << " permits with fence "
              << held->fence().version << "\n";
    // A write fenced by the grant: refused once the grant holds no permit
    // (released, or our session ended).
    absl::StatusOr<atomix::Version> wrote = jobs->Put("job-7", "rendering", atomix::IfFence(*held));
    if (!wrote.ok()) {
      std::cerr << "fenced write: " << wrote.status() << "\n";
      return 1;
    }
    for (int step = 0; step < 3; ++step) {
      // The token stops if our session is lost: the permits may then be
      // someone else's, so stop working.
      if (held->stop_token().stop_requested()) {
        std::cerr << "lost the session; stopping\n";
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }  // released here

  // TryAcquire never waits: nullopt unless the permits are free and nobody
  // waits before us.
  absl::StatusOr<std::optional<atomix::Permits>> tried = slots->TryAcquire(1);
  if (!tried.ok()) {
    std::cerr << "try: " << tried.status() << "\n";
    return 1;
  }
  if (tried->has_value()) {
    std::cout << "got a slot at once, fence " << (*tried)->fence.version << "\n";
    if (absl::Status released = slots->Release(atomix::IfVersion((*tried)->fence));
        !released.ok()) {
      std::cerr << "release: " << released << "\n";
      return 1;
    }
  }

  absl::StatusOr<int64_t> available = slots->Available();
  if (!available.ok()) {
    std::cerr << "available: " << available.status() << "\n";
    return 1;
  }
  std::cout << *available << " of 4 slots free; holders:\n";
  for (const absl::StatusOr<atomix::SemaphoreHolder>& h : slots->Holders()) {
    if (!h.ok()) {
      std::cerr << "holders: " << h.status() << "\n";
      return 1;
    }
    std::cout << "  session " << h->session_id << ": " << h->permits << " (fence " << h->fence
              << ")\n";
  }
  return 0;
}
