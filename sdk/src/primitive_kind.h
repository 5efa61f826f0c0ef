// Internal: the wire type of each PrimitiveKind (atomix/internal/primitive.h
// declares the kind and its name; both are defined in primitive_kind.cc).
//
// Thread-safety: pure functions.
#ifndef ATOMIX_SDK_SRC_PRIMITIVE_KIND_H_
#define ATOMIX_SDK_SRC_PRIMITIVE_KIND_H_

#include "atomix/internal/primitive.h"
#include "atomix/v1/types.pb.h"

namespace atomix::internal {

v1::PrimitiveType WireType(PrimitiveKind kind);

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_PRIMITIVE_KIND_H_
