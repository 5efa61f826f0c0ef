// Semaphore: a counting semaphore whose permits belong to the client's
// session, with a fence per grant, kept by the broker.
//
//   absl::StatusOr<atomix::Semaphore> slots = atomix::GetSemaphore("render-slots", 4);
//   if (!slots.ok()) return slots.status();
//   {
//     absl::StatusOr<atomix::SemaphoreGuard> held = atomix::SemaphoreGuard::Acquire(
//         *slots, 2, atomix::WithTimeout(std::chrono::seconds(5)));
//     if (!held.ok()) return held.status();  // DEADLINE_EXCEEDED if not granted in time
//     // Writes guarded by the grant's fence are refused once it holds no permit.
//     results.Put("job-7", "rendering", atomix::IfFence(*held));
//     if (held->stop_token().stop_requested()) { /* session lost: stop */ }
//   }  // its 2 permits are released here
//
// Semantics. GetSemaphore(name, n) opens the semaphore and gives it n
// permits if it has no count yet; a semaphore that already has another
// count fails with FAILED_PRECONDITION naming both (SetPermits changes it).
// Acquire(n) waits until n permits are granted to this client's session and
// returns Permits{fence, count}: the fence is the broker revision of the step
// that granted them, so fences strictly increase and compare with every other
// version. Waiters are granted strictly in arrival order: an acquire waits
// while an earlier one waits, even if its own permits are free, so large
// requests are never starved by small ones. Several waiters granted by one
// step (one release) share that step's fence.
//
// Release(n) gives back n permits of this session's newest grants;
// Release(0) all of them. Release(IfVersion(fence)) gives back the whole
// grant with that fence, Release(n, IfVersion(fence)) n of it. Whatever frees
// permits grants the waiters that now fit, in the same broker step.
//
// When the session ends (Close, or expiry after the process stalled, crashed
// or lost the broker for longer than the session TTL), the broker releases
// all its permits in one step and grants the waiters that fit.
// SemaphoreGuard::stop_token() tells a critical section that this happened.
// Pass a grant's fence to Map and Value writes with IfFence(guard) or
// IfFence(semaphore, permits): the broker refuses them with
// FAILED_PRECONDITION once that grant holds no permit.
//
// SetPermits(n) is an admin operation: lowering the count takes nothing away
// (Available() is negative until enough are released), and waiters asking
// for more than the new count fail with FAILED_PRECONDITION; raising it
// grants the waiters that fit. Holders() lists the grants in fence order.
//
// Errors: INVALID_ARGUMENT for a bad name or a count outside 1 ..
// 1048576 (Release: negative); FAILED_PRECONDITION for a name bound to
// another type, another count at GetSemaphore, an acquire above the count, a
// release of more than the session (or the grant) holds
// (CurrentVersion(status) = what it holds); DEADLINE_EXCEEDED when Acquire
// was not granted before the call's deadline; CANCELLED when its cancel
// fired; ABORTED when the session ended while waiting; plus UNAVAILABLE.
//
// Watch() follows the grants as a Channel<SemaphoreEvent> (atomix/watch.h).
//
// Thread-safety: Semaphore is a cheap, copyable, immutable handle (client +
// name); all methods are safe to call from any thread. Permits are held by
// the session, not by a thread. A SemaphoreGuard is movable, not copyable,
// and belongs to one thread at a time.
#ifndef ATOMIX_SEMAPHORE_H_
#define ATOMIX_SEMAPHORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/channel.h"
#include "atomix/client.h"
#include "atomix/export.h"
#include "atomix/future.h"
#include "atomix/lock.h"
#include "atomix/options.h"
#include "atomix/stream_range.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix {

// A grant: its fence and how many permits it holds.
struct ATOMIX_EXPORT Permits {
  Fence fence;
  int64_t count = 0;

  friend bool operator==(const Permits&, const Permits&) = default;
};

// One grant as Holders() and watches report it.
struct ATOMIX_EXPORT SemaphoreHolder {
  Version fence = 0;
  uint64_t session_id = 0;
  int64_t permits = 0;

  friend bool operator==(const SemaphoreHolder&, const SemaphoreHolder&) = default;
};

