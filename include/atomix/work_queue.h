// WorkQueue<T>: a FIFO queue of work items with leased takes, kept by the
// broker. Every item is processed by one consumer at a time, and no item is
// lost: an item whose consumer dies comes back and is delivered again.
//
//   auto jobs = atomix::GetWorkQueue<std::string>("jobs");
//   if (!jobs.ok()) return jobs.status();
//   jobs->Push("resize img-17");                       // producer
//
//   // Consumer: wait up to 5 s for an item; lease it for at most 30 s.
//   atomix::TakeOptions take = atomix::WithTimeout(std::chrono::seconds(5));
//   take.visibility_timeout = std::chrono::seconds(30);
//   absl::StatusOr<atomix::LeasedItem<std::string>> job = jobs->Take(take);
//   if (!job.ok()) return job.status();                // DEADLINE_EXCEEDED: none came
//   results.Put(job->value(), "done", atomix::IfFence(*job));  // only while leased
//   if (job->stop_token().stop_requested()) { /* session lost: stop */ }
//   job->Ack();                                        // removed for good
//
// Semantics. Push appends items (ids increase in push order). Take leases
// the head item to this client's session and returns it as a LeasedItem: the
// item, how many times it was delivered (this time included), and the
// lease's Fence (the broker revision of the take). Takes that find the
// queue empty wait, served in arrival order. The item stays leased, and
// invisible to other takers, until one of:
//   - Ack(): it is removed for good;
//   - Release() (or the LeasedItem's destructor, if neither was called): it goes
//     back to the head of the queue at once;
//   - its visibility timeout (TakeOptions::visibility_timeout, on the
//     broker's clock) passes: it goes back to the head;
//   - the session ends (Close, or expiry after the process died or lost the
//     broker for longer than the session TTL): all of the session's items
//     go back to the head, in id order, in one step, and waiting takers get
//     them.
// An item back at the head is delivered again with `deliveries` + 1, so a
// consumer should make its work idempotent or check `deliveries`. Ack and
// Release name the lease by (id, fence): once the lease ended they fail
// with FAILED_PRECONDITION, even if the same item is leased again. A Map or
// Value write with IfFence(lease) applies only while the lease holds.
//
// Blocking. Take waits until the call's deadline (CallOptions, else
// ClientOptions::default_call_timeout) and then fails with
// DEADLINE_EXCEEDED; cancelling through CallOptions::cancel returns
// CANCELLED at once. Either way the client withdraws the take from the
// broker, and if a lease crossed that, releases it: an item is never left
// leased to a caller that gave up. A TakeAsync future that is dropped
// without get() leaves its lease held until its visibility timeout or the
// session's end.
//
// Errors: INVALID_ARGUMENT for a bad name, a push of no item or of more
// than 1,000, an item over the broker's value size limit, a negative or
// over-a-day visibility timeout, or stored bytes C cannot decode;
// FAILED_PRECONDITION for a name bound to another primitive type, or an
// Ack/Release of a lease that no longer holds its item
// (CurrentVersion(status) = the item's current fence, 0 if queued) or of a
// LeasedItem already acked or released; NOT_FOUND for an Ack/Release of an item
// that is gone (acked); DEADLINE_EXCEEDED when Take got no item in time;
// ABORTED when the session ended while waiting; plus UNAVAILABLE and
// CANCELLED.
//
// Watching (atomix/watch.h): Watch() follows pushes, leases, returns and
// acks as a Channel<WorkQueueEvent> (the item's id, not its value, and the
// counts after each change).
//
// Each operation Op has a non-blocking form OpAsync with the same arguments,
// returning a Future of Op's result (atomix/future.h); Op waits for it.
//
// Thread-safety: WorkQueue is a cheap, copyable, immutable handle (client +
// name); all methods are safe to call from any thread at the same time.
// Items are leased by the session, not by a thread. A LeasedItem is movable, not
// copyable, and belongs to one thread at a time.
#ifndef ATOMIX_WORK_QUEUE_H_
#define ATOMIX_WORK_QUEUE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "atomix/call_options.h"
#include "atomix/channel.h"
#include "atomix/client.h"
#include "atomix/codec.h"
#include "atomix/export.h"
#include "atomix/future.h"
#include "atomix/internal/primitive.h"
#include "atomix/internal/work_queue_core.h"
#include "atomix/lock.h"
#include "atomix/options.h"
#include "atomix/status.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix {

// One leased item: its id (unique in the queue, increasing in push order),
// its value, how many times it was leased (this lease included), and the
// lease's fence and session.
template <class T>
struct WorkItem {
  int64_t id = 0;
  T value{};
  int64_t deliveries = 0;
  Fence fence;
  uint64_t session_id = 0;

