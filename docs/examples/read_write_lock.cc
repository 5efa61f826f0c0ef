// ReadWriteLock: many readers or one writer, fair, with fences.
//
// Build: the example_read_write_lock target. Run against a broker at
// ATOMIX_BROKER (default 127.0.0.1:5679):
//   ./example_read_write_lock
// Prints the error and exits 1 when the broker cannot be reached or a call
// fails.
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
  absl::StatusOr<atomix::ReadWriteLock> rw =
      atomix::GetReadWriteLock(*client, "examples/catalog-lock");
  absl::StatusOr<atomix::Map<std::string, std::string>> catalog =
      atomix::GetMap<std::string, std::string>(*client, "examples/catalog");
  if (!rw.ok() || !catalog.ok()) {
    std::cerr << "open: " << (rw.ok() ? catalog.status() : rw.status()) << "\n";
    return 1;
  }

  // Readers share the lock: two read grants at once, each with its own fence.
  {
    absl::StatusOr<atomix::ReadWriteLockGuard> first =
        atomix::ReadWriteLockGuard::AcquireRead(*rw, atomix::WithTimeout(std::chrono::seconds(5)));
    absl::StatusOr<atomix::ReadWriteLockGuard> second =
        atomix::ReadWriteLockGuard::AcquireRead(*rw, atomix::WithTimeout(std::chrono::seconds(5)));
    if (!first.ok() || !second.ok()) {
      std::cerr << "read: " << (first.ok() ? second.status() : first.status()) << "\n";
      return 1;
    }
    absl::StatusOr<atomix::ReadWriteLockInfo> info = rw->Get();
    if (!info.ok()) {
      std::cerr << "get: " << info.status() << "\n";
      return 1;
    }
    std::cout << info->readers << " readers hold the lock\n";
    // A writer cannot get in while they read; TryAcquireWrite never waits.
    absl::StatusOr<std::optional<atomix::Fence>> busy = rw->TryAcquireWrite();
    if (!busy.ok() || busy->has_value()) {
      std::cerr << "a writer got in alongside readers\n";
      return 1;
    }
  }  // both read grants released here

  // One writer, alone; its writes carry its fence and are refused once the
  // grant is gone (released, or its session ended).
  {
    absl::StatusOr<atomix::ReadWriteLockGuard> writing =
        atomix::ReadWriteLockGuard::AcquireWrite(*rw, atomix::WithTimeout(std::chrono::seconds(5)));
    if (absl::IsDeadlineExceeded(writing.status())) {
      std::cout << "readers held the lock for 5 s; giving up\n";
      return 0;
    }
    if (!writing.ok()) {
      std::cerr << "write: " << writing.status() << "\n";
      return 1;
    }
    absl::StatusOr<atomix::Version> put = catalog->Put("version", "2", atomix::IfFence(*writing));
    if (!put.ok()) {
      std::cerr << "put: " << put.status() << "\n";
      return 1;
    }
    if (writing->stop_token().stop_requested()) {
      std::cerr << "lost the session; stopping\n";
      return 1;
    }
    std::cout << "wrote with fence " << writing->fence().version << "\n";
  }
  return 0;
}
