// StateMachine: the pure broker side of one primitive instance.
//
// A state machine maps (state, request, logical time) to (response, events).
// It does no I/O, starts no threads, reads no clock and logs nothing, so the
// same inputs always give the same outputs: unit tests need no network, and a
// durable store can rebuild state by replaying its log.
//
//   ApplyContext ctx{.revision = store_revision + 1, .now = now, .limits = limits};
//   ApplyResult r = machine->Apply(request, ctx, response);
//   if (r.mutated) store_revision = ctx.revision;  // r.events: what changed
//
// Thread-safety: none. The owner (the Store) serializes every call.
#ifndef ATOMIX_BROKER_STATE_STATE_MACHINE_H_
#define ATOMIX_BROKER_STATE_STATE_MACHINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/status/status.h"
#include "atomix/log/v1/snapshot.pb.h"
#include "atomix/v1/admin.pb.h"
#include "atomix/v1/broker.pb.h"
#include "atomix/v1/watch.pb.h"
#include "broker-sim/src/state/limits.h"
#include "broker-sim/src/state/watch_filter.h"

namespace atomix::broker {

// The inputs of one Apply call besides the request itself.
struct ApplyContext {
  // The revision a mutation takes, and the version it gives what it writes.
  // Only consumed if the result says `mutated`.
  int64_t revision = 0;
  // Logical time of the batch, chosen by the store (never read from a clock
  // here).
  absl::Time now = absl::UnixEpoch();
  const Limits& limits;
  // Identifies this request if the machine defers its answer (see
  // ApplyResult::deferred); unique per store.
  uint64_t token = 0;
};

// The answer to a request that an earlier step deferred, identified by the
// token it was applied with. The store fills Response.id and
// Response.revision.
struct Answer {
  uint64_t token = 0;
  v1::Response response;
};

struct ApplyResult {
  // True if the request changed state and so consumed ctx.revision.
  bool mutated = false;
  // True if the request was not answered yet: it waits (e.g. a lock acquire
  // in the queue) and is answered by a later step, as an Answer carrying
  // ctx.token. The response passed to Apply is then ignored.
  bool deferred = false;
  // Answers to earlier deferred requests that this step completed (e.g. the
  // next waiter granted a released lock).
  std::vector<Answer> answers;
  // What a mutation changed, for watchers: each event has type and
  // revision (= ctx.revision) set, in the order the changes were made (see
  // watch.proto for what each primitive reports). Empty unless `mutated`.
  std::vector<v1::WatchEvent> events;
};

// The result of a request that changed state.
inline ApplyResult Mutated() {
  ApplyResult result;
  result.mutated = true;
  return result;
}

// Holders and waiters a Describe lists, at most; its summary counts them
// all.
inline constexpr int kMaxDescribed = 100;

class StateMachine {
 public:
  virtual ~StateMachine() = default;

  virtual v1::PrimitiveType type() const = 0;

  // Applies one request whose operation belongs to type(). Fills the result
  // or the error of `response`; the caller fills Response.id and
  // Response.revision. Never fails hard: a request of the wrong type gets
  // INVALID_ARGUMENT.
  virtual ApplyResult Apply(const v1::Request& request, const ApplyContext& ctx,
                            v1::Response& response) = 0;

  // Session `session_id` ended (closed or expired) in the step at
  // ctx.revision: drop whatever it owns (locks, candidacies, ephemeral
  // entries) and answer its deferred requests with ABORTED. Report
  // `mutated` if anything changed: the store gives the whole session end
  // ctx.revision if any machine did, and no revision otherwise.
  virtual ApplyResult EndSession(uint64_t session_id, const ApplyContext& ctx) {
    (void)session_id;
    (void)ctx;
    return {};
  }

  // The earliest logical time at which the machine has something to do on
  // its own (an entry's TTL, a waiter's timeout); InfiniteFuture if none.
  virtual absl::Time NextDeadline() const { return absl::InfiniteFuture(); }

  // Handles exactly one due deadline (NextDeadline() <= ctx.now) and so
  // always makes progress. The store calls it until nothing is due.
  virtual ApplyResult Advance(const ApplyContext& ctx) {
    (void)ctx;
    return {};
  }

  // The primitive's whole current state, reduced by `filter` (Map only),
  // into the content fields of `out`: entries in key order (Map, Set,
  // Value), value and version (Counter), lock (Lock) or term (Election).
  // Leaves reason, revision and more to the caller.
  virtual void Snapshot(const WatchFilter& filter,
                        v1::WatchSnapshot& out) const = 0;

  // Forgets the deferred request `token` without answering it (its caller
  // went away). Takes no revision.
  virtual void Cancel(uint64_t token) { (void)token; }

  // Fencing, for machines whose spec has grants_fences: whether the grant
  // made with `fence` still holds, and the newest fence that holds (0 when
  // none does), which a refused fenced write reports as Error.current.
  virtual bool FenceHolds(int64_t fence) const {
    (void)fence;
    return false;
  }
  virtual int64_t NewestFence() const { return 0; }

  // For a request that releases a grant by its fence, whoever holds it (a
  // Lock release or a Map prefix unlock with if_version): the session that
  // holds that grant now; 0 if the request is no such release or nothing
  // holds the fence. The engine lets a request release another session's
  // grant only with the admin right on the name.
  virtual uint64_t FenceReleaseHolder(const v1::Request& request) const {
    (void)request;
    return 0;
  }

  // Transactions: whether this machine refuses the write `request` of a
  // transaction for a reason the write itself cannot see (a map prefix
  // locked by another session): FAILED_PRECONDITION naming it, checked
  // before any write of the transaction is applied. OK otherwise.
  virtual absl::Status CheckTxnWrite(const v1::Request& request) const {
    (void)request;
    return absl::OkStatus();
  }

  // The machine's whole state, for a snapshot of the engine: all that Load
  // needs to go on exactly where this machine is (waiters, owners, TTLs
  // included). Fills `out`'s state, not its name or type.
  virtual void Save(atomix::log::v1::PrimitiveSave& out) const = 0;
  // Operators' view (Admin.ListPrimitives): fills the summary, and up to
  // kMaxDescribed holders and waiters (session, what, fence), leaving
  // name and type to the caller. Costs at most O(kMaxDescribed + log n).
  virtual void Describe(v1::PrimitiveInfo& out) const = 0;
  // Gives a fresh machine a saved state. DATA_LOSS if `in` does not hold
  // this type's state.
  virtual absl::Status Load(const atomix::log::v1::PrimitiveSave& in) = 0;
};

// A new, empty state machine for `type`, or nullptr if `type` is
// unspecified or unknown.
std::unique_ptr<StateMachine> NewStateMachine(v1::PrimitiveType type);

// "counter", "value", "map", "set", "lock", "election"; "unspecified" or
// "unknown" otherwise.
absl::string_view TypeName(v1::PrimitiveType type);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_STATE_MACHINE_H_
