#include "sdk/src/primitive_kind.h"

namespace atomix::internal {

v1::PrimitiveType WireType(PrimitiveKind kind) {
  switch (kind) {
    case PrimitiveKind::kCounter:
      return v1::COUNTER;
    case PrimitiveKind::kValue:
      return v1::VALUE;
    case PrimitiveKind::kMap:
      return v1::MAP;
    case PrimitiveKind::kSet:
      return v1::SET;
    case PrimitiveKind::kLock:
      return v1::LOCK;
    case PrimitiveKind::kElection:
      return v1::ELECTION;
  }
  return v1::PRIMITIVE_TYPE_UNSPECIFIED;
}

std::string_view KindName(PrimitiveKind kind) {
  switch (kind) {
    case PrimitiveKind::kCounter:
      return "counter";
    case PrimitiveKind::kValue:
      return "value";
    case PrimitiveKind::kMap:
      return "map";
    case PrimitiveKind::kSet:
      return "set";
    case PrimitiveKind::kLock:
      return "lock";
    case PrimitiveKind::kElection:
      return "election";
  }
  return "primitive";
}

}  // namespace atomix::internal
