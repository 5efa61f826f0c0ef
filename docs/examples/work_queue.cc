// WorkQueue: a queue of work items with leased takes. An item is processed
// by one consumer at a time and comes back if its consumer dies.
//
// Build: the example_work_queue target. Run against a broker at
// ATOMIX_BROKER (default 127.0.0.1:5679):
//   ./example_work_queue
// Prints the error and exits 1 when the broker cannot be reached or a call
// fails.
#include <chrono>
#include <iostream>
#include <optional>
#include <string>
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

  absl::StatusOr<atomix::WorkQueue<std::string>> jobs =
      atomix::GetWorkQueue<std::string>(*client, "examples/thumbnails");
  auto results = atomix::GetMap<std::string, std::string>(*client, "examples/thumbnail-results");
  if (!jobs.ok() || !results.ok()) {
    std::cerr << "open: " << jobs.status() << " " << results.status() << "\n";
    return 1;
  }

  // Producers push; each item gets an id, increasing in push order.
  absl::StatusOr<std::vector<int64_t>> ids = jobs->PushAll({"img-1.png", "img-2.png"});
  if (!ids.ok()) {
    std::cerr << "push: " << ids.status() << "\n";
    return 1;
  }
  std::cout << "pushed items " << ids->front() << " and " << ids->back() << "\n";

  for (int done = 0; done < 2;) {
    // Take leases the head item, waiting up to 5 s for one. The lease ends
    // after 30 s unless acked: the item then goes back to the head.
    atomix::TakeOptions take = atomix::WithTimeout(std::chrono::seconds(5));
    take.visibility_timeout = std::chrono::seconds(30);
    absl::StatusOr<atomix::LeasedItem<std::string>> job = jobs->Take(take);
    if (absl::IsDeadlineExceeded(job.status())) {
      std::cout << "no work for 5 s\n";
      return 0;
    }
    if (!job.ok()) {
      std::cerr << "take: " << job.status() << "\n";
      return 1;
    }
    // deliveries > 1: an earlier consumer took it and died (or gave it back).
    std::cout << "item " << job->id() << " (" << job->value() << "), delivery "
              << job->deliveries() << ", fence " << job->fence().version << "\n";

    // A write fenced by the lease applies only while we still hold the item.
    absl::StatusOr<atomix::Version> written =
        results->Put(job->value(), "thumb-" + job->value(), atomix::IfFence(*job));
    if (absl::IsFailedPrecondition(written.status())) {
      std::cout << "lost the lease; someone else has the item now\n";
      continue;
    }
    if (!written.ok()) {
      std::cerr << "put: " << written.status() << "\n";
      return 1;
    }
    // Ack removes the item for good. Without it the item goes back to the
    // head: on Release(), when the LeasedItem is destroyed, after the
    // visibility timeout, or when this process's session ends.
    absl::Status acked = job->Ack();
    if (!acked.ok()) {
      std::cerr << "ack: " << acked << "\n";
      return 1;
    }
    ++done;
  }

  // TryTake never waits: nullopt when nothing is queued.
  absl::StatusOr<std::optional<atomix::LeasedItem<std::string>>> none = jobs->TryTake();
  if (!none.ok()) {
    std::cerr << "try: " << none.status() << "\n";
    return 1;
  }
  absl::StatusOr<int64_t> queued = jobs->Size();
  absl::StatusOr<int64_t> leased = jobs->Leased();
  if (!queued.ok() || !leased.ok()) {
    std::cerr << "size: " << queued.status() << " " << leased.status() << "\n";
    return 1;
  }
  std::cout << (none->has_value() ? "more work" : "queue drained") << ": " << *queued
            << " queued, " << *leased << " leased\n";
  return 0;
}
