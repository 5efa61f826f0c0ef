// Factory and names for the per-primitive state machines.
#include "broker-sim/src/state/state_machine.h"

#include "broker-sim/src/state/counter.h"
#include "broker-sim/src/state/election.h"
#include "broker-sim/src/state/lock.h"
#include "broker-sim/src/state/map.h"
#include "broker-sim/src/state/set.h"
#include "broker-sim/src/state/value.h"

namespace atomix::broker {

std::unique_ptr<StateMachine> NewStateMachine(v1::PrimitiveType type) {
  switch (type) {
    case v1::COUNTER:
      return std::make_unique<CounterState>();
    case v1::VALUE:
      return std::make_unique<ValueState>();
    case v1::MAP:
      return std::make_unique<MapState>();
    case v1::SET:
      return std::make_unique<SetState>();
    case v1::LOCK:
      return std::make_unique<LockState>();
    case v1::ELECTION:
      return std::make_unique<ElectionState>();
    default:
      return nullptr;
  }
}

absl::string_view TypeName(v1::PrimitiveType type) {
  switch (type) {
    case v1::COUNTER:
      return "counter";
    case v1::VALUE:
      return "value";
    case v1::MAP:
      return "map";
    case v1::SET:
      return "set";
    case v1::LOCK:
      return "lock";
    case v1::ELECTION:
      return "election";
    case v1::PRIMITIVE_TYPE_UNSPECIFIED:
      return "unspecified";
    default:
      return "unknown";
  }
}

}  // namespace atomix::broker
