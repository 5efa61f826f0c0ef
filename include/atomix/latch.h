// CountDownLatch: a distributed count-down latch kept by the broker.
//
//   absl::StatusOr<atomix::CountDownLatch> ready = atomix::GetCountDownLatch("ready");
//   if (!ready.ok()) return ready.status();
//   (void)ready->TrySetCount(3);            // arm it: three workers must report
//   // ... each worker, in any process:
//   (void)ready->CountDown();
//   // ... the coordinator:
//   absl::StatusOr<atomix::LatchOpened> open =
//       ready->Await(atomix::WithTimeout(std::chrono::seconds(30)));
//   if (!open.ok()) return open.status();   // DEADLINE_EXCEEDED, CANCELLED, ABORTED
//
// A latch starts at count 0 (open). TrySetCount(n) arms it with count n,
// but only while it is at zero (it returns false and changes nothing
// otherwise): a latch is reset only once it has opened. Every arming starts
// a new generation (1, 2, ...). CountDown lowers the count by one (by
// nothing at zero) and returns the count after it. Await waits until the
// count is zero: the broker answers every waiting Await in the step whose
// CountDown reaches zero, with that generation and that step's revision.
//
// A count-down is counted once: with the client's session each CountDown
// carries a sequence number, so a retry after a lost connection is never
// applied twice, and a CountDown that was never answered may or may not
// have been applied (read GetCount() to know).
//
// A latch grants nothing that a session holds, so it has no fences: there
// is no IfFence for a latch, and a write fenced with a latch's name fails
// with FAILED_PRECONDITION ("... which grants no fences").
//
// Await is a blocking call: it waits until the call's deadline (CallOptions,
// else ClientOptions::default_call_timeout), then fails with
// DEADLINE_EXCEEDED; the broker is told the time left, so it drops the
// waiter first. Cancelling through CallOptions::cancel returns CANCELLED at
// once and withdraws the waiter. A waiter belongs to the client's session,
// not to its connection: after a reconnect the client finds it again, and
// when the session ends while it waits (Close, or the TTL after the process
// died) the broker withdraws it with ABORTED. An answer that crosses a
// give-up is dropped: it changes nothing at the broker.
//
// Errors: INVALID_ARGUMENT for a bad name or a count outside 1 .. 2^31;
// FAILED_PRECONDITION for a name bound to another primitive type;
// DEADLINE_EXCEEDED, CANCELLED and ABORTED from Await as above; plus
// UNAVAILABLE.
//
// Watch() follows the count as a Channel<LatchEvent> (atomix/watch.h).
//
// Thread-safety: CountDownLatch is a cheap, copyable, immutable handle
// (client + name); all methods are safe to call from any thread at the same
// time.
#ifndef ATOMIX_LATCH_H_
#define ATOMIX_LATCH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/channel.h"
#include "atomix/client.h"
#include "atomix/export.h"
#include "atomix/future.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix {

// What an Await returns: the generation whose count reached zero, and the
// revision of the step that reached it (or, for an Await of an open latch,
// the broker's revision when it was answered).
struct ATOMIX_EXPORT LatchOpened {
  int64_t generation = 0;
  Version revision = 0;
  friend bool operator==(const LatchOpened&, const LatchOpened&) = default;
};

// The state of a latch: its count, its generation and how many Awaits wait.
struct ATOMIX_EXPORT LatchInfo {
  int64_t count = 0;
  int64_t generation = 0;
  int64_t waiters = 0;
  friend bool operator==(const LatchInfo&, const LatchInfo&) = default;
};

// One event of a latch watch (atomix/watch.h): the count and generation
// after the change.
//   kInserted: TrySetCount armed the latch (also: the state of a
//              WithReplay() watch, at the snapshot's revision).
//   kUpdated:  a CountDown lowered the count (count 0: the latch opened).
//   kResync:   the state at `revision` after history was lost.
struct ATOMIX_EXPORT LatchEvent {
  EventType type = EventType::kInserted;
  Version revision = 0;
  int64_t count = 0;
  int64_t generation = 0;
  ResyncReason reason = ResyncReason::kNone;
  friend bool operator==(const LatchEvent&, const LatchEvent&) = default;
};

class CountDownLatch;

namespace internal {
class ClientCore;
// Opens a latch over a client core. Not part of the public API.
ATOMIX_EXPORT absl::StatusOr<CountDownLatch> GetCountDownLatch(std::shared_ptr<ClientCore> core,
                                                               std::string_view name,
                                                               const CallOptions& options = {});
}  // namespace internal

class ATOMIX_EXPORT CountDownLatch {
 public:
  const std::string& name() const { return name_; }

  // Arms the latch with `count` (1 .. 2^31) if it is at zero: true. False,
  // changing nothing, if the count is not zero.
  absl::StatusOr<bool> TrySetCount(int64_t count, const CallOptions& options = {}) const;
  // Lowers the count by one (by nothing at zero); returns the count after.
  absl::StatusOr<int64_t> CountDown(const CallOptions& options = {}) const;
  // Waits until the count is zero (at once if it is); see the header
  // comment for the deadline, cancellation and session rules.
  absl::StatusOr<LatchOpened> Await(const CallOptions& options = {}) const;
  // The current count.
  absl::StatusOr<int64_t> GetCount(const CallOptions& options = {}) const;
  // The count, generation and number of waiting Awaits.
  absl::StatusOr<LatchInfo> GetInfo(const CallOptions& options = {}) const;

  // The same, without waiting (atomix/future.h).
  Future<bool> TrySetCountAsync(int64_t count, const CallOptions& options = {}) const;
  Future<int64_t> CountDownAsync(const CallOptions& options = {}) const;
  Future<LatchOpened> AwaitAsync(const CallOptions& options = {}) const;
  Future<int64_t> GetCountAsync(const CallOptions& options = {}) const;
  Future<LatchInfo> GetInfoAsync(const CallOptions& options = {}) const;

  // Watches the count; returns once the broker accepted the watch.
  absl::StatusOr<Channel<LatchEvent>> Watch(const WatchOptions& options = {}) const;

 private:
  friend absl::StatusOr<CountDownLatch> internal::GetCountDownLatch(
      std::shared_ptr<internal::ClientCore> core, std::string_view name,
      const CallOptions& options);
  CountDownLatch(std::shared_ptr<internal::ClientCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}

  std::shared_ptr<internal::ClientCore> core_;
  std::string name_;
};

// Opens the latch `name` through `client`, creating it (at count 0) if it
// does not exist. Fails early, with the broker's status, on a bad name
// (INVALID_ARGUMENT) or a name bound to another type (FAILED_PRECONDITION).
ATOMIX_EXPORT absl::StatusOr<CountDownLatch> GetCountDownLatch(const Client& client,
                                                               std::string_view name,
                                                               const CallOptions& options = {});
// The same through DefaultClient().
ATOMIX_EXPORT absl::StatusOr<CountDownLatch> GetCountDownLatch(std::string_view name,
                                                               const CallOptions& options = {});

}  // namespace atomix

#endif  // ATOMIX_LATCH_H_
