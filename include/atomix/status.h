// Error helpers. Every SDK call returns absl::Status or absl::StatusOr<T>;
// codes follow gRPC (see docs/protocol.md):
//
//   INVALID_ARGUMENT     bad name, key, value size, or undecodable bytes
//   FAILED_PRECONDITION  version or value mismatch, or a name bound to
//                        another primitive type
//   NOT_FOUND            the entry does not exist
//   ALREADY_EXISTS       Insert of an entry that exists
//   OUT_OF_RANGE         a counter would overflow
//   ABORTED              the client's session was lost (see atomix/session.h);
//                        a mutation may or may not have been applied
//   UNAVAILABLE          the broker cannot be reached (endpoint named)
//   DEADLINE_EXCEEDED    the call's deadline passed after it was sent
//   CANCELLED            the call was cancelled through CallOptions::cancel
//
//   auto r = map.Update("k", v, atomix::IfVersion(7));
//   if (absl::IsFailedPrecondition(r.status())) {
//     std::optional<int64_t> now = atomix::CurrentVersion(r.status());
//   }
//
// Thread-safety: free functions over values.
#ifndef ATOMIX_STATUS_H_
#define ATOMIX_STATUS_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "atomix/export.h"

namespace atomix {

// The status payload URL that carries the current version (or, for
// Counter::CompareAndSet, the current value) on a FAILED_PRECONDITION.
inline constexpr char kCurrentPayloadUrl[] = "type.atomix.dev/current";

// The current version or value carried by a mismatch error, if any.
ATOMIX_EXPORT std::optional<int64_t> CurrentVersion(const absl::Status& status);

}  // namespace atomix

#endif  // ATOMIX_STATUS_H_