// One event of a semaphore watch (atomix/watch.h), with the permit count and
// the permits available after the change:
//   kInserted: `grant` was granted (permits: what it holds). Also the
//              WithReplay() state at the snapshot's revision: no grant, every
//              grant in `holders`.
//   kUpdated:  `grant` was partly released, or grew by a second acquire of
//              its session in the same step (permits: what it holds now); or,
//              with no grant, the permit count changed.
//   kRemoved:  `grant` was released or its session ended (permits: what it
//              held).
//   kResync:   the whole state (`holders`) at `revision` after history was
//              lost.
struct ATOMIX_EXPORT SemaphoreEvent {
  EventType type = EventType::kInserted;
  Version revision = 0;
  int64_t permits = 0;
  int64_t available = 0;
  std::optional<SemaphoreHolder> grant;
  std::vector<SemaphoreHolder> holders;
  ResyncReason reason = ResyncReason::kNone;

  friend bool operator==(const SemaphoreEvent&, const SemaphoreEvent&) = default;
};

class Semaphore;

namespace internal {
class ClientCore;
// Opens a semaphore over a client core. Not part of the public API.
ATOMIX_EXPORT absl::StatusOr<Semaphore> GetSemaphore(std::shared_ptr<ClientCore> core,
                                                     std::string_view name, int64_t permits,
                                                     const CallOptions& options = {});
}  // namespace internal

class ATOMIX_EXPORT Semaphore {
 public:
  const std::string& name() const { return name_; }

  // Waits in arrival order until `n` permits are granted to this client's
  // session. Waits until the call's deadline (CallOptions, else
  // ClientOptions::default_call_timeout), then fails with DEADLINE_EXCEEDED;
  // cancelling through CallOptions::cancel returns CANCELLED at once. Either
  // way the client withdraws the waiter, and if a grant crossed that, gives
  // it back: permits are never left held for a caller that gave up.
  absl::StatusOr<Permits> Acquire(int64_t n = 1, const CallOptions& options = {}) const;

  // The grant if `n` permits are free and nobody waits, else nullopt at once.
  absl::StatusOr<std::optional<Permits>> TryAcquire(int64_t n = 1,
                                                    const CallOptions& options = {}) const;

  // Gives back `n` permits (0: all) of this session's newest grants, or, with
  // IfVersion(fence), of that grant. Takes only IfVersion from WriteOptions.
  absl::Status Release(int64_t n = 1, const WriteOptions& options = {}) const;
  // Release(IfVersion(fence)): the whole grant with that fence.
  absl::Status Release(const WriteOptions& options) const { return Release(0, options); }

  // The permits not held (negative after SetPermits lowered the count), and
  // the permit count.
  absl::StatusOr<int64_t> Available(const CallOptions& options = {}) const;
  absl::StatusOr<int64_t> PermitCount(const CallOptions& options = {}) const;
  // How many acquires wait.
  absl::StatusOr<int64_t> Waiters(const CallOptions& options = {}) const;

  // Every grant in fence order, fetched a page at a time (atomix/stream_range.h).
  StreamRange<SemaphoreHolder> Holders(const CallOptions& options = {}) const;

  // Admin: sets the permit count (1 .. 1048576).
  absl::Status SetPermits(int64_t n, const CallOptions& options = {}) const;

  // The same, without waiting (atomix/future.h). A grant whose future is
  // dropped stays held until it is released or the session ends; the client
  // gives back only grants that cross a deadline or a cancel.
  Future<Permits> AcquireAsync(int64_t n = 1, const CallOptions& options = {}) const;
  Future<std::optional<Permits>> TryAcquireAsync(int64_t n = 1,
                                                 const CallOptions& options = {}) const;
  Future<void> ReleaseAsync(int64_t n = 1, const WriteOptions& options = {}) const;
  Future<int64_t> AvailableAsync(const CallOptions& options = {}) const;
  Future<int64_t> PermitCountAsync(const CallOptions& options = {}) const;
  Future<int64_t> WaitersAsync(const CallOptions& options = {}) const;
  Future<void> SetPermitsAsync(int64_t n, const CallOptions& options = {}) const;

