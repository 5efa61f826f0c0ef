// CounterMap<K>: a per-user quota of API calls, enforced with
// compare-and-set, an optimistic variant with Increment, and a listing of
// every user's count.
//
// Build: the example_counter_map target. Run against a broker at
// ATOMIX_BROKER (default 127.0.0.1:5679):
//   ./example_counter_map
// Safe to run any number of times; prints the error and exits 1 when the
// broker cannot be reached or a call fails.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>

#include "atomix/atomix.h"

namespace {

constexpr int64_t kDailyLimit = 3;

// Takes one call from `user`'s quota: true if admitted, false if the quota
// is used up. The count never goes above the limit, even for a moment,
// however many processes admit calls at the same time.
absl::StatusOr<bool> Admit(const atomix::CounterMap<std::string>& calls, const std::string& user) {
  absl::StatusOr<int64_t> used = calls.Get(user);  // an absent key reads 0
  if (!used.ok()) return used.status();
  while (*used < kDailyLimit) {
    absl::StatusOr<atomix::Versioned<int64_t>> taken = calls.CompareAndSet(user, *used, *used + 1);
    if (taken.ok()) return true;
    // Someone else counted a call first: FAILED_PRECONDITION carries the
    // value the key holds now. Retry from there.
    std::optional<int64_t> now = atomix::CurrentVersion(taken.status());
    if (!absl::IsFailedPrecondition(taken.status()) || !now) return taken.status();
    *used = *now;
  }
  return false;
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

  absl::StatusOr<atomix::CounterMap<std::string>> calls =
      atomix::GetCounterMap<std::string>(*client, "examples/api-calls");
  if (!calls.ok()) {
    std::cerr << "open: " << calls.status() << "\n";
    return 1;
  }
  // A new day: every count starts again at 0.
  absl::StatusOr<atomix::Versioned<int64_t>> cleared = calls->Clear();
  if (!cleared.ok()) {
    std::cerr << "clear: " << cleared.status() << "\n";
    return 1;
  }

  for (int call = 1; call <= 5; ++call) {
    absl::StatusOr<bool> admitted = Admit(*calls, "user/alice");
    if (!admitted.ok()) {
      std::cerr << "admit: " << admitted.status() << "\n";
      return 1;
    }
    std::cout << "alice, call " << call << ": " << (*admitted ? "admitted" : "over quota") << "\n";
  }

  // Optimistic: count first, give the call back if it went over the limit.
  // Cheaper (one round trip), but the count may pass the limit briefly.
  absl::StatusOr<atomix::Versioned<int64_t>> n = calls->Increment("user/bob");
  if (!n.ok()) {
    std::cerr << "increment: " << n.status() << "\n";
    return 1;
  }
  if (n->value > kDailyLimit) {
    absl::StatusOr<atomix::Versioned<int64_t>> back = calls->Decrement("user/bob");
    if (!back.ok()) {
      std::cerr << "decrement: " << back.status() << "\n";
      return 1;
    }
  }
  std::cout << "bob has made " << n->value << " call(s), counted at version " << n->version << "\n";

  // Every user's count, in key order, page by page.
  for (const absl::StatusOr<atomix::Entry<std::string, int64_t>>& e :
       calls->Entries(atomix::WithPrefix("user/"))) {
    if (!e.ok()) {
      std::cerr << "list: " << e.status() << "\n";
      return 1;
    }
    std::cout << e->key << " = " << e->value << " (version " << e->version << ")\n";
  }

  // Remove forgets a key; it reads 0 again.
  absl::StatusOr<std::optional<atomix::Versioned<int64_t>>> removed = calls->Remove("user/bob");
  if (!removed.ok() || !removed->has_value()) {
    std::cerr << "remove: " << removed.status() << "\n";
    return 1;
  }
  std::cout << "removed bob at " << (*removed)->value << " call(s)\n";
  return 0;
}
