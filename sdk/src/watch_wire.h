// Internal: atomix.v1 watch messages to and from the raw watch types of
// atomix/internal/watch_core.h.
//
// Thread-safety: pure functions.
#ifndef ATOMIX_SDK_SRC_WATCH_WIRE_H_
#define ATOMIX_SDK_SRC_WATCH_WIRE_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/internal/watch_core.h"
#include "atomix/v1/watch.pb.h"
#include "grpcpp/support/status.h"

namespace atomix::internal {

// INTERNAL for an event of an unknown type.
absl::StatusOr<RawWatchEvent> EventFromWire(v1::WatchEvent& event);

// Adds one snapshot part to `partial` (starting it if empty). INTERNAL if
// the part does not continue the snapshot begun (another revision or
// reason) or names no reason. Returns whether the snapshot is complete.
absl::StatusOr<bool> AddSnapshotPart(v1::WatchSnapshot& part, std::optional<RawSnapshot>& partial);

// Whether a watch call that ended with `code` ends the watch (the request
// itself is refused) rather than being retried.
bool EndsWatch(grpc::StatusCode code);

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_WATCH_WIRE_H_