  // Watches the grants; returns once the broker accepted the watch.
  absl::StatusOr<Channel<SemaphoreEvent>> Watch(const WatchOptions& options = {}) const;

 private:
  friend absl::StatusOr<Semaphore> internal::GetSemaphore(
      std::shared_ptr<internal::ClientCore> core, std::string_view name, int64_t permits,
      const CallOptions& options);
  friend class SemaphoreGuard;
  Semaphore(std::shared_ptr<internal::ClientCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}

  // Acquire or TryAcquire, and the session the grant belongs to.
  struct Grant {
    std::optional<Permits> permits;
    uint64_t session = 0;
  };
  Future<Grant> AcquireImpl(int64_t n, bool try_only, const CallOptions& options) const;
  // One count of a Get.
  enum class Count { kAvailable, kPermits, kWaiters };
  Future<int64_t> GetAsync(Count count, const CallOptions& options) const;

  std::shared_ptr<internal::ClientCore> core_;
  std::string name_;
};

// Holds one grant and releases exactly its permits when destroyed
// (Release(count, IfVersion(fence))), so it never gives back permits of
// another grant. Errors of that release are dropped; call Release() to see
// them.
class ATOMIX_EXPORT SemaphoreGuard {
 public:
  // Acquire(n)s `semaphore` and wraps the grant.
  static absl::StatusOr<SemaphoreGuard> Acquire(const Semaphore& semaphore, int64_t n = 1,
                                                const CallOptions& options = {});
  // TryAcquire(n)s `semaphore`: nullopt at once if the permits are not free.
  static absl::StatusOr<std::optional<SemaphoreGuard>> TryAcquire(const Semaphore& semaphore,
                                                                  int64_t n = 1,
                                                                  const CallOptions& options = {});

  SemaphoreGuard(SemaphoreGuard&& other) noexcept;
  SemaphoreGuard& operator=(SemaphoreGuard&& other) noexcept;
  SemaphoreGuard(const SemaphoreGuard&) = delete;
  SemaphoreGuard& operator=(const SemaphoreGuard&) = delete;
  ~SemaphoreGuard();

  const Semaphore& semaphore() const { return semaphore_; }
  const Permits& permits() const { return permits_; }
  Fence fence() const { return permits_.fence; }
  // False once released (or moved from).
  bool owns_permits() const { return held_; }

  // Stopped when the session that holds the grant is lost (closed, expired,
  // or forgotten by a restarted broker): from then on its permits may be
  // someone else's.
  std::stop_token stop_token() const { return lost_; }

  // Releases the grant's permits now; later calls and the destructor do
  // nothing. FAILED_PRECONDITION if the grant was already gone.
  absl::Status Release(const CallOptions& options = {});

 private:
  SemaphoreGuard(Semaphore semaphore, Permits permits, std::stop_token lost)
      : semaphore_(std::move(semaphore)), permits_(permits), lost_(std::move(lost)), held_(true) {}

  Semaphore semaphore_;
  Permits permits_;
  std::stop_token lost_;
  bool held_ = false;
};

// Write options that apply only while the grant still holds a permit.
inline WriteOptions IfFence(const Semaphore& semaphore, const Permits& permits) {
  return IfFence(semaphore.name(), permits.fence);
}
inline WriteOptions IfFence(const SemaphoreGuard& guard) {
  return IfFence(guard.semaphore(), guard.permits());
}

// Opens the semaphore `name` through `client`, giving it `permits` permits
// if it has no count yet. INVALID_ARGUMENT for a bad name or count;
// FAILED_PRECONDITION for a name bound to another type or a semaphore that
// already has another count (the message names both).
ATOMIX_EXPORT absl::StatusOr<Semaphore> GetSemaphore(const Client& client, std::string_view name,
                                                     int64_t permits,
                                                     const CallOptions& options = {});

// The same through DefaultClient().
ATOMIX_EXPORT absl::StatusOr<Semaphore> GetSemaphore(std::string_view name, int64_t permits,
                                                     const CallOptions& options = {});

}  // namespace atomix

#endif  // ATOMIX_SEMAPHORE_H_
