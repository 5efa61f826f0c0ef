// Set<E>: add, remove, membership, size and a paged listing.
//
// Build: the example_set target. Run against a broker at ATOMIX_BROKER
// (default 127.0.0.1:5679):
//   ./example_set
// Safe to run any number of times; prints the error and exits 1 when the
// broker cannot be reached or a call fails.
#include <chrono>
#include <cstdint>
#include <iostream>
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

  absl::StatusOr<atomix::Set<std::string>> online =
      atomix::GetSet<std::string>(*client, "examples/online");
  if (!online.ok()) {
    std::cerr << "open: " << online.status() << "\n";
    return 1;
  }

  // Add reports whether the set changed. Adding an element that is already
  // there is not an error: changed is false and version is when it was added.
  for (const char* worker : {"worker-1", "worker-2", "worker-3", "worker-1"}) {
    absl::StatusOr<atomix::Change> added = online->Add(worker);
    if (!added.ok()) {
      std::cerr << "add: " << added.status() << "\n";
      return 1;
    }
    std::cout << "add " << worker << ": " << (added->changed ? "added" : "already there")
              << " (version " << added->version << ")\n";
  }

  // Remove reports whether the element was there (version 0 if not).
  absl::StatusOr<atomix::Change> removed = online->Remove("worker-2");
  if (!removed.ok()) {
    std::cerr << "remove: " << removed.status() << "\n";
    return 1;
  }

  absl::StatusOr<bool> has = online->Contains("worker-2");
  absl::StatusOr<int64_t> size = online->Size();
  if (!has.ok() || !size.ok()) {
    std::cerr << "read: " << (has.ok() ? size.status() : has.status()) << "\n";
    return 1;
  }
  std::cout << "worker-2 online: " << (*has ? "yes" : "no") << ", " << *size << " online\n";

  // Elements() lists Versioned<E>: each element with the revision that added
  // it, in order, one page (here: 100 elements) per round trip.
  atomix::ListOptions paged;
  paged.page_size = 100;
  for (const absl::StatusOr<atomix::Versioned<std::string>>& e : online->Elements(paged)) {
    if (!e.ok()) {
      std::cerr << "list: " << e.status() << "\n";
      return 1;
    }
    std::cout << e->value << " (added at version " << e->version << ")\n";
  }

  // Clear removes everything at one revision (0 if the set was empty).
  absl::StatusOr<atomix::Version> cleared = online->Clear();
  if (!cleared.ok()) {
    std::cerr << "clear: " << cleared.status() << "\n";
    return 1;
  }
  std::cout << "cleared at version " << *cleared << "\n";
  return 0;
}
