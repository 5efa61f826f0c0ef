// IndexedMap<K, V>: entries in insertion order, each with an index that
// never moves and is never reused; walking by index, and a paged listing.
//
// Build: the example_indexed_map target. Run against a broker at
// ATOMIX_BROKER (default 127.0.0.1:5679):
//   ./example_indexed_map
// Safe to run any number of times; prints the error and exits 1 when the
// broker cannot be reached or a call fails.
#include <chrono>
#include <cstdint>
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

  absl::StatusOr<atomix::IndexedMap<std::string, std::string>> jobs =
      atomix::GetIndexedMap<std::string, std::string>(*client, "examples/build-queue");
  if (!jobs.ok()) {
    std::cerr << "open: " << jobs.status() << "\n";
    return 1;
  }
  // Start from an empty map; its indexes go on from earlier runs.
  if (absl::StatusOr<atomix::Version> cleared = jobs->Clear(); !cleared.ok()) {
    std::cerr << "clear: " << cleared.status() << "\n";
    return 1;
  }

  // Each new key goes at the end with the next index. Writing a key again
  // keeps its index.
  for (const char* job : {"build-17", "build-18", "build-19"}) {
    absl::StatusOr<atomix::Version> put = jobs->Put(job, "queued");
    if (!put.ok()) {
      std::cerr << "put " << job << ": " << put.status() << "\n";
      return 1;
    }
  }
  if (absl::StatusOr<atomix::Version> running = jobs->Put("build-17", "running"); !running.ok()) {
    std::cerr << "put: " << running.status() << "\n";
    return 1;
  }

  // Removing a key retires its index; putting it back puts it at the end.
  if (absl::StatusOr<atomix::Version> removed = jobs->Remove("build-18"); !removed.ok()) {
    std::cerr << "remove: " << removed.status() << "\n";
    return 1;
  }
  if (absl::StatusOr<atomix::Version> again = jobs->Put("build-18", "retry"); !again.ok()) {
    std::cerr << "put: " << again.status() << "\n";
    return 1;
  }

  // Walk in insertion order: First(), then Next() of each index. Gaps left
  // by removed keys are skipped.
  absl::StatusOr<std::optional<atomix::IndexedEntry<std::string, std::string>>> at = jobs->First();
  while (at.ok() && at->has_value()) {
    const atomix::IndexedEntry<std::string, std::string>& e = **at;
    std::cout << "#" << e.index << " " << e.key << " = " << e.value << " (version " << e.version
              << ")\n";
    at = jobs->Next(e.index);
  }
  if (!at.ok()) {
    std::cerr << "walk: " << at.status() << "\n";
    return 1;
  }

  // Insert writes only if the key is absent.
  absl::StatusOr<atomix::Version> dup = jobs->Insert("build-17", "queued");
  if (!absl::IsAlreadyExists(dup.status())) {
    std::cerr << "expected ALREADY_EXISTS, got " << dup.status() << "\n";
    return 1;
  }

  // Compare-and-set on one entry: the write applies only if nobody wrote
  // since we read; its index stays the same.
  absl::StatusOr<std::optional<atomix::IndexedEntry<std::string, std::string>>> job =
      jobs->Get("build-19");
  if (!job.ok() || !job->has_value()) {
    std::cerr << "get: " << (job.ok() ? "absent" : job.status().ToString()) << "\n";
    return 1;
  }
  absl::StatusOr<atomix::Version> done =
      jobs->Put("build-19", "done", atomix::IfVersion((*job)->version));
  if (!done.ok()) {
    std::cerr << "compare-and-set: " << done.status() << "\n";
    return 1;
  }

  // The whole map in index order, two entries per round trip.
  atomix::IndexedListOptions paged;
  paged.page_size = 2;
  for (const absl::StatusOr<atomix::IndexedEntry<std::string, std::string>>& e :
       jobs->Entries(paged)) {
    if (!e.ok()) {
      std::cerr << "list: " << e.status() << "\n";
      return 1;
    }
    std::cout << "#" << e->index << " " << e->key << " = " << e->value << "\n";
  }

  absl::StatusOr<int64_t> size = jobs->Size();
  if (!size.ok()) {
    std::cerr << "size: " << size.status() << "\n";
    return 1;
  }
  std::cout << *size << " jobs\n";
  return 0;
}
