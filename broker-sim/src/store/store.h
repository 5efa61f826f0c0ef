// Store: where primitive state lives and where requests are applied.
//
// The memory store keeps every primitive's pure state machine in process
// memory. A durable store (planned) logs each applied batch to an embedded
// engine before answering; an etcd store (planned) maps primitives onto etcd
// keys and transactions. All of them hand out one broker-wide revision that
// every mutation raises by one.
//
// Some requests are answered later than the call that applied them: a lock
// acquire that waits in the queue is "deferred" and answered by whichever
// later call grants it or times it out (Apply, Tick, ExpireAllSessions).
// Such late answers come back as Completions addressed to the `origin` the
// request was applied with (the server uses one origin per stream or call).
//
// Watches: every mutation's watch events (see state_machine.h) are kept in a
// history the store bounds as it likes (the memory store keeps the most
// recent ones in memory; a durable store may keep them across restarts).
// StartWatch binds a watcher to a revision atomically, ReadWatch reads the
// events after a cursor, and the change listener tells the server which
// names changed so it can wake their watchers.
//
// Thread-safety: every method may be called from any thread; calls are
// applied one at a time. SetChangeListener must be called before the store
// is shared between threads, or after they stopped using it.
#ifndef ATOMIX_BROKER_STORE_STORE_H_
#define ATOMIX_BROKER_STORE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "atomix/log/v1/snapshot.pb.h"
#include "atomix/v1/admin.pb.h"
#include "atomix/v1/broker.pb.h"
#include "atomix/v1/watch.pb.h"
#include "broker-sim/src/state/watch_filter.h"

namespace atomix::broker {

struct Limits;

// A late answer to a request applied earlier with `origin`.
struct Completion {
  uint64_t origin = 0;
  v1::Response response;  // Response.id is the original request's id
};

struct StoreResult {
  // Indexes of the batch's requests that were not answered yet (their
  // response slots hold nothing useful); each is answered later by exactly
  // one Completion, or by none if its origin is cancelled first.
  std::vector<size_t> deferred;
  // Late answers to earlier requests that this call completed.
  std::vector<Completion> completions;
};

// Where a watch starts: the store revision when it started and, if asked
// for, a snapshot of the primitive at that revision (content fields and
// revision set; reason and more left to the caller). Events after the
// revision follow it with no gap and no overlap.
struct WatchStart {
  int64_t revision = 0;
  v1::WatchSnapshot snapshot;
};

// How much one ReadWatch may return: it stops before the revision that would
// take it past max_bytes or max_events (but returns at least one revision
// if there is one), and never splits a revision. A first revision larger
// than hard_max_bytes (0: no limit) cannot be sent at all and reads as
// compacted.
struct WatchBudget {
  size_t max_bytes = 1 << 20;
  size_t max_events = 1000;
  size_t hard_max_bytes = 0;
};

struct WatchRead {
  // The history no longer holds every event at or after the cursor: the
  // reader must resynchronize from a snapshot.
  bool compacted = false;
  // The cursor after what was read (the next revision to deliver).
  int64_t next = 0;
};

// Operators' numbers of a store (see Store::Stats), all read at once.
struct StoreStats {
  // Watch events and their serialized bytes in the history now.
  size_t history_events = 0;
  size_t history_bytes = 0;
  // Events dropped from the history to keep it within its bounds, since
  // the store opened.
  uint64_t history_evicted_events = 0;
  // Acquires waiting in the queues of Lock and ReadWriteLock primitives.
  size_t lock_waiters = 0;
};

// Told late answers that no call returns (see Store::SetCompletionListener),
// on a thread of the store's.
using CompletionListener = std::function<void(std::vector<Completion>&)>;

// Told the names that changed (gained watch events) after each Apply, Tick
// and ExpireAllSessions, outside the store's lock, on the caller's thread.
using ChangeListener =
    std::function<void(absl::Span<const std::string> names)>;

// Who sent a batch: the principal the broker authenticated ("": anonymous,
// as every caller is with security off) and, per request, whether it holds
// the admin right on that request's name (Broker::HasAdmin). Both go into
// the batch's input record, so every replay decides alike. The default is
// the anonymous principal with admin everywhere, as before security existed.
struct Caller {
  std::string principal;
  // One flag per request of the batch; empty: admin on every name.
  std::vector<bool> admin;

  bool AdminAt(size_t i) const {
    return admin.empty() || (i < admin.size() && admin[i]);
  }
};

// Pointers to owned requests and their response slots, for the spans
// Apply takes. The vectors must outlive it and keep their size.
struct BatchSpans {
  BatchSpans(const std::vector<v1::Request>& requests,
             std::vector<v1::Response>& responses) {
    in.reserve(requests.size());
    out.reserve(responses.size());
    for (const v1::Request& r : requests) in.push_back(&r);
    for (v1::Response& r : responses) out.push_back(&r);
  }
  std::vector<const v1::Request*> in;
  std::vector<v1::Response*> out;
};

class Store {
 public:
  virtual ~Store() = default;

