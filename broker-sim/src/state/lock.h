// LockState: a fair (FIFO) lock with fences.
//
// A grant makes the requesting session the holder at fence ctx.revision, the
// revision of the step that granted it, so fences are unique and strictly
// increasing. Acquires that cannot be granted at once wait in a FIFO queue
// and are deferred (ApplyResult::deferred); they are answered by the step
// that grants them (a release, or the holder's session ending), by Advance
// when their timeout passes (DEADLINE_EXCEEDED), or by EndSession when their
// own session ends (ABORTED). Waiting and timing out take no revision.
//
// Watch events carry the holder after the change: granting the free lock is
// INSERTED, handing it straight to the next waiter UPDATED, releasing it
// with no one waiting REMOVED (fence 0).
//
// Thread-safety: none; see state_machine.h.
#ifndef ATOMIX_BROKER_STATE_LOCK_H_
#define ATOMIX_BROKER_STATE_LOCK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "broker-sim/src/state/state_machine.h"
#include "broker-sim/src/state/wait_queue.h"

namespace atomix::broker {

class LockState final : public StateMachine {
 public:
  struct Holder {
    uint64_t session = 0;
    int64_t fence = 0;
  };

  v1::PrimitiveType type() const override { return v1::LOCK; }
  ApplyResult Apply(const v1::Request& request, const ApplyContext& ctx,
                    v1::Response& response) override;
  ApplyResult EndSession(uint64_t session_id,
                         const ApplyContext& ctx) override;
  absl::Time NextDeadline() const override;
  ApplyResult Advance(const ApplyContext& ctx) override;
  void Cancel(uint64_t token) override;
  void Snapshot(const WatchFilter& filter,
                v1::WatchSnapshot& out) const override;
  void Save(atomix::log::v1::PrimitiveSave& out) const override;
  absl::Status Load(const atomix::log::v1::PrimitiveSave& in) override;
  // "held by session 5 (fence 12), 2 waiting" or "free"; the holder
  // ("lock", its fence) and the waiters ("lock").
  void Describe(v1::PrimitiveInfo& out) const override;
  bool FenceHolds(int64_t fence) const override {
    return holder_ && holder_->fence == fence;
  }
  int64_t NewestFence() const override { return fence(); }
  uint64_t FenceReleaseHolder(const v1::Request& request) const override {
    if (!request.has_lock() || !request.lock().has_release() ||
        !request.lock().release().has_if_version() || !holder_ ||
        holder_->fence != request.lock().release().if_version()) {
      return 0;
    }
    return holder_->session;
  }

  const std::optional<Holder>& holder() const { return holder_; }
  // The current fence, 0 when the lock is free.
  int64_t fence() const { return holder_ ? holder_->fence : 0; }
  size_t waiters() const { return queue_.size(); }

 private:
  // Releases the lock and grants it to the first waiter, if any, at
  // ctx.revision; the grant's answer and the watch event (UPDATED, or
  // REMOVED if no one waits) go into `result`, which is marked mutated.
  void ReleaseAndGrantNext(const ApplyContext& ctx, ApplyResult& result);
  // The current holder; left empty (fence 0) when the lock is free.
  void FillHolder(v1::LockHolder& out) const;
  // Sets an event's holder detail (both wire forms) to the current holder.
  void DescribeEvent(v1::WatchEvent& event) const;

  std::string name_;  // for messages; set by the first Apply
  std::optional<Holder> holder_;
  WaitQueue queue_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_LOCK_H_
