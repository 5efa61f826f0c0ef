// Internal to primitives/: building atomix.v1 requests and checking the
// shape of responses.
#ifndef ATOMIX_PRIMITIVES_SRC_REQUEST_H_
#define ATOMIX_PRIMITIVES_SRC_REQUEST_H_

#include <string_view>

#include "absl/status/status.h"
#include "atomix/internal/primitive.h"
#include "atomix/options.h"
#include "atomix/v1/broker.pb.h"

namespace atomix::internal {

// A request for the primitive `name` of `kind`, with no op set yet.
v1::Request NewRequest(const PrimitiveKind& kind, std::string_view name);

// INTERNAL: the broker answered an `op` request on `name` without the
// expected result.
absl::Status MissingResult(const PrimitiveKind& kind, std::string_view name, std::string_view op);

// INVALID_ARGUMENT for a handle that has no client core (never opened).
absl::Status NoCore();

// What a write operation accepts from WriteOptions (see atomix/options.h).
struct WriteAccepts {
  bool conditions = false;  // if_version, if_fence
  bool lifetime = false;    // ephemeral, ttl
};

// INVALID_ARGUMENT naming the primitive and `op` if `options` sets something
// the operation does not take, or a TTL that is not positive.
absl::Status CheckWriteOptions(const WriteOptions& options, WriteAccepts accepts,
                               const PrimitiveKind& kind, std::string_view name,
                               std::string_view op);

// Copies if_version and if_fence into a write op (MapPut, ValueDelete, ...).
template <class Op>
void SetConditions(const WriteOptions& options, Op& op) {
  if (options.if_version) op.set_if_version(*options.if_version);
  if (options.if_fence) {
    op.mutable_if_fence()->set_lock(options.if_fence->lock);
    op.mutable_if_fence()->set_version(options.if_fence->version);
  }
}

// Copies ephemeral and ttl into a write op (MapPut, ValueInsert, ...).
template <class Op>
void SetLifetime(const WriteOptions& options, Op& op) {
  if (options.ephemeral) op.set_ephemeral(true);
  if (options.ttl) op.set_ttl_ms(options.ttl->count());
}

}  // namespace atomix::internal

#endif  // ATOMIX_PRIMITIVES_SRC_REQUEST_H_