  friend bool operator==(const WorkItem&, const WorkItem&) = default;
};

// One event of a work queue watch (atomix/watch.h): the item that changed,
// without its value, and the counts after the change.
//   kInserted: item `id` was pushed (also: the counts of a WithReplay()
//              watch, with id 0, at the snapshot's revision).
//   kUpdated:  item `id` was leased (fence and session_id set, deliveries
//              counts this lease), or went back to the head of the queue
//              (fence 0: released, its visibility timeout passed, or its
//              taker's session ended).
//   kRemoved:  item `id` was acked; fence and session_id name the lease
//              that acked it.
//   kResync:   the counts at `revision` after history was lost (id 0).
// All the events of one step share its revision.
struct ATOMIX_EXPORT WorkQueueEvent {
  EventType type = EventType::kInserted;
  Version revision = 0;
  int64_t id = 0;
  int64_t deliveries = 0;
  Version fence = 0;
  uint64_t session_id = 0;
  int64_t queued = 0;
  int64_t leased = 0;
  ResyncReason reason = ResyncReason::kNone;

  friend bool operator==(const WorkQueueEvent&, const WorkQueueEvent&) = default;
};

// Options of Take and TryTake.
struct ATOMIX_EXPORT TakeOptions : CallOptions {
  TakeOptions() = default;
  TakeOptions(const CallOptions& call) : CallOptions(call) {}  // NOLINT: implicit by design

  // > 0: the lease ends this long after the take (on the broker's clock)
  // unless acked first, and the item goes back to the head of the queue.
  // 0: the lease lasts until Ack, Release or the session's end. At most one
  // day; rounded up to whole milliseconds.
  std::chrono::nanoseconds visibility_timeout{0};
};

inline TakeOptions WithVisibilityTimeout(std::chrono::nanoseconds timeout) {
  TakeOptions o;
  o.visibility_timeout = timeout;
  return o;
}

template <class T, class C = Codec<T>>
class WorkQueue;

// One lease of an item, with its Ack and Release. Releases the item when
// destroyed unless Ack() or Release() was called (errors of that release
// are dropped). Movable, not copyable.
template <class T, class C = Codec<T>>
class LeasedItem {
 public:
  LeasedItem(LeasedItem&& other) noexcept
      : core_(std::move(other.core_)),
        item_(std::move(other.item_)),
        lost_(std::move(other.lost_)),
        held_(std::exchange(other.held_, false)) {}
  LeasedItem& operator=(LeasedItem&& other) noexcept {
    if (this != &other) {
      (void)Release();
      core_ = std::move(other.core_);
      item_ = std::move(other.item_);
      lost_ = std::move(other.lost_);
      held_ = std::exchange(other.held_, false);
    }
    return *this;
  }
  LeasedItem(const LeasedItem&) = delete;
  LeasedItem& operator=(const LeasedItem&) = delete;
  ~LeasedItem() {
    if (held_) (void)Release();
  }

  const WorkItem<T>& item() const { return item_; }
  int64_t id() const { return item_.id; }
  const T& value() const { return item_.value; }
  T& value() { return item_.value; }
  int64_t deliveries() const { return item_.deliveries; }
  Fence fence() const { return item_.fence; }
  const std::string& queue_name() const { return core_.name(); }
  // False once acked or released (or moved from).
  bool owns_lease() const { return held_; }

  // Stopped when the session that holds the lease is lost (closed, expired,
  // or forgotten by a restarted broker): from then on the item may be
  // someone else's. A visibility timeout does not stop it; check the
  // remaining time yourself, or rely on IfFence writes.
  std::stop_token stop_token() const { return lost_; }

  // Removes the item for good. FAILED_PRECONDITION if this lease no longer
  // holds it (or was acked or released already), NOT_FOUND if the item is
  // gone. After a definite answer (OK, FAILED_PRECONDITION, NOT_FOUND) the
  // LeasedItem is done; after a transport error it still owns the lease, so Ack
  // may be called again.
  absl::Status Ack(const CallOptions& options = {}) { return Settle(/*release=*/false, options); }
  // Puts the item back at the head of the queue now, under the same rules.
  absl::Status Release(const CallOptions& options = {}) {
    return Settle(/*release=*/true, options);
  }

 private:
  friend class WorkQueue<T, C>;
  LeasedItem(internal::WorkQueueCore core, WorkItem<T> item)
      : core_(std::move(core)), item_(std::move(item)), held_(true) {
    lost_ = core_.SessionLostToken(item_.session_id);
  }

