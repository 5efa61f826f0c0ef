// Operators' view of a running broker.
#include "broker-sim/src/server/inspect.h"

#include <string>

#include "absl/strings/str_cat.h"

#ifndef ATOMIX_VERSION
#define ATOMIX_VERSION "0.0.0"
#endif

namespace atomix::broker {
namespace {

// The page size asked for, or INVALID_ARGUMENT.
absl::Status CheckLimit(uint32_t& limit) {
  if (limit == 0) limit = kDefaultListLimit;
  if (limit > kMaxListLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit ", limit, " is above the largest page, ", kMaxListLimit));
  }
  return absl::OkStatus();
}

}  // namespace

v1::StatusResponse DescribeBroker(Broker& broker, const BrokerProcess& process) {
  v1::StatusResponse out;
  Store& store = broker.store();
  out.set_broker_id(broker.id());
  out.set_store(std::string(store.kind()));
  out.set_revision(store.revision());
  const absl::Status health = store.Health();
  out.set_serving(health.ok());
  out.set_problem(std::string(health.message()));
  v1::ClusterStatus cluster;
  if (store.DescribeCluster(cluster)) {
    out.set_role(cluster.ticker() ? "ticker" : "follower");
    *out.mutable_cluster() = std::move(cluster);
  } else {
    out.set_role("standalone");
  }
  out.set_version(ATOMIX_VERSION);
  out.set_uptime_ms(absl::ToInt64Milliseconds(absl::Now() - process.started));
  out.set_clients(process.open_calls());
  out.set_sessions(store.session_count());
  out.set_primitives(store.primitive_count());
  return out;
}

absl::Status ListSessions(Broker& broker, const v1::ListSessionsRequest& request,
                          v1::ListSessionsResponse& out) {
  v1::ListSessionsRequest checked = request;
  uint32_t limit = request.limit();
  if (absl::Status ok = CheckLimit(limit); !ok.ok()) return ok;
  checked.set_limit(limit);
  broker.store().ListSessions(checked, out);
  return absl::OkStatus();
}

absl::Status ListPrimitives(Broker& broker, const v1::ListPrimitivesRequest& request,
                            v1::ListPrimitivesResponse& out) {
  v1::ListPrimitivesRequest checked = request;
  uint32_t limit = request.limit();
  if (absl::Status ok = CheckLimit(limit); !ok.ok()) return ok;
  checked.set_limit(limit);
  broker.store().ListPrimitives(checked, out);
  return absl::OkStatus();
}

}  // namespace atomix::broker
