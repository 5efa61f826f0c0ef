// CounterState: a 64-bit signed counter. Starts at 0, version 0. Set, Add
// (any delta, including 0) and a matching CompareAndSet are writes and always
// take a new revision; a failed Add or CompareAndSet changes nothing. Every
// write is an UPDATED watch event with the value before and after.
//
// Thread-safety: none; see state_machine.h.
#ifndef ATOMIX_BROKER_STATE_COUNTER_H_
#define ATOMIX_BROKER_STATE_COUNTER_H_

#include <cstdint>

#include "broker-sim/src/state/state_machine.h"

namespace atomix::broker {

class CounterState final : public StateMachine {
 public:
  v1::PrimitiveType type() const override { return v1::COUNTER; }
  ApplyResult Apply(const v1::Request& request, const ApplyContext& ctx,
                    v1::Response& response) override;
  void Snapshot(const WatchFilter& filter,
                v1::WatchSnapshot& out) const override;
  void Save(atomix::log::v1::PrimitiveSave& out) const override;
  absl::Status Load(const atomix::log::v1::PrimitiveSave& in) override;
  // The value: "42".
  void Describe(v1::PrimitiveInfo& out) const override;

  int64_t value() const { return value_; }
  int64_t version() const { return version_; }

 private:
  // Stores `value` at ctx.revision and reports it.
  ApplyResult Write(int64_t value, const ApplyContext& ctx,
                    v1::Response& response);

  int64_t value_ = 0;
  int64_t version_ = 0;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_COUNTER_H_
