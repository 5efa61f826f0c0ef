// Internal: the connection core behind a Client handle. Primitives build
// atomix.v1 requests and send them through Call(). Not part of the public API.
//
// Thread-safety: every method is safe to call from any thread.
#ifndef ATOMIX_SDK_SRC_CLIENT_CORE_H_
#define ATOMIX_SDK_SRC_CLIENT_CORE_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/client.h"
#include "atomix/v1/broker.pb.h"

namespace atomix::internal {

class ClientCore {
 public:
  virtual ~ClientCore() = default;

  // Sends `request` (Call assigns its id) and waits for the answer until the
  // call's deadline (CallOptions, else options().default_call_timeout).
  // A Response that carries an Error becomes a non-OK status with the same
  // code and message; Error.current travels as the kCurrentPayloadUrl payload
  // (see atomix/status.h). An `idempotent` request that was in flight when
  // the connection broke is sent again after reconnecting; any other such
  // request fails with UNAVAILABLE.
  virtual absl::StatusOr<v1::Response> Call(v1::Request request, const CallOptions& options,
                                            bool idempotent) = 0;

  virtual const ClientOptions& options() const = 0;

  // Waits until a connection is up or `deadline` passes (UNAVAILABLE naming
  // the endpoints then).
  virtual absl::Status WaitConnected(std::chrono::steady_clock::time_point deadline) = 0;

  // The endpoint of the current connection, or empty.
  virtual std::string connected_endpoint() const = 0;
  // BrokerInfo.broker_id of the current connection, or empty.
  virtual std::string broker_id() const = 0;
};

// A core for options.transport. Starts connecting in the background.
std::shared_ptr<ClientCore> NewClientCore(ClientOptions options);

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_CLIENT_CORE_H_
