// List<T>: a work queue shared by consumers, plus positional reads and
// writes, a one-read slice and a paged listing.
//
// Build: the example_list target. Run against a broker at ATOMIX_BROKER
// (default 127.0.0.1:5679):
//   ./example_list
// Safe to run any number of times; prints the error and exits 1 when the
// broker cannot be reached or a call fails.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "atomix/atomix.h"

int main() {
  atomix::ClientOptions options;
  options.connect_timeout = std::chrono::seconds(3);
  absl::StatusOr<atomix::Client> client = atomix::Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "connect: " << client.status() << "\n";
    return 1;
  }

  absl::StatusOr<atomix::List<std::string>> jobs =
      atomix::GetList<std::string>(*client, "examples/work-queue");
  if (!jobs.ok()) {
    std::cerr << "open: " << jobs.status() << "\n";
    return 1;
  }
  if (absl::StatusOr<atomix::Version> cleared = jobs->Clear(); !cleared.ok()) {
    std::cerr << "clear: " << cleared.status() << "\n";
    return 1;
  }

  // A producer appends at the tail: one value, or several at one revision.
  // ListWrite says where they went: the revision, the first index, the size.
  absl::StatusOr<atomix::ListWrite> added =
      jobs->AppendAll({"resize img-1", "resize img-2", "resize img-3", "resize img-4"});
  if (!added.ok()) {
    std::cerr << "append: " << added.status() << "\n";
    return 1;
  }
  std::cout << "queued " << added->size << " jobs at version " << added->version << "\n";

  // Consumers take the head. PopFront is one atomic step on the broker, so
  // two consumers (threads here, processes alike) never get the same job;
  // an empty queue is nullopt, not an error.
  std::atomic<int> done{0};
  std::atomic<bool> failed{false};
  auto consume = [&](const std::string& who) {
    while (true) {
      absl::StatusOr<std::optional<atomix::ListItem<std::string>>> job = jobs->PopFront();
      if (!job.ok()) {
        std::cerr << who << ": " << job.status() << "\n";
        failed = true;
        return;
      }
      if (!job->has_value()) return;  // the queue is empty
      std::cout << who << " runs \"" << (*job)->value << "\"\n";
      done.fetch_add(1);
    }
  };
  std::thread a(consume, "consumer a"), b(consume, "consumer b");
  a.join();
  b.join();
  if (failed) return 1;
  std::cout << done.load() << " jobs run, each once\n";

  // Positions: Insert shifts what follows, Get reads one item with its
  // version, and Set with IfVersion replaces it only if nobody wrote since.
  if (!jobs->AppendAll({"a", "c"}).ok() || !jobs->Insert(1, "b").ok()) {
    std::cerr << "append or insert failed\n";
    return 1;
  }
  absl::StatusOr<atomix::ListItem<std::string>> second = jobs->Get(1);
  if (!second.ok()) {
    std::cerr << "get: " << second.status() << "\n";
    return 1;
  }
  absl::StatusOr<atomix::ListWrite> set = jobs->Set(1, "B", atomix::IfVersion(second->version));
  if (!set.ok()) {
    std::cerr << "set: " << set.status() << "\n";  // FAILED_PRECONDITION if it changed
    return 1;
  }
  // An index past the end is OUT_OF_RANGE, naming the index and the size.
  absl::StatusOr<atomix::ListItem<std::string>> missing = jobs->Get(10);
  std::cout << "get 10: " << missing.status().message() << "\n";

  // Slice reads up to one page of [start, stop) at one revision.
  absl::StatusOr<atomix::ListPage<std::string>> page = jobs->Slice(0, 2);
  if (!page.ok()) {
    std::cerr << "slice: " << page.status() << "\n";
    return 1;
  }
  for (const atomix::ListItem<std::string>& item : page->items) {
    std::cout << "slice [" << item.index << "] " << item.value << "\n";
  }

  // Items() walks the whole list page by page.
  for (const absl::StatusOr<atomix::ListItem<std::string>>& item : jobs->Items()) {
    if (!item.ok()) {
      std::cerr << "list: " << item.status() << "\n";
      return 1;
    }
    std::cout << "[" << item->index << "] " << item->value << " (version " << item->version
              << ")\n";
  }

  // Remove returns the item it took; PopBack takes the tail.
  absl::StatusOr<atomix::ListItem<std::string>> removed = jobs->Remove(0);
  absl::StatusOr<std::optional<atomix::ListItem<std::string>>> last = jobs->PopBack();
  if (!removed.ok() || !last.ok() || !last->has_value()) {
    std::cerr << "remove or pop failed\n";
    return 1;
  }
  std::cout << "removed " << removed->value << ", popped " << (*last)->value << "\n";
  return 0;
}
