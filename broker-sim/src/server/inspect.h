// Operators' view of a running broker: the answers of Admin.Status,
// ListSessions and ListPrimitives, shared by the Admin gRPC service and the
// HTTP console so that both say the same.
//
// Thread-safety: every function may be called from any thread; each reads
// the store under its own lock, so each answer is one consistent state.
#ifndef ATOMIX_BROKER_SERVER_INSPECT_H_
#define ATOMIX_BROKER_SERVER_INSPECT_H_

#include <cstddef>
#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "atomix/v1/admin.pb.h"
#include "broker-sim/src/core/broker.h"

namespace atomix::broker {

// What only the serving process knows.
struct BrokerProcess {
  absl::Time started = absl::Now();
  // Open Stream and Watch calls.
  std::function<size_t()> open_calls = [] { return size_t{0}; };
  // Open Broker.Watch calls.
  std::function<size_t()> watchers = [] { return size_t{0}; };
};

// Pages hold at most this many sessions or primitives.
inline constexpr uint32_t kMaxListLimit = 1000;
inline constexpr uint32_t kDefaultListLimit = 100;

v1::StatusResponse DescribeBroker(Broker& broker, const BrokerProcess& process);

// INVALID_ARGUMENT naming the limit if it is above kMaxListLimit.
absl::Status ListSessions(Broker& broker, const v1::ListSessionsRequest& request,
                          v1::ListSessionsResponse& out);
absl::Status ListPrimitives(Broker& broker, const v1::ListPrimitivesRequest& request,
                            v1::ListPrimitivesResponse& out);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_INSPECT_H_