  absl::Status Settle(bool release, const CallOptions& options) {
    if (!held_) {
      return absl::FailedPreconditionError(
          absl::StrCat("work queue \"", core_.name(), "\" item ", item_.id,
                       ": this lease was already acked or released"));
    }
    absl::Status s =
        core_.SettleAsync(release, item_.id, item_.fence.version, options).get().status();
    if (s.ok() || absl::IsFailedPrecondition(s) || absl::IsNotFound(s)) held_ = false;
    return s;
  }

  internal::WorkQueueCore core_;
  WorkItem<T> item_;
  std::stop_token lost_;
  bool held_ = false;
};

// Write options that apply only while `lease` still holds its item.
template <class T, class C>
WriteOptions IfFence(const LeasedItem<T, C>& lease) {
  return WriteOptions().IfFence(lease.queue_name(), lease.fence().version);
}

template <class T, class C>
class WorkQueue {
 public:
  using Item = WorkItem<T>;
  using LeaseType = LeasedItem<T, C>;

  // Wraps an opened bytes core; use GetWorkQueue<T>() instead.
  explicit WorkQueue(internal::WorkQueueCore core) : core_(std::move(core)) {}

  const std::string& name() const { return core_.name(); }

  // Appends `value`; its id.
  absl::StatusOr<int64_t> Push(const T& value, const CallOptions& options = {}) const {
    return PushAsync(value, options).get();
  }
  // Appends `values` in order at one revision (1 to 1,000 of them); their
  // ids. Waiting takers get them in the same step.
  absl::StatusOr<std::vector<int64_t>> PushAll(const std::vector<T>& values,
                                               const CallOptions& options = {}) const {
    return PushAllAsync(values, options).get();
  }

  // Leases the head item, waiting for one (see the header comment).
  absl::StatusOr<LeaseType> Take(const TakeOptions& options = {}) const {
    return TakeAsync(options).get();
  }
  // Leases the head item if one is queued; nullopt at once otherwise.
  absl::StatusOr<std::optional<LeaseType>> TryTake(const TakeOptions& options = {}) const {
    return TryTakeAsync(options).get();
  }

  // Ack or Release by the item's id and lease fence, from any session or
  // thread (a LeasedItem does this for its own item).
  absl::Status Ack(int64_t id, Fence fence, const CallOptions& options = {}) const {
    return AckAsync(id, fence, options).get();
  }
  absl::Status Release(int64_t id, Fence fence, const CallOptions& options = {}) const {
    return ReleaseAsync(id, fence, options).get();
  }

  // The items queued (not leased), and the items leased.
  absl::StatusOr<int64_t> Size(const CallOptions& options = {}) const {
    return SizeAsync(options).get();
  }
  absl::StatusOr<int64_t> Leased(const CallOptions& options = {}) const {
    return LeasedAsync(options).get();
  }

  // The same, without waiting (atomix/future.h).
  Future<int64_t> PushAsync(const T& value, const CallOptions& options = {}) const {
    std::vector<std::string> values;
    values.push_back(C::Encode(value));
    return internal::MapFuture<int64_t>(
        core_.PushAsync(std::move(values), options),
        [](absl::StatusOr<internal::RawPush> r) -> absl::StatusOr<int64_t> {
          if (!r.ok()) return r.status();
          if (r->ids.size() != 1)
            return absl::InternalError(
                "broker answered a push of 1 item with another count of ids");
          return r->ids.front();
        });
  }
  Future<std::vector<int64_t>> PushAllAsync(const std::vector<T>& values,
                                            const CallOptions& options = {}) const {
    std::vector<std::string> encoded;
    encoded.reserve(values.size());
    for (const T& v : values) encoded.push_back(C::Encode(v));
    return internal::MapFuture<std::vector<int64_t>>(
        core_.PushAsync(std::move(encoded), options),
        [](absl::StatusOr<internal::RawPush> r) -> absl::StatusOr<std::vector<int64_t>> {
          if (!r.ok()) return r.status();
          return std::move(r->ids);
        });
  }
  Future<LeaseType> TakeAsync(const TakeOptions& options = {}) const {
    return internal::MapFuture<LeaseType>(
        core_.TakeAsync(/*try_only=*/false, TimeoutMs(options), options),
        [core = core_](
            absl::StatusOr<std::optional<internal::RawWorkItem>> r) -> absl::StatusOr<LeaseType> {
          if (!r.ok()) return r.status();
          return Adopt(core, **r);
        });
  }
  Future<std::optional<LeaseType>> TryTakeAsync(const TakeOptions& options = {}) const {
    return internal::MapFuture<std::optional<LeaseType>>(
        core_.TakeAsync(/*try_only=*/true, TimeoutMs(options), options),
        [core = core_](absl::StatusOr<std::optional<internal::RawWorkItem>> r)
            -> absl::StatusOr<std::optional<LeaseType>> {
          if (!r.ok()) return r.status();
          if (!r->has_value()) return std::optional<LeaseType>();
          absl::StatusOr<LeaseType> lease = Adopt(core, **r);
          if (!lease.ok()) return lease.status();
          return std::optional<LeaseType>(*std::move(lease));
        });
  }
  Future<void> AckAsync(int64_t id, Fence fence, const CallOptions& options = {}) const {
    return Settled(core_.SettleAsync(/*release=*/false, id, fence.version, options));
  }
  Future<void> ReleaseAsync(int64_t id, Fence fence, const CallOptions& options = {}) const {
    return Settled(core_.SettleAsync(/*release=*/true, id, fence.version, options));
  }
  Future<int64_t> SizeAsync(const CallOptions& options = {}) const {
    return Count(options, &internal::RawWorkQueueCounts::queued);
  }
  Future<int64_t> LeasedAsync(const CallOptions& options = {}) const {
    return Count(options, &internal::RawWorkQueueCounts::leased);
  }

