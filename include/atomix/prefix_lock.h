// Prefix locks on a Map: an exclusive, fenced lease over every key under a
// prefix, held by the client's session.
//
//   auto jobs = atomix::GetMap<std::string, std::string>("jobs");
//   if (!jobs.ok()) return jobs.status();
//   {
//     absl::StatusOr<atomix::PrefixLockGuard> held =
//         jobs->LockPrefix("jobs/42/", atomix::WithTimeout(std::chrono::seconds(5)));
//     if (!held.ok()) return held.status();  // DEADLINE_EXCEEDED if not granted in time
//     jobs->Put("jobs/42/state", "running", atomix::IfFence(*held));
//     if (held->stop_token().stop_requested()) { /* session lost: stop */ }
//   }  // unlocked here
//
// Semantics. Map::LockPrefix(p) waits until no other holder's prefix
// overlaps p (one starts with the other: "jobs/" and "jobs/42/" overlap,
// "jobs/4" and "jobs/5" do not; the empty prefix covers the whole map), and
// no request for an overlapping prefix that arrived earlier still waits:
// requests are granted in arrival order, so a stream of child locks never
// starves a parent. Locks are not reentrant. Every grant has a fence: the
// broker revision of the grant, unique and increasing, comparable with
// every other version.
//
// While a prefix is held, a write by another session of a key under it
// (Put, Insert, Update, Remove, and Clear or RemovePrefix over a range that
// meets it) fails with FAILED_PRECONDITION naming the prefix, the holder's
// session and fence (CurrentVersion(status) = that fence), unless it carries
// IfFence(guard) (the fence names the map itself). The holder's own session
// writes freely; writing with IfFence(guard) also refuses the write once
// the grant is gone. Entries' TTLs still expire. Prefix locks are not map
// entries: the map's Watch() does not show them; PrefixLocks() lists them.
//
// When the session ends (Close, or expiry after the process stalled or died
// for longer than the session TTL), the broker releases all of its prefix
// locks and grants the waiters they free, in one step at one revision.
// PrefixLockGuard::stop_token() tells a critical section that this happened.
//
// Errors: INVALID_ARGUMENT for a prefix over the key size limit or a call
// without a session; FAILED_PRECONDITION for an UnlockPrefix of a prefix
// not held that way (CurrentVersion(status) = the fence holding it, 0 if
// none) or a write refused as above; DEADLINE_EXCEEDED when LockPrefix was
// not granted before the call's deadline; CANCELLED when its CallOptions
// cancel fired; ABORTED when the session ended while waiting; plus
// UNAVAILABLE.
//
// Thread-safety: a PrefixLockGuard is movable, not copyable, and belongs to
// one thread at a time. PrefixLock is a plain value.
#ifndef ATOMIX_PREFIX_LOCK_H_
#define ATOMIX_PREFIX_LOCK_H_

#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/export.h"
#include "atomix/future.h"
#include "atomix/internal/map_core.h"
#include "atomix/lock.h"
#include "atomix/options.h"
#include "atomix/stream_range.h"

namespace atomix {

// A prefix lock grant: its prefix (encoded key bytes), fence and session.
struct ATOMIX_EXPORT PrefixLock {
  std::string prefix;
  Fence fence;
  uint64_t session_id = 0;

  friend bool operator==(const PrefixLock&, const PrefixLock&) = default;
};

// Holds one prefix lock grant and unlocks it when destroyed (by its fence,
// so it never unlocks a later holder's grant). Errors of that unlock are
// dropped; call Unlock() to see them.
class ATOMIX_EXPORT PrefixLockGuard {
 public:
  // Takes charge of `grant`, made on `map` (e.g. by Map::LockPrefixAsync).
  PrefixLockGuard(internal::MapCore map, PrefixLock grant);

  PrefixLockGuard(PrefixLockGuard&& other) noexcept;
  PrefixLockGuard& operator=(PrefixLockGuard&& other) noexcept;
  PrefixLockGuard(const PrefixLockGuard&) = delete;
  PrefixLockGuard& operator=(const PrefixLockGuard&) = delete;
  ~PrefixLockGuard();

  // The name of the map, which IfFence(guard) names as the fence's holder.
  const std::string& map_name() const { return map_.name(); }
  const std::string& prefix() const { return grant_.prefix; }
  Fence fence() const { return grant_.fence; }
  uint64_t session_id() const { return grant_.session_id; }
  // False once unlocked (or moved from).
  bool owns_lock() const { return held_; }

  // Stopped when the session that holds the grant is lost (closed, expired,
  // or forgotten by a restarted broker): from then on the prefix may belong
  // to someone else.
  std::stop_token stop_token() const { return lost_; }

  // Unlocks now (by fence); later calls and the destructor do nothing.
  // FAILED_PRECONDITION if the grant was already gone.
  absl::Status Unlock(const CallOptions& options = {});

 private:
  internal::MapCore map_;
  PrefixLock grant_;
  std::stop_token lost_;
  bool held_ = false;
};

// Write options that apply only while the guard's grant holds its prefix.
inline WriteOptions IfFence(const PrefixLockGuard& guard) {
  return IfFence(guard.map_name(), guard.fence());
}

namespace internal {

// The prefix-lock operations of a map, as bytes (see atomix/map.h).
// LockPrefixAsync waits (a blocking call: deadline, cancellation, and a
// grant that crosses the caller giving up is unlocked); with try_only it
// answers nullopt at once when it would wait.
ATOMIX_EXPORT Future<std::optional<PrefixLock>> LockPrefixAsync(const MapCore& map,
                                                                std::string prefix, bool try_only,
                                                                const CallOptions& options);
ATOMIX_EXPORT Future<void> UnlockPrefixAsync(const MapCore& map, std::string prefix,
                                             const WriteOptions& options);
// One page of held locks after `start_after` (broker default size for 0).
struct ATOMIX_EXPORT PrefixLockPage {
  std::vector<PrefixLock> locks;
  bool more = false;
};
ATOMIX_EXPORT Future<PrefixLockPage> PrefixLocksAsync(const MapCore& map, std::string start_after,
                                                      uint32_t limit, const CallOptions& options);
// The whole listing, page by page.
ATOMIX_EXPORT StreamRange<PrefixLock> PrefixLockRange(const MapCore& map,
                                                      const ListOptions& options);

}  // namespace internal
}  // namespace atomix

#endif  // ATOMIX_PREFIX_LOCK_H_
