// Map<K, V>: put and get, insert-if-absent, compare-and-set with IfVersion,
// and paged listing under a key prefix.
//
// Build: the example_map target. Run against a broker at ATOMIX_BROKER
// (default 127.0.0.1:5679):
//   ./example_map
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

  absl::StatusOr<atomix::Map<std::string, std::string>> config =
      atomix::GetMap<std::string, std::string>(*client, "examples/config");
  if (!config.ok()) {
    std::cerr << "open: " << config.status() << "\n";
    return 1;
  }

  // Put inserts or replaces and returns the revision of the write.
  for (const char* key : {"db/host", "db/port", "db/user", "log/level"}) {
    absl::StatusOr<atomix::Version> put = config->Put(key, std::string("default-") + key);
    if (!put.ok()) {
      std::cerr << "put " << key << ": " << put.status() << "\n";
      return 1;
    }
  }

  // Insert writes only if the key is absent.
  absl::StatusOr<atomix::Version> owner = config->Insert("owner", "team-a");
  if (!owner.ok() && !absl::IsAlreadyExists(owner.status())) {
    std::cerr << "insert: " << owner.status() << "\n";
    return 1;
  }

  // Compare-and-set: read the entry, then write it back only if its version
  // is still the one we read. On FAILED_PRECONDITION someone wrote in
  // between; CurrentVersion() holds the entry's version now.
  absl::StatusOr<std::optional<atomix::Versioned<std::string>>> port = config->Get("db/port");
  if (!port.ok()) {
    std::cerr << "get: " << port.status() << "\n";
    return 1;
  }
  if (!port->has_value()) {
    std::cerr << "get: db/port is absent\n";
    return 1;
  }
  const atomix::Version seen = (*port)->version;
  absl::StatusOr<atomix::Version> updated =
      config->Update("db/port", "5432", atomix::IfVersion(seen));
  if (!updated.ok()) {
    std::cerr << "update: " << updated.status() << "\n";
    return 1;
  }
  // Writing again with the version we read now fails: it is stale.
  absl::StatusOr<atomix::Version> stale = config->Put("db/port", "6543", atomix::IfVersion(seen));
  if (absl::IsFailedPrecondition(stale.status())) {
    std::cout << "stale write refused; db/port is at version "
              << atomix::CurrentVersion(stale.status()).value_or(0) << " (we had " << seen << ")\n";
  } else {
    std::cerr << "expected FAILED_PRECONDITION, got " << stale.status() << "\n";
    return 1;
  }

  // List the "db/" subtree in key order, two entries per round trip. The
  // range ends after the first error.
  atomix::ListOptions db = atomix::WithPrefix("db/");
  db.page_size = 2;
  for (const absl::StatusOr<atomix::Entry<std::string, std::string>>& e : config->Entries(db)) {
    if (!e.ok()) {
      std::cerr << "list: " << e.status() << "\n";
      return 1;
    }
    std::cout << e->key << " = " << e->value << " (version " << e->version << ")\n";
  }

  // Keys() leaves the values on the broker.
  int64_t keys = 0;
  for (const absl::StatusOr<std::string>& k : config->Keys()) {
    if (!k.ok()) {
      std::cerr << "keys: " << k.status() << "\n";
      return 1;
    }
    ++keys;
  }
  absl::StatusOr<int64_t> size = config->Size();
  if (!size.ok()) {
    std::cerr << "size: " << size.status() << "\n";
    return 1;
  }
  std::cout << keys << " keys listed, size " << *size << "\n";

  // Remove with IfVersion: only if nobody changed the entry since our update.
  absl::StatusOr<atomix::Version> removed = config->Remove("db/port", atomix::IfVersion(*updated));
  if (!removed.ok() && !absl::IsFailedPrecondition(removed.status())) {
    std::cerr << "remove: " << removed.status() << "\n";
    return 1;
  }
  return 0;
}
