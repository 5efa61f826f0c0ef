// Transaction: move money between two accounts atomically, retrying when
// another writer got there first, and count the transfers in the same step.
//
// Build: the example_transaction target. Run against a broker at
// ATOMIX_BROKER (default 127.0.0.1:5679):
//   ./example_transaction
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
  auto accounts = atomix::GetMap<std::string, int64_t>(*client, "examples/accounts");
  auto transfers = atomix::GetCounter(*client, "examples/transfers");
  if (!accounts.ok() || !transfers.ok()) {
    std::cerr << "open: " << (accounts.ok() ? transfers.status() : accounts.status()) << "\n";
    return 1;
  }
  // Open both accounts with 100 unless they exist: a transaction of its own.
  absl::StatusOr<atomix::TxnResult> opened = atomix::Transaction(*client)
                                                 .IfAbsent(*accounts, "alice")
                                                 .IfAbsent(*accounts, "bob")
                                                 .Put(*accounts, "alice", 100)
                                                 .Put(*accounts, "bob", 100)
                                                 .Commit();
  if (!opened.ok()) {
    std::cerr << "open accounts: " << opened.status() << "\n";
    return 1;
  }

  // Read both balances, then write both only if neither changed meanwhile.
  for (int attempt = 1;; ++attempt) {
    auto alice = accounts->Get("alice");
    auto bob = accounts->Get("bob");
    if (!alice.ok() || !bob.ok() || !alice->has_value() || !bob->has_value()) {
      std::cerr << "read: " << (alice.ok() ? bob.status() : alice.status()) << "\n";
      return 1;
    }
    const int64_t amount = 10;
    absl::StatusOr<atomix::TxnResult> moved = atomix::Transaction(*client)
                                                  .IfVersion(*accounts, "alice", (*alice)->version)
                                                  .IfVersion(*accounts, "bob", (*bob)->version)
                                                  .Put(*accounts, "alice", (*alice)->value - amount)
                                                  .Put(*accounts, "bob", (*bob)->value + amount)
                                                  .Increment(*transfers)
                                                  .Commit();
    if (!moved.ok()) {
      std::cerr << "transfer: " << moved.status() << "\n";
      return 1;
    }
    if (moved->succeeded) {
      std::cout << "moved " << amount << " at revision " << moved->revision << " (attempt "
                << attempt << "): alice " << (*alice)->value - amount << ", bob "
                << (*bob)->value + amount << ", transfer #" << moved->results[2].counter << "\n";
      return 0;
    }
    std::cout << "retrying: " << moved->failure << "\n";  // which comparison failed, and why
  }
}
