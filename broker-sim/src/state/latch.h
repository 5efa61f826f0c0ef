// LatchState: a count-down latch (latch.proto).
//
// A latch starts at count zero. TrySetCount arms it (count > 0) only while
// it is at zero and starts a new generation; CountDown lowers the count by
// one; Await waits until the count is zero. The step whose CountDown reaches
// zero answers every waiter, at its revision, with the generation that
// reached zero. Awaits that cannot be answered at once wait in a FIFO queue
// (ApplyResult::deferred) and leave it when the count reaches zero, when
// their timeout passes (DEADLINE_EXCEEDED), when their session ends
// (ABORTED) or when they are cancelled. Waiting, timing out and withdrawing
// take no revision and change nothing watchers see. An await with a session
// outlives the stream that sent it (PrimitiveSpec::waits_outlive_streams).
//
// A latch grants nothing that a session holds, so it has no fences.
//
// Watch events carry a LatchWatch detail (the count and generation after
// the change): INSERTED when TrySetCount arms the latch, UPDATED for every
// CountDown that lowers the count.
//
// Thread-safety: none; see state_machine.h.
#ifndef ATOMIX_BROKER_STATE_LATCH_H_
#define ATOMIX_BROKER_STATE_LATCH_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "broker-sim/src/state/state_machine.h"
#include "broker-sim/src/state/wait_queue.h"

namespace atomix::broker {

class LatchState final : public StateMachine {
 public:
  v1::PrimitiveType type() const override { return v1::LATCH; }
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
  // "count 3 (generation 2), 1 waiting"; waiters: the awaits ("await").
  void Describe(v1::PrimitiveInfo& out) const override;

  int64_t count() const { return count_; }
  int64_t generation() const { return generation_; }
  size_t waiters() const { return queue_.size(); }

 private:
  // A response part with the current count and generation.
  v1::LatchResponse Current() const;
  void Describe(v1::LatchWatch& out) const;

  std::string name_;  // for messages; set by the first Apply
  int64_t count_ = 0;
  int64_t generation_ = 0;  // how many times TrySetCount armed it
  WaitQueue queue_;         // Awaits, only while count_ > 0
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_LATCH_H_
