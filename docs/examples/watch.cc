// Watch: follow a map subtree as a service registry, with an exact replay
// of what is there, live changes, and Resync when history was lost.
//
// Build: the example_watch target. Run against a broker at ATOMIX_BROKER
// (default 127.0.0.1:5679):
//   ./example_watch
// It registers two workers, watches the "workers/" subtree, removes the
// subtree and prints every event. Prints the error and exits 1 when the
// broker cannot be reached or a call fails.
#include <chrono>
#include <iostream>
#include <map>
#include <string>

#include "atomix/atomix.h"

namespace {

const char* Name(atomix::EventType type) {
  switch (type) {
    case atomix::EventType::kInserted: return "inserted";
    case atomix::EventType::kUpdated: return "updated";
    case atomix::EventType::kRemoved: return "removed";
    case atomix::EventType::kExpired: return "expired";
    case atomix::EventType::kResync: return "resync";
  }
  return "?";
}

}  // namespace

int main() {
  atomix::ClientOptions options;
  options.connect_timeout = std::chrono::seconds(3);
  absl::StatusOr<atomix::Client> client = atomix::Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "connect: " << client.status() << "\n";
    return 1;
  }
  auto registry = atomix::GetMap<std::string, std::string>(*client, "examples/registry");
  if (!registry.ok()) {
    std::cerr << "open: " << registry.status() << "\n";
    return 1;
  }
  for (const char* worker : {"workers/a", "workers/b"}) {
    if (auto w = registry->Put(worker, "10.0.0.1:80"); !w.ok()) {
      std::cerr << "put: " << w.status() << "\n";
      return 1;
    }
  }

  // Replay the subtree as it is now, then follow it live.
  auto events = registry->Watch(atomix::WithReplay().Prefix("workers/"));
  if (!events.ok()) {
    std::cerr << "watch: " << events.status() << "\n";
    return 1;
  }

  // A local view kept exactly in step with the broker.
  std::map<std::string, std::string> view;
  auto apply = [&view](const atomix::MapEvent<std::string, std::string>& e) {
    switch (e.type) {
      case atomix::EventType::kInserted:
      case atomix::EventType::kUpdated:
        view[e.entry->key] = e.entry->value;
        break;
      case atomix::EventType::kRemoved:
      case atomix::EventType::kExpired:
        view.erase(e.previous->key);
        break;
      case atomix::EventType::kResync:
        // History was lost (slow reader, broker restart): start over from
        // the snapshot the event carries.
        view.clear();
        for (const auto& entry : e.snapshot) view[entry.key] = entry.value;
        break;
    }
  };

  // Remove the whole subtree in one step: watchers see every removal at one
  // revision.
  auto removed = registry->RemovePrefix("workers/");
  if (!removed.ok()) {
    std::cerr << "remove prefix: " << removed.status() << "\n";
    return 1;
  }

  while (auto e = events->Receive(std::chrono::seconds(2))) {
    apply(*e);
    std::cout << Name(e->type) << " at revision " << e->revision << ", " << view.size()
              << " workers\n";
    if (view.empty()) break;
  }
  events->Close();  // ends the watch on the broker too
  return 0;
}
