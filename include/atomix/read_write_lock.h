// ReadWriteLock: a fair distributed read-write lock with fences, kept by the
// broker. Any number of readers, or one writer.
//
//   absl::StatusOr<atomix::ReadWriteLock> rw = atomix::GetReadWriteLock("catalog");
//   if (!rw.ok()) return rw.status();
//   {
//     absl::StatusOr<atomix::ReadWriteLockGuard> reading = atomix::ReadWriteLockGuard::AcquireRead(
//         *rw, atomix::WithTimeout(std::chrono::seconds(5)));
//     if (!reading.ok()) return reading.status();  // DEADLINE_EXCEEDED if not granted in time
//     // ... read; other readers may hold it too ...
//   }  // released here
//   {
//     absl::StatusOr<atomix::ReadWriteLockGuard> writing =
//         atomix::ReadWriteLockGuard::AcquireWrite(*rw);
//     if (!writing.ok()) return writing.status();
//     catalog.Put("v", "2", atomix::IfFence(*writing));  // refused once the grant is gone
//     if (writing->stop_token().stop_requested()) { /* session lost: stop */ }
//   }
//
// Semantics. Grants belong to the client's session (atomix/client.h).
// Acquires are granted in arrival order (fair): a writer that waits holds
// back every reader that asks after it, so writers never starve; the run of
// readers at the head of the queue is granted together, in one broker step,
// and shares that step's fence. Every grant returns a Fence: the broker
// revision of the step that granted it, comparable with every other version.
// Pass it to Map and Value writes with IfFence(guard) or IfFence(rw, fence):
// the broker refuses them with FAILED_PRECONDITION once no grant with that
// fence holds (released, or its session ended). One session may hold several
// read grants; each Release releases one.
//
// No upgrade: a session that holds a read grant and asks for WRITE waits
// behind its own read grant, like any writer. Release the read grant first.
// (Two readers upgrading at once would each wait for the other forever, and
// an upgrade that jumped the queue would starve the writers already
// waiting.) Likewise a writer asking again waits for itself: not reentrant.
//
// When the session ends (Close, or expiry after the process stalled or lost
// the broker for longer than the session TTL), the broker releases all of
// its grants, and grants what can now be granted, in one step at one
// revision. ReadWriteLockGuard::stop_token() tells a critical section.
//
// Errors: INVALID_ARGUMENT for a bad name or a call without a session;
// FAILED_PRECONDITION for a name bound to another primitive type, or a
// Release of a grant this session does not hold in that mode
// (CurrentVersion(status) = the writer's fence, 0 without a writer);
// DEADLINE_EXCEEDED when an acquire was not granted before the call's
// deadline; CANCELLED when its CallOptions::cancel stopped it; ABORTED when
// the session ended while waiting; RESOURCE_EXHAUSTED when the lock already
// has 65536 grants and waiters together; plus UNAVAILABLE.
//
// Watch() follows the grants as a Channel<ReadWriteLockEvent>
// (atomix/watch.h).
//
// Thread-safety: ReadWriteLock is a cheap, copyable, immutable handle (client
// + name); all methods are safe to call from any thread. Grants are held by
// the session, not by a thread. A ReadWriteLockGuard is movable, not
// copyable, and belongs to one thread at a time.
#ifndef ATOMIX_READ_WRITE_LOCK_H_
#define ATOMIX_READ_WRITE_LOCK_H_

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
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix {

// What a grant (or the lock as a whole) holds. kNone: free.
enum class ReadWriteLockMode { kNone = 0, kRead = 1, kWrite = 2 };

// One grant: its fence, its session and its mode.
struct ATOMIX_EXPORT ReadWriteLockGrant {
  Version fence = 0;
  uint64_t session_id = 0;
  ReadWriteLockMode mode = ReadWriteLockMode::kNone;

  friend bool operator==(const ReadWriteLockGrant&, const ReadWriteLockGrant&) = default;
};

// The lock as Get() reads it.
struct ATOMIX_EXPORT ReadWriteLockInfo {
  ReadWriteLockMode mode = ReadWriteLockMode::kNone;  // what is held now
  int64_t readers = 0;                                // read grants
  Version writer_fence = 0;                           // 0 without a writer
  bool locked = false;  // held (by the grant WithVersion(v) names, if given)
  int64_t waiters = 0;  // acquires waiting
};

// One event of a read-write lock watch (atomix/watch.h).
//   kInserted: `grant` was granted (also: a WithReplay() watch starts with
//              one kInserted carrying every grant in `holders`, at the
//              snapshot's revision, and `grant` all zero).
//   kRemoved:  `grant` was released, or its session ended.
//   kResync:   the state at `revision` after history was lost (`holders`).
// `mode` and `readers` are the lock's after the change. Grants made or
// removed in one step (a run of readers, a session's end) are separate
// events with the same revision.
struct ATOMIX_EXPORT ReadWriteLockEvent {
  EventType type = EventType::kInserted;
  Version revision = 0;
  ReadWriteLockGrant grant;
  ReadWriteLockMode mode = ReadWriteLockMode::kNone;
  int64_t readers = 0;
  std::vector<ReadWriteLockGrant> holders;  // snapshots only
  ResyncReason reason = ResyncReason::kNone;

  friend bool operator==(const ReadWriteLockEvent&, const ReadWriteLockEvent&) = default;
};

class ReadWriteLock;

namespace internal {
class ClientCore;
// Opens a read-write lock over a client core. Not part of the public API.
ATOMIX_EXPORT absl::StatusOr<ReadWriteLock> GetReadWriteLock(std::shared_ptr<ClientCore> core,
                                                             std::string_view name,
                                                             const CallOptions& options = {});
}  // namespace internal

class ATOMIX_EXPORT ReadWriteLock {
 public:
  const std::string& name() const { return name_; }

  // Wait in arrival order until a read (or write) grant is given to this
  // client's session, and return its fence. They wait until the call's
  // deadline (CallOptions, else ClientOptions::default_call_timeout), then
  // fail with DEADLINE_EXCEEDED; CallOptions::cancel returns CANCELLED at
  // once. Either way the client withdraws the waiter, and gives back a grant
  // that crossed the withdrawal: a grant is never left held for a caller
  // that gave up.
  absl::StatusOr<Fence> AcquireRead(const CallOptions& options = {}) const;
  absl::StatusOr<Fence> AcquireWrite(const CallOptions& options = {}) const;

  // The new grant's fence if it can be granted at once (nothing incompatible
  // held and no one waiting), or nullopt at once.
  absl::StatusOr<std::optional<Fence>> TryAcquireRead(const CallOptions& options = {}) const;
  absl::StatusOr<std::optional<Fence>> TryAcquireWrite(const CallOptions& options = {}) const;

  // Release one read (or the write) grant of this client's session: with
  // IfVersion(fence) the one with that fence, else its oldest in that mode.
  // FAILED_PRECONDITION (CurrentVersion(status) = the writer's fence, or 0)
  // if the session holds no such grant. Waiters that can now be granted are
  // granted at once. Take only IfVersion from WriteOptions.
  absl::Status ReleaseRead(const WriteOptions& options = {}) const;
  absl::Status ReleaseWrite(const WriteOptions& options = {}) const;

  // The mode held, the reader count, the writer's fence and the waiters;
  // with WithVersion(v), `locked` says whether a grant with fence v holds.
  absl::StatusOr<ReadWriteLockInfo> Get(const LockQueryOptions& options = {}) const;
  // Get(options).locked.
  absl::StatusOr<bool> IsLocked(const LockQueryOptions& options = {}) const;

  // The same, without waiting (atomix/future.h). A grant whose future is
  // dropped stays held until it is released or the session ends.
  Future<Fence> AcquireReadAsync(const CallOptions& options = {}) const;
  Future<Fence> AcquireWriteAsync(const CallOptions& options = {}) const;
  Future<std::optional<Fence>> TryAcquireReadAsync(const CallOptions& options = {}) const;
  Future<std::optional<Fence>> TryAcquireWriteAsync(const CallOptions& options = {}) const;
  Future<void> ReleaseReadAsync(const WriteOptions& options = {}) const;
  Future<void> ReleaseWriteAsync(const WriteOptions& options = {}) const;
  Future<ReadWriteLockInfo> GetAsync(const LockQueryOptions& options = {}) const;
  Future<bool> IsLockedAsync(const LockQueryOptions& options = {}) const;

  // Watches the grants; returns once the broker accepted the watch. Resumes
  // after reconnects (WatchOptions::from_revision, WithReplay()).
  absl::StatusOr<Channel<ReadWriteLockEvent>> Watch(const WatchOptions& options = {}) const;

 private:
  friend absl::StatusOr<ReadWriteLock> internal::GetReadWriteLock(
      std::shared_ptr<internal::ClientCore> core, std::string_view name,
      const CallOptions& options);
  friend class ReadWriteLockGuard;
  ReadWriteLock(std::shared_ptr<internal::ClientCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}

  // An acquire's grant (none for a refused try) and its session.
  struct Grant {
    std::optional<Fence> fence;
    uint64_t session = 0;
  };
  Future<Grant> AcquireImpl(ReadWriteLockMode mode, bool try_only,
                            const CallOptions& options) const;
  Future<void> ReleaseImpl(ReadWriteLockMode mode, const WriteOptions& options) const;

  std::shared_ptr<internal::ClientCore> core_;
  std::string name_;
};

// Holds one grant (read or write) and releases it when destroyed, by its
// fence, so it never releases another grant. Errors of that release are
// dropped; call Release() to see them.
class ATOMIX_EXPORT ReadWriteLockGuard {
 public:
  // AcquireRead() / AcquireWrite() and wrap the grant.
  static absl::StatusOr<ReadWriteLockGuard> AcquireRead(const ReadWriteLock& lock,
                                                        const CallOptions& options = {});
  static absl::StatusOr<ReadWriteLockGuard> AcquireWrite(const ReadWriteLock& lock,
                                                         const CallOptions& options = {});
  // TryAcquireRead() / TryAcquireWrite(): nullopt at once if not granted.
  static absl::StatusOr<std::optional<ReadWriteLockGuard>> TryAcquireRead(
      const ReadWriteLock& lock, const CallOptions& options = {});
  static absl::StatusOr<std::optional<ReadWriteLockGuard>> TryAcquireWrite(
      const ReadWriteLock& lock, const CallOptions& options = {});

  ReadWriteLockGuard(ReadWriteLockGuard&& other) noexcept;
  ReadWriteLockGuard& operator=(ReadWriteLockGuard&& other) noexcept;
  ReadWriteLockGuard(const ReadWriteLockGuard&) = delete;
  ReadWriteLockGuard& operator=(const ReadWriteLockGuard&) = delete;
  ~ReadWriteLockGuard();

  const ReadWriteLock& lock() const { return lock_; }
  Fence fence() const { return fence_; }
  ReadWriteLockMode mode() const { return mode_; }
  // False once released (or moved from).
  bool owns_lock() const { return held_; }

  // Stopped when the session that holds the grant is lost (closed, expired,
  // or forgotten by a restarted broker): from then on the grant is gone.
  std::stop_token stop_token() const { return lost_; }

  // Releases the grant now (IfVersion(fence)); later calls and the
  // destructor do nothing. FAILED_PRECONDITION if the grant was already gone.
  absl::Status Release(const CallOptions& options = {});

 private:
  static absl::StatusOr<std::optional<ReadWriteLockGuard>> Make(const ReadWriteLock& lock,
                                                                ReadWriteLockMode mode,
                                                                bool try_only,
                                                                const CallOptions& options);
  ReadWriteLockGuard(ReadWriteLock lock, ReadWriteLockMode mode, Fence fence, std::stop_token lost)
      : lock_(std::move(lock)), mode_(mode), fence_(fence), lost_(std::move(lost)), held_(true) {}

  ReadWriteLock lock_;
  ReadWriteLockMode mode_ = ReadWriteLockMode::kNone;
  Fence fence_;
  std::stop_token lost_;
  bool held_ = false;
};

// Write options that apply only while a grant with `fence` holds `lock`.
inline WriteOptions IfFence(const ReadWriteLock& lock, Fence fence) {
  return IfFence(lock.name(), fence);
}
inline WriteOptions IfFence(const ReadWriteLockGuard& guard) {
  return IfFence(guard.lock().name(), guard.fence());
}

// Opens the read-write lock `name` through `client`, creating it (free) if
// it does not exist. Fails early, with the broker's status, on a bad name
// (INVALID_ARGUMENT) or a name bound to another type (FAILED_PRECONDITION).
ATOMIX_EXPORT absl::StatusOr<ReadWriteLock> GetReadWriteLock(const Client& client,
                                                             std::string_view name,
                                                             const CallOptions& options = {});

// The same through DefaultClient().
ATOMIX_EXPORT absl::StatusOr<ReadWriteLock> GetReadWriteLock(std::string_view name,
                                                             const CallOptions& options = {});

}  // namespace atomix

#endif  // ATOMIX_READ_WRITE_LOCK_H_
