// Value<T>: insert-if-absent, versioned read, conditional set and delete.
//
// Build: the example_value target. Run against a broker at ATOMIX_BROKER
// (default 127.0.0.1:5679):
//   ./example_value
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

  absl::StatusOr<atomix::Value<std::string>> leader =
      atomix::GetValue<std::string>(*client, "examples/leader");
  if (!leader.ok()) {
    std::cerr << "open: " << leader.status() << "\n";
    return 1;
  }

  // Insert writes only if the value is absent; ALREADY_EXISTS otherwise.
  absl::StatusOr<atomix::Version> inserted = leader->Insert("node-a");
  if (inserted.ok()) {
    std::cout << "became leader at version " << *inserted << "\n";
  } else if (absl::IsAlreadyExists(inserted.status())) {
    std::cout << "someone else is leader\n";
  } else {
    std::cerr << "insert: " << inserted.status() << "\n";
    return 1;
  }

  // Get returns nullopt when absent, else the value and its version.
  absl::StatusOr<std::optional<atomix::Versioned<std::string>>> current = leader->Get();
  if (!current.ok()) {
    std::cerr << "get: " << current.status() << "\n";
    return 1;
  }
  if (!current->has_value()) {
    std::cout << "no leader\n";
    return 0;
  }
  const atomix::Version seen = (*current)->version;
  std::cout << "leader is " << (*current)->value << " (version " << seen << ")\n";

  // Hand over, but only if nobody wrote since we read: IfVersion(seen).
  absl::StatusOr<atomix::Version> handed = leader->Set("node-b", atomix::IfVersion(seen));
  if (absl::IsFailedPrecondition(handed.status())) {
    std::cout << "lost the race; version is now "
              << atomix::CurrentVersion(handed.status()).value_or(0) << "\n";
    return 0;
  }
  if (!handed.ok()) {
    std::cerr << "set: " << handed.status() << "\n";
    return 1;
  }
  std::cout << "handed over at version " << *handed << "\n";

  // Delete with IfVersion too; NOT_FOUND if the value is already gone.
  absl::StatusOr<atomix::Version> deleted = leader->Delete(atomix::IfVersion(*handed));
  if (!deleted.ok() && !absl::IsNotFound(deleted.status()) &&
      !absl::IsFailedPrecondition(deleted.status())) {
    std::cerr << "delete: " << deleted.status() << "\n";
    return 1;
  }

  // Any type with a codec works; integers are 8 bytes big-endian on the wire.
  absl::StatusOr<atomix::Value<int64_t>> epoch =
      atomix::GetValue<int64_t>(*client, "examples/epoch");
  if (!epoch.ok()) {
    std::cerr << "open: " << epoch.status() << "\n";
    return 1;
  }
  absl::StatusOr<atomix::Version> written = epoch->Set(42);
  if (!written.ok()) {
    std::cerr << "set: " << written.status() << "\n";
    return 1;
  }
  std::cout << "epoch 42 written at version " << *written << "\n";
  return 0;
}
