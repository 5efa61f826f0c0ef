// Fencing: writes that only a lock's current holder can make, in the broker
// (IfFence) and in a resource outside it (FenceValidator).
//
// Build: the example_fenced_write target. Run against a broker at
// ATOMIX_BROKER (default 127.0.0.1:5679):
//   ./example_fenced_write
// Prints the error and exits 1 when the broker cannot be reached or a call
// fails.
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "atomix/atomix.h"

// Stands for a file or a table outside the broker: it checks every writer's
// fence against the highest it has seen.
class Journal {
 public:
  absl::Status Append(atomix::Version fence, const std::string& line) {
    return validator_.CheckAndRun(fence, [&] { lines_.push_back(line); });
  }
  size_t size() const { return lines_.size(); }

 private:
  atomix::FenceValidator validator_{"journal"};
  std::vector<std::string> lines_;
};

int main() {
  atomix::ClientOptions options;
  options.connect_timeout = std::chrono::seconds(3);
  absl::StatusOr<atomix::Client> client = atomix::Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "connect: " << client.status() << "\n";
    return 1;
  }
  absl::StatusOr<atomix::Lock> lock = atomix::GetLock(*client, "examples/journal-writer");
  absl::StatusOr<atomix::Map<std::string, std::string>> state =
      atomix::GetMap<std::string, std::string>(*client, "examples/journal-state");
  if (!lock.ok() || !state.ok()) {
    std::cerr << "open: " << (lock.ok() ? state.status() : lock.status()) << "\n";
    return 1;
  }

  // First grant: write in the broker and in the journal under its fence.
  absl::StatusOr<atomix::Fence> first = lock->Acquire(atomix::WithTimeout(std::chrono::seconds(5)));
  if (!first.ok()) {
    std::cerr << "acquire: " << first.status() << "\n";
    return 1;
  }
  Journal journal;
  absl::StatusOr<atomix::Version> put =
      state->Put("owner", "first", atomix::IfFence(*lock, *first));
  absl::Status appended = journal.Append(first->version, "first writer");
  if (!put.ok() || !appended.ok()) {
    std::cerr << "write: " << (put.ok() ? appended : put.status()) << "\n";
    return 1;
  }

  // The grant is taken away (here by fence, as an operator would; a lost
  // session does the same) and the lock granted anew.
  absl::Status released = lock->Release(atomix::IfVersion(*first));
  absl::StatusOr<atomix::Fence> second =
      lock->Acquire(atomix::WithTimeout(std::chrono::seconds(5)));
  if (!released.ok() || !second.ok()) {
    std::cerr << "takeover: " << (released.ok() ? second.status() : released) << "\n";
    return 1;
  }
  if (!journal.Append(second->version, "second writer").ok()) return 1;

  // The first holder, unaware, writes again with its old fence: both the
  // broker and the journal refuse.
  absl::StatusOr<atomix::Version> stale =
      state->Put("owner", "first again", atomix::IfFence(*lock, *first));
  std::cout << "broker: " << stale.status() << "\n";
  std::cout << "journal: " << journal.Append(first->version, "stale write") << "\n";
  if (stale.ok()) return 1;

  absl::Status done = lock->Release(atomix::IfVersion(*second));
  if (!done.ok()) {
    std::cerr << "release: " << done << "\n";
    return 1;
  }
  std::cout << "journal has " << journal.size() << " lines\n";
  return 0;
}
