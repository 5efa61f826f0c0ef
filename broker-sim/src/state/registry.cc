// The primitive registry: one row per primitive.
#include "broker-sim/src/state/registry.h"

#include <array>

namespace atomix::broker {
namespace {

const std::array<const PrimitiveSpec*, 7>& Table() {
  static const std::array<const PrimitiveSpec*, 7> table = {
      &CounterPrimitive(), &ValuePrimitive(), &MapPrimitive(),
      &SetPrimitive(),     &LockPrimitive(),  &ElectionPrimitive(),
      &IndexedMapPrimitive(),
  };
  return table;
}

}  // namespace

absl::Span<const PrimitiveSpec* const> Primitives() { return Table(); }

const PrimitiveSpec* FindPrimitive(v1::PrimitiveType type) {
  for (const PrimitiveSpec* spec : Table()) {
    if (spec->type == type) return spec;
  }
  return nullptr;
}

const PrimitiveSpec* PrimitiveOf(const v1::Request& request) {
  for (const PrimitiveSpec* spec : Table()) {
    if (spec->op == request.op_case()) return spec;
  }
  return nullptr;
}

}  // namespace atomix::broker
