// What a request needs under an access policy: the rights on the names it
// acts on, derived from the primitive registry (PrimitiveSpec::is_read and
// right_of, state/registry.h).
//
//   absl::Status allowed = CheckRequest(policy, principal, request);
//   // PERMISSION_DENIED: principal "alice" lacks the write right on
//   // "config/db" (map put)
//
// - A primitive's read (is_read) needs read on its name, and so does Open.
// - A primitive's other operations need what its spec's right_of says
//   (write when it has none).
// - A transaction needs read on every name it compares and write on every
//   name either branch writes.
// - Session operations (open, keep-alive, close) and cancels need nothing.
//
// Thread-safety: stateless functions.
#ifndef ATOMIX_BROKER_CORE_REQUEST_ACCESS_H_
#define ATOMIX_BROKER_CORE_REQUEST_ACCESS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "atomix/v1/broker.pb.h"
#include "broker-sim/src/core/access_policy.h"
#include "broker-sim/src/state/registry.h"

namespace atomix::broker {

struct NeededRight {
  AccessRight right;
  // Points into the request, which must outlive it.
  std::string_view name;
  // The operation, for messages: "map put", "open", "txn write".
  std::string what;
};

// Appends what `request` needs to `out`, in request order.
void RightsNeeded(const v1::Request& request, std::vector<NeededRight>& out);

// OK if `principal` holds everything `request` needs under `policy`, else
// PERMISSION_DENIED for the first right it lacks. Allocates nothing unless
// it refuses.
absl::Status CheckRequest(const AccessPolicy& policy, std::string_view principal,
                          const v1::Request& request);

// The operation `request` carries, for messages: the primitive's name and
// the operation's field, "map put", "election evict"; "open"; "txn".
std::string DescribeOperation(const v1::Request& request);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_CORE_REQUEST_ACCESS_H_
