// Lock: a fair (FIFO) distributed lock with fencing, kept by the broker.
//
//   absl::StatusOr<atomix::Lock> lock = atomix::GetLock("db-writer");
//   if (!lock.ok()) return lock.status();
//   {
//     absl::StatusOr<atomix::LockGuard> held =
//         atomix::LockGuard::Acquire(*lock, atomix::WithTimeout(std::chrono::seconds(5)));
//     if (!held.ok()) return held.status();   // DEADLINE_EXCEEDED if not granted in time
//     // Writes guarded by the fence are refused once this grant is gone.
//     config.Put("owner", "me", atomix::IfFence(*held));
//     if (held->stop_token().stop_requested()) { /* session lost: stop */ }
//   }  // released here
//
// The atomix Lock / TryLock / Unlock operations are spelled Acquire,
// TryAcquire and Release in C++ (a member cannot share its class's name).
//
// A lock belongs to the client's session (see atomix/client.h). Waiters are
// granted in arrival order. Every grant returns a Fence: the broker revision
// of the grant, so fences of one lock strictly increase and are comparable
// with every other version. Pass the fence to Map and Value writes with
// IfFence(lock, fence): the broker refuses them with FAILED_PRECONDITION once
// that grant no longer holds the lock (released, or its session ended). For
// resources outside the broker, see atomix/fence_validator.h.
//
// When the session ends (Close, or expiry after the process stalled or lost
// the broker for longer than the session TTL), the broker releases the lock
// and grants it to the next waiter. LockGuard::stop_token() tells a critical
// section that this happened.
//
// Errors: INVALID_ARGUMENT for a bad name; FAILED_PRECONDITION for a name
// bound to another primitive type, or a Release by a session that does not
// hold the lock (CurrentVersion(status) = the current fence, 0 if free);
// DEADLINE_EXCEEDED when Acquire was not granted before the call's deadline;
// ABORTED when the session ended while waiting; plus UNAVAILABLE and
// CANCELLED.
//
// Watch() follows the holder as a Channel<LockEvent> (atomix/watch.h).
//
// Thread-safety: Lock is a cheap, copyable, immutable handle (client +
// name); all methods are safe to call from any thread. The lock is held by
// the session, not by a thread: any thread of the process may release it.
// A LockGuard is movable, not copyable, and belongs to one thread at a time.
#ifndef ATOMIX_LOCK_H_
#define ATOMIX_LOCK_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/channel.h"
#include "atomix/client.h"
#include "atomix/export.h"
#include "atomix/future.h"
#include "atomix/options.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix {

// A lock grant's fence: the broker revision at which it was granted.
struct ATOMIX_EXPORT Fence {
  Version version = 0;

  friend auto operator<=>(const Fence&, const Fence&) = default;
};

// One event of a lock watch (atomix/watch.h): the holder after the change,
// as the grant's fence and session (both 0 when free).
//   kInserted: granted while free (also: the holder, or fence 0 when free,
//              of a WithReplay() watch, at the snapshot's revision).
//   kUpdated:  passed straight from one holder to the next waiter.
//   kRemoved:  released (or its session ended) with no one waiting.
//   kResync:   the holder at `revision` after history was lost.
struct ATOMIX_EXPORT LockEvent {
  EventType type = EventType::kInserted;
  Version revision = 0;
  Version fence = 0;
  uint64_t session_id = 0;
  ResyncReason reason = ResyncReason::kNone;

  friend bool operator==(const LockEvent&, const LockEvent&) = default;
};

// For IsLocked: ask about one grant.
struct ATOMIX_EXPORT LockQueryOptions : CallOptions {
  LockQueryOptions() = default;
  LockQueryOptions(const CallOptions& call) : CallOptions(call) {}  // NOLINT: implicit by design

  // Whether the lock is held at exactly this fence.
  std::optional<Version> with_version;
};

inline LockQueryOptions WithVersion(Version v) {
  LockQueryOptions o;
  o.with_version = v;
  return o;
}

class Lock;

namespace internal {
class ClientCore;
// Opens a lock over a client core. Not part of the public API.
ATOMIX_EXPORT absl::StatusOr<Lock> GetLock(std::shared_ptr<ClientCore> core, std::string_view name,
                                           const CallOptions& options = {});
}  // namespace internal

class ATOMIX_EXPORT Lock {
 public:
  const std::string& name() const { return name_; }

  // Lock: waits in FIFO order until the lock is granted to this client's
  // session, and returns the grant's fence. Waits until the call's deadline
  // (CallOptions, else ClientOptions::default_call_timeout), then fails with
  // DEADLINE_EXCEEDED; every write of the request tells the broker the time
  // left (a little less), so the broker drops the waiter first. Cancelling
  // through CallOptions::cancel returns CANCELLED at once. Either way the
  // client then withdraws the waiter from the broker's queue, and if a grant
  // crossed that, releases it (IfVersion(fence)): a lock is never left held
  // for a caller that gave up (see docs/sessions.md, "Callers that give up").
  // Acquiring a lock the session already holds waits like any other acquire
  // (locks are not reentrant).
  absl::StatusOr<Fence> Acquire(const CallOptions& options = {}) const;

