// MultiMap<K, V>: keys holding sets of values; put, remove, membership, a
// key's values, every pair, and a watch.
//
// Build: the example_multi_map target. Run against a broker at ATOMIX_BROKER
// (default 127.0.0.1:5679):
//   ./example_multi_map
// Safe to run any number of times; prints the error and exits 1 when the
// broker cannot be reached or a call fails.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <utility>

#include "atomix/atomix.h"

int main() {
  atomix::ClientOptions options;
  options.connect_timeout = std::chrono::seconds(3);
  absl::StatusOr<atomix::Client> client = atomix::Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "connect: " << client.status() << "\n";
    return 1;
  }

  absl::StatusOr<atomix::MultiMap<std::string, std::string>> roles =
      atomix::GetMultiMap<std::string, std::string>(*client, "examples/roles");
  if (!roles.ok()) {
    std::cerr << "open: " << roles.status() << "\n";
    return 1;
  }
  // Start from nothing, so that every run prints the same story.
  if (absl::StatusOr<atomix::RemovedPairs> reset = roles->Clear(); !reset.ok()) {
    std::cerr << "clear: " << reset.status() << "\n";
    return 1;
  }

  // Follow one key from here on: an event per pair added or removed.
  auto alice_events = roles->Watch("alice");
  if (!alice_events.ok()) {
    std::cerr << "watch: " << alice_events.status() << "\n";
    return 1;
  }

  // A key holds each value once: putting a pair again changes nothing and
  // reports the version that added it.
  for (const auto& [user, role] : {std::pair("alice", "admin"), std::pair("alice", "dev"),
                                   std::pair("bob", "dev"), std::pair("alice", "admin")}) {
    absl::StatusOr<atomix::Change> put = roles->Put(user, role);
    if (!put.ok()) {
      std::cerr << "put: " << put.status() << "\n";
      return 1;
    }
    std::cout << "put " << user << " " << role << ": " << (put->changed ? "added" : "already there")
              << " (version " << put->version << ")\n";
  }

  absl::StatusOr<bool> admin = roles->Contains("alice", "admin");
  absl::StatusOr<bool> carol = roles->Contains("carol");
  absl::StatusOr<int64_t> size = roles->Size();
  if (!admin.ok() || !carol.ok() || !size.ok()) {
    std::cerr << "read: " << (!admin.ok() ? admin.status() : carol.status()) << " " << size.status()
              << "\n";
    return 1;
  }
  std::cout << "alice is admin: " << (*admin ? "yes" : "no")
            << "; carol has roles: " << (*carol ? "yes" : "no") << "; " << *size << " pairs\n";

  // Get(key) lists one key's values in order, with the revision that added
  // each, a page per round trip.
  for (const absl::StatusOr<atomix::Versioned<std::string>>& role : roles->Get("alice")) {
    if (!role.ok()) {
      std::cerr << "get: " << role.status() << "\n";
      return 1;
    }
    std::cout << "alice: " << role->value << " (added at version " << role->version << ")\n";
  }

  // RemoveAll takes every value of a key away at one revision.
  absl::StatusOr<atomix::RemovedPairs> removed = roles->RemoveAll("alice");
  if (!removed.ok()) {
    std::cerr << "remove all: " << removed.status() << "\n";
    return 1;
  }
  std::cout << "removed " << removed->count << " of alice's roles at version " << removed->version
            << "\n";

  // Entries() lists every pair in (key, value) order; WithPrefix narrows
  // it to keys that start with a prefix.
  for (const absl::StatusOr<atomix::Entry<std::string, std::string>>& pair : roles->Entries()) {
    if (!pair.ok()) {
      std::cerr << "list: " << pair.status() << "\n";
      return 1;
    }
    std::cout << pair->key << " -> " << pair->value << " (version " << pair->version << ")\n";
  }

  // The watch saw two pairs added, then both removed at one revision (the
  // repeated put changed nothing, so it made no event).
  for (int i = 0; i < 4; ++i) {
    std::optional<atomix::MultiMapEvent<std::string, std::string>> e =
        alice_events->Receive(std::chrono::seconds(5));
    if (!e) {
      std::cerr << "event: none (" << alice_events->status() << ")\n";
      return 1;
    }
    const bool added = e->type == atomix::EventType::kInserted;
    const auto& pair = added ? *e->entry : *e->previous;
    std::cout << "event at " << e->revision << ": " << (added ? "added " : "removed ") << pair.key
              << " " << pair.value << "\n";
  }
  return 0;
}
