// WorkQueueState: a FIFO work queue whose takes are leases with fences.
//
// Push appends items with increasing ids. Take leases the head item to the
// requesting session at fence ctx.revision (the revision of the step that
// leased it); a take that finds the queue empty waits in a FIFO WaitQueue
// and is answered by the step that gives it an item (a push, a release, an
// expired lease, a taker's session ending). An item leaves its lease in one
// of four ways: Ack removes it for good; Release, an expired visibility
// timeout (Advance) and the end of its taker's session put it back at the
// head of the queue, where the next take gets it again. So an item is held
// by at most one lease at a time, and none is lost.
//
// Every step that changes an item is a mutation at ctx.revision with one
// watch event per item changed (INSERTED: pushed; UPDATED: leased, or back
// in the queue; REMOVED: acked), each carrying the item without its value
// and the counts after that change.
//
// Costs: a push of k items O(k log n); a take, ack, release or expired
// lease O(log n); a session end O((k + w) log n) for its k leases and the w
// waiters it hands them to.
//
// Thread-safety: none; see state_machine.h.
#ifndef ATOMIX_BROKER_STATE_WORK_QUEUE_H_
#define ATOMIX_BROKER_STATE_WORK_QUEUE_H_

#include <cstdint>
#include <deque>
#include <string>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/time/time.h"
#include "broker-sim/src/state/state_machine.h"
#include "broker-sim/src/state/wait_queue.h"

namespace atomix::broker {

class WorkQueueState final : public StateMachine {
 public:
  struct Item {
    std::string value;
    int64_t deliveries = 0;
    // The lease; 0 (and InfiniteFuture) while queued.
    int64_t fence = 0;
    uint64_t session = 0;
    absl::Time lease_expires = absl::InfiniteFuture();
  };

  v1::PrimitiveType type() const override { return v1::WORK_QUEUE; }
  ApplyResult Apply(const v1::Request &request, const ApplyContext &ctx,
                    v1::Response &response) override;
  ApplyResult EndSession(uint64_t session_id, const ApplyContext &ctx) override;
  absl::Time NextDeadline() const override;
  ApplyResult Advance(const ApplyContext &ctx) override;
  void Cancel(uint64_t token) override { queue_.Cancel(token); }
  void Snapshot(const WatchFilter &filter,
                v1::WatchSnapshot &out) const override;
  void Save(atomix::log::v1::PrimitiveSave &out) const override;
  absl::Status Load(const atomix::log::v1::PrimitiveSave &in) override;
  // "4 queued, 2 leased, 1 waiting take"; holders: the leases by session
  // ("item 7", fence); waiters: the waiting takes ("take").
  void Describe(v1::PrimitiveInfo &out) const override;
  // An item leased at `fence` is still leased.
  bool FenceHolds(int64_t fence) const override {
    return leases_at_fence_.contains(fence);
  }
  int64_t NewestFence() const override {
    return leases_at_fence_.empty() ? 0 : leases_at_fence_.rbegin()->first;
  }

  int64_t queued() const { return static_cast<int64_t>(queued_.size()); }
  int64_t leased() const { return static_cast<int64_t>(by_session_.size()); }
  size_t waiters() const { return queue_.size(); }

 private:
  ApplyResult Push(const v1::WorkQueuePush &push, const ApplyContext &ctx,
                   v1::Response &response);
  ApplyResult Take(const v1::Request &request, const ApplyContext &ctx,
                   v1::Response &response);
  // Ack (remove) or Release (requeue) item `id` leased at `fence`.
  ApplyResult Settle(const v1::Request &request, int64_t id, int64_t fence,
                     bool ack, const ApplyContext &ctx, v1::Response &response);

  // Leases the head item to `session` at ctx.revision; returns its id.
  int64_t Lease(uint64_t session, int64_t visibility_timeout_ms,
                const ApplyContext &ctx, ApplyResult &result);
  // Ends item `id`'s lease and puts it at the head of the queue.
  void Requeue(int64_t id, const ApplyContext &ctx, ApplyResult &result);
  // Hands queued items to waiting takes, in arrival order.
  void Dispatch(const ApplyContext &ctx, ApplyResult &result);

  // The item as the wire shows it (with its value if `with_value`).
  void Fill(int64_t id, bool with_value, v1::WorkQueueItem &out) const;
  void Counts(v1::WorkQueueResponse &out) const;
  void Event(ApplyResult &result, v1::WatchEvent::Type type, int64_t id,
             int64_t revision) const;

  std::string name_;  // for messages; set by the first Apply
  int64_t next_id_ = 1;
  absl::btree_map<int64_t, Item> items_;  // every item, queued or leased
  std::deque<int64_t> queued_;            // ids, head first
  // Leases: (session, id), (fence -> how many items), (expiry, id).
  absl::btree_set<std::pair<uint64_t, int64_t>> by_session_;
  absl::btree_map<int64_t, int64_t> leases_at_fence_;
  absl::btree_set<std::pair<absl::Time, int64_t>> expiries_;
  WaitQueue queue_;  // waiting takes; amount = visibility timeout (ms)
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_WORK_QUEUE_H_
