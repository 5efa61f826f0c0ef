// The primitive registry: one row per primitive.
#include "broker-sim/src/state/registry.h"

namespace atomix::broker {
namespace {

// One row per primitive, in type order.
absl::Span<const PrimitiveSpec* const> Table() {
  static const PrimitiveSpec* const table[] = {
      &CounterPrimitive(),
      &ValuePrimitive(),
      &MapPrimitive(),
      &SetPrimitive(),
      &LockPrimitive(),
      &ElectionPrimitive(),
      &ListPrimitive(),
      &IndexedMapPrimitive(),
      &MultiMapPrimitive(),
      &CounterMapPrimitive(),
      &SemaphorePrimitive(),
      &ReadWriteLockPrimitive(),
      &WorkQueuePrimitive(),
      &LatchPrimitive(),
      &BarrierPrimitive(),
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