  // Watches the queue (atomix/watch.h); returns once the broker accepted the
  // watch. WatchOptions::prefix is refused (INVALID_ARGUMENT).
  absl::StatusOr<Channel<WorkQueueEvent>> Watch(const WatchOptions& options = {}) const {
    return core_.Watch(options);
  }

 private:
  static int64_t TimeoutMs(const TakeOptions& options) {
    const auto ns = options.visibility_timeout.count();
    if (ns <= 0) return ns < 0 ? -1 : 0;  // the broker refuses negatives
    return (ns + 999'999) / 1'000'000;
  }

  // Decodes a leased item into a LeasedItem; a value that does not decode is
  // released (so it is not stuck until the session ends) and reported.
  static absl::StatusOr<LeaseType> Adopt(const internal::WorkQueueCore& core,
                                         internal::RawWorkItem& raw) {
    const std::string key = std::to_string(raw.id);
    absl::StatusOr<T> value =
        internal::DecodeWith<T, C>(raw.value, internal::kWorkQueueKind, core.name(), &key);
    if (!value.ok()) {
      (void)core.SettleAsync(/*release=*/true, raw.id, raw.fence, {});
      return value.status();
    }
    return LeaseType(
        core, Item{raw.id, *std::move(value), raw.deliveries, Fence{raw.fence}, raw.session});
  }

  static Future<void> Settled(Future<Version> raw) {
    return internal::MapFuture<void>(std::move(raw), [](absl::StatusOr<Version> r) {
      return r.ok() ? absl::OkStatus() : r.status();
    });
  }

  Future<int64_t> Count(const CallOptions& options,
                        int64_t internal::RawWorkQueueCounts::*field) const {
    return internal::MapFuture<int64_t>(
        core_.GetAsync(options),
        [field](absl::StatusOr<internal::RawWorkQueueCounts> r) -> absl::StatusOr<int64_t> {
          if (!r.ok()) return r.status();
          return (*r).*field;
        });
  }

  internal::WorkQueueCore core_;
};

namespace internal {
// Opens a work queue over a client core. Not part of the public API.
template <class T, class C = Codec<T>>
absl::StatusOr<WorkQueue<T, C>> GetWorkQueue(std::shared_ptr<ClientCore> core,
                                             std::string_view name,
                                             const CallOptions& options = {}) {
  auto opened = WorkQueueCore::Open(std::move(core), name, options);
  if (!opened.ok()) return opened.status();
  return WorkQueue<T, C>(*std::move(opened));
}
}  // namespace internal

// Opens the work queue `name` through `client`, creating it (empty) if it
// does not exist. Fails early, with the broker's status, on a bad name
// (INVALID_ARGUMENT) or a name bound to another type (FAILED_PRECONDITION).
template <class T, class C = Codec<T>>
absl::StatusOr<WorkQueue<T, C>> GetWorkQueue(const Client& client, std::string_view name,
                                             const CallOptions& options = {}) {
  return internal::GetWorkQueue<T, C>(internal_core(client), name, options);
}

// The same through DefaultClient().
template <class T, class C = Codec<T>>
absl::StatusOr<WorkQueue<T, C>> GetWorkQueue(std::string_view name,
                                             const CallOptions& options = {}) {
  return GetWorkQueue<T, C>(DefaultClient(), name, options);
}

}  // namespace atomix

#endif  // ATOMIX_WORK_QUEUE_H_
