// Asynchronous calls: many in flight from one thread, continuations, and a
// coroutine.
//
// Build: the example_async target. Run against a broker at ATOMIX_BROKER
// (default 127.0.0.1:5679):
//   ./example_async
// Safe to run any number of times; prints the error and exits 1 when the
// broker cannot be reached or a call fails.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "atomix/atomix.h"

// A coroutine: moves `n` from one counter to another, one awaited call after
// the other, without blocking any thread while it waits.
atomix::Future<int64_t> Move(atomix::Counter from, atomix::Counter to, int64_t n) {
  absl::StatusOr<atomix::Versioned<int64_t>> taken = co_await from.DecrementAsync(n);
  if (!taken.ok()) co_return taken.status();
  absl::StatusOr<atomix::Versioned<int64_t>> given = co_await to.IncrementAsync(n);
  if (!given.ok()) co_return given.status();
  co_return given->value;
}

int main() {
  atomix::ClientOptions options;
  options.connect_timeout = std::chrono::seconds(3);
  absl::StatusOr<atomix::Client> client = atomix::Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "connect: " << client.status() << "\n";
    return 1;
  }
  absl::StatusOr<atomix::Counter> hits = atomix::GetCounter(*client, "examples/hits");
  absl::StatusOr<atomix::Map<std::string, int64_t>> scores =
      atomix::GetMap<std::string, int64_t>(*client, "examples/scores");
  if (!hits.ok() || !scores.ok()) {
    std::cerr << "open: " << (hits.ok() ? scores.status() : hits.status()) << "\n";
    return 1;
  }

  // Start 1,000 increments from this one thread; they share the client's
  // stream and go out in a few batches. Then collect them.
  std::vector<atomix::Future<atomix::Versioned<int64_t>>> pending;
  for (int i = 0; i < 1000; ++i) pending.push_back(hits->IncrementAsync());
  int64_t last = 0;
  for (atomix::Future<atomix::Versioned<int64_t>>& f : pending) {
    absl::StatusOr<atomix::Versioned<int64_t>> n = f.get();
    if (!n.ok()) {
      std::cerr << "increment: " << n.status() << "\n";
      return 1;
    }
    last = std::max(last, n->value);
  }
  std::cout << "1000 increments, counter now " << last << "\n";

  // A continuation runs on the client's callback threads once the answer is
  // there, and what it returns becomes the next future's result.
  atomix::Future<std::string> line =
      scores->PutAsync("alice", 42, atomix::WithTimeout(std::chrono::seconds(2)))
          .then([](absl::StatusOr<atomix::Version> v) -> absl::StatusOr<std::string> {
            if (!v.ok()) return v.status();
            return "alice stored at revision " + std::to_string(*v);
          });
  absl::StatusOr<std::string> stored = line.get();
  if (!stored.ok()) {
    std::cerr << "put: " << stored.status() << "\n";
    return 1;
  }
  std::cout << *stored << "\n";

  // A coroutine's Future is waited for like any other.
  absl::StatusOr<atomix::Counter> spent = atomix::GetCounter(*client, "examples/spent");
  if (!spent.ok()) {
    std::cerr << "open: " << spent.status() << "\n";
    return 1;
  }
  absl::StatusOr<int64_t> moved = Move(*hits, *spent, 10).get();
  if (!moved.ok()) {
    std::cerr << "move: " << moved.status() << "\n";
    return 1;
  }
  std::cout << "moved 10 hits; spent is now " << *moved << "\n";
  return 0;
}
