// Internal to primitives/: building atomix.v1 requests and checking the
// shape of responses.
#ifndef ATOMIX_PRIMITIVES_SRC_REQUEST_H_
#define ATOMIX_PRIMITIVES_SRC_REQUEST_H_

#include <string_view>

#include "absl/status/status.h"
#include "atomix/internal/primitive.h"
#include "atomix/v1/broker.pb.h"

namespace atomix::internal {

// A request for the primitive `name` of `kind`, with no op set yet.
v1::Request NewRequest(PrimitiveKind kind, std::string_view name);

// INTERNAL: the broker answered an `op` request on `name` without the
// expected result.
absl::Status MissingResult(PrimitiveKind kind, std::string_view name, std::string_view op);

// INVALID_ARGUMENT for a handle that has no client core (never opened).
absl::Status NoCore();

}  // namespace atomix::internal

#endif  // ATOMIX_PRIMITIVES_SRC_REQUEST_H_