  // Applies `requests` in order, atomically with respect to every other
  // call, writing responses[i] for requests[i] unless i is listed in
  // result.deferred. Each request that changes state gets the next revision.
  // Requests are already validated (name, sizes, op matches type). Sessions
  // and TTL entries that are due at the store's current time expire first.
  // `caller` says who sent them (see Caller).
  virtual void Apply(absl::Span<const v1::Request* const> requests,
                     absl::Span<v1::Response* const> responses,
                     uint64_t origin, const Caller& caller,
                     StoreResult& result) = 0;
  // As above, for the anonymous caller with admin everywhere.
  void Apply(absl::Span<const v1::Request* const> requests,
             absl::Span<v1::Response* const> responses, uint64_t origin,
             StoreResult& result) {
    Apply(requests, responses, origin, Caller(), result);
  }

  // How ApplyAsync answers: one response per request (the slots of
  // deferred requests hold nothing useful) and the call's result.
  using ApplyDone =
      std::function<void(std::vector<v1::Response>& responses, StoreResult& result)>;

  // As Apply, but the store may answer later, on a thread of its own, by
  // calling `done` exactly once. Calls with the same origin are applied in
  // the order they were made, answered or not. By default the call is
  // applied and answered at once, on the caller's thread.
  virtual void ApplyAsync(std::vector<v1::Request> requests, uint64_t origin,
                          Caller caller, ApplyDone done) {
    std::vector<v1::Response> responses(requests.size());
    BatchSpans spans(requests, responses);
    StoreResult result;
    Apply(spans.in, spans.out, origin, caller, result);
    done(responses, result);
  }
  // As above, for the anonymous caller with admin everywhere.
  void ApplyAsync(std::vector<v1::Request> requests, uint64_t origin,
                  ApplyDone done) {
    ApplyAsync(std::move(requests), origin, Caller(), std::move(done));
  }

  // Apply with origin 0: deferred requests are never answered.
  void Apply(absl::Span<const v1::Request* const> requests,
             absl::Span<v1::Response* const> responses) {
    StoreResult ignored;
    Apply(requests, responses, 0, Caller(), ignored);
  }

  // Advances logical time to `now` (never backwards): expires overdue
  // sessions (each in one step at one revision), TTL entries (one revision
  // each) and lock waiters whose timeout passed (DEADLINE_EXCEEDED).
  virtual void Tick(absl::Time now, StoreResult& result) = 0;

  // Forgets every waiting request applied with `origin`, without answering
  // it; a waiting lock acquire leaves the queue. Takes no revision.
  virtual void Cancel(uint64_t origin) = 0;

  // Ends every session now, as if each had expired.
  virtual void ExpireAllSessions(StoreResult& result) = 0;

  // Starts watching `name` as a `type`: FAILED_PRECONDITION if the name is
  // bound to another type. An unbound name reads as an empty primitive and
  // stays unbound. With `snapshot`, fills WatchStart::snapshot with the
  // state that `filter` selects.
  virtual absl::StatusOr<WatchStart> StartWatch(const std::string& name,
                                                v1::PrimitiveType type,
                                                const WatchFilter& filter,
                                                bool snapshot) = 0;

  // Appends to out.events the events of `name` matching `filter` at
  // revisions >= `cursor`, within `budget`; see WatchRead. Many watchers
  // read at once: an implementation should not make other calls wait while
  // it copies events into `out`.
  virtual WatchRead ReadWatch(const std::string& name,
                              const WatchFilter& filter, int64_t cursor,
                              const WatchBudget& budget,
                              v1::WatchResponse& out) = 0;

  // Replaces the change listener (empty: none).
  virtual void SetChangeListener(ChangeListener listener) = 0;

  // Replaces the completion listener (empty: none). A store whose state
  // also changes by records from elsewhere (the etcd store replays other
  // brokers' records) hands their late answers to it; others return every
  // late answer from the call that produced it and never call it.
  virtual void SetCompletionListener(CompletionListener) {}

  // The whole state as a snapshot, as of a revision whose state is durable
  // (for backups).
  virtual absl::Status Backup(atomix::log::v1::EngineSnapshot& out) = 0;

  // Operators' pages of the current state (Admin.ListSessions and
  // ListPrimitives), each read from one consistent state. The request's
  // limit must be 1..1000 (the caller checks).
  virtual void ListSessions(const v1::ListSessionsRequest& request,
                            v1::ListSessionsResponse& out) = 0;
  virtual void ListPrimitives(const v1::ListPrimitivesRequest& request,
                              v1::ListPrimitivesResponse& out) = 0;
  // Open sessions and bound primitives now.
  virtual size_t session_count() const = 0;
  virtual size_t primitive_count() const = 0;

  // The store's numbers for metrics; a store that keeps none returns zeros.
  virtual StoreStats Stats() const { return {}; }

  // Fills what the store knows of its place in a cluster; false (filling
  // nothing) for a store of one broker.
  virtual bool DescribeCluster(v1::ClusterStatus&) const { return false; }

  // OK while the store can serve; else why not (UNAVAILABLE naming the
  // cause), and the broker reports NOT_SERVING.
  virtual absl::Status Health() const { return absl::OkStatus(); }

  // The latest revision handed out (0 before the first mutation).
  virtual int64_t revision() const = 0;

  // "memory", ...
  virtual std::string_view kind() const = 0;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STORE_STORE_H_
