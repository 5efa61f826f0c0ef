// Request validation: everything the broker checks before a request may
// touch the store. A request that fails here gets INVALID_ARGUMENT with a
// message naming the problem, e.g.
//   name is empty
//   name is 300 bytes; the limit is 256
//   name is not valid UTF-8 at byte 3
//   type is COUNTER but the operation is for a map
//   value is 2000000 bytes; the limit is 1048576
//   key is empty
//
// Thread-safety: stateless functions.
#ifndef ATOMIX_BROKER_CORE_VALIDATE_H_
#define ATOMIX_BROKER_CORE_VALIDATE_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "atomix/v1/broker.pb.h"
#include "broker-sim/src/state/check.h"  // FindInvalidUtf8
#include "broker-sim/src/state/limits.h"

namespace atomix::broker {

// OK, or INVALID_ARGUMENT describing the first problem found.
absl::Status ValidateRequest(const v1::Request& request, const Limits& limits);

// The same for a watch: name and type as for a request; key and prefix only
// on watches of primitives with key_filters (registry.h), not both, key
// non-empty, both within max_key_bytes; start_revision not negative, e.g.
//   key filters only watches of map, counter map; type is COUNTER
//   key and prefix are mutually exclusive
//   start_revision is -1; it must not be negative
absl::Status ValidateWatchRequest(const v1::WatchRequest& request,
                                  const Limits& limits);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_CORE_VALIDATE_H_
