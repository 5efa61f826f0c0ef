// Counter: a named 64-bit signed counter kept by the broker.
//
//   absl::StatusOr<atomix::Counter> jobs = atomix::GetCounter("jobs");
//   if (!jobs.ok()) return jobs.status();
//   absl::StatusOr<atomix::Versioned<int64_t>> n = jobs->Increment();
//   if (n.ok()) std::cout << "job #" << n->value << " at revision " << n->version;
//
//   // Compare-and-set: retry on FAILED_PRECONDITION, which carries the value
//   // the counter holds now.
//   auto r = jobs->CompareAndSet(10, 0);
//   if (absl::IsFailedPrecondition(r.status())) {
//     std::optional<int64_t> now = atomix::CurrentVersion(r.status());
//   }
//
// A counter starts at 0 (version 0) when first opened. Every mutation is
// applied atomically by the broker and returns the value after it together
// with its version: the broker revision at which it was applied.
//
// Errors: INVALID_ARGUMENT for a bad name; FAILED_PRECONDITION when the name
// belongs to another primitive type, or on a CompareAndSet mismatch;
// OUT_OF_RANGE when a result would leave the int64 range (nothing changes);
// plus the transport codes of every call (UNAVAILABLE, DEADLINE_EXCEEDED,
// CANCELLED).
//
// Watch() follows every change as a Channel<CounterEvent> (atomix/watch.h).
//
// Each operation Op has a non-blocking form OpAsync with the same arguments,
// returning a Future of Op's result (atomix/future.h); Op waits for it.
//
//   atomix::Future<atomix::Versioned<int64_t>> f = jobs->IncrementAsync();
//
// Thread-safety: Counter is a cheap, copyable, immutable handle (client +
// name). Copies share the client; all methods are safe to call from any
// thread at the same time. Methods are const because the handle never
// changes: the state lives in the broker.
#ifndef ATOMIX_COUNTER_H_
#define ATOMIX_COUNTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/channel.h"
#include "atomix/client.h"
#include "atomix/export.h"
#include "atomix/future.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix {

// One event of a counter watch (atomix/watch.h).
//   kUpdated:  the value went from `previous` to `value` at `revision`.
//   kInserted: only for WithReplay(): the current `value` at the snapshot's
//              revision (`previous` 0).
//   kResync:   `value` at `revision` after history was lost (`previous` 0).
struct ATOMIX_EXPORT CounterEvent {
  EventType type = EventType::kUpdated;
  Version revision = 0;
  int64_t value = 0;
  int64_t previous = 0;
  ResyncReason reason = ResyncReason::kNone;

  friend bool operator==(const CounterEvent&, const CounterEvent&) = default;
};

class Counter;

namespace internal {
class ClientCore;
// Opens a counter over a client core (the public GetCounter overloads and
// tests use this). Not part of the public API.
ATOMIX_EXPORT absl::StatusOr<Counter> GetCounter(std::shared_ptr<ClientCore> core,
                                                 std::string_view name,
                                                 const CallOptions& options = {});
}  // namespace internal

class ATOMIX_EXPORT Counter {
 public:
  const std::string& name() const { return name_; }

  // The current value.
  absl::StatusOr<int64_t> Get(const CallOptions& options = {}) const;

  // Sets the value; returns it with the revision of the write.
  absl::StatusOr<Versioned<int64_t>> Set(int64_t value, const CallOptions& options = {}) const;

  // Adds `delta` (which may be negative); returns the new value and its
  // version. OUT_OF_RANGE if the result would overflow int64.
  absl::StatusOr<Versioned<int64_t>> Increment(int64_t delta = 1,
                                               const CallOptions& options = {}) const;

  // Subtracts `delta`; the same as Increment(-delta). INVALID_ARGUMENT (and no
  // round trip) for delta == INT64_MIN, which cannot be negated.
  absl::StatusOr<Versioned<int64_t>> Decrement(int64_t delta = 1,
                                               const CallOptions& options = {}) const;

  // Sets `update` if the counter holds `expect`. Otherwise FAILED_PRECONDITION,
  // and CurrentVersion(status) holds the counter's current value.
  absl::StatusOr<Versioned<int64_t>> CompareAndSet(int64_t expect, int64_t update,
                                                   const CallOptions& options = {}) const;

  // The same, without waiting (atomix/future.h).
  Future<int64_t> GetAsync(const CallOptions& options = {}) const;
  Future<Versioned<int64_t>> SetAsync(int64_t value, const CallOptions& options = {}) const;
  Future<Versioned<int64_t>> IncrementAsync(int64_t delta = 1,
                                            const CallOptions& options = {}) const;
  Future<Versioned<int64_t>> DecrementAsync(int64_t delta = 1,
                                            const CallOptions& options = {}) const;
  Future<Versioned<int64_t>> CompareAndSetAsync(int64_t expect, int64_t update,
                                                const CallOptions& options = {}) const;

  // Watches the counter; returns once the broker accepted the watch.
  absl::StatusOr<Channel<CounterEvent>> Watch(const WatchOptions& options = {}) const;

 private:
  friend absl::StatusOr<Counter> internal::GetCounter(std::shared_ptr<internal::ClientCore> core,
                                                      std::string_view name,
                                                      const CallOptions& options);
  Counter(std::shared_ptr<internal::ClientCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}

  std::shared_ptr<internal::ClientCore> core_;
  std::string name_;
};

// Opens the counter `name` through `client`, creating it if it does not
// exist. Fails early, with the broker's status, on a bad name
// (INVALID_ARGUMENT) or a name bound to another type (FAILED_PRECONDITION).
ATOMIX_EXPORT absl::StatusOr<Counter> GetCounter(const Client& client, std::string_view name,
                                                 const CallOptions& options = {});

// The same through DefaultClient().
ATOMIX_EXPORT absl::StatusOr<Counter> GetCounter(std::string_view name,
                                                 const CallOptions& options = {});

}  // namespace atomix

#endif  // ATOMIX_COUNTER_H_