  // TryLock: the lock's new fence if it was free, or nullopt at once if
  // someone holds it.
  absl::StatusOr<std::optional<Fence>> TryAcquire(const CallOptions& options = {}) const;

  // Unlock. Without IfVersion: releases the lock held by this client's
  // session. With IfVersion(fence): releases the grant with that fence,
  // whichever session holds it. FAILED_PRECONDITION (CurrentVersion(status)
  // = the current fence, 0 if free) if the lock is not held that way. The
  // next waiter is granted at once. Takes only IfVersion from WriteOptions.
  absl::Status Release(const WriteOptions& options = {}) const;

  // Whether anyone holds the lock; with WithVersion(v), whether the grant
  // with fence v still holds it.
  absl::StatusOr<bool> IsLocked(const LockQueryOptions& options = {}) const;

  // The same, without waiting (atomix/future.h). A grant whose future is
  // dropped stays held until it is released or the session ends; the
  // client gives back only grants that cross a deadline or a cancel.
  Future<Fence> AcquireAsync(const CallOptions& options = {}) const;
  Future<std::optional<Fence>> TryAcquireAsync(const CallOptions& options = {}) const;
  Future<void> ReleaseAsync(const WriteOptions& options = {}) const;
  Future<bool> IsLockedAsync(const LockQueryOptions& options = {}) const;

  // Watches the lock's holder; returns once the broker accepted the watch.
  absl::StatusOr<Channel<LockEvent>> Watch(const WatchOptions& options = {}) const;

 private:
  friend absl::StatusOr<Lock> internal::GetLock(std::shared_ptr<internal::ClientCore> core,
                                                std::string_view name, const CallOptions& options);
  friend class LockGuard;
  Lock(std::shared_ptr<internal::ClientCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}

  // Acquire or TryAcquire, and the session the grant belongs to.
  struct Grant {
    std::optional<Fence> fence;
    uint64_t session = 0;
  };
  Future<Grant> AcquireImpl(bool try_only, const CallOptions& options) const;

  std::shared_ptr<internal::ClientCore> core_;
  std::string name_;
};

// Holds one grant of a lock and releases it when destroyed (with
// IfVersion(fence), so it never releases a later holder's grant). Errors of
// that release are dropped; call Release() to see them.
class ATOMIX_EXPORT LockGuard {
 public:
  // Acquire()s `lock` and wraps the grant.
  static absl::StatusOr<LockGuard> Acquire(const Lock& lock, const CallOptions& options = {});
  // TryAcquire()s `lock`: nullopt at once if someone holds it.
  static absl::StatusOr<std::optional<LockGuard>> TryAcquire(const Lock& lock,
                                                             const CallOptions& options = {});

  LockGuard(LockGuard&& other) noexcept;
  LockGuard& operator=(LockGuard&& other) noexcept;
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;
  ~LockGuard();

  const Lock& lock() const { return lock_; }
  Fence fence() const { return fence_; }
  // False once released (or moved from).
  bool owns_lock() const { return held_; }

  // Stopped when the session that holds the grant is lost (closed, expired,
  // or forgotten by a restarted broker): from then on the lock may belong to
  // someone else. Check it, or register a std::stop_callback, in long
  // critical sections.
  std::stop_token stop_token() const { return lost_; }

  // Releases the grant now (IfVersion(fence)); later calls and the
  // destructor do nothing. FAILED_PRECONDITION if the grant was already gone.
  absl::Status Release(const CallOptions& options = {});

 private:
  LockGuard(Lock lock, Fence fence, std::stop_token lost)
      : lock_(std::move(lock)), fence_(fence), lost_(std::move(lost)), held_(true) {}

  Lock lock_;
  Fence fence_;
  std::stop_token lost_;
  bool held_ = false;
};

// Write options that apply only while `fence` still holds `lock`.
inline WriteOptions IfFence(std::string lock_name, Fence fence) {
  return WriteOptions().IfFence(std::move(lock_name), fence.version);
}
inline WriteOptions IfFence(const Lock& lock, Fence fence) { return IfFence(lock.name(), fence); }
inline WriteOptions IfFence(const LockGuard& guard) {
  return IfFence(guard.lock().name(), guard.fence());
}

// Release options for one grant: lock.Release(atomix::IfVersion(fence)).
inline WriteOptions IfVersion(Fence fence) { return IfVersion(fence.version); }

// Opens the lock `name` through `client`, creating it (free) if it does not
// exist. Fails early, with the broker's status, on a bad name
// (INVALID_ARGUMENT) or a name bound to another type (FAILED_PRECONDITION).
ATOMIX_EXPORT absl::StatusOr<Lock> GetLock(const Client& client, std::string_view name,
                                           const CallOptions& options = {});

// The same through DefaultClient().
ATOMIX_EXPORT absl::StatusOr<Lock> GetLock(std::string_view name, const CallOptions& options = {});

}  // namespace atomix

#endif  // ATOMIX_LOCK_H_
