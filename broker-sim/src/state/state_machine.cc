// Factory and names for the per-primitive state machines, from the registry.
#include "broker-sim/src/state/state_machine.h"

#include "broker-sim/src/state/registry.h"

namespace atomix::broker {

std::unique_ptr<StateMachine> NewStateMachine(v1::PrimitiveType type) {
  const PrimitiveSpec* spec = FindPrimitive(type);
  return spec == nullptr ? nullptr : spec->make();
}

absl::string_view TypeName(v1::PrimitiveType type) {
  if (const PrimitiveSpec* spec = FindPrimitive(type)) return spec->name;
  return type == v1::PRIMITIVE_TYPE_UNSPECIFIED ? "unspecified" : "unknown";
}

}  // namespace atomix::broker
