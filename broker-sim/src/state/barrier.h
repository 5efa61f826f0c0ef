// BarrierState: a cyclic barrier for a fixed number of parties
// (barrier.proto).
//
// Init gives the barrier its party count, once. Each Await (from a session)
// arrives and waits in a FIFO queue (ApplyResult::deferred); the arrival
// that makes `parties` waiters trips the barrier: that step answers every
// waiter of the generation, in arrival order, with the generation and its
// arrival number (0 .. parties - 1), and starts the next generation. A
// waiter whose timeout passes (DEADLINE_EXCEEDED) or whose caller cancels
// leaves alone; the others go on waiting. When the session of a waiting
// party ends, the barrier breaks in that one step: every waiter gets ABORTED
// naming that session, and the generation starts over, empty (its number
// does not change: only a trip ends a generation).
//
// Arrivals, trips, timeouts and breaks each take a revision and report an
// UPDATED event whose BarrierWatch detail is the state after the change (a
// trip's `generation` is the next one, with `tripped` set; a break has
// `broken_by`). Init reports INSERTED. A cancelled waiter leaves without a
// revision or an event (StateMachine::Cancel takes none); the next event
// shows the count without it.
//
// A waiting party belongs to its session, not to the stream that sent it
// (PrimitiveSpec::waits_outlive_streams): a process that dies breaks the
// barrier when its session expires, not when its connection drops.
//
// A barrier grants nothing that can be fenced; callers compare generations.
//
// Thread-safety: none; see state_machine.h.
#ifndef ATOMIX_BROKER_STATE_BARRIER_H_
#define ATOMIX_BROKER_STATE_BARRIER_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "broker-sim/src/state/state_machine.h"
#include "broker-sim/src/state/wait_queue.h"

namespace atomix::broker {

class BarrierState final : public StateMachine {
 public:
  v1::PrimitiveType type() const override { return v1::BARRIER; }
  ApplyResult Apply(const v1::Request& request, const ApplyContext& ctx,
                    v1::Response& response) override;
  ApplyResult EndSession(uint64_t session_id, const ApplyContext& ctx) override;
  absl::Time NextDeadline() const override;
  ApplyResult Advance(const ApplyContext& ctx) override;
  void Cancel(uint64_t token) override;
  void Snapshot(const WatchFilter& filter,
                v1::WatchSnapshot& out) const override;
  void Save(atomix::log::v1::PrimitiveSave& out) const override;
  absl::Status Load(const atomix::log::v1::PrimitiveSave& in) override;
  // "2 of 3 parties waiting (generation 5)", or "no parties set
  // (generation 0)" before Init; waiters: the waiting parties ("await").
  void Describe(v1::PrimitiveInfo& out) const override;

  int64_t parties() const { return parties_; }
  int64_t generation() const { return generation_; }
  size_t waiting() const { return queue_.size(); }

 private:
  ApplyResult Await(const v1::Request& request, const ApplyContext& ctx,
                    v1::Response& response);
  // The state as an event detail or a snapshot.
  void Describe(v1::BarrierWatch& out) const;
  // Appends an UPDATED event with the current state to `result`.
  v1::BarrierWatch& Updated(ApplyResult& result, int64_t revision) const;

  std::string name_;     // for messages; set by the first Apply
  int64_t parties_ = 0;  // 0 until Init
  int64_t generation_ = 0;
  WaitQueue queue_;    // the waiting parties, fewer than parties_
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_BARRIER_H_
