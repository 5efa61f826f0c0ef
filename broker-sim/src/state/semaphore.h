// SemaphoreState: a counting semaphore whose permits belong to sessions.
//
// Every grant is a record (fence, session, permits); its fence is
// ctx.revision, the revision of the step that granted it. One step may grant
// several waiters: they share the step's fence, so a grant is identified by
// (fence, session), and two grants of one session in one step merge.
// Acquires are granted in arrival order with no barging: a request waits
// (ApplyResult::deferred) while an earlier one waits, even if its own permits
// are free. A waiter leaves when a step grants it, when its timeout passes
// (DEADLINE_EXCEEDED, in Advance), when its session ends (ABORTED), when its
// caller cancels it, or when SetPermits lowers the count below what it asks
// (FAILED_PRECONDITION).
//
// Whatever frees permits (a release, a session ending, a raised count, a
// waiter timing out ahead of others) grants the waiters that now fit in the
// same step, at its revision. Cancel takes no revision, so a cancelled head
// waiter makes NextDeadline due at once and the next Advance grants.
//
// Watch events (detail SemaphoreWatch, at ctx.revision) carry the counts
// after the whole step and the grant that changed: INSERTED granted, UPDATED
// partly released or grown by a merge (the permits it holds now), REMOVED
// released or its session ended (the permits it held); UPDATED with no
// grant: the count changed.
//
// Thread-safety: none; see state_machine.h.
#ifndef ATOMIX_BROKER_STATE_SEMAPHORE_H_
#define ATOMIX_BROKER_STATE_SEMAPHORE_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "broker-sim/src/state/state_machine.h"
#include "broker-sim/src/state/wait_queue.h"

namespace atomix::broker {

class SemaphoreState final : public StateMachine {
 public:
  using GrantKey = std::pair<int64_t, uint64_t>;  // (fence, session)

  v1::PrimitiveType type() const override { return v1::SEMAPHORE; }
  ApplyResult Apply(const v1::Request& request, const ApplyContext& ctx,
                    v1::Response& response) override;
  ApplyResult EndSession(uint64_t session_id, const ApplyContext& ctx) override;
  absl::Time NextDeadline() const override;
  ApplyResult Advance(const ApplyContext& ctx) override;
  void Cancel(uint64_t token) override { queue_.Cancel(token); }
  void Snapshot(const WatchFilter& filter,
                v1::WatchSnapshot& out) const override;
  void Save(atomix::log::v1::PrimitiveSave& out) const override;
  absl::Status Load(const atomix::log::v1::PrimitiveSave& in) override;
  // "2 of 5 permits available, 1 waiting"; holders: the grants in fence
  // order ("2 permits", fence); waiters: the permits each asks for.
  void Describe(v1::PrimitiveInfo& out) const override;
  // A grant made at `fence` still holds at least one permit.
  bool FenceHolds(int64_t fence) const override;
  int64_t NewestFence() const override;

  int64_t permits() const { return permits_; }
  int64_t available() const { return permits_ - held_; }
  size_t waiters() const { return queue_.size(); }

 private:
  ApplyResult Acquire(const v1::Request& request, const ApplyContext& ctx,
                      v1::Response& response);
  ApplyResult Release(const v1::Request& request, const ApplyContext& ctx,
                      v1::Response& response);
  ApplyResult SetCount(const v1::Request& request, const ApplyContext& ctx,
                       v1::Response& response);
  void Holders(const v1::SemaphoreHolders& op, const Limits& limits,
               v1::SemaphoreResponse& out) const;

  // Adds `permits` to the grant (ctx.revision, session), with its event.
  void Grant(uint64_t session, int64_t permits, const ApplyContext& ctx,
             ApplyResult& result);
  // Takes `permits` (all if 0 or more) from the grant at `key`, with its
  // event; returns how many it took.
  int64_t Take(GrantKey key, int64_t permits, const ApplyContext& ctx,
               ApplyResult& result);
  // Grants, in order, the waiters at the head of the queue that fit.
  void GrantWaiters(const ApplyContext& ctx, ApplyResult& result);
  // Sets every event of `result` to the counts after the step.
  void FinishEvents(ApplyResult& result) const;
  void Counts(v1::SemaphoreResponse& out) const;
  std::string Quoted() const;

  struct Owner {
    int64_t held = 0;                 // permits, over all its grants
    absl::btree_set<int64_t> fences;  // its grants
  };

  std::string name_;     // for messages; set by the first Apply
  int64_t permits_ = 0;  // the count; 0 before Init
  int64_t held_ = 0;     // the sum of the grants' permits
  absl::btree_map<GrantKey, int64_t> grants_;  // -> permits held
  absl::btree_map<int64_t, int64_t> fences_;   // fence -> its grants
  absl::flat_hash_map<uint64_t, Owner> by_session_;
  WaitQueue queue_;  // amount: the permits asked for
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_SEMAPHORE_H_
