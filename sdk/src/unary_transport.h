// Internal: the ClientCore for ClientOptions::Transport::kUnary. Each Call()
// is one blocking Broker.Call RPC with the call's deadline, for comparison
// benchmarks and debugging; there is no coalescing.
//
// Calls wait for the connection (gRPC wait-for-ready) until their deadline;
// a call that never reached a connected broker fails with UNAVAILABLE naming
// the endpoint, and later calls move on to the next endpoint. An idempotent
// call whose connection breaks is sent again while time remains; any other
// fails with UNAVAILABLE. There is no BrokerInfo on this transport, so
// broker_id() is always empty. Watches are server streams on a WatchHub
// (sdk/src/watch_hub.h), shut down by the destructor.
//
// Thread-safety: all methods are safe from any thread; the core holds no
// lock during an RPC.
#ifndef ATOMIX_SDK_SRC_UNARY_TRANSPORT_H_
#define ATOMIX_SDK_SRC_UNARY_TRANSPORT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "atomix/v1/broker.grpc.pb.h"
#include "grpcpp/channel.h"
#include "sdk/src/client_core.h"
#include "sdk/src/watch_hub.h"

namespace atomix::internal {

class UnaryCore final : public ClientCore {
 public:
  // `options.endpoints` must not be empty.
  explicit UnaryCore(ClientOptions options);
  ~UnaryCore() override;

  absl::StatusOr<v1::Response> Call(v1::Request request, const CallOptions& options,
                                    bool idempotent) override;
  const ClientOptions& options() const override { return options_; }
  absl::Status WaitConnected(std::chrono::steady_clock::time_point deadline) override;
  std::string connected_endpoint() const override;
  std::string broker_id() const override { return {}; }
  std::shared_ptr<WatchHub> watch_hub() override { return watch_hub_; }

 private:
  // Moves on from endpoint `index` unless another call already did.
  void Rotate(size_t index);
  absl::Status NotConnectedError(size_t index) const;

  const ClientOptions options_;
  const std::shared_ptr<WatchHub> watch_hub_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::Broker::Stub>> stubs_;
  std::atomic<size_t> current_{0};
  std::atomic<uint64_t> next_id_{1};
};

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_UNARY_TRANSPORT_H_
